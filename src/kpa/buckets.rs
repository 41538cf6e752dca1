//! `TimedFloat64Buckets` and `WeightedFloat64Buckets` of knative/serving
//! `pkg/autoscaler/aggregation/bucketing.go` (N4): a ring of per-second sums over a window, and
//! its average. What matters for agreement: after startup or a whole window without data the
//! average covers only the buckets since the first write (it is not diluted by the silent
//! past); a gap in the middle counts as zeros; a gap at the end is left out of the denominator;
//! the linear average is rounded to 6 digits. Window resizing (`ResizeWindow`) is not ported:
//! a simulated revision's windows never change.

use super::spec::Algorithm;
use crate::sim::{SimDuration, SimTime};

/// `minExponent` and `weightPrecision` of the weighted average.
const MIN_EXPONENT: f64 = 0.2;
const WEIGHT_PRECISION: f64 = 0.9999;
/// `precision`: digits kept by the linear average.
const PRECISION: i32 = 6;

/// One window of buckets. Times are bucket starts in microseconds since the run's start;
/// `None` for `last_write` is Go's zero `time.Time`, before everything.
#[derive(Debug, Clone)]
pub struct Buckets {
    buckets: Vec<f64>,
    granularity: i64,
    window: i64,
    first_write: Option<i64>,
    last_write: Option<i64>,
    window_total: f64,
    /// `Some(smoothingCoeff)` for the weighted-exponential average.
    smoothing: Option<f64>,
}

/// `computeSmoothingCoeff`: the decay that makes `nb` buckets carry `weightPrecision` of the
/// weight, but no less than `minExponent`.
pub fn compute_smoothing_coeff(nb: f64) -> f64 {
    (1.0 - (1.0 - WEIGHT_PRECISION).powf(1.0 / nb)).max(MIN_EXPONENT)
}

/// `roundToNDigits`.
pub fn round_to_n_digits(n: i32, f: f64) -> f64 {
    let p = 10f64.powi(n);
    (f * p).round() / p
}

impl Buckets {
    /// `NewTimedFloat64Buckets` / `NewWeightedFloat64Buckets`: `ceil(window / granularity)`
    /// buckets.
    pub fn new(window: SimDuration, granularity: SimDuration, algorithm: Algorithm) -> Self {
        let (w, g) = (window.as_micros(), granularity.as_micros());
        let nb = (w + g - 1) / g;
        Buckets {
            buckets: vec![0.0; nb as usize],
            granularity: g,
            window: w,
            first_write: None,
            last_write: None,
            window_total: 0.0,
            smoothing: match algorithm {
                Algorithm::Linear => None,
                Algorithm::WeightedExponential => Some(compute_smoothing_coeff(nb as f64)),
            },
        }
    }

    fn truncate(&self, t: SimTime) -> i64 {
        t.as_micros().div_euclid(self.granularity) * self.granularity
    }

    /// `timeToIndex`: the bucket number of a time (its ring slot is this modulo the length).
    fn time_to_index(&self, t: i64) -> i64 {
        t.div_euclid(self.granularity)
    }

    fn slot(&self, index: i64) -> usize {
        index.rem_euclid(self.buckets.len() as i64) as usize
    }

    /// `IsEmpty`: no write within the last window.
    pub fn is_empty(&self, now: SimTime) -> bool {
        let now = self.truncate(now);
        self.last_write.is_none_or(|last| now - last > self.window)
    }

    /// `Record`: adds `value` into the bucket of `now`. Writes into seconds skipped since the
    /// last write zero them first; a whole window of silence restarts the window; a write more
    /// than a window older than the last one is dropped.
    pub fn record(&mut self, now: SimTime, value: f64) {
        let bucket_time = self.truncate(now);
        let write_idx = self.time_to_index(bucket_time);
        if self.last_write != Some(bucket_time) {
            if self
                .last_write
                .is_some_and(|last| bucket_time + self.window <= last)
            {
                return;
            }
            if self.first_write.is_none_or(|first| first > bucket_time) {
                self.first_write = Some(bucket_time);
            }
            if self.last_write.is_none_or(|last| bucket_time > last) {
                match self.last_write {
                    Some(last) if bucket_time - last < self.window => {
                        for i in self.time_to_index(last) + 1..=write_idx {
                            let s = self.slot(i);
                            self.window_total -= self.buckets[s];
                            self.buckets[s] = 0.0;
                        }
                    }
                    _ => {
                        self.first_write = Some(bucket_time);
                        self.buckets.iter_mut().for_each(|b| *b = 0.0);
                        self.window_total = 0.0;
                    }
                }
                self.last_write = Some(bucket_time);
            }
        }
        let s = self.slot(write_idx);
        self.buckets[s] += value;
        self.window_total += value;
    }

    /// `WindowAverage` of the configured algorithm.
    pub fn window_average(&self, now: SimTime) -> f64 {
        match self.smoothing {
            None => self.linear_average(now),
            Some(alpha) => self.weighted_average(now, alpha),
        }
    }

    fn linear_average(&self, now: SimTime) -> f64 {
        let now = self.truncate(now);
        let (Some(last), Some(first)) = (self.last_write, self.first_write) else {
            return 0.0;
        };
        let len = self.buckets.len() as i64;
        let d = now - last;
        if d <= 0 {
            let nb = ((last - first) / self.granularity + 1).min(len);
            round_to_n_digits(PRECISION, self.window_total / nb as f64)
        } else if d < self.window {
            let (st, e) = (self.time_to_index(last), self.time_to_index(now));
            let mut ret = self.window_total;
            for i in st + 1..=e {
                ret -= self.buckets[self.slot(i)];
            }
            let nb = ((last - first) / self.granularity + 1).min(len - (e - st));
            round_to_n_digits(PRECISION, ret / nb as f64)
        } else {
            0.0
        }
    }

    fn weighted_average(&self, now: SimTime, alpha: f64) -> f64 {
        let now = self.truncate(now);
        let Some(last) = self.last_write else {
            return 0.0;
        };
        if self.is_empty(SimTime::from_micros(now)) {
            return 0.0;
        }
        let total = self.buckets.len() as i64;
        let mut nb = total;
        let mut multiplier = alpha;
        if now > last {
            let zeros = (now - last) / self.granularity;
            multiplier *= (1.0 - alpha).powf(zeros as f64);
            nb -= zeros;
        }
        let start = self.time_to_index(last) + total;
        let mut ret = 0.0;
        for i in 0..nb.max(0) {
            ret += self.buckets[self.slot(start - i)] * multiplier;
            multiplier *= 1.0 - alpha;
        }
        ret
    }

    /// The test helper `forEachBucket`: each bucket from the last write back over the part of
    /// the window still valid at `now`, with its start time.
    #[cfg(test)]
    pub(crate) fn for_each_bucket(&self, now: SimTime, mut acc: impl FnMut(i64, f64)) {
        let now = self.truncate(now);
        let Some(last) = self.last_write else {
            return;
        };
        let n = self.buckets.len() as i64 - (now - last) / self.granularity;
        let mut t = last;
        let mut si = self.time_to_index(last);
        for _ in 0..n.max(0) {
            acc(t, self.buckets[self.slot(si)]);
            si -= 1;
            t -= self.granularity;
        }
    }

    #[cfg(test)]
    pub(crate) fn smoothing(&self) -> f64 {
        self.smoothing.unwrap_or(0.0)
    }
}
