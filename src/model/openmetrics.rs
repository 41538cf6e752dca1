//! `--openmetrics`: the run's time series as a Prometheus scraping the cluster would have
//! stored them, written in the OpenMetrics text format with timestamps, so that `promtool tsdb
//! create-blocks-from openmetrics` backfills a simulated run beside production.
//!
//! Each scrape records every running pod's exposition under the pod's target labels (the
//! `vllm:*`/`kthena:*` families the engine reads), kube-state-metrics' pod series for every
//! existing pod (`kube_pod_status_ready`, `kube_pod_status_phase`, `kube_pod_created`,
//! `kube_pod_start_time`, `kube_pod_deletion_timestamp`,
//! `kube_pod_container_status_restarts_total`, labelled with the pod's target labels so that
//! one selector finds both), the ModelServings' spec and ready replicas in kube-state-metrics'
//! style (`kube_modelserving_spec_replicas`, `kube_modelserving_status_replicas_ready`, with a
//! `role` label per role) and the router's per-serving counters. Scrapes happen just before
//! any controller tick at the same instant, so a scrape at a tick holds exactly what that
//! tick read, and the spec replicas before its write.
//!
//! The text groups every series' points together (OpenMetrics forbids interleaving), so the
//! points are kept until the end: about 8 bytes per sample.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::autoscalers::router_targets;
use super::servings::{Servings, UnitState};
use super::spec::Clock;
use crate::engine::cluster::{Families, MetricFamily};
use crate::engine::policy::Labels;
use crate::sim::SimTime;

/// The router's counter of requests it sent to each ModelServing's servers.
pub const ROUTER_REQUESTS: &str = "kthena_router_requests_total";
/// kube-state-metrics' pod series, and the ModelServing replica series in its style.
pub const POD_READY: &str = "kube_pod_status_ready";
pub const POD_PHASE: &str = "kube_pod_status_phase";
pub const POD_CREATED: &str = "kube_pod_created";
pub const POD_START_TIME: &str = "kube_pod_start_time";
pub const POD_DELETION: &str = "kube_pod_deletion_timestamp";
pub const POD_RESTARTS: &str = "kube_pod_container_status_restarts_total";
pub const SPEC_REPLICAS: &str = "kube_modelserving_spec_replicas";
pub const READY_REPLICAS: &str = "kube_modelserving_status_replicas_ready";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Gauge,
    Counter,
    Histogram,
}

/// One series: the scrapes it was seen in and its values at each, one per scrape for gauges
/// and counters, `bounds.len() + 2` for a histogram (cumulative bucket counts, sum, count).
#[derive(Debug, Clone, Default)]
struct Series {
    scrapes: Vec<u32>,
    /// Histograms only: the upper bounds, `+Inf` last.
    bounds: Vec<f64>,
    values: Vec<f64>,
}

#[derive(Debug, Clone)]
struct Family {
    kind: Kind,
    /// Rendered label set (sorted, as in the text) → series.
    series: BTreeMap<String, Series>,
}

/// Every scrape of a run.
#[derive(Debug, Clone, Default)]
pub struct OpenMetrics {
    /// Each scrape's time in Unix milliseconds.
    times_ms: Vec<i64>,
    families: BTreeMap<String, Family>,
}

impl OpenMetrics {
    pub fn new() -> Self {
        OpenMetrics::default()
    }

