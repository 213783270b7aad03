//! Hand-over end to end: inviting an end user
//! to own a site, the answer, the installer blocked after hand-over until the owner
//! authorizes — and again the moment the authorization runs out — the change of
//! installation company, and who may delete devices when.

use crate::on_both;
use crate::support::{Db, PASSWORD, TestServer, mails, smtp_sink};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use siteward_app::Event;
use siteward_devsim::{Fleet, FleetSpec};
use std::time::Duration;

on_both!(
    journey_invite_accept_authorize_expire_cancel,
    invitations_are_refused_with_reasons_and_nothing_written,
    declined_withdrawn_and_expired_invitations,
    device_deletion_follows_the_invitation,
    change_of_installation_company,
    other_companies_and_end_users_see_nothing,
    invitations_are_mailed_and_expire_as_configured,
    the_demo_shows_both_sides_of_hand_over
);

const HOUR_MS: i64 = 60 * 60 * 1000;

/// Signs an end user up (`POST /api/v1/end-users`) and in: (id, token).
async fn end_user(s: &TestServer, email: &str, region: &str, app: &str) -> (String, String) {
    let (status, body) = s
        .call(
            Method::POST,
            "/api/v1/end-users",
            None,
            Some(json!({
                "email": email, "password": PASSWORD, "name": format!("Owner {email}"),
                "region": region, "app_version": app,
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_str().expect("end user id").to_owned();
    (id, s.login(email, PASSWORD).await)
}

/// Signs in with the app version the client says.
async fn login_with_app(s: &TestServer, email: &str, app: &str) -> String {
    let (status, body) = s
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": email, "password": PASSWORD, "app_version": app})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["token"].as_str().expect("token").to_owned()
}

/// Asserts a refusal: the status and the problem's code.
#[track_caller]
fn refused(got: &(StatusCode, Value), status: StatusCode, code: &str) {
    assert_eq!(
        (got.0, got.1["code"].as_str()),
        (status, Some(code)),
        "{}",
        got.1
    );
}

/// Asserts R-10's refusal: 403 naming the missing permission.
#[track_caller]
fn needs(got: &(StatusCode, Value), permission: &str) {
    refused(got, StatusCode::FORBIDDEN, "policy.authorization_required");
    assert_eq!(got.1["permission"], permission, "{}", got.1);
}

/// The hand-over events published so far: (what, end user).
fn handover_events(
    rx: &mut tokio::sync::broadcast::Receiver<Event>,
) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    while let Ok(e) = rx.try_recv() {
        if let Event::HandoverChanged {
            what, end_user_id, ..
        } = e
        {
            out.push((what, end_user_id.map(|u| u.to_string())));
        }
    }
    out
}

/// A fleet of `n` cameras added to a new site: (fleet, site id, device ids).
async fn site_with_cameras(
    s: &TestServer,
    token: &str,
    n: usize,
    seed: u64,
) -> (Fleet, String, Vec<String>) {
    let fleet = Fleet::start(FleetSpec::parse_mix(&format!("ipc={n}"), seed).expect("mix"))
        .await
        .expect("fleet");
    let site = s.site(token, "Villa Rosa").await;
    let mut ids = Vec::new();
    for d in fleet.devices() {
        let (status, body) = s
            .post(
                &format!("/api/v1/sites/{site}/devices"),
                token,
                json!({"via": "ip", "host": d.address.ip().to_string(), "port": d.address.port(),
                       "username": d.username, "password": d.password}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        ids.push(body["id"].as_str().expect("device id").to_owned());
    }
    (fleet, site, ids)
}

async fn invite(s: &TestServer, token: &str, site: &str, body: Value) -> (StatusCode, Value) {
    s.post(&format!("/api/v1/sites/{site}/invitation"), token, body)
        .await
}

/// The only pending invitation in the end user's app.
async fn pending_invitation(s: &TestServer, token: &str) -> Value {
    let (status, list) = s.get("/api/v1/me/invitations", token).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let pending: Vec<&Value> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|i| i["state"] == "pending")
        .collect();
    assert_eq!(pending.len(), 1, "{list}");
    pending[0].clone()
}

async fn audit_actions(s: &TestServer, token: &str, site: &str) -> Vec<String> {
    let (status, audit) = s.get(&format!("/api/v1/sites/{site}/audit"), token).await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["action"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn journey_invite_accept_authorize_expire_cancel(db: Db) {
    let s = TestServer::start(db).await;
    let c = s.company("Acme", "ada@acme.example").await;
    let (_fleet, site, devices) = site_with_cameras(&s, &c.admin, 2, 11).await;
    let (eve_id, eve) = end_user(&s, "eve@home.example", "EU", "4.3").await;
    let mut events = s.app.events().subscribe();

    // invite; the invitation is in Eve's app at once.
    let (status, inv) = invite(
        &s,
        &c.admin,
        &site,
        json!({"end_user_email": "Eve@Home.example"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{inv}");
    assert_eq!(inv["state"], "pending");
    let (_, view) = s.get(&format!("/api/v1/sites/{site}"), &c.admin).await;
    assert_eq!(view["state"], "owner_invited", "{view}");
    assert_eq!(view["invitation"]["state"], "pending", "{view}");
    let mine = pending_invitation(&s, &eve).await;
    assert_eq!(mine["id"], inv["id"]);
    assert_eq!(mine["company_name"], "Acme");
    assert_eq!(
        handover_events(&mut events),
        vec![("invitation.sent".to_owned(), Some(eve_id.clone()))],
        "told live (server-sent events)"
    );
    assert_eq!(mine["site_name"], "Villa Rosa");

    // Eve accepts (no body): the site is handed over, she owns it.
    let (status, accepted) = s
        .call(
            Method::POST,
            &format!(
                "/api/v1/invitations/{}/accept",
                inv["id"].as_str().expect("id")
            ),
            Some(&eve),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    assert_eq!(accepted["state"], "accepted");
    let (_, list) = s.get("/api/v1/sites", &c.admin).await;
    let card = &list["items"][0];
    assert_eq!(
        card["state"], "handed_over",
        "the card stays visible: {card}"
    );
    assert_eq!(card["owner"]["id"], eve_id.as_str());
    assert_eq!(card["owner"]["name"], "Owner eve@home.example");

    // every installer operation is refused, naming the permission.
    needs(
        &s.get(&format!("/api/v1/sites/{site}"), &c.admin).await,
        "site_info",
    );
    needs(
        &s.get(&format!("/api/v1/sites/{site}/devices"), &c.admin)
            .await,
        "site_info",
    );
    needs(
        &s.patch(
            &format!("/api/v1/sites/{site}"),
            &c.admin,
            json!({"name": "Mine"}),
        )
        .await,
        "site_info",
    );
    needs(
        &s.get(&format!("/api/v1/sites/{site}/audit"), &c.admin)
            .await,
        "site_info",
    );
    needs(
        &s.get(&format!("/api/v1/devices/{}/health", devices[0]), &c.admin)
            .await,
        "health_monitoring",
    );
    needs(
        &s.get(&format!("/api/v1/health?site_id={site}"), &c.admin)
            .await,
        "health_monitoring",
    );
    needs(
        &s.post(
            "/api/v1/inspections",
            &c.admin,
            json!({"scope": "site", "id": site}),
        )
        .await,
        "health_monitoring",
    );
    let (_, health) = s.get("/api/v1/health", &c.admin).await;
    assert_eq!(health["items"], json!([]), "no health data: {health}");
    // ... and none is collected: the inspector leaves the devices alone.
    let skipped = s
        .app
        .inspect_device(devices[0].parse().expect("device id"))
        .await;
    assert!(
        format!("{skipped:?}").contains("AuthorizationRequired(HealthMonitoring)"),
        "{skipped:?}"
    );
    let (_, all) = s.get("/api/v1/devices", &c.admin).await;
    assert_eq!(all["items"], json!([]), "no devices listed: {all}");
    refused(
        &s.delete(&format!("/api/v1/devices/{}", devices[0]), &c.admin)
            .await,
        StatusCode::FORBIDDEN,
        "policy.only_owner_deletes_devices",
    );

    // Apply; one application waits at a time.
    let path = format!("/api/v1/sites/{site}/authorization-requests");
    let ask = json!({"permissions": ["site_info", "health_monitoring"], "duration_hours": 1,
                     "remark": "Yearly maintenance"});
    let (status, app) = s.post(&path, &c.admin, ask.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{app}");
    assert_eq!(app["state"], "pending");
    refused(
        &s.post(&path, &c.admin, ask).await,
        StatusCode::CONFLICT,
        "handover.application_pending",
    );
    refused(
        &s.post(&path, &c.admin, json!({"permissions": ["teleport"]}))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_input",
    );
    // Only the owner answers.
    let approve = format!(
        "/api/v1/authorization-requests/{}/approve",
        app["id"].as_str().expect("id")
    );
    refused(
        &s.post(&approve, &c.admin, json!({})).await,
        StatusCode::FORBIDDEN,
        "policy.owner_only",
    );
    let (_, requests) = s.get("/api/v1/me/authorization-requests", &eve).await;
    assert_eq!(requests["items"][0]["id"], app["id"], "{requests}");
    assert_eq!(requests["items"][0]["remark"], "Yearly maintenance");
    refused(
        &s.post(&approve, &eve, json!({"duration_hours": 24})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "handover.longer_than_requested",
    );
    let (status, granted) = s.call(Method::POST, &approve, Some(&eve), None).await;
    assert_eq!(status, StatusCode::OK, "{granted}");
    assert_eq!(granted["state"], "approved");
    assert_eq!(granted["granted_hours"], 1);
    let told: Vec<String> = handover_events(&mut events)
        .into_iter()
        .map(|(what, _)| what)
        .collect();
    assert_eq!(
        told,
        [
            "invitation.accepted",
            "authorization.requested",
            "authorization.approved"
        ]
    );

    // Allowed now.
    let (status, view) = s.get(&format!("/api/v1/sites/{site}"), &c.admin).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["authorization"]["state"], "approved", "{view}");
    let (status, _) = s
        .get(&format!("/api/v1/sites/{site}/devices"), &c.admin)
        .await;
    assert_eq!(status, StatusCode::OK);
    let done = crate::health::inspect(&s, &c.admin, "site", Some(&site)).await;
    assert_eq!(done["total"], 2, "{done}");
    let (_, health) = s.get("/api/v1/health", &c.admin).await;
    assert_eq!(
        health["items"].as_array().map(Vec::len),
        Some(2),
        "{health}"
    );
    let (status, _) = s
        .get(&format!("/api/v1/devices/{}/health", devices[0]), &c.admin)
        .await;
    assert_eq!(status, StatusCode::OK);

    // the owner reads what the installer did on the site.
    let actions = audit_actions(&s, &eve, &site).await;
    for a in [
        "device.add",
        "site.invite_owner",
        "site.handed_over",
        "authorization.request",
        "authorization.approve",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }

    // Expiry is exact: the moment it lapses, both sides see it and work stops.
    s.clock.advance(HOUR_MS);
    needs(
        &s.get(&format!("/api/v1/sites/{site}"), &c.admin).await,
        "site_info",
    );
    needs(
        &s.get(&format!("/api/v1/devices/{}/health", devices[1]), &c.admin)
            .await,
        "health_monitoring",
    );
    let (_, health) = s.get("/api/v1/health", &c.admin).await;
    assert_eq!(health["items"], json!([]), "{health}");
    let (_, mine) = s
        .get(&format!("/api/v1/sites/{site}/authorizations"), &c.admin)
        .await;
    assert_eq!(mine["items"][0]["state"], "expired", "{mine}");
    let (_, requests) = s.get("/api/v1/me/authorization-requests", &eve).await;
    assert_eq!(requests["items"][0]["state"], "expired", "{requests}");
    refused(
        &s.delete(&format!("/api/v1/sites/{site}/authorization"), &eve)
            .await,
        StatusCode::CONFLICT,
        "handover.authorization_not_active",
    );

    // Apply again for a day; Eve shortens it to two hours, then cancels it.
    let (_, app) = s
        .post(
            &path,
            &c.admin,
            json!({"permissions": ["site_info"], "duration_hours": 24}),
        )
        .await;
    let (status, granted) = s
        .post(
            &format!(
                "/api/v1/authorization-requests/{}/approve",
                app["id"].as_str().expect("id")
            ),
            &eve,
            json!({"duration_hours": 2}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{granted}");
    assert_eq!(granted["granted_hours"], 2);
    let (status, _) = s.get(&format!("/api/v1/sites/{site}"), &c.admin).await;
    assert_eq!(status, StatusCode::OK);
    // Site information does not bring health monitoring with it.
    needs(
        &s.get(&format!("/api/v1/devices/{}/health", devices[0]), &c.admin)
            .await,
        "health_monitoring",
    );
    refused(
        &s.delete(&format!("/api/v1/sites/{site}/authorization"), &c.admin)
            .await,
        StatusCode::FORBIDDEN,
        "policy.owner_only",
    );
    let (status, body) = s
        .delete(&format!("/api/v1/sites/{site}/authorization"), &eve)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    needs(
        &s.get(&format!("/api/v1/sites/{site}"), &c.admin).await,
        "site_info",
    );
    let (_, mine) = s
        .get(&format!("/api/v1/sites/{site}/authorizations"), &c.admin)
        .await;
    assert_eq!(mine["items"][0]["state"], "cancelled", "{mine}");

    // The installer withdraws an application the owner has not answered.
    let (_, app) = s
        .post(
            &path,
            &c.admin,
            json!({"permissions": ["live_view"], "device_ids": [devices[0]]}),
        )
        .await;
    assert_eq!(app["device_ids"], json!([devices[0]]), "{app}");
    let (status, _) = s
        .post(
            &format!("/api/v1/sites/{site}/authorization/release"),
            &c.admin,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    refused(
        &s.post(
            &format!(
                "/api/v1/authorization-requests/{}/approve",
                app["id"].as_str().expect("id")
            ),
            &eve,
            json!({}),
        )
        .await,
        StatusCode::CONFLICT,
        "handover.authorization_not_pending",
    );
    s.finish().await;
}

async fn invitations_are_refused_with_reasons_and_nothing_written(db: Db) {
    let s = TestServer::start(db).await;
    let c = s.company("Acme", "ada@acme.example").await;
    let site = s.site(&c.admin, "Depot").await;
    end_user(&s, "nora@home.example", "NA", "4.3").await;
    let (_, old) = end_user(&s, "olaf@home.example", "EU", "4.2").await;
    let (_, eve) = end_user(&s, "eve@home.example", "EU", "4.3.1").await;
    let audit_before = audit_actions(&s, &c.admin, &site).await;

    let cases = [
        (
            json!({"end_user_email": "nobody@home.example"}),
            "handover.no_end_user_account",
        ),
        (
            json!({"end_user_email": "nora@home.example"}),
            "handover.region_mismatch",
        ),
        (
            json!({"end_user_email": "olaf@home.example"}),
            "handover.app_too_old",
        ),
        // An installer's account is no end user's.
        (
            json!({"end_user_email": "ada@acme.example"}),
            "handover.no_end_user_account",
        ),
    ];
    for (body, code) in cases {
        let got = invite(&s, &c.admin, &site, body).await;
        refused(&got, StatusCode::UNPROCESSABLE_ENTITY, code);
        assert!(!got.1["detail"].as_str().unwrap_or("").is_empty());
    }
    let got = invite(
        &s,
        &c.admin,
        &site,
        json!({"end_user_email": "nora@home.example"}),
    )
    .await;
    assert!(
        got.1["detail"].as_str().unwrap_or("").contains("region NA"),
        "the reason is clear: {}",
        got.1
    );
    let got = invite(
        &s,
        &c.admin,
        &site,
        json!({"end_user_email": "not an address",
               "authorization": {"permissions": ["teleport"], "duration_hours": 3}}),
    )
    .await;
    refused(&got, StatusCode::BAD_REQUEST, "invalid_input");
    let fields: Vec<&str> = got.1["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    for f in [
        "end_user_email",
        "authorization.permissions",
        "authorization.duration_hours",
    ] {
        assert!(fields.contains(&f), "{f} in {fields:?}");
    }

    // Nothing was written: the site is as it was, no invitation, no audit entry,
    // nothing in the end users' apps.
    let (_, view) = s.get(&format!("/api/v1/sites/{site}"), &c.admin).await;
    assert_eq!(view["state"], "managed", "{view}");
    assert_eq!(view["invitation"], Value::Null, "{view}");
    assert_eq!(audit_actions(&s, &c.admin, &site).await, audit_before);
    let (_, list) = s.get("/api/v1/me/invitations", &eve).await;
    assert_eq!(list["items"], json!([]));
    let (_, list) = s.get("/api/v1/me/invitations", &old).await;
    assert_eq!(list["items"], json!([]));
    assert_eq!(list["client"]["status"], "update_required", "{list}");

    // Invited once; a second invitation waits for the first.
    let (status, inv) = invite(
        &s,
        &c.admin,
        &site,
        json!({"end_user_email": "eve@home.example"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{inv}");
    refused(
        &invite(
            &s,
            &c.admin,
            &site,
            json!({"end_user_email": "eve@home.example"}),
        )
        .await,
        StatusCode::CONFLICT,
        "handover.invitation_pending",
    );
    // a client too old to handle invitations is told to update; they wait.
    let old_phone = login_with_app(&s, "eve@home.example", "4.1").await;
    let (_, list) = s.get("/api/v1/me/invitations", &old_phone).await;
    assert_eq!(list["items"], json!([]), "{list}");
    assert_eq!(list["client"]["status"], "update_required", "{list}");
    refused(
        &s.post(
            &format!(
                "/api/v1/invitations/{}/accept",
                inv["id"].as_str().expect("id")
            ),
            &old_phone,
            json!({}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "handover.app_too_old",
    );
    let new_phone = login_with_app(&s, "eve@home.example", "4.3").await;
    let mine = pending_invitation(&s, &new_phone).await;
    assert_eq!(mine["id"], inv["id"]);
    s.finish().await;
}

async fn declined_withdrawn_and_expired_invitations(db: Db) {
    let s = TestServer::start(db).await;
    let c = s.company("Acme", "ada@acme.example").await;
    let site = s.site(&c.admin, "Depot").await;
    end_user(&s, "eve@home.example", "EU", "4.3").await;
    let body = json!({"end_user_email": "eve@home.example"});

    // Withdrawn: the site is managed again; the invitation cannot be answered.
    let (_, first) = invite(&s, &c.admin, &site, body.clone()).await;
    let (status, _) = s
        .delete(&format!("/api/v1/sites/{site}/invitation"), &c.admin)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, view) = s.get(&format!("/api/v1/sites/{site}"), &c.admin).await;
    assert_eq!(
        (&view["state"], &view["invitation"]["state"]),
        (&json!("managed"), &json!("withdrawn")),
        "{view}"
    );
    let eve = s.login("eve@home.example", PASSWORD).await;
    refused(
        &s.post(
            &format!(
                "/api/v1/invitations/{}/accept",
                first["id"].as_str().expect("id")
            ),
            &eve,
            json!({}),
        )
        .await,
        StatusCode::CONFLICT,
        "handover.invitation_not_pending",
    );
    refused(
        &s.delete(&format!("/api/v1/sites/{site}/invitation"), &c.admin)
            .await,
        StatusCode::CONFLICT,
        "handover.invitation_not_pending",
    );

    // Declined: the installer sees it on the site.
    invite(&s, &c.admin, &site, body.clone()).await;
    let inv = pending_invitation(&s, &eve).await;
    let (status, declined) = s
        .post(
            &format!(
                "/api/v1/invitations/{}/decline",
                inv["id"].as_str().expect("id")
            ),
            &eve,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{declined}");
    let (_, view) = s.get(&format!("/api/v1/sites/{site}"), &c.admin).await;
    assert_eq!(view["state"], "managed", "{view}");
    assert_eq!(view["invitation"]["state"], "declined", "{view}");
    assert_eq!(view["invitation"]["id"], inv["id"]);
    assert!(view["invitation"]["closed_at"].is_string(), "{view}");

    // Expired: a week later nobody answered; the site is managed again, and a new
    // invitation may go out.
    invite(&s, &c.admin, &site, body.clone()).await;
    s.clock.advance(7 * 24 * HOUR_MS);
    let admin = s.login("ada@acme.example", PASSWORD).await;
    let eve = s.login("eve@home.example", PASSWORD).await;
    let (_, view) = s.get(&format!("/api/v1/sites/{site}"), &admin).await;
    assert_eq!(view["state"], "managed", "{view}");
    assert_eq!(view["invitation"]["state"], "expired", "{view}");
    let (_, list) = s.get("/api/v1/me/invitations", &eve).await;
    assert!(
        list["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|i| i["state"] != "pending"),
        "{list}"
    );
    let (status, again) = invite(&s, &admin, &site, body).await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    s.finish().await;
}

async fn device_deletion_follows_the_invitation(db: Db) {
    let s = TestServer::start(db).await;
    let c = s.company("Acme", "ada@acme.example").await;
    let (_fleet, site, devices) = site_with_cameras(&s, &c.admin, 3, 21).await;
    let (sam_id, sam) = s
        .employee(&c.admin, "Sam", "sam@acme.example", "site_manager")
        .await;
    let (status, _) = s
        .call(
            Method::PUT,
            &format!("/api/v1/sites/{site}/manager"),
            Some(&c.admin),
            Some(json!({"employee_id": sam_id})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, eve) = end_user(&s, "eve@home.example", "EU", "4.3").await;
    let (_, mallory) = end_user(&s, "mallory@home.example", "EU", "4.3").await;

    // before the invitation the Site Manager deletes devices.
    let (status, _) = s
        .delete(&format!("/api/v1/devices/{}", devices[0]), &sam)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // From the invitation on, no installer does; the invitee is not the owner yet.
    let (status, inv) = invite(
        &s,
        &c.admin,
        &site,
        json!({"end_user_email": "eve@home.example",
               "authorization": {"permissions": ["site_info"], "duration_hours": null,
                                 "remark": "To keep your system up to date"}}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{inv}");
    assert_eq!(inv["authorization"]["permissions"], json!(["site_info"]));
    for token in [&c.admin, &sam] {
        refused(
            &s.delete(&format!("/api/v1/devices/{}", devices[1]), token)
                .await,
            StatusCode::FORBIDDEN,
            "policy.only_owner_deletes_devices",
        );
    }
    refused(
        &s.delete(&format!("/api/v1/sites/{site}"), &c.admin).await,
        StatusCode::FORBIDDEN,
        "policy.withdraw_invitation_first",
    );
    refused(
        &s.delete(&format!("/api/v1/devices/{}", devices[1]), &eve)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    // Accepted with the authorization the invitation carried: approved at once.
    let (status, _) = s
        .post(
            &format!(
                "/api/v1/invitations/{}/accept",
                inv["id"].as_str().expect("id")
            ),
            &eve,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, view) = s.get(&format!("/api/v1/sites/{site}"), &c.admin).await;
    assert_eq!(status, StatusCode::OK, "site_info was kept: {view}");
    assert_eq!(view["authorization"]["state"], "approved", "{view}");
    assert_eq!(view["authorization"]["expires_at"], Value::Null, "{view}");
    refused(
        &s.delete(&format!("/api/v1/devices/{}", devices[1]), &c.admin)
            .await,
        StatusCode::FORBIDDEN,
        "policy.only_owner_deletes_devices",
    );
    refused(
        &s.delete(&format!("/api/v1/devices/{}", devices[1]), &mallory)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let (status, body) = s
        .delete(&format!("/api/v1/devices/{}", devices[1]), &eve)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "the owner deletes: {body}");
    let (_, left) = s
        .get(&format!("/api/v1/sites/{site}/devices"), &c.admin)
        .await;
    assert_eq!(left["items"].as_array().map(Vec::len), Some(1), "{left}");
    let actions = audit_actions(&s, &eve, &site).await;
    assert_eq!(actions.iter().filter(|a| *a == "device.delete").count(), 2);
    s.finish().await;
}

async fn change_of_installation_company(db: Db) {
    let s = TestServer::start(db).await;
    let old = s.company("Old Security", "ada@old.example").await;
    let new = s.company("New Security", "bob@new.example").await;
    let (_fleet, site, devices) = site_with_cameras(&s, &old.admin, 1, 31).await;
    let (_, eve) = end_user(&s, "eve@home.example", "EU", "4.3").await;
    let (_, inv) = invite(
        &s,
        &old.admin,
        &site,
        json!({"end_user_email": "eve@home.example",
               "authorization": {"permissions": ["site_info", "health_monitoring"]}}),
    )
    .await;
    let (status, _) = s
        .post(
            &format!(
                "/api/v1/invitations/{}/accept",
                inv["id"].as_str().expect("id")
            ),
            &eve,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, view) = s.get(&format!("/api/v1/sites/{site}"), &old.admin).await;
    let code = view["site_code"].as_str().expect("site code").to_owned();

    // Only an Installer Admin claims; a site not yet handed over cannot be claimed.
    let (_, clerk) = s
        .employee(&new.admin, "Ivy", "ivy@new.example", "it_manager")
        .await;
    refused(
        &s.post("/api/v1/sites/claim", &clerk, json!({"site_code": code}))
            .await,
        StatusCode::FORBIDDEN,
        "policy.only_admin_claims_sites",
    );
    let other_site = s.site(&old.admin, "Shop").await;
    let (_, other) = s
        .get(&format!("/api/v1/sites/{other_site}"), &old.admin)
        .await;
    refused(
        &s.post(
            "/api/v1/sites/claim",
            &new.admin,
            json!({"site_code": other["site_code"]}),
        )
        .await,
        StatusCode::CONFLICT,
        "handover.not_handed_over",
    );
    refused(
        &s.post(
            "/api/v1/sites/claim",
            &new.admin,
            json!({"site_code": "AAAA2222"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    // The new company claims by Site ID (typed loosely); the owner confirms.
    let loose = format!("{}-{}", &code[..4], &code[4..]).to_lowercase();
    let (status, claim) = s
        .post(
            "/api/v1/sites/claim",
            &new.admin,
            json!({"site_code": loose}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{claim}");
    assert_eq!(claim["state"], "pending_confirmation");
    refused(
        &s.post(
            "/api/v1/sites/claim",
            &new.admin,
            json!({"site_code": code}),
        )
        .await,
        StatusCode::CONFLICT,
        "handover.claim_pending",
    );
    let (_, claims) = s.get("/api/v1/me/claims", &eve).await;
    assert_eq!(
        claims["items"][0]["company_name"], "New Security",
        "{claims}"
    );
    let confirm = format!(
        "/api/v1/claims/{}/confirm",
        claim["id"].as_str().expect("id")
    );
    refused(
        &s.post(&confirm, &new.admin, json!({})).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    // At no point do two companies manage the site: the old one's authorization
    // must end first.
    refused(
        &s.post(&confirm, &eve, json!({})).await,
        StatusCode::CONFLICT,
        "handover.previous_installer_authorized",
    );
    let (status, _) = s
        .delete(&format!("/api/v1/sites/{site}/authorization"), &eve)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // The old company's Installer Admin removes the site from its list; the site
    // and its devices stay with the owner.
    let (status, body) = s.delete(&format!("/api/v1/sites/{site}"), &old.admin).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, list) = s.get("/api/v1/sites", &old.admin).await;
    assert!(
        list["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|i| i["id"] != site.as_str()),
        "{list}"
    );
    refused(
        &s.get(&format!("/api/v1/sites/{site}"), &old.admin).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let (status, mine) = s.get(&format!("/api/v1/sites/{site}"), &eve).await;
    assert_eq!(status, StatusCode::OK, "the owner keeps the site: {mine}");
    let (status, _) = s
        .get(&format!("/api/v1/devices/{}", devices[0]), &eve)
        .await;
    assert_eq!(status, StatusCode::OK, "and its devices");

    // Confirmed: the new company manages the site, without a manager or rights yet.
    let (status, confirmed) = s.post(&confirm, &eve, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{confirmed}");
    assert_eq!(confirmed["state"], "confirmed");
    let (_, list) = s.get("/api/v1/sites", &new.admin).await;
    let card = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["id"] == site.as_str())
        .cloned()
        .expect("the site is in the new company's list");
    assert_eq!(card["state"], "handed_over");
    assert_eq!(card["manager_id"], Value::Null);
    assert_eq!(card["authorization"], Value::Null, "{card}");
    needs(
        &s.get(&format!("/api/v1/sites/{site}"), &new.admin).await,
        "site_info",
    );
    refused(
        &s.post(
            "/api/v1/sites/claim",
            &new.admin,
            json!({"site_code": code}),
        )
        .await,
        StatusCode::CONFLICT,
        "handover.already_yours",
    );

    // It assigns a Site Manager and applies; the owner approves.
    let (sam_id, sam) = s
        .employee(&new.admin, "Sam", "sam@new.example", "site_manager")
        .await;
    let (status, _) = s
        .call(
            Method::PUT,
            &format!("/api/v1/sites/{site}/manager"),
            Some(&new.admin),
            Some(json!({"employee_id": sam_id})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, app) = s
        .post(
            &format!("/api/v1/sites/{site}/authorization-requests"),
            &sam,
            json!({"permissions": ["site_info", "health_monitoring"], "duration_hours": 8}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{app}");
    let (status, _) = s
        .post(
            &format!(
                "/api/v1/authorization-requests/{}/approve",
                app["id"].as_str().expect("id")
            ),
            &eve,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, devs) = s.get(&format!("/api/v1/sites/{site}/devices"), &sam).await;
    assert_eq!(status, StatusCode::OK, "{devs}");
    assert_eq!(devs["items"][0]["id"], devices[0].as_str());
    let (_, all) = s.get("/api/v1/devices", &new.admin).await;
    assert_eq!(all["items"].as_array().map(Vec::len), Some(1), "{all}");
    let (status, _) = s
        .get(
            &format!("/api/v1/devices/{}/health", devices[0]),
            &new.admin,
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // The old company sees nothing of it any more.
    for path in [
        format!("/api/v1/sites/{site}/authorizations"),
        format!("/api/v1/devices/{}", devices[0]),
        format!("/api/v1/devices/{}/health", devices[0]),
    ] {
        refused(
            &s.get(&path, &old.admin).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
    }
    let (_, all) = s.get("/api/v1/devices", &old.admin).await;
    assert_eq!(all["items"], json!([]), "{all}");
    let (_, health) = s.get("/api/v1/health", &old.admin).await;
    assert_eq!(health["items"], json!([]), "{health}");

    // the owner reads the whole story.
    let actions = audit_actions(&s, &eve, &site).await;
    for a in [
        "site.claim",
        "authorization.cancel",
        "site.remove_from_list",
        "site.claim_confirmed",
        "site.manager",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
    s.finish().await;
}

async fn other_companies_and_end_users_see_nothing(db: Db) {
    let s = TestServer::start(db).await;
    let a = s.company("Acme", "ada@acme.example").await;
    let b = s.company("Rival", "rob@rival.example").await;
    let site = s.site(&a.admin, "Depot").await;
    let (_, eve) = end_user(&s, "eve@home.example", "EU", "4.3").await;
    let (_, mallory) = end_user(&s, "mallory@home.example", "EU", "4.3").await;

    // another company's site answers 404, never 403.
    let invite_path = format!("/api/v1/sites/{site}/invitation");
    refused(
        &s.post(
            &invite_path,
            &b.admin,
            json!({"end_user_email": "eve@home.example"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let (_, inv) = invite(
        &s,
        &a.admin,
        &site,
        json!({"end_user_email": "eve@home.example"}),
    )
    .await;
    let inv_id = inv["id"].as_str().expect("id");
    refused(
        &s.delete(&invite_path, &b.admin).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    // Someone else's invitation is invisible; installers answer none.
    for token in [&mallory, &a.admin] {
        refused(
            &s.post(
                &format!("/api/v1/invitations/{inv_id}/accept"),
                token,
                json!({}),
            )
            .await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
    }
    let (_, list) = s.get("/api/v1/me/invitations", &mallory).await;
    assert_eq!(list["items"], json!([]));
    s.post(
        &format!("/api/v1/invitations/{inv_id}/accept"),
        &eve,
        json!({}),
    )
    .await;
    let (_, app) = s
        .post(
            &format!("/api/v1/sites/{site}/authorization-requests"),
            &a.admin,
            json!({"permissions": ["configuration"], "duration_hours": 4}),
        )
        .await;
    let app_id = app["id"].as_str().expect("id");

    for (method, path) in [
        (Method::GET, format!("/api/v1/sites/{site}")),
        (Method::GET, format!("/api/v1/sites/{site}/authorizations")),
        (
            Method::POST,
            format!("/api/v1/sites/{site}/authorization-requests"),
        ),
        (
            Method::POST,
            format!("/api/v1/sites/{site}/authorization/release"),
        ),
        (
            Method::DELETE,
            format!("/api/v1/sites/{site}/authorization"),
        ),
        (
            Method::POST,
            format!("/api/v1/authorization-requests/{app_id}/approve"),
        ),
        (
            Method::POST,
            format!("/api/v1/authorization-requests/{app_id}/reject"),
        ),
    ] {
        for token in [&b.admin, &mallory] {
            let body = path
                .ends_with("authorization-requests")
                .then(|| json!({"permissions": ["site_info"]}));
            let got = s.call(method.clone(), &path, Some(token), body).await;
            refused(&got, StatusCode::NOT_FOUND, "not_found");
        }
    }
    let (_, requests) = s.get("/api/v1/me/authorization-requests", &mallory).await;
    assert_eq!(requests["items"], json!([]));
    let (_, requests) = s.get("/api/v1/me/authorization-requests", &eve).await;
    assert_eq!(requests["items"][0]["id"], app_id);
    // The owner rejects; the installer stays out.
    let (status, rejected) = s
        .post(
            &format!("/api/v1/authorization-requests/{app_id}/reject"),
            &eve,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{rejected}");
    assert_eq!(rejected["state"], "rejected");
    needs(
        &s.get(&format!("/api/v1/sites/{site}"), &a.admin).await,
        "site_info",
    );
    s.finish().await;
}

/// with SMTP configured, the invitation also goes out by e-mail — who invites,
/// to which site, the rights asked for, and where to answer — and it expires after
/// the configured time (`invitation_valid_hours`), not the default week.
async fn invitations_are_mailed_and_expire_as_configured(db: Db) {
    let (smtp, mut inbox) = smtp_sink().await;
    let s = TestServer::start_tuned(db, |st| {
        st.smtp_url = Some(smtp);
        st.smtp_from = "Siteward <hello@siteward.example>".into();
        st.public_url = Some("https://siteward.example/".into());
        st.invitation_valid_hours = 2;
    })
    .await;
    let c = s.company("Acme", "ada@acme.example").await;
    let site = s.site(&c.admin, "Depot").await;
    end_user(&s, "eve@home.example", "EU", "4.3").await;
    let (status, inv) = invite(
        &s,
        &c.admin,
        &site,
        json!({"end_user_email": "eve@home.example",
               "authorization": {"permissions": ["health_monitoring"], "duration_hours": 24,
                                 "remark": "We watch your recorders"}}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{inv}");

    let got = mails(&mut inbox, 1, Duration::from_secs(15)).await;
    assert_eq!(got.len(), 1, "one e-mail for the invitation");
    let mail = &got[0];
    assert_eq!(mail.to, vec!["eve@home.example".to_owned()]);
    assert!(
        mail.from.contains("hello@siteward.example"),
        "{}",
        mail.from
    );
    let text = mail.data.replace("=\n", "");
    for expected in [
        "Acme invites you to own the site Depot",
        "health_monitoring",
        "for 24 hours",
        "We watch your recorders",
        "https://siteward.example/app/invitations",
    ] {
        assert!(text.contains(expected), "{expected:?} in {text}");
    }

    // Two hours, not a week: pending a minute before, expired at the hour; then a
    // new one may go out.
    s.clock.advance(2 * HOUR_MS - 60_000);
    let (_, view) = s.get(&format!("/api/v1/sites/{site}"), &c.admin).await;
    assert_eq!(view["invitation"]["state"], "pending", "{view}");
    s.clock.advance(60_000);
    let admin = s.login("ada@acme.example", PASSWORD).await;
    let (_, view) = s.get(&format!("/api/v1/sites/{site}"), &admin).await;
    assert_eq!(view["invitation"]["state"], "expired", "{view}");
    let (status, again) = invite(
        &s,
        &admin,
        &site,
        json!({"end_user_email": "eve@home.example"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    s.finish().await;
}

/// The demo (`siteward demo`) seeds a handed-over site whose owner let the company
/// keep health monitoring, and an invitation waiting in another end user's app;
/// every printed account signs in with the demo password.
async fn the_demo_shows_both_sides_of_hand_over(db: Db) {
    let s = TestServer::start(db).await;
    let seed = siteward_server::demo::seed(&s.app)
        .await
        .expect("demo seed");
    let mut tokens = std::collections::HashMap::new();
    for l in &seed.logins {
        tokens.insert(
            l.email.clone(),
            s.login(&l.email, siteward_server::demo::DEMO_PASSWORD)
                .await,
        );
    }
    let admin = &tokens["admin@brightline.example"];
    let (_, sites) = s.get("/api/v1/sites?limit=50", admin).await;
    let state_of = |name: &str| {
        sites["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|x| x["name"] == name)
            .map(|x| x["state"].clone())
    };
    assert_eq!(
        state_of("Café Lumière"),
        Some(json!("handed_over")),
        "{sites}"
    );
    assert_eq!(
        state_of("Riverside Dental Clinic"),
        Some(json!("owner_invited")),
        "{sites}"
    );

    let (_, mine) = s
        .get("/api/v1/me/sites", &tokens["marie@lumiere.example"])
        .await;
    let names: Vec<&str> = mine["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|x| x["name"].as_str())
        .collect();
    assert_eq!(names, vec!["Café Lumière"], "{mine}");
    let waiting = pending_invitation(&s, &tokens["dr.patel@riverside.example"]).await;
    assert_eq!(waiting["site_name"], "Riverside Dental Clinic");

    // The company kept health monitoring of the handed-over site.
    let (status, health) = s.get("/api/v1/health/sites", admin).await;
    assert_eq!(status, StatusCode::OK, "{health}");
    assert!(health.to_string().contains("Café Lumière"), "{health}");

    // Two of its devices have the cloud client built in: added by serial number,
    // they wait until they connect over the device link, then are devices.
    let cafe = sites["items"]
        .as_array()
        .and_then(|l| l.iter().find(|x| x["name"] == "Café Lumière"))
        .and_then(|x| x["id"].as_str())
        .expect("café id")
        .to_owned();
    let pending_path = format!("/api/v1/sites/{cafe}/devices/pending");
    let (_, pending) = s.get(&pending_path, admin).await;
    assert_eq!(pending.as_array().map(Vec::len), Some(2), "{pending}");
    let links = seed.fleet.connect_links(&format!(
        "{}/link/v1",
        s.url.replacen("http://", "ws://", 1)
    ));
    assert_eq!(links.len(), 2);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (_, pending) = s.get(&pending_path, admin).await;
        if pending == json!([]) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{pending}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, devices) = s.get(&format!("/api/v1/sites/{cafe}/devices"), admin).await;
    let linked = devices["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|d| d["connection"] == "link")
        .count();
    assert_eq!(linked, 2, "{devices}");
    for l in &links {
        l.stop();
    }
    drop(seed);
    s.finish().await;
}
