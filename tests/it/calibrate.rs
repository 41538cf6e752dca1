//! `kthena-sim calibrate` end to end: a fit writes a `server.yaml` a scenario runs with
//! verbatim, the same files whatever the threads; `--no-fit` measures a preset; a measured
//! request trace is matched within 10 % on the mean and 90th percentile of TTFT and e2e.

use std::path::Path;

use super::support::kthena_sim;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/calibrate");

/// The first `rows` data rows of the Qwen3-32B table (1024-token prompts, 128-token
/// outputs, concurrency 8 to 128), as a file in `dir`.
fn small_table(dir: &Path) -> std::path::PathBuf {
    let text =
        std::fs::read_to_string(Path::new(FIXTURES).join("qwen3-32b-bf16-h100-tp2-vllm0.12.0.csv"))
            .expect("fixture");
    let rows: Vec<&str> = text.lines().take(6).collect();
    let path = dir.join("bench.csv");
    std::fs::write(&path, rows.join("\n") + "\n").expect("write");
    path
}

fn files_of(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("folder")
        .map(|e| {
            let e = e.expect("entry");
            (
                e.file_name().to_string_lossy().into(),
                std::fs::read(e.path()).expect("read"),
            )
        })
        .collect();
    files.sort();
    files
}

/// |simulated/measured − 1| of one column pair of a calibration.csv, per row.
fn errors(csv: &Path, simulated: &str, measured: &str) -> Vec<f64> {
    let mut r = csv::Reader::from_path(csv).expect("csv");
    let h = r.headers().expect("header").clone();
    let col = |name: &str| h.iter().position(|c| c == name).expect(name);
    let (s, m) = (col(simulated), col(measured));
    r.records()
        .map(|row| {
            let row = row.expect("row");
            let v = |i: usize| row[i].parse::<f64>().expect("number");
            (v(s) / v(m) - 1.0).abs()
        })
        .collect()
}

#[test]
fn a_fit_writes_a_server_a_scenario_uses_verbatim_whatever_the_threads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let table = small_table(dir.path());
    let mut outputs = Vec::new();
    for jobs in ["1", "2"] {
        let out = dir.path().join(format!("fit-{jobs}"));
        let assert = kthena_sim()
            .args([
                "calibrate",
                "--jobs",
                jobs,
                "-q",
                "--max-iters",
                "400",
                "--out",
            ])
            .arg(&out)
            .arg(&table)
            .assert()
            .success();
        let stdout = String::from_utf8_lossy(&assert.get_output().stdout).to_string();
        assert!(
            stdout.contains("| TTFT |") && stdout.contains("| TPOT |"),
            "{stdout}"
        );
        outputs.push(files_of(&out));
    }
    assert_eq!(outputs[0], outputs[1], "--jobs changed the outputs");
    let names: Vec<&str> = outputs[0].iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "calibration.csv",
            "calibration.md",
            "calibration.png",
            "calibration.svg",
            "server.yaml"
        ]
    );
    let csv = dir.path().join("fit-1/calibration.csv");
    for (s, m) in [
        ("simulated_ttft_ms", "measured_ttft_ms"),
        ("simulated_tpot_ms", "measured_tpot_ms"),
    ] {
        let e = errors(&csv, s, m);
        assert_eq!(e.len(), 5);
        assert!(e.iter().all(|e| *e < 0.25), "{s}: {e:?}");
    }
    // server.yaml, indented under `server:`, runs as is.
    let server = std::fs::read_to_string(dir.path().join("fit-1/server.yaml")).expect("yaml");
    assert!(
        server.contains("base_ms: ") && server.contains("# fitted"),
        "{server}"
    );
    let indented: String = server.lines().map(|l| format!("      {l}\n")).collect();
    let scenario = format!(
        "name: fitted\nseed: 1\nduration: 10m\npolicies: []\nservings:\n  - name: chat\n    \
         namespace: llm\n    replicas: 2\n    startup: {{constant: 0s}}\n    server:\n{indented}\
         workload:\n  streams:\n    - closed_loop:\n        concurrency: 16\n        \
         input_tokens: {{constant: 1024}}\n        output_tokens: {{constant: 128}}\n"
    );
    let path = dir.path().join("fitted.yaml");
    std::fs::write(&path, scenario).expect("write");
    kthena_sim()
        .args(["run", "-q", "--out"])
        .arg(dir.path().join("run"))
        .arg(&path)
        .assert()
        .success();
}

