//! Reaching a device over ISAPI to learn what it is, and turning every way that can
//! fail into words an installer can act on.

use crate::AppError;
use siteward_isapi::{Client, Credentials, Error, HttpConfig};
use std::time::Duration;

/// Where and how to reach a device.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) https: bool,
    pub(crate) accept_invalid_certs: bool,
    pub(crate) username: String,
    pub(crate) password: String,
}

impl Target {
    /// The base URL (IPv6 addresses in brackets).
    pub(crate) fn base_url(&self) -> String {
        let host = if self.host.parse::<std::net::Ipv6Addr>().is_ok() {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        format!(
            "{}://{host}:{}",
            if self.https { "https" } else { "http" },
            self.port
        )
    }

    fn shown(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// What a device says it is.
#[derive(Debug, Clone, Default)]
pub(crate) struct Identity {
    pub(crate) model: String,
    pub(crate) serial: String,
    pub(crate) firmware: Option<String>,
    pub(crate) mac: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) manufacturer: Option<String>,
}

/// Asks devices who they are.
#[derive(Debug, Clone)]
pub(crate) struct Prober {
    pub(crate) connect_timeout: Duration,
    pub(crate) request_timeout: Duration,
}

impl Default for Prober {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(15),
        }
    }
}

impl Prober {
    /// Signs in (digest) and reads `/ISAPI/System/deviceInfo`.
    pub(crate) async fn identify(&self, t: &Target) -> Result<Identity, AppError> {
        let mut config = HttpConfig::new(t.base_url());
        config.accept_invalid_certs = t.accept_invalid_certs;
        config.connect_timeout = self.connect_timeout;
        config.request_timeout = self.request_timeout;
        let client = Client::http(config, Credentials::new(&t.username, &t.password))
            .map_err(|e| refusal(t, e))?;
        let info = client.device_info().await.map_err(|e| refusal(t, e))?;
        let manufacturer = info.manufacturer.clone();
        Ok(Identity {
            model: info.model.unwrap_or_default(),
            serial: info.serial_number.unwrap_or_default(),
            firmware: match (info.firmware_version, info.firmware_released_date) {
                (Some(v), Some(d)) => Some(format!("{v} {d}")),
                (v, _) => v,
            },
            mac: info.mac_address,
            name: info.device_name,
            manufacturer,
        })
    }
}

/// What an installer is told when a device cannot be added.
pub(crate) fn refusal(t: &Target, e: Error) -> AppError {
    let at = t.shown();
    let unprocessable = |code, message: String| AppError::Unprocessable { code, message };
    match e {
        Error::Unreachable { detail } => AppError::DeviceFailed {
            code: "device.unreachable",
            message: format!(
                "Siteward could not reach a device at {at} ({detail}); check the address and port, and that the device is reachable from Siteward"
            ),
        },
        Error::Tls { detail } => AppError::DeviceFailed {
            code: "device.tls",
            message: format!(
                "the HTTPS connection to {at} failed ({detail}); if the device uses its own self-signed certificate, allow it, or use HTTP"
            ),
        },
        Error::Timeout { during } => AppError::DeviceTimeout {
            message: format!("the device at {at} did not answer in time (while {during})"),
        },
        Error::Unauthorized { lock } => {
            let left = lock.and_then(|l| l.retries_left);
            let warning = match left {
                Some(0) => " The next wrong attempt locks the device's account.".to_owned(),
                Some(n) => format!(" {n} more wrong attempts and the device locks this account."),
                None => String::new(),
            };
            unprocessable(
                "device.wrong_credentials",
                format!("the device at {at} refused the user name or password.{warning}"),
            )
        }
        Error::CredentialsBlocked => unprocessable(
            "device.wrong_credentials",
            format!(
                "the device at {at} refused these credentials; Siteward will not retry them so the device does not lock the account"
            ),
        ),
        Error::LockedOut { unlock_in, .. } => {
            let when = unlock_in.map_or_else(
                || "later".to_owned(),
                |d| format!("in about {} minutes", d.as_secs().div_ceil(60).max(1)),
            );
            unprocessable(
                "device.locked",
                format!(
                    "the device at {at} has locked this account after failed sign-ins; it unlocks {when}"
                ),
            )
        }
        Error::NotSupported { .. } | Error::HttpStatus { .. } => unprocessable(
            "device.incompatible",
            format!(
                "the device at {at} does not answer ISAPI requests; Siteward manages Hikvision, HiLook and EZVIZ devices"
            ),
        ),
        Error::Malformed { .. }
        | Error::Device { .. }
        | Error::TooLarge { .. }
        | Error::Transport { .. } => {
            tracing::warn!(device = %at, error = %e, "device answered unusably");
            AppError::DeviceFailed {
                code: "device.bad_answer",
                message: format!(
                    "the device at {at} answered in a way Siteward could not read ({e})"
                ),
            }
        }
    }
}
