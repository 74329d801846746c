//! bcrypt behind one process-wide queue: at most one hash per core at a time, and a deadline for
//! waiting, so a login flood answers "busy" instead of starving every other request.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::logged_internal;
use crate::domain::CoreError;
use crate::domain::credential::{PasswordInput, StoredHash, sealtalk_digest};

/// One place in the hashing queue, given back when dropped.
pub struct HashSlot(#[expect(dead_code, reason = "held for its drop")] OwnedSemaphorePermit);

pub struct PasswordHasher {
    cost: u32,
    permits: Arc<Semaphore>,
    queue_deadline: Duration,
    dummy_hash: String,
}

impl PasswordHasher {
    /// `cost` must already be checked by the settings (at least 10 outside test mode).
    pub fn new(
        cost: u32,
        parallelism: usize,
        queue_deadline: Duration,
    ) -> Result<PasswordHasher, CoreError> {
        // A hash of nothing anyone knows, verified for unknown users so they cost the same time.
        let dummy_hash = bcrypt::hash(uuid::Uuid::new_v4().to_string(), cost)
            .map_err(|e| CoreError::Internal(format!("bcrypt: {e}")))?;
        Ok(PasswordHasher {
            cost,
            permits: Arc::new(Semaphore::new(parallelism.max(1))),
            queue_deadline,
            dummy_hash,
        })
    }

    /// Takes one hashing slot, waiting at most the queue deadline (`Busy` past it). Every hash
    /// and verification runs holding one; holding one by hand shows the queue full.
    pub async fn slot(&self) -> Result<HashSlot, CoreError> {
        let permit =
            tokio::time::timeout(self.queue_deadline, self.permits.clone().acquire_owned())
                .await
                .map_err(|_| CoreError::Busy)?
                .map_err(|_| CoreError::Busy)?;
        Ok(HashSlot(permit))
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, CoreError> {
        let permit = self.slot().await?;
        let result = tokio::task::spawn_blocking(move || {
            let value = work();
            drop(permit);
            value
        })
        .await
        .map_err(|e| logged_internal(format!("hashing task: {e}")))?;
        Ok(result)
    }

    /// Hashes the canonical secret (lowercase md5 hex of the plain password).
    pub async fn hash(&self, canonical: String) -> Result<String, CoreError> {
        let cost = self.cost;
        self.run(move || bcrypt::hash(canonical, cost))
            .await?
            .map_err(|e| logged_internal(format!("bcrypt: {e}")))
    }

    /// Verifies the canonical secret against a stored hash; a malformed hash never matches.
    pub async fn verify(&self, canonical: String, hash: String) -> Result<bool, CoreError> {
        self.run(move || bcrypt::verify(canonical, &hash).unwrap_or(false))
            .await
    }

    /// Verifies a password as a dialect received it against a stored hash, canonical or legacy.
    /// A legacy hash opens only to the plain password (an md5 sent by an app cannot be turned
    /// back into the legacy digest).
    pub async fn verify_stored(
        &self,
        password: &PasswordInput,
        stored: String,
    ) -> Result<bool, CoreError> {
        match (StoredHash::parse(&stored), password) {
            (StoredHash::Canonical(_), _) => self.verify(password.canonical(), stored).await,
            (StoredHash::SealtalkSha1 { salt, wrapped }, PasswordInput::Plain(plain)) => {
                let digest = sealtalk_digest(plain, salt);
                self.verify(digest, wrapped.to_owned()).await
            }
            (StoredHash::PlainBcrypt { wrapped }, PasswordInput::Plain(plain)) => {
                self.verify(plain.clone(), wrapped.to_owned()).await
            }
            (
                StoredHash::SealtalkSha1 { .. } | StoredHash::PlainBcrypt { .. },
                PasswordInput::ClientMd5(_),
            ) => {
                // The same time as a real check, so the answer does not tell the scheme.
                self.verify_dummy(password.canonical()).await?;
                Ok(false)
            }
        }
    }

    /// Spends the time of one verification without a user, so unknown names are not faster.
    pub async fn verify_dummy(&self, canonical: String) -> Result<(), CoreError> {
        let hash = self.dummy_hash.clone();
        self.verify(canonical, hash).await.map(|_| ())
    }
}
