//! Group commit on SQLite: one writer thread, with a connection of its own, takes every write
//! queued at that moment, runs each in a savepoint of one transaction, commits once — one
//! fsync for the whole batch — and only then answers each request. A write that fails is
//! rolled back to its savepoint alone; a commit that fails fails the whole batch. Nothing is
//! acknowledged before it is durable.

use std::panic::{AssertUnwindSafe, catch_unwind};

use diesel::Connection;
use diesel::connection::{AnsiTransactionManager, TransactionManager};

use super::workers::{Job, ThreadState, Workers};
use crate::domain::CoreError;
use crate::storage::{self, DatabaseUrl, DbConnection};

/// The most writes one commit carries: bounds how long the first of them waits for the last.
const MAX_BATCH: usize = 256;

/// Delivers one write's answer once its batch is settled: `Err` carries why the commit failed.
type Settle = Box<dyn FnOnce(Result<(), &str>) + Send>;

/// The handle of the writer thread.
pub(crate) struct GroupCommit {
    thread: Workers<WriterThread>,
}

impl GroupCommit {
    pub(crate) fn start(url: DatabaseUrl) -> std::io::Result<GroupCommit> {
        let thread = Workers::start(
            "rosetta-writer",
            1,
            std::time::Duration::from_secs(60),
            move || WriterThread {
                url: url.clone(),
                conn: None,
                refused: None,
                settle: Vec::with_capacity(MAX_BATCH),
            },
        )?;
        Ok(GroupCommit { thread })
    }

    /// Runs `work` in the next batch; answers after the batch committed.
    pub(crate) async fn write<T, F>(&self, work: F) -> Result<T, CoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, CoreError> + Send + 'static,
    {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.thread
            .submit(Box::new(move |writer: &mut WriterThread| {
                // Nothing was promised to a requester that has gone: its write is not made.
                if answer.is_closed() {
                    return;
                }
                let outcome = writer.run(work);
                writer.settle.push(Box::new(move |committed| {
                    let answer_now = match (outcome, committed) {
                        (Ok(value), Ok(())) => Ok(value),
                        (Ok(_), Err(why)) => Err(CoreError::Internal(format!("commit: {why}"))),
                        (Err(err), _) => Err(err),
                    };
                    let _ = answer.send(answer_now);
                }));
            }));
        answered.await.unwrap_or_else(|_| {
            Err(CoreError::Internal(
                "write ended without an answer (it panicked)".to_owned(),
            ))
        })
    }
}

struct WriterThread {
    url: DatabaseUrl,
    conn: Option<DbConnection>,
    /// Why the current batch cannot run (its transaction could not begin).
    refused: Option<String>,
    /// The answers of the current batch's writes, sent once it is settled.
    settle: Vec<Settle>,
}

impl WriterThread {
    /// One write of the batch, in a savepoint of the batch's transaction.
    fn run<T>(
        &mut self,
        work: impl FnOnce(&mut DbConnection) -> Result<T, CoreError>,
    ) -> Result<T, CoreError> {
        if let Some(why) = &self.refused {
            return Err(CoreError::Internal(why.clone()));
        }
        let Some(conn) = self.conn.as_mut() else {
            return Err(CoreError::Internal("no writer connection".to_owned()));
        };
        conn.transaction(work)
    }

    /// Opens the batch's transaction (`BEGIN IMMEDIATE`: the write lock at once), on a fresh
    /// connection when there is none or the last one was left unusable.
    fn begin(&mut self) -> Result<(), String> {
        if self
            .conn
            .as_mut()
            .is_some_and(|conn| !storage::at_rest(conn))
        {
            self.conn = None;
        }
        let conn = match self.conn.as_mut() {
            Some(conn) => conn,
            None => self
                .conn
                .insert(storage::connect(&self.url).map_err(|e| e.to_string())?),
        };
        match conn {
            DbConnection::Sqlite(sqlite) => {
                AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")
                    .map_err(|e| e.to_string())
            }
            #[cfg(feature = "postgres")]
            DbConnection::Pg(_) => Err("group commit is for SQLite only".to_owned()),
        }
    }

