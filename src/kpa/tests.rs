//! The KPA's worked vectors (docs/other-autoscalers.md §9, K1–K5), the whole KPA driven through its call contract
//! (scale up, scale to zero, scale from zero on a poke), reasons, and property tests.
//!
//! K6 (scrape sample size `n = ceil(N·15.3664/(N+14.3664))`) is not ported: the world records
//! the exact revision total (the estimate's expected value, docs/other-autoscalers.md §4), so no sampling exists.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::buckets::Buckets;
use super::decider::Decider;
use super::spec::{Algorithm, KpaConfig, KpaSpec, Metric, Resolved};
use super::{Activity, Kpa, Reason, ZeroWait};
use crate::sim::{SimDuration, SimTime};

fn secs(s: i64) -> SimDuration {
    SimDuration::from_secs(s)
}

fn at(s: i64) -> SimTime {
    SimTime::from_secs(s)
}

/// Defaults with a per-pod target value of 7 (target 10 × 70 %).
fn decider_with_target_7(ready0: i32) -> Decider {
    let spec = KpaSpec {
        target: Some(10.0),
        ..KpaSpec::default()
    };
    let d = Resolved::new(&spec, &KpaConfig::default()).decider;
    assert!((d.target_value - 7.0).abs() < 1e-12);
    Decider::new(d, at(0), ready0)
}

#[test]
fn k1_k2_k3_panic_entry_hold_and_exit() {
    let mut d = decider_with_target_7(2);
    d.panic_time = None; // "not in panic, max_panic_pods 2"
    assert_eq!(d.max_panic_pods, 2);
    // K1: dspc 3, dppc 6, 6/2 = 3 ≥ 2 → panic → max(3, 6) = 6.
    let k1 = d.scale(at(100), 2, Some((20.0, 40.0))).expect("data");
    assert_eq!(k1.desired_pod_count, 6);
    assert_eq!(d.panic_time, Some(at(100)));
    assert_eq!(
        k1.reason.to_string(),
        "KPA panic mode: 2.9× target in the 6 s window (desired 6)"
    );
    // K2: 10 s later, panic 10 → dppc 2, 2/2 = 1 < 2, still in panic: stays 6.
    let k2 = d.scale(at(110), 2, Some((20.0, 10.0))).expect("data");
    assert_eq!(k2.desired_pod_count, 6);
    assert_eq!(d.panic_time, Some(at(100)));
    assert_eq!(
        k2.reason.to_string(),
        "KPA panic mode: 0.7× target in the 6 s window (holding 6, computed 3)"
    );
    // Exactly a stable window after the last over-threshold tick: not yet (strict).
    let held = d.scale(at(160), 2, Some((14.0, 14.0))).expect("data");
    assert_eq!(held.desired_pod_count, 6);
    // K3: 62 s after it, stable 14 → panic ends → ceil(14/7) = 2.
    let k3 = d.scale(at(162), 2, Some((14.0, 14.0))).expect("data");
    assert_eq!(k3.desired_pod_count, 2);
    assert_eq!((d.panic_time, d.max_panic_pods), (None, 0));
    assert_eq!(
        k3.reason.to_string(),
        "KPA stable: 14.0 in-flight over 60 s / target 7.0 → 2"
    );
}

#[test]
fn k4_scale_down_halves_per_tick_from_ready() {
    let mut d = decider_with_target_7(1);
    let r = d.scale(at(10), 10, Some((3.0, 3.0))).expect("data");
    assert_eq!(r.desired_pod_count, 5);
    assert_eq!(r.reason.code(), "rate_limited");
    assert_eq!(
        r.reason.to_string(),
        "KPA: rate-limited to 5 from 10 ready (wanted 1)"
    );
}

#[test]
fn k5_partial_window_is_not_diluted() {
    let mut b = Buckets::new(secs(60), secs(1), Algorithm::Linear);
    b.record(at(500), 60.0);
    b.record(at(501), 60.0);
    assert_eq!(b.window_average(at(501)), 60.0);
}

