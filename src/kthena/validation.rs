//! What a cluster refuses, for objects the reader could decode: the CRD schema's value rules
//! (ranges, list sizes, patterns, CEL rules; docs/engine.md §4.1-§4.3) and Kthena's validating
//! webhooks (docs/engine.md §4.5.1 for the current API, §4.5.2 for v0.x), with their messages and
//! in their order. Types and required fields are checked while reading (`manifest::read*`).
//!
//! The API server consults the validating webhooks only for objects that passed the schema, so
//! [`policy_v04`], [`binding`] and [`policy_current`] run the webhook checks only when the object
//! has no problem yet. This also keeps the webhooks' repeats of CEL rules (the binding's
//! one-of target, `numeratorRole != denominatorRole`) from being reported twice.
//!
//! Long because it is one list of rules in the API server's order: split, the order would be
//! harder to check against Kthena's.

use super::defaults::effective_behavior;
use super::field::{quote, FieldPath, Findings};
use super::manifest::raw::{
    RawBinding, RawDisaggregated, RawHeterogeneous, RawHomogeneous, RawMetric, RawMetricSource,
    RawPolicyCurrent, RawPolicyV04, RawRole, RawTarget,
};
use super::spec::{BehaviorSpec, StablePolicySpec};
use crate::engine::policy::{Behavior, Duration, ObjectReference, Quantity, StablePolicy};
use std::collections::{BTreeMap, BTreeSet};

/// An inclusive `minimum` / `maximum` pair of the CRD schema.
#[derive(Debug, Clone, Copy)]
struct Range {
    min: i32,
    max: Option<i32>,
}

const TOLERANCE_PERCENT: Range = Range {
    min: 0,
    max: Some(100),
};
const PERCENT: Range = Range {
    min: 0,
    max: Some(1000),
};
const PANIC_THRESHOLD_PERCENT: Range = Range {
    min: 110,
    max: Some(1000),
};
const NON_NEGATIVE: Range = Range { min: 0, max: None };
const MIN_REPLICAS: Range = Range {
    min: 0,
    max: Some(1_000_000),
};
const MAX_REPLICAS: Range = Range {
    min: 1,
    max: Some(1_000_000),
};
const POD_PORT: Range = Range {
    min: 1,
    max: Some(65_535),
};

fn check_range(f: &mut Findings, path: &FieldPath, value: Option<i32>, range: Range) {
    let Some(v) = value else { return };
    if v < range.min {
        f.invalid(
            path,
            &v.to_string(),
            &format!("should be greater than or equal to {}", range.min),
        );
    } else if let Some(max) = range.max.filter(|&max| v > max) {
        f.invalid(
            path,
            &v.to_string(),
            &format!("should be less than or equal to {max}"),
        );
    }
}

fn check_min_items(f: &mut Findings, path: &FieldPath, len: usize) {
    if len < 1 {
        f.invalid(path, &len.to_string(), "should have at least 1 items");
    }
}

fn check_min_length(f: &mut Findings, path: &FieldPath, value: Option<&str>) {
    if value == Some("") {
        f.invalid(path, &quote(""), "should be at least 1 chars long");
    }
}

/// Runs the webhook checks only for an object the schema accepted.
fn then_webhook(f: &mut Findings, webhook: impl FnOnce(&mut Findings)) {
    if f.problems.is_empty() {
        webhook(f);
    }
}

fn spec_path() -> FieldPath {
    FieldPath::new("spec")
}

// ---------------------------------------------------------------------------------------------
// v0.x

