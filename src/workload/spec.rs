//! The workload's part of the scenario file: serde types that refuse unknown fields, a
//! validation that reports every problem with its field path, and the construction of the
//! sources. Validation and construction are one pass ([`WorkloadSpec::plan`]), so whatever
//! validates also builds. The stream kinds have their own files: `synthetic_spec.rs`,
//! `trace_spec.rs` and `closed_loop_spec.rs`.

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::Deserialize;

use super::empirical::load_lengths;
use super::lengths::named_stream;
use super::{
    BoxedSource, ClosedLoop, ClosedLoopSpec, ContextLimit, InterArrival, LengthColumn,
    LengthDistribution, Merge, MmppParams, MmppSource, MmppSpec, PoissonSource, PoissonSpec,
    RateMultiplier, RateProfile, RenewalSource, RenewalSpec, ThinkTime, TraceFormat, TraceOptions,
    TraceSource, TraceSpec, WorkloadError,
};
use crate::diagnostic::{Diagnostics, FieldPath};
use crate::sim::{SimDuration, SimTime};

/// The requests a scenario sends: one or more streams. The open-loop streams (all but
/// `closed_loop`) are merged in arrival order (at equal times, the stream listed first goes
/// first); the closed-loop streams send as their requests end. Every stream stops at the end
/// of the run.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct WorkloadSpec {
    /// The request streams: each item is `poisson`, `renewal` or `mmpp` (synthetic
    /// requests), `trace` (a recorded trace replayed) or `closed_loop` (clients that send
    /// their next request when the last one ends). With several streams, each needs a
    /// distinct `name`.
    // yaml_serde reads an enum from a YAML tag (`!poisson`) unless told to accept the
    // one-key map (`poisson: {...}`) that the scenario files use, at every level below.
    #[serde(deserialize_with = "yaml_serde::with::singleton_map_recursive::deserialize")]
    #[schemars(with = "Vec<StreamSpec>")]
    pub streams: Vec<StreamSpec>,
    /// The model's context length in tokens (prompt + output), at least 2. Longer requests
    /// are clipped: the prompt is cut to leave room for one output token, then the output
    /// stops where the context is full. Unset, lengths are only clipped to at least 1 token.
    #[serde(default)]
    #[schemars(range(min = 2))]
    pub max_context: Option<u32>,
}

/// The most requests one run may send, counted at every synthetic stream's peak rate over
/// the whole run (and for a closed loop, as [`ClosedLoopSpec`] counts it: its `requests`,
/// or one request per client per mean think time + 1 s if fewer): a hundred million
/// requests take minutes to simulate, and memory grows with the requests waiting when the
/// fleet cannot keep up (about 110 bytes each). Beyond it, a rate or a duration is almost
/// surely a typo (`1e12` for `1e2`), refused rather than simulated for days.
pub const MAX_RUN_REQUESTS: f64 = 1e8;

/// One stream of requests.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum StreamSpec {
    /// Synthetic requests: Poisson arrivals under a rate profile, token lengths drawn from
    /// distributions.
    Poisson(PoissonSpec),
    /// Synthetic requests with a chosen burstiness: a Gamma or Weibull renewal process by
    /// coefficient of variation, under a rate profile.
    Renewal(RenewalSpec),
    /// Synthetic requests in on/off bursts: a two-state Markov-modulated Poisson process.
    Mmpp(MmppSpec),
    /// Requests replayed from a recorded trace, read row by row.
    Trace(TraceSpec),
    /// Benchmark-style clients at a fixed concurrency: each sends its next request when its
    /// last one ends, after a think time.
    ClosedLoop(ClosedLoopSpec),
}

/// A workload as built for a run: the open-loop streams merged into one source pulled in
/// arrival order, and the closed-loop streams, in the order they are listed, whose sends
/// the world schedules as their requests end.
pub struct Workload {
    /// The open-loop requests (none when every stream is a closed loop).
    pub open: BoxedSource,
    pub closed: Vec<ClosedLoop>,
}

