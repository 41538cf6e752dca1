//! What the two CSV formats share: the header, found by column name in any order (other
//! columns ignored, fields trimmed), the rows with their line numbers, and each field parsed
//! into its domain with a message naming line, column and value.

use csv::{ErrorKind, Reader, ReaderBuilder, StringRecord, Trim};

use super::{Fault, Place, Problem};

/// A CSV file whose header has been read.
pub(super) struct CsvFile<'a> {
    reader: Reader<&'a [u8]>,
    header: StringRecord,
    header_line: u64,
    lines: Lines<'a>,
}

impl<'a> CsvFile<'a> {
    /// Reads the header of `text` (not empty).
    pub fn open(text: &'a str) -> Result<Self, Fault> {
        let mut lines = Lines {
            text: text.as_bytes(),
            byte: 0,
            line: 1,
        };
        let mut reader = ReaderBuilder::new()
            .trim(Trim::All)
            .from_reader(text.as_bytes());
        let header = match reader.headers() {
            Ok(header) => header.clone(),
            Err(e) => return Err(csv_fault(e, &mut lines)),
        };
        Ok(CsvFile {
            reader,
            header_line: lines.at(&header),
            header,
            lines,
        })
    }

    /// The line of the header (blank lines before it are skipped).
    pub fn header_line(&self) -> u64 {
        self.header_line
    }

    pub fn has(&self, column: &str) -> bool {
        self.header.iter().any(|name| name == column)
    }

    /// The index of `column`, if the header has it once.
    pub fn column(&self, column: &'static str) -> Result<Option<usize>, Fault> {
        let mut found = self.header.iter().enumerate().filter(|(_, n)| *n == column);
        match (found.next(), found.next()) {
            (Some(_), Some(_)) => Err(Fault::at_line(
                self.header_line(),
                Problem::DuplicateColumn { column },
            )),
            (first, _) => Ok(first.map(|(i, _)| i)),
        }
    }

    /// The index of `column`, which the format described by `expected` needs.
    pub fn require(&self, column: &'static str, expected: &'static str) -> Result<usize, Fault> {
        self.column(column)?.ok_or_else(|| {
            Fault::at_line(
                self.header_line(),
                Problem::MissingColumn { column, expected },
            )
        })
    }

    /// Every row, at least one; each has as many fields as the header.
    pub fn rows(mut self) -> Result<Vec<Row>, Fault> {
        let mut rows = Vec::new();
        let mut record = StringRecord::new();
        loop {
            match self.reader.read_record(&mut record) {
                Ok(true) => rows.push(Row {
                    line: self.lines.at(&record),
                    record: record.clone(),
                }),
                Ok(false) => break,
                Err(e) => return Err(csv_fault(e, &mut self.lines)),
            }
        }
        if rows.is_empty() {
            return Err(Fault::at_line(self.header_line, Problem::NoRows));
        }
        Ok(rows)
    }
}

/// Line numbers from the byte offsets of records: the csv crate's own count is one short
/// after a CRLF line end, and its header position comes before skipped blank lines.
struct Lines<'a> {
    text: &'a [u8],
    /// A byte offset and its line, where the last count ended.
    byte: usize,
    line: u64,
}

impl Lines<'_> {
    /// The line of the record that csv places at `position`.
    fn at(&mut self, record: &StringRecord) -> u64 {
        self.line_of(record.position().map_or(0, csv::Position::byte))
    }

    /// The line of the first byte at `byte` or after that is not a line end: csv positions
    /// a record where the previous one ended, before the blank lines it skips.
    fn line_of(&mut self, byte: u64) -> u64 {
        let mut at = usize::try_from(byte).map_or(self.text.len(), |b| b.min(self.text.len()));
        while matches!(self.text.get(at), Some(b'\r' | b'\n')) {
            at += 1;
        }
        if at < self.byte {
            self.byte = 0;
            self.line = 1;
        }
        let newlines = self.text[self.byte..at]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.line += newlines as u64;
        self.byte = at;
        self.line
    }
}

/// A CSV error as a fault: a row of the wrong length, or malformed CSV.
fn csv_fault(e: csv::Error, lines: &mut Lines) -> Fault {
    let line = lines.line_of(e.position().map_or(0, csv::Position::byte));
    match *e.kind() {
        ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => Fault::at_line(
            line,
            Problem::FieldCount {
                found: len,
                expected: expected_len,
            },
        ),
        _ => Fault::at_line(
            line,
            Problem::Syntax {
                format: "CSV",
                reason: e.to_string(),
            },
        ),
    }
}

/// One row and its line.
pub(super) struct Row {
    pub line: u64,
    record: StringRecord,
}

impl Row {
    /// The field of `column`, at `index` in the header.
    pub fn field(&self, index: usize, column: &'static str) -> Field<'_> {
        Field {
            line: self.line,
            column,
            // Every row has the header's length (`rows`).
            text: self.record.get(index).unwrap_or_default(),
        }
    }
}

/// One field of a row, to be parsed.
pub(super) struct Field<'a> {
    pub line: u64,
    pub column: &'static str,
    pub text: &'a str,
}

impl Field<'_> {
    /// The field as `parse` reads it, or a fault saying it is not `expected`.
    pub fn parse<T>(
        &self,
        expected: &'static str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<T, Fault> {
        parse(self.text).ok_or_else(|| {
            self.fault(Problem::Invalid {
                value: self.quoted(),
                expected,
            })
        })
    }

    /// A number that `check` accepts.
    pub fn number(
        &self,
        expected: &'static str,
        check: fn(f64) -> Option<f64>,
    ) -> Result<f64, Fault> {
        self.parse(expected, |t| t.parse::<f64>().ok().and_then(check))
    }

    /// The field as messages show it.
    pub fn quoted(&self) -> String {
        format!("{:?}", self.text)
    }

    pub fn fault(&self, problem: Problem) -> Fault {
        Fault {
            line: self.line,
            place: Place::Column(self.column),
            problem,
        }
    }
}
