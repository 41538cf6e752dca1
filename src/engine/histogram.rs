//! Port of `pkg/autoscaler/histogram/histogram.go` (identical at both revisions): histogram
//! snapshots and the percentile of the observations between two snapshots (docs/engine.md §7.6).

/// One cumulative histogram as scraped, buckets sorted by upper bound (`+Inf` kept as a
/// normal bucket).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Snapshot {
    pub sum: f64,
    pub count: i64,
    /// `(upper bound, cumulative count)`.
    pub buckets: Vec<(f64, i64)>,
}

/// Why a quantile could not be computed; the text is Kthena's.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QuantileError {
    #[error("invalid percentile ({0} invalid out of [1,100])")]
    InvalidPercentile(i32),
    #[error("invalid totalCountDiff ({0} invalid out of [0, +Inf))")]
    NegativeCountDiff(i64),
    #[error("unmatched buckets lengths (len(now.buckets): {now}, len(past.buckets): {past})")]
    UnmatchedBuckets { now: usize, past: usize },
    #[error("non-decreasing is broken")]
    Decreasing,
    #[error("percentile {0} not found")]
    NotFound(i32),
}

impl Snapshot {
    /// `NewSnapshotOfHistogram`: buckets sorted ascending by upper bound.
    pub fn of_histogram(sum: f64, count: i64, buckets: &[(f64, i64)]) -> Self {
        let mut buckets = buckets.to_vec();
        buckets.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
        Snapshot {
            sum,
            count,
            buckets,
        }
    }
}

/// `QuantileInDiff`: the `percentile` of the observations recorded between `past` and `now`,
/// interpolated linearly inside the bucket that holds its rank. An empty `past` means
/// "since the pod started".
pub fn quantile_in_diff(
    percentile: i32,
    now: &Snapshot,
    past: &Snapshot,
) -> Result<f64, QuantileError> {
    if !(1..=100).contains(&percentile) {
        return Err(QuantileError::InvalidPercentile(percentile));
    }
    let diff = now.count.wrapping_sub(past.count);
    if diff < 0 {
        return Err(QuantileError::NegativeCountDiff(diff));
    }
    if diff == 0 {
        return Ok(0.0);
    }
    let n = now.buckets.len();
    let past_empty = past.buckets.is_empty();
    if !past_empty && n != past.buckets.len() {
        return Err(QuantileError::UnmatchedBuckets {
            now: n,
            past: past.buckets.len(),
        });
    }
    let q = diff.wrapping_mul(i64::from(percentile));
    let rank = q / 100 + i64::from(q % 100 > 0);
    let mut low = 0.0f64;
    let mut last_high: i64 = 0;
    for i in 0..n {
        // int64 in Go, which wraps: scraped (or replayed) counts may be anything.
        let low_rank = last_high.wrapping_add(1);
        let high = now.buckets[i]
            .1
            .wrapping_sub(if past_empty { 0 } else { past.buckets[i].1 });
        if high < last_high {
            return Err(QuantileError::Decreasing);
        }
        let cnt = high.wrapping_sub(low_rank).wrapping_add(1);
        let mut hi = now.buckets[i].0;
        if hi == f64::INFINITY {
            hi = low * 2.0;
        }
        if cnt > 0 && rank <= high {
            return Ok(hi - high.wrapping_sub(rank) as f64 * (hi - low) / cnt as f64);
        }
        low = hi;
        last_high = high;
    }
    Err(QuantileError::NotFound(percentile))
}

#[cfg(test)]
mod go_tests;
