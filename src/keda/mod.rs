//! KEDA's ScaledObject with Prometheus triggers, on top of the HPA it creates (spec
//! docs/other-autoscalers.md §3). Two loops with two clocks: [`Keda::poll`] every
//! `pollingInterval` activates and deactivates (0 ↔ `max(minReplicaCount, 1)`, cooldown,
//! idle), and [`Keda::hpa_sync`] every 15 s runs KEDA's HPA on External metrics built from the
//! same queries. Pure: no I/O, no clock; the world evaluates the PromQL queries and passes
//! their series in.
//!
//! Ports, from kedacore/keda `8b4f083c` (tags of docs/other-autoscalers.md §1): E1
//! `apis/keda/v1alpha1/scaledobject_types.go`, E2 `pkg/scaling/scale_handler.go`, E3
//! `pkg/scaling/executor/scale_scaledobjects.go`, E4 `pkg/scalers/prometheus_scaler.go`,
//! E5 `controllers/keda/hpa.go`, E6 `pkg/fallback/fallback.go`.

mod fallback;
mod poll;
mod reason;
mod scaler;
mod spec;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod upstream_tests;

pub use reason::{Evidence, Reason};
pub use spec::{
    Fallback, FallbackBehavior, MetricType, ScaledObjectSpec, Trigger, DEFAULT_COOLDOWN_PERIOD_S,
    DEFAULT_INITIAL_COOLDOWN_PERIOD_S, DEFAULT_MAX_REPLICA_COUNT, DEFAULT_POLLING_INTERVAL_S,
    OWNER_LABEL,
};

use crate::hpa;
use crate::sim::SimTime;

/// The series values a trigger's PromQL query returned, as the world's Prometheus evaluated
/// it (empty = no series), or why the query failed.
pub type QueryOutcome = Result<Vec<f64>, String>;

/// What a poll or an HPA sync decided.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The `spec.replicas` to write; `None` = no write.
    pub replicas: Option<i32>,
    /// What it computed, for the timeline (the current count when it leaves it).
    pub desired: i32,
    pub reason: Reason,
}

/// One ScaledObject's controller state: what KEDA keeps in the ScaledObject's status and in
/// its metrics cache.
#[derive(Debug, Clone)]
pub struct Keda {
    /// The state of the HPA KEDA created (docs/other-autoscalers.md §2).
    hpa: hpa::Hpa,
    /// `metadata.creationTimestamp`: the initial cooldown counts from it.
    created_at: SimTime,
    /// `status.lastActiveTime`: the cooldown before scaling to zero counts from it (E3).
    last_active_time: Option<SimTime>,
    /// `status.health[s<i>-prometheus].numberOfFailures`, per trigger (E6); counted only with
    /// a fallback.
    failures: Vec<i32>,
    /// The last poll's metric per trigger with `useCachedMetrics` (E2 `scaledObjectsMetricCache`,
    /// replaced whole at every poll): the fallback-processed value in milli, or its error.
    cached: Vec<Option<Result<i64, String>>>,
}

impl Keda {
    /// A ScaledObject created at `created_at`, never polled.
    pub fn new(created_at: SimTime) -> Keda {
        Keda {
            hpa: hpa::Hpa::new(),
            created_at,
            last_active_time: None,
            failures: Vec::new(),
            cached: Vec::new(),
        }
    }

    /// One run of KEDA's scale loop (E2 `checkScalers`), at t0 and every
    /// [`ScaledObjectSpec::polling_interval`] after. `queries[i]` is trigger `i`'s query
    /// evaluated at `now`; `spec_replicas` is the target's `spec.replicas`.
    ///
    /// A `Value` trigger in fallback divides by the ready pods (E6); the poll is given no
    /// pods, so it takes `spec_replicas` as the ready count (the HPA sync uses the real one).
    pub fn poll(
        &mut self,
        spec: &ScaledObjectSpec,
        now: SimTime,
        spec_replicas: i32,
        queries: &[QueryOutcome],
    ) -> Decision {
        self.fit(spec);
        let replicas = fallback::Replicas {
            current: spec_replicas,
            ready: spec_replicas,
        };
        let mut evidence = Vec::with_capacity(spec.triggers.len());
        let mut cached = vec![None; spec.triggers.len()];
        for (i, trigger) in spec.triggers.iter().enumerate() {
            let label = spec.trigger_label(i);
            let raw = query_value(queries.get(i), trigger);
            let metric = fallback::with_fallback(
                spec.fallback.as_ref(),
                &mut self.failures[i],
                raw.clone().map(scaler::milli),
                trigger.target(),
                replicas,
            );
            if trigger.use_cached_metrics {
                cached[i] = Some(metric.value.clone());
            }
            evidence.push(if metric.active {
                Evidence::Fallback { trigger: label }
            } else {
                match raw {
                    Ok(value) => Evidence::Value {
                        trigger: label,
                        value,
                        activation: trigger.activation_threshold,
                    },
                    // The fallback's own error ("error performing fallback") when it has one.
                    Err(query_error) => Evidence::Error {
                        trigger: label,
                        message: metric.value.err().unwrap_or(query_error),
                    },
                }
            });
        }
        self.cached = cached;
        let outcome = poll::request_scale(
            spec,
            &mut self.last_active_time,
            self.created_at,
            now,
            spec_replicas,
            &evidence,
        );
        Decision {
            replicas: outcome.replicas,
            desired: outcome.replicas.unwrap_or(spec_replicas),
            reason: outcome.reason,
        }
    }

