//! Recorded traces, read row by row with the `csv` crate. Two formats, told apart by their
//! header (columns are found by name, in any order; extra columns are ignored):
//!
//! - the Azure LLM inference traces (2023 and 2024 releases):
//!   `TIMESTAMP,ContextTokens,GeneratedTokens`, wall-clock timestamps such as
//!   `2023-11-16 18:15:46.6805900` or `2024-05-10 00:00:00.009930+00:00`. Arrivals are taken
//!   relative to the first row.
//! - the generic CSV `arrival_s,input_tokens,output_tokens`, with arrivals in decimal seconds
//!   from the start of the run (taken as they are, not shifted to the first row, so that a
//!   trace written by [`GenericCsvWriter`] reads back exactly).
//!
//! Timestamps are truncated to whole microseconds (model-rules.md). A token count of 0
//! becomes 1 — every request has a prompt and produces a token in the server model — and
//! the Azure traces do have such rows. Rows must be sorted by time; rows with equal times
//! arrive at the same instant, in file order.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use csv::{ErrorKind, StringRecord, Trim};

use super::{Request, RequestSource, RowProblem, TraceFormat, WorkloadError};
use crate::sim::time::round_micros;
use crate::sim::{SimTime, MICROS_PER_SEC};

const AZURE_COLUMNS: [&str; 3] = ["TIMESTAMP", "ContextTokens", "GeneratedTokens"];
const GENERIC_COLUMNS: [&str; 3] = ["arrival_s", "input_tokens", "output_tokens"];

impl TraceFormat {
    fn columns(self) -> [&'static str; 3] {
        match self {
            TraceFormat::Azure => AZURE_COLUMNS,
            TraceFormat::Generic => GENERIC_COLUMNS,
        }
    }

    fn describe(self) -> String {
        let label = match self {
            TraceFormat::Azure => "Azure LLM inference trace",
            TraceFormat::Generic => "generic trace",
        };
        format!("`{}` ({label})", self.columns().join(","))
    }
}

/// How a trace is cut and replayed. Trace time is the time from the first row (Azure) or
/// `arrival_s` itself (generic).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TraceOptions {
    /// The format the header must have; `None` accepts either.
    pub format: Option<TraceFormat>,
    /// Rows before this trace time are skipped; the first kept instant becomes time 0.
    pub from: SimTime,
    /// Rows at or after this trace time end the replay.
    pub to: Option<SimTime>,
    /// Replay speed: 2 replays twice as fast (each arrival at half its offset from `from`).
    pub time_scale: f64,
    /// No arrival (in simulated time) at or after this instant.
    pub end: SimTime,
}

impl Default for TraceOptions {
    fn default() -> Self {
        TraceOptions {
            format: None,
            from: 0,
            to: None,
            time_scale: 1.0,
            end: SimTime::MAX,
        }
    }
}

/// The previous row's time, kept to refuse rows out of order with a useful message.
#[derive(Debug)]
struct Previous {
    time: SimTime,
    line: u64,
    text: String,
}

/// Requests replayed from a CSV trace, one row at a time.
#[derive(Debug)]
pub struct TraceSource<R> {
    path: PathBuf,
    reader: csv::Reader<R>,
    record: StringRecord,
    format: TraceFormat,
    /// Indices of the time, prompt and output columns.
    columns: [usize; 3],
    options: TraceOptions,
    /// The time that is offset 0: the first row's (Azure), or 0 (generic).
    origin: Option<SimTime>,
    previous: Option<Previous>,
    done: bool,
}

