//! Faults of the simulated cluster: container crashes (restarted in place by the kubelet,
//! with its crash-loop back-off), image pulls that fail and are retried with back-off, and
//! the loss of a node. The draws come from the `failures` stream, so that adding faults
//! does not reshuffle arrivals, token lengths or startup times.
//!
//! [`FaultInjector`] owns that stream and the run's fault counts; it draws when the world
//! asks (a server got ready, crashed, a pod is pulling its image, a node is lost) and does
//! not change servers, capacity or events itself.
//!
//! What Kthena makes of them is the point: a restarted container leaves `restartCount > 0`
//! on its pod for good, and the collector counts such a pod as failed (docs/engine.md §7.1) —
//! one crash freezes the metrics of its target (v0.4) or group (head) until the pod is
//! deleted by a scale-down.

use rand::RngExt;

use super::ids::{ServingIdx, UnitId};
use super::results::FaultCounts;
use super::startup::Startup;
use crate::sim::rng::Stream;
use crate::sim::{SimDuration, SimTime};

/// The kubelet's restart and image-pull back-off: 10 s, doubling, at most 5 min.
pub const KUBELET_BACKOFF: SimDuration = SimDuration::from_secs(10);
pub const KUBELET_MAX_BACKOFF: SimDuration = SimDuration::from_secs(300);
/// A container that ran this long without a crash has its restart back-off reset.
pub const BACKOFF_RESET: SimDuration = SimDuration::from_secs(600);
/// How long pods of an unreachable node stay before they are evicted (deleted): the
/// default `tolerationSeconds` of `node.kubernetes.io/unreachable`.
pub const DEFAULT_EVICTION: SimDuration = SimDuration::from_secs(300);
/// How long a failing image-pull attempt takes.
pub const DEFAULT_PULL_ATTEMPT: SimDuration = SimDuration::from_secs(5);

/// The faults of one serving's pods.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServingFaults {
    pub crashes: Option<Crashes>,
    pub image_pull: Option<ImagePull>,
}

/// Container crashes of ready servers: a Poisson process per server.
#[derive(Debug, Clone, PartialEq)]
pub struct Crashes {
    /// Mean time between crashes of one ready server.
    pub mtbf: SimDuration,
    /// From the container's restart to ready again (the engine loads its weights anew).
    pub restart: Startup,
}

impl Crashes {
    /// Time from becoming ready to the next crash.
    pub fn time_to_crash(&self, rng: &mut Stream) -> SimDuration {
        // Inverse CDF of the exponential; 1 - u is in (0, 1].
        let u: f64 = rng.random();
        SimDuration::from_micros_f64(-(1.0 - u).ln() * self.mtbf.as_micros() as f64)
            .max(SimDuration::from_micros(1))
    }
}

/// The kubelet's wait before restarting a container after its `n`-th crash in a row (n ≥ 1).
pub fn restart_backoff(n: u32) -> SimDuration {
    let doublings = n.saturating_sub(1).min(16);
    SimDuration::from_micros(KUBELET_BACKOFF.as_micros() << doublings).min(KUBELET_MAX_BACKOFF)
}

/// Image pulls that fail: at random, and always during registry outages.
#[derive(Debug, Clone, PartialEq)]
pub struct ImagePull {
    /// Probability that one attempt fails (below 1).
    pub failure_probability: f64,
    /// `[from, to)` windows in which every attempt fails.
    pub outages: Vec<(SimTime, SimTime)>,
    /// How long a failing attempt takes.
    pub attempt: SimDuration,
    pub backoff: SimDuration,
    pub max_backoff: SimDuration,
}

/// The failed attempts before a pull that succeeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PullDelay {
    pub failures: u32,
    /// From the first attempt to the successful one.
    pub delay: SimDuration,
}

