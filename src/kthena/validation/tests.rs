//! Each schema rule, CEL rule and webhook check, with its exact message, through whole
//! manifests (so the field paths are the reader's) and, where the pipeline cannot reach a
//! check, by calling it directly.
//!
//! Long because every rule has its case.

use super::*;
use crate::kthena::manifest::raw::RawHomogeneous;
use crate::kthena::manifest::ManifestSet;

fn problems_of(text: &str) -> Vec<String> {
    ManifestSet::from_sources(&[("t.yaml", text)])
        .problems()
        .iter()
        .map(|p| format!("{}: {}", p.path, p.message))
        .collect()
}

fn object(kind: &str, name: &str, spec: &str) -> String {
    format!(
        "apiVersion: workload.serving.volcano.sh/v1alpha1\nkind: {kind}\nmetadata: {{name: {name}}}\nspec:\n{spec}"
    )
}

/// A valid current-API homogeneous policy with `extra` lines added to its spec.
fn current(extra: &str) -> Vec<String> {
    problems_of(&object(
        "AutoscalingPolicy",
        "p",
        &format!(
            "  metrics: [{{name: m, targetValue: 1}}]\n  homogeneousTarget: {{minReplicas: 1, maxReplicas: 2, target: {{targetRef: {{name: ms}}}}}}\n{extra}"
        ),
    ))
}

/// A current-API policy with exactly the given spec.
fn current_spec(spec: &str) -> Vec<String> {
    problems_of(&object("AutoscalingPolicy", "p", spec))
}

/// A v0.x policy with `spec` and a binding to it with `binding_spec`.
fn v04(spec: &str, binding_spec: &str) -> Vec<String> {
    let binding = object("AutoscalingPolicyBinding", "b", binding_spec);
    problems_of(&format!(
        "{}---\n{binding}",
        object("AutoscalingPolicy", "p", spec)
    ))
}

const V04_POLICY: &str = "  metrics: [{metricName: m, targetValue: 1}]\n";
const V04_BINDING: &str =
    "  policyRef: {name: p}\n  homogeneousTarget: {minReplicas: 1, maxReplicas: 2, target: {targetRef: {name: ms}}}\n";

#[test]
fn valid_baselines_have_no_problems() {
    assert_eq!(current(""), Vec::<String>::new());
    assert_eq!(v04(V04_POLICY, V04_BINDING), Vec::<String>::new());
}

#[test]
fn schema_ranges() {
    let cases = [
        ("  tolerancePercent: -1", "spec.tolerancePercent: Invalid value: -1: should be greater than or equal to 0"),
        ("  tolerancePercent: 101", "spec.tolerancePercent: Invalid value: 101: should be less than or equal to 100"),
        ("  behavior: {scaleDown: {instances: -1}}", "spec.behavior.scaleDown.instances: Invalid value: -1: should be greater than or equal to 0"),
        ("  behavior: {scaleDown: {percent: 1001}}", "spec.behavior.scaleDown.percent: Invalid value: 1001: should be less than or equal to 1000"),
        ("  behavior: {scaleUp: {stablePolicy: {percent: -5}}}", "spec.behavior.scaleUp.stablePolicy.percent: Invalid value: -5: should be greater than or equal to 0"),
        ("  behavior: {scaleUp: {panicPolicy: {period: 1s, percent: 1001}}}", "spec.behavior.scaleUp.panicPolicy.percent: Invalid value: 1001: should be less than or equal to 1000"),
        ("  behavior: {scaleUp: {panicPolicy: {period: 1s, panicThresholdPercent: 109}}}", "spec.behavior.scaleUp.panicPolicy.panicThresholdPercent: Invalid value: 109: should be greater than or equal to 110"),
        ("  behavior: {scaleUp: {panicPolicy: {period: 1s, panicThresholdPercent: 1001}}}", "spec.behavior.scaleUp.panicPolicy.panicThresholdPercent: Invalid value: 1001: should be less than or equal to 1000"),
    ];
    for (extra, expected) in cases {
        assert_eq!(current(extra), [expected], "{extra}");
    }
    for extra in [
        "  tolerancePercent: 0",
        "  tolerancePercent: 100",
        "  behavior: {scaleUp: {panicPolicy: {period: 1s, panicThresholdPercent: 110, percent: 0}}}",
        "  behavior: {scaleUp: {panicPolicy: {period: 1s, panicThresholdPercent: 1000, percent: 1000}}}",
    ] {
        assert_eq!(current(extra), Vec::<String>::new(), "{extra}");
    }
}

