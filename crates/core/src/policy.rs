//! The one authorization policy: who may do what to which thing.
//!
//! Every handler, portal page and worker asks [`authorize`] before it acts; none
//! re-implements a rule. A refusal is either [`Refusal::NotFound`] — the thing is
//! invisible to the actor (another company's data, R-40, or a site not assigned to a
//! Site Manager), so its existence is not revealed — or [`Refusal::Forbidden`] with
//! the [`Rule`] that refused, so the person is told exactly why.
//!
//! Hand-over adds the site's owner and, once the site is handed
//! over, the managing company's [`Access`]: every installer operation on a
//! handed-over site names the [`Permission`] it needs, and without an authorization
//! in force that covers it the answer is
//! `Forbidden(Rule::AuthorizationRequired(permission))`. End users act only on the
//! sites they own.

use crate::handover::{Access, Permission};
use crate::{CompanyId, DeviceId, Role, SiteState, UserId};

/// An installer employee acting within his or her company.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Installer {
    /// Who.
    pub user_id: UserId,
    /// The employing company (the tenant).
    pub company_id: CompanyId,
    /// The role held now.
    pub role: Role,
}

/// Whoever asks. Only active accounts with a live session become actors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// An installation company's employee.
    Installer(Installer),
    /// A customer: sees and acts on the sites he or she owns.
    EndUser(UserId),
    /// A platform operator on the distributor side.
    Operator(UserId),
}

impl Actor {
    /// The person behind the actor.
    pub fn user_id(&self) -> UserId {
        match self {
            Actor::Installer(i) => i.user_id,
            Actor::EndUser(id) | Actor::Operator(id) => *id,
        }
    }
}

/// What the policy needs to know of a site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteFacts {
    /// The managing company; `None` once it removed a handed-over site from its
    /// list (R-11: the site and its devices stay with the owner).
    pub company_id: Option<CompanyId>,
    /// Its Site Manager, if assigned (R-6: at most one).
    pub manager_id: Option<UserId>,
    /// The hand-over state.
    pub state: SiteState,
    /// The owner, once the site is handed over.
    pub owner_id: Option<UserId>,
    /// What the managing company may do now on a handed-over site: from its
    /// authorizations in force, by [`Access::at`]. Not consulted before hand-over.
    pub access: Access,
}

impl SiteFacts {
    /// A site of `company_id` without owner or authorization (every site before
    /// hand-over); add those with [`SiteFacts::with_owner`] and
    /// [`SiteFacts::with_access`].
    pub fn new(company_id: CompanyId, manager_id: Option<UserId>, state: SiteState) -> Self {
        SiteFacts {
            company_id: Some(company_id),
            manager_id,
            state,
            owner_id: None,
            access: Access::none(),
        }
    }

    /// The same site with this owner.
    pub fn with_owner(self, owner_id: Option<UserId>) -> Self {
        SiteFacts { owner_id, ..self }
    }

    /// The same site with the managing company's access now.
    pub fn with_access(self, access: Access) -> Self {
        SiteFacts { access, ..self }
    }

    /// Whether an installer needs an authorization here (R-10: after hand-over).
    pub fn is_handed_over(&self) -> bool {
        self.state == SiteState::HandedOver
    }
}

/// What the policy needs to know of an employee being acted upon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmployeeFacts {
    /// Who.
    pub user_id: UserId,
    /// The employing company.
    pub company_id: CompanyId,
    /// The role held now.
    pub role: Role,
    /// Disabled employees cannot sign in or be assigned sites.
    pub active: bool,
    /// Whether this is the company's only active Installer Admin.
    pub last_active_admin: bool,
}

