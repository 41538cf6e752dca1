//! Each measured format read from a real file, format detection, and every malformed input
//! refused with a one-line message naming the file, the line and the column or field.
//!
//! Long because every malformed value has its case.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{json, Map, Value};

use super::*;

/// A file of `tests/fixtures/calibrate` (their sources: the README there).
fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/calibrate")
        .join(name)
}

/// A file in the system's temporary folder, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    /// A file of its own for each call: tests run in parallel, and so may test runs.
    fn new(name: &str, bytes: impl AsRef<[u8]>) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "kthena-sim-measured-{}-{n}-{name}",
            std::process::id()
        ));
        std::fs::write(&path, bytes).unwrap();
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The measurements of a file named `name` holding `bytes`; messages name it `name`.
fn read_bytes(name: &str, bytes: impl AsRef<[u8]>) -> Result<Measurements, String> {
    let file = TempFile::new(name, bytes);
    read(&file.0)
        .map(|m| m.data)
        .map_err(|e| e.to_string().replace(&file.0.display().to_string(), name))
}

/// Why a file named `name` holding `bytes` is refused, its name without the folder.
fn error(name: &str, bytes: impl AsRef<[u8]>) -> String {
    match read_bytes(name, bytes) {
        Ok(data) => panic!("{name} was read: {data:?}"),
        Err(message) => message,
    }
}

fn points(data: Measurements) -> Vec<Point> {
    match data {
        Measurements::Points(points) => points,
        Measurements::Requests(requests) => panic!("requests, not points: {requests:?}"),
    }
}

fn requests(data: Measurements) -> Vec<MeasuredRequest> {
    match data {
        Measurements::Requests(requests) => requests,
        Measurements::Points(points) => panic!("points, not requests: {points:?}"),
    }
}

#[test]
fn a_benchmark_table_is_one_closed_loop_point_per_row() {
    let path = fixture("qwen3-32b-bf16-h100-tp2-vllm0.12.0.csv");
    let file = read(&path).unwrap();
    assert_eq!(file.path, path);
    let points = points(file.data);
    assert_eq!(points.len(), 30);
    assert_eq!(
        points[0],
        Point {
            line: 2,
            load: Load::Closed { concurrency: 8 },
            requests: PointRequests::Fixed {
                input_tokens: 1024,
                output_tokens: 128,
                count: None,
            },
            ttft_ms: 154.248,
            tpot_ms: 18.037,
            e2e_ms: None,
        }
    );
    assert_eq!(
        points[29],
        Point {
            line: 31,
            load: Load::Closed { concurrency: 128 },
            requests: PointRequests::Fixed {
                input_tokens: 4096,
                output_tokens: 1024,
                count: None,
            },
            ttft_ms: 58752.591,
            tpot_ms: 55.196,
            e2e_ms: None,
        }
    );
}

#[test]
fn a_request_trace_is_one_request_per_row_arriving_in_whole_microseconds() {
    let file = read(&fixture("rtx4090-llama-3.1-8b.csv")).unwrap();
    let requests = requests(file.data);
    assert_eq!(requests.len(), 300);
    assert_eq!(
        requests[0],
        MeasuredRequest {
            line: 2,
            arrival: SimTime::ZERO,
            input_tokens: 2358,
            output_tokens: 531,
            ttft_s: 0.689435,
            e2e_s: 17.570318,
        }
    );
    assert_eq!(requests[1].arrival, SimTime::from_micros(265_091));
    assert_eq!(
        requests[299],
        MeasuredRequest {
            line: 301,
            arrival: SimTime::from_micros(29_100_521),
            input_tokens: 582,
            output_tokens: 768,
            ttft_s: 137.818353,
            e2e_s: 154.446827,
        }
    );
}

