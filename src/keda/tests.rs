//! KEDA's worked vectors (docs/other-autoscalers.md §9 E1–E4), value handling, reasons, and property tests of the
//! poll loop.

use rand::RngExt;

use super::*;
use crate::hpa::{self, MetricSpec, MetricTarget};
use crate::sim::{rng, SimDuration};

fn t(s: i64) -> SimTime {
    SimTime::from_secs(s)
}

fn so(min: i32) -> ScaledObjectSpec {
    let mut spec = ScaledObjectSpec::with_defaults(
        "llm",
        "default",
        "llm",
        vec![Trigger::prometheus(
            "http://prometheus:9090",
            "sum(vllm:num_requests_waiting)",
            5.0,
        )],
    );
    spec.min_replica_count = min;
    spec
}

fn value(v: f64) -> Vec<QueryOutcome> {
    vec![Ok(vec![v])]
}

#[test]
fn e2_activation_from_zero_goes_to_one() {
    let spec = so(0);
    let mut keda = Keda::new(t(0));
    let d = keda.poll(&spec, t(0), 0, &value(3.0));
    assert_eq!(d.replicas, Some(1));
    assert_eq!(d.reason.code(), "activated");
    assert_eq!(
        d.reason.to_string(),
        "KEDA: active (s0 = 3 > activation 0), activating 0 → 1"
    );
    assert_eq!(keda.last_active_time, Some(t(0)));
}

#[test]
fn e4_min_replica_count_2_never_goes_to_zero() {
    let spec = so(2);
    let mut keda = Keda::new(t(0));
    for poll in 0..120 {
        let d = keda.poll(&spec, t(poll * 30), 2, &value(0.0));
        assert_eq!(d.replicas, None, "poll {poll}");
        assert_eq!(d.reason.code(), "below_activation");
    }
    assert_eq!(spec.hpa().min_replicas, 2);
}

#[test]
fn e3_keda_writes_zero_at_the_first_poll_strictly_after_the_cooldown() {
    // The last poll with v > 0 is at L = 120 s; cooldown 300 s; polls every 30 s.
    let spec = so(0);
    let mut keda = Keda::new(t(0));
    assert_eq!(keda.poll(&spec, t(0), 0, &value(3.0)).replicas, Some(1));
    for s in [30, 60, 90, 120] {
        assert_eq!(
            keda.poll(&spec, t(s), 3, &value(2.0)).reason.code(),
            "active"
        );
    }
    let mut zero_at = None;
    for s in (150..=600).step_by(30) {
        let d = keda.poll(&spec, t(s), 1, &value(0.0));
        if d.replicas == Some(0) {
            zero_at = Some(s);
            assert_eq!(
                d.reason.to_string(),
                "KEDA: below activation threshold (s0 = 0 ≤ activation 0), scaling 1 → 0 \
                 (last active t=120s, cooldown 300 s over)"
            );
            break;
        }
        assert_eq!(
            d.reason.to_string(),
            "KEDA: inactive, cooldown until t=420s",
            "t={s}"
        );
    }
    // L + 300 = 420 is not strictly before the poll at 420: the write comes at 450.
    assert_eq!(zero_at, Some(450));
}

#[test]
fn the_hpa_keda_creates_follows_section_3_3() {
    let mut spec = so(0);
    spec.triggers.push(Trigger {
        metric_type: MetricType::Value,
        threshold: 0.0625,
        ..spec.triggers[0].clone()
    });
    let hpa = spec.hpa();
    assert_eq!(
        (hpa.name.as_str(), hpa.min_replicas, hpa.max_replicas),
        ("keda-hpa-llm", 1, 100)
    );
    assert_eq!(hpa.behavior, None);
    let names: Vec<&str> = hpa.metrics.iter().map(MetricSpec::metric_name).collect();
    assert_eq!(names, ["s0-prometheus", "s1-prometheus"]);
    let MetricSpec::External { metric, target } = &hpa.metrics[1] else {
        panic!("external metric expected");
    };
    assert_eq!(
        metric.selector,
        [(OWNER_LABEL.to_string(), "llm".to_string())]
    );
    // "%.3f" of 0.0625 rounds half to even: 0.062.
    assert_eq!(*target, MetricTarget::Value(62));
    assert_eq!(*hpa.metrics[0].target(), MetricTarget::AverageValue(5000));
    spec.min_replica_count = 3;
    assert_eq!(spec.hpa().min_replicas, 3);
}

