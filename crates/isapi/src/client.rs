//! The device client: authentication (digest/basic or AX Pro session), lockout
//! safety, error mapping, and typed methods for each endpoint.
//!
//! Lockout safety: a device locks an account after a few failed logins (and then
//! refuses even the right password). The client therefore (1) never retries
//! credentials that were refused for a fresh challenge, failing later calls fast
//! with [`Error::CredentialsBlocked`] until [`Client::set_credentials`] or
//! [`Client::clear_auth_block`]; (2) stops at once when a 401 body reports a lock
//! and refuses to contact the device until the reported unlock time.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt as _};
use http::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, SET_COOKIE, WWW_AUTHENTICATE};
use http::{HeaderValue, Method, StatusCode};
use time::OffsetDateTime;

use crate::alert_stream::{AlertStreamDecoder, StreamItem};
use crate::digest::{self, DigestSession, Scheme};
use crate::error::{Error, ParseError};
use crate::http_transport::{HttpConfig, HttpTransport};
use crate::json;
use crate::lockout::{LockStatus, parse_unauthorized_body};
use crate::models::{
    AcsWorkStatus, CallStatus, DeviceClock, DeviceInfo, DeviceStatus, HdStatusList,
    HttpHostNotificationList, InputProxyChannelList, InputProxyChannelStatusList, IoPortStatus,
    Link, NetworkInterfaceList, PanelStatus, RecordingTrackList, ResponseStatus, SmartStatus,
    Storage, StorageExtension, XmlModel,
};
use crate::session::{self, SessionLoginCap};
use crate::transport::{Request, Response, StreamingResponse, Transport, collect_body};
use crate::xml::Element;

/// Largest error body read from a stream request.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// User name and password for one device.
#[derive(Clone)]
pub struct Credentials {
    /// User name.
    pub username: String,
    password: String,
}

impl Credentials {
    /// New credentials.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            username: username.into(),
            password: password.into(),
        }
    }

    /// The password.
    pub fn password(&self) -> &str {
        &self.password
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// How the client authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// HTTP digest (or Basic when that is all the device offers): cameras, NVRs, ACS.
    Http,
    /// Web session login with a cookie: AX Pro / AX Hub panels.
    Session,
}

/// Client behaviour settings.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Authentication mode.
    pub auth_mode: AuthMode,
    /// How long to stay away after a lock whose unlock time was not reported.
    pub unknown_lock_backoff: Duration,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            auth_mode: AuthMode::Http,
            unknown_lock_backoff: Duration::from_secs(30 * 60),
        }
    }
}

#[derive(Debug)]
struct Lock {
    until: Instant,
    unlock_at: Option<OffsetDateTime>,
}

#[derive(Debug)]
struct AuthState {
    credentials: Credentials,
    digest: Option<DigestSession>,
    basic: bool,
    cookie: Option<String>,
    rejected: bool,
    lock: Option<Lock>,
}

/// What authorization a request carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sent {
    Nothing,
    /// Digest; `fresh` when its nonce came from a challenge within this call.
    Digest {
        fresh: bool,
    },
    Basic,
    Cookie,
}

enum Outcome {
    Buffered(Response),
    Stream(StreamingResponse),
}

#[derive(Debug)]
struct Inner {
    transport: Arc<dyn Transport>,
    config: ClientConfig,
    state: Mutex<AuthState>,
}

/// A client for one device. Cheap to clone; clones share auth state.
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

/// The parsed alert stream: items until the device closes it or it fails.
pub struct AlertStream {
    inner: BoxStream<'static, Result<StreamItem, Error>>,
}

impl std::fmt::Debug for AlertStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertStream").finish_non_exhaustive()
    }
}

impl Stream for AlertStream {
    type Item = Result<StreamItem, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.poll_next_unpin(cx)
    }
}

fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Client {
    /// A client using HTTP digest/basic over any transport.
    pub fn new(transport: impl Transport + 'static, credentials: Credentials) -> Self {
        Self::with_config(Arc::new(transport), credentials, ClientConfig::default())
    }

    /// A client using AX Pro session login over any transport.
    pub fn with_session_login(
        transport: impl Transport + 'static,
        credentials: Credentials,
    ) -> Self {
        Self::with_config(
            Arc::new(transport),
            credentials,
            ClientConfig {
                auth_mode: AuthMode::Session,
                ..ClientConfig::default()
            },
        )
    }

    /// A client with explicit settings.
    pub fn with_config(
        transport: Arc<dyn Transport>,
        credentials: Credentials,
        config: ClientConfig,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                transport,
                config,
                state: Mutex::new(AuthState {
                    credentials,
                    digest: None,
                    basic: false,
                    cookie: None,
                    rejected: false,
                    lock: None,
                }),
            }),
        }
    }

    /// A digest client over direct HTTP.
    pub fn http(config: HttpConfig, credentials: Credentials) -> Result<Self, Error> {
        Ok(Self::new(HttpTransport::new(config)?, credentials))
    }

    fn state(&self) -> MutexGuard<'_, AuthState> {
        // A panic while holding the lock cannot leave the state inconsistent
        // in a dangerous way, so recover from poisoning.
        self.inner
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Replaces the credentials and clears the "rejected" block (not a device lock).
    pub fn set_credentials(&self, credentials: Credentials) {
        let mut s = self.state();
        s.credentials = credentials;
        s.digest = None;
        s.basic = false;
        s.cookie = None;
        s.rejected = false;
    }

    /// Forgets both the "rejected" block and any remembered device lock.
    /// Only for an operator who knows the situation changed.
    pub fn clear_auth_block(&self) {
        let mut s = self.state();
        s.rejected = false;
        s.lock = None;
    }

    /// When the device said the account unlocks, if a lock is remembered.
    pub fn locked_until(&self) -> Option<OffsetDateTime> {
        let s = self.state();
        s.lock
            .as_ref()
            .filter(|l| l.until > Instant::now())
            .and_then(|l| l.unlock_at)
    }

    fn check_blocks(&self) -> Result<(), Error> {
        let mut s = self.state();
        if let Some(lock) = &s.lock {
            let now = Instant::now();
            if lock.until > now {
                return Err(Error::LockedOut {
                    unlock_in: Some(lock.until - now),
                    unlock_at: lock.unlock_at,
                });
            }
            s.lock = None;
        }
        if s.rejected {
            return Err(Error::CredentialsBlocked);
        }
        Ok(())
    }

    fn lock_out(&self, lock: &LockStatus) -> Error {
        let unlock_in = lock.unlock_in.filter(|d| !d.is_zero());
        let wait = unlock_in.unwrap_or(self.inner.config.unknown_lock_backoff);
        let unlock_at = unlock_in.map(|d| OffsetDateTime::now_utc() + d);
        self.state().lock = Some(Lock {
            until: Instant::now() + wait,
            unlock_at,
        });
        tracing::warn!(unlock_in = ?unlock_in, "device reports the account locked; not retrying");
        Error::LockedOut {
            unlock_in,
            unlock_at,
        }
    }

    fn reject(&self, lock: Option<LockStatus>, sent: Sent) -> Error {
        if sent != Sent::Nothing {
            let mut s = self.state();
            s.rejected = true;
            s.digest = None;
            s.cookie = None;
        }
        Error::Unauthorized { lock }
    }

    /// Adds authorization to `req` from the current state.
    async fn authorize(&self, req: &mut Request, fresh_nonce: Option<&str>) -> Result<Sent, Error> {
        if self.inner.config.auth_mode == AuthMode::Session {
            let cookie = self.state().cookie.clone();
            let cookie = match cookie {
                Some(c) => c,
                None => {
                    let c = self.login().await?;
                    self.state().cookie = Some(c.clone());
                    c
                }
            };
            let value = HeaderValue::from_str(&cookie).map_err(|_| Error::Transport {
                detail: "session cookie is not a valid header value".into(),
            })?;
            req.headers.insert(COOKIE, value);
            return Ok(Sent::Cookie);
        }
        let mut s = self.state();
        let (user, pass) = (
            s.credentials.username.clone(),
            s.credentials.password.clone(),
        );
        let (header, sent) = if let Some(d) = s.digest.as_mut() {
            let fresh = fresh_nonce == Some(d.nonce());
            let h = d.authorize(&user, &pass, req.method.as_str(), &req.path);
            (h, Sent::Digest { fresh })
        } else if s.basic {
            (digest::basic_authorization(&user, &pass), Sent::Basic)
        } else {
            return Ok(Sent::Nothing);
        };
        drop(s);
        let value = HeaderValue::from_str(&header).map_err(|_| Error::Transport {
            detail: "credentials cannot be sent in an HTTP header".into(),
        })?;
        req.headers.insert(AUTHORIZATION, value);
        Ok(sent)
    }

    async fn send_once(&self, req: Request, streaming: bool) -> Result<Outcome, Error> {
        if !streaming {
            return Ok(Outcome::Buffered(self.inner.transport.send(req).await?));
        }
        let resp = self.inner.transport.send_streaming(req).await?;
        if resp.status.is_success() {
            return Ok(Outcome::Stream(resp));
        }
        let body = collect_body(resp.body, MAX_ERROR_BODY)
            .await
            .unwrap_or_default();
        Ok(Outcome::Buffered(Response {
            status: resp.status,
            headers: resp.headers,
            body,
        }))
    }

    /// Sends with authentication; returns any non-401 outcome.
    async fn run(&self, req: Request, streaming: bool) -> Result<Outcome, Error> {
        let mut fresh_nonce: Option<String> = None;
        let mut stale_retries = 0;
        let mut cached_retry_used = false;
        let mut relogin_used = false;
        for _ in 0..5 {
            self.check_blocks()?;
            let mut attempt = req.clone();
            let sent = self.authorize(&mut attempt, fresh_nonce.as_deref()).await?;
            let resp = match self.send_once(attempt, streaming).await? {
                Outcome::Buffered(r) if r.status == StatusCode::UNAUTHORIZED => r,
                other => return Ok(other),
            };
            let body = parse_unauthorized_body(&resp.body);
            let lock = body.lock().cloned();
            if let Some(l) = &lock
                && l.is_locked()
            {
                return Err(self.lock_out(l));
            }
            if sent == Sent::Cookie {
                // The session expired or was dropped: log in again once.
                self.state().cookie = None;
                if !relogin_used {
                    relogin_used = true;
                    continue;
                }
                return Err(self.reject(lock, sent));
            }
            let challenges: Vec<digest::Challenge> = resp
                .headers
                .get_all(WWW_AUTHENTICATE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(digest::parse_challenges)
                .collect();
            let chosen = digest::choose(&challenges).cloned();
            let retry = match (&chosen, sent) {
                (Some(c), _) if c.scheme == Scheme::Digest => {
                    let ok = match sent {
                        Sent::Nothing | Sent::Basic => true,
                        Sent::Digest { .. } if c.stale() && stale_retries < 2 => {
                            stale_retries += 1;
                            true
                        }
                        // A remembered nonce may have expired without `stale`: one retry.
                        Sent::Digest { fresh: false } if !cached_retry_used => {
                            cached_retry_used = true;
                            true
                        }
                        _ => false,
                    };
                    if ok {
                        let session = DigestSession::new(c.clone());
                        fresh_nonce = session.as_ref().map(|d| d.nonce().to_owned());
                        let mut s = self.state();
                        s.digest = session;
                        s.basic = false;
                    }
                    ok
                }
                (Some(_), Sent::Nothing) => {
                    // Basic is all the device offers.
                    self.state().basic = true;
                    true
                }
                (None, Sent::Digest { fresh: false }) if !cached_retry_used => {
                    // 401 without a challenge after nonce reuse (seen on ACS): start over.
                    cached_retry_used = true;
                    self.state().digest = None;
                    true
                }
                _ => false,
            };
            if !retry {
                return Err(self.reject(lock, sent));
            }
        }
        Err(Error::Unauthorized { lock: None })
    }

    /// GET `/ISAPI/Security/sessionLogin/capabilities`, then POST the login.
    async fn login(&self) -> Result<String, Error> {
        let creds = self.state().credentials.clone();
        let cap_path = format!(
            "/ISAPI/Security/sessionLogin/capabilities?username={}",
            percent_encode(&creds.username)
        );
        let resp = self
            .inner
            .transport
            .send(Request::new(Method::GET, cap_path.clone()))
            .await?;
        let resp = check(&cap_path, resp)?;
        let cap = SessionLoginCap::from_xml(&resp.body).map_err(|e| map_parse(&cap_path, e))?;
        let path = format!(
            "/ISAPI/Security/sessionLogin?timeStamp={}",
            OffsetDateTime::now_utc().unix_timestamp()
        );
        let body = session::login_body(&cap, &creds.username, creds.password());
        let resp = self
            .inner
            .transport
            .send(Request::new(Method::POST, path.clone()).with_body("application/xml", body))
            .await?;
        if resp.status == StatusCode::UNAUTHORIZED {
            let lock = parse_unauthorized_body(&resp.body).lock().cloned();
            if let Some(l) = lock.as_ref().filter(|l| l.is_locked()) {
                return Err(self.lock_out(l));
            }
            return Err(self.reject(lock, Sent::Cookie));
        }
        let resp = check(&path, resp)?;
        let cookies: Vec<&str> = resp
            .headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        if let Some(cookie) = session::session_cookie(cookies) {
            return Ok(cookie);
        }
        match session::session_id_from_body(&resp.body) {
            Some(id) => Ok(format!("WebSession={id}")),
            None => Err(Error::Malformed {
                path,
                source: ParseError::Missing("session cookie"),
            }),
        }
    }

    /// Sends any request with authentication and maps error statuses.
    pub async fn request(&self, req: Request) -> Result<Response, Error> {
        let path = req.path.clone();
        match self.run(req, false).await? {
            Outcome::Buffered(r) => check(&path, r),
            Outcome::Stream(_) => Err(Error::Transport {
                detail: "unexpected streaming response".into(),
            }),
        }
    }

    /// GET a path and return the body.
    pub async fn get(&self, path: &str) -> Result<Bytes, Error> {
        Ok(self.request(Request::new(Method::GET, path)).await?.body)
    }

    /// GET a path and parse it into an XML model.
    pub async fn get_xml<T: XmlModel>(&self, path: &str) -> Result<T, Error> {
        let body = self.get(path).await?;
        T::from_xml(&body).map_err(|e| map_parse(path, e))
    }

    /// GET a path and parse it into the generic element tree.
    pub async fn get_element(&self, path: &str) -> Result<Element, Error> {
        let body = self.get(path).await?;
        Element::parse(&body).map_err(|e| map_parse(path, e))
    }

    /// GET a path as JSON.
    pub async fn get_json(&self, path: &str) -> Result<serde_json::Value, Error> {
        let body = self.get(path).await?;
        json::parse(&body).map_err(|e| map_parse(path, e))
    }

    /// `GET /ISAPI/System/deviceInfo`.
    pub async fn device_info(&self) -> Result<DeviceInfo, Error> {
        self.get_xml("/ISAPI/System/deviceInfo").await
    }

    /// `GET /ISAPI/System/Network/interfaces`.
    pub async fn network_interfaces(&self) -> Result<NetworkInterfaceList, Error> {
        self.get_xml("/ISAPI/System/Network/interfaces").await
    }

    /// `GET /ISAPI/System/Network/interfaces/<id>/link`.
    pub async fn network_link(&self, interface: u32) -> Result<Link, Error> {
        self.get_xml(&format!(
            "/ISAPI/System/Network/interfaces/{interface}/link"
        ))
        .await
    }

    /// `GET /ISAPI/ContentMgmt/Storage`.
    pub async fn storage(&self) -> Result<Storage, Error> {
        self.get_xml("/ISAPI/ContentMgmt/Storage").await
    }

    /// `GET /ISAPI/System/workingstatus/hdStatus?format=json` (NVRs).
    pub async fn hd_status(&self) -> Result<HdStatusList, Error> {
        let path = "/ISAPI/System/workingstatus/hdStatus?format=json";
        let body = self.get(path).await?;
        HdStatusList::from_json(&body).map_err(|e| map_parse(path, e))
    }

    /// `GET /ISAPI/ContentMgmt/Storage/hdd/<id>/SMARTTest/status`.
    pub async fn smart(&self, hdd_id: u32) -> Result<SmartStatus, Error> {
        self.get_xml(&format!(
            "/ISAPI/ContentMgmt/Storage/hdd/{hdd_id}/SMARTTest/status"
        ))
        .await
    }

    /// `GET /ISAPI/ContentMgmt/InputProxy/channels` (NVR IP channels).
    pub async fn input_proxy_channels(&self) -> Result<InputProxyChannelList, Error> {
        self.get_xml("/ISAPI/ContentMgmt/InputProxy/channels").await
    }

    /// `GET /ISAPI/ContentMgmt/InputProxy/channels/status` (online state).
    pub async fn input_proxy_channels_status(&self) -> Result<InputProxyChannelStatusList, Error> {
        self.get_xml("/ISAPI/ContentMgmt/InputProxy/channels/status")
            .await
    }

    /// `GET /ISAPI/ContentMgmt/Storage/extension` (overwrite when full).
    pub async fn storage_extension(&self) -> Result<StorageExtension, Error> {
        self.get_xml("/ISAPI/ContentMgmt/Storage/extension").await
    }

    /// `GET /ISAPI/ContentMgmt/record/tracks`.
    pub async fn recording_tracks(&self) -> Result<RecordingTrackList, Error> {
        self.get_xml("/ISAPI/ContentMgmt/record/tracks").await
    }

    /// `GET /ISAPI/System/status`.
    pub async fn system_status(&self) -> Result<DeviceStatus, Error> {
        self.get_xml("/ISAPI/System/status").await
    }

    /// `GET /ISAPI/System/time`.
    pub async fn time(&self) -> Result<DeviceClock, Error> {
        self.get_xml("/ISAPI/System/time").await
    }

    /// `GET /ISAPI/System/IO/inputs/<id>/status`.
    pub async fn io_input_status(&self, id: u32) -> Result<IoPortStatus, Error> {
        self.get_xml(&format!("/ISAPI/System/IO/inputs/{id}/status"))
            .await
    }

    /// `GET /ISAPI/Event/notification/httpHosts`.
    pub async fn http_hosts(&self) -> Result<HttpHostNotificationList, Error> {
        self.get_xml("/ISAPI/Event/notification/httpHosts").await
    }

    /// `PUT /ISAPI/System/reboot`. Succeeds on 2xx with an empty or OK status body.
    pub async fn reboot(&self) -> Result<(), Error> {
        let path = "/ISAPI/System/reboot";
        let resp = self.request(Request::new(Method::PUT, path)).await?;
        match ResponseStatus::sniff(&resp.body) {
            Some(s) if !s.is_ok() => Err(Error::Device {
                path: path.into(),
                http_status: resp.status.as_u16(),
                status: Box::new(s),
            }),
            _ => Ok(()),
        }
    }

    /// AX Pro panel status: `POST /ISAPI/SecurityCP/status/host?format=json`
    /// (mains, batteries, links, areas); falls back to GET on firmware that
    /// refuses the POST.
    pub async fn panel_status(&self) -> Result<PanelStatus, Error> {
        let path = "/ISAPI/SecurityCP/status/host?format=json";
        let cond = r#"{"AlarmHostStatusCond":{"communiStatus":true,"subSys":true,"hostStatus":true,"battery":true,"batteryNo":[1],"averageNoise":false}}"#;
        let post = Request::new(Method::POST, path).with_body("application/json", cond);
        let body = match self.request(post).await {
            Ok(r) => r.body,
            Err(Error::NotSupported { .. }) => self.get(path).await?,
            Err(e) => return Err(e),
        };
        PanelStatus::from_json(&body).map_err(|e| map_parse(path, e))
    }

    /// AX Pro batteries only: `GET /ISAPI/SecurityCP/status/batteries?format=json`.
    pub async fn panel_batteries(&self) -> Result<PanelStatus, Error> {
        let path = "/ISAPI/SecurityCP/status/batteries?format=json";
        let body = self.get(path).await?;
        PanelStatus::from_json(&body).map_err(|e| map_parse(path, e))
    }

    /// `GET /ISAPI/AccessControl/AcsWorkStatus?format=json`.
    pub async fn access_control_status(&self) -> Result<AcsWorkStatus, Error> {
        let path = "/ISAPI/AccessControl/AcsWorkStatus?format=json";
        let body = self.get(path).await?;
        AcsWorkStatus::from_json(&body).map_err(|e| map_parse(path, e))
    }

    /// `GET /ISAPI/VideoIntercom/callStatus?format=json` (intercoms, doorbells).
    pub async fn call_status(&self) -> Result<CallStatus, Error> {
        let path = "/ISAPI/VideoIntercom/callStatus?format=json";
        let body = self.get(path).await?;
        CallStatus::from_json(&body).map_err(|e| map_parse(path, e))
    }

    /// Opens `GET /ISAPI/Event/notification/alertStream` and decodes it.
    /// The stream ends when the device closes it; reconnect with backoff.
    pub async fn alert_stream(&self) -> Result<AlertStream, Error> {
        let path = "/ISAPI/Event/notification/alertStream";
        let resp = match self.run(Request::new(Method::GET, path), true).await? {
            Outcome::Stream(s) => s,
            Outcome::Buffered(r) => {
                return Err(match check(path, r) {
                    Ok(_) => Error::Transport {
                        detail: "alert stream answered without a body stream".into(),
                    },
                    Err(e) => e,
                });
            }
        };
        let content_type = resp.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
        let decoder = AlertStreamDecoder::from_content_type(content_type);
        struct St {
            body: BoxStream<'static, Result<Bytes, Error>>,
            decoder: AlertStreamDecoder,
            queue: VecDeque<Result<StreamItem, Error>>,
            done: bool,
        }
        let state = St {
            body: resp.body,
            decoder,
            queue: VecDeque::new(),
            done: false,
        };
        let inner = futures::stream::unfold(state, |mut st| async move {
            loop {
                if let Some(item) = st.queue.pop_front() {
                    return Some((item, st));
                }
                if st.done {
                    return None;
                }
                match st.body.next().await {
                    Some(Ok(chunk)) => st.queue.extend(st.decoder.push(&chunk).into_iter().map(Ok)),
                    Some(Err(e)) => {
                        st.queue.extend(st.decoder.finish().into_iter().map(Ok));
                        st.queue.push_back(Err(e));
                        st.done = true;
                    }
                    None => {
                        st.queue.extend(st.decoder.finish().into_iter().map(Ok));
                        st.done = true;
                    }
                }
            }
        })
        .boxed();
        Ok(AlertStream { inner })
    }
}

