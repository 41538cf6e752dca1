//! `kthena-sim replay --engine <v0.4|head> [FILE|-]`: recorded metric ticks (JSON Lines, the
//! golden-vector format) through either engine version, one JSON line out per line in; and
//! `kthena-sim replay from-prometheus`, the shadow replay of a policy on a real Prometheus.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use flate2::read::MultiGzDecoder;

use crate::engine::EngineVersion;
use crate::golden::format::Line;
use crate::replay::check::{check_line, LineCheck};
use crate::replay::replay_json;

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Engine version whose decisions to reproduce: `v0.4` or `head`.
    #[arg(long, value_parser = super::parse_engine, required = true)]
    pub engine: Option<EngineVersion>,
    /// Omit the `algInput` diagnostics from each tick.
    #[arg(long)]
    pub no_alg_input: bool,
    /// Instead of printing decisions, compare them with each line's `expected` decisions for
    /// this engine and print the agreement; exit 1 if any tick disagrees.
    #[arg(long)]
    pub check: bool,
    /// JSON Lines file of recorded scenarios (gzipped if it ends in `.gz`); `-` or nothing reads
    /// standard input.
    pub file: Option<PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Shadow replay: at each sync tick, read from Prometheus what Kthena's collector read
    /// (the policy's metrics per pod, pod readiness, spec replicas), run the engine, and
    /// compare its decisions with the replica counts Prometheus recorded.
    FromPrometheus(super::from_prometheus::ShadowArgs),
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let engine = match (args.command, args.engine) {
        (Some(Command::FromPrometheus(a)), _) => return super::from_prometheus::replay(a),
        (None, Some(engine)) => engine,
        (None, None) => bail!("give --engine v0.4 or --engine head"),
    };
    let (name, reader): (String, Box<dyn BufRead>) = match &args.file {
        None => ("<stdin>".into(), Box::new(io::stdin().lock())),
        Some(p) if p.as_os_str() == "-" => ("<stdin>".into(), Box::new(io::stdin().lock())),
        Some(p) => {
            if p.is_dir() {
                bail!(
                    "{}: is a directory, expected a JSON Lines file",
                    p.display()
                );
            }
            let f = File::open(p).with_context(|| format!("{}: cannot open", p.display()))?;
            // The golden vectors ship gzipped; a `.gz` file is read through its decompressor.
            let reader: Box<dyn BufRead> = if p.extension().is_some_and(|x| x == "gz") {
                Box::new(BufReader::new(MultiGzDecoder::new(f)))
            } else {
                Box::new(BufReader::new(f))
            };
            (p.display().to_string(), reader)
        }
    };
    if args.check {
        return check(reader, &name, engine);
    }
    // Everything is computed before anything is printed, so bad input leaves no partial output.
    let mut out = Vec::new();
    for item in scenario_lines(reader, &name) {
        let (n, line) = item?;
        let value = replay_json(&line, engine, !args.no_alg_input)
            .map_err(|e| anyhow::anyhow!("{name}:{n}: {e}"))?;
        out.push(value);
    }
    match write_lines(&out) {
        // A closed pipe (`| head`) is the reader's choice, not an error.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        other => other
            .map(|_| ExitCode::SUCCESS)
            .context("cannot write standard output"),
    }
}

/// Agreement counts of `--check`.
#[derive(Debug, Default)]
struct Agreement {
    checked: usize,
    not_valid: usize,
    no_expectation: usize,
    ticks: usize,
    mismatched: usize,
}

fn check(reader: Box<dyn BufRead>, name: &str, engine: EngineVersion) -> anyhow::Result<ExitCode> {
    let mut a = Agreement::default();
    let mut report = Vec::new();
    for item in scenario_lines(reader, name) {
        let (n, line) = item?;
        match check_line(&line, engine).map_err(|e| anyhow::anyhow!("{name}:{n}: {e}"))? {
            LineCheck::NotValid => a.not_valid += 1,
            LineCheck::NoExpectation => a.no_expectation += 1,
            LineCheck::Checked { ticks, mismatches } => {
                a.checked += 1;
                a.ticks += ticks;
                a.mismatched += mismatches.len();
                for (t, diff) in mismatches {
                    report.push(format!(
                        "{name}:{n}: {} tick {t}: {}",
                        line.id,
                        diff.join("; ")
                    ));
                }
            }
        }
    }
    for r in &report {
        println!("{r}");
    }
    let pct = if a.ticks == 0 {
        100.0
    } else {
        100.0 * (a.ticks - a.mismatched) as f64 / a.ticks as f64
    };
    println!(
        "{engine}: {} scenarios checked ({} not valid for {engine}, {} without expectations), {} ticks, {} disagree: {pct:.2}% agreement",
        a.checked, a.not_valid, a.no_expectation, a.ticks, a.mismatched
    );
    Ok(if a.mismatched == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The longest line read: a recorded scenario of the golden files takes about 1 MB, and a
/// file without line breaks (a device, a binary file) must not fill the memory.
const MAX_LINE_BYTES: u64 = 64 * 1024 * 1024;

/// The non-blank lines of a JSON Lines input, parsed, with their 1-based line numbers; the
/// first error ends them.
fn scenario_lines<'a>(
    mut reader: Box<dyn BufRead + 'a>,
    name: &'a str,
) -> impl Iterator<Item = anyhow::Result<(usize, Line)>> + 'a {
    let mut n = 0;
    let mut done = false;
    std::iter::from_fn(move || {
        while !done {
            n += 1;
            let mut bytes = Vec::new();
            let line = match (&mut reader)
                .take(MAX_LINE_BYTES + 1)
                .read_until(b'\n', &mut bytes)
            {
                Ok(0) => None,
                Err(e) => Some(Err(anyhow::anyhow!("{name}:{n}: cannot read line: {e}"))),
                Ok(_) if bytes.len() as u64 > MAX_LINE_BYTES => Some(Err(anyhow::anyhow!(
                    "{name}:{n}: line longer than {} MiB",
                    MAX_LINE_BYTES / (1024 * 1024)
                ))),
                Ok(_) => match String::from_utf8(bytes) {
                    Err(e) => Some(Err(anyhow::anyhow!(
                        "{name}:{n}: not UTF-8 text at byte {}",
                        e.utf8_error().valid_up_to() + 1
                    ))),
                    Ok(l) if l.trim().is_empty() => continue,
                    Ok(l) => Some(
                        serde_json::from_str::<Line>(l.trim_end_matches(['\n', '\r']))
                            .map(|line| (n, line))
                            .map_err(|e| anyhow::anyhow!("{name}:{n}: invalid scenario line: {e}")),
                    ),
                },
            };
            done = !matches!(line, Some(Ok(_)));
            return line;
        }
        None
    })
}

fn write_lines(values: &[serde_json::Value]) -> io::Result<()> {
    let mut w = BufWriter::new(io::stdout().lock());
    for v in values {
        serde_json::to_writer(&mut w, v)?;
        w.write_all(b"\n")?;
    }
    w.flush()
}
