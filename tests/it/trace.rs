//! `kthena-sim trace`: statistics checked against an independent computation on the real
//! Azure trace, generation and conversion round trips, and malformed traces refused with the
//! file and the row.

use std::path::PathBuf;

use super::support::{kthena_sim, temp_dir};
use serde_json::Value;

fn azure() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("traces/azure-llm-2023-code.csv")
}

/// numpy's default percentile of sorted values, written out independently.
fn numpy_percentile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let i = pos as usize;
    if i + 1 >= sorted.len() {
        return sorted[sorted.len() - 1];
    }
    sorted[i] * (1.0 - (pos - i as f64)) + sorted[i + 1] * (pos - i as f64)
}

fn stats_json(path: &std::path::Path) -> Value {
    let out = kthena_sim()
        .args(["trace", "stats", "--json"])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn stats_of_the_azure_code_trace_match_an_independent_count() {
    let s = stats_json(&azure());
    assert_eq!(s["requests"], 8819);
    let minutes = s["duration_s"].as_f64().unwrap() / 60.0;
    assert!(
        (56.0..58.0).contains(&minutes),
        "about 57 minutes: {minutes}"
    );
    // Independently: the CSV read with the csv crate, lengths sorted, percentiles by hand.
    let mut r = csv::Reader::from_path(azure()).unwrap();
    let (mut input, mut output) = (Vec::new(), Vec::new());
    for row in r.records() {
        let row = row.unwrap();
        input.push(row[1].parse::<f64>().unwrap());
        output.push(row[2].parse::<f64>().unwrap());
    }
    input.sort_by(f64::total_cmp);
    output.sort_by(f64::total_cmp);
    for (key, values) in [("input_tokens", &input), ("output_tokens", &output)] {
        for (name, q) in [("p50", 0.5), ("p90", 0.9), ("p99", 0.99)] {
            let ours = s[key][name].as_f64().unwrap();
            let theirs = numpy_percentile(values, q);
            assert!(
                (ours - theirs).abs() < 1e-6,
                "{key}.{name}: {ours} vs {theirs}"
            );
        }
        assert_eq!(s[key]["max"].as_f64().unwrap(), *values.last().unwrap());
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        assert!((s[key]["mean"].as_f64().unwrap() - mean).abs() < 1e-5);
    }
    assert!(
        s["inter_arrival_cv"].as_f64().unwrap() > 1.0,
        "the trace is bursty"
    );
    let text = kthena_sim()
        .args(["trace", "stats"])
        .arg(azure())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("requests        8819") && text.contains("per minute"),
        "{text}"
    );
}

#[test]
fn convert_then_stats_keeps_every_request() {
    let dir = temp_dir("trace", "convert");
    let out = dir.join("azure-generic.csv");
    kthena_sim()
        .args(["trace", "convert"])
        .arg(azure())
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let a = stats_json(&azure());
    let b = stats_json(&out);
    for key in ["requests", "input_tokens", "output_tokens", "per_minute"] {
        assert_eq!(a[key], b[key], "{key}");
    }
    assert!((a["duration_s"].as_f64().unwrap() - b["duration_s"].as_f64().unwrap()).abs() < 1e-5);
}

/// A BurstGPT trace: rows 2 and 4 are failures (0 response tokens), row 3 has no prompt.
const BURSTGPT: &str = "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type
0,ChatGPT,100,20,120,Conversation log
1,ChatGPT,200,0,200,Conversation log
2,GPT-4,0,30,30,Conversation log
3,ChatGPT,150,0,150,Conversation log
4,GPT-4,120,40,160,Conversation log
";

const SKIPPED: &str =
    "skipped 2 rows: 0 response tokens (BurstGPT failures; zero_output: one_token keeps them)";
const CHANGED: &str = "changed 1 row: 0 prompt tokens read as 1 (a request has at least one)";

#[test]
fn stats_and_convert_say_which_rows_they_skipped_or_changed_and_why() {
    let dir = temp_dir("trace", "skipped");
    let trace = dir.join("burstgpt.csv");
    std::fs::write(&trace, BURSTGPT).unwrap();
    let s = stats_json(&trace);
    assert_eq!(s["requests"], 3);
    assert_eq!(s["skipped_rows"], serde_json::json!({"zero_output": 2}));
    assert_eq!(
        s["changed_rows"],
        serde_json::json!({"zero_output": 0, "zero_input": 1})
    );
    let out = kthena_sim()
        .args(["trace", "stats"])
        .arg(&trace)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[1], "  requests        3", "{text}");
    assert_eq!(
        lines[2],
        "  skipped         2 rows: 0 response tokens (BurstGPT failures; zero_output: one_token keeps them)"
    );
    assert_eq!(
        lines[3],
        "  changed         1 row: 0 prompt tokens read as 1 (a request has at least one)"
    );

    let csv = dir.join("generic.csv");
    let out = kthena_sim()
        .args(["trace", "convert"])
        .arg(&trace)
        .arg("--out")
        .arg(&csv)
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let err: Vec<&str> = err.lines().collect();
    assert_eq!(err[1..], [SKIPPED, CHANGED], "{err:?}");
    assert_eq!(
        std::fs::read_to_string(&csv).unwrap(),
        "arrival_s,input_tokens,output_tokens\n0.000000,100,20\n2.000000,1,30\n4.000000,120,40\n"
    );
    let out = kthena_sim()
        .args(["trace", "convert", "--quiet"])
        .arg(&trace)
        .arg("--out")
        .arg(&csv)
        .output()
        .unwrap();
    assert!(out.status.success() && out.stderr.is_empty());

    // Nothing skipped, nothing said.
    let out = kthena_sim()
        .args(["trace", "stats"])
        .arg(azure())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !text.contains("skipped") && !text.contains("changed"),
        "{text}"
    );
    assert_eq!(stats_json(&azure())["skipped_rows"]["zero_output"], 0);

    // Failures only: the trace is empty, and the message says why.
    let failures = dir.join("failures.csv");
    let header = BURSTGPT.lines().next().unwrap();
    std::fs::write(
        &failures,
        format!("{header}\n1,ChatGPT,200,0,200,Conversation log\n"),
    )
    .unwrap();
    let out = kthena_sim()
        .args(["trace", "stats"])
        .arg(&failures)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no requests in the trace (skipped 1 row: 0 response tokens"),
        "{err}"
    );
}

