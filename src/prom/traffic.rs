//! Real traffic from a Prometheus' vLLM series: requests per step from the pods' request
//! counters, prompt and output lengths from their token histograms, and a trace synthesised
//! to follow them (a Poisson process whose rate is the recorded one, step by step).
//!
//! Counters are per pod and restart at zero with it: an increase is the difference of two
//! samples, a value below the previous one is a restart (the new value is the increase), and
//! a series first seen inside the window counts from zero. vLLM counts a request when it
//! completes, so the rebuilt arrivals lag the real ones by about one request's latency; the
//! histograms carry no pairing, so prompt and output lengths are drawn independently.

use std::collections::BTreeMap;

use rand::RngExt;
use rand_distr::{Distribution, Exp1};

use super::response::Series;
use crate::sim::rng::{stream, Stream};
use crate::sim::{SimTime, MICROS_PER_SEC};
use crate::workload::Request;

/// How far back a sample still counts as the series' value (Prometheus' lookback).
pub const LOOKBACK_MS: i64 = 300_000;

/// The metric names the traffic is read from (vLLM's by default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrafficNames {
    /// A counter of requests, one per pod.
    pub requests: String,
    /// Histograms of prompt and output lengths, in tokens.
    pub prompt: String,
    pub output: String,
}

impl Default for TrafficNames {
    fn default() -> Self {
        TrafficNames {
            requests: "vllm:request_success_total".into(),
            prompt: "vllm:request_prompt_tokens".into(),
            output: "vllm:request_generation_tokens".into(),
        }
    }
}

impl TrafficNames {
    /// Every series name to fetch.
    pub fn series_names(&self) -> Vec<String> {
        vec![
            self.requests.clone(),
            format!("{}_bucket", self.prompt),
            format!("{}_bucket", self.output),
        ]
    }
}

/// Observations per bucket of a length histogram: upper bounds ascending, `+Inf` last.
#[derive(Debug, Clone, PartialEq)]
pub struct Lengths {
    pub bounds: Vec<f64>,
    pub counts: Vec<f64>,
}

impl Lengths {
    pub fn total(&self) -> f64 {
        self.counts.iter().sum()
    }

    /// The `q` quantile, interpolated linearly within its bucket (as `histogram_quantile`).
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let total = self.total();
        if total <= 0.0 {
            return None;
        }
        let rank = q * total;
        let mut below = 0.0;
        for (i, (&upper, &c)) in self.bounds.iter().zip(&self.counts).enumerate() {
            if below + c >= rank && c > 0.0 {
                let lower = if i == 0 { 0.0 } else { self.bounds[i - 1] };
                if upper.is_infinite() {
                    return Some(lower);
                }
                return Some(lower + (upper - lower) * (rank - below) / c);
            }
            below += c;
        }
        self.bounds.iter().rev().find(|b| b.is_finite()).copied()
    }

    /// A length drawn from the histogram: a bucket by its share, then uniformly within it,
    /// rounded up to whole tokens (at least 1; the `+Inf` bucket gives its lower bound).
    fn draw(&self, rng: &mut Stream) -> u32 {
        let mut x = rng.random::<f64>() * self.total();
        let mut i = 0;
        while i + 1 < self.counts.len() && (x >= self.counts[i] || self.counts[i] <= 0.0) {
            x -= self.counts[i];
            i += 1;
        }
        let lower = if i == 0 { 0.0 } else { self.bounds[i - 1] };
        let upper = self.bounds[i];
        let tokens = if upper.is_finite() {
            let u = 1.0 - rng.random::<f64>();
            (lower + u * (upper - lower)).ceil()
        } else {
            lower
        };
        tokens.clamp(1.0, f64::from(u32::MAX)) as u32
    }
}

