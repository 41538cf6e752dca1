//! The rows of a run's CSV files: `timeline.csv`, `cost.csv`, `latency.csv` and
//! `requests.csv`. The simulator fills them, the report writes them (numbers rounded to six
//! decimals), the charts read them back.

use serde::{Deserialize, Serialize};

/// One row of `timeline.csv`: a controller tick for one scaled target of one policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineRow {
    pub time_s: f64,
    pub policy: String,
    /// Which autoscaler decided: `kthena`, `hpa`, `keda` or `kpa` (empty in files of runs
    /// before the other autoscalers existed).
    #[serde(default)]
    pub autoscaler: String,
    /// The scaled ModelServing (`namespace/name`, `/role` for a role).
    pub target: String,
    /// `spec.replicas` after the tick's write.
    pub spec_replicas: i32,
    /// The policy's bounds for this target.
    pub min_replicas: i32,
    pub max_replicas: i32,
    pub ready: u32,
    pub starting: u32,
    pub pending: u32,
    pub terminating: u32,
    /// Crashed containers being restarted (absent from files of runs before faults existed).
    #[serde(default)]
    pub restarting: u32,
    /// Pods of lost nodes, not yet evicted.
    #[serde(default)]
    pub lost: u32,
    /// Pods with `restartCount > 0`: Kthena's collector counts them as failed.
    #[serde(default)]
    pub restarted: u32,
    /// The engine's metric inputs, `name=value` separated by `;`.
    pub metrics: String,
    pub unready: Option<i32>,
    pub recommended: Option<i32>,
    pub corrected: Option<i32>,
    pub panic: bool,
    pub skip: bool,
    pub reason_code: String,
    pub reason: String,
    /// Arrivals per second since the previous tick.
    pub arrivals_per_s: f64,
    /// Requests waiting in the target's servers and in the router queue.
    pub waiting: u64,
    pub running: u64,
    /// Fraction of the KV cache in use, mean over ready servers (0..=1).
    pub kv_usage: f64,
    /// Price per hour of all live servers.
    pub cost_per_hour: f64,
}

/// One row of `cost.csv`: what one ModelServing has cost so far, at a controller tick (and at
/// the end of the run, so that the last row equals the summary's cost).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostRow {
    pub time_s: f64,
    pub serving: String,
    /// Live (billed) servers: pending, starting, ready or draining.
    pub servers: u64,
    pub cost_per_hour: f64,
    /// Cumulative cost since the start.
    pub cost: f64,
}

/// One row of `latency.csv`: the requests that completed in one minute and their latency
/// percentiles in seconds (empty when none completed, TPOT also when all had one token).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencyRow {
    /// The minute's start.
    pub time_s: f64,
    pub completed: usize,
    pub ttft_p50_s: Option<f64>,
    pub ttft_p99_s: Option<f64>,
    pub tpot_p50_s: Option<f64>,
    pub tpot_p99_s: Option<f64>,
    pub e2e_p50_s: Option<f64>,
    pub e2e_p99_s: Option<f64>,
}

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestOutcome {
    Completed,
    /// Failed: prompt + output can never fit in the KV cache.
    TooLong,
    /// Failed: cut off when its server's termination grace ended.
    Terminated,
    /// Failed: its server's container crashed, or its node was lost.
    Crashed,
    /// Dropped by the router after its queue timeout.
    Dropped,
    /// Still queued or running when the run ended.
    InFlight,
}

/// One row of `requests.csv`, in the order requests ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestRecord {
    pub arrival_s: f64,
    pub input_tokens: u32,
    pub output_tokens: u32,
    /// The pod that served it last (empty if none did).
    pub server: String,
    pub queue_s: Option<f64>,
    pub ttft_s: Option<f64>,
    pub tpot_s: Option<f64>,
    pub e2e_s: Option<f64>,
    pub outcome: RequestOutcome,
}
