//! Port of `pkg/autoscaler/autoscaler/metric_collector.go` and the pod selection of
//! `pkg/autoscaler/util`: which pods count, how their metrics are scraped and summed, and the
//! histogram baselines (docs/engine.md §7). The two revisions differ in almost every rule
//! (docs/engine.md §13.3), so each has its own `update_metrics_*` function over shared helpers.
//!
//! Long because it ports one Go file whole, with both revisions side by side.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::cluster::{
    Cluster, MetricFamily, PodView, QueryResult, Scrape, LABEL_ENTRY, LABEL_GROUP_NAME,
    LABEL_MODEL_SERVING_NAME, LABEL_ROLE,
};
use super::histogram::{quantile_in_diff, Snapshot};
use super::policy::{LabelSelector, MetricSource, PodMetricSource, PrometheusMetricSource, Target};
use super::recommendation::Metrics;
use super::sliding_window::SnapshotWindow;
use super::GoError;
use super::{EngineVersion, UnixMillis};

/// Age of the histogram baseline (`SloQuantileSlidingWindowSeconds`).
pub const SLO_QUANTILE_WINDOW_MS: i64 = 60_000;
/// Maximum age of a baseline (`SloQuantileDataKeepSeconds`).
pub const SLO_DATA_KEEP_MS: i64 = 300_000;
/// The histogram percentile the engine uses.
pub const SLO_QUANTILE_PERCENTILE: i32 = 95;
/// HEAD's fallbacks when a pod source leaves port or path empty.
pub const DEFAULT_METRIC_PORT: i32 = 8100;
pub const DEFAULT_METRIC_URI: &str = "/metrics";

/// Histogram snapshots of one pod, with the start time that identifies its incarnation.
#[derive(Debug, Clone, Default)]
struct HistogramInfo {
    pod_start_time: Option<i64>,
    /// v0.4: keyed by family name; HEAD: keyed by policy metric key.
    histograms: BTreeMap<String, Snapshot>,
}

type PodHistograms = BTreeMap<String, HistogramInfo>;

/// Something the collector noticed this tick; the first one explains a skipped tick.
#[derive(Debug, Clone, PartialEq)]
pub enum Issue {
    NoPods,
    PodNotReady(String),
    /// HEAD: a metric group whose pods are all not ready yet (their count).
    NoReadyPods(usize),
    PodFailed(String),
    ScrapeFailed(String),
    MetricSourceMissing(String),
    Histogram {
        pod: String,
        error: String,
    },
    UnsupportedMetricType {
        pod: String,
        family: String,
    },
    Prometheus {
        metric: String,
        error: String,
    },
    Selector(String),
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Issue::NoPods => f.write_str("no pods"),
            Issue::PodNotReady(p) => write!(f, "pod {p} not ready"),
            Issue::NoReadyPods(n) => write!(f, "no ready pod ({n} not ready)"),
            Issue::PodFailed(p) => write!(f, "pod {p} failed, restarted or terminating"),
            Issue::ScrapeFailed(p) => write!(f, "scrape of pod {p} failed"),
            Issue::MetricSourceMissing(m) => write!(f, "metric {m} has no source"),
            Issue::Histogram { pod, error } => write!(f, "histogram of pod {pod}: {error}"),
            Issue::UnsupportedMetricType { pod, family } => {
                write!(f, "pod {pod}: unsupported metric type of {family}")
            }
            Issue::Prometheus { metric, error } => write!(f, "prometheus metric {metric}: {error}"),
            Issue::Selector(e) => f.write_str(e),
        }
    }
}

/// What one collection produced: the inputs of the recommendation, plus diagnostics.
#[derive(Debug, Clone, Default)]
pub struct Collected {
    pub unready: i32,
    /// `None`: the unit yielded no map (v0.4 only).
    pub ready: Option<Metrics>,
    pub external: Metrics,
    pub issues: Vec<Issue>,
}

/// Why a collection aborted the whole reconcile of its policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CollectError {
    #[error("{0}")]
    Selector(String),
    /// Kthena v0.4 dereferences a nil target here and the controller crashes.
    #[error("controller crash: {0}")]
    Crash(String),
    /// Kthena v0.4 spins forever on an undecodable payload; autoscaling stops for good.
    #[error("controller hang: undecodable metrics payload from pod {0}")]
    Hang(String),
}

