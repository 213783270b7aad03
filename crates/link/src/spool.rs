//! The agent's on-disk outbox: one small JSON-lines journal per device in a spool
//! directory, so events not yet acknowledged survive a restart of the device side
//! and keep their `(epoch, seq)` when they are resent (the server stores a seq once).
//!
//! A journal is a sequence of records, one JSON object a line:
//!
//! ```text
//! {"t":"epoch","epoch":"1f0c…","next_seq":1}   the event counter (first line)
//! {"t":"event","seq":1,"xml":"<EventNotificationAlert…"}
//! {"t":"drop","upto":1}                         events up to 1 need not be kept
//! ```
//!
//! An event is written (and synced) before it is queued; acknowledgements are
//! appended without a sync (one lost only makes an event go again, which the
//! server ignores). The journal is rewritten — to a temporary file, synced, then
//! renamed over the old one — when it is opened and when dropped records outweigh
//! kept ones. A torn last line (a crash while writing) is skipped when reading.
//! A lock on `<dir>/.lock` keeps two agents off one spool.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Write as _};
use std::path::{Path, PathBuf};

/// Why a spool could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// The directory or a journal could not be read or written.
    #[error("spool {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What failed.
        source: io::Error,
    },
    /// Another agent holds the spool.
    #[error("spool {0} is in use by another process")]
    Busy(PathBuf),
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> SpoolError + '_ {
    move |source| SpoolError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One journal record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
enum Record {
    /// The event counter, and the lowest seq the next event may take.
    Epoch { epoch: String, next_seq: u64 },
    /// One event.
    Event { seq: u64, xml: String },
    /// Every event up to `upto` is no longer kept (acknowledged or given up).
    Drop { upto: u64 },
}

/// A device's outbox as found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// The event counter's name.
    pub epoch: String,
    /// The seq the next event takes.
    pub next_seq: u64,
    /// Events kept, in seq order.
    pub pending: VecDeque<(u64, String)>,
}

/// An opened spool directory; holds its lock while it lives.
#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    _lock: File,
}

impl Spool {
    /// Opens (creating it if needed) and locks the spool directory.
    pub fn open(dir: &Path) -> Result<Self, SpoolError> {
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        let lock_path = dir.join(".lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_err(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(SpoolError::Busy(dir.to_path_buf())),
            Err(fs::TryLockError::Error(e)) => return Err(io_err(&lock_path)(e)),
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            _lock: lock,
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The journal file of `serial`.
    pub fn path_of(&self, serial: &str) -> PathBuf {
        self.dir.join(format!("{}.jsonl", file_name(serial)))
    }

    /// Opens the journal of `serial`: what it kept, and the journal to go on
    /// writing. A device without a journal starts a new epoch (`new_epoch`).
    pub fn journal(
        &self,
        serial: &str,
        new_epoch: impl FnOnce() -> String,
    ) -> Result<(Stored, Journal), SpoolError> {
        let path = self.path_of(serial);
        let stored = match File::open(&path) {
            Ok(f) => read_journal(BufReader::new(f), new_epoch),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Stored {
                epoch: new_epoch(),
                next_seq: 1,
                pending: VecDeque::new(),
            },
            Err(e) => return Err(io_err(&path)(e)),
        };
        let journal = Journal::rewrite(path, &stored.epoch, stored.next_seq, &stored.pending)?;
        Ok((stored, journal))
    }
}

/// A serial as a file name: letters, digits, `-` and `_` as they are, anything
/// else as `%XX` (so two serials never share a file and none escapes the folder).
pub fn file_name(serial: &str) -> String {
    let mut out = String::with_capacity(serial.len());
    for b in serial.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Replays a journal. Unreadable lines are skipped; without an epoch record the
/// events kept are numbered again in a new epoch.
fn read_journal(reader: impl io::BufRead, new_epoch: impl FnOnce() -> String) -> Stored {
    let mut epoch: Option<String> = None;
    let mut next_seq = 1u64;
    let mut dropped = 0u64;
    let mut pending: VecDeque<(u64, String)> = VecDeque::new();
    for line in reader.split(b'\n') {
        let Ok(line) = line else { break };
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let record: Record = match serde_json::from_slice(&line) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "skipping an unreadable spool line");
                continue;
            }
        };
        match record {
            Record::Epoch {
                epoch: e,
                next_seq: n,
            } => {
                if epoch.as_ref().is_some_and(|old| *old != e) {
                    // A new counter: what the old one kept is numbered in it no more.
                    pending.clear();
                    dropped = 0;
                    next_seq = 1;
                }
                epoch = Some(e);
                next_seq = next_seq.max(n);
            }
            Record::Event { seq, xml } => {
                if seq > dropped && pending.back().is_none_or(|(last, _)| *last < seq) {
                    pending.push_back((seq, xml));
                }
                next_seq = next_seq.max(seq.saturating_add(1));
            }
            Record::Drop { upto } => {
                dropped = dropped.max(upto);
                while pending.front().is_some_and(|(s, _)| *s <= upto) {
                    pending.pop_front();
                }
            }
        }
    }
    match epoch {
        Some(epoch) => Stored {
            epoch,
            next_seq,
            pending,
        },
        None => {
            let pending: VecDeque<(u64, String)> = pending
                .into_iter()
                .zip(1u64..)
                .map(|((_, xml), seq)| (seq, xml))
                .collect();
            Stored {
                epoch: new_epoch(),
                next_seq: pending.len() as u64 + 1,
                pending,
            }
        }
    }
}

