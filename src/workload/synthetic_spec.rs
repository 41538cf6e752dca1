//! The synthetic streams of the scenario file (Poisson, renewal, MMPP), their rate
//! profiles and token-length distributions, and their validation into plans.

use std::path::{Path, PathBuf};

use rand_distr::{LogNormal, Normal};
use schemars::{JsonSchema, Schema};
use serde::Deserialize;

use super::lengths::Z99;
use super::renewal::CV_RANGE;
use super::spec::{check_number, check_trace_file, Arrivals, LengthPlan, Plan, Problems};
use super::{
    InterArrival, LengthDistribution, MmppParams, RateProfile, SpecDuration, TraceFormat,
    TraceOptions,
};
use crate::diagnostic::FieldPath;
use crate::sim::SimDuration;

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

/// Synthetic requests from a renewal process: gaps between arrivals drawn independently
/// from a Gamma or Weibull distribution with coefficient of variation `cv` (standard
/// deviation / mean of the gaps), which sets the burstiness: 1 is as bursty as Poisson, 3
/// packs requests into bursts separated by lulls, below 1 is more regular. The rate follows
/// `rate` by time warping: gaps of mean 1 are drawn in "expected requests" and mapped back
/// to time through the profile, so the rate is the profile's at every instant and the gaps
/// keep their shape. Random streams as for `poisson`.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct RenewalSpec {
    /// Names the stream in reports and random-stream names; required when the workload has
    /// several streams.
    #[serde(default)]
    pub name: Option<String>,
    /// The arrival rate over time, in requests per second.
    pub rate: RateSpec,
    /// The coefficient of variation of the gaps between arrivals, from 0.05 to 20.
    #[schemars(range(min = CV_RANGE.0, max = CV_RANGE.1))]
    pub cv: f64,
    /// The distribution of the gaps; `gamma` unless set.
    #[serde(default)]
    pub distribution: GapDistribution,
    /// Prompt length in tokens.
    pub input_tokens: LengthSpec,
    /// Output length in tokens.
    pub output_tokens: LengthSpec,
}

/// The distribution of the gaps of a renewal process, given its CV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GapDistribution {
    /// Gamma with shape 1/cv²: with cv 1, exactly Poisson.
    #[default]
    Gamma,
    /// Weibull with the shape whose CV is `cv` (found numerically): a heavier tail of long
    /// gaps than Gamma at the same CV when cv > 1.
    Weibull,
}

/// Synthetic requests in bursts: a two-state Markov-modulated Poisson process that
/// alternates between bursts (`on_rps`, lasting `mean_on` on average) and lulls (`off_rps`,
/// lasting `mean_off` on average), each state's length drawn from an exponential
/// distribution. The mean rate is `(on_rps · mean_on + off_rps · mean_off) / (mean_on +
/// mean_off)`. The on/off schedule draws from the random stream `phases`, arrivals within a
/// state from `arrivals` (prefixed with `<name>/` for a named stream), so changing a rate
/// leaves the bursts where they were.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct MmppSpec {
    /// Names the stream in reports and random-stream names; required when the workload has
    /// several streams.
    #[serde(default)]
    pub name: Option<String>,
    /// Requests per second during a burst, >= 0.
    #[schemars(range(min = 0))]
    pub on_rps: f64,
    /// Requests per second between bursts, >= 0; 0 unless set.
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub off_rps: f64,
    /// The mean length of a burst, such as `30s`.
    pub mean_on: SpecDuration,
    /// The mean time between bursts, such as `5m`.
    pub mean_off: SpecDuration,
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
    Constant(#[schemars(range(min = 0))] f64),
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
    #[schemars(range(min = 0))]
    pub rps: f64,
}

/// A daily (or any periodic) cycle of the rate.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct DiurnalSpec {
    /// The highest rate, in requests per second (> 0).
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub peak_rps: f64,
    /// The lowest rate as a fraction of the peak, between 0 and 1; reached half a period
    /// after the peak.
    #[schemars(range(min = 0, max = 1))]
    pub trough_ratio: f64,
    /// When the rate peaks, from the start of the run (which is the cycle's midnight):
    /// `14h` puts the peak at 2 pm.
    pub peak_at: SpecDuration,
    /// The length of one cycle; 24h unless set.
    #[serde(default = "one_day")]
    pub period: SpecDuration,
}

