//! The expected number of arrivals since the start of the run under a rate profile,
//! `Λ(t) = ∫₀ᵗ rate`, and its inverse. A renewal process with mean gap 1 in "operational
//! time" Λ, mapped back to real time through Λ⁻¹, has the profile's rate at every instant
//! and keeps the gap distribution's shape (time warping). Thinning, as Poisson arrivals
//! use, would not do: thinning a renewal process that is not Poisson changes its shape.

use std::f64::consts::TAU;

use super::RateProfile;
use crate::sim::{SimDuration, SimTime, MICROS_PER_SEC};

const SECS_PER_MICRO: f64 = 1.0 / MICROS_PER_SEC as f64;

/// `Λ(t)` for a validated rate profile, with what it needs precomputed.
#[derive(Debug, Clone)]
pub(super) struct TimeWarp {
    profile: RateProfile,
    /// For a `Points` profile, `Λ` at each point.
    at_points: Vec<f64>,
    peak: f64,
}

impl TimeWarp {
    pub fn new(profile: RateProfile) -> Self {
        let mut at_points = Vec::new();
        if let RateProfile::Points(points) = &profile {
            let mut total = 0.0;
            let mut previous: Option<(SimTime, f64)> = None;
            for &(at, rate) in points {
                total += match previous {
                    // The rate before the first point is the first point's.
                    None => rate * at.as_micros() as f64 * SECS_PER_MICRO,
                    Some((t0, r0)) => {
                        0.5 * (r0 + rate) * (at - t0).as_micros() as f64 * SECS_PER_MICRO
                    }
                };
                at_points.push(total);
                previous = Some((at, rate));
            }
        }
        TimeWarp {
            peak: profile.peak(),
            profile,
            at_points,
        }
    }

    /// The expected number of arrivals in `[0, t)`.
    pub fn expected(&self, t: SimTime) -> f64 {
        match &self.profile {
            RateProfile::Constant(rate) => rate * t.as_micros() as f64 * SECS_PER_MICRO,
            RateProfile::Points(points) => {
                let after = points.partition_point(|&(at, _)| at <= t);
                match after.checked_sub(1) {
                    None => points
                        .first()
                        .map_or(0.0, |&(_, r)| r * t.as_micros() as f64 * SECS_PER_MICRO),
                    Some(i) => {
                        let (t0, r0) = points[i];
                        let dt = (t - t0).as_micros() as f64 * SECS_PER_MICRO;
                        let slope = points.get(after).map_or(0.0, |&(t1, r1)| {
                            // t0 <= t < t1, so the span is never zero.
                            (r1 - r0) / ((t1 - t0).as_micros() as f64 * SECS_PER_MICRO)
                        });
                        self.at_points[i] + r0 * dt + 0.5 * slope * dt * dt
                    }
                }
            }
            RateProfile::Diurnal {
                peak,
                trough_ratio,
                peak_at,
                period,
            } => {
                // rate = peak · (mean + swing · cos(2π (t - peak_at) / period)).
                let mean = 0.5 * (1.0 + trough_ratio);
                let swing = 0.5 * (1.0 - trough_ratio);
                let period_s = period.as_micros() as f64 * SECS_PER_MICRO;
                // Phases in integer time, so that a long run loses no precision.
                let sine = |t: SimTime| {
                    let phase = (t - *peak_at).rem_euclid(*period).as_micros() as f64;
                    (TAU * phase / period.as_micros() as f64).sin()
                };
                peak * (mean * t.as_micros() as f64 * SECS_PER_MICRO
                    + swing * period_s / TAU * (sine(t) - sine(SimTime::ZERO)))
            }
        }
    }

    /// The first instant after `after` at which `expected` reaches `target`, searched up to
    /// `end`; `None` when it does not before `end` (`expected(after)` is below `target`).
    pub fn reach(&self, target: f64, after: SimTime, end: SimTime) -> Option<SimTime> {
        let missing = target - self.expected(after);
        if missing <= 0.0 {
            return Some(after);
        }
        // The rate never exceeds the peak, so the answer is at least this far away; steps
        // then double until they pass it, and a bisection on whole microseconds finds it.
        let mut step = SimDuration::from_micros(
            ((missing / self.peak) * MICROS_PER_SEC as f64).max(1.0) as i64,
        );
        let mut low = after;
        loop {
            let high = low.saturating_add(step).min(end);
            if self.expected(high) >= target {
                return Some(self.bisect(target, low, high));
            }
            if high >= end {
                return None;
            }
            low = high;
            step = step.saturating_mul(2);
        }
    }

    /// The smallest `t` in `(low, high]` with `expected(t) >= target`, given
    /// `expected(low) < target <= expected(high)`.
    fn bisect(&self, target: f64, mut low: SimTime, mut high: SimTime) -> SimTime {
        let one = SimDuration::from_micros(1);
        while high - low > one {
            let middle = low + (high - low) / 2;
            if self.expected(middle) >= target {
                high = middle;
            } else {
                low = middle;
            }
        }
        high
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` seconds after the start.
    fn s(n: i64) -> SimTime {
        SimTime::from_secs(n)
    }

    /// Λ by the midpoint rule on a fine grid, to check the closed forms against.
    fn integral(profile: &RateProfile, t: SimTime) -> f64 {
        let step = SimDuration::from_millis(100);
        (0..t.since_start() / step)
            .map(|i| profile.rate_at(SimTime::ZERO + i * step + step / 2) * 0.1)
            .sum()
    }

    #[test]
    fn expected_counts_are_the_integral_of_the_rate() {
        let profiles = [
            RateProfile::Constant(2.5),
            RateProfile::Points(vec![
                (s(60), 1.0),
                (s(120), 5.0),
                (s(300), 5.0),
                (s(300), 0.0),
                (s(400), 3.0),
            ]),
            RateProfile::Diurnal {
                peak: 4.0,
                trough_ratio: 0.25,
                peak_at: s(100),
                period: SimDuration::from_secs(600),
            },
        ];
        for profile in profiles {
            let warp = TimeWarp::new(profile.clone());
            for t in [0, 30, 60, 90, 299, 300, 350, 1_000].map(s) {
                let (closed, numeric) = (warp.expected(t), integral(&profile, t));
                assert!(
                    (closed - numeric).abs() < 1e-6 * numeric.max(1.0),
                    "{profile:?} at {t:?}: {closed} vs {numeric}"
                );
            }
        }
    }

    #[test]
    fn reach_inverts_expected_to_the_microsecond() {
        let warp = TimeWarp::new(RateProfile::Points(vec![
            (s(0), 1.0),
            (s(100), 9.0),
            (s(100), 0.0),
            (s(200), 0.0),
            (s(200), 2.0),
        ]));
        for target in [0.5, 10.0, 499.9, 500.0, 500.5, 900.0] {
            let t = warp.reach(target, s(0), SimTime::MAX).unwrap();
            assert!(
                warp.expected(t) >= target
                    && warp.expected(t - SimDuration::from_micros(1)) < target
            );
        }
        // Nothing arrives while the rate is zero.
        let t = warp.reach(500.0 + 1e-9, s(0), SimTime::MAX).unwrap();
        assert!(t >= s(200), "{t:?}");
        assert_eq!(warp.reach(10_000.0, s(0), s(300)), None);
        assert_eq!(warp.reach(1.0, s(50), SimTime::MAX), Some(s(50)));
    }
}