    /// Scrapes the cluster at `now`: the pods of `servings` (their payloads refreshed at
    /// `now`), their ModelServings and the router, which holds `router_waiting` requests and
    /// sent `routed[s]` to serving `s`.
    pub fn scrape(
        &mut self,
        now: SimTime,
        clock: &Clock,
        servings: &Servings<'_>,
        router_waiting: u64,
        routed: &[u64],
    ) {
        let at = self.times_ms.len() as u32;
        self.times_ms.push(clock.engine_time(now).as_millis());
        let view = servings.view(clock);
        let pods = servings
            .units()
            .map(|(_, u)| u)
            .filter(|u| u.state() != UnitState::Gone);
        for (i, (unit, pod)) in pods
            .zip(crate::engine::cluster::Cluster::pods(&view))
            .enumerate()
        {
            let labels = &unit.prom_labels;
            if let Some((_, _, families)) = view.endpoint(i) {
                self.record_families(at, labels, families);
            }
            let with = |k: &str, v: &str| {
                let mut l = labels.clone();
                l.insert(k.into(), v.into());
                l
            };
            let seconds = |ms: i64| ms as f64 / 1000.0;
            for (condition, on) in [("true", pod.ready), ("false", !pod.ready)] {
                let l = with("condition", condition);
                self.gauge(at, POD_READY, &l, f64::from(u8::from(on)));
            }
            let running = pod.start_time_ms.is_some();
            for (phase, on) in [("Pending", !running), ("Running", running)] {
                let l = with("phase", phase);
                self.gauge(at, POD_PHASE, &l, f64::from(u8::from(on)));
            }
            let created = seconds(clock.engine_time(unit.created).as_millis());
            self.gauge(at, POD_CREATED, labels, created);
            if let Some(t) = pod.start_time_ms {
                self.gauge(at, POD_START_TIME, labels, seconds(t.as_millis()));
            }
            if matches!(unit.state(), UnitState::Terminating { .. }) {
                let now_s = seconds(clock.engine_time(now).as_millis());
                self.gauge(at, POD_DELETION, labels, now_s);
            }
            let l = with("container", "server");
            let restarts = f64::from(unit.restarts);
            self.counter(at, POD_RESTARTS, &l, restarts);
        }
        for (s, spec) in servings.specs().iter().enumerate() {
            let s_idx = super::ids::ServingIdx::new(s);
            let mut labels = spec.labels.clone();
            labels.insert("namespace".into(), spec.namespace.clone());
            labels.insert("modelserving".into(), spec.name.clone());
            let targets = std::iter::once(None).chain((0..spec.roles.len()).map(Some));
            for role in targets {
                let mut l = labels.clone();
                if let Some(r) = role {
                    l.insert("role".into(), spec.roles[r].name.clone());
                }
                let replicas = f64::from(servings.spec_replicas(s_idx, role));
                self.gauge(at, SPEC_REPLICAS, &l, replicas);
                let ready = f64::from(servings.read(s_idx, role, now).ready);
                self.gauge(at, READY_REPLICAS, &l, ready);
            }
        }
        for (s, (labels, families)) in router_targets(servings, router_waiting).iter().enumerate() {
            self.record_families(at, labels, families);
            let sent = routed.get(s).copied().unwrap_or(0) as f64;
            self.counter(at, ROUTER_REQUESTS, labels, sent);
        }
    }

    fn record_families(&mut self, at: u32, labels: &Labels, families: &Families) {
        for (name, family) in families {
            match family {
                MetricFamily::Gauge(v) => {
                    if let Some(&x) = v.first() {
                        self.gauge(at, name, labels, x);
                    }
                }
                MetricFamily::Counter(v) => {
                    if let Some(&x) = v.first() {
                        self.counter(at, name, labels, x);
                    }
                }
                MetricFamily::Histogram(h) => {
                    if let Some(h) = h.first() {
                        let series = self.series(name, Kind::Histogram, labels);
                        if series.bounds.is_empty() {
                            series.bounds = h.buckets.iter().map(|&(le, _)| le).collect();
                        }
                        series.scrapes.push(at);
                        // A histogram whose bounds changed keeps the first ones' layout.
                        let n = series.bounds.len();
                        let counts = h.buckets.iter().map(|&(_, c)| c as f64);
                        series
                            .values
                            .extend(counts.chain(std::iter::repeat(0.0)).take(n));
                        series.values.extend([h.sum, h.count as f64]);
                    }
                }
                MetricFamily::Other { .. } => {}
            }
        }
    }

    fn gauge(&mut self, at: u32, name: &str, labels: &Labels, value: f64) {
        self.sample(at, name, Kind::Gauge, labels, value);
    }

    fn counter(&mut self, at: u32, name: &str, labels: &Labels, value: f64) {
        self.sample(at, name, Kind::Counter, labels, value);
    }

    fn sample(&mut self, at: u32, name: &str, kind: Kind, labels: &Labels, value: f64) {
        let series = self.series(name, kind, labels);
        series.scrapes.push(at);
        series.values.push(value);
    }

    fn series(&mut self, name: &str, kind: Kind, labels: &Labels) -> &mut Series {
        let family = (self.families)
            .entry(name.to_string())
            .or_insert_with(|| Family {
                kind,
                series: BTreeMap::new(),
            });
        family.series.entry(render_labels(labels)).or_default()
    }

    /// Writes the text: families by name, each series' points in time order, `# EOF` last.
    pub fn write_to(&self, out: &mut dyn Write) -> io::Result<()> {
        for (name, family) in &self.families {
            let (family_name, kind) = match family.kind {
                Kind::Gauge => (name.as_str(), "gauge"),
                Kind::Counter => (name.strip_suffix("_total").unwrap_or(name), "counter"),
                Kind::Histogram => (name.as_str(), "histogram"),
            };
            writeln!(out, "# TYPE {family_name} {kind}")?;
            for (labels, series) in &family.series {
                let stride = match family.kind {
                    Kind::Histogram => series.bounds.len() + 2,
                    _ => 1,
                };
                for (&at, point) in series.scrapes.iter().zip(series.values.chunks(stride)) {
                    let t = timestamp(self.times_ms[at as usize]);
                    match family.kind {
                        Kind::Gauge => {
                            let labels = braces(labels, "");
                            writeln!(out, "{name}{labels} {} {t}", number(point[0]))?;
                        }
                        Kind::Counter => {
                            let labels = braces(labels, "");
                            writeln!(out, "{family_name}_total{labels} {} {t}", number(point[0]))?;
                        }
                        Kind::Histogram => {
                            let n = series.bounds.len();
                            for (le, count) in series.bounds.iter().zip(point) {
                                let le = format!("le=\"{}\"", number(*le));
                                let labels = braces(labels, &le);
                                writeln!(out, "{name}_bucket{labels} {} {t}", number(*count))?;
                            }
                            let labels = braces(labels, "");
                            writeln!(out, "{name}_count{labels} {} {t}", number(point[n + 1]))?;
                            writeln!(out, "{name}_sum{labels} {} {t}", number(point[n]))?;
                        }
                    }
                }
            }
        }
        writeln!(out, "# EOF")
    }
}

