//! The charts' inputs, read back from a run's output files by their documented columns (see
//! the README's outputs), so that a finished run's folder is all a chart needs.

use serde::Deserialize;

use super::ChartError;
use crate::outputs::columns;
use crate::outputs::rows::{CostRow, LatencyRow, TimelineRow};
use crate::outputs::summary::{Summary, Thresholds};

/// The ticks of one scaled target: a ModelServing, or one of its roles.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub name: String,
    pub ticks: Vec<TimelineRow>,
}

/// The cumulative cost of one ModelServing: (time s, cost).
#[derive(Debug, Clone, PartialEq)]
pub struct ServingCost {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// Everything the charts show of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunData {
    pub scenario: String,
    pub engine: String,
    pub seed: u64,
    pub duration_s: f64,
    pub slo: Thresholds,
    /// In the order they first appear in the timeline.
    pub targets: Vec<Target>,
    pub latency: Vec<LatencyRow>,
    /// In scenario order.
    pub servings: Vec<ServingCost>,
}

/// The rows of CSV file `file`, whose header must name every column of `T` (a file with a
/// header and no rows is a run without any; a file of something else is refused).
fn rows<T: for<'de> Deserialize<'de>>(
    file: &'static str,
    bytes: &[u8],
) -> Result<Vec<T>, ChartError> {
    let mut reader = csv::Reader::from_reader(bytes);
    let header = reader
        .headers()
        .map_err(|error| ChartError::Csv { file, error })?;
    if let Some(missing) = columns::<T>()
        .iter()
        .find(|c| !header.iter().any(|h| h == **c))
    {
        return Err(ChartError::Column {
            file,
            column: missing,
        });
    }
    reader
        .deserialize()
        .collect::<Result<_, _>>()
        .map_err(|error| ChartError::Csv { file, error })
}

/// Groups items by a key, keeping the order in which the keys first appear.
fn group<T>(items: Vec<T>, key: impl Fn(&T) -> &str) -> Vec<(String, Vec<T>)> {
    let mut groups: Vec<(String, Vec<T>)> = Vec::new();
    for item in items {
        match groups.iter_mut().find(|(k, _)| k == key(&item)) {
            Some((_, g)) => g.push(item),
            None => groups.push((key(&item).to_string(), vec![item])),
        }
    }
    groups
}

impl RunData {
    /// Reads the charts' inputs from the contents of `summary.json`, `timeline.csv`,
    /// `latency.csv` and `cost.csv`.
    pub fn parse(
        summary: &[u8],
        timeline: &[u8],
        latency: &[u8],
        cost: &[u8],
    ) -> Result<Self, ChartError> {
        let s: Summary = serde_json::from_slice(summary).map_err(ChartError::Summary)?;
        let timeline = rows::<TimelineRow>("timeline.csv", timeline)?;
        let targets = group(timeline, |t| &t.target)
            .into_iter()
            .map(|(name, ticks)| Target { name, ticks })
            .collect();
        let cost = rows::<CostRow>("cost.csv", cost)?;
        let servings = group(cost, |c| &c.serving)
            .into_iter()
            .map(|(name, rows)| ServingCost {
                name,
                points: rows.iter().map(|r| (r.time_s, r.cost)).collect(),
            })
            .collect();
        Ok(RunData {
            scenario: s.scenario,
            engine: s.engine,
            seed: s.seed,
            duration_s: s.duration_s,
            slo: s.slo.thresholds_s,
            targets,
            latency: rows("latency.csv", latency)?,
            servings,
        })
    }
}
