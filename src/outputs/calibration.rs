//! The files `kthena-sim calibrate` writes besides `server.yaml`: `calibration.csv`, one row
//! per measured benchmark point or per measured request, measured beside simulated.

use serde::{Deserialize, Serialize};

/// One benchmark point of `calibration.csv`. Points of a vLLM benchmark JSON list their
/// requests' mean lengths.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointRow {
    pub file: String,
    pub line: u64,
    /// Closed-loop clients; empty for an open-loop point.
    pub concurrency: Option<u32>,
    /// Open-loop requests per second (`inf`: all at once); empty for a closed-loop point.
    pub request_rate: Option<f64>,
    pub input_tokens: u32,
    pub output_tokens: u32,
    pub measured_ttft_ms: f64,
    pub simulated_ttft_ms: f64,
    pub measured_tpot_ms: f64,
    pub simulated_tpot_ms: f64,
    /// Empty where the file does not measure it.
    pub measured_e2e_ms: Option<f64>,
    pub simulated_e2e_ms: f64,
    /// Simulated requests preempted for want of KV cache.
    pub preempted: usize,
}

/// One request of a measured trace, in `calibration.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestRow {
    pub file: String,
    pub line: u64,
    pub arrival_s: f64,
    pub input_tokens: u32,
    pub output_tokens: u32,
    pub measured_ttft_s: f64,
    /// Empty if the simulated server refused it (longer than its KV cache).
    pub simulated_ttft_s: Option<f64>,
    pub measured_e2e_s: f64,
    pub simulated_e2e_s: f64,
}
