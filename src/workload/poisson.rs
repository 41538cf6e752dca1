//! Synthetic requests: a Poisson process whose rate follows a [`RateProfile`], drawn by
//! thinning (Lewis–Shedler): candidates come at the profile's peak rate and each is kept with
//! probability `rate(t) / peak`. Thinning is exact for any profile shape and needs only the
//! rate at a point, never its integral.
//!
//! Arrivals, prompt lengths and output lengths each draw from their own named stream, so
//! changing a length distribution leaves the arrival times as they were.

use rand::RngExt;
use rand_distr::{Distribution, Exp1};

use super::lengths::{named_stream, Lengths};
use super::{LengthDistribution, RateProfile, Request, RequestSource, WorkloadError};
use crate::sim::rng::Stream;
use crate::sim::{SimDuration, SimTime, MICROS_PER_SEC};

/// Requests from a time-varying Poisson process, up to an end time.
#[derive(Debug, Clone)]
pub struct PoissonSource {
    profile: RateProfile,
    peak: f64,
    /// No arrival at or after this instant.
    end: SimTime,
    /// The last candidate drawn: candidates, and so arrivals, only move forward.
    clock: SimTime,
    arrivals: Stream,
    lengths: Lengths,
}

impl PoissonSource {
    /// A source of requests before `end`, drawing from the streams `arrivals`,
    /// `input_tokens` and `output_tokens` of `seed`, each prefixed with `name/` when the
    /// stream has a name (several streams mixed in one workload must not share draws).
    pub fn new(
        seed: u64,
        name: Option<&str>,
        profile: RateProfile,
        input: LengthDistribution,
        output: LengthDistribution,
        end: SimTime,
    ) -> Self {
        let end = profile.silent_from().map_or(end, |silent| end.min(silent));
        PoissonSource {
            peak: profile.peak(),
            profile,
            end,
            clock: SimTime::ZERO,
            arrivals: named_stream(seed, name, "arrivals"),
            lengths: Lengths::new(seed, name, input, output),
        }
    }
}

