//! `kthena-sim compare SCENARIO --variant NAME=POLICY.yaml ... | --variant NAME --set KEY=VALUE ...`:
//! the same scenario and seed with each variant, in parallel; `comparison.md/.csv/.json`, one
//! folder per variant, and CI outputs. Exit 0 when every assertion of every variant held, 1
//! when one failed, 2 on bad input.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};

use super::output::write_folder;
use super::run::output_files;
use crate::chart;
use crate::experiment::{run_all, scenario_variants, Variant, VariantRun};
use crate::model::world::RunOptions;
use crate::outputs::comparison::Row;
use crate::outputs::summary::AssertionOutcome;
use crate::report::comparison;
use crate::scenario::setting::Setting;
use crate::scenario::Overrides;

/// Options `compare` and `sweep` share.
#[derive(Debug, Clone, clap::Args)]
pub struct Common {
    /// Output folder (default `output/<scenario file name>-compare` / `-sweep` / `-plan`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace the output folder even when it holds files other than kthena-sim results.
    #[arg(long)]
    pub force: bool,
    /// Replace the scenario's seed (the same for every variant).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Replace the simulated duration.
    #[arg(long)]
    pub duration: Option<String>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Write JUnit XML: one test case per assertion per variant.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write a Markdown summary (e.g. to `$GITHUB_STEP_SUMMARY`).
    #[arg(long, value_name = "FILE")]
    pub markdown_summary: Option<PathBuf>,
}

impl Common {
    /// The output folder (`--out`, else `output/<default>`), refused at once when it may
    /// not be replaced.
    pub fn out_dir(&self, default: &str) -> anyhow::Result<PathBuf> {
        let out = self
            .out
            .clone()
            .unwrap_or_else(|| Path::new("output").join(default));
        super::output::check_target(&out, self.force)
            .with_context(|| format!("cannot write {}", out.display()))?;
        Ok(out)
    }
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The scenario file.
    pub scenario: PathBuf,
    /// A variant: `NAME=POLICY.yaml[,POLICY.yaml...]` (other manifests), or `NAME` followed by
    /// `--set KEY=VALUE` options. Without any, the scenario's own `variants:` are run.
    #[arg(long, value_name = "NAME[=POLICY.yaml]")]
    pub variant: Vec<String>,
    /// A setting of the preceding `--variant` (e.g. `engine=v0.4`,
    /// `policy.metrics[0].targetValue=5`, `binding.maxReplicas=8`).
    #[arg(long, value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    #[command(flatten)]
    pub common: Common,
}

/// The variants in command-line order, each `--set` belonging to the `--variant` before it
/// (clap keeps each option's values, not their interleaving, so the raw arguments decide).
fn variants_from_args(args: &Args) -> anyhow::Result<Vec<Variant>> {
    let raw: Vec<String> = std::env::args().collect();
    let mut out: Vec<Variant> = Vec::new();
    let mut it = raw.iter().peekable();
    while let Some(a) = it.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f == "--variant" || f == "--set" => (f, Some(v.to_string())),
            _ => (a.as_str(), None),
        };
        if flag != "--variant" && flag != "--set" {
            continue;
        }
        let Some(value) = inline.or_else(|| it.next().cloned()) else {
            break;
        };
        if flag == "--variant" {
            let (name, policies) = match value.split_once('=') {
                Some((n, p)) => (
                    n.to_string(),
                    Some(p.split(',').map(PathBuf::from).collect()),
                ),
                None => (value.clone(), None),
            };
            if name.is_empty() || name.contains('/') {
                bail!("--variant {value:?}: a variant needs a name without slashes");
            }
            if out.iter().any(|v| v.name == name) {
                bail!("--variant {name}: the name is used twice");
            }
            out.push(Variant {
                name,
                policies,
                settings: Vec::new(),
            });
        } else {
            let Some(v) = out.last_mut() else {
                bail!("--set {value}: give the --variant it belongs to first");
            };
            v.settings.push(
                value
                    .parse::<Setting>()
                    .map_err(|e| anyhow::anyhow!("--set {e}"))?,
            );
        }
    }
    if out.len() != args.variant.len() {
        bail!("--variant: could not read the variants from the command line");
    }
    Ok(out)
}

