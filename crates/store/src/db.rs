//! Opening the database, migrations, and the handle every query runs on.

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL names no supported backend.
    #[error("unsupported database URL {0:?}: use sqlite:PATH or postgres://…")]
    UnsupportedUrl(String),
    /// A SQLite URL's `synchronous` setting is neither `full` nor `normal`.
    #[error("unsupported synchronous={0:?} on the SQLite URL: use full (the default) or normal")]
    UnsupportedSynchronous(String),
    /// A unique constraint refused the write (a duplicate).
    #[error("duplicate value: {0}")]
    Duplicate(String),
    /// A stored value could not be read back (a bug or a hand-edited database).
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    /// Migrating the schema failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Any other database error (connection lost, timeout, …).
    #[error("database error: {0}")]
    Database(sqlx::Error),
    /// Flushing the SQLite database file to disk failed.
    #[error("flushing the database file failed: {0}")]
    Flush(std::io::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e
            && db.is_unique_violation()
        {
            return StoreError::Duplicate(db.message().to_owned());
        }
        StoreError::Database(e)
    }
}

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

impl Backend {
    /// The backend's name for logs and reports.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Takes Siteward's own `synchronous` setting off a SQLite URL
/// (`sqlite:PATH?synchronous=full|normal`). `full`, the default, flushes every
/// commit to disk before it returns, so what was acknowledged (a link event, an
/// accepted write) survives a power cut. `normal` flushes only at checkpoints: a
/// commit survives a crash of the process, but the last ones before a power cut
/// may be lost; for those who prefer throughput to that.
fn sqlite_synchronous(url: &str) -> crate::Result<(String, SqliteSynchronous)> {
    let Some((path, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), SqliteSynchronous::Full));
    };
    let mut synchronous = SqliteSynchronous::Full;
    let mut rest = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("synchronous", "full")) => synchronous = SqliteSynchronous::Full,
            Some(("synchronous", "normal")) => synchronous = SqliteSynchronous::Normal,
            Some(("synchronous", other)) => {
                return Err(StoreError::UnsupportedSynchronous(other.to_owned()));
            }
            _ => rest.push(pair),
        }
    }
    let url = if rest.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", rest.join("&"))
    };
    Ok((url, synchronous))
}

#[derive(Debug, Clone)]
enum Pools {
    Sqlite {
        read: SqlitePool,
        /// One connection: SQLite has one writer; queueing here beats lock errors.
        write: SqlitePool,
        /// The database file, flushed beside the writer after each checkpoint
        /// (none for a database in memory).
        file: Option<Arc<std::fs::File>>,
    },
    Postgres(PgPool),
}

/// Pages in SQLite's write-ahead log (32 MiB) from which [`Store::checkpoint`]
/// starts it again.
const RESTART_LOG_AT: i64 = 8192;
/// How many times [`Store::checkpoint`] tries to start the log again, a
/// millisecond apart, before leaving it to the next call.
const RESTART_TRIES: usize = 20;
/// How long a connection waits for a lock (as set by `busy_timeout` when
/// connecting), put back after starting the log again without waiting.
const BUSY_TIMEOUT: &str = "PRAGMA busy_timeout = 10000";

/// The database, shared by every part of the server. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pools: Pools,
}

