//! Storage: the only place SQL lives. diesel over SQLite (embedded default) or PostgreSQL, chosen
//! from the URL scheme, behind an r2d2 pool; migrations for both backends are embedded.

/// Runs a diesel query on the backend's own connection type instead of through the
/// multi-backend wrapper. The wrapper's statements have no static identity, so every run
/// rebuilt the SQL text and checked it again just to find the cached statement (most of a
/// point query's cost); on the backend's own type the statement is found by its Rust type.
/// For the hot paths; the body is compiled once per backend.
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::storage::DbConnection::Sqlite($c) => $body,
            #[cfg(feature = "postgres")]
            $crate::storage::DbConnection::Pg($c) => $body,
        }
    };
}

pub mod avatars;
pub mod copy;
pub mod dialect_modes;
pub mod groups;
pub mod image_codes;
pub mod models;
pub mod schema;
pub mod sessions;
pub mod sms;
pub mod social;
pub mod users;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::r2d2::{self, ManageConnection};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::{Connection, QueryResult, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
#[cfg(feature = "postgres")]
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// One connection to whichever backend the URL named.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    #[cfg(feature = "postgres")]
    Pg(diesel::PgConnection),
    Sqlite(SqliteConnection),
}

/// Which backend a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database URL, checked: `sqlite://<path>` or `postgres://…` / `postgresql://…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite { path: String },
    Postgres { url: String },
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("database.url `{0}` is not supported: use sqlite://<path> or postgres://user@host/db")]
    UnsupportedUrl(String),
    #[error("this build has no PostgreSQL support (feature `postgres` is off)")]
    PostgresNotBuilt,
    #[error("cannot open the database: {0}")]
    Connect(String),
    #[error("database pool: {0}")]
    Pool(#[from] r2d2::PoolError),
    #[error("database query: {0}")]
    Query(#[from] DieselError),
    #[error("migrations: {0}")]
    Migration(String),
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<DatabaseUrl, StorageError> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() || path.starts_with(":memory:") {
                // A pool of in-memory databases would be many unrelated databases.
                return Err(StorageError::UnsupportedUrl(url.to_owned()));
            }
            return Ok(DatabaseUrl::Sqlite {
                path: path.to_owned(),
            });
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres {
                url: url.to_owned(),
            });
        }
        Err(StorageError::UnsupportedUrl(redact_url(url)))
    }

    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Sqlite { .. } => Backend::Sqlite,
            DatabaseUrl::Postgres { .. } => Backend::Postgres,
        }
    }
}

/// Hides a password in a URL before it is printed.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Opens connections for the pool; SQLite connections get their pragmas here.
#[derive(Debug, Clone)]
pub struct DbManager {
    url: DatabaseUrl,
}

impl DbManager {
    pub fn new(url: DatabaseUrl) -> DbManager {
        DbManager { url }
    }

