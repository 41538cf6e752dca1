//! The charts' inputs, read back from a run's output files by their documented columns (see
//! the README's outputs), so that a finished run's folder is all a chart needs. The files are
//! read row by row and only the numbers drawn are kept: a month's timeline is a few hundred
//! thousand rows.

use std::io::Read;

use serde::Deserialize;

use super::ChartError;
use crate::outputs::columns;
use crate::outputs::rows::{CostRow, LatencyRow, TimelineRow};
use crate::outputs::summary::{Summary, Thresholds};

/// The ticks of one scaled target: a ModelServing, or one of its roles.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub name: String,
    /// Who scaled it (its first row's `autoscaler`).
    pub autoscaler: String,
    pub ticks: Vec<Tick>,
}

/// What the charts draw of one timeline row (see [`TimelineRow`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    pub time_s: f64,
    pub spec_replicas: i32,
    pub min_replicas: i32,
    pub max_replicas: i32,
    pub ready: u32,
    pub starting: u32,
    pub pending: u32,
    pub terminating: u32,
    pub restarting: u32,
    pub lost: u32,
    pub restarted: u32,
    pub panic: bool,
    pub arrivals_per_s: f64,
    pub waiting: u64,
    pub running: u64,
    pub kv_usage: f64,
    pub cost_per_hour: f64,
}

impl From<&TimelineRow> for Tick {
    fn from(r: &TimelineRow) -> Self {
        Tick {
            time_s: r.time_s,
            spec_replicas: r.spec_replicas,
            min_replicas: r.min_replicas,
            max_replicas: r.max_replicas,
            ready: r.ready,
            starting: r.starting,
            pending: r.pending,
            terminating: r.terminating,
            restarting: r.restarting,
            lost: r.lost,
            restarted: r.restarted,
            panic: r.panic,
            arrivals_per_s: r.arrivals_per_s,
            waiting: r.waiting,
            running: r.running,
            kv_usage: r.kv_usage,
            cost_per_hour: r.cost_per_hour,
        }
    }
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
    /// The autoscalers that ran (summary.json's `autoscaler`).
    pub autoscaler: String,
    pub seed: u64,
    pub duration_s: f64,
    pub slo: Thresholds,
    /// In the order they first appear in the timeline.
    pub targets: Vec<Target>,
    pub latency: Vec<LatencyRow>,
    /// In scenario order.
    pub servings: Vec<ServingCost>,
    /// For the median of several replications: the number of replications and each one's
    /// targets (drawn faintly behind the median); empty for one run.
    pub replications: Vec<Vec<Target>>,
}

/// Calls `each` with every row of CSV file `file`, whose header must name every column of `T`
/// (a file with a header and no rows is a run without any; a file of something else is
/// refused).
fn each_row<T: for<'de> Deserialize<'de>>(
    file: &'static str,
    bytes: impl Read,
    mut each: impl FnMut(T),
) -> Result<(), ChartError> {
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
    for row in reader.deserialize() {
        each(row.map_err(|error| ChartError::Csv { file, error })?);
    }
    Ok(())
}

/// The group of `groups` named `key`, added at the end the first time: groups keep the order
/// in which their keys first appear.
fn group<'g, G>(
    groups: &'g mut Vec<G>,
    name: impl Fn(&G) -> &str,
    key: &str,
    new: impl FnOnce() -> G,
) -> &'g mut G {
    let i = match groups.iter().position(|g| name(g) == key) {
        Some(i) => i,
        None => {
            groups.push(new());
            groups.len() - 1
        }
    };
    &mut groups[i]
}

/// Tick `i` of target `t` of `run`.
fn tick_at(run: &RunData, t: usize, i: usize) -> Option<&Tick> {
    run.targets.get(t)?.ticks.get(i)
}

