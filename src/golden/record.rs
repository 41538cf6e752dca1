//! A policy as the golden format records it: the policy in its user form, its target, and
//! what each scaled unit's collector reads and where ([`ScaledUnit`]). Both writers of the
//! format build a line's head from here: the simulator's engine log and the shadow replay of
//! a policy on a real Prometheus's series.

use serde_json::{json, Map, Value};

use crate::engine::cluster::MetricFamily;
use crate::engine::metric_collector::{DEFAULT_METRIC_PORT, DEFAULT_METRIC_URI};
use crate::engine::policy::{
    Duration, LabelSelector, MetricSource, MetricTarget, Policy, ScalingTarget, StablePolicy,
};
use crate::engine::EngineVersion;

/// How one metric of a unit is read.
#[derive(Debug, Clone)]
pub enum Source {
    /// Scraped from the pods' family of this name.
    Pod(String),
    /// A Prometheus instant query.
    Prometheus { server_url: String, query: String },
    /// No source: the engine treats the metric as missing.
    None,
}

impl Source {
    pub fn kind(&self) -> &'static str {
        match self {
            Source::Pod(_) => "pod",
            Source::Prometheus { .. } => "prometheus",
            Source::None => "none",
        }
    }
}

/// What one unit's collector reads, and where.
#[derive(Debug, Clone)]
pub struct ScaledUnit {
    /// Param name (the ModelServing) or role name; the record's key for this unit.
    pub name: String,
    pub namespace: String,
    pub model_serving: String,
    pub role: Option<String>,
    pub selector: Option<LabelSelector>,
    pub uri: String,
    pub port: i32,
    /// Metric key → how it is read.
    pub metrics: Vec<(String, Source)>,
}

fn ms(d: Option<Duration>) -> String {
    format!("{}ms", d.map_or(0, |d| d.milliseconds()))
}

fn stable_json(s: &StablePolicy) -> Value {
    json!({
        "instances": s.instances,
        "percent": s.percent,
        "period": ms(s.period),
        "selectPolicy": s.select_policy.as_str(),
        "stabilizationWindow": ms(s.stabilization_window),
    })
}

fn metrics_json(metrics: &[MetricTarget], unit: Option<&ScaledUnit>) -> Vec<Value> {
    metrics
        .iter()
        .map(|m| {
            let source = unit
                .and_then(|u| u.metrics.iter().find(|(k, _)| *k == m.name))
                .map_or("none", |(_, s)| s.kind());
            json!({"name": m.name, "targetValue": m.target_value.as_f64(), "source": source})
        })
        .collect()
}

/// The policy in the format's user form, every behaviour field explicit so that
/// re-defaulting it gives back exactly what the engine used.
pub fn policy_json(p: &Policy, first: Option<&ScaledUnit>) -> Value {
    let b = &p.behavior;
    let panic = &b.scale_up.panic_policy;
    let mut panic_json = json!({
        "percent": panic.percent,
        "period": ms(Some(panic.period)),
        "panicModeHold": ms(panic.panic_mode_hold),
    });
    if let Some(t) = panic.panic_threshold_percent {
        panic_json["panicThresholdPercent"] = json!(t);
    }
    json!({
        "tolerancePercent": p.tolerance_percent,
        "metrics": metrics_json(&p.metrics, first),
        "behavior": {
            "scaleUp": {"stablePolicy": stable_json(&b.scale_up.stable_policy), "panicPolicy": panic_json},
            "scaleDown": stable_json(&b.scale_down),
        },
    })
}

