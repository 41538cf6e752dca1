//! The series store: every scrape of every pod, as Prometheus' TSDB would hold it, for as long
//! as the queries need. It owns ingestion (naming, staleness, retention) and series lookup; it
//! knows nothing of PromQL beyond label matchers.

use std::collections::{BTreeMap, VecDeque};

use promql_parser::label::{Matcher, METRIC_NAME};

use super::exposition::{for_each_series, format_le};
use super::{BUCKET_LABEL, LOOKBACK_DELTA};
use crate::engine::cluster::Families;
use crate::engine::policy::Labels;
use crate::sim::time::{SimDuration, SimTime};

/// One stored sample.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Point {
    t: SimTime,
    /// `None` is a staleness marker: the series was missing from the scrape at `t`.
    value: Option<f64>,
}

/// One series: the samples of one metric name (and `le`) of one target, oldest first.
#[derive(Debug, Clone, Default)]
pub(super) struct Series {
    /// `(upper bound, label value as stored)` of a `_bucket` series.
    le: Option<(f64, String)>,
    points: VecDeque<Point>,
}

impl Series {
    /// Appends a sample. A sample not newer than the last one is dropped, as the TSDB rejects
    /// out-of-order and duplicate samples (the first value of a scrape wins).
    fn push(&mut self, t: SimTime, value: Option<f64>) {
        if self.points.back().is_none_or(|p| p.t < t) {
            self.points.push_back(Point { t, value });
        }
    }

    /// The value an instant selector sees at `t`: the newest sample in `(t - 5m, t]`, unless
    /// that sample is a staleness marker.
    pub(super) fn instant_value(&self, t: SimTime) -> Option<f64> {
        let p = self.points.iter().rev().find(|p| p.t <= t)?;
        if p.t > t.saturating_sub(LOOKBACK_DELTA) {
            p.value
        } else {
            None
        }
    }

    /// The samples a range selector `[range]` sees at `t`: those in `(t - range, t]`, staleness
    /// markers left out, as `(time, value)`.
    pub(super) fn range_points(&self, t: SimTime, range: SimDuration) -> Vec<(SimTime, f64)> {
        self.points
            .iter()
            .filter(|p| p.t > t.saturating_sub(range) && p.t <= t)
            .filter_map(|p| p.value.map(|v| (p.t, v)))
            .collect()
    }
}

/// The series of one scrape target (one pod).
#[derive(Debug, Clone, Default)]
struct Target {
    /// Series by metric name; one name holds one series per `le` (one without, for a plain
    /// series), so a name is looked up without allocating.
    metrics: BTreeMap<String, Vec<Series>>,
}

impl Target {
    fn append(&mut self, name: &str, le: Option<f64>, value: f64, now: SimTime) {
        let same_le = |s: &Series| s.le.as_ref().map(|l| l.0.to_bits()) == le.map(f64::to_bits);
        if let Some(list) = self.metrics.get_mut(name) {
            if let Some(series) = list.iter_mut().find(|s| same_le(s)) {
                series.push(now, Some(value));
                return;
            }
            list.push(new_series(le, value, now));
        } else {
            self.metrics
                .insert(name.to_owned(), vec![new_series(le, value, now)]);
        }
    }
}

fn new_series(le: Option<f64>, value: f64, now: SimTime) -> Series {
    let mut s = Series {
        le: le.map(|b| (b, format_le(b))),
        points: VecDeque::new(),
    };
    s.push(now, Some(value));
    s
}

/// What Prometheus would hold after scraping the simulated pods: one series per target, metric
/// name and `le`, with staleness markers, trimmed to what the queries can still see.
///
/// Selection follows Prometheus 3: the lookback and range windows are left-open, `(t - d, t]`.
/// Time only moves forward: queries are meant to be evaluated at or after the last recorded
/// scrape. Time is kept in microseconds, not Prometheus' milliseconds.
#[derive(Debug, Clone)]
pub struct SeriesStore {
    /// How old a sample may get before it is dropped: the retention asked for, at least the
    /// lookback delta.
    keep: SimDuration,
    /// Targets by their (normalised) labels.
    targets: BTreeMap<Labels, Target>,
}

impl SeriesStore {
    /// A store that keeps samples up to `retention` old (use the longest range of the queries
    /// it serves, see [`super::Query::max_range`]), and always enough for the 5-minute lookback
    /// of instant selectors.
    pub fn new(retention: SimDuration) -> Self {
        SeriesStore {
            keep: retention.max(LOOKBACK_DELTA),
            targets: BTreeMap::new(),
        }
    }

