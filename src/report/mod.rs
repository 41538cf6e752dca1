//! Results to bytes: `summary.json`, the run's CSV files, `report.md`, the comparison and
//! sweep tables and the CI outputs, in the formats [`crate::outputs`] defines. Each exporter
//! returns bytes and never touches files: the CLI decides where they go.

pub mod comparison;
pub mod csv_out;
pub mod markdown;
pub mod replications;
pub mod summary;
pub mod trace_stats;
pub mod warnings;
pub mod workload;
