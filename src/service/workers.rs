//! A fixed set of named threads that run blocking jobs off the async workers, each thread with
//! state of its own that outlives a job (a database connection). Only for threads at normal
//! priority: a submitter takes the queue's mutex, which a low-priority thread could hold while
//! preempted (the hashing threads have a channel of their own for that reason).
//!
//! Why not `tokio::task::spawn_blocking`: every actix worker has a runtime, and every runtime a
//! blocking pool that grows a thread per waiting job, so under load dozens of threads queue on
//! the connection pool's mutex and every job costs a checkout, a validation query and several
//! thread switches. Here a few long-lived threads take jobs from one queue and keep going while
//! it is not empty.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// One unit of work, given the running thread's state.
pub(crate) type Job<S> = Box<dyn FnOnce(&mut S) + Send>;

struct Queue<S> {
    jobs: VecDeque<Job<S>>,
    /// Cleared when the last handle is dropped: the threads finish what is queued and end.
    open: bool,
    /// Threads waiting for a job: a submit wakes one only when there is one (a wake-up is a
    /// system call even when nobody sleeps).
    sleeping: usize,
}

struct Shared<S> {
    queue: Mutex<Queue<S>>,
    wake: Condvar,
}

impl<S> Shared<S> {
    fn lock(&self) -> MutexGuard<'_, Queue<S>> {
        // A job that panicked ran outside the lock: the queue itself is always whole.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What a thread does around its jobs.
pub(crate) trait ThreadState: Send + Sized + 'static {
    /// How many queued jobs a thread takes at once.
    const BATCH: usize = 1;

    /// Runs the jobs taken at once (at most [`Self::BATCH`], in queue order), emptying `jobs`.
    /// A state that takes several at once handles their panics itself.
    fn run_batch(&mut self, jobs: &mut Vec<Job<Self>>) {
        for job in jobs.drain(..) {
            job(self);
        }
    }

    /// After `idle` without a job (the queue empty), e.g. to give back a held connection.
    fn on_idle(&mut self) {}
}

#[cfg(test)]
impl ThreadState for () {}

/// The handle to the threads; dropping it lets them finish the queue and end.
pub(crate) struct Workers<S: ThreadState> {
    shared: Arc<Shared<S>>,
}

impl<S: ThreadState> Workers<S> {
    /// Starts `threads` threads named `name`, each with the state `init` builds on the thread
    /// itself (so thread-wide settings such as a priority apply to it).
    pub(crate) fn start(
        name: &str,
        threads: usize,
        idle: Duration,
        init: impl Fn() -> S + Send + Sync + 'static,
    ) -> std::io::Result<Workers<S>> {
        let threads = threads.max(1);
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue {
                jobs: VecDeque::new(),
                open: true,
                sleeping: 0,
            }),
            wake: Condvar::new(),
        });
        let init = Arc::new(init);
        for index in 0..threads {
            let shared = shared.clone();
            let init = init.clone();
            std::thread::Builder::new()
                .name(format!("{name}-{index}"))
                .spawn(move || run(&shared, init(), idle))?;
        }
        Ok(Workers { shared })
    }

    /// Queues a job; a free thread takes it at once.
    pub(crate) fn submit(&self, job: Job<S>) {
        let mut queue = self.shared.lock();
        queue.jobs.push_back(job);
        let someone_sleeps = queue.sleeping > 0;
        drop(queue);
        if someone_sleeps {
            self.shared.wake.notify_one();
        }
    }
}

impl<S: ThreadState> Drop for Workers<S> {
    fn drop(&mut self) {
        self.shared.lock().open = false;
        self.shared.wake.notify_all();
    }
}

fn run<S: ThreadState>(shared: &Shared<S>, mut state: S, idle: Duration) {
    let mut batch = Vec::with_capacity(S::BATCH);
    let mut queue = shared.lock();
    loop {
        if !queue.jobs.is_empty() {
            let taken = queue.jobs.len().min(S::BATCH);
            batch.extend(queue.jobs.drain(..taken));
            drop(queue);
            // A panicking job must not take the thread (and its share of the capacity) along:
            // its requester sees the result channel closed and answers an internal error.
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                state.run_batch(&mut batch)
            }));
            if outcome.is_err() {
                tracing::error!("a background job panicked");
            }
            batch.clear();
            queue = shared.lock();
            continue;
        }
        if !queue.open {
            return;
        }
        queue.sleeping += 1;
        let (guard, waited) = shared
            .wake
            .wait_timeout(queue, idle)
            .unwrap_or_else(PoisonError::into_inner);
        queue = guard;
        queue.sleeping -= 1;
        if waited.timed_out() && queue.jobs.is_empty() {
            drop(queue);
            state.on_idle();
            queue = shared.lock();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Counting(Arc<AtomicUsize>);
    impl ThreadState for Counting {
        fn on_idle(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn jobs_run_on_the_named_threads_and_idle_threads_are_told() {
        let idles = Arc::new(AtomicUsize::new(0));
        let seen = idles.clone();
        let workers = Workers::start("test-worker", 2, Duration::from_millis(20), move || {
            Counting(seen.clone())
        })
        .unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        for n in 0..10 {
            let tx = tx.clone();
            workers.submit(Box::new(move |_| {
                let name = std::thread::current().name().unwrap_or_default().to_owned();
                tx.send((n, name)).unwrap();
            }));
        }
        let mut done: Vec<(i32, String)> = (0..10).map(|_| rx.recv().unwrap()).collect();
        done.sort();
        assert_eq!(
            done.iter().map(|d| d.0).collect::<Vec<_>>(),
            (0..10).collect::<Vec<_>>()
        );
        assert!(done.iter().all(|d| d.1.starts_with("test-worker-")));
        std::thread::sleep(Duration::from_millis(100));
        assert!(idles.load(Ordering::SeqCst) >= 2);
    }

    #[test]
    fn a_panicking_job_leaves_the_thread_working() {
        let workers = Workers::start("test-panic", 1, Duration::from_secs(1), || ()).unwrap();
        workers.submit(Box::new(|_| panic!("on purpose")));
        let (tx, rx) = std::sync::mpsc::channel();
        workers.submit(Box::new(move |_| tx.send(7).unwrap()));
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), 7);
    }

    #[test]
    fn dropping_the_handle_ends_the_threads_after_the_queue() {
        let workers = Workers::start("test-drop", 1, Duration::from_secs(60), || ()).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        for n in 0..3 {
            let tx = tx.clone();
            workers.submit(Box::new(move |_| tx.send(n).unwrap()));
        }
        drop(workers);
        drop(tx);
        let got: Vec<i32> = rx.iter().collect();
        assert_eq!(got, vec![0, 1, 2]);
    }
}
