//! The CSV adapters (Azure, generic, BurstGPT and mapped CSV), read row by row with the
//! `csv` crate. Columns are found by name in the header, in any order (or by index in a
//! mapped CSV); extra columns are ignored. Fields are trimmed.

use std::io::Read;
use std::path::{Path, PathBuf};

use csv::{ErrorKind, StringRecord, Trim};

use super::format::{ArrivalTime, Column, CsvColumns, TraceFormat};
use super::rows::{parse_tokens, OrderCheck, Row, RowCounts, RowReader, RowSettings};
use super::timestamp::{parse_decimal, parse_timestamp, DatetimePattern};
use super::{RowProblem, WorkloadError};

/// How the time column is written.
#[derive(Debug)]
enum Clock {
    /// Azure's `2023-11-16 18:15:46.6805900`.
    Azure,
    /// A decimal number of units worth `10^unit_digits` µs; `expected` for messages.
    Decimal {
        unit_digits: u32,
        expected: &'static str,
    },
    /// A strftime-style layout, and its text for messages.
    Pattern(DatetimePattern, String),
}

/// A column found in the file: its index and its name in messages.
type Found = (usize, String);

/// Rows of a CSV trace.
pub(super) struct CsvRows<R> {
    path: PathBuf,
    reader: csv::Reader<R>,
    record: StringRecord,
    clock: Clock,
    time: Found,
    input: Found,
    output: Found,
    /// The model column, read only when the settings keep one model.
    model: Option<Found>,
    settings: RowSettings,
    order: OrderCheck,
    counts: RowCounts,
}

impl<R: Read> CsvRows<R> {
    /// Reads the header of `input` (unless the mapping says there is none) and finds the
    /// columns `format` needs.
    pub fn new(
        path: &Path,
        input: R,
        format: &TraceFormat,
        settings: RowSettings,
    ) -> Result<Self, WorkloadError> {
        let path = path.to_path_buf();
        let Layout {
            columns,
            model,
            clock,
            header,
            delimiter,
        } = layout(&path, format)?;
        let mut reader = csv::ReaderBuilder::new()
            .trim(Trim::All)
            .has_headers(header)
            .delimiter(delimiter)
            .from_reader(input);
        let header = if header {
            Some(
                reader
                    .headers()
                    .map_err(|source| WorkloadError::Csv {
                        path: path.clone(),
                        source,
                    })?
                    .clone(),
            )
        } else {
            None
        };
        let locate = |column: &Column| -> Result<Found, WorkloadError> {
            let found = match (column, &header) {
                (Column::Index(i), None) => Some((*i, format!("column {i}"))),
                (Column::Index(i), Some(h)) => h.get(*i).map(|name| (*i, name.to_owned())),
                (Column::Name(name), Some(h)) => {
                    h.iter().position(|n| n == name).map(|i| (i, name.clone()))
                }
                // Refused with the mapping's problems before the file is read.
                (Column::Name(_), None) => None,
            };
            found.ok_or_else(|| WorkloadError::Header {
                path: path.clone(),
                found: header
                    .as_ref()
                    .map(|h| h.iter().collect::<Vec<_>>().join(","))
                    .unwrap_or_default(),
                expected: format.describe(),
            })
        };
        let [time, input, output] = &columns;
        Ok(CsvRows {
            time: locate(time)?,
            input: locate(input)?,
            output: locate(output)?,
            // Looked for only when a model is asked for (`open_rows` has checked that the
            // format has a model column).
            model: match (&settings.model, &model) {
                (Some(_), Some(column)) => Some(locate(column)?),
                _ => None,
            },
            path,
            reader,
            record: StringRecord::new(),
            clock,
            settings,
            order: OrderCheck::default(),
            counts: RowCounts::default(),
        })
    }

    fn row_error(&self, line: u64, problem: RowProblem) -> WorkloadError {
        WorkloadError::Row {
            path: self.path.clone(),
            line,
            problem,
        }
    }

    /// Reads the next record; `Ok(false)` at the end of the file.
    fn read_record(&mut self) -> Result<bool, WorkloadError> {
        self.reader
            .read_record(&mut self.record)
            .map_err(|e| match *e.kind() {
                ErrorKind::UnequalLengths {
                    expected_len, len, ..
                } => self.row_error(
                    e.position().map_or(0, |p| p.line()),
                    RowProblem::FieldCount {
                        found: len,
                        expected: expected_len,
                    },
                ),
                ErrorKind::Utf8 { ref pos, .. } => {
                    self.row_error(pos.as_ref().map_or(0, |p| p.line()), RowProblem::NotText)
                }
                _ => WorkloadError::Csv {
                    path: self.path.clone(),
                    source: e,
                },
            })
    }

    /// The field of `column` in the current record.
    fn field(&self, line: u64, column: &Found) -> Result<&str, WorkloadError> {
        self.record.get(column.0).ok_or_else(|| {
            self.row_error(
                line,
                RowProblem::MissingField {
                    column: column.1.clone(),
                },
            )
        })
    }

    fn parse_time(&self, text: &str) -> Result<i64, RowProblem> {
        let column = self.time.1.clone();
        match &self.clock {
            Clock::Azure => parse_timestamp(text).map_err(|reason| RowProblem::BadTimestamp {
                column,
                value: text.to_owned(),
                reason,
                expected: "a time like `2023-11-16 18:15:46.6805900`, optionally followed by \
                           a UTC offset like `+00:00`"
                    .to_owned(),
            }),
            Clock::Decimal {
                unit_digits,
                expected,
            } => parse_decimal(text, *unit_digits).ok_or_else(|| RowProblem::BadTime {
                column,
                value: text.to_owned(),
                expected: (*expected).to_owned(),
            }),
            Clock::Pattern(pattern, layout) => {
                pattern
                    .parse(text)
                    .map_err(|reason| RowProblem::BadTimestamp {
                        column,
                        value: text.to_owned(),
                        reason,
                        expected: format!("a time laid out as `{layout}`"),
                    })
            }
        }
    }