impl RunData {
    /// Reads the charts' inputs from the contents of `summary.json`, `timeline.csv`,
    /// `latency.csv` and `cost.csv`.
    pub fn parse(
        summary: &[u8],
        timeline: impl Read,
        latency: impl Read,
        cost: impl Read,
    ) -> Result<Self, ChartError> {
        let s: Summary = serde_json::from_slice(summary).map_err(ChartError::Summary)?;
        let mut targets: Vec<Target> = Vec::new();
        each_row("timeline.csv", timeline, |row: TimelineRow| {
            let target = group(
                &mut targets,
                |t| &t.name,
                &row.target,
                || Target {
                    name: row.target.clone(),
                    autoscaler: row.autoscaler.clone(),
                    ticks: Vec::new(),
                },
            );
            target.ticks.push(Tick::from(&row));
        })?;
        let mut servings: Vec<ServingCost> = Vec::new();
        each_row("cost.csv", cost, |row: CostRow| {
            let serving = group(
                &mut servings,
                |s| &s.name,
                &row.serving,
                || ServingCost {
                    name: row.serving.clone(),
                    points: Vec::new(),
                },
            );
            serving.points.push((row.time_s, row.cost));
        })?;
        let mut latency_rows = Vec::new();
        each_row("latency.csv", latency, |row: LatencyRow| {
            latency_rows.push(row)
        })?;
        Ok(RunData {
            scenario: s.scenario,
            engine: s.engine,
            autoscaler: s.autoscaler,
            seed: s.seed,
            duration_s: s.duration_s,
            slo: s.slo.thresholds_s,
            targets,
            latency: latency_rows,
            servings,
            replications: Vec::new(),
        })
    }

    /// The median of replications of one run, value by value (the lower median, so that
    /// every number is one a replication had): their ticks, minutes and cost points share
    /// the scenario's clock. Each replication's targets are kept for the faint lines of the
    /// replicas chart. `None` without runs.
    pub fn median(runs: &[RunData]) -> Option<RunData> {
        let first = runs.first()?;
        let lower = |mut v: Vec<f64>| -> f64 {
            v.sort_by(f64::total_cmp);
            v.get((v.len().max(1) - 1) / 2).copied().unwrap_or(0.0)
        };
        let of = |f: &dyn Fn(&RunData) -> Option<f64>| -> Option<f64> {
            let v: Vec<f64> = runs.iter().filter_map(f).collect();
            (!v.is_empty()).then(|| lower(v))
        };
        let targets = first
            .targets
            .iter()
            .enumerate()
            .map(|(t, target)| {
                let ticks = (0..target.ticks.len())
                    .map(|i| {
                        let num =
                            |f: fn(&Tick) -> f64| of(&|r| tick_at(r, t, i).map(f)).unwrap_or(0.0);
                        Tick {
                            spec_replicas: num(|k| f64::from(k.spec_replicas)) as i32,
                            ready: num(|k| f64::from(k.ready)) as u32,
                            starting: num(|k| f64::from(k.starting)) as u32,
                            pending: num(|k| f64::from(k.pending)) as u32,
                            terminating: num(|k| f64::from(k.terminating)) as u32,
                            restarting: num(|k| f64::from(k.restarting)) as u32,
                            lost: num(|k| f64::from(k.lost)) as u32,
                            restarted: num(|k| f64::from(k.restarted)) as u32,
                            panic: num(|k| f64::from(u8::from(k.panic))) >= 1.0,
                            arrivals_per_s: num(|k| k.arrivals_per_s),
                            waiting: num(|k| k.waiting as f64) as u64,
                            running: num(|k| k.running as f64) as u64,
                            kv_usage: num(|k| k.kv_usage),
                            cost_per_hour: num(|k| k.cost_per_hour),
                            ..target.ticks[i].clone()
                        }
                    })
                    .collect();
                Target {
                    name: target.name.clone(),
                    autoscaler: target.autoscaler.clone(),
                    ticks,
                }
            })
            .collect();
        let latency = first
            .latency
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let opt = |f: fn(&LatencyRow) -> Option<f64>| of(&|r| r.latency.get(i).and_then(f));
                LatencyRow {
                    completed: of(&|r| r.latency.get(i).map(|m| m.completed as f64)).unwrap_or(0.0)
                        as usize,
                    ttft_p50_s: opt(|m| m.ttft_p50_s),
                    ttft_p99_s: opt(|m| m.ttft_p99_s),
                    tpot_p50_s: opt(|m| m.tpot_p50_s),
                    tpot_p99_s: opt(|m| m.tpot_p99_s),
                    e2e_p50_s: opt(|m| m.e2e_p50_s),
                    e2e_p99_s: opt(|m| m.e2e_p99_s),
                    ..m.clone()
                }
            })
            .collect();
        let servings = first
            .servings
            .iter()
            .enumerate()
            .map(|(s, serving)| ServingCost {
                name: serving.name.clone(),
                points: serving
                    .points
                    .iter()
                    .enumerate()
                    .map(|(i, &(time, _))| {
                        let cost = of(&|r| r.servings.get(s)?.points.get(i).map(|p| p.1));
                        (time, cost.unwrap_or(0.0))
                    })
                    .collect(),
            })
            .collect();
        Some(RunData {
            targets,
            latency,
            servings,
            replications: runs.iter().map(|r| r.targets.clone()).collect(),
            ..first.clone()
        })
    }
}
