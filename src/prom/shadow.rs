//! The shadow replay of a policy on a real Prometheus: at each sync tick, what Kthena's
//! collector would have read — every pod of each scaled unit from kube-state-metrics' latest
//! scrape (readiness, deletion, restarts, start time), each ready pod's metric families, the
//! unit's spec replicas, the policy's own PromQL queries — assembled into golden-format ticks,
//! run through the engine, and compared with the replica counts Prometheus recorded next.
//!
//! Prometheus holds samples, not what the collector saw: a ready pod's metrics are its newest
//! sample within the 5-minute lookback, flagged stale when older than `max_age`; a ready pod
//! with none is a scrape error, flagged missing; a pod that is not ready is a scrape error (it
//! serves no metrics). The recorded decision of a tick is the spec replicas at the next tick.
//! The recorded metrics do not react to another policy's decisions: a different policy's
//! replay answers "what would it have decided on these metrics", not "what would have
//! happened" (for that, simulate).

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::client::PromError;
use super::response::Series;
use super::selector::Selector;
use super::time::format_time;
use super::traffic::LOOKBACK_MS;
use crate::engine::decision::Decision;
use crate::engine::policy::{Policy, ScalingTarget};
use crate::engine::EngineVersion;
use crate::golden::format::Line;
use crate::golden::output::tick_json;
use crate::golden::record::{policy_json, scaled_units, target_json, ScaledUnit, Source};
use crate::model::openmetrics::{
    POD_CREATED, POD_DELETION, POD_READY, POD_RESTARTS, POD_START_TIME, SPEC_REPLICAS,
};
use crate::outputs::shadow::ShadowRow;
use crate::replay::replay;

/// Where the replay reads series: a live Prometheus, or series in memory.
pub trait SeriesSource {
    /// Raw samples of `selector` in `(start, end]`, Unix ms.
    fn raw(&self, selector: &str, start: i64, end: i64) -> Result<Vec<Series>, PromError>;
    /// `query` evaluated at `start`, `start + step`, … up to `end`.
    fn range(&self, query: &str, start: i64, end: i64, step: i64)
        -> Result<Vec<Series>, PromError>;
}

/// Raw samples are fetched an hour at a time.
const CHUNK_MS: i64 = 3_600_000;

impl SeriesSource for super::client::Client {
    fn raw(&self, selector: &str, start: i64, end: i64) -> Result<Vec<Series>, PromError> {
        super::client::Client::raw(self, selector, start, end, CHUNK_MS)
    }

