//! Readers for whole Kthena objects: `metadata`, and the `spec` of a v0.x AutoscalingPolicy,
//! an AutoscalingPolicyBinding and a current-API AutoscalingPolicy; plus the rule that decides
//! which API generation an AutoscalingPolicy is written in.

use yaml_serde::Value;

use super::raw::{
    Meta, RawBinding, RawDisaggregated, RawPolicyCurrent, RawPolicyV04, RawRatioConstraint, RawRole,
};
use super::read_spec::{self, text};
use super::yaml_walk::{Fields, Node};
use super::ApiGeneration;
use crate::kthena::field::Findings;

/// `metadata`: only what the engine uses is read; every other ObjectMeta field is accepted.
pub(super) fn metadata(object: &mut Fields, f: &mut Findings) -> Meta {
    let mut meta = Meta {
        namespace: "default".to_string(),
        generation: 1,
        ..Meta::default()
    };
    let Some(mut o) = object.require("metadata", f).and_then(|n| n.fields(f)) else {
        return meta;
    };
    match o.take("name").and_then(|n| n.string(f)) {
        Some(name) if !name.is_empty() => meta.name = name,
        _ => f.required(&o.path().child("name"), "name or generateName is required"),
    }
    if let Some(ns) = o.take("namespace").and_then(|n| n.string(f)) {
        if !ns.is_empty() {
            meta.namespace = ns;
        }
    }
    if let Some(generation) = o.take("generation").and_then(|n| n.int64(f)) {
        meta.generation = generation;
    }
    meta.uid = text(&mut o, "uid", f);
    meta
}

/// Which API an `AutoscalingPolicy` is written in, from its fields:
///
/// * a target (`homogeneousTarget`, `heterogeneousTarget`, `disaggregatedTarget`) or a metric
///   with `name` ⇒ the current API (these fields exist nowhere else);
/// * otherwise a metric with `metricName` ⇒ v0.x;
/// * otherwise (a policy with only `behavior` / `tolerancePercent`, or empty metrics) ⇒ v0.x if
///   an `AutoscalingPolicyBinding` given alongside refers to it, else the current API.
pub(super) fn policy_api(spec: Option<&Value>, referenced_by_binding: bool) -> ApiGeneration {
    let spec = spec.and_then(Value::as_mapping);
    let has = |key: &str| spec.is_some_and(|s| s.get(key).is_some_and(|v| !v.is_null()));
    let metric_has = |key: &str| {
        spec.and_then(|s| s.get("metrics"))
            .and_then(Value::as_sequence)
            .is_some_and(|items| items.iter().any(|m| m.get(key).is_some()))
    };
    let current = [
        "homogeneousTarget",
        "heterogeneousTarget",
        "disaggregatedTarget",
    ]
    .iter()
    .any(|k| has(k))
        || metric_has("name");
    if current {
        ApiGeneration::Current
    } else if metric_has("metricName") || referenced_by_binding {
        ApiGeneration::V0_4
    } else {
        ApiGeneration::Current
    }
}

/// v0.x `AutoscalingPolicy.spec` (docs/engine.md §4.1).
pub(super) fn policy_v04(spec: &Node, f: &mut Findings) -> RawPolicyV04 {
    let Some(mut o) = spec.fields(f) else {
        return RawPolicyV04::default();
    };
    let policy = RawPolicyV04 {
        tolerance_percent: o.take("tolerancePercent").and_then(|n| n.int32(f)),
        metrics: o
            .require("metrics", f)
            .and_then(|n| read_spec::metrics(&n, ApiGeneration::V0_4, f)),
        behavior: o.take("behavior").and_then(|n| read_spec::behavior(&n, f)),
    };
    o.finish(f);
    policy
}

/// v0.x `AutoscalingPolicyBinding.spec` (docs/engine.md §4.1).
pub(super) fn binding(spec: &Node, f: &mut Findings) -> RawBinding {
    let Some(mut o) = spec.fields(f) else {
        return RawBinding::default();
    };
    let api = ApiGeneration::V0_4;
    let binding = RawBinding {
        policy_ref_name: o
            .require("policyRef", f)
            .and_then(|n| n.fields(f))
            .map(|mut r| {
                let name = text(&mut r, "name", f);
                r.finish(f);
                name
            })
            .unwrap_or_default(),
        homogeneous: o
            .take("homogeneousTarget")
            .and_then(|n| read_spec::homogeneous(&n, api, f)),
        heterogeneous: o
            .take("heterogeneousTarget")
            .and_then(|n| read_spec::heterogeneous(&n, api, f)),
    };
    o.finish(f);
    binding
}

