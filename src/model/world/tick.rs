//! The controller tick: every sync period the autoscaler reads the cluster (its pods, their
//! metrics, the simulated Prometheus), decides, and writes each decision to the
//! ModelServings, whose controller then creates and removes servers. The tick's timeline
//! rows pair what was read before each write with the spec after it.

use super::{Event, World, CLASS_SCRAPE, CLASS_TICK};
use crate::engine::Decision;
use crate::model::autoscalers::router_targets;
use crate::model::recorder::{timeline_row, TickTarget};
use crate::model::results::Notable;
use crate::model::servings::TargetRead;

impl World<'_> {
    pub(super) fn tick(&mut self) {
        let rows = self.ledger.cost_rows(self.now, self.servings.billed());
        self.recorder.costs(rows);
        let now_ms = self.spec.clock.engine_time(self.now);
        self.servings.refresh_expositions(self.now);
        let view = self.servings.view(&self.spec.clock);
        let prom_labels = self.servings.prom_labels();
        let router = router_targets(&self.servings, self.dispatch.waiting() as u64);
        let log = self.recorder.engine_log();
        let decisions = (self.policies).decide(self.now, now_ms, view, &prom_labels, &router, log);
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
            let targets = self.policies.targets(i).to_vec();
            let reads: Vec<TargetRead> = (targets.iter())
                .map(|t| self.servings.read(t.serving, t.role, self.now))
                .collect();
            let router_waiting = self.dispatch.waiting();
            self.apply(i, d);
            let rows = targets.iter().zip(reads).map(|(t, read)| {
                timeline_row(TickTarget {
                    now: self.now,
                    decision: d,
                    serving: self.servings.spec(t.serving),
                    role: t.role,
                    min_replicas: t.min_replicas,
                    max_replicas: t.max_replicas,
                    read,
                    router_waiting,
                    arrivals_per_s,
                    spec_replicas: self.servings.spec_replicas(t.serving, t.role),
                })
            });
            let rows: Vec<_> = rows.collect();
            self.recorder.timeline(rows);
        }
        let next = self.now.saturating_add(self.spec.clock.sync_period);
        if next <= self.spec.clock.end() {
            self.queue.push(next, CLASS_TICK, Event::Tick);
        }
    }

    /// Scrapes the cluster for `--openmetrics` and schedules the next scrape.
    pub(super) fn scrape(&mut self) {
        let waiting = self.dispatch.waiting() as u64;
        if self.recorder.openmetrics().is_some() {
            self.servings.refresh_expositions(self.now);
        }
        if let Some(om) = self.recorder.openmetrics() {
            om.scrape(
                self.now,
                &self.spec.clock,
                &self.servings,
                waiting,
                &self.routed,
            );
        }
        if let Some(interval) = self.scrape_interval {
            let next = self.now.saturating_add(interval);
            if next <= self.spec.clock.end() {
                self.queue.push(next, CLASS_SCRAPE, Event::Scrape);
            }
        }
    }

    /// Writes policy `i`'s decision `d` to the ModelServings, which create or remove servers.
    fn apply(&mut self, i: usize, d: &Decision) {
        if d.skip {
            self.results.skipped_ticks += 1;
        }
        if d.panic {
            self.results.panic_seconds += self.spec.clock.sync_period.as_secs_f64();
        }
        if self.policies.note_panic(i, d.panic) {
            let what = Notable::PanicEntered(d.key.clone());
            self.recorder.notable(self.now, what);
        }
        for w in &d.writes {
            if let Some(s) = self.servings.write(w) {
                self.results.scale_events += 1;
                self.reconcile(s);
            }
        }
        if let (Some(c), Some(max)) = (d.corrected, self.policies.max_replicas(i)) {
            if c == max && !d.skip {
                self.recorder.max_reached(self.now, &d.key);
            }
        }
    }
}
