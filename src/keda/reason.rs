//! Why KEDA did what it did, per poll and per HPA sync: a stable code for tables and a
//! sentence with the numbers for the timeline. Times are seconds since the run's start.

use std::fmt;

use crate::hpa;
use crate::sim::SimTime;

/// What one trigger said at a poll.
#[derive(Debug, Clone, PartialEq)]
pub enum Evidence {
    /// The query's value (E4): active iff `value > activation`.
    Value {
        trigger: String,
        value: f64,
        activation: f64,
    },
    /// The trigger failed more than `failureThreshold` times: active by fallback (E6).
    Fallback { trigger: String },
    /// The query failed (or its answer was refused) and no fallback value replaces it.
    Error { trigger: String, message: String },
}

impl Evidence {
    pub fn is_active(&self) -> bool {
        match self {
            Evidence::Value {
                value, activation, ..
            } => super::scaler::is_active(*value, *activation),
            Evidence::Fallback { .. } => true,
            Evidence::Error { .. } => false,
        }
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Evidence::Error { .. })
    }
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Evidence::Value {
                trigger,
                value,
                activation,
            } => {
                let op = if self.is_active() { ">" } else { "≤" };
                write!(
                    f,
                    "{trigger} = {} {op} activation {}",
                    num(*value),
                    num(*activation)
                )
            }
            Evidence::Fallback { trigger } => write!(f, "{trigger} in fallback"),
            Evidence::Error { trigger, message } => write!(f, "{trigger} failed: {message}"),
        }
    }
}

/// The outcome of a poll (E3 `RequestScale`) or of a sync of KEDA's HPA (`hpa`, `fallback`).
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    /// Active at 0 (or below `minReplicaCount` with `idleReplicaCount`): KEDA writes
    /// `max(minReplicaCount, 1)` (E2).
    Activated {
        evidence: Evidence,
        from: i32,
        to: i32,
    },
    /// Active above 0: the last active time is refreshed and the HPA does the scaling.
    Active { evidence: Evidence, replicas: i32 },
    /// Active, but another trigger failed: no write and, as upstream, no refresh of the last
    /// active time.
    ActiveWithErrors { evidence: Evidence, error: Evidence },
    /// Inactive because a trigger failed: no change (with a fallback of N > 0 replicas, KEDA
    /// leaves the workload to the HPA's fallback metric instead of scaling it to zero).
    QueryError {
        error: Evidence,
        fallback_replicas: Option<i32>,
    },
    /// Inactive, waiting for the cooldown to pass (strictly) before the step to 0 or idle.
    Cooldown { until: SimTime },
    /// Inactive past the cooldown: KEDA writes `idleReplicaCount`, or `minReplicaCount`
    /// (0 = scale to zero, E3).
    Deactivated {
        /// The first failing trigger, else the first trigger.
        evidence: Option<Evidence>,
        from: i32,
        to: i32,
        /// The last active poll, `None` if none ever was (then the initial cooldown applied).
        last_active: Option<SimTime>,
        cooldown_s: i32,
    },
    /// Inactive below `minReplicaCount` without `idleReplicaCount`: raised to it (E3).
    RaisedToMin { from: i32, to: i32 },
    /// Inactive and nothing to do (already at 0 or idle, or held at `minReplicaCount` by the
    /// HPA).
    BelowActivation {
        evidence: Option<Evidence>,
        replicas: i32,
    },
    /// A sync of the HPA KEDA created, on the triggers' live (or cached) values.
    Hpa(hpa::Reason),
    /// A sync of KEDA's HPA while these triggers feed it fallback values (E6).
    HpaInFallback {
        hpa: hpa::Reason,
        triggers: Vec<String>,
    },
}

impl Reason {
    /// A stable snake_case code for tables and CSV.
    pub fn code(&self) -> &'static str {
        match self {
            Reason::Activated { .. } => "activated",
            Reason::Active {
                evidence: Evidence::Fallback { .. },
                ..
            } => "fallback",
            Reason::Active { .. } => "active",
            Reason::ActiveWithErrors { .. } => "active_with_errors",
            Reason::QueryError { .. } => "query_error",
            Reason::Cooldown { .. } => "cooldown",
            Reason::Deactivated { to: 0, .. } => "scaled_to_zero",
            Reason::Deactivated { .. } => "idle",
            Reason::RaisedToMin { .. } => "raised_to_min",
            Reason::BelowActivation { .. } => "below_activation",
            Reason::Hpa(_) => "hpa",
            Reason::HpaInFallback { .. } => "fallback",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Activated { evidence, from, to } => {
                write!(f, "KEDA: active ({evidence}), activating {from} → {to}")
            }
            Reason::Active { evidence, replicas } => write!(
                f,
                "KEDA: active ({evidence}) at {replicas} replicas, the HPA scales"
            ),
            Reason::ActiveWithErrors { evidence, error } => write!(
                f,
                "KEDA: active ({evidence}) but {error}; last active time not refreshed"
            ),
            Reason::QueryError {
                error,
                fallback_replicas: Some(n),
            } => write!(
                f,
                "KEDA: inactive, {error}; no scale to zero, fallback to {n} replicas past the failure threshold"
            ),
            Reason::QueryError {
                error,
                fallback_replicas: None,
            } => write!(f, "KEDA: inactive, {error}; no change"),
            Reason::Cooldown { until } => {
                write!(f, "KEDA: inactive, cooldown until t={}", secs(*until))
            }
            Reason::Deactivated {
                evidence,
                from,
                to,
                last_active,
                cooldown_s,
            } => {
                let since = match last_active {
                    Some(t) => format!("last active t={}, cooldown {cooldown_s} s over", secs(*t)),
                    None => format!("never active, initial cooldown {cooldown_s} s over"),
                };
                write!(
                    f,
                    "KEDA: below activation threshold{}, scaling {from} → {to} ({since})",
                    paren(evidence)
                )
            }
            Reason::RaisedToMin { from, to } => {
                write!(f, "KEDA: inactive below minReplicaCount, raising {from} → {to}")
            }
            Reason::BelowActivation { evidence, replicas } => write!(
                f,
                "KEDA: below activation threshold{}, nothing to do at {replicas} replicas",
                paren(evidence)
            ),
            Reason::Hpa(reason) => write!(f, "KEDA HPA: {reason}"),
            Reason::HpaInFallback { hpa, triggers } => write!(
                f,
                "KEDA HPA: {hpa} (fallback value for {})",
                triggers.join(", ")
            ),
        }
    }
}

/// ` (evidence)`, or nothing.
fn paren(evidence: &Option<Evidence>) -> String {
    evidence
        .as_ref()
        .map(|e| format!(" ({e})"))
        .unwrap_or_default()
}

/// A time as whole seconds since the start, or with milliseconds when not whole.
fn secs(t: SimTime) -> String {
    let us = t.as_micros();
    if us % 1_000_000 == 0 {
        format!("{}s", us / 1_000_000)
    } else {
        format!("{:.3}s", t.as_secs_f64())
    }
}

/// A metric value: whole numbers without decimals, others with three.
fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}
