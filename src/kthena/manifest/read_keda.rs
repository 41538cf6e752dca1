//! The `spec` of a `keda.sh/v1alpha1` ScaledObject, read and checked as the API server (the
//! CRD schema and its CEL rule, with kubectl's strict field validation), KEDA's admission
//! webhook and KEDA's Prometheus scaler would (docs/other-autoscalers.md §3, E1, E4),
//! defaulted into a [`ScaledObjectSpec`]. Only `prometheus` triggers are simulated: other
//! trigger types and `scalingModifiers` are refused by name.

use yaml_serde::Value;

use super::read_hpa::behavior;
use super::read_knative::parse_bool;
use super::yaml_walk::{render, Fields, Node};
use crate::engine::policy::Duration;
use crate::hpa::{Behavior, MetricTarget};
use crate::keda::{Fallback, FallbackBehavior, MetricType, ScaledObjectSpec, Trigger};
use crate::kthena::field::{quote, FieldPath, Findings};

/// The longest label value: the ScaledObject's name and its HPA's name are both used as one
/// (E1 webhook `verifyName`).
const MAX_LABEL_VALUE: usize = 63;

/// A ScaledObject's `spec`; `None` when it has problems (all of them are reported).
pub(super) fn scaled_object(
    name: &str,
    namespace: &str,
    spec: &Node,
    f: &mut Findings,
) -> Option<ScaledObjectSpec> {
    let before = f.problems.len();
    let mut o = spec.fields(f)?;
    let target = o
        .require("scaleTargetRef", f)
        .and_then(|n| scale_target_ref(&n, f));
    let polling_interval = at_least(&mut o, "pollingInterval", 1, f);
    let initial_cooldown = at_least(&mut o, "initialCooldownPeriod", 0, f);
    let cooldown = at_least(&mut o, "cooldownPeriod", 0, f);
    let idle = at_least(&mut o, "idleReplicaCount", 0, f);
    let min = at_least(&mut o, "minReplicaCount", 0, f);
    let max = at_least(&mut o, "maxReplicaCount", 1, f);
    let advanced = o
        .take("advanced")
        .and_then(|n| advanced(&n, f))
        .unwrap_or_default();
    let fallback = o.take("fallback").and_then(|n| fallback(&n, f));
    let triggers = o
        .require("triggers", f)
        .and_then(|n| triggers(&n, f))
        .unwrap_or_default();
    let path = o.path().clone();
    o.finish_strict(f);

    let mut so = ScaledObjectSpec::with_defaults(name, namespace, "", triggers);
    if let Some((target, kind)) = target {
        so.target = target;
        so.target_kind = kind;
    }
    so.polling_interval_s = polling_interval.unwrap_or(so.polling_interval_s);
    so.initial_cooldown_period_s = initial_cooldown.unwrap_or(so.initial_cooldown_period_s);
    so.cooldown_period_s = cooldown.unwrap_or(so.cooldown_period_s);
    so.idle_replica_count = idle;
    so.min_replica_count = min.unwrap_or(0);
    so.max_replica_count = max.unwrap_or(so.max_replica_count);
    so.fallback = fallback;
    if let Some(hpa_name) = advanced.hpa_name {
        so.hpa_name = hpa_name;
    }
    so.behavior = advanced.behavior;
    replica_bounds(&so, min.is_some(), &path, f);
    for (what, value) in [("name", name), ("HPA name", so.hpa_name.as_str())] {
        if value.len() > MAX_LABEL_VALUE {
            f.invalid(
                &path,
                &quote(value),
                &format!(
                    "the {what} is used as the `scaledobject.keda.sh/name` label value and must \
                     be no more than {MAX_LABEL_VALUE} characters"
                ),
            );
        }
    }
    (f.problems.len() == before).then_some(so)
}

/// `scaleTargetRef`: the name, and the kind (`Deployment` when absent).
fn scale_target_ref(node: &Node, f: &mut Findings) -> Option<(String, String)> {
    let mut o = node.fields(f)?;
    let name = o.require("name", f).and_then(|n| n.string(f));
    if name.as_deref() == Some("") {
        f.invalid(
            &o.path().child("name"),
            "\"\"",
            "should be at least 1 chars long",
        );
    }
    o.skip("apiVersion");
    let kind = o.take("kind").and_then(|n| n.string(f));
    o.skip("envSourceContainerName");
    o.finish_strict(f);
    Some((
        name?,
        kind.filter(|k| !k.is_empty())
            .unwrap_or_else(|| "Deployment".to_string()),
    ))
}