    fn open(&self) -> Result<DbConnection, StorageError> {
        match &self.url {
            DatabaseUrl::Sqlite { path } => {
                let mut conn = SqliteConnection::establish(path)
                    .map_err(|e| StorageError::Connect(e.to_string()))?;
                // The busy timeout comes first, so that writers queue instead of failing.
                conn.batch_execute("PRAGMA busy_timeout = 10000;")
                    .map_err(|e| StorageError::Connect(e.to_string()))?;
                switch_to_wal(&mut conn)?;
                // FULL makes every commit durable before the answer goes out.
                conn.batch_execute("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
                    .map_err(|e| StorageError::Connect(e.to_string()))?;
                Ok(DbConnection::Sqlite(conn))
            }
            #[cfg(feature = "postgres")]
            DatabaseUrl::Postgres { url } => diesel::PgConnection::establish(url)
                .map(DbConnection::Pg)
                .map_err(|e| StorageError::Connect(e.to_string())),
            #[cfg(not(feature = "postgres"))]
            DatabaseUrl::Postgres { .. } => Err(StorageError::PostgresNotBuilt),
        }
    }
}

/// WAL lets readers run beside the writer. The switch needs an exclusive lock; connections
/// opened together on a fresh file can collide on it, and SQLite answers such a collision at
/// once instead of waiting, so it is retried for a while. Once a file is in WAL mode the switch
/// is a no-op.
fn switch_to_wal(conn: &mut SqliteConnection) -> Result<(), StorageError> {
    const ATTEMPTS: u32 = 100;
    for attempt in 1..=ATTEMPTS {
        match conn.batch_execute("PRAGMA journal_mode = WAL;") {
            Ok(()) => return Ok(()),
            Err(err) if attempt < ATTEMPTS && err.to_string().contains("locked") => {
                std::thread::sleep(Duration::from_millis(10 + u64::from(attempt % 10) * 5));
            }
            Err(err) => return Err(StorageError::Connect(err.to_string())),
        }
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ManagerError(String);

impl ManageConnection for DbManager {
    type Connection = DbConnection;
    type Error = ManagerError;

    fn connect(&self) -> Result<DbConnection, ManagerError> {
        self.open().map_err(|e| ManagerError(e.to_string()))
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), ManagerError> {
        conn.batch_execute("SELECT 1")
            .map_err(|e| ManagerError(e.to_string()))
    }

    /// A connection given back inside a transaction (its work panicked half-way) is not
    /// reused: the next borrower would run inside someone else's transaction.
    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        !at_rest(conn)
    }
}

pub type Pool = r2d2::Pool<DbManager>;
pub type PooledConnection = r2d2::PooledConnection<DbManager>;

/// When the pool last failed to open a connection (the database down or unreachable), so that
/// requests fail fast during an outage instead of each waiting out the checkout timeout.
#[derive(Debug, Clone, Default)]
pub struct ConnectFailures(Arc<AtomicI64>);

impl ConnectFailures {
    fn now_ms() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }

    /// Whether a connection attempt failed within `window`.
    pub fn recent(&self, window: Duration) -> bool {
        let last = self.0.load(Ordering::Relaxed);
        last > 0 && Self::now_ms() - last <= i64::try_from(window.as_millis()).unwrap_or(i64::MAX)
    }
}

impl r2d2::HandleError<ManagerError> for ConnectFailures {
    fn handle_error(&self, error: ManagerError) {
        let first = !self.recent(Duration::from_secs(60));
        self.0.store(Self::now_ms(), Ordering::Relaxed);
        // Once per outage minute, not once per attempt: r2d2 retries continuously.
        if first {
            tracing::error!(%error, "cannot connect to the database");
        }
    }
}

/// Builds the pool and checks that one connection can be opened, so a bad URL stops start-up.
/// Failed connection attempts later on are recorded in `failures`.
pub fn build_pool(
    url: &DatabaseUrl,
    size: u32,
    checkout_timeout: Duration,
    failures: ConnectFailures,
) -> Result<Pool, StorageError> {
    let manager = DbManager::new(url.clone());
    // Fail fast with the real reason instead of r2d2's generic timeout.
    manager.open()?;
    let pool = r2d2::Pool::builder()
        .max_size(size.max(1))
        .connection_timeout(checkout_timeout)
        .error_handler(Box::new(failures))
        .build(manager)?;
    Ok(pool)
}

/// One connection, without a pool: for commands that work through a database once.
pub fn connect(url: &DatabaseUrl) -> Result<DbConnection, StorageError> {
    DbManager::new(url.clone()).open()
}

/// How a database's schema stands against this build's migrations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaState {
    /// Migrations of this build the database has not applied.
    pub missing: Vec<String>,
    /// Migrations the database has applied that this build does not know (a newer Rosetta).
    pub unknown: Vec<String>,
}

impl SchemaState {
    pub fn is_current(&self) -> bool {
        self.missing.is_empty() && self.unknown.is_empty()
    }
}