/// A small world: pods become ready `startup` after they are asked for and go at once;
/// `load(s)` is the concurrency of whole second `s`, all of it at the activator while no pod
/// is ready.
struct World {
    kpa: Kpa,
    replicas: i32,
    /// When each wanted pod becomes ready.
    pods: Vec<SimTime>,
    startup: SimDuration,
    log: Vec<(i64, i32, &'static str)>,
}

impl World {
    fn new(spec: &KpaSpec, cfg: &KpaConfig, startup: SimDuration) -> World {
        let kpa = Kpa::new(spec, cfg, at(0), 0);
        let replicas = kpa.initial_scale();
        World {
            replicas,
            pods: vec![at(0) + startup; replicas as usize],
            kpa,
            startup,
            log: Vec::new(),
        }
    }

    fn ready(&self, now: SimTime) -> i32 {
        self.pods.iter().filter(|&&t| t <= now).count() as i32
    }

    fn apply(&mut self, now: SimTime, d: super::Decision) {
        if let Some(n) = d.replicas {
            let n = n.max(0);
            self.pods.sort();
            while self.pods.len() > n as usize {
                self.pods.pop();
            }
            while self.pods.len() < n as usize {
                self.pods.push(now + self.startup);
            }
            self.replicas = n;
            self.log
                .push((now.as_micros() / 1_000_000, n, d.reason.code()));
        }
    }

    fn reconcile(&mut self, now: SimTime) {
        let ready = self.ready(now);
        let d = self.kpa.reconcile(now, self.replicas, ready);
        self.apply(now, d);
    }

    fn tick(&mut self, now: SimTime) {
        self.kpa.tick(now, self.ready(now));
        self.reconcile(now);
    }

