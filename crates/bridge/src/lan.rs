//! The devices on the customer's network: each is reached over HTTP(S) with the
//! account configured on the bridge, through `siteward_isapi::Client`, which owns
//! the sign-in (digest with nonce reuse and `stale` retries, Basic, or the AX Pro
//! session) and the lockout safety (refused credentials are not tried again; a
//! locked account is left alone until it unlocks).
//!
//! The server wants the device's answers as they are (status, headers, body) and
//! the alert stream's documents as they were written, while the client maps error
//! statuses to errors and parses the stream. So the client runs over a [`Tap`]: a
//! transport around [`HttpTransport`] that keeps a copy of the final answer to a
//! relayed request (marked by a header it removes before sending), and takes the
//! body of a successful alert stream for the bridge, giving the client an empty one.

use bytes::Bytes;
use futures::StreamExt as _;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use siteward_isapi::{
    Client, ClientConfig, Credentials, Error as IsapiError, HttpConfig, HttpTransport, Request,
    Response, StreamingResponse, Transport,
};
use siteward_link::agent::{RelayAnswer, RelayRequest};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::config::{Auth, DeviceConfig};

/// The header marking a relayed request whose answer the tap keeps.
const TAP_HEADER: &str = "x-siteward-bridge-tap";
/// How long a relayed request may take: less than the server's 10 s, so the
/// server hears `timeout` from the bridge rather than nothing.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(8);
/// The largest answer relayed: a frame holds 4 MiB, base64 adds a third.
const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;
/// Headers that belong to one HTTP hop (or to the bridge's own sign-in) and are
/// not passed along.
const HOP_HEADERS: [&str; 12] = [
    "authorization",
    "connection",
    "content-length",
    "cookie",
    "host",
    "keep-alive",
    "proxy-authorization",
    "set-cookie",
    "te",
    "transfer-encoding",
    "upgrade",
    "www-authenticate",
];

/// A transport that keeps what the bridge needs to pass on (see the module).
#[derive(Debug)]
struct Tap {
    inner: HttpTransport,
    answers: Mutex<HashMap<u64, Response>>,
    stream: Mutex<Option<StreamingResponse>>,
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Takes the tap mark off a request.
fn unmark(request: &mut Request) -> Option<u64> {
    request
        .headers
        .remove(TAP_HEADER)
        .and_then(|v| v.to_str().ok()?.parse().ok())
}

impl Transport for Tap {
    fn send(&self, mut request: Request) -> BoxFuture<'_, Result<Response, IsapiError>> {
        Box::pin(async move {
            let mark = unmark(&mut request);
            let response = self.inner.send(request).await?;
            if let Some(id) = mark {
                // The last answer wins: after a sign-in challenge, the real one.
                locked(&self.answers).insert(id, response.clone());
            }
            Ok(response)
        })
    }

    fn send_streaming(
        &self,
        mut request: Request,
    ) -> BoxFuture<'_, Result<StreamingResponse, IsapiError>> {
        Box::pin(async move {
            unmark(&mut request);
            let response = self.inner.send_streaming(request).await?;
            if !response.status.is_success() {
                return Ok(response);
            }
            let status = response.status;
            let headers = response.headers.clone();
            *locked(&self.stream) = Some(response);
            Ok(StreamingResponse {
                status,
                headers,
                body: futures::stream::empty().boxed(),
            })
        })
    }
}

/// An open alert stream: its content type and its raw body.
pub(crate) struct OpenStream {
    pub content_type: Option<String>,
    pub body: BoxStream<'static, Result<Bytes, IsapiError>>,
}

/// One device on the LAN.
#[derive(Debug)]
pub struct LanDevice {
    serial: String,
    client: Client,
    tap: Arc<Tap>,
    next_mark: AtomicU64,
}

impl LanDevice {
    /// The device as configured; fails on a base URL the HTTP client refuses.
    pub fn new(config: &DeviceConfig) -> Result<Self, IsapiError> {
        let mut http = HttpConfig::new(config.base_url.clone());
        http.accept_invalid_certs = config.accept_invalid_certs;
        http.request_timeout = REQUEST_TIMEOUT;
        http.max_body_bytes = MAX_BODY_BYTES;
        let tap = Arc::new(Tap {
            inner: HttpTransport::new(http)?,
            answers: Mutex::default(),
            stream: Mutex::default(),
        });
        let credentials = Credentials::new(config.username.clone(), config.password.clone());
        let client_config = ClientConfig {
            auth_mode: match config.auth {
                Auth::Digest => siteward_isapi::AuthMode::Http,
                Auth::Session => siteward_isapi::AuthMode::Session,
            },
            ..ClientConfig::default()
        };
        let client = Client::with_config(
            Arc::clone(&tap) as Arc<dyn Transport>,
            credentials,
            client_config,
        );
        Ok(Self {
            serial: config.serial.clone(),
            client,
            tap,
            next_mark: AtomicU64::new(1),
        })
    }

    /// The serial number.
    pub fn serial(&self) -> &str {
        &self.serial
    }

