//! Upstream unit tests ported by case name, from kubernetes/kubernetes:
//! * `pkg/controller/podautoscaler/replica_calculator_test.go` (K1) — `TestReplicaCalc*`,
//!   `TestPlainMetricReplicaCalc*`, `TestExternalPerPodMetric*`, `TestGroupPods`;
//! * `pkg/controller/podautoscaler/horizontal_test.go` (K2) — `TestNormalizeDesiredReplicas`,
//!   `TestNormalizeDesiredReplicasWithBehavior`, `TestScalingWithRules`,
//!   `TestStoreScaleEvents`, `TestCalculateScaleUpLimitWithScalingRules`,
//!   `TestCalculateScaleDownLimitWithBehaviors`, `TestConvertDesiredReplicasWithRules`,
//!   `TestUpscaleCap`, `TestUpscaleCapGreaterThanMaxReplicas`;
//! * `pkg/apis/autoscaling/v2/defaults_test.go` (K3) — `TestGenerateScaleUpRules`,
//!   `TestGenerateScaleDownRules`.
//!
//! Go's `time.Now()` is `NOW`; the zero `metav1.Time` of the fixtures (pod start, condition
//! transition, sample timestamp) is `SimTime::ZERO`, long before `NOW`. Fixture constants are
//! those of the Go tests: tolerance 0.1, CPU initialisation period 2 min, initial readiness
//! delay 10 s; `hotCPUCreationTime` = now, `coolCPUCreationTime` = now − 3 min; two containers
//! per pod, so a CPU level or request counts twice per pod.
//!
//! Not ported, and why:
//! * `TestReplicaCalcResourceScale` cases naming a container ("scale up: container metric",
//!   "scale up: hot-CPU container scales less", "scale up: failed pods ignored with missing
//!   container metric", "scale up: container metrics with failed pods ignored", "scale up:
//!   container metrics with pods being deleted ignored", "scale down: container metric", "scale
//!   down: container metric excludes unready pods", "scale down: container metric excludes
//!   unscheduled pods", "scale down: container metric ignores hot-CPU pods", "scale down:
//!   container metric with failed pods ignored", "scale down: still-running pods being deleted
//!   are ignored"): the ContainerResource metric type is not part of `HpaSpec` (no container
//!   model in the simulator).
//! * `TestCalculateRequests`, `TestCalculatePodRequestsFromContainers_NonExistentContainer`:
//!   container and pod-level request summing is the world's job; a pod carries one
//!   `cpu_request_milli`.
//! * `TestReplicaCalcEmptyMetrics` is ported with a different error text: an empty answer of
//!   the resource metrics API is, in these inputs, a pod with no sample.
//! * `TestReplicaCalcExternalMetricUsageOverflow`: summing the series (and capping the sum) is
//!   the world's job; ported as the capped sum reaching the calculator.
//! * `TestStoreScaleEvents` cases "empty entries with default behavior" and "one outdated entry
//!   to be kept untouched without behavior": without `behavior` `Hpa::sync` never stores an
//!   event; checked instead by `tests::legacy_path_stores_no_scale_events`.
//! * The rest of `horizontal_test.go` (`TestScaleUp*`, `TestScaleDown*`, conditions, events,
//!   status updates, selectors, monitor labels, `TestMultipleHPAs`…) drives the controller
//!   through fake API clients; what they check beyond the calculators and normalisation ported
//!   here is API plumbing the simulator has no counterpart for.

use super::calculator::{group_pods, replicas_for_metric, Tolerances};
use super::normalize::{self, RateArgs, Recommendation, ScaleEvent, ScalingLimited};
use super::*;
use crate::sim::{SimDuration, SimTime};

const NOW: SimTime = SimTime::from_secs(1_000_000);
const MIN: i64 = 60;

fn ago(s: i64) -> SimTime {
    NOW - SimDuration::from_secs(s)
}

fn hot() -> SimTime {
    NOW
}

fn cool() -> SimTime {
    ago(3 * MIN)
}

/// `defaultTestingTolerance`, `defaultTestingCPUInitializationPeriod`,
/// `defaultTestingDelayOfInitialReadinessStatus`.
fn cfg() -> ControllerConfig {
    ControllerConfig {
        cpu_initialization_period: SimDuration::from_secs(2 * MIN),
        initial_readiness_delay: SimDuration::from_secs(10),
        ..ControllerConfig::default()
    }
}

const DEFAULT_TOL: Tolerances = Tolerances {
    scale_down: 0.1,
    scale_up: 0.1,
};

const CONTAINERS: i64 = 2;

/// `calcScenario` / `replicaCalcTestCase`: the pods the fake lister returns.
#[derive(Default, Clone)]
struct Fx {
    current: i32,
    readiness: Vec<bool>,
    start: Vec<SimTime>,
    phase: Vec<Phase>,
    deleting: Vec<bool>,
    /// CPU request per container, milli; pods past the list have none.
    requests: Vec<i64>,
}

impl Fx {
    fn new(current: i32) -> Self {
        Fx {
            current,
            ..Fx::default()
        }
    }

    /// `newFakePodClient`: `currentReplicas` pods, more if `podPhase` lists more.
    fn pods(&self) -> Vec<Pod> {
        let n = (self.current as usize).max(self.phase.len());
        (0..n)
            .map(|i| Pod {
                phase: self.phase.get(i).copied().unwrap_or(Phase::Running),
                deleting: self.deleting.get(i).copied().unwrap_or(false),
                ready: Some(self.readiness.get(i).copied().unwrap_or(true)),
                ready_last_transition: SimTime::ZERO,
                start_time: Some(self.start.get(i).copied().unwrap_or(SimTime::ZERO)),
                cpu_request_milli: self.requests.get(i).map(|r| r * CONTAINERS),
            })
            .collect()
    }
}

fn sample(value_milli: i64) -> Option<Sample> {
    Some(Sample {
        value_milli,
        timestamp: SimTime::ZERO,
        window: SimDuration::from_secs(MIN),
    })
}

/// `makePodMetricLevels`: the same usage in both containers of each pod.
fn cpu_levels(levels: &[i64]) -> MetricReading {
    MetricReading::PerPod(levels.iter().map(|&l| sample(l * CONTAINERS)).collect())
}

fn pod_levels(levels: &[i64]) -> MetricReading {
    MetricReading::PerPod(levels.iter().map(|&l| sample(l)).collect())
}

fn id(name: &str) -> MetricId {
    MetricId {
        name: name.to_string(),
        selector: vec![],
    }
}

fn cpu_utilization(target: i32) -> MetricSpec {
    MetricSpec::Resource {
        name: "cpu".to_string(),
        target: MetricTarget::Utilization(target),
    }
}

fn pods_metric(target: i64) -> MetricSpec {
    MetricSpec::Pods {
        metric: id("qps"),
        target: MetricTarget::AverageValue(target),
    }
}

fn object(target: MetricTarget) -> MetricSpec {
    MetricSpec::Object {
        described: ObjectRef {
            api_version: "apps/v1".to_string(),
            kind: "Deployment".to_string(),
            name: "some-deployment".to_string(),
        },
        metric: id("qps"),
        target,
    }
}

fn external(target: MetricTarget) -> MetricSpec {
    MetricSpec::External {
        metric: id("qps"),
        target,
    }
}

/// `runTest`: the calculator the metric type selects; `currentReplicas` is both the spec and
/// the status count, as the Go harness passes it.
fn run(
    fx: &Fx,
    metric: &MetricSpec,
    reading: MetricReading,
    tol: Tolerances,
) -> Result<calculator::Proposal, String> {
    let input = Input {
        now: NOW,
        spec_replicas: fx.current,
        status_replicas: fx.current,
        pods: fx.pods(),
        metrics: vec![],
    };
    replicas_for_metric(metric, Some(&reading), &input, tol, &cfg())
}

