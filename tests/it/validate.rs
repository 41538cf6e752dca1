//! `kthena-sim validate`: the example manifests pass (except the user-guide example, which a real
//! API server refuses), and every kind of bad manifest gives exit status 2 with one line naming
//! the file and the field, never a panic.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use assert_cmd::cargo::cargo_bin_cmd;

fn examples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/manifests")
}

fn examples() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for generation in ["v0.4", "current"] {
        let dir = examples_dir().join(generation);
        for entry in std::fs::read_dir(&dir).expect("examples in examples/manifests") {
            let path = entry.expect("directory entry").path();
            if path.extension().is_some_and(|x| x == "yaml") {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(files.len() >= 7, "{files:?}");
    files
}

const GUIDE: &str = "guide-example-as-written.yaml";

struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn validate(files: &[&Path]) -> Outcome {
    let output = cargo_bin_cmd!("kthena-sim")
        .arg("validate")
        .args(files)
        .output()
        .expect("kthena-sim runs");
    let outcome = Outcome {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    for text in [&outcome.stdout, &outcome.stderr] {
        assert!(!text.contains("panicked"), "{text}");
        assert!(!text.contains("RUST_BACKTRACE"), "{text}");
    }
    outcome
}

/// A manifest written to a fresh temporary file, removed when dropped.
struct TempManifest(PathBuf);

impl TempManifest {
    fn new(tag: &str, contents: &[u8]) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "kthena-sim-validate-{}-{n}-{tag}.yaml",
            std::process::id()
        ));
        std::fs::write(&path, contents).expect("temporary manifest written");
        TempManifest(path)
    }

    fn name(&self) -> String {
        self.0.display().to_string()
    }
}

