//! The files a run, a comparison, a sweep and a plan write, as types: each output is a
//! `#[derive(Serialize, Deserialize)]` struct written and read back through the same type (the
//! charts read what the run wrote; `sweep merge` reads the shards' tables), so a column or key
//! exists in one place only. A leaf: it knows nothing of the simulator.

pub mod calibration;
pub mod comparison;
pub mod count;
pub mod plan;
pub mod rows;
pub mod shadow;
pub mod summary;

mod columns;

pub use columns::columns;

use std::io::Write;
use std::marker::PhantomData;

use serde::Serialize;

/// Rounds a reported number to a fixed precision, so that text outputs are stable and
/// readable.
pub fn round6(v: f64) -> f64 {
    if v.is_finite() {
        (v * 1e6).round() / 1e6
    } else {
        v
    }
}

/// A CSV file of `T` rows written one at a time, as they are made (a long run's rows need not
/// be held), with the header of `T` even when no row comes (a file without its header cannot
/// be read back as a table of `T`).
pub struct CsvWriter<T, W: Write> {
    w: csv::Writer<W>,
    any: bool,
    rows: PhantomData<fn(&T)>,
}

impl<T, W: Write> CsvWriter<T, W>
where
    T: Serialize + for<'de> serde::Deserialize<'de>,
{
    pub fn new(w: W) -> Self {
        CsvWriter {
            w: csv::Writer::from_writer(w),
            any: false,
            rows: PhantomData,
        }
    }

    pub fn write(&mut self, row: &T) -> Result<(), csv::Error> {
        self.any = true;
        self.w.serialize(row)
    }

    /// Ends the file: its header if no row came; gives back the writer, flushed.
    pub fn finish(mut self) -> Result<W, csv::Error> {
        if !self.any {
            self.w.write_record(columns::<T>())?;
        }
        self.w
            .into_inner()
            .map_err(|e| csv::Error::from(e.into_error()))
    }
}

/// CSV bytes of `rows` with the header of `T` (see [`CsvWriter`]).
pub fn csv_bytes<T>(rows: impl IntoIterator<Item = T>) -> Result<Vec<u8>, csv::Error>
where
    T: Serialize + for<'de> serde::Deserialize<'de>,
{
    let mut w = CsvWriter::new(Vec::new());
    for r in rows {
        w.write(&r)?;
    }
    w.finish()
}

/// Pretty JSON of `value` with a final newline, as every JSON output is written.
pub fn json_bytes<T: Serialize>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    let mut b = serde_json::to_vec_pretty(value)?;
    b.push(b'\n');
    Ok(b)
}
