//! Samples for percentiles with bounded memory: exact while there are at most
//! [`EXACT_CAP`] of them (percentiles then equal numpy's linear interpolation), and beyond
//! that a logarithmic histogram whose every percentile is within [`RELATIVE_ERROR`] of the
//! exact value — so a week of 27 M requests keeps a few kilobytes per metric, not 200 MB.

/// Samples kept exactly before switching to the histogram.
pub const EXACT_CAP: usize = 1 << 20;
/// Relative error of a percentile once the histogram is in use.
pub const RELATIVE_ERROR: f64 = 0.001;

/// Sub-buckets per power of two: a bucket spans 1/512 of its octave, and its midpoint is
/// within 1/1024 (< `RELATIVE_ERROR`) of every value in it. The index comes straight from
/// the float's exponent and top mantissa bits — no logarithm per sample.
const SUB_BITS: u32 = 9;

fn bucket(v: f64) -> i32 {
    (v.to_bits() >> (52 - SUB_BITS)) as i32
}

fn midpoint(i: i32) -> f64 {
    let lower = f64::from_bits((i as u64) << (52 - SUB_BITS));
    let octave = f64::from_bits(((i as u64) >> SUB_BITS) << 52);
    lower + octave / f64::from(1u32 << (SUB_BITS + 1))
}

#[derive(Debug, Clone, Default, PartialEq)]
struct LogHistogram {
    /// Counts of buckets `offset..offset + counts.len()`, for values > 0; the range grows
    /// to cover what comes (a few thousand buckets for latencies from µs to hours).
    counts: Vec<u64>,
    offset: i32,
    /// Values <= 0 (a zero queueing time is common).
    zeros: u64,
}

impl LogHistogram {
    fn add(&mut self, v: f64) {
        if v <= 0.0 {
            self.zeros += 1;
        } else {
            let i = bucket(v);
            if self.counts.is_empty() {
                self.offset = i;
            }
            if i < self.offset {
                let grow = (self.offset - i) as usize;
                self.counts.splice(0..0, std::iter::repeat_n(0, grow));
                self.offset = i;
            }
            let at = (i - self.offset) as usize;
            if at >= self.counts.len() {
                self.counts.resize(at + 1, 0);
            }
            self.counts[at] += 1;
        }
    }

    /// The value of 0-based rank `k`.
    fn at_rank(&self, k: u64) -> f64 {
        if k < self.zeros {
            return 0.0;
        }
        let mut seen = self.zeros;
        let mut last = None;
        for (at, &c) in self.counts.iter().enumerate() {
            if c == 0 {
                continue;
            }
            let i = self.offset + at as i32;
            seen += c;
            if k < seen {
                return midpoint(i);
            }
            last = Some(i);
        }
        last.map_or(0.0, midpoint)
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

/// Exact percentiles of whole numbers (token lengths) from their counts, with linear
/// interpolation between closest ranks as numpy: memory grows with the distinct values, not
/// with the samples, so a trace of millions of rows or a week-long run costs a few thousand
/// entries. Shared by `trace stats` and a run's token medians.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CountedValues {
    counts: std::collections::BTreeMap<u32, u64>,
    n: u64,
    sum: f64,
}

impl CountedValues {
    pub fn add(&mut self, v: u32) {
        *self.counts.entry(v).or_insert(0) += 1;
        self.n += 1;
        self.sum += f64::from(v);
    }

    pub fn len(&self) -> u64 {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    pub fn min(&self) -> Option<u32> {
        self.counts.keys().next().copied()
    }

    pub fn max(&self) -> Option<u32> {
        self.counts.keys().next_back().copied()
    }

    pub fn sum(&self) -> f64 {
        self.sum
    }

    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sum / self.n as f64)
    }

    /// The value of 0-based rank `r`.
    fn at_rank(&self, r: u64) -> f64 {
        let mut seen = 0;
        for (&v, &c) in &self.counts {
            seen += c;
            if r < seen {
                return f64::from(v);
            }
        }
        self.max().map_or(0.0, f64::from)
    }

    /// The `q` quantile (0..=1), as numpy's default.
    pub fn percentile(&self, q: f64) -> Option<f64> {
        if self.n == 0 {
            return None;
        }
        let h = (self.n - 1) as f64 * q;
        let lo = h.floor() as u64;
        let (a, b) = (self.at_rank(lo), self.at_rank((lo + 1).min(self.n - 1)));
        Some(a + (h - lo as f64) * (b - a))
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
