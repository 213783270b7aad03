//! Device health: what an inspection observed, normalised across
//! device types, and the one set of rules that turns it into a level and reasons in
//! plain words.
//!
//! The app fills an [`Observation`] from whatever the device answered (ISAPI, the
//! event stream, the device link); [`assess`] decides. Nothing here knows how the
//! facts were gathered.

use crate::compat::DeviceType;
use serde::{Deserialize, Serialize};

/// A device's overall health, from best to worst by [`Level::rank`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Everything observed is fine.
    Normal,
    /// Not yet inspected, or nothing could be read.
    Unknown,
    /// Something needs attention soon (disk nearly full, weak signal, …).
    Warning,
    /// Something is wrong now (disk error, channel offline, battery low, …).
    Abnormal,
    /// The device does not answer.
    Offline,
}

impl Level {
    /// Every level, worst first.
    pub const WORST_FIRST: [Level; 5] = [
        Level::Offline,
        Level::Abnormal,
        Level::Warning,
        Level::Unknown,
        Level::Normal,
    ];

    /// Severity: higher is worse. Lists sort by it, worst first.
    pub fn rank(self) -> u8 {
        match self {
            Level::Normal => 0,
            Level::Unknown => 1,
            Level::Warning => 2,
            Level::Abnormal => 3,
            Level::Offline => 4,
        }
    }

    /// The stable name used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Normal => "normal",
            Level::Unknown => "unknown",
            Level::Warning => "warning",
            Level::Abnormal => "abnormal",
            Level::Offline => "offline",
        }
    }

    /// The name people read.
    pub fn label(self) -> &'static str {
        match self {
            Level::Normal => "Normal",
            Level::Unknown => "Unknown",
            Level::Warning => "Warning",
            Level::Abnormal => "Abnormal",
            Level::Offline => "Offline",
        }
    }
}

impl std::str::FromStr for Level {
    type Err = crate::role::UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Level::WORST_FIRST
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| crate::role::UnknownValue(s.to_owned()))
    }
}

/// The kinds of exception notification rules choose from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Exception {
    /// The device does not answer.
    Offline,
    /// A disk or SD card reports an error, is unformatted, missing or offline.
    HddError,
    /// A disk is (nearly) full and not overwriting.
    HddFull,
    /// S.M.A.R.T. warns or fails.
    Smart,
    /// An NVR's IP channel is offline.
    ChannelOffline,
    /// A channel lost its video.
    VideoLoss,
    /// Recording failed, or old recordings are being overwritten.
    RecordingException,
    /// A battery is low.
    LowBattery,
    /// The network link is lost or weak.
    LinkLost,
    /// Mains power is lost (running on battery).
    MainsPowerLost,
    /// A zone or the device reports tamper.
    Tamper,
    /// The device answers but refuses Siteward's credentials (password changed,
    /// account locked).
    AuthFailed,
}

impl Exception {
    /// Every exception.
    pub const ALL: [Exception; 12] = [
        Exception::Offline,
        Exception::HddError,
        Exception::HddFull,
        Exception::Smart,
        Exception::ChannelOffline,
        Exception::VideoLoss,
        Exception::RecordingException,
        Exception::LowBattery,
        Exception::LinkLost,
        Exception::MainsPowerLost,
        Exception::Tamper,
        Exception::AuthFailed,
    ];

    /// The stable name used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Exception::Offline => "offline",
            Exception::HddError => "hdd_error",
            Exception::HddFull => "hdd_full",
            Exception::Smart => "smart",
            Exception::ChannelOffline => "channel_offline",
            Exception::VideoLoss => "video_loss",
            Exception::RecordingException => "recording_exception",
            Exception::LowBattery => "low_battery",
            Exception::LinkLost => "link_lost",
            Exception::MainsPowerLost => "mains_power_lost",
            Exception::Tamper => "tamper",
            Exception::AuthFailed => "auth_failed",
        }
    }
}

/// One reason for a level, in plain words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    /// A stable code, such as `hdd.smart_failed` or `channel.offline`, unique per
    /// subject within a device (e.g. `hdd.smart_failed:2`).
    pub code: String,
    /// The sentence people read: "HDD 2: S.M.A.R.T. failed".
    pub text: String,
    /// How bad this reason alone is.
    pub level: Level,
    /// The kind of exception, for notification rules.
    pub exception: Exception,
}

/// The verdict on a device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    /// The worst level among the reasons (normal when there are none).
    pub level: Level,
    /// Why, worst first.
    pub reasons: Vec<Reason>,
}

/// The network link type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkType {
    /// Ethernet.
    Wired,
    /// Wi-Fi.
    Wifi,
    /// Mobile network.
    Cellular,
    /// No link.
    Disconnected,
}

/// The network as observed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkObs {
    /// The active link type, when reported.
    pub link_type: Option<LinkType>,
    /// Link speed in Mbit/s, when reported.
    pub speed_mbps: Option<u32>,
    /// Wi-Fi signal strength, 0–100, when reported.
    pub wifi_signal: Option<u8>,
    /// Cellular signal strength, 0–100, when reported.
    pub cellular_signal: Option<u8>,
}

/// Kinds of storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiskKind {
    /// Hard disk.
    Hdd,
    /// SD card.
    Sd,
    /// Network storage.
    Nas,
}

