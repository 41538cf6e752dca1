//! Port of `pkg/autoscaler/controller/autoscale_controller.go`: one reconcile pass over all
//! policies — cached scalers keyed and reset by generation, reading the current replica
//! counts, the homogeneous, heterogeneous and disaggregated flows, and the replica writes
//! (docs/engine.md §6).
//!
//! Long because it ports one Go file whole, with both revisions side by side.

use std::collections::BTreeMap;

use super::cluster::{Cluster, ModelServingView};
use super::decision::{AlgInput, Decision, Reason, ReplicaWrite, TargetMode};
use super::disaggregated_scaler::{DisaggregatedScaler, DisaggregatedSkip};
use super::metric_collector::{CollectError, MetricCollector};
use super::optimizer::{aggregate_external, Optimizer, OptimizerMeta};
use super::policy::{
    DisaggregatedTarget, HeterogeneousTarget, HomogeneousTarget, MetricTarget, ObjectReference,
    Policy, ScalingTarget, Target,
};
use super::recommendation::{Metrics, Recommendation, RecommendationInput};
use super::revision::{CorrectedInstancesAlgorithm, Limit};
use super::scaler::{record, scale_one_target, ScaleInput, Scaler};
use super::status::Status;
use super::GoError;
use super::{EngineVersion, UnixMillis};

/// The API group a HEAD target reference must belong to when it names one.
pub const WORKLOAD_GROUP: &str = "workload.serving.volcano.sh";

struct Cached<T> {
    generation: (i64, i64),
    value: T,
}

/// The autoscaler controller: all engine state, kept across reconciles.
pub struct Autoscaler {
    version: EngineVersion,
    scalers: BTreeMap<String, Cached<Scaler>>,
    optimizers: BTreeMap<String, Cached<Optimizer>>,
    disaggregated: BTreeMap<String, Cached<DisaggregatedScaler>>,
    /// Set when the real controller would have crashed or hung for good.
    down: Option<String>,
}

/// `GetMetricTargets`: metric key → target as `f64`; a later duplicate overwrites.
pub fn metric_targets(metrics: &[MetricTarget]) -> Vec<(String, f64)> {
    let mut out: Vec<(String, f64)> = Vec::with_capacity(metrics.len());
    for m in metrics {
        let v = m.target_value.as_f64();
        match out.iter_mut().find(|(k, _)| *k == m.name) {
            Some(e) => e.1 = v,
            None => out.push((m.name.clone(), v)),
        }
    }
    out
}

/// The cache key of a policy (docs/engine.md §6.1).
fn key(policy: &Policy, reference: Option<&ObjectReference>) -> String {
    let mut k = format!("{}/{}", policy.namespace, policy.name);
    if let Some(r) = reference {
        let ns = if r.namespace.is_empty() {
            &policy.namespace
        } else {
            &r.namespace
        };
        let kind = if r.kind.is_empty() {
            "ModelServing"
        } else {
            &r.kind
        };
        k.push_str(&format!("/{ns}/{kind}/{}", r.name));
    }
    k
}

/// `targetRef.namespace`, or the policy's (the binding's at v0.4).
fn target_namespace<'a>(policy: &'a Policy, r: &'a ObjectReference) -> &'a str {
    if r.namespace.is_empty() {
        &policy.namespace
    } else {
        &r.namespace
    }
}

/// Where a write goes and what the spec holds now.
#[derive(Debug, Clone)]
struct CurrentReplicas {
    namespace: String,
    model_serving: String,
    role: Option<String>,
    /// The spec value as stored (`None` = unset).
    spec: Option<i32>,
    /// The value the engine uses.
    current: i32,
}

impl CurrentReplicas {
    /// The write the controller sends for `replicas`, if any (docs/engine.md §6.3).
    fn write(&self, version: EngineVersion, replicas: i32) -> Option<ReplicaWrite> {
        let unchanged = match version {
            // HEAD patches when the value is unset, even to 1.
            EngineVersion::Head => self.spec == Some(replicas),
            EngineVersion::V0_4 => self.current == replicas,
        };
        (!unchanged).then(|| ReplicaWrite {
            namespace: self.namespace.clone(),
            model_serving: self.model_serving.clone(),
            role: self.role.clone(),
            replicas,
        })
    }
}

fn unsupported(r: &ObjectReference) -> GoError {
    GoError(format!(
        "target ref kind {}, name: {} not supported",
        r.kind, r.name
    ))
}

