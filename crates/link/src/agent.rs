//! The device side of the link: connects out to Siteward, proves each device it
//! serves, answers ISAPI requests through a [`Relay`] (the device itself, or the
//! LAN devices behind a bridge), sends events and keeps every one until the server
//! acknowledges it, and reconnects with jittered back-off.
//!
//! Events are kept in memory by default; with [`AgentConfig::spool_dir`] they are
//! also kept on disk ([`crate::spool`]) and reloaded, with their epoch and seq, by
//! the next agent on the same directory.

use crate::backoff::Backoff;
use crate::frame::{
    self, DeviceClaim, Frame, LinkEvent, LinkRequest, LinkResponse, MAX_EVENTS_IN_FLIGHT, Outcome,
    Register,
};
use crate::proof::{LinkKey, nonce_from};
use crate::spool::{Journal, Spool, SpoolError};
use futures::future::BoxFuture;
use futures::{SinkExt as _, StreamExt as _};
use rand::Rng as _;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, mpsc, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// One device this agent serves.
#[derive(Debug, Clone)]
pub struct AgentDevice {
    /// Serial number.
    pub serial: String,
    /// The key derived from its verification code.
    pub key: LinkKey,
    /// A hint of its type (`ipc`, `nvr`, …).
    pub device_type: Option<String>,
}

/// How the agent connects.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// `ws://…/link/v1` or `wss://…/link/v1`.
    pub url: String,
    /// The software, for the server's logs.
    pub agent: String,
    /// The devices served.
    pub devices: Vec<AgentDevice>,
    /// Reconnect back-off.
    pub backoff: Backoff,
    /// How long a connection must last before the back-off starts over.
    pub stable_after: Duration,
    /// The local address to connect from (`ws://` only); `None`: the system's
    /// choice. A load test spreads many links over loopback addresses, as one
    /// address runs out of ports.
    pub local_addr: Option<std::net::IpAddr>,
    /// Where to keep unacknowledged events on disk, so they survive a restart;
    /// `None` (the default) keeps them in memory only.
    pub spool_dir: Option<PathBuf>,
    /// The most events kept per device while the server cannot be reached; beyond
    /// it the oldest are given up (with a warning).
    pub max_pending: usize,
}

/// Events kept per device by default while the server cannot be reached.
pub const DEFAULT_MAX_PENDING: usize = 10_000;

impl AgentConfig {
    /// A configuration with the protocol's default back-off.
    pub fn new(
        url: impl Into<String>,
        agent: impl Into<String>,
        devices: Vec<AgentDevice>,
    ) -> Self {
        Self {
            url: url.into(),
            agent: agent.into(),
            devices,
            backoff: Backoff::default(),
            stable_after: Duration::from_secs(60),
            local_addr: None,
            spool_dir: None,
            max_pending: DEFAULT_MAX_PENDING,
        }
    }
}

/// An ISAPI request the server sent down the link.
#[derive(Debug, Clone)]
pub struct RelayRequest {
    /// HTTP method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

/// The answer to a relayed request.
#[derive(Debug, Clone)]
pub enum RelayAnswer {
    /// The device answered.
    Http {
        /// Status.
        status: u16,
        /// Headers.
        headers: Vec<(String, String)>,
        /// Body.
        body: Vec<u8>,
    },
    /// It could not be asked: `unreachable`, `timeout`, `too_large`, `unknown_device`.
    Failed {
        /// The error code.
        error: &'static str,
        /// Details.
        detail: String,
    },
}

/// Answers ISAPI requests for the devices an agent serves.
pub trait Relay: Send + Sync + 'static {
    /// Asks device `serial`.
    fn request(&self, serial: &str, request: RelayRequest) -> BoxFuture<'static, RelayAnswer>;
}

/// What the agent is doing, for whoever runs it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentStatus {
    /// Whether a connection is registered now.
    pub connected: bool,
    /// Serials the server accepted on this connection.
    pub accepted: Vec<String>,
    /// Serials the server is waiting to be told the code of.
    pub waiting: Vec<String>,
    /// Why the last connection ended or failed.
    pub last_error: Option<String>,
    /// Connections registered so far.
    pub connections: u64,
}

