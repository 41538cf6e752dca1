//! `summary.json`: the inputs echoed, request outcomes, latency percentiles, SLO attainment,
//! cost, replicas, scaling activity, faults, per-ModelServing figures and the assertions'
//! verdicts. The assertion language names its metrics by their paths in this type
//! ([`Summary::metric_names`]), so a metric exists once.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::count::Count;
use crate::stats::Estimate;

/// Percentiles reported for each latency, with their quantiles.
pub const PERCENTILES: [(&str, f64); 4] =
    [("p50", 0.50), ("p90", 0.90), ("p95", 0.95), ("p99", 0.99)];

/// What a run produced, as `summary.json` holds it. Times in seconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub scenario: String,
    /// FNV-1a hash of the scenario text.
    pub scenario_hash: String,
    pub seed: u64,
    pub engine: String,
    /// The autoscalers that ran, `+`-joined in manifest order: `kthena`, `hpa`, `keda`,
    /// `kpa` (empty in files of runs before the other autoscalers existed).
    #[serde(default)]
    pub autoscaler: String,
    pub duration_s: f64,
    pub requests: RequestCounts,
    /// Over completed requests.
    pub latency: Latency,
    pub slo: SloSummary,
    pub cost: CostSummary,
    /// Servers alive and billed: pending, starting, ready or draining.
    pub replicas: Replicas,
    pub scaling: Scaling,
    pub faults: Faults,
    /// Per ModelServing, in scenario order.
    pub by_serving: IndexMap<String, ServingSummary>,
    /// The scenario's assertions and their verdicts, in scenario order.
    pub assertions: Vec<AssertionOutcome>,
    /// What the user must not miss: policies that cannot work as written, a policy that never
    /// scaled or flapped. One line each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// With several replications: every number above is their mean, and this says how many
    /// there were, their seeds, and each metric's spread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replications: Option<Replications>,
}

/// The replications behind a summary of means.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Replications {
    pub count: usize,
    /// Replication r's seed (the first is the scenario's).
    pub seeds: Vec<u64>,
    /// Per metric (as assertions name it): mean, sd, 95 % interval, min and max.
    pub stats: IndexMap<String, Estimate>,
}

/// Request outcomes: `total = completed + failed + dropped + in_flight`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestCounts {
    pub total: Count,
    pub completed: Count,
    pub failed: Count,
    pub failed_too_long: Count,
    pub failed_terminated: Count,
    pub failed_crashed: Count,
    pub dropped: Count,
    pub in_flight: Count,
}

/// Percentiles (linear interpolation between closest ranks, as numpy), max and mean;
/// `null` without samples.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencyStats {
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
    pub max: Option<f64>,
    pub mean: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    pub ttft: LatencyStats,
    pub tpot: LatencyStats,
    pub e2e: LatencyStats,
    /// Time from arrival to the first admission by a server.
    pub queue: LatencyStats,
}

