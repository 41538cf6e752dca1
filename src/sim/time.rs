//! Simulated time: integer microseconds since the start of the run. No floating-point
//! clock: durations computed in floating point are rounded half-up to whole microseconds
//! once, where they are produced.

/// A point in simulated time, or a duration, in microseconds.
pub type SimTime = i64;

pub const MICROS_PER_MS: SimTime = 1_000;
pub const MICROS_PER_SEC: SimTime = 1_000_000;

/// Rounds a duration in (fractional) microseconds half-up to whole microseconds, saturating.
pub fn round_micros(us: f64) -> SimTime {
    if us.is_nan() {
        return 0;
    }
    (us + 0.5).floor() as SimTime
}

/// Seconds (float) to microseconds, rounded half-up.
pub fn secs_to_micros(s: f64) -> SimTime {
    round_micros(s * MICROS_PER_SEC as f64)
}

/// Microseconds to seconds, for reports.
pub fn micros_to_secs(t: SimTime) -> f64 {
    t as f64 / MICROS_PER_SEC as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_half_up() {
        assert_eq!(round_micros(1.5), 2);
        assert_eq!(round_micros(1.4999), 1);
        assert_eq!(round_micros(0.0), 0);
        assert_eq!(secs_to_micros(0.043), 43_000);
        assert_eq!(micros_to_secs(1_500_000), 1.5);
    }
}
