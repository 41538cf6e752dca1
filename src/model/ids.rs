//! Typed indices of the simulated world, so that a serving's index is never taken for a
//! server's or a request slot's: each wraps a `u32` (events stay small) and gives its `usize`
//! index into the one table it indexes. Owns no state.

macro_rules! index {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(u32);

        impl $name {
            /// The id of position `i` (tables stay far below `u32::MAX` entries).
            pub fn new(i: usize) -> Self {
                debug_assert!(u32::try_from(i).is_ok());
                $name(i as u32)
            }

            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
    };
}

index!(
    /// A ModelServing: its position in the world's spec.
    ServingIdx
);
index!(
    /// A server (a serving group, or one role instance) and its pods, in creation order; the
    /// id is never reused.
    UnitId
);
index!(
    /// A slot of the request table; reused once its request is done (see `Ticket`).
    SlotId
);
index!(
    /// An accelerator type with a capacity: its position in the accelerator pool.
    AcceleratorIdx
);
index!(
    /// A node loss of the world's spec.
    NodeLossIdx
);
index!(
    /// A policy change of the world's spec.
    PolicyChangeIdx
);
index!(
    /// A closed-loop client, numbered across the workload's closed-loop streams in the order
    /// they are listed.
    ClientIdx
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_their_index_and_order_by_it() {
        assert_eq!(UnitId::new(7).index(), 7);
        assert!(SlotId::new(2) < SlotId::new(10));
        assert_eq!(ServingIdx::new(0), ServingIdx::new(0));
    }
}