/// `a="x",b="y"` in label-name order, values escaped as the text format requires.
fn render_labels(labels: &Labels) -> String {
    let mut s = String::new();
    for (k, v) in labels {
        if !s.is_empty() {
            s.push(',');
        }
        s.push_str(k);
        s.push('=');
        push_quoted(&mut s, v);
    }
    s
}

/// Appends `value` in double quotes, escaped as a label value of the text format (and of a
/// PromQL string) requires.
pub fn push_quoted(s: &mut String, value: &str) {
    s.push('"');
    for c in value.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s.push('"');
}

/// `{labels,extra}`, or nothing for an empty set.
fn braces(labels: &str, extra: &str) -> String {
    match (labels.is_empty(), extra.is_empty()) {
        (true, true) => String::new(),
        (true, false) => format!("{{{extra}}}"),
        (false, true) => format!("{{{labels}}}"),
        (false, false) => format!("{{{labels},{extra}}}"),
    }
}

/// A sample value or bound: the shortest decimal that reads back exactly, `+Inf`, `-Inf`, `NaN`.
fn number(v: f64) -> String {
    if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else if v.is_nan() {
        "NaN".into()
    } else {
        format!("{v}")
    }
}

/// Unix seconds with the milliseconds, exactly.
fn timestamp(ms: i64) -> String {
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_sorted_and_escaped() {
        let mut l = Labels::new();
        l.insert("pod".into(), "a\"b\\c\nd".into());
        l.insert("namespace".into(), "llm".into());
        assert_eq!(render_labels(&l), r#"namespace="llm",pod="a\"b\\c\nd""#);
        assert_eq!(braces("", ""), "");
        assert_eq!(braces("", "le=\"1\""), "{le=\"1\"}");
    }

    #[test]
    fn numbers_and_timestamps_read_back() {
        assert_eq!(number(f64::INFINITY), "+Inf");
        assert_eq!(number(2.0), "2");
        assert_eq!(number(0.1), "0.1");
        assert_eq!(timestamp(1_712_345_678_901), "1712345678.901");
        assert_eq!(timestamp(1_712_345_678_001), "1712345678.001");
    }

    #[test]
    fn series_are_contiguous_with_counters_and_histograms_named_as_the_format_wants() {
        let mut om = OpenMetrics::new();
        om.times_ms = vec![1_700_000_000_000, 1_700_000_015_000];
        let mut l = Labels::new();
        l.insert("pod".into(), "p".into());
        let mut f = Families::new();
        f.insert("x_total".into(), MetricFamily::Counter(vec![3.0]));
        let snapshot = crate::engine::histogram::Snapshot {
            sum: 1.5,
            count: 2,
            buckets: vec![(0.5, 1), (f64::INFINITY, 2)],
        };
        f.insert("h".into(), MetricFamily::Histogram(vec![snapshot]));
        om.record_families(0, &l, &f);
        om.record_families(1, &l, &f);
        let mut out = Vec::new();
        om.write_to(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let expected = "# TYPE h histogram\n\
            h_bucket{pod=\"p\",le=\"0.5\"} 1 1700000000.000\n\
            h_bucket{pod=\"p\",le=\"+Inf\"} 2 1700000000.000\n\
            h_count{pod=\"p\"} 2 1700000000.000\n\
            h_sum{pod=\"p\"} 1.5 1700000000.000\n\
            h_bucket{pod=\"p\",le=\"0.5\"} 1 1700000015.000\n\
            h_bucket{pod=\"p\",le=\"+Inf\"} 2 1700000015.000\n\
            h_count{pod=\"p\"} 2 1700000015.000\n\
            h_sum{pod=\"p\"} 1.5 1700000015.000\n\
            # TYPE x counter\n\
            x_total{pod=\"p\"} 3 1700000000.000\n\
            x_total{pod=\"p\"} 3 1700000015.000\n\
            # EOF\n";
        assert_eq!(text, expected);
    }
}
