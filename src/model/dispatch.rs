//! Dispatch: which ready server takes each request, and where requests wait when none can.
//! It owns the router (its policy, turn and `routing` stream), the router queue of new
//! requests waiting for an entry server (with their queue timeouts' bookkeeping), the decode
//! queue of prefilled requests waiting for a decode server, and each serving's relative
//! speed for fair load comparison.
//!
//! It reads the ready servers through [`Endpoints`] and the requests through the
//! [`RequestTable`]; it does not hand requests to servers (the world does, with the pair it
//! returns), change units or schedule events.

use std::collections::VecDeque;

use super::ids::{ServingIdx, SlotId, UnitId};
use super::requests::{RequestTable, Ticket};
use super::router::{Candidate, Router};
use super::server::{Server, ServerParams};
use super::servings::UnitKind;
use crate::sim::SimTime;

/// The ready servers as routing sees them.
pub trait Endpoints {
    /// Calls `f` with every ready server, in creation order.
    fn for_each_ready(&self, f: impl FnMut(UnitId, UnitKind, ServingIdx, &Server));
}

/// New requests go to servers that serve whole requests or prefill.
const ENTRY: [UnitKind; 2] = [UnitKind::Serve, UnitKind::Prefill];

pub struct Dispatch {
    router: Router,
    /// New requests waiting for an entry server, oldest first. A timed-out request stays
    /// until it reaches the front, where it is skipped.
    router_queue: VecDeque<Ticket>,
    /// Per slot: its request waits in `router_queue`.
    queued: Vec<bool>,
    /// The requests waiting in `router_queue`.
    waiting: usize,
    /// Prefilled requests waiting for a ready decode server, oldest first.
    decode_queue: VecDeque<Ticket>,
    /// Per serving: relative decode throughput, for fair routing in mixed pools.
    speeds: Vec<f64>,
    /// Reused by every pick.
    cands: Vec<Candidate>,
}

