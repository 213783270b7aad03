//! Observing devices over real HTTP with digest auth against the device simulator:
//! for every device type, a healthy device is Normal; each fault the simulator offers
//! for that type gives the expected level and reasons within one inspection; clearing
//! it gives Normal again. A wrong password gives "sign-in refused".

use std::time::Duration;

use siteward_app::observe::observe;
use siteward_core::DeviceType;
use siteward_core::health::{Assessment, Level, LinkType, Observation, assess};
use siteward_devsim::{
    DeviceHandle, DeviceKind, Fault, FaultError, Fleet, FleetSpec, LinkType as SimLink, OfflineMode,
};
use siteward_isapi::{Client, Credentials, HttpConfig};

const MIX: &str = "nvr=1,ipc=1,dvr=1,control_panel=1,access_control=1,video_intercom=1,doorbell=1";

/// The first seed whose fleet has the hardware every fault needs: an SD card in the
/// camera and the doorbell, at least two channels on the recorders.
fn seed() -> u64 {
    (1..500)
        .find(|&seed| {
            let spec = FleetSpec::parse_mix(MIX, seed).expect("mix parses");
            siteward_devsim::identity::generate(&spec)
                .iter()
                .all(|id| match id.kind {
                    DeviceKind::Ipc | DeviceKind::Doorbell => !id.drives.is_empty(),
                    DeviceKind::Nvr => id.proxied.len() >= 2,
                    DeviceKind::Dvr => id.channel_names.len() >= 2,
                    _ => true,
                })
        })
        .expect("some seed gives a fleet with SD cards and channels")
}

/// A fleet of one device per type and the device of `kind`.
async fn device(kind: DeviceKind) -> (Fleet, DeviceHandle) {
    let spec = FleetSpec::parse_mix(MIX, seed()).expect("mix parses");
    let fleet = Fleet::start(spec).await.expect("fleet starts");
    let info = fleet
        .devices()
        .into_iter()
        .find(|d| d.kind == kind)
        .expect("the mix has this type");
    let handle = fleet.device(&info.serial).expect("device by serial");
    (fleet, handle)
}

/// A client as the inspector builds one, with short timeouts so silent devices
/// fail fast.
fn client(handle: &DeviceHandle, password: Option<&str>) -> Client {
    let info = handle.info();
    let mut config = HttpConfig::new(format!("http://{}", info.address));
    config.connect_timeout = Duration::from_secs(1);
    config.request_timeout = Duration::from_secs(2);
    Client::http(
        config,
        Credentials::new(info.username, password.unwrap_or(&info.password)),
    )
    .expect("client builds")
}

fn device_type(kind: DeviceKind) -> DeviceType {
    kind.as_str()
        .parse()
        .expect("simulator kinds are product types")
}

async fn inspect(client: &Client, t: DeviceType) -> (Observation, Assessment) {
    let obs = observe(client, t).await;
    let verdict = assess(t, &obs);
    (obs, verdict)
}

/// (level, code, text) of one reason; the text is checked when not empty.
type Want = (Level, String, String);

fn want(level: Level, code: impl Into<String>, text: impl Into<String>) -> Want {
    (level, code.into(), text.into())
}

fn check(what: &str, verdict: &Assessment, level: Level, reasons: &[Want]) {
    let got: Vec<(Level, &str, &str)> = verdict
        .reasons
        .iter()
        .map(|r| (r.level, r.code.as_str(), r.text.as_str()))
        .collect();
    assert_eq!(verdict.level, level, "{what}: level; reasons {got:?}");
    assert_eq!(
        got.len(),
        reasons.len(),
        "{what}: reasons {got:?}, want {reasons:?}"
    );
    for ((gl, gc, gt), (wl, wc, wt)) in got.iter().zip(reasons) {
        assert_eq!((gl, *gc), (wl, wc.as_str()), "{what}: reasons {got:?}");
        if !wt.is_empty() {
            assert_eq!(*gt, wt.as_str(), "{what}: text of {wc}");
        }
    }
}

/// Waits until the simulator has re-opened the device's port after an `offline`
/// fault (it re-binds in the background); a real device is inspected again minutes
/// later, not within the same millisecond.
async fn listening(handle: &DeviceHandle) {
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(handle.addr()).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{} did not come back", handle.info().kind);
}

