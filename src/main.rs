//! The `rosetta` command: `serve` the gateway or `migrate` the database.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use rosetta::settings::Settings;
use rosetta::startup::{self, Application};

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    rosetta::telemetry::init();
    let result = actix_web::rt::System::new().block_on(run(cli.command));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("rosetta: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve { config } => {
            let settings = Settings::load(config.as_deref())?;
            Application::build(settings)
                .await?
                .run_until_stopped()
                .await
        }
        Command::Migrate { config } => {
            let settings = Settings::load(config.as_deref())?;
            let applied = startup::migrate(&settings).await?;
            if applied.is_empty() {
                println!("database is up to date");
            } else {
                for version in applied {
                    println!("applied {version}");
                }
            }
            Ok(())
        }
    }
}
