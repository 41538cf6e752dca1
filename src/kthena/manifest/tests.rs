//! The manifest reader on whole manifests. Long because each case is a manifest.

use super::*;
use crate::engine::policy::{
    Duration, MetricSource, ObjectReference, PodMetricSource, PrometheusMetricSource,
    ScalingTarget, SelectPolicy, StablePolicy, SubTarget,
};
use crate::kthena::defaults::{
    webhook_scale_down, webhook_scale_up_panic, webhook_scale_up_stable,
};

const V04_HOMOGENEOUS: &str = include_str!("../../../examples/manifests/v0.4/homogeneous.yaml");
const V04_HETEROGENEOUS: &str = include_str!("../../../examples/manifests/v0.4/heterogeneous.yaml");
const V04_ROLE_LEVEL: &str = include_str!("../../../examples/manifests/v0.4/role-level.yaml");
const V04_GUIDE: &str =
    include_str!("../../../examples/manifests/v0.4/guide-example-as-written.yaml");
const CURRENT_HOMOGENEOUS: &str =
    include_str!("../../../examples/manifests/current/homogeneous.yaml");
const CURRENT_HETEROGENEOUS: &str =
    include_str!("../../../examples/manifests/current/heterogeneous.yaml");
const CURRENT_DISAGGREGATED: &str =
    include_str!("../../../examples/manifests/current/disaggregated.yaml");

fn load(text: &str) -> ManifestSet {
    ManifestSet::from_sources(&[("test.yaml", text)])
}

fn problems(set: &ManifestSet) -> Vec<String> {
    set.problems()
        .iter()
        .map(|p| format!("{}: {}", p.path, p.message))
        .collect()
}

fn only_policy(text: &str) -> LoadedPolicy {
    let set = load(text);
    let policies = match set.policies() {
        Ok(p) => p,
        Err(e) => panic!("expected a valid set: {e}\n{:?}", problems(&set)),
    };
    assert_eq!(policies.len(), 1, "{policies:?}");
    policies[0].clone()
}

fn secs(s: i64) -> Option<Duration> {
    Some(Duration::from_millis(s * 1000))
}

fn stable(instances: i32, period: i64, window: i64) -> StablePolicy {
    StablePolicy {
        instances,
        percent: 100,
        period: secs(period),
        select_policy: SelectPolicy::Or,
        stabilization_window: secs(window),
    }
}

#[test]
fn v04_homogeneous_example_joins_binding_and_policy_with_defaults() {
    let loaded = only_policy(V04_HOMOGENEOUS);
    assert_eq!(loaded.api, ApiGeneration::V0_4);
    assert_eq!(loaded.api.engine_version(), EngineVersion::V0_4);
    let p = loaded.policy;
    assert_eq!(
        (p.namespace.as_str(), p.name.as_str()),
        ("default", "scaling-binding")
    );
    assert_eq!(p.generation, (1, 1));
    assert_eq!(p.uid, "");
    assert_eq!(p.tolerance_percent, 10);
    assert_eq!(p.metrics.len(), 1);
    assert_eq!(p.metrics[0].name, "kthena:num_requests_waiting");
    assert_eq!(p.metrics[0].target_value.as_f64(), 10.0);
    // Schema defaults inside the written objects (instances 1, percent 100, Or).
    assert_eq!(p.behavior.scale_up.stable_policy, stable(1, 30, 60));
    assert_eq!(p.behavior.scale_down, stable(1, 60, 300));
    let panic = &p.behavior.scale_up.panic_policy;
    assert_eq!(panic.percent, 1000);
    assert_eq!(panic.period, Duration::from_millis(30_000));
    assert_eq!(panic.panic_threshold_percent, Some(150));
    assert_eq!(panic.panic_mode_hold, secs(300));
    let ScalingTarget::Homogeneous(h) = p.target else {
        panic!("homogeneous expected");
    };
    assert_eq!((h.min_replicas, h.max_replicas), (2, 10));
    let target = h.target.expect("target");
    assert_eq!(target.target_ref.kind, "ModelServing");
    assert_eq!(target.target_ref.name, "example-model-serving");
    let endpoint = target.metric_endpoint.expect("metricEndpoint");
    assert_eq!(
        (endpoint.uri.as_str(), endpoint.port),
        ("/custom-metrics", 9090)
    );
    assert_eq!(target.metric_sources, None);
}

