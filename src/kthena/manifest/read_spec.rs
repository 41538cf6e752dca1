//! Readers for the parts that AutoscalingPolicy and AutoscalingPolicyBinding specs share:
//! behaviour, metrics, targets, object references, label selectors and metric sources
//! (docs/engine.md §4.1-§4.3). Lists keep one entry per item, even an unreadable one, so that later
//! checks name the same indices as the manifest.

use std::collections::BTreeMap;

use super::raw::{
    RawHeterogeneous, RawHomogeneous, RawMetric, RawMetricEndpoint, RawMetricSource, RawParam,
    RawPodSource, RawPrometheusSource, RawTarget,
};
use super::yaml_walk::{Fields, Node};
use super::ApiGeneration;
use crate::engine::policy::{
    LabelSelector, LabelSelectorRequirement, ObjectReference, SelectPolicy, SelectorOperator,
    SubTarget,
};
use crate::kthena::field::Findings;
use crate::kthena::spec::{BehaviorSpec, PanicPolicySpec, ScaleUpSpec, StablePolicySpec};

pub(super) fn behavior(node: &Node, f: &mut Findings) -> Option<BehaviorSpec> {
    let mut o = node.fields(f)?;
    let spec = BehaviorSpec {
        scale_up: o.take("scaleUp").and_then(|n| scale_up(&n, f)),
        scale_down: o.take("scaleDown").and_then(|n| stable_policy(&n, f)),
    };
    o.finish(f);
    Some(spec)
}

fn scale_up(node: &Node, f: &mut Findings) -> Option<ScaleUpSpec> {
    let mut o = node.fields(f)?;
    let spec = ScaleUpSpec {
        stable_policy: o.take("stablePolicy").and_then(|n| stable_policy(&n, f)),
        panic_policy: o.take("panicPolicy").and_then(|n| panic_policy(&n, f)),
    };
    o.finish(f);
    Some(spec)
}

fn stable_policy(node: &Node, f: &mut Findings) -> Option<StablePolicySpec> {
    let mut o = node.fields(f)?;
    let spec = StablePolicySpec {
        instances: o.take("instances").and_then(|n| n.int32(f)),
        percent: o.take("percent").and_then(|n| n.int32(f)),
        period: o.take("period").and_then(|n| n.duration(f)),
        select_policy: o.take("selectPolicy").and_then(|n| select_policy(&n, f)),
        stabilization_window: o.take("stabilizationWindow").and_then(|n| n.duration(f)),
    };
    o.finish(f);
    Some(spec)
}

fn panic_policy(node: &Node, f: &mut Findings) -> Option<PanicPolicySpec> {
    let mut o = node.fields(f)?;
    let spec = PanicPolicySpec {
        percent: o.take("percent").and_then(|n| n.int32(f)),
        // A non-pointer field that the schema requires whenever panicPolicy is present.
        period: o.require("period", f).and_then(|n| n.duration(f)),
        panic_threshold_percent: o.take("panicThresholdPercent").and_then(|n| n.int32(f)),
        panic_mode_hold: o.take("panicModeHold").and_then(|n| n.duration(f)),
    };
    o.finish(f);
    Some(spec)
}

fn select_policy(node: &Node, f: &mut Findings) -> Option<SelectPolicy> {
    match node.string(f)?.as_str() {
        "Or" => Some(SelectPolicy::Or),
        "And" => Some(SelectPolicy::And),
        other => {
            f.unsupported(&node.path, other, &["Or", "And"]);
            None
        }
    }
}

/// `metrics[]`: `metricName` in v0.x, `name` in the current API.
pub(super) fn metrics(node: &Node, api: ApiGeneration, f: &mut Findings) -> Option<Vec<RawMetric>> {
    let items = node.sequence(f)?;
    Some(items.iter().map(|n| metric(n, api, f)).collect())
}

fn metric(node: &Node, api: ApiGeneration, f: &mut Findings) -> RawMetric {
    let Some(mut o) = node.fields(f) else {
        return RawMetric {
            name: None,
            target_value: None,
        };
    };
    let name = match api {
        ApiGeneration::V0_4 => o.require("metricName", f),
        ApiGeneration::Current if !o.has("name") && o.has("metricName") => {
            o.skip("metricName");
            f.required(
                &o.path().child("name"),
                "the current API calls this field name (metricName is the v0.x spelling)",
            );
            None
        }
        ApiGeneration::Current => o.require("name", f),
    }
    .and_then(|n| n.string(f));
    let target_value = o.require("targetValue", f).and_then(|n| n.quantity(f));
    o.finish(f);
    RawMetric { name, target_value }
}

