//! Assertions on a run's results: `METRIC OP NUMBER`, where METRIC is a dotted key of
//! `summary.json` (e.g. `slo.attainment`, `latency.ttft.p99`, `cost.by_serving.chat`), or an
//! aggregate of it over the replications: `mean(...)`, `p50(...)`, `min(...)`, `max(...)`,
//! `sd(...)`, `ci95_low(...)`, `ci95_high(...)`.
//!
//! A plain assertion must hold in every replication (a CI gate should not pass on the lucky
//! seed); an aggregate one is checked once, on the aggregate.

use std::fmt;

use crate::outputs::round6;
use crate::outputs::summary::{AssertionOutcome, Summary};
use crate::stats::{median, Estimate};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Le,
    Lt,
    Ge,
    Gt,
    Eq,
    Ne,
}

impl Op {
    const ALL: [(&'static str, Op); 6] = [
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("==", Op::Eq),
        ("!=", Op::Ne),
        ("<", Op::Lt),
        (">", Op::Gt),
    ];

    fn holds(self, a: f64, b: f64) -> bool {
        match self {
            Op::Le => a <= b,
            Op::Lt => a < b,
            Op::Ge => a >= b,
            Op::Gt => a > b,
            Op::Eq => a == b,
            Op::Ne => a != b,
        }
    }
}

/// An aggregate over the replications' values of a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    Mean,
    /// The median.
    P50,
    Min,
    Max,
    /// The sample standard deviation.
    Sd,
    /// The bounds of the mean's 95 % confidence interval (Student t).
    Ci95Low,
    Ci95High,
}

impl Aggregate {
    pub const NAMES: [(&'static str, Aggregate); 7] = [
        ("mean", Aggregate::Mean),
        ("p50", Aggregate::P50),
        ("min", Aggregate::Min),
        ("max", Aggregate::Max),
        ("sd", Aggregate::Sd),
        ("ci95_low", Aggregate::Ci95Low),
        ("ci95_high", Aggregate::Ci95High),
    ];

    fn of(self, values: &[f64]) -> Option<f64> {
        let e = Estimate::of(values)?;
        Some(match self {
            Aggregate::Mean => e.mean,
            Aggregate::P50 => median(values)?,
            Aggregate::Min => e.min,
            Aggregate::Max => e.max,
            Aggregate::Sd => e.sd,
            Aggregate::Ci95Low => e.ci95_low,
            Aggregate::Ci95High => e.ci95_high,
        })
    }
}

/// A parsed assertion.
#[derive(Debug, Clone, PartialEq)]
pub struct Assertion {
    pub expr: String,
    /// The metric's path in `summary.json`.
    pub path: Vec<String>,
    /// `None`: must hold in every replication.
    pub aggregate: Option<Aggregate>,
    pub op: Op,
    pub value: f64,
}

/// An assertion that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssertionError {
    #[error("{0:?}: expected `METRIC OP NUMBER` with OP one of <=, <, >=, >, ==, !=")]
    NoOperator(String),
    #[error("{0:?}: missing or malformed metric name before the operator")]
    NoMetric(String),
    #[error("{expr:?}: {number:?} is not a number")]
    NotANumber { expr: String, number: String },
    #[error("{expr:?}: unknown aggregate `{name}` (mean, p50, min, max, sd, ci95_low, ci95_high)")]
    UnknownAggregate { expr: String, name: String },
}