impl Store {
    /// Connects to the database named by `url` (does not migrate).
    pub async fn connect(url: &str) -> crate::Result<Self> {
        let pools = if let Some(rest) = url.strip_prefix("sqlite:") {
            if rest.is_empty() {
                return Err(StoreError::UnsupportedUrl(url.to_owned()));
            }
            let (url, synchronous) = sqlite_synchronous(url)?;
            let opts = SqliteConnectOptions::from_str(&url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(synchronous)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                // Pages read through a memory map rather than a system call each.
                .pragma("mmap_size", "268435456")
                // Statement journals (a multi-row statement that may have to undo
                // itself) and temporary tables in memory, not in files.
                .pragma("temp_store", "memory")
                // The server copies the write-ahead log into the database and
                // starts it again itself (`Store::checkpoint`); SQLite's own
                // checkpoint at the commit that takes the log past 64 MiB is left
                // for when readers kept the server's from finishing.
                .pragma("wal_autocheckpoint", "16384");
            let path = opts.get_filename().to_path_buf();
            let read = SqlitePoolOptions::new()
                .max_connections(4)
                .connect_with(opts.clone())
                .await?;
            // Only the writer gets a large page cache: a reader's is emptied each
            // time another connection wrote (and it reads through the map).
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(opts.pragma("cache_size", "-65536"))
                .await?;
            // Opened once the pools made sure it exists.
            let file = match std::fs::File::open(&path) {
                Ok(f) => Some(Arc::new(f)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(StoreError::Flush(e)),
            };
            Pools::Sqlite { read, write, file }
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await?;
            Pools::Postgres(pool)
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        };
        Ok(Self { pools })
    }

    /// Connects and brings the schema up to date.
    pub async fn open(url: &str) -> crate::Result<Self> {
        let store = Self::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Applies the migrations not yet applied.
    pub async fn migrate(&self) -> crate::Result<()> {
        match &self.pools {
            Pools::Sqlite { write, .. } => SQLITE_MIGRATIONS.run(write).await?,
            Pools::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        match self.pools {
            Pools::Sqlite { .. } => Backend::Sqlite,
            Pools::Postgres(_) => Backend::Postgres,
        }
    }

    /// The versions of the migrations known to this build and those applied.
    pub async fn migration_status(&self) -> crate::Result<(Vec<i64>, Vec<i64>)> {
        let known = match self.backend() {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
        .iter()
        .map(|m| m.version)
        .collect();
        let mut h = self.read().await?;
        let applied = h.applied_migrations().await?;
        Ok((known, applied))
    }

    /// Copies what SQLite's write-ahead log holds into the database file, beside
    /// the writer (on a reading connection), so commits go on meanwhile, and
    /// flushes the database file, also beside the writer. Once the log holds 8,192
    /// pages (32 MiB), the writer is taken for a moment to copy the little written
    /// since and see every reader out of the log, so that the next commit writes it
    /// again from its beginning; if readers are still in it, the writer is given
    /// back and this tried again a millisecond later. Left to itself, SQLite starts the log again only at
    /// the commit that takes it past `wal_autocheckpoint`, and that commit first
    /// copies everything written since the last copy: a pause of tens of
    /// milliseconds for whoever waits on the writer. Called every 200 ms by the
    /// server; nothing to do on PostgreSQL.
    pub async fn checkpoint(&self) -> crate::Result<()> {
        let Pools::Sqlite { read, write, file } = &self.pools else {
            return Ok(());
        };
        // (busy, pages in the log, pages copied)
        let (_, log, _): (i64, i64, i64) = {
            let mut c = read.acquire().await?;
            sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
                .fetch_one(&mut *c)
                .await?
        };
        // While commits go on, SQLite's copy flushes the database file only if it
        // reached the log's end; otherwise what it wrote waits for the next flush,
        // which would be the writer's. Flushed here, beside it.
        if let Some(file) = file {
            flush_file(file.clone()).await?;
        }
        if log >= RESTART_LOG_AT {
            // Readers that began before the copy hold the log for a millisecond or
            // two: rather than keep the writer while SQLite sleeps on them (1, 2,
            // 5, 10 ms …), give it back between tries.
            for _ in 0..RESTART_TRIES {
                let mut c = write.acquire().await?;
                let started = std::time::Instant::now();
                sqlx::query("PRAGMA busy_timeout = 0")
                    .execute(&mut *c)
                    .await?;
                let restarted: sqlx::Result<(i64, i64, i64)> =
                    sqlx::query_as("PRAGMA wal_checkpoint(RESTART)")
                        .fetch_one(&mut *c)
                        .await;
                if let Err(e) = sqlx::query(BUSY_TIMEOUT).execute(&mut *c).await {
                    // Never hand out a writer that gives up on a lock at once.
                    c.close_on_drop();
                    return Err(e.into());
                }
                drop(c);
                let (busy, _, copied) = restarted?;
                tracing::debug!(
                    log,
                    copied,
                    restarted = busy == 0,
                    ms = started.elapsed().as_secs_f64() * 1000.0,
                    "took the writer to start the write-ahead log again"
                );
                if busy == 0 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        Ok(())
    }

    /// A pooled connection for reads and single-statement writes.
    pub async fn read(&self) -> crate::Result<Handle> {
        let inner = match &self.pools {
            Pools::Sqlite { read, .. } => Inner::SqliteConn(read.acquire().await?),
            Pools::Postgres(pool) => Inner::PgConn(pool.acquire().await?),
        };
        Ok(Handle { inner })
    }

    /// A transaction: nothing it writes is seen until [`Handle::commit`]; dropped
    /// without commit, it rolls back.
    pub async fn begin(&self) -> crate::Result<Handle> {
        let inner = match &self.pools {
            Pools::Sqlite { write, .. } => {
                Inner::SqliteTx(write.begin_with("BEGIN IMMEDIATE").await?)
            }
            Pools::Postgres(pool) => Inner::PgTx(pool.begin().await?),
        };
        Ok(Handle { inner })
    }

    /// Closes every connection (checkpoints SQLite's WAL).
    pub async fn close(&self) {
        match &self.pools {
            Pools::Sqlite { read, write, .. } => {
                read.close().await;
                write.close().await;
            }
            Pools::Postgres(pool) => pool.close().await,
        }
    }
}

/// Flushes a file's written data to disk.
async fn flush_file(file: Arc<std::fs::File>) -> crate::Result<()> {
    match tokio::task::spawn_blocking(move || file.sync_data()).await {
        Ok(r) => r.map_err(StoreError::Flush),
        Err(e) => Err(StoreError::Flush(std::io::Error::other(e))),
    }
}

#[derive(Debug)]
enum Inner {
    SqliteConn(PoolConnection<Sqlite>),
    PgConn(PoolConnection<Postgres>),
    SqliteTx(Transaction<'static, Sqlite>),
    PgTx(Transaction<'static, Postgres>),
}

/// A connection or a transaction on either backend; every query is a method on it.
#[derive(Debug)]
pub struct Handle {
    inner: Inner,
}

/// The concrete connection behind a [`Handle`].
pub(crate) enum Conn<'a> {
    Sqlite(&'a mut sqlx::SqliteConnection),
    Postgres(&'a mut sqlx::PgConnection),
}

impl Handle {
    pub(crate) fn conn(&mut self) -> Conn<'_> {
        match &mut self.inner {
            Inner::SqliteConn(c) => Conn::Sqlite(c),
            Inner::SqliteTx(t) => Conn::Sqlite(t),
            Inner::PgConn(c) => Conn::Postgres(c),
            Inner::PgTx(t) => Conn::Postgres(t),
        }
    }

    /// Which database this is.
    pub(crate) fn backend(&self) -> Backend {
        match self.inner {
            Inner::SqliteConn(_) | Inner::SqliteTx(_) => Backend::Sqlite,
            Inner::PgConn(_) | Inner::PgTx(_) => Backend::Postgres,
        }
    }

    /// Commits a transaction; a plain connection has nothing to commit.
    pub async fn commit(self) -> crate::Result<()> {
        match self.inner {
            Inner::SqliteTx(t) => t.commit().await?,
            Inner::PgTx(t) => t.commit().await?,
            Inner::SqliteConn(_) | Inner::PgConn(_) => {}
        }
        Ok(())
    }

    async fn applied_migrations(&mut self) -> crate::Result<Vec<i64>> {
        const SQL: &str = "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version";
        let rows: Vec<(i64,)> = on_conn!(self, |c| sqlx::query_as(SQL).fetch_all(&mut *c).await)?;
        Ok(rows.into_iter().map(|(v,)| v).collect())
    }

    /// Answers when the database does (for `/readyz`).
    pub async fn ping(&mut self) -> crate::Result<()> {
        let _: (i32,) = on_conn!(self, |c| sqlx::query_as("SELECT 1")
            .fetch_one(&mut *c)
            .await)?;
        Ok(())
    }

    /// Names and columns of every table, sorted: the schema as both migration
    /// folders must produce it.
    pub async fn schema_outline(&mut self) -> crate::Result<Vec<(String, String)>> {
        const SQLITE: &str = "SELECT m.name, p.name FROM sqlite_master m \
            JOIN pragma_table_info(m.name) p WHERE m.type = 'table' \
            AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations' ORDER BY 1, 2";
        const PG: &str = "SELECT table_name::text, column_name::text FROM information_schema.columns \
            WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations' ORDER BY 1, 2";
        let rows = match self.conn() {
            Conn::Sqlite(c) => sqlx::query_as(SQLITE).fetch_all(&mut *c).await?,
            Conn::Postgres(c) => sqlx::query_as(PG).fetch_all(&mut *c).await?,
        };
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_synchronous_setting_comes_off_the_url_and_the_rest_stays() {
        let full = |s: &SqliteSynchronous| matches!(s, SqliteSynchronous::Full);
        let (url, sync) = sqlite_synchronous("sqlite:/d/s.db").expect("plain");
        assert!(url == "sqlite:/d/s.db" && full(&sync));
        let (url, sync) =
            sqlite_synchronous("sqlite:/d/s.db?mode=rwc&synchronous=normal").expect("normal");
        assert!(url == "sqlite:/d/s.db?mode=rwc" && matches!(sync, SqliteSynchronous::Normal));
        let (url, sync) = sqlite_synchronous("sqlite:/d/s.db?synchronous=full").expect("full");
        assert!(url == "sqlite:/d/s.db" && full(&sync));
        assert!(matches!(
            sqlite_synchronous("sqlite:/d/s.db?synchronous=off"),
            Err(StoreError::UnsupportedSynchronous(v)) if v == "off"
        ));
    }

    /// The log holds what 40 commits of 1 MiB wrote (over 8,192 pages): after a
    /// checkpoint the next commit writes from its beginning, and everything
    /// written is there.
    #[tokio::test]
    async fn a_checkpoint_starts_a_long_log_again_and_keeps_what_was_written() {
        let dir = std::env::temp_dir().join(format!("siteward-ckpt-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let store = Store::connect(&format!("sqlite:{}", dir.join("s.db").display()))
            .await
            .expect("connect");
        let Pools::Sqlite { read, write, file } = &store.pools else {
            unreachable!("a SQLite URL")
        };
        assert!(file.is_some(), "the database file is kept open to flush it");
        sqlx::query("CREATE TABLE blobs (b BLOB NOT NULL)")
            .execute(write)
            .await
            .expect("create");
        for _ in 0..40 {
            sqlx::query("INSERT INTO blobs VALUES (zeroblob(1048576))")
                .execute(write)
                .await
                .expect("insert");
        }
        let log = "PRAGMA wal_checkpoint(PASSIVE)";
        let (_, before, _): (i64, i64, i64) =
            sqlx::query_as(log).fetch_one(read).await.expect("log");
        assert!(before >= RESTART_LOG_AT, "the log holds {before} pages");
        store.checkpoint().await.expect("checkpoint");
        // The next commit writes from the log's beginning.
        sqlx::query("INSERT INTO blobs VALUES (zeroblob(10))")
            .execute(write)
            .await
            .expect("insert");
        let (_, after, _): (i64, i64, i64) =
            sqlx::query_as(log).fetch_one(read).await.expect("log");
        assert!(after < 10, "the log started again: {after} pages");
        let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM blobs WHERE length(b) = 1048576")
            .fetch_one(read)
            .await
            .expect("count");
        assert_eq!(n, 40);
        // The writer waits for locks as before.
        let (busy,): (i64,) = sqlx::query_as("PRAGMA busy_timeout")
            .fetch_one(write)
            .await
            .expect("busy timeout");
        assert_eq!(busy, 10_000);
        store.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}
