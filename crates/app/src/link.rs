//! The server side of the device link (R-14, R-19; `docs/link-protocol.md`).
//!
//! The web layer owns each WebSocket and hands its text frames to a
//! [`LinkSession`]; the session proves the devices, keeps their events (stored, then
//! acknowledged), and routes answers to the requests sent down the link. The
//! [`LinkHub`] knows which connection serves which serial on this node, and
//! [`LinkTransport`] lets the ISAPI client speak through it exactly as over HTTP,
//! so inspections work the same for linked devices.
//!
//! Events are stored in batches: sessions hand them to one intake task per
//! application (bounded, so a full intake slows the sockets down rather than
//! growing), which stores up to [`INTAKE_BATCH`] of them in one transaction and
//! acknowledges each only once that transaction committed. A batch that fails is
//! tried again device by device; the connections of the devices whose events still
//! cannot be stored are closed, so those devices resend from what was stored.
//!
//! Adding a device by serial number and verification code works whether the device
//! is connected already (its proof is kept while it waits, and checked when the
//! code is given) or connects later (the code's key is stored sealed, and checked
//! when it does).

use crate::audit::Record;
use crate::devices::{Added, PendingDeviceView, duplicate};
use crate::sites::{load_site, site_facts};
use crate::{App, AppError, DeviceView, Principal, Result, new_uuid};
use bytes::Bytes;
use futures::future::BoxFuture;
use rand::RngCore;
use siteward_core::policy::{Action, authorize};
use siteward_core::{DeviceId, SiteId, compat};
use siteward_isapi::models::EventAlert;
use siteward_isapi::{
    Client, Credentials, Error as IsapiError, Request, Response, StreamingResponse, Transport,
};
use siteward_link::frame::{
    self, Ack, DeviceClaim, DeviceOutcome, ErrorFrame, Frame, Hello, LinkEvent, LinkRequest,
    LinkResponse, Outcome, Register, Registered, Replaced, close,
};
use siteward_link::proof::{LinkKey, nonce_from};
use siteward_store::{Connection, Device, PendingLink, StoredAlarm};
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

mod counters;

/// How long the server waits for a device's answer over its link.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Failed proofs allowed per address or serial within [`FAILURE_WINDOW`].
const MAX_FAILURES: u32 = 5;
/// The window failed proofs are counted in.
const FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// The most events stored in one transaction.
const INTAKE_BATCH: usize = 512;
/// A batch smaller than this waits (at most [`INTAKE_LINGER`]) for more: a
/// transaction costs about as much as a few events, so small batches share it;
/// a larger batch is stored at once, as waiting would only leave the database idle.
const INTAKE_FILL: usize = 64;
/// How long a small batch waits for more events.
const INTAKE_LINGER: Duration = Duration::from_millis(1);
/// Events waiting for the intake; beyond this, sessions wait (and so stop reading
/// their sockets) until it catches up.
const INTAKE_QUEUE: usize = 8192;
/// The close code for a connection whose events could not be stored: the device
/// reconnects and resends what was not acknowledged.
const CLOSE_NOT_STORED: u16 = 1011;

/// What the web layer writes to the socket. Small, because each connection's
/// queue of these allocates room for a block of them up front (the frame is
/// boxed: a test keeps the size down).
#[derive(Debug, Clone)]
pub enum LinkOut {
    /// A frame.
    Frame(Box<Frame>),
    /// Close with this code and reason.
    Close(Box<LinkClose>),
}

/// Why a session ends: the close code and reason to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkClose {
    /// WebSocket close code.
    pub code: u16,
    /// Words for the device's log.
    pub reason: String,
}

impl LinkClose {
    fn new(code: u16, reason: impl Into<String>) -> Self {
        Self {
            code,
            reason: reason.into(),
        }
    }
}

/// One WebSocket connection, as the hub sees it.
#[derive(Debug)]
struct Conn {
    id: u64,
    out: mpsc::UnboundedSender<LinkOut>,
    pending: Mutex<HashMap<u64, oneshot::Sender<LinkResponse>>>,
    next_request: AtomicU64,
    /// Serials this connection serves now.
    serials: Mutex<HashSet<String>>,
    /// Some of its events could not be stored: its later events are not stored
    /// either (they would leave a gap), and it is closed so the device resends.
    broken: AtomicBool,
}

impl Conn {
    fn send(&self, frame: Frame) -> bool {
        self.out.send(LinkOut::Frame(Box::new(frame))).is_ok()
    }

    fn serials(&self) -> MutexGuard<'_, HashSet<String>> {
        lock(&self.serials)
    }
}

/// A device that proved nothing yet because nobody added its serial: its proof is
/// kept for as long as its connection lasts.
#[derive(Debug, Clone)]
struct WaitingClaim {
    conn: Arc<Conn>,
    server_nonce: String,
    client_nonce: String,
    proof: String,
}

/// Which connection serves which serial on this node.
#[derive(Debug, Default)]
pub struct LinkHub {
    live: Mutex<HashMap<String, Arc<Conn>>>,
    waiting: Mutex<HashMap<String, WaitingClaim>>,
    next_conn: AtomicU64,
    failures: Mutex<HashMap<String, (u32, Instant)>>,
    /// Where sessions hand events to be stored; the intake task starts with the
    /// first event.
    intake: OnceLock<mpsc::Sender<Intake>>,
    /// Event counters the intake advanced and has not written yet.
    unwritten: counters::Unwritten,
}