impl Assertion {
    pub fn parse(expr: &str) -> Result<Self, AssertionError> {
        let (at, op, len) = Op::ALL
            .iter()
            .filter_map(|(s, op)| expr.find(s).map(|i| (i, *op, s.len())))
            .min_by_key(|&(i, _, len)| (i, std::cmp::Reverse(len)))
            .ok_or_else(|| AssertionError::NoOperator(expr.to_string()))?;
        let metric = expr[..at].trim();
        let number = expr[at + len..].trim();
        let (aggregate, path) = match metric.strip_suffix(')').and_then(|m| m.split_once('(')) {
            Some((name, inner)) => {
                let name = name.trim();
                let aggregate = Aggregate::NAMES
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, a)| *a)
                    .ok_or_else(|| AssertionError::UnknownAggregate {
                        expr: expr.to_string(),
                        name: name.to_string(),
                    })?;
                (Some(aggregate), inner.trim())
            }
            None => (None, metric),
        };
        if path.is_empty()
            || path
                .split('.')
                .any(|p| p.trim().is_empty() || p.contains(['(', ')', ' ']))
        {
            return Err(AssertionError::NoMetric(expr.to_string()));
        }
        let value: f64 = number.parse().map_err(|_| AssertionError::NotANumber {
            expr: expr.to_string(),
            number: number.to_string(),
        })?;
        Ok(Assertion {
            expr: expr.trim().to_string(),
            path: path.split('.').map(str::to_string).collect(),
            aggregate,
            op,
            value,
        })
    }

    /// The metric's dotted name.
    pub fn metric(&self) -> String {
        self.path.join(".")
    }

    /// The verdict on one run.
    pub fn check(&self, summary: &Summary) -> AssertionOutcome {
        self.check_replications(std::slice::from_ref(summary))
    }

    /// The verdict on the replications of a run: a plain assertion on each (its value is
    /// the mean), an aggregate one on the aggregate.
    pub fn check_replications(&self, runs: &[Summary]) -> AssertionOutcome {
        let values: Vec<Option<f64>> = runs.iter().map(|s| s.metric(&self.path)).collect();
        let present: Vec<f64> = values.iter().flatten().copied().collect();
        match self.aggregate {
            Some(a) => {
                let value = if present.len() == values.len() {
                    a.of(&present).map(round6)
                } else {
                    None
                };
                AssertionOutcome {
                    expr: self.expr.clone(),
                    value,
                    passed: value.is_some_and(|v| self.op.holds(v, self.value)),
                    failed_replications: Vec::new(),
                }
            }
            None => {
                let failed: Vec<usize> = values
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| !v.is_some_and(|v| self.op.holds(v, self.value)))
                    .map(|(r, _)| r + 1)
                    .collect();
                let value = if present.len() == values.len() {
                    Aggregate::Mean.of(&present).map(round6)
                } else {
                    None
                };
                AssertionOutcome {
                    expr: self.expr.clone(),
                    value,
                    passed: failed.is_empty() && !runs.is_empty(),
                    failed_replications: if runs.len() > 1 { failed } else { Vec::new() },
                }
            }
        }
    }
}

impl fmt::Display for Assertion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.expr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_attainment(a: f64) -> Summary {
        let mut s = Summary::default();
        s.slo.attainment = a;
        s
    }

    #[test]
    fn parses_and_checks() {
        let a = Assertion::parse("slo.attainment >= 0.95").unwrap();
        assert_eq!(a.path, vec!["slo", "attainment"]);
        assert_eq!((a.op, a.aggregate), (Op::Ge, None));
        let s = with_attainment(0.97);
        assert!(a.check(&s).passed);
        assert!(
            !Assertion::parse("slo.attainment > 0.98")
                .unwrap()
                .check(&s)
                .passed
        );
        assert_eq!(Assertion::parse("cost.total<=120").unwrap().op, Op::Le);
        assert_eq!(Assertion::parse("x != 1").unwrap().op, Op::Ne);
        let m = Assertion::parse("mean(slo.attainment) >= 0.99").unwrap();
        assert_eq!(
            (m.metric(), m.aggregate),
            ("slo.attainment".into(), Some(Aggregate::Mean))
        );
        assert_eq!(
            Assertion::parse(" ci95_low( latency.ttft.p99 ) < 2")
                .unwrap()
                .aggregate,
            Some(Aggregate::Ci95Low)
        );
    }

    #[test]
    fn refuses_malformed_expressions() {
        for e in [
            "slo.attainment",
            ">= 3",
            "a.b >= lots",
            "a..b < 1",
            "avg(a.b) > 1",
            "mean() > 1",
        ] {
            assert!(Assertion::parse(e).is_err(), "{e}");
        }
    }

    #[test]
    fn a_missing_metric_fails() {
        let a = Assertion::parse("latency.ttft.p99 <= 1").unwrap();
        let o = a.check(&Summary::default());
        assert_eq!((o.value, o.passed), (None, false));
    }

    #[test]
    fn a_plain_assertion_must_hold_in_every_replication() {
        let runs: Vec<Summary> = [0.995, 0.987, 0.999, 0.988]
            .into_iter()
            .map(with_attainment)
            .collect();
        let plain = Assertion::parse("slo.attainment >= 0.99").unwrap();
        let o = plain.check_replications(&runs);
        assert!(!o.passed);
        assert_eq!(o.failed_replications, [2, 4]);
        assert_eq!(o.value, Some(0.99225));
        let mean = Assertion::parse("mean(slo.attainment) >= 0.99").unwrap();
        assert!(mean.check_replications(&runs).passed);
        assert!(
            !Assertion::parse("min(slo.attainment) >= 0.99")
                .unwrap()
                .check_replications(&runs)
                .passed
        );
        let p50 = Assertion::parse("p50(slo.attainment) > 0.99").unwrap();
        assert_eq!(p50.check_replications(&runs).value, Some(0.9915));
        let low = Assertion::parse("ci95_low(slo.attainment) >= 0.99").unwrap();
        assert!(
            !low.check_replications(&runs).passed,
            "the interval reaches below"
        );
    }
}
