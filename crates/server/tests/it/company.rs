//! Company information and logo.

use crate::on_both;
use crate::support::{Db, TestServer};
use reqwest::StatusCode;
use serde_json::json;

on_both!(company_information, company_logo);

async fn company_information(db: Db) {
    let s = TestServer::start(db).await;
    let c = s.company("Acme", "ada@acme.example").await;
    let (_, it) = s
        .employee(&c.admin, "Ivan IT", "ivan@acme.example", "it_manager")
        .await;
    let (status, body) = s.patch("/api/v1/company", &c.admin, json!({"phone": "+49 30 1234567", "website": "acme.example", "address": "Hauptstr. 1, Berlin"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["website"], "https://acme.example");
    assert_eq!(body["name"], "Acme", "absent fields stay");
    let (status, body) = s
        .patch("/api/v1/company", &it, json!({"name": "Hijacked"}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("policy.installer_admin_only"))
    );
    let (status, body) = s
        .patch(
            "/api/v1/company",
            &c.admin,
            json!({"name": "", "email": "nope"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(2), "{body}");
    let (_, body) = s.get("/api/v1/company", &it).await;
    assert_eq!(
        (body["name"].as_str(), body["phone"].as_str()),
        (Some("Acme"), Some("+49 30 1234567")),
        "nothing half-written"
    );
    let (_, body) = s
        .patch("/api/v1/company", &c.admin, json!({"phone": ""}))
        .await;
    assert!(body["phone"].is_null(), "an empty string clears");
    s.finish().await;
}

/// A tiny valid PNG (1×1).
pub fn png() -> Vec<u8> {
    let mut v =
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89".to_vec();
    v.extend_from_slice(
        b"\0\0\0\rIDATx\x9cc\xf8\xff\xff?\0\x05\xfe\x02\xfe\xa7\x35\x81\x84\0\0\0\0IEND\xaeB`\x82",
    );
    v
}

async fn company_logo(db: Db) {
    let s = TestServer::start(db).await;
    let c = s.company("Acme", "ada@acme.example").await;
    let put = |body: Vec<u8>, token: String| {
        let req = s
            .http
            .put(format!("{}/api/v1/company/logo", s.url))
            .bearer_auth(token)
            .body(body);
        async move { req.send().await.expect("request") }
    };
    let (status, _) = s.get("/api/v1/company/logo", &c.admin).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let res = put(png(), c.admin.clone()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let company: serde_json::Value = res.json().await.expect("json");
    assert!(
        company["logo_url"]
            .as_str()
            .is_some_and(|u| u.starts_with("/api/v1/company/logo"))
    );
    let res = s
        .http
        .get(format!("{}/api/v1/company/logo", s.url))
        .bearer_auth(&c.admin)
        .send()
        .await
        .expect("get");
    assert_eq!(res.headers()["content-type"], "image/png");
    assert_eq!(res.bytes().await.expect("bytes").to_vec(), png());

    let res = put(b"<svg onload=alert(1)></svg>".to_vec(), c.admin.clone()).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = put(b"GIF89a\x01\0\x01\0".to_vec(), c.admin.clone()).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _, body) = s
        .oversized(
            "PUT",
            "/api/v1/company/logo",
            &c.admin,
            "image/png",
            3 * 1024 * 1024,
        )
        .await;
    assert_eq!(status, 413);
    assert!(body.contains("body.too_large"), "{body}");
    // Within the body limit but over the logo limit: refused by the logo rule.
    let mut big = png();
    big.resize(1024 * 1024 + 100, 0);
    let res = put(big, c.admin.clone()).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (_, sm) = s
        .employee(&c.admin, "Sue", "sue@acme.example", "site_manager")
        .await;
    assert_eq!(put(png(), sm).await.status(), StatusCode::FORBIDDEN);
    let res = s
        .http
        .get(format!("{}/api/v1/company/logo", s.url))
        .bearer_auth(&c.admin)
        .send()
        .await
        .expect("get");
    assert_eq!(
        res.bytes().await.expect("bytes").to_vec(),
        png(),
        "the refused uploads changed nothing"
    );
    s.finish().await;
}
