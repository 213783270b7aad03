//! Registration, sign-in, throttling, employees and roles.

use crate::on_both;
use crate::support::{Db, PASSWORD, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::json;

on_both!(
    registration_needs_a_valid_unused_code,
    sign_in_and_out,
    sign_in_is_throttled,
    employees_and_roles,
    disabling_ends_sessions_and_unassigns_sites,
);

async fn register(
    s: &TestServer,
    code: &str,
    region: &str,
    email: &str,
) -> (StatusCode, serde_json::Value) {
    s.call(
        Method::POST,
        "/api/v1/companies",
        None,
        Some(json!({
            "auth_code": code,
            "company": {"name": "Northwind Alarms", "region": region},
            "admin": {"name": "Nia North", "email": email, "password": PASSWORD},
        })),
    )
    .await
}

async fn company_count(s: &TestServer) -> i64 {
    s.app
        .store()
        .read()
        .await
        .expect("conn")
        .count_companies()
        .await
        .expect("count")
}

/// a bad, used, expired or wrong-region code gives a clear 4xx and creates nothing.
async fn registration_needs_a_valid_unused_code(db: Db) {
    let s = TestServer::start(db).await;
    let code = s.auth_code("EU").await;

    let (status, body) = register(&s, "2222-3333-4444-5555", "EU", "nia@example.com").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("auth_code.unknown"))
    );

    let (status, body) = register(&s, &code, "NA", "nia@example.com").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("auth_code.wrong_region")
        )
    );
    assert!(
        body["detail"].as_str().unwrap_or("").contains("EU"),
        "{body}"
    );

    let (status, body) = register(&s, "not a code", "EU", "bad-email").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["auth_code", "admin.email"], "{body}");
    assert_eq!(
        company_count(&s).await,
        0,
        "nothing created by refused registrations"
    );

    // Typed in lower case with spaces: still the same code.
    let typed = code.to_lowercase().replace('-', " ");
    let (status, body) = register(&s, &typed, "EU", "nia@example.com").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["company"]["region"], "EU");
    assert_eq!(body["admin"]["role"], "installer_admin");
    assert!(body["admin"].get("password_hash").is_none());

    let (status, body) = register(&s, &code, "EU", "other@example.com").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("auth_code.used"))
    );

    let expiring = s.auth_code("EU").await;
    s.clock.advance(31 * 24 * 3600 * 1000);
    let (status, body) = register(&s, &expiring, "EU", "late@example.com").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("auth_code.expired"))
    );

    let fresh = s.auth_code("EU").await;
    let (status, body) = register(&s, &fresh, "EU", "NIA@example.com").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("account.email_taken"))
    );
    assert_eq!(
        company_count(&s).await,
        1,
        "the refused registrations left nothing behind"
    );
    let codes = s.app.list_auth_codes_unchecked().await.expect("codes");
    assert!(
        codes.iter().any(|c| c.code == fresh && c.used_at.is_none()),
        "a refused registration does not use its code"
    );
    s.finish().await;
}

async fn sign_in_and_out(db: Db) {
    let s = TestServer::start(db).await;
    let c = s.company("Acme", "ada@acme.example").await;
    let (status, me) = s.get("/api/v1/me", &c.admin).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (me["kind"].as_str(), me["role"].as_str()),
        (Some("installer"), Some("installer_admin"))
    );

    let (status, body) = s
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "ada@acme.example", "password": "wrong-password-1"})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("auth.bad_credentials"))
    );
    let (status, unknown) = s
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "nobody@acme.example", "password": "wrong-password-1"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        unknown["detail"], body["detail"],
        "the same answer whether or not the account exists"
    );

    let (status, _) = s.call(Method::GET, "/api/v1/me", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = s.get("/api/v1/me", &"0".repeat(64)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, _) = s.post("/api/v1/auth/logout", &c.admin, json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = s.get("/api/v1/me", &c.admin).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the token is dead after logout"
    );

    // Sessions expire.
    let token = s.login("ada@acme.example", PASSWORD).await;
    s.clock.advance(13 * 3600 * 1000);
    let (status, _) = s.get("/api/v1/me", &token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "expired after 12 h");

    // Stored hashes are Argon2id.
    let user = s
        .app
        .store()
        .read()
        .await
        .expect("conn")
        .user_by_email("ada@acme.example")
        .await
        .expect("q")
        .expect("user");
    assert!(user.password_hash.starts_with("$argon2id$"));
    s.finish().await;
}

async fn sign_in_is_throttled(db: Db) {
    let s = TestServer::start(db).await;
    s.company("Acme", "ada@acme.example").await; // one attempt used by this sign-in
    let bad = json!({"email": "ada@acme.example", "password": "wrong-password-1"});
    for _ in 0..4 {
        let (status, _) = s
            .call(Method::POST, "/api/v1/auth/login", None, Some(bad.clone()))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let res = s
        .http
        .post(format!("{}/api/v1/auth/login", s.url))
        .json(&bad)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["code"], "auth.throttled");
    // Even the right password waits: the throttle is checked before the password.
    let (status, _) = s
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "ada@acme.example", "password": PASSWORD})),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    s.finish().await;
}

