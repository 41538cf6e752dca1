//! `kthena-sim compare SCENARIO --variant NAME=POLICY.yaml ... | --variant NAME --set KEY=VALUE ...`:
//! the same scenario and seed with each variant, in parallel; `comparison.md/.csv/.json`, one
//! folder per variant, and CI outputs. Exit 0 when every assertion of every variant held, 1
//! when one failed, 2 on bad input.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::bail;

use super::common::{
    progress_bar, settings, stem, OutputArgs, RunsArgs, ScenarioArgs, TableOutput,
};
use crate::experiment::{run_all, scenario_variants, Variant};
use crate::model::world::RunOptions;
use crate::outputs::comparison::Row;
use crate::report::comparison::versus_baseline;
use crate::scenario;
use crate::scenario::setting::Setting;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The scenario file.
    pub scenario: PathBuf,
    /// A variant: `NAME=POLICY.yaml[,POLICY.yaml...]` (other manifests), or `NAME` followed by
    /// `--set KEY=VALUE` options. Without any, the scenario's own `variants:` are run.
    #[arg(long, value_name = "NAME[=POLICY.yaml]")]
    pub variant: Vec<String>,
    /// A setting of the preceding `--variant` (e.g. `engine=v0.4`,
    /// `policy.metrics[0].targetValue=5`, `binding.maxReplicas=8`); before the first
    /// `--variant`, a setting of every variant.
    #[arg(long, value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    #[command(flatten)]
    pub scenario_args: ScenarioArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub runs: RunsArgs,
}

/// The variants in command-line order, each `--set` belonging to the `--variant` before it,
/// and the settings given before the first `--variant` (for every variant). Clap keeps each
/// option's values, not their interleaving, so the raw arguments decide.
fn variants_from_args(args: &Args) -> anyhow::Result<(Vec<Setting>, Vec<Variant>)> {
    let raw: Vec<String> = std::env::args().collect();
    let mut common: Vec<Setting> = Vec::new();
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
                // Relative to the current directory, as every path given on the command line.
                Some((n, p)) => (
                    n.to_string(),
                    Some(
                        p.split(',')
                            .map(|f| std::path::absolute(f).unwrap_or_else(|_| PathBuf::from(f)))
                            .collect(),
                    ),
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
            let setting = settings(std::slice::from_ref(&value))?.remove(0);
            match out.last_mut() {
                Some(v) => v.settings.push(setting),
                None => common.push(setting),
            }
        }
    }
    if out.len() != args.variant.len()
        || common.len() + out.iter().map(|v| v.settings.len()).sum::<usize>() != args.set.len()
    {
        bail!("--variant: could not read the variants from the command line");
    }
    Ok((common, out))
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (common, variants) = if args.variant.is_empty() {
        let common = settings(&args.set)?;
        (
            common,
            scenario_variants(&args.scenario).map_err(|e| anyhow::anyhow!(e))?,
        )
    } else {
        variants_from_args(&args)?
    };
    if variants.is_empty() {
        bail!(
            "{}: no variants: give --variant options or list `variants:` in the scenario",
            args.scenario.display()
        );
    }
    let stem = stem(&args.scenario);
    let out = args
        .output
        .out_dir(Path::new("output").join(format!("{stem}-compare")))?;
    let base = args.scenario_args.overrides(common)?;
    let scn = scenario::load(&args.scenario, &base).map_err(|e| anyhow::anyhow!("{e}"))?;
    args.output.warnings(&scn)?;
    let replications = args.runs.replications(scn.replications, 5)?;
    let total = (variants.len() * replications) as u64;
    let bar = progress_bar(args.output.quiet, total, "runs", &stem);
    let runs = run_all(
        &args.scenario,
        &base,
        &variants,
        replications,
        RunOptions::default(),
        args.runs.jobs,
        &|| {
            if let Some(b) = &bar {
                b.inc(1);
            }
        },
    );
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let runs = runs.map_err(|e| anyhow::anyhow!(e))?;
    let mut rows: Vec<Row> = runs.iter().enumerate().map(|(i, r)| r.row(i)).collect();
    if let Some(baseline) = runs.first() {
        let base = baseline.summaries();
        for (row, run) in rows.iter_mut().zip(&runs).skip(1) {
            row.versus_baseline = versus_baseline(&base, &run.summaries());
        }
    }
    let title = format!("{stem}: comparison of {} variants", runs.len());
    TableOutput {
        kind: "comparison",
        title: &title,
        combinations: None,
        out: &out,
        output: &args.output,
        runs: &args.runs,
    }
    .finish_checked(&runs, rows)
}