/// `calibrate --no-fit` of `table` with the Qwen3-32B preset: its stderr and the simulated
/// TTFT of each point.
fn measured_ttfts(table: &Path, out: &Path) -> (String, Vec<String>) {
    let assert = kthena_sim()
        .args([
            "calibrate",
            "--no-fit",
            "--server",
            "qwen3-32b-bf16-h100-tp2",
            "-q",
        ])
        .arg("--out")
        .arg(out)
        .arg(table)
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    let mut r = csv::Reader::from_path(out.join("calibration.csv")).expect("csv");
    let col = (r.headers().expect("header").iter())
        .position(|c| c == "simulated_ttft_ms")
        .expect("column");
    let ttfts = r.records().map(|row| row.expect("row")[col].to_string());
    (stderr, ttfts.collect())
}

#[test]
fn a_table_that_does_not_say_how_many_requests_it_sent_is_warned_about() {
    let dir = tempfile::tempdir().expect("tempdir");
    let table = small_table(dir.path());
    let (stderr, assumed) = measured_ttfts(&table, &dir.path().join("assumed"));
    assert!(
        stderr.contains("5 closed-loop point(s) do not say how many requests were sent")
            && stderr.contains("num_requests"),
        "{stderr}"
    );
    // The same table with a `num_requests` column: no warning; 10 per client is what was
    // assumed, 2 per client leaves the first wave's queue a larger share of the mean.
    let text = std::fs::read_to_string(&table).expect("table");
    for (per_client, same) in [(10, true), (2, false)] {
        let with_counts: String = (text.lines().enumerate())
            .map(|(i, line)| match i {
                0 => format!("{line},num_requests\n"),
                _ => {
                    let c: u64 = line
                        .split(',')
                        .next()
                        .unwrap()
                        .parse()
                        .expect("concurrency");
                    format!("{line},{}\n", c * per_client)
                }
            })
            .collect();
        let path = dir.path().join(format!("counted-{per_client}.csv"));
        std::fs::write(&path, with_counts).expect("write");
        let (stderr, stated) = measured_ttfts(&path, &dir.path().join(format!("{per_client}")));
        assert!(!stderr.contains("num_requests"), "{stderr}");
        assert_eq!(
            stated == assumed,
            same,
            "{per_client} per client: {stated:?}"
        );
    }
}

#[test]
fn no_fit_measures_a_preset_and_a_vllm_benchmark_json_reads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("measured");
    let assert = kthena_sim()
        .args([
            "calibrate",
            "--no-fit",
            "--server",
            "llama3-8b-1xh100",
            "-q",
            "--out",
        ])
        .arg(&out)
        .arg(Path::new(FIXTURES).join("vllm-bench-serve.json"))
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).to_string();
    assert!(stdout.contains("measured -> "), "{stdout}");
    let yaml = std::fs::read_to_string(out.join("server.yaml")).expect("yaml");
    assert!(
        yaml.contains("base_ms: 7\n") || yaml.contains("base_ms: 7  #"),
        "{yaml}"
    );
    assert_eq!(
        errors(
            &out.join("calibration.csv"),
            "simulated_ttft_ms",
            "measured_ttft_ms"
        )
        .len(),
        1
    );
}

#[test]
fn a_request_trace_is_matched_within_ten_percent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("trace");
    kthena_sim()
        .args([
            "calibrate",
            "-q",
            "--set",
            "max_num_seqs=256",
            "--set",
            "max_num_batched_tokens=2048",
            "--set",
            "kv_cache_tokens=41408",
            "--out",
        ])
        .arg(&out)
        .arg(Path::new(FIXTURES).join("rtx4090-llama-3.1-8b.csv"))
        .assert()
        .success();
    let mut r = csv::Reader::from_path(out.join("calibration.csv")).expect("csv");
    let h = r.headers().expect("header").clone();
    let rows: Vec<csv::StringRecord> = r.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 300);
    let column = |name: &str| -> Vec<f64> {
        let i = h.iter().position(|c| c == name).expect(name);
        rows.iter().map(|r| r[i].parse().expect("number")).collect()
    };
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let p90 = |v: &[f64]| {
        let mut s = v.to_vec();
        s.sort_by(f64::total_cmp);
        s[(0.9 * s.len() as f64).ceil() as usize - 1]
    };
    for (simulated, measured) in [
        ("simulated_ttft_s", "measured_ttft_s"),
        ("simulated_e2e_s", "measured_e2e_s"),
    ] {
        let (s, m) = (column(simulated), column(measured));
        for (what, stat) in [("mean", mean as fn(&[f64]) -> f64), ("p90", p90)] {
            let e = stat(&s) / stat(&m) - 1.0;
            assert!(e.abs() < 0.10, "{what} {simulated}: {e}");
        }
    }
}
