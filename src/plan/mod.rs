//! `kthena-sim plan`: the cheapest configuration of a scenario that meets every one of its
//! assertions. The scenario's `plan:` section names the free dimensions — settings, as for
//! `--set`, each with its candidate values — and a budget; [`search`] explores them with
//! bisection on the dimensions marked monotone and coordinate descent over all of them.
//!
//! This module turns the raw section into a validated [`Plan`]; [`search`] is the algorithm
//! (pure: it sees configurations and verdicts, never files); [`report`] writes `plan.md`.

pub mod bisection;
pub mod report;
pub mod search;

use yaml_serde::Value as Yaml;

use crate::diagnostic::{Diagnostics, FieldPath};
use crate::scenario::raw::{RawDimension, RawPlan, RawRange};
use crate::scenario::setting::Setting;

pub use crate::scenario::raw::RawMonotone as Monotone;

/// Configurations evaluated when the plan gives no `max_runs`.
pub const DEFAULT_MAX_RUNS: usize = 64;
/// The most values one dimension may have: a range that expands further is a typo more
/// likely than a plan (each value may cost a simulation).
pub const MAX_VALUES: usize = 1000;

impl Monotone {
    /// The hint as written in the scenario.
    pub fn as_str(self) -> &'static str {
        match self {
            Monotone::CostIncreasing => "cost_increasing",
            Monotone::CostDecreasing => "cost_decreasing",
        }
    }
}

/// One free setting and its candidate values.
#[derive(Debug, Clone, PartialEq)]
pub struct Dimension {
    pub key: String,
    /// The candidate values as settings, in order (increasing numbers when monotone).
    pub values: Vec<Setting>,
    pub monotone: Option<Monotone>,
    /// Index in `values` of the scenario's own value, when it is one of them.
    pub current: Option<usize>,
    /// The scenario's own value as written (`None`: absent, a default applies).
    pub scenario_value: Option<String>,
}

impl Dimension {
    /// Position of value `index` from the cheapest (0) to the most generous: the order in
    /// which meeting the assertions is monotone.
    pub fn position(&self, index: usize) -> usize {
        match self.monotone {
            Some(Monotone::CostDecreasing) => self.values.len() - 1 - index,
            _ => index,
        }
    }

    /// The value index at cost-order `position` (the inverse of [`Dimension::position`]).
    pub fn index_at(&self, position: usize) -> usize {
        self.position(position)
    }

    /// The value text at `index`, or the scenario's own for `None`.
    pub fn value_text(&self, index: Option<usize>) -> String {
        match index {
            Some(i) => self.values[i].text.clone(),
            None => self
                .scenario_value
                .clone()
                .unwrap_or_else(|| "default".into()),
        }
    }

    /// Records the scenario's own value (`None` when the field is absent) and which of the
    /// candidate values equals it.
    pub fn locate(&mut self, value: Option<&Yaml>) {
        self.scenario_value = value.map(yaml_text);
        self.current = value.and_then(|v| self.values.iter().position(|s| same(&s.value, v)));
    }
}

/// A value as one line of text (a YAML flow value; scalars as written).
fn yaml_text(v: &Yaml) -> String {
    match v {
        Yaml::String(s) => s.clone(),
        other => serde_json::to_value(other)
            .map(|j| j.to_string())
            .unwrap_or_else(|_| format!("{other:?}")),
    }
}

/// Equal values, numbers compared by value (`24` equals `24.0`).
fn same(a: &Yaml, b: &Yaml) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// A validated `plan:` section.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub dimensions: Vec<Dimension>,
    pub max_runs: usize,
}

/// The name of the candidate evaluated `index`-th (`c00` is the scenario as written).
pub fn candidate_name(index: usize) -> String {
    format!("c{index:02}")
}

impl Plan {
    /// Validates the scenario's `plan:` section against its `assertions`; every problem with
    /// its field path.
    pub fn from_raw(plan: Option<&RawPlan>, assertions: &[String]) -> Result<Plan, Diagnostics> {
        let mut problems = Diagnostics::new();
        if assertions.is_empty() {
            problems.error(
                "assertions",
                "plan needs at least one assertion to meet, e.g. \"slo.attainment >= 0.95\"",
            );
        }
        let Some(raw) = plan else {
            problems.error(
                "plan",
                "missing: list the free dimensions, e.g. `plan: {dimensions: [{key: binding.maxReplicas, range: {min: 2, max: 12, step: 1}, monotone: cost_increasing}]}`",
            );
            return Err(problems);
        };
        let at = FieldPath::new("plan");
        if raw.max_runs == Some(0) {
            problems.error(at.child("max_runs"), "must be at least 1");
        }
        if raw.dimensions.is_empty() {
            problems.error(at.child("dimensions"), "must list at least one dimension");
        }
        let mut dimensions = Vec::new();
        for (i, d) in raw.dimensions.iter().enumerate() {
            let path = at.child("dimensions").index(i);
            if let Some(j) = raw.dimensions[..i].iter().position(|e| e.key == d.key) {
                problems.error(
                    path.child("key"),
                    format!("{:?} is already plan.dimensions[{j}]", d.key),
                );
            }
            if let Some(dim) = dimension(d, &path, &mut problems) {
                dimensions.push(dim);
            }
        }
        if problems.has_errors() {
            return Err(problems);
        }
        Ok(Plan {
            dimensions,
            max_runs: raw.max_runs.unwrap_or(DEFAULT_MAX_RUNS),
        })
    }
}

