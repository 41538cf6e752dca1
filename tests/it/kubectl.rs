//! What `kubectl get … -o yaml` prints is read as it is: a `kind: List` with `items`, objects
//! with `status`, `metadata.managedFields`, `resourceVersion` and the like (ignored). The
//! fixtures in tests/fixtures/kubectl are the repository's own example manifests as a cluster
//! returns them, so a run on them must equal a run on the originals.

use std::path::{Path, PathBuf};

use super::support::{kthena_sim, root, temp_dir};

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/kubectl").join(name)
}

#[test]
fn kubectl_output_validates_without_notes() {
    for (file, objects) in [
        (
            "chat-v0.4-list.yaml",
            &[
                "ok policy/chat-policy -n llm (v0.x API)",
                "ok binding/chat-binding -n llm",
                "ok modelserving/chat-llama -n llm",
            ][..],
        ),
        (
            "chat-current.yaml",
            &["ok policy/chat-policy -n llm (current API)"][..],
        ),
    ] {
        let out = kthena_sim()
            .arg("validate")
            .arg(fixture(file))
            .output()
            .unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert_eq!(out.status.code(), Some(0), "{file}: {stdout}{stderr}");
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines, objects, "{file}");
        assert!(stderr.is_empty(), "{file}: nothing to note: {stderr}");
    }
}

/// The spike scenario on `policy_file` (and, if given, its ModelServing from `serving_file`),
/// run for 20 minutes into `out`.
fn run_spike(
    dir: &Path,
    tag: &str,
    policy_file: &Path,
    serving_file: Option<&Path>,
    set: &[&str],
) -> PathBuf {
    let spike = std::fs::read_to_string(root().join("scenarios/spike.yaml")).unwrap();
    let mut text = spike.replace(
        "policies: [../policies/chat-current.yaml]",
        &format!("policies: [{}]", policy_file.display()),
    );
    assert_ne!(text, spike, "the spike scenario names its policy file");
    if let Some(m) = serving_file {
        text = text.replace(
            "  - name: chat-llama\n",
            &format!("  - name: chat-llama\n    manifest: {}\n", m.display()),
        );
    }
    let scenario = dir.join(format!("{tag}.yaml"));
    std::fs::write(&scenario, text).unwrap();
    let out = dir.join(tag);
    let status = kthena_sim()
        .arg("run")
        .arg(&scenario)
        .args(["--duration", "20m", "--quiet", "--out"])
        .arg(&out)
        .args(set.iter().flat_map(|s| ["--set", s]))
        .output()
        .unwrap();
    assert!(
        matches!(status.status.code(), Some(0 | 1)),
        "{tag}: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    out
}

fn data(out: &Path) -> Vec<(String, Vec<u8>)> {
    ["timeline.csv", "latency.csv", "cost.csv"]
        .iter()
        .map(|f| (f.to_string(), std::fs::read(out.join(f)).unwrap()))
        .collect()
}

#[test]
fn a_kubectl_list_runs_as_the_manifests_it_holds() {
    let dir = temp_dir("kubectl", "list-run");
    let plain = run_spike(
        &dir,
        "plain",
        &root().join("policies/chat-v0.4.yaml"),
        None,
        &[],
    );
    let list = fixture("chat-v0.4-list.yaml");
    let listed = run_spike(&dir, "list", &list, Some(&list), &[]);
    assert_eq!(data(&plain), data(&listed));
    let current = run_spike(
        &dir,
        "current",
        &root().join("policies/chat-current.yaml"),
        None,
        &[],
    );
    let kubectl = run_spike(&dir, "kubectl", &fixture("chat-current.yaml"), None, &[]);
    assert_eq!(data(&current), data(&kubectl));

    // A setting reaches the policy inside the List as it reaches the plain file, and changes
    // the run.
    let set = ["policy.metrics[0].targetValue=2"];
    let plain_set = run_spike(
        &dir,
        "plain-set",
        &root().join("policies/chat-v0.4.yaml"),
        None,
        &set,
    );
    let list_set = run_spike(&dir, "list-set", &list, None, &set);
    assert_eq!(data(&plain_set), data(&list_set));
    assert_ne!(data(&plain_set), data(&plain));
}

#[test]
fn a_problem_in_a_list_item_names_the_item_and_its_line() {
    let dir = temp_dir("kubectl", "list-bad");
    let text = std::fs::read_to_string(fixture("chat-v0.4-list.yaml")).unwrap();
    let bad = text.replace("      maxReplicas: 16\n", "      maxReplicas: -3\n");
    assert_ne!(bad, text);
    let file = dir.join("bad.yaml");
    std::fs::write(&file, &bad).unwrap();
    let out = kthena_sim().arg("validate").arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    // `validate` reports on standard output, object by object.
    let report = String::from_utf8_lossy(&out.stdout);
    // 1-based, the `- apiVersion` line just above the binding's `kind`.
    let binding_line = (bad.lines())
        .position(|l| l == "  kind: AutoscalingPolicyBinding")
        .expect("the binding item");
    let expected = format!(
        "{}: document 1, item 2 (line {binding_line}): spec.homogeneousTarget.maxReplicas",
        file.display()
    );
    assert!(report.contains(&expected), "{report}\nexpected: {expected}");

    std::fs::write(&file, "apiVersion: v1\nkind: List\nitems: {a: 1}\n").unwrap();
    let out = kthena_sim().arg("validate").arg(&file).output().unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{report}");
    assert!(
        report.contains(
            "items: Invalid value: \"object\": a List's items must be a sequence of objects"
        ),
        "{report}"
    );
}
