//! Kthena's autoscaling custom resources as the engine receives them: value formats
//! (durations, quantities), the stored policy types, and the defaulting the API server and
//! the mutating webhook apply (engine.md §1-§2); and [`manifest`], which reads real manifests,
//! checks them as the API server and Kthena's validating webhooks would, and yields [`Policy`]
//! values.

pub mod defaults;
mod duration;
mod field;
pub mod manifest;
mod quantity;
pub mod spec;
mod types;
mod validation;

pub use duration::{Duration, DurationError};
pub use quantity::{Quantity, QuantityError};
pub use types::*;
