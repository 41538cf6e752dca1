//! Kthena beside the Kubernetes HPA, KEDA and Knative's KPA: the shipped comparison runs in
//! one command and names each autoscaler in every output; scale to zero and back works end to
//! end for KEDA and the KPA (requests held at the router through the cold start, in TTFT);
//! bad manifests of each kind exit 2 with file and field path; runs stay deterministic.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::support::{root, temp_dir};
use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

fn timeline(out: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(out.join("timeline.csv")).expect("timeline.csv");
    r.deserialize().map(|row| row.expect("row")).collect()
}

fn summary(out: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(out.join("summary.json")).expect("summary.json"))
        .expect("JSON")
}

fn num(row: &BTreeMap<String, String>, k: &str) -> f64 {
    row[k]
        .parse()
        .unwrap_or_else(|_| panic!("{k}: {:?}", row[k]))
}

/// Runs `kthena-sim ARGS --quiet` and returns its exit code, stdout and stderr.
fn kthena_sim(args: &[&str]) -> (i32, String, String) {
    let o = cargo_bin_cmd!("kthena-sim")
        .current_dir(root())
        .args(args)
        .args(
            ["--quiet"]
                .iter()
                .filter(|_| ["run", "compare"].contains(&args[0])),
        )
        .output()
        .expect("runs");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn the_four_autoscalers_compare_on_the_spike_in_one_command() {
    let dir = temp_dir("autoscalers", "spike");
    let out = dir.join("out");
    let out_s = out.display().to_string();
    let (code, _, err) = kthena_sim(&[
        "compare",
        "scenarios/autoscalers-spike.yaml",
        "--replications",
        "2",
        "--out",
        &out_s,
    ]);
    assert!(code == 0 || code == 1, "exit {code}: {err}");
    let csv = std::fs::read_to_string(out.join("comparison.csv")).expect("comparison.csv");
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let rows: Vec<BTreeMap<String, String>> = r.deserialize().map(|x| x.expect("row")).collect();
    let names: Vec<(&str, &str)> = (rows.iter())
        .map(|r| (r["variant"].as_str(), r["autoscaler"].as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("kthena", "kthena"),
            ("hpa", "hpa"),
            ("keda", "keda"),
            ("kpa", "kpa")
        ]
    );
    let md = std::fs::read_to_string(out.join("comparison.md")).expect("comparison.md");
    assert!(md.contains("| variant | autoscaler |"), "{md}");
    for (variant, kind) in [
        ("kthena", "kthena"),
        ("hpa", "hpa"),
        ("keda", "keda"),
        ("kpa", "kpa"),
    ] {
        let run = out.join("variants").join(variant).join("replications/1");
        let rows = timeline(&run);
        assert!(!rows.is_empty(), "{variant}: no timeline rows");
        assert!(
            rows.iter()
                .all(|r| r["autoscaler"] == kind && !r["reason"].is_empty()),
            "{variant}: every row names {kind} and says why"
        );
        // Every autoscaler scales up for the spike (2 servers at the start).
        let peak = rows
            .iter()
            .map(|r| num(r, "spec_replicas"))
            .fold(0.0, f64::max);
        assert!(peak > 2.0, "{variant}: peak {peak}");
        let report = std::fs::read_to_string(run.join("report.md")).expect("report.md");
        let named = match kind {
            "kthena" => "Kthena",
            "hpa" => "Kubernetes HPA",
            "keda" => "KEDA ScaledObject",
            _ => "Knative KPA",
        };
        assert!(report.contains(named), "{variant}: report names {named}");
    }
    // The clocks differ: the KPA ticks every 2 s, the HPA syncs every 15 s.
    let kpa = timeline(&out.join("variants/kpa/replications/1"));
    let hpa = timeline(&out.join("variants/hpa/replications/1"));
    assert!(
        kpa.len() > 5 * hpa.len(),
        "kpa {} rows, hpa {}",
        kpa.len(),
        hpa.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A scenario in `dir` with one serving at `replicas`, `policies` (file names in `dir`),
/// a burst of requests, `quiet` minutes without any, then another burst.
fn burst_scenario(dir: &Path, policies: &[&str], replicas: u32, quiet: u32) -> PathBuf {
    let end_first = 5;
    let start_second = end_first + quiet;
    let text = format!(
        "name: zero\nseed: 11\nduration: {}m\npolicies: [{}]\n\
         servings:\n  - name: chat-llama\n    namespace: llm\n    replicas: {replicas}\n    gpus_per_pod: 1\n    accelerator: h100\n    price_per_gpu_hour: 6.5\n    startup: {{constant: 90s}}\n    server: {{preset: llama3-8b-1xh100}}\n\
         router: {{queue_timeout: 10m}}\n\
         workload:\n  streams:\n    - poisson:\n        rate:\n          points:\n            - {{at: 0s, rps: 2}}\n            - {{at: {end_first}m, rps: 2}}\n            - {{at: {end_first}m1s, rps: 0}}\n            - {{at: {start_second}m, rps: 0}}\n            - {{at: {start_second}m1s, rps: 2}}\n        input_tokens: {{constant: 500}}\n        output_tokens: {{constant: 100}}\n",
        start_second + 5,
        policies.join(", ")
    );
    let path = dir.join("zero.yaml");
    std::fs::write(&path, text).expect("scenario");
    path
}

fn copy_policy(dir: &Path, name: &str) {
    let from = root().join("policies/autoscalers").join(name);
    std::fs::copy(from, dir.join(name)).expect("copy policy");
}

/// Runs the burst scenario with `policy` and checks the serving went to zero in the quiet
/// period and back for the second burst, whose first requests waited for a cold start.
fn scales_to_zero_and_back(policy: &str, tag: &str) -> Vec<BTreeMap<String, String>> {
    let dir = temp_dir("autoscalers", tag);
    copy_policy(&dir, policy);
    let scenario = burst_scenario(&dir, &[policy], 1, 15);
    let out = dir.join("out");
    let (code, _, err) = kthena_sim(&[
        "run",
        &scenario.display().to_string(),
        "--requests",
        "--out",
        &out.display().to_string(),
    ]);
    assert!(code == 0 || code == 1, "exit {code}: {err}");
    let rows = timeline(&out);
    let zero_at = rows
        .iter()
        .find(|r| num(r, "spec_replicas") == 0.0)
        .map(|r| num(r, "time_s"))
        .unwrap_or_else(|| panic!("{policy}: never scaled to zero"));
    assert!(
        zero_at > 5.0 * 60.0 && zero_at < 20.0 * 60.0,
        "{policy}: zero at {zero_at}"
    );
    let back = rows
        .iter()
        .find(|r| num(r, "time_s") > 20.0 * 60.0 && num(r, "spec_replicas") > 0.0)
        .unwrap_or_else(|| panic!("{policy}: never scaled back up"));
    assert!(
        num(back, "time_s") < 20.0 * 60.0 + 120.0,
        "{policy}: back at {}",
        back["time_s"]
    );
    // The first requests of the second burst waited for a server: TTFT above the 90 s
    // start-up; every request completed.
    let mut r = csv::Reader::from_path(out.join("requests.csv")).expect("requests.csv");
    let reqs: Vec<BTreeMap<String, String>> = r.deserialize().map(|x| x.expect("row")).collect();
    let cold = reqs
        .iter()
        .filter(|q| num(q, "arrival_s") > 20.0 * 60.0 && num(q, "arrival_s") < 20.0 * 60.0 + 30.0)
        .map(|q| num(q, "ttft_s"))
        .fold(0.0, f64::max);
    assert!(
        cold > 60.0,
        "{policy}: the cold start shows in TTFT ({cold} s)"
    );
    let s = summary(&out);
    assert_eq!(s["requests"]["dropped"], 0, "{policy}");
    let _ = std::fs::remove_dir_all(&dir);
    rows
}

#[test]
fn keda_scales_to_zero_after_its_cooldown_and_back_at_a_poll() {
    let rows = scales_to_zero_and_back("keda-zero.yaml", "keda-zero");
    assert!(
        rows.iter().any(|r| r["reason_code"] == "scaled_to_zero"),
        "a row says why it went to 0"
    );
    assert!(
        rows.iter().any(|r| r["reason_code"] == "activated"),
        "a row says why it came back"
    );
}

#[test]
fn the_kpa_scales_to_zero_after_its_grace_period_and_back_through_the_activator() {
    let rows = scales_to_zero_and_back("kpa-zero.yaml", "kpa-zero");
    let zero = rows
        .iter()
        .find(|r| num(r, "spec_replicas") == 0.0)
        .expect("zero");
    // Knative's defaults: the stable window (60 s) then the grace period (30 s) after the
    // last request at 5 min; the 2 s ticks and the 1 s reconciler add at most a few seconds.
    let at = num(zero, "time_s");
    assert!(
        (5.0 * 60.0 + 55.0..5.0 * 60.0 + 100.0).contains(&at),
        "zero at {at}"
    );
}

#[test]
fn a_kthena_policy_with_min_replicas_zero_on_pod_metrics_is_warned_about() {
    let dir = temp_dir("autoscalers", "kthena-zero");
    let text = std::fs::read_to_string(root().join("policies/autoscalers/kthena.yaml"))
        .expect("policy")
        .replace("minReplicas: 1", "minReplicas: 0");
    std::fs::write(dir.join("kthena.yaml"), text).expect("write");
    let (code, out, err) =
        kthena_sim(&["validate", &dir.join("kthena.yaml").display().to_string()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        format!("{out}{err}").contains("never scales back up"),
        "{out}{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Writes `manifest` beside a burst scenario that lists it: `run` must exit 2 with one line
/// naming the file and `field`, and `expect` in the message, and write no output folder; so
/// must `validate` of the manifest alone when the problem is the manifest's (`manifest`),
/// not one of the simulated world.
fn refused(tag: &str, manifest: &str, field: &str, expect: &str, in_manifest: bool) {
    let dir = temp_dir("autoscalers", tag);
    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, manifest).expect("write");
    let scenario = burst_scenario(&dir, &["bad.yaml"], 1, 2);
    let out_dir = dir.join("out").display().to_string();
    let scenario = scenario.display().to_string();
    let bad = bad.display().to_string();
    let mut commands = vec![vec!["run", scenario.as_str(), "--out", out_dir.as_str()]];
    if in_manifest {
        commands.push(vec!["validate", bad.as_str()]);
    }
    for args in commands {
        let (code, out, err) = kthena_sim(&args);
        let all = format!("{out}{err}");
        assert_eq!(code, 2, "{tag} {}: {all}", args[0]);
        assert!(all.contains("bad.yaml"), "{tag}: names the file: {all}");
        assert!(all.contains(field), "{tag}: names {field}: {all}");
        assert!(all.contains(expect), "{tag}: says {expect:?}: {all}");
        assert!(!all.contains("panicked"), "{tag}: {all}");
        assert!(!dir.join("out").exists(), "{tag}: no half-written output");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

const HPA: &str = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: chat-llama, namespace: llm}\nspec:\n  scaleTargetRef: {apiVersion: workload.serving.volcano.sh/v1alpha1, kind: ModelServing, name: chat-llama}\n  minReplicas: 1\n  maxReplicas: 8\n  metrics:\n  - type: Pods\n    pods:\n      metric: {name: vllm:num_requests_running}\n      target: {type: AverageValue, averageValue: \"24\"}\n";

#[test]
fn bad_hpa_manifests_exit_2_with_their_field_path() {
    refused(
        "hpa-unknown",
        &HPA.replace("  minReplicas: 1\n", "  minReplicas: 1\n  minReplica: 2\n"),
        "spec.minReplica",
        "unknown field",
        true,
    );
    refused(
        "hpa-range",
        &HPA.replace("maxReplicas: 8", "maxReplicas: 0"),
        "spec.maxReplicas",
        "Invalid value",
        true,
    );
    refused(
        "hpa-resource",
        &HPA.replace(
            "  - type: Pods\n    pods:\n      metric: {name: vllm:num_requests_running}\n      target: {type: AverageValue, averageValue: \"24\"}\n",
            "  - type: Resource\n    resource: {name: cpu, target: {type: Utilization, averageUtilization: 60}}\n",
        ),
        "spec.metrics[0]",
        "cannot be simulated",
        false,
    );
    refused(
        "hpa-metric",
        &HPA.replace("vllm:num_requests_running", "vllm:num_requests_runing"),
        "spec.metrics[0]",
        "not a gauge the simulated pods expose",
        false,
    );
    refused(
        "hpa-target",
        &HPA.replace(
            "name: chat-llama}\n  minReplicas",
            "name: chat}\n  minReplicas",
        ),
        "hpa:llm/chat-llama",
        "not among the scenario's servings",
        false,
    );
}

const KEDA: &str = "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {name: chat-llama, namespace: llm}\nspec:\n  scaleTargetRef: {name: chat-llama}\n  minReplicaCount: 0\n  maxReplicaCount: 8\n  triggers:\n  - type: prometheus\n    metadata:\n      serverAddress: http://prometheus:9090\n      query: sum(kthena_router_active_downstream_requests{model=\"chat-llama\"})\n      threshold: \"24\"\n";

#[test]
fn bad_scaled_objects_exit_2_with_their_field_path() {
    refused(
        "keda-kafka",
        &KEDA.replace("type: prometheus", "type: kafka"),
        "spec.triggers[0].type",
        "kafka",
        true,
    );
    refused(
        "keda-unknown",
        &KEDA.replace(
            "  maxReplicaCount: 8\n",
            "  maxReplicaCount: 8\n  pollInterval: 5\n",
        ),
        "spec.pollInterval",
        "unknown field",
        true,
    );
    refused(
        "keda-threshold",
        &KEDA.replace("threshold: \"24\"", "threshold: \"many\""),
        "spec.triggers[0].metadata.threshold",
        "many",
        true,
    );
    refused(
        "keda-range",
        &KEDA.replace(
            "minReplicaCount: 0\n  maxReplicaCount: 8",
            "minReplicaCount: 4\n  maxReplicaCount: 2",
        ),
        "spec.minReplicaCount",
        "less than or equal to maxReplicaCount",
        true,
    );
}

const KPA: &str = "apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: chat-llama, namespace: llm}\nspec:\n  template:\n    metadata:\n      annotations:\n        autoscaling.knative.dev/metric: concurrency\n        autoscaling.knative.dev/target: \"24\"\n    spec:\n      containers:\n      - image: vllm/vllm-openai\n";

#[test]
fn bad_knative_services_exit_2_with_their_field_path() {
    refused(
        "kpa-window",
        &KPA.replace(
            "target: \"24\"",
            "target: \"24\"\n        autoscaling.knative.dev/window: \"2s\"",
        ),
        "autoscaling.knative.dev/window",
        "2s",
        true,
    );
    refused(
        "kpa-annotation",
        &KPA.replace(
            "autoscaling.knative.dev/target:",
            "autoscaling.knative.dev/targt:",
        ),
        "autoscaling.knative.dev/targt",
        "autoscaling.knative.dev/target",
        true,
    );
    refused(
        "kpa-class",
        &KPA.replace(
            "metric: concurrency",
            "metric: concurrency\n        autoscaling.knative.dev/class: hpa.autoscaling.knative.dev",
        ),
        "autoscaling.knative.dev/class",
        "HorizontalPodAutoscaler",        true,
    );
}

#[test]
fn runs_with_the_other_autoscalers_are_deterministic() {
    let dir = temp_dir("autoscalers", "determinism");
    for p in ["kpa-zero.yaml", "keda-zero.yaml", "hpa.yaml"] {
        copy_policy(&dir, p);
    }
    // Three servings would be needed for three autoscalers; one each, run twice.
    for p in ["kpa-zero.yaml", "keda-zero.yaml", "hpa.yaml"] {
        let scenario = burst_scenario(&dir, &[p], 1, 3);
        let a = dir.join("a");
        let b = dir.join("b");
        for out in [&a, &b] {
            let (code, _, err) = kthena_sim(&[
                "run",
                &scenario.display().to_string(),
                "--requests",
                "--force",
                "--out",
                &out.display().to_string(),
            ]);
            assert!(code == 0 || code == 1, "{err}");
        }
        for f in [
            "summary.json",
            "timeline.csv",
            "requests.csv",
            "cost.csv",
            "latency.csv",
        ] {
            assert_eq!(
                std::fs::read(a.join(f)).expect("a"),
                std::fs::read(b.join(f)).expect("b"),
                "{p}: {f} differs between two runs"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn two_autoscalers_on_one_serving_and_a_resized_kpa_start_are_warned_about() {
    let dir = temp_dir("autoscalers", "warnings");
    for p in ["kthena.yaml", "hpa.yaml", "kpa.yaml"] {
        copy_policy(&dir, p);
    }
    let out = dir.join("out").display().to_string();
    // Kthena and an HPA on chat-llama: each undoes the other's writes.
    let scenario = burst_scenario(&dir, &["kthena.yaml", "hpa.yaml"], 1, 2);
    let (code, _, err) = kthena_sim(&[
        "run",
        scenario.to_str().expect("utf-8"),
        "--duration",
        "2m",
        "--out",
        &out,
    ]);
    assert!(code == 0 || code == 1, "{err}");
    assert!(
        err.contains(
            "llm/chat-llama is scaled by Kthena policy llm/chat-policy and hpa:llm/chat-llama"
        ),
        "{err}"
    );
    // kpa.yaml starts the revision at 2; the scenario's serving has 1.
    let scenario = burst_scenario(&dir, &["kpa.yaml"], 1, 2);
    let (code, _, err) = kthena_sim(&[
        "run",
        scenario.to_str().expect("utf-8"),
        "--duration",
        "2m",
        "--force",
        "--out",
        &out,
    ]);
    assert!(code == 0 || code == 1, "{err}");
    assert!(
        err.contains("Knative starts the revision at its initial scale 2"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
