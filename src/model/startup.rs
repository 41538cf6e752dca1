//! Pod startup time: from creation to ready. A constant, a distribution, or a sum of phases
//! (scheduling, image pull, weight load, engine warm-up), drawn from the `startup` stream.

use rand::RngExt;
use rand_distr::{Distribution, LogNormal};

use crate::sim::rng::Stream;
use crate::sim::SimDuration;

/// The 99th percentile of the standard normal distribution.
pub const Z99: f64 = 2.326_347_874_040_840_8;

#[derive(Debug, Clone, PartialEq)]
pub enum Startup {
    Constant(SimDuration),
    /// `ln` of the duration in µs is normal with these parameters.
    Lognormal {
        mu: f64,
        sigma: f64,
    },
    Uniform {
        min: SimDuration,
        max: SimDuration,
    },
    Empirical(Vec<SimDuration>),
    Phases(Vec<(String, Startup)>),
}

impl Startup {
    /// A lognormal with the given median and 99th percentile (`p99 >= median > 0`).
    pub fn lognormal(median: SimDuration, p99: SimDuration) -> Startup {
        let mu = (median.as_micros() as f64).ln();
        let sigma = ((p99.as_micros() as f64).ln() - mu) / Z99;
        Startup::Lognormal { mu, sigma }
    }

    /// One draw.
    pub fn sample(&self, rng: &mut Stream) -> SimDuration {
        match self {
            Startup::Constant(d) => *d,
            Startup::Lognormal { mu, sigma } => match LogNormal::new(*mu, *sigma) {
                Ok(d) => SimDuration::from_micros_f64(d.sample(rng)),
                Err(_) => SimDuration::from_micros_f64(mu.exp()),
            },
            Startup::Uniform { min, max } => {
                if max <= min {
                    *min
                } else {
                    SimDuration::from_micros(rng.random_range(min.as_micros()..=max.as_micros()))
                }
            }
            Startup::Empirical(v) => {
                if v.is_empty() {
                    SimDuration::ZERO
                } else {
                    v[rng.random_range(0..v.len())]
                }
            }
            Startup::Phases(p) => p.iter().fold(SimDuration::ZERO, |t, (_, s)| {
                t.saturating_add(s.sample(rng))
            }),
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
        let us = SimDuration::from_micros;
        let huge = Startup::lognormal(us(1), us(3_153_600_000_000_000));
        let s = Startup::Phases(vec![("a".into(), huge.clone()), ("b".into(), huge)]);
        let mut rng = stream(1, "startup");
        for _ in 0..1000 {
            assert!(s.sample(&mut rng) >= SimDuration::ZERO);
        }
        let max = Startup::Phases(vec![
            ("a".into(), Startup::Constant(SimDuration::MAX)),
            ("b".into(), Startup::Constant(SimDuration::MAX)),
        ]);
        assert_eq!(max.sample(&mut rng), SimDuration::MAX);
    }

    #[test]
    fn lognormal_hits_its_median_and_p99() {
        let s = Startup::lognormal(SimDuration::from_secs(120), SimDuration::from_secs(360));
        let mut rng = stream(1, "startup");
        let mut v: Vec<SimDuration> = (0..20_000).map(|_| s.sample(&mut rng)).collect();
        v.sort();
        let median = v[v.len() / 2].as_micros() as f64;
        let p99 = v[v.len() * 99 / 100].as_micros() as f64;
        assert!((median / 120e6 - 1.0).abs() < 0.03, "median {median}");
        assert!((p99 / 360e6 - 1.0).abs() < 0.08, "p99 {p99}");
    }

    #[test]
    fn phases_add_up() {
        let us = SimDuration::from_micros;
        let s = Startup::Phases(vec![
            ("pull".into(), Startup::Constant(us(5))),
            (
                "load".into(),
                Startup::Uniform {
                    min: us(10),
                    max: us(10),
                },
            ),
        ]);
        assert_eq!(s.sample(&mut stream(1, "startup")), us(15));
    }
}
