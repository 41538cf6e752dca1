//! Cost of one engine tick: a full reconcile of one policy (pod selection, scrape, sums,
//! recommendation, correction, history) — homogeneous, and heterogeneous with 4 params.
//! A simulator calls this millions of times.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use kthena_sim::engine::{Autoscaler, EngineVersion, UnixMillis};
use kthena_sim::golden::format::Line;
use kthena_sim::replay::world::{build_policy, TickCluster};
use serde_json::json;

const BEHAVIOR: &str = r#"{"scaleUp": {"stablePolicy": {"instances": 2, "period": "30s"},
    "panicPolicy": {"period": "60s", "panicModeHold": "45s", "percent": 100}},
  "scaleDown": {"instances": 1, "percent": 50, "period": "30s", "stabilizationWindow": "1m"}}"#;

fn pods(prefix: &str, n: usize, load: f64) -> serde_json::Value {
    (0..n)
        .map(|i| json!({"name": format!("{prefix}-{i}"), "metrics": {"queue_len": load + i as f64, "kv_usage": 0.5}}))
        .collect()
}

fn line(target: serde_json::Value, replicas: serde_json::Value, pods: serde_json::Value) -> Line {
    let behavior: serde_json::Value = serde_json::from_str(BEHAVIOR).expect("behaviour JSON");
    serde_json::from_value(json!({
        "id": "bench",
        "scenario": {
            "policy": {"metrics": [{"name": "queue_len", "targetValue": 10}, {"name": "kv_usage", "targetValue": 0.75}],
                       "behavior": behavior},
            "target": target,
            "ticks": [{"t": 1_700_000_000_000i64, "replicas": replicas, "pods": pods}],
        }
    }))
    .expect("bench scenario")
}

fn bench_tick(c: &mut Criterion, name: &str, line: &Line) {
    for version in [EngineVersion::V0_4, EngineVersion::Head] {
        let (policy, units) = build_policy(&line.scenario, version).expect("policy");
        let cluster = TickCluster::new(&line.scenario.ticks[0], &units, 0).expect("cluster");
        let policies = [policy];
        let mut engine = Autoscaler::new(version);
        let mut t = 1_700_000_000_000i64;
        c.bench_function(&format!("engine tick/{name}/{version}"), |b| {
            b.iter(|| {
                t += 15_000;
                black_box(engine.reconcile(
                    black_box(UnixMillis::from_millis(t)),
                    &policies,
                    &cluster,
                ))
            })
        });
    }
}

fn engine_tick(c: &mut Criterion) {
    let homogeneous = line(
        json!({"mode": "homogeneous", "minReplicas": 1, "maxReplicas": 20}),
        json!(4),
        pods("p", 4, 12.0),
    );
    bench_tick(c, "homogeneous 4 pods", &homogeneous);
    let names = ["h100", "a100", "l40s", "a10"];
    let params: Vec<_> = names
        .iter()
        .enumerate()
        .map(|(i, n)| json!({"name": n, "cost": 100 - 20 * i as i32, "minReplicas": 1, "maxReplicas": 8}))
        .collect();
    let replicas: serde_json::Map<_, _> = names.iter().map(|n| (n.to_string(), json!(2))).collect();
    let pod_map: serde_json::Map<_, _> = names
        .iter()
        .map(|n| (n.to_string(), pods(n, 2, 15.0)))
        .collect();
    let heterogeneous = line(
        json!({"mode": "heterogeneous", "costExpansionRatePercent": 200, "params": params}),
        json!(replicas),
        json!(pod_map),
    );
    bench_tick(c, "heterogeneous 4 params", &heterogeneous);
}

criterion_group!(benches, engine_tick);
criterion_main!(benches);
