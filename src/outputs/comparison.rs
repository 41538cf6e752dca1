//! `comparison.{json,csv}` and `sweep.{json,csv}` (and the rows of `plan.csv`): one row per
//! variant — cost, SLO attainment, latency percentiles, replicas, scaling activity and the
//! assertions' verdicts — taken from its summary.

use serde::{Deserialize, Serialize};

use super::count::Count;
use super::summary::{AssertionOutcome, Summary};

/// One variant's results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Position in the full list of variants (a sweep's grid order).
    pub index: usize,
    pub variant: String,
    /// The variant's settings, `KEY=VALUE` separated by spaces.
    pub settings: String,
    pub cost: f64,
    pub attainment: f64,
    pub goodput_rps: f64,
    pub ttft_p50_s: Option<f64>,
    pub ttft_p99_s: Option<f64>,
    pub tpot_p50_s: Option<f64>,
    pub e2e_p50_s: Option<f64>,
    pub e2e_p99_s: Option<f64>,
    pub replicas_peak: Count,
    pub replicas_average: f64,
    pub scale_events: Count,
    pub panic_seconds: f64,
    pub skipped_ticks: Count,
    pub requests: Count,
    pub failed: Count,
    pub dropped: Count,
    /// On the cost-vs-attainment Pareto front.
    pub pareto: bool,
    pub assertions: Vec<AssertionOutcome>,
}

/// `comparison.json` and `sweep.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub title: String,
    pub rows: Vec<Row>,
}

/// A row as the CSV files hold it: the assertions summarised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CsvRow {
    pub index: usize,
    pub variant: String,
    pub settings: String,
    pub cost: f64,
    pub attainment: f64,
    pub goodput_rps: f64,
    pub ttft_p50_s: Option<f64>,
    pub ttft_p99_s: Option<f64>,
    pub tpot_p50_s: Option<f64>,
    pub e2e_p50_s: Option<f64>,
    pub e2e_p99_s: Option<f64>,
    pub replicas_peak: Count,
    pub replicas_average: f64,
    pub scale_events: Count,
    pub panic_seconds: f64,
    pub skipped_ticks: Count,
    pub requests: Count,
    pub failed: Count,
    pub dropped: Count,
    pub pareto: bool,
    pub assertions_passed: usize,
    pub assertions_total: usize,
    /// The failed assertions with their measured values, `;`-separated.
    pub failed_assertions: String,
}

impl Row {
    /// The row of variant `variant` (with `settings`) at `index`, from its summary.
    pub fn from_summary(index: usize, variant: &str, settings: String, s: &Summary) -> Row {
        let l = &s.latency;
        Row {
            index,
            variant: variant.to_string(),
            settings,
            cost: s.cost.total,
            attainment: s.slo.attainment,
            goodput_rps: s.slo.goodput_rps,
            ttft_p50_s: l.ttft.p50,
            ttft_p99_s: l.ttft.p99,
            tpot_p50_s: l.tpot.p50,
            e2e_p50_s: l.e2e.p50,
            e2e_p99_s: l.e2e.p99,
            replicas_peak: s.replicas.peak,
            replicas_average: s.replicas.average,
            scale_events: s.scaling.scale_events,
            panic_seconds: s.scaling.panic_seconds,
            skipped_ticks: s.scaling.skipped_ticks,
            requests: s.requests.total,
            failed: s.requests.failed,
            dropped: s.requests.dropped,
            pareto: false,
            assertions: s.assertions.clone(),
        }
    }

    pub fn passed(&self) -> bool {
        self.assertions.iter().all(|o| o.passed)
    }

    /// The failed assertions with their measured values.
    pub fn failed_assertions(&self) -> String {
        self.assertions
            .iter()
            .filter(|o| !o.passed)
            .map(|o| {
                format!(
                    "{} (measured {})",
                    o.expr,
                    o.value.map_or("missing".into(), |v| v.to_string())
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn csv_row(&self) -> CsvRow {
        CsvRow {
            index: self.index,
            variant: self.variant.clone(),
            settings: self.settings.clone(),
            cost: self.cost,
            attainment: self.attainment,
            goodput_rps: self.goodput_rps,
            ttft_p50_s: self.ttft_p50_s,
            ttft_p99_s: self.ttft_p99_s,
            tpot_p50_s: self.tpot_p50_s,
            e2e_p50_s: self.e2e_p50_s,
            e2e_p99_s: self.e2e_p99_s,
            replicas_peak: self.replicas_peak,
            replicas_average: self.replicas_average,
            scale_events: self.scale_events,
            panic_seconds: self.panic_seconds,
            skipped_ticks: self.skipped_ticks,
            requests: self.requests,
            failed: self.failed,
            dropped: self.dropped,
            pareto: self.pareto,
            assertions_passed: self.assertions.iter().filter(|o| o.passed).count(),
            assertions_total: self.assertions.len(),
            failed_assertions: self.failed_assertions(),
        }
    }
}
