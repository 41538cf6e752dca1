//! Ports of the numeric kernels of Prometheus 3 (`promql/functions.go`, `promql/quantile.go`,
//! `util/kahansum`), kept under their Go names: the rate family over the float samples of
//! one series, the classic-histogram quantile, and compensated summation. Native histograms
//! do not exist in the simulator and are left out.

use crate::sim::time::{SimDuration, SimTime, MICROS_PER_SEC};

/// Seconds between two sample times, as Prometheus computes `float64(Δms) / 1000`.
fn seconds(d: SimDuration) -> f64 {
    d.as_micros() as f64 / MICROS_PER_SEC as f64
}

/// Go's `time.Duration.Seconds()`: whole seconds plus the fraction, added as floats.
fn duration_seconds(d: SimDuration) -> f64 {
    let us = d.as_micros();
    let whole = us / MICROS_PER_SEC;
    let nanos = (us % MICROS_PER_SEC) * 1_000;
    whole as f64 + nanos as f64 / 1e9
}

/// `extrapolatedRate`: the increase of a series over the range `(t - range, t]` from its
/// samples `points` (oldest first, at least two, else `None`), extrapolated towards the range
/// edges; per second when `is_rate`. `increase` and `rate` treat the series as a counter:
/// every decrease is a reset, and the extrapolation never goes below zero.
///
/// A sample "close enough" to an edge (within 110 % of the average interval) is extrapolated
/// all the way to it; otherwise the series is assumed to start or end inside the range, half
/// an average interval beyond its first or last sample.
pub(super) fn extrapolated_rate(
    points: &[(SimTime, f64)],
    t: SimTime,
    range: SimDuration,
    is_counter: bool,
    is_rate: bool,
) -> Option<f64> {
    let (&(first_t, first_v), &(last_t, last_v)) = (points.first()?, points.last()?);
    if points.len() < 2 {
        return None;
    }
    let range_start = t - range;
    let range_end = t;
    let mut result = last_v - first_v;
    if is_counter {
        for w in points.windows(2) {
            if w[1].1 < w[0].1 {
                result += w[0].1;
            }
        }
    }

    let mut duration_to_start = seconds(first_t - range_start);
    let mut duration_to_end = seconds(range_end - last_t);
    let sampled_interval = seconds(last_t - first_t);
    let average_duration_between_samples = sampled_interval / (points.len() - 1) as f64;

    let extrapolation_threshold = average_duration_between_samples * 1.1;
    if duration_to_start >= extrapolation_threshold {
        duration_to_start = average_duration_between_samples / 2.0;
    }
    if is_counter && result > 0.0 && first_v >= 0.0 {
        // Counters cannot be negative: extrapolate at most to where the counter was zero.
        let duration_to_zero = sampled_interval * (first_v / result);
        if duration_to_zero < duration_to_start {
            duration_to_start = duration_to_zero;
        }
    }
    if duration_to_end >= extrapolation_threshold {
        duration_to_end = average_duration_between_samples / 2.0;
    }

    let mut factor = (sampled_interval + duration_to_start + duration_to_end) / sampled_interval;
    if is_rate {
        factor /= duration_seconds(range);
    }
    Some(result * factor)
}

/// `instantValue` for `irate`: the per-second rate between the last two samples, where a
/// decrease counts as a reset (the increase is then the last value). `None` with fewer than
/// two samples.
pub(super) fn instant_value(points: &[(SimTime, f64)]) -> Option<f64> {
    let [.., (prev_t, prev_v), (last_t, last_v)] = *points else {
        return None;
    };
    let sampled_interval = last_t - prev_t;
    if sampled_interval == SimDuration::ZERO {
        return None;
    }
    let increase = if last_v < prev_v {
        last_v
    } else {
        last_v - prev_v
    };
    Some(increase / seconds(sampled_interval))
}

