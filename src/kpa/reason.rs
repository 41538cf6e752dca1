//! Why the KPA decided what it did: one variant per rule of the decider (N1) and the
//! PodAutoscaler reconciler (N10), with the numbers a reader needs. `code()` is stable
//! snake_case for the timeline; `Display` is one sentence, times in seconds since the run's
//! start.

use std::fmt;

use super::spec::Metric;
use crate::sim::{SimDuration, SimTime};

/// Where the scale-to-zero sequence stands (docs/other-autoscalers.md §4).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ZeroWait {
    /// Desired 0, but the PA has not been Active for a whole stable window: one pod stays.
    KeepOne { until: SimTime },
    /// Active for a whole stable window: the PA turns Inactive and the activator takes over.
    Deactivating,
    /// Inactive, waiting for the last-pod retention period.
    Retention { since: SimTime, until: SimTime },
    /// Inactive, waiting for the activator to have been in the path for the grace period.
    Grace { since: SimTime, until: SimTime },
    /// Inactive, but the activator is not in the path yet.
    ActivatorNotInPath,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    /// The decider has no stat in its stable window: the last decision stands.
    NoData {
        window: SimDuration,
        kept: i32,
    },
    /// Stable mode: the stable-window average over the per-pod target.
    Stable {
        metric: Metric,
        observed: f64,
        window: SimDuration,
        target: f64,
        desired: i32,
    },
    /// Panic mode: the larger of the stable and panic counts, never lower than before.
    Panic {
        /// Panic-window demand over what the ready pods aim at.
        ratio: f64,
        window: SimDuration,
        desired: i32,
        /// The count this tick computed, when the ratchet holds a higher one.
        computed: i32,
    },
    /// The count was clamped to what `max-scale-up-rate` / `max-scale-down-rate` allow from
    /// the ready pods.
    RateLimited {
        wanted: f64,
        desired: i32,
        ready: i32,
    },
    /// Raised to `activation-scale` on the way up from zero.
    ActivationScale {
        desired: i32,
    },
    /// Held at the maximum of the decisions within `scale-down-delay`.
    ScaleDownDelay {
        delay: SimDuration,
        held: i32,
        computed: i32,
    },
    MinScale {
        min: i32,
        computed: i32,
    },
    MaxScale {
        max: i32,
        computed: i32,
    },
    /// Held at `initial-scale` until that many pods have been ready once.
    InitialScale {
        initial: i32,
        computed: i32,
    },
    /// `enable-scale-to-zero: false` turns a desired 0 into 1.
    ScaleToZeroDisabled,
    /// Waiting for pods to become ready after scaling from zero or at creation.
    Activating {
        since: SimTime,
    },
    /// Pods did not become ready within the progress deadline: back to 0.
    ActivationTimeout {
        since: SimTime,
    },
    ScaleToZeroPending(ZeroWait),
    /// The last pod goes.
    ScaleToZero {
        inactive_since: SimTime,
        grace: SimDuration,
        /// The activator had been in the path for the grace period already.
        fast_path: bool,
    },
}

impl Reason {
    pub fn code(&self) -> &'static str {
        match self {
            Reason::NoData { .. } => "no_data",
            Reason::Stable { .. } => "stable",
            Reason::Panic { .. } => "panic",
            Reason::RateLimited { .. } => "rate_limited",
            Reason::ActivationScale { .. } => "activation_scale",
            Reason::ScaleDownDelay { .. } => "scale_down_delay",
            Reason::MinScale { .. } => "min_scale",
            Reason::MaxScale { .. } => "max_scale",
            Reason::InitialScale { .. } => "initial_scale",
            Reason::ScaleToZeroDisabled => "scale_to_zero_disabled",
            Reason::Activating { .. } => "activating",
            Reason::ActivationTimeout { .. } => "activation_timeout",
            Reason::ScaleToZeroPending(_) => "scale_to_zero_pending",
            Reason::ScaleToZero { .. } => "scale_to_zero",
        }
    }
}

/// `t=92s`, or `t=92.5s` off the whole second.
struct At(SimTime);

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.0.as_micros();
        if us % 1_000_000 == 0 {
            write!(f, "t={}s", us / 1_000_000)
        } else {
            write!(f, "t={:.1}s", self.0.as_secs_f64())
        }
    }
}

