//! Replications: their 95 % intervals cover the true mean as often as they claim; a
//! comparison of two policies that differ by noise says so, one of two that really differ
//! gives the difference with its interval; `plan` returns only a winner that meets every
//! assertion in every replication; and the surprises of paths and defaults are gone.

use std::path::Path;

use super::support::{kthena_sim, root, temp_dir};
use kthena_sim::experiment::{run_all, Variant};
use kthena_sim::model::world::RunOptions;
use kthena_sim::scenario::Overrides;
use serde_json::Value;

fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap_or_else(|e| panic!("{path:?}: {e}")))
        .expect("JSON")
}

/// One fixed server (no autoscaling) fed by Poisson arrivals at 0.2 req/s for 10 minutes:
/// the number of arrivals has mean exactly 120.
const POISSON: &str = "name: poisson\nseed: 0\nduration: 10m\nservings:\n  - name: s\n    replicas: 1\n    server: {preset: llama3-8b-1xh100}\nworkload:\n  streams:\n    - poisson:\n        rate: {constant: 0.2}\n        input_tokens: {uniform: {min: 100, max: 400}}\n        output_tokens: {uniform: {min: 20, max: 200}}\n";

/// One trial: the intervals of the arrivals and of the mean e2e latency, and the latter's
/// mean.
type Trial = ((f64, f64), (f64, f64), f64);

/// Over 1000 independent seeds, each run as 5 replications, the Student t 95 % interval of
/// the mean covers the true mean 93–97 % of the time: for the arrivals (true mean known,
/// 120) and for the mean end-to-end latency (true mean: the mean of all 5000 runs).
#[test]
fn the_95_percent_interval_covers_the_true_mean_about_95_percent_of_the_time() {
    let dir = temp_dir("reps", "coverage");
    let path = dir.join("poisson.yaml");
    std::fs::write(&path, POISSON).expect("scenario");
    let variant = Variant {
        name: "only".into(),
        policies: None,
        settings: Vec::new(),
    };
    let trials = 1000u64;
    let mut intervals: Vec<Trial> = Vec::new();
    for seed in 0..trials {
        // Seeds far apart: the trials' replications never share a seed.
        let overrides = Overrides {
            seed: Some(seed * 1_000_003),
            ..Overrides::default()
        };
        let runs = run_all(
            &path,
            &overrides,
            std::slice::from_ref(&variant),
            5,
            RunOptions::default(),
            Some(1),
            &|| {},
        )
        .expect("runs");
        let stats = &runs[0]
            .summary
            .replications
            .as_ref()
            .expect("5 replications")
            .stats;
        let ci = |m: &str| (stats[m].ci95_low, stats[m].ci95_high);
        intervals.push((
            ci("requests.total"),
            ci("latency.e2e.mean"),
            stats["latency.e2e.mean"].mean,
        ));
    }
    let grand = intervals.iter().map(|i| i.2).sum::<f64>() / trials as f64;
    let covers = |f: &dyn Fn(&Trial) -> bool| {
        intervals.iter().filter(|i| f(i)).count() as f64 / trials as f64
    };
    let arrivals = covers(&|i| i.0 .0 <= 120.0 && 120.0 <= i.0 .1);
    let latency = covers(&|i| i.1 .0 <= grand && grand <= i.1 .1);
    eprintln!("coverage: arrivals {arrivals:.3}, e2e mean {latency:.3} (grand mean {grand:.4} s)");
    assert!((0.93..=0.97).contains(&arrivals), "arrivals: {arrivals}");
    assert!((0.93..=0.97).contains(&latency), "latency: {latency}");
}

/// On the spike, with the default 5 replications: a target of 8 or 10 waiting requests is
/// the same within the noise; 16 or 8 servers at most is a real difference.
#[test]
fn a_comparison_tells_noise_from_a_difference() {
    let out = temp_dir("reps", "spike").join("out");
    kthena_sim()
        .arg("compare")
        .arg(root().join("scenarios/spike.yaml"))
        .args([
            "--variant",
            "t8",
            "--set",
            "policy.metrics[0].targetValue=8",
        ])
        .args([
            "--variant",
            "t10",
            "--set",
            "policy.metrics[0].targetValue=10",
        ])
        .args(["--variant", "max8", "--set", "binding.maxReplicas=8"])
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let table = json(&out.join("comparison.json"));
    let rows = table["rows"].as_array().expect("rows");
    assert_eq!(rows[0]["replications"], 5);
    let verdict = |row: &Value, metric: &str| -> String {
        row["versus_baseline"]
            .as_array()
            .and_then(|d| d.iter().find(|d| d["metric"] == metric))
            .map(|d| d["verdict"].as_str().unwrap_or_default().to_string())
            .unwrap_or_default()
    };
    assert!(
        verdict(&rows[1], "cost.total").starts_with("no significant difference in cost"),
        "{}",
        verdict(&rows[1], "cost.total")
    );
    assert!(
        verdict(&rows[1], "slo.attainment").starts_with("no significant difference in attainment")
    );
    let cost = verdict(&rows[2], "cost.total");
    assert!(cost.starts_with("cheaper by "), "{cost}");
    let d = rows[2]["versus_baseline"][0].clone();
    assert_eq!(d["significant"], true);
    assert!(
        d["ci95_low"].as_f64() < d["mean"].as_f64() && d["mean"].as_f64() < d["ci95_high"].as_f64()
    );
    let md = std::fs::read_to_string(out.join("comparison.md")).expect("md");
    assert!(md.contains("## Against the baseline (t8)"), "{md}");
    assert!(md.contains(&format!("**max8**: {cost}")), "{md}");
    let csv = std::fs::read_to_string(out.join("comparison.csv")).expect("csv");
    assert!(csv
        .lines()
        .next()
        .unwrap_or_default()
        .contains("cost_diff_ci95_low_pct"));
    // Each variant's folder: the summary of means with each metric's spread, and each
    // replication's own folder; their charts only with `--charts all`, the overlays at the
    // top.
    let s = json(&out.join("variants/max8/summary.json"));
    assert_eq!(s["replications"]["count"], 5);
    assert!(s["replications"]["stats"]["cost.total"]["ci95_low"].is_number());
    assert!(out
        .join("variants/max8/replications/5/timeline.csv")
        .is_file());
    assert!(!out.join("variants/max8/replicas.svg").exists());
    assert!(out.join("overlay-replicas.svg").is_file());
    let report = std::fs::read_to_string(out.join("variants/max8/report.md")).expect("report");
    assert!(report.contains(" ± "), "{report}");
}