/// A stream as built: units converted, distributions constructed, paths resolved.
pub(super) enum Plan {
    Synthetic {
        name: Option<String>,
        arrivals: Arrivals,
        /// Prompt and output lengths.
        lengths: [LengthPlan; 2],
    },
    Trace {
        name: Option<String>,
        path: PathBuf,
        options: TraceOptions,
        rate_multiplier: f64,
    },
    ClosedLoop {
        name: Option<String>,
        concurrency: u32,
        requests: Option<u64>,
        think: ThinkTime,
        /// Prompt and output lengths.
        lengths: [LengthPlan; 2],
    },
}

/// The arrival process of a synthetic stream.
pub(super) enum Arrivals {
    Poisson(RateProfile),
    Renewal(RateProfile, InterArrival),
    Mmpp(MmppParams),
}

/// A length distribution, or the trace to read it from when the run starts (so that
/// validating a scenario does not read whole traces).
pub(super) enum LengthPlan {
    Ready(LengthDistribution),
    Empirical {
        path: PathBuf,
        format: Option<TraceFormat>,
        column: LengthColumn,
    },
}

/// Every problem found, each with its field path relative to the workload.
pub(super) use crate::diagnostic::Diagnostics as Problems;

impl WorkloadSpec {
    /// Every problem of the workload, with field paths relative to the workload
    /// (`streams[1].poisson.rate.points[2].rps`); empty when it is valid. Trace files are
    /// resolved against `base_dir` (the scenario file's folder) and their headers read.
    pub fn validate(&self, base_dir: &Path) -> Diagnostics {
        let (_, problems) = self.plan(base_dir);
        problems
    }

    /// The workload of a run seeded with `seed` and lasting `duration`: the open-loop
    /// source, from which no request arrives at or after `duration`, and the closed-loop
    /// streams. Trace paths are resolved against `base_dir`.
    pub fn build(
        &self,
        seed: u64,
        base_dir: &Path,
        duration: SimDuration,
    ) -> Result<Workload, WorkloadError> {
        let (plans, mut problems) = self.plan(base_dir);
        problems.extend(self.volume_problems(duration));
        if problems.has_errors() {
            return Err(WorkloadError::Invalid(problems));
        }
        let mut sources = Vec::new();
        let mut closed = Vec::new();
        for plan in plans {
            match plan.open(seed, duration.after_start(), self.max_context)? {
                Opened::Source(source) => sources.push(source),
                Opened::ClosedLoop(stream) => closed.push(*stream),
            }
        }
        let source: BoxedSource = if sources.len() == 1 {
            sources.remove(0)
        } else {
            Box::new(Merge::new(sources)?)
        };
        let open: BoxedSource = match self.max_context {
            Some(max_context) => Box::new(ContextLimit::new(source, max_context)),
            None => source,
        };
        Ok(Workload { open, closed })
    }

    /// The problem, as `(field path, message)`, of a workload that would send more than
    /// [`MAX_RUN_REQUESTS`] requests in a run of `duration` at its synthetic streams' peak
    /// rates, its closed loops counted as [`ClosedLoopSpec`] says (a trace sends what its
    /// file holds).
    pub fn volume_problems(&self, duration: SimDuration) -> Diagnostics {
        let peak: f64 = self
            .streams
            .iter()
            .map(|stream| match stream {
                StreamSpec::Poisson(p) => p.rate.peak_rps(),
                StreamSpec::Renewal(r) => r.rate.peak_rps(),
                StreamSpec::Mmpp(m) => [m.on_rps, m.off_rps]
                    .into_iter()
                    .filter(|rps| rps.is_finite())
                    .fold(0.0, f64::max),
                StreamSpec::Trace(_) | StreamSpec::ClosedLoop(_) => 0.0,
            })
            .sum();
        let closed: f64 = (self.streams.iter())
            .map(|stream| match stream {
                StreamSpec::ClosedLoop(c) => c.volume(duration),
                _ => 0.0,
            })
            .sum();
        let open = peak * duration.as_micros() as f64 / crate::sim::MICROS_PER_SEC as f64;
        let requests = open + closed;
        let mut problems = Diagnostics::new();
        let over = super::SpecDuration::new(duration);
        if requests > MAX_RUN_REQUESTS && closed == 0.0 {
            problems.error(
                "streams",
                format!(
                    "up to {requests:.3e} requests ({peak} per second at the peak over {over}): \
                     a run sends at most {MAX_RUN_REQUESTS:.0e}; lower the rates or shorten the \
                     duration",
                ),
            );
        } else if requests > MAX_RUN_REQUESTS {
            problems.error(
                "streams",
                format!(
                    "up to {requests:.3e} requests ({peak} per second at the peak, and \
                     {closed:.3e} from closed loops at one request per client per mean think \
                     time + 1s or their `requests`, over {over}): a run sends at most \
                     {MAX_RUN_REQUESTS:.0e}; lower the rates or the concurrency, set \
                     `requests`, or shorten the duration",
                ),
            );
        }
        problems
    }

