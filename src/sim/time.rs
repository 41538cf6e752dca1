//! Simulated time: integer microseconds. [`SimTime`] is a point (microseconds since the start
//! of the run), [`SimDuration`] a span; a point plus a span is a point, the difference of two
//! points a span, and two points do not add. No floating-point clock: durations computed in
//! floating point are rounded half-up to whole microseconds once, where they are produced
//! ([`SimDuration::from_micros_f64`]).
//!
//! Arithmetic is that of `i64` (in release builds it wraps where `i64` would); the
//! `saturating_*` methods are for sums that may reach the ends of time (`SimTime::MAX`).

use std::ops::{Add, AddAssign, Div, Mul, Sub};

pub const MICROS_PER_MS: i64 = 1_000;
pub const MICROS_PER_SEC: i64 = 1_000_000;

/// A point in simulated time: microseconds since the start of the run (before it, for the
/// raw timestamps of a trace not yet rebased).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimTime(i64);

/// A span of simulated time, in microseconds (negative only as the difference of two points
/// in the wrong order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimDuration(i64);

impl SimTime {
    /// The start of the run.
    pub const ZERO: SimTime = SimTime(0);
    /// The end of time: never reached.
    pub const MAX: SimTime = SimTime(i64::MAX);
    /// Before anything.
    pub const MIN: SimTime = SimTime(i64::MIN);

    pub const fn from_micros(us: i64) -> Self {
        SimTime(us)
    }

    pub const fn from_secs(s: i64) -> Self {
        SimTime(s * MICROS_PER_SEC)
    }

    pub const fn as_micros(self) -> i64 {
        self.0
    }

    /// Seconds since the start, for reports.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / MICROS_PER_SEC as f64
    }

    /// The span from the start to this point.
    pub const fn since_start(self) -> SimDuration {
        SimDuration(self.0)
    }

    pub const fn saturating_add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }

    pub const fn saturating_sub(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_sub(d.0))
    }

    /// `self - earlier`, saturating.
    pub const fn saturating_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    pub const ZERO: SimDuration = SimDuration(0);
    /// Forever.
    pub const MAX: SimDuration = SimDuration(i64::MAX);

    pub const fn from_micros(us: i64) -> Self {
        SimDuration(us)
    }

    pub const fn from_millis(ms: i64) -> Self {
        SimDuration(ms * MICROS_PER_MS)
    }

    pub const fn from_secs(s: i64) -> Self {
        SimDuration(s * MICROS_PER_SEC)
    }

    /// Fractional microseconds, rounded half-up ([`round_micros`]).
    pub fn from_micros_f64(us: f64) -> Self {
        SimDuration(round_micros(us))
    }

    pub const fn as_micros(self) -> i64 {
        self.0
    }

    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / MICROS_PER_SEC as f64
    }

    /// The span for people, in days, hours, minutes and seconds, each unit shown when it is
    /// not 0: `45 min`, `1 h 30 min`, `7 d`, `1 min 30 s`, `0.25 s`; exact to the millisecond
    /// (rounded), so that a report never hides part of a duration the scenario wrote.
    pub fn human(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let ms = (self.0.unsigned_abs() + 500) / 1_000;
        let units = [
            (ms / 86_400_000, "d"),
            (ms / 3_600_000 % 24, "h"),
            (ms / 60_000 % 60, "min"),
        ];
        let mut parts: Vec<String> = (units.iter())
            .filter(|(n, _)| *n > 0)
            .map(|(n, unit)| format!("{n} {unit}"))
            .collect();
        let sec_ms = ms % 60_000;
        if sec_ms > 0 || parts.is_empty() {
            let secs = format!("{}.{:03}", sec_ms / 1_000, sec_ms % 1_000);
            let secs = secs.trim_end_matches('0').trim_end_matches('.');
            parts.push(format!("{secs} s"));
        }
        format!("{sign}{}", parts.join(" "))
    }

    /// The point this long after the start.
    pub const fn after_start(self) -> SimTime {
        SimTime(self.0)
    }

    pub const fn saturating_add(self, d: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(d.0))
    }

    pub const fn saturating_mul(self, n: i64) -> SimDuration {
        SimDuration(self.0.saturating_mul(n))
    }

    /// The remainder of the Euclidean division by `d`: in `[0, d)` for a positive `d`.
    pub const fn rem_euclid(self, d: SimDuration) -> SimDuration {
        SimDuration(self.0.rem_euclid(d.0))
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0 + d.0)
    }
}