/// The diurnal plan's winner meets every assertion in every one of its replications: a run
/// of it with `--replications 5` passes them all.
#[test]
fn the_plans_winner_meets_every_assertion_in_every_replication() {
    let dir = temp_dir("reps", "plan");
    let out = dir.join("plan");
    let o = kthena_sim()
        .arg("plan")
        .arg(root().join("scenarios/plan-diurnal.yaml"))
        .arg("--out")
        .arg(&out)
        .output()
        .expect("runs");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let plan = json(&out.join("plan.json"));
    let winner = &plan["winner"];
    assert_eq!(winner["verdict"], "meets");
    assert_eq!(winner["replications_passed"], serde_json::json!([5, 5]));
    let settings: Vec<String> = winner["settings"]
        .as_array()
        .expect("settings")
        .iter()
        .map(|s| s.as_str().unwrap_or_default().to_string())
        .collect();
    let mut rerun = kthena_sim();
    rerun
        .arg("run")
        .arg(root().join("scenarios/plan-diurnal.yaml"))
        .args(["--replications", "5", "-q", "--out"])
        .arg(dir.join("rerun"));
    for s in &settings {
        rerun.args(["--set", s]);
    }
    rerun.assert().success();
    let summary = json(&dir.join("rerun/summary.json"));
    for a in summary["assertions"].as_array().expect("assertions") {
        assert_eq!(a["passed"], true, "{a}");
        assert!(a.get("failed_replications").is_none(), "{a}");
    }
    for r in 1..=5 {
        let own = json(&dir.join(format!("rerun/replications/{r}/summary.json")));
        for a in own["assertions"].as_array().expect("assertions") {
            assert_eq!(a["passed"], true, "replication {r}: {a}");
        }
    }
}

#[test]
fn a_trace_runs_for_its_span_unless_a_duration_is_given() {
    let dir = temp_dir("reps", "span");
    let o = kthena_sim()
        .arg("run")
        .arg(root().join("scenarios/steady.yaml"))
        .arg("--trace")
        .arg(root().join("traces/spike-30m.csv"))
        .args(["-q", "--out"])
        .arg(dir.join("out"))
        .output()
        .expect("runs");
    // The steady scenario's SLO assertion fails on the spike's trace: exit 1, files written.
    assert!(o.status.code().is_some_and(|c| c <= 1), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("simulating the trace's span, 30m"), "{err}");
    let s = json(&dir.join("out/summary.json"));
    assert!(
        (1790.0..=1810.0).contains(&s["duration_s"].as_f64().unwrap()),
        "{}",
        s["duration_s"]
    );
}

#[test]
fn variants_on_two_engine_versions_get_an_engine_column() {
    let dir = temp_dir("reps", "engines");
    let out = dir.join("out");
    kthena_sim()
        .current_dir(root())
        .args([
            "compare",
            "scenarios/spike.yaml",
            "--duration",
            "5m",
            "--replications",
            "1",
        ])
        .args(["--variant", "head=policies/chat-current.yaml"])
        .args(["--variant", "v04=policies/chat-v0.4.yaml"])
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let md = std::fs::read_to_string(out.join("comparison.md")).expect("md");
    assert!(md.contains("| variant | engine |"), "{md}");
    assert!(md.contains("different engine versions"), "{md}");
}

#[test]
fn sweep_merge_refuses_a_missing_shard_by_name() {
    let dir = temp_dir("reps", "merge");
    let shard = dir.join("shard-1");
    kthena_sim()
        .arg("sweep")
        .arg(root().join("scenarios/spike.yaml"))
        .args(["--duration", "5m", "--replications", "1"])
        .args([
            "--set",
            "binding.maxReplicas=4,8,16",
            "--shard",
            "1/2",
            "--out",
        ])
        .arg(&shard)
        .assert()
        .success();
    let o = kthena_sim()
        .args(["sweep", "merge"])
        .arg(&shard)
        .arg("--out")
        .arg(dir.join("merged"))
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("the shards hold 2 of the sweep's 3 combinations; missing: 1"),
        "{err}"
    );
    assert!(!dir.join("merged").exists());
}