/// A v0.x `AutoscalingPolicy`: schema rules, then the webhook's steps 1 and 5-7
/// (docs/engine.md §4.5.2).
pub(crate) fn policy_v04(raw: &RawPolicyV04, f: &mut Findings) {
    let spec = spec_path();
    check_range(
        f,
        &spec.child("tolerancePercent"),
        raw.tolerance_percent,
        TOLERANCE_PERCENT,
    );
    if let Some(metrics) = &raw.metrics {
        check_min_items(f, &spec.child("metrics"), metrics.len());
    }
    schema_behavior(raw.behavior.as_ref(), f);
    then_webhook(f, |f| {
        webhook_metrics(
            raw.metrics.as_deref().unwrap_or_default(),
            "metricName",
            &spec,
            f,
        );
        webhook_behavior(&effective_behavior(raw.behavior.as_ref()), f);
    });
}

/// A v0.x `AutoscalingPolicyBinding`: schema rules and the one-of CEL rule, then the binding
/// webhook (docs/engine.md §4.5.2). `policy_exists` says whether an `AutoscalingPolicy` named
/// `policyRef.name` exists in the binding's namespace.
pub(crate) fn binding(raw: &RawBinding, policy_exists: bool, f: &mut Findings) {
    let spec = spec_path();
    if raw.homogeneous.is_some() == raw.heterogeneous.is_some() {
        f.invalid(
            &spec,
            &quote("object"),
            "Either heterogeneousTarget or homogeneousTarget must be set, but not both.",
        );
    }
    if let Some(h) = &raw.homogeneous {
        schema_homogeneous(h, &spec.child("homogeneousTarget"), f);
    }
    if let Some(h) = &raw.heterogeneous {
        schema_heterogeneous(h, &spec.child("heterogeneousTarget"), f);
    }
    then_webhook(f, |f| webhook_binding(raw, policy_exists, f));
}

