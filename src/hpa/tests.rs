//! The HPA's worked vectors (docs/other-autoscalers.md §9, T1–T7), `Hpa::sync` branches and reasons, and property tests:
//! bounds, rate limits never exceeded over a run of syncs, and stabilisation equal to the
//! naive max/min over the window (with the edges of docs/other-autoscalers.md §2).

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::calculator::{replicas_for_metric, tolerances_for_hpa};
use super::normalize::{self, Recommendation};
use super::*;
use crate::sim::{SimDuration, SimTime};

const METRIC: &str = "vllm:num_requests_waiting";

fn at(s: i64) -> SimTime {
    SimTime::from_secs(s)
}

fn running() -> Pod {
    Pod {
        phase: Phase::Running,
        deleting: false,
        ready: Some(true),
        ready_last_transition: SimTime::ZERO,
        start_time: Some(SimTime::ZERO),
        cpu_request_milli: None,
    }
}

fn pending() -> Pod {
    Pod {
        phase: Phase::Pending,
        ready: Some(false),
        start_time: None,
        ..running()
    }
}

fn spec(metric: MetricSpec, min: i32, max: i32, behavior: Option<Behavior>) -> HpaSpec {
    HpaSpec {
        name: "llm".to_string(),
        namespace: "default".to_string(),
        target: "llm".to_string(),
        target_kind: "Deployment".to_string(),
        min_replicas: min,
        max_replicas: max,
        metrics: vec![metric],
        behavior,
    }
}

/// A Pods metric with target 10 (docs/other-autoscalers.md §9).
fn pods_metric() -> MetricSpec {
    MetricSpec::Pods {
        metric: MetricId {
            name: METRIC.to_string(),
            selector: vec![],
        },
        target: MetricTarget::AverageValue(10_000),
    }
}

fn external(target: MetricTarget) -> MetricSpec {
    MetricSpec::External {
        metric: MetricId {
            name: "s0-prometheus".to_string(),
            selector: vec![("scaledobject.keda.sh/name".to_string(), "llm".to_string())],
        },
        target,
    }
}

/// Pods at the given values (`None` = no sample), then `pending` Pending pods.
fn pods_input(now: SimTime, spec_replicas: i32, values: &[Option<i64>], pending_n: usize) -> Input {
    let mut pods: Vec<Pod> = values.iter().map(|_| running()).collect();
    pods.extend((0..pending_n).map(|_| pending()));
    let samples = values
        .iter()
        .map(|v| {
            v.map(|v| Sample {
                value_milli: v * 1000,
                timestamp: now,
                window: SimDuration::from_secs(30),
            })
        })
        .collect();
    Input {
        now,
        spec_replicas,
        status_replicas: pods.len() as i32,
        pods,
        metrics: vec![MetricReading::PerPod(samples)],
    }
}

/// The calculator alone: what the metric proposes, before normalisation.
fn propose(spec: &HpaSpec, input: &Input) -> i32 {
    let cfg = ControllerConfig::default();
    let tol = tolerances_for_hpa(spec, &cfg);
    replicas_for_metric(&spec.metrics[0], input.metrics.first(), input, tol, &cfg)
        .expect("proposal")
        .replicas
}

#[test]
fn t1_pods_metric_scales_by_pods_with_samples() {
    let s = spec(pods_metric(), 1, 10, None);
    let input = pods_input(at(0), 4, &[Some(15), Some(15), Some(20), Some(10)], 0);
    let d = Hpa::new().sync(&s, &ControllerConfig::default(), &input);
    assert_eq!(d.replicas, Some(6));
    assert_eq!(
        d.reason.to_string(),
        "recommended 6 from metrics (ratio 1.50 on vllm:num_requests_waiting)"
    );
    assert_eq!(d.reason.code(), "recommendation");
}

#[test]
fn t2_missing_pod_counts_at_target_on_scale_down() {
    let s = spec(pods_metric(), 1, 10, None);
    let input = pods_input(at(0), 4, &[Some(5), Some(5), Some(5), None], 0);
    assert_eq!(propose(&s, &input), 3);
    let without = pods_input(at(0), 4, &[Some(5), Some(5), Some(5)], 0);
    assert_eq!(propose(&s, &without), 2);
}

#[test]
fn t3_unready_pods_at_zero_flip_the_direction() {
    let s = spec(pods_metric(), 1, 10, None);
    let input = pods_input(at(0), 4, &[Some(12), Some(12)], 2);
    assert_eq!(propose(&s, &input), 4);
}

