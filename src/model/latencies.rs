//! The latencies of completed requests: the run's samples, each serving's, and the rows of
//! `latency.csv`, one per minute. Adding them up is a tenth of a long run's time (the
//! histograms are larger than the processor's first cache), so a lone run, which leaves a
//! core idle, adds them on a thread of their own ([`on_own_thread`]), fed in batches in
//! completion order. The samples and rows are the same either way.

use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};

use super::results::{MinuteLatency, Results, Timing, MINUTE};
use crate::sim::sketch::Samples;
use crate::sim::{SimDuration, SimTime};

/// Completions per batch: large enough that the channel costs nothing per request.
const BATCH: usize = 4096;
/// Batches the simulation may run ahead of the thread.
const BATCHES_AHEAD: usize = 8;

/// A completed request: the index of the serving that completed it, and its timing.
type Completion = (usize, Timing);

/// The latency samples of the completed requests and the minute rows made of them.
#[derive(Debug)]
pub struct Latencies {
    ttft: Samples,
    tpot: Samples,
    e2e: Samples,
    queue: Samples,
    /// Per serving, in scenario order: TTFT, TPOT and end-to-end.
    servings: Vec<[Samples; 3]>,
    open_minute: Option<OpenMinute>,
    /// Minutes whose row was made.
    minutes: usize,
}

impl Latencies {
    pub fn new(servings: usize) -> Self {
        Latencies {
            ttft: Samples::default(),
            tpot: Samples::default(),
            e2e: Samples::default(),
            queue: Samples::default(),
            servings: vec![Default::default(); servings],
            open_minute: None,
            minutes: 0,
        }
    }

    /// A request of `serving` completed as `t` says; the rows of the minutes this closes go to
    /// `rows`. Completions come in time order; one that comes after a later minute opened
    /// (events of one server step) joins that minute.
    fn add(&mut self, (serving, t): Completion, rows: &mut Vec<MinuteLatency>) {
        let tpot = t.tpot();
        let (ttft, e2e) = (t.ttft.as_micros() as f64, t.e2e.as_micros() as f64);
        self.ttft.push(ttft);
        self.e2e.push(e2e);
        self.queue.push(t.queue.as_micros() as f64);
        let [s_ttft, s_tpot, s_e2e] = &mut self.servings[serving];
        s_ttft.push(ttft);
        s_e2e.push(e2e);
        if let Some(v) = tpot {
            self.tpot.push(v);
            s_tpot.push(v);
        }
        let minute = usize::try_from(t.end.since_start() / MINUTE).unwrap_or(0);
        self.close_minutes_before(minute, rows);
        let open = self
            .open_minute
            .get_or_insert_with(|| OpenMinute::new(minute));
        open.ttft.push(ttft);
        open.e2e.push(e2e);
        if let Some(v) = tpot {
            open.tpot.push(v);
        }
    }

    /// Makes the open minute's row if it is before `minute`, with empty rows for the minutes
    /// in between.
    fn close_minutes_before(&mut self, minute: usize, rows: &mut Vec<MinuteLatency>) {
        if (self.open_minute.as_ref()).is_some_and(|m| m.index >= minute) {
            return;
        }
        if let Some(open) = self.open_minute.take() {
            rows.push(open.close());
            self.minutes += 1;
        }
        while self.minutes < minute {
            rows.push(OpenMinute::new(self.minutes).close());
            self.minutes += 1;
        }
    }

    /// Makes the rows of the minutes left, up to the end of a run of `duration`, into
    /// `rows`, and hands the samples to `results`.
    pub fn settle(
        mut self,
        duration: SimDuration,
        results: &mut Results,
        rows: &mut Vec<MinuteLatency>,
    ) {
        let one = SimDuration::from_micros(1);
        let run_minutes = usize::try_from((duration + MINUTE - one) / MINUTE).unwrap_or(0);
        let last = self.open_minute.as_ref().map_or(0, |m| m.index + 1);
        self.close_minutes_before(run_minutes.max(last), rows);
        results.ttft = self.ttft;
        results.tpot = self.tpot;
        results.e2e = self.e2e;
        results.queue = self.queue;
        for (per, [ttft, tpot, e2e]) in results.servings.iter_mut().zip(self.servings) {
            (per.ttft, per.tpot, per.e2e) = (ttft, tpot, e2e);
        }
    }
}