    /// Validation and construction in one pass: a plan per stream that has no problem.
    fn plan(&self, base_dir: &Path) -> (Vec<Plan>, Problems) {
        let mut problems = Problems::default();
        if self.streams.is_empty() {
            problems.error("streams", "needs at least one stream");
        }
        if let Some(max) = self.max_context {
            problems.check(
                max >= 2,
                "max_context",
                "must be >= 2 (one prompt token and one output token)",
            );
        }
        let mut names: Vec<(&str, FieldPath)> = Vec::new();
        let mut plans = Vec::new();
        for (i, stream) in self.streams.iter().enumerate() {
            let (kind, name) = match stream {
                StreamSpec::Poisson(p) => ("poisson", &p.name),
                StreamSpec::Renewal(r) => ("renewal", &r.name),
                StreamSpec::Mmpp(m) => ("mmpp", &m.name),
                StreamSpec::Trace(t) => ("trace", &t.name),
                StreamSpec::ClosedLoop(c) => ("closed_loop", &c.name),
            };
            let path = FieldPath::new("streams").index(i).child(kind);
            let name_path = path.child("name");
            match name {
                Some(name) if name.is_empty() => problems.error(&name_path, "must not be empty"),
                Some(name) => match names.iter().find(|(seen, _)| *seen == name.as_str()) {
                    Some((_, first)) => problems.error(
                        &name_path,
                        format!("`{name}` is already the name of {first}"),
                    ),
                    None => names.push((name, path.clone())),
                },
                None if self.streams.len() > 1 => {
                    problems.error(&name_path, "required when the workload has several streams")
                }
                None => {}
            }
            // A stream without a plan has added its problems.
            plans.extend(match stream {
                StreamSpec::Poisson(p) => p.plan(&path, base_dir, &mut problems),
                StreamSpec::Renewal(r) => r.plan(&path, base_dir, &mut problems),
                StreamSpec::Mmpp(m) => m.plan(&path, base_dir, &mut problems),
                StreamSpec::Trace(t) => t.plan(&path, base_dir, &mut problems),
                StreamSpec::ClosedLoop(c) => c.plan(&path, base_dir, &mut problems),
            });
        }
        (plans, problems)
    }
}

/// Checks that `value` is finite and at least (or, `strict`, above) `min`.
pub(super) fn check_number(
    problems: &mut Problems,
    path: &FieldPath,
    value: f64,
    min: f64,
    strict: bool,
) -> bool {
    let ok = value.is_finite() && if strict { value > min } else { value >= min };
    let message = match (value.is_finite(), strict) {
        (false, _) => "must be a finite number".to_owned(),
        (true, true) => format!("must be > {min}"),
        (true, false) => format!("must be >= {min}"),
    };
    problems.check(ok, path, &message)
}