#[test]
fn t4_scale_down_ignores_pending_pods() {
    let s = spec(pods_metric(), 1, 10, None);
    let cfg = ControllerConfig::default();
    assert_eq!(
        propose(&s, &pods_input(at(0), 4, &[Some(8), Some(8)], 2)),
        2
    );
    // Through the controller, the initial recommendation holds 4 for the window, then the
    // starting pods are removed.
    let mut hpa = Hpa::new();
    let mut replicas = 4;
    for t in (0..=315).step_by(15) {
        let d = hpa.sync(
            &s,
            &cfg,
            &pods_input(at(t), replicas, &[Some(8), Some(8)], 2),
        );
        replicas = d.replicas.unwrap_or(replicas);
        let want = if t <= 300 { 4 } else { 2 };
        assert_eq!(replicas, want, "t={t}");
    }
}

/// Every sync proposes 10 (External AverageValue 1 over a total of 10).
fn t5_run(behavior: Option<Behavior>) -> Vec<i32> {
    let s = spec(external(MetricTarget::AverageValue(1000)), 1, 10, behavior);
    let cfg = ControllerConfig::default();
    let mut hpa = Hpa::new();
    let mut replicas = 1;
    let mut seen = vec![replicas];
    for t in (0..60).step_by(15) {
        let input = Input {
            now: at(t),
            spec_replicas: replicas,
            status_replicas: replicas,
            pods: vec![running(); replicas as usize],
            metrics: vec![MetricReading::Total(Ok(10_000))],
        };
        if let Some(r) = hpa.sync(&s, &cfg, &input).replicas {
            replicas = r;
            seen.push(r);
        }
    }
    seen
}

#[test]
fn t5_legacy_and_default_behavior_differ_below_four() {
    assert_eq!(t5_run(None), [1, 4, 8, 10]);
    assert_eq!(t5_run(Some(Behavior::default())), [1, 5, 10]);
}

#[test]
fn t6_external_average_value_is_total_over_per_pod_target() {
    let s = spec(external(MetricTarget::AverageValue(5000)), 1, 10, None);
    let input = Input {
        now: at(0),
        spec_replicas: 2,
        status_replicas: 2,
        pods: vec![running(); 2],
        metrics: vec![MetricReading::Total(Ok(23_000))],
    };
    assert_eq!(propose(&s, &input), 5);
}

#[test]
fn t7_initial_recommendation_holds_for_the_window() {
    let cfg = ControllerConfig::default();
    for (behavior, drop_at) in [(None, 330), (Some(Behavior::default()), 315)] {
        let s = spec(pods_metric(), 1, 10, behavior.clone());
        let mut hpa = Hpa::new();
        let mut replicas = 6;
        for t in (15..=345).step_by(15) {
            let input = pods_input(at(t), replicas, &vec![Some(3); replicas as usize], 0);
            let d = hpa.sync(&s, &cfg, &input);
            if t == 30 {
                assert_eq!(
                    d.reason.to_string(),
                    "held by scale-down stabilisation at 6 until t=315s (recommended 2)"
                );
                assert_eq!(d.reason.code(), "scale_down_stabilization");
            }
            replicas = d.replicas.unwrap_or(replicas);
            let want = if t < drop_at { 6 } else { 2 };
            assert_eq!(replicas, want, "behavior {}: t={t}", behavior.is_some());
        }
    }
}

#[test]
fn idle_at_zero_does_nothing() {
    let s = spec(pods_metric(), 1, 10, None);
    let d = Hpa::new().sync(
        &s,
        &ControllerConfig::default(),
        &pods_input(at(0), 0, &[], 0),
    );
    assert_eq!((d.replicas, d.desired), (None, 0));
    assert_eq!(d.reason.to_string(), "idle at 0 replicas (minReplicas 1)");
}

#[test]
fn out_of_bounds_counts_are_clamped_without_metrics() {
    let cfg = ControllerConfig::default();
    let s = spec(pods_metric(), 2, 10, Some(Behavior::default()));
    let no_metrics = |replicas| Input {
        metrics: vec![MetricReading::PerPod(vec![])],
        ..pods_input(at(0), replicas, &[], 0)
    };
    let d = Hpa::new().sync(&s, &cfg, &no_metrics(12));
    assert_eq!(
        (d.replicas, d.reason.to_string()),
        (Some(10), "capped at maxReplicas 10".to_string())
    );
    let d = Hpa::new().sync(&s, &cfg, &no_metrics(1));
    assert_eq!(
        (d.replicas, d.reason.to_string()),
        (Some(2), "raised to minReplicas 2".to_string())
    );
}

