//! Measured request traces: one row per request, in arrival order, with its measured TTFT
//! and end-to-end latency.

use super::csv_file::CsvFile;
use super::{
    at_least_one, non_negative, positive, Fault, MeasuredRequest, Problem, SECONDS,
    SECONDS_OR_ZERO, TOKENS, TRACE,
};
use crate::sim::{SimDuration, MICROS_PER_SEC};

/// The requests of a trace, in file order.
pub(super) fn requests(csv: CsvFile) -> Result<Vec<MeasuredRequest>, Fault> {
    let arrival = csv.require("arrival_s", TRACE)?;
    let input = csv.require("input_tokens", TRACE)?;
    let output = csv.require("output_tokens", TRACE)?;
    let ttft = csv.require("ttft_s", TRACE)?;
    let e2e = csv.require("e2e_s", TRACE)?;
    let mut requests: Vec<MeasuredRequest> = Vec::new();
    // The previous row's arrival, its text and line, for the order check.
    let mut previous: Option<(f64, String, u64)> = None;
    for row in csv.rows()? {
        let arrival_field = row.field(arrival, "arrival_s");
        let arrival_s = arrival_field.number(SECONDS_OR_ZERO, non_negative)?;
        if let Some((before, text, line)) = &previous {
            if arrival_s < *before {
                return Err(arrival_field.fault(Problem::OutOfOrder {
                    value: arrival_field.quoted(),
                    previous: text.clone(),
                    previous_line: *line,
                }));
            }
        }
        previous = Some((arrival_s, arrival_field.quoted(), row.line));
        let tokens = |i, column| {
            row.field(i, column)
                .parse(TOKENS, |t| t.parse().ok().and_then(at_least_one))
        };
        let input_tokens = tokens(input, "input_tokens")?;
        let output_tokens = tokens(output, "output_tokens")?;
        let ttft_field = row.field(ttft, "ttft_s");
        let ttft_s = ttft_field.number(SECONDS, positive)?;
        let e2e_field = row.field(e2e, "e2e_s");
        let e2e_s = e2e_field.number(SECONDS, positive)?;
        if ttft_s > e2e_s {
            return Err(ttft_field.fault(Problem::TtftAfterE2e {
                ttft: ttft_field.quoted(),
                e2e_column: "e2e_s",
                e2e: e2e_field.quoted(),
            }));
        }
        requests.push(MeasuredRequest {
            line: row.line,
            arrival: SimDuration::from_micros_f64(arrival_s * MICROS_PER_SEC as f64).after_start(),
            input_tokens,
            output_tokens,
            ttft_s,
            e2e_s,
        });
    }
    Ok(requests)
}
