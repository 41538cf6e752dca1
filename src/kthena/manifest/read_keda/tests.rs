//! The ScaledObject reader: a valid object, defaults, each kind of error, and KEDA's
//! `testPromMetadata` table (kedacore/keda `pkg/scalers/prometheus_scaler_test.go`; its cases
//! have no names upstream, so they are listed by their comment there).

use super::*;
use crate::hpa::{MetricTarget, Rules};

fn read(yaml: &str) -> (Option<ScaledObjectSpec>, Vec<String>, Vec<String>) {
    let v: Value = yaml_serde::from_str(yaml).expect("test YAML parses");
    let mut f = Findings::default();
    let so = scaled_object(
        "llm",
        "default",
        &Node::new(&v, FieldPath::new("spec")),
        &mut f,
    );
    let show = |d: &crate::diagnostic::Diagnostic| format!("{}: {}", d.path.as_str(), d.message);
    (
        so,
        f.problems.iter().map(show).collect(),
        f.notes.iter().map(show).collect(),
    )
}

const MINIMAL: &str = "
scaleTargetRef: {name: llm}
triggers:
- type: prometheus
  metadata: {serverAddress: 'http://prometheus:9090', query: 'sum(q)', threshold: '5'}
";

#[test]
fn a_minimal_object_gets_the_defaults_of_section_3_2() {
    let (so, problems, notes) = read(MINIMAL);
    assert_eq!(
        (problems.len(), notes.len()),
        (0, 0),
        "{problems:?} {notes:?}"
    );
    let so = so.expect("valid");
    let expected = ScaledObjectSpec::with_defaults(
        "llm",
        "default",
        "llm",
        vec![Trigger::prometheus("http://prometheus:9090", "sum(q)", 5.0)],
    );
    assert_eq!(so, expected);
    assert_eq!(so.polling_interval_s, 30);
    assert_eq!(so.cooldown_period_s, 300);
    assert_eq!(so.max_replica_count, 100);
    assert_eq!(so.hpa_name, "keda-hpa-llm");
}

