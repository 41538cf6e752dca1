//! The ModelServing controller's side of the world: each serving's `spec.replicas` (and role
//! replicas) as the autoscaler wrote them, and the units — servers and their pods — it
//! creates and removes to match them, at most [`MAX_SERVERS`] per serving. It owns the units'
//! lifecycle (every state change goes through it, which keeps the index of ready units for
//! routing true), their pod names and labels, and the `startup` stream their start times are
//! drawn from; it answers the autoscaler's reads (the tick's view, a target's counts).
//!
//! It does not bill, place units on GPUs, route requests or schedule events: it says what to
//! create and remove, and the world carries that out with the other components.

mod unit;

use super::dispatch::Endpoints;
use super::faults::BACKOFF_RESET;
use super::ids::{ServingIdx, UnitId};
use super::metrics::{expose_into, PodSeries, ServerGauges};
use super::server::Server;
use super::spec::{Clock, Serving, MAX_SERVERS};
use super::view::{TickView, UnitView};
use crate::engine::decision::ReplicaWrite;
use crate::engine::policy::Labels;
use crate::sim::rng::stream;
use crate::sim::{SimDuration, SimTime};

pub use unit::{GroupSlot, Unit, UnitKind, UnitState};

/// A serving's replicas as its spec says now.
#[derive(Debug, Clone)]
struct Replicas {
    groups: i32,
    /// Per role: instances in each group.
    roles: Vec<i32>,
}

/// What a reconcile of one serving does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The servers asked for, the first time they exceed [`MAX_SERVERS`].
    pub over_cap: Option<u64>,
    /// Units no longer wanted, newest first.
    pub remove: Vec<UnitId>,
    /// Missing units, in slot order.
    pub create: Vec<GroupSlot>,
}

/// What the controller reads of one scaled target (a serving, or one of its roles) at a tick.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TargetRead {
    pub ready: u32,
    pub starting: u32,
    pub pending: u32,
    pub terminating: u32,
    pub restarting: u32,
    pub lost: u32,
    /// Pods with `restartCount > 0`.
    pub restarted: u32,
    pub waiting: u64,
    pub running: u64,
    /// Mean KV-cache usage of its ready servers (0 with none).
    pub kv_usage: f64,
    /// What every billed server of the world costs per hour.
    pub cost_per_hour: f64,
}

pub struct Servings<'s> {
    specs: &'s [Serving],
    replicas: Vec<Replicas>,
    units: Vec<Unit>,
    /// The ready units in creation order: those routing may pick (units stay in `units` once
    /// gone, so this is much shorter over a long run).
    ready: Vec<UnitId>,
    /// Per serving: asked for more than [`MAX_SERVERS`] already (reported once).
    capped: Vec<bool>,
    /// The seed of the startup draws: the n-th server of a serving takes its startup time
    /// from its own stream (`startup/<serving>/<n>`), so that it starts as fast in every
    /// variant of a comparison, whatever the others decided before (common random numbers).
    startup_seed: u64,
    /// Per serving: servers created so far; per unit: its number within its serving.
    created: Vec<u32>,
    ordinals: Vec<u32>,
    /// Servers coalesce identical decode steps (off only to check coalescing).
    coalesce: bool,
}

impl<'s> Servings<'s> {
    /// The servings of `specs` at their initial replicas, with no unit yet.
    pub fn new(specs: &'s [Serving], startup_seed: u64, coalesce: bool) -> Self {
        Servings {
            specs,
            replicas: specs
                .iter()
                .map(|s| Replicas {
                    groups: s.replicas,
                    roles: s.roles.iter().map(|r| r.replicas).collect(),
                })
                .collect(),
            units: Vec::new(),
            ready: Vec::new(),
            capped: vec![false; specs.len()],
            startup_seed,
            created: vec![0; specs.len()],
            ordinals: Vec::new(),
            coalesce,
        }
    }