/// roles, what IT Managers may not do, and the last Installer Admin.
async fn employees_and_roles(db: Db) {
    let s = TestServer::start(db).await;
    let c = s.company("Acme", "ada@acme.example").await;
    let (it_id, it) = s
        .employee(&c.admin, "Ivan IT", "ivan@acme.example", "it_manager")
        .await;
    let (sm_id, sm) = s
        .employee(&it, "Sue Site", "sue@acme.example", "site_manager")
        .await;

    let (status, body) = s.post("/api/v1/employees", &it, json!({"name": "Eve", "email": "eve@acme.example", "password": PASSWORD, "role": "installer_admin"})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::FORBIDDEN,
            Some("policy.only_admin_manages_admins")
        )
    );
    let (status, body) = s.post("/api/v1/employees", &sm, json!({"name": "Eve", "email": "eve@acme.example", "password": PASSWORD, "role": "site_manager"})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::FORBIDDEN,
            Some("policy.admin_or_it_manager_only")
        )
    );
    let (status, _) = s.get("/api/v1/employees", &sm).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = s.post("/api/v1/employees", &c.admin, json!({"name": "Dup", "email": "SUE@acme.example", "password": PASSWORD, "role": "site_manager"})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("account.email_taken"))
    );
    let (status, body) = s.post("/api/v1/employees", &c.admin, json!({"name": "Weak", "email": "weak@acme.example", "password": "short", "role": "site_manager"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["field"], "password");

    let (status, body) = s.get("/api/v1/employees?limit=2", &it).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["items"].as_array().map(Vec::len), Some(2));
    let cursor = body["next_cursor"].as_str().expect("more").to_owned();
    let (_, page2) = s
        .get(&format!("/api/v1/employees?limit=2&cursor={cursor}"), &it)
        .await;
    assert_eq!(page2["items"].as_array().map(Vec::len), Some(1));
    assert!(page2["next_cursor"].is_null());

    // The last Installer Admin can be neither demoted nor disabled — not even by himself.
    let admin_path = format!("/api/v1/employees/{}", c.admin_id);
    let (status, body) = s
        .patch(&admin_path, &c.admin, json!({"role": "site_manager"}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("policy.last_installer_admin"))
    );
    let (status, body) = s.patch(&admin_path, &it, json!({"active": false})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::FORBIDDEN,
            Some("policy.only_admin_manages_admins")
        )
    );
    let (status, _) = s.delete(&admin_path, &c.admin).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // With a second admin, the first may step down.
    let (status, _) = s
        .patch(
            &format!("/api/v1/employees/{it_id}"),
            &c.admin,
            json!({"role": "installer_admin"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = s
        .patch(&admin_path, &c.admin, json!({"role": "it_manager"}))
        .await;
    assert_eq!(
        (status, body["role"].as_str()),
        (StatusCode::OK, Some("it_manager"))
    );
    let (_, me) = s.get("/api/v1/me", &c.admin).await;
    assert_eq!(me["role"], "it_manager", "the new role applies at once");

    let (status, _) = s
        .patch(
            &format!("/api/v1/employees/{sm_id}"),
            &it,
            json!({"name": "Sue Site-Smith"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = s
        .patch(
            &format!("/api/v1/employees/{sm_id}"),
            &it,
            json!({"role": "overlord"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // Another company's employee does not exist for us.
    let other = s.company("Other", "olga@other.example").await;
    let (status, _) = s
        .get(&format!("/api/v1/employees/{sm_id}"), &other.admin)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = s
        .patch(
            &format!("/api/v1/employees/{sm_id}"),
            &other.admin,
            json!({"active": false}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    s.finish().await;
}

async fn disabling_ends_sessions_and_unassigns_sites(db: Db) {
    let s = TestServer::start(db).await;
    let c = s.company("Acme", "ada@acme.example").await;
    let (sm_id, sm) = s
        .employee(&c.admin, "Sue Site", "sue@acme.example", "site_manager")
        .await;
    let site = s.site(&sm, "Sue's shop").await;
    let (_, body) = s.get(&format!("/api/v1/sites/{site}"), &c.admin).await;
    assert_eq!(
        body["manager_id"].as_str(),
        Some(sm_id.as_str()),
        "a Site Manager manages the site she creates"
    );

    let (status, body) = s
        .patch(
            &format!("/api/v1/employees/{sm_id}"),
            &c.admin,
            json!({"active": false}),
        )
        .await;
    assert_eq!(
        (status, body["active"].as_bool()),
        (StatusCode::OK, Some(false))
    );
    let (status, _) = s.get("/api/v1/me", &sm).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "her session ended");
    let (status, body) = s
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "sue@acme.example", "password": PASSWORD})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("account.disabled"))
    );
    let (_, body) = s.get(&format!("/api/v1/sites/{site}"), &c.admin).await;
    assert!(
        body["manager_id"].is_null(),
        "R-6: a disabled employee manages nothing"
    );
    let (_, audit) = s
        .get(&format!("/api/v1/sites/{site}/audit"), &c.admin)
        .await;
    assert_eq!(
        audit["items"][0]["action"], "site.manager_removed",
        "{audit}"
    );
    s.finish().await;
}