/// The events of one device not yet acknowledged.
#[derive(Debug)]
struct Queue {
    epoch: String,
    next_seq: u64,
    acked: u64,
    /// Sent on the current connection, up to this seq.
    sent: u64,
    pending: VecDeque<(u64, String)>,
    /// The on-disk copy, when the agent has a spool.
    journal: Option<Journal>,
}

impl Queue {
    fn new(epoch: String, next_seq: u64, pending: VecDeque<(u64, String)>) -> Self {
        Self {
            epoch,
            next_seq,
            acked: 0,
            sent: 0,
            pending,
            journal: None,
        }
    }

    /// Forgets the events up to `upto`, on disk too.
    fn drop_upto(&mut self, serial: &str, upto: u64) {
        let before = self.pending.len();
        while self.pending.front().is_some_and(|(s, _)| *s <= upto) {
            self.pending.pop_front();
        }
        if before == self.pending.len() {
            return;
        }
        if let Some(j) = self.journal.as_mut()
            && let Err(e) = j.drop_upto(upto, &self.epoch, self.next_seq, &self.pending)
        {
            tracing::warn!(serial, error = %e, "could not note acknowledged events in the spool");
        }
    }
}

/// What the outbox lock guards.
#[derive(Debug, Default)]
struct Queues {
    map: HashMap<String, Queue>,
    /// The agent has stopped: nothing more is queued (its spool is released).
    closed: bool,
    max_pending: usize,
    /// Held while the agent runs, so no other agent uses the spool.
    spool: Option<Spool>,
}

/// The events every device of the agent has to tell, kept until acknowledged.
#[derive(Debug, Default)]
struct Outbox {
    queues: Mutex<Queues>,
    added: Notify,
}

impl Outbox {
    fn lock(&self) -> MutexGuard<'_, Queues> {
        self.queues
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Queues kept in memory only, each with a new epoch.
    fn in_memory(config: &AgentConfig) -> Self {
        let outbox = Self::default();
        {
            let mut q = outbox.lock();
            q.max_pending = config.max_pending.max(1);
            for d in &config.devices {
                q.map.insert(
                    d.serial.clone(),
                    Queue::new(new_epoch(), 1, VecDeque::new()),
                );
            }
        }
        outbox
    }

    /// Queues as the spool kept them (a new epoch for a device it does not know).
    fn spooled(config: &AgentConfig, dir: &std::path::Path) -> Result<Self, SpoolError> {
        let spool = Spool::open(dir)?;
        let outbox = Self::default();
        {
            let mut q = outbox.lock();
            q.max_pending = config.max_pending.max(1);
            for d in &config.devices {
                let (stored, journal) = spool.journal(&d.serial, new_epoch)?;
                if !stored.pending.is_empty() {
                    tracing::info!(serial = %d.serial, events = stored.pending.len(), "events reloaded from the spool");
                }
                let mut queue = Queue::new(stored.epoch, stored.next_seq, stored.pending);
                queue.journal = Some(journal);
                let over = queue.pending.len().saturating_sub(q.max_pending);
                if over > 0
                    && let Some(&(upto, _)) = queue.pending.get(over - 1)
                {
                    queue.drop_upto(&d.serial, upto);
                }
                q.map.insert(d.serial.clone(), queue);
            }
            q.spool = Some(spool);
        }
        Ok(outbox)
    }

    /// After the agent stopped: queue nothing more, release the spool.
    fn close(&self) {
        let mut q = self.lock();
        q.closed = true;
        for queue in q.map.values_mut() {
            queue.journal = None;
        }
        q.spool = None;
    }
}

/// A new event counter's name.
fn new_epoch() -> String {
    format!("{:016x}", rand::rng().random::<u64>())
}

/// Controls a running agent.
#[derive(Debug, Clone)]
pub struct AgentHandle {
    outbox: Arc<Outbox>,
    status: watch::Receiver<AgentStatus>,
    stop: watch::Sender<bool>,
    drop_link: Arc<Notify>,
}

