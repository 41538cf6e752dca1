//! Evaluation of a compiled query at one instant, over the series store, with the semantics
//! of Prometheus 3's engine (`promql/engine.go`): which labels each step keeps, how groups
//! are formed and ordered, and the runtime errors it raises.

use std::collections::{BTreeMap, BTreeSet};

use promql_parser::label::METRIC_NAME;

use super::functions::{bucket_quantile, extrapolated_rate, instant_value, kahan_sum_inc};
use super::query::{
    AggregateOp, ArithOp, Grouping, Plan, RangeFunction, ScalarExpr, Selector, VectorExpr,
};
use super::store::SeriesStore;
use super::BUCKET_LABEL;
use crate::engine::cluster::QueryResult;
use crate::engine::policy::Labels;
use crate::sim::time::SimTime;

/// One element of an instant vector.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    labels: Labels,
    value: f64,
}

/// The errors Prometheus raises while evaluating, with its messages.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
enum EvalError {
    #[error("vector cannot contain metrics with the same labelset")]
    SameLabelset,
    #[error(
        "found duplicate series for the match group {group} on the right hand-side of the \
         operation: [{first}, {second}];many-to-many matching not allowed: matching labels \
         must be unique on one side"
    )]
    ManyToMany {
        group: String,
        first: String,
        second: String,
    },
    #[error("multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)")]
    ManyToOne,
}

pub(super) fn evaluate(plan: &Plan, store: &SeriesStore, now: SimTime) -> QueryResult {
    let ev = Evaluator { store, now };
    match plan {
        Plan::Scalar(e) => match ev.scalar(e) {
            Ok(v) => QueryResult::Scalar(v),
            Err(err) => QueryResult::Error(err.to_string()),
        },
        Plan::Vector(e) => match ev.vector(e) {
            Ok(v) => QueryResult::Vector(v.into_iter().map(|s| s.value).collect()),
            Err(err) => QueryResult::Error(err.to_string()),
        },
        Plan::Matrix => QueryResult::Unsupported("matrix"),
        Plan::String => QueryResult::Unsupported("string"),
    }
}

struct Evaluator<'a> {
    store: &'a SeriesStore,
    now: SimTime,
}

impl Evaluator<'_> {
    fn scalar(&self, e: &ScalarExpr) -> Result<f64, EvalError> {
        Ok(match e {
            ScalarExpr::Number(v) => *v,
            ScalarExpr::FromVector(v) => match self.vector(v)?.as_slice() {
                [only] => only.value,
                _ => f64::NAN,
            },
            ScalarExpr::Neg(e) => -self.scalar(e)?,
            ScalarExpr::Binary(op, l, r) => op.apply(self.scalar(l)?, self.scalar(r)?),
        })
    }

    fn vector(&self, e: &VectorExpr) -> Result<Vec<Sample>, EvalError> {
        match e {
            VectorExpr::Select(sel) => Ok(self.select(sel)),
            VectorExpr::Range {
                func,
                selector,
                range,
            } => {
                let out = self
                    .store
                    .select(selector.name.as_deref(), &selector.matchers)
                    .into_iter()
                    .filter_map(|(labels, series)| {
                        let points = series.range_points(self.now, *range);
                        let value = match func {
                            RangeFunction::Rate => {
                                extrapolated_rate(&points, self.now, *range, true, true)
                            }
                            RangeFunction::Increase => {
                                extrapolated_rate(&points, self.now, *range, true, false)
                            }
                            RangeFunction::Irate => instant_value(&points),
                        }?;
                        Some(Sample {
                            labels: drop_name(labels),
                            value,
                        })
                    })
                    .collect();
                unique(out)
            }
            VectorExpr::Aggregate { op, grouping, expr } => {
                Ok(aggregate(*op, grouping, self.vector(expr)?))
            }
            VectorExpr::HistogramQuantile { phi, expr } => {
                let q = self.scalar(phi)?;
                Ok(histogram_quantile(q, self.vector(expr)?))
            }
            VectorExpr::FromScalar(s) => Ok(vec![Sample {
                labels: Labels::new(),
                value: self.scalar(s)?,
            }]),
            VectorExpr::Neg(e) => unique(
                self.vector(e)?
                    .into_iter()
                    .map(|s| Sample {
                        labels: drop_name(s.labels),
                        value: -s.value,
                    })
                    .collect(),
            ),
            VectorExpr::WithScalar {
                op,
                vector,
                scalar,
                scalar_left,
            } => {
                let v = self.vector(vector)?;
                let x = self.scalar(scalar)?;
                unique(
                    v.into_iter()
                        .map(|s| Sample {
                            labels: drop_name(s.labels),
                            value: if *scalar_left {
                                op.apply(x, s.value)
                            } else {
                                op.apply(s.value, x)
                            },
                        })
                        .collect(),
                )
            }
            VectorExpr::Binary { op, lhs, rhs } => {
                vector_binop(*op, self.vector(lhs)?, self.vector(rhs)?)
            }
        }
    }

    fn select(&self, sel: &Selector) -> Vec<Sample> {
        self.store
            .select(sel.name.as_deref(), &sel.matchers)
            .into_iter()
            .filter_map(|(labels, series)| {
                series
                    .instant_value(self.now)
                    .map(|value| Sample { labels, value })
            })
            .collect()
    }
}

fn drop_name(mut labels: Labels) -> Labels {
    labels.remove(METRIC_NAME);
    labels
}

