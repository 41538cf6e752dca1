//! Turns a recorded scenario into what the engine reads: a [`Policy`] built with our own
//! defaulting (not the recorded `effectivePolicy`), and one [`Cluster`] view per tick.
//!
//! The recorded pods are exactly the target's (or role's) metric pods, so the view gives
//! them the labels the controller selects on, and answers every scrape with the recorded
//! payload whatever the port and path: the recording stood in for HTTP the same way.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::engine::cluster::{
    Cluster, Families, MetricFamily, ModelServingView, PodView, QueryResult, Scrape, LABEL_ENTRY,
    LABEL_GROUP_NAME, LABEL_MODEL_SERVING_NAME, LABEL_ROLE,
};
use crate::engine::histogram::Snapshot;
use crate::engine::policy::{
    DisaggregatedTarget, Duration, HeterogeneousParam, HeterogeneousTarget, HomogeneousTarget,
    Labels, MetricEndpoint, MetricSource, MetricTarget, ObjectReference, PodMetricSource, Policy,
    PrometheusMetricSource, Quantity, RatioConstraint, RoleScalingParam, ScalingTarget,
    SelectPolicy, Target,
};
use crate::engine::{EngineVersion, UnixMillis};
use crate::golden::format::{
    BehaviorIn, Bound, MetricIn, MetricValueIn, PodIn, Scenario, StableIn, TargetIn, Tick,
};
use crate::kthena::defaults::{
    effective_behavior, DEFAULT_COST_EXPANSION_RATE_PERCENT, DEFAULT_TOLERANCE_PERCENT,
};
use crate::kthena::spec::{BehaviorSpec, PanicPolicySpec, ScaleUpSpec, StablePolicySpec};

/// Namespace of every replayed object.
pub const NAMESPACE: &str = "default";
/// ModelServing name of homogeneous and disaggregated targets.
pub const TARGET_NAME: &str = "target";
const PROMETHEUS_URL: &str = "http://prometheus.replay:9090";

/// A recorded scenario that cannot be replayed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ReplayError {
    pub field: String,
    pub message: String,
}

fn err(field: impl Into<String>, message: impl Into<String>) -> ReplayError {
    ReplayError {
        field: field.into(),
        message: message.into(),
    }
}

/// The units metrics are measured on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Units {
    Homogeneous,
    /// Param names in order.
    Heterogeneous(Vec<String>),
    /// Role names.
    Disaggregated(Vec<String>),
}

/// The Prometheus query string standing for `metric` of `unit`.
fn query_of(unit: &str, metric: &str) -> String {
    format!("{unit}\u{1f}{metric}")
}

fn duration(field: &str, s: &Option<String>) -> Result<Option<Duration>, ReplayError> {
    s.as_deref()
        .map(|s| Duration::parse(s).map_err(|e| err(field, e.to_string())))
        .transpose()
}

fn stable(field: &str, s: &StableIn) -> Result<StablePolicySpec, ReplayError> {
    let select_policy = match s.select_policy.as_deref() {
        None => None,
        Some("Or") => Some(SelectPolicy::Or),
        Some("And") => Some(SelectPolicy::And),
        Some(other) => {
            return Err(err(
                format!("{field}.selectPolicy"),
                format!("unsupported value {other:?}"),
            ))
        }
    };
    Ok(StablePolicySpec {
        instances: s.instances,
        percent: s.percent,
        period: duration(&format!("{field}.period"), &s.period)?,
        select_policy,
        stabilization_window: duration(
            &format!("{field}.stabilizationWindow"),
            &s.stabilization_window,
        )?,
    })
}

fn behavior_spec(b: &BehaviorIn) -> Result<BehaviorSpec, ReplayError> {
    let f = "policy.behavior";
    let scale_up = match &b.scale_up {
        None => None,
        Some(u) => Some(ScaleUpSpec {
            stable_policy: u
                .stable_policy
                .as_ref()
                .map(|s| stable(&format!("{f}.scaleUp.stablePolicy"), s))
                .transpose()?,
            panic_policy: match &u.panic_policy {
                None => None,
                Some(p) => {
                    let pf = format!("{f}.scaleUp.panicPolicy");
                    Some(PanicPolicySpec {
                        percent: p.percent,
                        period: Some(
                            duration(&format!("{pf}.period"), &p.period)?
                                .ok_or_else(|| err(format!("{pf}.period"), "required"))?,
                        ),
                        panic_threshold_percent: p.panic_threshold_percent,
                        panic_mode_hold: duration(
                            &format!("{pf}.panicModeHold"),
                            &p.panic_mode_hold,
                        )?,
                    })
                }
            },
        }),
    };
    Ok(BehaviorSpec {
        scale_up,
        scale_down: b
            .scale_down
            .as_ref()
            .map(|s| stable(&format!("{f}.scaleDown"), s))
            .transpose()?,
    })
}

