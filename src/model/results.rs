//! What a run produced: request outcomes and latencies, cost and replica accounting, a tally
//! of the timeline, notable events, and (on request) one row per request. The timeline, cost
//! and latency rows themselves go to the recorder's [`RowSink`](super::recorder::RowSink) as
//! the run makes them.

use std::fmt;

use super::openmetrics::OpenMetrics;
use super::spec::{Slo, WorldSpec};
use crate::sim::sketch::{CountedValues, Samples};
use crate::sim::{SimDuration, SimTime};
use crate::workload::TraceTally;

/// How a request ended (the `outcome` column of `requests.csv`).
pub use crate::outputs::rows::RequestOutcome as Outcome;

/// Timings of a completed request.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// When it completed.
    pub end: SimTime,
    pub queue: SimDuration,
    pub ttft: SimDuration,
    pub e2e: SimDuration,
    pub output_tokens: u32,
}

impl Timing {
    /// Time per output token after the first (µs, fractional); `None` with one token.
    pub fn tpot(&self) -> Option<f64> {
        (self.output_tokens > 1)
            .then(|| (self.e2e - self.ttft).as_micros() as f64 / f64::from(self.output_tokens - 1))
    }
}

/// Something worth a line in the report.
#[derive(Debug, Clone, PartialEq)]
pub enum Notable {
    PanicEntered(String),
    MaxReached(String),
    Pending(String),
    Provisioned(String, u32),
    FirstDrop,
    PolicyChange(usize),
    /// A serving's first container crash (the pod).
    FirstCrash(String),
    /// The first pod whose image pulls failed (the pod, failed attempts).
    ImagePullBackOff(String, u32),
    /// A node lost: accelerator, its GPUs, pods lost, capacity left.
    NodeLost(String, u32, u32, u32),
    /// Capacity back: accelerator, capacity now.
    NodeRecovered(String, u32),
    /// A ModelServing asked for more servers than the simulator runs: its name, how many.
    ServerCap(String, u64),
}

impl fmt::Display for Notable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notable::PanicEntered(k) => write!(f, "panic mode entered ({k})"),
            Notable::MaxReached(k) => write!(f, "maxReplicas reached ({k})"),
            Notable::Pending(a) => write!(f, "pods pending for lack of {a} GPUs"),
            Notable::Provisioned(a, n) => write!(f, "node provisioning: {a} capacity now {n} GPUs"),
            Notable::FirstDrop => {
                f.write_str("first request dropped by the router (queue timeout)")
            }
            Notable::PolicyChange(i) => {
                write!(f, "policy change #{} applied (engine state reset)", i + 1)
            }
            Notable::FirstCrash(pod) => write!(
                f,
                "first container crash ({pod}); Kthena counts a restarted pod as failed until it is deleted"
            ),
            Notable::ImagePullBackOff(pod, n) => {
                write!(f, "image pull failed {n} times before it worked ({pod})")
            }
            Notable::NodeLost(a, gpus, pods, left) => write!(
                f,
                "{a} node lost ({gpus} GPUs, {pods} pods); capacity now {left} GPUs"
            ),
            Notable::NodeRecovered(a, n) => write!(f, "{a} node replaced; capacity now {n} GPUs"),
            Notable::ServerCap(s, n) => write!(
                f,
                "{s} asked for {n} servers; the simulator runs at most {}",
                crate::model::spec::MAX_SERVERS
            ),
        }
    }
}

pub use crate::outputs::rows::{CostRow, TimelineRow};

/// The latencies of the requests that completed in one minute (µs; TPOT fractional): the
/// rows of `latency.csv`, computed when the minute closes so that only the open minute's
/// samples are held.
#[derive(Debug, Clone, PartialEq)]
pub struct MinuteLatency {
    pub start: SimTime,
    pub completed: usize,
    /// (p50, p99) of each metric; `None` when no sample.
    pub ttft: (Option<f64>, Option<f64>),
    pub tpot: (Option<f64>, Option<f64>),
    pub e2e: (Option<f64>, Option<f64>),
}

/// What the summary and its warnings need of the timeline rows, tallied as they are written
/// (the rows themselves are not kept).
#[derive(Debug, Clone, Default)]
pub struct TimelineTally {
    pub rows: u64,
    /// Rows of skipped ticks with a restarted pod (failed, to Kthena's collector) in the target.
    pub skipped_with_restarted: u64,
    /// Per policy, in the order of their first rows.
    pub policies: Vec<PolicyTicks>,
}