#[test]
fn schema_replica_bounds_and_lists() {
    let target = "target: {targetRef: {name: ms}}";
    let cases = [
        (
            format!("  homogeneousTarget: {{minReplicas: 1000001, maxReplicas: 0, {target}}}"),
            vec![
                "spec.homogeneousTarget.minReplicas: Invalid value: 1000001: should be less than or equal to 1000000",
                "spec.homogeneousTarget.maxReplicas: Invalid value: 0: should be greater than or equal to 1",
            ],
        ),
        (
            "  heterogeneousTarget: {params: []}".to_string(),
            vec!["spec.heterogeneousTarget.params: Invalid value: 0: should have at least 1 items"],
        ),
        (
            format!("  heterogeneousTarget: {{costExpansionRatePercent: -1, params: [{{cost: -1, minReplicas: -1, maxReplicas: 1000001, {target}}}]}}"),
            vec![
                "spec.heterogeneousTarget.costExpansionRatePercent: Invalid value: -1: should be greater than or equal to 0",
                "spec.heterogeneousTarget.params[0].cost: Invalid value: -1: should be greater than or equal to 0",
                "spec.heterogeneousTarget.params[0].minReplicas: Invalid value: -1: should be greater than or equal to 0",
                "spec.heterogeneousTarget.params[0].maxReplicas: Invalid value: 1000001: should be less than or equal to 1000000",
            ],
        ),
        (
            "  homogeneousTarget: {target: {}}".to_string(),
            vec![
                "spec.homogeneousTarget.minReplicas: Required value",
                "spec.homogeneousTarget.maxReplicas: Required value",
                "spec.homogeneousTarget.target.targetRef: Required value",
            ],
        ),
    ];
    for (target_yaml, expected) in cases {
        let spec = format!("  metrics: [{{name: m, targetValue: 1}}]\n{target_yaml}\n");
        assert_eq!(current_spec(&spec), expected, "{target_yaml}");
    }
}

#[test]
fn metric_sources_one_of_and_pod_and_prometheus_rules() {
    let spec = |sources: &str| {
        format!(
            "  metrics: [{{name: m, targetValue: 1}}]\n  homogeneousTarget: {{minReplicas: 1, maxReplicas: 2, target: {{targetRef: {{name: ms}}, metricSources: {sources}}}}}\n"
        )
    };
    let path = "spec.homogeneousTarget.target.metricSources";
    assert_eq!(
        current_spec(&spec("{m: {}}")),
        [format!(
            "{path}[m]: Invalid value: \"object\": one metric source backend config is required"
        )]
    );
    assert_eq!(
        current_spec(&spec("{m: {pod: {}, prometheus: {serverURL: 'http://p:9090', query: up}}}")),
        [format!("{path}[m]: Invalid value: \"object\": pod and prometheus configs are mutually exclusive")]
    );
    assert_eq!(
        current_spec(&spec("{m: {pod: {uri: metrics, port: 65536}}}")),
        [
            format!("{path}[m].pod.uri: Invalid value: \"metrics\": should match '^/'"),
            format!(
                "{path}[m].pod.port: Invalid value: 65536: should be less than or equal to 65535"
            ),
        ]
    );
    assert_eq!(
        current_spec(&spec(
            "{m: {prometheus: {serverURL: 'not a url', query: ''}}}"
        )),
        [
            format!(
                "{path}[m].prometheus.serverURL: Invalid value: \"not a url\": must be of type uri"
            ),
            format!(
                "{path}[m].prometheus.query: Invalid value: \"\": should be at least 1 chars long"
            ),
        ]
    );
    assert_eq!(
        current_spec(&spec("{m: {prometheus: {auth: {token: x}}}}")),
        [
            format!("{path}[m].prometheus.serverURL: Required value"),
            format!("{path}[m].prometheus.query: Required value"),
        ]
    );
    // An undeclared source key is not checked for homogeneous targets (docs/engine.md §4.5.1).
    assert_eq!(
        current_spec(&spec("{other: {pod: {port: 1}}}")),
        Vec::<String>::new()
    );
}

