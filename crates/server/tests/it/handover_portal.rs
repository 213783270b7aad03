//! The installer's side of hand-over in the portal (R-8 to R-11, R-16): the site
//! page's owner invitation, authorization applications and releases, removing a
//! handed-over site from the list, and adding a site by its Site ID — over real HTTP
//! with the portal's session cookie and the CSRF token read from the page; refusals
//! are form messages with nothing written. Then the journey in headless Chromium,
//! with the site page following the owner's answers live.

use crate::browser::{browser, click, fill, portal_sign_in, screenshot, submit_form, text_of};
use crate::on_both;
use crate::support::{Db, PASSWORD, TestServer};
use fantoccini::{Client, Locator};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use siteward_devsim::{Fleet, FleetSpec};
use std::time::{Duration, Instant};

on_both!(
    inviting_the_owner_from_the_site_page,
    authorizations_from_the_site_page,
    adding_a_site_by_site_id
);

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

/// The id of the end user's only pending invitation.
async fn pending_invitation(s: &TestServer, token: &str) -> String {
    let (status, list) = s.get("/api/v1/me/invitations", token).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let pending: Vec<&Value> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|i| i["state"] == "pending")
        .collect();
    assert_eq!(pending.len(), 1, "{list}");
    pending[0]["id"].as_str().expect("id").to_owned()
}