/// HEAD `checkModelServingTargetRef`: kind `""`/`ModelServing`, and an apiVersion, when set,
/// of the workload group.
fn check_target_ref(r: &ObjectReference) -> Result<(), GoError> {
    if !r.kind.is_empty() && r.kind != "ModelServing" {
        return Err(unsupported(r));
    }
    if !r.api_version.is_empty() {
        let group = match r.api_version.matches('/').count() {
            0 => "",
            1 => r.api_version.split('/').next().unwrap_or(""),
            _ => {
                return Err(GoError(format!(
                    "unexpected GroupVersion string: {}",
                    r.api_version
                )))
            }
        };
        if group != WORKLOAD_GROUP {
            return Err(GoError(format!(
                "target ref apiVersion {} is not in group {WORKLOAD_GROUP}",
                r.api_version
            )));
        }
    }
    Ok(())
}

fn lookup<'c>(
    cluster: &'c dyn Cluster,
    ns: &str,
    name: &str,
) -> Result<&'c ModelServingView, GoError> {
    cluster
        .model_serving(ns, name)
        .ok_or_else(|| GoError(format!("modelserving {ns}/{name} not found")))
}

/// Reads the current count of a homogeneous target or heterogeneous param (docs/engine.md §6.2).
fn read_current(
    version: EngineVersion,
    policy: &Policy,
    target: Option<&Target>,
    cluster: &dyn Cluster,
) -> Result<CurrentReplicas, GoError> {
    let default_target = Target::default();
    let target = target.unwrap_or(&default_target);
    let r = &target.target_ref;
    let ns = target_namespace(policy, r).to_string();
    let mut out = CurrentReplicas {
        namespace: ns.clone(),
        model_serving: r.name.clone(),
        role: None,
        spec: None,
        current: 1,
    };
    match version {
        EngineVersion::Head => {
            check_target_ref(r)?;
            let ms = lookup(cluster, &ns, &r.name)?;
            out.spec = ms.replicas;
            out.current = ms.replicas.unwrap_or(1);
        }
        EngineVersion::V0_4 => {
            if !r.kind.is_empty() && r.kind != "ModelServing" {
                return Err(unsupported(r));
            }
            let ms = lookup(cluster, &ns, &r.name)?;
            let value = match &target.sub_target {
                None => ms.replicas,
                Some(s) if s.kind == "Role" && !s.name.is_empty() => {
                    out.role = Some(s.name.clone());
                    ms.roles
                        .iter()
                        .find(|(n, _)| *n == s.name)
                        .and_then(|(_, v)| *v)
                }
                Some(_) => None,
            };
            out.spec = value;
            out.current = value.ok_or_else(|| unsupported(r))?;
        }
    }
    Ok(out)
}

fn base_decision(key: String, mode: TargetMode) -> Decision {
    Decision {
        key,
        mode,
        skip: true,
        recommended: None,
        corrected: None,
        split: None,
        roles: None,
        ratio_adjusted: None,
        current_ratio: None,
        panic: false,
        alg_input: None,
        reason: Reason::Skipped(None),
        writes: Vec::new(),
    }
}

fn error_decision(key: String, mode: TargetMode, error: GoError) -> Decision {
    Decision {
        reason: Reason::Error(error.0),
        ..base_decision(key, mode)
    }
}

/// The reason of a decided (not skipped) step.
fn decided_reason(
    rec: Recommendation,
    current: i32,
    recommended: i32,
    limit: Limit,
    panic_until: Option<i64>,
) -> Reason {
    match rec {
        Recommendation::Bound(bound) if limit == Limit::None => {
            Reason::OutOfRange { current, bound }
        }
        _ => Reason::Corrected {
            recommended,
            limit,
            panic_until,
        },
    }
}

fn mode_of(target: &ScalingTarget) -> TargetMode {
    match target {
        ScalingTarget::Homogeneous(_) => TargetMode::Homogeneous,
        ScalingTarget::Heterogeneous(_) => TargetMode::Heterogeneous,
        ScalingTarget::Disaggregated(_) => TargetMode::Disaggregated,
    }
}

impl Autoscaler {
    pub fn new(version: EngineVersion) -> Self {
        Autoscaler {
            version,
            scalers: BTreeMap::new(),
            optimizers: BTreeMap::new(),
            disaggregated: BTreeMap::new(),
            down: None,
        }
    }

    pub fn version(&self) -> EngineVersion {
        self.version
    }

    /// The cache key of a policy, as [`Decision::key`] reports it.
    pub fn policy_key(policy: &Policy) -> String {
        match &policy.target {
            ScalingTarget::Homogeneous(h) => {
                let default_ref = ObjectReference::default();
                key(
                    policy,
                    Some(h.target.as_ref().map_or(&default_ref, |t| &t.target_ref)),
                )
            }
            ScalingTarget::Heterogeneous(_) => key(policy, None),
            ScalingTarget::Disaggregated(d) => key(policy, Some(&d.target_ref)),
        }
    }

