//! bcrypt on a few threads of its own that run only when request handling leaves a core idle,
//! behind a deadline: a login flood takes only the CPU that reads leave over, and a login that
//! cannot be served in time answers "busy" instead of queueing without end.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use super::logged_internal;
use crate::domain::CoreError;
use crate::domain::credential::{PasswordInput, StoredHash, sealtalk_digest};

/// Where `SCHED_IDLE` is refused, the hashing threads' niceness (0 normal, 19 the lowest).
const HASH_NICENESS: i32 = 19;

/// A hash to run, with its answer.
type HashJob = Box<dyn FnOnce() + Send>;

/// Starts the hashing threads on one queue. Handing them a hash never takes a lock a hashing
/// thread may hold: they run at the lowest priority, and a request-handling thread waiting for
/// a lock held by a preempted one would wait until a core idles (a priority inversion that
/// stalled whole actix workers for seconds). `mpsc` senders push without a lock; only the
/// hashing threads share the receiving end. They end when the sender is dropped.
fn start_threads(count: usize) -> std::io::Result<mpsc::Sender<HashJob>> {
    let (jobs, queue) = mpsc::channel::<HashJob>();
    let queue = Arc::new(std::sync::Mutex::new(queue));
    for index in 0..count.max(1) {
        let queue = queue.clone();
        std::thread::Builder::new()
            .name(format!("rosetta-hash-{index}"))
            .spawn(move || {
                lower_priority();
                loop {
                    let next = match queue.lock() {
                        Ok(queue) => queue.recv(),
                        Err(_) => return,
                    };
                    let Ok(job) = next else { return };
                    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)).is_err() {
                        tracing::error!("a hashing job panicked");
                    }
                }
            })?;
    }
    Ok(jobs)
}

/// Makes the calling thread run only on otherwise idle CPU (`SCHED_IDLE`: any request-handling
/// thread that wakes takes the core at once; a mere lower niceness still let a hash delay a
/// woken reader by a scheduler slice), else gives it the lowest niceness. Linux sets both per
/// thread.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: `param` outlives the call, which only reads it; pid 0 is the calling thread.
        let idle = unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) } == 0;
        // SAFETY: setpriority only reads its integer arguments; `who = 0` is the calling thread.
        if !idle && unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, HASH_NICENESS) } != 0 {
            tracing::warn!("cannot lower the priority of a hashing thread");
        }
    }
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

/// While held, every hashing thread is taken (drills and tests of the "busy" answer).
pub struct Occupied(#[expect(dead_code, reason = "held for its drop")] mpsc::Sender<()>);

pub struct PasswordHasher {
    cost: u32,
    jobs: mpsc::Sender<HashJob>,
    threads: usize,
    /// How long a hash may take from request to result, waiting included; `Busy` past it.
    deadline: Duration,
    /// How long one hash takes on this machine, in microseconds: measured at start, then
    /// followed as hashes run (a start-up under load must not refuse hashes for good). A hash
    /// that could not end before its requester's deadline is not started.
    one_hash: Arc<AtomicU64>,
    dummy_hash: String,
}

impl PasswordHasher {
    /// `cost` must already be checked by the settings (at least 10 outside test mode).
    pub fn new(
        cost: u32,
        parallelism: usize,
        deadline: Duration,
    ) -> Result<PasswordHasher, CoreError> {
        // A hash of nothing anyone knows, verified for unknown users so they cost the same time;
        // making it also times one hash on this machine.
        let started = Instant::now();
        let dummy_hash = bcrypt::hash(uuid::Uuid::new_v4().to_string(), cost)
            .map_err(|e| CoreError::Internal(format!("bcrypt: {e}")))?;
        let one_hash = micros(started.elapsed()).max(100);
        let jobs = start_threads(parallelism)
            .map_err(|e| CoreError::Internal(format!("hashing threads: {e}")))?;
        Ok(PasswordHasher {
            cost,
            jobs,
            threads: parallelism.max(1),
            deadline,
            one_hash: Arc::new(AtomicU64::new(one_hash)),
            dummy_hash,
        })
    }

    /// Takes every hashing thread until the answer is dropped.
    pub fn occupy(&self) -> Occupied {
        let (release, released) = mpsc::channel::<()>();
        let released = Arc::new(std::sync::Mutex::new(released));
        for _ in 0..self.threads {
            let released = released.clone();
            self.submit(Box::new(move || {
                // Ends when the sender is dropped; the lock makes the threads wait in turn.
                if let Ok(released) = released.lock() {
                    let _ = released.recv();
                }
            }));
        }
        Occupied(release)
    }

    fn submit(&self, job: HashJob) {
        // Fails only once every hashing thread has ended; the requester then sees its answer
        // channel closed.
        let _ = self.jobs.send(job);
    }

    /// Runs one hash on a hashing thread; `Busy` when it has not ended within the deadline.
    ///
    /// There is no admission limit on top: a client refused at once tends to ask again at once,
    /// and a storm of such refusals would take the CPU the hashing threads live on. Waiting
    /// requests cost a queue entry each; one whose deadline can no longer be met is skipped
    /// when its turn comes, so an overloaded queue spends no work on answers nobody gets.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, CoreError> {
        let deadline = Instant::now() + self.deadline;
        let estimate = self.one_hash.clone();
        // At most half the deadline is asked for, so that a hash taken at once always runs and
        // corrects an estimate that grew past the deadline.
        let needed = Duration::from_micros(estimate.load(Ordering::Relaxed)).min(self.deadline / 2);
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.submit(Box::new(move || {
            let started = Instant::now();
            if answer.is_closed() || started + needed > deadline {
                let _ = answer.send(None);
                return;
            }
            let value = work();
            // An average over the last few hashes (each weighs 1/8).
            let took = micros(started.elapsed());
            let old = estimate.load(Ordering::Relaxed);
            estimate.store(old - old / 8 + took / 8, Ordering::Relaxed);
            let _ = answer.send(Some(value));
        }));
        match tokio::time::timeout_at(deadline.into(), answered).await {
            Ok(Ok(Some(value))) => Ok(value),
            Ok(Ok(None)) | Err(_) => Err(CoreError::Busy),
            Ok(Err(_)) => Err(logged_internal(
                "hashing ended without an answer (it panicked)".to_owned(),
            )),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_estimate_past_the_deadline_does_not_refuse_hashes_for_good() {
        let hasher = PasswordHasher::new(4, 1, Duration::from_secs(1)).unwrap();
        // As if the start-up measurement had been taken on a machine under heavy load.
        hasher.one_hash.store(10_000_000, Ordering::Relaxed);
        assert!(hasher.hash("a".into()).await.is_ok());
        assert!(hasher.one_hash.load(Ordering::Relaxed) < 10_000_000);
    }
}
