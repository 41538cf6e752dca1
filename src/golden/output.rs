//! One decision as a JSON tick object: the fields of the golden format (docs/golden-format.md §7)
//! for the target's mode, plus `reason`.

use serde_json::{json, Map, Value};

use crate::engine::decision::{AlgInput, Decision, Reason, TargetMode};
use crate::engine::recommendation::Metrics;

fn metrics_json(m: &Metrics) -> Value {
    Value::Object(m.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
}

pub fn alg_input_json(a: &AlgInput) -> Value {
    json!({
        "current": a.current,
        "unready": a.unready,
        "ready": a.ready.iter().map(|m| m.as_ref().map_or(Value::Null, metrics_json)).collect::<Vec<_>>(),
        "external": metrics_json(&a.external),
    })
}

pub fn reason_json(r: &Reason) -> Value {
    json!({"code": r.code(), "message": r.to_string()})
}

/// The tick object of `decision` taken at time `t`.
pub fn tick_json(t: i64, d: &Decision, with_alg_input: bool) -> Value {
    let mut o = Map::new();
    o.insert("t".into(), json!(t));
    o.insert("skip".into(), json!(d.skip));
    match d.mode {
        TargetMode::Homogeneous | TargetMode::Heterogeneous => {
            o.insert("recommended".into(), json!(d.recommended));
            o.insert("corrected".into(), json!(d.corrected));
            if d.mode == TargetMode::Heterogeneous {
                let split = d.split.as_ref().map_or(Value::Null, |s| {
                    Value::Object(s.iter().map(|(k, v)| (split_name(k), json!(v))).collect())
                });
                o.insert("replicas".into(), split);
            }
            o.insert("panic".into(), json!(d.panic));
            if with_alg_input {
                o.insert(
                    "algInput".into(),
                    d.alg_input.as_ref().map_or(Value::Null, alg_input_json),
                );
            }
        }
        TargetMode::Disaggregated => {
            let roles = d.roles.as_ref().map_or(Value::Null, |roles| {
                Value::Object(
                    roles
                        .iter()
                        .map(|r| {
                            let mut ro = Map::new();
                            ro.insert("recommended".into(), json!(r.recommended));
                            ro.insert("final".into(), json!(r.final_replicas));
                            ro.insert("panic".into(), json!(r.panic));
                            if with_alg_input {
                                ro.insert(
                                    "algInput".into(),
                                    r.alg_input.as_ref().map_or(Value::Null, alg_input_json),
                                );
                            }
                            ro.insert("reason".into(), reason_json(&r.reason));
                            (r.name.clone(), Value::Object(ro))
                        })
                        .collect(),
                )
            });
            o.insert("roles".into(), roles);
            o.insert("ratioAdjusted".into(), json!(d.ratio_adjusted));
            o.insert("currentRatio".into(), json!(d.current_ratio));
        }
    }
    if let Reason::Error(e) = &d.reason {
        o.insert("error".into(), json!(e));
    }
    o.insert("reason".into(), reason_json(&d.reason));
    Value::Object(o)
}

/// Heterogeneous split keys are target keys (`namespace/name` at HEAD); the recorded format
/// names params by ModelServing name.
fn split_name(key: &str) -> String {
    key.rsplit('/').next().unwrap_or(key).to_string()
}