/// The samples of the minute still open.
#[derive(Debug)]
struct OpenMinute {
    index: usize,
    ttft: Samples,
    tpot: Samples,
    e2e: Samples,
}

impl OpenMinute {
    fn new(index: usize) -> Self {
        OpenMinute {
            index,
            ttft: Samples::default(),
            tpot: Samples::default(),
            e2e: Samples::default(),
        }
    }

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

/// Where the world hands its completions: to [`Latencies`] of its own, or in batches to
/// those of the thread of [`on_own_thread`].
pub enum LatencyFeed {
    Here(Box<Latencies>),
    Away {
        batch: Vec<Completion>,
        /// Batches the thread has emptied, for reuse: a fresh one each time costs more in
        /// the allocator than the thread saves.
        spare: Vec<Vec<Completion>>,
        tx: SyncSender<Vec<Completion>>,
        rx: Receiver<FromThread>,
    },
}

/// What the thread sends back: minute rows as they are made and the emptied batches, then
/// its samples.
pub enum FromThread {
    Rows(Vec<MinuteLatency>),
    Emptied(Vec<Completion>),
    Done(Box<Latencies>),
}

impl LatencyFeed {
    /// A request of `serving` completed as `t` says; the minute rows made by now (by this
    /// completion, or by earlier ones on the thread) go to `rows`.
    pub fn add(&mut self, serving: usize, t: Timing, rows: &mut Vec<MinuteLatency>) {
        match self {
            LatencyFeed::Here(l) => l.add((serving, t), rows),
            LatencyFeed::Away {
                batch,
                spare,
                tx,
                rx,
            } => {
                batch.push((serving, t));
                if batch.len() == BATCH {
                    while let Ok(back) = rx.try_recv() {
                        match back {
                            FromThread::Rows(made) => rows.extend(made),
                            FromThread::Emptied(emptied) => spare.push(emptied),
                            FromThread::Done(_) => {}
                        }
                    }
                    let next = spare.pop().unwrap_or_else(|| Vec::with_capacity(BATCH));
                    // A closed channel means the thread panicked: `finish` reports it.
                    let _ = tx.send(std::mem::replace(batch, next));
                }
            }
        }
    }

