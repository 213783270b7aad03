//! The transport seam: send one HTTP request to a device, get status, headers
//! and body back. Direct HTTP ([`crate::HttpTransport`]) implements it today; a
//! WebSocket device link can implement it later without touching the client.

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use http::{HeaderMap, Method, StatusCode};

use crate::error::Error;

/// Largest buffered response body accepted by default (8 MiB).
pub const DEFAULT_MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// One request, addressed by path and query (`/ISAPI/System/deviceInfo`).
#[derive(Debug, Clone)]
pub struct Request {
    /// HTTP method.
    pub method: Method,
    /// Path and query, starting with `/`.
    pub path: String,
    /// Headers to send (authorization is added by the client).
    pub headers: HeaderMap,
    /// Body (empty for GET).
    pub body: Bytes,
}

impl Request {
    /// A request without headers or body.
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
        }
    }

    /// Sets the body and its content type.
    pub fn with_body(mut self, content_type: &'static str, body: impl Into<Bytes>) -> Self {
        self.headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static(content_type),
        );
        self.body = body.into();
        self
    }
}

/// A fully buffered response.
#[derive(Debug, Clone)]
pub struct Response {
    /// HTTP status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body (bounded by the transport's limit).
    pub body: Bytes,
}

/// A response whose body arrives as a stream of chunks (the alert stream).
pub struct StreamingResponse {
    /// HTTP status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body chunks; errors end the stream.
    pub body: BoxStream<'static, Result<Bytes, Error>>,
}

impl std::fmt::Debug for StreamingResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamingResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

/// Sends requests to one device.
pub trait Transport: Send + Sync + std::fmt::Debug {
    /// Sends a request and buffers the whole response (bounded in size, with a timeout).
    fn send(&self, request: Request) -> BoxFuture<'_, Result<Response, Error>>;

    /// Sends a request and returns the body as a stream (no overall timeout).
    fn send_streaming(&self, request: Request) -> BoxFuture<'_, Result<StreamingResponse, Error>>;
}

/// Reads a streaming body into memory, refusing more than `limit` bytes.
pub async fn collect_body(
    mut body: BoxStream<'static, Result<Bytes, Error>>,
    limit: usize,
) -> Result<Bytes, Error> {
    use futures::StreamExt as _;
    let mut out = bytes::BytesMut::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        if out.len() + chunk.len() > limit {
            return Err(Error::TooLarge { limit });
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out.freeze())
}
