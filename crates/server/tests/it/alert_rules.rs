//! The notification rules and webhook page (R-33) over real HTTP, with the portal's
//! session cookie and the CSRF token read from the page: a rule made through the form
//! is on the page and in the API, an invalid rule is a form message with nothing
//! written, a rule is deleted, and the webhook is set (or refused) from the page.

use crate::on_both;
use crate::support::{Db, TestServer};
use reqwest::StatusCode;
use serde_json::Value;

on_both!(rules_and_webhook_from_the_portal);

const PAGE: &str = "/portal/notifications/rules";

/// A browser without a cookie store: the session cookie, plus the flash cookie a
/// redirect set, carried by hand.
struct Browser<'a> {
    s: &'a TestServer,
    session: String,
}

/// The answer to a form post.
struct Posted {
    status: StatusCode,
    location: String,
    flash: Option<String>,
    body: String,
}

impl Browser<'_> {
    async fn get(&self, path: &str, flash: Option<&str>) -> (StatusCode, String) {
        let mut cookie = format!("sw_session={}", self.session);
        if let Some(f) = flash {
            cookie.push_str("; ");
            cookie.push_str(f);
        }
        let res = self
            .s
            .http
            .get(format!("{}{path}", self.s.url))
            .header("cookie", cookie)
            .send()
            .await
            .expect("get");
        let status = res.status();
        (status, res.text().await.expect("html"))
    }

    /// The page's CSRF token, as a form on it carries it.
    async fn csrf(&self) -> String {
        let (_, html) = self.get(PAGE, None).await;
        let at = html
            .find(r#"name="csrf" value=""#)
            .expect("a form with a CSRF token");
        let rest = &html[at + r#"name="csrf" value=""#.len()..];
        rest[..rest.find('"').expect("end of token")].to_owned()
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> Posted {
        let res = self
            .s
            .http
            .post(format!("{}{path}", self.s.url))
            .header("cookie", format!("sw_session={}", self.session))
            .form(form)
            .send()
            .await
            .expect("post");
        let status = res.status();
        let location = res
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let flash = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("sw_flash="))
            .map(|v| v.split(';').next().unwrap_or_default().to_owned());
        let body = res.text().await.expect("body");
        Posted {
            status,
            location,
            flash,
            body,
        }
    }

    /// Follows a post's redirect and returns the page it shows, with its message.
    async fn follow(&self, p: &Posted) -> String {
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        let path = p.location.split('#').next().unwrap_or_default();
        let (status, html) = self.get(path, p.flash.as_deref()).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        html
    }
}

async fn rules(s: &TestServer, token: &str) -> Value {
    let (status, body) = s.get("/api/v1/exception-rules", token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn item_count(v: &Value) -> usize {
    v["items"].as_array().map_or(0, Vec::len)
}

async fn rules_and_webhook_from_the_portal(db: Db) {
    let s = TestServer::start(db).await;
    let c = s.company("Acme", "ada@acme.example").await;
    let site = s.site(&c.admin, "Depot North").await;
    let admin = Browser {
        s: &s,
        session: c.admin.clone(),
    };

    // The Notifications page links here; with no rules written, the defaults show.
    let (status, html) = admin.get("/portal/notifications", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"href="/portal/notifications/rules""#));
    let (status, html) = admin.get(PAGE, None).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("defaults apply"), "{html}");
    assert!(html.contains("All sites") && html.contains("always"));
    assert!(html.contains("site local time"));
    let csrf = admin.csrf().await;

    // A rule through the form: one site, two exceptions, weekdays 08:00–18:00.
    let form = [
        ("csrf", csrf.as_str()),
        ("site_id", site.as_str()),
        ("exception", "offline"),
        ("exception", "hdd_full"),
        ("installer_admins", "on"),
        ("webhook", "on"),
        ("day", "0"),
        ("day", "1"),
        ("day", "2"),
        ("day", "3"),
        ("day", "4"),
        ("from", "08:00"),
        ("to", "18:00"),
    ];
    let posted = admin.post(PAGE, &form).await;
    let html = admin.follow(&posted).await;
    assert!(html.contains("Rule added."), "{html}");
    assert!(!html.contains("defaults apply"));
    for text in [
        "Depot North",
        "Offline",
        "HDD full",
        "08:00–18:00",
        "Portal, webhook",
    ] {
        assert!(html.contains(text), "{text} on the page: {html}");
    }
    let list = rules(&s, &c.admin).await;
    assert_eq!(item_count(&list), 1, "{list}");
    let rule = &list["items"][0];
    assert_eq!(rule["site_id"], site.as_str());
    assert_eq!(
        rule["exceptions"],
        serde_json::json!(["hdd_full", "offline"])
    );
    assert_eq!(
        rule["days"],
        serde_json::json!([true, true, true, true, true, false, false])
    );
    assert_eq!(
        (rule["from_minute"].as_u64(), rule["to_minute"].as_u64()),
        (Some(480), Some(1080))
    );
    assert_eq!(rule["installer_admins"], true);
    assert_eq!(rule["email"], false, "an unchecked box is off");
    assert_eq!(rule["webhook"], true);
    let id = rule["id"].as_str().expect("rule id").to_owned();

    // No day checked: a form message, never a 500, and nothing written.
    let posted = admin
        .post(
            PAGE,
            &[
                ("csrf", csrf.as_str()),
                ("site_id", ""),
                ("from", "00:00"),
                ("to", "00:00"),
            ],
        )
        .await;
    assert_eq!(posted.location, format!("{PAGE}#new"));
    let html = admin.follow(&posted).await;
    assert!(html.contains("at least one day"), "{html}");
    assert!(html.contains("flash error"));
    // A time that is not one: the same.
    let posted = admin
        .post(
            PAGE,
            &[
                ("csrf", csrf.as_str()),
                ("day", "0"),
                ("from", "25:00"),
                ("to", ""),
            ],
        )
        .await;
    assert!(
        admin
            .follow(&posted)
            .await
            .contains("must be a time of day")
    );
    assert_eq!(
        item_count(&rules(&s, &c.admin).await),
        1,
        "nothing half-written"
    );

    // Without the session's token, nothing changes.
    let posted = admin
        .post(
            PAGE,
            &[
                ("csrf", "forged"),
                ("day", "0"),
                ("from", "00:00"),
                ("to", "00:00"),
            ],
        )
        .await;
    assert_eq!(posted.status, StatusCode::FORBIDDEN);
    assert_eq!(item_count(&rules(&s, &c.admin).await), 1);

    // Changing the rule: every day, all day, by e-mail too.
    let mut change: Vec<(&str, &str)> = vec![
        ("csrf", csrf.as_str()),
        ("site_id", site.as_str()),
        ("installer_admins", "on"),
        ("email", "on"),
        ("from", "00:00"),
        ("to", "00:00"),
    ];
    change.extend(["0", "1", "2", "3", "4", "5", "6"].map(|d| ("day", d)));
    let posted = admin.post(&format!("{PAGE}/{id}"), &change).await;
    let html = admin.follow(&posted).await;
    assert!(html.contains("Rule saved."), "{html}");
    assert!(html.contains("All exceptions") && html.contains("always"));
    let rule = rules(&s, &c.admin).await["items"][0].clone();
    assert_eq!(
        (rule["email"].clone(), rule["webhook"].clone()),
        (true.into(), false.into())
    );
    assert_eq!(rule["exceptions"], serde_json::json!([]));

    // A Site Manager may not manage rules: the app's refusal, as a message.
    let (_, sm) = s
        .employee(&c.admin, "Sam Site", "sam@acme.example", "site_manager")
        .await;
    let manager = Browser {
        s: &s,
        session: sm.clone(),
    };
    let (status, html) = manager.get(PAGE, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        html.contains("flash error") && !html.contains("rules-table"),
        "{html}"
    );
    let sm_csrf = manager.csrf().await;
    let posted = manager
        .post(
            &format!("{PAGE}/{id}/delete"),
            &[("csrf", sm_csrf.as_str())],
        )
        .await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER);
    assert!(posted.flash.is_some());
    assert_eq!(item_count(&rules(&s, &c.admin).await), 1, "still there");

    // Deleting it: the defaults apply again.
    let posted = admin
        .post(&format!("{PAGE}/{id}/delete"), &[("csrf", csrf.as_str())])
        .await;
    let html = admin.follow(&posted).await;
    assert!(
        html.contains("Rule deleted.") && html.contains("defaults apply"),
        "{html}"
    );
    let list = rules(&s, &c.admin).await;
    assert_eq!(item_count(&list), 0);
    assert_eq!(list["effective"].as_array().map(Vec::len), Some(1));

    // The webhook: refused for a scheme that is not https (or http to localhost)...
    let posted = admin
        .post(
            "/portal/notifications/webhook",
            &[("csrf", csrf.as_str()), ("url", "ftp://x"), ("secret", "")],
        )
        .await;
    assert_eq!(posted.location, format!("{PAGE}#webhook"));
    let html = admin.follow(&posted).await;
    assert!(html.contains("must be an https URL"), "{html}");
    // ...accepted to localhost, with the generated secret shown this once.
    let posted = admin
        .post(
            "/portal/notifications/webhook",
            &[
                ("csrf", csrf.as_str()),
                ("url", "http://127.0.0.1:9/hook"),
                ("secret", ""),
            ],
        )
        .await;
    assert_eq!(posted.status, StatusCode::OK, "{}", posted.body);
    assert!(
        posted.flash.is_none(),
        "the secret never goes into a cookie"
    );
    let html = posted.body;
    assert!(html.contains("http://127.0.0.1:9/hook"), "{html}");
    let marker = r#"id="webhook-secret">"#;
    let at = html.find(marker).expect("the secret is shown") + marker.len();
    let secret = &html[at..at + 64];
    assert!(secret.chars().all(|c| c.is_ascii_hexdigit()), "{secret}");
    let (_, again) = admin.get(PAGE, None).await;
    assert!(!again.contains(secret), "shown once only");

    // An IT Manager sees the rules but the app keeps the webhook to Installer Admins.
    let (_, it) = s
        .employee(&c.admin, "Ian IT", "ian@acme.example", "it_manager")
        .await;
    let it = Browser { s: &s, session: it };
    let (status, _) = it.get(PAGE, None).await;
    assert_eq!(status, StatusCode::OK);
    let it_csrf = it.csrf().await;
    let posted = it
        .post(
            "/portal/notifications/webhook",
            &[
                ("csrf", it_csrf.as_str()),
                ("url", "https://hooks.example.com/x"),
            ],
        )
        .await;
    let html = it.follow(&posted).await;
    assert!(html.contains("flash error"), "{html}");
    s.finish().await;
}
