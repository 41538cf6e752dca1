//! `kthena-sim schema`: the JSON Schema of scenario files, for editor completion and checks
//! (with the YAML language server, a scenario's first line
//! `# yaml-language-server: $schema=../kthena-sim.schema.json`; README "Scenario files").

use std::process::ExitCode;

use super::output::print_stdout;
use crate::scenario::raw::RawScenario;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    let schema = schemars::schema_for!(RawScenario);
    print_stdout(format!("{}\n", serde_json::to_string_pretty(&schema)?).as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