impl ImagePull {
    /// Tries the pull from `start` on, backing off after each failure, until an attempt
    /// succeeds or the next one would start after `give_up` (the end of the run).
    pub fn delay(&self, start: SimTime, give_up: SimTime, rng: &mut Stream) -> PullDelay {
        let mut t = start;
        let mut backoff = self.backoff;
        let mut failures = 0u32;
        while t <= give_up {
            let in_outage = self.outages.iter().any(|&(a, b)| a <= t && t < b);
            // The draw is made for every attempt, so that outages do not shift later draws.
            let unlucky = rng.random::<f64>() < self.failure_probability;
            if !(in_outage || unlucky) {
                break;
            }
            failures += 1;
            t = t.saturating_add(self.attempt).saturating_add(backoff);
            backoff = backoff.saturating_mul(2).min(self.max_backoff);
        }
        PullDelay {
            failures,
            delay: t - start,
        }
    }
}

/// A node of an accelerator type lost at a given time.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeLoss {
    pub at: SimTime,
    pub accelerator: String,
    /// The node's GPUs: the capacity lost.
    pub gpus: u32,
    /// When the capacity comes back (a replacement node), if it does.
    pub recovers_after: Option<SimDuration>,
    /// How long the lost node's pods stay (not ready) before they are deleted and their
    /// groups recreated.
    pub eviction: SimDuration,
}

impl NodeLoss {
    /// How many of the accelerator's `used` GPUs (of `total`) were on the lost node, with
    /// the scheduler's default spreading: the node's share of the used GPUs, rounded up.
    pub fn gpus_hit(&self, used: u32, total: u32) -> u32 {
        if total == 0 {
            return 0;
        }
        let hit = (u64::from(used) * u64::from(self.gpus.min(total))).div_ceil(u64::from(total));
        hit as u32
    }
}

/// The faults of a run as they strike: the `failures` stream and what it drew.
pub struct FaultInjector {
    rng: Stream,
    counts: FaultCounts,
}

/// The image pulls of one pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pull {
    /// From the first attempt to the one that worked.
    pub delay: SimDuration,
    /// The failed attempts, when they are the run's first.
    pub first_failures: Option<u32>,
}

impl FaultInjector {
    /// Faults drawn from `rng` over `servings` servings.
    pub fn new(rng: Stream, servings: usize) -> Self {
        FaultInjector {
            rng,
            counts: FaultCounts {
                crashes_by_serving: vec![0; servings],
                ..FaultCounts::default()
            },
        }
    }

    /// A server became ready at `now`: when it crashes, if its serving's servers crash and
    /// that is no later than `end`.
    pub fn next_crash(
        &mut self,
        crashes: Option<&Crashes>,
        now: SimTime,
        end: SimTime,
    ) -> Option<SimTime> {
        let at = now.saturating_add(crashes?.time_to_crash(&mut self.rng));
        (at <= end).then_some(at)
    }

    /// A ready server of `serving` crashed at `now`, its `streak`-th crash in a row: when
    /// its container is ready again (after the kubelet's back-off and the restart), and
    /// whether it is the serving's first crash.
    pub fn crashed(
        &mut self,
        serving: ServingIdx,
        crashes: Option<&Crashes>,
        streak: u32,
        now: SimTime,
    ) -> (SimTime, bool) {
        let restart = crashes.map_or(SimDuration::ZERO, |c| c.restart.sample(&mut self.rng));
        let back_at = now
            .saturating_add(restart_backoff(streak))
            .saturating_add(restart);
        let count = &mut self.counts.crashes_by_serving[serving.index()];
        *count += 1;
        (back_at, *count == 1)
    }

    /// The image pulls of a pod scheduled at `now`, tried until one works or `end`.
    pub fn pull(&mut self, pull: &ImagePull, now: SimTime, end: SimTime) -> Pull {
        let d = pull.delay(now, end, &mut self.rng);
        let mut first_failures = None;
        if d.failures > 0 {
            if self.counts.image_pull_failures == 0 {
                first_failures = Some(d.failures);
            }
            self.counts.image_pull_failures += u64::from(d.failures);
            self.counts.image_pull_delayed_pods += 1;
            self.counts.image_pull_delay += d.delay;
        }
        Pull {
            delay: d.delay,
            first_failures,
        }
    }

