//! `timeline.csv`, `latency.csv` and `cost.csv`, written row by row as the run makes them,
//! and `requests.csv` from a run's results: the row types of [`crate::outputs::rows`] with
//! numbers rounded to six decimals. Every file has its header, rows or not.

use std::io::{self, Write};

use crate::model::recorder::RowSink;
use crate::model::results::{MinuteLatency, RequestRow};
use crate::outputs::rows::{CostRow, LatencyRow, RequestOutcome, RequestRecord, TimelineRow};
use crate::outputs::{csv_bytes, round6, CsvWriter};

/// The names of the row files in a run's folder.
pub const TIMELINE: &str = "timeline.csv";
pub const COST: &str = "cost.csv";
pub const LATENCY: &str = "latency.csv";

/// The files of a run's timeline, cost and latency rows.
#[derive(Debug, Clone)]
pub struct RowFiles<W> {
    /// One row per controller tick per scaled target.
    pub timeline: W,
    /// One row per controller tick (and the end) per ModelServing: its cumulative cost.
    pub cost: W,
    /// One row per minute of the run, by completion time: the latency chart's data, kept
    /// whether or not `requests.csv` is written.
    pub latency: W,
}

impl RowFiles<Vec<u8>> {
    /// The files as (name, bytes), as a run's folder holds them.
    pub fn into_files(self) -> [(String, Vec<u8>); 3] {
        [
            (TIMELINE.to_string(), self.timeline),
            (LATENCY.to_string(), self.latency),
            (COST.to_string(), self.cost),
        ]
    }
}

/// Writes a run's rows into its three files as the run makes them (the recorder's sink).
pub struct RowWriters<W: Write> {
    timeline: CsvWriter<TimelineRow, W>,
    cost: CsvWriter<CostRow, W>,
    latency: CsvWriter<LatencyRow, W>,
}

impl<W: Write> RowWriters<W> {
    pub fn new(files: RowFiles<W>) -> Self {
        RowWriters {
            timeline: CsvWriter::new(files.timeline),
            cost: CsvWriter::new(files.cost),
            latency: CsvWriter::new(files.latency),
        }
    }

    /// Ends the files (the header of one without rows) and gives them back, flushed.
    pub fn finish(self) -> Result<RowFiles<W>, csv::Error> {
        Ok(RowFiles {
            timeline: self.timeline.finish()?,
            cost: self.cost.finish()?,
            latency: self.latency.finish()?,
        })
    }
}

impl RowWriters<Vec<u8>> {
    /// Writers into memory: for the runs of many (replications, variants), short enough.
    pub fn in_memory() -> Self {
        RowWriters::new(RowFiles {
            timeline: Vec::new(),
            cost: Vec::new(),
            latency: Vec::new(),
        })
    }
}

impl<W: Write> RowSink for RowWriters<W> {
    fn timeline(&mut self, r: &TimelineRow) -> io::Result<()> {
        Ok(self.timeline.write(&TimelineRow {
            time_s: round6(r.time_s),
            arrivals_per_s: round6(r.arrivals_per_s),
            kv_usage: round6(r.kv_usage),
            cost_per_hour: round6(r.cost_per_hour),
            ..r.clone()
        })?)
    }

    fn cost(&mut self, r: &CostRow) -> io::Result<()> {
        Ok(self.cost.write(&CostRow {
            time_s: round6(r.time_s),
            cost_per_hour: round6(r.cost_per_hour),
            cost: round6(r.cost),
            ..r.clone()
        })?)
    }

    fn latency(&mut self, m: &MinuteLatency) -> io::Result<()> {
        let s = |v: Option<f64>| v.map(|x| round6(x / 1e6));
        Ok(self.latency.write(&LatencyRow {
            time_s: round6(m.start.as_micros() as f64 / 1e6),
            completed: m.completed,
            ttft_p50_s: s(m.ttft.0),
            ttft_p99_s: s(m.ttft.1),
            tpot_p50_s: s(m.tpot.0),
            tpot_p99_s: s(m.tpot.1),
            e2e_p50_s: s(m.e2e.0),
            e2e_p99_s: s(m.e2e.1),
        })?)
    }
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
