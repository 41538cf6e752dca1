//! `summary.json` from a run's results: the figures of [`Summary`], rounded to six decimals.

use crate::model::results::Results;
use crate::outputs::count::Count;
use crate::outputs::round6;
use crate::outputs::summary::{
    AssertionOutcome, CostSummary, Faults, Latency, LatencyStats, Replicas, RequestCounts, Scaling,
    ServingLatency, ServingSummary, SloSummary, Summary, Thresholds, PERCENTILES,
};
use crate::scenario::Scenario;
use crate::sim::sketch::Samples;
use crate::sim::SimDuration;

/// Percentiles, max and mean of samples in µs, in seconds; `None` without samples.
fn latency_stats(samples: &Samples) -> LatencyStats {
    let qs: Vec<f64> = PERCENTILES.iter().map(|(_, q)| *q).collect();
    let secs = |v: Option<f64>| v.map(|x| round6(x / 1e6));
    let p = samples.percentiles(&qs);
    LatencyStats {
        p50: secs(p[0]),
        p90: secs(p[1]),
        p95: secs(p[2]),
        p99: secs(p[3]),
        max: secs(samples.max()),
        mean: secs(samples.mean()),
    }
}

/// The summary of a run, with no assertion checked yet (they are checked against it).
pub fn summary(scn: &Scenario, r: &Results) -> Summary {
    let duration_s = r.duration.as_micros() as f64 / 1e6;
    let finished = r.completed + r.failed() + r.dropped;
    let attainment = if finished > 0 {
        r.slo_met as f64 / finished as f64
    } else {
        0.0
    };
    let total_cost: f64 = r.servings.iter().map(|s| s.cost).sum();
    let by_serving = r
        .servings
        .iter()
        .zip(&r.faults.crashes_by_serving)
        .map(|(s, crashes)| {
            let average = if duration_s > 0.0 {
                s.server_seconds / duration_s
            } else {
                0.0
            };
            let slo_attainment = if s.completed > 0 {
                s.slo_met as f64 / s.completed as f64
            } else {
                0.0
            };
            let v = ServingSummary {
                cost: round6(s.cost),
                crashes: Count::from(*crashes),
                completed: Count::from(s.completed),
                slo_attainment: round6(slo_attainment),
                replicas: Replicas {
                    average: round6(average),
                    peak: Count::from(s.peak_servers),
                    replica_hours: round6(s.server_seconds / 3600.0),
                },
                latency: ServingLatency {
                    ttft: latency_stats(&s.ttft),
                    tpot: latency_stats(&s.tpot),
                    e2e: latency_stats(&s.e2e),
                },
            };
            (s.name.clone(), v)
        })
        .collect();
    let slo = &scn.world.slo;
    let secs = |t: Option<SimDuration>| t.map(|t| round6(t.as_micros() as f64 / 1e6));
    Summary {
        scenario: scn.name.clone(),
        scenario_hash: scn.text_hash.clone(),
        seed: scn.seed(),
        engine: scn.world.engine.as_str().to_string(),
        autoscaler: scn.world.autoscaler_names(),
        duration_s: round6(duration_s),
        requests: RequestCounts {
            total: Count::from(r.arrived),
            completed: Count::from(r.completed),
            failed: Count::from(r.failed()),
            failed_too_long: Count::from(r.failed_too_long),
            failed_terminated: Count::from(r.failed_terminated),
            failed_crashed: Count::from(r.failed_crashed),
            dropped: Count::from(r.dropped),
            in_flight: Count::from(r.in_flight),
        },
        latency: Latency {
            ttft: latency_stats(&r.ttft),
            tpot: latency_stats(&r.tpot),
            e2e: latency_stats(&r.e2e),
            queue: latency_stats(&r.queue),
        },
        slo: SloSummary {
            thresholds_s: Thresholds {
                ttft: secs(slo.ttft),
                tpot: secs(slo.tpot),
                e2e: secs(slo.e2e),
                queue: secs(slo.queue),
            },
            met: Count::from(r.slo_met),
            attainment: round6(attainment),
            goodput_rps: round6(if duration_s > 0.0 {
                r.slo_met as f64 / duration_s
            } else {
                0.0
            }),
        },
        cost: CostSummary {
            total: round6(total_cost),
            by_serving: r
                .servings
                .iter()
                .map(|s| (s.name.clone(), round6(s.cost)))
                .collect(),
        },
        replicas: Replicas {
            average: round6(r.average_servers()),
            peak: Count::from(r.peak_servers),
            replica_hours: round6(r.server_seconds / 3600.0),
        },
        scaling: Scaling {
            ticks: Count::from(r.timeline.rows),
            scale_events: Count::from(r.scale_events),
            panic_seconds: round6(r.panic_seconds),
            skipped_ticks: Count::from(r.skipped_ticks),
            preemptions: Count::from(r.preemptions),
        },
        faults: faults(r),
        by_serving,
        assertions: Vec::new(),
        warnings: scn
            .warnings
            .iter()
            .map(ToString::to_string)
            .chain(super::warnings::run_warnings(r))
            .collect(),
        replications: None,
    }
}

/// What the scenario's faults did, and how often the engine skipped a tick while a pod with
/// a restarted container (failed, to Kthena's collector) was in its target.
fn faults(r: &Results) -> Faults {
    let f = &r.faults;
    Faults {
        crashes: Count::from(f.crashes()),
        node_losses: Count::from(f.node_losses),
        pods_lost: Count::from(f.pods_lost),
        image_pull_failures: Count::from(f.image_pull_failures),
        image_pull_delayed_pods: Count::from(f.image_pull_delayed_pods),
        image_pull_delay_s: round6(f.image_pull_delay.as_micros() as f64 / 1e6),
        ticks_skipped_with_restarted_pods: Count::from(r.timeline.skipped_with_restarted),
    }
}

/// The summary of a run with its assertions checked.
pub fn checked(scn: &Scenario, r: &Results) -> Summary {
    let mut s = summary(scn, r);
    let outcomes: Vec<AssertionOutcome> = scn.assertions.iter().map(|a| a.check(&s)).collect();
    s.assertions = outcomes;
    s
}
