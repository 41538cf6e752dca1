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
        // Nearly every sample falls in a bucket already in range.
        let at = bucket(v).wrapping_sub(self.offset) as usize;
        if v > 0.0 && at < self.counts.len() {
            self.counts[at] += 1;
            return;
        }
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
        self.percentiles(&[q])[0]
    }

    /// Several quantiles; while exact, by selecting the ranks they need (linear in the
    /// samples, where sorting them all is not: this runs for every minute of a run).
    pub fn percentiles(&self, qs: &[f64]) -> Vec<Option<f64>> {
        if self.count == 0 {
            return vec![None; qs.len()];
        }
        let n = self.count;
        // The two closest ranks of each quantile, and its weight between them.
        let ranks: Vec<(u64, u64, f64)> = (qs.iter())
            .map(|&q| {
                let h = (n - 1) as f64 * q;
                let lo = h.floor() as u64;
                (lo, (lo + 1).min(n - 1), h - lo as f64)
            })
            .collect();
        let values: Vec<f64> = match &self.histogram {
            Some(hist) => (ranks.iter())
                .flat_map(|&(lo, hi, _)| [hist.at_rank(lo), hist.at_rank(hi)])
                .collect(),
            None => {
                let wanted: Vec<usize> = (ranks.iter())
                    .flat_map(|&(lo, hi, _)| [lo as usize, hi as usize])
                    .collect();
                let at = select_ranks(self.exact.clone(), &wanted);
                wanted.iter().map(|&r| at(r)).collect()
            }
        };
        (ranks.iter().zip(values.chunks(2)))
            .map(|(&(_, _, w), ab)| Some(ab[0] + w * (ab[1] - ab[0])))
            .collect()
    }
}

/// The values of ranks `wanted` of `v` in increasing order (`f64::total_cmp`), as sorting
/// `v` would place them: each rank is selected in the part of `v` after the previous one.
/// Returns a lookup by rank (of the ranks wanted).
fn select_ranks(mut v: Vec<f64>, wanted: &[usize]) -> impl Fn(usize) -> f64 {
    let mut order: Vec<usize> = wanted.to_vec();
    order.sort_unstable();
    order.dedup();
    let mut found: Vec<(usize, f64)> = Vec::with_capacity(order.len());
    let mut from = 0;
    for &r in &order {
        if r >= from {
            let (_, &mut x, _) = v[from..].select_nth_unstable_by(r - from, f64::total_cmp);
            found.push((r, x));
            from = r + 1;
        }
    }
    move |r| {
        let i = found.partition_point(|&(k, _)| k < r);
        found[i].1
    }
}

/// Exact percentiles of whole numbers (token lengths) from their counts, with linear
/// interpolation between closest ranks as numpy: memory grows with the distinct values, not
/// with the samples, so a trace of millions of rows or a week-long run costs a few thousand
/// entries. Shared by `trace stats` and a run's token medians.
///
/// Values below [`DENSE_VALUES`] (every token length in practice) are counted in a vector
/// indexed by value — one add per request in the event loop, where a tree costs a search;
/// the rare larger ones in a tree.
#[derive(Debug, Clone, Default)]
pub struct CountedValues {
    /// Counts of the values `0..dense.len()`; grows to the largest value seen.
    dense: Vec<u64>,
    sparse: std::collections::BTreeMap<u32, u64>,
    n: u64,
    sum: f64,
}

/// Values counted by index in [`CountedValues`]: 512 KB at most.
const DENSE_VALUES: u32 = 1 << 16;

impl PartialEq for CountedValues {
    /// The same values counted, however the vector grew.
    fn eq(&self, other: &Self) -> bool {
        let used = |d: &[u64]| d.len() - d.iter().rev().take_while(|&&c| c == 0).count();
        let (a, b) = (used(&self.dense), used(&other.dense));
        self.dense[..a] == other.dense[..b]
            && self.sparse == other.sparse
            && self.n == other.n
            && self.sum == other.sum
    }
}

impl CountedValues {
    pub fn add(&mut self, v: u32) {
        if v < DENSE_VALUES {
            let i = v as usize;
            if i >= self.dense.len() {
                self.dense.resize(i + 1, 0);
            }
            self.dense[i] += 1;
        } else {
            *self.sparse.entry(v).or_insert(0) += 1;
        }
        self.n += 1;
        self.sum += f64::from(v);
    }

    pub fn len(&self) -> u64 {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The distinct values and their counts, in increasing order.
    fn counts(&self) -> impl DoubleEndedIterator<Item = (u32, u64)> + '_ {
        let dense = (self.dense.iter().enumerate())
            .filter(|(_, &c)| c > 0)
            .map(|(v, &c)| (v as u32, c));
        dense.chain(self.sparse.iter().map(|(&v, &c)| (v, c)))
    }

    pub fn min(&self) -> Option<u32> {
        self.counts().next().map(|(v, _)| v)
    }

    pub fn max(&self) -> Option<u32> {
        self.counts().next_back().map(|(v, _)| v)
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
        for (v, c) in self.counts() {
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
    fn counted_values_mix_small_and_large_values_in_order() {
        let mut c = CountedValues::default();
        for v in [70_000, 3, 3, 1 << 16, 65_535, 0, u32::MAX] {
            c.add(v);
        }
        assert_eq!((c.min(), c.max(), c.len()), (Some(0), Some(u32::MAX), 7));
        // Ranks 0..7: 0, 3, 3, 65535, 65536, 70000, MAX.
        assert_eq!(c.percentile(0.5), Some(65_535.0));
        assert_eq!(c.percentile(4.0 / 6.0), Some(65_536.0));
        assert_eq!(c.percentile(0.75), Some(67_768.0));
        let mut d = CountedValues::default();
        for v in [u32::MAX, 0, 65_535, 1 << 16, 3, 3, 70_000] {
            d.add(v);
        }
        assert_eq!(c, d);
        assert_eq!(CountedValues::default().min(), None);
    }

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

    /// Selected ranks equal the sorted values, ties, zeros of both signs and repeated
    /// quantiles included.
    #[test]
    fn selected_percentiles_equal_sorting() {
        let mut rng = crate::sim::rng::stream(5, "select");
        for n in [1usize, 2, 3, 10, 101, 2_000] {
            let mut s = Samples::default();
            let mut all = Vec::new();
            for i in 0..n {
                let v = match rng.random_range(0..4) {
                    0 => 0.0,
                    1 if i % 2 == 0 => -0.0,
                    _ => f64::from(rng.random_range(0..50u32)) * 0.1,
                };
                s.push(v);
                all.push(v);
            }
            all.sort_by(f64::total_cmp);
            let qs = [0.99, 0.5, 0.0, 1.0, 0.5, 0.37];
            let want: Vec<Option<f64>> = (qs.iter())
                .map(|&q| {
                    let h = (n - 1) as f64 * q;
                    let lo = h.floor() as usize;
                    let hi = (lo + 1).min(n - 1);
                    Some(all[lo] + (h - lo as f64) * (all[hi] - all[lo]))
                })
                .collect();
            let got = s.percentiles(&qs);
            let bits =
                |v: &[Option<f64>]| v.iter().map(|x| x.map(f64::to_bits)).collect::<Vec<_>>();
            assert_eq!(bits(&got), bits(&want), "n {n}");
        }
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
