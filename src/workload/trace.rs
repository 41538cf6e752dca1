//! Recorded traces replayed as requests: the rows of any supported format (see
//! [`TraceFormat`]), cut to a time window, shifted so that the window starts at time 0,
//! replayed faster or slower, and looped to fill the run.
//!
//! Rows are pulled one at a time from the file, so a trace of any length costs the same
//! memory, with two documented exceptions: `sort` reads the whole trace into memory (16
//! bytes a request) to sort it, and so does `loop` over a trace read from a pipe rather
//! than a file (a file is simply read again for every pass).
//!
//! Trace time is the time from the first row for formats with wall-clock timestamps, and
//! the time written in the file for formats with relative times (see
//! [`TraceFormat::is_absolute`]). Times are truncated to whole microseconds
//! (docs/world.md §3.2). A prompt of 0 tokens becomes 1, and an output of 0 tokens becomes 1 or
//! drops the row (see [`ZeroOutput`]): every request has a prompt and produces a token in
//! the server model. Rows with equal times arrive at the same instant, in file order.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::format::open_rows;
use super::rows::{Row, RowCounts, RowReader};
use super::{Request, RequestSource, TraceFormat, WorkloadError, ZeroOutput};
use crate::sim::{SimDuration, SimTime};

/// How a trace is read, cut and replayed.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceOptions {
    /// The format the file must have; `None` tells it from the first line.
    pub format: Option<TraceFormat>,
    /// Rows before this trace time (from the trace's origin) are skipped; this instant
    /// becomes time 0.
    pub from: SimDuration,
    /// Rows at or after this trace time end the replay (or the pass, when looping).
    pub to: Option<SimDuration>,
    /// Replay speed: 2 replays twice as fast (each arrival at half its offset from `from`).
    pub time_scale: f64,
    /// Sort the rows by time (file order kept at equal times) instead of refusing a row
    /// earlier than the one before it. The whole trace is read into memory to sort it.
    pub sort: bool,
    /// Replay the trace again and again until `end`, each pass shifted by the trace's
    /// period: `to - from` with a window end, otherwise the last row's offset from `from`
    /// plus the mean gap between rows, so that the seam looks like the rest of the trace.
    /// Without an `end`, a looped trace never ends.
    pub looped: bool,
    /// Keep only the rows of this model (formats with a model column: BurstGPT, or a mapped
    /// CSV that names one).
    pub model: Option<String>,
    /// What a row with 0 output tokens stands for; unset, the format's own meaning (a
    /// failure in BurstGPT, a one-token output elsewhere).
    pub zero_output: Option<ZeroOutput>,
    /// No arrival (in simulated time) at or after this instant.
    pub end: SimTime,
}

impl Default for TraceOptions {
    fn default() -> Self {
        TraceOptions {
            format: None,
            from: SimDuration::ZERO,
            to: None,
            time_scale: 1.0,
            sort: false,
            looped: false,
            model: None,
            zero_output: None,
            end: SimTime::MAX,
        }
    }
}

/// Where the rows come from.
enum Rows {
    /// A file, read as it goes and opened again for each pass of a loop.
    File(Box<dyn RowReader>),
    /// A reader that cannot be read twice, read as it goes.
    Reader(Box<dyn RowReader>),
    /// Rows still to be read whole into memory at the first request: to be sorted, or to
    /// loop over a reader.
    Pending(Box<dyn RowReader>),
    /// Rows in memory, `next` the index of the next one; `counts` what the reader dropped
    /// or changed in reading them.
    Memory {
        rows: Vec<Row>,
        next: usize,
        counts: RowCounts,
    },
}

impl Rows {
    fn next(&mut self, sort: bool) -> Result<Option<Row>, WorkloadError> {
        if let Rows::Pending(reader) = self {
            let mut rows = Vec::new();
            while let Some(row) = reader.next_row()? {
                rows.push(row);
            }
            // Stable: rows with equal times stay in file order.
            if sort {
                rows.sort_by_key(|row| row.time);
            }
            let counts = reader.counts();
            *self = Rows::Memory {
                rows,
                next: 0,
                counts,
            };
        }
        match self {
            Rows::File(reader) | Rows::Reader(reader) | Rows::Pending(reader) => reader.next_row(),
            Rows::Memory { rows, next, .. } => {
                let row = rows.get(*next).copied();
                *next += usize::from(row.is_some());
                Ok(row)
            }
        }
    }

    fn counts(&self) -> RowCounts {
        match self {
            Rows::File(reader) | Rows::Reader(reader) | Rows::Pending(reader) => reader.counts(),
            Rows::Memory { counts, .. } => *counts,
        }
    }
}

