//! Sites, Site Managers, tenancy and the audit log.

use crate::on_both;
use crate::support::{Db, TestServer};
use reqwest::StatusCode;
use serde_json::json;

on_both!(
    sites_and_their_managers,
    tenancy_hides_other_companies,
    audit_records_every_change
);

async fn sites_and_their_managers(db: Db) {
    let s = TestServer::start(db).await;
    let c = s.company("Acme", "ada@acme.example").await;
    let (_it_id, it) = s
        .employee(&c.admin, "Ivan IT", "ivan@acme.example", "it_manager")
        .await;
    let (sue_id, sue) = s
        .employee(&c.admin, "Sue Site", "sue@acme.example", "site_manager")
        .await;
    let (tom_id, tom) = s
        .employee(&c.admin, "Tom Site", "tom@acme.example", "site_manager")
        .await;

    let (status, site) = s
        .post(
            "/api/v1/sites",
            &c.admin,
            json!({"name": "Bakery", "address": "1 Main St", "time_zone": "Europe/Berlin"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{site}");
    let code = site["site_code"].as_str().expect("code");
    assert_eq!(code.len(), 8);
    assert!(
        code.chars()
            .all(|ch| "23456789ABCDEFGHJKLMNPQRSTUVWXYZ".contains(ch)),
        "{code}"
    );
    assert_eq!(
        (site["state"].as_str(), site["region"].as_str()),
        (Some("managed"), Some("EU"))
    );
    assert!(site["manager_id"].is_null());
    let id = site["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/sites/{id}");

    // Sue cannot see it until it is hers.
    let (status, _) = s.get(&path, &sue).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = s.get("/api/v1/sites", &sue).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0));

    // only Installer Admin and IT Manager assign.
    let (status, body) = s
        .call(
            reqwest::Method::PUT,
            &format!("{path}/manager"),
            Some(&it),
            Some(json!({"employee_id": sue_id})),
        )
        .await;
    assert_eq!(
        (status, body["manager_id"].as_str()),
        (StatusCode::OK, Some(sue_id.as_str()))
    );
    let (status, body) = s
        .call(
            reqwest::Method::PUT,
            &format!("{path}/manager"),
            Some(&sue),
            Some(json!({"employee_id": tom_id})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::FORBIDDEN,
            Some("policy.admin_or_it_manager_only")
        )
    );
    let (status, body) = s
        .call(
            reqwest::Method::PUT,
            &format!("{path}/manager"),
            Some(&c.admin),
            Some(json!({"employee_id": c.admin_id})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::FORBIDDEN,
            Some("policy.manager_must_be_site_manager")
        )
    );

    let (status, body) = s.get(&path, &sue).await;
    assert_eq!(
        (status, body["name"].as_str()),
        (StatusCode::OK, Some("Bakery"))
    );
    let (status, body) = s
        .patch(
            &path,
            &sue,
            json!({"name": "Bakery & Café", "time_zone": "Europe/Paris"}),
        )
        .await;
    assert_eq!(
        (status, body["time_zone"].as_str()),
        (StatusCode::OK, Some("Europe/Paris"))
    );
    let (status, _) = s.get(&path, &tom).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "R-6: one Site Manager per site; Tom sees nothing"
    );

    // Reassigning moves the site from Sue to Tom.
    let (status, _) = s
        .call(
            reqwest::Method::PUT,
            &format!("{path}/manager"),
            Some(&c.admin),
            Some(json!({"employee_id": tom_id})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(s.get(&path, &sue).await.0, StatusCode::NOT_FOUND);
    assert_eq!(s.get(&path, &tom).await.0, StatusCode::OK);

    let (status, body) = s.delete(&path, &tom).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::FORBIDDEN,
            Some("policy.admin_or_it_manager_only")
        )
    );
    let (status, _) = s.delete(&path, &it).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(s.get(&path, &c.admin).await.0, StatusCode::NOT_FOUND);

    // Site IDs are unique.
    let mut codes = std::collections::HashSet::new();
    for i in 0..20 {
        let (_, site) = s
            .post(
                "/api/v1/sites",
                &c.admin,
                json!({"name": format!("Site {i}"), "time_zone": "UTC"}),
            )
            .await;
        assert!(codes.insert(site["site_code"].as_str().expect("code").to_owned()));
    }
    let (_, page) = s.get("/api/v1/sites?limit=15", &c.admin).await;
    assert_eq!(page["items"].as_array().map(Vec::len), Some(15));
    let cursor = page["next_cursor"].as_str().expect("cursor");
    let (_, rest) = s
        .get(&format!("/api/v1/sites?limit=15&cursor={cursor}"), &c.admin)
        .await;
    assert_eq!(rest["items"].as_array().map(Vec::len), Some(5));
    s.finish().await;
}

