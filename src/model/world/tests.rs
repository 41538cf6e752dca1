//! Runs of the whole world on small scenarios: requests are conserved whatever the load,
//! policy, router, capacity or faults; coalescing changes nothing; queueing matches M/G/1
//! theory; and the faults do what Kthena makes of them.

use std::path::PathBuf;

use proptest::prelude::*;

use super::*;
use crate::model::recorder::KeptRows;
use crate::model::server::StepWork;
use crate::scenario::{parse, Overrides};

/// A small scenario with the given knobs; policies resolve against `scenarios/`.
#[allow(clippy::too_many_arguments)]
fn scenario_text(
    seed: u64,
    minutes: u32,
    rps: f64,
    replicas: u32,
    policy: &str,
    router: &str,
    timeout: Option<u32>,
    kv_tokens: u32,
    gpus: Option<u32>,
) -> String {
    let cluster = gpus.map_or(String::new(), |g| {
        format!("cluster:\n  accelerators:\n    gpu: {{gpus: {g}, provisioning: {{delay: 2m, step_gpus: 2, max_gpus: {}}}}}\n", g + 4)
    });
    let timeout = timeout.map_or(String::new(), |t| format!(", queue_timeout: {t}s"));
    format!(
        "name: prop\nseed: {seed}\nduration: {minutes}m\npolicies: [{policy}]\n{cluster}\
         router: {{policy: {router}{timeout}}}\n\
         servings:\n  - name: chat-llama\n    namespace: llm\n    replicas: {replicas}\n    \
         termination_grace: 10s\n    startup: {{uniform: {{min: 20s, max: 90s}}}}\n    \
         server: {{preset: llama3-8b-1xh100, kv_cache_tokens: {kv_tokens}, max_num_seqs: 8}}\n\
         workload:\n  streams:\n    - poisson:\n        rate: {{points: [{{at: 0s, rps: {rps}}}, {{at: 3m, rps: {}}}]}}\n        \
         input_tokens: {{lognormal: {{median: 300, p99: 3000}}}}\n        output_tokens: {{uniform: {{min: 1, max: 400}}}}\n\
         slo: {{ttft: 2s}}\n",
        rps * 3.0
    )
}

/// Runs scenario `text` (policies resolve against `scenarios/`).
fn run_text(text: &str, step_by_step: bool) -> Results {
    run_rows(text, step_by_step).0
}

/// Runs scenario `text`, its rows kept.
fn run_rows(text: &str, step_by_step: bool) -> (Results, KeptRows) {
    let base = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let scn = parse("prop.yaml", text, &base, &Overrides::default())
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
    let source = scn
        .workload
        .build(scn.seed(), &scn.base_dir, scn.duration())
        .expect("workload");
    let opts = RunOptions {
        step_by_step,
        ..RunOptions::default()
    };
    let mut rows = KeptRows::default();
    let r = simulate(&scn.world, source, opts, &mut rows, &mut |_| {}).expect("run");
    (r, rows)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Requests are conserved: every arrival is completed, failed, dropped or still in
    /// flight at the end — whatever the load, policy, router, capacity or KV size.
    #[test]
    fn requests_are_conserved(
        seed in 0u64..1000,
        minutes in 3u32..12,
        rps in 0.2f64..4.0,
        replicas in 0u32..4,
        policy in prop::sample::select(vec!["", "../policies/chat-current.yaml", "../policies/chat-running-current.yaml"]),
        router in prop::sample::select(crate::model::router::RouterPolicy::NAMES.to_vec()),
        timeout in prop::option::of(5u32..60),
        kv_tokens in prop::sample::select(vec![2_000u32, 20_000, 200_000]),
        gpus in prop::option::of(1u32..4),
    ) {
        let text = scenario_text(seed, minutes, rps, replicas, policy, router, timeout, kv_tokens, gpus);
        let r = run_text(&text, false);
        prop_assert!(r.arrived > 0);
        prop_assert_eq!(r.arrived, r.completed + r.failed() + r.dropped + r.in_flight, "{}", text);
        prop_assert_eq!(r.completed, r.e2e.len());
    }
}

