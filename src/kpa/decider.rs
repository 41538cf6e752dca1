//! The KPA decider: `autoscaler.Scale` of knative/serving `pkg/autoscaler/scaling/autoscaler.go`
//! (N1), run every 2 s (N2). From the stable and panic averages (revision totals) and the ready
//! pods it computes the desired pod count: bounded per tick by ×`max-scale-up-rate` and
//! ÷`max-scale-down-rate` of the *ready* pods (0 ready counts as 1), raised to
//! `activation-scale`, with panic mode (entered when the panic-window demand is at least
//! `panic-threshold` × the ready pods, extended by every tick still over it, left only after a
//! whole stable window without one) during which the count only goes up, then held by the
//! scale-down delay's sliding maximum (N5).

use super::max_window::TimeWindow;
use super::reason::Reason;
use super::spec::{DeciderSpec, TICK_INTERVAL};
use crate::sim::SimTime;

/// `ScaleResult` of a valid tick.
#[derive(Debug, Clone, PartialEq)]
pub struct ScaleResult {
    pub desired_pod_count: i32,
    /// `ExcessBurstCapacity`: decides whether the activator stays in the path.
    pub excess_burst_capacity: i32,
    pub reason: Reason,
}

/// `autoscaler`: the decider's state between ticks.
#[derive(Debug, Clone)]
pub struct Decider {
    pub(crate) spec: DeciderSpec,
    /// `panicTime`: `None` in stable mode.
    pub(crate) panic_time: Option<SimTime>,
    pub(crate) max_panic_pods: i32,
    delay_window: Option<TimeWindow>,
}

impl Decider {
    /// `newAutoscaler`: with more than one ready pod the decider starts in panic, holding
    /// that many pods, so that a restart with no history does not scale down.
    pub fn new(spec: DeciderSpec, now: SimTime, ready_pods: i32) -> Self {
        let delay_window = (spec.scale_down_delay.as_micros() > 0)
            .then(|| TimeWindow::new(spec.scale_down_delay, TICK_INTERVAL));
        Decider {
            spec,
            panic_time: (ready_pods > 1).then_some(now),
            max_panic_pods: ready_pods.max(0),
            delay_window,
        }
    }

    /// `Scale`: `observed` is `(stable, panic)` of the scaling metric, or `None` for ErrNoData
    /// (then no decision: `None`).
    pub fn scale(
        &mut self,
        now: SimTime,
        ready_pods: i32,
        observed: Option<(f64, f64)>,
    ) -> Option<ScaleResult> {
        let (stable, panic) = observed?;
        let spec = &self.spec;
        let ready = f64::from(ready_pods.max(1));
        let max_scale_up = (spec.max_scale_up_rate * ready).ceil();
        let max_scale_down = if spec.reachable {
            (ready / spec.max_scale_down_rate).floor()
        } else {
            0.0
        };
        let dspc = (stable / spec.target_value).ceil();
        let dppc = (panic / spec.target_value).ceil();
        // Go's int32(float64) truncates toward zero.
        let mut desired_stable = dspc.max(max_scale_down).min(max_scale_up) as i32;
        let mut desired_panic = dppc.max(max_scale_down).min(max_scale_up) as i32;
        let rate_limited = f64::from(desired_stable) != dspc;
        let mut activated = false;
        if spec.activation_scale > 1 {
            if dspc > 0.0 && spec.activation_scale > desired_stable {
                desired_stable = spec.activation_scale;
                activated = true;
            }
            if dppc > 0.0 && spec.activation_scale > desired_panic {
                desired_panic = spec.activation_scale;
            }
        }

        let over_panic_threshold = dppc / ready >= spec.panic_threshold;
        match self.panic_time {
            _ if over_panic_threshold => self.panic_time = Some(now),
            Some(t) if t.saturating_add(spec.stable_window) < now => {
                self.panic_time = None;
                self.max_panic_pods = 0;
            }
            _ => {}
        }

        let mut desired = desired_stable;
        let mut reason = if activated {
            Reason::ActivationScale { desired }
        } else if rate_limited {
            Reason::RateLimited {
                wanted: dspc,
                desired,
                ready: ready_pods,
            }
        } else {
            Reason::Stable {
                metric: spec.metric,
                observed: stable,
                window: spec.stable_window,
                target: spec.target_value,
                desired,
            }
        };
        if self.panic_time.is_some() {
            let computed = desired.max(desired_panic);
            self.max_panic_pods = self.max_panic_pods.max(computed);
            desired = self.max_panic_pods;
            reason = Reason::Panic {
                ratio: panic / (spec.target_value * ready),
                window: spec.panic_window,
                desired,
                computed,
            };
        }

        if spec.reachable {
            if let Some(w) = self.delay_window.as_mut() {
                w.record(now, desired);
                let delayed = w.current();
                if delayed != desired {
                    reason = Reason::ScaleDownDelay {
                        delay: spec.scale_down_delay,
                        held: delayed,
                        computed: desired,
                    };
                    desired = delayed;
                }
            }
        }

        let excess_burst_capacity = if spec.target_burst_capacity == 0.0 {
            0.0
        } else if spec.target_burst_capacity > 0.0 {
            let total_capacity = f64::from(ready_pods) * spec.total_value;
            (total_capacity - spec.target_burst_capacity - panic).floor()
        } else {
            -1.0
        };
        Some(ScaleResult {
            desired_pod_count: desired,
            excess_burst_capacity: excess_burst_capacity as i32,
            reason,
        })
    }
}
