//! The HPA reader: a full manifest, the K3 defaults, and each kind of problem with its path.

use yaml_serde::Value;

use super::{milli_value, read};
use crate::engine::policy::Quantity;
use crate::hpa::{
    Behavior, HpaSpec, MetricSpec, MetricTarget, PolicyKind, Rules, ScalingPolicy, SelectPolicy,
};
use crate::kthena::field::{FieldPath, Findings};
use crate::kthena::manifest::yaml_walk::Node;

fn run(yaml: &str) -> (Option<HpaSpec>, Vec<(String, String)>) {
    let v: Value = yaml_serde::from_str(yaml).expect("test YAML parses");
    let mut f = Findings::default();
    let out = read(
        &Node::new(&v, FieldPath::new("spec")),
        "llm",
        "default",
        &mut f,
    );
    let problems = (f.problems.iter())
        .map(|d| (d.path.as_str().to_string(), d.message.clone()))
        .collect();
    (out, problems)
}

fn ok(yaml: &str) -> HpaSpec {
    let (out, problems) = run(yaml);
    assert!(problems.is_empty(), "{problems:?}");
    out.expect("a spec")
}

/// The single problem of `yaml`: its path, and that its message contains `text`.
fn problem(yaml: &str, path: &str, text: &str) {
    let (out, problems) = run(yaml);
    assert!(out.is_none(), "{yaml}");
    assert!(
        problems.iter().any(|(p, m)| p == path && m.contains(text)),
        "want {path}: {text}; got {problems:?}"
    );
}

const BASE: &str =
    "scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: llm}\nmaxReplicas: 10\n";

fn with(extra: &str) -> String {
    format!("{BASE}{extra}")
}

#[test]
fn reads_the_manifest_of_the_spec() {
    let s = ok(r#"
scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: llm}
minReplicas: 2
maxReplicas: 10
metrics:
- type: Pods
  pods:
    metric: {name: vllm_num_requests_running}
    target: {type: AverageValue, averageValue: "8"}
- type: Resource
  resource: {name: cpu, target: {type: Utilization, averageUtilization: 60}}
- type: External
  external:
    metric: {name: s0-prometheus, selector: {matchLabels: {z: "1", scaledobject.keda.sh/name: llm}}}
    target: {type: AverageValue, averageValue: "500m"}
- type: Object
  object:
    describedObject: {apiVersion: v1, kind: Service, name: llm}
    metric: {name: requests_per_second}
    target: {type: Value, value: 100}
behavior:
  scaleUp:
    stabilizationWindowSeconds: 0
    selectPolicy: Max
    tolerance: "0.05"
    policies:
    - {type: Pods, value: 4, periodSeconds: 15}
    - {type: Percent, value: 100, periodSeconds: 15}
  scaleDown:
    selectPolicy: Min
"#);
    assert_eq!((s.name.as_str(), s.namespace.as_str()), ("llm", "default"));
    assert_eq!(
        (s.target_kind.as_str(), s.target.as_str()),
        ("Deployment", "llm")
    );
    assert_eq!((s.min_replicas, s.max_replicas), (2, 10));
    assert_eq!(s.metrics.len(), 4);
    assert_eq!(*s.metrics[0].target(), MetricTarget::AverageValue(8000));
    assert_eq!(*s.metrics[1].target(), MetricTarget::Utilization(60));
    let MetricSpec::External { metric, target } = &s.metrics[2] else {
        panic!("external")
    };
    assert_eq!(*target, MetricTarget::AverageValue(500));
    let labels: Vec<&str> = metric.selector.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(labels, ["scaledobject.keda.sh/name", "z"]);
    let MetricSpec::Object {
        described, target, ..
    } = &s.metrics[3]
    else {
        panic!("object")
    };
    assert_eq!(
        (described.kind.as_str(), *target),
        ("Service", MetricTarget::Value(100_000))
    );
    let b = s.behavior.expect("behavior");
    assert_eq!(b.scale_up.tolerance, Some(0.05));
    assert_eq!(
        b.scale_down,
        Rules {
            select_policy: SelectPolicy::Min,
            ..Rules::default_scale_down()
        }
    );
}

