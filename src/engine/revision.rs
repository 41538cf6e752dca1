//! Port of `pkg/autoscaler/algorithm/revision.go`: the behaviour correction of a
//! recommendation — stabilisation windows, scale-up/scale-down rate limits and panic mode
//! (docs/engine.md §10). v0.4.0 differs in the panic limit at a past sample of 0 (G2); the
//! scale-down window's direction (G1) lives in [`super::status`].

use super::policy::{Behavior, SelectPolicy};
use super::sliding_window::{LineChartWindow, RecordWindow};
use super::EngineVersion;

/// The five history windows of one scaler (docs/engine.md §10.1).
#[derive(Debug, Clone)]
pub struct History {
    pub max_recommendation: RecordWindow,
    pub min_recommendation: RecordWindow,
    pub max_corrected: LineChartWindow,
    pub min_corrected_for_stable: LineChartWindow,
    pub min_corrected_for_panic: LineChartWindow,
}

/// Which rule set the corrected value, so that users can see why a cluster did not scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// The recommendation passed unchanged.
    None,
    /// Stabilisation window: the max (scale-down) or min (scale-up) recent recommendation.
    Stabilization(i32),
    /// Stable scale-up rate limit: at most this many replicas.
    ScaleUpRate(i32),
    /// Scale-down rate limit: at least this many replicas.
    ScaleDownRate(i32),
    /// Panic scale-up rate limit.
    PanicRate(i32),
    /// Kept at the current count: panic mode never scales down, and a step never overshoots.
    Current(i32),
    /// Clamped to `minReplicas` / `maxReplicas`.
    MinReplicas(i32),
    MaxReplicas(i32),
}

/// `CorrectedInstancesAlgorithm`.
pub struct CorrectedInstancesAlgorithm<'a> {
    pub version: EngineVersion,
    pub now: i64,
    pub is_panic: bool,
    pub history: &'a mut History,
    pub behavior: &'a Behavior,
    pub min_instances: i32,
    pub max_instances: i32,
    pub current_instances: i32,
    pub recommended_instances: i32,
}

impl CorrectedInstancesAlgorithm<'_> {
    /// `GetCorrectedInstances`: the corrected count and the rule that decided it.
    pub fn get_corrected_instances(&mut self) -> (i32, Limit) {
        let (c, limit) = if self.is_panic {
            self.for_panic()
        } else {
            self.for_stable()
        };
        let lower = c.max(self.min_instances);
        let clamped = lower.min(self.max_instances);
        let limit = if clamped != lower {
            Limit::MaxReplicas(clamped)
        } else if lower != c {
            Limit::MinReplicas(lower)
        } else {
            limit
        };
        (clamped, limit)
    }

    fn for_panic(&mut self) -> (i32, Limit) {
        let mut c = self.recommended_instances;
        let mut limit = Limit::None;
        let past = self
            .history
            .min_corrected_for_panic
            .get_best(self.now, self.current_instances);
        if let Some(p) = past {
            // G2: v0.4.0 applies the limit even when the past sample is 0.
            if self.version == EngineVersion::V0_4 || p > 0 {
                let percent = self.behavior.scale_up.panic_policy.percent;
                let rel = p.wrapping_add((p as f64 * percent as f64 / 100.0) as i32);
                if rel < c {
                    c = rel;
                    limit = Limit::PanicRate(rel);
                }
            }
        }
        if self.current_instances > c {
            return (
                self.current_instances,
                Limit::Current(self.current_instances),
            );
        }
        (c, limit)
    }

    fn for_stable(&mut self) -> (i32, Limit) {
        let (rec, cur) = (self.recommended_instances, self.current_instances);
        if rec < cur {
            self.scale_down()
        } else if rec > cur {
            self.scale_up()
        } else {
            (rec, Limit::None)
        }
    }

    fn scale_down(&mut self) -> (i32, Limit) {
        let mut c = self.recommended_instances;
        let mut limit = Limit::None;
        if let Some(b) = self.history.max_recommendation.get_best(self.now) {
            if b > c {
                c = b;
                limit = Limit::Stabilization(b);
            }
        }
        if let Some(p) = self
            .history
            .max_corrected
            .get_best(self.now, self.current_instances)
        {
            let policy = &self.behavior.scale_down;
            let abs = p.wrapping_sub(policy.instances);
            let rel = p.wrapping_sub(p.wrapping_mul(policy.percent) / 100);
            let constraint = match policy.select_policy {
                SelectPolicy::Or => abs.min(rel),
                SelectPolicy::And => abs.max(rel),
            };
            if constraint > c {
                c = constraint;
                limit = Limit::ScaleDownRate(constraint);
            }
        }
        if c > self.current_instances {
            return (
                self.current_instances,
                Limit::Current(self.current_instances),
            );
        }
        (c, limit)
    }

    fn scale_up(&mut self) -> (i32, Limit) {
        let mut c = self.recommended_instances;
        let mut limit = Limit::None;
        if let Some(b) = self.history.min_recommendation.get_best(self.now) {
            if b < c {
                c = b;
                limit = Limit::Stabilization(b);
            }
        }
        if let Some(p) = self
            .history
            .min_corrected_for_stable
            .get_best(self.now, self.current_instances)
        {
            let policy = &self.behavior.scale_up.stable_policy;
            let abs = p.wrapping_add(policy.instances);
            let rel = p.wrapping_add(p.wrapping_mul(policy.percent) / 100);
            let constraint = match policy.select_policy {
                SelectPolicy::Or => abs.max(rel),
                SelectPolicy::And => abs.min(rel),
            };
            if constraint < c {
                c = constraint;
                limit = Limit::ScaleUpRate(constraint);
            }
        }
        if c < self.current_instances {
            return (
                self.current_instances,
                Limit::Current(self.current_instances),
            );
        }
        (c, limit)
    }
}

#[cfg(test)]
pub(crate) mod go_tests;
