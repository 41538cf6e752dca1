//! The fit: the server parameters that make the simulated measurements match the measured
//! ones. Step-cost coefficients (and the KV capacity unless pinned) are found by Nelder–Mead
//! over their logarithms — every coefficient is a positive scale, and a log keeps a 1 µs
//! term and a 40 ms one equally easy to move. The objective is the mean squared log ratio of
//! simulated to measured figures, so a 10 % miss counts the same on a 50 ms TTFT as on a
//! 50 s one. The KV capacity changes results only in steps (a request fits or it does not),
//! which a simplex cannot follow: it is first chosen on a grid, then refined with the rest.
//! The overhead's spread and the decode saturation come after the other costs, from a few
//! starts each: the spread stays only where Akaike's criterion says it pays for itself, the
//! saturation wherever it lowers the objective.
//!
//! The batch limits (`max_num_seqs`, `max_num_batched_tokens`) are settings, not costs: they
//! come from `--set`, else from the starting server, else from [`VLLM_DEFAULT_LIMITS`] as
//! `candidate_limits` and `smaller_sequence_limit` say.

use argmin::core::{CostFunction, Executor, State};
use argmin::solver::neldermead::NelderMead;
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use super::dataset::{Dataset, Evaluation};
use crate::model::server::ServerParams;

/// A field of [`ServerParams`] that `--set` can pin, by its scenario name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Field {
    MaxNumSeqs,
    MaxNumBatchedTokens,
    KvCacheTokens,
    BaseMs,
    PerPrefillTokenMs,
    PrefillAttentionMs,
    PerDecodeSeqMs,
    PerContextTokenMs,
    RequestOverheadMs,
    RequestOverheadSpreadMs,
    DecodeSaturationSeqs,
}

/// The step-cost fields, fitted unless pinned: every field after the three limits.
const COSTS: &[Field] = Field::ALL.split_at(3).1;

impl Field {
    pub const ALL: [Field; 11] = [
        Field::MaxNumSeqs,
        Field::MaxNumBatchedTokens,
        Field::KvCacheTokens,
        Field::BaseMs,
        Field::PerPrefillTokenMs,
        Field::PrefillAttentionMs,
        Field::PerDecodeSeqMs,
        Field::PerContextTokenMs,
        Field::RequestOverheadMs,
        Field::RequestOverheadSpreadMs,
        Field::DecodeSaturationSeqs,
    ];

