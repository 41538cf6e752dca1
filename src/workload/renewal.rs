//! Synthetic requests from a renewal process: independent gaps between arrivals, from a
//! Gamma or Weibull distribution whose coefficient of variation (CV = standard deviation /
//! mean of the gaps) sets the burstiness. CV 1 is as bursty as Poisson (the Gamma case is
//! then exactly Poisson); CV 3 packs requests into bursts separated by long lulls, as
//! production traces do; CV below 1 is more regular than Poisson.
//!
//! The gaps have mean 1 in operational time, the expected number of arrivals under the
//! rate profile, and are mapped back to real time through the profile (see [`TimeWarp`]):
//! the profile sets the rate at every instant, the distribution the shape of the gaps. The
//! process is an ordinary renewal process: the first gap is drawn like the others.

use rand_distr::{Distribution, Gamma, Weibull};

use super::lengths::{named_stream, Lengths};
use super::warp::TimeWarp;
use super::{LengthDistribution, RateProfile, Request, RequestSource, WorkloadError};
use crate::sim::rng::Stream;
use crate::sim::SimTime;

/// The smallest and largest CV accepted: beyond them the shape parameters lose precision
/// (a Gamma shape of 1/CV² below 1/400), and no workload is that regular or that bursty.
pub const CV_RANGE: (f64, f64) = (0.05, 20.0);

/// Gaps between arrivals with mean 1 and a given coefficient of variation.
#[derive(Debug, Clone, PartialEq)]
pub enum InterArrival {
    /// Gamma with shape `1 / cv²` and scale `cv²`.
    Gamma(Gamma<f64>),
    /// Weibull with the shape `k` that solves `Γ(1 + 2/k) / Γ(1 + 1/k)² = 1 + cv²` and
    /// scale `1 / Γ(1 + 1/k)`.
    Weibull(Weibull<f64>),
}

/// A CV the gap distribution cannot be built with (outside [`CV_RANGE`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct GapError(String);

impl InterArrival {
    /// Gamma gaps with this CV (within [`CV_RANGE`]).
    pub fn gamma(cv: f64) -> Result<Self, GapError> {
        let shape = 1.0 / (cv * cv);
        Gamma::new(shape, cv * cv)
            .map(InterArrival::Gamma)
            .map_err(|e| GapError(e.to_string()))
    }

    /// Weibull gaps with this CV (within [`CV_RANGE`]).
    pub fn weibull(cv: f64) -> Result<Self, GapError> {
        let shape = weibull_shape(cv);
        Weibull::new((-ln_gamma(1.0 + 1.0 / shape)).exp(), shape)
            .map(InterArrival::Weibull)
            .map_err(|e| GapError(e.to_string()))
    }

    fn sample(&self, rng: &mut Stream) -> f64 {
        match self {
            InterArrival::Gamma(d) => d.sample(rng),
            InterArrival::Weibull(d) => d.sample(rng),
        }
    }
}

/// The Weibull shape `k` whose CV is `cv`: `CV(k)² = Γ(1 + 2/k) / Γ(1 + 1/k)² - 1` falls
/// as `k` grows, so a bisection on `ln k` over [0.05, 100] (CVs from about 0.013 to
/// 10⁵) finds it to full precision.
fn weibull_shape(cv: f64) -> f64 {
    let target = (1.0 + cv * cv).ln();
    let log_ratio = |k: f64| ln_gamma(1.0 + 2.0 / k) - 2.0 * ln_gamma(1.0 + 1.0 / k);
    let (mut low, mut high) = (0.05_f64.ln(), 100.0_f64.ln());
    for _ in 0..200 {
        let middle = 0.5 * (low + high);
        if log_ratio(middle.exp()) > target {
            low = middle;
        } else {
            high = middle;
        }
    }
    (0.5 * (low + high)).exp()
}

