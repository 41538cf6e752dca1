//! `plan.json`: the searched dimensions, the winner (or the closest candidate when none
//! meets every assertion), the runner-ups, the search's steps and every candidate evaluated,
//! with the table rows of the candidates that ran.

use serde::{Deserialize, Serialize};

use super::comparison::Row;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanFile {
    pub title: String,
    pub max_runs: usize,
    /// The search stopped at `max_runs` before it was done.
    pub budget_exhausted: bool,
    pub dimensions: Vec<PlanDimension>,
    /// The scenario as written.
    pub start: Option<PlanCandidate>,
    pub winner: Option<PlanCandidate>,
    /// Without a winner: the candidate that came closest.
    pub closest: Option<PlanCandidate>,
    pub runner_ups: Vec<PlanCandidate>,
    /// The search step by step, in words.
    pub steps: Vec<String>,
    pub candidates: Vec<PlanCandidate>,
    pub rows: Vec<Row>,
    /// What the measurements say about the search itself: a winner at the edge of a searched
    /// range, a monotone hint the measurements contradict.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// One free setting of the search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanDimension {
    pub key: String,
    /// `cost_increasing`, `cost_decreasing`, or absent.
    pub monotone: Option<String>,
    pub values: Vec<String>,
    /// The value the scenario has, if it is one of them.
    pub scenario_value: Option<String>,
}

/// One configuration the search evaluated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanCandidate {
    pub candidate: String,
    /// Why the search tried it.
    pub purpose: String,
    pub settings: Vec<String>,
    /// `meets`, `fails` or `refused`.
    pub verdict: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attainment: Option<f64>,
    /// Why the scenario refused it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Over replications: in how many of them every assertion held, of how many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replications_passed: Option<(usize, usize)>,
}
