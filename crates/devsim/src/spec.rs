//! What fleet to simulate: device kinds, brands, per-site mixes, the seed and the
//! simulator's timing options, read from a `--mix` string or a TOML/YAML fleet file.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Errors in a fleet description.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// A device type name that the simulator does not know.
    #[error("unknown device type `{0}` (expected one of: {list})", list = DeviceKind::NAMES.join(", "))]
    UnknownKind(String),
    /// A brand name that the simulator does not know.
    #[error("unknown brand `{0}` (expected hikvision, hilook or ezviz)")]
    UnknownBrand(String),
    /// A malformed `--mix` entry.
    #[error("bad mix entry `{0}`: expected type=count, e.g. nvr=2")]
    BadMix(String),
    /// The fleet file could not be read.
    #[error("cannot read fleet file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The fleet file is not valid TOML/YAML for a fleet.
    #[error("invalid fleet file: {0}")]
    Parse(String),
    /// The fleet file has an extension other than .toml, .yaml or .yml.
    #[error("fleet file must end in .toml, .yaml or .yml: {0}")]
    Format(String),
}

/// The kinds of device the simulator plays. The string forms are the product's device types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    /// Network camera.
    Ipc,
    /// Network video recorder with HDDs and IP channels.
    Nvr,
    /// Digital (analog/HD-TVI) video recorder.
    Dvr,
    /// AX Pro security control panel (JSON SecurityCP API, session login).
    ControlPanel,
    /// Access-control terminal.
    AccessControl,
    /// Video intercom (door station or indoor station).
    VideoIntercom,
    /// Video doorbell.
    Doorbell,
    /// A camera of another brand that answers a little ISAPI (for the compatibility check).
    ThirdParty,
}

impl DeviceKind {
    /// All kinds, in the order the simulator generates them.
    pub const ALL: [DeviceKind; 8] = [
        DeviceKind::Nvr,
        DeviceKind::Ipc,
        DeviceKind::Dvr,
        DeviceKind::ControlPanel,
        DeviceKind::AccessControl,
        DeviceKind::VideoIntercom,
        DeviceKind::Doorbell,
        DeviceKind::ThirdParty,
    ];
    const NAMES: [&'static str; 8] = [
        "nvr",
        "ipc",
        "dvr",
        "control_panel",
        "access_control",
        "video_intercom",
        "doorbell",
        "third_party",
    ];

    /// The product's name for this kind (`ipc`, `nvr`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceKind::Ipc => "ipc",
            DeviceKind::Nvr => "nvr",
            DeviceKind::Dvr => "dvr",
            DeviceKind::ControlPanel => "control_panel",
            DeviceKind::AccessControl => "access_control",
            DeviceKind::VideoIntercom => "video_intercom",
            DeviceKind::Doorbell => "doorbell",
            DeviceKind::ThirdParty => "third_party",
        }
    }

    /// Recorders (NVR and DVR) have HDDs, several channels and SMART.
    pub fn is_recorder(self) -> bool {
        matches!(self, DeviceKind::Nvr | DeviceKind::Dvr)
    }

    /// Devices that deliver video (cameras, recorders) and answer the video part of ISAPI.
    pub fn is_video(self) -> bool {
        matches!(self, DeviceKind::Ipc | DeviceKind::Nvr | DeviceKind::Dvr)
    }
}

impl fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DeviceKind {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let k = s.trim().to_ascii_lowercase().replace('-', "_");
        Ok(match k.as_str() {
            "ipc" | "camera" => DeviceKind::Ipc,
            "nvr" => DeviceKind::Nvr,
            "dvr" => DeviceKind::Dvr,
            "control_panel" | "axpro" | "panel" => DeviceKind::ControlPanel,
            "access_control" | "acs" => DeviceKind::AccessControl,
            "video_intercom" | "intercom" => DeviceKind::VideoIntercom,
            "doorbell" => DeviceKind::Doorbell,
            "third_party" => DeviceKind::ThirdParty,
            _ => return Err(SpecError::UnknownKind(s.to_string())),
        })
    }
}

/// The brand on the label. Third-party devices carry another maker's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Brand {
    /// Hikvision (`DS-…`, `iDS-…` models).
    Hikvision,
    /// HiLook, Hikvision's value line (`IPC-…`, `NVR-…`, `DVR-…`).
    HiLook,
    /// EZVIZ, Hikvision's consumer line (`CS-…`).
    Ezviz,
    /// Another maker entirely (the compatibility check's counter-example).
    ThirdParty,
}