/// One dimension, or `None` with its problems added.
fn dimension(d: &RawDimension, path: &FieldPath, problems: &mut Diagnostics) -> Option<Dimension> {
    let before = problems.len();
    if let Err(e) = format!("{}=0", d.key).parse::<Setting>() {
        problems.error(path.child("key"), e.to_string());
    }
    let (values, values_path) = match (&d.values, &d.range) {
        (Some(v), None) => (v.clone(), path.child("values")),
        (None, Some(r)) => {
            let at = path.child("range");
            (range_values(r, &at, problems)?, at)
        }
        (Some(_), Some(_)) => {
            problems.error(path, "give `values` or `range`, not both");
            return None;
        }
        (None, None) => {
            problems.error(
                path,
                "give the candidate values: `values: [...]` or `range: {min, max, step}`",
            );
            return None;
        }
    };
    if values.is_empty() {
        problems.error(&values_path, "must list at least one value");
    }
    if values.len() > MAX_VALUES {
        problems.error(
            &values_path,
            format!("{} values; at most {MAX_VALUES}", values.len()),
        );
    }
    for (j, v) in values.iter().enumerate() {
        if let Some(k) = values[..j].iter().position(|w| w == v) {
            problems.error(values_path.index(j), format!("{v} repeats [{k}]"));
        }
    }
    if d.monotone.is_some() {
        let numbers: Vec<Option<f64>> = values.iter().map(ordinal).collect();
        for (j, n) in numbers.iter().enumerate() {
            match (n, j.checked_sub(1).and_then(|k| numbers[k])) {
                (None, _) => problems.error(
                    values_path.index(j),
                    format!(
                        "{} is not a number or a duration; a monotone dimension needs them",
                        values[j]
                    ),
                ),
                (Some(x), Some(prev)) if *x <= prev => problems.error(
                    values_path.index(j),
                    format!("{x} after {prev}; a monotone dimension's values must increase"),
                ),
                _ => {}
            }
        }
    }
    let settings: Vec<Setting> = values
        .iter()
        .enumerate()
        .filter_map(|(j, v)| {
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            format!("{}={text}", d.key)
                .parse::<Setting>()
                .map_err(|e| problems.error(values_path.index(j), e.to_string()))
                .ok()
        })
        .collect();
    if problems.len() > before {
        return None;
    }
    Some(Dimension {
        key: d.key.clone(),
        values: settings,
        monotone: d.monotone,
        current: None,
        scenario_value: None,
    })
}

/// A candidate value as a number to order a monotone dimension by: a number, or a Go
/// duration (`90s`, `5m`) in seconds.
fn ordinal(v: &serde_json::Value) -> Option<f64> {
    v.as_f64().or_else(|| {
        let d = crate::engine::policy::Duration::parse(v.as_str()?).ok()?;
        Some(d.as_nanos() as f64 / 1e9)
    })
}

/// The values `min, min + step, …, max` (integers when all three are integers; decimals
/// rounded to 9 places so that `0.1` steps print as written), or `None` with the range's
/// problem added.
fn range_values(
    r: &RawRange,
    path: &FieldPath,
    problems: &mut Diagnostics,
) -> Option<Vec<serde_json::Value>> {
    if let (Some(min), Some(max), Some(step)) = (r.min.as_i64(), r.max.as_i64(), r.step.as_i64()) {
        check_range(min as f64, max as f64, step as f64, path, problems)?;
        let n = (max - min) / step;
        return Some((0..=n).map(|i| (min + i * step).into()).collect());
    }
    let (min, max, step) = (as_f64(&r.min), as_f64(&r.max), as_f64(&r.step));
    let n = check_range(min, max, step, path, problems)?;
    let mut values = Vec::new();
    for i in 0..=n {
        let x = ((min + i as f64 * step) * 1e9).round() / 1e9;
        match serde_json::Number::from_f64(x) {
            Some(n) => values.push(serde_json::Value::Number(n)),
            None => {
                problems.error(path, format!("{x} is not a finite number"));
                return None;
            }
        }
    }
    Some(values)
}

