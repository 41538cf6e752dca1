//! The command-line vocabulary: the options that mean the same thing are offered by every
//! command that runs simulations and mean the same in each; `compare`'s settings before the
//! first variant apply to all; `sweep merge` refuses options it would ignore; a failure to
//! write is the machine's (exit 3), not the input's.

use std::path::Path;

use super::support::{kthena_sim, root, temp_dir};
use predicates::str::contains;

const SHARED: [&str; 13] = [
    "--out",
    "--force",
    "--seed",
    "--engine",
    "--duration",
    "--trace",
    "--trace-format",
    "--set",
    "--jobs",
    "--junit",
    "--markdown-summary",
    "--quiet",
    "mooncake",
];

#[test]
fn run_compare_sweep_and_plan_offer_the_shared_options() {
    for command in ["run", "compare", "sweep", "plan"] {
        let out = kthena_sim()
            .args([command, "--help"])
            .output()
            .expect("help");
        let help = String::from_utf8_lossy(&out.stdout);
        for option in SHARED {
            assert!(
                help.contains(option),
                "{command} --help lacks {option}:\n{help}"
            );
        }
    }
}

#[test]
fn sweep_merge_refuses_options_it_would_ignore() {
    for option in [["--seed", "3"], ["--duration", "5m"], ["--jobs", "2"]] {
        kthena_sim()
            .args(["sweep", "merge", "a", "b"])
            .args(option)
            .assert()
            .code(2)
            .stderr(contains(format!("unexpected argument '{}'", option[0])));
    }
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("summary.json")).expect("summary"))
        .expect("JSON")
}

#[test]
fn a_setting_before_the_first_variant_applies_to_every_variant() {
    let dir = temp_dir("cli", "common-set");
    kthena_sim()
        .arg("compare")
        .arg(root().join("scenarios/spike.yaml"))
        .args(["--duration", "5m", "--out"])
        .arg(&dir)
        .args(["--set", "seed=11", "--variant", "a", "--variant", "b"])
        .args(["--set", "binding.maxReplicas=3"])
        .assert()
        .success();
    let (a, b) = (
        summary(&dir.join("variants/a")),
        summary(&dir.join("variants/b")),
    );
    assert_eq!(
        (a["seed"].as_u64(), b["seed"].as_u64()),
        (Some(11), Some(11))
    );
    assert!(
        b["replicas"]["peak"].as_u64() <= Some(3),
        "{}",
        b["replicas"]
    );
}

#[test]
fn compare_sweep_and_plan_take_a_trace_and_a_seed_like_run() {
    let dir = temp_dir("cli", "trace");
    let trace = root().join("traces/spike-30m.csv");
    let scenario = root().join("scenarios/spike.yaml");
    kthena_sim()
        .arg("run")
        .arg(&scenario)
        .args([
            "--duration",
            "3m",
            "--seed",
            "5",
            "--engine",
            "v0.4",
            "-q",
            "--out",
        ])
        .arg(dir.join("run"))
        .arg("--trace")
        .arg(&trace)
        .assert()
        .success();
    kthena_sim()
        .arg("compare")
        .arg(&scenario)
        .args([
            "--duration",
            "3m",
            "--seed",
            "5",
            "--engine",
            "v0.4",
            "-q",
            "--out",
        ])
        .arg(dir.join("compare"))
        .arg("--trace")
        .arg(&trace)
        .args(["--variant", "only", "--replications", "1"])
        .assert()
        .success();
    let run = summary(&dir.join("run"));
    let variant = summary(&dir.join("compare/variants/only"));
    assert_eq!(run, variant, "the same options give the same run");
    assert_eq!(run["engine"], "v0.4");
    assert_eq!(run["seed"], 5);
}

#[test]
fn a_mapped_csv_trace_format_is_read_from_the_command_line() {
    let dir = temp_dir("cli", "csv-format");
    let trace = dir.join("trace.csv");
    std::fs::write(&trace, "t;p;c\n0.5;100;20\n1.0;200;30\n2.0;150;10\n").expect("trace");
    kthena_sim()
        .arg("run")
        .arg(root().join("scenarios/steady.yaml"))
        .args(["--duration", "1m", "-q", "--out"])
        .arg(dir.join("out"))
        .arg("--trace")
        .arg(&trace)
        .args([
            "--trace-format",
            "csv: {arrival: t, input: p, output: c, delimiter: ';'}",
        ])
        .assert()
        .success();
    assert_eq!(summary(&dir.join("out"))["requests"]["total"], 3);
    kthena_sim()
        .arg("run")
        .arg(root().join("scenarios/steady.yaml"))
        .arg("--trace")
        .arg(&trace)
        .args(["--trace-format", "parquet"])
        .assert()
        .code(2)
        .stderr(contains("unknown trace format \"parquet\""));
}

#[test]
fn an_output_that_cannot_be_written_exits_3() {
    let dir = temp_dir("cli", "environment");
    // A file where the JUnit file's folder would have to be.
    std::fs::write(dir.join("blocker"), "a file").expect("file");
    kthena_sim()
        .arg("run")
        .arg(root().join("scenarios/steady.yaml"))
        .args(["--duration", "1m", "-q", "--out"])
        .arg(dir.join("out"))
        .arg("--junit")
        .arg(dir.join("blocker/junit.xml"))
        .assert()
        .code(3)
        .stderr(contains("cannot write"));
}

/// A reader that closes the pipe early (`| head`) ends the command quietly with exit 0: no
/// panic, no error line.
#[test]
fn printing_into_a_closed_pipe_is_not_an_error() {
    let trace = root().join("traces/azure-llm-2023-code.csv");
    let trace = trace.to_str().unwrap();
    for args in [
        &["trace", "stats", trace][..],
        &["trace", "stats", "--json", trace][..],
        &["schema"][..],
        &["presets"][..],
        &["completions", "bash"][..],
        &["manpage"][..],
    ] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kthena-sim"))
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        // Closed before the command has had time to print anything.
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("wait");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stderr.is_empty(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