    /// The latencies of every completion; the minute rows not yet handed out go to `rows`.
    pub fn finish(self, rows: &mut Vec<MinuteLatency>) -> Latencies {
        match self {
            LatencyFeed::Here(l) => *l,
            LatencyFeed::Away { batch, tx, rx, .. } => {
                let _ = tx.send(batch);
                drop(tx);
                loop {
                    match rx.recv() {
                        Ok(FromThread::Rows(made)) => rows.extend(made),
                        Ok(FromThread::Emptied(_)) => {}
                        Ok(FromThread::Done(l)) => return *l,
                        Err(_) => panic!("the latency thread stopped before its last batch"),
                    }
                }
            }
        }
    }
}

/// Runs `simulate` with a feed whose completions are added up on a thread of its own, for
/// `servings` servings; returns what `simulate` returned.
pub fn on_own_thread<T>(servings: usize, simulate: impl FnOnce(LatencyFeed) -> T) -> T {
    let (tx, batches) = sync_channel::<Vec<Completion>>(BATCHES_AHEAD);
    let (back, rx) = channel();
    std::thread::scope(|scope| {
        scope.spawn(move || add_up(Latencies::new(servings), &batches, &back));
        simulate(LatencyFeed::Away {
            batch: Vec::with_capacity(BATCH),
            spare: Vec::new(),
            tx,
            rx,
        })
        // A simulation that ended early dropped the feed: the thread stops at its next batch.
    })
}

/// The thread: adds up the batches in order, sends back the minute rows of each and the
/// batch emptied, and the samples once the simulation has sent its last.
fn add_up(
    mut latencies: Latencies,
    batches: &Receiver<Vec<Completion>>,
    back: &Sender<FromThread>,
) {
    while let Ok(mut batch) = batches.recv() {
        let mut rows = Vec::new();
        for completion in batch.drain(..) {
            latencies.add(completion, &mut rows);
        }
        if !rows.is_empty() && back.send(FromThread::Rows(rows)).is_err() {
            return;
        }
        if back.send(FromThread::Emptied(batch)).is_err() {
            return;
        }
    }
    let _ = back.send(FromThread::Done(Box::new(latencies)));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timing(end_s: f64, ttft_ms: i64, output_tokens: u32) -> Timing {
        let ms = SimDuration::from_micros(1_000);
        Timing {
            end: SimTime::ZERO.saturating_add(SimDuration::from_micros_f64(end_s * 1e6)),
            queue: ms * (ttft_ms / 2),
            ttft: ms * ttft_ms,
            e2e: ms * (ttft_ms + 20 * i64::from(output_tokens)),
            output_tokens,
        }
    }

    /// Feeds `completions` through `feed` and settles a run of `duration`: the results and
    /// every minute row, in the order they were handed out.
    fn through(
        mut feed: LatencyFeed,
        completions: &[Completion],
        duration: SimDuration,
    ) -> (Results, Vec<MinuteLatency>) {
        let (mut rows, mut made) = (Vec::new(), Vec::new());
        for &(serving, t) in completions {
            feed.add(serving, t, &mut made);
            rows.append(&mut made);
        }
        let mut results = Results {
            servings: vec![Default::default(); 2],
            ..Results::default()
        };
        feed.finish(&mut rows)
            .settle(duration, &mut results, &mut rows);
        (results, rows)
    }

    #[test]
    fn the_thread_adds_up_what_the_simulation_would() {
        // Several batches' worth, over 20 minutes, with one-token requests (no TPOT).
        let completions: Vec<Completion> = (0..3 * BATCH + 17)
            .map(|i| {
                let end = i as f64 * 0.09;
                (
                    i % 2,
                    timing(end, 10 + (i * 7919 % 500) as i64, 1 + (i % 5) as u32),
                )
            })
            .collect();
        let duration = SimDuration::from_secs(25 * 60);
        let here = through(
            LatencyFeed::Here(Box::new(Latencies::new(2))),
            &completions,
            duration,
        );
        let away = on_own_thread(2, |feed| through(feed, &completions, duration));
        assert_eq!(here.1, away.1);
        assert_eq!(here.1.len(), 25, "a row per minute of the run");
        let samples = |r: &Results| {
            let mut all = vec![&r.ttft, &r.tpot, &r.e2e, &r.queue];
            for s in &r.servings {
                all.extend([&s.ttft, &s.tpot, &s.e2e]);
            }
            all.into_iter().cloned().collect::<Vec<_>>()
        };
        assert_eq!(samples(&here.0), samples(&away.0));
        assert_eq!(here.0.ttft.len(), completions.len() as u64);
        let with_tpot = completions.iter().filter(|(_, t)| t.output_tokens > 1);
        assert_eq!(here.0.tpot.len(), with_tpot.count() as u64);
        let first = completions.iter().filter(|(s, _)| *s == 0).count();
        assert_eq!(here.0.servings[0].ttft.len(), first as u64);
    }

    #[test]
    fn minutes_close_in_order_and_a_late_completion_joins_the_open_one() {
        let completions = [
            (0, timing(30.0, 100, 3)),
            // Minute 3 opens; minutes 1 and 2 get empty rows.
            (0, timing(200.0, 300, 3)),
            // Ended in minute 2 but handed over after minute 3 opened (one server step).
            (1, timing(170.0, 500, 3)),
        ];
        let (_, rows) = through(
            LatencyFeed::Here(Box::new(Latencies::new(2))),
            &completions,
            SimDuration::from_secs(5 * 60),
        );
        let counts: Vec<usize> = rows.iter().map(|r| r.completed).collect();
        assert_eq!(counts, [1, 0, 0, 2, 0]);
        assert_eq!(rows[3].start, SimTime::ZERO + MINUTE * 3);
        assert_eq!(
            rows[3].ttft.0,
            Some(400_000.0),
            "median of 300 and 500 ms, in µs"
        );
        assert_eq!(rows[1].ttft, (None, None));
    }
}