/// `MetricCollector`: one per scaled target (or per role, or per heterogeneous param).
#[derive(Debug, Clone)]
pub struct MetricCollector {
    past_histograms: SnapshotWindow<PodHistograms>,
    target: Option<Target>,
    /// Pod namespace: v0.4 the binding's; HEAD `targetRef.namespace` or the policy's.
    namespace: String,
    /// Metric key → per-replica target, in policy order.
    pub metric_targets: Vec<(String, f64)>,
    /// Extra `modelserving.volcano.sh/role` selector: v0.4 `subTargets`, HEAD disaggregated roles.
    role: Option<String>,
    /// HEAD: the metric sources resolved once; they are fixed for the collector's generation.
    plan: Plan,
}

/// `planMetricSources`, computed once: pod metrics grouped by scrape configuration.
#[derive(Debug, Clone, Default)]
struct Plan {
    groups: Vec<Group>,
    prometheus: Vec<(String, PrometheusMetricSource)>,
    missing: Vec<String>,
}

/// Metrics of one HEAD scrape configuration.
#[derive(Debug, Clone)]
struct Group {
    source: PodMetricSource,
    /// Family name to scrape → the policy keys it feeds.
    wanted: Vec<(String, Vec<String>)>,
}

impl Plan {
    fn new(target: Option<&Target>, metric_targets: &[(String, f64)]) -> Self {
        let sources = target.and_then(|t| t.metric_sources.as_ref());
        let mut plan = Plan::default();
        let mut by_key: BTreeMap<String, usize> = BTreeMap::new();
        for (key, _) in metric_targets {
            match sources.and_then(|s| s.get(key)) {
                None => plan.missing.push(key.clone()),
                Some(MetricSource::Prometheus(src)) => {
                    plan.prometheus.push((key.clone(), src.clone()))
                }
                Some(MetricSource::Pod(src)) => {
                    let scrape_name = if src.name.is_empty() { key } else { &src.name };
                    let g = *by_key.entry(group_key(src)).or_insert_with(|| {
                        plan.groups.push(Group {
                            source: src.clone(),
                            wanted: Vec::new(),
                        });
                        plan.groups.len() - 1
                    });
                    let wanted = &mut plan.groups[g].wanted;
                    match wanted.iter_mut().find(|(n, _)| n == scrape_name) {
                        Some((_, keys)) => keys.push(key.clone()),
                        None => wanted.push((scrape_name.clone(), vec![key.clone()])),
                    }
                }
            }
        }
        plan
    }
}

impl MetricCollector {
    pub fn new(
        target: Option<Target>,
        namespace: String,
        metric_targets: Vec<(String, f64)>,
        role: Option<String>,
    ) -> Self {
        let plan = Plan::new(target.as_ref(), &metric_targets);
        MetricCollector {
            past_histograms: SnapshotWindow::new(SLO_QUANTILE_WINDOW_MS, SLO_DATA_KEEP_MS),
            plan,
            target,
            namespace,
            metric_targets,
            role,
        }
    }

    /// `UpdateMetrics` of the given revision.
    pub fn update_metrics(
        &mut self,
        version: EngineVersion,
        now: i64,
        cluster: &dyn Cluster,
    ) -> Result<Collected, CollectError> {
        match version {
            EngineVersion::V0_4 => self.update_metrics_v04(now, cluster),
            EngineVersion::Head => Ok(self.update_metrics_head(now, cluster)),
        }
    }