#[test]
fn failed_metric_blocks_scale_down_but_not_scale_up() {
    let cfg = ControllerConfig::default();
    let mut s = spec(pods_metric(), 1, 10, Some(Behavior::default()));
    s.metrics.push(external(MetricTarget::Value(1000)));
    let with = |values: &[Option<i64>]| {
        let mut input = pods_input(at(0), 4, values, 0);
        input
            .metrics
            .push(MetricReading::Total(Err("prometheus down".to_string())));
        input
    };
    let d = Hpa::new().sync(&s, &cfg, &with(&[Some(1); 4]));
    assert_eq!(d.replicas, None);
    assert_eq!(d.reason.code(), "partial_metrics");
    assert_eq!(
        d.reason.to_string(),
        "partial metrics: 1 of 2 failed, not scaling down to 1 (unable to get metric s0-prometheus: prometheus down)"
    );
    let d = Hpa::new().sync(&s, &cfg, &with(&[Some(20); 4]));
    assert_eq!(d.replicas, Some(8));
}

#[test]
fn no_metrics_is_no_decision() {
    let s = spec(pods_metric(), 1, 10, None);
    let input = pods_input(at(0), 3, &[None, None, None], 0);
    let d = Hpa::new().sync(&s, &ControllerConfig::default(), &input);
    assert_eq!((d.replicas, d.desired), (None, 3));
    assert_eq!(
        d.reason.to_string(),
        "no metrics: did not receive metrics for targeted pods (pods might be unready)"
    );
}

#[test]
fn within_tolerance_and_limits_are_explained() {
    let cfg = ControllerConfig::default();
    let s = spec(pods_metric(), 1, 100, Some(Behavior::default()));
    let d = Hpa::new().sync(&s, &cfg, &pods_input(at(0), 2, &[Some(10), Some(11)], 0));
    assert_eq!(
        (d.replicas, d.reason.to_string()),
        (None, "within tolerance (ratio 1.05)".to_string())
    );
    let d = Hpa::new().sync(&s, &cfg, &pods_input(at(0), 2, &[Some(100), Some(100)], 0));
    assert_eq!(d.replicas, Some(6));
    assert_eq!(
        d.reason.to_string(),
        "limited by scale-up policy to 6 (recommended 20)"
    );
    // Scale-up stabilisation: a 60 s window keeps the lowest recent recommendation.
    let mut b = Behavior::default();
    b.scale_up.stabilization_window_s = Some(60);
    let s = spec(pods_metric(), 1, 100, Some(b));
    let d = Hpa::new().sync(&s, &cfg, &pods_input(at(0), 2, &[Some(15), Some(15)], 0));
    assert_eq!(d.replicas, None);
    assert_eq!(
        d.reason.to_string(),
        "held by scale-up stabilisation at 2 until t=60s (recommended 3)"
    );
    // Scale-down rate: one pod per minute.
    let b = Behavior {
        scale_down: Rules {
            stabilization_window_s: Some(0),
            select_policy: SelectPolicy::Max,
            policies: vec![ScalingPolicy {
                kind: PolicyKind::Pods,
                value: 1,
                period_s: 60,
            }],
            tolerance: None,
        },
        ..Behavior::default()
    };
    let s = spec(pods_metric(), 1, 100, Some(b));
    let d = Hpa::new().sync(&s, &cfg, &pods_input(at(0), 4, &[Some(1); 4], 0));
    assert_eq!(d.replicas, Some(3));
    assert_eq!(
        d.reason.to_string(),
        "limited by scale-down policy to 3 (recommended 1)"
    );
    assert_eq!(d.reason.code(), "scale_down_limit");
}

#[test]
fn configurable_tolerance_follows_the_gate() {
    let mut b = Behavior::default();
    b.scale_up.tolerance = Some(0.01);
    let s = spec(pods_metric(), 1, 100, Some(b));
    let input = pods_input(at(0), 2, &[Some(10), Some(11)], 0);
    assert_eq!(propose(&s, &input), 3);
    let cfg = ControllerConfig {
        configurable_tolerance: false,
        ..ControllerConfig::default()
    };
    let d = Hpa::new().sync(&s, &cfg, &input);
    assert_eq!(d.reason.code(), "within_tolerance");
}

#[test]
fn legacy_path_stores_no_scale_events() {
    let s = spec(pods_metric(), 1, 10, None);
    let mut hpa = Hpa::new();
    let d = hpa.sync(
        &s,
        &ControllerConfig::default(),
        &pods_input(at(0), 2, &[Some(30); 2], 0),
    );
    assert_eq!(d.replicas, Some(4));
    assert!(hpa.scale_up_events.is_empty() && hpa.scale_down_events.is_empty());
}

