//! The portal's forms over plain HTTP: CSRF on every form, sign-in redirects.

use crate::on_both;
use crate::support::{Db, PASSWORD, TestServer};
use reqwest::StatusCode;

on_both!(portal_forms_need_their_csrf_token);

async fn portal_forms_need_their_csrf_token(db: Db) {
    let s = TestServer::start(db).await;
    let c = s.company("Acme", "ada@acme.example").await;
    let url = &s.url;

    let res = s
        .http
        .get(format!("{url}/portal/sites"))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers()["location"],
        "/login",
        "signed-out visitors are sent to sign in"
    );

    // Sign-in without the pre-session token: refused, no session cookie.
    let res = s
        .http
        .post(format!("{url}/login"))
        .form(&[
            ("email", "ada@acme.example"),
            ("password", PASSWORD),
            ("csrf", "forged"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()
            .get_all("set-cookie")
            .iter()
            .all(|v| !v.to_str().unwrap_or("").starts_with("sw_session="))
    );
    assert!(res.text().await.expect("html").contains("expired"));

    // A cookie session posting a form without its token changes nothing.
    let cookie = format!("sw_session={}", c.admin);
    let res = s
        .http
        .post(format!("{url}/portal/sites"))
        .header("cookie", &cookie)
        .form(&[
            ("name", "Forged site"),
            ("time_zone", "UTC"),
            ("csrf", "nope"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let (_, sites) = s.get("/api/v1/sites", &c.admin).await;
    assert_eq!(
        sites["items"].as_array().map(Vec::len),
        Some(0),
        "nothing created"
    );

    // With the session's token it works.
    let csrf = s
        .app
        .authenticate(&c.admin)
        .await
        .expect("session")
        .csrf_token;
    let res = s
        .http
        .post(format!("{url}/portal/sites"))
        .header("cookie", &cookie)
        .form(&[
            ("name", "Real site"),
            ("time_zone", "UTC"),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, sites) = s.get("/api/v1/sites", &c.admin).await;
    assert_eq!(sites["items"][0]["name"], "Real site");

    let res = s
        .http
        .get(format!("{url}/portal/sites"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("get");
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    let res = s
        .http
        .get(format!("{url}/portal/sites/not-an-id"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.text().await.expect("html").contains("site not found"));
    s.finish().await;
}