fn replicas(fx: &Fx, metric: &MetricSpec, reading: MetricReading) -> i32 {
    run(fx, metric, reading, DEFAULT_TOL)
        .expect("the calculator answers")
        .replicas
}

/// A resource case of `TestReplicaCalcResourceScale` and the `TestReplicaCalc*` functions
/// with a `resourceInfo`: expected replicas and utilisation percent.
fn resource_case(name: &str, fx: Fx, levels: &[i64], target: i32, want: i32, want_util: i32) {
    let p = run(
        &fx,
        &cpu_utilization(target),
        cpu_levels(levels),
        DEFAULT_TOL,
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(p.replicas, want, "{name}");
    assert_eq!(
        (p.ratio * f64::from(target)).round() as i32,
        want_util,
        "{name}: utilization"
    );
}

fn requests(n: usize, milli: i64) -> Vec<i64> {
    vec![milli; n]
}

use Phase::{Failed, Pending, Running};

#[test]
fn test_replica_calc_resource_scale() {
    let fx =
        |current, readiness: &[bool], start: &[SimTime], phase: &[Phase], deleting: &[bool], n| {
            Fx {
                current,
                readiness: readiness.to_vec(),
                start: start.to_vec(),
                phase: phase.to_vec(),
                deleting: deleting.to_vec(),
                requests: requests(n, 1000),
            }
        };
    let (t, f) = (true, false);
    resource_case(
        "scale up",
        fx(3, &[], &[], &[], &[], 3),
        &[300, 500, 700],
        30,
        5,
        50,
    );
    resource_case(
        "scale up: unready pod scales less",
        fx(3, &[f, t, t], &[], &[], &[], 3),
        &[300, 500, 700],
        30,
        4,
        60,
    );
    resource_case(
        "scale up: hot-CPU pod scales less",
        fx(3, &[], &[hot(), cool(), cool()], &[], &[], 3),
        &[300, 500, 700],
        30,
        4,
        60,
    );
    resource_case(
        "no scale: unready pods ignored",
        fx(3, &[t, f, f], &[], &[], &[], 3),
        &[400, 500, 700],
        30,
        3,
        40,
    );
    resource_case(
        "no scale: hot-CPU pods ignored",
        fx(3, &[t, f, f], &[cool(), hot(), hot()], &[], &[], 3),
        &[400, 500, 700],
        30,
        3,
        40,
    );
    resource_case(
        "scale up: failed pods ignored",
        fx(
            2,
            &[t, t, f, f],
            &[],
            &[Running, Running, Failed, Failed],
            &[],
            4,
        ),
        &[500, 700],
        30,
        4,
        60,
    );
    resource_case(
        "scale up: pods being deleted are ignored",
        fx(2, &[t, t, f, f], &[], &[Running; 4], &[f, f, t, t], 4),
        &[500, 700],
        30,
        4,
        60,
    );
    resource_case(
        "scale down",
        fx(5, &[], &[], &[], &[], 5),
        &[100, 300, 500, 250, 250],
        50,
        3,
        28,
    );
    resource_case(
        "scale down: exclude unready pods",
        fx(5, &[t, t, t, f, f], &[], &[], &[], 5),
        &[100, 300, 500, 250, 250],
        50,
        2,
        30,
    );
    resource_case(
        "scale down: exclude unscheduled pods",
        fx(
            5,
            &[t, f, f, f, f],
            &[],
            &[Running, Pending, Pending, Pending, Pending],
            &[],
            5,
        ),
        &[100],
        50,
        1,
        10,
    );
    resource_case(
        "scale down: ignore hot-CPU pods",
        fx(5, &[], &[cool(), cool(), cool(), hot(), hot()], &[], &[], 5),
        &[100, 300, 500, 250, 250],
        50,
        2,
        30,
    );
    resource_case(
        "scale down: failed pods ignored",
        fx(
            5,
            &[t, t, t, t, t, f, f],
            &[],
            &[Running, Running, Running, Running, Running, Failed, Failed],
            &[],
            7,
        ),
        &[100, 300, 500, 250, 250],
        50,
        3,
        28,
    );
    resource_case(
        "scale down: pods being deleted are ignored",
        fx(
            5,
            &[t, t, t, t, t, f, f],
            &[],
            &[Running; 7],
            &[f, f, f, f, f, t, t],
            7,
        ),
        &[100, 300, 500, 250, 250],
        50,
        3,
        28,
    );
}

#[test]
fn test_replica_calc_disjoint_resources_metrics() {
    // The only sample is of a pod the lister does not list ("an-older-pod-name").
    let fx = Fx {
        requests: vec![1000],
        ..Fx::new(1)
    };
    let reading = MetricReading::PerPod(vec![None, sample(100 * CONTAINERS)]);
    let err = run(&fx, &cpu_utilization(100), reading, DEFAULT_TOL).unwrap_err();
    assert!(
        err.contains("no metrics returned matched known pods"),
        "{err}"
    );
}

#[test]
fn test_replica_calc_scale_up_overflow() {
    let p = replicas(
        &Fx::new(3),
        &object(MetricTarget::Value(1)),
        MetricReading::Total(Ok(i64::MAX)),
    );
    assert_eq!(p, i32::MAX);
}

#[test]
fn test_external_per_pod_metric_replica_overflow() {
    let m = external(MetricTarget::AverageValue(1));
    assert_eq!(
        replicas(&Fx::new(1), &m, MetricReading::Total(Ok(i64::MAX))),
        i32::MAX
    );
}

#[test]
fn test_external_per_pod_metric_usage_overflow() {
    let m = external(MetricTarget::AverageValue(i64::MAX));
    assert_eq!(
        replicas(&Fx::new(1), &m, MetricReading::Total(Ok(i64::MAX))),
        1
    );
}

#[test]
fn test_replica_calc_scale_up_cm() {
    assert_eq!(
        replicas(
            &Fx::new(3),
            &pods_metric(15000),
            pod_levels(&[20000, 10000, 30000])
        ),
        4
    );
}

#[test]
fn test_replica_calc_scale_up_cm_unready_hot_cpu_no_less_scale() {
    let fx = Fx {
        readiness: vec![true, true, false],
        start: vec![cool(), cool(), hot()],
        ..Fx::new(3)
    };
    assert_eq!(
        replicas(&fx, &pods_metric(15000), pod_levels(&[50000, 10000, 30000])),
        6
    );
}

#[test]
fn test_replica_calc_scale_up_cm_unready_hot_cpu_scale_would_scale_down() {
    let fx = Fx {
        readiness: vec![false, true, false],
        start: vec![hot(), cool(), hot()],
        ..Fx::new(3)
    };
    assert_eq!(
        replicas(&fx, &pods_metric(15000), pod_levels(&[50000, 15000, 30000])),
        7
    );
}

#[test]
fn test_replica_calc_scale_up_cm_object() {
    let m = object(MetricTarget::Value(15000));
    assert_eq!(
        replicas(&Fx::new(3), &m, MetricReading::Total(Ok(20000))),
        4
    );
}

#[test]
fn test_replica_calc_scale_up_cm_per_pod_object() {
    let m = object(MetricTarget::AverageValue(5000));
    assert_eq!(
        replicas(&Fx::new(3), &m, MetricReading::Total(Ok(20000))),
        4
    );
}

#[test]
fn test_replica_calc_scale_up_cm_object_ignores_unready_pods() {
    let fx = Fx {
        readiness: vec![false, true, false],
        ..Fx::new(3)
    };
    let m = object(MetricTarget::Value(10000));
    assert_eq!(replicas(&fx, &m, MetricReading::Total(Ok(50000))), 5);
}

#[test]
fn test_replica_calc_scale_up_cm_external_ignores_unready_pods() {
    let fx = Fx {
        readiness: vec![false, true, false],
        ..Fx::new(3)
    };
    let m = external(MetricTarget::Value(4400));
    assert_eq!(replicas(&fx, &m, MetricReading::Total(Ok(8600))), 2);
}

#[test]
fn test_replica_calc_scale_up_per_pod_cm_external() {
    let m = external(MetricTarget::AverageValue(2150));
    assert_eq!(replicas(&Fx::new(3), &m, MetricReading::Total(Ok(8600))), 4);
}

#[test]
fn test_replica_calc_scale_down_cm() {
    let levels = pod_levels(&[12000; 5]);
    assert_eq!(replicas(&Fx::new(5), &pods_metric(20000), levels), 3);
}

#[test]
fn test_replica_calc_scale_down_per_pod_cm_object() {
    let m = object(MetricTarget::AverageValue(2000));
    assert_eq!(replicas(&Fx::new(5), &m, MetricReading::Total(Ok(6000))), 3);
}

#[test]
fn test_replica_calc_scale_down_cm_object() {
    let m = object(MetricTarget::Value(20000));
    assert_eq!(
        replicas(&Fx::new(5), &m, MetricReading::Total(Ok(12000))),
        3
    );
}

#[test]
fn test_replica_calc_scale_down_cm_external() {
    let m = external(MetricTarget::Value(14334));
    assert_eq!(replicas(&Fx::new(5), &m, MetricReading::Total(Ok(8600))), 3);
}

#[test]
fn test_replica_calc_scale_down_per_pod_cm_external() {
    let m = external(MetricTarget::AverageValue(2867));
    assert_eq!(replicas(&Fx::new(5), &m, MetricReading::Total(Ok(8600))), 3);
}

/// The requests 0.9, 1.0, 1.1 of the tolerance tests.
fn uneven_requests() -> Fx {
    Fx {
        requests: vec![900, 1000, 1100],
        ..Fx::new(3)
    }
}

#[test]
fn test_replica_calc_tolerance() {
    resource_case(
        "TestReplicaCalcTolerance",
        uneven_requests(),
        &[1010, 1030, 1020],
        100,
        3,
        102,
    );
}

#[test]
fn test_replica_calc_tolerance_cm() {
    let levels = pod_levels(&[20000, 21000, 21000]);
    assert_eq!(replicas(&Fx::new(3), &pods_metric(20000), levels), 3);
}

#[test]
fn test_replica_calc_tolerance_cm_object() {
    let m = object(MetricTarget::Value(20000));
    assert_eq!(
        replicas(&Fx::new(3), &m, MetricReading::Total(Ok(20666))),
        3
    );
}

#[test]
fn test_replica_calc_tolerance_per_pod_cm_object() {
    let m = object(MetricTarget::AverageValue(5000));
    assert_eq!(
        replicas(&Fx::new(4), &m, MetricReading::Total(Ok(20166))),
        4
    );
}

#[test]
fn test_replica_calc_tolerance_cm_external() {
    let m = external(MetricTarget::Value(8888));
    assert_eq!(replicas(&Fx::new(3), &m, MetricReading::Total(Ok(8600))), 3);
}

#[test]
fn test_replica_calc_tolerance_per_pod_cm_external() {
    let m = external(MetricTarget::AverageValue(2900));
    assert_eq!(replicas(&Fx::new(3), &m, MetricReading::Total(Ok(8600))), 3);
}

type ToleranceCase = (&'static str, (f64, f64), [i64; 3], i32, i32);

#[test]
fn test_replica_calc_configurable_tolerance() {
    // (name, (scale-down, scale-up) tolerance, CPU levels, replicas, utilization)
    let cases: [ToleranceCase; 5] = [
        (
            "Outside of a 0% tolerance",
            (0.0, 0.0),
            [909, 1010, 1111],
            4,
            101,
        ),
        (
            "Within a 200% scale-up tolerance",
            (0.1, 2.0),
            [1890, 1910, 1900],
            3,
            190,
        ),
        (
            "Outside 8% scale-up tolerance (and superfuous scale-down tolerance)",
            (2.0, 0.08),
            [1100, 1080, 1090],
            4,
            109,
        ),
        (
            "Within a 36% scale-down tolerance",
            (0.36, 0.1),
            [660, 640, 650],
            3,
            65,
        ),
        (
            "Outside a 34% scale-down tolerance",
            (0.34, 0.1),
            [660, 640, 650],
            2,
            65,
        ),
    ];
    for (name, (scale_down, scale_up), levels, want, want_util) in cases {
        let tol = Tolerances {
            scale_down,
            scale_up,
        };
        let p = run(
            &uneven_requests(),
            &cpu_utilization(100),
            cpu_levels(&levels),
            tol,
        )
        .unwrap();
        assert_eq!(
            (p.replicas, (p.ratio * 100.0).round() as i32),
            (want, want_util),
            "{name}"
        );
    }
}

const UP_1PCT: Tolerances = Tolerances {
    scale_down: 0.1,
    scale_up: 0.01,
};

#[test]
fn test_replica_calc_configurable_tolerance_cm() {
    let levels = pod_levels(&[20000, 21000, 21000]);
    let p = run(&Fx::new(3), &pods_metric(20000), levels, UP_1PCT).unwrap();
    assert_eq!(p.replicas, 4);
}

#[test]
fn test_replica_calc_configurable_tolerance_cm_object() {
    let m = object(MetricTarget::Value(20000));
    let p = run(&Fx::new(3), &m, MetricReading::Total(Ok(20666)), UP_1PCT).unwrap();
    assert_eq!(p.replicas, 4);
}

#[test]
fn test_replica_calc_configurable_tolerance_per_pod_cm_object() {
    let m = object(MetricTarget::AverageValue(5000));
    let p = run(&Fx::new(4), &m, MetricReading::Total(Ok(20208)), UP_1PCT).unwrap();
    assert_eq!(p.replicas, 5);
}

#[test]
fn test_replica_calc_configurable_tolerance_cm_external() {
    let m = external(MetricTarget::Value(8800));
    let p = run(&Fx::new(3), &m, MetricReading::Total(Ok(8900)), UP_1PCT).unwrap();
    assert_eq!(p.replicas, 4);
}

#[test]
fn test_replica_calc_configurable_tolerance_per_pod_cm_external() {
    let m = external(MetricTarget::AverageValue(2800));
    let p = run(&Fx::new(3), &m, MetricReading::Total(Ok(8600)), UP_1PCT).unwrap();
    assert_eq!(p.replicas, 4);
}

#[test]
fn test_replica_calc_superfluous_metrics() {
    let fx = Fx {
        requests: requests(4, 1000),
        ..Fx::new(4)
    };
    let levels = [4000, 9500, 3000, 7000, 3200, 2000];
    resource_case(
        "TestReplicaCalcSuperfluousMetrics",
        fx,
        &levels,
        100,
        24,
        587,
    );
}

#[test]
fn test_replica_calc_missing_metrics() {
    let fx = Fx {
        requests: requests(4, 1000),
        ..Fx::new(4)
    };
    resource_case("TestReplicaCalcMissingMetrics", fx, &[400, 95], 100, 3, 24);
}

#[test]
fn test_replica_calc_empty_metrics() {
    let fx = Fx {
        requests: requests(3, 1000),
        ..Fx::new(4)
    };
    assert!(run(&fx, &cpu_utilization(100), cpu_levels(&[]), DEFAULT_TOL).is_err());
}

#[test]
fn test_replica_calc_empty_cpu_request() {
    let err = run(
        &Fx::new(1),
        &cpu_utilization(100),
        cpu_levels(&[200]),
        DEFAULT_TOL,
    )
    .unwrap_err();
    assert!(err.contains("missing request for"), "{err}");
}

#[test]
fn test_plain_metric_replica_calc_missing_metrics_no_change_eq() {
    let levels = pod_levels(&[20000, 19000, 21000]);
    assert_eq!(replicas(&Fx::new(5), &pods_metric(20000), levels), 5);
}

fn two_pods() -> Fx {
    Fx {
        requests: requests(2, 1000),
        ..Fx::new(2)
    }
}

#[test]
fn test_replica_calc_missing_metrics_no_change() {
    resource_case(
        "TestReplicaCalcMissingMetricsNoChangeEq",
        two_pods(),
        &[1000],
        100,
        2,
        100,
    );
    resource_case(
        "TestReplicaCalcMissingMetricsNoChangeGt",
        two_pods(),
        &[1900],
        100,
        2,
        190,
    );
    resource_case(
        "TestReplicaCalcMissingMetricsNoChangeLt",
        two_pods(),
        &[600],
        100,
        2,
        60,
    );
}

#[test]
fn test_replica_calc_missing_metrics_unready() {
    let three = |readiness: Vec<bool>, start: Vec<SimTime>| Fx {
        readiness,
        start,
        requests: requests(3, 1000),
        ..Fx::new(3)
    };
    let unready = || three(vec![false, true, true], vec![]);
    let hot_first = || three(vec![], vec![hot(), cool(), cool()]);
    resource_case(
        "TestReplicaCalcMissingMetricsUnreadyChange",
        unready(),
        &[100, 450],
        50,
        3,
        45,
    );
    resource_case(
        "TestReplicaCalcMissingMetricsHotCpuNoChange",
        hot_first(),
        &[100, 450],
        50,
        3,
        45,
    );
    resource_case(
        "TestReplicaCalcMissingMetricsUnreadyScaleUp",
        unready(),
        &[100, 2000],
        50,
        4,
        200,
    );
    let hot_unready = three(vec![false, true, true], vec![hot(), cool(), cool()]);
    resource_case(
        "TestReplicaCalcMissingMetricsHotCpuScaleUp",
        hot_unready,
        &[100, 2000],
        50,
        4,
        200,
    );
    let four = Fx {
        readiness: vec![false, true, true, true],
        requests: requests(4, 1000),
        ..Fx::new(4)
    };
    resource_case(
        "TestReplicaCalcMissingMetricsUnreadyScaleDown",
        four,
        &[100, 100, 100],
        50,
        3,
        10,
    );
}

#[test]
fn test_replica_calc_missing_metrics_scale_down_target_over100() {
    let fx = Fx {
        readiness: vec![false, true, true, true],
        requests: vec![1000, 1000, 2000, 2000],
        ..Fx::new(4)
    };
    resource_case(
        "TestReplicaCalcMissingMetricsScaleDownTargetOver100",
        fx,
        &[200, 100, 100],
        300,
        2,
        6,
    );
}

#[test]
fn test_replica_calc_during_rolling_update_with_max_surge() {
    let fx = Fx {
        phase: vec![Running; 3],
        requests: requests(3, 1000),
        ..Fx::new(2)
    };
    resource_case(
        "TestReplicaCalcDuringRollingUpdateWithMaxSurge",
        fx,
        &[100, 100],
        50,
        2,
        10,
    );
}

#[test]
fn test_replica_calc_during_rolling_update_with_max_surge_cm() {
    let fx = Fx {
        phase: vec![Running; 3],
        ..Fx::new(2)
    };
    assert_eq!(
        replicas(&fx, &pods_metric(17000), pod_levels(&[10000, 10000])),
        2
    );
}

#[test]
fn test_replica_calc_computed_tolerance_alg_implementation() {
    let start_pods = 10;
    let total_used: i64 = 10 * 150;
    let total_requested = 2 * total_used;
    let requested_to_used = (total_requested / total_used) as f64;
    let per_pod_requested = total_requested / 10;
    let target = (1.0 / (requested_to_used * (1.0 - 0.1))).abs() + 0.01;
    let final_target = (target * 100.0) as i32;
    let used_ratio = total_used as f64 / (total_requested as f64 * target);
    let final_pods = (used_ratio * f64::from(start_pods)).ceil() as i32;
    let offsets = [100, -100, 10, -10, 2, -2, 1, -1, 0, 0];
    let fx = Fx {
        requests: offsets.iter().map(|o| per_pod_requested + o).collect(),
        ..Fx::new(start_pods)
    };
    let levels = [total_used / 10; 10];
    let want_util = (total_used * 100 / total_requested) as i32;
    resource_case(
        "scaling",
        fx.clone(),
        &levels,
        final_target,
        final_pods,
        want_util,
    );
    // Just inside the tolerance: no change.
    let target = (1.0 / (requested_to_used * (1.0 - 0.1))).abs() + 0.004;
    resource_case(
        "unscaling",
        fx,
        &levels,
        (target * 100.0) as i32,
        start_pods,
        want_util,
    );
}

#[test]
fn test_replica_calc_external_metric_usage_overflow() {
    let m = external(MetricTarget::Value(i64::MAX));
    assert_eq!(
        replicas(&Fx::new(3), &m, MetricReading::Total(Ok(i64::MAX))),
        3
    );
}

/// A `TestGroupPods` case.
type GroupCase = (
    &'static str,
    Vec<Pod>,
    Vec<Option<Sample>>,
    bool,
    usize,
    Vec<usize>,
    Vec<usize>,
    Vec<usize>,
);

#[test]
fn test_group_pods() {
    fn pod(phase: Phase, start: Option<SimTime>, ready: Option<(bool, SimTime)>) -> Pod {
        Pod {
            phase,
            deleting: false,
            ready: ready.map(|r| r.0),
            ready_last_transition: ready.map_or(SimTime::ZERO, |r| r.1),
            start_time: start,
            cpu_request_milli: None,
        }
    }
    let s = |timestamp: SimTime, window_s: i64| {
        Some(Sample {
            value_milli: 1,
            timestamp,
            window: SimDuration::from_secs(window_s),
        })
    };
    let bare = s(SimTime::ZERO, 0);
    let succeeded = Phase::Succeeded;
    // (name, pods, samples, CPU?, ready count, unready, missing, ignored)
    let cases: Vec<GroupCase> = vec![
        ("void", vec![], vec![], true, 0, vec![], vec![], vec![]),
        (
            "count in a ready pod - memory",
            vec![pod(succeeded, None, None)],
            vec![s(NOW, MIN)],
            false,
            1,
            vec![],
            vec![],
            vec![],
        ),
        (
            "unready a pod without ready condition - CPU",
            vec![pod(succeeded, Some(NOW), None)],
            vec![bare],
            true,
            0,
            vec![0],
            vec![],
            vec![],
        ),
        (
            "count in a ready pod with fresh metrics during initialization period - CPU",
            vec![pod(succeeded, Some(ago(MIN)), Some((true, ago(30))))],
            vec![s(NOW, 30)],
            true,
            1,
            vec![],
            vec![],
            vec![],
        ),
        (
            "unready a ready pod without fresh metrics during initialization period - CPU",
            vec![pod(succeeded, Some(ago(MIN)), Some((true, ago(30))))],
            vec![s(NOW, 60)],
            true,
            0,
            vec![0],
            vec![],
            vec![],
        ),
        (
            "unready an unready pod during initialization period - CPU",
            vec![pod(
                succeeded,
                Some(ago(10 * MIN)),
                Some((false, ago(9 * MIN + 54))),
            )],
            vec![bare],
            true,
            0,
            vec![0],
            vec![],
            vec![],
        ),
        (
            "count in a ready pod without fresh metrics after initialization period - CPU",
            vec![pod(
                succeeded,
                Some(ago(3 * MIN)),
                Some((true, ago(3 * MIN))),
            )],
            vec![s(ago(2 * MIN), MIN)],
            true,
            1,
            vec![],
            vec![],
            vec![],
        ),
        (
            "count in an unready pod that was ready after initialization period - CPU",
            vec![pod(
                succeeded,
                Some(ago(10 * MIN)),
                Some((false, ago(9 * MIN))),
            )],
            vec![bare],
            true,
            1,
            vec![],
            vec![],
            vec![],
        ),
        (
            "unready pod that has never been ready after initialization period - CPU",
            vec![pod(
                succeeded,
                Some(ago(10 * MIN)),
                Some((false, ago(9 * MIN + 50))),
            )],
            vec![bare],
            true,
            1,
            vec![],
            vec![],
            vec![],
        ),
        (
            "a missing pod",
            vec![pod(succeeded, Some(ago(3 * MIN)), None)],
            vec![],
            true,
            0,
            vec![],
            vec![0],
            vec![],
        ),
        (
            "several pods",
            vec![
                pod(succeeded, Some(NOW), None),
                pod(succeeded, Some(ago(3 * MIN)), Some((true, ago(3 * MIN)))),
                pod(succeeded, Some(ago(3 * MIN)), None),
            ],
            vec![bare, bare],
            true,
            1,
            vec![0],
            vec![2],
            vec![],
        ),
        (
            "pending pods are unreadied",
            vec![pod(Pending, None, None)],
            vec![],
            true,
            0,
            vec![0],
            vec![],
            vec![],
        ),
        (
            "ignore pods with deletion timestamps",
            vec![Pod {
                deleting: true,
                ..pod(Pending, None, None)
            }],
            vec![bare],
            true,
            0,
            vec![],
            vec![],
            vec![0],
        ),
        (
            "ignore pods in a failed state",
            vec![pod(Failed, None, None)],
            vec![bare],
            true,
            0,
            vec![],
            vec![],
            vec![0],
        ),
    ];
    for (name, pods, samples, is_cpu, ready, unready, missing, ignored) in cases {
        let g = group_pods(&pods, &samples, is_cpu, NOW, &cfg());
        assert_eq!(
            (g.ready_count, g.unready, g.missing, g.ignored),
            (ready, unready, missing, ignored),
            "{name}"
        );
    }
}

// ---- horizontal_test.go ----

fn rec(replicas: i32, at: SimTime) -> Recommendation {
    Recommendation { replicas, at }
}

#[test]
fn test_normalize_desired_replicas() {
    let cases = [
        ("empty log", vec![], 5, 5, 1),
        (
            "stabilize",
            vec![rec(4, ago(2 * MIN)), rec(5, ago(MIN))],
            3,
            5,
            3,
        ),
        (
            "no stabilize",
            vec![rec(1, ago(2 * MIN)), rec(2, ago(MIN))],
            3,
            3,
            3,
        ),
        (
            "no stabilize - old recommendations",
            vec![rec(10, ago(10 * MIN)), rec(9, ago(9 * MIN))],
            3,
            3,
            2,
        ),
        (
            "stabilize - old recommendations",
            vec![
                rec(10, ago(10 * MIN)),
                rec(4, ago(MIN)),
                rec(5, ago(2 * MIN)),
                rec(9, ago(9 * MIN)),
            ],
            3,
            5,
            4,
        ),
    ];
    for (name, mut recs, proposal, want, want_len) in cases {
        let got = normalize::stabilize_recommendation(
            &mut recs,
            NOW,
            SimDuration::from_secs(5 * MIN),
            proposal,
        );
        assert_eq!((got, recs.len()), (want, want_len), "{name}");
    }
}

#[test]
fn test_normalize_desired_replicas_with_behavior() {
    struct Case {
        name: &'static str,
        recs: Vec<Recommendation>,
        current: i32,
        proposal: i32,
        want: i32,
        want_recs: Option<Vec<i32>>,
        up_w: i64,
        down_w: i64,
    }
    let c = |name, recs, current, proposal, want, want_recs, up_w, down_w| Case {
        name,
        recs,
        current,
        proposal,
        want,
        want_recs,
        up_w,
        down_w,
    };
    let cases = vec![
        c(
            "empty recommendations for scaling down",
            vec![],
            100,
            5,
            5,
            Some(vec![5]),
            0,
            0,
        ),
        c(
            "simple scale down stabilization",
            vec![rec(4, ago(2 * MIN)), rec(5, ago(MIN))],
            100,
            3,
            5,
            Some(vec![4, 5, 3]),
            0,
            3 * MIN,
        ),
        c(
            "simple scale up stabilization",
            vec![rec(4, ago(2 * MIN)), rec(5, ago(MIN))],
            1,
            7,
            4,
            Some(vec![4, 5, 7]),
            5 * MIN,
            0,
        ),
        c(
            "no scale down stabilization",
            vec![rec(1, ago(2 * MIN)), rec(2, ago(MIN))],
            100,
            3,
            3,
            Some(vec![1, 2, 3]),
            5 * MIN,
            0,
        ),
        c(
            "no scale up stabilization",
            vec![rec(4, ago(2 * MIN)), rec(5, ago(MIN))],
            1,
            3,
            3,
            Some(vec![4, 5, 3]),
            0,
            5 * MIN,
        ),
        c(
            "no scale down stabilization, reuse recommendation element",
            vec![rec(10, ago(10 * MIN)), rec(9, ago(9 * MIN))],
            100,
            3,
            3,
            Some(vec![10, 3]),
            0,
            0,
        ),
        c(
            "no scale up stabilization, reuse recommendation element",
            vec![rec(10, ago(10 * MIN)), rec(9, ago(9 * MIN))],
            1,
            100,
            100,
            Some(vec![10, 100]),
            0,
            0,
        ),
        c(
            "scale down stabilization, reuse one of obsolete recommendation element",
            vec![
                rec(10, ago(10 * MIN)),
                rec(4, ago(MIN)),
                rec(5, ago(2 * MIN)),
                rec(9, ago(9 * MIN)),
            ],
            100,
            3,
            5,
            Some(vec![10, 4, 5, 3]),
            0,
            3 * MIN,
        ),
        c(
            "scale up stabilization, reuse one of obsolete recommendation element",
            vec![
                rec(10, ago(100 * MIN)),
                rec(6, ago(MIN)),
                rec(5, ago(2 * MIN)),
                rec(9, ago(3 * MIN)),
            ],
            1,
            100,
            5,
            Some(vec![100, 6, 5, 9]),
            300,
            0,
        ),
        c(
            "scale up and down stabilization, do not scale up when prenormalized rec goes down",
            vec![rec(2, ago(100 * MIN)), rec(3, ago(3 * MIN))],
            2,
            1,
            2,
            None,
            300,
            300,
        ),
        c(
            "scale up and down stabilization, do not scale down when prenormalized rec goes up",
            vec![rec(2, ago(100 * MIN)), rec(1, ago(3 * MIN))],
            2,
            3,
            2,
            None,
            300,
            300,
        ),
    ];
    for mut tc in cases {
        let got = normalize::stabilize_recommendation_with_behaviors(
            &mut tc.recs,
            NOW,
            SimDuration::from_secs(tc.up_w),
            SimDuration::from_secs(tc.down_w),
            tc.current,
            tc.proposal,
        );
        assert_eq!(got, tc.want, "{}", tc.name);
        if let Some(want) = tc.want_recs {
            let stored: Vec<i32> = tc.recs.iter().map(|r| r.replicas).collect();
            assert_eq!(stored, want, "{}", tc.name);
        }
    }
}

/// `generateScalingRules`: the user's rules before K3 defaulting (`None` policies when both
/// are 0, as Go leaves the slice nil).
type UserRules = (
    Option<i32>,
    Option<SelectPolicy>,
    Option<Vec<ScalingPolicy>>,
);

fn generate_scaling_rules(
    pods: i32,
    pods_period: i32,
    percent: i32,
    percent_period: i32,
    window: i32,
) -> UserRules {
    let mut policies = vec![];
    if pods != 0 {
        policies.push(ScalingPolicy {
            kind: PolicyKind::Pods,
            value: pods,
            period_s: pods_period,
        });
    }
    if percent != 0 {
        policies.push(ScalingPolicy {
            kind: PolicyKind::Percent,
            value: percent,
            period_s: percent_period,
        });
    }
    let policies = (!policies.is_empty()).then_some(policies);
    (Some(window), Some(SelectPolicy::Max), policies)
}

/// K3 `GenerateHPAScaleUpRules` / `GenerateHPAScaleDownRules`.
fn up_rules(user: Option<UserRules>) -> Rules {
    let (w, s, p) = user.unwrap_or_default();
    Rules::default_scale_up().defaulted(w, s, p, None)
}

fn down_rules(user: Option<UserRules>) -> Rules {
    let (w, s, p) = user.unwrap_or_default();
    Rules::default_scale_down().defaulted(w, s, p, None)
}

/// `generateEventsUniformDistribution`: events centred in equal segments of the last
/// `period_s` seconds (Go truncates the offset to whole seconds).
fn generate_events_uniform_distribution(raw: &[i32], period_s: i64) -> Vec<ScaleEvent> {
    let seg = period_s as f64 / raw.len() as f64;
    raw.iter()
        .enumerate()
        .map(|(i, &change)| {
            let back = (period_s as f64 - seg * (i + 1) as f64 + seg / 2.0) as i64;
            ScaleEvent {
                change,
                at: ago(back),
                outdated: false,
            }
        })
        .collect()
}

#[test]
fn test_scaling_with_rules() {
    struct Case {
        name: &'static str,
        up_events: Vec<ScaleEvent>,
        down_events: Vec<ScaleEvent>,
        min: i32,
        max: i32,
        up: Option<UserRules>,
        down: Option<UserRules>,
        current: i32,
        proposal: i32,
        want: i32,
        want_limit: ScalingLimited,
    }
    let base = |name, current, proposal, min, max, want, want_limit| Case {
        name,
        up_events: vec![],
        down_events: vec![],
        min,
        max,
        up: None,
        down: None,
        current,
        proposal,
        want,
        want_limit,
    };
    let g = generate_scaling_rules;
    let ev = generate_events_uniform_distribution;
    use ScalingLimited::*;
    let cases = vec![
        base("prenormalized desired replicas within range", 5, 7, 3, 8, 7, DesiredWithinRange),
        base("prenormalized desired replicas < minReplicas", 3, 1, 2, 8, 2, TooFewReplicas),
        base("prenormalized desired replicas within range when minReplicas is 0", 1, 0, 0, 10, 0, DesiredWithinRange),
        base("maxReplicas is the limit because maxReplicas < scaleUpLimit", 20, 1000, 1, 10, 10, TooManyReplicas),
        base("desired replica count is more than the maximum replica count", 100, 1000, 100, 150, 150, TooManyReplicas),
        Case {
            up: Some(g(0, 0, 1, 60, 0)),
            ..base("scaleUpLimit is the limit because scaleUpLimit < maxReplicas with user policies", 3, 1000, 1, 2000, 4, ScaleUpLimit)
        },
        // Skipped upstream (`testThis`), and it holds.
        Case {
            down: Some(g(20, 60, 0, 0, 0)),
            ..base("scaleDownLimit is the limit because scaleDownLimit > minReplicas with user defined policies", 1000, 3, 3, 2000, 980, ScaleDownLimit)
        },
        base("scaleUp with default behavior", 10, 50, 1, 1000, 20, ScaleUpLimit),
        Case {
            up: Some(g(100, 60, 100, 60, 0)),
            ..base("scaleUp with pods policy larger than percent policy", 10, 500, 1, 1000, 110, ScaleUpLimit)
        },
        Case {
            up: Some(g(2, 60, 100, 60, 0)),
            ..base("scaleUp with percent policy larger than pods policy", 10, 500, 1, 1000, 20, ScaleUpLimit)
        },
        Case {
            up: Some(g(100, 60, 0, 0, 0)),
            ..base("scaleUp with spec MaxReplicas limitation with large pod policy", 10, 50, 1, 1000, 50, DesiredWithinRange)
        },
        Case {
            up: Some(g(10000, 60, 0, 0, 0)),
            ..base("scaleUp with spec MaxReplicas limitation with large percent policy", 10, 50, 1, 1000, 50, DesiredWithinRange)
        },
        Case {
            up: Some(g(30, 60, 0, 0, 0)),
            ..base("scaleUp with pod policy limitation", 10, 50, 1, 1000, 40, ScaleUpLimit)
        },
        Case {
            up: Some(g(0, 0, 200, 60, 0)),
            ..base("scaleUp with percent policy limitation", 10, 50, 1, 1000, 30, ScaleUpLimit)
        },
        Case {
            down: Some(g(20, 60, 1, 60, 300)),
            ..base("scaleDown with percent policy larger than pod policy", 100, 2, 1, 1000, 80, ScaleDownLimit)
        },
        Case {
            down: Some(g(2, 60, 1, 60, 300)),
            ..base("scaleDown with pod policy larger than percent policy", 100, 2, 1, 1000, 98, ScaleDownLimit)
        },
        Case {
            down: Some(g(100, 60, 0, 0, 300)),
            ..base("scaleDown with spec MinReplicas=nil limitation with large pod policy", 10, 0, 1, 1000, 1, TooFewReplicas)
        },
        Case {
            down: Some(g(100, 60, 0, 0, 300)),
            ..base("scaleDown with spec MinReplicas limitation with large pod policy", 10, 0, 1, 1000, 1, TooFewReplicas)
        },
        Case {
            down: Some(g(0, 0, 100, 60, 300)),
            ..base("scaleDown with spec MinReplicas limitation with large percent policy", 10, 2, 5, 1000, 5, TooFewReplicas)
        },
        Case {
            down: Some(g(5, 60, 0, 0, 300)),
            ..base("scaleDown with pod policy limitation", 10, 2, 1, 1000, 5, ScaleDownLimit)
        },
        Case {
            down: Some(g(0, 0, 50, 60, 300)),
            ..base("scaleDown with percent policy limitation", 10, 5, 1, 1000, 5, DesiredWithinRange)
        },
        Case {
            up_events: ev(&[1, 5, 9], 120),
            up: Some(g(300, 60, 0, 0, 0)),
            ..base("scaleUp with spec MaxReplicas limitation with large pod policy and events", 100, 500, 1, 200, 200, TooManyReplicas)
        },
        Case {
            up_events: ev(&[1, 5, 9], 120),
            up: Some(g(0, 0, 10000, 60, 0)),
            ..base("scaleUp with spec MaxReplicas limitation with large percent policy and events", 100, 500, 1, 200, 200, TooManyReplicas)
        },
        Case {
            up_events: ev(&[1, 5, 9], 120),
            up: Some(g(5, 120, 0, 0, 0)),
            ..base("scaleUp with currentReplicas limitation with rate.PeriodSeconds with a lot of recent scale up events", 100, 500, 1, 1000, 100, ScaleUpLimit)
        },
        Case {
            up_events: ev(&[1, 5, 9], 120),
            up: Some(g(150, 120, 0, 0, 0)),
            ..base("scaleUp with pod policy and previous scale up events", 100, 500, 1, 1000, 235, ScaleUpLimit)
        },
        Case {
            up_events: ev(&[1, 5, 9], 120),
            up: Some(g(0, 0, 200, 120, 0)),
            ..base("scaleUp with percent policy and previous scale up events", 100, 500, 1, 1000, 255, ScaleUpLimit)
        },
        Case {
            up_events: ev(&[4], 120),
            down_events: ev(&[2], 120),
            up: Some(g(0, 0, 300, 300, 0)),
            ..base("scaleUp with percent policy and previous scale up and down events", 6, 24, 1, 1000, 16, ScaleUpLimit)
        },
        Case {
            down_events: ev(&[1, 5, 9], 120),
            ..base("scaleDown with default policy and previous events", 10, 5, 1, 1000, 5, DesiredWithinRange)
        },
        Case {
            down_events: ev(&[1, 5, 9], 120),
            down: Some(g(115, 120, 0, 0, 300)),
            ..base("scaleDown with spec MinReplicas=nil limitation with large pod policy and previous events", 100, 0, 1, 1000, 1, TooFewReplicas)
        },
        Case {
            down_events: ev(&[1, 5, 9], 120),
            down: Some(g(130, 120, 0, 0, 300)),
            ..base("scaleDown with spec MinReplicas limitation with large pod policy and previous events", 100, 0, 5, 1000, 5, TooFewReplicas)
        },
        Case {
            down_events: ev(&[1, 5, 9], 120),
            down: Some(g(0, 0, 100, 120, 300)),
            ..base("scaleDown with spec MinReplicas limitation with large percent policy and previous events", 100, 2, 5, 1000, 5, TooFewReplicas)
        },
        Case {
            down_events: ev(&[1, 5, 9], 120),
            down: Some(g(5, 120, 0, 0, 300)),
            ..base("scaleDown with pod policy limitation and previous events", 100, 2, 1, 1000, 100, ScaleDownLimit)
        },
        Case {
            down_events: ev(&[2, 4, 6], 120),
            down: Some(g(0, 0, 50, 120, 300)),
            ..base("scaleDown with percent policy limitation and previous events", 100, 0, 1, 1000, 56, ScaleDownLimit)
        },
        Case {
            up_events: ev(&[2], 120),
            down_events: ev(&[4], 120),
            down: Some(g(0, 0, 50, 180, 0)),
            ..base("scaleDown with percent policy and previous scale up and down events", 10, 1, 1, 1000, 6, ScaleDownLimit)
        },
        Case {
            down_events: ev(&[10, 10, 10], 120),
            down: Some(g(0, 0, 10, 120, 300)),
            ..base("scaleDown with previous events preventing further scale down", 100, 0, 1, 1000, 100, ScaleDownLimit)
        },
        Case {
            down_events: ev(&[10, 10, 10], 120),
            down: Some(g(0, 0, 1000, 120, 300)),
            ..base("scaleDown with with previous events still allowing more scale down", 10, 5, 1, 1000, 5, DesiredWithinRange)
        },
        Case {
            up_events: ev(&[8, 12, 9, 11], 120),
            up: Some(g(1000, 60, 0, 0, 0)),
            ..base("check 'outdated' flag for events for one behavior for up", 100, 200, 1, 1000, 200, DesiredWithinRange)
        },
        Case {
            up_events: ev(&[8, 12, 9, 11], 120),
            up: Some(g(1000, 120, 100, 60, 0)),
            ..base("check that events were not marked 'outdated' for two different policies in the behavior for up", 100, 200, 1, 1000, 200, DesiredWithinRange)
        },
        Case {
            up_events: ev(&[8, 12, 9, 11], 120),
            up: Some(g(1000, 30, 100, 60, 0)),
            ..base("check that events were marked 'outdated' for two different policies in the behavior for up", 100, 200, 1, 1000, 200, DesiredWithinRange)
        },
        Case {
            down_events: ev(&[8, 12, 9, 11], 120),
            down: Some(g(1000, 60, 0, 0, 300)),
            ..base("check 'outdated' flag for events for one behavior for down", 100, 5, 1, 1000, 5, DesiredWithinRange)
        },
        Case {
            down_events: ev(&[8, 12, 9, 11], 120),
            down: Some(g(1000, 120, 100, 60, 300)),
            ..base("check that events were not marked 'outdated' for two different policies in the behavior for down", 100, 5, 1, 1000, 5, DesiredWithinRange)
        },
        Case {
            down_events: ev(&[8, 12, 9, 11], 120),
            down: Some(g(1000, 30, 100, 60, 300)),
            ..base("check that events were marked 'outdated' for two different policies in the behavior for down", 100, 5, 1, 1000, 5, DesiredWithinRange)
        },
    ];
    for tc in cases {
        let behavior = Behavior {
            scale_up: up_rules(tc.up),
            scale_down: down_rules(tc.down),
        };
        let args = RateArgs {
            now: NOW,
            up_events: &tc.up_events,
            down_events: &tc.down_events,
            behavior: &behavior,
            min: tc.min,
            max: tc.max,
        };
        let got =
            normalize::convert_desired_replicas_with_behavior_rate(&args, tc.current, tc.proposal);
        assert_eq!(got, (tc.want, tc.want_limit), "{}", tc.name);
    }
}

#[test]
fn test_store_scale_events() {
    let ev = |change, back: i64, outdated| ScaleEvent {
        change,
        at: ago(back),
        outdated,
    };
    // (name, previous events, rules, change in the last 60 s, events after storing +5 / -5)
    let cases = vec![
        (
            "empty entries with two-policy-behavior",
            vec![],
            generate_scaling_rules(10, 60, 100, 60, 0),
            0,
            vec![(5, false)],
        ),
        (
            "one outdated entry to be replaced with behavior",
            vec![ev(7, 61, false)],
            generate_scaling_rules(10, 60, 100, 60, 0),
            0,
            vec![(5, false)],
        ),
        (
            "one actual entry to be not touched with behavior",
            vec![ev(7, 58, false)],
            generate_scaling_rules(10, 60, 100, 60, 0),
            7,
            vec![(7, false), (5, false)],
        ),
        (
            "two entries, one of them to be replaced",
            vec![ev(7, 61, false), ev(6, 59, false)],
            generate_scaling_rules(10, 60, 0, 0, 0),
            6,
            vec![(5, false), (6, false)],
        ),
        (
            "replace one entry, use policies with different periods",
            vec![
                ev(8, 29, false),
                ev(6, 59, false),
                ev(7, 61, false),
                ev(9, 61, false),
            ],
            generate_scaling_rules(10, 60, 100, 30, 0),
            14,
            vec![(8, false), (6, false), (7, true), (5, false)],
        ),
        (
            "two entries, both actual",
            vec![ev(7, 58, false), ev(6, 59, false)],
            generate_scaling_rules(10, 120, 100, 30, 0),
            13,
            vec![(7, false), (6, false), (5, false)],
        ),
    ];
    for (name, prev, rules, want_change, want) in cases {
        let rules = up_rules(Some(rules));
        let behavior = Behavior {
            scale_up: rules.clone(),
            scale_down: rules,
        };
        assert_eq!(
            normalize::get_replicas_change_per_period(NOW, 60, &prev),
            want_change,
            "{name}"
        );
        let (mut up, mut down) = (prev.clone(), prev);
        normalize::store_scale_event(NOW, &behavior, &mut up, &mut Vec::new(), 10, 15);
        normalize::store_scale_event(NOW, &behavior, &mut Vec::new(), &mut down, 10, 5);
        for (dir, got) in [("up", up), ("down", down)] {
            let got: Vec<(i32, bool)> = got.iter().map(|e| (e.change, e.outdated)).collect();
            assert_eq!(got, want, "{name}: {dir}");
        }
    }
}

fn min_policy_rules() -> Rules {
    Rules {
        stabilization_window_s: Some(300),
        select_policy: SelectPolicy::Min,
        policies: vec![
            ScalingPolicy {
                kind: PolicyKind::Pods,
                value: 2,
                period_s: 60,
            },
            ScalingPolicy {
                kind: PolicyKind::Percent,
                value: 50,
                period_s: 60,
            },
        ],
        tolerance: None,
    }
}

#[test]
fn test_calculate_scale_up_limit_with_scaling_rules() {
    let got = normalize::calculate_scale_up_limit_with_scaling_rules(
        NOW,
        1,
        &[],
        &[],
        &min_policy_rules(),
    );
    assert_eq!(got, 2);
}

#[test]
fn test_calculate_scale_down_limit_with_behaviors() {
    let got =
        normalize::calculate_scale_down_limit_with_behaviors(NOW, 5, &[], &[], &min_policy_rules());
    assert_eq!(got, 3);
}

#[test]
fn test_convert_desired_replicas_with_rules() {
    use ScalingLimited::*;
    let cases = [
        (
            "prenormalized desired replicas within range",
            5,
            7,
            3,
            8,
            7,
            DesiredWithinRange,
        ),
        (
            "prenormalized desired replicas < minReplicas",
            3,
            1,
            2,
            8,
            2,
            TooFewReplicas,
        ),
        (
            "prenormalized desired zeroed replicas within range",
            1,
            0,
            0,
            10,
            0,
            DesiredWithinRange,
        ),
        (
            "maxReplicas is the limit because maxReplicas < scaleUpLimit",
            20,
            1000,
            1,
            10,
            10,
            TooManyReplicas,
        ),
        (
            "scaleUpLimit is the limit because scaleUpLimit < maxReplicas",
            3,
            1000,
            1,
            2000,
            normalize::calculate_scale_up_limit(3),
            ScaleUpLimit,
        ),
    ];
    for (name, current, desired, min, max, want, want_limit) in cases {
        let got = normalize::convert_desired_replicas_with_rules(current, desired, min, max);
        assert_eq!(got, (want, want_limit), "{name}");
    }
}

/// `TestUpscaleCap` / `TestUpscaleCapGreaterThanMaxReplicas`: three pods at 100, 200, 300 m
/// of a 100 m request against a 10 % target ask for 60; a 700 %/60 s scale-up rule allows 24.
fn upscale_cap(max: i32) -> Decision {
    let spec = HpaSpec {
        name: "test-hpa".to_string(),
        namespace: "test-namespace".to_string(),
        target: "test-rc".to_string(),
        target_kind: "ReplicationController".to_string(),
        min_replicas: 1,
        max_replicas: max,
        metrics: vec![cpu_utilization(10)],
        behavior: Some(Behavior {
            scale_up: up_rules(Some(generate_scaling_rules(0, 0, 700, 60, 0))),
            scale_down: Rules::default_scale_down(),
        }),
    };
    let pod = Pod {
        phase: Running,
        deleting: false,
        ready: Some(true),
        ready_last_transition: ago(10 * MIN),
        start_time: Some(ago(10 * MIN)),
        cpu_request_milli: Some(100),
    };
    let level = |v| {
        Some(Sample {
            value_milli: v,
            timestamp: NOW,
            window: SimDuration::from_secs(MIN),
        })
    };
    let input = Input {
        now: NOW,
        spec_replicas: 3,
        status_replicas: 3,
        pods: vec![pod; 3],
        metrics: vec![MetricReading::PerPod(vec![
            level(100),
            level(200),
            level(300),
        ])],
    };
    Hpa::new().sync(&spec, &cfg(), &input)
}

#[test]
fn test_upscale_cap() {
    let d = upscale_cap(100);
    assert_eq!(d.replicas, Some(24));
    assert_eq!(d.reason.code(), "scale_up_limit");
}

#[test]
fn test_upscale_cap_greater_than_max_replicas() {
    let d = upscale_cap(20);
    assert_eq!(d.replicas, Some(20));
    assert_eq!(d.reason, Reason::MaxReplicas { max: 20 });
}

// ---- pkg/apis/autoscaling/v2/defaults_test.go ----

#[test]
fn test_generate_scale_down_rules() {
    let p = |kind, value, period_s| ScalingPolicy {
        kind,
        value,
        period_s,
    };
    use PolicyKind::{Percent, Pods};
    let cases = [
        (
            "Default values",
            (None, None, None),
            vec![p(Percent, 100, 15)],
            None,
            SelectPolicy::Max,
        ),
        (
            "All parameters are specified",
            (
                Some(25),
                Some(SelectPolicy::Max),
                Some(vec![p(Pods, 1, 2), p(Percent, 3, 4)]),
            ),
            vec![p(Pods, 1, 2), p(Percent, 3, 4)],
            Some(25),
            SelectPolicy::Max,
        ),
        (
            "Percent policy is specified",
            (None, Some(SelectPolicy::Min), Some(vec![p(Percent, 1, 2)])),
            vec![p(Percent, 1, 2)],
            None,
            SelectPolicy::Min,
        ),
        (
            "Pods policy is specified",
            (None, None, Some(vec![p(Pods, 3, 4)])),
            vec![p(Pods, 3, 4)],
            None,
            SelectPolicy::Max,
        ),
    ];
    for (name, user, policies, window, select) in cases {
        let r = down_rules(Some(user));
        assert_eq!(
            (r.policies, r.stabilization_window_s, r.select_policy),
            (policies, window, select),
            "{name}"
        );
    }
}

#[test]
fn test_generate_scale_up_rules() {
    let p = |kind, value, period_s| ScalingPolicy {
        kind,
        value,
        period_s,
    };
    use PolicyKind::{Percent, Pods};
    let cases = [
        (
            "Default values",
            (None, None, None),
            vec![p(Pods, 4, 15), p(Percent, 100, 15)],
            Some(0),
            SelectPolicy::Max,
        ),
        (
            "All parameters are specified",
            (
                Some(25),
                Some(SelectPolicy::Max),
                Some(vec![p(Pods, 1, 2), p(Percent, 3, 4)]),
            ),
            vec![p(Pods, 1, 2), p(Percent, 3, 4)],
            Some(25),
            SelectPolicy::Max,
        ),
        (
            "Pod policy is specified",
            (None, Some(SelectPolicy::Min), Some(vec![p(Pods, 1, 2)])),
            vec![p(Pods, 1, 2)],
            Some(0),
            SelectPolicy::Min,
        ),
        (
            "Percent policy is specified",
            (None, None, Some(vec![p(Percent, 7, 10)])),
            vec![p(Percent, 7, 10)],
            Some(0),
            SelectPolicy::Max,
        ),
        (
            "Pod policy and stabilization window are specified",
            (Some(25), None, Some(vec![p(Pods, 4, 2)])),
            vec![p(Pods, 4, 2)],
            Some(25),
            SelectPolicy::Max,
        ),
        (
            "Percent policy and stabilization window are specified",
            (Some(25), None, Some(vec![p(Percent, 7, 60)])),
            vec![p(Percent, 7, 60)],
            Some(25),
            SelectPolicy::Max,
        ),
    ];
    for (name, user, policies, window, select) in cases {
        let r = up_rules(Some(user));
        assert_eq!(
            (r.policies, r.stabilization_window_s, r.select_policy),
            (policies, window, select),
            "{name}"
        );
    }
}