/// The end user accepts the only pending invitation (no body).
async fn accept(s: &TestServer, token: &str) {
    let id = pending_invitation(s, token).await;
    let (status, body) = s
        .call(
            Method::POST,
            &format!("/api/v1/invitations/{id}/accept"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// The owner approves the only waiting application, as asked.
async fn approve_waiting(s: &TestServer, token: &str) -> Value {
    let (_, list) = s.get("/api/v1/me/authorization-requests", token).await;
    let id = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|a| a["state"] == "pending")
        .and_then(|a| a["id"].as_str())
        .unwrap_or_else(|| panic!("an application waits: {list}"))
        .to_owned();
    let (status, body) = s
        .call(
            Method::POST,
            &format!("/api/v1/authorization-requests/{id}/approve"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn audit_count(s: &TestServer, token: &str, site: &str) -> usize {
    let (status, audit) = s.get(&format!("/api/v1/sites/{site}/audit"), token).await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    audit["items"].as_array().map_or(0, Vec::len)
}

/// The company's authorizations on the site (the card needs none).
async fn authorizations(s: &TestServer, token: &str, site: &str) -> Vec<Value> {
    let (status, list) = s
        .get(&format!("/api/v1/sites/{site}/authorizations"), token)
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list["items"].as_array().cloned().unwrap_or_default()
}

/// The site's card as the company's list shows it.
async fn card(s: &TestServer, token: &str, site: &str) -> Value {
    let (_, list) = s.get("/api/v1/sites", token).await;
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["id"] == site)
        .cloned()
        .unwrap_or(Value::Null)
}

/// Text as people read it: the HTML escapes undone.
fn unescape(html: &str) -> String {
    html.replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// A browser without a cookie store: the session cookie, plus the flash cookie a
/// redirect set, carried by hand.
struct Portal<'a> {
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

impl Portal<'_> {
    async fn get_with(&self, path: &str, extra_cookie: Option<&str>) -> (StatusCode, String) {
        let mut cookie = format!("sw_session={}", self.session);
        if let Some(f) = extra_cookie {
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
        (status, unescape(&res.text().await.expect("html")))
    }

    /// A page that must show (200), as text.
    async fn page(&self, path: &str) -> String {
        let (status, html) = self.get_with(path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {html}");
        html
    }

    /// The CSRF token a form on the page carries.
    async fn csrf(&self, path: &str) -> String {
        let html = self.page(path).await;
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
        let body = unescape(&res.text().await.expect("body"));
        Posted {
            status,
            location,
            flash,
            body,
        }
    }

    /// Follows a post's redirect; returns the page it shows, with its message.
    async fn follow(&self, p: &Posted) -> String {
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        let path = p.location.split('#').next().unwrap_or_default();
        let (status, html) = self.get_with(path, p.flash.as_deref()).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        html
    }

    /// Posts a form and returns the message the next page shows: (ok, text).
    async fn submit(&self, path: &str, form: &[(&str, &str)]) -> (bool, String, String) {
        let posted = self.post(path, form).await;
        let html = self.follow(&posted).await;
        let (ok, text) = flash_of(&html).unwrap_or_else(|| panic!("a message: {html}"));
        (ok, text, html)
    }
}

/// A refused form: its fields (besides the CSRF token) and the words its message
/// must contain.
type Case<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str]);

/// The page's flash message: (ok, text).
fn flash_of(html: &str) -> Option<(bool, String)> {
    for (marker, ok) in [
        (r#"<div class="flash ok" role="status">"#, true),
        (r#"<div class="flash error" role="status">"#, false),
    ] {
        if let Some(at) = html.find(marker) {
            let rest = &html[at + marker.len()..];
            let end = rest.find("</div>").unwrap_or(rest.len());
            return Some((ok, rest[..end].to_owned()));
        }
    }
    None
}

#[track_caller]
fn refused_with(got: &(bool, String, String), words: &[&str]) {
    assert!(!got.0, "refused: {}", got.1);
    for w in words {
        assert!(got.1.contains(w), "{w:?} in {:?}", got.1);
    }
}

#[track_caller]
fn done_with(got: &(bool, String, String), words: &[&str]) {
    assert!(got.0, "done: {}", got.1);
    for w in words {
        assert!(got.1.contains(w), "{w:?} in {:?}", got.1);
    }
}

/// R-8, R-9, R-16: the site page shows the state, the Site ID and the invitation
/// form; refusals (region, app version, no account, bad input, wrong role, a
/// waiting invitation, a forged form) are clear messages with nothing written; the
/// pending invitation shows with its expiry and is withdrawn; a declined one is
/// shown as such.
async fn inviting_the_owner_from_the_site_page(db: Db) {
    let s = TestServer::start(db).await;
    let c = s.company("Acme", "ada@acme.example").await;
    let site = s.site(&c.admin, "Depot").await;
    end_user(&s, "nora@home.example", "NA", "4.3").await;
    end_user(&s, "olaf@home.example", "EU", "4.2").await;
    let (_, eve) = end_user(&s, "eve@home.example", "EU", "4.3").await;
    let (_, it) = s
        .employee(&c.admin, "Ivy", "ivy@acme.example", "it_manager")
        .await;
    let admin = Portal {
        s: &s,
        session: c.admin.clone(),
    };
    let page = format!("/portal/sites/{site}");
    let invite = format!("{page}/invitation");

    let html = admin.page(&page).await;
    let view = card(&s, &c.admin, &site).await;
    let code = view["site_code"].as_str().expect("code");
    assert!(html.contains(code), "the Site ID is shown");
    assert!(html.contains(r#"id="site-state">Managed<"#), "{html}");
    assert!(html.contains("Not handed over yet"));
    assert!(html.contains(r#"id="invite-form""#) && html.contains("Invite site owner"));
    for p in [
        "site_info",
        "configuration",
        "live_view",
        "playback",
        "health_monitoring",
    ] {
        assert!(html.contains(&format!(r#"value="{p}""#)), "{p} offered");
    }
    for d in ["1", "2", "4", "8", "24", "permanent"] {
        assert!(
            html.contains(&format!(r#"<option value="{d}""#)),
            "{d} offered"
        );
    }
    assert!(
        html.contains(r#"data-live-on="handover_changed""#) && !html.contains("<script>"),
        "live, without inline script"
    );
    let csrf = admin.csrf(&page).await;
    let audit_before = audit_count(&s, &c.admin, &site).await;

    // A form without the session's token changes nothing.
    for token in ["", "forged"] {
        let posted = admin
            .post(
                &invite,
                &[("csrf", token), ("end_user_email", "eve@home.example")],
            )
            .await;
        assert_eq!(posted.status, StatusCode::FORBIDDEN, "{}", posted.body);
        assert!(posted.body.contains("expired"), "{}", posted.body);
    }

    // Refusals are messages on the page; nothing is written.
    let cases: [Case; 6] = [
        (
            &[("end_user_email", "nora@home.example")],
            &["Invitation not sent", "region NA", "region EU"],
        ),
        (
            &[("end_user_email", "olaf@home.example")],
            &["Invitation not sent", "4.2", "too old", "4.3"],
        ),
        (
            &[("end_user_email", "nobody@home.example")],
            &["no end-user account has this e-mail address"],
        ),
        (
            &[("end_user_email", "ada@acme.example")],
            &["no end-user account"],
        ),
        (
            &[
                ("end_user_email", "not an address"),
                ("permission", "teleport"),
                ("duration_hours", "3"),
            ],
            &[
                "end user email",
                "authorization permissions",
                "authorization duration hours",
            ],
        ),
        (
            &[
                ("end_user_email", "eve@home.example"),
                ("permission", "site_info"),
                ("duration_hours", "forever"),
            ],
            &["choose 1, 2, 4, 8 or 24 hours, or permanent"],
        ),
    ];
    for (fields, words) in cases {
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        let got = admin.submit(&invite, &form).await;
        refused_with(&got, words);
        assert!(got.2.contains(r#"id="site-state">Managed<"#));
    }
    // The IT Manager is not offered the form, and is refused.
    let ivy = Portal {
        s: &s,
        session: it.clone(),
    };
    let html = ivy.page(&page).await;
    assert!(!html.contains(r#"id="invite-form""#), "{html}");
    assert!(html.contains("Only the Installer Admin and the site's Site Manager invite"));
    let ivy_csrf = ivy.csrf(&page).await;
    let got = ivy
        .submit(
            &invite,
            &[
                ("csrf", ivy_csrf.as_str()),
                ("end_user_email", "eve@home.example"),
            ],
        )
        .await;
    refused_with(
        &got,
        &["Only the Installer Admin and the site's Site Manager may hand the site over"],
    );
    let view = card(&s, &c.admin, &site).await;
    assert_eq!(view["state"], "managed", "{view}");
    assert_eq!(view["invitation"], Value::Null, "nothing written: {view}");
    assert_eq!(audit_count(&s, &c.admin, &site).await, audit_before);
    let (_, list) = s.get("/api/v1/me/invitations", &eve).await;
    assert_eq!(list["items"], json!([]));

    // Invited, keeping an authorization if the owner agrees.
    let got = admin
        .submit(
            &invite,
            &[
                ("csrf", csrf.as_str()),
                ("end_user_email", "Eve@Home.example"),
                ("permission", "site_info"),
                ("permission", "health_monitoring"),
                ("duration_hours", "24"),
                ("remark", "Yearly maintenance"),
            ],
        )
        .await;
    done_with(
        &got,
        &[
            "Invitation sent to eve@home.example",
            "Site information, Health monitoring for 24 hours",
        ],
    );
    let html = got.2;
    assert!(html.contains(r#"id="site-state">Owner invited<"#), "{html}");
    assert!(html.contains("Waiting for the end user") && html.contains("eve@home.example"));
    assert!(html.contains("expires in 7 days"), "{html}");
    assert!(html.contains(r#"id="withdraw-form""#));
    assert!(!html.contains(r#"id="invite-form""#));
    assert!(
        !html.contains("Delete site") && html.contains("withdraw the invitation before deleting"),
        "R-16: not deleted while invited"
    );
    let (_, list) = s.get("/api/v1/me/invitations", &eve).await;
    let mine = &list["items"][0];
    assert_eq!(mine["state"], "pending", "{list}");
    assert_eq!(
        mine["authorization"]["permissions"],
        json!(["site_info", "health_monitoring"])
    );
    assert_eq!(mine["authorization"]["duration_hours"], 24);
    assert_eq!(mine["authorization"]["remark"], "Yearly maintenance");

    // One invitation at a time.
    let got = admin
        .submit(
            &invite,
            &[
                ("csrf", csrf.as_str()),
                ("end_user_email", "eve@home.example"),
            ],
        )
        .await;
    refused_with(&got, &["already waiting for an answer"]);

    // The live part alone, for the page's script.
    let res = s
        .http
        .get(format!("{}{page}", s.url))
        .header("cookie", format!("sw_session={}", c.admin))
        .header("x-partial", "site-live")
        .send()
        .await
        .expect("partial");
    assert_eq!(res.status(), StatusCode::OK);
    let part = res.text().await.expect("html");
    assert!(
        part.contains(r#"id="site-state">Owner invited<"#) && !part.contains("<html"),
        "{part}"
    );

    // Withdrawn: managed again, and the page says so.
    let got = admin
        .submit(
            &format!("{page}/invitation/withdraw"),
            &[("csrf", csrf.as_str())],
        )
        .await;
    done_with(&got, &["Invitation withdrawn"]);
    assert!(got.2.contains(r#"id="site-state">Managed<"#));
    assert!(
        got.2
            .contains("The invitation to eve@home.example was withdrawn")
    );
    let got = admin
        .submit(
            &format!("{page}/invitation/withdraw"),
            &[("csrf", csrf.as_str())],
        )
        .await;
    refused_with(&got, &["Invitation not withdrawn", "withdrawn"]);

    // Declined in the app: the installer reads it on the site page (R-9).
    let got = admin
        .submit(
            &invite,
            &[
                ("csrf", csrf.as_str()),
                ("end_user_email", "eve@home.example"),
            ],
        )
        .await;
    done_with(&got, &["No authorization was asked for"]);
    let id = pending_invitation(&s, &eve).await;
    let (status, _) = s
        .post(
            &format!("/api/v1/invitations/{id}/decline"),
            &eve,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let html = admin.page(&page).await;
    assert!(html.contains(r#"id="site-state">Managed<"#));
    assert!(
        html.contains("eve@home.example declined the invitation"),
        "{html}"
    );
    assert!(html.contains(r#"id="invite-form""#), "may invite again");

    // Expired: a week later nobody answered; the site is managed again.
    let got = admin
        .submit(
            &invite,
            &[
                ("csrf", csrf.as_str()),
                ("end_user_email", "eve@home.example"),
            ],
        )
        .await;
    done_with(&got, &["Invitation sent"]);
    s.clock.advance(7 * 24 * 60 * 60 * 1000 + 60_000);
    let later = Portal {
        s: &s,
        session: s.login("ada@acme.example", PASSWORD).await,
    };
    let html = later.page(&page).await;
    assert!(html.contains(r#"id="site-state">Managed<"#), "{html}");
    assert!(
        html.contains("The invitation to eve@home.example expired 1 minute ago")
            && html.contains("without an answer"),
        "{html}"
    );
    s.finish().await;
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
                       "username": d.username, "password": d.password, "name": format!("Camera {}", ids.len() + 1)}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        ids.push(body["id"].as_str().expect("device id").to_owned());
    }
    (fleet, site, ids)
}

/// R-10, R-11: after hand-over the page keeps the card and says which permission
/// is missing; the installer applies (refusals as messages, nothing written),
/// sees the approval with its expiry, limits an application to a device, releases,
/// and — once the owner cancelled — the Installer Admin removes the site from the
/// list.
async fn authorizations_from_the_site_page(db: Db) {
    let s = TestServer::start(db).await;
    let c = s.company("Acme", "ada@acme.example").await;
    let (_fleet, site, devices) = site_with_cameras(&s, &c.admin, 2, 41).await;
    let (_, eve) = end_user(&s, "eve@home.example", "EU", "4.3").await;
    let (_, it) = s
        .employee(&c.admin, "Ivy", "ivy@acme.example", "it_manager")
        .await;
    let (status, _) = s
        .post(
            &format!("/api/v1/sites/{site}/invitation"),
            &c.admin,
            json!({"end_user_email": "eve@home.example"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    accept(&s, &eve).await;
    let admin = Portal {
        s: &s,
        session: c.admin.clone(),
    };
    let page = format!("/portal/sites/{site}");
    let apply = format!("{page}/authorization-requests");

    // Handed over, without authorization: the card, the owner, and why the rest
    // is not shown.
    let html = admin.page(&page).await;
    assert!(html.contains(r#"id="site-state">Handed over<"#), "{html}");
    assert!(html.contains("Owner eve@home.example") && html.contains("eve@home.example"));
    assert!(
        html.contains(r#"id="site-locked""#)
            && html.contains("needs an authorization with the Site information permission"),
        "{html}"
    );
    assert!(!html.contains("Camera 1"), "no devices without site_info");
    assert!(html.contains("You hold no authorization on this site"));
    assert!(html.contains(r#"id="apply-form""#) && html.contains("Remove site from our list"));
    assert!(
        !html.contains(r#"name="device_id""#),
        "devices cannot be chosen unseen"
    );
    let csrf = admin.csrf(&page).await;

    // R-10: what needs an authorization says which permission, as a message.
    let got = admin
        .submit(
            &page,
            &[
                ("csrf", csrf.as_str()),
                ("name", "Renamed"),
                ("address", ""),
                ("time_zone", "UTC"),
            ],
        )
        .await;
    refused_with(&got, &["Site information permission"]);
    // R-8: the site has an owner; a second invitation is refused.
    refused_with(
        &admin
            .submit(
                &format!("{page}/invitation"),
                &[
                    ("csrf", csrf.as_str()),
                    ("end_user_email", "eve@home.example"),
                ],
            )
            .await,
        &["Invitation not sent", "already has an owner"],
    );
    let audit_before = audit_count(&s, &eve, &site).await;

    // Refused applications: nothing written.
    let cases: [Case; 4] = [
        (
            &[("duration_hours", "1")],
            &["Application not sent", "permissions", "choose at least one"],
        ),
        (
            &[("permission", "teleport"), ("duration_hours", "1")],
            &["permissions", "teleport"],
        ),
        (
            &[("permission", "live_view"), ("duration_hours", "3")],
            &["duration hours"],
        ),
        (
            &[
                ("permission", "live_view"),
                ("device_id", "0190e2a0-0000-7000-8000-000000000000"),
                ("duration_hours", "1"),
            ],
            &["device ids", "not devices of this site"],
        ),
    ];
    for (fields, words) in cases {
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        refused_with(&admin.submit(&apply, &form).await, words);
    }
    let ivy = Portal {
        s: &s,
        session: it.clone(),
    };
    let ivy_csrf = ivy.csrf(&page).await;
    let ivy_page = ivy.page(&page).await;
    assert!(!ivy_page.contains(r#"id="apply-form""#));
    assert!(!ivy_page.contains("Remove site from our list"));
    refused_with(
        &ivy.submit(
            &apply,
            &[
                ("csrf", ivy_csrf.as_str()),
                ("permission", "health_monitoring"),
                ("duration_hours", "1"),
            ],
        )
        .await,
        &["Only the Installer Admin and the site's Site Manager"],
    );
    let posted = admin
        .post(
            &apply,
            &[
                ("csrf", "forged"),
                ("permission", "health_monitoring"),
                ("duration_hours", "1"),
            ],
        )
        .await;
    assert_eq!(posted.status, StatusCode::FORBIDDEN);
    assert!(authorizations(&s, &c.admin, &site).await.is_empty());
    assert_eq!(audit_count(&s, &eve, &site).await, audit_before);

    // Applied: waiting for the owner; one application at a time.
    let got = admin
        .submit(
            &apply,
            &[
                ("csrf", csrf.as_str()),
                ("permission", "site_info"),
                ("permission", "health_monitoring"),
                ("duration_hours", "1"),
                ("remark", "Yearly maintenance"),
            ],
        )
        .await;
    done_with(
        &got,
        &[
            "Application sent",
            "Site information, Health monitoring for 1 hour",
        ],
    );
    assert!(got.2.contains(r#"id="auth-waiting""#) && got.2.contains("Waiting for the owner"));
    assert!(got.2.contains("Yearly maintenance") && got.2.contains("Withdraw application"));
    assert!(!got.2.contains(r#"id="apply-form""#));
    refused_with(
        &admin
            .submit(
                &apply,
                &[
                    ("csrf", csrf.as_str()),
                    ("permission", "playback"),
                    ("duration_hours", "2"),
                ],
            )
            .await,
        &["already waiting for the owner's answer"],
    );
    assert_eq!(authorizations(&s, &c.admin, &site).await.len(), 1);

    // Approved in the app: in force, with its expiry; the site's information too.
    let granted = approve_waiting(&s, &eve).await;
    assert_eq!(granted["state"], "approved");
    let html = admin.page(&page).await;
    assert!(html.contains(r#"id="auth-current""#), "{html}");
    assert!(html.contains("Expires in 1 hour") || html.contains("Expires in 59 minutes"));
    assert!(html.contains("Camera 1") && !html.contains(r#"id="site-locked""#));
    assert!(html.contains("Release authorization"));
    assert!(
        html.contains(&format!(r#"name="device_id" value="{}""#, devices[0])),
        "devices may be chosen now"
    );

    // An application limited to one device names it.
    let got = admin
        .submit(
            &apply,
            &[
                ("csrf", csrf.as_str()),
                ("permission", "live_view"),
                ("device_id", devices[0].as_str()),
                ("duration_hours", "2"),
            ],
        )
        .await;
    done_with(&got, &["Live view for 2 hours"]);
    let waiting: String = got.2[got.2.find(r#"id="auth-waiting""#).expect("waiting")..]
        .chars()
        .take(500)
        .collect();
    assert!(waiting.contains("Camera 1"), "{waiting}");
    let all = authorizations(&s, &c.admin, &site).await;
    assert_eq!(all[0]["device_ids"], json!([devices[0]]));

    // Released: both end.
    let got = admin
        .submit(
            &format!("{page}/authorization/release"),
            &[("csrf", csrf.as_str())],
        )
        .await;
    done_with(&got, &["Authorization released and application withdrawn"]);
    assert!(got.2.contains("Released by the installer"));
    assert!(got.2.contains(r#"id="site-locked""#), "locked again");
    let states: Vec<Value> = authorizations(&s, &c.admin, &site)
        .await
        .into_iter()
        .map(|a| a["state"].clone())
        .collect();
    assert_eq!(states, [json!("released"), json!("released")]);
    refused_with(
        &admin
            .submit(
                &format!("{page}/authorization/release"),
                &[("csrf", csrf.as_str())],
            )
            .await,
        &["Nothing released", "not in force"],
    );

    // The owner cancels an authorization: the page says so; the Installer Admin
    // (only) removes the site from the list; it stays with the owner.
    admin
        .submit(
            &apply,
            &[
                ("csrf", csrf.as_str()),
                ("permission", "health_monitoring"),
                ("duration_hours", "permanent"),
            ],
        )
        .await;
    approve_waiting(&s, &eve).await;
    let html = admin.page(&page).await;
    assert!(html.contains("In force with no end date"), "{html}");
    let (status, _) = s
        .delete(&format!("/api/v1/sites/{site}/authorization"), &eve)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let html = admin.page(&page).await;
    assert!(
        html.contains("The owner cancelled your authorization"),
        "{html}"
    );
    assert!(html.contains("Cancelled by the owner"));
    let posted = ivy
        .post(&format!("{page}/remove"), &[("csrf", ivy_csrf.as_str())])
        .await;
    let html = ivy.follow(&posted).await;
    let (ok, text) = flash_of(&html).expect("message");
    assert!(
        !ok && text.contains("Only an Installer Admin may remove"),
        "{text}"
    );
    assert!(card(&s, &c.admin, &site).await.is_object(), "still listed");
    let posted = admin
        .post(&format!("{page}/remove"), &[("csrf", "forged")])
        .await;
    assert_eq!(posted.status, StatusCode::FORBIDDEN);
    let got = admin
        .submit(&format!("{page}/remove"), &[("csrf", csrf.as_str())])
        .await;
    done_with(
        &got,
        &[
            "Villa Rosa",
            "removed from your list",
            "stays with its owner",
        ],
    );
    assert!(!got.2.contains(&site), "gone from the list");
    let (status, _) = admin.get_with(&page, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, mine) = s.get(&format!("/api/v1/sites/{site}"), &eve).await;
    assert_eq!(status, StatusCode::OK, "the owner keeps it: {mine}");
    s.finish().await;
}

/// R-11: an Installer Admin adds a handed-over site by its Site ID from the sites
/// page; refusals are messages; the claim waits for the owner, shows its state, and
/// once confirmed the site is in the list, to apply for an authorization.
async fn adding_a_site_by_site_id(db: Db) {
    let s = TestServer::start(db).await;
    let old = s.company("Old Security", "ada@old.example").await;
    let new = s.company("New Security", "bob@new.example").await;
    let site = s.site(&old.admin, "Villa Rosa").await;
    let managed = s.site(&old.admin, "Shop").await;
    let (_, eve) = end_user(&s, "eve@home.example", "EU", "4.3").await;
    let (_, it) = s
        .employee(&new.admin, "Ivy", "ivy@new.example", "it_manager")
        .await;
    s.post(
        &format!("/api/v1/sites/{site}/invitation"),
        &old.admin,
        json!({"end_user_email": "eve@home.example"}),
    )
    .await;
    accept(&s, &eve).await;
    let code = card(&s, &old.admin, &site).await["site_code"]
        .as_str()
        .expect("code")
        .to_owned();
    let shop_code = card(&s, &old.admin, &managed).await["site_code"]
        .as_str()
        .expect("code")
        .to_owned();

    let bob = Portal {
        s: &s,
        session: new.admin.clone(),
    };
    let html = bob.page("/portal/sites").await;
    assert!(html.contains(r#"id="claim-form""#) && html.contains("Add site by Site ID"));
    let ivy = Portal {
        s: &s,
        session: it.clone(),
    };
    assert!(
        !ivy.page("/portal/sites")
            .await
            .contains(r#"id="claim-form""#),
        "Installer Admins only"
    );
    let csrf = bob.csrf("/portal/sites").await;
    let claim = "/portal/sites/claim";

    let posted = bob
        .post(claim, &[("csrf", "forged"), ("site_code", code.as_str())])
        .await;
    assert_eq!(posted.status, StatusCode::FORBIDDEN);
    for (typed, words) in [
        (
            "nope",
            &["Site not added", "must be a Site ID of 8 letters"][..],
        ),
        ("AAAA2222", &["no site has the Site ID AAAA2222"][..]),
        (shop_code.as_str(), &["has not been handed over"][..]),
    ] {
        refused_with(
            &bob.submit(claim, &[("csrf", csrf.as_str()), ("site_code", typed)])
                .await,
            words,
        );
    }
    let ivy_csrf = ivy.csrf("/portal/sites").await;
    refused_with(
        &ivy.submit(
            claim,
            &[("csrf", ivy_csrf.as_str()), ("site_code", code.as_str())],
        )
        .await,
        &["Only an Installer Admin may add an existing site"],
    );
    let (_, claims) = s.get("/api/v1/me/claims", &eve).await;
    assert_eq!(claims["items"], json!([]), "nothing written: {claims}");

    // Claimed (typed loosely): waiting for the owner.
    let loose = format!("{}-{}", &code[..4], &code[4..]).to_lowercase();
    let got = bob
        .submit(claim, &[("csrf", csrf.as_str()), ("site_code", &loose)])
        .await;
    done_with(
        &got,
        &["Villa Rosa", &code, "waiting for the owner's confirmation"],
    );
    let table = &got.2[got.2.find(r#"id="claims""#).expect("claims")..];
    assert!(
        table.contains("Villa Rosa") && table.contains("Waiting for the owner"),
        "{table}"
    );
    refused_with(
        &bob.submit(claim, &[("csrf", csrf.as_str()), ("site_code", &code)])
            .await,
        &["already claimed this site"],
    );

    // Confirmed in the app: the site is in the list, handed over, to apply for.
    let (_, claims) = s.get("/api/v1/me/claims", &eve).await;
    let id = claims["items"][0]["id"].as_str().expect("claim id");
    let (status, body) = s
        .post(&format!("/api/v1/claims/{id}/confirm"), &eve, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let html = bob.page("/portal/sites").await;
    assert!(html.contains("Confirmed"), "{html}");
    assert!(html.contains(&format!(r#"href="/portal/sites/{site}""#)));
    let html = bob.page(&format!("/portal/sites/{site}")).await;
    assert!(html.contains(r#"id="site-state">Handed over<"#), "{html}");
    assert!(html.contains(r#"id="apply-form""#) && html.contains(r#"id="site-locked""#));
    assert!(html.contains("Not assigned"), "no Site Manager yet");
    s.finish().await;
}

// ---------------------------------------------------------------- the browser

/// Waits until the page's live updates are connected (the event stream is open).
async fn live_connected(c: &Client) {
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#site-live[data-live-state=open]"))
        .await
        .expect("live updates connected");
}

/// Polls `css` until its text contains `want`; the page must not reload meanwhile.
async fn wait_for_text(c: &Client, css: &str, want: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        // The part may be replaced between finding and reading it.
        let text = match c.find(Locator::Css(css)).await {
            Ok(e) => e.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if text.contains(want) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{want:?} did not appear live in {css}: {text:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn still_the_same_page(c: &Client) {
    let same = c
        .execute("return window.stillTheSamePage === true;", vec![])
        .await
        .expect("script");
    assert_eq!(same, Value::Bool(true), "updated without a reload");
}

/// Clicks a form's submit button and waits for the page it leads to.
async fn mark_the_page(c: &Client) {
    c.execute("window.stillTheSamePage = true;", vec![])
        .await
        .expect("mark the page");
}

/// R-8 to R-10, the installer's side in a desktop browser: invite the owner in the
/// portal; the owner accepts in the app and the site page shows "Handed over" live,
/// without a reload; apply for health monitoring for one hour; the owner approves
/// and the page shows it approved with its expiry, live; release it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handing_over_and_authorization_in_the_browser() {
    let s = TestServer::start(Db::Sqlite).await;
    let company = s.company("Lumen Security", "lena@lumen.example").await;
    let site = s.site(&company.admin, "Harbour Warehouse").await;
    let (_, eve) = end_user(&s, "eve@home.example", "EU", "4.3").await;
    let (_driver, c) = browser(1280, 900).await;
    let url = s.url.clone();
    portal_sign_in(&c, &url, "lena@lumen.example").await;
    c.goto(&format!("{url}/portal/sites/{site}"))
        .await
        .expect("site page");
    assert_eq!(text_of(&c, "#site-state").await, "Managed");

    // Invite the owner.
    fill(
        &c,
        "#invite-form input[name=end_user_email]",
        "eve@home.example",
    )
    .await;
    submit_form(&c, "#invite-form button[type=submit]").await;
    let notice = text_of(&c, ".flash.ok").await;
    assert!(
        notice.contains("Invitation sent to eve@home.example"),
        "{notice}"
    );
    assert_eq!(text_of(&c, "#site-state").await, "Owner invited");
    let invitation = text_of(&c, "#invitation").await;
    assert!(
        invitation.contains("eve@home.example") && invitation.contains("expires in 7 days"),
        "{invitation}"
    );
    screenshot(&c, "handover-invited").await;

    // The owner accepts in the app: the page follows, live.
    live_connected(&c).await;
    mark_the_page(&c).await;
    accept(&s, &eve).await;
    wait_for_text(&c, "#site-state", "Handed over").await;
    still_the_same_page(&c).await;
    let owner = text_of(&c, "#site-owner").await;
    assert!(owner.contains("Owner eve@home.example"), "{owner}");
    let locked = text_of(&c, "#site-locked").await;
    assert!(locked.contains("Site information permission"), "{locked}");
    screenshot(&c, "handover-handed-over").await;

    // Apply for health monitoring for one hour.
    click(&c, "#apply-form input[value=health_monitoring]").await;
    c.find(Locator::Css("#apply-form select[name=duration_hours]"))
        .await
        .expect("duration")
        .select_by_value("1")
        .await
        .expect("one hour");
    fill(&c, "#apply-form input[name=remark]", "Yearly maintenance").await;
    submit_form(&c, "#apply-form button[type=submit]").await;
    let notice = text_of(&c, ".flash.ok").await;
    assert!(
        notice.contains("Application sent: Health monitoring for 1 hour"),
        "{notice}"
    );
    let waiting = text_of(&c, "#auth-waiting").await;
    assert!(waiting.contains("Waiting for the owner"), "{waiting}");

    // The owner approves: approved, with its expiry, live.
    live_connected(&c).await;
    mark_the_page(&c).await;
    approve_waiting(&s, &eve).await;
    let current = wait_for_text(&c, "#auth-current", "Approved").await;
    still_the_same_page(&c).await;
    assert!(current.contains("Health monitoring"), "{current}");
    let expiry = text_of(&c, "#auth-current .auth-expiry").await;
    assert!(
        (expiry.contains("Expires in 1 hour") || expiry.contains("Expires in 59 minutes"))
            && expiry.contains("UTC"),
        "{expiry}"
    );
    screenshot(&c, "handover-authorized").await;

    // Release it (the confirmation answered yes).
    c.execute("window.confirm = function () { return true; };", vec![])
        .await
        .expect("confirm");
    submit_form(&c, "#release-form button[type=submit]").await;
    let notice = text_of(&c, ".flash.ok").await;
    assert!(notice.contains("Authorization released"), "{notice}");
    let history = text_of(&c, "#auth-history").await;
    assert!(history.contains("Released by the installer"), "{history}");
    let (_, list) = s.get("/api/v1/me/authorization-requests", &eve).await;
    assert_eq!(list["items"][0]["state"], "released", "{list}");
    screenshot(&c, "handover-released").await;
    c.close().await.expect("close");
    s.finish().await;
}