    /// Its name in a scenario's `server:` mapping.
    pub fn name(self) -> &'static str {
        match self {
            Field::MaxNumSeqs => "max_num_seqs",
            Field::MaxNumBatchedTokens => "max_num_batched_tokens",
            Field::KvCacheTokens => "kv_cache_tokens",
            Field::BaseMs => "base_ms",
            Field::PerPrefillTokenMs => "per_prefill_token_ms",
            Field::PrefillAttentionMs => "prefill_attention_ms",
            Field::PerDecodeSeqMs => "per_decode_seq_ms",
            Field::PerContextTokenMs => "per_context_token_ms",
            Field::RequestOverheadMs => "request_overhead_ms",
            Field::RequestOverheadSpreadMs => "request_overhead_spread_ms",
            Field::DecodeSaturationSeqs => "decode_saturation_seqs",
        }
    }

    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Whether it counts something (a whole number of slots or tokens).
    pub fn is_count(self) -> bool {
        matches!(
            self,
            Field::MaxNumSeqs | Field::MaxNumBatchedTokens | Field::KvCacheTokens
        )
    }

    pub fn get(self, p: &ServerParams) -> f64 {
        match self {
            Field::MaxNumSeqs => f64::from(p.max_num_seqs),
            Field::MaxNumBatchedTokens => f64::from(p.max_num_batched_tokens),
            Field::KvCacheTokens => p.kv_cache_tokens as f64,
            Field::BaseMs => p.base_ms,
            Field::PerPrefillTokenMs => p.per_prefill_token_ms,
            Field::PrefillAttentionMs => p.prefill_attention_ms,
            Field::PerDecodeSeqMs => p.per_decode_seq_ms,
            Field::PerContextTokenMs => p.per_context_token_ms,
            Field::RequestOverheadMs => p.request_overhead_ms,
            Field::RequestOverheadSpreadMs => p.request_overhead_spread_ms,
            Field::DecodeSaturationSeqs => p.decode_saturation_seqs,
        }
    }

    /// Sets it (counts rounded to the nearest whole number, at least 1).
    pub fn set(self, p: &mut ServerParams, value: f64) {
        let count = value.round().max(1.0);
        match self {
            Field::MaxNumSeqs => p.max_num_seqs = count.min(f64::from(u32::MAX)) as u32,
            Field::MaxNumBatchedTokens => {
                p.max_num_batched_tokens = count.min(f64::from(u32::MAX)) as u32
            }
            Field::KvCacheTokens => p.kv_cache_tokens = count as u64,
            Field::BaseMs => p.base_ms = value,
            Field::PerPrefillTokenMs => p.per_prefill_token_ms = value,
            Field::PrefillAttentionMs => p.prefill_attention_ms = value,
            Field::PerDecodeSeqMs => p.per_decode_seq_ms = value,
            Field::PerContextTokenMs => p.per_context_token_ms = value,
            Field::RequestOverheadMs => p.request_overhead_ms = value,
            Field::RequestOverheadSpreadMs => p.request_overhead_spread_ms = value,
            Field::DecodeSaturationSeqs => p.decode_saturation_seqs = value,
        }
    }

    /// Where the fit starts a late field ([`LATE`]). The spread, in milliseconds: less than
    /// a short step, about one, several. The saturation, in sequences: the experts per token
    /// of common mixture-of-experts models (8 of 128, 4 of 128, 2 of 8) give 16, 32 and 4;
    /// 64 stands for the ones with more.
    fn late_starts(self) -> &'static [f64] {
        match self {
            Field::RequestOverheadSpreadMs => &[1.0, 5.0, 20.0],
            Field::DecodeSaturationSeqs => &[4.0, 16.0, 64.0],
            _ => &[],
        }
    }

    /// `params` with this late field at `value`; a spread takes half of itself from the fixed
    /// overhead, so that the mean overhead stays about where it was.
    fn late_start(self, params: ServerParams, value: f64) -> ServerParams {
        let mut p = params;
        self.set(&mut p, value);
        if self == Field::RequestOverheadSpreadMs {
            p.request_overhead_ms =
                (params.request_overhead_ms - value / 2.0).max(params.request_overhead_ms / 4.0);
        }
        p
    }

    /// Where a fit starts a cost that the starting server leaves at 0: a typical value for a
    /// data-centre GPU, so that the simplex starts where the term matters.
    fn typical(self) -> f64 {
        match self {
            Field::BaseMs => 10.0,
            Field::PerPrefillTokenMs => 0.05,
            Field::PrefillAttentionMs => 1e-6,
            Field::PerDecodeSeqMs => 0.1,
            Field::PerContextTokenMs => 1e-5,
            Field::RequestOverheadMs => 5.0,
            Field::RequestOverheadSpreadMs => 5.0,
            _ => 1.0,
        }
    }
}

/// vLLM's default batch limits (`max_num_seqs`, `max_num_batched_tokens`) of its API server:
/// on GPUs of 70 GiB or more (but A100), and on the others.
pub const VLLM_DEFAULT_LIMITS: [(u32, u32); 2] = [(1_024, 8_192), (256, 2_048)];

/// A KV capacity no measured point comes near: the cache does not constrain the fit.
pub const UNBOUNDED_KV: u64 = 1 << 40;

/// What a fit is asked.
#[derive(Debug, Clone)]
pub struct FitRequest {
    /// Where the costs start, and the limits unless pinned (`None`: typical values and
    /// vLLM's defaults).
    pub start: Option<ServerParams>,
    /// Fields held at a value.
    pub pinned: Vec<(Field, f64)>,
    /// Simplex iterations per stage at most.
    pub max_iters: u64,
}

