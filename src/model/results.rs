//! What a run produced: request outcomes and latencies, cost and replica accounting, the
//! per-tick timeline, notable events, and (on request) one row per request.

use std::fmt;

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

/// The samples of the minute still open.
#[derive(Debug, Clone, Default)]
struct OpenMinute {
    index: usize,
    ttft: Samples,
    tpot: Samples,
    e2e: Samples,
}

impl OpenMinute {
    fn close(self) -> MinuteLatency {
        let p = |s: &Samples| {
            let v = s.percentiles(&[0.5, 0.99]);
            (v[0], v[1])
        };
        MinuteLatency {
            start: SimTime::ZERO + MINUTE * self.index as i64,
            completed: self.ttft.len() as usize,
            ttft: p(&self.ttft),
            tpot: p(&self.tpot),
            e2e: p(&self.e2e),
        }
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
    /// Per-minute latency percentiles of the closed minutes.
    pub minutes: Vec<MinuteLatency>,
    open_minute: Option<OpenMinute>,
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
    pub timeline: Vec<TimelineRow>,
    /// Per tick (and at the end), per serving: cumulative cost.
    pub cost_timeline: Vec<CostRow>,
    pub requests: Vec<RequestRow>,
    pub notable: Vec<(SimTime, Notable)>,
    pub engine_log: Option<Vec<String>>,
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

    /// Counts a finished request and, when it completed, its latencies and SLO verdict;
    /// `serving` is the serving that completed it.
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
        // Completions arrive in time order; one that arrives after a later minute opened
        // (events of one server step) joins that minute.
        let minute = usize::try_from(t.end.since_start() / MINUTE).unwrap_or(0);
        self.close_minutes_before(minute);
        let open = self.open_minute.get_or_insert_with(|| OpenMinute {
            index: minute,
            ..OpenMinute::default()
        });
        let tpot = (t.output_tokens > 1)
            .then(|| (t.e2e - t.ttft).as_micros() as f64 / f64::from(t.output_tokens - 1));
        let (ttft, e2e) = (t.ttft.as_micros() as f64, t.e2e.as_micros() as f64);
        open.ttft.push(ttft);
        open.e2e.push(e2e);
        self.ttft.push(ttft);
        self.e2e.push(e2e);
        self.queue.push(t.queue.as_micros() as f64);
        let per = &mut self.servings[serving];
        per.completed += 1;
        per.ttft.push(ttft);
        per.e2e.push(e2e);
        if let Some(v) = tpot {
            open.tpot.push(v);
            self.tpot.push(v);
            per.tpot.push(v);
        }
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

    /// Closes the open minute if it is before `minute`, with empty rows for the minutes in
    /// between.
    fn close_minutes_before(&mut self, minute: usize) {
        if self.open_minute.as_ref().is_some_and(|m| m.index >= minute) {
            return;
        }
        if let Some(open) = self.open_minute.take() {
            self.minutes.push(open.close());
        }
        while self.minutes.len() < minute {
            let index = self.minutes.len();
            self.minutes.push(
                OpenMinute {
                    index,
                    ..OpenMinute::default()
                }
                .close(),
            );
        }
    }

    /// Ends the run at `duration`: closes the last minutes.
    pub fn close(&mut self, duration: SimDuration) {
        self.duration = duration;
        let one = SimDuration::from_micros(1);
        let run_minutes = usize::try_from((duration + MINUTE - one) / MINUTE).unwrap_or(0);
        let last = self.open_minute.as_ref().map_or(0, |m| m.index + 1);
        self.close_minutes_before(run_minutes.max(last));
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