/// An event waiting to be stored, and the connection its acknowledgement goes to.
#[derive(Debug)]
struct Intake {
    device: DeviceId,
    event: LinkEvent,
    /// The event's document, read on the connection's task; `None`: not an
    /// `EventNotificationAlert` (acknowledged and dropped).
    alert: Option<EventAlert>,
    conn: Arc<Conn>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl LinkHub {
    /// Whether a connection serves this serial now.
    pub fn is_connected(&self, serial: &str) -> bool {
        lock(&self.live).contains_key(serial)
    }

    /// How many serials are served by live connections.
    pub fn connected_count(&self) -> usize {
        lock(&self.live).len()
    }

    fn blocked(&self, key: &str) -> bool {
        lock(&self.failures)
            .get(key)
            .is_some_and(|(n, since)| *n >= MAX_FAILURES && since.elapsed() < FAILURE_WINDOW)
    }

    fn failed(&self, key: String) {
        let mut f = lock(&self.failures);
        if f.len() > 100_000 {
            f.retain(|_, (_, since)| since.elapsed() < FAILURE_WINDOW);
        }
        let entry = f.entry(key).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= FAILURE_WINDOW {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
    }

    /// Makes `conn` the one connection serving `serial`; an older one is told.
    fn serve(&self, serial: &str, conn: &Arc<Conn>) {
        lock(&self.waiting).remove(serial);
        conn.serials().insert(serial.to_owned());
        let old = lock(&self.live).insert(serial.to_owned(), conn.clone());
        if let Some(old) = old.filter(|o| o.id != conn.id) {
            let empty = {
                let mut s = old.serials();
                s.remove(serial);
                s.is_empty()
            };
            old.send(Frame::Replaced(Replaced {
                serial: serial.to_owned(),
            }));
            if empty {
                let _ = old.out.send(LinkOut::Close(Box::new(LinkClose::new(
                    close::REPLACED,
                    "replaced by a newer connection",
                ))));
            }
        }
    }

    /// Stops `conn` serving `serial` (if it does).
    fn unserve(&self, serial: &str, conn: &Arc<Conn>) {
        conn.serials().remove(serial);
        let mut live = lock(&self.live);
        if live.get(serial).is_some_and(|c| c.id == conn.id) {
            live.remove(serial);
        }
    }

    /// Forgets a connection: what it served is no longer connected. Returns those
    /// serials.
    fn drop_conn(&self, conn: &Conn) -> Vec<String> {
        let serials: Vec<String> = conn.serials().drain().collect();
        let mut live = lock(&self.live);
        let gone: Vec<String> = serials
            .into_iter()
            .filter(|s| {
                let mine = live.get(s).is_some_and(|c| c.id == conn.id);
                if mine {
                    live.remove(s);
                }
                mine
            })
            .collect();
        drop(live);
        lock(&self.waiting).retain(|_, w| w.conn.id != conn.id);
        for (_, tx) in lock(&conn.pending).drain() {
            drop(tx);
        }
        gone
    }

    /// Sends an ISAPI request to `serial` and waits for its answer.
    async fn request(
        &self,
        serial: &str,
        req: Request,
    ) -> std::result::Result<Response, IsapiError> {
        let conn =
            lock(&self.live)
                .get(serial)
                .cloned()
                .ok_or_else(|| IsapiError::Unreachable {
                    detail: "the device is not connected to Siteward over its link".into(),
                })?;
        let id = conn.next_request.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        lock(&conn.pending).insert(id, tx);
        let headers = req
            .headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let sent = conn.send(Frame::Request(LinkRequest {
            id,
            serial: serial.to_owned(),
            method: req.method.as_str().to_owned(),
            path: req.path.clone(),
            headers,
            body: frame::encode_body(&req.body),
        }));
        if !sent {
            lock(&conn.pending).remove(&id);
            return Err(IsapiError::Unreachable {
                detail: "the device's link closed".into(),
            });
        }
        let answer = match tokio::time::timeout(REQUEST_TIMEOUT, rx).await {
            Ok(Ok(a)) => a,
            Ok(Err(_)) => {
                return Err(IsapiError::Unreachable {
                    detail: "the device's link closed before it answered".into(),
                });
            }
            Err(_) => {
                lock(&conn.pending).remove(&id);
                return Err(IsapiError::Timeout {
                    during: "waiting for the device's answer over its link",
                });
            }
        };
        response_of(&req.path, answer)
    }
}

fn response_of(path: &str, a: LinkResponse) -> std::result::Result<Response, IsapiError> {
    if let Some(error) = a.error {
        let detail = a.detail.unwrap_or_default();
        return Err(match error.as_str() {
            "timeout" => IsapiError::Timeout {
                during: "the device's answer (reported by its link)",
            },
            "too_large" => IsapiError::TooLarge {
                limit: frame::MAX_FRAME_BYTES,
            },
            _ => IsapiError::Unreachable {
                detail: format!("{error}: {detail}"),
            },
        });
    }
    let status = a
        .status
        .and_then(|s| http::StatusCode::from_u16(s).ok())
        .ok_or_else(|| IsapiError::Transport {
            detail: format!("the link's answer to {path} has no valid status"),
        })?;
    let body = frame::decode_body(&a.body).map_err(|e| IsapiError::Transport {
        detail: e.to_string(),
    })?;
    let mut headers = http::HeaderMap::new();
    for (k, v) in a.headers {
        if let (Ok(k), Ok(v)) = (
            http::HeaderName::from_bytes(k.as_bytes()),
            http::HeaderValue::from_str(&v),
        ) {
            headers.append(k, v);
        }
    }
    Ok(Response {
        status,
        headers,
        body: Bytes::from(body),
    })
}

/// The ISAPI transport of a linked device: requests go down its link.
#[derive(Debug, Clone)]
pub(crate) struct LinkTransport {
    hub: Arc<LinkHub>,
    serial: String,
}

impl LinkTransport {
    pub(crate) fn new(hub: Arc<LinkHub>, serial: impl Into<String>) -> Self {
        Self {
            hub,
            serial: serial.into(),
        }
    }

    /// A client for the device: its link is already authenticated, so no
    /// credentials are sent.
    pub(crate) fn client(hub: Arc<LinkHub>, serial: &str) -> Client {
        Client::new(Self::new(hub, serial), Credentials::new("link", ""))
    }
}

impl Transport for LinkTransport {
    fn send(&self, request: Request) -> BoxFuture<'_, std::result::Result<Response, IsapiError>> {
        Box::pin(self.hub.request(&self.serial, request))
    }

    fn send_streaming(
        &self,
        request: Request,
    ) -> BoxFuture<'_, std::result::Result<StreamingResponse, IsapiError>> {
        // Events come up the link as frames, not as a long response.
        Box::pin(async move {
            Err(IsapiError::NotSupported {
                path: request.path,
                http_status: 501,
                status: None,
            })
        })
    }
}

/// One device-link connection's protocol state.
#[derive(Debug)]
pub struct LinkSession {
    app: App,
    conn: Arc<Conn>,
    nonce: String,
    peer: Option<IpAddr>,
    registered: bool,
    /// Accepted serials → (device id once the device exists).
    devices: HashMap<String, Option<DeviceId>>,
}

