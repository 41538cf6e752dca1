//! Samples for percentiles with bounded memory: exact while there are at most
//! [`EXACT_CAP`] of them (percentiles then equal numpy's linear interpolation), and beyond
//! that a logarithmic histogram whose every percentile is within [`RELATIVE_ERROR`] of the
//! exact value — so a week of 27 M requests keeps a few kilobytes per metric, not 200 MB.

use std::collections::BTreeMap;

/// Samples kept exactly before switching to the histogram.
pub const EXACT_CAP: usize = 1 << 20;
/// Relative error of a percentile once the histogram is in use.
pub const RELATIVE_ERROR: f64 = 0.001;

/// The histogram's bucket ratio: a value in bucket `i` lies in `(γ^(i-1), γ^i]`, and the
/// bucket is reported as `2γ^i / (γ + 1)`, within `RELATIVE_ERROR` of every value in it.
fn gamma() -> f64 {
    (1.0 + RELATIVE_ERROR) / (1.0 - RELATIVE_ERROR)
}

#[derive(Debug, Clone, Default, PartialEq)]
struct LogHistogram {
    /// Bucket index → count, for values > 0.
    buckets: BTreeMap<i32, u64>,
    /// Values <= 0 (a zero queueing time is common).
    zeros: u64,
}

impl LogHistogram {
    fn add(&mut self, v: f64) {
        if v <= 0.0 {
            self.zeros += 1;
        } else {
            let i = (v.ln() / gamma().ln()).ceil() as i32;
            *self.buckets.entry(i).or_insert(0) += 1;
        }
    }

    /// The value of 0-based rank `k`.
    fn at_rank(&self, k: u64) -> f64 {
        if k < self.zeros {
            return 0.0;
        }
        let mut seen = self.zeros;
        let g = gamma();
        for (&i, &c) in &self.buckets {
            seen += c;
            if k < seen {
                return 2.0 * g.powi(i) / (g + 1.0);
            }
        }
        self.buckets
            .keys()
            .next_back()
            .map_or(0.0, |&i| 2.0 * g.powi(i) / (g + 1.0))
    }
}

/// A metric's samples: count, mean, max and percentiles.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Samples {
    exact: Vec<f64>,
    histogram: Option<LogHistogram>,
    count: u64,
    sum: f64,
    max: f64,
}

impl Samples {
    pub fn push(&mut self, v: f64) {
        self.count += 1;
        self.sum += v;
        self.max = if self.count == 1 { v } else { self.max.max(v) };
        match &mut self.histogram {
            Some(h) => h.add(v),
            None if self.exact.len() < EXACT_CAP => self.exact.push(v),
            None => {
                let mut h = LogHistogram::default();
                for &x in &self.exact {
                    h.add(x);
                }
                h.add(v);
                self.exact = Vec::new();
                self.histogram = Some(h);
            }
        }
    }

    pub fn len(&self) -> u64 {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum / self.count as f64)
    }

    pub fn max(&self) -> Option<f64> {
        (self.count > 0).then_some(self.max)
    }

    /// Whether percentiles are exact (no histogram yet).
    pub fn is_exact(&self) -> bool {
        self.histogram.is_none()
    }

    /// The `q` quantile (0..=1) by linear interpolation between closest ranks, as numpy.
    pub fn percentile(&self, q: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let h = (self.count - 1) as f64 * q;
        let lo = h.floor() as u64;
        let hi = (lo + 1).min(self.count - 1);
        let (a, b) = match &self.histogram {
            None => {
                let mut v = self.exact.clone();
                v.sort_by(f64::total_cmp);
                (v[lo as usize], v[hi as usize])
            }
            Some(hist) => (hist.at_rank(lo), hist.at_rank(hi)),
        };
        Some(a + (h - lo as f64) * (b - a))
    }

    /// Several quantiles with one sort.
    pub fn percentiles(&self, qs: &[f64]) -> Vec<Option<f64>> {
        if self.count == 0 {
            return vec![None; qs.len()];
        }
        match &self.histogram {
            Some(_) => qs.iter().map(|&q| self.percentile(q)).collect(),
            None => {
                let mut v = self.exact.clone();
                v.sort_by(f64::total_cmp);
                qs.iter()
                    .map(|&q| {
                        let h = (v.len() - 1) as f64 * q;
                        let lo = h.floor() as usize;
                        let hi = (lo + 1).min(v.len() - 1);
                        Some(v[lo] + (h - lo as f64) * (v[hi] - v[lo]))
                    })
                    .collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn exact_percentiles_are_numpys() {
        let mut s = Samples::default();
        for v in [1.0, 2.0, 3.0, 4.0] {
            s.push(v);
        }
        assert_eq!(s.percentile(0.5), Some(2.5));
        assert_eq!(s.percentile(0.9), Some(3.7));
        assert_eq!(s.percentiles(&[0.5, 0.9]), vec![Some(2.5), Some(3.7)]);
        assert_eq!((s.len(), s.mean(), s.max()), (4, Some(2.5), Some(4.0)));
        assert_eq!(Samples::default().percentile(0.5), None);
    }

    #[test]
    fn beyond_the_cap_percentiles_stay_within_the_error_bound() {
        let mut s = Samples::default();
        let mut all = Vec::new();
        let mut rng = crate::sim::rng::stream(3, "sketch");
        for _ in 0..EXACT_CAP + 200_000 {
            // Lognormal-ish latencies from 1 ms to minutes, and some zeros.
            let v = if rng.random_range(0..20) == 0 {
                0.0
            } else {
                (rng.random::<f64>() * 12.0).exp() * 1_000.0
            };
            s.push(v);
            all.push(v);
        }
        assert!(!s.is_exact());
        all.sort_by(f64::total_cmp);
        for q in [0.01, 0.5, 0.9, 0.99, 0.999] {
            let h = (all.len() - 1) as f64 * q;
            let lo = h.floor() as usize;
            let exact = all[lo] + (h - lo as f64) * (all[lo + 1] - all[lo]);
            let got = s.percentile(q).unwrap();
            assert!(
                (got - exact).abs() <= RELATIVE_ERROR * exact + 1e-9,
                "q {q}: {got} vs {exact}"
            );
        }
        assert_eq!(s.max(), all.last().copied());
    }
}
