//! `shadow.csv`, written by `kthena-sim replay from-prometheus`: per tick and scaled unit,
//! what the cluster had, what the replayed engine decided and what Prometheus recorded next.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShadowRow {
    /// The tick, RFC 3339 (UTC), and as Unix milliseconds.
    pub time: String,
    pub t_ms: i64,
    /// The unit's key: the ModelServing, or the role.
    pub unit: String,
    /// The spec replicas the controller read.
    pub current: i32,
    /// What the replayed engine wrote (the current count when it wrote nothing).
    pub replayed: i32,
    /// The spec replicas Prometheus recorded at the next tick (empty at the last one).
    pub recorded: Option<i32>,
    pub agree: Option<bool>,
    pub skip: bool,
    pub panic: bool,
    /// The engine's reason for its decision.
    pub reason: String,
    /// Inputs that were stale or missing in Prometheus at this tick, `; `-separated.
    pub stale: String,
}
