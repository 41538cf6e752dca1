//! The workload's scenario format: what parses, what validates (every problem, with its
//! path), and what the built sources produce.

use super::*;
use crate::workload::Request;

const MIN: SimTime = 60 * MICROS_PER_SEC;

/// The folder holding the crate, so that `../shared/traces/...` resolves as in a scenario.
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

fn drain(mut source: BoxedSource) -> Vec<Request> {
    let mut out = Vec::new();
    while let Some(r) = source.next_request().unwrap() {
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
      path: ../shared/traces/azure-llm-2023-code.csv
      format: azure
      window: {from: 10m, to: 40m}
      time_scale: 2
"#;

#[test]
fn every_kind_parses_validates_and_builds() {
    let spec = parse(EVERY_KIND);
    assert_eq!(spec.validate(base_dir()), vec![]);
    assert_eq!(spec.max_context, Some(8192));
    match &spec.streams[1] {
        StreamSpec::Poisson(PoissonSpec {
            rate: RateSpec::Diurnal(d),
            ..
        }) => assert_eq!(d.period.micros(), 24 * 60 * MIN),
        other => panic!("{other:?}"),
    }
    match &spec.streams[3] {
        StreamSpec::Trace(t) => {
            assert_eq!(t.time_scale, 2.0);
            assert_eq!(
                t.window.and_then(|w| w.from).map(SpecDuration::micros),
                Some(10 * MIN)
            );
        }
        other => panic!("{other:?}"),
    }
    let requests = drain(spec.build(1, base_dir(), 30 * MIN).unwrap());
    assert!(requests.len() > 5_000);
    assert!(requests.windows(2).all(|w| w[0].arrival <= w[1].arrival));
    assert!(requests.iter().all(|r| r.arrival < 30 * MIN));
    assert!(requests.iter().all(|r| r.input_tokens >= 1
        && r.output_tokens >= 1
        && r.input_tokens + r.output_tokens <= 8192));
}

#[test]
fn a_lone_stream_needs_no_name_and_a_trace_needs_no_options() {
    let spec = parse("streams: [{trace: {path: ../shared/traces/azure-llm-2023-code.csv}}]");
    assert_eq!(spec.validate(base_dir()), vec![]);
    let requests = drain(spec.build(0, base_dir(), SimTime::MAX).unwrap());
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
    let direct = drain(Box::new(PoissonSource::new(
        3,
        None,
        RateProfile::Constant(3.0),
        LengthDistribution::Uniform { min: 1, max: 99 },
        LengthDistribution::Constant(5),
        10 * MIN,
    )));
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
    let problems = spec.validate(base_dir());
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
        Err(WorkloadError::Invalid(p)) if p == expected
    ));
}

#[test]
fn a_trace_with_a_foreign_header_is_refused_at_validation() {
    let spec = parse("streams: [{trace: {path: Cargo.toml}}]");
    let problems = spec.validate(base_dir());
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].0, "streams[0].trace.path");
    assert!(problems[0]
        .1
        .contains("is not recognised: expected `TIMESTAMP,ContextTokens,GeneratedTokens`"));

    let folder = parse("streams: [{trace: {path: src}}]").validate(base_dir());
    assert!(folder[0].1.starts_with("is a folder, not a file: "));

    let generic_only = parse(
        "streams: [{trace: {path: ../shared/traces/azure-llm-2023-code.csv, format: generic}}]",
    );
    let problems = generic_only.validate(base_dir());
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
        err.contains("unknown variant `replay`, expected `poisson` or `trace`"),
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
