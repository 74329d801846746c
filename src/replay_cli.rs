//! `rosetta replay`: loads transcripts, recordings and HAR files, replays each against a running
//! gateway or a throwaway in-process one, and reports; also `--convert` of HAR captures.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::replay::accept::Rules;
use crate::replay::report::{self, TranscriptReport};
use crate::replay::runner::{self, Bind, Options, Pace, SmsSource, Target};
use crate::replay::{har, input, transcript};

use crate::service::SystemClock;
use crate::settings::Settings;
use crate::startup::{self, Application, RunningApplication};

/// What `rosetta replay` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct ReplayArgs {
    pub files: Vec<PathBuf>,
    /// A running gateway's base URL for the dialect; an in-process gateway when `None`.
    pub target: Option<String>,
    pub dialect: Option<String>,
    pub junit: Option<PathBuf>,
    pub admin_url: Option<String>,
    pub admin_token: Option<String>,
    pub keep_going: bool,
    /// Also judge every answer by the dialect's OpenAPI document.
    pub check_schema: bool,
    /// Which entries of HAR files to replay.
    pub har_filter: har::Filter,
    /// The accepted-differences rules file.
    pub accept: Option<PathBuf>,
    pub pace: Pace,
    pub binds: Vec<Bind>,
}

/// Exit codes of `rosetta replay`.
pub const EXIT_PASSED: i32 = 0;
pub const EXIT_FAILED: i32 = 1;
pub const EXIT_UNUSABLE: i32 = 2;