/// Coalescing decode steps changes nothing: the same scenario step by step gives the
/// same request timings and the same controller decisions.
#[test]
fn coalesced_and_step_by_step_runs_agree() {
    let text = scenario_text(
        4,
        8,
        2.0,
        2,
        "../policies/chat-current.yaml",
        "least-request",
        None,
        20_000,
        None,
    );
    let (a, a_rows) = run_rows(&text, false);
    let (b, b_rows) = run_rows(&text, true);
    assert_eq!(
        (a.arrived, a.completed, a.failed(), a.in_flight),
        (b.arrived, b.completed, b.failed(), b.in_flight)
    );
    assert_eq!(a.e2e, b.e2e);
    assert_eq!(a.ttft, b.ttft);
    assert_eq!(a_rows.timeline, b_rows.timeline);
    assert_eq!(a_rows.latency, b_rows.latency);
}

/// Queueing theory check through the whole world: autoscaling off, `n` servers with
/// `max_num_seqs = 1` (one request at a time, FCFS), Poisson arrivals at `λ` split by the
/// random router into `n` independent Poisson streams of `λ/n`. Each server is then an
/// M/G/1 queue whose mean wait is the Pollaczek–Khinchine value
/// `Wq = (λ/n)·E[S²] / (2(1 − ρ))`, `ρ = (λ/n)·E[S]`. With no context cost and prompts
/// that fit one step, a request of `p` prompt and `o` output tokens is served in
/// `S = step(p prefill) + (o − 1)·step(1 decode)`; prompts and outputs are uniform over
/// small ranges, so `E[S]` and `E[S²]` are exact averages over every (p, o) pair.
fn mg1_per_server(servers: u32, router: &str) -> Vec<(f64, f64)> {
    let (base, per_prefill, per_decode) = (20.0, 0.05, 1.0);
    let (p_range, o_range) = ((100u32, 900u32), (1u32, 40u32));
    let params = crate::model::server::ServerParams {
        max_num_seqs: 1,
        max_num_batched_tokens: 8192,
        kv_cache_tokens: 1_000_000,
        base_ms: base,
        per_prefill_token_ms: per_prefill,
        per_decode_seq_ms: per_decode,
        per_context_token_ms: 0.0,
        prefill_attention_ms: 0.0,
        request_overhead_ms: 0.0,
        request_overhead_spread_ms: 0.0,
        decode_saturation_seqs: 0.0,
    };
    let (mut s1, mut s2, mut n) = (0.0f64, 0.0f64, 0.0f64);
    for p in p_range.0..=p_range.1 {
        for o in o_range.0..=o_range.1 {
            let prompt = StepWork {
                prefill_tokens: u64::from(p),
                ..StepWork::default()
            };
            let t = params.step_duration(&prompt)
                + i64::from(o - 1) * params.step_duration(&StepWork::decode(1, 0));
            let t = t.as_micros() as f64 / 1e6;
            s1 += t;
            s2 += t * t;
            n += 1.0;
        }
    }
    let (es, es2) = (s1 / n, s2 / n);
    let rho = 0.5;
    let lambda_total = rho / es * f64::from(servers);
    let text = format!(
        "name: mg1\nseed: 9\nduration: {}s\nrouter: {{policy: {router}}}\n\
         servings:\n  - name: s\n    replicas: {servers}\n    server: {{max_num_seqs: 1, max_num_batched_tokens: 8192, kv_cache_tokens: 1000000, \
         base_ms: {base}, per_prefill_token_ms: {per_prefill}, per_decode_seq_ms: {per_decode}}}\n\
         workload:\n  streams:\n    - poisson:\n        rate: {{constant: {lambda_total}}}\n        \
         input_tokens: {{uniform: {{min: {}, max: {}}}}}\n        output_tokens: {{uniform: {{min: {}, max: {}}}}}\n",
        (100_000.0 / lambda_total * f64::from(servers)).ceil(),
        p_range.0, p_range.1, o_range.0, o_range.1
    );
    let base_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut scn = parse("mg1.yaml", &text, &base_dir, &Overrides::default())
        .unwrap_or_else(|e| panic!("{e}"));
    scn.write_requests = true;
    let source = scn
        .workload
        .build(scn.seed(), &scn.base_dir, scn.duration())
        .expect("workload");
    let opts = RunOptions {
        record_requests: true,
        ..RunOptions::default()
    };
    let r = simulate(
        &scn.world,
        source,
        opts,
        &mut KeptRows::default(),
        &mut |_| {},
    )
    .expect("run");
    let lambda = lambda_total / f64::from(servers);
    let theory = lambda * es2 / (2.0 * (1.0 - lambda * es));
    let mut per_server: std::collections::BTreeMap<String, (f64, f64)> = Default::default();
    for row in r
        .requests
        .iter()
        .filter(|q| q.outcome == Outcome::Completed)
    {
        let e = per_server
            .entry(row.server.clone().unwrap_or_default())
            .or_default();
        e.0 += (row.first_admit.unwrap_or(row.arrival) - row.arrival).as_micros() as f64 / 1e6;
        e.1 += 1.0;
    }
    assert_eq!(per_server.len(), servers as usize);
    per_server
        .values()
        .map(|(sum, count)| (sum / count, theory))
        .collect()
}