fn webhook_binding(raw: &RawBinding, policy_exists: bool, f: &mut Findings) {
    let spec = spec_path();
    match (&raw.homogeneous, &raw.heterogeneous) {
        (None, None) => f.required(
            &spec.child("homogeneousTarget"),
            "spec.homogeneousTarget should be set if spec.heterogeneousTarget does not exist",
        ),
        (Some(_), Some(_)) => f.forbidden(
            &spec.child("homogeneousTarget"),
            "both spec.heterogeneousTarget and spec.homogeneousTarget can not be set at the same time",
        ),
        _ => {}
    }

    // An API GET of the policy; the client refuses an empty name before asking.
    let policy_ref = spec.child("PolicyRef");
    let name = &raw.policy_ref_name;
    if name.is_empty() {
        f.internal(&policy_ref, "resource name may not be empty");
    } else if !policy_exists {
        f.invalid(
            &policy_ref,
            &quote(name),
            &format!("autoscaling policy resource {name} does not exist"),
        );
    }

    if let Some(het) = &raw.heterogeneous {
        for (i, p) in het.params.iter().flatten().enumerate() {
            let path = spec
                .child("heterogeneousTarget")
                .child("params")
                .index(i)
                .child("targetRef");
            let target = p.target.clone().unwrap_or_default();
            let reference = target.target_ref.unwrap_or_default();
            if !reference.kind.is_empty() && reference.kind != "ModelServing" {
                f.invalid(
                    &path.child("kind"),
                    &quote(&reference.kind),
                    &format!(
                        "heterogeneousTarget.params[].targetRef.kind must be ModelServing, but got {}",
                        reference.kind
                    ),
                );
            }
            if let Some(sub) = &target.sub_target {
                // Go prints the struct with %#v as the value and the pointer with %s.
                f.invalid(
                    &path.child("subTarget"),
                    &format!("v1alpha1.SubTarget{{Kind:{}, Name:{}}}", quote(&sub.kind), quote(&sub.name)),
                    &format!(
                        "heterogeneousTarget.params[].targetRef.subTarget must be empty, but got &{{{} {}}}",
                        sub.kind, sub.name
                    ),
                );
            }
        }
    }

    if let Some(homo) = &raw.homogeneous {
        let path = spec.child("homogeneousTarget").child("targetRef");
        let target = homo.target.clone().unwrap_or_default();
        let reference = target.target_ref.unwrap_or_default();
        if reference.kind.is_empty() || reference.kind == "ModelServing" {
            if reference.name.is_empty() {
                f.invalid(
                    &path.child("name"),
                    &quote(""),
                    "homogeneousTarget.targetRef.name must be set, but got empty",
                );
            }
            if let Some(sub) = &target.sub_target {
                let sub_path = path.child("subTarget");
                if sub.name.is_empty() {
                    f.invalid(
                        &sub_path.child("name"),
                        &quote(""),
                        "homogeneousTarget.targetRef.subTarget.name must be set, but got empty",
                    );
                }
                if !sub.kind.is_empty() && sub.kind != "Role" {
                    f.invalid(
                        &sub_path.child("kind"),
                        &quote(&sub.kind),
                        &format!(
                            "homogeneousTarget.targetRef.subTarget.kind must be `Role`, but got {}",
                            sub.kind
                        ),
                    );
                }
            }
        } else {
            f.invalid(
                &path.child("kind"),
                &quote(&reference.kind),
                &format!(
                    "homogeneousTarget.targetRef.kind must be ModelServing, but got {}",
                    reference.kind
                ),
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Current API

/// A current-API `AutoscalingPolicy`: schema rules and CEL rules, then the webhook
/// (docs/engine.md §4.5.1).
pub(crate) fn policy_current(raw: &RawPolicyCurrent, f: &mut Findings) {
    let spec = spec_path();
    check_range(
        f,
        &spec.child("tolerancePercent"),
        raw.tolerance_percent,
        TOLERANCE_PERCENT,
    );
    if let Some(metrics) = &raw.metrics {
        schema_metric_names(metrics, &spec.child("metrics"), f);
    }
    schema_behavior(raw.behavior.as_ref(), f);
    if let Some(h) = &raw.homogeneous {
        schema_homogeneous(h, &spec.child("homogeneousTarget"), f);
    }
    if let Some(h) = &raw.heterogeneous {
        schema_heterogeneous(h, &spec.child("heterogeneousTarget"), f);
    }
    if let Some(d) = &raw.disaggregated {
        schema_disaggregated(d, &spec.child("disaggregatedTarget"), f);
    }
    then_webhook(f, |f| webhook_current(raw, f));
}

fn webhook_current(raw: &RawPolicyCurrent, f: &mut Findings) {
    let spec = spec_path();
    let metrics = raw.metrics.as_deref().unwrap_or_default();
    // 1. Metric targets and duplicate names.
    webhook_metrics(metrics, "name", &spec, f);

    // 2. Exactly one target, and its references.
    let count = [
        raw.homogeneous.is_some(),
        raw.heterogeneous.is_some(),
        raw.disaggregated.is_some(),
    ]
    .iter()
    .filter(|&&set| set)
    .count();
    if count != 1 {
        f.invalid(
            &spec,
            &count.to_string(),
            "exactly one of homogeneousTarget, heterogeneousTarget, or disaggregatedTarget must be set",
        );
    } else if let Some(h) = &raw.homogeneous {
        let path = spec
            .child("homogeneousTarget")
            .child("target")
            .child("targetRef");
        webhook_target_ref(&target_ref(h.target.as_ref()), &path, f);
    } else if let Some(h) = &raw.heterogeneous {
        for (i, p) in h.params.iter().flatten().enumerate() {
            let path = spec
                .child("heterogeneousTarget")
                .child("params")
                .index(i)
                .child("target")
                .child("targetRef");
            webhook_target_ref(&target_ref(p.target.as_ref()), &path, f);
        }
    } else if let Some(d) = &raw.disaggregated {
        let path = spec.child("disaggregatedTarget").child("targetRef");
        webhook_target_ref(&d.target_ref.clone().unwrap_or_default(), &path, f);
    }

    // 3. Metrics are required unless the target is disaggregated.
    if (raw.homogeneous.is_some() || raw.heterogeneous.is_some()) && metrics.is_empty() {
        f.required(&spec.child("metrics"), "at least one metric must be set");
    }

    // 4. Roles and the ratio constraint.
    if let Some(d) = &raw.disaggregated {
        webhook_disaggregated(d, metrics, f);
    }

    // 5-7. Behaviour, as the mutating webhook left it.
    webhook_behavior(&effective_behavior(raw.behavior.as_ref()), f);
}

fn target_ref(target: Option<&RawTarget>) -> ObjectReference {
    target
        .and_then(|t| t.target_ref.clone())
        .unwrap_or_default()
}

fn webhook_target_ref(reference: &ObjectReference, path: &FieldPath, f: &mut Findings) {
    if !reference.kind.is_empty() && reference.kind != "ModelServing" {
        f.invalid(
            &path.child("kind"),
            &quote(&reference.kind),
            &format!(
                "targetRef.kind must be ModelServing, but got {}",
                reference.kind
            ),
        );
    }
    if reference.name.is_empty() {
        f.invalid(
            &path.child("name"),
            &quote(""),
            "targetRef.name must be set, but got empty",
        );
    }
}

fn webhook_disaggregated(d: &RawDisaggregated, spec_metrics: &[RawMetric], f: &mut Findings) {
    let path = spec_path().child("disaggregatedTarget");
    let empty = BTreeMap::new();
    let roles = d.roles.as_ref().unwrap_or(&empty);
    for (name, role) in roles {
        if name.is_empty() {
            f.invalid(
                &path.child("roles"),
                &quote(name),
                "role name must refer to a ModelServing.spec.template.roles[].name and must not be empty",
            );
            continue;
        }
        webhook_role(role, spec_metrics, &path.child("roles").key(name), f);
    }

    let Some(ratio) = &d.ratio_constraint else {
        return;
    };
    let ratio_path = path.child("ratioConstraint");
    let numerator = ratio.numerator_role.clone().unwrap_or_default();
    let denominator = ratio.denominator_role.clone().unwrap_or_default();
    if numerator == denominator {
        f.invalid(
            &ratio_path.child("denominatorRole"),
            &quote(&denominator),
            "numeratorRole and denominatorRole must differ",
        );
    }
    let num = roles.get(&numerator);
    let den = roles.get(&denominator);
    if num.is_none() {
        f.invalid(
            &ratio_path.child("numeratorRole"),
            &quote(&numerator),
            "numeratorRole must exist in roles",
        );
    }
    if den.is_none() {
        f.invalid(
            &ratio_path.child("denominatorRole"),
            &quote(&denominator),
            "denominatorRole must exist in roles",
        );
    }
    let (Some(min_ratio), Some(max_ratio)) = (&ratio.min_ratio, &ratio.max_ratio) else {
        return;
    };
    if min_ratio.cmp_value(max_ratio).is_gt() {
        f.invalid(
            &ratio_path.child("minRatio"),
            &quote(min_ratio.as_str()),
            "minRatio must be <= maxRatio",
        );
    }
    let (Some(num), Some(den)) = (num, den) else {
        return;
    };
    let (num_min, num_max) = (num.min_replicas.unwrap_or(0), num.max_replicas.unwrap_or(0));
    let (den_min, den_max) = (den.min_replicas.unwrap_or(0), den.max_replicas.unwrap_or(0));
    if (num_min == 0) != (den_min == 0) {
        f.invalid(
            &ratio_path,
            &quote("scale-to-zero bounds"),
            "ratio roles must be scalable-to-zero together",
        );
    }
    let (lo, hi) = (min_ratio.as_f64(), max_ratio.as_f64());
    if !lo.is_finite() || !hi.is_finite() {
        f.invalid(&ratio_path, &quote("ratio"), "ratio values must be finite");
    } else if lo < 0.0 || hi <= 0.0 {
        f.invalid(
            &ratio_path,
            &quote("ratio"),
            "minRatio must be >= 0 and maxRatio must be > 0",
        );
    } else {
        let unreachable = "ratioConstraint is not achievable within role replica bounds";
        if den_max > 0 && f64::from(num_min) / f64::from(den_max) > hi {
            f.invalid(&ratio_path, &quote("bounds"), unreachable);
        }
        if den_min > 0 && f64::from(num_max) / f64::from(den_min) < lo {
            f.invalid(&ratio_path, &quote("bounds"), unreachable);
        }
    }
}

fn webhook_role(role: &RawRole, spec_metrics: &[RawMetric], path: &FieldPath, f: &mut Findings) {
    let (min, max) = (
        role.min_replicas.unwrap_or(0),
        role.max_replicas.unwrap_or(0),
    );
    let fixed = max > 0 && min == max;
    if min > max {
        f.invalid(
            &path.child("minReplicas"),
            &min.to_string(),
            "minReplicas must be <= maxReplicas",
        );
    }
    let role_metrics = role.metrics.as_deref().unwrap_or_default();
    if !fixed && role_metrics.is_empty() && spec_metrics.is_empty() {
        f.required(
            &path.child("metrics"),
            "metrics must be set on every non-fixed role when spec.metrics is empty",
        );
    }
    let mut effective: BTreeSet<&str> = BTreeSet::new();
    if role_metrics.is_empty() && !fixed {
        effective.extend(spec_metrics.iter().filter_map(|m| m.name.as_deref()));
    }
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for (i, m) in role_metrics.iter().enumerate() {
        let metric_path = path.child("metrics").index(i);
        webhook_target_value(m.target_value.as_ref(), &metric_path, f);
        let name = m.name.as_deref().unwrap_or_default();
        if !seen.insert(name) {
            f.invalid(
                &metric_path.child("name"),
                &quote(name),
                &format!("duplicate metric name {name} is not allowed"),
            );
        }
        effective.insert(name);
    }
    if fixed {
        return;
    }
    let sources = role.metric_sources.as_ref();
    if sources.is_none_or(BTreeMap::is_empty) && !effective.is_empty() {
        f.invalid(
            &path.child("metricSources"),
            "0",
            "metricSources must be set on every non-fixed role when metrics are configured",
        );
        return;
    }
    for key in sources.into_iter().flat_map(BTreeMap::keys) {
        if !effective.contains(key.as_str()) {
            f.invalid(
                &path.child("metricSources").key(key),
                &quote(key),
                "metricSources key must match an effective metric name",
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Shared by both generations

/// Webhook step 1: target values and duplicate names (`name_field` is the generation's key).
fn webhook_metrics(metrics: &[RawMetric], name_field: &str, spec: &FieldPath, f: &mut Findings) {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for (i, m) in metrics.iter().enumerate() {
        let path = spec.child("metrics").index(i);
        webhook_target_value(m.target_value.as_ref(), &path, f);
        let name = m.name.as_deref().unwrap_or_default();
        if !seen.insert(name) {
            f.invalid(
                &path.child(name_field),
                &quote(name),
                &format!("duplicate metric name {name} is not allowed"),
            );
        }
    }
}

fn webhook_target_value(value: Option<&Quantity>, metric_path: &FieldPath, f: &mut Findings) {
    let Some(q) = value else { return };
    let v = q.as_f64();
    if v <= 0.0 || v.is_infinite() {
        f.invalid(
            &metric_path.child("targetValue"),
            &quote(q.as_str()),
            "metric target value must be greater than 0 and not equal to infinity",
        );
    }
}

/// Webhook steps 5-7: periods, windows and holds within [0 s, 30 min].
fn webhook_behavior(b: &Behavior, f: &mut Findings) {
    let behavior = spec_path().child("behavior");
    webhook_stable(&b.scale_down, &behavior.child("scaleDown"), f);
    let scale_up = behavior.child("scaleUp");
    webhook_stable(
        &b.scale_up.stable_policy,
        &scale_up.child("stablePolicy"),
        f,
    );
    let panic = &b.scale_up.panic_policy;
    let panic_path = scale_up.child("panicPolicy");
    if out_of_webhook_range(panic.period) {
        f.invalid(
            &panic_path.child("period"),
            &panic.period.to_string(),
            "panic policy period must be between 0 and 30 minutes",
        );
    }
    if let Some(hold) = panic.panic_mode_hold.filter(|&d| out_of_webhook_range(d)) {
        f.invalid(
            &panic_path.child("panicModeHold"),
            &hold.to_string(),
            "panic policy panic mode hold must be between 0 and 30 minutes",
        );
    }
}

fn webhook_stable(s: &StablePolicy, path: &FieldPath, f: &mut Findings) {
    if let Some(period) = s.period.filter(|&d| out_of_webhook_range(d)) {
        f.invalid(
            &path.child("period"),
            &period.to_string(),
            "stable policy period must be between 0 and 30 minutes",
        );
    }
    if let Some(window) = s.stabilization_window.filter(|&d| out_of_webhook_range(d)) {
        f.invalid(
            &path.child("stabilizationWindow"),
            &window.to_string(),
            "stable policy stabilization window must be between 0 and 30 minutes",
        );
    }
}

/// The webhooks compare float seconds and minutes: `30m` passes, `30m0.001s` does not
/// (docs/engine.md §3.1).
fn out_of_webhook_range(d: Duration) -> bool {
    d.seconds() < 0.0 || d.minutes() > 30.0
}

fn schema_behavior(b: Option<&BehaviorSpec>, f: &mut Findings) {
    let Some(b) = b else { return };
    let path = spec_path().child("behavior");
    if let Some(down) = &b.scale_down {
        schema_stable(down, &path.child("scaleDown"), f);
    }
    let Some(up) = &b.scale_up else { return };
    let up_path = path.child("scaleUp");
    if let Some(stable) = &up.stable_policy {
        schema_stable(stable, &up_path.child("stablePolicy"), f);
    }
    if let Some(panic) = &up.panic_policy {
        let panic_path = up_path.child("panicPolicy");
        check_range(f, &panic_path.child("percent"), panic.percent, PERCENT);
        check_range(
            f,
            &panic_path.child("panicThresholdPercent"),
            panic.panic_threshold_percent,
            PANIC_THRESHOLD_PERCENT,
        );
    }
}

fn schema_stable(s: &StablePolicySpec, path: &FieldPath, f: &mut Findings) {
    check_range(f, &path.child("instances"), s.instances, NON_NEGATIVE);
    check_range(f, &path.child("percent"), s.percent, PERCENT);
}

/// Current-API metric names: `minLength: 1`.
fn schema_metric_names(metrics: &[RawMetric], path: &FieldPath, f: &mut Findings) {
    for (i, m) in metrics.iter().enumerate() {
        check_min_length(f, &path.index(i).child("name"), m.name.as_deref());
    }
}

fn schema_homogeneous(h: &RawHomogeneous, path: &FieldPath, f: &mut Findings) {
    check_range(f, &path.child("minReplicas"), h.min_replicas, MIN_REPLICAS);
    check_range(f, &path.child("maxReplicas"), h.max_replicas, MAX_REPLICAS);
    if let Some(t) = &h.target {
        schema_target(t, &path.child("target"), f);
    }
}

fn schema_heterogeneous(h: &RawHeterogeneous, path: &FieldPath, f: &mut Findings) {
    check_range(
        f,
        &path.child("costExpansionRatePercent"),
        h.cost_expansion_rate_percent,
        NON_NEGATIVE,
    );
    let Some(params) = &h.params else { return };
    check_min_items(f, &path.child("params"), params.len());
    for (i, p) in params.iter().enumerate() {
        let p_path = path.child("params").index(i);
        check_range(f, &p_path.child("cost"), p.cost, NON_NEGATIVE);
        check_range(
            f,
            &p_path.child("minReplicas"),
            p.min_replicas,
            MIN_REPLICAS,
        );
        check_range(
            f,
            &p_path.child("maxReplicas"),
            p.max_replicas,
            MAX_REPLICAS,
        );
        if let Some(t) = &p.target {
            schema_target(t, &p_path.child("target"), f);
        }
    }
}

fn schema_target(t: &RawTarget, path: &FieldPath, f: &mut Findings) {
    if let Some(sources) = &t.metric_sources {
        schema_metric_sources(sources, &path.child("metricSources"), f);
    }
}

fn schema_metric_sources(
    sources: &BTreeMap<String, RawMetricSource>,
    path: &FieldPath,
    f: &mut Findings,
) {
    for (key, source) in sources {
        let source_path = path.key(key);
        match (&source.pod, &source.prometheus) {
            (None, None) => f.invalid(
                &source_path,
                &quote("object"),
                "one metric source backend config is required",
            ),
            (Some(_), Some(_)) => f.invalid(
                &source_path,
                &quote("object"),
                "pod and prometheus configs are mutually exclusive",
            ),
            _ => {}
        }
        if let Some(pod) = &source.pod {
            let pod_path = source_path.child("pod");
            if let Some(uri) = pod.uri.as_deref().filter(|u| !u.starts_with('/')) {
                f.invalid(&pod_path.child("uri"), &quote(uri), "should match '^/'");
            }
            check_range(f, &pod_path.child("port"), pod.port, POD_PORT);
        }
        if let Some(prometheus) = &source.prometheus {
            let prom_path = source_path.child("prometheus");
            let url_path = prom_path.child("serverURL");
            check_min_length(f, &url_path, prometheus.server_url.as_deref());
            if let Some(url) = prometheus
                .server_url
                .as_deref()
                .filter(|u| !u.is_empty() && !is_uri(u))
            {
                f.invalid(&url_path, &quote(url), "must be of type uri");
            }
            check_min_length(f, &prom_path.child("query"), prometheus.query.as_deref());
        }
    }
}

/// `format: uri` as the API server checks it (Go's `url.ParseRequestURI`): an absolute URI or an
/// absolute path, without blanks or control characters.
fn is_uri(s: &str) -> bool {
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    if s.starts_with('/') {
        return true;
    }
    let Some((scheme, _)) = s.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

fn schema_disaggregated(d: &RawDisaggregated, path: &FieldPath, f: &mut Findings) {
    if let Some(roles) = &d.roles {
        let roles_path = path.child("roles");
        if roles.is_empty() {
            f.invalid(&roles_path, "0", "should have at least 1 properties");
        } else if roles.len() > 2 {
            f.invalid(
                &roles_path,
                &roles.len().to_string(),
                "should have at most 2 properties",
            );
        }
        for (name, role) in roles {
            let role_path = roles_path.key(name);
            check_range(
                f,
                &role_path.child("minReplicas"),
                role.min_replicas,
                MIN_REPLICAS,
            );
            check_range(
                f,
                &role_path.child("maxReplicas"),
                role.max_replicas,
                MAX_REPLICAS,
            );
            if let Some(metrics) = &role.metrics {
                check_min_items(f, &role_path.child("metrics"), metrics.len());
                schema_metric_names(metrics, &role_path.child("metrics"), f);
            }
            if let Some(sources) = &role.metric_sources {
                schema_metric_sources(sources, &role_path.child("metricSources"), f);
            }
        }
    }
    if let Some(ratio) = &d.ratio_constraint {
        if d.roles.as_ref().is_some_and(|r| r.len() < 2) {
            f.invalid(
                path,
                &quote("object"),
                "roles must contain at least two entries when ratioConstraint is configured",
            );
        }
        if ratio.numerator_role.is_some() && ratio.numerator_role == ratio.denominator_role {
            f.invalid(
                &path.child("ratioConstraint"),
                &quote("object"),
                "numeratorRole and denominatorRole must differ",
            );
        }
    }
}

#[cfg(test)]
mod tests;