/// Something an actor wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action<'a> {
    /// Read the company's information.
    ViewCompany(CompanyId),
    /// Change the company's information or logo.
    EditCompany(CompanyId),
    /// See the company's employees.
    ListEmployees(CompanyId),
    /// Add an employee with a role.
    AddEmployee {
        /// The company to add to.
        company_id: CompanyId,
        /// The role the new employee gets.
        role: Role,
    },
    /// Change an employee's name or e-mail.
    EditEmployee(&'a EmployeeFacts),
    /// Give an employee another role.
    ChangeRole {
        /// The employee.
        target: &'a EmployeeFacts,
        /// The new role.
        to: Role,
    },
    /// Disable or remove an employee.
    DisableEmployee(&'a EmployeeFacts),
    /// Enable a disabled employee again.
    EnableEmployee(&'a EmployeeFacts),
    /// Create a site in a company.
    CreateSite(CompanyId),
    /// See a site and its devices (R-10: handed over, an installer needs
    /// [`Permission::SiteInfo`]; the owner sees his or her own site).
    ViewSite(&'a SiteFacts),
    /// See a site's card — name, state, owner, authorization state — which an
    /// installer may always do, so as to apply for an authorization or remove the
    /// site. Lists follow the same rule ([`site_scope`]).
    ViewSiteSummary(&'a SiteFacts),
    /// Change a site's name, address or time zone (handed over: site_info).
    EditSite(&'a SiteFacts),
    /// Delete a site. Handed over, this removes it from the company's list only:
    /// the site and its devices stay with the owner (R-11, Installer Admin only).
    /// Refused while an owner invitation waits (R-16: the devices are the
    /// invitee's to delete from then on).
    DeleteSite(&'a SiteFacts),
    /// Assign, change or remove a site's Site Manager.
    AssignManager {
        /// The site.
        site: &'a SiteFacts,
        /// The new manager; `None` removes the assignment.
        manager: Option<&'a EmployeeFacts>,
    },
    /// Read a site's audit log (handed over: site_info; the owner too, R-37).
    ViewSiteAudit(&'a SiteFacts),
    /// Add a device to a site (R-6, R-14; handed over: site_info, R-12).
    AddDevice(&'a SiteFacts),
    /// Delete a device from a site (R-16: the Installer Admin and the Site Manager
    /// before the owner is invited, only the owner once handed over).
    DeleteDevice(&'a SiteFacts),
    /// Use a permission on a site, or on one of its devices: configure
    /// devices, watch live or recorded video, see health. Configuration, live view
    /// and playback are for the Installer Admin and the site's Site Manager;
    /// handed over, the permission must be granted (on that device) and in force.
    Operate {
        /// The site.
        site: &'a SiteFacts,
        /// What is done.
        permission: Permission,
        /// The device it is done to; `None` for the site as a whole.
        device: Option<DeviceId>,
    },
    /// See the health of a site's devices (R-23 to R-33; handed over:
    /// health_monitoring, R-10). For one device: `Operate` with that device.
    ViewHealth(&'a SiteFacts),
    /// Invite an end user to own the site.
    InviteOwner(&'a SiteFacts),
    /// Withdraw the site's owner invitation.
    WithdrawInvitation(&'a SiteFacts),
    /// Accept or decline an invitation to own a site: the invitee alone.
    AnswerInvitation {
        /// The end user invited.
        invitee: UserId,
    },
    /// Apply for a site authorization.
    ApplyAuthorization(&'a SiteFacts),
    /// End the company's authorization early, or withdraw its application.
    ReleaseAuthorization(&'a SiteFacts),
    /// Approve (perhaps for a shorter time) or reject an application: the owner.
    AnswerAuthorization(&'a SiteFacts),
    /// Cancel an installer's authorization: the owner, at any time.
    CancelAuthorization(&'a SiteFacts),
    /// Add an existing site to a company by its Site ID.
    ClaimSite(CompanyId),
    /// Confirm or decline a company's claim of the site: the owner.
    AnswerClaim(&'a SiteFacts),
    /// See the site's alarms: the owner.
    ViewAlarms(&'a SiteFacts),
    /// Acknowledge an alarm of the site: the owner.
    AcknowledgeAlarm(&'a SiteFacts),
    /// Issue authentication codes to installation companies.
    IssueAuthCodes,
    /// See, create, change or delete the company's exception rules.
    ManageExceptionRules(CompanyId),
}

/// Why an action was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The thing is not visible to the actor: answer as if it did not exist.
    NotFound,
    /// The thing is visible but this rule forbids the action.
    Forbidden(Rule),
}

/// The rules that refuse visible actions. Each has a stable code for API clients
/// and a sentence for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// only the Installer Admin edits the company.
    InstallerAdminOnly,
    /// employees and site assignment belong to Installer Admins and IT Managers.
    AdminOrItManagerOnly,
    /// Only an Installer Admin may create, change or remove Installer Admins.
    OnlyAdminManagesAdmins,
    /// The last active Installer Admin cannot be demoted or disabled.
    LastInstallerAdmin,
    /// Nobody disables his or her own account.
    NotYourself,
    /// a site's manager must be an active Site Manager of the company.
    ManagerMustBeSiteManager,
    /// a site's devices are managed by the Installer Admin and its Site Manager.
    DeviceManagersOnly,
    /// once the owner is invited, only the end user deletes devices.
    OnlyOwnerDeletesDevices,
    /// The work is for installation companies' employees.
    InstallersOnly,
    /// The work is for platform operators.
    OperatorsOnly,
    /// after hand-over the installer needs the owner's authorization, in
    /// force now, with this permission (on this device).
    AuthorizationRequired(Permission),
    /// this is the site owner's decision.
    OwnerOnly,
    /// handing a site over and asking its owner for authorization belong
    /// to the Installer Admin and the site's Site Manager.
    ResponsibleInstallersOnly,
    /// only an Installer Admin removes a handed-over site from the list.
    OnlyAdminRemovesHandedOverSite,
    /// only an Installer Admin adds an existing site by its Site ID.
    OnlyAdminClaimsSites,
    /// while an owner invitation waits, the site cannot be deleted.
    WithdrawInvitationFirst,
}

impl Rule {
    /// The stable machine-readable code.
    pub fn code(self) -> &'static str {
        match self {
            Rule::InstallerAdminOnly => "policy.installer_admin_only",
            Rule::AdminOrItManagerOnly => "policy.admin_or_it_manager_only",
            Rule::OnlyAdminManagesAdmins => "policy.only_admin_manages_admins",
            Rule::LastInstallerAdmin => "policy.last_installer_admin",
            Rule::NotYourself => "policy.not_yourself",
            Rule::ManagerMustBeSiteManager => "policy.manager_must_be_site_manager",
            Rule::DeviceManagersOnly => "policy.device_managers_only",
            Rule::OnlyOwnerDeletesDevices => "policy.only_owner_deletes_devices",
            Rule::InstallersOnly => "policy.installers_only",
            Rule::OperatorsOnly => "policy.operators_only",
            Rule::AuthorizationRequired(_) => "policy.authorization_required",
            Rule::OwnerOnly => "policy.owner_only",
            Rule::ResponsibleInstallersOnly => "policy.responsible_installers_only",
            Rule::OnlyAdminRemovesHandedOverSite => "policy.only_admin_removes_handed_over_site",
            Rule::OnlyAdminClaimsSites => "policy.only_admin_claims_sites",
            Rule::WithdrawInvitationFirst => "policy.withdraw_invitation_first",
        }
    }

    /// The permission whose authorization is missing, for a refusal that says so
    /// (API clients offer to apply for it).
    pub fn missing_permission(self) -> Option<Permission> {
        match self {
            Rule::AuthorizationRequired(p) => Some(p),
            _ => None,
        }
    }

    /// The sentence shown to the person refused.
    pub fn text(self) -> &'static str {
        match self {
            Rule::InstallerAdminOnly => {
                "Only an Installer Admin may change the company's information."
            }
            Rule::AdminOrItManagerOnly => "Only an Installer Admin or an IT Manager may do this.",
            Rule::OnlyAdminManagesAdmins => {
                "Only an Installer Admin may create, change or remove an Installer Admin."
            }
            Rule::LastInstallerAdmin => {
                "The company's last active Installer Admin cannot be demoted or disabled; make someone else Installer Admin first."
            }
            Rule::NotYourself => "You cannot disable your own account.",
            Rule::ManagerMustBeSiteManager => {
                "A site can only be assigned to an active employee with the Site Manager role."
            }
            Rule::DeviceManagersOnly => {
                "Only the Installer Admin and the site's Site Manager manage its devices."
            }
            Rule::OnlyOwnerDeletesDevices => {
                "The site's owner has been invited: only the owner can delete its devices now, from the end-user app."
            }
            Rule::InstallersOnly => "This is for installation companies' employees.",
            Rule::OperatorsOnly => "This is for platform operators.",
            Rule::AuthorizationRequired(Permission::SiteInfo) => {
                "This site has been handed over to its owner: managing its information and devices needs an authorization with the Site information permission, approved by the owner and not expired. Apply for one."
            }
            Rule::AuthorizationRequired(Permission::Configuration) => {
                "This site has been handed over to its owner: configuring its devices needs an authorization with the Configuration permission for them, approved by the owner and not expired. Apply for one."
            }
            Rule::AuthorizationRequired(Permission::LiveView) => {
                "This site has been handed over to its owner: live view needs an authorization with the Live view permission for the device, approved by the owner and not expired. Apply for one."
            }
            Rule::AuthorizationRequired(Permission::Playback) => {
                "This site has been handed over to its owner: playback needs an authorization with the Playback permission for the device, approved by the owner and not expired. Apply for one."
            }
            Rule::AuthorizationRequired(Permission::HealthMonitoring) => {
                "This site has been handed over to its owner: its health data needs an authorization with the Health monitoring permission, approved by the owner and not expired. Apply for one."
            }
            Rule::OwnerOnly => "Only the site's owner can do this, in the end-user app.",
            Rule::ResponsibleInstallersOnly => {
                "Only the Installer Admin and the site's Site Manager may hand the site over or ask its owner for an authorization."
            }
            Rule::OnlyAdminRemovesHandedOverSite => {
                "Only an Installer Admin may remove a handed-over site from the company's list; the site and its devices stay with the owner."
            }
            Rule::OnlyAdminClaimsSites => {
                "Only an Installer Admin may add an existing site by its Site ID."
            }
            Rule::WithdrawInvitationFirst => {
                "An owner has been invited to this site: withdraw the invitation before deleting the site."
            }
        }
    }
}

/// Which sites an actor sees in lists; the store turns this into its query so lists
/// and single reads follow the same rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiteScope {
    /// Every site of the company.
    Company(CompanyId),
    /// Only the sites of the company assigned to this Site Manager.
    ManagedBy(CompanyId, UserId),
    /// None at all.
    Nothing,
}

/// The sites `actor` may see as an installer; end users' sites are
/// [`owned_sites`].
pub fn site_scope(actor: &Actor) -> SiteScope {
    match actor {
        Actor::Installer(i) if i.role == Role::SiteManager => {
            SiteScope::ManagedBy(i.company_id, i.user_id)
        }
        Actor::Installer(i) => SiteScope::Company(i.company_id),
        Actor::EndUser(_) | Actor::Operator(_) => SiteScope::Nothing,
    }
}

/// The owner whose sites an end user's lists contain (`GET /me/sites`, R-34).
pub fn owned_sites(actor: &Actor) -> Option<UserId> {
    match actor {
        Actor::EndUser(id) => Some(*id),
        Actor::Installer(_) | Actor::Operator(_) => None,
    }
}

/// whether health data of the site (or one of its devices) may be collected
/// at all: always before hand-over; afterwards only while the managing company
/// holds the health-monitoring permission for it. The scheduler asks this.
pub fn collects_health(site: &SiteFacts, device: Option<DeviceId>) -> bool {
    site.company_id.is_some()
        && (!site.is_handed_over() || site.access.covers(Permission::HealthMonitoring, device))
}

/// who receives the site's alarms — its owner, once handed over.
pub fn alarm_recipient(site: &SiteFacts) -> Option<UserId> {
    site.owner_id.filter(|_| site.is_handed_over())
}

fn sees_site(i: &Installer, site: &SiteFacts) -> bool {
    match site_scope(&Actor::Installer(*i)) {
        SiteScope::Company(c) => site.company_id == Some(c),
        SiteScope::ManagedBy(c, u) => site.company_id == Some(c) && site.manager_id == Some(u),
        SiteScope::Nothing => false,
    }
}

/// after hand-over, an installer operation needs `permission` (on `device`)
/// from an authorization in force.
fn authorized(
    site: &SiteFacts,
    permission: Permission,
    device: Option<DeviceId>,
) -> Result<(), Refusal> {
    if !site.is_handed_over() {
        return Ok(());
    }
    require(
        site.access.covers(permission, device),
        Rule::AuthorizationRequired(permission),
    )
}

/// which installers may use a permission at all (authorization aside).
fn may_use(inst: &Installer, site: &SiteFacts, permission: Permission) -> Result<(), Refusal> {
    match permission {
        Permission::SiteInfo | Permission::HealthMonitoring => Ok(()),
        Permission::Configuration | Permission::LiveView | Permission::Playback => {
            require(manages_devices(inst, site), Rule::DeviceManagersOnly)
        }
    }
}

/// End users act on the sites they own; everything else is invisible to them.
fn authorize_end_user(me: UserId, action: Action<'_>) -> Result<(), Refusal> {
    let owns = |s: &SiteFacts| visible(s.owner_id == Some(me));
    match action {
        Action::IssueAuthCodes => Err(Refusal::Forbidden(Rule::OperatorsOnly)),
        // the owner's own site.
        Action::ViewSite(s)
        | Action::ViewSiteSummary(s)
        | Action::ViewSiteAudit(s)
        | Action::ViewHealth(s)
        | Action::Operate { site: s, .. }
        | Action::DeleteDevice(s)
        | Action::AnswerAuthorization(s)
        | Action::CancelAuthorization(s)
        | Action::AnswerClaim(s)
        | Action::ViewAlarms(s)
        | Action::AcknowledgeAlarm(s) => owns(s),
        // only the invitee answers.
        Action::AnswerInvitation { invitee } => visible(invitee == me),
        // The installer's side of the owner's own site.
        Action::EditSite(s)
        | Action::DeleteSite(s)
        | Action::AddDevice(s)
        | Action::AssignManager { site: s, .. }
        | Action::InviteOwner(s)
        | Action::WithdrawInvitation(s)
        | Action::ApplyAuthorization(s)
        | Action::ReleaseAuthorization(s) => {
            owns(s)?;
            Err(Refusal::Forbidden(Rule::InstallersOnly))
        }
        // Company data is invisible to everyone outside the company.
        Action::ViewCompany(_)
        | Action::EditCompany(_)
        | Action::ListEmployees(_)
        | Action::AddEmployee { .. }
        | Action::EditEmployee(_)
        | Action::ChangeRole { .. }
        | Action::DisableEmployee(_)
        | Action::EnableEmployee(_)
        | Action::CreateSite(_)
        | Action::ManageExceptionRules(_)
        | Action::ClaimSite(_) => Err(Refusal::NotFound),
    }
}

fn require(ok: bool, rule: Rule) -> Result<(), Refusal> {
    if ok {
        Ok(())
    } else {
        Err(Refusal::Forbidden(rule))
    }
}

fn visible(ok: bool) -> Result<(), Refusal> {
    if ok { Ok(()) } else { Err(Refusal::NotFound) }
}

fn is_manager_role(role: Role) -> bool {
    matches!(role, Role::InstallerAdmin | Role::ItManager)
}

/// Decides whether `actor` may perform `action`.
pub fn authorize(actor: &Actor, action: Action<'_>) -> Result<(), Refusal> {
    let inst = match (actor, action) {
        (Actor::Operator(_), Action::IssueAuthCodes) => return Ok(()),
        (_, Action::IssueAuthCodes) => return Err(Refusal::Forbidden(Rule::OperatorsOnly)),
        (Actor::Installer(i), _) => i,
        (Actor::EndUser(me), _) => return authorize_end_user(*me, action),
        // Company data is invisible to everyone outside the company.
        (Actor::Operator(_), _) => return Err(Refusal::NotFound),
    };
    let own = |c: CompanyId| visible(c == inst.company_id);
    match action {
        Action::IssueAuthCodes => Err(Refusal::Forbidden(Rule::OperatorsOnly)),
        Action::ViewCompany(c) => own(c),
        Action::EditCompany(c) => {
            own(c)?;
            require(inst.role == Role::InstallerAdmin, Rule::InstallerAdminOnly)
        }
        Action::ListEmployees(c) => {
            own(c)?;
            require(is_manager_role(inst.role), Rule::AdminOrItManagerOnly)
        }
        Action::AddEmployee { company_id, role } => {
            own(company_id)?;
            require(is_manager_role(inst.role), Rule::AdminOrItManagerOnly)?;
            require(
                role != Role::InstallerAdmin || inst.role == Role::InstallerAdmin,
                Rule::OnlyAdminManagesAdmins,
            )
        }
        Action::EditEmployee(t) | Action::EnableEmployee(t) => {
            own(t.company_id)?;
            manage_employee(inst, t)
        }
        Action::ChangeRole { target, to } => {
            own(target.company_id)?;
            manage_employee(inst, target)?;
            require(
                to != Role::InstallerAdmin || inst.role == Role::InstallerAdmin,
                Rule::OnlyAdminManagesAdmins,
            )?;
            let demotes_last = target.role == Role::InstallerAdmin
                && to != Role::InstallerAdmin
                && target.last_active_admin;
            require(!demotes_last, Rule::LastInstallerAdmin)
        }
        Action::DisableEmployee(t) => {
            own(t.company_id)?;
            manage_employee(inst, t)?;
            require(t.user_id != inst.user_id, Rule::NotYourself)?;
            require(
                !(t.role == Role::InstallerAdmin && t.last_active_admin),
                Rule::LastInstallerAdmin,
            )
        }
        Action::CreateSite(c) => own(c),
        Action::ManageExceptionRules(c) => {
            own(c)?;
            require(is_manager_role(inst.role), Rule::AdminOrItManagerOnly)
        }
        // the card stays visible without authorization.
        Action::ViewSiteSummary(s) => visible(sees_site(inst, s)),
        // handed over, the site's information needs site_info.
        Action::ViewSite(s) | Action::EditSite(s) | Action::ViewSiteAudit(s) => {
            visible(sees_site(inst, s))?;
            authorized(s, Permission::SiteInfo, None)
        }
        Action::DeleteSite(s) => {
            visible(sees_site(inst, s))?;
            match s.state {
                SiteState::Managed => {
                    require(is_manager_role(inst.role), Rule::AdminOrItManagerOnly)
                }
                // from the invitation on, the devices are not the installer's
                // to delete — nor, with them, the site.
                SiteState::OwnerInvited => {
                    require(is_manager_role(inst.role), Rule::AdminOrItManagerOnly)?;
                    Err(Refusal::Forbidden(Rule::WithdrawInvitationFirst))
                }
                // removing it from the list is always possible, for an
                // Installer Admin, authorization or not.
                SiteState::HandedOver => require(
                    inst.role == Role::InstallerAdmin,
                    Rule::OnlyAdminRemovesHandedOverSite,
                ),
            }
        }
        Action::AddDevice(s) => {
            visible(sees_site(inst, s))?;
            require(manages_devices(inst, s), Rule::DeviceManagersOnly)?;
            // bringing devices under management of a handed-over site.
            authorized(s, Permission::SiteInfo, None)
        }
        //
        Action::Operate {
            site,
            permission,
            device,
        } => {
            visible(sees_site(inst, site))?;
            may_use(inst, site, permission)?;
            authorized(site, permission, device)
        }
        // handed-over health is shown only with health_monitoring.
        Action::ViewHealth(s) => {
            visible(sees_site(inst, s))?;
            authorized(s, Permission::HealthMonitoring, None)
        }
        // the Installer Admin and the site's Site Manager; whether the
        // site's state allows the step is `crate::handover`'s to say.
        Action::InviteOwner(s)
        | Action::WithdrawInvitation(s)
        | Action::ApplyAuthorization(s)
        | Action::ReleaseAuthorization(s) => {
            visible(sees_site(inst, s))?;
            require(manages_devices(inst, s), Rule::ResponsibleInstallersOnly)
        }
        // invitations are the invitee's.
        Action::AnswerInvitation { .. } => Err(Refusal::NotFound),
        // the owner's decisions and alarms.
        Action::AnswerAuthorization(s)
        | Action::CancelAuthorization(s)
        | Action::AnswerClaim(s)
        | Action::ViewAlarms(s)
        | Action::AcknowledgeAlarm(s) => {
            visible(sees_site(inst, s))?;
            Err(Refusal::Forbidden(Rule::OwnerOnly))
        }
        // the claiming company's Installer Admin.
        Action::ClaimSite(c) => {
            own(c)?;
            require(
                inst.role == Role::InstallerAdmin,
                Rule::OnlyAdminClaimsSites,
            )
        }
        Action::DeleteDevice(s) => {
            visible(sees_site(inst, s))?;
            require(manages_devices(inst, s), Rule::DeviceManagersOnly)?;
            require(s.state == SiteState::Managed, Rule::OnlyOwnerDeletesDevices)
        }
        Action::AssignManager { site, manager } => {
            visible(sees_site(inst, site))?;
            require(is_manager_role(inst.role), Rule::AdminOrItManagerOnly)?;
            match manager {
                None => Ok(()),
                Some(m) => {
                    // Another company's employee is as invisible as any of its data.
                    visible(m.company_id == inst.company_id)?;
                    require(
                        m.role == Role::SiteManager && m.active,
                        Rule::ManagerMustBeSiteManager,
                    )
                }
            }
        }
    }
}

/// the Installer Admin and the site's own Site Manager manage its devices.
fn manages_devices(inst: &Installer, site: &SiteFacts) -> bool {
    inst.role == Role::InstallerAdmin
        || (inst.role == Role::SiteManager && site.manager_id == Some(inst.user_id))
}

/// Changing an employee is for Installer Admins and IT Managers, and only an
/// Installer Admin touches an Installer Admin.
fn manage_employee(inst: &Installer, target: &EmployeeFacts) -> Result<(), Refusal> {
    require(is_manager_role(inst.role), Rule::AdminOrItManagerOnly)?;
    require(
        target.role != Role::InstallerAdmin || inst.role == Role::InstallerAdmin,
        Rule::OnlyAdminManagesAdmins,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    use Refusal::{Forbidden, NotFound};
    use Role::{InstallerAdmin as Admin, ItManager as It, SiteManager as Sm};

    const OK: Result<(), Refusal> = Ok(());

    fn uid(n: u128) -> UserId {
        UserId(Uuid::from_u128(n))
    }
    fn cid(n: u128) -> CompanyId {
        CompanyId(Uuid::from_u128(n))
    }
    fn installer(role: Role) -> Actor {
        Actor::Installer(Installer {
            user_id: uid(1),
            company_id: cid(1),
            role,
        })
    }
    fn site(company: u128, manager: Option<u128>) -> SiteFacts {
        SiteFacts::new(cid(company), manager.map(uid), SiteState::Managed)
    }
    fn employee(id: u128, company: u128, role: Role, active: bool, last: bool) -> EmployeeFacts {
        EmployeeFacts {
            user_id: uid(id),
            company_id: cid(company),
            role,
            active,
            last_active_admin: last,
        }
    }

    /// company and employee rules as a table.
    #[test]
    fn company_and_employee_table() {
        let other_admin = employee(2, 1, Admin, true, false);
        let last_admin = employee(2, 1, Admin, true, true);
        let me_admin = employee(1, 1, Admin, true, false);
        let sm = employee(3, 1, Sm, true, false);
        let foreign_sm = employee(4, 2, Sm, true, false);
        let cases: Vec<(Role, Action, Result<(), Refusal>)> = vec![
            (Admin, Action::ViewCompany(cid(1)), OK),
            (Sm, Action::ViewCompany(cid(1)), OK),
            (Admin, Action::ViewCompany(cid(2)), Err(NotFound)),
            (Admin, Action::EditCompany(cid(1)), OK),
            (
                It,
                Action::EditCompany(cid(1)),
                Err(Forbidden(Rule::InstallerAdminOnly)),
            ),
            (
                Sm,
                Action::EditCompany(cid(1)),
                Err(Forbidden(Rule::InstallerAdminOnly)),
            ),
            (Admin, Action::EditCompany(cid(2)), Err(NotFound)),
            (It, Action::ListEmployees(cid(1)), OK),
            (Admin, Action::ManageExceptionRules(cid(1)), OK),
            (It, Action::ManageExceptionRules(cid(1)), OK),
            (
                Sm,
                Action::ManageExceptionRules(cid(1)),
                Err(Forbidden(Rule::AdminOrItManagerOnly)),
            ),
            (Admin, Action::ManageExceptionRules(cid(2)), Err(NotFound)),
            (
                Sm,
                Action::ListEmployees(cid(1)),
                Err(Forbidden(Rule::AdminOrItManagerOnly)),
            ),
            (It, Action::ListEmployees(cid(2)), Err(NotFound)),
            (
                Admin,
                Action::AddEmployee {
                    company_id: cid(1),
                    role: Admin,
                },
                OK,
            ),
            (
                It,
                Action::AddEmployee {
                    company_id: cid(1),
                    role: Sm,
                },
                OK,
            ),
            (
                It,
                Action::AddEmployee {
                    company_id: cid(1),
                    role: It,
                },
                OK,
            ),
            (
                It,
                Action::AddEmployee {
                    company_id: cid(1),
                    role: Admin,
                },
                Err(Forbidden(Rule::OnlyAdminManagesAdmins)),
            ),
            (
                Sm,
                Action::AddEmployee {
                    company_id: cid(1),
                    role: Sm,
                },
                Err(Forbidden(Rule::AdminOrItManagerOnly)),
            ),
            (
                Admin,
                Action::AddEmployee {
                    company_id: cid(2),
                    role: Sm,
                },
                Err(NotFound),
            ),
            (
                Admin,
                Action::ChangeRole {
                    target: &sm,
                    to: It,
                },
                OK,
            ),
            (
                It,
                Action::ChangeRole {
                    target: &sm,
                    to: It,
                },
                OK,
            ),
            (
                It,
                Action::ChangeRole {
                    target: &sm,
                    to: Admin,
                },
                Err(Forbidden(Rule::OnlyAdminManagesAdmins)),
            ),
            (
                It,
                Action::ChangeRole {
                    target: &other_admin,
                    to: Sm,
                },
                Err(Forbidden(Rule::OnlyAdminManagesAdmins)),
            ),
            (
                Admin,
                Action::ChangeRole {
                    target: &other_admin,
                    to: Sm,
                },
                OK,
            ),
            (
                Admin,
                Action::ChangeRole {
                    target: &last_admin,
                    to: Sm,
                },
                Err(Forbidden(Rule::LastInstallerAdmin)),
            ),
            (
                Admin,
                Action::ChangeRole {
                    target: &last_admin,
                    to: Admin,
                },
                OK,
            ),
            (
                Admin,
                Action::ChangeRole {
                    target: &foreign_sm,
                    to: It,
                },
                Err(NotFound),
            ),
            (
                Sm,
                Action::ChangeRole {
                    target: &sm,
                    to: It,
                },
                Err(Forbidden(Rule::AdminOrItManagerOnly)),
            ),
            (Admin, Action::DisableEmployee(&sm), OK),
            (It, Action::DisableEmployee(&sm), OK),
            (
                It,
                Action::DisableEmployee(&other_admin),
                Err(Forbidden(Rule::OnlyAdminManagesAdmins)),
            ),
            (
                Admin,
                Action::DisableEmployee(&last_admin),
                Err(Forbidden(Rule::LastInstallerAdmin)),
            ),
            (
                Admin,
                Action::DisableEmployee(&me_admin),
                Err(Forbidden(Rule::NotYourself)),
            ),
            (Admin, Action::DisableEmployee(&foreign_sm), Err(NotFound)),
            (It, Action::EditEmployee(&sm), OK),
            (
                It,
                Action::EnableEmployee(&other_admin),
                Err(Forbidden(Rule::OnlyAdminManagesAdmins)),
            ),
            (
                Admin,
                Action::IssueAuthCodes,
                Err(Forbidden(Rule::OperatorsOnly)),
            ),
        ];
        for (i, (role, action, expected)) in cases.into_iter().enumerate() {
            assert_eq!(
                authorize(&installer(role), action),
                expected,
                "case {i}: {role:?} {action:?}"
            );
        }
    }

    /// site rules as a table. The actor is user 1 of company 1.
    #[test]
    fn site_table() {
        let mine = site(1, Some(1));
        let colleague = site(1, Some(9));
        let unassigned = site(1, None);
        let foreign = site(2, None);
        let sm = employee(3, 1, Sm, true, false);
        let disabled_sm = employee(3, 1, Sm, false, false);
        let it = employee(5, 1, It, true, false);
        let foreign_sm = employee(4, 2, Sm, true, false);
        let assign = |s, m| Action::AssignManager {
            site: s,
            manager: m,
        };
        let cases: Vec<(Role, Action, Result<(), Refusal>)> = vec![
            (Admin, Action::CreateSite(cid(1)), OK),
            (Sm, Action::CreateSite(cid(1)), OK),
            (Admin, Action::CreateSite(cid(2)), Err(NotFound)),
            (Admin, Action::ViewSite(&colleague), OK),
            (It, Action::ViewSite(&unassigned), OK),
            (Sm, Action::ViewSite(&mine), OK),
            (Sm, Action::ViewSite(&colleague), Err(NotFound)),
            (Sm, Action::ViewSite(&unassigned), Err(NotFound)),
            (Admin, Action::ViewSite(&foreign), Err(NotFound)),
            (Sm, Action::EditSite(&mine), OK),
            (Sm, Action::EditSite(&colleague), Err(NotFound)),
            (Sm, Action::ViewSiteAudit(&mine), OK),
            (It, Action::ViewSiteAudit(&foreign), Err(NotFound)),
            (Admin, Action::DeleteSite(&mine), OK),
            (It, Action::DeleteSite(&colleague), OK),
            (
                Sm,
                Action::DeleteSite(&mine),
                Err(Forbidden(Rule::AdminOrItManagerOnly)),
            ),
            (Sm, Action::DeleteSite(&colleague), Err(NotFound)),
            (Admin, assign(&unassigned, Some(&sm)), OK),
            (It, assign(&colleague, Some(&sm)), OK),
            (It, assign(&colleague, None), OK),
            (
                Sm,
                assign(&mine, Some(&sm)),
                Err(Forbidden(Rule::AdminOrItManagerOnly)),
            ),
            (Sm, assign(&colleague, Some(&sm)), Err(NotFound)),
            (
                Admin,
                assign(&unassigned, Some(&disabled_sm)),
                Err(Forbidden(Rule::ManagerMustBeSiteManager)),
            ),
            (
                Admin,
                assign(&unassigned, Some(&it)),
                Err(Forbidden(Rule::ManagerMustBeSiteManager)),
            ),
            (Admin, assign(&unassigned, Some(&foreign_sm)), Err(NotFound)),
            (Admin, assign(&foreign, Some(&sm)), Err(NotFound)),
        ];
        for (i, (role, action, expected)) in cases.into_iter().enumerate() {
            assert_eq!(
                authorize(&installer(role), action),
                expected,
                "case {i}: {role:?} {action:?}"
            );
        }
    }

    /// who adds and deletes devices, before and after the owner is invited.
    #[test]
    fn device_table() {
        let mine = site(1, Some(1));
        let colleague = site(1, Some(9));
        let invited = SiteFacts {
            state: SiteState::OwnerInvited,
            ..mine.clone()
        };
        let handed = SiteFacts {
            state: SiteState::HandedOver,
            ..mine.clone()
        };
        let foreign = site(2, Some(1));
        let cases: Vec<(Role, Action, Result<(), Refusal>)> = vec![
            (Admin, Action::AddDevice(&colleague), OK),
            (Sm, Action::AddDevice(&mine), OK),
            (Sm, Action::AddDevice(&colleague), Err(NotFound)),
            (
                It,
                Action::AddDevice(&mine),
                Err(Forbidden(Rule::DeviceManagersOnly)),
            ),
            (Admin, Action::AddDevice(&foreign), Err(NotFound)),
            (Admin, Action::DeleteDevice(&mine), OK),
            (Sm, Action::DeleteDevice(&mine), OK),
            (
                It,
                Action::DeleteDevice(&mine),
                Err(Forbidden(Rule::DeviceManagersOnly)),
            ),
            (
                Sm,
                Action::DeleteDevice(&invited),
                Err(Forbidden(Rule::OnlyOwnerDeletesDevices)),
            ),
            (
                Admin,
                Action::DeleteDevice(&handed),
                Err(Forbidden(Rule::OnlyOwnerDeletesDevices)),
            ),
            (Sm, Action::DeleteDevice(&colleague), Err(NotFound)),
            // handed over, adding a device needs site_info (see handover_table).
            (
                Admin,
                Action::AddDevice(&handed),
                Err(Forbidden(Rule::AuthorizationRequired(Permission::SiteInfo))),
            ),
        ];
        for (i, (role, action, expected)) in cases.into_iter().enumerate() {
            assert_eq!(
                authorize(&installer(role), action),
                expected,
                "case {i}: {role:?} {action:?}"
            );
        }
    }

    #[test]
    fn outsiders_see_no_company_data() {
        let s = site(1, None);
        for actor in [Actor::EndUser(uid(1)), Actor::Operator(uid(1))] {
            assert_eq!(
                authorize(&actor, Action::ViewCompany(cid(1))),
                Err(NotFound)
            );
            assert_eq!(authorize(&actor, Action::ViewSite(&s)), Err(NotFound));
            assert_eq!(site_scope(&actor), SiteScope::Nothing);
        }
        assert_eq!(
            authorize(&Actor::Operator(uid(1)), Action::IssueAuthCodes),
            OK
        );
        assert_eq!(
            authorize(&Actor::EndUser(uid(1)), Action::IssueAuthCodes),
            Err(Forbidden(Rule::OperatorsOnly))
        );
    }

    #[test]
    fn scopes_follow_roles() {
        assert_eq!(site_scope(&installer(Admin)), SiteScope::Company(cid(1)));
        assert_eq!(site_scope(&installer(It)), SiteScope::Company(cid(1)));
        assert_eq!(
            site_scope(&installer(Sm)),
            SiteScope::ManagedBy(cid(1), uid(1))
        );
    }

    // ---- hand-over (R-8 to) ----------------------------------

    mod handover {
        use super::*;
        use crate::handover::{
            Authorization, AuthorizationRequest, DeviceScope, GrantDuration, HOUR_MS,
            NewAuthorization, PermissionSet,
        };
        use crate::{AuthorizationId, DeviceId, Millis, SiteId};
        use Permission::*;
        use proptest::prelude::*;

        const T0: Millis = 1_700_000_000_000;
        const END: Millis = T0 + HOUR_MS;
        const OWNER: u128 = 9;

        fn did(n: u128) -> DeviceId {
            DeviceId(Uuid::from_u128(n))
        }
        fn site_id() -> SiteId {
            SiteId(Uuid::from_u128(77))
        }
        fn inst(user: u128, company: u128, role: Role) -> Actor {
            Actor::Installer(Installer {
                user_id: uid(user),
                company_id: cid(company),
                role,
            })
        }

        /// Company 1's authorization on the site, approved at `T0` for `duration`.
        fn grant(perms: &[Permission], devices: DeviceScope, d: GrantDuration) -> Authorization {
            let mut a = Authorization::pending(
                NewAuthorization {
                    id: AuthorizationId(Uuid::from_u128(1)),
                    site_id: site_id(),
                    company_id: cid(1),
                    requested_by: uid(1),
                    request: AuthorizationRequest::new(PermissionSet::of(perms), devices, d, None)
                        .expect("request"),
                },
                T0,
            );
            a.approve(T0, None).expect("approve");
            a
        }

        /// Company 1's site managed by Site Manager 3; handed over to user 9, with
        /// company 1's access at `now` from `auths`.
        fn facts(state: SiteState, auths: &[Authorization], now: Millis) -> SiteFacts {
            let owner = (state == SiteState::HandedOver).then(|| uid(OWNER));
            SiteFacts::new(cid(1), Some(uid(3)), state)
                .with_owner(owner)
                .with_access(crate::handover::Access::at(site_id(), cid(1), auths, now))
        }

        fn required(p: Permission) -> Result<(), Refusal> {
            Err(Forbidden(Rule::AuthorizationRequired(p)))
        }

        /// installer operations on a handed-over site, by permission and
        /// instant; the authorization grants live view and health monitoring on
        /// device 1 for an hour from `T0`.
        #[test]
        fn authorization_table() {
            use SiteState::*;
            let cam1 = DeviceScope::only([did(1)]).expect("devices");
            let auths = [grant(
                &[LiveView, HealthMonitoring],
                cam1,
                GrantDuration::OneHour,
            )];
            let admin = inst(1, 1, Admin);
            let it = inst(2, 1, It);
            let sm = inst(3, 1, Sm);
            type Case = (
                Actor,
                SiteState,
                Millis,
                Permission,
                Option<u128>,
                Result<(), Refusal>,
            );
            let cases: Vec<Case> = vec![
                // Before hand-over no authorization is asked for.
                (admin, Managed, END + 1, Configuration, None, OK),
                (sm, OwnerInvited, END + 1, Playback, Some(2), OK),
                (it, Managed, T0, HealthMonitoring, None, OK),
                // R-6 still decides who touches devices at all.
                (
                    it,
                    Managed,
                    T0,
                    LiveView,
                    Some(1),
                    Err(Forbidden(Rule::DeviceManagersOnly)),
                ),
                (
                    it,
                    HandedOver,
                    T0,
                    LiveView,
                    Some(1),
                    Err(Forbidden(Rule::DeviceManagersOnly)),
                ),
                // Handed over: the permission, on the device, until the exact end.
                (admin, HandedOver, T0, LiveView, Some(1), OK),
                (sm, HandedOver, END - 1, LiveView, Some(1), OK),
                (sm, HandedOver, END, LiveView, Some(1), required(LiveView)),
                (
                    sm,
                    HandedOver,
                    END + 1,
                    LiveView,
                    Some(1),
                    required(LiveView),
                ),
                (sm, HandedOver, T0, LiveView, Some(2), required(LiveView)),
                (sm, HandedOver, T0, LiveView, None, OK),
                (sm, HandedOver, T0, Playback, Some(1), required(Playback)),
                (
                    admin,
                    HandedOver,
                    T0,
                    Configuration,
                    Some(1),
                    required(Configuration),
                ),
                (it, HandedOver, T0, SiteInfo, None, required(SiteInfo)),
                (it, HandedOver, END - 1, HealthMonitoring, Some(1), OK),
                (
                    it,
                    HandedOver,
                    END,
                    HealthMonitoring,
                    Some(1),
                    required(HealthMonitoring),
                ),
                (
                    it,
                    HandedOver,
                    T0,
                    HealthMonitoring,
                    Some(2),
                    required(HealthMonitoring),
                ),
                // Another company, or an unassigned Site Manager, sees nothing.
                (
                    inst(5, 2, Admin),
                    HandedOver,
                    T0,
                    LiveView,
                    Some(1),
                    Err(NotFound),
                ),
                (
                    inst(4, 1, Sm),
                    HandedOver,
                    T0,
                    LiveView,
                    Some(1),
                    Err(NotFound),
                ),
                // The owner uses his or her own devices without authorization.
                (
                    Actor::EndUser(uid(OWNER)),
                    HandedOver,
                    END + 1,
                    Configuration,
                    Some(2),
                    OK,
                ),
                (
                    Actor::EndUser(uid(8)),
                    HandedOver,
                    T0,
                    LiveView,
                    Some(1),
                    Err(NotFound),
                ),
                (
                    Actor::Operator(uid(10)),
                    HandedOver,
                    T0,
                    LiveView,
                    Some(1),
                    Err(NotFound),
                ),
            ];
            for (i, (actor, state, now, permission, device, expected)) in
                cases.into_iter().enumerate()
            {
                let site = facts(state, &auths, now);
                let action = Action::Operate {
                    site: &site,
                    permission,
                    device: device.map(did),
                };
                assert_eq!(
                    authorize(&actor, action),
                    expected,
                    "case {i}: {actor:?} {action:?} at {now}"
                );
            }
        }

        /// R-10, state × role × permission × expiry, exhaustively, against the
        /// rules stated once more: visibility → who → before
        /// hand-over nothing more, after it the permission on the device in force.
        #[test]
        fn authorization_cross_product() {
            let cam1 = || DeviceScope::only([did(1)]).expect("devices");
            let actors = [
                ("admin", inst(1, 1, Admin)),
                ("it", inst(2, 1, It)),
                ("sm", inst(3, 1, Sm)),
                ("other sm", inst(4, 1, Sm)),
                ("foreign admin", inst(5, 2, Admin)),
                ("owner", Actor::EndUser(uid(OWNER))),
                ("stranger", Actor::EndUser(uid(8))),
                ("operator", Actor::Operator(uid(10))),
            ];
            let instants = [T0, END - 1, END, END + 1];
            let mut checked = 0;
            for state in [
                SiteState::Managed,
                SiteState::OwnerInvited,
                SiteState::HandedOver,
            ] {
                for p in Permission::ALL {
                    let all_but_p: Vec<Permission> =
                        Permission::ALL.into_iter().filter(|q| *q != p).collect();
                    let grants: Vec<(&str, Vec<Authorization>)> = vec![
                        ("none", vec![]),
                        ("p 1h", vec![grant(&[p], cam1(), GrantDuration::OneHour)]),
                        (
                            "p permanent",
                            vec![grant(&[p], DeviceScope::All, GrantDuration::Permanent)],
                        ),
                        (
                            "others",
                            vec![grant(
                                &all_but_p,
                                DeviceScope::All,
                                GrantDuration::Permanent,
                            )],
                        ),
                    ];
                    for (gname, auths) in &grants {
                        for now in instants {
                            for device in [None, Some(did(1)), Some(did(2))] {
                                let site = facts(state, auths, now);
                                let covers = auths.iter().any(|a| a.covers(p, device, now));
                                for (name, actor) in &actors {
                                    let expected = match *name {
                                        "other sm" | "foreign admin" | "stranger" | "operator" => {
                                            Err(NotFound)
                                        }
                                        "owner" if state == SiteState::HandedOver => OK,
                                        "owner" => Err(NotFound),
                                        "it" if matches!(
                                            p,
                                            Configuration | LiveView | Playback
                                        ) =>
                                        {
                                            Err(Forbidden(Rule::DeviceManagersOnly))
                                        }
                                        _ if state != SiteState::HandedOver || covers => OK,
                                        _ => required(p),
                                    };
                                    let action = Action::Operate {
                                        site: &site,
                                        permission: p,
                                        device,
                                    };
                                    assert_eq!(
                                        authorize(actor, action),
                                        expected,
                                        "{name} {state:?} {p:?} grant {gname} at {now} on {device:?}"
                                    );
                                    checked += 1;
                                }
                            }
                        }
                    }
                }
            }
            assert_eq!(checked, 3 * 5 * 4 * 4 * 3 * 8);
        }

        /// every hand-over action by every kind of
        /// actor, on a site before, during and after hand-over, with no
        /// authorization at all.
        #[test]
        fn handover_action_table() {
            let managed = facts(SiteState::Managed, &[], T0);
            let invited = facts(SiteState::OwnerInvited, &[], T0);
            let handed = facts(SiteState::HandedOver, &[], T0);
            let sm_employee = employee(6, 1, Sm, true, false);
            let owner = Actor::EndUser(uid(OWNER));
            let stranger = Actor::EndUser(uid(8));
            let admin = inst(1, 1, Admin);
            let it = inst(2, 1, It);
            let sm = inst(3, 1, Sm);
            let foreign = inst(5, 2, Admin);
            let f = |r: Rule| Err(Forbidden(r));
            let cases: Vec<(Actor, Action, Result<(), Refusal>)> = vec![
                // The card is always visible to the company and the owner.
                (admin, Action::ViewSiteSummary(&handed), OK),
                (sm, Action::ViewSiteSummary(&handed), OK),
                (owner, Action::ViewSiteSummary(&handed), OK),
                (foreign, Action::ViewSiteSummary(&handed), Err(NotFound)),
                (stranger, Action::ViewSiteSummary(&handed), Err(NotFound)),
                // Site information needs site_info once handed over.
                (admin, Action::ViewSite(&invited), OK),
                (admin, Action::ViewSite(&handed), required(SiteInfo)),
                (sm, Action::EditSite(&handed), required(SiteInfo)),
                (it, Action::ViewSiteAudit(&handed), required(SiteInfo)),
                (owner, Action::ViewSite(&handed), OK),
                (owner, Action::ViewSiteAudit(&handed), OK),
                (stranger, Action::ViewSite(&handed), Err(NotFound)),
                (owner, Action::EditSite(&handed), f(Rule::InstallersOnly)),
                (sm, Action::AddDevice(&invited), OK),
                (sm, Action::AddDevice(&handed), required(SiteInfo)),
                (owner, Action::AddDevice(&handed), f(Rule::InstallersOnly)),
                // Health of a handed-over site needs health_monitoring.
                (it, Action::ViewHealth(&managed), OK),
                (sm, Action::ViewHealth(&invited), OK),
                (
                    admin,
                    Action::ViewHealth(&handed),
                    required(HealthMonitoring),
                ),
                (owner, Action::ViewHealth(&handed), OK),
                (foreign, Action::ViewHealth(&handed), Err(NotFound)),
                // installers delete devices until the owner is invited; then
                // only the owner does.
                (sm, Action::DeleteDevice(&managed), OK),
                (
                    admin,
                    Action::DeleteDevice(&invited),
                    f(Rule::OnlyOwnerDeletesDevices),
                ),
                (
                    admin,
                    Action::DeleteDevice(&handed),
                    f(Rule::OnlyOwnerDeletesDevices),
                ),
                (owner, Action::DeleteDevice(&handed), OK),
                (stranger, Action::DeleteDevice(&handed), Err(NotFound)),
                (
                    Actor::EndUser(uid(OWNER)),
                    Action::DeleteDevice(&invited),
                    Err(NotFound),
                ),
                // Deleting the site: not while invited; handed over it leaves
                // the company's list, by an Installer Admin.
                (it, Action::DeleteSite(&managed), OK),
                (
                    admin,
                    Action::DeleteSite(&invited),
                    f(Rule::WithdrawInvitationFirst),
                ),
                (
                    sm,
                    Action::DeleteSite(&invited),
                    f(Rule::AdminOrItManagerOnly),
                ),
                (admin, Action::DeleteSite(&handed), OK),
                (
                    it,
                    Action::DeleteSite(&handed),
                    f(Rule::OnlyAdminRemovesHandedOverSite),
                ),
                (
                    sm,
                    Action::DeleteSite(&handed),
                    f(Rule::OnlyAdminRemovesHandedOverSite),
                ),
                (owner, Action::DeleteSite(&handed), f(Rule::InstallersOnly)),
                // Inviting and withdrawing: the Installer Admin and the Site Manager.
                (admin, Action::InviteOwner(&managed), OK),
                (sm, Action::InviteOwner(&managed), OK),
                (
                    it,
                    Action::InviteOwner(&managed),
                    f(Rule::ResponsibleInstallersOnly),
                ),
                (inst(4, 1, Sm), Action::InviteOwner(&managed), Err(NotFound)),
                (foreign, Action::InviteOwner(&managed), Err(NotFound)),
                (sm, Action::WithdrawInvitation(&invited), OK),
                (
                    it,
                    Action::WithdrawInvitation(&invited),
                    f(Rule::ResponsibleInstallersOnly),
                ),
                // Answering an invitation: the invitee only.
                (
                    owner,
                    Action::AnswerInvitation {
                        invitee: uid(OWNER),
                    },
                    OK,
                ),
                (
                    stranger,
                    Action::AnswerInvitation {
                        invitee: uid(OWNER),
                    },
                    Err(NotFound),
                ),
                (
                    admin,
                    Action::AnswerInvitation {
                        invitee: uid(OWNER),
                    },
                    Err(NotFound),
                ),
                // Applying and releasing: no authorization needed to ask.
                (admin, Action::ApplyAuthorization(&handed), OK),
                (sm, Action::ApplyAuthorization(&handed), OK),
                (
                    it,
                    Action::ApplyAuthorization(&handed),
                    f(Rule::ResponsibleInstallersOnly),
                ),
                (foreign, Action::ApplyAuthorization(&handed), Err(NotFound)),
                (
                    owner,
                    Action::ApplyAuthorization(&handed),
                    f(Rule::InstallersOnly),
                ),
                (sm, Action::ReleaseAuthorization(&handed), OK),
                (
                    owner,
                    Action::ReleaseAuthorization(&handed),
                    f(Rule::InstallersOnly),
                ),
                // The owner's decisions and alarms.
                (owner, Action::AnswerAuthorization(&handed), OK),
                (owner, Action::CancelAuthorization(&handed), OK),
                (owner, Action::AnswerClaim(&handed), OK),
                (owner, Action::ViewAlarms(&handed), OK),
                (owner, Action::AcknowledgeAlarm(&handed), OK),
                (
                    stranger,
                    Action::CancelAuthorization(&handed),
                    Err(NotFound),
                ),
                (stranger, Action::ViewAlarms(&handed), Err(NotFound)),
                (
                    admin,
                    Action::AnswerAuthorization(&handed),
                    f(Rule::OwnerOnly),
                ),
                (sm, Action::CancelAuthorization(&handed), f(Rule::OwnerOnly)),
                (admin, Action::AnswerClaim(&handed), f(Rule::OwnerOnly)),
                (admin, Action::ViewAlarms(&handed), f(Rule::OwnerOnly)),
                (sm, Action::AcknowledgeAlarm(&handed), f(Rule::OwnerOnly)),
                (foreign, Action::CancelAuthorization(&handed), Err(NotFound)),
                // Claiming a site by its Site ID: the claiming company's
                // Installer Admin.
                (foreign, Action::ClaimSite(cid(2)), OK),
                (admin, Action::ClaimSite(cid(1)), OK),
                (it, Action::ClaimSite(cid(1)), f(Rule::OnlyAdminClaimsSites)),
                (sm, Action::ClaimSite(cid(1)), f(Rule::OnlyAdminClaimsSites)),
                (admin, Action::ClaimSite(cid(2)), Err(NotFound)),
                (owner, Action::ClaimSite(cid(1)), Err(NotFound)),
                // Assigning a Site Manager needs no authorization (R-11: assign, then apply).
                (
                    it,
                    Action::AssignManager {
                        site: &handed,
                        manager: Some(&sm_employee),
                    },
                    OK,
                ),
                (
                    owner,
                    Action::AssignManager {
                        site: &handed,
                        manager: Some(&sm_employee),
                    },
                    f(Rule::InstallersOnly),
                ),
                // End users see no company data.
                (owner, Action::ViewCompany(cid(1)), Err(NotFound)),
                (owner, Action::CreateSite(cid(1)), Err(NotFound)),
                (owner, Action::IssueAuthCodes, f(Rule::OperatorsOnly)),
            ];
            for (i, (actor, action, expected)) in cases.into_iter().enumerate() {
                assert_eq!(
                    authorize(&actor, action),
                    expected,
                    "case {i}: {actor:?} {action:?}"
                );
            }
        }

        /// with the right permission in force, the same installer actions pass.
        #[test]
        fn granted_site_info_and_health_open_the_site() {
            let auths = [grant(
                &[SiteInfo, HealthMonitoring],
                DeviceScope::All,
                GrantDuration::TwoHours,
            )];
            let end = T0 + 2 * HOUR_MS;
            let sm = inst(3, 1, Sm);
            for (now, ok) in [(T0, true), (end - 1, true), (end, false)] {
                let site = facts(SiteState::HandedOver, &auths, now);
                let expect = |p| if ok { OK } else { required(p) };
                assert_eq!(authorize(&sm, Action::ViewSite(&site)), expect(SiteInfo));
                assert_eq!(authorize(&sm, Action::EditSite(&site)), expect(SiteInfo));
                assert_eq!(authorize(&sm, Action::AddDevice(&site)), expect(SiteInfo));
                assert_eq!(
                    authorize(&sm, Action::ViewSiteAudit(&site)),
                    expect(SiteInfo)
                );
                assert_eq!(
                    authorize(&sm, Action::ViewHealth(&site)),
                    expect(HealthMonitoring)
                );
                assert_eq!(collects_health(&site, Some(did(4))), ok);
                // Deleting devices stays the owner's, authorization or not.
                assert_eq!(
                    authorize(&sm, Action::DeleteDevice(&site)),
                    Err(Forbidden(Rule::OnlyOwnerDeletesDevices))
                );
            }
        }

        /// once the company removed a handed-over site from its list, it
        /// sees nothing of it; the owner still does.
        #[test]
        fn removed_sites_are_the_owners_alone() {
            let site = SiteFacts {
                company_id: None,
                manager_id: None,
                ..facts(SiteState::HandedOver, &[], T0)
            };
            assert_eq!(
                authorize(&inst(1, 1, Admin), Action::ViewSiteSummary(&site)),
                Err(NotFound)
            );
            assert_eq!(
                authorize(&Actor::EndUser(uid(OWNER)), Action::ViewSite(&site)),
                OK
            );
            assert!(!collects_health(&site, None));
            assert_eq!(alarm_recipient(&site), Some(uid(OWNER)));
        }

        /// health is collected before hand-over, and afterwards only on the
        /// devices the health-monitoring permission covers, until its exact end.
        #[test]
        fn health_collection_table() {
            let cam1 = DeviceScope::only([did(1)]).expect("devices");
            let auths = [grant(&[HealthMonitoring], cam1, GrantDuration::OneHour)];
            let other = [grant(
                &[LiveView],
                DeviceScope::All,
                GrantDuration::Permanent,
            )];
            type Case<'a> = (SiteState, &'a [Authorization], Millis, Option<u128>, bool);
            let cases: Vec<Case> = vec![
                (SiteState::Managed, &[], T0, None, true),
                (SiteState::OwnerInvited, &[], T0, Some(2), true),
                (SiteState::HandedOver, &[], T0, None, false),
                (SiteState::HandedOver, &other, T0, Some(1), false),
                (SiteState::HandedOver, &auths, T0, Some(1), true),
                (SiteState::HandedOver, &auths, T0, None, true),
                (SiteState::HandedOver, &auths, T0, Some(2), false),
                (SiteState::HandedOver, &auths, END - 1, Some(1), true),
                (SiteState::HandedOver, &auths, END, Some(1), false),
            ];
            for (i, (state, auths, now, device, expected)) in cases.into_iter().enumerate() {
                let site = facts(state, auths, now);
                assert_eq!(
                    collects_health(&site, device.map(did)),
                    expected,
                    "case {i}"
                );
            }
        }

        /// alarms go to the owner of a handed-over site, and nobody else.
        #[test]
        fn alarm_recipients() {
            assert_eq!(
                alarm_recipient(&facts(SiteState::HandedOver, &[], T0)),
                Some(uid(OWNER))
            );
            assert_eq!(alarm_recipient(&facts(SiteState::Managed, &[], T0)), None);
            assert_eq!(
                alarm_recipient(&facts(SiteState::OwnerInvited, &[], T0)),
                None
            );
            assert_eq!(owned_sites(&Actor::EndUser(uid(OWNER))), Some(uid(OWNER)));
            assert_eq!(owned_sites(&inst(1, 1, Admin)), None);
            assert_eq!(site_scope(&Actor::EndUser(uid(OWNER))), SiteScope::Nothing);
        }

        /// The 403 says which permission is missing.
        #[test]
        fn refusals_name_the_missing_permission() {
            let mut codes = std::collections::BTreeSet::new();
            for p in Permission::ALL {
                let rule = Rule::AuthorizationRequired(p);
                assert_eq!(rule.code(), "policy.authorization_required");
                assert_eq!(rule.missing_permission(), Some(p));
                assert!(rule.text().contains(p.label()), "{p:?}: {}", rule.text());
                codes.insert(rule.text());
            }
            assert_eq!(codes.len(), 5);
            for rule in [
                Rule::OwnerOnly,
                Rule::ResponsibleInstallersOnly,
                Rule::OnlyAdminRemovesHandedOverSite,
                Rule::OnlyAdminClaimsSites,
                Rule::WithdrawInvitationFirst,
            ] {
                assert!(rule.code().starts_with("policy."));
                assert!(!rule.text().is_empty());
                assert_eq!(rule.missing_permission(), None);
            }
        }

        proptest! {
            /// The policy's answer for a handed-over site is the authorization's
            /// own `covers` at that instant, whatever the duration and moment.
            #[test]
            fn policy_follows_the_authorization(
                d in proptest::sample::select(GrantDuration::ALL.to_vec()),
                granted in 1u8..32,
                offset in -5i64..(25 * HOUR_MS),
                device in proptest::option::of(0u128..3),
            ) {
                let perms: Vec<Permission> = Permission::ALL
                    .into_iter()
                    .filter(|p| granted & (1 << (*p as u8)) != 0)
                    .collect();
                let scope = DeviceScope::only([did(1), did(2)]).expect("devices");
                let auths = [grant(&perms, scope, d)];
                let now = T0 + offset;
                let site = facts(SiteState::HandedOver, &auths, now);
                for p in Permission::ALL {
                    let device = device.map(did);
                    let got = authorize(&inst(1, 1, Admin), Action::Operate { site: &site, permission: p, device });
                    let expected = if auths[0].covers(p, device, now) { OK } else { required(p) };
                    prop_assert_eq!(got, expected);
                }
            }
        }
    }
}
