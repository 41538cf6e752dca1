//! The simulated cluster and its event loop: requests arrive and are routed to inference
//! servers, serving groups start, serve, drain and go, GPUs run out and are provisioned, and
//! every sync period the autoscaler controller reads the pods and scales the ModelServings.
//!
//! Events at the same instant are handled in this order (model-rules.md, simulator.md §3):
//! server steps ending (completions first), then request arrivals, then pod and node
//! transitions (ready, grace end, capacity added), then router-queue timeouts, then policy
//! changes, then the controller tick. Within a class, in scheduling order.

mod faults;

use std::collections::{BTreeMap, VecDeque};

use super::engine_log::EngineLog;
use super::metrics::PodSeries;
use super::prometheus::{Query, SeriesStore};
use super::results::{CostRow, Notable, Outcome, Results, TimelineRow};
use super::router::{Candidate, Router};
use super::server::{Server, ServerEvent};
use super::spec::{WorldSpec, MAX_SERVERS};
use super::view::{Prometheus, TickView, UnitView};
use crate::engine::cluster::{LABEL_ENTRY, LABEL_GROUP_NAME, LABEL_MODEL_SERVING_NAME, LABEL_ROLE};
use crate::engine::policy::{Labels, MetricSource, Policy, ScalingTarget};
use crate::engine::{Autoscaler, Decision};
use crate::sim::cancel;
use crate::sim::rng::{stream, Stream};
use crate::sim::{EventQueue, SimDuration, SimTime};
use crate::workload::{Request, RequestSource, WorkloadError};

/// Event classes: the order of simultaneous events.
const CLASS_WAKE: u8 = 0;
const CLASS_ARRIVAL: u8 = 1;
const CLASS_POD: u8 = 2;
const CLASS_TIMEOUT: u8 = 3;
const CLASS_POLICY: u8 = 4;
const CLASS_TICK: u8 = 5;

const NONE: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
enum Event {
    Wake {
        unit: u32,
    },
    Arrival,
    Ready {
        unit: u32,
    },
    GraceEnd {
        unit: u32,
    },
    Provision {
        accelerator: u32,
    },
    QueueTimeout {
        req: u32,
        generation: u32,
    },
    /// A prefilled request's KV cache reached the decode side.
    KvTransferred {
        req: u32,
        generation: u32,
    },
    PolicyChange {
        index: u32,
    },
    /// The container of a ready server crashes (if it has not restarted since).
    Crash {
        unit: u32,
        restarts: u32,
    },
    /// A crashed container is ready again.
    Restarted {
        unit: u32,
    },
    NodeLost {
        index: u32,
    },
    NodeRecovered {
        index: u32,
    },
    /// A pod of a lost node is deleted.
    Evicted {
        unit: u32,
    },
    Tick,
}

/// Why a run stopped before its end.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The workload could not be read (a trace row, say).
    #[error("workload: {0}")]
    Workload(#[from] WorkloadError),
    /// A stop was requested ([`cancel::request`]).
    #[error("interrupted")]
    Interrupted,
}

/// Options that do not change what is simulated.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Jump over identical decode steps (the default); off only to check coalescing.
    pub step_by_step: bool,
    /// Keep one row per request for `requests.csv`.
    pub record_requests: bool,
    /// Record every controller tick in the golden format.
    pub engine_log: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitState {
    /// Waiting for GPUs.
    Pending,
    Starting,
    Ready,
    /// Deletion requested: drains, receives no requests.
    Terminating,
    /// Its container crashed and is being restarted: not ready.
    Restarting,
    /// Its node was lost: not ready, no longer billed, until evicted.
    Lost,
    Gone,
}

/// What a server does with requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UnitKind {
    /// Serves whole requests.
    Serve,
    /// Prefills requests of a disaggregated serving.
    Prefill,
    /// Decodes requests of a disaggregated serving, after the KV transfer.
    Decode,
    /// Takes no requests (billed capacity).
    Idle,
}

/// One inference server (a serving group, or one instance of a role) and its pods.
struct Unit {
    serving: usize,
    role: Option<usize>,
    group: u32,
    instance: u32,
    pod_name: String,
    labels: Labels,
    created: SimTime,
    scheduled: Option<SimTime>,
    state: UnitState,
    kind: UnitKind,
    /// The target labels of its Prometheus series.
    prom_labels: Labels,
    server: Server,
    series: PodSeries,
    next_wake: SimTime,
    /// Container restarts (the pod's `restartCount`).
    restarts: u32,
    /// Crashes since the container last ran 10 minutes: the kubelet's back-off step.
    crash_streak: u32,
    ready_since: SimTime,
}

impl Unit {
    /// Whether the unit is billed: it exists and its node does.
    fn billed(&self) -> bool {
        !matches!(self.state, UnitState::Gone | UnitState::Lost)
    }
}

/// A request in flight (slots are reused once a request is done).
#[derive(Debug, Clone, Copy)]
struct Req {
    arrival: SimTime,
    input: u32,
    output: u32,
    unit: u32,
    first_admit: Option<SimTime>,
    first_token: Option<SimTime>,
    generation: u32,
    queued: bool,
    live: bool,
    /// The serving whose decode role takes it after prefill (disaggregated servings).
    decode_serving: u32,
}

struct ServingState {
    replicas: i32,
    role_replicas: Vec<i32>,
}

struct CapacityState {
    total: u32,
    used: u32,
    pending: VecDeque<u32>,
    provisioning_in_flight: bool,
}

/// One thing a policy scales, for the timeline: a serving, or one of its roles, with the
/// policy's replica bounds for it.
#[derive(Debug, Clone, Copy)]
struct PolicyTarget {
    serving: usize,
    role: Option<usize>,
    min_replicas: i32,
    max_replicas: i32,
}

/// What a policy scales: one entry per target, param or role.
type PolicyTargets = Vec<PolicyTarget>;

pub struct World<'s> {
    spec: &'s WorldSpec,
    opts: RunOptions,
    now: SimTime,
    queue: EventQueue<Event>,
    servings: Vec<ServingState>,
    units: Vec<Unit>,
    /// The ready units, in creation order: those routing may pick (units stay in `units`
    /// once gone, so this is much shorter over a long run).
    ready_units: Vec<u32>,
    /// Reused by routing.
    cands: Vec<Candidate>,
    reqs: Vec<Req>,
    free: Vec<u32>,
    router: Router,
    router_queue: VecDeque<(u32, u32)>,
    router_queued: usize,
    /// Prefilled requests waiting for a ready decode server.
    decode_queue: VecDeque<(u32, u32)>,
    source: Box<dyn RequestSource + 's>,
    next_request: Option<Request>,
    engine: Autoscaler,
    policies: Vec<Policy>,
    targets: Vec<PolicyTargets>,
    capacity: Vec<(String, CapacityState)>,
    startup_rng: Stream,
    /// Crashes, failed image pulls and the pods of lost nodes.
    failure_rng: Stream,
    server_events: Vec<ServerEvent>,
    results: Results,
    engine_log: Option<EngineLog>,
    arrivals_since_tick: u64,
    last_tick: SimTime,
    live_servers: u64,
    /// Per serving: live servers now.
    live_by_serving: Vec<u64>,
    live_since: SimTime,
    panic_by_policy: Vec<bool>,
    /// Per serving: relative decode throughput, for fair routing in mixed pools.
    speeds: Vec<f64>,
    /// The simulated Prometheus and the queries of the policies, when any reads it.
    prometheus: Option<(SeriesStore, BTreeMap<String, Query>)>,
    /// The initial servers are in place: pods created from now on pull their images.
    started: bool,
    /// Per serving: a policy asked for more than [`MAX_SERVERS`] (reported once).
    capped: Vec<bool>,
}

