//! `kthena-sim presets`: the built-in servers, with the GPUs each uses and where its figures
//! come from.

use std::process::ExitCode;

use crate::model::presets::PRESETS;

pub fn run() -> anyhow::Result<ExitCode> {
    let width = PRESETS.iter().map(|p| p.name.len()).max().unwrap_or(0);
    println!("{:width$}  GPUS  PROVENANCE", "PRESET");
    for p in &PRESETS {
        println!("{:width$}  {:>4}  {}", p.name, p.gpus, p.provenance);
    }
    Ok(ExitCode::SUCCESS)
}