/// Healthy, then for each fault: set it, one inspection shows it, clear it, one
/// inspection shows Normal again.
/// Returns what each faulty inspection observed.
async fn run(
    handle: &DeviceHandle,
    steps: Vec<(Fault, Level, Vec<Want>)>,
) -> Vec<(Fault, Observation)> {
    let kind = handle.info().kind;
    let t = device_type(kind);
    let c = client(handle, None);
    let (_, healthy) = inspect(&c, t).await;
    check(&format!("{kind} healthy"), &healthy, Level::Normal, &[]);
    let mut seen = Vec::new();
    for (fault, level, reasons) in steps {
        let what = format!("{kind} {:?}", fault);
        let fault_kind = fault.kind();
        handle.set_fault(fault.clone()).expect("fault applies");
        let (obs, verdict) = inspect(&c, t).await;
        check(&what, &verdict, level, &reasons);
        seen.push((fault, obs));
        handle.clear_fault(fault_kind);
        listening(handle).await;
        let (_, after) = inspect(&c, t).await;
        check(&format!("{what} cleared"), &after, Level::Normal, &[]);
    }
    seen
}

/// What the inspection under `fault` observed.
fn observed<'a>(seen: &'a [(Fault, Observation)], fault: &Fault) -> &'a Observation {
    &seen
        .iter()
        .find(|(f, _)| f == fault)
        .expect("this fault was inspected")
        .1
}

/// The faults every type shares: link types, no link, the device gone.
fn network_steps() -> Vec<(Fault, Level, Vec<Want>)> {
    let offline = || vec![want(Level::Offline, "device.offline", "Not answering")];
    vec![
        (Fault::Link(SimLink::Wired), Level::Normal, vec![]),
        (Fault::Link(SimLink::Wifi), Level::Normal, vec![]),
        (Fault::Link(SimLink::Cellular), Level::Normal, vec![]),
        (
            Fault::Link(SimLink::Disconnected),
            Level::Offline,
            offline(),
        ),
        (
            Fault::Offline(OfflineMode::Refused),
            Level::Offline,
            offline(),
        ),
        (
            Fault::Offline(OfflineMode::NoAnswer),
            Level::Offline,
            offline(),
        ),
    ]
}

fn not_applicable(handle: &DeviceHandle, faults: &[Fault]) {
    for f in faults {
        assert!(
            matches!(
                handle.set_fault(f.clone()),
                Err(FaultError::NotApplicable { .. })
            ),
            "{:?} should not apply to a {}",
            f,
            handle.info().kind
        );
    }
}

fn drive_ids(handle: &DeviceHandle) -> Vec<u32> {
    handle.identity().drives.iter().map(|d| d.id).collect()
}

/// The reasons of a recorder's storage faults, on drive 1 (the simulator's choice)
/// or on every drive.
fn recorder_storage_steps(handle: &DeviceHandle) -> Vec<(Fault, Level, Vec<Want>)> {
    let full = drive_ids(handle)
        .into_iter()
        .map(|id| {
            want(
                Level::Abnormal,
                format!("hdd.full:{id}"),
                format!("HDD {id}: full (100 %), overwrite off"),
            )
        })
        .collect();
    vec![
        (
            Fault::HddError,
            Level::Abnormal,
            vec![want(Level::Abnormal, "hdd.error:1", "HDD 1: error")],
        ),
        (
            Fault::HddUnformatted,
            Level::Abnormal,
            vec![want(
                Level::Abnormal,
                "hdd.unformatted:1",
                "HDD 1: unformatted",
            )],
        ),
        (Fault::HddFull, Level::Abnormal, full),
        (
            Fault::SmartWarning,
            Level::Abnormal,
            vec![
                want(
                    Level::Abnormal,
                    "hdd.smart_failed:1",
                    "HDD 1: S.M.A.R.T. failed",
                ),
                want(Level::Warning, "hdd.hot:1", "HDD 1: hot (61 °C)"),
                want(Level::Warning, "hdd.pending:1", "HDD 1: 24 pending sectors"),
                want(
                    Level::Warning,
                    "hdd.reallocated:1",
                    "HDD 1: 312 reallocated sectors",
                ),
            ],
        ),
        (
            Fault::RecordOverwritten,
            Level::Warning,
            vec![want(
                Level::Warning,
                "recording.overwriting",
                "Recordings are being overwritten",
            )],
        ),
    ]
}

