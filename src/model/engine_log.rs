//! `--engine-log`: every controller tick's engine inputs and decisions, in the golden JSON
//! Lines format (docs/golden-format.md §10) — one line per policy and engine-state lifetime,
//! holding the policy as the engine used it, per scaled unit (the target, each heterogeneous
//! param, each disaggregated role) the pods its collector selected with what they exposed and the
//! values of its Prometheus queries, and the decisions as `expected` for the engine of the run.
//! `kthena-sim replay --check` on the file reproduces every decision the run took.
//!
//! The format has one metric endpoint per unit: a current-API unit whose pod metrics come
//! from sources with different label selectors, ports or paths is logged with the first one's.

use serde_json::{json, Map, Value};

use super::spec::WorldSpec;
use super::view::TickView;
use crate::engine::cluster::{
    Cluster, MetricFamily, QueryResult, LABEL_ENTRY, LABEL_GROUP_NAME, LABEL_MODEL_SERVING_NAME,
    LABEL_ROLE,
};
use crate::engine::decision::Decision;
use crate::engine::metric_collector::{DEFAULT_METRIC_PORT, DEFAULT_METRIC_URI};
use crate::engine::policy::{
    Duration, LabelSelector, MetricSource, MetricTarget, Policy, ScalingTarget, StablePolicy,
};
use crate::engine::{Autoscaler, EngineVersion, UnixMillis};
use crate::golden::output::tick_json;

/// How one metric of a unit is read.
#[derive(Debug, Clone)]
enum Source {
    /// Scraped from the pods' family of this name.
    Pod(String),
    /// A Prometheus instant query.
    Prometheus { server_url: String, query: String },
    /// No source: the engine treats the metric as missing.
    None,
}

impl Source {
    fn kind(&self) -> &'static str {
        match self {
            Source::Pod(_) => "pod",
            Source::Prometheus { .. } => "prometheus",
            Source::None => "none",
        }
    }
}

/// What one unit's collector reads, and where.
#[derive(Debug, Clone)]
struct Unit {
    /// Param name (the ModelServing) or role name; the record's key for this unit.
    name: String,
    namespace: String,
    model_serving: String,
    role: Option<String>,
    selector: Option<LabelSelector>,
    uri: String,
    port: i32,
    /// Metric key → how it is read.
    metrics: Vec<(String, Source)>,
}

struct Segment {
    key: String,
    generation: (i64, i64),
    head: Value,
    mode: Mode,
    units: Vec<Unit>,
    ticks: Vec<Value>,
    expected: Vec<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Homogeneous,
    Keyed,
}