/// Checks the trace `file` named by the field `path.field`: it exists, is a file, and its
/// first line is that of its format (read now, so that a wrong file is reported with the
/// other problems). A column mapping's own problems are reported at their fields, and the
/// file is then not read. `None` after a problem.
pub(super) fn check_trace_file(
    problems: &mut Problems,
    path: &FieldPath,
    field: &str,
    file: &Path,
    options: &TraceOptions,
) -> Option<()> {
    if let Some(TraceFormat::Csv(columns)) = &options.format {
        let mapping = columns.problems();
        let valid = mapping.is_empty();
        for (column, message) in mapping {
            problems.error(path.child("format").child("csv").child(column), message);
        }
        if !valid {
            return None;
        }
    }
    let at = path.child(field);
    if !file.exists() {
        problems.error(&at, format!("file not found: {}", file.display()));
        return None;
    }
    if file.is_dir() {
        problems.error(&at, format!("is a folder, not a file: {}", file.display()));
        return None;
    }
    match TraceSource::open(file, options.clone()) {
        Ok(_) => Some(()),
        Err(e) => {
            problems.error(&at, e.to_string());
            None
        }
    }
}

/// A stream opened for a run.
enum Opened {
    Source(BoxedSource),
    ClosedLoop(Box<ClosedLoop>),
}

impl Plan {
    /// The stream of a run seeded with `seed` and ending at `end`; a closed loop clips its
    /// own requests to `max_context` (the open-loop source is clipped as a whole).
    fn open(
        self,
        seed: u64,
        end: SimTime,
        max_context: Option<u32>,
    ) -> Result<Opened, WorkloadError> {
        Ok(match self {
            Plan::Synthetic {
                name,
                arrivals,
                lengths: [input, output],
            } => {
                let name = name.as_deref();
                let input = input.load(seed, name, "input_tokens")?;
                let output = output.load(seed, name, "output_tokens")?;
                Opened::Source(match arrivals {
                    Arrivals::Poisson(profile) => {
                        Box::new(PoissonSource::new(seed, name, profile, input, output, end))
                    }
                    Arrivals::Renewal(profile, gaps) => Box::new(RenewalSource::new(
                        seed, name, profile, gaps, input, output, end,
                    )),
                    Arrivals::Mmpp(params) => {
                        Box::new(MmppSource::new(seed, name, params, input, output, end))
                    }
                })
            }
            Plan::Trace {
                name,
                path,
                options,
                rate_multiplier,
            } => {
                let source: BoxedSource =
                    Box::new(TraceSource::open(&path, TraceOptions { end, ..options })?);
                Opened::Source(if rate_multiplier == 1.0 {
                    source
                } else {
                    let rng = named_stream(seed, name.as_deref(), "rate_multiplier");
                    Box::new(RateMultiplier::new(source, rate_multiplier, rng))
                })
            }
            Plan::ClosedLoop {
                name,
                concurrency,
                requests,
                think,
                lengths: [input, output],
            } => {
                let input = input.load(seed, name.as_deref(), "input_tokens")?;
                let output = output.load(seed, name.as_deref(), "output_tokens")?;
                Opened::ClosedLoop(Box::new(ClosedLoop::new(
                    seed,
                    name,
                    concurrency,
                    requests,
                    think,
                    input,
                    output,
                    max_context,
                )))
            }
        })
    }
}

impl LengthPlan {
    /// The distribution; an empirical one is read from its trace now, sampled (beyond the
    /// cap) with the random stream `consumer/empirical` of the stream `name`.
    fn load(
        self,
        seed: u64,
        name: Option<&str>,
        consumer: &str,
    ) -> Result<LengthDistribution, WorkloadError> {
        match self {
            LengthPlan::Ready(distribution) => Ok(distribution),
            LengthPlan::Empirical {
                path,
                format,
                column,
            } => {
                let mut rng = named_stream(seed, name, &format!("{consumer}/empirical"));
                load_lengths(&path, format, column, &mut rng).map(LengthDistribution::Empirical)
            }
        }
    }
}

#[cfg(test)]
mod tests;
