//! What a simulated inference pod exposes on its metrics endpoint (docs/world.md §10): gauges,
//! cumulative counters and histograms with vLLM's bucket bounds, under both the Kthena
//! runtime names (`kthena:`) and the raw engine names (`vllm:`).

use crate::engine::cluster::{Families, MetricFamily};
use crate::engine::histogram::Snapshot;
use std::sync::LazyLock;

/// vLLM's `time_to_first_token_seconds` buckets.
pub const TTFT_BUCKETS: [f64; 22] = [
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
    20.0, 40.0, 80.0, 160.0, 640.0, 2560.0,
];
/// vLLM's `time_per_output_token_seconds` buckets.
pub const TPOT_BUCKETS: [f64; 19] = [
    0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0,
    40.0, 80.0,
];
/// vLLM's `e2e_request_latency_seconds` buckets.
pub const E2E_BUCKETS: [f64; 21] = [
    0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0,
    480.0, 960.0, 1920.0, 7680.0,
];

/// vLLM's `request_prompt_tokens` and `request_generation_tokens` buckets: its 1-2-5 series
/// (`build_1_2_5_buckets`), here up to a million tokens whatever the model's context length.
pub const TOKEN_BUCKETS: [f64; 19] = [
    1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5,
    5e5, 1e6,
];

/// The metric names (without prefix) each pod exposes, and their kind.
const GAUGES: [&str; 4] = [
    "num_requests_waiting",
    "num_requests_running",
    "gpu_cache_usage_perc",
    "kv_cache_usage_perc",
];
const COUNTERS: [&str; 3] = [
    "prompt_tokens_total",
    "generation_tokens_total",
    "request_success_total",
];
const HISTOGRAMS: [&str; 5] = [
    "time_to_first_token_seconds",
    "time_per_output_token_seconds",
    "e2e_request_latency_seconds",
    "request_prompt_tokens",
    "request_generation_tokens",
];
const PREFIXES: [&str; 2] = ["kthena:", "vllm:"];

/// Every metric family name a simulated pod exposes, sorted.
pub fn exposed_families() -> Vec<String> {
    sorted_families()
        .iter()
        .map(|(name, _)| name.clone())
        .collect()
}

/// The families a pod exposes, sorted by name, each with the index of its value among
/// [`GAUGES`], [`COUNTERS`] and [`HISTOGRAMS`] in that order. Made once: every tick scrapes
/// every pod, and formatting the names each time took a twentieth of a long run.
fn sorted_families() -> &'static [(String, usize)] {
    static SORTED: LazyLock<Vec<(String, usize)>> = LazyLock::new(|| {
        let mut v: Vec<(String, usize)> = PREFIXES
            .iter()
            .flat_map(|p| {
                (GAUGES.iter().chain(&COUNTERS).chain(&HISTOGRAMS))
                    .enumerate()
                    .map(move |(i, n)| (format!("{p}{n}"), i))
            })
            .collect();
        v.sort();
        v
    });
    &SORTED
}

/// The gauge families a simulated pod exposes, sorted: what an HPA's Pods metric can read
/// through a Prometheus adapter without a `rate()` rule.
pub fn exposed_gauges() -> Vec<String> {
    let mut v: Vec<String> = (PREFIXES.iter())
        .flat_map(|p| GAUGES.iter().map(move |n| format!("{p}{n}")))
        .collect();
    v.sort();
    v
}

/// A cumulative histogram: latencies in seconds, or token counts.
#[derive(Debug, Clone, PartialEq)]
pub struct CumulativeHistogram {
    bounds: &'static [f64],
    /// Per bucket (not cumulative); the last one is `+Inf`.
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl CumulativeHistogram {
    pub fn new(bounds: &'static [f64]) -> Self {
        CumulativeHistogram {
            bounds,
            counts: vec![0; bounds.len() + 1],
            sum: 0.0,
            count: 0,
        }
    }

    pub fn observe(&mut self, seconds: f64) {
        let i = self.bounds.partition_point(|&b| b < seconds);
        self.counts[i] += 1;
        self.sum += seconds;
        self.count += 1;
    }

    /// As scraped: cumulative counts per upper bound, `+Inf` last.
    pub fn snapshot(&self) -> Snapshot {
        let mut s = Snapshot::default();
        self.snapshot_into(&mut s);
        s
    }

    /// [`CumulativeHistogram::snapshot`] written over `s`, reusing its buckets.
    pub fn snapshot_into(&self, s: &mut Snapshot) {
        let mut cumulative = 0i64;
        let bounds = (self.bounds.iter().copied()).chain(std::iter::once(f64::INFINITY));
        s.buckets.clear();
        s.buckets.extend(bounds.zip(&self.counts).map(|(le, &c)| {
            cumulative += c as i64;
            (le, cumulative)
        }));
        s.sum = self.sum;
        s.count = self.count as i64;
    }
}

/// The cumulative series of one pod, since it started.
#[derive(Debug, Clone, PartialEq)]
pub struct PodSeries {
    pub ttft: CumulativeHistogram,
    pub tpot: CumulativeHistogram,
    pub e2e: CumulativeHistogram,
    /// Prompt and output lengths of the completed requests.
    pub prompt_tokens: CumulativeHistogram,
    pub generation_tokens: CumulativeHistogram,
    pub request_success_total: u64,
}

impl Default for PodSeries {
    fn default() -> Self {
        PodSeries {
            ttft: CumulativeHistogram::new(&TTFT_BUCKETS),
            tpot: CumulativeHistogram::new(&TPOT_BUCKETS),
            e2e: CumulativeHistogram::new(&E2E_BUCKETS),
            prompt_tokens: CumulativeHistogram::new(&TOKEN_BUCKETS),
            generation_tokens: CumulativeHistogram::new(&TOKEN_BUCKETS),
            request_success_total: 0,
        }
    }
}

/// The instantaneous state of a server at scrape time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ServerGauges {
    pub waiting: u64,
    pub running: u64,
    /// KV-cache usage, 0..1.
    pub kv_usage: f64,
    pub prompt_tokens_total: u64,
    pub generation_tokens_total: u64,
}