/// another company's site, employee and audit log answer 404, never 403.
async fn tenancy_hides_other_companies(db: Db) {
    let s = TestServer::start(db).await;
    let a = s.company("Acme", "ada@acme.example").await;
    let b = s.company("Bolt", "bo@bolt.example").await;
    let (b_sm, _) = s
        .employee(&b.admin, "Bea Site", "bea@bolt.example", "site_manager")
        .await;
    let site = s.site(&a.admin, "Acme HQ").await;
    let path = format!("/api/v1/sites/{site}");
    for (method, p, body) in [
        (reqwest::Method::GET, path.clone(), None),
        (
            reqwest::Method::PATCH,
            path.clone(),
            Some(json!({"name": "Mine now"})),
        ),
        (reqwest::Method::DELETE, path.clone(), None),
        (reqwest::Method::GET, format!("{path}/audit"), None),
        (
            reqwest::Method::PUT,
            format!("{path}/manager"),
            Some(json!({"employee_id": b_sm})),
        ),
    ] {
        let (status, res) = s.call(method.clone(), &p, Some(&b.admin), body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {p}: {res}");
    }
    // Assigning another company's employee to my site: that employee is not found.
    let (status, body) = s
        .call(
            reqwest::Method::PUT,
            &format!("{path}/manager"),
            Some(&a.admin),
            Some(json!({"employee_id": b_sm})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        body["detail"].as_str().unwrap_or("").contains("employee"),
        "{body}"
    );
    let (_, list) = s.get("/api/v1/sites", &b.admin).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0));
    let (_, site_now) = s.get(&path, &a.admin).await;
    assert_eq!(site_now["name"], "Acme HQ", "untouched");
    s.finish().await;
}

async fn audit_records_every_change(db: Db) {
    let s = TestServer::start(db).await;
    let c = s.company("Acme", "ada@acme.example").await;
    let (sue_id, sue) = s
        .employee(&c.admin, "Sue Site", "sue@acme.example", "site_manager")
        .await;
    let site = s.site(&c.admin, "Depot").await;
    let path = format!("/api/v1/sites/{site}");
    s.call(
        reqwest::Method::PUT,
        &format!("{path}/manager"),
        Some(&c.admin),
        Some(json!({"employee_id": sue_id})),
    )
    .await;
    s.patch(&path, &sue, json!({"address": "5 Dock Rd"})).await;
    let (status, audit) = s.get(&format!("{path}/audit"), &sue).await;
    assert_eq!(status, StatusCode::OK);
    let items = audit["items"].as_array().expect("items");
    let actions: Vec<&str> = items.iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(
        actions,
        ["site.update", "site.manager", "site.create"],
        "newest first"
    );
    assert_eq!(items[0]["actor_name"], "Sue Site");
    assert_eq!(items[0]["detail"]["address"], "5 Dock Rd");
    assert_eq!(items[2]["actor_name"], "Ada Admin");
    assert!(items[0]["at"].as_str().is_some_and(|t| t.ends_with('Z')));

    // The log outlives the site.
    s.delete(&path, &c.admin).await;
    let (_, company_log) = s.get("/api/v1/company/audit", &c.admin).await;
    let first = &company_log["items"][0];
    assert_eq!(
        (first["action"].as_str(), first["site_id"].as_str()),
        (Some("site.delete"), Some(site.as_str()))
    );
    let (status, _) = s.get("/api/v1/company/audit", &sue).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    s.finish().await;
}
