//! Settings: defaults, then `siteward.toml`, then `SITEWARD_*` variables, then flags
//! (each later source wins).

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use siteward_core::handover::AppVersion;
use std::path::{Path, PathBuf};

/// The keys of [`Settings`], as `SITEWARD_<KEY>` variables name them.
const KEYS: [&str; 14] = [
    "listen",
    "data_dir",
    "database_url",
    "public_url",
    "master_key",
    "log_format",
    "notify_hold_secs",
    "renotify_secs",
    "smtp_url",
    "smtp_from",
    "inspection_interval_secs",
    "min_app_version",
    "invitation_valid_hours",
    "link_silence_secs",
];

/// Settings read from the environment as text, never as numbers.
const TEXT_KEYS: [&str; 1] = ["min_app_version"];

/// Every setting, with its default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address and port to listen on.
    pub listen: String,
    /// Where the SQLite database, the master key and other files live.
    pub data_dir: PathBuf,
    /// `sqlite:PATH` or `postgres://…`; default SQLite at `<data_dir>/siteward.db`.
    pub database_url: Option<String>,
    /// The URL people reach the server at (cookies become `Secure` with https).
    pub public_url: Option<String>,
    /// The master key (base64 of 32 bytes); default read from `<data_dir>/master.key`,
    /// which is created on first start.
    pub master_key: Option<String>,
    /// Log format: `text` or `json`.
    pub log_format: String,
    /// How often every device is inspected, in seconds (at least 10).
    pub inspection_interval_secs: u64,
    /// How long a health change must last before it is notified, in seconds (R-33).
    pub notify_hold_secs: u64,
    /// How often an ongoing problem nobody acknowledged is notified again, in
    /// seconds; 0 never (R-33).
    pub renotify_secs: u64,
    /// The SMTP server for e-mail notifications (`smtp://`, `smtp://…?tls=required`
    /// or `smtps://`, optionally with `user:password@`); none: no e-mail.
    pub smtp_url: Option<String>,
    /// The sender of e-mail notifications.
    pub smtp_from: String,
    /// The oldest end-user app version that handles invitations (R-8); older apps
    /// are told to update when they sign in, and their invitations wait.
    pub min_app_version: AppVersion,
    /// How long an invitation to own a site waits for an answer, in hours (R-8).
    pub invitation_valid_hours: u32,
    /// After how long without a frame a device on the device link is offline, in
    /// seconds (at least 10).
    pub link_silence_secs: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            public_url: None,
            master_key: None,
            log_format: "text".into(),
            inspection_interval_secs: 600,
            notify_hold_secs: 60,
            renotify_secs: 4 * 3600,
            smtp_url: None,
            smtp_from: "Siteward <siteward@localhost>".into(),
            min_app_version: AppVersion::DEFAULT_MINIMUM,
            invitation_valid_hours: 7 * 24,
            link_silence_secs: 60,
        }
    }
}

/// Settings given as flags; only those given override.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overrides {
    /// `--listen`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    /// `--data-dir`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// `--database-url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// `--public-url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
}

impl Settings {
    /// Loads the settings: defaults ← file ← environment ← flags.
    pub fn load(file: Option<&Path>, flags: &Overrides) -> Result<Self, Box<figment::Error>> {
        let file = file.map_or_else(|| PathBuf::from("siteward.toml"), Path::to_path_buf);
        Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(file))
            // Only the settings' own keys: other SITEWARD_* variables belong to others.
            .merge(Env::prefixed("SITEWARD_").only(&KEYS).ignore(&TEXT_KEYS))
            // Versions such as 4.10 are text: read as numbers they would lose digits.
            .merge(
                TEXT_KEYS
                    .iter()
                    .filter_map(|k| {
                        Env::var(&format!("SITEWARD_{}", k.to_uppercase()))
                            .map(|v| Serialized::default(k, v))
                    })
                    .fold(Figment::new(), Figment::merge),
            )
            .merge(Serialized::defaults(flags))
            .extract()
            .map_err(Box::new)
    }

    /// The database URL, defaulting to SQLite in the data directory.
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("siteward.db").display()))
    }
}

/// A URL with its password replaced, for logs and messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// A commented example configuration file (`siteward config example`).
pub const EXAMPLE: &str = r#"# siteward.toml — every key is optional; shown with its default.
# Environment variables SITEWARD_<KEY> override this file; command-line flags
# override both.

# Address and port to listen on.
listen = "127.0.0.1:8080"

