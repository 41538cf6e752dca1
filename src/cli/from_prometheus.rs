//! `kthena-sim trace from-prometheus` and `kthena-sim replay from-prometheus`: real traffic
//! and real metrics read from the user's Prometheus (or a saved API answer).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};

use super::output::{print_stdout, stream_file, write_folder};
use crate::kthena::manifest::ManifestSet;
use crate::prom::client::Client;
use crate::prom::response::{self, Data, Series};
use crate::prom::selector::Selector;
use crate::prom::shadow::{shadow, ShadowSpec};
use crate::prom::shadow_report;
use crate::prom::time::{format_time, parse_time};
use crate::prom::traffic::{traffic, TrafficNames};
use crate::sim::SimDuration;
use crate::workload::GenericCsvWriter;

/// Where the series come from and which ones.
#[derive(Debug, clap::Args)]
pub struct Window {
    /// The first instant: RFC 3339 (`2026-11-30T08:00:00Z`) or Unix seconds.
    #[arg(long, value_parser = parse_time)]
    pub start: i64,
    /// The last instant, after `--start`.
    #[arg(long, value_parser = parse_time)]
    pub end: i64,
    /// Label matchers every query adds, e.g. `'{namespace="llm",modelserving="chat"}'`.
    #[arg(long, default_value = "")]
    pub selector: String,
    /// How long one HTTP request may take.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = super::parse_interval)]
    pub timeout: SimDuration,
}

impl Window {
    fn checked(&self) -> anyhow::Result<Selector> {
        if self.end <= self.start {
            bail!(
                "--end {} is not after --start {}: give a time range forwards",
                format_time(self.end),
                format_time(self.start)
            );
        }
        Selector::parse(&self.selector).map_err(anyhow::Error::msg)
    }

    fn client(&self, url: &str) -> anyhow::Result<Client> {
        let timeout = Duration::from_micros(self.timeout.as_micros().max(1) as u64);
        Ok(Client::new(url, timeout)?)
    }
}

#[derive(Debug, clap::Args)]
pub struct TraceArgs {
    /// The Prometheus server, e.g. `http://127.0.0.1:9090`.
    #[arg(long, required_unless_present = "input", conflicts_with = "input")]
    pub url: Option<String>,
    /// Instead of a server: a saved `/api/v1/query_range` answer (JSON) of the series the
    /// command would query (printed by `--print-query`).
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,
    #[command(flatten)]
    pub window: Window,
    /// The resolution of the rebuilt rate.
    #[arg(long, value_name = "DURATION", default_value = "15s", value_parser = super::parse_interval)]
    pub step: SimDuration,
    /// Seed of the synthesised arrivals and lengths.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The counter of completed requests, one series per pod.
    #[arg(long, default_value = "vllm:request_success_total")]
    pub requests_metric: String,
    /// The histogram of prompt lengths (tokens).
    #[arg(long, default_value = "vllm:request_prompt_tokens")]
    pub prompt_metric: String,
    /// The histogram of output lengths (tokens).
    #[arg(long, default_value = "vllm:request_generation_tokens")]
    pub output_metric: String,
    /// Print the query and exit (to save its answer with curl for `--input`).
    #[arg(long)]
    pub print_query: bool,
    /// Where to write the trace (generic CSV: `arrival_s,input_tokens,output_tokens`).
    #[arg(long, required_unless_present = "print_query")]
    pub out: Option<PathBuf>,
}

