//! Workload generation on its own thread: a producer pulls the requests of a source ahead of
//! the simulation and hands them over in batches through a bounded channel, so that drawing
//! arrivals and token lengths (a tenth of a long run's time) overlaps the event loop.
//!
//! The simulation sees exactly the requests, errors and end it would have pulled itself: the
//! producer stops after the first request beyond `until` (the last one a simulation pulls,
//! see [`read_ahead`]), at the source's end or at its first error, so a trace has read the
//! same rows either way and its tallies ([`RequestSource::traces`]) are the same.

use std::sync::mpsc::{sync_channel, Receiver};

use super::{BoxedSource, Request, RequestSource, WorkloadError};
use crate::sim::SimTime;

/// Requests per batch: large enough that the channel costs nothing per request.
const BATCH: usize = 1024;
/// Batches the producer may run ahead.
const BATCHES_AHEAD: usize = 8;

type Pulled = Result<Option<Request>, WorkloadError>;

/// Runs `simulate` with a source fed by a producer thread that pulls `source` ahead, until the
/// first request arriving after `until` — a simulation ending at `until` pulls no further.
/// Returns what `simulate` returned and `source` itself, whose [`RequestSource::traces`] are
/// then those of the requests pulled (the feed given to `simulate` reports none).
pub fn read_ahead<T>(
    mut source: BoxedSource,
    until: SimTime,
    simulate: impl FnOnce(BoxedSource) -> T,
) -> (T, BoxedSource) {
    let (tx, rx) = sync_channel::<Vec<Pulled>>(BATCHES_AHEAD);
    std::thread::scope(|scope| {
        let producer = scope.spawn(move || {
            loop {
                let mut batch = Vec::with_capacity(BATCH);
                let mut last = false;
                while !last && batch.len() < BATCH {
                    let pulled = source.next_request();
                    last = !matches!(&pulled, Ok(Some(r)) if r.arrival <= until);
                    batch.push(pulled);
                }
                // A send fails once the simulation is over (ended early, say): stop too.
                if tx.send(batch).is_err() || last {
                    break;
                }
            }
            source
        });
        let feed = Feed {
            batch: Vec::new().into_iter(),
            rx,
        };
        let out = simulate(Box::new(feed));
        // `simulate` has dropped the feed and its receiver: the producer is not blocked.
        let source = producer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (out, source)
    })
}

/// The simulation's end of the channel.
struct Feed {
    batch: std::vec::IntoIter<Pulled>,
    rx: Receiver<Vec<Pulled>>,
}

impl RequestSource for Feed {
    fn next_request(&mut self) -> Result<Option<Request>, WorkloadError> {
        loop {
            if let Some(pulled) = self.batch.next() {
                return pulled;
            }
            match self.rx.recv() {
                Ok(batch) => self.batch = batch.into_iter(),
                // The producer stopped after what ends the stream: nothing comes after it.
                Err(_) => return Ok(None),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::SimDuration;

    /// A source of `n` requests one second apart, counting its pulls.
    struct Counted {
        n: u64,
        pulled: u64,
    }

    impl RequestSource for Counted {
        fn next_request(&mut self) -> Result<Option<Request>, WorkloadError> {
            if self.pulled == self.n {
                return Ok(None);
            }
            self.pulled += 1;
            Ok(Some(Request {
                arrival: SimTime::ZERO + SimDuration::from_secs(self.pulled as i64),
                input_tokens: 1,
                output_tokens: 1,
            }))
        }
    }

    fn drain(feed: &mut dyn RequestSource, until: SimTime) -> Vec<i64> {
        let mut seen = Vec::new();
        while let Ok(Some(r)) = feed.next_request() {
            seen.push(r.arrival.as_micros() / 1_000_000);
            if r.arrival > until {
                break;
            }
        }
        seen
    }

    #[test]
    fn the_feed_gives_the_sources_requests_and_the_producer_pulls_no_further() {
        for (n, until_s) in [
            (5_000u64, 3_000i64),
            (5_000, 10_000),
            (0, 10),
            (2_048, 2_047),
        ] {
            let until = SimTime::ZERO + SimDuration::from_secs(until_s);
            let source: BoxedSource = Box::new(Counted { n, pulled: 0 });
            let (seen, _) = read_ahead(source, until, |mut feed| drain(&mut *feed, until));
            let mut direct = Counted { n, pulled: 0 };
            assert_eq!(seen, drain(&mut direct, until), "n {n} until {until_s}");
            // The producer pulled what the direct reader pulled: no row read beyond.
            let pulled_ahead = {
                let source: BoxedSource = Box::new(Counted { n, pulled: 0 });
                let (_, source) = read_ahead(source, until, |mut feed| drain(&mut *feed, until));
                let mut again = source;
                // The next pull continues where the producer stopped.
                again
                    .next_request()
                    .ok()
                    .flatten()
                    .map(|r| r.arrival.as_micros() / 1_000_000)
            };
            let next_direct = direct.next_request().ok().flatten();
            assert_eq!(
                pulled_ahead,
                next_direct.map(|r| r.arrival.as_micros() / 1_000_000)
            );
        }
    }

    #[test]
    fn a_simulation_that_stops_early_stops_the_producer() {
        let until = SimTime::MAX;
        let source: BoxedSource = Box::new(Counted {
            n: u64::MAX,
            pulled: 0,
        });
        let (first, _) = read_ahead(source, until, |mut feed| feed.next_request().ok().flatten());
        assert_eq!(first.map(|r| r.arrival.as_micros()), Some(1_000_000));
    }
}