impl Sub<SimDuration> for SimTime {
    type Output = SimTime;
    fn sub(self, d: SimDuration) -> SimTime {
        SimTime(self.0 - d.0)
    }
}

impl Sub for SimTime {
    type Output = SimDuration;
    fn sub(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0 - earlier.0)
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, d: SimDuration) -> SimDuration {
        SimDuration(self.0 + d.0)
    }
}

impl AddAssign for SimDuration {
    fn add_assign(&mut self, d: SimDuration) {
        self.0 += d.0;
    }
}

impl Sub for SimDuration {
    type Output = SimDuration;
    fn sub(self, d: SimDuration) -> SimDuration {
        SimDuration(self.0 - d.0)
    }
}

impl Mul<i64> for SimDuration {
    type Output = SimDuration;
    fn mul(self, n: i64) -> SimDuration {
        SimDuration(self.0 * n)
    }
}

impl Mul<SimDuration> for i64 {
    type Output = SimDuration;
    fn mul(self, d: SimDuration) -> SimDuration {
        SimDuration(self * d.0)
    }
}

impl Div<i64> for SimDuration {
    type Output = SimDuration;
    fn div(self, n: i64) -> SimDuration {
        SimDuration(self.0 / n)
    }
}

/// How many whole `d` fit (truncated, as `i64` division).
impl Div for SimDuration {
    type Output = i64;
    fn div(self, d: SimDuration) -> i64 {
        self.0 / d.0
    }
}

/// Rounds fractional microseconds half-up to whole microseconds, saturating; NaN is 0.
pub fn round_micros(us: f64) -> i64 {
    if us.is_nan() {
        return 0;
    }
    (us + 0.5).floor() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_half_up() {
        assert_eq!(round_micros(1.5), 2);
        assert_eq!(round_micros(1.4999), 1);
        assert_eq!(round_micros(0.0), 0);
        assert_eq!(round_micros(f64::NAN), 0);
        assert_eq!(
            SimDuration::from_micros_f64(42.5),
            SimDuration::from_micros(43)
        );
        assert_eq!(SimDuration::from_micros(1_500_000).as_secs_f64(), 1.5);
    }

    #[test]
    fn spans_read_in_days_hours_minutes_and_seconds() {
        let human = |s: i64| SimDuration::from_secs(s).human();
        assert_eq!(human(2_700), "45 min");
        assert_eq!(human(5_400), "1 h 30 min");
        assert_eq!(human(7 * 86_400), "7 d");
        assert_eq!(human(86_400 + 3_600 + 1), "1 d 1 h 1 s");
        assert_eq!(human(90), "1 min 30 s");
        assert_eq!(human(15), "15 s");
        assert_eq!(human(0), "0 s");
        assert_eq!(human(-90), "-1 min 30 s");
        assert_eq!(SimDuration::from_millis(250).human(), "0.25 s");
        assert_eq!(SimDuration::from_micros(61_000_400).human(), "1 min 1 s");
        assert_eq!(SimDuration::MAX.human(), "106751991 d 4 h 54.776 s");
    }

    #[test]
    fn points_and_spans() {
        let t = SimTime::from_secs(10);
        let d = SimDuration::from_millis(2_500);
        assert_eq!(t + d, SimTime::from_micros(12_500_000));
        assert_eq!((t + d) - t, d);
        assert_eq!(t - d, SimTime::from_micros(7_500_000));
        assert_eq!(SimTime::MAX.saturating_add(d), SimTime::MAX);
        assert_eq!(
            SimTime::ZERO.saturating_since(t),
            SimDuration::from_secs(-10)
        );
        assert_eq!(d * 4 / 2, SimDuration::from_secs(5));
        assert_eq!(SimDuration::from_secs(7) / d, 2);
        assert_eq!(
            SimDuration::from_secs(7).rem_euclid(d),
            SimDuration::from_secs(2)
        );
        assert_eq!(d.after_start().since_start(), d);
    }
}
