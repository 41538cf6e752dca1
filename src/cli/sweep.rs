//! `kthena-sim sweep SCENARIO --set KEY=V1,V2,... [--set ...] [--shard K/N]`: every
//! combination of the values, run like `compare` variants, with the cost-vs-attainment Pareto
//! front; `--shard K/N` runs one deterministic slice, and `kthena-sim sweep merge DIR...`
//! joins the slices into exactly the outputs of the whole sweep.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};

use super::common::{progress_bar, stem, OutputArgs, RunsArgs, ScenarioArgs, TableOutput};
use crate::experiment::{run_all, Variant};
use crate::model::world::RunOptions;
use crate::outputs::comparison::Row;
use crate::report::comparison::table_from_json;
use crate::scenario;
use crate::scenario::setting::Setting;

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<SweepCommand>,
    /// The scenario file.
    pub scenario: Option<PathBuf>,
    /// A dimension: `KEY=V1,V2,...` (keys as for `compare --set`; one value is a setting of
    /// every combination). The grid is every combination, the first dimension varying
    /// slowest.
    #[arg(long, value_name = "KEY=V1,V2,...")]
    pub set: Vec<String>,
    /// Run only slice K of N (1-based): the combinations whose index modulo N is K-1.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    #[command(flatten)]
    pub scenario_args: ScenarioArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub runs: RunsArgs,
}

#[derive(Debug, clap::Subcommand)]
pub enum SweepCommand {
    /// Join the outputs of sweep shards (their output folders) into the whole sweep's.
    Merge(MergeArgs),
}