/// An optional int32 field with the CRD's `minimum`.
fn at_least(o: &mut Fields, key: &'static str, minimum: i32, f: &mut Findings) -> Option<i32> {
    let node = o.take(key)?;
    let v = node.int32(f)?;
    if v < minimum {
        f.invalid(
            &node.path,
            &v.to_string(),
            &format!("should be greater than or equal to {minimum}"),
        );
        return None;
    }
    Some(v)
}

/// The CRD's CEL rule (min ≤ max) and the webhook's `CheckReplicaCountBoundsAreValid`, whose
/// minimum is 1 for an explicit `minReplicaCount: 0` and 0 for an absent one (upstream's
/// `GetHPAMinReplicas`).
fn replica_bounds(so: &ScaledObjectSpec, min_set: bool, path: &FieldPath, f: &mut Findings) {
    if so.min_replica_count > so.max_replica_count {
        f.invalid(
            &path.child("minReplicaCount"),
            &so.min_replica_count.to_string(),
            "minReplicaCount must be less than or equal to maxReplicaCount",
        );
    }
    let min = if min_set {
        so.min_replica_count.max(1)
    } else {
        0
    };
    if let Some(idle) = so.idle_replica_count {
        if idle >= min {
            f.invalid(
                &path.child("idleReplicaCount"),
                &idle.to_string(),
                &format!("IdleReplicaCount={idle} must be less than MinReplicaCount={min}"),
            );
        }
    }
}

/// What `advanced` contributes.
#[derive(Default)]
struct Advanced {
    hpa_name: Option<String>,
    behavior: Option<Behavior>,
}

fn advanced(node: &Node, f: &mut Findings) -> Option<Advanced> {
    let mut o = node.fields(f)?;
    let mut out = Advanced::default();
    if let Some(mut h) = o
        .take("horizontalPodAutoscalerConfig")
        .and_then(|n| n.fields(f))
    {
        out.hpa_name = h
            .take("name")
            .and_then(|n| n.string(f))
            .filter(|s| !s.is_empty());
        // An `autoscaling/v2` HPA behavior, read as for an HPA.
        out.behavior = h.take("behavior").and_then(|n| behavior(&n, f));
        h.finish_strict(f);
    }
    // Acts only when the ScaledObject is deleted, which never happens in a run.
    if let Some(n) = o.take("restoreToOriginalReplicaCount") {
        boolean(&n, f);
    }
    if let Some(n) = o.take("scalingModifiers") {
        f.problem(
            &n.path,
            "scalingModifiers is not supported by kthena-sim: composite formulas over triggers \
             are not simulated",
        );
    }
    o.finish_strict(f);
    Some(out)
}

/// `fallback`: both counts required and ≥ 0 (CRD), `behavior` one of the simulated values.
fn fallback(node: &Node, f: &mut Findings) -> Option<Fallback> {
    let mut o = node.fields(f)?;
    let mut count = |key: &'static str, f: &mut Findings| {
        let node = o.require(key, f)?;
        let v = node.int32(f)?;
        if v < 0 {
            f.invalid(
                &node.path,
                &v.to_string(),
                "should be greater than or equal to 0",
            );
            return None;
        }
        Some(v)
    };
    let failure_threshold = count("failureThreshold", f);
    let replicas = count("replicas", f);
    let behavior = match o.take("behavior") {
        None => Some(FallbackBehavior::Static),
        Some(n) => n.string(f).and_then(|s| match FallbackBehavior::parse(&s) {
            Some(b) => Some(b),
            None if s == "scalingModifiers" => {
                f.problem(
                    &n.path,
                    "fallback behavior `scalingModifiers` is not supported by kthena-sim: \
                     scalingModifiers are not simulated",
                );
                None
            }
            None => {
                f.unsupported(&n.path, &s, &FallbackBehavior::NAMES);
                None
            }
        }),
    };
    o.finish_strict(f);
    Some(Fallback {
        failure_threshold: failure_threshold?,
        replicas: replicas?,
        behavior: behavior?,
    })
}

/// `triggers`: at least one; names unique (E1 `ValidateTriggers`).
fn triggers(node: &Node, f: &mut Findings) -> Option<Vec<Trigger>> {
    let items = node.sequence(f)?;
    if items.is_empty() {
        f.invalid(&node.path, "[]", "should have at least 1 items");
        return None;
    }
    let mut out = Vec::with_capacity(items.len());
    let mut names: Vec<String> = Vec::new();
    for item in &items {
        if let Some(t) = trigger(item, f) {
            if let Some(name) = &t.name {
                if names.contains(name) {
                    f.invalid(
                        &item.path.child("name"),
                        &quote(name),
                        &format!(
                            "triggerName {} is defined multiple times in the ScaledObject, but \
                             it must be unique",
                            quote(name)
                        ),
                    );
                }
                names.push(name.clone());
            }
            out.push(t);
        }
    }
    (out.len() == items.len()).then_some(out)
}

