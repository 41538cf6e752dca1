//! Pod startup time: from creation to ready. A constant, a distribution, or a sum of phases
//! (scheduling, image pull, weight load, engine warm-up), drawn from the `startup` stream.

use rand::RngExt;
use rand_distr::{Distribution, LogNormal};

use crate::sim::rng::Stream;
use crate::sim::time::round_micros;
use crate::sim::SimTime;

/// The 99th percentile of the standard normal distribution.
pub const Z99: f64 = 2.326_347_874_040_840_8;

#[derive(Debug, Clone, PartialEq)]
pub enum Startup {
    Constant(SimTime),
    /// `ln` of the duration in µs is normal with these parameters.
    Lognormal {
        mu: f64,
        sigma: f64,
    },
    Uniform {
        min: SimTime,
        max: SimTime,
    },
    Empirical(Vec<SimTime>),
    Phases(Vec<(String, Startup)>),
}

impl Startup {
    /// A lognormal with the given median and 99th percentile (`p99 >= median > 0`).
    pub fn lognormal(median: SimTime, p99: SimTime) -> Startup {
        let mu = (median as f64).ln();
        let sigma = ((p99 as f64).ln() - mu) / Z99;
        Startup::Lognormal { mu, sigma }
    }

    /// One draw.
    pub fn sample(&self, rng: &mut Stream) -> SimTime {
        match self {
            Startup::Constant(d) => *d,
            Startup::Lognormal { mu, sigma } => match LogNormal::new(*mu, *sigma) {
                Ok(d) => round_micros(d.sample(rng)),
                Err(_) => round_micros(mu.exp()),
            },
            Startup::Uniform { min, max } => {
                if max <= min {
                    *min
                } else {
                    rng.random_range(*min..=*max)
                }
            }
            Startup::Empirical(v) => {
                if v.is_empty() {
                    0
                } else {
                    v[rng.random_range(0..v.len())]
                }
            }
            Startup::Phases(p) => p
                .iter()
                .fold(0, |t: SimTime, (_, s)| t.saturating_add(s.sample(rng))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::stream;

    #[test]
    fn absurd_startups_saturate_instead_of_overflowing() {
        // p99 of 100 years over a median of 1 µs: draws beyond i64 saturate, and so do sums.
        let huge = Startup::lognormal(1, 3_153_600_000_000_000);
        let s = Startup::Phases(vec![("a".into(), huge.clone()), ("b".into(), huge)]);
        let mut rng = stream(1, "startup");
        for _ in 0..1000 {
            assert!(s.sample(&mut rng) >= 0);
        }
        let max = Startup::Phases(vec![
            ("a".into(), Startup::Constant(SimTime::MAX)),
            ("b".into(), Startup::Constant(SimTime::MAX)),
        ]);
        assert_eq!(max.sample(&mut rng), SimTime::MAX);
    }

    #[test]
    fn lognormal_hits_its_median_and_p99() {
        let s = Startup::lognormal(120_000_000, 360_000_000);
        let mut rng = stream(1, "startup");
        let mut v: Vec<SimTime> = (0..20_000).map(|_| s.sample(&mut rng)).collect();
        v.sort();
        let median = v[v.len() / 2] as f64;
        let p99 = v[v.len() * 99 / 100] as f64;
        assert!((median / 120e6 - 1.0).abs() < 0.03, "median {median}");
        assert!((p99 / 360e6 - 1.0).abs() < 0.08, "p99 {p99}");
    }

    #[test]
    fn phases_add_up() {
        let s = Startup::Phases(vec![
            ("pull".into(), Startup::Constant(5)),
            ("load".into(), Startup::Uniform { min: 10, max: 10 }),
        ]);
        assert_eq!(s.sample(&mut stream(1, "startup")), 15);
    }
}