    /// The row of the current record, `None` when the settings skip it.
    fn row(&mut self, line: u64) -> Result<Option<Row>, WorkloadError> {
        let text = self.field(line, &self.time)?;
        let time = self
            .parse_time(text)
            .map_err(|problem| self.row_error(line, problem))?;
        if self.settings.check_order {
            let text = self.record.get(self.time.0).unwrap_or_default();
            self.order
                .check(time, line, &self.time.1, text)
                .map_err(|problem| WorkloadError::Row {
                    path: self.path.clone(),
                    line,
                    problem,
                })?;
        }
        if let (Some(wanted), Some(column)) = (&self.settings.model, &self.model) {
            if self.field(line, column)? != wanted {
                self.counts.other_model += 1;
                return Ok(None);
            }
        }
        let tokens = |column: &Found| {
            let text = self.field(line, column)?;
            parse_tokens(&column.1, text).map_err(|problem| self.row_error(line, problem))
        };
        let (output, input) = (tokens(&self.output)?, tokens(&self.input));
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

impl<R: Read + Send> RowReader for CsvRows<R> {
    fn next_row(&mut self) -> Result<Option<Row>, WorkloadError> {
        while self.read_record()? {
            let line = self.record.position().map_or(0, |p| p.line());
            if let Some(row) = self.row(line)? {
                return Ok(Some(row));
            }
        }
        Ok(None)
    }

    fn counts(&self) -> RowCounts {
        self.counts
    }
}

/// Where a format keeps its fields and how it writes them.
struct Layout {
    /// Time, prompt and output columns.
    columns: [Column; 3],
    model: Option<Column>,
    clock: Clock,
    header: bool,
    delimiter: u8,
}

fn layout(path: &Path, format: &TraceFormat) -> Result<Layout, WorkloadError> {
    let named = |names: [&str; 3]| names.map(|n| Column::Name(n.to_owned()));
    let decimal = |unit_digits, expected| Clock::Decimal {
        unit_digits,
        expected,
    };
    Ok(match format {
        TraceFormat::Azure => Layout {
            columns: named(["TIMESTAMP", "ContextTokens", "GeneratedTokens"]),
            model: None,
            clock: Clock::Azure,
            header: true,
            delimiter: b',',
        },
        TraceFormat::Generic => Layout {
            columns: named(["arrival_s", "input_tokens", "output_tokens"]),
            model: None,
            clock: decimal(
                6,
                "seconds from the start of the run as a decimal number >= 0, like `12.5`",
            ),
            header: true,
            delimiter: b',',
        },
        TraceFormat::BurstGpt => Layout {
            columns: named(["Timestamp", "Request tokens", "Response tokens"]),
            model: Some(Column::Name("Model".to_owned())),
            clock: decimal(
                6,
                "seconds from the start of the trace as a decimal number >= 0, like `12.5`",
            ),
            header: true,
            delimiter: b',',
        },
        TraceFormat::Csv(mapping) => mapped(path, mapping)?,
        TraceFormat::Mooncake => {
            return Err(WorkloadError::Trace {
                path: path.to_path_buf(),
                message: "a Mooncake trace is JSON Lines, not CSV".to_owned(),
            })
        }
    })
}

/// The layout of a mapped CSV.
fn mapped(path: &Path, mapping: &CsvColumns) -> Result<Layout, WorkloadError> {
    if let Some((field, problem)) = mapping.problems().into_iter().next() {
        return Err(WorkloadError::Trace {
            path: path.to_path_buf(),
            message: format!("csv.{field}: {problem}"),
        });
    }
    let decimal = |unit_digits, expected| Clock::Decimal {
        unit_digits,
        expected,
    };
    let clock = match &mapping.time {
        ArrivalTime::S => decimal(
            6,
            "seconds from the start of the trace as a decimal number >= 0, like `12.5`",
        ),
        ArrivalTime::Ms => decimal(
            3,
            "milliseconds from the start of the trace as a decimal number >= 0, like `1500`",
        ),
        ArrivalTime::Us => decimal(
            0,
            "microseconds from the start of the trace as a number >= 0",
        ),
        ArrivalTime::UnixS => decimal(
            6,
            "seconds since 1970 as a decimal number >= 0, like `1700158546.68`",
        ),
        ArrivalTime::UnixMs => decimal(
            3,
            "milliseconds since 1970 as a decimal number >= 0, like `1700158546680`",
        ),
        ArrivalTime::UnixUs => decimal(0, "microseconds since 1970 as a number >= 0"),
        ArrivalTime::Datetime(layout) => Clock::Pattern(
            DatetimePattern::compile(layout).map_err(|message| WorkloadError::Trace {
                path: path.to_path_buf(),
                message: message.to_string(),
            })?,
            layout.clone(),
        ),
    };
    Ok(Layout {
        columns: [
            mapping.arrival.clone(),
            mapping.input.clone(),
            mapping.output.clone(),
        ],
        model: mapping.model.clone(),
        clock,
        header: mapping.header,
        // Checked to be ASCII by `problems`.
        delimiter: mapping.delimiter as u8,
    })
}