impl App {
    /// Opens a device-link session for a new connection from `peer`: the session,
    /// and what to write to the socket.
    pub fn open_link(
        &self,
        peer: Option<IpAddr>,
    ) -> (LinkSession, mpsc::UnboundedReceiver<LinkOut>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut nonce = [0u8; 32];
        rand::rng().fill_bytes(&mut nonce);
        let conn = Arc::new(Conn {
            id: self.inner.links.next_conn.fetch_add(1, Ordering::Relaxed),
            out: tx,
            pending: Mutex::default(),
            next_request: AtomicU64::new(1),
            serials: Mutex::default(),
            broken: AtomicBool::new(false),
        });
        (
            LinkSession {
                app: self.clone(),
                conn,
                nonce: nonce_from(nonce),
                peer,
                registered: false,
                devices: HashMap::new(),
            },
            rx,
        )
    }

    /// The device links of this node.
    pub fn links(&self) -> &LinkHub {
        &self.inner.links
    }

    /// How often each side of a link pings.
    pub fn link_heartbeat(&self) -> Duration {
        (self.link_silence_limit() / 3).clamp(Duration::from_secs(1), Duration::from_secs(20))
    }

    /// After how long without a frame a linked device is offline.
    pub fn link_silence_limit(&self) -> Duration {
        Duration::from_millis(u64::try_from(self.inner.config.link_silence_ms).unwrap_or(60_000))
    }
}

impl LinkSession {
    /// The first frame to send.
    pub fn hello(&self) -> Frame {
        let limit = self.app.link_silence_limit();
        Frame::Hello(Hello {
            version: frame::VERSION,
            nonce: self.nonce.clone(),
            heartbeat_secs: u32::try_from(self.app.link_heartbeat().as_secs()).unwrap_or(20),
            silence_limit_secs: u32::try_from(limit.as_secs()).unwrap_or(60),
        })
    }

    /// Whether the device registered.
    pub fn registered(&self) -> bool {
        self.registered
    }

    /// Takes one text frame from the device.
    pub async fn take(&mut self, text: &str) -> std::result::Result<(), LinkClose> {
        let frame =
            Frame::decode(text).map_err(|e| LinkClose::new(e.close_code(), e.to_string()))?;
        match frame {
            Frame::Register(r) if !self.registered => self.register(r).await,
            Frame::Register(_) => {
                self.error("already registered");
                Ok(())
            }
            _ if !self.registered => Err(LinkClose::new(close::MALFORMED, "register first")),
            Frame::Response(r) => {
                if let Some(tx) = lock(&self.conn.pending).remove(&r.id) {
                    let _ = tx.send(r);
                }
                Ok(())
            }
            Frame::Event(e) => {
                self.event(e).await;
                Ok(())
            }
            Frame::Error(e) => {
                tracing::debug!(message = %e.message, "the device reported an error");
                Ok(())
            }
            other => {
                self.error(&format!("a device does not send {}", kind(&other)));
                Ok(())
            }
        }
    }

    fn error(&self, message: &str) {
        self.conn.send(Frame::Error(ErrorFrame {
            message: message.to_owned(),
        }));
    }

    async fn register(&mut self, r: Register) -> std::result::Result<(), LinkClose> {
        let links = self.app.inner.links.clone();
        let by_address = self.peer.map(|ip| format!("ip:{ip}"));
        if by_address.as_deref().is_some_and(|k| links.blocked(k)) {
            return Err(LinkClose::new(
                close::THROTTLED,
                "too many failed proofs from this address; wait a minute",
            ));
        }
        let mut outcomes = Vec::with_capacity(r.devices.len());
        let mut complete = Vec::new();
        for claim in &r.devices {
            if links.blocked(&format!("serial:{}", claim.serial)) {
                return Err(LinkClose::new(
                    close::THROTTLED,
                    "too many failed proofs for this serial; wait a minute",
                ));
            }
            let outcome = self.claim(claim, &r.nonce).await.unwrap_or_else(|e| {
                tracing::warn!(serial = %claim.serial, error = %e, "checking a link claim failed");
                ClaimOutcome::Rejected(
                    "the server could not check the proof now; try again later".into(),
                )
            });
            let out = match outcome {
                ClaimOutcome::Accepted {
                    device,
                    key,
                    acked_seq,
                } => {
                    links.serve(&claim.serial, &self.conn);
                    self.devices.insert(claim.serial.clone(), device);
                    if device.is_none() {
                        complete.push(claim.serial.clone());
                    } else if let Some(d) = device {
                        // It is back: look at it again now.
                        let _ = self.app.nudge(d).await;
                    }
                    DeviceOutcome {
                        serial: claim.serial.clone(),
                        state: Outcome::Accepted,
                        server_proof: Some(key.server_proof(&r.nonce, &claim.serial)),
                        acked_seq,
                        reason: None,
                    }
                }
                ClaimOutcome::Waiting => {
                    lock(&links.waiting).insert(
                        claim.serial.clone(),
                        WaitingClaim {
                            conn: self.conn.clone(),
                            server_nonce: self.nonce.clone(),
                            client_nonce: r.nonce.clone(),
                            proof: claim.proof.clone(),
                        },
                    );
                    DeviceOutcome {
                        serial: claim.serial.clone(),
                        state: Outcome::Waiting,
                        server_proof: None,
                        acked_seq: 0,
                        reason: Some("no installer has added this serial number yet".into()),
                    }
                }
                ClaimOutcome::Rejected(reason) => {
                    if let Some(k) = &by_address {
                        links.failed(k.clone());
                    }
                    links.failed(format!("serial:{}", claim.serial));
                    DeviceOutcome {
                        serial: claim.serial.clone(),
                        state: Outcome::Rejected,
                        server_proof: None,
                        acked_seq: 0,
                        reason: Some(reason),
                    }
                }
            };
            outcomes.push(out);
        }
        let all_rejected = outcomes.iter().all(|o| o.state == Outcome::Rejected);
        self.conn
            .send(Frame::Registered(Registered { devices: outcomes }));
        if all_rejected {
            return Err(LinkClose::new(close::REJECTED, "proof rejected"));
        }
        self.registered = true;
        tracing::info!(agent = %r.agent, devices = r.devices.len(), "device link registered");
        for serial in complete {
            self.app.spawn_completion(serial);
        }
        // An installer may have added a waiting serial while it was being looked
        // up: look again, now that the claim is where the adding would find it.
        let waiting: Vec<String> = r
            .devices
            .iter()
            .map(|d| d.serial.clone())
            .filter(|s| {
                lock(&links.waiting)
                    .get(s)
                    .is_some_and(|w| w.conn.id == self.conn.id)
            })
            .collect();
        for serial in waiting {
            self.app.adopt_if_pending(&serial).await;
        }
        Ok(())
    }