impl AgentHandle {
    /// Queues an event (`EventNotificationAlert` XML) of device `serial`; it is sent
    /// now or after the next reconnect, and kept until acknowledged. Returns its seq,
    /// or `None` for a device the agent does not serve or once the agent stopped.
    ///
    /// With a spool the event is written and synced to disk before this returns
    /// (a short blocking write); if that fails it is still kept in memory.
    pub fn push_event(&self, serial: &str, xml: impl Into<String>) -> Option<u64> {
        let xml = xml.into();
        let seq = {
            let mut q = self.outbox.lock();
            if q.closed {
                return None;
            }
            let max = q.max_pending;
            let queue = q.map.get_mut(serial)?;
            let seq = queue.next_seq;
            if let Some(j) = queue.journal.as_mut()
                && let Err(e) = j.event(seq, &xml)
            {
                tracing::error!(serial, error = %e, "could not keep an event in the spool; it is kept in memory only");
            }
            queue.next_seq += 1;
            queue.pending.push_back((seq, xml));
            if queue.pending.len() > max
                && let Some(&(oldest, _)) = queue.pending.front()
            {
                tracing::warn!(
                    serial,
                    seq = oldest,
                    "too many events waiting for the server; the oldest is given up"
                );
                queue.drop_upto(serial, oldest);
            }
            seq
        };
        self.outbox.added.notify_one();
        Some(seq)
    }

    /// The highest seq of `serial`'s current epoch the server acknowledged (0:
    /// none yet); `None` for a serial this agent does not serve.
    pub fn acked_seq(&self, serial: &str) -> Option<u64> {
        self.outbox.lock().map.get(serial).map(|q| q.acked)
    }

    /// Events of `serial` not yet acknowledged.
    pub fn unacknowledged(&self, serial: &str) -> usize {
        self.outbox
            .lock()
            .map
            .get(serial)
            .map_or(0, |q| q.pending.len())
    }

    /// The name of `serial`'s event counter.
    pub fn epoch(&self, serial: &str) -> Option<String> {
        self.outbox.lock().map.get(serial).map(|q| q.epoch.clone())
    }

    /// The seq `serial`'s next event will take.
    pub fn next_seq(&self, serial: &str) -> Option<u64> {
        self.outbox.lock().map.get(serial).map(|q| q.next_seq)
    }

    /// The status now, and its changes.
    pub fn status(&self) -> watch::Receiver<AgentStatus> {
        self.status.clone()
    }

    /// Drops the current connection without a close frame, as a network failure
    /// would (the agent reconnects after its back-off).
    pub fn drop_connection(&self) {
        self.drop_link.notify_one();
    }

    /// Stops the agent.
    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }
}

/// The device side of the link.
pub struct Agent {
    config: AgentConfig,
    relay: Arc<dyn Relay>,
    outbox: Arc<Outbox>,
    status: watch::Sender<AgentStatus>,
    stop: watch::Receiver<bool>,
    drop_link: Arc<Notify>,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent")
            .field("url", &self.config.url)
            .field("devices", &self.config.devices.len())
            .finish_non_exhaustive()
    }
}

/// Why a connection ended.
#[derive(Debug)]
enum End {
    Stopped,
    Failed(String),
    /// Another connection serves the devices now (close 4409): wait long before
    /// trying again, so two copies of one device do not take turns.
    Replaced,
}

impl Agent {
    /// An agent and its handle; [`Agent::run`] it on a task.
    ///
    /// When `config.spool_dir` is set but the spool cannot be opened, this logs the
    /// error and keeps events in memory; use [`Agent::try_new`] to be told instead.
    pub fn new(config: AgentConfig, relay: impl Relay) -> (Self, AgentHandle) {
        let outbox = match &config.spool_dir {
            None => Outbox::in_memory(&config),
            Some(dir) => Outbox::spooled(&config, dir).unwrap_or_else(|e| {
                tracing::error!(error = %e, "the spool cannot be used; events are kept in memory only");
                Outbox::in_memory(&config)
            }),
        };
        Self::with_outbox(config, relay, outbox)
    }