impl RequestSource for PoissonSource {
    fn next_request(&mut self) -> Result<Option<Request>, WorkloadError> {
        // `silent_from` ends the source where the rate is zero for good, so an all-zero
        // stretch inside the run costs rejected candidates but can never loop for ever.
        while self.clock < self.end && self.peak > 0.0 {
            // The gap to the next candidate, rounded half-up to whole microseconds once.
            let gap: f64 = Exp1.sample(&mut self.arrivals);
            let gap = SimDuration::from_micros_f64(gap * MICROS_PER_SEC as f64 / self.peak);
            self.clock = self.clock.saturating_add(gap);
            let keep: f64 = self.arrivals.random();
            if self.clock < self.end && keep * self.peak < self.profile.rate_at(self.clock) {
                return Ok(Some(self.lengths.request(self.clock)));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: SimDuration = SimDuration::from_secs(1);
    const MIN: SimDuration = SimDuration::from_secs(60);

    /// The point `d` after the start.
    fn at(d: SimDuration) -> SimTime {
        d.after_start()
    }

    fn source(seed: u64, name: Option<&str>, profile: RateProfile, end: SimTime) -> PoissonSource {
        PoissonSource::new(
            seed,
            name,
            profile,
            LengthDistribution::Uniform { min: 1, max: 4_000 },
            LengthDistribution::Uniform { min: 1, max: 500 },
            end,
        )
    }

    fn drain(mut s: impl RequestSource) -> Vec<Request> {
        let mut out = Vec::new();
        while let Some(r) = s.next_request().unwrap() {
            out.push(r);
        }
        out
    }

    /// The expected number of arrivals in `[0, end)`: the integral of the rate, by the
    /// midpoint rule on a one-second grid (exact for a piecewise-linear profile whose points
    /// sit on the grid, close enough for a smooth one).
    fn expected(profile: &RateProfile, end: SimTime) -> f64 {
        (0..end.since_start() / S)
            .map(|i| profile.rate_at(at(i * S + S / 2)))
            .sum()
    }

    fn assert_count_matches(profile: RateProfile, end: SimTime) {
        let n = drain(source(42, None, profile.clone(), end)).len() as f64;
        let mean = expected(&profile, end);
        // A Poisson count has variance equal to its mean.
        assert!(
            (n - mean).abs() < 4.0 * mean.sqrt(),
            "count {n}, expected {mean}"
        );
    }

    #[test]
    fn thinned_count_matches_the_integral_of_a_ramp_step_and_spike() {
        let profile = RateProfile::Points(vec![
            (SimTime::ZERO, 2.0),
            (at(10 * MIN), 2.0),
            (at(20 * MIN), 20.0),
            (at(30 * MIN), 20.0),
            (at(30 * MIN), 5.0),
            (at(45 * MIN), 5.0),
            (at(45 * MIN), 60.0),
            (at(47 * MIN), 60.0),
            (at(47 * MIN), 5.0),
            (at(80 * MIN), 0.5),
        ]);
        assert_count_matches(profile, at(120 * MIN));
    }

    #[test]
    fn thinned_count_matches_the_integral_of_a_daily_cycle() {
        let profile = RateProfile::Diurnal {
            peak: 3.0,
            trough_ratio: 0.1,
            peak_at: at(14 * 60 * MIN),
            period: 24 * 60 * MIN,
        };
        // Over a whole period the integral is the mean rate, peak · (1 + ratio) / 2, times it.
        let day = 24 * 60 * MIN;
        let closed_form = 3.0 * 0.55 * (day / S) as f64;
        assert!((expected(&profile, at(day)) - closed_form).abs() < 1e-6 * closed_form);
        assert_count_matches(profile, at(day));
    }

    #[test]
    fn constant_rate_gaps_average_one_over_the_rate() {
        let rate = 5.0;
        let requests = drain(source(7, None, RateProfile::Constant(rate), at(20_000 * S)));
        let n = requests.len() as f64;
        let mean_gap = requests.last().unwrap().arrival.as_secs_f64() / n;
        // Exponential gaps: the standard error of their mean is (1/rate) / sqrt(n).
        assert!(
            (mean_gap - 1.0 / rate).abs() < 4.0 / rate / n.sqrt(),
            "mean gap {mean_gap}"
        );
    }

    #[test]
    fn a_constant_rate_gives_poisson_counts_and_exponential_gaps() {
        let (rate, end) = (8.0, at(10_000 * S));
        let requests = drain(source(21, Some("steady"), RateProfile::Constant(rate), end));
        let n = requests.len() as f64;
        let mean = rate * 10_000.0;
        assert!(
            (n - mean).abs() < 4.0 * mean.sqrt(),
            "count {n}, expected {mean}"
        );
        // Exponential gaps have CV 1; the estimate's standard error is about 1/sqrt(n).
        let gaps: Vec<f64> = requests
            .windows(2)
            .map(|w| (w[1].arrival - w[0].arrival).as_micros() as f64)
            .collect();
        let m = gaps.iter().sum::<f64>() / gaps.len() as f64;
        let var = gaps.iter().map(|g| (g - m).powi(2)).sum::<f64>() / (gaps.len() - 1) as f64;
        let cv = var.sqrt() / m;
        assert!((cv - 1.0).abs() < 4.0 / n.sqrt(), "cv {cv}");
    }

    #[test]
    fn per_minute_counts_follow_the_profile() {
        let profile = RateProfile::Points(vec![
            (SimTime::ZERO, 1.0),
            (at(30 * MIN), 1.0),
            (at(60 * MIN), 10.0),
            (at(60 * MIN), 4.0),
            (at(90 * MIN), 4.0),
            (at(90 * MIN), 30.0),
            (at(95 * MIN), 30.0),
            (at(95 * MIN), 2.0),
        ]);
        let requests = drain(source(13, None, profile.clone(), at(120 * MIN)));
        let mut counts = [0_f64; 120];
        for r in &requests {
            counts[(r.arrival.since_start() / MIN) as usize] += 1.0;
        }
        for (minute, &n) in counts.iter().enumerate() {
            let from = at(minute as i64 * MIN);
            let mean: f64 = (0..60).map(|s| profile.rate_at(from + s * S + S / 2)).sum();
            // Each minute's count is Poisson: within 4.5 standard deviations, and the
            // profile's shape shows (a minute of the spike far above a minute before it).
            assert!(
                (n - mean).abs() < 4.5 * mean.sqrt() + 1.0,
                "minute {minute}: {n} vs {mean}"
            );
        }
        assert!(counts[92] > 5.0 * counts[85]);
        assert!(counts[55] > 5.0 * counts[5]);
    }

    #[test]
    fn arrivals_never_decrease_and_stay_before_the_end() {
        let profile = RateProfile::Points(vec![
            (SimTime::ZERO, 50.0),
            (at(60 * S), 0.0),
            (at(90 * S), 50.0),
        ]);
        let requests = drain(source(3, None, profile, at(120 * S)));
        assert!(requests.windows(2).all(|w| w[0].arrival <= w[1].arrival));
        assert!(requests
            .iter()
            .all(|r| (SimTime::ZERO..at(120 * S)).contains(&r.arrival)));
        assert!(requests
            .iter()
            .all(|r| r.input_tokens >= 1 && r.output_tokens >= 1));
    }

    #[test]
    fn a_rate_that_falls_to_zero_ends_the_source() {
        let profile = RateProfile::Points(vec![(SimTime::ZERO, 10.0), (at(60 * S), 0.0)]);
        let requests = drain(source(3, None, profile, SimTime::MAX));
        assert!(requests.last().unwrap().arrival < at(60 * S));
    }

    #[test]
    fn same_seed_same_requests_other_name_or_seed_other_requests() {
        let run = |seed, name| drain(source(seed, name, RateProfile::Constant(2.0), at(600 * S)));
        assert_eq!(run(1, None), run(1, None));
        assert_eq!(run(1, Some("chat")), run(1, Some("chat")));
        assert_ne!(run(1, None), run(1, Some("chat")));
        assert_ne!(run(1, Some("chat")), run(1, Some("batch")));
        assert_ne!(run(1, None), run(2, None));
    }

    #[test]
    fn lengths_do_not_move_arrivals() {
        let arrivals = |input| {
            let s = PoissonSource::new(
                9,
                None,
                RateProfile::Constant(2.0),
                input,
                LengthDistribution::Constant(10),
                at(600 * S),
            );
            drain(s).iter().map(|r| r.arrival).collect::<Vec<_>>()
        };
        assert_eq!(
            arrivals(LengthDistribution::Constant(100)),
            arrivals(LengthDistribution::Uniform { min: 1, max: 9 })
        );
    }
}
