//! knative/serving's own unit tests (at `98e5ef90`) ported by case name: the test function in
//! the Rust name, the table case in a `name` / label string.
//!
//! * `pkg/autoscaler/scaling/autoscaler_test.go`: the metric client fake becomes the
//!   `(stable, panic)` pair passed to [`Decider::scale`]; `time.Now()` is a fixed instant;
//!   excess burst capacity is compared ±1 as upstream (`approxEquateInt32`).
//! * `pkg/autoscaler/aggregation/bucketing_test.go`, `max/window_test.go`,
//!   `max/timewindow_test.go`.
//! * `pkg/reconciler/autoscaling/kpa/scaler_test.go` `TestScaler`: the ServerlessService and
//!   activator probe become `activator_since` (probe succeeds ⇔ the activator is in the path;
//!   `markSKSInProxyFor(d)` ⇔ in the path since `now − d`); the "patch" is `write`.
//!
//! Not ported, and why:
//! * `TestCantCountPods`, `TestNewFail`'s error path: the world always knows its ready pods
//!   (`TestNewFail` is kept as "0 ready").
//! * `TestAutoscalerMetrics*` / `TestAutoscalerStartMetrics` OpenTelemetry assertions: no
//!   metrics export; the scale results and panic state they check are ported.
//! * `BenchmarkAutoscaler`, the bucketing and window benchmarks: benchmarks.
//! * `TestTimedFloat64BucketsResizeWindow`, `TestWeightedFloat64BucketsResizeWindow` (its
//!   resize half), `TestTimedFloat64BucketsWindowUpdate3sGranularity`,
//!   `TestTimedFloat64BucketsWindowUpdateNoOp`: `ResizeWindow` is not ported (a simulated
//!   revision's windows never change).
//! * `TestScaler` cases "waits to scale to zero after idle period; sks in proxy mode" and the
//!   `wantCBCount` / `wantAsyncProbeCount` columns: re-enqueue callbacks and async probes are
//!   replaced by the world's once-a-second reconcile; "scale to zero while activating after
//!   revision deadline exceeded": the `serving.knative.dev/progress-deadline` annotation is
//!   not read (the progress deadline is config-deployment's default 600 s); "reaching initial
//!   scale zero" and "does not scale up from zero with no metrics" are ported as their
//!   results only.
//! * `kpa_test.go` (`TestReconcile` …): reconciles against fake Kubernetes clients (SKS,
//!   Metric, Deployment objects); its scale-to-zero decisions live in `scaler.go`, ported above.

use super::buckets::{compute_smoothing_coeff, round_to_n_digits, Buckets};
use super::decider::Decider;
use super::max_window::{TimeWindow, Window};
use super::reason::Reason;
use super::reconciler::{Activity, DeciderStatus, PodAutoscaler};
use super::spec::{Algorithm, DeciderSpec, Metric, ScalerSpec};
use crate::sim::{SimDuration, SimTime};

const STABLE_WINDOW: SimDuration = SimDuration::from_secs(60);
const TARGET_UTILIZATION: f64 = 0.75;

fn secs(s: i64) -> SimDuration {
    SimDuration::from_secs(s)
}

/// `time.Now()` of the Go tests: an instant off the whole second.
fn now() -> SimTime {
    SimTime::from_micros(1_000_000_000_123)
}

/// `newTestAutoscalerWithScalingMetric`'s DeciderSpec.
fn test_spec(target: f64, tbc: f64, metric: Metric) -> DeciderSpec {
    DeciderSpec {
        metric,
        algorithm: Algorithm::Linear,
        target_value: target,
        total_value: target / TARGET_UTILIZATION,
        target_burst_capacity: tbc,
        panic_threshold: 2.0,
        max_scale_up_rate: 10.0,
        max_scale_down_rate: 10.0,
        stable_window: STABLE_WINDOW,
        panic_window: secs(6),
        scale_down_delay: SimDuration::ZERO,
        initial_scale: 1,
        reachable: true,
        activation_scale: 0,
    }
}

/// `newTestAutoscaler`: one ready pod at creation, so not in panic.
fn new_test_autoscaler(target: f64, tbc: f64) -> Decider {
    Decider::new(test_spec(target, tbc, Metric::Concurrency), now(), 1)
}

fn expected_ebc(tot_cap: f64, target_bc: f64, recorded: f64, num_pods: f64) -> i32 {
    (tot_cap / TARGET_UTILIZATION * num_pods - target_bc - recorded).floor() as i32
}

/// `expectScale`: desired exactly, burst capacity ±1.
#[track_caller]
fn expect_scale(
    d: &mut Decider,
    at: SimTime,
    ready: i32,
    observed: (f64, f64),
    want: i32,
    want_ebc: i32,
) {
    let got = d.scale(at, ready, Some(observed)).expect("valid scale");
    assert_eq!(got.desired_pod_count, want, "desired");
    assert!(
        (got.excess_burst_capacity - want_ebc).abs() <= 1,
        "ebc {} want {want_ebc}",
        got.excess_burst_capacity
    );
}

fn delay_spec(reachable: bool) -> DeciderSpec {
    DeciderSpec {
        target_value: 10.0,
        total_value: 0.0,
        target_burst_capacity: 0.0,
        max_scale_down_rate: 10.0,
        max_scale_up_rate: 10.0,
        panic_threshold: 100.0,
        scale_down_delay: SimDuration::from_secs(300),
        reachable,
        ..test_spec(10.0, 0.0, Metric::Concurrency)
    }
}

