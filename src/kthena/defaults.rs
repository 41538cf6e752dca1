//! Defaulting of `spec.behavior`, in the order the API server applies it (docs/engine.md §4.4):
//! CRD schema defaults inside the objects that are present, then the mutating webhook's
//! whole-object defaults. The mutator is identical at both revisions.

use super::spec::{BehaviorSpec, PanicPolicySpec, StablePolicySpec};
use crate::engine::policy::{
    Behavior, Duration, PanicPolicy, ScaleUpBehavior, SelectPolicy, StablePolicy,
};

/// Schema default of `tolerancePercent` (both generations).
pub const DEFAULT_TOLERANCE_PERCENT: i32 = 10;
/// Schema default of `heterogeneousTarget.costExpansionRatePercent`.
pub const DEFAULT_COST_EXPANSION_RATE_PERCENT: i32 = 200;
/// Schema defaults of v0.4 `metricEndpoint` (applied only when the object is present).
pub const DEFAULT_METRIC_ENDPOINT_URI: &str = "/metrics";
pub const DEFAULT_METRIC_ENDPOINT_PORT: i32 = 8100;

/// The webhook's `DEFAULT_SCALE_DOWN`.
pub fn webhook_scale_down() -> StablePolicy {
    StablePolicy {
        instances: 0,
        percent: 100,
        period: Some(Duration::from_millis(60_000)),
        select_policy: SelectPolicy::Or,
        stabilization_window: Some(Duration::from_millis(300_000)),
    }
}

/// The webhook's `DEFAULT_SCALE_UP_STABLE`.
pub fn webhook_scale_up_stable() -> StablePolicy {
    StablePolicy {
        instances: 4,
        percent: 100,
        period: Some(Duration::from_millis(60_000)),
        select_policy: SelectPolicy::Or,
        stabilization_window: Some(Duration::ZERO),
    }
}

/// The webhook's `DEFAULT_SCALE_UP_PANIC`: hold 0, so panic mode never activates.
pub fn webhook_scale_up_panic() -> PanicPolicy {
    PanicPolicy {
        percent: 0,
        period: Duration::ZERO,
        panic_threshold_percent: Some(200),
        panic_mode_hold: Some(Duration::ZERO),
    }
}

/// Schema defaults of a present `StablePolicy`; the webhook then fills a missing
/// stabilization window with `window`.
fn stable_with_schema_defaults(s: &StablePolicySpec, window: Duration) -> StablePolicy {
    StablePolicy {
        instances: s.instances.unwrap_or(1),
        percent: s.percent.unwrap_or(100),
        period: Some(s.period.unwrap_or(Duration::from_millis(15_000))),
        select_policy: s.select_policy.unwrap_or(SelectPolicy::Or),
        stabilization_window: Some(s.stabilization_window.unwrap_or(window)),
    }
}

/// Schema defaults of a present `PanicPolicy`. A missing `period` is a validation error
/// reported elsewhere; it reads as 0 here, as Go's zero value would.
fn panic_with_schema_defaults(p: &PanicPolicySpec) -> PanicPolicy {
    PanicPolicy {
        percent: p.percent.unwrap_or(1000),
        period: p.period.unwrap_or(Duration::ZERO),
        panic_threshold_percent: Some(p.panic_threshold_percent.unwrap_or(200)),
        panic_mode_hold: Some(p.panic_mode_hold.unwrap_or(Duration::from_millis(60_000))),
    }
}

/// The behaviour the engine receives for what the user wrote (`None` = no `behavior`).
///
/// After schema defaulting a present object is never "entirely zero", so the webhook's
/// "entirely zero" tests reduce to "absent" (docs/engine.md §4.4).
pub fn effective_behavior(spec: Option<&BehaviorSpec>) -> Behavior {
    let empty = BehaviorSpec::default();
    let spec = spec.unwrap_or(&empty);
    let scale_up = spec.scale_up.as_ref();
    let stable = scale_up.and_then(|u| u.stable_policy.as_ref());
    let panic = scale_up.and_then(|u| u.panic_policy.as_ref());
    let scale_down = match &spec.scale_down {
        Some(d) => stable_with_schema_defaults(d, Duration::from_millis(300_000)),
        None => webhook_scale_down(),
    };
    let (stable_policy, panic_policy) = match (stable, panic) {
        (None, None) => (webhook_scale_up_stable(), webhook_scale_up_panic()),
        (s, p) => (
            s.map_or_else(webhook_scale_up_stable, |s| {
                stable_with_schema_defaults(s, Duration::ZERO)
            }),
            p.map_or_else(webhook_scale_up_panic, panic_with_schema_defaults),
        ),
    };
    Behavior {
        scale_up: ScaleUpBehavior {
            stable_policy,
            panic_policy,
        },
        scale_down,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_behavior_gets_the_webhook_defaults_and_no_panic() {
        let b = effective_behavior(None);
        assert_eq!(b.scale_down, webhook_scale_down());
        assert_eq!(b.scale_up.stable_policy, webhook_scale_up_stable());
        assert_eq!(
            b.scale_up.panic_policy.panic_mode_hold,
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn empty_scale_down_gets_schema_defaults_and_a_five_minute_window() {
        let spec = BehaviorSpec {
            scale_down: Some(StablePolicySpec::default()),
            ..Default::default()
        };
        let b = effective_behavior(Some(&spec));
        assert_eq!(b.scale_down.instances, 1);
        assert_eq!(b.scale_down.period, Some(Duration::from_millis(15_000)));
        assert_eq!(
            b.scale_down.stabilization_window,
            Some(Duration::from_millis(300_000))
        );
        // scaleUp absent: both scale-up objects come from the webhook.
        assert_eq!(b.scale_up.stable_policy, webhook_scale_up_stable());
        assert_eq!(b.scale_up.panic_policy, webhook_scale_up_panic());
    }

    #[test]
    fn panic_with_only_a_period_is_active() {
        let spec = BehaviorSpec {
            scale_up: Some(super::super::spec::ScaleUpSpec {
                stable_policy: None,
                panic_policy: Some(PanicPolicySpec {
                    period: Some(Duration::from_millis(10_000)),
                    ..Default::default()
                }),
            }),
            scale_down: None,
        };
        let b = effective_behavior(Some(&spec));
        let p = &b.scale_up.panic_policy;
        assert_eq!((p.percent, p.panic_threshold_percent), (1000, Some(200)));
        assert_eq!(p.panic_mode_hold, Some(Duration::from_millis(60_000)));
        assert_eq!(b.scale_up.stable_policy, webhook_scale_up_stable());
    }
}