/// Compares the migrations a database has applied with this build's, without writing anything
/// (diesel's own check would create its bookkeeping table in a database that has none). `None`
/// when the database has no migration table at all: it is not a Rosetta database.
pub fn schema_state(conn: &mut DbConnection) -> Result<Option<SchemaState>, StorageError> {
    use diesel::migration::MigrationSource;

    #[derive(diesel::QueryableByName)]
    struct Applied {
        #[diesel(sql_type = diesel::sql_types::Text)]
        version: String,
    }
    let has_table = match conn {
        DbConnection::Sqlite(sqlite) => diesel::RunQueryDsl::get_result::<i64>(
            diesel::dsl::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
                "(SELECT COUNT(*) FROM sqlite_master \
                 WHERE type = 'table' AND name = '__diesel_schema_migrations')",
            )),
            sqlite,
        )?,
        #[cfg(feature = "postgres")]
        DbConnection::Pg(pg) => diesel::RunQueryDsl::get_result::<i64>(
            diesel::dsl::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
                "(SELECT COUNT(*) FROM information_schema.tables \
                 WHERE table_schema = current_schema() \
                 AND table_name = '__diesel_schema_migrations')",
            )),
            pg,
        )?,
    } > 0;
    if !has_table {
        return Ok(None);
    }
    let applied: Vec<String> = diesel::RunQueryDsl::load::<Applied>(
        diesel::sql_query("SELECT version FROM __diesel_schema_migrations"),
        conn,
    )?
    .into_iter()
    .map(|row| row.version)
    .collect();
    let migration_error =
        |e: Box<dyn std::error::Error + Send + Sync>| StorageError::Migration(e.to_string());
    let known: Vec<String> = match conn {
        DbConnection::Sqlite(_) => {
            MigrationSource::<diesel::sqlite::Sqlite>::migrations(&SQLITE_MIGRATIONS)
                .map_err(migration_error)?
                .iter()
                .map(|m| m.name().version().to_string())
                .collect()
        }
        #[cfg(feature = "postgres")]
        DbConnection::Pg(_) => MigrationSource::<diesel::pg::Pg>::migrations(&POSTGRES_MIGRATIONS)
            .map_err(migration_error)?
            .iter()
            .map(|m| m.name().version().to_string())
            .collect(),
    };
    Ok(Some(SchemaState {
        missing: known
            .iter()
            .filter(|v| !applied.contains(v))
            .cloned()
            .collect(),
        unknown: applied
            .iter()
            .filter(|v| !known.contains(v))
            .cloned()
            .collect(),
    }))
}

/// Applies every pending migration of the connection's backend; returns the versions applied.
/// On PostgreSQL an advisory lock makes several starting processes migrate one at a time.
pub fn run_migrations(conn: &mut DbConnection) -> Result<Vec<String>, StorageError> {
    let migration_error =
        |e: Box<dyn std::error::Error + Send + Sync>| StorageError::Migration(e.to_string());
    match conn {
        #[cfg(feature = "postgres")]
        DbConnection::Pg(pg) => {
            pg.batch_execute("SELECT pg_advisory_lock(7031102019)")?;
            let applied = pg
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|versions| versions.iter().map(|v| v.to_string()).collect())
                .map_err(migration_error);
            pg.batch_execute("SELECT pg_advisory_unlock(7031102019)")?;
            applied
        }
        DbConnection::Sqlite(sqlite) => sqlite
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|versions| versions.iter().map(|v| v.to_string()).collect())
            .map_err(migration_error),
    }
}

/// True when a connection is outside any transaction and its transaction state is whole.
pub fn at_rest(conn: &mut DbConnection) -> bool {
    let status =
        <DbConnection as Connection>::TransactionManager::transaction_manager_status_mut(conn);
    matches!(status.transaction_depth(), Ok(None))
}

/// Runs `f` in a write transaction. On SQLite the transaction takes the write lock at `BEGIN`
/// (`BEGIN IMMEDIATE`), so a read followed by a write can never fail half-way on a snapshot that
/// another writer moved; on PostgreSQL it is an ordinary transaction.
pub fn write_tx<T, E>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<DieselError>,
{
    // Inside a transaction already (a batch of the group commit, which holds the write lock):
    // a savepoint.
    if !at_rest(conn) {
        return conn.transaction(f);
    }
    match conn {
        #[cfg(feature = "postgres")]
        DbConnection::Pg(_) => conn.transaction(f),
        DbConnection::Sqlite(sqlite) => {
            AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
            match f(conn) {
                Ok(value) => {
                    commit_sqlite(conn)?;
                    Ok(value)
                }
                Err(err) => {
                    rollback_sqlite(conn);
                    Err(err)
                }
            }
        }
    }
}

