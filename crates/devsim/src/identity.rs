//! Seeded generation of device identities: serials, models, credentials, verification
//! codes, MAC addresses and the hardware each device has. Same seed → same fleet.

use std::collections::HashSet;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::catalog::{self, Model};
use crate::spec::{Brand, DeviceKind, FleetSpec};

/// One recording drive (HDD in a recorder, SD card in a camera/doorbell).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drive {
    /// Drive id (1-based).
    pub id: u32,
    /// Capacity in MiB, as ISAPI reports it.
    pub capacity_mb: u64,
    /// Free space in MiB in the healthy state.
    pub free_mb: u64,
    /// Power-on days reported by SMART.
    pub power_on_days: u32,
    /// Temperature in °C reported by SMART.
    pub temperature: u32,
}

/// An IP camera connected to an NVR channel (`InputProxy`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxiedCamera {
    /// NVR channel number (1-based).
    pub channel: u32,
    /// The camera's model.
    pub model: &'static str,
    /// The camera's long serial number.
    pub serial_number: String,
    /// The camera's (documentary) LAN address behind the NVR.
    pub ip: String,
    /// Firmware string as the NVR reports it.
    pub firmware: String,
}

/// Everything fixed about a simulated device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Short device serial (9 characters for Hikvision-family devices), as on the label and in
    /// Hik-Connect; the key of the control API.
    pub serial: String,
    /// Full `serialNumber` of deviceInfo (model + date + serial).
    pub serial_number: String,
    /// Device kind.
    pub kind: DeviceKind,
    /// Brand.
    pub brand: Brand,
    /// Catalogue model.
    pub model: Model,
    /// Admin user name.
    pub username: String,
    /// Admin password.
    pub password: String,
    /// Verification code (6 upper-case letters on the label).
    pub verification_code: String,
    /// MAC address.
    pub mac: [u8; 6],
    /// `deviceID` (UUID form).
    pub device_id: String,
    /// `deviceName`.
    pub device_name: String,
    /// Site the device belongs to (fleet files).
    pub site: Option<String>,
    /// Whether it runs in link mode (connects out to Siteward's device link).
    pub link: bool,
    /// Digest realm.
    pub realm: String,
    /// UTC offset of the device clock, minutes.
    pub tz_offset_minutes: i32,
    /// Video channel names (cameras: 1; DVRs: every analog input; NVRs: connected IP channels).
    pub channel_names: Vec<String>,
    /// IP cameras behind an NVR.
    pub proxied: Vec<ProxiedCamera>,
    /// Recording drives.
    pub drives: Vec<Drive>,
    /// Enrolled users (access control).
    pub users: u32,
}

impl Identity {
    /// `aa:bb:cc:dd:ee:ff`.
    pub fn mac_string(&self) -> String {
        self.mac
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":")
    }
}

const CHANNEL_NAMES: &[&str] = &[
    "Entrance",
    "Yard",
    "Parking",
    "Gate",
    "Lobby",
    "Warehouse",
    "Office",
    "Garden",
    "Road",
    "Back door",
    "Corridor",
    "Reception",
    "Loading bay",
    "Stairs",
    "Garage",
    "Driveway",
];
const HIK_OUIS: &[[u8; 3]] = &[
    [0x44, 0x19, 0xb6],
    [0xc0, 0x56, 0xe3],
    [0xbc, 0xad, 0x28],
    [0xe0, 0xca, 0x3c],
    [0x24, 0x28, 0xfd],
    [0x54, 0xc4, 0x15],
];
const EZVIZ_OUIS: &[[u8; 3]] = &[[0x34, 0xc6, 0xdd], [0xe0, 0xba, 0xad]];
const AXIS_OUIS: &[[u8; 3]] = &[[0xac, 0xcc, 0x8e], [0x00, 0x40, 0x8c]];
const HDD_SIZES_MB: &[u64] = &[953_869, 1_907_729, 3_815_447, 5_723_166, 7_630_885];
const SD_SIZES_MB: &[u64] = &[30_436, 60_872, 121_844, 237_708];

/// Generates every identity of the fleet, in order.
pub fn generate(spec: &FleetSpec) -> Vec<Identity> {
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let mut serials = HashSet::new();
    let mut out = Vec::new();
    for site in &spec.sites {
        let repeat = site.repeat.max(1);
        for r in 0..repeat {
            let site_name = match (&site.name, repeat) {
                (Some(n), 1) => Some(n.clone()),
                (Some(n), _) => Some(format!("{n}-{}", r + 1)),
                (None, _) => None,
            };
            let brands: &[(Brand, u32)] = if site.brands.is_empty() {
                catalog::DEFAULT_BRANDS
            } else {
                &site.brands
            };
            for &(kind, count) in &site.mix {
                let linked = site.links_of(kind);
                for i in 0..count {
                    let mut id = one(
                        &mut rng,
                        kind,
                        brands,
                        site_name.clone(),
                        site.password.clone(),
                        &mut serials,
                    );
                    id.link = i < linked;
                    out.push(id);
                }
            }
        }
    }
    out
}