/// What a fit found.
#[derive(Debug, Clone)]
pub struct Fitted {
    pub params: ServerParams,
    /// The KV capacity is pinned, or chosen by the measurements; `false`: no point pressed
    /// on the cache, and `params` holds [`UNBOUNDED_KV`].
    pub kv_constrained: bool,
    /// The fitted fields (not pinned, not settings).
    pub fitted: Vec<Field>,
    /// Objective evaluations (each simulates every point once).
    pub evaluations: u64,
    pub evaluation: Evaluation,
}

/// Fits a server to `data`.
pub fn fit(data: &Dataset, request: &FitRequest) -> Fitted {
    let pinned = |f: Field| request.pinned.iter().find(|(p, _)| *p == f).map(|p| p.1);
    let seqs = pinned(Field::MaxNumSeqs);
    let limits = candidate_limits(seqs, pinned(Field::MaxNumBatchedTokens), request.start);
    let with_limits = |(seqs, budget): (u32, u32)| {
        let mut start = request.start.unwrap_or(ServerParams {
            max_num_seqs: seqs,
            max_num_batched_tokens: budget,
            kv_cache_tokens: UNBOUNDED_KV,
            base_ms: 0.0,
            per_prefill_token_ms: 0.0,
            per_decode_seq_ms: 0.0,
            per_context_token_ms: 0.0,
            prefill_attention_ms: 0.0,
            request_overhead_ms: 0.0,
            request_overhead_spread_ms: 0.0,
            decode_saturation_seqs: 0.0,
        });
        (start.max_num_seqs, start.max_num_batched_tokens) = (seqs, budget);
        for &(field, value) in &request.pinned {
            field.set(&mut start, value);
        }
        fit_with_limits(data, request, start)
    };
    let better = |a: &Fitted, b: &Fitted| a.evaluation.objective < b.evaluation.objective;
    let mut best: Option<Fitted> = None;
    for pair in limits {
        let candidate = with_limits(pair);
        if best.as_ref().is_none_or(|b| better(&candidate, b)) {
            best = Some(candidate);
        }
    }
    let mut best = best.expect("at least one pair of limits");
    // The smaller default sequence limit, refitted with only where a point goes beyond it and
    // the fit found evaluates better with it: most tables never reach it, and a refit of a
    // table that does costs as much as the fit itself.
    if let Some(fewer) = smaller_sequence_limit(data, seqs, request.start) {
        let narrower = ServerParams {
            max_num_seqs: fewer,
            ..best.params
        };
        if data.evaluate(&narrower).objective < best.evaluation.objective {
            let candidate = with_limits((fewer, best.params.max_num_batched_tokens));
            if better(&candidate, &best) {
                best = candidate;
            }
        }
    }
    best
}

/// The batch limits (`max_num_seqs`, `max_num_batched_tokens`) a fit tries, best first on a
/// tie: the pinned ones, else the starting server's, else each of vLLM's default token budgets
/// with the larger of its sequence limits. Where no point reaches 256 clients the data cannot
/// tell 256 sequences from 1 024; the larger queues no client of a busier held-out point,
/// which a measured server that never queued suggests.
fn candidate_limits(
    seqs: Option<f64>,
    budget: Option<f64>,
    start: Option<ServerParams>,
) -> Vec<(u32, u32)> {
    let pick = |pinned: Option<f64>, default: u32| pinned.map_or(default, |v| v as u32);
    if let Some(start) = start {
        return vec![(
            pick(seqs, start.max_num_seqs),
            pick(budget, start.max_num_batched_tokens),
        )];
    }
    let most_seqs = VLLM_DEFAULT_LIMITS.iter().map(|l| l.0).max().unwrap_or(0);
    let mut pairs: Vec<(u32, u32)> = Vec::new();
    for &(_, default_budget) in &VLLM_DEFAULT_LIMITS {
        let pair = (pick(seqs, most_seqs), pick(budget, default_budget));
        if !pairs.contains(&pair) {
            pairs.push(pair);
        }
    }
    pairs
}

