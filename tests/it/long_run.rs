//! A simulated month (30 days, faults included, no per-request output): the run finishes,
//! and every counter and sum in its outputs is consistent — nothing overflowed, wrapped or
//! went non-finite along the way.

use std::path::PathBuf;

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

const MONTH_S: f64 = 30.0 * 24.0 * 3600.0;

/// Light traffic and a one-minute sync period keep the month quick in a debug build.
fn scenario(policies: &str) -> String {
    format!(
        "name: month\nseed: 4\nduration: 720h\nsync_period: 60s\npolicies: [{policies}/chat-running-current.yaml]\n\
         servings:\n  - name: chat-llama\n    namespace: llm\n    replicas: 3\n    accelerator: h100\n    \
         price_per_gpu_hour: 6.5\n    startup: {{lognormal: {{median: 60s, p99: 3m}}}}\n    \
         server: {{preset: llama3-8b-1xh100}}\n    \
         faults: {{crashes: {{mtbf: 72h, restart: {{constant: 45s}}}}, image_pull: {{failure_probability: 0.2}}}}\n\
         cluster:\n  accelerators:\n    h100: {{gpus: 16}}\n  node_losses:\n    \
         - {{at: 200h, accelerator: h100, gpus: 8, recovers_after: 2h}}\n\
         workload:\n  streams:\n    - poisson:\n        rate: {{diurnal: {{peak_rps: 0.4, trough_ratio: 0.25, peak_at: 14h}}}}\n        \
         input_tokens: {{lognormal: {{median: 600, p99: 4000}}}}\n        output_tokens: {{lognormal: {{median: 200, p99: 1000}}}}\n\
         slo: {{ttft: 1s}}\n"
    )
}

fn finite_numbers(v: &Value, path: &str) {
    match v {
        Value::Number(n) => assert!(n.as_f64().is_some_and(f64::is_finite), "{path}: {n}"),
        Value::Array(a) => a.iter().for_each(|x| finite_numbers(x, path)),
        Value::Object(o) => o
            .iter()
            .for_each(|(k, x)| finite_numbers(x, &format!("{path}.{k}"))),
        _ => {}
    }
}

#[test]
fn a_month_keeps_every_count_and_sum_consistent() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("kthena-sim-month-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("month.yaml");
    let policies = root.join("policies");
    std::fs::write(&file, scenario(&policies.display().to_string())).expect("scenario");
    let out = dir.join("out");
    let o = cargo_bin_cmd!("kthena-sim")
        .args(["run", "--quiet", "--out"])
        .arg(&out)
        .arg(&file)
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!out.join("requests.csv").exists());

    let s: Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    finite_numbers(&s, "summary");
    assert_eq!(s["duration_s"].as_f64(), Some(MONTH_S));
    let r = &s["requests"];
    let n = |k: &str| r[k].as_u64().unwrap();
    assert!(n("total") > 500_000, "{r}");
    assert_eq!(
        n("total"),
        n("completed") + n("failed") + n("dropped") + n("in_flight")
    );
    assert!(s["faults"]["crashes"].as_u64().unwrap() > 0);
    assert_eq!(s["faults"]["node_losses"], 1);

    // One tick a minute from t = 0 to the end, one latency row a minute.
    let ticks = (MONTH_S / 60.0) as usize + 1;
    assert_eq!(s["scaling"]["ticks"].as_u64(), Some(ticks as u64));
    let timeline = std::fs::read_to_string(out.join("timeline.csv")).unwrap();
    assert_eq!(timeline.lines().count(), ticks + 1);
    let latency = std::fs::read_to_string(out.join("latency.csv")).unwrap();
    assert_eq!(latency.lines().count(), (MONTH_S / 60.0) as usize + 1);

    // The bill: the last cost.csv row equals the summary, and the replica-hours at the
    // serving's price (one H100 at 6.5 an hour) give the same money.
    let mut rows = csv::Reader::from_path(out.join("cost.csv")).unwrap();
    let last: Vec<String> = rows
        .records()
        .last()
        .expect("cost rows")
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let cost = s["cost"]["total"].as_f64().unwrap();
    let billed: f64 = last[4].parse().unwrap();
    assert!((billed - cost).abs() < 1e-3, "{billed} vs {cost}");
    let replica_hours = s["replicas"]["replica_hours"].as_f64().unwrap();
    assert!(
        (replica_hours * 6.5 - cost).abs() < 1e-3 * cost,
        "{replica_hours} h vs {cost}"
    );
    assert!(
        replica_hours > 720.0 && replica_hours < 720.0 * 12.0,
        "{replica_hours}"
    );
    std::fs::remove_dir_all(dir).expect("clean up");
}
