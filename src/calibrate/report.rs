//! What a calibration writes: the rows of `calibration.csv`, the accuracy per metric,
//! `server.yaml` and `calibration.md`. Bytes only; the command line writes them.

use std::fmt::Write as _;

use super::dataset::{mean, percentile, Evaluation};
use super::fit::{Field, UNBOUNDED_KV};
use super::measured::{Load, MeasuredFile, Measurements, PointRequests};
use crate::model::server::ServerParams;
use crate::outputs::calibration::{PointRow, RequestRow};
use crate::outputs::round6;

/// How close simulated figures are to measured ones, for one metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Accuracy {
    pub metric: String,
    /// Median |simulated / measured − 1| over the figures.
    pub median: f64,
    /// The largest |simulated / measured − 1|.
    pub worst: f64,
    pub count: usize,
}

/// The rows of `calibration.csv`: points, then (if no file holds points) requests.
pub fn rows(files: &[MeasuredFile], evaluation: &Evaluation) -> (Vec<PointRow>, Vec<RequestRow>) {
    let (mut points, mut requests) = (Vec::new(), Vec::new());
    let (mut simulated_points, mut simulated_traces) =
        (evaluation.points.iter(), evaluation.traces.iter());
    for f in files {
        let file = f.path.display().to_string();
        match &f.data {
            Measurements::Points(measured) => {
                for (m, s) in measured.iter().zip(simulated_points.by_ref()) {
                    let (input, output) = mean_lengths(&m.requests);
                    let (concurrency, request_rate) = match m.load {
                        Load::Closed { concurrency } => (Some(concurrency), None),
                        Load::Open { rate } => (None, Some(rate)),
                    };
                    points.push(PointRow {
                        file: file.clone(),
                        line: m.line,
                        concurrency,
                        request_rate,
                        input_tokens: input,
                        output_tokens: output,
                        measured_ttft_ms: m.ttft_ms,
                        simulated_ttft_ms: round6(s.ttft_ms),
                        measured_tpot_ms: m.tpot_ms,
                        simulated_tpot_ms: round6(s.tpot_ms),
                        measured_e2e_ms: m.e2e_ms,
                        simulated_e2e_ms: round6(s.e2e_ms),
                        preempted: s.preempted,
                    });
                }
            }
            Measurements::Requests(measured) => {
                let Some(simulated) = simulated_traces.next() else {
                    continue;
                };
                for (m, s) in measured.iter().zip(simulated) {
                    requests.push(RequestRow {
                        file: file.clone(),
                        line: m.line,
                        arrival_s: m.arrival.as_secs_f64(),
                        input_tokens: m.input_tokens,
                        output_tokens: m.output_tokens,
                        measured_ttft_s: m.ttft_s,
                        simulated_ttft_s: s.ttft_s().map(round6),
                        measured_e2e_s: m.e2e_s,
                        simulated_e2e_s: round6(s.e2e_s()),
                    });
                }
            }
        }
    }
    (points, requests)
}

/// A point's request lengths: the fixed ones, or the rounded means of the listed ones.
fn mean_lengths(requests: &PointRequests) -> (u32, u32) {
    match requests {
        PointRequests::Fixed {
            input_tokens,
            output_tokens,
            ..
        } => (*input_tokens, *output_tokens),
        PointRequests::Listed(l) => {
            let n = l.len().max(1) as f64;
            let sum = |f: fn(&(u32, u32)) -> u32| l.iter().map(|r| f64::from(f(r))).sum::<f64>();
            (
                (sum(|r| r.0) / n).round() as u32,
                (sum(|r| r.1) / n).round() as u32,
            )
        }
    }
}

/// |simulated / measured − 1| of each pair, their median and worst, as `metric`.
fn accuracy(metric: &str, pairs: impl Iterator<Item = (f64, f64)>) -> Option<Accuracy> {
    let mut errors: Vec<f64> = pairs
        .map(|(s, m)| {
            let e = (s / m - 1.0).abs();
            if e.is_nan() {
                f64::INFINITY
            } else {
                e
            }
        })
        .collect();
    if errors.is_empty() {
        return None;
    }
    errors.sort_by(f64::total_cmp);
    let n = errors.len();
    let median = if n % 2 == 1 {
        errors[n / 2]
    } else {
        (errors[n / 2 - 1] + errors[n / 2]) / 2.0
    };
    Some(Accuracy {
        metric: metric.to_string(),
        median,
        worst: errors[n - 1],
        count: n,
    })
}