pub fn target_json(p: &Policy, units: &[ScaledUnit]) -> Value {
    match &p.target {
        ScalingTarget::Homogeneous(h) => {
            json!({"mode": "homogeneous", "minReplicas": h.min_replicas, "maxReplicas": h.max_replicas})
        }
        ScalingTarget::Heterogeneous(h) => json!({
            "mode": "heterogeneous",
            "costExpansionRatePercent": h.cost_expansion_rate_percent,
            "params": h.params.iter().zip(units).map(|(q, u)| json!({
                "name": u.name, "cost": q.cost, "minReplicas": q.min_replicas, "maxReplicas": q.max_replicas,
            })).collect::<Vec<_>>(),
        }),
        ScalingTarget::Disaggregated(d) => {
            let roles: Map<String, Value> = d
                .roles
                .iter()
                .map(|(name, r)| {
                    let mut o =
                        json!({"minReplicas": r.min_replicas, "maxReplicas": r.max_replicas});
                    if !r.metrics.is_empty() {
                        o["metrics"] = json!(metrics_json(
                            &r.metrics,
                            units.iter().find(|u| u.name == *name)
                        ));
                    }
                    (name.clone(), o)
                })
                .collect();
            let mut t = json!({"mode": "disaggregated", "roles": roles});
            if let Some(c) = &d.ratio_constraint {
                t["ratioConstraint"] = json!({
                    "numeratorRole": c.numerator_role,
                    "denominatorRole": c.denominator_role,
                    "minRatio": c.min_ratio.as_f64(),
                    "maxRatio": c.max_ratio.as_f64(),
                });
            }
            t
        }
    }
}

/// The units a policy's collectors read.
pub fn scaled_units(p: &Policy, engine: EngineVersion) -> Vec<ScaledUnit> {
    p.scaled_targets()
        .into_iter()
        .map(|st| {
            let t = &st.target;
            let r = &t.target_ref;
            let namespace = match engine {
                EngineVersion::V0_4 => p.namespace.clone(),
                EngineVersion::Head if r.namespace.is_empty() => p.namespace.clone(),
                EngineVersion::Head => r.namespace.clone(),
            };
            let name = match &p.target {
                ScalingTarget::Disaggregated(_) => st.role.unwrap_or_default().to_string(),
                _ => r.name.clone(),
            };
            let role = st.role.map(str::to_string);
            let (selector, uri, port, metrics) = match engine {
                EngineVersion::V0_4 => {
                    let e = t.metric_endpoint.as_ref();
                    (
                        e.and_then(|e| e.label_selector.clone()),
                        e.map_or(String::new(), |e| e.uri.clone()),
                        e.map_or(0, |e| e.port),
                        st.metrics
                            .iter()
                            .map(|m| (m.name.clone(), Source::Pod(m.name.clone())))
                            .collect(),
                    )
                }
                EngineVersion::Head => {
                    let sources = t.metric_sources.as_ref();
                    let metrics: Vec<(String, Source)> = st
                        .metrics
                        .iter()
                        .map(|m| {
                            let s = match sources.and_then(|s| s.get(&m.name)) {
                                Some(MetricSource::Pod(pod)) if pod.name.is_empty() => {
                                    Source::Pod(m.name.clone())
                                }
                                Some(MetricSource::Pod(pod)) => Source::Pod(pod.name.clone()),
                                Some(MetricSource::Prometheus(q)) => Source::Prometheus {
                                    server_url: q.server_url.clone(),
                                    query: q.query.clone(),
                                },
                                None => Source::None,
                            };
                            (m.name.clone(), s)
                        })
                        .collect();
                    let first_pod = sources.and_then(|s| {
                        st.metrics.iter().find_map(|m| match s.get(&m.name) {
                            Some(MetricSource::Pod(pod)) => Some(pod),
                            _ => None,
                        })
                    });
                    let uri = first_pod.map_or("", |s| s.uri.as_str());
                    let port = first_pod.map_or(0, |s| s.port);
                    (
                        first_pod.and_then(|s| s.label_selector.clone()),
                        if uri.is_empty() {
                            DEFAULT_METRIC_URI.to_string()
                        } else {
                            uri.to_string()
                        },
                        if port == 0 { DEFAULT_METRIC_PORT } else { port },
                        metrics,
                    )
                }
            };
            ScaledUnit {
                name,
                namespace,
                model_serving: r.name.clone(),
                role,
                selector,
                uri,
                port,
                metrics,
            }
        })
        .collect()
}

pub fn family_json(f: &MetricFamily) -> Option<Value> {
    match f {
        MetricFamily::Gauge(v) | MetricFamily::Counter(v) => v.first().map(|x| json!(x)),
        MetricFamily::Histogram(h) => h.first().map(|s| {
            let buckets: Vec<Value> = s
                .buckets
                .iter()
                .map(|(le, c)| {
                    if le.is_infinite() {
                        json!(["+Inf", c])
                    } else {
                        json!([le, c])
                    }
                })
                .collect();
            json!({"buckets": buckets, "sum": s.sum, "count": s.count})
        }),
        MetricFamily::Other { .. } => None,
    }
}