#[test]
fn defaults_of_k3() {
    let s = ok(BASE);
    assert_eq!(s.min_replicas, 1);
    assert_eq!(s.metrics, HpaSpec::default_metrics());
    assert_eq!(s.behavior, None, "no behavior stays the legacy path");
    assert_eq!(
        ok(&with("behavior: {}\n")).behavior,
        Some(Behavior::default())
    );
    // A policies list replaces the default one as a whole; the window stays the controller's.
    let s = ok(&with(
        "behavior:\n  scaleDown:\n    policies: [{type: Pods, value: 1, periodSeconds: 60}]\n",
    ));
    let down = s.behavior.expect("behavior").scale_down;
    assert_eq!(down.stabilization_window_s, None);
    assert_eq!(
        down.policies,
        [ScalingPolicy {
            kind: PolicyKind::Pods,
            value: 1,
            period_s: 60
        }]
    );
    // Disabled needs no policy.
    let s = ok(&with(
        "behavior:\n  scaleDown: {selectPolicy: Disabled, policies: []}\n",
    ));
    assert_eq!(
        s.behavior.expect("behavior").scale_down.select_policy,
        SelectPolicy::Disabled
    );
}

#[test]
fn replicas_are_checked() {
    problem(
        "scaleTargetRef: {kind: Deployment, name: llm}\n",
        "spec.maxReplicas",
        "Required value",
    );
    problem(
        &with("minReplicas: 11\n"),
        "spec.maxReplicas",
        "must be greater than or equal to `minReplicas` (11)",
    );
    problem(
        &with("minReplicas: 0\n"),
        "spec.minReplicas",
        "HPAScaleToZero",
    );
    problem(
        &with("minReplicas: -1\n"),
        "spec.minReplicas",
        "must be greater than or equal to 1",
    );
    problem(
        "scaleTargetRef: {kind: Deployment, name: llm}\nmaxReplicas: 0\n",
        "spec.maxReplicas",
        "must be greater than 0",
    );
    problem("maxReplicas: 3\n", "spec.scaleTargetRef", "Required value");
    problem(
        "scaleTargetRef: {kind: Deployment}\nmaxReplicas: 3\n",
        "spec.scaleTargetRef.name",
        "Required value",
    );
}

#[test]
fn unknown_fields_are_problems() {
    problem(&with("maxReplica: 3\n"), "spec.maxReplica", "unknown field");
    problem(
        &with("metrics:\n- type: Pods\n  pods: {metric: {name: q}, target: {type: AverageValue, averageValue: 1}, targt: 1}\n"),
        "spec.metrics[0].pods.targt",
        "unknown field",
    );
}

#[test]
fn metric_types_and_targets_must_agree() {
    let pods = |target: &str| {
        with(&format!(
            "metrics:\n- type: Pods\n  pods: {{metric: {{name: q}}, target: {target}}}\n"
        ))
    };
    problem(
        &pods("{type: Utilization, averageUtilization: 50}"),
        "spec.metrics[0].pods.target.type",
        "Unsupported value: \"Utilization\"",
    );
    problem(
        &pods("{type: AverageValue}"),
        "spec.metrics[0].pods.target.averageValue",
        "Required value",
    );
    problem(
        &pods("{type: AverageValue, averageValue: 1, value: 2}"),
        "spec.metrics[0].pods.target.value",
        "must be omitted when type is AverageValue",
    );
    problem(
        &pods("{type: AverageValue, averageValue: \"-1\"}"),
        "spec.metrics[0].pods.target.averageValue",
        "must be positive",
    );
    problem(
        &pods("{type: AverageValue, averageValue: ten}"),
        "spec.metrics[0].pods.target.averageValue",
        "quantities must match",
    );
    problem(
        &with("metrics:\n- type: Resource\n  resource: {name: cpu, target: {type: Utilization, averageUtilization: 0}}\n"),
        "spec.metrics[0].resource.target.averageUtilization",
        "must be greater than 0",
    );
    problem(
        &with("metrics:\n- type: Object\n  object: {describedObject: {kind: Service, name: s}, metric: {name: q}, target: {type: Utilization, averageUtilization: 5}}\n"),
        "spec.metrics[0].object.target.type",
        "Unsupported value",
    );
    problem(
        &with("metrics:\n- type: Pods\n  external: {metric: {name: q}, target: {type: Value, value: 1}}\n"),
        "spec.metrics[0].external",
        "must populate the given metric source only",
    );
    problem(
        &with("metrics:\n- type: Pods\n"),
        "spec.metrics[0].pods",
        "Required value",
    );
    problem(
        &with("metrics:\n- type: Cheddar\n"),
        "spec.metrics[0].type",
        "Unsupported value: \"Cheddar\"",
    );
}