    /// Every serving's spec, in scenario order.
    pub fn specs(&self) -> &'s [Serving] {
        self.specs
    }

    /// The requests in the ready servers of serving `s` (waiting in them or running: what
    /// their queue-proxies report; draining servers are no longer scraped), and how many
    /// servers are ready.
    pub fn in_flight(&self, s: ServingIdx) -> (u64, usize) {
        let mut load = (0, 0);
        for u in (self.ready.iter()).map(|id| &self.units[id.index()]) {
            if u.serving == s {
                load.0 += (u.server.waiting() + u.server.running()) as u64;
                load.1 += 1;
            }
        }
        load
    }

    pub fn spec(&self, s: ServingIdx) -> &'s Serving {
        &self.specs[s.index()]
    }

    pub fn unit(&self, u: UnitId) -> &Unit {
        &self.units[u.index()]
    }

    pub fn unit_mut(&mut self, u: UnitId) -> &mut Unit {
        &mut self.units[u.index()]
    }

    /// Every unit ever created, gone ones included, in creation order.
    pub fn units(&self) -> impl Iterator<Item = (UnitId, &Unit)> {
        (self.units.iter().enumerate()).map(|(i, u)| (UnitId::new(i), u))
    }

    /// The creates and removals that make serving `s`'s live, non-terminating units match
    /// its spec: groups `0..replicas`, each with `0..role_replicas[r]` instances of every
    /// role, at most [`MAX_SERVERS`] of them.
    pub fn plan(&mut self, s: ServingIdx) -> Plan {
        let spec = &self.specs[s.index()];
        let state = &self.replicas[s.index()];
        let groups = state.groups.max(0) as u32;
        let mut wanted: Vec<GroupSlot> = Vec::new();
        let cap = MAX_SERVERS as usize;
        'groups: for group in 0..groups {
            if spec.roles.is_empty() {
                wanted.push(GroupSlot {
                    role: None,
                    group,
                    instance: 0,
                });
            } else {
                for (r, n) in state.roles.iter().enumerate() {
                    for instance in 0..(*n).max(0) as u32 {
                        if wanted.len() == cap {
                            break 'groups;
                        }
                        wanted.push(GroupSlot {
                            role: Some(r),
                            group,
                            instance,
                        });
                    }
                }
            }
            if wanted.len() == cap {
                break;
            }
        }
        let asked = if spec.roles.is_empty() {
            u64::from(groups)
        } else {
            let per_group: u64 = state.roles.iter().map(|&n| n.max(0) as u64).sum();
            u64::from(groups) * per_group
        };
        let over_cap = (asked > cap as u64 && !self.capped[s.index()]).then_some(asked);
        if over_cap.is_some() {
            self.capped[s.index()] = true;
        }
        // The newest units that are no longer wanted go.
        let mut remove = Vec::new();
        for (i, u) in self.units.iter().enumerate().rev() {
            let active = matches!(
                u.state,
                UnitState::Pending
                    | UnitState::Starting { .. }
                    | UnitState::Ready { .. }
                    | UnitState::Restarting { .. }
                    | UnitState::Lost { .. }
            );
            if u.serving == s && active {
                match wanted.iter().position(|&w| w == u.slot) {
                    Some(pos) => {
                        wanted.swap_remove(pos);
                    }
                    None => remove.push(UnitId::new(i)),
                }
            }
        }
        wanted.sort();
        Plan {
            over_cap,
            remove,
            create: wanted,
        }
    }

    /// A new, pending unit of serving `s` in `slot`.
    pub fn create(&mut self, s: ServingIdx, slot: GroupSlot, now: SimTime) -> UnitId {
        let id = UnitId::new(self.units.len());
        let spec = &self.specs[s.index()];
        self.units
            .push(Unit::new(spec, s, id, slot, now, self.coalesce));
        self.ordinals.push(self.created[s.index()]);
        self.created[s.index()] += 1;
        id
    }

    /// Pending unit `u` got its GPUs at `now`: its pods start, and take the startup time
    /// this returns (drawn from the unit's own stream, `startup/<serving>/<n>`).
    pub fn schedule(&mut self, u: UnitId, now: SimTime) -> SimDuration {
        let unit = &mut self.units[u.index()];
        debug_assert_eq!(unit.state, UnitState::Pending);
        unit.state = UnitState::Starting { scheduled_at: now };
        let spec = &self.specs[unit.serving.index()];
        let name = format!("startup/{}/{}", spec.name, self.ordinals[u.index()]);
        spec.startup.sample(&mut stream(self.startup_seed, &name))
    }

    /// Starting or restarting unit `u` becomes ready at `now`.
    pub fn set_ready(&mut self, u: UnitId, now: SimTime) {
        let unit = &mut self.units[u.index()];
        let scheduled_at = (unit.state.scheduled_at()).expect("a unit is ready once scheduled");
        unit.state = UnitState::Ready {
            scheduled_at,
            since: now,
        };
        if let Err(at) = self.ready.binary_search(&u) {
            self.ready.insert(at, u);
        }
    }

    /// Ready unit `u` starts terminating: it drains and takes no more requests.
    pub fn terminate(&mut self, u: UnitId) {
        if let UnitState::Ready { scheduled_at, .. } = self.units[u.index()].state {
            self.leave_ready(u, UnitState::Terminating { scheduled_at });
        }
    }

    /// Ready unit `u`'s container crashes at `now`: it restarts, with one more restart on its
    /// pod. Returns its crashes in a row (reset after 10 minutes ready), the kubelet's
    /// back-off step.
    pub fn crash(&mut self, u: UnitId, now: SimTime) -> u32 {
        let UnitState::Ready {
            scheduled_at,
            since,
        } = self.units[u.index()].state
        else {
            unreachable!("only a ready unit crashes");
        };
        self.leave_ready(u, UnitState::Restarting { scheduled_at });
        let unit = &mut self.units[u.index()];
        unit.restarts += 1;
        unit.crash_streak = if now - since >= BACKOFF_RESET {
            1
        } else {
            unit.crash_streak + 1
        };
        unit.crash_streak
    }

    /// Scheduled unit `u`'s node is lost: it is lost until evicted, or gone at once if it
    /// was terminating. Returns the state it was in.
    pub fn lose(&mut self, u: UnitId) -> UnitState {
        let before = self.units[u.index()].state;
        let scheduled_at = before.scheduled_at().expect("a lost unit had a node");
        let after = match before {
            UnitState::Terminating { .. } => UnitState::Gone,
            _ => UnitState::Lost { scheduled_at },
        };
        self.leave_ready(u, after);
        before
    }

    /// Unit `u` (not ready) is gone. Returns the state it was in.
    pub fn set_gone(&mut self, u: UnitId) -> UnitState {
        let unit = &mut self.units[u.index()];
        debug_assert!(!matches!(unit.state, UnitState::Ready { .. }));
        std::mem::replace(&mut unit.state, UnitState::Gone)
    }

    /// Unit `u`'s process is gone (a crash, a lost node): a fresh server and fresh series.
    pub fn reset_server(&mut self, u: UnitId) {
        let unit = &mut self.units[u.index()];
        unit.server = Server::new(self.specs[unit.serving.index()].server, self.coalesce);
        unit.series = PodSeries::default();
        unit.next_wake = None;
    }

    fn leave_ready(&mut self, u: UnitId, state: UnitState) {
        self.units[u.index()].state = state;
        if let Ok(at) = self.ready.binary_search(&u) {
            self.ready.remove(at);
        }
    }

    /// The units scheduled on an `accelerator` node that still run there, in creation order.
    pub fn scheduled_on(&self, accelerator: &str) -> Vec<UnitId> {
        self.units()
            .filter(|(_, u)| {
                matches!(
                    u.state,
                    UnitState::Starting { .. }
                        | UnitState::Ready { .. }
                        | UnitState::Terminating { .. }
                        | UnitState::Restarting { .. }
                ) && self.specs[u.serving.index()].accelerator == accelerator
            })
            .map(|(id, _)| id)
            .collect()
    }

    /// The billed units, in creation order.
    pub fn billed(&self) -> impl Iterator<Item = &Unit> {
        self.units.iter().filter(|u| u.state.billed())
    }

    /// Writes an autoscaler's replica count to its ModelServing (or role): the serving, if
    /// that changed its spec.
    pub fn write(&mut self, w: &ReplicaWrite) -> Option<ServingIdx> {
        let s = (self.specs.iter())
            .position(|x| x.name == w.model_serving && x.namespace == w.namespace)?;
        let state = &mut self.replicas[s];
        let changed = match &w.role {
            None => std::mem::replace(&mut state.groups, w.replicas) != w.replicas,
            Some(role) => match self.specs[s].roles.iter().position(|r| r.name == *role) {
                Some(r) => std::mem::replace(&mut state.roles[r], w.replicas) != w.replicas,
                None => false,
            },
        };
        changed.then(|| ServingIdx::new(s))
    }

    /// `spec.replicas` of serving `s`, or of its role `role`.
    pub fn spec_replicas(&self, s: ServingIdx, role: Option<usize>) -> i32 {
        let state = &self.replicas[s.index()];
        match role {
            Some(r) => state.roles[r],
            None => state.groups,
        }
    }

    /// The cluster as the autoscaler reads it at `now`: the servings' specs and the pods of
    /// every unit not gone.
    /// Scrapes every running pod's metrics endpoint at `now`, for [`Servings::view`].
    pub fn refresh_expositions(&mut self, now: SimTime) {
        for u in self.units.iter_mut().filter(|u| u.state.is_running()) {
            expose_into(
                &mut u.exposition,
                &u.series,
                ServerGauges::of(&u.server, now),
            );
        }
    }

    /// The cluster as the controller sees it, the pods' payloads as the last
    /// [`Servings::refresh_expositions`] scraped them.
    pub fn view(&self, clock: &Clock) -> TickView<'_> {
        let units = (self.units.iter())
            .filter(|u| u.state != UnitState::Gone)
            .map(|u| {
                let spec = &self.specs[u.serving.index()];
                UnitView {
                    namespace: spec.namespace.clone(),
                    pod_name: u.pod_name.clone(),
                    labels: u.labels.clone(),
                    state: u.state,
                    restarts: u.restarts,
                    start_time: u.state.scheduled_at(),
                    exposition: &u.exposition,
                    metrics_port: spec.metrics_port,
                    metrics_path: &spec.metrics_path,
                }
            })
            .collect::<Vec<_>>();
        let servings = (self.specs.iter().zip(&self.replicas))
            .map(|(spec, r)| (spec, r.groups, r.roles.clone()))
            .collect::<Vec<_>>();
        TickView::new(clock, &servings, units)
    }

    /// The Prometheus target labels of the pods of [`Servings::view`], in the same order.
    pub fn prom_labels(&self) -> Vec<&Labels> {
        (self.units.iter())
            .filter(|u| u.state != UnitState::Gone)
            .map(|u| &u.prom_labels)
            .collect()
    }

    /// What the controller sees of serving `s` (or its role `role`) at `now`.
    pub fn read(&self, s: ServingIdx, role: Option<usize>, now: SimTime) -> TargetRead {
        let mut read = TargetRead {
            ready: 0,
            starting: 0,
            pending: 0,
            terminating: 0,
            restarting: 0,
            lost: 0,
            restarted: 0,
            waiting: 0,
            running: 0,
            kv_usage: 0.0,
            cost_per_hour: 0.0,
        };
        let mut kv_sum = 0.0f64;
        for u in &self.units {
            if u.state == UnitState::Gone {
                continue;
            }
            if u.state.billed() {
                read.cost_per_hour += self.specs[u.serving.index()].price_per_hour;
            }
            if u.serving != s || (role.is_some() && u.slot.role != role) {
                continue;
            }
            let count = match u.state {
                UnitState::Ready { .. } => &mut read.ready,
                UnitState::Starting { .. } => &mut read.starting,
                UnitState::Pending => &mut read.pending,
                UnitState::Terminating { .. } => &mut read.terminating,
                UnitState::Restarting { .. } => &mut read.restarting,
                UnitState::Lost { .. } => &mut read.lost,
                UnitState::Gone => continue,
            };
            *count += 1;
            read.restarted += u32::from(u.restarts > 0);
            read.waiting += u.server.waiting() as u64;
            read.running += u.server.running() as u64;
            if matches!(u.state, UnitState::Ready { .. }) {
                kv_sum +=
                    u.server.kv_used_tokens(now) as f64 / u.server.kv_capacity().max(1) as f64;
            }
        }
        if read.ready > 0 {
            read.kv_usage = kv_sum / f64::from(read.ready);
        }
        read
    }
}

impl Endpoints for Servings<'_> {
    fn for_each_ready(&self, mut f: impl FnMut(UnitId, UnitKind, ServingIdx, &Server)) {
        // The index is checked against a full scan in the controller's tests: a scan here,
        // per routed request over every server ever created, made test runs quadratic.
        for &id in &self.ready {
            let u = &self.units[id.index()];
            f(id, u.kind, u.serving, &u.server);
        }
    }
}

#[cfg(test)]
mod tests;
