//! Entry points shared by the fuzz targets (`fuzz/fuzz_targets/`) and by the tests that
//! replay their regression inputs (`fuzz/regressions/`), so that both run exactly the same
//! code. Each function takes arbitrary bytes, drives one of the parsers of user input end to
//! end through the public API, and returns nothing: the only failures it can show are a
//! panic, a hang or an unbounded allocation, which are bugs whatever the input.
//!
//! Inputs that must be text are taken as (lossy) UTF-8, since every file the tool reads is
//! refused earlier when it is not; the trace adapters take the raw bytes, as they read them.

use std::io::Cursor;
use std::path::Path;

use crate::engine::cluster::Families;
use crate::engine::policy::{Duration, Labels, Quantity};
use crate::engine::EngineVersion;
use crate::golden::format::Line;
use crate::kthena::manifest::ManifestSet;
use crate::model::metrics::{exposition, PodSeries, ServerGauges};
use crate::model::prometheus::{Query, SeriesStore};
use crate::replay::check::check_line;
use crate::replay::replay_json;
use crate::report::trace_stats::TraceStats;
use crate::scenario::setting::{apply_to_manifest, apply_to_scenario, Setting};
use crate::scenario::{Assertion, Overrides};
use crate::sim::{SimDuration, SimTime};
use crate::workload::{
    ArrivalTime, Column, CsvColumns, RequestSource, SpecDuration, TraceFormat, TraceOptions,
    TraceSource, ZeroOutput,
};

/// Kthena manifests: read and checked as `validate` does, then the engine inputs derived.
pub fn manifest(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let set = ManifestSet::from_sources(&[("fuzz.yaml", text.as_ref())]);
    let _: Vec<String> = set.problems().iter().map(ToString::to_string).collect();
    let _: Vec<String> = set.notes().iter().map(ToString::to_string).collect();
    if let Ok(policies) = set.policies() {
        for p in policies {
            let _ = format!("{:?}", p.policy);
        }
    }
    let _ = set.model_servings();
}

/// A scenario file, validated as `run` does, from a folder that holds no files: manifests
/// and traces it names are missing (and refused as such).
pub fn scenario(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let base = Path::new("/nonexistent/kthena-sim-fuzz");
    if let Err(e) = crate::scenario::parse("fuzz.yaml", &text, base, &Overrides::default()) {
        let _ = e.to_string();
    }
}

/// Requests pulled from one trace at most: a looped trace replays for as long as it is asked.
const MAX_REQUESTS: u64 = 20_000;

/// A trace: the first byte chooses the format (or none: told from the first line) and the
/// replay options, and whether the rest is a whole file or one row after the format's
/// header; the same bytes are then read again with the format told from the first line.
///
/// Byte 0: bits 0-2 the format (`0` none, then Azure, generic, Mooncake, BurstGPT, a mapped
/// CSV by names, by indexes without a header, by a datetime pattern on the first line of the
/// rest); bit 3 one row; bit 4 `sort`; bit 5 `loop`; bit 6 a window and a time scale; bit 7
/// a model to keep and failed rows skipped.
pub fn trace(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let (format, rest) = trace_format(selector & 7, rest);
    let body = if selector & 8 != 0 {
        let mut file = one_row_header(format.as_ref()).as_bytes().to_vec();
        file.extend_from_slice(rest);
        file
    } else {
        rest.to_vec()
    };
    let windowed = selector & 64 != 0;
    let options = TraceOptions {
        format,
        from: if windowed {
            SimDuration::from_secs(1)
        } else {
            SimDuration::ZERO
        },
        to: windowed.then_some(SimDuration::from_secs(10)),
        time_scale: if windowed { 2.5 } else { 1.0 },
        sort: selector & 16 != 0,
        looped: selector & 32 != 0,
        model: (selector & 128 != 0).then(|| "m".to_owned()),
        zero_output: (selector & 128 != 0).then_some(ZeroOutput::Skip),
        end: SimTime::from_secs(3_600),
    };
    pull(&body, options.clone());
    if options.format.is_some() {
        pull(
            &body,
            TraceOptions {
                format: None,
                ..options
            },
        );
    }
}