/// The first pass over the trace, as a loop needs it to find its period.
#[derive(Debug, Default)]
struct Pass {
    /// 0 for the first pass.
    index: i64,
    /// Offsets from `from` of the first pass's first and last replayed rows.
    first: SimDuration,
    last: SimDuration,
    /// Rows replayed in the first pass.
    count: u64,
    /// What the reader dropped or changed in the first pass, once it is over (a loop reads
    /// the file again, and its rows are the same).
    counts: Option<RowCounts>,
    /// How far each pass is shifted from the one before, in trace time.
    period: SimDuration,
}

/// Requests replayed from a trace file, one row at a time.
pub struct TraceSource {
    path: PathBuf,
    /// The options, with the format as found.
    options: TraceOptions,
    format: TraceFormat,
    rows: Rows,
    /// The trace time (µs) that is offset 0: the first row's (absolute formats), or 0.
    origin: Option<i64>,
    pass: Pass,
    /// Requests replayed, every pass.
    replayed: u64,
    done: bool,
}

/// What a trace stream read, for `trace stats`, `trace convert` and a run's report: its
/// file and format, the requests it replayed and the rows its reader dropped or changed.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceTally {
    pub path: PathBuf,
    pub format: TraceFormat,
    /// What a row with 0 output tokens stood for, as applied.
    pub zero_output: ZeroOutput,
    /// The model kept, if one was asked for.
    pub model: Option<String>,
    /// Requests replayed in all passes (before a rate multiplier).
    pub replayed: u64,
    /// Rows dropped or changed in the first pass, of the rows read (a run reads a trace up
    /// to its end or its window's, and to the run's end).
    pub rows: RowCounts,
}

/// One reason a trace's rows were dropped or changed, with its count: see
/// [`TraceTally::notes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowNote {
    /// `skipped` or `changed`.
    pub verb: &'static str,
    pub rows: u64,
    pub why: String,
}

/// `skipped 42 rows: 0 response tokens (…)`.
impl std::fmt::Display for RowNote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.verb, self.count())
    }
}

impl RowNote {
    /// `42 rows: 0 response tokens (…)`, without the verb.
    pub fn count(&self) -> String {
        let s = if self.rows == 1 { "" } else { "s" };
        format!("{} row{s}: {}", self.rows, self.why)
    }
}

impl TraceTally {
    /// One note per reason rows were dropped or changed, dropped first; none when every row
    /// was read as written.
    pub fn notes(&self) -> Vec<RowNote> {
        let burstgpt = self.format == TraceFormat::BurstGpt;
        // BurstGPT's column is `Response tokens`, and its 0s are failed requests.
        let output = if burstgpt { "response" } else { "output" };
        let c = &self.rows;
        let skipped_why = if burstgpt {
            "0 response tokens (BurstGPT failures; zero_output: one_token keeps them)".to_owned()
        } else {
            "0 output tokens (zero_output: skip; one_token keeps them)".to_owned()
        };
        let model = self.model.as_deref().unwrap_or_default();
        [
            ("skipped", c.zero_output_skipped, skipped_why),
            ("skipped", c.other_model, format!("not of model `{model}`")),
            (
                "changed",
                c.zero_output_raised,
                format!("0 {output} tokens read as 1 (zero_output: skip drops them)"),
            ),
            (
                "changed",
                c.zero_input_raised,
                "0 prompt tokens read as 1 (a request has at least one)".to_owned(),
            ),
        ]
        .into_iter()
        .filter(|(_, rows, _)| *rows > 0)
        .map(|(verb, rows, why)| RowNote { verb, rows, why })
        .collect()
    }
}

/// Opens the trace at `path` to be read whole, as it is: in the format given, or the one
/// its first line shows. `trace stats` and `trace convert` read any format this way.
pub fn open_trace(path: &Path, format: Option<TraceFormat>) -> Result<TraceSource, WorkloadError> {
    TraceSource::open(
        path,
        TraceOptions {
            format,
            ..TraceOptions::default()
        },
    )
}

fn open_file(path: &Path) -> Result<File, WorkloadError> {
    File::open(path).map_err(|source| WorkloadError::Open {
        path: path.to_path_buf(),
        source,
    })
}

impl TraceSource {
    /// Opens `path` and reads its first line (and nothing more until the first request).
    pub fn open(path: &Path, options: TraceOptions) -> Result<Self, WorkloadError> {
        let (format, reader) = open_rows(path, open_file(path)?, &options)?;
        let rows = if options.sort {
            Rows::Pending(reader)
        } else {
            Rows::File(reader)
        };
        Ok(TraceSource::new(path, options, format, rows))
    }