#[test]
fn reason_codes_are_stable() {
    let t = at(315);
    let reasons = [
        (
            Reason::Recommendation {
                replicas: 1,
                ratio: 1.0,
                metric: "m".into(),
            },
            "recommendation",
        ),
        (Reason::WithinTolerance { ratio: 1.0 }, "within_tolerance"),
        (
            Reason::ScaleDownStabilization {
                held: 1,
                until: t,
                recommended: 1,
            },
            "scale_down_stabilization",
        ),
        (
            Reason::ScaleUpStabilization {
                held: 1,
                until: t,
                recommended: 1,
            },
            "scale_up_stabilization",
        ),
        (
            Reason::ScaleUpLimit {
                limit: 1,
                recommended: 1,
            },
            "scale_up_limit",
        ),
        (
            Reason::ScaleDownLimit {
                limit: 1,
                recommended: 1,
            },
            "scale_down_limit",
        ),
        (Reason::MinReplicas { min: 1 }, "min_replicas"),
        (Reason::MaxReplicas { max: 1 }, "max_replicas"),
        (Reason::IdleAtZero { min: 1 }, "idle_at_zero"),
        (Reason::NoMetrics { error: "e".into() }, "no_metrics"),
        (
            Reason::PartialMetrics {
                failed: 1,
                of: 2,
                recommended: 1,
                error: "e".into(),
            },
            "partial_metrics",
        ),
    ];
    for (r, code) in reasons {
        assert_eq!(r.code(), code);
    }
    let r = Reason::ScaleDownStabilization {
        held: 6,
        until: SimTime::from_micros(315_500_000),
        recommended: 2,
    };
    assert_eq!(
        r.to_string(),
        "held by scale-down stabilisation at 6 until t=315.5s (recommended 2)"
    );
}

// ---- properties ----

const SEED: u64 = 0x4850_415f_7072_6f70; // "HPA_prop"

fn random_rules(rng: &mut ChaCha8Rng, up: bool) -> Rules {
    let select = match rng.random_range(0..3) {
        0 => SelectPolicy::Max,
        1 => SelectPolicy::Min,
        _ if up => SelectPolicy::Max,
        _ => SelectPolicy::Disabled,
    };
    let n = rng.random_range(1..3);
    let policies = (0..n)
        .map(|_| {
            let kind = if rng.random_range(0..2) == 0 {
                PolicyKind::Pods
            } else {
                PolicyKind::Percent
            };
            let value = match kind {
                PolicyKind::Pods => rng.random_range(1..6),
                PolicyKind::Percent => rng.random_range(10..300),
            };
            ScalingPolicy {
                kind,
                value,
                period_s: [15, 30, 60, 120][rng.random_range(0..4)],
            }
        })
        .collect();
    Rules {
        stabilization_window_s: Some([0, 15, 60, 300][rng.random_range(0..4)]),
        select_policy: select,
        policies,
        tolerance: None,
    }
}

/// A run of syncs every 15 s (with a little jitter) on random External totals; `check` sees
/// every written change with the history of counts before it.
fn random_run(seed: u64, check: impl Fn(&HpaSpec, &[(SimTime, i32)], SimTime, i32, i32)) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let cfg = ControllerConfig::default();
    for _ in 0..200 {
        let min = rng.random_range(1..5);
        let max = rng.random_range(min..40);
        let behavior = (rng.random_range(0..3) > 0).then(|| Behavior {
            scale_up: random_rules(&mut rng, true),
            scale_down: random_rules(&mut rng, false),
        });
        let s = spec(
            external(MetricTarget::AverageValue(1000)),
            min,
            max,
            behavior,
        );
        let mut hpa = Hpa::new();
        let mut replicas = rng.random_range(min..=max);
        let mut history = vec![(SimTime::ZERO, replicas)];
        let mut now = at(0);
        for _ in 0..60 {
            now = now
                + SimDuration::from_secs(15)
                + SimDuration::from_millis(rng.random_range(0..20));
            let total = rng.random_range(0..60_000);
            let input = Input {
                now,
                spec_replicas: replicas,
                status_replicas: replicas,
                pods: vec![running(); replicas as usize],
                metrics: vec![MetricReading::Total(Ok(total))],
            };
            let d = hpa.sync(&s, &cfg, &input);
            if let Some(r) = d.replicas {
                check(&s, &history, now, replicas, r);
                replicas = r;
                history.push((now, r));
            }
        }
    }
}