/// The format a selector names; a datetime pattern is taken from the first line of `rest`.
fn trace_format(selector: u8, rest: &[u8]) -> (Option<TraceFormat>, &[u8]) {
    let named = |time| CsvColumns {
        arrival: Column::Name("time".to_owned()),
        input: Column::Name("in".to_owned()),
        output: Column::Name("out".to_owned()),
        model: Some(Column::Name("model".to_owned())),
        time,
        header: true,
        delimiter: ',',
    };
    let format = match selector {
        1 => TraceFormat::Azure,
        2 => TraceFormat::Generic,
        3 => TraceFormat::Mooncake,
        4 => TraceFormat::BurstGpt,
        5 => TraceFormat::Csv(named(ArrivalTime::S)),
        6 => TraceFormat::Csv(CsvColumns {
            arrival: Column::Index(0),
            input: Column::Index(1),
            output: Column::Index(2),
            model: Some(Column::Index(3)),
            time: ArrivalTime::UnixMs,
            header: false,
            delimiter: ';',
        }),
        7 => {
            let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
            let pattern = String::from_utf8_lossy(&rest[..end]).into_owned();
            let rest = rest.get(end + 1..).unwrap_or_default();
            return (
                Some(TraceFormat::Csv(named(ArrivalTime::Datetime(pattern)))),
                rest,
            );
        }
        _ => return (None, rest),
    };
    (Some(format), rest)
}

/// The header line a one-row input follows.
fn one_row_header(format: Option<&TraceFormat>) -> &'static str {
    match format {
        Some(TraceFormat::Azure) => "TIMESTAMP,ContextTokens,GeneratedTokens\n",
        Some(TraceFormat::BurstGpt) => {
            "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n"
        }
        Some(TraceFormat::Mooncake) => {
            "{\"timestamp\": 0, \"input_length\": 1, \"output_length\": 1}\n"
        }
        Some(TraceFormat::Csv(c)) if !c.header => "",
        Some(TraceFormat::Csv(_)) => "time,in,out,model\n",
        Some(TraceFormat::Generic) | None => "arrival_s,input_tokens,output_tokens\n",
    }
}

/// Every request of the trace (up to [`MAX_REQUESTS`]), until the end or the first error,
/// counted as `trace stats` counts them.
fn pull(body: &[u8], options: TraceOptions) {
    let path = Path::new("fuzz.trace");
    let Ok(mut source) = TraceSource::from_reader(path, Cursor::new(body.to_vec()), options) else {
        return;
    };
    let mut stats = TraceStats::default();
    let mut last = SimTime::ZERO;
    for index in 1..=MAX_REQUESTS {
        match source.next_request() {
            Ok(Some(r)) => {
                assert!(r.arrival >= last, "arrivals never decrease");
                assert!(r.input_tokens >= 1 && r.output_tokens >= 1);
                last = r.arrival;
                if stats.add(&r, index).is_err() {
                    break;
                }
            }
            Ok(None) | Err(_) => break,
        }
    }
    // As `trace stats`, which refuses a trace without requests before it reports.
    if stats.requests() > 0 {
        let _ = (stats.json(), stats.text("fuzz.trace"));
    }
}

/// A PromQL query of a Prometheus metric source: parsed, and evaluated when the simulator
/// supports it, against a store that scraped four pods three times.
pub fn promql(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(query) = Query::parse(&text) else {
        return;
    };
    let mut store = SeriesStore::new(query.max_range());
    let step = SimDuration::from_secs(15);
    for tick in 0..3u64 {
        let pods: Vec<(Labels, Families)> = (0..4u64)
            .map(|i| (pod_labels(i), pod_families(tick * (i + 1))))
            .collect();
        store.record(
            SimTime::ZERO + step * tick as i64,
            pods.iter().map(|(labels, families)| (labels, families)),
        );
    }
    let one = SimDuration::from_micros(1);
    for since in [2 * step, 2 * step + one, 10 * step] {
        let _ = query.evaluate(&store, since.after_start());
    }
}