    /// Reads the first line of `input`; `path` names it in errors. With `looped`, the rows
    /// are kept in memory for the passes after the first.
    pub fn from_reader<R: Read + Send + 'static>(
        path: &Path,
        input: R,
        options: TraceOptions,
    ) -> Result<Self, WorkloadError> {
        let (format, reader) = open_rows(path, input, &options)?;
        let rows = if options.sort || options.looped {
            Rows::Pending(reader)
        } else {
            Rows::Reader(reader)
        };
        Ok(TraceSource::new(path, options, format, rows))
    }

    fn new(path: &Path, options: TraceOptions, format: TraceFormat, rows: Rows) -> Self {
        TraceSource {
            path: path.to_path_buf(),
            options: TraceOptions {
                format: Some(format.clone()),
                ..options
            },
            format,
            rows,
            origin: None,
            pass: Pass::default(),
            replayed: 0,
            done: false,
        }
    }

    /// The format of the trace, as given or as found.
    pub fn format(&self) -> &TraceFormat {
        &self.format
    }

    /// What the trace has read so far: requests replayed, rows dropped or changed.
    pub fn tally(&self) -> TraceTally {
        TraceTally {
            path: self.path.clone(),
            format: self.format.clone(),
            zero_output: (self.options.zero_output)
                .unwrap_or_else(|| self.format.default_zero_output()),
            model: self.options.model.clone(),
            replayed: self.replayed,
            rows: self.pass.counts.unwrap_or_else(|| self.rows.counts()),
        }
    }

    /// Ends the current pass: starts the next one when looping, ends the replay otherwise.
    fn end_pass(&mut self) -> Result<(), WorkloadError> {
        if !self.options.looped || self.pass.count == 0 {
            self.done = true;
            return Ok(());
        }
        if self.pass.index == 0 {
            self.pass.counts = Some(self.rows.counts());
            let pass = &self.pass;
            let period = match self.options.to {
                Some(to) => to - self.options.from,
                None => {
                    let gaps = i64::try_from(pass.count - 1).unwrap_or(i64::MAX);
                    let mean_gap = if gaps > 0 {
                        (pass.last - pass.first) / gaps
                    } else {
                        SimDuration::ZERO
                    };
                    pass.last + mean_gap
                }
            };
            if period <= SimDuration::ZERO {
                return Err(WorkloadError::Trace {
                    path: self.path.clone(),
                    message: "cannot loop a trace whose requests all arrive at its start: set \
                              `window.to` to give the loop its period"
                        .to_owned(),
                });
            }
            self.pass.period = period;
        }
        match &mut self.rows {
            Rows::File(reader) => {
                *reader = open_rows(&self.path, open_file(&self.path)?, &self.options)?.1;
            }
            Rows::Memory { next, .. } => *next = 0,
            // Never looped: a reader to loop over is kept in memory.
            Rows::Reader(_) | Rows::Pending(_) => {
                self.done = true;
                return Ok(());
            }
        }
        self.pass.index += 1;
        Ok(())
    }
}

impl RequestSource for TraceSource {
    fn next_request(&mut self) -> Result<Option<Request>, WorkloadError> {
        while !self.done {
            let Some(row) = self.rows.next(self.options.sort)? else {
                self.end_pass()?;
                continue;
            };
            let absolute = self.format.is_absolute();
            let origin = *self
                .origin
                .get_or_insert(if absolute { row.time } else { 0 });
            let offset = SimDuration::from_micros(row.time - origin);
            if offset < self.options.from {
                continue;
            }
            if self.options.to.is_some_and(|to| offset >= to) {
                self.end_pass()?;
                continue;
            }
            let offset = offset - self.options.from;
            if self.pass.index == 0 {
                if self.pass.count == 0 {
                    self.pass.first = offset;
                }
                self.pass.last = offset;
                self.pass.count += 1;
            }
            let shifted = self
                .pass
                .period
                .saturating_mul(self.pass.index)
                .saturating_add(offset);
            let arrival =
                SimDuration::from_micros_f64(shifted.as_micros() as f64 / self.options.time_scale)
                    .after_start();
            if arrival >= self.options.end {
                break;
            }
            self.replayed += 1;
            return Ok(Some(Request {
                arrival,
                input_tokens: row.input_tokens,
                output_tokens: row.output_tokens,
            }));
        }
        self.done = true;
        Ok(None)
    }

    fn traces(&self, out: &mut Vec<TraceTally>) {
        out.push(self.tally());
    }
}

#[cfg(test)]
mod tests;
