//! The simulated cluster and its event loop: requests arrive and are routed to inference
//! servers, serving groups start, serve, drain and go, GPUs run out and are provisioned, and
//! every sync period the autoscaler controller reads the pods and scales the ModelServings.
//!
//! Events at the same instant are handled in this order (docs/world.md §2):
//! server steps ending (completions first), then request arrivals (open-loop requests, and
//! KV caches reaching the decode side), then closed-loop sends, then pod and node
//! transitions (ready, grace end, capacity added), then router-queue timeouts, then policy
//! changes, then the controller tick. Within a class, in scheduling order.
//!
//! Closed-loop clients send at the start of the run (in client order), then each when its
//! request ends plus its think time. A request that ends at `t` in a later class (a crash,
//! a grace end, a queue timeout) with no think time thus has its successor sent right
//! after that event, before the other events of `t` — always before the tick at `t`, so that
//! the controller never reads a client between two requests.
//!
//! [`World`] owns the clock, the event queue, the workload feed and the tallies of request
//! outcomes; everything else belongs to its components — the request table, the
//! closed-loop clients, dispatch, the serving controller, the GPU pool, the ledger, the
//! fault injector, the installed policies and the recorder. Each event handler asks them in a fixed order, which is what keeps runs
//! reproducible to the byte: the order of events, of random draws and of float sums.

mod autoscale;
mod pods;
mod tick;

use super::autoscalers::{Autoscalers, Clock, KPA_SAMPLE};
use super::clients::Clients;
use super::dispatch::Dispatch;
use super::engine_log::EngineLog;
use super::faults::FaultInjector;
use super::ids::{
    AcceleratorIdx, ClientIdx, NodeLossIdx, PolicyChangeIdx, ServingIdx, SlotId, UnitId,
};
use super::latencies::{on_own_thread, Latencies, LatencyFeed};
use super::ledger::Ledger;
use super::openmetrics::OpenMetrics;
use super::policies::PolicySet;
use super::pool::AcceleratorPool;
use super::recorder::{Recorder, RowSink};
use super::requests::{RequestTable, Ticket};
use super::results::{MinuteLatency, Notable, Outcome, RequestRow, Results, Timing};
use super::router::Router;
use super::server::ServerEvent;
use super::servings::{Servings, UnitKind, UnitState};
use super::spec::WorldSpec;
use crate::engine::policy::Policy;
use crate::sim::cancel;
use crate::sim::rng::stream;
use crate::sim::{EventQueue, SimDuration, SimTime};
use crate::workload::{read_ahead, Request, RequestSource, Workload, WorkloadError};

/// Event classes: the order of simultaneous events.
const CLASS_WAKE: u8 = 0;
const CLASS_ARRIVAL: u8 = 1;
const CLASS_SEND: u8 = 2;
const CLASS_POD: u8 = 3;
const CLASS_TIMEOUT: u8 = 4;
const CLASS_POLICY: u8 = 5;
/// Scrapes for `--openmetrics` come just before the ticks at the same instant, so that they
/// hold what the ticks read.
const CLASS_SCRAPE: u8 = 6;
const CLASS_TICK: u8 = 7;

/// Closed-loop sends per client at one instant beyond which a run stops as stalled: a
/// request refused on arrival (longer than the server's KV cache) ends the instant it is
/// sent, and a client with no think time then sends the next one at that same instant. A
/// loop of such requests would never let simulated time advance. Legitimate runs stay far
/// below: every client sends once at the start, and a refused request is redrawn, so only
/// a workload whose requests are almost all refused comes near.
const MAX_SENDS_PER_CLIENT_AT_ONE_INSTANT: u64 = 1_000;