/// The traffic of a window.
#[derive(Debug, Clone, PartialEq)]
pub struct Traffic {
    pub start_ms: i64,
    pub step_ms: i64,
    /// Requests in each step `(start + k·step, start + (k+1)·step]`.
    pub counts: Vec<f64>,
    /// Request counter series found.
    pub pods: usize,
    pub prompt: Lengths,
    pub output: Lengths,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrafficError {
    #[error("no series named {0} in the answer: check the selector and the time range")]
    Missing(String),
    #[error("the {0} histogram recorded no observations in the window")]
    NoLengths(String),
}

/// Counts requests per step and tallies the length histograms over `[start, end]` (Unix ms).
pub fn traffic(
    series: &[Series],
    names: &TrafficNames,
    start: i64,
    end: i64,
    step: i64,
) -> Result<Traffic, TrafficError> {
    let steps = ((end - start) / step).max(0) as usize;
    let edges: Vec<i64> = (0..=steps as i64).map(|k| start + k * step).collect();
    fn named<'a>(series: &'a [Series], name: &'a str) -> impl Iterator<Item = &'a Series> {
        series.iter().filter(move |s| s.name() == name)
    }
    let mut counts = vec![0.0; steps];
    let mut pods = 0;
    for s in named(series, &names.requests) {
        pods += 1;
        for (k, inc) in increases(s, &edges, start).into_iter().enumerate() {
            counts[k] += inc;
        }
    }
    if pods == 0 {
        return Err(TrafficError::Missing(names.requests.clone()));
    }
    let prompt_buckets = format!("{}_bucket", names.prompt);
    let output_buckets = format!("{}_bucket", names.output);
    let prompt = lengths(named(series, &prompt_buckets), &edges, start)
        .ok_or_else(|| TrafficError::NoLengths(names.prompt.clone()))?;
    let output = lengths(named(series, &output_buckets), &edges, start)
        .ok_or_else(|| TrafficError::NoLengths(names.output.clone()))?;
    Ok(Traffic {
        start_ms: start,
        step_ms: step,
        counts,
        pods,
        prompt,
        output,
    })
}

/// The series' value at `t`: its newest sample within the lookback.
fn value_at(s: &Series, t: i64) -> Option<f64> {
    s.at_or_before(t)
        .filter(|&(ts, _)| t - ts <= LOOKBACK_MS)
        .map(|(_, v)| v)
}

/// A counter's increase over each interval between consecutive `edges`.
fn increases(s: &Series, edges: &[i64], start: i64) -> Vec<f64> {
    let born_inside = s.points.first().is_some_and(|&(t, _)| t > start);
    let mut previous = value_at(s, edges[0]);
    let mut seen = previous.is_some();
    edges[1..]
        .iter()
        .map(|&t| {
            let now = value_at(s, t);
            let inc = match (previous, now) {
                (Some(p), Some(v)) if v >= p => v - p,
                (Some(_), Some(v)) => v,
                // The series' first sample: a pod that started inside the window counted
                // from zero.
                (None, Some(v)) if !seen && born_inside => v,
                _ => 0.0,
            };
            seen |= now.is_some();
            if now.is_some() {
                previous = now;
            }
            inc
        })
        .collect()
}

/// Observations per bucket over the window, summed over the histogram's series.
fn lengths<'a>(
    buckets: impl Iterator<Item = &'a Series>,
    edges: &[i64],
    start: i64,
) -> Option<Lengths> {
    let mut cumulative: BTreeMap<u64, (f64, f64)> = BTreeMap::new();
    for s in buckets {
        let Some(le) = s.label("le").and_then(parse_le) else {
            continue;
        };
        let total: f64 = increases(s, edges, start).iter().sum();
        cumulative.entry(le.to_bits()).or_insert((le, 0.0)).1 += total;
    }
    let mut sorted: Vec<(f64, f64)> = cumulative.into_values().collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut below = 0.0f64;
    let mut counts = Vec::new();
    for &(_, c) in &sorted {
        counts.push((c - below).max(0.0));
        below = below.max(c);
    }
    let lengths = Lengths {
        bounds: sorted.iter().map(|&(le, _)| le).collect(),
        counts,
    };
    (lengths.total() > 0.0).then_some(lengths)
}

fn parse_le(s: &str) -> Option<f64> {
    match s {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        s => s.parse().ok().filter(|v: &f64| v.is_finite()),
    }
}

impl Traffic {
    pub fn total(&self) -> f64 {
        self.counts.iter().sum()
    }

    /// Requests arriving as a Poisson process at each step's recorded rate, with lengths
    /// drawn from the histograms; arrivals from the start of the window. Seeded: the same
    /// traffic and seed give the same trace.
    pub fn synthesise(&self, seed: u64) -> Vec<Request> {
        let mut arrivals = stream(seed, "arrivals");
        let mut lengths = stream(seed, "lengths");
        let step_us = self.step_ms * 1_000;
        let mut out = Vec::new();
        for (k, &count) in self.counts.iter().enumerate() {
            if count <= 0.0 {
                continue;
            }
            let rate_per_us = count / step_us as f64;
            let (from, to) = (k as i64 * step_us, (k as i64 + 1) * step_us);
            let mut t = from as f64;
            loop {
                let gap: f64 = Exp1.sample(&mut arrivals);
                t += gap / rate_per_us;
                let at = t.round() as i64;
                if at > to {
                    break;
                }
                out.push(Request {
                    arrival: SimTime::from_micros(at.max(from)),
                    input_tokens: self.prompt.draw(&mut lengths),
                    output_tokens: self.output.draw(&mut lengths),
                });
            }
        }
        out
    }

