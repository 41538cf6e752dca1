//! The workload's scenario format: what parses, what validates (every problem, with its
//! path), and what the built sources produce.
//!
//! Long because every stream kind and every refusal has its case.

use super::*;
use crate::sim::SimDuration;
use crate::workload::{
    ArrivalTime, Column, CsvColumns, GapDistribution, PoissonSpec, RateSpec, Request, SpecDuration,
    ZeroOutput,
};

const MIN: SimDuration = SimDuration::from_secs(60);

/// Diagnostics as (field path, message) pairs, as the tables below write them.
fn pairs(d: crate::diagnostic::Diagnostics) -> Vec<(String, String)> {
    d.into_iter()
        .map(|d| (d.path.to_string(), d.message))
        .collect()
}

/// The folder holding the crate, so that `traces/...` resolves as in a scenario.
fn base_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn parse(yaml: &str) -> WorkloadSpec {
    yaml_serde::from_str(yaml).unwrap()
}

fn parse_error(yaml: &str) -> String {
    yaml_serde::from_str::<WorkloadSpec>(yaml)
        .unwrap_err()
        .to_string()
}

/// The open-loop requests of a built workload.
fn drain(mut workload: Workload) -> Vec<Request> {
    let mut out = Vec::new();
    while let Some(r) = workload.open.next_request().unwrap() {
        out.push(r);
    }
    out
}

const EVERY_KIND: &str = r#"
max_context: 8192
streams:
  - poisson:
      name: chat
      rate:
        points:
          - {at: 0, rps: 2}
          - {at: 10m, rps: 2}
          - {at: 11m, rps: 20}
          - {at: 20m, rps: 20}
          - {at: 20m, rps: 4}
      input_tokens: {lognormal: {median: 800, sigma: 0.9}}
      output_tokens: {lognormal: {p50: 200, p99: 1500}}
  - poisson:
      name: daily
      rate: {diurnal: {peak_rps: 3, trough_ratio: 0.2, peak_at: 14h}}
      input_tokens: {normal: {mean: 500, std_dev: 120}}
      output_tokens: {uniform: {min: 10, max: 300}}
  - poisson:
      name: steady
      rate: {constant: 0.5}
      input_tokens: {constant: 2000}
      output_tokens: {constant: 100}
  - trace:
      name: code
      path: traces/azure-llm-2023-code.csv
      format: azure
      window: {from: 10m, to: 40m}
      time_scale: 2
      rate_multiplier: 1.5
      loop: true
  - renewal:
      name: bursty
      rate: {constant: 2}
      cv: 3
      distribution: weibull
      input_tokens: {empirical: {trace: traces/azure-llm-2023-code.csv, column: input}}
      output_tokens: {empirical: {trace: traces/azure-llm-2023-code.csv, column: output, format: azure}}
  - mmpp:
      name: bursts
      on_rps: 20
      off_rps: 0.5
      mean_on: 30s
      mean_off: 2m
      input_tokens: {constant: 300}
      output_tokens: {constant: 30}
"#;

#[test]
fn every_kind_parses_validates_and_builds() {
    let spec = parse(EVERY_KIND);
    assert_eq!(pairs(spec.validate(base_dir())), vec![]);
    assert_eq!(spec.max_context, Some(8192));
    match &spec.streams[1] {
        StreamSpec::Poisson(PoissonSpec {
            rate: RateSpec::Diurnal(d),
            ..
        }) => assert_eq!(d.period.get(), 24 * 60 * MIN),
        other => panic!("{other:?}"),
    }
    match &spec.streams[3] {
        StreamSpec::Trace(t) => {
            assert_eq!(t.time_scale, 2.0);
            assert_eq!(
                t.window.and_then(|w| w.from).map(SpecDuration::get),
                Some(10 * MIN)
            );
        }
        other => panic!("{other:?}"),
    }
    let requests = drain(spec.build(1, base_dir(), 30 * MIN).unwrap());
    assert!(requests.len() > 5_000);
    assert!(requests.windows(2).all(|w| w[0].arrival <= w[1].arrival));
    assert!(requests
        .iter()
        .all(|r| r.arrival < (30 * MIN).after_start()));
    assert!(requests.iter().all(|r| r.input_tokens >= 1
        && r.output_tokens >= 1
        && r.input_tokens + r.output_tokens <= 8192));
}