/// The journal of one device, open for appending.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
    /// Records in the file.
    records: usize,
}

impl Journal {
    /// Writes a fresh journal holding just `pending` and replaces the old one.
    fn rewrite(
        path: PathBuf,
        epoch: &str,
        next_seq: u64,
        pending: &VecDeque<(u64, String)>,
    ) -> Result<Self, SpoolError> {
        let tmp = path.with_extension("jsonl.tmp");
        {
            let f = File::create(&tmp).map_err(io_err(&tmp))?;
            let mut w = BufWriter::new(f);
            let mut put = |r: &Record| -> io::Result<()> {
                serde_json::to_writer(&mut w, r)?;
                w.write_all(b"\n")
            };
            put(&Record::Epoch {
                epoch: epoch.to_owned(),
                next_seq,
            })
            .map_err(io_err(&tmp))?;
            for (seq, xml) in pending {
                put(&Record::Event {
                    seq: *seq,
                    xml: xml.clone(),
                })
                .map_err(io_err(&tmp))?;
            }
            let f = w.into_inner().map_err(|e| io_err(&tmp)(e.into_error()))?;
            f.sync_all().map_err(io_err(&tmp))?;
        }
        fs::rename(&tmp, &path).map_err(io_err(&path))?;
        if let Some(dir) = path.parent()
            && let Ok(d) = File::open(dir)
        {
            // Makes the rename itself durable; not every system allows it.
            let _ = d.sync_all();
        }
        let file = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(io_err(&path))?;
        Ok(Self {
            path,
            file,
            records: 1 + pending.len(),
        })
    }

    fn append(&mut self, r: &Record, sync: bool) -> Result<(), SpoolError> {
        let mut line = serde_json::to_vec(r).map_err(|e| io_err(&self.path)(e.into()))?;
        line.push(b'\n');
        self.file.write_all(&line).map_err(io_err(&self.path))?;
        if sync {
            self.file.sync_data().map_err(io_err(&self.path))?;
        }
        self.records += 1;
        Ok(())
    }

    /// Keeps one event, durably, before it is queued.
    pub fn event(&mut self, seq: u64, xml: &str) -> Result<(), SpoolError> {
        self.append(
            &Record::Event {
                seq,
                xml: xml.to_owned(),
            },
            true,
        )
    }