#[test]
fn label_selectors() {
    let spec = |selector: &str| {
        format!(
            "  metrics: [{{name: m, targetValue: 1}}]\n  homogeneousTarget: {{minReplicas: 1, maxReplicas: 2, target: {{targetRef: {{name: ms}}, metricSources: {{m: {{pod: {{labelSelector: {selector}}}}}}}}}}}\n"
        )
    };
    let path = "spec.homogeneousTarget.target.metricSources[m].pod.labelSelector.matchExpressions";
    assert_eq!(
        current_spec(&spec("{matchExpressions: [{key: a, operator: Like, values: [x]}]}")),
        [format!("{path}[0].operator: Unsupported value: \"Like\": supported values: \"In\", \"NotIn\", \"Exists\", \"DoesNotExist\"")]
    );
    assert_eq!(
        current_spec(&spec("{matchExpressions: [{key: a, operator: In}, {key: b, operator: Exists, values: [x]}]}")),
        [
            format!("{path}[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"),
            format!("{path}[1].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"),
        ]
    );
    assert_eq!(
        current_spec(&spec(
            "{matchLabels: {app: x}, matchExpressions: [{key: a, operator: NotIn, values: [y]}]}"
        )),
        Vec::<String>::new()
    );
}

#[test]
fn enums_durations_and_quantities_are_decoded() {
    assert_eq!(
        current("  behavior: {scaleDown: {selectPolicy: or}}"),
        ["spec.behavior.scaleDown.selectPolicy: Unsupported value: \"or\": supported values: \"Or\", \"And\""]
    );
    assert_eq!(
        current("  behavior: {scaleDown: {period: 5d}}"),
        ["spec.behavior.scaleDown.period: Invalid value: \"5d\": time: unknown unit in duration \"5d\""]
    );
    assert_eq!(
        current("  behavior: {scaleDown: {period: 15}}"),
        ["spec.behavior.scaleDown.period: Invalid value: 15: must be of type string (a Go duration such as \"30s\" or \"0\")"]
    );
    let spec = "  metrics: [{name: m, targetValue: 1O}]\n  homogeneousTarget: {minReplicas: 1, maxReplicas: 2, target: {targetRef: {name: ms}}}\n";
    let p = current_spec(spec);
    assert_eq!(p.len(), 1);
    assert!(
        p[0].starts_with(
            "spec.metrics[0].targetValue: Invalid value: \"1O\": quantities must match"
        ),
        "{p:?}"
    );
    for ok in ["1m30s", "'0'", "500ms", "0s", "30m"] {
        assert_eq!(
            current(&format!("  behavior: {{scaleDown: {{period: {ok}}}}}")),
            Vec::<String>::new(),
            "{ok}"
        );
    }
}

#[test]
fn the_webhook_duration_range_is_zero_to_thirty_minutes() {
    assert_eq!(
        current("  behavior: {scaleDown: {period: 30m0.001s}}"),
        ["spec.behavior.scaleDown.period: Invalid value: 30m0.001s: stable policy period must be between 0 and 30 minutes"]
    );
    assert_eq!(
        current("  behavior: {scaleDown: {stabilizationWindow: -1s}}"),
        ["spec.behavior.scaleDown.stabilizationWindow: Invalid value: -1s: stable policy stabilization window must be between 0 and 30 minutes"]
    );
}

#[test]
fn current_webhook_reports_in_its_order() {
    let spec = "  metrics: [{name: a, targetValue: 0}, {name: a, targetValue: 1}]
  homogeneousTarget: {minReplicas: 1, maxReplicas: 2, target: {targetRef: {kind: Pod}}}
  behavior:
    scaleDown: {period: 31m}
    scaleUp:
      stablePolicy: {stabilizationWindow: -1s}
      panicPolicy: {period: 45m, panicModeHold: 31m}
";
    assert_eq!(
        current_spec(spec),
        [
            "spec.metrics[0].targetValue: Invalid value: \"0\": metric target value must be greater than 0 and not equal to infinity",
            "spec.metrics[1].name: Invalid value: \"a\": duplicate metric name a is not allowed",
            "spec.homogeneousTarget.target.targetRef.kind: Invalid value: \"Pod\": targetRef.kind must be ModelServing, but got Pod",
            "spec.homogeneousTarget.target.targetRef.name: Invalid value: \"\": targetRef.name must be set, but got empty",
            "spec.behavior.scaleDown.period: Invalid value: 31m0s: stable policy period must be between 0 and 30 minutes",
            "spec.behavior.scaleUp.stablePolicy.stabilizationWindow: Invalid value: -1s: stable policy stabilization window must be between 0 and 30 minutes",
            "spec.behavior.scaleUp.panicPolicy.period: Invalid value: 45m0s: panic policy period must be between 0 and 30 minutes",
            "spec.behavior.scaleUp.panicPolicy.panicModeHold: Invalid value: 31m0s: panic policy panic mode hold must be between 0 and 30 minutes",
        ]
    );
}

