//! The bridge's configuration: a TOML file naming the Siteward server, the spool
//! directory, and the LAN devices served (each with its own serial number and
//! verification code, as on its label, and the address and account the bridge
//! uses to reach it). Every problem is reported at once, by its place in the file.

use serde::Deserialize;
use siteward_link::backoff::Backoff;
use siteward_link::frame::{self, MAX_DEVICES_PER_LINK};
use siteward_link::proof::normalize_code;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// Not TOML, or a key of the wrong type, or a key the bridge does not know.
    #[error("{0}")]
    Syntax(String),
    /// Values that do not fit, one line each.
    #[error("the configuration has {} problem(s):\n  - {}", .0.len(), .0.join("\n  - "))]
    Invalid(Vec<String>),
}

/// How the bridge signs in to a LAN device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Auth {
    /// HTTP digest (or Basic when that is all the device offers): cameras, NVRs,
    /// access control, intercoms.
    Digest,
    /// Web session login: AX Pro / AX Hub alarm panels.
    Session,
}

/// One LAN device the bridge serves.
#[derive(Clone)]
pub struct DeviceConfig {
    /// Serial number, as the installer types it in Siteward.
    pub serial: String,
    /// The verification code from the device's label (never sent anywhere).
    pub verification_code: String,
    /// `http://host:port` or `https://host:port`.
    pub base_url: String,
    /// Accept the device's self-signed certificate (HTTPS only).
    pub accept_invalid_certs: bool,
    /// User name on the device.
    pub username: String,
    /// Password on the device.
    pub password: String,
    /// How to sign in.
    pub auth: Auth,
    /// A hint of its type for the server (`ipc`, `nvr`, …).
    pub device_type: Option<String>,
}

impl std::fmt::Debug for DeviceConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceConfig")
            .field("serial", &self.serial)
            .field("verification_code", &"<redacted>")
            .field("base_url", &self.base_url)
            .field("accept_invalid_certs", &self.accept_invalid_certs)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("auth", &self.auth)
            .field("device_type", &self.device_type)
            .finish()
    }
}

/// A checked configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The link endpoint: `wss://host[:port]/link/v1` (or `ws://` for a server without TLS).
    pub url: String,
    /// Where events wait, on disk, until the server has stored them.
    pub spool_dir: PathBuf,
    /// The devices served.
    pub devices: Vec<DeviceConfig>,
    /// Reconnect back-off of the link (the protocol's: 1 s doubling up to 60 s).
    pub backoff: Backoff,
    /// Reopening a device's alert stream: the same shape, per device.
    pub stream_backoff: Backoff,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    url: String,
    spool_dir: PathBuf,
    #[serde(default)]
    devices: Vec<RawDevice>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDevice {
    serial: String,
    verification_code: String,
    address: String,
    username: String,
    password: String,
    #[serde(default)]
    https: bool,
    #[serde(default)]
    accept_invalid_certs: Option<bool>,
    #[serde(default)]
    auth: Option<Auth>,
    #[serde(default)]
    device_type: Option<String>,
}

