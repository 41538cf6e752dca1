//! Kthena's own unit-test table for the recommendation (`TestGetRecommendedInstances` in
//! `pkg/autoscaler/algorithm/recommendation_test.go`), translated case by case. The 26 shared
//! cases are identical in every stored revision of the Go file (the matrixinfer-ai original
//! and the volcano-sh versions); the recommendation code is the same at v0.4.0 and HEAD
//! (docs/engine.md §8), so each case holds for both engine versions.
//!
//! Not ported (they need inputs that exist only after HEAD, so they cannot be expressed with
//! this engine's `RecommendationInput`):
//! * `givenAggregatedMetrics_whenBackendMetricMissing_thenWeightByReplicaCount` (volcano-sh
//!   commit 7af50b81, field `ReadyInstancesCounts`);
//! * `givenReporterCounts_whenSomeInstancesDoNotReport_thenWeightMissingInstances` (commit
//!   0250f2c7, fields `MetricReporterCounts` / `MetricUnreadyCounts`).
//!
//! Long because it is an upstream table, kept whole and in its order.

use super::*;

/// One Go test case. `ready` mirrors Go's `[]Metrics`: an empty map `{}` is a unit that
/// reports no value for the metric (a "missing" instance), never a nil entry.
struct Case {
    min: i32,
    max: i32,
    current: i32,
    tolerance: f64,
    targets: Vec<(&'static str, f64)>,
    unready: i32,
    ready: Vec<Option<Metrics>>,
    external: Metrics,
    /// Go's `expectedRecommended`, or `None` for `expectedSkip: true` (Go returns 0 then).
    expected: Option<i32>,
}

fn metrics(pairs: &[(&str, f64)]) -> Metrics {
    pairs.iter().map(|&(k, v)| (k.to_string(), v)).collect()
}

/// `slices.Repeat([]Metrics{m}, n)`.
fn repeat(pairs: &[(&str, f64)], n: usize) -> Vec<Option<Metrics>> {
    vec![Some(metrics(pairs)); n]
}

fn check(go_name: &str, c: Case) {
    let targets: Vec<(String, f64)> = c.targets.iter().map(|&(k, v)| (k.to_string(), v)).collect();
    let got = RecommendationInput {
        min_instances: c.min,
        max_instances: c.max,
        current_instances: c.current,
        tolerance: c.tolerance,
        metric_targets: &targets,
        unready_instances: c.unready,
        ready_instances_metrics: &c.ready,
        external_metrics: &c.external,
    }
    .get_recommended_instances();
    // Go returns (recommended, skip); a skip carries recommended = 0.
    let go_shape = (got.value().unwrap_or(0), got == Recommendation::Skip);
    let want = (c.expected.unwrap_or(0), c.expected.is_none());
    assert_eq!(go_shape, want, "{go_name}: got {got:?}");
}

#[test]
fn given_instances_less_than_min_instances_then_return_min_instances() {
    check(
        "givenInstancesLessThanMinInstances_thenReturnMinInstances",
        Case {
            min: 5,
            max: 10,
            current: 4,
            tolerance: 0.1,
            targets: vec![],
            unready: 4,
            ready: vec![],
            external: Metrics::new(),
            expected: Some(5),
        },
    );
}

#[test]
fn given_instances_greater_than_max_instances_then_return_max_instances() {
    check(
        "givenInstancesGreaterThanMaxInstances_thenReturnMaxInstances",
        Case {
            min: 5,
            max: 10,
            current: 11,
            tolerance: 0.1,
            targets: vec![],
            unready: 0,
            ready: vec![],
            external: Metrics::new(),
            expected: Some(10),
        },
    );
}

#[test]
fn given_no_available_metrics_then_skip() {
    check(
        "givenNoAvailableMetrics_thenSkip",
        Case {
            min: 5,
            max: 10,
            current: 7,
            tolerance: 0.1,
            targets: vec![("a", 0.5), ("b", 8.0)],
            unready: 7,
            ready: vec![],
            external: Metrics::new(),
            expected: None,
        },
    );
}

#[test]
fn given_multiple_metrics_then_return_maximum_recommendation() {
    check(
        "givenMultipleMetrics_thenReturnMaximumRecommendation",
        Case {
            min: 1,
            max: 1_000_000,
            current: 3,
            tolerance: 0.0,
            targets: vec![("a", 3.0), ("b", 5.0), ("c", 4.0)],
            unready: 0,
            ready: repeat(&[("a", 6.0), ("b", 500.0), ("c", 20.0)], 3),
            external: Metrics::new(),
            expected: Some(300),
        },
    );
}

#[test]
fn given_target_with_zero_value_then_return_maximum_instances() {
    check(
        "givenTargetWithZeroValue_thenReturnMaximumInstances",
        Case {
            min: 1,
            max: 100,
            current: 1,
            tolerance: 0.0,
            targets: vec![("a", 0.0)],
            unready: 0,
            ready: repeat(&[("a", 1.0)], 1),
            external: Metrics::new(),
            expected: Some(100),
        },
    );
}

#[test]
fn given_target_with_extremely_small_value_then_return_maximum_instances() {
    check(
        "givenTargetWithExtremelySmallValue_thenReturnMaximumInstances",
        Case {
            min: 1,
            max: 100,
            current: 1,
            tolerance: 0.0,
            targets: vec![("a", 1e-100)],
            unready: 0,
            ready: repeat(&[("a", 1e100)], 1),
            external: Metrics::new(),
            expected: Some(100),
        },
    );
}

#[test]
fn given_ready_instances_should_calculate_average() {
    check(
        "givenReadyInstances_shouldCalculateAverage",
        Case {
            min: 1,
            max: 100,
            current: 3,
            tolerance: 0.0,
            targets: vec![("a", 1.0)],
            unready: 0,
            ready: vec![
                Some(metrics(&[("a", 19.1)])),
                Some(metrics(&[("a", 3.1)])),
                Some(metrics(&[("a", 7.1)])),
            ],
            external: Metrics::new(),
            expected: Some(30),
        },
    );
}

#[test]
fn when_desired_is_less_than_min_instances_then_return_min_instances() {
    check(
        "whenDesiredIsLessThanMinInstances_thenReturnMinInstances",
        Case {
            min: 5,
            max: 20,
            current: 10,
            tolerance: 0.0,
            targets: vec![("a", 1.0)],
            unready: 0,
            ready: repeat(&[("a", 0.1)], 10),
            external: Metrics::new(),
            expected: Some(5),
        },
    );
}

#[test]
fn when_desired_is_greater_than_max_instances_then_return_max_instances() {
    check(
        "whenDesiredIsGreaterThanMaxInstances_thenReturnMaxInstances",
        Case {
            min: 5,
            max: 20,
            current: 10,
            tolerance: 0.0,
            targets: vec![("a", 1.0)],
            unready: 0,
            ready: repeat(&[("a", 3.0)], 10),
            external: Metrics::new(),
            expected: Some(20),
        },
    );
}

/// The four `givenNoUnreadyInstancesAndNoMissingInstances_*` cases: 10 ready units with the
/// same value, current 9, tolerance 0.5.
fn no_unready_no_missing(go_name: &str, value: f64, expected: i32) {
    check(
        go_name,
        Case {
            min: 1,
            max: 100,
            current: 9,
            tolerance: 0.5,
            targets: vec![("a", 1.0)],
            unready: 0,
            ready: repeat(&[("a", value)], 10),
            external: Metrics::new(),
            expected: Some(expected),
        },
    );
}

#[test]
fn given_no_unready_instances_and_no_missing_instances_when_within_lowest_tolerance_then_return_current(
) {
    no_unready_no_missing(
        "givenNoUnreadyInstancesAndNoMissingInstances_whenWithinLowestTolerance_thenReturnCurrent",
        0.51,
        9,
    );
}

#[test]
fn given_no_unready_instances_and_no_missing_instances_when_out_of_lowest_tolerance_then_return_desired(
) {
    no_unready_no_missing(
        "givenNoUnreadyInstancesAndNoMissingInstances_whenOutOfLowestTolerance_thenReturnDesired",
        0.49,
        5,
    );
}

#[test]
fn given_no_unready_instances_and_no_missing_instances_when_within_highest_tolerance_then_return_current(
) {
    no_unready_no_missing(
        "givenNoUnreadyInstancesAndNoMissingInstances_whenWithinHighestTolerance_thenReturnCurrent",
        1.49,
        9,
    );
}

#[test]
fn given_no_unready_instances_and_no_missing_instances_when_out_of_highest_tolerance_then_return_desired(
) {
    no_unready_no_missing(
        "givenNoUnreadyInstancesAndNoMissingInstances_whenOutOfHighestTolerance_thenReturnDesired",
        1.51,
        16,
    );
}

#[test]
fn given_unready_instances_when_should_scale_down_then_ignore_unready_instances() {
    check(
        "givenUnreadyInstances_whenShouldScaleDown_thenIgnoreUnreadyInstances",
        Case {
            min: 1,
            max: 100,
            current: 58,
            tolerance: 0.0,
            targets: vec![("a", 1.0)],
            unready: 50,
            ready: repeat(&[("a", 0.15)], 8),
            external: Metrics::new(),
            expected: Some(2),
        },
    );
}

#[test]
fn given_unready_instances_when_should_scale_up_then_threat_unready_instances_as_zero() {
    check(
        "givenUnreadyInstances_whenShouldScaleUp_thenThreatUnreadyInstancesAsZero",
        Case {
            min: 1,
            max: 100,
            current: 18,
            tolerance: 0.0,
            targets: vec![("a", 1.0)],
            unready: 10,
            ready: repeat(&[("a", 3.9)], 8),
            external: Metrics::new(),
            expected: Some(32),
        },
    );
}

#[test]
fn given_too_many_unready_instances_when_estimated_result_is_opposite_then_return_current() {
    check(
        "givenTooManyUnreadyInstances_whenEstimatedResultIsOpposite_thenReturnCurrent",
        Case {
            min: 1,
            max: 100,
            current: 58,
            tolerance: 0.0,
            targets: vec![("a", 1.0)],
            unready: 50,
            ready: repeat(&[("a", 3.9)], 8),
            external: Metrics::new(),
            expected: Some(58),
        },
    );
}

/// From a revision newer than HEAD (volcano-sh commit 0250f2c7, which added reporter counts);
/// with no reporter counts it exercises the collector's one-summed-map shape (docs/engine.md §8.3,
/// §14 item 2) and holds for both engine versions.
#[test]
fn given_no_reporter_counts_when_aggregated_metric_exceeds_tolerance_then_scale_up() {
    check(
        "givenNoReporterCounts_whenAggregatedMetricExceedsTolerance_thenScaleUp",
        Case {
            min: 2,
            max: 20,
            current: 10,
            tolerance: 0.1,
            targets: vec![("a", 10.0)],
            unready: 0,
            ready: repeat(&[("a", 105.0)], 1),
            external: Metrics::new(),
            expected: Some(11),
        },
    );
}

/// `slices.Concat(slices.Repeat([]Metrics{{}}, missing), slices.Repeat([]Metrics{{"a": v}}, 8))`.
fn with_missing(missing: usize, value: f64) -> Vec<Option<Metrics>> {
    let mut v = vec![Some(Metrics::new()); missing];
    v.extend(repeat(&[("a", value)], 8));
    v
}

fn missing_case(go_name: &str, current: i32, missing: usize, value: f64, expected: i32) {
    check(
        go_name,
        Case {
            min: 1,
            max: 100,
            current,
            tolerance: 0.0,
            targets: vec![("a", 1.0)],
            unready: 0,
            ready: with_missing(missing, value),
            external: Metrics::new(),
            expected: Some(expected),
        },
    );
}

#[test]
fn given_missing_instances_when_should_scale_down_then_treat_missing_instances_as_target() {
    missing_case(
        "givenMissingInstances_whenShouldScaleDown_thenTreatMissingInstancesAsTarget",
        10,
        2,
        0.5,
        6,
    );
}

#[test]
fn given_missing_instances_when_should_scale_up_then_treat_missing_instances_as_zero() {
    missing_case(
        "givenMissingInstances_whenShouldScaleUp_thenTreatMissingInstancesAsZero",
        10,
        2,
        2.9,
        24,
    );
}

#[test]
fn given_too_many_missing_instances_when_estimated_result_is_opposite_then_return_current() {
    missing_case(
        "givenTooManyMissingInstances_whenEstimatedResultIsOpposite_thenReturnCurrent",
        58,
        50,
        2.9,
        58,
    );
}

#[test]
fn given_too_many_non_existing_instances_when_estimated_result_is_opposite_then_return_current() {
    missing_case(
        "givenTooManyNonExistingInstances_whenEstimatedResultIsOpposite_thenReturnCurrent",
        58,
        4,
        2.9,
        58,
    );
}

/// The `givenExternal*` cases: no ready maps, the metric comes from `ExternalMetrics`.
fn external_case(
    go_name: &str,
    current: i32,
    tolerance: f64,
    target: f64,
    value: f64,
    expected: i32,
) {
    check(
        go_name,
        Case {
            min: 1,
            max: 100,
            current,
            tolerance,
            targets: vec![("a", target)],
            unready: 0,
            ready: vec![],
            external: metrics(&[("a", value)]),
            expected: Some(expected),
        },
    );
}

#[test]
fn given_external_metric_when_within_lowest_tolerance_then_return_current() {
    external_case(
        "givenExternalMetric_whenWithinLowestTolerance_thenReturnCurrent",
        10,
        0.51,
        3.0,
        14.9,
        10,
    );
}

#[test]
fn given_external_metric_when_out_of_lowest_tolerance_then_return_desired() {
    external_case(
        "givenExternalMetric_whenOutOfLowestTolerance_thenReturnDesired",
        10,
        0.49,
        3.0,
        14.9,
        5,
    );
}

#[test]
fn given_external_metric_when_within_highest_tolerance_then_return_current() {
    external_case(
        "givenExternalMetric_whenWithinHighestTolerance_thenReturnCurrent",
        10,
        0.51,
        3.0,
        44.9,
        10,
    );
}

#[test]
fn given_external_metric_when_out_of_highest_tolerance_then_return_desired() {
    external_case(
        "givenExternalMetric_whenOutOfHighestTolerance_thenReturnDesired",
        10,
        0.49,
        3.0,
        44.9,
        15,
    );
}

#[test]
fn given_external_target_with_zero_value_then_return_maximum_instances() {
    external_case(
        "givenExternalTargetWithZeroValue_thenReturnMaximumInstances",
        1,
        0.0,
        0.0,
        1.0,
        100,
    );
}

#[test]
fn given_external_target_with_extremely_small_value_then_return_maximum_instances() {
    external_case(
        "givenExternalTargetWithExtremelySmallValue_thenReturnMaximumInstances",
        1,
        0.0,
        1e-100,
        1e100,
        100,
    );
}

/// Beyond Go's table: extreme values give Go's results without a panic. A metric of 1e308
/// per pod against a target of 1e-300 is an infinite ratio, capped by `ceilDesired` at 1e9
/// (below `maxReplicas = i32::MAX`); i32::MAX unready instances wrap the int32 count
/// negative, which flips the direction, so the current count is kept.
#[test]
fn extreme_values_give_go_results() {
    let huge = || Case {
        min: 1,
        max: i32::MAX,
        current: 1,
        tolerance: 0.1,
        targets: vec![("m", 1e-300)],
        unready: 0,
        ready: repeat(&[("m", 1e308)], 2),
        external: Metrics::new(),
        expected: Some(RECOMMENDATION_BOUND),
    };
    check("extreme: infinite ratio, pod metric", huge());
    check(
        "extreme: infinite ratio, external metric",
        Case {
            ready: vec![],
            external: metrics(&[("m", 1e308)]),
            ..huge()
        },
    );
    check(
        "extreme: unready count beyond int32",
        Case {
            targets: vec![("m", 1.0)],
            unready: i32::MAX,
            ready: repeat(&[("m", 10.0)], 1),
            expected: Some(1),
            ..huge()
        },
    );
}
