//! Kthena's unit-test table for the behaviour correction (`TestGetCorrectedInstances` in
//! `pkg/autoscaler/algorithm/revision_test.go`, volcano-sh/kthena), translated case by case,
//! plus property tests of the correction's invariants.
//!
//! The Go table builds the five history windows directly with a TTL of 1e15 ms ("never
//! expire"), `MaxCorrected` as a *maximum* window, so the v0.4.0 window-direction bug (G1,
//! which lives in `Status::new`) does not enter here; see `status_tests.rs` for that. Every
//! case is run at both engine versions; the two panic cases with a past sample of 0 differ at
//! v0.4.0 (G2) and carry their own v0.4.0 expectation.
//!
//! Provenance: the stored revisions 8acd7d1f, 2513a525 and one more with identical cases; the
//! two zero-sample panic cases and the nil-pointer case only appear in 2513a525.
//!
//! Not ported: "when stable scale down and unknown select policy then no constraint applied"
//! (expects 5) and "when stable scale up and unknown select policy then no constraint
//! applied" (expects 20). They set `SelectPolicy: "Unknown"`, which this engine's
//! `SelectPolicy` enum cannot represent (docs/engine.md §10.2: any other string means no limit).
//!
//! Long because it is an upstream table, kept whole and in its order.

use super::*;
use crate::engine::policy::{Behavior, Duration, PanicPolicy, ScaleUpBehavior, StablePolicy};
use crate::engine::sliding_window::Better;
use proptest::prelude::*;

/// Go's `neverExpireMs`.
const NEVER_EXPIRE_MS: i64 = 1_000_000_000_000_000;
/// 2025-01-01T09:00:00Z in epoch ms: the fixed clock of these tests.
const NOW: i64 = 1_735_722_000_000;

/// Go's `emptyHistory()`.
fn empty_history() -> History {
    History {
        max_recommendation: RecordWindow::new(NEVER_EXPIRE_MS, Better::Larger),
        min_recommendation: RecordWindow::new(NEVER_EXPIRE_MS, Better::Smaller),
        max_corrected: LineChartWindow::new(NEVER_EXPIRE_MS, Better::Larger),
        min_corrected_for_stable: LineChartWindow::new(NEVER_EXPIRE_MS, Better::Smaller),
        min_corrected_for_panic: LineChartWindow::new(NEVER_EXPIRE_MS, Better::Smaller),
    }
}

fn stable(instances: i32, percent: i32, select_policy: SelectPolicy) -> StablePolicy {
    StablePolicy {
        instances,
        percent,
        period: None,
        select_policy,
        stabilization_window: None,
    }
}

/// Go's `makeBehavior`: only the fields the correction reads; periods and windows unset
/// (the history is built directly).
fn make_behavior(
    scale_down_instances: i32,
    scale_down_percent: i32,
    scale_down_select: SelectPolicy,
    scale_up_instances: i32,
    scale_up_percent: i32,
    scale_up_select: SelectPolicy,
    panic_percent: i32,
) -> Behavior {
    Behavior {
        scale_down: stable(scale_down_instances, scale_down_percent, scale_down_select),
        scale_up: ScaleUpBehavior {
            stable_policy: stable(scale_up_instances, scale_up_percent, scale_up_select),
            panic_policy: PanicPolicy {
                percent: panic_percent,
                period: Duration::ZERO,
                panic_threshold_percent: None,
                panic_mode_hold: None,
            },
        },
    }
}

/// Which window the case pre-fills (Go's `h.X.Append(v)` before the call).
#[derive(Clone, Copy)]
enum Seed {
    None,
    MaxRecommendation(i32),
    MinRecommendation(i32),
    MaxCorrected(i32),
    MinCorrectedForStable(i32),
    MinCorrectedForPanic(i32),
}

struct Case {
    is_panic: bool,
    seed: Seed,
    behavior: Behavior,
    min: i32,
    max: i32,
    current: i32,
    recommended: i32,
}

