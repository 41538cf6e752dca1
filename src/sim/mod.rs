//! The generic discrete-event core: integer simulated time, an event queue that keeps
//! simultaneous events in a fixed order, and seeded named random streams. Knows nothing of
//! LLMs or Kubernetes.

pub mod cancel;
pub mod queue;
pub mod rng;
pub mod sketch;
pub mod time;

pub use queue::EventQueue;
pub use time::{SimDuration, SimTime, MICROS_PER_MS, MICROS_PER_SEC};