    /// Checks one device's proof against what the store knows of its serial.
    async fn claim(&self, claim: &DeviceClaim, client_nonce: &str) -> Result<ClaimOutcome> {
        let _ = client_nonce;
        let mut h = self.app.inner.store.read().await?;
        let wrong =
            || ClaimOutcome::Rejected("the proof does not match the verification code".into());
        if let Some(d) = h.device_by_serial(&claim.serial).await?
            && d.connection != Connection::Link
        {
            return Ok(ClaimOutcome::Rejected(
                "this serial number is added to Siteward by IP address".into(),
            ));
        }
        if let Some(d) = h.device_by_link_serial(&claim.serial).await? {
            let key = self.app.device_link_key(&d)?;
            if !key.verify_device(&self.nonce, &claim.serial, &claim.proof) {
                return Ok(wrong());
            }
            let acked_seq = match self.app.stored_link_counter(&mut h, d.id).await? {
                Some((Some(epoch), seq)) if epoch == claim.epoch => u64::try_from(seq).unwrap_or(0),
                _ => 0,
            };
            return Ok(ClaimOutcome::Accepted {
                device: Some(d.id),
                key,
                acked_seq,
            });
        }
        if let Some(p) = h.pending_link(&claim.serial).await? {
            let key = self.app.pending_link_key(&p)?;
            if !key.verify_device(&self.nonce, &claim.serial, &claim.proof) {
                return Ok(wrong());
            }
            return Ok(ClaimOutcome::Accepted {
                device: None,
                key,
                acked_seq: 0,
            });
        }
        Ok(ClaimOutcome::Waiting)
    }

    /// Hands one event to the intake, which stores it (unless it was stored
    /// before) and then acknowledges it.
    async fn event(&mut self, e: LinkEvent) {
        if !self.devices.contains_key(&e.serial) && self.conn.serials().contains(&e.serial) {
            // Accepted when an installer added it with its code.
            self.devices.insert(e.serial.clone(), None);
        }
        let Some(slot) = self.devices.get_mut(&e.serial) else {
            self.error(&format!("{} is not accepted on this link", e.serial));
            return;
        };
        if slot.is_none() {
            // Added just now: look the device up once it exists.
            if let Ok(mut h) = self.app.inner.store.read().await
                && let Ok(Some(d)) = h.device_by_link_serial(&e.serial).await
            {
                *slot = Some(d.id);
            }
        }
        let Some(device) = *slot else {
            // Not a device yet: not acknowledged, so the device sends it again.
            return;
        };
        if self.conn.broken.load(Ordering::Acquire) {
            // Its connection is closing: the device resends after reconnecting.
            return;
        }
        let alert = match EventAlert::parse(e.xml.as_bytes()) {
            Ok(a) => Some(a),
            Err(err) => {
                tracing::warn!(device = %device, error = %err, "a link event is not an EventNotificationAlert; acknowledged and dropped");
                None
            }
        };
        let job = Intake {
            device,
            event: e,
            alert,
            conn: self.conn.clone(),
        };
        // Waits while the intake is full: the socket is not read meanwhile.
        if self.app.link_intake().send(job).await.is_err() {
            tracing::warn!(device = %device, "the event intake has stopped; the device will resend");
        }
    }

    /// The connection ended: its devices are no longer connected, and are looked at
    /// again now (an inspection decides whether they are offline).
    pub async fn end(self) {
        let gone = self.app.inner.links.drop_conn(&self.conn);
        for serial in gone {
            let id = match self.devices.get(&serial) {
                Some(Some(id)) => Some(*id),
                _ => match self.app.inner.store.read().await {
                    Ok(mut h) => h
                        .device_by_link_serial(&serial)
                        .await
                        .ok()
                        .flatten()
                        .map(|d| d.id),
                    Err(_) => None,
                },
            };
            if let Some(id) = id {
                let _ = self.app.nudge(id).await;
            }
        }
    }
}

fn kind(f: &Frame) -> &'static str {
    match f {
        Frame::Hello(_) => "hello",
        Frame::Register(_) => "register",
        Frame::Registered(_) => "registered",
        Frame::Request(_) => "request",
        Frame::Response(_) => "response",
        Frame::Event(_) => "event",
        Frame::Ack(_) => "ack",
        Frame::Replaced(_) => "replaced",
        Frame::Error(_) => "error",
    }
}

#[derive(Debug)]
enum ClaimOutcome {
    Accepted {
        device: Option<DeviceId>,
        key: LinkKey,
        acked_seq: u64,
    },
    Waiting,
    Rejected(String),
}

/// What a new linked device is.
struct NewLink {
    serial: String,
    site_id: SiteId,
    name: Option<String>,
    key: LinkKey,
}

impl App {
    fn device_link_key(&self, d: &Device) -> Result<LinkKey> {
        let bytes = self
            .inner
            .key
            .open(&d.secret, d.id.to_string().as_bytes())
            .map_err(|e| AppError::Internal(format!("device {} link key: {e}", d.id)))?;
        key_of(&bytes)
    }

    fn pending_link_key(&self, p: &PendingLink) -> Result<LinkKey> {
        let bytes = self
            .inner
            .key
            .open(&p.secret, p.serial.as_bytes())
            .map_err(|e| AppError::Internal(format!("pending link {} key: {e}", p.serial)))?;
        key_of(&bytes)
    }

    /// Where this node's sessions hand events to be stored; starts the intake task
    /// with the first event. The task holds the application weakly, so it ends
    /// when the application is dropped.
    fn link_intake(&self) -> &mpsc::Sender<Intake> {
        self.inner.links.intake.get_or_init(|| {
            let (tx, rx) = mpsc::channel(INTAKE_QUEUE);
            tokio::spawn(run_intake(Arc::downgrade(&self.inner), rx));
            tx
        })
    }