/// How one policy's ticks went. A tick is the policy's rows at one instant; it is skipped
/// when every row of it is.
#[derive(Debug, Clone)]
pub struct PolicyTicks {
    pub policy: String,
    pub ticks: usize,
    /// The skipped ticks by the reason code of their first row, in order of first
    /// appearance: (code, ticks, the first such tick's reason).
    pub skipped: Vec<(String, usize, String)>,
    /// Every row had minReplicas = maxReplicas.
    pub fixed: bool,
    /// The first row's spec replicas, and whether every row had them.
    pub first_spec: i32,
    pub spec_constant: bool,
    /// The latest tick, not yet counted as skipped or not: its time (bits), whether every
    /// row so far was skipped, its first row's reason code and reason.
    open: Option<(u64, bool, String, String)>,
}

impl PolicyTicks {
    fn close_tick(&mut self) {
        if let Some((_, true, code, reason)) = self.open.take() {
            match self.skipped.iter_mut().find(|s| s.0 == code) {
                Some(s) => s.1 += 1,
                None => self.skipped.push((code, 1, reason)),
            }
        }
    }
}

impl TimelineTally {
    /// Counts `row`; rows come in time order.
    pub(super) fn add(&mut self, row: &TimelineRow) {
        self.rows += 1;
        if row.skip && row.restarted > 0 {
            self.skipped_with_restarted += 1;
        }
        let i = match self.policies.iter().position(|p| p.policy == row.policy) {
            Some(i) => i,
            None => {
                self.policies.push(PolicyTicks {
                    policy: row.policy.clone(),
                    ticks: 0,
                    skipped: Vec::new(),
                    fixed: true,
                    first_spec: row.spec_replicas,
                    spec_constant: true,
                    open: None,
                });
                self.policies.len() - 1
            }
        };
        let p = &mut self.policies[i];
        p.fixed &= row.min_replicas == row.max_replicas;
        p.spec_constant &= row.spec_replicas == p.first_spec;
        let time = row.time_s.to_bits();
        match &mut p.open {
            Some((t, all_skipped, ..)) if *t == time => *all_skipped &= row.skip,
            _ => {
                p.close_tick();
                p.ticks += 1;
                let open = (time, row.skip, row.reason_code.clone(), row.reason.clone());
                p.open = Some(open);
            }
        }
    }

    /// Counts the last ticks: no row comes after this.
    pub(super) fn close(&mut self) {
        self.policies.iter_mut().for_each(PolicyTicks::close_tick);
    }
}

/// One row of `requests.csv` (times in µs internally).
#[derive(Debug, Clone, PartialEq)]
pub struct RequestRow {
    pub arrival: SimTime,
    pub input_tokens: u32,
    pub output_tokens: u32,
    pub server: Option<String>,
    pub first_admit: Option<SimTime>,
    pub first_token: Option<SimTime>,
    pub end: SimTime,
    pub outcome: Outcome,
}

/// What one ModelServing cost and served.
#[derive(Debug, Clone, Default)]
pub struct ServingResults {
    pub name: String,
    pub cost: f64,
    /// ∫ live servers of this serving dt.
    pub server_seconds: f64,
    pub peak_servers: u64,
    pub completed: u64,
    /// Of those, the requests that met the SLO.
    pub slo_met: u64,
    /// Latencies of the requests this serving's servers completed (µs; TPOT fractional).
    pub ttft: Samples,
    pub tpot: Samples,
    pub e2e: Samples,
}

/// Everything a run measured.
#[derive(Debug, Clone, Default)]
pub struct Results {
    pub duration: SimDuration,
    pub arrived: u64,
    pub completed: u64,
    pub failed_too_long: u64,
    pub failed_terminated: u64,
    pub failed_crashed: u64,
    pub dropped: u64,
    pub in_flight: u64,
    /// Latencies of completed requests (µs; TPOT fractional).
    pub ttft: Samples,
    pub tpot: Samples,
    pub e2e: Samples,
    pub queue: Samples,
    pub slo_met: u64,
    pub preemptions: u64,
    /// Per serving, in scenario order.
    pub servings: Vec<ServingResults>,
    /// ∫ live servers dt, all servings.
    pub server_seconds: f64,
    pub peak_servers: u64,
    pub scale_events: u64,
    pub panic_seconds: f64,
    pub skipped_ticks: u64,
    pub pending_units: u64,
    pub timeline: TimelineTally,
    pub requests: Vec<RequestRow>,
    pub notable: Vec<(SimTime, Notable)>,
    pub engine_log: Option<Vec<String>>,
    /// Every scrape, when asked (`--openmetrics`).
    pub openmetrics: Option<OpenMetrics>,
    pub faults: FaultCounts,
    /// Token lengths of the requests that arrived, as the servers got them (after
    /// `max_context`): the report's medians. Counted, so a week costs a few thousand entries.
    pub input_tokens: CountedValues,
    pub output_tokens: CountedValues,
    /// What each trace stream read (requests replayed, rows dropped or changed), in
    /// scenario order.
    pub traces: Vec<TraceTally>,
}