impl<'s> World<'s> {
    pub fn new(spec: &'s WorldSpec, source: Box<dyn RequestSource + 's>, opts: RunOptions) -> Self {
        let capacity = spec
            .capacity
            .iter()
            .map(|(name, c)| {
                (
                    name.clone(),
                    CapacityState {
                        total: c.gpus,
                        used: 0,
                        pending: VecDeque::new(),
                        provisioning_in_flight: false,
                    },
                )
            })
            .collect();
        let servings = spec
            .servings
            .iter()
            .map(|s| ServingState {
                replicas: s.replicas,
                role_replicas: s.roles.iter().map(|r| r.replicas).collect(),
            })
            .collect();
        let mut w = World {
            spec,
            opts,
            now: SimTime::ZERO,
            queue: EventQueue::new(),
            servings,
            units: Vec::new(),
            ready_units: Vec::new(),
            cands: Vec::new(),
            reqs: Vec::new(),
            free: Vec::new(),
            router: Router::new(spec.router, stream(spec.seed, "routing")),
            router_queue: VecDeque::new(),
            router_queued: 0,
            decode_queue: VecDeque::new(),
            source,
            next_request: None,
            engine: Autoscaler::new(spec.engine),
            policies: Vec::new(),
            targets: Vec::new(),
            capacity,
            startup_rng: stream(spec.seed, "startup"),
            failure_rng: stream(spec.seed, "failures"),
            server_events: Vec::new(),
            results: Results::new(spec),
            engine_log: opts.engine_log.then(|| EngineLog::new(spec)),
            arrivals_since_tick: 0,
            last_tick: SimTime::ZERO,
            live_servers: 0,
            live_by_serving: vec![0; spec.servings.len()],
            live_since: SimTime::ZERO,
            panic_by_policy: Vec::new(),
            speeds: spec
                .servings
                .iter()
                .map(|s| decode_speed(&s.server))
                .collect(),
            prometheus: None,
            started: false,
            capped: vec![false; spec.servings.len()],
        };
        w.set_policies(spec.policies.clone());
        w
    }

    /// Runs to the end of the scenario; `progress` is called with the simulated time now
    /// and then.
    pub fn run(mut self, progress: &mut dyn FnMut(SimTime)) -> Result<Results, RunError> {
        // The initial servers already run when the simulation starts (those that fit).
        for s in 0..self.servings.len() {
            self.reconcile_units(s);
        }
        for i in 0..self.units.len() {
            if self.units[i].state == UnitState::Starting {
                self.set_ready(i as u32);
            }
        }
        self.started = true;
        self.pull_request()?;
        if self.spec.clock.first_tick <= self.spec.clock.end() {
            self.queue
                .push(self.spec.clock.first_tick, CLASS_TICK, Event::Tick);
        }
        for (i, loss) in self.spec.node_losses.iter().enumerate() {
            if loss.at <= self.spec.clock.end() {
                let index = i as u32;
                self.queue
                    .push(loss.at, CLASS_POD, Event::NodeLost { index });
            }
        }
        for (i, (at, _)) in self.spec.policy_changes.iter().enumerate() {
            if *at <= self.spec.clock.end() {
                self.queue
                    .push(*at, CLASS_POLICY, Event::PolicyChange { index: i as u32 });
            }
        }
        let mut next_progress = SimTime::ZERO;
        while let Some(t) = self.queue.peek_time() {
            if t > self.spec.clock.end() {
                break;
            }
            let Some((t, ev)) = self.queue.pop() else {
                break;
            };
            self.now = t;
            if t >= next_progress {
                if cancel::is_requested() {
                    return Err(RunError::Interrupted);
                }
                progress(t);
                next_progress = t + self.spec.clock.duration / 200 + SimDuration::from_micros(1);
            }
            match ev {
                Event::Wake { unit } => self.wake(unit),
                Event::Arrival => self.arrival()?,
                Event::Ready { unit } => self.unit_ready(unit),
                Event::GraceEnd { unit } => self.grace_end(unit),
                Event::Provision { accelerator } => self.provision(accelerator as usize),
                Event::QueueTimeout { req, generation } => self.queue_timeout(req, generation),
                Event::KvTransferred { req, generation } => self.kv_transferred(req, generation),
                Event::PolicyChange { index } => {
                    let policies = self.spec.policy_changes[index as usize].1.clone();
                    self.results
                        .notable(self.now, Notable::PolicyChange(index as usize));
                    self.set_policies(policies);
                }
                Event::Crash { unit, restarts } => self.crash(unit, restarts),
                Event::Restarted { unit } => self.restarted(unit),
                Event::NodeLost { index } => self.node_lost(index as usize),
                Event::NodeRecovered { index } => self.node_recovered(index as usize),
                Event::Evicted { unit } => self.evicted(unit),
                Event::Tick => self.tick(),
            }
        }
        self.now = self.spec.clock.end();
        progress(self.now);
        self.finish()
    }