#[derive(Debug, Clone, Copy)]
enum Event {
    Wake {
        unit: UnitId,
    },
    Arrival,
    /// A closed-loop client sends a request.
    Send {
        client: ClientIdx,
    },
    Ready {
        unit: UnitId,
    },
    GraceEnd {
        unit: UnitId,
    },
    Provision {
        accelerator: AcceleratorIdx,
    },
    QueueTimeout {
        ticket: Ticket,
    },
    /// A prefilled request's KV cache reached the decode side.
    KvTransferred {
        ticket: Ticket,
    },
    PolicyChange {
        index: PolicyChangeIdx,
    },
    /// The container of a ready server crashes (if it has not restarted since).
    Crash {
        unit: UnitId,
        restarts: u32,
    },
    /// A crashed container is ready again.
    Restarted {
        unit: UnitId,
    },
    NodeLost {
        index: NodeLossIdx,
    },
    NodeRecovered {
        index: NodeLossIdx,
    },
    /// A pod of a lost node is deleted.
    Evicted {
        unit: UnitId,
    },
    Tick,
    /// A scrape of the whole cluster for `--openmetrics`.
    Scrape,
    /// A controller pass of one of the other autoscalers (HPA, KEDA).
    Autoscale {
        index: usize,
        clock: Clock,
    },
    /// The KPAs' in-flight sample (every 100 ms; each whole second also records and decides).
    KpaSample,
    /// A KPA at zero ticks at once: the activator's first stat arrived.
    KpaPoke {
        index: usize,
    },
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
    /// The run's rows could not be written.
    #[error("cannot write the run's rows: {0}")]
    Rows(#[from] std::io::Error),
    /// Closed-loop clients kept sending at one instant (see
    /// [`MAX_SENDS_PER_CLIENT_AT_ONE_INSTANT`]).
    #[error(
        "closed-loop clients sent {sends} requests at {:.6}s without simulated time \
         advancing: each was refused as it arrived (longer than the server's KV cache) and \
         sent again at once; shorten the requests or add a think time",
        at.as_secs_f64()
    )]
    Stalled { at: SimTime, sends: u64 },
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
    /// Scrape the cluster at this interval for `--openmetrics`, in phase with the ticks.
    pub openmetrics: Option<SimDuration>,
}

pub struct World<'s> {
    spec: &'s WorldSpec,
    now: SimTime,
    queue: EventQueue<Event>,
    source: Box<dyn RequestSource + 's>,
    next_request: Option<Request>,
    clients: Clients,
    /// Closed-loop sends at `sends_at` so far, and the most allowed at one instant.
    sends_now: u64,
    sends_at: SimTime,
    max_sends_at_one_instant: u64,
    /// The initial servers are in place: pods created from now on pull their images.
    started: bool,
    /// Arrivals since the last tick, and its time: the timeline's arrival rate.
    arrivals_since_tick: u64,
    last_tick: SimTime,
    /// Reused by every server call.
    server_events: Vec<ServerEvent>,
    /// Request outcomes and the controller's counters; the components add theirs at the end.
    results: Results,
    requests: RequestTable,
    dispatch: Dispatch,
    servings: Servings<'s>,
    pool: AcceleratorPool,
    ledger: Ledger,
    faults: FaultInjector,
    policies: PolicySet,
    /// The HPAs, KEDA ScaledObjects and KPAs, and per one the time and arrival count of its
    /// last timeline row (for the row's arrival rate).
    autoscalers: Autoscalers,
    last_rows: Vec<(SimTime, u64)>,
    recorder: Recorder<'s>,
    /// Where the completions' latencies are added up.
    latencies: LatencyFeed,
    /// Reused for the minute rows of `latency.csv` made by a completion.
    minute_rows: Vec<MinuteLatency>,
    /// Per serving: requests the router sent to its servers (the exported router counter).
    routed: Vec<u64>,
    scrape_interval: Option<SimDuration>,
}

impl<'s> World<'s> {
    /// A world of `spec` fed by `workload`, whose timeline, cost and latency rows go to
    /// `rows`.
    pub fn new(
        spec: &'s WorldSpec,
        workload: Workload,
        opts: RunOptions,
        rows: &'s mut dyn RowSink,
        latencies: LatencyFeed,
    ) -> Self {
        let router = Router::new(spec.router, stream(spec.seed, "routing"));
        let mut w = World {
            spec,
            now: SimTime::ZERO,
            queue: EventQueue::new(),
            source: workload.open,
            next_request: None,
            max_sends_at_one_instant: MAX_SENDS_PER_CLIENT_AT_ONE_INSTANT.saturating_mul(
                workload
                    .closed
                    .iter()
                    .map(|c| u64::from(c.concurrency()))
                    .sum(),
            ),
            clients: Clients::new(workload.closed),
            sends_now: 0,
            sends_at: SimTime::ZERO,
            started: false,
            arrivals_since_tick: 0,
            last_tick: SimTime::ZERO,
            server_events: Vec::new(),
            results: Results::new(spec),
            requests: RequestTable::default(),
            dispatch: Dispatch::new(router, spec.servings.iter().map(|s| &s.server)),
            servings: Servings::new(&spec.servings, spec.seed, !opts.step_by_step),
            pool: AcceleratorPool::new(&spec.capacity),
            ledger: Ledger::new((spec.servings.iter()).map(|s| (s.name.clone(), s.price_per_hour))),
            faults: FaultInjector::new(stream(spec.seed, "failures"), spec.servings.len()),
            policies: PolicySet::new(spec.engine),
            autoscalers: Autoscalers::new(&spec.autoscalers, &spec.servings, SimTime::ZERO),
            last_rows: vec![(SimTime::ZERO, 0); spec.autoscalers.len()],
            recorder: Recorder::new(
                rows,
                opts.record_requests,
                opts.engine_log.then(|| EngineLog::new(spec)),
                opts.openmetrics.map(|_| OpenMetrics::new()),
            ),
            latencies,
            minute_rows: Vec::new(),
            routed: vec![0; spec.servings.len()],
            scrape_interval: opts.openmetrics.filter(|d| *d > SimDuration::ZERO),
        };
        w.set_policies(spec.policies.clone());
        w
    }

