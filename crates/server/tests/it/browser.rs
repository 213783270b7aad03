//! The portal end to end in headless Chromium (Debian's chromium and chromedriver,
//! installed by scripts/test where missing).

use crate::support::{Db, PASSWORD, TestServer};
use fantoccini::{Client, ClientBuilder, Locator};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// chromedriver on a free port, stopped when dropped.
pub(crate) struct Driver {
    child: Child,
    port: u16,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

pub(crate) async fn browser(width: u32, height: u32) -> (Driver, Client) {
    launch(width, height, None).await
}

/// A phone: a 390×844 viewport at three device pixels a point, by Chromium's
/// device emulation (a headless window is never narrower than 500 px).
pub(crate) async fn phone() -> (Driver, Client) {
    let metrics =
        serde_json::json!({"deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 3.0}});
    launch(390, 844, Some(metrics)).await
}

async fn launch(width: u32, height: u32, mobile: Option<serde_json::Value>) -> (Driver, Client) {
    let chromedriver =
        std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromedriver).exists() && std::path::Path::new(&chromium).exists(),
        "browser tests need {chromium} and {chromedriver}: run scripts/test, which installs Debian's chromium and chromium-driver"
    );
    let port = free_port();
    let child = Command::new(&chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let profile = tempfile::tempdir().expect("profile dir");
    let driver = Driver {
        child,
        port,
        _profile: profile,
    };
    let mut caps = serde_json::json!({
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                format!("--user-data-dir={}", driver._profile.path().display()),
                format!("--window-size={width},{height}"),
            ]
        }
    });
    if let Some(m) = mobile {
        caps["goog:chromeOptions"]["mobileEmulation"] = m;
    }
    let caps = match caps {
        serde_json::Value::Object(m) => m,
        _ => unreachable!("an object literal"),
    };
    let mut last_err = String::new();
    for _ in 0..50 {
        match ClientBuilder::native()
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await
        {
            Ok(c) => return (driver, c),
            Err(e) => {
                last_err = e.to_string();
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    panic!("could not start a browser session: {last_err}");
}

pub(crate) async fn fill(c: &Client, css: &str, value: &str) {
    let el = c
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    el.clear().await.expect("clear");
    el.send_keys(value).await.expect("type");
}

pub(crate) async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .expect("click");
}

pub(crate) async fn text_of(c: &Client, css: &str) -> String {
    c.wait()
        .at_most(Duration::from_secs(5))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .expect("text")
}

async fn sign_in(c: &Client, url: &str, email: &str) {
    c.goto(&format!("{url}/login")).await.expect("login page");
    fill(c, "input[name=email]", email).await;
    fill(c, "input[name=password]", PASSWORD).await;
    click(c, "button[type=submit]").await;
    c.wait()
        .at_most(Duration::from_secs(5))
        .for_url(&format!("{url}/portal").parse().expect("url"))
        .await
        .expect("signed in");
}

async fn sign_out(c: &Client) {
    click(c, ".who button[type=submit]").await;
    c.wait()
        .at_most(Duration::from_secs(5))
        .for_element(Locator::Css("form[action='/login']"))
        .await
        .expect("signed out");
}

/// Save a screenshot where people can look at it (target/screenshots).
pub(crate) async fn screenshot(c: &Client, name: &str) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    let _ = std::fs::create_dir_all(&dir);
    if let Ok(png) = c.screenshot().await {
        let _ = std::fs::write(dir.join(format!("{name}.png")), png);
    }
}

/// Register with a code, sign in, add an employee, create a site, assign it, and see
/// as the Site Manager only that site.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_staff_and_assign_a_site_in_the_portal() {
    let s = TestServer::start(Db::Sqlite).await;
    let code = s.auth_code("EU").await;
    let (_driver, c) = browser(1280, 900).await;
    let url = s.url.clone();

    // Register.
    c.goto(&format!("{url}/register"))
        .await
        .expect("register page");
    fill(&c, "input[name=auth_code]", &code).await;
    fill(&c, "input[name=company_name]", "Lumen Security").await;
    fill(&c, "input[name=region]", "EU").await;
    fill(&c, "input[name=admin_name]", "Lena Lumen").await;
    fill(&c, "input[name=email]", "lena@lumen.example").await;
    fill(&c, "input[name=password]", PASSWORD).await;
    submit_form(&c, "button[type=submit]").await;
    let notice = text_of(&c, ".flash.ok").await;
    assert!(notice.contains("Lumen Security is registered"), "{notice}");

