//! The `spec` of an `autoscaling/v2` HorizontalPodAutoscaler, read, validated and defaulted as
//! the API server does: K3 `pkg/apis/autoscaling/v2/defaults.go` for the defaults, and
//! `pkg/apis/autoscaling/validation/validation.go` for the checks (ranges of docs/other-autoscalers.md §2, from
//! memory of that file: **unverified** there). Unknown fields are problems (kubectl's strict
//! field validation). The result is a [`crate::hpa::HpaSpec`].
//!
//! What the simulator cannot run is refused by name: `minReplicas: 0` (the alpha
//! `HPAScaleToZero` gate), `ContainerResource` metrics (no containers modelled) and
//! `matchExpressions` selectors (metrics are matched by name and labels only).

use std::cmp::Ordering;

use super::yaml_walk::{Fields, Node};
use crate::engine::policy::Quantity;
use crate::hpa::{
    Behavior, HpaSpec, MetricId, MetricSpec, MetricTarget, ObjectRef, PolicyKind, Rules,
    ScalingPolicy, SelectPolicy,
};
use crate::kthena::field::{quote, Findings};

/// Reads `spec`; `name` and `namespace` come from the object's metadata. `None` when a
/// problem was found (all of them are reported).
pub(super) fn read(spec: &Node, name: &str, namespace: &str, f: &mut Findings) -> Option<HpaSpec> {
    let before = f.problems.len();
    let mut o = spec.fields(f)?;
    let target = o
        .require("scaleTargetRef", f)
        .and_then(|n| scale_target_ref(&n, f));
    let min_node = o.take("minReplicas");
    let min_replicas = match &min_node {
        None => Some(1),
        Some(n) => n.int32(f).and_then(|v| match v {
            0 => {
                let mut d = crate::diagnostic::Diagnostic::error(
                    n.path.clone(),
                    "Invalid value: 0: minReplicas 0 needs the alpha HPAScaleToZero feature gate, which kthena-sim does not enable",
                );
                d.hint = Some("use minReplicas: 1, or KEDA or Knative to scale to zero".to_string());
                f.problems.push(d);
                None
            }
            v if v < 0 => {
                f.invalid(&n.path, &v.to_string(), "must be greater than or equal to 1");
                None
            }
            v => Some(v),
        }),
    };
    let max_node = o.require("maxReplicas", f);
    let max_replicas = max_node.as_ref().and_then(|n| n.int32(f));
    if let (Some(max), Some(n)) = (max_replicas, &max_node) {
        if max < 1 {
            f.invalid(&n.path, &max.to_string(), "must be greater than 0");
        } else if let Some(min) = min_replicas.filter(|&min| max < min) {
            f.invalid(
                &n.path,
                &max.to_string(),
                &format!("must be greater than or equal to `minReplicas` ({min})"),
            );
        }
    }
    let metrics = match o.take("metrics").and_then(|n| n.sequence(f)) {
        Some(items) if !items.is_empty() => items.iter().filter_map(|m| metric(m, f)).collect(),
        _ => HpaSpec::default_metrics(),
    };
    let behavior = o.take("behavior").and_then(|n| behavior(&n, f));
    o.finish_strict(f);
    let (target_kind, target) = target?;
    if f.problems.len() > before {
        return None;
    }
    Some(HpaSpec {
        name: name.to_string(),
        namespace: namespace.to_string(),
        target,
        target_kind,
        min_replicas: min_replicas?,
        max_replicas: max_replicas?,
        metrics,
        behavior,
    })
}

/// `scaleTargetRef`: `(kind, name)`; `apiVersion` is accepted as written.
fn scale_target_ref(n: &Node, f: &mut Findings) -> Option<(String, String)> {
    let mut o = n.fields(f)?;
    o.take("apiVersion").and_then(|n| n.string(f));
    let kind = required_string(&mut o, "kind", f);
    let name = required_string(&mut o, "name", f);
    o.finish_strict(f);
    Some((kind?, name?))
}

/// A required, non-empty string field.
fn required_string(o: &mut Fields, key: &'static str, f: &mut Findings) -> Option<String> {
    let n = o.require(key, f)?;
    match n.string(f)? {
        s if s.is_empty() => {
            f.required(&n.path, "");
            None
        }
        s => Some(s),
    }
}