/// Maps a parse failure: a `ResponseStatus` in place of data is a device answer.
fn map_parse(path: &str, e: ParseError) -> Error {
    match e {
        ParseError::Status(s) if s.is_not_supported() => Error::NotSupported {
            path: path.into(),
            http_status: 200,
            status: Some(s),
        },
        ParseError::Status(s) => Error::Device {
            path: path.into(),
            http_status: 200,
            status: s,
        },
        other => Error::Malformed {
            path: path.into(),
            source: other,
        },
    }
}

/// Maps a non-success status (other than 401) to an error (isapi.md §0 rule 7).
pub fn check(path: &str, resp: Response) -> Result<Response, Error> {
    if resp.status.is_success() {
        return Ok(resp);
    }
    let code = resp.status.as_u16();
    let status = ResponseStatus::sniff(&resp.body);
    let unsupported_code = matches!(code, 403 | 404 | 405 | 501);
    match status {
        Some(s) if s.is_not_supported() => Err(Error::NotSupported {
            path: path.into(),
            http_status: code,
            status: Some(Box::new(s)),
        }),
        Some(s) if s.sub_status_code.is_some() || s.status_code.is_some() => Err(Error::Device {
            path: path.into(),
            http_status: code,
            status: Box::new(s),
        }),
        _ if unsupported_code => Err(Error::NotSupported {
            path: path.into(),
            http_status: code,
            status: None,
        }),
        _ if code == 401 => Err(Error::Unauthorized {
            lock: parse_unauthorized_body(&resp.body).lock().cloned(),
        }),
        _ => Err(Error::HttpStatus {
            path: path.into(),
            http_status: code,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderMap;

    fn resp(code: u16, body: &'static str) -> Response {
        Response {
            status: StatusCode::from_u16(code).expect("status"),
            headers: HeaderMap::new(),
            body: Bytes::from_static(body.as_bytes()),
        }
    }

    #[test]
    fn status_mapping_follows_rule_seven() {
        assert!(matches!(
            check("/p", resp(403, "")),
            Err(Error::NotSupported {
                http_status: 403,
                ..
            })
        ));
        assert!(matches!(
            check("/p", resp(404, "")),
            Err(Error::NotSupported { .. })
        ));
        assert!(matches!(
            check("/p", resp(500, "")),
            Err(Error::HttpStatus {
                http_status: 500,
                ..
            })
        ));
        let not_support = "<ResponseStatus><statusCode>4</statusCode><subStatusCode>notSupport</subStatusCode></ResponseStatus>";
        assert!(matches!(
            check("/p", resp(500, not_support)),
            Err(Error::NotSupported {
                http_status: 500,
                ..
            })
        ));
        let busy = "<ResponseStatus><statusCode>2</statusCode><subStatusCode>deviceBusy</subStatusCode></ResponseStatus>";
        assert!(matches!(
            check("/p", resp(503, busy)),
            Err(Error::Device { .. })
        ));
        let low = r#"{"statusCode":4,"subStatusCode":"lowPrivilege"}"#;
        assert!(matches!(
            check("/p", resp(403, low)),
            Err(Error::Device { .. })
        ));
        assert!(check("/p", resp(200, "x")).is_ok());
    }

    #[test]
    fn credentials_debug_is_redacted() {
        let c = Credentials::new("admin", "hunter2");
        assert!(!format!("{c:?}").contains("hunter2"));
        assert_eq!(percent_encode("a b&c"), "a%20b%26c");
    }
}