    /// Installs a policy set. As on a real API server, a policy whose spec changed gets a
    /// new generation, which resets its engine state; an unchanged one keeps it.
    fn set_policies(&mut self, mut policies: Vec<Policy>) {
        for p in &mut policies {
            let key = Autoscaler::policy_key(p);
            if let Some(old) = self
                .policies
                .iter()
                .find(|o| Autoscaler::policy_key(o) == key)
            {
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
        self.load_queries(&policies);
        self.targets = policies.iter().map(|p| self.policy_target(p)).collect();
        self.panic_by_policy = vec![false; policies.len()];
        if let Some(log) = &mut self.engine_log {
            log.start_segment(&policies);
        }
        self.policies = policies;
    }

    /// Parses the policies' Prometheus queries (validated at load time) and sizes the
    /// series store for their longest range.
    fn load_queries(&mut self, policies: &[Policy]) {
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
            let range = queries
                .values()
                .map(Query::max_range)
                .max()
                .unwrap_or(SimDuration::ZERO);
            self.prometheus = Some((
                SeriesStore::new(range + self.spec.clock.sync_period),
                queries,
            ));
        }
    }

    fn policy_target(&self, p: &Policy) -> PolicyTargets {
        p.scaled_targets()
            .iter()
            .filter_map(|t| {
                let r = &t.target.target_ref;
                let ns = if r.namespace.is_empty() {
                    &p.namespace
                } else {
                    &r.namespace
                };
                let s = self
                    .spec
                    .servings
                    .iter()
                    .position(|s| s.name == r.name && &s.namespace == ns)?;
                let role = t.role.and_then(|name| {
                    self.spec.servings[s]
                        .roles
                        .iter()
                        .position(|x| x.name == name)
                });
                Some(PolicyTarget {
                    serving: s,
                    role,
                    min_replicas: t.min_replicas,
                    max_replicas: t.max_replicas,
                })
            })
            .collect()
    }

    // ----- requests ---------------------------------------------------------------------

    fn pull_request(&mut self) -> Result<(), WorkloadError> {
        self.next_request = self.source.next_request()?;
        if let Some(r) = &self.next_request {
            if r.arrival <= self.spec.clock.end() {
                self.queue
                    .push(r.arrival.max(self.now), CLASS_ARRIVAL, Event::Arrival);
            } else {
                self.next_request = None;
            }
        }
        Ok(())
    }

    fn arrival(&mut self) -> Result<(), WorkloadError> {
        if let Some(r) = self.next_request.take() {
            self.results.arrived += 1;
            self.arrivals_since_tick += 1;
            let id = self.alloc(r);
            self.route(id);
        }
        self.pull_request()
    }

    fn alloc(&mut self, r: Request) -> u32 {
        let req = Req {
            arrival: self.now,
            input: r.input_tokens,
            output: r.output_tokens,
            unit: NONE,
            first_admit: None,
            first_token: None,
            generation: 0,
            queued: false,
            live: true,
            decode_serving: NONE,
        };
        match self.free.pop() {
            Some(id) => {
                let g = self.reqs[id as usize].generation.wrapping_add(1);
                self.reqs[id as usize] = Req {
                    generation: g,
                    ..req
                };
                id
            }
            None => {
                self.reqs.push(req);
                (self.reqs.len() - 1) as u32
            }
        }
    }

    fn release(&mut self, id: u32) {
        let r = &mut self.reqs[id as usize];
        r.live = false;
        r.queued = false;
        self.free.push(id);
    }

    /// The ready servers of `kind` (of `serving`, if given) in creation order: those that
    /// may take a request now. Their KV usage only if the router looks at it (0 otherwise).
    fn candidates(&self, out: &mut Vec<Candidate>, kinds: &[UnitKind], serving: Option<usize>) {
        debug_assert_eq!(
            self.ready_units,
            (0..self.units.len() as u32)
                .filter(|&i| self.units[i as usize].state == UnitState::Ready)
                .collect::<Vec<_>>()
        );
        out.clear();
        let kv_usage = self.router.uses_kv_usage();
        for &i in &self.ready_units {
            let u = &self.units[i as usize];
            if kinds.contains(&u.kind) && serving.is_none_or(|s| s == u.serving) {
                let kv_usage = if kv_usage {
                    let cap = u.server.kv_capacity().max(1);
                    u.server.kv_used_tokens(self.now) as f64 / cap as f64
                } else {
                    0.0
                };
                out.push(Candidate {
                    server: i,
                    load: u.server.waiting() + u.server.running(),
                    speed: self.speeds[u.serving],
                    kv_usage,
                });
            }
        }
    }

    /// Unit `unit` becomes ready.
    fn set_ready(&mut self, unit: u32) {
        self.units[unit as usize].state = UnitState::Ready;
        if let Err(at) = self.ready_units.binary_search(&unit) {
            self.ready_units.insert(at, unit);
        }
        self.arm_crash(unit);
    }

    /// Unit `unit` becomes ready and takes what waits for a server of its kind.
    fn make_ready(&mut self, unit: u32) {
        self.set_ready(unit);
        match self.units[unit as usize].kind {
            UnitKind::Decode => self.dispatch_decode_queue(),
            _ => self.dispatch_router_queue(),
        }
    }

    /// Ready unit `unit` starts terminating.
    fn set_terminating(&mut self, unit: u32) {
        self.leave_ready(unit, UnitState::Terminating);
    }

    /// Unit `unit` takes no more requests, in `state`.
    fn leave_ready(&mut self, unit: u32, state: UnitState) {
        self.units[unit as usize].state = state;
        if let Ok(at) = self.ready_units.binary_search(&unit) {
            self.ready_units.remove(at);
        }
    }

    /// New requests go to servers that serve whole requests or prefill.
    const ENTRY: [UnitKind; 2] = [UnitKind::Serve, UnitKind::Prefill];

    fn route(&mut self, id: u32) {
        let mut cands = std::mem::take(&mut self.cands);
        self.candidates(&mut cands, &Self::ENTRY, None);
        let pick = self.router.pick(&cands);
        self.cands = cands;
        match pick {
            Some(unit) => self.send(id, unit),
            None => {
                let r = &mut self.reqs[id as usize];
                r.queued = true;
                self.router_queue.push_back((id, r.generation));
                self.router_queued += 1;
                if let Some(t) = self.spec.queue_timeout {
                    let generation = r.generation;
                    self.queue.push(
                        self.now.saturating_add(t),
                        CLASS_TIMEOUT,
                        Event::QueueTimeout {
                            req: id,
                            generation,
                        },
                    );
                }
            }
        }
    }

    /// Hands request `id` to server `unit`: a prefill server gets it with one output token
    /// (its first), a decode server with its KV cache, any other the whole request.
    fn send(&mut self, id: u32, unit: u32) {
        let r = &mut self.reqs[id as usize];
        r.unit = unit;
        let (input, output) = (r.input, r.output);
        let mut events = std::mem::take(&mut self.server_events);
        events.clear();
        let u = &mut self.units[unit as usize];
        match u.kind {
            UnitKind::Prefill => {
                r.decode_serving = u.serving as u32;
                u.server.arrive(self.now, id, input, 1, &mut events);
            }
            UnitKind::Decode => u
                .server
                .arrive_prefilled(self.now, id, input, output, &mut events),
            UnitKind::Serve | UnitKind::Idle => {
                u.server.arrive(self.now, id, input, output, &mut events)
            }
        }
        self.handle_server_events(unit, &mut events);
        self.server_events = events;
        self.schedule_wake(unit);
    }

    /// The KV cache of a prefilled request arrived: on to a decode server of its serving, or
    /// into the decode queue until one is ready.
    fn kv_transferred(&mut self, id: u32, generation: u32) {
        let r = self.reqs[id as usize];
        if !(r.live && r.generation == generation) {
            return;
        }
        let mut cands = std::mem::take(&mut self.cands);
        self.candidates(
            &mut cands,
            &[UnitKind::Decode],
            Some(r.decode_serving as usize),
        );
        let pick = self.router.pick(&cands);
        self.cands = cands;
        match pick {
            Some(unit) => self.send(id, unit),
            None => self.decode_queue.push_back((id, generation)),
        }
    }

    fn dispatch_decode_queue(&mut self) {
        let mut cands = Vec::new();
        while let Some(&(id, generation)) = self.decode_queue.front() {
            let r = self.reqs[id as usize];
            if !(r.live && r.generation == generation) {
                self.decode_queue.pop_front();
                continue;
            }
            self.candidates(
                &mut cands,
                &[UnitKind::Decode],
                Some(r.decode_serving as usize),
            );
            let Some(unit) = self.router.pick(&cands) else {
                break;
            };
            self.decode_queue.pop_front();
            self.send(id, unit);
        }
    }

    fn dispatch_router_queue(&mut self) {
        let mut cands = Vec::new();
        while self.router_queued > 0 {
            let Some(&(id, generation)) = self.router_queue.front() else {
                break;
            };
            let r = self.reqs[id as usize];
            if !(r.live && r.queued && r.generation == generation) {
                self.router_queue.pop_front();
                continue;
            }
            self.candidates(&mut cands, &Self::ENTRY, None);
            let Some(unit) = self.router.pick(&cands) else {
                break;
            };
            self.router_queue.pop_front();
            self.router_queued -= 1;
            self.reqs[id as usize].queued = false;
            self.send(id, unit);
        }
    }

    fn queue_timeout(&mut self, id: u32, generation: u32) {
        let r = self.reqs[id as usize];
        if r.live && r.queued && r.generation == generation {
            self.router_queued -= 1;
            self.results.finish(&self.spec.slo, Outcome::Dropped, None);
            if self.results.dropped == 1 {
                self.results.notable(self.now, Notable::FirstDrop);
            }
            self.release(id);
        }
    }

    // ----- servers -----------------------------------------------------------------------

    fn schedule_wake(&mut self, unit: u32) {
        let u = &mut self.units[unit as usize];
        if let Some(t) = u.server.next_wakeup() {
            if t != u.next_wake {
                u.next_wake = t;
                self.queue.push(t, CLASS_WAKE, Event::Wake { unit });
            }
        }
    }

    fn wake(&mut self, unit: u32) {
        let u = &mut self.units[unit as usize];
        if u.state == UnitState::Gone || u.server.next_wakeup() != Some(self.now) {
            return;
        }
        let mut events = std::mem::take(&mut self.server_events);
        events.clear();
        u.server.wake(self.now, &mut events);
        self.handle_server_events(unit, &mut events);
        self.server_events = events;
        self.schedule_wake(unit);
        let u = &self.units[unit as usize];
        if u.state == UnitState::Terminating && u.server.is_idle() {
            self.unit_gone(unit);
        }
    }

    fn handle_server_events(&mut self, unit: u32, events: &mut Vec<ServerEvent>) {
        for ev in events.drain(..) {
            match ev {
                ServerEvent::Admitted { req, at } => {
                    let r = &mut self.reqs[req as usize];
                    if r.first_admit.is_none() {
                        r.first_admit = Some(at);
                    }
                }
                ServerEvent::FirstToken { req, at } => {
                    let r = &mut self.reqs[req as usize];
                    if r.first_token.is_none() {
                        r.first_token = Some(at);
                    }
                }
                ServerEvent::Preempted { .. } => self.results.preemptions += 1,
                ServerEvent::Finished { req, at }
                    if self.units[unit as usize].kind == UnitKind::Prefill
                        && self.reqs[req as usize].output > 1 =>
                {
                    // Prefill done (its first token is out): move the KV cache.
                    let r = self.reqs[req as usize];
                    let spec = &self.spec.servings[self.units[unit as usize].serving];
                    self.units[unit as usize]
                        .series
                        .ttft
                        .observe((r.first_token.unwrap_or(r.arrival) - r.arrival).as_secs_f64());
                    let delay = spec
                        .disaggregation
                        .as_ref()
                        .map_or(SimDuration::ZERO, |d| d.transfer_time(r.input));
                    self.queue.push(
                        at.saturating_add(delay),
                        CLASS_ARRIVAL,
                        Event::KvTransferred {
                            req,
                            generation: r.generation,
                        },
                    );
                }
                ServerEvent::Finished { req, at } => {
                    let r = self.reqs[req as usize];
                    let series = &mut self.units[unit as usize].series;
                    let first_token = r.first_token.unwrap_or(r.arrival);
                    let ttft = first_token - r.arrival;
                    let e2e = at - r.arrival;
                    series.ttft.observe(ttft.as_secs_f64());
                    series.e2e.observe(e2e.as_secs_f64());
                    if r.output > 1 {
                        let tpot = (at - first_token).as_micros() as f64 / f64::from(r.output - 1);
                        series.tpot.observe(tpot / 1e6);
                    }
                    series.request_success_total += 1;
                    let timing = super::results::Timing {
                        end: at,
                        queue: r.first_admit.unwrap_or(r.arrival) - r.arrival,
                        ttft,
                        e2e,
                        output_tokens: r.output,
                    };
                    let serving = self.units[unit as usize].serving;
                    self.results.finish(
                        &self.spec.slo,
                        Outcome::Completed,
                        Some((serving, timing)),
                    );
                    self.record_request(req, Outcome::Completed, at);
                    self.release(req);
                }
                ServerEvent::TooLong { req, at } => {
                    self.results.finish(&self.spec.slo, Outcome::TooLong, None);
                    self.record_request(req, Outcome::TooLong, at);
                    self.release(req);
                }
            }
        }
    }

    fn record_request(&mut self, id: u32, outcome: Outcome, at: SimTime) {
        if !self.opts.record_requests {
            return;
        }
        let r = self.reqs[id as usize];
        let server = (r.unit != NONE).then(|| self.units[r.unit as usize].pod_name.clone());
        self.results.request_row(super::results::RequestRow {
            arrival: r.arrival,
            input_tokens: r.input,
            output_tokens: r.output,
            server,
            first_admit: r.first_admit,
            first_token: r.first_token,
            end: at,
            outcome,
        });
    }

    // ----- serving groups and pods -------------------------------------------------------

    /// Creates and removes servers so that the live, non-terminating ones match the spec:
    /// groups `0..replicas`, each with `0..role_replicas[r]` instances of every role.
    fn reconcile_units(&mut self, s: usize) {
        let spec = &self.spec.servings[s];
        let state = &self.servings[s];
        let replicas = state.replicas.max(0) as u32;
        let mut wanted: Vec<(Option<usize>, u32, u32)> = Vec::new();
        let cap = MAX_SERVERS as usize;
        'groups: for g in 0..replicas {
            if spec.roles.is_empty() {
                wanted.push((None, g, 0));
            } else {
                for (r, n) in state.role_replicas.iter().enumerate() {
                    for k in 0..(*n).max(0) as u32 {
                        if wanted.len() == cap {
                            break 'groups;
                        }
                        wanted.push((Some(r), g, k));
                    }
                }
            }
            if wanted.len() == cap {
                break;
            }
        }
        let asked = if spec.roles.is_empty() {
            u64::from(replicas)
        } else {
            let per_group: u64 = state.role_replicas.iter().map(|&n| n.max(0) as u64).sum();
            u64::from(replicas) * per_group
        };
        if asked > cap as u64 && !self.capped[s] {
            self.capped[s] = true;
            let what = Notable::ServerCap(spec.name.clone(), asked);
            self.results.notable(self.now, what);
        }
        // Remove the newest servers that are no longer wanted.
        let mut remove: Vec<u32> = Vec::new();
        for (i, u) in self.units.iter().enumerate().rev() {
            let active = matches!(
                u.state,
                UnitState::Pending
                    | UnitState::Starting
                    | UnitState::Ready
                    | UnitState::Restarting
                    | UnitState::Lost
            );
            if u.serving == s && active {
                if let Some(pos) = wanted
                    .iter()
                    .position(|&(r, g, k)| r == u.role && g == u.group && k == u.instance)
                {
                    wanted.swap_remove(pos);
                } else {
                    remove.push(i as u32);
                }
            }
        }
        for unit in remove {
            self.remove_unit(unit);
        }
        wanted.sort();
        for (role, group, instance) in wanted {
            self.create_unit(s, role, group, instance);
        }
    }

