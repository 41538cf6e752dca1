//! KEDA's own unit tests (kedacore/keda `8b4f083c`), ported case by case under their names.
//!
//! Ported:
//! - `pkg/scaling/executor/scale_scaledobjects_test.go`: TestScaleToMinReplicasWhenNotActive,
//!   TestScaleToMinReplicasFromLowerInitialReplicaCount, TestScaleFromMinReplicasWhenActive,
//!   TestScaleToIdleReplicasWhenNotActive, TestScaleFromIdleToMinReplicasWhenActive,
//!   TestEventWitTriggerInfo (the event's "from 2 to 5, triggered by …" is the reason here).
//! - `pkg/scaling/scale_handler_test.go`: TestCheckScaledObjectScalersWithError,
//!   TestCheckScaledObjectFindFirstActiveNotIgnoreOthers, TestGetScaledObjectMetrics_DirectCall,
//!   TestGetScaledObjectMetrics_FromCache,
//!   TestGetScaledObjectMetrics_ErrorDoesNotClearOtherTriggersCachedRecord.
//! - `pkg/scalers/prometheus_scaler_test.go`: TestPrometheusScalerExecutePromQuery cases
//!   "no results", "no values", "no values but shouldn't ignore", "valid value", "multiple
//!   results", "error status response", "+Inf", "+Inf but shouldn't ignore ", "-Inf", "-Inf
//!   but shouldn't ignore ", "NaN", "NaN but shouldn't ignore "; TestPrometheusGetMetricSpecForScaling.
//!   (testPromMetadata, the metadata parse table, is ported in the manifest reader's tests,
//!   `src/kthena/manifest/read_keda.rs`.)
//! - `pkg/fallback/fallback_test.go` (Ginkgo `It`s): every case that decides a metric value,
//!   an error or a failure count, listed in [`fallback_cases`].
//!
//! Not ported, and why:
//! - executor: TestScaleToPausedReplicasCount, TestNoScaleToMinReplicasWhenNotActiveAndPauseScaleInAnnotationSet,
//!   TestNoScaleToIdleReplicasWhenNotActiveAndPauseScaleInAnnotationSet,
//!   TestScaleFromMinReplicasWhenActivationForced,
//!   TestNoScaleFromMinReplicasWhenActiveAndPausedScaleOutAnnotationSet,
//!   TestNoScaleFromIdleReplicasToMinReplicasWhenActiveAndPausedScaleOutAnnotationSet: the
//!   pause and force-activation annotations are not simulated (metadata annotations are not
//!   read). TestGetHPAHealth_*, TestRequestScale_*HPA*, TestCheckHPAHealth_*: the `Ready` and
//!   `HPAActive` status conditions are not modelled.
//! - scale handler: TestCheckScaledObjectScalersWithTriggerAuthError (authentication is not
//!   simulated); TestGetScaledObjectMetrics_InParallel, TestClearScalersCache_*,
//!   TestDeleteScalableObject_*, TestStartScaleLoop_DeletesMetricsCacheRecordsOnShutdown,
//!   TestHandleResult_*, TestWatchMetricSpecUpdates_*, TestEnqueueMetricSpecReconcile*,
//!   *_CacheClosedIsBenign (goroutines, status patches, scaler-cache plumbing);
//!   TestGetScaledObjectStateRecordsResourceScalerActiveMetric and
//!   TestGetScaledObjectStateSkipsResourceScalerActiveMetricWithModifiers (cpu/memory triggers
//!   are refused); TestScalingModifiersFormula (scalingModifiers are refused); TestGetScaledJob*
//!   (ScaledJobs are not simulated).
//! - prometheus: "value is empty list" (both), "not enough values": shapes of the HTTP JSON
//!   body, which the world's Prometheus never produces (it answers series values);
//!   TestPrometheusScalerAuthParams, TestPrometheusScalerCustomHeaders,
//!   TestPrometheusScalerExecutePromQueryParameters,
//!   TestPrometheusScaler_ExecutePromQuery_WithGcpNativeAuthentication: HTTP requests,
//!   headers and authentication are not simulated.
//! - fallback: "should set the fallback condition when a fallback exists in the scaled
//!   object", "should set the fallback condition to false if the config is invalid" (the
//!   `Fallback` status condition is not modelled; the values those cases return are covered
//!   by the cases above them); TestUpdateStatusConcurrency (no concurrency here).

