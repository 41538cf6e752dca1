//! Token-length distributions for synthetic requests. Every draw is rounded half-up to a
//! whole token and clipped to at least 1: a request always has a prompt and always produces
//! a token, which is what the server model assumes.

use std::sync::Arc;

use rand::{Rng, RngExt};
use rand_distr::{Distribution, LogNormal, Normal};

use super::Request;
use crate::sim::rng::{stream, Stream};
use crate::sim::SimTime;

/// The 99th percentile of the standard normal distribution: a lognormal given by its median
/// and 99th percentile has `sigma = ln(p99 / median) / Z99`.
pub const Z99: f64 = 2.326_347_874_040_841;

/// A validated token-length distribution.
#[derive(Debug, Clone, PartialEq)]
pub enum LengthDistribution {
    /// Always this many tokens.
    Constant(u32),
    /// Uniform over whole numbers in `min..=max`.
    Uniform { min: u32, max: u32 },
    /// Normal, rounded and clipped (clipping at 1 raises the mean when the left tail is wide).
    Normal(Normal<f64>),
    /// Lognormal, rounded and clipped.
    LogNormal(LogNormal<f64>),
    /// Lengths drawn uniformly, with replacement, from lengths read from a trace.
    Empirical(EmpiricalLengths),
}

/// A non-empty list of lengths to draw from, shared by the clones of a distribution.
#[derive(Debug, Clone, PartialEq)]
pub struct EmpiricalLengths(Arc<[u32]>);

impl EmpiricalLengths {
    /// `None` when there is nothing to draw from.
    pub fn new(lengths: Vec<u32>) -> Option<Self> {
        (!lengths.is_empty()).then(|| EmpiricalLengths(lengths.into()))
    }
}

impl LengthDistribution {
    /// One length. `Constant` draws nothing, so it leaves the stream where it was.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> u32 {
        match self {
            LengthDistribution::Constant(n) => (*n).max(1),
            LengthDistribution::Uniform { min, max } => rng.random_range(*min..=*max).max(1),
            LengthDistribution::Normal(d) => whole_tokens(d.sample(rng)),
            LengthDistribution::LogNormal(d) => whole_tokens(d.sample(rng)),
            LengthDistribution::Empirical(EmpiricalLengths(lengths)) => {
                let i = rng.random_range(0..lengths.len());
                lengths.get(i).map_or(1, |&n| n.max(1))
            }
        }
    }
}

/// The random stream `consumer` of a synthetic stream: `consumer` itself for an unnamed
/// stream, `name/consumer` for a named one, so that streams mixed in one workload never
/// share draws.
pub(super) fn named_stream(seed: u64, name: Option<&str>, consumer: &str) -> Stream {
    match name {
        Some(name) => stream(seed, &format!("{name}/{consumer}")),
        None => stream(seed, consumer),
    }
}

/// The prompt and output lengths of a synthetic stream, each drawn from its own random
/// stream (`input_tokens`, `output_tokens`), so that changing one distribution leaves the
/// other lengths, and the arrivals, as they were.
#[derive(Debug, Clone)]
pub(super) struct Lengths {
    input: (LengthDistribution, Stream),
    output: (LengthDistribution, Stream),
}

impl Lengths {
    pub fn new(
        seed: u64,
        name: Option<&str>,
        input: LengthDistribution,
        output: LengthDistribution,
    ) -> Self {
        Lengths {
            input: (input, named_stream(seed, name, "input_tokens")),
            output: (output, named_stream(seed, name, "output_tokens")),
        }
    }

    /// A request arriving at `arrival`, its lengths drawn.
    pub fn request(&mut self, arrival: SimTime) -> Request {
        Request {
            arrival,
            input_tokens: self.input.0.sample(&mut self.input.1),
            output_tokens: self.output.0.sample(&mut self.output.1),
        }
    }
}

/// Rounds half-up to a whole number of tokens in `1..=u32::MAX` (`as` saturates).
fn whole_tokens(x: f64) -> u32 {
    ((x + 0.5).floor() as u32).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::stream;

    fn draws(d: &LengthDistribution, n: usize) -> Vec<u32> {
        let mut rng = stream(1, "input_tokens");
        let mut v: Vec<u32> = (0..n).map(|_| d.sample(&mut rng)).collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn lognormal_by_median_and_p99_has_those_quantiles() {
        let (median, p99) = (800.0_f64, 6_000.0_f64);
        let sigma = (p99 / median).ln() / Z99;
        let d = LengthDistribution::LogNormal(LogNormal::new(median.ln(), sigma).unwrap());
        let v = draws(&d, 200_000);
        let q = |p: f64| f64::from(v[(p * v.len() as f64) as usize]);
        // Standard errors of these quantiles are about 0.25% and 0.7%: allow four of them.
        assert!((q(0.5) / median - 1.0).abs() < 0.01, "p50 {}", q(0.5));
        assert!((q(0.99) / p99 - 1.0).abs() < 0.03, "p99 {}", q(0.99));
    }

    #[test]
    fn lengths_are_whole_and_at_least_one() {
        let normal = LengthDistribution::Normal(Normal::new(2.0, 5.0).unwrap());
        let v = draws(&normal, 10_000);
        assert_eq!(v[0], 1);
        assert!(v.iter().filter(|&&x| x == 1).count() > 3_000);
        assert_eq!(whole_tokens(2.5), 3);
        assert_eq!(whole_tokens(2.4999), 2);
        assert_eq!(whole_tokens(f64::NAN), 1);
        assert_eq!(whole_tokens(1e12), u32::MAX);
        assert_eq!(draws(&LengthDistribution::Constant(0), 1), vec![1]);
    }

    #[test]
    fn empirical_draws_only_the_lengths_given_and_each_about_equally() {
        let d = LengthDistribution::Empirical(EmpiricalLengths::new(vec![5, 0, 900]).unwrap());
        let v = draws(&d, 30_000);
        let count = |n| v.iter().filter(|&&x| x == n).count();
        // A 0 read from a trace is drawn as 1 token.
        assert_eq!(count(1) + count(5) + count(900), v.len());
        for n in [1, 5, 900] {
            assert!((count(n) as i64 - 10_000).abs() < 400, "{n}: {}", count(n));
        }
        assert_eq!(EmpiricalLengths::new(vec![]), None);
    }

    #[test]
    fn uniform_covers_both_ends() {
        let v = draws(&LengthDistribution::Uniform { min: 3, max: 5 }, 1_000);
        assert_eq!((v[0], v[v.len() - 1]), (3, 5));
    }
}
