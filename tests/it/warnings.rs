//! Mistakes that used to pass silently. Policies Kthena accepts but that cannot work are
//! warned about — file, field path, message, hint — by `validate` and `run` (exit 0, or 2 with
//! `--deny-warnings`); a `--set` that would change nothing, and an unknown scenario field, are
//! refused (exit 2) with the closest name.

use std::path::{Path, PathBuf};

use super::support::{kthena_sim, root, temp_dir};

fn policy(name: &str) -> String {
    std::fs::read_to_string(root().join("policies").join(name)).expect("policy")
}

/// A steady scenario in `dir` that uses the manifest `text`.
fn scenario_with(dir: &Path, text: &str) -> PathBuf {
    let manifest = dir.join("policy.yaml");
    std::fs::write(&manifest, text).expect("manifest");
    let scenario = std::fs::read_to_string(root().join("scenarios/steady.yaml"))
        .expect("steady.yaml")
        .lines()
        .map(|l| {
            if l.starts_with("policies:") {
                "policies: [policy.yaml]".to_string()
            } else if l.starts_with("duration:") {
                "duration: 15m".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let path = dir.join("scenario.yaml");
    std::fs::write(&path, scenario).expect("scenario");
    path
}

/// A warning case: the manifest, then what its warning line holds (path, message, hint).
struct Case {
    name: &'static str,
    manifest: String,
    expected: &'static [&'static str],
}

fn cases() -> Vec<Case> {
    let current = policy("chat-current.yaml");
    let running = policy("chat-running-current.yaml");
    let v04 = policy("chat-v0.4.yaml");
    vec![
        Case {
            name: "metric-without-source",
            manifest: running
                .split("      metricSources:")
                .next()
                .unwrap()
                .to_string(),
            expected: &[
                "spec.homogeneousTarget.target.metricSources",
                "metric `running` has no source",
                "this policy never scales",
                "add `metricSources: {running:",
            ],
        },
        Case {
            name: "misspelt-source-key",
            manifest: running.replace("        running:\n", "        runing:\n"),
            expected: &[
                "spec.homogeneousTarget.target.metricSources[runing]",
                "names no metric of spec.metrics (running)",
                "did you mean `running`?",
            ],
        },
        Case {
            name: "binding-without-endpoint",
            manifest: v04.replace(
                "      metricEndpoint:\n        uri: /metrics\n        port: 8100\n",
                "",
            ),
            expected: &[
                "spec.homogeneousTarget.target.metricEndpoint",
                "no metricEndpoint: the v0.4 collector scrapes port 0",
                "add `metricEndpoint: {port: 8100, uri: /metrics}`",
            ],
        },
        Case {
            name: "port-not-served",
            manifest: v04.replace("port: 8100", "port: 9090"),
            expected: &[
                "policies:",
                "scrapes port 9090, but the pods of chat-llama serve their metrics on port 8100",
                "use port 8100",
            ],
        },
        Case {
            name: "min-above-max",
            manifest: current.replace("minReplicas: 1", "minReplicas: 20"),
            expected: &[
                "spec.homogeneousTarget.minReplicas",
                "minReplicas 20 is above maxReplicas 16",
                "set maxReplicas at least minReplicas",
            ],
        },
        Case {
            name: "target-not-simulated",
            manifest: current.replace("name: chat-llama", "name: chat-lama"),
            expected: &[
                "targets ModelServing llm/chat-lama, which the scenario does not simulate",
                "did you mean `llm/chat-llama`?",
            ],
        },
    ]
}

#[test]
fn policies_that_cannot_work_are_warned_about_with_path_and_hint() {
    for case in cases() {
        let dir = temp_dir("warn", case.name);
        let scenario = scenario_with(&dir, &case.manifest);
        let out = dir.join("out");
        let o = kthena_sim()
            .arg("run")
            .arg(&scenario)
            .args(["-q", "--out"])
            .arg(&out)
            .output()
            .expect("runs");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{}: {err}", case.name);
        let line = err
            .lines()
            .find(|l| l.starts_with("warning: ") && l.contains(case.expected[0]))
            .unwrap_or_else(|| panic!("{}: no such warning in {err}", case.name));
        assert!(line.contains("scenario.yaml"), "{}: {line}", case.name);
        for e in case.expected {
            assert!(line.contains(e), "{}: {e:?} not in {line}", case.name);
        }
        let summary: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("summary.json")).expect("summary"))
                .expect("JSON");
        assert!(
            summary["warnings"]
                .as_array()
                .is_some_and(|w| !w.is_empty()),
            "{}: {summary}",
            case.name
        );
        let denied = kthena_sim()
            .arg("run")
            .arg(&scenario)
            .args(["-q", "--deny-warnings", "--out"])
            .arg(dir.join("denied"))
            .output()
            .expect("runs");
        assert_eq!(denied.status.code(), Some(2), "{}", case.name);
        assert!(!dir.join("denied").exists(), "{}", case.name);
        // `validate` says it of the manifest alone where the manifest alone shows it.
        if case.expected[0].starts_with("spec.") {
            let v = kthena_sim()
                .arg("validate")
                .arg(dir.join("policy.yaml"))
                .output()
                .expect("runs");
            let stdout = String::from_utf8_lossy(&v.stdout);
            assert_eq!(v.status.code(), Some(0), "{}: {stdout}", case.name);
            assert!(
                stdout.contains(&format!("warning: {}", dir.join("policy.yaml").display())),
                "{}: {stdout}",
                case.name
            );
        }
    }
}

