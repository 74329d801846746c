//! The dialect modes the admin API set, kept in the database so that every gateway process on
//! it follows one switch.

use super::Service;
use crate::domain::CoreError;
use crate::storage;
use crate::storage::dialect_modes::ModeRow;

/// A dialect's mode as the admin API set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMode {
    pub dialect: String,
    /// `serve`, `shadow` or `proxy`.
    pub mode: String,
    pub legacy_url: Option<String>,
    pub changed_at: i64,
}

fn stored(row: ModeRow) -> StoredMode {
    StoredMode {
        dialect: row.dialect,
        mode: row.mode,
        legacy_url: row.legacy_url,
        changed_at: row.changed_at,
    }
}

impl Service {
    /// Every dialect mode the admin API set.
    pub async fn stored_modes(&self) -> Result<Vec<StoredMode>, CoreError> {
        let rows = self
            .db(|conn| storage::dialect_modes::all(conn).map_err(CoreError::from))
            .await?;
        Ok(rows.into_iter().map(stored).collect())
    }

    /// Every dialect mode the admin API set, read beside the request path (on a blocking thread
    /// with a pooled connection, never on a storage thread) and given up after `limit`: polling
    /// a database in trouble costs the requests nothing.
    pub async fn stored_modes_within(
        &self,
        limit: std::time::Duration,
    ) -> Result<Vec<StoredMode>, CoreError> {
        let pool = self.inner.pool.clone();
        let rows = tokio::task::spawn_blocking(move || {
            let mut conn = pool
                .get_timeout(limit)
                .map_err(|e| CoreError::Internal(format!("database pool: {e}")))?;
            storage::dialect_modes::all(&mut conn).map_err(CoreError::from)
        })
        .await
        .map_err(|e| CoreError::Internal(format!("reading the stored modes: {e}")))??;
        Ok(rows.into_iter().map(stored).collect())
    }

    /// Stores a dialect's mode (already checked by the caller) for every process.
    pub async fn store_mode(
        &self,
        dialect: &str,
        mode: &str,
        legacy_url: Option<String>,
    ) -> Result<(), CoreError> {
        let row = ModeRow {
            dialect: dialect.to_owned(),
            mode: mode.to_owned(),
            legacy_url,
            changed_at: self.now_ms(),
        };
        self.write(move |conn| storage::dialect_modes::set(conn, &row).map_err(CoreError::from))
            .await
    }

    /// Forgets a dialect's stored mode: the settings files decide again. Whether there was one.
    pub async fn forget_mode(&self, dialect: &str) -> Result<bool, CoreError> {
        let dialect = dialect.to_owned();
        self.write(move |conn| {
            storage::dialect_modes::clear(conn, &dialect).map_err(CoreError::from)
        })
        .await
    }
}
