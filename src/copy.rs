//! `rosetta copy`: a whole database copied into another (SQLite ↔ PostgreSQL, or two of a kind)
//! from one snapshot of the source, batch by batch, resumable after an interruption, then
//! verified table by table (row counts and checksums on both sides).

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::path::Path;

use serde_json::{Value, json};

use crate::storage::copy::{self as tables, CopiedTable, Sequence, TABLES};
use crate::storage::{self, DatabaseUrl, DbConnection, StorageError, redact_url};

/// The progress item naming the source of the copy under way.
const SOURCE_ITEM: &str = "source";

#[derive(Debug, Clone, Copy, Default)]
pub struct CopyOptions {
    /// Replace whatever the target holds (or finish nothing of an unfinished copy: start over).
    pub force: bool,
}

/// What the copy is doing, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Copying,
    Verifying,
}

#[derive(Debug, Clone, Copy)]
pub struct Progress<'a> {
    pub step: Step,
    pub table: &'a str,
    pub done: u64,
    pub total: u64,
}

/// One table compared after the copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCheck {
    pub table: &'static str,
    pub source_rows: u64,
    pub target_rows: u64,
    pub source_checksum: u64,
    pub target_checksum: u64,
}

impl TableCheck {
    pub fn matches(&self) -> bool {
        self.source_rows == self.target_rows && self.source_checksum == self.target_checksum
    }
}

