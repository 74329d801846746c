//! The account core: every use case of the five documents, with no HTTP and no wire shapes.
//! Database work runs on storage threads (SQLite writes on one writer thread, committed in
//! batches) and bcrypt on hashing threads, never on an async worker.

pub mod accounts;
pub mod avatars;
pub mod clock;
pub mod dialect_modes;
mod group_commit;
mod guesses;
pub mod hashing;
pub mod image_codes;
pub mod profiles;
pub mod sessions;
pub mod sms;
pub mod sms_sender;
pub mod sms_stats;
pub mod social;
mod workers;

use std::sync::Arc;
use std::time::Duration;

use crate::domain::CoreError;
use crate::storage::{
    Backend, ConnectFailures, DatabaseUrl, DbConnection, Pool, PooledConnection, write_tx,
};
use group_commit::GroupCommit;
use workers::{ThreadState, Workers};

pub use clock::{Clock, ManualClock, SystemClock};
pub use hashing::PasswordHasher;
pub use sms_sender::{SmsDelivery, SmsSender};

/// Limits of the SMS code flow.
#[derive(Debug, Clone)]
pub struct SmsPolicy {
    pub code_ttl: Duration,
    pub resend_interval: Duration,
    pub daily_limit_per_phone: u32,
    pub hourly_limit_per_ip: u32,
}

/// Login protection.
#[derive(Debug, Clone)]
pub struct LoginPolicy {
    /// Wrong passwords in a row before the account is locked for a while (0 = never).
    pub lockout_threshold: u32,
    /// Failed logins per client address per minute before further attempts are refused (0 = no limit).
    pub attempts_per_ip_per_minute: u32,
    /// Wrong session tokens and SMS codes per client address per minute before every further
    /// one is refused (0 = no limit); ten times as many against one account refuse the
    /// addresses that keep failing.
    pub guesses_per_ip_per_minute: u32,
}

/// Test-only behaviour, off unless `testing.enabled`.
#[derive(Debug, Clone, Default)]
pub struct TestHooks {
    pub enabled: bool,
    pub fixed_code: Option<String>,
}

/// Everything the core needs, built once at start-up.
pub struct CoreConfig {
    pub sms: SmsPolicy,
    pub login: LoginPolicy,
    pub testing: TestHooks,
}

/// The account core. Cheap to clone; every clone shares the pool and the hashing queue.
#[derive(Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    /// The threads that run database work, each keeping a connection while work keeps coming.
    storage: Workers<StorageThread>,
    /// SQLite's single writer, which commits concurrent writes together; `None` on
    /// PostgreSQL, where writes run on the storage threads.
    writer: Option<GroupCommit>,
    clock: Arc<dyn Clock>,
    config: CoreConfig,
    hasher: PasswordHasher,
    sms: SmsDelivery,
    sms_stats: sms_stats::SmsStats,
}

/// The database as the core uses it.
pub struct Database {
    pub pool: Pool,
    /// When the pool last failed to connect: during an outage requests fail fast.
    pub failures: ConnectFailures,
    /// Where it is: SQLite gets a writer connection of its own besides the pool.
    pub url: DatabaseUrl,
    /// How many threads run database work, each holding at most one pooled connection.
    pub threads: usize,
}

/// How long a storage thread keeps its connection without work before giving it back to the
/// pool (where it is validated before its next use).
const STORAGE_IDLE: Duration = Duration::from_secs(1);

impl Service {
    pub fn new(
        database: Database,
        clock: Arc<dyn Clock>,
        config: CoreConfig,
        hasher: PasswordHasher,
        sms: SmsDelivery,
    ) -> std::io::Result<Service> {
        let Database {
            pool,
            failures,
            url,
            threads,
        } = database;
        let thread_pool = pool.clone();
        let storage = Workers::start("rosetta-db", threads, STORAGE_IDLE, move || StorageThread {
            pool: thread_pool.clone(),
            failures: failures.clone(),
            held: None,
        })?;
        let providers: Vec<&'static str> = std::iter::once(&sms.primary)
            .chain(&sms.fallback)
            .map(SmsSender::name)
            .collect();
        let sms_stats = sms_stats::SmsStats::for_providers(&providers);
        let writer = match url.backend() {
            Backend::Sqlite => Some(GroupCommit::start(url)?),
            Backend::Postgres => None,
        };
        Ok(Service {
            inner: Arc::new(Inner {
                pool,
                storage,
                writer,
                clock,
                config,
                hasher,
                sms,
                sms_stats,
            }),
        })
    }