/// vLLM's smaller default sequence limit, when neither `--set` nor a starting server gives one
/// and some point could hold more requests than it (an open-loop point or a trace: any number).
fn smaller_sequence_limit(
    data: &Dataset,
    seqs: Option<f64>,
    start: Option<ServerParams>,
) -> Option<u32> {
    let fewest = VLLM_DEFAULT_LIMITS.iter().map(|l| l.0).min()?;
    let beyond = data.most_in_flight().is_none_or(|most| most > fewest);
    (seqs.is_none() && start.is_none() && beyond).then_some(fewest)
}

/// Fits costs and KV capacity with the batch limits of `start`.
fn fit_with_limits(data: &Dataset, request: &FitRequest, start: ServerParams) -> Fitted {
    let is_pinned = |f: Field| request.pinned.iter().any(|(p, _)| *p == f);
    let costs: Vec<Field> = COSTS.iter().copied().filter(|f| !is_pinned(*f)).collect();
    let kv_free = !is_pinned(Field::KvCacheTokens);
    let mut params = start;
    for f in &costs {
        if f.get(&params) <= 0.0 {
            f.set(&mut params, f.typical());
        }
    }
    let mut evaluations = 0;
    // 1. The costs, with the cache out of the way.
    if kv_free {
        params.kv_cache_tokens = UNBOUNDED_KV;
    }
    // 1a. Without the late fields (the overhead's spread, the decode saturation), then 1b.
    // each of them in turn from a few starts: the spread changes results by where arrivals
    // fall within steps, and the saturation trades against the per-sequence cost, which both
    // leave local minima a simplex started far away cannot leave. The spread is kept only
    // where it pays for itself by Akaike's criterion — with n figures, a parameter more must
    // lower n·ln(objective) by more than 2 —, or every fit would take a little of it to fit
    // noise. The saturation is kept wherever it lowers the objective: one that noise buys is
    // weak (many sequences) and moves no prediction far, while one refused costs much beyond
    // the measured load. Held out on 46 public benchmark tables (scripts/benchmark-groups),
    // the criterion applied to it too left extrapolated TPOT at 14.2 % instead of 8.9 %.
    let late: Vec<Field> = (LATE.iter().copied())
        .filter(|f| costs.contains(f))
        .collect();
    for f in &late {
        f.set(&mut params, 0.0);
    }
    let mut free: Vec<Field> = (costs.iter().copied())
        .filter(|f| !late.contains(f))
        .collect();
    let (p, n) = minimise(data, params, &free, request.max_iters);
    (params, evaluations) = (p, evaluations + n);
    for field in late {
        free.push(field);
        let without = data.evaluate(&params);
        let bar = match field {
            Field::RequestOverheadSpreadMs => (-2.0 / without.figures.max(1) as f64).exp(),
            _ => 1.0,
        };
        let mut best = (params, without.objective * bar);
        evaluations += 1;
        // A starting server's own value (`--from` an earlier fit) is a start too.
        let own = Some(field.get(&start)).filter(|v| *v > 0.0);
        for value in field.late_starts().iter().copied().chain(own) {
            let (p, n) = minimise(
                data,
                field.late_start(params, value),
                &free,
                request.max_iters,
            );
            let cost = data.evaluate(&p).objective;
            evaluations += n + 1;
            if cost < best.1 {
                best = (p, cost);
            }
        }
        params = best.0;
    }
    let mut kv_constrained = !kv_free;
    let mut fitted = costs.clone();
    if kv_free {
        // 2. The capacity on a grid, then 3. everything together.
        let unbounded = data.evaluate(&params).objective;
        let grid = kv_grid(data);
        let scores: Vec<f64> = grid
            .par_iter()
            .map(|&kv| {
                let candidate = ServerParams {
                    kv_cache_tokens: kv,
                    ..params
                };
                data.evaluate(&candidate).objective
            })
            .collect();
        evaluations += grid.len() as u64 + 1;
        let (i, best) = (scores.iter().enumerate())
            .min_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, s)| (i, *s))
            .unwrap_or((0, f64::INFINITY));
        if best < unbounded * 0.99 {
            params.kv_cache_tokens = grid[i];
            fitted.push(Field::KvCacheTokens);
            let (p, n) = minimise(data, params, &fitted, request.max_iters);
            (params, evaluations) = (p, evaluations + n);
            kv_constrained = true;
        }
    }
    Fitted {
        evaluation: data.evaluate(&params),
        params,
        kv_constrained,
        fitted,
        evaluations,
    }
}

