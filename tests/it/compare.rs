//! `compare` and `sweep`: results independent of the thread count, shards that merge into
//! exactly the whole sweep, exit codes, and JUnit XML of the common shape.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::support::{kthena_sim, root, temp_dir};

/// Every file under `dir`, by relative path (also used by the other folder comparisons).
pub(crate) fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(dir).unwrap().display().to_string(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

fn compare(out: &Path, jobs: &str, extra: &[&str]) -> std::process::Output {
    kthena_sim()
        .arg("compare")
        .arg(root().join("scenarios/spike.yaml"))
        .args([
            "--variant",
            "head",
            "--variant",
            "v04",
            "--set",
            "engine=v0.4",
            "--variant",
            "small",
            "--set",
            "binding.maxReplicas=6",
        ])
        .args(["--duration", "20m", "--jobs", jobs, "--out"])
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn compare_gives_identical_results_with_one_thread_and_with_two() {
    let dir = temp_dir("compare", "threads");
    let (one, two) = (dir.join("one"), dir.join("two"));
    let o = compare(&one, "1", &[]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    compare(&two, "2", &[]);
    let (a, b) = (tree(&one), tree(&two));
    assert!(
        a.contains_key("comparison.md")
            && a.contains_key("comparison.csv")
            && a.contains_key("comparison.json")
    );
    assert!(
        a.keys().any(|k| k.starts_with("variants/v04/")),
        "{:?}",
        a.keys()
    );
    assert_eq!(a, b);
    let csv = String::from_utf8(a["comparison.csv"].clone()).unwrap();
    assert_eq!(csv.lines().count(), 4, "a header and one row per variant");
    // The variant's settings really apply: v0.4 skips ticks while pods start, head does not.
    let json: serde_json::Value = serde_json::from_slice(&a["comparison.json"]).unwrap();
    let rows = json["rows"].as_array().unwrap();
    assert_eq!(rows[1]["variant"], "v04");
    assert!(rows[1]["skipped_ticks"].as_f64() > rows[0]["skipped_ticks"].as_f64());
    assert!(rows[2]["replicas_peak"].as_f64().unwrap() <= 6.0);
    // Each variant's report.md (and each of its replications') says which variant it is
    // and what it changes, under the title: a variant's folder is often read on its own.
    let line = |path: &str| {
        let md = String::from_utf8(a[path].clone()).unwrap();
        md.lines().nth(2).unwrap_or_default().to_owned()
    };
    assert_eq!(
        line("variants/small/report.md"),
        "Variant `small`: `--set binding.maxReplicas=6`."
    );
    assert_eq!(
        line("variants/v04/replications/2/report.md"),
        "Variant `v04`: `--set engine=v0.4`."
    );
    assert_eq!(
        line("variants/head/report.md"),
        "Variant `head`: no settings of its own."
    );
}

#[test]
fn a_failed_assertion_fails_the_comparison_and_the_junit_says_which() {
    let dir = temp_dir("compare", "junit");
    let junit = dir.join("junit.xml");
    let md = dir.join("summary.md");
    let o = kthena_sim()
        .arg("compare")
        .arg(root().join("scenarios/spike.yaml"))
        .args([
            "--variant",
            "ok",
            "--variant",
            "broke",
            "--set",
            "assertions[1]=cost.total <= 1",
        ])
        .args(["--duration", "10m", "--out"])
        .arg(dir.join("out"))
        .arg("--junit")
        .arg(&junit)
        .arg("--markdown-summary")
        .arg(&md)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let suites = doc.root_element();
    assert_eq!(suites.tag_name().name(), "testsuites");
    assert_eq!(suites.attribute("tests"), Some("4"));
    assert_eq!(suites.attribute("failures"), Some("1"));
    let names: Vec<&str> = suites
        .children()
        .filter(|n| n.is_element())
        .map(|n| n.attribute("name").unwrap())
        .collect();
    assert_eq!(names, vec!["ok", "broke"]);
    for suite in suites.children().filter(|n| n.is_element()) {
        assert_eq!(suite.tag_name().name(), "testsuite");
        let cases: Vec<_> = suite.children().filter(|n| n.is_element()).collect();
        assert_eq!(cases.len().to_string(), suite.attribute("tests").unwrap());
        assert!(cases
            .iter()
            .all(|c| c.tag_name().name() == "testcase" && c.attribute("classname").is_some()));
    }
    let failure = doc
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .expect("one failure");
    assert_eq!(failure.attribute("message"), Some("cost.total <= 1 failed"));
    assert_eq!(
        failure
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .attribute("name"),
        Some("broke")
    );
    let summary = std::fs::read_to_string(&md).unwrap();
    assert!(
        summary.contains(
            "**broke**: cost.total <= 1 (mean 5.466667; failed in replications 1, 2, 3, 4, 5)"
        ),
        "{summary}"
    );
    assert!(
        failure
            .text()
            .is_some_and(|t| t.contains("failed in replications 1, 2, 3, 4, 5")),
        "{:?}",
        failure.text()
    );
}

#[test]
fn sweep_shards_merge_into_the_whole_sweep() {
    let dir = temp_dir("compare", "sweep");
    let sweep = |out: &Path, shard: Option<&str>| {
        let mut c = kthena_sim();
        c.arg("sweep")
            .arg(root().join("scenarios/spike.yaml"))
            .args([
                "--set",
                "policy.metrics[0].targetValue=8,100",
                "--set",
                "binding.maxReplicas=4,8,16",
                "--duration",
                "15m",
                "--out",
            ])
            .arg(out);
        if let Some(s) = shard {
            c.args(["--shard", s]);
        }
        let o = c.output().unwrap();
        assert!(
            o.status.code().is_some_and(|c| c <= 1),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    let whole = dir.join("whole");
    sweep(&whole, None);
    let shards: Vec<PathBuf> = (1..=3).map(|k| dir.join(format!("shard{k}"))).collect();
    for (k, s) in shards.iter().enumerate() {
        sweep(s, Some(&format!("{}/3", k + 1)));
    }
    let merged = dir.join("merged");
    let o = kthena_sim()
        .args(["sweep", "merge"])
        .args(&shards)
        .arg("--out")
        .arg(&merged)
        .output()
        .unwrap();
    assert!(
        o.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for f in ["sweep.md", "sweep.csv", "sweep.json"] {
        assert_eq!(
            std::fs::read(whole.join(f)).unwrap(),
            std::fs::read(merged.join(f)).unwrap(),
            "{f}"
        );
    }
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(whole.join("sweep.json")).unwrap()).unwrap();
    let rows = json["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 6);
    assert!(rows.iter().any(|r| r["pareto"] == true));
    // Each shard ran only its slice.
    let shard1: serde_json::Value =
        serde_json::from_slice(&std::fs::read(shards[0].join("sweep.json")).unwrap()).unwrap();
    let idx: Vec<u64> = shard1["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["index"].as_u64().unwrap())
        .collect();
    assert_eq!(idx, vec![0, 3]);
}
