//! Round trips through a real Prometheus server: a simulated run's `--openmetrics` file is
//! backfilled with `promtool tsdb create-blocks-from openmetrics`, a `prometheus` started on
//! 127.0.0.1 serves it, and kthena-sim reads it back — (a) the trace rebuilt from the vLLM
//! series follows the run's per-minute requests and token medians; (b) the shadow replay of
//! the run's own policy agrees with the run's decisions on every tick; (c) scrape gaps and a
//! pod missing from Prometheus are reported. Bad input exits 2 with one line.
//!
//! `.ci/run` installs Debian's `prometheus` package (it ships both binaries) and sets
//! `KTHENA_SIM_REQUIRE_PROMETHEUS=1`, so there a missing binary fails these tests; elsewhere
//! they are skipped with a message saying so.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use crate::support::{kthena_sim, root, temp_dir};

/// The run's engine clock starts here (the scenario's default epoch): 2023-11-14T22:13:20Z.
const EPOCH_S: i64 = 1_700_000_000;
/// The spike scenario lasts 45 minutes.
const END_S: i64 = EPOCH_S + 45 * 60;

/// The simulated run every test reads: its folder (with `requests.csv`), engine log and
/// OpenMetrics file.
struct Run {
    dir: PathBuf,
}

impl Run {
    fn openmetrics(&self) -> PathBuf {
        self.dir.join("run.om")
    }
    fn engine_log(&self) -> PathBuf {
        self.dir.join("engine.jsonl")
    }
}

fn run() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| {
        let dir = temp_dir("prometheus", "run");
        kthena_sim()
            .arg("run")
            .arg(root().join("scenarios/spike.yaml"))
            .args(["--quiet", "--requests", "--charts", "none", "--out"])
            .arg(dir.join("out"))
            .arg("--openmetrics")
            .arg(dir.join("run.om"))
            .arg("--engine-log")
            .arg(dir.join("engine.jsonl"))
            .assert()
            .success();
        Run { dir }
    })
}

