//! Starting the real server for a test: on SQLite in a fresh temporary directory, or
//! on a fresh database of the local PostgreSQL server.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use siteward_app::{App, Clock};
use siteward_server::config::Settings;

/// The database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server the tests use: `SITEWARD_TEST_PG`, or the local one.
pub fn pg_admin_url() -> String {
    std::env::var("SITEWARD_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A running server with its own database, and a client for it.
pub struct TestServer {
    pub url: String,
    pub http: reqwest::Client,
    pub app: App,
    pub clock: Clock,
    pub settings: Settings,
    running: Option<siteward_server::Running>,
    _dir: tempfile::TempDir,
    pg_db: Option<String>,
}

async fn create_pg_database() -> (String, String) {
    use sqlx::Executor;
    let admin = pg_admin_url();
    let name = format!("sw_t_{}", uuid::Uuid::now_v7().simple());
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is required for the integration tests and was not reachable at {admin}: {e}. \
                 Start it (scripts/test does) or set SITEWARD_TEST_PG."
            )
        });
    conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .expect("create test database");
    let base = admin
        .rsplit_once('/')
        .map_or(admin.as_str(), |(b, _)| b)
        .to_owned();
    (name.clone(), format!("{base}/{name}"))
}

impl TestServer {
    pub async fn start(db: Db) -> Self {
        Self::start_tuned(db, |_| {}).await
    }

    /// Like [`TestServer::start`], with the settings adjusted by `tune` first.
    pub async fn start_tuned(db: Db, tune: impl FnOnce(&mut Settings)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let (pg_db, database_url) = match db {
            Db::Sqlite => (None, None),
            Db::Postgres => {
                let (name, url) = create_pg_database().await;
                (Some(name), Some(url))
            }
        };
        let settings = Settings {
            listen: "127.0.0.1:0".into(),
            data_dir: dir.path().to_path_buf(),
            database_url,
            ..Settings::default()
        };
        let mut settings = settings;
        tune(&mut settings);
        Self::start_with(settings, dir, pg_db).await
    }

    async fn start_with(settings: Settings, dir: tempfile::TempDir, pg_db: Option<String>) -> Self {
        let clock = Clock::system();
        let app = siteward_server::build_app(&settings, clock.clone())
            .await
            .expect("build app");
        let running = siteward_server::start(&settings, app.clone())
            .await
            .expect("start server");
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self {
            url: running.url(),
            http,
            app,
            clock,
            settings,
            running: Some(running),
            _dir: dir,
            pg_db,
        }
    }

    /// Stops the server and starts a new one on the same database and data directory.
    pub async fn restart(mut self) -> Self {
        if let Some(r) = self.running.take() {
            r.stop().await.expect("stop");
        }
        let mut settings = self.settings.clone();
        settings.listen = "127.0.0.1:0".into();
        let dir = std::mem::replace(&mut self._dir, tempfile::tempdir().expect("temp dir"));
        let pg = self.pg_db.take();
        Self::start_with(settings, dir, pg).await
    }

    /// Like [`TestServer::restart`], listening on the same address again (devices
    /// that connect out find it where it was).
    pub async fn restart_in_place(mut self) -> Self {
        if let Some(r) = self.running.take() {
            r.stop().await.expect("stop");
        }
        let mut settings = self.settings.clone();
        settings.listen = self.url.trim_start_matches("http://").to_owned();
        let dir = std::mem::replace(&mut self._dir, tempfile::tempdir().expect("temp dir"));
        let pg = self.pg_db.take();
        Self::start_with(settings, dir, pg).await
    }

