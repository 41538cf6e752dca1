//! The fault examples: each fault shows in summary.json, timeline.csv and report.md, and
//! changes the run the way it should against the same scenario without it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::support::root;
use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

/// Runs `scenarios/<name>.yaml` into a fresh folder; returns the folder.
fn run(name: &str, tag: &str, extra: &[&str]) -> PathBuf {
    let out = std::env::temp_dir().join(format!("kthena-sim-faults-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let o = cargo_bin_cmd!("kthena-sim")
        .arg("run")
        .arg(root().join("scenarios").join(format!("{name}.yaml")))
        .arg("--out")
        .arg(&out)
        .arg("--quiet")
        .args(extra)
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    out
}

fn summary(out: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(out.join("summary.json")).expect("summary.json"))
        .expect("JSON")
}

fn timeline(out: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(out.join("timeline.csv")).expect("timeline.csv");
    r.deserialize().map(|row| row.expect("row")).collect()
}

fn num(row: &BTreeMap<String, String>, k: &str) -> f64 {
    row[k]
        .parse()
        .unwrap_or_else(|_| panic!("{k}: {:?}", row[k]))
}

fn report(out: &Path) -> String {
    std::fs::read_to_string(out.join("report.md")).expect("report.md")
}

#[test]
fn a_crash_freezes_the_autoscaler_in_both_engine_versions() {
    for engine in ["v0.4", "head"] {
        let out = run(
            "faults-crashes",
            &format!("crash-{engine}"),
            &["--duration", "2h", "--engine", engine],
        );
        let s = summary(&out);
        let f = &s["faults"];
        assert!(f["crashes"].as_u64().unwrap() >= 1, "{engine}: {f}");
        assert!(
            s["requests"]["failed_crashed"].as_u64().unwrap() > 0,
            "{engine}"
        );
        let rows = timeline(&out);
        let first = rows
            .iter()
            .position(|r| num(r, "restarted") > 0.0)
            .expect("a restarted pod");
        // From the first restart on, every tick is skipped: the pod keeps its restart count.
        let after = &rows[first..];
        assert!(after.iter().all(|r| r["skip"] == "true"), "{engine}");
        assert_eq!(
            f["ticks_skipped_with_restarted_pods"].as_u64().unwrap(),
            after.len() as u64,
            "{engine}"
        );
        assert!(
            rows[..first].iter().any(|r| r["skip"] == "false"),
            "{engine}"
        );
        let md = report(&out);
        assert!(md.contains("## Faults"), "{engine}");
        assert!(md.contains("first container crash"), "{engine}");
        std::fs::remove_dir_all(out).expect("clean up");
    }
}

#[test]
fn a_lost_node_shows_lost_then_pending_pods_until_it_is_replaced() {
    let out = run("faults-node-loss", "node", &[]);
    let s = summary(&out);
    assert_eq!(s["faults"]["node_losses"], 1);
    let lost = s["faults"]["pods_lost"].as_u64().unwrap();
    assert!(lost >= 1);
    let rows = timeline(&out);
    let at = |r: &BTreeMap<String, String>| num(r, "time_s");
    // Lost at 40 min, evicted 5 min later; the capacity is back at 70 min.
    for r in &rows {
        let t = at(r);
        let l = num(r, "lost");
        if (2400.0..2700.0).contains(&t) {
            assert_eq!(l, lost as f64, "t = {t}");
        } else {
            assert_eq!(l, 0.0, "t = {t}");
        }
    }
    assert!(rows
        .iter()
        .any(|r| (2700.0..4200.0).contains(&at(r)) && num(r, "pending") > 0.0));
    assert!(rows
        .iter()
        .all(|r| at(r) < 4200.0 + 60.0 || num(r, "pending") == 0.0));
    let md = report(&out);
    assert!(md.contains("h100 node lost (8 GPUs"), "{md}");
    assert!(
        md.contains("h100 node replaced; capacity now 16 GPUs"),
        "{md}"
    );
    std::fs::remove_dir_all(out).expect("clean up");
}

#[test]
fn a_registry_outage_delays_the_capacity_of_a_spike() {
    let with = run("faults-image-pull", "pull", &[]);
    let without = run("spike", "pull-baseline", &[]);
    let s = summary(&with);
    assert!(s["faults"]["image_pull_failures"].as_u64().unwrap() > 0);
    assert_eq!(summary(&without)["faults"]["image_pull_failures"], 0);
    // The first tick with 6 ready servers comes later with the outage.
    let first_six = |out: &Path| {
        timeline(out)
            .iter()
            .find(|r| num(r, "ready") >= 6.0)
            .map(|r| num(r, "time_s"))
            .expect("six servers ready at some point")
    };
    let (late, early) = (first_six(&with), first_six(&without));
    assert!(late > early + 300.0, "{late} vs {early}");
    let attainment = |out: &Path| summary(out)["slo"]["attainment"].as_f64().unwrap();
    assert!(attainment(&with) < attainment(&without));
    assert!(report(&with).contains("image pull failed"));
    for out in [with, without] {
        std::fs::remove_dir_all(out).expect("clean up");
    }
}
