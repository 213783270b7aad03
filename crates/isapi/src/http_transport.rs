//! Direct HTTP(S) transport on reqwest: timeouts, bounded bodies, per-device
//! acceptance of self-signed certificates, and errors that say what failed.

use std::error::Error as _;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::future::BoxFuture;
use futures::{FutureExt as _, StreamExt as _};

use crate::error::Error;
use crate::transport::{DEFAULT_MAX_BODY_BYTES, Request, Response, StreamingResponse, Transport};
use std::sync::OnceLock;

/// Settings for one device endpoint.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// `http://host[:port]` or `https://host[:port]`.
    pub base_url: String,
    /// Accept self-signed / mismatched certificates (devices ship self-signed ones).
    pub accept_invalid_certs: bool,
    /// Time allowed to establish the connection.
    pub connect_timeout: Duration,
    /// Time allowed for a whole buffered request.
    pub request_timeout: Duration,
    /// Longest silence tolerated on the alert stream (heartbeats come about every 10 s).
    pub stream_idle_timeout: Duration,
    /// Largest buffered body.
    pub max_body_bytes: usize,
}

impl HttpConfig {
    /// Defaults: 5 s connect, 20 s request, 60 s stream idle, 8 MiB bodies, strict TLS.
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            accept_invalid_certs: false,
            connect_timeout: SHARED_CONNECT_TIMEOUT,
            request_timeout: Duration::from_secs(20),
            stream_idle_timeout: Duration::from_secs(60),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

/// The connect timeout of the shared clients.
const SHARED_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

fn build_client(
    connect_timeout: Duration,
    accept_invalid_certs: bool,
) -> Result<reqwest::Client, Error> {
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .danger_accept_invalid_certs(accept_invalid_certs)
        // Never follow redirects: they could carry credentials elsewhere.
        .redirect(reqwest::redirect::Policy::none())
        // Devices are asked every few minutes: keep a connection only briefly, and at
        // most two per device (an inspection asks a few things at once), so a large
        // fleet does not hold sockets between inspections. Measured: with ten
        // seconds and no bound, 10,000 devices inspected in one burst ran the
        // process out of file descriptors.
        .pool_idle_timeout(Duration::from_secs(3))
        .pool_max_idle_per_host(2)
        .build()
        .map_err(|e| classify(&e, "building the HTTP client"))
}

/// One HTTP client (and connection pool, and TLS set-up) per kind of certificate
/// check, shared by every device: building one per device costs a TLS context and
/// the system's certificate store each time. A device with its own connect timeout
/// gets its own client.
fn client_for(config: &HttpConfig) -> Result<reqwest::Client, Error> {
    static STRICT: OnceLock<reqwest::Client> = OnceLock::new();
    static LENIENT: OnceLock<reqwest::Client> = OnceLock::new();
    if config.connect_timeout != SHARED_CONNECT_TIMEOUT {
        return build_client(config.connect_timeout, config.accept_invalid_certs);
    }
    let cell = if config.accept_invalid_certs {
        &LENIENT
    } else {
        &STRICT
    };
    if let Some(c) = cell.get() {
        return Ok(c.clone());
    }
    let c = build_client(SHARED_CONNECT_TIMEOUT, config.accept_invalid_certs)?;
    Ok(cell.get_or_init(|| c).clone())
}

/// Talks to a device directly over HTTP or HTTPS.
#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
    base: reqwest::Url,
    config: HttpConfig,
}

impl HttpTransport {
    /// Builds the transport; fails on a bad URL or TLS backend setup.
    pub fn new(config: HttpConfig) -> Result<Self, Error> {
        let base = reqwest::Url::parse(&config.base_url).map_err(|e| Error::Transport {
            detail: format!("bad device URL {:?}: {e}", config.base_url),
        })?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(Error::Transport {
                detail: format!("unsupported scheme {:?}", base.scheme()),
            });
        }
        let client = client_for(&config)?;
        Ok(Self {
            client,
            base,
            config,
        })
    }

    fn url(&self, path: &str) -> Result<reqwest::Url, Error> {
        let path = if path.starts_with('/') {
            path.to_owned()
        } else {
            format!("/{path}")
        };
        self.base.join(&path).map_err(|e| Error::Transport {
            detail: format!("bad request path {path:?}: {e}"),
        })
    }

    fn build(&self, request: Request) -> Result<reqwest::RequestBuilder, Error> {
        let url = self.url(&request.path)?;
        Ok(self
            .client
            .request(request.method, url)
            .headers(request.headers)
            .body(request.body))
    }

    async fn send_buffered(&self, request: Request) -> Result<Response, Error> {
        let limit = self.config.max_body_bytes;
        let fut = async {
            let mut resp = self
                .build(request)?
                .send()
                .await
                .map_err(|e| classify(&e, "waiting for the response"))?;
            if resp.content_length().is_some_and(|l| l > limit as u64) {
                return Err(Error::TooLarge { limit });
            }
            let status = resp.status();
            let headers = resp.headers().clone();
            let mut body = BytesMut::new();
            while let Some(chunk) = resp
                .chunk()
                .await
                .map_err(|e| classify(&e, "reading the response body"))?
            {
                if body.len() + chunk.len() > limit {
                    return Err(Error::TooLarge { limit });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Response {
                status,
                headers,
                body: body.freeze(),
            })
        };
        tokio::time::timeout(self.config.request_timeout, fut)
            .await
            .map_err(|_| Error::Timeout {
                during: "waiting for the response",
            })?
    }

    async fn send_stream(&self, request: Request) -> Result<StreamingResponse, Error> {
        let builder = self.build(request)?;
        let resp = tokio::time::timeout(self.config.request_timeout, builder.send())
            .await
            .map_err(|_| Error::Timeout {
                during: "waiting for the stream to start",
            })?
            .map_err(|e| classify(&e, "waiting for the stream to start"))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let idle = self.config.stream_idle_timeout;
        let body = futures::stream::unfold(Some(resp), move |state| async move {
            let mut resp = state?;
            match tokio::time::timeout(idle, resp.chunk()).await {
                Err(_) => Some((
                    Err(Error::Timeout {
                        during: "reading the alert stream (device went silent)",
                    }),
                    None,
                )),
                Ok(Err(e)) => Some((Err(classify(&e, "reading the stream")), None)),
                Ok(Ok(None)) => None,
                Ok(Ok(Some(chunk))) => Some((Ok::<Bytes, Error>(chunk), Some(resp))),
            }
        })
        .boxed();
        Ok(StreamingResponse {
            status,
            headers,
            body,
        })
    }
}

impl Transport for HttpTransport {
    fn send(&self, request: Request) -> BoxFuture<'_, Result<Response, Error>> {
        self.send_buffered(request).boxed()
    }

    fn send_streaming(&self, request: Request) -> BoxFuture<'_, Result<StreamingResponse, Error>> {
        self.send_stream(request).boxed()
    }
}

/// Maps a reqwest error to what went wrong from the user's point of view.
fn classify(e: &reqwest::Error, during: &'static str) -> Error {
    let mut chain = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        chain.push_str(": ");
        chain.push_str(&s.to_string());
        source = s.source();
    }
    let lower = chain.to_ascii_lowercase();
    if e.is_timeout() {
        return Error::Timeout { during };
    }
    if ["certificate", "tls", "ssl", "handshake"]
        .iter()
        .any(|k| lower.contains(k))
    {
        return Error::Tls { detail: chain };
    }
    if e.is_connect() {
        return Error::Unreachable { detail: chain };
    }
    Error::Transport { detail: chain }
}
