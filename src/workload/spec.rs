//! The workload's part of the scenario file: serde types that refuse unknown fields, a
//! validation that reports every problem with its field path, and the construction of the
//! sources. Validation and construction are one pass ([`WorkloadSpec::plan`]), so whatever
//! validates also builds.

use std::path::{Path, PathBuf};

use rand_distr::{LogNormal, Normal};
use schemars::JsonSchema;
use serde::Deserialize;

use super::lengths::Z99;
use super::{
    BoxedSource, ContextLimit, LengthDistribution, Merge, PoissonSource, RateProfile, SpecDuration,
    TraceOptions, TraceSource, WorkloadError,
};
use crate::sim::{SimTime, MICROS_PER_SEC};

/// The requests a scenario sends: one or more streams, merged in arrival order (at equal
/// times, the stream listed first goes first). Every stream stops at the end of the run.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct WorkloadSpec {
    /// The request streams: each item is either `poisson` (synthetic requests) or `trace`
    /// (a recorded trace replayed). With several streams, each needs a distinct `name`.
    // yaml_serde reads an enum from a YAML tag (`!poisson`) unless told to accept the
    // one-key map (`poisson: {...}`) that the scenario files use, at every level below.
    #[serde(deserialize_with = "yaml_serde::with::singleton_map_recursive::deserialize")]
    #[schemars(with = "Vec<StreamSpec>")]
    pub streams: Vec<StreamSpec>,
    /// The model's context length in tokens (prompt + output), at least 2. Longer requests
    /// are clipped: the prompt is cut to leave room for one output token, then the output
    /// stops where the context is full. Unset, lengths are only clipped to at least 1 token.
    #[serde(default)]
    pub max_context: Option<u32>,
}

/// One stream of requests.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum StreamSpec {
    /// Synthetic requests: Poisson arrivals under a rate profile, token lengths drawn from
    /// distributions.
    Poisson(PoissonSpec),
    /// Requests replayed from a CSV trace, read row by row.
    Trace(TraceSpec),
}

/// Synthetic requests. Arrivals form a Poisson process whose rate follows `rate` (drawn by
/// thinning against the profile's peak). Arrivals, prompt lengths and output lengths draw
/// from the scenario seed's random streams `arrivals`, `input_tokens` and `output_tokens`
/// (`<name>/arrivals`, ... for a named stream), so changing a length distribution leaves
/// the arrival times as they were.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct PoissonSpec {
    /// Names the stream in reports and random-stream names; required when the workload has
    /// several streams. Renaming a stream redraws its requests.
    #[serde(default)]
    pub name: Option<String>,
    /// The arrival rate over time, in requests per second.
    pub rate: RateSpec,
    /// Prompt length in tokens.
    pub input_tokens: LengthSpec,
    /// Output length in tokens.
    pub output_tokens: LengthSpec,
}

/// An arrival rate over time, in requests per second (rps), from the start of the run.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum RateSpec {
    /// The same rate throughout: `constant: 5`.
    Constant(f64),
    /// Points `{at, rps}` in time order, linear between points and constant before the
    /// first and after the last. A ramp is two points; a step is two points at the same
    /// instant (the second holds from that instant on); a spike is two steps.
    Points(Vec<RatePoint>),
    /// A daily cycle: a raised cosine between `peak_rps · trough_ratio` and `peak_rps`.
    Diurnal(DiurnalSpec),
}

/// One point of a rate profile.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct RatePoint {
    /// Time from the start of the run, such as `10m`.
    pub at: SpecDuration,
    /// Requests per second at that time, >= 0.
    pub rps: f64,
}

/// A daily (or any periodic) cycle of the rate.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct DiurnalSpec {
    /// The highest rate, in requests per second (> 0).
    pub peak_rps: f64,
    /// The lowest rate as a fraction of the peak, between 0 and 1; reached half a period
    /// after the peak.
    pub trough_ratio: f64,
    /// When the rate peaks, from the start of the run (which is the cycle's midnight):
    /// `14h` puts the peak at 2 pm.
    pub peak_at: SpecDuration,
    /// The length of one cycle; 24h unless set.
    #[serde(default = "one_day")]
    pub period: SpecDuration,
}

fn one_day() -> SpecDuration {
    SpecDuration::from_micros(24 * 3_600 * MICROS_PER_SEC)
}

/// A token-length distribution. Draws are rounded half-up to whole tokens and clipped to at
/// least 1 (and to `max_context`).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum LengthSpec {
    /// Always this many tokens (>= 1): `constant: 512`.
    Constant(u32),
    /// Whole numbers from `min` to `max`, both included, equally likely.
    Uniform(UniformSpec),
    /// A normal distribution; clipping at 1 token raises the mean when the left tail is wide.
    Normal(NormalSpec),
    /// A lognormal distribution, given by its median and either `sigma` or `p99`.
    Lognormal(LognormalSpec),
}