#[test]
fn a_policy_that_never_scales_is_flagged_with_its_dominant_reason() {
    let dir = temp_dir("warn", "never");
    let manifest = policy("chat-running-current.yaml")
        .split("      metricSources:")
        .next()
        .unwrap()
        .to_string();
    let scenario = scenario_with(&dir, &manifest);
    let out = dir.join("out");
    let o = kthena_sim()
        .arg("run")
        .arg(&scenario)
        .args(["-q", "--out"])
        .arg(&out)
        .output()
        .expect("runs");
    let flag =
        "61 of 61 ticks skipped (skipped: metric running has no source) — this policy never scales";
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains(flag), "{stdout}");
    assert!(
        stdout.find(flag) < stdout.find("| metric |"),
        "above the table: {stdout}"
    );
    let report = std::fs::read_to_string(out.join("report.md")).expect("report");
    assert!(report.contains(flag), "{report}");
    let summary = std::fs::read_to_string(out.join("summary.json")).expect("summary");
    assert!(summary.contains(flag), "{summary}");
}

/// `run` of spike.yaml with `args`: exit 2, and one line holding every one of `expected`.
fn refused(args: &[&str], expected: &[&str]) {
    let dir = temp_dir("warn", "set");
    let o = kthena_sim()
        .arg("run")
        .arg(root().join("scenarios/spike.yaml"))
        .args(["--duration", "1m", "-q", "--out"])
        .arg(dir.join("out"))
        .args(args)
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
    for e in expected {
        assert!(err.contains(e), "{args:?}: {e:?} not in {err}");
    }
    assert!(!dir.join("out").exists());
}

#[test]
fn every_setting_resolves_or_is_refused_by_name() {
    refused(
        &["--set", "policy.metrics[0].targetvalue=40"],
        &[
            "--set policy.metrics[0].targetvalue=40",
            "`spec.metrics[0].targetvalue` is not a field of the manifest",
            "did you mean `targetValue`?",
        ],
    );
    refused(
        &["--set", "binding.maxReplcas=4"],
        &[
            "`spec.homogeneousTarget.maxReplcas`",
            "did you mean `maxReplicas`?",
        ],
    );
    refused(
        &["--set", "seeed=3"],
        &["--set seeed=3: the scenario has no field `seeed`; did you mean `seed`?"],
    );
    refused(
        &["--set", "servings[chat-llama].replcas=3"],
        &["`servings[chat-llama]` has no field `replcas`; did you mean `replicas`?"],
    );
    refused(
        &["--set", "servings[3].replicas=3"],
        &["index 3 out of range (the list has 1)"],
    );
    refused(
        &["--set", "policy.metrics[4].targetValue=3"],
        &["index 4 out of range"],
    );
}

#[test]
fn a_misspelt_sweep_dimension_is_refused_not_swept() {
    let dir = temp_dir("warn", "sweep");
    let o = kthena_sim()
        .arg("sweep")
        .arg(root().join("scenarios/spike.yaml"))
        .args(["--set", "policy.metrics[0].targetvalue=40,80,160", "--out"])
        .arg(dir.join("out"))
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("did you mean `targetValue`?"), "{err}");
}

#[test]
fn an_unknown_scenario_field_suggests_the_closest() {
    let dir = temp_dir("warn", "field");
    let path = dir.join("s.yaml");
    std::fs::write(&path, "name: s\nduraton: 1h\n").expect("write");
    let o = kthena_sim().arg("run").arg(&path).output().expect("runs");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err.contains("unknown field `duraton`; did you mean `duration`? at line 2 column 1"),
        "{err}"
    );
    assert!(
        !err.contains("expected one of"),
        "no list of every field: {err}"
    );
}