/// KV capacities worth trying: from what one request needs to what every client's request
/// needs at once, 32 steps on a log scale.
fn kv_grid(data: &Dataset) -> Vec<u64> {
    let low = data.largest_request().max(1) as f64;
    let high = (data.kv_demand() as f64).max(low * 1.01);
    (0..32)
        .map(|i| (low * (high / low).powf(f64::from(i) / 31.0)).ceil() as u64)
        .collect()
}

/// The fields fitted after the others, each from its [`Field::late_starts`].
const LATE: [Field; 2] = [Field::RequestOverheadSpreadMs, Field::DecodeSaturationSeqs];

/// The objective over the logarithms of the fields `free`, the others held at `base`.
struct Objective<'a> {
    data: &'a Dataset,
    base: ServerParams,
    free: &'a [Field],
    evaluations: &'a AtomicU64,
}

impl Objective<'_> {
    fn params(&self, x: &[f64]) -> ServerParams {
        let mut p = self.base;
        for (f, v) in self.free.iter().zip(x) {
            f.set(&mut p, v.exp());
        }
        p
    }
}

impl CostFunction for Objective<'_> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, x: &Self::Param) -> Result<f64, argmin::core::Error> {
        self.evaluations.fetch_add(1, Ordering::Relaxed);
        Ok(self.data.evaluate(&self.params(x)).objective)
    }
}

/// Nelder–Mead from `start` over the logarithms of `free`, restarted from its best point
/// while a restart still improves the objective by 1 % (a simplex can collapse early on a
/// surface with steps); returns the best parameters and the evaluations spent. A field at 0
/// stays there, its logarithm not being finite: the overhead's spread, when no start with
/// one did better than none.
fn minimise(
    data: &Dataset,
    start: ServerParams,
    free: &[Field],
    max_iters: u64,
) -> (ServerParams, u64) {
    let free: Vec<Field> = (free.iter().copied())
        .filter(|f| f.get(&start) > 0.0)
        .collect();
    let free = free.as_slice();
    let mut best = start;
    let mut best_cost = f64::INFINITY;
    let mut evaluations = 0;
    for _ in 0..RESTARTS {
        let (params, cost, n) = simplex_search(data, best, free, max_iters);
        evaluations += n;
        let improved = cost < best_cost * 0.99;
        if cost < best_cost {
            (best, best_cost) = (params, cost);
        }
        if !improved {
            break;
        }
    }
    (best, evaluations)
}

/// Simplex searches at most, each from the best point of the one before.
const RESTARTS: usize = 4;