pub fn trace(a: TraceArgs) -> anyhow::Result<ExitCode> {
    let selector = a.window.checked()?;
    let names = TrafficNames {
        requests: a.requests_metric.clone(),
        prompt: a.prompt_metric.clone(),
        output: a.output_metric.clone(),
    };
    let wanted = names.series_names();
    let wanted: Vec<&str> = wanted.iter().map(String::as_str).collect();
    let query = selector.series(&wanted, &[]);
    if a.print_query {
        print_stdout(format!("{query}\n").as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    let (start, end) = (a.window.start, a.window.end);
    let step = a.step.as_micros() / 1_000;
    if step <= 0 {
        bail!("--step must be at least 1ms");
    }
    let (series, source) = match (&a.url, &a.input) {
        (Some(url), _) => {
            let client = a.window.client(url)?;
            (client.query_range(&query, start, end, step)?, url.clone())
        }
        (None, Some(file)) => (saved_series(file)?, file.display().to_string()),
        (None, None) => bail!("give --url or --input"),
    };
    if series.is_empty() {
        bail!(
            "query {query:?} matched no series between {} and {} in {source}: check --selector and the time range",
            format_time(start),
            format_time(end)
        );
    }
    let t = traffic(&series, &names, start, end, step).with_context(|| source.clone())?;
    let requests = t.synthesise(a.seed);
    let out = a.out.as_ref().context("give --out")?;
    stream_file(out, |w| {
        let mut csv = GenericCsvWriter::new(w).map_err(std::io::Error::other)?;
        for r in &requests {
            csv.write(r).map_err(std::io::Error::other)?;
        }
        csv.finish().map(drop)
    })
    .map_err(|e| super::environment(format!("cannot write {}: {e}", out.display())))?;
    let minutes = t.per_minute();
    let peak = minutes.iter().copied().fold(0.0, f64::max);
    let median = |l: &crate::prom::traffic::Lengths| l.quantile(0.5).map_or(0.0, f64::round);
    eprintln!(
        "{}: {} requests over {} s ({} recorded by {} pods; mean {:.2} req/s, peak minute {:.0}); median prompt {} and output {} tokens",
        out.display(),
        requests.len(),
        (end - start) / 1000,
        t.total().round(),
        t.pods,
        t.total() / ((end - start) as f64 / 1000.0),
        peak,
        median(&t.prompt),
        median(&t.output)
    );
    Ok(ExitCode::SUCCESS)
}

/// The series of a saved API answer.
fn saved_series(file: &Path) -> anyhow::Result<Vec<Series>> {
    let text =
        crate::text::read_text(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    match response::parse(&text) {
        Ok(Data::Series(s)) => Ok(s),
        Ok(Data::Scalar(..)) => bail!(
            "{}: a scalar answer, expected series (a query_range answer)",
            file.display()
        ),
        Err(e) => bail!("{}: {e}", file.display()),
    }
}

#[derive(Debug, clap::Args)]
pub struct ShadowArgs {
    /// The Prometheus server, e.g. `http://127.0.0.1:9090`.
    #[arg(long)]
    pub url: String,
    /// The policy's manifests (AutoscalingPolicy, and the binding in the v0.x API); more
    /// files with `--policy` again.
    #[arg(long, required = true)]
    pub policy: Vec<PathBuf>,
    /// ModelServing manifests the policy's targets refer to (checked with it).
    #[arg(long)]
    pub serving: Vec<PathBuf>,
    #[command(flatten)]
    pub window: Window,
    /// The controller's sync period: a tick every this long from `--start`.
    #[arg(long, value_name = "DURATION", default_value = "15s", value_parser = super::parse_interval)]
    pub sync_period: SimDuration,
    /// A pod's sample older than this at a tick is reported as stale.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = super::parse_interval)]
    pub max_age: SimDuration,
    /// The label of the pods' and replica series naming their ModelServing.
    #[arg(long, default_value = "modelserving")]
    pub serving_label: String,
    /// The label naming a pod's role.
    #[arg(long, default_value = "role")]
    pub role_label: String,
    /// Which policy of the manifests, when they hold several (its name).
    #[arg(long)]
    pub name: Option<String>,
    /// The output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// Replace the output folder even when it holds files other than kthena-sim results.
    #[arg(long)]
    pub force: bool,
}

pub fn replay(a: ShadowArgs) -> anyhow::Result<ExitCode> {
    let selector = a.window.checked()?;
    super::output::check_target(&a.out, a.force)
        .map_err(|e| super::environment(format!("cannot write {}: {e}", a.out.display())))?;
    let mut sources = Vec::new();
    for path in a.policy.iter().chain(&a.serving) {
        let text =
            crate::text::read_text(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        sources.push((path.display().to_string(), text));
    }
    let set = ManifestSet::from_sources(&sources);
    let policies = set.policies().map_err(|e| anyhow::anyhow!("{e}"))?;
    let loaded = match (&a.name, policies) {
        (_, []) => bail!(
            "{}: no AutoscalingPolicy with a target (a v0.x policy needs its binding)",
            a.policy[0].display()
        ),
        (None, [one]) => one,
        (None, many) => bail!(
            "the manifests hold {} policies ({}): choose one with --name",
            many.len(),
            many.iter()
                .map(|p| p.policy.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        (Some(n), many) => many
            .iter()
            .find(|p| &p.policy.name == n)
            .with_context(|| format!("no policy named {n:?} in the manifests"))?,
    };
    let ms = |d: SimDuration| d.as_micros() / 1_000;
    let spec = ShadowSpec {
        policy: loaded.policy.clone(),
        engine: loaded.api.engine_version(),
        start: a.window.start,
        end: a.window.end,
        sync_ms: ms(a.sync_period).max(1),
        max_age_ms: ms(a.max_age),
        selector,
        serving_label: a.serving_label.clone(),
        role_label: a.role_label.clone(),
    };
    let client = a.window.client(&a.url)?;
    let shadow = shadow(&client, &spec)?;
    let files = shadow_report::files(&shadow, &spec, &a.url).map_err(|e| anyhow::anyhow!("{e}"))?;
    write_folder(&a.out, &files, a.force)
        .map_err(|e| super::environment(format!("cannot write {}: {e}", a.out.display())))?;
    print_stdout(
        format!(
            "{} -> {}\n{}\n",
            spec.policy.name,
            a.out.display(),
            shadow_report::verdict(&shadow)
        )
        .as_bytes(),
    )?;
    Ok(ExitCode::SUCCESS)
}
