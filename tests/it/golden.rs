//! Every golden scenario (tests/fixtures/golden, decisions recorded from Kthena's Go code) replays
//! with 100 % agreement, for every engine version in its `validFor`; and our defaulting
//! reproduces every recorded `effectivePolicy`.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;

use flate2::read::MultiGzDecoder;

use kthena_sim::engine::policy::{Duration, ScalingTarget, StablePolicy};
use kthena_sim::engine::EngineVersion;
use kthena_sim::golden::format::Line;
use kthena_sim::replay::check::{check_line, LineCheck};
use kthena_sim::replay::valid_for;
use kthena_sim::replay::world::build_policy;
use serde_json::{json, Value};

pub fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/golden")
}

fn lines() -> Vec<(String, Line)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .expect("golden vectors in tests/fixtures/golden")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.to_string_lossy().ends_with(".jsonl.gz"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "both golden files are present");
    let mut out = Vec::new();
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let gz = MultiGzDecoder::new(File::open(&f).expect("open golden"));
        for (i, l) in BufReader::new(gz).lines().enumerate() {
            let l = l.expect("read golden line");
            let line: Line =
                serde_json::from_str(&l).unwrap_or_else(|e| panic!("{name}:{}: {e}", i + 1));
            out.push((format!("{name}:{}", i + 1), line));
        }
    }
    out
}

#[test]
fn every_golden_scenario_agrees_for_every_valid_engine() {
    let (mut replays, mut ticks) = (0, 0);
    let mut per_version = std::collections::BTreeMap::new();
    let mut failures = Vec::new();
    for (at, line) in lines() {
        for name in line.expected.keys() {
            let version: EngineVersion = name.parse().expect("known engine version");
            match check_line(&line, version).unwrap_or_else(|e| panic!("{at} {name}: {e}")) {
                LineCheck::Checked {
                    ticks: n,
                    mismatches,
                } => {
                    replays += 1;
                    ticks += n;
                    *per_version.entry(name.clone()).or_insert(0) += 1;
                    for (i, diff) in mismatches {
                        failures.push(format!(
                            "{at} {} {name} tick {i}: {}",
                            line.id,
                            diff.join("; ")
                        ));
                    }
                }
                other => panic!("{at}: expectation for {name} not checked: {other:?}"),
            }
        }
    }
    eprintln!(
        "golden: {replays} replays {per_version:?}, {ticks} ticks, {} mismatched ticks",
        failures.len()
    );
    for f in failures.iter().take(30) {
        eprintln!("  {f}");
    }
    assert!(
        replays >= 450,
        "expected both files' scenarios, got {replays}"
    );
    assert!(failures.is_empty(), "{} ticks disagree", failures.len());
}

fn stable_json(s: &StablePolicy) -> Value {
    let ms = |d: Option<Duration>| d.map_or(0, |d| d.milliseconds());
    json!({
        "instances": s.instances,
        "percent": s.percent,
        "periodMs": ms(s.period),
        "selectPolicy": s.select_policy.as_str(),
        "stabilizationWindowMs": ms(s.stabilization_window),
    })
}

#[test]
fn our_defaulting_reproduces_every_effective_policy() {
    let mut checked = 0;
    for (at, line) in lines() {
        let expected = line
            .effective_policy
            .as_ref()
            .unwrap_or_else(|| panic!("{at}: effectivePolicy"));
        let version = if valid_for(&line, EngineVersion::V0_4) {
            EngineVersion::V0_4
        } else {
            EngineVersion::Head
        };
        let (policy, _) =
            build_policy(&line.scenario, version).unwrap_or_else(|e| panic!("{at}: {e}"));
        let b = &policy.behavior;
        let p = &b.scale_up.panic_policy;
        let mut ours = json!({
            "tolerancePercent": policy.tolerance_percent,
            "behavior": {
                "scaleUp": {
                    "stablePolicy": stable_json(&b.scale_up.stable_policy),
                    "panicPolicy": {
                        "percent": p.percent,
                        "periodMs": p.period.milliseconds(),
                        "panicThresholdPercent": p.panic_threshold_percent,
                        "panicModeHoldMs": p.panic_mode_hold.map_or(0, |d| d.milliseconds()),
                    },
                },
                "scaleDown": stable_json(&b.scale_down),
            },
        });
        if let ScalingTarget::Heterogeneous(h) = &policy.target {
            ours["costExpansionRatePercent"] = json!(h.cost_expansion_rate_percent);
        }
        assert_eq!(&ours, expected, "{at} {}: effective policy", line.id);
        checked += 1;
    }
    assert_eq!(checked, 300);
}
