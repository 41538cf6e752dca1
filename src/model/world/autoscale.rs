//! The other autoscalers' controller passes: an HPA sync, a KEDA poll or the sync of the HPA
//! KEDA created, and the KPA's per-second metric record with its 2 s decider tick (and the
//! immediate tick when a request reaches the activator at zero). Each pass writes its
//! decision to the ModelServing and records a timeline row naming the autoscaler.

use super::{Event, World, CLASS_TICK};
use crate::engine::decision::ReplicaWrite;
use crate::model::autoscalers::{Clock, Outcome, KPA_SAMPLE, KPA_TICK};
use crate::model::spec::MAX_SERVERS;
use crate::outputs::rows::TimelineRow;

impl World<'_> {
    /// Autoscaler `index`'s pass of `clock`, and its next one.
    pub(super) fn autoscale(&mut self, index: usize, clock: Clock) {
        let waiting = self.dispatch.waiting() as u64;
        let out = (self.autoscalers).pass(
            index,
            clock,
            self.now,
            &self.servings,
            waiting,
            &self.spec.hpa_controller,
        );
        // A KEDA poll that writes nothing adds no row: its HPA's rows show the state.
        if clock == Clock::HpaSync || out.write.is_some() {
            self.apply_outcome(index, out);
        }
        let next = self
            .now
            .saturating_add(self.autoscalers.period(index, clock));
        if next <= self.spec.clock.end() {
            let ev = Event::Autoscale { index, clock };
            self.queue.push(next, CLASS_TICK, ev);
        }
    }

    /// One in-flight sample for the KPAs; at a whole second each records it and reconciles,
    /// and on even seconds the deciders tick first.
    pub(super) fn kpa_sample(&mut self) {
        let servings = &self.servings;
        let waiting = self.dispatch.waiting() as u64;
        let closed = (self.autoscalers).sample(self.now, |s| {
            let (n, ready) = servings.in_flight(s);
            (n + waiting, waiting > 0 || ready > 0)
        });
        if closed {
            let tick = (self.now.as_micros() / 1_000_000) % (KPA_TICK.as_micros() / 1_000_000) == 0;
            for i in 0..self.autoscalers.items.len() {
                if self.autoscalers.is_kpa(i) {
                    self.kpa_pass(i, tick);
                }
            }
        }
        let next = self.now.saturating_add(KPA_SAMPLE);
        if next <= self.spec.clock.end() {
            self.queue.push(next, CLASS_TICK, Event::KpaSample);
        }
    }

    /// KPA `index`'s decider tick (when `tick`) and reconcile; a row for every tick and write.
    pub(super) fn kpa_pass(&mut self, index: usize, tick: bool) {
        let out = (self.autoscalers).kpa_pass(index, self.now, tick, &self.servings);
        if tick || out.write.is_some() {
            if out.panic && tick {
                self.results.panic_seconds += KPA_TICK.as_secs_f64();
            }
            self.apply_outcome(index, out);
        }
    }

    /// Writes `out` to autoscaler `index`'s ModelServing and records its timeline row.
    fn apply_outcome(&mut self, index: usize, out: Outcome) {
        let item = &self.autoscalers.items[index];
        let (serving, key, kind) = (item.serving, item.spec.key(), item.spec.kind());
        let (min_replicas, max_replicas) = item.spec.bounds();
        let max_replicas = max_replicas.unwrap_or(MAX_SERVERS as i32);
        let spec = self.servings.spec(serving);
        let read = self.servings.read(serving, None, self.now);
        if out.skip {
            self.results.skipped_ticks += 1;
        }
        if let Some(replicas) = out.write {
            let w = ReplicaWrite {
                namespace: spec.namespace.clone(),
                model_serving: spec.name.clone(),
                role: None,
                replicas,
            };
            if let Some(s) = self.servings.write(&w) {
                self.results.scale_events += 1;
                self.reconcile(s);
            }
        }
        let (last_at, last_arrived) = self.last_rows[index];
        let elapsed = (self.now - last_at).as_secs_f64();
        let arrivals_per_s = if elapsed > 0.0 {
            (self.results.arrived - last_arrived) as f64 / elapsed
        } else {
            0.0
        };
        self.last_rows[index] = (self.now, self.results.arrived);
        let spec_replicas = self.servings.spec_replicas(serving, None);
        let row = TimelineRow {
            time_s: self.now.as_secs_f64(),
            policy: key,
            autoscaler: kind.to_string(),
            target: format!("{}/{}", spec.namespace, spec.name),
            spec_replicas,
            min_replicas,
            max_replicas,
            ready: read.ready,
            starting: read.starting,
            pending: read.pending,
            terminating: read.terminating,
            restarting: read.restarting,
            lost: read.lost,
            restarted: read.restarted,
            metrics: out.metrics,
            unready: None,
            recommended: out.desired,
            corrected: Some(out.write.unwrap_or(spec_replicas)),
            panic: out.panic,
            skip: out.skip,
            reason_code: out.reason_code.to_string(),
            reason: out.reason,
            arrivals_per_s,
            waiting: read.waiting + self.dispatch.waiting() as u64,
            running: read.running,
            kv_usage: read.kv_usage,
            cost_per_hour: read.cost_per_hour,
        };
        self.recorder.timeline([row]);
    }
}
