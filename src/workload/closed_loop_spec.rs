//! The closed-loop stream of the scenario file (benchmark-style clients at a fixed
//! concurrency), its think-time distributions, its validation into a plan, and what it
//! counts for in the workload's volume check.

use std::path::Path;

use rand_distr::LogNormal;
use schemars::JsonSchema;
use serde::Deserialize;

use super::closed_loop::ThinkTime;
use super::lengths::Z99;
use super::spec::{Plan, Problems};
use super::synthetic_spec::plan_lengths;
use super::{LengthSpec, SpecDuration};
use crate::diagnostic::FieldPath;
use crate::sim::{SimDuration, MICROS_PER_SEC};

/// The most clients one closed-loop stream may have: beyond, a typo more likely than a
/// benchmark (each client holds a request in the system at all times).
pub const MAX_CONCURRENCY: u32 = 100_000;

/// The request a closed-loop client without `requests` is counted for in the volume check,
/// besides its mean think time: a client sends at most one request per (mean think time +
/// 1 s). Requests of LLM servers under load take seconds; a loop of shorter ones can send
/// more, which `requests` bounds exactly.
pub const NOMINAL_REQUEST: SimDuration = SimDuration::from_secs(1);

/// Benchmark-style clients: `concurrency` clients each send a request at the start of the
/// run, then their next one when the previous one ends — completed, failed or dropped —
/// plus a think time, so that the load follows the servers' speed and at most
/// `concurrency` requests are in the system at once. Prompt lengths, output lengths and
/// think times draw from the random streams `input_tokens`, `output_tokens` and
/// `think_time` (`<name>/...` for a named stream), in the order requests are sent and end.
/// `max_context` clips the requests as for every stream. A closed loop cannot be written
/// by `trace gen`: its arrivals depend on the servers.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct ClosedLoopSpec {
    /// Names the stream in random-stream names; required when the workload has several
    /// streams.
    #[serde(default)]
    pub name: Option<String>,
    /// The number of clients, from 1 to 100000.
    #[schemars(range(min = 1, max = MAX_CONCURRENCY))]
    pub concurrency: u32,
    /// How long a client waits between the end of its request and its next one; no wait
    /// (`{constant: 0s}`) unless set.
    #[serde(default)]
    pub think_time: Option<ThinkTimeSpec>,
    /// The number of requests the clients send in all (>= 1), after which each client stops
    /// when its request ends; unset, they send until the end of the run.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub requests: Option<u64>,
    /// Prompt length in tokens.
    pub input_tokens: LengthSpec,
    /// Output length in tokens.
    pub output_tokens: LengthSpec,
}

/// A think time: exactly one of the forms. Durations as elsewhere (`"500ms"`, `"2s"`).
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum ThinkTimeSpec {
    /// Always this long: `{constant: 2s}`.
    Constant(SpecDuration),
    /// Exponential (a memoryless user) with this mean: `{exponential: {mean: 5s}}`.
    Exponential {
        /// The mean think time, longer than 0s.
        mean: SpecDuration,
    },
    /// Uniform between two durations, both included: `{uniform: {min: 1s, max: 3s}}`.
    Uniform {
        /// The shortest think time.
        min: SpecDuration,
        /// The longest think time, >= `min`.
        max: SpecDuration,
    },
    /// Lognormal by median and 99th percentile, as pod startups:
    /// `{lognormal: {median: 2s, p99: 20s}}`.
    Lognormal {
        /// The median think time, longer than 0s.
        median: SpecDuration,
        /// The 99th percentile, >= `median`.
        p99: SpecDuration,
    },
}