#[test]
fn a_lone_stream_needs_no_name_and_a_trace_needs_no_options() {
    let spec = parse("streams: [{trace: {path: traces/azure-llm-2023-code.csv}}]");
    assert_eq!(pairs(spec.validate(base_dir())), vec![]);
    let requests = drain(spec.build(0, base_dir(), SimDuration::MAX).unwrap());
    assert_eq!(requests.len(), 8_819);
}

#[test]
fn same_seed_same_requests() {
    let spec = parse(EVERY_KIND);
    let run = |seed| drain(spec.build(seed, base_dir(), 15 * MIN).unwrap());
    assert_eq!(run(5), run(5));
    assert_ne!(run(5), run(6));
}

#[test]
fn an_unnamed_lone_stream_draws_from_the_plain_stream_names() {
    let yaml = |name: &str| {
        format!(
            "streams: [{{poisson: {{{name} rate: {{constant: 3}}, input_tokens: {{uniform: {{min: 1, max: 99}}}}, output_tokens: {{constant: 5}}}}}}]"
        )
    };
    let run = |yaml: String| drain(parse(&yaml).build(3, base_dir(), 10 * MIN).unwrap());
    let direct = drain(Workload {
        open: Box::new(PoissonSource::new(
            3,
            None,
            RateProfile::Constant(3.0),
            LengthDistribution::Uniform { min: 1, max: 99 },
            LengthDistribution::Constant(5),
            (10 * MIN).after_start(),
        )),
        closed: Vec::new(),
    });
    assert_eq!(run(yaml("")), direct);
    assert_ne!(run(yaml("name: a,")), run(yaml("name: b,")));
}

#[test]
fn the_context_limit_applies_to_every_stream() {
    let spec = parse(
        "max_context: 100\nstreams: [{poisson: {rate: {constant: 5}, input_tokens: {constant: 500}, output_tokens: {constant: 50}}}]",
    );
    let requests = drain(spec.build(0, base_dir(), MIN).unwrap());
    assert!(!requests.is_empty());
    assert!(requests
        .iter()
        .all(|r| (r.input_tokens, r.output_tokens) == (99, 1)));
}

#[test]
fn every_problem_is_reported_with_its_path() {
    let spec = parse(
        r#"
max_context: 1
streams:
  - poisson:
      rate:
        points:
          - {at: 5m, rps: 1}
          - {at: 1m, rps: -2}
          - {at: 1m, rps: 3}
          - {at: 1m, rps: .nan}
      input_tokens: {uniform: {min: 0, max: 10}}
      output_tokens: {lognormal: {median: 100, p99: 50}}
  - poisson:
      name: x
      rate: {diurnal: {peak_rps: 0, trough_ratio: 1.5, peak_at: 0, period: 0s}}
      input_tokens: {lognormal: {median: 100, sigma: 1, p99: 500}}
      output_tokens: {normal: {mean: 0, std_dev: -1}}
  - poisson:
      name: x
      rate: {constant: 0}
      input_tokens: {constant: 0}
      output_tokens: {lognormal: {median: 100}}
  - trace:
      name: ""
      path: no/such/trace.csv
      window: {from: 20m, to: 10m}
      time_scale: 0
"#,
    );
    let problems = pairs(spec.validate(base_dir()));
    let missing = base_dir().join("no/such/trace.csv");
    let expected: Vec<(String, String)> = [
        (
            "max_context",
            "must be >= 2 (one prompt token and one output token)",
        ),
        (
            "streams[0].poisson.name",
            "required when the workload has several streams",
        ),
        ("streams[0].poisson.rate.points[1].rps", "must be >= 0"),
        (
            "streams[0].poisson.rate.points[1].at",
            "must not be before points[0].at (5m0s)",
        ),
        (
            "streams[0].poisson.rate.points[3].rps",
            "must be a finite number",
        ),
        (
            "streams[0].poisson.rate.points[3].at",
            "a third point at 1m0s: a step is two points at one instant",
        ),
        (
            "streams[0].poisson.input_tokens.uniform.min",
            "must be >= 1",
        ),
        (
            "streams[0].poisson.output_tokens.lognormal.p99",
            "must be a finite number > the median (100)",
        ),
        ("streams[1].poisson.rate.diurnal.peak_rps", "must be > 0"),
        (
            "streams[1].poisson.rate.diurnal.trough_ratio",
            "must be between 0 and 1",
        ),
        (
            "streams[1].poisson.rate.diurnal.period",
            "must be longer than 0s",
        ),
        (
            "streams[1].poisson.input_tokens.lognormal",
            "give `sigma` or `p99`, not both",
        ),
        (
            "streams[1].poisson.output_tokens.normal.mean",
            "must be > 0",
        ),
        (
            "streams[1].poisson.output_tokens.normal.std_dev",
            "must be >= 0",
        ),
        (
            "streams[2].poisson.name",
            "`x` is already the name of streams[1].poisson",
        ),
        (
            "streams[2].poisson.rate",
            "is zero throughout: the stream would send no request",
        ),
        ("streams[2].poisson.input_tokens.constant", "must be >= 1"),
        (
            "streams[2].poisson.output_tokens.lognormal",
            "needs `sigma` or `p99` for the spread",
        ),
        ("streams[3].trace.name", "must not be empty"),
        ("streams[3].trace.time_scale", "must be > 0"),
        (
            "streams[3].trace.window.to",
            "must be after window.from (20m0s)",
        ),
        (
            "streams[3].trace.path",
            &format!("file not found: {}", missing.display()),
        ),
    ]
    .iter()
    .map(|(path, message)| (path.to_string(), message.to_string()))
    .collect();
    assert_eq!(problems, expected);
    assert!(matches!(
        spec.build(0, base_dir(), MIN),
        Err(WorkloadError::Invalid(p)) if pairs(p.clone()) == expected
    ));
}

