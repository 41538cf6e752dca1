//! The command-line interface: one file per subcommand, each with its `Args` and `run`. The
//! only layer that touches files, prints, and uses `anyhow`.

mod replay;
mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit code for bad input (unreadable or invalid files, bad arguments).
pub const EXIT_BAD_INPUT: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "kthena-sim",
    version,
    about = "Simulate Kthena autoscaling policies offline"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check Kthena manifests as the API server and the webhooks would.
    Validate(validate::Args),
    /// Replay recorded metric ticks (JSON Lines) through an engine version.
    Replay(replay::Args),
}

/// Parses the arguments, runs the subcommand and maps the outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_BAD_INPUT } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Validate(args) => validate::run(args),
        Command::Replay(args) => replay::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}
