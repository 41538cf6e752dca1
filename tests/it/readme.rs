//! The README's command blocks that use the repository's own files run as written, from the
//! repository's root (paths on the command line are relative to the current directory): each
//! `kthena-sim …` line of a `sh` block, its output folder redirected to a temporary one.
//! Lines with placeholders (`FILE`, `...`, a workload spec or ticks file of the reader's own)
//! are not commands to copy as they are, and are left out. `validate` of the README's invalid
//! example exits 2 with its problems, as the README says.

use std::path::Path;

use super::support::root;
use assert_cmd::Command;

/// Splits a shell line into words: spaces separate, single and double quotes group.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if any || !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                    any = false;
                }
            }
            (None, c) => word.push(c),
        }
    }
    if any || !word.is_empty() {
        out.push(word);
    }
    out
}

/// The README's runnable command lines, as argument lists for the binary.
fn commands() -> Vec<Vec<String>> {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let mut out = Vec::new();
    for block in readme.split("```sh\n").skip(1) {
        let block = block.split("```").next().unwrap_or_default();
        for line in block.replace("\\\n", " ").lines() {
            let line = line.split(" #").next().unwrap_or_default().trim();
            let line = line
                .strip_prefix("cargo run --release -- ")
                .map(|l| format!("kthena-sim {l}"))
                .unwrap_or_else(|| line.to_string());
            let Some(rest) = line.strip_prefix("kthena-sim ") else {
                continue;
            };
            let placeholder = ["FILE", "...", "workload.yaml", "ticks.jsonl", "*", "[", "<"]
                .iter()
                .any(|p| rest.contains(p));
            if placeholder || !rest.contains('/') {
                continue;
            }
            out.push(words(rest));
        }
    }
    out
}

/// `args` with its `--out` (which may name a file in the repository) in `dir`, and an
/// `--out` added to a command that writes a folder.
fn redirected(mut args: Vec<String>, dir: &Path) -> Vec<String> {
    let out = dir.join("out").display().to_string();
    match args.iter().position(|a| a == "--out") {
        Some(i) => args[i + 1] = out,
        None if ["run", "compare", "sweep", "plan"].contains(&args[0].as_str()) => {
            args.extend(["--out".to_string(), out]);
        }
        None => {}
    }
    args
}

#[test]
fn the_readme_commands_run_as_written() {
    let commands = commands();
    assert!(commands.len() >= 6, "{commands:?}");
    for (i, args) in commands.into_iter().enumerate() {
        let dir =
            std::env::temp_dir().join(format!("kthena-sim-readme-{i}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let args = redirected(args, &dir);
        let out = Command::cargo_bin("kthena-sim")
            .expect("binary built")
            .current_dir(root())
            .args(&args)
            .args(
                ["--quiet"]
                    .iter()
                    .filter(|_| ["run", "compare", "sweep", "plan"].contains(&args[0].as_str())),
            )
            .output()
            .expect("runs");
        // `validate` of the deliberately invalid example exits 2 with its problem lines: what
        // the README shows. Every other command succeeds.
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let as_documented =
            args[0] == "validate" && out.status.code() == Some(2) && !all.contains("cannot read");
        assert!(
            out.status.success() || as_documented,
            "kthena-sim {}: exit {:?}\n{}",
            args.join(" "),
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn shell_words_keep_quoted_groups() {
    assert_eq!(
        words("compare a.yaml --set 'policy.metrics[0].targetValue=4' --x \"a b\""),
        [
            "compare",
            "a.yaml",
            "--set",
            "policy.metrics[0].targetValue=4",
            "--x",
            "a b"
        ]
    );
}

/// Every Kthena manifest the README shows (a `yaml` block with an `AutoscalingPolicy`) is
/// valid as it stands: users copy them.
#[test]
fn the_readme_manifests_validate() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let dir = std::env::temp_dir().join(format!("kthena-sim-readme-yaml-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let blocks: Vec<&str> = (readme.split("```yaml\n").skip(1))
        .map(|b| b.split("```").next().unwrap_or_default())
        .filter(|b| b.contains("kind: AutoscalingPolicy"))
        .collect();
    assert!(blocks.len() >= 2, "one policy per API generation");
    for (i, block) in blocks.iter().enumerate() {
        let file = dir.join(format!("policy-{i}.yaml"));
        std::fs::write(&file, block).expect("write");
        let out = Command::cargo_bin("kthena-sim")
            .unwrap()
            .arg("validate")
            .arg(&file)
            .output()
            .expect("runs");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{block}\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