    /// Writes a prepared batch of link events, then acknowledges them. A batch
    /// that fails is tried again device by device, so one device's trouble does
    /// not hold up the others; a device whose events still cannot be stored gets
    /// no acknowledgement, and its connection is closed so it resends them.
    async fn take_link_events(&self, batch: Vec<Intake>, prepared: Result<Prepared>) {
        let all: Vec<&Intake> = batch.iter().collect();
        let started = Instant::now();
        let written = match prepared {
            Ok(p) => self.write_link_events(p).await,
            Err(e) => Err(e),
        };
        let err = match written {
            Ok(stored) => {
                tracing::debug!(
                    events = all.len(),
                    ms = started.elapsed().as_secs_f64() * 1000.0,
                    "stored a batch of link events"
                );
                return self.after_stored(&all, stored);
            }
            Err(e) => e,
        };
        tracing::warn!(events = all.len(), error = %err, "storing a batch of link events failed; trying device by device");
        let mut devices: Vec<DeviceId> = Vec::new();
        for job in &all {
            if !devices.contains(&job.device) {
                devices.push(job.device);
            }
        }
        for device in devices {
            let jobs: Vec<&Intake> = all.iter().copied().filter(|j| j.device == device).collect();
            let stored = match self.prepare_link_events(&jobs).await {
                Ok(p) => self.write_link_events(p).await,
                Err(e) => Err(e),
            };
            match stored {
                Ok(stored) => self.after_stored(&jobs, stored),
                Err(e) => {
                    tracing::warn!(device = %device, events = jobs.len(), error = %e, "storing link events failed; the device's link is closed so it resends them");
                    for job in jobs {
                        if !job.conn.broken.swap(true, Ordering::AcqRel) {
                            let _ = job.conn.out.send(LinkOut::Close(Box::new(LinkClose::new(
                                CLOSE_NOT_STORED,
                                "events could not be stored; send them again",
                            ))));
                        }
                    }
                }
            }
        }
    }