/// One Nelder–Mead search from `start`: its best parameters, their objective, and the
/// evaluations spent.
fn simplex_search(
    data: &Dataset,
    start: ServerParams,
    free: &[Field],
    max_iters: u64,
) -> (ServerParams, f64, u64) {
    if free.is_empty() {
        return (start, data.evaluate(&start).objective, 1);
    }
    let x0: Vec<f64> = free.iter().map(|f| f.get(&start).ln()).collect();
    // The first simplex: the start and one vertex per field, that field ×e^0.7 (≈ 2×).
    let simplex: Vec<Vec<f64>> = std::iter::once(x0.clone())
        .chain((0..x0.len()).map(|i| {
            let mut v = x0.clone();
            v[i] += 0.7;
            v
        }))
        .collect();
    let evaluations = AtomicU64::new(0);
    let objective = Objective {
        data,
        base: start,
        free,
        evaluations: &evaluations,
    };
    let solver = NelderMead::new(simplex)
        .with_sd_tolerance(1e-7)
        .expect("a positive tolerance");
    let result = Executor::new(objective, solver)
        .configure(|state| state.max_iters(max_iters))
        .run()
        .expect("the objective never fails");
    let state = result.state();
    let cost = state.get_best_cost();
    let best = state.get_best_param().cloned().unwrap_or(x0);
    let params = result.problem().problem.as_ref().map(|o| o.params(&best));
    (
        params.unwrap_or(start),
        cost,
        evaluations.load(Ordering::Relaxed),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibrate::measured::{Load, Point, PointRequests};

    fn closed_point(concurrency: u32) -> Point {
        Point {
            line: 2,
            load: Load::Closed { concurrency },
            requests: PointRequests::Fixed {
                input_tokens: 512,
                output_tokens: 32,
                count: Some(8),
            },
            ttft_ms: 60.0,
            tpot_ms: 12.0,
            e2e_ms: None,
        }
    }

    /// A fit tries vLLM's two token budgets with its larger sequence limit (or the pinned
    /// values), and the smaller limit only where some point goes beyond it: within 256
    /// clients the data cannot tell the two apart, and the larger queues no client of a
    /// held-out point at 512.
    #[test]
    fn the_smaller_sequence_limit_is_tried_only_where_a_point_goes_beyond_it() {
        assert_eq!(
            candidate_limits(None, None, None),
            [(1_024, 8_192), (1_024, 2_048)]
        );
        assert_eq!(
            candidate_limits(Some(64.0), None, None),
            [(64, 8_192), (64, 2_048)]
        );
        assert_eq!(
            candidate_limits(None, Some(4_096.0), None),
            [(1_024, 4_096)]
        );
        let data = |concurrencies: &[u32]| Dataset {
            points: concurrencies.iter().map(|&c| closed_point(c)).collect(),
            ..Dataset::default()
        };
        assert_eq!(
            smaller_sequence_limit(&data(&[4, 64, 256]), None, None),
            None
        );
        assert_eq!(
            smaller_sequence_limit(&data(&[4, 512]), None, None),
            Some(256)
        );
        assert_eq!(
            smaller_sequence_limit(&data(&[4, 512]), Some(300.0), None),
            None
        );
        // An open-loop point could have held any number of requests.
        let mut open = data(&[4]);
        open.points[0].load = Load::Open { rate: 2.0 };
        assert_eq!(smaller_sequence_limit(&open, None, None), Some(256));
    }

    /// A fit that found no spread better than none goes on with the others and keeps it at
    /// 0: never a NaN from the logarithm of 0 (which `server.yaml` could not hold).
    #[test]
    fn a_field_at_zero_stays_at_zero_and_the_others_are_fitted() {
        let point = closed_point(4);
        let data = Dataset {
            points: vec![point],
            ..Dataset::default()
        };
        let start = ServerParams {
            max_num_seqs: 16,
            max_num_batched_tokens: 2_048,
            kv_cache_tokens: UNBOUNDED_KV,
            base_ms: 5.0,
            per_prefill_token_ms: 0.05,
            prefill_attention_ms: 0.0,
            per_decode_seq_ms: 0.1,
            per_context_token_ms: 0.0,
            request_overhead_ms: 5.0,
            request_overhead_spread_ms: 0.0,
            decode_saturation_seqs: 0.0,
        };
        let free = [Field::BaseMs, Field::RequestOverheadSpreadMs];
        let (fitted, _) = minimise(&data, start, &free, 200);
        assert_eq!(fitted.request_overhead_spread_ms, 0.0);
        assert!(fitted.base_ms.is_finite() && fitted.base_ms != start.base_ms);
        assert!(data.evaluate(&fitted).objective < data.evaluate(&start).objective);
    }
}