    fn create_unit(&mut self, s: usize, role: Option<usize>, group: u32, instance: u32) {
        let spec = &self.spec.servings[s];
        let id = self.units.len() as u32;
        let pod_name = format!("{}-{}", spec.name, id);
        let mut labels = spec.labels.clone();
        labels.insert(LABEL_MODEL_SERVING_NAME.into(), spec.name.clone());
        labels.insert(LABEL_ENTRY.into(), "true".into());
        labels.insert(LABEL_GROUP_NAME.into(), format!("{}-{group}", spec.name));
        let mut kind = UnitKind::Serve;
        if let Some(r) = role {
            labels.insert(LABEL_ROLE.into(), spec.roles[r].name.clone());
            labels.extend(spec.roles[r].labels.clone());
            kind = match &spec.disaggregation {
                Some(d) if d.prefill_role == r => UnitKind::Prefill,
                Some(d) if d.decode_role == r => UnitKind::Decode,
                Some(_) => UnitKind::Idle,
                None if spec.roles[r].serves => UnitKind::Serve,
                None => UnitKind::Idle,
            };
        }
        let mut prom_labels = spec.labels.clone();
        prom_labels.insert("namespace".into(), spec.namespace.clone());
        prom_labels.insert("modelserving".into(), spec.name.clone());
        prom_labels.insert("pod".into(), pod_name.clone());
        if let Some(r) = role {
            prom_labels.extend(spec.roles[r].labels.clone());
            prom_labels.insert("role".into(), spec.roles[r].name.clone());
        }
        self.units.push(Unit {
            serving: s,
            prom_labels,
            role,
            group,
            instance,
            pod_name,
            labels,
            created: self.now,
            scheduled: None,
            state: UnitState::Pending,
            kind,
            server: Server::new(spec.server, !self.opts.step_by_step),
            series: PodSeries::default(),
            next_wake: SimTime::MIN,
            restarts: 0,
            crash_streak: 0,
            ready_since: SimTime::ZERO,
        });
        self.account_live(s, 1);
        let accel = self.capacity_index(&spec.accelerator);
        match accel {
            None => self.schedule_unit(id),
            Some(a) => {
                let need = spec.gpus_per_server();
                let c = &mut self.capacity[a].1;
                if c.pending.is_empty() && c.used + need <= c.total {
                    c.used += need;
                    self.schedule_unit(id);
                } else {
                    c.pending.push_back(id);
                    if self.results.pending_units == 0 {
                        self.results
                            .notable(self.now, Notable::Pending(spec.accelerator.clone()));
                    }
                    self.results.pending_units += 1;
                    self.request_provisioning(a);
                }
            }
        }
    }

