//! The recorder: what a run leaves behind besides its tallies — the timeline rows of the
//! controller ticks, the cost rows and the per-minute latency rows, handed to a [`RowSink`] as
//! they are made; one row per request (when asked), the notable events (the first
//! [`MAX_NOTABLE`], each "max reached" once) and the engine log (when asked).
//!
//! It assembles rows from what the tick gathered and tallies what the summary needs of them;
//! it reads no component and decides nothing about the world.

use std::io;

use super::engine_log::EngineLog;
use super::openmetrics::OpenMetrics;
use super::results::{
    CostRow, MinuteLatency, Notable, RequestRow, Results, TimelineRow, TimelineTally,
};
use super::servings::TargetRead;
use super::spec::Serving;
use crate::engine::Decision;
use crate::sim::SimTime;

/// At most this many notable events are kept (the first ones).
pub const MAX_NOTABLE: usize = 100;

/// Where the rows of `timeline.csv`, `cost.csv` and `latency.csv` go, in file order, as the
/// run makes them: a long run's rows written out as they come keep its memory flat in
/// simulated time.
pub trait RowSink {
    fn timeline(&mut self, row: &TimelineRow) -> io::Result<()>;
    fn cost(&mut self, row: &CostRow) -> io::Result<()>;
    fn latency(&mut self, minute: &MinuteLatency) -> io::Result<()>;
}

/// A sink that keeps every row, for tests that look at them.
#[cfg(test)]
#[derive(Debug, Default)]
pub struct KeptRows {
    pub timeline: Vec<TimelineRow>,
    pub cost: Vec<CostRow>,
    pub latency: Vec<MinuteLatency>,
}

#[cfg(test)]
impl RowSink for KeptRows {
    fn timeline(&mut self, row: &TimelineRow) -> io::Result<()> {
        self.timeline.push(row.clone());
        Ok(())
    }
    fn cost(&mut self, row: &CostRow) -> io::Result<()> {
        self.cost.push(row.clone());
        Ok(())
    }
    fn latency(&mut self, minute: &MinuteLatency) -> io::Result<()> {
        self.latency.push(minute.clone());
        Ok(())
    }
}

pub struct Recorder<'r> {
    rows: &'r mut dyn RowSink,
    /// The first error of the sink: the rows after it are not written, and the run fails.
    error: Option<io::Error>,
    tally: TimelineTally,
    /// The cost rows of the latest instant, held back until a later instant's come: those of
    /// a tick at the very end are replaced by the final bill.
    last_costs: Vec<CostRow>,
    /// `None` unless requests are recorded.
    requests: Option<Vec<RequestRow>>,
    notable: Vec<(SimTime, Notable)>,
    /// The policies whose "maxReplicas reached" was noted.
    max_reached: Vec<String>,
    engine_log: Option<EngineLog>,
    openmetrics: Option<OpenMetrics>,
}

impl<'r> Recorder<'r> {
    /// A recorder that hands its rows to `rows`, keeps one row per request if `requests`,
    /// and the engine log and the scrapes if given.
    pub fn new(
        rows: &'r mut dyn RowSink,
        requests: bool,
        engine_log: Option<EngineLog>,
        openmetrics: Option<OpenMetrics>,
    ) -> Self {
        Recorder {
            rows,
            error: None,
            tally: TimelineTally::default(),
            last_costs: Vec::new(),
            requests: requests.then(Vec::new),
            notable: Vec::new(),
            max_reached: Vec::new(),
            engine_log,
            openmetrics,
        }
    }

    /// Hands a row to the sink with `write`, unless it already failed.
    fn write(&mut self, write: impl FnOnce(&mut dyn RowSink) -> io::Result<()>) {
        if self.error.is_none() {
            self.error = write(&mut *self.rows).err();
        }
    }

    pub fn notable(&mut self, at: SimTime, what: Notable) {
        if self.notable.len() < MAX_NOTABLE {
            self.notable.push((at, what));
        }
    }

    /// Policy `key` reached its `maxReplicas` at `at`: noted the first time.
    pub fn max_reached(&mut self, at: SimTime, key: &str) {
        if !self.max_reached.iter().any(|k| k == key) {
            self.max_reached.push(key.to_string());
            self.notable(at, Notable::MaxReached(key.to_string()));
        }
    }

    pub fn timeline(&mut self, rows: impl IntoIterator<Item = TimelineRow>) {
        for row in rows {
            self.tally.add(&row);
            self.write(|sink| sink.timeline(&row));
        }
    }