/// The metric source members, by `type`.
const SOURCES: [(&str, &str); 5] = [
    ("Pods", "pods"),
    ("Resource", "resource"),
    ("Object", "object"),
    ("External", "external"),
    ("ContainerResource", "containerResource"),
];

/// One entry of `spec.metrics`.
fn metric(n: &Node, f: &mut Findings) -> Option<MetricSpec> {
    let mut o = n.fields(f)?;
    let kind = o.require("type", f).and_then(|t| {
        let s = t.string(f)?;
        match SOURCES.iter().find(|(k, _)| *k == s) {
            Some(("ContainerResource", _)) => {
                f.problem(
                    &t.path,
                    "metric type `ContainerResource` is not supported by kthena-sim (no containers are modelled; use Pods, Object or External)",
                );
                None
            }
            Some(&(k, _)) => Some(k),
            None => {
                let names: Vec<&str> = SOURCES.iter().map(|(k, _)| *k).collect();
                f.unsupported(&t.path, &s, &names);
                None
            }
        }
    });
    let mut out = None;
    for (k, member) in SOURCES {
        match (kind, o.take(member)) {
            (Some(kind), Some(node)) if kind == k => {
                out = match k {
                    "Pods" => pods_source(&node, f),
                    "Resource" => resource_source(&node, f),
                    "Object" => object_source(&node, f),
                    _ => external_source(&node, f),
                };
            }
            (Some(kind), None) if kind == k => f.required(
                &o.path().child(member),
                &format!("must populate information for the given metric source (type {k})"),
            ),
            (Some(_), Some(node)) => {
                f.forbidden(&node.path, "must populate the given metric source only")
            }
            _ => {}
        }
    }
    o.finish_strict(f);
    out
}

fn pods_source(n: &Node, f: &mut Findings) -> Option<MetricSpec> {
    let mut o = n.fields(f)?;
    let metric = o.require("metric", f).and_then(|m| metric_id(&m, f));
    let target = o
        .require("target", f)
        .and_then(|t| target(&t, &["AverageValue"], f));
    o.finish_strict(f);
    Some(MetricSpec::Pods {
        metric: metric?,
        target: target?,
    })
}

fn resource_source(n: &Node, f: &mut Findings) -> Option<MetricSpec> {
    let mut o = n.fields(f)?;
    let name = required_string(&mut o, "name", f);
    let target =
        (o.require("target", f)).and_then(|t| target(&t, &["Utilization", "AverageValue"], f));
    o.finish_strict(f);
    Some(MetricSpec::Resource {
        name: name?,
        target: target?,
    })
}

fn object_source(n: &Node, f: &mut Findings) -> Option<MetricSpec> {
    let mut o = n.fields(f)?;
    let described = o.require("describedObject", f).and_then(|d| {
        let mut d = d.fields(f)?;
        let api_version = d
            .take("apiVersion")
            .and_then(|n| n.string(f))
            .unwrap_or_default();
        let kind = required_string(&mut d, "kind", f);
        let name = required_string(&mut d, "name", f);
        d.finish_strict(f);
        Some(ObjectRef {
            api_version,
            kind: kind?,
            name: name?,
        })
    });
    let metric = o.require("metric", f).and_then(|m| metric_id(&m, f));
    let target = (o.require("target", f)).and_then(|t| target(&t, &["Value", "AverageValue"], f));
    o.finish_strict(f);
    Some(MetricSpec::Object {
        described: described?,
        metric: metric?,
        target: target?,
    })
}

fn external_source(n: &Node, f: &mut Findings) -> Option<MetricSpec> {
    let mut o = n.fields(f)?;
    let metric = o.require("metric", f).and_then(|m| metric_id(&m, f));
    let target = (o.require("target", f)).and_then(|t| target(&t, &["Value", "AverageValue"], f));
    o.finish_strict(f);
    Some(MetricSpec::External {
        metric: metric?,
        target: target?,
    })
}

