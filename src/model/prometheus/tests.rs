//! End-to-end tests: scrapes recorded into the store, queries parsed and evaluated, results
//! checked against hand-computed values.

use super::*;
use crate::engine::cluster::{Families, MetricFamily, QueryResult};
use crate::engine::histogram::Snapshot;
use crate::engine::policy::Labels;
use crate::model::metrics::{exposition, PodSeries, ServerGauges};
use crate::sim::time::SimTime;

const S: SimDuration = SimDuration::from_secs(1);

/// `n` seconds after the start.
fn at(n: i64) -> SimTime {
    SimTime::from_secs(n)
}

const DISAGGREGATED: &str = include_str!("../../../examples/manifests/current/disaggregated.yaml");

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|&(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// A pod of ModelServing `ms-a` in namespace `llm`, with a role when `role` is not empty.
fn pod(name: &str, role: &str) -> Labels {
    labels(&[
        ("namespace", "llm"),
        ("modelserving", "ms-a"),
        ("role", role),
        ("pod", name),
    ])
}

/// What a simulated pod exposes with `waiting` queued and `running` running requests.
fn server(waiting: u64, running: u64) -> Families {
    exposition(
        &PodSeries::default(),
        ServerGauges {
            waiting,
            running,
            kv_usage: 0.5,
            prompt_tokens_total: 0,
            generation_tokens_total: 0,
        },
    )
}

fn query(text: &str) -> Query {
    match Query::parse(text) {
        Ok(q) => q,
        Err(e) => panic!("{text}: {e}"),
    }
}

fn eval(store: &SeriesStore, t: SimTime, text: &str) -> QueryResult {
    query(text).evaluate(store, t)
}

fn vector(store: &SeriesStore, t: SimTime, text: &str) -> Vec<f64> {
    match eval(store, t, text) {
        QueryResult::Vector(v) => v,
        other => panic!("{text}: expected a vector, got {other:?}"),
    }
}

fn assert_close(got: &[f64], want: &[f64], text: &str) {
    assert_eq!(got.len(), want.len(), "{text}: {got:?} vs {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!(
            (g - w).abs() <= 1e-12 * w.abs().max(1.0),
            "{text}: {got:?} vs {want:?}"
        );
    }
}

/// Four pods of `ms-a`: p1, p2 prefill with 1 and 2 waiting; p3, p4 decode with 4 and 8.
fn four_pods() -> SeriesStore {
    let pods = [
        (pod("p1", "prefill"), server(1, 10)),
        (pod("p2", "prefill"), server(2, 20)),
        (pod("p3", "decode"), server(4, 40)),
        (pod("p4", "decode"), server(8, 80)),
    ];
    let mut store = SeriesStore::new(SimDuration::ZERO);
    store.record(at(0), pods.iter().map(|(l, f)| (l, f)));
    store
}

