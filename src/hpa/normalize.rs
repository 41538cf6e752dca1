//! From the metrics' proposal to the replica count the HPA writes: stabilisation, rate limits
//! and bounds. The port of K2 `pkg/controller/podautoscaler/horizontal.go`
//! (`stabilizeRecommendation`, `convertDesiredReplicasWithRules`, `calculateScaleUpLimit` for
//! the legacy path; `stabilizeRecommendationWithBehaviors`,
//! `convertDesiredReplicasWithBehaviorRate`, `calculateScale{Up,Down}ScalingLimited…`,
//! `getReplicasChangePerPeriod`, `storeScaleEvent`, `markScaleEventsOutdated` for `behavior`).
//! `time.Now()` of the Go code is the `now` argument.

use super::spec::{Behavior, PolicyKind, Rules, SelectPolicy};
use crate::sim::{SimDuration, SimTime};

/// K2 `timestampedRecommendation`: an unstabilised proposal and when it was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Recommendation {
    pub(super) replicas: i32,
    pub(super) at: SimTime,
}

/// K2 `timestampedScaleEvent`: a change the HPA wrote (always > 0; direction by list).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ScaleEvent {
    pub(super) change: i32,
    pub(super) at: SimTime,
    pub(super) outdated: bool,
}

/// The `ScalingLimited` condition reasons of K2: what bound the result, if anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ScalingLimited {
    DesiredWithinRange,
    TooFewReplicas,
    TooManyReplicas,
    ScaleUpLimit,
    ScaleDownLimit,
}

/// K2 `scaleUpLimitFactor` and `scaleUpLimitMinimum`.
const SCALE_UP_LIMIT_FACTOR: f64 = 2.0;
const SCALE_UP_LIMIT_MINIMUM: f64 = 4.0;

fn secs(s: i32) -> SimDuration {
    SimDuration::from_secs(i64::from(s))
}

/// Records `proposal` at `now`, reusing the last slot `is_old` marks (K2 keeps the list from
/// growing this way).
fn record(recs: &mut Vec<Recommendation>, old: Option<usize>, proposal: i32, now: SimTime) {
    let rec = Recommendation {
        replicas: proposal,
        at: now,
    };
    match old {
        Some(i) => recs[i] = rec,
        None => recs.push(rec),
    }
}

/// K2 `stabilizeRecommendation` (legacy path): the highest recommendation not older than the
/// window, this one included. A recommendation exactly one window old still counts (only
/// `Before(cutoff)` is out, docs/other-autoscalers.md §2).
pub(super) fn stabilize_recommendation(
    recs: &mut Vec<Recommendation>,
    now: SimTime,
    window: SimDuration,
    proposal: i32,
) -> i32 {
    let cutoff = now - window;
    let mut max = proposal;
    let mut old = None;
    for (i, r) in recs.iter().enumerate() {
        if r.at < cutoff {
            old = Some(i);
        } else if r.replicas > max {
            max = r.replicas;
        }
    }
    record(recs, old, proposal, now);
    max
}

/// K2 `calculateScaleUpLimit`: without `behavior`, at most double, and at least 4.
pub(super) fn calculate_scale_up_limit(current: i32) -> i32 {
    (SCALE_UP_LIMIT_FACTOR * f64::from(current)).max(SCALE_UP_LIMIT_MINIMUM) as i32
}

/// K2 `convertDesiredReplicasWithRules`: bounds and the legacy scale-up limit, measured from
/// the current count.
pub(super) fn convert_desired_replicas_with_rules(
    current: i32,
    desired: i32,
    min: i32,
    max: i32,
) -> (i32, ScalingLimited) {
    let scale_up_limit = calculate_scale_up_limit(current);
    let (maximum, limit) = if max > scale_up_limit {
        (scale_up_limit, ScalingLimited::ScaleUpLimit)
    } else {
        (max, ScalingLimited::TooManyReplicas)
    };
    if desired < min {
        (min, ScalingLimited::TooFewReplicas)
    } else if desired > maximum {
        (maximum, limit)
    } else {
        (desired, ScalingLimited::DesiredWithinRange)
    }
}

/// K2 `stabilizeRecommendationWithBehaviors`: move from `current` towards the proposal only as
/// far as every recommendation of each window agrees (strictly younger than the window: one
/// exactly a window old is out). Records the unstabilised proposal.
pub(super) fn stabilize_recommendation_with_behaviors(
    recs: &mut Vec<Recommendation>,
    now: SimTime,
    up_window: SimDuration,
    down_window: SimDuration,
    current: i32,
    proposal: i32,
) -> i32 {
    let up_cutoff = now - up_window;
    let down_cutoff = now - down_window;
    let (mut up, mut down) = (proposal, proposal);
    let mut old = None;
    for (i, r) in recs.iter().enumerate() {
        if r.at > up_cutoff {
            up = up.min(r.replicas);
        }
        if r.at > down_cutoff {
            down = down.max(r.replicas);
        }
        if r.at < up_cutoff && r.at < down_cutoff {
            old = Some(i);
        }
    }
    let stabilized = current.max(up).min(down);
    record(recs, old, proposal, now);
    stabilized
}

/// K2 `getReplicasChangePerPeriod`: the changes strictly younger than the period.
pub(super) fn get_replicas_change_per_period(
    now: SimTime,
    period_s: i32,
    events: &[ScaleEvent],
) -> i32 {
    let cutoff = now - secs(period_s);
    events
        .iter()
        .filter(|e| e.at > cutoff)
        .map(|e| e.change)
        .sum()
}

/// The replica count at the start of a policy's period.
fn period_start(
    now: SimTime,
    current: i32,
    period_s: i32,
    up: &[ScaleEvent],
    down: &[ScaleEvent],
) -> i32 {
    current - get_replicas_change_per_period(now, period_s, up)
        + get_replicas_change_per_period(now, period_s, down)
}

