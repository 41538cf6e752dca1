//! What one reconcile decided for one policy, and why. Mirrors the fields of the golden
//! vectors (docs/golden-format.md §7) plus a machine-readable reason and the replica writes the
//! controller sends.

use std::fmt;

use super::metric_collector::Issue;
use super::recommendation::Metrics;
use super::revision::Limit;

/// The three target modes of a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetMode {
    Homogeneous,
    Heterogeneous,
    Disaggregated,
}

/// The exact inputs of the recommendation step (docs/golden-format.md §7.4).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AlgInput {
    pub current: i32,
    pub unready: i32,
    /// One entry per measured unit; `None` when the unit yielded no map.
    pub ready: Vec<Option<Metrics>>,
    pub external: Metrics,
}

/// A write the controller sends to a ModelServing: `spec.replicas`, or a role's `replicas`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaWrite {
    pub namespace: String,
    pub model_serving: String,
    pub role: Option<String>,
    pub replicas: i32,
}

/// One role of a disaggregated decision.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleDecision {
    pub name: String,
    pub current: i32,
    /// The raw recommendation (the status' `desiredReplicas`); the fixed size for a fixed role.
    pub recommended: i32,
    /// After correction and the ratio constraint: the value written.
    pub final_replicas: i32,
    pub panic: bool,
    /// `None` for a fixed role (never measured).
    pub alg_input: Option<AlgInput>,
    pub reason: Reason,
}

/// The outcome of one policy in one reconcile.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The controller's cache key of the policy (docs/engine.md §6.1).
    pub key: String,
    pub mode: TargetMode,
    /// No decision: nothing is written and no history is recorded.
    pub skip: bool,
    /// The recommendation (homogeneous/heterogeneous total), clamped to the bounds.
    pub recommended: Option<i32>,
    /// The decided count; for heterogeneous targets the total actually written (the sum of
    /// `split`), which can differ from the engine's internal value with inverted bounds.
    pub corrected: Option<i32>,
    /// Heterogeneous: the per-target split in `params` order (target key, replicas).
    pub split: Option<Vec<(String, i32)>>,
    /// Disaggregated: one entry per role, sorted by name; `None` when skipped.
    pub roles: Option<Vec<RoleDecision>>,
    pub ratio_adjusted: Option<bool>,
    /// Disaggregated with a ratio constraint: `final[num] / final[den]`, `""` for a zero
    /// denominator.
    pub current_ratio: Option<String>,
    /// Whether panic mode is in force at this tick after processing it.
    pub panic: bool,
    /// Homogeneous/heterogeneous: the recommendation inputs (recorded for skipped ticks too).
    pub alg_input: Option<AlgInput>,
    pub reason: Reason,
    pub writes: Vec<ReplicaWrite>,
}

/// Why a decision is what it is: what users need to know when their cluster did not scale.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    /// The policy could not be processed this tick (target missing, unsupported reference…).
    Error(String),
    /// The controller is dead or stuck for good, as Kthena's would be.
    ControllerDown(String),
    /// Skipped: no metric had a value; the first collector issue explains why.
    Skipped(Option<Issue>),
    /// Skipped: a role of a disaggregated target had no metrics.
    RoleSkipped { role: String, cause: Box<Reason> },
    /// `current` was outside `[min, max]`: moved to the bound without looking at metrics.
    OutOfRange { current: i32, bound: i32 },
    /// A fixed disaggregated role: always its size.
    Fixed(i32),
    /// The corrected value: what set it, whether panic mode was on and until when.
    Corrected {
        recommended: i32,
        limit: Limit,
        panic_until: Option<i64>,
    },
    /// Disaggregated: the ratio constraint changed the role counts.
    RatioAdjusted { ratio: String },
    /// Disaggregated: every role's own reason.
    Roles,
}

impl Reason {
    /// A stable, machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Reason::Error(_) => "error",
            Reason::ControllerDown(_) => "controller_down",
            Reason::Skipped(None) => "no_metrics",
            Reason::Skipped(Some(issue)) => match issue {
                Issue::NoPods => "no_pods",
                Issue::PodNotReady(_) | Issue::NoReadyPods(_) => "unready_pods",
                Issue::PodFailed(_) => "terminating_pods",
                Issue::ScrapeFailed(_) => "scrape_failed",
                Issue::MetricSourceMissing(_) => "no_metric_source",
                Issue::Histogram { .. } => "histogram_error",
                Issue::UnsupportedMetricType { .. } => "unsupported_metric_type",
                Issue::Prometheus { .. } => "prometheus_error",
                Issue::Selector(_) => "selector_error",
            },
            Reason::RoleSkipped { .. } => "role_skipped",
            Reason::OutOfRange { .. } => "out_of_range",
            Reason::Fixed(_) => "fixed_role",
            Reason::Corrected { limit, .. } => match limit {
                Limit::None => "recommendation",
                Limit::Stabilization(_) => "stabilization_window",
                Limit::ScaleUpRate(_) => "scale_up_rate_limit",
                Limit::ScaleDownRate(_) => "scale_down_rate_limit",
                Limit::PanicRate(_) => "panic_rate_limit",
                Limit::Current(_) => "held_at_current",
                Limit::MinReplicas(_) => "min_replicas",
                Limit::MaxReplicas(_) => "max_replicas",
            },
            Reason::RatioAdjusted { .. } => "ratio_adjusted",
            Reason::Roles => "roles",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Error(e) => write!(f, "error: {e}"),
            Reason::ControllerDown(e) => write!(f, "controller down: {e}"),
            Reason::Skipped(None) => f.write_str("skipped: no metric values"),
            Reason::Skipped(Some(issue)) => write!(f, "skipped: {issue}"),
            Reason::RoleSkipped { role, cause } => write!(f, "role {role}: {cause}"),
            Reason::OutOfRange { current, bound } => {
                write!(f, "current {current} outside [min, max]: moved to {bound}")
            }
            Reason::Fixed(n) => write!(f, "fixed role of {n}"),
            Reason::Corrected {
                recommended,
                limit,
                panic_until,
            } => {
                match limit {
                    Limit::None => write!(f, "recommended {recommended} from metrics")?,
                    Limit::Stabilization(v) => write!(
                        f,
                        "held by stabilization window at {v} (recommended {recommended})"
                    )?,
                    Limit::ScaleUpRate(v) => write!(f, "limited by scale-up rate (max {v})")?,
                    Limit::ScaleDownRate(v) => write!(f, "limited by scale-down rate (min {v})")?,
                    Limit::PanicRate(v) => write!(f, "limited by panic scale-up rate (max {v})")?,
                    Limit::Current(v) => {
                        write!(f, "kept at current {v} (recommended {recommended})")?
                    }
                    Limit::MinReplicas(v) => write!(f, "raised to minReplicas {v}")?,
                    Limit::MaxReplicas(v) => write!(f, "capped at maxReplicas {v}")?,
                }
                if let Some(t) = panic_until {
                    write!(f, "; panic mode until t={t}")?;
                }
                Ok(())
            }
            Reason::RatioAdjusted { ratio } => {
                write!(f, "ratio constraint applied (ratio {ratio})")
            }
            Reason::Roles => f.write_str("per-role decisions"),
        }
    }
}
