//! Readers for a Knative Service (`serving.knative.dev/v1`) as the KPA sees it — its revision
//! template's `autoscaling.knative.dev/*` annotations and `containerConcurrency` — and for the
//! `config-autoscaler` ConfigMap's `data`. Values are checked as Knative's webhook
//! (`annotation_validation.go`, N11) and `config.go` (N6) check them; what kthena-sim does not
//! simulate (the HPA class, cpu/memory metrics, other autoscaler classes) is refused by name.
//! The rest of the template (containers, …) is accepted and not read.

use super::yaml_walk::Node;
use crate::engine::policy::Duration;
use crate::kpa::{Algorithm, KpaConfig, KpaSpec, Metric, TARGET_MIN, WINDOW_MAX, WINDOW_MIN};
use crate::kthena::field::{quote, FieldPath, Findings};
use crate::sim::SimDuration;

const GROUP: &str = "autoscaling.knative.dev/";
const KPA_CLASS: &str = "kpa.autoscaling.knative.dev";
const HPA_CLASS: &str = "hpa.autoscaling.knative.dev";
/// `container-concurrency-max-limit`'s default: the largest `containerConcurrency`.
const CONTAINER_CONCURRENCY_MAX: i64 = 1000;

/// The annotations read, each with its older camelCase alias (`kmap.KeyPriority`, N11).
const ANNOTATIONS: [(&str, Option<&str>); 15] = [
    ("class", None),
    ("metric", None),
    ("target", None),
    (
        "target-utilization-percentage",
        Some("targetUtilizationPercentage"),
    ),
    ("window", None),
    ("panic-window-percentage", Some("panicWindowPercentage")),
    (
        "panic-threshold-percentage",
        Some("panicThresholdPercentage"),
    ),
    ("min-scale", Some("minScale")),
    ("max-scale", Some("maxScale")),
    ("initial-scale", Some("initialScale")),
    ("activation-scale", None),
    ("scale-down-delay", Some("scaleDownDelay")),
    (
        "scale-to-zero-pod-retention-period",
        Some("scaleToZeroPodRetentionPeriod"),
    ),
    ("target-burst-capacity", Some("targetBurstCapacity")),
    (
        "metric-aggregation-algorithm",
        Some("metricAggregationAlgorithm"),
    ),
];

/// `RevisionSpec` fields accepted and not read: the PodSpec's and Knative's timeouts.
const REVISION_SPEC_SKIPPED: [&str; 40] = [
    "containers",
    "initContainers",
    "volumes",
    "serviceAccountName",
    "automountServiceAccountToken",
    "imagePullSecrets",
    "enableServiceLinks",
    "nodeSelector",
    "nodeName",
    "affinity",
    "tolerations",
    "topologySpreadConstraints",
    "runtimeClassName",
    "priorityClassName",
    "priority",
    "preemptionPolicy",
    "schedulerName",
    "securityContext",
    "dnsPolicy",
    "dnsConfig",
    "hostAliases",
    "hostNetwork",
    "hostPID",
    "hostIPC",
    "hostUsers",
    "shareProcessNamespace",
    "hostname",
    "subdomain",
    "setHostnameAsFQDN",
    "readinessGates",
    "overhead",
    "os",
    "resourceClaims",
    "resources",
    "schedulingGates",
    "terminationGracePeriodSeconds",
    "activeDeadlineSeconds",
    "timeoutSeconds",
    "responseStartTimeoutSeconds",
    "idleTimeoutSeconds",
];

/// A `serving.knative.dev/v1` Service's `spec`: the KPA settings of its revision template.
pub(super) fn service(
    name: &str,
    namespace: &str,
    spec: &Node,
    f: &mut Findings,
) -> Option<KpaSpec> {
    let problems = f.problems.len();
    let mut o = spec.fields(f)?;
    let template = o.require("template", f);
    o.skip("traffic");
    o.finish_strict(f);
    let mut t = template?.fields(f)?;
    let mut out = KpaSpec::default();
    if let Some(meta) = t.take("metadata") {
        template_metadata(name, namespace, &meta, &mut out, f);
    }
    if let Some(rs) = t.take("spec") {
        if let Some(mut s) = rs.fields(f) {
            if let Some(n) = s.take("containerConcurrency") {
                match n.int64(f) {
                    Some(cc) if (0..=CONTAINER_CONCURRENCY_MAX).contains(&cc) => {
                        out.container_concurrency = cc;
                    }
                    Some(cc) => f.invalid(
                        &n.path,
                        &cc.to_string(),
                        &format!("must be between 0 and {CONTAINER_CONCURRENCY_MAX}"),
                    ),
                    None => {}
                }
            }
            for key in REVISION_SPEC_SKIPPED {
                s.skip(key);
            }
            s.finish_strict(f);
        }
    }
    t.finish_strict(f);
    (f.problems.len() == problems).then_some(out)
}