#[test]
fn current_webhook_target_count_and_metrics() {
    let exactly_one =
        "exactly one of homogeneousTarget, heterogeneousTarget, or disaggregatedTarget must be set";
    assert_eq!(
        current_spec("  metrics: [{name: m, targetValue: 1}]\n"),
        [format!("spec: Invalid value: 0: {exactly_one}")]
    );
    assert_eq!(
        current("  heterogeneousTarget: {params: [{minReplicas: 1, maxReplicas: 2}]}"),
        [format!("spec: Invalid value: 2: {exactly_one}")]
    );
    assert_eq!(
        current_spec("  homogeneousTarget: {minReplicas: 1, maxReplicas: 2, target: {targetRef: {name: ms}}}\n"),
        ["spec.metrics: Required value: at least one metric must be set"]
    );
    assert_eq!(
        current_spec("  metrics: [{name: m, targetValue: 1}]\n  heterogeneousTarget: {params: [{minReplicas: 1, maxReplicas: 2}]}\n"),
        ["spec.heterogeneousTarget.params[0].target.targetRef.name: Invalid value: \"\": targetRef.name must be set, but got empty"]
    );
    assert_eq!(
        current_spec("  metrics: [{name: '', targetValue: 1}]\n  homogeneousTarget: {minReplicas: 1, maxReplicas: 2, target: {targetRef: {name: ms}}}\n"),
        ["spec.metrics[0].name: Invalid value: \"\": should be at least 1 chars long"]
    );
}

#[test]
fn the_webhook_is_not_consulted_for_an_object_the_schema_refused() {
    // A duplicate metric name alone is a webhook finding...
    let dup = "  metrics: [{name: a, targetValue: 1}, {name: a, targetValue: 1}]\n  homogeneousTarget: {minReplicas: 1, maxReplicas: 2, target: {targetRef: {name: ms}}}\n";
    assert_eq!(current_spec(dup).len(), 1);
    // ...and is not reported while the schema refuses the object.
    assert_eq!(
        current_spec(&format!("{dup}  tolerancePercent: 200\n")),
        ["spec.tolerancePercent: Invalid value: 200: should be less than or equal to 100"]
    );
}

const DISAGGREGATED: &str = "  disaggregatedTarget:
    targetRef: {name: ms}
    roles:
      prefill: {minReplicas: 1, maxReplicas: 4, metrics: [{name: a, targetValue: 1}], metricSources: {a: {pod: {}}}}
      decode: {minReplicas: 1, maxReplicas: 8, metrics: [{name: b, targetValue: 1}], metricSources: {b: {pod: {}}}}
    ratioConstraint: {numeratorRole: prefill, denominatorRole: decode, minRatio: '0.25', maxRatio: '1'}
";

fn disaggregated(replacements: &[(&str, &str)]) -> Vec<String> {
    let mut spec = DISAGGREGATED.to_string();
    for (from, to) in replacements {
        assert!(spec.contains(from), "{from}");
        spec = spec.replacen(from, to, 1);
    }
    current_spec(&spec)
}

const PREFILL: &str = "prefill: {minReplicas: 1, maxReplicas: 4, metrics: [{name: a, targetValue: 1}], metricSources: {a: {pod: {}}}}";
const DECODE: &str = "decode: {minReplicas: 1, maxReplicas: 8, metrics: [{name: b, targetValue: 1}], metricSources: {b: {pod: {}}}}";
const RATIO: &str =
    "numeratorRole: prefill, denominatorRole: decode, minRatio: '0.25', maxRatio: '1'";