impl Brand {
    /// The brand as written on the device list.
    pub fn as_str(self) -> &'static str {
        match self {
            Brand::Hikvision => "Hikvision",
            Brand::HiLook => "HiLook",
            Brand::Ezviz => "EZVIZ",
            Brand::ThirdParty => "Axis",
        }
    }
}

impl fmt::Display for Brand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Brand {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "hikvision" | "hik" => Ok(Brand::Hikvision),
            "hilook" => Ok(Brand::HiLook),
            "ezviz" => Ok(Brand::Ezviz),
            _ => Err(SpecError::UnknownBrand(s.to_string())),
        }
    }
}

/// One site: which devices it has and which brands they are drawn from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteSpec {
    /// Site name (carried into the device list as `site`).
    pub name: Option<String>,
    /// How many devices of each kind, in generation order.
    pub mix: Vec<(DeviceKind, u32)>,
    /// Relative weights of the brands to draw from; empty = the default (mostly Hikvision).
    pub brands: Vec<(Brand, u32)>,
    /// Repeat this site so many times (sites named `name-1`, `name-2`, …); 1 = once.
    pub repeat: u32,
    /// A fixed admin password for all devices of the site instead of generated ones.
    pub password: Option<String>,
    /// How many devices of each kind (the first ones generated) run in link mode:
    /// with the cloud client built in, connecting out to Siteward's device link.
    pub link: Vec<(DeviceKind, u32)>,
}

impl SiteSpec {
    /// A site with the given mix, default brands, not repeated.
    pub fn with_mix(mix: Vec<(DeviceKind, u32)>) -> Self {
        SiteSpec {
            name: None,
            mix,
            brands: Vec::new(),
            repeat: 1,
            password: None,
            link: Vec::new(),
        }
    }

    /// How many devices of `kind` run in link mode.
    pub fn links_of(&self, kind: DeviceKind) -> u32 {
        self.link
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, n)| *n)
            .sum()
    }
}

/// Timing and policy knobs of the simulated firmware.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimOptions {
    /// Interval of the `videoloss inactive` heartbeat on alert streams.
    pub heartbeat: Duration,
    /// How long a digest nonce stays fresh; older nonces get a `stale=TRUE` re-challenge.
    pub nonce_ttl: Duration,
    /// Wrong passwords in a row before the `lockout` fault locks the account (default).
    pub lockout_attempts: u32,
    /// How long the lock lasts (default of the `lockout` fault).
    pub lockout_duration: Duration,
    /// How long a device stays unreachable after `PUT /System/reboot`.
    pub reboot_downtime: Duration,
    /// How long a pressed doorbell keeps ringing (`callStatus` = `ring`).
    pub ring_duration: Duration,
    /// Older-NVR quirk: alert-stream parts of NVRs with older firmware come in
    /// `urn:psialliance-org` with `channelID` = 32 + IP channel and `Extensions`
    /// (as their pushes do, isapi.md §2). Off by default: pyHik-style clients that match
    /// channels to `Event/triggers` miss such events, as they do on those real NVRs.
    pub nvr_psia_quirk: bool,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            heartbeat: Duration::from_secs(10),
            nonce_ttl: Duration::from_secs(300),
            lockout_attempts: 5,
            lockout_duration: Duration::from_secs(1800),
            reboot_downtime: Duration::from_secs(3),
            ring_duration: Duration::from_secs(30),
            nvr_psia_quirk: false,
        }
    }
}

/// A whole fleet: sites, seed and options. Same seed and sites → same serials, models,
/// passwords and verification codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetSpec {
    /// Seed of every generated identity.
    pub seed: u64,
    /// The sites, in generation order.
    pub sites: Vec<SiteSpec>,
    /// Firmware timing/policy knobs.
    pub options: SimOptions,
}

impl FleetSpec {
    /// One unnamed site with the given mix.
    pub fn from_mix(mix: Vec<(DeviceKind, u32)>, seed: u64) -> Self {
        FleetSpec {
            seed,
            sites: vec![SiteSpec::with_mix(mix)],
            options: SimOptions::default(),
        }
    }

    /// Parses the CLI form `nvr=2,ipc=3,…` into one unnamed site.
    pub fn parse_mix(mix: &str, seed: u64) -> Result<Self, SpecError> {
        Ok(Self::from_mix(parse_mix(mix)?, seed))
    }

