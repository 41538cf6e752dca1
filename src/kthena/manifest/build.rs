//! From accepted objects to the engine's [`Policy`]: the schema defaults the API server fills
//! in (docs/engine.md §4.1-§4.4) and the behaviour defaulting of [`effective_behavior`]. Only valid
//! objects get here; a field that is still missing makes the builder return `None` rather than
//! guess.

use std::collections::BTreeMap;

use super::raw::{
    Meta, RawBinding, RawDisaggregated, RawHeterogeneous, RawHomogeneous, RawMetric,
    RawMetricEndpoint, RawMetricSource, RawPolicyCurrent, RawPolicyV04, RawTarget,
};
use crate::engine::policy::{
    DisaggregatedTarget, HeterogeneousParam, HeterogeneousTarget, HomogeneousTarget,
    MetricEndpoint, MetricSource, MetricTarget, PodMetricSource, Policy, PrometheusMetricSource,
    RatioConstraint, RoleScalingParam, ScalingTarget, Target,
};
use crate::kthena::defaults::{
    effective_behavior, DEFAULT_COST_EXPANSION_RATE_PERCENT, DEFAULT_METRIC_ENDPOINT_PORT,
    DEFAULT_METRIC_ENDPOINT_URI, DEFAULT_TOLERANCE_PERCENT,
};

/// Schema defaults of a current-API `pod` metric source (docs/engine.md §4.3).
const DEFAULT_POD_SOURCE_URI: &str = "/metrics";
const DEFAULT_POD_SOURCE_PORT: i32 = 8100;

/// A v0.x binding joined with its policy: the unit the v0.4.0 controller iterates over.
pub(super) fn policy_v04(
    binding_meta: &Meta,
    binding: &RawBinding,
    policy_meta: &Meta,
    policy: &RawPolicyV04,
) -> Option<Policy> {
    let target = match (&binding.homogeneous, &binding.heterogeneous) {
        (Some(h), None) => ScalingTarget::Homogeneous(homogeneous(h)?),
        (None, Some(h)) => ScalingTarget::Heterogeneous(heterogeneous(h)?),
        _ => return None,
    };
    Some(Policy {
        namespace: binding_meta.namespace.clone(),
        name: binding_meta.name.clone(),
        uid: binding_meta.uid.clone(),
        generation: (policy_meta.generation, binding_meta.generation),
        tolerance_percent: policy
            .tolerance_percent
            .unwrap_or(DEFAULT_TOLERANCE_PERCENT),
        metrics: metrics(policy.metrics.as_deref()?)?,
        behavior: effective_behavior(policy.behavior.as_ref()),
        target,
    })
}

/// A current-API policy.
pub(super) fn policy_current(meta: &Meta, policy: &RawPolicyCurrent) -> Option<Policy> {
    let target = match (
        &policy.homogeneous,
        &policy.heterogeneous,
        &policy.disaggregated,
    ) {
        (Some(h), None, None) => ScalingTarget::Homogeneous(homogeneous(h)?),
        (None, Some(h), None) => ScalingTarget::Heterogeneous(heterogeneous(h)?),
        (None, None, Some(d)) => ScalingTarget::Disaggregated(disaggregated(d)?),
        _ => return None,
    };
    Some(Policy {
        namespace: meta.namespace.clone(),
        name: meta.name.clone(),
        uid: meta.uid.clone(),
        generation: (meta.generation, 0),
        tolerance_percent: policy
            .tolerance_percent
            .unwrap_or(DEFAULT_TOLERANCE_PERCENT),
        metrics: metrics(policy.metrics.as_deref().unwrap_or_default())?,
        behavior: effective_behavior(policy.behavior.as_ref()),
        target,
    })
}

/// An optional part: absent stays absent, a present one must convert.
fn optional<T, U>(value: Option<&T>, convert: impl Fn(&T) -> Option<U>) -> Option<Option<U>> {
    match value {
        None => Some(None),
        Some(v) => convert(v).map(Some),
    }
}