#[test]
fn disaggregated_roles() {
    let roles = "spec.disaggregatedTarget.roles";
    assert_eq!(disaggregated(&[]), Vec::<String>::new());
    let cases: [(&str, &str, Vec<String>); 7] = [
        (
            PREFILL,
            "prefill: {minReplicas: 5, maxReplicas: 4, metrics: [{name: a, targetValue: 1}], metricSources: {a: {pod: {}}}}",
            vec![format!("{roles}[prefill].minReplicas: Invalid value: 5: minReplicas must be <= maxReplicas")],
        ),
        (
            DECODE,
            "decode: {minReplicas: 1, maxReplicas: 8}",
            vec![format!("{roles}[decode].metrics: Required value: metrics must be set on every non-fixed role when spec.metrics is empty")],
        ),
        (DECODE, "decode: {minReplicas: 2, maxReplicas: 2}", vec![]),
        (
            DECODE,
            "decode: {minReplicas: 1, maxReplicas: 8, metrics: [{name: b, targetValue: 1}]}",
            vec![format!("{roles}[decode].metricSources: Invalid value: 0: metricSources must be set on every non-fixed role when metrics are configured")],
        ),
        (
            DECODE,
            "decode: {minReplicas: 1, maxReplicas: 8, metrics: [{name: b, targetValue: 1}], metricSources: {b: {pod: {}}, c: {pod: {}}}}",
            vec![format!("{roles}[decode].metricSources[c]: Invalid value: \"c\": metricSources key must match an effective metric name")],
        ),
        (
            DECODE,
            "decode: {minReplicas: 1, maxReplicas: 8, metrics: [{name: b, targetValue: 0}, {name: b, targetValue: 1}], metricSources: {b: {pod: {}}}}",
            vec![
                format!("{roles}[decode].metrics[0].targetValue: Invalid value: \"0\": metric target value must be greater than 0 and not equal to infinity"),
                format!("{roles}[decode].metrics[1].name: Invalid value: \"b\": duplicate metric name b is not allowed"),
            ],
        ),
        (
            DECODE,
            "decode: {minReplicas: 1, maxReplicas: 8, metrics: []}",
            vec![format!("{roles}[decode].metrics: Invalid value: 0: should have at least 1 items")],
        ),
    ];
    for (from, to, expected) in cases {
        assert_eq!(disaggregated(&[(from, to)]), expected, "{to}");
    }
    // spec.metrics are the effective metrics of roles without their own.
    let shared = format!(
        "  metrics: [{{name: a, targetValue: 1}}]\n{}",
        DISAGGREGATED.replace(
            DECODE,
            "decode: {minReplicas: 1, maxReplicas: 8, metricSources: {a: {pod: {}}}}"
        )
    );
    assert_eq!(current_spec(&shared), Vec::<String>::new());
    assert_eq!(
        disaggregated(&[(PREFILL, "'': {minReplicas: 1, maxReplicas: 4, metrics: [{name: a, targetValue: 1}], metricSources: {a: {pod: {}}}}"), ("numeratorRole: prefill", "numeratorRole: x")]),
        [
            format!("{roles}: Invalid value: \"\": role name must refer to a ModelServing.spec.template.roles[].name and must not be empty"),
            "spec.disaggregatedTarget.ratioConstraint.numeratorRole: Invalid value: \"x\": numeratorRole must exist in roles".to_string(),
        ]
    );
    assert_eq!(
        disaggregated(&[(
            DECODE,
            &format!("{DECODE}\n      third: {{minReplicas: 1, maxReplicas: 1}}")
        )]),
        [format!(
            "{roles}: Invalid value: 3: should have at most 2 properties"
        )]
    );
}