    fn commit(&mut self) -> Result<(), String> {
        let Some(DbConnection::Sqlite(sqlite)) = self.conn.as_mut() else {
            return Err("no writer connection".to_owned());
        };
        AnsiTransactionManager::commit_transaction(sqlite).map_err(|e| e.to_string())
    }

    /// After a write panicked inside its savepoint (or savepoints within it): undo them back
    /// to the batch's own transaction, or abandon the batch.
    fn roll_back_savepoints(&mut self) {
        let mut rolled_back = false;
        if let Some(DbConnection::Sqlite(sqlite)) = self.conn.as_mut() {
            loop {
                let depth = AnsiTransactionManager::transaction_manager_status_mut(sqlite)
                    .transaction_depth();
                match depth {
                    Ok(Some(depth)) if depth.get() == 1 => {
                        rolled_back = true;
                        break;
                    }
                    Ok(Some(_)) if AnsiTransactionManager::rollback_transaction(sqlite).is_ok() => {
                    }
                    _ => break,
                }
            }
        }
        if !rolled_back {
            self.conn = None;
            self.refused = Some("the batch was abandoned after a write panicked".to_owned());
        }
    }
}

impl ThreadState for WriterThread {
    const BATCH: usize = MAX_BATCH;

    fn run_batch(&mut self, jobs: &mut Vec<Job<Self>>) {
        self.refused = self.begin().err();
        for job in jobs.drain(..) {
            if catch_unwind(AssertUnwindSafe(|| job(self))).is_err() {
                tracing::error!("a write panicked");
                if self.refused.is_none() {
                    self.roll_back_savepoints();
                }
            }
        }
        let committed = match self.refused.take() {
            None => self.commit(),
            Some(why) => Err(why),
        };
        if let Err(why) = &committed {
            tracing::error!(error = %why, "a batch of writes was not committed");
            // Whatever state the failure left: the next batch starts on a fresh connection.
            self.conn = None;
        }
        let committed = committed.as_ref().map(|_| ()).map_err(String::as_str);
        for settle in self.settle.drain(..) {
            settle(committed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::RunQueryDsl;
    use diesel::connection::SimpleConnection;

    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }

    fn insert(n: i64) -> impl FnOnce(&mut DbConnection) -> Result<(), CoreError> {
        move |conn| {
            diesel::sql_query(format!("INSERT INTO t VALUES ({n})")).execute(conn)?;
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_refused_or_panicking_write_takes_nothing_else_of_its_batch_along() {
        let dir = tempfile::tempdir().unwrap();
        let url = DatabaseUrl::parse(&format!("sqlite://{}/w.db", dir.path().display())).unwrap();
        storage::connect(&url)
            .unwrap()
            .batch_execute("CREATE TABLE t (n INTEGER PRIMARY KEY)")
            .unwrap();
        let writer = GroupCommit::start(url.clone()).unwrap();
        // The first write holds the writer a moment, so the others wait and share a batch.
        let (first, panicked, refused, conflicting, last) = tokio::join!(
            writer.write(|conn| {
                std::thread::sleep(std::time::Duration::from_millis(100));
                insert(1)(conn)
            }),
            writer.write(|conn| -> Result<(), CoreError> {
                insert(2)(conn)?;
                panic!("a write panicking on purpose")
            }),
            writer.write(|conn| {
                insert(3)(conn)?;
                Err::<(), _>(CoreError::UserNotFound)
            }),
            writer.write(insert(1)),
            writer.write(insert(4)),
        );
        assert_eq!(first, Ok(()));
        assert!(matches!(panicked, Err(CoreError::Internal(_))));
        assert_eq!(refused, Err(CoreError::UserNotFound));
        assert!(matches!(conflicting, Err(CoreError::Internal(_))));
        assert_eq!(last, Ok(()));
        let mut reader = storage::connect(&url).unwrap();
        let rows: Vec<i64> = diesel::sql_query("SELECT n FROM t ORDER BY n")
            .load::<Row>(&mut reader)
            .unwrap()
            .into_iter()
            .map(|row| row.n)
            .collect();
        assert_eq!(rows, [1, 4]);
    }
}
