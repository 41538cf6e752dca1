//! `kthena-sim calibrate FILE...`: fit a server's parameters to measured benchmark points or
//! request traces (or, with `--no-fit`, measure a given server against them), and write
//! `server.yaml`, `calibration.csv`, `calibration.md` and its chart into one folder.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context};

use super::common::OutputArgs;
use crate::calibrate::dataset::Dataset;
use crate::calibrate::fit::{fit, Field, FitRequest};
use crate::calibrate::measured::{self, MeasuredFile, Measurements};
use crate::calibrate::report::{self, Origin};
use crate::calibrate::simulate::REQUESTS_PER_CLIENT;
use crate::chart::calibration;
use crate::experiment::worker_pool;
use crate::kthena::warnings::did_you_mean;
use crate::model::presets;
use crate::model::server::{ServerParams, ServerSpec};
use crate::outputs::csv_bytes;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Measured files: benchmark tables (CSV), request traces (CSV) or the JSON of `vllm
    /// bench serve --save-result --save-detailed`; fitted together, as one server.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Where the fit starts, and the batch limits unless pinned: a preset name or a
    /// `server.yaml` mapping.
    #[arg(long, value_name = "PRESET|SERVER.yaml")]
    pub from: Option<String>,
    /// Pins a server field, e.g. `max_num_seqs=128`, `kv_cache_tokens=41408` (repeatable).
    #[arg(long, value_name = "FIELD=VALUE")]
    pub set: Vec<String>,
    /// Do not fit: measure `--server` against the files.
    #[arg(long, requires = "server")]
    pub no_fit: bool,
    /// The server `--no-fit` measures: a preset name or a `server.yaml` mapping.
    #[arg(long, value_name = "PRESET|SERVER.yaml")]
    pub server: Option<String>,
    /// Seeds the Poisson arrivals of open-loop points.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Simplex iterations per search at most.
    #[arg(long, default_value_t = 2_000)]
    pub max_iters: u64,
    /// Threads (default: all cores); the results do not depend on it.
    #[arg(long)]
    pub jobs: Option<usize>,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.server.is_some() && !args.no_fit {
        bail!("--server is the server --no-fit measures; to start a fit from it, use --from");
    }
    let files: Vec<MeasuredFile> = (args.files.iter())
        .map(|p| measured::read(p).map_err(|e| anyhow!("{e}")))
        .collect::<anyhow::Result<_>>()?;
    let traces = files
        .iter()
        .filter(|f| matches!(f.data, Measurements::Requests(_)))
        .count();
    if traces > 0 && traces < files.len() {
        bail!(
            "{}: a request trace cannot be fitted together with benchmark points; calibrate them separately",
            files[0].path.display()
        );
    }
    let pinned = pins(&args.set)?;
    let out = args
        .output
        .out_dir(PathBuf::from("output").join("calibration"))?;
    let data = Dataset::new(&files, args.seed);
    let pool = worker_pool(args.jobs).context("cannot start the worker threads")?;
    let names: Vec<String> = files.iter().map(|f| f.path.display().to_string()).collect();
    let (params, origins, evaluation, source) = if args.no_fit {
        let spec = args.server.as_deref().unwrap_or_default();
        let mut params = server(spec, "--server")?;
        for &(field, value) in &pinned {
            field.set(&mut params, value);
        }
        let evaluation = pool.install(|| data.evaluate(&params));
        let origins = Field::ALL.map(|f| (f, Origin::Setting)).to_vec();
        let source = format!("{spec} measured against {}", names.join(", "));
        (params, origins, evaluation, source)
    } else {
        let start = match &args.from {
            Some(spec) => Some(server(spec, "--from")?),
            None => None,
        };
        let request = FitRequest {
            start,
            pinned: pinned.clone(),
            max_iters: args.max_iters,
        };
        let fitted = pool.install(|| fit(&data, &request));
        let origins = Field::ALL
            .map(|f| {
                let origin = if pinned.iter().any(|(p, _)| *p == f) {
                    Origin::Pinned
                } else if f == Field::KvCacheTokens && !fitted.kv_constrained {
                    Origin::Unconstrained
                } else if fitted.fitted.contains(&f) {
                    Origin::Fitted
                } else {
                    Origin::Setting
                };
                (f, origin)
            })
            .to_vec();
        let source = format!(
            "fitted to {} ({} simulations of every point)",
            names.join(", "),
            fitted.evaluations
        );
        (fitted.params, origins, fitted.evaluation, source)
    };
    let (points, requests) = report::rows(&files, &evaluation);
    let accuracy = if points.is_empty() {
        report::request_accuracy(&requests)
    } else {
        report::point_accuracy(&points)
    };
    let csv = if points.is_empty() {
        csv_bytes(requests.iter().cloned())?
    } else {
        csv_bytes(points.iter().cloned())?
    };
    let (svg, png) = calibration::render("Measured and simulated", &points, &requests)?;
    let files_out = vec![
        (
            "server.yaml".to_string(),
            report::server_yaml(&params, &origins, &source).into_bytes(),
        ),
        ("calibration.csv".to_string(), csv),
        (
            "calibration.md".to_string(),
            report::markdown(&params, &origins, &source, &accuracy, "calibration").into_bytes(),
        ),
        ("calibration.svg".to_string(), svg),
        ("calibration.png".to_string(), png),
    ];
    args.output.write(&out, &files_out)?;
    if let Some(Origin::Unconstrained) = (origins.iter())
        .find(|(f, _)| *f == Field::KvCacheTokens)
        .map(|o| o.1)
    {
        eprintln!(
            "warning: no measured point presses on the KV cache: kv_cache_tokens is left unbounded; \
             pin it with --set kv_cache_tokens=N (vLLM logs \"GPU KV cache size: N tokens\")"
        );
    }
    for f in &files {
        let n = f.closed_points_without_count();
        if n > 0 {
            eprintln!(
                "warning: {}: {n} closed-loop point(s) do not say how many requests were sent; \
                 each client is simulated sending {REQUESTS_PER_CLIENT}. Their mean TTFT depends on \
                 it (every client's first request arrives at once and queues): add a \
                 `num_requests` column if you know it",
                f.path.display()
            );
        }
    }
    print!("{}", report::accuracy_table(&accuracy));
    println!(
        "{} -> {}",
        if args.no_fit { "measured" } else { "fitted" },
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The `--set FIELD=VALUE` pins, checked.
fn pins(values: &[String]) -> anyhow::Result<Vec<(Field, f64)>> {
    let names = Field::ALL.map(Field::name);
    values
        .iter()
        .map(|s| {
            let (name, value) = s
                .split_once('=')
                .ok_or_else(|| anyhow!("--set {s}: expected FIELD=VALUE, e.g. max_num_seqs=128"))?;
            let field = Field::from_name(name.trim()).ok_or_else(|| {
                let hint = suggestion(name.trim(), names);
                anyhow!(
                    "--set {s}: unknown server field `{}`{hint}; the fields are {}",
                    name.trim(),
                    names.join(", ")
                )
            })?;
            let v: f64 = value
                .trim()
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite())
                .ok_or_else(|| anyhow!("--set {s}: `{}` is not a number", value.trim()))?;
            let ok = if field.is_count() {
                v >= 1.0 && v.fract() == 0.0
            } else {
                v >= 0.0
            };
            if !ok {
                bail!(
                    "--set {s}: {} must be {}",
                    field.name(),
                    if field.is_count() {
                        "a whole number >= 1"
                    } else {
                        "0 or more"
                    }
                );
            }
            Ok((field, v))
        })
        .collect()
}

/// A server given on the command line: a preset name, or a `server.yaml` mapping.
fn server(spec: &str, option: &str) -> anyhow::Result<ServerParams> {
    if let Some(p) = presets::get(spec) {
        return Ok(p);
    }
    let path = Path::new(spec);
    if !path.is_file() {
        let hint = suggestion(spec, presets::PRESETS.iter().map(|p| p.name));
        bail!("{option} {spec}: neither a preset nor a file{hint}; `kthena-sim presets` lists the presets");
    }
    let text = crate::text::read_text(path).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    let parsed: ServerSpec =
        yaml_serde::from_str(&text).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    parsed
        .resolve()
        .map_err(|e| anyhow!("{}: {e}", path.display()))
}

/// ` (did you mean `NAME`?)` for the known name closest to `word`, or nothing.
fn suggestion<'a>(word: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    did_you_mean(word, known).map_or_else(String::new, |n| format!(" (did you mean `{n}`?)"))
}
