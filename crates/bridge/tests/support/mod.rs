//! What the bridge's tests share: the real Siteward server started in-process on
//! SQLite (as `crates/server/tests/it/support.rs` does, cut down to what these
//! tests use, plus a restart on the same port), a simulated fleet on the "LAN",
//! and the bridge's configuration for it.

#![allow(dead_code)]

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use siteward_app::Clock;
use siteward_devsim::DeviceInfo;
use siteward_server::config::Settings;
use std::path::Path;
use std::time::{Duration, Instant};

/// A password every test account uses.
pub const PASSWORD: &str = "Correct-horse-7";

/// A running server on a SQLite file in its own directory.
pub struct TestServer {
    pub url: String,
    pub http: reqwest::Client,
    pub app: siteward_app::App,
    settings: Settings,
    running: Option<siteward_server::Running>,
    dir: tempfile::TempDir,
}

impl TestServer {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let settings = Settings {
            listen: "127.0.0.1:0".into(),
            data_dir: dir.path().to_path_buf(),
            database_url: None,
            ..Settings::default()
        };
        Self::start_with(settings, dir).await
    }

    async fn start_with(mut settings: Settings, dir: tempfile::TempDir) -> Self {
        let app = siteward_server::build_app(&settings, Clock::system())
            .await
            .expect("build app");
        // On a restart the port was just closed: retry briefly if it is not free yet.
        let deadline = Instant::now() + Duration::from_secs(10);
        let running = loop {
            match siteward_server::start(&settings, app.clone()).await {
                Ok(r) => break r,
                Err(e) if Instant::now() < deadline => {
                    eprintln!("server start retried: {e:#}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("start server: {e:#}"),
            }
        };
        settings.listen = running.addr.to_string();
        Self {
            url: running.url(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            app,
            settings,
            running: Some(running),
            dir,
        }
    }

    /// The link endpoint.
    pub fn link_url(&self) -> String {
        format!("{}/link/v1", self.url.replacen("http://", "ws://", 1))
    }

    /// Stops the server (the platform is unreachable until [`TestServer::start_again`]).
    pub async fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await.expect("stop");
        }
    }

    /// Starts it again on the same port, database and data directory.
    pub async fn start_again(self) -> Self {
        assert!(self.running.is_none(), "stop it first");
        Self::start_with(self.settings.clone(), self.dir).await
    }

    pub async fn finish(mut self) {
        self.stop().await;
    }

    /// Calls the API; returns the status and the JSON body (Null when empty).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{}", self.url, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let text = res.text().await.expect("body");
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn login(&self, email: &str, password: &str) -> String {
        let (status, body) = self
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"email": email, "password": password})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "login {email}: {body}");
        body["token"].as_str().expect("token").to_owned()
    }

    /// Registers a company with a fresh authentication code; the admin's token.
    pub async fn company(&self, name: &str, admin_email: &str) -> String {
        let code = self
            .app
            .issue_auth_codes_unchecked("EU", 1, None)
            .await
            .expect("issue code")
            .remove(0)
            .code;
        let (status, body) = self
            .call(
                Method::POST,
                "/api/v1/companies",
                None,
                Some(json!({
                    "auth_code": code,
                    "company": {"name": name, "region": "EU"},
                    "admin": {"name": "Ada Admin", "email": admin_email, "password": PASSWORD},
                })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        self.login(admin_email, PASSWORD).await
    }

    pub async fn site(&self, token: &str, name: &str) -> String {
        let (status, body) = self
            .post(
                "/api/v1/sites",
                token,
                json!({"name": name, "time_zone": "Europe/Berlin"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().expect("site id").to_owned()
    }

    /// Adds a device by serial number and verification code, as an installer does.
    pub async fn add_by_serial(
        &self,
        token: &str,
        site: &str,
        serial: &str,
        code: &str,
    ) -> (StatusCode, Value) {
        self.post(
            &format!("/api/v1/sites/{site}/devices"),
            token,
            json!({"via": "link", "serial": serial, "verification_code": code}),
        )
        .await
    }

    pub async fn site_devices(&self, token: &str, site: &str) -> Vec<Value> {
        let (status, list) = self
            .get(&format!("/api/v1/sites/{site}/devices"), token)
            .await;
        assert_eq!(status, StatusCode::OK, "{list}");
        list["items"].as_array().cloned().unwrap_or_default()
    }

    /// Hands the site over to a new end user; the owner's token.
    pub async fn hand_over(&self, installer: &str, site: &str, email: &str) -> String {
        let (status, body) = self
            .call(
                Method::POST,
                "/api/v1/end-users",
                None,
                Some(json!({"email": email, "password": PASSWORD, "name": "Olga",
                            "region": "EU", "app_version": "5.0"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let owner = self.login(email, PASSWORD).await;
        let (status, inv) = self
            .post(
                &format!("/api/v1/sites/{site}/invitation"),
                installer,
                json!({"end_user_email": email}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{inv}");
        let (status, body) = self
            .post(
                &format!(
                    "/api/v1/invitations/{}/accept",
                    inv["id"].as_str().expect("id")
                ),
                &owner,
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        owner
    }

    /// The owner's alarms.
    pub async fn alarms(&self, owner: &str) -> usize {
        let (_, list) = self.get("/api/v1/me/alarms", owner).await;
        list["items"].as_array().map_or(0, Vec::len)
    }

    /// Starts a manual inspection and waits for it to finish.
    pub async fn inspect(&self, token: &str, site: &str) -> Value {
        let (status, started) = self
            .post(
                "/api/v1/inspections",
                token,
                json!({"scope": "site", "id": site}),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{started}");
        let path = format!(
            "/api/v1/inspections/{}",
            started["id"].as_str().expect("id")
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (_, state) = self.get(&path, token).await;
            if state["state"] == "done" {
                return state;
            }
            assert!(
                Instant::now() < deadline,
                "inspection did not finish: {state}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The health level of the device whose serial contains `serial`.
    pub async fn level_of(&self, token: &str, site: &str, serial: &str) -> Option<Value> {
        let (_, health) = self
            .get(&format!("/api/v1/health?site_id={site}"), token)
            .await;
        health["items"].as_array().and_then(|l| {
            l.iter()
                .find(|d| d["serial"].as_str().is_some_and(|x| x.contains(serial)))
                .map(|d| d["level"].clone())
        })
    }
}

/// Waits until `check` holds, or fails with `what` after 30 s.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The bridge's configuration file for these fleet devices.
pub fn config_toml(link_url: &str, spool_dir: &Path, devices: &[DeviceInfo]) -> String {
    let mut text = format!(
        "url = {}\nspool_dir = {}\n",
        toml_string(link_url),
        toml_string(&spool_dir.display().to_string())
    );
    for d in devices {
        text.push_str(&format!(
            "\n[[devices]]\nserial = {}\nverification_code = {}\naddress = {}\nusername = {}\npassword = {}\ndevice_type = {}\n",
            toml_string(&d.serial),
            toml_string(&d.verification_code),
            toml_string(&d.address.to_string()),
            toml_string(&d.username),
            toml_string(&d.password),
            toml_string(d.kind.as_str()),
        ));
    }
    text
}

fn toml_string(s: &str) -> String {
    serde_json::to_string(s).expect("a string")
}
