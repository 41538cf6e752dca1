//! `trace stats`: what a trace holds — requests, span, mean and peak rates, burstiness and
//! token-length percentiles — computed in one pass with memory bounded by the trace's span
//! and its distinct token lengths, never by its number of rows.

use std::fmt::Write;

use serde_json::{json, Value};

use crate::outputs::round6;
pub use crate::sim::sketch::CountedValues;
use crate::sim::{SimDuration, SimTime, MICROS_PER_SEC};
use crate::workload::{Request, RowCounts, RowNote, TraceTally};

/// Percentiles reported for token lengths.
const PERCENTILES: [(&str, f64); 5] = [
    ("p50", 0.5),
    ("p90", 0.9),
    ("p95", 0.95),
    ("p99", 0.99),
    ("p999", 0.999),
];

/// A token-length column as `trace stats --json` writes it.
fn counted_json(c: &CountedValues) -> Value {
    let mut o = serde_json::Map::new();
    for (name, q) in PERCENTILES {
        o.insert(name.into(), json!(c.percentile(q).map(round6)));
    }
    o.insert("min".into(), json!(c.min()));
    o.insert("max".into(), json!(c.max()));
    o.insert("mean".into(), json!(c.mean().map(round6)));
    o.insert("total".into(), json!(c.sum() as u64));
    Value::Object(o)
}

/// Accumulates a trace's statistics, one request at a time.
#[derive(Debug, Clone, Default)]
pub struct TraceStats {
    requests: u64,
    first: Option<SimTime>,
    last: SimTime,
    /// Inter-arrival gaps: count, sum and sum of squares (seconds), for the CV.
    gaps: (u64, f64, f64),
    /// Requests per minute from the first arrival's minute on (at most a year of them).
    per_minute: Vec<u32>,
    /// The second being counted (from the first arrival) and its requests so far; arrivals
    /// never decrease, so a second is complete when a later one starts.
    second: (u64, u32),
    peak_per_second: u32,
    input: CountedValues,
    output: CountedValues,
    /// Rows the reader dropped or changed, and why (see [`TraceStats::set_rows`]).
    rows: RowCounts,
    notes: Vec<RowNote>,
}

/// The longest span `trace stats` covers: its per-minute counts then take 2 MB. A longer span
/// is almost surely a time column in other units than the format's (milliseconds read as
/// seconds), and counting it minute by minute could take all the memory.
pub const MAX_SPAN: SimDuration = SimDuration::from_secs(366 * 24 * 3_600);

/// A request too long after the first for `trace stats` (see [`MAX_SPAN`]).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("request {index} arrives {days:.0} days after the first: `trace stats` covers at most 366 days (is the time column in the format's unit?)")]
pub struct SpanTooLong {
    pub index: u64,
    pub days: f64,
}

impl TraceStats {
    /// Counts request `r` (arrivals never decrease), the `index`-th of the trace from 1;
    /// refuses one more than [`MAX_SPAN`] after the first.
    pub fn add(&mut self, r: &Request, index: u64) -> Result<(), SpanTooLong> {
        let first = *self.first.get_or_insert(r.arrival);
        let offset = r.arrival.saturating_since(first).max(SimDuration::ZERO);
        if offset > MAX_SPAN {
            return Err(SpanTooLong {
                index,
                days: offset.as_micros() as f64 / (86_400.0 * MICROS_PER_SEC as f64),
            });
        }
        if self.requests > 0 {
            let gap = (r.arrival - self.last).as_micros() as f64 / MICROS_PER_SEC as f64;
            self.gaps.0 += 1;
            self.gaps.1 += gap;
            self.gaps.2 += gap * gap;
        }
        self.requests += 1;
        self.last = r.arrival;
        let second = (offset.as_micros() / MICROS_PER_SEC) as u64;
        if second != self.second.0 {
            self.second = (second, 0);
        }
        self.second.1 = self.second.1.saturating_add(1);
        self.peak_per_second = self.peak_per_second.max(self.second.1);
        let minute = (second / 60) as usize;
        if minute >= self.per_minute.len() {
            self.per_minute.resize(minute + 1, 0);
        }
        self.per_minute[minute] = self.per_minute[minute].saturating_add(1);
        self.input.add(r.input_tokens);
        self.output.add(r.output_tokens);
        Ok(())
    }

    pub fn requests(&self) -> u64 {
        self.requests
    }

    /// Takes what the trace's reader dropped or changed, once every row is read: the text
    /// says it one line per reason, the JSON counts it.
    pub fn set_rows(&mut self, tally: &TraceTally) {
        self.rows = tally.rows;
        self.notes = tally.notes();
    }

    /// From the first to the last arrival, in seconds.
    pub fn span_s(&self) -> f64 {
        self.first.map_or(0.0, |f| {
            (self.last - f).as_micros() as f64 / MICROS_PER_SEC as f64
        })
    }

    pub fn input(&self) -> &CountedValues {
        &self.input
    }

    pub fn output(&self) -> &CountedValues {
        &self.output
    }

    /// Requests per minute, minute by minute from the first arrival.
    pub fn per_minute(&self) -> &[u32] {
        &self.per_minute
    }

    /// Coefficient of variation of the inter-arrival gaps (1 for Poisson arrivals).
    pub fn inter_arrival_cv(&self) -> Option<f64> {
        let (n, s, s2) = self.gaps;
        if n < 2 {
            return None;
        }
        let mean = s / n as f64;
        let var = (s2 / n as f64 - mean * mean).max(0.0);
        (mean > 0.0).then(|| var.sqrt() / mean)
    }