    /// Records one scrape of every pod at `now`: each pod's target labels (`namespace`,
    /// `modelserving`, `role`, `pod`, and any others) with its decoded payload.
    ///
    /// A series missing from this scrape — its pod is gone, or no longer exposes it — gets a
    /// staleness marker at `now`, as Prometheus writes one, so selectors stop seeing it at
    /// once instead of 5 minutes later. Samples too old for any query are then dropped, and
    /// series with none left are forgotten, so memory stays bounded as pods come and go.
    pub fn record<'a>(
        &mut self,
        now: SimTime,
        pods: impl IntoIterator<Item = (&'a Labels, &'a Families)>,
    ) {
        for (labels, families) in pods {
            let target = self.targets.entry(target_labels(labels)).or_default();
            for_each_series(families, |name, le, value| {
                target.append(name, le, value, now);
            });
        }
        let horizon = now.saturating_sub(self.keep);
        for target in self.targets.values_mut() {
            for list in target.metrics.values_mut() {
                for series in list.iter_mut() {
                    if series
                        .points
                        .back()
                        .is_some_and(|p| p.t < now && p.value.is_some())
                    {
                        series.push(now, None);
                    }
                    while series.points.front().is_some_and(|p| p.t <= horizon) {
                        series.points.pop_front();
                    }
                }
                list.retain(|s| !s.points.is_empty());
            }
            target.metrics.retain(|_, list| !list.is_empty());
        }
        self.targets.retain(|_, t| !t.metrics.is_empty());
    }

    /// Every series whose labels satisfy all `matchers` (a label that is absent matches as
    /// the empty string), with its full label set, sorted by labels as the TSDB returns
    /// series. `name`, when the selector fixes it, narrows the search to that metric name.
    pub(super) fn select<'s>(
        &'s self,
        name: Option<&str>,
        matchers: &[Matcher],
    ) -> Vec<(Labels, &'s Series)> {
        let mut out = Vec::new();
        for (target_labels, target) in &self.targets {
            let metrics = target
                .metrics
                .iter()
                .filter(|(m, _)| name.is_none_or(|n| n == m.as_str()));
            for (metric, list) in metrics {
                for series in list {
                    let labels = series_labels(target_labels, metric, series);
                    let matches = |m: &Matcher| {
                        m.is_match(labels.get(&m.name).map(String::as_str).unwrap_or(""))
                    };
                    if matchers.iter().all(matches) {
                        out.push((labels, series));
                    }
                }
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    #[cfg(test)]
    pub(super) fn point_count(&self) -> usize {
        self.targets
            .values()
            .flat_map(|t| t.metrics.values().flatten())
            .map(|s| s.points.len())
            .sum()
    }
}

/// Target labels as Prometheus attaches them: labels starting with `__` are internal to
/// relabelling and dropped, and an empty value is the same as no label.
fn target_labels(labels: &Labels) -> Labels {
    labels
        .iter()
        .filter(|(k, v)| !k.starts_with("__") && !v.is_empty())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The full label set of a series: the target's labels, `__name__`, and `le` for a bucket.
/// Should the target itself carry an `le` label, the exposed one is renamed `exported_le`,
/// as Prometheus does on a conflict when `honor_labels` is off.
fn series_labels(target: &Labels, name: &str, series: &Series) -> Labels {
    let mut labels = target.clone();
    labels.insert(METRIC_NAME.to_owned(), name.to_owned());
    if let Some((_, le)) = &series.le {
        let key = if target.contains_key(BUCKET_LABEL) {
            format!("exported_{BUCKET_LABEL}")
        } else {
            BUCKET_LABEL.to_owned()
        };
        labels.insert(key, le.clone());
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::cluster::MetricFamily;
    use crate::engine::histogram::Snapshot;
    use promql_parser::label::MatchOp;

    const S: SimDuration = SimDuration::from_secs(1);

    /// `n` seconds after the start.
    fn at(n: i64) -> SimTime {
        SimTime::from_secs(n)
    }

    fn pod(name: &str) -> Labels {
        [("namespace", "llm"), ("pod", name)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    fn gauge(v: f64) -> Families {
        let mut f = Families::new();
        f.insert("g".into(), MetricFamily::Gauge(vec![v]));
        f
    }

    fn values(store: &SeriesStore, t: SimTime) -> Vec<(String, Option<f64>)> {
        store
            .select(Some("g"), &[])
            .into_iter()
            .map(|(l, s)| (l["pod"].clone(), s.instant_value(t)))
            .collect()
    }

    #[test]
    fn series_carry_target_labels_name_and_le() {
        let mut f = gauge(1.0);
        f.insert(
            "h".into(),
            MetricFamily::Histogram(vec![Snapshot {
                sum: 0.5,
                count: 1,
                buckets: vec![(1.0, 1), (f64::INFINITY, 1)],
            }]),
        );
        let mut labels = pod("a");
        labels.insert("__meta_x".into(), "dropped".into());
        labels.insert("role".into(), String::new());
        let mut store = SeriesStore::new(SimDuration::ZERO);
        store.record(at(0), [(&labels, &f)]);
        let all = store.select(None, &[Matcher::new(MatchOp::Equal, "pod", "a")]);
        let names: Vec<String> = all
            .iter()
            .map(|(l, _)| {
                l.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect();
        assert_eq!(
            names,
            [
                "__name__=g,namespace=llm,pod=a",
                "__name__=h_bucket,le=+Inf,namespace=llm,pod=a",
                "__name__=h_bucket,le=1.0,namespace=llm,pod=a",
                "__name__=h_count,namespace=llm,pod=a",
                "__name__=h_sum,namespace=llm,pod=a",
            ]
        );
    }

    #[test]
    fn a_vanished_pod_is_stale_from_the_next_scrape_on() {
        let (a, b) = (pod("a"), pod("b"));
        let mut store = SeriesStore::new(SimDuration::ZERO);
        store.record(at(0), [(&a, &gauge(1.0)), (&b, &gauge(2.0))]);
        assert_eq!(
            values(&store, at(10)),
            [("a".into(), Some(1.0)), ("b".into(), Some(2.0))]
        );
        store.record(at(15), [(&a, &gauge(3.0))]);
        // Before the marker, the lookback still sees b's last sample; from it on, nothing.
        assert_eq!(values(&store, at(14))[1], ("b".into(), Some(2.0)));
        assert_eq!(
            values(&store, at(15)),
            [("a".into(), Some(3.0)), ("b".into(), None)]
        );
        // The pod coming back starts its series again.
        store.record(at(30), [(&a, &gauge(3.0)), (&b, &gauge(5.0))]);
        assert_eq!(values(&store, at(30))[1], ("b".into(), Some(5.0)));
    }

    #[test]
    fn a_family_dropped_from_a_live_pod_goes_stale_too() {
        let a = pod("a");
        let mut store = SeriesStore::new(SimDuration::ZERO);
        store.record(at(0), [(&a, &gauge(1.0))]);
        store.record(at(15), [(&a, &Families::new())]);
        assert_eq!(values(&store, at(15)), [("a".into(), None)]);
    }

    #[test]
    fn the_lookback_is_five_minutes_left_open() {
        let a = pod("a");
        let mut store = SeriesStore::new(SimDuration::ZERO);
        store.record(at(0), [(&a, &gauge(1.0))]);
        assert_eq!(values(&store, at(0)), [("a".into(), Some(1.0))]);
        assert_eq!(
            values(&store, at(300) - SimDuration::from_micros(1)),
            [("a".into(), Some(1.0))]
        );
        assert_eq!(values(&store, at(300)), [("a".into(), None)]);
        assert_eq!(
            values(&store, at(0) - SimDuration::from_micros(1)),
            [("a".into(), None)]
        );
    }

    #[test]
    fn a_repeated_timestamp_keeps_the_first_value() {
        let a = pod("a");
        let mut store = SeriesStore::new(SimDuration::ZERO);
        store.record(at(0), [(&a, &gauge(1.0)), (&a, &gauge(2.0))]);
        assert_eq!(values(&store, at(0)), [("a".into(), Some(1.0))]);
    }

    #[test]
    fn memory_is_bounded_by_the_retention() {
        let mut store = SeriesStore::new(600 * S);
        for i in 0..1000 {
            // A new pod every scrape, each living for three scrapes.
            let pods: Vec<(Labels, Families)> = (i.max(2) - 2..=i)
                .map(|p| (pod(&format!("p{p}")), gauge(p as f64)))
                .collect();
            store.record(at(i * 15), pods.iter().map(|(l, f)| (l, f)));
        }
        // A pod's marker (its 4th point) is dropped 600 s = 40 scrapes after it is written:
        // the pods of the last 43 scrapes remain, not 1000.
        assert_eq!(store.targets.len(), 43);
        assert!(store.point_count() <= 4 * 43, "{}", store.point_count());
    }

    #[test]
    fn range_points_are_left_open_and_skip_markers() {
        let a = pod("a");
        let mut store = SeriesStore::new(SimDuration::ZERO);
        for (i, v) in [1.0, 2.0, 3.0].into_iter().enumerate() {
            store.record(at(i as i64 * 15), [(&a, &gauge(v))]);
        }
        store.record(at(45), std::iter::empty());
        let sel = store.select(Some("g"), &[]);
        let series = sel[0].1;
        assert_eq!(
            series.range_points(at(45), 30 * S),
            [(at(30), 3.0)],
            "the sample at 15 s is on the open edge, the marker at 45 s is skipped"
        );
        assert_eq!(
            series.range_points(at(30), 30 * S),
            [(at(15), 2.0), (at(30), 3.0)]
        );
    }
}
