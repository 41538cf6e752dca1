//! `kthena-sim chart DIR`: draws the charts of a finished output folder again from its files
//! (after a change to the charts, or for a folder copied from elsewhere), replacing the chart
//! files in place: a run's four charts; for a comparison, every variant's charts, the overlays
//! and the Pareto scatter; for a sweep, its variants' charts and the scatter; for a plan, the
//! winner's (or closest candidate's) charts. A folder written without its charts
//! (`--charts summary` or `none`) gets them, and its `report.md` (or comparison's or sweep's
//! page) then links them as if they had been drawn with the folder. Exit 0, or 2 when a file
//! is missing or unreadable.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};

use super::common::write_one;
use crate::chart::{self, ChartError, RunData};
use crate::outputs::comparison::Table;
use crate::outputs::summary::Summary;
use crate::report::{comparison, markdown};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// An output folder of `run`, `compare`, `sweep` or `plan`.
    pub dir: PathBuf,
}

/// What kind of output folder `dir` is, from the file that names it.
enum Folder {
    Run,
    /// `comparison` or `sweep`: the table file's stem.
    Table(&'static str),
    Plan,
}

fn folder_kind(dir: &Path) -> anyhow::Result<Folder> {
    if dir.join("summary.json").is_file() {
        Ok(Folder::Run)
    } else if dir.join("comparison.json").is_file() {
        Ok(Folder::Table("comparison"))
    } else if dir.join("sweep.json").is_file() {
        Ok(Folder::Table("sweep"))
    } else if dir.join("plan.json").is_file() {
        Ok(Folder::Plan)
    } else if !dir.is_dir() {
        bail!("{}: not a folder", dir.display())
    } else {
        bail!(
            "{}: not an output folder of run, compare, sweep or plan (no summary.json, comparison.json, sweep.json or plan.json)",
            dir.display()
        )
    }
}

/// A chart error with the path of the file it is about in place of the file's name.
fn placed(dir: &Path, e: ChartError) -> anyhow::Error {
    match e.file() {
        Some(file) => {
            let message = e.to_string();
            let rest = message.strip_prefix(file).unwrap_or(&message);
            anyhow::anyhow!("{}{rest}", dir.join(file).display())
        }
        None => anyhow::anyhow!("{}: {e}", dir.display()),
    }
}

/// The chart data of the run folder `dir`, its files read row by row.
fn read_run(dir: &Path) -> anyhow::Result<RunData> {
    let [summary, timeline, latency, cost] = chart::INPUTS.map(|name| dir.join(name));
    let open =
        |path: &Path| File::open(path).with_context(|| format!("{}: cannot read", path.display()));
    let summary =
        std::fs::read(&summary).with_context(|| format!("{}: cannot read", summary.display()))?;
    RunData::parse(&summary, open(&timeline)?, open(&latency)?, open(&cost)?)
        .map_err(|e| placed(dir, e))
}

fn write_all(dir: &Path, files: &[(String, Vec<u8>)]) -> anyhow::Result<()> {
    for (name, bytes) in files {
        write_one(&dir.join(name), bytes)?;
    }
    Ok(())
}

/// Makes the page `name` in `dir` (if there is one) link its charts with `link`, when it was
/// written without them.
fn link_charts(
    dir: &Path,
    name: &str,
    link: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<()> {
    let path = dir.join(name);
    if !path.is_file() {
        return Ok(());
    }
    let page = std::fs::read_to_string(&path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    match link(&page) {
        Some(linked) => write_one(&path, linked.as_bytes()),
        None => Ok(()),
    }
}

/// The replications of the run folder `dir` (0 or 1 for one run).
fn replications(dir: &Path) -> anyhow::Result<usize> {
    let path = dir.join("summary.json");
    let bytes = std::fs::read(&path).with_context(|| format!("{}: cannot read", path.display()))?;
    let summary: Summary =
        serde_json::from_slice(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(summary.replications.map_or(1, |r| r.count))
}

/// Redraws the charts of the run folder `dir` (with replications: each one's, and the
/// median's at the top); returns its data (or the median's) for overlays.
fn redraw_run(dir: &Path, drawn: &mut Vec<String>) -> anyhow::Result<RunData> {
    let n = replications(dir)?;
    if n > 1 {
        let runs = (1..=n)
            .map(|r| redraw_run(&dir.join("replications").join(r.to_string()), drawn))
            .collect::<anyhow::Result<Vec<RunData>>>()?;
        let median = RunData::median(&runs).ok_or_else(|| anyhow::anyhow!("no replications"))?;
        let charts = chart::render_data(&median).map_err(|e| placed(dir, e))?;
        write_all(dir, &charts)?;
        link_charts(dir, "report.md", markdown::with_all_charts)?;
        drawn.push(format!(
            "{} (median of {n} replications): {}",
            dir.display(),
            charts
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        return Ok(median);
    }
    let data = read_run(dir)?;
    let charts = chart::render_data(&data).map_err(|e| placed(dir, e))?;
    write_all(dir, &charts)?;
    link_charts(dir, "report.md", markdown::with_all_charts)?;
    drawn.push(format!(
        "{}: {}",
        dir.display(),
        charts
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    Ok(data)
}

/// A comparison's or sweep's charts: its variants', their overlays (comparisons only) and
/// the Pareto scatter of its table.
fn redraw_table(dir: &Path, kind: &str, drawn: &mut Vec<String>) -> anyhow::Result<()> {
    let path = dir.join(format!("{kind}.json"));
    let bytes = std::fs::read(&path).with_context(|| format!("{}: cannot read", path.display()))?;
    let table: Table = serde_json::from_slice(&bytes)
        .map_err(|e| anyhow::anyhow!("{}: not a {kind} table: {e}", path.display()))?;
    let mut runs = Vec::new();
    for row in &table.rows {
        let variant = dir.join("variants").join(&row.variant);
        if variant.join("summary.json").is_file() {
            runs.push((row.variant.clone(), redraw_run(&variant, drawn)?));
        }
    }
    let mut charts = Vec::new();
    let overlays = kind == "comparison" && !runs.is_empty();
    if overlays {
        charts.extend(chart::render_overlays(&runs).map_err(|e| placed(dir, e))?);
    }
    charts.extend(
        chart::render_pareto(&table.title, &chart::points(&table.rows))
            .map_err(|e| placed(dir, e))?,
    );
    write_all(dir, &charts)?;
    link_charts(dir, &format!("{kind}.md"), |page| {
        comparison::with_charts(page, overlays)
    })?;
    drawn.push(format!(
        "{}: {}",
        dir.display(),
        charts
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    Ok(())
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let dir = &args.dir;
    let mut drawn = Vec::new();
    match folder_kind(dir)? {
        Folder::Run => {
            redraw_run(dir, &mut drawn)?;
        }
        Folder::Table(kind) => redraw_table(dir, kind, &mut drawn)?,
        Folder::Plan => {
            let chosen = ["winner", "closest"]
                .iter()
                .map(|f| dir.join(f))
                .find(|d| d.join("summary.json").is_file());
            match chosen {
                Some(d) => {
                    redraw_run(&d, &mut drawn)?;
                }
                None => bail!(
                    "{}: a plan without a winner or closest candidate has no charts",
                    dir.display()
                ),
            }
        }
    }
    for line in drawn {
        println!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}