use super::fallback::{with_fallback, Replicas, WithFallback};
use super::poll::request_scale;
use super::reason::Evidence;
use super::*;
use crate::hpa::{self, MetricTarget};

fn so(min: Option<i32>, idle: Option<i32>) -> ScaledObjectSpec {
    let mut spec = ScaledObjectSpec::with_defaults(
        "name",
        "namespace",
        "name",
        vec![Trigger::prometheus("http://localhost:9090", "up", 100.0)],
    );
    spec.min_replica_count = min.unwrap_or(0);
    spec.idle_replica_count = idle;
    spec
}

fn active(trigger: &str) -> Vec<Evidence> {
    vec![Evidence::Value {
        trigger: trigger.to_string(),
        value: 1.0,
        activation: 0.0,
    }]
}

fn inactive() -> Vec<Evidence> {
    vec![Evidence::Value {
        trigger: "s0".to_string(),
        value: 0.0,
        activation: 0.0,
    }]
}

/// `RequestScale` on an object created at the epoch and never active, an hour later.
fn request(
    spec: &ScaledObjectSpec,
    current: i32,
    evidence: &[Evidence],
) -> (Option<i32>, Option<SimTime>, &'static str) {
    let mut last_active = None;
    let out = request_scale(
        spec,
        &mut last_active,
        SimTime::ZERO,
        SimTime::from_secs(3600),
        current,
        evidence,
    );
    (out.replicas, last_active, out.reason.code())
}

#[test]
fn test_scale_to_min_replicas_when_not_active() {
    let (replicas, _, code) = request(&so(Some(0), None), 10, &inactive());
    assert_eq!(replicas, Some(0));
    assert_eq!(code, "scaled_to_zero");
}

#[test]
fn test_scale_to_min_replicas_from_lower_initial_replica_count() {
    let (replicas, _, code) = request(&so(Some(5), None), 1, &inactive());
    assert_eq!(replicas, Some(5));
    assert_eq!(code, "raised_to_min");
}

#[test]
fn test_scale_from_min_replicas_when_active() {
    let (replicas, last_active, code) = request(&so(Some(0), None), 0, &active("s0"));
    assert_eq!(replicas, Some(1));
    assert_eq!(code, "activated");
    assert_eq!(last_active, Some(SimTime::from_secs(3600)));
}

#[test]
fn test_scale_to_idle_replicas_when_not_active() {
    let (replicas, _, code) = request(&so(Some(5), Some(0)), 10, &inactive());
    assert_eq!(replicas, Some(0));
    assert_eq!(code, "scaled_to_zero");
}

#[test]
fn test_scale_from_idle_to_min_replicas_when_active() {
    let (replicas, last_active, code) = request(&so(Some(5), Some(0)), 0, &active("s0"));
    assert_eq!(replicas, Some(5));
    assert_eq!(code, "activated");
    assert!(last_active.is_some());
}

#[test]
fn test_event_wit_trigger_info() {
    let spec = so(Some(5), Some(0));
    let mut last_active = None;
    let out = request_scale(
        &spec,
        &mut last_active,
        SimTime::ZERO,
        SimTime::from_secs(60),
        2,
        &active("testTrigger"),
    );
    assert_eq!(out.replicas, Some(5));
    assert_eq!(
        out.reason.to_string(),
        "KEDA: active (testTrigger = 1 > activation 0), activating 2 → 5"
    );
}

#[test]
fn test_check_scaled_object_scalers_with_error() {
    let spec = so(None, None);
    let mut keda = Keda::new(SimTime::ZERO);
    let d = keda.poll(
        &spec,
        SimTime::from_secs(30),
        1,
        &[Err("some error".to_string())],
    );
    // isActive false, isError true, no active trigger.
    assert_eq!(d.replicas, None);
    assert_eq!(d.reason.code(), "query_error");
    assert_eq!(keda.last_active_time, None);
}