/// `spec.template.metadata`: the revision name's prefix, the namespace, the annotations.
fn template_metadata(
    name: &str,
    namespace: &str,
    meta: &Node,
    out: &mut KpaSpec,
    f: &mut Findings,
) {
    let Some(mut m) = meta.fields(f) else {
        return;
    };
    if let Some(n) = m.take("name") {
        if let Some(rev) = n.string(f) {
            if !rev.starts_with(&format!("{name}-")) {
                f.invalid(
                    &n.path,
                    &quote(&rev),
                    &format!("must have prefix \"{name}-\""),
                );
            }
        }
    }
    if let Some(n) = m.take("namespace") {
        if let Some(ns) = n.string(f) {
            if !ns.is_empty() && ns != namespace {
                f.invalid(
                    &n.path,
                    &quote(&ns),
                    &format!("must be the Service's namespace \"{namespace}\""),
                );
            }
        }
    }
    m.skip("labels");
    if let Some(a) = m.take("annotations") {
        annotations(&a, out, f);
    }
    m.finish_strict(f);
}

/// The `autoscaling.knative.dev/*` annotations; others are not the KPA's and are ignored.
fn annotations(node: &Node, out: &mut KpaSpec, f: &mut Findings) {
    let Some(entries) = node.entries(f) else {
        return;
    };
    let mut found: Vec<Option<(String, String, FieldPath)>> = vec![None; ANNOTATIONS.len()];
    for (key, value) in entries {
        let Some(short) = key.strip_prefix(GROUP) else {
            continue;
        };
        let Some(value_text) = value.string(f) else {
            continue;
        };
        let Some(i) = ANNOTATIONS
            .iter()
            .position(|(k, alias)| *k == short || *alias == Some(short))
        else {
            let known = ANNOTATIONS
                .iter()
                .flat_map(|(k, alias)| std::iter::once(*k).chain(*alias));
            let hint = crate::kthena::warnings::did_you_mean(short, known)
                .map(|k| format!("did you mean `{GROUP}{k}`?"));
            let mut d = crate::diagnostic::Diagnostic::error(
                value.path.clone(),
                "unknown autoscaling.knative.dev annotation",
            );
            d.hint = hint;
            f.problems.push(d);
            continue;
        };
        let entry = Some((short.to_string(), value_text, value.path.clone()));
        match &found[i] {
            None => found[i] = entry,
            // `KeyPriority.Get`: the canonical key wins over its alias.
            Some((prev, _, prev_path)) if short == ANNOTATIONS[i].0 && prev != short => {
                let prev_path = prev_path.clone();
                f.note(&prev_path, format!("ignored: `{GROUP}{short}` is also set"));
                found[i] = entry;
            }
            Some((prev, _, _)) => {
                let note = format!("ignored: `{GROUP}{prev}` is also set");
                f.note(&value.path, note);
            }
        }
    }
    let get = |k: &str| {
        let i = ANNOTATIONS.iter().position(|(c, _)| *c == k)?;
        found[i].as_ref().map(|(_, v, p)| (v.as_str(), p))
    };
    if let Some((v, p)) = get("class") {
        class(v, p, f);
    }
    if let Some((v, p)) = get("metric") {
        out.metric = metric(v, p, f);
    }
    if let Some((v, p)) = get("target") {
        out.target = float(v, p, f).filter(|&x| {
            let ok = x >= TARGET_MIN;
            if !ok {
                f.invalid(
                    p,
                    &quote(v),
                    &format!("target should be at least {TARGET_MIN}"),
                );
            }
            ok
        });
    }
    out.target_utilization_percentage =
        get("target-utilization-percentage").and_then(|(v, p)| float_in(v, p, 1.0, 100.0, f));
    out.panic_window_percentage =
        get("panic-window-percentage").and_then(|(v, p)| float_in(v, p, 1.0, 100.0, f));
    out.panic_threshold_percentage =
        get("panic-threshold-percentage").and_then(|(v, p)| float_in(v, p, 110.0, 1000.0, f));
    out.window = get("window").and_then(|(v, p)| {
        let d = duration_in(v, p, WINDOW_MIN, WINDOW_MAX, f)?;
        whole_seconds(d, v, p, f)
    });
    out.scale_down_delay = get("scale-down-delay").and_then(|(v, p)| {
        let d = duration_in(v, p, SimDuration::ZERO, WINDOW_MAX, f)?;
        whole_seconds(d, v, p, f)
    });
    out.scale_to_zero_pod_retention_period = get("scale-to-zero-pod-retention-period")
        .and_then(|(v, p)| duration_in(v, p, SimDuration::ZERO, WINDOW_MAX, f));
    out.min_scale = get("min-scale").and_then(|(v, p)| int_ge0(v, p, f));
    out.max_scale = get("max-scale").and_then(|(v, p)| int_ge0(v, p, f));
    if let (Some(min), Some(max), Some((_, p))) = (out.min_scale, out.max_scale, get("max-scale")) {
        if max != 0 && max < min {
            f.invalid(
                p,
                &max.to_string(),
                &format!("max-scale={max} is less than min-scale={min}"),
            );
        }
    }
    out.initial_scale = get("initial-scale").and_then(|(v, p)| {
        let n = int_ge0(v, p, f)?;
        if n == 0 {
            f.note(
                p,
                "initial-scale 0 applies only with allow-zero-initial-scale: \"true\" in config-autoscaler",
            );
        }
        Some(n)
    });
    out.activation_scale = get("activation-scale").and_then(|(v, p)| {
        let Ok(n) = v.parse::<i32>() else {
            f.invalid(p, &quote(v), "must be an integer");
            return None;
        };
        let (min, max) = (out.min_scale.unwrap_or(0), out.max_scale.unwrap_or(0));
        let why = if min > n {
            format!("min-scale={min} is greater than activation-scale={n}")
        } else if max != 0 && max < n {
            format!("max-scale={max} is less than activation-scale={n}")
        } else if n < 2 {
            format!("activation-scale={n} must be greater than 1")
        } else {
            return Some(n);
        };
        f.invalid(p, &quote(v), &why);
        None
    });
    out.target_burst_capacity = get("target-burst-capacity").and_then(|(v, p)| {
        let x = float(v, p, f)?;
        if x < 0.0 && x != -1.0 {
            f.invalid(p, &quote(v), "must be at least 0, or -1 (unlimited)");
            return None;
        }
        Some(x)
    });
    out.metric_aggregation_algorithm =
        get("metric-aggregation-algorithm").and_then(|(v, p)| match v {
            "linear" => Some(Algorithm::Linear),
            "weighted-exponential" | "weightedExponential" => Some(Algorithm::WeightedExponential),
            other => {
                f.unsupported(p, other, &["linear", "weighted-exponential"]);
                None
            }
        });
}