fn metrics(raw: &[RawMetric]) -> Option<Vec<MetricTarget>> {
    raw.iter()
        .map(|m| {
            Some(MetricTarget {
                name: m.name.clone()?,
                target_value: m.target_value.clone()?,
            })
        })
        .collect()
}

fn homogeneous(h: &RawHomogeneous) -> Option<HomogeneousTarget> {
    Some(HomogeneousTarget {
        min_replicas: h.min_replicas?,
        max_replicas: h.max_replicas?,
        target: optional(h.target.as_ref(), target)?,
    })
}

fn heterogeneous(h: &RawHeterogeneous) -> Option<HeterogeneousTarget> {
    let params = h
        .params
        .as_ref()?
        .iter()
        .map(|p| {
            Some(HeterogeneousParam {
                target: optional(p.target.as_ref(), target)?,
                cost: p.cost.unwrap_or(0),
                min_replicas: p.min_replicas?,
                max_replicas: p.max_replicas?,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(HeterogeneousTarget {
        cost_expansion_rate_percent: h
            .cost_expansion_rate_percent
            .unwrap_or(DEFAULT_COST_EXPANSION_RATE_PERCENT),
        params,
    })
}

fn target(t: &RawTarget) -> Option<Target> {
    Some(Target {
        target_ref: t.target_ref.clone()?,
        sub_target: t.sub_target.clone(),
        metric_endpoint: t.metric_endpoint.as_ref().map(metric_endpoint),
        metric_sources: optional(t.metric_sources.as_ref(), metric_sources)?,
    })
}

/// v0.x: the endpoint defaults apply only inside a written `metricEndpoint`
/// (docs/engine.md §14 item 12).
fn metric_endpoint(e: &RawMetricEndpoint) -> MetricEndpoint {
    MetricEndpoint {
        uri: e
            .uri
            .clone()
            .unwrap_or_else(|| DEFAULT_METRIC_ENDPOINT_URI.to_string()),
        port: e.port.unwrap_or(DEFAULT_METRIC_ENDPOINT_PORT),
        label_selector: e.label_selector.clone(),
    }
}

fn metric_sources(
    sources: &BTreeMap<String, RawMetricSource>,
) -> Option<BTreeMap<String, MetricSource>> {
    sources
        .iter()
        .map(|(key, s)| Some((key.clone(), metric_source(s)?)))
        .collect()
}

fn metric_source(s: &RawMetricSource) -> Option<MetricSource> {
    match (&s.pod, &s.prometheus) {
        (Some(pod), None) => Some(MetricSource::Pod(PodMetricSource {
            name: pod.name.clone(),
            uri: pod
                .uri
                .clone()
                .unwrap_or_else(|| DEFAULT_POD_SOURCE_URI.to_string()),
            port: pod.port.unwrap_or(DEFAULT_POD_SOURCE_PORT),
            label_selector: pod.label_selector.clone(),
        })),
        (None, Some(p)) => Some(MetricSource::Prometheus(PrometheusMetricSource {
            server_url: p.server_url.clone()?,
            query: p.query.clone()?,
        })),
        _ => None,
    }
}

fn disaggregated(d: &RawDisaggregated) -> Option<DisaggregatedTarget> {
    let roles = d
        .roles
        .as_ref()?
        .iter()
        .map(|(name, r)| {
            let role = RoleScalingParam {
                min_replicas: r.min_replicas?,
                max_replicas: r.max_replicas?,
                metrics: metrics(r.metrics.as_deref().unwrap_or_default())?,
                metric_sources: optional(r.metric_sources.as_ref(), metric_sources)?,
            };
            Some((name.clone(), role))
        })
        .collect::<Option<BTreeMap<_, _>>>()?;
    let ratio_constraint = optional(d.ratio_constraint.as_ref(), |r| {
        Some(RatioConstraint {
            numerator_role: r.numerator_role.clone()?,
            denominator_role: r.denominator_role.clone()?,
            min_ratio: r.min_ratio.clone()?,
            max_ratio: r.max_ratio.clone()?,
        })
    })?;
    Some(DisaggregatedTarget {
        target_ref: d.target_ref.clone()?,
        roles,
        ratio_constraint,
    })
}