/// Functions and operators drop the metric name, which can leave two samples with the same
/// labels (`rate({__name__=~"a|b"}[1m])`); Prometheus refuses such a vector.
fn unique(v: Vec<Sample>) -> Result<Vec<Sample>, EvalError> {
    let mut seen = BTreeSet::new();
    if v.iter().all(|s| seen.insert(&s.labels)) {
        Ok(v)
    } else {
        Err(EvalError::SameLabelset)
    }
}

/// Splits `input` into groups by the labels `grouping` keeps, in order of first appearance
/// (as Prometheus orders the output), and folds each group.
fn aggregate(op: AggregateOp, grouping: &Grouping, input: Vec<Sample>) -> Vec<Sample> {
    let mut index: BTreeMap<Labels, usize> = BTreeMap::new();
    let mut groups: Vec<(Labels, Accumulator)> = Vec::new();
    for s in input {
        let key = group_labels(grouping, &s.labels);
        match index.get(&key) {
            Some(&i) => groups[i].1.add(op, s.value),
            None => {
                index.insert(key.clone(), groups.len());
                groups.push((key, Accumulator::new(s.value)));
            }
        }
    }
    groups
        .into_iter()
        .map(|(labels, acc)| Sample {
            labels,
            value: acc.finish(op),
        })
        .collect()
}

fn group_labels(grouping: &Grouping, labels: &Labels) -> Labels {
    let keep = |k: &String| match grouping {
        Grouping::By(names) => names.contains(k),
        Grouping::Without(names) => k != METRIC_NAME && !names.contains(k),
    };
    labels
        .iter()
        .filter(|(k, _)| keep(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The running state of one aggregation group (`groupedAggregation` in Prometheus).
struct Accumulator {
    /// Sum (compensated by `kahan_c`), minimum or maximum so far.
    value: f64,
    kahan_c: f64,
    count: f64,
}

impl Accumulator {
    fn new(first: f64) -> Self {
        Accumulator {
            value: first,
            kahan_c: 0.0,
            count: 1.0,
        }
    }

    fn add(&mut self, op: AggregateOp, f: f64) {
        self.count += 1.0;
        match op {
            AggregateOp::Sum | AggregateOp::Avg => {
                (self.value, self.kahan_c) = kahan_sum_inc(f, self.value, self.kahan_c);
            }
            // A NaN so far is replaced by any value, as in Prometheus.
            AggregateOp::Min if self.value > f || self.value.is_nan() => self.value = f,
            AggregateOp::Max if self.value < f || self.value.is_nan() => self.value = f,
            AggregateOp::Min | AggregateOp::Max | AggregateOp::Count => {}
        }
    }

    /// The group's result. `avg` is the compensated sum divided by the count, as Prometheus
    /// computes it while the sum stays finite; its switch to an incremental mean when the sum
    /// would overflow is not ported, since simulated metrics are nowhere near 1e308.
    fn finish(self, op: AggregateOp) -> f64 {
        match op {
            AggregateOp::Sum => self.value + self.kahan_c,
            AggregateOp::Avg => self.value / self.count + self.kahan_c / self.count,
            AggregateOp::Min | AggregateOp::Max => self.value,
            AggregateOp::Count => self.count,
        }
    }
}

/// `histogram_quantile(q, v)` over classic buckets: the samples of `v` grouped by their labels
/// without `le` (and the name), each group's `(le, value)` pairs fed to `BucketQuantile`.
/// A sample without a parsable `le` is skipped, as Prometheus does (with a warning).
fn histogram_quantile(q: f64, input: Vec<Sample>) -> Vec<Sample> {
    let mut index: BTreeMap<Labels, usize> = BTreeMap::new();
    let mut groups: Vec<(Labels, Vec<(f64, f64)>)> = Vec::new();
    for s in input {
        let Some(le) = s
            .labels
            .get(BUCKET_LABEL)
            .and_then(|v| v.parse::<f64>().ok())
        else {
            continue;
        };
        let mut key = drop_name(s.labels);
        key.remove(BUCKET_LABEL);
        match index.get(&key) {
            Some(&i) => groups[i].1.push((le, s.value)),
            None => {
                index.insert(key.clone(), groups.len());
                groups.push((key, vec![(le, s.value)]));
            }
        }
    }
    groups
        .into_iter()
        .map(|(labels, buckets)| Sample {
            labels,
            value: bucket_quantile(q, buckets),
        })
        .collect()
}

/// `lhs op rhs` with one-to-one matching on all labels but the metric name; the result keeps
/// the left side's labels without the name. Samples without a partner are dropped.
fn vector_binop(op: ArithOp, lhs: Vec<Sample>, rhs: Vec<Sample>) -> Result<Vec<Sample>, EvalError> {
    let mut right: BTreeMap<Labels, Sample> = BTreeMap::new();
    for s in rhs {
        let group = drop_name(s.labels.clone());
        if let Some(first) = right.get(&group) {
            return Err(EvalError::ManyToMany {
                group: format_labels(&group),
                first: format_labels(&s.labels),
                second: format_labels(&first.labels),
            });
        }
        right.insert(group, s);
    }
    let mut matched = BTreeSet::new();
    let mut out = Vec::new();
    for s in lhs {
        let group = drop_name(s.labels);
        let Some(r) = right.get(&group) else {
            continue;
        };
        if !matched.insert(group.clone()) {
            return Err(EvalError::ManyToOne);
        }
        out.push(Sample {
            value: op.apply(s.value, r.value),
            labels: group,
        });
    }
    Ok(out)
}

/// Labels as Prometheus prints them in messages: `{a="1", b="2"}`.
fn format_labels(labels: &Labels) -> String {
    let pairs: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{{{}}}", pairs.join(", "))
}
