//! Kthena's objects as read from YAML, before defaulting. Every field is optional: a field that
//! is missing or unreadable has already been reported by the reader, and leaving it `None` keeps
//! the later checks from reporting it a second time. One set of types serves both API
//! generations; the reader fills only the fields its generation has.

use std::collections::BTreeMap;

use crate::engine::policy::{LabelSelector, ObjectReference, Quantity, SubTarget};
use crate::kthena::spec::BehaviorSpec;

/// `metadata`, with what the engine needs.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Meta {
    pub(crate) name: String,
    /// `"default"` when absent, as `kubectl apply` would place it.
    pub(crate) namespace: String,
    /// `metadata.generation`, 1 when absent (a freshly created object).
    pub(crate) generation: i64,
    pub(crate) uid: String,
}

/// `spec.metrics[]` (`metricName` in v0.x, `name` in the current API).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawMetric {
    pub(crate) name: Option<String>,
    pub(crate) target_value: Option<Quantity>,
}

/// v0.x `AutoscalingPolicy.spec`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RawPolicyV04 {
    pub(crate) tolerance_percent: Option<i32>,
    pub(crate) metrics: Option<Vec<RawMetric>>,
    pub(crate) behavior: Option<BehaviorSpec>,
}

/// v0.x `AutoscalingPolicyBinding.spec`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RawBinding {
    /// `policyRef.name`; `""` when absent, as the Go zero value.
    pub(crate) policy_ref_name: String,
    pub(crate) homogeneous: Option<RawHomogeneous>,
    pub(crate) heterogeneous: Option<RawHeterogeneous>,
}

/// Current-API `AutoscalingPolicy.spec`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RawPolicyCurrent {
    pub(crate) tolerance_percent: Option<i32>,
    pub(crate) metrics: Option<Vec<RawMetric>>,
    pub(crate) behavior: Option<BehaviorSpec>,
    pub(crate) homogeneous: Option<RawHomogeneous>,
    pub(crate) heterogeneous: Option<RawHeterogeneous>,
    pub(crate) disaggregated: Option<RawDisaggregated>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RawHomogeneous {
    pub(crate) min_replicas: Option<i32>,
    pub(crate) max_replicas: Option<i32>,
    pub(crate) target: Option<RawTarget>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RawHeterogeneous {
    pub(crate) cost_expansion_rate_percent: Option<i32>,
    pub(crate) params: Option<Vec<RawParam>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RawParam {
    pub(crate) target: Option<RawTarget>,
    pub(crate) cost: Option<i32>,
    pub(crate) min_replicas: Option<i32>,
    pub(crate) max_replicas: Option<i32>,
}

/// `Target`: `sub_target` and `metric_endpoint` are v0.x, `metric_sources` current-API.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RawTarget {
    pub(crate) target_ref: Option<ObjectReference>,
    pub(crate) sub_target: Option<SubTarget>,
    pub(crate) metric_endpoint: Option<RawMetricEndpoint>,
    pub(crate) metric_sources: Option<BTreeMap<String, RawMetricSource>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RawMetricEndpoint {
    pub(crate) uri: Option<String>,
    pub(crate) port: Option<i32>,
    pub(crate) label_selector: Option<LabelSelector>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RawMetricSource {
    pub(crate) pod: Option<RawPodSource>,
    pub(crate) prometheus: Option<RawPrometheusSource>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RawPodSource {
    pub(crate) name: String,
    pub(crate) uri: Option<String>,
    pub(crate) port: Option<i32>,
    pub(crate) label_selector: Option<LabelSelector>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RawPrometheusSource {
    pub(crate) server_url: Option<String>,
    pub(crate) query: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RawDisaggregated {
    pub(crate) target_ref: Option<ObjectReference>,
    /// Ordered by role name: Go iterates its map in random order, and every check on roles is
    /// per role, so the order only decides the order of the messages.
    pub(crate) roles: Option<BTreeMap<String, RawRole>>,
    pub(crate) ratio_constraint: Option<RawRatioConstraint>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RawRole {
    pub(crate) min_replicas: Option<i32>,
    pub(crate) max_replicas: Option<i32>,
    pub(crate) metrics: Option<Vec<RawMetric>>,
    pub(crate) metric_sources: Option<BTreeMap<String, RawMetricSource>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RawRatioConstraint {
    pub(crate) numerator_role: Option<String>,
    pub(crate) denominator_role: Option<String>,
    pub(crate) min_ratio: Option<Quantity>,
    pub(crate) max_ratio: Option<Quantity>,
}
