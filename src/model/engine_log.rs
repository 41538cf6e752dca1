//! `--engine-log`: every controller tick's engine inputs and decisions, in the golden JSON
//! Lines format (FORMAT.md) — one line per policy and engine-state lifetime, holding the
//! policy as the engine used it, the pods its collector selected with what they exposed, and
//! the decisions as `expected` for the engine of the run. `kthena-sim replay --check` on the
//! file reproduces every decision the run took.
//!
//! The format has one metric endpoint per target: a current-API target whose metrics come
//! from pod sources with different label selectors is logged with the first source's.

use serde_json::{json, Map, Value};

use super::view::TickView;
use crate::engine::cluster::{
    Cluster, MetricFamily, LABEL_ENTRY, LABEL_GROUP_NAME, LABEL_MODEL_SERVING_NAME, LABEL_ROLE,
};
use crate::engine::decision::Decision;
use crate::engine::metric_collector::{DEFAULT_METRIC_PORT, DEFAULT_METRIC_URI};
use crate::engine::policy::{
    Duration, LabelSelector, MetricSource, Policy, ScalingTarget, StablePolicy, Target,
};
use crate::engine::{Autoscaler, EngineVersion};
use crate::replay::output::tick_json;
use crate::scenario::Scenario;

/// Which pods a target's collector reads, and where.
#[derive(Debug, Clone)]
struct Selection {
    namespace: String,
    model_serving: String,
    role: Option<String>,
    selector: Option<LabelSelector>,
    uri: String,
    port: i32,
    /// Metric key → family scraped; `None` for a metric without a pod source.
    families: Vec<(String, Option<String>)>,
}

