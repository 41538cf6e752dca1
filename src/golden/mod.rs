//! The golden JSON Lines format (docs/golden-format.md): one line per policy holding the policy as
//! a user writes it, the target, the ticks the controller observed (pods, their metrics,
//! Prometheus values) and the decisions expected of each engine version. Kthena's recorded
//! decisions come in it; `replay` reads it ([`format`]); the simulator's `--engine-log`
//! writes it, with decisions as [`output`] renders them.

pub mod format;
pub mod output;
pub mod record;