#[test]
fn a_run_says_which_trace_rows_it_skipped_and_its_report_describes_the_workload() {
    let dir = temp_dir("trace", "run-skipped");
    let trace = dir.join("burstgpt.csv");
    std::fs::write(&trace, BURSTGPT).unwrap();
    let out = dir.join("out");
    // Three requests over 90 minutes: the run is cheap, the report's duration in h and min.
    let o = kthena_sim()
        .arg("run")
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/spike.yaml"))
        .arg("--trace")
        .arg(&trace)
        .args(["--duration", "1h30m", "--quiet", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.code().is_some_and(|c| c <= 1), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    let note = format!("note: {}: {SKIPPED}", trace.display());
    assert!(err.lines().any(|l| l == note), "{err}");
    // A note, not a warning: the default asks for it, so --deny-warnings must not refuse it.
    let summary = std::fs::read_to_string(out.join("summary.json")).unwrap();
    assert!(!summary.contains("skipped 2 rows"), "{summary}");
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains("\nSimulated 1 h 30 min of traffic (seed 7)"),
        "{report}"
    );
    assert!(
        report.contains(&format!(
            "\n## Workload\n\n- `trace`: `burstgpt.csv` (BurstGPT), 3 rows replayed; {SKIPPED}; {CHANGED}\n\n3 requests arrived; median 100 prompt and 30 output tokens.\n"
        )),
        "{report}"
    );
}

#[test]
fn gen_writes_the_scenario_workload_deterministically() {
    let dir = temp_dir("trace", "gen");
    let scenario = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/spike.yaml");
    let (a, b) = (dir.join("a.csv"), dir.join("b.csv"));
    for p in [&a, &b] {
        kthena_sim()
            .args(["trace", "gen"])
            .arg(&scenario)
            .args(["--duration", "20m", "--out"])
            .arg(p)
            .assert()
            .success();
    }
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    let s = stats_json(&a);
    let n = s["requests"].as_f64().unwrap();
    // 1.5 req/s for 10 min, a 1-min ramp to 10 req/s, then 10 req/s for 9 min.
    let expected = 1.5 * 600.0 + (1.5 + 10.0) / 2.0 * 60.0 + 10.0 * 540.0;
    assert!((n / expected - 1.0).abs() < 0.05, "{n} vs {expected}");
}

#[test]
fn malformed_traces_give_exit_2_with_file_and_row() {
    let dir = temp_dir("trace", "bad");
    let header = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
    let cases: [(&str, Vec<u8>, &str); 6] = [
        (
            "missing-column.csv",
            b"TIMESTAMP,ContextTokens\n2023-11-16 18:15:46.6805900,10\n".to_vec(),
            "missing-column.csv",
        ),
        (
            "non-numeric.csv",
            format!(
                "{header}2023-11-16 18:15:46.6805900,10,5\n2023-11-16 18:15:47.6805900,ten,5\n"
            )
            .into_bytes(),
            "non-numeric.csv:3",
        ),
        (
            "decreasing.csv",
            format!("{header}2023-11-16 18:15:46.6805900,10,5\n2023-11-16 18:15:45.6805900,10,5\n")
                .into_bytes(),
            "decreasing.csv:3",
        ),
        (
            "negative.csv",
            b"arrival_s,input_tokens,output_tokens\n-1.5,10,5\n".to_vec(),
            "negative.csv:2",
        ),
        ("empty.csv", Vec::new(), "empty.csv"),
        (
            "binary.csv",
            (0..=255u8).cycle().take(4096).collect(),
            "binary.csv",
        ),
    ];
    for (name, bytes, expected) in cases {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        for cmd in [["trace", "stats"], ["trace", "convert"]] {
            let mut c = kthena_sim();
            c.args(cmd).arg(&path);
            if cmd[1] == "convert" {
                c.arg("--out").arg(dir.join(format!("{name}.out")));
            }
            let out = c.output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{name} {cmd:?}: {err}");
            assert!(err.contains(expected), "{name} {cmd:?}: {err}");
            assert!(!err.contains("panicked"), "{name}: {err}");
        }
        assert!(
            !dir.join(format!("{name}.out")).exists(),
            "{name}: nothing written"
        );
    }
}
