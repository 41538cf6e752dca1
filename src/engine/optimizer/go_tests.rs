//! Kthena's unit tests of the heterogeneous optimizer (`pkg/autoscaler/autoscaler/
//! optimizer_test.go`, volcano-sh/kthena revisions 768013f4 and 00d9c98b), translated case by
//! case, plus property tests of the split.
//!
//! The target key is an input of `OptimizerMeta::new` here (the controller computes it), so the
//! restore table is run with HEAD's `namespace/name` keys (revision 00d9c98b spells them out)
//! and with v0.4.0's bare `name` keys (revision 768013f4 and the binding-era revision spell
//! those out); the split itself is the same code at both versions (docs/engine.md §11, §13.4 G5).
//!
//! Not ported:
//! * `TestNewOptimizerMeta/nil when HeterogeneousTarget unset` — `OptimizerMeta::new` takes a
//!   `&HeterogeneousTarget`, so the absent case cannot be expressed;
//! * `TestNewOptimizerMeta/scope (namespace + UID) inherited from policy` — the scope is not
//!   part of this engine's `OptimizerMeta`;
//! * `TestHeterogeneousTargetKey`, `TestHeterogeneousTargetsWithSameNameAcrossNamespaces` —
//!   the key function and the collector map belong to the controller, not to this file's API;
//! * `TestOptimizeRecordsRawRecommendationInStabilizationWindows` and
//!   `TestOptimizePanicModeEmptyBehaviorRegression` (revision 00d9c98b) — whole `Optimize`
//!   cycles against an HTTP Prometheus stub, and the first asserts the post-HEAD fix #1644
//!   (raw recommendation recorded), which contradicts docs/engine.md §13.4 G4;
//! * `TestExternalMetricAggregation` / `TestAverageExternalMetric` of a binding-era revision
//!   (`NewOptimizerMeta(binding)`): a different aggregation design (weighted *sum*, `_perc`
//!   and `_percentage` suffixes) that is neither v0.4.0 (no external metrics) nor HEAD
//!   (docs/engine.md §7.5).

use super::*;
use crate::engine::policy::{HeterogeneousParam, ObjectReference, Target};
use crate::engine::EngineVersion;
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// isRatioMetric
// ---------------------------------------------------------------------------------------------

