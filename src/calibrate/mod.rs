//! Calibration of the server model against measured hardware: the measured formats
//! ([`measured`]), the simulation of each measured point or trace with the same
//! [`Server`](crate::model::server::Server) `run` uses, and the fit of the server's
//! parameters to the measurements.

pub mod dataset;
pub mod fit;
pub mod measured;
pub mod report;
pub mod simulate;

#[cfg(test)]
mod tests;