/// K2 `calculateScaleUpLimitWithScalingRules`: the highest count the policies allow now
/// (`Max`: the most permissive policy, `Min`: the least).
pub(super) fn calculate_scale_up_limit_with_scaling_rules(
    now: SimTime,
    current: i32,
    up: &[ScaleEvent],
    down: &[ScaleEvent],
    rules: &Rules,
) -> i32 {
    let pick: fn(i32, i32) -> i32 = match rules.select_policy {
        SelectPolicy::Disabled => return current,
        SelectPolicy::Min => std::cmp::min,
        SelectPolicy::Max => std::cmp::max,
    };
    let mut result = if rules.select_policy == SelectPolicy::Min {
        i32::MAX
    } else {
        i32::MIN
    };
    for p in &rules.policies {
        let start = period_start(now, current, p.period_s, up, down);
        let proposed = match p.kind {
            PolicyKind::Pods => start + p.value,
            // Rounded up so that a small percentage still adds a pod.
            PolicyKind::Percent => {
                (f64::from(start) * (1.0 + f64::from(p.value) / 100.0)).ceil() as i32
            }
        };
        result = pick(result, proposed);
    }
    result
}

/// K2 `calculateScaleDownLimitWithBehaviors`: the lowest count the policies allow now
/// (`Max`: the largest change, so the lowest count; `Min`: the highest).
pub(super) fn calculate_scale_down_limit_with_behaviors(
    now: SimTime,
    current: i32,
    up: &[ScaleEvent],
    down: &[ScaleEvent],
    rules: &Rules,
) -> i32 {
    let pick: fn(i32, i32) -> i32 = match rules.select_policy {
        SelectPolicy::Disabled => return current,
        SelectPolicy::Min => std::cmp::max,
        SelectPolicy::Max => std::cmp::min,
    };
    let mut result = if rules.select_policy == SelectPolicy::Min {
        i32::MIN
    } else {
        i32::MAX
    };
    for p in &rules.policies {
        let start = period_start(now, current, p.period_s, up, down);
        let proposed = match p.kind {
            PolicyKind::Pods => start - p.value,
            // Truncated, not rounded: a percentage removes whole pods only.
            PolicyKind::Percent => (f64::from(start) * (1.0 - f64::from(p.value) / 100.0)) as i32,
        };
        result = pick(result, proposed);
    }
    result
}

/// The scaling history and bounds `convert_desired_replicas_with_behavior_rate` reads.
pub(super) struct RateArgs<'a> {
    pub(super) now: SimTime,
    pub(super) up_events: &'a [ScaleEvent],
    pub(super) down_events: &'a [ScaleEvent],
    pub(super) behavior: &'a Behavior,
    pub(super) min: i32,
    pub(super) max: i32,
}

/// K2 `convertDesiredReplicasWithBehaviorRate`: the rate limit of the direction of change,
/// with `maxReplicas` / `minReplicas` applied in the same step. A limit that would move the
/// count the other way (events of a changed policy) holds it at `current`.
pub(super) fn convert_desired_replicas_with_behavior_rate(
    a: &RateArgs,
    current: i32,
    desired: i32,
) -> (i32, ScalingLimited) {
    if desired > current {
        let limit = calculate_scale_up_limit_with_scaling_rules(
            a.now,
            current,
            a.up_events,
            a.down_events,
            &a.behavior.scale_up,
        )
        .max(current);
        let (maximum, why) = if a.max > limit {
            (limit, ScalingLimited::ScaleUpLimit)
        } else {
            (a.max, ScalingLimited::TooManyReplicas)
        };
        if desired > maximum {
            return (maximum, why);
        }
    } else if desired < current {
        let limit = calculate_scale_down_limit_with_behaviors(
            a.now,
            current,
            a.up_events,
            a.down_events,
            &a.behavior.scale_down,
        )
        .min(current);
        let (minimum, why) = if a.min < limit {
            (limit, ScalingLimited::ScaleDownLimit)
        } else {
            (a.min, ScalingLimited::TooFewReplicas)
        };
        if desired < minimum {
            return (minimum, why);
        }
    }
    (desired, ScalingLimited::DesiredWithinRange)
}

/// K2 `getLongestPolicyPeriod` (0 without policies).
fn get_longest_policy_period(rules: &Rules) -> i32 {
    rules
        .policies
        .iter()
        .map(|p| p.period_s)
        .max()
        .unwrap_or(0)
        .max(0)
}

/// K2 `markScaleEventsOutdated`: events older than the longest period are free slots.
fn mark_scale_events_outdated(events: &mut [ScaleEvent], now: SimTime, longest_period_s: i32) {
    let cutoff = now - secs(longest_period_s);
    for e in events.iter_mut().filter(|e| e.at < cutoff) {
        e.outdated = true;
    }
}

/// K2 `storeScaleEvent` for an HPA with `behavior`: records a rescale in the list of its
/// direction, in the last outdated slot if there is one.
pub(super) fn store_scale_event(
    now: SimTime,
    behavior: &Behavior,
    up_events: &mut Vec<ScaleEvent>,
    down_events: &mut Vec<ScaleEvent>,
    prev: i32,
    new: i32,
) {
    let (events, rules, change) = if new > prev {
        (up_events, &behavior.scale_up, new - prev)
    } else {
        (down_events, &behavior.scale_down, prev - new)
    };
    mark_scale_events_outdated(events, now, get_longest_policy_period(rules));
    let event = ScaleEvent {
        change,
        at: now,
        outdated: false,
    };
    match events.iter().rposition(|e| e.outdated) {
        Some(i) => events[i] = event,
        None => events.push(event),
    }
}
