//! PromQL text to a typed evaluation plan. Parsing (and Prometheus' own type checks) are
//! `promql-parser`'s; this file only decides which constructs the simulator evaluates, and
//! names the first one it does not, so that a scenario fails at load time rather than at the
//! first tick.

use promql_parser::label::{MatchOp, Matcher, METRIC_NAME};
use promql_parser::parser::token::{
    TokenType, T_ADD, T_AVG, T_COUNT, T_DIV, T_MAX, T_MIN, T_MOD, T_MUL, T_POW, T_SUB, T_SUM,
};
use promql_parser::parser::{
    self, AggregateExpr, BinaryExpr, Call, Expr, LabelModifier, VectorMatchCardinality,
    VectorSelector,
};
use std::collections::BTreeSet;

use super::eval;
use super::store::SeriesStore;
use crate::engine::cluster::QueryResult;
use crate::sim::time::{SimDuration, SimTime};

/// Why a query cannot be evaluated by the simulator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnsupportedQuery {
    /// The text is not valid PromQL (syntax or type error), with the parser's message.
    #[error("invalid PromQL: {0}")]
    Invalid(String),
    /// Valid PromQL using a construct the simulator does not evaluate, named.
    #[error("unsupported PromQL: {0}")]
    Construct(String),
}

fn unsupported<T>(construct: impl Into<String>) -> Result<T, UnsupportedQuery> {
    Err(UnsupportedQuery::Construct(construct.into()))
}

/// A parsed PromQL query, ready to be evaluated as an instant query.
#[derive(Debug, Clone)]
pub struct Query {
    plan: Plan,
    max_range: SimDuration,
    /// The metric names its selectors fix; `None` when one selects by labels only.
    names: Option<BTreeSet<String>>,
}

impl Query {
    /// Parses `text` and checks that every construct in it is supported.
    pub fn parse(text: &str) -> Result<Query, UnsupportedQuery> {
        let expr = parser::parse(text).map_err(UnsupportedQuery::Invalid)?;
        let mut compiler = Compiler {
            max_range: SimDuration::ZERO,
            names: Some(BTreeSet::new()),
        };
        let plan = match compiler.expr(&expr)? {
            Typed::Scalar(e) => Plan::Scalar(e),
            Typed::Vector(e) => Plan::Vector(e),
            Typed::Matrix { .. } => Plan::Matrix,
            Typed::String => Plan::String,
        };
        Ok(Query {
            plan,
            max_range: compiler.max_range,
            names: compiler.names,
        })
    }

    /// The metric names the query can select (`None`: any, a selector fixes no name): a
    /// scrape may keep only those series.
    pub fn metric_names(&self) -> Option<&BTreeSet<String>> {
        self.names.as_ref()
    }

    /// The longest range selector in the query (0 without any): how much history the store
    /// must keep for it, beyond the 5-minute lookback.
    pub fn max_range(&self) -> SimDuration {
        self.max_range
    }

    /// Evaluates the query at `now`, as Prometheus answers `GET /api/v1/query?time=now`.
    /// A matrix or string result is `Unsupported`, as Kthena cannot use it.
    pub fn evaluate(&self, store: &SeriesStore, now: SimTime) -> QueryResult {
        eval::evaluate(&self.plan, store, now)
    }
}

/// What a query evaluates, by result type.
#[derive(Debug, Clone)]
pub(super) enum Plan {
    Scalar(ScalarExpr),
    Vector(VectorExpr),
    /// A bare range selector: Prometheus answers with a matrix.
    Matrix,
    /// A bare string literal.
    String,
}

#[derive(Debug, Clone)]
pub(super) enum ScalarExpr {
    Number(f64),
    /// `scalar(v)`: the value of a one-sample vector, otherwise NaN.
    FromVector(Box<VectorExpr>),
    Neg(Box<ScalarExpr>),
    Binary(ArithOp, Box<ScalarExpr>, Box<ScalarExpr>),
}

#[derive(Debug, Clone)]
pub(super) enum VectorExpr {
    Select(Selector),
    Range {
        func: RangeFunction,
        selector: Selector,
        range: SimDuration,
    },
    Aggregate {
        op: AggregateOp,
        grouping: Grouping,
        expr: Box<VectorExpr>,
    },
    HistogramQuantile {
        phi: ScalarExpr,
        expr: Box<VectorExpr>,
    },
    /// `vector(s)`: one sample without labels.
    FromScalar(ScalarExpr),
    Neg(Box<VectorExpr>),
    /// `v op s`, or `s op v` when `scalar_left`.
    WithScalar {
        op: ArithOp,
        vector: Box<VectorExpr>,
        scalar: ScalarExpr,
        scalar_left: bool,
    },
    /// `v op w`, matched one-to-one on all labels but the metric name.
    Binary {
        op: ArithOp,
        lhs: Box<VectorExpr>,
        rhs: Box<VectorExpr>,
    },
}

/// The series an instant or range selector reads.
#[derive(Debug, Clone)]
pub(super) struct Selector {
    /// The metric name when the selector fixes it, to look series up directly.
    pub(super) name: Option<String>,
    /// Every matcher, the metric name included.
    pub(super) matchers: Vec<Matcher>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
}

