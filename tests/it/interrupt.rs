//! Ctrl-C (SIGINT) and SIGTERM during a run: the command stops within moments with exit
//! status 130, says so in one line, and leaves no partial results — no output folder, no
//! temporary folder beside it, and a previous run's folder exactly as it was.

use super::support::{root, temp_dir};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A day at 50 requests/s: far longer than the moment the test waits before the signal.
fn start_long_run(out: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_kthena-sim"))
        .arg("run")
        .arg(root().join("scenarios/bench/day-50rps.yaml"))
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kthena-sim starts")
}

/// Sends `signal` after the run got going, and waits (at most a minute) for the exit.
fn interrupt(mut child: Child, signal: &str) -> (Option<i32>, String) {
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        child.try_wait().expect("poll").is_none(),
        "the run ended before the signal"
    );
    let sent = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .expect("kill runs");
    assert!(sent.success());
    for _ in 0..600 {
        if child.try_wait().expect("poll").is_some() {
            let out = child.wait_with_output().expect("output");
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            return (out.status.code(), stderr);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    panic!("the run did not stop within a minute of {signal}");
}

/// Every file under `dir` with its bytes, for before/after comparisons.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("folder") {
            let p = entry.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.insert(p.clone(), std::fs::read(&p).expect("file"));
            }
        }
    }
    files
}

fn assert_clean_stop(code: Option<i32>, stderr: &str) {
    assert_eq!(code, Some(130), "{stderr}");
    assert_eq!(stderr.trim(), "interrupted: no results written");
}

#[test]
fn ctrl_c_leaves_no_output_folder() {
    let dir = temp_dir("int", "fresh");
    let out = dir.join("out");
    let (code, stderr) = interrupt(start_long_run(&out), "INT");
    assert_clean_stop(code, &stderr);
    let left: Vec<_> = std::fs::read_dir(&dir).expect("list").flatten().collect();
    assert!(left.is_empty(), "nothing is written: {left:?}");
    std::fs::remove_dir_all(dir).expect("clean up");
}

#[test]
fn sigterm_keeps_the_previous_results_whole() {
    let dir = temp_dir("int", "previous");
    let out = dir.join("out");
    let first = Command::new(env!("CARGO_BIN_EXE_kthena-sim"))
        .arg("run")
        .arg(root().join("scenarios/steady.yaml"))
        .args(["--quiet", "--duration", "5m", "--out"])
        .arg(&out)
        .output()
        .expect("first run");
    assert!(first.status.success(), "{first:?}");
    let before = tree(&dir);
    let (code, stderr) = interrupt(start_long_run(&out), "TERM");
    assert_clean_stop(code, &stderr);
    assert_eq!(tree(&dir), before, "the previous results are untouched");
    std::fs::remove_dir_all(dir).expect("clean up");
}

#[test]
fn ctrl_c_during_trace_gen_leaves_no_partial_trace() {
    let dir = temp_dir("int", "trace");
    let out = dir.join("week.csv");
    let child = Command::new(env!("CARGO_BIN_EXE_kthena-sim"))
        .args(["trace", "gen"])
        .arg(root().join("scenarios/bench/week-45rps.yaml"))
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kthena-sim starts");
    let (code, stderr) = interrupt(child, "INT");
    assert_clean_stop(code, &stderr);
    let left: Vec<_> = std::fs::read_dir(&dir).expect("list").flatten().collect();
    assert!(left.is_empty(), "nothing is written: {left:?}");
    std::fs::remove_dir_all(dir).expect("clean up");
}
