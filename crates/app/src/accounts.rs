//! Accounts: company registration, sign-in and sessions, employees and roles
//! platform operators and authentication codes.

use crate::audit::Record;
use crate::company::CompanyView;
use crate::error::Fields;
use crate::{App, AppError, Result, new_uuid, password};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use siteward_core::auth_code::{self, AuthCodeRefusal};
use siteward_core::handover::AppVersion;
use siteward_core::policy::{Action, Actor, EmployeeFacts, Installer, authorize};
use siteward_core::site_code::{self, AUTH_CODE_LEN};
use siteward_core::validate::{self, FieldError};
use siteward_core::{CompanyId, Region, Role, UserId, UserKind};
use siteward_store::{AuthCode, Company, Handle, Page, Session, User};
use std::net::IpAddr;
use utoipa::ToSchema;

/// A signed-in person, as every use case receives them.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The account, as loaded for this request.
    pub user: User,
    /// The account as the policy sees it.
    pub actor: Actor,
    /// The session's CSRF secret (forms must echo it).
    pub csrf_token: String,
    /// The session's token hash (to sign out).
    pub(crate) token_hash: String,
    /// The client app's version this session signed in with, if it said.
    pub app_version: Option<AppVersion>,
}

impl Principal {
    /// The company of an installer.
    pub fn company_id(&self) -> Option<CompanyId> {
        match self.actor {
            Actor::Installer(i) => Some(i.company_id),
            _ => None,
        }
    }
}

fn actor_of(user: &User) -> Result<Actor> {
    match user.kind {
        UserKind::Installer => match (user.company_id, user.role) {
            (Some(company_id), Some(role)) => Ok(Actor::Installer(Installer {
                user_id: user.id,
                company_id,
                role,
            })),
            _ => Err(AppError::Internal(format!(
                "installer {} has no company or role",
                user.id
            ))),
        },
        UserKind::EndUser => Ok(Actor::EndUser(user.id)),
        UserKind::Operator => Ok(Actor::Operator(user.id)),
    }
}

/// The roles of installer employees, as the OpenAPI document names them.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = Role)]
#[allow(dead_code)]
pub(crate) enum RoleSchema {
    InstallerAdmin,
    ItManager,
    SiteManager,
}

/// An account as the API shows it (never the password hash).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserView {
    /// Account id.
    pub id: String,
    /// `installer`, `end_user` or `operator`.
    pub kind: String,
    /// Installer's role.
    #[schema(value_type = Option<RoleSchema>)]
    pub role: Option<Role>,
    /// Installer's company.
    pub company_id: Option<String>,
    /// Full name.
    pub name: String,
    /// E-mail.
    pub email: String,
    /// Whether the account may sign in.
    pub active: bool,
    /// An end user's region.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The app version last signed in with, if the client said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
    /// When created, RFC 3339.
    pub created_at: String,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.to_string(),
            kind: u.kind.as_str().to_owned(),
            role: u.role,
            company_id: u.company_id.map(|c| c.to_string()),
            name: u.name.clone(),
            email: u.email.clone(),
            active: u.active,
            region: u.region.as_ref().map(ToString::to_string),
            app_version: u.app_version.map(|v| v.to_string()),
            created_at: crate::rfc3339(u.created_at),
        }
    }
}

/// The company part of a registration.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationCompany {
    /// Company name.
    pub name: String,
    /// Region; must match the code's (taken from the code when absent).
    #[serde(default)]
    pub region: Option<String>,
    /// Postal address.
    #[serde(default)]
    pub address: Option<String>,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
    /// Contact e-mail.
    #[serde(default)]
    pub email: Option<String>,
    /// Web site.
    #[serde(default)]
    pub website: Option<String>,
}

/// The first Installer Admin of a registering company.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationAdmin {
    /// Full name.
    pub name: String,
    /// E-mail (the sign-in name).
    pub email: String,
    /// Password (10+ characters, letters with digits or symbols).
    pub password: String,
}