#[test]
fn unsupported_features_are_refused_by_name() {
    problem(
        &with("metrics:\n- type: ContainerResource\n  containerResource: {name: cpu, container: c, target: {type: Utilization, averageUtilization: 5}}\n"),
        "spec.metrics[0].type",
        "`ContainerResource` is not supported by kthena-sim",
    );
    problem(
        &with("metrics:\n- type: External\n  external: {metric: {name: q, selector: {matchExpressions: []}}, target: {type: Value, value: 1}}\n"),
        "spec.metrics[0].external.metric.selector.matchExpressions",
        "not supported by kthena-sim",
    );
}

#[test]
fn behavior_ranges() {
    let up = |rules: &str| with(&format!("behavior:\n  scaleUp: {rules}\n"));
    problem(
        &up("{stabilizationWindowSeconds: 3601}"),
        "spec.behavior.scaleUp.stabilizationWindowSeconds",
        "must be less than or equal to 3600",
    );
    problem(
        &up("{stabilizationWindowSeconds: -1}"),
        "spec.behavior.scaleUp.stabilizationWindowSeconds",
        "must be greater than or equal to 0",
    );
    problem(
        &up("{selectPolicy: Fastest}"),
        "spec.behavior.scaleUp.selectPolicy",
        "Unsupported value: \"Fastest\"",
    );
    problem(
        &up("{policies: []}"),
        "spec.behavior.scaleUp.policies",
        "must specify at least one Policy",
    );
    problem(
        &up("{policies: [{type: Pods, value: 0, periodSeconds: 15}]}"),
        "spec.behavior.scaleUp.policies[0].value",
        "must be greater than zero",
    );
    problem(
        &up("{policies: [{type: Pods, value: 1, periodSeconds: 0}]}"),
        "spec.behavior.scaleUp.policies[0].periodSeconds",
        "must be greater than or equal to 1",
    );
    problem(
        &up("{policies: [{type: Pods, value: 1, periodSeconds: 1801}]}"),
        "spec.behavior.scaleUp.policies[0].periodSeconds",
        "must be less than or equal to 1800",
    );
    problem(
        &up("{policies: [{type: Replicas, value: 1, periodSeconds: 15}]}"),
        "spec.behavior.scaleUp.policies[0].type",
        "Unsupported value",
    );
    problem(
        &up("{tolerance: \"-0.1\"}"),
        "spec.behavior.scaleUp.tolerance",
        "must be greater than or equal to 0",
    );
}

#[test]
fn milli_values_round_up_like_kubernetes() {
    for (text, milli) in [
        ("1.1", 1100),
        ("8", 8000),
        ("500m", 500),
        ("0.0001", 1),
        ("1.0005", 1001),
        ("2k", 2_000_000),
        ("1Ki", 1_024_000),
        ("0.3", 300),
        ("4.35", 4350),
    ] {
        let q = Quantity::parse(text).expect("parses");
        assert_eq!(milli_value(&q), milli, "{text}");
    }
}
