//! Kthena's unit tests of the sliding windows (`pkg/autoscaler/datastructure/
//! sliding_window_test.go`, volcano-sh/kthena revision 9cd25495; the windows are identical at
//! v0.4.0 and HEAD), translated call by call. Go injects its clock through
//! `getCurrentTimestamp = dateFunc(sec)`; here the same instant is passed as `now`. Calls the
//! Go test makes before it first sets the clock (real wall time) use `date(0)`.
//!
//! Not ported: `Test_snapshotSlidingWindowGetLastSnapshot` (`GetLastSnapshot` is not part of
//! this engine's `SnapshotWindow`, which has only what the collectors use).

use super::*;

/// Go's `dateFunc(sec)`: 2025-01-01T09:00:<sec>Z in epoch milliseconds.
fn date(sec: i64) -> i64 {
    1_735_722_000_000 + sec * 1000
}

#[test]
fn maximum_record_sliding_window() {
    let mut w = RecordWindow::new(10_000, Better::Larger);
    assert_eq!(w.get_best(date(0)), None);
    w.append(date(1), 6);
    w.append(date(3), 3);
    w.append(date(5), 5);
    w.append(date(7), 2);
    assert_eq!(w.get_best(date(7)), Some(6));
    assert_eq!(w.get_best(date(12)), Some(5));
    assert_eq!(w.get_best(date(14)), Some(5));
    assert_eq!(w.get_best(date(16)), Some(2));
    assert_eq!(w.get_best(date(18)), None);
}

#[test]
fn minimum_record_sliding_window() {
    let mut w = RecordWindow::new(10_000, Better::Smaller);
    assert_eq!(w.get_best(date(0)), None);
    w.append(date(1), 6);
    w.append(date(3), 3);
    w.append(date(5), 5);
    w.append(date(7), 7);
    assert_eq!(w.get_best(date(7)), Some(3));
    assert_eq!(w.get_best(date(12)), Some(3));
    assert_eq!(w.get_best(date(14)), Some(5));
    assert_eq!(w.get_best(date(16)), Some(7));
    assert_eq!(w.get_best(date(18)), None);
}

#[test]
fn record_sliding_window_with_zero_ttl() {
    let mut w = RecordWindow::new(0, Better::Smaller);
    assert_eq!(w.get_best(date(0)), None);
    w.append(date(0), 0);
    assert_eq!(w.get_best(date(0)), None);
}

#[test]
fn maximum_line_chart_sliding_window() {
    let mut w = LineChartWindow::new(10_000, Better::Larger);
    assert_eq!(w.get_best(date(0), 6), Some(6));
    w.append(date(1), 6);
    w.append(date(3), 3);
    w.append(date(5), 5);
    w.append(date(7), 2);
    assert_eq!(w.get_best(date(7), 0), Some(6));
    assert_eq!(w.get_best(date(12), 0), Some(6));
    assert_eq!(w.get_best(date(14), 0), Some(5));
    assert_eq!(w.get_best(date(16), 0), Some(5));
    assert_eq!(w.get_best(date(18), 0), Some(2));
    assert_eq!(w.get_best(date(18), 3), Some(3));
    assert_eq!(w.get_best(date(26), 0), Some(2));
    assert_eq!(w.get_best(date(28), 0), Some(0));
}

#[test]
fn minimum_line_chart_sliding_window() {
    let mut w = LineChartWindow::new(10_000, Better::Smaller);
    assert_eq!(w.get_best(date(0), 6), Some(6));
    w.append(date(1), 6);
    w.append(date(3), 3);
    w.append(date(5), 9);
    w.append(date(7), 4);
    assert_eq!(w.get_best(date(7), 10), Some(3));
    assert_eq!(w.get_best(date(12), 10), Some(3));
    assert_eq!(w.get_best(date(14), 10), Some(3));
    assert_eq!(w.get_best(date(16), 10), Some(4));
    assert_eq!(w.get_best(date(18), 10), Some(4));
    assert_eq!(w.get_best(date(18), 2), Some(2));
    assert_eq!(w.get_best(date(26), 10), Some(4));
    assert_eq!(w.get_best(date(28), 10), Some(10));
}

#[test]
fn line_chart_sliding_window_with_zero_ttl() {
    let mut w = LineChartWindow::new(0, Better::Smaller);
    assert_eq!(w.get_best(date(0), 0), None);
    w.append(date(0), 0);
    assert_eq!(w.get_best(date(0), 0), None);
}

#[test]
fn snapshot_sliding_window() {
    let mut w = SnapshotWindow::new(10_000, 15_000);
    assert_eq!(w.get_last_unfresh(date(0)), None);
    w.append(date(1), "foo");
    w.append(date(3), "bar");
    w.append(date(5), "quz");
    w.append(date(7), "abc");
    assert_eq!(w.get_last_unfresh(date(7)), None);
    assert_eq!(w.get_last_unfresh(date(12)), Some(&"foo"));
    assert_eq!(w.get_last_unfresh(date(14)), Some(&"bar"));
    assert_eq!(w.get_last_unfresh(date(16)), Some(&"quz"));
    assert_eq!(w.get_last_unfresh(date(18)), Some(&"abc"));
    assert_eq!(w.get_last_unfresh(date(21)), Some(&"abc"));
    assert_eq!(w.get_last_unfresh(date(23)), None);
}

#[test]
fn snapshot_sliding_window_with_zero_ttl() {
    let mut w = SnapshotWindow::new(0, 0);
    assert_eq!(w.get_last_unfresh(date(0)), None);
    w.append(date(1), "foo");
    assert_eq!(w.get_last_unfresh(date(1)), None);
    assert_eq!(w.get_last_unfresh(date(50)), None);
}