impl Drop for TempManifest {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Lines that report problems (neither `ok`, `warning:` nor `note:`).
fn problem_lines(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .filter(|l| {
            !l.starts_with("ok ") && !l.starts_with("note: ") && !l.starts_with("warning: ")
        })
        .collect()
}

#[test]
fn every_example_but_the_guide_example_is_valid() {
    for file in examples().iter().filter(|f| !f.ends_with(GUIDE)) {
        let out = validate(&[file]);
        assert_eq!(out.code, Some(0), "{}:\n{}", file.display(), out.stdout);
        assert!(out.stdout.contains("ok policy/"), "{}", out.stdout);
        assert!(problem_lines(&out.stdout).is_empty(), "{}", out.stdout);
    }
}

#[test]
fn the_examples_are_valid_together() {
    let files: Vec<PathBuf> = examples()
        .into_iter()
        .filter(|f| !f.ends_with(GUIDE))
        .collect();
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let out = validate(&refs);
    assert_eq!(out.code, Some(0), "{}", out.stdout);
    for object in [
        "ok policy/scaling-policy (v0.x API)",
        "ok binding/scaling-binding",
        "ok binding/role-binding",
        "ok binding/optimizer-binding",
        "ok policy/scaling-policy (current API)",
        "ok policy/pd-policy -n llm (current API)",
    ] {
        assert!(
            out.stdout.lines().any(|l| l == object),
            "{object}:\n{}",
            out.stdout
        );
    }
}

#[test]
fn the_guide_example_is_refused_naming_the_panic_policy_period() {
    let file = examples_dir().join("v0.4").join(GUIDE);
    let out = validate(&[&file]);
    assert_eq!(out.code, Some(2));
    let problems = problem_lines(&out.stdout);
    assert_eq!(
        problems,
        [format!(
            "{}: document 1 (line 4): spec.behavior.scaleUp.panicPolicy.period: Required value",
            file.display()
        )],
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("ok binding/scaling-binding"));
}

const POLICY_HEAD: &str =
    "apiVersion: workload.serving.volcano.sh/v1alpha1\nkind: AutoscalingPolicy\nmetadata:\n  name: p\nspec:\n";

/// A valid current-API spec body; cases below replace parts of it.
const CURRENT_SPEC: &str = "  metrics:
  - name: queue
    targetValue: 10
  behavior:
    scaleDown:
      period: 1m
      selectPolicy: Or
  homogeneousTarget:
    minReplicas: 1
    maxReplicas: 4
    target:
      targetRef:
        name: ms
";

const V04_POLICY: &str = "apiVersion: workload.serving.volcano.sh/v1alpha1
kind: AutoscalingPolicy
metadata:
  name: p
spec:
  metrics:
  - metricName: queue
    targetValue: 10
---
";

const BINDING_HEAD: &str = "apiVersion: workload.serving.volcano.sh/v1alpha1
kind: AutoscalingPolicyBinding
metadata:
  name: b
spec:
  policyRef:
    name: p
";

const HOMOGENEOUS_V04: &str =
    "  homogeneousTarget:\n    minReplicas: 1\n    maxReplicas: 2\n    target:\n      targetRef:\n        name: ms\n";
const HETEROGENEOUS_V04: &str =
    "  heterogeneousTarget:\n    params:\n    - minReplicas: 1\n      maxReplicas: 2\n";

fn current_with(from: &str, to: &str) -> String {
    assert!(CURRENT_SPEC.contains(from), "{from}");
    format!("{POLICY_HEAD}{}", CURRENT_SPEC.replacen(from, to, 1))
}

#[test]
fn the_valid_baselines_pass() {
    for text in [
        format!("{POLICY_HEAD}{CURRENT_SPEC}"),
        format!("{V04_POLICY}{BINDING_HEAD}{HOMOGENEOUS_V04}"),
    ] {
        let file = TempManifest::new("baseline", text.as_bytes());
        let out = validate(&[&file.0]);
        assert_eq!(out.code, Some(0), "{}", out.stdout);
    }
}

#[test]
fn each_bad_manifest_gives_one_line_naming_file_and_field() {
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "broken-yaml",
            format!("{POLICY_HEAD}  metrics: [\n    - name: q\n"),
            "document 1 (line 1): invalid YAML: ",
        ),
        (
            "out-of-range",
            current_with("  behavior:\n", "  tolerancePercent: 101\n  behavior:\n"),
            "document 1 (line 1): spec.tolerancePercent: Invalid value: 101: should be less than or equal to 100",
        ),
        (
            "replicas-out-of-range",
            current_with("maxReplicas: 4", "maxReplicas: 1000001"),
            "spec.homogeneousTarget.maxReplicas: Invalid value: 1000001: should be less than or equal to 1000000",
        ),
        (
            "wrong-enum",
            current_with("selectPolicy: Or", "selectPolicy: Any"),
            "spec.behavior.scaleDown.selectPolicy: Unsupported value: \"Any\": supported values: \"Or\", \"And\"",
        ),
        (
            "missing-required",
            current_with("    maxReplicas: 4\n", ""),
            "spec.homogeneousTarget.maxReplicas: Required value",
        ),
        (
            "missing-metric-name",
            current_with("  - name: queue\n    targetValue", "  - targetValue"),
            "spec.metrics[0].name: Required value",
        ),
        (
            "bad-duration",
            current_with("period: 1m", "period: 1 minute"),
            "spec.behavior.scaleDown.period: Invalid value: \"1 minute\": time: unknown unit in duration \"1 minute\"",
        ),
        (
            "bad-quantity",
            current_with("targetValue: 10", "targetValue: ten"),
            "spec.metrics[0].targetValue: Invalid value: \"ten\": quantities must match the regular expression",
        ),
        (
            "wrong-type",
            current_with("minReplicas: 1", "minReplicas: one"),
            "spec.homogeneousTarget.minReplicas: Invalid value: \"one\": must be of type integer",
        ),
        (
            "current-both-targets",
            format!("{POLICY_HEAD}{CURRENT_SPEC}  heterogeneousTarget:\n    params:\n    - minReplicas: 1\n      maxReplicas: 2\n"),
            "document 1 (line 1): spec: Invalid value: 2: exactly one of homogeneousTarget, heterogeneousTarget, or disaggregatedTarget must be set",
        ),
        (
            "current-no-target",
            format!("{POLICY_HEAD}  metrics:\n  - name: queue\n    targetValue: 10\n"),
            "spec: Invalid value: 0: exactly one of homogeneousTarget, heterogeneousTarget, or disaggregatedTarget must be set",
        ),
        (
            "binding-both-targets",
            format!("{V04_POLICY}{BINDING_HEAD}{HOMOGENEOUS_V04}{HETEROGENEOUS_V04}"),
            "document 2 (line 10): spec: Invalid value: \"object\": Either heterogeneousTarget or homogeneousTarget must be set, but not both.",
        ),
        (
            "binding-no-target",
            format!("{V04_POLICY}{BINDING_HEAD}"),
            "document 2 (line 10): spec: Invalid value: \"object\": Either heterogeneousTarget or homogeneousTarget must be set, but not both.",
        ),
        (
            "binding-unknown-policy",
            format!("{BINDING_HEAD}{HOMOGENEOUS_V04}").replace("name: p\n", "name: missing\n"),
            "document 1 (line 1): spec.PolicyRef: Invalid value: \"missing\": autoscaling policy resource missing does not exist",
        ),
        (
            "panic-without-period",
            format!("{V04_POLICY}{BINDING_HEAD}{HOMOGENEOUS_V04}").replace(
                "    targetValue: 10\n",
                "    targetValue: 10\n  behavior:\n    scaleUp:\n      panicPolicy:\n        panicModeHold: 1m\n",
            ),
            "document 1 (line 1): spec.behavior.scaleUp.panicPolicy.period: Required value",
        ),
        (
            "webhook-range",
            current_with("period: 1m", "period: 31m"),
            "spec.behavior.scaleDown.period: Invalid value: 31m0s: stable policy period must be between 0 and 30 minutes",
        ),
    ];
    for (tag, text, expected) in cases {
        let file = TempManifest::new(tag, text.as_bytes());
        let out = validate(&[&file.0]);
        assert_eq!(out.code, Some(2), "{tag}:\n{}", out.stdout);
        let problems = problem_lines(&out.stdout);
        assert_eq!(problems.len(), 1, "{tag}:\n{}", out.stdout);
        assert!(
            problems[0].starts_with(&format!("{}: document ", file.name())),
            "{tag}: {}",
            problems[0]
        );
        assert!(
            problems[0].contains(expected),
            "{tag}: {}\nexpected: {expected}",
            problems[0]
        );
    }
}

