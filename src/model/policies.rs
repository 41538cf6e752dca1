//! The autoscaler as installed: the engine and its state, the policies it runs (with their
//! generations, as an API server keeps them), what each policy scales, which policies are in
//! panic mode, and the simulated Prometheus their queries read (its series and the parsed
//! queries).
//!
//! It runs the engine over the tick's view; it does not build the view, write replicas or
//! record anything but the engine log it is handed.

use std::collections::BTreeMap;

use super::engine_log::EngineLog;
use super::ids::ServingIdx;
use super::prometheus::{Query, SeriesStore};
use super::spec::Serving;
use super::view::{Prometheus, TickView};
use crate::engine::cluster::Families;
use crate::engine::policy::{Labels, MetricSource, Policy, ScalingTarget};
use crate::engine::{Autoscaler, Decision, EngineVersion, UnixMillis};
use crate::sim::{SimDuration, SimTime};

/// One thing a policy scales, for the timeline: a serving, or one of its roles, with the
/// policy's replica bounds for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyTarget {
    pub serving: ServingIdx,
    pub role: Option<usize>,
    pub min_replicas: i32,
    pub max_replicas: i32,
}

pub struct PolicySet {
    engine: Autoscaler,
    policies: Vec<Policy>,
    /// Per policy: what it scales (one entry per target, param or role).
    targets: Vec<Vec<PolicyTarget>>,
    /// Per policy: in panic mode after the last tick.
    in_panic: Vec<bool>,
    /// The simulated Prometheus and the queries of the policies, when any reads it.
    prometheus: Option<(SeriesStore, BTreeMap<String, Query>)>,
}

impl PolicySet {
    /// The engine of `version`, with no policy yet.
    pub fn new(version: EngineVersion) -> Self {
        PolicySet {
            engine: Autoscaler::new(version),
            policies: Vec::new(),
            targets: Vec::new(),
            in_panic: Vec::new(),
            prometheus: None,
        }
    }

    /// Installs a policy set over `servings`, ticking every `sync_period`. As on a real API
    /// server, a policy whose spec changed gets a new generation, which resets its engine
    /// state; an unchanged one keeps it. Returns the policies as installed.
    pub fn install(
        &mut self,
        mut policies: Vec<Policy>,
        servings: &[Serving],
        sync_period: SimDuration,
    ) -> &[Policy] {
        for p in &mut policies {
            let key = Autoscaler::policy_key(p);
            if let Some(old) = (self.policies.iter()).find(|o| Autoscaler::policy_key(o) == key) {
                let same_spec = Policy {
                    generation: old.generation,
                    ..p.clone()
                } == *old;
                p.generation = if same_spec {
                    old.generation
                } else {
                    (old.generation.0 + 1, old.generation.1 + 1)
                };
            }
        }
        self.load_queries(&policies, sync_period);
        self.targets = policies.iter().map(|p| targets(p, servings)).collect();
        self.in_panic = vec![false; policies.len()];
        self.policies = policies;
        &self.policies
    }

    /// Parses the policies' Prometheus queries (validated at load time) and sizes a new
    /// series store for their longest range.
    fn load_queries(&mut self, policies: &[Policy], sync_period: SimDuration) {
        let mut queries = self.prometheus.take().map(|(_, q)| q).unwrap_or_default();
        for p in policies {
            for t in p.scaled_targets() {
                for src in t.target.metric_sources.iter().flat_map(|m| m.values()) {
                    if let MetricSource::Prometheus(q) = src {
                        if let Ok(parsed) = Query::parse(&q.query) {
                            queries.insert(q.query.clone(), parsed);
                        }
                    }
                }
            }
        }
        if !queries.is_empty() {
            let range = (queries.values().map(Query::max_range).max()).unwrap_or(SimDuration::ZERO);
            self.prometheus = Some((SeriesStore::new(range + sync_period), queries));
        }
    }

    /// What policy `i` scales.
    pub fn targets(&self, i: usize) -> &[PolicyTarget] {
        &self.targets[i]
    }