    /// Like [`Agent::new`], but fails when the spool cannot be opened or read
    /// (a directory that cannot be written, or one another agent holds).
    pub fn try_new(
        config: AgentConfig,
        relay: impl Relay,
    ) -> Result<(Self, AgentHandle), SpoolError> {
        let outbox = match &config.spool_dir {
            None => Outbox::in_memory(&config),
            Some(dir) => Outbox::spooled(&config, dir)?,
        };
        Ok(Self::with_outbox(config, relay, outbox))
    }

    fn with_outbox(config: AgentConfig, relay: impl Relay, outbox: Outbox) -> (Self, AgentHandle) {
        let outbox = Arc::new(outbox);
        let (status_tx, status_rx) = watch::channel(AgentStatus::default());
        let (stop_tx, stop_rx) = watch::channel(false);
        let drop_link = Arc::new(Notify::new());
        let handle = AgentHandle {
            outbox: outbox.clone(),
            status: status_rx,
            stop: stop_tx,
            drop_link: drop_link.clone(),
        };
        (
            Self {
                config,
                relay: Arc::new(relay),
                outbox,
                status: status_tx,
                stop: stop_rx,
                drop_link,
            },
            handle,
        )
    }

    /// Connects, serves, and reconnects until stopped; then queues nothing more
    /// and releases its spool.
    pub async fn run(self) {
        let outbox = self.outbox.clone();
        self.serve().await;
        outbox.close();
    }

