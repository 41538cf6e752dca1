//! The Kubernetes HorizontalPodAutoscaler (`autoscaling/v2`) as a pure function of its state,
//! its spec and what the world observes at a sync: no I/O, no clock (time is an argument), no
//! randomness. Ports, from kubernetes/kubernetes (tags of docs/other-autoscalers.md §1):
//! K1 `pkg/controller/podautoscaler/replica_calculator.go` ([`calculator`]), K2 `horizontal.go`
//! (`reconcileAutoscaler` here, normalisation in [`normalize`]), K3
//! `pkg/apis/autoscaling/v2/defaults.go` and K4 `config/v1alpha1/defaults.go` ([`spec`]), K5
//! `metrics/utilization.go`.
//!
//! KEDA's HPA is an [`HpaSpec`] built from the ScaledObject (External metrics) and the same
//! [`Hpa`] state, fed [`MetricReading::Total`] values.

mod calculator;
mod input;
mod normalize;
mod reason;
mod spec;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod upstream_tests;

use crate::sim::{SimDuration, SimTime};

pub use input::{Input, MetricReading, Phase, Pod, Sample};
pub use reason::Reason;
pub use spec::{
    Behavior, ControllerConfig, HpaSpec, MetricId, MetricSpec, MetricTarget, ObjectRef, PolicyKind,
    Rules, ScalingPolicy, SelectPolicy, DEFAULT_CPU_UTILIZATION,
};

use calculator::{replicas_for_metric, tolerances_for_hpa, Proposal};
use normalize::{RateArgs, Recommendation, ScaleEvent, ScalingLimited};

/// What one sync decided.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The `spec.replicas` to write; `None` = no write.
    pub replicas: Option<i32>,
    /// What the HPA computed (its `status.desiredReplicas`), for the timeline.
    pub desired: i32,
    pub reason: Reason,
}

/// The controller's memory of one HPA (docs/other-autoscalers.md §2): kept in controller memory only, so a new
/// `Hpa` is a controller restart.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Hpa {
    recommendations: Vec<Recommendation>,
    scale_up_events: Vec<ScaleEvent>,
    scale_down_events: Vec<ScaleEvent>,
}

/// Where a sync stands when it normalises.
#[derive(Clone, Copy)]
struct Step {
    now: SimTime,
    current: i32,
    min: i32,
    max: i32,
}

/// The metric whose proposal won (K2 `computeReplicasForMetrics`).
struct Best {
    proposal: Proposal,
    metric: String,
}

impl Hpa {
    pub fn new() -> Self {
        Hpa::default()
    }

    /// One sync: K2 `reconcileAutoscaler`, from reading the scale to writing it.
    pub fn sync(&mut self, spec: &HpaSpec, cfg: &ControllerConfig, input: &Input) -> Decision {
        let now = input.now;
        let current = input.spec_replicas;
        // K2 `recordInitialRecommendation`: the starting count holds for one window.
        if self.recommendations.is_empty() {
            self.recommendations.push(Recommendation {
                replicas: current,
                at: now,
            });
        }
        let (min, max) = (spec.min_replicas, spec.max_replicas);
        if current == 0 && min != 0 {
            return Decision {
                replicas: None,
                desired: 0,
                reason: Reason::IdleAtZero { min },
            };
        }
        let (desired, reason) = if current > max {
            (max, Reason::MaxReplicas { max })
        } else if current < min {
            (min, Reason::MinReplicas { min })
        } else {
            let best = match compute_replicas_for_metrics(spec, cfg, input) {
                Ok(best) => best,
                Err(reason) => {
                    return Decision {
                        replicas: None,
                        desired: current,
                        reason,
                    }
                }
            };
            let step = Step {
                now,
                current,
                min,
                max,
            };
            match &spec.behavior {
                None => self.normalize_desired_replicas(cfg, &step, &best),
                Some(b) => self.normalize_desired_replicas_with_behaviors(b, cfg, &step, &best),
            }
        };
        if desired == current {
            return Decision {
                replicas: None,
                desired,
                reason,
            };
        }
        if let Some(b) = &spec.behavior {
            normalize::store_scale_event(
                now,
                b,
                &mut self.scale_up_events,
                &mut self.scale_down_events,
                current,
                desired,
            );
        }
        Decision {
            replicas: Some(desired),
            desired,
            reason,
        }
    }

    /// K2 `normalizeDesiredReplicas` (no `behavior`).
    fn normalize_desired_replicas(
        &mut self,
        cfg: &ControllerConfig,
        step: &Step,
        best: &Best,
    ) -> (i32, Reason) {
        let Step {
            now,
            current,
            min,
            max,
        } = *step;
        let proposal = best.proposal.replicas;
        let window = cfg.downscale_stabilization;
        let stabilized =
            normalize::stabilize_recommendation(&mut self.recommendations, now, window, proposal);
        let (desired, limit) =
            normalize::convert_desired_replicas_with_rules(current, stabilized, min, max);
        let reason = match limit_reason(limit, desired, stabilized, min, max) {
            Some(r) => r,
            None if stabilized != proposal => Reason::ScaleDownStabilization {
                held: stabilized,
                until: self.held_until(now, window, false, |r| r >= stabilized),
                recommended: proposal,
            },
            None => base_reason(best, current),
        };
        (desired, reason)
    }

