//! The trace formats: what each one looks like, how a file's first line tells them apart,
//! and the opening of a file with the adapter of its format.
//!
//! Only the first line is looked at to tell the format, and it is then handed back to the
//! adapter, so that detection works on a pipe as well as on a file and costs no second read.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use schemars::JsonSchema;
use serde::Deserialize;

use super::csv_rows::CsvRows;
use super::mooncake::MooncakeRows;
use super::rows::{RowReader, RowSettings};
use super::timestamp::DatetimePattern;
use super::{RowProblem, TraceOptions, WorkloadError};

/// A trace format. Unset in a trace spec, it is told from the file's first line (the header
/// of a CSV file, the first object of a JSON Lines file); `csv` is never guessed, since it
/// needs its column mapping.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TraceFormat {
    /// The Azure LLM inference traces (2023 and 2024 releases):
    /// `TIMESTAMP,ContextTokens,GeneratedTokens`, with wall-clock timestamps such as
    /// `2023-11-16 18:15:46.6805900` (an offset such as `+00:00` may follow). Time 0 is the
    /// first row.
    Azure,
    /// `arrival_s,input_tokens,output_tokens`, arrivals in decimal seconds from the start of
    /// the run (taken as they are, not shifted to the first row): what `trace gen` writes.
    Generic,
    /// Mooncake-style JSON Lines: one object per line with `timestamp` (milliseconds from
    /// the start of the trace, taken as they are), `input_length` and `output_length`. Other
    /// keys, such as the prefix-cache `hash_ids`, are ignored: the server model has no
    /// prefix cache.
    Mooncake,
    /// The BurstGPT traces: `Timestamp,Model,Request tokens,Response tokens,Total
    /// tokens,Log Type`, `Timestamp` in seconds from the start of the trace (taken as it
    /// is). A row with 0 response tokens is a failed request and is skipped unless
    /// `zero_output` says otherwise; `model` keeps one model's rows.
    #[serde(rename = "burstgpt")]
    BurstGpt,
    /// Any other CSV file, its columns mapped here.
    Csv(CsvColumns),
}

/// Where a CSV trace keeps its arrival times and token counts, and how it writes times.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct CsvColumns {
    /// The arrival-time column: its name in the header, or its 0-based index.
    pub arrival: Column,
    /// The prompt-length column (tokens): name or 0-based index.
    pub input: Column,
    /// The output-length column (tokens): name or 0-based index.
    pub output: Column,
    /// A column naming each request's model, so that a trace's `model` can keep one
    /// model's rows; unset, the trace has no model column.
    #[serde(default)]
    pub model: Option<Column>,
    /// How the arrival column writes time; `s` unless set.
    #[serde(default)]
    pub time: ArrivalTime,
    /// Whether the first line is a header; true unless set. Without a header, columns are
    /// given by index.
    #[serde(default = "yes")]
    pub header: bool,
    /// The field separator, one ASCII character such as `";"` or `"\t"`; `,` unless set.
    #[serde(default = "comma")]
    pub delimiter: char,
}

fn yes() -> bool {
    true
}

fn comma() -> char {
    ','
}

/// A column of a CSV trace.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Column {
    /// The 0-based position of the column.
    Index(usize),
    /// The column's name in the header.
    Name(String),
}

/// How a CSV trace writes arrival times. Relative times (`s`, `ms`, `us`) are taken as they
/// are, so that time 0 is the start of the trace; absolute times (`unix_*`, `datetime`) are
/// taken from the first row, which becomes time 0.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ArrivalTime {
    /// Decimal seconds from the start of the trace.
    #[default]
    S,
    /// Decimal milliseconds from the start of the trace.
    Ms,
    /// Microseconds from the start of the trace.
    Us,
    /// Decimal seconds since 1970 (Unix time).
    UnixS,
    /// Decimal milliseconds since 1970.
    UnixMs,
    /// Microseconds since 1970.
    UnixUs,
    /// Wall-clock timestamps laid out by a strftime-style pattern, such as
    /// `"%Y-%m-%d %H:%M:%S%.f"`. Directives: `%Y %m %d %H %M %S`, `%.f` (an optional
    /// fraction of a second), `%f` (fraction digits), `%z` (UTC offset), `%T`, `%F`, `%%`.
    /// Without an offset, times are taken as UTC.
    Datetime(String),
}

/// What a trace row with 0 output tokens stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ZeroOutput {
    /// A failed request that produced nothing: the row is dropped.
    Skip,
    /// A request that reached a server: it is replayed with one output token, since every
    /// request of the server model produces at least one.
    OneToken,
}

