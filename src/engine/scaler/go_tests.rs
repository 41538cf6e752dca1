//! Kthena's unit tests of the homogeneous scaler's stabilisation (`pkg/autoscaler/autoscaler/
//! scaler_test.go`, volcano-sh/kthena revision 822f628c), translated case by case, plus a
//! property test of whole `scale_one_target` + `record` sequences.
//!
//! The Go cases seed the history with `AppendRecommendation` / `AppendCorrected` (the Go
//! comments call it "the fix: when skip=true, we record currentInstancesCount"; the engine
//! records nothing on a skipped cycle, docs/engine.md §10.3, so the seeding is done explicitly
//! here, as in Go) and then run the correction. `scaleDown.period` is unset, so `MaxCorrected`
//! has TTL 0 and the v0.4.0 window-direction difference (G1) cannot show: every case is run at
//! both engine versions.

use super::*;
use crate::engine::policy::{Duration, PanicPolicy, ScaleUpBehavior, SelectPolicy, StablePolicy};
use crate::engine::revision::go_tests::arb_behavior;
use crate::engine::revision::CorrectedInstancesAlgorithm;
use proptest::prelude::*;

const NOW: i64 = 1_735_722_000_000;
const VERSIONS: [EngineVersion; 2] = [EngineVersion::Head, EngineVersion::V0_4];

/// Go's `buildTestBehavior(stabilizationWindow)`: scale-down {1, 100 %, Or, window}, no
/// periods, scale-up stable policy all unset, panic period 1m and threshold 200.
fn build_test_behavior(stabilization_window_ms: i64) -> Behavior {
    Behavior {
        scale_down: StablePolicy {
            instances: 1,
            percent: 100,
            period: None,
            select_policy: SelectPolicy::Or,
            stabilization_window: Some(Duration::from_millis(stabilization_window_ms)),
        },
        scale_up: ScaleUpBehavior {
            // Go: the zero value (nil pointers, SelectPolicy ""); never read here.
            stable_policy: StablePolicy {
                instances: 0,
                percent: 0,
                period: None,
                select_policy: SelectPolicy::Or,
                stabilization_window: None,
            },
            panic_policy: PanicPolicy {
                percent: 0,
                period: Duration::from_millis(60_000),
                panic_threshold_percent: Some(200),
                panic_mode_hold: None,
            },
        },
    }
}

/// Seeds `seed` (if any) at `NOW`, then corrects `recommended` at `now`.
fn correct(
    version: EngineVersion,
    behavior: &Behavior,
    seed: Option<i32>,
    now: i64,
    (min, max, current, recommended): (i32, i32, i32, i32),
) -> i32 {
    let mut status = Status::new(behavior, version);
    if let Some(v) = seed {
        status.append_recommendation(NOW, v);
        status.append_corrected(NOW, v);
    }
    CorrectedInstancesAlgorithm {
        version,
        now,
        is_panic: false,
        history: &mut status.history,
        behavior,
        min_instances: min,
        max_instances: max,
        current_instances: current,
        recommended_instances: recommended,
    }
    .get_corrected_instances()
    .0
}

#[test]
fn stabilization_window_prevents_immediate_scale_down_after_skip() {
    let b = build_test_behavior(3 * 60_000);
    for version in VERSIONS {
        let got = correct(version, &b, Some(1), NOW, (1, 2, 1, 0));
        assert_eq!(got, 1, "{version}: stabilizationWindow prevents scale-down");
    }
}

#[test]
fn empty_history_allows_immediate_scale_down() {
    let b = build_test_behavior(3 * 60_000);
    for version in VERSIONS {
        let got = correct(version, &b, None, NOW, (1, 2, 1, 0));
        assert_eq!(got, 1, "{version}: MinInstances floor");
    }
}

/// Go sleeps 10 ms past a 1 ms window; here the correction runs 10 ms after the seed.
#[test]
fn stabilization_window_allows_scale_down_after_expiry() {
    let b = build_test_behavior(1);
    for version in VERSIONS {
        let got = correct(version, &b, Some(1), NOW + 10, (1, 2, 1, 0));
        assert_eq!(
            got, 1,
            "{version}: scale-down allowed after window expiry, MinInstances=1 floor"
        );
    }
}

#[test]
fn stabilization_window_multiple_instances() {
    let b = build_test_behavior(5 * 60_000);
    for version in VERSIONS {
        let got = correct(version, &b, Some(3), NOW, (1, 10, 3, 1));
        assert_eq!(got, 3, "{version}: stabilizationWindow prevents scale-down");
    }
}

// ---------------------------------------------------------------------------------------------
// Property test
// ---------------------------------------------------------------------------------------------

