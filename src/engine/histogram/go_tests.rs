//! Kthena's unit tests of the histogram snapshots and `QuantileInDiff`
//! (`pkg/autoscaler/histogram/histogram_test.go`). The file is stored only for the
//! predecessor repository matrixinfer-ai/kthena (revision bd24316a); volcano-sh/kthena keeps
//! `histogram.go` unchanged at v0.4.0 and HEAD (docs/engine.md §7.6, §13.4 G5), so the cases hold
//! for both engine versions. Go's `assert.InDelta(…, 1e-6)` is kept as a tolerance.

use super::*;

/// Go's `Epsilon`.
const EPSILON: f64 = 1e-6;

/// Go's `newSnapshot`: buckets taken as given (not re-sorted).
fn snapshot(sum: f64, count: i64, buckets: &[(f64, i64)]) -> Snapshot {
    Snapshot {
        sum,
        count,
        buckets: buckets.to_vec(),
    }
}

/// Go's `NewDefaultSnapshot()`.
fn default_snapshot() -> Snapshot {
    Snapshot::default()
}

fn assert_close(got: f64, want: f64, go_name: &str) {
    assert!(
        (got - want).abs() <= EPSILON,
        "{go_name}: got {got}, want {want}"
    );
}

const INF: f64 = f64::INFINITY;

#[test]
fn given_prometheus_histogram_when_convert_to_snapshot_then_ok() {
    let s = Snapshot::of_histogram(256.7, 100, &[(0.1, 10), (0.5, 30), (INF, 100)]);
    assert_close(s.sum, 256.7, "sum");
    assert_eq!(s.count, 100);
    assert_eq!(s.buckets.len(), 3);
    assert_close(s.buckets[0].0, 0.1, "buckets[0].le");
    assert_eq!(s.buckets[0].1, 10);
    assert_close(s.buckets[1].0, 0.5, "buckets[1].le");
    assert_eq!(s.buckets[1].1, 30);
    assert!(s.buckets[2].0.is_infinite() && s.buckets[2].0 > 0.0);
    assert_eq!(s.buckets[2].1, 100);
}

#[test]
fn given_negative_count_in_diff_when_quantile_in_diff_then_error() {
    let past = snapshot(3.0, 5, &[(0.5, 2), (INF, 5)]);
    let now = snapshot(2.0, 4, &[(0.5, 2), (INF, 4)]);
    let err = quantile_in_diff(95, &now, &past).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid totalCountDiff (-1 invalid out of [0, +Inf))"
    );
}

#[test]
fn given_zero_count_in_diff_when_quantile_in_diff_then_return_zero() {
    let past = snapshot(3.0, 5, &[(0.5, 2), (INF, 5)]);
    let got = quantile_in_diff(95, &past, &past).expect("no error");
    assert_close(
        got,
        0.0,
        "givenZeroCountInDiff_whenQuantileInDiff_thenReturnZero",
    );
}

#[test]
fn given_unmatched_bucket_sizes_when_quantile_in_diff_then_error() {
    let past = snapshot(3.0, 5, &[(0.5, 2), (INF, 5)]);
    let now = snapshot(4.0, 8, &[(0.5, 2), (0.75, 4), (INF, 8)]);
    let err = quantile_in_diff(95, &now, &past).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unmatched buckets lengths (len(now.buckets): 3, len(past.buckets): 2)"
    );
}

#[test]
fn given_non_ascending_histograms_when_quantile_in_diff_then_error() {
    let past = snapshot(3.0, 5, &[(0.5, 2), (0.75, 4), (INF, 5)]);
    let now = snapshot(4.0, 8, &[(0.5, 4), (0.75, 5), (INF, 8)]);
    let err = quantile_in_diff(95, &now, &past).unwrap_err();
    assert_eq!(err.to_string(), "non-decreasing is broken");
}

#[test]
fn given_two_histograms_with_unique_answer_in_last_bucket_when_quantile_in_diff_then_return_double_bound(
) {
    let past = snapshot(3.0, 5, &[(0.5, 2), (0.75, 4), (INF, 5)]);
    let now = snapshot(6.0, 10, &[(0.5, 4), (0.75, 8), (INF, 10)]);
    let got = quantile_in_diff(100, &now, &past).expect("no error");
    assert_close(
        got,
        1.5,
        "givenTwoHistogramsWithUniqueAnswerInLastBucket_whenQuantileInDiff_thenReturnDoubleBound",
    );
}

#[test]
fn given_one_default_histogram_when_quantile_in_diff_then_ok() {
    let past = default_snapshot();
    let now = snapshot(4.0, 8, &[(0.5, 2), (0.75, 4), (INF, 8)]);
    let got = quantile_in_diff(95, &now, &past).expect("no error");
    assert_close(
        got,
        1.5,
        "givenOneDefaultHistogram_whenQuantileInDiff_thenOk",
    );
}

#[test]
fn given_two_default_histograms_when_quantile_in_diff_then_return_zero() {
    let past = default_snapshot();
    let got = quantile_in_diff(95, &past, &past).expect("no error");
    assert_close(
        got,
        0.0,
        "givenTwoDefaultHistograms_whenQuantileInDiff_thenReturnZero",
    );
}

#[test]
fn given_two_histograms_with_unique_answer_in_first_bucket_when_quantile_in_diff_then_return_first_bound(
) {
    let past = snapshot(3.0, 5, &[(0.5, 2), (0.75, 4), (INF, 5)]);
    let now = snapshot(6.0, 10, &[(0.5, 3), (0.75, 8), (INF, 10)]);
    let got = quantile_in_diff(1, &now, &past).expect("no error");
    assert_close(
        got,
        0.5,
        "givenTwoHistogramsWithUniqueAnswerInFirstBucket_whenQuantileInDiff_thenReturnFirstBound",
    );
}

#[test]
fn given_two_histograms_with_everything_in_one_bucket_when_quantile_in_diff_then_return_linear_interpolation_result(
) {
    let past = snapshot(3.0, 5, &[(0.5, 2), (0.75, 4), (INF, 5)]);
    let now = snapshot(6.0, 10, &[(0.5, 2), (0.75, 9), (INF, 10)]);
    let got = quantile_in_diff(50, &now, &past).expect("no error");
    assert_close(
        got,
        0.65,
        "givenTwoHistogramsWithEverythingInOneBucket_whenQuantileInDiff_thenReturnLinearInterpolationResult",
    );
}

/// Beyond Go's tests: int64 arithmetic on counts that overflows wraps as Go's does, where a
/// debug build of a plain port would panic (a replayed tick may carry any counts).
#[test]
fn overflowing_counts_wrap_as_in_go() {
    let now = snapshot(0.0, 1 << 62, &[(1.0, i64::MAX), (f64::INFINITY, i64::MAX)]);
    // diff·percentile wraps to i64::MIN, so the rank is negative and high − rank wraps too:
    // 1 − (i64::MAX + 92233720368547758, wrapped) / i64::MAX.
    assert_eq!(quantile_in_diff(2, &now, &default_snapshot()), Ok(1.99));
    // 1 − i64::MIN wraps to a negative bucket count.
    let past = snapshot(0.0, 0, &[(1.0, i64::MIN), (f64::INFINITY, 0)]);
    let now = snapshot(0.0, 10, &[(1.0, 1), (f64::INFINITY, 10)]);
    assert_eq!(
        quantile_in_diff(50, &now, &past),
        Err(QuantileError::Decreasing)
    );
}