    /// Reads what storing a batch of link events needs — the devices' event
    /// counters and sites, in one statement whatever the batch's size — on a
    /// reading connection, beside the writer (which meanwhile writes the batch
    /// before), and makes the rows: which events were stored before (several
    /// events of one device may be in the batch) and which are alarms.
    ///
    /// Read outside the transaction that writes them, the counters may miss the
    /// batch still being written; an event of it sent again then makes a row
    /// whose unique event key the write finds taken, so it is kept once all the
    /// same.
    async fn prepare_link_events(&self, jobs: &[&Intake]) -> Result<Prepared> {
        struct Seen<'a> {
            epoch: Option<&'a str>,
            seq: i64,
            changed: bool,
        }
        let mut stored = Stored {
            acked: vec![false; jobs.len()],
            alarms: Vec::new(),
            nudge: Vec::new(),
        };
        // Its earlier events were not stored when a connection broke: storing
        // later ones would leave a gap. The device resends them all after
        // reconnecting.
        let live = |job: &Intake| !job.conn.broken.load(Ordering::Acquire);
        let mut devices: Vec<DeviceId> =
            jobs.iter().filter(|j| live(j)).map(|j| j.device).collect();
        devices.sort_unstable();
        devices.dedup();
        // Read before the database: a counter leaves memory only once written.
        let unwritten: HashMap<DeviceId, counters::Counter> = self
            .inner
            .links
            .unwritten
            .some(&devices)
            .into_iter()
            .collect();
        let facts = self.inner.store.read().await?.link_intake(&devices).await?;
        let mut seen: HashMap<DeviceId, Seen<'_>> = facts
            .iter()
            .map(|(d, f)| {
                let last = match unwritten.get(d) {
                    Some(c) => Seen {
                        epoch: Some(c.epoch.as_str()),
                        seq: c.seq,
                        changed: false,
                    },
                    None => Seen {
                        epoch: f.epoch.as_deref(),
                        seq: f.seq,
                        changed: false,
                    },
                };
                (*d, last)
            })
            .collect();
        let mut alarms = Vec::new();
        for (i, job) in jobs.iter().enumerate() {
            if !live(job) {
                continue;
            }
            // A device deleted since it sent: nothing to keep, and the event is
            // acknowledged so that it is not sent again.
            stored.acked[i] = true;
            let (Some(last), Some(f)) = (seen.get_mut(&job.device), facts.get(&job.device)) else {
                continue;
            };
            let e = &job.event;
            let seq = i64::try_from(e.seq).unwrap_or(i64::MAX);
            if last.epoch == Some(e.epoch.as_str()) && last.seq >= seq {
                // Stored before: acknowledged again.
                continue;
            }
            if let Some(a) = &job.alert {
                let key = crate::alarms::link_event_key(job.device, a, &e.epoch, e.seq);
                alarms.extend(self.new_alarm(&f.site, job.device, a, Some(key)));
                if crate::listen::affects_health(&a.effective_type())
                    && !stored.nudge.contains(&job.device)
                {
                    stored.nudge.push(job.device);
                }
            }
            *last = Seen {
                epoch: Some(e.epoch.as_str()),
                seq,
                changed: true,
            };
        }
        let (rows, events): (Vec<StoredAlarm>, Vec<crate::Event>) = alarms.into_iter().unzip();
        let counters = devices
            .iter()
            .filter_map(|d| match seen.get(d) {
                Some(Seen {
                    epoch: Some(epoch),
                    seq,
                    changed: true,
                }) => Some((*d, (*epoch).to_owned(), *seq)),
                _ => None,
            })
            .collect();
        Ok(Prepared {
            stored,
            rows,
            events,
            counters,
        })
    }

    /// Writes a prepared batch in one transaction (one flush to disk whatever its
    /// size), then notes how far each device's events are stored.
    async fn write_link_events(&self, p: Prepared) -> Result<Stored> {
        let Prepared {
            mut stored,
            rows,
            events,
            counters,
        } = p;
        if !rows.is_empty() {
            let mut h = self.inner.store.begin().await?;
            let kept: HashSet<String> = h.insert_alarms(&rows).await?.into_iter().collect();
            h.commit().await?;
            stored.alarms = rows
                .iter()
                .zip(events)
                .filter(|(row, _)| kept.contains(&row.event_key))
                .map(|(_, event)| event)
                .collect();
        }
        self.inner
            .links
            .unwritten
            .advance(counters.iter().map(|(d, e, s)| (*d, e.as_str(), *s)));
        Ok(stored)
    }

    /// A linked device's event counter, (epoch, last seq stored): the one advanced
    /// on this node if it is not written yet, else the stored one.
    async fn stored_link_counter(
        &self,
        h: &mut siteward_store::Handle,
        device: DeviceId,
    ) -> Result<Option<(Option<String>, i64)>> {
        // Read before the database: a counter leaves memory only once written.
        if let Some(c) = self.inner.links.unwritten.get(device) {
            return Ok(Some((Some(c.epoch), c.seq)));
        }
        Ok(h.link_seq(device).await?)
    }

    /// A linked device's event counter, (epoch, last seq stored); `None`: no such
    /// device.
    pub async fn link_counter(&self, device: DeviceId) -> Result<Option<(Option<String>, i64)>> {
        let mut h = self.inner.store.read().await?;
        self.stored_link_counter(&mut h, device).await
    }

    /// Writes the event counters of these devices that are still unwritten, in
    /// one transaction.
    async fn write_link_counters(&self, devices: &[DeviceId]) -> Result<()> {
        let values = self.inner.links.unwritten.some(devices);
        if values.is_empty() {
            return Ok(());
        }
        let rows: Vec<(DeviceId, &str, i64)> = values
            .iter()
            .map(|(d, c)| (*d, c.epoch.as_str(), c.seq))
            .collect();
        let mut h = self.inner.store.begin().await?;
        h.set_link_seqs(&rows).await?;
        h.commit().await?;
        self.inner.links.unwritten.written(&values);
        Ok(())
    }

    /// Writes every event counter advanced on this node (the server is stopping).
    pub async fn flush_link_counters(&self) -> Result<()> {
        let all = self.inner.links.unwritten.devices();
        for chunk in all.chunks(counters::FLUSH_CHUNK) {
            self.write_link_counters(chunk).await?;
        }
        Ok(())
    }

    /// After a batch committed: acknowledges its events (one frame per device and
    /// connection, for the highest seq: an acknowledgement covers the earlier
    /// ones), then publishes the alarms and asks for fresh status where an event
    /// can change it.
    fn after_stored(&self, jobs: &[&Intake], stored: Stored) {
        let mut acks: HashMap<(u64, &str, &str), (u64, &Arc<Conn>)> = HashMap::new();
        let mut order = Vec::new();
        for (job, acked) in jobs.iter().zip(&stored.acked) {
            if !acked {
                continue;
            }
            let e = &job.event;
            let key = (job.conn.id, e.serial.as_str(), e.epoch.as_str());
            match acks.get_mut(&key) {
                Some((seq, _)) => *seq = (*seq).max(e.seq),
                None => {
                    acks.insert(key, (e.seq, &job.conn));
                    order.push(key);
                }
            }
        }
        for key in order {
            if let Some((seq, conn)) = acks.get(&key) {
                conn.send(Frame::Ack(Ack {
                    serial: key.1.to_owned(),
                    epoch: key.2.to_owned(),
                    seq: *seq,
                }));
            }
        }
        for alarm in stored.alarms {
            self.publish_alarm(Some(alarm));
        }
        if !stored.nudge.is_empty() {
            // Not on the intake's time: the next batch need not wait for these.
            let app = self.clone();
            tokio::spawn(async move {
                for device in stored.nudge {
                    let _ = app.nudge(device).await;
                }
            });
        }
    }

    /// adds a device by serial number and verification code. Connected now:
    /// its kept proof is checked and it is added at once. Not connected: it waits,
    /// and is added when it connects and proves the same code.
    pub(crate) async fn add_link_device(
        &self,
        p: &Principal,
        site_id: SiteId,
        serial: &str,
        code: &str,
        name: Option<String>,
    ) -> Result<Added> {
        let serial = serial.trim().to_owned();
        let mut f = crate::error::Fields::default();
        if !frame::valid_serial(&serial) {
            f.push(siteward_core::validate::FieldError::new(
                "serial",
                "is required: the serial number on the device's label (at most 64 characters)",
            ));
        }
        let normalized = siteward_link::proof::normalize_code(code);
        if normalized.len() < 6
            || normalized.len() > 32
            || !normalized.chars().all(|c| c.is_ascii_alphanumeric())
        {
            f.push(siteward_core::validate::FieldError::new(
                "verification_code",
                "must be the 6 to 32 letters and digits on the device's label",
            ));
        }
        let name = f.take(siteward_core::validate::optional_text(
            "name",
            name.as_deref().unwrap_or(""),
            120,
        ));
        f.finish()?;
        let key = LinkKey::derive(&normalized, &serial);
        let now = self.now();
        let mut h = self.inner.store.begin().await?;
        h.lock_site(site_id).await?;
        let site = load_site(&mut h, site_id).await?;
        authorize(
            &p.actor,
            Action::AddDevice(&site_facts(&mut h, &site, now).await?),
        )
        .map_err(AppError::refused("site"))?;
        if let Some(existing) = match h.device_by_link_serial(&serial).await? {
            Some(d) => Some(d),
            None => h.device_by_serial(&serial).await?,
        } {
            return Err(duplicate(&existing, site.company_id));
        }
        if let Some(pending) = h.pending_link(&serial).await? {
            return Err(AppError::Conflict {
                code: "device.pending",
                message: if pending.company_id == site.company_id {
                    format!("device {serial} was added already and is waiting to connect")
                } else {
                    format!("device {serial} is being added by another installation company")
                },
            });
        }
        // Connected and waiting: check its proof against this code.
        let waiting = lock(&self.inner.links.waiting).get(&serial).cloned();
        if let Some(w) = waiting {
            drop(h);
            if !key.verify_device(&w.server_nonce, &serial, &w.proof) {
                self.inner.links.failed(format!("serial:{serial}"));
                return Err(AppError::Unprocessable {
                    code: "device.wrong_code",
                    message: format!(
                        "the verification code does not match device {serial}; check the code on its label"
                    ),
                });
            }
            self.inner.links.serve(&serial, &w.conn);
            w.conn.send(Frame::Registered(Registered {
                devices: vec![DeviceOutcome {
                    serial: serial.clone(),
                    state: Outcome::Accepted,
                    server_proof: Some(key.server_proof(&w.client_nonce, &serial)),
                    acked_seq: 0,
                    reason: None,
                }],
            }));
            let added = self
                .finish_link(
                    NewLink {
                        serial: serial.clone(),
                        site_id,
                        name,
                        key,
                    },
                    Some(p),
                )
                .await;
            if added.is_err() {
                // Not added (unreadable, incompatible, …): the connection waits
                // again, so adding it once the cause is fixed works at once.
                self.inner.links.unserve(&serial, &w.conn);
                lock(&self.inner.links.waiting).insert(serial, w);
            }
            return Ok(Added::Device(added?));
        }
        let pending = PendingLink {
            secret: self.inner.key.seal(key.as_bytes(), serial.as_bytes()),
            serial: serial.clone(),
            company_id: site.company_id,
            site_id: site.id,
            name,
            state: "waiting".into(),
            reason: None,
            added_by: Some(p.user.id),
            created_at: now,
            updated_at: now,
        };
        if !h.insert_pending_link(&pending).await? {
            return Err(AppError::Conflict {
                code: "device.pending",
                message: format!("device {serial} was added already and is waiting to connect"),
            });
        }
        Record {
            company_id: Some(site.company_id),
            site_id: Some(site.id),
            action: "device.add_by_serial",
            summary: format!(
                "{} added device {serial} by serial number; it is added when it connects",
                p.user.name
            ),
            detail: serde_json::json!({ "serial": serial }),
            by: Some(p),
        }
        .write(&mut h, now)
        .await?;
        h.commit().await?;
        // The device may have connected while this was being written: its claim
        // waits now, and is checked against the code just stored.
        self.adopt_if_pending(&serial).await;
        Ok(Added::Pending(PendingDeviceView::of(&pending)))
    }

    /// Completes a waiting device in the background.
    fn spawn_completion(&self, serial: String) {
        let app = self.clone();
        tokio::spawn(async move {
            if let Err(e) = app.complete_pending(&serial).await {
                tracing::warn!(serial = %serial, error = %e, "a linked device could not be added");
            }
        });
    }

    /// If `serial` both waits connected and is pending in the store (the two
    /// happened at the same moment), checks the kept proof against the stored key
    /// and, when it holds, accepts the device and adds it.
    async fn adopt_if_pending(&self, serial: &str) {
        let pending = match self.inner.store.read().await {
            Ok(mut h) => h.pending_link(serial).await.ok().flatten(),
            Err(_) => None,
        };
        let Some(key) = pending.and_then(|p| self.pending_link_key(&p).ok()) else {
            return;
        };
        let Some(w) = lock(&self.inner.links.waiting).remove(serial) else {
            return;
        };
        if !key.verify_device(&w.server_nonce, serial, &w.proof) {
            self.inner.links.failed(format!("serial:{serial}"));
            return;
        }
        self.inner.links.serve(serial, &w.conn);
        w.conn.send(Frame::Registered(Registered {
            devices: vec![DeviceOutcome {
                serial: serial.to_owned(),
                state: Outcome::Accepted,
                server_proof: Some(key.server_proof(&w.client_nonce, serial)),
                acked_seq: 0,
                reason: None,
            }],
        }));
        self.spawn_completion(serial.to_owned());
    }

    /// A device that waited connected and proved its code: it is read over the
    /// link and added, or marked refused with the reason.
    async fn complete_pending(&self, serial: &str) -> Result<()> {
        let pending = {
            let mut h = self.inner.store.read().await?;
            h.pending_link(serial).await?
        };
        let Some(pending) = pending else {
            return Ok(());
        };
        let key = self.pending_link_key(&pending)?;
        match self
            .finish_link(
                NewLink {
                    serial: serial.to_owned(),
                    site_id: pending.site_id,
                    name: pending.name.clone(),
                    key,
                },
                None,
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => {
                let mut h = self.inner.store.begin().await?;
                h.refuse_pending_link(serial, &e.to_string(), self.now())
                    .await?;
                h.commit().await?;
                Err(e)
            }
        }
    }

    /// Reads a linked device's identity over its link, checks compatibility
    /// and stores it, in the site, due for its first inspection at once.
    async fn finish_link(&self, n: NewLink, by: Option<&Principal>) -> Result<DeviceView> {
        let client = LinkTransport::client(self.inner.links.clone(), &n.serial);
        let info = client
            .device_info()
            .await
            .map_err(|e| link_refusal(&n.serial, e))?;
        let model = info.model.clone().unwrap_or_default();
        let family = compat::classify(&model, info.manufacturer.as_deref()).map_err(|e| {
            AppError::Unprocessable {
                code: "device.incompatible",
                message: e.to_string(),
            }
        })?;
        // Labels carry the short serial; deviceInfo often the long form that holds
        // it (model, date, the label's serial, a suffix).
        let reported = info
            .serial_number
            .clone()
            .unwrap_or_default()
            .trim()
            .to_owned();
        if !reported.is_empty() && !reported.contains(&n.serial) {
            return Err(AppError::Unprocessable {
                code: "device.serial_mismatch",
                message: format!(
                    "the device on this link reports serial number {reported}, which is not {}",
                    n.serial
                ),
            });
        }
        let full_serial = if reported.is_empty() {
            n.serial.clone()
        } else {
            reported
        };
        let now = self.now();
        let mut h = self.inner.store.begin().await?;
        h.lock_site(n.site_id).await?;
        let site = load_site(&mut h, n.site_id).await?;
        if let Some(p) = by {
            authorize(
                &p.actor,
                Action::AddDevice(&site_facts(&mut h, &site, now).await?),
            )
            .map_err(AppError::refused("site"))?;
        }
        if let Some(existing) = h.device_by_serial(&full_serial).await? {
            return Err(duplicate(&existing, site.company_id));
        }
        let id = DeviceId(new_uuid());
        let device = Device {
            id,
            company_id: site.company_id,
            site_id: site.id,
            serial: full_serial,
            link_serial: Some(n.serial.clone()),
            name: n.name.clone().unwrap_or_else(|| {
                info.device_name
                    .clone()
                    .filter(|x| !x.trim().is_empty())
                    .unwrap_or_else(|| model.clone())
            }),
            brand: family.brand.clone(),
            model,
            device_type: family.device_type,
            firmware: match (&info.firmware_version, &info.firmware_released_date) {
                (Some(v), Some(d)) => Some(format!("{v} {d}")),
                (v, _) => v.clone(),
            },
            mac: info.mac_address.clone(),
            connection: Connection::Link,
            host: None,
            port: None,
            https: false,
            accept_invalid_certs: false,
            username: None,
            secret: self
                .inner
                .key
                .seal(n.key.as_bytes(), id.to_string().as_bytes()),
            online: true,
            last_seen_at: Some(now),
            created_at: now,
            updated_at: now,
        };
        h.insert_device(&device).await?;
        h.delete_pending_link(&n.serial).await?;
        crate::devices::first_health(&mut h, &device, now).await?;
        Record {
            company_id: Some(site.company_id),
            site_id: Some(site.id),
            action: "device.add",
            summary: match by {
                Some(p) => format!("{} added {} {} ({}) through its link", p.user.name, device.device_type.label(), device.model, device.serial),
                None => format!("{} {} ({}) connected through its link and was added", device.device_type.label(), device.model, device.serial),
            },
            detail: serde_json::json!({ "device_id": device.id, "serial": device.serial, "model": device.model, "via": "link" }),
            by,
        }
        .write(&mut h, now)
        .await?;
        h.commit().await?;
        self.inner.wake.notify_one();
        self.inner.devices_changed.notify_one();
        Ok(DeviceView::from(&device))
    }

    /// The devices of a site added by serial number that have not connected yet
    /// (or were refused when they did), R-14.
    pub async fn pending_site_devices(
        &self,
        p: &Principal,
        site_id: SiteId,
    ) -> Result<Vec<PendingDeviceView>> {
        let mut h = self.inner.store.read().await?;
        let site = load_site(&mut h, site_id).await?;
        let facts = site_facts(&mut h, &site, self.now()).await?;
        authorize(&p.actor, Action::ViewSite(&facts)).map_err(AppError::refused("site"))?;
        Ok(h.pending_links_of_site(site.id)
            .await?
            .iter()
            .map(PendingDeviceView::of)
            .collect())
    }
}

