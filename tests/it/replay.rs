//! `kthena-sim replay`: output shape, engine switch, skipped lines, `--check`, bad input.

use std::path::PathBuf;

use super::support::kthena_sim;
use serde_json::Value;

fn example() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/replay/unready-pod.jsonl")
}

fn temp_file(name: &str, contents: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kthena-sim-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let p = dir.join(name);
    std::fs::write(&p, contents).expect("write temp file");
    p
}

fn run_ok(args: &[&str]) -> Vec<Value> {
    let out = kthena_sim()
        .args(args)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

#[test]
fn the_versions_differ_on_an_unready_pod() {
    let path = example();
    let p = path.to_str().unwrap();
    let v04 = run_ok(&["replay", "--engine", "v0.4", p]);
    let head = run_ok(&["replay", "--engine", "head", p]);
    assert_eq!(v04.len(), 1);
    let (v04, head) = (&v04[0]["ticks"], &head[0]["ticks"]);
    assert_eq!(v04.as_array().unwrap().len(), 3);
    assert_eq!(v04[1]["skip"], true);
    assert_eq!(v04[1]["reason"]["code"], "unready_pods");
    assert_eq!(v04[1]["reason"]["message"], "skipped: pod c not ready");
    assert_eq!(head[1]["skip"], false);
    assert_eq!(head[1]["corrected"], 6);
    assert_eq!(head[1]["panic"], true);
    assert_eq!(head[1]["algInput"]["unready"], 1);
    assert_eq!(head[2]["reason"]["code"], "panic_rate_limit");
}

#[test]
fn reads_standard_input_and_can_drop_alg_input() {
    let input = std::fs::read_to_string(example()).unwrap();
    let out = kthena_sim()
        .args(["replay", "--engine", "head", "--no-alg-input", "-"])
        .write_stdin(input)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["id"], "worked-example");
    assert!(v["ticks"][0].get("algInput").is_none());
    assert_eq!(v["ticks"][0]["recommended"], 3);
}

#[test]
fn a_line_not_valid_for_the_engine_is_skipped() {
    let mut line: Value =
        serde_json::from_str(&std::fs::read_to_string(example()).unwrap()).unwrap();
    line["validFor"] = serde_json::json!(["head"]);
    let p = temp_file("head-only.jsonl", &format!("{line}\n"));
    let out = run_ok(&["replay", "--engine", "v0.4", p.to_str().unwrap()]);
    assert_eq!(
        out[0],
        serde_json::json!({"id": "worked-example", "skipped": "not valid for v0.4"})
    );
}

#[test]
fn check_reports_agreement_and_fails_on_a_disagreement() {
    let p = example();
    kthena_sim()
        .args(["replay", "--engine", "head", "--check", p.to_str().unwrap()])
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "3 ticks, 0 disagree: 100.00% agreement",
        ));
    let mut line: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    line["expected"]["head"][2]["corrected"] = serde_json::json!(7);
    let bad = temp_file("wrong-expectation.jsonl", &format!("{line}\n"));
    kthena_sim()
        .args([
            "replay",
            "--engine",
            "head",
            "--check",
            bad.to_str().unwrap(),
        ])
        .assert()
        .code(1)
        .stdout(predicates::str::contains(
            "tick 2: corrected: got 6, expected 7",
        ))
        .stdout(predicates::str::contains("1 disagree"));
}

#[test]
fn bad_input_exits_2_with_file_and_line() {
    let good = std::fs::read_to_string(example()).unwrap();
    let p = temp_file(
        "broken.jsonl",
        &format!("{good}{{\"id\": 1, \"scenario\": \n"),
    );
    let assert = kthena_sim()
        .args(["replay", "--engine", "head", p.to_str().unwrap()])
        .assert()
        .code(2)
        .stdout("");
    let err = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(
        err.contains("broken.jsonl:2: invalid scenario line"),
        "{err}"
    );
    assert!(!err.contains("panicked"));

    let dur = temp_file(
        "bad-duration.jsonl",
        &good.replace("\"30s\"", "\"30 seconds\""),
    );
    kthena_sim()
        .args(["replay", "--engine", "head", dur.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "bad-duration.jsonl:1: policy.behavior.scaleUp.stablePolicy.period",
        ));

    kthena_sim()
        .args(["replay", "--engine", "v9", example().to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("unknown engine version"));
    kthena_sim()
        .args(["replay", "--engine", "head", "/nonexistent/ticks.jsonl"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "/nonexistent/ticks.jsonl: cannot open",
        ));
    kthena_sim()
        .args([
            "replay",
            "--engine",
            "head",
            std::env::temp_dir().to_str().unwrap(),
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("is a directory"));
}