/// `POST /api/v1/companies`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationInput {
    /// The authentication code from the distributor.
    pub auth_code: String,
    /// The company.
    pub company: RegistrationCompany,
    /// Its first Installer Admin.
    pub admin: RegistrationAdmin,
}

/// A registered company and its admin.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Registration {
    /// The new company.
    pub company: CompanyView,
    /// Its Installer Admin.
    pub admin: UserView,
}

/// `POST /api/v1/auth/login`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginInput {
    /// E-mail.
    pub email: String,
    /// Password.
    pub password: String,
    /// The client app's version, such as `4.3` (the end-user app sends it; R-8).
    #[serde(default)]
    pub app_version: Option<String>,
}

/// A new employee (`POST /api/v1/employees`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEmployee {
    /// Full name.
    pub name: String,
    /// E-mail (the sign-in name).
    pub email: String,
    /// Initial password, passed on to the employee.
    pub password: String,
    /// Role.
    #[schema(value_type = RoleSchema)]
    pub role: Role,
}

/// A change to an employee (`PATCH /api/v1/employees/{id}`); absent fields stay.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmployeeChange {
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// New role.
    #[serde(default)]
    #[schema(value_type = Option<RoleSchema>)]
    pub role: Option<Role>,
    /// Enable (`true`) or disable (`false`).
    #[serde(default)]
    pub active: Option<bool>,
    /// A new password.
    #[serde(default)]
    pub password: Option<String>,
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn refused(what: &'static str) -> impl Fn(siteward_core::policy::Refusal) -> AppError {
    AppError::refused(what)
}

async fn employee_facts(h: &mut Handle, user: &User) -> Result<EmployeeFacts> {
    let (Some(company_id), Some(role)) = (user.company_id, user.role) else {
        return Err(AppError::NotFound("employee"));
    };
    let admins = h.count_active_admins(company_id).await?;
    Ok(EmployeeFacts {
        user_id: user.id,
        company_id,
        role,
        active: user.active,
        last_active_admin: role == Role::InstallerAdmin && user.active && admins <= 1,
    })
}

/// Loads an installer employee visible to nobody outside his company.
pub(crate) async fn load_employee(h: &mut Handle, id: UserId) -> Result<(User, EmployeeFacts)> {
    let user = h
        .user(id)
        .await?
        .filter(|u| u.kind == UserKind::Installer)
        .ok_or(AppError::NotFound("employee"))?;
    let facts = employee_facts(h, &user).await?;
    Ok((user, facts))
}

impl App {
    /// Registers a company with an authentication code: creates the company and
    /// its first Installer Admin, or nothing at all.
    pub async fn register_company(&self, input: RegistrationInput) -> Result<Registration> {
        let mut f = Fields::default();
        let code = site_code::normalize_auth_code(&input.auth_code);
        if code.is_none() {
            f.push(FieldError::new(
                "auth_code",
                format!("must be the {AUTH_CODE_LEN}-character code from your distributor, such as ABCD-EFGH-JKLM-NPQR"),
            ));
        }
        let c = &input.company;
        let name = f.take(validate::required_text("company.name", &c.name, 120));
        let region: Option<Region> = match c.region.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(r) => Some(
                f.take(
                    r.parse()
                        .map(Some)
                        .map_err(|e| FieldError::new("company.region", format!("{e}"))),
                ),
            )
            .flatten(),
        };
        let address = f.take(validate::optional_text(
            "company.address",
            c.address.as_deref().unwrap_or(""),
            300,
        ));
        let phone = f.take(validate::optional_phone(
            "company.phone",
            c.phone.as_deref().unwrap_or(""),
        ));
        let cemail = f.take(validate::optional_email(
            "company.email",
            c.email.as_deref().unwrap_or(""),
        ));
        let website = f.take(validate::optional_website(
            "company.website",
            c.website.as_deref().unwrap_or(""),
        ));
        let a = &input.admin;
        let admin_name = f.take(validate::required_text("admin.name", &a.name, 120));
        let admin_email = f.take(validate::email("admin.email", &a.email));
        if let Err(e) = validate::password("admin.password", &a.password, &admin_email) {
            f.push(e);
        }
        f.finish()?;
        let code = code.unwrap_or_default();
        let hash = password::hash(a.password.clone()).await?;