/// The fixture as a JSON object, to be changed by a test.
fn vllm_fixture() -> Map<String, Value> {
    let text = std::fs::read_to_string(fixture("vllm-bench-serve.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The fixture with the fields of `set` set and those of `remove` removed, on one line as
/// vLLM writes it.
fn vllm_edit(set: &[(&str, Value)], remove: &[&str]) -> String {
    let mut root = vllm_fixture();
    for (key, value) in set {
        root.insert((*key).to_owned(), value.clone());
    }
    for key in remove {
        root.shift_remove(*key);
    }
    Value::Object(root).to_string()
}

/// The one point of a vLLM file holding `text`.
fn vllm_point(text: &str) -> Point {
    let mut points = points(read_bytes("run.json", text).unwrap());
    assert_eq!(points.len(), 1);
    points.remove(0)
}

#[test]
fn a_vllm_result_is_one_point_of_its_successful_requests_with_the_file_s_means() {
    let file = read(&fixture("vllm-bench-serve.json")).unwrap();
    assert_eq!(
        points(file.data),
        vec![Point {
            line: 1,
            // request_rate "inf" and max_concurrency 4.
            load: Load::Closed { concurrency: 4 },
            // The third request failed (its error is set, its output_lens 0).
            requests: PointRequests::Listed(vec![
                (512, 8),
                (498, 6),
                (505, 7),
                (521, 5),
                (517, 8),
                (489, 1),
                (526, 6),
            ]),
            ttft_ms: 53.09755423433714,
            tpot_ms: 12.256450524904773,
            e2e_ms: Some(112.3504499419512),
        }]
    );
}

#[test]
fn without_the_means_vllm_s_computation_from_the_requests_gives_the_same_numbers() {
    let with_means = points(read(&fixture("vllm-bench-serve.json")).unwrap().data).remove(0);
    let without = vllm_point(&vllm_edit(
        &[],
        &["mean_ttft_ms", "mean_tpot_ms", "mean_e2el_ms"],
    ));
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b;
    assert!(close(without.ttft_ms, with_means.ttft_ms), "{without:?}");
    assert!(close(without.tpot_ms, with_means.tpot_ms), "{without:?}");
    assert!(
        close(without.e2e_ms.unwrap(), with_means.e2e_ms.unwrap()),
        "{without:?}"
    );
    assert_eq!(without.requests, with_means.requests);

    // Only one-token outputs: vLLM's TPOT is 0.
    let one_token = vllm_point(&vllm_edit(
        &[
            ("input_lens", json!([100, 200])),
            ("output_lens", json!([1, 1])),
            ("ttfts", json!([0.02, 0.04])),
            ("itls", json!([[], []])),
            ("errors", json!(["", ""])),
        ],
        &["mean_tpot_ms"],
    ));
    assert_eq!(one_token.tpot_ms, 0.0);
    assert_eq!(
        one_token.requests,
        PointRequests::Listed(vec![(100, 1), (200, 1)])
    );
}

#[test]
fn a_vllm_result_without_max_concurrency_is_open_loop() {
    let load = |set: &[(&str, Value)], remove: &[&str]| vllm_point(&vllm_edit(set, remove)).load;
    assert_eq!(
        load(
            &[
                ("request_rate", json!(2.5)),
                ("max_concurrency", json!(null))
            ],
            &[]
        ),
        Load::Open { rate: 2.5 }
    );
    // Older files have no max_concurrency key.
    assert_eq!(
        load(&[("request_rate", json!(2.5))], &["max_concurrency"]),
        Load::Open { rate: 2.5 }
    );
    assert_eq!(
        load(&[("max_concurrency", json!(null))], &[]),
        Load::Open {
            rate: f64::INFINITY
        }
    );
}

#[test]
fn a_vllm_result_s_refusals_name_the_field() {
    let refused = |set: &[(&str, Value)]| error("run.json", vllm_edit(set, &[]));
    let removed = |remove: &[&str]| error("run.json", vllm_edit(&[], remove));
    assert_eq!(
        removed(&[
            "input_lens",
            "output_lens",
            "start_times",
            "ttfts",
            "itls",
            "generated_texts",
            "errors",
        ]),
        "run.json: line 1: written without --save-detailed: the per-request lengths are needed \
         (run vllm bench serve with --save-result --save-detailed)"
    );
    assert_eq!(
        refused(&[("request_rate", json!(10.0))]),
        "run.json: line 1, field request_rate: request_rate 10.0 with max_concurrency 4: \
         Poisson arrivals capped by a concurrency limit are not supported; measure \
         closed-loop (--request-rate inf --max-concurrency N) or open-loop (without \
         --max-concurrency)"
    );
    assert_eq!(
        refused(&[
            ("request_rate", json!(10.0)),
            ("max_concurrency", json!(null)),
            ("burstiness", json!(0.5)),
        ]),
        "run.json: line 1, field burstiness: 0.5 is not 1: only Poisson arrivals (burstiness \
         1) are supported at a finite request rate"
    );
    assert_eq!(
        refused(&[("ramp_up_strategy", json!("linear"))]),
        "run.json: line 1, field ramp_up_strategy: a ramp-up of the request rate is not \
         supported: measure at one --request-rate"
    );
    assert_eq!(
        refused(&[("request_rate", json!(0))]),
        "run.json: line 1, field request_rate: 0 is not a request rate (a number of requests \
         per second > 0, or inf)"
    );
    assert_eq!(
        removed(&["request_rate"]),
        "run.json: line 1: no field request_rate: expected vllm bench serve --save-result \
         --save-detailed JSON"
    );
    assert_eq!(
        refused(&[("max_concurrency", json!(0))]),
        "run.json: line 1, field max_concurrency: 0 is not a concurrency (a whole number of \
         clients from 1 to 4294967295) or null"
    );
    assert_eq!(
        removed(&["ttfts"]),
        "run.json: line 1: no field ttfts: expected vllm bench serve --save-result \
         --save-detailed JSON"
    );
    assert_eq!(
        refused(&[("output_lens", json!([8, 6, 0]))]),
        "run.json: line 1, field output_lens: 3 entries, but input_lens has 8"
    );
    assert_eq!(
        refused(&[("itls", json!("none"))]),
        "run.json: line 1, field itls: \"none\" is not a list with one entry per request"
    );
    let mut ttfts = vllm_fixture()["ttfts"].clone();
    ttfts[3] = json!(-0.1);
    assert_eq!(
        refused(&[("ttfts", ttfts)]),
        "run.json: line 1, field ttfts[3]: -0.1 is not a time in seconds (a number > 0)"
    );
    let mut itls = vllm_fixture()["itls"].clone();
    itls[1][2] = json!("x");
    assert_eq!(
        refused(&[("itls", itls.clone())]),
        "run.json: line 1, field itls[1][2]: \"x\" is not a time in seconds (a number >= 0)"
    );
    itls[1] = json!(0.5);
    assert_eq!(
        refused(&[("itls", itls)]),
        "run.json: line 1, field itls[1]: 0.5 is not a list of inter-token gaps in seconds"
    );
    let mut inputs = vllm_fixture()["input_lens"].clone();
    inputs[0] = json!(0);
    assert_eq!(
        refused(&[("input_lens", inputs)]),
        "run.json: line 1, field input_lens[0]: 0 is not a token count (a whole number from 1 \
         to 4294967295)"
    );
    let mut outputs = vllm_fixture()["output_lens"].clone();
    outputs[1] = json!(6.5);
    assert_eq!(
        refused(&[("output_lens", outputs)]),
        "run.json: line 1, field output_lens[1]: 6.5 is not a token count (a whole number from \
         0 to 4294967295; 0 for a failed request)"
    );
    let mut errors = vllm_fixture()["errors"].clone();
    errors[4] = json!(500);
    assert_eq!(
        refused(&[("errors", errors)]),
        "run.json: line 1, field errors[4]: 500 is not an error message (a string, empty when \
         the request succeeded)"
    );
    assert_eq!(
        refused(&[("errors", json!(vec!["Internal Server Error"; 8]))]),
        "run.json: line 1: no successful request: every request failed"
    );
    assert_eq!(
        refused(&[("mean_tpot_ms", json!(-1.0))]),
        "run.json: line 1, field mean_tpot_ms: -1.0 is not a time in milliseconds (a number \
         >= 0)"
    );
    let long = "x".repeat(100);
    assert_eq!(
        refused(&[("request_rate", json!(long))]),
        format!(
            "run.json: line 1, field request_rate: \"{}… is not a request rate (a number of \
             requests per second > 0, or inf)",
            "x".repeat(59)
        )
    );
}

#[test]
fn a_pretty_printed_vllm_result_places_a_fault_on_the_line_of_its_field() {
    let mut root = vllm_fixture();
    root.insert("max_concurrency".to_owned(), json!(-4));
    let text = serde_json::to_string_pretty(&Value::Object(root)).unwrap();
    let line = text
        .lines()
        .position(|l| l.contains("\"max_concurrency\""))
        .unwrap()
        + 1;
    assert!(line > 1);
    assert_eq!(
        error("run.json", &text),
        format!(
            "run.json: line {line}, field max_concurrency: -4 is not a concurrency (a whole \
             number of clients from 1 to 4294967295) or null"
        )
    );
}

#[test]
fn malformed_json_is_refused_at_its_line_and_column() {
    assert_eq!(
        error(
            "run.json",
            "{\"request_rate\": \"inf\",\n \"max_concurrency\": 4,,}"
        ),
        "run.json: line 2: not valid JSON: key must be a string at column 23"
    );
    assert_eq!(
        error("run.json", "  {\"input_lens\": [1, 2"),
        "run.json: line 1: not valid JSON: EOF while parsing a list at column 22"
    );
}

#[test]
fn a_table_s_columns_may_come_in_any_order_among_others() {
    let text = "model,tpot_ms,e2e_ms,output_tokens,ttft_ms,num_requests,input_tokens,concurrency\n\
                llama, 10.5 ,900,64,120,200,512,4\n\
                llama,0,,1,80,,256,1\n";
    assert_eq!(
        points(read_bytes("bench.csv", text).unwrap()),
        vec![
            Point {
                line: 2,
                load: Load::Closed { concurrency: 4 },
                requests: PointRequests::Fixed {
                    input_tokens: 512,
                    output_tokens: 64,
                    count: Some(200),
                },
                ttft_ms: 120.0,
                tpot_ms: 10.5,
                e2e_ms: Some(900.0),
            },
            // Optional columns may be left empty; a TPOT of 0 is allowed.
            Point {
                line: 3,
                load: Load::Closed { concurrency: 1 },
                requests: PointRequests::Fixed {
                    input_tokens: 256,
                    output_tokens: 1,
                    count: None,
                },
                ttft_ms: 80.0,
                tpot_ms: 0.0,
                e2e_ms: None,
            },
        ]
    );
}

#[test]
fn an_open_loop_table_has_a_request_rate_which_may_be_infinite() {
    // With a byte-order mark, as spreadsheets save CSV, and CRLF line ends.
    let text = "\u{feff}request_rate,input_tokens,output_tokens,ttft_ms,tpot_ms\r\n\
                2.5,1024,128,150,18\r\n\
                inf,1024,128,900,25\r\n";
    let loads: Vec<Load> = points(read_bytes("open.csv", text).unwrap())
        .into_iter()
        .map(|p| p.load)
        .collect();
    assert_eq!(
        loads,
        vec![
            Load::Open { rate: 2.5 },
            Load::Open {
                rate: f64::INFINITY
            }
        ]
    );
}

#[test]
fn a_trace_s_columns_may_come_in_any_order_and_arrivals_round_half_up() {
    let text = "e2e_s,model,ttft_s,output_tokens,arrival_s,input_tokens\n\
                2.0,m,0.5,10,0.0000014999,100\n\
                2.0,m,0.5,10,0.0000015,100\n\
                2.0,m,2.0,10,0.0000025,100\n\
                3.0,m,0.5,10,0.0000025,100\n";
    let requests = requests(read_bytes("trace.csv", text).unwrap());
    let arrivals: Vec<i64> = requests.iter().map(|r| r.arrival.as_micros()).collect();
    assert_eq!(arrivals, vec![1, 2, 3, 3]);
    assert_eq!(
        requests[0],
        MeasuredRequest {
            line: 2,
            arrival: SimTime::from_micros(1),
            input_tokens: 100,
            output_tokens: 10,
            ttft_s: 0.5,
            e2e_s: 2.0,
        }
    );
}

const TABLE_HEADER: &str = "concurrency,input_tokens,output_tokens,ttft_ms,tpot_ms\n";
const TRACE_HEADER: &str = "arrival_s,input_tokens,output_tokens,ttft_s,e2e_s\n";

/// What a table whose second row is `row` is refused for.
fn bad_table_row(row: &str) -> String {
    error(
        "bench.csv",
        format!("{TABLE_HEADER}8,1024,128,150,18\n{row}\n"),
    )
}

/// What a trace whose second row is `row` is refused for.
fn bad_trace_row(row: &str) -> String {
    error(
        "trace.csv",
        format!("{TRACE_HEADER}0.5,100,10,0.2,1.5\n{row}\n"),
    )
}

const EXPECTED_ANY: &str = "expected a benchmark table (concurrency or request_rate, \
                            input_tokens, output_tokens, ttft_ms, tpot_ms), a request trace \
                            (arrival_s, input_tokens, output_tokens, ttft_s, e2e_s) or vllm \
                            bench serve --save-result --save-detailed JSON";

#[test]
fn files_without_a_recognised_format_are_refused() {
    assert_eq!(
        error("bench.csv", ""),
        format!("bench.csv: line 1: empty file: {EXPECTED_ANY}")
    );
    assert_eq!(
        error("bench.csv", "\n \r\n\t\n"),
        format!("bench.csv: line 1: empty file: {EXPECTED_ANY}")
    );
    assert_eq!(
        error("bench.csv", "a,b,c\n1,2,3\n"),
        format!("bench.csv: line 1: no format recognised: {EXPECTED_ANY}")
    );
    assert_eq!(
        error("other.json", " {\"model\": \"llama\"}"),
        format!("other.json: line 1: no format recognised: {EXPECTED_ANY}")
    );
    assert_eq!(
        error("bench.csv", "arrival_s,tpot_ms\n1,2\n"),
        "bench.csv: line 1: the header has both tpot_ms (a benchmark table) and arrival_s (a \
         request trace): keep the columns of one"
    );
    assert_eq!(
        error("bench.csv", b"concurrency,input_tokens\n8,10\xff\n"),
        "bench.csv: line 2: not UTF-8 text: invalid byte 0xFF at column 5"
    );
    let message = read(Path::new("/nonexistent/bench.csv"))
        .unwrap_err()
        .to_string();
    assert!(
        message.starts_with("/nonexistent/bench.csv: cannot read: "),
        "{message}"
    );
}

#[test]
fn a_header_without_rows_is_refused_on_its_line() {
    assert_eq!(
        error("bench.csv", TABLE_HEADER),
        "bench.csv: line 1: a header but no rows"
    );
    // Blank lines before the header are skipped.
    assert_eq!(
        error("trace.csv", format!("\n\n{TRACE_HEADER}")),
        "trace.csv: line 3: a header but no rows"
    );
}

#[test]
fn a_table_header_needs_its_columns_once_and_one_load_column() {
    let table = "a benchmark table (concurrency or request_rate, input_tokens, output_tokens, \
                 ttft_ms, tpot_ms)";
    assert_eq!(
        error(
            "bench.csv",
            "input_tokens,output_tokens,ttft_ms,tpot_ms\n1,1,1,1\n"
        ),
        format!("bench.csv: line 1: no column concurrency or request_rate: expected {table}")
    );
    assert_eq!(
        error(
            "bench.csv",
            "concurrency,input_tokens,output_tokens,tpot_ms\n1,1,1,1\n"
        ),
        format!("bench.csv: line 1: no column ttft_ms: expected {table}")
    );
    assert_eq!(
        error(
            "bench.csv",
            "concurrency,request_rate,input_tokens,output_tokens,ttft_ms,tpot_ms\n1,1,1,1,1,1\n"
        ),
        "bench.csv: line 1: both concurrency and request_rate columns: a benchmark table is \
         either closed-loop (concurrency) or open-loop (request_rate)"
    );
    assert_eq!(
        error(
            "bench.csv",
            "concurrency,input_tokens,output_tokens,ttft_ms,tpot_ms,ttft_ms\n1,1,1,1,1,1\n"
        ),
        "bench.csv: line 1: the column ttft_ms appears more than once"
    );
}

#[test]
fn a_trace_header_needs_its_columns() {
    assert_eq!(
        error(
            "trace.csv",
            "arrival_s,input_tokens,output_tokens,ttft_s\n0,1,1,1\n"
        ),
        "trace.csv: line 1: no column e2e_s: expected a request trace (arrival_s, \
         input_tokens, output_tokens, ttft_s, e2e_s)"
    );
}

#[test]
fn every_bad_table_value_is_named_by_line_and_column() {
    let tokens = "is not a token count (a whole number from 1 to 4294967295)";
    let ms = "is not a time in milliseconds (a number > 0)";
    let cases = [
        (
            "8,1024,128,150",
            "bench.csv: line 3: the row has 4 fields but the header has 5".to_owned(),
        ),
        (
            "8,1024,128,abc,18",
            format!("bench.csv: line 3, column ttft_ms: \"abc\" {ms}"),
        ),
        (
            "8,1024,128,-3,18",
            format!("bench.csv: line 3, column ttft_ms: \"-3\" {ms}"),
        ),
        (
            "8,1024,128,0,18",
            format!("bench.csv: line 3, column ttft_ms: \"0\" {ms}"),
        ),
        (
            "8,1024,128,NaN,18",
            format!("bench.csv: line 3, column ttft_ms: \"NaN\" {ms}"),
        ),
        (
            "8,1024,128,inf,18",
            format!("bench.csv: line 3, column ttft_ms: \"inf\" {ms}"),
        ),
        (
            "8,1024,128,,18",
            format!("bench.csv: line 3, column ttft_ms: \"\" {ms}"),
        ),
        (
            "8,1024,1,150,-0.5",
            "bench.csv: line 3, column tpot_ms: \"-0.5\" is not a time in milliseconds (a \
             number >= 0)"
                .to_owned(),
        ),
        (
            "8,1024,128,150,0",
            "bench.csv: line 3, column tpot_ms: \"0\" is not a time in milliseconds (a \
             number > 0)"
                .to_owned(),
        ),
        (
            "8,0,128,150,18",
            format!("bench.csv: line 3, column input_tokens: \"0\" {tokens}"),
        ),
        (
            "8,1024.5,128,150,18",
            format!("bench.csv: line 3, column input_tokens: \"1024.5\" {tokens}"),
        ),
        (
            "8,4294967296,128,150,18",
            format!("bench.csv: line 3, column input_tokens: \"4294967296\" {tokens}"),
        ),
        (
            "8,-1,128,150,18",
            format!("bench.csv: line 3, column input_tokens: \"-1\" {tokens}"),
        ),
        (
            "8,1024,0,150,18",
            format!("bench.csv: line 3, column output_tokens: \"0\" {tokens}"),
        ),
        (
            "0,1024,128,150,18",
            "bench.csv: line 3, column concurrency: \"0\" is not a concurrency (a whole number \
             of clients from 1 to 4294967295)"
                .to_owned(),
        ),
    ];
    for (row, expected) in cases {
        assert_eq!(bad_table_row(row), expected, "row {row}");
    }
}

#[test]
fn every_bad_optional_or_open_loop_value_is_named_by_line_and_column() {
    let open = |row: &str| {
        error(
            "open.csv",
            format!("request_rate,input_tokens,output_tokens,ttft_ms,tpot_ms\n{row}\n"),
        )
    };
    let rate = "is not a request rate (a number of requests per second > 0, or inf)";
    for value in ["0", "-1", "nan", "-inf", "fast"] {
        assert_eq!(
            open(&format!("{value},1024,128,150,18")),
            format!("open.csv: line 2, column request_rate: \"{value}\" {rate}")
        );
    }
    let extra = |row: &str| {
        error(
            "bench.csv",
            format!(
                "concurrency,input_tokens,output_tokens,ttft_ms,tpot_ms,e2e_ms,num_requests\n\
                 {row}\n"
            ),
        )
    };
    assert_eq!(
        extra("8,1024,128,150,18,100,64"),
        "bench.csv: line 2, column ttft_ms: \"150\" is greater than e2e_ms \"100\": the first \
         token cannot come after the last"
    );
    assert_eq!(
        extra("8,1024,128,150,18,-900,64"),
        "bench.csv: line 2, column e2e_ms: \"-900\" is not a time in milliseconds (a number > \
         0)"
    );
    assert_eq!(
        extra("8,1024,128,150,18,900,0"),
        "bench.csv: line 2, column num_requests: \"0\" is not a request count (a whole number \
         from 1)"
    );
}

#[test]
fn every_bad_trace_value_is_named_by_line_and_column() {
    let cases = [
        (
            "0.4,100,10,0.2,1.5",
            "trace.csv: line 3, column arrival_s: \"0.4\" is earlier than \"0.5\" on line 2: a \
             request trace lists requests in arrival order",
        ),
        (
            "-1,100,10,0.2,1.5",
            "trace.csv: line 3, column arrival_s: \"-1\" is not a time in seconds (a number >= \
             0)",
        ),
        (
            "1,100,10,2.5,1.5",
            "trace.csv: line 3, column ttft_s: \"2.5\" is greater than e2e_s \"1.5\": the first \
             token cannot come after the last",
        ),
        (
            "1,100,10,0.2,0",
            "trace.csv: line 3, column e2e_s: \"0\" is not a time in seconds (a number > 0)",
        ),
        (
            "1,100,10,0,1.5",
            "trace.csv: line 3, column ttft_s: \"0\" is not a time in seconds (a number > 0)",
        ),
        (
            "1,100,x,0.2,1.5",
            "trace.csv: line 3, column output_tokens: \"x\" is not a token count (a whole \
             number from 1 to 4294967295)",
        ),
        (
            "1,100,10,0.2,1.5,7",
            "trace.csv: line 3: the row has 6 fields but the header has 5",
        ),
    ];
    for (row, expected) in cases {
        assert_eq!(bad_trace_row(row), expected, "row {row}");
    }
}

#[test]
fn lines_are_counted_across_crlf_line_ends_and_blank_lines() {
    let text = "\r\n\r\nconcurrency,input_tokens,output_tokens,ttft_ms,tpot_ms\r\n\
                8,1024,128,150,18\r\n\r\n\
                8,1024,128,abc,18\r\n";
    assert_eq!(
        error("bench.csv", text),
        "bench.csv: line 6, column ttft_ms: \"abc\" is not a time in milliseconds (a number > 0)"
    );
    assert_eq!(
        error(
            "bench.csv",
            "\r\n\r\nconcurrency,input_tokens,output_tokens,ttft_ms\r\n1,1,1,1\r\n"
        ),
        "bench.csv: line 3: no format recognised: expected a benchmark table (concurrency or \
         request_rate, input_tokens, output_tokens, ttft_ms, tpot_ms), a request trace \
         (arrival_s, input_tokens, output_tokens, ttft_s, e2e_s) or vllm bench serve \
         --save-result --save-detailed JSON"
    );
}

#[test]
fn the_format_is_told_by_the_content_not_the_name() {
    let json = std::fs::read(fixture("vllm-bench-serve.json")).unwrap();
    assert_eq!(points(read_bytes("results.csv", json).unwrap()).len(), 1);
    let table = std::fs::read(fixture("qwen3-32b-bf16-h100-tp2-vllm0.12.0.csv")).unwrap();
    assert_eq!(points(read_bytes("results.json", table).unwrap()).len(), 30);
    let trace = std::fs::read(fixture("rtx4090-llama-3.1-8b.csv")).unwrap();
    assert_eq!(
        requests(read_bytes("trace.json", trace).unwrap()).len(),
        300
    );
}

#[test]
fn a_device_that_never_ends_is_refused_within_the_size_limit() {
    assert_eq!(
        read(Path::new("/dev/zero")).unwrap_err().to_string(),
        "/dev/zero: larger than 16 MiB: not a measured file"
    );
}
