//! Replaying recorded metric ticks through either engine version: the golden-vector format
//! of Kthena's own decisions doubles as a user format for "what would this policy have done
//! on what my cluster saw?".

pub mod check;
pub mod world;

use serde_json::{json, Value};

use crate::engine::{Autoscaler, Decision, EngineVersion, UnixMillis};
use crate::golden::format::Line;
use world::{build_policy, ReplayError, TickCluster};

/// Whether the line may be replayed with `version` (absent `validFor`: any).
pub fn valid_for(line: &Line, version: EngineVersion) -> bool {
    line.valid_for
        .as_ref()
        .is_none_or(|v| v.iter().any(|s| s.parse::<EngineVersion>() == Ok(version)))
}

/// Runs every tick of the line through a fresh engine: one decision per tick.
pub fn replay(line: &Line, version: EngineVersion) -> Result<Vec<Decision>, ReplayError> {
    let (policy, units) = build_policy(&line.scenario, version)?;
    let policies = [policy];
    let mut engine = Autoscaler::new(version);
    line.scenario
        .ticks
        .iter()
        .enumerate()
        .map(|(i, tick)| {
            let cluster = TickCluster::new(tick, &units, i)?;
            let mut d = engine.reconcile(UnixMillis::from_millis(tick.t), &policies, &cluster);
            Ok(d.remove(0))
        })
        .collect()
}

/// The output object of one line: `{"id", "ticks": [...]}` or `{"id", "skipped"}`.
pub fn replay_json(
    line: &Line,
    version: EngineVersion,
    with_alg_input: bool,
) -> Result<Value, ReplayError> {
    if !valid_for(line, version) {
        return Ok(json!({"id": line.id, "skipped": format!("not valid for {version}")}));
    }
    let decisions = replay(line, version)?;
    let ticks: Vec<Value> = line
        .scenario
        .ticks
        .iter()
        .zip(&decisions)
        .map(|(t, d)| crate::golden::output::tick_json(t.t, d, with_alg_input))
        .collect();
    Ok(json!({"id": line.id, "ticks": ticks}))
}
