//! Fallback (E6 `pkg/fallback/fallback.go` `GetMetricsWithFallback`, `doFallback`): after more
//! than `failureThreshold` failures in a row, a trigger's metric is replaced by one that makes
//! the HPA pick a chosen replica count, and the trigger counts as active. Both the poll and
//! every HPA metric fetch go through here, so both count failures.

use super::spec::{Fallback, FallbackBehavior};
use crate::hpa::MetricTarget;

/// A metric after fallback: the value the HPA gets (milli) or the error it gets, and whether
/// it is a fallback value.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct WithFallback {
    pub(super) value: Result<i64, String>,
    pub(super) active: bool,
}

/// What the substitute metric is computed from: the target's `spec.replicas`, and its pods
/// that are Running and Ready (only a `Value` target divides by them).
#[derive(Debug, Clone, Copy)]
pub(super) struct Replicas {
    pub(super) current: i32,
    pub(super) ready: i32,
}

/// E6 `GetMetricsWithFallback` for one trigger. `failures` is the trigger's
/// `status.health[metric].numberOfFailures`, tracked only when a valid fallback is configured
/// (E6 `HasValidFallback`: threshold and replicas ≥ 0); a success resets it to 0.
pub(super) fn with_fallback(
    fallback: Option<&Fallback>,
    failures: &mut i32,
    raw: Result<i64, String>,
    target: MetricTarget,
    replicas: Replicas,
) -> WithFallback {
    let fallback = fallback.filter(|f| f.failure_threshold >= 0 && f.replicas >= 0);
    let Err(error) = raw else {
        if fallback.is_some() {
            *failures = 0;
        }
        return WithFallback {
            value: raw,
            active: false,
        };
    };
    let Some(fallback) = fallback else {
        return WithFallback {
            value: Err(error),
            active: false,
        };
    };
    *failures = failures.saturating_add(1);
    if *failures <= fallback.failure_threshold {
        return WithFallback {
            value: Err(error),
            active: false,
        };
    }
    match fallback_metric(fallback, target, replicas) {
        Some(milli) => WithFallback {
            value: Ok(milli),
            active: true,
        },
        None => WithFallback {
            value: Err("error performing fallback".to_string()),
            active: false,
        },
    }
}

/// E6 `doFallback`: `target × replicas` in milli (truncated, as `int64(...)` does); a `Value`
/// target divides the replicas by the ready pods first, and has no answer without any.
fn fallback_metric(fallback: &Fallback, target: MetricTarget, replicas: Replicas) -> Option<i64> {
    let chosen = match fallback.behavior {
        FallbackBehavior::Static => fallback.replicas,
        FallbackBehavior::CurrentReplicas => replicas.current,
        FallbackBehavior::CurrentReplicasIfHigher => replicas.current.max(fallback.replicas),
        FallbackBehavior::CurrentReplicasIfLower => replicas.current.min(fallback.replicas),
    };
    let mut count = f64::from(chosen);
    let target_milli = match target {
        MetricTarget::AverageValue(m) => m,
        MetricTarget::Value(m) => {
            if replicas.ready == 0 {
                return None;
            }
            count /= f64::from(replicas.ready);
            m
        }
        // KEDA never builds a Utilization target for an external scaler (E4
        // `GetMetricTargetType`); upstream's normalisation value is then 0.
        MetricTarget::Utilization(_) => 0,
    };
    let normalisation = target_milli as f64 / 1000.0;
    Some((normalisation * 1000.0 * count) as i64)
}
