//! A rate multiplier on any source: "the same traffic, twice as much" (or half as much)
//! while keeping the trace's own shape and token lengths.

use rand::RngExt;

use super::{BoxedSource, Request, RequestSource, TraceTally, WorkloadError};
use crate::sim::rng::Stream;
use crate::sim::SimDuration;

/// The largest multiplier accepted: beyond it the workload is no longer the trace's.
pub const MAX_RATE_MULTIPLIER: f64 = 1_000.0;

/// Thins or multiplies the requests of a source. Each request is sent
/// `floor(m) + Bernoulli(frac(m))` times: 0.5 keeps each request with probability 0.5, 2
/// sends each twice, 1.5 sends each once and half of them twice. The first copy keeps the
/// request's arrival; the extra copies arrive at instants drawn uniformly between it and
/// the next request of the source (at the same instant for the last one), so that a doubled
/// trace keeps its burstiness instead of turning every request into a pair arriving
/// together. Copies keep the token lengths, and arrivals never decrease.
pub struct RateMultiplier {
    inner: BoxedSource,
    whole: u32,
    fraction: f64,
    rng: Stream,
    /// The source's next request, looked at to place the copies of the current one.
    head: Option<Request>,
    started: bool,
    /// Copies still to send, the earliest last.
    pending: Vec<Request>,
}

impl RateMultiplier {
    /// Multiplies `inner` by `multiplier` (finite, > 0, at most [`MAX_RATE_MULTIPLIER`];
    /// clamped into that range otherwise), drawing from `rng`.
    pub fn new(inner: BoxedSource, multiplier: f64, rng: Stream) -> Self {
        let multiplier = if multiplier.is_finite() {
            multiplier.clamp(0.0, MAX_RATE_MULTIPLIER)
        } else {
            1.0
        };
        RateMultiplier {
            inner,
            whole: multiplier.floor() as u32,
            fraction: multiplier.fract(),
            rng,
            head: None,
            started: false,
            pending: Vec::new(),
        }
    }
}

impl RequestSource for RateMultiplier {
    fn next_request(&mut self) -> Result<Option<Request>, WorkloadError> {
        loop {
            if let Some(copy) = self.pending.pop() {
                return Ok(Some(copy));
            }
            if !self.started {
                self.started = true;
                self.head = self.inner.next_request()?;
            }
            let Some(current) = self.head else {
                return Ok(None);
            };
            self.head = self.inner.next_request()?;
            // An integer multiplier draws nothing for the count.
            let extra = self.fraction > 0.0 && self.rng.random::<f64>() < self.fraction;
            let copies = self.whole + u32::from(extra);
            if copies == 0 {
                continue;
            }
            let gap = self
                .head
                .map_or(SimDuration::ZERO, |next| next.arrival - current.arrival);
            for _ in 1..copies {
                let delay = if gap > SimDuration::ZERO {
                    SimDuration::from_micros(self.rng.random_range(0..gap.as_micros()))
                } else {
                    SimDuration::ZERO
                };
                self.pending.push(Request {
                    arrival: current.arrival + delay,
                    ..current
                });
            }
            self.pending
                .sort_unstable_by_key(|copy| std::cmp::Reverse(copy.arrival));
            return Ok(Some(current));
        }
    }

    fn traces(&self, out: &mut Vec<TraceTally>) {
        self.inner.traces(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::stream;
    use crate::sim::SimTime;
    use crate::workload::{LengthDistribution, PoissonSource, RateProfile};

    /// Requests from a list, for tests.
    struct Listed(std::vec::IntoIter<Request>);

    impl RequestSource for Listed {
        fn next_request(&mut self) -> Result<Option<Request>, WorkloadError> {
            Ok(self.0.next())
        }
    }

    fn poisson(seed: u64) -> BoxedSource {
        Box::new(PoissonSource::new(
            seed,
            None,
            RateProfile::Constant(10.0),
            LengthDistribution::Uniform { min: 1, max: 1_000 },
            LengthDistribution::Uniform { min: 1, max: 100 },
            SimTime::from_secs(3_600),
        ))
    }

    fn drain(mut s: impl RequestSource) -> Vec<Request> {
        let mut out = Vec::new();
        while let Some(r) = s.next_request().unwrap() {
            out.push(r);
        }
        out
    }

    fn multiplied(multiplier: f64) -> (usize, Vec<Request>) {
        let base = drain(poisson(4)).len();
        let out = drain(RateMultiplier::new(
            poisson(4),
            multiplier,
            stream(4, "rate_multiplier"),
        ));
        (base, out)
    }

    #[test]
    fn two_doubles_the_count_and_keeps_arrivals_in_order() {
        let (base, out) = multiplied(2.0);
        assert_eq!(out.len(), 2 * base);
        assert!(out.windows(2).all(|w| w[0].arrival <= w[1].arrival));
        // Every original request is there, with its copy's lengths beside it.
        let originals = drain(poisson(4));
        let mut lengths: Vec<(u32, u32)> = out
            .iter()
            .map(|r| (r.input_tokens, r.output_tokens))
            .collect();
        let mut expected: Vec<(u32, u32)> = originals
            .iter()
            .flat_map(|r| [(r.input_tokens, r.output_tokens); 2])
            .collect();
        lengths.sort_unstable();
        expected.sort_unstable();
        assert_eq!(lengths, expected);
        // Copies are spread over the gaps, not stacked on their original.
        let same_instant = out
            .windows(2)
            .filter(|w| w[0].arrival == w[1].arrival)
            .count();
        assert!(same_instant < out.len() / 100, "{same_instant}");
    }

    #[test]
    fn fractions_thin_or_add_within_two_percent() {
        for multiplier in [0.5, 1.5, 0.1, 2.7] {
            let (base, out) = multiplied(multiplier);
            let expected = base as f64 * multiplier;
            assert!(
                (out.len() as f64 / expected - 1.0).abs() < 0.02,
                "x{multiplier}: {} of {expected}",
                out.len()
            );
            assert!(out.windows(2).all(|w| w[0].arrival <= w[1].arrival));
        }
    }

    #[test]
    fn one_is_the_identity_and_the_seed_decides_the_rest() {
        assert_eq!(multiplied(1.0).1, drain(poisson(4)));
        let run = |seed| {
            drain(RateMultiplier::new(
                poisson(4),
                0.5,
                stream(seed, "rate_multiplier"),
            ))
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
    }

    #[test]
    fn the_last_request_is_copied_at_its_own_instant() {
        let listed = |arrivals: &[i64]| -> BoxedSource {
            let requests: Vec<Request> = arrivals
                .iter()
                .map(|&arrival| Request {
                    arrival: SimTime::from_micros(arrival),
                    input_tokens: 7,
                    output_tokens: 3,
                })
                .collect();
            Box::new(Listed(requests.into_iter()))
        };
        let out = drain(RateMultiplier::new(listed(&[5, 5, 9]), 3.0, stream(0, "x")));
        let arrivals: Vec<i64> = out.iter().map(|r| r.arrival.as_micros()).collect();
        assert_eq!(arrivals.len(), 9);
        assert_eq!(&arrivals[..3], &[5, 5, 5]);
        assert!(arrivals[3..6].iter().all(|&t| (5..9).contains(&t)));
        assert_eq!(&arrivals[6..], &[9, 9, 9]);
        assert!(drain(RateMultiplier::new(listed(&[]), 2.0, stream(0, "x"))).is_empty());
    }
}
