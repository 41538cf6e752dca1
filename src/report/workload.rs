//! The "Workload" section of `report.md`: each stream as the scenario wrote it (its kind and
//! rate, or its trace file with the rows replayed and any rows skipped), and the token
//! medians of the requests the run actually sent — so that a reader of the report need not
//! open the scenario to know what load the figures answer.

use std::fmt::Write;
use std::path::Path;

use crate::model::results::Results;
use crate::scenario::Scenario;
use crate::workload::{
    GapDistribution, RateSpec, StreamSpec, ThinkTimeSpec, TraceFormat, TraceSpec, TraceTally,
};

/// The section, ending with a blank line. `replicated`: the figures measured are the first
/// replication's (`results`), and the text says so.
pub fn section(scn: &Scenario, results: &Results, replicated: bool) -> String {
    let mut md = String::from("## Workload\n\n");
    // `results.traces` holds the trace streams in scenario order (see
    // `RequestSource::traces`), so the n-th trace stream has the n-th tally.
    let mut tallies = results.traces.iter();
    for stream in &scn.workload.streams {
        let line = match stream {
            StreamSpec::Poisson(p) => item("poisson", &p.name, rate(&p.rate)),
            StreamSpec::Renewal(r) => {
                let gaps = match r.distribution {
                    GapDistribution::Gamma => "gamma",
                    GapDistribution::Weibull => "Weibull",
                };
                let what = format!("{}, {gaps} gaps with CV {}", rate(&r.rate), r.cv);
                item("renewal", &r.name, what)
            }
            StreamSpec::Mmpp(m) => item(
                "mmpp",
                &m.name,
                format!(
                    "{} req/s in bursts of {} on average, {} req/s in the {} between",
                    m.on_rps,
                    m.mean_on.get().human(),
                    m.off_rps,
                    m.mean_off.get().human()
                ),
            ),
            StreamSpec::Trace(t) => item("trace", &t.name, trace(t, tallies.next())),
            StreamSpec::ClosedLoop(c) => {
                let mut what = format!(
                    "{} client{}, {}",
                    c.concurrency,
                    if c.concurrency == 1 { "" } else { "s" },
                    think(c.think_time.as_ref())
                );
                if let Some(n) = c.requests {
                    let _ = write!(what, ", at most {n} requests");
                }
                item("closed_loop", &c.name, what)
            }
        };
        let _ = writeln!(md, "{line}");
    }
    if let Some(max) = scn.workload.max_context {
        let _ = writeln!(
            md,
            "- `max_context`: {max} tokens; longer requests are clipped"
        );
    }
    let median = |c: &crate::sim::sketch::CountedValues| {
        c.percentile(0.5).map_or("–".to_owned(), |m| m.to_string())
    };
    let _ = writeln!(
        md,
        "\n{}{} requests arrived; median {} prompt and {} output tokens.\n",
        if replicated { "Replication 1: " } else { "" },
        results.arrived,
        median(&results.input_tokens),
        median(&results.output_tokens),
    );
    md
}

/// `- `poisson` `chat`: 5 req/s`.
fn item(kind: &str, name: &Option<String>, what: String) -> String {
    match name {
        Some(name) => format!("- `{kind}` `{name}`: {what}"),
        None => format!("- `{kind}`: {what}"),
    }
}

/// A rate profile as its range: `5 req/s`, `1.5–10 req/s (5 rate points)`.
fn rate(spec: &RateSpec) -> String {
    match spec {
        RateSpec::Constant(rps) => format!("{rps} req/s"),
        RateSpec::Points(points) => {
            let rps = points.iter().map(|p| p.rps);
            let (lo, hi) = (
                rps.clone().fold(f64::INFINITY, f64::min),
                rps.fold(0.0, f64::max),
            );
            let n = points.len();
            if lo == hi {
                format!("{hi} req/s")
            } else {
                format!("{lo}–{hi} req/s ({n} rate points)")
            }
        }
        RateSpec::Diurnal(d) => format!(
            "{}–{} req/s, a cycle of {} peaking at {}",
            d.peak_rps * d.trough_ratio,
            d.peak_rps,
            d.period.get().human(),
            d.peak_at.get().human()
        ),
    }
}

/// `no think time`, `think time 2 s`, `think time exponential, mean 5 s`, ….
fn think(spec: Option<&ThinkTimeSpec>) -> String {
    match spec {
        None => "no think time".to_owned(),
        Some(ThinkTimeSpec::Constant(d)) => format!("think time {}", d.get().human()),
        Some(ThinkTimeSpec::Exponential { mean }) => {
            format!("think time exponential, mean {}", mean.get().human())
        }
        Some(ThinkTimeSpec::Uniform { min, max }) => {
            format!("think time {} – {}", min.get().human(), max.get().human())
        }
        Some(ThinkTimeSpec::Lognormal { median, p99 }) => format!(
            "think time lognormal, median {}, p99 {}",
            median.get().human(),
            p99.get().human()
        ),
    }
}

/// The trace file (as the scenario wrote it; only its name when `--trace` made it
/// absolute), its format, the rows replayed, the options that reshape it, and the rows its
/// reader dropped or changed.
fn trace(t: &TraceSpec, tally: Option<&TraceTally>) -> String {
    let file = if t.path.is_absolute() {
        t.path.file_name().map_or(t.path.as_path(), Path::new)
    } else {
        t.path.as_path()
    };
    let format = tally.map(|t| &t.format).or(t.format.as_ref());
    let format = match format {
        Some(TraceFormat::Azure) => " (Azure)",
        Some(TraceFormat::Generic) => " (generic CSV)",
        Some(TraceFormat::Mooncake) => " (Mooncake)",
        Some(TraceFormat::BurstGpt) => " (BurstGPT)",
        Some(TraceFormat::Csv(_)) => " (mapped CSV)",
        None => "",
    };
    let mut what = format!("`{}`{format}", file.display());
    if let Some(tally) = tally {
        let _ = write!(what, ", {} rows replayed", tally.replayed);
    }
    let mut shape = Vec::new();
    if let Some(w) = t.window {
        let from = w.from.map_or("start".to_owned(), |d| d.get().human());
        let to = w.to.map_or("end".to_owned(), |d| d.get().human());
        shape.push(format!("window {from} – {to}"));
    }
    if t.time_scale != 1.0 {
        shape.push(format!("time scale {}", t.time_scale));
    }
    if t.rate_multiplier != 1.0 {
        shape.push(format!("rate multiplier {}", t.rate_multiplier));
    }
    if t.looped {
        shape.push("looped".to_owned());
    }
    if let Some(model) = &t.model {
        shape.push(format!("model `{model}`"));
    }
    if !shape.is_empty() {
        let _ = write!(what, " ({})", shape.join(", "));
    }
    for note in tally.map(TraceTally::notes).unwrap_or_default() {
        let _ = write!(what, "; {note}");
    }
    what
}
