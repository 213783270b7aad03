//! End users: sign-up, the app version recorded at sign-in,
//! my sites with devices and the logo rule, the audit trail, and the end-user app
//! at `/app` (cookie + CSRF, PWA files, the way installers and end users are kept
//! apart).

use crate::browser::{click, fill, phone, screenshot, text_of};
use crate::company::png;
use crate::health::inspect;
use crate::on_both;
use crate::support::{Db, PASSWORD, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use siteward_devsim::{Fault, Fleet, FleetSpec, OfflineMode};
use std::time::Duration;

on_both!(
    sign_up_is_all_or_nothing,
    sign_in_records_the_app_version,
    my_sites_show_devices_and_the_logo_rule,
    the_app_pages_work_with_cookie_and_csrf,
    the_app_answers_invitations_and_requests,
);

async fn sign_up(s: &TestServer, body: Value) -> (StatusCode, Value) {
    s.call(Method::POST, "/api/v1/end-users", None, Some(body))
        .await
}

fn end_user(email: &str, region: &str, version: &str) -> Value {
    json!({"email": email, "password": PASSWORD, "name": "Eva Owner", "region": region, "app_version": version})
}

/// Signs up and signs in an end user; returns (id, token).
async fn owner(s: &TestServer, email: &str) -> (String, String) {
    let (status, body) = sign_up(s, end_user(email, "EU", "4.3")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_str().expect("id").to_owned();
    (id, s.login(email, PASSWORD).await)
}

async fn user_count(s: &TestServer) -> i64 {
    s.app
        .store()
        .read()
        .await
        .expect("db")
        .count_users()
        .await
        .expect("count")
}

async fn login(s: &TestServer, body: Value, header: Option<&str>) -> (StatusCode, Value) {
    let mut req = s
        .http
        .post(format!("{}/api/v1/auth/login", s.url))
        .json(&body);
    if let Some(v) = header {
        req = req.header("X-App-Version", v);
    }
    let res = req.send().await.expect("login");
    let status = res.status();
    (status, res.json().await.expect("json"))
}

/// Makes `owner` the owner of `site`, handed over (what accepting an invitation
/// does), straight in the database.
async fn hand_over(s: &TestServer, db: Db, site: &str, owner: &str) {
    use sqlx::Connection;
    const SQL: &str = "UPDATE sites SET owner_id = $1, state = 'handed_over' WHERE id = $2";
    let url = s.settings.database_url();
    let n = match db {
        Db::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&url).await.expect("sqlite");
            sqlx::query(SQL)
                .bind(owner)
                .bind(site)
                .execute(&mut c)
                .await
                .expect("update")
                .rows_affected()
        }
        Db::Postgres => {
            let mut c = sqlx::PgConnection::connect(&url).await.expect("postgres");
            sqlx::query(SQL)
                .bind(owner)
                .bind(site)
                .execute(&mut c)
                .await
                .expect("update")
                .rows_affected()
        }
    };
    assert_eq!(n, 1, "site {site} handed over");
}

