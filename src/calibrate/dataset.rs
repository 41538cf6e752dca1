//! The measurements a fit matches, and how far a server is from them: every point and trace
//! simulated (points in parallel, results in file order), and the objective the fit
//! minimises.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use super::measured::{Load, MeasuredFile, MeasuredRequest, Measurements, Point, PointRequests};
use super::simulate::{point_work, simulate_point, simulate_trace, PointResult, Scratch, Served};
use crate::model::server::ServerParams;

/// The objective's term for a point the server cannot serve (a request longer than its KV
/// cache): far worse than any miss of a served one.
const UNSERVED: f64 = 100.0;

/// Latencies below this many seconds count as this in a trace's per-request terms: a 2 ms
/// and a 4 ms first token are not "twice as far" in any way a user cares about.
const PER_REQUEST_FLOOR_S: f64 = 0.05;

thread_local! {
    /// Each pool thread's server and buffers, kept from one evaluation of the fit to the
    /// next.
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Measured points and traces, fitted together (one server).
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    pub points: Vec<Point>,
    pub traces: Vec<Vec<MeasuredRequest>>,
    /// Seeds the Poisson arrivals of open-loop points (the same in every evaluation).
    pub seed: u64,
}

/// A server measured against a [`Dataset`].
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// Mean squared log ratio of simulated to measured figures (lower is better).
    pub objective: f64,
    /// How many measured figures the objective compares.
    pub figures: usize,
    pub points: Vec<PointResult>,
    pub traces: Vec<Vec<Served>>,
}

impl Dataset {
    /// Everything in `files`, points and traces, in order.
    pub fn new(files: &[MeasuredFile], seed: u64) -> Self {
        let mut data = Dataset {
            seed,
            ..Dataset::default()
        };
        for f in files {
            match &f.data {
                Measurements::Points(points) => data.points.extend(points.iter().cloned()),
                Measurements::Requests(requests) => data.traces.push(requests.clone()),
            }
        }
        data
    }

    /// Simulates every point and trace on a server with `params`.
    pub fn evaluate(&self, params: &ServerParams) -> Evaluation {
        let points = self.simulate_points(params);
        let traces: Vec<Vec<Served>> = (self.traces.par_iter())
            .map(|t| simulate_trace(params, t))
            .collect();
        let mut terms = Vec::new();
        for (m, s) in self.points.iter().zip(&points) {
            if s.refused > 0 {
                terms.extend([UNSERVED, UNSERVED]);
            } else {
                terms.push(log_miss(s.ttft_ms, m.ttft_ms));
                terms.push(log_miss(s.tpot_ms, m.tpot_ms));
            }
        }
        for (m, s) in self.traces.iter().zip(&traces) {
            trace_terms(m, s, &mut terms);
        }
        let objective = if terms.is_empty() {
            0.0
        } else {
            terms.iter().sum::<f64>() / terms.len() as f64
        };
        Evaluation {
            objective,
            figures: terms.len(),
            points,
            traces,
        }
    }

    /// Every point simulated on a server with `params`, in file order. The points go to the
    /// pool's threads one at a time, the longest first (by [`point_work`]), each thread taking
    /// the next when it is done: a long point left for last would keep one core busy while
    /// the others wait for the evaluation to end. Which thread simulates a point does not
    /// change its result.
    fn simulate_points(&self, params: &ServerParams) -> Vec<PointResult> {
        let mut order: Vec<usize> = (0..self.points.len()).collect();
        order.sort_by_key(|&i| Reverse(point_work(&self.points[i])));
        let next = AtomicUsize::new(0);
        let threads = rayon::current_num_threads().clamp(1, order.len().max(1));
        let mut done: Vec<(usize, PointResult)> = (0..threads)
            .into_par_iter()
            .flat_map_iter(|_| {
                SCRATCH.with_borrow_mut(|scratch| {
                    std::iter::from_fn(|| {
                        let &i = order.get(next.fetch_add(1, Ordering::Relaxed))?;
                        let point = &self.points[i];
                        Some((i, simulate_point(scratch, params, point, self.seed)))
                    })
                    .collect::<Vec<_>>()
                })
            })
            .collect();
        done.sort_by_key(|&(i, _)| i);
        done.into_iter().map(|(_, r)| r).collect()
    }

