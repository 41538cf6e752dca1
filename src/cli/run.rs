//! `kthena-sim run SCENARIO`: one simulation, its outputs written atomically into one folder,
//! a short summary on stdout. Exit 0 when every assertion held, 1 when one failed, 2 on bad
//! input (nothing is written then).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use super::output::{check_target, write_file, write_folder};
use crate::engine::EngineVersion;
use crate::model::results::Results;
use crate::model::world::{simulate, RunOptions};
use crate::report::{csv_out, markdown, summary};
use crate::scenario::{self, Overrides, Scenario};
use crate::sim::SimTime;
use crate::workload::{StreamSpec, TraceFormat, TraceSpec, WorkloadSpec};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The scenario file (YAML).
    pub scenario: PathBuf,
    /// Output folder (default: the scenario's `output.dir`, else `output/<name>`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace the output folder even when it holds files other than kthena-sim results.
    #[arg(long)]
    pub force: bool,
    /// Replace the scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// A setting on the scenario or its manifests, e.g. `policy.metrics[0].targetValue=5`,
    /// `binding.maxReplicas=8`, `servings[chat].replicas=4` (repeatable).
    #[arg(long, value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Replace the simulated duration (e.g. `10m` for a quick look).
    #[arg(long)]
    pub duration: Option<String>,
    /// Replace the engine version (`v0.4` or `head`); the manifests are converted.
    #[arg(long, value_parser = super::parse_engine)]
    pub engine: Option<EngineVersion>,
    /// Replace the scenario's workload by this trace (CSV).
    #[arg(long)]
    pub trace: Option<PathBuf>,
    /// Format of `--trace`: `azure` or `generic` (default: from its header).
    #[arg(long, value_parser = super::parse_trace_format, requires = "trace")]
    pub trace_format: Option<TraceFormat>,
    /// Also write `requests.csv`, one row per request.
    #[arg(long)]
    pub requests: bool,
    /// Write every controller tick's engine inputs and decisions to FILE (golden JSON Lines
    /// format; `kthena-sim replay --check FILE` reproduces them).
    #[arg(long, value_name = "FILE")]
    pub engine_log: Option<PathBuf>,
    /// Write JUnit XML: one test case per assertion.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write a Markdown summary (e.g. to `$GITHUB_STEP_SUMMARY`).
    #[arg(long, value_name = "FILE")]
    pub markdown_summary: Option<PathBuf>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

/// The workload replacing the scenario's with `--trace`.
fn trace_workload(path: &Path, format: Option<TraceFormat>) -> anyhow::Result<WorkloadSpec> {
    let path =
        std::path::absolute(path).with_context(|| format!("{}: bad path", path.display()))?;
    Ok(WorkloadSpec {
        streams: vec![StreamSpec::Trace(TraceSpec {
            name: None,
            path,
            format,
            window: None,
            time_scale: 1.0,
            ..Default::default()
        })],
        max_context: None,
    })
}

/// A progress bar in simulated time, on stderr, only on a terminal.
fn progress_bar(scn: &Scenario, quiet: bool) -> Option<ProgressBar> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new((scn.duration().as_micros() / 1_000_000).max(1) as u64);
    let style =
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} s simulated ({elapsed})")
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(scn.name.clone());
    Some(bar)
}

