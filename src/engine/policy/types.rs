//! The engine's view of an autoscaling policy: what Kthena's controller reads from the API
//! server after the schema defaults and the mutating webhook ran (docs/engine.md §4). Both API
//! generations map onto these types: a current-API `AutoscalingPolicy`, or a v0.4
//! `AutoscalingPolicyBinding` joined with the `AutoscalingPolicy` it references.

use std::collections::BTreeMap;

use super::{Duration, Quantity};

/// Labels and label selectors use ordered maps so that canonical strings are stable.
pub type Labels = BTreeMap<String, String>;

/// One autoscaling unit as the controller iterates over them (docs/engine.md §6.1).
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Namespace of the policy (current API) or of the binding (v0.4).
    pub namespace: String,
    /// Name of the policy (current API) or of the binding (v0.4).
    pub name: String,
    /// `metadata.uid` of the policy; part of the optimizer's scope.
    pub uid: String,
    /// `metadata.generation`: (policy, binding); the binding part is 0 for the current API.
    /// Any change resets the engine state (docs/engine.md §6.1).
    pub generation: (i64, i64),
    pub tolerance_percent: i32,
    /// `spec.metrics` in manifest order.
    pub metrics: Vec<MetricTarget>,
    pub behavior: Behavior,
    pub target: ScalingTarget,
}

/// `spec.metrics[]`: `metricName` (v0.4) or `name` (current API), with its per-replica target.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricTarget {
    pub name: String,
    pub target_value: Quantity,
}

/// `spec.behavior` after defaulting: every section the engine reads is present.
#[derive(Debug, Clone, PartialEq)]
pub struct Behavior {
    pub scale_up: ScaleUpBehavior,
    pub scale_down: StablePolicy,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScaleUpBehavior {
    pub stable_policy: StablePolicy,
    pub panic_policy: PanicPolicy,
}

/// `StablePolicy` (scale-up stable policy and scale-down).
#[derive(Debug, Clone, PartialEq)]
pub struct StablePolicy {
    pub instances: i32,
    pub percent: i32,
    /// TTL of the corrected-replica history that anchors the step limit
    /// (docs/engine.md §14 item 1).
    pub period: Option<Duration>,
    pub select_policy: SelectPolicy,
    pub stabilization_window: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PanicPolicy {
    pub percent: i32,
    pub period: Duration,
    /// `None` only when defaulting did not run; the trigger then never fires.
    pub panic_threshold_percent: Option<i32>,
    pub panic_mode_hold: Option<Duration>,
}

/// `selectPolicy`: `Or` picks the less restrictive limit, `And` the more restrictive one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectPolicy {
    Or,
    And,
}

impl SelectPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            SelectPolicy::Or => "Or",
            SelectPolicy::And => "And",
        }
    }
}

/// Exactly one target per policy (current API webhook) or binding (v0.4 CEL rule).
#[derive(Debug, Clone, PartialEq)]
pub enum ScalingTarget {
    Homogeneous(HomogeneousTarget),
    Heterogeneous(HeterogeneousTarget),
    /// Current API only.
    Disaggregated(DisaggregatedTarget),
}

#[derive(Debug, Clone, PartialEq)]
pub struct HomogeneousTarget {
    pub min_replicas: i32,
    pub max_replicas: i32,
    pub target: Option<Target>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HeterogeneousTarget {
    pub cost_expansion_rate_percent: i32,
    pub params: Vec<HeterogeneousParam>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HeterogeneousParam {
    pub target: Option<Target>,
    pub cost: i32,
    pub min_replicas: i32,
    pub max_replicas: i32,
}

/// `Target`: the workload and where its metrics come from. `sub_target` and `metric_endpoint`
/// exist only in v0.4, `metric_sources` only in the current API.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Target {
    pub target_ref: ObjectReference,
    pub sub_target: Option<SubTarget>,
    pub metric_endpoint: Option<MetricEndpoint>,
    pub metric_sources: Option<BTreeMap<String, MetricSource>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ObjectReference {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: String,
}

/// v0.4 `subTargets`: only `kind: Role` does anything.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SubTarget {
    pub kind: String,
    pub name: String,
}

/// v0.4 `metricEndpoint`: one scrape endpoint for all metrics of the target.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetricEndpoint {
    pub uri: String,
    pub port: i32,
    pub label_selector: Option<LabelSelector>,
}

