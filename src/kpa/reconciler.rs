//! The PodAutoscaler reconciler's part that turns the decider's desired scale into a
//! `spec.replicas` write: `scaler.scale` and `handleScaleToZero` of knative/serving
//! `pkg/reconciler/autoscaling/kpa/scaler.go`, and the SKS mode choice and
//! `computeActiveCondition` of `kpa.go` (N10, N11). It applies min/max/initial scale, and runs
//! the scale-to-zero state machine: Activating → Active → (desired 0 and Active for a stable
//! window) Inactive → (activator in the path for the grace period, and retention over) 0.
//!
//! Where the overview (docs/other-autoscalers.md §4) simplifies, upstream wins: the grace period is measured from when the
//! activator came into the path (the SKS's `ActivatorEndpointsPopulated` condition), which is
//! often long before the PA turned Inactive — with the default target-burst-capacity of 211 a
//! revision of a few pods is always behind the activator, so the last pod goes at the first
//! reconcile after Inactive, not 30 s later. The activator is in the path when the SKS is in
//! proxy mode or no pod is ready (the SKS reconciler forces proxy then); the activator probe
//! succeeds exactly then.

use super::reason::{Reason, ZeroWait};
use super::spec::ScalerSpec;
use crate::sim::{SimDuration, SimTime};

/// `config-deployment`'s `progress-deadline` default (600 s) plus `activationTimeoutBuffer`
/// (30 s): how long a PA may stay Activating before it gives up and scales to 0.
const ACTIVATION_TIMEOUT: SimDuration = SimDuration::from_secs(600 + 30);

/// The PA's `Active` condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    /// Unknown: waiting for pods (at creation and after scaling from zero).
    Activating,
    /// True.
    Active,
    /// False: the activator holds requests; scale 0 once the grace is over.
    Inactive,
}

/// The PodAutoscaler's status and its SKS's, as far as scaling reads them.
#[derive(Debug, Clone)]
pub struct PodAutoscaler {
    pub(crate) activity: Activity,
    /// The condition's last transition.
    pub(crate) since: SimTime,
    pub(crate) scale_target_initialized: bool,
    /// Since when the activator has backed the revision (`ProxyFor`); `None` when it is out of
    /// the path.
    pub(crate) activator_since: Option<SimTime>,
}

/// `Decider.Status`: what the last valid decider tick published.
#[derive(Debug, Clone, PartialEq)]
pub struct DeciderStatus {
    /// −1 until the first valid tick.
    pub desired_scale: i32,
    pub excess_burst_capacity: i32,
    /// Why; kept when the scaler changes nothing.
    pub reason: Reason,
}

/// One reconcile's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Reconciled {
    /// What the scaler wants (−1 = unknown), as `computeActiveCondition` sees it.
    pub want: i32,
    /// The `spec.replicas` to write.
    pub write: Option<i32>,
    pub reason: Reason,
}

impl PodAutoscaler {
    /// A new PA: Activating, and the SKS created in proxy mode (the activator in the path).
    pub fn new(now: SimTime) -> Self {
        PodAutoscaler {
            activity: Activity::Activating,
            since: now,
            scale_target_initialized: false,
            activator_since: Some(now),
        }
    }

    fn in_state_for(&self, now: SimTime) -> SimDuration {
        now - self.since
    }

    fn mark(&mut self, activity: Activity, now: SimTime) {
        if self.activity != activity {
            self.activity = activity;
            self.since = now;
        }
    }

    /// Whether requests go through the activator.
    pub fn activator_in_path(&self) -> bool {
        self.activator_since.is_some()
    }

    /// `ReconcileKind` from the decider's status on: scale, choose the SKS mode, update the
    /// Active condition.
    pub fn reconcile(
        &mut self,
        spec: &ScalerSpec,
        now: SimTime,
        decider: &DeciderStatus,
        spec_replicas: i32,
        ready_pods: i32,
    ) -> Reconciled {
        let out = self.scale(
            spec,
            now,
            decider.desired_scale,
            spec_replicas,
            decider.reason.clone(),
        );
        let want = out.want;
        // Serve mode only when pods are wanted and the burst capacity is covered.
        let serve = want > 0 && decider.excess_burst_capacity >= 0;
        if !serve || ready_pods == 0 {
            self.activator_since.get_or_insert(now);
        } else {
            self.activator_since = None;
        }
        self.compute_active_condition(spec, now, want, ready_pods);
        out
    }