#[test]
fn test_autoscaler_scale_down_delay() {
    let t0 = SimTime::ZERO;
    let mut a = Decider::new(delay_spec(true), t0, 0);
    // "simple"
    expect_scale(&mut a, t0 + secs(2), 0, (40.0, 40.0), 4, 0);
    expect_scale(&mut a, t0 + secs(300), 0, (0.0, 0.0), 4, 0);
    expect_scale(&mut a, t0 + secs(302), 0, (0.0, 0.0), 0, 0);
    // "gradual"
    expect_scale(&mut a, t0 + secs(540), 0, (40.0, 40.0), 4, 0);
    expect_scale(&mut a, t0 + secs(600), 0, (30.0, 30.0), 4, 0);
    expect_scale(&mut a, t0 + secs(660), 0, (0.0, 0.0), 4, 0);
    expect_scale(&mut a, t0 + secs(840), 0, (0.0, 0.0), 3, 0);
    expect_scale(&mut a, t0 + secs(900), 0, (0.0, 0.0), 0, 0);
}

#[test]
fn test_autoscaler_scale_down_delay_reason_names_the_hold() {
    let t0 = SimTime::ZERO;
    let mut a = Decider::new(delay_spec(true), t0, 0);
    a.scale(t0 + secs(2), 0, Some((40.0, 40.0)));
    let r = a.scale(t0 + secs(4), 0, Some((0.0, 0.0))).expect("valid");
    assert_eq!(r.reason.code(), "scale_down_delay");
    assert_eq!(
        r.reason.to_string(),
        "KPA: scale-down delay 300 s holds 4 (computed 0)"
    );
}

#[test]
fn test_autoscaler_scale_down_delay_not_reachable() {
    let t0 = SimTime::ZERO;
    let mut a = Decider::new(delay_spec(true), t0, 0);
    expect_scale(&mut a, t0 + secs(2), 0, (40.0, 40.0), 4, 0);
    expect_scale(&mut a, t0 + secs(60), 0, (0.0, 0.0), 4, 0);
    a.spec = delay_spec(false); // as.Update(unreachableSpec)
    expect_scale(&mut a, t0 + secs(2), 0, (0.0, 0.0), 0, 0);
}

#[test]
fn test_autoscaler_scale_down_delay_zero() {
    let spec = DeciderSpec {
        scale_down_delay: SimDuration::ZERO,
        reachable: false,
        ..delay_spec(false)
    };
    let mut a = Decider::new(spec, now(), 0);
    expect_scale(&mut a, now(), 0, (40.0, 40.0), 4, 0);
    expect_scale(
        &mut a,
        now() + SimDuration::from_millis(500),
        0,
        (20.0, 20.0),
        2,
        0,
    );
}

#[test]
fn test_autoscaler_no_data_no_autoscale() {
    let mut a = new_test_autoscaler(10.0, 100.0);
    assert_eq!(a.scale(now(), 1, None), None);
}

#[test]
fn test_autoscaler_start_metrics() {
    // startInPanic: two ready pods at creation.
    let a = Decider::new(test_spec(10.0, 100.0, Metric::Concurrency), now(), 2);
    assert!(a.panic_time.is_some());
    assert_eq!(a.max_panic_pods, 2);
}

#[test]
fn test_autoscaler_metrics() {
    let mut a = new_test_autoscaler(10.0, 100.0);
    assert!(a.panic_time.is_none());
    expect_scale(
        &mut a,
        now(),
        1,
        (50.0, 50.0),
        5,
        expected_ebc(10.0, 100.0, 50.0, 1.0),
    );
    assert!(a.panic_time.is_some(), "panic metric true after the tick");
}

#[test]
fn test_autoscaler_metrics_with_rps() {
    let mut a = Decider::new(test_spec(10.0, 100.0, Metric::Rps), now(), 1);
    expect_scale(
        &mut a,
        now() + secs(61),
        1,
        (100.0, 99.0),
        10,
        expected_ebc(10.0, 100.0, 99.0, 1.0),
    );
    assert!(a.panic_time.is_some());
}

#[test]
fn test_autoscaler_stable_mode_increase_with_concurrency_default() {
    let mut a = new_test_autoscaler(10.0, 101.0);
    let ebc = expected_ebc(10.0, 101.0, 10.0, 1.0);
    expect_scale(&mut a, now(), 1, (50.0, 10.0), 5, ebc);
    expect_scale(&mut a, now(), 1, (100.0, 10.0), 10, ebc);
}

#[test]
fn test_autoscaler_stable_mode_increase_with_rps() {
    let mut a = Decider::new(test_spec(10.0, 101.0, Metric::Rps), now(), 1);
    expect_scale(
        &mut a,
        now(),
        1,
        (50.0, 50.0),
        5,
        expected_ebc(10.0, 101.0, 50.0, 1.0),
    );
    expect_scale(
        &mut a,
        now(),
        1,
        (100.0, 99.0),
        10,
        expected_ebc(10.0, 101.0, 99.0, 1.0),
    );
}

#[test]
fn test_autoscaler_unpanic_after_slow_increase() {
    let mut a = new_test_autoscaler(1.0, 98.0);
    let start = now();
    let mut tm = start;
    expect_scale(
        &mut a,
        tm,
        10,
        (11.0, 25.0),
        25,
        expected_ebc(1.0, 98.0, 25.0, 10.0),
    );
    assert_eq!(a.panic_time, Some(tm));
    tm = tm + STABLE_WINDOW / 2;
    expect_scale(
        &mut a,
        tm,
        40,
        (30.0, 41.0),
        41,
        expected_ebc(1.0, 98.0, 41.0, 40.0),
    );
    assert_eq!(
        a.panic_time,
        Some(start),
        "panic time should not have moved"
    );
    tm = tm + STABLE_WINDOW / 2 + secs(2);
    expect_scale(
        &mut a,
        tm,
        55,
        (50.0, 56.0),
        50,
        expected_ebc(1.0, 98.0, 56.0, 55.0),
    );
    assert_eq!(a.panic_time, None);
}

