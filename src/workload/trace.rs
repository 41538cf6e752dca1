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
use super::rows::{Row, RowReader};
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
    /// Rows in memory, `next` the index of the next one.
    Memory { rows: Vec<Row>, next: usize },
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
            *self = Rows::Memory { rows, next: 0 };
        }
        match self {
            Rows::File(reader) | Rows::Reader(reader) | Rows::Pending(reader) => reader.next_row(),
            Rows::Memory { rows, next } => {
                let row = rows.get(*next).copied();
                *next += usize::from(row.is_some());
                Ok(row)
            }
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
    done: bool,
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
            done: false,
        }
    }

    /// The format of the trace, as given or as found.
    pub fn format(&self) -> &TraceFormat {
        &self.format
    }

    /// Ends the current pass: starts the next one when looping, ends the replay otherwise.
    fn end_pass(&mut self) -> Result<(), WorkloadError> {
        if !self.options.looped || self.pass.count == 0 {
            self.done = true;
            return Ok(());
        }
        if self.pass.index == 0 {
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
            return Ok(Some(Request {
                arrival,
                input_tokens: row.input_tokens,
                output_tokens: row.output_tokens,
            }));
        }
        self.done = true;
        Ok(None)
    }
}

#[cfg(test)]
mod tests;