    /// `Reconcile`: one pass at time `now` over `policies` in lister order.
    pub fn reconcile(
        &mut self,
        now: UnixMillis,
        policies: &[Policy],
        cluster: &dyn Cluster,
    ) -> Vec<Decision> {
        let now = now.as_millis();
        let keys: Vec<String> = policies.iter().map(Self::policy_key).collect();
        self.scalers.retain(|k, _| keys.contains(k));
        self.optimizers.retain(|k, _| keys.contains(k));
        self.disaggregated.retain(|k, _| keys.contains(k));
        policies
            .iter()
            .zip(keys)
            .map(|(p, key)| {
                let mode = mode_of(&p.target);
                if let Some(why) = &self.down {
                    return Decision {
                        reason: Reason::ControllerDown(why.clone()),
                        ..base_decision(key, mode)
                    };
                }
                let d = match &p.target {
                    ScalingTarget::Heterogeneous(h) => self.do_optimize(now, p, h, key, cluster),
                    ScalingTarget::Homogeneous(h) => self.do_scale(now, p, h, key, cluster),
                    ScalingTarget::Disaggregated(t) => {
                        self.do_disaggregated_scale(now, p, t, key, cluster)
                    }
                };
                if let Reason::ControllerDown(why) = &d.reason {
                    self.down = Some(why.clone());
                }
                d
            })
            .collect()
    }

    /// `doScale`: a homogeneous target (docs/engine.md §6.4).
    fn do_scale(
        &mut self,
        now: i64,
        policy: &Policy,
        h: &HomogeneousTarget,
        key: String,
        cluster: &dyn Cluster,
    ) -> Decision {
        let version = self.version;
        let fresh = self
            .scalers
            .get(&key)
            .is_none_or(|c| c.generation != policy.generation);
        if fresh {
            let reference = h
                .target
                .as_ref()
                .map(|t| t.target_ref.clone())
                .unwrap_or_default();
            let scaler = Scaler {
                status: Status::new(&policy.behavior, version),
                collector: MetricCollector::new(
                    h.target.clone(),
                    target_namespace(policy, &reference).to_string(),
                    metric_targets(&policy.metrics),
                    None,
                ),
                min_replicas: h.min_replicas,
                max_replicas: h.max_replicas,
            };
            self.scalers.insert(
                key.clone(),
                Cached {
                    generation: policy.generation,
                    value: scaler,
                },
            );
        }
        let scaler = &mut self.scalers.get_mut(&key).expect("inserted above").value;
        let mode = TargetMode::Homogeneous;
        let current = match read_current(version, policy, h.target.as_ref(), cluster) {
            Ok(c) => c,
            Err(e) => return error_decision(key, mode, e),
        };
        let collected = match scaler.collector.update_metrics(version, now, cluster) {
            Ok(c) => c,
            Err(e) => return collect_error_decision(key, mode, e),
        };
        let ready = vec![collected.ready];
        let alg_input = AlgInput {
            current: current.current,
            unready: collected.unready,
            ready,
            external: collected.external,
        };
        let input = ScaleInput {
            version,
            now,
            behavior: &policy.behavior,
            min: scaler.min_replicas,
            max: scaler.max_replicas,
            current: current.current,
            tolerance_percent: policy.tolerance_percent,
            metric_targets: &scaler.collector.metric_targets,
            unready: alg_input.unready,
            ready: &alg_input.ready,
            external: &alg_input.external,
        };
        let Some(outcome) = scale_one_target(&mut scaler.status, &input) else {
            return Decision {
                panic: scaler.status.is_panic_mode(now),
                alg_input: Some(alg_input),
                reason: Reason::Skipped(collected.issues.into_iter().next()),
                ..base_decision(key, mode)
            };
        };
        record(&mut scaler.status, now, &outcome);
        let panic_until = outcome.is_panic.then_some(scaler.status.panic_mode_ends_at);
        Decision {
            skip: false,
            recommended: Some(outcome.recommended),
            corrected: Some(outcome.corrected),
            panic: outcome.is_panic,
            reason: decided_reason(
                outcome.recommendation,
                current.current,
                outcome.recommended,
                outcome.limit,
                panic_until,
            ),
            alg_input: Some(alg_input),
            writes: current
                .write(version, outcome.corrected)
                .into_iter()
                .collect(),
            ..base_decision(key, mode)
        }
    }