fn class(v: &str, p: &FieldPath, f: &mut Findings) {
    match v {
        KPA_CLASS => {}
        HPA_CLASS => {
            let mut d = crate::diagnostic::Diagnostic::error(
                p.clone(),
                format!("the class {HPA_CLASS} is not simulated by kthena-sim"),
            );
            d.hint = Some("use an autoscaling/v2 HorizontalPodAutoscaler instead".to_string());
            f.problems.push(d);
        }
        other => f.unsupported(p, other, &[KPA_CLASS]),
    }
}

fn metric(v: &str, p: &FieldPath, f: &mut Findings) -> Option<Metric> {
    match v {
        "concurrency" => Some(Metric::Concurrency),
        "rps" => Some(Metric::Rps),
        "cpu" | "memory" => {
            f.invalid(
                p,
                &quote(v),
                "the KPA scales on concurrency or rps; cpu and memory need the HPA class (use an autoscaling/v2 HorizontalPodAutoscaler instead)",
            );
            None
        }
        other => {
            f.unsupported(p, other, &["concurrency", "rps"]);
            None
        }
    }
}

/// `strconv.ParseFloat`; non-finite values are refused too.
fn float(v: &str, p: &FieldPath, f: &mut Findings) -> Option<f64> {
    match v.parse::<f64>() {
        Ok(x) if x.is_finite() => Some(x),
        _ => {
            f.invalid(p, &quote(v), "must be a number");
            None
        }
    }
}