#[test]
fn test_check_scaled_object_find_first_active_not_ignore_others() {
    let mut spec = so(None, None);
    spec.triggers.push(spec.triggers[0].clone());
    let mut keda = Keda::new(SimTime::ZERO);
    let d = keda.poll(
        &spec,
        SimTime::from_secs(30),
        1,
        &[Ok(vec![1.0]), Err("some error".to_string())],
    );
    // isActive true, isError true, active triggers [s0]: no write, no refresh.
    assert_eq!(d.replicas, None);
    assert_eq!(
        d.reason,
        Reason::ActiveWithErrors {
            evidence: Evidence::Value {
                trigger: "s0".to_string(),
                value: 1.0,
                activation: 0.0
            },
            error: Evidence::Error {
                trigger: "s1".to_string(),
                message: "some error".to_string()
            },
        }
    );
    assert_eq!(keda.last_active_time, None);
}

#[test]
fn test_prometheus_scaler_execute_prom_query() {
    let err = |m: &str| Err(m.to_string());
    let cases: [(&str, QueryOutcome, bool, Result<f64, ()>); 12] = [
        ("no results", Ok(vec![]), true, Ok(0.0)),
        ("no values", Ok(vec![]), true, Ok(0.0)),
        ("no values but shouldn't ignore", Ok(vec![]), false, Err(())),
        ("valid value", Ok(vec![2.0]), true, Ok(2.0)),
        ("multiple results", Ok(vec![0.0, 0.0]), true, Err(())),
        (
            "error status response",
            err("prometheus query api returned error. status: 400"),
            true,
            Err(()),
        ),
        ("+Inf", Ok(vec![f64::INFINITY]), true, Ok(0.0)),
        (
            "+Inf but shouldn't ignore ",
            Ok(vec![f64::INFINITY]),
            false,
            Err(()),
        ),
        ("-Inf", Ok(vec![f64::NEG_INFINITY]), true, Ok(0.0)),
        (
            "-Inf but shouldn't ignore ",
            Ok(vec![f64::NEG_INFINITY]),
            false,
            Err(()),
        ),
        ("NaN", Ok(vec![f64::NAN]), true, Ok(0.0)),
        (
            "NaN but shouldn't ignore ",
            Ok(vec![f64::NAN]),
            false,
            Err(()),
        ),
    ];
    for (name, outcome, ignore_null_values, expected) in cases {
        let got = scaler::value(&outcome, "up", ignore_null_values);
        assert_eq!(got.map_err(|_| ()), expected, "{name}");
    }
    assert_eq!(
        scaler::value(&Ok(vec![f64::NAN]), "up", false),
        Err("prometheus query returns NaN".to_string())
    );
    assert_eq!(
        scaler::value(&Ok(vec![1.0, 2.0]), "up", true),
        Err("prometheus query up returned multiple elements".to_string())
    );
}

#[test]
fn test_prometheus_get_metric_spec_for_scaling() {
    let mut spec = so(None, None);
    spec.triggers.push(spec.triggers[0].clone());
    let names: Vec<String> = spec
        .hpa()
        .metrics
        .iter()
        .map(|m| m.metric_name().to_string())
        .collect();
    assert_eq!(names, ["s0-prometheus", "s1-prometheus"]);
}

/// `buildScaledObject` + `createMetricSpec(target)` + `GetMetricsWithFallback`.
struct FallbackCase {
    name: &'static str,
    fallback: Option<Fallback>,
    failures_before: i32,
    raw: Result<i64, String>,
    target: i64,
    current_replicas: i32,
    value: Result<i64, String>,
    active: bool,
    failures_after: i32,
}

fn fb(failure_threshold: i32, replicas: i32, behavior: FallbackBehavior) -> Option<Fallback> {
    Some(Fallback {
        failure_threshold,
        replicas,
        behavior,
    })
}