impl Config {
    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text).map_err(|e| match e {
            ConfigError::Syntax(m) => ConfigError::Syntax(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    /// Checks a configuration given as TOML text.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let raw: RawConfig =
            toml::from_str(text).map_err(|e| ConfigError::Syntax(e.to_string().trim().into()))?;
        let mut problems = Vec::new();
        let url = match link_url(&raw.url) {
            Ok(u) => u,
            Err(why) => {
                problems.push(format!("url: {why}"));
                String::new()
            }
        };
        if raw.spool_dir.as_os_str().is_empty() {
            problems.push("spool_dir: must name a directory the bridge may write".into());
        }
        if raw.devices.is_empty() {
            problems.push("devices: add at least one [[devices]] entry".into());
        }
        if raw.devices.len() > MAX_DEVICES_PER_LINK {
            problems.push(format!(
                "devices: at most {MAX_DEVICES_PER_LINK} devices per bridge ({} given)",
                raw.devices.len()
            ));
        }
        let mut seen = HashSet::new();
        let mut devices = Vec::with_capacity(raw.devices.len());
        for (i, d) in raw.devices.into_iter().enumerate() {
            let at = |field: &str| format!("devices[{i}].{field}");
            let serial = d.serial.trim().to_owned();
            if !frame::valid_serial(&serial) {
                problems.push(format!(
                    "{}: the serial number from the device's label (1 to 64 characters)",
                    at("serial")
                ));
            } else if !seen.insert(serial.clone()) {
                problems.push(format!("{}: {serial} is listed twice", at("serial")));
            }
            let code = normalize_code(&d.verification_code);
            if code.len() < 6 || code.len() > 32 || !code.chars().all(|c| c.is_ascii_alphanumeric())
            {
                problems.push(format!(
                    "{}: must be the 6 to 32 letters and digits on the device's label",
                    at("verification_code")
                ));
            }
            let base_url = match device_base_url(&d.address, d.https) {
                Ok(u) => u,
                Err(why) => {
                    problems.push(format!("{}: {why}", at("address")));
                    String::new()
                }
            };
            if d.username.trim().is_empty() {
                problems.push(format!(
                    "{}: the account the bridge signs in with",
                    at("username")
                ));
            }
            if d.password.is_empty() {
                problems.push(format!(
                    "{}: the password of that account (devices refuse empty ones)",
                    at("password")
                ));
            }
            if d.accept_invalid_certs.is_some() && !d.https {
                problems.push(format!(
                    "{}: only applies with https = true",
                    at("accept_invalid_certs")
                ));
            }
            devices.push(DeviceConfig {
                serial,
                verification_code: code,
                base_url,
                // Devices ship self-signed certificates.
                accept_invalid_certs: d.accept_invalid_certs.unwrap_or(true),
                username: d.username.trim().to_owned(),
                password: d.password,
                auth: d.auth.unwrap_or(Auth::Digest),
                device_type: d.device_type.filter(|t| !t.trim().is_empty()),
            });
        }
        if !problems.is_empty() {
            return Err(ConfigError::Invalid(problems));
        }
        Ok(Self {
            url,
            spool_dir: raw.spool_dir,
            devices,
            backoff: Backoff::default(),
            stream_backoff: Backoff::default(),
        })
    }
}

/// The link endpoint from what the installer wrote: `wss://…` or `ws://…` as it is;
/// `https://…`/`http://…` become `wss://…`/`ws://…`; a URL without a path gets
/// `/link/v1`.
pub fn link_url(given: &str) -> Result<String, String> {
    let given = given.trim();
    let Some((scheme, rest)) = given.split_once("://") else {
        return Err("must start with wss:// (or https://, ws://, http://)".into());
    };
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "wss" | "https" => "wss",
        "ws" | "http" => "ws",
        other => return Err(format!("scheme {other:?} is not wss, ws, https or http")),
    };
    if rest.chars().any(|c| c.is_whitespace() || c.is_control()) || rest.contains(['?', '#']) {
        return Err("must not contain spaces, a query or a fragment".into());
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    if authority.is_empty() || authority.contains('@') {
        return Err("must name the server's host (without user or password)".into());
    }
    let path = match path.trim_end_matches('/') {
        "" => frame::PATH,
        p => p,
    };
    Ok(format!("{scheme}://{authority}{path}"))
}

/// `http(s)://host:port` from `host`, `host:port` or `[v6]:port`.
fn device_base_url(address: &str, https: bool) -> Result<String, String> {
    let address = address.trim();
    let (host, port) = if let Some(rest) = address.strip_prefix('[') {
        let Some((host, after)) = rest.split_once(']') else {
            return Err("an IPv6 address needs its closing ]".into());
        };
        match after.strip_prefix(':') {
            Some(p) => (format!("[{host}]"), Some(p)),
            None if after.is_empty() => (format!("[{host}]"), None),
            None => return Err("expected host:port".into()),
        }
    } else {
        match address.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), Some(p)),
            None => (address.to_owned(), None),
        }
    };
    let bad_host = host.is_empty()
        || host.contains(':') && !host.starts_with('[')
        || host
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "/?#@\\".contains(c));
    if bad_host {
        return Err(format!(
            "{address:?} is not host:port (e.g. 192.168.1.64:80)"
        ));
    }
    let port = match port {
        None => {
            if https {
                443
            } else {
                80
            }
        }
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => n,
            _ => return Err(format!("port {p:?} is not a number from 1 to 65535")),
        },
    };
    let scheme = if https { "https" } else { "http" };
    Ok(format!("{scheme}://{host}:{port}"))
}

/// An example configuration, as `siteward-bridge --example` prints it.
pub const EXAMPLE: &str = r#"# siteward-bridge.toml
# The Siteward server (https:// is turned into wss://…/link/v1).
url = "wss://siteward.example.com/link/v1"
# Events wait here until the server has stored them (kept across restarts).
spool_dir = "/var/lib/siteward-bridge"