    // The same code again is refused with a clear message.
    c.goto(&format!("{url}/register"))
        .await
        .expect("register page");
    fill(&c, "input[name=auth_code]", &code).await;
    fill(&c, "input[name=company_name]", "Copycat").await;
    fill(&c, "input[name=admin_name]", "Cat Copy").await;
    fill(&c, "input[name=email]", "cat@copy.example").await;
    fill(&c, "input[name=password]", PASSWORD).await;
    submit_form(&c, "button[type=submit]").await;
    let error = text_of(&c, ".flash.error").await;
    assert!(error.contains("already been used"), "{error}");

    sign_in(&c, &url, "lena@lumen.example").await;
    screenshot(&c, "dashboard").await;

    // Add two Site Managers.
    for (name, email) in [
        ("Sam Site", "sam@lumen.example"),
        ("Kim Site", "kim@lumen.example"),
    ] {
        c.goto(&format!("{url}/portal/employees"))
            .await
            .expect("employees");
        fill(&c, "#new input[name=name]", name).await;
        fill(&c, "#new input[name=email]", email).await;
        fill(&c, "#new input[name=password]", PASSWORD).await;
        submit_form(&c, "#new button[type=submit]").await;
        let notice = text_of(&c, ".flash.ok").await;
        assert!(notice.contains(email), "{notice}");
    }
    let table = text_of(&c, "#employees-table").await;
    assert!(
        table.contains("Sam Site") && table.contains("Kim Site"),
        "{table}"
    );

    // Create two sites; assign one to Sam.
    for name in ["Harbour Warehouse", "Old Mill Offices"] {
        c.goto(&format!("{url}/portal/sites")).await.expect("sites");
        fill(&c, "#new input[name=name]", name).await;
        fill(&c, "#new input[name=time_zone]", "Europe/London").await;
        submit_form(&c, "#new button[type=submit]").await;
        let notice = text_of(&c, ".flash.ok").await;
        assert!(
            notice.contains(name) && notice.contains("Site ID"),
            "{notice}"
        );
    }
    let site_code = text_of(&c, "#site-code").await;
    assert_eq!(site_code.len(), 8, "{site_code}");
    let select = c
        .find(Locator::Css("select[name=employee_id]"))
        .await
        .expect("manager select");
    select
        .select_by_label("Sam Site")
        .await
        .expect("choose Sam");
    submit_form(&c, "form[action$='/manager'] button").await;
    let notice = text_of(&c, ".flash.ok").await;
    assert!(notice.contains("Site Manager assigned"), "{notice}");
    assert_eq!(text_of(&c, "#site-manager").await, "Sam Site");
    let audit = text_of(&c, ".timeline").await;
    assert!(
        audit.contains("Lena Lumen made Sam Site Site Manager"),
        "{audit}"
    );
    screenshot(&c, "site").await;
    sign_out(&c).await;

    // Sam sees exactly his site.
    sign_in(&c, &url, "sam@lumen.example").await;
    c.goto(&format!("{url}/portal/sites")).await.expect("sites");
    let table = text_of(&c, "#sites-table").await;
    assert!(table.contains("Old Mill Offices"), "{table}");
    assert!(
        !table.contains("Harbour Warehouse"),
        "a Site Manager sees only his sites: {table}"
    );
    let nav = text_of(&c, "#nav").await;
    assert!(
        !nav.contains("Employees"),
        "no Employees page for a Site Manager: {nav}"
    );
    screenshot(&c, "site-manager-sites").await;
    c.close().await.expect("close");
    s.finish().await;
}