#[test]
fn one_server_matches_pollaczek_khinchine() {
    for (simulated, theory) in mg1_per_server(1, "least-request") {
        eprintln!("M/G/1, one server: Wq simulated {simulated:.4} s, theory {theory:.4} s");
        assert!(
            (simulated / theory - 1.0).abs() < 0.05,
            "Wq simulated {simulated:.4} s vs theory {theory:.4} s"
        );
    }
}

#[test]
fn random_routing_gives_independent_mg1_queues() {
    let waits = mg1_per_server(3, "random");
    for (simulated, theory) in waits {
        eprintln!(
            "M/G/1 per server, random routing: Wq simulated {simulated:.4} s, theory {theory:.4} s"
        );
        assert!(
            (simulated / theory - 1.0).abs() < 0.05,
            "Wq simulated {simulated:.4} s vs theory {theory:.4} s"
        );
    }
}

// ----- faults --------------------------------------------------------------------------------

fn run(text: &str) -> Results {
    run_text(text, false)
}

/// One ModelServing of 1-GPU Llama-3-8B servers; `serving` and `top` are extra YAML.
fn scenario(seed: u64, minutes: u32, rps: f64, policy: &str, serving: &str, top: &str) -> String {
    format!(
        "name: faults\nseed: {seed}\nduration: {minutes}m\npolicies: [{policy}]\n{top}\
         servings:\n  - name: chat-llama\n    namespace: llm\n    replicas: 4\n    \
         accelerator: gpu\n    price_per_hour: 1\n    termination_grace: 10s\n    \
         startup: {{constant: 60s}}\n    server: {{preset: llama3-8b-1xh100}}\n{serving}\
         workload:\n  streams:\n    - poisson:\n        rate: {{constant: {rps}}}\n        \
         input_tokens: {{constant: 500}}\n        output_tokens: {{constant: 200}}\n"
    )
}

