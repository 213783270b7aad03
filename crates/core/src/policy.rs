//! The one authorization policy: who may do what to which thing.
//!
//! Every handler, portal page and worker asks [`authorize`] before it acts; none
//! re-implements a rule. A refusal is either [`Refusal::NotFound`] — the thing is
//! invisible to the actor (another company's data, R-40, or a site not assigned to a
//! Site Manager), so its existence is not revealed — or [`Refusal::Forbidden`] with
//! the [`Rule`] that refused, so the person is told exactly why.

use crate::{CompanyId, Role, SiteState, UserId};

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
    /// A customer (end-user rules arrive with hand-over).
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SiteFacts {
    /// The managing company.
    pub company_id: CompanyId,
    /// Its Site Manager, if assigned (R-6: at most one).
    pub manager_id: Option<UserId>,
    /// The hand-over state.
    pub state: SiteState,
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
    /// See a site and its devices.
    ViewSite(&'a SiteFacts),
    /// Change a site's name, address or time zone.
    EditSite(&'a SiteFacts),
    /// Delete a site.
    DeleteSite(&'a SiteFacts),
    /// Assign, change or remove a site's Site Manager.
    AssignManager {
        /// The site.
        site: &'a SiteFacts,
        /// The new manager; `None` removes the assignment.
        manager: Option<&'a EmployeeFacts>,
    },
    /// Read a site's audit log.
    ViewSiteAudit(&'a SiteFacts),
    /// Add a device to a site.
    AddDevice(&'a SiteFacts),
    /// Delete a device from a site.
    DeleteDevice(&'a SiteFacts),
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

/// The sites `actor` may see.
pub fn site_scope(actor: &Actor) -> SiteScope {
    match actor {
        Actor::Installer(i) if i.role == Role::SiteManager => {
            SiteScope::ManagedBy(i.company_id, i.user_id)
        }
        Actor::Installer(i) => SiteScope::Company(i.company_id),
        Actor::EndUser(_) | Actor::Operator(_) => SiteScope::Nothing,
    }
}

fn sees_site(i: &Installer, site: &SiteFacts) -> bool {
    match site_scope(&Actor::Installer(*i)) {
        SiteScope::Company(c) => c == site.company_id,
        SiteScope::ManagedBy(c, u) => c == site.company_id && site.manager_id == Some(u),
        SiteScope::Nothing => false,
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
        // Company data is invisible to everyone outside the company.
        (Actor::EndUser(_) | Actor::Operator(_), _) => return Err(Refusal::NotFound),
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
        Action::ViewSite(s) | Action::EditSite(s) | Action::ViewSiteAudit(s) => {
            visible(sees_site(inst, s))
        }
        Action::DeleteSite(s) => {
            visible(sees_site(inst, s))?;
            require(is_manager_role(inst.role), Rule::AdminOrItManagerOnly)
        }
        Action::AddDevice(s) => {
            visible(sees_site(inst, s))?;
            require(manages_devices(inst, s), Rule::DeviceManagersOnly)
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
        SiteFacts {
            company_id: cid(company),
            manager_id: manager.map(uid),
            state: SiteState::Managed,
        }
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
            ..mine
        };
        let handed = SiteFacts {
            state: SiteState::HandedOver,
            ..mine
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
            (Admin, Action::AddDevice(&handed), OK),
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
}
