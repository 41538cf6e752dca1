//! Port of `pkg/autoscaler/autoscaler/disaggregated_scaler.go` (HEAD): each role of a
//! disaggregated target scaled from its own metrics and history, then the ratio constraint
//! applied to the corrected counts (docs/engine.md §6.6).

use std::collections::BTreeMap;

use super::cluster::Cluster;
use super::decision::{AlgInput, Reason, RoleDecision};
use super::disaggregated_ratio::{enforce_ratio, RatioError};
use super::metric_collector::{CollectError, MetricCollector};
use super::policy::{DisaggregatedTarget, Policy, Target};
use super::recommendation::Recommendation;
use super::scaler::{record, scale_one_target, ScaleInput, ScaleOutcome};
use super::status::Status;
use super::EngineVersion;

/// One role's cached state.
#[derive(Debug, Clone)]
pub struct RoleScaler {
    pub collector: MetricCollector,
    pub status: Status,
}

/// A disaggregated policy's cached state: one scaler per role, by role name.
#[derive(Debug, Clone)]
pub struct DisaggregatedScaler {
    pub roles: BTreeMap<String, RoleScaler>,
}

/// The result of a non-skipped cycle.
#[derive(Debug, Clone, PartialEq)]
pub struct DisaggregatedResult {
    pub roles: Vec<RoleDecision>,
    pub ratio_adjusted: bool,
    /// `None` without a ratio constraint.
    pub current_ratio: Option<String>,
}

/// Why a cycle produced nothing.
#[derive(Debug, Clone, PartialEq)]
pub enum DisaggregatedSkip {
    /// A non-fixed role had no usable metrics: the whole cycle is abandoned.
    Role {
        role: String,
        reason: Reason,
    },
    Ratio(RatioError),
    Collect(CollectError),
}

impl DisaggregatedScaler {
    /// `NewDisaggregatedScaler`: per role a collector over the role's pods (the role label is
    /// forced into every pod source's selector) and its own status.
    pub fn new(
        policy: &Policy,
        target: &DisaggregatedTarget,
        namespace: &str,
        version: EngineVersion,
    ) -> Self {
        let roles = target
            .roles
            .iter()
            .map(|(name, role)| {
                let metric_targets = if role.is_fixed() {
                    Vec::new()
                } else if role.metrics.is_empty() {
                    super::autoscale_controller::metric_targets(&policy.metrics)
                } else {
                    super::autoscale_controller::metric_targets(&role.metrics)
                };
                let collector_target = Target {
                    target_ref: target.target_ref.clone(),
                    metric_sources: role.metric_sources.clone(),
                    ..Target::default()
                };
                let scaler = RoleScaler {
                    collector: MetricCollector::new(
                        Some(collector_target),
                        namespace.to_string(),
                        metric_targets,
                        Some(name.clone()),
                    ),
                    status: Status::new(&policy.behavior, version),
                };
                (name.clone(), scaler)
            })
            .collect();
        DisaggregatedScaler { roles }
    }

    /// `Scale`: `current` holds each configured role's current count.
    pub fn scale(
        &mut self,
        version: EngineVersion,
        now: i64,
        policy: &Policy,
        target: &DisaggregatedTarget,
        current: &BTreeMap<String, i32>,
        cluster: &dyn Cluster,
    ) -> Result<DisaggregatedResult, DisaggregatedSkip> {
        let mut corrected = BTreeMap::new();
        let mut bounds = BTreeMap::new();
        let mut pending: Vec<(String, ScaleOutcome, AlgInput)> = Vec::new();
        let mut fixed: Vec<String> = Vec::new();
        for (name, role) in &target.roles {
            bounds.insert(name.clone(), (role.min_replicas, role.max_replicas));
            let cur = current.get(name).copied().unwrap_or(1);
            if role.is_fixed() {
                corrected.insert(name.clone(), role.min_replicas);
                fixed.push(name.clone());
                continue;
            }
            let scaler = self
                .roles
                .get_mut(name)
                .expect("one scaler per configured role");
            let collected = scaler
                .collector
                .update_metrics(version, now, cluster)
                .map_err(DisaggregatedSkip::Collect)?;
            let ready = vec![collected.ready.clone()];
            let input = ScaleInput {
                version,
                now,
                behavior: &policy.behavior,
                min: role.min_replicas,
                max: role.max_replicas,
                current: cur,
                tolerance_percent: policy.tolerance_percent,
                metric_targets: &scaler.collector.metric_targets,
                unready: collected.unready,
                ready: &ready,
                external: &collected.external,
            };
            let Some(outcome) = scale_one_target(&mut scaler.status, &input) else {
                return Err(DisaggregatedSkip::Role {
                    role: name.clone(),
                    reason: Reason::Skipped(collected.issues.into_iter().next()),
                });
            };
            corrected.insert(name.clone(), outcome.corrected);
            let alg = AlgInput {
                current: cur,
                unready: collected.unready,
                ready,
                external: collected.external,
            };
            pending.push((name.clone(), outcome, alg));
        }
        let ratio = enforce_ratio(&corrected, &bounds, target.ratio_constraint.as_ref())
            .map_err(DisaggregatedSkip::Ratio)?;
        let mut roles = Vec::new();
        for (name, outcome, alg) in pending {
            let scaler = self
                .roles
                .get_mut(&name)
                .expect("one scaler per configured role");
            record(&mut scaler.status, now, &outcome);
            let panic = scaler.status.is_panic_mode(now);
            let reason = match outcome.recommendation {
                Recommendation::Bound(b) if outcome.limit == super::revision::Limit::None => {
                    Reason::OutOfRange {
                        current: alg.current,
                        bound: b,
                    }
                }
                _ => Reason::Corrected {
                    recommended: outcome.recommended,
                    limit: outcome.limit,
                    panic_until: outcome.is_panic.then_some(scaler.status.panic_mode_ends_at),
                },
            };
            roles.push(RoleDecision {
                name: name.clone(),
                current: alg.current,
                recommended: outcome.recommended,
                final_replicas: ratio.replicas[&name],
                panic,
                alg_input: Some(alg),
                reason,
            });
        }
        for name in fixed {
            let role = &target.roles[&name];
            let scaler = &self.roles[&name];
            roles.push(RoleDecision {
                name: name.clone(),
                current: current.get(&name).copied().unwrap_or(1),
                recommended: role.min_replicas,
                final_replicas: ratio.replicas[&name],
                panic: scaler.status.is_panic_mode(now),
                alg_input: None,
                reason: Reason::Fixed(role.min_replicas),
            });
        }
        roles.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(DisaggregatedResult {
            roles,
            ratio_adjusted: ratio.adjusted,
            current_ratio: target
                .ratio_constraint
                .as_ref()
                .map(|_| ratio.current_ratio),
        })
    }
}