    /// One controller pass at `now` (`now_ms` on the engine's clock) over `view`, whose pods
    /// have the Prometheus target labels `prom_labels`: Prometheus scrapes every running pod
    /// and the `router` targets just before the engine reads; the engine log, if given, records the tick.
    pub fn decide(
        &mut self,
        now: SimTime,
        now_ms: UnixMillis,
        view: TickView<'_>,
        prom_labels: &[&Labels],
        router: &[(Labels, Families)],
        log: Option<&mut EngineLog>,
    ) -> Vec<Decision> {
        let view = match &mut self.prometheus {
            Some((store, queries)) => {
                let pods = view.payloads().map(|(i, f)| (prom_labels[i], f));
                store.record(now, pods.chain(router.iter().map(|(l, f)| (l, f))));
                view.with_prometheus(Prometheus {
                    store,
                    queries,
                    now,
                })
            }
            None => view,
        };
        let decisions = self.engine.reconcile(now_ms, &self.policies, &view);
        if let Some(log) = log {
            log.record(now_ms, &view, &decisions);
        }
        decisions
    }

    /// Policy `i` is in panic mode after this tick or not: whether it just entered it.
    pub fn note_panic(&mut self, i: usize, panic: bool) -> bool {
        let entered = panic && !self.in_panic[i];
        self.in_panic[i] = panic;
        entered
    }

    /// The `maxReplicas` of policy `i`, if it scales one target.
    pub fn max_replicas(&self, i: usize) -> Option<i32> {
        match &self.policies[i].target {
            ScalingTarget::Homogeneous(h) => Some(h.max_replicas),
            _ => None,
        }
    }
}

/// The servings (and roles) of `servings` that policy `p` scales.
fn targets(p: &Policy, servings: &[Serving]) -> Vec<PolicyTarget> {
    p.scaled_targets()
        .iter()
        .filter_map(|t| {
            let r = &t.target.target_ref;
            let ns = if r.namespace.is_empty() {
                &p.namespace
            } else {
                &r.namespace
            };
            let s = (servings.iter()).position(|s| s.name == r.name && &s.namespace == ns)?;
            let role = t
                .role
                .and_then(|name| servings[s].roles.iter().position(|x| x.name == name));
            Some(PolicyTarget {
                serving: ServingIdx::new(s),
                role,
                min_replicas: t.min_replicas,
                max_replicas: t.max_replicas,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kthena::manifest::ManifestSet;

    /// The policy of `policies/chat-current.yaml` (it scales `llm/chat-llama`).
    fn chat_policy() -> Policy {
        let text = include_str!("../../policies/chat-current.yaml");
        let set = ManifestSet::from_sources(&[("chat-current.yaml", text)]);
        set.policies().expect("valid")[0].policy.clone()
    }

    #[test]
    fn a_changed_policy_gets_a_new_generation_and_an_unchanged_one_keeps_its_own() {
        let servings = [
            Serving::for_tests("other", 1),
            Serving::for_tests("chat-llama", 1),
        ];
        let sync = SimDuration::from_secs(15);
        let mut set = PolicySet::new(EngineVersion::Head);
        let first = set.install(vec![chat_policy()], &servings, sync)[0].generation;
        assert_eq!(
            set.targets(0),
            [PolicyTarget {
                serving: ServingIdx::new(1),
                role: None,
                min_replicas: 1,
                max_replicas: 16,
            }]
        );
        assert_eq!(set.max_replicas(0), Some(16));
        let same = set.install(vec![chat_policy()], &servings, sync)[0].generation;
        assert_eq!(same, first);
        let mut changed = chat_policy();
        changed.tolerance_percent += 5;
        let next = set.install(vec![changed], &servings, sync)[0].generation;
        assert_eq!(next, (first.0 + 1, first.1 + 1));
        // A target that is not among the servings is not scaled.
        set.install(vec![chat_policy()], &servings[..1], sync);
        assert_eq!(set.targets(0), []);
    }

    #[test]
    fn panic_mode_is_entered_once_until_left() {
        let mut p = PolicySet::new(EngineVersion::Head);
        p.in_panic = vec![false];
        assert!(!p.note_panic(0, false));
        assert!(p.note_panic(0, true));
        assert!(!p.note_panic(0, true), "still in it");
        assert!(!p.note_panic(0, false));
        assert!(p.note_panic(0, true), "entered again");
    }
}