#[test]
fn test_autoscaler_extend_panic_window() {
    let mut a = new_test_autoscaler(1.0, 98.0);
    let mut tm = now();
    expect_scale(
        &mut a,
        tm,
        10,
        (11.0, 25.0),
        25,
        expected_ebc(1.0, 98.0, 25.0, 10.0),
    );
    assert_eq!(a.panic_time, Some(tm));
    tm = tm + STABLE_WINDOW / 2;
    expect_scale(
        &mut a,
        tm,
        40,
        (30.0, 80.0),
        80,
        expected_ebc(1.0, 98.0, 80.0, 40.0),
    );
    assert_eq!(a.panic_time, Some(tm));
}

#[test]
fn test_autoscaler_stable_mode_decrease() {
    let mut a = new_test_autoscaler(10.0, 98.0);
    expect_scale(
        &mut a,
        now(),
        8,
        (100.0, 100.0),
        10,
        expected_ebc(10.0, 98.0, 100.0, 8.0),
    );
    expect_scale(
        &mut a,
        now(),
        8,
        (50.0, 50.0),
        5,
        expected_ebc(10.0, 98.0, 50.0, 8.0),
    );
}

#[test]
fn test_autoscaler_stable_mode_no_traffic_scale_to_zero() {
    let mut a = new_test_autoscaler(10.0, 75.0);
    let ebc = expected_ebc(10.0, 75.0, 0.0, 1.0);
    expect_scale(&mut a, now(), 1, (1.0, 0.0), 1, ebc);
    expect_scale(&mut a, now(), 1, (0.0, 0.0), 0, ebc);
}

#[test]
fn test_autoscaler_activation_scale() {
    let mut a = new_test_autoscaler(10.0, 75.0);
    a.spec.activation_scale = 2;
    let ebc = expected_ebc(10.0, 75.0, 0.0, 1.0);
    expect_scale(&mut a, now(), 1, (0.0, 0.0), 0, ebc);
    expect_scale(&mut a, now(), 1, (1.0, 0.0), 2, ebc);
}

#[test]
fn test_autoscaler_panic_mode_exponential_track_and_stabilize() {
    let mut a = new_test_autoscaler(1.0, 101.0);
    let ebc = |c: f64, n: f64| expected_ebc(1.0, 101.0, c, n);
    expect_scale(&mut a, now(), 1, (6.0, 6.0), 6, ebc(6.0, 1.0));
    let mut tm = now();
    expect_scale(&mut a, tm, 6, (36.0, 36.0), 36, ebc(36.0, 6.0));
    assert_eq!(a.panic_time, Some(tm));
    tm = tm + secs(1);
    expect_scale(&mut a, tm, 36, (216.0, 216.0), 216, ebc(216.0, 36.0));
    assert_eq!(a.panic_time, Some(tm));
    expect_scale(&mut a, tm, 216, (1296.0, 1296.0), 1296, ebc(1296.0, 216.0));
    assert_eq!(a.panic_time, Some(tm));
    tm = tm + secs(1);
    expect_scale(
        &mut a,
        tm,
        1296,
        (1296.0, 1296.0),
        1296,
        ebc(1296.0, 1296.0),
    );
}