    /// One of the pods of a lost node, at random: taken out of `candidates`.
    pub fn pick(&mut self, candidates: &mut Vec<UnitId>) -> UnitId {
        let k = self.rng.random_range(0..candidates.len());
        candidates.swap_remove(k)
    }

    /// A node was lost, with `pods` of its pods.
    pub fn node_lost(&mut self, pods: u32) {
        self.counts.node_losses += 1;
        self.counts.pods_lost += u64::from(pods);
    }

    pub fn counts(self) -> FaultCounts {
        self.counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::stream;

    fn injector() -> FaultInjector {
        FaultInjector::new(stream(5, "failures"), 2)
    }

    #[test]
    fn the_injector_draws_only_for_the_faults_configured() {
        let (mut a, mut b) = (injector(), injector());
        let end = SimTime::from_secs(3_600);
        assert_eq!(a.next_crash(None, SimTime::ZERO, end), None);
        // Nothing was drawn: both pick the same pod.
        let mut pods: Vec<UnitId> = (0..10).map(UnitId::new).collect();
        assert_eq!(a.pick(&mut pods.clone()), b.pick(&mut pods));
        assert_eq!(pods.len(), 9);
        let crashes = Crashes {
            mtbf: SimDuration::from_secs(60),
            restart: Startup::Constant(SimDuration::from_secs(30)),
        };
        let at = a.next_crash(Some(&crashes), SimTime::ZERO, SimTime::MAX);
        assert!(at.is_some_and(|t| t > SimTime::ZERO));
        assert_eq!(
            a.next_crash(Some(&crashes), end, end),
            None,
            "after the end"
        );
    }

    #[test]
    fn crashes_back_off_and_are_counted_per_serving() {
        let mut f = injector();
        let crashes = Crashes {
            mtbf: SimDuration::from_secs(60),
            restart: Startup::Constant(SimDuration::from_secs(30)),
        };
        let now = SimTime::from_secs(100);
        let s1 = ServingIdx::new(1);
        // The second crash in a row: 20 s of back-off, then 30 s of restart.
        assert_eq!(
            f.crashed(s1, Some(&crashes), 2, now),
            (now + SimDuration::from_secs(50), true)
        );
        assert!(!f.crashed(s1, Some(&crashes), 1, now).1, "not the first");
        assert!(f.crashed(ServingIdx::new(0), None, 1, now).1);
        f.node_lost(3);
        let counts = f.counts();
        assert_eq!(counts.crashes_by_serving, [1, 2]);
        assert_eq!((counts.node_losses, counts.pods_lost), (1, 3));
    }

    #[test]
    fn failed_pulls_are_counted_and_the_first_reported() {
        let mut f = injector();
        let outage = pull(0.0, vec![(SimTime::ZERO, SimTime::from_secs(120))]);
        let first = f.pull(&outage, SimTime::ZERO, SimTime::MAX);
        assert_eq!(
            first,
            Pull {
                delay: SimDuration::from_secs(170),
                first_failures: Some(4)
            }
        );
        let second = f.pull(&outage, SimTime::from_secs(100), SimTime::MAX);
        assert_eq!(second.first_failures, None, "reported once");
        let clean = f.pull(&outage, SimTime::from_secs(200), SimTime::MAX);
        assert_eq!(clean.delay, SimDuration::ZERO);
        let counts = f.counts();
        assert_eq!(counts.image_pull_delayed_pods, 2);
        assert_eq!(counts.image_pull_failures, 4 + second_failures(&outage));
        assert_eq!(
            counts.image_pull_delay,
            SimDuration::from_secs(170) + second.delay
        );
    }

    /// The failed attempts of a pull starting at 100 s in the outage of the test above.
    fn second_failures(p: &ImagePull) -> u64 {
        let d = p.delay(SimTime::from_secs(100), SimTime::MAX, &mut stream(1, "x"));
        u64::from(d.failures)
    }

    #[test]
    fn restart_backoff_doubles_up_to_five_minutes() {
        let secs: Vec<i64> = (1..=8)
            .map(|n| restart_backoff(n) / SimDuration::from_secs(1))
            .collect();
        assert_eq!(secs, [10, 20, 40, 80, 160, 300, 300, 300]);
        assert_eq!(restart_backoff(u32::MAX), KUBELET_MAX_BACKOFF);
    }

    #[test]
    fn crashes_are_exponential_with_the_given_mean() {
        let c = Crashes {
            mtbf: SimDuration::from_secs(3_600),
            restart: Startup::Constant(SimDuration::ZERO),
        };
        let mut rng = stream(7, "failures");
        let n = 20_000;
        let mean = (0..n)
            .map(|_| c.time_to_crash(&mut rng).as_micros() as f64)
            .sum::<f64>()
            / n as f64;
        assert!((mean / 3.6e9 - 1.0).abs() < 0.03, "mean {mean}");
    }

    fn pull(p: f64, outages: Vec<(SimTime, SimTime)>) -> ImagePull {
        ImagePull {
            failure_probability: p,
            outages,
            attempt: DEFAULT_PULL_ATTEMPT,
            backoff: KUBELET_BACKOFF,
            max_backoff: KUBELET_MAX_BACKOFF,
        }
    }

    #[test]
    fn an_outage_delays_the_pull_by_attempts_and_backoffs() {
        // From 0 to 2 min every attempt fails: attempts at 0, 15, 40, 85 s (5 s + 10, 20,
        // 40 s back-off), then 170 s is after the outage and succeeds.
        let p = pull(0.0, vec![(SimTime::ZERO, SimTime::from_secs(120))]);
        let d = p.delay(SimTime::ZERO, SimTime::MAX, &mut stream(1, "failures"));
        assert_eq!(d.failures, 4);
        assert_eq!(d.delay, SimDuration::from_secs(170));
        // Outside the outage the first attempt succeeds.
        let d = p.delay(
            SimTime::from_secs(120),
            SimTime::MAX,
            &mut stream(1, "failures"),
        );
        assert_eq!(
            d,
            PullDelay {
                failures: 0,
                delay: SimDuration::ZERO
            }
        );
    }

    #[test]
    fn random_failures_are_geometric() {
        let p = pull(0.5, vec![]);
        let mut rng = stream(3, "failures");
        let n = 20_000;
        let failures: u64 = (0..n)
            .map(|_| u64::from(p.delay(SimTime::ZERO, SimTime::MAX, &mut rng).failures))
            .sum();
        // Mean of a geometric number of failures before a success: p / (1 - p) = 1.
        let mean = failures as f64 / n as f64;
        assert!((mean - 1.0).abs() < 0.05, "mean {mean}");
    }

    #[test]
    fn an_endless_outage_gives_up_at_the_end_of_the_run() {
        let p = pull(0.0, vec![(SimTime::ZERO, SimTime::MAX)]);
        let hour = SimDuration::from_secs(3_600);
        let d = p.delay(
            SimTime::ZERO,
            hour.after_start(),
            &mut stream(1, "failures"),
        );
        assert!(d.delay > hour);
        assert!(d.failures < 20, "{d:?}");
    }

    #[test]
    fn a_node_holds_its_share_of_the_used_gpus() {
        let n = NodeLoss {
            at: SimTime::ZERO,
            accelerator: "h100".into(),
            gpus: 8,
            recovers_after: None,
            eviction: DEFAULT_EVICTION,
        };
        assert_eq!(n.gpus_hit(32, 32), 8);
        assert_eq!(n.gpus_hit(16, 32), 4);
        assert_eq!(n.gpus_hit(1, 32), 1);
        assert_eq!(n.gpus_hit(0, 32), 0);
        assert_eq!(n.gpus_hit(4, 0), 0);
        assert_eq!(n.gpus_hit(u32::MAX, u32::MAX), 8);
    }
}