    /// The unit got its GPUs: its pods start.
    fn schedule_unit(&mut self, unit: u32) {
        let u = &mut self.units[unit as usize];
        u.state = UnitState::Starting;
        u.scheduled = Some(self.now);
        let startup = self.spec.servings[u.serving]
            .startup
            .sample(&mut self.startup_rng);
        let pull = self.image_pull_delay(unit);
        self.queue.push(
            self.now.saturating_add(pull).saturating_add(startup),
            CLASS_POD,
            Event::Ready { unit },
        );
    }

    /// The index in `capacity` of an accelerator type with a capacity.
    fn capacity_index(&self, accelerator: &str) -> Option<usize> {
        self.capacity.iter().position(|(n, _)| n == accelerator)
    }

    fn request_provisioning(&mut self, a: usize) {
        let Some(p) = &self.spec.capacity[&self.capacity[a].0].provisioning else {
            return;
        };
        let c = &mut self.capacity[a].1;
        if !c.provisioning_in_flight && c.total < p.max_gpus {
            c.provisioning_in_flight = true;
            self.queue.push(
                self.now.saturating_add(p.delay),
                CLASS_POD,
                Event::Provision {
                    accelerator: a as u32,
                },
            );
        }
    }

    fn provision(&mut self, a: usize) {
        let Some(p) = self.spec.capacity[&self.capacity[a].0].provisioning.clone() else {
            return;
        };
        let (name, c) = &mut self.capacity[a];
        c.provisioning_in_flight = false;
        c.total = (c.total + p.step_gpus).min(p.max_gpus);
        let what = Notable::Provisioned(name.clone(), c.total);
        self.results.notable(self.now, what);
        self.admit_pending(a);
        if !self.capacity[a].1.pending.is_empty() {
            self.request_provisioning(a);
        }
    }

    /// Starts pending units, in order, while their GPUs fit.
    fn admit_pending(&mut self, a: usize) {
        while let Some(&unit) = self.capacity[a].1.pending.front() {
            let need = self.spec.servings[self.units[unit as usize].serving].gpus_per_server();
            let c = &mut self.capacity[a].1;
            if c.used + need > c.total {
                break;
            }
            c.used += need;
            c.pending.pop_front();
            self.schedule_unit(unit);
        }
    }

    fn unit_ready(&mut self, unit: u32) {
        if self.units[unit as usize].state == UnitState::Starting {
            self.make_ready(unit);
        }
    }

    /// Scale-down of one server: a pending or starting one disappears at once; a ready one
    /// stops receiving requests and drains up to the termination grace.
    fn remove_unit(&mut self, unit: u32) {
        let state = self.units[unit as usize].state;
        match state {
            UnitState::Pending => {
                let s = self.units[unit as usize].serving;
                if let Some(a) = self.capacity_index(&self.spec.servings[s].accelerator) {
                    self.capacity[a].1.pending.retain(|&x| x != unit);
                }
                self.units[unit as usize].state = UnitState::Gone;
                self.account_live(s, -1);
                self.add_cost(unit);
            }
            UnitState::Starting | UnitState::Restarting => self.unit_gone(unit),
            // Not billed since its node was lost.
            UnitState::Lost => self.units[unit as usize].state = UnitState::Gone,
            UnitState::Ready => {
                self.set_terminating(unit);
                let u = &self.units[unit as usize];
                if u.server.is_idle() {
                    self.unit_gone(unit);
                } else {
                    let grace = self.spec.servings[u.serving].termination_grace;
                    self.queue.push(
                        self.now.saturating_add(grace),
                        CLASS_POD,
                        Event::GraceEnd { unit },
                    );
                }
            }
            UnitState::Terminating | UnitState::Gone => {}
        }
    }

    fn grace_end(&mut self, unit: u32) {
        if self.units[unit as usize].state != UnitState::Terminating {
            return;
        }
        let evicted = self.units[unit as usize].server.evict_all(self.now);
        for id in evicted {
            self.results
                .finish(&self.spec.slo, Outcome::Terminated, None);
            self.record_request(id, Outcome::Terminated, self.now);
            self.release(id);
        }
        self.unit_gone(unit);
    }

    /// The unit's pods are gone: billing stops and its GPUs are free.
    fn unit_gone(&mut self, unit: u32) {
        let u = &mut self.units[unit as usize];
        let had_gpus = u.scheduled.is_some();
        u.state = UnitState::Gone;
        let s = u.serving;
        self.account_live(s, -1);
        self.add_cost(unit);
        if had_gpus {
            let spec = &self.spec.servings[s];
            if let Some(a) = self.capacity_index(&spec.accelerator) {
                let c = &mut self.capacity[a].1;
                c.used = c.used.saturating_sub(spec.gpus_per_server());
                self.admit_pending(a);
            }
        }
    }

    fn add_cost(&mut self, unit: u32) {
        let u = &self.units[unit as usize];
        let cost = self.unit_cost(u);
        self.results.servings[u.serving].cost += cost;
    }

    /// What a unit has cost from its creation until now.
    fn unit_cost(&self, u: &Unit) -> f64 {
        (self.now - u.created).as_secs_f64() / 3600.0 * self.spec.servings[u.serving].price_per_hour
    }

