//! Demo data for `siteward demo`: a distributor's codes, an installation company
//! with one person in every role, a few sites, and simulated devices of every type
//! already added (with a couple of faults set), so a new user sees a living system.

use siteward_app::{
    AcceptInput, AddDevice, App, AuthorizationInput, EndUserSignUp, InvitationInput, LoginInput,
    NewEmployee, RegistrationAdmin, RegistrationCompany, RegistrationInput, SiteInput,
};
use siteward_core::{Role, SiteId};
use siteward_devsim::{Fault, Fleet, FleetSpec};
use std::collections::HashMap;

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "Siteward-demo-1";

/// A demo account, printed at start.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    /// What the account is.
    pub role: &'static str,
    /// Its e-mail.
    pub email: String,
}

/// What the demo seeded.
#[derive(Debug)]
pub struct DemoSeed {
    /// The accounts.
    pub logins: Vec<DemoLogin>,
    /// Unused authentication codes for registering another company.
    pub spare_codes: Vec<String>,
    /// The simulated devices; they stop when this is dropped.
    pub fleet: Fleet,
    /// How many devices were added to the sites.
    pub devices_added: usize,
}

/// The demo's simulated devices, per site (a fleet file, as `siteward-devsim --fleet` reads).
const DEMO_FLEET: &str = r#"
seed = 2026
[[sites]]
name = "Riverside Dental Clinic"
mix = { nvr = 1, ipc = 3, doorbell = 1 }
[[sites]]
name = "Oakfield Primary School"
mix = { nvr = 1, ipc = 4, access_control = 1, video_intercom = 1 }
[[sites]]
name = "Harbour Logistics Warehouse"
mix = { dvr = 1, ipc = 2, control_panel = 1 }
brands = { hilook = 1 }
[[sites]]
name = "Café Lumière"
mix = { ipc = 1, control_panel = 1, doorbell = 1 }
brands = { ezviz = 1, hikvision = 1 }
link = { ipc = 1, doorbell = 1 }
"#;

/// Seeds the demo data into an empty database.
pub async fn seed(app: &App) -> anyhow::Result<DemoSeed> {
    app.create_operator(
        "Dana Distributor",
        "operator@siteward.example",
        DEMO_PASSWORD,
    )
    .await?;
    let codes = app
        .issue_auth_codes_unchecked("EU", 4, Some("demo".into()))
        .await?;
    let mut codes = codes.into_iter().map(|c| c.code);
    let first = codes.next().unwrap_or_default();
    app.register_company(RegistrationInput {
        auth_code: first,
        company: RegistrationCompany {
            name: "Brightline Security Ltd".into(),
            region: Some("EU".into()),
            address: Some("12 Harbour Street, Bristol BS1 4RN".into()),
            phone: Some("+44 117 496 0000".into()),
            email: Some("office@brightline.example".into()),
            website: Some("https://brightline.example".into()),
        },
        admin: RegistrationAdmin {
            name: "Alex Morgan".into(),
            email: "admin@brightline.example".into(),
            password: DEMO_PASSWORD.into(),
        },
    })
    .await?;
    let (_, admin) = app
        .login(
            LoginInput {
                email: "admin@brightline.example".into(),
                password: DEMO_PASSWORD.into(),
                app_version: None,
            },
            None,
        )
        .await?;
    let mut managers = Vec::new();
    for (name, email, role) in [
        ("Priya Shah", "it@brightline.example", Role::ItManager),
        ("Sam Carter", "sam@brightline.example", Role::SiteManager),
        ("Lee Okafor", "lee@brightline.example", Role::SiteManager),
    ] {
        let user = app
            .add_employee(
                &admin,
                NewEmployee {
                    name: name.into(),
                    email: email.into(),
                    password: DEMO_PASSWORD.into(),
                    role,
                },
            )
            .await?;
        if role == Role::SiteManager {
            managers.push(user.id.parse()?);
        }
    }
    let sites = [
        (
            "Riverside Dental Clinic",
            "3 Quay Road, Bristol",
            "Europe/London",
            Some(0),
        ),
        (
            "Oakfield Primary School",
            "Oakfield Lane, Bath",
            "Europe/London",
            Some(0),
        ),
        (
            "Harbour Logistics Warehouse",
            "Unit 7, Avonmouth Docks",
            "Europe/London",
            Some(1),
        ),
        (
            "Café Lumière",
            "22 Rue Sainte-Catherine, Bordeaux",
            "Europe/Paris",
            None,
        ),
    ];
    let mut site_ids: HashMap<&str, SiteId> = HashMap::new();
    for (name, address, tz, manager) in sites {
        let site = app
            .create_site(
                &admin,
                SiteInput {
                    name: name.into(),
                    address: Some(address.into()),
                    time_zone: tz.into(),
                    manager_id: manager.and_then(|i| managers.get(i).copied()),
                },
            )
            .await?;
        site_ids.insert(name, site.id.parse()?);
    }
    let fleet = Fleet::start(FleetSpec::from_toml_str(DEMO_FLEET)?).await?;
    let mut devices_added = 0;
    for d in fleet.devices() {
        let Some(site) = d.site.as_deref().and_then(|s| site_ids.get(s)) else {
            continue;
        };
        // Devices with the cloud client built in are added by serial number and
        // verification code; they connect once the server runs.
        let input = if d.link {
            AddDevice::Link {
                serial: d.serial.clone(),
                verification_code: d.verification_code.clone(),
                name: None,
            }
        } else {
            AddDevice::Ip {
                host: d.address.ip().to_string(),
                port: Some(d.address.port()),
                https: false,
                accept_invalid_certs: false,
                username: d.username.clone(),
                password: d.password.clone(),
                name: None,
            }
        };
        match app.add_device(&admin, *site, input).await {
            Ok(_) => devices_added += 1,
            Err(e) => tracing::warn!(serial = %d.serial, error = %e, "demo device not added"),
        }
    }
    // A few things for health monitoring to find.
    let kinds = |t: &str| {
        fleet
            .devices()
            .into_iter()
            .filter(|d| serde_json::to_value(d).is_ok_and(|v| v["type"] == t))
            .collect::<Vec<_>>()
    };
    let faults = [
        (
            kinds("nvr").first().map(|d| d.serial.clone()),
            Fault::HddError,
        ),
        (
            kinds("nvr").get(1).map(|d| d.serial.clone()),
            Fault::ChannelOffline { channel: 2 },
        ),
        (
            kinds("control_panel").first().map(|d| d.serial.clone()),
            Fault::LowBattery { level: 12 },
        ),
    ];
    for (serial, fault) in faults {
        if let Some(handle) = serial.and_then(|s| fleet.device(&s))
            && let Err(e) = handle.set_fault(fault)
        {
            tracing::warn!(error = %e, "demo fault not set");
        }
    }
    hand_over(app, &admin, &site_ids).await?;
    app.logout(&admin).await?;
    let login = |role, email: &str| DemoLogin {
        role,
        email: email.to_owned(),
    };
    Ok(DemoSeed {
        logins: vec![
            login("Installer Admin", "admin@brightline.example"),
            login("IT Manager", "it@brightline.example"),
            login("Site Manager", "sam@brightline.example"),
            login("Site Manager", "lee@brightline.example"),
            login("Platform operator", "operator@siteward.example"),
            login("End user (owner)", "marie@lumiere.example"),
            login("End user (invited)", "dr.patel@riverside.example"),
        ],
        spare_codes: codes.collect(),
        fleet,
        devices_added,
    })
}