#[test]
fn a_trace_with_a_foreign_header_is_refused_at_validation() {
    let spec = parse("streams: [{trace: {path: Cargo.toml}}]");
    let problems = pairs(spec.validate(base_dir()));
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].0, "streams[0].trace.path");
    assert!(problems[0]
        .1
        .contains("is not recognised: expected `TIMESTAMP,ContextTokens,GeneratedTokens`"));

    let folder = pairs(parse("streams: [{trace: {path: src}}]").validate(base_dir()));
    assert!(folder[0].1.starts_with("is a folder, not a file: "));

    let generic_only =
        parse("streams: [{trace: {path: traces/azure-llm-2023-code.csv, format: generic}}]");
    let problems = pairs(generic_only.validate(base_dir()));
    assert!(
        problems[0]
            .1
            .contains("expected `arrival_s,input_tokens,output_tokens`"),
        "{problems:?}"
    );
}

#[test]
fn parse_errors_say_what_is_expected() {
    let err = parse_error(
        "streams: [{poisson: {rate: {constant: 1}, input_tokens: {constant: 1}, output_tokens: {constant: 1}, burst: 3}}]",
    );
    assert!(err.contains("unknown field `burst`"), "{err}");
    let err = parse_error("streams: [{replay: {path: x.csv}}]");
    assert!(
        err.contains(
            "unknown variant `replay`, expected one of `poisson`, `renewal`, `mmpp`, `trace`"
        ),
        "{err}"
    );
    let err = parse_error(
        "streams: [{poisson: {rate: {points: [{at: 30, rps: 1}]}, input_tokens: {constant: 1}, output_tokens: {constant: 1}}}]",
    );
    assert!(err.contains("expected a duration with a unit"), "{err}");
    let err = parse_error(
        "streams: [{poisson: {rate: {constant: 1}, input_tokens: {gamma: {k: 2}}, output_tokens: {constant: 1}}}]",
    );
    assert!(
        err.contains("expected one of `constant`, `uniform`, `normal`, `lognormal`"),
        "{err}"
    );
}

#[test]
fn the_schema_carries_the_field_docs() {
    let schema = serde_json::to_string(&schemars::schema_for!(WorkloadSpec)).unwrap();
    for text in [
        "The request streams",
        "The model's context length in tokens",
        "a spike is two steps",
        "The 99th-percentile length",
        "Replay speed",
        "such as \\\"30s\\\"",
        "Multiplies the number of requests",
        "Replays the (windowed) trace again and again",
        "a two-state Markov-modulated Poisson process",
        "The coefficient of variation of the gaps",
        "Lengths resampled from a trace",
        "Mooncake-style JSON Lines",
        "strftime-style pattern",
    ] {
        assert!(schema.contains(text), "{text} missing from {schema}");
    }
}

