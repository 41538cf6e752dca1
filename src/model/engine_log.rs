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
    Cluster, QueryResult, LABEL_ENTRY, LABEL_GROUP_NAME, LABEL_MODEL_SERVING_NAME, LABEL_ROLE,
};
use crate::engine::decision::Decision;
use crate::engine::policy::{Policy, ScalingTarget};
use crate::engine::{Autoscaler, EngineVersion, UnixMillis};
use crate::golden::output::tick_json;
use crate::golden::record::{
    family_json, policy_json, scaled_units, target_json, ScaledUnit, Source,
};

struct Segment {
    key: String,
    generation: (i64, i64),
    head: Value,
    mode: Mode,
    units: Vec<ScaledUnit>,
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

/// The pods the unit's collector selects, as the format's pod objects.
fn pods_json(view: &TickView<'_>, u: &ScaledUnit) -> Vec<Value> {
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
fn external_json(view: &TickView<'_>, u: &ScaledUnit) -> Value {
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

fn replicas_of(view: &TickView<'_>, u: &ScaledUnit) -> i32 {
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
                let units = scaled_units(p, self.engine);
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
                    let keyed = |f: &dyn Fn(&ScaledUnit) -> Value| -> Value {
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
