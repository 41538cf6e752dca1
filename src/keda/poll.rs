//! KEDA's own loop, run every `pollingInterval` (docs/other-autoscalers.md §3): it only activates (0 →
//! `max(minReplicaCount, 1)`) and deactivates (→ 0 or `idleReplicaCount` once the cooldown
//! after the last active poll is over); the HPA it created scales in between. Ports E3
//! `scale_scaledobjects.go` `RequestScale`, `scaleToZeroOrIdle`, `scaleFromZeroOrIdle`.
//!
//! Not simulated: the pause and force-activation annotations (no annotations are read), and
//! the rule that a ScaledObject with only cpu/memory triggers is always active (only
//! Prometheus triggers are accepted).

use super::reason::{Evidence, Reason};
use super::spec::ScaledObjectSpec;
use crate::sim::{SimDuration, SimTime};

/// What a poll changes: the replicas to write, if any, and why.
pub(super) struct Outcome {
    pub(super) replicas: Option<i32>,
    pub(super) reason: Reason,
}

/// E3 `RequestScale` for one poll. `evidence` holds each trigger's answer in trigger order
/// (E2 `getScaledObjectState`: active if any trigger is, in error if any failed);
/// `last_active` is the ScaledObject's `status.lastActiveTime`, refreshed here.
pub(super) fn request_scale(
    spec: &ScaledObjectSpec,
    last_active: &mut Option<SimTime>,
    created_at: SimTime,
    now: SimTime,
    current: i32,
    evidence: &[Evidence],
) -> Outcome {
    let min = spec.min_replica_count;
    let active = evidence.iter().find(|e| e.is_active());
    let error = evidence.iter().find(|e| e.is_error());
    if let Some(active) = active {
        if (spec.idle_replica_count.is_some() && current < min) || current == 0 {
            // E3 `scaleFromZeroOrIdle`.
            let to = if min > 0 { min } else { 1 };
            *last_active = Some(now);
            return Outcome {
                replicas: Some(to),
                reason: Reason::Activated {
                    evidence: active.clone(),
                    from: current,
                    to,
                },
            };
        }
        if let Some(error) = error {
            return Outcome {
                replicas: None,
                reason: Reason::ActiveWithErrors {
                    evidence: active.clone(),
                    error: error.clone(),
                },
            };
        }
        *last_active = Some(now);
        return Outcome {
            replicas: None,
            reason: Reason::Active {
                evidence: active.clone(),
                replicas: current,
            },
        };
    }
    if let Some(error) = error {
        match spec.fallback {
            Some(fb) if fb.replicas != 0 => {
                return Outcome {
                    replicas: None,
                    reason: Reason::QueryError {
                        error: error.clone(),
                        fallback_replicas: Some(fb.replicas),
                    },
                }
            }
            None => {
                return Outcome {
                    replicas: None,
                    reason: Reason::QueryError {
                        error: error.clone(),
                        fallback_replicas: None,
                    },
                }
            }
            // A fallback of 0 replicas lets an erroring object go to zero like an idle one.
            Some(_) => {}
        }
    }
    let shown = error.or(evidence.first()).cloned();
    let idle = spec.idle_replica_count;
    if idle.is_some_and(|idle| current > idle) || (current > 0 && min == 0) {
        return scale_to_zero_or_idle(spec, *last_active, created_at, now, current, shown);
    }
    if idle.is_none() && current < min {
        return Outcome {
            replicas: Some(min),
            reason: Reason::RaisedToMin {
                from: current,
                to: min,
            },
        };
    }
    Outcome {
        replicas: None,
        reason: Reason::BelowActivation {
            evidence: shown,
            replicas: current,
        },
    }
}

/// E3 `scaleToZeroOrIdle`: only once `lastActiveTime + cooldownPeriod` (or, never active,
/// `creation + initialCooldownPeriod`) is strictly before now; then to `idleReplicaCount`,
/// else `minReplicaCount`.
fn scale_to_zero_or_idle(
    spec: &ScaledObjectSpec,
    last_active: Option<SimTime>,
    created_at: SimTime,
    now: SimTime,
    current: i32,
    evidence: Option<Evidence>,
) -> Outcome {
    let (since, cooldown_s) = match last_active {
        Some(t) => (t, spec.cooldown_period_s),
        None => (created_at, spec.initial_cooldown_period_s),
    };
    let until = since + SimDuration::from_secs(i64::from(cooldown_s));
    if until >= now {
        return Outcome {
            replicas: None,
            reason: Reason::Cooldown { until },
        };
    }
    let to = spec.idle_replica_count.unwrap_or(spec.min_replica_count);
    Outcome {
        replicas: Some(to),
        reason: Reason::Deactivated {
            evidence,
            from: current,
            to,
            last_active,
            cooldown_s,
        },
    }
}