fn corrected(c: &Case, version: EngineVersion) -> i32 {
    let mut h = empty_history();
    match c.seed {
        Seed::None => {}
        Seed::MaxRecommendation(v) => h.max_recommendation.append(NOW, v),
        Seed::MinRecommendation(v) => h.min_recommendation.append(NOW, v),
        Seed::MaxCorrected(v) => h.max_corrected.append(NOW, v),
        Seed::MinCorrectedForStable(v) => h.min_corrected_for_stable.append(NOW, v),
        Seed::MinCorrectedForPanic(v) => h.min_corrected_for_panic.append(NOW, v),
    }
    CorrectedInstancesAlgorithm {
        version,
        now: NOW,
        is_panic: c.is_panic,
        history: &mut h,
        behavior: &c.behavior,
        min_instances: c.min,
        max_instances: c.max,
        current_instances: c.current,
        recommended_instances: c.recommended,
    }
    .get_corrected_instances()
    .0
}

/// Runs the case at both engine versions, expecting the same result.
fn check(go_name: &str, c: Case, expected: i32) {
    check_versions(go_name, c, expected, expected);
}

fn check_versions(go_name: &str, c: Case, expected_head: i32, expected_v0_4: i32) {
    assert_eq!(
        corrected(&c, EngineVersion::Head),
        expected_head,
        "{go_name} (head)"
    );
    assert_eq!(
        corrected(&c, EngineVersion::V0_4),
        expected_v0_4,
        "{go_name} (v0.4)"
    );
}

use SelectPolicy::{And, Or};

#[test]
fn when_stable_and_recommended_equals_current_instances_then_return_current() {
    check(
        "when stable and recommended equals current instances then return current",
        Case {
            is_panic: false,
            seed: Seed::None,
            behavior: make_behavior(2, 20, Or, 2, 100, Or, 1000),
            min: 1,
            max: 20,
            current: 7,
            recommended: 7,
        },
        7,
    );
}

#[test]
fn when_stable_scale_down_and_select_policy_or_then_less_restrictive_constraint_applied() {
    check(
        "when stable scale down and select policy Or then less restrictive constraint applied",
        Case {
            is_panic: false,
            seed: Seed::None,
            behavior: make_behavior(1, 40, Or, 2, 100, Or, 1000),
            min: 1,
            max: 20,
            current: 10,
            recommended: 5,
        },
        6,
    );
}

#[test]
fn when_stable_scale_down_and_select_policy_and_then_more_restrictive_constraint_applied() {
    check(
        "when stable scale down and select policy And then more restrictive constraint applied",
        Case {
            is_panic: false,
            seed: Seed::None,
            behavior: make_behavior(1, 40, And, 2, 100, Or, 1000),
            min: 1,
            max: 20,
            current: 10,
            recommended: 5,
        },
        9,
    );
}

#[test]
fn when_stable_scale_down_and_max_recommendation_history_is_higher_then_better_recommendation_preferred(
) {
    check(
        "when stable scale down and max recommendation history is higher then better recommendation preferred",
        Case {
            is_panic: false,
            seed: Seed::MaxRecommendation(9),
            behavior: make_behavior(2, 20, Or, 2, 100, Or, 1000),
            min: 1,
            max: 20,
            current: 10,
            recommended: 5,
        },
        9,
    );
}

#[test]
fn when_stable_scale_down_and_max_corrected_history_is_larger_then_constraint_tightens() {
    check(
        "when stable scale down and max corrected history is larger then constraint tightens",
        Case {
            is_panic: false,
            seed: Seed::MaxCorrected(12),
            behavior: make_behavior(3, 25, Or, 2, 100, Or, 1000),
            min: 1,
            max: 20,
            current: 10,
            recommended: 3,
        },
        9,
    );
}