/// What the faults of the run did.
#[derive(Debug, Clone, Default)]
pub struct FaultCounts {
    /// Container crashes per serving, in scenario order.
    pub crashes_by_serving: Vec<u64>,
    pub node_losses: u64,
    pub pods_lost: u64,
    /// Failed image-pull attempts, over all pods.
    pub image_pull_failures: u64,
    /// Pods whose start was delayed by failed pulls, and the delay summed over them.
    pub image_pull_delayed_pods: u64,
    pub image_pull_delay: SimDuration,
}

impl FaultCounts {
    /// Container crashes, all servings.
    pub fn crashes(&self) -> u64 {
        self.crashes_by_serving.iter().sum()
    }
}

/// One minute of simulated time: the bucket of `latency.csv`.
pub const MINUTE: SimDuration = SimDuration::from_secs(60);

impl Results {
    pub fn new(spec: &WorldSpec) -> Self {
        Results {
            servings: spec
                .servings
                .iter()
                .map(|s| ServingResults {
                    name: s.name.clone(),
                    ..ServingResults::default()
                })
                .collect(),
            ..Results::default()
        }
    }

    pub fn failed(&self) -> u64 {
        self.failed_too_long + self.failed_terminated + self.failed_crashed
    }

    /// Counts a finished request and, when it completed, its SLO verdict; `serving` is the
    /// serving that completed it. Its latencies are added up apart ([`super::latencies`]).
    pub fn finish(&mut self, slo: &Slo, outcome: Outcome, timing: Option<(usize, Timing)>) {
        match outcome {
            Outcome::Completed => self.completed += 1,
            Outcome::TooLong => self.failed_too_long += 1,
            Outcome::Terminated => self.failed_terminated += 1,
            Outcome::Crashed => self.failed_crashed += 1,
            Outcome::Dropped => self.dropped += 1,
            Outcome::InFlight => {}
        }
        let Some((serving, t)) = timing else { return };
        let tpot = t.tpot();
        let (ttft, e2e) = (t.ttft.as_micros() as f64, t.e2e.as_micros() as f64);
        self.servings[serving].completed += 1;
        let within =
            |limit: Option<SimDuration>, v: f64| limit.is_none_or(|l| v <= l.as_micros() as f64);
        if within(slo.ttft, ttft)
            && tpot.is_none_or(|v| within(slo.tpot, v))
            && within(slo.e2e, e2e)
            && within(slo.queue, t.queue.as_micros() as f64)
        {
            self.slo_met += 1;
            self.servings[serving].slo_met += 1;
        }
    }

    /// Average number of live (billed) servers over the run.
    pub fn average_servers(&self) -> f64 {
        let d = self.duration.as_secs_f64();
        if d > 0.0 {
            self.server_seconds / d
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(time_s: f64, policy: &str, skip: bool, code: &str, spec: i32) -> TimelineRow {
        TimelineRow {
            time_s,
            policy: policy.into(),
            autoscaler: "kthena".into(),
            target: "llm/chat".into(),
            spec_replicas: spec,
            min_replicas: 1,
            max_replicas: 4,
            ready: 1,
            starting: 0,
            pending: 0,
            terminating: 0,
            restarting: 0,
            lost: 0,
            restarted: u32::from(skip),
            metrics: String::new(),
            unready: None,
            recommended: None,
            corrected: None,
            panic: false,
            skip,
            reason_code: code.into(),
            reason: format!("{code} at {time_s}"),
            arrivals_per_s: 0.0,
            waiting: 0,
            running: 0,
            kv_usage: 0.0,
            cost_per_hour: 0.0,
        }
    }

    #[test]
    fn a_tick_is_skipped_when_all_its_rows_are_and_counts_under_its_first_rows_reason() {
        let mut t = TimelineTally::default();
        for r in [
            row(15.0, "a", true, "stale", 2),
            row(15.0, "b", true, "other", 2),
            row(15.0, "a", false, "ok", 2),
            row(30.0, "a", true, "stale", 2),
            row(30.0, "a", true, "cold", 2),
            row(45.0, "a", true, "cold", 2),
            row(60.0, "a", true, "stale", 3),
        ] {
            t.add(&r);
        }
        t.close();
        assert_eq!((t.rows, t.skipped_with_restarted), (7, 6));
        let a = &t.policies[0];
        assert_eq!((a.policy.as_str(), a.ticks), ("a", 4));
        assert_eq!(
            a.skipped,
            [
                ("stale".to_string(), 2, "stale at 30".to_string()),
                ("cold".to_string(), 1, "cold at 45".to_string()),
            ]
        );
        assert!(!a.fixed && !a.spec_constant);
        let b = &t.policies[1];
        assert_eq!((b.ticks, b.skipped.len()), (1, 1));
        assert!(b.spec_constant);
    }
}