    /// Forgets the events up to `upto` (acknowledged or given up); rewrites the
    /// file when what it no longer needs outweighs what it keeps.
    pub fn drop_upto(
        &mut self,
        upto: u64,
        epoch: &str,
        next_seq: u64,
        pending: &VecDeque<(u64, String)>,
    ) -> Result<(), SpoolError> {
        if self.records > 2 * pending.len() + 256 {
            *self = Self::rewrite(self.path.clone(), epoch, next_seq, pending)?;
            return Ok(());
        }
        self.append(&Record::Drop { upto }, false)
    }

    /// Moves the counter on: the next event takes at least `next_seq`.
    pub fn advance(&mut self, epoch: &str, next_seq: u64) -> Result<(), SpoolError> {
        self.append(
            &Record::Epoch {
                epoch: epoch.to_owned(),
                next_seq,
            },
            true,
        )
    }

    /// Records in the file now (for tests and compaction).
    pub fn records(&self) -> usize {
        self.records
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh() -> String {
        "new-epoch".to_owned()
    }

    fn dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "siteward-spool-test-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        let _ = fs::remove_dir_all(&d);
        d
    }

    fn rand_suffix() -> u64 {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        N.fetch_add(1, Ordering::Relaxed)
    }

    #[test]
    fn events_and_drops_replay_to_what_is_still_kept() {
        let d = dir();
        let spool = Spool::open(&d).expect("open");
        let (stored, mut j) = spool.journal("CAM/1", fresh).expect("journal");
        assert_eq!(
            (stored.epoch.as_str(), stored.next_seq, stored.pending.len()),
            ("new-epoch", 1, 0)
        );
        for seq in 1..=4 {
            j.event(seq, &format!("<e{seq}/>")).expect("event");
        }
        let mut kept: VecDeque<(u64, String)> = (3..=4).map(|s| (s, format!("<e{s}/>"))).collect();
        j.drop_upto(2, "new-epoch", 5, &kept).expect("drop");
        drop(j);
        drop(spool);
        let spool = Spool::open(&d).expect("reopen");
        let (stored, mut j) = spool
            .journal("CAM/1", || panic!("the epoch is kept"))
            .expect("journal");
        assert_eq!(stored.epoch, "new-epoch");
        assert_eq!(stored.next_seq, 5);
        assert_eq!(stored.pending, kept);
        assert_eq!(j.records(), 3, "rewritten on opening: epoch + two events");
        // Everything acknowledged: the seq goes on from where it was.
        kept.clear();
        j.drop_upto(4, "new-epoch", 5, &kept).expect("drop");
        drop(j);
        drop(spool);
        let spool = Spool::open(&d).expect("reopen");
        let (stored, _) = spool.journal("CAM/1", fresh).expect("journal");
        assert_eq!((stored.next_seq, stored.pending.len()), (5, 0));
        assert!(spool.path_of("CAM/1").ends_with("CAM%2F1.jsonl"));
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn a_torn_line_is_skipped_and_a_missing_epoch_starts_a_new_one() {
        let text = "{\"t\":\"epoch\",\"epoch\":\"e1\",\"next_seq\":7}\n\
                    {\"t\":\"event\",\"seq\":7,\"xml\":\"<a/>\"}\n\
                    {\"t\":\"event\",\"seq\":8,\"xm";
        let s = read_journal(text.as_bytes(), fresh);
        assert_eq!(
            (s.epoch.as_str(), s.next_seq, s.pending.len()),
            ("e1", 8, 1)
        );
        let s = read_journal(
            "{\"t\":\"event\",\"seq\":9,\"xml\":\"<a/>\"}\n".as_bytes(),
            fresh,
        );
        assert_eq!(s.epoch, "new-epoch");
        assert_eq!(s.pending, VecDeque::from([(1, "<a/>".to_owned())]));
        assert_eq!(s.next_seq, 2);
        let s = read_journal("".as_bytes(), fresh);
        assert_eq!((s.epoch.as_str(), s.next_seq), ("new-epoch", 1));
    }

    #[test]
    fn advancing_the_counter_survives_a_restart() {
        let d = dir();
        let spool = Spool::open(&d).expect("open");
        let (_, mut j) = spool.journal("S", fresh).expect("journal");
        j.advance("new-epoch", 40).expect("advance");
        drop(j);
        let (stored, _) = spool.journal("S", fresh).expect("journal");
        assert_eq!(stored.next_seq, 40);
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn the_journal_is_compacted_when_drops_outweigh_what_is_kept() {
        let d = dir();
        let spool = Spool::open(&d).expect("open");
        let (_, mut j) = spool.journal("S", fresh).expect("journal");
        let none = VecDeque::new();
        for seq in 1..=600 {
            j.event(seq, "<x/>").expect("event");
            j.drop_upto(seq, "new-epoch", seq + 1, &none).expect("drop");
        }
        assert!(j.records() < 300, "{} records", j.records());
        let len = fs::metadata(spool.path_of("S")).expect("meta").len();
        assert!(len < 30_000, "{len} bytes");
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn two_agents_cannot_share_a_spool() {
        let d = dir();
        let first = Spool::open(&d).expect("open");
        assert!(matches!(Spool::open(&d), Err(SpoolError::Busy(_))));
        drop(first);
        assert!(Spool::open(&d).is_ok(), "free again once the first is gone");
        let _ = fs::remove_dir_all(&d);
    }

    struct NoRelay;

    impl crate::agent::Relay for NoRelay {
        fn request(
            &self,
            _: &str,
            _: crate::agent::RelayRequest,
        ) -> futures::future::BoxFuture<'static, crate::agent::RelayAnswer> {
            Box::pin(async {
                crate::agent::RelayAnswer::Failed {
                    error: "unreachable",
                    detail: "test".into(),
                }
            })
        }
    }

    #[tokio::test]
    async fn an_agent_reloads_what_the_last_one_kept_with_its_epoch_and_seq() {
        use crate::agent::{Agent, AgentConfig, AgentDevice};
        let d = dir();
        // Nothing listens on the discard port: the agent keeps trying.
        let mut config = AgentConfig::new(
            "ws://127.0.0.1:9/link/v1",
            "test",
            vec![AgentDevice {
                serial: "S1".into(),
                key: crate::LinkKey::derive("ABCDEF", "S1"),
                device_type: None,
            }],
        );
        config.spool_dir = Some(d.clone());
        config.max_pending = 3;
        let (agent, handle) = Agent::try_new(config.clone(), NoRelay).expect("agent");
        assert!(
            matches!(
                Agent::try_new(config.clone(), NoRelay),
                Err(SpoolError::Busy(_))
            ),
            "one agent per spool"
        );
        let task = tokio::spawn(agent.run());
        let seqs: Vec<Option<u64>> = (1..=4)
            .map(|i| handle.push_event("S1", format!("<e{i}/>")))
            .collect();
        assert_eq!(seqs, [Some(1), Some(2), Some(3), Some(4)]);
        assert_eq!(handle.unacknowledged("S1"), 3, "the oldest is given up");
        assert_eq!(handle.push_event("OTHER", "<x/>"), None);
        let epoch = handle.epoch("S1").expect("epoch");
        handle.stop();
        task.await.expect("agent ends");
        assert_eq!(handle.push_event("S1", "<late/>"), None, "stopped");

        let (_agent, again) = Agent::try_new(config, NoRelay).expect("the spool is free again");
        assert_eq!(again.unacknowledged("S1"), 3);
        assert_eq!(again.epoch("S1"), Some(epoch));
        assert_eq!(again.next_seq("S1"), Some(5));
        assert_eq!(again.push_event("S1", "<e5/>"), Some(5));
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn file_names_stay_in_the_folder_and_apart() {
        assert_eq!(file_name("DS-2CD_1"), "DS-2CD_1");
        assert_eq!(file_name("../x"), "%2E%2E%2Fx");
        assert_ne!(file_name("a%2F"), file_name("a/"));
    }
}
