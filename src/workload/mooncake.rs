//! The Mooncake adapter: JSON Lines, one request per line, such as
//! `{"timestamp": 27482, "input_length": 6955, "output_length": 52, "hash_ids": [46, 47]}`.
//! `timestamp` is in milliseconds from the start of the trace (decimals allowed); keys other
//! than the three read here are ignored, `hash_ids` included (the server model has no
//! prefix cache). Blank lines are skipped.

use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use super::format::{looks_binary, shorten};
use super::rows::{OrderCheck, Row, RowCounts, RowReader, RowSettings};
use super::timestamp::parse_decimal;
use super::{RowProblem, WorkloadError};

/// The longest line read: far above any real request (a long `hash_ids` list is a few
/// kilobytes), and a bound on what a file without line breaks makes us hold.
const LINE_LIMIT: u64 = 4 * 1024 * 1024;

/// The fields read from one line; each is checked by hand, so that a wrong value is named
/// with its key.
#[derive(Deserialize)]
struct Line {
    #[serde(default)]
    timestamp: Option<Value>,
    #[serde(default)]
    input_length: Option<Value>,
    #[serde(default)]
    output_length: Option<Value>,
}

/// Rows of a Mooncake trace.
pub(super) struct MooncakeRows<R> {
    path: PathBuf,
    input: R,
    /// The 1-based line last read.
    line: u64,
    buffer: Vec<u8>,
    settings: RowSettings,
    order: OrderCheck,
    counts: RowCounts,
}

impl<R: BufRead> MooncakeRows<R> {
    pub fn new(path: &Path, input: R, settings: RowSettings) -> Self {
        MooncakeRows {
            path: path.to_path_buf(),
            input,
            line: 0,
            buffer: Vec::new(),
            settings,
            order: OrderCheck::default(),
            counts: RowCounts::default(),
        }
    }

    fn row_error(&self, problem: RowProblem) -> WorkloadError {
        WorkloadError::Row {
            path: self.path.clone(),
            line: self.line,
            problem,
        }
    }

    /// The row of the line in the buffer, `None` when it is blank or the settings skip it.
    fn row(&mut self) -> Result<Option<Row>, RowProblem> {
        if looks_binary(&self.buffer) {
            return Err(RowProblem::NotText);
        }
        let text = String::from_utf8_lossy(&self.buffer);
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        // Serde would also read a struct from an array; a row is an object.
        if !text.starts_with('{') {
            return Err(RowProblem::NotJson {
                reason: format!("`{}` does not start with `{{`", shorten(text)),
            });
        }
        let line: Line = serde_json::from_str(text).map_err(|e| RowProblem::NotJson {
            reason: json_reason(&e),
        })?;
        let value = |key: &str, value: Option<Value>| {
            value.ok_or_else(|| RowProblem::MissingField {
                column: key.to_owned(),
            })
        };
        let timestamp = value("timestamp", line.timestamp)?;
        let time = milliseconds(&timestamp).ok_or_else(|| RowProblem::BadTime {
            column: "timestamp".to_owned(),
            value: shorten(&timestamp.to_string()),
            expected: "milliseconds from the start of the trace as a number >= 0".to_owned(),
        })?;
        if self.settings.check_order {
            self.order
                .check(time, self.line, "timestamp", &timestamp.to_string())?;
        }
        let tokens = |key: &str, v: Option<Value>| {
            let v = value(key, v)?;
            v.as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| RowProblem::BadNumber {
                    column: key.to_owned(),
                    value: shorten(&v.to_string()),
                })
        };
        let output = tokens("output_length", line.output_length)?;
        let input = tokens("input_length", line.input_length);
        let Some(output_tokens) = self.settings.output_tokens(output, &mut self.counts) else {
            return Ok(None);
        };
        Ok(Some(Row {
            time,
            input_tokens: RowSettings::input_tokens(input?, &mut self.counts),
            output_tokens,
        }))
    }
}

impl<R: BufRead + Send> RowReader for MooncakeRows<R> {
    fn next_row(&mut self) -> Result<Option<Row>, WorkloadError> {
        loop {
            self.buffer.clear();
            let read = (&mut self.input)
                .take(LINE_LIMIT)
                .read_until(b'\n', &mut self.buffer)
                .map_err(|source| WorkloadError::Read {
                    path: self.path.clone(),
                    source,
                })?;
            if read == 0 {
                return Ok(None);
            }
            self.line += 1;
            if read as u64 == LINE_LIMIT && self.buffer.last() != Some(&b'\n') {
                return Err(self.row_error(RowProblem::TooLong { limit: LINE_LIMIT }));
            }
            if let Some(row) = self.row().map_err(|problem| self.row_error(problem))? {
                return Ok(Some(row));
            }
        }
    }

    fn counts(&self) -> RowCounts {
        self.counts
    }
}

/// A JSON number of milliseconds >= 0 as microseconds, finer digits truncated. Numbers are
/// read from their decimal text, so that `0.001` is exactly 1 µs; exponent forms fall back
/// to floating point.
fn milliseconds(value: &Value) -> Option<i64> {
    let Value::Number(n) = value else {
        return None;
    };
    parse_decimal(&n.to_string(), 3).or_else(|| {
        let us = n.as_f64()? * 1_000.0;
        // Below 2^63 µs, so that the conversion cannot saturate.
        (0.0..9.2e18).contains(&us).then_some(us as i64)
    })
}

/// A JSON error without its position: the line is in the message already, and the column
/// is added back.
fn json_reason(e: &serde_json::Error) -> String {
    let message = e.to_string();
    let message = message
        .rsplit_once(" at line ")
        .map_or(message.as_str(), |(head, _)| head);
    format!("{message} (column {})", e.column())
}