    /// Runs to the end of the scenario; `progress` is called with the simulated time now
    /// and then.
    pub fn run(mut self, progress: &mut dyn FnMut(SimTime)) -> Result<Results, RunError> {
        // The initial servers already run when the simulation starts (those that fit).
        for s in 0..self.spec.servings.len() {
            self.reconcile(ServingIdx::new(s));
        }
        let starting: Vec<UnitId> = (self.servings.units())
            .filter(|(_, u)| matches!(u.state(), UnitState::Starting { .. }))
            .map(|(id, _)| id)
            .collect();
        for unit in starting {
            self.set_ready(unit);
        }
        self.started = true;
        self.pull_request()?;
        let end = self.spec.clock.end();
        // No request arrives at the end (as for the open-loop sources).
        if SimTime::ZERO < end {
            for client in self.clients.start() {
                (self.queue).push(SimTime::ZERO, CLASS_SEND, Event::Send { client });
            }
        }
        if self.spec.clock.first_tick <= end {
            self.queue
                .push(self.spec.clock.first_tick, CLASS_TICK, Event::Tick);
        }
        for i in 0..self.autoscalers.items.len() {
            for (at, clock) in self.autoscalers.first_events(i, self.spec.clock.first_tick) {
                if at <= end {
                    let ev = Event::Autoscale { index: i, clock };
                    self.queue.push(at, CLASS_TICK, ev);
                }
            }
        }
        if self.autoscalers.has_kpa() && SimTime::ZERO.saturating_add(KPA_SAMPLE) <= end {
            (self.queue).push(
                SimTime::ZERO.saturating_add(KPA_SAMPLE),
                CLASS_TICK,
                Event::KpaSample,
            );
        }
        for (i, loss) in self.spec.node_losses.iter().enumerate() {
            if loss.at <= end {
                let index = NodeLossIdx::new(i);
                self.queue
                    .push(loss.at, CLASS_POD, Event::NodeLost { index });
            }
        }
        for (i, (at, _)) in self.spec.policy_changes.iter().enumerate() {
            if *at <= end {
                let index = PolicyChangeIdx::new(i);
                self.queue
                    .push(*at, CLASS_POLICY, Event::PolicyChange { index });
            }
        }
        if let Some(interval) = self.scrape_interval {
            let phase = self.spec.clock.first_tick.as_micros() % interval.as_micros();
            let first = SimTime::from_micros(phase);
            if first <= end {
                self.queue.push(first, CLASS_SCRAPE, Event::Scrape);
            }
        }
        let mut next_progress = SimTime::ZERO;
        // The first event past the end is popped and dropped: nothing reads the queue after.
        while let Some((t, ev)) = self.queue.pop() {
            if t > end {
                break;
            }
            self.now = t;
            if t >= next_progress {
                if cancel::is_requested() {
                    return Err(RunError::Interrupted);
                }
                progress(t);
                next_progress = t + self.spec.clock.duration / 200 + SimDuration::from_micros(1);
            }
            self.handle(ev)?;
        }
        self.now = end;
        progress(self.now);
        self.finish()
    }