#[test]
fn a_loader_that_already_reads_one_key_maps_reads_the_same_workload() {
    let wrapped: WorkloadSpec = yaml_serde::with::singleton_map_recursive::deserialize(
        yaml_serde::Deserializer::from_str(EVERY_KIND),
    )
    .unwrap();
    assert_eq!(wrapped, parse(EVERY_KIND));
}

#[test]
fn trace_formats_and_options_parse_as_written() {
    let spec = parse(
        r#"
streams:
  - trace:
      name: mapped
      path: requests.csv
      format:
        csv:
          arrival: ts
          input: 2
          output: completion_tokens
          model: model
          time: {datetime: "%Y-%m-%d %H:%M:%S%.f"}
          delimiter: ";"
      model: llama
      zero_output: skip
      sort: true
  - trace:
      name: mooncake
      path: mooncake.jsonl
      format: mooncake
  - trace:
      name: burst
      path: BurstGPT_1.csv
      format: burstgpt
      zero_output: one_token
  - trace: {name: headless, path: x.csv, format: {csv: {arrival: 0, input: 1, output: 2, time: unix_ms, header: false}}}
"#,
    );
    let formats: Vec<Option<TraceFormat>> = spec
        .streams
        .iter()
        .map(|s| match s {
            StreamSpec::Trace(t) => t.format.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        formats,
        [
            Some(TraceFormat::Csv(CsvColumns {
                arrival: Column::Name("ts".into()),
                input: Column::Index(2),
                output: Column::Name("completion_tokens".into()),
                model: Some(Column::Name("model".into())),
                time: ArrivalTime::Datetime("%Y-%m-%d %H:%M:%S%.f".into()),
                header: true,
                delimiter: ';',
            })),
            Some(TraceFormat::Mooncake),
            Some(TraceFormat::BurstGpt),
            Some(TraceFormat::Csv(CsvColumns {
                arrival: Column::Index(0),
                input: Column::Index(1),
                output: Column::Index(2),
                model: None,
                time: ArrivalTime::UnixMs,
                header: false,
                delimiter: ',',
            })),
        ]
    );
    match &spec.streams[0] {
        StreamSpec::Trace(t) => {
            assert!(t.sort && !t.looped);
            assert_eq!(t.zero_output, Some(ZeroOutput::Skip));
            assert_eq!(t.model.as_deref(), Some("llama"));
            assert_eq!(t.rate_multiplier, 1.0);
        }
        other => panic!("{other:?}"),
    }
    // The command line names formats as the scenario file does.
    let format: TraceFormat = serde_json::from_value(serde_json::json!("burstgpt")).unwrap();
    assert_eq!(format, TraceFormat::BurstGpt);
}

#[test]
fn new_kinds_report_their_problems_with_paths() {
    let spec = parse(
        r#"
streams:
  - renewal:
      name: a
      rate: {constant: 1}
      cv: 50
      input_tokens: {empirical: {trace: no/such.csv, column: input}}
      output_tokens: {constant: 1}
  - mmpp:
      name: b
      on_rps: 0
      mean_on: 0s
      mean_off: 1m
      input_tokens: {constant: 1}
      output_tokens: {constant: 1}
  - mmpp:
      name: c
      on_rps: -1
      off_rps: .inf
      mean_on: 1s
      mean_off: 1m
      input_tokens: {constant: 1}
      output_tokens: {empirical: {trace: src, column: output}}
  - trace:
      name: d
      path: traces/azure-llm-2023-code.csv
      rate_multiplier: 0
      model: GPT-4
  - trace:
      name: e
      path: traces/azure-llm-2023-code.csv
      rate_multiplier: 5000
      format: {csv: {arrival: ts, input: 1, output: 2, header: false, delimiter: "é", time: {datetime: "%Y %q"}}}
"#,
    );
    let problems = pairs(spec.validate(base_dir()));
    let trace = base_dir().join("traces/azure-llm-2023-code.csv");
    let expected: Vec<(String, String)> = [
        (
            "streams[0].renewal.cv",
            "must be between 0.05 and 20".to_owned(),
        ),
        (
            "streams[0].renewal.input_tokens.empirical.trace",
            format!(
                "file not found: {}",
                base_dir().join("no/such.csv").display()
            ),
        ),
        (
            "streams[1].mmpp.on_rps",
            "on_rps and off_rps are both 0: the stream would send no request".to_owned(),
        ),
        (
            "streams[1].mmpp.mean_on",
            "must be longer than 0s".to_owned(),
        ),
        ("streams[2].mmpp.on_rps", "must be >= 0".to_owned()),
        (
            "streams[2].mmpp.off_rps",
            "must be a finite number".to_owned(),
        ),
        (
            "streams[2].mmpp.output_tokens.empirical.trace",
            format!(
                "is a folder, not a file: {}",
                base_dir().join("src").display()
            ),
        ),
        ("streams[3].trace.rate_multiplier", "must be > 0".to_owned()),
        (
            "streams[3].trace.path",
            format!(
                "{}: `model` keeps one model's rows, but Azure LLM inference traces have no \
                 model column",
                trace.display()
            ),
        ),
        (
            "streams[4].trace.rate_multiplier",
            "must be <= 1000".to_owned(),
        ),
        (
            "streams[4].trace.format.csv.arrival",
            "`ts` is a column name, but the trace has no header: give a 0-based index".to_owned(),
        ),
        (
            "streams[4].trace.format.csv.delimiter",
            "'é' cannot separate fields: expected one ASCII character other than a quote or a \
             line break"
                .to_owned(),
        ),
        (
            "streams[4].trace.format.csv.time.datetime",
            "`%q` is not a supported directive: use %Y %m %d %H %M %S %.f %f %z %T %F %%"
                .to_owned(),
        ),
    ]
    .into_iter()
    .map(|(path, message)| (path.to_owned(), message))
    .collect();
    assert_eq!(problems, expected);
}

/// A trace stream of the Azure code trace with extra YAML options.
fn azure(options: &str) -> WorkloadSpec {
    parse(&format!(
        "streams: [{{trace: {{path: traces/azure-llm-2023-code.csv{options}}}}}]"
    ))
}

#[test]
fn a_rate_multiplier_scales_the_count_and_keeps_the_lengths() {
    let hour = 60 * MIN;
    let base = drain(azure("").build(1, base_dir(), hour).unwrap());
    for (multiplier, tolerance) in [(2.0, 0.0), (0.5, 0.02), (1.25, 0.02)] {
        let spec = azure(&format!(", rate_multiplier: {multiplier}"));
        assert_eq!(pairs(spec.validate(base_dir())), vec![]);
        let out = drain(spec.build(1, base_dir(), hour).unwrap());
        let ratio = out.len() as f64 / base.len() as f64;
        assert!(
            (ratio / multiplier - 1.0).abs() <= tolerance,
            "x{multiplier}: {ratio}"
        );
        assert!(out.windows(2).all(|w| w[0].arrival <= w[1].arrival));
        let total = |r: &[Request]| r.iter().map(|r| f64::from(r.input_tokens)).sum::<f64>();
        assert!((total(&out) / total(&base) / multiplier - 1.0).abs() < 0.05);
    }
    // The draws come from the stream's own named random stream.
    let named = |name: &str| {
        drain(
            azure(&format!(", name: {name}, rate_multiplier: 0.5"))
                .build(1, base_dir(), hour)
                .unwrap(),
        )
    };
    assert_ne!(named("a"), named("b"));
    assert_eq!(named("a"), named("a"));
}

#[test]
fn a_looped_trace_fills_the_run() {
    let day = 24 * 60 * MIN;
    let spec = azure(", loop: true, time_scale: 4");
    let requests = drain(spec.build(0, base_dir(), day).unwrap());
    // 8,819 requests every 57 minutes / 4: about 101 passes in a day.
    assert!(requests.last().unwrap().arrival > (day - MIN).after_start());
    let passes = requests.len() as f64 / 8_819.0;
    assert!((100.0..102.0).contains(&passes), "{passes}");
}

#[test]
fn empirical_lengths_follow_the_trace() {
    let spec = parse(
        "streams: [{poisson: {rate: {constant: 20}, input_tokens: {empirical: {trace: traces/azure-llm-2023-code.csv, column: input}}, output_tokens: {empirical: {trace: traces/azure-llm-2023-code.csv, column: output}}}}]",
    );
    assert_eq!(pairs(spec.validate(base_dir())), vec![]);
    let drawn = drain(spec.build(8, base_dir(), 60 * MIN).unwrap());
    let trace = drain(azure("").build(0, base_dir(), SimDuration::MAX).unwrap());
    let quantile = |mut v: Vec<u32>, p: f64| {
        v.sort_unstable();
        f64::from(v[(p * (v.len() - 1) as f64) as usize])
    };
    for (p, tolerance) in [(0.5, 0.05), (0.9, 0.05)] {
        for column in [|r: &Request| r.input_tokens, |r: &Request| r.output_tokens] {
            let a = quantile(drawn.iter().map(column).collect(), p);
            let b = quantile(trace.iter().map(column).collect(), p);
            assert!((a / b - 1.0).abs() < tolerance, "p{p}: {a} vs {b}");
        }
    }
    // Poisson arrivals are untouched by where the lengths come from.
    let constant = parse(
        "streams: [{poisson: {rate: {constant: 20}, input_tokens: {constant: 5}, output_tokens: {constant: 5}}}]",
    );
    let arrivals = |r: Vec<Request>| r.iter().map(|r| r.arrival).collect::<Vec<_>>();
    assert_eq!(
        arrivals(drawn),
        arrivals(drain(constant.build(8, base_dir(), 60 * MIN).unwrap()))
    );
}

#[test]
fn renewal_and_mmpp_streams_build_from_yaml() {
    let spec = parse(
        r#"
streams:
  - renewal: {name: r, rate: {diurnal: {peak_rps: 4, trough_ratio: 0.25, peak_at: 30m, period: 1h}}, cv: 2, input_tokens: {constant: 10}, output_tokens: {constant: 5}}
  - mmpp: {name: m, on_rps: 10, mean_on: 20s, mean_off: 100s, input_tokens: {constant: 20}, output_tokens: {constant: 5}}
"#,
    );
    assert_eq!(pairs(spec.validate(base_dir())), vec![]);
    match &spec.streams[0] {
        StreamSpec::Renewal(r) => assert_eq!(r.distribution, GapDistribution::Gamma),
        other => panic!("{other:?}"),
    }
    let hour = 60 * MIN;
    let requests = drain(spec.build(2, base_dir(), 4 * hour).unwrap());
    let count = |tokens| requests.iter().filter(|r| r.input_tokens == tokens).count() as f64;
    // Means: 4 · (1 + 0.25) / 2 = 2.5 rps and 10 · 20 / 120 ≈ 1.67 rps over four hours.
    assert!(
        (count(10) / (2.5 * 14_400.0) - 1.0).abs() < 0.1,
        "{}",
        count(10)
    );
    assert!(
        (count(20) / (10.0 / 6.0 * 14_400.0) - 1.0).abs() < 0.15,
        "{}",
        count(20)
    );
    assert!(requests.windows(2).all(|w| w[0].arrival <= w[1].arrival));
}

#[test]
fn a_workload_of_more_than_a_hundred_million_requests_is_refused() {
    const HOUR: SimDuration = SimDuration::from_secs(3_600);
    let spec = parse(
        r#"
streams:
  - poisson:
      name: chat
      rate: {points: [{at: 0s, rps: 1}, {at: 10m, rps: 20000}]}
      input_tokens: {constant: 10}
      output_tokens: {constant: 10}
  - mmpp:
      name: bursts
      on_rps: 10000
      off_rps: 0
      mean_on: 1m
      mean_off: 1m
      input_tokens: {constant: 10}
      output_tokens: {constant: 10}
"#,
    );
    // 30 000 requests per second at the peak: 108 million in an hour, 54 million in half.
    assert!(spec.volume_problems(HOUR / 2).is_empty());
    let problems = pairs(spec.volume_problems(HOUR));
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].0, "streams");
    assert!(
        problems[0]
            .1
            .starts_with("up to 1.080e8 requests (30000 per second at the peak over 1h0m0s)"),
        "{}",
        problems[0].1
    );
    match spec.build(0, base_dir(), HOUR) {
        Err(WorkloadError::Invalid(found)) => assert_eq!(pairs(found), problems),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("built"),
    }
}

