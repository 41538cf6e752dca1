//! `timeline.csv`, `latency.csv`, `cost.csv` and `requests.csv` from a run's results, as the
//! row types of [`crate::outputs::rows`] with numbers rounded to six decimals. Every file has
//! its header, rows or not.

use crate::model::results::{RequestRow, Results};
use crate::outputs::rows::{CostRow, LatencyRow, RequestOutcome, RequestRecord, TimelineRow};
use crate::outputs::{csv_bytes, round6};

/// One row per controller tick per scaled target.
pub fn timeline(rows: &[TimelineRow]) -> Result<Vec<u8>, csv::Error> {
    csv_bytes(rows.iter().map(|r| TimelineRow {
        time_s: round6(r.time_s),
        arrivals_per_s: round6(r.arrivals_per_s),
        kv_usage: round6(r.kv_usage),
        cost_per_hour: round6(r.cost_per_hour),
        ..r.clone()
    }))
}

/// One row per minute of the run, by completion time: the latency chart's data, kept
/// whether or not `requests.csv` is written.
pub fn latency(r: &Results) -> Result<Vec<u8>, csv::Error> {
    let s = |v: Option<f64>| v.map(|x| round6(x / 1e6));
    csv_bytes(r.minutes.iter().map(|m| LatencyRow {
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
    csv_bytes(rows.iter().map(|r| CostRow {
        time_s: round6(r.time_s),
        cost_per_hour: round6(r.cost_per_hour),
        cost: round6(r.cost),
        ..r.clone()
    }))
}

/// One row per request, in the order they ended.
pub fn requests(rows: &[RequestRow]) -> Result<Vec<u8>, csv::Error> {
    let s = |us: i64| round6(us as f64 / 1e6);
    csv_bytes(rows.iter().map(|r| {
        let completed = r.outcome == RequestOutcome::Completed;
        RequestRecord {
            arrival_s: s(r.arrival.as_micros()),
            input_tokens: r.input_tokens,
            output_tokens: r.output_tokens,
            server: r.server.clone().unwrap_or_default(),
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