/// Runs reads in one transaction, so they see one consistent state: a deferred transaction on
/// SQLite (WAL keeps its snapshot from the first read), REPEATABLE READ on PostgreSQL.
pub fn read_tx<T, E>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<DieselError>,
{
    conn.transaction(|conn| {
        #[cfg(feature = "postgres")]
        if let DbConnection::Pg(_) = conn {
            diesel::RunQueryDsl::execute(
                diesel::sql_query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"),
                conn,
            )?;
        }
        f(conn)
    })
}

fn commit_sqlite(conn: &mut DbConnection) -> QueryResult<()> {
    match conn {
        DbConnection::Sqlite(sqlite) => AnsiTransactionManager::commit_transaction(sqlite),
        #[cfg(feature = "postgres")]
        DbConnection::Pg(_) => Ok(()),
    }
}

fn rollback_sqlite(conn: &mut DbConnection) {
    if let DbConnection::Sqlite(sqlite) = conn
        && let Err(err) = AnsiTransactionManager::rollback_transaction(sqlite)
    {
        tracing::error!(error = %err, "rollback failed");
    }
}

/// Deletes at most `limit` rows of `table` that meet `condition` (SQL over the bound values
/// `$1`, `$2`, …): purges go a bounded batch at a time, so none holds the write lock long.
/// The rows are picked by their physical id (`rowid`, `ctid`), which every table has.
pub(crate) fn delete_some(
    conn: &mut DbConnection,
    table: &str,
    condition: &str,
    values: &[i64],
    limit: u32,
) -> QueryResult<usize> {
    let row_id = match conn {
        DbConnection::Sqlite(_) => "rowid",
        #[cfg(feature = "postgres")]
        DbConnection::Pg(_) => "ctid",
    };
    let sql = format!(
        "DELETE FROM {table} WHERE {row_id} IN \
         (SELECT {row_id} FROM {table} WHERE {condition} LIMIT {limit})"
    );
    let mut query = diesel::sql_query(sql).into_boxed();
    for value in values {
        query = query.bind::<diesel::sql_types::BigInt, _>(*value);
    }
    diesel::RunQueryDsl::execute(query, conn)
}

/// True when a write failed on a unique constraint (a concurrent insert of the same key).
pub fn is_unique_violation(err: &DieselError) -> bool {
    matches!(
        err,
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)
    )
}

/// Runs an insert inside a savepoint, so a unique violation leaves the outer transaction usable
/// (PostgreSQL aborts a transaction on any error otherwise).
pub fn insert_or_conflict<T>(
    conn: &mut DbConnection,
    insert: impl FnOnce(&mut DbConnection) -> QueryResult<T>,
) -> QueryResult<Option<T>> {
    match conn.transaction(insert) {
        Ok(value) => Ok(Some(value)),
        Err(err) if is_unique_violation(&err) => Ok(None),
        Err(err) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_choose_the_backend_and_refuse_the_rest() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://rosetta.db").unwrap(),
            DatabaseUrl::Sqlite {
                path: "rosetta.db".into()
            }
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/r.db").unwrap(),
            DatabaseUrl::Sqlite {
                path: "/var/lib/r.db".into()
            }
        );
        assert_eq!(
            DatabaseUrl::parse("postgres://postgres@127.0.0.1/x")
                .unwrap()
                .backend(),
            Backend::Postgres
        );
        assert_eq!(
            DatabaseUrl::parse("postgresql://h/x").unwrap().backend(),
            Backend::Postgres
        );
        for bad in [
            "rosetta.db",
            "mysql://h/x",
            "sqlite://",
            "sqlite://:memory:",
            "",
        ] {
            assert!(DatabaseUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
    }
}
