//! Benchmark tables: one row per point, closed-loop (`concurrency`) or open-loop
//! (`request_rate`), every request of a point with the same lengths.

use super::csv_file::{CsvFile, Row};
use super::{
    at_least_one, non_negative, positive, rate, Fault, Load, Point, PointRequests, Problem,
    CONCURRENCY, MILLISECONDS, MILLISECONDS_OR_ZERO, RATE, TABLE, TOKENS,
};

const COUNT: &str = "a request count (a whole number from 1)";

/// The column that says how a point's requests were sent.
enum LoadColumn {
    Concurrency(usize),
    RequestRate(usize),
}

/// The points of a benchmark table, in file order.
pub(super) fn points(csv: CsvFile) -> Result<Vec<Point>, Fault> {
    let load = match (csv.column("concurrency")?, csv.column("request_rate")?) {
        (Some(i), None) => LoadColumn::Concurrency(i),
        (None, Some(i)) => LoadColumn::RequestRate(i),
        (Some(_), Some(_)) => return Err(Fault::at_line(csv.header_line(), Problem::BothLoads)),
        (None, None) => {
            return Err(Fault::at_line(
                csv.header_line(),
                Problem::MissingColumn {
                    column: "concurrency or request_rate",
                    expected: TABLE,
                },
            ))
        }
    };
    let input = csv.require("input_tokens", TABLE)?;
    let output = csv.require("output_tokens", TABLE)?;
    let ttft = csv.require("ttft_ms", TABLE)?;
    let tpot = csv.require("tpot_ms", TABLE)?;
    let e2e = csv.column("e2e_ms")?;
    let count = csv.column("num_requests")?;
    let columns = Columns {
        load,
        input,
        output,
        ttft,
        tpot,
        e2e,
        count,
    };
    csv.rows()?.iter().map(|row| columns.point(row)).collect()
}

/// Where a table's values are.
struct Columns {
    load: LoadColumn,
    input: usize,
    output: usize,
    ttft: usize,
    tpot: usize,
    e2e: Option<usize>,
    count: Option<usize>,
}

impl Columns {
    fn point(&self, row: &Row) -> Result<Point, Fault> {
        let load = match self.load {
            LoadColumn::Concurrency(i) => Load::Closed {
                concurrency: row
                    .field(i, "concurrency")
                    .parse(CONCURRENCY, |t| t.parse().ok().and_then(at_least_one))?,
            },
            LoadColumn::RequestRate(i) => Load::Open {
                rate: row.field(i, "request_rate").number(RATE, rate)?,
            },
        };
        let tokens = |i, column| {
            row.field(i, column)
                .parse(TOKENS, |t| t.parse().ok().and_then(at_least_one))
        };
        let input_tokens = tokens(self.input, "input_tokens")?;
        let output_tokens = tokens(self.output, "output_tokens")?;
        let ttft = row.field(self.ttft, "ttft_ms");
        let ttft_ms = ttft.number(MILLISECONDS, positive)?;
        // vLLM reports a TPOT of 0 only when no request had a second token.
        let tpot = row.field(self.tpot, "tpot_ms");
        let tpot_ms = if output_tokens > 1 {
            tpot.number(MILLISECONDS, positive)?
        } else {
            tpot.number(MILLISECONDS_OR_ZERO, non_negative)?
        };
        // An optional column may be left empty on rows that lack the measurement.
        let present = |i: Option<usize>, column| {
            i.map(|i| row.field(i, column))
                .filter(|field| !field.text.is_empty())
        };
        let e2e_ms = match present(self.e2e, "e2e_ms") {
            Some(e2e) => {
                let e2e_ms = e2e.number(MILLISECONDS, positive)?;
                if ttft_ms > e2e_ms {
                    return Err(ttft.fault(Problem::TtftAfterE2e {
                        ttft: ttft.quoted(),
                        e2e_column: "e2e_ms",
                        e2e: e2e.quoted(),
                    }));
                }
                Some(e2e_ms)
            }
            None => None,
        };
        let count = present(self.count, "num_requests")
            .map(|field| field.parse(COUNT, |t| t.parse::<u64>().ok().filter(|&n| n >= 1)))
            .transpose()?;
        Ok(Point {
            line: row.line,
            load,
            requests: PointRequests::Fixed {
                input_tokens,
                output_tokens,
                count,
            },
            ttft_ms,
            tpot_ms,
            e2e_ms,
        })
    }
}