impl Dispatch {
    /// Dispatch by `router` over servings whose servers have `params`.
    pub fn new<'a>(router: Router, params: impl IntoIterator<Item = &'a ServerParams>) -> Self {
        Dispatch {
            router,
            router_queue: VecDeque::new(),
            queued: Vec::new(),
            waiting: 0,
            decode_queue: VecDeque::new(),
            speeds: params.into_iter().map(decode_speed).collect(),
            cands: Vec::new(),
        }
    }

    /// The requests waiting in the router queue.
    pub fn waiting(&self) -> usize {
        self.waiting
    }

    /// The entry server for a new request, if one is ready.
    pub fn pick_entry(&mut self, ends: &impl Endpoints, now: SimTime) -> Option<UnitId> {
        self.candidates(ends, &ENTRY, None, now);
        self.router.pick(&self.cands)
    }

    /// No entry server was ready for request `t`: it waits in the router queue.
    pub fn enqueue(&mut self, t: Ticket) {
        self.router_queue.push_back(t);
        self.set_queued(t.slot, true);
        self.waiting += 1;
    }

    /// Request `t`'s queue timeout: whether it was still waiting (it then leaves the queue).
    pub fn time_out(&mut self, t: Ticket, requests: &RequestTable) -> bool {
        if requests.live(t).is_some() && self.is_queued(t.slot) {
            self.set_queued(t.slot, false);
            self.waiting -= 1;
            true
        } else {
            false
        }
    }

    /// The oldest waiting request and the entry server that takes it, if one is ready; the
    /// request leaves the queue.
    pub fn next_queued(
        &mut self,
        requests: &RequestTable,
        ends: &impl Endpoints,
        now: SimTime,
    ) -> Option<(SlotId, UnitId)> {
        while self.waiting > 0 {
            let &t = self.router_queue.front()?;
            if requests.live(t).is_none() || !self.is_queued(t.slot) {
                self.router_queue.pop_front();
                continue;
            }
            self.candidates(ends, &ENTRY, None, now);
            let unit = self.router.pick(&self.cands)?;
            self.router_queue.pop_front();
            self.waiting -= 1;
            self.set_queued(t.slot, false);
            return Some((t.slot, unit));
        }
        None
    }

    /// The decode server of serving `serving` for prefilled request `t`, if one is ready;
    /// otherwise the request waits in the decode queue.
    pub fn place_prefilled(
        &mut self,
        t: Ticket,
        serving: ServingIdx,
        ends: &impl Endpoints,
        now: SimTime,
    ) -> Option<UnitId> {
        self.candidates(ends, &[UnitKind::Decode], Some(serving), now);
        let unit = self.router.pick(&self.cands);
        if unit.is_none() {
            self.decode_queue.push_back(t);
        }
        unit
    }

    /// The oldest prefilled request waiting and the decode server that takes it, if one of
    /// its serving is ready; the request leaves the queue.
    pub fn next_prefilled(
        &mut self,
        requests: &RequestTable,
        ends: &impl Endpoints,
        now: SimTime,
    ) -> Option<(SlotId, UnitId)> {
        while let Some(&t) = self.decode_queue.front() {
            let Some(r) = requests.live(t) else {
                self.decode_queue.pop_front();
                continue;
            };
            let serving = r
                .decode_serving
                .expect("a prefilled request has a decode serving");
            self.candidates(ends, &[UnitKind::Decode], Some(serving), now);
            let unit = self.router.pick(&self.cands)?;
            self.decode_queue.pop_front();
            return Some((t.slot, unit));
        }
        None
    }

    /// The ready servers of `kinds` (of `serving`, if given) in creation order: those that
    /// may take a request now. Their KV usage only if the router looks at it (0 otherwise).
    fn candidates(
        &mut self,
        ends: &impl Endpoints,
        kinds: &[UnitKind],
        serving: Option<ServingIdx>,
        now: SimTime,
    ) {
        let kv_usage = self.router.uses_kv_usage();
        let (cands, speeds) = (&mut self.cands, &self.speeds);
        cands.clear();
        ends.for_each_ready(|id, kind, s, server| {
            if kinds.contains(&kind) && serving.is_none_or(|x| x == s) {
                let kv_usage = if kv_usage {
                    let cap = server.kv_capacity().max(1);
                    server.kv_used_tokens(now) as f64 / cap as f64
                } else {
                    0.0
                };
                cands.push(Candidate {
                    server: id,
                    load: server.waiting() + server.running(),
                    speed: speeds[s.index()],
                    kv_usage,
                });
            }
        });
    }

    fn is_queued(&self, slot: SlotId) -> bool {
        self.queued.get(slot.index()).copied().unwrap_or(false)
    }

    fn set_queued(&mut self, slot: SlotId, queued: bool) {
        if self.queued.len() <= slot.index() {
            self.queued.resize(slot.index() + 1, false);
        }
        self.queued[slot.index()] = queued;
    }
}