fn quantity(field: &str, v: &Value) -> Result<Quantity, ReplayError> {
    let text = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => return Err(err(field, "expected a number or a quantity string")),
    };
    Quantity::parse(&text).map_err(|e| err(field, e.to_string()))
}

fn metric_targets(field: &str, metrics: &[MetricIn]) -> Result<Vec<MetricTarget>, ReplayError> {
    metrics
        .iter()
        .enumerate()
        .map(|(i, m)| {
            Ok(MetricTarget {
                name: m.name.clone(),
                target_value: quantity(&format!("{field}[{i}].targetValue"), &m.target_value)?,
            })
        })
        .collect()
}

/// HEAD metric sources of a unit: pod sources scrape the family named like the key.
fn metric_sources(
    unit: &str,
    metrics: &[MetricIn],
) -> Result<BTreeMap<String, MetricSource>, ReplayError> {
    let mut out = BTreeMap::new();
    for m in metrics {
        let source = match m.source.as_deref().unwrap_or("pod") {
            "pod" => MetricSource::Pod(PodMetricSource {
                name: String::new(),
                uri: "/metrics".into(),
                port: 8100,
                label_selector: None,
            }),
            "prometheus" => MetricSource::Prometheus(PrometheusMetricSource {
                server_url: PROMETHEUS_URL.into(),
                query: query_of(unit, &m.name),
            }),
            "none" => continue,
            other => {
                return Err(err(
                    format!("metrics.{}.source", m.name),
                    format!("unknown source {other:?}"),
                ))
            }
        };
        out.insert(m.name.clone(), source);
    }
    Ok(out)
}

fn target_for(
    version: EngineVersion,
    ms: &str,
    unit: &str,
    metrics: &[MetricIn],
) -> Result<Target, ReplayError> {
    let mut t = Target {
        target_ref: ObjectReference {
            kind: "ModelServing".into(),
            name: ms.into(),
            ..ObjectReference::default()
        },
        ..Target::default()
    };
    match version {
        EngineVersion::Head => t.metric_sources = Some(metric_sources(unit, metrics)?),
        EngineVersion::V0_4 => {
            if let Some(m) = metrics
                .iter()
                .find(|m| m.source.as_deref().is_some_and(|s| s != "pod"))
            {
                return Err(err(
                    format!("metrics.{}.source", m.name),
                    "v0.4 has only pod metrics",
                ));
            }
            t.metric_endpoint = Some(MetricEndpoint {
                uri: "/metrics".into(),
                port: 8100,
                label_selector: None,
            });
        }
    }
    Ok(t)
}