// ----- closed loops --------------------------------------------------------------------------

const WITH_A_CLOSED_LOOP: &str = r#"
max_context: 1000
streams:
  - poisson:
      name: chat
      rate: {constant: 2}
      input_tokens: {constant: 100}
      output_tokens: {constant: 10}
  - closed_loop:
      name: bench
      concurrency: 32
      think_time: {exponential: {mean: 2s}}
      requests: 2000
      input_tokens: {uniform: {min: 1, max: 3000}}
      output_tokens: {constant: 128}
"#;

#[test]
fn a_closed_loop_builds_beside_the_open_streams_and_is_not_in_their_source() {
    let spec = parse(WITH_A_CLOSED_LOOP);
    assert_eq!(pairs(spec.validate(base_dir())), vec![]);
    let mut workload = spec.build(4, base_dir(), 10 * MIN).unwrap();
    assert_eq!(workload.closed.len(), 1);
    let bench = &mut workload.closed[0];
    assert_eq!((bench.name(), bench.concurrency()), (Some("bench"), 32));
    // `max_context` clips the closed loop's requests too.
    let sent: Vec<Request> = (0..500).map(|_| bench.request(SimTime::ZERO)).collect();
    assert!(sent
        .iter()
        .all(|r| r.input_tokens + r.output_tokens <= 1000));
    assert!(sent.iter().any(|r| r.input_tokens == 999));
    // 2000 requests in all, then the clients stop.
    assert_eq!((0..2_100).filter(|_| bench.claim()).count(), 2_000);
    // The open-loop source holds the Poisson stream alone.
    let open = drain(workload);
    assert!((1_000..1_400).contains(&open.len()), "{}", open.len());
    assert!(open
        .iter()
        .all(|r| (r.input_tokens, r.output_tokens) == (100, 10)));
    // Defaults: no think time, requests until the end of the run.
    let lone = parse(
        "streams: [{closed_loop: {concurrency: 1, input_tokens: {constant: 5}, output_tokens: {constant: 5}}}]",
    );
    let mut workload = lone.build(0, base_dir(), MIN).unwrap();
    assert!(drain_open(&mut workload).is_empty());
    let c = &mut workload.closed[0];
    assert_eq!(c.think_time(), SimDuration::ZERO);
    assert!((0..10_000).all(|_| c.claim()));
}

