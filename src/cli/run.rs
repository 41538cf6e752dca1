//! `kthena-sim run SCENARIO`: one simulation, its outputs written atomically into one folder,
//! a short summary on stdout. Exit 0 when every assertion held, 1 when one failed, 2 on bad
//! input (nothing is written then).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use super::common::{
    cannot_write, progress_bar, report_files, settings, variant_files, write_one, OutputArgs,
    RunsArgs, ScenarioArgs,
};
use super::output::stream_file;
use crate::chart::{self, RunData};
use crate::experiment::{run_all, Variant};
use crate::model::results::Results;
use crate::model::world::{simulate, RunError, RunOptions};
use crate::outputs::json_bytes;
use crate::outputs::summary::Summary;
use crate::report::csv_out::{RowFiles, RowWriters, COST, LATENCY, TIMELINE};
use crate::report::{markdown, summary};
use crate::scenario::{self, Scenario};
use crate::sim::SimTime;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The scenario file (YAML).
    pub scenario: PathBuf,
    /// A setting on the scenario or its manifests, e.g. `policy.metrics[0].targetValue=5`,
    /// `binding.maxReplicas=8`, `servings[chat].replicas=4` (repeatable).
    #[arg(long, value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Also write `requests.csv`, one row per request.
    #[arg(long)]
    pub requests: bool,
    /// Write every controller tick's engine inputs and decisions to FILE (golden JSON Lines
    /// format; `kthena-sim replay --check FILE` reproduces them).
    #[arg(long, value_name = "FILE")]
    pub engine_log: Option<PathBuf>,
    /// Write the run's time series to FILE in the OpenMetrics text format with timestamps:
    /// every pod's metrics, kube-state-metrics' pod and replica series, the router's
    /// counters (`promtool tsdb create-blocks-from openmetrics FILE DIR` backfills them).
    #[arg(long, value_name = "FILE")]
    pub openmetrics: Option<PathBuf>,
    /// How often `--openmetrics` scrapes, in phase with the controller ticks (default: the
    /// sync period, so that every tick's inputs are in the file).
    #[arg(long, value_name = "DURATION", requires = "openmetrics", value_parser = super::parse_interval)]
    pub scrape_interval: Option<crate::sim::SimDuration>,
    #[command(flatten)]
    pub scenario_args: ScenarioArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub runs: RunsArgs,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let overrides = args.scenario_args.overrides(settings(&args.set)?)?;
    let mut scn = scenario::load(&args.scenario, &overrides).map_err(|e| anyhow::anyhow!("{e}"))?;
    scn.write_requests |= args.requests;
    args.output.warnings(&scn)?;
    let default_out = scn
        .output_dir
        .clone()
        .unwrap_or_else(|| Path::new("output").join(&scn.name));
    let out_dir = args.output.out_dir(default_out)?;
    let replications = args.runs.replications(scn.replications, 1)?;
    let summary = if replications > 1 {
        if args.engine_log.is_some() || args.openmetrics.is_some() {
            anyhow::bail!(
                "--engine-log and --openmetrics record one run: give --replications 1 (replication 1 is that run)"
            );
        }
        let variant = Variant {
            name: scn.name.clone(),
            policies: None,
            settings: Vec::new(),
        };
        let opts = RunOptions {
            record_requests: scn.write_requests,
            ..RunOptions::default()
        };
        let bar = progress_bar(
            args.output.quiet,
            replications as u64,
            "replications",
            &scn.name,
        );
        let run = run_all(
            &args.scenario,
            &overrides,
            std::slice::from_ref(&variant),
            replications,
            opts,
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
        let run = run.map_err(|e| anyhow::anyhow!(e))?.remove(0);
        // Every replication reads the same trace rows.
        trace_notes(&run.replications[0].results);
        let drawn = args.output.charts.drawn(true);
        let folder = args.runs.on_pool(|| variant_files(&run, false, drawn))?;
        args.output.write(&out_dir, &folder.files)?;
        run.summary
    } else {
        run_once(&args, &scn, &out_dir)?
    };
    report(&args, &scn, &summary, &out_dir)
}