/// The portal reads on a phone: the menu folds away and forms stay within the screen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_portal_fits_a_phone() {
    let s = TestServer::start(Db::Sqlite).await;
    let c0 = s.company("Pocket Alarms", "pia@pocket.example").await;
    s.site(&c0.admin, "Corner Shop").await;
    let (_driver, c) = browser(390, 844).await;
    sign_in(&c, &s.url, "pia@pocket.example").await;
    c.goto(&format!("{}/portal/sites", s.url))
        .await
        .expect("sites");
    let nav_visible = c
        .find(Locator::Css("#nav"))
        .await
        .expect("nav")
        .is_displayed()
        .await
        .expect("displayed");
    assert!(!nav_visible, "the menu is folded on a phone");
    click(&c, ".menu-toggle").await;
    assert!(
        c.find(Locator::Css("#nav"))
            .await
            .expect("nav")
            .is_displayed()
            .await
            .expect("displayed"),
        "and opens"
    );
    let overflow = c
        .execute(
            "return document.documentElement.scrollWidth > window.innerWidth + 1;",
            vec![],
        )
        .await
        .expect("script");
    assert_eq!(
        overflow,
        serde_json::Value::Bool(false),
        "nothing wider than the screen"
    );
    screenshot(&c, "phone-sites").await;
    c.close().await.expect("close");
    s.finish().await;
}

/// Add a device by IP in the portal and see it in the site's device list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_a_device_by_ip_in_the_portal() {
    let s = TestServer::start(Db::Sqlite).await;
    let fleet = siteward_devsim::Fleet::start(
        siteward_devsim::FleetSpec::parse_mix("nvr=1", 3).expect("mix"),
    )
    .await
    .expect("fleet");
    let nvr = fleet.devices().remove(0);
    let company = s.company("Lumen Security", "lena@lumen.example").await;
    let site = s.site(&company.admin, "Harbour Warehouse").await;
    let (_driver, c) = browser(1280, 900).await;
    sign_in(&c, &s.url, "lena@lumen.example").await;
    c.goto(&format!("{}/portal/sites/{site}", s.url))
        .await
        .expect("site page");
    let empty = text_of(&c, "#devices").await;
    assert!(empty.contains("No devices in this site yet"), "{empty}");

    // A wrong password first: a clear message, nothing added.
    fill(
        &c,
        "#add-device input[name=host]",
        &nvr.address.ip().to_string(),
    )
    .await;
    fill(
        &c,
        "#add-device input[name=port]",
        &nvr.address.port().to_string(),
    )
    .await;
    fill(&c, "#add-device input[name=username]", &nvr.username).await;
    fill(&c, "#add-device input[name=password]", "wrong-password").await;
    submit_form(&c, "#add-device button[type=submit]").await;
    let error = text_of(&c, ".flash.error").await;
    assert!(
        error.contains("refused the user name or password"),
        "{error}"
    );

    fill(
        &c,
        "#add-device input[name=host]",
        &nvr.address.ip().to_string(),
    )
    .await;
    fill(
        &c,
        "#add-device input[name=port]",
        &nvr.address.port().to_string(),
    )
    .await;
    fill(&c, "#add-device input[name=username]", &nvr.username).await;
    fill(&c, "#add-device input[name=password]", &nvr.password).await;
    fill(&c, "#add-device input[name=name]", "Warehouse NVR").await;
    submit_form(&c, "#add-device button[type=submit]").await;
    let notice = text_of(&c, ".flash.ok").await;
    assert!(
        notice.contains(&nvr.model) && notice.contains("added"),
        "{notice}"
    );
    let table = text_of(&c, "#devices-table").await;
    assert!(
        table.contains("Warehouse NVR") && table.contains(&nvr.model) && table.contains("Online"),
        "{table}"
    );
    screenshot(&c, "site-devices").await;
    c.goto(&format!("{}/portal/devices", s.url))
        .await
        .expect("devices page");
    let all = text_of(&c, "#devices-table").await;
    assert!(
        all.contains("Harbour Warehouse"),
        "the devices page names the site: {all}"
    );
    c.close().await.expect("close");
    drop(fleet);
    s.finish().await;
}