#[test]
fn a_binding_may_refer_to_a_policy_in_another_file() {
    let policy = TempManifest::new("policy", V04_POLICY.as_bytes());
    let binding = TempManifest::new(
        "binding",
        format!("{BINDING_HEAD}{HOMOGENEOUS_V04}").as_bytes(),
    );
    let out = validate(&[&policy.0, &binding.0]);
    assert_eq!(out.code, Some(0), "{}", out.stdout);
    // The binding has no metricEndpoint: valid, but its policy can never scale.
    assert_eq!(
        out.stdout,
        format!(
            "ok policy/p (v0.x API)\nok binding/b\nwarning: {}: document 1 (line 1): spec.homogeneousTarget.target.metricEndpoint: no metricEndpoint: the v0.4 collector scrapes port 0 and skips every tick, so this policy never scales; add `metricEndpoint: {{port: 8100, uri: /metrics}}` (the pods' metrics port and path)\n",
            binding.name()
        )
    );
}

#[test]
fn unknown_fields_and_other_kinds_are_notes() {
    let text = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n---\n{POLICY_HEAD}{CURRENT_SPEC}  costCeiling: 3\n"
    );
    let file = TempManifest::new("notes", text.as_bytes());
    let out = validate(&[&file.0]);
    assert_eq!(out.code, Some(0), "{}", out.stdout);
    let name = file.name();
    assert_eq!(
        out.stdout,
        format!(
            "note: {name}: document 1 (line 1): ConfigMap c is not Knative's config-autoscaler; ignored\n\
             ok policy/p (current API)\n\
             warning: {name}: document 2 (line 6): spec.homogeneousTarget.target.metricSources: metric `queue` has no source: the engine skips every tick and this policy never scales; add `metricSources: {{queue: {{pod: {{name: <the pods' metric family>}}}}}}`\n\
             note: {name}: document 2 (line 6): spec.costCeiling: unknown field, ignored (the API server prunes it)\n"
        )
    );
}

#[test]
fn policies_that_cannot_work_are_warned_about_and_refused_with_deny_warnings() {
    let text = format!("{POLICY_HEAD}{CURRENT_SPEC}");
    let file = TempManifest::new("warned", text.as_bytes());
    let out = validate(&[&file.0]);
    assert_eq!(out.code, Some(0), "warnings do not fail: {}", out.stdout);
    assert!(out.stdout.contains("warning: "), "{}", out.stdout);
    let denied = cargo_bin_cmd!("kthena-sim")
        .args(["validate", "--deny-warnings"])
        .arg(&file.0)
        .output()
        .expect("runs");
    assert_eq!(denied.status.code(), Some(2));
}

#[test]
fn unreadable_files_are_named() {
    let missing = std::env::temp_dir().join("kthena-sim-validate-does-not-exist.yaml");
    let binary = TempManifest::new("binary", &[0x61, 0x3a, 0x20, 0xff, 0xfe, 0x0a]);
    let dir = std::env::temp_dir();
    let out = validate(&[&missing, &binary.0, &dir]);
    assert_eq!(out.code, Some(2));
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", out.stdout);
    assert!(
        lines[0].starts_with(&format!("{}: cannot read: ", missing.display())),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with(&format!("{}: not UTF-8 text: ", binary.name())),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with(&format!("{}: cannot read: ", dir.display())),
        "{}",
        lines[2]
    );
}

#[test]
fn a_file_without_objects_is_refused() {
    let file = TempManifest::new("empty", b"# nothing yet\n");
    let out = validate(&[&file.0]);
    assert_eq!(out.code, Some(2));
    assert_eq!(
        out.stdout,
        format!("{}: no Kubernetes objects in the file\n", file.name())
    );
}

#[test]
fn validate_needs_a_file() {
    let out = validate(&[]);
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("FILES"), "{}", out.stderr);
}