#[test]
fn instant_selectors_and_label_matchers() {
    let mut store = four_pods();
    let other = labels(&[("namespace", "other"), ("pod", "p9")]);
    let f = server(16, 0);
    store.record(at(0), [(&other, &f)]);
    let cases: [(&str, &[f64]); 12] = [
        ("kthena:num_requests_waiting", &[1.0, 2.0, 4.0, 8.0, 16.0]),
        (
            r#"kthena:num_requests_waiting{namespace="llm"}"#,
            &[1.0, 2.0, 4.0, 8.0],
        ),
        (
            r#"kthena:num_requests_waiting{role!="prefill"}"#,
            &[4.0, 8.0, 16.0],
        ),
        // An absent label matches as the empty string.
        (r#"kthena:num_requests_waiting{role=""}"#, &[16.0]),
        (r#"kthena:num_requests_waiting{pod=~"p[13]"}"#, &[1.0, 4.0]),
        // Regexes are anchored.
        (r#"kthena:num_requests_waiting{pod=~"p"}"#, &[]),
        (
            r#"kthena:num_requests_waiting{pod!~"p1|p9"}"#,
            &[2.0, 4.0, 8.0],
        ),
        (
            r#"{__name__=~"kthena:num_requests_.*", pod="p1"}"#,
            &[10.0, 1.0],
        ),
        (
            r#"{__name__="vllm:num_requests_running", pod="p2"}"#,
            &[20.0],
        ),
        (r#"vllm:gpu_cache_usage_perc{pod="p1"}"#, &[0.5]),
        (
            r#"vllm:e2e_request_latency_seconds_count{pod="p1"}"#,
            &[0.0],
        ),
        ("no_such_metric", &[]),
    ];
    for (text, want) in cases {
        assert_eq!(vector(&store, at(15), text), want, "{text}");
    }
}

#[test]
fn a_pod_that_disappears_is_gone_from_the_next_scrape() {
    let mut store = four_pods();
    let q = "count(kthena:num_requests_waiting)";
    assert_eq!(vector(&store, at(10), q), [4.0]);
    let (p1, f) = (pod("p1", "prefill"), server(1, 10));
    store.record(at(15), [(&p1, &f)]);
    assert_eq!(vector(&store, at(10), q), [4.0], "before the markers");
    assert_eq!(vector(&store, at(15), q), [1.0]);
    // Without a scrape the last sample stays visible for the 5-minute lookback only.
    assert_eq!(vector(&store, at(314), q), [1.0]);
    assert_eq!(vector(&store, at(315), q), Vec::<f64>::new());
}

#[test]
fn aggregations_with_by_and_without() {
    let store = four_pods();
    let x = "kthena:num_requests_waiting";
    let cases: Vec<(String, Vec<f64>)> = vec![
        (format!("sum({x})"), vec![15.0]),
        (format!("sum by (role) ({x})"), vec![3.0, 12.0]),
        (format!("sum({x}) by (role)"), vec![3.0, 12.0]),
        (format!("sum without (pod) ({x})"), vec![3.0, 12.0]),
        (format!("sum by (nothing) ({x})"), vec![15.0]),
        (format!("avg({x})"), vec![3.75]),
        (format!("avg by (role) ({x})"), vec![1.5, 6.0]),
        (format!("avg without (pod, role) ({x})"), vec![3.75]),
        (format!("min({x})"), vec![1.0]),
        (format!("min by (role) ({x})"), vec![1.0, 4.0]),
        (format!("min without (pod) ({x})"), vec![1.0, 4.0]),
        (format!("max({x})"), vec![8.0]),
        (format!("max by (role) ({x})"), vec![2.0, 8.0]),
        (format!("max without (pod) ({x})"), vec![2.0, 8.0]),
        (format!("count({x})"), vec![4.0]),
        (format!("count by (role) ({x})"), vec![2.0, 2.0]),
        (format!("count without (pod, role) ({x})"), vec![4.0]),
        (format!("count by (pod) ({x})"), vec![1.0; 4]),
        (
            r#"sum by (__name__) ({__name__=~"kthena:num_requests_.*"})"#.into(),
            vec![150.0, 15.0],
        ),
        (
            r#"count without (pod) ({__name__=~"kthena:num_requests_.*"})"#.into(),
            vec![4.0, 4.0],
        ),
        (format!("sum(sum by (role) ({x}))"), vec![15.0]),
    ];
    for (text, want) in cases {
        assert_eq!(vector(&store, at(0), &text), want, "{text}");
    }
}

/// Records `counter` for pod p1 at 0, 15, 30 ... s, one value a scrape (None: pod absent).
fn counter_store(values: &[Option<f64>]) -> SeriesStore {
    let p1 = pod("p1", "prefill");
    let mut store = SeriesStore::new(query("rate(c[1m])").max_range());
    for (i, v) in values.iter().enumerate() {
        let t = at(i as i64 * 15);
        match v {
            Some(v) => {
                let mut f = Families::new();
                f.insert("c".into(), MetricFamily::Counter(vec![*v]));
                store.record(t, [(&p1, &f)]);
            }
            None => store.record(t, std::iter::empty()),
        }
    }
    store
}

#[test]
fn rate_irate_increase_on_a_regular_15s_scrape() {
    let store = counter_store(&[100.0, 110.0, 125.0, 130.0, 150.0, 160.0].map(Some));
    // At 75 s, [1m] sees 30, 45, 60, 75 s (15 s is on the open edge): 35 over 45 s, the
    // first sample within 1.1 intervals of the start, so extrapolated the full 15 s to 60 s.
    let now = at(75);
    assert_close(
        &vector(&store, now, "increase(c[1m])"),
        &[35.0 * 60.0 / 45.0],
        "increase",
    );
    assert_close(&vector(&store, now, "rate(c[1m])"), &[35.0 / 45.0], "rate");
    assert_close(
        &vector(&store, now, "irate(c[1m])"),
        &[10.0 / 15.0],
        "irate",
    );
    // Between scrapes (80 s): 10 s before the first sample, 5 s after the last.
    assert_close(
        &vector(&store, at(80), "increase(c[1m])"),
        &[35.0 * 60.0 / 45.0],
        "80 s",
    );
    // [75s] at 75 s: the sample at 0 s is on the open edge; 15..75 s rise by 50 over 60 s,
    // extrapolated the full 15 s to the start.
    assert_close(
        &vector(&store, now, "increase(c[75s])"),
        &[50.0 * 75.0 / 60.0],
        "75s window",
    );
    // The metric name is dropped, so the result can be summed across pods.
    assert_close(
        &vector(&store, now, "sum by (pod) (rate(c[1m]))"),
        &[35.0 / 45.0],
        "sum",
    );
}

#[test]
fn rate_handles_a_counter_reset() {
    let store = counter_store(&[100.0, 110.0, 125.0, 130.0, 5.0, 20.0].map(Some));
    let now = at(75);
    // 125 -> 130 (+5), reset -> 5 (+5), -> 20 (+15): 25 in 45 s.
    assert_close(
        &vector(&store, now, "increase(c[1m])"),
        &[25.0 * 60.0 / 45.0],
        "increase",
    );
    assert_close(
        &vector(&store, now, "irate(c[1m])"),
        &[15.0 / 15.0],
        "irate",
    );
    assert_close(
        &vector(&store, at(60), "irate(c[1m])"),
        &[5.0 / 15.0],
        "irate at reset",
    );
}

#[test]
fn rate_extrapolates_less_where_a_series_starts_or_ends_in_the_window() {
    // Appears at 45 s with 5: 30 s to the window start is more than 1.1 intervals, so half an
    // interval (7.5 s) would be added, but the counter was at zero only 5 s earlier.
    let store = counter_store(&[None, None, None, Some(5.0), Some(20.0), Some(35.0)]);
    assert_close(&vector(&store, at(75), "increase(c[1m])"), &[35.0], "start");
    // Gone at 90 s (stale): at 100 s the window (40, 100] holds 45..75 s; 5 s to the start
    // is extrapolated fully, 25 s to the end only by 7.5 s.
    let store = counter_store(&[
        Some(80.0),
        Some(85.0),
        Some(90.0),
        Some(100.0),
        Some(115.0),
        Some(130.0),
        None,
    ]);
    assert_close(
        &vector(&store, at(100), "increase(c[1m])"),
        &[30.0 * (30.0 + 5.0 + 7.5) / 30.0],
        "end",
    );
    // One sample left in the window: no rate at all.
    assert_eq!(vector(&store, at(130), "rate(c[1m])"), Vec::<f64>::new());
}

fn histogram(buckets: [i64; 4]) -> Families {
    let bounds = [0.1, 0.5, 1.0, f64::INFINITY];
    let mut f = Families::new();
    f.insert(
        "lat".into(),
        MetricFamily::Histogram(vec![Snapshot {
            sum: 0.0,
            count: buckets[3],
            buckets: bounds.into_iter().zip(buckets).collect(),
        }]),
    );
    f
}

#[test]
fn histogram_quantile_of_summed_bucket_rates() {
    let (a, b) = (pod("a", "decode"), pod("b", "decode"));
    // Cumulative bucket counts (le 0.1, 0.5, 1, +Inf) from 30 s to 75 s: pod a grows by
    // 10, 30, 50, 60 and pod b by 5, 10, 20, 20, evenly over the three intervals.
    let a0 = [100, 200, 300, 400];
    let b0 = [50, 60, 70, 80];
    let (da, db) = ([10, 30, 50, 60], [5, 10, 20, 20]);
    let mut store = SeriesStore::new(60 * S);
    for i in 0..6 {
        let k = (i - 2).max(0);
        let fa = histogram(std::array::from_fn(|j| a0[j] + da[j] * k / 3));
        let fb = histogram(std::array::from_fn(|j| b0[j] + db[j] * k / 3));
        store.record(at(i * 15), [(&a, &fa), (&b, &fb)]);
    }
    // Summed increases: 15, 40, 70, 80; each rate is that over 45 s (60 s extrapolated, per
    // 60 s). Rank 0.75 * 80 = 60 lies in (0.5, 1], 20 of its 30: 0.5 + 0.5 * 20/30.
    let q = "histogram_quantile(0.75, sum by (le) (rate(lat_bucket[1m])))";
    assert_close(&vector(&store, at(75), q), &[0.5 + 0.5 * 20.0 / 30.0], q);
    // Per pod: a's rank 45 of 60 lies in (0.5, 1], 15 of 20; b's 15 of 20 in (0.5, 1], 5 of 10.
    let q = "histogram_quantile(0.75, rate(lat_bucket[1m]))";
    assert_close(
        &vector(&store, at(75), q),
        &[0.5 + 0.5 * 15.0 / 20.0, 0.5 + 0.5 * 5.0 / 10.0],
        q,
    );
    // The simulator's own buckets parse back from their `le` labels.
    let q = r#"histogram_quantile(0.99, sum by (le) (vllm:time_to_first_token_seconds_bucket))"#;
    let mut series = PodSeries::default();
    for _ in 0..100 {
        series.ttft.observe(0.03);
    }
    let f = exposition(
        &series,
        ServerGauges {
            waiting: 0,
            running: 0,
            kv_usage: 0.0,
            prompt_tokens_total: 0,
            generation_tokens_total: 0,
        },
    );
    let mut store = SeriesStore::new(SimDuration::ZERO);
    store.record(at(0), [(&a, &f)]);
    // All 100 in (0.02, 0.04]: rank 99 is 0.02 + 0.02 * 99/100.
    assert_close(&vector(&store, at(0), q), &[0.02 + 0.02 * 0.99], q);
}

#[test]
fn scalar_and_vector_arithmetic() {
    let store = four_pods();
    let x = "kthena:num_requests_waiting";
    let scalar = |text: &str| match eval(&store, at(0), text) {
        QueryResult::Scalar(v) => v,
        other => panic!("{text}: expected a scalar, got {other:?}"),
    };
    assert_eq!(scalar("1 + 2 * 3"), 7.0);
    assert_eq!(scalar("(1 + 2) * 3"), 9.0);
    assert_eq!(scalar("-(2 - 5) / 2"), 1.5);
    assert_eq!(scalar("7 % 4 + 2 ^ 3"), 11.0);
    assert_eq!(scalar(&format!("scalar(sum({x})) / 3")), 5.0);
    assert!(scalar(&format!("scalar({x})")).is_nan(), "4 samples");
    let cases: Vec<(String, Vec<f64>)> = vec![
        (format!("sum({x}) / 4"), vec![3.75]),
        (format!("2 * sum by (role) ({x})"), vec![6.0, 24.0]),
        (format!("10 - {x}{{role=\"prefill\"}}"), vec![9.0, 8.0]),
        (format!("({x} + 1) / 2"), vec![1.0, 1.5, 2.5, 4.5]),
        (format!("-{x}{{pod=\"p3\"}}"), vec![-4.0]),
        (format!("sum({x}) / 0"), vec![f64::INFINITY]),
        ("vector(3) * 2".into(), vec![6.0]),
        // Vector with vector: one-to-one on all labels but the name.
        (
            format!("kthena:num_requests_running / {x}"),
            vec![10.0, 10.0, 10.0, 10.0],
        ),
        (
            format!("sum(kthena:num_requests_running) / sum({x})"),
            vec![10.0],
        ),
        (format!("sum by (role) ({x}) / sum({x})"), Vec::new()),
    ];
    for (text, want) in cases {
        assert_eq!(vector(&store, at(0), &text), want, "{text}");
    }
}

#[test]
fn runtime_errors_are_prometheus_errors() {
    let store = four_pods();
    let two_names = r#"{__name__=~"kthena:num_requests_.*", pod="p1"}"#;
    match eval(&store, at(0), &format!("-{two_names}")) {
        QueryResult::Error(e) => {
            assert_eq!(e, "vector cannot contain metrics with the same labelset")
        }
        other => panic!("{other:?}"),
    }
    match eval(&store, at(0), &format!("vector(1) + {two_names}")) {
        QueryResult::Error(e) => assert!(
            e.starts_with("found duplicate series for the match group {modelserving=\"ms-a\""),
            "{e}"
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn matrix_and_string_results_are_unsupported() {
    let store = four_pods();
    let q = query("kthena:num_requests_waiting[1m]");
    assert_eq!(q.max_range(), 60 * S);
    assert_eq!(
        q.evaluate(&store, at(0)),
        QueryResult::Unsupported("matrix")
    );
    assert_eq!(
        eval(&store, at(0), r#""text""#),
        QueryResult::Unsupported("string")
    );
}

#[test]
fn max_range_is_the_longest_range_selector() {
    assert_eq!(query("sum(x)").max_range(), SimDuration::ZERO);
    assert_eq!(
        query("rate(a[5m]) / increase(b[90s]) + irate(c[2m])").max_range(),
        300 * S
    );
    assert_eq!(
        query("rate(a[1500ms])").max_range(),
        SimDuration::from_millis(1_500)
    );
}

#[test]
fn unsupported_constructs_are_named() {
    let cases = [
        ("predict_linear(x[5m], 60)", "function `predict_linear`"),
        ("avg_over_time(x[5m])", "function `avg_over_time`"),
        ("time()", "function `time`"),
        (
            r#"label_replace(x, "a", "$1", "b", "(.*)")"#,
            "function `label_replace`",
        ),
        ("rate(x[5m:1m])", "subquery"),
        (
            "max_over_time(rate(x[1m])[5m:])",
            "function `max_over_time`",
        ),
        ("x offset 5m", "offset modifier"),
        ("rate(x[1m] offset 1m)", "offset modifier"),
        ("x @ 100", "@ modifier"),
        (r#"x{a="b" or c="d"}"#, "`or` between label matchers"),
        (
            "x / on(pod) y",
            "binary operation between two vectors with `on(...)` matching",
        ),
        (
            "x / ignoring(pod) y",
            "binary operation between two vectors with `ignoring(...)` matching",
        ),
        ("x / on(pod) group_left y", "`group_left` matching"),
        ("x / on(pod) group_right y", "`group_right` matching"),
        ("topk(3, x)", "aggregation `topk`"),
        ("quantile(0.9, x)", "aggregation `quantile`"),
        ("stddev(x)", "aggregation `stddev`"),
        (r#"count_values("v", x)"#, "aggregation `count_values`"),
        ("group(x)", "aggregation `group`"),
        ("x > 1", "comparison operator `>`"),
        ("x == bool 1", "comparison operator `==`"),
        ("x and y", "set operator `and`"),
        ("x or y", "set operator `or`"),
        ("x unless y", "set operator `unless`"),
        ("x atan2 y", "operator `atan2`"),
    ];
    for (text, construct) in cases {
        match Query::parse(text) {
            Err(e) => assert_eq!(
                e.to_string(),
                format!("unsupported PromQL: {construct}"),
                "{text}"
            ),
            Ok(q) => panic!("{text}: accepted as {q:?}"),
        }
    }
}

#[test]
fn invalid_promql_is_reported_as_such() {
    for text in ["sum(", "rate(x)", "x{", "1 +", ""] {
        match Query::parse(text) {
            Err(UnsupportedQuery::Invalid(_)) => {}
            other => panic!("{text}: {other:?}"),
        }
    }
}

#[test]
fn the_disaggregated_example_query_parses_and_evaluates() {
    let text = DISAGGREGATED
        .lines()
        .find_map(|l| l.trim().strip_prefix("query: "))
        .unwrap_or_default();
    assert_eq!(
        text,
        r#"sum(kthena:num_requests_waiting{namespace="llm", service="llama-prefill"})"#
    );
    let with_service = |name: &str, role: &str, service: &str| {
        labels(&[
            ("namespace", "llm"),
            ("modelserving", "llama-pd"),
            ("role", role),
            ("pod", name),
            ("service", service),
        ])
    };
    let pods = [
        (
            with_service("pf-0", "prefill", "llama-prefill"),
            server(3, 1),
        ),
        (
            with_service("pf-1", "prefill", "llama-prefill"),
            server(6, 1),
        ),
        (
            with_service("dc-0", "decode", "llama-decode"),
            server(50, 1),
        ),
    ];
    let mut store = SeriesStore::new(query(text).max_range());
    store.record(at(0), pods.iter().map(|(l, f)| (l, f)));
    assert_eq!(
        query(text).evaluate(&store, at(15)),
        QueryResult::Vector(vec![9.0])
    );
}