fn drain_open(workload: &mut Workload) -> Vec<Request> {
    let mut out = Vec::new();
    while let Some(r) = workload.open.next_request().unwrap() {
        out.push(r);
    }
    out
}

#[test]
fn a_closed_loops_draws_do_not_move_when_another_stream_changes() {
    let draws = |yaml: &str| {
        let mut w = parse(yaml).build(9, base_dir(), 10 * MIN).unwrap();
        let c = &mut w.closed[0];
        let lengths: Vec<(u32, u32)> = (0..100)
            .map(|_| c.request(SimTime::ZERO))
            .map(|r| (r.input_tokens, r.output_tokens))
            .collect();
        let thinks: Vec<SimDuration> = (0..100).map(|_| c.think_time()).collect();
        (lengths, thinks)
    };
    let base = draws(WITH_A_CLOSED_LOOP);
    let other = WITH_A_CLOSED_LOOP
        .replace("rate: {constant: 2}", "rate: {constant: 7}")
        .replace(
            "input_tokens: {constant: 100}",
            "input_tokens: {uniform: {min: 1, max: 9}}",
        );
    assert_eq!(draws(&other), base);
    // Renaming the closed loop redraws it, from `<name>/...` streams.
    assert_ne!(draws(&WITH_A_CLOSED_LOOP.replace("bench", "bench2")), base);
    let mut think = crate::sim::rng::stream(9, "bench/think_time");
    let exp = crate::workload::ThinkTime::Exponential {
        mean: SimDuration::from_secs(2),
    };
    let expected: Vec<SimDuration> = (0..100).map(|_| exp.sample(&mut think)).collect();
    assert_eq!(base.1, expected);
}