    /// One sync of the HPA KEDA created (docs/other-autoscalers.md §3), every 15 s. `base` is the HPA's
    /// observation (time, replicas, pods) with `metrics` empty; `queries[i]` is trigger `i`'s
    /// query evaluated now, which KEDA's metrics server runs again for each HPA fetch (E2
    /// `GetScaledObjectMetrics`), or ignored for a trigger with `useCachedMetrics` once a poll
    /// has cached its value. Fallback applies (E6) and counts failures, but only when the HPA
    /// fetches metrics at all: not at 0 replicas nor outside [minReplicas, maxReplicas] (K2
    /// `reconcileAutoscaler` returns before).
    pub fn hpa_sync(
        &mut self,
        spec: &ScaledObjectSpec,
        cfg: &hpa::ControllerConfig,
        base: hpa::Input,
        queries: &[QueryOutcome],
    ) -> Decision {
        let hpa_spec = spec.hpa();
        let current = base.spec_replicas;
        let fetches =
            current != 0 && current >= hpa_spec.min_replicas && current <= hpa_spec.max_replicas;
        let mut input = base;
        let mut in_fallback = Vec::new();
        if fetches {
            let replicas = fallback::Replicas {
                current,
                ready: ready_pods(&input.pods),
            };
            (input.metrics, in_fallback) = self.external_metrics(spec, replicas, queries);
        }
        let d = self.hpa.sync(&hpa_spec, cfg, &input);
        Decision {
            replicas: d.replicas,
            desired: d.desired,
            reason: if in_fallback.is_empty() {
                Reason::Hpa(d.reason)
            } else {
                Reason::HpaInFallback {
                    hpa: d.reason,
                    triggers: in_fallback,
                }
            },
        }
    }

    /// What KEDA's metrics server answers for each External metric of its HPA (E2
    /// `GetScaledObjectMetrics` per metric), and the triggers answered by fallback.
    fn external_metrics(
        &mut self,
        spec: &ScaledObjectSpec,
        replicas: fallback::Replicas,
        queries: &[QueryOutcome],
    ) -> (Vec<hpa::MetricReading>, Vec<String>) {
        self.fit(spec);
        let mut in_fallback = Vec::new();
        let metrics = spec
            .triggers
            .iter()
            .enumerate()
            .map(|(i, trigger)| {
                let raw = match &self.cached[i] {
                    Some(cached) if trigger.use_cached_metrics => cached.clone(),
                    _ => query_value(queries.get(i), trigger).map(scaler::milli),
                };
                let metric = fallback::with_fallback(
                    spec.fallback.as_ref(),
                    &mut self.failures[i],
                    raw,
                    trigger.target(),
                    replicas,
                );
                if metric.active {
                    in_fallback.push(spec.trigger_label(i));
                }
                hpa::MetricReading::Total(metric.value)
            })
            .collect();
        (metrics, in_fallback)
    }

    /// Sizes the per-trigger state to the spec's triggers.
    fn fit(&mut self, spec: &ScaledObjectSpec) {
        let n = spec.triggers.len();
        self.failures.resize(n, 0);
        self.cached.resize(n, None);
    }
}

/// Pods Running and Ready: what a `Value` fallback divides by (E6 `getReadyReplicasCount`).
fn ready_pods(pods: &[hpa::Pod]) -> i32 {
    let n = pods
        .iter()
        .filter(|p| p.phase == hpa::Phase::Running && p.ready == Some(true))
        .count();
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// A trigger's value from its query outcome (a missing outcome is the world's error).
fn query_value(outcome: Option<&QueryOutcome>, trigger: &Trigger) -> Result<f64, String> {
    match outcome {
        Some(o) => scaler::value(o, &trigger.query, trigger.ignore_null_values),
        None => Err("no query outcome given for this trigger".to_string()),
    }
}
