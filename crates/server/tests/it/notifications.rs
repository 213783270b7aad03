//! Notifications end to end (R-33): a fault on a simulated device notifies the Site
//! Manager and the Installer Admin, calls the company webhook (signed, retried), the
//! recovery is notified too, and a rule that leaves the exception out stays quiet.

use crate::health::inspect;
use crate::on_both;
use crate::support::{Db, TestServer, mails, smtp_sink};
use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;
use siteward_devsim::{Fault, FaultKind, Fleet, FleetSpec};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

on_both!(
    faults_and_recoveries_are_notified,
    notification_rules_are_guarded,
    ongoing_problems_are_reminded_until_acknowledged,
    two_nodes_tell_a_change_once
);

const SECRET: &str = "a-webhook-secret-of-some-length";

/// A webhook receiver on 127.0.0.1: answers the first call 500 (to see the retry),
/// then 200, and hands every call's headers and body to the test.
async fn receiver() -> (String, mpsc::UnboundedReceiver<(HeaderMap, String)>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let calls = Arc::new(AtomicUsize::new(0));
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let tx = tx.clone();
            let calls = calls.clone();
            async move {
                let _ = tx.send((headers, body));
                if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/hook"), rx)
}

/// Checks a webhook call's signature and returns its JSON body.
fn verified(headers: &HeaderMap, body: &str) -> Value {
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("header {n}"))
            .to_owned()
    };
    let (ts, id, sig) = (
        h("x-siteward-timestamp"),
        h("x-siteward-id"),
        h("x-siteward-signature"),
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(format!("{ts}.{id}.{body}").as_bytes());
    assert_eq!(
        sig,
        format!("sha256={}", hex::encode(mac.finalize().into_bytes())),
        "signature"
    );
    let v: Value = serde_json::from_str(body).expect("json body");
    assert_eq!(v["id"], id.as_str());
    v
}

async fn next_call(rx: &mut mpsc::UnboundedReceiver<(HeaderMap, String)>) -> Value {
    let (headers, body) = tokio::time::timeout(Duration::from_secs(15), rx.recv())
        .await
        .expect("a webhook call in time")
        .expect("receiver open");
    verified(&headers, &body)
}