fn float_in(v: &str, p: &FieldPath, lo: f64, hi: f64, f: &mut Findings) -> Option<f64> {
    let x = float(v, p, f)?;
    if x < lo || x > hi {
        f.invalid(p, &quote(v), &format!("must be between {lo} and {hi}"));
        return None;
    }
    Some(x)
}

/// `getIntGE0`: a decimal int32, at least 0.
fn int_ge0(v: &str, p: &FieldPath, f: &mut Findings) -> Option<i32> {
    match v.parse::<i32>() {
        Ok(n) if n >= 0 => Some(n),
        Ok(_) => {
            f.invalid(p, &quote(v), "must be at least 0");
            None
        }
        Err(_) => {
            f.invalid(p, &quote(v), "must be an integer");
            None
        }
    }
}

/// A Go duration within `[lo, hi]`.
fn duration_in(
    v: &str,
    p: &FieldPath,
    lo: SimDuration,
    hi: SimDuration,
    f: &mut Findings,
) -> Option<SimDuration> {
    let d = match Duration::parse(v) {
        Ok(d) => d,
        Err(e) => {
            f.invalid(p, &quote(v), &e.to_string());
            return None;
        }
    };
    let nanos = d.as_nanos();
    let (lo_ns, hi_ns) = (lo.as_micros() * 1000, hi.as_micros() * 1000);
    if nanos < lo_ns || nanos > hi_ns {
        f.invalid(
            p,
            &quote(v),
            &format!(
                "must be between {}s and {}s",
                lo_ns / 1_000_000_000,
                hi_ns / 1_000_000_000
            ),
        );
        return None;
    }
    Some(SimDuration::from_micros(nanos / 1000))
}

fn whole_seconds(d: SimDuration, v: &str, p: &FieldPath, f: &mut Findings) -> Option<SimDuration> {
    if d.as_micros() % 1_000_000 != 0 {
        f.invalid(
            p,
            &quote(v),
            "must be specified with at most second precision",
        );
        return None;
    }
    Some(d)
}