#[test]
fn a_restarted_pod_freezes_the_v0_4_engine_for_good() {
    let text = scenario(
        3,
        60,
        4.0,
        "../policies/chat-v0.4.yaml",
        "    faults: {crashes: {mtbf: 20m, restart: {constant: 30s}}}\n",
        "",
    );
    let (r, rows) = run_rows(&text, false);
    assert!(r.faults.crashes() >= 2, "{:?}", r.faults);
    assert_eq!(r.faults.crashes_by_serving.len(), 1);
    assert!(r.failed_crashed > 0);
    let first = (rows.timeline.iter())
        .position(|row| row.restarted > 0)
        .expect("a restarted pod is seen");
    assert!(rows.timeline[..first].iter().any(|row| !row.skip));
    for row in &rows.timeline[first..] {
        let within = (row.min_replicas..=row.max_replicas).contains(&row.spec_replicas);
        if row.restarted > 0 && within {
            assert!(row.skip, "{row:?}");
            assert_eq!(row.reason_code, "terminating_pods", "{row:?}");
        }
    }
    assert!(rows.timeline.iter().any(|row| row.restarting > 0));
    assert!(
        matches!(r.notable[0].1, Notable::FirstCrash(_)),
        "{:?}",
        r.notable
    );
}

#[test]
fn a_lost_node_fails_its_pods_until_eviction_then_its_groups_wait_for_capacity() {
    let top = "cluster:\n  accelerators:\n    gpu: {gpus: 4}\n  node_losses:\n    \
               - {at: 5m, accelerator: gpu, gpus: 2, eviction: 1m, recovers_after: 10m}\n";
    let r = run(&scenario(1, 20, 2.0, "", "", top));
    assert_eq!(r.faults.node_losses, 1);
    // 4 of 4 GPUs used: the node held half of them.
    assert_eq!(r.faults.pods_lost, 2);
    // Billed: 4 servers for 5 min, the 2 left for the minute before eviction, then 4
    // again (2 of them pending for lack of GPUs until the node comes back at 15 min).
    let expected = 4.0 * 300.0 + 2.0 * 60.0 + 4.0 * 840.0;
    assert!(
        (r.server_seconds - expected).abs() < 1e-6,
        "{}",
        r.server_seconds
    );
    let events: Vec<(i64, String)> = r
        .notable
        .iter()
        .map(|(t, n)| (t.as_micros() / 1_000_000, n.to_string()))
        .collect();
    assert_eq!(
        events,
        [
            (
                300,
                "gpu node lost (2 GPUs, 2 pods); capacity now 2 GPUs".to_string()
            ),
            (360, "pods pending for lack of gpu GPUs".to_string()),
            (900, "gpu node replaced; capacity now 4 GPUs".to_string()),
        ]
    );
}