# Where the SQLite database, the master key and other files live.
data_dir = "./data"

# The database: embedded SQLite by default (a file in data_dir), or PostgreSQL:
# database_url = "postgres://siteward:secret@db.example/siteward"
# SQLite flushes every commit to disk (power-cut safe); for more throughput at the
# risk of losing the last commits in a power cut:
# database_url = "sqlite:./data/siteward.db?synchronous=normal"

# The URL people reach Siteward at; with https:// cookies are marked Secure.
# public_url = "https://siteward.example.com"

# The master key that encrypts device secrets at rest (base64 of 32 bytes).
# Default: read from data_dir/master.key, created on first start. Back it up.
# master_key = "…"

# Log format: "text" or "json".
log_format = "text"

# How often Siteward inspects every device, in seconds (at least 10). Inspections
# are spread over the interval; devices that stay offline are asked less often.
inspection_interval_secs = 600

# How long a health change must last before people are notified, in seconds
# (flap damping); recoveries are held the same way.
notify_hold_secs = 60

# How often an ongoing problem nobody acknowledged is notified again, in seconds;
# 0 never. Acknowledging a notification stops the reminders for that problem.
renotify_secs = 14400

# E-mail notifications go out through this SMTP server; without it, no e-mail.
# smtp://host:25 (plain), smtp://host:587?tls=required (STARTTLS), smtps://host:465
# (TLS); credentials as smtps://user:password@host:465.
# smtp_url = "smtp://127.0.0.1:25"

# The sender of e-mail notifications.
smtp_from = "Siteward <siteward@localhost>"

# The oldest end-user app version that handles invitations. Apps signing in with
# an older version are told to update; invitations wait for them.
min_app_version = "4.3"

# How long an invitation to own a site waits for the end user's answer, in hours;
# then it expires and the installer may invite again.
invitation_valid_hours = 168

# Devices on the device link (/link/v1) that send nothing for this long, in seconds,
# are offline (at least 10).
link_silence_secs = 60
"#;

#[cfg(test)]
mod tests {
    use super::*;

    /// Precedence: defaults ← file ← environment ← flags.
    #[test]
    #[allow(clippy::result_large_err)] // figment's own error type, in its test jail
    fn precedence() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "siteward.toml",
                "listen = \"0.0.0.0:1\"\ndata_dir = \"/from-file\"\nlog_format = \"json\"",
            )?;
            jail.set_env("SITEWARD_DATA_DIR", "/from-env");
            jail.set_env("SITEWARD_DATABASE_URL", "postgres://u:p@h/db");
            jail.set_env("SITEWARD_SOMETHING_ELSE", "ignored");
            let flags = Overrides {
                database_url: Some("sqlite:/from-flag.db".into()),
                ..Overrides::default()
            };
            let s = Settings::load(None, &flags).map_err(|e| e.to_string())?;
            assert_eq!(s.listen, "0.0.0.0:1", "file beats default");
            assert_eq!(s.data_dir, PathBuf::from("/from-env"), "env beats file");
            assert_eq!(
                s.database_url.as_deref(),
                Some("sqlite:/from-flag.db"),
                "flag beats env"
            );
            assert_eq!(s.log_format, "json");
            assert_eq!(s.public_url, None, "default");
            assert_eq!(s.min_app_version.to_string(), "4.3", "default");
            for v in ["4.5.1", "4.5", "5", "4.10"] {
                jail.set_env("SITEWARD_MIN_APP_VERSION", v);
                let s = Settings::load(None, &flags).map_err(|e| e.to_string())?;
                assert_eq!(s.min_app_version.to_string(), v, "from the environment");
            }
            jail.set_env("SITEWARD_MIN_APP_VERSION", "latest");
            assert!(Settings::load(None, &flags).is_err(), "not a version");
            Ok(())
        });
    }

    #[test]
    fn example_file_is_valid_and_matches_defaults() {
        let parsed: Settings = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::string(EXAMPLE))
            .extract()
            .expect("example parses");
        assert_eq!(parsed, Settings::default());
    }

    #[test]
    fn unknown_keys_are_refused() {
        let r: Result<Settings, _> = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::string("lisen = \"x\""))
            .extract();
        assert!(r.is_err());
    }

    #[test]
    fn default_database_is_sqlite_in_the_data_dir() {
        let s = Settings::default();
        assert_eq!(s.database_url(), "sqlite://./data/siteward.db");
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
    }
}