fn pod_labels(i: u64) -> Labels {
    [
        ("namespace", "llm".to_owned()),
        ("modelserving", "ms".to_owned()),
        ("role", if i < 2 { "prefill" } else { "decode" }.to_owned()),
        ("pod", format!("ms-{i}")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

fn pod_families(load: u64) -> Families {
    exposition(
        &PodSeries::default(),
        ServerGauges {
            waiting: load,
            running: 2 * load,
            kv_usage: 0.5,
            prompt_tokens_total: 100 * load,
            generation_tokens_total: 10 * load,
        },
    )
}

/// A line of recorded ticks, as `replay` reads it: replayed through both engine versions,
/// and checked against its expected decisions, as `replay --check` does. The engine's
/// integer arithmetic meets arbitrary replica counts, metric values and histogram counts.
pub fn replay(data: &[u8]) {
    let Ok(line) = serde_json::from_slice::<Line>(data) else {
        return;
    };
    for version in [EngineVersion::V0_4, EngineVersion::Head] {
        let _ = replay_json(&line, version, true);
        let _ = check_line(&line, version);
    }
}

/// Go durations (manifests and scenario files alike) and Kubernetes quantities: parsed,
/// printed, parsed again, converted and compared.
pub fn duration_quantity(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(d) = Duration::parse(&text) {
        let _ = (d.milliseconds(), d.seconds(), d.minutes());
        let printed = d.to_string();
        assert_eq!(Duration::parse(&printed), Ok(d), "{printed} reads back");
    }
    let value = yaml_serde::Value::String(text.clone().into_owned());
    if let Ok(d) = yaml_serde::from_value::<SpecDuration>(value) {
        let _ = d.to_string();
    }
    let anchors = ["0", "1", "-1", "500m", "2Ki", "9223372036854775807"];
    for q in [Quantity::parse(&text), Quantity::from_number_text(&text)]
        .into_iter()
        .flatten()
    {
        let _ = (q.as_f64(), q.as_str());
        assert_eq!(q.cmp_value(&q), std::cmp::Ordering::Equal);
        for anchor in anchors.iter().filter_map(|a| Quantity::parse(a).ok()) {
            assert_eq!(q.cmp_value(&anchor), anchor.cmp_value(&q).reverse());
        }
    }
}

/// Assertions (`PATH OP NUMBER`) and `KEY=VALUE` settings, the expressions a user writes on
/// the command line or in a scenario: the first line is parsed as an assertion and checked
/// against a summary, every line as a setting, and the settings are applied to a scenario
/// document and to a manifest.
pub fn expressions(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let first = text.lines().next().unwrap_or_default();
    if let Ok(a) = Assertion::parse(first) {
        let mut summary = crate::outputs::summary::Summary::default();
        summary.slo.attainment = 0.97;
        summary.cost.total = 12.5;
        summary.cost.by_serving.insert("chat".into(), 12.5);
        summary.latency.ttft.p99 = Some(1.2);
        let _ = a.check(&summary);
    }
    let settings: Vec<Setting> = text.lines().filter_map(|l| l.parse().ok()).collect();
    if settings.is_empty() {
        return;
    }
    if let Ok(mut doc) = yaml_serde::from_str::<yaml_serde::Value>(SETTING_SCENARIO) {
        let _ = apply_to_scenario(&mut doc, &settings);
    }
    let mut matched = vec![false; settings.len()];
    let _ = apply_to_manifest(SETTING_MANIFEST, &settings, &mut matched);
}

const SETTING_SCENARIO: &str = "name: s\nduration: 1h\nseed: 1\n\
servings:\n- {name: chat, replicas: 2, roles: [{name: r, replicas: 1}]}\n\
router: {policy: least-request}\nassertions: [\"slo.attainment >= 0.9\"]\n";

const SETTING_MANIFEST: &str = "apiVersion: workload.serving.volcano.sh/v1alpha1
kind: AutoscalingPolicy
metadata: {name: p}
spec:
  metrics: [{name: queue, targetValue: 10}]
  homogeneousTarget: {minReplicas: 1, maxReplicas: 4, target: {targetRef: {name: ms}}}
---
apiVersion: workload.serving.volcano.sh/v1alpha1
kind: AutoscalingPolicyBinding
metadata: {name: b}
spec: {policyRef: {name: p}, heterogeneousTarget: {params: [{minReplicas: 1, maxReplicas: 2}]}}
";