impl ClosedLoopSpec {
    pub(super) fn plan(
        &self,
        path: &FieldPath,
        base_dir: &Path,
        problems: &mut Problems,
    ) -> Option<Plan> {
        let concurrency_ok = problems.check(
            (1..=MAX_CONCURRENCY).contains(&self.concurrency),
            path.child("concurrency"),
            &format!("must be between 1 and {MAX_CONCURRENCY}"),
        );
        let requests_ok = problems.check(
            self.requests != Some(0),
            path.child("requests"),
            "must be >= 1 (leave it out to send until the end of the run)",
        );
        let think = match &self.think_time {
            None => Some(ThinkTime::Constant(SimDuration::ZERO)),
            Some(spec) => spec.plan(&path.child("think_time"), problems),
        };
        let lengths = plan_lengths(
            &self.input_tokens,
            &self.output_tokens,
            path,
            base_dir,
            problems,
        );
        if !(concurrency_ok && requests_ok) {
            return None;
        }
        Some(Plan::ClosedLoop {
            name: self.name.clone(),
            concurrency: self.concurrency,
            requests: self.requests,
            think: think?,
            lengths: lengths?,
        })
    }

    /// The requests the stream is counted for in a run of `duration`: the lower of
    /// `requests` and one request per client per (mean think time + [`NOMINAL_REQUEST`]).
    /// Values that do not validate count as they are written (they are refused with their
    /// own message).
    pub(super) fn volume(&self, duration: SimDuration) -> f64 {
        let cycle = self
            .think_time
            .as_ref()
            .map_or(0.0, ThinkTimeSpec::mean_secs)
            + NOMINAL_REQUEST.as_secs_f64();
        let seconds = duration.as_micros() as f64 / MICROS_PER_SEC as f64;
        let estimate = f64::from(self.concurrency) * seconds / cycle;
        match self.requests {
            Some(n) => estimate.min(n as f64),
            None => estimate,
        }
    }
}

impl ThinkTimeSpec {
    fn plan(&self, path: &FieldPath, problems: &mut Problems) -> Option<ThinkTime> {
        match *self {
            ThinkTimeSpec::Constant(d) => Some(ThinkTime::Constant(d.get())),
            ThinkTimeSpec::Exponential { mean } => problems
                .check(
                    mean.get() > SimDuration::ZERO,
                    path.child("exponential").child("mean"),
                    "must be longer than 0s",
                )
                .then_some(ThinkTime::Exponential { mean: mean.get() }),
            ThinkTimeSpec::Uniform { min, max } => problems
                .check(
                    max >= min,
                    path.child("uniform").child("max"),
                    &format!("must be >= min ({min})"),
                )
                .then_some(ThinkTime::Uniform {
                    min: min.get(),
                    max: max.get(),
                }),
            ThinkTimeSpec::Lognormal { median, p99 } => {
                let path = path.child("lognormal");
                let median_ok = problems.check(
                    median.get() > SimDuration::ZERO,
                    path.child("median"),
                    "must be longer than 0s",
                );
                let p99_ok = problems.check(
                    p99 >= median,
                    path.child("p99"),
                    &format!("must be >= the median ({median})"),
                );
                if !(median_ok && p99_ok) {
                    return None;
                }
                let mu = (median.get().as_micros() as f64).ln();
                let sigma = ((p99.get().as_micros() as f64).ln() - mu) / Z99;
                LogNormal::new(mu, sigma)
                    .map_err(|e| problems.error(&path, e.to_string()))
                    .ok()
                    .map(ThinkTime::LogNormal)
            }
        }
    }

    /// The mean think time in seconds, whatever the rest of the spec (0 where it cannot be
    /// told).
    fn mean_secs(&self) -> f64 {
        let secs = |d: SpecDuration| d.get().as_secs_f64();
        let mean = match *self {
            ThinkTimeSpec::Constant(d) => secs(d),
            ThinkTimeSpec::Exponential { mean } => secs(mean),
            ThinkTimeSpec::Uniform { min, max } => (secs(min) + secs(max)) / 2.0,
            ThinkTimeSpec::Lognormal { median, p99 } => {
                let sigma = (secs(p99) / secs(median)).ln() / Z99;
                secs(median) * (sigma * sigma / 2.0).exp()
            }
        };
        if mean.is_finite() {
            mean.max(0.0)
        } else {
            0.0
        }
    }
}