/// `metric: {name, selector: {matchLabels}}`.
fn metric_id(n: &Node, f: &mut Findings) -> Option<MetricId> {
    let mut o = n.fields(f)?;
    let name = required_string(&mut o, "name", f);
    let mut selector = vec![];
    if let Some(s) = o.take("selector") {
        if let Some(mut s) = s.fields(f) {
            if let Some(labels) = s.take("matchLabels").and_then(|l| l.string_map(f)) {
                selector = labels;
            }
            if let Some(e) = s.take("matchExpressions") {
                f.problem(
                    &e.path,
                    "matchExpressions is not supported by kthena-sim (only matchLabels)",
                );
            }
            s.finish_strict(f);
        }
    }
    selector.sort();
    o.finish_strict(f);
    Some(MetricId {
        name: name?,
        selector,
    })
}

/// The value field each target type reads.
const TARGET_FIELDS: [(&str, &str); 3] = [
    ("Utilization", "averageUtilization"),
    ("Value", "value"),
    ("AverageValue", "averageValue"),
];

/// `target: {type, value | averageValue | averageUtilization}`; `allowed` are the types this
/// metric source takes (Utilization only for Resource, AverageValue only for Pods).
fn target(n: &Node, allowed: &[&str], f: &mut Findings) -> Option<MetricTarget> {
    let mut o = n.fields(f)?;
    let kind = o.require("type", f).and_then(|t| {
        let s = t.string(f)?;
        if allowed.contains(&s.as_str()) {
            Some(s)
        } else {
            f.unsupported(&t.path, &s, allowed);
            None
        }
    });
    let mut out = None;
    for (k, field) in TARGET_FIELDS {
        let node = o.take(field);
        match (&kind, node) {
            (Some(kind), Some(node)) if kind == k => {
                out = if k == "Utilization" {
                    node.int32(f).and_then(|v| {
                        if v < 1 {
                            f.invalid(&node.path, &v.to_string(), "must be greater than 0");
                            return None;
                        }
                        Some(MetricTarget::Utilization(v))
                    })
                } else {
                    let v = positive_milli(&node, f)?;
                    Some(if k == "Value" {
                        MetricTarget::Value(v)
                    } else {
                        MetricTarget::AverageValue(v)
                    })
                };
            }
            (Some(kind), None) if kind == k => {
                f.required(&o.path().child(field), &format!("must be set for type {k}"));
            }
            (Some(kind), Some(node)) => {
                f.forbidden(&node.path, &format!("must be omitted when type is {kind}"));
            }
            _ => {}
        }
    }
    o.finish_strict(f);
    out
}

/// A positive quantity in milli-units.
fn positive_milli(n: &Node, f: &mut Findings) -> Option<i64> {
    let q = n.quantity(f)?;
    if q.cmp_value(&Quantity::parse("0").expect("constant parses")) != Ordering::Greater {
        f.invalid(&n.path, &quote(q.as_str()), "must be positive");
        return None;
    }
    Some(milli_value(&q))
}

/// `resource.Quantity.MilliValue()`: the value × 1000, rounded up to the next integer when it
/// has finer digits, saturating at `i64::MAX`. Exact: the float estimate is corrected by
/// comparing decimal values.
fn milli_value(q: &Quantity) -> i64 {
    let as_milli = |m: i64| Quantity::parse(&format!("{m}m")).expect("an integer in milli parses");
    let estimate = q.as_f64() * 1000.0;
    if estimate >= i64::MAX as f64 {
        return i64::MAX;
    }
    let mut m = estimate.round() as i64;
    while q.cmp_value(&as_milli(m)) == Ordering::Greater {
        m += 1;
    }
    while m > i64::MIN && q.cmp_value(&as_milli(m - 1)) != Ordering::Greater {
        m -= 1;
    }
    m
}

