//! The simulated world: inference servers, routing, closed-loop clients, serving groups and
//! pods, GPUs, faults, metrics exposition, and the autoscaler controller in the loop.
//! [`world::World`] runs the event loop and coordinates the components, each of which owns
//! one part of the state.

pub mod autoscalers;
mod clients;
mod dispatch;
pub mod engine_log;
pub mod faults;
pub mod ids;
mod latencies;
mod ledger;
pub mod metrics;
pub mod openmetrics;
mod policies;
mod pool;
pub mod presets;
pub mod prometheus;
pub mod recorder;
mod requests;
pub mod results;
pub mod router;
pub mod server;
pub mod servings;
pub mod spec;
pub mod startup;
pub mod view;
pub mod world;
