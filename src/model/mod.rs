//! The simulated world: inference servers, routing, serving groups and pods, metrics
//! exposition, and the autoscaler controller in the loop.

pub mod metrics;
pub mod router;
pub mod startup;
