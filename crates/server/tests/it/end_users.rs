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
use siteward_devsim::{EventKind, Fault, Fleet, FleetSpec, OfflineMode};
use std::time::Duration;

on_both!(
    sign_up_is_all_or_nothing,
    sign_in_records_the_app_version,
    my_sites_show_devices_and_the_logo_rule,
    the_app_pages_work_with_cookie_and_csrf,
    the_app_answers_invitations_and_requests,
    the_owner_removes_devices_in_the_app,
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

/// Adds a simulated device to a site over IP (as the installer); returns its id
/// and name.
async fn add_device(
    s: &TestServer,
    token: &str,
    site: &str,
    d: &siteward_devsim::DeviceInfo,
) -> (String, String) {
    let (status, body) = s
        .post(
            &format!("/api/v1/sites/{site}/devices"),
            token,
            json!({"via": "ip", "host": d.address.ip().to_string(), "port": d.address.port(),
                   "username": d.username, "password": d.password}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (
        body["id"].as_str().expect("id").to_owned(),
        body["name"].as_str().expect("name").to_owned(),
    )
}

/// Follows a form's redirect with the flash cookie it set: (where, the page).
async fn follow(s: &TestServer, cookie: &str, res: reqwest::Response) -> (String, String) {
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "a redirect");
    let to = res.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let cookie = match set_cookie(&res, "sw_flash") {
        Some(flash) => format!("{cookie}; sw_flash={flash}"),
        None => cookie.to_owned(),
    };
    let html = page(s, &to, &cookie).await.text().await.expect("html");
    (to, html)
}

/// The devices of a site as its owner sees them through the API.
async fn owned_devices(s: &TestServer, token: &str, site: &str) -> Vec<String> {
    let (status, body) = s.get(&format!("/api/v1/me/sites/{site}"), token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["devices"]
        .as_array()
        .expect("devices")
        .iter()
        .filter_map(|d| d["id"].as_str().map(str::to_owned))
        .collect()
}

/// once the site is handed over, its owner removes devices in the app —
/// a form with the session's CSRF secret that asks first (`data-confirm`), over the
/// same use case as `DELETE /api/v1/devices/{id}`; the answer shows as a message.
/// Nobody else may: not the installer (API or app), not another end user, not the
/// owner before accepting, not a forged form.
async fn the_owner_removes_devices_in_the_app(db: Db) {
    let s = TestServer::start(db).await;
    let fleet = Fleet::start(FleetSpec::parse_mix("ipc=2", 5).expect("mix"))
        .await
        .expect("fleet");
    let a = s.company("Acme", "ada@acme.example").await;
    let site = s.site(&a.admin, "Lake house").await;
    let mut devices = Vec::new();
    for d in fleet.devices() {
        devices.push(add_device(&s, &a.admin, &site, &d).await);
    }
    let (cam, cam_name) = devices[0].clone();
    let (other, _) = devices[1].clone();
    let (cookie, csrf) = app_sign_up(&s, "eva@home.example").await;
    let token = cookie.trim_start_matches("sw_session=").to_owned();
    let (bob_cookie, bob_csrf) = app_sign_up(&s, "bob@home.example").await;
    let remove = |device: &str| format!("/app/sites/{site}/devices/{device}/remove");

    // Invited, not yet the owner: the installer may no longer delete, and
    // Eva may not yet.
    let (status, inv) = s
        .post(
            &format!("/api/v1/sites/{site}/invitation"),
            &a.admin,
            json!({"end_user_email": "eva@home.example"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{inv}");
    let (status, body) = s.delete(&format!("/api/v1/devices/{cam}"), &a.admin).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["code"], "policy.only_owner_deletes_devices");
    let res = submit(&s, &cookie, &remove(&cam), &[("csrf", csrf.as_str())]).await;
    let (to, html) = follow(&s, &cookie, res).await;
    assert_eq!(to, "/app", "not her site yet: back home");
    assert!(
        html.contains("flash error") && html.contains("not found"),
        "{html}"
    );

    // Eva accepts in the app; her site's page offers to remove each device, asking
    // first. Home lists the devices without.
    let inv_id = inv["id"].as_str().expect("id");
    let res = submit(
        &s,
        &cookie,
        &format!("/app/invitations/{inv_id}/accept"),
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(owned_devices(&s, &token, &site).await.len(), 2);
    let html = page(&s, &format!("/app/sites/{site}"), &cookie)
        .await
        .text()
        .await
        .expect("html");
    for d in [&cam, &other] {
        let action = format!("action=\"/app/sites/{site}/devices/{d}/remove\"");
        let at = html
            .find(&action)
            .unwrap_or_else(|| panic!("{action} in {html}"));
        let form = &html[html[..at].rfind("<form").expect("form")..];
        let form = &form[..form.find("</form>").expect("end of form")];
        assert!(form.contains("data-confirm=\"Remove "), "{form}");
        assert!(
            form.contains(&format!("name=\"csrf\" value=\"{csrf}\"")),
            "{form}"
        );
    }
    let part = s
        .http
        .get(format!("{}/app/sites/{site}", s.url))
        .header("cookie", &cookie)
        .header("x-partial", "site-live")
        .send()
        .await
        .expect("partial")
        .text()
        .await
        .expect("html");
    assert!(
        part.contains(&remove(&cam)) && !part.contains("<html"),
        "the live part keeps the forms: {part}"
    );
    let home = page(&s, "/app", &cookie).await.text().await.expect("html");
    assert!(
        home.contains(&cam_name) && !home.contains("/remove"),
        "{home}"
    );

    // Refused: a forged form, another end user, the installer in the app and over
    // the API. Nothing is removed.
    let res = submit(&s, &cookie, &remove(&cam), &[("csrf", "forged")]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = submit(
        &s,
        &bob_cookie,
        &remove(&cam),
        &[("csrf", bob_csrf.as_str())],
    )
    .await;
    let (to, html) = follow(&s, &bob_cookie, res).await;
    assert_eq!(to, "/app", "Bob does not see Eva's site");
    assert!(
        html.contains("flash error") && html.contains("device not found"),
        "{html}"
    );
    assert!(!html.contains("Lake house"), "{html}");
    let admin_cookie = format!("sw_session={}", a.admin);
    let res = submit(&s, &admin_cookie, &remove(&cam), &[("csrf", "x")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers()["location"],
        "/portal",
        "the app is not theirs"
    );
    let (status, body) = s.delete(&format!("/api/v1/devices/{cam}"), &a.admin).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["code"], "policy.only_owner_deletes_devices");
    assert_eq!(
        owned_devices(&s, &token, &site).await,
        [cam.clone(), other.clone()]
    );

    // Eva removes the camera: a message on her site's page, which lists only the
    // other device; the trail records it; the installer sees it gone.
    let res = submit(&s, &cookie, &remove(&cam), &[("csrf", csrf.as_str())]).await;
    let (to, html) = follow(&s, &cookie, res).await;
    assert_eq!(to, format!("/app/sites/{site}"));
    assert!(
        html.contains("flash ok")
            && html.contains(&format!("{cam_name} is removed from Lake house.")),
        "{html}"
    );
    assert!(
        !html.contains(&remove(&cam)) && html.contains(&remove(&other)),
        "{html}"
    );
    assert!(html.contains("by Eva Owner"), "R-37 trail: {html}");
    assert_eq!(owned_devices(&s, &token, &site).await, [other.as_str()]);
    let (status, _) = s.get(&format!("/api/v1/devices/{cam}"), &a.admin).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, audit) = s
        .get(&format!("/api/v1/me/sites/{site}/audit"), &token)
        .await;
    assert_eq!(audit["items"][0]["action"], "device.delete", "{audit}");

    // Again: it is gone, which she is told on the same page.
    let res = submit(&s, &cookie, &remove(&cam), &[("csrf", csrf.as_str())]).await;
    let (to, html) = follow(&s, &cookie, res).await;
    assert_eq!(to, format!("/app/sites/{site}"));
    assert!(
        html.contains("flash error") && html.contains("device not found"),
        "{html}"
    );
    drop(fleet);
    s.finish().await;
}

// ---- On a phone, in headless Chromium (R-34 to) ---------------------

/// How long something that comes over the live stream may take to show.
const LIVE: Duration = Duration::from_secs(15);

/// Signs in to the app in the browser and lands on Home.
async fn app_sign_in(c: &fantoccini::Client, url: &str, email: &str) {
    c.goto(&format!("{url}/app/login"))
        .await
        .expect("sign-in page");
    fill(c, "input[name=email]", email).await;
    fill(c, "input[name=password]", PASSWORD).await;
    click(c, "button[type=submit]").await;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_url(&format!("{url}/app").parse().expect("url"))
        .await
        .expect("signed in to the app");
}

/// Waits until the page's event stream is open (the script marks the root
/// element), so that whatever happens next is heard; then marks the page, so that
/// [`not_reloaded`] can tell it was updated in place.
async fn listening(c: &fantoccini::Client) {
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(fantoccini::Locator::Css("html[data-stream=open]"))
        .await
        .expect("the page's live stream opens");
    c.execute("window.stillTheSamePage = true;", vec![])
        .await
        .expect("mark the page");
}

/// The page marked by [`listening`] is still the one shown: no reload, no
/// navigation.
async fn not_reloaded(c: &fantoccini::Client) {
    let same = c
        .execute("return window.stillTheSamePage === true;", vec![])
        .await
        .expect("script");
    assert_eq!(same, Value::Bool(true), "updated live, without a reload");
}

/// Counts from now on the live part's re-renders (the script's `siteward:updated`).
async fn count_updates(c: &fantoccini::Client) {
    c.execute(
        "window.liveUpdates = 0; document.addEventListener('siteward:updated', function () { window.liveUpdates += 1; });",
        vec![],
    )
    .await
    .expect("count updates");
}

/// Waits (polling, up to [`LIVE`]) until the live part was re-rendered `n` times
/// since [`count_updates`].
async fn updated(c: &fantoccini::Client, n: u64) {
    let deadline = std::time::Instant::now() + LIVE;
    loop {
        let seen = c
            .execute("return window.liveUpdates;", vec![])
            .await
            .expect("script");
        if seen.as_u64().is_some_and(|seen| seen >= n) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{n} live updates within {LIVE:?}; saw {seen}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits (polling, up to `within`) for an element, e.g. one a live update brings.
async fn appears(
    c: &fantoccini::Client,
    css: &str,
    within: Duration,
) -> fantoccini::elements::Element {
    c.wait()
        .at_most(within)
        .every(Duration::from_millis(100))
        .for_element(fantoccini::Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} within {within:?}: {e}"))
}

/// Waits (polling, up to `within`) until the text of `css` contains `want`.
async fn until_text(c: &fantoccini::Client, css: &str, want: &str, within: Duration) -> String {
    let deadline = std::time::Instant::now() + within;
    loop {
        let text = match c.find(fantoccini::Locator::Css(css)).await {
            Ok(el) => el.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if text.contains(want) {
            return text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{want:?} in {css} within {within:?}; it says {text:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// the page fits the phone's 390 px: nothing scrolls sideways.
async fn fits_the_phone(c: &fantoccini::Client, what: &str) {
    let (width, scroll) = (
        c.execute("return window.innerWidth;", vec![])
            .await
            .expect("width"),
        c.execute("return document.documentElement.scrollWidth;", vec![])
            .await
            .expect("scroll width"),
    );
    assert_eq!(width, json!(390), "a phone's viewport");
    assert!(
        scroll.as_u64().is_some_and(|w| w <= 390),
        "{what} is {scroll} px wide on a 390 px screen"
    );
}

/// Signs up an end user through the API and hands `site` over to them by the real
/// flow (the installer invites, they accept over the API); returns their token.
async fn owner_of(s: &TestServer, installer: &str, site: &str, email: &str) -> String {
    let (_, token) = owner(s, email).await;
    let (status, inv) = s
        .post(
            &format!("/api/v1/sites/{site}/invitation"),
            installer,
            json!({"end_user_email": email}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{inv}");
    let (status, body) = s
        .post(
            &format!(
                "/api/v1/invitations/{}/accept",
                inv["id"].as_str().expect("id")
            ),
            &token,
            json!({}),
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    token
}

/// on a 390×844 phone: Eva, signed in on Home, sees the
/// installer's invitation arrive live (no reload), opens it and taps Accept; the
/// site is hers in My sites. On its page she removes a device, confirming first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_an_invitation_live_on_a_phone() {
    let s = TestServer::start(Db::Sqlite).await;
    let fleet = Fleet::start(FleetSpec::parse_mix("ipc=1", 11).expect("mix"))
        .await
        .expect("fleet");
    let a = s.company("Acme", "ada@acme.example").await;
    let site = s.site(&a.admin, "Lake house").await;
    let (cam, cam_name) = add_device(&s, &a.admin, &site, &fleet.devices()[0]).await;
    let (_, eva) = owner(&s, "eva@home.example").await;
    let (_driver, c) = phone().await;
    let url = s.url.clone();

    app_sign_in(&c, &url, "eva@home.example").await;
    let empty = text_of(&c, "#sites").await;
    assert!(empty.contains("No sites yet"), "{empty}");
    fits_the_phone(&c, "Home").await;
    listening(&c).await;

    // The installer invites her through the API; Home tells her while she looks.
    let (status, inv) = s
        .post(
            &format!("/api/v1/sites/{site}/invitation"),
            &a.admin,
            json!({"end_user_email": "eva@home.example"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{inv}");
    let waiting = appears(&c, "#sites a.waiting[href='/app/invitations']", LIVE)
        .await
        .text()
        .await
        .expect("text");
    assert!(waiting.contains("1 invitation waits"), "{waiting}");
    not_reloaded(&c).await;
    fits_the_phone(&c, "Home with an invitation").await;
    screenshot(&c, "app-invitation-waits-phone").await;

    // She opens it and accepts.
    click(&c, "#sites a.waiting[href='/app/invitations']").await;
    let card = text_of(&c, "#invitations section.invitation").await;
    assert!(
        card.contains("Lake house") && card.contains("Acme (Ada Admin) invites you"),
        "{card}"
    );
    fits_the_phone(&c, "Invitations").await;
    click(
        &c,
        "#invitations form[action$='/accept'] button[type=submit]",
    )
    .await;
    let notice = until_text(&c, ".flash.ok", "Lake house is yours now", LIVE).await;
    assert!(notice.contains("Acme looks after it"), "{notice}");
    assert_eq!(
        c.current_url().await.expect("url").path(),
        format!("/app/sites/{site}")
    );

    // My sites: the site, hers.
    click(&c, ".tabbar a[href='/app']").await;
    let mine = until_text(&c, "#sites", "Lake house", LIVE).await;
    assert!(!mine.contains("invitation waits"), "answered: {mine}");
    appears(
        &c,
        &format!("#sites a[href='/app/sites/{site}']"),
        Duration::from_secs(5),
    )
    .await;
    fits_the_phone(&c, "Home with a site").await;
    screenshot(&c, "app-home-with-site-phone").await;
    let (_, sites) = s.get("/api/v1/me/sites", &eva).await;
    assert_eq!(sites["items"][0]["id"], site.as_str(), "{sites}");
    assert_eq!(sites["items"][0]["state"], "handed_over", "{sites}");

    // on the site's page she removes the camera; the app asks first, and
    // saying no keeps it — also once a live update has re-rendered the devices (the
    // installer applies for an authorization, which the trail shows, R-37).
    click(&c, &format!("#sites a[href='/app/sites/{site}']")).await;
    let form = format!("form[action='/app/sites/{site}/devices/{cam}/remove'] button");
    appears(&c, &form, Duration::from_secs(5)).await;
    listening(&c).await;
    count_updates(&c).await;
    let (status, req) = s
        .post(
            &format!("/api/v1/sites/{site}/authorization-requests"),
            &a.admin,
            json!({"permissions": ["site_info"], "duration_hours": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{req}");
    updated(&c, 1).await;
    until_text(&c, "#site-live", "applied for an authorization", LIVE).await;
    not_reloaded(&c).await;
    fits_the_phone(&c, "the site's page").await;
    screenshot(&c, "app-site-phone").await;
    click(&c, &form).await;
    let question = c.get_alert_text().await.expect("asked first");
    assert!(
        question.contains(&format!("Remove {cam_name} from Lake house?")),
        "{question}"
    );
    c.dismiss_alert().await.expect("no");
    assert_eq!(owned_devices(&s, &eva, &site).await, [cam.as_str()], "kept");
    click(&c, &form).await;
    c.accept_alert().await.expect("yes");
    let notice = until_text(&c, ".flash.ok", "is removed from Lake house", LIVE).await;
    assert!(notice.contains(&cam_name), "{notice}");
    let devices = text_of(&c, "#site-live").await;
    assert!(devices.contains("No devices yet"), "{devices}");
    assert_eq!(owned_devices(&s, &eva, &site).await, Vec::<String>::new());
    let _ = c.close().await;
    drop(fleet);
    s.finish().await;
}

/// on a 390×844 phone: the installer applies for 8 hours of health
/// monitoring; the request appears live on Requests; the owner approves it for one
/// hour only, and the installer's authorization runs out in about an hour.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approve_an_authorization_live_on_a_phone() {
    let s = TestServer::start(Db::Sqlite).await;
    let a = s.company("Acme", "ada@acme.example").await;
    let site = s.site(&a.admin, "Lake house").await;
    owner_of(&s, &a.admin, &site, "eva@home.example").await;
    let (_driver, c) = phone().await;
    let url = s.url.clone();

    app_sign_in(&c, &url, "eva@home.example").await;
    click(&c, ".tabbar a[href='/app/requests']").await;
    let nothing = text_of(&c, "#requests").await;
    assert!(nothing.contains("Nothing waiting"), "{nothing}");
    fits_the_phone(&c, "Requests").await;
    listening(&c).await;

    let (status, req) = s
        .post(
            &format!("/api/v1/sites/{site}/authorization-requests"),
            &a.admin,
            json!({"permissions": ["health_monitoring"], "duration_hours": 8, "remark": "yearly check"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{req}");
    let card = appears(&c, "#requests section.request", LIVE)
        .await
        .text()
        .await
        .expect("text");
    for want in ["Lake house", "Health monitoring", "8 hours", "yearly check"] {
        assert!(card.contains(want), "{want} in {card}");
    }
    not_reloaded(&c).await;
    fits_the_phone(&c, "Requests with a request").await;

    // One hour instead of eight.
    click(
        &c,
        "#requests section.request select[name=duration] option[value='1']",
    )
    .await;
    let chosen = c
        .execute(
            "return document.querySelector('#requests section.request select[name=duration]').value;",
            vec![],
        )
        .await
        .expect("value");
    assert_eq!(chosen, json!("1"), "1 hour chosen");
    screenshot(&c, "app-request-phone").await;

    // Meanwhile another invitation re-renders the page: her choice stays.
    count_updates(&c).await;
    let boat = s.site(&a.admin, "Boat house").await;
    let (status, inv) = s
        .post(
            &format!("/api/v1/sites/{boat}/invitation"),
            &a.admin,
            json!({"end_user_email": "eva@home.example"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{inv}");
    updated(&c, 1).await;
    not_reloaded(&c).await;
    let chosen = c
        .execute(
            "return document.querySelector('#requests section.request select[name=duration]').value;",
            vec![],
        )
        .await
        .expect("value");
    assert_eq!(chosen, json!("1"), "the choice survives a live update");
    let approved_at = time::OffsetDateTime::now_utc();
    click(
        &c,
        "#requests section.request form[action$='/approve'] button[type=submit]",
    )
    .await;
    let notice = until_text(&c, ".flash.ok", "Acme may maintain Lake house until", LIVE).await;
    assert!(notice.contains("UTC"), "{notice}");
    let in_force = text_of(&c, "#requests section.authorization").await;
    assert!(
        in_force.contains("Health monitoring")
            && in_force.contains("1 hour")
            && !in_force.contains("8 hours"),
        "what she granted, not what was asked: {in_force}"
    );
    fits_the_phone(&c, "Requests with an authorization").await;
    screenshot(&c, "app-authorization-phone").await;

    // The installer's side: approved, for an hour from now.
    let (status, list) = s
        .get(&format!("/api/v1/sites/{site}/authorizations"), &a.admin)
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let auth = &list["items"][0];
    assert_eq!(auth["id"], req["id"], "{list}");
    assert_eq!(auth["state"], "approved", "{auth}");
    assert_eq!(auth["granted_hours"], 1, "{auth}");
    let expires = time::OffsetDateTime::parse(
        auth["expires_at"].as_str().expect("an expiry"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("RFC 3339");
    let left = expires - approved_at;
    assert!(
        left > time::Duration::minutes(58) && left < time::Duration::minutes(61),
        "expires in {left}, not about an hour: {auth}"
    );
    let _ = c.close().await;
    s.finish().await;
}

/// Waits until the server listens to the device's alert stream.
async fn listened(fleet: &Fleet, serial: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(40);
    while fleet.device(serial).expect("device").stream_count() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no alert stream to {serial}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// R-36 on a 390×844 phone: a camera of the owner's site detects an intrusion; the
/// alarm appears live on the Alarms page; the owner acknowledges it and it shows
/// acknowledged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn see_an_alarm_arrive_live_on_a_phone() {
    let s = TestServer::start(Db::Sqlite).await;
    let fleet = Fleet::start(FleetSpec::parse_mix("ipc=1", 13).expect("mix"))
        .await
        .expect("fleet");
    let serial = fleet.devices()[0].serial.clone();
    let a = s.company("Acme", "ada@acme.example").await;
    let site = s.site(&a.admin, "Lake house").await;
    add_device(&s, &a.admin, &site, &fleet.devices()[0]).await;
    let eva = owner_of(&s, &a.admin, &site, "eva@home.example").await;
    listened(&fleet, &serial).await;
    let (_driver, c) = phone().await;
    let url = s.url.clone();

    app_sign_in(&c, &url, "eva@home.example").await;
    click(&c, ".tabbar a[href='/app/alarms']").await;
    let none = text_of(&c, "#alarms").await;
    assert!(none.contains("No alarms"), "{none}");
    fits_the_phone(&c, "Alarms").await;
    listening(&c).await;

    fleet
        .device(&serial)
        .expect("camera")
        .emit(EventKind::Intrusion, Some(1), None)
        .expect("event");
    let line = appears(&c, "#alarms li.alarm.open", LIVE)
        .await
        .text()
        .await
        .expect("text");
    not_reloaded(&c).await;
    let (_, list) = s.get("/api/v1/me/alarms", &eva).await;
    let alarm = &list["items"][0];
    assert_eq!(alarm["kind"], "intrusion", "{list}");
    for field in ["text", "device_name"] {
        let want = alarm[field].as_str().expect(field);
        assert!(line.contains(want), "{want} in {line}");
    }
    let pending = text_of(&c, "#alarms").await;
    assert!(pending.contains("1 to acknowledge"), "{pending}");
    fits_the_phone(&c, "Alarms with an alarm").await;
    screenshot(&c, "app-alarm-phone").await;

    click(&c, "#alarms li.alarm.open form button[type=submit]").await;
    let notice = until_text(&c, ".flash.ok", "Alarm acknowledged", LIVE).await;
    assert!(!notice.is_empty());
    let line = text_of(&c, "#alarms li.alarm").await;
    assert!(line.contains("Acknowledged"), "{line}");
    let open = c
        .find_all(fantoccini::Locator::Css("#alarms li.alarm.open"))
        .await
        .expect("find");
    assert!(open.is_empty(), "nothing left to acknowledge");
    let (_, list) = s.get("/api/v1/me/alarms", &eva).await;
    assert_eq!(list["unacknowledged"], 0, "{list}");
    assert!(list["items"][0]["acknowledged_at"].is_string(), "{list}");
    fits_the_phone(&c, "Alarms, acknowledged").await;
    screenshot(&c, "app-alarm-acknowledged-phone").await;
    let _ = c.close().await;
    drop(fleet);
    s.finish().await;
}