# One entry per device on this network. Add each in Siteward by its serial
# number and verification code, as printed on its label.
[[devices]]
serial = "DS-2CD2143G2-I20230101AAWRJ12345678"
verification_code = "ABCDEF"
address = "192.168.1.64:80"      # host:port on this network
username = "admin"
password = "device password"
# https = false                  # true: HTTPS (self-signed certificates accepted)
# accept_invalid_certs = true    # with https: false to require a valid certificate
# auth = "digest"                # "session" for AX Pro / AX Hub alarm panels
# device_type = "ipc"            # a hint for the server: ipc, nvr, …
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn one(device: &str) -> String {
        format!("url = \"https://sw.example\"\nspool_dir = \"/tmp/s\"\n[[devices]]\n{device}\n")
    }

    const GOOD: &str = "serial = \"CAM1\"\nverification_code = \"abc def\"\naddress = \"10.0.0.5:8080\"\nusername = \"admin\"\npassword = \"pw\"";

    #[test]
    fn a_good_file_reads_and_normalizes() {
        let c = Config::parse(&one(GOOD)).expect("valid");
        assert_eq!(c.url, "wss://sw.example/link/v1");
        let d = &c.devices[0];
        assert_eq!(
            (
                d.serial.as_str(),
                d.verification_code.as_str(),
                d.base_url.as_str()
            ),
            ("CAM1", "ABCDEF", "http://10.0.0.5:8080")
        );
        assert_eq!(d.auth, Auth::Digest);
        assert!(!format!("{d:?}").contains("\"pw\""), "password redacted");
        assert!(Config::parse(EXAMPLE).is_ok(), "the example is valid");
    }

    #[test]
    fn urls_become_link_endpoints() {
        for (given, want) in [
            ("wss://h/link/v1", "wss://h/link/v1"),
            ("https://h:8443", "wss://h:8443/link/v1"),
            ("http://127.0.0.1:80/", "ws://127.0.0.1:80/link/v1"),
            ("ws://h/custom/path", "ws://h/custom/path"),
        ] {
            assert_eq!(link_url(given).as_deref(), Ok(want), "{given}");
        }
        for bad in ["h/link", "ftp://h", "wss://", "wss://u:p@h", "wss://h/?x=1"] {
            assert!(link_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn addresses_take_a_default_port_and_refuse_junk() {
        assert_eq!(
            device_base_url("cam.lan", false).as_deref(),
            Ok("http://cam.lan:80")
        );
        assert_eq!(
            device_base_url("10.0.0.9", true).as_deref(),
            Ok("https://10.0.0.9:443")
        );
        assert_eq!(
            device_base_url("[fe80::1]:81", false).as_deref(),
            Ok("http://[fe80::1]:81")
        );
        for bad in [
            "", "h:0", "h:99999", "h:x", "a b:80", "h/x:80", "fe80::1", "[::1",
        ] {
            assert!(device_base_url(bad, false).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn every_problem_is_named_by_its_place() {
        let text = "url = \"gopher://x\"\nspool_dir = \"\"\n\
            [[devices]]\nserial = \"\"\nverification_code = \"12\"\naddress = \"h:0\"\nusername = \" \"\npassword = \"\"\naccept_invalid_certs = false\n\
            [[devices]]\nserial = \"A\"\nverification_code = \"ABCDEF\"\naddress = \"h\"\nusername = \"u\"\npassword = \"p\"\n\
            [[devices]]\nserial = \"A\"\nverification_code = \"ABCDEF\"\naddress = \"h\"\nusername = \"u\"\npassword = \"p\"\n";
        let Err(ConfigError::Invalid(problems)) = Config::parse(text) else {
            panic!("invalid expected")
        };
        let joined = problems.join("\n");
        for place in [
            "url:",
            "spool_dir:",
            "devices[0].serial:",
            "devices[0].verification_code:",
            "devices[0].address:",
            "devices[0].username:",
            "devices[0].password:",
            "devices[0].accept_invalid_certs:",
            "devices[2].serial: A is listed twice",
        ] {
            assert!(joined.contains(place), "{place} missing in:\n{joined}");
        }
        assert_eq!(problems.len(), 9, "{joined}");
    }

    #[test]
    fn unknown_keys_and_no_devices_are_refused() {
        let typo = one(&format!("{GOOD}\npasword = \"x\""));
        let Err(ConfigError::Syntax(m)) = Config::parse(&typo) else {
            panic!("a typo is refused")
        };
        assert!(m.contains("pasword"), "{m}");
        let none = "url = \"wss://h\"\nspool_dir = \"/s\"\n";
        assert!(
            matches!(Config::parse(none), Err(ConfigError::Invalid(p)) if p[0].starts_with("devices:"))
        );
    }
}