impl TraceFormat {
    /// The format's name in messages.
    fn label(&self) -> &'static str {
        match self {
            TraceFormat::Azure => "Azure LLM inference trace",
            TraceFormat::Generic => "generic trace",
            TraceFormat::Mooncake => "Mooncake trace",
            TraceFormat::BurstGpt => "BurstGPT trace",
            TraceFormat::Csv(_) => "mapped CSV trace",
        }
    }

    /// What a file of this format starts with, for messages.
    pub(super) fn describe(&self) -> String {
        let layout = match self {
            TraceFormat::Azure => "`TIMESTAMP,ContextTokens,GeneratedTokens`".to_owned(),
            TraceFormat::Generic => "`arrival_s,input_tokens,output_tokens`".to_owned(),
            TraceFormat::Mooncake => {
                "JSON objects with `timestamp`, `input_length` and `output_length`".to_owned()
            }
            TraceFormat::BurstGpt => "`Timestamp,Model,Request tokens,Response tokens`".to_owned(),
            TraceFormat::Csv(c) => {
                let columns = [Some(&c.arrival), Some(&c.input), Some(&c.output)]
                    .into_iter()
                    .chain([c.model.as_ref()])
                    .flatten()
                    .map(|column| match column {
                        Column::Index(i) => format!("column {i}"),
                        Column::Name(name) => format!("`{name}`"),
                    })
                    .collect::<Vec<_>>();
                columns.join(", ")
            }
        };
        format!("{layout} ({})", self.label())
    }

    /// Whether times are wall-clock times, taken from the first row, rather than times from
    /// the start of the trace.
    pub(super) fn is_absolute(&self) -> bool {
        match self {
            TraceFormat::Azure => true,
            TraceFormat::Generic | TraceFormat::Mooncake | TraceFormat::BurstGpt => false,
            TraceFormat::Csv(c) => {
                !matches!(c.time, ArrivalTime::S | ArrivalTime::Ms | ArrivalTime::Us)
            }
        }
    }

    /// What a row with 0 output tokens means when the trace spec does not say: a failure in
    /// BurstGPT, whose failed requests are logged with 0 response tokens; elsewhere a
    /// request that did reach a server (the Azure traces have such rows).
    pub(super) fn default_zero_output(&self) -> ZeroOutput {
        match self {
            TraceFormat::BurstGpt => ZeroOutput::Skip,
            _ => ZeroOutput::OneToken,
        }
    }

    fn has_model_column(&self) -> bool {
        match self {
            TraceFormat::BurstGpt => true,
            TraceFormat::Csv(c) => c.model.is_some(),
            TraceFormat::Azure | TraceFormat::Generic | TraceFormat::Mooncake => false,
        }
    }
}

impl CsvColumns {
    /// Every problem of the mapping itself, as `(field, message)`, before any file is read.
    pub(super) fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if !self.header {
            for (field, column) in [
                ("arrival", Some(&self.arrival)),
                ("input", Some(&self.input)),
                ("output", Some(&self.output)),
                ("model", self.model.as_ref()),
            ] {
                if let Some(Column::Name(name)) = column {
                    problems.push((
                        field,
                        format!("`{name}` is a column name, but the trace has no header: give a 0-based index"),
                    ));
                }
            }
        }
        if !self.delimiter.is_ascii() || matches!(self.delimiter, '"' | '\n' | '\r') {
            problems.push((
                "delimiter",
                format!(
                    "{:?} cannot separate fields: expected one ASCII character other than a quote or a line break",
                    self.delimiter
                ),
            ));
        }
        if let ArrivalTime::Datetime(pattern) = &self.time {
            if let Err(e) = DatetimePattern::compile(pattern) {
                problems.push(("time.datetime", e.to_string()));
            }
        }
        problems
    }
}

/// How long the first line may be: enough for any header, and a bound on what a binary
/// file without line breaks makes us read.
const FIRST_LINE_LIMIT: u64 = 64 * 1024;