/// Current API `metricSources.<key>`: exactly one backend.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricSource {
    Pod(PodMetricSource),
    Prometheus(PrometheusMetricSource),
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PodMetricSource {
    /// The metric family to scrape; empty means "the metric key".
    pub name: String,
    pub uri: String,
    pub port: i32,
    pub label_selector: Option<LabelSelector>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrometheusMetricSource {
    pub server_url: String,
    pub query: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LabelSelector {
    pub match_labels: Labels,
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelSelectorRequirement {
    pub key: String,
    pub operator: SelectorOperator,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectorOperator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl SelectorOperator {
    pub fn as_str(self) -> &'static str {
        match self {
            SelectorOperator::In => "In",
            SelectorOperator::NotIn => "NotIn",
            SelectorOperator::Exists => "Exists",
            SelectorOperator::DoesNotExist => "DoesNotExist",
        }
    }
}

/// Current API `disaggregatedTarget`: roles of one ModelServing scaled separately.
#[derive(Debug, Clone, PartialEq)]
pub struct DisaggregatedTarget {
    pub target_ref: ObjectReference,
    pub roles: BTreeMap<String, RoleScalingParam>,
    pub ratio_constraint: Option<RatioConstraint>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RoleScalingParam {
    pub min_replicas: i32,
    pub max_replicas: i32,
    /// Used instead of `spec.metrics` when non-empty.
    pub metrics: Vec<MetricTarget>,
    pub metric_sources: Option<BTreeMap<String, MetricSource>>,
}

impl RoleScalingParam {
    /// A fixed role is never measured and always kept at its size (docs/engine.md §6.6).
    pub fn is_fixed(&self) -> bool {
        self.max_replicas > 0 && self.min_replicas == self.max_replicas
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RatioConstraint {
    pub numerator_role: String,
    pub denominator_role: String,
    pub min_ratio: Quantity,
    pub max_ratio: Quantity,
}

impl LabelSelector {
    /// Whether `labels` satisfy every requirement (Kubernetes `LabelSelectorAsSelector`).
    pub fn matches(&self, labels: &Labels) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.matches_expressions(labels)
    }

    /// Whether `labels` satisfy every `matchExpressions` requirement.
    pub fn matches_expressions(&self, labels: &Labels) -> bool {
        self.match_expressions.iter().all(|r| {
            let got = labels.get(&r.key);
            match r.operator {
                SelectorOperator::In => got.is_some_and(|v| r.values.contains(v)),
                SelectorOperator::NotIn => got.is_none_or(|v| !r.values.contains(v)),
                SelectorOperator::Exists => got.is_some(),
                SelectorOperator::DoesNotExist => got.is_none(),
            }
        })
    }

    /// The canonical selector string that keys a metric group (docs/engine.md §7.3 `groupKey`).
    pub fn canonical_string(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        for (k, v) in &self.match_labels {
            parts.push(format!("{k}={v}"));
        }
        for r in &self.match_expressions {
            let mut values = r.values.clone();
            values.sort();
            parts.push(format!(
                "{} {} ({})",
                r.key,
                r.operator.as_str(),
                values.join(",")
            ));
        }
        parts.sort();
        parts.join(",")
    }
}

/// One scaled target of a policy: its target, the metrics it is measured on, the role it
/// scales (v0.x `subTargets: Role`, or a disaggregated role) and its replica bounds.
pub struct ScaledTarget<'a> {
    pub target: Target,
    pub metrics: &'a [MetricTarget],
    pub role: Option<&'a str>,
    pub min_replicas: i32,
    pub max_replicas: i32,
}

impl Policy {
    /// What the policy scales: one entry per homogeneous target, heterogeneous param or
    /// disaggregated role.
    pub fn scaled_targets(&self) -> Vec<ScaledTarget<'_>> {
        match &self.target {
            ScalingTarget::Homogeneous(h) => vec![ScaledTarget {
                target: h.target.clone().unwrap_or_default(),
                metrics: &self.metrics,
                role: h
                    .target
                    .as_ref()
                    .and_then(|t| t.sub_target.as_ref())
                    .filter(|s| s.kind == "Role")
                    .map(|s| s.name.as_str()),
                min_replicas: h.min_replicas,
                max_replicas: h.max_replicas,
            }],
            ScalingTarget::Heterogeneous(h) => h
                .params
                .iter()
                .map(|p| ScaledTarget {
                    target: p.target.clone().unwrap_or_default(),
                    metrics: &self.metrics,
                    role: None,
                    min_replicas: p.min_replicas,
                    max_replicas: p.max_replicas,
                })
                .collect(),
            ScalingTarget::Disaggregated(d) => d
                .roles
                .iter()
                .map(|(name, r)| ScaledTarget {
                    target: Target {
                        target_ref: d.target_ref.clone(),
                        metric_sources: r.metric_sources.clone(),
                        ..Target::default()
                    },
                    metrics: if r.is_fixed() {
                        &[]
                    } else if r.metrics.is_empty() {
                        &self.metrics
                    } else {
                        &r.metrics
                    },
                    role: Some(name.as_str()),
                    min_replicas: r.min_replicas,
                    max_replicas: r.max_replicas,
                })
                .collect(),
        }
    }
}