/// Homogeneous cycles on one external metric (so no cycle skips) from `start` replicas:
/// each step waits `dt` ms, sees `load`, and the actuator applies the corrected count unless
/// an operator's `edit` replaces it. Returns each cycle's current count and outcome.
fn cycles(
    version: EngineVersion,
    behavior: &Behavior,
    (min, max): (i32, i32),
    tolerance_percent: i32,
    target: f64,
    start: i32,
    steps: &[(i64, f64, Option<i32>)],
) -> Vec<(i32, ScaleOutcome)> {
    let targets = vec![("load".to_string(), target)];
    let mut status = Status::new(behavior, version);
    let mut now = NOW;
    let mut current = start;
    let mut out = Vec::new();
    for &(dt, load, edit) in steps {
        now += dt;
        let external = Metrics::from([("load".to_string(), load)]);
        let outcome = scale_one_target(
            &mut status,
            &ScaleInput {
                version,
                now,
                behavior,
                min,
                max,
                current,
                tolerance_percent,
                metric_targets: &targets,
                unready: 0,
                ready: &[],
                external: &external,
            },
        )
        .expect("an external metric never skips");
        record(&mut status, now, &outcome);
        let next = edit.unwrap_or(outcome.corrected);
        out.push((current, outcome));
        current = next;
    }
    out
}

proptest! {
    /// A sequence of homogeneous cycles with random behaviour, valid bounds (min <= max) and
    /// loads: every decided cycle's corrected count lies within `[min, max]`, a panic cycle
    /// never goes below `clamp(current)`, and the actuator applies the corrected count
    /// (sometimes perturbed, e.g. by an operator edit).
    #[test]
    fn scale_one_target_sequence_stays_within_bounds(
        version in prop::sample::select(VERSIONS.to_vec()),
        behavior in arb_behavior(),
        (min, max) in (0i32..30, 0i32..60).prop_map(|(min, extra)| (min, min + extra)),
        tolerance_percent in 0i32..50,
        target in 1u32..50,
        start in 0i32..100,
        steps in prop::collection::vec((1i64..60_000, 0u32..2_000, prop::option::of(0i32..100)), 1..30),
    ) {
        let steps: Vec<(i64, f64, Option<i32>)> =
            steps.into_iter().map(|(dt, load, edit)| (dt, f64::from(load), edit)).collect();
        let run = cycles(version, &behavior, (min, max), tolerance_percent, f64::from(target), start, &steps);
        for (current, outcome) in run {
            let c = outcome.corrected;
            prop_assert!(min <= c && c <= max, "corrected {} outside [{}, {}]: {:?}", c, min, max, outcome);
            if outcome.is_panic {
                prop_assert!(c >= current.max(min).min(max), "panic scaled down from {}: {:?}", current, outcome);
            }
        }
    }
}

/// Any behaviour the CRD admits (instances up to `i32::MAX`, percents up to 1000).
fn arb_extreme_behavior() -> impl Strategy<Value = Behavior> {
    let stable =
        (0i32..=i32::MAX, 0i32..=1000, prop::bool::ANY).prop_map(|(instances, percent, or)| {
            StablePolicy {
                instances,
                percent,
                period: Some(Duration::from_millis(60_000)),
                select_policy: if or {
                    SelectPolicy::Or
                } else {
                    SelectPolicy::And
                },
                stabilization_window: Some(Duration::from_millis(30_000)),
            }
        });
    (stable.clone(), stable, 0i32..=1000, 110i32..=1000).prop_map(
        |(down, up, percent, threshold)| Behavior {
            scale_down: down,
            scale_up: ScaleUpBehavior {
                stable_policy: up,
                panic_policy: PanicPolicy {
                    percent,
                    period: Duration::from_millis(30_000),
                    panic_threshold_percent: Some(threshold),
                    panic_mode_hold: Some(Duration::from_millis(60_000)),
                },
            },
        },
    )
}

proptest! {
    /// Extreme but admissible inputs — bounds up to the CRD's 1 000 000, a current count
    /// anywhere in `i32` (an operator's edit), loads up to 1e300 against tiny targets —
    /// never make the engine's i32 arithmetic panic (tests run with overflow checks), and
    /// the corrected count still lies within the bounds: Kthena's products wrap, as in Go.
    #[test]
    fn extreme_counts_and_loads_never_overflow(
        version in prop::sample::select(VERSIONS.to_vec()),
        behavior in arb_extreme_behavior(),
        (min, max) in (0i32..=1_000_000, 0i32..=1_000_000).prop_map(|(a, b)| (a.min(b), a.max(b).max(1))),
        tolerance_percent in 0i32..=100,
        target in prop::sample::select(vec![1e-300, 1e-9, 1.0, 1e9]),
        steps in prop::collection::vec(
            (1i64..120_000, prop::sample::select(vec![0.0, 1.0, 1e6, 1e12, 1e300]), prop::option::of(i32::MIN..=i32::MAX)),
            1..20,
        ),
    ) {
        let run = cycles(version, &behavior, (min, max), tolerance_percent, target, max, &steps);
        for (_, outcome) in run {
            prop_assert!(min <= outcome.corrected && outcome.corrected <= max, "{:?}", outcome);
        }
    }
}
