//! Errors: [`ParseError`] for documents, [`Error`] for everything a request can hit.

use std::time::Duration;

use time::OffsetDateTime;

use crate::lockout::LockStatus;
use crate::models::ResponseStatus;

/// Why a device document could not be turned into a model.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParseError {
    /// The body was empty or whitespace.
    #[error("empty document")]
    Empty,
    /// The XML was not well formed (or was truncated).
    #[error("not well-formed XML: {0}")]
    Xml(String),
    /// The JSON was not valid.
    #[error("not valid JSON: {0}")]
    Json(String),
    /// Nesting exceeded the parser's limit.
    #[error("document nested deeper than {0} levels")]
    TooDeep(usize),
    /// A different document than expected arrived.
    #[error("expected {expected}, found <{found}>")]
    UnexpectedRoot {
        /// What the parser accepts.
        expected: &'static str,
        /// The root element (or JSON key) that arrived.
        found: String,
    },
    /// The device answered with a `ResponseStatus` error instead of data.
    #[error("device answered with status: {0}")]
    Status(Box<ResponseStatus>),
    /// A field the model cannot do without was missing.
    #[error("missing {0}")]
    Missing(&'static str),
}

/// Everything that can go wrong talking to a device.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Nothing answered: connection refused, no route, DNS failure, reset.
    #[error("device unreachable: {detail}")]
    Unreachable {
        /// Underlying cause.
        detail: String,
    },
    /// TLS handshake or certificate failure.
    #[error("TLS failure: {detail}")]
    Tls {
        /// Underlying cause.
        detail: String,
    },
    /// The device did not answer in time.
    #[error("timed out while {during}")]
    Timeout {
        /// What was being waited for.
        during: &'static str,
    },
    /// The device rejected the credentials (not locked, yet).
    #[error("credentials rejected by the device{}", retries_hint(lock.as_ref()))]
    Unauthorized {
        /// Lock information from the 401 body, when the device sent any.
        lock: Option<LockStatus>,
    },
    /// The account is locked after failed logins; do not retry before it unlocks.
    #[error("account locked on the device{}", unlock_hint(*unlock_in, *unlock_at))]
    LockedOut {
        /// Time left until the device unlocks the account, when reported.
        unlock_in: Option<Duration>,
        /// When the account unlocks (receive time + `unlock_in`).
        unlock_at: Option<OffsetDateTime>,
    },
    /// Credentials were rejected earlier; the client will not try them again
    /// until they are replaced or the block is cleared (protects against lockout).
    #[error("credentials were rejected earlier; not retrying until they change")]
    CredentialsBlocked,
    /// The device does not support this endpoint (403/404/405/501 or `notSupport`).
    #[error("not supported by the device: {path} (HTTP {http_status})")]
    NotSupported {
        /// Request path.
        path: String,
        /// HTTP status received.
        http_status: u16,
        /// The `ResponseStatus` body, when one was sent.
        status: Option<Box<ResponseStatus>>,
    },
    /// The device reported an error in a `ResponseStatus` document.
    #[error("device error on {path} (HTTP {http_status}): {status}")]
    Device {
        /// Request path.
        path: String,
        /// HTTP status received.
        http_status: u16,
        /// The error document.
        status: Box<ResponseStatus>,
    },
    /// An unexpected HTTP status without a readable error document.
    #[error("unexpected HTTP status {http_status} from {path}")]
    HttpStatus {
        /// Request path.
        path: String,
        /// HTTP status received.
        http_status: u16,
    },
    /// The response could not be parsed.
    #[error("malformed response from {path}: {source}")]
    Malformed {
        /// Request path.
        path: String,
        /// Parser diagnosis.
        #[source]
        source: ParseError,
    },
    /// The response body exceeded the size limit.
    #[error("response larger than {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// Any other transport failure (bad URL, protocol error, link closed).
    #[error("transport failure: {detail}")]
    Transport {
        /// Underlying cause.
        detail: String,
    },
}

fn retries_hint(lock: Option<&LockStatus>) -> String {
    match lock.and_then(|l| l.retries_left) {
        Some(n) => format!(" ({n} attempts left before lockout)"),
        None => String::new(),
    }
}

fn unlock_hint(unlock_in: Option<Duration>, unlock_at: Option<OffsetDateTime>) -> String {
    match (unlock_in, unlock_at) {
        (Some(d), Some(at)) => format!("; unlocks in {} s (at {at})", d.as_secs()),
        (Some(d), None) => format!("; unlocks in {} s", d.as_secs()),
        _ => "; unlock time not reported".to_owned(),
    }
}

impl Error {
    /// A short stable code for logs and API mapping.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Unreachable { .. } => "unreachable",
            Error::Tls { .. } => "tls",
            Error::Timeout { .. } => "timeout",
            Error::Unauthorized { .. } => "unauthorized",
            Error::LockedOut { .. } => "locked_out",
            Error::CredentialsBlocked => "credentials_blocked",
            Error::NotSupported { .. } => "not_supported",
            Error::Device { .. } => "device_error",
            Error::HttpStatus { .. } => "http_status",
            Error::Malformed { .. } => "malformed",
            Error::TooLarge { .. } => "too_large",
            Error::Transport { .. } => "transport",
        }
    }
}