    fn handle(&mut self, ev: Event) -> Result<(), RunError> {
        match ev {
            Event::Wake { unit } => self.wake(unit),
            Event::Arrival => self.arrival()?,
            Event::Send { client } => self.send_from(client)?,
            Event::Ready { unit } => self.started_up(unit),
            Event::GraceEnd { unit } => self.grace_end(unit),
            Event::Provision { accelerator } => self.provision(accelerator),
            Event::QueueTimeout { ticket } => self.queue_timeout(ticket),
            Event::KvTransferred { ticket } => self.kv_transferred(ticket),
            Event::PolicyChange { index } => {
                let policies = self.spec.policy_changes[index.index()].1.clone();
                let what = Notable::PolicyChange(index.index());
                self.recorder.notable(self.now, what);
                self.set_policies(policies);
            }
            Event::Crash { unit, restarts } => self.crash(unit, restarts),
            Event::Restarted { unit } => self.restarted(unit),
            Event::NodeLost { index } => self.node_lost(index),
            Event::NodeRecovered { index } => self.node_recovered(index),
            Event::Evicted { unit } => self.evicted(unit),
            Event::Tick => self.tick(),
            Event::Scrape => self.scrape(),
            Event::Autoscale { index, clock } => self.autoscale(index, clock),
            Event::KpaSample => self.kpa_sample(),
            Event::KpaPoke { index } => self.kpa_pass(index, true),
        }
        Ok(())
    }

    fn state(&self, unit: UnitId) -> UnitState {
        self.servings.unit(unit).state()
    }

