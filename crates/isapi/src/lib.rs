//! The ISAPI device protocol for Hikvision-family devices: typed requests and
//! tolerant XML/JSON models, digest/basic and AX Pro session authentication with
//! lockout safety, a transport seam (direct HTTP now, a device link later), and
//! an incremental decoder for the event stream.
//!
//! Parsing follows the rules in the protocol reference: local element names
//! only, trimmed numbers, lenient timestamps, empty and repeated elements,
//! capability attributes, `ResponseStatus` errors, and JSON variants. Parsers
//! never panic on any input.

pub mod active_events;
pub mod alert_stream;
pub mod client;
pub mod digest;
pub mod error;
pub mod http_transport;
pub mod json;
pub mod lockout;
pub mod models;
pub mod session;
pub mod timestamp;
pub mod transport;
pub mod value;
pub mod xml;

pub use active_events::{ActiveEvents, EventKey, Transition};
pub use alert_stream::{AlertStreamDecoder, StreamItem};
pub use client::{AlertStream, AuthMode, Client, ClientConfig, Credentials};
pub use error::{Error, ParseError};
pub use http_transport::{HttpConfig, HttpTransport};
pub use lockout::{LockStatus, UnauthorizedBody, parse_unauthorized_body};
pub use models::XmlModel;
pub use timestamp::DeviceTime;
pub use transport::{Request, Response, StreamingResponse, Transport};
pub use xml::{Capability, Element};