/// `behavior` (`autoscaling/v2` `HorizontalPodAutoscalerBehavior`): each direction checked,
/// then filled field by field from the K3 defaults. Problems are reported at `n`'s own path,
/// so this also reads the behavior a KEDA ScaledObject embeds in
/// `spec.advanced.horizontalPodAutoscalerConfig`.
pub(super) fn behavior(n: &Node, f: &mut Findings) -> Option<Behavior> {
    let mut o = n.fields(f)?;
    let up = o
        .take("scaleUp")
        .map(|n| rules(&n, Rules::default_scale_up(), f));
    let down = o
        .take("scaleDown")
        .map(|n| rules(&n, Rules::default_scale_down(), f));
    o.finish_strict(f);
    Some(Behavior {
        scale_up: up.unwrap_or_else(|| Some(Rules::default_scale_up()))?,
        scale_down: down.unwrap_or_else(|| Some(Rules::default_scale_down()))?,
    })
}

/// `HPAScalingRules`, checked and then defaulted (K3 `copyHPAScalingRules`).
fn rules(n: &Node, defaults: Rules, f: &mut Findings) -> Option<Rules> {
    let mut o = n.fields(f)?;
    let before = f.problems.len();
    let window = o.take("stabilizationWindowSeconds").and_then(|n| {
        let v = n.int32(f)?;
        in_range(&n, v, 0, 3600, f).then_some(v)
    });
    let select_node = o.take("selectPolicy");
    let select = select_node.as_ref().and_then(|n| {
        let s = n.string(f)?;
        match s.as_str() {
            "Max" => Some(SelectPolicy::Max),
            "Min" => Some(SelectPolicy::Min),
            "Disabled" => Some(SelectPolicy::Disabled),
            _ => {
                f.unsupported(&n.path, &s, &["Max", "Min", "Disabled"]);
                None
            }
        }
    });
    let policies_node = o.take("policies");
    let policies = policies_node
        .as_ref()
        .and_then(|n| n.sequence(f))
        .map(|items| {
            items
                .iter()
                .filter_map(|p| policy(p, f))
                .collect::<Vec<_>>()
        });
    if let (Some(p), Some(n)) = (&policies, &policies_node) {
        if p.is_empty() && select != Some(SelectPolicy::Disabled) && f.problems.len() == before {
            f.required(&n.path, "must specify at least one Policy");
        }
    }
    let tolerance = o.take("tolerance").and_then(|n| {
        let q = n.quantity(f)?;
        if q.cmp_value(&Quantity::parse("0").expect("constant parses")) == Ordering::Less {
            f.invalid(
                &n.path,
                &quote(q.as_str()),
                "must be greater than or equal to 0",
            );
            return None;
        }
        Some(q.as_f64())
    });
    o.finish_strict(f);
    (f.problems.len() == before).then(|| defaults.defaulted(window, select, policies, tolerance))
}

/// One `HPAScalingPolicy`.
fn policy(n: &Node, f: &mut Findings) -> Option<ScalingPolicy> {
    let mut o = n.fields(f)?;
    let kind = o.require("type", f).and_then(|t| {
        let s = t.string(f)?;
        match s.as_str() {
            "Pods" => Some(PolicyKind::Pods),
            "Percent" => Some(PolicyKind::Percent),
            _ => {
                f.unsupported(&t.path, &s, &["Pods", "Percent"]);
                None
            }
        }
    });
    let value = o.require("value", f).and_then(|n| {
        let v = n.int32(f)?;
        if v <= 0 {
            f.invalid(&n.path, &v.to_string(), "must be greater than zero");
            return None;
        }
        Some(v)
    });
    let period_s = o.require("periodSeconds", f).and_then(|n| {
        let v = n.int32(f)?;
        in_range(&n, v, 1, 1800, f).then_some(v)
    });
    o.finish_strict(f);
    Some(ScalingPolicy {
        kind: kind?,
        value: value?,
        period_s: period_s?,
    })
}

/// `lo ≤ v ≤ hi`, else a problem in the API server's words.
fn in_range(n: &Node, v: i32, lo: i32, hi: i32, f: &mut Findings) -> bool {
    if v < lo {
        f.invalid(
            &n.path,
            &v.to_string(),
            &format!("must be greater than or equal to {lo}"),
        );
    } else if v > hi {
        f.invalid(
            &n.path,
            &v.to_string(),
            &format!("must be less than or equal to {hi}"),
        );
    }
    (lo..=hi).contains(&v)
}

#[cfg(test)]
mod tests;