#[test]
fn when_stable_scale_up_and_select_policy_or_then_less_restrictive_constraint_applied() {
    check(
        "when stable scale up and select policy Or then less restrictive constraint applied",
        Case {
            is_panic: false,
            seed: Seed::None,
            behavior: make_behavior(2, 20, Or, 3, 100, Or, 1000),
            min: 1,
            max: 100,
            current: 5,
            recommended: 20,
        },
        10,
    );
}

#[test]
fn when_stable_scale_up_and_select_policy_and_then_more_restrictive_constraint_applied() {
    check(
        "when stable scale up and select policy And then more restrictive constraint applied",
        Case {
            is_panic: false,
            seed: Seed::None,
            behavior: make_behavior(2, 20, Or, 3, 100, And, 1000),
            min: 1,
            max: 100,
            current: 5,
            recommended: 20,
        },
        8,
    );
}

#[test]
fn when_stable_scale_up_and_min_recommendation_history_is_lower_then_better_recommendation_preferred(
) {
    check(
        "when stable scale up and min recommendation history is lower then better recommendation preferred",
        Case {
            is_panic: false,
            seed: Seed::MinRecommendation(12),
            behavior: make_behavior(2, 20, Or, 3, 100, Or, 1000),
            min: 1,
            max: 100,
            current: 5,
            recommended: 20,
        },
        10,
    );
}

#[test]
fn when_stable_scale_up_and_min_corrected_history_is_smaller_then_constraint_tightens() {
    check(
        "when stable scale up and min corrected history is smaller then constraint tightens",
        Case {
            is_panic: false,
            seed: Seed::MinCorrectedForStable(6),
            behavior: make_behavior(2, 20, Or, 2, 50, Or, 1000),
            min: 1,
            max: 100,
            current: 10,
            recommended: 50,
        },
        10,
    );
}

#[test]
fn when_panic_and_panic_percent_is_1000_then_constraint_does_not_limit_growth() {
    check(
        "when panic and panic percent is 1000 then constraint does not limit growth",
        Case {
            is_panic: true,
            seed: Seed::None,
            behavior: make_behavior(2, 20, Or, 2, 100, Or, 1000),
            min: 1,
            max: 100,
            current: 5,
            recommended: 15,
        },
        15,
    );
}

#[test]
fn when_panic_and_panic_percent_is_small_then_scale_up_rate_is_limited() {
    check(
        "when panic and panic percent is small then scale up rate is limited",
        Case {
            is_panic: true,
            seed: Seed::None,
            behavior: make_behavior(2, 20, Or, 2, 100, Or, 100),
            min: 1,
            max: 100,
            current: 5,
            recommended: 15,
        },
        10,
    );
}

#[test]
fn when_panic_and_min_corrected_history_is_smaller_then_constraint_tightens() {
    check(
        "when panic and min corrected history is smaller then constraint tightens",
        Case {
            is_panic: true,
            seed: Seed::MinCorrectedForPanic(6),
            behavior: make_behavior(2, 20, Or, 2, 100, Or, 100),
            min: 1,
            max: 100,
            current: 10,
            recommended: 30,
        },
        12,
    );
}

/// HEAD (revision 2513a525) expects 5: the `pastSample > 0` guard skips the panic limit.
/// v0.4.0 has no guard (docs/engine.md §13.4 G2): the empty window answers the current count 0,
/// the limit is `0 + 0·100/100 = 0`, so the panic cycle keeps 0.
#[test]
fn when_panic_and_current_instances_is_zero_then_percentage_floor_does_not_block_scale_up() {
    check_versions(
        "when panic and current instances is zero then percentage floor does not block scale up",
        Case {
            is_panic: true,
            seed: Seed::None,
            behavior: make_behavior(2, 20, Or, 2, 100, Or, 100),
            min: 0,
            max: 100,
            current: 0,
            recommended: 5,
        },
        5,
        0,
    );
}