/// The engine policy of a recorded scenario, defaulted as the API server would.
pub fn build_policy(
    scenario: &Scenario,
    version: EngineVersion,
) -> Result<(Policy, Units), ReplayError> {
    let p = &scenario.policy;
    let behavior = match &p.behavior {
        Some(b) => effective_behavior(Some(&behavior_spec(b)?)),
        None => effective_behavior(None),
    };
    let metrics = metric_targets("policy.metrics", &p.metrics)?;
    let (target, units) = match &scenario.target {
        TargetIn::Homogeneous {
            min_replicas,
            max_replicas,
        } => (
            ScalingTarget::Homogeneous(HomogeneousTarget {
                min_replicas: *min_replicas,
                max_replicas: *max_replicas,
                target: Some(target_for(version, TARGET_NAME, "", &p.metrics)?),
            }),
            Units::Homogeneous,
        ),
        TargetIn::Heterogeneous {
            cost_expansion_rate_percent,
            params,
        } => {
            let params_out = params
                .iter()
                .map(|q| {
                    Ok(HeterogeneousParam {
                        target: Some(target_for(version, &q.name, &q.name, &p.metrics)?),
                        cost: q.cost,
                        min_replicas: q.min_replicas,
                        max_replicas: q.max_replicas,
                    })
                })
                .collect::<Result<_, ReplayError>>()?;
            (
                ScalingTarget::Heterogeneous(HeterogeneousTarget {
                    cost_expansion_rate_percent: cost_expansion_rate_percent
                        .unwrap_or(DEFAULT_COST_EXPANSION_RATE_PERCENT),
                    params: params_out,
                }),
                Units::Heterogeneous(params.iter().map(|q| q.name.clone()).collect()),
            )
        }
        TargetIn::Disaggregated {
            roles,
            ratio_constraint,
        } => {
            if version == EngineVersion::V0_4 {
                return Err(err(
                    "target.mode",
                    "disaggregated targets need the head engine",
                ));
            }
            let mut out = BTreeMap::new();
            for (name, r) in roles {
                let source_metrics = if r.metrics.is_empty() {
                    &p.metrics
                } else {
                    &r.metrics
                };
                out.insert(
                    name.clone(),
                    RoleScalingParam {
                        min_replicas: r.min_replicas,
                        max_replicas: r.max_replicas,
                        metrics: metric_targets(
                            &format!("target.roles.{name}.metrics"),
                            &r.metrics,
                        )?,
                        metric_sources: Some(metric_sources(name, source_metrics)?),
                    },
                );
            }
            let ratio = ratio_constraint
                .as_ref()
                .map(|c| {
                    Ok::<_, ReplayError>(RatioConstraint {
                        numerator_role: c.numerator_role.clone(),
                        denominator_role: c.denominator_role.clone(),
                        min_ratio: quantity("target.ratioConstraint.minRatio", &c.min_ratio)?,
                        max_ratio: quantity("target.ratioConstraint.maxRatio", &c.max_ratio)?,
                    })
                })
                .transpose()?;
            (
                ScalingTarget::Disaggregated(DisaggregatedTarget {
                    target_ref: ObjectReference {
                        kind: "ModelServing".into(),
                        name: TARGET_NAME.into(),
                        ..ObjectReference::default()
                    },
                    roles: out,
                    ratio_constraint: ratio,
                }),
                Units::Disaggregated(roles.keys().cloned().collect()),
            )
        }
    };
    let policy = Policy {
        namespace: NAMESPACE.into(),
        name: "replay".into(),
        uid: String::new(),
        generation: (1, 1),
        tolerance_percent: p.tolerance_percent.unwrap_or(DEFAULT_TOLERANCE_PERCENT),
        metrics,
        behavior,
        target,
    };
    Ok((policy, units))
}

/// The cluster as the controller saw it at one tick.
#[derive(Debug, Clone, Default)]
pub struct TickCluster {
    model_servings: Vec<ModelServingView>,
    pods: Vec<PodView>,
    /// Per pod: the payload, or `None` for a failed scrape.
    payloads: Vec<Option<Families>>,
    queries: BTreeMap<String, f64>,
}

fn int(field: &str, v: &Value) -> Result<i32, ReplayError> {
    v.as_i64()
        .and_then(|n| i32::try_from(n).ok())
        .ok_or_else(|| err(field, "expected a 32-bit integer"))
}

fn families(
    field: &str,
    metrics: &BTreeMap<String, MetricValueIn>,
) -> Result<Families, ReplayError> {
    metrics
        .iter()
        .map(|(name, v)| {
            let family = match v {
                MetricValueIn::Number(x) => MetricFamily::Gauge(vec![*x]),
                MetricValueIn::Histogram {
                    buckets,
                    sum,
                    count,
                } => {
                    let b = buckets
                        .iter()
                        .map(|(le, c)| {
                            let le = match le {
                                Bound::Number(x) => *x,
                                Bound::Text(s) if s == "+Inf" => f64::INFINITY,
                                Bound::Text(s) => {
                                    return Err(err(
                                        format!("{field}.{name}"),
                                        format!("bad bucket bound {s:?}"),
                                    ))
                                }
                            };
                            Ok((le, *c as i64))
                        })
                        .collect::<Result<Vec<_>, ReplayError>>()?;
                    MetricFamily::Histogram(vec![Snapshot::of_histogram(*sum, *count as i64, &b)])
                }
            };
            Ok((name.clone(), family))
        })
        .collect()
}