#[test]
fn values_become_milli_by_go_percent_3f() {
    for (v, milli) in [
        (0.0, 0),
        (2.0, 2000),
        (1.2345, 1234), // binary 1.23449999…
        (0.0625, 62),   // exact tie, to even
        (0.1875, 188),  // exact tie, to even
        (1e-4, 0),
        (-3.0, 0),
        (f64::NAN, 0),
        (f64::INFINITY, 0),
        (1e30, i64::MAX),
    ] {
        assert_eq!(scaler::milli(v), milli, "{v}");
    }
}

#[test]
fn activation_is_strict() {
    assert!(!scaler::is_active(0.0, 0.0));
    assert!(scaler::is_active(0.001, 0.0));
    assert!(!scaler::is_active(5.0, 5.0));
    // Negative values are compared raw (E4): only the HPA's quantity clamps them to 0.
    assert!(scaler::is_active(-1.0, -2.0));
}

#[test]
fn negative_values_reach_the_hpa_as_zero_but_count_for_activation() {
    assert_eq!(scaler::value(&Ok(vec![-4.0]), "q", true), Ok(-4.0));
    assert_eq!(scaler::milli(-4.0), 0);
}

#[test]
fn idle_replica_count_is_the_floor_of_an_inactive_object() {
    let mut spec = so(3);
    spec.idle_replica_count = Some(1);
    let mut keda = Keda::new(t(0));
    let d = keda.poll(&spec, t(30), 3, &value(0.0));
    assert_eq!((d.replicas, d.reason.code()), (Some(1), "idle"));
    let d = keda.poll(&spec, t(60), 1, &value(4.0));
    assert_eq!((d.replicas, d.reason.code()), (Some(3), "activated"));
}

#[test]
fn the_initial_cooldown_counts_from_creation_when_never_active() {
    let mut spec = so(0);
    spec.initial_cooldown_period_s = 90;
    let mut keda = Keda::new(t(10));
    let d = keda.poll(&spec, t(100), 2, &value(0.0));
    assert_eq!(
        d.reason.to_string(),
        "KEDA: inactive, cooldown until t=100s"
    );
    let d = keda.poll(&spec, t(130), 2, &value(0.0));
    assert_eq!(d.replicas, Some(0));
    assert_eq!(
        d.reason.to_string(),
        "KEDA: below activation threshold (s0 = 0 ≤ activation 0), scaling 2 → 0 \
         (never active, initial cooldown 90 s over)"
    );
}

#[test]
fn a_query_error_without_fallback_changes_nothing() {
    let spec = so(0);
    let mut keda = Keda::new(t(0));
    let d = keda.poll(&spec, t(600), 2, &[Err("connection refused".to_string())]);
    assert_eq!(d.replicas, None);
    assert_eq!(d.desired, 2);
    assert_eq!(d.reason.code(), "query_error");
    assert_eq!(
        d.reason.to_string(),
        "KEDA: inactive, s0 failed: connection refused; no change"
    );
}

#[test]
fn a_trigger_in_fallback_is_active_at_the_poll() {
    let mut spec = so(0);
    spec.fallback = Some(Fallback {
        failure_threshold: 2,
        replicas: 6,
        behavior: FallbackBehavior::Static,
    });
    spec.triggers[0].name = Some("queue".to_string());
    let mut keda = Keda::new(t(0));
    let down = [Err("down".to_string())];
    for (s, code) in [(0, "query_error"), (30, "query_error"), (60, "activated")] {
        let d = keda.poll(&spec, t(s), 0, &down);
        assert_eq!(d.reason.code(), code, "t={s}");
    }
    let d = keda.poll(&spec, t(90), 1, &down);
    assert_eq!(d.reason.code(), "fallback");
    assert_eq!(
        d.reason.to_string(),
        "KEDA: active (s0 queue in fallback) at 1 replicas, the HPA scales"
    );
    assert_eq!(keda.failures, [4]);
    // One success resets the count: the next failure is below the threshold again.
    keda.poll(&spec, t(120), 1, &value(1.0));
    assert_eq!(keda.failures, [0]);
    assert_eq!(
        keda.poll(&spec, t(150), 1, &down).reason.code(),
        "query_error"
    );
}