struct Segment {
    key: String,
    generation: (i64, i64),
    head: Value,
    selection: Option<Selection>,
    ticks: Vec<Value>,
    expected: Vec<Value>,
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

/// The policy in the format's user form, every behaviour field explicit so that
/// re-defaulting it gives back exactly what the engine used.
fn policy_json(p: &Policy, sel: Option<&Selection>, engine: EngineVersion) -> Value {
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
    let metrics: Vec<Value> = p
        .metrics
        .iter()
        .map(|m| {
            let source = match (
                engine,
                sel.and_then(|s| s.families.iter().find(|(k, _)| *k == m.name)),
            ) {
                (EngineVersion::V0_4, _) => "pod",
                (_, Some((_, Some(_)))) => "pod",
                _ => "none",
            };
            json!({"name": m.name, "targetValue": m.target_value.as_f64(), "source": source})
        })
        .collect();
    json!({
        "tolerancePercent": p.tolerance_percent,
        "metrics": metrics,
        "behavior": {
            "scaleUp": {"stablePolicy": stable_json(&b.scale_up.stable_policy), "panicPolicy": panic_json},
            "scaleDown": stable_json(&b.scale_down),
        },
    })
}

fn selection(p: &Policy, engine: EngineVersion) -> Option<Selection> {
    let ScalingTarget::Homogeneous(h) = &p.target else {
        return None;
    };
    let t: &Target = h.target.as_ref()?;
    let r = &t.target_ref;
    let namespace = match engine {
        EngineVersion::V0_4 => p.namespace.clone(),
        EngineVersion::Head if r.namespace.is_empty() => p.namespace.clone(),
        EngineVersion::Head => r.namespace.clone(),
    };
    let (selector, uri, port, families, role) = match engine {
        EngineVersion::V0_4 => {
            let e = t.metric_endpoint.as_ref();
            let role = t
                .sub_target
                .as_ref()
                .filter(|s| s.kind == "Role")
                .map(|s| s.name.clone());
            (
                e.and_then(|e| e.label_selector.clone()),
                e.map_or(String::new(), |e| e.uri.clone()),
                e.map_or(0, |e| e.port),
                p.metrics
                    .iter()
                    .map(|m| (m.name.clone(), Some(m.name.clone())))
                    .collect(),
                role,
            )
        }
        EngineVersion::Head => {
            let sources = t.metric_sources.as_ref();
            let first_pod = sources.and_then(|s| {
                p.metrics.iter().find_map(|m| match s.get(&m.name) {
                    Some(MetricSource::Pod(pod)) => Some(pod),
                    _ => None,
                })
            });
            let families = p
                .metrics
                .iter()
                .map(|m| {
                    let f = match sources.and_then(|s| s.get(&m.name)) {
                        Some(MetricSource::Pod(pod)) if pod.name.is_empty() => Some(m.name.clone()),
                        Some(MetricSource::Pod(pod)) => Some(pod.name.clone()),
                        _ => None,
                    };
                    (m.name.clone(), f)
                })
                .collect();
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
                families,
                None,
            )
        }
    };
    Some(Selection {
        namespace,
        model_serving: r.name.clone(),
        role,
        selector,
        uri,
        port,
        families,
    })
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

/// The pods the collector selects, as the format's pod objects.
fn pods_json(view: &TickView, sel: &Selection) -> Vec<Value> {
    let mut out = Vec::new();
    for (i, pod) in view.pods().iter().enumerate() {
        let l = &pod.labels;
        let selected = pod.namespace == sel.namespace
            && l.contains_key(LABEL_GROUP_NAME)
            && l.get(LABEL_MODEL_SERVING_NAME) == Some(&sel.model_serving)
            && l.get(LABEL_ENTRY).map(String::as_str) == Some("true")
            && sel
                .role
                .as_ref()
                .is_none_or(|r| l.get(LABEL_ROLE) == Some(r))
            && sel.selector.as_ref().is_none_or(|s| {
                s.match_labels.iter().all(|(k, v)| {
                    [LABEL_MODEL_SERVING_NAME, LABEL_ENTRY, LABEL_ROLE].contains(&k.as_str())
                        || l.get(k) == Some(v)
                }) && s.matches_expressions(l)
            });
        if !selected {
            continue;
        }
        let mut o = Map::new();
        o.insert("name".into(), json!(pod.name));
        o.insert("ready".into(), json!(pod.ready));
        o.insert("failed".into(), json!(pod.failed));
        if let Some(t) = pod.start_time_ms {
            o.insert("startTime".into(), json!(t));
        }
        match view.endpoint(i) {
            Some((port, path, families)) if port == sel.port && path == sel.uri => {
                let metrics: Map<String, Value> = sel
                    .families
                    .iter()
                    .filter_map(|(key, f)| {
                        let f = families.get(f.as_ref()?)?;
                        Some((key.clone(), family_json(f)?))
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

impl EngineLog {
    pub fn new(scn: &Scenario) -> Self {
        EngineLog {
            name: scn.name.clone(),
            engine: scn.engine,
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
                if let Some(&i) = previous
                    .iter()
                    .find(|&&i| self.segments[i].key == key && self.segments[i].generation == p.generation)
                {
                    return i;
                }
                let sel = selection(p, self.engine);
                let target = match &p.target {
                    ScalingTarget::Homogeneous(h) => {
                        json!({"mode": "homogeneous", "minReplicas": h.min_replicas, "maxReplicas": h.max_replicas})
                    }
                    _ => Value::Null,
                };
                let n = self.segments.iter().filter(|s| s.key == key).count();
                self.segments.push(Segment {
                    key: key.clone(),
                    generation: p.generation,
                    head: json!({
                        "id": format!("{}/{key}#{}", self.name, n + 1),
                        "kind": "simulated/homogeneous",
                        "validFor": [self.engine.as_str()],
                        "simulatedWith": self.engine.as_str(),
                        "policy": policy_json(p, sel.as_ref(), self.engine),
                        "target": target,
                    }),
                    selection: sel,
                    ticks: Vec::new(),
                    expected: Vec::new(),
                });
                self.segments.len() - 1
            })
            .collect();
    }

    /// One controller tick: per policy, what its collector saw and what the engine decided.
    pub fn record(&mut self, now_ms: i64, view: &TickView, decisions: &[Decision]) {
        for (d, &seg) in decisions.iter().zip(&self.open) {
            let s = &mut self.segments[seg];
            let Some(sel) = &s.selection else { continue };
            let replicas = view
                .model_serving(&sel.namespace, &sel.model_serving)
                .and_then(|m| match &sel.role {
                    None => m.replicas,
                    Some(r) => m.roles.iter().find(|(n, _)| n == r).and_then(|(_, v)| *v),
                })
                .unwrap_or(1);
            s.ticks
                .push(json!({"t": now_ms, "replicas": replicas, "pods": pods_json(view, sel)}));
            s.expected.push(tick_json(now_ms, d, true));
        }
    }

    /// The log's lines, in the order the segments started.
    pub fn into_lines(self) -> Vec<String> {
        let engine = self.engine.as_str();
        self.segments
            .into_iter()
            .filter(|s| s.selection.is_some())
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
