//! Knative Serving's KPA (`kpa.autoscaling.knative.dev`), ported from knative/serving at
//! `98e5ef90` (docs/other-autoscalers.md §4, tags N1–N12): per-second metric buckets over a stable and a panic window
//! (`aggregation/bucketing.go`, N4), the 2 s decider with panic mode, rate limits,
//! activation-scale and scale-down delay (`scaling/autoscaler.go`, `aggregation/max`, N1, N2,
//! N5), and the PodAutoscaler reconciler that applies min/max/initial scale and scales to zero
//! through the activator (`reconciler/autoscaling/kpa`, N10). Parameters come from a Service's
//! annotations and the `config-autoscaler` ConfigMap (N6, N8, N9, N11).
//!
//! Pure: no I/O, clock or randomness; the world passes time and pod counts in. The metric
//! scrape is not sampled (N7): the world records the exact revision total, the expected value
//! of Knative's estimate.
//!
//! # Call contract for the world
//! * Create with [`Kpa::new`] when the serving is created; start the serving at
//!   [`Kpa::initial_scale`] replicas.
//! * Each whole second `s` with a stat, first [`Kpa::record`]`(s, concurrency, requests)`:
//!   the revision's concurrency (requests in flight in ready pods plus those held at the
//!   activator) time-averaged over `[s, s+1)`, and the requests that arrived in it. A second
//!   has a stat when at least one pod was ready during it (the scraper reports, zeros
//!   included) or the activator held requests in it; skip seconds with neither — no pod to
//!   scrape is no stat, which is how the window empties after scaling to zero and why a
//!   burst after a quiet window is averaged over its own seconds only (docs/other-autoscalers.md §4).
//! * When a request reaches the activator after a second without activator traffic, call
//!   [`Kpa::activator_first_request`] (the activator's immediate stat, N12).
//! * Every 2 s, and at once whenever [`Kpa::wants_poke`] turns true after a record, call
//!   [`Kpa::tick`] (the decider; it never writes), then [`Kpa::reconcile`].
//! * Once per second between ticks call [`Kpa::reconcile`] too: the scale-to-zero grace and
//!   retention timers run there. Its [`Decision::replicas`] is the `spec.replicas` to write.
//! * [`Kpa::activator_in_path`] says whether requests go through the activator.

mod buckets;
mod decider;
mod max_window;
mod reason;
mod reconciler;
mod spec;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod upstream_tests;

pub use reason::{Reason, ZeroWait};
pub use reconciler::Activity;
pub use spec::{
    Algorithm, DeciderSpec, KpaConfig, KpaSpec, Metric, Resolved, ScalerSpec, TARGET_MIN,
    WINDOW_MAX, WINDOW_MIN,
};

use buckets::Buckets;
use decider::Decider;
use reconciler::{DeciderStatus, PodAutoscaler};
use spec::BUCKET_SIZE;

use crate::sim::SimTime;

/// One KPA step's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The `spec.replicas` to write; `None` = leave it. Always `None` from [`Kpa::tick`].
    pub replicas: Option<i32>,
    /// From `tick`: the decider's desired scale; from `reconcile`: the scale the reconciler
    /// wants after bounds and scale-to-zero handling. −1 until the decider has had data.
    pub desired: i32,
    pub reason: Reason,
}

/// The KPA of one revision: its buckets, decider and PodAutoscaler.
#[derive(Debug, Clone)]
pub struct Kpa {
    resolved: Resolved,
    stable: Buckets,
    panic: Buckets,
    decider: Decider,
    status: DeciderStatus,
    pa: PodAutoscaler,
    /// A non-zero stat arrived while the published desired scale was 0 (`MultiScaler.Poke`).
    poke: bool,
    /// The activator's first-request stat, taken back from its next report (N12).
    first_request_adjust: f64,
}

impl Kpa {
    /// A new revision's KPA at `now` with `ready_pods` ready: the decider starts in panic when
    /// more than one pod is ready (N1).
    pub fn new(spec: &KpaSpec, cfg: &KpaConfig, now: SimTime, ready_pods: i32) -> Kpa {
        let resolved = Resolved::new(spec, cfg);
        let d = &resolved.decider;
        let stable = Buckets::new(d.stable_window, BUCKET_SIZE, d.algorithm);
        let panic = Buckets::new(d.panic_window, BUCKET_SIZE, d.algorithm);
        // `createScaler`: the burst capacity the initial scale would have.
        let excess_burst_capacity = match d.target_burst_capacity {
            tbc if tbc == -1.0 || tbc == 0.0 => tbc as i32,
            tbc => (f64::from(d.initial_scale) * d.total_value - tbc) as i32,
        };
        let status = DeciderStatus {
            desired_scale: -1,
            excess_burst_capacity,
            reason: Reason::NoData {
                window: d.stable_window,
                kept: -1,
            },
        };
        Kpa {
            decider: Decider::new(resolved.decider.clone(), now, ready_pods),
            resolved,
            stable,
            panic,
            status,
            pa: PodAutoscaler::new(now),
            poke: false,
            first_request_adjust: 0.0,
        }
    }

