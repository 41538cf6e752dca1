//! `timeline.csv`, `latency.csv`, `cost.csv` and `requests.csv`, through the `csv` crate from
//! `Serialize` rows.

use serde::Serialize;

use super::round6;
use crate::model::results::{CostRow, Outcome, RequestRow, Results, TimelineRow};

fn to_bytes<T: Serialize>(rows: impl Iterator<Item = T>) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r)?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// One row per controller tick per policy.
pub fn timeline(rows: &[TimelineRow]) -> Result<Vec<u8>, csv::Error> {
    to_bytes(rows.iter().map(|r| TimelineRow {
        time_s: round6(r.time_s),
        arrivals_per_s: round6(r.arrivals_per_s),
        kv_usage: round6(r.kv_usage),
        cost_per_hour: round6(r.cost_per_hour),
        ..r.clone()
    }))
}

/// One row of `latency.csv`: the requests that completed in one minute and their latency
/// percentiles in seconds (empty when none completed, TPOT also when all had one token).
#[derive(Serialize)]
struct LatencyCsv {
    time_s: f64,
    completed: usize,
    ttft_p50_s: Option<f64>,
    ttft_p99_s: Option<f64>,
    tpot_p50_s: Option<f64>,
    tpot_p99_s: Option<f64>,
    e2e_p50_s: Option<f64>,
    e2e_p99_s: Option<f64>,
}

/// One row per minute of the run, by completion time: the latency chart's data, kept
/// whether or not `requests.csv` is written.
pub fn latency(r: &Results) -> Result<Vec<u8>, csv::Error> {
    let s = |v: Option<f64>| v.map(|x| round6(x / 1e6));
    to_bytes(r.minutes.iter().map(|m| LatencyCsv {
        time_s: round6(m.start.as_micros() as f64 / 1e6),
        completed: m.completed,
        ttft_p50_s: s(m.ttft.0),
        ttft_p99_s: s(m.ttft.1),
        tpot_p50_s: s(m.tpot.0),
        tpot_p99_s: s(m.tpot.1),
        e2e_p50_s: s(m.e2e.0),
        e2e_p99_s: s(m.e2e.1),
    }))
}

/// One row per controller tick (and the end) per ModelServing: its cumulative cost.
pub fn cost(rows: &[CostRow]) -> Result<Vec<u8>, csv::Error> {
    to_bytes(rows.iter().map(|r| CostRow {
        time_s: round6(r.time_s),
        cost_per_hour: round6(r.cost_per_hour),
        cost: round6(r.cost),
        ..r.clone()
    }))
}

#[derive(Serialize)]
struct RequestCsv<'a> {
    arrival_s: f64,
    input_tokens: u32,
    output_tokens: u32,
    server: &'a str,
    queue_s: Option<f64>,
    ttft_s: Option<f64>,
    tpot_s: Option<f64>,
    e2e_s: Option<f64>,
    outcome: Outcome,
}

/// One row per request, in the order they ended.
pub fn requests(rows: &[RequestRow]) -> Result<Vec<u8>, csv::Error> {
    let s = |us: i64| round6(us as f64 / 1e6);
    to_bytes(rows.iter().map(|r| {
        let completed = r.outcome == Outcome::Completed;
        RequestCsv {
            arrival_s: s(r.arrival.as_micros()),
            input_tokens: r.input_tokens,
            output_tokens: r.output_tokens,
            server: r.server.as_deref().unwrap_or(""),
            queue_s: r.first_admit.map(|t| s((t - r.arrival).as_micros())),
            ttft_s: r.first_token.map(|t| s((t - r.arrival).as_micros())),
            tpot_s: match (completed, r.first_token) {
                (true, Some(ft)) if r.output_tokens > 1 => Some(round6(
                    (r.end - ft).as_micros() as f64 / 1e6 / f64::from(r.output_tokens - 1),
                )),
                _ => None,
            },
            e2e_s: completed.then(|| s((r.end - r.arrival).as_micros())),
            outcome: r.outcome,
        }
    }))
}
