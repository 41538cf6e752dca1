//! Closed-loop streams as built: a fixed number of clients, each sending its next request
//! when its previous one ends, after a think time — the load of a benchmark tool run at a
//! fixed concurrency. Their arrivals depend on when requests end, which only the simulated
//! servers know, so a closed loop is not a [`RequestSource`](super::RequestSource) pulled in
//! arrival order: whoever runs the servers schedules each client's sends and asks this type
//! what a send holds ([`ClosedLoop::request`]), whether the stream has a request left
//! ([`ClosedLoop::claim`]) and how long a client thinks ([`ClosedLoop::think_time`]).
//!
//! It knows nothing of servers and reads no clock; its draws come from the named random
//! streams `input_tokens`, `output_tokens` and `think_time` of the stream (prefixed with
//! `<name>/` for a named one), taken in the order the requests are sent and end.

use rand::{Rng, RngExt};
use rand_distr::{Distribution, Exp1, LogNormal};

use super::combine::clip_to_context;
use super::lengths::{named_stream, Lengths};
use super::{LengthDistribution, Request};
use crate::sim::rng::Stream;
use crate::sim::{SimDuration, SimTime};

/// A validated think-time distribution: the time a client waits between the end of its
/// request and the sending of its next one.
#[derive(Debug, Clone, PartialEq)]
pub enum ThinkTime {
    /// Always this long.
    Constant(SimDuration),
    /// Exponential with this mean (> 0).
    Exponential { mean: SimDuration },
    /// Whole microseconds from `min` to `max`, both included, equally likely.
    Uniform { min: SimDuration, max: SimDuration },
    /// `ln` of the time in microseconds is normal.
    LogNormal(LogNormal<f64>),
}

impl ThinkTime {
    /// One think time, rounded half-up to whole microseconds. `Constant` draws nothing, so it
    /// leaves the stream where it was.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> SimDuration {
        match self {
            ThinkTime::Constant(d) => *d,
            ThinkTime::Exponential { mean } => {
                let x: f64 = Exp1.sample(rng);
                SimDuration::from_micros_f64(x * mean.as_micros() as f64)
            }
            ThinkTime::Uniform { min, max } => {
                SimDuration::from_micros(rng.random_range(min.as_micros()..=max.as_micros()))
            }
            ThinkTime::LogNormal(d) => SimDuration::from_micros_f64(d.sample(rng)),
        }
    }
}

/// One closed-loop stream: its clients, the requests it may still send, and its draws.
#[derive(Debug, Clone)]
pub struct ClosedLoop {
    name: Option<String>,
    concurrency: u32,
    /// Requests not yet claimed; `None`: as many as the run has time for.
    left: Option<u64>,
    think: (ThinkTime, Stream),
    lengths: Lengths,
    max_context: Option<u32>,
}

