//! The `rosetta` command: `serve` the gateway, `migrate` the database, `replay` transcripts,
//! `import` legacy users, `copy` a database to another, print a dialect's `openapi` document,
//! summarise a running gateway's `traffic`.

use std::future::Future;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use rosetta::settings::Settings;
use rosetta::startup::{self, Application};
use rosetta::{replay, replay_cli};

#[derive(Parser)]
#[command(
    name = "rosetta",
    version,
    about = "Compatibility gateway for legacy mobile-app account APIs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve every enabled dialect and the ops listener until SIGTERM or Ctrl-C.
    Serve {
        /// Settings file (default: ./rosetta.toml when present, else built-in defaults).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Apply pending database migrations and exit.
    Migrate {
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Replay transcripts (.json), recordings (.jsonl) or HAR captures (.har) and diff the
    /// answers; exit code 0 when all pass, 1 on a failure, 2 for unusable input.
    Replay(Box<ReplayCli>),
    /// Import legacy users (ids and password hashes kept, hashes wrapped) from CSV or JSONL.
    Import(ImportCli),
    /// Copy a whole database into another (SQLite or PostgreSQL, either way), then verify it
    /// table by table. Exit code 0 when verified, 1 otherwise.
    Copy(CopyCli),
    /// Print how many requests each dialect and each client app got, from a running gateway's
    /// metrics (since that gateway started).
    Traffic {
        /// The gateway's ops listener.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        ops_url: String,
    },
    /// Print a dialect's OpenAPI 3.1 document (its server: the dialect's configured listen
    /// address and prefix), as the ops listener serves it at /openapi/<dialect>.json.
    Openapi {
        /// The dialect's id (code_result, code_sec, error_code, rest, struts).
        dialect: String,
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

#[derive(Args)]
struct CopyCli {
    /// The database to copy: sqlite://<path> or postgres://user@host/db. Only read.
    #[arg(long)]
    from: String,
    /// The database to fill: migrated first; it must be empty, or hold an unfinished copy from
    /// the same source (which this run finishes).
    #[arg(long)]
    to: String,
    /// Delete whatever the target holds first (also an unfinished copy: start over).
    #[arg(long)]
    force: bool,
}

#[derive(Args)]
struct ImportCli {
    /// The file of users: CSV with a header line, or one JSON object per line.
    file: PathBuf,
    /// `csv` or `jsonl`.
    #[arg(long, value_parser = ["csv", "jsonl"])]
    format: String,
    /// Whose encoded ids the `id` column holds: `code_result` decodes SealTalk's N3D ids with
    /// `dialects.code_result.id_key`.
    #[arg(long, value_parser = ["code_result"])]
    dialect_ids: Option<String>,
    /// Read and check every row, write nothing.
    #[arg(long)]
    dry_run: bool,
    #[arg(long)]
    config: Option<PathBuf>,
}

#[derive(Args)]
struct ReplayCli {
    /// Files to replay.
    files: Vec<PathBuf>,
    /// Base URL of a running gateway's dialect (prefix included); without it, each transcript
    /// runs against a fresh in-process gateway (test mode, temporary SQLite database).
    #[arg(long)]
    target: Option<String>,
    /// The dialect of HAR files (and an override for transcripts).
    #[arg(long)]
    dialect: Option<String>,
    /// Also write a JUnit XML report.
    #[arg(long)]
    junit: Option<PathBuf>,
    /// A running gateway's ops URL, to read SMS codes from its admin API.
    #[arg(long)]
    admin_url: Option<String>,
    /// The bearer token of that admin API (`ops.admin_token` of the running gateway).
    #[arg(long)]
    admin_token: Option<String>,
    /// Run every exchange even after a failure.
    #[arg(long)]
    keep_going: bool,
    /// Also check every answer against the dialect's OpenAPI document (its status, Content-Type
    /// and body schema); a mismatch fails the exchange.
    #[arg(long)]
    check_schema: bool,
    /// Convert this HAR file to a transcript (with -o and --dialect) instead of replaying.
    #[arg(long, value_name = "HAR")]
    convert: Option<PathBuf>,
    /// Where --convert writes the transcript.
    #[arg(short = 'o', long = "output")]
    output: Option<PathBuf>,
    /// HAR files: keep only entries of this host (host or host:port).
    #[arg(long)]
    host: Option<String>,
    /// HAR files: keep only entries under this path prefix, and remove it.
    #[arg(long)]
    prefix: Option<String>,
    /// Accepted differences: a TOML file of rules; what they accept does not fail an exchange,
    /// and the report says how often each rule matched.
    #[arg(long, value_name = "RULES")]
    accept: Option<PathBuf>,
    /// `fast` (default): each exchange as soon as the one before is answered; `recorded`: after
    /// the gap recorded before it, so throttles and expiries behave as they did.
    #[arg(long, value_parser = ["fast", "recorded"], default_value = "fast")]
    pace: String,
    /// A value a recording could not reveal: `id:100023=5` replays the recorded id 100023 as 5
    /// (a legacy id known from an imported user table). KIND is id, session or timestamp.
    /// Repeatable.
    #[arg(long = "bind", value_name = "KIND:RECORDED=LIVE")]
    binds: Vec<replay::runner::Bind>,
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Serve { config } => server_command(async move {
            let settings = Settings::load(config.as_deref())?;
            Application::build(settings)
                .await?
                .run_until_stopped(move || Settings::load(config.as_deref()))
                .await
        }),
        Command::Migrate { config } => server_command(async move {
            let settings = Settings::load(config.as_deref())?;
            let applied = startup::migrate(&settings).await?;
            if applied.is_empty() {
                println!("database is up to date");
            }
            for version in applied {
                println!("applied {version}");
            }
            Ok(())
        }),
        Command::Import(cli) => server_command(import_users(cli)),
        Command::Copy(cli) => copy_database(&cli),
        Command::Openapi { dialect, config } => print_openapi(&dialect, config.as_deref()),
        Command::Traffic { ops_url } => {
            let fetched = actix_web::rt::System::new()
                .block_on(async move { rosetta::traffic::fetch(&ops_url).await });
            match fetched {
                Ok(metrics) => {
                    print!(
                        "{}",
                        rosetta::traffic::render(&rosetta::traffic::summarise(&metrics))
                    );
                    ExitCode::SUCCESS
                }
                Err(err) => {
                    eprintln!("rosetta traffic: {err}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Replay(cli) => {
            // The replayer's own lines are its output; the in-process gateway stays quiet.
            rosetta::telemetry::init("warn");
            let code = match cli.convert.clone() {
                Some(har) => convert_har(&har, *cli),
                None => {
                    let args = replay_cli::ReplayArgs {
                        files: cli.files,
                        target: cli.target,
                        dialect: cli.dialect,
                        junit: cli.junit,
                        admin_url: cli.admin_url,
                        admin_token: cli.admin_token,
                        keep_going: cli.keep_going,
                        check_schema: cli.check_schema,
                        har_filter: replay::har::Filter {
                            host: cli.host,
                            prefix: cli.prefix,
                        },
                        accept: cli.accept,
                        pace: if cli.pace == "recorded" {
                            replay::runner::Pace::Recorded
                        } else {
                            replay::runner::Pace::Fast
                        },
                        binds: cli.binds,
                    };
                    actix_web::rt::System::new()
                        .block_on(async move { replay_cli::replay(&args).await })
                }
            };
            ExitCode::from(u8::try_from(code).unwrap_or(1))
        }
    }
}

/// `rosetta import`: reads the file, imports (or checks) every row with a progress line, and
/// prints the report.
async fn import_users(cli: ImportCli) -> anyhow::Result<()> {
    use anyhow::Context;
    use rosetta::import::{self, Format};

    let settings = Settings::load(cli.config.as_deref())?;
    let text = std::fs::read_to_string(&cli.file)
        .with_context(|| format!("reading {}", cli.file.display()))?;
    let format = if cli.format == "csv" {
        Format::Csv
    } else {
        Format::Jsonl
    };
    let rows = import::read_rows(&text, format)
        .map_err(|e| anyhow::anyhow!("{}: {e}", cli.file.display()))?;
    startup::migrate(&settings).await?;
    let clock = std::sync::Arc::new(rosetta::service::clock::SystemClock);
    let service = startup::build_service(&settings, clock).await?;
    #[cfg(feature = "code_result")]
    let cipher = match cli.dialect_ids.as_deref() {
        Some("code_result") => {
            let dialect = settings
                .dialects
                .get("code_result")
                .context("the code_result dialect has no settings")?;
            let config = rosetta::dialects::code_result::Config::from_settings(dialect)
                .map_err(|p| anyhow::anyhow!("dialects.code_result.{}: {}", p.key, p.reason))?;
            Some(config.ids)
        }
        _ => None,
    };
    #[cfg(feature = "code_result")]
    let decode = cipher
        .as_ref()
        .map(|cipher| move |text: &str| cipher.decode(text));
    #[cfg(feature = "code_result")]
    let decode: import::DecodeId<'_> = decode.as_ref().map(|f| f as &dyn Fn(&str) -> Option<u64>);
    #[cfg(not(feature = "code_result"))]
    let decode: import::DecodeId<'_> = match cli.dialect_ids {
        Some(id) => anyhow::bail!("this build does not serve {id}: its ids cannot be decoded"),
        None => None,
    };
    let mut display = ProgressDisplay::new(1000);
    let report = import::import(&service, &rows, decode, cli.dry_run, |done, total| {
        display.show("", done as u64, total as u64);
    })
    .await;
    for line in report.lines(cli.dry_run) {
        println!("{line}");
    }
    Ok(())
}

/// `rosetta openapi <dialect>`: the document on stdout; an unknown dialect or unusable settings
/// exit 2.
fn print_openapi(id: &str, config: Option<&std::path::Path>) -> ExitCode {
    use rosetta::ops::openapi;

    let Some(spec) = rosetta::dialects::find(id) else {
        let known: Vec<&str> = rosetta::dialects::registry().iter().map(|s| s.id).collect();
        eprintln!(
            "rosetta openapi: no dialect `{id}` in this build (it has {})",
            known.join(", ")
        );
        return ExitCode::from(2);
    };
    let settings = match Settings::load(config) {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("rosetta: {err}");
            return ExitCode::from(2);
        }
    };
    let url = match settings.dialects.get(id) {
        Some(dialect) => openapi::server_url(dialect.listen, &dialect.prefix),
        None => format!("http://127.0.0.1:{}", spec.default_port),
    };
    println!("{}", openapi::render(spec, &url));
    ExitCode::SUCCESS
}

/// `rosetta copy`: the copy with its progress on stderr, then the verification table.
fn copy_database(cli: &CopyCli) -> ExitCode {
    use rosetta::copy::{self, CopyOptions, Step};

    let mut display = ProgressDisplay::new(10_000);
    let options = CopyOptions { force: cli.force };
    let outcome = copy::copy(&cli.from, &cli.to, options, &mut |progress| {
        if progress.total == 0 {
            // An empty table: nothing worth a line.
            return std::ops::ControlFlow::Continue(());
        }
        let step = match progress.step {
            Step::Copying => "copying",
            Step::Verifying => "verifying",
        };
        display.show(
            &format!("{step} {}", progress.table),
            progress.done,
            progress.total,
        );
        std::ops::ControlFlow::Continue(())
    });
    match outcome {
        Ok(report) => {
            for line in report.lines() {
                println!("{line}");
            }
            if report.verified() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(err) => {
            eprintln!("rosetta copy: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Progress on stderr: a bar redrawn in place on a terminal; otherwise a line each time another
/// `every` items are done, and at the end.
struct ProgressDisplay {
    on_terminal: bool,
    every: u64,
    label: String,
    printed: u64,
    finished: bool,
}

impl ProgressDisplay {
    fn new(every: u64) -> ProgressDisplay {
        use std::io::IsTerminal;
        ProgressDisplay {
            on_terminal: std::io::stderr().is_terminal(),
            every,
            label: String::new(),
            printed: 0,
            finished: false,
        }
    }

    fn show(&mut self, label: &str, done: u64, total: u64) {
        use std::io::Write;

        if label != self.label {
            self.label = label.to_owned();
            self.printed = 0;
            self.finished = false;
        }
        if self.finished {
            return;
        }
        self.finished = done >= total;
        let prefix = if label.is_empty() {
            String::new()
        } else {
            format!("{label} ")
        };
        if self.on_terminal {
            let width = 30;
            let filled = (done.min(total) * width)
                .checked_div(total)
                .unwrap_or(width);
            eprint!(
                "\r{prefix}[{}{}] {done}/{total}\x1b[K",
                "#".repeat(filled as usize),
                " ".repeat((width - filled) as usize)
            );
            if done >= total {
                eprintln!();
            }
            let _ = std::io::stderr().flush();
        } else if done >= self.printed + self.every || done >= total {
            self.printed = done;
            eprintln!("{prefix}{done}/{total} rows");
        }
    }
}

/// Runs a server-side command on the actix runtime with `info` logging.
fn server_command(work: impl Future<Output = anyhow::Result<()>>) -> ExitCode {
    rosetta::telemetry::init("info");
    match actix_web::rt::System::new().block_on(work) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("rosetta: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn convert_har(har: &std::path::Path, cli: ReplayCli) -> i32 {
    let (Some(output), Some(dialect)) = (cli.output, cli.dialect) else {
        eprintln!("rosetta replay: --convert needs -o OUT.json and --dialect ID");
        return replay_cli::EXIT_UNUSABLE;
    };
    let filter = replay::har::Filter {
        host: cli.host,
        prefix: cli.prefix,
    };
    match replay_cli::convert(har, &output, &dialect, &filter) {
        Ok(kept) => {
            println!("wrote {} ({kept} exchanges)", output.display());
            replay_cli::EXIT_PASSED
        }
        Err(err) => {
            eprintln!("rosetta replay: {err}");
            replay_cli::EXIT_UNUSABLE
        }
    }
}
