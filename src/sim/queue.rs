//! The event queue: a min-heap ordered by `(time, class, sequence)`. The class fixes the
//! order of different kinds of events at the same instant (documented by the model that
//! uses it); the sequence number keeps equal `(time, class)` events in insertion order.
//!
//! The three are packed into one 128-bit key, compared in a single instruction pair, and
//! the heap is 4-ary: half the levels of a binary heap, and the four children of a node
//! share a cache line or two. Popping moves the hole left by the root down to a leaf along
//! the smallest children, then lifts the last entry from there (Floyd's variant): the last
//! entry is usually among the latest events, so it rarely climbs far.

use super::SimTime;

/// Children per node.
const ARITY: usize = 4;
/// Bits of the sequence number in the key; 2^56 events is beyond any run.
const SEQ_BITS: u32 = 56;

#[derive(Clone, Copy)]
struct Entry<E> {
    key: u128,
    event: E,
}

/// `time` (sign bit flipped, so that the unsigned order is the signed one), then `class`,
/// then `seq`.
fn key(time: SimTime, class: u8, seq: u64) -> u128 {
    let t = (time.as_micros() as u64) ^ (1 << 63);
    (u128::from(t) << 64) | (u128::from(class) << SEQ_BITS) | u128::from(seq)
}

fn time_of(key: u128) -> SimTime {
    SimTime::from_micros((((key >> 64) as u64) ^ (1 << 63)) as i64)
}

/// A future-event list.
pub struct EventQueue<E> {
    heap: Vec<Entry<E>>,
    seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            heap: Vec::new(),
            seq: 0,
        }
    }
}

/// Events are small `Copy` values: entries move through the heap as plain copies.
impl<E: Copy> EventQueue<E> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Schedules `event` at `time`; among events at the same time, lower classes come first.
    pub fn push(&mut self, time: SimTime, class: u8, event: E) {
        self.seq += 1;
        debug_assert!(self.seq < 1 << SEQ_BITS);
        let key = key(time, class, self.seq);
        self.heap.push(Entry { key, event });
        self.sift_up(self.heap.len() - 1);
    }

    /// The earliest event.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let last = self.heap.pop()?;
        if self.heap.is_empty() {
            return Some((time_of(last.key), last.event));
        }
        let top = std::mem::replace(&mut self.heap[0], last);
        self.sift_down_to_bottom();
        Some((time_of(top.key), top.event))
    }

    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.first().map(|e| time_of(e.key))
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Moves the entry at `i` up to its place.
    fn sift_up(&mut self, mut i: usize) {
        let h = &mut self.heap;
        let entry = h[i];
        while i > 0 {
            let parent = (i - 1) / ARITY;
            if h[parent].key <= entry.key {
                break;
            }
            h[i] = h[parent];
            i = parent;
        }
        h[i] = entry;
    }

    /// Moves the root (just replaced by the last entry) down: its hole first goes to a leaf
    /// along the smallest children, then the entry climbs back up to its place.
    fn sift_down_to_bottom(&mut self) {
        let h = &mut self.heap;
        let n = h.len();
        let entry = h[0];
        let mut i = 0;
        loop {
            let first = i * ARITY + 1;
            if first >= n {
                break;
            }
            let end = (first + ARITY).min(n);
            let mut best = first;
            for c in first + 1..end {
                if h[c].key < h[best].key {
                    best = c;
                }
            }
            h[i] = h[best];
            i = best;
        }
        h[i] = entry;
        self.sift_up(i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Events come out by time, then class, then insertion order.
        #[test]
        fn pops_in_time_class_sequence_order(events in prop::collection::vec((0i64..50, 0u8..3), 0..200)) {
            let mut q = EventQueue::new();
            for (i, &(t, c)) in events.iter().enumerate() {
                q.push(SimTime::from_micros(t), c, i);
            }
            let mut expected: Vec<(i64, u8, usize)> = events.iter().enumerate().map(|(i, &(t, c))| (t, c, i)).collect();
            expected.sort();
            let got: Vec<(i64, u8, usize)> = std::iter::from_fn(|| q.pop()).map(|(t, i)| (t.as_micros(), events[i].1, i)).collect();
            prop_assert_eq!(got, expected);
        }

        /// Pushes and pops interleaved, at any time (negative, huge) and class, agree with a
        /// sorted list of the pending events.
        #[test]
        fn interleaved_pushes_and_pops_agree_with_a_sorted_list(
            ops in prop::collection::vec(
                prop_oneof![
                    3 => (prop_oneof![-5i64..5, Just(i64::MIN), Just(i64::MAX), any::<i64>()], any::<u8>()).prop_map(Some),
                    1 => Just(None),
                ],
                0..300,
            )
        ) {
            let mut q = EventQueue::new();
            let mut pending: Vec<(i64, u8, usize)> = Vec::new();
            for (i, op) in ops.into_iter().enumerate() {
                match op {
                    Some((t, c)) => {
                        q.push(SimTime::from_micros(t), c, (i, c));
                        pending.push((t, c, i));
                    }
                    None => {
                        pending.sort();
                        let want = (!pending.is_empty()).then(|| pending.remove(0));
                        let got = q.pop().map(|(t, (i, c))| (t.as_micros(), c, i));
                        prop_assert_eq!(got, want);
                    }
                }
                prop_assert_eq!(q.len(), pending.len());
            }
        }
    }
}
