//! Observing a device over ISAPI (first cut: reachability; the full per-type reading
//! replaces this).

use siteward_core::DeviceType;
use siteward_core::health::Observation;
use siteward_isapi::{Client, Error};

/// What the device answered.
pub async fn observe(client: &Client, _device_type: DeviceType) -> Observation {
    match client.device_info().await {
        Ok(_) => Observation { reachable: true, ..Observation::default() },
        Err(Error::Unauthorized { .. } | Error::LockedOut { .. } | Error::CredentialsBlocked) => {
            Observation { reachable: true, auth_failed: true, ..Observation::default() }
        }
        Err(_) => Observation::default(),
    }
}
