//! `kthena-sim presets`: the built-in servers, with the GPUs each uses and where its figures
//! come from.

use std::process::ExitCode;

use super::output::print_stdout;
use crate::model::presets::PRESETS;

pub fn run() -> anyhow::Result<ExitCode> {
    let width = PRESETS.iter().map(|p| p.name.len()).max().unwrap_or(0);
    let mut table = format!("{:width$}  GPUS  PROVENANCE\n", "PRESET");
    for p in &PRESETS {
        table += &format!("{:width$}  {:>4}  {}\n", p.name, p.gpus, p.provenance);
    }
    print_stdout(table.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
