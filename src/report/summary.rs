//! `summary.json`: the inputs echoed, request outcomes, latency percentiles, SLO attainment,
//! cost, replicas, scaling activity and the assertions' verdicts.

use serde_json::{json, Map, Value};

use super::round6;
use crate::model::results::Results;
use crate::scenario::assertion::Outcome;
use crate::scenario::Scenario;
use crate::sim::sketch::Samples;
use crate::sim::SimDuration;

/// Percentiles reported for each latency.
const PERCENTILES: [(&str, f64); 4] = [("p50", 0.50), ("p90", 0.90), ("p95", 0.95), ("p99", 0.99)];
const LATENCIES: [&str; 4] = ["ttft", "tpot", "e2e", "queue"];
const STATS: [&str; 6] = ["p50", "p90", "p95", "p99", "max", "mean"];

/// Percentiles, max and mean of samples in µs, in seconds; nulls without samples.
fn latency_stats(samples: &Samples) -> Value {
    let qs: Vec<f64> = PERCENTILES.iter().map(|(_, q)| *q).collect();
    let secs = |v: Option<f64>| v.map(|x| round6(x / 1e6));
    let mut o = Map::new();
    for ((name, _), v) in PERCENTILES.iter().zip(samples.percentiles(&qs)) {
        o.insert((*name).into(), json!(secs(v)));
    }
    o.insert("max".into(), json!(secs(samples.max())));
    o.insert("mean".into(), json!(secs(samples.mean())));
    Value::Object(o)
}

/// Whether `path` names a number `summary.json` reports (for assertions).
pub fn is_known_metric(path: &[String], servings: &[String]) -> bool {
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    match p.as_slice() {
        ["seed" | "duration_s"] => true,
        ["requests", k] => [
            "total",
            "completed",
            "failed",
            "failed_too_long",
            "failed_terminated",
            "failed_crashed",
            "dropped",
            "in_flight",
        ]
        .contains(k),
        ["latency", l, s] => LATENCIES.contains(l) && STATS.contains(s),
        ["slo", k] => ["attainment", "goodput_rps", "met"].contains(k),
        ["faults", k] => [
            "crashes",
            "node_losses",
            "pods_lost",
            "image_pull_failures",
            "image_pull_delayed_pods",
            "image_pull_delay_s",
            "ticks_skipped_with_restarted_pods",
        ]
        .contains(k),
        ["cost", "total"] => true,
        ["cost", "by_serving", s] => servings.iter().any(|x| x == s),
        ["replicas", k] => ["average", "peak", "replica_hours"].contains(k),
        ["scaling", k] => [
            "scale_events",
            "panic_seconds",
            "skipped_ticks",
            "ticks",
            "preemptions",
        ]
        .contains(k),
        _ => false,
    }
}

/// The summary without assertions (they are checked against it).
pub fn summary(scn: &Scenario, r: &Results) -> Value {
    let duration_s = r.duration.as_micros() as f64 / 1e6;
    let finished = r.completed + r.failed() + r.dropped;
    let attainment = if finished > 0 {
        r.slo_met as f64 / finished as f64
    } else {
        0.0
    };
    let cost_by_serving: Map<String, Value> = r
        .servings
        .iter()
        .map(|s| (s.name.clone(), json!(round6(s.cost))))
        .collect();
    let total_cost: f64 = r.servings.iter().map(|s| s.cost).sum();
    let by_serving: Map<String, Value> = r
        .servings
        .iter()
        .zip(&r.faults.crashes_by_serving)
        .map(|(s, crashes)| {
            let v = json!({
                "cost": round6(s.cost),
                "crashes": crashes,
                "completed": s.completed,
                "slo_attainment": round6(if s.completed > 0 { s.slo_met as f64 / s.completed as f64 } else { 0.0 }),
                "replicas": {
                    "average": round6(if duration_s > 0.0 { s.server_seconds / duration_s } else { 0.0 }),
                    "peak": s.peak_servers,
                    "replica_hours": round6(s.server_seconds / 3600.0),
                },
                "latency": {
                    "ttft": latency_stats(&s.ttft),
                    "tpot": latency_stats(&s.tpot),
                    "e2e": latency_stats(&s.e2e),
                },
            });
            (s.name.clone(), v)
        })
        .collect();
    let slo = &scn.world.slo;
    let secs = |t: Option<SimDuration>| t.map(|t| round6(t.as_micros() as f64 / 1e6));
    json!({
        "scenario": scn.name,
        "scenario_hash": scn.text_hash,
        "seed": scn.seed(),
        "engine": scn.world.engine.as_str(),
        "duration_s": round6(duration_s),
        "requests": {
            "total": r.arrived,
            "completed": r.completed,
            "failed": r.failed(),
            "failed_too_long": r.failed_too_long,
            "failed_terminated": r.failed_terminated,
            "failed_crashed": r.failed_crashed,
            "dropped": r.dropped,
            "in_flight": r.in_flight,
        },
        "latency": {
            "ttft": latency_stats(&r.ttft),
            "tpot": latency_stats(&r.tpot),
            "e2e": latency_stats(&r.e2e),
            "queue": latency_stats(&r.queue),
        },
        "slo": {
            "thresholds_s": {"ttft": secs(slo.ttft), "tpot": secs(slo.tpot), "e2e": secs(slo.e2e), "queue": secs(slo.queue)},
            "met": r.slo_met,
            "attainment": round6(attainment),
            "goodput_rps": round6(if duration_s > 0.0 { r.slo_met as f64 / duration_s } else { 0.0 }),
        },
        "cost": {"total": round6(total_cost), "by_serving": cost_by_serving},
        "replicas": {
            "average": round6(r.average_servers()),
            "peak": r.peak_servers,
            "replica_hours": round6(r.server_seconds / 3600.0),
        },
        "scaling": {
            "ticks": r.timeline.len(),
            "scale_events": r.scale_events,
            "panic_seconds": round6(r.panic_seconds),
            "skipped_ticks": r.skipped_ticks,
            "preemptions": r.preemptions,
        },
        "faults": faults(r),
        "by_serving": by_serving,
    })
}

/// What the scenario's faults did, and how often the engine skipped a tick while a pod with
/// a restarted container (failed, to Kthena's collector) was in its target.
fn faults(r: &Results) -> Value {
    let f = &r.faults;
    let frozen = r
        .timeline
        .iter()
        .filter(|row| row.skip && row.restarted > 0)
        .count();
    json!({
        "crashes": f.crashes(),
        "node_losses": f.node_losses,
        "pods_lost": f.pods_lost,
        "image_pull_failures": f.image_pull_failures,
        "image_pull_delayed_pods": f.image_pull_delayed_pods,
        "image_pull_delay_s": round6(f.image_pull_delay.as_micros() as f64 / 1e6),
        "ticks_skipped_with_restarted_pods": frozen,
    })
}

/// Adds the assertions' verdicts to a summary.
pub fn with_assertions(mut summary: Value, outcomes: &[Outcome]) -> Value {
    summary["assertions"] = outcomes
        .iter()
        .map(|o| json!({"expr": o.expr, "value": o.value, "passed": o.passed}))
        .collect();
    summary
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_metrics() {
        let s = |p: &str| p.split('.').map(str::to_string).collect::<Vec<_>>();
        let servings = vec!["chat".to_string()];
        assert!(is_known_metric(&s("latency.ttft.p99"), &servings));
        assert!(is_known_metric(&s("cost.by_serving.chat"), &servings));
        assert!(!is_known_metric(&s("cost.by_serving.other"), &servings));
        assert!(!is_known_metric(&s("latency.ttft.p42"), &servings));
    }
}