/// One simulation with a progress bar in simulated time; its folder written. The timeline,
/// cost and latency rows go into the folder as the run makes them, and the charts read them
/// back from there, so that memory does not grow with simulated time.
fn run_once(args: &Args, scn: &Scenario, out_dir: &Path) -> anyhow::Result<Summary> {
    let source = scn
        .workload
        .build(scn.seed(), &scn.base_dir, scn.duration())
        .map_err(|e| anyhow::anyhow!("{}: workload: {e}", args.scenario.display()))?;
    let staging = args.output.stage(out_dir)?;
    let create =
        |name: &str| (staging.create(name)).map_err(|e| cannot_write(&out_dir.join(name), e));
    let mut rows = RowWriters::new(RowFiles {
        timeline: create(TIMELINE)?,
        cost: create(COST)?,
        latency: create(LATENCY)?,
    });
    let seconds = (scn.duration().as_micros() / 1_000_000).max(1) as u64;
    let bar = progress_bar(args.output.quiet, seconds, "s simulated", &scn.name);
    let opts = RunOptions {
        step_by_step: false,
        record_requests: scn.write_requests,
        engine_log: args.engine_log.is_some(),
        openmetrics: (args.openmetrics.as_ref())
            .map(|_| args.scrape_interval.unwrap_or(scn.world.clock.sync_period)),
    };
    let mut progress = |t: SimTime| {
        if let Some(b) = &bar {
            b.set_position((t.as_micros() / 1_000_000) as u64);
        }
    };
    let results = simulate(&scn.world, source, opts, &mut rows, &mut progress);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let mut results = results.map_err(|e| match e {
        RunError::Rows(e) => cannot_write(out_dir, e),
        e => anyhow::anyhow!("{}: {e}", args.scenario.display()),
    })?;
    rows.finish().map_err(|e| cannot_write(out_dir, e))?;
    trace_notes(&results);

    let summary = summary::checked(scn, &results);
    let draw = args.output.charts.drawn(true).here;
    let files = args.runs.on_pool(|| {
        let mut files = report_files(scn, &results, &summary, None, draw)?;
        if draw {
            let open = |name: &str| {
                let path = staging.path(name);
                File::open(&path).with_context(|| format!("{}: cannot read", path.display()))
            };
            let summary_json = json_bytes(&summary)?;
            let data = RunData::parse(&summary_json, open(TIMELINE)?, open(LATENCY)?, open(COST)?)?;
            files.extend(chart::render_data(&data)?);
        }
        Ok(files)
    })?;
    (staging.write(&files).and_then(|()| staging.commit()))
        .map_err(|e| cannot_write(out_dir, e))?;
    if let (Some(path), Some(lines)) = (&args.engine_log, results.engine_log.take()) {
        let mut text = lines.join("\n");
        text.push('\n');
        write_one(path, text.as_bytes())?;
    }
    if let (Some(path), Some(om)) = (&args.openmetrics, results.openmetrics.take()) {
        stream_file(path, |out| om.write_to(out))
            .map_err(|e| super::environment(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(summary)
}

/// Says on stderr which trace rows the run did not replay as written (a BurstGPT trace's
/// failures, skipped by default), as `trace stats` does: a note, not a warning, since the
/// scenario's `zero_output` and `model` ask for it and `--deny-warnings` must not refuse
/// it. `report.md` says it too.
fn trace_notes(results: &Results) {
    for tally in &results.traces {
        for note in tally.notes() {
            eprintln!("note: {}: {note}", tally.path.display());
        }
    }
}

/// The CI outputs and the terminal's table; the exit code.
/// Who scaled: `head engine` for Kthena alone (as always), else every autoscaler that ran
/// (`hpa`, `kthena head engine + kpa`).
fn autoscalers(scn: &Scenario) -> String {
    let engine = format!("{} engine", scn.world.engine);
    if scn.world.autoscalers.is_empty() {
        return engine;
    }
    (scn.world.autoscaler_names().split('+'))
        .map(|n| match n {
            "kthena" => format!("kthena {engine}"),
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" + ")
}

fn report(
    args: &Args,
    scn: &Scenario,
    summary: &Summary,
    out_dir: &Path,
) -> anyhow::Result<ExitCode> {
    let outcomes = &summary.assertions;
    args.output
        .write_junit(&scn.name, &[(scn.name.as_str(), outcomes.as_slice())])?;
    if args.output.markdown_summary.is_some() {
        let mut md = format!(
            "## {} ({}, seed {})\n\n{}",
            scn.name,
            autoscalers(scn),
            scn.seed(),
            markdown::summary_table(summary)
        );
        for o in outcomes {
            let value = o.value.map_or("missing".to_string(), |v| format!("{v}"));
            md.push_str(&format!(
                "\n- {} `{}` (measured {value})",
                if o.passed { "pass" } else { "**FAIL**" },
                o.expr
            ));
        }
        md.push('\n');
        args.output.write_markdown_summary(&md)?;
    }
    let seeds = match &summary.replications {
        Some(r) => format!("{} replications, seed {} first", r.count, scn.seed()),
        None => format!("seed {}", scn.seed()),
    };
    println!(
        "{} ({}, {seeds}) -> {}",
        scn.name,
        autoscalers(scn),
        out_dir.display()
    );
    print!("{}", markdown::summary_table(summary));
    let failed: Vec<_> = outcomes.iter().filter(|o| !o.passed).collect();
    for o in outcomes {
        let value = o.value.map_or("missing".to_string(), |v| format!("{v}"));
        let reps: Vec<String> = o
            .failed_replications
            .iter()
            .map(ToString::to_string)
            .collect();
        let failed_in = if reps.is_empty() {
            String::new()
        } else {
            format!(", failed in replications {}", reps.join(", "))
        };
        println!(
            "assertion {}: {} (measured {value}{failed_in})",
            if o.passed { "passed" } else { "FAILED" },
            o.expr
        );
    }
    let code = if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    };
    Ok(args.output.deny(&[summary], code))
}