/// `TestAutoscalerScale`'s table.
#[test]
fn test_autoscaler_scale() {
    type Prep = fn(&mut Decider);
    struct Case {
        label: &'static str,
        target: f64,
        tbc: f64,
        observed: (f64, f64),
        prep: Option<Prep>,
        base_scale: i32,
        want_scale: i32,
        want_ebc: i32,
    }
    let panicking: Prep = |a| {
        a.panic_time = Some(now() - secs(5));
        a.max_panic_pods = 5;
    };
    let cases = [
        Case {
            label: "AutoscalerNoDataAtZeroNoAutoscale",
            target: 10.0,
            tbc: 100.0,
            observed: (0.0, 0.0),
            prep: None,
            base_scale: 1,
            want_scale: 0,
            want_ebc: expected_ebc(10.0, 100.0, 0.0, 1.0),
        },
        Case {
            label: "AutoscalerNoDataAtZeroNoAutoscaleWithExplicitEPs",
            target: 10.0,
            tbc: 100.0,
            observed: (0.0, 0.0),
            prep: None,
            base_scale: 1,
            want_scale: 0,
            want_ebc: expected_ebc(10.0, 100.0, 0.0, 1.0),
        },
        Case {
            label: "AutoscalerStableModeUnlimitedTBC",
            target: 181.0,
            tbc: -1.0,
            observed: (21.0, 26.0),
            prep: None,
            base_scale: 1,
            want_scale: 1,
            want_ebc: -1,
        },
        Case {
            label: "Autoscaler0TBC",
            target: 10.0,
            tbc: 0.0,
            observed: (50.0, 49.0),
            prep: None,
            base_scale: 1,
            want_scale: 5,
            want_ebc: 0,
        },
        Case {
            label: "AutoscalerStableModeNoChange",
            target: 10.0,
            tbc: 100.0,
            observed: (50.0, 50.0),
            prep: None,
            base_scale: 1,
            want_scale: 5,
            want_ebc: expected_ebc(10.0, 100.0, 50.0, 1.0),
        },
        Case {
            label: "AutoscalerPanicStableLargerThanPanic",
            target: 1.0,
            tbc: 100.0,
            observed: (50.0, 30.0),
            prep: Some(panicking),
            base_scale: 5,
            want_scale: 50,
            want_ebc: expected_ebc(1.0, 100.0, 30.0, 5.0),
        },
        Case {
            label: "AutoscalerPanicStableLessThanPanic",
            target: 1.0,
            tbc: 100.0,
            observed: (20.0, 30.0),
            prep: Some(panicking),
            base_scale: 5,
            want_scale: 30,
            want_ebc: expected_ebc(1.0, 100.0, 30.0, 5.0),
        },
        Case {
            label: "AutoscalerStableModeNoChangeAlreadyScaled",
            target: 10.0,
            tbc: 100.0,
            observed: (50.0, 50.0),
            prep: None,
            base_scale: 5,
            want_scale: 5,
            want_ebc: expected_ebc(10.0, 100.0, 50.0, 5.0),
        },
        Case {
            label: "AutoscalerStableModeIncreaseWithSmallScaleUpRate",
            target: 1.0,
            tbc: 1982.0,
            observed: (3.0, 3.1),
            prep: Some(|a| a.spec.max_scale_up_rate = 1.1),
            base_scale: 2,
            want_scale: 3,
            want_ebc: expected_ebc(1.0, 1982.0, 3.1, 2.0),
        },
        Case {
            label: "AutoscalerStableModeDecreaseWithSmallScaleDownRate",
            target: 10.0,
            tbc: 1982.0,
            observed: (1.0, 1.0),
            prep: Some(|a| a.spec.max_scale_down_rate = 1.1),
            base_scale: 100,
            want_scale: 90,
            want_ebc: expected_ebc(10.0, 1982.0, 1.0, 100.0),
        },
        Case {
            label: "AutoscalerStableModeDecreaseNonReachable",
            target: 10.0,
            tbc: 1982.0,
            observed: (1.0, 1.0),
            prep: Some(|a| {
                a.spec.max_scale_down_rate = 1.1;
                a.spec.reachable = false;
            }),
            base_scale: 100,
            want_scale: 1,
            want_ebc: expected_ebc(10.0, 1982.0, 1.0, 100.0),
        },
        Case {
            label: "AutoscalerPanicModeDoublePodCount",
            target: 10.0,
            tbc: 84.0,
            observed: (50.0, 100.0),
            prep: None,
            base_scale: 1,
            want_scale: 10,
            want_ebc: expected_ebc(10.0, 84.0, 100.0, 1.0),
        },
    ];
    for c in cases {
        let mut a = new_test_autoscaler(c.target, c.tbc);
        if let Some(prep) = c.prep {
            prep(&mut a);
        }
        let got = a
            .scale(now(), c.base_scale, Some(c.observed))
            .expect(c.label);
        assert_eq!(got.desired_pod_count, c.want_scale, "{}", c.label);
        assert!(
            (got.excess_burst_capacity - c.want_ebc).abs() <= 1,
            "{}: ebc {} want {}",
            c.label,
            got.excess_burst_capacity,
            c.want_ebc
        );
    }
}

#[test]
fn test_autoscaler_panic_then_un_panic_scale_down() {
    let mut a = new_test_autoscaler(10.0, 93.0);
    let ebc = |c: f64, n: f64| expected_ebc(10.0, 93.0, c, n);
    expect_scale(&mut a, now(), 1, (100.0, 100.0), 10, ebc(100.0, 1.0));
    let panic_time = now();
    expect_scale(
        &mut a,
        panic_time,
        10,
        (100.0, 1000.0),
        100,
        ebc(1000.0, 10.0),
    );
    let held = a
        .scale(panic_time + secs(30), 10, Some((1.0, 1.0)))
        .expect("valid");
    assert_eq!(held.desired_pod_count, 100, "still in panic");
    assert_eq!(held.reason.code(), "panic");
    expect_scale(
        &mut a,
        panic_time + secs(61),
        10,
        (1.0, 1.0),
        1,
        ebc(1.0, 10.0),
    );
}

#[test]
fn test_autoscaler_rate_limit_scale_up() {
    let mut a = new_test_autoscaler(10.0, 61.0);
    let r = a.scale(now(), 1, Some((1000.0, 1001.0))).expect("valid");
    assert_eq!(r.desired_pod_count, 10, "need 100 pods but only scale x10");
    expect_scale(
        &mut a,
        now(),
        10,
        (1000.0, 1001.0),
        100,
        expected_ebc(10.0, 61.0, 1001.0, 10.0),
    );
}

#[test]
fn test_autoscaler_rate_limit_scale_down() {
    let mut a = new_test_autoscaler(10.0, 61.0);
    let r = a.scale(now(), 100, Some((1.0, 1.0))).expect("valid");
    assert_eq!(r.desired_pod_count, 10);
    assert_eq!(r.reason.code(), "rate_limited");
    expect_scale(
        &mut a,
        now(),
        10,
        (1.0, 1.0),
        1,
        expected_ebc(10.0, 61.0, 1.0, 10.0),
    );
}

#[test]
fn test_autoscaler_use_one_pod_as_minimum_if_endpoints_not_found() {
    let mut a = new_test_autoscaler(10.0, 81.0);
    expect_scale(
        &mut a,
        now(),
        0,
        (1000.0, 888.0),
        10,
        expected_ebc(10.0, 81.0, 888.0, 0.0),
    );
}