impl TickCluster {
    /// The view of tick number `index`.
    pub fn new(tick: &Tick, units: &Units, index: usize) -> Result<Self, ReplayError> {
        let f = |s: &str| format!("ticks[{index}].{s}");
        let mut c = TickCluster::default();
        match units {
            Units::Homogeneous => {
                c.model_servings.push(ModelServingView {
                    namespace: NAMESPACE.into(),
                    name: TARGET_NAME.into(),
                    replicas: Some(int(&f("replicas"), &tick.replicas)?),
                    roles: Vec::new(),
                });
                c.add_pods(&f("pods"), &tick.pods, TARGET_NAME, None)?;
                c.add_queries(&f("external"), "", &tick.external)?;
            }
            Units::Heterogeneous(names) => {
                for n in names {
                    c.model_servings.push(ModelServingView {
                        namespace: NAMESPACE.into(),
                        name: n.clone(),
                        replicas: Some(int(&f(&format!("replicas.{n}")), &tick.replicas[n])?),
                        roles: Vec::new(),
                    });
                    c.add_pods(&f(&format!("pods.{n}")), &tick.pods[n], n, None)?;
                    c.add_queries(&f(&format!("external.{n}")), n, &tick.external[n])?;
                }
            }
            Units::Disaggregated(roles) => {
                let mut views = Vec::new();
                for r in roles {
                    views.push((
                        r.clone(),
                        Some(int(&f(&format!("replicas.{r}")), &tick.replicas[r])?),
                    ));
                    c.add_pods(
                        &f(&format!("pods.{r}")),
                        &tick.pods[r],
                        TARGET_NAME,
                        Some(r),
                    )?;
                    c.add_queries(&f(&format!("external.{r}")), r, &tick.external[r])?;
                }
                c.model_servings.push(ModelServingView {
                    namespace: NAMESPACE.into(),
                    name: TARGET_NAME.into(),
                    replicas: Some(1),
                    roles: views,
                });
            }
        }
        Ok(c)
    }

    fn add_pods(
        &mut self,
        field: &str,
        pods: &Value,
        ms: &str,
        role: Option<&str>,
    ) -> Result<(), ReplayError> {
        if pods.is_null() {
            return Ok(());
        }
        let pods: Vec<PodIn> =
            serde_json::from_value(pods.clone()).map_err(|e| err(field, e.to_string()))?;
        for p in pods {
            let mut labels = Labels::new();
            labels.insert(LABEL_MODEL_SERVING_NAME.into(), ms.into());
            labels.insert(LABEL_ENTRY.into(), "true".into());
            labels.insert(LABEL_GROUP_NAME.into(), format!("{ms}-group"));
            if let Some(r) = role {
                labels.insert(LABEL_ROLE.into(), r.into());
            }
            self.payloads.push(if p.scrape_error {
                None
            } else {
                Some(families(
                    &format!("{field}.{}.metrics", p.name),
                    &p.metrics,
                )?)
            });
            self.pods.push(PodView {
                namespace: NAMESPACE.into(),
                name: p.name,
                labels,
                ready: p.ready,
                failed: p.failed,
                start_time_ms: p.start_time.map(UnixMillis::from_millis),
            });
        }
        Ok(())
    }

    fn add_queries(
        &mut self,
        field: &str,
        unit: &str,
        external: &Value,
    ) -> Result<(), ReplayError> {
        let Some(map) = external.as_object() else {
            return Ok(());
        };
        for (metric, v) in map {
            let v = v
                .as_f64()
                .ok_or_else(|| err(format!("{field}.{metric}"), "expected a number"))?;
            self.queries.insert(query_of(unit, metric), v);
        }
        Ok(())
    }
}

impl Cluster for TickCluster {
    fn model_serving(&self, namespace: &str, name: &str) -> Option<&ModelServingView> {
        self.model_servings
            .iter()
            .find(|m| m.namespace == namespace && m.name == name)
    }

    fn pods(&self) -> &[PodView] {
        &self.pods
    }

    fn scrape(&self, pod: usize, _uri: &str, _port: i32) -> Scrape<'_> {
        match &self.payloads[pod] {
            Some(f) => Scrape::Ok(f),
            None => Scrape::Failed,
        }
    }

    fn query(&self, _server_url: &str, query: &str) -> QueryResult {
        match self.queries.get(query) {
            Some(&v) => QueryResult::Scalar(v),
            None => QueryResult::Error("no value recorded for this tick".into()),
        }
    }
}