/// `BucketQuantile`: the `q`-quantile of a classic histogram given as `(upper bound,
/// cumulative count)` buckets in any order, interpolated linearly inside the bucket that
/// holds the rank, with a lower edge of 0 for the first bucket.
///
/// Special cases, as Prometheus: NaN for a NaN `q`, no `+Inf` bucket, fewer than two buckets
/// or no observations; ±Inf for `q` outside [0, 1]; the second-highest bound when the rank
/// falls in the `+Inf` bucket.
pub(super) fn bucket_quantile(q: f64, mut buckets: Vec<(f64, f64)>) -> f64 {
    if q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    buckets.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
    if buckets.last().is_none_or(|b| b.0 != f64::INFINITY) {
        return f64::NAN;
    }
    let mut buckets = coalesce_buckets(buckets);
    ensure_monotonic_and_ignore_small_deltas(&mut buckets, SMALL_DELTA_TOLERANCE);

    let n = buckets.len();
    if n < 2 {
        return f64::NAN;
    }
    let observations = buckets[n - 1].1;
    if observations == 0.0 {
        return f64::NAN;
    }
    let mut rank = q * observations;
    let b = buckets[..n - 1].partition_point(|x| x.1 < rank);
    if b == n - 1 {
        return buckets[n - 2].0;
    }
    if b == 0 && buckets[0].0 <= 0.0 {
        return buckets[0].0;
    }
    let (mut bucket_start, bucket_end, mut count) = (0.0, buckets[b].0, buckets[b].1);
    if b > 0 {
        bucket_start = buckets[b - 1].0;
        count -= buckets[b - 1].1;
        rank -= buckets[b - 1].1;
    }
    bucket_start + (bucket_end - bucket_start) * (rank / count)
}

/// Relative difference below which two bucket counts are taken as equal (float noise from
/// summing rates).
const SMALL_DELTA_TOLERANCE: f64 = 1e-12;

/// `coalesceBuckets`: merges buckets with the same upper bound (sorted input).
fn coalesce_buckets(buckets: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(buckets.len());
    for b in buckets {
        match out.last_mut() {
            Some(last) if last.0 == b.0 => last.1 += b.1,
            _ => out.push(b),
        }
    }
    out
}

/// `ensureMonotonicAndIgnoreSmallDeltas`: counts that differ from the previous bucket's by
/// float noise are set equal to it, and any decrease is flattened, so the binary search for
/// the rank is meaningful.
fn ensure_monotonic_and_ignore_small_deltas(buckets: &mut [(f64, f64)], tolerance: f64) {
    let Some(&(_, mut prev)) = buckets.first() else {
        return;
    };
    for b in buckets.iter_mut().skip(1) {
        let curr = b.1;
        if curr == prev {
            continue;
        }
        if almost_equal(prev, curr, tolerance) || curr < prev {
            b.1 = prev;
            continue;
        }
        prev = curr;
    }
}

/// `almost.Equal`: equality within a relative `epsilon`, absolute near zero.
fn almost_equal(a: f64, b: f64, epsilon: f64) -> bool {
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < f64::MIN_POSITIVE {
        return diff < epsilon * f64::MIN_POSITIVE;
    }
    diff / abs_sum.min(f64::MAX) < epsilon
}