/// What a stored batch asks for once committed.
struct Stored {
    /// Per event of the batch: acknowledge it (stored now or before).
    acked: Vec<bool>,
    /// Alarms to publish.
    alarms: Vec<crate::Event>,
    /// Devices whose status an event may have changed.
    nudge: Vec<DeviceId>,
}

/// A batch of link events read and made into rows, to be written.
struct Prepared {
    /// What is known before the write: which events to acknowledge, which
    /// devices to look at again (the alarms are filled in by the write).
    stored: Stored,
    /// The new alarms, and what the bus tells of each once it is kept.
    rows: Vec<StoredAlarm>,
    events: Vec<crate::Event>,
    /// The devices' counters once the batch is written: (device, epoch, seq).
    counters: Vec<(DeviceId, String, i64)>,
}

/// The intake: takes what is waiting (up to [`INTAKE_BATCH`] events; a small batch
/// waits a moment for more, see [`INTAKE_FILL`]) and stores it in one transaction,
/// until every sender is gone or the application is. What arrives while a batch
/// is stored makes the next one, which is read and prepared meanwhile (on a
/// reading connection), so that the writer only writes.
async fn run_intake(app: Weak<crate::Inner>, mut rx: mpsc::Receiver<Intake>) {
    let mut batch = Vec::with_capacity(INTAKE_BATCH);
    let mut round = counters::FlushRound::default();
    // The batch being written while the next one is read and prepared.
    let mut writing: Option<tokio::task::JoinHandle<()>> = None;
    loop {
        let due = round.due(tokio::time::Instant::now());
        tokio::select! {
            n = rx.recv_many(&mut batch, INTAKE_BATCH) => if n == 0 {
                return;
            },
            () = tokio::time::sleep_until(due) => {},
        }
        if !batch.is_empty() && batch.len() < INTAKE_FILL {
            let linger = tokio::time::Instant::now() + INTAKE_LINGER;
            while batch.len() < INTAKE_FILL {
                let room = INTAKE_BATCH - batch.len();
                match tokio::time::timeout_at(linger, rx.recv_many(&mut batch, room)).await {
                    Ok(n) if n > 0 => {}
                    _ => break,
                }
            }
        }
        let Some(inner) = app.upgrade() else {
            return;
        };
        let app = App { inner };
        if !batch.is_empty() {
            let jobs = std::mem::take(&mut batch);
            let prepared = {
                let all: Vec<&Intake> = jobs.iter().collect();
                app.prepare_link_events(&all).await
            };
            // One write at a time, in the order the batches came.
            if let Some(previous) = writing.take() {
                let _ = previous.await;
            }
            let writer = app.clone();
            writing = Some(tokio::spawn(async move {
                writer.take_link_events(jobs, prepared).await;
            }));
        }
        // Between batches: one step of writing the advanced counters.
        if let Some(devices) = round.step(tokio::time::Instant::now(), &app.inner.links.unwritten) {
            let started = Instant::now();
            if let Err(e) = app.write_link_counters(&devices).await {
                // Still in memory: the next round writes them.
                tracing::warn!(devices = devices.len(), error = %e, "writing link event counters failed");
            }
            tracing::debug!(
                devices = devices.len(),
                ms = started.elapsed().as_secs_f64() * 1000.0,
                "wrote link event counters"
            );
        }
    }
}

fn key_of(bytes: &[u8]) -> Result<LinkKey> {
    let arr: [u8; 32] = bytes
        .try_into()
        .map_err(|_| AppError::Internal("a stored link key is not 32 bytes".into()))?;
    Ok(LinkKey::from_bytes(arr))
}

/// What an installer is told when a linked device cannot be read.
fn link_refusal(serial: &str, e: IsapiError) -> AppError {
    match e {
        IsapiError::Timeout { .. } => AppError::DeviceTimeout {
            message: format!("device {serial} did not answer over its link in time"),
        },
        IsapiError::Unreachable { detail } => AppError::DeviceFailed {
            code: "device.unreachable",
            message: format!("device {serial} could not be asked over its link ({detail})"),
        },
        other => AppError::DeviceFailed {
            code: "device.bad_answer",
            message: format!(
                "device {serial} answered over its link in a way Siteward could not read ({other})"
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_connection_queues_stays_small() {
        // A connection's outgoing queue allocates 32 of these at once, per link.
        assert!(std::mem::size_of::<LinkOut>() <= 16);
    }
}
