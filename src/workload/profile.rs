//! Request rates over time, as the thinning of [`super::PoissonSource`] needs them: the
//! rate at any instant, the peak to thin against, and when the rate falls to zero for good.

use std::f64::consts::TAU;

use crate::sim::{SimDuration, SimTime};

/// A rate profile in requests per second, already validated.
#[derive(Debug, Clone, PartialEq)]
pub enum RateProfile {
    /// The same rate throughout.
    Constant(f64),
    /// `(time, rate)` points sorted by time, linear between points and constant outside them.
    /// Two points at one instant make a step: the second one holds from that instant on.
    Points(Vec<(SimTime, f64)>),
    /// A raised cosine between `peak · trough_ratio` and `peak`, at its peak at `peak_at`
    /// (and every `period` before and after).
    Diurnal {
        peak: f64,
        trough_ratio: f64,
        peak_at: SimTime,
        period: SimDuration,
    },
}

impl RateProfile {
    /// The rate at `t`.
    pub fn rate_at(&self, t: SimTime) -> f64 {
        match self {
            RateProfile::Constant(rate) => *rate,
            RateProfile::Points(points) => {
                // The last point at or before `t`; with a step, the later of its two points.
                let after = points.partition_point(|&(at, _)| at <= t);
                match (after.checked_sub(1), points.get(after)) {
                    (None, _) => points.first().map_or(0.0, |&(_, rate)| rate),
                    (Some(i), None) => points[i].1,
                    (Some(i), Some(&(t1, r1))) => {
                        let (t0, r0) = points[i];
                        // t0 <= t < t1, so the span is never zero.
                        r0 + (r1 - r0)
                            * ((t - t0).as_micros() as f64 / (t1 - t0).as_micros() as f64)
                    }
                }
            }
            RateProfile::Diurnal {
                peak,
                trough_ratio,
                peak_at,
                period,
            } => {
                // The phase in integer time, so that a long run loses no precision.
                let phase = (t - *peak_at).rem_euclid(*period).as_micros() as f64
                    / period.as_micros() as f64;
                let wave = 0.5 * (1.0 + (TAU * phase).cos());
                peak * (trough_ratio + (1.0 - trough_ratio) * wave)
            }
        }
    }

    /// The highest rate the profile ever reaches: thinning draws candidates at this rate.
    pub fn peak(&self) -> f64 {
        match self {
            RateProfile::Constant(rate) => *rate,
            RateProfile::Points(points) => points.iter().map(|&(_, rate)| rate).fold(0.0, f64::max),
            RateProfile::Diurnal { peak, .. } => *peak,
        }
    }

    /// The instant from which the rate is zero for ever, if there is one, so that a source
    /// can end there instead of drawing candidates that are all rejected.
    pub fn silent_from(&self) -> Option<SimTime> {
        match self {
            RateProfile::Constant(rate) => (*rate <= 0.0).then_some(SimTime::MIN),
            RateProfile::Points(points) => match points.iter().rposition(|&(_, r)| r > 0.0) {
                // All zero: silent everywhere, before the first point too.
                None => Some(SimTime::MIN),
                // The rate falls linearly to zero at the point after the last positive one.
                Some(last) => points.get(last + 1).map(|&(at, _)| at),
            },
            RateProfile::Diurnal { peak, .. } => (*peak <= 0.0).then_some(SimTime::MIN),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` seconds after the start.
    fn s(n: i64) -> SimTime {
        SimTime::from_secs(n)
    }

    #[test]
    fn points_are_linear_between_and_constant_outside() {
        let p = RateProfile::Points(vec![(s(10), 2.0), (s(20), 4.0)]);
        assert_eq!(p.rate_at(s(0)), 2.0);
        assert_eq!(p.rate_at(s(10)), 2.0);
        assert_eq!(p.rate_at(s(15)), 3.0);
        assert_eq!(p.rate_at(s(20)), 4.0);
        assert_eq!(p.rate_at(s(1_000)), 4.0);
        assert_eq!(p.peak(), 4.0);
    }

    #[test]
    fn two_points_at_one_instant_make_a_step() {
        let p = RateProfile::Points(vec![(s(0), 1.0), (s(60), 1.0), (s(60), 9.0), (s(120), 9.0)]);
        assert_eq!(p.rate_at(s(60) - SimDuration::from_micros(1)), 1.0);
        assert_eq!(p.rate_at(s(60)), 9.0);
        assert_eq!(p.rate_at(s(90)), 9.0);
    }

    #[test]
    fn diurnal_peaks_at_peak_at_and_bottoms_half_a_period_later() {
        let day = SimDuration::from_secs(86_400);
        let p = RateProfile::Diurnal {
            peak: 10.0,
            trough_ratio: 0.2,
            peak_at: s(14 * 3_600),
            period: day,
        };
        assert!((p.rate_at(s(14 * 3_600)) - 10.0).abs() < 1e-12);
        assert!((p.rate_at(s(14 * 3_600) + day) - 10.0).abs() < 1e-12);
        assert!((p.rate_at(s(2 * 3_600)) - 2.0).abs() < 1e-12);
        assert!((p.rate_at(s(8 * 3_600)) - 6.0).abs() < 1e-9);
    }

    #[test]
    fn silence_is_found_only_when_it_lasts() {
        assert_eq!(RateProfile::Constant(0.0).silent_from(), Some(SimTime::MIN));
        assert_eq!(RateProfile::Constant(1.0).silent_from(), None);
        let tail = RateProfile::Points(vec![(s(0), 5.0), (s(10), 0.0), (s(20), 0.0)]);
        assert_eq!(tail.silent_from(), Some(s(10)));
        let gap = RateProfile::Points(vec![(s(0), 5.0), (s(10), 0.0), (s(20), 3.0)]);
        assert_eq!(gap.silent_from(), None);
        let zero = RateProfile::Points(vec![(s(5), 0.0)]);
        assert_eq!(zero.silent_from(), Some(SimTime::MIN));
    }
}