/// Waits until `token`'s notifications number `n`; returns the list.
async fn wait_for(s: &TestServer, token: &str, n: usize) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, list) = s.get("/api/v1/notifications", token).await;
        assert_eq!(status, StatusCode::OK, "{list}");
        if list["items"].as_array().map_or(0, Vec::len) >= n {
            return list;
        }
        assert!(
            Instant::now() < deadline,
            "waiting for {n} notifications: {list}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

type Setup = (TestServer, String, String, String, String, Fleet, String);

/// A company with a Site Manager on a site holding one simulated NVR:
/// (server, admin token, manager token, site id, device id, fleet, serial).
async fn setup(db: Db) -> Setup {
    setup_tuned(db, |_| {}).await
}

/// [`setup`] with more settings changed.
async fn setup_tuned(db: Db, tune: impl FnOnce(&mut siteward_server::config::Settings)) -> Setup {
    let s = TestServer::start_tuned(db, |st| {
        st.notify_hold_secs = 0;
        tune(st);
    })
    .await;
    let fleet = Fleet::start(FleetSpec::parse_mix("nvr=1", 5).expect("mix"))
        .await
        .expect("fleet");
    let c = s.company("Acme", "ada@acme.example").await;
    let (sm_id, sm) = s
        .employee(&c.admin, "Sue Site", "sue@acme.example", "site_manager")
        .await;
    let site = s.site(&c.admin, "Depot").await;
    let (status, body) = s
        .call(
            Method::PUT,
            &format!("/api/v1/sites/{site}/manager"),
            Some(&c.admin),
            Some(json!({"employee_id": sm_id})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let d = fleet.devices().remove(0);
    let (status, body) = s
        .post(
            &format!("/api/v1/sites/{site}/devices"),
            &c.admin,
            json!({"via": "ip", "host": d.address.ip().to_string(), "port": d.address.port(), "username": d.username, "password": d.password}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let device = body["id"].as_str().expect("id").to_owned();
    (s, c.admin, sm, site, device, fleet, d.serial)
}

async fn faults_and_recoveries_are_notified(db: Db) {
    let (s, admin, sm, site, device, fleet, serial) = setup(db).await;
    let (hook, mut calls) = receiver().await;
    let (status, body) = s
        .call(
            Method::PUT,
            "/api/v1/company/webhook",
            Some(&admin),
            Some(json!({"url": hook, "secret": SECRET})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["secret"].is_null(), "a given secret is never echoed");
    let (status, rule) = s
        .post("/api/v1/exception-rules", &admin, json!({"webhook": true}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rule}");

    // Healthy: nothing to tell.
    inspect(&s, &admin, "device", Some(&device)).await;
    let (_, list) = s.get("/api/v1/notifications", &sm).await;
    assert_eq!(list["items"], json!([]), "{list}");
    assert_eq!(list["unread"], 0);

    // A disk error: the Site Manager and the Installer Admin hear of it.
    let dev = fleet.device(&serial).expect("device");
    dev.set_fault(Fault::HddError).expect("fault");
    inspect(&s, &admin, "device", Some(&device)).await;
    for token in [&sm, &admin] {
        let list = wait_for(&s, token, 1).await;
        let n = &list["items"][0];
        assert_eq!(n["device_id"], device.as_str(), "{n}");
        assert_eq!(n["site_id"], site.as_str(), "{n}");
        assert_eq!(n["level"], "abnormal", "{n}");
        assert!(n["read_at"].is_null());
        assert_eq!(list["unread"], 1);
    }
    // The webhook: the first call fails, the retry a second later succeeds, both signed.
    let first = next_call(&mut calls).await;
    let retry = next_call(&mut calls).await;
    assert_eq!(first, retry, "the retry sends the same message");
    assert_eq!(first["type"], "device.exception", "{first}");
    assert_eq!(first["device_id"], device.as_str());

    // Back to normal: the recovery is told as well.
    dev.clear_fault(FaultKind::HddError);
    inspect(&s, &admin, "device", Some(&device)).await;
    let list = wait_for(&s, &sm, 2).await;
    let newest = &list["items"][0];
    assert_eq!(newest["level"], "normal", "{list}");
    assert!(
        newest["title"]
            .as_str()
            .is_some_and(|t| t.contains("back to normal")),
        "{newest}"
    );
    let recovered = next_call(&mut calls).await;
    assert_eq!(recovered["type"], "device.recovered", "{recovered}");

    // Marking read: mine only.
    let id = newest["id"].as_str().expect("id");
    let (status, body) = s
        .post(&format!("/api/v1/notifications/{id}/read"), &sm, json!({}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, _) = s
        .post(
            &format!("/api/v1/notifications/{id}/read"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another person's notification"
    );
    let (_, list) = s.get("/api/v1/notifications", &sm).await;
    assert_eq!(list["unread"], 1, "{list}");
    assert!(list["items"][0]["read_at"].is_string(), "{list}");

    // The portal page lists them with a badge, and marks read with the form's token.
    let cookie = format!("sw_session={sm}");
    let page = |c: String| {
        let req = s
            .http
            .get(format!("{}/portal/notifications", s.url))
            .header("cookie", c);
        async move {
            let res = req.send().await.expect("page");
            assert_eq!(res.status(), StatusCode::OK);
            res.text().await.expect("html")
        }
    };
    let html = page(cookie.clone()).await;
    assert!(html.contains("1 unread"), "{html}");
    assert!(html.contains("back to normal"));
    assert!(
        html.contains(r#"<span class="badge count">1</span>"#),
        "badge"
    );
    let unread_id = list["items"][1]["id"].as_str().expect("id").to_owned();
    let csrf = html
        .split(r#"name="csrf" value=""#)
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("csrf")
        .to_owned();
    let post = |token: String| {
        let req = s
            .http
            .post(format!("{}/portal/notifications/{unread_id}/read", s.url))
            .header("cookie", cookie.clone())
            .form(&[("csrf", token)]);
        async move { req.send().await.expect("post").status() }
    };
    assert_eq!(post("forged".into()).await, StatusCode::FORBIDDEN);
    assert_eq!(post(csrf).await, StatusCode::SEE_OTHER);
    let (_, after) = s.get("/api/v1/notifications", &sm).await;
    assert_eq!(after["unread"], 0, "{after}");

    // A rule that leaves the disk error out: nothing more is told.
    let rule_id = rule["id"].as_str().expect("rule id");
    let (status, body) = s
        .patch(
            &format!("/api/v1/exception-rules/{rule_id}"),
            &admin,
            json!({"exceptions": ["offline"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["exceptions"], json!(["offline"]));
    dev.set_fault(Fault::HddError).expect("fault");
    inspect(&s, &admin, "device", Some(&device)).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (_, list) = s.get("/api/v1/notifications", &sm).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(2), "{list}");
    let (_, list) = s.get("/api/v1/notifications", &admin).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(2), "{list}");
    assert!(calls.try_recv().is_err(), "no webhook call either");

    drop(fleet);
    s.finish().await;
}

async fn notification_rules_are_guarded(db: Db) {
    let (s, admin, sm, site, _device, fleet, _serial) = setup(db).await;
    // Defaults apply while the company has no rules of its own.
    let (status, rules) = s.get("/api/v1/exception-rules", &admin).await;
    assert_eq!(status, StatusCode::OK, "{rules}");
    assert_eq!(rules["items"], json!([]));
    assert_eq!(rules["effective"][0]["installer_admins"], true, "{rules}");
    // A Site Manager neither reads nor writes rules, nor sets the webhook.
    let (status, body) = s.get("/api/v1/exception-rules", &sm).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["code"], "policy.admin_or_it_manager_only", "{body}");
    let (status, _) = s
        .call(
            Method::PUT,
            "/api/v1/company/webhook",
            Some(&sm),
            Some(json!({"url": "https://hooks.example.com/x"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Plain http to another host is refused; a generated secret is shown once.
    let (status, body) = s
        .call(
            Method::PUT,
            "/api/v1/company/webhook",
            Some(&admin),
            Some(json!({"url": "http://hooks.example.com/x"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = s
        .call(
            Method::PUT,
            "/api/v1/company/webhook",
            Some(&admin),
            Some(json!({"url": "https://hooks.example.com/x"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["secret"].as_str().map(str::len), Some(64), "{body}");
    // Bad rules are refused with the field at fault.
    for bad in [
        json!({"days": [false, false, false, false, false, false, false]}),
        json!({"from_minute": 1440}),
        json!({"exceptions": ["nonsense"]}),
        json!({"site_id": "00000000-0000-0000-0000-000000000000"}),
    ] {
        let (status, body) = s.post("/api/v1/exception-rules", &admin, bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
    // Create, change, delete; each is in the audit log.
    let (status, rule) = s
        .post(
            "/api/v1/exception-rules",
            &admin,
            json!({"site_id": site, "exceptions": ["offline", "hdd_error"], "installer_admins": false,
                   "days": [true, true, true, true, true, false, false], "from_minute": 480, "to_minute": 1080}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rule}");
    assert_eq!(rule["site_manager"], true);
    assert_eq!(rule["portal"], true);
    let id = rule["id"].as_str().expect("id");
    let (status, body) = s
        .patch(
            &format!("/api/v1/exception-rules/{id}"),
            &admin,
            json!({"site_id": ""}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["site_id"].is_null());
    assert_eq!(body["from_minute"], 480, "absent fields keep their value");
    let (status, _) = s
        .delete(&format!("/api/v1/exception-rules/{id}"), &admin)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = s
        .delete(&format!("/api/v1/exception-rules/{id}"), &admin)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, audit) = s.get("/api/v1/company/audit", &admin).await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for a in [
        "exception_rule.create",
        "exception_rule.update",
        "exception_rule.delete",
        "company.webhook",
    ] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
    drop(fleet);
    s.finish().await;
}

fn kinds(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|n| n["kind"].as_str().unwrap_or("").to_owned())
        .collect()
}

/// R-33: an ongoing problem is e-mailed and reminded at the re-notify interval until
/// someone acknowledges it; acknowledging is recorded, stops the reminders, and
/// nothing is told twice after a restart.
async fn ongoing_problems_are_reminded_until_acknowledged(db: Db) {
    let (smtp, mut inbox) = smtp_sink().await;
    let (s, admin, sm, site, device, fleet, serial) = setup_tuned(db, |st| {
        st.renotify_secs = 1;
        st.smtp_url = Some(smtp.clone());
        st.smtp_from = "Siteward <alerts@siteward.example>".into();
    })
    .await;
    let dev = fleet.device(&serial).expect("device");
    dev.set_fault(Fault::HddError).expect("fault");
    inspect(&s, &admin, "device", Some(&device)).await;

    // The first notification, to both people, in the portal and by e-mail.
    let list = wait_for(&s, &sm, 1).await;
    assert_eq!(kinds(&list)[0], "exception", "{list}");
    let got = mails(&mut inbox, 2, Duration::from_secs(15)).await;
    let mut to: Vec<String> = got.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    assert_eq!(to, ["ada@acme.example", "sue@acme.example"], "{got:?}");
    for m in &got {
        assert!(m.from.contains("alerts@siteward.example"), "{m:?}");
        assert!(m.data.contains("Subject: "), "{m:?}");
        assert!(m.data.contains("Depot"), "the site is named: {m:?}");
        assert!(
            m.data.to_lowercase().contains("hdd"),
            "the reason is told: {m:?}"
        );
    }

    // Nobody acknowledged: a reminder follows, in the portal and by e-mail.
    let list = wait_for(&s, &sm, 2).await;
    assert_eq!(kinds(&list)[0], "reminder", "{list}");
    assert!(
        list["items"][0]["title"]
            .as_str()
            .is_some_and(|t| t.starts_with("Still: ")),
        "{list}"
    );
    assert_eq!(mails(&mut inbox, 2, Duration::from_secs(15)).await.len(), 2);

    // The Site Manager acknowledges: recorded on every notification of the problem,
    // in the site's audit log, and the reminders stop.
    let id = list["items"][0]["id"].as_str().expect("id").to_owned();
    let (status, ack) = s
        .post(
            &format!("/api/v1/notifications/{id}/acknowledge"),
            &sm,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{ack}");
    assert!(ack["acknowledged_at"].is_string(), "{ack}");
    assert!(ack["read_at"].is_string(), "acknowledging reads it: {ack}");
    let (_, theirs) = s.get("/api/v1/notifications", &admin).await;
    assert!(
        theirs["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|n| n["acknowledged_at"].is_string()),
        "the admin sees it was taken on: {theirs}"
    );
    let (status, _) = s
        .post(
            &format!("/api/v1/notifications/{id}/acknowledge"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another person's notification"
    );
    let (_, audit) = s.get(&format!("/api/v1/sites/{site}/audit"), &admin).await;
    assert!(
        audit.to_string().contains("device.alert_acknowledged"),
        "{audit}"
    );
    let settled = s.get("/api/v1/notifications", &sm).await.1["items"]
        .as_array()
        .map_or(0, Vec::len);
    // E-mails of a reminder queued before the acknowledgement may still arrive.
    let _ = mails(&mut inbox, usize::MAX, Duration::from_millis(1500)).await;
    tokio::time::sleep(Duration::from_millis(3000)).await;
    let (_, list) = s.get("/api/v1/notifications", &sm).await;
    assert_eq!(
        list["items"].as_array().map(Vec::len),
        Some(settled),
        "no reminders after the acknowledgement: {list}"
    );
    let quiet = mails(&mut inbox, 1, Duration::from_millis(1000)).await;
    assert!(quiet.is_empty(), "no reminder e-mails either: {quiet:?}");

    // A restart tells nothing twice: the problem was told and acknowledged.
    let count = s.get("/api/v1/notifications", &sm).await.1["items"]
        .as_array()
        .map_or(0, Vec::len);
    let s = s.restart().await;
    inspect(&s, &admin, "device", Some(&device)).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (_, list) = s.get("/api/v1/notifications", &sm).await;
    assert_eq!(
        list["items"].as_array().map(Vec::len),
        Some(count),
        "{list}"
    );

    // The recovery is told (and e-mailed); acknowledging it is refused politely.
    dev.clear_fault(FaultKind::HddError);
    inspect(&s, &admin, "device", Some(&device)).await;
    let list = wait_for(&s, &sm, count + 1).await;
    assert_eq!(kinds(&list)[0], "recovered", "{list}");
    let recovered = mails(&mut inbox, 2, Duration::from_secs(15)).await;
    assert!(
        recovered.iter().any(|m| m.data.contains("back to normal")),
        "{recovered:?}"
    );
    drop(fleet);
    s.finish().await;
}

/// What the notifier told is shared through the store: a second node (a second
/// store on the same database) cannot overwrite a change with a stale view, and of
/// two nodes claiming the same reminder only one gets it.
async fn two_nodes_tell_a_change_once(db: Db) {
    let (s, admin, sm, _site, device, fleet, serial) = setup(db).await;
    fleet
        .device(&serial)
        .expect("device")
        .set_fault(Fault::HddError)
        .expect("fault");
    inspect(&s, &admin, "device", Some(&device)).await;
    wait_for(&s, &sm, 1).await;
    let url = s.settings.database_url();
    let (a, b) = (
        siteward_store::Store::open(&url).await.expect("node a"),
        siteward_store::Store::open(&url).await.expect("node b"),
    );
    let device_id = device.parse().expect("device id");
    let told = a
        .read()
        .await
        .expect("conn")
        .device_alert(device_id)
        .await
        .expect("alert")
        .expect("the problem was recorded as told");
    assert_eq!(told.reasons.len(), 1, "{told:?}");
    assert!(told.acknowledged_at.is_none());
    // A stale view loses; the current one wins once.
    let mut next = told.clone();
    next.version += 1;
    let mut h = b.begin().await.expect("tx");
    assert!(
        !h.save_device_alert(&next, Some(told.version - 1))
            .await
            .expect("save")
    );
    assert!(
        h.save_device_alert(&next, Some(told.version))
            .await
            .expect("save")
    );
    assert!(
        !h.save_device_alert(&next, Some(told.version))
            .await
            .expect("save")
    );
    h.commit().await.expect("commit");
    // Both nodes look for reminders at once: one of them sends it.
    let far = told.last_told_at + 86_400_000;
    let claim = |store: siteward_store::Store| async move {
        let mut h = store.begin().await.expect("tx");
        let got = h.claim_reminders(far, far - 1000, 10).await.expect("claim");
        h.commit().await.expect("commit");
        got.len()
    };
    let (x, y) = tokio::join!(claim(a.clone()), claim(b.clone()));
    assert_eq!(x + y, 1, "claimed by exactly one node ({x} + {y})");
    drop(fleet);
    s.finish().await;
}
