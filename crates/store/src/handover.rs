//! Hand-over queries: owner invitations, site authorizations,
//! claims of a site by another installation company, and the site changes they
//! make (owner, release from a company's list, the move to a new company).
//!
//! The records are the core's own ([`Invitation`], [`Authorization`], [`Claim`]):
//! they are plain data, so the store reads and writes them as they are and every
//! decision stays in `siteward_core::handover`. Stored states are what was last
//! written; an approved authorization or a pending invitation past its expiry is
//! expired whatever the row says, which the core's `state_at(now)` tells.
//!
//! Storage forms: permissions as comma-separated names (`site_info,live_view`),
//! device scopes as a JSON list of ids (`NULL`: every device), durations as hours
//! (`NULL`: permanent), the request an invitation carries as JSON. `invitations`
//! has a column named `authorization`, a reserved word in PostgreSQL, so it is
//! always written quoted.

use crate::db::{Conn, Handle};
use crate::model::Site;
use crate::repo::{Page, SITE_COLS, SiteRow, parse, parse_opt, placeholders};
use crate::{Result, StoreError};
use siteward_core::handover::{
    Authorization, AuthorizationRequest, AuthorizationState, Claim, ClaimState, DeviceScope,
    GrantDuration, Invitation, Permission, PermissionSet,
};
use siteward_core::{CompanyId, DeviceId, Millis, SiteId, UserId};
use sqlx::AssertSqlSafe;
use std::collections::HashMap;

/// SQL that is true when the site `site` (an alias of `sites`) is one its company
/// may act on with `permission` at the time bound as `now` (a placeholder such as
/// `$3`) — on the device `device` (a column such as `d.id`), or on the site as a
/// whole when `None`.
///
/// It is the SQL form of the core policy's rule for lists that paginate in the
/// database (`policy::collects_health` and the `SiteInfo` check of `ViewSite`):
/// a site the company removed from its list is out; before hand-over everything is
/// in; after hand-over only with an approved authorization of the managing company,
/// not expired at `now` (`Authorization::state_at`), naming the permission and
/// covering the device (`DeviceScope::covers`). Single reads and the scheduler ask
/// the core itself; the integration tests hold the two to the same answers.
pub(crate) fn granted_sql(
    permission: Permission,
    site: &str,
    device: Option<&str>,
    now: &str,
) -> String {
    let device_rule = match device {
        Some(d) => format!("(a.device_ids IS NULL OR a.device_ids LIKE '%\"' || {d} || '\"%')"),
        None => "1 = 1".to_owned(),
    };
    format!(
        "({site}.released_at IS NULL AND ({site}.state <> 'handed_over' OR EXISTS (\
         SELECT 1 FROM authorizations a WHERE a.site_id = {site}.id \
         AND a.company_id = {site}.company_id AND a.state = 'approved' \
         AND (a.expires_at IS NULL OR a.expires_at > {now}) \
         AND (',' || a.permissions || ',') LIKE '%,{perm},%' AND {device_rule})))",
        perm = permission.as_str(),
    )
}

#[derive(sqlx::FromRow)]
struct InvitationRow {
    id: String,
    site_id: String,
    company_id: String,
    invited_by: String,
    end_user_id: String,
    end_user_email: String,
    state: String,
    created_at: i64,
    expires_at: i64,
    closed_at: Option<i64>,
    authorization: Option<String>,
}

impl TryFrom<InvitationRow> for Invitation {
    type Error = StoreError;
    fn try_from(r: InvitationRow) -> Result<Self> {
        let authorization = r
            .authorization
            .map(|json| {
                serde_json::from_str::<AuthorizationRequest>(&json)
                    .map_err(|e| StoreError::Corrupt(format!("invitation request: {e}")))
            })
            .transpose()?;
        Ok(Invitation {
            id: parse("invitation id", &r.id)?,
            site_id: parse("site id", &r.site_id)?,
            company_id: parse("company id", &r.company_id)?,
            invited_by: parse("user id", &r.invited_by)?,
            end_user_id: parse("user id", &r.end_user_id)?,
            state: parse("invitation state", &r.state)?,
            end_user_email: r.end_user_email,
            created_at: r.created_at,
            expires_at: r.expires_at,
            closed_at: r.closed_at,
            authorization,
        })
    }
}