/// Current-API `AutoscalingPolicy.spec` (docs/engine.md §4.2).
pub(super) fn policy_current(spec: &Node, f: &mut Findings) -> RawPolicyCurrent {
    let Some(mut o) = spec.fields(f) else {
        return RawPolicyCurrent::default();
    };
    let api = ApiGeneration::Current;
    let policy = RawPolicyCurrent {
        tolerance_percent: o.take("tolerancePercent").and_then(|n| n.int32(f)),
        metrics: o
            .take("metrics")
            .and_then(|n| read_spec::metrics(&n, api, f)),
        behavior: o.take("behavior").and_then(|n| read_spec::behavior(&n, f)),
        homogeneous: o
            .take("homogeneousTarget")
            .and_then(|n| read_spec::homogeneous(&n, api, f)),
        heterogeneous: o
            .take("heterogeneousTarget")
            .and_then(|n| read_spec::heterogeneous(&n, api, f)),
        disaggregated: o
            .take("disaggregatedTarget")
            .and_then(|n| disaggregated(&n, f)),
    };
    o.finish(f);
    policy
}

fn disaggregated(node: &Node, f: &mut Findings) -> Option<RawDisaggregated> {
    let mut o = node.fields(f)?;
    let target = RawDisaggregated {
        target_ref: o
            .require("targetRef", f)
            .and_then(|n| read_spec::object_reference(&n, f)),
        roles: o
            .require("roles", f)
            .and_then(|n| n.entries(f))
            .map(|entries| {
                entries
                    .into_iter()
                    .map(|(name, n)| (name, role(&n, f)))
                    .collect()
            }),
        ratio_constraint: o
            .take("ratioConstraint")
            .and_then(|n| ratio_constraint(&n, f)),
    };
    o.finish(f);
    Some(target)
}

fn role(node: &Node, f: &mut Findings) -> RawRole {
    let Some(mut o) = node.fields(f) else {
        return RawRole::default();
    };
    let role = RawRole {
        min_replicas: o.require("minReplicas", f).and_then(|n| n.int32(f)),
        max_replicas: o.require("maxReplicas", f).and_then(|n| n.int32(f)),
        metrics: o
            .take("metrics")
            .and_then(|n| read_spec::metrics(&n, ApiGeneration::Current, f)),
        metric_sources: o
            .take("metricSources")
            .and_then(|n| read_spec::metric_sources(&n, f)),
    };
    o.finish(f);
    role
}

fn ratio_constraint(node: &Node, f: &mut Findings) -> Option<RawRatioConstraint> {
    let mut o = node.fields(f)?;
    let ratio = RawRatioConstraint {
        numerator_role: o.require("numeratorRole", f).and_then(|n| n.string(f)),
        denominator_role: o.require("denominatorRole", f).and_then(|n| n.string(f)),
        min_ratio: o.require("minRatio", f).and_then(|n| n.quantity(f)),
        max_ratio: o.require("maxRatio", f).and_then(|n| n.quantity(f)),
    };
    o.finish(f);
    Some(ratio)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(yaml: &str, referenced: bool) -> ApiGeneration {
        let v: Value = yaml_serde::from_str(yaml).expect("test YAML parses");
        policy_api(Some(&v), referenced)
    }

    #[test]
    fn the_api_generation_follows_the_fields() {
        assert_eq!(
            api("metrics: [{metricName: a, targetValue: 1}]", false),
            ApiGeneration::V0_4
        );
        assert_eq!(
            api("metrics: [{name: a, targetValue: 1}]", true),
            ApiGeneration::Current
        );
        assert_eq!(
            api("homogeneousTarget: {minReplicas: 1}", false),
            ApiGeneration::Current
        );
        // A target wins over a v0.x metric spelling: the metric is then reported.
        assert_eq!(
            api("metrics: [{metricName: a}]\nheterogeneousTarget: {}", false),
            ApiGeneration::Current
        );
        // Only behaviour: decided by whether a binding refers to it.
        assert_eq!(api("behavior: {}", true), ApiGeneration::V0_4);
        assert_eq!(api("behavior: {}", false), ApiGeneration::Current);
    }
}