/// Uniform lengths.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct UniformSpec {
    /// The shortest length, >= 1.
    pub min: u32,
    /// The longest length, >= `min`.
    pub max: u32,
}

/// Normal lengths.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct NormalSpec {
    /// The mean, > 0.
    pub mean: f64,
    /// The standard deviation, >= 0.
    pub std_dev: f64,
}

/// Lognormal lengths: the usual shape of prompt and output lengths, a long right tail.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct LognormalSpec {
    /// The median length (> 0); `p50` is accepted as another name for it.
    #[serde(alias = "p50")]
    pub median: f64,
    /// The standard deviation of the length's logarithm (>= 0). Give this or `p99`.
    #[serde(default)]
    pub sigma: Option<f64>,
    /// The 99th-percentile length (> median), from which sigma is derived. Give this or
    /// `sigma`.
    #[serde(default)]
    pub p99: Option<f64>,
}

/// A recorded trace, replayed row by row. Time 0 of the trace is its first row (Azure) or
/// `arrival_s = 0` (generic). Token counts of 0 become 1; rows must be sorted by time, and
/// rows with equal times arrive together in file order.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct TraceSpec {
    /// Names the stream in reports; required when the workload has several streams.
    #[serde(default)]
    pub name: Option<String>,
    /// The CSV file, relative to the scenario file's folder.
    pub path: PathBuf,
    /// The format the file must have; unset, it is told from the header.
    #[serde(default)]
    pub format: Option<TraceFormat>,
    /// The part of the trace to replay, in trace time; its start becomes time 0 of the run.
    #[serde(default)]
    pub window: Option<WindowSpec>,
    /// Replay speed (> 0): 2 replays twice as fast, halving the gaps between requests.
    #[serde(default = "one")]
    pub time_scale: f64,
}

fn one() -> f64 {
    1.0
}

/// A CSV trace format, known by its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TraceFormat {
    /// The Azure LLM inference traces (2023 and 2024 releases):
    /// `TIMESTAMP,ContextTokens,GeneratedTokens`, with wall-clock timestamps such as
    /// `2023-11-16 18:15:46.6805900` (an offset such as `+00:00` may follow).
    Azure,
    /// `arrival_s,input_tokens,output_tokens`, arrivals in decimal seconds from the start of
    /// the run: what `trace gen` writes.
    Generic,
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

/// A stream as built: units converted, distributions constructed, paths resolved.
enum Plan {
    Poisson {
        name: Option<String>,
        profile: RateProfile,
        input: LengthDistribution,
        output: LengthDistribution,
    },
    Trace {
        path: PathBuf,
        options: TraceOptions,
    },
}

/// Every problem found, each with its field path relative to the workload.
#[derive(Default)]
struct Problems(Vec<(String, String)>);

impl Problems {
    fn add(&mut self, path: &str, message: impl Into<String>) {
        self.0.push((path.to_owned(), message.into()));
    }

    /// Adds `message` unless `ok`; returns `ok`.
    fn check(&mut self, ok: bool, path: &str, message: &str) -> bool {
        if !ok {
            self.add(path, message);
        }
        ok
    }

    fn len(&self) -> usize {
        self.0.len()
    }
}

impl WorkloadSpec {
    /// Every problem of the workload, as `(field path, message)` with paths relative to the
    /// workload (`streams[1].poisson.rate.points[2].rps`); empty when it is valid. Trace
    /// files are resolved against `base_dir` (the scenario file's folder) and their headers
    /// read.
    pub fn validate(&self, base_dir: &Path) -> Vec<(String, String)> {
        let (_, problems) = self.plan(base_dir);
        problems.0
    }

    /// The request source of a run seeded with `seed` and lasting `duration`: no request
    /// arrives at or after `duration`. Trace paths are resolved against `base_dir`.
    pub fn build(
        &self,
        seed: u64,
        base_dir: &Path,
        duration: SimTime,
    ) -> Result<BoxedSource, WorkloadError> {
        let (plans, problems) = self.plan(base_dir);
        if !problems.0.is_empty() {
            return Err(WorkloadError::Invalid(problems.0));
        }
        let mut sources = plans
            .into_iter()
            .map(|plan| plan.open(seed, duration))
            .collect::<Result<Vec<_>, _>>()?;
        let source: BoxedSource = if sources.len() == 1 {
            sources.remove(0)
        } else {
            Box::new(Merge::new(sources)?)
        };
        Ok(match self.max_context {
            Some(max_context) => Box::new(ContextLimit::new(source, max_context)),
            None => source,
        })
    }