pub(super) fn object_reference(node: &Node, f: &mut Findings) -> Option<ObjectReference> {
    let mut o = node.fields(f)?;
    let reference = ObjectReference {
        api_version: text(&mut o, "apiVersion", f),
        kind: text(&mut o, "kind", f),
        name: text(&mut o, "name", f),
        namespace: text(&mut o, "namespace", f),
    };
    // Part of ObjectReference, but nothing reads them.
    for key in ["fieldPath", "resourceVersion", "uid"] {
        text(&mut o, key, f);
    }
    o.finish(f);
    Some(reference)
}

/// An optional string field; absent reads as `""`, Go's zero value.
pub(super) fn text(o: &mut Fields, key: &'static str, f: &mut Findings) -> String {
    o.take(key).and_then(|n| n.string(f)).unwrap_or_default()
}

pub(super) fn label_selector(node: &Node, f: &mut Findings) -> Option<LabelSelector> {
    let mut o = node.fields(f)?;
    let match_labels = o
        .take("matchLabels")
        .and_then(|n| n.string_map(f))
        .unwrap_or_default()
        .into_iter()
        .collect();
    let match_expressions = o
        .take("matchExpressions")
        .and_then(|n| n.sequence(f))
        .unwrap_or_default()
        .iter()
        .filter_map(|n| requirement(n, f))
        .collect();
    o.finish(f);
    Some(LabelSelector {
        match_labels,
        match_expressions,
    })
}