impl TraceSource<File> {
    /// Opens `path` and reads its header.
    pub fn open(path: &Path, options: TraceOptions) -> Result<Self, WorkloadError> {
        let file = File::open(path).map_err(|source| WorkloadError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        TraceSource::from_reader(path, file, options)
    }
}

impl<R: Read> TraceSource<R> {
    /// Reads the header of `input`; `path` names it in errors.
    pub fn from_reader(
        path: &Path,
        input: R,
        options: TraceOptions,
    ) -> Result<Self, WorkloadError> {
        let path = path.to_path_buf();
        let mut reader = csv::ReaderBuilder::new().trim(Trim::All).from_reader(input);
        let header = reader.headers().map_err(|source| WorkloadError::Csv {
            path: path.clone(),
            source,
        })?;
        let find = |format: TraceFormat| -> Option<[usize; 3]> {
            let mut columns = [0; 3];
            for (column, name) in columns.iter_mut().zip(format.columns()) {
                // A byte-order mark, as spreadsheet programs write, is not part of the name.
                *column = header
                    .iter()
                    .position(|h| h.trim_start_matches('\u{feff}') == name)?;
            }
            Some(columns)
        };
        let candidates = match options.format {
            Some(format) => vec![format],
            None => vec![TraceFormat::Azure, TraceFormat::Generic],
        };
        let Some((format, columns)) = candidates
            .iter()
            .find_map(|&format| find(format).map(|columns| (format, columns)))
        else {
            let expected = candidates.iter().map(|f| f.describe()).collect::<Vec<_>>();
            let found = header.iter().collect::<Vec<_>>().join(",");
            return Err(WorkloadError::Header {
                path,
                found,
                expected: expected.join(" or "),
            });
        };
        Ok(TraceSource {
            path,
            reader,
            record: StringRecord::new(),
            format,
            columns,
            options,
            origin: None,
            previous: None,
            done: false,
        })
    }

    /// The format the header names.
    pub fn format(&self) -> TraceFormat {
        self.format
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
                _ => WorkloadError::Csv {
                    path: self.path.clone(),
                    source: e,
                },
            })
    }

    /// The current row's time: microseconds since 1970 (Azure) or since the start (generic).
    fn row_time(&self, line: u64) -> Result<SimTime, WorkloadError> {
        let column = self.format.columns()[0];
        let text = &self.record[self.columns[0]];
        match self.format {
            TraceFormat::Azure => {
                parse_timestamp(text).map_err(|reason| RowProblem::BadTimestamp {
                    column,
                    value: text.to_owned(),
                    reason,
                })
            }
            TraceFormat::Generic => parse_seconds(text).ok_or_else(|| RowProblem::BadSeconds {
                column,
                value: text.to_owned(),
            }),
        }
        .map_err(|problem| self.row_error(line, problem))
    }

    /// A token count of the current row; 0 becomes 1.
    fn tokens(&self, line: u64, which: usize) -> Result<u32, WorkloadError> {
        let text = &self.record[self.columns[which]];
        text.parse::<u32>().map(|n| n.max(1)).map_err(|_| {
            self.row_error(
                line,
                RowProblem::BadNumber {
                    column: self.format.columns()[which],
                    value: text.to_owned(),
                },
            )
        })
    }
}

impl<R: Read> RequestSource for TraceSource<R> {
    fn next_request(&mut self) -> Result<Option<Request>, WorkloadError> {
        while !self.done && self.read_record()? {
            let line = self.record.position().map_or(0, |p| p.line());
            let time = self.row_time(line)?;
            let text = &self.record[self.columns[0]];
            match &mut self.previous {
                Some(previous) if time < previous.time => {
                    let problem = RowProblem::OutOfOrder {
                        column: self.format.columns()[0],
                        value: text.to_owned(),
                        previous: previous.text.clone(),
                        previous_line: previous.line,
                    };
                    return Err(self.row_error(line, problem));
                }
                // Reuse the buffer: a week-long trace has millions of rows.
                Some(previous) => {
                    previous.time = time;
                    previous.line = line;
                    previous.text.clear();
                    previous.text.push_str(text);
                }
                None => {
                    self.previous = Some(Previous {
                        time,
                        line,
                        text: text.to_owned(),
                    })
                }
            }
            let origin = *self.origin.get_or_insert(match self.format {
                TraceFormat::Azure => time,
                TraceFormat::Generic => 0,
            });
            let offset = time - origin;
            if offset < self.options.from {
                continue;
            }
            if self.options.to.is_some_and(|to| offset >= to) {
                break;
            }
            let scaled = (offset - self.options.from) as f64 / self.options.time_scale;
            let arrival = round_micros(scaled);
            if arrival >= self.options.end {
                break;
            }
            return Ok(Some(Request {
                arrival,
                input_tokens: self.tokens(line, 1)?,
                output_tokens: self.tokens(line, 2)?,
            }));
        }
        self.done = true;
        Ok(None)
    }
}

