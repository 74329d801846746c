//! The account core: every use case of the five documents, with no HTTP and no wire shapes.
//! Database work and bcrypt run on the blocking pool, never on an async worker.

pub mod accounts;
pub mod avatars;
pub mod clock;
mod guesses;
pub mod hashing;
pub mod image_codes;
pub mod profiles;
pub mod sessions;
pub mod sms;
pub mod sms_sender;
pub mod social;

use std::sync::Arc;
use std::time::Duration;

use crate::domain::CoreError;
use crate::storage::{ConnectFailures, DbConnection, Pool, PooledConnection};

pub use clock::{Clock, ManualClock, SystemClock};
pub use hashing::PasswordHasher;
pub use sms_sender::SmsSender;

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
    /// When the pool last failed to connect: during an outage requests fail fast.
    connect_failures: ConnectFailures,
    clock: Arc<dyn Clock>,
    config: CoreConfig,
    hasher: PasswordHasher,
    sms: SmsSender,
}

impl Service {
    pub fn new(
        (pool, connect_failures): (Pool, ConnectFailures),
        clock: Arc<dyn Clock>,
        config: CoreConfig,
        hasher: PasswordHasher,
        sms: SmsSender,
    ) -> Service {
        Service {
            inner: Arc::new(Inner {
                pool,
                connect_failures,
                clock,
                config,
                hasher,
                sms,
            }),
        }
    }

    pub fn now_ms(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    pub fn config(&self) -> &CoreConfig {
        &self.inner.config
    }

    /// Runs storage work on the blocking pool with a pooled connection. Internal failures of
    /// the work are logged here, back on the request's task.
    async fn db<T, F>(&self, work: F) -> Result<T, CoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, CoreError> + Send + 'static,
    {
        let pool = self.inner.pool.clone();
        let failures = self.inner.connect_failures.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            let mut conn = checkout(&pool, &failures)?;
            work(&mut conn)
        })
        .await
        .unwrap_or_else(|e| Err(CoreError::Internal(format!("storage task: {e}"))));
        match outcome {
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
    pub async fn purge_expired(&self) -> Result<(usize, usize), CoreError> {
        let now = self.now_ms();
        self.db(move |conn| {
            // Expired sessions are kept a day so clients still hear "expired", not "unknown".
            let sessions = crate::storage::sessions::purge_expired(conn, now - 86_400_000)?;
            let counters = crate::storage::sms::purge_counters(conn, now - 2 * 86_400_000)?;
            let image_codes = crate::storage::image_codes::purge_expired(conn, now)?;
            let failures = crate::storage::users::purge_failed_logins(conn, now - 86_400_000, now)?;
            Ok((sessions, counters + image_codes + failures))
        })
        .await
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