    /// Sends a request that came down the link and returns the device's answer
    /// as it is, or why there is none.
    pub async fn relay(&self, r: RelayRequest) -> RelayAnswer {
        let Ok(method) = Method::from_bytes(r.method.as_bytes()) else {
            return failed("unreachable", format!("bad method {:?}", r.method));
        };
        if !stays_on_device(&r.path) {
            return failed(
                "unreachable",
                format!("refused: {:?} is not a path on the device", r.path),
            );
        }
        let mut headers = HeaderMap::new();
        for (k, v) in &r.headers {
            if HOP_HEADERS.iter().any(|h| k.eq_ignore_ascii_case(h)) {
                continue;
            }
            if let (Ok(k), Ok(v)) = (
                HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(v),
            ) {
                headers.append(k, v);
            }
        }
        let mark = self.next_mark.fetch_add(1, Ordering::Relaxed);
        headers.insert(TAP_HEADER, HeaderValue::from(mark));
        let request = Request {
            method,
            path: r.path,
            headers,
            body: Bytes::from(r.body),
        };
        let result = self.client.request(request).await;
        let answer = locked(&self.tap.answers).remove(&mark);
        match (answer, result) {
            (Some(a), _) => RelayAnswer::Http {
                status: a.status.as_u16(),
                headers: a
                    .headers
                    .iter()
                    .filter(|(k, _)| !HOP_HEADERS.contains(&k.as_str()))
                    .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
                    .collect(),
                body: a.body.to_vec(),
            },
            (None, Ok(_)) => failed("unreachable", "the answer was lost in the bridge".into()),
            (None, Err(e)) => self.refusal(e),
        }
    }

    /// What to tell the server when the client did not ask the device at all, or
    /// could not reach it.
    fn refusal(&self, e: IsapiError) -> RelayAnswer {
        match e {
            // The bridge's account is refused or locked: the server hears a 401,
            // as it would from the device, so it reports the credentials.
            IsapiError::CredentialsBlocked => {
                tracing::warn!(serial = %self.serial, "the device refused the bridge's credentials; fix them in the configuration and restart the bridge");
                unauthorized(String::new())
            }
            IsapiError::LockedOut { unlock_in, .. } => {
                let secs = unlock_in.map_or(0, |d| d.as_secs());
                unauthorized(format!(
                    "<userCheck><statusValue>401</statusValue><statusString>Unauthorized</statusString>\
                     <lockStatus>lock</lockStatus><unlockTime>{secs}</unlockTime><retryLoginTime>0</retryLoginTime></userCheck>"
                ))
            }
            IsapiError::Timeout { during } => {
                failed("timeout", format!("timed out while {during}"))
            }
            IsapiError::TooLarge { limit } => {
                failed("too_large", format!("the answer is over {limit} bytes"))
            }
            other => failed("unreachable", other.to_string()),
        }
    }

    /// Opens the device's alert stream (signed in like any request).
    pub(crate) async fn open_alert_stream(&self) -> Result<OpenStream, IsapiError> {
        locked(&self.tap.stream).take();
        // On success the client's own stream is empty: the tap holds the body.
        drop(self.client.alert_stream().await?);
        let response = locked(&self.tap.stream)
            .take()
            .ok_or_else(|| IsapiError::Transport {
                detail: "the alert stream opened without a body".into(),
            })?;
        Ok(OpenStream {
            content_type: response
                .headers
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            body: response.body,
        })
    }
}

/// Whether a request path stays on the device: an absolute path, not one a URL
/// parser would read as another host (`//host/…`, `/\host/…`), without spaces
/// or control characters.
pub fn stays_on_device(path: &str) -> bool {
    let mut chars = path.chars();
    chars.next() == Some('/')
        && !matches!(chars.next(), Some('/' | '\\'))
        && !path.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn failed(error: &'static str, detail: String) -> RelayAnswer {
    RelayAnswer::Failed { error, detail }
}

fn unauthorized(body: String) -> RelayAnswer {
    let headers = if body.is_empty() {
        Vec::new()
    } else {
        vec![("content-type".to_owned(), "application/xml".to_owned())]
    };
    RelayAnswer::Http {
        status: 401,
        headers,
        body: body.into_bytes(),
    }
}

/// Answers the server's requests with the LAN devices.
#[derive(Debug, Clone)]
pub struct LanRelay {
    devices: Arc<HashMap<String, Arc<LanDevice>>>,
}

impl LanRelay {
    /// Over these devices.
    pub fn new(devices: impl IntoIterator<Item = Arc<LanDevice>>) -> Self {
        Self {
            devices: Arc::new(devices.into_iter().map(|d| (d.serial.clone(), d)).collect()),
        }
    }
}

impl siteward_link::agent::Relay for LanRelay {
    fn request(&self, serial: &str, request: RelayRequest) -> BoxFuture<'static, RelayAnswer> {
        let device = self.devices.get(serial).cloned();
        let serial = serial.to_owned();
        Box::pin(async move {
            match device {
                Some(d) => d.relay(request).await,
                None => failed(
                    "unknown_device",
                    format!("this bridge does not serve {serial}"),
                ),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relayed_paths_stay_on_the_device() {
        for ok in [
            "/ISAPI/System/deviceInfo",
            "/ISAPI/ContentMgmt/Storage?format=json",
            "/",
        ] {
            assert!(stays_on_device(ok), "{ok}");
        }
        for bad in [
            "",
            "ISAPI/x",
            "//evil.example/x",
            "/\\evil.example/x",
            "/a b",
            "/a\r\nHost: x",
        ] {
            assert!(!stays_on_device(bad), "{bad:?}");
        }
    }
}
