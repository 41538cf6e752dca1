//! Bad input of every kind — broken YAML, wrong types, unknown keys, values out of range,
//! files that cannot be read (missing, dangling or looping symlinks, folders), empty, binary
//! and non-UTF-8 files, absurd sizes, bad arguments — gives exit status 2 and one line that
//! names the file and the line, column or field (or the argument), never a panic, and `run`
//! writes nothing.
//!
//! Each case is a few files written into a folder of its own and a command line run there;
//! `run` and `chart` must leave the folder as it was.

use std::path::Path;

use assert_cmd::Command;

/// A file of a case.
enum File {
    Text(String),
    Bytes(Vec<u8>),
    Dir,
    /// A symlink to a file that does not exist.
    Dangling,
    /// A symlink to itself (root can read any file, so permissions cannot make one unreadable).
    Loop,
    /// A symlink to `/dev/zero`: a file that never ends.
    Endless,
}

/// Where a command reports the problem: `validate` prints its report on stdout.
#[derive(Clone, Copy, PartialEq)]
enum Channel {
    Stderr,
    ValidateReport,
}

struct Case {
    name: &'static str,
    files: Vec<(&'static str, File)>,
    /// The arguments; `{dir}` is the case's folder. `run` gets `--out {dir}/out -q` added.
    args: Vec<String>,
    /// Fragments the error line must contain (the file and the line, column or field).
    expected: Vec<String>,
    channel: Channel,
}

const POLICY: &str = include_str!("../../policies/chat-running-current.yaml");

/// A small valid scenario reading `policy.yaml`; cases replace parts of it.
const SCENARIO: &str = "name: base
seed: 1
duration: 10m
policies: [policy.yaml]
servings:
  - name: chat-llama
    namespace: llm
    replicas: 2
    gpus_per_pod: 8
    price_per_gpu_hour: 4.1
    startup: {constant: 90s}
    server: {preset: llama2-70b-8xa100}
workload:
  streams:
    - poisson:
        rate: {constant: 3}
        input_tokens: {constant: 600}
        output_tokens: {constant: 200}
assertions: [\"slo.attainment >= 0.9\"]
";

const POISSON: &str = "    - poisson:
        rate: {constant: 3}
        input_tokens: {constant: 600}
        output_tokens: {constant: 200}
";

const TRACE_STREAM: &str = "    - trace:
        path: trace.csv
";

const GENERIC_HEADER: &str = "arrival_s,input_tokens,output_tokens\n";

fn scenario_with(from: &str, to: &str) -> String {
    assert!(SCENARIO.contains(from), "{from}");
    SCENARIO.replacen(from, to, 1)
}

fn policy_with(from: &str, to: &str) -> String {
    assert!(POLICY.contains(from), "{from}");
    POLICY.replacen(from, to, 1)
}

/// `validate` of a policy that is `POLICY` with one change.
fn validate_case(name: &'static str, text: String, expected: &[&str]) -> Case {
    Case {
        name,
        files: vec![("policy.yaml", File::Text(text))],
        args: args(&["validate", "{dir}/policy.yaml"]),
        expected: with_file("policy.yaml", expected),
        channel: Channel::ValidateReport,
    }
}

/// `run` of a scenario that is `SCENARIO` with one change, and `POLICY`.
fn scenario_case(name: &'static str, text: String, expected: &[&str]) -> Case {
    run_case(
        name,
        vec![
            ("scenario.yaml", File::Text(text)),
            ("policy.yaml", File::Text(POLICY.to_owned())),
        ],
        &[],
        &with_file("scenario.yaml", expected),
    )
}

/// `run` of `SCENARIO` with a bad `policy.yaml`.
fn policy_case(name: &'static str, policy: File, expected: &[&str]) -> Case {
    run_case(
        name,
        vec![
            ("scenario.yaml", File::Text(SCENARIO.to_owned())),
            ("policy.yaml", policy),
        ],
        &[],
        &with_file("scenario.yaml", expected),
    )
}

/// `run` of `SCENARIO` replaying a bad `trace.csv`.
fn trace_case(name: &'static str, trace: File, expected: &[&str]) -> Case {
    run_case(
        name,
        vec![
            (
                "scenario.yaml",
                File::Text(scenario_with(POISSON, TRACE_STREAM)),
            ),
            ("policy.yaml", File::Text(POLICY.to_owned())),
            ("trace.csv", trace),
        ],
        &[],
        &with_file("trace.csv", expected),
    )
}

/// `trace stats` of a bad `trace.csv`.
fn stats_case(name: &'static str, trace: File, expected: &[&str]) -> Case {
    Case {
        name,
        files: vec![("trace.csv", trace)],
        args: args(&["trace", "stats", "{dir}/trace.csv"]),
        expected: with_file("trace.csv", expected),
        channel: Channel::Stderr,
    }
}

/// `calibrate` of a bad measured file `bench.csv` (with `extra` arguments).
fn calibrate_case(name: &'static str, bench: File, extra: &[&str], expected: &[&str]) -> Case {
    let mut a = args(&["calibrate", "{dir}/bench.csv", "--out", "{dir}/out", "-q"]);
    a.extend(args(extra));
    Case {
        name,
        files: vec![("bench.csv", bench)],
        args: a,
        expected: args(expected),
        channel: Channel::Stderr,
    }
}

const BENCH: &str =
    "concurrency,input_tokens,output_tokens,ttft_ms,tpot_ms\n8,1024,128,154.2,18.0\n";

/// `replay` of a bad `ticks.jsonl`.
fn replay_case(name: &'static str, ticks: File, expected: &[&str]) -> Case {
    Case {
        name,
        files: vec![("ticks.jsonl", ticks)],
        args: args(&["replay", "--engine", "head", "{dir}/ticks.jsonl"]),
        expected: with_file("ticks.jsonl", expected),
        channel: Channel::Stderr,
    }
}

/// The files `chart` reads, as a run without scaled targets writes them (through the
/// output types themselves).
fn chart_files() -> Vec<(&'static str, String)> {
    use kthena_sim::outputs::rows::{CostRow, LatencyRow, TimelineRow};
    use kthena_sim::outputs::{columns, summary::Summary};
    let summary = Summary {
        scenario: "s".into(),
        engine: "head".into(),
        seed: 1,
        duration_s: 60.0,
        ..Summary::default()
    };
    let header = |columns: &[&str]| format!("{}\n", columns.join(","));
    vec![
        (
            "summary.json",
            serde_json::to_string(&summary).expect("JSON"),
        ),
        ("timeline.csv", header(columns::<TimelineRow>())),
        ("latency.csv", header(columns::<LatencyRow>())),
        ("cost.csv", header(columns::<CostRow>())),
    ]
}

/// `chart` of a run folder whose `file` is `bad`.
fn chart_case(name: &'static str, file: &'static str, bad: File, expected: &[&str]) -> Case {
    let mut files: Vec<(&'static str, File)> = chart_files()
        .into_iter()
        .filter(|(f, _)| *f != file)
        .map(|(f, text)| (f, File::Text(text)))
        .collect();
    files.push((file, bad));
    Case {
        name,
        files,
        args: args(&["chart", "{dir}"]),
        expected: with_file(file, expected),
        channel: Channel::Stderr,
    }
}

/// `run` of `SCENARIO` (and `POLICY`) with extra arguments.
fn argument_case(name: &'static str, extra: &[&str], expected: &[&str]) -> Case {
    run_case(
        name,
        vec![
            ("scenario.yaml", File::Text(SCENARIO.to_owned())),
            ("policy.yaml", File::Text(POLICY.to_owned())),
        ],
        extra,
        &args(expected),
    )
}

fn run_case(
    name: &'static str,
    files: Vec<(&'static str, File)>,
    extra: &[&str],
    expected: &[String],
) -> Case {
    let mut a = args(&["run", "{dir}/scenario.yaml"]);
    a.extend(args(extra));
    Case {
        name,
        files,
        args: a,
        expected: expected.to_vec(),
        channel: Channel::Stderr,
    }
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// The file's path first, then the other fragments.
fn with_file(file: &str, rest: &[&str]) -> Vec<String> {
    std::iter::once(format!("{{dir}}/{file}"))
        .chain(rest.iter().map(|s| (*s).to_owned()))
        .collect()
}

fn cases() -> Vec<Case> {
    let binary: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    let mut invalid_utf8 = b"name: base\nseed: 1\n# caf".to_vec();
    invalid_utf8.extend_from_slice(&[0xe9, b'\n']);
    vec![
        // Scenario files.
        scenario_case(
            "scenario-yaml-syntax",
            scenario_with("duration: 10m\n", "duration: [10m\n"),
            &["duration: invalid type: sequence", "line 3 column 11"],
        ),
        scenario_case(
            "scenario-yaml-indentation",
            scenario_with("name: base\n", "name: base\n  seed: 2\n"),
            &["mapping values are not allowed", "line 2 column 7"],
        ),
        scenario_case(
            "scenario-yaml-tab",
            scenario_with("seed: 1\n", "seed: 1\n\tduration: 1h\n"),
            &["line 3 column 1"],
        ),
        scenario_case(
            "scenario-unknown-key",
            scenario_with("seed: 1\n", "seed: 1\nsede: 2\n"),
            &["unknown field `sede`", "line 3 column 1"],
        ),
        scenario_case(
            "scenario-unknown-nested-key",
            scenario_with("gpus_per_pod: 8", "gpu_per_pod: 8"),
            &["servings[0]", "unknown field `gpu_per_pod`", "line 9 column 5"],
        ),
        scenario_case(
            "scenario-wrong-type",
            scenario_with("seed: 1\n", "seed: one\n"),
            &["seed: invalid type", "line 2 column 7"],
        ),
        scenario_case(
            "scenario-wrong-nested-type",
            scenario_with("replicas: 2", "replicas: [2]"),
            &["servings[0].replicas: invalid type", "line 8 column 15"],
        ),
        scenario_case(
            "scenario-negative-seed",
            scenario_with("seed: 1\n", "seed: -1\n"),
            &["seed: invalid type: integer `-1`, expected u64", "line 2 column 7"],
        ),
        scenario_case(
            "scenario-seed-too-large",
            scenario_with("seed: 1\n", "seed: 1e30\n"),
            &["seed: invalid type: floating point", "line 2 column 7"],
        ),
        scenario_case(
            "scenario-a-billion-replicas",
            scenario_with("replicas: 2", "replicas: 1000000000"),
            &["servings[0].replicas: must be between 0 and 10000"],
        ),
        scenario_case(
            "scenario-a-hundred-years",
            scenario_with("duration: 10m", "duration: 876000h"),
            &["duration: must be at most 31 days (744h)"],
        ),
        scenario_case(
            "scenario-duration-overflow",
            scenario_with("duration: 10m", "duration: 9999999999h"),
            &["duration: time: invalid duration \"9999999999h\""],
        ),
        scenario_case(
            "scenario-zero-duration",
            scenario_with("duration: 10m", "duration: 0s"),
            &["duration: must be greater than 0"],
        ),
        scenario_case(
            "scenario-microsecond-ticks",
            scenario_with("duration: 10m\n", "duration: 10m\nsync_period: 1ms\n"),
            &["sync_period: must be at least 1s"],
        ),
        scenario_case(
            "scenario-a-trillion-requests",
            scenario_with("{constant: 3}", "{constant: 1e12}"),
            &["workload.streams: up to 6.000e14 requests", "at most 1e8"],
        ),
        calibrate_case(
            "calibrate-missing-column",
            File::Text("concurrency,input_tokens,output_tokens,ttft_ms\n8,1024,128,154.2\n".into()),
            &[],
            &["{dir}/bench.csv", "line 1", "tpot_ms"],
        ),
        calibrate_case(
            "calibrate-not-a-number",
            File::Text(format!("{BENCH}16,1024,128,abc,22.1\n")),
            &[],
            &["{dir}/bench.csv", "line 3", "column ttft_ms", "abc"],
        ),
        calibrate_case(
            "calibrate-negative-time",
            File::Text(format!("{BENCH}16,1024,128,-5,22.1\n")),
            &[],
            &["{dir}/bench.csv", "line 3", "column ttft_ms", "-5"],
        ),
        calibrate_case(
            "calibrate-zero-time",
            File::Text(format!("{BENCH}16,1024,128,187.9,0\n")),
            &[],
            &["{dir}/bench.csv", "line 3", "column tpot_ms"],
        ),
        calibrate_case("calibrate-empty-file", File::Text(String::new()), &[], &["{dir}/bench.csv"]),
        calibrate_case(
            "calibrate-unknown-format",
            File::Text("a,b,c\n1,2,3\n".into()),
            &[],
            &["{dir}/bench.csv", "line 1", "no format recognised"],
        ),
        calibrate_case(
            "calibrate-set-unknown-field",
            File::Text(BENCH.into()),
            &["--set", "max_num_seq=128"],
            &["--set max_num_seq=128", "unknown server field", "max_num_seqs"],
        ),
        calibrate_case(
            "calibrate-set-not-a-count",
            File::Text(BENCH.into()),
            &["--set", "kv_cache_tokens=0.5"],
            &["--set kv_cache_tokens=0.5", "a whole number >= 1"],
        ),
        calibrate_case(
            "calibrate-unknown-server",
            File::Text(BENCH.into()),
            &["--no-fit", "--server", "qwen3-32b-h100"],
            &["--server qwen3-32b-h100", "neither a preset nor a file"],
        ),
        scenario_case(
            "scenario-closed-loop-no-clients",
            scenario_with(
                POISSON,
                "    - closed_loop:\n        concurrency: 0\n        input_tokens: {constant: 1024}\n        output_tokens: {constant: 128}\n",
            ),
            &["workload.streams[0].closed_loop.concurrency", "between 1 and 100000"],
        ),
        scenario_case(
            "scenario-closed-loop-bad-think-time",
            scenario_with(
                POISSON,
                "    - closed_loop:\n        concurrency: 8\n        think_time: {uniform: {min: 3s, max: 1s}}\n        input_tokens: {constant: 1024}\n        output_tokens: {constant: 128}\n",
            ),
            &["closed_loop.think_time.uniform.max", "must be >= min"],
        ),
        scenario_case(
            "scenario-negative-request-overhead",
            scenario_with(
                "server: {preset: llama2-70b-8xa100}",
                "server: {preset: llama2-70b-8xa100, request_overhead_ms: -3}",
            ),
            &["servings[0].server", "request_overhead_ms", "0 or more"],
        ),
        scenario_case(
            "scenario-negative-rate",
            scenario_with("{constant: 3}", "{constant: -3}"),
            &["workload.streams[0].poisson.rate.constant: must be >= 0"],
        ),
        scenario_case(
            "scenario-nan-rate",
            scenario_with("{constant: 3}", "{constant: .nan}"),
            &["workload.streams[0].poisson.rate.constant: must be a finite number"],
        ),
        scenario_case(
            "scenario-huge-token-count",
            scenario_with("{constant: 600}", "{constant: 1000000000000}"),
            &["workload.streams[0].poisson.input_tokens"],
        ),
        scenario_case(
            "scenario-bad-assertion",
            scenario_with("slo.attainment >= 0.9", "slo.attainment >> 0.9"),
            &["assertions[0]"],
        ),
        scenario_case(
            "scenario-empty",
            String::new(),
            &["empty scenario file"],
        ),
        scenario_case(
            "scenario-only-comments",
            "# a scenario, one day\n".to_owned(),
            &["missing field `name`"],
        ),
        run_case(
            "scenario-binary",
            vec![("scenario.yaml", File::Bytes(binary.clone()))],
            &[],
            &with_file("scenario.yaml", &["not UTF-8 text", "line 2 column 118"]),
        ),
        run_case(
            "scenario-invalid-utf8",
            vec![("scenario.yaml", File::Bytes(invalid_utf8.clone()))],
            &[],
            &with_file("scenario.yaml", &["not UTF-8 text", "line 3 column 6"]),
        ),
        run_case(
            "scenario-is-a-folder",
            vec![("scenario.yaml", File::Dir)],
            &[],
            &with_file("scenario.yaml", &["cannot read", "Is a directory"]),
        ),
        run_case(
            "scenario-dangling-symlink",
            vec![("scenario.yaml", File::Dangling)],
            &[],
            &with_file("scenario.yaml", &["cannot read", "No such file"]),
        ),
        run_case(
            "scenario-symlink-loop",
            vec![("scenario.yaml", File::Loop)],
            &[],
            &with_file("scenario.yaml", &["cannot read", "symbolic links"]),
        ),
        run_case(
            "scenario-endless",
            vec![("scenario.yaml", File::Endless)],
            &[],
            &with_file("scenario.yaml", &["larger than 16 MiB"]),
        ),
        scenario_case(
            "scenario-a-billion-role-replicas",
            scenario_with(
                "replicas: 2\n",
                "replicas: 2\n    roles: [{name: worker, replicas: 1000000000}]\n",
            ),
            &["servings[0].roles[0].replicas: must be between 0 and 10000"],
        ),
        scenario_case(
            "scenario-gpus-beyond-u32",
            format!("{SCENARIO}cluster:\n  accelerators:\n    gpu: {{gpus: 1e12}}\n"),
            &[
                "cluster.accelerators.gpu.gpus: invalid type: floating point",
                "line 22 column",
            ],
        ),
        // Manifests read by `run`.
        policy_case(
            "policy-yaml-syntax",
            File::Text(policy_with("  metrics:\n", "  metrics: [\n")),
            &["policies", "policy.yaml", "invalid YAML", "line 12 column 3"],
        ),
        policy_case(
            "policy-out-of-range",
            File::Text(policy_with("maxReplicas: 12", "maxReplicas: 1000000000")),
            &[
                "policy.yaml",
                "spec.homogeneousTarget.maxReplicas: Invalid value: 1000000000",
            ],
        ),
        policy_case(
            "policy-empty",
            File::Text(String::new()),
            &["policies[0]", "policy.yaml", "no Kubernetes objects"],
        ),
        policy_case(
            "policy-invalid-utf8",
            File::Bytes(invalid_utf8.clone()),
            &["policies[0]", "policy.yaml", "not UTF-8 text", "line 3 column 6"],
        ),
        policy_case(
            "policy-is-a-folder",
            File::Dir,
            &["policies[0]", "policy.yaml", "Is a directory"],
        ),
        policy_case(
            "policy-dangling-symlink",
            File::Dangling,
            &["policies[0]", "policy.yaml", "No such file"],
        ),
        policy_case(
            "policy-endless",
            File::Endless,
            &["policies[0]", "policy.yaml", "larger than 16 MiB"],
        ),
        // Manifests checked by `validate`.
        validate_case(
            "validate-yaml-syntax",
            policy_with("  metrics:\n", "  metrics: [\n"),
            &["document 1 (line 4): invalid YAML", "at line 12 column 3"],
        ),
        validate_case(
            "validate-wrong-type",
            policy_with("minReplicas: 2", "minReplicas: two"),
            &["spec.homogeneousTarget.minReplicas: Invalid value: \"two\": must be of type integer"],
        ),
        validate_case(
            "validate-replicas-beyond-int32",
            policy_with("maxReplicas: 12", "maxReplicas: 3000000000"),
            &["spec.homogeneousTarget.maxReplicas"],
        ),
        validate_case(
            "validate-a-hundred-years",
            policy_with("period: 2m", "period: 876000h"),
            &["spec.behavior.scaleDown.period", "between 0 and 30 minutes"],
        ),
        validate_case(
            "validate-huge-quantity",
            policy_with("targetValue: 24", "targetValue: 1e400"),
            &["spec.metrics[0].targetValue"],
        ),
        validate_case(
            "validate-unknown-enum",
            policy_with("kind: ModelServing", "kind: Deployment"),
            &["spec.homogeneousTarget.target.targetRef.kind"],
        ),
        Case {
            name: "validate-invalid-utf8",
            files: vec![("policy.yaml", File::Bytes(invalid_utf8.clone()))],
            args: args(&["validate", "{dir}/policy.yaml"]),
            expected: with_file("policy.yaml", &["not UTF-8 text", "line 3 column 6"]),
            channel: Channel::ValidateReport,
        },
        Case {
            name: "validate-symlink-loop",
            files: vec![("policy.yaml", File::Loop)],
            args: args(&["validate", "{dir}/policy.yaml"]),
            expected: with_file("policy.yaml", &["cannot read", "symbolic links"]),
            channel: Channel::ValidateReport,
        },
        Case {
            name: "validate-endless",
            files: vec![("policy.yaml", File::Endless)],
            args: args(&["validate", "{dir}/policy.yaml"]),
            expected: with_file("policy.yaml", &["larger than 16 MiB"]),
            channel: Channel::ValidateReport,
        },
        // Traces replayed by `run`.
        trace_case(
            "trace-binary",
            File::Bytes(binary.clone()),
            &["trace.csv:1: not text"],
        ),
        trace_case("trace-empty", File::Text(String::new()), &["trace.csv:1: empty"]),
        trace_case(
            "trace-foreign-header",
            File::Text("time,prompt,completion\n0,1,1\n".to_owned()),
            &["time,prompt,completion"],
        ),
        trace_case(
            "trace-non-numeric-row",
            File::Text(format!("{GENERIC_HEADER}0.5,10,5\n1.5,ten,5\n")),
            &["trace.csv:3"],
        ),
        trace_case(
            "trace-decreasing-times",
            File::Text(format!("{GENERIC_HEADER}2.5,10,5\n1.5,10,5\n")),
            &["trace.csv:3"],
        ),
        trace_case(
            "trace-invalid-utf8-row",
            File::Bytes([GENERIC_HEADER.as_bytes(), b"0.5,10,5\n1.5,1\xff0,5\n"].concat()),
            &["trace.csv:3"],
        ),
        trace_case("trace-is-a-folder", File::Dir, &["is a folder, not a file"]),
        trace_case("trace-dangling-symlink", File::Dangling, &["file not found"]),
        // Traces read by `trace stats`.
        stats_case(
            "stats-token-count-overflow",
            File::Text(format!("{GENERIC_HEADER}0.5,10,5\n1.5,1000000000000,5\n")),
            &["trace.csv:3"],
        ),
        stats_case(
            "stats-a-hundred-years-late",
            File::Text(format!("{GENERIC_HEADER}0.5,10,5\n1e300,10,5\n")),
            &["trace.csv:3"],
        ),
        stats_case(
            "stats-a-century-long-trace",
            File::Text(format!("{GENERIC_HEADER}0,10,5\n3153600000,10,5\n")),
            &["request 2 arrives 36500 days after the first", "at most 366 days"],
        ),
        stats_case("stats-symlink-loop", File::Loop, &["symbolic links"]),
        stats_case("stats-endless", File::Endless, &["trace.csv:1: not text"]),
        stats_case("stats-binary", File::Bytes(binary), &["trace.csv:1: not text"]),
        // Recorded ticks read by `replay`.
        replay_case("replay-endless", File::Endless, &["ticks.jsonl:1: line longer than 64 MiB"]),
        replay_case(
            "replay-broken-json",
            File::Text("\n{\"id\": 1\n".to_owned()),
            &["ticks.jsonl:2: invalid scenario line: EOF while parsing an object at line 1 column 8"],
        ),
        replay_case(
            "replay-invalid-utf8",
            File::Bytes(b"{\"id\": \"\xff\"}\n".to_vec()),
            &["ticks.jsonl:1: not UTF-8 text at byte 9"],
        ),
        // A run's folder read by `chart`.
        chart_case(
            "chart-binary-timeline",
            "timeline.csv",
            File::Bytes(vec![0xff, 0xfe, b'\n']),
            &["invalid UTF-8 in field 0"],
        ),
        chart_case(
            "chart-foreign-latency",
            "latency.csv",
            File::Text("time_s,completed\n1e400,x\n".to_owned()),
            &["no column `ttft_p50_s`"],
        ),
        chart_case(
            "chart-broken-summary",
            "summary.json",
            File::Text("{\"scenario\": \"s\"".to_owned()),
            &["EOF while parsing an object at line 1 column 16"],
        ),
        chart_case(
            "chart-bad-number",
            "cost.csv",
            File::Text("time_s,serving,servers,cost_per_hour,cost\n60,chat,1,4.1,many\n".to_owned()),
            &["line: 2", "field 4"],
        ),
        chart_case("chart-missing-cost", "cost.csv", File::Dangling, &["cannot read"]),
        // Command-line arguments.
        argument_case(
            "argument-seed-not-a-number",
            &["--seed", "abc"],
            &["--seed"],
        ),
        argument_case("argument-negative-seed", &["--seed", "-1"], &["-1"]),
        argument_case("argument-unknown-engine", &["--engine", "v9"], &["--engine"]),
        argument_case("argument-unknown-flag", &["--fast"], &["--fast"]),
        argument_case(
            "argument-bad-duration",
            &["--duration", "1y"],
            &["{dir}/scenario.yaml", "duration: time: unknown unit"],
        ),
        argument_case(
            "argument-a-hundred-years",
            &["--duration", "876000h"],
            &["{dir}/scenario.yaml", "duration: must be at most 31 days"],
        ),
        argument_case(
            "argument-malformed-setting",
            &["--set", "replicas"],
            &["--set", "expected KEY=VALUE"],
        ),
        argument_case(
            "argument-unknown-trace-format",
            &["--trace", "t.csv", "--trace-format", "parquet"],
            &["--trace-format"],
        ),
        argument_case(
            "argument-setting-a-billion-replicas",
            &["--set", "servings[chat-llama].replicas=1000000000"],
            &["{dir}/scenario.yaml", "servings[0].replicas: must be between 0 and 10000"],
        ),
        argument_case(
            "argument-setting-unknown-serving",
            &["--set", "servings[chat].replicas=1"],
            &["{dir}/scenario.yaml", "--set servings[chat].replicas=1", "no element named \"chat\""],
        ),
        argument_case(
            "argument-setting-wrong-type",
            &["--set", "seed=x"],
            &["{dir}/scenario.yaml", "--set seed=x: invalid type: string \"x\""],
        ),
        Case {
            name: "argument-sweep-shard-out-of-range",
            files: vec![
                ("scenario.yaml", File::Text(SCENARIO.to_owned())),
                ("policy.yaml", File::Text(POLICY.to_owned())),
            ],
            args: args(&[
                "sweep",
                "{dir}/scenario.yaml",
                "--set",
                "seed=1,2",
                "--shard",
                "5/4",
                "--out",
                "{dir}/out",
            ]),
            expected: args(&["--shard \"5/4\": expected K/N with 1 <= K <= N"]),
            channel: Channel::Stderr,
        },
        Case {
            name: "plan-a-range-of-1e300-values",
            files: vec![
                (
                    "scenario.yaml",
                    File::Text(format!(
                        "{SCENARIO}plan:\n  dimensions:\n    - key: policy.metrics[0].targetValue\n      range: {{min: 0, max: 1, step: 1e-300}}\n"
                    )),
                ),
                ("policy.yaml", File::Text(POLICY.to_owned())),
            ],
            args: args(&["plan", "{dir}/scenario.yaml", "--out", "{dir}/out"]),
            expected: args(&[
                "{dir}/scenario.yaml",
                "plan.dimensions[0].range: 1.000e300 values; at most 1000",
            ]),
            channel: Channel::Stderr,
        },
        Case {
            name: "argument-missing-scenario",
            files: Vec::new(),
            args: args(&["run"]),
            expected: args(&["<SCENARIO>"]),
            channel: Channel::Stderr,
        },
        Case {
            name: "argument-trace-gen-a-trillion-requests",
            files: vec![(
                "workload.yaml",
                File::Text(
                    "streams:\n  - poisson:\n      rate: {constant: 1e12}\n      input_tokens: {constant: 1}\n      output_tokens: {constant: 1}\n"
                        .to_owned(),
                ),
            )],
            args: args(&[
                "trace",
                "gen",
                "{dir}/workload.yaml",
                "--duration",
                "1h",
                "--out",
                "{dir}/out",
            ]),
            expected: args(&["{dir}/workload.yaml", "streams: up to 3.600e15 requests"]),
            channel: Channel::Stderr,
        },
    ]
}

/// Writes the case's files into `dir`.
fn write(dir: &Path, files: &[(&str, File)]) {
    for (name, file) in files {
        let path = dir.join(name);
        match file {
            File::Text(text) => std::fs::write(&path, text).unwrap(),
            File::Bytes(bytes) => std::fs::write(&path, bytes).unwrap(),
            File::Dir => std::fs::create_dir(&path).unwrap(),
            File::Dangling => std::os::unix::fs::symlink(dir.join("missing"), &path).unwrap(),
            File::Loop => std::os::unix::fs::symlink(&path, &path).unwrap(),
            File::Endless => std::os::unix::fs::symlink("/dev/zero", &path).unwrap(),
        }
    }
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// What is wrong with the outcome of `case`, if anything.
fn check(case: &Case, base: &Path) -> Option<String> {
    let dir = base.join(case.name);
    std::fs::create_dir_all(&dir).unwrap();
    write(&dir, &case.files);
    let before = listing(&dir);
    let fill = |s: &str| s.replace("{dir}", &dir.display().to_string());
    let mut args: Vec<String> = case.args.iter().map(|a| fill(a)).collect();
    let run = args.first().is_some_and(|a| a == "run");
    let writes_nothing = run
        || args
            .first()
            .is_some_and(|a| a == "chart" || a == "calibrate");
    if run {
        args.extend(["--out".to_owned(), fill("{dir}/out"), "-q".to_owned()]);
    }
    let output = Command::cargo_bin("kthena-sim")
        .unwrap()
        .args(&args)
        .current_dir(&dir)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let mut wrong = Vec::new();
    if output.status.code() != Some(2) {
        wrong.push(format!("exit status {:?}", output.status.code()));
    }
    if stdout.contains("panicked at") || stderr.contains("panicked at") {
        wrong.push("a panic".to_owned());
    }
    let line = match case.channel {
        Channel::Stderr => stderr.trim_end().to_owned(),
        Channel::ValidateReport => {
            if !stderr.is_empty() {
                wrong.push("validate wrote to stderr".to_owned());
            }
            stdout
                .lines()
                .filter(|l| !l.starts_with("ok ") && !l.starts_with("note: "))
                .collect::<Vec<_>>()
                .join("\n")
        }
    };
    if line.lines().count() != 1 {
        wrong.push("not one line".to_owned());
    }
    for fragment in case.expected.iter().map(|f| fill(f)) {
        if !line.contains(&fragment) {
            wrong.push(format!("no `{fragment}`"));
        }
    }
    if writes_nothing && listing(&dir) != before {
        wrong.push(format!("wrote {:?}", listing(&dir)));
    }
    if dir.join("out").exists() {
        wrong.push("created the output folder".to_owned());
    }
    (!wrong.is_empty()).then(|| {
        format!(
            "{}: {}\n  stdout: {stdout}\n  stderr: {stderr}",
            case.name,
            wrong.join(", ")
        )
    })
}

#[test]
fn every_bad_input_gives_exit_2_and_one_line_naming_file_and_place() {
    let base = std::env::temp_dir().join(format!("kthena-sim-bad-input-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let cases = cases();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let failures: Vec<String> = cases.iter().filter_map(|c| check(c, &base)).collect();
    let _ = std::fs::remove_dir_all(&base);
    assert!(
        failures.is_empty(),
        "{} of {} cases:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// The base files of the cases are valid: each case fails for the reason it names.
#[test]
fn the_base_scenario_runs() {
    let dir =
        std::env::temp_dir().join(format!("kthena-sim-bad-input-base-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    write(
        &dir,
        &[
            ("scenario.yaml", File::Text(SCENARIO.to_owned())),
            ("policy.yaml", File::Text(POLICY.to_owned())),
            (
                "trace.yaml",
                File::Text(scenario_with(POISSON, TRACE_STREAM)),
            ),
            (
                "trace.csv",
                File::Text(format!("{GENERIC_HEADER}0.5,10,5\n1.5,10,5\n")),
            ),
        ],
    );
    for scenario in ["scenario.yaml", "trace.yaml"] {
        let output = Command::cargo_bin("kthena-sim")
            .unwrap()
            .args(["run", scenario, "--out", "out", "-q"])
            .current_dir(&dir)
            .output()
            .unwrap();
        let code = output.status.code();
        assert!(
            code == Some(0) || code == Some(1),
            "{scenario}: {code:?} {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(dir.join("out/summary.json").exists());
    }
    let _ = std::fs::remove_dir_all(&dir);
}
