//! Writing requests as a generic trace, the format `trace gen` and `trace convert` produce.

use std::io::{self, Write};

use super::Request;
use crate::sim::MICROS_PER_SEC;

const GENERIC_COLUMNS: [&str; 3] = ["arrival_s", "input_tokens", "output_tokens"];

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
            request.arrival.as_micros().div_euclid(MICROS_PER_SEC),
            request.arrival.as_micros().rem_euclid(MICROS_PER_SEC)
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