impl ServerGauges {
    /// What `server`'s metrics endpoint reports at `now`.
    pub fn of(server: &super::server::Server, now: crate::sim::SimTime) -> Self {
        let cap = server.kv_capacity().max(1);
        ServerGauges {
            waiting: server.waiting() as u64,
            running: server.running() as u64,
            kv_usage: server.kv_used_tokens(now) as f64 / cap as f64,
            prompt_tokens_total: server.prompt_tokens_total(),
            generation_tokens_total: server.generation_tokens_total(now),
        }
    }
}

/// The payload of one scrape: every family under each prefix, with the same values.
pub fn exposition(series: &PodSeries, g: ServerGauges) -> Families {
    let mut f = Families::new();
    expose_into(&mut f, series, g);
    f
}

/// [`exposition`] written over `f`, the payload of an earlier scrape of the same pod (or
/// empty): a tick scrapes every pod, and building each payload anew (two dozen names and
/// their values) took a twentieth of a long run.
pub fn expose_into(f: &mut Families, series: &PodSeries, g: ServerGauges) {
    let order = sorted_families();
    if f.len() != order.len() {
        *f = (order.iter())
            .map(|(name, i)| {
                let family = match *i {
                    i if i < GAUGES.len() => MetricFamily::Gauge(vec![0.0]),
                    i if i < GAUGES.len() + COUNTERS.len() => MetricFamily::Counter(vec![0.0]),
                    _ => MetricFamily::Histogram(vec![Snapshot::default()]),
                };
                (name.clone(), family)
            })
            .collect();
    }
    // In the order of GAUGES, COUNTERS and HISTOGRAMS.
    let scalars = [
        g.waiting as f64,
        g.running as f64,
        g.kv_usage,
        g.kv_usage,
        g.prompt_tokens_total as f64,
        g.generation_tokens_total as f64,
        series.request_success_total as f64,
    ];
    let histograms = [
        &series.ttft,
        &series.tpot,
        &series.e2e,
        &series.prompt_tokens,
        &series.generation_tokens,
    ];
    for (family, (_, i)) in f.values_mut().zip(order) {
        match family {
            MetricFamily::Gauge(v) | MetricFamily::Counter(v) => v[0] = scalars[*i],
            MetricFamily::Histogram(v) => histograms[*i - scalars.len()].snapshot_into(&mut v[0]),
            MetricFamily::Other { .. } => unreachable!("a pod exposes no other family"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_snapshot_is_cumulative_with_inf_last() {
        let mut h = CumulativeHistogram::new(&TTFT_BUCKETS);
        for v in [0.0005, 0.001, 0.3, 5000.0] {
            h.observe(v);
        }
        let s = h.snapshot();
        assert_eq!(s.count, 4);
        assert_eq!(s.buckets.len(), TTFT_BUCKETS.len() + 1);
        // 0.0005 and 0.001 fall in the first bucket (le = 0.001 is inclusive).
        assert_eq!(s.buckets[0], (0.001, 2));
        assert_eq!(s.buckets.last(), Some(&(f64::INFINITY, 4)));
    }

    #[test]
    fn every_exposed_family_is_in_the_payload() {
        let f = exposition(
            &PodSeries::default(),
            ServerGauges {
                waiting: 3,
                running: 2,
                kv_usage: 0.5,
                prompt_tokens_total: 10,
                generation_tokens_total: 20,
            },
        );
        let names: Vec<String> = f.keys().cloned().collect();
        assert_eq!(names, exposed_families());
        assert_eq!(
            f["kthena:num_requests_waiting"],
            MetricFamily::Gauge(vec![3.0])
        );
    }

    #[test]
    fn a_payload_rewritten_in_place_is_the_one_scraped_afresh() {
        let gauges = |n: u64| ServerGauges {
            waiting: n,
            running: 2 * n,
            kv_usage: 0.1 * n as f64,
            prompt_tokens_total: 100 * n,
            generation_tokens_total: 300 * n,
        };
        let mut series = PodSeries::default();
        let mut f = exposition(&series, gauges(1));
        for (i, v) in [0.02, 0.3, 7.0].into_iter().enumerate() {
            series.ttft.observe(v);
            series.tpot.observe(v / 100.0);
            series.e2e.observe(v * 10.0);
            series.prompt_tokens.observe(500.0 * (i + 1) as f64);
            series.generation_tokens.observe(50.0);
            series.request_success_total += 1;
        }
        expose_into(&mut f, &series, gauges(4));
        assert_eq!(f, exposition(&series, gauges(4)));
        assert_ne!(f, exposition(&series, gauges(1)));
        assert_eq!(
            f["vllm:request_success_total"],
            MetricFamily::Counter(vec![3.0])
        );
    }
}