    /// Rows come in time order.
    pub fn costs(&mut self, rows: impl IntoIterator<Item = CostRow>) {
        for row in rows {
            if (self.last_costs.first()).is_some_and(|r| r.time_s != row.time_s) {
                self.write_costs();
            }
            self.last_costs.push(row);
        }
    }

    fn write_costs(&mut self) {
        for row in std::mem::take(&mut self.last_costs) {
            self.write(|sink| sink.cost(&row));
        }
    }

    /// Drops the cost rows taken at `time_s` (a tick at the very end: the final bill
    /// replaces them).
    pub fn drop_costs_at(&mut self, time_s: f64) {
        self.last_costs.retain(|r| r.time_s != time_s);
    }

    /// Rows of `latency.csv`, in time order.
    pub fn latency(&mut self, rows: impl IntoIterator<Item = MinuteLatency>) {
        for row in rows {
            self.write(|sink| sink.latency(&row));
        }
    }

    /// Whether requests are recorded (their rows need not be built otherwise).
    pub fn records_requests(&self) -> bool {
        self.requests.is_some()
    }

    pub fn request(&mut self, row: RequestRow) {
        if let Some(rows) = &mut self.requests {
            rows.push(row);
        }
    }

    pub fn engine_log(&mut self) -> Option<&mut EngineLog> {
        self.engine_log.as_mut()
    }

    pub fn openmetrics(&mut self) -> Option<&mut OpenMetrics> {
        self.openmetrics.as_mut()
    }

    /// Ends the run: writes the last rows and moves the rest into `results`.
    /// Fails if the sink did.
    pub fn settle(mut self, results: &mut Results) -> io::Result<()> {
        self.write_costs();
        if let Some(e) = self.error {
            return Err(e);
        }
        self.tally.close();
        results.timeline = self.tally;
        results.requests = self.requests.unwrap_or_default();
        results.notable = self.notable;
        results.engine_log = self.engine_log.map(EngineLog::into_lines);
        results.openmetrics = self.openmetrics;
        Ok(())
    }
}

/// One scaled target (a serving, or one of its roles) of a tick's decision: what the
/// controller read of it before the decision was written, and its spec after.
pub struct TickTarget<'a> {
    pub now: SimTime,
    pub decision: &'a Decision,
    pub serving: &'a Serving,
    pub role: Option<usize>,
    /// The policy's bounds for the target.
    pub min_replicas: i32,
    pub max_replicas: i32,
    pub read: TargetRead,
    /// Requests waiting in the router queue.
    pub router_waiting: usize,
    pub arrivals_per_s: f64,
    pub spec_replicas: i32,
}

