//! The world's side of the fault models ([`crate::model::faults`]): crashes and restarts of
//! ready servers, image pulls that delay a pod's start, and lost nodes whose pods fail and
//! are recreated once evicted.

use super::{Event, Unit, UnitState, World, CLASS_POD};
use crate::model::faults::restart_backoff;
use crate::model::faults::BACKOFF_RESET;
use crate::model::metrics::PodSeries;
use crate::model::results::{Notable, Outcome};
use crate::model::server::Server;
use crate::sim::{SimDuration, SimTime};

use rand::RngExt;

impl World<'_> {
    /// A server just became ready: draws its next crash, if its serving crashes.
    pub(super) fn arm_crash(&mut self, unit: u32) {
        let u = &mut self.units[unit as usize];
        u.ready_since = self.now;
        let Some(c) = &self.spec.servings[u.serving].faults.crashes else {
            return;
        };
        let at = self
            .now
            .saturating_add(c.time_to_crash(&mut self.failure_rng));
        if at <= self.spec.clock.end() {
            let restarts = u.restarts;
            self.queue
                .push(at, CLASS_POD, Event::Crash { unit, restarts });
        }
    }

    /// The container of a ready server crashes: what it held fails, and the kubelet
    /// restarts it after its back-off; the pod keeps `restartCount > 0` from now on.
    pub(super) fn crash(&mut self, unit: u32, restarts: u32) {
        let u = &self.units[unit as usize];
        if u.state != UnitState::Ready || u.restarts != restarts {
            return;
        }
        self.fail_requests(unit);
        self.leave_ready(unit, UnitState::Restarting);
        let u = &mut self.units[unit as usize];
        u.restarts += 1;
        u.crash_streak = if self.now - u.ready_since >= BACKOFF_RESET {
            1
        } else {
            u.crash_streak + 1
        };
        let serving = u.serving;
        let spec = &self.spec.servings[serving];
        let restart = spec.faults.crashes.as_ref().map_or(SimDuration::ZERO, |c| {
            c.restart.sample(&mut self.failure_rng)
        });
        let back_at = self
            .now
            .saturating_add(restart_backoff(u.crash_streak))
            .saturating_add(restart);
        self.queue
            .push(back_at, CLASS_POD, Event::Restarted { unit });
        let first = self.results.faults.crashes_by_serving[serving] == 0;
        self.results.faults.crashes_by_serving[serving] += 1;
        if first {
            let pod = self.units[unit as usize].pod_name.clone();
            self.results.notable(self.now, Notable::FirstCrash(pod));
        }
    }

    /// The restarted container is ready again.
    pub(super) fn restarted(&mut self, unit: u32) {
        if self.units[unit as usize].state == UnitState::Restarting {
            self.make_ready(unit);
        }
    }

    /// How long the image pulls of a pod scheduled now fail before one succeeds.
    pub(super) fn image_pull_delay(&mut self, unit: u32) -> SimDuration {
        let serving = self.units[unit as usize].serving;
        let Some(pull) = &self.spec.servings[serving].faults.image_pull else {
            return SimDuration::ZERO;
        };
        if !self.started {
            return SimDuration::ZERO;
        }
        let d = pull.delay(self.now, self.spec.clock.end(), &mut self.failure_rng);
        if d.failures > 0 {
            if self.results.faults.image_pull_failures == 0 {
                let pod = self.units[unit as usize].pod_name.clone();
                self.results
                    .notable(self.now, Notable::ImagePullBackOff(pod, d.failures));
            }
            let faults = &mut self.results.faults;
            faults.image_pull_failures += u64::from(d.failures);
            faults.image_pull_delayed_pods += 1;
            faults.image_pull_delay += d.delay;
        }
        d.delay
    }

    /// Node loss `index`: the node's share of the running pods fail, its GPUs leave.
    pub(super) fn node_lost(&mut self, index: usize) {
        let loss = &self.spec.node_losses[index];
        let Some(a) = self.capacity_index(&loss.accelerator) else {
            return;
        };
        let c = &self.capacity[a].1;
        let mut to_free = loss.gpus_hit(c.used, c.total);
        let mut on_type: Vec<u32> = (0..self.units.len() as u32)
            .filter(|&i| {
                let u = &self.units[i as usize];
                u.scheduled.is_some()
                    && !matches!(u.state, UnitState::Gone | UnitState::Lost)
                    && self.spec.servings[u.serving].accelerator == loss.accelerator
            })
            .collect();
        let mut lost = 0u32;
        while to_free > 0 && !on_type.is_empty() {
            let k = self.failure_rng.random_range(0..on_type.len());
            let unit = on_type.swap_remove(k);
            let gpus = self.spec.servings[self.units[unit as usize].serving].gpus_per_server();
            self.lose_unit(unit, index);
            to_free = to_free.saturating_sub(gpus.max(1));
            lost += 1;
        }
        let c = &mut self.capacity[a].1;
        c.total = c.total.saturating_sub(loss.gpus);
        let what = Notable::NodeLost(loss.accelerator.clone(), loss.gpus, lost, c.total);
        self.results.notable(self.now, what);
        self.results.faults.node_losses += 1;
        self.results.faults.pods_lost += u64::from(lost);
        if let Some(after) = loss.recovers_after {
            self.queue.push(
                self.now.saturating_add(after),
                CLASS_POD,
                Event::NodeRecovered {
                    index: index as u32,
                },
            );
        }
    }

    /// One pod of the lost node: what it held fails and billing stops; it stays, not
    /// ready, until evicted — unless it was already being deleted, which the node loss
    /// completes at once.
    fn lose_unit(&mut self, unit: u32, index: usize) {
        self.fail_requests(unit);
        let state = self.units[unit as usize].state;
        self.leave_ready(unit, UnitState::Lost);
        let s = self.units[unit as usize].serving;
        self.account_live(s, -1);
        self.add_cost(unit);
        let spec = &self.spec.servings[s];
        if let Some(a) = self.capacity_index(&spec.accelerator) {
            let c = &mut self.capacity[a].1;
            c.used = c.used.saturating_sub(spec.gpus_per_server());
        }
        if state == UnitState::Terminating {
            self.units[unit as usize].state = UnitState::Gone;
        } else {
            let eviction = self.spec.node_losses[index].eviction;
            self.queue.push(
                self.now.saturating_add(eviction),
                CLASS_POD,
                Event::Evicted { unit },
            );
        }
    }

    /// A lost pod is deleted: its serving group is recreated (if still wanted).
    pub(super) fn evicted(&mut self, unit: u32) {
        if self.units[unit as usize].state != UnitState::Lost {
            return;
        }
        self.units[unit as usize].state = UnitState::Gone;
        self.reconcile_units(self.units[unit as usize].serving);
    }

    /// A replacement node brings the capacity of node loss `index` back.
    pub(super) fn node_recovered(&mut self, index: usize) {
        let loss = &self.spec.node_losses[index];
        let Some(a) = self.capacity_index(&loss.accelerator) else {
            return;
        };
        let (name, c) = &mut self.capacity[a];
        c.total = c.total.saturating_add(loss.gpus);
        let what = Notable::NodeRecovered(name.clone(), c.total);
        self.results.notable(self.now, what);
        self.admit_pending(a);
    }

    /// Fails every request `unit` holds (a crash or a lost node) and gives it a fresh
    /// server: the process that held them, and its counters, are gone.
    fn fail_requests(&mut self, unit: u32) {
        let evicted = self.units[unit as usize].server.evict_all(self.now);
        for id in evicted {
            self.results.finish(&self.spec.slo, Outcome::Crashed, None);
            self.record_request(id, Outcome::Crashed, self.now);
            self.release(id);
        }
        let u: &mut Unit = &mut self.units[unit as usize];
        u.server = Server::new(
            self.spec.servings[u.serving].server,
            !self.opts.step_by_step,
        );
        u.series = PodSeries::default();
        u.next_wake = SimTime::MIN;
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use crate::model::results::{Notable, Results};
    use crate::model::world::tests::run_text;

    fn run(text: &str) -> Results {
        run_text(text, false)
    }

    /// One ModelServing of 1-GPU Llama-3-8B servers; `serving` and `top` are extra YAML.
    fn scenario(
        seed: u64,
        minutes: u32,
        rps: f64,
        policy: &str,
        serving: &str,
        top: &str,
    ) -> String {
        format!(
            "name: faults\nseed: {seed}\nduration: {minutes}m\npolicies: [{policy}]\n{top}\
             servings:\n  - name: chat-llama\n    namespace: llm\n    replicas: 4\n    \
             accelerator: gpu\n    price_per_hour: 1\n    termination_grace: 10s\n    \
             startup: {{constant: 60s}}\n    server: {{preset: llama3-8b-1xh100}}\n{serving}\
             workload:\n  streams:\n    - poisson:\n        rate: {{constant: {rps}}}\n        \
             input_tokens: {{constant: 500}}\n        output_tokens: {{constant: 200}}\n"
        )
    }

    #[test]
    fn a_restarted_pod_freezes_the_v0_4_engine_for_good() {
        let text = scenario(
            3,
            60,
            4.0,
            "../policies/chat-v0.4.yaml",
            "    faults: {crashes: {mtbf: 20m, restart: {constant: 30s}}}\n",
            "",
        );
        let r = run(&text);
        assert!(r.faults.crashes() >= 2, "{:?}", r.faults);
        assert_eq!(r.faults.crashes_by_serving.len(), 1);
        assert!(r.failed_crashed > 0);
        let first = r
            .timeline
            .iter()
            .position(|row| row.restarted > 0)
            .expect("a restarted pod is seen");
        assert!(r.timeline[..first].iter().any(|row| !row.skip));
        for row in &r.timeline[first..] {
            let within = (row.min_replicas..=row.max_replicas).contains(&row.spec_replicas);
            if row.restarted > 0 && within {
                assert!(row.skip, "{row:?}");
                assert_eq!(row.reason_code, "terminating_pods", "{row:?}");
            }
        }
        assert!(r.timeline.iter().any(|row| row.restarting > 0));
        assert!(
            matches!(r.notable[0].1, Notable::FirstCrash(_)),
            "{:?}",
            r.notable
        );
    }

    #[test]
    fn a_lost_node_fails_its_pods_until_eviction_then_its_groups_wait_for_capacity() {
        let top = "cluster:\n  accelerators:\n    gpu: {gpus: 4}\n  node_losses:\n    \
                   - {at: 5m, accelerator: gpu, gpus: 2, eviction: 1m, recovers_after: 10m}\n";
        let r = run(&scenario(1, 20, 2.0, "", "", top));
        assert_eq!(r.faults.node_losses, 1);
        // 4 of 4 GPUs used: the node held half of them.
        assert_eq!(r.faults.pods_lost, 2);
        // Billed: 4 servers for 5 min, the 2 left for the minute before eviction, then 4
        // again (2 of them pending for lack of GPUs until the node comes back at 15 min).
        let expected = 4.0 * 300.0 + 2.0 * 60.0 + 4.0 * 840.0;
        assert!(
            (r.server_seconds - expected).abs() < 1e-6,
            "{}",
            r.server_seconds
        );
        let events: Vec<(i64, String)> = r
            .notable
            .iter()
            .map(|(t, n)| (t.as_micros() / 1_000_000, n.to_string()))
            .collect();
        assert_eq!(
            events,
            [
                (
                    300,
                    "gpu node lost (2 GPUs, 2 pods); capacity now 2 GPUs".to_string()
                ),
                (360, "pods pending for lack of gpu GPUs".to_string()),
                (900, "gpu node replaced; capacity now 4 GPUs".to_string()),
            ]
        );
    }

    #[test]
    fn during_a_registry_outage_no_new_server_gets_ready() {
        let serving = "    faults: {image_pull: {outages: [{from: 0s, to: 10h}]}}\n";
        let r = run(&scenario(
            2,
            30,
            80.0,
            "../policies/chat-current.yaml",
            serving,
            "",
        ));
        assert!(r.timeline.iter().any(|row| row.spec_replicas > 4));
        assert!(
            r.timeline.iter().all(|row| row.ready <= 4),
            "only the initial servers"
        );
        assert!(r.faults.image_pull_failures > r.faults.image_pull_delayed_pods);
        let late = r.timeline.last().expect("ticks");
        assert!(late.starting > 0, "{late:?}");
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

        /// Requests are conserved and billing stays consistent whatever faults strike.
        #[test]
        fn requests_are_conserved_under_faults(
            seed in 0u64..1000,
            rps in 0.5f64..12.0,
            mtbf_min in 2u32..30,
            pull_failure in 0.0f64..0.9,
            loss_at in 0u32..15,
            policy in prop::sample::select(vec!["", "../policies/chat-current.yaml", "../policies/chat-v0.4.yaml"]),
        ) {
            let serving = format!(
                "    faults: {{crashes: {{mtbf: {mtbf_min}m}}, image_pull: {{failure_probability: {pull_failure}}}}}\n"
            );
            let top = format!(
                "cluster:\n  accelerators:\n    gpu: {{gpus: 6}}\n  node_losses:\n    \
                 - {{at: {loss_at}m, accelerator: gpu, gpus: 3, eviction: 2m, recovers_after: 4m}}\n"
            );
            let r = run(&scenario(seed, 20, rps, policy, &serving, &top));
            prop_assert_eq!(r.arrived, r.completed + r.failed() + r.dropped + r.in_flight);
            prop_assert_eq!(r.faults.node_losses, 1);
            let billed: f64 = r.servings.iter().map(|s| s.server_seconds).sum();
            prop_assert!((billed - r.server_seconds).abs() < 1e-6 * r.server_seconds.max(1.0));
            // Price 1 per server-hour: the bill is the billed time.
            let cost: f64 = r.servings.iter().map(|s| s.cost).sum();
            prop_assert!((cost - r.server_seconds / 3600.0).abs() < 1e-6, "{} vs {}", cost, r.server_seconds / 3600.0);
        }
    }
}
