//! Results to bytes: `summary.json`, `timeline.csv`, `requests.csv` and `report.md`. Each
//! exporter returns bytes (or writes to any `impl Write`) and never touches files: the CLI
//! decides where they go.

pub mod comparison;
pub mod csv_out;
pub mod markdown;
pub mod summary;
pub mod trace_stats;

/// Rounds a reported number to a fixed precision, so that text outputs are stable and
/// readable.
pub fn round6(v: f64) -> f64 {
    if v.is_finite() {
        (v * 1e6).round() / 1e6
    } else {
        v
    }
}