async fn sign_up_is_all_or_nothing(db: Db) {
    let s = TestServer::start(db).await;
    let before = user_count(&s).await;

    let (status, body) = sign_up(&s, end_user("Eva@Home.example", "eu", "4.3")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["kind"], "end_user");
    assert_eq!(body["email"], "eva@home.example");
    assert_eq!(body["region"], "EU");
    assert_eq!(body["app_version"], "4.3");
    assert_eq!(body["client"]["status"], "supported", "{body}");
    assert!(body.get("password_hash").is_none() && body.get("password").is_none());
    assert_eq!(user_count(&s).await, before + 1);

    // The same e-mail, in any case: 409, nothing written.
    let (status, body) = sign_up(&s, end_user("EVA@home.example", "EU", "4.3")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "account.email_taken");

    // Bad region, bad app version, missing fields: 400 naming each, nothing written.
    for (input, fields) in [
        (end_user("ann@home.example", "E U!", "4.3"), vec!["region"]),
        (
            end_user("ann@home.example", "EU", "latest"),
            vec!["app_version"],
        ),
        (
            json!({"email": "not-an-email", "password": "short"}),
            vec!["name", "email", "password", "region", "app_version"],
        ),
    ] {
        let (status, body) = sign_up(&s, input.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{input}: {body}");
        let named: Vec<&str> = body["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .filter_map(|e| e["field"].as_str())
            .collect();
        for f in fields {
            assert!(named.contains(&f), "{f} named in {body}");
        }
    }
    let (status, body) = sign_up(
        &s,
        json!({"email": "x@y.example", "role": "installer_admin"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "unknown fields: {body}");
    assert_eq!(user_count(&s).await, before + 1, "nothing half-written");

    // An old app may sign up; it is told to update.
    let (status, body) = sign_up(&s, end_user("old@home.example", "NA", "4.2.1")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        body["client"],
        json!({"status": "update_required", "minimum": "4.3", "version": "4.2.1"})
    );
    s.finish().await;
}

async fn sign_in_records_the_app_version(db: Db) {
    let s = TestServer::start(db).await;
    let c = s.company("Acme", "ada@acme.example").await;
    let (status, _) = sign_up(&s, end_user("eva@home.example", "EU", "4.3")).await;
    assert_eq!(status, StatusCode::CREATED);
    let creds = |v: Option<&str>| match v {
        Some(v) => json!({"email": "eva@home.example", "password": PASSWORD, "app_version": v}),
        None => json!({"email": "eva@home.example", "password": PASSWORD}),
    };

    // An old app is told to update; the session and the account keep its version.
    let (status, body) = login(&s, creds(Some("4.2")), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["kind"], "end_user");
    assert_eq!(body["client"]["status"], "update_required", "{body}");
    assert_eq!(body["client"]["minimum"], "4.3");
    let token = body["token"].as_str().expect("token").to_owned();
    let (_, me) = s.get("/api/v1/me", &token).await;
    assert_eq!(me["kind"], "end_user");
    assert_eq!(me["region"], "EU");
    assert_eq!(me["app_version"], "4.2");
    let session = s.app.authenticate(&token).await.expect("session");
    assert_eq!(
        session.app_version.map(|v| v.to_string()).as_deref(),
        Some("4.2")
    );

    // The header does as well; the newest sign-in wins, compared as numbers.
    let (status, body) = login(&s, creds(None), Some("4.10")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["client"]["status"], "supported", "{body}");
    let (_, me) = s.get("/api/v1/me", &token).await;
    assert_eq!(
        me["app_version"], "4.10",
        "the account has the last version"
    );

    // Without a version the account keeps the one it had, and the client is told
    // it must say (and be) a version that handles invitations.
    let (status, body) = login(&s, creds(None), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["client"]["status"], "update_required");
    assert_eq!(body["client"]["version"], Value::Null);
    let (_, me) = s.get("/api/v1/me", &token).await;
    assert_eq!(me["app_version"], "4.10");

    // Not a version: 400 naming the field, no session.
    let (status, body) = login(&s, creds(Some("four")), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["errors"][0]["field"], "app_version");

    // Installers are not told anything unless their client says a version.
    let (status, body) = login(
        &s,
        json!({"email": "ada@acme.example", "password": PASSWORD}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.get("client").is_none(), "{body}");
    let (_, me) = s.get("/api/v1/me", &c.admin).await;
    assert_eq!(me["kind"], "installer");
    assert!(me.get("app_version").is_none(), "{me}");
    s.finish().await;

    // The minimum is configurable.
    let s = TestServer::start_tuned(db, |settings| {
        settings.min_app_version = "4.5".parse().expect("version");
    })
    .await;
    let (status, _) = sign_up(&s, end_user("eva@home.example", "EU", "4.4")).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, body) = login(&s, creds(Some("4.4.9")), None).await;
    assert_eq!(
        body["client"],
        json!({"status": "update_required", "minimum": "4.5", "version": "4.4.9"})
    );
    let (_, body) = login(&s, creds(Some("4.5")), None).await;
    assert_eq!(body["client"]["status"], "supported");
    s.finish().await;
}

async fn put_logo(s: &TestServer, token: &str) {
    let res = s
        .http
        .put(format!("{}/api/v1/company/logo", s.url))
        .bearer_auth(token)
        .header("content-type", "image/png")
        .body(png())
        .send()
        .await
        .expect("put logo");
    assert_eq!(res.status(), StatusCode::OK);
}

async fn get_bytes(s: &TestServer, path: &str, token: &str) -> (StatusCode, String, Vec<u8>) {
    let res = s
        .http
        .get(format!("{}{path}", s.url))
        .bearer_auth(token)
        .send()
        .await
        .expect("get");
    let status = res.status();
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, ct, res.bytes().await.expect("bytes").to_vec())
}

async fn my_sites_show_devices_and_the_logo_rule(db: Db) {
    let s = TestServer::start(db).await;
    let fleet = Fleet::start(FleetSpec::parse_mix("nvr=1,ipc=1", 3).expect("mix"))
        .await
        .expect("fleet");
    let a = s.company("Acme", "ada@acme.example").await;
    let (status, _) = s
        .call(
            Method::PATCH,
            "/api/v1/company",
            Some(&a.admin),
            Some(json!({"phone": "+44 20 7946 0000", "email": "help@acme.example"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    put_logo(&s, &a.admin).await;
    let (eva_id, eva) = owner(&s, "eva@home.example").await;

    let (status, mine) = s.get("/api/v1/me/sites", &eva).await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(mine["items"], json!([]));
    assert_eq!(mine["installer"], Value::Null);

    // A site with two devices, one of which stops answering.
    let home = s.site(&a.admin, "Eva's house").await;
    let mut ids = Vec::new();
    for d in fleet.devices() {
        let (status, body) = s
            .post(
                &format!("/api/v1/sites/{home}/devices"),
                &a.admin,
                json!({"via": "ip", "host": d.address.ip().to_string(), "port": d.address.port(), "username": d.username, "password": d.password}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        ids.push((
            d.serial.clone(),
            body["id"].as_str().expect("id").to_owned(),
        ));
    }
    let (cam_serial, cam_id) = ids[1].clone();
    fleet
        .device(&cam_serial)
        .expect("device")
        .set_fault(Fault::Offline(OfflineMode::Refused))
        .expect("fault");
    inspect(&s, &a.admin, "site", Some(&home)).await;
    hand_over(&s, db, &home, &eva_id).await;

    // One company: its contact and its logo.
    let (_, mine) = s.get("/api/v1/me/sites", &eva).await;
    let items = mine["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{mine}");
    let site = &items[0];
    assert_eq!(site["id"], home.as_str());
    assert_eq!(site["state"], "handed_over");
    assert_eq!(site["online_count"], 1, "{site}");
    let devices = site["devices"].as_array().expect("devices");
    assert_eq!(devices.len(), 2);
    for d in devices {
        let offline = d["id"] == cam_id.as_str();
        assert_eq!(d["online"], !offline, "{d}");
        assert_eq!(
            d["connectivity"],
            if offline { "offline" } else { "online" }
        );
    }
    assert_eq!(site["installer"]["name"], "Acme");
    assert_eq!(site["installer"]["phone"], "+44 20 7946 0000");
    assert_eq!(site["installer"]["email"], "help@acme.example");
    let logo_url = mine["installer"]["logo_url"]
        .as_str()
        .expect("logo shown: one company")
        .to_owned();
    assert_eq!(site["installer"]["logo_url"], logo_url.as_str());
    let (status, ct, bytes) = get_bytes(&s, &logo_url, &eva).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ct, "image/png");
    assert_eq!(bytes, png());
    let (_, one) = s.get(&format!("/api/v1/me/sites/{home}"), &eva).await;
    assert_eq!(one["name"], "Eva's house");
    assert_eq!(one["installer"]["logo_url"], logo_url.as_str());

    // what the installer did on the site.
    let (status, audit) = s.get(&format!("/api/v1/me/sites/{home}/audit"), &eva).await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(actions.contains(&"site.create"), "{audit}");
    assert!(
        audit["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|e| e["site_id"] == home.as_str()),
        "{audit}"
    );

    // Nobody else sees Eva's site, its trail or (another end user) the logo.
    let (_, bob) = owner(&s, "bob@home.example").await;
    for path in [
        format!("/api/v1/me/sites/{home}"),
        format!("/api/v1/me/sites/{home}/audit"),
    ] {
        let (status, body) = s.get(&path, &bob).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
    }
    let (status, _, _) = get_bytes(&s, &logo_url, &bob).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, theirs) = s.get("/api/v1/me/sites", &bob).await;
    assert_eq!(theirs["items"], json!([]));
    let (_, installer_view) = s.get("/api/v1/me/sites", &a.admin).await;
    assert_eq!(
        installer_view["items"],
        json!([]),
        "installers own no sites"
    );
    let (status, _, _) = get_bytes(&s, &logo_url, &a.admin).await;
    assert_eq!(status, StatusCode::OK, "a company's own employees");

    // A second company's site: no logo anywhere, contacts stay per site.
    let b = s.company("Bolt", "bo@bolt.example").await;
    put_logo(&s, &b.admin).await;
    let (status, _, _) = get_bytes(&s, &logo_url, &b.admin).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another company's logo");
    let shop = s.site(&b.admin, "Eva's shop").await;
    hand_over(&s, db, &shop, &eva_id).await;
    let (_, mine) = s.get("/api/v1/me/sites", &eva).await;
    assert_eq!(mine["items"].as_array().map(Vec::len), Some(2), "{mine}");
    assert_eq!(mine["installer"], Value::Null, "{mine}");
    let names: Vec<&str> = mine["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            assert_eq!(i["installer"]["logo_url"], Value::Null, "{i}");
            i["installer"]["name"].as_str().expect("installer")
        })
        .collect();
    assert_eq!(names, ["Acme", "Bolt"]);
    let (status, _, _) = get_bytes(&s, &logo_url, &eva).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no logo with two companies");
    s.finish().await;
}

/// The value of the cookie `name` a response sets, if any.
fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers().get_all("set-cookie").iter().find_map(|v| {
        let v = v.to_str().ok()?;
        let (pair, _) = v.split_once(';').unwrap_or((v, ""));
        let (k, value) = pair.split_once('=')?;
        (k == name && !value.is_empty()).then(|| value.to_owned())
    })
}

/// The value of the hidden `csrf` input of a page.
fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("csrf field") + 19;
    html[at..].split('"').next().expect("value").to_owned()
}

async fn page(s: &TestServer, path: &str, cookie: &str) -> reqwest::Response {
    s.http
        .get(format!("{}{path}", s.url))
        .header("cookie", cookie)
        .send()
        .await
        .expect("get")
}

async fn the_app_pages_work_with_cookie_and_csrf(db: Db) {
    let s = TestServer::start(db).await;
    let url = s.url.clone();
    let a = s.company("Acme", "ada@acme.example").await;
    put_logo(&s, &a.admin).await;

    let res = page(&s, "/app", "").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/app/login");

    // Sign up in the app: the form's double-submit token first.
    let res = page(&s, "/app/signup", "").await;
    assert_eq!(res.status(), StatusCode::OK);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    let pre = set_cookie(&res, "sw_precsrf").expect("pre-session token");
    let html = res.text().await.expect("html");
    assert!(html.contains("<select name=\"region\""), "region select");
    assert!(html.contains("<option value=\"EU\""), "regions offered");
    assert!(
        !html.contains("<script>") && !html.contains("style=\""),
        "no inline script or style"
    );
    let form = |csrf: &str| {
        vec![
            ("csrf", csrf.to_owned()),
            ("name", "Eva Owner".to_owned()),
            ("email", "eva@home.example".to_owned()),
            ("region", "EU".to_owned()),
            ("password", PASSWORD.to_owned()),
        ]
    };
    let before = user_count(&s).await;
    let res = s
        .http
        .post(format!("{url}/app/signup"))
        .header("cookie", format!("sw_precsrf={pre}"))
        .form(&form("forged"))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::OK);
    assert!(set_cookie(&res, "sw_session").is_none());
    assert!(res.text().await.expect("html").contains("expired"));
    assert_eq!(
        user_count(&s).await,
        before,
        "nothing created without the token"
    );

    let res = s
        .http
        .post(format!("{url}/app/signup"))
        .header("cookie", format!("sw_precsrf={pre}"))
        .form(&form(&pre))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/app");
    let token = set_cookie(&res, "sw_session").expect("signed in at once");
    let cookie = format!("sw_session={token}");
    let (_, me) = s.get("/api/v1/me", &token).await;
    assert_eq!(me["kind"], "end_user");
    assert_eq!(me["app_version"], "5.0", "the web app's version");

    // Home: no sites yet, the app's sections, the PWA manifest.
    let res = page(&s, "/app", &cookie).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.expect("html");
    for want in [
        "My sites",
        "No sites yet",
        "href=\"/app/manifest.webmanifest\"",
        "href=\"/app/invitations\"",
        "href=\"/app/requests\"",
        "href=\"/app/alarms\"",
        "href=\"/app/about\"",
    ] {
        assert!(html.contains(want), "{want} in {html}");
    }
    assert!(!html.contains("installer-logo"), "no installer yet");
    for path in ["/app/invitations", "/app/requests", "/app/alarms"] {
        let res = page(&s, path, &cookie).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let html = res.text().await.expect("html");
        assert!(html.contains("data-live"), "{path} has a live part");
    }

    // A handed-over site shows with the installer's logo (one company, R-3) and,
    // on its page, what the installer did.
    let site = s.site(&a.admin, "Eva's house").await;
    hand_over(&s, db, &site, me["id"].as_str().expect("id")).await;
    let html = page(&s, "/app", &cookie).await.text().await.expect("html");
    assert!(
        html.contains("Eva&#x27;s house") || html.contains("Eva&#39;s house"),
        "{html}"
    );
    assert!(html.contains("class=\"installer-logo\""), "{html}");
    assert!(html.contains("Acme"));
    let res = s
        .http
        .get(format!("{url}/app"))
        .header("cookie", &cookie)
        .header("x-partial", "sites")
        .send()
        .await
        .expect("partial");
    let part = res.text().await.expect("html");
    assert!(
        part.contains("/app/sites/") && !part.contains("<html"),
        "{part}"
    );
    let html = page(&s, &format!("/app/sites/{site}"), &cookie)
        .await
        .text()
        .await
        .expect("html");
    assert!(html.contains("created site"), "R-37 trail: {html}");
    assert!(html.contains("by Ada Admin"), "{html}");
    let res = page(
        &s,
        "/app/sites/0190c1d2-0000-7000-8000-000000000000",
        &cookie,
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = page(&s, "/app/about", &cookie).await;
    let html = res.text().await.expect("html");
    assert!(
        html.contains("class=\"installer-logo\"") && html.contains("Acme"),
        "{html}"
    );
    let csrf = csrf_of(&html);

    // PWA files, with their media types.
    for (path, ct) in [
        ("/app/manifest.webmanifest", "application/manifest+json"),
        ("/app/sw.js", "text/javascript; charset=utf-8"),
        ("/app/icon-192.png", "image/png"),
        ("/app/icon-512.png", "image/png"),
        ("/static/enduser.css", "text/css; charset=utf-8"),
        ("/static/enduser.js", "text/javascript; charset=utf-8"),
        ("/static/app-icon.svg", "image/svg+xml"),
        ("/app/offline", "text/html; charset=utf-8"),
    ] {
        let res = page(&s, path, "").await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(res.headers()["content-type"], ct, "{path}");
        if path == "/app/sw.js" {
            assert_eq!(res.headers()["service-worker-allowed"], "/app");
        }
        let body = res.bytes().await.expect("body");
        if ct == "image/png" {
            assert!(body.starts_with(b"\x89PNG\r\n\x1a\n"), "{path}");
        }
        if path.ends_with(".webmanifest") {
            let m: Value = serde_json::from_slice(&body).expect("manifest is JSON");
            assert_eq!(m["start_url"], "/app");
            assert_eq!(m["display"], "standalone");
            let sizes: Vec<&str> = m["icons"]
                .as_array()
                .expect("icons")
                .iter()
                .filter_map(|i| i["sizes"].as_str())
                .collect();
            assert!(
                sizes.contains(&"192x192") && sizes.contains(&"512x512"),
                "{m}"
            );
        }
    }

    // Installers and end users each land on their own side.
    let admin_cookie = format!("sw_session={}", a.admin);
    let res = page(&s, "/app", &admin_cookie).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/portal");
    let res = page(&s, "/portal/sites", &cookie).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/app");
    let res = page(&s, "/app/login", "").await;
    let pre = set_cookie(&res, "sw_precsrf").expect("token");
    let res = s
        .http
        .post(format!("{url}/app/login"))
        .header("cookie", format!("sw_precsrf={pre}"))
        .form(&[
            ("csrf", pre.as_str()),
            ("email", "ada@acme.example"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers()["location"],
        "/portal",
        "an installer in the app"
    );
    let res = page(&s, "/login", "").await;
    let pre = set_cookie(&res, "sw_precsrf").expect("token");
    let res = s
        .http
        .post(format!("{url}/login"))
        .header("cookie", format!("sw_precsrf={pre}"))
        .form(&[
            ("csrf", pre.as_str()),
            ("email", "eva@home.example"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers()["location"],
        "/app",
        "an end user in the portal"
    );

    // Signing out needs the session's token.
    let res = s
        .http
        .post(format!("{url}/app/logout"))
        .header("cookie", &cookie)
        .form(&[("csrf", "forged")])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(s.app.authenticate(&token).await.is_ok(), "still signed in");
    let res = s
        .http
        .post(format!("{url}/app/logout"))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/app/login");
    assert!(s.app.authenticate(&token).await.is_err(), "signed out");
    s.finish().await;
}

/// On a phone-sized screen: sign up in the app and see Home; an installer's
/// invitation arrives live and is accepted; Home shows the site with the
/// installer's logo; the service worker installs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_on_a_phone_and_see_home() {
    let s = TestServer::start(Db::Sqlite).await;
    let a = s.company("Acme", "ada@acme.example").await;
    put_logo(&s, &a.admin).await;
    let (_driver, c) = phone().await;
    let url = s.url.clone();

    c.goto(&format!("{url}/app")).await.expect("app");
    c.find(fantoccini::Locator::Css("form[action='/app/login']"))
        .await
        .expect("signed out: the app's sign-in");
    c.goto(&format!("{url}/app/signup"))
        .await
        .expect("sign-up page");
    fill(&c, "input[name=name]", "Eva Owner").await;
    fill(&c, "input[name=email]", "eva@home.example").await;
    c.find(fantoccini::Locator::Css(
        "select[name=region] option[value=EU]",
    ))
    .await
    .expect("EU offered")
    .click()
    .await
    .expect("choose EU");
    fill(&c, "input[name=password]", PASSWORD).await;
    screenshot(&c, "app-signup-phone").await;
    click(&c, "button[type=submit]").await;
    let welcome = text_of(&c, ".flash.ok").await;
    assert!(welcome.contains("Welcome, Eva Owner"), "{welcome}");
    let empty = text_of(&c, "#sites").await;
    assert!(empty.contains("No sites yet"), "{empty}");
    // The tab bar fits the phone and stays in view.
    let tabs = text_of(&c, ".tabbar").await;
    for t in ["Home", "Invitations", "Requests", "Alarms", "About"] {
        assert!(tabs.contains(t), "{t} in {tabs}");
    }
    let (width, scroll) = (
        c.execute("return window.innerWidth;", vec![])
            .await
            .expect("width"),
        c.execute("return document.documentElement.scrollWidth;", vec![])
            .await
            .expect("scroll width"),
    );
    assert_eq!(width, json!(390), "a phone's viewport");
    assert_eq!(scroll, json!(390), "nothing wider than the screen");

    // The installer invites Eva: the invitation appears while she looks, and she
    // accepts it on the phone.
    click(&c, ".tabbar a[href='/app/invitations']").await;
    let waiting = text_of(&c, "#invitations").await;
    assert!(waiting.contains("Nothing waiting"), "{waiting}");
    let site = s.site(&a.admin, "Eva's house").await;
    let (status, inv) = s
        .post(
            &format!("/api/v1/sites/{site}/invitation"),
            &a.admin,
            json!({"end_user_email": "eva@home.example",
                   "authorization": {"permissions": ["health_monitoring"], "duration_hours": 24}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{inv}");
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(fantoccini::Locator::Css("#invitations section.invitation"))
        .await
        .expect("the invitation arrives live (server-sent events)");
    let card = text_of(&c, "#invitations section.invitation").await;
    assert!(
        card.contains("Eva's house") && card.contains("Health monitoring"),
        "{card}"
    );
    screenshot(&c, "app-invitation-phone").await;
    click(
        &c,
        "#invitations form[action$='/accept'] button[type=submit]",
    )
    .await;
    let notice = text_of(&c, ".flash.ok").await;
    assert!(notice.contains("Eva's house is yours now"), "{notice}");
    c.goto(&format!("{url}/app")).await.expect("home");
    let sites = text_of(&c, "#sites").await;
    assert!(sites.contains("Eva's house"), "{sites}");
    let logo = c
        .find(fantoccini::Locator::Css("img.installer-logo"))
        .await
        .expect("R-3: one company, its logo");
    let loaded = c
        .execute(
            "return arguments[0].complete && arguments[0].naturalWidth > 0;",
            vec![serde_json::to_value(&logo).expect("element")],
        )
        .await
        .expect("loaded");
    assert_eq!(loaded, Value::Bool(true), "the logo loads under the CSP");
    screenshot(&c, "app-home-phone").await;

    // The service worker installs (the app is installable).
    let mut registered = Value::Null;
    for _ in 0..50 {
        registered = c
            .execute(
                "return !!(navigator.serviceWorker && navigator.serviceWorker.controller);",
                vec![],
            )
            .await
            .expect("sw");
        if registered == Value::Bool(true) {
            break;
        }
        c.refresh().await.expect("reload");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        registered,
        Value::Bool(true),
        "the service worker controls /app"
    );
    let _ = c.close().await;
    s.finish().await;
}

/// Signs up in the app; returns the session cookie and its CSRF secret.
async fn app_sign_up(s: &TestServer, email: &str) -> (String, String) {
    let res = page(s, "/app/signup", "").await;
    let pre = set_cookie(&res, "sw_precsrf").expect("pre-session token");
    let res = s
        .http
        .post(format!("{}/app/signup", s.url))
        .header("cookie", format!("sw_precsrf={pre}"))
        .form(&[
            ("csrf", pre.as_str()),
            ("name", "Eva Owner"),
            ("email", email),
            ("region", "EU"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("sign up");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let token = set_cookie(&res, "sw_session").expect("session");
    let csrf = s
        .app
        .authenticate(&token)
        .await
        .expect("session")
        .csrf_token;
    (format!("sw_session={token}"), csrf)
}

async fn submit(
    s: &TestServer,
    cookie: &str,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    s.http
        .post(format!("{}{path}", s.url))
        .header("cookie", cookie)
        .form(form)
        .send()
        .await
        .expect("post")
}

async fn the_app_answers_invitations_and_requests(db: Db) {
    let s = TestServer::start(db).await;
    let a = s.company("Acme", "ada@acme.example").await;
    let site = s.site(&a.admin, "Lake house").await;
    let (cookie, csrf) = app_sign_up(&s, "eva@home.example").await;
    let token = cookie.trim_start_matches("sw_session=").to_owned();

    let html = page(&s, "/app/invitations", &cookie)
        .await
        .text()
        .await
        .expect("html");
    assert!(html.contains("Nothing waiting"), "{html}");

    // The installer invites Eva, asking to keep maintaining the site for 8 hours.
    let (status, inv) = s
        .post(
            &format!("/api/v1/sites/{site}/invitation"),
            &a.admin,
            json!({"end_user_email": "eva@home.example",
                   "authorization": {"permissions": ["site_info", "health_monitoring"], "duration_hours": 8}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{inv}");
    let inv_id = inv["id"].as_str().expect("id").to_owned();

    let html = page(&s, "/app", &cookie).await.text().await.expect("html");
    assert!(html.contains("1 invitation waits"), "{html}");
    let html = page(&s, "/app/invitations", &cookie)
        .await
        .text()
        .await
        .expect("html");
    for want in [
        "Lake house",
        "Acme (Ada Admin) invites you",
        "Site information",
        "Health monitoring",
        "8 hours, as asked",
        "<option value=\"4\">4 hours</option>",
        &format!("action=\"/app/invitations/{inv_id}/accept\""),
        &format!("action=\"/app/invitations/{inv_id}/decline\""),
    ] {
        assert!(html.contains(want), "{want} in {html}");
    }

    // Answers need the session's token.
    let res = submit(
        &s,
        &cookie,
        &format!("/app/invitations/{inv_id}/accept"),
        &[("csrf", "forged"), ("approve", "yes")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let (_, mine) = s.get("/api/v1/me/sites", &token).await;
    assert_eq!(mine["items"], json!([]), "not accepted");

    // Accept, allowing the maintenance for 4 hours instead of 8.
    let res = submit(
        &s,
        &cookie,
        &format!("/app/invitations/{inv_id}/accept"),
        &[
            ("csrf", csrf.as_str()),
            ("approve", "yes"),
            ("duration", "4"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers()["location"],
        format!("/app/sites/{site}").as_str()
    );
    let (_, mine) = s.get("/api/v1/me/sites", &token).await;
    assert_eq!(mine["items"][0]["id"], site.as_str(), "{mine}");
    assert_eq!(mine["items"][0]["state"], "handed_over");
    let (_, auths) = s.get("/api/v1/me/authorization-requests", &token).await;
    assert_eq!(auths["items"][0]["state"], "approved", "{auths}");
    assert_eq!(auths["items"][0]["granted_hours"], 4, "{auths}");
    let html = page(&s, "/app/requests", &cookie)
        .await
        .text()
        .await
        .expect("html");
    assert!(
        html.contains("In force") && html.contains("Cancel authorization"),
        "{html}"
    );

    // The owner cancels it; the installer applies again; the owner rejects.
    let res = submit(
        &s,
        &cookie,
        &format!("/app/sites/{site}/authorization/cancel"),
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, auths) = s.get("/api/v1/me/authorization-requests", &token).await;
    assert_eq!(auths["items"][0]["state"], "cancelled", "{auths}");
    let (status, req) = s
        .post(
            &format!("/api/v1/sites/{site}/authorization-requests"),
            &a.admin,
            json!({"permissions": ["live_view"], "duration_hours": 2, "remark": "camera check"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{req}");
    let req_id = req["id"].as_str().expect("id").to_owned();
    let html = page(&s, "/app", &cookie).await.text().await.expect("html");
    assert!(html.contains("1 request waits"), "{html}");
    let html = page(&s, "/app/requests", &cookie)
        .await
        .text()
        .await
        .expect("html");
    assert!(
        html.contains("Live view") && html.contains("camera check"),
        "{html}"
    );
    assert!(
        html.contains(&format!("/app/requests/{req_id}/approve")),
        "{html}"
    );
    let res = submit(
        &s,
        &cookie,
        &format!("/app/requests/{req_id}/reject"),
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, auths) = s.get("/api/v1/me/authorization-requests", &token).await;
    let states: Vec<&str> = auths["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|a| a["state"].as_str())
        .collect();
    assert_eq!(states, ["rejected", "cancelled"], "{auths}");

    // A second application, approved as asked from the app.
    let (_, req) = s
        .post(
            &format!("/api/v1/sites/{site}/authorization-requests"),
            &a.admin,
            json!({"permissions": ["health_monitoring"], "duration_hours": 1}),
        )
        .await;
    let req_id = req["id"].as_str().expect("id").to_owned();
    let res = submit(
        &s,
        &cookie,
        &format!("/app/requests/{req_id}/approve"),
        &[("csrf", csrf.as_str()), ("duration", "")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, auths) = s.get("/api/v1/me/authorization-requests", &token).await;
    assert_eq!(auths["items"][0]["state"], "approved", "{auths}");
    assert_eq!(auths["items"][0]["granted_hours"], 1, "{auths}");

    // The site's trail in the app shows the hand-over.
    let html = page(&s, &format!("/app/sites/{site}"), &cookie)
        .await
        .text()
        .await
        .expect("html");
    assert!(
        html.contains("by Eva Owner") && html.contains("by Ada Admin"),
        "{html}"
    );
    s.finish().await;
}
