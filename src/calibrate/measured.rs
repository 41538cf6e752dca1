//! Measurements of real inference servers, as `calibrate` reads them: benchmark tables (one
//! row per closed- or open-loop point), measured request traces (one row per request), and
//! the JSON that `vllm bench serve --save-result --save-detailed` writes. The format is told
//! from the file's first bytes (a JSON object, or a CSV header), never from its name.
//!
//! One submodule per format, and `csv_file` for what the CSV formats share. Every value is
//! checked here, so that what follows (simulating the points, fitting) takes them as they
//! are; nothing here simulates or fits.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::sim::SimTime;
use crate::text::{read_text, TextError, MAX_TEXT_BYTES};

mod csv_file;
mod table;
mod trace;
mod vllm_json;

#[cfg(test)]
mod tests;

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

impl MeasuredFile {
    /// How many of its closed-loop points do not say how many requests they sent: they are
    /// simulated with [`REQUESTS_PER_CLIENT`](super::simulate::REQUESTS_PER_CLIENT) per
    /// client, and their mean TTFT depends on it (every client's first request arrives at
    /// once and queues).
    pub fn closed_points_without_count(&self) -> usize {
        match &self.data {
            Measurements::Points(points) => (points.iter())
                .filter(|p| matches!(p.load, Load::Closed { .. }))
                .filter(|p| matches!(p.requests, PointRequests::Fixed { count: None, .. }))
                .count(),
            Measurements::Requests(_) => 0,
        }
    }
}

/// Reads the measured file at `path`, whatever its format.
pub fn read(path: &Path) -> Result<MeasuredFile, MeasuredError> {
    let text = read_text(path).map_err(|e| match e {
        TextError::Read(reason) => MeasuredError::Unreadable {
            path: path.to_path_buf(),
            reason: format!("cannot read: {reason}"),
        },
        TextError::TooLarge => MeasuredError::Unreadable {
            path: path.to_path_buf(),
            reason: format!(
                "larger than {} MiB: not a measured file",
                MAX_TEXT_BYTES / (1024 * 1024)
            ),
        },
        TextError::NotUtf8 { byte, line, column } => MeasuredError::Invalid {
            path: path.to_path_buf(),
            fault: Fault::at_line(line as u64, Problem::NotUtf8 { byte, column }),
        },
    })?;
    let data = parse(&text).map_err(|fault| MeasuredError::Invalid {
        path: path.to_path_buf(),
        fault,
    })?;
    Ok(MeasuredFile {
        path: path.to_path_buf(),
        data,
    })
}

/// The measurements in `text`: JSON when it starts with `{`, otherwise CSV told apart by
/// its header.
fn parse(text: &str) -> Result<Measurements, Fault> {
    // Spreadsheets save CSV with a byte-order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let start = text.trim_start();
    if start.is_empty() {
        return Err(Fault::at_line(1, Problem::Empty));
    }
    if start.starts_with('{') {
        return vllm_json::points(text).map(Measurements::Points);
    }
    let csv = csv_file::CsvFile::open(text)?;
    match (csv.has("tpot_ms"), csv.has("arrival_s")) {
        (true, false) => table::points(csv).map(Measurements::Points),
        (false, true) => trace::requests(csv).map(Measurements::Requests),
        (true, true) => Err(Fault::at_line(csv.header_line(), Problem::BothFormats)),
        (false, false) => Err(Fault::at_line(csv.header_line(), Problem::Unrecognised)),
    }
}

/// What a benchmark table's header needs, for messages.
const TABLE: &str = "a benchmark table (concurrency or request_rate, input_tokens, output_tokens, \
                     ttft_ms, tpot_ms)";
/// What a request trace's header needs, for messages.
const TRACE: &str = "a request trace (arrival_s, input_tokens, output_tokens, ttft_s, e2e_s)";
/// The JSON read, for messages.
const VLLM_JSON: &str = "vllm bench serve --save-result --save-detailed JSON";

/// The domains of values, as messages name them.
const TOKENS: &str = "a token count (a whole number from 1 to 4294967295)";
const CONCURRENCY: &str = "a concurrency (a whole number of clients from 1 to 4294967295)";
const RATE: &str = "a request rate (a number of requests per second > 0, or inf)";
const MILLISECONDS: &str = "a time in milliseconds (a number > 0)";
const MILLISECONDS_OR_ZERO: &str = "a time in milliseconds (a number >= 0)";
const SECONDS: &str = "a time in seconds (a number > 0)";
const SECONDS_OR_ZERO: &str = "a time in seconds (a number >= 0)";

/// A measured time: finite and > 0.
fn positive(x: f64) -> Option<f64> {
    (x.is_finite() && x > 0.0).then_some(x)
}

/// A time that may be 0: an arrival, a gap between tokens, the TPOT of one-token outputs.
fn non_negative(x: f64) -> Option<f64> {
    (x.is_finite() && x >= 0.0).then_some(x)
}

