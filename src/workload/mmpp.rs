//! Synthetic requests from a two-state Markov-modulated Poisson process: the stream
//! alternates between an "on" state (a burst, at `on_rps`) and an "off" state (the lull,
//! at `off_rps`, often 0), each held for an exponentially distributed time. It is the
//! simplest model of traffic that comes in bursts of unpredictable start and length.
//!
//! The on/off schedule draws from its own random stream (`phases`), separate from the
//! arrivals within a state (`arrivals`), so that changing a rate keeps the bursts where
//! they were. The first state is drawn from the stationary distribution (on with
//! probability `mean_on / (mean_on + mean_off)`); by memorylessness its remaining time is
//! then exponential like any sojourn.

use rand::RngExt;
use rand_distr::{Distribution, Exp1};

use super::lengths::{named_stream, Lengths};
use super::{LengthDistribution, Request, RequestSource, WorkloadError};
use crate::sim::rng::Stream;
use crate::sim::{SimDuration, SimTime, MICROS_PER_SEC};

/// The two states of an MMPP, validated: rates >= 0 (not both 0), mean sojourns > 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MmppParams {
    /// Arrival rate during a burst, requests per second.
    pub on_rps: f64,
    /// Arrival rate between bursts, requests per second.
    pub off_rps: f64,
    /// Mean length of a burst.
    pub mean_on: SimDuration,
    /// Mean time between bursts.
    pub mean_off: SimDuration,
}

impl MmppParams {
    /// The long-run mean rate, requests per second.
    pub fn mean_rps(&self) -> f64 {
        let (on, off) = (
            self.mean_on.as_micros() as f64,
            self.mean_off.as_micros() as f64,
        );
        (self.on_rps * on + self.off_rps * off) / (on + off)
    }
}

/// Requests from a two-state MMPP, up to an end time.
#[derive(Debug, Clone)]
pub struct MmppSource {
    params: MmppParams,
    on: bool,
    /// When the current state ends.
    state_end: SimTime,
    clock: SimTime,
    /// No arrival at or after this instant.
    end: SimTime,
    phases: Stream,
    arrivals: Stream,
    lengths: Lengths,
}

impl MmppSource {
    /// A source of requests before `end`, drawing from the streams `phases`, `arrivals`,
    /// `input_tokens` and `output_tokens` of `seed` (prefixed with `name/` for a named
    /// stream).
    pub fn new(
        seed: u64,
        name: Option<&str>,
        params: MmppParams,
        input: LengthDistribution,
        output: LengthDistribution,
        end: SimTime,
    ) -> Self {
        let mut phases = named_stream(seed, name, "phases");
        let p_on = params.mean_on.as_micros() as f64
            / (params.mean_on + params.mean_off).as_micros() as f64;
        let on = phases.random::<f64>() < p_on;
        let mut source = MmppSource {
            params,
            on,
            state_end: SimTime::ZERO,
            clock: SimTime::ZERO,
            end,
            phases,
            arrivals: named_stream(seed, name, "arrivals"),
            lengths: Lengths::new(seed, name, input, output),
        };
        source.state_end = SimTime::ZERO + source.sojourn();
        source
    }

    /// How long the current state lasts, from now.
    fn sojourn(&mut self) -> SimDuration {
        let mean = if self.on {
            self.params.mean_on
        } else {
            self.params.mean_off
        };
        let draw: f64 = Exp1.sample(&mut self.phases);
        SimDuration::from_micros_f64(draw * mean.as_micros() as f64)
    }
}

impl RequestSource for MmppSource {
    fn next_request(&mut self) -> Result<Option<Request>, WorkloadError> {
        while self.clock < self.end {
            let rate = if self.on {
                self.params.on_rps
            } else {
                self.params.off_rps
            };
            if rate > 0.0 {
                let draw: f64 = Exp1.sample(&mut self.arrivals);
                let next = self.clock.saturating_add(SimDuration::from_micros_f64(
                    draw * MICROS_PER_SEC as f64 / rate,
                ));
                // A candidate past the state's end is dropped: the gap is memoryless, so
                // the next state starts afresh.
                if next < self.state_end {
                    self.clock = next;
                    if next >= self.end {
                        break;
                    }
                    return Ok(Some(self.lengths.request(next)));
                }
            }
            self.clock = self.state_end;
            self.on = !self.on;
            self.state_end = self.clock.saturating_add(self.sojourn());
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: SimDuration = SimDuration::from_secs(1);

    fn arrivals(params: MmppParams, end: SimTime) -> Vec<SimTime> {
        let mut source = MmppSource::new(
            5,
            None,
            params,
            LengthDistribution::Constant(100),
            LengthDistribution::Constant(10),
            end,
        );
        let mut out = Vec::new();
        while let Some(r) = source.next_request().unwrap() {
            out.push(r.arrival);
        }
        out
    }

    const BURSTS: MmppParams = MmppParams {
        on_rps: 20.0,
        off_rps: 0.5,
        mean_on: SimDuration::from_secs(30),
        mean_off: SimDuration::from_secs(120),
    };

    #[test]
    fn the_long_run_rate_is_the_time_weighted_mean() {
        let days = SimTime::ZERO + 10 * 86_400 * S;
        let n = arrivals(BURSTS, days).len() as f64;
        let expected = BURSTS.mean_rps() * 864_000.0;
        assert!((BURSTS.mean_rps() - 4.4).abs() < 1e-12);
        // The count varies with the time spent in bursts: over 5,760 on/off cycles its
        // standard deviation is about 1.8 % (5.5 % over one day, measured on 20 seeds).
        assert!((n / expected - 1.0).abs() < 0.07, "{n} vs {expected}");
    }

    #[test]
    fn bursts_make_counts_overdispersed() {
        let requests = arrivals(BURSTS, SimTime::ZERO + 6 * 3_600 * S);
        assert!(requests.windows(2).all(|w| w[0] <= w[1]));
        let mut counts = vec![0_f64; 6 * 360];
        for t in &requests {
            counts[(t.since_start() / (10 * S)) as usize] += 1.0;
        }
        let n = counts.len() as f64;
        let mean = counts.iter().sum::<f64>() / n;
        let var = counts.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / (n - 1.0);
        // Poisson counts have variance = mean; bursts make it many times larger.
        assert!(var / mean > 10.0, "dispersion {}", var / mean);
    }

    #[test]
    fn changing_a_rate_keeps_the_bursts_in_place() {
        let hour = SimTime::ZERO + 3_600 * S;
        let doubled = MmppParams {
            on_rps: 40.0,
            off_rps: 0.0,
            ..BURSTS
        };
        let quiet = MmppParams {
            off_rps: 0.0,
            ..BURSTS
        };
        // With no arrivals between bursts, an arrival after a long silence starts a
        // burst; the other run has one then too, though a random 2 s window would hold
        // one only about a third of the time.
        let (a, b) = (arrivals(doubled, hour), arrivals(quiet, hour));
        let starts: Vec<SimTime> = b
            .windows(2)
            .filter(|w| w[1] - w[0] > 20 * S)
            .map(|w| w[1])
            .collect();
        assert!(starts.len() >= 10, "{}", starts.len());
        for start in starts {
            assert!(
                a.iter().any(|t| (start - S..=start + S).contains(t)),
                "no burst at {start:?}"
            );
        }
    }
}