fn fallback_cases() -> Vec<FallbackCase> {
    use FallbackBehavior::*;
    let some_error = || Err("some error".to_string());
    vec![
        FallbackCase {
            name: "should return the expected metric when fallback is disabled",
            fallback: None,
            failures_before: 0,
            raw: Ok(5000),
            target: 3000,
            current_replicas: 1,
            value: Ok(5000),
            active: false,
            failures_after: 0,
        },
        FallbackCase {
            name: "should initialise the health status on success when fallback is enabled and status is empty",
            fallback: fb(3, 10, Static),
            failures_before: 0,
            raw: Ok(6000),
            target: 3000,
            current_replicas: 1,
            value: Ok(6000),
            active: false,
            failures_after: 0,
        },
        FallbackCase {
            name: "should reset the health status when scaler metrics are available when fallback is enabled",
            fallback: fb(3, 10, Static),
            failures_before: 5,
            raw: Ok(6000),
            target: 3000,
            current_replicas: 1,
            value: Ok(6000),
            active: false,
            failures_after: 0,
        },
        FallbackCase {
            name: "should not reset the health status when fallback is not enabled",
            fallback: None,
            failures_before: 5,
            raw: Ok(6000),
            target: 3000,
            current_replicas: 1,
            value: Ok(6000),
            active: false,
            failures_after: 5,
        },
        FallbackCase {
            name: "should propagate the error when fallback is disabled",
            fallback: None,
            failures_before: 0,
            raw: some_error(),
            target: 3000,
            current_replicas: 1,
            value: some_error(),
            active: false,
            failures_after: 0,
        },
        FallbackCase {
            name: "should bump the number of failures when metrics call fails",
            fallback: fb(3, 10, Static),
            failures_before: 0,
            raw: some_error(),
            target: 10_000,
            current_replicas: 1,
            value: some_error(),
            active: false,
            failures_after: 1,
        },
        FallbackCase {
            name: "should return a normalised metric when number of failures are beyond threshold",
            fallback: fb(3, 10, Static),
            failures_before: 3,
            raw: some_error(),
            target: 10_000,
            current_replicas: 5,
            value: Ok(100_000),
            active: true,
            failures_after: 4,
        },
        // A failed status write cannot happen here: the outcome is the case above's.
        FallbackCase {
            name: "should ignore error if we fail to update kubernetes status",
            fallback: fb(3, 10, Static),
            failures_before: 3,
            raw: some_error(),
            target: 10_000,
            current_replicas: 5,
            value: Ok(100_000),
            active: true,
            failures_after: 4,
        },
        FallbackCase {
            name: "should return error when fallback is enabled but scaledobject has invalid parameter",
            fallback: fb(-3, 10, Static),
            failures_before: 3,
            raw: some_error(),
            target: 10_000,
            current_replicas: 5,
            value: some_error(),
            active: false,
            failures_after: 3,
        },
        FallbackCase {
            name: "should use fallback replicas when current replicas is lower when behavior is 'currentReplicasIfHigher'",
            fallback: fb(3, 10, CurrentReplicasIfHigher),
            failures_before: 3,
            raw: some_error(),
            target: 10_000,
            current_replicas: 4,
            value: Ok(100_000),
            active: true,
            failures_after: 4,
        },
        FallbackCase {
            name: "should use current replicas when behavior is 'currentReplicas'",
            fallback: fb(3, 10, CurrentReplicas),
            failures_before: 3,
            raw: some_error(),
            target: 10_000,
            current_replicas: 6,
            value: Ok(60_000),
            active: true,
            failures_after: 4,
        },
        FallbackCase {
            name: "should ignore current replicas when behavior is 'static'",
            fallback: fb(3, 10, Static),
            failures_before: 3,
            raw: some_error(),
            target: 10_000,
            current_replicas: 15,
            value: Ok(100_000),
            active: true,
            failures_after: 4,
        },
    ]
}