#[test]
fn use_cached_metrics_keeps_the_last_polls_outcome_per_trigger() {
    let mut spec = so(0);
    spec.triggers[0].use_cached_metrics = true;
    let mut keda = Keda::new(t(0));
    keda.poll(&spec, t(0), 1, &value(7.5));
    assert_eq!(keda.cached, [Some(Ok(7500))]);
    keda.poll(&spec, t(30), 1, &[Err("timeout".to_string())]);
    assert_eq!(keda.cached, [Some(Err("timeout".to_string()))]);
    spec.triggers[0].use_cached_metrics = false;
    keda.poll(&spec, t(60), 1, &value(1.0));
    assert_eq!(keda.cached, [None]);
}

/// Seed of the poll-loop property tests.
const PROPERTY_SEED: u64 = 0x6b65_6461;

/// Never scales to 0 before the cooldown after the last active poll has passed (strictly),
/// and from 0 the first write is always `max(minReplicaCount, 1)`: random value sequences,
/// min/idle/cooldown/interval settings, and replica counts as the HPA might leave them.
#[test]
fn property_no_scale_to_zero_before_cooldown_and_activation_to_max_min_1() {
    let mut r = rng::stream(PROPERTY_SEED, "keda-poll");
    for case in 0..400 {
        let mut spec = so(r.random_range(0..3));
        spec.cooldown_period_s = r.random_range(0..400);
        spec.polling_interval_s = r.random_range(1..60);
        spec.initial_cooldown_period_s = r.random_range(0..100);
        if spec.min_replica_count > 0 && r.random_bool(0.5) {
            spec.idle_replica_count = Some(0);
        }
        spec.triggers[0].activation_threshold = f64::from(r.random_range(0..3));
        let mut keda = Keda::new(SimTime::ZERO);
        let mut replicas = r.random_range(0..4);
        let mut last_active: Option<SimTime> = None;
        for poll in 0..200 {
            let now = SimTime::ZERO + spec.polling_interval() * poll;
            let v = if r.random_bool(0.3) {
                f64::from(r.random_range(0..6))
            } else {
                0.0
            };
            let active = v > spec.triggers[0].activation_threshold;
            let d = keda.poll(&spec, now, replicas, &value(v));
            if active {
                last_active = Some(now);
            }
            if d.replicas == Some(0) {
                let (since, cooldown) = match last_active {
                    Some(t) => (t, spec.cooldown_period_s),
                    None => (SimTime::ZERO, spec.initial_cooldown_period_s),
                };
                assert!(
                    since + SimDuration::from_secs(i64::from(cooldown)) < now,
                    "case {case} poll {poll}: zero at {now:?}, last active {last_active:?}"
                );
            }
            if replicas == 0 && d.replicas.is_some() {
                assert_eq!(
                    d.replicas,
                    Some(spec.min_replica_count.max(1)),
                    "case {case} poll {poll}"
                );
            }
            if let Some(n) = d.replicas {
                replicas = n;
            } else if replicas > 0 && r.random_bool(0.2) {
                // The HPA moves the count between polls, within its bounds.
                let hpa = spec.hpa();
                replicas = r.random_range(hpa.min_replicas..=hpa.min_replicas + 3);
            }
        }
    }
}

/// The HPA's observation: `n` Running, Ready pods.
fn base(now: SimTime, spec_replicas: i32, n: usize) -> hpa::Input {
    let pod = hpa::Pod {
        phase: hpa::Phase::Running,
        deleting: false,
        ready: Some(true),
        ready_last_transition: SimTime::ZERO,
        start_time: Some(SimTime::ZERO),
        cpu_request_milli: None,
    };
    hpa::Input {
        now,
        spec_replicas,
        status_replicas: i32::try_from(n).expect("small"),
        pods: vec![pod; n],
        metrics: Vec::new(),
    }
}

#[test]
fn e1_hpa_sync_legacy_caps_at_4_behavior_default_gives_5() {
    let cfg = hpa::ControllerConfig::default();
    let mut spec = so(0);
    let mut keda = Keda::new(t(0));
    let d = keda.hpa_sync(&spec, &cfg, base(t(15), 2, 2), &value(23.0));
    assert_eq!((d.replicas, d.reason.code()), (Some(4), "hpa"));
    assert!(
        d.reason.to_string().starts_with("KEDA HPA: "),
        "{}",
        d.reason
    );
    spec.behavior = Some(hpa::Behavior::default());
    let mut keda = Keda::new(t(0));
    let d = keda.hpa_sync(&spec, &cfg, base(t(15), 2, 2), &value(23.0));
    assert_eq!(d.replicas, Some(5));
}