    /// v0.4.0: one scrape per pod of `metricEndpoint`; any failed pod or unready pod voids
    /// the whole target; missing keys are zero-filled (docs/engine.md §7.2).
    fn update_metrics_v04(
        &mut self,
        now: i64,
        cluster: &dyn Cluster,
    ) -> Result<Collected, CollectError> {
        let target =
            match &self.target {
                Some(t) if !t.target_ref.name.is_empty() => t,
                _ => return Err(CollectError::Crash(
                    "nil pointer dereference building the pod selector of a target without a name"
                        .into(),
                )),
            };
        let role = v04_role(target);
        let endpoint = target.metric_endpoint.as_ref();
        let selector = endpoint.and_then(|e| e.label_selector.as_ref());
        let pods = select_pods(cluster, &self.namespace, target, selector, role)?;
        let mut out = Collected::default();
        if pods.is_empty() {
            out.issues.push(Issue::NoPods);
            return Ok(out);
        }
        let (uri, port) = endpoint.map_or(("", 0), |e| (e.uri.as_str(), e.port));
        let past = self.past_histograms.get_last_unfresh(now);
        let mut m = Metrics::new();
        let mut current = PodHistograms::new();
        let mut first_unready = None;
        let mut first_failed = None;
        for &i in &pods {
            let pod = &cluster.pods()[i];
            if !pod.ready && first_unready.is_none() {
                first_unready = Some(pod.name.clone());
            }
            if pod.failed && first_failed.is_none() {
                first_failed = Some(pod.name.clone());
            }
            let past_h = past_histograms_for(
                past,
                &pod.name,
                pod.start_time_ms.map(UnixMillis::as_millis),
            );
            let families = match cluster.scrape(i, uri, port) {
                Scrape::Ok(f) => f,
                Scrape::Failed => {
                    out.issues.push(Issue::ScrapeFailed(pod.name.clone()));
                    continue;
                }
                Scrape::Malformed => return Err(CollectError::Hang(pod.name.clone())),
            };
            let mut cur_h = BTreeMap::new();
            for (name, family) in families {
                if family.is_empty() || !self.metric_targets.iter().any(|(k, _)| k == name) {
                    continue;
                }
                match family {
                    MetricFamily::Counter(v) | MetricFamily::Gauge(v) => {
                        *m.entry(name.clone()).or_insert(0.0) += v[0];
                    }
                    MetricFamily::Histogram(h) => {
                        let snap = h[0].clone();
                        let base = past_h.and_then(|p| p.get(name));
                        match quantile_in_diff(
                            SLO_QUANTILE_PERCENTILE,
                            &snap,
                            base.unwrap_or(&EMPTY),
                        ) {
                            Ok(q) => *m.entry(name.clone()).or_insert(0.0) += q,
                            Err(e) => out.issues.push(Issue::Histogram {
                                pod: pod.name.clone(),
                                error: e.to_string(),
                            }),
                        }
                        cur_h.insert(name.clone(), snap);
                    }
                    MetricFamily::Other { .. } => {}
                }
            }
            for (key, _) in &self.metric_targets {
                m.entry(key.clone()).or_insert(0.0);
            }
            // A pod without histograms needs no entry: a missing baseline reads as EMPTY too.
            if !cur_h.is_empty() {
                current.insert(
                    pod.name.clone(),
                    HistogramInfo {
                        pod_start_time: pod.start_time_ms.map(UnixMillis::as_millis),
                        histograms: cur_h,
                    },
                );
            }
        }
        if let Some(p) = first_failed {
            out.issues.insert(0, Issue::PodFailed(p));
            return Ok(out);
        }
        if let Some(p) = first_unready {
            out.issues.insert(0, Issue::PodNotReady(p));
            out.unready = 1;
            return Ok(out);
        }
        self.past_histograms.append(now, current);
        out.ready = Some(m);
        Ok(out)
    }

    /// HEAD: metrics grouped by scrape configuration, ready pods summed, unready pods
    /// counted, a failing group dropped, Prometheus sources as external values
    /// (docs/engine.md §7.3, §7.4). Never fails.
    fn update_metrics_head(&mut self, now: i64, cluster: &dyn Cluster) -> Collected {
        let mut out = Collected {
            ready: Some(Metrics::new()),
            ..Collected::default()
        };
        for key in &self.plan.missing {
            out.issues.push(Issue::MetricSourceMissing(key.clone()));
        }
        for (key, src) in &self.plan.prometheus {
            match prom_query(cluster, src) {
                Ok(v) => {
                    out.external.insert(key.clone(), v);
                }
                Err(error) => out.issues.push(Issue::Prometheus {
                    metric: key.clone(),
                    error: error.0,
                }),
            }
        }
        let past = self.past_histograms.get_last_unfresh(now);
        let mut current = CurrentHistograms {
            histograms: PodHistograms::new(),
            seen: vec![false; cluster.pods().len()],
        };
        let mut unready_pods: BTreeSet<String> = BTreeSet::new();
        let ready = out.ready.as_mut().expect("HEAD always yields a map");
        for group in &self.plan.groups {
            let target = self.target.as_ref();
            match collect_group(
                cluster,
                &self.namespace,
                target,
                self.role.as_deref(),
                group,
                past,
                &mut current,
            ) {
                Ok((vals, unready)) => {
                    if vals.is_empty() && !unready.is_empty() {
                        out.issues.push(Issue::NoReadyPods(unready.len()));
                    }
                    unready_pods.extend(unready);
                    ready.extend(vals);
                }
                Err(issue) => out.issues.push(issue),
            }
        }
        self.past_histograms.append(now, current.histograms);
        out.unready = unready_pods.len() as i32;
        out
    }
}