#[test]
fn during_a_registry_outage_no_new_server_gets_ready() {
    let serving = "    faults: {image_pull: {outages: [{from: 0s, to: 10h}]}}\n";
    let text = scenario(2, 30, 80.0, "../policies/chat-current.yaml", serving, "");
    let (r, rows) = run_rows(&text, false);
    assert!(rows.timeline.iter().any(|row| row.spec_replicas > 4));
    assert!(
        rows.timeline.iter().all(|row| row.ready <= 4),
        "only the initial servers"
    );
    assert!(r.faults.image_pull_failures > r.faults.image_pull_delayed_pods);
    let late = rows.timeline.last().expect("ticks");
    assert!(late.starting > 0, "{late:?}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// Requests are conserved and billing stays consistent whatever faults strike.
    #[test]
    fn requests_are_conserved_under_faults(
        seed in 0u64..1000,
        rps in 0.5f64..12.0,
        mtbf_min in 2u32..30,
        pull_failure in 0.0f64..0.9,
        loss_at in 0u32..15,
        policy in prop::sample::select(vec!["", "../policies/chat-current.yaml", "../policies/chat-v0.4.yaml"]),
    ) {
        let serving = format!(
            "    faults: {{crashes: {{mtbf: {mtbf_min}m}}, image_pull: {{failure_probability: {pull_failure}}}}}\n"
        );
        let top = format!(
            "cluster:\n  accelerators:\n    gpu: {{gpus: 6}}\n  node_losses:\n    \
             - {{at: {loss_at}m, accelerator: gpu, gpus: 3, eviction: 2m, recovers_after: 4m}}\n"
        );
        let r = run(&scenario(seed, 20, rps, policy, &serving, &top));
        prop_assert_eq!(r.arrived, r.completed + r.failed() + r.dropped + r.in_flight);
        prop_assert_eq!(r.faults.node_losses, 1);
        let billed: f64 = r.servings.iter().map(|s| s.server_seconds).sum();
        prop_assert!((billed - r.server_seconds).abs() < 1e-6 * r.server_seconds.max(1.0));
        // Price 1 per server-hour: the bill is the billed time.
        let cost: f64 = r.servings.iter().map(|s| s.cost).sum();
        prop_assert!((cost - r.server_seconds / 3600.0).abs() < 1e-6, "{} vs {}", cost, r.server_seconds / 3600.0);
    }
}

// ----- closed loops --------------------------------------------------------------------------

/// A scenario of one ModelServing and the workload `streams` (YAML list items at 4 spaces).
fn closed_scenario(seed: u64, minutes: u32, policy: &str, serving: &str, streams: &str) -> String {
    format!(
        "name: closed\nseed: {seed}\nduration: {minutes}m\npolicies: [{policy}]\n\
         servings:\n  - name: chat-llama\n    namespace: llm\n    termination_grace: 10s\n    \
         startup: {{constant: 30s}}\n{serving}workload:\n  streams:\n{streams}"
    )
}

/// Runs `text` keeping every request's row.
fn run_with_rows(text: &str) -> Results {
    let base = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let scn = parse("closed.yaml", text, &base, &Overrides::default())
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
    let workload = (scn.workload)
        .build(scn.seed(), &scn.base_dir, scn.duration())
        .expect("workload");
    let opts = RunOptions {
        record_requests: true,
        ..RunOptions::default()
    };
    simulate(
        &scn.world,
        workload,
        opts,
        &mut KeptRows::default(),
        &mut |_| {},
    )
    .expect("run")
}

/// With no think time, every request that ends is replaced at the same instant, before the
/// controller's tick: each tick reads the clients' requests, all of them, running or
/// waiting — while the autoscaler adds and removes servers under them.
#[test]
fn a_closed_loop_keeps_one_request_per_client_in_the_system() {
    let text = closed_scenario(
        3,
        30,
        "../policies/chat-current.yaml",
        "    replicas: 1\n    server: {preset: llama3-8b-1xh100, max_num_seqs: 8}\n",
        "    - closed_loop:\n        concurrency: 24\n        \
         input_tokens: {lognormal: {median: 300, p99: 3000}}\n        \
         output_tokens: {uniform: {min: 1, max: 400}}\n",
    );
    let (r, rows) = run_rows(&text, false);
    assert!(rows.timeline.len() > 100);
    for row in &rows.timeline {
        assert_eq!(row.running + row.waiting, 24, "{row:?}");
    }
    assert!(rows.timeline.iter().any(|row| row.spec_replicas > 1));
    assert!(rows.timeline.iter().any(|row| row.waiting > 0));
    assert!(r.completed > 1_000, "{}", r.completed);
    assert_eq!(
        r.arrived,
        r.completed + r.failed() + r.dropped + r.in_flight
    );
    assert_eq!(r.in_flight, 24);
}

/// One client on one server of its own: each request is served alone, so its first token
/// comes one prefill step after it is sent, its end `output − 1` decode steps later, and the
/// client's next request goes at that end (plus the think time).
#[test]
fn a_lone_client_sends_back_to_back_and_waits_only_for_its_prefill() {
    let params = crate::model::server::ServerParams {
        max_num_seqs: 4,
        max_num_batched_tokens: 8192,
        kv_cache_tokens: 1_000_000,
        base_ms: 20.0,
        per_prefill_token_ms: 0.05,
        per_decode_seq_ms: 1.0,
        per_context_token_ms: 0.0,
        prefill_attention_ms: 0.0,
        request_overhead_ms: 0.0,
        request_overhead_spread_ms: 0.0,
        decode_saturation_seqs: 0.0,
    };
    let (input, output) = (700u32, 30u32);
    let prompt = StepWork {
        prefill_tokens: u64::from(input),
        ..StepWork::default()
    };
    let prefill = params.step_duration(&prompt);
    let e2e = prefill + i64::from(output - 1) * params.step_duration(&StepWork::decode(1, 0));
    assert_eq!(prefill, SimDuration::from_micros(55_000));
    let serving = "    replicas: 1\n    server: {max_num_seqs: 4, max_num_batched_tokens: 8192, \
                   kv_cache_tokens: 1000000, base_ms: 20, per_prefill_token_ms: 0.05, \
                   per_decode_seq_ms: 1}\n";
    for (think, think_s) in [("", 0), ("        think_time: {constant: 2s}\n", 2)] {
        let streams = format!(
            "    - closed_loop:\n        concurrency: 1\n        requests: 40\n{think}        \
             input_tokens: {{constant: {input}}}\n        output_tokens: {{constant: {output}}}\n"
        );
        let r = run_with_rows(&closed_scenario(1, 10, "", serving, &streams));
        assert_eq!((r.arrived, r.completed, r.in_flight), (40, 40, 0));
        assert_eq!(r.requests.len(), 40);
        assert_eq!(r.requests[0].arrival, SimTime::ZERO);
        for row in &r.requests {
            assert_eq!(row.outcome, Outcome::Completed);
            assert_eq!(row.first_token.map(|t| t - row.arrival), Some(prefill));
            assert_eq!(row.end - row.arrival, e2e);
        }
        for pair in r.requests.windows(2) {
            let think = SimDuration::from_secs(think_s);
            assert_eq!(pair[1].arrival, pair[0].end + think, "{pair:?}");
        }
    }
}

/// `requests: N`: N requests in all, whatever the concurrency, and none after.
#[test]
fn a_closed_loop_sends_exactly_its_requests() {
    let streams = "    - closed_loop:\n        concurrency: 7\n        requests: 500\n        \
                   think_time: {uniform: {min: 0s, max: 3s}}\n        \
                   input_tokens: {uniform: {min: 10, max: 2000}}\n        \
                   output_tokens: {lognormal: {median: 100, p99: 600}}\n";
    let serving = "    replicas: 2\n    server: {preset: llama3-8b-1xh100}\n";
    let r = run_with_rows(&closed_scenario(5, 60, "", serving, streams));
    assert_eq!((r.arrived, r.completed, r.in_flight), (500, 500, 0));
    let last = r.requests.iter().map(|q| q.end).max().unwrap();
    assert!(last < SimTime::from_secs(3_600), "done before the end");
    // Never more than the 7 clients' requests at once.
    let mut events: Vec<(SimTime, i32)> = (r.requests.iter())
        .flat_map(|q| [(q.arrival, 1), (q.end, -1)])
        .collect();
    events.sort_by_key(|&(t, d)| (t, d));
    let mut live = 0;
    for (_, d) in events {
        live += d;
        assert!((0..=7).contains(&live));
    }
}

/// Requests refused as they arrive, resent with no think time, would hold simulated time
/// still for ever: the run stops with a message instead.
#[test]
fn a_closed_loop_of_requests_that_never_fit_stops_the_run() {
    let serving =
        "    replicas: 1\n    server: {preset: llama3-8b-1xh100, kv_cache_tokens: 2000}\n";
    let streams = "    - closed_loop:\n        concurrency: 3\n        \
                   input_tokens: {constant: 5000}\n        output_tokens: {constant: 10}\n";
    let text = closed_scenario(1, 10, "", serving, streams);
    let base = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let scn = parse("closed.yaml", &text, &base, &Overrides::default()).expect("scenario");
    let workload = (scn.workload)
        .build(scn.seed(), &scn.base_dir, scn.duration())
        .expect("workload");
    let opts = RunOptions::default();
    let err = simulate(
        &scn.world,
        workload,
        opts,
        &mut KeptRows::default(),
        &mut |_| {},
    )
    .expect_err("stalled");
    assert!(
        matches!(err, RunError::Stalled { at, sends: 3_001 } if at == SimTime::ZERO),
        "{err}"
    );
    assert!(err.to_string().contains("add a think time"), "{err}");
    // With a think time, the same requests fail one by one as time goes.
    let thinking = text.replace(
        "concurrency: 3\n",
        "concurrency: 3\n        think_time: {constant: 1s}\n",
    );
    let r = run_text(&thinking, false);
    assert_eq!(r.arrived, r.failed());
    assert_eq!(r.arrived, 3 * 600);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// Requests are conserved with closed loops too, alone or beside a Poisson stream, whatever
    /// the servers, policy, timeouts, KV size and crashes do to them; a closed loop alone never
    /// holds more than its clients' requests, nor sends more than `requests`.
    #[test]
    fn requests_are_conserved_with_closed_loops(
        seed in 0u64..1000,
        concurrency in 1u64..40,
        think_ms in prop::option::of(0u32..5_000),
        requests in prop::option::of(1u64..400),
        rps in prop::option::of(0.2f64..3.0),
        replicas in 0u32..3,
        policy in prop::sample::select(vec!["", "../policies/chat-current.yaml"]),
        timeout in prop::option::of(5u32..60),
        kv_tokens in prop::sample::select(vec![2_000u32, 20_000, 200_000]),
        mtbf_min in prop::option::of(2u32..20),
    ) {
        let think = think_ms.map_or(String::new(), |ms| {
            format!("        think_time: {{exponential: {{mean: {}ms}}}}\n", ms.max(1))
        });
        let limit = requests.map_or(String::new(), |n| format!("        requests: {n}\n"));
        let mut streams = format!(
            "    - closed_loop:\n        name: bench\n        concurrency: {concurrency}\n{think}{limit}        \
             input_tokens: {{lognormal: {{median: 300, p99: 3000}}}}\n        \
             output_tokens: {{uniform: {{min: 1, max: 400}}}}\n"
        );
        if let Some(rps) = rps {
            streams.push_str(&format!(
                "    - poisson:\n        name: chat\n        rate: {{constant: {rps}}}\n        \
                 input_tokens: {{constant: 500}}\n        output_tokens: {{constant: 100}}\n"
            ));
        }
        let crashes = mtbf_min.map_or(String::new(), |m| {
            format!("    faults: {{crashes: {{mtbf: {m}m, restart: {{constant: 20s}}}}}}\n")
        });
        let serving = format!(
            "    replicas: {replicas}\n    server: {{preset: llama3-8b-1xh100, kv_cache_tokens: {kv_tokens}, max_num_seqs: 8}}\n{crashes}"
        );
        let mut text = closed_scenario(seed, 6, policy, &serving, &streams);
        if let Some(t) = timeout {
            text = text.replace("servings:", &format!("router: {{queue_timeout: {t}s}}\nservings:"));
        }
        let r = run_text(&text, false);
        prop_assert!(r.arrived > 0);
        prop_assert_eq!(r.arrived, r.completed + r.failed() + r.dropped + r.in_flight, "{}", text);
        prop_assert_eq!(r.completed, r.e2e.len());
        if rps.is_none() {
            prop_assert!(r.in_flight <= concurrency, "{}", text);
            let sent = requests.map_or(concurrency, |n| n.min(concurrency));
            prop_assert!(r.arrived >= sent, "{}", text);
            if let Some(n) = requests {
                prop_assert!(r.arrived <= n, "{}", text);
            }
        }
    }
}
