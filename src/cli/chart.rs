//! `kthena-sim chart OUTPUT_DIR`: draws a finished run's charts again from its output files
//! (after a change to the charts, or for a folder copied from elsewhere), replacing the chart
//! files in place. Exit 0, or 2 when a file is missing or unreadable.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::output::write_file;
use crate::chart;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A run's output folder (written by `kthena-sim run`).
    pub dir: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let inputs = chart::INPUTS
        .iter()
        .map(|name| {
            let path = args.dir.join(name);
            let bytes =
                std::fs::read(&path).with_context(|| format!("{}: cannot read", path.display()))?;
            Ok((name.to_string(), bytes))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let charts = chart::render(&inputs).map_err(|e| match e.file() {
        // The message starts with the file's name: its path takes its place.
        Some(file) => {
            let message = e.to_string();
            let rest = message.strip_prefix(file).unwrap_or(&message);
            anyhow::anyhow!("{}{rest}", args.dir.join(file).display())
        }
        None => anyhow::anyhow!("{}: {e}", args.dir.display()),
    })?;
    for (name, bytes) in &charts {
        let path = args.dir.join(name);
        write_file(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let names: Vec<&str> = charts.iter().map(|(n, _)| n.as_str()).collect();
    println!("{}: {}", args.dir.display(), names.join(", "));
    Ok(ExitCode::SUCCESS)
}
