//! The command-line interface: one file per subcommand, each with its `Args` and `run`. The
//! only layer that touches files, prints, and uses `anyhow`.

mod calibrate;
mod chart;
mod common;
mod compare;
mod from_prometheus;
mod output;
mod plan;
mod presets;
mod replay;
mod run;
mod scenario;
mod schema;
mod shell;
mod sweep;
mod trace;
mod validate;
mod version;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit code for bad input (unreadable or invalid files, bad arguments).
pub const EXIT_BAD_INPUT: u8 = 2;

/// Exit code when the machine fails the command, not its input: an output folder or file
/// that cannot be written (no space, no permission), worker threads that cannot start.
pub const EXIT_ENVIRONMENT: u8 = 3;

/// Exit code after Ctrl-C or SIGTERM (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: u8 = 130;

#[derive(Debug, Parser)]
#[command(
    name = "kthena-sim",
    version = version::VERSION,
    about = "Simulate Kthena autoscaling policies offline"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Simulate a scenario: serving, routing, pods and the autoscaler in the loop.
    Run(run::Args),
    /// Draw a finished run's charts again from its output folder.
    Chart(chart::Args),
    /// Run variants of a scenario (other policies or settings) and compare them.
    Compare(compare::Args),
    /// Run a grid of settings (optionally one shard of it), or merge shards.
    Sweep(sweep::Args),
    /// Search the scenario's `plan:` dimensions for the cheapest configuration that meets
    /// every assertion.
    Plan(plan::Args),
    /// Check Kthena manifests as the API server and the webhooks would.
    Validate(validate::Args),
    /// Start a scenario from Kthena manifests (`scenario init --from MANIFESTS...`).
    Scenario(scenario::Args),
    /// Replay recorded metric ticks (JSON Lines) through an engine version.
    Replay(replay::Args),
    /// Print the JSON Schema of scenario files (for editor completion).
    Schema(schema::Args),
    /// Inspect, synthesise and convert request traces.
    Trace(trace::Args),
    /// Fit a server's parameters to measured benchmark points or request traces.
    Calibrate(calibrate::Args),
    /// List the built-in servers: GPUs per server and where their figures come from.
    Presets,
    /// Print the shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(shell::CompletionsArgs),
    /// Print the man page, or write one page per subcommand with --out.
    Manpage(shell::ManpageArgs),
}

/// `--engine v0.4|head`.
fn parse_engine(s: &str) -> Result<crate::engine::EngineVersion, String> {
    s.parse()
        .map_err(|e: crate::engine::UnknownEngineVersion| e.to_string())
}

/// A positive duration as Go writes it (`15s`, `1m30s`, `500ms`), to the microsecond.
fn parse_interval(s: &str) -> Result<crate::sim::SimDuration, String> {
    let d = crate::engine::policy::Duration::parse(s).map_err(|e| e.to_string())?;
    if d.as_nanos() < 1_000 {
        return Err(format!("{s:?} is not a positive duration (at least 1us)"));
    }
    Ok(crate::sim::SimDuration::from_micros(d.as_nanos() / 1_000))
}

/// A failure of the environment (see [`EXIT_ENVIRONMENT`]).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct EnvironmentError(String);

/// An error that exits with [`EXIT_ENVIRONMENT`].
fn environment(message: String) -> anyhow::Error {
    anyhow::Error::new(EnvironmentError(message))
}

/// A trace format as a scenario's `format` field writes it, in YAML: a name (`azure`,
/// `mooncake`, `burstgpt`, `generic`) or a mapped CSV (`csv: {arrival: 0, input: 1,
/// output: 2}`).
fn parse_trace_format(s: &str) -> Result<crate::workload::TraceFormat, String> {
    let de = yaml_serde::Deserializer::from_str(s);
    yaml_serde::with::singleton_map_recursive::deserialize(de).map_err(|e| {
        format!(
            "unknown trace format {s:?} (azure, mooncake, burstgpt, generic, or 'csv: {{arrival: COLUMN, input: COLUMN, output: COLUMN}}'): {e}"
        )
    })
}

/// A clap error as one line, as every other error is: its first paragraph (`error: ...`,
/// with the arguments a missing-argument error lists) and its tips; the usage and the
/// pointer to `--help` are left out.
fn one_line(rendered: &str) -> String {
    let mut paragraphs = rendered.split("\n\n").map(str::trim);
    let mut line = paragraphs
        .next()
        .unwrap_or_default()
        .split('\n')
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ");
    for tip in paragraphs.filter(|p| p.starts_with("tip:")) {
        line.push_str("; ");
        line.push_str(&tip.split_whitespace().collect::<Vec<_>>().join(" "));
    }
    line
}

/// Parses the arguments, runs the subcommand and maps the outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            eprintln!("{}", one_line(&e.render().to_string()));
            return ExitCode::from(EXIT_BAD_INPUT);
        }
        // `--help` and `--version`, on stdout.
        Err(e) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
    };
    // A signal asks the run to stop at its next progress point; results are then not written.
    if let Err(e) = ctrlc::set_handler(crate::sim::cancel::request) {
        eprintln!("warning: cannot catch Ctrl-C: {e}");
    }
    let result = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Chart(args) => chart::run(args),
        Command::Compare(args) => compare::run(args),
        Command::Sweep(args) => sweep::run(args),
        Command::Plan(args) => plan::run(args),
        Command::Validate(args) => validate::run(args),
        Command::Scenario(args) => scenario::run(args),
        Command::Replay(args) => replay::run(args),
        Command::Schema(args) => schema::run(args),
        Command::Trace(args) => trace::run(args),
        Command::Calibrate(args) => calibrate::run(args),
        Command::Presets => presets::run(),
        Command::Completions(args) => shell::completions(args),
        Command::Manpage(args) => shell::manpage(args),
    };
    match result {
        Ok(code) => code,
        Err(_) if crate::sim::cancel::is_requested() => {
            eprintln!("interrupted: no results written");
            ExitCode::from(EXIT_INTERRUPTED)
        }
        Err(e) if e.is::<EnvironmentError>() => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_ENVIRONMENT)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argument_errors_fit_on_one_line() {
        let error = |args: &[&str]| {
            let e = Cli::try_parse_from(args).unwrap_err();
            one_line(&e.render().to_string())
        };
        assert_eq!(
            error(&["kthena-sim", "run"]),
            "error: the following required arguments were not provided: <SCENARIO>"
        );
        assert_eq!(
            error(&["kthena-sim", "run", "s.yaml", "-1"]),
            "error: unexpected argument '-1' found; tip: to pass '-1' as a value, use '-- -1'"
        );
        assert_eq!(
            error(&["kthena-sim", "run", "s.yaml", "--seed", "x"]),
            "error: invalid value 'x' for '--seed <SEED>': invalid digit found in string"
        );
    }
}
