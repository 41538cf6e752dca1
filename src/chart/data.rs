//! The charts' inputs, read back from a run's output files by their documented columns (see
//! the README's outputs), so that a finished run's folder is all a chart needs.

use serde::Deserialize;

use super::ChartError;

#[derive(Deserialize)]
struct Summary {
    scenario: String,
    engine: String,
    seed: u64,
    duration_s: f64,
    slo: SummarySlo,
}

#[derive(Deserialize)]
struct SummarySlo {
    thresholds_s: Thresholds,
}

/// The SLO's latency thresholds in seconds (`summary.json` `slo.thresholds_s`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
pub struct Thresholds {
    pub ttft: Option<f64>,
    pub tpot: Option<f64>,
    pub e2e: Option<f64>,
}

/// One controller tick of one target (a row of `timeline.csv`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Tick {
    pub time_s: f64,
    target: String,
    pub spec_replicas: i32,
    pub min_replicas: i32,
    pub max_replicas: i32,
    pub ready: u32,
    /// Servers down by a fault: restarting after a crash, or on a lost node (absent from
    /// runs without these columns).
    #[serde(default)]
    pub restarting: u32,
    #[serde(default)]
    pub lost: u32,
    pub panic: bool,
    pub arrivals_per_s: f64,
    pub waiting: u64,
    pub running: u64,
    /// Fraction of the KV cache in use, 0..=1.
    pub kv_usage: f64,
}

const TICK_COLUMNS: [&str; 11] = [
    "time_s",
    "target",
    "spec_replicas",
    "min_replicas",
    "max_replicas",
    "ready",
    "panic",
    "arrivals_per_s",
    "waiting",
    "running",
    "kv_usage",
];

/// The ticks of one scaled target: a ModelServing, or one of its roles.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub name: String,
    pub ticks: Vec<Tick>,
}

/// One minute of `latency.csv` (seconds; `None` when no request completed).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LatencyMinute {
    pub time_s: f64,
    pub ttft_p50_s: Option<f64>,
    pub ttft_p99_s: Option<f64>,
    pub tpot_p50_s: Option<f64>,
    pub tpot_p99_s: Option<f64>,
    pub e2e_p50_s: Option<f64>,
    pub e2e_p99_s: Option<f64>,
}

const LATENCY_COLUMNS: [&str; 7] = [
    "time_s",
    "ttft_p50_s",
    "ttft_p99_s",
    "tpot_p50_s",
    "tpot_p99_s",
    "e2e_p50_s",
    "e2e_p99_s",
];

#[derive(Deserialize)]
struct CostCsv {
    time_s: f64,
    serving: String,
    cost: f64,
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
    pub latency: Vec<LatencyMinute>,
    /// In scenario order.
    pub servings: Vec<ServingCost>,
}

/// The rows of CSV file `file`, whose header must name every one of `columns` (a file with
/// a header and no rows is a run without any; a file of something else is refused).
fn rows<T: for<'de> Deserialize<'de>>(
    file: &'static str,
    bytes: &[u8],
    columns: &[&'static str],
) -> Result<Vec<T>, ChartError> {
    let mut reader = csv::Reader::from_reader(bytes);
    let header = reader
        .headers()
        .map_err(|error| ChartError::Csv { file, error })?;
    if let Some(missing) = columns.iter().find(|c| !header.iter().any(|h| h == **c)) {
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
        let timeline = rows::<Tick>("timeline.csv", timeline, &TICK_COLUMNS)?;
        let targets = group(timeline, |t| &t.target)
            .into_iter()
            .map(|(name, ticks)| Target { name, ticks })
            .collect();
        let cost = rows::<CostCsv>("cost.csv", cost, &["time_s", "serving", "cost"])?;
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
            latency: rows("latency.csv", latency, &LATENCY_COLUMNS)?,
            servings,
        })
    }
}