impl ArithOp {
    /// IEEE arithmetic as Go does it: `/` by zero is ±Inf or NaN, `%` is `math.Mod`.
    pub(super) fn apply(self, l: f64, r: f64) -> f64 {
        match self {
            ArithOp::Add => l + r,
            ArithOp::Sub => l - r,
            ArithOp::Mul => l * r,
            ArithOp::Div => l / r,
            ArithOp::Mod => l % r,
            ArithOp::Pow => l.powf(r),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RangeFunction {
    Rate,
    Irate,
    Increase,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AggregateOp {
    Sum,
    Avg,
    Min,
    Max,
    Count,
}

/// Which labels an aggregation keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Grouping {
    /// `by (...)`; no clause is `by ()`.
    By(Vec<String>),
    /// `without (...)`; the metric name goes too.
    Without(Vec<String>),
}

/// A compiled sub-expression with its PromQL type.
enum Typed {
    Scalar(ScalarExpr),
    Vector(VectorExpr),
    Matrix {
        selector: Selector,
        range: SimDuration,
    },
    String,
}

impl Typed {
    fn name(&self) -> &'static str {
        match self {
            Typed::Scalar(_) => "scalar",
            Typed::Vector(_) => "instant vector",
            Typed::Matrix { .. } => "range vector",
            Typed::String => "string",
        }
    }
}

struct Compiler {
    max_range: SimDuration,
    names: Option<BTreeSet<String>>,
}

impl Compiler {
    /// A selector, its metric name noted.
    fn selector(&mut self, vs: &VectorSelector) -> Result<Selector, UnsupportedQuery> {
        let s = selector(vs)?;
        match (&mut self.names, &s.name) {
            (Some(names), Some(n)) => {
                names.insert(n.clone());
            }
            (names, None) => *names = None,
            (None, _) => {}
        }
        Ok(s)
    }

    fn expr(&mut self, e: &Expr) -> Result<Typed, UnsupportedQuery> {
        Ok(match e {
            Expr::NumberLiteral(n) => Typed::Scalar(ScalarExpr::Number(n.val)),
            Expr::StringLiteral(_) => Typed::String,
            Expr::Paren(p) => self.expr(&p.expr)?,
            Expr::VectorSelector(vs) => Typed::Vector(VectorExpr::Select(self.selector(vs)?)),
            Expr::MatrixSelector(ms) => {
                let range = i64::try_from(ms.range.as_micros())
                    .map_or(SimDuration::MAX, SimDuration::from_micros);
                self.max_range = self.max_range.max(range);
                Typed::Matrix {
                    selector: self.selector(&ms.vs)?,
                    range,
                }
            }
            Expr::Unary(u) => match self.expr(&u.expr)? {
                Typed::Scalar(s) => Typed::Scalar(ScalarExpr::Neg(Box::new(s))),
                Typed::Vector(v) => Typed::Vector(VectorExpr::Neg(Box::new(v))),
                other => return mismatch("scalar or instant vector", &other, e),
            },
            Expr::Aggregate(a) => Typed::Vector(self.aggregate(a)?),
            Expr::Binary(b) => self.binary(b)?,
            Expr::Call(c) => self.call(c)?,
            Expr::Subquery(_) => return unsupported("subquery"),
            Expr::Extension(_) => return unsupported("extension expression"),
        })
    }

    fn vector(&mut self, e: &Expr) -> Result<VectorExpr, UnsupportedQuery> {
        match self.expr(e)? {
            Typed::Vector(v) => Ok(v),
            other => mismatch("instant vector", &other, e),
        }
    }

    fn scalar(&mut self, e: &Expr) -> Result<ScalarExpr, UnsupportedQuery> {
        match self.expr(e)? {
            Typed::Scalar(s) => Ok(s),
            other => mismatch("scalar", &other, e),
        }
    }

    fn aggregate(&mut self, a: &AggregateExpr) -> Result<VectorExpr, UnsupportedQuery> {
        let op = match a.op.id() {
            T_SUM => AggregateOp::Sum,
            T_AVG => AggregateOp::Avg,
            T_MIN => AggregateOp::Min,
            T_MAX => AggregateOp::Max,
            T_COUNT => AggregateOp::Count,
            _ => return unsupported(format!("aggregation `{}`", a.op)),
        };
        let grouping = match &a.modifier {
            None => Grouping::By(Vec::new()),
            Some(LabelModifier::Include(l)) => Grouping::By(l.labels.clone()),
            Some(LabelModifier::Exclude(l)) => Grouping::Without(l.labels.clone()),
        };
        Ok(VectorExpr::Aggregate {
            op,
            grouping,
            expr: Box::new(self.vector(&a.expr)?),
        })
    }

    fn binary(&mut self, b: &BinaryExpr) -> Result<Typed, UnsupportedQuery> {
        let op = arith_op(b.op)?;
        if let Some(m) = &b.modifier {
            match &m.card {
                VectorMatchCardinality::ManyToOne(_) => {
                    return unsupported("`group_left` matching")
                }
                VectorMatchCardinality::OneToMany(_) => {
                    return unsupported("`group_right` matching")
                }
                VectorMatchCardinality::OneToOne | VectorMatchCardinality::ManyToMany => {}
            }
            match &m.matching {
                Some(LabelModifier::Include(_)) => {
                    return unsupported(
                        "binary operation between two vectors with `on(...)` matching",
                    )
                }
                Some(LabelModifier::Exclude(l)) if !l.is_empty() => {
                    return unsupported(
                        "binary operation between two vectors with `ignoring(...)` matching",
                    )
                }
                _ => {}
            }
            if m.fill_values.lhs.is_some() || m.fill_values.rhs.is_some() {
                return unsupported("`fill` modifier");
            }
        }
        Ok(match (self.expr(&b.lhs)?, self.expr(&b.rhs)?) {
            (Typed::Scalar(l), Typed::Scalar(r)) => {
                Typed::Scalar(ScalarExpr::Binary(op, Box::new(l), Box::new(r)))
            }
            (Typed::Vector(v), Typed::Scalar(s)) => Typed::Vector(VectorExpr::WithScalar {
                op,
                vector: Box::new(v),
                scalar: s,
                scalar_left: false,
            }),
            (Typed::Scalar(s), Typed::Vector(v)) => Typed::Vector(VectorExpr::WithScalar {
                op,
                vector: Box::new(v),
                scalar: s,
                scalar_left: true,
            }),
            (Typed::Vector(l), Typed::Vector(r)) => Typed::Vector(VectorExpr::Binary {
                op,
                lhs: Box::new(l),
                rhs: Box::new(r),
            }),
            (l, r) => {
                return Err(UnsupportedQuery::Invalid(format!(
                    "binary expression between {} and {}",
                    l.name(),
                    r.name()
                )))
            }
        })
    }

    fn call(&mut self, c: &Call) -> Result<Typed, UnsupportedQuery> {
        let name = c.func.name;
        let args = &c.args.args;
        let arity = |n: usize| {
            if args.len() == n {
                Ok(())
            } else {
                Err(UnsupportedQuery::Invalid(format!(
                    "expected {n} argument(s) in call to `{name}`, got {}",
                    args.len()
                )))
            }
        };
        let func = match name {
            "rate" => RangeFunction::Rate,
            "irate" => RangeFunction::Irate,
            "increase" => RangeFunction::Increase,
            "histogram_quantile" => {
                arity(2)?;
                return Ok(Typed::Vector(VectorExpr::HistogramQuantile {
                    phi: self.scalar(&args[0])?,
                    expr: Box::new(self.vector(&args[1])?),
                }));
            }
            "scalar" => {
                arity(1)?;
                let v = self.vector(&args[0])?;
                return Ok(Typed::Scalar(ScalarExpr::FromVector(Box::new(v))));
            }
            "vector" => {
                arity(1)?;
                return Ok(Typed::Vector(VectorExpr::FromScalar(
                    self.scalar(&args[0])?,
                )));
            }
            other => return unsupported(format!("function `{other}`")),
        };
        arity(1)?;
        match self.expr(&args[0])? {
            Typed::Matrix { selector, range } => Ok(Typed::Vector(VectorExpr::Range {
                func,
                selector,
                range,
            })),
            other => mismatch("range vector", &other, &args[0]),
        }
    }
}

fn mismatch<T>(want: &str, got: &Typed, e: &Expr) -> Result<T, UnsupportedQuery> {
    Err(UnsupportedQuery::Invalid(format!(
        "expected {want}, got {} in `{e}`",
        got.name()
    )))
}

fn arith_op(op: TokenType) -> Result<ArithOp, UnsupportedQuery> {
    Ok(match op.id() {
        T_ADD => ArithOp::Add,
        T_SUB => ArithOp::Sub,
        T_MUL => ArithOp::Mul,
        T_DIV => ArithOp::Div,
        T_MOD => ArithOp::Mod,
        T_POW => ArithOp::Pow,
        _ if op.is_comparison_operator() => {
            return unsupported(format!("comparison operator `{op}`"))
        }
        _ if op.is_set_operator() => return unsupported(format!("set operator `{op}`")),
        _ => return unsupported(format!("operator `{op}`")),
    })
}

fn selector(vs: &VectorSelector) -> Result<Selector, UnsupportedQuery> {
    if vs.offset.is_some() {
        return unsupported("offset modifier");
    }
    if vs.at.is_some() {
        return unsupported("@ modifier");
    }
    if !vs.matchers.or_matchers.is_empty() {
        return unsupported("`or` between label matchers");
    }
    let mut matchers = vs.matchers.matchers.clone();
    let name = match &vs.name {
        Some(n) => {
            matchers.push(Matcher::new(MatchOp::Equal, METRIC_NAME, n));
            Some(n.clone())
        }
        None => matchers
            .iter()
            .find(|m| m.name == METRIC_NAME && m.op == MatchOp::Equal)
            .map(|m| m.value.clone()),
    };
    Ok(Selector { name, matchers })
}