    /// Validation and construction in one pass: a plan per stream that has no problem.
    fn plan(&self, base_dir: &Path) -> (Vec<Plan>, Problems) {
        let mut problems = Problems::default();
        if self.streams.is_empty() {
            problems.add("streams", "needs at least one stream");
        }
        if let Some(max) = self.max_context {
            problems.check(
                max >= 2,
                "max_context",
                "must be >= 2 (one prompt token and one output token)",
            );
        }
        let mut names: Vec<(&str, String)> = Vec::new();
        let mut plans = Vec::new();
        for (i, stream) in self.streams.iter().enumerate() {
            let (path, name) = match stream {
                StreamSpec::Poisson(p) => (format!("streams[{i}].poisson"), &p.name),
                StreamSpec::Trace(t) => (format!("streams[{i}].trace"), &t.name),
            };
            let name_path = format!("{path}.name");
            match name {
                Some(name) if name.is_empty() => problems.add(&name_path, "must not be empty"),
                Some(name) => match names.iter().find(|(seen, _)| *seen == name.as_str()) {
                    Some((_, first)) => problems.add(
                        &name_path,
                        format!("`{name}` is already the name of {first}"),
                    ),
                    None => names.push((name, path.clone())),
                },
                None if self.streams.len() > 1 => {
                    problems.add(&name_path, "required when the workload has several streams")
                }
                None => {}
            }
            // A stream without a plan has added its problems.
            plans.extend(match stream {
                StreamSpec::Poisson(p) => p.plan(&path, &mut problems),
                StreamSpec::Trace(t) => t.plan(&path, base_dir, &mut problems),
            });
        }
        (plans, problems)
    }
}

impl Plan {
    fn open(self, seed: u64, duration: SimTime) -> Result<BoxedSource, WorkloadError> {
        Ok(match self {
            Plan::Poisson {
                name,
                profile,
                input,
                output,
            } => Box::new(PoissonSource::new(
                seed,
                name.as_deref(),
                profile,
                input,
                output,
                duration,
            )),
            Plan::Trace { path, options } => Box::new(TraceSource::open(
                &path,
                TraceOptions {
                    end: duration,
                    ..options
                },
            )?),
        })
    }
}

impl PoissonSpec {
    fn plan(&self, path: &str, problems: &mut Problems) -> Option<Plan> {
        let profile = self.rate.profile(&format!("{path}.rate"), problems);
        let input = self
            .input_tokens
            .distribution(&format!("{path}.input_tokens"), problems);
        let output = self
            .output_tokens
            .distribution(&format!("{path}.output_tokens"), problems);
        Some(Plan::Poisson {
            name: self.name.clone(),
            profile: profile?,
            input: input?,
            output: output?,
        })
    }
}

/// Checks that `value` is finite and at least (or, `strict`, above) `min`.
fn check_number(problems: &mut Problems, path: &str, value: f64, min: f64, strict: bool) -> bool {
    let ok = value.is_finite() && if strict { value > min } else { value >= min };
    let message = match (value.is_finite(), strict) {
        (false, _) => "must be a finite number".to_owned(),
        (true, true) => format!("must be > {min}"),
        (true, false) => format!("must be >= {min}"),
    };
    problems.check(ok, path, &message)
}

impl RateSpec {
    fn profile(&self, path: &str, problems: &mut Problems) -> Option<RateProfile> {
        let before = problems.len();
        let profile = match self {
            RateSpec::Constant(rps) => {
                check_number(problems, &format!("{path}.constant"), *rps, 0.0, false);
                RateProfile::Constant(*rps)
            }
            RateSpec::Points(points) => {
                let path = format!("{path}.points");
                problems.check(!points.is_empty(), &path, "needs at least one point");
                for (i, point) in points.iter().enumerate() {
                    check_number(problems, &format!("{path}[{i}].rps"), point.rps, 0.0, false);
                    let at = format!("{path}[{i}].at");
                    if let Some(previous) = i.checked_sub(1).map(|j| points[j].at) {
                        if point.at < previous {
                            problems.add(
                                &at,
                                format!("must not be before points[{}].at ({previous})", i - 1),
                            );
                        }
                    }
                    if i >= 2 && points[i - 2].at == point.at {
                        problems.add(
                            &at,
                            format!(
                                "a third point at {}: a step is two points at one instant",
                                point.at
                            ),
                        );
                    }
                }
                RateProfile::Points(points.iter().map(|p| (p.at.micros(), p.rps)).collect())
            }
            RateSpec::Diurnal(d) => {
                let path = format!("{path}.diurnal");
                check_number(problems, &format!("{path}.peak_rps"), d.peak_rps, 0.0, true);
                problems.check(
                    (0.0..=1.0).contains(&d.trough_ratio),
                    &format!("{path}.trough_ratio"),
                    "must be between 0 and 1",
                );
                problems.check(
                    d.period.micros() > 0,
                    &format!("{path}.period"),
                    "must be longer than 0s",
                );
                RateProfile::Diurnal {
                    peak: d.peak_rps,
                    trough_ratio: d.trough_ratio,
                    peak_at: d.peak_at.micros(),
                    period: d.period.micros(),
                }
            }
        };
        if problems.len() > before {
            return None;
        }
        problems
            .check(
                profile.peak() > 0.0,
                path,
                "is zero throughout: the stream would send no request",
            )
            .then_some(profile)
    }
}