    /// Requests per minute, from the counts (steps split across minutes pro rata).
    pub fn per_minute(&self) -> Vec<f64> {
        let minute = 60 * MICROS_PER_SEC / 1_000;
        let minutes = (self.counts.len() as i64 * self.step_ms + minute - 1) / minute;
        let mut out = vec![0.0; minutes.max(0) as usize];
        for (k, &c) in self.counts.iter().enumerate() {
            let (from, to) = (k as i64 * self.step_ms, (k as i64 + 1) * self.step_ms);
            let mut t = from;
            while t < to {
                let m = t / minute;
                let edge = ((m + 1) * minute).min(to);
                out[m as usize] += c * (edge - t) as f64 / self.step_ms as f64;
                t = edge;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prom::response::SeriesLabels;

    fn series(name: &str, extra: &[(&str, &str)], points: &[(i64, f64)]) -> Series {
        let mut labels = SeriesLabels::new();
        labels.insert("__name__".into(), name.into());
        for (k, v) in extra {
            labels.insert((*k).into(), (*v).into());
        }
        Series {
            labels,
            points: points.to_vec(),
        }
    }

    #[test]
    fn counter_increases_handle_restarts_and_pods_born_inside() {
        let edges = [0, 15_000, 30_000, 45_000];
        let s = series(
            "c",
            &[],
            &[(0, 10.0), (15_000, 14.0), (30_000, 2.0), (45_000, 5.0)],
        );
        assert_eq!(increases(&s, &edges, 0), vec![4.0, 2.0, 3.0]);
        let born = series("c", &[], &[(30_000, 7.0), (45_000, 9.0)]);
        assert_eq!(increases(&born, &edges, 0), vec![0.0, 7.0, 2.0]);
        // Present at the start: its first value is a baseline, not an increase.
        let old = series("c", &[], &[(-15_000, 3.0), (15_000, 5.0)]);
        assert_eq!(increases(&old, &edges, 0), vec![2.0, 0.0, 0.0]);
    }

    #[test]
    fn lengths_are_tallied_per_bucket_and_drawn_within_them() {
        let edges = [0, 60_000];
        let b = |le: &str, v0: f64, v1: f64| {
            series(
                "p_bucket",
                &[("le", le), ("pod", "a")],
                &[(0, v0), (60_000, v1)],
            )
        };
        let all = [
            b("100", 0.0, 10.0),
            b("200", 0.0, 40.0),
            b("+Inf", 0.0, 40.0),
        ];
        let l = lengths(all.iter(), &edges, 0).unwrap();
        assert_eq!(l.bounds, vec![100.0, 200.0, f64::INFINITY]);
        assert_eq!(l.counts, vec![10.0, 30.0, 0.0]);
        assert_eq!(l.quantile(0.5), Some(100.0 + 100.0 * 10.0 / 30.0));
        let mut rng = stream(1, "t");
        let draws: Vec<u32> = (0..2000).map(|_| l.draw(&mut rng)).collect();
        assert!(draws.iter().all(|&d| (1..=200).contains(&d)));
        let short = draws.iter().filter(|&&d| d <= 100).count();
        // A quarter of the observations are at most 100 tokens.
        assert!((400..600).contains(&short), "{short}");
    }

    #[test]
    fn the_synthesised_trace_follows_the_recorded_rate() {
        let l = Lengths {
            bounds: vec![10.0, f64::INFINITY],
            counts: vec![1.0, 0.0],
        };
        let t = Traffic {
            start_ms: 0,
            step_ms: 15_000,
            counts: vec![300.0, 0.0, 600.0],
            pods: 1,
            prompt: l.clone(),
            output: l,
        };
        let r = t.synthesise(7);
        assert_eq!(r, t.synthesise(7));
        let in_step = |k: i64| {
            let (from, to) = (k * 15_000_000, (k + 1) * 15_000_000);
            r.iter()
                .filter(|q| q.arrival.as_micros() > from && q.arrival.as_micros() <= to)
                .count()
        };
        // Poisson counts: within four standard deviations of the recorded ones.
        assert!(
            (300 - 70..=300 + 70).contains(&in_step(0)),
            "{}",
            in_step(0)
        );
        assert_eq!(in_step(1), 0);
        assert!(
            (600 - 100..=600 + 100).contains(&in_step(2)),
            "{}",
            in_step(2)
        );
        assert!(r.windows(2).all(|w| w[0].arrival <= w[1].arrival));
        assert_eq!(t.per_minute(), vec![900.0]);
    }
}
