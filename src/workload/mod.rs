//! The requests a simulation replays: synthetic streams (Poisson arrivals under a rate
//! profile, token lengths from named distributions) and recorded traces (Azure LLM inference
//! CSV, the generic `arrival_s,input_tokens,output_tokens` CSV), merged in arrival order.
//!
//! This module owns the workload's part of the scenario file ([`WorkloadSpec`] and the types
//! under it), its validation, and the sources built from it. Every source is pulled one
//! request at a time and never holds a whole trace in memory. It knows nothing of servers,
//! routers or the autoscaler, and it reads no clock: every arrival is integer simulated time
//! ([`SimTime`]), and every random draw comes from a named stream of the scenario seed
//! ([`crate::sim::rng::stream`]).

mod combine;
mod duration;
mod lengths;
mod poisson;
mod profile;
mod spec;
mod trace;

use std::path::PathBuf;

use crate::sim::SimTime;

pub use combine::{ContextLimit, Merge};
pub use duration::SpecDuration;
pub use lengths::LengthDistribution;
pub use poisson::PoissonSource;
pub use profile::RateProfile;
pub use spec::{
    DiurnalSpec, LengthSpec, LognormalSpec, NormalSpec, PoissonSpec, RatePoint, RateSpec,
    StreamSpec, TraceFormat, TraceSpec, UniformSpec, WindowSpec, WorkloadSpec,
};
pub use trace::{GenericCsvWriter, TraceOptions, TraceSource};

/// One inference request, as the router receives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Request {
    /// When the request reaches the router, from the start of the run.
    pub arrival: SimTime,
    /// Prompt tokens; at least 1.
    pub input_tokens: u32,
    /// Tokens to generate; at least 1.
    pub output_tokens: u32,
}

/// A stream of requests pulled one at a time, so that a week-long trace costs no more
/// memory than a minute of it.
///
/// Arrivals never decrease; requests with equal arrivals come in a fixed order (file order
/// for traces, stream order for merged streams), which keeps runs reproducible. After the
/// first `Ok(None)` a source stays exhausted.
pub trait RequestSource {
    /// The next request, `Ok(None)` once the source is exhausted.
    fn next_request(&mut self) -> Result<Option<Request>, WorkloadError>;
}

/// A built source, ready to be moved to the thread that runs the simulation.
pub type BoxedSource = Box<dyn RequestSource + Send>;

/// Why a workload could not be built or read.
#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    /// The workload description does not validate: each entry is a field path relative to
    /// the workload and what is wrong with it (see [`WorkloadSpec::validate`]).
    #[error("invalid workload: {}", join_problems(.0))]
    Invalid(Vec<(String, String)>),
    /// A trace file cannot be opened.
    #[error("{}: cannot open trace: {source}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A trace's header is not that of a known format (or not that of the format asked for).
    #[error("{}: trace header `{found}` is not recognised: expected {expected}", path.display())]
    Header {
        path: PathBuf,
        found: String,
        expected: String,
    },
    /// The CSV layer failed: an I/O error or text that is not UTF-8 (the message carries the
    /// line).
    #[error("{}: {source}", path.display())]
    Csv {
        path: PathBuf,
        #[source]
        source: csv::Error,
    },
    /// A trace row was read but one of its fields is wrong.
    #[error("{}:{line}: {problem}", path.display())]
    Row {
        path: PathBuf,
        /// 1-based line of the file (the header is line 1), as an editor shows it.
        line: u64,
        problem: RowProblem,
    },
}

/// What is wrong with one row of a trace.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowProblem {
    /// A token count that is not a whole number >= 0 (or does not fit in 32 bits).
    #[error("{column} `{value}` is not a token count: expected a whole number")]
    BadNumber { column: &'static str, value: String },
    /// An Azure timestamp that does not parse or names an impossible date or time.
    #[error(
        "{column} `{value}` is not a timestamp ({reason}): expected a time like \
         `2023-11-16 18:15:46.6805900`, optionally followed by a UTC offset like `+00:00`"
    )]
    BadTimestamp {
        column: &'static str,
        value: String,
        reason: &'static str,
    },
    /// A generic arrival time that is not a decimal number of seconds >= 0.
    #[error(
        "{column} `{value}` is not a time: expected seconds from the start of the run as a \
         decimal number >= 0, like `12.5`"
    )]
    BadSeconds { column: &'static str, value: String },
    /// A row earlier than the row before it: replay needs rows sorted by time.
    #[error(
        "{column} `{value}` is earlier than `{previous}` on line {previous_line}: the trace \
         must be sorted by time"
    )]
    OutOfOrder {
        column: &'static str,
        value: String,
        previous: String,
        previous_line: u64,
    },
    /// A row with more or fewer fields than the header.
    #[error("the row has {found} fields but the header has {expected}")]
    FieldCount { found: u64, expected: u64 },
}

fn join_problems(problems: &[(String, String)]) -> String {
    problems
        .iter()
        .map(|(path, message)| format!("{path}: {message}"))
        .collect::<Vec<_>>()
        .join("; ")
}