static EMPTY: Snapshot = Snapshot {
    sum: 0.0,
    count: 0,
    buckets: Vec::new(),
};

/// `podMetricGroupKey`: raw field values, so `""` and `"/metrics"` are different groups.
fn group_key(src: &PodMetricSource) -> String {
    let sel = src
        .label_selector
        .as_ref()
        .map(LabelSelector::canonical_string)
        .unwrap_or_default();
    format!("{}|{}|{}", src.uri, src.port, sel)
}

/// `collectPodMetricsGroup`: the group's values and unready pods, or the issue that dropped it.
fn collect_group(
    cluster: &dyn Cluster,
    namespace: &str,
    target: Option<&Target>,
    role: Option<&str>,
    group: &Group,
    past: Option<&PodHistograms>,
    current: &mut CurrentHistograms,
) -> Result<(Metrics, Vec<String>), Issue> {
    let pods = match target {
        Some(t) if !t.target_ref.name.is_empty() => select_pods(
            cluster,
            namespace,
            t,
            group.source.label_selector.as_ref(),
            role,
        )
        .map_err(|e| Issue::Selector(e.to_string()))?,
        // No selector: no pods.
        _ => Vec::new(),
    };
    if pods.is_empty() {
        return Err(Issue::NoPods);
    }
    let mut unready = Vec::new();
    let mut failed = None;
    for &i in &pods {
        let pod = &cluster.pods()[i];
        if !pod.ready {
            unready.push(format!("{}/{}", pod.namespace, pod.name));
        }
        if pod.failed && failed.is_none() {
            failed = Some(pod.name.clone());
        }
    }
    if let Some(p) = failed {
        return Err(Issue::PodFailed(p));
    }

    let uri = if group.source.uri.is_empty() {
        DEFAULT_METRIC_URI
    } else {
        &group.source.uri
    };
    let port = if group.source.port == 0 {
        DEFAULT_METRIC_PORT
    } else {
        group.source.port
    };
    let mut vals = Metrics::new();
    for &i in &pods {
        let pod = &cluster.pods()[i];
        if !pod.ready {
            continue;
        }
        let past_h = past_histograms_for(
            past,
            &pod.name,
            pod.start_time_ms.map(UnixMillis::as_millis),
        );
        let families = match cluster.scrape(i, uri, port) {
            Scrape::Ok(f) => f,
            Scrape::Failed | Scrape::Malformed => {
                return Err(Issue::ScrapeFailed(pod.name.clone()))
            }
        };
        // Go shares the map of a pod already scraped this tick (by another group), so writes
        // to it stick even if this scrape fails later; a new map is kept only on success.
        let existed = current.seen[i];
        let mut fresh = BTreeMap::new();
        for (scrape_name, keys) in &group.wanted {
            let Some(family) = families.get(scrape_name) else {
                continue;
            };
            for key in keys {
                let base = past_h.and_then(|p| p.get(key)).unwrap_or(&EMPTY);
                let (value, snap) = extract(family, base).map_err(|e| match e {
                    ExtractError::Unsupported => Issue::UnsupportedMetricType {
                        pod: pod.name.clone(),
                        family: scrape_name.clone(),
                    },
                    ExtractError::Quantile(error) => Issue::Histogram {
                        pod: pod.name.clone(),
                        error,
                    },
                })?;
                if let Some(v) = value {
                    *vals.entry(key.clone()).or_insert(0.0) += v;
                }
                if let Some(s) = snap {
                    if existed {
                        current.entry(pod).insert(key.clone(), s);
                    } else {
                        fresh.insert(key.clone(), s);
                    }
                }
            }
        }
        current.seen[i] = true;
        // A pod without histograms needs no entry: a missing baseline reads as EMPTY too.
        if !fresh.is_empty() {
            current.entry(pod).extend(fresh);
        }
    }
    Ok((vals, unready))
}

/// The histogram snapshots taken this tick, and which pods were already scraped.
struct CurrentHistograms {
    histograms: PodHistograms,
    seen: Vec<bool>,
}

impl CurrentHistograms {
    fn entry(&mut self, pod: &PodView) -> &mut BTreeMap<String, Snapshot> {
        &mut self
            .histograms
            .entry(pod.name.clone())
            .or_insert_with(|| HistogramInfo {
                pod_start_time: pod.start_time_ms.map(UnixMillis::as_millis),
                histograms: BTreeMap::new(),
            })
            .histograms
    }
}

