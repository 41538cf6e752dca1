//! Snapshots of the output files of three small seeded runs — a homogeneous fleet, a
//! heterogeneous one and a disaggregated one: `summary.json`, `report.md` and the first rows
//! of `timeline.csv`. Any change of an output shows here as a diff to review
//! (`cargo insta review`, or accept with `INSTA_UPDATE=always cargo test`).

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn run(scenario: &str, duration: &str) -> PathBuf {
    let out = std::env::temp_dir().join(format!(
        "kthena-sim-snapshot-{}-{}",
        scenario.trim_end_matches(".yaml"),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&out);
    Command::cargo_bin("kthena-sim")
        .expect("binary built")
        .arg("run")
        .arg(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("scenarios")
                .join(scenario),
        )
        .args(["--duration", duration, "--quiet", "--out"])
        .arg(&out)
        .assert()
        .code(predicates::ord::le(1));
    out
}

fn text(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn head(text: &str, lines: usize) -> String {
    text.lines().take(lines).collect::<Vec<_>>().join("\n")
}

fn snapshot(name: &str, scenario: &str, duration: &str) {
    let out = run(scenario, duration);
    insta::assert_snapshot!(format!("{name}-summary.json"), text(&out, "summary.json"));
    insta::assert_snapshot!(format!("{name}-report.md"), text(&out, "report.md"));
    insta::assert_snapshot!(
        format!("{name}-timeline.csv"),
        head(&text(&out, "timeline.csv"), 12)
    );
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn homogeneous_run() {
    snapshot("homogeneous", "spike.yaml", "15m");
}

#[test]
fn heterogeneous_run() {
    snapshot("heterogeneous", "heterogeneous-gpu-cpu.yaml", "10m");
}

#[test]
fn disaggregated_run() {
    snapshot("disaggregated", "disaggregated.yaml", "10m");
}
