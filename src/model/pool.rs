//! The GPU pool: per accelerator type with a capacity, its GPUs in all and in use, the units
//! pending for lack of them (first come, first placed), and the node provisioning in flight.
//! Accelerator types without a capacity are unlimited and not in the pool.
//!
//! It decides which pending units fit and when to ask for more nodes; it does not start
//! units, schedule events or report (the world does, with what it returns).

use std::collections::{BTreeMap, VecDeque};

use super::ids::{AcceleratorIdx, UnitId};
use super::spec::{Capacity, Provisioning};
use crate::sim::SimDuration;

struct Accelerator {
    name: String,
    total: u32,
    used: u32,
    /// Units waiting for GPUs, with how many each needs.
    pending: VecDeque<(UnitId, u32)>,
    provisioning: Option<Provisioning>,
    provisioning_in_flight: bool,
}

/// Where a new unit goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Its GPUs are taken: it may start.
    Placed,
    /// It waits; `first` when no unit of the run waited before.
    Queued { first: bool },
}

#[derive(Default)]
pub struct AcceleratorPool {
    accelerators: Vec<Accelerator>,
    /// Units that had to wait for GPUs, over the run.
    queued_total: u64,
}

impl AcceleratorPool {
    /// The pool of `capacity`, in name order.
    pub fn new(capacity: &BTreeMap<String, Capacity>) -> Self {
        AcceleratorPool {
            accelerators: capacity
                .iter()
                .map(|(name, c)| Accelerator {
                    name: name.clone(),
                    total: c.gpus,
                    used: 0,
                    pending: VecDeque::new(),
                    provisioning: c.provisioning.clone(),
                    provisioning_in_flight: false,
                })
                .collect(),
            queued_total: 0,
        }
    }

    /// The accelerator type `name`, if it has a capacity.
    pub fn find(&self, name: &str) -> Option<AcceleratorIdx> {
        (self.accelerators.iter())
            .position(|a| a.name == name)
            .map(AcceleratorIdx::new)
    }

    pub fn name(&self, a: AcceleratorIdx) -> &str {
        &self.accelerators[a.index()].name
    }

    /// GPUs in use and in all.
    pub fn usage(&self, a: AcceleratorIdx) -> (u32, u32) {
        let acc = &self.accelerators[a.index()];
        (acc.used, acc.total)
    }

    /// Units that had to wait for GPUs, over the run.
    pub fn queued_total(&self) -> u64 {
        self.queued_total
    }

    /// A new unit needing `gpus`: placed if nobody waits before it and they are free,
    /// otherwise queued.
    pub fn place(&mut self, a: AcceleratorIdx, unit: UnitId, gpus: u32) -> Placement {
        let acc = &mut self.accelerators[a.index()];
        if acc.pending.is_empty() && acc.used + gpus <= acc.total {
            acc.used += gpus;
            Placement::Placed
        } else {
            acc.pending.push_back((unit, gpus));
            let first = self.queued_total == 0;
            self.queued_total += 1;
            Placement::Queued { first }
        }
    }

    /// The next pending unit, in order, if its GPUs fit now: they are taken for it.
    pub fn admit_next(&mut self, a: AcceleratorIdx) -> Option<UnitId> {
        let acc = &mut self.accelerators[a.index()];
        let &(unit, gpus) = acc.pending.front()?;
        if acc.used + gpus > acc.total {
            return None;
        }
        acc.used += gpus;
        acc.pending.pop_front();
        Some(unit)
    }

    pub fn has_pending(&self, a: AcceleratorIdx) -> bool {
        !self.accelerators[a.index()].pending.is_empty()
    }

    /// A pending unit is removed before it got GPUs.
    pub fn withdraw(&mut self, a: AcceleratorIdx, unit: UnitId) {
        self.accelerators[a.index()]
            .pending
            .retain(|&(u, _)| u != unit);
    }

    /// A placed unit gives its `gpus` back.
    pub fn release(&mut self, a: AcceleratorIdx, gpus: u32) {
        let acc = &mut self.accelerators[a.index()];
        acc.used = acc.used.saturating_sub(gpus);
    }

