//! Port of `pkg/autoscaler/autoscaler/scaler.go`: one scaling step of a single target —
//! recommendation, panic trigger, correction — and recording it in the history
//! (`scaleOneTarget` + `record`, docs/engine.md §6.4). Shared by homogeneous targets and the
//! roles of disaggregated targets.

use super::metric_collector::MetricCollector;
use super::policy::Behavior;
use super::recommendation::{Metrics, Recommendation, RecommendationInput};
use super::revision::{CorrectedInstancesAlgorithm, Limit};
use super::status::Status;
use super::EngineVersion;

/// The inputs of one `scaleOneTarget` call.
pub struct ScaleInput<'a> {
    pub version: EngineVersion,
    pub now: i64,
    pub behavior: &'a Behavior,
    pub min: i32,
    pub max: i32,
    pub current: i32,
    pub tolerance_percent: i32,
    pub metric_targets: &'a [(String, f64)],
    pub unready: i32,
    pub ready: &'a [Option<Metrics>],
    pub external: &'a Metrics,
}

/// A decided (not skipped) step, not yet recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScaleOutcome {
    pub recommendation: Recommendation,
    pub recommended: i32,
    pub corrected: i32,
    pub limit: Limit,
    pub refresh_panic: bool,
    /// The mode the correction used.
    pub is_panic: bool,
}

/// `scaleOneTarget`: `None` when the recommendation skipped (no metric had a value).
pub fn scale_one_target(status: &mut Status, input: &ScaleInput<'_>) -> Option<ScaleOutcome> {
    let recommendation = RecommendationInput {
        min_instances: input.min,
        max_instances: input.max,
        current_instances: input.current,
        tolerance: input.tolerance_percent as f64 * 0.01,
        metric_targets: input.metric_targets,
        unready_instances: input.unready,
        ready_instances_metrics: input.ready,
        external_metrics: input.external,
    }
    .get_recommended_instances();
    let recommended = recommendation.value()?;
    let trigger = input
        .behavior
        .scale_up
        .panic_policy
        .panic_threshold_percent
        .is_some_and(|t| recommended.wrapping_mul(100) >= input.current.wrapping_mul(t));
    // Evaluated before the refresh; after a refresh with hold > 0 panic is on.
    let is_panic = if trigger {
        status.panic_mode_hold_ms > 0
    } else {
        status.is_panic_mode(input.now)
    };
    let (corrected, limit) = CorrectedInstancesAlgorithm {
        version: input.version,
        now: input.now,
        is_panic,
        history: &mut status.history,
        behavior: input.behavior,
        min_instances: input.min,
        max_instances: input.max,
        current_instances: input.current,
        recommended_instances: recommended,
    }
    .get_corrected_instances();
    Some(ScaleOutcome {
        recommendation,
        recommended,
        corrected,
        limit,
        refresh_panic: trigger,
        is_panic,
    })
}

/// `record`: refresh panic if triggered, then append the recommendation and the corrected
/// value to the history windows.
pub fn record(status: &mut Status, now: i64, outcome: &ScaleOutcome) {
    if outcome.refresh_panic {
        status.refresh_panic_mode(now);
    }
    status.append_recommendation(now, outcome.recommended);
    status.append_corrected(now, outcome.corrected);
}

/// A homogeneous target's cached scaler: its history and its collector.
#[derive(Debug, Clone)]
pub struct Scaler {
    pub status: Status,
    pub collector: MetricCollector,
    pub min_replicas: i32,
    pub max_replicas: i32,
}

#[cfg(test)]
mod go_tests;