fn one_day() -> SpecDuration {
    SpecDuration::new(SimDuration::from_secs(24 * 3_600))
}

/// A token-length distribution. Draws are rounded half-up to whole tokens and clipped to at
/// least 1 (and to `max_context`).
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum LengthSpec {
    /// Always this many tokens (>= 1): `constant: 512`.
    Constant(#[schemars(range(min = 1))] u32),
    /// Whole numbers from `min` to `max`, both included, equally likely.
    Uniform(UniformSpec),
    /// A normal distribution; clipping at 1 token raises the mean when the left tail is wide.
    Normal(NormalSpec),
    /// A lognormal distribution, given by its median and either `sigma` or `p99`.
    Lognormal(LognormalSpec),
    /// Lengths resampled from a recorded trace: drawn uniformly, with replacement, from the
    /// lengths of one of its columns.
    Empirical(EmpiricalSpec),
}

/// Uniform lengths.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct UniformSpec {
    /// The shortest length, >= 1.
    #[schemars(range(min = 1))]
    pub min: u32,
    /// The longest length, >= `min`.
    #[schemars(range(min = 1))]
    pub max: u32,
}

/// Normal lengths.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct NormalSpec {
    /// The mean, > 0.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub mean: f64,
    /// The standard deviation, >= 0.
    #[schemars(range(min = 0))]
    pub std_dev: f64,
}

/// Lognormal lengths: the usual shape of prompt and output lengths, a long right tail.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
#[schemars(transform = median_alias)]
pub struct LognormalSpec {
    /// The median length (> 0); `p50` is accepted as another name for it.
    #[serde(alias = "p50")]
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub median: f64,
    /// The standard deviation of the length's logarithm (>= 0). Give this or `p99`.
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub sigma: Option<f64>,
    /// The 99th-percentile length (> median), from which sigma is derived. Give this or
    /// `sigma`.
    #[serde(default)]
    pub p99: Option<f64>,
}

/// Adds serde's `p50` alias, which schemars does not see, to the schema of
/// [`LognormalSpec`]: exactly one of `median` and `p50` (serde refuses both as a duplicate).
/// The choice sits under `allOf`, so that `--set` key checks, which follow `oneOf`
/// alternatives, still see the fields.
fn median_alias(schema: &mut Schema) {
    let Some(median) = schema
        .get("properties")
        .and_then(|p| p.get("median"))
        .cloned()
    else {
        return;
    };
    if let Some(properties) = schema.get_mut("properties").and_then(|p| p.as_object_mut()) {
        properties.insert("p50".into(), median);
    }
    if let Some(required) = schema.get_mut("required").and_then(|r| r.as_array_mut()) {
        required.retain(|r| r != "median");
        if required.is_empty() {
            schema.remove("required");
        }
    }
    schema.insert(
        "allOf".into(),
        serde_json::json!([{ "oneOf": [{ "required": ["median"] }, { "required": ["p50"] }] }]),
    );
}

/// Lengths resampled from a trace of any supported format. The trace is read once, when the
/// run starts, and at most a million of its lengths are kept (a uniform sample of them
/// when it has more, drawn from the random stream `input_tokens/empirical` or
/// `output_tokens/empirical`, prefixed with `<name>/` for a named stream).
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct EmpiricalSpec {
    /// The trace file, relative to the scenario file's folder.
    pub trace: PathBuf,
    /// Which lengths to draw: the prompts' (`input`) or the outputs' (`output`).
    pub column: LengthColumn,
    /// The trace's format; unset, it is told from the file's first line.
    #[serde(default)]
    pub format: Option<TraceFormat>,
}

/// A token-length column of a trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LengthColumn {
    /// Prompt lengths.
    Input,
    /// Output lengths.
    Output,
}

impl PoissonSpec {
    pub(super) fn plan(
        &self,
        path: &FieldPath,
        base_dir: &Path,
        problems: &mut Problems,
    ) -> Option<Plan> {
        let profile = self.rate.profile(&path.child("rate"), problems);
        let lengths = plan_lengths(
            &self.input_tokens,
            &self.output_tokens,
            path,
            base_dir,
            problems,
        );
        Some(Plan::Synthetic {
            name: self.name.clone(),
            arrivals: Arrivals::Poisson(profile?),
            lengths: lengths?,
        })
    }
}