fn base_overrides(c: &Common) -> Overrides {
    Overrides {
        seed: c.seed,
        duration: c.duration.clone(),
        ..Overrides::default()
    }
}

/// Writes the variant folders, the table in three formats and the CI outputs, prints the
/// table, and gives the exit code.
pub(super) fn finish(
    kind: &str,
    title: &str,
    out: &Path,
    runs: &[VariantRun],
    rows: Vec<Row>,
    common: &Common,
) -> anyhow::Result<ExitCode> {
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut data = Vec::new();
    for r in runs {
        let own = output_files(&r.scenario, &r.results, &r.summary)?;
        if kind == "comparison" {
            data.push((r.variant.name.clone(), chart::run_data(&own)?));
        }
        files.extend(
            own.into_iter()
                .map(|(name, bytes)| (format!("variants/{}/{name}", r.variant.name), bytes)),
        );
    }
    // A sweep's grid is too many lines for one chart: its page shows the Pareto scatter.
    if !data.is_empty() {
        files.extend(chart::render_overlays(&data)?);
    }
    write_tables(kind, title, out, rows, &mut files, common)
}

/// The table files (and CI outputs) of `rows`, written with `extra` into `out`.
pub(super) fn write_tables(
    kind: &str,
    title: &str,
    out: &Path,
    mut rows: Vec<Row>,
    extra: &mut Vec<(String, Vec<u8>)>,
    common: &Common,
) -> anyhow::Result<ExitCode> {
    comparison::mark_pareto(&mut rows);
    extra.extend(chart::render_pareto(title, &chart::points(&rows))?);
    let md = comparison::markdown(title, &rows);
    // The charts sit beside the page; the CI summary and the terminal get the table only.
    let mut page = format!("{md}\n## Charts\n\n![Cost vs SLO attainment](pareto.svg)\n");
    if extra.iter().any(|(n, _)| n == "overlay-replicas.svg") {
        page.push_str("![Replicas](overlay-replicas.svg)\n![Latency](overlay-latency.svg)\n![Cost](overlay-cost.svg)\n");
    }
    extra.push((format!("{kind}.md"), page.into_bytes()));
    extra.push((format!("{kind}.csv"), comparison::csv(&rows)?));
    extra.push((format!("{kind}.json"), comparison::json(title, &rows)?));
    write_folder(out, extra, common.force)
        .with_context(|| format!("cannot write {}", out.display()))?;
    if let Some(path) = &common.markdown_summary {
        super::output::write_file(path, md.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = &common.junit {
        let suites: Vec<(&str, &[AssertionOutcome])> = rows
            .iter()
            .map(|r| (r.variant.as_str(), r.assertions.as_slice()))
            .collect();
        super::output::write_file(path, comparison::junit(title, &suites).as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!("{title} -> {}", out.display());
    print!("{md}");
    Ok(if rows.iter().all(Row::passed) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let variants = if args.variant.is_empty() {
        if !args.set.is_empty() {
            bail!("--set needs a --variant before it");
        }
        scenario_variants(&args.scenario).map_err(|e| anyhow::anyhow!(e))?
    } else {
        variants_from_args(&args)?
    };
    if variants.is_empty() {
        bail!(
            "{}: no variants: give --variant options or list `variants:` in the scenario",
            args.scenario.display()
        );
    }
    let stem = args
        .scenario
        .file_stem()
        .map_or("scenario".into(), |s| s.to_string_lossy().to_string());
    let out = args.common.out_dir(&format!("{stem}-compare"))?;
    let runs = run_all(
        &args.scenario,
        &base_overrides(&args.common),
        &variants,
        RunOptions::default(),
        args.common.jobs,
    )
    .map_err(|e| anyhow::anyhow!(e))?;
    let rows = runs.iter().enumerate().map(|(i, r)| r.row(i)).collect();
    finish(
        "comparison",
        &format!("{stem}: comparison of {} variants", runs.len()),
        &out,
        &runs,
        rows,
        &args.common,
    )
}