#[test]
fn disaggregated_ratio_constraint() {
    let ratio = "spec.disaggregatedTarget.ratioConstraint";
    let cases: [(&str, &str, &str, Vec<String>); 8] = [
        (
            RATIO,
            "numeratorRole: decode, denominatorRole: decode, minRatio: '0.25', maxRatio: '1'",
            "",
            vec![format!("{ratio}: Invalid value: \"object\": numeratorRole and denominatorRole must differ")],
        ),
        (
            RATIO,
            "numeratorRole: prefill, denominatorRole: other, minRatio: '0.25', maxRatio: '1'",
            "",
            vec![format!("{ratio}.denominatorRole: Invalid value: \"other\": denominatorRole must exist in roles")],
        ),
        (
            RATIO,
            "numeratorRole: prefill, denominatorRole: decode, minRatio: '2', maxRatio: '1500m'",
            "",
            vec![format!("{ratio}.minRatio: Invalid value: \"2\": minRatio must be <= maxRatio")],
        ),
        (
            RATIO,
            "numeratorRole: prefill, denominatorRole: decode, minRatio: '-1', maxRatio: '0'",
            "",
            vec![format!("{ratio}: Invalid value: \"ratio\": minRatio must be >= 0 and maxRatio must be > 0")],
        ),
        (
            RATIO,
            "numeratorRole: prefill, denominatorRole: decode, minRatio: '0.25', maxRatio: '1e400'",
            "",
            vec![format!("{ratio}: Invalid value: \"ratio\": ratio values must be finite")],
        ),
        (
            PREFILL,
            "prefill: {minReplicas: 0, maxReplicas: 4, metrics: [{name: a, targetValue: 1}], metricSources: {a: {pod: {}}}}",
            "",
            vec![format!("{ratio}: Invalid value: \"scale-to-zero bounds\": ratio roles must be scalable-to-zero together")],
        ),
        (
            PREFILL,
            "prefill: {minReplicas: 9, maxReplicas: 10, metrics: [{name: a, targetValue: 1}], metricSources: {a: {pod: {}}}}",
            "",
            vec![format!("{ratio}: Invalid value: \"bounds\": ratioConstraint is not achievable within role replica bounds")],
        ),
        (
            DECODE,
            "decode: {minReplicas: 20, maxReplicas: 30, metrics: [{name: b, targetValue: 1}], metricSources: {b: {pod: {}}}}",
            "",
            vec![format!("{ratio}: Invalid value: \"bounds\": ratioConstraint is not achievable within role replica bounds")],
        ),
    ];
    for (from, to, _, expected) in cases {
        assert_eq!(disaggregated(&[(from, to)]), expected, "{to}");
    }
    // CEL: a ratio needs two roles.
    assert_eq!(
        disaggregated(&[(DECODE, "")]),
        ["spec.disaggregatedTarget: Invalid value: \"object\": roles must contain at least two entries when ratioConstraint is configured"]
    );
}

#[test]
fn v04_policy_rules() {
    assert_eq!(
        v04("  metrics: []\n", V04_BINDING),
        ["spec.metrics: Invalid value: 0: should have at least 1 items"]
    );
    assert_eq!(
        v04("  metrics: [{metricName: a, targetValue: 1}, {metricName: a, targetValue: '0'}]\n", V04_BINDING),
        [
            "spec.metrics[1].targetValue: Invalid value: \"0\": metric target value must be greater than 0 and not equal to infinity",
            "spec.metrics[1].metricName: Invalid value: \"a\": duplicate metric name a is not allowed",
        ]
    );
    assert_eq!(
        v04("  metrics: [{targetValue: 1}]\n  behavior: {scaleUp: {panicPolicy: {panicModeHold: 40m}}}\n", V04_BINDING),
        [
            "spec.metrics[0].metricName: Required value",
            "spec.behavior.scaleUp.panicPolicy.period: Required value",
        ]
    );
}

#[test]
fn v04_binding_rules() {
    let either = "spec: Invalid value: \"object\": Either heterogeneousTarget or homogeneousTarget must be set, but not both.";
    assert_eq!(v04(V04_POLICY, "  policyRef: {name: p}\n"), [either]);
    assert_eq!(
        v04(V04_POLICY, &format!("{V04_BINDING}  heterogeneousTarget: {{params: [{{minReplicas: 1, maxReplicas: 2}}]}}\n")),
        [either]
    );
    assert_eq!(
        v04(
            V04_POLICY,
            "  homogeneousTarget: {minReplicas: 1, maxReplicas: 2}\n"
        ),
        ["spec.policyRef: Required value"]
    );
    assert_eq!(
        v04(V04_POLICY, &V04_BINDING.replace("{name: p}", "{name: q}")),
        ["spec.PolicyRef: Invalid value: \"q\": autoscaling policy resource q does not exist"]
    );
    assert_eq!(
        v04(V04_POLICY, &V04_BINDING.replace("{name: p}", "{}")),
        ["spec.PolicyRef: Internal error: resource name may not be empty"]
    );
    // A policy of the same name in another namespace does not count.
    let text = format!(
        "{}---\n{}",
        object("AutoscalingPolicy", "p", V04_POLICY),
        object("AutoscalingPolicyBinding", "b, namespace: x", V04_BINDING)
    );
    assert_eq!(
        problems_of(&text),
        ["spec.PolicyRef: Invalid value: \"p\": autoscaling policy resource p does not exist"]
    );
}