/// The `config-autoscaler` ConfigMap's `data` (`NewConfigFromMap` and `validate`, N6).
pub(super) fn config_autoscaler(data: &Node, f: &mut Findings) -> Option<KpaConfig> {
    let problems = f.problems.len();
    let entries = data.entries(f)?;
    let mut c = KpaConfig::default();
    let mut paths: Vec<(&'static str, FieldPath)> = Vec::new();
    for (key, node) in entries {
        let Some(v) = node.string(f) else {
            continue;
        };
        let p = node.path.clone();
        let known = CONFIG_KEYS.iter().find(|k| **k == key).copied();
        let Some(k) = known else {
            let hint = crate::kthena::warnings::did_you_mean(&key, CONFIG_KEYS)
                .map(|k| format!("did you mean `{k}`?"));
            f.note_with_hint(&p, "unknown key, ignored by the KPA", hint);
            continue;
        };
        paths.push((k, p.clone()));
        let ok = match k {
            "pod-autoscaler-class" => {
                class(&v, &p, f);
                Some(())
            }
            "enable-scale-to-zero" => parse_bool(&v).map(|b| c.enable_scale_to_zero = b),
            "allow-zero-initial-scale" => parse_bool(&v).map(|b| c.allow_zero_initial_scale = b),
            "max-scale-up-rate" => parse_float(&v).map(|x| c.max_scale_up_rate = x),
            "max-scale-down-rate" => parse_float(&v).map(|x| c.max_scale_down_rate = x),
            "container-concurrency-target-percentage" => parse_float(&v).map(|x| {
                c.container_concurrency_target_fraction = if x > 1.0 { x / 100.0 } else { x }
            }),
            "container-concurrency-target-default" => {
                parse_float(&v).map(|x| c.container_concurrency_target_default = x)
            }
            "requests-per-second-target-default" => {
                parse_float(&v).map(|x| c.requests_per_second_target_default = x)
            }
            "target-burst-capacity" => parse_float(&v).map(|x| c.target_burst_capacity = x),
            "panic-window-percentage" => parse_float(&v).map(|x| c.panic_window_percentage = x),
            "activator-capacity" => parse_float(&v).map(|x| c.activator_capacity = x),
            "panic-threshold-percentage" => {
                parse_float(&v).map(|x| c.panic_threshold_percentage = x)
            }
            "initial-scale" => v.parse().ok().map(|n| c.initial_scale = n),
            "min-scale" => v.parse().ok().map(|n| c.min_scale = n),
            "max-scale" => v.parse().ok().map(|n| c.max_scale = n),
            "max-scale-limit" => v.parse().ok().map(|n| c.max_scale_limit = n),
            "stable-window" => parse_duration(&v).map(|d| c.stable_window = d),
            "scale-down-delay" => parse_duration(&v).map(|d| c.scale_down_delay = d),
            "scale-to-zero-grace-period" => {
                parse_duration(&v).map(|d| c.scale_to_zero_grace_period = d)
            }
            "scale-to-zero-pod-retention-period" => {
                parse_duration(&v).map(|d| c.scale_to_zero_pod_retention_period = d)
            }
            _ => Some(()),
        }
        .is_some();
        if !ok {
            f.invalid(&p, &quote(&v), "cannot be parsed");
        }
    }
    if f.problems.len() == problems {
        let at = |k: &str| {
            paths
                .iter()
                .find(|(key, _)| *key == k)
                .map_or_else(|| data.path.clone(), |(_, p)| p.clone())
        };
        for (key, why) in validate(&c) {
            f.problem(&at(key), why);
        }
    }
    (f.problems.len() == problems).then_some(c)
}

/// The keys `NewConfigFromMap` reads.
const CONFIG_KEYS: [&str; 20] = [
    "pod-autoscaler-class",
    "enable-scale-to-zero",
    "allow-zero-initial-scale",
    "max-scale-up-rate",
    "max-scale-down-rate",
    "container-concurrency-target-percentage",
    "container-concurrency-target-default",
    "requests-per-second-target-default",
    "target-burst-capacity",
    "panic-window-percentage",
    "activator-capacity",
    "panic-threshold-percentage",
    "initial-scale",
    "min-scale",
    "max-scale",
    "max-scale-limit",
    "stable-window",
    "scale-down-delay",
    "scale-to-zero-grace-period",
    "scale-to-zero-pod-retention-period",
];

/// `strconv.ParseBool` (also read_keda's for trigger metadata).
pub(super) fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

fn parse_float(v: &str) -> Option<f64> {
    v.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// Go's `time.ParseDuration`, kept to whole microseconds.
fn parse_duration(v: &str) -> Option<SimDuration> {
    let d = Duration::parse(v).ok()?;
    Some(SimDuration::from_micros(d.as_nanos() / 1000))
}

/// `validate` of config.go: each failure with the key it is about.
fn validate(c: &KpaConfig) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let mut check = |ok: bool, key: &'static str, why: String| {
        if !ok {
            out.push((key, why));
        }
    };
    let secs = |d: SimDuration| d.as_secs_f64();
    check(
        c.scale_to_zero_grace_period > SimDuration::ZERO,
        "scale-to-zero-grace-period",
        format!(
            "scale-to-zero-grace-period must be positive, was: {}s",
            secs(c.scale_to_zero_grace_period)
        ),
    );
    check(
        c.scale_down_delay >= SimDuration::ZERO,
        "scale-down-delay",
        "scale-down-delay cannot be negative".to_string(),
    );
    check(
        c.scale_down_delay.as_micros() % 1_000_000 == 0,
        "scale-down-delay",
        "scale-down-delay must be specified with at most second precision".to_string(),
    );
    check(
        c.scale_to_zero_pod_retention_period >= SimDuration::ZERO,
        "scale-to-zero-pod-retention-period",
        "scale-to-zero-pod-retention-period cannot be negative".to_string(),
    );
    check(
        c.target_burst_capacity >= 0.0 || c.target_burst_capacity == -1.0,
        "target-burst-capacity",
        format!(
            "target-burst-capacity must be either non-negative or -1 (for unlimited), was: {}",
            c.target_burst_capacity
        ),
    );
    let fraction = c.container_concurrency_target_fraction;
    check(
        fraction > 0.0 && fraction <= 1.0,
        "container-concurrency-target-percentage",
        format!("container-concurrency-target-percentage = {fraction} is outside of valid range of (0, 100]"),
    );
    let target = fraction * c.container_concurrency_target_default;
    check(
        target >= TARGET_MIN,
        "container-concurrency-target-default",
        format!("container-concurrency-target-percentage and container-concurrency-target-default yield target concurrency of {target}, can't be less than {TARGET_MIN}"),
    );
    check(
        c.requests_per_second_target_default >= TARGET_MIN,
        "requests-per-second-target-default",
        format!("requests-per-second-target-default must be at least {TARGET_MIN}"),
    );
    check(
        c.activator_capacity >= 1.0,
        "activator-capacity",
        format!(
            "activator-capacity = {}, must be at least 1",
            c.activator_capacity
        ),
    );
    check(
        c.max_scale_up_rate > 1.0,
        "max-scale-up-rate",
        format!(
            "max-scale-up-rate = {}, must be greater than 1.0",
            c.max_scale_up_rate
        ),
    );
    check(
        c.max_scale_down_rate > 1.0,
        "max-scale-down-rate",
        format!(
            "max-scale-down-rate = {}, must be greater than 1.0",
            c.max_scale_down_rate
        ),
    );
    check(
        c.stable_window >= WINDOW_MIN && c.stable_window <= WINDOW_MAX,
        "stable-window",
        format!(
            "stable-window = {}s, must be in [6s; 1h0m0s] range",
            secs(c.stable_window)
        ),
    );
    check(
        c.stable_window.as_micros() % 1_000_000 == 0,
        "stable-window",
        "stable-window must be specified with at most second precision".to_string(),
    );
    check(
        (1.0..=100.0).contains(&c.panic_window_percentage),
        "panic-window-percentage",
        format!(
            "panic-window-percentage = {}, must be in [1, 100] interval",
            c.panic_window_percentage
        ),
    );
    check(
        c.initial_scale > 0 || (c.initial_scale == 0 && c.allow_zero_initial_scale),
        "initial-scale",
        format!("initial-scale = {}, must be at least 0 (or at least 1 when allow-zero-initial-scale is false)", c.initial_scale),
    );
    check(
        c.min_scale >= 0,
        "min-scale",
        format!("min-scale = {}, must be at least 0", c.min_scale),
    );
    let min_max_scale = i32::from(c.max_scale_limit > 0);
    check(
        c.max_scale >= min_max_scale && !(c.max_scale_limit > 0 && c.max_scale > c.max_scale_limit),
        "max-scale",
        format!(
            "max-scale = {}, must be in [{min_max_scale}, max-scale-limit({})] range",
            c.max_scale, c.max_scale_limit
        ),
    );
    check(
        c.max_scale_limit >= 0,
        "max-scale-limit",
        format!(
            "max-scale-limit = {}, must be at least 0",
            c.max_scale_limit
        ),
    );
    check(
        !(c.min_scale > c.max_scale && c.max_scale > 0),
        "min-scale",
        format!(
            "min-scale ({}) must be less than max-scale ({})",
            c.min_scale, c.max_scale
        ),
    );
    out
}

