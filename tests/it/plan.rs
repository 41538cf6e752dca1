//! `kthena-sim plan`: the example finds a configuration cheaper than its start that really
//! meets the SLOs (re-run with `run --set` and with the written manifests), the result does
//! not depend on the thread count, nothing meeting exits 1 naming the closest, and bad plan
//! sections exit 2 with their field paths.

use std::path::{Path, PathBuf};
use std::process::Output;

use super::support::{root, temp_dir};
use assert_cmd::Command;
use serde_json::Value;

/// Short runs keep the test quick; the example's SLOs hold at this length too.
const DURATION: &str = "20m";

fn example() -> PathBuf {
    root().join("scenarios/plan-steady.yaml")
}

fn kthena_sim(args: &[&str]) -> Output {
    Command::cargo_bin("kthena-sim")
        .expect("binary built")
        .args(args)
        .output()
        .expect("kthena-sim")
}

fn plan(scenario: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "plan",
        scenario.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--duration",
        DURATION,
    ];
    args.extend_from_slice(extra);
    kthena_sim(&args)
}

fn json(path: &Path) -> Value {
    serde_json::from_slice(&read(path)).expect("JSON")
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `run` of the example with `settings`; gives its summary.json.
fn rerun(out: &Path, settings: &[String]) -> Value {
    let mut args = vec![
        "run".to_string(),
        example().display().to_string(),
        "--out".into(),
        out.display().to_string(),
        "--duration".into(),
        DURATION.into(),
        "--quiet".into(),
    ];
    for s in settings {
        args.push("--set".into());
        args.push(s.clone());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = kthena_sim(&args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "the winner must meet every assertion when re-run: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    json(&out.join("summary.json"))
}

#[test]
fn plan_finds_a_cheaper_configuration_that_really_meets_the_slos() {
    let dir = temp_dir("plan", "example");
    let out = dir.join("plan");
    let o = plan(&example(), &out, &["--jobs", "2"]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(stdout.contains("## Winner: c"), "{stdout}");
    assert!(stdout.contains("## Search"), "{stdout}");
    let p = json(&out.join("plan.json"));
    let (start, winner) = (&p["start"], &p["winner"]);
    assert_eq!(start["verdict"], "meets");
    let (start_cost, cost) = (
        start["cost"].as_f64().unwrap(),
        winner["cost"].as_f64().unwrap(),
    );
    assert!(
        cost < start_cost * 0.9,
        "winner {cost} vs start {start_cost}"
    );
    let settings: Vec<String> = winner["settings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    assert!(!settings.is_empty());
    // Bounded: far fewer runs than the 7 × 4 × 5 × 4 grid, every one recorded.
    let candidates = p["candidates"].as_array().unwrap();
    assert!(candidates.len() <= 40, "{} candidates", candidates.len());
    assert_eq!(p["rows"].as_array().unwrap().len(), candidates.len());
    let csv = String::from_utf8(read(&out.join("plan.csv"))).unwrap();
    assert_eq!(csv.lines().count(), candidates.len() + 1);
    let md = String::from_utf8(read(&out.join("plan.md"))).unwrap();
    for part in ["## Winner", "## Search", "## All candidates", "bisected"] {
        assert!(md.contains(part), "{part} in plan.md");
    }

    // The winner really meets the SLOs: re-run it with its settings…
    let summary = rerun(&dir.join("rerun"), &settings);
    assert_eq!(summary["cost"]["total"].as_f64(), Some(cost));
    assert_eq!(
        json(&out.join("winner/summary.json"))["cost"]["total"].as_f64(),
        Some(cost)
    );
    // …and with the written manifests in place of the scenario's policy (plus the scenario
    // fields the manifests cannot hold).
    let manifest = out.join("manifests/chat-running-current.yaml");
    let text = String::from_utf8(read(&manifest)).unwrap();
    assert!(text.starts_with("# Written by `kthena-sim plan`"), "{text}");
    let mut with_manifest: Vec<String> = settings
        .iter()
        .filter(|s| !s.starts_with("policy.") && !s.starts_with("binding."))
        .cloned()
        .collect();
    with_manifest.push(format!("policies=[{:?}]", manifest.display().to_string()));
    let summary = rerun(&dir.join("rerun-manifests"), &with_manifest);
    assert_eq!(summary["cost"]["total"].as_f64(), Some(cost));
}

#[test]
fn plan_results_do_not_depend_on_the_thread_count() {
    let dir = temp_dir("plan", "threads");
    let (a, b) = (dir.join("one"), dir.join("two"));
    assert_eq!(
        plan(&example(), &a, &["--jobs", "1"]).status.code(),
        Some(0)
    );
    assert_eq!(
        plan(&example(), &b, &["--jobs", "2"]).status.code(),
        Some(0)
    );
    for f in [
        "plan.md",
        "plan.csv",
        "plan.json",
        "winner/summary.json",
        "manifests/chat-running-current.yaml",
    ] {
        assert!(read(&a.join(f)) == read(&b.join(f)), "{f} differs");
    }
}

/// The example with its `plan:` section (and optionally its assertions) replaced.
fn variant_of_example(dir: &Path, name: &str, plan: &str, assertions: Option<&str>) -> PathBuf {
    let text = std::fs::read_to_string(example()).unwrap();
    let (head, _) = text.split_once("\nplan:").expect("the example has a plan");
    let mut head = head.replace("../policies/", &format!("{}/policies/", root().display()));
    if let Some(a) = assertions {
        // The assertions are the last field before the plan.
        let (before, _) = head.split_once("assertions:").unwrap();
        head = format!("{before}assertions: {a}");
    }
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(&path, format!("{head}\n{plan}")).unwrap();
    path
}

#[test]
fn when_nothing_meets_plan_exits_1_and_names_the_closest() {
    let dir = temp_dir("plan", "none");
    let scenario = variant_of_example(
        &dir,
        "impossible",
        "plan:\n  max_runs: 6\n  dimensions:\n    - {key: binding.maxReplicas, values: [4, 8], monotone: cost_increasing}\n",
        Some("[\"cost.total <= 1\", \"slo.attainment >= 0.9\"]"),
    );
    let out = dir.join("out");
    let o = plan(&scenario, &out, &[]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("No configuration meets every assertion") && stdout.contains("Closest"),
        "{stdout}"
    );
    assert!(
        stdout.contains("`cost.total <= 1` failed in replications 1, 2, 3, 4, 5 (mean"),
        "{stdout}"
    );
    assert!(out.join("closest/summary.json").is_file());
    assert!(!out.join("manifests").exists());
    assert_eq!(json(&out.join("plan.json"))["winner"], Value::Null);
}

#[test]
fn bad_plan_sections_exit_2_with_field_paths() {
    let dir = temp_dir("plan", "bad");
    let cases = [
        (
            "plan:\n  max_runs: 0\n  dimensions:\n    - {key: binding.maxReplicas, range: {min: 4, max: 8, step: 0}}\n    - {key: binding.minReplicas, values: [3, 1], monotone: cost_increasing}\n",
            vec![
                "plan.max_runs: must be at least 1",
                "plan.dimensions[0].range.step: must be greater than 0",
                "plan.dimensions[1].values[1]: 1 after 3",
            ],
        ),
        (
            "plan:\n  dimensions:\n    - {key: binding.maxReplicas, values: [4], range: {min: 1, max: 2, step: 1}}\n    - {key: binding.minReplicas}\n",
            vec![
                "plan.dimensions[0]: give `values` or `range`, not both",
                "plan.dimensions[1]: give the candidate values",
            ],
        ),
        (
            "plan:\n  dimensions:\n    - {key: binding.maxReplicas, values: [4], monotone: sometimes}\n",
            vec!["plan.dimensions[0].monotone: unknown variant `sometimes`"],
        ),
        (
            "plan:\n  dimensions:\n    - {key: 'servings[nope].replicas', values: [1, 2]}\n",
            vec!["plan.dimensions[0]: the scenario refuses every value of `servings[nope].replicas`"],
        ),
        ("", vec!["plan: missing"]),
    ];
    for (i, (section, wanted)) in cases.iter().enumerate() {
        let scenario = variant_of_example(&dir, &format!("bad-{i}"), section, None);
        let out = dir.join(format!("out-{i}"));
        let o = plan(&scenario, &out, &[]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "case {i}: {stderr}");
        for w in wanted {
            assert!(stderr.contains(w), "case {i}: {w:?} in {stderr}");
        }
        assert!(!out.exists(), "case {i}: nothing is written on bad input");
    }
    let scenario = variant_of_example(
        &dir,
        "no-assertions",
        "plan:\n  dimensions:\n    - {key: binding.maxReplicas, values: [4, 8]}\n",
        Some("[]"),
    );
    let o = plan(&scenario, &dir.join("out-none"), &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr)
        .contains("assertions: plan needs at least one assertion"));
}