#[test]
fn is_ratio_metric_cases() {
    let ratio = [
        "gpu_utilization",
        "cpu_utilization",
        "memory_utilization",
        "cache_usage",
        "disk_usage",
        "fill_ratio",
        "load_percent",
        "queue_saturation",
        // Mixed-case and uppercase Prometheus metric names must also be detected.
        "GPU_utilization",
        "CPU_UTILIZATION",
        "Cache_Usage",
    ];
    for name in ratio {
        assert!(
            is_ratio_metric(name),
            "expected {name:?} to be a ratio metric"
        );
    }
    let additive = [
        "queue_length",
        "request_count",
        "token_rate",
        "request_rate",
        "throughput_rate",
        "pending_requests",
        "gpu_utilization_rate", // the "_rate" suffix wins over the inner "_utilization"
    ];
    for name in additive {
        assert!(
            !is_ratio_metric(name),
            "expected {name:?} to be an additive metric"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// aggregateExternalSamples
// ---------------------------------------------------------------------------------------------

/// Go's `aggregateExternalSamples(name, samples)` through the engine's per-name aggregation.
fn aggregate(name: &str, samples: &[(f64, i32)]) -> f64 {
    let input = BTreeMap::from([(name.to_string(), samples.to_vec())]);
    aggregate_external(&input)[name]
}

fn assert_in_delta(got: f64, want: f64, go_name: &str) {
    assert!(
        (got - want).abs() <= 1e-9,
        "{go_name}: got {got}, want {want}"
    );
}

#[test]
fn aggregate_external_samples_additive() {
    assert_eq!(
        aggregate("queue_length", &[(100.0, 3), (200.0, 1)]),
        300.0,
        "additive metrics must be summed"
    );
}

#[test]
fn aggregate_external_samples_additive_rate_not_average() {
    assert_eq!(aggregate("request_rate", &[(50.0, 2), (70.0, 2)]), 120.0);
}

#[test]
fn aggregate_external_samples_ratio_weighted_average() {
    let got = aggregate("gpu_utilization", &[(60.0, 3), (70.0, 1)]);
    assert_in_delta(
        got,
        62.5,
        "TestAggregateExternalSamples_RatioWeightedAverage",
    );
}

#[test]
fn aggregate_external_samples_ratio_equal_replicas() {
    let got = aggregate("memory_utilization", &[(60.0, 2), (70.0, 2)]);
    assert_in_delta(got, 65.0, "TestAggregateExternalSamples_RatioEqualReplicas");
}

#[test]
fn aggregate_external_samples_ratio_heterogeneous_weights() {
    let got = aggregate("gpu_utilization", &[(60.0, 4), (70.0, 6)]);
    assert_in_delta(
        got,
        66.0,
        "TestAggregateExternalSamples_RatioHeterogeneousWeights",
    );
    assert!(got < 100.0, "ratio metric must never exceed 100%");
}

#[test]
fn aggregate_external_samples_ratio_zero_replicas_fallback() {
    let got = aggregate("cache_usage", &[(60.0, 0), (80.0, 0)]);
    assert_in_delta(
        got,
        70.0,
        "TestAggregateExternalSamples_RatioZeroReplicasFallback",
    );
}

#[test]
fn aggregate_external_samples_ratio_one_backend_zero_replicas() {
    let got = aggregate("gpu_utilization", &[(60.0, 0), (80.0, 5)]);
    assert_in_delta(
        got,
        80.0,
        "TestAggregateExternalSamples_RatioOneBackendZeroReplicas",
    );
}

#[test]
fn aggregate_external_samples_single_backend_additive() {
    assert_eq!(aggregate("pending_requests", &[(42.0, 3)]), 42.0);
}

#[test]
fn aggregate_external_samples_single_backend_ratio() {
    let got = aggregate("gpu_utilization", &[(75.0, 2)]);
    assert_in_delta(got, 75.0, "TestAggregateExternalSamples_SingleBackendRatio");
}

#[test]
fn aggregate_external_samples_backward_compat_additive() {
    assert_eq!(
        aggregate("queue_length", &[(10.0, 1), (20.0, 4), (30.0, 2)]),
        60.0
    );
}

// ---------------------------------------------------------------------------------------------
// NewOptimizerMeta / RestoreReplicasOfEachBackend
// ---------------------------------------------------------------------------------------------

/// Go's `makeParam(name, cost, min, max)`, with an optional target namespace.
fn param(namespace: &str, name: &str, cost: i32, min: i32, max: i32) -> HeterogeneousParam {
    HeterogeneousParam {
        target: Some(Target {
            target_ref: ObjectReference {
                name: name.to_string(),
                namespace: namespace.to_string(),
                ..ObjectReference::default()
            },
            ..Target::default()
        }),
        cost,
        min_replicas: min,
        max_replicas: max,
    }
}

fn make_param(name: &str, cost: i32, min: i32, max: i32) -> HeterogeneousParam {
    param("", name, cost, min, max)
}

/// docs/engine.md §6.5 `targetKey`: HEAD `(ref.namespace or policy namespace)/name`, v0.4.0 `name`.
fn target_key(version: EngineVersion, policy_namespace: &str, p: &HeterogeneousParam) -> String {
    let r = &p.target.as_ref().expect("target").target_ref;
    match version {
        EngineVersion::V0_4 => r.name.clone(),
        EngineVersion::Head => {
            let ns = if r.namespace.is_empty() {
                policy_namespace
            } else {
                &r.namespace
            };
            format!("{ns}/{}", r.name)
        }
    }
}

/// Go's `NewOptimizerMeta(makePolicy(uid, namespace, rate, params))`.
fn make_meta(
    version: EngineVersion,
    namespace: &str,
    rate: i32,
    params: Vec<HeterogeneousParam>,
) -> OptimizerMeta {
    let keys: Vec<String> = params
        .iter()
        .map(|p| target_key(version, namespace, p))
        .collect();
    let target = HeterogeneousTarget {
        cost_expansion_rate_percent: rate,
        params,
    };
    OptimizerMeta::new(&target, &keys)
}

#[test]
fn new_optimizer_meta_min_max_replica_aggregation_across_backends() {
    let meta = make_meta(
        EngineVersion::Head,
        "ns-1",
        100,
        vec![make_param("h100", 10, 2, 6), make_param("a100", 5, 1, 4)],
    );
    assert_eq!(meta.sum_min, 3);
    assert_eq!(meta.sum_max, 10);
}

#[test]
fn new_optimizer_meta_zero_delta_backends_produce_no_blocks() {
    let meta = make_meta(
        EngineVersion::Head,
        "ns-1",
        100,
        vec![make_param("h100", 10, 5, 5)],
    );
    assert!(meta.blocks.is_empty(), "{:?}", meta.blocks);
}

#[test]
fn new_optimizer_meta_cost_expansion_rate_percent_100_single_block_per_backend() {
    let meta = make_meta(
        EngineVersion::Head,
        "ns-1",
        100,
        vec![make_param("h100", 10, 1, 4), make_param("a100", 5, 1, 3)],
    );
    assert_eq!(meta.blocks.len(), 2, "{:?}", meta.blocks);
}

#[test]
fn new_optimizer_meta_scaling_order_sorted_cheapest_first() {
    let meta = make_meta(
        EngineVersion::Head,
        "ns-1",
        100,
        vec![make_param("h100", 10, 1, 4), make_param("a100", 5, 1, 3)],
    );
    assert!(meta.blocks.len() >= 2, "{:?}", meta.blocks);
    assert!(
        meta.blocks[0].cost <= meta.blocks[1].cost,
        "{:?}",
        meta.blocks
    );
}

#[test]
fn new_optimizer_meta_cost_expansion_rate_percent_not_100_geometric_multi_block_splitting() {
    let meta = make_meta(
        EngineVersion::Head,
        "ns-1",
        50,
        vec![make_param("h100", 10, 1, 5)],
    );
    assert!(meta.blocks.len() > 1, "{:?}", meta.blocks);
}

struct RestoreCase {
    name: &'static str,
    params: Vec<HeterogeneousParam>,
    rate: i32,
    replicas: i32,
    /// Expected split by target name (namespace `ns` unless the param names one).
    want: Vec<(&'static str, &'static str, i32)>,
}

fn restore_cases() -> Vec<RestoreCase> {
    vec![
        RestoreCase {
            name: "cheaper backend fills first, spills to next",
            params: vec![make_param("h100", 10, 1, 4), make_param("a100", 5, 1, 3)],
            rate: 100,
            replicas: 5,
            want: vec![("", "a100", 3), ("", "h100", 2)],
        },
        RestoreCase {
            name: "clamping below min",
            params: vec![make_param("h100", 10, 2, 5)],
            rate: 100,
            replicas: 0,
            want: vec![("", "h100", 2)],
        },
        RestoreCase {
            name: "clamping above max",
            params: vec![make_param("h100", 10, 1, 3)],
            rate: 100,
            replicas: 999,
            want: vec![("", "h100", 3)],
        },
        RestoreCase {
            name: "single-backend full range sweep",
            params: vec![make_param("h100", 10, 1, 4)],
            rate: 100,
            replicas: 4,
            want: vec![("", "h100", 4)],
        },
        // HEAD only (revision 00d9c98b): at v0.4.0 both params share the key "llama".
        RestoreCase {
            name: "same target name in different namespaces remains distinct",
            params: vec![
                param("team-a", "llama", 100, 1, 3),
                param("team-b", "llama", 60, 2, 5),
            ],
            rate: 100,
            replicas: 8,
            want: vec![("team-a", "llama", 3), ("team-b", "llama", 5)],
        },
    ]
}

fn check_restore(version: EngineVersion, case: RestoreCase) {
    let meta = make_meta(version, "ns", case.rate, case.params);
    let got: BTreeMap<String, i32> = meta.restore(case.replicas).into_iter().collect();
    let want: BTreeMap<String, i32> = case
        .want
        .iter()
        .map(|&(ns, name, n)| {
            let key = match version {
                EngineVersion::V0_4 => name.to_string(),
                EngineVersion::Head => format!("{}/{name}", if ns.is_empty() { "ns" } else { ns }),
            };
            (key, n)
        })
        .collect();
    assert_eq!(got, want, "{} ({version})", case.name);
}

/// `TestRestoreReplicasOfEachBackend` with HEAD keys (`ns/h100`, `team-a/llama`, …).
#[test]
fn restore_replicas_of_each_backend_head() {
    for case in restore_cases() {
        check_restore(EngineVersion::Head, case);
    }
}

/// `TestRestoreReplicasOfEachBackend` with v0.4.0 keys (`h100`, `a100`): the four cases of the
/// revisions that key by name.
#[test]
fn restore_replicas_of_each_backend_v0_4() {
    for case in restore_cases().into_iter().take(4) {
        check_restore(EngineVersion::V0_4, case);
    }
}

// ---------------------------------------------------------------------------------------------
// Property tests
// ---------------------------------------------------------------------------------------------

/// Up to six params with distinct keys and valid bounds (`min <= max`).
fn arb_params() -> impl Strategy<Value = Vec<HeterogeneousParam>> {
    prop::collection::vec((0i32..100, 0i32..20, 0i32..30), 1..7).prop_map(|ps| {
        ps.into_iter()
            .enumerate()
            .map(|(i, (cost, min, extra))| param("ns", &format!("t{i}"), cost, min, min + extra))
            .collect()
    })
}

/// The cheapest-first fill one replica at a time, ties to the lower param index.
fn greedy(params: &[HeterogeneousParam], total: i32) -> Vec<i32> {
    let sum_min: i32 = params.iter().map(|p| p.min_replicas).sum();
    let sum_max: i32 = params.iter().map(|p| p.max_replicas).sum();
    let mut out: Vec<i32> = params.iter().map(|p| p.min_replicas).collect();
    let mut left = total.max(sum_min).min(sum_max) - sum_min;
    let mut order: Vec<usize> = (0..params.len()).collect();
    order.sort_by_key(|&i| (params[i].cost, i));
    for i in order {
        let take = left.min(params[i].max_replicas - params[i].min_replicas);
        out[i] += take;
        left -= take;
    }
    out
}

proptest! {
    /// For valid bounds, any rate in 0..400 and any total, the split sums to
    /// `clamp(total, sumMin, sumMax)` and gives every param a count within its `[min, max]`.
    #[test]
    fn split_sums_to_clamped_total_and_respects_each_range(
        params in arb_params(),
        rate in 0i32..400,
        total_offset in -10i32..300,
    ) {
        let sum_min: i32 = params.iter().map(|p| p.min_replicas).sum();
        let sum_max: i32 = params.iter().map(|p| p.max_replicas).sum();
        let total = total_offset;
        let meta = make_meta(EngineVersion::Head, "ns", rate, params.clone());
        prop_assert_eq!((meta.sum_min, meta.sum_max), (sum_min, sum_max));
        let split = meta.restore(total);
        prop_assert_eq!(split.len(), params.len());
        let sum: i32 = split.iter().map(|(_, n)| n).sum();
        prop_assert_eq!(sum, total.max(sum_min).min(sum_max));
        for ((key, n), p) in split.iter().zip(&params) {
            prop_assert!(p.min_replicas <= *n && *n <= p.max_replicas,
                "{} = {} outside [{}, {}]", key, n, p.min_replicas, p.max_replicas);
        }
    }

    /// docs/engine.md §11: any rate <= 100 (including 0) is a pure cheapest-first fill with ties to
    /// the lower param index.
    #[test]
    fn rate_up_to_100_is_cheapest_first_fill(
        params in arb_params(),
        rate in 0i32..=100,
        total in -10i32..300,
    ) {
        let meta = make_meta(EngineVersion::Head, "ns", rate, params.clone());
        let got: Vec<i32> = meta.restore(total).into_iter().map(|(_, n)| n).collect();
        prop_assert_eq!(got, greedy(&params, total));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Admissible extremes — costs up to `i32::MAX`, bounds up to the CRD's 1 000 000, any
    /// expansion rate from 100 up and any total — build and split without an overflow panic
    /// (tests run with overflow checks), and the split still sums to the clamped total.
    #[test]
    fn extreme_costs_bounds_and_totals_never_overflow(
        ps in prop::collection::vec((0i32..=i32::MAX, 0i32..=1_000_000, 0i32..=1_000_000), 1..5),
        rate in 100i32..=i32::MAX,
        total in i32::MIN..=i32::MAX,
    ) {
        let params: Vec<HeterogeneousParam> = ps
            .iter()
            .enumerate()
            .map(|(i, &(cost, a, b))| param("ns", &format!("t{i}"), cost, a.min(b), a.max(b)))
            .collect();
        let meta = make_meta(EngineVersion::Head, "ns", rate, params);
        let split = meta.restore(total);
        let sum: i64 = split.iter().map(|(_, n)| i64::from(*n)).sum();
        let clamped = i64::from(total).clamp(i64::from(meta.sum_min), i64::from(meta.sum_max));
        prop_assert_eq!(sum, clamped);
    }
}