/// Accuracy per metric of benchmark points: TTFT, TPOT, and e2e where measured.
pub fn point_accuracy(rows: &[PointRow]) -> Vec<Accuracy> {
    let r = rows.iter();
    [
        accuracy(
            "TTFT",
            r.clone().map(|r| (r.simulated_ttft_ms, r.measured_ttft_ms)),
        ),
        accuracy(
            "TPOT",
            r.clone().map(|r| (r.simulated_tpot_ms, r.measured_tpot_ms)),
        ),
        accuracy(
            "e2e",
            r.filter_map(|r| r.measured_e2e_ms.map(|m| (r.simulated_e2e_ms, m))),
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Accuracy of request traces: the mean and 90th percentile of TTFT and e2e over each file's
/// requests (one figure per file), then request by request.
pub fn request_accuracy(rows: &[RequestRow]) -> Vec<Accuracy> {
    let mut files: Vec<&str> = rows.iter().map(|r| r.file.as_str()).collect();
    files.dedup();
    let per_file = |metric: &str, stat: fn(&[f64]) -> f64, pick: fn(&RequestRow) -> (f64, f64)| {
        accuracy(
            metric,
            files.iter().map(|f| {
                let (s, m): (Vec<f64>, Vec<f64>) =
                    rows.iter().filter(|r| r.file == *f).map(pick).unzip();
                (stat(&s), stat(&m))
            }),
        )
    };
    let ttft = |r: &RequestRow| (r.simulated_ttft_s.unwrap_or(f64::NAN), r.measured_ttft_s);
    let e2e = |r: &RequestRow| (r.simulated_e2e_s, r.measured_e2e_s);
    let p90 = |v: &[f64]| percentile(v, 0.9);
    [
        per_file("mean TTFT", mean, ttft),
        per_file("p90 TTFT", p90, ttft),
        per_file("mean e2e", mean, e2e),
        per_file("p90 e2e", p90, e2e),
        accuracy("TTFT per request", rows.iter().map(ttft)),
        accuracy("e2e per request", rows.iter().map(e2e)),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The accuracy table as printed on the terminal and in `calibration.md`.
pub fn accuracy_table(accuracy: &[Accuracy]) -> String {
    let mut out =
        String::from("| metric | median abs. error | worst | figures |\n|---|---:|---:|---:|\n");
    for a in accuracy {
        let _ = writeln!(
            out,
            "| {} | {:.1} % | {:.1} % | {} |",
            a.metric,
            a.median * 100.0,
            a.worst * 100.0,
            a.count
        );
    }
    out
}

/// How a field got its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Fitted,
    Pinned,
    /// From the starting server or vLLM's defaults.
    Setting,
    /// Not fitted: the measurements do not constrain it.
    Unconstrained,
}

impl Origin {
    fn describe(self) -> &'static str {
        match self {
            Origin::Fitted => "fitted",
            Origin::Pinned => "pinned (--set)",
            Origin::Setting => "setting (starting server or vLLM default)",
            Origin::Unconstrained => "not constrained by the measurements",
        }
    }
}

/// `server.yaml`: the server as a scenario's `server:` mapping, every field explicit (so
/// that a scenario that pastes it needs no preset), with comments on its provenance.
pub fn server_yaml(params: &ServerParams, origins: &[(Field, Origin)], source: &str) -> String {
    let mut out = format!("# kthena-sim calibrate: {source}\n");
    for (field, origin) in origins {
        let value = field.get(params);
        let written = if field.is_count() {
            format!("{}", value as u64)
        } else {
            format!("{value}")
        };
        let comment = if *field == Field::KvCacheTokens && *origin == Origin::Unconstrained {
            format!(
                "  # {}: set it from vLLM's log line \"GPU KV cache size: N tokens\"",
                origin.describe()
            )
        } else {
            format!("  # {}", origin.describe())
        };
        let _ = writeln!(out, "{}: {written}{comment}", field.name());
    }
    out
}

/// `calibration.md`.
pub fn markdown(
    params: &ServerParams,
    origins: &[(Field, Origin)],
    source: &str,
    accuracy: &[Accuracy],
    chart: &str,
) -> String {
    let mut out = String::from("# Calibration\n\n");
    let _ = writeln!(out, "{source}\n");
    out.push_str("| field | value | origin |\n|---|---:|---|\n");
    for (field, origin) in origins {
        let value = field.get(params);
        let _ = writeln!(
            out,
            "| `{}` | {} | {} |",
            field.name(),
            if *field == Field::KvCacheTokens && params.kv_cache_tokens == UNBOUNDED_KV {
                "unbounded".to_string()
            } else if field.is_count() {
                format!("{}", value as u64)
            } else {
                format!("{value:.6e}")
            },
            origin.describe()
        );
    }
    out.push_str("\nSimulated against measured (|simulated / measured − 1|):\n\n");
    out.push_str(&accuracy_table(accuracy));
    let _ = writeln!(
        out,
        "\n![measured and simulated]({chart}.svg)\n\nOne row per point or request in \
         `calibration.csv`; `server.yaml` pastes as a serving's `server:`."
    );
    out
}