    /// The most requests the measured server can have held at once: the largest closed-loop
    /// concurrency, or `None` when an open-loop point or a trace could have sent any number.
    pub fn most_in_flight(&self) -> Option<u32> {
        if !self.traces.is_empty() {
            return None;
        }
        self.points.iter().try_fold(0, |most, p| match p.load {
            Load::Closed { concurrency } => Some(most.max(concurrency)),
            Load::Open { .. } => None,
        })
    }

    /// The most KV tokens one request needs.
    pub fn largest_request(&self) -> u64 {
        let points = self.points.iter().flat_map(|p| match &p.requests {
            PointRequests::Fixed {
                input_tokens,
                output_tokens,
                ..
            } => vec![u64::from(*input_tokens) + u64::from(*output_tokens)],
            PointRequests::Listed(l) => l.iter().map(|(i, o)| u64::from(*i + *o)).collect(),
        });
        let traces = (self.traces.iter().flatten())
            .map(|r| u64::from(r.input_tokens) + u64::from(r.output_tokens));
        points.chain(traces).max().unwrap_or(0)
    }

    /// The most KV tokens the measured load could hold at once: every client's request of a
    /// closed-loop point, or every request of an open-loop point or trace.
    pub fn kv_demand(&self) -> u64 {
        let points = self.points.iter().map(|p| {
            let (each, count) = match &p.requests {
                PointRequests::Fixed {
                    input_tokens,
                    output_tokens,
                    count,
                } => (
                    u64::from(*input_tokens) + u64::from(*output_tokens),
                    count.unwrap_or(u64::MAX),
                ),
                PointRequests::Listed(l) => (
                    l.iter().map(|(i, o)| u64::from(*i + *o)).max().unwrap_or(0),
                    l.len() as u64,
                ),
            };
            match p.load {
                Load::Closed { concurrency } => each * u64::from(concurrency).min(count),
                Load::Open { .. } => each.saturating_mul(count.min(1 << 20)),
            }
        });
        let traces = self.traces.iter().map(|t| {
            (t.iter())
                .map(|r| u64::from(r.input_tokens) + u64::from(r.output_tokens))
                .sum()
        });
        points.chain(traces).max().unwrap_or(0)
    }
}

/// The squared log ratio of a simulated to a measured figure (a missing one: [`UNSERVED`]).
fn log_miss(simulated: f64, measured: f64) -> f64 {
    let r = (simulated / measured).ln();
    if r.is_finite() {
        r * r
    } else {
        UNSERVED
    }
}

/// A trace's terms: the mean and 90th percentile of TTFT and of e2e, and the mean per-request
/// miss of each (latencies floored at [`PER_REQUEST_FLOOR_S`]).
fn trace_terms(measured: &[MeasuredRequest], simulated: &[Served], terms: &mut Vec<f64>) {
    if simulated.iter().any(|s| s.first_token.is_none()) {
        terms.extend([UNSERVED; 6]);
        return;
    }
    let sim_ttft: Vec<f64> = simulated.iter().filter_map(Served::ttft_s).collect();
    let sim_e2e: Vec<f64> = simulated.iter().map(Served::e2e_s).collect();
    let ttft: Vec<f64> = measured.iter().map(|r| r.ttft_s).collect();
    let e2e: Vec<f64> = measured.iter().map(|r| r.e2e_s).collect();
    for (s, m) in [(&sim_ttft, &ttft), (&sim_e2e, &e2e)] {
        terms.push(log_miss(mean(s), mean(m)));
        terms.push(log_miss(percentile(s, 0.9), percentile(m, 0.9)));
        let per_request = s
            .iter()
            .zip(m.iter())
            .map(|(s, m)| log_miss(s.max(PER_REQUEST_FLOOR_S), m.max(PER_REQUEST_FLOOR_S)));
        terms.push(mean(&per_request.collect::<Vec<_>>()));
    }
}

pub fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// The nearest-rank `q` quantile.
pub fn percentile(v: &[f64], q: f64) -> f64 {
    let mut sorted = v.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len().max(1));
    sorted.get(rank - 1).copied().unwrap_or(f64::NAN)
}