#[test]
fn fallback_test_go() {
    for c in fallback_cases() {
        let mut failures = c.failures_before;
        let got = with_fallback(
            c.fallback.as_ref(),
            &mut failures,
            c.raw,
            MetricTarget::AverageValue(c.target),
            Replicas {
                current: c.current_replicas,
                ready: c.current_replicas,
            },
        );
        assert_eq!(
            got,
            WithFallback {
                value: c.value,
                active: c.active
            },
            "{}",
            c.name
        );
        assert_eq!(failures, c.failures_after, "{}", c.name);
    }
}

/// Beyond the upstream table: `currentReplicasIfLower`, and a `Value` target divided by the
/// ready pods (none ready: "error performing fallback").
#[test]
fn fallback_if_lower_and_value_targets() {
    let lower = fb(0, 10, FallbackBehavior::CurrentReplicasIfLower);
    let mut failures = 0;
    let r = |current, ready| Replicas { current, ready };
    let got = with_fallback(
        lower.as_ref(),
        &mut failures,
        Err("x".into()),
        MetricTarget::AverageValue(2000),
        r(4, 4),
    );
    assert_eq!(got.value, Ok(8000));
    let got = with_fallback(
        lower.as_ref(),
        &mut failures,
        Err("x".into()),
        MetricTarget::Value(2000),
        r(4, 3),
    );
    // int64(2 × 1000 × 4/3) = 2666.
    assert_eq!(got.value, Ok(2666));
    let got = with_fallback(
        lower.as_ref(),
        &mut failures,
        Err("x".into()),
        MetricTarget::Value(2000),
        r(4, 0),
    );
    assert_eq!(
        got,
        WithFallback {
            value: Err("error performing fallback".to_string()),
            active: false
        }
    );
}

fn ready(n: i32) -> Replicas {
    Replicas {
        current: n,
        ready: n,
    }
}

#[test]
fn test_get_scaled_object_metrics_direct_call() {
    // Without useCachedMetrics the HPA's fetch queries again: it sees 30, not the poll's 10.
    let spec = so(None, None);
    let mut keda = Keda::new(SimTime::ZERO);
    keda.poll(&spec, SimTime::ZERO, 1, &[Ok(vec![10.0])]);
    let (metrics, _) = keda.external_metrics(&spec, ready(1), &[Ok(vec![30.0])]);
    assert_eq!(metrics, [hpa::MetricReading::Total(Ok(30_000))]);
}

#[test]
fn test_get_scaled_object_metrics_from_cache() {
    let mut spec = so(None, None);
    spec.triggers[0].use_cached_metrics = true;
    let mut keda = Keda::new(SimTime::ZERO);
    // Before any poll there is no record: the fetch queries.
    let (metrics, _) = keda.external_metrics(&spec, ready(1), &[Ok(vec![30.0])]);
    assert_eq!(metrics, [hpa::MetricReading::Total(Ok(30_000))]);
    keda.poll(&spec, SimTime::ZERO, 1, &[Ok(vec![10.0])]);
    let (metrics, _) = keda.external_metrics(&spec, ready(1), &[Ok(vec![30.0])]);
    assert_eq!(metrics, [hpa::MetricReading::Total(Ok(10_000))]);
}

#[test]
fn test_get_scaled_object_metrics_error_does_not_clear_other_triggers_cached_record() {
    let mut spec = so(None, None);
    spec.triggers[0].use_cached_metrics = true;
    spec.triggers.push(Trigger {
        use_cached_metrics: false,
        ..spec.triggers[0].clone()
    });
    let mut keda = Keda::new(SimTime::ZERO);
    keda.poll(&spec, SimTime::ZERO, 1, &[Ok(vec![10.0]), Ok(vec![1.0])]);
    let (metrics, _) = keda.external_metrics(
        &spec,
        ready(1),
        &[Ok(vec![99.0]), Err("scaler error".to_string())],
    );
    assert_eq!(
        metrics,
        [
            hpa::MetricReading::Total(Ok(10_000)),
            hpa::MetricReading::Total(Err("scaler error".to_string())),
        ]
    );
    assert_eq!(keda.cached[0], Some(Ok(10_000)));
}