    fn range(
        &self,
        query: &str,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<Vec<Series>, PromError> {
        self.query_range(query, start, end, step)
    }
}

/// What to replay and how the cluster's series are labelled.
#[derive(Debug, Clone)]
pub struct ShadowSpec {
    pub policy: Policy,
    pub engine: EngineVersion,
    /// The first tick and the last one at most (Unix ms), and the sync period.
    pub start: i64,
    pub end: i64,
    pub sync_ms: i64,
    /// A sample older than this at a tick is reported stale.
    pub max_age_ms: i64,
    pub selector: Selector,
    /// The pod and replica series' label naming the ModelServing, and the role.
    pub serving_label: String,
    pub role_label: String,
}

#[derive(Debug)]
pub struct Shadow {
    /// The assembled ticks with the replayed decisions as `expected`: one golden line.
    pub line: Value,
    pub rows: Vec<ShadowRow>,
    /// Ticks left out because a unit's spec replicas were not in Prometheus.
    pub gaps: Vec<i64>,
    pub pods_seen: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ShadowError {
    #[error(transparent)]
    Prometheus(#[from] PromError),
    #[error("no {what} series for {unit} in Prometheus between the start and the end (query {query:?}); check --selector, the labels and the time range")]
    Empty {
        what: &'static str,
        unit: String,
        query: String,
    },
    #[error("the engine refused the assembled ticks: {0}")]
    Replay(String),
}

/// One unit's series, split by kind.
struct UnitSeries<'u> {
    unit: &'u ScaledUnit,
    replicas: Vec<Series>,
    /// Per pod name: its series by metric name (histograms by `le`).
    pods: BTreeMap<String, Vec<Series>>,
    /// Per metric key with a Prometheus source: the query's values per tick time.
    external: BTreeMap<String, BTreeMap<i64, Vec<f64>>>,
}

/// The policy's metric families read from pods, with the names of their series.
fn pod_families(u: &ScaledUnit) -> Vec<String> {
    let mut names = Vec::new();
    for (_, s) in &u.metrics {
        if let Source::Pod(f) = s {
            for suffix in ["", "_bucket", "_sum", "_count"] {
                names.push(format!("{f}{suffix}"));
            }
        }
    }
    names
}

fn unit_labels<'a>(spec: &'a ShadowSpec, u: &'a ScaledUnit) -> Vec<(&'a str, &'a str)> {
    let mut l = vec![("namespace", u.namespace.as_str())];
    l.push((spec.serving_label.as_str(), u.model_serving.as_str()));
    if let Some(r) = &u.role {
        l.push((spec.role_label.as_str(), r.as_str()));
    }
    l
}

fn fetch<'u>(
    source: &dyn SeriesSource,
    spec: &ShadowSpec,
    u: &'u ScaledUnit,
) -> Result<UnitSeries<'u>, ShadowError> {
    let from = spec.start - LOOKBACK_MS;
    let labels = unit_labels(spec, u);
    let unit_name = format!("{}/{}", u.namespace, u.name);
    let query = Selector::default().series(&[SPEC_REPLICAS], &labels);
    // A unit without a role must not take its roles' series.
    let replicas: Vec<Series> = (source.raw(&query, from, spec.end + spec.sync_ms)?)
        .into_iter()
        .filter(|s| s.label(&spec.role_label) == u.role.as_deref())
        .collect();
    if replicas.is_empty() {
        return Err(ShadowError::Empty {
            what: SPEC_REPLICAS,
            unit: unit_name,
            query,
        });
    }
    let mut names: Vec<String> = [
        POD_READY,
        POD_CREATED,
        POD_START_TIME,
        POD_DELETION,
        POD_RESTARTS,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    names.extend(pod_families(u));
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let query = spec.selector.series(&names, &labels);
    let mut pods: BTreeMap<String, Vec<Series>> = BTreeMap::new();
    for s in source.raw(&query, from, spec.end)? {
        if let Some(pod) = s.label("pod").map(str::to_string) {
            pods.entry(pod).or_default().push(s);
        }
    }
    if !pods.values().flatten().any(|s| s.name() == POD_READY) {
        return Err(ShadowError::Empty {
            what: POD_READY,
            unit: unit_name,
            query,
        });
    }
    let mut external = BTreeMap::new();
    for (key, s) in &u.metrics {
        if let Source::Prometheus { query, .. } = s {
            let mut at: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
            for series in source.range(query, spec.start, spec.end, spec.sync_ms)? {
                for (t, v) in series.points {
                    at.entry(t).or_default().push(v);
                }
            }
            external.insert(key.clone(), at);
        }
    }
    Ok(UnitSeries {
        unit: u,
        replicas,
        pods,
        external,
    })
}

/// The newest sample at or before `t` within the lookback.
fn latest(s: &Series, t: i64) -> Option<(i64, f64)> {
    s.at_or_before(t).filter(|&(ts, _)| t - ts <= LOOKBACK_MS)
}

/// The pod's series named `name` (and matching `label = value` if given) at exactly `at`.
fn at_scrape(series: &[Series], name: &str, label: Option<(&str, &str)>, at: i64) -> Option<f64> {
    series
        .iter()
        .filter(|s| s.name() == name)
        .filter(|s| label.is_none_or(|(k, v)| s.label(k) == Some(v)))
        .find_map(|s| latest(s, at).filter(|&(ts, _)| ts == at).map(|(_, v)| v))
}

/// Names in natural order: `chat-9` before `chat-10`.
fn natural(a: &str, b: &str) -> Ordering {
    let key = |s: &str| {
        let digits = s.len() - s.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        let (head, tail) = s.split_at(s.len() - digits);
        (head.to_string(), tail.parse::<u64>().ok())
    };
    key(a).cmp(&key(b)).then_with(|| a.cmp(b))
}