fn trigger(node: &Node, f: &mut Findings) -> Option<Trigger> {
    let mut o = node.fields(f)?;
    let kind = o.require("type", f).and_then(|n| n.string(f));
    let supported = match kind.as_deref() {
        Some("prometheus") => true,
        Some("") => {
            f.invalid(
                &o.path().child("type"),
                "\"\"",
                "should be at least 1 chars long",
            );
            false
        }
        Some(other) => {
            f.problem(
                &o.path().child("type"),
                format!(
                    "trigger type `{other}` is not supported by kthena-sim: it simulates \
                     Prometheus triggers only"
                ),
            );
            false
        }
        None => false,
    };
    let name = o
        .take("name")
        .and_then(|n| n.string(f))
        .filter(|s| !s.is_empty());
    let use_cached_metrics = o.take("useCachedMetrics").and_then(|n| boolean(&n, f));
    if let Some(auth) = o.take("authenticationRef") {
        authentication_ref(&auth, f);
    }
    if !supported {
        // The other fields mean something only to the refused scaler.
        o.skip("metricType");
        o.skip("metadata");
        o.finish_strict(f);
        return None;
    }
    let metric_type = match o.take("metricType") {
        None => Some(MetricType::AverageValue),
        Some(n) => metric_type(&n, f),
    };
    let metadata = o.require("metadata", f);
    o.finish_strict(f);
    let mut trigger = prometheus_metadata(&metadata?, f)?;
    trigger.name = name;
    trigger.use_cached_metrics = use_cached_metrics.unwrap_or(false);
    trigger.metric_type = metric_type?;
    Some(trigger)
}

/// `metricType`: `AverageValue` or `Value`; KEDA refuses `Utilization` for external scalers
/// (E4 `GetMetricTargetType`).
fn metric_type(node: &Node, f: &mut Findings) -> Option<MetricType> {
    match node.string(f).as_deref() {
        Some("AverageValue") | Some("") => Some(MetricType::AverageValue),
        Some("Value") => Some(MetricType::Value),
        Some("Utilization") => {
            f.invalid(
                &node.path,
                "\"Utilization\"",
                "scaler doesn't support Utilization metric type: only AverageValue and Value \
                 are supported for external metrics",
            );
            None
        }
        Some(other) => {
            f.unsupported(&node.path, other, &["AverageValue", "Value"]);
            None
        }
        None => None,
    }
}

/// `authenticationRef`: checked, then ignored (the simulated Prometheus needs no credentials).
fn authentication_ref(node: &Node, f: &mut Findings) {
    let Some(mut o) = node.fields(f) else {
        return;
    };
    o.require("name", f).and_then(|n| n.string(f));
    if let Some(n) = o.take("kind") {
        if let Some(kind) = n.string(f) {
            const KINDS: [&str; 2] = ["TriggerAuthentication", "ClusterTriggerAuthentication"];
            if !KINDS.contains(&kind.as_str()) {
                f.unsupported(&n.path, &kind, &KINDS);
            }
        }
    }
    o.finish_strict(f);
    f.note(
        &node.path,
        "authentication is not simulated: the simulated Prometheus answers without credentials",
    );
}

/// Metadata keys the Prometheus scaler accepts that change nothing in a simulation (HTTP
/// and cloud settings); their formats are still checked where KEDA checks them.
const IGNORED_KEYS: [&str; 7] = [
    "namespace",
    "unsafeSsl",
    "customHeaders",
    "queryParameters",
    "timeout",
    "awsRegion",
    "identityOwner",
];