fn pick_brand(rng: &mut ChaCha8Rng, kind: DeviceKind, brands: &[(Brand, u32)]) -> Brand {
    if kind == DeviceKind::ThirdParty {
        return Brand::ThirdParty;
    }
    let able: Vec<(Brand, u32)> = brands
        .iter()
        .copied()
        .filter(|(b, w)| *w > 0 && !catalog::models(*b, kind).is_empty())
        .collect();
    let total: u32 = able.iter().map(|(_, w)| w).sum();
    if total == 0 {
        // The chosen brands make no such device: Hikvision makes every kind.
        return Brand::Hikvision;
    }
    let mut x = rng.random_range(0..total);
    for (b, w) in able {
        if x < w {
            return b;
        }
        x -= w;
    }
    Brand::Hikvision
}

fn letters(rng: &mut ChaCha8Rng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'A' + rng.random_range(0..26u8)))
        .collect()
}

fn digits(rng: &mut ChaCha8Rng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

fn hex(rng: &mut ChaCha8Rng, n: usize) -> String {
    (0..n)
        .map(|_| {
            let v = rng.random_range(0..16u8);
            char::from_digit(u32::from(v), 16).unwrap_or('0')
        })
        .collect()
}

fn password(rng: &mut ChaCha8Rng) -> String {
    // Hikvision firmware wants 8–16 characters mixing classes; keep to letters and digits so
    // the password survives shells and URLs.
    const LOWER: &[u8] = b"abcdefghijkmnpqrstuvwxyz";
    const ALNUM: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut p = String::new();
    p.push(char::from(b'A' + rng.random_range(0..26u8)));
    for _ in 0..8 {
        p.push(char::from(ALNUM[rng.random_range(0..ALNUM.len())]));
    }
    p.push(char::from(LOWER[rng.random_range(0..LOWER.len())]));
    p.push_str(&digits(rng, 2));
    p
}

fn one(
    rng: &mut ChaCha8Rng,
    kind: DeviceKind,
    brands: &[(Brand, u32)],
    site: Option<String>,
    fixed_password: Option<String>,
    serials: &mut HashSet<String>,
) -> Identity {
    let brand = pick_brand(rng, kind, brands);
    let models = catalog::models(brand, kind);
    let model = models[rng.random_range(0..models.len())];
    let ouis = match brand {
        Brand::Ezviz => EZVIZ_OUIS,
        Brand::ThirdParty => AXIS_OUIS,
        _ => HIK_OUIS,
    };
    let oui = ouis[rng.random_range(0..ouis.len())];
    let mac = [
        oui[0],
        oui[1],
        oui[2],
        rng.random(),
        rng.random(),
        rng.random(),
    ];
    let serial = loop {
        let s = if brand == Brand::ThirdParty {
            mac.iter().map(|b| format!("{b:02X}")).collect::<String>()
        } else {
            format!("{}{}", letters(rng, 1), digits(rng, 8))
        };
        if serials.insert(s.clone()) {
            break s;
        }
        if brand == Brand::ThirdParty {
            // MAC collision (vanishingly rare): fall back to a random serial.
            let s = format!("ACCC8E{}", hex(rng, 6).to_ascii_uppercase());
            if serials.insert(s.clone()) {
                break s;
            }
        }
    };
    let date = format!(
        "20{:02}{:02}{:02}",
        rng.random_range(19..25u32),
        rng.random_range(1..13u32),
        rng.random_range(1..29u32)
    );
    let serial_number = match kind {
        DeviceKind::ThirdParty => serial.clone(),
        DeviceKind::Nvr | DeviceKind::Dvr => format!("{}{date}CCRR{serial}WCVU", model.name),
        _ => format!("{}{date}AAWR{serial}", model.name),
    };
    let password = match fixed_password {
        Some(p) => {
            let _ = password(rng); // keep the random stream aligned with unfixed fleets
            p
        }
        None => password(rng),
    };
    let verification_code = letters(rng, 6);
    let device_id = format!(
        "{}-{}-{}-{}-{}",
        hex(rng, 8),
        hex(rng, 4),
        hex(rng, 4),
        hex(rng, 4),
        hex(rng, 12)
    );
    let realm = match kind {
        DeviceKind::Ipc | DeviceKind::Doorbell | DeviceKind::ThirdParty => {
            format!("IP Camera({})", digits(rng, 5))
        }
        DeviceKind::AccessControl | DeviceKind::VideoIntercom => format!("DS-{}", hex(rng, 8)),
        _ => hex(rng, 32),
    };
    let tz_offset_minutes = [0, 60, 60, 120, 180][rng.random_range(0..5usize)];
    let name_offset = rng.random_range(0..CHANNEL_NAMES.len());
    let (channel_count, proxied) = match kind {
        DeviceKind::Nvr => {
            let max = model.channels.clamp(1, 8);
            let n = rng.random_range(2.min(max)..=max);
            let cams = catalog::models(Brand::Hikvision, DeviceKind::Ipc);
            let proxied = (1..=n)
                .map(|channel| {
                    let cam = cams[rng.random_range(0..cams.len())];
                    ProxiedCamera {
                        channel,
                        model: cam.name,
                        serial_number: format!(
                            "{}{date}AAWR{}{}",
                            cam.name,
                            letters(rng, 1),
                            digits(rng, 8)
                        ),
                        ip: format!("192.168.254.{}", channel + 1),
                        firmware: format!("{} {}", cam.firmware, cam.build),
                    }
                })
                .collect();
            (n, proxied)
        }
        DeviceKind::Dvr | DeviceKind::Ipc | DeviceKind::ThirdParty => (model.channels, Vec::new()),
        DeviceKind::Doorbell | DeviceKind::VideoIntercom => (model.channels.max(1), Vec::new()),
        _ => (0, Vec::new()),
    };
    let channel_names = (0..channel_count as usize)
        .map(|i| CHANNEL_NAMES[(name_offset + i) % CHANNEL_NAMES.len()].to_string())
        .collect();
    let drives = if kind.is_recorder() {
        let n = rng.random_range(1..=model.drives.max(1));
        (1..=n)
            .map(|id| {
                let capacity_mb = HDD_SIZES_MB[rng.random_range(0..HDD_SIZES_MB.len())];
                let free_pct = rng.random_range(5..60u64);
                Drive {
                    id,
                    capacity_mb,
                    free_mb: capacity_mb * free_pct / 100,
                    power_on_days: rng.random_range(20..1500),
                    temperature: rng.random_range(30..42),
                }
            })
            .collect()
    } else if model.drives > 0 {
        let capacity_mb = SD_SIZES_MB[rng.random_range(0..SD_SIZES_MB.len())];
        let free_pct = rng.random_range(5..90u64);
        vec![Drive {
            id: 1,
            capacity_mb,
            free_mb: capacity_mb * free_pct / 100,
            power_on_days: 0,
            temperature: 0,
        }]
    } else {
        Vec::new()
    };
    let users = if kind == DeviceKind::AccessControl {
        rng.random_range(5..300)
    } else {
        0
    };
    let device_name = match kind {
        DeviceKind::Ipc => "IP CAMERA",
        DeviceKind::Nvr => "Network Video Recorder",
        DeviceKind::Dvr => "Embedded Net DVR",
        DeviceKind::ControlPanel => "AX PRO",
        DeviceKind::AccessControl => "Access Controller",
        DeviceKind::VideoIntercom if model.name.starts_with("DS-KH") => "Indoor Station",
        DeviceKind::VideoIntercom => "Door Station",
        DeviceKind::Doorbell => "Doorbell",
        DeviceKind::ThirdParty => "AXIS Network Camera",
    }
    .to_string();
    Identity {
        serial,
        serial_number,
        kind,
        brand,
        model,
        username: "admin".to_string(),
        password,
        verification_code,
        mac,
        device_id,
        device_name,
        site,
        link: false,
        realm,
        tz_offset_minutes,
        channel_names,
        proxied,
        drives,
        users,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::FleetSpec;

    #[test]
    fn same_seed_same_identities_other_seed_differs() {
        let spec =
            FleetSpec::parse_mix("nvr=3,ipc=5,dvr=2,doorbell=2,third_party=1", 7).expect("mix");
        let a = generate(&spec);
        let b = generate(&spec);
        assert_eq!(a, b);
        let mut other = spec.clone();
        other.seed = 8;
        let c = generate(&other);
        assert_ne!(
            a.iter().map(|i| &i.serial).collect::<Vec<_>>(),
            c.iter().map(|i| &i.serial).collect::<Vec<_>>()
        );
        let serials: HashSet<_> = a.iter().map(|i| i.serial.clone()).collect();
        assert_eq!(serials.len(), a.len());
        for id in &a {
            assert_eq!(id.verification_code.len(), 6);
            assert!(id.password.len() >= 8);
            assert!(id.serial_number.contains(&id.serial));
            if id.kind == DeviceKind::Nvr {
                assert!(!id.proxied.is_empty());
                assert!(!id.drives.is_empty());
            }
        }
        assert_eq!(a.last().map(|i| i.brand), Some(Brand::ThirdParty));
    }
}