/// A disk's status as devices report it, normalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiskStatus {
    /// Working.
    Ok,
    /// Installed but not formatted.
    Unformatted,
    /// Failing.
    Error,
    /// Asleep (normal for idle disks).
    Idle,
    /// Not matching the recorder's configuration.
    Mismatch,
    /// Configured but not reachable (NAS) or absent.
    Offline,
    /// S.M.A.R.T. failed.
    SmartFailed,
    /// Being repaired or formatted.
    Busy,
    /// Anything else the device said.
    Other,
}

/// S.M.A.R.T. of one HDD.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmartObs {
    /// Temperature in °C.
    pub temperature_c: Option<i32>,
    /// Power-on days.
    pub power_on_days: Option<u32>,
    /// The self-evaluation as reported (`ok`, `fail`, …).
    pub self_evaluation: Option<String>,
    /// The overall evaluation as reported (`functional`, `badSectors`, `fault`, …).
    pub overall: Option<String>,
    /// Raw values of the attributes that matter: (id, raw).
    pub attributes: Vec<(u32, u64)>,
}

/// One disk or card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiskObs {
    /// The device's id for it.
    pub id: u32,
    /// HDD, SD card or NAS.
    pub kind: DiskKind,
    /// Its status.
    pub status: DiskStatus,
    /// Capacity in MiB.
    pub capacity_mb: Option<u64>,
    /// Free space in MiB.
    pub free_mb: Option<u64>,
    /// S.M.A.R.T., where read.
    pub smart: Option<SmartObs>,
}

impl DiskObs {
    /// Used space in percent, rounded down; `None` unless capacity (non-zero) and
    /// free space are both known.
    pub fn usage_pct(&self) -> Option<u8> {
        let capacity = self.capacity_mb.filter(|c| *c > 0)?;
        let free = self.free_mb?.min(capacity);
        let used = u128::from(capacity - free) * 100 / u128::from(capacity);
        u8::try_from(used).ok()
    }

    /// Whether the disk has practically no free space left (at least
    /// [`DISK_FULL_PCT`] used).
    pub fn is_full(&self) -> bool {
        self.usage_pct().is_some_and(|u| u >= DISK_FULL_PCT)
    }
}

/// A disk at or above this usage has practically no space left: devices report a
/// full disk with a few MiB free, so "free == 0" alone would miss some.
pub const DISK_FULL_PCT: u8 = 99;

/// One channel of a recorder (an NVR's IP channel or a DVR's input).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelObs {
    /// Channel number.
    pub id: u32,
    /// Its name.
    pub name: Option<String>,
    /// The camera's address (IP channels).
    pub address: Option<String>,
    /// Whether the camera is connected.
    pub online: bool,
    /// Whether the channel reports video loss.
    pub video_loss: bool,
}

/// Recording as observed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordingObs {
    /// Whether the oldest recordings are overwritten when disks are full.
    pub overwrite_enabled: Option<bool>,
    /// Whether recordings are being overwritten now (full disks, overwrite on).
    pub overwriting: bool,
    /// Recording exceptions reported (by event or status), in the device's words.
    pub exceptions: Vec<String>,
}

/// An area (partition) of a control panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AreaObs {
    /// Area number.
    pub id: u32,
    /// Its name.
    pub name: Option<String>,
    /// Arming state as reported (`disarm`, `away`, `stay`, …).
    pub state: String,
    /// Whether it is in alarm.
    pub alarm: bool,
}

/// A zone of a control panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneObs {
    /// Zone number.
    pub id: u32,
    /// Its name.
    pub name: Option<String>,
    /// Tamper reported.
    pub tamper: bool,
    /// Low battery reported (wireless detectors).
    pub low_battery: bool,
    /// Signal strength 0–100, where reported.
    pub signal: Option<u8>,
    /// Whether the detector is offline.
    pub offline: bool,
}

/// A security control panel as observed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PanelObs {
    /// Battery charge in percent.
    pub battery_pct: Option<u8>,
    /// The panel's own low-battery flag.
    pub low_battery: bool,
    /// Whether mains power is present.
    pub mains_ok: Option<bool>,
    /// Areas with their arming state.
    pub areas: Vec<AreaObs>,
    /// Zones with their state.
    pub zones: Vec<ZoneObs>,
}

/// Everything an inspection learned of one device.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    /// Whether the device answered at all.
    pub reachable: bool,
    /// Whether it was reached but refused our credentials or locked us out.
    pub auth_failed: bool,
    /// Network status.
    pub network: Option<NetworkObs>,
    /// Disks and cards.
    pub storage: Vec<DiskObs>,
    /// Whether storage was read (an empty list then means "no disk").
    pub storage_read: bool,
    /// Recorder channels.
    pub channels: Vec<ChannelObs>,
    /// Recording.
    pub recording: Option<RecordingObs>,
    /// Control panel.
    pub panel: Option<PanelObs>,
    /// Tamper reported by the device itself.
    pub tamper: bool,
}

/// Decides the level and reasons for a device of `device_type` from what was
/// observed. The one place these rules live.
pub fn assess(device_type: DeviceType, obs: &Observation) -> Assessment {
    rules::assess(device_type, obs)
}

mod rules;