    /// `doOptimize`: a heterogeneous target (docs/engine.md §6.5).
    fn do_optimize(
        &mut self,
        now: i64,
        policy: &Policy,
        h: &HeterogeneousTarget,
        key: String,
        cluster: &dyn Cluster,
    ) -> Decision {
        let version = self.version;
        let mode = TargetMode::Heterogeneous;
        let default_target = Target::default();
        let targets: Vec<&Target> = h
            .params
            .iter()
            .map(|p| p.target.as_ref().unwrap_or(&default_target))
            .collect();
        let target_keys: Vec<String> = targets
            .iter()
            .map(|t| match version {
                EngineVersion::Head => format!(
                    "{}/{}",
                    target_namespace(policy, &t.target_ref),
                    t.target_ref.name
                ),
                EngineVersion::V0_4 => t.target_ref.name.clone(),
            })
            .collect();
        let fresh = self
            .optimizers
            .get(&key)
            .is_none_or(|c| c.generation != policy.generation);
        if fresh {
            let mut collectors = BTreeMap::new();
            for (t, k) in targets.iter().zip(&target_keys) {
                let ns = target_namespace(policy, &t.target_ref).to_string();
                let ns = if version == EngineVersion::V0_4 {
                    policy.namespace.clone()
                } else {
                    ns
                };
                collectors.insert(
                    k.clone(),
                    MetricCollector::new(
                        Some((*t).clone()),
                        ns,
                        metric_targets(&policy.metrics),
                        None,
                    ),
                );
            }
            let optimizer = Optimizer {
                meta: OptimizerMeta::new(h, &target_keys),
                collectors,
                status: Status::new(&policy.behavior, version),
            };
            self.optimizers.insert(
                key.clone(),
                Cached {
                    generation: policy.generation,
                    value: optimizer,
                },
            );
        }
        let opt = &mut self.optimizers.get_mut(&key).expect("inserted above").value;
        let mut current_by_key: BTreeMap<&str, CurrentReplicas> = BTreeMap::new();
        for (t, k) in targets.iter().zip(&target_keys) {
            match read_current(version, policy, Some(t), cluster) {
                Ok(c) => {
                    current_by_key.insert(k, c);
                }
                Err(e) => return error_decision(key, mode, e),
            }
        }
        let mut sum_current: i32 = 0;
        let mut unready: i32 = 0;
        let mut ready: Vec<Option<Metrics>> = Vec::new();
        let mut ext_samples: BTreeMap<String, Vec<(f64, i32)>> = BTreeMap::new();
        let mut first_issue = None;
        for k in &target_keys {
            let Some(c) = opt.collectors.get_mut(k) else {
                continue;
            };
            let r = current_by_key[k.as_str()].current;
            sum_current = sum_current.wrapping_add(r);
            let collected = match c.update_metrics(version, now, cluster) {
                Ok(c) => c,
                Err(CollectError::Selector(e)) => {
                    first_issue.get_or_insert(super::metric_collector::Issue::Selector(e));
                    continue;
                }
                Err(e) => return collect_error_decision(key, mode, e),
            };
            unready = unready.wrapping_add(collected.unready);
            ready.push(collected.ready);
            for (name, v) in collected.external {
                ext_samples.entry(name).or_default().push((v, r));
            }
            if first_issue.is_none() {
                first_issue = collected.issues.into_iter().next();
            }
        }
        let external = aggregate_external(&ext_samples);
        let targets_list = opt
            .collectors
            .values()
            .next()
            .map(|c| c.metric_targets.clone())
            .unwrap_or_default();
        let alg_input = AlgInput {
            current: sum_current,
            unready,
            ready,
            external,
        };
        let rec = RecommendationInput {
            min_instances: opt.meta.sum_min,
            max_instances: opt.meta.sum_max,
            current_instances: sum_current,
            tolerance: policy.tolerance_percent as f64 * 0.01,
            metric_targets: &targets_list,
            unready_instances: unready,
            ready_instances_metrics: &alg_input.ready,
            external_metrics: &alg_input.external,
        }
        .get_recommended_instances();
        let Some(recommended) = rec.value() else {
            return Decision {
                panic: opt.status.is_panic_mode(now),
                alg_input: Some(alg_input),
                reason: Reason::Skipped(first_issue),
                ..base_decision(key, mode)
            };
        };
        if let Some(t) = policy
            .behavior
            .scale_up
            .panic_policy
            .panic_threshold_percent
        {
            if recommended.wrapping_mul(100) >= sum_current.wrapping_mul(t) {
                opt.status.refresh_panic_mode(now);
            }
        }
        let is_panic = opt.status.is_panic_mode(now);
        let (corrected, limit) = CorrectedInstancesAlgorithm {
            version,
            now,
            is_panic,
            history: &mut opt.status.history,
            behavior: &policy.behavior,
            min_instances: opt.meta.sum_min,
            max_instances: opt.meta.sum_max,
            current_instances: sum_current,
            recommended_instances: recommended,
        }
        .get_corrected_instances();
        // Kthena feeds the corrected value into the recommendation windows too
        // (docs/engine.md §14 item 9).
        opt.status.append_recommendation(now, corrected);
        opt.status.append_corrected(now, corrected);
        let split = opt.meta.restore(corrected);
        let writes = split
            .iter()
            .filter_map(|(k, v)| current_by_key[k.as_str()].write(version, *v))
            .collect();
        let panic_until = is_panic.then_some(opt.status.panic_mode_ends_at);
        Decision {
            skip: false,
            recommended: Some(recommended),
            corrected: Some(split.iter().fold(0i32, |a, (_, v)| a.wrapping_add(*v))),
            split: Some(split),
            panic: is_panic,
            reason: decided_reason(rec, sum_current, recommended, limit, panic_until),
            alg_input: Some(alg_input),
            writes,
            ..base_decision(key, mode)
        }
    }