const INVITATION_COLS: &str = "id, site_id, company_id, invited_by, end_user_id, end_user_email, \
    state, created_at, expires_at, closed_at, \"authorization\"";

#[derive(sqlx::FromRow)]
struct AuthorizationRow {
    id: String,
    site_id: String,
    company_id: String,
    requested_by: String,
    permissions: String,
    device_ids: Option<String>,
    requested_hours: Option<i64>,
    granted_hours: Option<i64>,
    remark: Option<String>,
    state: String,
    requested_at: i64,
    decided_at: Option<i64>,
    expires_at: Option<i64>,
    ended_at: Option<i64>,
}

fn duration(hours: Option<i64>) -> Result<GrantDuration> {
    GrantDuration::from_hours(hours).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn scope_json(scope: &DeviceScope) -> Option<String> {
    scope
        .ids()
        .map(|ids| serde_json::to_string(ids).unwrap_or_else(|_| "[]".into()))
}

impl TryFrom<AuthorizationRow> for Authorization {
    type Error = StoreError;
    fn try_from(r: AuthorizationRow) -> Result<Self> {
        let state: AuthorizationState = parse("authorization state", &r.state)?;
        let devices = match r.device_ids {
            None => DeviceScope::All,
            Some(json) => {
                let ids: Vec<DeviceId> = serde_json::from_str(&json)
                    .map_err(|e| StoreError::Corrupt(format!("device ids: {e}")))?;
                DeviceScope::from_ids(Some(ids))
                    .map_err(|e| StoreError::Corrupt(format!("device ids: {e}")))?
            }
        };
        // `granted_hours` is NULL both for "not granted" and for "granted for
        // good": an authorization was granted when the owner decided on it and did
        // not reject it.
        let granted = r.decided_at.is_some() && state != AuthorizationState::Rejected;
        Ok(Authorization {
            id: parse("authorization id", &r.id)?,
            site_id: parse("site id", &r.site_id)?,
            company_id: parse("company id", &r.company_id)?,
            requested_by: parse("user id", &r.requested_by)?,
            permissions: parse::<PermissionSet>("permissions", &r.permissions)?,
            devices,
            requested_duration: duration(r.requested_hours)?,
            granted_duration: if granted {
                Some(duration(r.granted_hours)?)
            } else {
                None
            },
            remark: r.remark,
            state,
            requested_at: r.requested_at,
            decided_at: r.decided_at,
            expires_at: r.expires_at,
            ended_at: r.ended_at,
        })
    }
}

const AUTHORIZATION_COLS: &str = "id, site_id, company_id, requested_by, permissions, device_ids, \
    requested_hours, granted_hours, remark, state, requested_at, decided_at, expires_at, ended_at";

#[derive(sqlx::FromRow)]
struct ClaimRow {
    id: String,
    site_id: String,
    company_id: String,
    claimed_by: String,
    owner_id: String,
    previous_company_id: Option<String>,
    state: String,
    created_at: i64,
    decided_at: Option<i64>,
}

impl TryFrom<ClaimRow> for Claim {
    type Error = StoreError;
    fn try_from(r: ClaimRow) -> Result<Self> {
        Ok(Claim {
            id: parse("claim id", &r.id)?,
            site_id: parse("site id", &r.site_id)?,
            company_id: parse("company id", &r.company_id)?,
            claimed_by: parse("user id", &r.claimed_by)?,
            owner_id: parse("user id", &r.owner_id)?,
            previous_company_id: parse_opt("company id", r.previous_company_id)?,
            state: parse::<ClaimState>("claim state", &r.state)?,
            created_at: r.created_at,
            decided_at: r.decided_at,
        })
    }
}

const CLAIM_COLS: &str = "id, site_id, company_id, claimed_by, owner_id, previous_company_id, \
    state, created_at, decided_at";

fn convert<R, T: TryFrom<R, Error = StoreError>>(rows: Vec<R>) -> Result<Vec<T>> {
    rows.into_iter().map(T::try_from).collect()
}

/// Newest first, keyset on the id (`cursor`: the last id of the previous page).
fn page_desc<T>(mut rows: Vec<T>, limit: u32, key: impl Fn(&T) -> String) -> Page<T> {
    let next_cursor = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(key)
    } else {
        None
    };
    Page {
        items: rows,
        next_cursor,
    }
}