/// A Prometheus trigger's `metadata` (E4 `prometheusMetadata`, parsed by KEDA's typed
/// config: values trimmed, an empty value is an absent one).
fn prometheus_metadata(node: &Node, f: &mut Findings) -> Option<Trigger> {
    let entries = node.entries(f)?;
    let mut values: Vec<(String, FieldPath, String)> = Vec::with_capacity(entries.len());
    // Keys whose value is not a string: already reported, not also missing.
    let mut mistyped: Vec<String> = Vec::new();
    for (key, value) in entries {
        let path = node.path.child(&key);
        let value = Node::new(value.value, path.clone());
        // The CRD types metadata as map<string, string>: `threshold: 5` is refused.
        match value.string(f) {
            Some(s) => values.push((key, path, s.trim().to_string())),
            None => mistyped.push(key),
        }
    }
    let get = |key: &str| {
        values
            .iter()
            .find(|(k, _, v)| k == key && !v.is_empty())
            .map(|(_, p, v)| (p.clone(), v.clone()))
    };
    let required = |key: &str, f: &mut Findings| {
        let found = get(key);
        if found.is_none() && !mistyped.iter().any(|k| k == key) {
            f.required(
                &node.path.child(key),
                &format!("missing required parameter {}", quote(key)),
            );
        }
        found
    };
    let before = f.problems.len();
    let server_address = required("serverAddress", f);
    let query = required("query", f);
    let threshold =
        required("threshold", f).and_then(|(p, v)| number(&p, &v, f).map(|x| (p, v, x)));
    if let Some((p, v, x)) = &threshold {
        // The HPA refuses a target that is not positive, after KEDA's "%.3f".
        let target = Trigger::prometheus("", "", *x).target();
        if matches!(target, MetricTarget::AverageValue(m) if m <= 0) {
            f.invalid(p, &quote(v), "must be positive: it is the HPA target (in milli units after rounding to 3 decimals)");
        }
    }
    let activation = get("activationThreshold").and_then(|(p, v)| number(&p, &v, f));
    let ignore_null_values = get("ignoreNullValues").and_then(|(p, v)| go_bool(&p, &v, f));
    if let Some((p, v)) = get("unsafeSsl") {
        go_bool(&p, &v, f);
    }
    for key in ["customHeaders", "queryParameters"] {
        if let Some((p, v)) = get(key) {
            key_values(&p, &v, f);
        }
    }
    if let Some((p, v)) = get("timeout") {
        timeout(&p, &v, f);
    }
    for (key, path, _) in &values {
        let known = [
            "serverAddress",
            "query",
            "threshold",
            "activationThreshold",
            "ignoreNullValues",
            "metricName",
        ]
        .contains(&key.as_str())
            || IGNORED_KEYS.contains(&key.as_str());
        if key == "authModes" || key.ends_with("FromEnv") || key.ends_with("FromEnvFile") {
            f.note(path, "authentication is not simulated: the simulated Prometheus answers without credentials");
        } else if !known {
            f.note(
                path,
                "unknown metadata key, ignored (KEDA checks trigger metadata only with \
                 KEDA_CHECK_UNEXPECTED_SCALERS_PARAMS=enabled)",
            );
        }
    }
    if f.problems.len() != before {
        return None;
    }
    let (_, server_address) = server_address?;
    let (_, query) = query?;
    let (_, _, threshold) = threshold?;
    let mut trigger = Trigger::prometheus(&server_address, &query, threshold);
    trigger.activation_threshold = activation.unwrap_or(0.0);
    trigger.ignore_null_values = ignore_null_values.unwrap_or(true);
    Some(trigger)
}

/// A float64 as KEDA's typed config reads it: JSON number syntax (`json.Unmarshal`).
fn number(path: &FieldPath, v: &str, f: &mut Findings) -> Option<f64> {
    let parsed = is_json_number(v)
        .then(|| v.parse::<f64>().ok())
        .flatten()
        .filter(|x| x.is_finite());
    if parsed.is_none() {
        f.invalid(path, &quote(v), "must be a number");
    }
    parsed
}

/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
fn is_json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    let int_start = i;
    let n = digits(&mut i);
    if n == 0 || (n > 1 && b[int_start] == b'0') {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Go's `strconv.ParseBool`, with a problem when it fails.
fn go_bool(path: &FieldPath, v: &str, f: &mut Findings) -> Option<bool> {
    let b = parse_bool(v);
    if b.is_none() {
        f.invalid(path, &quote(v), "must be a boolean (true or false)");
    }
    b
}

/// `key=value,key=value` (KEDA's typed config maps).
fn key_values(path: &FieldPath, v: &str, f: &mut Findings) {
    for item in v.split(',') {
        if item.trim().split('=').count() != 2 {
            f.invalid(
                path,
                &quote(v),
                &format!("expected format key=value, got {}", quote(item.trim())),
            );
            return;
        }
    }
}

/// `timeout`: a Go duration, else whole milliseconds; never negative.
fn timeout(path: &FieldPath, v: &str, f: &mut Findings) {
    let ms = Duration::parse(v)
        .map(Duration::milliseconds)
        .ok()
        .or_else(|| v.parse::<i64>().ok());
    match ms {
        Some(ms) if ms >= 0 => {}
        Some(_) => f.invalid(path, &quote(v), "duration cannot be negative"),
        None => f.invalid(
            path,
            &quote(v),
            "must be either a duration string (e.g. '30s', '5m') or a number of milliseconds",
        ),
    }
}

/// A YAML boolean (the CRD types these fields `boolean`).
fn boolean(node: &Node, f: &mut Findings) -> Option<bool> {
    match node.value {
        Value::Bool(b) => Some(*b),
        other => {
            f.invalid(&node.path, &render(other), "must be of type boolean");
            None
        }
    }
}

#[cfg(test)]
mod tests;
