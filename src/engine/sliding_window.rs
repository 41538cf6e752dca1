//! Port of `pkg/autoscaler/datastructure/sliding_window.go` (v0.4.0 and HEAD are identical):
//! the record window, the "line chart" window and the snapshot window, with their exact
//! expiry rules (docs/engine.md §7.6, §10.1). Time is passed in; the Go code reads its clock at the
//! same points.

use std::collections::VecDeque;

/// Go's `isFresh`: an entry exactly `fresh_ms` old is still fresh.
fn is_fresh(fresh_ms: i64, now: i64, ts: i64) -> bool {
    ts.wrapping_add(fresh_ms) >= now
}

/// Drops front entries older than `ttl_ms` (the entries are in time order).
fn expire_front<T>(pool: &mut VecDeque<(i64, T)>, ttl_ms: i64, now: i64) {
    while let Some((ts, _)) = pool.front() {
        if is_fresh(ttl_ms, now, *ts) {
            break;
        }
        pool.pop_front();
    }
}

/// Which end of the order the window keeps at its front.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Larger,
    Smaller,
}

impl Better {
    fn is_better(self, me: i32, other: i32) -> bool {
        match self {
            Better::Larger => me > other,
            Better::Smaller => me < other,
        }
    }
}

/// `RmqRecordSlidingWindow`: a monotonic deque whose front is the best value of the last
/// `fresh_ms` milliseconds. A TTL of 0 disables `get_best`.
#[derive(Debug, Clone)]
pub struct RecordWindow {
    pool: VecDeque<(i64, i32)>,
    fresh_ms: i64,
    better: Better,
}

impl RecordWindow {
    pub fn new(fresh_ms: i64, better: Better) -> Self {
        RecordWindow {
            pool: VecDeque::new(),
            fresh_ms,
            better,
        }
    }

    fn expire(&mut self, now: i64) {
        expire_front(&mut self.pool, self.fresh_ms, now);
    }

    pub fn append(&mut self, now: i64, value: i32) {
        self.expire(now);
        while let Some(&(_, back)) = self.pool.back() {
            if self.better.is_better(back, value) {
                break;
            }
            self.pool.pop_back();
        }
        self.pool.push_back((now, value));
    }

    pub fn get_best(&mut self, now: i64) -> Option<i32> {
        self.expire(now);
        if self.fresh_ms == 0 {
            return None;
        }
        self.pool.front().map(|&(_, v)| v)
    }
}

/// `RmqLineChartSlidingWindow`: the series as a step function. A retired value is
/// remembered for `fresh_ms` after it was replaced; the latest ("drifting") value for up to
/// `2 · fresh_ms` after it was set.
#[derive(Debug, Clone)]
pub struct LineChartWindow {
    pool: VecDeque<(i64, i32)>,
    fresh_ms: i64,
    drifting_value: i32,
    /// 0 means "no drifting value" (timestamps are epoch milliseconds, never 0).
    drift_ts: i64,
    max_drifting_ms: i64,
    better: Better,
}

impl LineChartWindow {
    pub fn new(fresh_ms: i64, better: Better) -> Self {
        LineChartWindow {
            pool: VecDeque::new(),
            fresh_ms,
            drifting_value: 0,
            drift_ts: 0,
            max_drifting_ms: fresh_ms.wrapping_mul(2),
            better,
        }
    }

    fn expire(&mut self, now: i64) {
        expire_front(&mut self.pool, self.fresh_ms, now);
        if !is_fresh(self.max_drifting_ms, now, self.drift_ts) {
            self.drift_ts = 0;
        }
    }

    pub fn append(&mut self, now: i64, value: i32) {
        self.expire(now);
        if self.drift_ts > 0 {
            while let Some(&(_, back)) = self.pool.back() {
                if self.better.is_better(back, self.drifting_value) {
                    break;
                }
                self.pool.pop_back();
            }
            self.pool.push_back((now, self.drifting_value));
        }
        self.drifting_value = value;
        self.drift_ts = now;
    }

    /// The best of `current`, the drifting value and the retained values; `None` only when
    /// the TTL is 0 (checked before expiry, as in Go).
    pub fn get_best(&mut self, now: i64, current: i32) -> Option<i32> {
        if self.fresh_ms == 0 {
            return None;
        }
        self.expire(now);
        let mut value = current;
        if self.drift_ts > 0 && self.better.is_better(self.drifting_value, value) {
            value = self.drifting_value;
        }
        if let Some(&(_, front)) = self.pool.front() {
            if self.better.is_better(front, value) {
                value = front;
            }
        }
        Some(value)
    }
}

/// `SnapshotSlidingWindow`: keeps the newest entry older than `fresh_ms` (the histogram
/// baseline) and nothing older than `expire_ms`.
#[derive(Debug, Clone)]
pub struct SnapshotWindow<T> {
    pool: VecDeque<(i64, T)>,
    fresh_ms: i64,
    expire_ms: i64,
}

impl<T> SnapshotWindow<T> {
    pub fn new(fresh_ms: i64, expire_ms: i64) -> Self {
        SnapshotWindow {
            pool: VecDeque::new(),
            fresh_ms,
            expire_ms,
        }
    }

    fn expire(&mut self, now: i64) {
        expire_front(&mut self.pool, self.expire_ms, now);
        while self.pool.len() > 1 {
            if is_fresh(self.fresh_ms, now, self.pool[1].0) {
                break;
            }
            self.pool.pop_front();
        }
    }

