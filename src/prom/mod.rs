//! The user's own Prometheus: its HTTP API ([`client`], [`response`]), the series a query
//! selects ([`selector`]), real traffic rebuilt from the vLLM series ([`traffic`]) and the
//! shadow replay of a policy on the metrics Kthena's collector read ([`shadow`]). The
//! simulated Prometheus the engine queries during a run is `model::prometheus`; the run's
//! series go out as OpenMetrics through `model::openmetrics`.

pub mod client;
pub mod response;
pub mod selector;
pub mod shadow;
pub mod shadow_report;
pub mod time;
pub mod traffic;