    /// Reads a fleet file; the format follows the extension (.toml, .yaml, .yml).
    pub fn from_file(path: &Path) -> Result<Self, SpecError> {
        let text = std::fs::read_to_string(path).map_err(|source| SpecError::Io {
            path: path.display().to_string(),
            source,
        })?;
        match path.extension().and_then(|e| e.to_str()) {
            Some("toml") => Self::from_toml_str(&text),
            Some("yaml" | "yml") => Self::from_yaml_str(&text),
            _ => Err(SpecError::Format(path.display().to_string())),
        }
    }

    /// Parses a TOML fleet description (see [`FleetFile`]).
    pub fn from_toml_str(text: &str) -> Result<Self, SpecError> {
        let file: FleetFile = toml::from_str(text).map_err(|e| SpecError::Parse(e.to_string()))?;
        file.into_spec()
    }

    /// Parses a YAML fleet description (same fields as TOML).
    pub fn from_yaml_str(text: &str) -> Result<Self, SpecError> {
        let file: FleetFile =
            serde_yaml_ng::from_str(text).map_err(|e| SpecError::Parse(e.to_string()))?;
        file.into_spec()
    }

    /// Total number of devices the spec describes.
    pub fn device_count(&self) -> u64 {
        self.sites
            .iter()
            .map(|s| {
                u64::from(s.repeat.max(1)) * s.mix.iter().map(|(_, n)| u64::from(*n)).sum::<u64>()
            })
            .sum()
    }
}

/// Parses `nvr=2,ipc=3` (order kept; repeated kinds add up in place).
pub fn parse_mix(mix: &str) -> Result<Vec<(DeviceKind, u32)>, SpecError> {
    let mut out: Vec<(DeviceKind, u32)> = Vec::new();
    for part in mix.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, n) = part
            .split_once('=')
            .ok_or_else(|| SpecError::BadMix(part.to_string()))?;
        let kind: DeviceKind = k.parse()?;
        let n: u32 = n
            .trim()
            .parse()
            .map_err(|_| SpecError::BadMix(part.to_string()))?;
        match out.iter_mut().find(|(k, _)| *k == kind) {
            Some(entry) => entry.1 += n,
            None => out.push((kind, n)),
        }
    }
    Ok(out)
}

/// The fleet file as written by people (TOML or YAML).
///
/// ```toml
/// seed = 7
/// heartbeat_seconds = 10      # optional timing knobs
/// [[sites]]
/// name = "Warehouse"
/// mix = { nvr = 1, ipc = 8, control_panel = 1 }
/// brands = { hikvision = 3, hilook = 1 }   # optional weights
/// repeat = 1                               # optional: that many sites alike
/// password = "Demo12345"                   # optional fixed password
/// link = { ipc = 2 }                       # optional: devices in link mode
/// ```
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetFile {
    /// Seed (default 1).
    #[serde(default)]
    pub seed: Option<u64>,
    /// Heartbeat interval in seconds.
    #[serde(default)]
    pub heartbeat_seconds: Option<f64>,
    /// Nonce lifetime in seconds.
    #[serde(default)]
    pub nonce_ttl_seconds: Option<f64>,
    /// Wrong passwords before lock.
    #[serde(default)]
    pub lockout_attempts: Option<u32>,
    /// Lock duration in seconds.
    #[serde(default)]
    pub lockout_seconds: Option<f64>,
    /// Reboot downtime in seconds.
    #[serde(default)]
    pub reboot_seconds: Option<f64>,
    /// Older-NVR alert-stream quirk (see [`SimOptions::nvr_psia_quirk`]).
    #[serde(default)]
    pub nvr_psia_quirk: Option<bool>,
    /// The sites.
    #[serde(default, alias = "site")]
    pub sites: Vec<SiteFile>,
}

/// One site in a fleet file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteFile {
    /// Site name.
    #[serde(default)]
    pub name: Option<String>,
    /// Device counts per type.
    pub mix: BTreeMap<String, u32>,
    /// Brand weights.
    #[serde(default)]
    pub brands: BTreeMap<String, u32>,
    /// Repeat count.
    #[serde(default)]
    pub repeat: Option<u32>,
    /// Fixed password.
    #[serde(default)]
    pub password: Option<String>,
    /// Devices per type in link mode (the first of their type).
    #[serde(default)]
    pub link: BTreeMap<String, u32>,
}