/// The golden pod objects of `u` at tick `t`, and what was stale or missing.
fn pods_at(
    us: &UnitSeries<'_>,
    scrape: i64,
    t: i64,
    max_age: i64,
    stale: &mut Vec<String>,
) -> Vec<Value> {
    let mut listed: Vec<(f64, &String, &Vec<Series>)> = Vec::new();
    for (name, series) in &us.pods {
        // The pods kube-state-metrics listed in that scrape; unknown creation times last.
        if at_scrape(series, POD_READY, Some(("condition", "true")), scrape).is_some() {
            let created = at_scrape(series, POD_CREATED, None, scrape).unwrap_or(f64::INFINITY);
            listed.push((created, name, series));
        }
    }
    listed.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| natural(a.1, b.1)));
    listed
        .into_iter()
        .map(|(_, name, series)| {
            let ready =
                at_scrape(series, POD_READY, Some(("condition", "true")), scrape) == Some(1.0);
            let deleting = at_scrape(series, POD_DELETION, None, scrape).is_some();
            let restarted = at_scrape(series, POD_RESTARTS, None, scrape).is_some_and(|r| r > 0.0);
            let mut o = Map::new();
            o.insert("name".into(), json!(name));
            o.insert("ready".into(), json!(ready));
            o.insert("failed".into(), json!(deleting || restarted));
            if let Some(s) = at_scrape(series, POD_START_TIME, None, scrape) {
                o.insert("startTime".into(), json!((s * 1000.0).round() as i64));
            }
            let metrics = if ready {
                pod_metrics(us.unit, name, series, t, max_age, stale)
            } else {
                None
            };
            match metrics {
                Some(m) => o.insert("metrics".into(), Value::Object(m)),
                None => o.insert("scrapeError".into(), json!(true)),
            };
            Value::Object(o)
        })
        .collect()
}

/// A ready pod's metrics at `t`: each family's newest samples within the lookback; `None`
/// when it has none of them (a scrape error).
fn pod_metrics(
    u: &ScaledUnit,
    pod: &str,
    series: &[Series],
    t: i64,
    max_age: i64,
    stale: &mut Vec<String>,
) -> Option<Map<String, Value>> {
    let mut out = Map::new();
    // A unit that reads nothing from its pods scrapes them all the same, successfully.
    if !u.metrics.iter().any(|(_, s)| matches!(s, Source::Pod(_))) {
        return Some(out);
    }
    let mut oldest: Option<i64> = None;
    let mut note = |ts: i64| oldest = Some(oldest.map_or(ts, |o| o.min(ts)));
    for (key, s) in &u.metrics {
        let Source::Pod(family) = s else { continue };
        let value = series
            .iter()
            .find(|s| s.name() == family)
            .and_then(|s| latest(s, t))
            .map(|(ts, v)| {
                note(ts);
                json!(v)
            })
            .or_else(|| {
                histogram(series, family, t).map(|(ts, h)| {
                    note(ts);
                    h
                })
            });
        if let Some(v) = value {
            out.insert(key.clone(), v);
        }
    }
    match oldest {
        None => {
            stale.push(format!("{pod}: ready but no metrics in Prometheus"));
            None
        }
        Some(ts) => {
            if t - ts > max_age {
                stale.push(format!("{pod}: metrics {} s old", (t - ts) / 1000));
            }
            Some(out)
        }
    }
}

/// A classic histogram's newest sample at or before `t`: its buckets (by `le`, ascending),
/// sum and count, all from the same scrape.
fn histogram(series: &[Series], family: &str, t: i64) -> Option<(i64, Value)> {
    let bucket_name = format!("{family}_bucket");
    let mut buckets: Vec<(f64, i64, f64)> = Vec::new();
    for s in series.iter().filter(|s| s.name() == bucket_name) {
        let le = match s.label("le")? {
            "+Inf" | "Inf" => f64::INFINITY,
            le => le.parse().ok()?,
        };
        let (ts, v) = latest(s, t)?;
        buckets.push((le, ts, v));
    }
    let ts = buckets.iter().map(|b| b.1).max()?;
    buckets.retain(|b| b.1 == ts);
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    let at = |suffix: &str| {
        let name = format!("{family}{suffix}");
        series
            .iter()
            .find(|s| s.name() == name)
            .and_then(|s| latest(s, t))
            .filter(|&(st, _)| st == ts)
            .map(|(_, v)| v)
    };
    let (sum, count) = (at("_sum")?, at("_count")?);
    let buckets: Vec<Value> = buckets
        .iter()
        .map(|&(le, _, c)| {
            if le.is_infinite() {
                json!(["+Inf", c as i64])
            } else {
                json!([le, c as i64])
            }
        })
        .collect();
    Some((
        ts,
        json!({"buckets": buckets, "sum": sum, "count": count as i64}),
    ))
}

