//! What every trace adapter hands to the replay: rows in trace time with their token counts,
//! one at a time, and the checks the adapters share (rows in time order, what a row with no
//! output tokens means, the model filter).

use super::{RowProblem, WorkloadError, ZeroOutput};

/// One request as a trace records it, before it is cut, shifted and scaled for the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Row {
    /// Trace time, not yet simulated time: microseconds since 1970 (formats with absolute
    /// timestamps) or since the start of the trace (formats with relative times).
    pub time: i64,
    /// At least 1.
    pub input_tokens: u32,
    /// At least 1.
    pub output_tokens: u32,
}

/// A trace adapter: the rows of one file, in file order.
pub(super) trait RowReader: Send {
    /// The next row, `Ok(None)` at the end of the file.
    fn next_row(&mut self) -> Result<Option<Row>, WorkloadError>;

    /// The rows read so far that the settings dropped or changed.
    fn counts(&self) -> RowCounts;
}

/// Rows a reader dropped or changed, by reason. Counted, not just done, so that `trace
/// stats`, `trace convert` and a run's report can say how many: a BurstGPT trace loses its
/// failed requests silently otherwise.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RowCounts {
    /// Dropped: 0 output tokens read as a failed request (`zero_output: skip`).
    pub zero_output_skipped: u64,
    /// Dropped: another model's row (`model`).
    pub other_model: u64,
    /// Kept, with 1 output token for the 0 written (`zero_output: one_token`).
    pub zero_output_raised: u64,
    /// Kept, with 1 prompt token for the 0 written.
    pub zero_input_raised: u64,
}

impl RowCounts {
    /// The rows dropped, all reasons.
    pub fn skipped(&self) -> u64 {
        self.zero_output_skipped + self.other_model
    }
}

/// What the adapters are asked to do besides reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RowSettings {
    /// Refuse a row earlier than the row before it; off when the trace is to be sorted.
    pub check_order: bool,
    /// Keep only rows of this model (formats with a model column).
    pub model: Option<String>,
    /// What a row with 0 output tokens becomes.
    pub zero_output: ZeroOutput,
}

impl RowSettings {
    /// The output count a row keeps: `None` to skip the row, otherwise at least 1; counted
    /// in `counts` either way when it was 0.
    pub fn output_tokens(&self, tokens: u32, counts: &mut RowCounts) -> Option<u32> {
        match (tokens, self.zero_output) {
            (0, ZeroOutput::Skip) => {
                counts.zero_output_skipped += 1;
                None
            }
            (0, ZeroOutput::OneToken) => {
                counts.zero_output_raised += 1;
                Some(1)
            }
            (tokens, _) => Some(tokens),
        }
    }

    /// The prompt count a row keeps: at least 1, counted in `counts` when it was 0.
    pub fn input_tokens(tokens: u32, counts: &mut RowCounts) -> u32 {
        if tokens == 0 {
            counts.zero_input_raised += 1;
        }
        tokens.max(1)
    }
}

/// The previous row's time, kept to refuse rows out of order with a useful message.
#[derive(Debug, Default)]
pub(super) struct OrderCheck(Option<Previous>);

#[derive(Debug)]
struct Previous {
    time: i64,
    line: u64,
    text: String,
}

impl OrderCheck {
    /// Accepts the row at `line` whose time column `column` reads `text` (`time`), or says
    /// it is earlier than the row before it.
    pub fn check(
        &mut self,
        time: i64,
        line: u64,
        column: &str,
        text: &str,
    ) -> Result<(), RowProblem> {
        match &mut self.0 {
            Some(previous) if time < previous.time => Err(RowProblem::OutOfOrder {
                column: column.to_owned(),
                value: text.to_owned(),
                previous: previous.text.clone(),
                previous_line: previous.line,
            }),
            // Reuse the buffer: a week-long trace has millions of rows.
            Some(previous) => {
                previous.time = time;
                previous.line = line;
                previous.text.clear();
                previous.text.push_str(text);
                Ok(())
            }
            None => {
                self.0 = Some(Previous {
                    time,
                    line,
                    text: text.to_owned(),
                });
                Ok(())
            }
        }
    }
}

/// A token count: a whole number that fits in 32 bits.
pub(super) fn parse_tokens(column: &str, text: &str) -> Result<u32, RowProblem> {
    text.parse::<u32>().map_err(|_| RowProblem::BadNumber {
        column: column.to_owned(),
        value: text.to_owned(),
    })
}
