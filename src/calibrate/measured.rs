//! Measurements of real inference servers, as `calibrate` reads them: benchmark tables (one
//! row per closed- or open-loop point), measured request traces (one row per request), and
//! the JSON that `vllm bench serve --save-result --save-detailed` writes. The format is told
//! from the file's first bytes (a JSON object, or a CSV header), never from its name.

use std::path::PathBuf;

use crate::sim::SimTime;

/// How the requests of a benchmark point were sent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Load {
    /// `concurrency` clients, each sending its next request when its previous one ends.
    Closed { concurrency: u32 },
    /// Poisson arrivals at `rate` requests per second; infinite: all at once.
    Open { rate: f64 },
}

/// The requests of a benchmark point.
#[derive(Debug, Clone, PartialEq)]
pub enum PointRequests {
    /// Every request has exactly these lengths; `count` requests in all when the file says.
    Fixed {
        input_tokens: u32,
        output_tokens: u32,
        count: Option<u64>,
    },
    /// The (input, output) lengths of each request, in the order they were sent.
    Listed(Vec<(u32, u32)>),
}

/// One measured benchmark point: its load, its requests and the measured means.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// The line of the file the point comes from (1 = the header; a JSON file: 1).
    pub line: u64,
    pub load: Load,
    pub requests: PointRequests,
    /// Mean time to first token, milliseconds.
    pub ttft_ms: f64,
    /// Mean time per output token after the first, milliseconds (vLLM's TPOT: over the
    /// requests of more than one output token, `(e2e − ttft) / (output − 1)`).
    pub tpot_ms: f64,
    /// Mean end-to-end latency, milliseconds, when measured.
    pub e2e_ms: Option<f64>,
}

/// One request of a measured trace.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasuredRequest {
    /// The line of the file.
    pub line: u64,
    /// Arrival, from the start of the trace (whole microseconds, rounded half-up).
    pub arrival: SimTime,
    pub input_tokens: u32,
    pub output_tokens: u32,
    /// Measured arrival to first token, seconds.
    pub ttft_s: f64,
    /// Measured arrival to last token, seconds.
    pub e2e_s: f64,
}

/// What one file holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Measurements {
    Points(Vec<Point>),
    Requests(Vec<MeasuredRequest>),
}

/// One measured file, read.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasuredFile {
    pub path: PathBuf,
    pub data: Measurements,
}