#[test]
fn v04_binding_target_kinds() {
    let homogeneous = |target: &str| {
        v04(
            V04_POLICY,
            &format!("  policyRef: {{name: p}}\n  homogeneousTarget: {{minReplicas: 1, maxReplicas: 2, target: {target}}}\n"),
        )
    };
    assert_eq!(
        homogeneous("{targetRef: {kind: Deployment, name: d}}"),
        ["spec.homogeneousTarget.targetRef.kind: Invalid value: \"Deployment\": homogeneousTarget.targetRef.kind must be ModelServing, but got Deployment"]
    );
    assert_eq!(
        homogeneous("{targetRef: {kind: ModelServing}, subTargets: {kind: Pod}}"),
        [
            "spec.homogeneousTarget.targetRef.name: Invalid value: \"\": homogeneousTarget.targetRef.name must be set, but got empty",
            "spec.homogeneousTarget.targetRef.subTarget.name: Invalid value: \"\": homogeneousTarget.targetRef.subTarget.name must be set, but got empty",
            "spec.homogeneousTarget.targetRef.subTarget.kind: Invalid value: \"Pod\": homogeneousTarget.targetRef.subTarget.kind must be `Role`, but got Pod",
        ]
    );
    // An empty subTargets kind passes the webhook (and fails at run time,
    // docs/engine.md §14 item 14).
    assert_eq!(
        homogeneous("{targetRef: {name: ms}, subTargets: {name: prefill}}"),
        Vec::<String>::new()
    );
    assert_eq!(
        v04(
            V04_POLICY,
            "  policyRef: {name: p}\n  heterogeneousTarget: {params: [{minReplicas: 1, maxReplicas: 2, target: {targetRef: {kind: Job, name: j}, subTargets: {kind: Role, name: prefill}}}]}\n"
        ),
        [
            "spec.heterogeneousTarget.params[0].targetRef.kind: Invalid value: \"Job\": heterogeneousTarget.params[].targetRef.kind must be ModelServing, but got Job",
            "spec.heterogeneousTarget.params[0].targetRef.subTarget: Invalid value: v1alpha1.SubTarget{Kind:\"Role\", Name:\"prefill\"}: heterogeneousTarget.params[].targetRef.subTarget must be empty, but got &{Role prefill}",
        ]
    );
    // v0.4.0 does not check heterogeneous names: a param without a target passes.
    assert_eq!(
        v04(V04_POLICY, "  policyRef: {name: p}\n  heterogeneousTarget: {params: [{minReplicas: 1, maxReplicas: 2}]}\n"),
        Vec::<String>::new()
    );
}

/// The webhook's own one-of check sits behind the CEL rule of the same condition, so no
/// manifest reaches it; it is checked here directly.
#[test]
fn v04_binding_webhook_one_of_messages() {
    let run = |homogeneous: bool, heterogeneous: bool| {
        let raw = RawBinding {
            policy_ref_name: "p".into(),
            homogeneous: homogeneous.then_some(RawHomogeneous {
                min_replicas: Some(1),
                max_replicas: Some(2),
                target: None,
            }),
            heterogeneous: heterogeneous.then(RawHeterogeneous::default),
        };
        let mut f = Findings::default();
        webhook_binding(&raw, true, &mut f);
        f.problems
            .into_iter()
            .map(|p| format!("{}: {}", p.path, p.message))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        run(false, false),
        ["spec.homogeneousTarget: Required value: spec.homogeneousTarget should be set if spec.heterogeneousTarget does not exist"]
    );
    assert_eq!(
        run(true, true)[0],
        "spec.homogeneousTarget: Forbidden: both spec.heterogeneousTarget and spec.homogeneousTarget can not be set at the same time"
    );
}

#[test]
fn uri_format() {
    for ok in [
        "http://prometheus:9090",
        "https://p.example/api",
        "/relative/path",
        "x:y",
    ] {
        assert!(is_uri(ok), "{ok}");
    }
    for bad in ["prometheus:9090 ", "not a url", "9p://x", "", "plain"] {
        assert!(!is_uri(bad), "{bad}");
    }
}
