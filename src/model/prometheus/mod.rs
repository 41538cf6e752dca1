//! A small Prometheus inside the simulator, answering the PromQL of a policy's Prometheus
//! metric sources (docs/engine.md §7.4) over the simulated pods' own metrics.
//!
//! It owns three things: ingestion ([`SeriesStore::record`] turns each scrape into series
//! named as Prometheus 3 names them, with staleness markers and bounded retention), the query
//! language subset ([`Query::parse`] parses with the `promql-parser` crate and rejects, at
//! load time and by name, every construct it does not evaluate), and evaluation
//! ([`Query::evaluate`] computes an instant query with Prometheus' own algorithms and hands
//! the engine a [`QueryResult`](crate::engine::cluster::QueryResult)).
//!
//! It must not decide what the engine does with the answer: single-sample and finiteness
//! checks belong to the engine's Prometheus source. It reads no clock and keeps ordered maps,
//! so the same scrapes always give the same answers in the same order.
//!
//! Supported: instant selectors with `=`, `!=`, `=~`, `!~` matchers and a 5-minute lookback;
//! `rate`, `irate`, `increase` over range selectors; `histogram_quantile` over classic
//! `_bucket` series; `sum`, `avg`, `min`, `max`, `count` with `by`/`without`; `+ - * / % ^`
//! between scalars, vector and scalar, or two vectors matched one-to-one on all labels;
//! unary minus; `scalar()`, `vector()`; number literals and parentheses.

mod eval;
mod exposition;
mod functions;
mod query;
mod store;

#[cfg(test)]
mod tests;

pub use query::{Query, UnsupportedQuery};
pub use store::SeriesStore;

use crate::sim::time::SimDuration;

/// How far back an instant selector looks for a sample (Prometheus' default
/// `--query.lookback-delta`).
pub const LOOKBACK_DELTA: SimDuration = SimDuration::from_secs(300);

/// The label holding a classic histogram bucket's upper bound.
const BUCKET_LABEL: &str = "le";