/// A request rate: > 0; infinite sends every request at once.
fn rate(x: f64) -> Option<f64> {
    (x > 0.0).then_some(x)
}

/// A count of at least 1 (tokens, clients).
fn at_least_one(n: u32) -> Option<u32> {
    (n >= 1).then_some(n)
}

/// Why a measured file cannot be used; one line naming the file and the place in it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MeasuredError {
    /// The file cannot be had as text: missing, unreadable or absurdly large.
    #[error("{}: {reason}", path.display())]
    Unreadable { path: PathBuf, reason: String },
    /// Its content is wrong at a line of the file.
    #[error("{}: {fault}", path.display())]
    Invalid { path: PathBuf, fault: Fault },
}

/// What is wrong, and where in the file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}{place}: {problem}")]
pub struct Fault {
    /// 1-based; in JSON, the line of the field's key.
    pub line: u64,
    pub place: Place,
    pub problem: Problem,
}

impl Fault {
    /// A problem of the line as a whole.
    fn at_line(line: u64, problem: Problem) -> Self {
        Fault {
            line,
            place: Place::Line,
            problem,
        }
    }
}

/// Where in the line.
#[derive(Debug, Clone, PartialEq)]
pub enum Place {
    /// The line as a whole.
    Line,
    /// A CSV column, by its header name.
    Column(&'static str),
    /// A JSON field and the index within it, e.g. `ttfts[3]`.
    Field(String),
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Line => Ok(()),
            Place::Column(name) => write!(f, ", column {name}"),
            Place::Field(name) => write!(f, ", field {name}"),
        }
    }
}

/// What is wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Problem {
    #[error("empty file: expected {}, {} or {}", TABLE, TRACE, VLLM_JSON)]
    Empty,
    #[error("not UTF-8 text: invalid byte 0x{byte:02X} at column {column}")]
    NotUtf8 { byte: u8, column: usize },
    #[error("no format recognised: expected {}, {} or {}", TABLE, TRACE, VLLM_JSON)]
    Unrecognised,
    #[error(
        "the header has both tpot_ms (a benchmark table) and arrival_s (a request trace): \
         keep the columns of one"
    )]
    BothFormats,
    /// A column the detected format needs; `expected` names the format and its columns.
    #[error("no column {column}: expected {expected}")]
    MissingColumn {
        column: &'static str,
        expected: &'static str,
    },
    /// A column named twice: which one is meant cannot be known.
    #[error("the column {column} appears more than once")]
    DuplicateColumn { column: &'static str },
    #[error(
        "both concurrency and request_rate columns: a benchmark table is either closed-loop \
         (concurrency) or open-loop (request_rate)"
    )]
    BothLoads,
    #[error("a header but no rows")]
    NoRows,
    #[error("the row has {found} fields but the header has {expected}")]
    FieldCount { found: u64, expected: u64 },
    /// The file does not parse as its format (`CSV` or `JSON`).
    #[error("not valid {format}: {reason}")]
    Syntax {
        format: &'static str,
        reason: String,
    },
    /// A value out of its domain; `value` as the file writes it (quoted in CSV).
    #[error("{value} is not {expected}")]
    Invalid {
        value: String,
        expected: &'static str,
    },
    /// A request whose first token comes after its last.
    #[error(
        "{ttft} is greater than {e2e_column} {e2e}: the first token cannot come after the last"
    )]
    TtftAfterE2e {
        ttft: String,
        e2e_column: &'static str,
        e2e: String,
    },
    /// A trace row that arrives before the row above it.
    #[error(
        "{value} is earlier than {previous} on line {previous_line}: a request trace lists \
         requests in arrival order"
    )]
    OutOfOrder {
        value: String,
        previous: String,
        previous_line: u64,
    },
    #[error(
        "written without --save-detailed: the per-request lengths are needed (run vllm bench \
         serve with --save-result --save-detailed)"
    )]
    NotDetailed,
    /// A field that `--save-detailed` output always has.
    #[error("no field {field}: expected {}", VLLM_JSON)]
    MissingField { field: &'static str },
    /// A per-request list whose length differs from `input_lens`.
    #[error("{found} entries, but input_lens has {expected}")]
    LengthMismatch { found: usize, expected: usize },
    #[error(
        "request_rate {rate} with max_concurrency {concurrency}: Poisson arrivals capped by a \
         concurrency limit are not supported; measure closed-loop (--request-rate inf \
         --max-concurrency N) or open-loop (without --max-concurrency)"
    )]
    RateAndConcurrency { rate: String, concurrency: u32 },
    #[error("a ramp-up of the request rate is not supported: measure at one --request-rate")]
    RampUp,
    #[error(
        "{value} is not 1: only Poisson arrivals (burstiness 1) are supported at a finite \
         request rate"
    )]
    Burstiness { value: String },
    #[error("no successful request: every request failed")]
    NoSuccess,
}
