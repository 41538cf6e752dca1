//! Every golden scenario (../shared/golden, decisions recorded from Kthena's Go code) replays
//! with 100 % agreement, for every engine version in its `validFor`.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;

use kthena_sim::engine::EngineVersion;
use kthena_sim::replay::format::Line;
use kthena_sim::replay::{output, replay, valid_for};
use serde_json::Value;

fn golden_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/golden");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("golden vectors expected at {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    assert!(files.len() >= 2, "both golden files are present");
    files
}

fn lines() -> Vec<(String, Line)> {
    let mut out = Vec::new();
    for f in golden_files() {
        for (i, l) in BufReader::new(File::open(&f).expect("open golden")).lines().enumerate() {
            let l = l.expect("read golden line");
            let line: Line = serde_json::from_str(&l)
                .unwrap_or_else(|e| panic!("{}:{}: {e}", f.display(), i + 1));
            out.push((format!("{}:{}", f.file_name().unwrap().to_string_lossy(), i + 1), line));
        }
    }
    out
}

const COMPARED: [&str; 7] = [
    "skip",
    "recommended",
    "corrected",
    "replicas",
    "panic",
    "ratioAdjusted",
    "currentRatio",
];

/// Fields that differ between our tick object and the expected one.
fn differences(ours: &Value, expected: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for f in COMPARED {
        if let Some(e) = expected.get(f) {
            if ours.get(f) != Some(e) {
                out.push(format!("{f}: ours {:?} expected {e}", ours.get(f)));
            }
        }
    }
    match (expected.get("roles"), ours.get("roles")) {
        (Some(Value::Object(er)), Some(Value::Object(or))) => {
            for (role, e) in er {
                for f in ["recommended", "final", "panic"] {
                    let o = or.get(role).and_then(|r| r.get(f));
                    if o != e.get(f) {
                        out.push(format!("roles.{role}.{f}: ours {o:?} expected {:?}", e.get(f)));
                    }
                }
            }
        }
        (Some(e), o) if Some(e) != o => out.push(format!("roles: ours {o:?} expected {e}")),
        _ => {}
    }
    out
}

/// Numbers equal within 1e-9 relative; everything else exactly.
fn same_alg_input(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            x == y || (x - y).abs() <= 1e-9 * x.abs().max(y.abs())
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_alg_input(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same_alg_input(v, w)))
        }
        _ => a == b,
    }
}

fn alg_inputs(tick: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    if let Some(a) = tick.get("algInput") {
        out.push(("algInput".to_string(), a.clone()));
    }
    if let Some(Value::Object(roles)) = tick.get("roles") {
        for (r, v) in roles {
            if let Some(a) = v.get("algInput") {
                out.push((format!("roles.{r}.algInput"), a.clone()));
            }
        }
    }
    out
}

#[test]
fn every_golden_scenario_agrees_for_every_valid_engine() {
    let mut scenarios = 0;
    let mut ticks = 0;
    let mut failures = Vec::new();
    let mut alg_failures = Vec::new();
    for (where_, line) in lines() {
        for (name, expected) in &line.expected {
            let version: EngineVersion = name.parse().expect("known engine version");
            assert!(valid_for(&line, version), "{where_}: expectation for an invalid engine");
            scenarios += 1;
            let decisions = replay(&line, version).unwrap_or_else(|e| panic!("{where_} {name}: {e}"));
            assert_eq!(decisions.len(), expected.len(), "{where_}: one output per tick");
            for (i, ((tick, d), e)) in line.scenario.ticks.iter().zip(&decisions).zip(expected).enumerate() {
                ticks += 1;
                let ours = output::tick_json(tick.t, d, true);
                let diff = differences(&ours, e);
                if !diff.is_empty() {
                    failures.push(format!("{where_} {} {name} tick {i}: {}", line.id, diff.join("; ")));
                }
                for ((field, a), (_, b)) in alg_inputs(&ours).iter().zip(alg_inputs(e).iter()) {
                    if !same_alg_input(a, b) {
                        alg_failures.push(format!("{where_} {} {name} tick {i}: {field} ours {a} expected {b}", line.id));
                    }
                }
            }
        }
    }
    eprintln!("golden: {scenarios} scenario replays, {ticks} ticks, {} decision mismatches, {} algInput mismatches", failures.len(), alg_failures.len());
    for f in failures.iter().chain(&alg_failures).take(30) {
        eprintln!("  {f}");
    }
    assert!(scenarios >= 400, "expected both files' scenarios, got {scenarios}");
    assert!(failures.is_empty() && alg_failures.is_empty());
}