    /// `doDisaggregatedScale`: the roles of one ModelServing (HEAD, docs/engine.md §6.6).
    fn do_disaggregated_scale(
        &mut self,
        now: i64,
        policy: &Policy,
        t: &DisaggregatedTarget,
        key: String,
        cluster: &dyn Cluster,
    ) -> Decision {
        let version = self.version;
        let mode = TargetMode::Disaggregated;
        let ns = target_namespace(policy, &t.target_ref).to_string();
        let fresh = self
            .disaggregated
            .get(&key)
            .is_none_or(|c| c.generation != policy.generation);
        if fresh {
            let ds = DisaggregatedScaler::new(policy, t, &ns, version);
            self.disaggregated.insert(
                key.clone(),
                Cached {
                    generation: policy.generation,
                    value: ds,
                },
            );
        }
        let ds = &mut self
            .disaggregated
            .get_mut(&key)
            .expect("inserted above")
            .value;
        let ms = match check_target_ref(&t.target_ref)
            .and_then(|_| lookup(cluster, &ns, &t.target_ref.name))
        {
            Ok(ms) => ms,
            Err(e) => return error_decision(key, mode, e),
        };
        let mut current = BTreeMap::new();
        for name in t.roles.keys() {
            match ms.roles.iter().find(|(n, _)| n == name) {
                Some((_, v)) => {
                    current.insert(name.clone(), v.unwrap_or(1));
                }
                None => {
                    return error_decision(
                        key,
                        mode,
                        GoError(format!(
                            "role {name} not found in modelserving {ns}/{}",
                            t.target_ref.name
                        )),
                    )
                }
            }
        }
        match ds.scale(version, now, policy, t, &current, cluster) {
            Ok(result) => {
                let writes = result
                    .roles
                    .iter()
                    .filter(|r| r.final_replicas != r.current)
                    .map(|r| ReplicaWrite {
                        namespace: ns.clone(),
                        model_serving: t.target_ref.name.clone(),
                        role: Some(r.name.clone()),
                        replicas: r.final_replicas,
                    })
                    .collect();
                let reason = match (&result.current_ratio, result.ratio_adjusted) {
                    (Some(ratio), true) => Reason::RatioAdjusted {
                        ratio: ratio.clone(),
                    },
                    _ => Reason::Roles,
                };
                Decision {
                    skip: false,
                    panic: result.roles.iter().any(|r| r.panic),
                    ratio_adjusted: Some(result.ratio_adjusted),
                    current_ratio: result.current_ratio,
                    roles: Some(result.roles),
                    reason,
                    writes,
                    ..base_decision(key, mode)
                }
            }
            Err(DisaggregatedSkip::Role { role, reason }) => Decision {
                reason: Reason::RoleSkipped {
                    role,
                    cause: Box::new(reason),
                },
                ..base_decision(key, mode)
            },
            Err(DisaggregatedSkip::Ratio(e)) => error_decision(key, mode, GoError(e.to_string())),
            Err(DisaggregatedSkip::Collect(e)) => collect_error_decision(key, mode, e),
        }
    }
}

fn collect_error_decision(key: String, mode: TargetMode, e: CollectError) -> Decision {
    match e {
        CollectError::Selector(s) => error_decision(key, mode, GoError(s)),
        CollectError::Crash(_) | CollectError::Hang(_) => Decision {
            reason: Reason::ControllerDown(e.to_string()),
            ..base_decision(key, mode)
        },
    }
}
