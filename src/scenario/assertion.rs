//! Assertions on a run's results: `PATH OP NUMBER`, where PATH is a dotted key of
//! `summary.json` (e.g. `slo.attainment`, `latency.ttft.p99`, `cost.by_serving.chat`).

use std::fmt;

use crate::outputs::summary::{AssertionOutcome, Summary};

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

/// A parsed assertion.
#[derive(Debug, Clone, PartialEq)]
pub struct Assertion {
    pub expr: String,
    pub path: Vec<String>,
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
}

impl Assertion {
    pub fn parse(expr: &str) -> Result<Self, AssertionError> {
        let (at, op, len) = Op::ALL
            .iter()
            .filter_map(|(s, op)| expr.find(s).map(|i| (i, *op, s.len())))
            .min_by_key(|&(i, _, len)| (i, std::cmp::Reverse(len)))
            .ok_or_else(|| AssertionError::NoOperator(expr.to_string()))?;
        let path = expr[..at].trim();
        let number = expr[at + len..].trim();
        if path.is_empty() || path.split('.').any(str::is_empty) {
            return Err(AssertionError::NoMetric(expr.to_string()));
        }
        let value: f64 = number.parse().map_err(|_| AssertionError::NotANumber {
            expr: expr.to_string(),
            number: number.to_string(),
        })?;
        Ok(Assertion {
            expr: expr.trim().to_string(),
            path: path.split('.').map(str::to_string).collect(),
            op,
            value,
        })
    }

    pub fn check(&self, summary: &Summary) -> AssertionOutcome {
        let value = summary.metric(&self.path);
        AssertionOutcome {
            expr: self.expr.clone(),
            value,
            passed: value.is_some_and(|v| self.op.holds(v, self.value)),
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

    #[test]
    fn parses_and_checks() {
        let a = Assertion::parse("slo.attainment >= 0.95").unwrap();
        assert_eq!(a.path, vec!["slo", "attainment"]);
        assert_eq!(a.op, Op::Ge);
        let mut s = Summary::default();
        s.slo.attainment = 0.97;
        assert!(a.check(&s).passed);
        assert!(
            !Assertion::parse("slo.attainment > 0.98")
                .unwrap()
                .check(&s)
                .passed
        );
        assert_eq!(Assertion::parse("cost.total<=120").unwrap().op, Op::Le);
        assert_eq!(Assertion::parse("x != 1").unwrap().op, Op::Ne);
    }

    #[test]
    fn refuses_malformed_expressions() {
        for e in ["slo.attainment", ">= 3", "a.b >= lots", "a..b < 1"] {
            assert!(Assertion::parse(e).is_err(), "{e}");
        }
    }

    #[test]
    fn a_missing_metric_fails() {
        let a = Assertion::parse("latency.ttft.p99 <= 1").unwrap();
        let o = a.check(&Summary::default());
        assert_eq!((o.value, o.passed), (None, false));
    }
}