/// Parses `YYYY-MM-DD HH:MM:SS[.fraction][Z|±HH:MM]` (a `T` may replace the space) into
/// microseconds since 1970-01-01 UTC, the fraction truncated to microseconds. Without an
/// offset the time is taken as UTC; only differences between rows matter.
fn parse_timestamp(s: &str) -> Result<SimTime, &'static str> {
    let mut c = Cursor(s.as_bytes());
    let year = c.number(4).ok_or("malformed date")?;
    c.expect(b'-').ok_or("malformed date")?;
    let month = c.number(2).ok_or("malformed date")?;
    c.expect(b'-').ok_or("malformed date")?;
    let day = c.number(2).ok_or("malformed date")?;
    c.expect(b' ')
        .or_else(|| c.expect(b'T'))
        .ok_or("malformed date")?;
    let hour = c.number(2).ok_or("malformed time of day")?;
    c.expect(b':').ok_or("malformed time of day")?;
    let minute = c.number(2).ok_or("malformed time of day")?;
    c.expect(b':').ok_or("malformed time of day")?;
    let second = c.number(2).ok_or("malformed time of day")?;
    let mut micros = 0;
    if c.expect(b'.').is_some() {
        let digits = c.digits();
        if digits.is_empty() {
            return Err("malformed fraction of a second");
        }
        for i in 0..6 {
            micros = micros * 10 + digits.get(i).map_or(0, |&d| i64::from(d - b'0'));
        }
    }
    let offset = match c.0.first() {
        None => 0,
        Some(b'Z') => {
            c.0 = &c.0[1..];
            0
        }
        Some(&sign @ (b'+' | b'-')) => {
            c.0 = &c.0[1..];
            let hours = c.number(2).ok_or("malformed UTC offset")?;
            c.expect(b':').ok_or("malformed UTC offset")?;
            let minutes = c.number(2).ok_or("malformed UTC offset")?;
            if hours > 23 || minutes > 59 {
                return Err("UTC offset out of range");
            }
            let offset = hours * 3_600 + minutes * 60;
            if sign == b'-' {
                -offset
            } else {
                offset
            }
        }
        Some(_) => return Err("unexpected text after the time"),
    };
    if !c.0.is_empty() {
        return Err("unexpected text after the UTC offset");
    }
    if !(1..=12).contains(&month) {
        return Err("month out of range");
    }
    if day < 1 || day > days_in_month(year, month) {
        return Err("day out of range for the month");
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err("time of day out of range");
    }
    let seconds =
        days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second - offset;
    Ok(seconds * MICROS_PER_SEC + micros)
}

/// A forward-only reader over the bytes of a timestamp.
struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    /// Exactly `width` ASCII digits.
    fn number(&mut self, width: usize) -> Option<i64> {
        let digits = self.0.get(..width)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.0 = &self.0[width..];
        Some(digits.iter().fold(0, |n, &d| n * 10 + i64::from(d - b'0')))
    }

    /// All the ASCII digits in front, possibly none.
    fn digits(&mut self) -> &[u8] {
        let n = self.0.iter().take_while(|d| d.is_ascii_digit()).count();
        let (digits, rest) = self.0.split_at(n);
        self.0 = rest;
        digits
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        let rest = self.0.strip_prefix(&[byte])?;
        self.0 = rest;
        Some(())
    }
}

fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (Howard Hinnant's
/// `days_from_civil`): eras of 400 years, years starting in March so that the leap day
/// comes last.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Parses decimal seconds (`12`, `12.5`, `.5`) into microseconds, truncating finer digits.
/// `None` for anything else, negative numbers and exponents included.
fn parse_seconds(s: &str) -> Option<SimTime> {
    let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
    let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    let whole: SimTime = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let micros = fraction
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(6)
        .fold(0, |n, d| n * 10 + SimTime::from(d - b'0'));
    whole.checked_mul(MICROS_PER_SEC)?.checked_add(micros)
}

/// Writes requests as a generic trace (`arrival_s,input_tokens,output_tokens`), arrivals in
/// seconds with exactly six decimals, so that reading the file back gives the same requests.
pub struct GenericCsvWriter<W: Write> {
    out: csv::Writer<W>,
}

impl<W: Write> GenericCsvWriter<W> {
    /// Writes the header at once, so that even an empty trace names its format.
    pub fn new(out: W) -> Result<Self, csv::Error> {
        let mut out = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(out);
        out.write_record(GENERIC_COLUMNS)?;
        Ok(GenericCsvWriter { out })
    }

    pub fn write(&mut self, request: &Request) -> Result<(), csv::Error> {
        let seconds = format!(
            "{}.{:06}",
            request.arrival.div_euclid(MICROS_PER_SEC),
            request.arrival.rem_euclid(MICROS_PER_SEC)
        );
        self.out.write_record([
            seconds,
            request.input_tokens.to_string(),
            request.output_tokens.to_string(),
        ])
    }

    /// Flushes and hands back the output.
    pub fn finish(self) -> Result<W, io::Error> {
        self.out.into_inner().map_err(|e| e.into_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AZURE_2023_CODE: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/traces/azure-llm-2023-code.csv"
    );

    /// A file in the system's temporary folder, removed when dropped.
    struct TempTrace(PathBuf);

    impl TempTrace {
        fn new(name: &str, text: &str) -> Self {
            let path = std::env::temp_dir().join(format!(
                "kthena-sim-workload-{}-{name}.csv",
                std::process::id()
            ));
            std::fs::write(&path, text).unwrap();
            TempTrace(path)
        }
    }

    impl Drop for TempTrace {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    fn drain(source: &mut impl RequestSource) -> Result<Vec<Request>, WorkloadError> {
        let mut out = Vec::new();
        while let Some(r) = source.next_request()? {
            out.push(r);
        }
        Ok(out)
    }

    fn read_all(path: &Path, options: TraceOptions) -> Result<Vec<Request>, WorkloadError> {
        drain(&mut TraceSource::open(path, options)?)
    }

    fn read_text(text: &str, options: TraceOptions) -> Result<Vec<Request>, WorkloadError> {
        drain(&mut TraceSource::from_reader(
            Path::new("t.csv"),
            text.as_bytes(),
            options,
        )?)
    }

    #[test]
    fn timestamps_in_microseconds_since_1970() {
        assert_eq!(parse_timestamp("1970-01-01 00:00:00"), Ok(0));
        assert_eq!(parse_timestamp("1969-12-31 23:59:59"), Ok(-MICROS_PER_SEC));
        assert_eq!(
            parse_timestamp("2023-11-16 18:15:46.6805900"),
            Ok(1_700_158_546_680_590)
        );
        assert_eq!(
            parse_timestamp("2000-02-29 12:00:00"),
            Ok(951_825_600 * MICROS_PER_SEC)
        );
        // The 2024 release: six digits and a UTC offset.
        assert_eq!(
            parse_timestamp("2024-05-10 00:00:00.009930+00:00"),
            Ok(1_715_299_200_009_930)
        );
        assert_eq!(
            parse_timestamp("2024-05-10T02:00:00.009930+02:00"),
            parse_timestamp("2024-05-10 00:00:00.00993Z")
        );
        assert_eq!(
            parse_timestamp("2024-05-09 22:30:00-01:30"),
            parse_timestamp("2024-05-10 00:00:00")
        );
    }

    #[test]
    fn timestamps_across_midnight_month_and_year_ends() {
        let t = |s| parse_timestamp(s).unwrap();
        let day = 86_400 * MICROS_PER_SEC;
        // Finer digits are truncated, not rounded.
        assert_eq!(
            t("2024-01-01 00:00:00.0000000") - t("2023-12-31 23:59:59.9999999"),
            1
        );
        assert_eq!(
            t("2023-11-17 00:00:00.1") - t("2023-11-16 23:59:59.9"),
            200_000
        );
        assert_eq!(t("2023-05-01 00:00:00") - t("2023-04-30 00:00:00"), day);
        assert_eq!(t("2023-03-01 00:00:00") - t("2023-02-28 00:00:00"), day);
        assert_eq!(t("2024-03-01 00:00:00") - t("2024-02-28 00:00:00"), 2 * day);
        assert_eq!(t("2100-03-01 00:00:00") - t("2100-02-28 00:00:00"), day);
        assert_eq!(
            t("2001-01-01 00:00:00") - t("2000-01-01 00:00:00"),
            366 * day
        );
        assert_eq!(t("2024-05-17 00:00:00") - t("2024-05-10 00:00:00"), 7 * day);
    }

    #[test]
    fn impossible_timestamps_are_refused_with_a_reason() {
        for (text, reason) in [
            ("2023-02-29 00:00:00", "day out of range for the month"),
            ("2023-04-31 00:00:00", "day out of range for the month"),
            ("2023-13-01 00:00:00", "month out of range"),
            ("2023-11-16 24:00:00", "time of day out of range"),
            ("2023-11-16 18:60:00", "time of day out of range"),
            ("2023-11-16", "malformed date"),
            ("16/11/2023 18:15:46", "malformed date"),
            ("2023-11-16 18:15", "malformed time of day"),
            ("2023-11-16 18:15:46.", "malformed fraction of a second"),
            ("2023-11-16 18:15:46.5 PM", "unexpected text after the time"),
            ("2023-11-16 18:15:46+0100", "malformed UTC offset"),
            (
                "2023-11-16 18:15:46+01:00x",
                "unexpected text after the UTC offset",
            ),
        ] {
            assert_eq!(parse_timestamp(text), Err(reason), "{text}");
        }
    }

    #[test]
    fn decimal_seconds_are_truncated_to_microseconds() {
        assert_eq!(parse_seconds("0"), Some(0));
        assert_eq!(parse_seconds("12.5"), Some(12_500_000));
        assert_eq!(parse_seconds(".5"), Some(500_000));
        assert_eq!(parse_seconds("3."), Some(3_000_000));
        assert_eq!(parse_seconds("1.0000019"), Some(1_000_001));
        for bad in [
            "",
            ".",
            "-1",
            "1e3",
            "1.2.3",
            " 1",
            "nan",
            "99999999999999999999",
        ] {
            assert_eq!(parse_seconds(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_azure_2023_code_trace_replays_whole() {
        let requests = read_all(Path::new(AZURE_2023_CODE), TraceOptions::default()).unwrap();
        assert_eq!(requests.len(), 8_819);
        assert_eq!(requests[0].arrival, 0);
        // 2023-11-16 18:17:03.9799600 to 19:14:19.9280160.
        assert_eq!(requests[requests.len() - 1].arrival, 3_435_948_056);
        assert!(requests.windows(2).all(|w| w[0].arrival <= w[1].arrival));
        let input: u64 = requests.iter().map(|r| u64::from(r.input_tokens)).sum();
        let output: u64 = requests.iter().map(|r| u64::from(r.output_tokens)).sum();
        assert_eq!((input, output), (18_059_974, 245_896));
        assert_eq!(
            requests[0],
            Request {
                arrival: 0,
                input_tokens: 4_808,
                output_tokens: 10
            }
        );
    }

    #[test]
    fn a_window_is_cut_from_trace_time_and_starts_at_zero() {
        let path = Path::new(AZURE_2023_CODE);
        let whole = read_all(path, TraceOptions::default()).unwrap();
        let (from, to) = (600 * MICROS_PER_SEC, 1_200 * MICROS_PER_SEC);
        let window = TraceOptions {
            from,
            to: Some(to),
            ..TraceOptions::default()
        };
        let expected: Vec<Request> = whole
            .iter()
            .filter(|r| (from..to).contains(&r.arrival))
            .map(|r| Request {
                arrival: r.arrival - from,
                ..*r
            })
            .collect();
        assert!(!expected.is_empty());
        assert_eq!(read_all(path, window).unwrap(), expected);

        let faster = read_all(
            path,
            TraceOptions {
                time_scale: 2.0,
                ..window
            },
        )
        .unwrap();
        let halved: Vec<SimTime> = expected.iter().map(|r| (r.arrival + 1) / 2).collect();
        assert_eq!(faster.iter().map(|r| r.arrival).collect::<Vec<_>>(), halved);

        let ended = read_all(
            path,
            TraceOptions {
                end: 60 * MICROS_PER_SEC,
                ..window
            },
        )
        .unwrap();
        assert_eq!(ended[..], expected[..ended.len()]);
        assert!(expected[ended.len()].arrival >= 60 * MICROS_PER_SEC);
    }

    #[test]
    fn bad_rows_are_named_by_file_and_line() {
        let trace = TempTrace::new(
            "bad-number",
            "TIMESTAMP,ContextTokens,GeneratedTokens\n\
             2023-11-16 18:17:03.9799600,4808,10\n\
             2023-11-16 18:17:04.0319600,3180,8\n\
             2023-11-16 18:17:04.0781490,110,lots\n",
        );
        let err = read_all(&trace.0, TraceOptions::default()).unwrap_err();
        assert!(matches!(
            err,
            WorkloadError::Row {
                line: 4,
                problem: RowProblem::BadNumber {
                    column: "GeneratedTokens",
                    ..
                },
                ..
            }
        ));
        let message = err.to_string();
        assert!(
            message.starts_with(&format!("{}:4: ", trace.0.display())),
            "{message}"
        );
        assert!(
            message.contains("GeneratedTokens `lots` is not a token count"),
            "{message}"
        );
    }

    #[test]
    fn rows_out_of_time_order_are_refused() {
        let err = read_text(
            "TIMESTAMP,ContextTokens,GeneratedTokens\n\
             2023-11-16 18:17:04.0000000,1,1\n\
             2023-11-16 18:17:04.0000000,2,2\n\
             2023-11-16 18:17:03.9000000,3,3\n",
            TraceOptions::default(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.csv:4: TIMESTAMP `2023-11-16 18:17:03.9000000` is earlier than \
             `2023-11-16 18:17:04.0000000` on line 3: the trace must be sorted by time"
        );
    }

    #[test]
    fn other_row_problems() {
        let header = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
        let problem =
            |rows: &str| match read_text(&format!("{header}{rows}"), TraceOptions::default()) {
                Err(WorkloadError::Row { line, problem, .. }) => (line, problem),
                other => panic!("{other:?}"),
            };
        assert!(matches!(
            problem("2023-11-31 00:00:00,1,1\n"),
            (
                2,
                RowProblem::BadTimestamp {
                    reason: "day out of range for the month",
                    ..
                }
            )
        ));
        assert!(matches!(
            problem("2023-11-16 00:00:00,1,1\n2023-11-16 00:00:01,-3,1\n"),
            (
                3,
                RowProblem::BadNumber {
                    column: "ContextTokens",
                    ..
                }
            )
        ));
        assert_eq!(
            problem("2023-11-16 00:00:00,1\n"),
            (
                2,
                RowProblem::FieldCount {
                    found: 2,
                    expected: 3
                }
            )
        );
        let err = read_text(
            "arrival_s,input_tokens,output_tokens\n1,1,1\nsoon,1,1\n",
            TraceOptions::default(),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("t.csv:3: arrival_s `soon` is not a time"),
            "{err}"
        );
    }

    #[test]
    fn zero_token_counts_become_one() {
        let requests = read_text(
            "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 00:00:00,0,0\n",
            TraceOptions::default(),
        )
        .unwrap();
        assert_eq!(
            (requests[0].input_tokens, requests[0].output_tokens),
            (1, 1)
        );
    }

    #[test]
    fn the_format_is_told_by_the_header() {
        let generic = "\u{feff}output_tokens, input_tokens, arrival_s, note\n7, 5, 0.25, x\n";
        let mut source = TraceSource::from_reader(
            Path::new("g.csv"),
            generic.as_bytes(),
            TraceOptions::default(),
        )
        .unwrap();
        assert_eq!(source.format(), TraceFormat::Generic);
        assert_eq!(
            source.next_request().unwrap(),
            Some(Request {
                arrival: 250_000,
                input_tokens: 5,
                output_tokens: 7
            })
        );
        let err = read_text("time,prompt,output\n", TraceOptions::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.csv: trace header `time,prompt,output` is not recognised: expected \
             `TIMESTAMP,ContextTokens,GeneratedTokens` (Azure LLM inference trace) or \
             `arrival_s,input_tokens,output_tokens` (generic trace)"
        );
        let azure_only = TraceOptions {
            format: Some(TraceFormat::Azure),
            ..TraceOptions::default()
        };
        assert!(matches!(
            read_text(generic, azure_only),
            Err(WorkloadError::Header { .. })
        ));
        let missing = read_all(Path::new("/nonexistent/trace.csv"), TraceOptions::default());
        assert!(matches!(missing, Err(WorkloadError::Open { .. })));
    }

    #[test]
    fn a_generic_trace_reads_back_what_was_written() {
        let requests = vec![
            Request {
                arrival: 0,
                input_tokens: 1,
                output_tokens: 1,
            },
            Request {
                arrival: 1,
                input_tokens: 4_000,
                output_tokens: 300,
            },
            Request {
                arrival: 1,
                input_tokens: 2,
                output_tokens: 3,
            },
            Request {
                arrival: 604_800_123_456,
                input_tokens: u32::MAX,
                output_tokens: 17,
            },
        ];
        let mut writer = GenericCsvWriter::new(Vec::new()).unwrap();
        for r in &requests {
            writer.write(r).unwrap();
        }
        let bytes = writer.finish().unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with("arrival_s,input_tokens,output_tokens\n0.000000,1,1\n0.000001,"));
        assert_eq!(read_text(&text, TraceOptions::default()).unwrap(), requests);

        let empty = GenericCsvWriter::new(Vec::new()).unwrap().finish().unwrap();
        let empty = std::str::from_utf8(&empty).unwrap();
        assert_eq!(read_text(empty, TraceOptions::default()).unwrap(), vec![]);
    }
}
