//! The closed-loop clients of the workload: which stream each client belongs to, and for a
//! client, the request it sends now and when it sends its next one. The world schedules the
//! sends as events and tells this component when a client's request has ended; the
//! component does not route, queue, count outcomes or read the event queue.
//!
//! Clients are numbered across the closed-loop streams in the order they are listed, and
//! within a stream from 0 to its concurrency − 1.

use super::ids::ClientIdx;
use crate::sim::{SimDuration, SimTime};
use crate::workload::{ClosedLoop, Request};

#[derive(Debug, Default)]
pub struct Clients {
    streams: Vec<ClosedLoop>,
    /// The stream of each client.
    stream_of: Vec<u32>,
}

impl Clients {
    pub fn new(streams: Vec<ClosedLoop>) -> Self {
        let stream_of = (streams.iter().enumerate())
            .flat_map(|(i, s)| std::iter::repeat_n(i as u32, s.concurrency() as usize))
            .collect();
        Clients { streams, stream_of }
    }

    /// The clients that send a request at the start of the run, in client order: every
    /// client of a stream without `requests`, and of one with `requests`, as many as it has
    /// requests.
    pub fn start(&mut self) -> Vec<ClientIdx> {
        let mut starting = Vec::new();
        for (i, &s) in self.stream_of.iter().enumerate() {
            if self.streams[s as usize].claim() {
                starting.push(ClientIdx::new(i));
            }
        }
        starting
    }

    /// The request client `c` sends at `now`.
    pub fn request(&mut self, c: ClientIdx, now: SimTime) -> Request {
        self.stream(c).request(now)
    }

    /// When client `c`, whose request ended at `at`, sends its next one: after its think
    /// time, or never once its stream has sent all of its `requests` (no think time is then
    /// drawn).
    pub fn next_send(&mut self, c: ClientIdx, at: SimTime) -> Option<SimTime> {
        let stream = self.stream(c);
        if !stream.claim() {
            return None;
        }
        let think: SimDuration = stream.think_time();
        Some(at.saturating_add(think))
    }

    fn stream(&mut self, c: ClientIdx) -> &mut ClosedLoop {
        &mut self.streams[self.stream_of[c.index()] as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::{LengthDistribution, ThinkTime};

    fn stream(concurrency: u32, requests: Option<u64>, think_s: i64) -> ClosedLoop {
        ClosedLoop::new(
            1,
            None,
            concurrency,
            requests,
            ThinkTime::Constant(SimDuration::from_secs(think_s)),
            LengthDistribution::Constant(10),
            LengthDistribution::Constant(20),
            None,
        )
    }

    #[test]
    fn clients_are_numbered_across_streams_and_start_within_their_requests() {
        let mut c = Clients::new(vec![stream(3, None, 1), stream(4, Some(2), 5)]);
        let starting: Vec<usize> = c.start().iter().map(|c| c.index()).collect();
        assert_eq!(starting, [0, 1, 2, 3, 4]);
        let t = SimTime::from_secs(10);
        // Client 1 (first stream) thinks 1 s and never runs out.
        assert_eq!(
            c.next_send(ClientIdx::new(1), t),
            Some(SimTime::from_secs(11))
        );
        // The second stream's 2 requests went at the start: its clients stop.
        assert_eq!(c.next_send(ClientIdx::new(3), t), None);
        let r = c.request(ClientIdx::new(4), t);
        assert_eq!((r.arrival, r.input_tokens, r.output_tokens), (t, 10, 20));
    }
}