    /// Records each serving's cost so far (`cost.csv`): the billed cost of its gone units plus
    /// what its live units have cost until now, summed in the same order as the final bill,
    /// so that the rows at the end equal the summary's costs exactly.
    fn record_cost(&mut self) {
        let mut cost: Vec<f64> = self.results.servings.iter().map(|s| s.cost).collect();
        let mut servers = vec![0u64; cost.len()];
        for u in self.units.iter().filter(|u| u.billed()) {
            cost[u.serving] += self.unit_cost(u);
            servers[u.serving] += 1;
        }
        let time_s = (self.now).as_secs_f64();
        for (i, spec) in self.spec.servings.iter().enumerate() {
            self.results.cost_timeline.push(CostRow {
                time_s,
                serving: spec.name.clone(),
                servers: servers[i],
                cost_per_hour: servers[i] as f64 * spec.price_per_hour,
                cost: cost[i],
            });
        }
    }

    /// Integrates the number of live (billed) servers over time, in all and per serving.
    fn account_live(&mut self, serving: usize, delta: i64) {
        let dt = (self.now - self.live_since).as_secs_f64();
        self.results.server_seconds += self.live_servers as f64 * dt;
        for (per, &n) in self.results.servings.iter_mut().zip(&self.live_by_serving) {
            per.server_seconds += n as f64 * dt;
        }
        self.live_since = self.now;
        self.live_servers = self.live_servers.saturating_add_signed(delta);
        let n = &mut self.live_by_serving[serving];
        *n = n.saturating_add_signed(delta);
        self.results.peak_servers = self.results.peak_servers.max(self.live_servers);
        let per = &mut self.results.servings[serving];
        per.peak_servers = per.peak_servers.max(*n);
    }

    // ----- the controller ----------------------------------------------------------------

    fn view(&self) -> TickView<'static> {
        let units = self
            .units
            .iter()
            .filter(|u| u.state != UnitState::Gone)
            .map(|u| {
                let spec = &self.spec.servings[u.serving];
                UnitView {
                    namespace: spec.namespace.clone(),
                    pod_name: u.pod_name.clone(),
                    labels: u.labels.clone(),
                    state: u.state,
                    restarts: u.restarts,
                    start_time: u.scheduled,
                    series: &u.series,
                    server: &u.server,
                    metrics_port: spec.metrics_port,
                    metrics_path: spec.metrics_path.clone(),
                }
            })
            .collect::<Vec<_>>();
        let servings = self
            .spec
            .servings
            .iter()
            .zip(&self.servings)
            .map(|(spec, st)| (spec, st.replicas, st.role_replicas.clone()))
            .collect::<Vec<_>>();
        TickView::new(self.now, &self.spec.clock, &servings, units)
    }

    fn tick(&mut self) {
        self.record_cost();
        let now_ms = self.spec.clock.engine_time(self.now);
        let mut view = self.view();
        if let Some((store, queries)) = &mut self.prometheus {
            // Prometheus scrapes every running pod just before the controller queries it.
            let live: Vec<&Unit> = self
                .units
                .iter()
                .filter(|u| u.state != UnitState::Gone)
                .collect();
            store.record(
                self.now,
                view.payloads().map(|(i, f)| (&live[i].prom_labels, f)),
            );
            view = view.with_prometheus(Prometheus {
                store,
                queries,
                now: self.now,
            });
        }
        let decisions = self.engine.reconcile(now_ms, &self.policies, &view);
        if let Some(log) = &mut self.engine_log {
            log.record(now_ms, &view, &decisions);
        }
        drop(view);
        let elapsed = (self.now - self.last_tick).as_secs_f64().max(1e-9);
        let arrivals_per_s = if self.now > self.last_tick {
            self.arrivals_since_tick as f64 / elapsed
        } else {
            0.0
        };
        self.arrivals_since_tick = 0;
        self.last_tick = self.now;
        for (i, d) in decisions.iter().enumerate() {
            // The servers as the controller read them; the spec after its write.
            let targets = self.targets[i].clone();
            let mut rows: Vec<TimelineRow> = targets
                .iter()
                .map(|&t| self.timeline_row(t, d, arrivals_per_s))
                .collect();
            self.apply(i, d);
            for (row, t) in rows.iter_mut().zip(targets) {
                let st = &self.servings[t.serving];
                row.spec_replicas = match t.role {
                    Some(r) => st.role_replicas[r],
                    None => st.replicas,
                };
            }
            self.results.timeline.extend(rows);
        }
        let next = self.now.saturating_add(self.spec.clock.sync_period);
        if next <= self.spec.clock.end() {
            self.queue.push(next, CLASS_TICK, Event::Tick);
        }
    }

    /// Writes the engine's decision to the ModelServing, which creates or removes servers.
    fn apply(&mut self, policy: usize, d: &Decision) {
        let sync = (self.spec.clock.sync_period).as_secs_f64();
        if d.skip {
            self.results.skipped_ticks += 1;
        }
        if d.panic {
            self.results.panic_seconds += sync;
        }
        if d.panic && !self.panic_by_policy[policy] {
            self.results
                .notable(self.now, Notable::PanicEntered(d.key.clone()));
        }
        self.panic_by_policy[policy] = d.panic;
        for w in &d.writes {
            let Some(s) = self
                .spec
                .servings
                .iter()
                .position(|x| x.name == w.model_serving && x.namespace == w.namespace)
            else {
                continue;
            };
            let state = &mut self.servings[s];
            let changed = match &w.role {
                None => std::mem::replace(&mut state.replicas, w.replicas) != w.replicas,
                Some(role) => match self.spec.servings[s]
                    .roles
                    .iter()
                    .position(|r| r.name == *role)
                {
                    Some(r) => {
                        std::mem::replace(&mut state.role_replicas[r], w.replicas) != w.replicas
                    }
                    None => false,
                },
            };
            if changed {
                self.results.scale_events += 1;
                self.reconcile_units(s);
            }
        }
        if let (Some(c), ScalingTarget::Homogeneous(h)) =
            (d.corrected, &self.policies[policy].target)
        {
            if c == h.max_replicas && !d.skip {
                self.results.max_reached(self.now, &d.key);
            }
        }
    }

    /// The timeline row of one target (serving, role) of decision `d`. A heterogeneous
    /// policy's rows carry the total recommendation and each ModelServing's share as
    /// `corrected`; a disaggregated policy's rows carry each role's recommendation, final
    /// count, panic mode and reason.
    fn timeline_row(&self, target: PolicyTarget, d: &Decision, arrivals_per_s: f64) -> TimelineRow {
        let PolicyTarget { serving, role, .. } = target;
        let spec = &self.spec.servings[serving];
        let mut counts = [0u32; 6];
        let (mut waiting, mut running, mut kv_sum, mut ready_n) = (0u64, 0u64, 0.0f64, 0u32);
        let mut cost_rate = 0.0;
        let mut restarted = 0u32;
        for u in &self.units {
            if u.state == UnitState::Gone {
                continue;
            }
            if u.billed() {
                cost_rate += self.spec.servings[u.serving].price_per_hour;
            }
            if u.serving != serving || (role.is_some() && u.role != role) {
                continue;
            }
            let slot = match u.state {
                UnitState::Ready => 0,
                UnitState::Starting => 1,
                UnitState::Pending => 2,
                UnitState::Terminating => 3,
                UnitState::Restarting => 4,
                UnitState::Lost => 5,
                UnitState::Gone => continue,
            };
            counts[slot] += 1;
            restarted += u32::from(u.restarts > 0);
            waiting += u.server.waiting() as u64;
            running += u.server.running() as u64;
            if u.state == UnitState::Ready {
                ready_n += 1;
                kv_sum +=
                    u.server.kv_used_tokens(self.now) as f64 / u.server.kv_capacity().max(1) as f64;
            }
        }
        let role_name = role.map(|r| spec.roles[r].name.as_str());
        let role_decision = d
            .roles
            .as_ref()
            .and_then(|rs| rs.iter().find(|r| Some(r.name.as_str()) == role_name));
        let (recommended, corrected, panic, reason, alg_input) = match (&d.split, role_decision) {
            (Some(split), _) => (
                d.recommended,
                split
                    .iter()
                    .find(|(k, _)| k.rsplit('/').next() == Some(spec.name.as_str()))
                    .map(|(_, v)| *v),
                d.panic,
                &d.reason,
                d.alg_input.as_ref(),
            ),
            (None, Some(r)) => (
                Some(r.recommended),
                Some(r.final_replicas),
                r.panic,
                &r.reason,
                r.alg_input.as_ref(),
            ),
            (None, None) => (
                d.recommended,
                d.corrected,
                d.panic,
                &d.reason,
                d.alg_input.as_ref(),
            ),
        };
        let (metrics, unready) = match alg_input {
            Some(a) => (
                a.ready
                    .iter()
                    .flatten()
                    .flat_map(|m| m.iter().map(|(k, v)| format!("{k}={v}")))
                    .chain(a.external.iter().map(|(k, v)| format!("{k}={v}")))
                    .collect::<Vec<_>>()
                    .join(";"),
                Some(a.unready),
            ),
            None => (String::new(), None),
        };
        TimelineRow {
            time_s: (self.now).as_secs_f64(),
            policy: d.key.clone(),
            target: match role_name {
                Some(r) => format!("{}/{}/{r}", spec.namespace, spec.name),
                None => format!("{}/{}", spec.namespace, spec.name),
            },
            spec_replicas: 0,
            min_replicas: target.min_replicas,
            max_replicas: target.max_replicas,
            ready: counts[0],
            starting: counts[1],
            pending: counts[2],
            terminating: counts[3],
            restarting: counts[4],
            lost: counts[5],
            restarted,
            metrics,
            unready,
            recommended,
            corrected,
            panic,
            skip: d.skip,
            reason_code: reason.code().to_string(),
            reason: reason.to_string(),
            arrivals_per_s,
            waiting: waiting + self.router_queued as u64,
            running,
            kv_usage: if ready_n > 0 {
                kv_sum / f64::from(ready_n)
            } else {
                0.0
            },
            cost_per_hour: cost_rate,
        }
    }

    // ----- the end -----------------------------------------------------------------------

    fn finish(mut self) -> Result<Results, RunError> {
        self.account_live(0, 0);
        // The last cost rows are the final bill, taken just before it is added up below.
        let end = (self.now).as_secs_f64();
        while (self.results.cost_timeline.last()).is_some_and(|r| r.time_s == end) {
            self.results.cost_timeline.pop();
        }
        self.record_cost();
        for i in 0..self.units.len() {
            if self.units[i].billed() {
                self.add_cost(i as u32);
            }
        }
        self.results.in_flight = self.reqs.iter().filter(|r| r.live).count() as u64;
        if self.opts.record_requests {
            let live: Vec<u32> = (0..self.reqs.len() as u32)
                .filter(|&i| self.reqs[i as usize].live)
                .collect();
            for id in live {
                self.record_request(id, Outcome::InFlight, self.now);
            }
        }
        self.results.close(self.spec.clock.duration);
        self.results.engine_log = self.engine_log.map(EngineLog::into_lines);
        Ok(self.results)
    }
}