#[cfg(test)]
mod tests {
    use yaml_serde::Value;

    use super::*;

    fn read_service(yaml: &str) -> (Option<KpaSpec>, Findings) {
        let v: Value = yaml_serde::from_str(yaml).expect("test YAML parses");
        let mut f = Findings::default();
        let out = service(
            "llm",
            "default",
            &Node::new(&v, FieldPath::new("spec")),
            &mut f,
        );
        (out, f)
    }

    fn with_annotations(lines: &str) -> String {
        let mut s = String::from("template:\n  metadata:\n    annotations:\n");
        for l in lines.lines() {
            s.push_str("      ");
            s.push_str(l);
            s.push('\n');
        }
        s.push_str("  spec:\n    containerConcurrency: 16\n    containers: [{image: x}]\n");
        s
    }

    fn problems(f: &Findings) -> Vec<(String, String)> {
        f.problems
            .iter()
            .map(|d| (d.path.as_str().to_string(), d.message.clone()))
            .collect()
    }

    #[test]
    fn reads_the_spec_example() {
        let (spec, f) = read_service(&with_annotations(
            "autoscaling.knative.dev/metric: \"concurrency\"\n\
             autoscaling.knative.dev/target: \"8\"\n\
             autoscaling.knative.dev/target-utilization-percentage: \"70\"\n\
             autoscaling.knative.dev/window: \"60s\"\n\
             autoscaling.knative.dev/minScale: \"1\"\n\
             autoscaling.knative.dev/max-scale: \"10\"\n\
             autoscaling.knative.dev/scale-down-delay: \"2m\"\n\
             autoscaling.knative.dev/metric-aggregation-algorithm: weightedExponential\n\
             autoscaling.knative.dev/activation-scale: \"3\"\n\
             example.com/other: ignored",
        ));
        assert!(f.problems.is_empty(), "{:?}", problems(&f));
        let spec = spec.expect("valid");
        assert_eq!(spec.metric, Some(Metric::Concurrency));
        assert_eq!(spec.target, Some(8.0));
        assert_eq!(spec.target_utilization_percentage, Some(70.0));
        assert_eq!(spec.window, Some(SimDuration::from_secs(60)));
        assert_eq!((spec.min_scale, spec.max_scale), (Some(1), Some(10)));
        assert_eq!(spec.scale_down_delay, Some(SimDuration::from_secs(120)));
        assert_eq!(
            spec.metric_aggregation_algorithm,
            Some(Algorithm::WeightedExponential)
        );
        assert_eq!(spec.activation_scale, Some(3));
        assert_eq!(spec.container_concurrency, 16);
    }