    /// Runs seconds `from..to`: record, poke, tick every 2 s, reconcile every second.
    fn run(&mut self, from: i64, to: i64, load: impl Fn(i64) -> f64) {
        for s in from..to {
            let now = at(s);
            let c = load(s);
            let ready = self.ready(now);
            if ready == 0 && c > 0.0 && load(s - 1) == 0.0 {
                let arrival = now + SimDuration::from_millis(300);
                self.kpa.activator_first_request(arrival);
                if self.kpa.wants_poke() {
                    self.tick(arrival);
                }
            }
            if ready > 0 || c > 0.0 {
                self.kpa.record(s, c, c);
            }
            if self.kpa.wants_poke() || s % 2 == 0 {
                self.tick(at(s + 1));
            } else {
                self.reconcile(at(s + 1));
            }
        }
    }
}

#[test]
fn scales_up_with_load_then_to_zero_about_a_stable_window_after_it_ends() {
    let spec = KpaSpec {
        target: Some(8.0),
        ..KpaSpec::default()
    };
    let mut w = World::new(&spec, &KpaConfig::default(), secs(20));
    let load = |s: i64| if (10..100).contains(&s) { 20.0 } else { 0.0 };
    w.run(0, 100, load);
    assert!(w.replicas >= 4, "20 in flight / 5.6 per pod: {:?}", w.log);
    w.run(100, 200, load);
    assert_eq!(w.replicas, 0, "{:?}", w.log);
    let zero_at = w
        .log
        .iter()
        .find(|(_, n, _)| *n == 0)
        .map(|(t, _, code)| (*t, *code))
        .expect("scaled to 0");
    // The stable window empties of the burst at ≈160 s; with the default burst capacity the
    // activator has been in the path all along, so the last pod goes right after Inactive.
    assert!((155..=170).contains(&zero_at.0), "{:?}", w.log);
    assert_eq!(zero_at.1, "scale_to_zero");
    assert_eq!(w.kpa.activity(), Activity::Inactive);
    assert!(w.kpa.activator_in_path());

    // A request at the activator at t=300.3 s pokes the decider: one pod at once.
    let d = {
        w.kpa
            .activator_first_request(at(300) + SimDuration::from_millis(300));
        assert!(w.kpa.wants_poke());
        let now = at(300) + SimDuration::from_millis(300);
        w.kpa.tick(now, 0);
        w.kpa.reconcile(now, 0, 0)
    };
    assert_eq!(d.replicas, Some(1));
    assert_eq!(w.kpa.activity(), Activity::Activating);
}

#[test]
fn serving_with_traffic_stays_up_and_starts_activating() {
    let mut w = World::new(&KpaSpec::default(), &KpaConfig::default(), secs(30));
    assert_eq!(w.replicas, 1);
    w.run(0, 20, |_| 1.0);
    assert_eq!(w.kpa.activity(), Activity::Activating);
    w.run(20, 120, |_| 1.0);
    assert_eq!(w.kpa.activity(), Activity::Active);
    assert_eq!(w.replicas, 1);
}

#[test]
fn quiet_revision_keeps_one_pod_for_a_stable_window_after_becoming_active() {
    let mut w = World::new(&KpaSpec::default(), &KpaConfig::default(), secs(10));
    w.run(0, 60, |_| 0.0);
    assert_eq!(w.replicas, 1, "{:?}", w.log);
    let r = w.kpa.reconcile(at(60), 1, 1);
    assert_eq!(
        r.reason,
        Reason::ScaleToZeroPending(ZeroWait::KeepOne { until: at(70) })
    );
    w.run(60, 90, |_| 0.0);
    assert_eq!(w.replicas, 0, "{:?}", w.log);
}

#[test]
fn min_scale_and_disabled_scale_to_zero_keep_pods() {
    let spec = KpaSpec {
        min_scale: Some(2),
        ..KpaSpec::default()
    };
    let mut w = World::new(&spec, &KpaConfig::default(), secs(5));
    w.run(0, 200, |_| 0.0);
    assert_eq!(w.replicas, 2, "{:?}", w.log);
    assert!(w.log.iter().any(|(_, _, code)| *code == "min_scale"));

    let cfg = KpaConfig {
        enable_scale_to_zero: false,
        ..KpaConfig::default()
    };
    let mut w = World::new(&KpaSpec::default(), &cfg, secs(5));
    w.run(0, 200, |_| 0.0);
    assert_eq!(w.replicas, 1);
}

#[test]
fn grace_is_waited_for_when_the_activator_was_out_of_the_path() {
    // Burst capacity 0: pods serve directly, the activator comes in only at Inactive.
    let spec = KpaSpec {
        target_burst_capacity: Some(0.0),
        ..KpaSpec::default()
    };
    let mut w = World::new(&spec, &KpaConfig::default(), secs(5));
    w.run(0, 40, |s| if s < 30 { 5.0 } else { 0.0 });
    assert!(!w.kpa.activator_in_path());
    w.run(40, 200, |s| if s < 30 { 5.0 } else { 0.0 });
    // The stable average is 0 from t≈90 (Active for ≥ 60 s already): Inactive, the activator
    // comes into the path, and the last pod goes after the 30 s grace.
    let zero_at = w.log.iter().find(|(_, n, _)| *n == 0).expect("zero").0;
    assert!((115..=125).contains(&zero_at), "{:?}", w.log);
}

#[test]
fn initial_scale_holds_until_reached_once() {
    let spec = KpaSpec {
        initial_scale: Some(3),
        ..KpaSpec::default()
    };
    let mut w = World::new(&spec, &KpaConfig::default(), secs(10));
    assert_eq!(w.replicas, 3);
    w.run(0, 9, |_| 0.0);
    assert_eq!(w.replicas, 3, "held while not yet reached: {:?}", w.log);
    w.run(9, 40, |_| 0.0);
    assert!(w.replicas < 3, "free after reaching it: {:?}", w.log);
}

#[test]
fn rps_metric_scales_on_arrivals() {
    let spec = KpaSpec {
        metric: Some(Metric::Rps),
        target: Some(10.0),
        ..KpaSpec::default()
    };
    let mut kpa = Kpa::new(&spec, &KpaConfig::default(), at(0), 1);
    for s in 0..10 {
        kpa.record(s, 1.0, 70.0);
    }
    let d = kpa.tick(at(10), 1);
    assert_eq!(d.desired, 10, "70 rps / 7 per pod");
}

#[test]
fn no_data_keeps_the_last_decision() {
    let mut kpa = Kpa::new(&KpaSpec::default(), &KpaConfig::default(), at(0), 1);
    let d = kpa.tick(at(2), 1);
    assert_eq!(d.desired, -1);
    assert_eq!(
        d.reason.to_string(),
        "KPA: no data in the 60 s stable window"
    );
    let r = kpa.reconcile(at(2), 1, 1);
    assert_eq!(r.replicas, None);
}

#[test]
fn starts_in_panic_with_more_than_one_ready_pod() {
    let kpa = Kpa::new(&KpaSpec::default(), &KpaConfig::default(), at(0), 3);
    assert!(kpa.in_panic());
    let kpa = Kpa::new(&KpaSpec::default(), &KpaConfig::default(), at(0), 1);
    assert!(!kpa.in_panic());
}

#[test]
fn reasons_read_as_sentences() {
    let zero = Reason::ScaleToZero {
        inactive_since: at(92),
        grace: secs(30),
        fast_path: false,
    };
    assert_eq!(zero.code(), "scale_to_zero");
    assert_eq!(
        zero.to_string(),
        "KPA: scaling to 0 (inactive since t=92s, grace 30 s over)"
    );
    let kept = Reason::NoData {
        window: secs(60),
        kept: 3,
    };
    assert_eq!(
        kept.to_string(),
        "KPA: no data in the 60 s stable window (keeping 3)"
    );
    let grace = Reason::ScaleToZeroPending(ZeroWait::Grace {
        since: at(92),
        until: SimTime::from_micros(122_500_000),
    });
    assert_eq!(
        grace.to_string(),
        "KPA: inactive since t=92s, waiting for the grace period until t=122.5s"
    );
}

/// Property: every stable-mode tick lies within [⌊ready/down⌋, ⌈up·ready⌉]; in panic the
/// output never goes down.
#[test]
fn property_ticks_within_rate_bounds_and_never_down_in_panic() {
    const SEED: u64 = 0x4B50_4131; // "KPA1"
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    for case in 0..200 {
        let spec = KpaSpec {
            target: Some(rng.random_range(1..50) as f64),
            ..KpaSpec::default()
        };
        let cfg = KpaConfig {
            max_scale_up_rate: rng.random_range(1.1..20.0),
            max_scale_down_rate: rng.random_range(1.1..10.0),
            ..KpaConfig::default()
        };
        let resolved = Resolved::new(&spec, &cfg);
        let ready0 = rng.random_range(0..5);
        let mut d = Decider::new(resolved.decider.clone(), at(0), ready0);
        let mut last: Option<i32> = None;
        for tick in 1..150 {
            let ready = rng.random_range(0..40);
            let stable = rng.random_range(0.0..400.0);
            let panic = stable * rng.random_range(0.0..3.0);
            let was_panicking = d.panic_time.is_some();
            let r = d
                .scale(at(2 * tick), ready, Some((stable, panic)))
                .expect("data");
            let readyf = f64::from(ready.max(1));
            let up = (cfg.max_scale_up_rate * readyf).ceil() as i32;
            let down = (readyf / cfg.max_scale_down_rate).floor() as i32;
            if d.panic_time.is_none() {
                assert!(
                    (down..=up).contains(&r.desired_pod_count),
                    "case {case} tick {tick}: {} not in [{down}, {up}]",
                    r.desired_pod_count
                );
            } else if was_panicking {
                assert!(
                    r.desired_pod_count >= last.unwrap_or(0),
                    "case {case} tick {tick}: down in panic"
                );
            }
            last = Some(r.desired_pod_count);
        }
    }
}

/// Property: the linear window average equals the naive mean over the stored seconds — the
/// seconds from the first write since the last whole silent window (or the window's start)
/// to the last write, gaps counted as zeros.
#[test]
fn property_bucket_average_equals_naive_mean() {
    const SEED: u64 = 0x4255_434B; // "BUCK"
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    for case in 0..300 {
        let window: i64 = rng.random_range(1..20);
        let mut b = Buckets::new(secs(window), secs(1), Algorithm::Linear);
        let mut records: Vec<(i64, f64)> = Vec::new();
        let mut first = 0;
        let mut s = rng.random_range(0..5);
        for _ in 0..rng.random_range(1..60) {
            let gap = if rng.random_bool(0.1) {
                rng.random_range(0..(2 * window + 2))
            } else {
                rng.random_range(0..2)
            };
            if records
                .last()
                .is_none_or(|&(last, _)| s + gap - last >= window)
            {
                first = s + gap;
            }
            s += gap;
            let v = rng.random_range(0.0..100.0);
            b.record(at(s), v);
            records.push((s, v));
            let last = s;
            for now in last..last + window + 2 {
                let want = if now - last >= window {
                    0.0
                } else {
                    let lo = first.max(now - window + 1);
                    let sum: f64 = records
                        .iter()
                        .filter(|(t, _)| (lo..=last).contains(t))
                        .map(|(_, v)| v)
                        .sum();
                    sum / (last - lo + 1) as f64
                };
                let got = b.window_average(at(now));
                assert!(
                    (got - want).abs() <= 1e-6 * want.abs().max(1.0),
                    "case {case} now {now}: {got} vs naive {want}"
                );
            }
        }
    }
}