impl ClosedLoop {
    /// The stream `name` of `concurrency` clients (at least 1) that send `requests` in all
    /// (unset: until the end of the run), its random streams taken from `seed`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        seed: u64,
        name: Option<String>,
        concurrency: u32,
        requests: Option<u64>,
        think: ThinkTime,
        input: LengthDistribution,
        output: LengthDistribution,
        max_context: Option<u32>,
    ) -> Self {
        let think_rng = named_stream(seed, name.as_deref(), "think_time");
        let lengths = Lengths::new(seed, name.as_deref(), input, output);
        ClosedLoop {
            name,
            concurrency,
            left: requests,
            think: (think, think_rng),
            lengths,
            max_context,
        }
    }

    /// The stream's name, as written in the scenario.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Its number of clients.
    pub fn concurrency(&self) -> u32 {
        self.concurrency
    }

    /// Takes one of the stream's requests for a client about to schedule a send: `false` once
    /// all of `requests` are taken (the client then stops).
    pub fn claim(&mut self) -> bool {
        match &mut self.left {
            None => true,
            Some(0) => false,
            Some(left) => {
                *left -= 1;
                true
            }
        }
    }

    /// How long a client whose request just ended waits before its next one.
    pub fn think_time(&mut self) -> SimDuration {
        let (think, rng) = &mut self.think;
        think.sample(rng)
    }

    /// The request a client sends at `at`: its lengths drawn, then clipped to the model's
    /// context as for every stream.
    pub fn request(&mut self, at: SimTime) -> Request {
        let r = self.lengths.request(at);
        match self.max_context {
            Some(max_context) => clip_to_context(r, max_context),
            None => r,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::stream;

    fn stream_of(concurrency: u32, requests: Option<u64>, think: ThinkTime) -> ClosedLoop {
        ClosedLoop::new(
            7,
            Some("bench".into()),
            concurrency,
            requests,
            think,
            LengthDistribution::Uniform { min: 1, max: 5000 },
            LengthDistribution::Constant(300),
            Some(4096),
        )
    }

    #[test]
    fn a_limited_stream_gives_out_exactly_its_requests() {
        let mut s = stream_of(4, Some(3), ThinkTime::Constant(SimDuration::ZERO));
        let claims: Vec<bool> = (0..6).map(|_| s.claim()).collect();
        assert_eq!(claims, [true, true, true, false, false, false]);
        let mut unlimited = stream_of(4, None, ThinkTime::Constant(SimDuration::ZERO));
        assert!((0..10_000).all(|_| unlimited.claim()));
        assert_eq!((s.name(), s.concurrency()), (Some("bench"), 4));
    }

    #[test]
    fn requests_are_clipped_to_the_context_and_drawn_from_named_streams() {
        let mut s = stream_of(1, None, ThinkTime::Constant(SimDuration::ZERO));
        let at = SimTime::from_secs(3);
        let requests: Vec<Request> = (0..2_000).map(|_| s.request(at)).collect();
        assert!(requests.iter().all(|r| r.arrival == at
            && r.input_tokens >= 1
            && r.input_tokens + r.output_tokens <= 4096));
        assert!(requests
            .iter()
            .any(|r| r.input_tokens == 4095 && r.output_tokens == 1));
        // The prompt lengths are those of `bench/input_tokens`, whatever else draws.
        let mut rng = stream(7, "bench/input_tokens");
        let d = LengthDistribution::Uniform { min: 1, max: 5000 };
        let expected: Vec<u32> = (0..2_000).map(|_| d.sample(&mut rng).min(4095)).collect();
        let got: Vec<u32> = requests.iter().map(|r| r.input_tokens).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn think_times_have_their_distributions_mean_and_range() {
        let us = SimDuration::from_micros;
        let mut rng = stream(1, "think_time");
        let mean = |t: &ThinkTime, rng: &mut Stream| {
            (0..20_000)
                .map(|_| t.sample(rng).as_micros() as f64)
                .sum::<f64>()
                / 20_000.0
        };
        let exp = ThinkTime::Exponential {
            mean: us(2_000_000),
        };
        assert!((mean(&exp, &mut rng) / 2e6 - 1.0).abs() < 0.03);
        let uniform = ThinkTime::Uniform {
            min: us(10),
            max: us(12),
        };
        let draws: Vec<i64> = (0..1_000)
            .map(|_| uniform.sample(&mut rng).as_micros())
            .collect();
        assert_eq!(
            (draws.iter().min(), draws.iter().max()),
            (Some(&10), Some(&12))
        );
        let lognormal = ThinkTime::LogNormal(LogNormal::new(1e6f64.ln(), 0.5).unwrap());
        let mut v: Vec<i64> = (0..20_000)
            .map(|_| lognormal.sample(&mut rng).as_micros())
            .collect();
        v.sort_unstable();
        assert!((v[10_000] as f64 / 1e6 - 1.0).abs() < 0.03, "{}", v[10_000]);
        // A constant draws nothing: the stream is where it was.
        let before = rng.clone();
        assert_eq!(ThinkTime::Constant(us(5)).sample(&mut rng), us(5));
        assert_eq!(rng, before);
    }
}