    /// K2 `normalizeDesiredReplicasWithBehaviors`: stabilise, then rate-limit with the bounds.
    fn normalize_desired_replicas_with_behaviors(
        &mut self,
        b: &Behavior,
        cfg: &ControllerConfig,
        step: &Step,
        best: &Best,
    ) -> (i32, Reason) {
        let Step {
            now,
            current,
            min,
            max,
        } = *step;
        let proposal = best.proposal.replicas;
        let window = |s: Option<i32>, default: SimDuration| {
            s.map_or(default, |s| SimDuration::from_secs(i64::from(s)))
        };
        let up_window = window(b.scale_up.stabilization_window_s, SimDuration::ZERO);
        // K2 `maybeInitScaleDownStabilizationWindow`.
        let down_window = window(
            b.scale_down.stabilization_window_s,
            cfg.downscale_stabilization,
        );
        let stabilized = normalize::stabilize_recommendation_with_behaviors(
            &mut self.recommendations,
            now,
            up_window,
            down_window,
            current,
            proposal,
        );
        let args = RateArgs {
            now,
            up_events: &self.scale_up_events,
            down_events: &self.scale_down_events,
            behavior: b,
            min,
            max,
        };
        let (desired, limit) =
            normalize::convert_desired_replicas_with_behavior_rate(&args, current, stabilized);
        // K2 names the stabilisation by the proposal's direction.
        let reason = match limit_reason(limit, desired, stabilized, min, max) {
            Some(r) => r,
            None if stabilized != proposal && proposal >= current => Reason::ScaleUpStabilization {
                held: stabilized,
                until: self.held_until(now, up_window, true, |r| r <= stabilized),
                recommended: proposal,
            },
            None if stabilized != proposal => Reason::ScaleDownStabilization {
                held: stabilized,
                until: self.held_until(now, down_window, true, |r| r >= stabilized),
                recommended: proposal,
            },
            None => base_reason(best, current),
        };
        (desired, reason)
    }

    /// When the last recommendation of the window that holds the stabilised value (the
    /// newest one at or beyond it) leaves the window: the hold ends then if nothing newer
    /// holds it. `strict` is the behaviour path's `After(cutoff)`; the legacy path keeps a
    /// recommendation exactly one window old.
    fn held_until(
        &self,
        now: SimTime,
        window: SimDuration,
        strict: bool,
        holds: impl Fn(i32) -> bool,
    ) -> SimTime {
        let cutoff = now - window;
        self.recommendations
            .iter()
            .filter(|r| {
                if strict {
                    r.at > cutoff
                } else {
                    r.at >= cutoff
                }
            })
            .filter(|r| holds(r.replicas))
            .map(|r| r.at + window)
            .max()
            .unwrap_or(now)
    }
}

/// K2 `computeReplicasForMetrics`: the highest proposal over the metrics (the first metric
/// wins a tie), tolerance already applied per metric. All metrics failing, or some failing
/// while the others would scale down, is no decision.
fn compute_replicas_for_metrics(
    spec: &HpaSpec,
    cfg: &ControllerConfig,
    input: &Input,
) -> Result<Best, Reason> {
    let tolerances = tolerances_for_hpa(spec, cfg);
    let mut best: Option<Best> = None;
    let mut invalid = 0;
    let mut first_error = None;
    for (i, m) in spec.metrics.iter().enumerate() {
        match replicas_for_metric(m, input.metrics.get(i), input, tolerances, cfg) {
            Err(e) => {
                invalid += 1;
                first_error.get_or_insert(e);
            }
            Ok(p) => {
                let better = best
                    .as_ref()
                    .is_none_or(|b| b.proposal.replicas == 0 || p.replicas > b.proposal.replicas);
                if better {
                    best = Some(Best {
                        proposal: p,
                        metric: m.metric_name().to_string(),
                    });
                }
            }
        }
    }
    let error = first_error.unwrap_or_else(|| "the HPA lists no metrics".to_string());
    match best {
        None => Err(Reason::NoMetrics { error }),
        Some(b) if invalid > 0 && b.proposal.replicas < input.spec_replicas => {
            Err(Reason::PartialMetrics {
                failed: invalid,
                of: spec.metrics.len(),
                recommended: b.proposal.replicas,
                error,
            })
        }
        Some(b) => Ok(b),
    }
}

/// The reason when nothing but the metrics decided.
fn base_reason(best: &Best, current: i32) -> Reason {
    if best.proposal.within && best.proposal.replicas == current {
        Reason::WithinTolerance {
            ratio: best.proposal.ratio,
        }
    } else {
        Reason::Recommendation {
            replicas: best.proposal.replicas,
            ratio: best.proposal.ratio,
            metric: best.metric.clone(),
        }
    }
}

/// The reason for a `ScalingLimited` condition; `None` for `DesiredWithinRange`.
fn limit_reason(
    limit: ScalingLimited,
    desired: i32,
    recommended: i32,
    min: i32,
    max: i32,
) -> Option<Reason> {
    Some(match limit {
        ScalingLimited::DesiredWithinRange => return None,
        ScalingLimited::TooFewReplicas => Reason::MinReplicas { min },
        ScalingLimited::TooManyReplicas => Reason::MaxReplicas { max },
        ScalingLimited::ScaleUpLimit => Reason::ScaleUpLimit {
            limit: desired,
            recommended,
        },
        ScalingLimited::ScaleDownLimit => Reason::ScaleDownLimit {
            limit: desired,
            recommended,
        },
    })
}
