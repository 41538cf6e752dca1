//! The world's side of the serving groups and their pods: creation and removal as the
//! ModelServing controller plans them, GPUs and node provisioning, start-up (image pulls
//! included), readiness, draining, and the faults that strike pods — container crashes and
//! lost nodes. Each handler is a sequence of calls to the components, in the order that keeps
//! runs reproducible.

use super::{Event, World, CLASS_POD};
use crate::model::ids::{AcceleratorIdx, NodeLossIdx, ServingIdx, UnitId};
use crate::model::pool::Placement;
use crate::model::results::{Notable, Outcome};
use crate::model::servings::{GroupSlot, UnitState};
use crate::sim::SimDuration;

impl World<'_> {
    /// Creates and removes servers so that serving `s` matches its spec.
    pub(super) fn reconcile(&mut self, s: ServingIdx) {
        let plan = self.servings.plan(s);
        if let Some(asked) = plan.over_cap {
            let what = Notable::ServerCap(self.servings.spec(s).name.clone(), asked);
            self.recorder.notable(self.now, what);
        }
        for unit in plan.remove {
            self.remove_unit(unit);
        }
        for slot in plan.create {
            self.create_unit(s, slot);
        }
    }

    fn create_unit(&mut self, s: ServingIdx, slot: GroupSlot) {
        let unit = self.servings.create(s, slot, self.now);
        self.ledger.change(s, 1, self.now);
        let spec = self.servings.spec(s);
        let Some(a) = self.pool.find(&spec.accelerator) else {
            self.schedule_unit(unit);
            return;
        };
        match self.pool.place(a, unit, spec.gpus_per_server()) {
            Placement::Placed => self.schedule_unit(unit),
            Placement::Queued { first } => {
                if first {
                    let what = Notable::Pending(spec.accelerator.clone());
                    self.recorder.notable(self.now, what);
                }
                self.request_node(a);
            }
        }
    }

    /// The unit got its GPUs: its pods start.
    fn schedule_unit(&mut self, unit: UnitId) {
        let startup = self.servings.schedule(unit, self.now);
        let pull = self.image_pull_delay(unit);
        let at = self.now.saturating_add(pull).saturating_add(startup);
        self.queue.push(at, CLASS_POD, Event::Ready { unit });
    }

    /// How long the image pulls of a pod scheduled now fail before one succeeds.
    fn image_pull_delay(&mut self, unit: UnitId) -> SimDuration {
        let u = self.servings.unit(unit);
        let Some(pull) = &self.servings.spec(u.serving).faults.image_pull else {
            return SimDuration::ZERO;
        };
        if !self.started {
            return SimDuration::ZERO;
        }
        let p = self.faults.pull(pull, self.now, self.spec.clock.end());
        if let Some(failures) = p.first_failures {
            let what = Notable::ImagePullBackOff(u.pod_name.clone(), failures);
            self.recorder.notable(self.now, what);
        }
        p.delay
    }

    fn request_node(&mut self, a: AcceleratorIdx) {
        if let Some(delay) = self.pool.request_node(a) {
            let at = self.now.saturating_add(delay);
            (self.queue).push(at, CLASS_POD, Event::Provision { accelerator: a });
        }
    }

    pub(super) fn provision(&mut self, a: AcceleratorIdx) {
        let Some(total) = self.pool.node_added(a) else {
            return;
        };
        let what = Notable::Provisioned(self.pool.name(a).to_string(), total);
        self.recorder.notable(self.now, what);
        self.admit_pending(a);
        if self.pool.has_pending(a) {
            self.request_node(a);
        }
    }

    /// Starts pending units, in order, while their GPUs fit.
    fn admit_pending(&mut self, a: AcceleratorIdx) {
        while let Some(unit) = self.pool.admit_next(a) {
            self.schedule_unit(unit);
        }
    }

    /// Unit `unit` becomes ready (and may crash).
    pub(super) fn set_ready(&mut self, unit: UnitId) {
        self.servings.set_ready(unit, self.now);
        let u = self.servings.unit(unit);
        let crashes = self.servings.spec(u.serving).faults.crashes.as_ref();
        if let Some(at) = (self.faults).next_crash(crashes, self.now, self.spec.clock.end()) {
            let restarts = u.restarts;
            self.queue
                .push(at, CLASS_POD, Event::Crash { unit, restarts });
        }
    }

    /// Unit `unit` becomes ready and takes what waits for a server of its kind.
    fn make_ready(&mut self, unit: UnitId) {
        self.set_ready(unit);
        self.drain_queue(self.servings.unit(unit).kind);
    }

    /// A starting unit's pods are up.
    pub(super) fn started_up(&mut self, unit: UnitId) {
        if matches!(self.state(unit), UnitState::Starting { .. }) {
            self.make_ready(unit);
        }
    }

    /// The restarted container is ready again.
    pub(super) fn restarted(&mut self, unit: UnitId) {
        if matches!(self.state(unit), UnitState::Restarting { .. }) {
            self.make_ready(unit);
        }
    }

    /// A lost pod is deleted: its serving group is recreated (if still wanted).
    pub(super) fn evicted(&mut self, unit: UnitId) {
        if matches!(self.state(unit), UnitState::Lost { .. }) {
            self.servings.set_gone(unit);
            self.reconcile(self.servings.unit(unit).serving);
        }
    }

    /// Scale-down of one server: a pending or starting one disappears at once; a ready one
    /// stops receiving requests and drains up to the termination grace.
    fn remove_unit(&mut self, unit: UnitId) {
        let u = self.servings.unit(unit);
        let s = u.serving;
        let spec = self.servings.spec(s);
        match u.state() {
            UnitState::Pending => {
                if let Some(a) = self.pool.find(&spec.accelerator) {
                    self.pool.withdraw(a, unit);
                }
                self.servings.set_gone(unit);
                self.ledger.change(s, -1, self.now);
                self.bill(unit);
            }
            UnitState::Starting { .. } | UnitState::Restarting { .. } => self.unit_gone(unit),
            // Not billed since its node was lost.
            UnitState::Lost { .. } => {
                self.servings.set_gone(unit);
            }
            UnitState::Ready { .. } => {
                self.servings.terminate(unit);
                if self.servings.unit(unit).server.is_idle() {
                    self.unit_gone(unit);
                } else {
                    let at = self.now.saturating_add(spec.termination_grace);
                    self.queue.push(at, CLASS_POD, Event::GraceEnd { unit });
                }
            }
            UnitState::Terminating { .. } | UnitState::Gone => {}
        }
    }

    pub(super) fn grace_end(&mut self, unit: UnitId) {
        if !matches!(self.state(unit), UnitState::Terminating { .. }) {
            return;
        }
        let evicted = self.servings.unit_mut(unit).server.evict_all(self.now);
        for id in evicted {
            self.end_request(id, Outcome::Terminated, self.now);
        }
        self.unit_gone(unit);
    }

    /// The unit's pods are gone: billing stops and its GPUs are free.
    pub(super) fn unit_gone(&mut self, unit: UnitId) {
        let had_gpus = self.servings.set_gone(unit).scheduled_at().is_some();
        let s = self.servings.unit(unit).serving;
        self.ledger.change(s, -1, self.now);
        self.bill(unit);
        let spec = self.servings.spec(s);
        if let (true, Some(a)) = (had_gpus, self.pool.find(&spec.accelerator)) {
            self.pool.release(a, spec.gpus_per_server());
            self.admit_pending(a);
        }
    }

    /// The unit is no longer billed: what it cost joins its serving's bill.
    fn bill(&mut self, unit: UnitId) {
        let u = self.servings.unit(unit);
        self.ledger.bill(u.serving, u.created, self.now);
    }

    /// The container of ready unit `unit` crashes (unless it restarted since the crash was
    /// drawn): what it held fails, and the kubelet restarts it after its back-off; the pod
    /// keeps `restartCount > 0` from now on.
    pub(super) fn crash(&mut self, unit: UnitId, restarts: u32) {
        let u = self.servings.unit(unit);
        if !matches!(u.state(), UnitState::Ready { .. }) || u.restarts != restarts {
            return;
        }
        self.fail_requests(unit);
        let streak = self.servings.crash(unit, self.now);
        let u = self.servings.unit(unit);
        let crashes = self.servings.spec(u.serving).faults.crashes.as_ref();
        let (back_at, first) = (self.faults).crashed(u.serving, crashes, streak, self.now);
        self.queue
            .push(back_at, CLASS_POD, Event::Restarted { unit });
        if first {
            let what = Notable::FirstCrash(u.pod_name.clone());
            self.recorder.notable(self.now, what);
        }
    }

    /// Node loss `index`: the node's share of the running pods fail, its GPUs leave.
    pub(super) fn node_lost(&mut self, index: NodeLossIdx) {
        let loss = &self.spec.node_losses[index.index()];
        let Some(a) = self.pool.find(&loss.accelerator) else {
            return;
        };
        let (used, total) = self.pool.usage(a);
        let mut to_free = loss.gpus_hit(used, total);
        let mut on_node = self.servings.scheduled_on(&loss.accelerator);
        let mut lost = 0u32;
        while to_free > 0 && !on_node.is_empty() {
            let unit = self.faults.pick(&mut on_node);
            let gpus = self
                .servings
                .spec(self.servings.unit(unit).serving)
                .gpus_per_server();
            self.lose_unit(unit, index);
            to_free = to_free.saturating_sub(gpus.max(1));
            lost += 1;
        }
        let total = self.pool.node_lost(a, loss.gpus);
        let what = Notable::NodeLost(loss.accelerator.clone(), loss.gpus, lost, total);
        self.recorder.notable(self.now, what);
        self.faults.node_lost(lost);
        if let Some(after) = loss.recovers_after {
            let at = self.now.saturating_add(after);
            self.queue
                .push(at, CLASS_POD, Event::NodeRecovered { index });
        }
    }

    /// One pod of lost node `index`: what it held fails and billing stops; it stays, not
    /// ready, until evicted — unless it was already being deleted, which the node loss
    /// completes at once.
    fn lose_unit(&mut self, unit: UnitId, index: NodeLossIdx) {
        self.fail_requests(unit);
        let before = self.servings.lose(unit);
        let s = self.servings.unit(unit).serving;
        self.ledger.change(s, -1, self.now);
        self.bill(unit);
        let spec = self.servings.spec(s);
        if let Some(a) = self.pool.find(&spec.accelerator) {
            self.pool.release(a, spec.gpus_per_server());
        }
        if !matches!(before, UnitState::Terminating { .. }) {
            let at = self
                .now
                .saturating_add(self.spec.node_losses[index.index()].eviction);
            self.queue.push(at, CLASS_POD, Event::Evicted { unit });
        }
    }

    /// A replacement node brings the capacity of node loss `index` back.
    pub(super) fn node_recovered(&mut self, index: NodeLossIdx) {
        let loss = &self.spec.node_losses[index.index()];
        let Some(a) = self.pool.find(&loss.accelerator) else {
            return;
        };
        let total = self.pool.node_recovered(a, loss.gpus);
        let what = Notable::NodeRecovered(self.pool.name(a).to_string(), total);
        self.recorder.notable(self.now, what);
        self.admit_pending(a);
    }

    /// Fails every request `unit` holds (a crash or a lost node) and gives it a fresh
    /// server: the process that held them, and its counters, are gone.
    fn fail_requests(&mut self, unit: UnitId) {
        let evicted = self.servings.unit_mut(unit).server.evict_all(self.now);
        for id in evicted {
            self.end_request(id, Outcome::Crashed, self.now);
        }
        self.servings.reset_server(unit);
    }
}