    pub fn append(&mut self, now: i64, value: T) {
        self.expire(now);
        self.pool.push_back((now, value));
    }

    /// `GetLastUnfreshSnapshot`: the newest snapshot taken more than `fresh_ms` ago.
    pub fn get_last_unfresh(&mut self, now: i64) -> Option<&T> {
        if self.fresh_ms == 0 {
            return None;
        }
        self.expire(now);
        match self.pool.front() {
            Some((ts, v)) if !is_fresh(self.fresh_ms, now, *ts) => Some(v),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn record_window_keeps_the_best_fresh_value() {
        let mut w = RecordWindow::new(100, Better::Larger);
        w.append(1000, 5);
        w.append(1050, 3);
        assert_eq!(w.get_best(1100), Some(5));
        // Exactly `ttl` old is still fresh; one more millisecond expires it.
        assert_eq!(w.get_best(1101), Some(3));
        assert_eq!(w.get_best(1151), None);
    }

    #[test]
    fn record_window_with_zero_ttl_never_answers() {
        let mut w = RecordWindow::new(0, Better::Smaller);
        w.append(1000, 5);
        assert_eq!(w.get_best(1000), None);
    }

    #[test]
    fn line_chart_remembers_a_replaced_value_for_ttl_after_replacement() {
        let mut w = LineChartWindow::new(100, Better::Smaller);
        w.append(1000, 2);
        w.append(1090, 8); // 2 retired at t=1090
        assert_eq!(w.get_best(1190, 10), Some(2));
        assert_eq!(w.get_best(1191, 10), Some(8));
        // The drifting value lives up to 2·ttl after it was set.
        assert_eq!(w.get_best(1290, 10), Some(8));
        assert_eq!(w.get_best(1291, 10), Some(10));
    }

    #[test]
    fn line_chart_with_zero_ttl_is_disabled() {
        let mut w = LineChartWindow::new(0, Better::Larger);
        w.append(1000, 2);
        assert_eq!(w.get_best(1000, 1), None);
    }

    #[test]
    fn snapshot_window_returns_the_newest_unfresh_entry() {
        let mut w = SnapshotWindow::new(60_000, 300_000);
        for i in 0..10 {
            w.append(1_000_000 + i * 15_000, i);
        }
        // now = 1_150_000: entries older than 60 s are i <= 5 (ts 1_075_000); the newest is 5.
        assert_eq!(w.get_last_unfresh(1_150_000), Some(&5));
        assert_eq!(SnapshotWindow::<i64>::new(0, 10).get_last_unfresh(5), None);
    }

    /// Naive reference: the best of every value appended within the last `ttl` ms.
    fn naive_record(samples: &[(i64, i32)], ttl: i64, now: i64, better: Better) -> Option<i32> {
        if ttl == 0 {
            return None;
        }
        let fresh = samples
            .iter()
            .filter(|(ts, _)| ts + ttl >= now)
            .map(|&(_, v)| v);
        match better {
            Better::Larger => fresh.max(),
            Better::Smaller => fresh.min(),
        }
    }

    /// Naive reference for the line chart: a value is remembered for `ttl` after it was
    /// replaced, provided it had not already lapsed (2·ttl after it was set) by then.
    fn naive_line(samples: &[(i64, i32)], ttl: i64, now: i64, cur: i32, better: Better) -> i32 {
        let mut best = cur;
        let pick = |a: i32, b: i32| if better.is_better(a, b) { a } else { b };
        for (i, &(ts, v)) in samples.iter().enumerate() {
            let fresh = match samples.get(i + 1) {
                Some(&(replaced, _)) => ts + 2 * ttl >= replaced && replaced + ttl >= now,
                None => ts + 2 * ttl >= now,
            };
            if fresh {
                best = pick(v, best);
            }
        }
        best
    }

    fn series() -> impl Strategy<Value = (Vec<(i64, i32)>, i64)> {
        (
            prop::collection::vec((1i64..40_000, 0i32..50), 1..40),
            prop::sample::select(vec![15_000i64, 30_000, 60_000, 300_000]),
        )
            .prop_map(|(steps, ttl)| {
                let mut t = 1_700_000_000_000;
                let s = steps
                    .into_iter()
                    .map(|(dt, v)| {
                        t += dt;
                        (t, v)
                    })
                    .collect();
                (s, ttl)
            })
    }

    proptest! {
        #[test]
        fn record_window_equals_naive_extremum((samples, ttl) in series(), larger in any::<bool>(), gap in 0i64..700_000) {
            let better = if larger { Better::Larger } else { Better::Smaller };
            let mut w = RecordWindow::new(ttl, better);
            for (i, &(ts, v)) in samples.iter().enumerate() {
                w.append(ts, v);
                prop_assert_eq!(w.get_best(ts), naive_record(&samples[..=i], ttl, ts, better));
            }
            let now = samples.last().unwrap().0 + gap;
            prop_assert_eq!(w.get_best(now), naive_record(&samples, ttl, now, better));
        }

        #[test]
        fn line_chart_equals_naive_extremum((samples, ttl) in series(), larger in any::<bool>(), cur in 0i32..50, gap in 0i64..700_000) {
            let better = if larger { Better::Larger } else { Better::Smaller };
            let mut w = LineChartWindow::new(ttl, better);
            for &(ts, v) in &samples {
                w.append(ts, v);
            }
            let now = samples.last().unwrap().0 + gap;
            prop_assert_eq!(w.get_best(now, cur), Some(naive_line(&samples, ttl, now, cur, better)));
        }
    }
}

#[cfg(test)]
mod go_tests;