    /// `scaler.scale`.
    fn scale(
        &mut self,
        spec: &ScalerSpec,
        now: SimTime,
        desired: i32,
        spec_replicas: i32,
        mut reason: Reason,
    ) -> Reconciled {
        if desired < 0 && self.activity != Activity::Activating {
            return Reconciled {
                want: desired,
                write: None,
                reason,
            };
        }
        let (mut min, max) = self.scale_bounds(spec);
        let mut raised_by_initial = false;
        if spec.initial_scale > 1 && !self.scale_target_initialized && spec.reachable {
            raised_by_initial = spec.initial_scale > min;
            min = min.max(spec.initial_scale);
        }
        let bounded = apply_bounds(min, max, desired);
        if bounded != desired {
            reason = if bounded > desired && raised_by_initial {
                Reason::InitialScale {
                    initial: bounded,
                    computed: desired,
                }
            } else if bounded > desired && bounded > 0 {
                Reason::MinScale {
                    min: bounded,
                    computed: desired,
                }
            } else if bounded < desired {
                Reason::MaxScale {
                    max: bounded,
                    computed: desired,
                }
            } else {
                reason
            };
        }
        let (want, apply, reason) = self.handle_scale_to_zero(spec, now, bounded, reason);
        let write = (apply && want != spec_replicas).then_some(want);
        Reconciled {
            want,
            write,
            reason,
        }
    }

    /// `ScaleBounds`: min-scale applies only while the revision is reachable.
    fn scale_bounds(&self, spec: &ScalerSpec) -> (i32, i32) {
        let min = if spec.reachable { spec.min_scale } else { 0 };
        (min, spec.max_scale)
    }

    /// `handleScaleToZero`: whether a desired 0 may be applied yet.
    fn handle_scale_to_zero(
        &self,
        spec: &ScalerSpec,
        now: SimTime,
        desired: i32,
        reason: Reason,
    ) -> (i32, bool, Reason) {
        if desired != 0 {
            return (desired, true, reason);
        }
        if !spec.enable_scale_to_zero {
            return (1, true, Reason::ScaleToZeroDisabled);
        }
        let in_state = self.in_state_for(now);
        match self.activity {
            Activity::Activating => {
                if in_state > ACTIVATION_TIMEOUT {
                    (0, true, Reason::ActivationTimeout { since: self.since })
                } else {
                    (-1, false, Reason::Activating { since: self.since })
                }
            }
            Activity::Active => {
                if in_state >= spec.stable_window {
                    (0, false, Reason::ScaleToZeroPending(ZeroWait::Deactivating))
                } else {
                    let until = self.since + spec.stable_window;
                    (
                        1,
                        true,
                        Reason::ScaleToZeroPending(ZeroWait::KeepOne { until }),
                    )
                }
            }
            Activity::Inactive => {
                // With target-burst-capacity −1 the activator is always in the path; otherwise
                // the probe answers whether it is.
                if spec.target_burst_capacity != -1.0 && !self.activator_in_path() {
                    return (
                        0,
                        false,
                        Reason::ScaleToZeroPending(ZeroWait::ActivatorNotInPath),
                    );
                }
                let grace = spec.scale_to_zero_grace_period;
                let retention = if spec.reachable {
                    spec.scale_to_zero_pod_retention_period
                } else {
                    SimDuration::ZERO
                };
                let longest = grace.max(retention);
                if in_state >= longest {
                    let zero = Reason::ScaleToZero {
                        inactive_since: self.since,
                        grace: longest,
                        fast_path: false,
                    };
                    return (0, true, zero);
                }
                if retention > SimDuration::ZERO && in_state < retention {
                    let wait = ZeroWait::Retention {
                        since: self.since,
                        until: self.since + retention,
                    };
                    return (0, false, Reason::ScaleToZeroPending(wait));
                }
                let proxy_for = self.activator_since.map_or(SimDuration::ZERO, |t| now - t);
                if grace - proxy_for <= SimDuration::ZERO {
                    let zero = Reason::ScaleToZero {
                        inactive_since: self.since,
                        grace,
                        fast_path: true,
                    };
                    return (0, true, zero);
                }
                let wait = ZeroWait::Grace {
                    since: self.since,
                    until: now + (grace - proxy_for),
                };
                (0, false, Reason::ScaleToZeroPending(wait))
            }
        }
    }

    /// `computeActiveCondition` with `activeThreshold`.
    fn compute_active_condition(&mut self, spec: &ScalerSpec, now: SimTime, want: i32, ready: i32) {
        let (min, _) = self.scale_bounds(spec);
        let min_ready = if self.scale_target_initialized {
            min.max(1)
        } else {
            min.max(spec.initial_scale)
        };
        if ready >= min_ready {
            self.scale_target_initialized = true;
        }
        if want == 0 || min_ready == 0 {
            self.mark(Activity::Inactive, now);
        } else if ready < min_ready {
            if want > 0 || self.activity != Activity::Inactive {
                self.mark(Activity::Activating, now);
            } else {
                self.mark(Activity::Inactive, now);
            }
        } else if want > 0 || self.activity != Activity::Inactive {
            self.mark(Activity::Active, now);
        }
    }
}

/// `applyBounds`: `max` 0 means unbounded.
fn apply_bounds(min: i32, max: i32, x: i32) -> i32 {
    if x < min {
        min
    } else if max != 0 && x > max {
        max
    } else {
        x
    }
}