#[test]
fn property_replicas_stay_within_bounds() {
    random_run(SEED, |s, _, _, _, new| {
        assert!(
            (s.min_replicas..=s.max_replicas).contains(&new),
            "{new} outside [{}, {}]",
            s.min_replicas,
            s.max_replicas
        );
    });
}

/// The count as it stood at `t`: the last write at or before it.
fn count_at(history: &[(SimTime, i32)], t: SimTime) -> i32 {
    history
        .iter()
        .rev()
        .find(|(at, _)| *at <= t)
        .map_or(history[0].1, |h| h.1)
}

#[test]
fn property_rate_limits_are_never_exceeded() {
    random_run(SEED ^ 1, |s, history, now, current, new| {
        let Some(b) = &s.behavior else {
            // Legacy: at most double, at least 4, per sync; no scale-down limit.
            assert!(new <= (2 * current).max(4), "legacy {current} -> {new}");
            return;
        };
        let start = |p: &ScalingPolicy| {
            count_at(history, now - SimDuration::from_secs(i64::from(p.period_s)))
        };
        if new > current {
            let allowed: Vec<i32> = (b.scale_up.policies.iter())
                .map(|p| match p.kind {
                    PolicyKind::Pods => start(p) + p.value,
                    PolicyKind::Percent => {
                        (f64::from(start(p)) * (1.0 + f64::from(p.value) / 100.0)).ceil() as i32
                    }
                })
                .collect();
            let limit = match b.scale_up.select_policy {
                SelectPolicy::Max => allowed.iter().max(),
                SelectPolicy::Min => allowed.iter().min(),
                SelectPolicy::Disabled => Some(&current),
            };
            assert!(
                new <= *limit.unwrap(),
                "up {current} -> {new} beyond {limit:?} ({:?})",
                b.scale_up
            );
        } else {
            let allowed: Vec<i32> = (b.scale_down.policies.iter())
                .map(|p| match p.kind {
                    PolicyKind::Pods => start(p) - p.value,
                    PolicyKind::Percent => {
                        (f64::from(start(p)) * (1.0 - f64::from(p.value) / 100.0)) as i32
                    }
                })
                .collect();
            let limit = match b.scale_down.select_policy {
                SelectPolicy::Max => allowed.iter().min(),
                SelectPolicy::Min => allowed.iter().max(),
                SelectPolicy::Disabled => Some(&current),
            };
            assert!(
                new >= *limit.unwrap(),
                "down {current} -> {new} beyond {limit:?} ({:?})",
                b.scale_down
            );
        }
    });
}

#[test]
fn property_stabilisation_is_the_naive_window_extreme() {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED ^ 2);
    for _ in 0..300 {
        let up_w = SimDuration::from_secs([0, 15, 60, 300][rng.random_range(0..4)]);
        let down_w = SimDuration::from_secs([0, 15, 60, 300][rng.random_range(0..4)]);
        let (mut legacy, mut behavior) =
            (Vec::<Recommendation>::new(), Vec::<Recommendation>::new());
        let mut all: Vec<(SimTime, i32)> = vec![];
        let mut now = at(0);
        for _ in 0..80 {
            // Exact 15 s ticks most of the time, so that the window edges are hit.
            let step = if rng.random_range(0..4) == 0 {
                rng.random_range(1..40)
            } else {
                15
            };
            now = now + SimDuration::from_secs(step);
            let proposal = rng.random_range(0..30);
            let current = rng.random_range(0..30);
            // Legacy: a recommendation exactly one window old still counts.
            let naive = (all.iter())
                .filter(|(t, _)| *t >= now - down_w)
                .map(|r| r.1)
                .chain([proposal])
                .max()
                .unwrap();
            assert_eq!(
                normalize::stabilize_recommendation(&mut legacy, now, down_w, proposal),
                naive
            );
            // Behaviour: only recommendations strictly younger than each window count.
            let up = (all.iter())
                .filter(|(t, _)| *t > now - up_w)
                .map(|r| r.1)
                .chain([proposal])
                .min()
                .unwrap();
            let down = (all.iter())
                .filter(|(t, _)| *t > now - down_w)
                .map(|r| r.1)
                .chain([proposal])
                .max()
                .unwrap();
            let got = normalize::stabilize_recommendation_with_behaviors(
                &mut behavior,
                now,
                up_w,
                down_w,
                current,
                proposal,
            );
            assert_eq!(got, current.max(up).min(down));
            all.push((now, proposal));
        }
    }
}