fn requirement(node: &Node, f: &mut Findings) -> Option<LabelSelectorRequirement> {
    let mut o = node.fields(f)?;
    let key = o.require("key", f).and_then(|n| n.string(f));
    let operator = o.require("operator", f).and_then(|n| {
        let text = n.string(f)?;
        let op = match text.as_str() {
            "In" => SelectorOperator::In,
            "NotIn" => SelectorOperator::NotIn,
            "Exists" => SelectorOperator::Exists,
            "DoesNotExist" => SelectorOperator::DoesNotExist,
            other => {
                f.unsupported(&n.path, other, &["In", "NotIn", "Exists", "DoesNotExist"]);
                return None;
            }
        };
        Some(op)
    });
    let values: Vec<String> = o
        .take("values")
        .and_then(|n| n.sequence(f))
        .unwrap_or_default()
        .iter()
        .filter_map(|n| n.string(f))
        .collect();
    // What `LabelSelectorAsSelector` refuses: the collector could not build the selector.
    let values_path = o.path().child("values");
    match operator {
        Some(SelectorOperator::In | SelectorOperator::NotIn) if values.is_empty() => f.required(
            &values_path,
            "must be specified when `operator` is 'In' or 'NotIn'",
        ),
        Some(SelectorOperator::Exists | SelectorOperator::DoesNotExist) if !values.is_empty() => f
            .forbidden(
                &values_path,
                "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            ),
        _ => {}
    }
    o.finish(f);
    Some(LabelSelectorRequirement {
        key: key?,
        operator: operator?,
        values,
    })
}

/// `Target`: `targetRef` plus, in v0.x, `subTargets` and `metricEndpoint`, or, in the current
/// API, `metricSources`.
pub(super) fn target(node: &Node, api: ApiGeneration, f: &mut Findings) -> Option<RawTarget> {
    let mut o = node.fields(f)?;
    let mut target = RawTarget {
        target_ref: o
            .require("targetRef", f)
            .and_then(|n| object_reference(&n, f)),
        ..RawTarget::default()
    };
    match api {
        ApiGeneration::V0_4 => {
            target.sub_target = o.take("subTargets").and_then(|n| sub_target(&n, f));
            target.metric_endpoint = o
                .take("metricEndpoint")
                .and_then(|n| metric_endpoint(&n, f));
        }
        ApiGeneration::Current => {
            target.metric_sources = o.take("metricSources").and_then(|n| metric_sources(&n, f));
        }
    }
    o.finish(f);
    Some(target)
}

fn sub_target(node: &Node, f: &mut Findings) -> Option<SubTarget> {
    let mut o = node.fields(f)?;
    let sub = SubTarget {
        kind: text(&mut o, "kind", f),
        name: text(&mut o, "name", f),
    };
    o.finish(f);
    Some(sub)
}

fn metric_endpoint(node: &Node, f: &mut Findings) -> Option<RawMetricEndpoint> {
    let mut o = node.fields(f)?;
    let endpoint = RawMetricEndpoint {
        uri: o.take("uri").and_then(|n| n.string(f)),
        port: o.take("port").and_then(|n| n.int32(f)),
        label_selector: o.take("labelSelector").and_then(|n| label_selector(&n, f)),
    };
    o.finish(f);
    Some(endpoint)
}

/// `metricSources`: metric key → exactly one of `pod` / `prometheus` (checked later).
pub(super) fn metric_sources(
    node: &Node,
    f: &mut Findings,
) -> Option<BTreeMap<String, RawMetricSource>> {
    let entries = node.entries(f)?;
    Some(
        entries
            .into_iter()
            .map(|(key, n)| {
                let source = metric_source(&n, f).unwrap_or_default();
                (key, source)
            })
            .collect(),
    )
}

fn metric_source(node: &Node, f: &mut Findings) -> Option<RawMetricSource> {
    let mut o = node.fields(f)?;
    let source = RawMetricSource {
        pod: o.take("pod").and_then(|n| pod_source(&n, f)),
        prometheus: o.take("prometheus").and_then(|n| prometheus_source(&n, f)),
    };
    o.finish(f);
    Some(source)
}

fn pod_source(node: &Node, f: &mut Findings) -> Option<RawPodSource> {
    let mut o = node.fields(f)?;
    let pod = RawPodSource {
        name: text(&mut o, "name", f),
        uri: o.take("uri").and_then(|n| n.string(f)),
        port: o.take("port").and_then(|n| n.int32(f)),
        label_selector: o.take("labelSelector").and_then(|n| label_selector(&n, f)),
    };
    o.finish(f);
    Some(pod)
}

fn prometheus_source(node: &Node, f: &mut Findings) -> Option<RawPrometheusSource> {
    let mut o = node.fields(f)?;
    let prometheus = RawPrometheusSource {
        server_url: o.require("serverURL", f).and_then(|n| n.string(f)),
        query: o.require("query", f).and_then(|n| n.string(f)),
    };
    // Reserved and empty in the schema: any field inside it is pruned.
    if let Some(auth) = o.take("auth").and_then(|n| n.fields(f)) {
        auth.finish(f);
    }
    o.finish(f);
    Some(prometheus)
}

pub(super) fn homogeneous(
    node: &Node,
    api: ApiGeneration,
    f: &mut Findings,
) -> Option<RawHomogeneous> {
    let mut o = node.fields(f)?;
    let h = RawHomogeneous {
        min_replicas: o.require("minReplicas", f).and_then(|n| n.int32(f)),
        max_replicas: o.require("maxReplicas", f).and_then(|n| n.int32(f)),
        target: o.take("target").and_then(|n| target(&n, api, f)),
    };
    o.finish(f);
    Some(h)
}

pub(super) fn heterogeneous(
    node: &Node,
    api: ApiGeneration,
    f: &mut Findings,
) -> Option<RawHeterogeneous> {
    let mut o = node.fields(f)?;
    let h = RawHeterogeneous {
        cost_expansion_rate_percent: o.take("costExpansionRatePercent").and_then(|n| n.int32(f)),
        params: o
            .require("params", f)
            .and_then(|n| n.sequence(f))
            .map(|items| items.iter().map(|n| param(n, api, f)).collect()),
    };
    o.finish(f);
    Some(h)
}

fn param(node: &Node, api: ApiGeneration, f: &mut Findings) -> RawParam {
    let Some(mut o) = node.fields(f) else {
        return RawParam::default();
    };
    let p = RawParam {
        target: o.take("target").and_then(|n| target(&n, api, f)),
        cost: o.take("cost").and_then(|n| n.int32(f)),
        min_replicas: o.require("minReplicas", f).and_then(|n| n.int32(f)),
        max_replicas: o.require("maxReplicas", f).and_then(|n| n.int32(f)),
    };
    o.finish(f);
    p
}