/// The end-user side: Café Lumière is handed over to its owner, who let the company
/// keep health monitoring and site information; Riverside Dental Clinic's owner has
/// an invitation waiting in the app (`/app`).
async fn hand_over(
    app: &App,
    admin: &siteward_app::Principal,
    site_ids: &HashMap<&str, SiteId>,
) -> anyhow::Result<()> {
    let mut owners = Vec::new();
    for (name, email) in [
        ("Marie Dubois", "marie@lumiere.example"),
        ("Dr Anil Patel", "dr.patel@riverside.example"),
    ] {
        app.sign_up_end_user(
            EndUserSignUp {
                email: email.into(),
                password: DEMO_PASSWORD.into(),
                name: name.into(),
                region: "EU".into(),
                app_version: "4.3".into(),
            },
            None,
        )
        .await?;
        owners.push(email);
    }
    let invite = |email: &str, permissions: &[&str], remark: &str| InvitationInput {
        end_user_email: email.into(),
        authorization: Some(AuthorizationInput {
            permissions: permissions.iter().map(|p| (*p).to_owned()).collect(),
            device_ids: None,
            duration_hours: None,
            remark: Some(remark.into()),
        }),
    };
    if let Some(site) = site_ids.get("Café Lumière") {
        let inv = app
            .invite_owner(
                admin,
                *site,
                invite(
                    owners[0],
                    &["site_info", "health_monitoring"],
                    "So we can keep an eye on your cameras and alarm panel.",
                ),
            )
            .await?;
        let (_, marie) = app
            .login(
                LoginInput {
                    email: owners[0].into(),
                    password: DEMO_PASSWORD.into(),
                    app_version: Some("4.3".into()),
                },
                None,
            )
            .await?;
        app.accept_invitation(&marie, inv.id.parse()?, AcceptInput::default())
            .await?;
        app.logout(&marie).await?;
    }
    if let Some(site) = site_ids.get("Riverside Dental Clinic") {
        app.invite_owner(
            admin,
            *site,
            invite(
                owners[1],
                &["site_info", "configuration", "health_monitoring"],
                "To maintain the recorder and cameras after hand-over.",
            ),
        )
        .await?;
    }
    Ok(())
}