/// The reasons of a card device's storage faults. The simulator's cameras and
/// doorbells do not report their overwrite setting, so a full card reads the same
/// whether overwrite is on (`record_overwritten`) or off (`hdd_full`).
fn card_storage_steps(missing: Level) -> Vec<(Fault, Level, Vec<Want>)> {
    let full = || vec![want(Level::Warning, "sd.full:1", "SD card: full (100 %)")];
    vec![
        (
            Fault::HddError,
            Level::Abnormal,
            vec![want(Level::Abnormal, "sd.error:1", "SD card: error")],
        ),
        (
            Fault::HddUnformatted,
            Level::Abnormal,
            vec![want(
                Level::Abnormal,
                "sd.unformatted:1",
                "SD card: unformatted",
            )],
        ),
        (Fault::HddFull, Level::Warning, full()),
        (Fault::RecordOverwritten, Level::Warning, full()),
        (
            Fault::SdMissing,
            missing,
            vec![want(missing, "sd.missing", "SD card missing")],
        ),
    ]
}

#[tokio::test]
async fn nvr() {
    let (_fleet, nvr) = device(DeviceKind::Nvr).await;
    let gate = nvr.identity().channel_names[1].clone();
    let mut steps = recorder_storage_steps(&nvr);
    steps.push((
        Fault::ChannelOffline { channel: 2 },
        Level::Abnormal,
        vec![want(
            Level::Abnormal,
            "channel.offline:2",
            format!("Channel 2 ({gate}) offline"),
        )],
    ));
    steps.extend(network_steps());
    let seen = run(&nvr, steps).await;
    // What the inspection read, beyond the verdicts.
    let healthy = observe(&client(&nvr, None), DeviceType::Nvr).await;
    assert!(healthy.storage_read);
    assert_eq!(healthy.storage.len(), nvr.identity().drives.len());
    assert!(healthy.storage.iter().all(|d| d.smart.is_some()));
    assert_eq!(healthy.channels.len(), nvr.identity().proxied.len());
    assert!(
        healthy
            .channels
            .iter()
            .all(|c| c.online && c.address.is_some())
    );
    assert_eq!(
        healthy.recording.as_ref().and_then(|r| r.overwrite_enabled),
        Some(true)
    );
    let link = |f: Fault| {
        observed(&seen, &f)
            .network
            .as_ref()
            .and_then(|n| n.link_type)
    };
    assert_eq!(link(Fault::Link(SimLink::Wifi)), Some(LinkType::Wifi));
    assert_eq!(link(Fault::Link(SimLink::Wired)), Some(LinkType::Wired));
    not_applicable(&nvr, &[Fault::SdMissing, Fault::LowBattery { level: 10 }]);
}

#[tokio::test]
async fn dvr() {
    let (_fleet, dvr) = device(DeviceKind::Dvr).await;
    let name = dvr.identity().channel_names[1].clone();
    let mut steps = recorder_storage_steps(&dvr);
    steps.push((
        Fault::ChannelOffline { channel: 2 },
        Level::Abnormal,
        vec![want(
            Level::Abnormal,
            "channel.video_loss:2",
            format!("Channel 2 ({name}): video loss"),
        )],
    ));
    steps.extend(network_steps());
    run(&dvr, steps).await;
    not_applicable(&dvr, &[Fault::SdMissing, Fault::LowBattery { level: 10 }]);
}

#[tokio::test]
async fn ipc() {
    let (_fleet, ipc) = device(DeviceKind::Ipc).await;
    // Many cameras record only on an NVR: a camera without a card is a warning.
    let mut steps = card_storage_steps(Level::Warning);
    steps.extend(network_steps());
    run(&ipc, steps).await;
    not_applicable(
        &ipc,
        &[
            Fault::SmartWarning,
            Fault::ChannelOffline { channel: 1 },
            Fault::LowBattery { level: 10 },
        ],
    );
}

#[tokio::test]
async fn doorbell() {
    let (_fleet, bell) = device(DeviceKind::Doorbell).await;
    // a doorbell's card is its only recording.
    let mut steps = card_storage_steps(Level::Abnormal);
    steps.extend(network_steps());
    run(&bell, steps).await;
    not_applicable(
        &bell,
        &[
            Fault::SmartWarning,
            Fault::ChannelOffline { channel: 1 },
            Fault::LowBattery { level: 10 },
        ],
    );
}