    fn set_policies(&mut self, policies: Vec<Policy>) {
        let sync = self.spec.clock.sync_period;
        let installed = (self.policies).install(policies, &self.spec.servings, sync);
        if let Some(log) = self.recorder.engine_log() {
            log.start_segment(installed);
        }
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
            self.admit(&r, None);
        }
        self.pull_request()
    }

    /// Closed-loop client `client` sends its request.
    fn send_from(&mut self, client: ClientIdx) -> Result<(), RunError> {
        if self.sends_at != self.now {
            (self.sends_at, self.sends_now) = (self.now, 0);
        }
        self.sends_now += 1;
        if self.sends_now > self.max_sends_at_one_instant {
            let (at, sends) = (self.now, self.sends_now);
            return Err(RunError::Stalled { at, sends });
        }
        let r = self.clients.request(client, self.now);
        self.admit(&r, Some(client));
        Ok(())
    }

    /// Request `r` reaches the router now: to a server, or into the router queue.
    fn admit(&mut self, r: &Request, client: Option<ClientIdx>) {
        self.results.arrived += 1;
        self.results.input_tokens.add(r.input_tokens);
        self.results.output_tokens.add(r.output_tokens);
        self.arrivals_since_tick += 1;
        let id = self.requests.admit(self.now, r);
        self.requests.get_mut(id).client = client;
        if self.autoscalers.has_kpa() {
            let (servings, waiting) = (&self.servings, self.dispatch.waiting());
            let idle = |s| waiting == 0 && servings.in_flight(s).0 == 0;
            for index in self.autoscalers.activator_stat(self.now, idle) {
                (self.queue).push(self.now, CLASS_TICK, Event::KpaPoke { index });
            }
        }
        match self.dispatch.pick_entry(&self.servings, self.now) {
            Some(unit) => self.send(id, unit),
            None => {
                let ticket = self.requests.ticket(id);
                self.dispatch.enqueue(ticket);
                if let Some(t) = self.spec.queue_timeout {
                    let at = self.now.saturating_add(t);
                    self.queue
                        .push(at, CLASS_TIMEOUT, Event::QueueTimeout { ticket });
                }
            }
        }
    }

    /// Request `id` is done, whatever its outcome, at `at`: its slot is freed, and the
    /// closed-loop client that sent it, if any, schedules its next send.
    fn release(&mut self, id: SlotId, at: SimTime) {
        let client = self.requests.get(id).client;
        self.requests.release(id);
        let Some(client) = client else { return };
        if let Some(next) = self.clients.next_send(client, at.max(self.now)) {
            if next < self.spec.clock.end() {
                self.queue.push(next, CLASS_SEND, Event::Send { client });
            }
        }
    }

    /// Hands request `id` to server `unit`: a prefill server gets it with one output token
    /// (its first), a decode server with its KV cache, any other the whole request.
    fn send(&mut self, id: SlotId, unit: UnitId) {
        let r = self.requests.get_mut(id);
        r.unit = Some(unit);
        let (input, output) = (r.input, r.output);
        let mut events = std::mem::take(&mut self.server_events);
        events.clear();
        let u = self.servings.unit_mut(unit);
        if matches!(u.kind, UnitKind::Serve | UnitKind::Prefill) {
            self.autoscalers.request_sent(u.serving);
            self.routed[u.serving.index()] += 1;
        }
        match u.kind {
            UnitKind::Prefill => {
                r.decode_serving = Some(u.serving);
                u.server.arrive(self.now, id, input, 1, &mut events);
            }
            UnitKind::Decode => {
                (u.server).arrive_prefilled(self.now, id, input, output, &mut events)
            }
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
    fn kv_transferred(&mut self, ticket: Ticket) {
        let Some(r) = self.requests.live(ticket) else {
            return;
        };
        let serving = r
            .decode_serving
            .expect("a prefilled request has a decode serving");
        let placed = (self.dispatch).place_prefilled(ticket, serving, &self.servings, self.now);
        if let Some(unit) = placed {
            self.send(ticket.slot, unit);
        }
    }

    /// Hands waiting requests to the ready servers of `kind`, oldest first, while one of
    /// their kind is ready.
    fn drain_queue(&mut self, kind: UnitKind) {
        loop {
            let next = match kind {
                UnitKind::Decode => {
                    (self.dispatch).next_prefilled(&self.requests, &self.servings, self.now)
                }
                _ => (self.dispatch).next_queued(&self.requests, &self.servings, self.now),
            };
            let Some((id, unit)) = next else { break };
            self.send(id, unit);
        }
    }

    fn queue_timeout(&mut self, ticket: Ticket) {
        if self.dispatch.time_out(ticket, &self.requests) {
            self.results.finish(&self.spec.slo, Outcome::Dropped, None);
            if self.results.dropped == 1 {
                self.recorder.notable(self.now, Notable::FirstDrop);
            }
            self.release(ticket.slot, self.now);
        }
    }

    /// Request `id` ended with `outcome` at `at` (not completed: see [`World::completed`]).
    fn end_request(&mut self, id: SlotId, outcome: Outcome, at: SimTime) {
        self.results.finish(&self.spec.slo, outcome, None);
        self.record_request(id, outcome, at);
        self.release(id, at);
    }

    fn record_request(&mut self, id: SlotId, outcome: Outcome, at: SimTime) {
        if !self.recorder.records_requests() {
            return;
        }
        let r = self.requests.get(id);
        let server = r.unit.map(|u| self.servings.unit(u).pod_name.clone());
        self.recorder.request(RequestRow {
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

    // ----- servers -----------------------------------------------------------------------

    fn schedule_wake(&mut self, unit: UnitId) {
        let u = self.servings.unit_mut(unit);
        if let Some(t) = u.server.next_wakeup() {
            if u.next_wake != Some(t) {
                u.next_wake = Some(t);
                self.queue.push(t, CLASS_WAKE, Event::Wake { unit });
            }
        }
    }

    fn wake(&mut self, unit: UnitId) {
        let u = self.servings.unit_mut(unit);
        if u.state() == UnitState::Gone || u.server.next_wakeup() != Some(self.now) {
            return;
        }
        let mut events = std::mem::take(&mut self.server_events);
        events.clear();
        u.server.wake(self.now, &mut events);
        self.handle_server_events(unit, &mut events);
        self.server_events = events;
        self.schedule_wake(unit);
        let u = self.servings.unit(unit);
        if matches!(u.state(), UnitState::Terminating { .. }) && u.server.is_idle() {
            self.unit_gone(unit);
        }
    }

    fn handle_server_events(&mut self, unit: UnitId, events: &mut Vec<ServerEvent>) {
        for ev in events.drain(..) {
            match ev {
                ServerEvent::Admitted { req, at } => {
                    self.requests.get_mut(req).first_admit.get_or_insert(at);
                }
                ServerEvent::FirstToken { req, at } => {
                    self.requests.get_mut(req).first_token.get_or_insert(at);
                }
                ServerEvent::Preempted { .. } => self.results.preemptions += 1,
                ServerEvent::Finished { req, at }
                    if self.servings.unit(unit).kind == UnitKind::Prefill
                        && self.requests.get(req).output > 1 =>
                {
                    self.prefilled(unit, req, at)
                }
                ServerEvent::Finished { req, at } => self.completed(unit, req, at),
                ServerEvent::TooLong { req, at } => self.end_request(req, Outcome::TooLong, at),
            }
        }
    }

    /// Prefill done on `unit` at `at` (the first token is out): the KV cache moves to the
    /// decode side.
    fn prefilled(&mut self, unit: UnitId, id: SlotId, at: SimTime) {
        let r = *self.requests.get(id);
        let u = self.servings.unit_mut(unit);
        u.series.ttft.observe(r.ttft().as_secs_f64());
        let spec = self.servings.spec(self.servings.unit(unit).serving);
        let delay =
            (spec.disaggregation.as_ref()).map_or(SimDuration::ZERO, |d| d.transfer_time(r.input));
        let ticket = self.requests.ticket(id);
        self.queue.push(
            at.saturating_add(delay),
            CLASS_ARRIVAL,
            Event::KvTransferred { ticket },
        );
    }

    /// Request `id` completed on `unit` at `at`.
    fn completed(&mut self, unit: UnitId, id: SlotId, at: SimTime) {
        let r = *self.requests.get(id);
        let u = self.servings.unit_mut(unit);
        let timing = Timing {
            end: at,
            queue: r.queue_time(),
            ttft: r.ttft(),
            e2e: at - r.arrival,
            output_tokens: r.output,
        };
        u.series.ttft.observe(timing.ttft.as_secs_f64());
        u.series.e2e.observe(timing.e2e.as_secs_f64());
        if let Some(tpot) = timing.tpot() {
            u.series.tpot.observe(tpot / 1e6);
        }
        u.series.prompt_tokens.observe(f64::from(r.input));
        u.series.generation_tokens.observe(f64::from(r.output));
        u.series.request_success_total += 1;
        let serving = u.serving.index();
        (self.results).finish(&self.spec.slo, Outcome::Completed, Some((serving, timing)));
        (self.latencies).add(serving, timing, &mut self.minute_rows);
        if !self.minute_rows.is_empty() {
            self.recorder.latency(self.minute_rows.drain(..));
        }
        self.record_request(id, Outcome::Completed, at);
        self.release(id, at);
    }

    // ----- the end -----------------------------------------------------------------------

    fn finish(mut self) -> Result<Results, RunError> {
        self.ledger.advance(self.now);
        // The last cost rows are the final bill, taken just before it is added up below.
        self.recorder.drop_costs_at(self.now.as_secs_f64());
        let rows = self.ledger.cost_rows(self.now, self.servings.billed());
        self.recorder.costs(rows);
        for u in self.servings.billed() {
            self.ledger.bill(u.serving, u.created, self.now);
        }
        self.results.in_flight = self.requests.live_slots().count() as u64;
        if self.recorder.records_requests() {
            let live: Vec<SlotId> = self.requests.live_slots().collect();
            for id in live {
                self.record_request(id, Outcome::InFlight, self.now);
            }
        }
        self.source.traces(&mut self.results.traces);
        let mut results = self.results;
        results.duration = self.spec.clock.duration;
        results.pending_units = self.pool.queued_total();
        results.faults = self.faults.counts();
        self.ledger.settle(&mut results);
        let mut rows = std::mem::take(&mut self.minute_rows);
        let latencies = self.latencies.finish(&mut rows);
        latencies.settle(results.duration, &mut results, &mut rows);
        self.recorder.latency(rows);
        self.recorder.settle(&mut results)?;
        Ok(results)
    }
}

/// Runs the world of `spec` with the requests of `workload`; its timeline, cost and latency
/// rows go to `rows` as they are made. Outside a thread pool (a lone run, which leaves a core
/// idle), the open-loop requests are drawn ahead on a thread of their own ([`read_ahead`]),
/// and the latencies of the completed requests are added up on another ([`on_own_thread`]);
/// inside one (replications, variants, calibration), every core already runs a simulation.
/// The results are the same either way.
pub fn simulate(
    spec: &WorldSpec,
    workload: Workload,
    opts: RunOptions,
    rows: &mut dyn RowSink,
    progress: &mut dyn FnMut(SimTime),
) -> Result<Results, RunError> {
    let servings = spec.servings.len();
    if rayon::current_thread_index().is_some() {
        let latencies = LatencyFeed::Here(Box::new(Latencies::new(servings)));
        return World::new(spec, workload, opts, rows, latencies).run(progress);
    }
    let Workload { open, closed } = workload;
    let (results, source) = read_ahead(open, spec.clock.end(), |open| {
        on_own_thread(servings, |latencies| {
            World::new(spec, Workload { open, closed }, opts, rows, latencies).run(progress)
        })
    });
    let mut results = results?;
    source.traces(&mut results.traces);
    Ok(results)
}

#[cfg(test)]
mod tests;
