//! The recorded-tick format read by `replay` (the golden vectors' format, docs/golden-format.md):
//! one JSON object per line holding a policy as a user writes it, a target, and the ticks the
//! controller observed.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

/// One line: a scenario, with optional expectations per engine version.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    pub id: Value,
    /// Engine versions the scenario is valid for; absent means "every version".
    #[serde(default)]
    pub valid_for: Option<Vec<String>>,
    pub scenario: Scenario,
    /// The policy after defaulting, as the reference code saw it (only compared in tests).
    #[serde(default)]
    pub effective_policy: Option<Value>,
    /// Engine version → one expected output per tick.
    #[serde(default)]
    pub expected: BTreeMap<String, Vec<Value>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Scenario {
    pub policy: PolicyIn,
    pub target: TargetIn,
    pub ticks: Vec<Tick>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyIn {
    #[serde(default)]
    pub tolerance_percent: Option<i32>,
    #[serde(default)]
    pub metrics: Vec<MetricIn>,
    #[serde(default)]
    pub behavior: Option<BehaviorIn>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MetricIn {
    pub name: String,
    pub target_value: Value,
    /// `pod` (default), `prometheus` or `none`.
    #[serde(default)]
    pub source: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BehaviorIn {
    #[serde(default)]
    pub scale_up: Option<ScaleUpIn>,
    #[serde(default)]
    pub scale_down: Option<StableIn>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScaleUpIn {
    #[serde(default)]
    pub stable_policy: Option<StableIn>,
    #[serde(default)]
    pub panic_policy: Option<PanicIn>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StableIn {
    pub instances: Option<i32>,
    pub percent: Option<i32>,
    pub period: Option<String>,
    pub select_policy: Option<String>,
    pub stabilization_window: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PanicIn {
    pub percent: Option<i32>,
    pub period: Option<String>,
    pub panic_threshold_percent: Option<i32>,
    pub panic_mode_hold: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum TargetIn {
    Homogeneous {
        #[serde(rename = "minReplicas")]
        min_replicas: i32,
        #[serde(rename = "maxReplicas")]
        max_replicas: i32,
    },
    Heterogeneous {
        #[serde(rename = "costExpansionRatePercent", default)]
        cost_expansion_rate_percent: Option<i32>,
        params: Vec<ParamIn>,
    },
    Disaggregated {
        roles: BTreeMap<String, RoleIn>,
        #[serde(rename = "ratioConstraint", default)]
        ratio_constraint: Option<RatioIn>,
    },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ParamIn {
    pub name: String,
    #[serde(default)]
    pub cost: i32,
    pub min_replicas: i32,
    pub max_replicas: i32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleIn {
    pub min_replicas: i32,
    pub max_replicas: i32,
    #[serde(default)]
    pub metrics: Vec<MetricIn>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RatioIn {
    pub numerator_role: String,
    pub denominator_role: String,
    pub min_ratio: Value,
    pub max_ratio: Value,
}

/// One reconcile. `replicas`, `pods` and `external` are plain for homogeneous targets and
/// keyed by param or role name otherwise.
#[derive(Debug, Clone, Deserialize)]
pub struct Tick {
    pub t: i64,
    pub replicas: Value,
    #[serde(default)]
    pub pods: Value,
    #[serde(default)]
    pub external: Value,
}

/// A pod of a tick.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodIn {
    pub name: String,
    #[serde(default = "yes")]
    pub ready: bool,
    #[serde(default)]
    pub failed: bool,
    #[serde(default)]
    pub start_time: Option<i64>,
    #[serde(default)]
    pub scrape_error: bool,
    #[serde(default)]
    pub metrics: BTreeMap<String, MetricValueIn>,
}

fn yes() -> bool {
    true
}

/// A gauge value, or a histogram series.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum MetricValueIn {
    Number(f64),
    Histogram {
        buckets: Vec<(Bound, f64)>,
        sum: f64,
        count: f64,
    },
}

/// A bucket upper bound: a number or the string `"+Inf"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Bound {
    Number(f64),
    Text(String),
}