    pub fn json(&self) -> Value {
        let span = self.span_s();
        let per_minute = self.per_minute();
        let mean_rps = if span > 0.0 {
            self.requests as f64 / span
        } else {
            0.0
        };
        json!({
            "requests": self.requests,
            "duration_s": round6(span),
            "rate": {
                "mean_per_s": round6(mean_rps),
                "mean_per_min": round6(mean_rps * 60.0),
                "peak_per_s": self.peak_per_second,
                "peak_per_min": per_minute.iter().max().copied().unwrap_or(0),
            },
            "inter_arrival_cv": self.inter_arrival_cv().map(round6),
            "input_tokens": counted_json(&self.input),
            "output_tokens": counted_json(&self.output),
            // `trace stats` reads a trace as it is: no window or model, and only BurstGPT
            // drops rows (its 0-token failures) unless told otherwise.
            "skipped_rows": {"zero_output": self.rows.zero_output_skipped},
            "changed_rows": {
                "zero_output": self.rows.zero_output_raised,
                "zero_input": self.rows.zero_input_raised,
            },
            "per_minute": per_minute,
        })
    }

    /// A human summary with a sparkline of the per-minute rate.
    pub fn text(&self, name: &str) -> String {
        let j = self.json();
        let mut t = String::new();
        let f = |v: &Value| v.as_f64().map_or("–".to_string(), |x| format!("{x:.2}"));
        let _ = writeln!(t, "{name}");
        let _ = writeln!(t, "  requests        {}", self.requests);
        for note in &self.notes {
            let _ = writeln!(t, "  {:<15} {}", note.verb, note.count());
        }
        let _ = writeln!(
            t,
            "  duration        {:.1} s ({:.1} min)",
            self.span_s(),
            self.span_s() / 60.0
        );
        let r = &j["rate"];
        let _ = writeln!(
            t,
            "  rate            mean {} /s ({} /min), peak {} /s, {} /min",
            f(&r["mean_per_s"]),
            f(&r["mean_per_min"]),
            r["peak_per_s"],
            r["peak_per_min"]
        );
        let _ = writeln!(
            t,
            "  burstiness      inter-arrival CV {}",
            f(&j["inter_arrival_cv"])
        );
        for (label, key) in [
            ("input tokens", "input_tokens"),
            ("output tokens", "output_tokens"),
        ] {
            let v = &j[key];
            let _ = writeln!(
                t,
                "  {label:<15} p50 {}  p90 {}  p99 {}  max {}  mean {}",
                f(&v["p50"]),
                f(&v["p90"]),
                f(&v["p99"]),
                f(&v["max"]),
                f(&v["mean"])
            );
        }
        let _ = writeln!(t, "  per minute      {}", sparkline(self.per_minute(), 72));
        t
    }
}

/// The values as a row of block characters, averaged down to at most `width` columns.
pub fn sparkline(values: &[u32], width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    if values.is_empty() || width == 0 {
        return String::new();
    }
    let per = values.len().div_ceil(width);
    let cols: Vec<f64> = values
        .chunks(per)
        .map(|c| c.iter().map(|&v| f64::from(v)).sum::<f64>() / c.len() as f64)
        .collect();
    let max = cols.iter().copied().fold(0.0, f64::max);
    cols.iter()
        .map(|&v| {
            if max <= 0.0 {
                BARS[0]
            } else {
                BARS[((v / max) * 7.0).round() as usize]
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request arriving `us` microseconds after the start.
    fn req(us: i64, i: u32, o: u32) -> Request {
        Request {
            arrival: SimTime::from_micros(us),
            input_tokens: i,
            output_tokens: o,
        }
    }

    #[test]
    fn counted_percentiles_equal_sorted_ones() {
        let values = [5u32, 1, 9, 9, 3, 7, 2, 2, 8];
        let mut c = CountedValues::default();
        values.iter().for_each(|&v| c.add(v));
        let mut exact = crate::sim::sketch::Samples::default();
        values.iter().for_each(|&v| exact.push(f64::from(v)));
        for q in [0.0, 0.1, 0.5, 0.9, 0.99, 1.0] {
            assert_eq!(c.percentile(q), exact.percentile(q), "q {q}");
        }
    }

    #[test]
    fn rates_and_burstiness() {
        let mut s = TraceStats::default();
        for i in 0..120 {
            s.add(&req(i * 500_000, 10, 20), i as u64 + 1).unwrap();
        }
        let j = s.json();
        assert_eq!(j["requests"], 120);
        assert_eq!(j["rate"]["peak_per_s"], 2);
        assert_eq!(j["rate"]["peak_per_min"], 120);
        assert_eq!(s.inter_arrival_cv(), Some(0.0));
        assert_eq!(sparkline(&[0, 4, 8], 3), "▁▅█");
    }

    #[test]
    fn a_span_beyond_a_year_is_refused_before_counting_it() {
        let mut s = TraceStats::default();
        s.add(&req(0, 1, 1), 1).unwrap();
        s.add(&req(MAX_SPAN.as_micros(), 1, 1), 2).unwrap();
        assert_eq!(s.per_minute().len(), 527_041);
        let e = s
            .add(&req(MAX_SPAN.as_micros() + 1, 1, 1), 3)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("request 3 arrives 366 days after the first"),
            "{e}"
        );
        let e = s.add(&req(i64::MAX, 1, 1), 4).unwrap_err().to_string();
        assert!(e.starts_with("request 4 arrives 106751991 days"), "{e}");
    }
}