    /// Asks for a node unless one is on its way or the maximum is reached: the delay until
    /// it comes, when asked.
    pub fn request_node(&mut self, a: AcceleratorIdx) -> Option<SimDuration> {
        let acc = &mut self.accelerators[a.index()];
        let p = acc.provisioning.as_ref()?;
        if acc.provisioning_in_flight || acc.total >= p.max_gpus {
            return None;
        }
        acc.provisioning_in_flight = true;
        Some(p.delay)
    }

    /// The node asked for arrives: the capacity now.
    pub fn node_added(&mut self, a: AcceleratorIdx) -> Option<u32> {
        let acc = &mut self.accelerators[a.index()];
        let p = acc.provisioning.as_ref()?;
        acc.provisioning_in_flight = false;
        acc.total = (acc.total + p.step_gpus).min(p.max_gpus);
        Some(acc.total)
    }

    /// A node of `gpus` leaves (its units' GPUs were released before): the capacity now.
    pub fn node_lost(&mut self, a: AcceleratorIdx, gpus: u32) -> u32 {
        let acc = &mut self.accelerators[a.index()];
        acc.total = acc.total.saturating_sub(gpus);
        acc.total
    }

    /// A replacement node of `gpus` joins: the capacity now.
    pub fn node_recovered(&mut self, a: AcceleratorIdx, gpus: u32) -> u32 {
        let acc = &mut self.accelerators[a.index()];
        acc.total = acc.total.saturating_add(gpus);
        acc.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(gpus: u32, provisioning: Option<Provisioning>) -> (AcceleratorPool, AcceleratorIdx) {
        let capacity = BTreeMap::from([("h100".to_string(), Capacity { gpus, provisioning })]);
        let p = AcceleratorPool::new(&capacity);
        let a = p.find("h100").expect("listed");
        assert_eq!(p.find("a100"), None);
        (p, a)
    }

    fn u(i: usize) -> UnitId {
        UnitId::new(i)
    }

    #[test]
    fn pending_units_are_placed_in_order_once_their_gpus_fit() {
        let (mut p, a) = pool(4, None);
        assert_eq!(p.place(a, u(0), 2), Placement::Placed);
        assert_eq!(p.place(a, u(1), 4), Placement::Queued { first: true });
        // Fits, but waits behind unit 1: first come, first placed.
        assert_eq!(p.place(a, u(2), 1), Placement::Queued { first: false });
        assert_eq!(p.admit_next(a), None);
        p.release(a, 2);
        assert_eq!(p.admit_next(a), Some(u(1)));
        assert_eq!(p.admit_next(a), None, "unit 2 waits for unit 1's GPUs back");
        assert_eq!(p.usage(a), (4, 4));
        p.release(a, 4);
        assert_eq!(p.admit_next(a), Some(u(2)));
        assert!(!p.has_pending(a));
        assert_eq!(p.queued_total(), 2);
    }

    #[test]
    fn a_withdrawn_unit_no_longer_waits() {
        let (mut p, a) = pool(1, None);
        assert_eq!(p.place(a, u(0), 1), Placement::Placed);
        p.place(a, u(1), 1);
        p.place(a, u(2), 1);
        p.withdraw(a, u(1));
        p.release(a, 1);
        assert_eq!(p.admit_next(a), Some(u(2)));
    }

    #[test]
    fn one_node_at_a_time_is_provisioned_up_to_the_maximum() {
        let provisioning = Provisioning {
            delay: SimDuration::from_secs(120),
            step_gpus: 3,
            max_gpus: 8,
        };
        let (mut p, a) = pool(4, Some(provisioning));
        assert_eq!(p.request_node(a), Some(SimDuration::from_secs(120)));
        assert_eq!(p.request_node(a), None, "one in flight");
        assert_eq!(p.node_added(a), Some(7));
        assert_eq!(p.request_node(a), Some(SimDuration::from_secs(120)));
        assert_eq!(p.node_added(a), Some(8), "capped at the maximum");
        assert_eq!(p.request_node(a), None, "at the maximum");
        let (mut fixed, f) = pool(4, None);
        assert_eq!(fixed.request_node(f), None);
        assert_eq!(fixed.node_added(f), None);
    }

    #[test]
    fn nodes_come_and_go() {
        let (mut p, a) = pool(8, None);
        assert_eq!(p.node_lost(a, 3), 5);
        assert_eq!(p.node_lost(a, 9), 0);
        assert_eq!(p.node_recovered(a, 3), 3);
        assert_eq!(p.name(a), "h100");
    }
}