/// As above, with an explicit past corrected 0 in `MinCorrectedForPanic`: HEAD (guard) 5,
/// v0.4.0 (no guard, G2) 0.
#[test]
fn when_panic_and_past_sample_is_zero_then_guard_skips_constraint_and_recommended_is_used() {
    check_versions(
        "when panic and past sample is zero then guard skips constraint and recommended is used",
        Case {
            is_panic: true,
            seed: Seed::MinCorrectedForPanic(0),
            behavior: make_behavior(2, 20, Or, 2, 100, Or, 100),
            min: 0,
            max: 100,
            current: 0,
            recommended: 5,
        },
        5,
        0,
    );
}

#[test]
fn when_panic_and_recommended_is_below_current_then_corrected_is_at_least_current() {
    check(
        "when panic and recommended is below current then corrected is at least current",
        Case {
            is_panic: true,
            seed: Seed::None,
            behavior: make_behavior(2, 20, Or, 2, 100, Or, 1000),
            min: 1,
            max: 100,
            current: 10,
            recommended: 3,
        },
        10,
    );
}

#[test]
fn when_corrected_is_below_min_instances_then_return_min_instances() {
    check(
        "when corrected is below min instances then return min instances",
        Case {
            is_panic: false,
            seed: Seed::None,
            behavior: make_behavior(2, 20, Or, 2, 100, Or, 1000),
            min: 8,
            max: 20,
            current: 5,
            recommended: 5,
        },
        8,
    );
}

#[test]
fn when_corrected_is_above_max_instances_then_return_max_instances() {
    check(
        "when corrected is above max instances then return max instances",
        Case {
            is_panic: false,
            seed: Seed::None,
            behavior: make_behavior(2, 20, Or, 2, 100, Or, 1000),
            min: 1,
            max: 10,
            current: 15,
            recommended: 15,
        },
        10,
    );
}

/// Revision 2513a525 (newer than HEAD) leaves `Instances`/`Percent` nil and substitutes the
/// CRD defaults (instances 1, percent 100) in the algorithm; HEAD and v0.4.0 would dereference
/// nil there. The engine's types carry no nil, so the case is ported with those defaults
/// written out: limit = min(10-1, 10-10·100/100) = 0, corrected = max(5, 0) = 5.
#[test]
fn when_stable_scale_down_and_behavior_pointers_are_nil_then_crd_defaults_are_used_without_panic() {
    check(
        "when stable scale down and behavior pointers are nil then CRD defaults are used without panic",
        Case {
            is_panic: false,
            seed: Seed::None,
            behavior: make_behavior(1, 100, Or, 1, 100, Or, 1000),
            min: 1,
            max: 20,
            current: 10,
            recommended: 5,
        },
        5,
    );
}

// ---------------------------------------------------------------------------------------------
// Property tests
// ---------------------------------------------------------------------------------------------

fn clamp(v: i32, lo: i32, hi: i32) -> i32 {
    v.max(lo).min(hi)
}

pub(crate) fn arb_duration() -> impl Strategy<Value = Option<Duration>> {
    prop::sample::select(vec![
        None,
        Some(0i64),
        Some(15_000),
        Some(60_000),
        Some(300_000),
    ])
    .prop_map(|ms| ms.map(Duration::from_millis))
}

pub(crate) fn arb_stable() -> impl Strategy<Value = StablePolicy> {
    (
        0i32..20,
        0i32..=1000,
        arb_duration(),
        prop::bool::ANY,
        arb_duration(),
    )
        .prop_map(|(instances, percent, period, or, window)| StablePolicy {
            instances,
            percent,
            period,
            select_policy: if or { Or } else { And },
            stabilization_window: window,
        })
}

pub(crate) fn arb_behavior() -> impl Strategy<Value = Behavior> {
    (
        arb_stable(),
        arb_stable(),
        0i32..=1000,
        arb_duration(),
        prop::option::of(0i32..=400),
        arb_duration(),
    )
        .prop_map(
            |(down, up, panic_percent, panic_period, threshold, hold)| Behavior {
                scale_down: down,
                scale_up: ScaleUpBehavior {
                    stable_policy: up,
                    panic_policy: PanicPolicy {
                        percent: panic_percent,
                        period: panic_period.unwrap_or(Duration::ZERO),
                        panic_threshold_percent: threshold,
                        panic_mode_hold: hold,
                    },
                },
            },
        )
}