/// The Health page shows an injected fault live, without a reload, and the locate
/// filters find the device.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_health_page_updates_live_and_locates_devices() {
    let s = TestServer::start(Db::Sqlite).await;
    let fleet = siteward_devsim::Fleet::start(
        siteward_devsim::FleetSpec::parse_mix("nvr=1,ipc=2", 21).expect("mix"),
    )
    .await
    .expect("fleet");
    let company = s.company("Lumen Security", "lena@lumen.example").await;
    let site = s.site(&company.admin, "Harbour Warehouse").await;
    let mut nvr = None;
    for d in fleet.devices() {
        let (status, body) = s
            .post(
                &format!("/api/v1/sites/{site}/devices"),
                &company.admin,
                serde_json::json!({"via": "ip", "host": d.address.ip().to_string(), "port": d.address.port(), "username": d.username, "password": d.password}),
            )
            .await;
        assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");
        if body["type"] == "nvr" {
            nvr = Some((
                d.clone(),
                body["serial"].as_str().expect("serial").to_owned(),
            ));
        }
    }
    let (nvr, nvr_serial) = nvr.expect("an nvr");
    let handle = fleet.device(&nvr.serial).expect("nvr handle");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (_, list) = s.get("/api/v1/health?level=normal", &company.admin).await;
        if list["items"].as_array().map(Vec::len) == Some(3) && handle.stream_count() > 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "first inspections: {list}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let (_driver, c) = browser(1280, 900).await;
    sign_in(&c, &s.url, "lena@lumen.example").await;
    c.goto(&format!("{}/portal/health", s.url))
        .await
        .expect("health page");
    let table = text_of(&c, "#health-table").await;
    assert!(!table.contains("Abnormal"), "{table}");
    c.execute("window.stillTheSamePage = true;", vec![])
        .await
        .expect("mark the page");

    handle
        .set_fault(siteward_devsim::Fault::HddError)
        .expect("fault");
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let table = text_of(&c, "#health-live").await;
        if table.contains("HDD 1: error") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the fault did not appear live: {table}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let same = c
        .execute("return window.stillTheSamePage === true;", vec![])
        .await
        .expect("script");
    assert_eq!(
        same,
        serde_json::Value::Bool(true),
        "updated without a reload"
    );
    let first_row = text_of(&c, "#health-table tbody tr").await;
    assert!(first_row.contains("Abnormal"), "worst first: {first_row}");
    screenshot(&c, "health-live").await;

    // Locate: by level, then by serial number.
    c.find(Locator::Css("select[name=level]"))
        .await
        .expect("level filter")
        .select_by_value("abnormal")
        .await
        .expect("choose");
    submit_form(&c, "#health-filters button[type=submit]").await;
    let rows = c
        .find_all(Locator::Css("#health-table tbody tr"))
        .await
        .expect("rows");
    assert_eq!(rows.len(), 1, "only the abnormal device");
    c.goto(&format!(
        "{}/portal/health?q={}",
        s.url,
        &nvr_serial[nvr_serial.len() - 8..]
    ))
    .await
    .expect("search");
    let found = text_of(&c, "#health-table").await;
    assert!(found.contains(&nvr_serial), "{found}");
    let rows = c
        .find_all(Locator::Css("#health-table tbody tr"))
        .await
        .expect("rows");
    assert_eq!(rows.len(), 1);
    click(&c, "#health-table a").await;
    let status = text_of(&c, "#device-status").await;
    assert!(
        status.contains("HDD 1: error") && status.contains("Storage"),
        "{status}"
    );
    screenshot(&c, "device-health").await;
    c.close().await.expect("close");
    drop(fleet);
    s.finish().await;
}

/// Signs in to the portal as `email` (the test password) and waits for the
/// overview; for browser tests in other files.
pub(crate) async fn portal_sign_in(c: &Client, url: &str, email: &str) {
    sign_in(c, url, email).await;
}

/// Clicks a form's submit button and waits until the browser left the page, so
/// what is read next is the new page (not the old page's flash message).
pub(crate) async fn submit_form(c: &Client, css: &str) {
    c.execute("window.beforeSubmit = true;", vec![])
        .await
        .expect("mark the page");
    click(c, css).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let old = c
            .execute("return window.beforeSubmit === true;", vec![])
            .await
            .unwrap_or(serde_json::Value::Bool(true));
        if old == serde_json::Value::Bool(false) {
            break;
        }
        assert!(Instant::now() < deadline, "{css} led nowhere");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