/// The unit's spec replicas at `t` and the scrape time they came from.
fn replicas_at(us: &UnitSeries<'_>, t: i64) -> Option<(i64, i32)> {
    us.replicas
        .iter()
        .filter_map(|s| latest(s, t))
        .max_by_key(|&(ts, _)| ts)
        .map(|(ts, v)| (ts, v as i32))
}

/// The unit's Prometheus values at `t`, as the engine accepts them (one finite sample).
fn external_at(us: &UnitSeries<'_>, t: i64) -> Value {
    let values: Map<String, Value> = us
        .external
        .iter()
        .filter_map(|(key, at)| match at.get(&t).map(Vec::as_slice) {
            Some([v]) if v.is_finite() => Some((key.clone(), json!(v))),
            _ => None,
        })
        .collect();
    Value::Object(values)
}

/// Replays `spec.policy` on the series `source` holds.
pub fn shadow(source: &dyn SeriesSource, spec: &ShadowSpec) -> Result<Shadow, ShadowError> {
    let units = scaled_units(&spec.policy, spec.engine);
    let series: Vec<UnitSeries<'_>> = units
        .iter()
        .map(|u| fetch(source, spec, u))
        .collect::<Result<_, _>>()?;
    let keyed = !matches!(spec.policy.target, ScalingTarget::Homogeneous(_));
    let mut ticks = Vec::new();
    let mut stale_at = Vec::new();
    let mut currents: Vec<Vec<i32>> = Vec::new();
    let mut gaps = Vec::new();
    let mut t = spec.start;
    while t <= spec.end {
        let at: Option<Vec<(i64, i32)>> = series.iter().map(|us| replicas_at(us, t)).collect();
        let Some(at) = at else {
            gaps.push(t);
            t += spec.sync_ms;
            continue;
        };
        let mut stale = Vec::new();
        for (us, &(scrape, _)) in series.iter().zip(&at) {
            if t - scrape > spec.max_age_ms {
                let unit = &us.unit.name;
                stale.push(format!(
                    "{unit}: kube-state-metrics {} s old",
                    (t - scrape) / 1000
                ));
            }
        }
        let pods: Vec<Value> = (series.iter().zip(&at))
            .map(|(us, &(scrape, _))| {
                Value::Array(pods_at(us, scrape, t, spec.max_age_ms, &mut stale))
            })
            .collect();
        let external: Vec<Value> = series.iter().map(|us| external_at(us, t)).collect();
        let replicas: Vec<i32> = at.iter().map(|&(_, r)| r).collect();
        let tick = if keyed {
            let by_unit = |vals: Vec<Value>| -> Value {
                Value::Object(units.iter().map(|u| u.name.clone()).zip(vals).collect())
            };
            json!({
                "t": t,
                "replicas": by_unit(replicas.iter().map(|r| json!(r)).collect()),
                "pods": by_unit(pods),
                "external": by_unit(external),
            })
        } else {
            json!({"t": t, "replicas": replicas[0], "pods": pods[0], "external": external[0]})
        };
        ticks.push(tick);
        stale_at.push(stale.join("; "));
        currents.push(replicas);
        t += spec.sync_ms;
    }
    let kind = match spec.policy.target {
        ScalingTarget::Homogeneous(_) => "homogeneous",
        ScalingTarget::Heterogeneous(_) => "heterogeneous",
        ScalingTarget::Disaggregated(_) => "disaggregated",
    };
    let engine = spec.engine.as_str();
    let mut line = json!({
        "id": format!("shadow/{}", spec.policy.name),
        "kind": format!("shadow/{kind}"),
        "validFor": [engine],
        "simulatedWith": engine,
        "scenario": {
            "policy": policy_json(&spec.policy, units.first()),
            "target": target_json(&spec.policy, &units),
            "ticks": ticks,
        },
    });
    let parsed: Line =
        serde_json::from_value(line.clone()).map_err(|e| ShadowError::Replay(e.to_string()))?;
    let decisions = replay(&parsed, spec.engine).map_err(|e| ShadowError::Replay(e.to_string()))?;
    let ticks_t: Vec<i64> = parsed.scenario.ticks.iter().map(|k| k.t).collect();
    line["expected"] = json!({
        engine: ticks_t.iter().zip(&decisions).map(|(&t, d)| tick_json(t, d, true)).collect::<Vec<_>>()
    });
    let mut rows = Vec::new();
    for (k, (d, &t)) in decisions.iter().zip(&ticks_t).enumerate() {
        for (i, (u, us)) in units.iter().zip(&series).enumerate() {
            let current = currents[k][i];
            let recorded = replicas_at(us, t + spec.sync_ms)
                .filter(|_| t + spec.sync_ms <= spec.end)
                .map(|(_, r)| r);
            let replayed = written(d, u).unwrap_or(current);
            rows.push(ShadowRow {
                time: format_time(t),
                t_ms: t,
                unit: u.name.clone(),
                current,
                replayed,
                recorded,
                agree: recorded.map(|r| r == replayed),
                skip: d.skip,
                panic: d.panic,
                reason: d.reason.to_string(),
                stale: stale_at[k].clone(),
            });
        }
    }
    let pods_seen = series.iter().map(|s| s.pods.len()).sum();
    Ok(Shadow {
        line,
        rows,
        gaps,
        pods_seen,
    })
}