#[test]
fn the_example_of_section_3_1_reads_whole() {
    let (so, problems, notes) = read(
        "
scaleTargetRef: {name: llm, kind: Deployment, apiVersion: apps/v1}
pollingInterval: 15
cooldownPeriod: 120
initialCooldownPeriod: 60
minReplicaCount: 1
maxReplicaCount: 10
idleReplicaCount: 0
fallback: {failureThreshold: 3, replicas: 6, behavior: currentReplicasIfHigher}
advanced:
  restoreToOriginalReplicaCount: false
  horizontalPodAutoscalerConfig:
    name: my-hpa
    behavior:
      scaleDown:
        stabilizationWindowSeconds: 60
        policies: [{type: Percent, value: 50, periodSeconds: 15}]
triggers:
- type: prometheus
  name: queue
  metricType: Value
  useCachedMetrics: true
  metadata:
    serverAddress: http://prometheus:9090
    query: sum(vllm:num_requests_waiting{model_name=\"llm\"})
    threshold: '2.5'
    activationThreshold: '1'
    ignoreNullValues: 'false'
",
    );
    assert!(
        problems.is_empty() && notes.is_empty(),
        "{problems:?} {notes:?}"
    );
    let so = so.expect("valid");
    assert_eq!(
        (
            so.polling_interval_s,
            so.cooldown_period_s,
            so.initial_cooldown_period_s
        ),
        (15, 120, 60)
    );
    assert_eq!(
        (
            so.min_replica_count,
            so.max_replica_count,
            so.idle_replica_count
        ),
        (1, 10, Some(0))
    );
    assert_eq!(
        so.fallback,
        Some(Fallback {
            failure_threshold: 3,
            replicas: 6,
            behavior: FallbackBehavior::CurrentReplicasIfHigher
        })
    );
    assert_eq!(so.hpa_name, "my-hpa");
    let b = so.behavior.clone().expect("behavior");
    assert_eq!(b.scale_up, Rules::default_scale_up());
    assert_eq!(b.scale_down.stabilization_window_s, Some(60));
    assert_eq!(b.scale_down.policies[0].value, 50);
    let t = &so.triggers[0];
    assert_eq!(t.name.as_deref(), Some("queue"));
    assert_eq!(t.metric_type, MetricType::Value);
    assert!(t.use_cached_metrics && !t.ignore_null_values);
    assert_eq!((t.threshold, t.activation_threshold), (2.5, 1.0));
    assert_eq!(so.hpa().metrics[0].target(), &MetricTarget::Value(2500));
}

#[test]
fn each_kind_of_error_has_its_field_path() {
    let cases: [(&str, &str); 17] = [
        ("scaleTargetRef: {name: llm}\ntriggers: []", "spec.triggers: Invalid value: []: should have at least 1 items"),
        ("scaleTargetRef: {name: llm}\nreplicas: 3\ntriggers: [{type: prometheus, metadata: {serverAddress: a, query: q, threshold: '1'}}]", "spec.replicas: unknown field"),
        ("triggers: [{type: prometheus, metadata: {serverAddress: a, query: q, threshold: '1'}}]", "spec.scaleTargetRef: Required value"),
        ("scaleTargetRef: {name: llm}\nminReplicaCount: 5\nmaxReplicaCount: 2\ntriggers: [{type: prometheus, metadata: {serverAddress: a, query: q, threshold: '1'}}]", "spec.minReplicaCount: Invalid value: 5: minReplicaCount must be less than or equal to maxReplicaCount"),
        ("scaleTargetRef: {name: llm}\nminReplicaCount: 2\nidleReplicaCount: 2\ntriggers: [{type: prometheus, metadata: {serverAddress: a, query: q, threshold: '1'}}]", "spec.idleReplicaCount: Invalid value: 2: IdleReplicaCount=2 must be less than MinReplicaCount=2"),
        ("scaleTargetRef: {name: llm}\nidleReplicaCount: 0\ntriggers: [{type: prometheus, metadata: {serverAddress: a, query: q, threshold: '1'}}]", "spec.idleReplicaCount: Invalid value: 0: IdleReplicaCount=0 must be less than MinReplicaCount=0"),
        ("scaleTargetRef: {name: llm}\npollingInterval: 0\ntriggers: [{type: prometheus, metadata: {serverAddress: a, query: q, threshold: '1'}}]", "spec.pollingInterval: Invalid value: 0: should be greater than or equal to 1"),
        ("scaleTargetRef: {name: llm}\nfallback: {failureThreshold: -1, replicas: 2}\ntriggers: [{type: prometheus, metadata: {serverAddress: a, query: q, threshold: '1'}}]", "spec.fallback.failureThreshold: Invalid value: -1: should be greater than or equal to 0"),
        ("scaleTargetRef: {name: llm}\nfallback: {failureThreshold: 1, replicas: 2, behavior: sometimes}\ntriggers: [{type: prometheus, metadata: {serverAddress: a, query: q, threshold: '1'}}]", "spec.fallback.behavior: Unsupported value: \"sometimes\": supported values: \"static\", \"currentReplicas\", \"currentReplicasIfHigher\", \"currentReplicasIfLower\""),
        ("scaleTargetRef: {name: llm}\ntriggers: [{type: prometheus, metricType: Utilization, metadata: {serverAddress: a, query: q, threshold: '1'}}]", "spec.triggers[0].metricType: Invalid value: \"Utilization\": scaler doesn't support Utilization metric type: only AverageValue and Value are supported for external metrics"),
        ("scaleTargetRef: {name: llm}\ntriggers: [{type: kafka, metadata: {topic: t}}]", "spec.triggers[0].type: trigger type `kafka` is not supported by kthena-sim: it simulates Prometheus triggers only"),
        ("scaleTargetRef: {name: llm}\ntriggers: [{type: cpu, metricType: Utilization, metadata: {value: '60'}}]", "spec.triggers[0].type: trigger type `cpu` is not supported by kthena-sim: it simulates Prometheus triggers only"),
        ("scaleTargetRef: {name: llm}\ntriggers: [{type: prometheus, metadata: {serverAddress: a, query: q, threshold: 5}}]", "spec.triggers[0].metadata.threshold: Invalid value: 5: must be of type string"),
        ("scaleTargetRef: {name: llm}\ntriggers: [{type: prometheus, metadata: {serverAddress: a, query: q, threshold: '0.0001'}}]", "spec.triggers[0].metadata.threshold: Invalid value: \"0.0001\": must be positive: it is the HPA target (in milli units after rounding to 3 decimals)"),
        ("scaleTargetRef: {name: llm}\nadvanced: {scalingModifiers: {formula: 's0 + s1', target: '5'}}\ntriggers: [{type: prometheus, metadata: {serverAddress: a, query: q, threshold: '1'}}]", "spec.advanced.scalingModifiers: scalingModifiers is not supported by kthena-sim: composite formulas over triggers are not simulated"),
        ("scaleTargetRef: {name: llm}\ntriggers: [{type: prometheus, name: a, metadata: {serverAddress: a, query: q, threshold: '1'}}, {type: prometheus, name: a, metadata: {serverAddress: a, query: q, threshold: '1'}}]", "spec.triggers[1].name: Invalid value: \"a\": triggerName \"a\" is defined multiple times in the ScaledObject, but it must be unique"),
        ("scaleTargetRef: {name: llm}\nadvanced: {horizontalPodAutoscalerConfig: {behavior: {scaleUp: {policies: [{type: Pods, value: 0, periodSeconds: 15}]}}}}\ntriggers: [{type: prometheus, metadata: {serverAddress: a, query: q, threshold: '1'}}]", "spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleUp.policies[0].value: Invalid value: 0: must be greater than zero"),
    ];
    for (yaml, expected) in cases {
        let (so, problems, _) = read(yaml);
        assert!(so.is_none(), "{expected}");
        assert_eq!(problems, [expected], "{yaml}");
    }
}

#[test]
fn authentication_is_accepted_with_a_note() {
    let (so, problems, notes) = read(
        "
scaleTargetRef: {name: llm}
triggers:
- type: prometheus
  authenticationRef: {name: prom-auth}
  metadata: {serverAddress: a, query: q, threshold: '1', authModes: basic, extra: x}
",
    );
    assert!(so.is_some() && problems.is_empty(), "{problems:?}");
    assert_eq!(
        notes,
        [
            "spec.triggers[0].authenticationRef: authentication is not simulated: the simulated \
             Prometheus answers without credentials",
            "spec.triggers[0].metadata.authModes: authentication is not simulated: the \
             simulated Prometheus answers without credentials",
            "spec.triggers[0].metadata.extra: unknown metadata key, ignored (KEDA checks trigger \
             metadata only with KEDA_CHECK_UNEXPECTED_SCALERS_PARAMS=enabled)",
        ]
    );
}

#[test]
fn test_prom_metadata() {
    // kedacore/keda testPromMetadata, in order: (metadata, isError).
    let base = "serverAddress: http://localhost:9090, metricName: http_requests_total, threshold: '100', query: up";
    let cases: [(&str, bool); 19] = [
        ("{}", true),
        // all properly formed
        (&format!("{{{base}}}"), false),
        // all properly formed, with namespace
        ("{serverAddress: http://localhost:9090, threshold: '100', query: up, namespace: foo}", false),
        // all properly formed, with ignoreNullValues
        (&format!("{{{base}, ignoreNullValues: 'false'}}"), false),
        // all properly formed, with activationThreshold
        (&format!("{{{base}, activationThreshold: '50'}}"), false),
        // missing serverAddress
        ("{serverAddress: '', metricName: http_requests_total, threshold: '100', query: up}", true),
        // missing threshold
        ("{serverAddress: http://localhost:9090, metricName: http_requests_total, query: up}", true),
        // malformed threshold
        ("{serverAddress: http://localhost:9090, metricName: http_requests_total, threshold: one, query: up}", true),
        // malformed threshold (activationThreshold)
        (&format!("{{{base}, activationThreshold: one}}"), true),
        // missing query
        ("{serverAddress: http://localhost:9090, metricName: http_requests_total, threshold: '100', query: ''}", true),
        // ignoreNullValues with wrong value
        (&format!("{{{base}, ignoreNullValues: xxxx}}"), true),
        // unsafeSsl
        (&format!("{{{base}, unsafeSsl: 'true'}}"), false),
        // customHeaders
        (&format!("{{{base}, customHeaders: 'key1=value1,key2=value2'}}"), false),
        // customHeaders with wrong format
        (&format!("{{{base}, customHeaders: 'key1=value1,key2'}}"), true),
        // queryParameters
        (&format!("{{{base}, queryParameters: 'key1=value1,key2=value2'}}"), false),
        // queryParameters with wrong format
        (&format!("{{{base}, queryParameters: 'key1=value1,key2'}}"), true),
        // valid custom http client timeout
        (&format!("{{{base}, timeout: '1000'}}"), false),
        // invalid - negative - custom http client timeout
        (&format!("{{{base}, timeout: '-1'}}"), true),
        // invalid - not a number - custom http client timeout with milliseconds
        (&format!("{{{base}, timeout: a}}"), true),
    ];
    for (i, (metadata, is_error)) in cases.iter().enumerate() {
        let yaml = format!(
            "scaleTargetRef: {{name: llm}}\ntriggers: [{{type: prometheus, metadata: {metadata}}}]"
        );
        let (so, problems, _) = read(&yaml);
        assert_eq!(so.is_none(), *is_error, "case {i}: {metadata} {problems:?}");
        assert_eq!(!problems.is_empty(), *is_error, "case {i}: {problems:?}");
    }
}

#[test]
fn numbers_follow_json_syntax() {
    for (s, ok) in [
        ("100", true),
        ("-5", true),
        ("1.5e3", true),
        ("0.25", true),
        ("+5", false),
        (".5", false),
        ("5.", false),
        ("01", false),
        ("NaN", false),
        ("1e400", false),
    ] {
        let mut f = Findings::default();
        assert_eq!(number(&FieldPath::new("x"), s, &mut f).is_some(), ok, "{s}");
    }
}