    /// Signs an end user up (region EU, a current app) and in; returns the token.
    pub async fn end_user(&self, email: &str) -> String {
        let (status, body) = self
            .call(
                Method::POST,
                "/api/v1/end-users",
                None,
                Some(
                    json!({"email": email, "password": PASSWORD, "name": "Olga Owner",
                            "region": "EU", "app_version": "5.0"}),
                ),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        self.login(email, PASSWORD).await
    }

    /// Hands the site over: invites the end user, who accepts, keeping
    /// the `authorization` asked for (JSON, or null for none).
    pub async fn hand_over(
        &self,
        admin: &str,
        site: &str,
        owner: &str,
        email: &str,
        authorization: Value,
    ) {
        let (status, inv) = self
            .post(
                &format!("/api/v1/sites/{site}/invitation"),
                admin,
                json!({"end_user_email": email, "authorization": authorization}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{inv}");
        let (status, body) = self
            .post(
                &format!(
                    "/api/v1/invitations/{}/accept",
                    inv["id"].as_str().expect("id")
                ),
                owner,
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// Stops the server and drops its PostgreSQL database.
    pub async fn finish(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await.expect("stop");
        }
        if let Some(name) = self.pg_db.take() {
            use sqlx::Executor;
            if let Ok(mut conn) =
                <sqlx::PgConnection as sqlx::Connection>::connect(&pg_admin_url()).await
            {
                let _ = conn
                    .execute(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .await;
            }
        }
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
        let is_problem = res.headers().get("content-type").is_some_and(|v| {
            v.to_str()
                .unwrap_or("")
                .starts_with("application/problem+json")
        });
        let text = res.text().await.expect("body");
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        if status.is_client_error() || status.is_server_error() {
            assert!(is_problem, "{status} without a problem body: {value}");
        }
        (status, value)
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    /// Issues one authentication code for `region`.
    pub async fn auth_code(&self, region: &str) -> String {
        self.app
            .issue_auth_codes_unchecked(region, 1, None)
            .await
            .expect("issue code")
            .remove(0)
            .code
    }

    /// Registers a company with a fresh code and returns the admin's token.
    pub async fn company(&self, name: &str, admin_email: &str) -> Company {
        let code = self.auth_code("EU").await;
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
        let token = self.login(admin_email, PASSWORD).await;
        Company {
            admin_id: body["admin"]["id"].as_str().expect("admin id").to_owned(),
            admin: token,
        }
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

    /// Adds an employee and signs in as them: (id, token).
    pub async fn employee(
        &self,
        admin: &str,
        name: &str,
        email: &str,
        role: &str,
    ) -> (String, String) {
        let (status, body) = self
            .post(
                "/api/v1/employees",
                admin,
                json!({"name": name, "email": email, "password": PASSWORD, "role": role}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let id = body["id"].as_str().expect("id").to_owned();
        (id, self.login(email, PASSWORD).await)
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
}

/// A registered company.
pub struct Company {
    pub admin_id: String,
    pub admin: String,
}

/// A password every test account uses.
pub const PASSWORD: &str = "Correct-horse-7";

/// Defines one test per database from an async function taking [`Db`].
#[macro_export]
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::support::Db::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::support::Db::Postgres).await
                }
            }
        )*
    };
}

impl TestServer {
    /// Announces a body of `len` bytes but sends only its first bytes, then reads the
    /// answer: the server must refuse by the announced length alone. (Sending the
    /// whole body would race the server closing the connection after its 413.)
    pub async fn oversized(
        &self,
        method: &str,
        path: &str,
        token: &str,
        content_type: &str,
        len: usize,
    ) -> (u16, String, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = self.url.trim_start_matches("http://");
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: {content_type}\r\nContent-Length: {len}\r\n\r\n{{\"name\": \"aaaa"
        );
        stream.write_all(head.as_bytes()).await.expect("write");
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n =
                tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut chunk))
                    .await
                    .expect("the server answers without waiting for the body")
                    .unwrap_or(0);
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&buf);
            if let Some((headers, body)) = text.split_once("\r\n\r\n") {
                let want = headers.lines().find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                });
                if want.is_some_and(|w| body.len() >= w) {
                    break;
                }
            }
        }
        let text = String::from_utf8_lossy(&buf).into_owned();
        let (headers, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = headers
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, headers.to_ascii_lowercase(), body.to_owned())
    }
}

/// One e-mail as the SMTP server received it.
#[derive(Debug)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

/// A small SMTP server on 127.0.0.1 (RFC 5321 without extensions): takes every
/// message and hands it to the test.
pub async fn smtp_sink() -> (String, tokio::sync::mpsc::UnboundedReceiver<Mail>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut lines = BufReader::new(r).lines();
                let _ = w.write_all(b"220 sink ESMTP\r\n").await;
                let (mut from, mut to) = (String::new(), Vec::new());
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250 sink\r\n"
                    } else if upper.starts_with("MAIL FROM:") {
                        from = line[10..].trim().to_owned();
                        b"250 ok\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        to.push(line[8..].trim().trim_matches(['<', '>']).to_owned());
                        b"250 ok\r\n"
                    } else if upper == "DATA" {
                        let _ = w.write_all(b"354 go on\r\n").await;
                        let mut data = String::new();
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                break;
                            }
                            data.push_str(&l);
                            data.push('\n');
                        }
                        let _ = tx.send(Mail {
                            from: std::mem::take(&mut from),
                            to: std::mem::take(&mut to),
                            data,
                        });
                        b"250 queued\r\n"
                    } else if upper == "QUIT" {
                        let _ = w.write_all(b"221 bye\r\n").await;
                        break;
                    } else {
                        b"250 ok\r\n"
                    };
                    let _ = w.write_all(reply).await;
                }
            });
        }
    });
    (format!("smtp://{addr}"), rx)
}

/// Collects the e-mails that arrive within `wait`, until `n` have.
pub async fn mails(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<Mail>,
    n: usize,
    wait: std::time::Duration,
) -> Vec<Mail> {
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    while out.len() < n {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(m)) => out.push(m),
            _ => break,
        }
    }
    out
}