impl RenewalSpec {
    pub(super) fn plan(
        &self,
        path: &FieldPath,
        base_dir: &Path,
        problems: &mut Problems,
    ) -> Option<Plan> {
        let profile = self.rate.profile(&path.child("rate"), problems);
        let (low, high) = CV_RANGE;
        let gaps = problems
            .check(
                (low..=high).contains(&self.cv),
                path.child("cv"),
                &format!("must be between {low} and {high}"),
            )
            .then(|| match self.distribution {
                GapDistribution::Gamma => InterArrival::gamma(self.cv),
                GapDistribution::Weibull => InterArrival::weibull(self.cv),
            })
            .and_then(|gaps| constructed(gaps, &path.child("cv"), problems));
        let lengths = plan_lengths(
            &self.input_tokens,
            &self.output_tokens,
            path,
            base_dir,
            problems,
        );
        Some(Plan::Synthetic {
            name: self.name.clone(),
            arrivals: Arrivals::Renewal(profile?, gaps?),
            lengths: lengths?,
        })
    }
}

impl MmppSpec {
    pub(super) fn plan(
        &self,
        path: &FieldPath,
        base_dir: &Path,
        problems: &mut Problems,
    ) -> Option<Plan> {
        let before = problems.len();
        let on_ok = check_number(problems, &path.child("on_rps"), self.on_rps, 0.0, false);
        let off_ok = check_number(problems, &path.child("off_rps"), self.off_rps, 0.0, false);
        if on_ok && off_ok {
            problems.check(
                self.on_rps + self.off_rps > 0.0,
                path.child("on_rps"),
                "on_rps and off_rps are both 0: the stream would send no request",
            );
        }
        for (field, duration) in [("mean_on", self.mean_on), ("mean_off", self.mean_off)] {
            problems.check(
                duration.get() > SimDuration::ZERO,
                path.child(field),
                "must be longer than 0s",
            );
        }
        let valid = problems.len() == before;
        let lengths = plan_lengths(
            &self.input_tokens,
            &self.output_tokens,
            path,
            base_dir,
            problems,
        );
        if !valid {
            return None;
        }
        Some(Plan::Synthetic {
            name: self.name.clone(),
            arrivals: Arrivals::Mmpp(MmppParams {
                on_rps: self.on_rps,
                off_rps: self.off_rps,
                mean_on: self.mean_on.get(),
                mean_off: self.mean_off.get(),
            }),
            lengths: lengths?,
        })
    }
}

/// The prompt and output lengths of a synthetic stream at `path`.
pub(super) fn plan_lengths(
    input: &LengthSpec,
    output: &LengthSpec,
    path: &FieldPath,
    base_dir: &Path,
    problems: &mut Problems,
) -> Option<[LengthPlan; 2]> {
    let input = input.plan(&path.child("input_tokens"), base_dir, problems);
    let output = output.plan(&path.child("output_tokens"), base_dir, problems);
    Some([input?, output?])
}

impl RateSpec {
    /// The highest rate written, whatever the rest of the spec; a value that is not finite
    /// counts as 0 (it is refused with its own message).
    pub(super) fn peak_rps(&self) -> f64 {
        let finite = |rps: f64| if rps.is_finite() { rps.max(0.0) } else { 0.0 };
        match self {
            RateSpec::Constant(rps) => finite(*rps),
            RateSpec::Points(points) => points.iter().map(|p| finite(p.rps)).fold(0.0, f64::max),
            RateSpec::Diurnal(d) => finite(d.peak_rps),
        }
    }