enum ExtractError {
    Unsupported,
    Quantile(String),
}

/// `extractMetricFromFamily` (HEAD): counters and gauges summed over samples, histograms
/// from the first sample, other types an error.
fn extract(
    family: &MetricFamily,
    past: &Snapshot,
) -> Result<(Option<f64>, Option<Snapshot>), ExtractError> {
    if family.is_empty() {
        return Ok((None, None));
    }
    match family {
        MetricFamily::Counter(v) | MetricFamily::Gauge(v) => Ok((Some(v.iter().sum()), None)),
        MetricFamily::Histogram(h) => {
            let snap = h[0].clone();
            match quantile_in_diff(SLO_QUANTILE_PERCENTILE, &snap, past) {
                Ok(q) => Ok((Some(q), Some(snap))),
                Err(e) => Err(ExtractError::Quantile(e.to_string())),
            }
        }
        MetricFamily::Other { .. } => Err(ExtractError::Unsupported),
    }
}

/// `promQuery`: one finite sample, or an error.
fn prom_query(cluster: &dyn Cluster, src: &PrometheusMetricSource) -> Result<f64, GoError> {
    if !(src.server_url.starts_with("http://") || src.server_url.starts_with("https://")) {
        return Err(GoError(format!(
            "invalid prometheus server URL {:?}",
            src.server_url
        )));
    }
    let v = match cluster.query(&src.server_url, &src.query) {
        QueryResult::Scalar(v) => v,
        QueryResult::Vector(v) if v.len() == 1 => v[0],
        QueryResult::Vector(v) => {
            return Err(GoError(format!(
                "prometheus query must return a single sample vector, got {} samples",
                v.len()
            )))
        }
        QueryResult::Unsupported(kind) => {
            return Err(GoError(format!(
                "unsupported prometheus query result type {kind}"
            )))
        }
        QueryResult::Error(e) => return Err(GoError(e)),
    };
    if !v.is_finite() {
        return Err(GoError(format!(
            "prometheus query returned a non-finite value {v}"
        )));
    }
    Ok(v)
}

/// The v0.4 `subTargets` role filter: only `kind: Role` with a name does anything.
fn v04_role(target: &Target) -> Option<&str> {
    target
        .sub_target
        .as_ref()
        .filter(|s| s.kind == "Role")
        .map(|s| s.name.as_str())
}

/// The baseline of a pod: only when it is the same incarnation (equal, known start times).
fn past_histograms_for<'p>(
    past: Option<&'p PodHistograms>,
    pod: &str,
    start: Option<i64>,
) -> Option<&'p BTreeMap<String, Snapshot>> {
    let info = past?.get(pod)?;
    match (start, info.pod_start_time) {
        (Some(a), Some(b)) if a == b => Some(&info.histograms),
        _ => None,
    }
}

/// `GetMetricPods`: the entry pods of the target's ModelServing (and role) in `namespace`
/// that also match the user's selector; the controller's labels override the user's.
fn select_pods(
    cluster: &dyn Cluster,
    namespace: &str,
    target: &Target,
    selector: Option<&LabelSelector>,
    role: Option<&str>,
) -> Result<Vec<usize>, CollectError> {
    let kind = target.target_ref.kind.as_str();
    if !kind.is_empty() && kind != "ModelServing" {
        return Err(CollectError::Selector(format!(
            "target ref kind {kind}, name: {} not supported",
            target.target_ref.name
        )));
    }
    let mut forced: Vec<(&str, &str)> = vec![
        (LABEL_MODEL_SERVING_NAME, target.target_ref.name.as_str()),
        (LABEL_ENTRY, "true"),
    ];
    if let Some(r) = role {
        forced.push((LABEL_ROLE, r));
    }
    let pods = cluster.pods();
    Ok((0..pods.len())
        .filter(|&i| {
            let p = &pods[i];
            let l = &p.labels;
            p.namespace == namespace
                && l.contains_key(LABEL_GROUP_NAME)
                && forced
                    .iter()
                    .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
                && selector.is_none_or(|s| {
                    s.match_labels
                        .iter()
                        .filter(|(k, _)| !forced.iter().any(|(f, _)| f == k))
                        .all(|(k, v)| l.get(k) == Some(v))
                        && s.matches_expressions(l)
                })
        })
        .collect())
}
