//! The files a run, a comparison, a sweep and a plan write, as types: each output is a
//! `#[derive(Serialize, Deserialize)]` struct written and read back through the same type (the
//! charts read what the run wrote; `sweep merge` reads the shards' tables), so a column or key
//! exists in one place only. A leaf: it knows nothing of the simulator.

pub mod calibration;
pub mod comparison;
pub mod count;
pub mod plan;
pub mod rows;
pub mod summary;

mod columns;

pub use columns::columns;

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

/// CSV bytes of `rows` with the header of `T`, written even when there are no rows (a file
/// without its header cannot be read back as a table of `T`).
pub fn csv_bytes<T>(rows: impl IntoIterator<Item = T>) -> Result<Vec<u8>, csv::Error>
where
    T: Serialize + for<'de> serde::Deserialize<'de>,
{
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut any = false;
    for r in rows {
        w.serialize(r)?;
        any = true;
    }
    if !any {
        w.write_record(columns::<T>())?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// Pretty JSON of `value` with a final newline, as every JSON output is written.
pub fn json_bytes<T: Serialize>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    let mut b = serde_json::to_vec_pretty(value)?;
    b.push(b'\n');
    Ok(b)
}