impl LengthSpec {
    fn distribution(&self, path: &str, problems: &mut Problems) -> Option<LengthDistribution> {
        match *self {
            LengthSpec::Constant(n) => problems
                .check(n >= 1, &format!("{path}.constant"), "must be >= 1")
                .then_some(LengthDistribution::Constant(n)),
            LengthSpec::Uniform(UniformSpec { min, max }) => {
                let path = format!("{path}.uniform");
                let min_ok = problems.check(min >= 1, &format!("{path}.min"), "must be >= 1");
                let max_ok = problems.check(
                    max >= min,
                    &format!("{path}.max"),
                    &format!("must be >= min ({min})"),
                );
                (min_ok && max_ok).then_some(LengthDistribution::Uniform { min, max })
            }
            LengthSpec::Normal(NormalSpec { mean, std_dev }) => {
                let path = format!("{path}.normal");
                let mean_ok = check_number(problems, &format!("{path}.mean"), mean, 0.0, true);
                let std_ok =
                    check_number(problems, &format!("{path}.std_dev"), std_dev, 0.0, false);
                if !(mean_ok && std_ok) {
                    return None;
                }
                constructed(Normal::new(mean, std_dev), &path, problems)
                    .map(LengthDistribution::Normal)
            }
            LengthSpec::Lognormal(LognormalSpec { median, sigma, p99 }) => {
                let path = format!("{path}.lognormal");
                let median_ok =
                    check_number(problems, &format!("{path}.median"), median, 0.0, true);
                let sigma = match (sigma, p99) {
                    (Some(_), Some(_)) => {
                        problems.add(&path, "give `sigma` or `p99`, not both");
                        None
                    }
                    (None, None) => {
                        problems.add(&path, "needs `sigma` or `p99` for the spread");
                        None
                    }
                    (Some(sigma), None) => {
                        check_number(problems, &format!("{path}.sigma"), sigma, 0.0, false)
                            .then_some(sigma)
                    }
                    // Compared with the median only when the median itself is valid.
                    (None, Some(p99)) => problems
                        .check(
                            p99.is_finite() && (!median_ok || p99 > median),
                            &format!("{path}.p99"),
                            &format!("must be a finite number > the median ({median})"),
                        )
                        .then(|| (p99 / median).ln() / Z99),
                };
                if !median_ok {
                    return None;
                }
                constructed(LogNormal::new(median.ln(), sigma?), &path, problems)
                    .map(LengthDistribution::LogNormal)
            }
        }
    }
}

/// The distribution, or its constructor's refusal as a problem at `path`.
fn constructed<D, E: std::fmt::Display>(
    result: Result<D, E>,
    path: &str,
    problems: &mut Problems,
) -> Option<D> {
    result.map_err(|e| problems.add(path, e.to_string())).ok()
}

impl TraceSpec {
    fn plan(&self, path: &str, base_dir: &Path, problems: &mut Problems) -> Option<Plan> {
        let before = problems.len();
        check_number(
            problems,
            &format!("{path}.time_scale"),
            self.time_scale,
            0.0,
            true,
        );
        let window = self.window.unwrap_or_default();
        let from = window.from.unwrap_or_default();
        if let Some(to) = window.to {
            problems.check(
                to > from,
                &format!("{path}.window.to"),
                &format!("must be after window.from ({from})"),
            );
        }
        let options = TraceOptions {
            format: self.format,
            from: from.micros(),
            to: window.to.map(SpecDuration::micros),
            time_scale: self.time_scale,
            end: SimTime::MAX,
        };
        let file = base_dir.join(&self.path);
        let path = format!("{path}.path");
        if !file.exists() {
            problems.add(&path, format!("file not found: {}", file.display()));
        } else if file.is_dir() {
            problems.add(
                &path,
                format!("is a folder, not a file: {}", file.display()),
            );
        } else if let Err(e) = TraceSource::open(&file, options) {
            // The header is read now, so that a wrong file is reported with the others.
            problems.add(&path, e.to_string());
        }
        (problems.len() == before).then_some(Plan::Trace {
            path: file,
            options,
        })
    }
}

#[cfg(test)]
#[path = "spec_tests.rs"]
mod tests;