/// `ln Γ(x)` for `x >= 0.5` (Lanczos, g = 7, nine terms: about 15 significant digits).
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    const HALF_LN_TAU: f64 = 0.918_938_533_204_672_7;
    let x = x - 1.0;
    let sum = C[1..]
        .iter()
        .enumerate()
        .fold(C[0], |sum, (i, c)| sum + c / (x + i as f64 + 1.0));
    let t = x + G + 0.5;
    HALF_LN_TAU + (x + 0.5) * t.ln() - t + sum.ln()
}

/// Requests from a renewal process under a rate profile, up to an end time.
#[derive(Debug, Clone)]
pub struct RenewalSource {
    warp: TimeWarp,
    gaps: InterArrival,
    /// Operational time (expected arrivals since 0) of the last arrival.
    expected: f64,
    /// The last arrival.
    clock: SimTime,
    /// No arrival at or after this instant.
    end: SimTime,
    arrivals: Stream,
    lengths: Lengths,
}

impl RenewalSource {
    /// A source of requests before `end`, drawing from the streams `arrivals`,
    /// `input_tokens` and `output_tokens` of `seed` (prefixed with `name/` for a named
    /// stream).
    pub fn new(
        seed: u64,
        name: Option<&str>,
        profile: RateProfile,
        gaps: InterArrival,
        input: LengthDistribution,
        output: LengthDistribution,
        end: SimTime,
    ) -> Self {
        let end = profile.silent_from().map_or(end, |silent| end.min(silent));
        RenewalSource {
            warp: TimeWarp::new(profile),
            gaps,
            expected: 0.0,
            clock: SimTime::ZERO,
            end,
            arrivals: named_stream(seed, name, "arrivals"),
            lengths: Lengths::new(seed, name, input, output),
        }
    }
}