#[test]
fn every_closed_loop_problem_is_reported_with_its_path() {
    let spec = parse(
        r#"
streams:
  - closed_loop:
      concurrency: 0
      requests: 0
      think_time: {exponential: {mean: 0s}}
      input_tokens: {constant: 0}
      output_tokens: {constant: 5}
  - closed_loop:
      name: b
      concurrency: 100001
      think_time: {uniform: {min: 2s, max: 1s}}
      input_tokens: {constant: 5}
      output_tokens: {constant: 5}
  - closed_loop:
      name: c
      concurrency: 4
      think_time: {lognormal: {median: 0s, p99: 1s}}
      input_tokens: {constant: 5}
      output_tokens: {constant: 5}
  - closed_loop:
      name: d
      concurrency: 4
      think_time: {lognormal: {median: 2s, p99: 1s}}
      input_tokens: {constant: 5}
      output_tokens: {constant: 5}
"#,
    );
    let expected: Vec<(String, String)> = [
        (
            "streams[0].closed_loop.name",
            "required when the workload has several streams",
        ),
        (
            "streams[0].closed_loop.concurrency",
            "must be between 1 and 100000",
        ),
        (
            "streams[0].closed_loop.requests",
            "must be >= 1 (leave it out to send until the end of the run)",
        ),
        (
            "streams[0].closed_loop.think_time.exponential.mean",
            "must be longer than 0s",
        ),
        (
            "streams[0].closed_loop.input_tokens.constant",
            "must be >= 1",
        ),
        (
            "streams[1].closed_loop.concurrency",
            "must be between 1 and 100000",
        ),
        (
            "streams[1].closed_loop.think_time.uniform.max",
            "must be >= min (2s)",
        ),
        (
            "streams[2].closed_loop.think_time.lognormal.median",
            "must be longer than 0s",
        ),
        (
            "streams[3].closed_loop.think_time.lognormal.p99",
            "must be >= the median (2s)",
        ),
    ]
    .iter()
    .map(|(path, message)| (path.to_string(), message.to_string()))
    .collect();
    assert_eq!(pairs(spec.validate(base_dir())), expected);
    assert!(parse_error(
        "streams: [{closed_loop: {concurrency: 1, think: 0s, input_tokens: {constant: 1}, output_tokens: {constant: 1}}}]"
    )
    .contains("unknown field `think`"));
}