#[test]
fn test_autoscaler_update_target() {
    let mut a = new_test_autoscaler(10.0, 77.0);
    expect_scale(
        &mut a,
        now(),
        1,
        (100.0, 101.0),
        10,
        expected_ebc(10.0, 77.0, 101.0, 1.0),
    );
    a.spec = DeciderSpec {
        target_value: 1.0,
        total_value: 1.0 / TARGET_UTILIZATION,
        target_burst_capacity: 71.0,
        ..test_spec(1.0, 71.0, Metric::Concurrency)
    };
    expect_scale(
        &mut a,
        now(),
        10,
        (100.0, 101.0),
        100,
        expected_ebc(1.0, 71.0, 101.0, 10.0),
    );
}

#[test]
fn test_start_in_panic_mode() {
    let spec = DeciderSpec {
        panic_threshold: 220.0,
        ..test_spec(100.0, 11.0, Metric::Concurrency)
    };
    for i in 0..2 {
        let a = Decider::new(spec.clone(), now(), i);
        assert!(
            a.panic_time.is_none(),
            "create at scale {i} had panic mode on"
        );
        assert_eq!(a.max_panic_pods, i);
    }
    let a = Decider::new(spec, now(), 2);
    assert!(
        a.panic_time.is_some(),
        "create at scale 2 had panic mode off"
    );
    assert_eq!(a.max_panic_pods, 2);
}

#[test]
fn test_new_fail() {
    // The pod count error reads as 0 ready pods.
    let a = Decider::new(test_spec(100.0, 11.0, Metric::Concurrency), now(), 0);
    assert_eq!(a.max_panic_pods, 0);
}

// ---- pkg/autoscaler/aggregation/bucketing_test.go ----

fn linear(window: i64, granularity: i64) -> Buckets {
    Buckets::new(secs(window), secs(granularity), Algorithm::Linear)
}

fn trunc(t: SimTime, g: i64) -> SimTime {
    let g = g * 1_000_000;
    SimTime::from_micros(t.as_micros() / g * g)
}

fn sum_at(b: &Buckets, at: SimTime) -> f64 {
    let mut sum = 0.0;
    b.for_each_bucket(at, |_, v| sum += v);
    sum
}

#[test]
fn test_compute_decay_multiplier() {
    for (nb, want) in [(100.0, 0.2), (60.0, 0.2), (40.0, 0.20567), (6.0, 0.78456)] {
        let got = compute_smoothing_coeff(nb);
        assert!((got - want).abs() < 1e-5, "nb={nb}: {got} want {want}");
    }
}