fn as_f64(n: &serde_json::Number) -> f64 {
    n.as_f64().unwrap_or(f64::NAN)
}

/// Checks a range and gives its number of steps, or `None` with its problem added.
fn check_range(
    min: f64,
    max: f64,
    step: f64,
    path: &FieldPath,
    problems: &mut Diagnostics,
) -> Option<usize> {
    if !(step > 0.0 && step.is_finite()) {
        problems.error(path.child("step"), "must be greater than 0");
        return None;
    }
    if !(max >= min && min.is_finite() && max.is_finite()) {
        problems.error(path.child("max"), format!("must be at least min ({min})"));
        return None;
    }
    // A tolerance so that `max` is included despite rounding (0.1 + 0.2 …).
    let steps = ((max - min) / step + 1e-9).floor();
    if steps + 1.0 > MAX_VALUES as f64 {
        problems.error(
            path,
            format!(
                "{:.3e} values; at most {MAX_VALUES} (a larger step?)",
                steps + 1.0
            ),
        );
        return None;
    }
    Some(steps as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(yaml: &str) -> RawPlan {
        yaml_serde::with::singleton_map_recursive::deserialize(yaml_serde::Deserializer::from_str(
            yaml,
        ))
        .unwrap()
    }

    fn plan(yaml: &str) -> Result<Plan, Vec<String>> {
        Plan::from_raw(Some(&raw(yaml)), &["slo.attainment >= 0.9".to_string()])
            .map_err(|d| d.iter().map(ToString::to_string).collect())
    }

    fn texts(d: &Dimension) -> Vec<&str> {
        d.values.iter().map(|s| s.text.as_str()).collect()
    }

    #[test]
    fn ranges_expand_to_integers_or_decimals() {
        let p = plan(
            "dimensions:\n- {key: binding.maxReplicas, range: {min: 2, max: 9, step: 3}, monotone: cost_increasing}\n- {key: 'policy.metrics[0].targetValue', range: {min: 0.1, max: 0.3, step: 0.1}, monotone: cost_decreasing}\n- {key: router.policy, values: [least-request, round-robin]}\nmax_runs: 10\n",
        )
        .unwrap();
        assert_eq!(p.max_runs, 10);
        assert_eq!(texts(&p.dimensions[0]), ["2", "5", "8"]);
        assert_eq!(texts(&p.dimensions[1]), ["0.1", "0.2", "0.3"]);
        assert_eq!(p.dimensions[1].values[1].value.as_f64(), Some(0.2));
        assert_eq!(texts(&p.dimensions[2]), ["least-request", "round-robin"]);
        // Cost order: the largest target value is the cheapest.
        assert_eq!(p.dimensions[1].index_at(0), 2);
        assert_eq!(p.dimensions[0].index_at(0), 0);
    }

    #[test]
    fn problems_name_their_fields() {
        let e = plan(
            "dimensions:\n- {key: a, range: {min: 1, max: 4, step: 0}}\n- {key: b, values: [3, 2], monotone: cost_increasing}\n- {key: c}\n- {key: 'd[', values: [1]}\n- {key: a, values: [x, x]}\nmax_runs: 0\n",
        )
        .unwrap_err();
        let want = [
            "plan.max_runs: must be at least 1",
            "plan.dimensions[0].range.step: must be greater than 0",
            "plan.dimensions[1].values[1]: 2 after 3",
            "plan.dimensions[2]: give the candidate values",
            "plan.dimensions[3].key: \"d[=0\": malformed key",
            "plan.dimensions[4].key: \"a\" is already plan.dimensions[0]",
            "plan.dimensions[4].values[1]: \"x\" repeats [0]",
        ];
        for w in want {
            assert!(e.iter().any(|p| p.starts_with(w)), "{w} in {e:#?}");
        }
        let none: Vec<String> = Plan::from_raw(None, &[])
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(none[0].starts_with("assertions: plan needs at least one assertion"));
        assert!(none[1].starts_with("plan: missing"));
    }

    #[test]
    fn the_scenario_value_is_located_among_the_candidates() {
        let mut p =
            plan("dimensions:\n- {key: binding.maxReplicas, values: [4, 8, 12]}\n").unwrap();
        let d = &mut p.dimensions[0];
        d.locate(Some(&Yaml::from(8.0)));
        assert_eq!((d.current, d.value_text(None).as_str()), (Some(1), "8.0"));
        d.locate(None);
        assert_eq!((d.current, d.value_text(None).as_str()), (None, "default"));
    }
}
