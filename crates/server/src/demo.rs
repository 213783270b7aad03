//! Demo data for `siteward demo`: a distributor's codes, an installation company
//! with one person in every role, and a few sites, so a new user sees a living system.

use siteward_app::{
    App, LoginInput, NewEmployee, RegistrationAdmin, RegistrationCompany, RegistrationInput,
    SiteInput,
};
use siteward_core::Role;

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
#[derive(Debug, Clone)]
pub struct DemoSeed {
    /// The accounts.
    pub logins: Vec<DemoLogin>,
    /// Unused authentication codes for registering another company.
    pub spare_codes: Vec<String>,
}

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
    for (name, address, tz, manager) in sites {
        app.create_site(
            &admin,
            SiteInput {
                name: name.into(),
                address: Some(address.into()),
                time_zone: tz.into(),
                manager_id: manager.and_then(|i| managers.get(i).copied()),
            },
        )
        .await?;
    }
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
        ],
        spare_codes: codes.collect(),
    })
}
