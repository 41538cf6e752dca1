//! The cluster as the autoscaler controller sees it at a tick: the ModelServings' specs, the
//! entry pods of every existing server in creation order, and what each pod's metrics
//! endpoint answers. Built once per tick; the engine reads it through [`Cluster`].

use std::collections::BTreeMap;

use super::prometheus::{Query, SeriesStore};
use super::servings::UnitState;
use super::spec::{Clock, Serving};
use crate::engine::cluster::{Cluster, Families, ModelServingView, PodView, QueryResult, Scrape};
use crate::engine::policy::Labels;
use crate::sim::SimTime;

/// One existing server, borrowed from the serving controller while the view is built.
pub struct UnitView<'a> {
    pub namespace: String,
    pub pod_name: String,
    pub labels: Labels,
    pub state: UnitState,
    /// Container restarts (`restartCount`).
    pub restarts: u32,
    /// When the pod got a node (its `status.startTime`).
    pub start_time: Option<SimTime>,
    /// What its metrics endpoint answers (read only while it runs).
    pub exposition: &'a Families,
    pub metrics_port: i32,
    pub metrics_path: &'a str,
}

pub struct TickView<'p> {
    model_servings: Vec<ModelServingView>,
    pods: Vec<PodView>,
    /// Per pod: the payload and where it is served; `None` while the pod is not running.
    endpoints: Vec<Option<(i32, &'p str, &'p Families)>>,
    /// The simulated Prometheus, when a policy reads it.
    prometheus: Option<Prometheus<'p>>,
}

/// The simulated Prometheus as queries see it at a tick.
#[derive(Clone, Copy)]
pub struct Prometheus<'p> {
    pub store: &'p SeriesStore,
    /// Every query the policies use, parsed (at load time they were all checked).
    pub queries: &'p BTreeMap<String, Query>,
    pub now: SimTime,
}

impl<'p> TickView<'p> {
    /// `servings`: each ModelServing with its current `spec.replicas` and role replicas; pod
    /// start times are read on the engine's clock.
    pub fn new(
        clock: &Clock,
        servings: &[(&Serving, i32, Vec<i32>)],
        units: Vec<UnitView<'p>>,
    ) -> Self {
        let model_servings = servings
            .iter()
            .map(|(s, replicas, roles)| ModelServingView {
                namespace: s.namespace.clone(),
                name: s.name.clone(),
                replicas: Some(*replicas),
                roles: s
                    .roles
                    .iter()
                    .zip(roles)
                    .map(|(r, n)| (r.name.clone(), Some(*n)))
                    .collect(),
            })
            .collect();
        let mut pods = Vec::with_capacity(units.len());
        let mut endpoints = Vec::with_capacity(units.len());
        for u in units {
            let running = u.state.is_running();
            endpoints.push(running.then_some((u.metrics_port, u.metrics_path, u.exposition)));
            pods.push(PodView {
                namespace: u.namespace,
                name: u.pod_name,
                labels: u.labels,
                ready: running,
                // Deletion requested or a container restarted: Kthena counts the pod as
                // failed (docs/engine.md §7.1); `restartCount` never goes back to 0.
                failed: matches!(u.state, UnitState::Terminating { .. }) || u.restarts > 0,
                start_time_ms: u.start_time.map(|t| clock.engine_time(t)),
            });
        }
        TickView {
            model_servings,
            pods,
            endpoints,
            prometheus: None,
        }
    }

    /// Lets the policies' Prometheus queries read `prometheus`.
    pub fn with_prometheus(mut self, prometheus: Prometheus<'p>) -> Self {
        self.prometheus = Some(prometheus);
        self
    }

    /// Every running pod's payload, for the simulated Prometheus' scrape.
    pub fn payloads(&self) -> impl Iterator<Item = (usize, &Families)> {
        self.endpoints
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.map(|(_, _, f)| (i, f)))
    }

    /// The payload pod `i` serves and where, if it is running.
    pub fn endpoint(&self, i: usize) -> Option<(i32, &str, &Families)> {
        self.endpoints[i]
    }
}

impl Cluster for TickView<'_> {
    fn model_serving(&self, namespace: &str, name: &str) -> Option<&ModelServingView> {
        self.model_servings
            .iter()
            .find(|m| m.namespace == namespace && m.name == name)
    }

    fn pods(&self) -> &[PodView] {
        &self.pods
    }

    /// A pod answers on its own port and path only; a policy scraping elsewhere gets a
    /// connection error, as in a real cluster.
    fn scrape(&self, pod: usize, uri: &str, port: i32) -> Scrape<'_> {
        match self.endpoints[pod] {
            Some((p, path, families)) if p == port && path == uri => Scrape::Ok(families),
            _ => Scrape::Failed,
        }
    }

    /// Every server URL reaches the one simulated Prometheus.
    fn query(&self, _server_url: &str, query: &str) -> QueryResult {
        match (
            &self.prometheus,
            self.prometheus.and_then(|p| p.queries.get(query)),
        ) {
            (Some(p), Some(q)) => q.evaluate(p.store, p.now),
            _ => QueryResult::Error(format!("query {query:?} was not loaded")),
        }
    }
}