/// The files of the output folder.
/// The files of a run's output folder (also each variant's folder of `compare` and `sweep`).
pub(super) fn output_files(
    scn: &Scenario,
    results: &Results,
    summary: &serde_json::Value,
) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut files = vec![
        ("summary.json".to_string(), {
            let mut b = serde_json::to_vec_pretty(summary)?;
            b.push(b'\n');
            b
        }),
        (
            "timeline.csv".to_string(),
            csv_out::timeline(&results.timeline)?,
        ),
        ("latency.csv".to_string(), csv_out::latency(results)?),
        (
            "cost.csv".to_string(),
            csv_out::cost(&results.cost_timeline)?,
        ),
        (
            "report.md".to_string(),
            markdown::report(scn, summary, results).into_bytes(),
        ),
    ];
    if scn.write_requests {
        files.push((
            "requests.csv".to_string(),
            csv_out::requests(&results.requests)?,
        ));
    }
    // Drawn from the files just made, as `kthena-sim chart` would draw them later.
    let charts = crate::chart::render(&files)?;
    files.extend(charts);
    Ok(files)
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let overrides = Overrides {
        seed: args.seed,
        engine: args.engine,
        workload: args
            .trace
            .as_deref()
            .map(|t| trace_workload(t, args.trace_format))
            .transpose()?,
        duration: args.duration.clone(),
        settings: args
            .set
            .iter()
            .map(|s| s.parse().map_err(|e| anyhow::anyhow!("--set {e}")))
            .collect::<anyhow::Result<_>>()?,
        ..Overrides::default()
    };
    let mut scn = scenario::load(&args.scenario, &overrides).map_err(|e| anyhow::anyhow!("{e}"))?;
    scn.write_requests |= args.requests;
    let out_dir = args
        .out
        .clone()
        .or_else(|| scn.output_dir.clone())
        .unwrap_or_else(|| Path::new("output").join(&scn.name));
    check_target(&out_dir, args.force)
        .with_context(|| format!("cannot write {}", out_dir.display()))?;
    let source = scn
        .workload
        .build(scn.seed(), &scn.base_dir, scn.duration())
        .map_err(|e| anyhow::anyhow!("{}: workload: {e}", args.scenario.display()))?;
    let bar = progress_bar(&scn, args.quiet);
    let opts = RunOptions {
        step_by_step: false,
        record_requests: scn.write_requests,
        engine_log: args.engine_log.is_some(),
    };
    let mut progress = |t: SimTime| {
        if let Some(b) = &bar {
            b.set_position((t.as_micros() / 1_000_000) as u64);
        }
    };
    let results = simulate(&scn.world, source, opts, &mut progress);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let mut results = results.map_err(|e| anyhow::anyhow!("{}: {e}", args.scenario.display()))?;

    let base = summary::summary(&scn, &results);
    let outcomes: Vec<_> = scn.assertions.iter().map(|a| a.check(&base)).collect();
    let summary = summary::with_assertions(base, &outcomes);
    let files = output_files(&scn, &results, &summary)?;
    write_folder(&out_dir, &files, args.force)
        .with_context(|| format!("cannot write {}", out_dir.display()))?;
    if let (Some(path), Some(lines)) = (&args.engine_log, results.engine_log.take()) {
        let mut text = lines.join("\n");
        text.push('\n');
        write_file(path, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }

    if let Some(path) = &args.junit {
        let xml = crate::report::comparison::junit(
            &scn.name,
            &[(scn.name.as_str(), outcomes.as_slice())],
        );
        write_file(path, xml.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = &args.markdown_summary {
        let mut md = format!(
            "## {} ({} engine, seed {})\n\n{}",
            scn.name,
            scn.world.engine,
            scn.seed(),
            markdown::summary_table(&summary)
        );
        for o in &outcomes {
            let value = o.value.map_or("missing".to_string(), |v| format!("{v}"));
            md.push_str(&format!(
                "\n- {} `{}` (measured {value})",
                if o.passed { "pass" } else { "**FAIL**" },
                o.expr
            ));
        }
        md.push('\n');
        write_file(path, md.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!(
        "{} ({} engine, seed {}) -> {}",
        scn.name,
        scn.world.engine,
        scn.seed(),
        out_dir.display()
    );
    print!("{}", markdown::summary_table(&summary));
    let failed: Vec<_> = outcomes.iter().filter(|o| !o.passed).collect();
    for o in &outcomes {
        let value = o.value.map_or("missing".to_string(), |v| format!("{v}"));
        println!(
            "assertion {}: {} (measured {value})",
            if o.passed { "passed" } else { "FAILED" },
            o.expr
        );
    }
    Ok(if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