/// Sites and people, as hand-over needs them.
impl Handle {
    /// Locks the site's row until the transaction ends (PostgreSQL; a SQLite write
    /// transaction already excludes every other writer), so two hand-over steps on
    /// one site — two invitations, an approval and a claim — run one after the
    /// other and each decides on what the other wrote.
    pub async fn lock_site(&mut self, id: SiteId) -> Result<()> {
        if let Conn::Postgres(c) = self.conn() {
            sqlx::query("SELECT id FROM sites WHERE id = $1 FOR UPDATE")
                .bind(id.to_string())
                .fetch_optional(&mut *c)
                .await?;
        }
        Ok(())
    }

    /// The site with this Site ID (stored form), if any.
    pub async fn site_by_code(&mut self, code: &str) -> Result<Option<Site>> {
        let sql = format!("SELECT {SITE_COLS} FROM sites WHERE site_code = $1");
        let row: Option<SiteRow> = on_conn!(self, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
            .bind(code)
            .fetch_optional(&mut *c)
            .await)?;
        row.map(Site::try_from).transpose()
    }

    /// The names of these people (those that exist).
    pub async fn user_names(&mut self, ids: &[UserId]) -> Result<HashMap<UserId, String>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT id, name FROM users WHERE id IN ({})",
            placeholders(1, ids.len())
        );
        let rows: Vec<(String, String)> = on_conn!(self, |c| {
            let mut q = sqlx::query_as::<_, (String, String)>(AssertSqlSafe(sql.as_str()));
            for id in ids {
                q = q.bind(id.to_string());
            }
            q.fetch_all(&mut *c).await
        })?;
        rows.into_iter()
            .map(|(id, name)| Ok((parse("user id", &id)?, name)))
            .collect()
    }

    /// The names of these companies (those that exist).
    pub async fn company_names(&mut self, ids: &[CompanyId]) -> Result<HashMap<CompanyId, String>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT id, name FROM companies WHERE id IN ({})",
            placeholders(1, ids.len())
        );
        let rows: Vec<(String, String)> = on_conn!(self, |c| {
            let mut q = sqlx::query_as::<_, (String, String)>(AssertSqlSafe(sql.as_str()));
            for id in ids {
                q = q.bind(id.to_string());
            }
            q.fetch_all(&mut *c).await
        })?;
        rows.into_iter()
            .map(|(id, name)| Ok((parse("company id", &id)?, name)))
            .collect()
    }

    /// Which of these devices belong to `site`.
    pub async fn devices_of_site(
        &mut self,
        site: SiteId,
        ids: &[DeviceId],
    ) -> Result<Vec<DeviceId>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT id FROM devices WHERE site_id = $1 AND id IN ({}) ORDER BY id",
            placeholders(2, ids.len())
        );
        let rows: Vec<(String,)> = on_conn!(self, |c| {
            let mut q =
                sqlx::query_as::<_, (String,)>(AssertSqlSafe(sql.as_str())).bind(site.to_string());
            for id in ids {
                q = q.bind(id.to_string());
            }
            q.fetch_all(&mut *c).await
        })?;
        rows.iter().map(|(id,)| parse("device id", id)).collect()
    }

    /// the site moves to `company`: managed by it, with no Site Manager yet and
    /// no longer released; its devices and their health go with it, and what was
    /// told to the previous company about them (`device_alerts`) is forgotten, so
    /// the new company is told afresh.
    pub async fn move_site(&mut self, site: SiteId, company: CompanyId, now: Millis) -> Result<()> {
        let (site, company) = (site.to_string(), company.to_string());
        const SITES: &str = "UPDATE sites SET company_id = $1, manager_id = NULL, \
            released_at = NULL, updated_at = $2 WHERE id = $3";
        const DEVICES: &str =
            "UPDATE devices SET company_id = $1, updated_at = $2 WHERE site_id = $3";
        const HEALTH: &str = "UPDATE device_health SET company_id = $1 WHERE site_id = $2";
        const ALERTS: &str = "DELETE FROM device_alerts WHERE site_id = $1";
        on_conn!(self, |c| {
            sqlx::query(SITES)
                .bind(&company)
                .bind(now)
                .bind(&site)
                .execute(&mut *c)
                .await?;
            sqlx::query(DEVICES)
                .bind(&company)
                .bind(now)
                .bind(&site)
                .execute(&mut *c)
                .await?;
            sqlx::query(HEALTH)
                .bind(&company)
                .bind(&site)
                .execute(&mut *c)
                .await?;
            sqlx::query(ALERTS)
                .bind(&site)
                .execute(&mut *c)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }

    /// Makes every device of the site due for inspection now (health monitoring
    /// was granted: collection resumes at once); returns how many.
    pub async fn make_site_due(&mut self, site: SiteId, now: Millis) -> Result<u64> {
        const SQL: &str =
            "UPDATE device_health SET next_due_at = $1 WHERE site_id = $2 AND next_due_at > $1";
        let n = on_conn!(self, |c| sqlx::query(SQL)
            .bind(now)
            .bind(site.to_string())
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n)
    }
}

/// Owner invitations.
impl Handle {
    /// Stores a new invitation.
    pub async fn insert_invitation(&mut self, i: &Invitation) -> Result<()> {
        const SQL: &str = "INSERT INTO invitations (id, site_id, company_id, invited_by, end_user_id, \
            end_user_email, state, created_at, expires_at, closed_at, \"authorization\") \
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
        let request = i
            .authorization
            .as_ref()
            .map(|r| serde_json::to_string(r).unwrap_or_default());
        on_conn!(self, |c| sqlx::query(SQL)
            .bind(i.id.to_string())
            .bind(i.site_id.to_string())
            .bind(i.company_id.to_string())
            .bind(i.invited_by.to_string())
            .bind(i.end_user_id.to_string())
            .bind(&i.end_user_email)
            .bind(i.state.as_str())
            .bind(i.created_at)
            .bind(i.expires_at)
            .bind(i.closed_at)
            .bind(request.clone())
            .execute(&mut *c)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Writes an invitation's state and when it closed.
    pub async fn update_invitation(&mut self, i: &Invitation) -> Result<()> {
        const SQL: &str = "UPDATE invitations SET state = $1, closed_at = $2 WHERE id = $3";
        on_conn!(self, |c| sqlx::query(SQL)
            .bind(i.state.as_str())
            .bind(i.closed_at)
            .bind(i.id.to_string())
            .execute(&mut *c)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// The invitation, if it exists.
    pub async fn invitation(
        &mut self,
        id: siteward_core::InvitationId,
    ) -> Result<Option<Invitation>> {
        let sql = format!("SELECT {INVITATION_COLS} FROM invitations WHERE id = $1");
        let row: Option<InvitationRow> =
            on_conn!(self, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(id.to_string())
                .fetch_optional(&mut *c)
                .await)?;
        row.map(Invitation::try_from).transpose()
    }

    /// The site's latest invitation, if it ever had one.
    pub async fn latest_invitation(&mut self, site: SiteId) -> Result<Option<Invitation>> {
        let sql = format!(
            "SELECT {INVITATION_COLS} FROM invitations WHERE site_id = $1 ORDER BY id DESC LIMIT 1"
        );
        let row: Option<InvitationRow> =
            on_conn!(self, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(site.to_string())
                .fetch_optional(&mut *c)
                .await)?;
        row.map(Invitation::try_from).transpose()
    }

    /// The latest invitation of each of these sites (those that had one).
    pub async fn latest_invitations(&mut self, sites: &[SiteId]) -> Result<Vec<Invitation>> {
        if sites.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {INVITATION_COLS} FROM invitations i WHERE i.site_id IN ({}) \
             AND i.id = (SELECT MAX(l.id) FROM invitations l WHERE l.site_id = i.site_id)",
            placeholders(1, sites.len())
        );
        let rows: Vec<InvitationRow> = on_conn!(self, |c| {
            let mut q = sqlx::query_as::<_, InvitationRow>(AssertSqlSafe(sql.as_str()));
            for s in sites {
                q = q.bind(s.to_string());
            }
            q.fetch_all(&mut *c).await
        })?;
        convert(rows)
    }

    /// A page of the invitations sent to an end user, newest first.
    pub async fn invitations_of(
        &mut self,
        end_user: UserId,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<Invitation>> {
        let sql = format!(
            "SELECT {INVITATION_COLS} FROM invitations WHERE end_user_id = $1 \
             AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3"
        );
        let rows: Vec<InvitationRow> =
            on_conn!(self, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(end_user.to_string())
                .bind(cursor)
                .bind(i64::from(limit) + 1)
                .fetch_all(&mut *c)
                .await)?;
        Ok(page_desc(convert(rows)?, limit, |i: &Invitation| {
            i.id.to_string()
        }))
    }
}

/// Site authorizations.
impl Handle {
    /// Stores a new authorization (an application, or one approved with the
    /// invitation that carried it).
    pub async fn insert_authorization(&mut self, a: &Authorization) -> Result<()> {
        const SQL: &str = "INSERT INTO authorizations (id, site_id, company_id, requested_by, \
            permissions, device_ids, requested_hours, granted_hours, remark, state, requested_at, \
            decided_at, expires_at, ended_at) \
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";
        on_conn!(self, |c| sqlx::query(SQL)
            .bind(a.id.to_string())
            .bind(a.site_id.to_string())
            .bind(a.company_id.to_string())
            .bind(a.requested_by.to_string())
            .bind(a.permissions.to_string())
            .bind(scope_json(&a.devices))
            .bind(a.requested_duration.hours())
            .bind(a.granted_duration.and_then(GrantDuration::hours))
            .bind(&a.remark)
            .bind(a.state.as_str())
            .bind(a.requested_at)
            .bind(a.decided_at)
            .bind(a.expires_at)
            .bind(a.ended_at)
            .execute(&mut *c)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Writes an authorization's answer, state and times.
    pub async fn update_authorization(&mut self, a: &Authorization) -> Result<()> {
        const SQL: &str = "UPDATE authorizations SET state = $1, granted_hours = $2, decided_at = $3, \
            expires_at = $4, ended_at = $5 WHERE id = $6";
        on_conn!(self, |c| sqlx::query(SQL)
            .bind(a.state.as_str())
            .bind(a.granted_duration.and_then(GrantDuration::hours))
            .bind(a.decided_at)
            .bind(a.expires_at)
            .bind(a.ended_at)
            .bind(a.id.to_string())
            .execute(&mut *c)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// The authorization, if it exists.
    pub async fn authorization(
        &mut self,
        id: siteward_core::AuthorizationId,
    ) -> Result<Option<Authorization>> {
        let sql = format!("SELECT {AUTHORIZATION_COLS} FROM authorizations WHERE id = $1");
        let row: Option<AuthorizationRow> =
            on_conn!(self, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(id.to_string())
                .fetch_optional(&mut *c)
                .await)?;
        row.map(Authorization::try_from).transpose()
    }

    /// Every authorization of the site, oldest first (a site has a handful: the
    /// policy weighs all of them at once).
    pub async fn site_authorizations(&mut self, site: SiteId) -> Result<Vec<Authorization>> {
        self.authorizations_of_sites(&[site]).await
    }

    /// Every authorization of these sites, oldest first.
    pub async fn authorizations_of_sites(
        &mut self,
        sites: &[SiteId],
    ) -> Result<Vec<Authorization>> {
        if sites.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {AUTHORIZATION_COLS} FROM authorizations WHERE site_id IN ({}) ORDER BY id",
            placeholders(1, sites.len())
        );
        let rows: Vec<AuthorizationRow> = on_conn!(self, |c| {
            let mut q = sqlx::query_as::<_, AuthorizationRow>(AssertSqlSafe(sql.as_str()));
            for s in sites {
                q = q.bind(s.to_string());
            }
            q.fetch_all(&mut *c).await
        })?;
        convert(rows)
    }

    /// A page of the authorizations of the sites `owner` owns, newest first.
    pub async fn authorizations_of_owner(
        &mut self,
        owner: UserId,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<Authorization>> {
        let sql = format!(
            "SELECT {AUTHORIZATION_COLS} FROM authorizations WHERE site_id IN \
             (SELECT id FROM sites WHERE owner_id = $1) AND ($2 IS NULL OR id < $2) \
             ORDER BY id DESC LIMIT $3"
        );
        let rows: Vec<AuthorizationRow> =
            on_conn!(self, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(owner.to_string())
                .bind(cursor)
                .bind(i64::from(limit) + 1)
                .fetch_all(&mut *c)
                .await)?;
        Ok(page_desc(convert(rows)?, limit, |a: &Authorization| {
            a.id.to_string()
        }))
    }
}

/// Claims of a site by another installation company.
impl Handle {
    /// Stores a new claim.
    pub async fn insert_claim(&mut self, cl: &Claim) -> Result<()> {
        const SQL: &str = "INSERT INTO site_claims (id, site_id, company_id, claimed_by, owner_id, \
            previous_company_id, state, created_at, decided_at) \
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
        on_conn!(self, |c| sqlx::query(SQL)
            .bind(cl.id.to_string())
            .bind(cl.site_id.to_string())
            .bind(cl.company_id.to_string())
            .bind(cl.claimed_by.to_string())
            .bind(cl.owner_id.to_string())
            .bind(cl.previous_company_id.map(|p| p.to_string()))
            .bind(cl.state.as_str())
            .bind(cl.created_at)
            .bind(cl.decided_at)
            .execute(&mut *c)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Writes a claim's state and when it was answered.
    pub async fn update_claim(&mut self, cl: &Claim) -> Result<()> {
        const SQL: &str = "UPDATE site_claims SET state = $1, decided_at = $2 WHERE id = $3";
        on_conn!(self, |c| sqlx::query(SQL)
            .bind(cl.state.as_str())
            .bind(cl.decided_at)
            .bind(cl.id.to_string())
            .execute(&mut *c)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// The claim, if it exists.
    pub async fn claim(&mut self, id: siteward_core::ClaimId) -> Result<Option<Claim>> {
        let sql = format!("SELECT {CLAIM_COLS} FROM site_claims WHERE id = $1");
        let row: Option<ClaimRow> =
            on_conn!(self, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(id.to_string())
                .fetch_optional(&mut *c)
                .await)?;
        row.map(Claim::try_from).transpose()
    }

    /// Every claim of the site, oldest first.
    pub async fn site_claims(&mut self, site: SiteId) -> Result<Vec<Claim>> {
        let sql = format!("SELECT {CLAIM_COLS} FROM site_claims WHERE site_id = $1 ORDER BY id");
        let rows: Vec<ClaimRow> = on_conn!(self, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
            .bind(site.to_string())
            .fetch_all(&mut *c)
            .await)?;
        convert(rows)
    }

    /// A page of the claims `owner` is asked to confirm or has answered, newest first.
    pub async fn claims_of_owner(
        &mut self,
        owner: UserId,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<Claim>> {
        let sql = format!(
            "SELECT {CLAIM_COLS} FROM site_claims WHERE owner_id = $1 \
             AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3"
        );
        let rows: Vec<ClaimRow> = on_conn!(self, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
            .bind(owner.to_string())
            .bind(cursor)
            .bind(i64::from(limit) + 1)
            .fetch_all(&mut *c)
            .await)?;
        Ok(page_desc(convert(rows)?, limit, |cl: &Claim| {
            cl.id.to_string()
        }))
    }

    /// A page of the claims `company` made, newest first (the portal's list).
    pub async fn claims_of_company(
        &mut self,
        company: CompanyId,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<Claim>> {
        let sql = format!(
            "SELECT {CLAIM_COLS} FROM site_claims WHERE company_id = $1 \
             AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3"
        );
        let rows: Vec<ClaimRow> = on_conn!(self, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
            .bind(company.to_string())
            .bind(cursor)
            .bind(i64::from(limit) + 1)
            .fetch_all(&mut *c)
            .await)?;
        Ok(page_desc(convert(rows)?, limit, |cl: &Claim| {
            cl.id.to_string()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grant_rule_names_permission_device_and_time() {
        let sql = granted_sql(Permission::HealthMonitoring, "s", Some("d.id"), "$9");
        assert!(sql.contains("'%,health_monitoring,%'"));
        assert!(sql.contains("a.expires_at > $9"));
        assert!(sql.contains("'%\"' || d.id || '\"%'"));
        assert!(sql.starts_with("(s.released_at IS NULL"));
        let site_wide = granted_sql(Permission::SiteInfo, "s", None, "$2");
        assert!(site_wide.contains("1 = 1"));
    }
}
