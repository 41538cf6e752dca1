//! Comparing replayed decisions with the expectations a line carries (`expected`, the
//! decisions of Kthena's Go code): the compared fields of docs/golden-format.md §7.5 exactly, and
//! the recommendation inputs (`algInput`) within 1e-9 relative.

use serde_json::Value;

use super::world::ReplayError;
use super::{replay, valid_for};
use crate::engine::EngineVersion;
use crate::golden::format::Line;
use crate::golden::output::tick_json;

const COMPARED: [&str; 7] = [
    "skip",
    "recommended",
    "corrected",
    "replicas",
    "panic",
    "ratioAdjusted",
    "currentRatio",
];
const ROLE_COMPARED: [&str; 3] = ["recommended", "final", "panic"];

/// The compared fields that differ between a replayed tick object and the expected one.
pub fn decision_differences(ours: &Value, expected: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for f in COMPARED {
        if let Some(e) = expected.get(f) {
            let o = ours.get(f).unwrap_or(&Value::Null);
            if o != e {
                out.push(format!("{f}: got {o}, expected {e}"));
            }
        }
    }
    match (expected.get("roles"), ours.get("roles")) {
        (Some(Value::Object(er)), Some(Value::Object(or))) => {
            for (role, e) in er {
                for f in ROLE_COMPARED {
                    let o = or.get(role).and_then(|r| r.get(f)).unwrap_or(&Value::Null);
                    let e = e.get(f).unwrap_or(&Value::Null);
                    if o != e {
                        out.push(format!("roles.{role}.{f}: got {o}, expected {e}"));
                    }
                }
            }
        }
        (Some(e), o) => {
            let o = o.unwrap_or(&Value::Null);
            if o != e {
                out.push(format!("roles: got {o}, expected {e}"));
            }
        }
        _ => {}
    }
    out
}

/// The `algInput` objects of a tick, by field path.
fn alg_inputs(tick: &Value) -> Vec<(String, &Value)> {
    let mut out = Vec::new();
    if let Some(a) = tick.get("algInput") {
        out.push(("algInput".to_string(), a));
    }
    if let Some(Value::Object(roles)) = tick.get("roles") {
        for (r, v) in roles {
            if let Some(a) = v.get("algInput") {
                out.push((format!("roles.{r}.algInput"), a));
            }
        }
    }
    out
}

/// Numbers equal within 1e-9 relative (histogram-derived values); everything else exactly.
fn close(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => x == y || (x - y).abs() <= 1e-9 * x.abs().max(y.abs()),
            _ => x == y,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| close(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| close(v, w)))
        }
        _ => a == b,
    }
}

/// The `algInput` paths whose values differ (only those the expectation records).
pub fn alg_input_differences(ours: &Value, expected: &Value) -> Vec<String> {
    let ours = alg_inputs(ours);
    alg_inputs(expected)
        .into_iter()
        .filter_map(|(path, e)| {
            let o = ours.iter().find(|(p, _)| *p == path).map(|(_, v)| *v);
            match o {
                Some(o) if close(o, e) => None,
                o => Some(format!(
                    "{path}: got {}, expected {e}",
                    o.unwrap_or(&Value::Null)
                )),
            }
        })
        .collect()
}

/// Every difference of one tick, decisions first.
pub fn tick_differences(ours: &Value, expected: &Value) -> Vec<String> {
    let mut d = decision_differences(ours, expected);
    d.extend(alg_input_differences(ours, expected));
    d
}

/// How one line compares with its expectations for an engine version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineCheck {
    /// `validFor` excludes the engine.
    NotValid,
    /// The line records no decisions for the engine.
    NoExpectation,
    /// Replayed and compared: the number of ticks, and the differences of each tick that
    /// disagrees (by tick index).
    Checked {
        ticks: usize,
        mismatches: Vec<(usize, Vec<String>)>,
    },
}

/// Replays `line` with `version` and compares every tick with the recorded expectation.
pub fn check_line(line: &Line, version: EngineVersion) -> Result<LineCheck, ReplayError> {
    if !valid_for(line, version) {
        return Ok(LineCheck::NotValid);
    }
    let Some(expected) = line.expected.get(version.as_str()) else {
        return Ok(LineCheck::NoExpectation);
    };
    let decisions = replay(line, version)?;
    if decisions.len() != expected.len() {
        return Err(ReplayError {
            field: format!("expected.{version}"),
            message: format!(
                "{} expected decisions for {} ticks",
                expected.len(),
                decisions.len()
            ),
        });
    }
    let mismatches = line
        .scenario
        .ticks
        .iter()
        .zip(&decisions)
        .zip(expected)
        .enumerate()
        .filter_map(|(i, ((tick, d), e))| {
            let diff = tick_differences(&tick_json(tick.t, d, true), e);
            (!diff.is_empty()).then_some((i, diff))
        })
        .collect();
    Ok(LineCheck::Checked {
        ticks: decisions.len(),
        mismatches,
    })
}