pub struct EngineLog {
    name: String,
    engine: EngineVersion,
    segments: Vec<Segment>,
    /// Per current policy: its open segment.
    open: Vec<usize>,
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

fn metrics_json(metrics: &[MetricTarget], unit: Option<&Unit>) -> Vec<Value> {
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
fn policy_json(p: &Policy, first: Option<&Unit>) -> Value {
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

fn target_json(p: &Policy, units: &[Unit]) -> Value {
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
fn units(p: &Policy, engine: EngineVersion) -> Vec<Unit> {
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
            Unit {
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

fn family_json(f: &MetricFamily) -> Option<Value> {
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

/// The pods the unit's collector selects, as the format's pod objects.
fn pods_json(view: &TickView<'_>, u: &Unit) -> Vec<Value> {
    let mut out = Vec::new();
    for (i, pod) in view.pods().iter().enumerate() {
        let l = &pod.labels;
        let forced = [LABEL_MODEL_SERVING_NAME, LABEL_ENTRY, LABEL_ROLE];
        let selected = pod.namespace == u.namespace
            && l.contains_key(LABEL_GROUP_NAME)
            && l.get(LABEL_MODEL_SERVING_NAME) == Some(&u.model_serving)
            && l.get(LABEL_ENTRY).map(String::as_str) == Some("true")
            && u.role.as_ref().is_none_or(|r| l.get(LABEL_ROLE) == Some(r))
            && u.selector.as_ref().is_none_or(|s| {
                s.match_labels
                    .iter()
                    .all(|(k, v)| forced.contains(&k.as_str()) || l.get(k) == Some(v))
                    && s.matches_expressions(l)
            });
        if !selected {
            continue;
        }
        let mut o = Map::new();
        o.insert("name".into(), json!(pod.name));
        o.insert("ready".into(), json!(pod.ready));
        o.insert("failed".into(), json!(pod.failed));
        if let Some(t) = pod.start_time_ms {
            o.insert("startTime".into(), json!(t.as_millis()));
        }
        match view.endpoint(i) {
            Some((port, path, families)) if port == u.port && path == u.uri => {
                let metrics: Map<String, Value> = u
                    .metrics
                    .iter()
                    .filter_map(|(key, s)| {
                        let Source::Pod(f) = s else { return None };
                        Some((key.clone(), family_json(families.get(f)?)?))
                    })
                    .collect();
                o.insert("metrics".into(), Value::Object(metrics));
            }
            _ => {
                o.insert("scrapeError".into(), json!(true));
            }
        }
        out.push(Value::Object(o));
    }
    out
}

/// The unit's Prometheus values this tick, as the engine would accept them (a query that
/// fails for the engine is left out: "the query failed this tick").
fn external_json(view: &TickView<'_>, u: &Unit) -> Value {
    let values: Map<String, Value> = u
        .metrics
        .iter()
        .filter_map(|(key, s)| {
            let Source::Prometheus { server_url, query } = s else {
                return None;
            };
            let v = match view.query(server_url, query) {
                QueryResult::Scalar(v) => v,
                QueryResult::Vector(v) if v.len() == 1 => v[0],
                _ => return None,
            };
            v.is_finite().then(|| (key.clone(), json!(v)))
        })
        .collect();
    Value::Object(values)
}

fn replicas_of(view: &TickView<'_>, u: &Unit) -> i32 {
    view.model_serving(&u.namespace, &u.model_serving)
        .and_then(|m| match &u.role {
            None => m.replicas,
            Some(r) => m.roles.iter().find(|(n, _)| n == r).and_then(|(_, v)| *v),
        })
        .unwrap_or(1)
}

impl EngineLog {
    pub fn new(spec: &WorldSpec) -> Self {
        EngineLog {
            name: spec.name.clone(),
            engine: spec.engine,
            segments: Vec::new(),
            open: Vec::new(),
        }
    }

    /// A new policy set: policies whose engine state survives (same key, same generation)
    /// continue their line; the others start a new one.
    pub fn start_segment(&mut self, policies: &[Policy]) {
        let previous = std::mem::take(&mut self.open);
        self.open = policies
            .iter()
            .map(|p| {
                let key = Autoscaler::policy_key(p);
                if let Some(&i) = previous.iter().find(|&&i| {
                    self.segments[i].key == key && self.segments[i].generation == p.generation
                }) {
                    return i;
                }
                let units = units(p, self.engine);
                let (mode, kind) = match &p.target {
                    ScalingTarget::Homogeneous(_) => (Mode::Homogeneous, "homogeneous"),
                    ScalingTarget::Heterogeneous(_) => (Mode::Keyed, "heterogeneous"),
                    ScalingTarget::Disaggregated(_) => (Mode::Keyed, "disaggregated"),
                };
                let n = self.segments.iter().filter(|s| s.key == key).count();
                self.segments.push(Segment {
                    key: key.clone(),
                    generation: p.generation,
                    head: json!({
                        "id": format!("{}/{key}#{}", self.name, n + 1),
                        "kind": format!("simulated/{kind}"),
                        "validFor": [self.engine.as_str()],
                        "simulatedWith": self.engine.as_str(),
                        "policy": policy_json(p, units.first()),
                        "target": target_json(p, &units),
                    }),
                    mode,
                    units,
                    ticks: Vec::new(),
                    expected: Vec::new(),
                });
                self.segments.len() - 1
            })
            .collect();
    }

    /// One controller tick: per policy, what its collectors saw and what the engine decided.
    pub fn record(&mut self, now: UnixMillis, view: &TickView<'_>, decisions: &[Decision]) {
        let now_ms = now.as_millis();
        for (d, &seg) in decisions.iter().zip(&self.open) {
            let s = &mut self.segments[seg];
            let tick = match s.mode {
                Mode::Homogeneous => {
                    let Some(u) = s.units.first() else { continue };
                    json!({"t": now_ms, "replicas": replicas_of(view, u), "pods": pods_json(view, u), "external": external_json(view, u)})
                }
                Mode::Keyed => {
                    let keyed = |f: &dyn Fn(&Unit) -> Value| -> Value {
                        Value::Object(s.units.iter().map(|u| (u.name.clone(), f(u))).collect())
                    };
                    json!({
                        "t": now_ms,
                        "replicas": keyed(&|u| json!(replicas_of(view, u))),
                        "pods": keyed(&|u| json!(pods_json(view, u))),
                        "external": keyed(&|u| external_json(view, u)),
                    })
                }
            };
            s.ticks.push(tick);
            s.expected.push(tick_json(now_ms, d, true));
        }
    }

    /// The log's lines, in the order the segments started.
    pub fn into_lines(self) -> Vec<String> {
        let engine = self.engine.as_str();
        self.segments
            .into_iter()
            .map(|s| {
                let mut line = s.head;
                let policy = line["policy"].take();
                let target = line["target"].take();
                let o = line.as_object_mut().expect("segment head is an object");
                o.remove("policy");
                o.remove("target");
                o.insert(
                    "scenario".into(),
                    json!({"policy": policy, "target": target, "ticks": s.ticks}),
                );
                o.insert("expected".into(), json!({ engine: s.expected }));
                line.to_string()
            })
            .collect()
    }
}
