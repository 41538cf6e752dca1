//! The simulated world: inference servers, routing, serving groups and pods, metrics
//! exposition, and the autoscaler controller in the loop.

pub mod engine_log;
pub mod faults;
pub mod metrics;
pub mod presets;
pub mod prometheus;
pub mod results;
pub mod router;
pub mod server;
pub mod spec;
pub mod startup;
pub mod view;
pub mod world;
