//! Kthena's autoscaling custom resources as the engine receives them: value formats
//! (durations, quantities) and the policy types after defaulting (docs/engine.md §3-§4). Reading
//! and validating manifests is [`crate::kthena`]'s job.

mod duration;
mod quantity;
mod types;

pub use duration::{Duration, DurationError};
pub use quantity::{Quantity, QuantityError};
pub use types::*;
