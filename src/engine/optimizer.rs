//! Port of `pkg/autoscaler/autoscaler/optimizer.go`: the heterogeneous cost optimizer — block
//! construction, the cheapest-first split of a total, and the combination of external
//! metrics across targets (docs/engine.md §7.5, §11).

use std::collections::BTreeMap;

use super::metric_collector::MetricCollector;
use super::policy::HeterogeneousTarget;
use super::recommendation::Metrics;
use super::status::Status;

/// Suffixes of metric keys whose external values are averaged (weighted by replicas)
/// instead of summed across targets.
pub const RATIO_METRIC_SUFFIXES: [&str; 5] = [
    "_utilization",
    "_usage",
    "_ratio",
    "_percent",
    "_saturation",
];

/// One block of capacity of one target, filled as a unit in cost order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    /// Index into [`OptimizerMeta::keys`].
    pub key: usize,
    pub index: usize,
    pub size: i32,
    pub cost: i64,
}

/// `OptimizerMeta`: the bounds summed over params and the sorted blocks.
#[derive(Debug, Clone, PartialEq)]
pub struct OptimizerMeta {
    pub sum_min: i32,
    pub sum_max: i32,
    pub blocks: Vec<Block>,
    /// Distinct target keys in order of first appearance in `params`.
    pub keys: Vec<String>,
    /// Per key: the `minReplicas` of the last param with that key (a later one overwrites).
    pub key_min: Vec<i32>,
}

impl OptimizerMeta {
    /// `NewOptimizerMeta`; `target_keys[i]` is the target key of `params[i]`.
    pub fn new(target: &HeterogeneousTarget, target_keys: &[String]) -> Self {
        let rate = target.cost_expansion_rate_percent;
        let mut meta = OptimizerMeta {
            sum_min: 0,
            sum_max: 0,
            blocks: Vec::new(),
            keys: Vec::new(),
            key_min: Vec::new(),
        };
        for (index, (p, key)) in target.params.iter().zip(target_keys).enumerate() {
            let k = match meta.keys.iter().position(|x| x == key) {
                Some(k) => {
                    meta.key_min[k] = p.min_replicas;
                    k
                }
                None => {
                    meta.keys.push(key.clone());
                    meta.key_min.push(p.min_replicas);
                    meta.keys.len() - 1
                }
            };
            meta.sum_min = meta.sum_min.wrapping_add(p.min_replicas);
            meta.sum_max = meta.sum_max.wrapping_add(p.max_replicas);
            let mut cap = p.max_replicas.wrapping_sub(p.min_replicas);
            if cap <= 0 {
                continue;
            }
            if rate == 100 {
                // One block of the whole capacity, costed per replica.
                meta.blocks.push(Block {
                    key: k,
                    index,
                    size: cap,
                    cost: i64::from(p.cost),
                });
                continue;
            }
            let mut len = 1.0f64;
            while cap > 0 {
                let size = cap.min((len as i32).max(1));
                meta.blocks.push(Block {
                    key: k,
                    index,
                    size,
                    cost: i64::from(p.cost).wrapping_mul(i64::from(size)),
                });
                cap -= size;
                len = (len * rate as f64) / 100.0;
            }
        }
        meta.blocks.sort_by_key(|b| (b.cost, b.index));
        meta
    }

    /// `RestoreReplicasOfEachBackend`: the split of `total`, per distinct target key.
    pub fn restore(&self, total: i32) -> Vec<(String, i32)> {
        let mut out = self.key_min.clone();
        let mut remaining = total
            .max(self.sum_min)
            .min(self.sum_max)
            .wrapping_sub(self.sum_min);
        for b in &self.blocks {
            let slot = remaining.min(b.size);
            out[b.key] = out[b.key].wrapping_add(slot);
            remaining = remaining.wrapping_sub(slot);
            if remaining <= 0 {
                break;
            }
        }
        self.keys.iter().cloned().zip(out).collect()
    }
}

/// A heterogeneous policy's cached state.
#[derive(Debug, Clone)]
pub struct Optimizer {
    pub meta: OptimizerMeta,
    /// One collector per target key.
    pub collectors: BTreeMap<String, MetricCollector>,
    pub status: Status,
}

/// Whether a metric key names a ratio (docs/engine.md §7.5); the key is tested, not the query.
pub fn is_ratio_metric(name: &str) -> bool {
    let lower = name.to_lowercase();
    RATIO_METRIC_SUFFIXES.iter().any(|s| lower.ends_with(s))
}

/// Combines each external metric's `(value, replicas)` samples across targets, in `params`
/// order: ratios as a replica-weighted mean (plain mean with no replicas), others summed.
pub fn aggregate_external(samples: &BTreeMap<String, Vec<(f64, i32)>>) -> Metrics {
    samples
        .iter()
        .map(|(name, s)| {
            let v = if is_ratio_metric(name) {
                let replicas: i32 = s.iter().fold(0i32, |a, &(_, r)| a.wrapping_add(r));
                if replicas == 0 {
                    s.iter().map(|&(v, _)| v).sum::<f64>() / s.len() as f64
                } else {
                    s.iter().map(|&(v, r)| v * r as f64).sum::<f64>() / replicas as f64
                }
            } else {
                s.iter().map(|&(v, _)| v).sum()
            };
            (name.clone(), v)
        })
        .collect()
}

#[cfg(test)]
mod go_tests;