    async fn serve(mut self) {
        let mut backoff = self.config.backoff.clone();
        loop {
            if *self.stop.borrow() {
                return;
            }
            let started = Instant::now();
            let end = self.connection().await;
            self.status.send_modify(|s| {
                s.connected = false;
                s.accepted.clear();
                s.waiting.clear();
                match &end {
                    End::Failed(e) => s.last_error = Some(e.clone()),
                    End::Replaced => s.last_error = Some("replaced by a newer connection".into()),
                    End::Stopped => {}
                }
            });
            let wait = match end {
                End::Stopped => return,
                End::Replaced => backoff.cap(),
                End::Failed(e) => {
                    tracing::debug!(url = %self.config.url, error = %e, "link closed");
                    if started.elapsed() >= self.config.stable_after {
                        backoff.reset();
                    }
                    backoff.next_wait(rand::rng().random::<f64>())
                }
            };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                _ = self.stop.changed() => return,
            }
        }
    }

    /// One connection, from the handshake to its end.
    async fn connection(&mut self) -> End {
        let mut request = match self.config.url.as_str().into_client_request() {
            Ok(r) => r,
            Err(e) => return End::Failed(format!("bad URL: {e}")),
        };
        request
            .headers_mut()
            .insert("sec-websocket-protocol", http_value(frame::SUBPROTOCOL));
        let ws_config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
            .max_message_size(Some(frame::MAX_FRAME_BYTES))
            .max_frame_size(Some(frame::MAX_FRAME_BYTES))
            .read_buffer_size(4 * 1024);
        let connect = connect_from(self.config.local_addr, request, ws_config);
        let (ws, _) = match tokio::time::timeout(Duration::from_secs(15), connect).await {
            Ok(Ok(ok)) => ok,
            Ok(Err(e)) => return End::Failed(format!("connect: {e}")),
            Err(_) => return End::Failed("connect: timed out".into()),
        };
        let (mut sink, mut stream) = ws.split();

        // Handshake: hello → register → registered.
        let hello = match next_frame(&mut stream, Duration::from_secs(10)).await {
            Ok(Frame::Hello(h)) => h,
            Ok(other) => return End::Failed(format!("expected hello, got {other:?}")),
            Err(e) => return End::Failed(e),
        };
        let client_nonce = nonce_from(rand::rng().random());
        let claims: Vec<DeviceClaim> = {
            let q = self.outbox.lock();
            self.config
                .devices
                .iter()
                .map(|d| DeviceClaim {
                    serial: d.serial.clone(),
                    proof: d.key.device_proof(&hello.nonce, &d.serial),
                    epoch: q
                        .map
                        .get(&d.serial)
                        .map(|q| q.epoch.clone())
                        .unwrap_or_default(),
                    device_type: d.device_type.clone(),
                })
                .collect()
        };
        let register = Frame::Register(Register {
            agent: self.config.agent.clone(),
            nonce: client_nonce.clone(),
            devices: claims,
        });
        if let Err(e) = sink.send(Message::text(register.encode())).await {
            return End::Failed(format!("send register: {e}"));
        }

        let (out_tx, mut out_rx) = mpsc::channel::<Message>(256);
        let writer = tokio::spawn(async move {
            while let Some(m) = out_rx.recv().await {
                let closing = matches!(m, Message::Close(_));
                if sink.send(m).await.is_err() || closing {
                    break;
                }
            }
            let _ = sink.close().await;
        });
        let keys: BTreeMap<String, LinkKey> = self
            .config
            .devices
            .iter()
            .map(|d| (d.serial.clone(), d.key.clone()))
            .collect();
        let heartbeat = Duration::from_secs(u64::from(hello.heartbeat_secs.clamp(1, 3600)));
        let silence = Duration::from_secs(u64::from(hello.silence_limit_secs.clamp(2, 7200)));
        let mut ticker = tokio::time::interval(heartbeat);
        ticker.tick().await;
        let mut last_heard = Instant::now();
        let mut registered = false;
        let end = loop {
            tokio::select! {
                msg = stream.next() => {
                    last_heard = Instant::now();
                    let text = match msg {
                        Some(Ok(Message::Text(t))) => t,
                        Some(Ok(Message::Close(Some(c)))) if u16::from(c.code) == frame::close::REPLACED => break End::Replaced,
                        Some(Ok(Message::Close(c))) => break End::Failed(format!("closed by the server: {c:?}")),
                        Some(Ok(_)) => continue,
                        Some(Err(e)) => break End::Failed(format!("read: {e}")),
                        None => break End::Failed("connection ended".into()),
                    };
                    let frame = match Frame::decode(text.as_str()) {
                        Ok(f) => f,
                        Err(e) => {
                            tracing::warn!(error = %e, "bad frame from the server");
                            continue;
                        }
                    };
                    match frame {
                        Frame::Registered(r) => {
                            if let Err(e) = self.take_registered(&r, &keys, &client_nonce) {
                                break End::Failed(e);
                            }
                            if !registered {
                                registered = true;
                                self.status.send_modify(|s| {
                                    s.connected = true;
                                    s.connections += 1;
                                    s.last_error = None;
                                });
                            }
                            self.send_events(&out_tx).await;
                        }
                        Frame::Request(r) => self.relay_request(r, &out_tx),
                        Frame::Ack(a) => {
                            self.take_ack(&a);
                            self.send_events(&out_tx).await;
                        }
                        Frame::Replaced(r) => {
                            self.status.send_modify(|s| s.accepted.retain(|x| *x != r.serial));
                        }
                        _ => {}
                    }
                }
                () = self.outbox.added.notified() => {
                    self.send_events(&out_tx).await;
                }
                _ = ticker.tick() => {
                    if last_heard.elapsed() > silence {
                        break End::Failed("the server was silent too long".into());
                    }
                    if out_tx.send(Message::Ping(Vec::new().into())).await.is_err() {
                        break End::Failed("writer ended".into());
                    }
                }
                () = self.drop_link.notified() => {
                    break End::Failed("dropped on request".into());
                }
                _ = self.stop.changed() => {
                    let _ = out_tx.send(Message::Close(Some(CloseFrame {
                        code: CloseCode::Normal,
                        reason: "stopping".into(),
                    }))).await;
                    break End::Stopped;
                }
            }
        };
        drop(out_tx);
        if matches!(end, End::Stopped) {
            let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
        } else {
            writer.abort();
        }
        end
    }

    /// An acknowledgement: the events up to it are stored and need not be kept.
    fn take_ack(&self, a: &frame::Ack) {
        let mut q = self.outbox.lock();
        if let Some(queue) = q.map.get_mut(&a.serial).filter(|q| q.epoch == a.epoch) {
            queue.acked = queue.acked.max(a.seq);
            queue.drop_upto(&a.serial, a.seq);
        }
    }

    /// Takes the server's outcomes: accepted devices resend what was not stored.
    fn take_registered(
        &self,
        r: &frame::Registered,
        keys: &BTreeMap<String, LinkKey>,
        client_nonce: &str,
    ) -> Result<(), String> {
        let mut q = self.outbox.lock();
        for d in &r.devices {
            let Some(key) = keys.get(&d.serial) else {
                continue;
            };
            match d.state {
                Outcome::Accepted => {
                    let proof = d.server_proof.as_deref().unwrap_or_default();
                    if !key.verify_server(client_nonce, &d.serial, proof) {
                        return Err(format!(
                            "the server did not prove it knows the key of {}",
                            d.serial
                        ));
                    }
                    if let Some(queue) = q.map.get_mut(&d.serial) {
                        if d.acked_seq >= queue.next_seq {
                            // The server stored more of this epoch than is remembered
                            // here (a spool that lost its tail): new events go on after
                            // it, or the server would take them for ones it has.
                            queue.next_seq = d.acked_seq.saturating_add(1);
                            if let Some(j) = queue.journal.as_mut()
                                && let Err(e) = j.advance(&queue.epoch, queue.next_seq)
                            {
                                tracing::warn!(serial = %d.serial, error = %e, "could not note the event counter in the spool");
                            }
                        }
                        queue.acked = d.acked_seq;
                        queue.drop_upto(&d.serial, d.acked_seq);
                        queue.sent = queue.acked;
                    }
                    self.status.send_modify(|s| {
                        s.waiting.retain(|x| *x != d.serial);
                        if !s.accepted.contains(&d.serial) {
                            s.accepted.push(d.serial.clone());
                        }
                    });
                }
                Outcome::Waiting => self.status.send_modify(|s| {
                    if !s.waiting.contains(&d.serial) {
                        s.waiting.push(d.serial.clone());
                    }
                }),
                Outcome::Rejected => {
                    tracing::warn!(serial = %d.serial, reason = ?d.reason, "the server rejected a device");
                }
            }
        }
        Ok(())
    }

    /// Sends the events of accepted devices not yet sent on this connection,
    /// keeping at most [`MAX_EVENTS_IN_FLIGHT`] unacknowledged per device.
    async fn send_events(&self, out: &mpsc::Sender<Message>) {
        let accepted = self.status.borrow().accepted.clone();
        let mut frames = Vec::new();
        {
            let mut q = self.outbox.lock();
            for serial in &accepted {
                let Some(queue) = q.map.get_mut(serial) else {
                    continue;
                };
                // In flight: from the oldest kept event (older ones may have been
                // given up without an acknowledgement).
                let base = queue
                    .pending
                    .front()
                    .map_or(queue.acked, |(s, _)| queue.acked.max(s - 1));
                let limit = base + MAX_EVENTS_IN_FLIGHT as u64;
                for (seq, xml) in &queue.pending {
                    if *seq <= queue.sent {
                        continue;
                    }
                    if *seq > limit {
                        break;
                    }
                    frames.push(Frame::Event(LinkEvent {
                        serial: serial.clone(),
                        epoch: queue.epoch.clone(),
                        seq: *seq,
                        xml: xml.clone(),
                    }));
                    queue.sent = *seq;
                }
            }
        }
        for f in frames {
            if out.send(Message::text(f.encode())).await.is_err() {
                return;
            }
        }
    }

    /// Asks the relay and sends the answer back, without holding up the link.
    fn relay_request(&self, r: LinkRequest, out: &mpsc::Sender<Message>) {
        let relay = self.relay.clone();
        let out = out.clone();
        tokio::spawn(async move {
            let answer = match frame::decode_body(&r.body) {
                Ok(body) => {
                    relay
                        .request(
                            &r.serial,
                            RelayRequest {
                                method: r.method,
                                path: r.path,
                                headers: r.headers,
                                body,
                            },
                        )
                        .await
                }
                Err(e) => RelayAnswer::Failed {
                    error: "unreachable",
                    detail: e.to_string(),
                },
            };
            let response = match answer {
                RelayAnswer::Http {
                    status,
                    headers,
                    body,
                } if body.len() * 4 / 3 + 4096 < frame::MAX_FRAME_BYTES => LinkResponse {
                    id: r.id,
                    status: Some(status),
                    headers,
                    body: frame::encode_body(&body),
                    error: None,
                    detail: None,
                },
                RelayAnswer::Http { body, .. } => failed(
                    r.id,
                    "too_large",
                    format!("a body of {} bytes does not fit in a frame", body.len()),
                ),
                RelayAnswer::Failed { error, detail } => failed(r.id, error, detail),
            };
            let _ = out
                .send(Message::text(Frame::Response(response).encode()))
                .await;
        });
    }
}

