//! Link mode: a simulated device with the cloud client built in. It connects out to
//! Siteward's device link (`docs/link-protocol.md`) with its serial number and
//! verification code, answers the ISAPI requests sent down the link as it answers
//! HTTP (without digest: the link is authenticated), and pushes every event of its
//! alert stream up the link.

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use futures::future::BoxFuture;
use http_body_util::BodyExt;
use siteward_link::LinkKey;
use siteward_link::agent::{
    Agent, AgentConfig, AgentDevice, AgentHandle, Relay, RelayAnswer, RelayRequest,
};

use crate::device::{Device, DeviceHandle};
use crate::isapi;

/// Answers link requests with the device itself.
struct DeviceRelay(Arc<Device>);

impl Relay for DeviceRelay {
    fn request(&self, serial: &str, r: RelayRequest) -> BoxFuture<'static, RelayAnswer> {
        let dev = Arc::clone(&self.0);
        let unknown = serial != dev.id.serial;
        Box::pin(async move {
            if unknown {
                return RelayAnswer::Failed {
                    error: "unknown_device",
                    detail: "this link serves one device".into(),
                };
            }
            let (Ok(method), Ok(uri)) = (r.method.parse::<Method>(), r.path.parse::<Uri>()) else {
                return RelayAnswer::Failed {
                    error: "unreachable",
                    detail: "bad method or path".into(),
                };
            };
            let mut headers = HeaderMap::new();
            for (k, v) in &r.headers {
                if let (Ok(k), Ok(v)) = (
                    HeaderName::from_bytes(k.as_bytes()),
                    HeaderValue::from_str(v),
                ) {
                    headers.append(k, v);
                }
            }
            let body = String::from_utf8_lossy(&r.body).into_owned();
            match isapi::serve_linked(dev, &method, &uri, &headers, &body).await {
                Ok(reply) => {
                    let (parts, body) = reply.into_parts();
                    let bytes = body
                        .collect()
                        .await
                        .map(|c| c.to_bytes())
                        .unwrap_or_default();
                    RelayAnswer::Http {
                        status: parts.status.as_u16(),
                        headers: parts
                            .headers
                            .iter()
                            .filter_map(|(k, v)| {
                                Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned()))
                            })
                            .collect(),
                        body: bytes.to_vec(),
                    }
                }
                Err(e) => RelayAnswer::Failed {
                    error: "unreachable",
                    detail: e.to_string(),
                },
            }
        })
    }
}

impl DeviceHandle {
    /// Connects the device to Siteward's device link at `url` (`ws://host:port/link/v1`)
    /// and keeps it connected (reconnecting with back-off) until the handle's `stop`.
    /// Its events go up the link from now on.
    pub fn connect_link(&self, url: &str) -> AgentHandle {
        let dev = Arc::clone(&self.0);
        let id = &dev.id;
        let config = AgentConfig::new(
            url,
            concat!("siteward-devsim/", env!("CARGO_PKG_VERSION")),
            vec![AgentDevice {
                serial: id.serial.clone(),
                key: LinkKey::derive(&id.verification_code, &id.serial),
                device_type: Some(id.kind.as_str().to_owned()),
            }],
        );
        let (agent, handle) = Agent::new(config, DeviceRelay(Arc::clone(&dev)));
        tokio::spawn(agent.run());
        let mut events = dev.subscribe();
        let serial = id.serial.clone();
        let pusher = handle.clone();
        let mut stopped = handle.status();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    part = events.recv() => match part {
                        Ok(part) if part.content_type.contains("xml") => {
                            pusher.push_event(&serial, part.body.clone());
                        }
                        Ok(_) => {}
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                    },
                    changed = stopped.changed() => if changed.is_err() { return },
                }
            }
        });
        handle
    }
}