/// `kahansum.Inc`: adds `inc` to the running `sum` with Neumaier's compensation `c`; the
/// result is `sum + c`.
pub(super) fn kahan_sum_inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if t.is_infinite() {
        0.0
    } else if sum.abs() >= inc.abs() {
        c + ((sum - t) + inc)
    } else {
        c + ((inc - t) + sum)
    };
    (t, c)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: SimDuration = SimDuration::from_secs(1);

    fn secs(n: i64) -> SimTime {
        SimTime::from_secs(n)
    }

    fn at(points: &[(i64, f64)]) -> Vec<(SimTime, f64)> {
        points.iter().map(|&(s, v)| (secs(s), v)).collect()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1.0)
    }

    #[test]
    fn extrapolates_to_both_edges_of_a_regular_window() {
        // rate(x[1m]) at 75 s: samples at 30..75 s; the one at 15 s is on the open edge.
        // 35 over 45 s, extrapolated by 15 s to the start: 35 * 60/45.
        let p = at(&[(30, 125.0), (45, 130.0), (60, 150.0), (75, 160.0)]);
        let inc = extrapolated_rate(&p, secs(75), 60 * S, true, false).unwrap_or(f64::NAN);
        assert!(close(inc, 35.0 * 60.0 / 45.0), "{inc}");
        let rate = extrapolated_rate(&p, secs(75), 60 * S, true, true).unwrap_or(f64::NAN);
        assert!(close(rate, 35.0 / 45.0), "{rate}");
        // Between scrapes (80 s): 10 s to the start, 5 s to the end, the same 60 s in all.
        let inc = extrapolated_rate(&p, secs(80), 60 * S, true, false).unwrap_or(f64::NAN);
        assert!(close(inc, 35.0 * 60.0 / 45.0), "{inc}");
    }

    #[test]
    fn a_series_starting_inside_the_window_extrapolates_half_an_interval_or_to_zero() {
        // Starts at 45 s; 30 s to the window start is beyond 1.1 * 15 s, so only 7.5 s...
        let p = at(&[(45, 100.0), (60, 115.0), (75, 130.0)]);
        let inc = extrapolated_rate(&p, secs(75), 60 * S, true, false).unwrap_or(f64::NAN);
        assert!(close(inc, 30.0 * 37.5 / 30.0), "{inc}");
        // ...unless the counter would cross zero sooner: 5 at slope 1/s is zero 5 s earlier.
        let p = at(&[(45, 5.0), (60, 20.0), (75, 35.0)]);
        let inc = extrapolated_rate(&p, secs(75), 60 * S, true, false).unwrap_or(f64::NAN);
        assert!(close(inc, 35.0), "{inc}");
    }

    #[test]
    fn a_series_ending_inside_the_window_extrapolates_half_an_interval() {
        let p = at(&[(45, 100.0), (60, 115.0), (75, 130.0)]);
        // At 100 s the window is (40, 100]: 5 s to the start (full), 25 s to the end (7.5 s).
        let inc = extrapolated_rate(&p, secs(100), 60 * S, true, false).unwrap_or(f64::NAN);
        assert!(close(inc, 30.0 * (30.0 + 5.0 + 7.5) / 30.0), "{inc}");
    }

    #[test]
    fn a_counter_reset_adds_the_value_before_it() {
        // 125 -> 130 (+5), reset to 5 (+5), -> 20 (+15): 25 in 45 s, extrapolated to 60 s.
        let p = at(&[(30, 125.0), (45, 130.0), (60, 5.0), (75, 20.0)]);
        let inc = extrapolated_rate(&p, secs(75), 60 * S, true, false).unwrap_or(f64::NAN);
        assert!(close(inc, 25.0 * 60.0 / 45.0), "{inc}");
        assert_eq!(instant_value(&p), Some(1.0));
        assert_eq!(instant_value(&p[..3]), Some(5.0 / 15.0));
    }

    #[test]
    fn fewer_than_two_samples_give_nothing() {
        let p = at(&[(30, 1.0)]);
        assert_eq!(extrapolated_rate(&p, secs(30), 60 * S, true, true), None);
        assert_eq!(instant_value(&p), None);
        assert_eq!(instant_value(&[]), None);
    }

    #[test]
    fn irate_uses_the_last_two_samples() {
        let p = at(&[(30, 125.0), (45, 130.0), (60, 150.0), (75, 160.0)]);
        assert_eq!(instant_value(&p), Some(10.0 / 15.0));
    }

    #[test]
    fn duration_seconds_adds_the_fraction_like_go() {
        assert_eq!(duration_seconds(90 * S), 90.0);
        assert_eq!(
            duration_seconds(SimDuration::from_micros(1_100_000)),
            1.0 + 0.1
        );
    }

    #[test]
    fn bucket_quantile_interpolates_inside_the_bucket() {
        let b = vec![(f64::INFINITY, 80.0), (0.1, 15.0), (0.5, 40.0), (1.0, 70.0)];
        // rank 60: in (0.5, 1], 20 of its 30 observations.
        assert!(close(
            bucket_quantile(0.75, b.clone()),
            0.5 + 0.5 * 20.0 / 30.0
        ));
        // rank 6: in (0, 0.1].
        assert!(close(bucket_quantile(0.075, b.clone()), 0.1 * 6.0 / 15.0));
        // rank 76 falls in +Inf: the highest finite bound.
        assert_eq!(bucket_quantile(0.95, b.clone()), 1.0);
        assert_eq!(bucket_quantile(1.5, b.clone()), f64::INFINITY);
        assert_eq!(bucket_quantile(-0.5, b.clone()), f64::NEG_INFINITY);
        assert!(bucket_quantile(f64::NAN, b).is_nan());
    }

    #[test]
    fn bucket_quantile_special_cases() {
        assert!(bucket_quantile(0.5, vec![(1.0, 3.0)]).is_nan(), "no +Inf");
        assert!(
            bucket_quantile(0.5, vec![(f64::INFINITY, 3.0)]).is_nan(),
            "one bucket"
        );
        assert!(bucket_quantile(0.5, vec![(1.0, 0.0), (f64::INFINITY, 0.0)]).is_nan());
        // Duplicated bounds are merged (le=1 holds 2); the decrease at le=2 is flattened to 2,
        // so rank 3 of 4 is found in +Inf rather than at le=2.
        let b = vec![(1.0, 1.0), (1.0, 1.0), (2.0, 1.0), (f64::INFINITY, 4.0)];
        assert_eq!(bucket_quantile(0.5, b.clone()), 1.0);
        assert_eq!(bucket_quantile(0.75, b), 2.0);
    }

    #[test]
    fn kahan_compensates_lost_low_bits() {
        let (mut s, mut c) = (0.0, 0.0);
        for v in [1e16, 1.0, -1e16] {
            (s, c) = kahan_sum_inc(v, s, c);
        }
        assert_eq!(s + c, 1.0);
    }
}