    #[test]
    fn out_of_range_values_are_problems_at_their_annotation() {
        for (line, message) in [
            ("target: \"0.001\"", "target should be at least 0.01"),
            (
                "target-utilization-percentage: \"150\"",
                "must be between 1 and 100",
            ),
            ("window: \"5s\"", "must be between 6s and 3600s"),
            (
                "window: \"60500ms\"",
                "must be specified with at most second precision",
            ),
            (
                "panic-window-percentage: \"0.5\"",
                "must be between 1 and 100",
            ),
            (
                "panic-threshold-percentage: \"100\"",
                "must be between 110 and 1000",
            ),
            ("min-scale: \"-1\"", "must be at least 0"),
            ("max-scale: \"ten\"", "must be an integer"),
            (
                "activation-scale: \"1\"",
                "activation-scale=1 must be greater than 1",
            ),
            ("scale-down-delay: \"2h\"", "must be between 0s and 3600s"),
            (
                "target-burst-capacity: \"-2\"",
                "must be at least 0, or -1 (unlimited)",
            ),
            ("metric: \"cpu\"", "cpu and memory need the HPA class"),
            ("metric: \"qps\"", "Unsupported value: \"qps\""),
            (
                "metric-aggregation-algorithm: \"median\"",
                "Unsupported value",
            ),
            ("class: \"foo.example.com\"", "Unsupported value"),
        ] {
            let (spec, f) = read_service(&with_annotations(&format!(
                "autoscaling.knative.dev/{line}"
            )));
            assert!(spec.is_none(), "{line}");
            let ps = problems(&f);
            assert_eq!(ps.len(), 1, "{line}: {ps:?}");
            let key = line.split(':').next().expect("key");
            assert_eq!(
                ps[0].0,
                format!("spec.template.metadata.annotations[autoscaling.knative.dev/{key}]")
            );
            assert!(ps[0].1.contains(message), "{line}: {}", ps[0].1);
        }
    }

    #[test]
    fn max_below_min_and_hpa_class_are_refused() {
        let (spec, f) = read_service(&with_annotations(
            "autoscaling.knative.dev/min-scale: \"3\"\nautoscaling.knative.dev/max-scale: \"2\"",
        ));
        assert!(spec.is_none());
        assert!(problems(&f)[0]
            .1
            .contains("max-scale=2 is less than min-scale=3"));
        let (spec, f) = read_service(&with_annotations(
            "autoscaling.knative.dev/class: hpa.autoscaling.knative.dev",
        ));
        assert!(spec.is_none());
        assert_eq!(
            f.problems[0].hint.as_deref(),
            Some("use an autoscaling/v2 HorizontalPodAutoscaler instead")
        );
    }

    #[test]
    fn unknown_annotations_and_fields_are_problems_with_hints() {
        let (spec, f) = read_service(&with_annotations("autoscaling.knative.dev/minscale: \"1\""));
        assert!(spec.is_none());
        assert_eq!(
            f.problems[0].hint.as_deref(),
            Some("did you mean `autoscaling.knative.dev/minScale`?")
        );
        let (spec, f) = read_service(
            "template:\n  spec:\n    containerConcurency: 4\n    containers: []\n  extra: 1\ntrafic: []\n",
        );
        assert!(spec.is_none());
        let paths: Vec<String> = problems(&f).into_iter().map(|(p, _)| p).collect();
        assert_eq!(
            paths,
            [
                "spec.trafic",
                "spec.template.spec.containerConcurency",
                "spec.template.extra"
            ]
        );
        assert_eq!(
            f.problems[1].hint.as_deref(),
            Some("did you mean `containerConcurrency`?")
        );
    }

