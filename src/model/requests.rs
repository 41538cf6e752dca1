//! The request table: every request in flight, in a slot that is reused once the request is
//! done. It owns the requests' lengths, timings so far, the server they were last given to
//! and the closed-loop client that sent them, and the slots' generations and liveness.
//!
//! Events and queues that outlive a request hold a [`Ticket`] (slot + generation), and
//! [`RequestTable::live`] is the one check that a ticket still names the request it was
//! taken for. The table does not route, queue or count outcomes.

use super::ids::{ClientIdx, ServingIdx, SlotId, UnitId};
use crate::sim::{SimDuration, SimTime};
use crate::workload::Request;

/// A request in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Req {
    pub arrival: SimTime,
    pub input: u32,
    pub output: u32,
    /// The server it was last given to.
    pub unit: Option<UnitId>,
    /// Its first admission into a running batch (queue time ends there).
    pub first_admit: Option<SimTime>,
    pub first_token: Option<SimTime>,
    /// The serving whose decode role takes it after prefill (disaggregated servings).
    pub decode_serving: Option<ServingIdx>,
    /// The closed-loop client that sent it and waits for its end; `None` for an open-loop
    /// request.
    pub client: Option<ClientIdx>,
}

impl Req {
    /// Time to first token. The servers report a request's first token before it finishes
    /// (a transferred request's came from its prefill server), so it is known whenever this
    /// is asked.
    pub fn ttft(&self) -> SimDuration {
        self.first_token
            .expect("the first token comes before the end")
            - self.arrival
    }

    /// Time from arrival to first admission, asked of completed requests (always admitted).
    pub fn queue_time(&self) -> SimDuration {
        self.first_admit.expect("a completed request was admitted") - self.arrival
    }
}

/// Names a request across its slot's reuse: a stale ticket's generation no longer matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket {
    pub slot: SlotId,
    generation: u32,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    req: Req,
    generation: u32,
    live: bool,
}

#[derive(Debug, Default)]
pub struct RequestTable {
    slots: Vec<Slot>,
    /// Done slots, reused last-freed first.
    free: Vec<SlotId>,
}

impl RequestTable {
    /// A slot for request `r`, arrived `now`.
    pub fn admit(&mut self, now: SimTime, r: &Request) -> SlotId {
        let req = Req {
            arrival: now,
            input: r.input_tokens,
            output: r.output_tokens,
            unit: None,
            first_admit: None,
            first_token: None,
            decode_serving: None,
            client: None,
        };
        match self.free.pop() {
            Some(id) => {
                let slot = &mut self.slots[id.index()];
                *slot = Slot {
                    req,
                    generation: slot.generation.wrapping_add(1),
                    live: true,
                };
                id
            }
            None => {
                self.slots.push(Slot {
                    req,
                    generation: 0,
                    live: true,
                });
                SlotId::new(self.slots.len() - 1)
            }
        }
    }

    /// The request of slot `id` is done: the slot may be reused.
    pub fn release(&mut self, id: SlotId) {
        self.slots[id.index()].live = false;
        self.free.push(id);
    }

    /// A ticket for the request now in slot `id`.
    pub fn ticket(&self, id: SlotId) -> Ticket {
        Ticket {
            slot: id,
            generation: self.slots[id.index()].generation,
        }
    }

    /// The request `t` was taken for, if it is still in flight.
    pub fn live(&self, t: Ticket) -> Option<&Req> {
        let s = &self.slots[t.slot.index()];
        (s.live && s.generation == t.generation).then_some(&s.req)
    }

    /// The request in slot `id` (in flight, or the last one it held).
    pub fn get(&self, id: SlotId) -> &Req {
        &self.slots[id.index()].req
    }

    pub fn get_mut(&mut self, id: SlotId) -> &mut Req {
        &mut self.slots[id.index()].req
    }

    /// The slots of the requests in flight, in slot order.
    pub fn live_slots(&self) -> impl Iterator<Item = SlotId> + '_ {
        (self.slots.iter().enumerate())
            .filter(|(_, s)| s.live)
            .map(|(i, _)| SlotId::new(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(input: u32) -> Request {
        Request {
            arrival: SimTime::ZERO,
            input_tokens: input,
            output_tokens: 5,
        }
    }

    #[test]
    fn a_reused_slot_makes_the_old_ticket_stale() {
        let mut t = RequestTable::default();
        let a = t.admit(SimTime::from_secs(1), &request(10));
        let b = t.admit(SimTime::from_secs(2), &request(20));
        assert_ne!(a, b);
        let old = t.ticket(a);
        assert_eq!(t.live(old).map(|r| r.input), Some(10));
        t.release(a);
        assert_eq!(t.live(old), None, "done");
        // The freed slot comes back for the next request, under a new generation.
        let c = t.admit(SimTime::from_secs(3), &request(30));
        assert_eq!(c, a);
        assert_eq!(t.live(old), None, "another request now holds the slot");
        assert_eq!(t.live(t.ticket(c)).map(|r| r.input), Some(30));
        assert_eq!(t.live_slots().collect::<Vec<_>>(), [a, b]);
    }

    #[test]
    fn freed_slots_are_reused_last_freed_first() {
        let mut t = RequestTable::default();
        let ids: Vec<SlotId> = (0..3)
            .map(|i| t.admit(SimTime::ZERO, &request(i)))
            .collect();
        t.release(ids[0]);
        t.release(ids[2]);
        assert_eq!(t.admit(SimTime::ZERO, &request(9)), ids[2]);
        assert_eq!(t.admit(SimTime::ZERO, &request(9)), ids[0]);
        assert_eq!(t.admit(SimTime::ZERO, &request(9)), SlotId::new(3));
    }

    #[test]
    fn a_new_request_starts_with_no_timings() {
        let mut t = RequestTable::default();
        let id = t.admit(SimTime::from_secs(4), &request(7));
        let r = t.get_mut(id);
        assert_eq!((r.unit, r.first_admit, r.first_token), (None, None, None));
        r.first_admit = Some(SimTime::from_secs(5));
        r.first_token = Some(SimTime::from_secs(6));
        assert_eq!(t.get(id).queue_time(), SimDuration::from_secs(1));
        assert_eq!(t.get(id).ttft(), SimDuration::from_secs(2));
    }
}