/// Tokens per second a server decodes at a reference batch (its `max_num_seqs`, at most 32).
fn decode_speed(p: &ServerParams) -> f64 {
    let batch = p.max_num_seqs.clamp(1, 32);
    f64::from(batch) / (p.base_ms + p.decode_ms(u64::from(batch))).max(1e-9)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::router::RouterPolicy;
    use crate::sim::rng::stream;
    use crate::workload::Request;

    fn params() -> ServerParams {
        ServerParams {
            max_num_seqs: 4,
            max_num_batched_tokens: 512,
            kv_cache_tokens: 10_000,
            base_ms: 10.0,
            per_prefill_token_ms: 0.0,
            per_decode_seq_ms: 1.0,
            per_context_token_ms: 0.0,
            prefill_attention_ms: 0.0,
            request_overhead_ms: 0.0,
            request_overhead_spread_ms: 0.0,
            decode_saturation_seqs: 0.0,
        }
    }

    /// Ready servers for tests: (kind, serving, server) by unit id.
    struct Ready(Vec<(UnitId, UnitKind, ServingIdx, Server)>);

    impl Ready {
        fn add(&mut self, id: usize, kind: UnitKind, serving: usize) {
            let s = Server::new(params(), true);
            self.0
                .push((UnitId::new(id), kind, ServingIdx::new(serving), s));
        }
    }

    impl Endpoints for Ready {
        fn for_each_ready(&self, mut f: impl FnMut(UnitId, UnitKind, ServingIdx, &Server)) {
            for (id, kind, s, server) in &self.0 {
                f(*id, *kind, *s, server);
            }
        }
    }

    fn dispatch() -> Dispatch {
        let p = params();
        Dispatch::new(
            Router::new(RouterPolicy::RoundRobin, stream(1, "routing")),
            [&p, &p],
        )
    }

    fn arrive(t: &mut RequestTable) -> SlotId {
        let r = Request {
            arrival: SimTime::ZERO,
            input_tokens: 10,
            output_tokens: 5,
        };
        t.admit(SimTime::ZERO, &r)
    }

    #[test]
    fn queued_requests_leave_oldest_first_skipping_timed_out_ones() {
        let (mut d, mut table, mut ready) = (dispatch(), RequestTable::default(), Ready(vec![]));
        let now = SimTime::ZERO;
        assert_eq!(d.pick_entry(&ready, now), None);
        let ids: Vec<SlotId> = (0..3).map(|_| arrive(&mut table)).collect();
        for &id in &ids {
            d.enqueue(table.ticket(id));
        }
        assert_eq!(d.waiting(), 3);
        assert!(d.time_out(table.ticket(ids[0]), &table));
        assert!(!d.time_out(table.ticket(ids[0]), &table), "only once");
        table.release(ids[0]);
        assert_eq!(d.waiting(), 2);
        assert_eq!(d.next_queued(&table, &ready, now), None, "no server yet");
        ready.add(0, UnitKind::Serve, 0);
        ready.add(1, UnitKind::Decode, 0);
        ready.add(2, UnitKind::Prefill, 1);
        // Round robin over the entry servers 0 and 2, the decode server aside.
        let served: Vec<_> = std::iter::from_fn(|| d.next_queued(&table, &ready, now)).collect();
        assert_eq!(served, [(ids[1], UnitId::new(0)), (ids[2], UnitId::new(2))]);
        assert_eq!(d.waiting(), 0);
        // A served request's timeout comes to nothing.
        assert!(!d.time_out(table.ticket(ids[1]), &table));
    }

    #[test]
    fn a_timed_out_slot_reused_by_a_waiting_request_is_not_skipped() {
        let (mut d, mut table, mut ready) = (dispatch(), RequestTable::default(), Ready(vec![]));
        let now = SimTime::ZERO;
        let a = arrive(&mut table);
        d.enqueue(table.ticket(a));
        assert!(d.time_out(table.ticket(a), &table));
        table.release(a);
        let b = arrive(&mut table);
        assert_eq!(a, b, "the slot is reused");
        d.enqueue(table.ticket(b));
        ready.add(4, UnitKind::Serve, 0);
        // The stale entry goes first, then the new request is served.
        assert_eq!(
            d.next_queued(&table, &ready, now),
            Some((b, UnitId::new(4)))
        );
        assert_eq!(d.next_queued(&table, &ready, now), None);
    }

    #[test]
    fn prefilled_requests_wait_for_a_decode_server_of_their_serving() {
        let (mut d, mut table, mut ready) = (dispatch(), RequestTable::default(), Ready(vec![]));
        let now = SimTime::ZERO;
        let (a, b) = (arrive(&mut table), arrive(&mut table));
        for id in [a, b] {
            table.get_mut(id).decode_serving = Some(ServingIdx::new(1));
        }
        ready.add(0, UnitKind::Decode, 0);
        let s1 = ServingIdx::new(1);
        assert_eq!(d.place_prefilled(table.ticket(a), s1, &ready, now), None);
        assert_eq!(d.place_prefilled(table.ticket(b), s1, &ready, now), None);
        table.release(a);
        assert_eq!(
            d.next_prefilled(&table, &ready, now),
            None,
            "serving 0's only"
        );
        ready.add(3, UnitKind::Decode, 1);
        assert_eq!(
            d.next_prefilled(&table, &ready, now),
            Some((b, UnitId::new(3)))
        );
        assert_eq!(d.next_prefilled(&table, &ready, now), None);
    }
}
