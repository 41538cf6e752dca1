//! `kthena-sim scenario init --from MANIFESTS`: the starter scenario of every manifest the
//! repository ships (as kept and as `kubectl get -o yaml` prints them) runs as written, with
//! its manifest paths relative to where it was written; invalid manifests are refused.

use std::path::{Path, PathBuf};

use super::support::{kthena_sim, root, temp_dir};

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn the_starter_of_every_shipped_manifest_runs() {
    let dir = temp_dir("init", "all");
    let mut manifests = yaml_files(&root().join("policies"));
    for sub in [
        "examples/manifests/v0.4",
        "examples/manifests/current",
        "tests/fixtures/kubectl",
    ] {
        manifests.extend(yaml_files(&root().join(sub)));
    }
    manifests.retain(|m| !m.ends_with("guide-example-as-written.yaml"));
    assert!(manifests.len() >= 15, "{manifests:?}");
    for (i, manifest) in manifests.iter().enumerate() {
        // A folder below the working directory, so the paths in the scenario must climb.
        let scenario = Path::new("starters").join(format!("s{i}.yaml"));
        let init = kthena_sim()
            .current_dir(&dir)
            .args(["scenario", "init", "--from"])
            .arg(manifest)
            .arg("--out")
            .arg(&scenario)
            .output()
            .unwrap();
        assert_eq!(
            init.status.code(),
            Some(0),
            "{}: {}",
            manifest.display(),
            String::from_utf8_lossy(&init.stderr)
        );
        let text = std::fs::read_to_string(dir.join(&scenario)).unwrap();
        assert!(text.contains("# EDIT") && text.contains("slo:\n"), "{text}");
        let run = kthena_sim()
            .current_dir(&dir)
            .arg("run")
            .arg(&scenario)
            .args(["--duration", "5m", "--quiet", "--out"])
            .arg(format!("out/{i}"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(
            run.status.code(),
            Some(0),
            "{}:\n{text}\n{stderr}",
            manifest.display()
        );
        // The pods serve metrics where the policy scrapes them.
        assert!(
            !stderr.contains("serve their metrics on port"),
            "{}: {stderr}",
            manifest.display()
        );
        assert!(dir.join(format!("out/{i}/summary.json")).exists());
    }
}

#[test]
fn a_model_serving_manifest_gives_the_serving_and_its_file() {
    let list = root().join("tests/fixtures/kubectl/chat-v0.4-list.yaml");
    let out = kthena_sim()
        .current_dir(root())
        .args(["scenario", "init", "--from"])
        .arg(&list)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("policies: [tests/fixtures/kubectl/chat-v0.4-list.yaml]\n"),
        "{text}"
    );
    assert!(
        text.contains("  - name: chat-llama\n    namespace: llm\n    manifest: tests/fixtures/kubectl/chat-v0.4-list.yaml "),
        "{text}"
    );
}

#[test]
fn invalid_manifests_and_existing_outputs_are_refused() {
    let dir = temp_dir("init", "bad");
    let guide = root().join("examples/manifests/v0.4/guide-example-as-written.yaml");
    let out = kthena_sim()
        .current_dir(&dir)
        .args(["scenario", "init", "--out", "s.yaml", "--from"])
        .arg(&guide)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(
            "document 1 (line 4): spec.behavior.scaleUp.panicPolicy.period: Required value"
        ),
        "{stderr}"
    );
    assert!(!dir.join("s.yaml").exists(), "nothing written");

    std::fs::write(dir.join("s.yaml"), "mine").unwrap();
    let chat = root().join("policies/chat-current.yaml");
    let out = kthena_sim()
        .current_dir(&dir)
        .args(["scenario", "init", "--out", "s.yaml", "--from"])
        .arg(&chat)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("s.yaml: exists; give --force to replace it")
    );
    assert_eq!(std::fs::read_to_string(dir.join("s.yaml")).unwrap(), "mine");
}
