//! Why an HPA sync came out as it did: one variant per branch of K2 `reconcileAutoscaler` and
//! per `ScalingLimited` / `AbleToScale` condition reason it can set, with the numbers a
//! timeline shows. `code()` is stable; `Display` is one sentence for people.

use std::fmt;

use crate::sim::SimTime;

#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    /// The metrics' proposal, unchanged by stabilisation or limits.
    Recommendation {
        replicas: i32,
        ratio: f64,
        metric: String,
    },
    /// The deciding metric's usage ratio was within tolerance: no change proposed.
    WithinTolerance { ratio: f64 },
    /// A higher recommendation of the scale-down window holds the count (`ScaleDownStabilized`).
    ScaleDownStabilization {
        held: i32,
        until: SimTime,
        recommended: i32,
    },
    /// A lower recommendation of the scale-up window holds the count (`ScaleUpStabilized`).
    ScaleUpStabilization {
        held: i32,
        until: SimTime,
        recommended: i32,
    },
    /// The scale-up policies (or, without `behavior`, the 2×/4 cap) bound the count.
    ScaleUpLimit { limit: i32, recommended: i32 },
    /// The scale-down policies bound the count.
    ScaleDownLimit { limit: i32, recommended: i32 },
    /// Raised to `minReplicas` (`TooFewReplicas`, or the target was below it).
    MinReplicas { min: i32 },
    /// Capped at `maxReplicas` (`TooManyReplicas`, or the target was above it).
    MaxReplicas { max: i32 },
    /// The target is at 0 and `minReplicas` is not: K2 `ScalingDisabled`.
    IdleAtZero { min: i32 },
    /// No metric gave a proposal; the first error.
    NoMetrics { error: String },
    /// Some metric failed and the others would scale down: K2 never scales down on partial data.
    PartialMetrics {
        failed: usize,
        of: usize,
        recommended: i32,
        error: String,
    },
}

impl Reason {
    /// Stable snake_case name for reports and filters.
    pub fn code(&self) -> &'static str {
        match self {
            Reason::Recommendation { .. } => "recommendation",
            Reason::WithinTolerance { .. } => "within_tolerance",
            Reason::ScaleDownStabilization { .. } => "scale_down_stabilization",
            Reason::ScaleUpStabilization { .. } => "scale_up_stabilization",
            Reason::ScaleUpLimit { .. } => "scale_up_limit",
            Reason::ScaleDownLimit { .. } => "scale_down_limit",
            Reason::MinReplicas { .. } => "min_replicas",
            Reason::MaxReplicas { .. } => "max_replicas",
            Reason::IdleAtZero { .. } => "idle_at_zero",
            Reason::NoMetrics { .. } => "no_metrics",
            Reason::PartialMetrics { .. } => "partial_metrics",
        }
    }
}

/// Seconds since the run's start, as reasons print times (`315s`, `315.5s`).
fn t(at: SimTime) -> String {
    let us = at.as_micros();
    if us % 1_000_000 == 0 {
        format!("{}s", us / 1_000_000)
    } else {
        let s = format!("{:.3}", at.as_secs_f64());
        format!("{}s", s.trim_end_matches('0'))
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Recommendation {
                replicas,
                ratio,
                metric,
            } => write!(
                f,
                "recommended {replicas} from metrics (ratio {ratio:.2} on {metric})"
            ),
            Reason::WithinTolerance { ratio } => write!(f, "within tolerance (ratio {ratio:.2})"),
            Reason::ScaleDownStabilization {
                held,
                until,
                recommended,
            } => write!(
                f,
                "held by scale-down stabilisation at {held} until t={} (recommended {recommended})",
                t(*until)
            ),
            Reason::ScaleUpStabilization {
                held,
                until,
                recommended,
            } => write!(
                f,
                "held by scale-up stabilisation at {held} until t={} (recommended {recommended})",
                t(*until)
            ),
            Reason::ScaleUpLimit { limit, recommended } => write!(
                f,
                "limited by scale-up policy to {limit} (recommended {recommended})"
            ),
            Reason::ScaleDownLimit { limit, recommended } => write!(
                f,
                "limited by scale-down policy to {limit} (recommended {recommended})"
            ),
            Reason::MinReplicas { min } => write!(f, "raised to minReplicas {min}"),
            Reason::MaxReplicas { max } => write!(f, "capped at maxReplicas {max}"),
            Reason::IdleAtZero { min } => write!(f, "idle at 0 replicas (minReplicas {min})"),
            Reason::NoMetrics { error } => write!(f, "no metrics: {error}"),
            Reason::PartialMetrics {
                failed,
                of,
                recommended,
                error,
            } => write!(
                f,
                "partial metrics: {failed} of {of} failed, not scaling down to {recommended} ({error})"
            ),
        }
    }
}