/// A base URL the replay can use: `http://host:port[/prefix]`, and something listening there.
/// Either problem is the operator's input, not a failed exchange.
async fn check_reachable(url: &str) -> Result<(), String> {
    let Some(rest) = url.strip_prefix("http://") else {
        return Err(if url.starts_with("https://") {
            "https is not supported: replay against the gateway's own http listener".to_owned()
        } else {
            "must be a URL like http://127.0.0.1:8085 (with the scheme, and the dialect's \
             prefix if it has one)"
                .to_owned()
        });
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let address = if authority.contains(':') {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    match actix_web::rt::time::timeout(
        std::time::Duration::from_secs(5),
        actix_web::rt::net::TcpStream::connect(address.as_str()),
    )
    .await
    {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(err)) => Err(format!(
            "nothing answers there ({err}); is the gateway running?"
        )),
        Err(_) => Err("no answer within 5 s; is the gateway running?".to_owned()),
    }
}

/// Loads every file and checks the target first (any unusable one, or a target that is not an
/// http URL or does not answer, stops the run with exit code 2), then replays each
/// transcript, printing a line per exchange and the closing line. Returns the exit code.
pub async fn replay(args: &ReplayArgs) -> i32 {
    let mut loaded = Vec::new();
    for file in &args.files {
        match input::load(file, args.dialect.as_deref(), &args.har_filter) {
            Ok(transcript) => {
                for skipped in &transcript.skipped {
                    println!(
                        "skipped {}: {skipped} (left out of the replay)",
                        file.display()
                    );
                }
                loaded.push(transcript);
            }
            Err(err) => {
                eprintln!("rosetta replay: {err}");
                return EXIT_UNUSABLE;
            }
        }
    }
    if loaded.is_empty() {
        eprintln!("rosetta replay: no transcript given");
        return EXIT_UNUSABLE;
    }
    for (option, url) in [("--target", &args.target), ("--admin-url", &args.admin_url)] {
        if let Some(url) = url
            && let Err(problem) = check_reachable(url).await
        {
            eprintln!("rosetta replay: {option} {url}: {problem}");
            return EXIT_UNUSABLE;
        }
    }
    let accept = match &args.accept {
        Some(path) => match Rules::load(path) {
            Ok(rules) => Some(Arc::new(rules)),
            Err(err) => {
                eprintln!("rosetta replay: --accept {err}");
                return EXIT_UNUSABLE;
            }
        },
        None => None,
    };
    if !args.binds.is_empty() && !loaded.iter().any(|l| l.transcript.rebind) {
        println!(
            "note: --bind applies to recordings and HAR captures (replayed with rebinding); \
             no file given is one"
        );
    }
    if args.pace == Pace::Recorded
        && !loaded.iter().any(|l| {
            l.transcript
                .exchanges
                .iter()
                .any(|e| e.recorded_at.is_some())
        })
    {
        println!(
            "note: --pace recorded: no exchange given has a recorded time (recordings and HAR \
             captures have them); replaying without pauses"
        );
    }
    let options = Options {
        keep_going: args.keep_going,
        check_schema: args.check_schema,
        pace: args.pace,
        accept: accept.clone(),
        binds: args.binds.clone(),
    };
    let mut reports = Vec::new();
    for transcript in &loaded {
        let report = match &args.target {
            Some(base_url) => {
                if !transcript.transcript.settings.is_empty() {
                    println!(
                        "note: {} expects the target to run with these settings:\n{}",
                        transcript.file.display(),
                        transcript.transcript.settings_toml().trim_end()
                    );
                }
                let sms = match (&args.admin_url, &args.admin_token) {
                    (Some(url), Some(token)) => SmsSource::Admin {
                        url: url.clone(),
                        token: token.clone(),
                    },
                    _ => SmsSource::Unavailable,
                };
                let target = Target {
                    base_url: base_url.clone(),
                    sms,
                };
                runner::run(transcript, &target, &options).await
            }
            None => match InProcessGateway::start(&transcript.transcript.settings_toml()).await {
                Ok(gateway) => {
                    let report = runner::run(
                        transcript,
                        &gateway.target(&transcript.transcript.dialect),
                        &options,
                    )
                    .await;
                    gateway.stop().await;
                    report
                }
                Err(err) => {
                    eprintln!("rosetta replay: cannot start an in-process gateway: {err:#}");
                    return EXIT_UNUSABLE;
                }
            },
        };
        for line in report.lines() {
            println!("{line}");
        }
        reports.push(report);
    }
    println!("{}", report::closing_line(&reports));
    if let Some(rules) = &accept {
        println!("accepted differences ({}):", rules.source);
        for line in rules.report() {
            println!("  {line}");
        }
    }
    if let Some(path) = &args.junit
        && let Err(err) = std::fs::write(path, report::junit(&reports))
    {
        eprintln!("rosetta replay: cannot write {}: {err}", path.display());
        return EXIT_UNUSABLE;
    }
    if reports.iter().all(TranscriptReport::passed) {
        EXIT_PASSED
    } else {
        EXIT_FAILED
    }
}

/// `rosetta replay --convert capture.har -o out.json --dialect <id>`: returns the exchanges kept.
pub fn convert(
    har: &Path,
    out: &Path,
    dialect: &str,
    filter: &har::Filter,
) -> Result<usize, String> {
    let text = std::fs::read_to_string(har).map_err(|e| format!("{}: {e}", har.display()))?;
    let transcript = har::to_transcript(&text, dialect, filter)
        .map_err(|e| format!("{}: {e}", har.display()))?;
    transcript::validate(&transcript, out).map_err(|e| format!("{}: {e}", har.display()))?;
    let json = serde_json::to_string_pretty(&transcript).map_err(|e| e.to_string())?;
    std::fs::write(out, json + "\n").map_err(|e| format!("{}: {e}", out.display()))?;
    Ok(transcript.exchanges.len())
}

/// A throwaway gateway on a fresh temporary SQLite database, in test mode.
pub struct InProcessGateway {
    app: RunningApplication,
    dir: PathBuf,
}

impl InProcessGateway {
    /// A gateway with `extra` (a TOML layer, such as a transcript's settings) over the defaults.
    pub async fn start(extra: &str) -> anyhow::Result<InProcessGateway> {
        let dir =
            std::env::temp_dir().join(format!("rosetta-replay-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir)?;
        match Self::start_in(&dir, extra).await {
            Ok(app) => Ok(InProcessGateway { app, dir }),
            Err(err) => {
                let _ = std::fs::remove_dir_all(&dir);
                Err(err)
            }
        }
    }

    async fn start_in(dir: &Path, extra: &str) -> anyhow::Result<RunningApplication> {
        let mut layers = vec![format!(
            "[database]\nurl = \"sqlite://{}\"\npool_size = 4\n[ops]\nlisten = \"127.0.0.1:0\"\n\
             [security]\nbcrypt_cost = 4\n[testing]\nenabled = true\n",
            dir.join("replay.db").display()
        )];
        for spec in crate::dialects::registry() {
            layers.push(format!(
                "[dialects.{}]\nlisten = \"127.0.0.1:0\"\n",
                spec.id
            ));
        }
        layers.push(extra.to_owned());
        let layers: Vec<&str> = layers.iter().map(String::as_str).collect();
        let mut settings = Settings::from_toml_layers(&layers)?;
        // Test mode is the point of this gateway: its start-up warnings are for operators.
        settings.warnings.clear();
        let service = startup::build_service(&settings, Arc::new(SystemClock)).await?;
        Ok(Application::with_service(settings, service)?.spawn())
    }

    pub fn target(&self, dialect: &str) -> Target {
        let address = self.app.address(dialect);
        Target {
            base_url: address.map_or_else(String::new, |a| format!("http://{a}")),
            sms: SmsSource::Core(self.app.service.clone()),
        }
    }

    pub async fn stop(self) {
        self.app.stop().await;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