    /// The parameters this KPA runs with.
    pub fn resolved(&self) -> &Resolved {
        &self.resolved
    }

    /// The replicas the serving starts with (`initial-scale`; 0 only when the cluster allows
    /// it).
    pub fn initial_scale(&self) -> i32 {
        self.resolved.scaler.initial_scale
    }

    /// With target-burst-capacity −1 the activator is always in the path and nothing scrapes
    /// the pods (`resolveScrapeTarget`): only activity is reported, and an empty window is not
    /// "no data".
    fn activator_only(&self) -> bool {
        self.resolved.decider.target_burst_capacity == -1.0
    }

    /// The stat of whole second `second` (see the call contract in the module doc).
    pub fn record(&mut self, second: i64, concurrency: f64, requests: f64) {
        if self.activator_only() && concurrency == 0.0 && requests == 0.0 {
            return;
        }
        let adjust = std::mem::take(&mut self.first_request_adjust);
        let concurrency = (concurrency - adjust).max(0.0);
        let requests = (requests - adjust).max(0.0);
        self.add_stat(SimTime::from_secs(second), concurrency, requests);
    }

    /// The activator's immediate stat for a request after a quiet second: concurrency 1 and
    /// one request, taken back from the next [`Kpa::record`] (`ConcurrencyReporter`, N12). At
    /// scale 0 it pokes the decider.
    pub fn activator_first_request(&mut self, now: SimTime) {
        self.first_request_adjust = 1.0;
        self.add_stat(now, 1.0, 1.0);
    }

    fn add_stat(&mut self, at: SimTime, concurrency: f64, requests: f64) {
        let value = match self.resolved.decider.metric {
            Metric::Concurrency => concurrency,
            Metric::Rps => requests,
        };
        self.stable.record(at, value);
        self.panic.record(at, value);
        if self.status.desired_scale == 0 && concurrency != 0.0 {
            self.poke = true;
        }
    }

    /// The decider should tick now rather than at the next 2 s (N2 `Poke`).
    pub fn wants_poke(&self) -> bool {
        self.poke
    }

    /// The decider's tick (N1): publishes a new desired scale, or keeps the last one when the
    /// stable window has no data. Writes nothing: call [`Kpa::reconcile`] right after.
    pub fn tick(&mut self, now: SimTime, ready_pods: i32) -> Decision {
        self.poke = false;
        let observed = (!self.stable.is_empty(now) || self.activator_only()).then(|| {
            (
                self.stable.window_average(now),
                self.panic.window_average(now),
            )
        });
        match self.decider.scale(now, ready_pods, observed) {
            Some(r) => {
                self.status = DeciderStatus {
                    desired_scale: r.desired_pod_count,
                    excess_burst_capacity: r.excess_burst_capacity,
                    reason: r.reason,
                };
            }
            None => {
                self.status.reason = Reason::NoData {
                    window: self.resolved.decider.stable_window,
                    kept: self.status.desired_scale,
                };
            }
        }
        Decision {
            replicas: None,
            desired: self.status.desired_scale,
            reason: self.status.reason.clone(),
        }
    }

    /// The PodAutoscaler reconcile (N10): bounds, initial scale and scale to zero, given the
    /// serving's current `spec.replicas` and ready pods.
    pub fn reconcile(&mut self, now: SimTime, spec_replicas: i32, ready_pods: i32) -> Decision {
        let r = self.pa.reconcile(
            &self.resolved.scaler,
            now,
            &self.status,
            spec_replicas,
            ready_pods,
        );
        Decision {
            replicas: r.write,
            desired: r.want,
            reason: r.reason,
        }
    }

    /// Requests go through the activator (SKS proxy mode, or no ready pod).
    pub fn activator_in_path(&self) -> bool {
        self.pa.activator_in_path()
    }

    /// The PodAutoscaler's Active condition.
    pub fn activity(&self) -> Activity {
        self.pa.activity
    }

    /// The decider is in panic mode.
    pub fn in_panic(&self) -> bool {
        self.decider.panic_time.is_some()
    }
}
