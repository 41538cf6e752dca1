//! The trace adapters and transforms: each format on a small sample, its malformed inputs
//! (named by file and line, never a panic), format detection, sorting, windows and loops.
//!
//! Long because every trace format and every malformed row has its case.

use std::io::Cursor;

use super::*;
use crate::sim::{SimDuration, MICROS_PER_SEC};
use crate::workload::{
    detect_format, ArrivalTime, Column, CsvColumns, GenericCsvWriter, RowProblem,
};

const S: i64 = MICROS_PER_SEC;

/// The point `us` microseconds after the start.
fn t(us: i64) -> SimTime {
    SimTime::from_micros(us)
}

/// A span of `us` microseconds.
fn d(us: i64) -> SimDuration {
    SimDuration::from_micros(us)
}

const AZURE_2023_CODE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/traces/azure-llm-2023-code.csv"
);

/// A file in the system's temporary folder, removed when dropped.
struct TempTrace(PathBuf);

impl TempTrace {
    fn new(name: &str, bytes: impl AsRef<[u8]>) -> Self {
        let path =
            std::env::temp_dir().join(format!("kthena-sim-workload-{}-{name}", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        TempTrace(path)
    }
}

impl Drop for TempTrace {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn drain(source: &mut impl RequestSource) -> Result<Vec<Request>, WorkloadError> {
    let mut out = Vec::new();
    while let Some(r) = source.next_request()? {
        out.push(r);
    }
    Ok(out)
}

fn read_all(path: &Path, options: TraceOptions) -> Result<Vec<Request>, WorkloadError> {
    drain(&mut TraceSource::open(path, options)?)
}

fn read_text(text: &str, options: TraceOptions) -> Result<Vec<Request>, WorkloadError> {
    drain(&mut TraceSource::from_reader(
        Path::new("t.csv"),
        Cursor::new(text.as_bytes().to_vec()),
        options,
    )?)
}

fn with_format(format: TraceFormat) -> TraceOptions {
    TraceOptions {
        format: Some(format),
        ..TraceOptions::default()
    }
}

/// `(arrival, input, output)` of each request, for compact expectations.
fn triples(requests: &[Request]) -> Vec<(i64, u32, u32)> {
    requests
        .iter()
        .map(|r| (r.arrival.as_micros(), r.input_tokens, r.output_tokens))
        .collect()
}

/// The line and problem of a row error, or a panic with what came instead.
fn row_problem(result: Result<Vec<Request>, WorkloadError>) -> (u64, RowProblem) {
    match result {
        Err(WorkloadError::Row { line, problem, .. }) => (line, problem),
        other => panic!("expected a row error, got {other:?}"),
    }
}

#[test]
fn the_azure_2023_code_trace_replays_whole() {
    let requests = read_all(Path::new(AZURE_2023_CODE), TraceOptions::default()).unwrap();
    assert_eq!(requests.len(), 8_819);
    assert_eq!(requests[0].arrival, t(0));
    // 2023-11-16 18:17:03.9799600 to 19:14:19.9280160.
    assert_eq!(requests[requests.len() - 1].arrival, t(3_435_948_056));
    assert!(requests.windows(2).all(|w| w[0].arrival <= w[1].arrival));
    let input: u64 = requests.iter().map(|r| u64::from(r.input_tokens)).sum();
    let output: u64 = requests.iter().map(|r| u64::from(r.output_tokens)).sum();
    assert_eq!((input, output), (18_059_974, 245_896));
    assert_eq!(
        requests[0],
        Request {
            arrival: t(0),
            input_tokens: 4_808,
            output_tokens: 10
        }
    );
    assert_eq!(
        open_trace(Path::new(AZURE_2023_CODE), None)
            .unwrap()
            .format(),
        &TraceFormat::Azure
    );
}

#[test]
fn a_window_is_cut_from_trace_time_and_starts_at_zero() {
    let path = Path::new(AZURE_2023_CODE);
    let whole = read_all(path, TraceOptions::default()).unwrap();
    let (from, to) = (d(600 * S), d(1_200 * S));
    let window = TraceOptions {
        from,
        to: Some(to),
        ..TraceOptions::default()
    };
    let expected: Vec<Request> = whole
        .iter()
        .filter(|r| (from..to).contains(&r.arrival.since_start()))
        .map(|r| Request {
            arrival: r.arrival - from,
            ..*r
        })
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(read_all(path, window.clone()).unwrap(), expected);

    let faster = read_all(
        path,
        TraceOptions {
            time_scale: 2.0,
            ..window.clone()
        },
    )
    .unwrap();
    let halved: Vec<SimTime> = expected
        .iter()
        .map(|r| t((r.arrival.as_micros() + 1) / 2))
        .collect();
    assert_eq!(faster.iter().map(|r| r.arrival).collect::<Vec<_>>(), halved);

    let ended = read_all(
        path,
        TraceOptions {
            end: t(60 * S),
            ..window
        },
    )
    .unwrap();
    assert_eq!(ended[..], expected[..ended.len()]);
    assert!(expected[ended.len()].arrival >= t(60 * S));
}

#[test]
fn bad_rows_are_named_by_file_and_line() {
    let trace = TempTrace::new(
        "bad-number.csv",
        "TIMESTAMP,ContextTokens,GeneratedTokens\n\
         2023-11-16 18:17:03.9799600,4808,10\n\
         2023-11-16 18:17:04.0319600,3180,8\n\
         2023-11-16 18:17:04.0781490,110,lots\n",
    );
    let err = read_all(&trace.0, TraceOptions::default()).unwrap_err();
    assert!(matches!(
        &err,
        WorkloadError::Row {
            line: 4,
            problem: RowProblem::BadNumber { column, .. },
            ..
        } if column == "GeneratedTokens"
    ));
    let message = err.to_string();
    assert!(
        message.starts_with(&format!("{}:4: ", trace.0.display())),
        "{message}"
    );
    assert!(
        message.contains("GeneratedTokens `lots` is not a token count"),
        "{message}"
    );
}

#[test]
fn rows_out_of_time_order_are_refused_unless_sorted() {
    let text = "TIMESTAMP,ContextTokens,GeneratedTokens\n\
                2023-11-16 18:17:04.0000000,1,1\n\
                2023-11-16 18:17:04.0000000,2,2\n\
                2023-11-16 18:17:03.9000000,3,3\n";
    let err = read_text(text, TraceOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "t.csv:4: TIMESTAMP `2023-11-16 18:17:03.9000000` is earlier than \
         `2023-11-16 18:17:04.0000000` on line 3: the trace must be sorted by time (or set \
         `sort: true`)"
    );
    // Sorted, time 0 is the earliest row, and equal times keep file order.
    let sorted = TraceOptions {
        sort: true,
        ..TraceOptions::default()
    };
    assert_eq!(
        triples(&read_text(text, sorted.clone()).unwrap()),
        [(0, 3, 3), (100_000, 1, 1), (100_000, 2, 2)]
    );
    let trace = TempTrace::new("unsorted.csv", text);
    assert_eq!(
        read_all(&trace.0, sorted).unwrap(),
        read_text(
            text,
            TraceOptions {
                sort: true,
                ..TraceOptions::default()
            }
        )
        .unwrap()
    );
}

#[test]
fn other_row_problems() {
    let header = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
    let problem = |rows: &str| {
        row_problem(read_text(
            &format!("{header}{rows}"),
            TraceOptions::default(),
        ))
    };
    assert!(matches!(
        problem("2023-11-31 00:00:00,1,1\n"),
        (
            2,
            RowProblem::BadTimestamp {
                reason: "day out of range for the month",
                ..
            }
        )
    ));
    assert!(matches!(
        problem("2023-11-16 00:00:00,1,1\n2023-11-16 00:00:01,-3,1\n"),
        (3, RowProblem::BadNumber { column, .. }) if column == "ContextTokens"
    ));
    assert_eq!(
        problem("2023-11-16 00:00:00,1\n"),
        (
            2,
            RowProblem::FieldCount {
                found: 2,
                expected: 3
            }
        )
    );
    let err = read_text(
        "arrival_s,input_tokens,output_tokens\n1,1,1\nsoon,1,1\n",
        TraceOptions::default(),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("t.csv:3: arrival_s `soon` is not a time"),
        "{err}"
    );
    // A negative relative time is not a time.
    assert!(matches!(
        row_problem(read_text(
            "arrival_s,input_tokens,output_tokens\n-1.5,1,1\n",
            TraceOptions::default()
        )),
        (2, RowProblem::BadTime { .. })
    ));
}

#[test]
fn zero_token_counts_become_one() {
    let requests = read_text(
        "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 00:00:00,0,0\n",
        TraceOptions::default(),
    )
    .unwrap();
    assert_eq!(
        (requests[0].input_tokens, requests[0].output_tokens),
        (1, 1)
    );
}

#[test]
fn the_format_is_told_by_the_header() {
    let generic = "\u{feff}output_tokens, input_tokens, arrival_s, note\n7, 5, 0.25, x\n";
    let mut source = TraceSource::from_reader(
        Path::new("g.csv"),
        Cursor::new(generic.as_bytes().to_vec()),
        TraceOptions::default(),
    )
    .unwrap();
    assert_eq!(source.format(), &TraceFormat::Generic);
    assert_eq!(
        source.next_request().unwrap(),
        Some(Request {
            arrival: t(250_000),
            input_tokens: 5,
            output_tokens: 7
        })
    );
    let err = read_text("time,prompt,output\n", TraceOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "t.csv: trace header `time,prompt,output` is not recognised: expected \
         `TIMESTAMP,ContextTokens,GeneratedTokens` (Azure LLM inference trace) or \
         `arrival_s,input_tokens,output_tokens` (generic trace) or \
         `Timestamp,Model,Request tokens,Response tokens` (BurstGPT trace) or \
         JSON objects with `timestamp`, `input_length` and `output_length` (Mooncake trace)"
    );
    assert!(matches!(
        read_text(generic, with_format(TraceFormat::Azure)),
        Err(WorkloadError::Header { .. })
    ));
    let missing = read_all(Path::new("/nonexistent/trace.csv"), TraceOptions::default());
    assert!(matches!(missing, Err(WorkloadError::Open { .. })));
}

#[test]
fn detection_knows_every_format_by_its_first_line() {
    for (name, text, format) in [
        (
            "d.csv",
            "TIMESTAMP,ContextTokens,GeneratedTokens\n",
            TraceFormat::Azure,
        ),
        (
            "d.csv",
            "arrival_s,input_tokens,output_tokens\n",
            TraceFormat::Generic,
        ),
        (
            "d.csv",
            "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n",
            TraceFormat::BurstGpt,
        ),
        (
            "d.jsonl",
            "{\"timestamp\": 0, \"input_length\": 5, \"output_length\": 2, \"hash_ids\": [1]}\n",
            TraceFormat::Mooncake,
        ),
    ] {
        let trace = TempTrace::new(name, text);
        assert_eq!(detect_format(&trace.0).unwrap(), format, "{text}");
    }
    let json = TempTrace::new("other.jsonl", "{\"t\": 0, \"in\": 5}\n");
    let err = detect_format(&json.0).unwrap_err();
    assert!(
        err.to_string()
            .contains("trace header `{\"t\": 0, \"in\": 5}` is not recognised"),
        "{err}"
    );
}

#[test]
fn empty_and_binary_files_are_refused_on_line_one() {
    let empty = TempTrace::new("empty.csv", "");
    let blank = TempTrace::new("blank.jsonl", "\n\n");
    let mut noise: Vec<u8> = (0..4_096_u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    noise[0] = 0xff;
    noise[1] = 0;
    let binary = TempTrace::new("binary.csv", &noise);
    let formats = [
        None,
        Some(TraceFormat::Azure),
        Some(TraceFormat::Mooncake),
        Some(TraceFormat::BurstGpt),
    ];
    for format in formats {
        let options = TraceOptions {
            format,
            ..TraceOptions::default()
        };
        for (trace, expected) in [
            (&empty, RowProblem::Empty),
            (&blank, RowProblem::Empty),
            (&binary, RowProblem::NotText),
        ] {
            let err = read_all(&trace.0, options.clone()).unwrap_err();
            assert!(
                matches!(&err, WorkloadError::Row { line: 1, problem, .. } if *problem == expected),
                "{err:?}"
            );
            assert!(
                err.to_string()
                    .starts_with(&format!("{}:1: ", trace.0.display())),
                "{err}"
            );
        }
    }
    assert!(matches!(
        detect_format(&empty.0),
        Err(WorkloadError::Row { line: 1, .. })
    ));
    // Text that turns binary later is caught on its own line.
    let later = TempTrace::new(
        "later.csv",
        b"arrival_s,input_tokens,output_tokens\n1,2,3\n\xff\xfe,1,1\n",
    );
    assert_eq!(
        row_problem(read_all(&later.0, TraceOptions::default())),
        (3, RowProblem::NotText)
    );
    let later = TempTrace::new(
        "later.jsonl",
        b"{\"timestamp\": 1, \"input_length\": 2, \"output_length\": 3}\n\x00\x01\x02\n",
    );
    assert_eq!(
        row_problem(read_all(&later.0, TraceOptions::default())),
        (2, RowProblem::NotText)
    );
}

const MOONCAKE: &str = r#"{"timestamp": 0, "input_length": 6955, "output_length": 52, "hash_ids": [46, 47, 48]}
{"timestamp": 0, "input_length": 6472, "output_length": 26, "hash_ids": [46, 47]}

{"timestamp": 27482.5, "input_length": 0, "output_length": 0}
{"timestamp": 30535, "input_length": 7000, "output_length": 11, "extra": {"nested": true}}
"#;

#[test]
fn mooncake_json_lines_are_read_in_milliseconds() {
    let trace = TempTrace::new("sample.jsonl", MOONCAKE);
    let requests = read_all(&trace.0, TraceOptions::default()).unwrap();
    assert_eq!(
        triples(&requests),
        [
            (0, 6_955, 52),
            (0, 6_472, 26),
            (27_482_500, 1, 1),
            (30_535_000, 7_000, 11)
        ]
    );
    let skipped = read_all(
        &trace.0,
        TraceOptions {
            zero_output: Some(ZeroOutput::Skip),
            ..TraceOptions::default()
        },
    )
    .unwrap();
    assert_eq!(skipped.len(), 3);
}

#[test]
fn malformed_mooncake_lines_are_named() {
    let first = "{\"timestamp\": 5, \"input_length\": 1, \"output_length\": 1}\n";
    let problem = |line: &str| {
        let trace = TempTrace::new("bad.jsonl", format!("{first}{line}\n"));
        let result = read_all(&trace.0, TraceOptions::default());
        if let Err(e) = &result {
            assert!(
                e.to_string()
                    .starts_with(&format!("{}:2: ", trace.0.display())),
                "{e}"
            );
        }
        row_problem(result)
    };
    assert_eq!(
        problem(r#"{"timestamp": 6, "output_length": 1}"#),
        (
            2,
            RowProblem::MissingField {
                column: "input_length".into()
            }
        )
    );
    assert_eq!(
        problem(r#"{"timestamp": 6, "input_length": "many", "output_length": 1}"#),
        (
            2,
            RowProblem::BadNumber {
                column: "input_length".into(),
                value: "\"many\"".into()
            }
        )
    );
    assert!(matches!(
        problem(r#"{"timestamp": 6, "input_length": 2.5, "output_length": 1}"#),
        (2, RowProblem::BadNumber { .. })
    ));
    assert!(matches!(
        problem(r#"{"timestamp": -6, "input_length": 2, "output_length": 1}"#),
        (2, RowProblem::BadTime { .. })
    ));
    assert!(matches!(
        problem(r#"{"timestamp": 4, "input_length": 2, "output_length": 1}"#),
        (
            2,
            RowProblem::OutOfOrder {
                previous_line: 1,
                ..
            }
        )
    ));
    let (_, truncated) = problem(r#"{"timestamp": 6, "input_length": 2"#);
    assert_eq!(
        truncated.to_string(),
        "not a JSON object: EOF while parsing an object (column 34)"
    );
    let (_, not_object) = problem("[6, 2, 1]");
    assert_eq!(
        not_object.to_string(),
        "not a JSON object: `[6, 2, 1]` does not start with `{`"
    );
}

const BURSTGPT: &str = "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type
5,ChatGPT,472,18,490,Conversation log
45,ChatGPT,1087,0,1087,Conversation log
118,GPT-4,417,217,634,Conversation log
118.5,ChatGPT,1360,364,1724,API log
";

#[test]
fn burstgpt_skips_failures_and_can_keep_one_model() {
    let trace = TempTrace::new("burst.csv", BURSTGPT);
    let all = read_all(&trace.0, TraceOptions::default()).unwrap();
    assert_eq!(
        triples(&all),
        [
            (5 * S, 472, 18),
            (118 * S, 417, 217),
            (118_500_000, 1_360, 364)
        ]
    );
    let failures_kept = read_all(
        &trace.0,
        TraceOptions {
            zero_output: Some(ZeroOutput::OneToken),
            ..TraceOptions::default()
        },
    )
    .unwrap();
    assert_eq!(failures_kept[1].arrival, t(45 * S));
    assert_eq!(failures_kept[1].output_tokens, 1);
    let gpt4 = read_all(
        &trace.0,
        TraceOptions {
            model: Some("GPT-4".into()),
            ..TraceOptions::default()
        },
    )
    .unwrap();
    assert_eq!(triples(&gpt4), [(118 * S, 417, 217)]);
    // Formats without a model column refuse the filter.
    let err = read_all(
        Path::new(AZURE_2023_CODE),
        TraceOptions {
            model: Some("GPT-4".into()),
            ..TraceOptions::default()
        },
    )
    .unwrap_err();
    assert!(
        err.to_string().ends_with(
            "`model` keeps one model's rows, but Azure LLM inference traces have no model column"
        ),
        "{err}"
    );
}

/// The rows each reason dropped or changed, from a source drained with `options`.
fn counted(path: &Path, options: TraceOptions) -> (u64, RowCounts) {
    let mut source = TraceSource::open(path, options).unwrap();
    drain(&mut source).unwrap();
    let tally = source.tally();
    (tally.replayed, tally.rows)
}

#[test]
fn rows_dropped_or_changed_are_counted_by_reason() {
    let burst = TempTrace::new("burst-counted.csv", BURSTGPT);
    let failures = RowCounts {
        zero_output_skipped: 1,
        ..RowCounts::default()
    };
    assert_eq!(counted(&burst.0, TraceOptions::default()), (3, failures));
    let one_token = TraceOptions {
        zero_output: Some(ZeroOutput::OneToken),
        ..TraceOptions::default()
    };
    let raised = RowCounts {
        zero_output_raised: 1,
        ..RowCounts::default()
    };
    assert_eq!(counted(&burst.0, one_token), (4, raised));
    let gpt4 = TraceOptions {
        model: Some("GPT-4".into()),
        ..TraceOptions::default()
    };
    // The model filter comes first: the failure is another model's row.
    let others = RowCounts {
        other_model: 3,
        ..RowCounts::default()
    };
    assert_eq!(counted(&burst.0, gpt4), (1, others));
    let notes: Vec<String> = (TraceSource::open(&burst.0, TraceOptions::default()).ok())
        .map(|mut s| {
            drain(&mut s).unwrap();
            s.tally().notes().iter().map(ToString::to_string).collect()
        })
        .unwrap();
    assert_eq!(
        notes,
        ["skipped 1 row: 0 response tokens (BurstGPT failures; zero_output: one_token keeps them)"]
    );

    // Mooncake: a prompt and an output of 0, both read as 1 by default.
    let moon = TempTrace::new("counted.jsonl", MOONCAKE);
    let both = RowCounts {
        zero_output_raised: 1,
        zero_input_raised: 1,
        ..RowCounts::default()
    };
    assert_eq!(counted(&moon.0, TraceOptions::default()), (4, both));

    // Sorted (read whole) and looped (read again): the rows of one pass, counted once.
    let looped = TraceOptions {
        sort: true,
        looped: true,
        end: t(1_000 * S),
        ..TraceOptions::default()
    };
    let (replayed, rows) = counted(&burst.0, looped.clone());
    assert!(replayed > 3 * 5, "{replayed}");
    assert_eq!(rows, failures);
    let file = TraceOptions {
        sort: false,
        ..looped
    };
    assert_eq!(counted(&burst.0, file).1, failures);
}

#[test]
fn malformed_burstgpt_rows_are_named() {
    let header = "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n";
    let problem = |rows: &str| {
        row_problem(read_text(
            &format!("{header}{rows}"),
            TraceOptions::default(),
        ))
    };
    assert!(matches!(
        problem("5,ChatGPT,472,18,490,x\n4,ChatGPT,1,1,2,x\n"),
        (3, RowProblem::OutOfOrder { .. })
    ));
    assert!(matches!(
        problem("5,ChatGPT,472,eighteen,490,x\n"),
        (2, RowProblem::BadNumber { column, .. }) if column == "Response tokens"
    ));
    assert!(matches!(
        problem("-5,ChatGPT,472,18,490,x\n"),
        (2, RowProblem::BadTime { .. })
    ));
    // A model filter needs the Model column.
    let err = read_text(
        "Timestamp,Request tokens,Response tokens\n1,2,3\n",
        TraceOptions {
            model: Some("ChatGPT".into()),
            ..TraceOptions::default()
        },
    )
    .unwrap_err();
    assert!(matches!(err, WorkloadError::Header { .. }), "{err}");
}

fn mapping(arrival: Column, input: Column, output: Column, time: ArrivalTime) -> CsvColumns {
    CsvColumns {
        arrival,
        input,
        output,
        model: None,
        time,
        header: true,
        delimiter: ',',
    }
}

fn name(n: &str) -> Column {
    Column::Name(n.to_owned())
}

#[test]
fn a_mapped_csv_reads_columns_by_name_or_index() {
    let text = "request_id,ts_ms,prompt,completion\na,1500,10,20\nb,1500.25,11,21\nc,4000,0,0\n";
    let by_name = mapping(
        name("ts_ms"),
        name("prompt"),
        name("completion"),
        ArrivalTime::Ms,
    );
    let expected = [(1_500_000, 10, 20), (1_500_250, 11, 21), (4_000_000, 1, 1)];
    let requests = read_text(text, with_format(TraceFormat::Csv(by_name.clone()))).unwrap();
    assert_eq!(triples(&requests), expected);
    let by_index = mapping(
        Column::Index(1),
        Column::Index(2),
        Column::Index(3),
        ArrivalTime::Ms,
    );
    let requests = read_text(text, with_format(TraceFormat::Csv(by_index))).unwrap();
    assert_eq!(triples(&requests), expected);
    let trace = TempTrace::new("mapped.csv", text);
    let requests = read_all(&trace.0, with_format(TraceFormat::Csv(by_name))).unwrap();
    assert_eq!(triples(&requests), expected);

    // No header, another delimiter, microseconds.
    let headless = CsvColumns {
        header: false,
        delimiter: ';',
        ..mapping(
            Column::Index(0),
            Column::Index(2),
            Column::Index(1),
            ArrivalTime::Us,
        )
    };
    let requests = read_text(
        "7;30;400\n9;31;401\n",
        with_format(TraceFormat::Csv(headless)),
    )
    .unwrap();
    assert_eq!(triples(&requests), [(7, 400, 30), (9, 401, 31)]);
}

#[test]
fn a_mapped_csv_reads_absolute_times_from_the_first_row() {
    let options = |time| {
        with_format(TraceFormat::Csv(mapping(
            name("when"),
            name("in"),
            name("out"),
            time,
        )))
    };
    let datetime = ArrivalTime::Datetime("%d/%m/%Y %H:%M:%S%.f".into());
    let requests = read_text(
        "when,in,out\n31/12/2023 23:59:59.5,1,2\n01/01/2024 00:00:01,3,4\n",
        options(datetime.clone()),
    )
    .unwrap();
    assert_eq!(triples(&requests), [(0, 1, 2), (1_500_000, 3, 4)]);
    let requests = read_text(
        "when,in,out\n1700000000000,1,2\n1700000000250.5,3,4\n",
        options(ArrivalTime::UnixMs),
    )
    .unwrap();
    assert_eq!(triples(&requests), [(0, 1, 2), (250_500, 3, 4)]);
    let requests = read_text(
        "when,in,out\n1700000000,1,2\n1700000060.5,3,4\n",
        options(ArrivalTime::UnixS),
    )
    .unwrap();
    assert_eq!(triples(&requests), [(0, 1, 2), (60_500_000, 3, 4)]);

    let err = read_text("when,in,out\n2024-01-01,1,2\n", options(datetime)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "t.csv:2: when `2024-01-01` is not a timestamp (does not match the pattern): expected \
         a time laid out as `%d/%m/%Y %H:%M:%S%.f`"
    );
}

#[test]
fn malformed_mapped_csvs_are_named() {
    let options = with_format(TraceFormat::Csv(mapping(
        name("ts"),
        name("prompt"),
        name("completion"),
        ArrivalTime::S,
    )));
    let err = read_text("ts,prompt\n1,2\n", options.clone()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "t.csv: trace header `ts,prompt` is not recognised: expected `ts`, `prompt`, \
         `completion` (mapped CSV trace)"
    );
    assert!(matches!(
        row_problem(read_text("ts,prompt,completion\n1,2,x\n", options.clone())),
        (2, RowProblem::BadNumber { column, .. }) if column == "completion"
    ));
    // Without a header, a column past the row's end is named by its index.
    let headless = CsvColumns {
        header: false,
        ..mapping(
            Column::Index(0),
            Column::Index(1),
            Column::Index(5),
            ArrivalTime::S,
        )
    };
    assert_eq!(
        row_problem(read_text(
            "1,2,3\n",
            with_format(TraceFormat::Csv(headless))
        )),
        (
            1,
            RowProblem::MissingField {
                column: "column 5".into()
            }
        )
    );
    // A mapping that cannot work is refused before any row is read.
    let bad = CsvColumns {
        header: false,
        ..mapping(
            name("ts"),
            Column::Index(1),
            Column::Index(2),
            ArrivalTime::S,
        )
    };
    let err = read_text("1,2,3\n", with_format(TraceFormat::Csv(bad))).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("t.csv: csv.arrival: `ts` is a column name, but the trace has no header"),
        "{err}"
    );
}

#[test]
fn a_loop_fills_the_run_shifted_by_the_period() {
    let text = "arrival_s,input_tokens,output_tokens\n0,1,1\n1,2,2\n2,3,3\n";
    let looped = |options: TraceOptions| {
        read_text(
            text,
            TraceOptions {
                looped: true,
                end: t(10 * S),
                ..options
            },
        )
        .unwrap()
    };
    // Without a window end, the period is the last row plus the mean gap: 3 s.
    let requests = looped(TraceOptions::default());
    assert_eq!(
        requests
            .iter()
            .map(|r| r.arrival.as_micros() / S)
            .collect::<Vec<_>>(),
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    );
    assert_eq!(requests[4].input_tokens, 2);
    // With one, it is the window's length; time-scale applies to the looped trace.
    let requests = looped(TraceOptions {
        from: d(S),
        to: Some(d(5 * S)),
        time_scale: 2.0,
        ..TraceOptions::default()
    });
    assert_eq!(
        triples(&requests),
        [
            (0, 2, 2),
            (S / 2, 3, 3),
            (2 * S, 2, 2),
            (5 * S / 2, 3, 3),
            (4 * S, 2, 2),
            (9 * S / 2, 3, 3),
            (6 * S, 2, 2),
            (13 * S / 2, 3, 3),
            (8 * S, 2, 2),
            (17 * S / 2, 3, 3)
        ]
    );
}

#[test]
fn a_looped_file_is_read_again_and_fills_the_duration() {
    let end = t(3 * 3_600 * S);
    let options = TraceOptions {
        looped: true,
        end,
        ..TraceOptions::default()
    };
    let once = read_all(Path::new(AZURE_2023_CODE), TraceOptions::default()).unwrap();
    let looped = read_all(Path::new(AZURE_2023_CODE), options).unwrap();
    // The trace spans about 57 minutes; each pass is shifted by its last arrival plus the
    // mean gap, and the passes run until the end.
    let last = once[once.len() - 1].arrival;
    let period = last.since_start() + last.since_start() / (once.len() as i64 - 1);
    let expected: Vec<Request> = (0..4)
        .flat_map(|k| {
            once.iter().map(move |r| Request {
                arrival: r.arrival + k * period,
                ..*r
            })
        })
        .filter(|r| r.arrival < end)
        .collect();
    assert_eq!(looped, expected);
    assert!(expected.len() > 3 * once.len());
    assert!(expected.last().unwrap().arrival > end - d(3 * 60 * S));
}

#[test]
fn a_loop_needs_a_span_and_an_empty_window_ends_it() {
    let instant = "arrival_s,input_tokens,output_tokens\n0,1,1\n0,2,2\n";
    let options = TraceOptions {
        looped: true,
        end: t(10 * S),
        ..TraceOptions::default()
    };
    let err = read_text(instant, options.clone()).unwrap_err();
    assert!(err.to_string().contains("cannot loop"), "{err}");
    // A window end gives the period.
    let requests = read_text(
        instant,
        TraceOptions {
            to: Some(d(4 * S)),
            ..options.clone()
        },
    )
    .unwrap();
    assert_eq!(requests.len(), 6);
    // Nothing in the window: nothing to loop.
    let empty = read_text(
        "arrival_s,input_tokens,output_tokens\n0,1,1\n",
        TraceOptions {
            from: d(5 * S),
            ..options
        },
    )
    .unwrap();
    assert!(empty.is_empty());
}

#[test]
fn a_generic_trace_reads_back_what_was_written() {
    let requests = vec![
        Request {
            arrival: t(0),
            input_tokens: 1,
            output_tokens: 1,
        },
        Request {
            arrival: t(1),
            input_tokens: 4_000,
            output_tokens: 300,
        },
        Request {
            arrival: t(1),
            input_tokens: 2,
            output_tokens: 3,
        },
        Request {
            arrival: t(604_800_123_456),
            input_tokens: u32::MAX,
            output_tokens: 17,
        },
    ];
    let mut writer = GenericCsvWriter::new(Vec::new()).unwrap();
    for r in &requests {
        writer.write(r).unwrap();
    }
    let bytes = writer.finish().unwrap();
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.starts_with("arrival_s,input_tokens,output_tokens\n0.000000,1,1\n0.000001,"));
    assert_eq!(read_text(&text, TraceOptions::default()).unwrap(), requests);

    let empty = GenericCsvWriter::new(Vec::new()).unwrap().finish().unwrap();
    let empty = std::str::from_utf8(&empty).unwrap();
    assert_eq!(read_text(empty, TraceOptions::default()).unwrap(), vec![]);
}