/// The SLO's per-request thresholds in seconds (`null`: not checked).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    pub ttft: Option<f64>,
    pub tpot: Option<f64>,
    pub e2e: Option<f64>,
    pub queue: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SloSummary {
    pub thresholds_s: Thresholds,
    /// Completed requests within every threshold.
    pub met: Count,
    /// `met / (completed + failed + dropped)`.
    pub attainment: f64,
    pub goodput_rps: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CostSummary {
    pub total: f64,
    /// Per ModelServing, in scenario order.
    pub by_serving: IndexMap<String, f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Replicas {
    pub average: f64,
    pub peak: Count,
    pub replica_hours: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Scaling {
    /// Timeline rows: controller ticks × scaled targets.
    pub ticks: Count,
    pub scale_events: Count,
    pub panic_seconds: f64,
    pub skipped_ticks: Count,
    /// Requests preempted by their server (KV cache full).
    pub preemptions: Count,
}

/// What the scenario's faults did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Faults {
    pub crashes: Count,
    pub node_losses: Count,
    pub pods_lost: Count,
    pub image_pull_failures: Count,
    pub image_pull_delayed_pods: Count,
    pub image_pull_delay_s: f64,
    /// Ticks the engine skipped while a pod with a restarted container (failed, to Kthena's
    /// collector) was in its target.
    pub ticks_skipped_with_restarted_pods: Count,
}

/// One ModelServing's share of the run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServingSummary {
    pub cost: f64,
    pub crashes: Count,
    pub completed: Count,
    /// Of its completed requests, the fraction within the SLO.
    pub slo_attainment: f64,
    pub replicas: Replicas,
    pub latency: ServingLatency,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServingLatency {
    pub ttft: LatencyStats,
    pub tpot: LatencyStats,
    pub e2e: LatencyStats,
}

/// The verdict of one assertion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssertionOutcome {
    pub expr: String,
    /// The measured value (over replications: the mean, or the aggregate the assertion
    /// names); `None` when the summary has no number there.
    pub value: Option<f64>,
    pub passed: bool,
    /// Over replications, for an assertion that must hold in each: the replications
    /// (1-based) where it did not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed_replications: Vec<usize>,
}

impl Summary {
    /// The number at dotted `path` (e.g. `["latency", "ttft", "p99"]`), if there is one.
    pub fn metric(&self, path: &[String]) -> Option<f64> {
        let v = serde_json::to_value(self).ok()?;
        path.iter().try_fold(&v, |v, k| v.get(k))?.as_f64()
    }

    /// Every metric an assertion may name, as dotted paths, for a run of ModelServings
    /// `servings`: the numbers of a summary (the assertions' verdicts aside).
    pub fn metric_names(servings: &[String]) -> Vec<String> {
        let some = Some(0.0);
        let stats = LatencyStats {
            p50: some,
            p90: some,
            p95: some,
            p99: some,
            max: some,
            mean: some,
        };
        let template = Summary {
            scenario: String::new(),
            scenario_hash: String::new(),
            seed: 0,
            engine: String::new(),
            autoscaler: String::new(),
            duration_s: 0.0,
            requests: RequestCounts::default(),
            latency: Latency {
                ttft: stats.clone(),
                tpot: stats.clone(),
                e2e: stats.clone(),
                queue: stats.clone(),
            },
            slo: SloSummary {
                thresholds_s: Thresholds {
                    ttft: some,
                    tpot: some,
                    e2e: some,
                    queue: some,
                },
                ..SloSummary::default()
            },
            cost: CostSummary {
                total: 0.0,
                by_serving: servings.iter().map(|s| (s.clone(), 0.0)).collect(),
            },
            replicas: Replicas::default(),
            scaling: Scaling::default(),
            faults: Faults::default(),
            by_serving: servings
                .iter()
                .map(|s| {
                    let latency = ServingLatency {
                        ttft: stats.clone(),
                        tpot: stats.clone(),
                        e2e: stats.clone(),
                    };
                    (
                        s.clone(),
                        ServingSummary {
                            latency,
                            ..ServingSummary::default()
                        },
                    )
                })
                .collect(),
            assertions: Vec::new(),
            warnings: Vec::new(),
            replications: None,
        };
        let mut names = Vec::new();
        if let Ok(v) = serde_json::to_value(&template) {
            numeric_leaves(&v, &mut String::new(), &mut names);
        }
        names
    }
}

/// The dotted paths of the numbers in `v`.
fn numeric_leaves(v: &serde_json::Value, prefix: &mut String, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Number(_) => out.push(prefix.clone()),
        serde_json::Value::Object(m) => {
            for (k, child) in m {
                let len = prefix.len();
                if !prefix.is_empty() {
                    prefix.push('.');
                }
                prefix.push_str(k);
                numeric_leaves(child, prefix, out);
                prefix.truncate(len);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names_are_the_numbers_of_a_summary() {
        let names = Summary::metric_names(&["chat".to_string()]);
        for n in [
            "seed",
            "duration_s",
            "requests.total",
            "latency.ttft.p99",
            "latency.queue.mean",
            "slo.attainment",
            "cost.total",
            "cost.by_serving.chat",
            "replicas.peak",
            "scaling.ticks",
            "faults.image_pull_delay_s",
            "by_serving.chat.latency.e2e.p50",
        ] {
            assert!(names.iter().any(|x| x == n), "{n} not in {names:?}");
        }
        for n in [
            "scenario",
            "engine",
            "latency.ttft",
            "cost.by_serving.other",
            "assertions",
        ] {
            assert!(!names.iter().any(|x| x == n), "{n} is not a metric");
        }
    }
}