/// A Prometheus server on a free loopback port over a TSDB backfilled from an OpenMetrics
/// file; stopped (and its folder removed) when dropped, also when a test fails.
struct Prometheus {
    child: Child,
    url: String,
    dir: PathBuf,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Whether `prometheus` and `promtool` can be run; without them the tests are skipped
/// (said on stderr) unless `KTHENA_SIM_REQUIRE_PROMETHEUS` is set.
fn available(test: &str) -> bool {
    let runs = |bin: &str| {
        Process::new(bin)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if runs("prometheus") && runs("promtool") {
        return true;
    }
    assert!(
        std::env::var_os("KTHENA_SIM_REQUIRE_PROMETHEUS").is_none(),
        "prometheus and promtool are required (KTHENA_SIM_REQUIRE_PROMETHEUS is set) but not on PATH"
    );
    eprintln!("skipped {test}: prometheus/promtool not installed (Debian package `prometheus`)");
    false
}

fn start(openmetrics: &Path, tag: &str) -> Prometheus {
    let dir = temp_dir("prometheus", tag);
    let data = dir.join("data");
    let backfill = Process::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(openmetrics)
        .arg(&data)
        .output()
        .expect("promtool runs");
    assert!(
        backfill.status.success(),
        "promtool: {}",
        String::from_utf8_lossy(&backfill.stderr)
    );
    fs::write(
        dir.join("prometheus.yml"),
        "global:\n  scrape_interval: 15s\n",
    )
    .unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let log = fs::File::create(dir.join("prometheus.log")).unwrap();
    let child = Process::new("prometheus")
        .arg(format!(
            "--config.file={}",
            dir.join("prometheus.yml").display()
        ))
        .arg(format!("--storage.tsdb.path={}", data.display()))
        .arg("--storage.tsdb.retention.time=100y")
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("prometheus starts");
    let mut p = Prometheus {
        child,
        url: format!("http://127.0.0.1:{port}"),
        dir,
    };
    // Up to a minute, in tenths of a second.
    for attempt in 0.. {
        if let Some(status) = p.child.try_wait().unwrap() {
            let log = fs::read_to_string(p.dir.join("prometheus.log")).unwrap_or_default();
            panic!("prometheus exited ({status}):\n{log}");
        }
        if ureq::get(format!("{}/-/ready", p.url)).call().is_ok() {
            break;
        }
        assert!(attempt < 600, "prometheus not ready after 60 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    p
}

fn window() -> [String; 4] {
    [
        "--start".into(),
        EPOCH_S.to_string(),
        "--end".into(),
        END_S.to_string(),
    ]
}

/// `replay from-prometheus` of the run's own policy over the run's window into `out`; its
/// stdout, once it succeeded.
fn shadow_replay(prom: &Prometheus, out: &Path) -> String {
    let done = kthena_sim()
        .args(["replay", "from-prometheus", "--url", &prom.url])
        .arg("--policy")
        .arg(root().join("policies/chat-current.yaml"))
        .args(window())
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&done.stdout).into_owned();
    assert!(
        done.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&done.stderr)
    );
    stdout
}

/// The run's requests: (completion time s, prompt tokens, output tokens) of completed ones.
fn completed(run: &Run) -> Vec<(f64, u32, u32)> {
    let mut r = csv::Reader::from_path(run.dir.join("out/requests.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|c| c == name).unwrap();
    let (arrival, input, output, e2e, outcome) = (
        col("arrival_s"),
        col("input_tokens"),
        col("output_tokens"),
        col("e2e_s"),
        col("outcome"),
    );
    r.records()
        .map(Result::unwrap)
        .filter(|row| &row[outcome] == "completed")
        .map(|row| {
            let done = row[arrival].parse::<f64>().unwrap() + row[e2e].parse::<f64>().unwrap();
            (
                done,
                row[input].parse().unwrap(),
                row[output].parse().unwrap(),
            )
        })
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// vLLM's 1-2-5 token buckets: the (lower, upper] one holding `v`.
fn bucket(v: f64) -> (f64, f64) {
    let mut lower = 0.0;
    for decade in 0..7 {
        for m in [1.0, 2.0, 5.0] {
            let upper = m * 10f64.powi(decade);
            if v <= upper {
                return (lower, upper);
            }
            lower = upper;
        }
    }
    (lower, f64::INFINITY)
}

fn trace_rows(path: &Path) -> Vec<(f64, u32, u32)> {
    let mut r = csv::Reader::from_path(path).unwrap();
    r.records()
        .map(Result::unwrap)
        .map(|row| {
            (
                row[0].parse().unwrap(),
                row[1].parse().unwrap(),
                row[2].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn a_trace_rebuilt_from_prometheus_follows_the_simulated_traffic() {
    if !available("a_trace_rebuilt_from_prometheus_follows_the_simulated_traffic") {
        return;
    }
    let run = run();
    let prom = start(&run.openmetrics(), "trace");
    let dir = temp_dir("prometheus", "trace-out");
    let online = dir.join("online.csv");
    kthena_sim()
        .args(["trace", "from-prometheus", "--url", &prom.url])
        .args(window())
        .args(["--selector", r#"{namespace="llm"}"#, "--seed", "3", "--out"])
        .arg(&online)
        .assert()
        .success();
    let rebuilt = trace_rows(&online);
    let truth = completed(run);
    // Per minute: the rebuilt arrivals are a Poisson draw around the recorded completions.
    let per_minute = |times: &mut dyn Iterator<Item = f64>| {
        let mut m = vec![0u32; 45];
        for t in times {
            let i = ((t - 1e-9) / 60.0).floor().max(0.0) as usize;
            if i < m.len() {
                m[i] += 1;
            }
        }
        m
    };
    let want = per_minute(&mut truth.iter().map(|r| r.0));
    let got = per_minute(&mut rebuilt.iter().map(|r| r.0));
    for (i, (w, g)) in want.iter().zip(&got).enumerate() {
        let noise = 4.0 * f64::from(*w).sqrt() + 3.0;
        assert!(
            (f64::from(*g) - f64::from(*w)).abs() <= noise,
            "minute {i}: rebuilt {g}, simulated {w} (±{noise:.0})"
        );
    }
    assert!(want.iter().sum::<u32>() > 5_000, "the run has traffic");
    for (what, t, r) in [
        (
            "prompt",
            median(truth.iter().map(|x| f64::from(x.1)).collect()),
            median(rebuilt.iter().map(|x| f64::from(x.1)).collect()),
        ),
        (
            "output",
            median(truth.iter().map(|x| f64::from(x.2)).collect()),
            median(rebuilt.iter().map(|x| f64::from(x.2)).collect()),
        ),
    ] {
        let (lower, upper) = bucket(t);
        assert!(
            (r - t).abs() <= upper - lower,
            "{what} median: rebuilt {r}, simulated {t} (bucket ({lower}, {upper}])"
        );
    }
    // The same series saved from the HTTP API give the same trace offline.
    let query = kthena_sim()
        .args(["trace", "from-prometheus", "--url", &prom.url])
        .args(window())
        .args(["--selector", r#"{namespace="llm"}"#, "--print-query"])
        .output()
        .unwrap();
    let query = String::from_utf8(query.stdout).unwrap();
    let saved = ureq::post(format!("{}/api/v1/query_range", prom.url))
        .send_form([
            ("query", query.trim()),
            ("start", &EPOCH_S.to_string()),
            ("end", &END_S.to_string()),
            ("step", "15"),
        ])
        .unwrap()
        .body_mut()
        .with_config()
        .limit(1 << 30)
        .read_to_string()
        .unwrap();
    fs::write(dir.join("saved.json"), saved).unwrap();
    let offline = dir.join("offline.csv");
    kthena_sim()
        .args(["trace", "from-prometheus", "--input"])
        .arg(dir.join("saved.json"))
        .args(window())
        .args(["--seed", "3", "--out"])
        .arg(&offline)
        .assert()
        .success();
    assert_eq!(fs::read(&online).unwrap(), fs::read(&offline).unwrap());
}

#[test]
fn the_shadow_replay_of_the_runs_own_policy_agrees_on_every_tick() {
    if !available("the_shadow_replay_of_the_runs_own_policy_agrees_on_every_tick") {
        return;
    }
    let run = run();
    let prom = start(&run.openmetrics(), "shadow");
    let out = temp_dir("prometheus", "shadow-out").join("replay");
    let stdout = shadow_replay(&prom, &out);
    assert!(
        stdout.contains("100.0 % agreement: 180 of 180 ticks") && stdout.contains(", 0 with stale"),
        "{stdout}"
    );
    // The ticks assembled from Prometheus are the ticks the run's engine read, and the
    // replayed decisions its decisions.
    let line = |p: &Path| -> serde_json::Value {
        let text = fs::read_to_string(p).unwrap();
        serde_json::from_str(text.lines().next().unwrap()).unwrap()
    };
    let (logged, shadow) = (line(&run.engine_log()), line(&out.join("ticks.jsonl")));
    assert_eq!(shadow["scenario"]["ticks"], logged["scenario"]["ticks"]);
    assert_eq!(shadow["expected"]["head"], logged["expected"]["head"]);
    kthena_sim()
        .args(["replay", "--check", "--engine", "head"])
        .arg(out.join("ticks.jsonl"))
        .assert()
        .success();
    for f in ["report.md", "shadow.csv", "replicas.svg", "replicas.png"] {
        assert!(out.join(f).is_file(), "{f}");
    }
}

/// The run's OpenMetrics file without pod `gone`'s vLLM series, and without pod `gap`'s
/// samples between `from` and `to` (Unix s): a pod Prometheus never scraped and a scrape gap.
fn damaged(source: &Path, target: &Path, gone: &str, gap: &str, from: i64, to: i64) {
    let reader = BufReader::new(fs::File::open(source).unwrap());
    let mut out = std::io::BufWriter::new(fs::File::create(target).unwrap());
    let (gone, gap) = (format!("pod=\"{gone}\""), format!("pod=\"{gap}\""));
    for line in reader.lines() {
        let line = line.unwrap();
        let vllm = line.starts_with("vllm:") || line.starts_with("kthena:");
        if vllm && line.contains(&gone) {
            continue;
        }
        if vllm && line.contains(&gap) {
            let t: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
            if (from as f64..=to as f64).contains(&t) {
                continue;
            }
        }
        writeln!(out, "{line}").unwrap();
    }
}

#[test]
fn stale_and_missing_metrics_are_reported() {
    if !available("stale_and_missing_metrics_are_reported") {
        return;
    }
    let run = run();
    let dir = temp_dir("prometheus", "stale-out");
    let file = dir.join("damaged.om");
    // chat-llama-0 serves the whole run; chat-llama-3 is one of the pods the spike starts.
    damaged(
        &run.openmetrics(),
        &file,
        "chat-llama-3",
        "chat-llama-0",
        EPOCH_S + 300,
        EPOCH_S + 420,
    );
    let prom = start(&file, "stale");
    let out = dir.join("replay");
    let stdout = shadow_replay(&prom, &out);
    assert!(!stdout.contains(", 0 with stale"), "{stdout}");
    let mut r = csv::Reader::from_path(out.join("shadow.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let stale = h.iter().position(|c| c == "stale").unwrap();
    let t_ms = h.iter().position(|c| c == "t_ms").unwrap();
    let rows: Vec<(i64, String)> = r
        .records()
        .map(Result::unwrap)
        .map(|row| (row[t_ms].parse().unwrap(), row[stale].to_string()))
        .collect();
    // Inside the gap (after the 30-s grace) chat-llama-0's metrics are reported old.
    let in_gap = rows
        .iter()
        .filter(|(t, _)| (EPOCH_S + 360) * 1000 <= *t && *t <= (EPOCH_S + 420) * 1000);
    for (t, s) in in_gap {
        assert!(s.contains("chat-llama-0: metrics"), "{t}: {s:?}");
    }
    assert!(
        rows.iter()
            .any(|(_, s)| s.contains("chat-llama-3: ready but no metrics in Prometheus")),
        "the missing pod is reported"
    );
    assert!(rows
        .iter()
        .all(|(t, s)| s.is_empty() || *t >= (EPOCH_S + 330) * 1000));
    let report = fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("## Stale or missing metrics") && report.contains("chat-llama-3"));
}

/// Runs kthena-sim with `args`; asserts exit 2 and one line on stderr containing `says`.
fn refused(args: &[&str], says: &str) {
    let out = kthena_sim().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
    assert!(stderr.contains(says), "{args:?}: {stderr}");
}

#[test]
fn bad_input_is_refused_with_one_line() {
    let dir = temp_dir("prometheus", "bad");
    let out = dir.join("t.csv");
    let out = out.to_str().unwrap();
    let start = EPOCH_S.to_string();
    let end = END_S.to_string();
    // Nothing listens on port 9 of the loopback.
    let base = [
        "trace",
        "from-prometheus",
        "--url",
        "http://127.0.0.1:9",
        "--out",
        out,
    ];
    refused(
        &[&base[..], &["--start", &start, "--end", &end]].concat(),
        "cannot reach Prometheus at http://127.0.0.1:9",
    );
    refused(
        &[&base[..], &["--start", &end, "--end", &start]].concat(),
        "is not after --start",
    );
    refused(
        &[&base[..], &["--start", "yesterday", "--end", &end]].concat(),
        "RFC 3339",
    );
    let malformed = dir.join("bad.json");
    fs::write(&malformed, "{\"status\": \"success\", \"data\": [").unwrap();
    let m = malformed.to_str().unwrap();
    let offline = [
        "trace",
        "from-prometheus",
        "--input",
        m,
        "--out",
        out,
        "--start",
        &start,
        "--end",
        &end,
    ];
    refused(
        &offline,
        "bad.json: not a Prometheus API response: invalid JSON",
    );
    let policy = root().join("policies/chat-current.yaml");
    let policy = policy.to_str().unwrap();
    let replay = [
        "replay",
        "from-prometheus",
        "--url",
        "http://127.0.0.1:9",
        "--policy",
        policy,
    ];
    let replay_out = dir.join("r");
    refused(
        &[
            &replay[..],
            &[
                "--start",
                &start,
                "--end",
                &end,
                "--out",
                replay_out.to_str().unwrap(),
            ],
        ]
        .concat(),
        "cannot reach Prometheus",
    );
    if !available("bad_input_is_refused_with_one_line (against a server)") {
        return;
    }
    let prom = self::start(&run().openmetrics(), "bad-server");
    let online = [
        "trace",
        "from-prometheus",
        "--url",
        &prom.url,
        "--out",
        out,
        "--start",
        &start,
        "--end",
        &end,
    ];
    refused(
        &[&online[..], &["--selector", r#"{namespace="nowhere"}"#]].concat(),
        "matched no series",
    );
    refused(
        &[&online[..], &["--selector", r#"{namespace="llm""#]].concat(),
        "--selector",
    );
    let replay = [
        "replay",
        "from-prometheus",
        "--url",
        &prom.url,
        "--policy",
        policy,
    ];
    refused(
        &[
            &replay[..],
            &[
                "--start",
                &start,
                "--end",
                &end,
                "--selector",
                r#"{pod="nope"}"#,
                "--out",
                replay_out.to_str().unwrap(),
            ],
        ]
        .concat(),
        "no kube_pod_status_ready series for llm/chat-llama",
    );
    assert!(!replay_out.exists(), "nothing written on bad input");
}

#[test]
fn exporting_openmetrics_changes_nothing_in_the_run() {
    let dir = temp_dir("prometheus", "unchanged");
    let run = |out: &str, extra: &[&str]| {
        let done = kthena_sim()
            .arg("run")
            .arg(root().join("scenarios/faults-crashes.yaml"))
            .args([
                "--quiet",
                "--requests",
                "--charts",
                "none",
                "--duration",
                "20m",
                "--out",
            ])
            .arg(dir.join(out))
            .args(extra)
            .output()
            .unwrap();
        // Cut to 20 minutes, an assertion of the scenario fails (exit 1): the run is complete.
        assert!(matches!(done.status.code(), Some(0 | 1)), "{done:?}");
    };
    let om = dir.join("run.om");
    run("plain", &[]);
    run("exported", &["--openmetrics", om.to_str().unwrap()]);
    for f in [
        "summary.json",
        "timeline.csv",
        "requests.csv",
        "cost.csv",
        "latency.csv",
    ] {
        let (a, b) = (dir.join("plain").join(f), dir.join("exported").join(f));
        assert_eq!(fs::read(a).unwrap(), fs::read(b).unwrap(), "{f}");
    }
    let text = fs::read_to_string(&om).unwrap();
    assert!(text.ends_with("# EOF\n"));
    assert!(text.contains("# TYPE kube_modelserving_spec_replicas gauge\n"));
    assert!(text.contains("# TYPE vllm:request_prompt_tokens histogram\n"));
}