/// What decision `d` writes to unit `u`, if anything: the corrected count of a homogeneous
/// target, a heterogeneous param's share, a role's final count.
fn written(d: &Decision, u: &ScaledUnit) -> Option<i32> {
    if d.skip {
        return None;
    }
    if let Some(split) = &d.split {
        return (split.iter())
            .find(|(k, _)| k.rsplit('/').next() == Some(u.name.as_str()))
            .map(|(_, v)| *v);
    }
    if let Some(roles) = &d.roles {
        return (roles.iter())
            .find(|r| r.name == u.name)
            .map(|r| r.final_replicas);
    }
    d.corrected
}

/// Agreement over the ticks with a recorded next value: (agreeing, compared).
pub fn agreement(rows: &[ShadowRow]) -> (usize, usize) {
    let mut by_tick: BTreeMap<i64, Option<bool>> = BTreeMap::new();
    for r in rows {
        let e = by_tick.entry(r.t_ms).or_insert(Some(true));
        *e = match (*e, r.agree) {
            (Some(a), Some(b)) => Some(a && b),
            _ => None,
        };
    }
    let compared: Vec<bool> = by_tick.values().filter_map(|v| *v).collect();
    (compared.iter().filter(|a| **a).count(), compared.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pods_created_together_are_listed_in_natural_name_order() {
        let mut names = vec!["chat-10", "chat-9", "chat-1", "chat", "abc-2"];
        names.sort_by(|a, b| natural(a, b));
        assert_eq!(names, vec!["abc-2", "chat", "chat-1", "chat-9", "chat-10"]);
    }

    #[test]
    fn a_tick_agrees_only_when_every_unit_does() {
        let row = |t: i64, unit: &str, agree: Option<bool>| ShadowRow {
            time: String::new(),
            t_ms: t,
            unit: unit.into(),
            current: 1,
            replayed: 1,
            recorded: agree.map(|_| 1),
            agree,
            skip: false,
            panic: false,
            reason: String::new(),
            stale: String::new(),
        };
        let rows = [
            row(0, "a", Some(true)),
            row(0, "b", Some(false)),
            row(15, "a", Some(true)),
            row(15, "b", Some(true)),
            row(30, "a", None),
            row(30, "b", None),
        ];
        assert_eq!(agreement(&rows), (1, 2));
    }
}