#[test]
fn v04_role_level_example_keeps_the_sub_target_and_no_endpoint() {
    let p = only_policy(V04_ROLE_LEVEL).policy;
    let ScalingTarget::Homogeneous(h) = p.target else {
        panic!("homogeneous expected");
    };
    let target = h.target.expect("target");
    assert_eq!(
        target.sub_target,
        Some(SubTarget {
            kind: "Role".into(),
            name: "prefill".into()
        })
    );
    // Not written, so not defaulted: the v0.4.0 collector then scrapes port 0
    // (docs/engine.md §14 item 12).
    assert_eq!(target.metric_endpoint, None);
    assert_eq!(p.metrics[0].target_value.as_str(), "4");
}

#[test]
fn v04_heterogeneous_example() {
    let p = only_policy(V04_HETEROGENEOUS).policy;
    let ScalingTarget::Heterogeneous(h) = p.target else {
        panic!("heterogeneous expected");
    };
    assert_eq!(h.cost_expansion_rate_percent, 20);
    let summary: Vec<(&str, i32, i32, i32)> = h
        .params
        .iter()
        .map(|p| {
            let t = p.target.as_ref().expect("target");
            (
                t.target_ref.name.as_str(),
                p.cost,
                p.min_replicas,
                p.max_replicas,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("gpu-serving-instance", 100, 1, 5),
            ("cpu-serving-instance", 30, 2, 8)
        ]
    );
}

#[test]
fn the_guide_example_is_refused_for_its_panic_policy_period() {
    let set = load(V04_GUIDE);
    assert_eq!(
        problems(&set),
        ["spec.behavior.scaleUp.panicPolicy.period: Required value"]
    );
    assert_eq!(
        set.problems()[0].place,
        crate::diagnostic::Place::Document {
            document: 1,
            item: None,
            line: 4
        }
    );
    assert_eq!(
        set.problems()[0].to_string(),
        "test.yaml: document 1 (line 4): spec.behavior.scaleUp.panicPolicy.period: Required value"
    );
    let Err(ManifestError::Invalid { count, first }) = set.policies() else {
        panic!("an invalid set has no policies");
    };
    assert_eq!(
        (count, first.path.as_str()),
        (1, "spec.behavior.scaleUp.panicPolicy.period")
    );
    // The binding itself is fine.
    let valid: Vec<(&str, bool)> = set
        .objects()
        .iter()
        .map(|o| (o.name.as_str(), o.valid))
        .collect();
    assert_eq!(
        valid,
        [("scaling-policy", false), ("scaling-binding", true)]
    );
}

#[test]
fn current_homogeneous_example() {
    let loaded = only_policy(CURRENT_HOMOGENEOUS);
    assert_eq!(loaded.api, ApiGeneration::Current);
    assert_eq!(loaded.api.engine_version(), EngineVersion::Head);
    let p = loaded.policy;
    assert_eq!((p.name.as_str(), p.generation), ("scaling-policy", (1, 0)));
    assert_eq!(p.metrics[0].name, "num_requests_waiting");
    let ScalingTarget::Homogeneous(h) = p.target else {
        panic!("homogeneous expected");
    };
    let sources = h
        .target
        .expect("target")
        .metric_sources
        .expect("metricSources");
    assert_eq!(
        sources.get("num_requests_waiting"),
        Some(&MetricSource::Pod(PodMetricSource {
            name: "kthena:num_requests_waiting".into(),
            uri: "/metrics".into(),
            port: 8000,
            label_selector: None,
        }))
    );
}

#[test]
fn current_heterogeneous_example_defaults_pod_sources() {
    let p = only_policy(CURRENT_HETEROGENEOUS).policy;
    let ScalingTarget::Heterogeneous(h) = p.target else {
        panic!("heterogeneous expected");
    };
    for param in &h.params {
        let sources = param
            .target
            .as_ref()
            .and_then(|t| t.metric_sources.as_ref());
        let Some(MetricSource::Pod(pod)) = sources.and_then(|s| s.get("num_requests_waiting"))
        else {
            panic!("pod source expected");
        };
        assert_eq!((pod.uri.as_str(), pod.port), ("/metrics", 8100));
    }
}

#[test]
fn current_disaggregated_example() {
    let p = only_policy(CURRENT_DISAGGREGATED).policy;
    assert_eq!(
        (p.namespace.as_str(), p.name.as_str()),
        ("llm", "pd-policy")
    );
    assert!(p.metrics.is_empty());
    assert_eq!(p.behavior.scale_up.panic_policy.percent, 200);
    let ScalingTarget::Disaggregated(d) = p.target else {
        panic!("disaggregated expected");
    };
    assert_eq!(
        d.target_ref,
        ObjectReference {
            api_version: "workload.serving.volcano.sh/v1alpha1".into(),
            kind: "ModelServing".into(),
            name: "llama-pd".into(),
            namespace: String::new(),
        }
    );
    let names: Vec<&str> = d.roles.keys().map(String::as_str).collect();
    assert_eq!(names, ["decode", "prefill"]);
    let prefill = &d.roles["prefill"];
    assert_eq!((prefill.min_replicas, prefill.max_replicas), (1, 8));
    assert!(matches!(
        prefill.metric_sources.as_ref().and_then(|s| s.get("prefill_waiting")),
        Some(MetricSource::Prometheus(PrometheusMetricSource { server_url, .. }))
            if server_url == "http://prometheus.monitoring.svc:9090"
    ));
    let ratio = d.ratio_constraint.expect("ratioConstraint");
    assert_eq!(
        (
            ratio.numerator_role.as_str(),
            ratio.denominator_role.as_str()
        ),
        ("prefill", "decode")
    );
    assert_eq!(
        (ratio.min_ratio.as_f64(), ratio.max_ratio.as_f64()),
        (0.25, 1.0)
    );
}

#[test]
fn without_behavior_the_webhook_defaults_apply() {
    let p = only_policy(
        "apiVersion: workload.serving.volcano.sh/v1alpha1
kind: AutoscalingPolicy
metadata: {name: p, namespace: team, generation: 7, uid: abc}
spec:
  metrics: [{name: q, targetValue: 500m}]
  heterogeneousTarget:
    params: [{target: {targetRef: {name: a}}, minReplicas: 0, maxReplicas: 3}]
",
    )
    .policy;
    assert_eq!(
        (p.namespace.as_str(), p.uid.as_str(), p.generation),
        ("team", "abc", (7, 0))
    );
    assert_eq!(p.tolerance_percent, 10);
    assert_eq!(p.metrics[0].target_value.as_f64(), 0.5);
    assert_eq!(p.behavior.scale_down, webhook_scale_down());
    assert_eq!(p.behavior.scale_up.stable_policy, webhook_scale_up_stable());
    assert_eq!(p.behavior.scale_up.panic_policy, webhook_scale_up_panic());
    let ScalingTarget::Heterogeneous(h) = p.target else {
        panic!("heterogeneous expected");
    };
    assert_eq!(h.cost_expansion_rate_percent, 200);
    assert_eq!(h.params[0].cost, 0);
}

const BEHAVIOUR_ONLY_POLICY: &str = "apiVersion: workload.serving.volcano.sh/v1alpha1
kind: AutoscalingPolicy
metadata: {name: p, generation: 3}
spec:
  behavior: {scaleDown: {}}
";

const BINDING_TO_P: &str = "apiVersion: workload.serving.volcano.sh/v1alpha1
kind: AutoscalingPolicyBinding
metadata: {name: b, generation: 2, uid: u-1}
spec:
  policyRef: {name: p}
  homogeneousTarget:
    minReplicas: 1
    maxReplicas: 4
    target:
      targetRef: {name: ms}
      metricEndpoint: {labelSelector: {matchLabels: {app: x}}}
";

#[test]
fn a_policy_with_only_behaviour_alone_reads_as_the_current_api() {
    let alone = load(BEHAVIOUR_ONLY_POLICY);
    assert_eq!(alone.objects()[0].api, Some(ApiGeneration::Current));
    assert_eq!(
        problems(&alone),
        ["spec: Invalid value: 0: exactly one of homogeneousTarget, heterogeneousTarget, or disaggregatedTarget must be set"]
    );
}

#[test]
fn a_v04_policy_needs_metrics_and_the_binding_joins_across_files() {
    let set = ManifestSet::from_sources(&[
        (
            "policy.yaml",
            BEHAVIOUR_ONLY_POLICY.replace(
                "  behavior:",
                "  metrics: [{metricName: m, targetValue: 2}]\n  behavior:",
            ),
        ),
        ("binding.yaml", BINDING_TO_P.to_string()),
    ]);
    let policies = set.policies().expect("valid");
    assert_eq!(policies.len(), 1);
    let loaded = &policies[0];
    assert_eq!(loaded.location.file, "binding.yaml");
    let p = &loaded.policy;
    assert_eq!(
        (p.name.as_str(), p.uid.as_str(), p.generation),
        ("b", "u-1", (3, 2))
    );
    // scaleDown: {} gets the schema defaults, then the webhook's 5 minute window.
    assert_eq!(p.behavior.scale_down, stable(1, 15, 300));
    let ScalingTarget::Homogeneous(h) = &p.target else {
        panic!("homogeneous expected");
    };
    let endpoint = h
        .target
        .as_ref()
        .and_then(|t| t.metric_endpoint.as_ref())
        .expect("endpoint");
    assert_eq!((endpoint.uri.as_str(), endpoint.port), ("/metrics", 8100));
    assert_eq!(
        endpoint
            .label_selector
            .as_ref()
            .map(|s| s.match_labels.len()),
        Some(1)
    );
}

#[test]
fn behaviour_only_policy_with_binding_reports_missing_v04_metrics() {
    let set =
        ManifestSet::from_sources(&[("a.yaml", BEHAVIOUR_ONLY_POLICY), ("b.yaml", BINDING_TO_P)]);
    assert_eq!(set.objects()[0].api, Some(ApiGeneration::V0_4));
    assert_eq!(problems(&set), ["spec.metrics: Required value"]);
}

#[test]
fn a_binding_to_a_current_api_policy_is_refused_with_a_hint() {
    let set = ManifestSet::from_sources(&[
        ("p.yaml", CURRENT_HOMOGENEOUS),
        (
            "b.yaml",
            &BINDING_TO_P.replace("name: p}", "name: scaling-policy}"),
        ),
    ]);
    assert_eq!(
        problems(&set),
        ["spec.PolicyRef: Invalid value: \"scaling-policy\": autoscaling policy resource scaling-policy does not exist"]
    );
    assert!(set
        .notes()
        .iter()
        .any(|n| n.path.as_str() == "spec.policyRef.name" && n.message.contains("current API")));
}

#[test]
fn unknown_fields_and_kinds_are_notes_not_problems() {
    let text = format!(
        "apiVersion: v1\nkind: Service\nmetadata: {{name: svc}}\n---\n{}",
        CURRENT_HOMOGENEOUS.replace(
            "  tolerancePercent: 10",
            "  tolerancePercent: 10\n  colour: blue"
        )
    );
    let set = load(&text);
    assert!(set.is_valid(), "{:?}", problems(&set));
    let notes: Vec<String> = set.notes().iter().map(|n| n.to_string()).collect();
    assert_eq!(
        notes,
        [
            "test.yaml: document 1 (line 1): kind Service (v1) is not read by this tool; ignored",
            "test.yaml: document 2 (line 6): spec.colour: unknown field, ignored (the API server prunes it)",
        ]
    );
    assert_eq!(set.objects().len(), 1);
}

#[test]
fn a_later_definition_replaces_an_earlier_one() {
    let second = CURRENT_HOMOGENEOUS.replace("tolerancePercent: 10", "tolerancePercent: 20");
    let set = ManifestSet::from_sources(&[("a.yaml", CURRENT_HOMOGENEOUS), ("b.yaml", &second)]);
    let policies = set.policies().expect("valid");
    assert_eq!(policies.len(), 1);
    assert_eq!(policies[0].policy.tolerance_percent, 20);
    assert_eq!(set.notes().len(), 1);
    assert!(set.notes()[0]
        .message
        .contains("replaces the one at a.yaml: document 1"));
    // v0.x and current policies of the same name live in different clusters.
    let set =
        ManifestSet::from_sources(&[("a.yaml", CURRENT_HOMOGENEOUS), ("b.yaml", V04_HOMOGENEOUS)]);
    assert_eq!(set.policies().map(<[_]>::len), Ok(2));
}

#[test]
fn syntax_errors_keep_their_position_and_spare_other_documents() {
    let text = format!("{CURRENT_HOMOGENEOUS}---\nkind: [\n  - x: y\n---\n- 1\n");
    let kind_line = CURRENT_HOMOGENEOUS.lines().count() + 2;
    let set = load(&text);
    let p = problems(&set);
    assert_eq!(p.len(), 2, "{p:?}");
    assert!(matches!(
        set.problems()[0].place,
        crate::diagnostic::Place::Document { line, .. } if line == kind_line
    ));
    assert!(p[0].starts_with(": invalid YAML: "), "{p:?}");
    assert!(
        p[0].contains(&format!("at line {}", kind_line + 1)),
        "{p:?}"
    );
    assert_eq!(
        p[1],
        ": a Kubernetes object must be a YAML mapping, not \"array\""
    );
    assert_eq!(set.objects().len(), 1);
    assert!(set.objects()[0].valid);
}

#[test]
fn header_problems() {
    let set = load("kind: AutoscalingPolicy\nmetadata: {name: x}\n---\napiVersion: workload.serving.volcano.sh/v1beta1\nkind: ModelServing\nmetadata: {}\nspec: {template: {roles: []}}\n");
    assert_eq!(
        problems(&set),
        [
            "apiVersion: Required value",
            "apiVersion: Unsupported value: \"workload.serving.volcano.sh/v1beta1\": supported values: \"workload.serving.volcano.sh/v1alpha1\"",
            "metadata.name: Required value: name or generateName is required",
        ]
    );
}

#[test]
fn current_api_metrics_spelt_the_v04_way_get_a_hint() {
    let text = CURRENT_HOMOGENEOUS.replace(
        "  - name: num_requests_waiting",
        "  - metricName: num_requests_waiting",
    );
    assert_eq!(
        problems(&load(&text)),
        ["spec.metrics[0].name: Required value: the current API calls this field name (metricName is the v0.x spelling)"]
    );
}

#[test]
fn model_servings_keep_what_the_simulator_needs() {
    let set = load(
        "apiVersion: workload.serving.volcano.sh/v1alpha1
kind: ModelServing
metadata: {name: llama-pd, namespace: llm}
spec:
  schedulerName: volcano
  template:
    restartGracePeriodSeconds: 30
    roles:
    - name: prefill
      replicas: 2
      entryTemplate: {spec: {containers: []}}
    - name: decode
      workerReplicas: 1
",
    );
    let servings = set.model_servings().expect("valid");
    assert!(
        set.notes().is_empty(),
        "unread ModelServing fields are not noted"
    );
    let ms = &servings[0];
    assert_eq!(
        (ms.namespace.as_str(), ms.name.as_str(), ms.replicas),
        ("llm", "llama-pd", None)
    );
    assert_eq!(
        ms.role("prefill"),
        Some(&ModelServingRole {
            name: "prefill".into(),
            replicas: Some(2),
            worker_replicas: None
        })
    );
    assert_eq!(ms.role("decode").and_then(|r| r.worker_replicas), Some(1));
    assert_eq!(set.objects()[0].kind.short_name(), "modelserving");
}

#[test]
fn model_serving_counts_and_role_names_are_checked() {
    let set = load(
        "apiVersion: workload.serving.volcano.sh/v1alpha1
kind: ModelServing
metadata: {name: ms}
spec:
  replicas: -1
  template:
    roles: [{name: a, replicas: 1}, {name: a, workerReplicas: -2}, {replicas: 1}]
",
    );
    assert_eq!(
        problems(&set),
        [
            "spec.replicas: Invalid value: -1: should be greater than or equal to 0",
            "spec.template.roles[1].name: Duplicate value: \"a\"",
            "spec.template.roles[1].workerReplicas: Invalid value: -2: should be greater than or equal to 0",
            "spec.template.roles[2].name: Required value",
        ]
    );
}

#[test]
fn an_empty_text_has_no_objects() {
    let set = load("# nothing here\n");
    assert!(set.is_valid());
    assert!(set.objects().is_empty() && set.notes().is_empty());
    assert_eq!(set.policies().map(<[_]>::len), Ok(0));
}