    pub fn now_ms(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    pub fn config(&self) -> &CoreConfig {
        &self.inner.config
    }

    /// Runs storage work on a storage thread with its connection. Internal failures of the work
    /// are logged here, back on the request's task. Work whose requester has gone (the client
    /// disconnected) before a thread took it is skipped.
    async fn db<T, F>(&self, work: F) -> Result<T, CoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, CoreError> + Send + 'static,
    {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.inner
            .storage
            .submit(Box::new(move |thread: &mut StorageThread| {
                if !answer.is_closed() {
                    let _ = answer.send(thread.run(work));
                }
            }));
        let outcome = answered.await.unwrap_or_else(|_| {
            Err(CoreError::Internal(
                "storage work ended without an answer (it panicked)".to_owned(),
            ))
        });
        match outcome {
            Err(CoreError::Internal(message)) => Err(logged_internal(message)),
            other => other,
        }
    }

    /// Runs write work in one transaction and answers once it is committed: on SQLite in the
    /// writer's next batch (group commit), on PostgreSQL on a storage thread.
    async fn write<T, F>(&self, work: F) -> Result<T, CoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, CoreError> + Send + 'static,
    {
        let Some(writer) = &self.inner.writer else {
            return self.db(move |conn| write_tx(conn, work)).await;
        };
        match writer.write(work).await {
            Err(CoreError::Internal(message)) => Err(logged_internal(message)),
            other => other,
        }
    }

    /// True when the database answers within `limit` (readiness probes give up quickly).
    pub async fn database_ready(&self, limit: Duration) -> bool {
        use diesel::connection::SimpleConnection;
        let pool = self.inner.pool.clone();
        tokio::task::spawn_blocking(move || {
            pool.get_timeout(limit)
                .is_ok_and(|mut conn| conn.batch_execute("SELECT 1").is_ok())
        })
        .await
        .unwrap_or(false)
    }

    /// Forgets expired sessions, old throttle windows, expired image codes and old login
    /// failures; called periodically by the server. Answers `(sessions, other rows)` removed.
    /// Each table goes [`PURGE_BATCH`] rows per write, so requests' writes pass in between.
    pub async fn purge_expired(&self) -> Result<(usize, usize), CoreError> {
        use crate::storage::{image_codes, sessions, sms, users};
        const DAY_MS: i64 = 86_400_000;
        let now = self.now_ms();
        // Expired sessions are kept a day so clients still hear "expired", not "unknown".
        let sessions = self
            .purge_all(move |conn| sessions::purge_expired(conn, now - DAY_MS, PURGE_BATCH))
            .await?;
        let counters = self
            .purge_all(move |conn| sms::purge_counters(conn, now - 2 * DAY_MS, PURGE_BATCH))
            .await?;
        let image_codes = self
            .purge_all(move |conn| image_codes::purge_expired(conn, now, PURGE_BATCH))
            .await?;
        let failures = self
            .purge_all(move |conn| users::purge_failed_logins(conn, now - DAY_MS, now, PURGE_BATCH))
            .await?;
        Ok((sessions, counters + image_codes + failures))
    }

    /// Repeats a bounded delete until a batch comes back short, pausing after each batch as
    /// long as it took: a large purge takes at most half of the database's time. (Back to
    /// back, a PostgreSQL server sharing the gateway's cores answered reads with a p99 of 87 ms
    /// while 477,000 expired sessions went.)
    async fn purge_all(
        &self,
        batch: impl Fn(&mut DbConnection) -> diesel::QueryResult<usize> + Clone + Send + 'static,
    ) -> Result<usize, CoreError> {
        let mut total = 0;
        loop {
            let next = batch.clone();
            let started = std::time::Instant::now();
            let removed = self.write(move |conn| Ok(next(conn)?)).await?;
            total += removed;
            if removed < PURGE_BATCH as usize {
                return Ok(total);
            }
            tokio::time::sleep(started.elapsed()).await;
        }
    }
}

/// Rows one purge write removes at most: a few milliseconds of the writer's time.
const PURGE_BATCH: u32 = 1000;

/// A storage thread's connection: checked out for its first job and kept while jobs keep
/// coming, so a busy thread neither waits on the pool nor validates a connection per job.
struct StorageThread {
    pool: Pool,
    failures: ConnectFailures,
    held: Option<PooledConnection>,
}

impl StorageThread {
    fn run<T>(
        &mut self,
        work: impl FnOnce(&mut DbConnection) -> Result<T, CoreError>,
    ) -> Result<T, CoreError> {
        // Taken out while the work runs: should it panic, the connection goes back to the pool
        // during the unwinding, where one left inside a transaction is discarded.
        let mut conn = match self.held.take() {
            Some(conn) => conn,
            None => checkout(&self.pool, &self.failures)?,
        };
        let outcome = work(&mut conn);
        // After an internal failure the connection may be what failed (the server restarted,
        // the link dropped): it goes back to the pool, which validates it before its next use.
        if !matches!(outcome, Err(CoreError::Internal(_))) {
            self.held = Some(conn);
        }
        outcome
    }
}

impl ThreadState for StorageThread {
    fn on_idle(&mut self) {
        self.held = None;
    }
}

/// How long a request waits for a connection when the database may be down: the dialects must
/// answer their "server error" within 2 s during an outage, not after the full checkout timeout.
const OUTAGE_CHECKOUT: Duration = Duration::from_millis(1500);

/// A pooled connection. A pool that is merely busy (its connections all lent out) is waited for
/// up to its checkout timeout; a pool that has no connection left and cannot open one (the
/// database is down: broken connections are dropped when checked out) gives up after
/// [`OUTAGE_CHECKOUT`].
fn checkout(pool: &Pool, failures: &ConnectFailures) -> Result<PooledConnection, CoreError> {
    let unavailable =
        |e: diesel::r2d2::PoolError| CoreError::Internal(format!("database pool: {e}"));
    match pool.get_timeout(OUTAGE_CHECKOUT) {
        Ok(conn) => Ok(conn),
        Err(_) if pool.state().connections > 0 && !failures.recent(OUTAGE_CHECKOUT * 2) => {
            pool.get().map_err(unavailable)
        }
        Err(e) => Err(unavailable(e)),
    }
}

/// Logs an internal failure once, inside the request's span (so with its request id), and
/// returns it; the message is for logs, never for clients, and dialects do not log it again.
pub(crate) fn logged_internal(message: String) -> CoreError {
    tracing::error!(%message, "internal error");
    CoreError::Internal(message)
}

/// `length` random decimal digits (SMS codes, image codes).
pub(crate) fn random_digits(length: usize) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..length)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

/// Not logged here: [`Service::db`] logs what comes out of storage work, once.
impl From<diesel::result::Error> for CoreError {
    fn from(err: diesel::result::Error) -> Self {
        CoreError::Internal(format!("database: {err}"))
    }
}
