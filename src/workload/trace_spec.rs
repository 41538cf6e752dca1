//! The trace streams of the scenario file: which file, in which format, and how it is cut,
//! sped up, multiplied and looped; and their validation into plans.

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::Deserialize;

use super::multiplier::MAX_RATE_MULTIPLIER;
use super::spec::{check_number, check_trace_file, Plan, Problems};
use super::{SpecDuration, TraceFormat, TraceOptions, ZeroOutput};
use crate::diagnostic::FieldPath;
use crate::sim::SimTime;

/// A recorded trace, replayed row by row (see `format` for the formats read). Trace time 0
/// is the first row for formats with wall-clock timestamps (Azure, or a mapped CSV with
/// `unix_*` or `datetime` times) and the time written in the file otherwise. Token counts of
/// 0 become 1 (or, for outputs, may drop the row: see `zero_output`). Rows must be sorted
/// by time unless `sort` is set; rows with equal times arrive together, in file order.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct TraceSpec {
    /// Names the stream in reports and random-stream names; required when the workload has
    /// several streams.
    #[serde(default)]
    pub name: Option<String>,
    /// The trace file, relative to the scenario file's folder.
    pub path: PathBuf,
    /// The format the file must have (`azure`, `generic`, `mooncake`, `burstgpt`, or
    /// `csv` with a column mapping); unset, it is told from the file's first line.
    #[serde(default)]
    pub format: Option<TraceFormat>,
    /// The part of the trace to replay, in trace time; its start becomes time 0 of the run.
    #[serde(default)]
    pub window: Option<WindowSpec>,
    /// Replay speed (> 0): 2 replays twice as fast, halving the gaps between requests.
    #[serde(default = "one")]
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub time_scale: f64,
    /// Multiplies the number of requests (> 0, at most 1000), keeping their token lengths:
    /// 0.5 keeps each request with probability 0.5; 2 sends each twice, the copy at an
    /// instant drawn between the request and the next one, so the trace keeps its shape;
    /// 1.5 sends half of them twice. Draws from the random stream `rate_multiplier`
    /// (`<name>/rate_multiplier` for a named stream). 1 unless set.
    #[serde(default = "one")]
    #[schemars(range(max = MAX_RATE_MULTIPLIER), extend("exclusiveMinimum" = 0))]
    pub rate_multiplier: f64,
    /// Replays the (windowed) trace again and again until the end of the run, each pass
    /// shifted by the trace's period: `window.to - window.from` when the window has an end,
    /// otherwise the last row's time plus the mean gap between rows. The file is read again
    /// for each pass. False unless set.
    #[serde(default, rename = "loop")]
    pub looped: bool,
    /// Sorts the rows by time (file order kept at equal times) instead of refusing a row
    /// earlier than the one before it. This reads the whole trace into memory (16 bytes a
    /// request) when the run starts. False unless set.
    #[serde(default)]
    pub sort: bool,
    /// Keeps only the rows of this model: for BurstGPT (its `Model` column, such as
    /// `ChatGPT` or `GPT-4`), or a mapped CSV that names a model column.
    #[serde(default)]
    pub model: Option<String>,
    /// What a row with 0 output tokens stands for: `skip` (a failed request, dropped) or
    /// `one_token` (replayed with one output token). Unset, `skip` for BurstGPT, which logs
    /// failures with 0 response tokens, and `one_token` for the other formats.
    #[serde(default)]
    pub zero_output: Option<ZeroOutput>,
}

fn one() -> f64 {
    1.0
}

/// A trace as it is, replayed once: what `--trace` on the command line means.
impl Default for TraceSpec {
    fn default() -> Self {
        TraceSpec {
            name: None,
            path: PathBuf::new(),
            format: None,
            window: None,
            time_scale: 1.0,
            rate_multiplier: 1.0,
            looped: false,
            sort: false,
            model: None,
            zero_output: None,
        }
    }
}

/// A time window of a trace: rows from `from` (included) to `to` (excluded).
#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct WindowSpec {
    /// Start of the window in trace time; the trace's start unless set.
    #[serde(default)]
    pub from: Option<SpecDuration>,
    /// End of the window in trace time; the trace's end unless set.
    #[serde(default)]
    pub to: Option<SpecDuration>,
}

impl TraceSpec {
    pub(super) fn plan(
        &self,
        path: &FieldPath,
        base_dir: &Path,
        problems: &mut Problems,
    ) -> Option<Plan> {
        let before = problems.len();
        check_number(
            problems,
            &path.child("time_scale"),
            self.time_scale,
            0.0,
            true,
        );
        if check_number(
            problems,
            &path.child("rate_multiplier"),
            self.rate_multiplier,
            0.0,
            true,
        ) {
            problems.check(
                self.rate_multiplier <= MAX_RATE_MULTIPLIER,
                path.child("rate_multiplier"),
                &format!("must be <= {MAX_RATE_MULTIPLIER}"),
            );
        }
        let window = self.window.unwrap_or_default();
        let from = window.from.unwrap_or_default();
        if let Some(to) = window.to {
            problems.check(
                to > from,
                path.child("window").child("to"),
                &format!("must be after window.from ({from})"),
            );
        }
        if let Some(model) = &self.model {
            problems.check(!model.is_empty(), path.child("model"), "must not be empty");
        }
        let options = TraceOptions {
            format: self.format.clone(),
            from: from.get(),
            to: window.to.map(SpecDuration::get),
            time_scale: self.time_scale,
            sort: self.sort,
            looped: self.looped,
            model: self.model.clone(),
            zero_output: self.zero_output,
            end: SimTime::MAX,
        };
        let file = base_dir.join(&self.path);
        check_trace_file(problems, path, "path", &file, &options);
        (problems.len() == before).then_some(Plan::Trace {
            name: self.name.clone(),
            path: file,
            options,
            rate_multiplier: self.rate_multiplier,
        })
    }
}