#[test]
fn e2_the_next_hpa_sync_after_activation_computes_one() {
    let cfg = hpa::ControllerConfig::default();
    let spec = so(0);
    let mut keda = Keda::new(t(0));
    assert_eq!(keda.poll(&spec, t(0), 0, &value(3.0)).replicas, Some(1));
    let d = keda.hpa_sync(&spec, &cfg, base(t(15), 1, 1), &value(3.0));
    assert_eq!((d.replicas, d.desired), (None, 1));
}

#[test]
fn e3_hpa_to_min_after_stabilisation_then_keda_to_zero() {
    // Polls every 30 s and HPA syncs every 15 s from t=0 (the poll first when both are
    // due); the query reads 10 until L = 120 s, then 0.
    let cfg = hpa::ControllerConfig::default();
    let spec = so(0);
    let mut keda = Keda::new(t(0));
    let mut replicas = 0;
    let mut writes = Vec::new();
    for s in (0..=600).step_by(15) {
        let v = value(if s <= 120 { 10.0 } else { 0.0 });
        if s % 30 == 0 {
            if let Some(n) = keda.poll(&spec, t(s), replicas, &v).replicas {
                writes.push((s, "keda", n));
                replicas = n;
            }
        }
        let n = usize::try_from(replicas).expect("non-negative");
        if let Some(n) = keda
            .hpa_sync(&spec, &cfg, base(t(s), replicas, n), &v)
            .replicas
        {
            writes.push((s, "hpa", n));
            replicas = n;
        }
    }
    // 0 → 1 by KEDA, 1 → 2 by the HPA (ceil(10/5)); the legacy window keeps 2 while the
    // recommendation of t=120 is in it (t - 300 ≤ 120), then min 1 at 435; KEDA's 0 comes
    // at the first poll strictly after 120 + 300.
    assert_eq!(
        writes,
        [
            (0, "keda", 1),
            (0, "hpa", 2),
            (435, "hpa", 1),
            (450, "keda", 0)
        ]
    );
}

#[test]
fn the_hpa_at_zero_fetches_no_metric_and_counts_no_failure() {
    let cfg = hpa::ControllerConfig::default();
    let mut spec = so(0);
    spec.fallback = Some(Fallback {
        failure_threshold: 0,
        replicas: 3,
        behavior: FallbackBehavior::Static,
    });
    let mut keda = Keda::new(t(0));
    let down = [Err("down".to_string())];
    let d = keda.hpa_sync(&spec, &cfg, base(t(15), 0, 0), &down);
    assert_eq!(d.replicas, None);
    assert!(keda.failures.iter().all(|&f| f == 0));
    // At 1 replica it fetches: past a threshold of 0 the first failure is in fallback,
    // 3 × 5 = 15 → ceil(15/5) = 3 (legacy cap 4).
    let d = keda.hpa_sync(&spec, &cfg, base(t(30), 1, 1), &down);
    assert_eq!((d.replicas, d.reason.code()), (Some(3), "fallback"));
    assert!(
        d.reason.to_string().ends_with("(fallback value for s0)"),
        "{}",
        d.reason
    );
}

#[test]
fn a_cached_fallback_value_resets_the_failure_count_at_the_hpa_fetch() {
    // Upstream quirk (E2 + E6): the poll caches the fallback metric with no error, and the
    // HPA fetch runs it through GetMetricsWithFallback again as a success.
    let cfg = hpa::ControllerConfig::default();
    let mut spec = so(0);
    spec.triggers[0].use_cached_metrics = true;
    spec.fallback = Some(Fallback {
        failure_threshold: 1,
        replicas: 4,
        behavior: FallbackBehavior::Static,
    });
    let mut keda = Keda::new(t(0));
    let down = [Err("down".to_string())];
    keda.poll(&spec, t(0), 2, &down);
    keda.poll(&spec, t(30), 2, &down);
    assert_eq!(keda.failures, [2]);
    assert_eq!(keda.cached, [Some(Ok(20_000))]);
    let d = keda.hpa_sync(&spec, &cfg, base(t(45), 2, 2), &down);
    assert_eq!((d.replicas, d.reason.code()), (Some(4), "hpa"));
    assert_eq!(keda.failures, [0]);
}
