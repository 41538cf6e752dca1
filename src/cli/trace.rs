//! `kthena-sim trace stats|gen|convert`: inspect a trace, synthesise one from a workload, or
//! turn any supported format into the generic CSV (`arrival_s,input_tokens,output_tokens`).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use serde::Deserialize;

use super::output::print_stdout;
use crate::report::trace_stats::TraceStats;
use crate::scenario::{self, Overrides};
use crate::sim::SimDuration;
use crate::workload::{
    open_trace, GenericCsvWriter, RequestSource, StreamSpec, TraceFormat, TraceSource, WorkloadSpec,
};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Requests, duration, mean and peak rates, burstiness and token percentiles of a trace.
    Stats(StatsArgs),
    /// Write a synthetic trace (generic CSV) from a scenario's workload or a workload spec.
    Gen(GenArgs),
    /// Convert a trace of any supported format to the generic CSV.
    Convert(ConvertArgs),
    /// Rebuild a trace from a Prometheus: the request rate per step from vLLM's request
    /// counters, prompt and output lengths from its token histograms, synthesised as a seeded
    /// Poisson process following the recorded rate.
    FromPrometheus(super::from_prometheus::TraceArgs),
}

#[derive(Debug, clap::Args)]
pub struct StatsArgs {
    /// The trace file.
    pub file: PathBuf,
    /// Its format (default: from its header).
    #[arg(long, value_parser = super::parse_trace_format)]
    pub format: Option<TraceFormat>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct GenArgs {
    /// A scenario file (its workload, seed and duration), or a workload spec: a YAML file with
    /// `streams` (and optionally `max_context`), as under a scenario's `workload`.
    pub spec: PathBuf,
    /// Where to write the trace.
    #[arg(long)]
    pub out: PathBuf,
    /// Seed (default: the scenario's, else 0).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Length of the trace, e.g. `1h` (default: the scenario's duration; required for a spec).
    #[arg(long)]
    pub duration: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct ConvertArgs {
    /// The trace to convert.
    pub file: PathBuf,
    /// Its format (default: from its header).
    #[arg(long, value_parser = super::parse_trace_format)]
    pub format: Option<TraceFormat>,
    /// Where to write the generic CSV.
    #[arg(long)]
    pub out: PathBuf,
    /// Print nothing on stderr (the requests written, the rows skipped or changed).
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Stats(a) => stats(a),
        Command::Gen(a) => gen(a),
        Command::Convert(a) => convert(a),
        Command::FromPrometheus(a) => super::from_prometheus::trace(a),
    }
}

fn open(path: &Path, format: Option<TraceFormat>) -> anyhow::Result<TraceSource> {
    if path.is_dir() {
        bail!("{}: is a directory, expected a trace file", path.display());
    }
    open_trace(path, format).map_err(|e| anyhow::anyhow!("{e}"))
}

fn drain(
    source: &mut dyn RequestSource,
    mut each: impl FnMut(&crate::workload::Request) -> anyhow::Result<()>,
) -> anyhow::Result<u64> {
    let mut n: u64 = 0;
    while let Some(r) = source.next_request().map_err(|e| anyhow::anyhow!("{e}"))? {
        // Ctrl-C stops a long trace at once (and `write_generic` removes its partial file).
        if n % 65_536 == 0 && crate::sim::cancel::is_requested() {
            bail!("interrupted");
        }
        each(&r)?;
        n += 1;
    }
    Ok(n)
}

fn stats(a: StatsArgs) -> anyhow::Result<ExitCode> {
    let mut source = open(&a.file, a.format)?;
    let mut s = TraceStats::default();
    let file = a.file.display().to_string();
    drain(&mut source, |r| {
        let index = s.requests() + 1;
        s.add(r, index).map_err(|e| anyhow::anyhow!("{file}: {e}"))
    })?;
    let tally = source.tally();
    if s.requests() == 0 {
        // A BurstGPT trace of failures only is not empty: say what was dropped.
        let notes: Vec<String> = tally.notes().iter().map(ToString::to_string).collect();
        let why = if notes.is_empty() {
            String::new()
        } else {
            format!(" ({})", notes.join("; "))
        };
        bail!("{}: no requests in the trace{why}", a.file.display());
    }
    s.set_rows(&tally);
    if a.json {
        print_stdout(format!("{}\n", serde_json::to_string_pretty(&s.json())?).as_bytes())?;
    } else {
        print_stdout(s.text(&a.file.display().to_string()).as_bytes())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Streams `source` into a generic CSV at `out`, written to a temporary file and renamed, so
/// a failure leaves no half-written trace.
fn write_generic(source: &mut dyn RequestSource, out: &Path) -> anyhow::Result<u64> {
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let tmp = out.with_extension(format!("tmp-{}", std::process::id()));
    let result = (|| {
        let file = File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
        let mut w = GenericCsvWriter::new(BufWriter::new(file))?;
        let n = drain(source, |r| w.write(r).map_err(anyhow::Error::from))?;
        w.finish()?.flush()?;
        Ok::<u64, anyhow::Error>(n)
    })();
    match result {
        Ok(n) => {
            std::fs::rename(&tmp, out)
                .with_context(|| format!("cannot write {}", out.display()))?;
            Ok(n)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// A workload-only spec file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SpecFile {
    #[serde(flatten)]
    workload: WorkloadSpec,
}

fn gen(a: GenArgs) -> anyhow::Result<ExitCode> {
    let text = crate::text::read_text(&a.spec)
        .map_err(|e| anyhow::anyhow!("{}: {e}", a.spec.display()))?;
    let doc: yaml_serde::Value =
        yaml_serde::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", a.spec.display()))?;
    let base = a
        .spec
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let (workload, seed, duration) = if doc.get("streams").is_some() {
        let de = yaml_serde::Deserializer::from_str(&text);
        let spec: SpecFile = yaml_serde::with::singleton_map_recursive::deserialize(de)
            .map_err(|e| anyhow::anyhow!("{}: {e}", a.spec.display()))?;
        let Some(d) = &a.duration else {
            bail!(
                "{}: a workload spec needs --duration (e.g. --duration 1h)",
                a.spec.display()
            );
        };
        let d = crate::engine::policy::Duration::parse(d)
            .map_err(|e| anyhow::anyhow!("--duration: {e}"))?;
        if d.as_nanos() <= 0 {
            bail!("--duration: must be greater than 0");
        }
        (
            spec.workload,
            a.seed.unwrap_or(0),
            SimDuration::from_micros(d.as_nanos() / 1_000),
        )
    } else {
        let overrides = Overrides {
            seed: a.seed,
            duration: a.duration.clone(),
            ..Overrides::default()
        };
        let scn = scenario::load(&a.spec, &overrides).map_err(|e| anyhow::anyhow!("{e}"))?;
        (scn.workload.clone(), scn.seed(), scn.duration())
    };
    let problems = workload.validate(&base);
    if let Some(first) = problems.errors().next() {
        bail!(
            "{}: {}",
            a.spec.display(),
            first.clone().with_path_under(&"workload".into())
        );
    }
    // A closed loop sends as its requests end: without servers there is no loop to close.
    let closed = (workload.streams.iter()).position(|s| matches!(s, StreamSpec::ClosedLoop(_)));
    if let Some(i) = closed {
        bail!(
            "{}: workload.streams[{i}].closed_loop: a closed-loop stream cannot be written as a \
             trace: its requests are sent as the servers complete the previous ones",
            a.spec.display()
        );
    }
    let mut workload = workload
        .build(seed, &base, duration)
        .map_err(|e| anyhow::anyhow!("{}: {e}", a.spec.display()))?;
    let n = write_generic(workload.open.as_mut(), &a.out)?;
    eprintln!("{} requests -> {}", n, a.out.display());
    Ok(ExitCode::SUCCESS)
}

fn convert(a: ConvertArgs) -> anyhow::Result<ExitCode> {
    let mut source = open(&a.file, a.format)?;
    let n = write_generic(&mut source, &a.out)?;
    if !a.quiet {
        eprintln!("{} requests -> {}", n, a.out.display());
        // The rows the generic CSV does not hold as the source wrote them, one line a reason.
        for note in source.tally().notes() {
            eprintln!("{note}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