/// Tokens per second a server decodes at a reference batch (its `max_num_seqs`, at most 32).
fn decode_speed(p: &super::server::ServerParams) -> f64 {
    let batch = f64::from(p.max_num_seqs.clamp(1, 32));
    batch / (p.base_ms + p.per_decode_seq_ms * batch).max(1e-9)
}

/// Runs `scn` with requests from `source`.
pub fn simulate(
    spec: &WorldSpec,
    source: Box<dyn RequestSource + '_>,
    opts: RunOptions,
    progress: &mut dyn FnMut(SimTime),
) -> Result<Results, RunError> {
    World::new(spec, source, opts).run(progress)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use proptest::prelude::*;

    use super::*;
    use crate::scenario::{parse, Overrides};

    /// A small scenario with the given knobs; policies resolve against `scenarios/`.
    #[allow(clippy::too_many_arguments)]
    fn scenario_text(
        seed: u64,
        minutes: u32,
        rps: f64,
        replicas: u32,
        policy: &str,
        router: &str,
        timeout: Option<u32>,
        kv_tokens: u32,
        gpus: Option<u32>,
    ) -> String {
        let cluster = gpus.map_or(String::new(), |g| {
            format!("cluster:\n  accelerators:\n    gpu: {{gpus: {g}, provisioning: {{delay: 2m, step_gpus: 2, max_gpus: {}}}}}\n", g + 4)
        });
        let timeout = timeout.map_or(String::new(), |t| format!(", queue_timeout: {t}s"));
        format!(
            "name: prop\nseed: {seed}\nduration: {minutes}m\npolicies: [{policy}]\n{cluster}\
             router: {{policy: {router}{timeout}}}\n\
             servings:\n  - name: chat-llama\n    namespace: llm\n    replicas: {replicas}\n    \
             termination_grace: 10s\n    startup: {{uniform: {{min: 20s, max: 90s}}}}\n    \
             server: {{preset: llama3-8b-1xh100, kv_cache_tokens: {kv_tokens}, max_num_seqs: 8}}\n\
             workload:\n  streams:\n    - poisson:\n        rate: {{points: [{{at: 0s, rps: {rps}}}, {{at: 3m, rps: {}}}]}}\n        \
             input_tokens: {{lognormal: {{median: 300, p99: 3000}}}}\n        output_tokens: {{uniform: {{min: 1, max: 400}}}}\n\
             slo: {{ttft: 2s}}\n",
            rps * 3.0
        )
    }

    /// Runs scenario `text` (policies resolve against `scenarios/`).
    pub(super) fn run_text(text: &str, step_by_step: bool) -> Results {
        let base = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let scn = parse("prop.yaml", text, &base, &Overrides::default())
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        let source = scn
            .workload
            .build(scn.seed(), &scn.base_dir, scn.duration())
            .expect("workload");
        let opts = RunOptions {
            step_by_step,
            ..RunOptions::default()
        };
        simulate(&scn.world, source, opts, &mut |_| {}).expect("run")
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// Requests are conserved: every arrival is completed, failed, dropped or still in
        /// flight at the end — whatever the load, policy, router, capacity or KV size.
        #[test]
        fn requests_are_conserved(
            seed in 0u64..1000,
            minutes in 3u32..12,
            rps in 0.2f64..4.0,
            replicas in 0u32..4,
            policy in prop::sample::select(vec!["", "../policies/chat-current.yaml", "../policies/chat-running-current.yaml"]),
            router in prop::sample::select(crate::model::router::RouterPolicy::NAMES.to_vec()),
            timeout in prop::option::of(5u32..60),
            kv_tokens in prop::sample::select(vec![2_000u32, 20_000, 200_000]),
            gpus in prop::option::of(1u32..4),
        ) {
            let text = scenario_text(seed, minutes, rps, replicas, policy, router, timeout, kv_tokens, gpus);
            let r = run_text(&text, false);
            prop_assert!(r.arrived > 0);
            prop_assert_eq!(r.arrived, r.completed + r.failed() + r.dropped + r.in_flight, "{}", text);
            prop_assert_eq!(r.completed, r.e2e.len());
        }
    }

    /// However many servers a policy asks for (Kthena admits maxReplicas up to 1 000 000,
    /// times the role replicas), the ModelServing controller creates at most `MAX_SERVERS`,
    /// at once, and says so once.
    #[test]
    fn the_servers_of_a_serving_are_capped() {
        let text = scenario_text(1, 5, 1.0, 1, "", "least-request", None, 20_000, None);
        let base = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let scn = parse("cap.yaml", &text, &base, &Overrides::default()).expect("scenario");
        let source = scn
            .workload
            .build(scn.seed(), &scn.base_dir, scn.duration())
            .expect("workload");
        let mut w = World::new(&scn.world, source, RunOptions::default());
        w.servings[0].replicas = 1_000_000;
        w.reconcile_units(0);
        w.reconcile_units(0);
        assert_eq!(w.units.len(), MAX_SERVERS as usize);
        let capped: Vec<_> = w
            .results
            .notable
            .iter()
            .filter(|(_, n)| matches!(n, Notable::ServerCap(..)))
            .collect();
        assert_eq!(capped.len(), 1, "{:?}", w.results.notable);
        assert_eq!(
            capped[0].1.to_string(),
            "chat-llama asked for 1000000 servers; the simulator runs at most 10000"
        );
    }

    /// Coalescing decode steps changes nothing: the same scenario step by step gives the
    /// same request timings and the same controller decisions.
    #[test]
    fn coalesced_and_step_by_step_runs_agree() {
        let text = scenario_text(
            4,
            8,
            2.0,
            2,
            "../policies/chat-current.yaml",
            "least-request",
            None,
            20_000,
            None,
        );
        let a = run_text(&text, false);
        let b = run_text(&text, true);
        assert_eq!(
            (a.arrived, a.completed, a.failed(), a.in_flight),
            (b.arrived, b.completed, b.failed(), b.in_flight)
        );
        assert_eq!(a.e2e, b.e2e);
        assert_eq!(a.ttft, b.ttft);
        assert_eq!(a.timeline, b.timeline);
    }

    /// Queueing theory check through the whole world: autoscaling off, `n` servers with
    /// `max_num_seqs = 1` (one request at a time, FCFS), Poisson arrivals at `λ` split by the
    /// random router into `n` independent Poisson streams of `λ/n`. Each server is then an
    /// M/G/1 queue whose mean wait is the Pollaczek–Khinchine value
    /// `Wq = (λ/n)·E[S²] / (2(1 − ρ))`, `ρ = (λ/n)·E[S]`. With no context cost and prompts
    /// that fit one step, a request of `p` prompt and `o` output tokens is served in
    /// `S = step(p prefill) + (o − 1)·step(1 decode)`; prompts and outputs are uniform over
    /// small ranges, so `E[S]` and `E[S²]` are exact averages over every (p, o) pair.
    fn mg1_per_server(servers: u32, router: &str) -> Vec<(f64, f64)> {
        let (base, per_prefill, per_decode) = (20.0, 0.05, 1.0);
        let (p_range, o_range) = ((100u32, 900u32), (1u32, 40u32));
        let params = crate::model::server::ServerParams {
            max_num_seqs: 1,
            max_num_batched_tokens: 8192,
            kv_cache_tokens: 1_000_000,
            base_ms: base,
            per_prefill_token_ms: per_prefill,
            per_decode_seq_ms: per_decode,
            per_context_token_ms: 0.0,
        };
        let (mut s1, mut s2, mut n) = (0.0f64, 0.0f64, 0.0f64);
        for p in p_range.0..=p_range.1 {
            for o in o_range.0..=o_range.1 {
                let t = params.step_duration(u64::from(p), 0, 0)
                    + i64::from(o - 1) * params.step_duration(0, 1, 0);
                let t = t.as_micros() as f64 / 1e6;
                s1 += t;
                s2 += t * t;
                n += 1.0;
            }
        }
        let (es, es2) = (s1 / n, s2 / n);
        let rho = 0.5;
        let lambda_total = rho / es * f64::from(servers);
        let text = format!(
            "name: mg1\nseed: 9\nduration: {}s\nrouter: {{policy: {router}}}\n\
             servings:\n  - name: s\n    replicas: {servers}\n    server: {{max_num_seqs: 1, max_num_batched_tokens: 8192, kv_cache_tokens: 1000000, \
             base_ms: {base}, per_prefill_token_ms: {per_prefill}, per_decode_seq_ms: {per_decode}}}\n\
             workload:\n  streams:\n    - poisson:\n        rate: {{constant: {lambda_total}}}\n        \
             input_tokens: {{uniform: {{min: {}, max: {}}}}}\n        output_tokens: {{uniform: {{min: {}, max: {}}}}}\n",
            (100_000.0 / lambda_total * f64::from(servers)).ceil(),
            p_range.0, p_range.1, o_range.0, o_range.1
        );
        let base_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let mut scn = parse("mg1.yaml", &text, &base_dir, &Overrides::default())
            .unwrap_or_else(|e| panic!("{e}"));
        scn.write_requests = true;
        let source = scn
            .workload
            .build(scn.seed(), &scn.base_dir, scn.duration())
            .expect("workload");
        let opts = RunOptions {
            record_requests: true,
            ..RunOptions::default()
        };
        let r = simulate(&scn.world, source, opts, &mut |_| {}).expect("run");
        let lambda = lambda_total / f64::from(servers);
        let theory = lambda * es2 / (2.0 * (1.0 - lambda * es));
        let mut per_server: std::collections::BTreeMap<String, (f64, f64)> = Default::default();
        for row in r
            .requests
            .iter()
            .filter(|q| q.outcome == Outcome::Completed)
        {
            let e = per_server
                .entry(row.server.clone().unwrap_or_default())
                .or_default();
            e.0 += (row.first_admit.unwrap_or(row.arrival) - row.arrival).as_micros() as f64 / 1e6;
            e.1 += 1.0;
        }
        assert_eq!(per_server.len(), servers as usize);
        per_server
            .values()
            .map(|(sum, count)| (sum / count, theory))
            .collect()
    }

    #[test]
    fn one_server_matches_pollaczek_khinchine() {
        for (simulated, theory) in mg1_per_server(1, "least-request") {
            eprintln!("M/G/1, one server: Wq simulated {simulated:.4} s, theory {theory:.4} s");
            assert!(
                (simulated / theory - 1.0).abs() < 0.05,
                "Wq simulated {simulated:.4} s vs theory {theory:.4} s"
            );
        }
    }

    #[test]
    fn random_routing_gives_independent_mg1_queues() {
        let waits = mg1_per_server(3, "random");
        for (simulated, theory) in waits {
            eprintln!("M/G/1 per server, random routing: Wq simulated {simulated:.4} s, theory {theory:.4} s");
            assert!(
                (simulated / theory - 1.0).abs() < 0.05,
                "Wq simulated {simulated:.4} s vs theory {theory:.4} s"
            );
        }
    }
}
