//! Port of `pkg/autoscaler/algorithm/recommendation.go` (identical at both revisions): the
//! metric-based replica recommendation (docs/engine.md §8). All arithmetic is `f64`, evaluated in
//! the Go order.

use std::collections::BTreeMap;

/// Metric name → value: one measured unit's sums, or the external (Prometheus) values.
pub type Metrics = BTreeMap<String, f64>;

/// `ceilDesired`'s cap.
pub const RECOMMENDATION_BOUND: i32 = 1_000_000_000;

/// The inputs of one recommendation (`RecommendedInstancesAlgorithm`).
#[derive(Debug, Clone, Copy)]
pub struct RecommendationInput<'a> {
    pub min_instances: i32,
    pub max_instances: i32,
    pub current_instances: i32,
    /// `tolerancePercent * 0.01`.
    pub tolerance: f64,
    /// Metric name → per-replica target, in policy order (the result does not depend on it).
    pub metric_targets: &'a [(String, f64)],
    pub unready_instances: i32,
    /// One entry per measured unit; `None` = the unit yielded no map.
    pub ready_instances_metrics: &'a [Option<Metrics>],
    pub external_metrics: &'a Metrics,
}

/// Why the recommendation is what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recommendation {
    /// `current` was below `min` or above `max`: the bound, before metrics are looked at.
    Bound(i32),
    /// Derived from the metrics (already clamped to `[min, max]`).
    Metrics(i32),
    /// No metric had a value: no decision.
    Skip,
}

impl Recommendation {
    pub fn value(self) -> Option<i32> {
        match self {
            Recommendation::Bound(v) | Recommendation::Metrics(v) => Some(v),
            Recommendation::Skip => None,
        }
    }
}

impl RecommendationInput<'_> {
    /// `GetRecommendedInstances`.
    pub fn get_recommended_instances(&self) -> Recommendation {
        let current = self.current_instances;
        if current < self.min_instances {
            return Recommendation::Bound(self.min_instances);
        }
        if current > self.max_instances {
            return Recommendation::Bound(self.max_instances);
        }
        let mut rec: Option<i32> = None;
        for (name, target) in self.metric_targets {
            let desired = match self.external_metrics.get(name) {
                Some(&value) => self.desired_external(*target, value),
                None => match self.desired_pod(name, *target) {
                    Some(d) => d,
                    None => continue,
                },
            };
            rec = Some(rec.map_or(desired, |r| r.max(desired)));
        }
        match rec {
            // `min(max(rec, min), max)`: with min > max the result is max.
            Some(r) => Recommendation::Metrics(r.max(self.min_instances).min(self.max_instances)),
            None => Recommendation::Skip,
        }
    }

    /// A whole-target value (Prometheus): tolerance compares `desired / current` with 1.
    fn desired_external(&self, target: f64, metric: f64) -> i32 {
        let desired = metric / target;
        let ratio = desired / self.current_instances as f64;
        if (ratio - 1.0).abs() <= self.tolerance {
            return self.current_instances;
        }
        ceil_desired(desired)
    }

    /// Per-unit samples, with missing units assumed at target when scaling down and unready
    /// instances assumed at 0 when scaling up.
    fn desired_pod(&self, name: &str, target: f64) -> Option<i32> {
        let current = self.current_instances;
        let mut sum = 0.0f64;
        let mut present: i32 = 0;
        let mut missing: i32 = 0;
        for m in self.ready_instances_metrics {
            match m.as_ref().and_then(|m| m.get(name)) {
                Some(v) => {
                    present += 1;
                    sum += v;
                }
                None => missing += 1,
            }
        }
        if present == 0 {
            return None;
        }
        let ratio = (sum / present as f64) / target;
        let add_unready = self.unready_instances > 0 && direction(ratio) > 0;
        if !add_unready && missing == 0 {
            if (ratio - 1.0).abs() <= self.tolerance {
                return Some(current);
            }
            return Some(ceil_desired(ratio * present as f64));
        }
        let mut count = present.wrapping_add(missing);
        if direction(ratio) < 0 {
            sum += missing as f64 * target;
        }
        if add_unready {
            count = count.wrapping_add(self.unready_instances);
        }
        let new_ratio = (sum / count as f64) / target;
        if (new_ratio - 1.0).abs() <= self.tolerance || direction(ratio) != direction(new_ratio) {
            return Some(current);
        }
        let desired = ceil_desired(new_ratio * count as f64);
        if (direction(new_ratio) < 0 && desired > current)
            || (direction(new_ratio) > 0 && desired < current)
        {
            return Some(current);
        }
        Some(desired)
    }
}

/// +1 when scaling up (ratio ≥ 1), −1 otherwise (NaN included).
fn direction(ratio: f64) -> i32 {
    if ratio >= 1.0 {
        1
    } else {
        -1
    }
}

/// `ceilDesired`: NaN → 0, negative → 0, capped at 1e9.
pub fn ceil_desired(v: f64) -> i32 {
    if v.is_nan() {
        return 0;
    }
    let v = v.ceil();
    if v < RECOMMENDATION_BOUND as f64 {
        // Values here are below 1e9, so the conversion is exact; -Inf saturates, then 0.
        return (v as i32).max(0);
    }
    RECOMMENDATION_BOUND
}

#[cfg(test)]
mod go_tests;