#[test]
fn test_timed_float64_buckets_simple() {
    let trunc1 = trunc(now(), 1);
    let trunc5 = trunc(now(), 5);
    let ms = SimDuration::from_millis;
    type Stats = Vec<(SimTime, f64)>;
    type Case = (&'static str, i64, Stats, Vec<(SimTime, f64)>);
    let cases: [Case; 3] = [
        (
            "granularity = 1s",
            1,
            vec![
                (trunc1, 1.0),
                (trunc1 + ms(100), 10.0),
                (trunc1 + secs(1), 1.0),
                (trunc1 + secs(3), 1.0),
            ],
            vec![
                (trunc1 + secs(3), 1.0),
                (trunc1 + secs(1), 1.0),
                (trunc1, 11.0),
            ],
        ),
        (
            "granularity = 5s",
            5,
            vec![
                (trunc5, 1.0),
                (trunc5 + secs(3), 11.0),
                (trunc5 + secs(6), 1.0),
            ],
            vec![(trunc5 + secs(5), 1.0), (trunc5, 12.0)],
        ),
        ("empty", 1, vec![], vec![]),
    ];
    for (name, g, stats, want) in cases {
        let mut b = linear(120, g);
        assert!(b.is_empty(trunc1), "{name}");
        for (t, v) in stats {
            b.record(t, v);
        }
        let mut got = Vec::new();
        b.for_each_bucket(trunc1 + secs(60), |t, v| {
            if v > 0.0 {
                got.push((SimTime::from_micros(t), v));
            }
        });
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn test_timed_float64_buckets_many_reps() {
    let mut t = trunc(now(), 1);
    let mut b = linear(60, 1);
    for p in 0..5 {
        t = t + secs(1);
        for k in 0..5 {
            b.record(t, f64::from(p + k));
        }
    }
    assert_eq!(sum_at(&b, t), 100.0);
    assert_eq!(sum_at(&b, t), 100.0);
}

#[test]
fn test_timed_float64_buckets_many_reps_with_non_monotonical_order() {
    let start = trunc(now(), 1);
    let mut end = start;
    let mut b = linear(60, 1);
    for (p, d) in [0, 3, 2, 1, 4].into_iter().enumerate() {
        end = start + secs(d);
        for k in 0..5 {
            b.record(end, (p + k) as f64);
        }
    }
    assert_eq!(sum_at(&b, end), 100.0);
    assert_eq!(sum_at(&b, end), 100.0);
}

#[test]
fn test_timed_float64_buckets_weighted_average() {
    let n = now();
    let mut b = Buckets::new(secs(5), secs(1), Algorithm::WeightedExponential);
    let m = b.smoothing();
    b.record(n, 2.0);
    let mut want = 2.0 * m;
    assert_eq!(b.window_average(n), want);
    want *= 1.0 - m;
    assert_eq!(b.window_average(n + secs(1)), want);
    b.record(n + secs(1), 2.0);
    want += 2.0 * m;
    assert_eq!(b.window_average(n + secs(1)), want);
    for i in 0..5 {
        b.record(n + secs(2 + i), (i + 2) as f64);
    }
    let want = 6.0 * m
        + 5.0 * m * (1.0 - m)
        + 4.0 * m * (1.0 - m) * (1.0 - m)
        + 3.0 * m * (1.0 - m) * (1.0 - m) * (1.0 - m)
        + 2.0 * m * (1.0 - m) * (1.0 - m) * (1.0 - m) * (1.0 - m);
    assert!((b.window_average(n + secs(6)) - want).abs() < 1e-12);
    assert_eq!(b.window_average(n + secs(16)), 0.0);
}

#[test]
fn test_timed_float64_buckets_window_average() {
    let mut n = now();
    let mut b = linear(5, 1);
    b.record(n, 1.0);
    assert_eq!(b.window_average(n), 1.0, "uses firstWrite");
    for i in 1..5 {
        b.record(n + secs(i), (i + 1) as f64);
    }
    assert_eq!(b.window_average(n + secs(4)), 15.0 / 5.0);
    assert_eq!(
        b.window_average(n + SimDuration::from_millis(3600)),
        15.0 / 5.0,
        "now lags behind"
    );
    assert_eq!(
        b.window_average(n + secs(6)),
        (15.0 - 1.0 - 2.0) / (5.0 - 2.0),
        "short hole"
    );
    assert_eq!(b.window_average(n + secs(10)), 0.0, "long hole");
    b.record(n + secs(6), 91.0);
    assert_eq!(
        b.window_average(n + secs(6)),
        (15.0 - 1.0 - 2.0 + 91.0) / 5.0,
        "write with holes"
    );
    n = n + secs(60);
    b.record(n, 1984.0);
    assert_eq!(b.window_average(n), 1984.0, "advance much farther");
    b.record(n - secs(3), 4.0);
    assert_eq!(b.window_average(n), (4.0 + 1984.0) / 4.0, "earlier time");
    n = n + secs(1);
    b.record(n, 5.0);
    assert_eq!(b.window_average(n), (4.0 + 1984.0 + 5.0) / 5.0);
    b.record(n - secs(3), 10.0);
    assert_eq!(b.window_average(n), (4.0 + 10.0 + 1984.0 + 5.0) / 5.0);
    b.record(n - secs(6), 10.0);
    assert_eq!(
        b.window_average(n),
        (4.0 + 10.0 + 1984.0 + 5.0) / 5.0,
        "too early ignored"
    );
    b.record(n - secs(5), 10.0);
    assert_eq!(
        b.window_average(n),
        (4.0 + 10.0 + 1984.0 + 5.0) / 5.0,
        "bound timestamp ignored"
    );
    b.record(n + secs(5), 10.0);
    assert_eq!(
        b.window_average(n + secs(5)),
        10.0,
        "exactly a window of silence clears"
    );
}

#[test]
fn test_descending_record() {
    let n = now();
    let mut b = linear(5, 1);
    for i in (0..=8).rev() {
        b.record(n + secs(i), 5.0);
    }
    assert_eq!(b.window_average(n + secs(5)), 5.0);
}

#[test]
fn test_timed_float64_buckets_holes() {
    let n = now();
    let mut b = linear(5, 1);
    for i in 0..5 {
        b.record(n + secs(i), (i + 1) as f64);
    }
    assert_eq!(sum_at(&b, n + secs(4)), 15.0);
    assert_eq!(b.window_average(n + secs(4)), 15.0 / 5.0);
    b.record(n + secs(8), 2.0);
    assert_eq!(sum_at(&b, n + secs(8)), 7.0);
}

#[test]
fn test_weighted_float64_buckets_resize_window_initial_average() {
    // The part of TestWeightedFloat64BucketsResizeWindow before the resize.
    let start = now();
    let mut b = Buckets::new(secs(5), secs(1), Algorithm::WeightedExponential);
    for i in 0..6 {
        b.record(start + secs(i), (i + 1) as f64);
    }
    let n = start + secs(5);
    assert_eq!(sum_at(&b, n), 2.0 + 3.0 + 4.0 + 5.0 + 6.0);
    assert_eq!(round_to_n_digits(3, b.window_average(n)), 5.812);
}

#[test]
fn test_round_to_n_digits() {
    assert_eq!(round_to_n_digits(6, 3.6e-17), 0.0);
    assert_eq!(round_to_n_digits(3, -3.6e-17), 0.0);
    assert_eq!(round_to_n_digits(3, 0.0004), 0.0);
    assert_eq!(round_to_n_digits(3, 1.2345), 1.235);
    assert_eq!(round_to_n_digits(4, 1.2345), 1.2345);
    assert_eq!(round_to_n_digits(6, 12345.0), 12345.0);
}

// ---- pkg/autoscaler/aggregation/max/window_test.go, timewindow_test.go ----

#[test]
fn test_window_max() {
    let shifted: fn(i64) -> i64 = |i| if i >= 3 { i + 3 } else { i };
    let same: fn(i64) -> i64 = |_| 1;
    type Case = (
        &'static str,
        &'static [i32],
        Option<fn(i64) -> i64>,
        &'static [i32],
    );
    let cases: [Case; 15] = [
        ("single value", &[1], None, &[1]),
        ("ascending values", &[1, 2], None, &[1, 2]),
        ("descending values", &[2, 1], None, &[2, 2]),
        ("up, down, up", &[1, 2, 1], None, &[1, 2, 2]),
        (
            "windowing out",
            &[5, 6, 5, 5, 5, 5, 5],
            None,
            &[5, 6, 6, 6, 6, 6, 5],
        ),
        (
            "windowing out with gaps",
            &[6, 5, 2, 1],
            Some(shifted),
            &[6, 6, 6, 2],
        ),
        (
            "windowing out 2",
            &[5, 6, 5, 7, 5, 5, 1],
            None,
            &[5, 6, 6, 7, 7, 7, 7],
        ),
        (
            "windowing out 3",
            &[5, 8, 5, 7, 5, 5],
            None,
            &[5, 8, 8, 8, 8, 8],
        ),
        (
            "windowing out 4",
            &[5, 8, 5, 7, 5, 5, 1],
            None,
            &[5, 8, 8, 8, 8, 8, 7],
        ),
        (
            "windowing out 5",
            &[5, 8, 5, 7, 5, 5, 1, 4, 4, 4],
            None,
            &[5, 8, 8, 8, 8, 8, 7, 7, 5, 5],
        ),
        (
            "windowing out 6",
            &[5, 8, 5, 7, 5, 5, 1, 4, 4, 4, 4],
            None,
            &[5, 8, 8, 8, 8, 8, 7, 7, 5, 5, 4],
        ),
        (
            "windowing out 7",
            &[5, 8, 5, 7, 5, 5, 1, 4, 4, 4, 4, 9],
            None,
            &[5, 8, 8, 8, 8, 8, 7, 7, 5, 5, 4, 9],
        ),
        (
            "windowing out 8",
            &[5, 8, 5, 7, 5, 5, 1, 4, 4, 4, 4, 9, 3, 4, 2, 1, 0],
            None,
            &[5, 8, 8, 8, 8, 8, 7, 7, 5, 5, 4, 9, 9, 9, 9, 9, 4],
        ),
        (
            "multiple with same index, ascending",
            &[1, 2, 3, 4, 5, 6, 7],
            Some(same),
            &[1, 2, 3, 4, 5, 6, 7],
        ),
        (
            "multiple with same index, descending",
            &[7, 6, 5, 4, 3, 2, 1],
            Some(same),
            &[7, 7, 7, 7, 7, 7, 7],
        ),
    ];
    for (name, values, index, expect) in cases {
        let index = index.unwrap_or(|i| i);
        let mut w = Window::new(5);
        let got: Vec<i32> = values
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                w.record(index(i as i64), v);
                w.current()
            })
            .collect();
        assert_eq!(got, expect, "{name}");
    }
}

#[test]
fn test_timed_window_max() {
    let n = now();
    type Case = (&'static str, i32, Vec<(SimTime, i32)>);
    let cases: [Case; 4] = [
        ("single value", 5, vec![(n, 5)]),
        (
            "two values in same second",
            6,
            vec![(n, 6), (n + SimDuration::from_millis(500), 5)],
        ),
        ("two values", 8, vec![(n, 5), (n + secs(1), 8)]),
        ("time gap", 4, vec![(n, 5), (n + secs(6), 4)]),
    ];
    for (name, expect, values) in cases {
        let mut m = TimeWindow::new(secs(5), secs(1));
        for (t, v) in values {
            m.record(t, v);
        }
        assert_eq!(m.current(), expect, "{name}");
    }
}

// ---- pkg/reconciler/autoscaling/kpa/scaler_test.go TestScaler ----

/// The test file's config: 5 min stable window, 60 s grace, target-burst-capacity 200.
fn scaler_spec(min: i32, max: i32) -> ScalerSpec {
    ScalerSpec {
        min_scale: min,
        max_scale: max,
        initial_scale: 1,
        enable_scale_to_zero: true,
        stable_window: secs(300),
        scale_to_zero_grace_period: secs(60),
        scale_to_zero_pod_retention_period: SimDuration::ZERO,
        target_burst_capacity: 200.0,
        reachable: true,
    }
}

const PA_STABLE_WINDOW: SimDuration = SimDuration::from_secs(45);
const GRACE: SimDuration = SimDuration::from_secs(60);
const ACTIVATION_TIMEOUT: SimDuration = SimDuration::from_secs(630);

/// The PA as a case leaves it: condition and its transition time, the activator since when
/// (default: a probe that succeeds, never in proxy mode before ⇒ since now).
fn pa(activity: Activity, since: SimTime, activator_since: Option<SimTime>) -> PodAutoscaler {
    PodAutoscaler {
        activity,
        since,
        scale_target_initialized: false,
        activator_since,
    }
}

#[test]
fn test_scaler() {
    struct Case {
        label: &'static str,
        start_replicas: i32,
        scale_to: i32,
        spec: ScalerSpec,
        pa: PodAutoscaler,
        want_replicas: i32,
        want_scaling: bool,
    }
    let t = now();
    let s = scaler_spec(0, 0);
    let custom_window = ScalerSpec {
        stable_window: PA_STABLE_WINDOW,
        ..s.clone()
    };
    let probe_ok = Some(t);
    let case =
        |label, start_replicas, scale_to, spec: &ScalerSpec, pa, want_replicas, want_scaling| {
            Case {
                label,
                start_replicas,
                scale_to,
                spec: spec.clone(),
                pa,
                want_replicas,
                want_scaling,
            }
        };
    let active = |ago: SimDuration| pa(Activity::Active, t - ago, probe_ok);
    let inactive = |ago: SimDuration| pa(Activity::Inactive, t - ago, probe_ok);
    let activating = |ago: SimDuration| pa(Activity::Activating, t - ago, probe_ok);
    let retention = |r: SimDuration| ScalerSpec {
        scale_to_zero_pod_retention_period: r,
        ..s.clone()
    };
    let unreachable = |min: i32, r: SimDuration| ScalerSpec {
        reachable: false,
        min_scale: min,
        scale_to_zero_pod_retention_period: r,
        ..s.clone()
    };
    let initial = |n: i32| ScalerSpec {
        initial_scale: n,
        ..s.clone()
    };
    let mut initialized_active = active(secs(120));
    initialized_active.scale_target_initialized = true;
    let cases = vec![
        case("waits to scale to zero (just before idle period)", 1, 0, &s, active(secs(300) - secs(1)), 1, false),
        case("waits to scale to zero (just before idle period), custom PA window", 1, 0, &custom_window, active(PA_STABLE_WINDOW - secs(1)), 1, false),
        case("custom PA window, check for standard window, no probe", 1, 0, &custom_window, active(secs(300)), 0, false),
        case("scale to 1 waiting for idle expires", 10, 0, &s, active(secs(300) - secs(1)), 1, true),
        case("waits to scale to zero after idle period", 1, 0, &s, active(secs(300)), 0, false),
        case("waits to scale to zero after idle period (custom PA window)", 1, 0, &custom_window, active(PA_STABLE_WINDOW), 0, false),
        case("can scale to zero after grace period, but 0 PA retention", 1, 0, &s, inactive(GRACE), 0, true),
        case("can't scale to zero after grace period, but before last pod retention", 1, 0, &retention(GRACE * 2), inactive(GRACE), 0, false),
        case("scale to zero after grace period, and after last pod retention", 1, 0, &retention(GRACE), inactive(GRACE), 0, true),
        case("scale to zero after grace period", 1, 0, &s, inactive(GRACE), 0, true),
        case("waits to scale to zero (just before grace period)", 1, 0, &s, inactive(GRACE - secs(1)), 0, false),
        case("waits to scale to zero (just before grace period, sks short)", 1, 0, &s, pa(Activity::Inactive, t - GRACE + secs(1), Some(t - GRACE + secs(1))), 0, false),
        case("waits to scale to zero (just before grace period, sks in proxy long) and last pod timeout positive", 1, 0, &retention(secs(42)), pa(Activity::Inactive, t - GRACE + secs(1), Some(t - GRACE)), 0, true),
        case("waits to scale to zero (just before grace period, sks in proxy long)", 1, 0, &s, pa(Activity::Inactive, t - GRACE + secs(1), Some(t - GRACE)), 0, true),
        case("scale to zero with TBC=-1", 1, 0, &ScalerSpec { target_burst_capacity: -1.0, ..s.clone() }, pa(Activity::Inactive, t - GRACE, None), 0, true),
        case("scale to zero after grace period, but fail prober", 1, 0, &s, pa(Activity::Inactive, t - GRACE, None), 0, false),
        case("waits to scale to zero while activating until after deadline exceeded", 1, 0, &s, activating(ACTIVATION_TIMEOUT / 2), -1, false),
        case("scale to zero while activating after deadline exceeded", 1, 0, &s, activating(ACTIVATION_TIMEOUT + secs(1)), 0, true),
        case("scale down to minScale before grace period", 10, 0, &scaler_spec(2, 0), inactive(GRACE - secs(1)), 2, true),
        case("scale down to minScale after grace period", 10, 0, &scaler_spec(2, 0), inactive(GRACE), 2, true),
        case("scale to zero ignore last pod retention if  revision is unreachable", 1, 0, &unreachable(0, GRACE * 10), inactive(GRACE), 0, true),
        case("can't scale to zero if revision is unreachable, but before deadline", 1, 0, &unreachable(0, GRACE * 10), inactive(GRACE - secs(1)), 0, false),
        case("ignore minScale if unreachable", 10, 0, &unreachable(2, SimDuration::ZERO), inactive(GRACE), 0, true),
        case("observe minScale if reachability unknown", 10, 0, &scaler_spec(2, 0), inactive(GRACE), 2, true),
        case("scales up", 1, 10, &s, activating(SimDuration::ZERO), 10, true),
        case("scales up to maxScale", 1, 10, &scaler_spec(0, 8), activating(SimDuration::ZERO), 8, true),
        case("scale up inactive revision", 1, 10, &s, inactive(GRACE / 2), 10, true),
        case("does not scale up from zero with no metrics", 0, -1, &s, inactive(SimDuration::ZERO), -1, false),
        case("scales up from zero to desired one", 0, 1, &s, activating(SimDuration::ZERO), 1, true),
        case("scales up from zero to desired high scale", 0, 10, &s, activating(SimDuration::ZERO), 10, true),
        case("negative scale does not scale", 12, -1, &s, active(SimDuration::ZERO), -1, false),
        case("initial scale attained, but now time to scale down", 2, 0, &initial(2), initialized_active, 1, true),
        case("haven't scaled to initial scale, override desired scale with initial scale", 0, 1, &initial(2), activating(SimDuration::ZERO), 2, true),
        case("initial scale reached for the first time", 5, 1, &initial(5), activating(SimDuration::ZERO), 5, false),
        case("reaching initial scale zero", 0, 0, &initial(0), inactive(SimDuration::ZERO), 0, false),
        case("unreachable revision with initialScale > 1 can scale to 0", 2, 0, &ScalerSpec { reachable: false, ..initial(2) }, active(secs(120)), 1, true),
    ];
    for mut c in cases {
        let decider = DeciderStatus {
            desired_scale: c.scale_to,
            excess_burst_capacity: 0,
            reason: Reason::NoData {
                window: STABLE_WINDOW,
                kept: c.scale_to,
            },
        };
        let got =
            c.pa.reconcile(&c.spec, t, &decider, c.start_replicas, c.start_replicas);
        assert_eq!(got.want, c.want_replicas, "{}", c.label);
        let want_write = c.want_scaling.then_some(c.want_replicas);
        assert_eq!(got.write, want_write, "{}", c.label);
    }
}