/// The format of the trace at `path`, told from its first line.
pub fn detect_format(path: &Path) -> Result<TraceFormat, WorkloadError> {
    let file = File::open(path).map_err(|source| WorkloadError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let first = first_line(path, &mut BufReader::new(file))?;
    detect(path, &first)
}

/// The first line of `input`, without a byte-order mark; an empty or binary file is refused
/// as a problem of line 1.
fn first_line(path: &Path, input: &mut impl BufRead) -> Result<Vec<u8>, WorkloadError> {
    let mut line = Vec::new();
    input
        .take(FIRST_LINE_LIMIT)
        .read_until(b'\n', &mut line)
        .map_err(|source| WorkloadError::Read {
            path: path.to_path_buf(),
            source,
        })?;
    if line.starts_with(b"\xef\xbb\xbf") {
        line.drain(..3);
    }
    let problem = if line.trim_ascii().is_empty() {
        Some(RowProblem::Empty)
    } else if looks_binary(&line) {
        Some(RowProblem::NotText)
    } else {
        None
    };
    match problem {
        Some(problem) => Err(WorkloadError::Row {
            path: path.to_path_buf(),
            line: 1,
            problem,
        }),
        None => Ok(line),
    }
}

/// NUL bytes or bytes that are not UTF-8 (a character cut by the length limit excepted).
pub(super) fn looks_binary(bytes: &[u8]) -> bool {
    bytes.contains(&0) || std::str::from_utf8(bytes).is_err_and(|e| e.error_len().is_some())
}

/// The format whose layout the first line shows.
fn detect(path: &Path, first: &[u8]) -> Result<TraceFormat, WorkloadError> {
    let text = String::from_utf8_lossy(first);
    let text = text.trim();
    let candidates = [
        TraceFormat::Azure,
        TraceFormat::Generic,
        TraceFormat::BurstGpt,
        TraceFormat::Mooncake,
    ];
    let found = if text.starts_with('{') {
        let keys: Vec<String> =
            serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text)
                .map(|object| object.keys().cloned().collect())
                .unwrap_or_default();
        let has = |key: &str| keys.iter().any(|k| k == key);
        if has("timestamp") && has("input_length") && has("output_length") {
            return Ok(TraceFormat::Mooncake);
        }
        text.to_owned()
    } else {
        let header: Vec<String> = csv::ReaderBuilder::new()
            .has_headers(false)
            .trim(csv::Trim::All)
            .from_reader(first)
            .records()
            .next()
            .and_then(Result::ok)
            .map(|record| record.iter().map(str::to_owned).collect())
            .unwrap_or_default();
        let has = |name: &str| header.iter().any(|h| h == name);
        let detected = [
            (
                TraceFormat::Azure,
                ["TIMESTAMP", "ContextTokens", "GeneratedTokens"],
            ),
            (
                TraceFormat::Generic,
                ["arrival_s", "input_tokens", "output_tokens"],
            ),
            (
                TraceFormat::BurstGpt,
                ["Timestamp", "Request tokens", "Response tokens"],
            ),
        ]
        .into_iter()
        .find(|(_, names)| names.iter().all(|name| has(name)));
        if let Some((format, _)) = detected {
            return Ok(format);
        }
        header.join(",")
    };
    Err(WorkloadError::Header {
        path: path.to_path_buf(),
        found: shorten(&found),
        expected: candidates
            .iter()
            .map(TraceFormat::describe)
            .collect::<Vec<_>>()
            .join(" or "),
    })
}

/// At most 200 characters of a line, for a message.
pub(super) fn shorten(text: &str) -> String {
    match text.char_indices().nth(200) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_owned(),
    }
}

/// Opens the rows of `input` (`path` names it in errors) with the adapter of the format
/// the options give, or of the format its first line shows.
pub(super) fn open_rows<R: Read + Send + 'static>(
    path: &Path,
    input: R,
    options: &TraceOptions,
) -> Result<(TraceFormat, Box<dyn RowReader>), WorkloadError> {
    let mut input = BufReader::new(input);
    let first = first_line(path, &mut input)?;
    let format = match &options.format {
        Some(format) => format.clone(),
        None => detect(path, &first)?,
    };
    let settings = RowSettings {
        check_order: !options.sort,
        model: options.model.clone(),
        zero_output: options
            .zero_output
            .unwrap_or_else(|| format.default_zero_output()),
    };
    if settings.model.is_some() && !format.has_model_column() {
        return Err(WorkloadError::Trace {
            path: path.to_path_buf(),
            message: format!(
                "`model` keeps one model's rows, but {}s have no model column",
                format.label()
            ),
        });
    }
    let input = io::Cursor::new(first).chain(input);
    let rows: Box<dyn RowReader> = match &format {
        TraceFormat::Mooncake => Box::new(MooncakeRows::new(path, input, settings)),
        _ => Box::new(CsvRows::new(path, input, &format, settings)?),
    };
    Ok((format, rows))
}