#[test]
fn closed_loops_count_in_the_volume_check_by_their_requests_or_their_clients() {
    const HOUR: SimDuration = SimDuration::from_secs(3_600);
    let spec = |rest: &str| {
        parse(&format!(
            "streams: [{{closed_loop: {{concurrency: 100000, {rest} input_tokens: {{constant: 1}}, output_tokens: {{constant: 1}}}}}}]"
        ))
    };
    // 100 000 clients at one request per second each: 3.6e8 in an hour.
    let problems = pairs(spec("").volume_problems(HOUR));
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].0, "streams");
    assert!(
        problems[0].1.starts_with(
            "up to 3.600e8 requests (0 per second at the peak, and 3.600e8 from closed loops"
        ),
        "{}",
        problems[0].1
    );
    assert!(
        problems[0].1.contains("set `requests`"),
        "{}",
        problems[0].1
    );
    assert!(matches!(
        spec("").build(0, base_dir(), HOUR),
        Err(WorkloadError::Invalid(_))
    ));
    // A think time of 9 s on average: one request per 10 s per client, 3.6e7.
    let thinking = spec("think_time: {exponential: {mean: 9s}},");
    assert!(thinking.volume_problems(HOUR).is_empty());
    assert!(spec("think_time: {uniform: {min: 8s, max: 10s}},")
        .volume_problems(HOUR)
        .is_empty());
    assert!(spec("requests: 1000000,").volume_problems(HOUR).is_empty());
    // `requests` only ever lowers the count.
    assert!(!spec("requests: 1000000000000,")
        .volume_problems(HOUR)
        .is_empty());
    // 100 clients at one request per second and 10 per second from a Poisson stream.
    let mixed = parse(
        "streams: [{poisson: {name: p, rate: {constant: 10}, input_tokens: {constant: 1}, output_tokens: {constant: 1}}}, \
         {closed_loop: {name: c, concurrency: 100, input_tokens: {constant: 1}, output_tokens: {constant: 1}}}]",
    );
    assert!(mixed.volume_problems(HOUR).is_empty());
    let problems = pairs(mixed.volume_problems(HOUR * 300));
    assert!(
        problems[0].1.starts_with(
            "up to 1.188e8 requests (10 per second at the peak, and 1.080e8 from closed loops"
        ),
        "{}",
        problems[0].1
    );
}