#[tokio::test]
async fn control_panel() {
    let (_fleet, panel) = device(DeviceKind::ControlPanel).await;
    let mains = || {
        want(
            Level::Abnormal,
            "power.mains_lost",
            "Mains power lost, running on battery",
        )
    };
    let mut steps = vec![
        (
            Fault::LowBattery { level: 10 },
            Level::Abnormal,
            vec![
                want(Level::Abnormal, "battery.low", "Battery 10 %"),
                mains(),
            ],
        ),
        (
            Fault::LowBattery { level: 30 },
            Level::Abnormal,
            vec![mains(), want(Level::Warning, "battery.low", "Battery 30 %")],
        ),
        (
            Fault::LowBattery { level: 80 },
            Level::Abnormal,
            vec![mains()],
        ),
    ];
    steps.extend(network_steps());
    let seen = run(&panel, steps).await;
    let link = |t: SimLink| {
        let obs = observed(&seen, &Fault::Link(t));
        let n = obs.network.as_ref().expect("panel reports its link");
        (n.link_type, n.wifi_signal, n.cellular_signal)
    };
    assert_eq!(link(SimLink::Wired), (Some(LinkType::Wired), None, None));
    assert_eq!(link(SimLink::Wifi), (Some(LinkType::Wifi), Some(80), None));
    assert_eq!(
        link(SimLink::Cellular),
        (Some(LinkType::Cellular), None, Some(60))
    );
    let low = observed(&seen, &Fault::LowBattery { level: 10 });
    let p = low.panel.as_ref().expect("panel read");
    assert_eq!(
        (p.battery_pct, p.low_battery, p.mains_ok),
        (Some(10), true, Some(false))
    );
    assert_eq!(p.zones.len(), 8);
    assert_eq!(p.zones[2].id, 3);
    assert_eq!(p.zones[2].name.as_deref(), Some("Back door"));
    assert_eq!(p.areas.len(), 2);
    not_applicable(
        &panel,
        &[
            Fault::HddError,
            Fault::SmartWarning,
            Fault::ChannelOffline { channel: 1 },
            Fault::SdMissing,
        ],
    );
}

#[tokio::test]
async fn access_control() {
    let (_fleet, acs) = device(DeviceKind::AccessControl).await;
    run(&acs, network_steps()).await;
    not_applicable(&acs, &[Fault::HddError, Fault::LowBattery { level: 10 }]);
}

#[tokio::test]
async fn video_intercom() {
    let (_fleet, vis) = device(DeviceKind::VideoIntercom).await;
    let mut steps = network_steps();
    if !vis.identity().drives.is_empty() {
        // Indoor stations keep a card for messages; R-31 watches the network only.
        for f in [Fault::HddError, Fault::SdMissing] {
            steps.push((f, Level::Normal, vec![]));
        }
    }
    run(&vis, steps).await;
}

#[tokio::test]
async fn wrong_password_is_refused_sign_in_for_every_type() {
    let spec = FleetSpec::parse_mix(MIX, seed()).expect("mix parses");
    let fleet = Fleet::start(spec).await.expect("fleet starts");
    for handle in fleet.handles() {
        let t = device_type(handle.info().kind);
        let c = client(handle, Some("not-the-password"));
        let (obs, verdict) = inspect(&c, t).await;
        assert!(obs.reachable && obs.auth_failed, "{t}: {obs:?}");
        check(
            &format!("{t} wrong password"),
            &verdict,
            Level::Abnormal,
            &[want(
                Level::Abnormal,
                "device.auth_failed",
                "Siteward's sign-in is refused (password changed or account locked)",
            )],
        );
        // The client does not try refused credentials again (lockout safety): the
        // next inspection says the same without a new wrong attempt.
        let (_, again) = inspect(&c, t).await;
        assert_eq!(again.level, Level::Abnormal, "{t}");
        // Sanity: the right password is fine.
        let (_, ok) = inspect(&client(handle, None), t).await;
        assert_eq!(ok.level, Level::Normal, "{t}: {ok:?}");
    }
}
