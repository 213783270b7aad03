//! Bad input on every endpoint gets a 4xx problem body, never a 500, and leaves
//! nothing half-written; plus the probes and the OpenAPI document.

use crate::on_both;
use crate::support::{Db, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both!(
    bad_bodies_are_refused_cleanly,
    unknown_and_foreign_ids,
    probes_and_openapi
);

async fn bad_bodies_are_refused_cleanly(db: Db) {
    let s = TestServer::start(db).await;
    let c = s.company("Acme", "ada@acme.example").await;
    let site = s.site(&c.admin, "Depot").await;
    let (emp, _) = s
        .employee(&c.admin, "Sue", "sue@acme.example", "site_manager")
        .await;
    let endpoints: Vec<(Method, String)> = vec![
        (Method::POST, "/api/v1/companies".into()),
        (Method::POST, "/api/v1/auth/login".into()),
        (Method::POST, "/api/v1/employees".into()),
        (Method::PATCH, format!("/api/v1/employees/{emp}")),
        (Method::PATCH, "/api/v1/company".into()),
        (Method::POST, "/api/v1/sites".into()),
        (Method::PATCH, format!("/api/v1/sites/{site}")),
        (Method::PUT, format!("/api/v1/sites/{site}/manager")),
        (Method::POST, "/api/v1/admin/auth-codes".into()),
    ];
    let bodies: Vec<(&str, Option<&str>, Vec<u8>)> = vec![
        ("malformed JSON", Some("application/json"), b"{\"name\": ".to_vec()),
        ("not an object", Some("application/json"), b"[1, 2, 3]".to_vec()),
        ("wrong types", Some("application/json"), br#"{"name": 42, "email": true, "role": [], "time_zone": 7, "employee_id": 5, "auth_code": {}, "region": 1, "count": "x", "password": 1}"#.to_vec()),
        ("unknown field", Some("application/json"), br#"{"surprise": 1}"#.to_vec()),
        ("no content type", None, br#"{"name": "x"}"#.to_vec()),
    ];
    let before = snapshot(&s, &c.admin, &site).await;
    for (method, path) in &endpoints {
        for (what, ctype, body) in &bodies {
            let mut req = s
                .http
                .request(method.clone(), format!("{}{}", s.url, path))
                .bearer_auth(&c.admin)
                .body(body.clone());
            if let Some(ct) = ctype {
                req = req.header("content-type", *ct);
            }
            let res = req.send().await.expect("request");
            let status = res.status();
            let ctype = res
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            let problem: Value = res.json().await.unwrap_or(Value::Null);
            assert!(
                status.is_client_error(),
                "{method} {path} with {what}: {status} {problem}"
            );
            assert_eq!(
                ctype, "application/problem+json",
                "{method} {path} with {what}"
            );
            assert!(
                problem["detail"].as_str().is_some_and(|d| !d.is_empty()),
                "{method} {path} with {what}: {problem}"
            );
        }
        let (status, headers, body) = s
            .oversized(
                method.as_str(),
                path,
                &c.admin,
                "application/json",
                2 * 1024 * 1024,
            )
            .await;
        assert_eq!(status, 413, "{method} {path} oversized: {headers}");
        assert!(
            headers.contains("content-type: application/problem+json"),
            "{headers}"
        );
        assert!(body.contains("body.too_large"), "{body}");
    }
    // Missing required fields name the field.
    let (status, body) = s
        .post("/api/v1/sites", &c.admin, json!({"name": "No zone"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["detail"].as_str().unwrap_or("").contains("time_zone"),
        "{body}"
    );
    let (status, body) = s
        .post(
            "/api/v1/sites",
            &c.admin,
            json!({"name": "x".repeat(500), "time_zone": "Mars/Base"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(2), "{body}");
    let (status, _) = s.get("/api/v1/sites?limit=0", &c.admin).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = s.get("/api/v1/sites?limit=abc", &c.admin).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        snapshot(&s, &c.admin, &site).await,
        before,
        "nothing was written by refused requests"
    );

    // A cookie-authenticated change without the CSRF header is refused.
    let res = s
        .http
        .post(format!("{}/api/v1/sites", s.url))
        .header("cookie", format!("sw_session={}", c.admin))
        .json(&json!({"name": "Forged", "time_zone": "UTC"}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["code"], "csrf.invalid");
    let res = s
        .http
        .get(format!("{}/api/v1/me", s.url))
        .header("cookie", format!("sw_session={}", c.admin))
        .send()
        .await
        .expect("request");
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "reads by cookie need no CSRF token"
    );
    let res = s
        .http
        .get(format!("{}/api/v1/me", s.url))
        .header("authorization", "Basic abc")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(snapshot(&s, &c.admin, &site).await, before);
    s.finish().await;
}

async fn snapshot(s: &TestServer, token: &str, site: &str) -> Value {
    let (_, sites) = s.get("/api/v1/sites?limit=200", token).await;
    let (_, employees) = s.get("/api/v1/employees?limit=200", token).await;
    let (_, company) = s.get("/api/v1/company", token).await;
    let (_, audit) = s.get(&format!("/api/v1/sites/{site}/audit"), token).await;
    json!([sites, employees, company, audit])
}

async fn unknown_and_foreign_ids(db: Db) {
    let s = TestServer::start(db).await;
    let c = s.company("Acme", "ada@acme.example").await;
    for path in [
        "/api/v1/sites/not-a-uuid",
        "/api/v1/sites/01900000-0000-7000-8000-000000000000",
        "/api/v1/sites/01900000-0000-7000-8000-000000000000/audit",
        "/api/v1/employees/%27%3B%20DROP%20TABLE%20users",
        "/api/v1/employees/01900000-0000-7000-8000-000000000000",
        "/api/v1/no-such-thing",
    ] {
        let (status, body) = s.get(path, &c.admin).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert_eq!(body["code"], "not_found");
    }
    let (status, _) = s
        .call(
            Method::PUT,
            "/api/v1/sites/01900000-0000-7000-8000-000000000000/manager",
            Some(&c.admin),
            Some(json!({"employee_id": null})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let site = s.site(&c.admin, "Depot").await;
    let (status, _) = s
        .call(
            Method::PUT,
            &format!("/api/v1/sites/{site}/manager"),
            Some(&c.admin),
            Some(json!({"employee_id": "garbage"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Operators' endpoints refuse installers with the rule that refused.
    let (status, body) = s
        .post(
            "/api/v1/admin/auth-codes",
            &c.admin,
            json!({"region": "EU", "count": 1}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("policy.operators_only"))
    );
    s.finish().await;
}

async fn probes_and_openapi(db: Db) {
    let s = TestServer::start(db).await;
    for (path, expect) in [("/healthz", "ok"), ("/readyz", "ready")] {
        let res = s
            .http
            .get(format!("{}{path}", s.url))
            .send()
            .await
            .expect("probe");
        assert_eq!(res.status(), StatusCode::OK);
        assert!(
            res.headers().contains_key("x-request-id"),
            "every answer carries a request id"
        );
        assert_eq!(res.text().await.expect("text"), expect);
    }
    let res = s
        .http
        .get(format!("{}/api/v1/openapi.json", s.url))
        .send()
        .await
        .expect("openapi");
    let doc: Value = res.json().await.expect("json");
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    let paths = doc["paths"].as_object().expect("paths");
    for (path, method) in [
        ("/api/v1/companies", "post"),
        ("/api/v1/auth/login", "post"),
        ("/api/v1/auth/logout", "post"),
        ("/api/v1/me", "get"),
        ("/api/v1/company", "patch"),
        ("/api/v1/company/logo", "put"),
        ("/api/v1/employees", "post"),
        ("/api/v1/employees/{id}", "delete"),
        ("/api/v1/sites", "get"),
        ("/api/v1/sites/{id}", "patch"),
        ("/api/v1/sites/{id}/manager", "put"),
        ("/api/v1/sites/{id}/audit", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing from OpenAPI"
        );
    }
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    for name in ["Problem", "SiteView", "RegistrationInput", "Role"] {
        assert!(schemas.contains_key(name), "schema {name} missing");
    }
    // The operator's way in: a platform operator issues codes over the API too.
    s.app
        .create_operator(
            "Otto Operator",
            "otto@siteward.example",
            crate::support::PASSWORD,
        )
        .await
        .expect("operator");
    let token = s
        .login("otto@siteward.example", crate::support::PASSWORD)
        .await;
    let (status, codes) = s
        .post(
            "/api/v1/admin/auth-codes",
            &token,
            json!({"region": "APAC", "count": 2}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(codes.as_array().map(Vec::len), Some(2));
    let (_, list) = s.get("/api/v1/admin/auth-codes", &token).await;
    assert!(
        list.as_array()
            .expect("list")
            .iter()
            .all(|c| c["state"] == "unused" && c["region"] == "APAC")
    );
    s.finish().await;
}