    #[test]
    fn template_name_namespace_and_container_concurrency_are_checked() {
        let (spec, f) = read_service(
            "template:\n  metadata:\n    name: other-v1\n    namespace: prod\n  spec:\n    containerConcurrency: 5000\n",
        );
        assert!(spec.is_none());
        let ps = problems(&f);
        assert_eq!(ps.len(), 3, "{ps:?}");
        assert!(ps[0].1.contains("must have prefix \"llm-\""));
        assert!(ps[1].1.contains("must be the Service's namespace"));
        assert!(ps[2].1.contains("must be between 0 and 1000"));
        let (_, f) = read_service("{}");
        assert_eq!(
            problems(&f)[0],
            ("spec.template".to_string(), "Required value".to_string())
        );
    }

    #[test]
    fn alias_beside_its_canonical_key_is_ignored_with_a_note() {
        let (spec, f) = read_service(&with_annotations(
            "autoscaling.knative.dev/maxScale: \"4\"\nautoscaling.knative.dev/max-scale: \"5\"",
        ));
        assert_eq!(spec.expect("valid").max_scale, Some(5));
        assert_eq!(f.notes.len(), 1);
    }

    fn read_config(yaml: &str) -> (Option<KpaConfig>, Findings) {
        let v: Value = yaml_serde::from_str(yaml).expect("test YAML parses");
        let mut f = Findings::default();
        let out = config_autoscaler(&Node::new(&v, FieldPath::new("data")), &mut f);
        (out, f)
    }

    #[test]
    fn config_map_values_are_strings_with_knative_defaults() {
        let (c, f) = read_config(
            "stable-window: \"120s\"\ncontainer-concurrency-target-percentage: \"80\"\n\
             enable-scale-to-zero: \"false\"\nmax-scale-up-rate: \"10\"\ntick-interval: \"2s\"",
        );
        let c = c.expect("valid");
        assert_eq!(c.stable_window, SimDuration::from_secs(120));
        assert!((c.container_concurrency_target_fraction - 0.8).abs() < 1e-12);
        assert!(!c.enable_scale_to_zero);
        assert_eq!(c.max_scale_up_rate, 10.0);
        assert_eq!(c.scale_to_zero_grace_period, SimDuration::from_secs(30));
        assert_eq!(f.notes.len(), 1, "tick-interval is not a key of config.go");
    }

    #[test]
    fn config_map_validation_follows_config_go() {
        for (yaml, path, message) in [
            (
                "scale-to-zero-grace-period: \"0s\"",
                "data[scale-to-zero-grace-period]",
                "must be positive",
            ),
            (
                "max-scale-up-rate: \"1\"",
                "data[max-scale-up-rate]",
                "must be greater than 1.0",
            ),
            (
                "max-scale-down-rate: \"0.5\"",
                "data[max-scale-down-rate]",
                "must be greater than 1.0",
            ),
            (
                "stable-window: \"2h\"",
                "data[stable-window]",
                "must be in [6s; 1h0m0s] range",
            ),
            (
                "initial-scale: \"0\"",
                "data[initial-scale]",
                "must be at least 0",
            ),
            (
                "target-burst-capacity: \"-5\"",
                "data[target-burst-capacity]",
                "non-negative or -1",
            ),
            (
                "min-scale: \"3\"\nmax-scale: \"2\"",
                "data[min-scale]",
                "must be less than max-scale",
            ),
            (
                "enable-scale-to-zero: \"yes\"",
                "data[enable-scale-to-zero]",
                "cannot be parsed",
            ),
            (
                "pod-autoscaler-class: hpa.autoscaling.knative.dev",
                "data[pod-autoscaler-class]",
                "not simulated",
            ),
        ] {
            let (c, f) = read_config(yaml);
            assert!(c.is_none(), "{yaml}");
            let ps = problems(&f);
            assert_eq!(ps[0].0, path, "{yaml}");
            assert!(ps[0].1.contains(message), "{yaml}: {}", ps[0].1);
        }
        let (c, _) = read_config("initial-scale: \"0\"\nallow-zero-initial-scale: \"true\"");
        assert_eq!(c.expect("valid").initial_scale, 0);
    }
}