        let now = self.now();
        let mut h = self.inner.store.begin().await?;
        let stored = h.auth_code(&code).await?;
        let state = stored.as_ref().map(|s| auth_code::AuthCodeState {
            region: s.region.clone(),
            expires_at: s.expires_at,
            used: s.used_at.is_some(),
        });
        let region = auth_code::check_registration(state.as_ref(), region.as_ref(), now)
            .map_err(AppError::AuthCode)?;
        let company = Company {
            id: CompanyId(new_uuid()),
            name,
            region,
            address,
            phone,
            email: cemail,
            website,
            logo: None,
            created_at: now,
            updated_at: now,
        };
        h.insert_company(&company).await?;
        let admin = account(
            UserKind::Installer,
            Some(company.id),
            Some(Role::InstallerAdmin),
            admin_name,
            admin_email,
            hash,
            now,
        );
        insert_account(&mut h, &admin).await?;
        if !h.use_auth_code(&code, company.id, now).await? {
            return Err(AppError::AuthCode(AuthCodeRefusal::Used));
        }
        Record {
            company_id: Some(company.id),
            site_id: None,
            action: "company.register",
            summary: format!(
                "{} registered {} with an authentication code",
                admin.name, company.name
            ),
            detail: serde_json::json!({ "region": company.region.as_str(), "admin": admin.email }),
            by: None,
        }
        .write(&mut h, now)
        .await?;
        h.commit().await?;
        tracing::info!(company = %company.id, "company registered");
        Ok(Registration {
            company: CompanyView::from(&company),
            admin: UserView::from(&admin),
        })
    }

    /// Signs in: returns the new session's token (for a cookie or a bearer header)
    /// and the principal. Throttled per account and per address.
    pub async fn login(
        &self,
        input: LoginInput,
        address: Option<IpAddr>,
    ) -> Result<(String, Principal)> {
        let email = input.email.trim().to_lowercase();
        // a version that is no version is the client's mistake, said as such
        // (an empty one counts as not said).
        let app_version = match input.app_version.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(v) => Some(
                v.parse::<AppVersion>()
                    .map_err(|e| AppError::from(e.field_error()))?,
            ),
        };
        if email.is_empty() || input.password.is_empty() {
            return Err(AppError::BadCredentials);
        }
        if input.password.chars().count() > validate::PASSWORD_MAX {
            return Err(AppError::BadCredentials);
        }
        self.inner
            .throttle
            .check(&email, address)
            .map_err(|retry_after_secs| AppError::Throttled { retry_after_secs })?;
        let user = self.inner.store.read().await?.user_by_email(&email).await?;
        let ok = password::verify(
            input.password,
            user.as_ref().map(|u| u.password_hash.clone()),
        )
        .await?;
        let mut user = match user {
            Some(u) if ok => u,
            _ => return Err(AppError::BadCredentials),
        };
        if !user.active {
            return Err(AppError::AccountDisabled);
        }
        let actor = actor_of(&user)?;
        let token = random_token();
        let now = self.now();
        let session = Session {
            token_hash: token_hash(&token),
            user_id: user.id,
            csrf_token: random_token(),
            app_version,
            created_at: now,
            expires_at: now + self.inner.config.session_ttl_ms,
        };
        let mut h = self.inner.store.begin().await?;
        h.insert_session(&session).await?;
        // the account keeps the version last signed in with; a client that
        // does not say leaves it as it was.
        if let Some(v) = app_version {
            h.set_user_app_version(user.id, v, now).await?;
            user.app_version = Some(v);
            user.updated_at = now;
        }
        h.commit().await?;
        let principal = Principal {
            user,
            actor,
            csrf_token: session.csrf_token,
            token_hash: session.token_hash,
            app_version,
        };
        // status is refreshed at sign-in, in the background.
        if matches!(principal.actor, Actor::Installer(_))
            && let Err(e) = self.refresh_health(&principal).await
        {
            tracing::warn!(error = %e, "health refresh at sign-in not scheduled");
        }
        Ok((token, principal))
    }

    /// The principal of a live session token.
    pub async fn authenticate(&self, token: &str) -> Result<Principal> {
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(AppError::Unauthenticated);
        }
        let hash = token_hash(token);
        let found = self
            .inner
            .store
            .read()
            .await?
            .live_session(&hash, self.now())
            .await?;
        let Some((session, user)) = found else {
            return Err(AppError::Unauthenticated);
        };
        if !user.active {
            return Err(AppError::Unauthenticated);
        }
        Ok(Principal {
            actor: actor_of(&user)?,
            user,
            csrf_token: session.csrf_token,
            token_hash: session.token_hash,
            app_version: session.app_version,
        })
    }

    /// Ends the principal's session.
    pub async fn logout(&self, p: &Principal) -> Result<()> {
        self.inner
            .store
            .read()
            .await?
            .delete_session(&p.token_hash)
            .await?;
        Ok(())
    }

    /// Forgets expired sessions; returns how many (run periodically by the server).
    pub async fn purge_expired_sessions(&self) -> Result<u64> {
        Ok(self
            .inner
            .store
            .read()
            .await?
            .delete_expired_sessions(self.now())
            .await?)
    }

    /// A page of the company's employees.
    pub async fn list_employees(
        &self,
        p: &Principal,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<UserView>> {
        let company = p.company_id().ok_or(AppError::NotFound("company"))?;
        authorize(&p.actor, Action::ListEmployees(company)).map_err(refused("company"))?;
        let page = self
            .inner
            .store
            .read()
            .await?
            .list_employees(company, cursor, limit)
            .await?;
        Ok(Page {
            items: page.items.iter().map(UserView::from).collect(),
            next_cursor: page.next_cursor,
        })
    }

    /// One employee of the company.
    pub async fn get_employee(&self, p: &Principal, id: UserId) -> Result<UserView> {
        let mut h = self.inner.store.read().await?;
        let (user, facts) = load_employee(&mut h, id).await?;
        authorize(&p.actor, Action::ListEmployees(facts.company_id))
            .map_err(refused("employee"))?;
        Ok(UserView::from(&user))
    }

    /// Adds an employee with a role and an initial password.
    pub async fn add_employee(&self, p: &Principal, input: NewEmployee) -> Result<UserView> {
        let company = p.company_id().ok_or(AppError::NotFound("company"))?;
        authorize(
            &p.actor,
            Action::AddEmployee {
                company_id: company,
                role: input.role,
            },
        )
        .map_err(refused("company"))?;
        let mut f = Fields::default();
        let name = f.take(validate::required_text("name", &input.name, 120));
        let email = f.take(validate::email("email", &input.email));
        if let Err(e) = validate::password("password", &input.password, &email) {
            f.push(e);
        }
        f.finish()?;
        let hash = password::hash(input.password).await?;
        let now = self.now();
        let user = account(
            UserKind::Installer,
            Some(company),
            Some(input.role),
            name,
            email,
            hash,
            now,
        );
        let mut h = self.inner.store.begin().await?;
        insert_account(&mut h, &user).await?;
        Record {
            company_id: Some(company),
            site_id: None,
            action: "employee.add",
            summary: format!("{} added {} as {}", p.user.name, user.name, input.role.label()),
            detail: serde_json::json!({ "employee_id": user.id, "email": user.email, "role": input.role }),
            by: Some(p),
        }
        .write(&mut h, now)
        .await?;
        h.commit().await?;
        Ok(UserView::from(&user))
    }

    /// Changes an employee's name, role, password or active flag, each under its rule.
    pub async fn change_employee(
        &self,
        p: &Principal,
        id: UserId,
        change: EmployeeChange,
    ) -> Result<UserView> {
        let mut f = Fields::default();
        let name = change
            .name
            .as_deref()
            .map(|n| f.take(validate::required_text("name", n, 120)));
        f.finish()?;
        let now = self.now();
        let mut h = self.inner.store.begin().await?;
        let (mut user, facts) = load_employee(&mut h, id).await?;
        authorize(&p.actor, Action::EditEmployee(&facts)).map_err(refused("employee"))?;
        let mut changes = Vec::new();
        if let Some(name) = name
            && name != user.name
        {
            changes.push(format!("name to {name}"));
            user.name = name;
        }
        if let Some(pw) = change.password {
            validate::password("password", &pw, &user.email)?;
            user.password_hash = password::hash(pw).await?;
            changes.push("password".to_owned());
        }
        let mut unassign = false;
        if let Some(role) = change.role.filter(|r| Some(*r) != user.role) {
            authorize(
                &p.actor,
                Action::ChangeRole {
                    target: &facts,
                    to: role,
                },
            )
            .map_err(refused("employee"))?;
            changes.push(format!("role to {}", role.label()));
            unassign |= facts.role == Role::SiteManager;
            user.role = Some(role);
        }
        match change.active {
            Some(false) if user.active => {
                authorize(&p.actor, Action::DisableEmployee(&facts))
                    .map_err(refused("employee"))?;
                user.active = false;
                unassign = true;
                changes.push("disabled".to_owned());
                h.delete_sessions_of(user.id).await?;
            }
            Some(true) if !user.active => {
                authorize(&p.actor, Action::EnableEmployee(&facts)).map_err(refused("employee"))?;
                user.active = true;
                changes.push("enabled".to_owned());
            }
            _ => {}
        }
        if changes.is_empty() {
            return Ok(UserView::from(&user));
        }
        user.updated_at = now;
        h.update_user(&user).await?;
        if unassign {
            self.release_sites(&mut h, p, &user, now).await?;
        }
        Record {
            company_id: Some(facts.company_id),
            site_id: None,
            action: "employee.change",
            summary: format!(
                "{} changed {}: {}",
                p.user.name,
                user.name,
                changes.join(", ")
            ),
            detail: serde_json::json!({ "employee_id": user.id, "changes": changes }),
            by: Some(p),
        }
        .write(&mut h, now)
        .await?;
        h.commit().await?;
        Ok(UserView::from(&user))
    }

    /// Removes an employee (the same rule as disabling: never the last Installer Admin).
    pub async fn remove_employee(&self, p: &Principal, id: UserId) -> Result<()> {
        let now = self.now();
        let mut h = self.inner.store.begin().await?;
        let (user, facts) = load_employee(&mut h, id).await?;
        authorize(&p.actor, Action::DisableEmployee(&facts)).map_err(refused("employee"))?;
        self.release_sites(&mut h, p, &user, now).await?;
        h.delete_user(user.id).await?;
        Record {
            company_id: Some(facts.company_id),
            site_id: None,
            action: "employee.remove",
            summary: format!("{} removed {}", p.user.name, user.name),
            detail: serde_json::json!({ "employee_id": user.id, "email": user.email }),
            by: Some(p),
        }
        .write(&mut h, now)
        .await?;
        h.commit().await?;
        Ok(())
    }

    /// A person who no longer may manage sites leaves them unassigned, each
    /// recorded on the site's own log.
    async fn release_sites(
        &self,
        h: &mut Handle,
        p: &Principal,
        user: &User,
        now: i64,
    ) -> Result<()> {
        for site in h.unassign_manager(user.id, now).await? {
            Record {
                company_id: user.company_id,
                site_id: Some(site),
                action: "site.manager_removed",
                summary: format!("{} is no longer Site Manager", user.name),
                detail: serde_json::json!({ "previous_manager_id": user.id }),
                by: Some(p),
            }
            .write(h, now)
            .await?;
        }
        Ok(())
    }

    /// Creates a platform operator (CLI: `siteward admin create-operator`).
    pub async fn create_operator(
        &self,
        name: &str,
        email: &str,
        password: &str,
    ) -> Result<UserView> {
        let mut f = Fields::default();
        let name = f.take(validate::required_text("name", name, 120));
        let email = f.take(validate::email("email", email));
        if let Err(e) = validate::password("password", password, &email) {
            f.push(e);
        }
        f.finish()?;
        let hash = password::hash(password.to_owned()).await?;
        let now = self.now();
        let user = account(UserKind::Operator, None, None, name, email, hash, now);
        let mut h = self.inner.store.begin().await?;
        insert_account(&mut h, &user).await?;
        h.commit().await?;
        Ok(UserView::from(&user))
    }

    /// Issues `count` authentication codes for `region`, as an operator.
    pub async fn issue_auth_codes(
        &self,
        p: &Principal,
        region: &str,
        count: u32,
        note: Option<String>,
    ) -> Result<Vec<AuthCode>> {
        authorize(&p.actor, Action::IssueAuthCodes).map_err(refused("auth code"))?;
        self.issue_auth_codes_unchecked(region, count, note).await
    }

    /// Issues authentication codes on the operator's own command line, where holding
    /// the database is the authority.
    pub async fn issue_auth_codes_unchecked(
        &self,
        region: &str,
        count: u32,
        note: Option<String>,
    ) -> Result<Vec<AuthCode>> {
        let region: Region = region
            .parse()
            .map_err(|e| AppError::invalid("region", format!("{e}")))?;
        if !(1..=1000).contains(&count) {
            return Err(AppError::invalid("count", "must be 1 to 1000"));
        }
        let note = validate::optional_text("note", note.as_deref().unwrap_or(""), 200)?;
        let now = self.now();
        let mut h = self.inner.store.begin().await?;
        let mut codes = Vec::new();
        for _ in 0..count {
            let mut bytes = [0u8; AUTH_CODE_LEN];
            rand::rng().fill_bytes(&mut bytes);
            let code = AuthCode {
                code: site_code::new_auth_code(bytes),
                region: region.clone(),
                note: note.clone(),
                created_at: now,
                expires_at: now + self.inner.config.auth_code_ttl_ms,
                used_at: None,
                company_id: None,
            };
            h.insert_auth_code(&code).await?;
            codes.push(code);
        }
        h.commit().await?;
        Ok(codes)
    }

    /// Every authentication code with its state, for an operator.
    pub async fn list_auth_codes(&self, p: &Principal) -> Result<Vec<AuthCode>> {
        authorize(&p.actor, Action::IssueAuthCodes).map_err(refused("auth code"))?;
        self.list_auth_codes_unchecked().await
    }

    /// Every authentication code with its state, on the operator's command line.
    pub async fn list_auth_codes_unchecked(&self) -> Result<Vec<AuthCode>> {
        Ok(self.inner.store.read().await?.list_auth_codes().await?)
    }
}

/// A new, active account.
fn account(
    kind: UserKind,
    company_id: Option<CompanyId>,
    role: Option<Role>,
    name: String,
    email: String,
    password_hash: String,
    now: i64,
) -> User {
    User {
        id: UserId(new_uuid()),
        kind,
        company_id,
        role,
        name,
        email,
        password_hash,
        active: true,
        region: None,
        app_version: None,
        created_at: now,
        updated_at: now,
    }
}

/// Stores a new account unless its e-mail is taken (checked first, and again by the
/// unique index should two requests race).
pub(crate) async fn insert_account(h: &mut Handle, user: &User) -> Result<()> {
    if h.user_by_email(&user.email).await?.is_some() {
        return Err(email_taken());
    }
    h.insert_user(user).await.map_err(duplicate_email)
}

fn email_taken() -> AppError {
    AppError::Conflict {
        code: "account.email_taken",
        message: "an account with this e-mail already exists".into(),
    }
}

/// A unique violation on insert (a race the existence check could not see) is the
/// same conflict, not a server error.
fn duplicate_email(e: siteward_store::StoreError) -> AppError {
    match e {
        siteward_store::StoreError::Duplicate(_) => email_taken(),
        other => other.into(),
    }
}
