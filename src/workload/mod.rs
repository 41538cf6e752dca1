//! The requests a simulation replays, merged in arrival order: synthetic streams (Poisson
//! arrivals under a rate profile, Gamma or Weibull renewal processes of a chosen burstiness,
//! Markov-modulated on/off bursts; token lengths from named distributions or resampled from
//! a trace) and recorded traces (Azure LLM inference CSV, Mooncake JSON Lines, BurstGPT CSV,
//! the generic `arrival_s,input_tokens,output_tokens` CSV, any CSV with a column mapping),
//! cut, sped up, multiplied and looped. Besides these open-loop streams, closed loops:
//! clients that send their next request when the last one ends ([`ClosedLoop`]), whose
//! sends the simulation schedules itself.
//!
//! This module owns the workload's part of the scenario file ([`WorkloadSpec`] and the types
//! under it), its validation, and the sources built from it. Every source is pulled one
//! request at a time and never holds a whole trace in memory, except where a trace spec
//! asks for it (`sort`, or lengths resampled from a trace: see [`TraceOptions`] and
//! [`EMPIRICAL_CAP`]). It knows nothing of servers,
//! routers or the autoscaler, and it reads no clock: every arrival is integer simulated time
//! ([`SimTime`]), and every random draw comes from a named stream of the scenario seed
//! ([`crate::sim::rng::stream`]).

mod ahead;
mod closed_loop;
mod closed_loop_spec;
mod combine;
mod csv_rows;
mod duration;
mod empirical;
mod format;
mod lengths;
mod mmpp;
mod mooncake;
mod multiplier;
mod poisson;
mod profile;
mod renewal;
mod rows;
mod spec;
mod synthetic_spec;
mod timestamp;
mod trace;
mod trace_spec;
mod warp;
mod writer;

use std::path::PathBuf;

use crate::diagnostic::Diagnostics;
use crate::sim::SimTime;

pub use ahead::read_ahead;
pub use closed_loop::{ClosedLoop, ThinkTime};
pub use closed_loop_spec::{ClosedLoopSpec, ThinkTimeSpec, MAX_CONCURRENCY, NOMINAL_REQUEST};
pub use combine::{ContextLimit, Merge};
pub use duration::SpecDuration;
pub use empirical::EMPIRICAL_CAP;
pub use format::{detect_format, ArrivalTime, Column, CsvColumns, TraceFormat, ZeroOutput};
pub use lengths::{EmpiricalLengths, LengthDistribution};
pub use mmpp::{MmppParams, MmppSource};
pub use multiplier::{RateMultiplier, MAX_RATE_MULTIPLIER};
pub use poisson::PoissonSource;
pub use profile::RateProfile;
pub use renewal::{InterArrival, RenewalSource, CV_RANGE};
pub use rows::RowCounts;
pub use spec::{StreamSpec, Workload, WorkloadSpec, MAX_RUN_REQUESTS};
pub use synthetic_spec::{
    DiurnalSpec, EmpiricalSpec, GapDistribution, LengthColumn, LengthSpec, LognormalSpec, MmppSpec,
    NormalSpec, PoissonSpec, RatePoint, RateSpec, RenewalSpec, UniformSpec,
};
pub use trace::{open_trace, RowNote, TraceOptions, TraceSource, TraceTally};
pub use trace_spec::{TraceSpec, WindowSpec};
pub use writer::GenericCsvWriter;

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

    /// Appends what each trace in this source has read so far, in the order the traces
    /// were given (a workload's trace streams in scenario order). A source that wraps others
    /// must pass this on; synthetic sources add nothing.
    fn traces(&self, _out: &mut Vec<TraceTally>) {}
}

/// A built source, ready to be moved to the thread that runs the simulation.
pub type BoxedSource = Box<dyn RequestSource + Send>;

/// A boxed source is a source, so that wrappers and helpers take either.
impl<S: RequestSource + ?Sized> RequestSource for Box<S> {
    fn next_request(&mut self) -> Result<Option<Request>, WorkloadError> {
        (**self).next_request()
    }

    fn traces(&self, out: &mut Vec<TraceTally>) {
        (**self).traces(out);
    }
}

/// Why a workload could not be built or read.
#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    /// The workload description does not validate: each entry is a field path relative to
    /// the workload and what is wrong with it (see [`WorkloadSpec::validate`]).
    #[error("invalid workload: {}", join_problems(.0))]
    Invalid(Diagnostics),
    /// A trace file cannot be opened.
    #[error("{}: cannot open trace: {source}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A trace file cannot be read.
    #[error("{}: cannot read trace: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A trace cannot be used as asked, whatever its rows (an option its format does not
    /// support, a loop without a period, nothing to draw lengths from).
    #[error("{}: {message}", path.display())]
    Trace { path: PathBuf, message: String },
    /// A trace's header is not that of a known format (or not that of the format asked for).
    #[error("{}: trace header `{found}` is not recognised: expected {expected}", path.display())]
    Header {
        path: PathBuf,
        found: String,
        expected: String,
    },
    /// The CSV layer failed: an I/O error or a malformed header (the message carries the
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

/// What is wrong with one row (one line) of a trace.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowProblem {
    /// A token count that is not a whole number >= 0 (or does not fit in 32 bits).
    #[error("{column} `{value}` is not a token count: expected a whole number")]
    BadNumber { column: String, value: String },
    /// A wall-clock timestamp that does not parse or names an impossible date or time.
    #[error("{column} `{value}` is not a timestamp ({reason}): expected {expected}")]
    BadTimestamp {
        column: String,
        value: String,
        reason: &'static str,
        expected: String,
    },
    /// A relative or Unix time that is not a number >= 0 (negative times included).
    #[error("{column} `{value}` is not a time: expected {expected}")]
    BadTime {
        column: String,
        value: String,
        expected: String,
    },
    /// A row earlier than the row before it: replay needs rows sorted by time (or `sort`).
    #[error(
        "{column} `{value}` is earlier than `{previous}` on line {previous_line}: the trace \
         must be sorted by time (or set `sort: true`)"
    )]
    OutOfOrder {
        column: String,
        value: String,
        previous: String,
        previous_line: u64,
    },
    /// A row with more or fewer fields than the header.
    #[error("the row has {found} fields but the header has {expected}")]
    FieldCount { found: u64, expected: u64 },
    /// A row without a field the format needs (a JSON key, or a CSV column past the row's
    /// end in a file without a header).
    #[error("no `{column}` in the row")]
    MissingField { column: String },
    /// A JSON Lines row that is not a JSON object.
    #[error("not a JSON object: {reason}")]
    NotJson { reason: String },
    /// Bytes that are not text: a binary file, or text that is not UTF-8.
    #[error("not text: the file looks binary or is not UTF-8")]
    NotText,
    /// A line longer than any request needs.
    #[error("the line is longer than {limit} bytes")]
    TooLong { limit: u64 },
    /// Nothing on the first line: an empty file, or one that starts with a blank line.
    #[error("empty: expected a CSV header or a JSON object on the first line")]
    Empty,
}

fn join_problems(problems: &Diagnostics) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