fn failed(id: u64, error: &str, detail: String) -> LinkResponse {
    LinkResponse {
        id,
        status: None,
        headers: Vec::new(),
        body: String::new(),
        error: Some(error.to_owned()),
        detail: Some(detail),
    }
}

/// Opens the WebSocket, from `local` when one is given.
async fn connect_from(
    local: Option<std::net::IpAddr>,
    request: tokio_tungstenite::tungstenite::handshake::client::Request,
    config: tokio_tungstenite::tungstenite::protocol::WebSocketConfig,
) -> Result<
    (
        tokio_tungstenite::WebSocketStream<
            tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
        >,
        tokio_tungstenite::tungstenite::handshake::client::Response,
    ),
    tokio_tungstenite::tungstenite::Error,
> {
    // Frames are small and written one at a time: Nagle's algorithm would hold
    // an acknowledgement or response back until the previous one is answered.
    let Some(ip) = local else {
        return tokio_tungstenite::connect_async_with_config(request, Some(config), true).await;
    };
    let uri = request.uri();
    if uri.scheme_str() != Some("ws") {
        // This build has no TLS of its own; `wss` goes through the system's choice.
        return Err(tokio_tungstenite::tungstenite::Error::Url(
            tokio_tungstenite::tungstenite::error::UrlError::TlsFeatureNotEnabled,
        ));
    }
    let host = uri
        .host()
        .unwrap_or_default()
        .trim_matches(['[', ']'])
        .to_owned();
    let port = uri.port_u16().unwrap_or(80);
    let remote = tokio::net::lookup_host((host.as_str(), port))
        .await?
        .find(|a| a.is_ipv4() == ip.is_ipv4())
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::AddrNotAvailable,
                format!("{host} has no address of the family of {ip}"),
            )
        })?;
    let socket = if ip.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.bind(std::net::SocketAddr::new(ip, 0))?;
    let stream = socket.connect(remote).await?;
    stream.set_nodelay(true)?;
    tokio_tungstenite::client_async_with_config(
        request,
        tokio_tungstenite::MaybeTlsStream::Plain(stream),
        Some(config),
    )
    .await
}

fn http_value(v: &'static str) -> tokio_tungstenite::tungstenite::http::HeaderValue {
    tokio_tungstenite::tungstenite::http::HeaderValue::from_static(v)
}

/// The next protocol frame, skipping control frames, within `wait`.
async fn next_frame<S>(stream: &mut S, wait: Duration) -> Result<Frame, String>
where
    S: futures::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Err(_) => return Err("the server said nothing in time".into()),
            Ok(None) => return Err("connection ended".into()),
            Ok(Some(Err(e))) => return Err(format!("read: {e}")),
            Ok(Some(Ok(Message::Text(t)))) => {
                return Frame::decode(t.as_str()).map_err(|e| e.to_string());
            }
            Ok(Some(Ok(Message::Close(c)))) => return Err(format!("closed by the server: {c:?}")),
            Ok(Some(Ok(_))) => {}
        }
    }
}
