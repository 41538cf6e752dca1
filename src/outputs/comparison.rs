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
    /// The engine version the variant ran.
    #[serde(default)]
    pub engine: String,
    /// The autoscalers the variant ran (`kthena`, `hpa`, `keda`, `kpa`, `+`-joined).
    #[serde(default)]
    pub autoscaler: String,
    /// Replications behind the figures (their means when more than one).
    #[serde(default = "one")]
    pub replications: usize,
    /// The 95 % intervals of the mean cost and attainment, with replications.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_ci95: Option<(f64, f64)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attainment_ci95: Option<(f64, f64)>,
    /// Against the first variant (the baseline), run on the same replications: the paired
    /// difference of each compared metric. Empty for the baseline and in sweeps.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versus_baseline: Vec<Difference>,
}

fn one() -> usize {
    1
}

/// The paired difference of one metric between a variant and the baseline over their
/// common replications.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Difference {
    /// The metric, as assertions name it (`cost.total`).
    pub metric: String,
    /// `%` of the baseline's mean, or `pp` (percentage points) for a fraction.
    pub unit: String,
    /// The mean difference (variant − baseline) in `unit`, and its 95 % interval (`None`
    /// with one replication).
    pub mean: f64,
    pub ci95_low: Option<f64>,
    pub ci95_high: Option<f64>,
    /// Whether the interval excludes 0.
    pub significant: bool,
    /// In words: "cheaper by 3.1 % (2.2 – 4.0 %)", "no significant difference in cost".
    pub verdict: String,
}

/// `comparison.json` and `sweep.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub title: String,
    /// A sweep's size: every combination of its grid, whichever shard ran which.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub combinations: Option<usize>,
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
    pub engine: String,
    pub autoscaler: String,
    pub replications: usize,
    pub cost_ci95_low: Option<f64>,
    pub cost_ci95_high: Option<f64>,
    pub attainment_ci95_low: Option<f64>,
    pub attainment_ci95_high: Option<f64>,
    /// Against the baseline: the cost difference (% of the baseline), its interval and
    /// verdict; the same for attainment (percentage points) and TTFT p99 (%).
    pub cost_diff_pct: Option<f64>,
    pub cost_diff_ci95_low_pct: Option<f64>,
    pub cost_diff_ci95_high_pct: Option<f64>,
    pub cost_verdict: String,
    pub attainment_diff_pp: Option<f64>,
    pub attainment_diff_ci95_low_pp: Option<f64>,
    pub attainment_diff_ci95_high_pp: Option<f64>,
    pub attainment_verdict: String,
    pub ttft_p99_diff_pct: Option<f64>,
    pub ttft_p99_diff_ci95_low_pct: Option<f64>,
    pub ttft_p99_diff_ci95_high_pct: Option<f64>,
    pub ttft_p99_verdict: String,
}

/// The 95 % interval of `metric`'s mean, with replications.
fn ci(s: &Summary, metric: &str) -> Option<(f64, f64)> {
    let e = s.replications.as_ref()?.stats.get(metric)?;
    (e.n > 1).then_some((e.ci95_low, e.ci95_high))
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
            engine: s.engine.clone(),
            autoscaler: s.autoscaler.clone(),
            replications: s.replications.as_ref().map_or(1, |r| r.count),
            cost_ci95: ci(s, "cost.total"),
            attainment_ci95: ci(s, "slo.attainment"),
            versus_baseline: Vec::new(),
        }
    }

    /// The replications in which every plain assertion held (an aggregate assertion that
    /// fails fails them all; with one replication, 0 or 1).
    pub fn replications_passed(&self) -> usize {
        if self
            .assertions
            .iter()
            .any(|o| !o.passed && o.failed_replications.is_empty())
        {
            return 0;
        }
        let mut failed: Vec<usize> = self
            .assertions
            .iter()
            .flat_map(|o| o.failed_replications.iter().copied())
            .collect();
        failed.sort_unstable();
        failed.dedup();
        self.replications.saturating_sub(failed.len())
    }

    /// The difference of `metric` against the baseline, if computed.
    pub fn versus(&self, metric: &str) -> Option<&Difference> {
        self.versus_baseline.iter().find(|d| d.metric == metric)
    }

    pub fn passed(&self) -> bool {
        self.assertions.iter().all(|o| o.passed)
    }

    /// The failed assertions with their measured values (and, over replications, where
    /// they failed).
    pub fn failed_assertions(&self) -> String {
        self.assertions
            .iter()
            .filter(|o| !o.passed)
            .map(|o| {
                let measured = o.value.map_or("missing".into(), |v| v.to_string());
                match o.failed_replications.as_slice() {
                    [] => format!("{} (measured {measured})", o.expr),
                    failed => format!(
                        "{} (mean {measured}; failed in replications {})",
                        o.expr,
                        failed
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn csv_row(&self) -> CsvRow {
        let diff = |metric: &str| self.versus(metric);
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
            engine: self.engine.clone(),
            autoscaler: self.autoscaler.clone(),
            replications: self.replications,
            cost_ci95_low: self.cost_ci95.map(|c| c.0),
            cost_ci95_high: self.cost_ci95.map(|c| c.1),
            attainment_ci95_low: self.attainment_ci95.map(|c| c.0),
            attainment_ci95_high: self.attainment_ci95.map(|c| c.1),
            cost_diff_pct: diff("cost.total").map(|d| d.mean),
            cost_diff_ci95_low_pct: diff("cost.total").and_then(|d| d.ci95_low),
            cost_diff_ci95_high_pct: diff("cost.total").and_then(|d| d.ci95_high),
            cost_verdict: diff("cost.total").map_or(String::new(), |d| d.verdict.clone()),
            attainment_diff_pp: diff("slo.attainment").map(|d| d.mean),
            attainment_diff_ci95_low_pp: diff("slo.attainment").and_then(|d| d.ci95_low),
            attainment_diff_ci95_high_pp: diff("slo.attainment").and_then(|d| d.ci95_high),
            attainment_verdict: diff("slo.attainment").map_or(String::new(), |d| d.verdict.clone()),
            ttft_p99_diff_pct: diff("latency.ttft.p99").map(|d| d.mean),
            ttft_p99_diff_ci95_low_pct: diff("latency.ttft.p99").and_then(|d| d.ci95_low),
            ttft_p99_diff_ci95_high_pct: diff("latency.ttft.p99").and_then(|d| d.ci95_high),
            ttft_p99_verdict: diff("latency.ttft.p99").map_or(String::new(), |d| d.verdict.clone()),
        }
    }
}
