//! Kthena's autoscaling custom resources as the engine receives them: value formats
//! (durations, quantities) and the policy types after defaulting (engine.md §1-§2). Reading
//! and validating manifests is [`crate::kthena`]'s job.

mod duration;
mod quantity;
mod types;

pub use duration::{Duration, DurationError};
pub use quantity::{Quantity, QuantityError};
pub use types::*;