/// `sweep merge` runs nothing: it takes only the options of its output.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The shards' output folders.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The grid's combinations, in order.
fn grid(sets: &[String]) -> anyhow::Result<Vec<Vec<Setting>>> {
    let mut dims: Vec<Vec<Setting>> = Vec::new();
    for s in sets {
        let (key, values) = s
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--set {s:?}: expected KEY=V1,V2,..."))?;
        let settings = values
            .split(',')
            .map(|v| {
                format!("{key}={v}")
                    .parse::<Setting>()
                    .map_err(|e| anyhow::anyhow!("--set {e}"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        dims.push(settings);
    }
    let mut combos: Vec<Vec<Setting>> = vec![Vec::new()];
    for dim in dims {
        combos = combos
            .iter()
            .flat_map(|c| {
                dim.iter().map(move |s| {
                    let mut c = c.clone();
                    c.push(s.clone());
                    c
                })
            })
            .collect();
    }
    Ok(combos)
}

fn parse_shard(s: &str) -> anyhow::Result<(usize, usize)> {
    let parse = || -> Option<(usize, usize)> {
        let (k, n) = s.split_once('/')?;
        let (k, n) = (k.parse().ok()?, n.parse().ok()?);
        (n >= 1 && (1..=n).contains(&k)).then_some((k, n))
    };
    parse().ok_or_else(|| anyhow::anyhow!("--shard {s:?}: expected K/N with 1 <= K <= N"))
}

fn title(stem: &str, combos: usize) -> String {
    format!("{stem}: sweep of {combos} combinations")
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if let Some(SweepCommand::Merge(m)) = args.command {
        return merge(m);
    }
    let Some(scenario) = args.scenario else {
        bail!("sweep needs a scenario file (or `sweep merge DIR...`)");
    };
    if args.set.is_empty() {
        bail!("sweep needs at least one --set KEY=V1,V2,...");
    }
    let combos = grid(&args.set)?;
    let total = combos.len();
    let (k, n) = args
        .shard
        .as_deref()
        .map(parse_shard)
        .transpose()?
        .unwrap_or((1, 1));
    let width = total.to_string().len();
    let picked: Vec<(usize, Variant)> = combos
        .into_iter()
        .enumerate()
        .filter(|(i, _)| i % n == k - 1)
        .map(|(i, settings)| {
            (
                i,
                Variant {
                    name: format!("{i:0width$}"),
                    policies: None,
                    settings,
                },
            )
        })
        .collect();
    let stem = stem(&scenario);
    let default_out = if n > 1 {
        format!("{stem}-sweep-{k}-of-{n}")
    } else {
        format!("{stem}-sweep")
    };
    let out = args.output.out_dir(Path::new("output").join(default_out))?;
    let base = args.scenario_args.overrides(Vec::new())?;
    let scn = scenario::load(&scenario, &base).map_err(|e| anyhow::anyhow!("{e}"))?;
    args.output.warnings(&scn)?;
    let replications = args.runs.replications(scn.replications, 5)?;
    let variants: Vec<Variant> = picked.iter().map(|(_, v)| v.clone()).collect();
    let runs_total = (variants.len() * replications) as u64;
    let bar = progress_bar(args.output.quiet, runs_total, "runs", &stem);
    let runs = run_all(
        &scenario,
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
    let rows: Vec<Row> = runs
        .iter()
        .zip(&picked)
        .map(|(r, (i, _))| r.row(*i))
        .collect();
    TableOutput {
        kind: "sweep",
        title: &title(&stem, total),
        combinations: Some(total),
        out: &out,
        output: &args.output,
        runs: &args.runs,
    }
    .finish_checked(&runs, rows)
}

/// Every file under `dir`, by its path relative to `dir` (sorted).
fn tree(dir: &Path, under: &Path, out: &mut Vec<(String, Vec<u8>)>) -> anyhow::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("{}: cannot read", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .with_context(|| format!("{}: cannot read", dir.display()))?;
    entries.sort();
    for p in entries {
        if p.is_dir() {
            tree(&p, under, out)?;
        } else {
            let name = p.strip_prefix(under).unwrap_or(&p).display().to_string();
            let bytes =
                std::fs::read(&p).with_context(|| format!("{}: cannot read", p.display()))?;
            out.push((name, bytes));
        }
    }
    Ok(())
}

/// Joins shards into the whole sweep: every combination exactly once (a missing or repeated
/// one is refused by number), its table, Pareto front and each combination's folder.
fn merge(m: MergeArgs) -> anyhow::Result<ExitCode> {
    let mut rows: Vec<Row> = Vec::new();
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut seen: Option<(String, Option<usize>)> = None;
    for dir in &m.dirs {
        let path = dir.join("sweep.json");
        let bytes =
            std::fs::read(&path).with_context(|| format!("{}: cannot read", path.display()))?;
        let table = table_from_json(&bytes)
            .map_err(|e| anyhow::anyhow!("{}: not a sweep table: {e}", path.display()))?;
        let this = (table.title.clone(), table.combinations);
        if seen.as_ref().is_some_and(|x| *x != this) {
            bail!(
                "{}: a shard of another sweep ({:?})",
                path.display(),
                table.title
            );
        }
        seen = Some(this);
        rows.extend(table.rows);
        let variants = dir.join("variants");
        if variants.is_dir() {
            tree(&variants, dir, &mut files)?;
        }
    }
    rows.sort_by_key(|r| r.index);
    if let Some(w) = rows.windows(2).find(|w| w[0].index == w[1].index) {
        bail!(
            "combination {} appears in two shards: give each shard's folder once",
            w[0].index
        );
    }
    let (title, combinations) = seen.unwrap_or_default();
    if let Some(total) = combinations {
        let missing: Vec<String> = (0..total)
            .filter(|i| rows.binary_search_by_key(i, |r| r.index).is_err())
            .map(|i| i.to_string())
            .collect();
        if !missing.is_empty() {
            bail!(
                "the shards hold {} of the sweep's {total} combinations; missing: {} (a shard's folder is missing)",
                rows.len(),
                missing.join(", ")
            );
        }
    }
    let out = m.output.out_dir(Path::new("output").join("sweep-merged"))?;
    TableOutput {
        kind: "sweep",
        title: &title,
        combinations,
        out: &out,
        output: &m.output,
        // A merge draws only the scatter, on every core.
        runs: &RunsArgs::default(),
    }
    .write_tables(rows, files)
}