/// Valid bounds: `0 <= min <= max`.
fn arb_bounds() -> impl Strategy<Value = (i32, i32)> {
    (0i32..50, 0i32..100).prop_map(|(min, extra)| (min, min + extra))
}

fn arb_version() -> impl Strategy<Value = EngineVersion> {
    prop::sample::select(vec![EngineVersion::V0_4, EngineVersion::Head])
}

proptest! {
    /// For any behaviour, valid bounds, history, current count and recommendation:
    /// * the corrected value lies within `[min, max]`;
    /// * stable mode never overshoots the recommendation and never moves away from it: the
    ///   result lies between `clamp(current)` and `clamp(rec)`;
    /// * panic mode never scales down and never overshoots: the result lies between
    ///   `clamp(current)` and `clamp(max(rec, current))`.
    #[test]
    fn corrected_lies_within_bounds_and_between_current_and_recommendation(
        version in arb_version(),
        behavior in arb_behavior(),
        (min, max) in arb_bounds(),
        history in prop::collection::vec((1i64..90_000, 0i32..200, 0u8..3), 0..20),
        is_panic in prop::bool::ANY,
        current in 0i32..200,
        rec in 0i32..200,
        gap in 0i64..400_000,
    ) {
        let mut status = crate::engine::status::Status::new(&behavior, version);
        let mut t = NOW;
        for &(dt, v, which) in &history {
            t += dt;
            match which {
                0 => status.append_recommendation(t, v),
                1 => status.append_corrected(t, v),
                _ => {
                    status.append_recommendation(t, v);
                    status.append_corrected(t, v);
                }
            }
        }
        let (c, limit) = CorrectedInstancesAlgorithm {
            version,
            now: t + gap,
            is_panic,
            history: &mut status.history,
            behavior: &behavior,
            min_instances: min,
            max_instances: max,
            current_instances: current,
            recommended_instances: rec,
        }
        .get_corrected_instances();
        prop_assert!(min <= c && c <= max, "corrected {} outside [{}, {}] ({:?})", c, min, max, limit);
        let lo = clamp(current.min(rec), min, max);
        let hi = clamp(current.max(rec), min, max);
        prop_assert!(lo <= c && c <= hi, "corrected {} outside [{}, {}] ({:?})", c, lo, hi, limit);
        if is_panic {
            prop_assert!(c >= clamp(current, min, max), "panic scaled down: {} < {}", c, current);
        }
    }
}

/// Beyond Go's table: `p·percent` is an int32 product that wraps in Go. Scaling up from 5e6
/// replicas by at most 1000 %: 5e9 wraps to 705 032 704, so the relative limit is
/// 5e6 + 7 050 327 instead of 5.5e7, and `Or` takes it over 5e6 + 2.
#[test]
fn an_int32_rate_product_wraps_as_in_go() {
    check(
        "extreme: stable scale up, percent product beyond int32",
        Case {
            is_panic: false,
            seed: Seed::MinCorrectedForStable(5_000_000),
            behavior: make_behavior(2, 20, Or, 2, 1000, Or, 1000),
            min: 1,
            max: i32::MAX,
            current: 5_000_000,
            recommended: i32::MAX,
        },
        12_050_327,
    );
    // Scaling down from i32::MAX by at most 20 %: the product wraps to −20, so the relative
    // limit is i32::MAX itself and `And` holds the fleet where it is (not at i32::MAX − 2).
    check(
        "extreme: stable scale down, percent product beyond int32",
        Case {
            is_panic: false,
            seed: Seed::MaxCorrected(i32::MAX),
            behavior: make_behavior(2, 20, And, 2, 100, Or, 1000),
            min: 0,
            max: i32::MAX,
            current: i32::MAX,
            recommended: 0,
        },
        i32::MAX,
    );
}
