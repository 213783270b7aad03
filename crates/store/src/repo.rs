//! The queries, each written once for both databases.

use crate::db::{Backend, Handle};
use crate::model::*;
use crate::{Result, StoreError};
use siteward_core::policy::SiteScope;
use siteward_core::{CompanyId, DeviceId, Millis, SiteId, UserId};
use sqlx::AssertSqlSafe;
use std::str::FromStr;

/// A page of a list: the items and the cursor for the next page, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Pass back as `cursor` for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// Reads a stored value back, or says which column held something unreadable.
pub(crate) fn parse<T: FromStr>(what: &str, v: &str) -> Result<T> {
    v.parse()
        .map_err(|_| StoreError::Corrupt(format!("{what} {v:?}")))
}

/// [`parse`] for a nullable column.
pub(crate) fn parse_opt<T: FromStr>(what: &str, v: Option<String>) -> Result<Option<T>> {
    v.map(|v| parse(what, &v)).transpose()
}

/// `$start, $start+1, …` for an `IN (…)` list of `n` values.
pub(crate) fn placeholders(start: usize, n: usize) -> String {
    (start..start + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The parameters of a statement whose only parameters are one list of `rows`
/// rows of `width` values: `($1, $2), ($3, $4)` on PostgreSQL; plain `(?, ?), (?,
/// ?)` on SQLite, which looks a numbered parameter up by a linear search each time
/// one is bound (quadratic in a statement of thousands: a third of the CPU of
/// storing link events went there). `width` 1 gives `$1, $2` / `?, ?` for `IN (…)`.
/// Run such statements with `.persistent(false)`: their text changes with the
/// list's length, and kept prepared they would push the statements used all the
/// time out of the connection's cache.
pub(crate) fn list_params(backend: Backend, rows: usize, width: usize) -> String {
    let row = |r: usize| match backend {
        Backend::Postgres => placeholders(1 + r * width, width),
        Backend::Sqlite => vec!["?"; width].join(", "),
    };
    let rows = (0..rows).map(row);
    if width == 1 {
        rows.collect::<Vec<_>>().join(", ")
    } else {
        rows.map(|r| format!("({r})"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Cuts one extra row fetched off the end of a page and makes the cursor from the
/// last row kept.
fn paginate<T>(mut rows: Vec<T>, limit: u32, key: impl Fn(&T) -> String) -> Page<T> {
    let limit = limit as usize;
    let next_cursor = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(key)
    } else {
        None
    };
    Page {
        items: rows,
        next_cursor,
    }
}

#[derive(sqlx::FromRow)]
struct AuthCodeRow {
    code: String,
    region: String,
    note: Option<String>,
    created_at: i64,
    expires_at: i64,
    used_at: Option<i64>,
    company_id: Option<String>,
}

impl TryFrom<AuthCodeRow> for AuthCode {
    type Error = StoreError;
    fn try_from(r: AuthCodeRow) -> Result<Self> {
        Ok(AuthCode {
            region: parse("region", &r.region)?,
            company_id: parse_opt("company id", r.company_id)?,
            code: r.code,
            note: r.note,
            created_at: r.created_at,
            expires_at: r.expires_at,
            used_at: r.used_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct CompanyRow {
    id: String,
    name: String,
    region: String,
    address: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    website: Option<String>,
    logo_type: Option<String>,
    logo_updated_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<CompanyRow> for Company {
    type Error = StoreError;
    fn try_from(r: CompanyRow) -> Result<Self> {
        Ok(Company {
            id: parse("company id", &r.id)?,
            region: parse("region", &r.region)?,
            logo: r.logo_type.zip(r.logo_updated_at),
            name: r.name,
            address: r.address,
            phone: r.phone,
            email: r.email,
            website: r.website,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const COMPANY_COLS: &str = "id, name, region, address, phone, email, website, logo_type, \
    logo_updated_at, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    kind: String,
    company_id: Option<String>,
    role: Option<String>,
    name: String,
    email: String,
    password_hash: String,
    active: bool,
    region: Option<String>,
    app_version: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<Self> {
        Ok(User {
            id: parse("user id", &r.id)?,
            kind: parse("user kind", &r.kind)?,
            company_id: parse_opt("company id", r.company_id)?,
            role: parse_opt("role", r.role)?,
            region: parse_opt("region", r.region)?,
            app_version: parse_opt("app version", r.app_version)?,
            name: r.name,
            email: r.email,
            password_hash: r.password_hash,
            active: r.active,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const USER_COLS: &str = "id, kind, company_id, role, name, email, password_hash, active, region, \
    app_version, created_at, updated_at";

#[derive(sqlx::FromRow)]
pub(crate) struct SiteRow {
    id: String,
    company_id: String,
    site_code: String,
    name: String,
    address: Option<String>,
    time_zone: String,
    region: String,
    manager_id: Option<String>,
    state: String,
    owner_id: Option<String>,
    released_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<SiteRow> for Site {
    type Error = StoreError;
    fn try_from(r: SiteRow) -> Result<Self> {
        Ok(Site {
            id: parse("site id", &r.id)?,
            company_id: parse("company id", &r.company_id)?,
            region: parse("region", &r.region)?,
            manager_id: parse_opt("user id", r.manager_id)?,
            state: parse("site state", &r.state)?,
            owner_id: parse_opt("user id", r.owner_id)?,
            released_at: r.released_at,
            site_code: r.site_code,
            name: r.name,
            address: r.address,
            time_zone: r.time_zone,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

pub(crate) const SITE_COLS: &str = "id, company_id, site_code, name, address, time_zone, region, \
    manager_id, state, owner_id, released_at, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: String,
    at: i64,
    company_id: Option<String>,
    site_id: Option<String>,
    actor_id: Option<String>,
    actor_name: String,
    action: String,
    summary: String,
    detail: String,
}

impl TryFrom<AuditRow> for AuditEntry {
    type Error = StoreError;
    fn try_from(r: AuditRow) -> Result<Self> {
        Ok(AuditEntry {
            company_id: parse_opt("company id", r.company_id)?,
            site_id: parse_opt("site id", r.site_id)?,
            actor_id: parse_opt("user id", r.actor_id)?,
            detail: serde_json::from_str(&r.detail)
                .map_err(|e| StoreError::Corrupt(format!("audit detail: {e}")))?,
            id: r.id,
            at: r.at,
            actor_name: r.actor_name,
            action: r.action,
            summary: r.summary,
        })
    }
}

fn convert<R, T: TryFrom<R, Error = StoreError>>(rows: Vec<R>) -> Result<Vec<T>> {
    rows.into_iter().map(T::try_from).collect()
}

/// Authentication codes.
impl Handle {
    /// Stores a newly issued code.
    pub async fn insert_auth_code(&mut self, c: &AuthCode) -> Result<()> {
        const SQL: &str = "INSERT INTO auth_codes (code, region, note, created_at, expires_at) \
            VALUES ($1, $2, $3, $4, $5)";
        on_conn!(self, |conn| sqlx::query(SQL)
            .bind(&c.code)
            .bind(c.region.as_str())
            .bind(&c.note)
            .bind(c.created_at)
            .bind(c.expires_at)
            .execute(&mut *conn)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// The code, if issued.
    pub async fn auth_code(&mut self, code: &str) -> Result<Option<AuthCode>> {
        let sql = "SELECT code, region, note, created_at, expires_at, used_at, company_id \
            FROM auth_codes WHERE code = $1";
        let row: Option<AuthCodeRow> = on_conn!(self, |c| sqlx::query_as(sql)
            .bind(code)
            .fetch_optional(&mut *c)
            .await)?;
        row.map(AuthCode::try_from).transpose()
    }

    /// Marks the code used by `company`, unless it was used already: returns whether
    /// this call used it, so two registrations racing for one code cannot both win.
    pub async fn use_auth_code(
        &mut self,
        code: &str,
        company: CompanyId,
        now: Millis,
    ) -> Result<bool> {
        const SQL: &str = "UPDATE auth_codes SET used_at = $1, company_id = $2 \
            WHERE code = $3 AND used_at IS NULL";
        let n = on_conn!(self, |c| sqlx::query(SQL)
            .bind(now)
            .bind(company.to_string())
            .bind(code)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Every issued code, newest first.
    pub async fn list_auth_codes(&mut self) -> Result<Vec<AuthCode>> {
        let sql = "SELECT code, region, note, created_at, expires_at, used_at, company_id \
            FROM auth_codes ORDER BY created_at DESC, code";
        let rows: Vec<AuthCodeRow> =
            on_conn!(self, |c| sqlx::query_as(sql).fetch_all(&mut *c).await)?;
        convert(rows)
    }
}

/// Companies.
impl Handle {
    /// Stores a new company.
    pub async fn insert_company(&mut self, c: &Company) -> Result<()> {
        const SQL: &str = "INSERT INTO companies (id, name, region, address, phone, email, website, \
            created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
        on_conn!(self, |conn| sqlx::query(SQL)
            .bind(c.id.to_string())
            .bind(&c.name)
            .bind(c.region.as_str())
            .bind(&c.address)
            .bind(&c.phone)
            .bind(&c.email)
            .bind(&c.website)
            .bind(c.created_at)
            .bind(c.updated_at)
            .execute(&mut *conn)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// The company, if it exists.
    pub async fn company(&mut self, id: CompanyId) -> Result<Option<Company>> {
        let sql = format!("SELECT {COMPANY_COLS} FROM companies WHERE id = $1");
        let row: Option<CompanyRow> =
            on_conn!(self, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(id.to_string())
                .fetch_optional(&mut *c)
                .await)?;
        row.map(Company::try_from).transpose()
    }

    /// Replaces the editable company information.
    pub async fn update_company(
        &mut self,
        id: CompanyId,
        info: &CompanyInfo,
        now: Millis,
    ) -> Result<()> {
        const SQL: &str = "UPDATE companies SET name = $1, address = $2, phone = $3, email = $4, \
            website = $5, updated_at = $6 WHERE id = $7";
        on_conn!(self, |c| sqlx::query(SQL)
            .bind(&info.name)
            .bind(&info.address)
            .bind(&info.phone)
            .bind(&info.email)
            .bind(&info.website)
            .bind(now)
            .bind(id.to_string())
            .execute(&mut *c)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Sets the company's logo.
    pub async fn set_company_logo(
        &mut self,
        id: CompanyId,
        bytes: &[u8],
        media_type: &str,
        now: Millis,
    ) -> Result<()> {
        const SQL: &str = "UPDATE companies SET logo = $1, logo_type = $2, logo_updated_at = $3, \
            updated_at = $3 WHERE id = $4";
        on_conn!(self, |c| sqlx::query(SQL)
            .bind(bytes)
            .bind(media_type)
            .bind(now)
            .bind(id.to_string())
            .execute(&mut *c)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// The company's logo bytes and media type, if it has one.
    pub async fn company_logo(&mut self, id: CompanyId) -> Result<Option<(Vec<u8>, String)>> {
        const SQL: &str =
            "SELECT logo, logo_type FROM companies WHERE id = $1 AND logo IS NOT NULL";
        let row: Option<(Vec<u8>, String)> = on_conn!(self, |c| sqlx::query_as(SQL)
            .bind(id.to_string())
            .fetch_optional(&mut *c)
            .await)?;
        Ok(row)
    }

    /// How many companies there are.
    pub async fn count_companies(&mut self) -> Result<i64> {
        let (n,): (i64,) = on_conn!(self, |c| sqlx::query_as("SELECT COUNT(*) FROM companies")
            .fetch_one(&mut *c)
            .await)?;
        Ok(n)
    }
}

/// People.
impl Handle {
    /// Stores a new account.
    pub async fn insert_user(&mut self, u: &User) -> Result<()> {
        const SQL: &str = "INSERT INTO users (id, kind, company_id, role, name, email, password_hash, \
            active, region, app_version, created_at, updated_at) \
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
        on_conn!(self, |c| sqlx::query(SQL)
            .bind(u.id.to_string())
            .bind(u.kind.as_str())
            .bind(u.company_id.map(|c| c.to_string()))
            .bind(u.role.map(|r| r.as_str()))
            .bind(&u.name)
            .bind(&u.email)
            .bind(&u.password_hash)
            .bind(u.active)
            .bind(u.region.as_ref().map(|r| r.as_str().to_owned()))
            .bind(u.app_version.map(|v| v.to_string()))
            .bind(u.created_at)
            .bind(u.updated_at)
            .execute(&mut *c)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// The account, if it exists.
    pub async fn user(&mut self, id: UserId) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE id = $1");
        let row: Option<UserRow> = on_conn!(self, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
            .bind(id.to_string())
            .fetch_optional(&mut *c)
            .await)?;
        row.map(User::try_from).transpose()
    }

    /// The account with this (lower-case) e-mail, if any.
    pub async fn user_by_email(&mut self, email: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE email = $1");
        let row: Option<UserRow> = on_conn!(self, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
            .bind(email)
            .fetch_optional(&mut *c)
            .await)?;
        row.map(User::try_from).transpose()
    }

    /// A page of the company's employees in creation order.
    pub async fn list_employees(
        &mut self,
        company: CompanyId,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<User>> {
        let sql = format!(
            "SELECT {USER_COLS} FROM users WHERE company_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        );
        let rows: Vec<UserRow> = on_conn!(self, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
            .bind(company.to_string())
            .bind(cursor.unwrap_or(""))
            .bind(i64::from(limit) + 1)
            .fetch_all(&mut *c)
            .await)?;
        Ok(paginate(convert(rows)?, limit, |u: &User| u.id.to_string()))
    }

    /// Writes an account's name, e-mail, role and active flag.
    pub async fn update_user(&mut self, u: &User) -> Result<()> {
        const SQL: &str = "UPDATE users SET name = $1, email = $2, role = $3, active = $4, \
            password_hash = $5, updated_at = $6 WHERE id = $7";
        on_conn!(self, |c| sqlx::query(SQL)
            .bind(&u.name)
            .bind(&u.email)
            .bind(u.role.map(|r| r.as_str()))
            .bind(u.active)
            .bind(&u.password_hash)
            .bind(u.updated_at)
            .bind(u.id.to_string())
            .execute(&mut *c)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Removes an account (its sessions go with it; its sites lose their manager).
    pub async fn delete_user(&mut self, id: UserId) -> Result<()> {
        on_conn!(self, |c| sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut *c)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// How many active Installer Admins the company has.
    pub async fn count_active_admins(&mut self, company: CompanyId) -> Result<i64> {
        const SQL: &str = "SELECT COUNT(*) FROM users WHERE company_id = $1 \
            AND role = 'installer_admin' AND active";
        let (n,): (i64,) = on_conn!(self, |c| sqlx::query_as(SQL)
            .bind(company.to_string())
            .fetch_one(&mut *c)
            .await)?;
        Ok(n)
    }

    /// How many accounts of each kind there are.
    pub async fn count_users(&mut self) -> Result<i64> {
        let (n,): (i64,) = on_conn!(self, |c| sqlx::query_as("SELECT COUNT(*) FROM users")
            .fetch_one(&mut *c)
            .await)?;
        Ok(n)
    }
}

/// Sessions.
impl Handle {
    /// Stores a new session.
    pub async fn insert_session(&mut self, s: &Session) -> Result<()> {
        const SQL: &str = "INSERT INTO sessions (token_hash, user_id, csrf_token, app_version, \
            created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)";
        on_conn!(self, |c| sqlx::query(SQL)
            .bind(&s.token_hash)
            .bind(s.user_id.to_string())
            .bind(&s.csrf_token)
            .bind(s.app_version.map(|v| v.to_string()))
            .bind(s.created_at)
            .bind(s.expires_at)
            .execute(&mut *c)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// The live session with this token hash and its account.
    pub async fn live_session(
        &mut self,
        token_hash: &str,
        now: Millis,
    ) -> Result<Option<(Session, User)>> {
        const SQL: &str = "SELECT token_hash, user_id, csrf_token, app_version, created_at, \
            expires_at FROM sessions WHERE token_hash = $1 AND expires_at > $2";
        #[allow(clippy::type_complexity)]
        let row: Option<(String, String, String, Option<String>, i64, i64)> =
            on_conn!(self, |c| sqlx::query_as(SQL)
                .bind(token_hash)
                .bind(now)
                .fetch_optional(&mut *c)
                .await)?;
        let Some((token_hash, user_id, csrf_token, app_version, created_at, expires_at)) = row
        else {
            return Ok(None);
        };
        let session = Session {
            token_hash,
            user_id: parse("user id", &user_id)?,
            csrf_token,
            app_version: parse_opt("app version", app_version)?,
            created_at,
            expires_at,
        };
        Ok(self.user(session.user_id).await?.map(|u| (session, u)))
    }

    /// Ends one session.
    pub async fn delete_session(&mut self, token_hash: &str) -> Result<()> {
        on_conn!(self, |c| sqlx::query(
            "DELETE FROM sessions WHERE token_hash = $1"
        )
        .bind(token_hash)
        .execute(&mut *c)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Ends every session of an account (on disable or role change).
    pub async fn delete_sessions_of(&mut self, user: UserId) -> Result<()> {
        on_conn!(self, |c| sqlx::query(
            "DELETE FROM sessions WHERE user_id = $1"
        )
        .bind(user.to_string())
        .execute(&mut *c)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Forgets expired sessions; returns how many.
    pub async fn delete_expired_sessions(&mut self, now: Millis) -> Result<u64> {
        let n = on_conn!(self, |c| sqlx::query(
            "DELETE FROM sessions WHERE expires_at <= $1"
        )
        .bind(now)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n)
    }
}

/// Sites.
impl Handle {
    /// Stores a new site.
    pub async fn insert_site(&mut self, s: &Site) -> Result<()> {
        const SQL: &str = "INSERT INTO sites (id, company_id, site_code, name, address, time_zone, \
            region, manager_id, state, owner_id, released_at, created_at, updated_at) \
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
        on_conn!(self, |c| sqlx::query(SQL)
            .bind(s.id.to_string())
            .bind(s.company_id.to_string())
            .bind(&s.site_code)
            .bind(&s.name)
            .bind(&s.address)
            .bind(&s.time_zone)
            .bind(s.region.as_str())
            .bind(s.manager_id.map(|m| m.to_string()))
            .bind(s.state.as_str())
            .bind(s.owner_id.map(|o| o.to_string()))
            .bind(s.released_at)
            .bind(s.created_at)
            .bind(s.updated_at)
            .execute(&mut *c)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// The site, if it exists.
    pub async fn site(&mut self, id: SiteId) -> Result<Option<Site>> {
        let sql = format!("SELECT {SITE_COLS} FROM sites WHERE id = $1");
        let row: Option<SiteRow> = on_conn!(self, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
            .bind(id.to_string())
            .fetch_optional(&mut *c)
            .await)?;
        row.map(Site::try_from).transpose()
    }

    /// Whether a Site ID is taken.
    pub async fn site_code_taken(&mut self, code: &str) -> Result<bool> {
        let row: Option<(String,)> = on_conn!(self, |c| sqlx::query_as(
            "SELECT id FROM sites WHERE site_code = $1"
        )
        .bind(code)
        .fetch_optional(&mut *c)
        .await)?;
        Ok(row.is_some())
    }

    /// A page of the sites in `scope`, in creation order; a handed-over site the
    /// company removed from its list is no longer among them.
    pub async fn list_sites(
        &mut self,
        scope: SiteScope,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<Site>> {
        let (company, manager) = match scope {
            SiteScope::Company(c) => (c, None),
            SiteScope::ManagedBy(c, u) => (c, Some(u.to_string())),
            SiteScope::Nothing => {
                return Ok(Page {
                    items: vec![],
                    next_cursor: None,
                });
            }
        };
        let sql = format!(
            "SELECT {SITE_COLS} FROM sites WHERE company_id = $1 AND released_at IS NULL \
             AND ($2 IS NULL OR manager_id = $2) AND id > $3 ORDER BY id LIMIT $4"
        );
        let rows: Vec<SiteRow> = on_conn!(self, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
            .bind(company.to_string())
            .bind(manager.clone())
            .bind(cursor.unwrap_or(""))
            .bind(i64::from(limit) + 1)
            .fetch_all(&mut *c)
            .await)?;
        Ok(paginate(convert(rows)?, limit, |s: &Site| s.id.to_string()))
    }

    /// Writes a site's name, address, time zone, manager, state, owner and release
    /// (moving it to another company is [`Handle::move_site`]).
    pub async fn update_site(&mut self, s: &Site) -> Result<()> {
        const SQL: &str = "UPDATE sites SET name = $1, address = $2, time_zone = $3, manager_id = $4, \
            state = $5, owner_id = $6, released_at = $7, updated_at = $8 WHERE id = $9";
        on_conn!(self, |c| sqlx::query(SQL)
            .bind(&s.name)
            .bind(&s.address)
            .bind(&s.time_zone)
            .bind(s.manager_id.map(|m| m.to_string()))
            .bind(s.state.as_str())
            .bind(s.owner_id.map(|o| o.to_string()))
            .bind(s.released_at)
            .bind(s.updated_at)
            .bind(s.id.to_string())
            .execute(&mut *c)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Deletes a site.
    pub async fn delete_site(&mut self, id: SiteId) -> Result<()> {
        on_conn!(self, |c| sqlx::query("DELETE FROM sites WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut *c)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Removes a person as manager of every site; returns the sites concerned.
    pub async fn unassign_manager(&mut self, manager: UserId, now: Millis) -> Result<Vec<SiteId>> {
        let ids: Vec<(String,)> = on_conn!(self, |c| sqlx::query_as(
            "SELECT id FROM sites WHERE manager_id = $1 ORDER BY id"
        )
        .bind(manager.to_string())
        .fetch_all(&mut *c)
        .await)?;
        on_conn!(self, |c| sqlx::query(
            "UPDATE sites SET manager_id = NULL, updated_at = $1 WHERE manager_id = $2"
        )
        .bind(now)
        .bind(manager.to_string())
        .execute(&mut *c)
        .await
        .map(|_| ()))?;
        ids.into_iter().map(|(id,)| parse("site id", &id)).collect()
    }

    /// How many sites there are.
    pub async fn count_sites(&mut self) -> Result<i64> {
        let (n,): (i64,) = on_conn!(self, |c| sqlx::query_as("SELECT COUNT(*) FROM sites")
            .fetch_one(&mut *c)
            .await)?;
        Ok(n)
    }
}

/// The audit log.
impl Handle {
    /// Appends an entry.
    pub async fn insert_audit(&mut self, e: &AuditEntry) -> Result<()> {
        const SQL: &str = "INSERT INTO audit_log (id, at, company_id, site_id, actor_id, actor_name, \
            action, summary, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
        on_conn!(self, |c| sqlx::query(SQL)
            .bind(&e.id)
            .bind(e.at)
            .bind(e.company_id.map(|v| v.to_string()))
            .bind(e.site_id.map(|v| v.to_string()))
            .bind(e.actor_id.map(|v| v.to_string()))
            .bind(&e.actor_name)
            .bind(&e.action)
            .bind(&e.summary)
            .bind(e.detail.to_string())
            .execute(&mut *c)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// A page of a site's audit log, newest first.
    pub async fn site_audit(
        &mut self,
        site: SiteId,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<AuditEntry>> {
        self.audit_page("site_id", &site.to_string(), cursor, limit)
            .await
    }

    /// A page of a company's audit log, newest first.
    pub async fn company_audit(
        &mut self,
        company: CompanyId,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<AuditEntry>> {
        self.audit_page("company_id", &company.to_string(), cursor, limit)
            .await
    }

    async fn audit_page(
        &mut self,
        column: &'static str,
        key: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<AuditEntry>> {
        // `column` is one of two constants above, never input.
        let sql = format!(
            "SELECT id, at, company_id, site_id, actor_id, actor_name, action, summary, detail \
             FROM audit_log WHERE {column} = $1 AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3"
        );
        let rows: Vec<AuditRow> = on_conn!(self, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
            .bind(key)
            .bind(cursor)
            .bind(i64::from(limit) + 1)
            .fetch_all(&mut *c)
            .await)?;
        Ok(paginate(convert(rows)?, limit, |e: &AuditEntry| {
            e.id.clone()
        }))
    }
}

#[derive(sqlx::FromRow)]
struct DeviceRow {
    id: String,
    company_id: String,
    site_id: String,
    serial: String,
    name: String,
    brand: String,
    model: String,
    device_type: String,
    firmware: Option<String>,
    mac: Option<String>,
    connection: String,
    host: Option<String>,
    port: Option<i32>,
    https: bool,
    accept_invalid_certs: bool,
    username: Option<String>,
    secret: String,
    online: bool,
    last_seen_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
    link_serial: Option<String>,
}

impl TryFrom<DeviceRow> for Device {
    type Error = StoreError;
    fn try_from(r: DeviceRow) -> Result<Self> {
        Ok(Device {
            id: parse("device id", &r.id)?,
            company_id: parse("company id", &r.company_id)?,
            site_id: parse("site id", &r.site_id)?,
            device_type: parse("device type", &r.device_type)?,
            connection: parse("connection", &r.connection)?,
            port: r
                .port
                .map(|p| u16::try_from(p).map_err(|_| StoreError::Corrupt(format!("port {p}"))))
                .transpose()?,
            serial: r.serial,
            name: r.name,
            brand: r.brand,
            model: r.model,
            firmware: r.firmware,
            mac: r.mac,
            host: r.host,
            https: r.https,
            accept_invalid_certs: r.accept_invalid_certs,
            username: r.username,
            secret: r.secret,
            online: r.online,
            last_seen_at: r.last_seen_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
            link_serial: r.link_serial,
        })
    }
}

const DEVICE_COLS: &str = "id, company_id, site_id, serial, name, brand, model, device_type, \
    firmware, mac, connection, host, port, https, accept_invalid_certs, username, secret, online, \
    last_seen_at, created_at, updated_at, link_serial";

/// Devices.
impl Handle {
    /// Stores a new device.
    pub async fn insert_device(&mut self, d: &Device) -> Result<()> {
        const SQL: &str = "INSERT INTO devices (id, company_id, site_id, serial, name, brand, model, \
            device_type, firmware, mac, connection, host, port, https, accept_invalid_certs, username, \
            secret, online, last_seen_at, created_at, updated_at, link_serial) VALUES ($1, $2, $3, $4, \
            $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)";
        on_conn!(self, |c| sqlx::query(SQL)
            .bind(d.id.to_string())
            .bind(d.company_id.to_string())
            .bind(d.site_id.to_string())
            .bind(&d.serial)
            .bind(&d.name)
            .bind(&d.brand)
            .bind(&d.model)
            .bind(d.device_type.as_str())
            .bind(&d.firmware)
            .bind(&d.mac)
            .bind(d.connection.as_str())
            .bind(&d.host)
            .bind(d.port.map(i32::from))
            .bind(d.https)
            .bind(d.accept_invalid_certs)
            .bind(&d.username)
            .bind(&d.secret)
            .bind(d.online)
            .bind(d.last_seen_at)
            .bind(d.created_at)
            .bind(d.updated_at)
            .bind(&d.link_serial)
            .execute(&mut *c)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// The device, if it exists.
    pub async fn device(&mut self, id: DeviceId) -> Result<Option<Device>> {
        let sql = format!("SELECT {DEVICE_COLS} FROM devices WHERE id = $1");
        let row: Option<DeviceRow> =
            on_conn!(self, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(id.to_string())
                .fetch_optional(&mut *c)
                .await)?;
        row.map(Device::try_from).transpose()
    }

    /// The device with this serial number, in any company.
    pub async fn device_by_serial(&mut self, serial: &str) -> Result<Option<Device>> {
        let sql = format!("SELECT {DEVICE_COLS} FROM devices WHERE serial = $1");
        let row: Option<DeviceRow> =
            on_conn!(self, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(serial)
                .fetch_optional(&mut *c)
                .await)?;
        row.map(Device::try_from).transpose()
    }

    /// A page of a site's devices, in the order they were added.
    pub async fn list_site_devices(
        &mut self,
        site: SiteId,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<Device>> {
        let sql = format!(
            "SELECT {DEVICE_COLS} FROM devices WHERE site_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        );
        let rows: Vec<DeviceRow> = on_conn!(self, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
            .bind(site.to_string())
            .bind(cursor.unwrap_or(""))
            .bind(i64::from(limit) + 1)
            .fetch_all(&mut *c)
            .await)?;
        Ok(paginate(convert(rows)?, limit, |d: &Device| {
            d.id.to_string()
        }))
    }

    /// A page of every device in the sites of `scope`; of a handed-over site only
    /// while the company holds the site-information permission at `now`,
    /// and none of a site the company removed from its list.
    pub async fn list_devices(
        &mut self,
        scope: SiteScope,
        cursor: Option<&str>,
        limit: u32,
        now: Millis,
    ) -> Result<Page<Device>> {
        let (company, manager) = match scope {
            SiteScope::Company(c) => (c, None),
            SiteScope::ManagedBy(c, u) => (c, Some(u.to_string())),
            SiteScope::Nothing => {
                return Ok(Page {
                    items: vec![],
                    next_cursor: None,
                });
            }
        };
        let cols = DEVICE_COLS
            .split(", ")
            .map(|c| format!("d.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {cols} FROM devices d JOIN sites s ON s.id = d.site_id WHERE d.company_id = $1 \
             AND ($2 IS NULL OR s.manager_id = $2) AND d.id > $3 AND {granted} ORDER BY d.id LIMIT $4",
            granted = crate::handover::granted_sql(
                siteward_core::handover::Permission::SiteInfo,
                "s",
                None,
                "$5"
            )
        );
        let rows: Vec<DeviceRow> = on_conn!(self, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
            .bind(company.to_string())
            .bind(manager.clone())
            .bind(cursor.unwrap_or(""))
            .bind(i64::from(limit) + 1)
            .bind(now)
            .fetch_all(&mut *c)
            .await)?;
        Ok(paginate(convert(rows)?, limit, |d: &Device| {
            d.id.to_string()
        }))
    }

    /// Records whether a device answered, and what it said of itself.
    pub async fn update_device_seen(
        &mut self,
        id: DeviceId,
        online: bool,
        firmware: Option<&str>,
        now: Millis,
    ) -> Result<()> {
        const SQL: &str = "UPDATE devices SET online = $1, \
            last_seen_at = CASE WHEN $1 THEN $2 ELSE last_seen_at END, \
            firmware = COALESCE($3, firmware), updated_at = $2 WHERE id = $4";
        on_conn!(self, |c| sqlx::query(SQL)
            .bind(online)
            .bind(now)
            .bind(firmware)
            .bind(id.to_string())
            .execute(&mut *c)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Deletes a device.
    pub async fn delete_device(&mut self, id: DeviceId) -> Result<()> {
        on_conn!(self, |c| sqlx::query("DELETE FROM devices WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut *c)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// How many devices there are.
    pub async fn count_devices(&mut self) -> Result<i64> {
        let (n,): (i64,) = on_conn!(self, |c| sqlx::query_as("SELECT COUNT(*) FROM devices")
            .fetch_one(&mut *c)
            .await)?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_count_from_start() {
        assert_eq!(placeholders(2, 3), "$2, $3, $4");
        assert_eq!(placeholders(1, 1), "$1");
    }

    #[test]
    fn list_params_number_every_value_once_or_not_at_all() {
        assert_eq!(
            list_params(Backend::Postgres, 2, 3),
            "($1, $2, $3), ($4, $5, $6)"
        );
        assert_eq!(list_params(Backend::Sqlite, 2, 2), "(?, ?), (?, ?)");
        assert_eq!(list_params(Backend::Postgres, 3, 1), "$1, $2, $3");
        assert_eq!(list_params(Backend::Sqlite, 2, 1), "?, ?");
    }
}