impl RequestSource for RenewalSource {
    fn next_request(&mut self) -> Result<Option<Request>, WorkloadError> {
        if self.clock >= self.end {
            return Ok(None);
        }
        let target = self.expected + self.gaps.sample(&mut self.arrivals);
        match self.warp.reach(target, self.clock, self.end) {
            Some(arrival) if arrival < self.end => {
                self.expected = target;
                self.clock = arrival;
                Ok(Some(self.lengths.request(arrival)))
            }
            _ => {
                self.clock = self.end;
                Ok(None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::SimDuration;

    const S: SimDuration = SimDuration::from_secs(1);
    const MIN: SimDuration = SimDuration::from_secs(60);

    /// The point `d` after the start.
    fn at(d: SimDuration) -> SimTime {
        d.after_start()
    }

    fn arrivals(profile: RateProfile, gaps: InterArrival, end: SimTime) -> Vec<SimTime> {
        let mut source = RenewalSource::new(
            11,
            Some("bursty"),
            profile,
            gaps,
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

    /// Mean (in seconds) and CV of the gaps between arrivals.
    fn gap_stats(arrivals: &[SimTime]) -> (f64, f64) {
        let gaps: Vec<f64> = arrivals
            .windows(2)
            .map(|w| (w[1] - w[0]).as_secs_f64())
            .collect();
        let n = gaps.len() as f64;
        let mean = gaps.iter().sum::<f64>() / n;
        let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (mean, var.sqrt() / mean)
    }

    #[test]
    fn ln_gamma_matches_known_values() {
        let pi = std::f64::consts::PI;
        for (x, expected) in [
            (1.0, 0.0),
            (2.0, 0.0),
            (5.0, 24.0_f64.ln()),
            (0.5, pi.sqrt().ln()),
            (1.5, (pi.sqrt() / 2.0).ln()),
            (21.0, 42.335_616_460_753_485),
        ] {
            assert!(
                (ln_gamma(x) - expected).abs() < 1e-12,
                "{x}: {}",
                ln_gamma(x)
            );
        }
    }

    #[test]
    fn weibull_shape_gives_the_cv_asked_for() {
        // CV 1 is the exponential distribution, shape 1.
        assert!((weibull_shape(1.0) - 1.0).abs() < 1e-9);
        for cv in [CV_RANGE.0, 0.5, 2.0, 3.0, CV_RANGE.1] {
            let k = weibull_shape(cv);
            let ratio = (ln_gamma(1.0 + 2.0 / k) - 2.0 * ln_gamma(1.0 + 1.0 / k)).exp();
            assert!(
                ((ratio - 1.0).sqrt() / cv - 1.0).abs() < 1e-9,
                "cv {cv}: k {k}"
            );
        }
    }

    #[test]
    fn gamma_and_weibull_streams_hit_their_rate_and_cv() {
        let rate = 5.0;
        for cv in [0.5, 3.0] {
            for gaps in [InterArrival::gamma(cv), InterArrival::weibull(cv)] {
                let gaps = gaps.unwrap();
                let requests = arrivals(RateProfile::Constant(rate), gaps.clone(), at(40_000 * S));
                let (mean, measured) = gap_stats(&requests);
                assert!(
                    (mean * rate - 1.0).abs() < 0.03,
                    "{gaps:?}: mean gap {mean}"
                );
                assert!(
                    (measured / cv - 1.0).abs() < 0.10,
                    "{gaps:?}: cv {measured}, asked {cv}"
                );
            }
        }
    }

    #[test]
    fn a_gamma_stream_with_cv_one_is_poisson() {
        let requests = arrivals(
            RateProfile::Constant(10.0),
            InterArrival::gamma(1.0).unwrap(),
            at(10_000 * S),
        );
        let n = requests.len() as f64;
        assert!((n - 100_000.0).abs() < 4.0 * 100_000_f64.sqrt(), "{n}");
        let (_, cv) = gap_stats(&requests);
        assert!((cv - 1.0).abs() < 0.02, "cv {cv}");
    }

    #[test]
    fn under_a_profile_per_minute_counts_follow_the_rate() {
        let profile = RateProfile::Points(vec![
            (SimTime::ZERO, 2.0),
            (at(20 * MIN), 2.0),
            (at(40 * MIN), 20.0),
            (at(40 * MIN), 8.0),
            (at(60 * MIN), 8.0),
        ]);
        let warp = TimeWarp::new(profile.clone());
        let requests = arrivals(profile, InterArrival::gamma(2.0).unwrap(), at(60 * MIN));
        let mut counts = [0_f64; 60];
        for t in &requests {
            counts[(t.since_start() / MIN) as usize] += 1.0;
        }
        // The count over a minute varies more than Poisson's (about cv² times): compare
        // ten-minute sums, each within 4 standard deviations.
        for ten in 0..6 {
            let n: f64 = counts[ten * 10..ten * 10 + 10].iter().sum();
            let from = at(ten as i64 * 10 * MIN);
            let mean = warp.expected(from + 10 * MIN) - warp.expected(from);
            assert!(
                (n - mean).abs() < 4.0 * (4.0 * mean).sqrt(),
                "minutes {}..: {n} vs {mean}",
                ten * 10
            );
        }
    }

    #[test]
    fn arrivals_stay_before_the_end_and_the_seed_decides_them() {
        let run = || {
            arrivals(
                RateProfile::Constant(3.0),
                InterArrival::weibull(2.0).unwrap(),
                at(600 * S),
            )
        };
        let requests = run();
        assert!(requests.windows(2).all(|w| w[0] <= w[1]));
        assert!(requests
            .iter()
            .all(|&t| (SimTime::ZERO..at(600 * S)).contains(&t)));
        assert_eq!(requests, run());
        let silent = RateProfile::Points(vec![(SimTime::ZERO, 5.0), (at(60 * S), 0.0)]);
        let ended = arrivals(silent, InterArrival::gamma(2.0).unwrap(), SimTime::MAX);
        assert!(ended.last().is_some_and(|&t| t < at(60 * S)));
    }
}