/// What a copy did.
#[derive(Debug, Clone, Default)]
pub struct CopyReport {
    /// This run went on with a copy that an earlier run left unfinished.
    pub resumed: bool,
    /// Rows `--force` deleted from the target first, by table (only tables that had rows).
    pub replaced: Vec<(&'static str, u64)>,
    /// Rows written by this run.
    pub copied_rows: u64,
    /// The id each sequenced table hands out next in the target.
    pub sequences: Vec<(&'static str, i64)>,
    pub checks: Vec<TableCheck>,
}

impl CopyReport {
    /// Every table has the same rows on both sides.
    pub fn verified(&self) -> bool {
        self.checks.iter().all(TableCheck::matches)
    }

    /// The closing lines: what was done, then one line per table.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.replaced.is_empty() {
            let deleted: Vec<String> = self
                .replaced
                .iter()
                .map(|(table, rows)| format!("{table} {rows}"))
                .collect();
            out.push(format!(
                "--force: deleted the target's rows first ({})",
                deleted.join(", ")
            ));
        }
        let resumed = if self.resumed {
            " (went on with an unfinished copy)"
        } else {
            ""
        };
        out.push(format!("copied {} rows{resumed}", self.copied_rows));
        let next: Vec<String> = self
            .sequences
            .iter()
            .map(|(table, next)| format!("{table} {next}"))
            .collect();
        out.push(format!("next ids: {}", next.join(", ")));
        out.push(format!(
            "{:<22} {:>12} {:>12}  {:<16}  result",
            "table", "source rows", "target rows", "checksum"
        ));
        for check in &self.checks {
            let (checksum, result) = if check.matches() {
                (format!("{:016x}", check.source_checksum), "ok".to_owned())
            } else {
                (
                    format!("{:016x}", check.source_checksum),
                    format!("DIFFERS (target {:016x})", check.target_checksum),
                )
            };
            out.push(format!(
                "{:<22} {:>12} {:>12}  {checksum}  {result}",
                check.table, check.source_rows, check.target_rows
            ));
        }
        if self.verified() {
            out.push(format!(
                "verified: all {} tables have the same rows in both databases",
                self.checks.len()
            ));
        } else {
            out.push(
                "NOT verified: the tables marked DIFFERS are not the same in both databases \
                 (was the source written to between runs?); run again with --force to copy \
                 afresh"
                    .to_owned(),
            );
        }
        out
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("--from and --to name the same database")]
    SameDatabase,
    #[error("the source database file {0} does not exist")]
    MissingSource(String),
    #[error("{0} is not a Rosetta database: it has no migration table")]
    NotRosetta(String),
    #[error(
        "the source {url} lacks migrations {missing} of this version: run `rosetta migrate` \
         against it first"
    )]
    SourceBehind { url: String, missing: String },
    #[error(
        "{url} was migrated by a newer Rosetta (migrations {unknown} are unknown to this one): \
         copy it with that version"
    )]
    Newer { url: String, unknown: String },
    #[error(
        "the target is not empty (rows: {rows}); --force deletes its rows and copies the source in \
         their place"
    )]
    TargetNotEmpty { rows: String },
    #[error(
        "the target holds an unfinished copy from {from}: run the copy from there again to \
         finish it, or add --force to start over from this source"
    )]
    OtherCopyUnderway { from: String },
    #[error(
        "stopped in table {table}; what is copied is kept: run the same command again to go on"
    )]
    Interrupted { table: &'static str },
    #[error("the saved progress of an unfinished copy cannot be read ({0}); use --force")]
    BadProgress(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<diesel::result::Error> for CopyError {
    fn from(err: diesel::result::Error) -> CopyError {
        CopyError::Storage(StorageError::Query(err))
    }
}

/// Where one table of an unfinished copy stands.
#[derive(Debug, Clone, Default, PartialEq)]
struct TableProgress {
    /// The key of the last row copied; `None` before the first batch.
    after: Option<Value>,
    rows: u64,
    done: bool,
}

impl TableProgress {
    fn item(table: &str) -> String {
        format!("table:{table}")
    }

    fn encode(&self) -> String {
        json!({"after": self.after, "rows": self.rows, "done": self.done}).to_string()
    }

    fn decode(text: &str) -> Result<TableProgress, CopyError> {
        let bad = || CopyError::BadProgress(text.to_owned());
        let value: Value = serde_json::from_str(text).map_err(|_| bad())?;
        Ok(TableProgress {
            after: value.get("after").filter(|v| !v.is_null()).cloned(),
            rows: value.get("rows").and_then(Value::as_u64).ok_or_else(bad)?,
            done: value.get("done").and_then(Value::as_bool).ok_or_else(bad)?,
        })
    }
}

/// Copies every table of `from` into `to` and verifies the result. `on_progress` is called
/// after every batch; breaking out of it stops the copy as an interruption would (what is
/// committed stays, and the next run goes on from there).
pub fn copy(
    from: &str,
    to: &str,
    options: CopyOptions,
    on_progress: &mut dyn FnMut(Progress<'_>) -> ControlFlow<()>,
) -> Result<CopyReport, CopyError> {
    let source_url = DatabaseUrl::parse(from)?;
    let target_url = DatabaseUrl::parse(to)?;
    if same_database(&source_url, &target_url) {
        return Err(CopyError::SameDatabase);
    }
    let source_name = redact_url(from);
    if let DatabaseUrl::Sqlite { path } = &source_url
        && !Path::new(path).exists()
    {
        // Opening it would create an empty file.
        return Err(CopyError::MissingSource(path.clone()));
    }
    let mut source = storage::connect(&source_url)?;
    check_schema(&mut source, &source_name, true)?;
    let mut target = storage::connect(&target_url)?;
    storage::run_migrations(&mut target)?;
    check_schema(&mut target, &redact_url(to), false)?;
    if reach_the_same_database(&mut source, &mut target)? {
        return Err(CopyError::SameDatabase);
    }

    let mut report = CopyReport::default();
    let mut progress = prepare_target(&mut target, &source_name, options, &mut report)?;
    // One snapshot of the source for the whole copy and its verification: a gateway may keep
    // serving from it meanwhile without tearing the copy.
    storage::read_tx(&mut source, |source| {
        for table in TABLES {
            let state = progress.remove(table.name()).unwrap_or_default();
            report.copied_rows += copy_table(*table, source, &mut target, state, on_progress)?;
        }
        storage::write_tx(&mut target, |target| {
            for sequence in Sequence::ALL {
                let next = tables::next_id(source, sequence)?;
                tables::set_next_id(target, sequence, next)?;
                report.sequences.push((sequence.table(), next));
            }
            Ok::<_, CopyError>(())
        })?;
        for table in TABLES {
            report
                .checks
                .push(verify_table(*table, source, &mut target, on_progress)?);
        }
        Ok::<_, CopyError>(())
    })?;
    if report.verified() {
        tables::clear_progress(&mut target)?;
    }
    Ok(report)
}

/// Two URLs that open the same database: one SQLite file (however its path is spelled), or
/// the same PostgreSQL URL.
fn same_database(a: &DatabaseUrl, b: &DatabaseUrl) -> bool {
    match (a, b) {
        (DatabaseUrl::Sqlite { path: a }, DatabaseUrl::Sqlite { path: b }) => {
            canonical_file(a) == canonical_file(b)
        }
        (DatabaseUrl::Postgres { url: a }, DatabaseUrl::Postgres { url: b }) => a == b,
        _ => false,
    }
}

/// Whether two connections reach one database however their URLs spell it (another host name,
/// `postgresql://` for `postgres://`, a symbolic link): a mark committed through the target is
/// looked for through the source, and removed again.
fn reach_the_same_database(
    source: &mut DbConnection,
    target: &mut DbConnection,
) -> Result<bool, CopyError> {
    let mark = format!("probe:{}", uuid::Uuid::new_v4().simple());
    tables::put_progress(target, &mark, "")?;
    let seen = tables::progress(source)?
        .iter()
        .any(|(item, _)| *item == mark);
    tables::delete_progress(target, &mark)?;
    Ok(seen)
}

/// A file's absolute path, also for a file that does not exist yet (its directory resolved).
fn canonical_file(path: &str) -> std::path::PathBuf {
    let path = Path::new(path);
    if let Ok(real) = path.canonicalize() {
        return real;
    }
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    match (parent.canonicalize(), path.file_name()) {
        (Ok(dir), Some(name)) => dir.join(name),
        _ => path.to_path_buf(),
    }
}

/// The source must be at exactly this build's schema; the target (just migrated) must not be
/// ahead of it.
fn check_schema(conn: &mut DbConnection, url: &str, is_source: bool) -> Result<(), CopyError> {
    let Some(state) = storage::schema_state(conn)? else {
        return Err(CopyError::NotRosetta(url.to_owned()));
    };
    if !state.unknown.is_empty() {
        return Err(CopyError::Newer {
            url: url.to_owned(),
            unknown: state.unknown.join(", "),
        });
    }
    if is_source && !state.missing.is_empty() {
        return Err(CopyError::SourceBehind {
            url: url.to_owned(),
            missing: state.missing.join(", "),
        });
    }
    Ok(())
}

/// Decides between a fresh copy, going on with an unfinished one, and refusing; returns the
/// saved progress by table (empty for a fresh copy, which is recorded as under way first).
fn prepare_target(
    target: &mut DbConnection,
    source_name: &str,
    options: CopyOptions,
    report: &mut CopyReport,
) -> Result<BTreeMap<&'static str, TableProgress>, CopyError> {
    let saved: BTreeMap<String, String> = tables::progress(target)?.into_iter().collect();
    match saved.get(SOURCE_ITEM) {
        Some(underway) if underway == source_name && !options.force => {
            report.resumed = true;
            let mut progress = BTreeMap::new();
            for table in TABLES {
                if let Some(text) = saved.get(&TableProgress::item(table.name())) {
                    progress.insert(table.name(), TableProgress::decode(text)?);
                }
            }
            return Ok(progress);
        }
        Some(underway) if !options.force => {
            return Err(CopyError::OtherCopyUnderway {
                from: underway.clone(),
            });
        }
        _ => {}
    }
    let mut held = Vec::new();
    for table in TABLES {
        let rows = table.count(target)?;
        if rows > 0 {
            held.push((table.name(), u64::try_from(rows).unwrap_or(0)));
        }
    }
    // A target that holds this source's unfinished copy is not "somebody else's data".
    if !held.is_empty() && !options.force && !saved.contains_key(SOURCE_ITEM) {
        let rows: Vec<String> = held
            .iter()
            .map(|(table, rows)| format!("{table} {rows}"))
            .collect();
        return Err(CopyError::TargetNotEmpty {
            rows: rows.join(", "),
        });
    }
    storage::write_tx(target, |target| {
        for table in TABLES.iter().rev() {
            table.delete_all(target)?;
        }
        tables::clear_progress(target)?;
        tables::put_progress(target, SOURCE_ITEM, source_name)
    })?;
    report.replaced = held;
    Ok(BTreeMap::new())
}

/// Copies what is left of one table, one committed batch at a time, each batch recorded with
/// the position it reached in the same transaction; returns the rows written.
fn copy_table(
    table: &'static dyn CopiedTable,
    source: &mut DbConnection,
    target: &mut DbConnection,
    mut state: TableProgress,
    on_progress: &mut dyn FnMut(Progress<'_>) -> ControlFlow<()>,
) -> Result<u64, CopyError> {
    let total = u64::try_from(table.count(source)?).unwrap_or(0);
    let mut written = 0;
    let item = TableProgress::item(table.name());
    while !state.done {
        let batch = storage::write_tx(target, |target| {
            let batch = table.copy_batch(source, target, state.after.as_ref())?;
            let next = TableProgress {
                after: batch.last_key.clone().or_else(|| state.after.clone()),
                rows: state.rows + batch.rows as u64,
                done: batch.rows < table.batch_rows(),
            };
            tables::put_progress(target, &item, &next.encode())?;
            Ok::<_, CopyError>((batch, next))
        })?;
        written += batch.0.rows as u64;
        state = batch.1;
        let shown = Progress {
            step: Step::Copying,
            table: table.name(),
            done: state.rows,
            total: total.max(state.rows),
        };
        if on_progress(shown).is_break() {
            return Err(CopyError::Interrupted {
                table: table.name(),
            });
        }
    }
    Ok(written)
}

/// Reads a table whole on both sides and compares row counts and checksums.
fn verify_table(
    table: &'static dyn CopiedTable,
    source: &mut DbConnection,
    target: &mut DbConnection,
    on_progress: &mut dyn FnMut(Progress<'_>) -> ControlFlow<()>,
) -> Result<TableCheck, CopyError> {
    let total = u64::try_from(table.count(source)?).unwrap_or(0);
    let mut digest = |conn: &mut DbConnection, report: bool| -> Result<(u64, u64), CopyError> {
        let (mut rows, mut checksum, mut after) = (0u64, 0u64, None);
        loop {
            let batch = table.digest_batch(conn, after.as_ref())?;
            rows += batch.rows as u64;
            checksum = checksum.wrapping_add(batch.checksum);
            if report {
                let shown = Progress {
                    step: Step::Verifying,
                    table: table.name(),
                    done: rows,
                    total: total.max(rows),
                };
                if on_progress(shown).is_break() {
                    return Err(CopyError::Interrupted {
                        table: table.name(),
                    });
                }
            }
            if batch.rows < table.batch_rows() {
                return Ok((rows, checksum));
            }
            after = batch.last_key;
        }
    };
    let (source_rows, source_checksum) = digest(source, false)?;
    let (target_rows, target_checksum) = digest(target, true)?;
    Ok(TableCheck {
        table: table.name(),
        source_rows,
        target_rows,
        source_checksum,
        target_checksum,
    })
}