    fn profile(&self, path: &FieldPath, problems: &mut Problems) -> Option<RateProfile> {
        let before = problems.len();
        let profile = match self {
            RateSpec::Constant(rps) => {
                check_number(problems, &path.child("constant"), *rps, 0.0, false);
                RateProfile::Constant(*rps)
            }
            RateSpec::Points(points) => {
                let path = path.child("points");
                problems.check(!points.is_empty(), &path, "needs at least one point");
                for (i, point) in points.iter().enumerate() {
                    check_number(problems, &path.index(i).child("rps"), point.rps, 0.0, false);
                    let at = path.index(i).child("at");
                    if let Some(previous) = i.checked_sub(1).map(|j| points[j].at) {
                        if point.at < previous {
                            problems.error(
                                &at,
                                format!("must not be before points[{}].at ({previous})", i - 1),
                            );
                        }
                    }
                    if i >= 2 && points[i - 2].at == point.at {
                        problems.error(
                            &at,
                            format!(
                                "a third point at {}: a step is two points at one instant",
                                point.at
                            ),
                        );
                    }
                }
                RateProfile::Points(
                    points
                        .iter()
                        .map(|p| (p.at.get().after_start(), p.rps))
                        .collect(),
                )
            }
            RateSpec::Diurnal(d) => {
                let path = path.child("diurnal");
                check_number(problems, &path.child("peak_rps"), d.peak_rps, 0.0, true);
                problems.check(
                    (0.0..=1.0).contains(&d.trough_ratio),
                    path.child("trough_ratio"),
                    "must be between 0 and 1",
                );
                problems.check(
                    d.period.get() > SimDuration::ZERO,
                    path.child("period"),
                    "must be longer than 0s",
                );
                RateProfile::Diurnal {
                    peak: d.peak_rps,
                    trough_ratio: d.trough_ratio,
                    peak_at: d.peak_at.get().after_start(),
                    period: d.period.get(),
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
    /// The distribution, or for `empirical` the trace to read it from when the run starts.
    fn plan(
        &self,
        path: &FieldPath,
        base_dir: &Path,
        problems: &mut Problems,
    ) -> Option<LengthPlan> {
        let distribution = match *self {
            LengthSpec::Empirical(ref spec) => {
                return spec.plan(&path.child("empirical"), base_dir, problems)
            }
            LengthSpec::Constant(n) => problems
                .check(n >= 1, path.child("constant"), "must be >= 1")
                .then_some(LengthDistribution::Constant(n)),
            LengthSpec::Uniform(UniformSpec { min, max }) => {
                let path = path.child("uniform");
                let min_ok = problems.check(min >= 1, path.child("min"), "must be >= 1");
                let max_ok = problems.check(
                    max >= min,
                    path.child("max"),
                    &format!("must be >= min ({min})"),
                );
                (min_ok && max_ok).then_some(LengthDistribution::Uniform { min, max })
            }
            LengthSpec::Normal(NormalSpec { mean, std_dev }) => {
                let path = path.child("normal");
                let mean_ok = check_number(problems, &path.child("mean"), mean, 0.0, true);
                let std_ok = check_number(problems, &path.child("std_dev"), std_dev, 0.0, false);
                if !(mean_ok && std_ok) {
                    return None;
                }
                constructed(Normal::new(mean, std_dev), &path, problems)
                    .map(LengthDistribution::Normal)
            }
            LengthSpec::Lognormal(LognormalSpec { median, sigma, p99 }) => {
                let path = path.child("lognormal");
                let median_ok = check_number(problems, &path.child("median"), median, 0.0, true);
                let sigma = match (sigma, p99) {
                    (Some(_), Some(_)) => {
                        problems.error(&path, "give `sigma` or `p99`, not both");
                        None
                    }
                    (None, None) => {
                        problems.error(&path, "needs `sigma` or `p99` for the spread");
                        None
                    }
                    (Some(sigma), None) => {
                        check_number(problems, &path.child("sigma"), sigma, 0.0, false)
                            .then_some(sigma)
                    }
                    // Compared with the median only when the median itself is valid.
                    (None, Some(p99)) => problems
                        .check(
                            p99.is_finite() && (!median_ok || p99 > median),
                            path.child("p99"),
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
        };
        distribution.map(LengthPlan::Ready)
    }
}

impl EmpiricalSpec {
    fn plan(
        &self,
        path: &FieldPath,
        base_dir: &Path,
        problems: &mut Problems,
    ) -> Option<LengthPlan> {
        let file = base_dir.join(&self.trace);
        let options = TraceOptions {
            format: self.format.clone(),
            ..TraceOptions::default()
        };
        check_trace_file(problems, path, "trace", &file, &options)?;
        Some(LengthPlan::Empirical {
            path: file,
            format: self.format.clone(),
            column: self.column,
        })
    }
}

/// The distribution, or its constructor's refusal as a problem at `path`.
fn constructed<D, E: std::fmt::Display>(
    result: Result<D, E>,
    path: &FieldPath,
    problems: &mut Problems,
) -> Option<D> {
    result.map_err(|e| problems.error(path, e.to_string())).ok()
}