/// `60 s`, or `0.5 s`.
struct Secs(SimDuration);

impl fmt::Display for Secs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.0.as_micros();
        if us % 1_000_000 == 0 {
            write!(f, "{} s", us / 1_000_000)
        } else {
            write!(f, "{:.1} s", self.0.as_secs_f64())
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::NoData { window, kept } if *kept < 0 => {
                write!(f, "KPA: no data in the {} stable window", Secs(*window))
            }
            Reason::NoData { window, kept } => write!(
                f,
                "KPA: no data in the {} stable window (keeping {kept})",
                Secs(*window)
            ),
            Reason::Stable {
                metric,
                observed,
                window,
                target,
                desired,
            } => write!(
                f,
                "KPA stable: {observed:.1} {} over {} / target {target:.1} → {desired}",
                metric.unit(),
                Secs(*window)
            ),
            Reason::Panic {
                ratio,
                window,
                desired,
                computed,
            } => {
                write!(
                    f,
                    "KPA panic mode: {ratio:.1}× target in the {} window",
                    Secs(*window)
                )?;
                if computed < desired {
                    write!(f, " (holding {desired}, computed {computed})")
                } else {
                    write!(f, " (desired {desired})")
                }
            }
            Reason::RateLimited {
                wanted,
                desired,
                ready,
            } => write!(
                f,
                "KPA: rate-limited to {desired} from {ready} ready (wanted {wanted:.0})"
            ),
            Reason::ActivationScale { desired } => {
                write!(f, "KPA: raised to activation-scale {desired}")
            }
            Reason::ScaleDownDelay {
                delay,
                held,
                computed,
            } => write!(
                f,
                "KPA: scale-down delay {} holds {held} (computed {computed})",
                Secs(*delay)
            ),
            Reason::MinScale { min, computed } => {
                write!(f, "KPA: raised to min-scale {min} (computed {computed})")
            }
            Reason::MaxScale { max, computed } => {
                write!(f, "KPA: capped at max-scale {max} (computed {computed})")
            }
            Reason::InitialScale { initial, computed } => write!(
                f,
                "KPA: held at initial-scale {initial} until reached (computed {computed})"
            ),
            Reason::ScaleToZeroDisabled => {
                write!(
                    f,
                    "KPA: desired 0, kept at 1 (enable-scale-to-zero is false)"
                )
            }
            Reason::Activating { since } => {
                write!(
                    f,
                    "KPA: activating since {}, waiting for ready pods",
                    At(*since)
                )
            }
            Reason::ActivationTimeout { since } => write!(
                f,
                "KPA: scaling to 0, pods not ready since {} (progress deadline over)",
                At(*since)
            ),
            Reason::ScaleToZeroPending(wait) => match wait {
                ZeroWait::KeepOne { until } => write!(
                    f,
                    "KPA: desired 0, keeping 1 pod until active for a stable window ({})",
                    At(*until)
                ),
                ZeroWait::Deactivating => write!(
                    f,
                    "KPA: desired 0, marking the revision inactive (activator into the path)"
                ),
                ZeroWait::Retention { since, until } => write!(
                    f,
                    "KPA: inactive since {}, keeping the last pod until {} (retention)",
                    At(*since),
                    At(*until)
                ),
                ZeroWait::Grace { since, until } => write!(
                    f,
                    "KPA: inactive since {}, waiting for the grace period until {}",
                    At(*since),
                    At(*until)
                ),
                ZeroWait::ActivatorNotInPath => write!(
                    f,
                    "KPA: inactive, waiting for the activator to be in the path"
                ),
            },
            Reason::ScaleToZero {
                inactive_since,
                grace,
                fast_path,
            } => {
                if *fast_path {
                    write!(
                        f,
                        "KPA: scaling to 0 (inactive since {}, activator in the path for the {} grace)",
                        At(*inactive_since),
                        Secs(*grace)
                    )
                } else {
                    write!(
                        f,
                        "KPA: scaling to 0 (inactive since {}, grace {} over)",
                        At(*inactive_since),
                        Secs(*grace)
                    )
                }
            }
        }
    }
}
