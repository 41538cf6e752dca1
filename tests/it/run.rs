//! `kthena-sim run`: every example runs, runs are reproducible byte for byte, the engine log
//! replays to the same decisions, the versions differ as documented on the spike, and bad
//! scenarios are refused with one clear line each and nothing written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::support::{kthena_sim, root, temp_dir};
use serde_json::Value;

fn run(scenario: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    kthena_sim()
        .arg("run")
        .arg(scenario)
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .args(extra)
        .output()
        .expect("run")
}

fn summary(out: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(out.join("summary.json")).expect("summary.json"))
        .expect("JSON")
}

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .expect("output folder")
        .map(|e| {
            let p = e.expect("entry").path();
            (
                p.file_name().unwrap().to_string_lossy().to_string(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

fn timeline(out: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(out.join("timeline.csv")).expect("timeline.csv");
    r.deserialize()
        .map(|row| row.expect("timeline row"))
        .collect()
}

#[test]
fn every_example_scenario_runs_and_conserves_requests() {
    let dir = temp_dir("run", "examples");
    let mut ran = 0;
    for entry in std::fs::read_dir(root().join("scenarios")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let out = dir.join(path.file_stem().unwrap());
        let o = run(&path, &out, &["--duration", "10m"]);
        let code = o.status.code();
        assert!(
            code == Some(0) || code == Some(1),
            "{}: {:?}\n{}",
            path.display(),
            code,
            String::from_utf8_lossy(&o.stderr)
        );
        let s = summary(&out);
        let r = &s["requests"];
        let n = |k: &str| r[k].as_u64().unwrap();
        assert!(n("total") > 0, "{}: no requests", path.display());
        assert_eq!(
            n("total"),
            n("completed") + n("failed") + n("dropped") + n("in_flight"),
            "{}",
            path.display()
        );
        for f in ["summary.json", "timeline.csv", "report.md"] {
            assert!(out.join(f).is_file(), "{}: {f}", path.display());
        }
        ran += 1;
    }
    assert!(ran >= 5, "the five examples");
}

#[test]
fn same_scenario_and_seed_give_byte_identical_outputs() {
    let dir = temp_dir("run", "determinism");
    let scenario = root().join("scenarios/spike.yaml");
    let (a, b) = (dir.join("a"), dir.join("b"));
    run(&scenario, &a, &["--requests"]);
    run(&scenario, &b, &["--requests"]);
    let (fa, fb) = (files(&a), files(&b));
    assert_eq!(
        fa.keys().collect::<Vec<_>>(),
        vec![
            "cost.csv",
            "cost.png",
            "cost.svg",
            "latency.csv",
            "latency.png",
            "latency.svg",
            "queue.png",
            "queue.svg",
            "replicas.png",
            "replicas.svg",
            "report.md",
            "requests.csv",
            "summary.json",
            "timeline.csv"
        ]
    );
    assert_eq!(fa, fb);
    let c = dir.join("c");
    run(&scenario, &c, &["--requests", "--seed", "8"]);
    assert_ne!(
        fa["requests.csv"],
        files(&c)["requests.csv"],
        "another seed, other requests"
    );
}

#[test]
fn the_engine_log_replays_to_every_decision_for_both_versions_and_all_modes() {
    let dir = temp_dir("run", "engine-log");
    let cases = [
        ("spike", "v0.4", "30m"),
        ("spike", "head", "30m"),
        ("heterogeneous-gpu-cpu", "v0.4", "30m"),
        ("heterogeneous-gpu-cpu", "head", "30m"),
        ("disaggregated", "head", "30m"),
        ("prometheus-source", "head", "30m"),
        ("role-level", "v0.4", "30m"),
        // Restarted pods (failed to the collector) and pods of a lost node.
        ("faults-crashes", "v0.4", "2h"),
        ("faults-node-loss", "head", "1h"),
    ];
    for (scenario, engine, duration) in cases {
        let log = dir.join(format!("{scenario}-{engine}.jsonl"));
        let out = dir.join(format!("{scenario}-{engine}"));
        let path = root().join(format!("scenarios/{scenario}.yaml"));
        let o = run(
            &path,
            &out,
            &[
                "--engine",
                engine,
                "--duration",
                duration,
                "--engine-log",
                log.to_str().unwrap(),
            ],
        );
        assert!(
            o.status.code().is_some_and(|c| c <= 1),
            "{scenario}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let ticks: usize = std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["scenario"]["ticks"]
                    .as_array()
                    .unwrap()
                    .len()
            })
            .sum();
        assert!(ticks >= 100, "{scenario} {engine}: {ticks} ticks logged");
        let check = kthena_sim()
            .args(["replay", "--engine", engine, "--check"])
            .arg(&log)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&check.stdout);
        assert_eq!(check.status.code(), Some(0), "{scenario} {engine}: {text}");
        assert!(
            text.contains(&format!("{ticks} ticks, 0 disagree: 100.00% agreement")),
            "{scenario} {engine}: {text}"
        );
    }
}

#[test]
fn on_the_spike_v04_skips_ticks_while_new_pods_start_and_head_does_not() {
    let dir = temp_dir("run", "spike");
    let mut starting_ticks = BTreeMap::new();
    for engine in ["v0.4", "head"] {
        let out = dir.join(engine);
        run(
            &root().join("scenarios/spike.yaml"),
            &out,
            &["--engine", engine],
        );
        let rows = timeline(&out);
        let starting: Vec<_> = rows.iter().filter(|r| r["starting"] != "0").collect();
        assert!(!starting.is_empty(), "{engine}: the spike starts new pods");
        let skipped = starting.iter().filter(|r| r["skip"] == "true").count();
        starting_ticks.insert(engine, (starting.len(), skipped));
        if engine == "v0.4" {
            assert!(
                starting
                    .iter()
                    .all(|r| r["skip"] == "true" && r["reason_code"] == "unready_pods"),
                "v0.4 decides nothing while pods start"
            );
        }
    }
    let (head_starting, head_skipped) = starting_ticks["head"];
    assert!(
        head_skipped * 2 < head_starting,
        "head keeps deciding while pods start: {starting_ticks:?}"
    );
}

/// Writes a scenario variant next to the examples (so relative policy paths resolve).
fn variant(dir: &Path, name: &str, from: &str, to: &str) -> PathBuf {
    let text = std::fs::read_to_string(root().join("scenarios/steady.yaml")).unwrap();
    assert!(text.contains(from), "{from}");
    let text = text
        .replacen(from, to, 1)
        .replace("../policies/", &format!("{}/policies/", root().display()));
    let p = dir.join(format!("{name}.yaml"));
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn bad_scenarios_give_exit_2_one_line_each_and_write_nothing() {
    let dir = temp_dir("run", "bad");
    let cases = [
        ("unknown-key", "seed: 1\n", "seed: 1\nsede: 2\n", "unknown field `sede`"),
        ("wrong-type", "seed: 1\n", "seed: one\n", "seed: invalid type"),
        ("negative-duration", "duration: 1h\n", "duration: -1h\n", "duration: \"-1h\" is negative"),
        ("bad-duration", "duration: 1h\n", "duration: 1 hour\n", "duration: time: unknown unit"),
        ("missing-policy", "chat-running-current.yaml", "nope.yaml", "nope.yaml: cannot read: No such file"),
        ("missing-trace", "    - poisson:\n        rate: {constant: 3}\n        input_tokens: {lognormal: {median: 600, p99: 4000}}\n        output_tokens: {lognormal: {median: 200, p99: 1000}}\n", "    - trace:\n        path: no-such-trace.csv\n", "workload.streams[0].trace.path"),
        ("bad-assertion", "slo.attainment >= 0.9", "slo.atainment >= 0.9", "assertions[0]"),
        ("bad-router", "workload:\n", "router: {policy: fastest}\nworkload:\n", "router.policy: unknown router policy"),
        ("bad-pull-probability", "      preset: llama2-70b-8xa100\n", "      preset: llama2-70b-8xa100\n    faults: {image_pull: {failure_probability: 1.5}}\n", "servings[0].faults.image_pull.failure_probability: 1.5 is out of range"),
        ("zero-mtbf", "      preset: llama2-70b-8xa100\n", "      preset: llama2-70b-8xa100\n    faults: {crashes: {mtbf: 0s}}\n", "servings[0].faults.crashes.mtbf: must be greater than 0"),
        ("backwards-outage", "      preset: llama2-70b-8xa100\n", "      preset: llama2-70b-8xa100\n    faults: {image_pull: {outages: [{from: 10m, to: 5m}]}}\n", "servings[0].faults.image_pull.outages[0].to: must be after from"),
        ("node-loss-without-capacity", "workload:\n", "cluster:\n  accelerators: {}\n  node_losses: [{at: 5m, accelerator: a100, gpus: 8}]\nworkload:\n", "cluster.node_losses[0].accelerator: \"a100\" has no capacity in cluster.accelerators"),
    ];
    for (name, from, to, expected) in cases {
        let scenario = variant(&dir, name, from, to);
        let out = dir.join(format!("out-{name}"));
        let o = run(&scenario, &out, &[]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{name}: {err}");
        assert!(
            err.contains(&format!("{name}.yaml")),
            "{name}: names the file: {err}"
        );
        assert!(err.contains(expected), "{name}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{name}: one line: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
        assert!(!out.exists(), "{name}: nothing written");
    }
}

#[test]
fn a_policy_scraping_a_metric_the_pods_do_not_expose_is_warned_about_and_never_scales() {
    let dir = temp_dir("run", "metric");
    let policy = std::fs::read_to_string(root().join("policies/chat-running-current.yaml"))
        .unwrap()
        .replace(
            "name: vllm:num_requests_running",
            "name: vllm:num_requests_swapped",
        );
    let pfile = dir.join("swapped.yaml");
    std::fs::write(&pfile, policy).unwrap();
    let scenario = variant(
        &dir,
        "unexposed",
        "../policies/chat-running-current.yaml",
        pfile.to_str().unwrap(),
    );
    let out = dir.join("out");
    // Kthena accepts the policy: a warning (file, field, hint), and the run shows that it
    // never scaled.
    let o = run(&scenario, &out, &["--duration", "15m"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.starts_with("warning: "), "{err}");
    assert!(err.contains("unexposed.yaml: policies:"), "{err}");
    assert!(
        err.contains(
            "reads family \"vllm:num_requests_swapped\", which the simulated pods never expose"
        ),
        "{err}"
    );
    assert!(
        err.contains("did you mean `vllm:num_requests_waiting`?"),
        "{err}"
    );
    let warnings = summary(&out)["warnings"].clone();
    assert!(
        warnings.as_array().is_some_and(|w| w.iter().any(|w| w
            .as_str()
            .is_some_and(|w| w.contains("61 of 61 ticks skipped")))),
        "{warnings}"
    );
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains("**warning:** policy llm/running-policy"),
        "{report}"
    );
    // With --deny-warnings, refused before the run, nothing written.
    let denied = dir.join("denied");
    let o = run(&scenario, &denied, &["--deny-warnings"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!denied.exists());
}

#[test]
fn schema_describes_the_scenario_file() {
    let out = kthena_sim().arg("schema").output().unwrap();
    assert!(out.status.success());
    let schema: Value = serde_json::from_slice(&out.stdout).unwrap();
    let props = &schema["properties"];
    for key in [
        "name",
        "seed",
        "duration",
        "policies",
        "servings",
        "workload",
        "slo",
        "assertions",
    ] {
        assert!(props.get(key).is_some(), "{key}");
    }
    assert!(schema["required"]
        .as_array()
        .unwrap()
        .contains(&Value::from("servings")));
}

#[test]
fn a_policy_change_resets_the_engine_state_of_the_changed_policy() {
    let dir = temp_dir("run", "rollout");
    let changed = std::fs::read_to_string(root().join("policies/chat-running-current.yaml"))
        .unwrap()
        .replace("targetValue: 24", "targetValue: 12");
    let pfile = dir.join("running-12.yaml");
    std::fs::write(&pfile, changed).unwrap();
    let scenario = variant(
        &dir,
        "rollout",
        "servings:",
        &format!(
            "policy_changes:\n  - at: 5m\n    policies: [{}]\nservings:",
            pfile.display()
        ),
    );
    let (out, log) = (dir.join("out"), dir.join("log.jsonl"));
    let o = run(
        &scenario,
        &out,
        &["--duration", "12m", "--engine-log", log.to_str().unwrap()],
    );
    assert!(
        o.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains("t = 5 min: policy change #1 applied (engine state reset)"),
        "{report}"
    );
    // One engine-log line per engine-state lifetime: before and after the change.
    let lines = std::fs::read_to_string(&log).unwrap();
    let ids: Vec<String> = lines
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(ids[0].ends_with("#1") && ids[1].ends_with("#2"), "{ids:?}");
    let check = kthena_sim()
        .args(["replay", "--engine", "head", "--check"])
        .arg(&log)
        .output()
        .unwrap();
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    // After the change the per-replica target is halved: the fleet grows.
    let rows = timeline(&out);
    let replicas_at = |t: f64| {
        rows.iter()
            .rev()
            .find(|r| r["time_s"].parse::<f64>().unwrap() <= t)
            .unwrap()["spec_replicas"]
            .parse::<i32>()
            .unwrap()
    };
    assert!(
        replicas_at(700.0) > replicas_at(290.0),
        "{} -> {}",
        replicas_at(290.0),
        replicas_at(700.0)
    );
}

/// Kthena reads a pod metric as the pods' sum compared with the per-replica target
/// (`ceil(Σ/target)` unless `|Σ/target − 1| <= tol`), and a Prometheus value as a whole-target
/// value (`ceil(v/target)` unless `|v/(target·current) − 1| <= tol`). With every pod ready,
/// the same load therefore gives the same decision whenever both rules land on the same
/// count: the two runs must agree tick by tick until their inputs first part.
#[test]
fn a_prometheus_metric_and_the_equivalent_pod_metric_decide_alike_where_kthena_says_so() {
    let dir = temp_dir("run", "prometheus");
    let prom = dir.join("prom");
    run(&root().join("scenarios/prometheus-source.yaml"), &prom, &[]);
    let pod_scenario = std::fs::read_to_string(root().join("scenarios/prometheus-source.yaml"))
        .unwrap()
        .replace(
            "../policies/waiting-prometheus-current.yaml",
            &format!("{}/policies/waiting-pod-current.yaml", root().display()),
        );
    let pod_file = dir.join("pod-source.yaml");
    std::fs::write(&pod_file, pod_scenario).unwrap();
    let pod = dir.join("pod");
    run(&pod_file, &pod, &[]);
    let (a, b) = (timeline(&prom), timeline(&pod));
    let (target, tol, min, max) = (6.0f64, 0.1f64, 1i64, 12i64);
    let (mut current, mut agreed, mut moved) = (2i64, 0, 0);
    for (ra, rb) in a.iter().zip(&b) {
        let steady = |r: &BTreeMap<String, String>| {
            r["starting"] == "0" && r["pending"] == "0" && r["terminating"] == "0"
        };
        if ra["metrics"] != rb["metrics"] || !steady(ra) || !steady(rb) {
            break;
        }
        let sum: f64 = ra["metrics"]
            .trim_start_matches("waiting=")
            .parse()
            .unwrap();
        let desired = (sum / target).ceil() as i64;
        let pod_rule = if (sum / target - 1.0).abs() <= tol {
            current
        } else {
            desired
        };
        let ext_rule = if (sum / target / current as f64 - 1.0).abs() <= tol {
            current
        } else {
            desired
        };
        let (pa, pb) = (pod_rule.clamp(min, max), ext_rule.clamp(min, max));
        if pa != pb {
            break;
        }
        assert_eq!(ra["recommended"], rb["recommended"], "t = {}", ra["time_s"]);
        assert_eq!(
            ra["recommended"],
            pa.to_string(),
            "t = {}: Kthena's rule",
            ra["time_s"]
        );
        agreed += 1;
        if pa != current {
            moved += 1;
        }
        current = ra["spec_replicas"].parse().unwrap();
    }
    eprintln!("pod vs Prometheus source: {agreed} ticks agree, {moved} of them scale");
    assert!(agreed >= 20, "compared {agreed} ticks");
    assert!(
        moved >= 1,
        "the compared stretch includes a scaling decision"
    );
}

/// The optimizer's known weakness: it meets the replica count with the cheapest type, whatever
/// its speed. In the guide's GPU/CPU example the cheap servers are an order of magnitude
/// slower, and the requests they serve miss the SLO; the per-ModelServing summary shows it.
#[test]
fn the_cheapest_first_split_misses_the_slo_on_the_slow_type() {
    let out = temp_dir("run", "weakness").join("out");
    let o = run(
        &root().join("scenarios/heterogeneous-gpu-cpu.yaml"),
        &out,
        &[],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let s = summary(&out);
    let (gpu, cpu) = (
        &s["by_serving"]["gpu-serving-instance"],
        &s["by_serving"]["cpu-serving-instance"],
    );
    let f = |v: &Value| v.as_f64().unwrap();
    eprintln!(
        "gpu: attainment {} servers {} e2e p50 {}; cpu: attainment {} servers {} e2e p50 {}",
        gpu["slo_attainment"],
        gpu["replicas"]["average"],
        gpu["latency"]["e2e"]["p50"],
        cpu["slo_attainment"],
        cpu["replicas"]["average"],
        cpu["latency"]["e2e"]["p50"]
    );
    // The cheap type gets the replicas...
    assert!(f(&cpu["replicas"]["peak"]) >= f(&gpu["replicas"]["peak"]));
    // ...and the requests it serves miss the SLO and take far longer.
    assert!(f(&gpu["slo_attainment"]) > 0.9);
    assert!(f(&cpu["slo_attainment"]) < 0.2);
    assert!(f(&cpu["latency"]["e2e"]["p50"]) > 5.0 * f(&gpu["latency"]["e2e"]["p50"]));
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains("## Per ModelServing") && report.contains("`cpu-serving-instance`"),
        "{report}"
    );
}

#[test]
fn bad_prometheus_queries_roles_and_ratios_are_refused() {
    let dir = temp_dir("run", "bad-pd");
    let pd = std::fs::read_to_string(root().join("examples/manifests/current/disaggregated.yaml"))
        .unwrap();
    let scenario = std::fs::read_to_string(root().join("scenarios/disaggregated.yaml")).unwrap();
    let cases = [
        (
            "promql",
            pd.replace("query: sum(", "query: predict_linear(")
                .replace("})", "}[5m], 60)"),
            "",
            "unsupported PromQL: function `predict_linear`",
        ),
        (
            "role",
            pd.clone(),
            "{name: decode, replicas: 2, labels: {service: llama-decode}}",
            "scales role \"decode\", which serving llm-pd",
        ),
        (
            "ratio",
            pd.replace("minRatio: \"0.25\"", "minRatio: \"0.01\"")
                .replace("maxRatio: \"1\"", "maxRatio: \"0.05\""),
            "",
            "ratioConstraint is not achievable within role replica bounds",
        ),
    ];
    for (name, policy, role_from, expected) in cases {
        let pfile = dir.join(format!("{name}-policy.yaml"));
        std::fs::write(&pfile, &policy).unwrap();
        let mut text = scenario.replace(
            "../examples/manifests/current/disaggregated.yaml",
            pfile.to_str().unwrap(),
        );
        if !role_from.is_empty() {
            text = text
                .replace(role_from, "{name: decoder, replicas: 2}")
                .replace("decode_role: decode", "decode_role: decoder");
        }
        let sfile = dir.join(format!("{name}.yaml"));
        std::fs::write(&sfile, text).unwrap();
        let out = dir.join(format!("out-{name}"));
        let o = run(&sfile, &out, &[]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{name}: {err}");
        let expected = expected.replace("llm-pd", "llama-pd");
        assert!(err.contains(&expected), "{name}: {err}");
        assert!(err.contains(&format!("{name}.yaml")), "{name}: {err}");
        assert!(!out.exists());
    }
}

/// Kthena feeds the optimizer's corrected totals into its recommendation windows, so a
/// heterogeneous policy with a scale-up stabilization window (and no panic mode) never
/// scales up in stable mode: every recommendation is held at the current total.
#[test]
fn a_heterogeneous_scale_up_window_holds_the_fleet() {
    let dir = temp_dir("run", "hetero-window");
    let policy = std::fs::read_to_string(root().join("policies/a100-h100-current.yaml"))
        .unwrap()
        .replace("stabilizationWindow: 0s", "stabilizationWindow: 30s");
    let pfile = dir.join("window.yaml");
    std::fs::write(&pfile, policy).unwrap();
    let scenario = std::fs::read_to_string(root().join("scenarios/a100-h100-mix.yaml"))
        .unwrap()
        .replace(
            "../policies/a100-h100-current.yaml",
            pfile.to_str().unwrap(),
        );
    let sfile = dir.join("held.yaml");
    std::fs::write(&sfile, scenario).unwrap();
    let (held, free) = (dir.join("held"), dir.join("free"));
    run(&sfile, &held, &["--duration", "1h"]);
    run(
        &root().join("scenarios/a100-h100-mix.yaml"),
        &free,
        &["--duration", "1h"],
    );
    let peak = |out: &Path| summary(out)["replicas"]["peak"].as_u64().unwrap();
    let rows = timeline(&held);
    let held_ticks = rows
        .iter()
        .filter(|r| {
            r["reason_code"] == "stabilization_window"
                && r["recommended"].parse::<i32>().unwrap() > 1
        })
        .count();
    assert!(held_ticks > 100, "{held_ticks} ticks held by the window");
    assert!(peak(&held) <= 2, "held at its initial total");
    assert!(
        peak(&free) > peak(&held),
        "without the window the fleet grows: {} vs {}",
        peak(&free),
        peak(&held)
    );
}

#[test]
fn a_folder_that_is_not_results_is_kept_unless_forced() {
    let dir = temp_dir("run", "force");
    let notes = dir.join("notes");
    std::fs::create_dir_all(&notes).unwrap();
    std::fs::write(notes.join("plan.txt"), "keep me").unwrap();
    let scenario = root().join("scenarios/steady.yaml");
    let o = run(&scenario, &notes, &["--duration", "2m"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("does not hold kthena-sim results; use --force"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(notes.join("plan.txt")).unwrap(),
        "keep me"
    );
    // Under a file, the folder cannot be made: said before the run.
    let o = run(
        &scenario,
        &notes.join("plan.txt").join("out"),
        &["--duration", "2m"],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("plan.txt is not a folder"), "{err}");
    // Forced, the folder is replaced whole by the results.
    let o = run(&scenario, &notes, &["--duration", "2m", "--force"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(notes.join("summary.json").is_file());
    assert!(!notes.join("plan.txt").exists());
}

#[test]
fn a_scenario_without_policies_runs_and_writes_every_file_with_its_header() {
    let dir = temp_dir("run", "no-policies");
    let text = std::fs::read_to_string(root().join("scenarios/steady.yaml"))
        .expect("steady.yaml")
        .lines()
        .map(|l| {
            if l.starts_with("policies:") {
                "policies: []"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let scenario = root()
        .join("scenarios")
        .join(format!("no-policies-{}.yaml", std::process::id()));
    std::fs::write(&scenario, text).expect("write scenario");
    let out = dir.join("out");
    let o = run(&scenario, &out, &["--duration", "5m"]);
    let _ = std::fs::remove_file(&scenario);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let timeline = std::fs::read_to_string(out.join("timeline.csv")).expect("timeline.csv");
    assert!(
        timeline.starts_with("time_s,policy,autoscaler,target,"),
        "{timeline}"
    );
    assert_eq!(timeline.lines().count(), 1, "a header and no ticks");
    let s = summary(&out);
    assert_eq!(s["scaling"]["ticks"], 0);
    assert!(s["requests"]["completed"].as_u64().unwrap() > 0);
    assert!(out.join("replicas.svg").is_file());
}

/// Every metric the README documents for `summary.json` (`a.{b, c}` lists expanded) is a
/// number or an object in a real run's summary, and every one is accepted by an assertion.
#[test]
fn every_documented_summary_metric_resolves_on_a_real_summary() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let start = readme
        .find("- `summary.json`:")
        .expect("the summary.json bullet");
    let end = start + readme[start..].find("\n- `timeline.csv`").expect("its end");
    let bullet = &readme[start..end];
    // Backticked names, with `{x, y}` groups expanded; `<name>` stands for a serving.
    let mut names = Vec::new();
    for chunk in bullet.split('`').skip(3).step_by(2) {
        let mut expanded = vec![String::new()];
        let mut rest = chunk;
        while let Some(open) = rest.find('{') {
            let close = rest[open..].find('}').expect("closing brace") + open;
            let prefix = &rest[..open];
            let options: Vec<&str> = rest[open + 1..close].split(',').map(str::trim).collect();
            expanded = expanded
                .iter()
                .flat_map(|e| options.iter().map(move |o| format!("{e}{prefix}{o}")))
                .collect();
            rest = &rest[close + 1..];
        }
        names.extend(
            expanded
                .into_iter()
                .map(|e| format!("{e}{rest}"))
                .filter(|n| {
                    n.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_.<>".contains(c))
                }),
        );
    }
    assert!(names.len() > 60, "{names:?}");
    let out = temp_dir("run", "documented").join("out");
    let o = run(
        &root().join("scenarios/steady.yaml"),
        &out,
        &["--duration", "5m"],
    );
    assert!(o.status.success());
    let s = summary(&out);
    let serving = s["cost"]["by_serving"]
        .as_object()
        .and_then(|m| m.keys().next().cloned())
        .expect("a serving");
    for name in &names {
        let name = name.replace("<name>", &serving);
        let v = name.split('.').try_fold(&s, |v, k| v.get(k));
        assert!(v.is_some(), "{name} is documented but not in summary.json");
    }
}