/// The timeline row of one target. A heterogeneous policy's rows carry the total
/// recommendation and each ModelServing's share as `corrected`; a disaggregated policy's rows
/// carry each role's recommendation, final count, panic mode and reason.
pub fn timeline_row(t: TickTarget<'_>) -> TimelineRow {
    let (d, spec) = (t.decision, t.serving);
    let role_name = t.role.map(|r| spec.roles[r].name.as_str());
    let role_decision =
        (d.roles.as_ref()).and_then(|rs| rs.iter().find(|r| Some(r.name.as_str()) == role_name));
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
    let read = t.read;
    TimelineRow {
        time_s: t.now.as_secs_f64(),
        policy: d.key.clone(),
        autoscaler: "kthena".to_string(),
        target: match role_name {
            Some(r) => format!("{}/{}/{r}", spec.namespace, spec.name),
            None => format!("{}/{}", spec.namespace, spec.name),
        },
        spec_replicas: t.spec_replicas,
        min_replicas: t.min_replicas,
        max_replicas: t.max_replicas,
        ready: read.ready,
        starting: read.starting,
        pending: read.pending,
        terminating: read.terminating,
        restarting: read.restarting,
        lost: read.lost,
        restarted: read.restarted,
        metrics,
        unready,
        recommended,
        corrected,
        panic,
        skip: d.skip,
        reason_code: reason.code().to_string(),
        reason: reason.to_string(),
        arrivals_per_s: t.arrivals_per_s,
        waiting: read.waiting + t.router_waiting as u64,
        running: read.running,
        kv_usage: read.kv_usage,
        cost_per_hour: read.cost_per_hour,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::decision::{AlgInput, TargetMode};
    use crate::engine::recommendation::Metrics;
    use crate::engine::Reason;

    #[test]
    fn notable_events_are_capped_and_max_reached_noted_once() {
        let mut rows = KeptRows::default();
        let mut r = Recorder::new(&mut rows, false, None, None);
        r.max_reached(SimTime::from_secs(1), "llm/p");
        r.max_reached(SimTime::from_secs(2), "llm/p");
        for i in 0..MAX_NOTABLE + 5 {
            r.notable(SimTime::from_secs(3), Notable::PolicyChange(i));
        }
        r.request(RequestRow {
            arrival: SimTime::ZERO,
            input_tokens: 1,
            output_tokens: 1,
            server: None,
            first_admit: None,
            first_token: None,
            end: SimTime::ZERO,
            outcome: crate::model::results::Outcome::InFlight,
        });
        let mut results = Results::default();
        r.settle(&mut results).expect("kept");
        assert_eq!(results.notable.len(), MAX_NOTABLE);
        assert_eq!(
            results.notable[0],
            (SimTime::from_secs(1), Notable::MaxReached("llm/p".into()))
        );
        assert_eq!(results.notable[1].1, Notable::PolicyChange(0));
        assert!(results.requests.is_empty(), "not recorded");
        assert_eq!(results.engine_log, None);
    }

    fn decision(split: Option<Vec<(String, i32)>>) -> Decision {
        let ready = Metrics::from([("num_requests_waiting".to_string(), 12.0)]);
        Decision {
            key: "llm/chat-policy".into(),
            mode: TargetMode::Homogeneous,
            skip: false,
            recommended: Some(3),
            corrected: Some(3),
            split,
            roles: None,
            ratio_adjusted: None,
            current_ratio: None,
            panic: true,
            alg_input: Some(AlgInput {
                current: 2,
                unready: 1,
                ready: vec![Some(ready), None],
                external: Metrics::from([("qps".to_string(), 0.5)]),
            }),
            reason: Reason::OutOfRange {
                current: 0,
                bound: 1,
            },
            writes: Vec::new(),
        }
    }

    fn target<'a>(d: &'a Decision, serving: &'a Serving) -> TickTarget<'a> {
        TickTarget {
            now: SimTime::from_secs(30),
            decision: d,
            serving,
            role: None,
            min_replicas: 1,
            max_replicas: 8,
            read: TargetRead {
                ready: 2,
                starting: 1,
                pending: 0,
                terminating: 0,
                restarting: 0,
                lost: 0,
                restarted: 0,
                waiting: 5,
                running: 7,
                kv_usage: 0.25,
                cost_per_hour: 3.0,
            },
            router_waiting: 4,
            arrivals_per_s: 1.5,
            spec_replicas: 3,
        }
    }

    #[test]
    fn a_timeline_row_pairs_what_was_read_with_the_decision_and_the_spec_after_it() {
        let serving = Serving::for_tests("chat-llama", 2);
        let d = decision(None);
        let row = timeline_row(target(&d, &serving));
        assert_eq!(row.time_s, 30.0);
        assert_eq!(row.target, "llm/chat-llama");
        assert_eq!(
            (row.spec_replicas, row.min_replicas, row.max_replicas),
            (3, 1, 8)
        );
        assert_eq!((row.ready, row.starting), (2, 1));
        assert_eq!(row.metrics, "num_requests_waiting=12;qps=0.5");
        assert_eq!(
            (row.unready, row.recommended, row.corrected),
            (Some(1), Some(3), Some(3))
        );
        assert_eq!((row.panic, row.skip), (true, false));
        assert_eq!(row.reason_code, "out_of_range");
        assert_eq!(row.waiting, 5 + 4, "the servers' queues and the router's");
        assert_eq!(
            (row.running, row.kv_usage, row.cost_per_hour),
            (7, 0.25, 3.0)
        );
        // A heterogeneous decision: each ModelServing's share is its `corrected`.
        let split = vec![("llm/other".into(), 1), ("llm/chat-llama".into(), 2)];
        let d = decision(Some(split));
        assert_eq!(timeline_row(target(&d, &serving)).corrected, Some(2));
    }

    #[test]
    fn the_final_bill_replaces_the_cost_rows_of_the_last_instant() {
        let row = |time_s: f64| CostRow {
            time_s,
            serving: "a".into(),
            servers: 1,
            cost_per_hour: 1.0,
            cost: time_s,
        };
        let mut rows = KeptRows::default();
        let mut r = Recorder::new(&mut rows, true, None, None);
        r.costs([row(15.0), row(30.0), row(30.0)]);
        r.drop_costs_at(30.0);
        r.costs([row(30.5)]);
        r.settle(&mut Results::default()).expect("kept");
        assert_eq!(rows.cost, [row(15.0), row(30.5)]);
    }
}