impl FleetFile {
    fn into_spec(self) -> Result<FleetSpec, SpecError> {
        let mut options = SimOptions::default();
        let secs = |v: f64| Duration::from_secs_f64(v.max(0.0));
        if let Some(v) = self.heartbeat_seconds {
            options.heartbeat = secs(v);
        }
        if let Some(v) = self.nonce_ttl_seconds {
            options.nonce_ttl = secs(v);
        }
        if let Some(v) = self.lockout_attempts {
            options.lockout_attempts = v.max(1);
        }
        if let Some(v) = self.lockout_seconds {
            options.lockout_duration = secs(v);
        }
        if let Some(v) = self.reboot_seconds {
            options.reboot_downtime = secs(v);
        }
        if let Some(v) = self.nvr_psia_quirk {
            options.nvr_psia_quirk = v;
        }
        let mut sites = Vec::with_capacity(self.sites.len());
        for site in self.sites {
            let mut mix: Vec<(DeviceKind, u32)> = Vec::new();
            for (k, n) in site.mix {
                mix.push((k.parse()?, n));
            }
            // Generation order follows DeviceKind::ALL so that files are order-independent.
            mix.sort_by_key(|(k, _)| DeviceKind::ALL.iter().position(|a| a == k));
            let mut brands = Vec::new();
            for (b, w) in site.brands {
                brands.push((b.parse()?, w));
            }
            let mut link = Vec::new();
            for (k, n) in site.link {
                link.push((k.parse()?, n));
            }
            sites.push(SiteSpec {
                name: site.name,
                mix,
                brands,
                repeat: site.repeat.unwrap_or(1).max(1),
                password: site.password,
                link,
            });
        }
        Ok(FleetSpec {
            seed: self.seed.unwrap_or(1),
            sites,
            options,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fleet_files_say_which_devices_run_in_link_mode() {
        let spec = FleetSpec::from_toml_str(
            "seed = 3\n[[sites]]\nmix = { ipc = 3, nvr = 1 }\nlink = { ipc = 2 }\n",
        )
        .expect("toml");
        assert_eq!(spec.sites[0].links_of(DeviceKind::Ipc), 2);
        assert_eq!(spec.sites[0].links_of(DeviceKind::Nvr), 0);
        let ids = crate::identity::generate(&spec);
        let linked: Vec<(DeviceKind, bool)> = ids.iter().map(|i| (i.kind, i.link)).collect();
        assert_eq!(
            linked
                .iter()
                .filter(|(k, l)| *k == DeviceKind::Ipc && *l)
                .count(),
            2
        );
        assert!(linked.iter().all(|(k, l)| *k == DeviceKind::Ipc || !l));
        assert!(
            FleetSpec::from_toml_str("[[sites]]\nmix = { ipc = 1 }\nlink = { toaster = 1 }\n")
                .is_err()
        );
    }

    #[test]
    fn mix_parses_and_merges() {
        let mix = parse_mix("nvr=2, ipc=3,nvr=1,third_party=1").expect("mix");
        assert_eq!(
            mix,
            vec![
                (DeviceKind::Nvr, 3),
                (DeviceKind::Ipc, 3),
                (DeviceKind::ThirdParty, 1)
            ]
        );
        assert!(parse_mix("nvr").is_err());
        assert!(parse_mix("toaster=1").is_err());
        assert!(parse_mix("nvr=x").is_err());
    }

    #[test]
    fn toml_and_yaml_agree() {
        let toml = r#"
seed = 9
heartbeat_seconds = 0.5
[[sites]]
name = "Depot"
mix = { ipc = 2, nvr = 1 }
brands = { hilook = 1 }
repeat = 2
"#;
        let yaml = "seed: 9\nheartbeat_seconds: 0.5\nsites:\n  - name: Depot\n    mix: {ipc: 2, nvr: 1}\n    brands: {hilook: 1}\n    repeat: 2\n";
        let a = FleetSpec::from_toml_str(toml).expect("toml");
        let b = FleetSpec::from_yaml_str(yaml).expect("yaml");
        assert_eq!(a, b);
        assert_eq!(a.seed, 9);
        assert_eq!(a.options.heartbeat, Duration::from_millis(500));
        assert_eq!(
            a.sites[0].mix,
            vec![(DeviceKind::Nvr, 1), (DeviceKind::Ipc, 2)]
        );
        assert_eq!(a.sites[0].brands, vec![(Brand::HiLook, 1)]);
        assert_eq!(a.device_count(), 6);
        assert!(FleetSpec::from_toml_str("seed = 1\n[[sites]]\nmix = { fridge = 1 }\n").is_err());
        assert!(FleetSpec::from_toml_str("colour = 1\n").is_err());
    }
}
