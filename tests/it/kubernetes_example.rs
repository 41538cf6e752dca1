//! `examples/kubernetes/`: every manifest parses as Kubernetes objects that refer to each
//! other correctly (and, when `kubectl` is on PATH, decodes into the API's typed objects
//! without losing a field), and the Indexed Job's own shell command, run here once per
//! completion index as the pods would run it, merges into exactly the whole sweep.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Deserialize;
use serde_json::{json, Value};

use super::support::root;
use crate::compare::tree;

fn example_dir() -> PathBuf {
    root().join("examples/kubernetes")
}

/// The example's manifest files, sorted.
fn manifest_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(example_dir())
        .expect("examples/kubernetes")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    files
}

/// Every YAML document of a file, as JSON (the shape `kubectl -o json` prints).
fn documents(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    yaml_serde::Deserializer::from_str(&text)
        .enumerate()
        .map(|(i, de)| {
            Value::deserialize(de)
                .unwrap_or_else(|e| panic!("{} document {i}: {e}", path.display()))
        })
        .filter(|v| !v.is_null())
        .collect()
}

fn str_at<'a>(v: &'a Value, pointer: &str, what: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| panic!("{what}: no {pointer}"))
}

/// The pod spec of a Pod, or of the template of a Job.
fn pod_spec(obj: &Value) -> &Value {
    match obj["kind"].as_str() {
        Some("Pod") => &obj["spec"],
        Some("Job") => &obj["spec"]["template"]["spec"],
        other => panic!("{other:?} has no pod spec"),
    }
}

/// The one Job of a manifest file.
fn job(file: &str) -> Value {
    let docs = documents(&example_dir().join(file));
    let jobs: Vec<&Value> = docs.iter().filter(|d| d["kind"] == "Job").collect();
    assert_eq!(jobs.len(), 1, "{file}: one Job");
    jobs[0].clone()
}

/// A Job's one container's `sh -c` script, and where it mounts the results volume.
fn script_and_mount(job: &Value) -> (String, String) {
    let containers = pod_spec(job)["containers"].as_array().unwrap();
    assert_eq!(containers.len(), 1, "one container");
    let c = &containers[0];
    let command: Vec<&str> = c["command"]
        .as_array()
        .expect("command overrides the image's kthena-sim entrypoint")
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(c.get("args").is_none(), "the whole script is in command");
    assert_eq!(command.len(), 3, "{command:?}");
    assert_eq!(command[..2], ["sh", "-c"]);
    let mounts = c["volumeMounts"].as_array().unwrap();
    assert_eq!(mounts.len(), 1, "one volume mount");
    let mount = str_at(&mounts[0], "/mountPath", "volumeMounts[0]").to_string();
    (command[2].to_string(), mount)
}

/// Every field of `input` that `typed` (kubectl's typed decoding of it) lost or changed:
/// kubectl drops a field the API does not know — a misspelt or misplaced one — silently.
fn lost_fields(input: &Value, typed: &Value, path: &str, out: &mut Vec<String>) {
    match (input, typed) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                match b.get(k) {
                    Some(w) => lost_fields(v, w, &format!("{path}.{k}"), out),
                    None => out.push(format!("{path}.{k}")),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                lost_fields(v, w, &format!("{path}[{i}]"), out);
            }
        }
        (a, b) if a == b => {}
        (a, b) => out.push(format!("{path}: {a} became {b}")),
    }
}

/// `kubectl set env --local` decodes an object into the API's Go types offline (an unknown
/// kind or a wrongly typed field is an error) and prints it back; `kubectl create
/// --dry-run=client` would need a server to map the kind. None when kubectl is absent.
fn kubectl_typed(obj: &Value) -> Option<Result<Value, String>> {
    let child = Command::new("kubectl")
        .args([
            "set",
            "env",
            "--local",
            "-f",
            "-",
            "-o",
            "json",
            "KTHENA_SIM_CHECK=1",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => panic!("kubectl: {e}"),
    };
    serde_json::to_writer(child.stdin.take().unwrap(), obj).unwrap();
    let o = child.wait_with_output().unwrap();
    Some(if o.status.success() {
        Ok(serde_json::from_slice(&o.stdout).expect("kubectl prints JSON"))
    } else {
        Err(String::from_utf8_lossy(&o.stderr).into_owned())
    })
}

/// The typed check of one object. `set env` takes only objects with a pod template; a claim
/// is checked as the claim template of an ephemeral volume, which is the same Go type
/// (PersistentVolumeClaimSpec, with ObjectMeta).
fn typed_check(obj: &Value, what: &str) -> Option<()> {
    let (input, pointer) = match obj["kind"].as_str().unwrap() {
        "Job" | "Pod" => (obj.clone(), ""),
        "PersistentVolumeClaim" => {
            assert_eq!(obj["apiVersion"], "v1", "{what}");
            let pod = json!({
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "claim-check"},
                "spec": {
                    "containers": [{"name": "c", "image": "i"}],
                    "volumes": [{"name": "v", "ephemeral": {"volumeClaimTemplate": {
                        "metadata": obj["metadata"],
                        "spec": obj["spec"],
                    }}}],
                },
            });
            (pod, "/spec/volumes/0/ephemeral/volumeClaimTemplate")
        }
        other => panic!("{what}: no typed check for kind {other}: add one"),
    };
    let typed = kubectl_typed(&input)?.unwrap_or_else(|e| panic!("{what}: kubectl: {e}"));
    let (input, typed) = (
        input.pointer(pointer).unwrap(),
        typed.pointer(pointer).unwrap(),
    );
    let mut lost = Vec::new();
    lost_fields(input, typed, "", &mut lost);
    assert!(
        lost.is_empty(),
        "{what}: fields the API does not know: {lost:?}"
    );
    Some(())
}

#[test]
fn the_manifests_are_kubernetes_objects_that_fit_together() {
    let files = manifest_files();
    let mut objects: Vec<(String, Value)> = Vec::new();
    for f in &files {
        let docs = documents(f);
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        assert!(!docs.is_empty(), "{name}: no object");
        for (i, d) in docs.into_iter().enumerate() {
            let what = format!("{name} document {i}");
            str_at(&d, "/apiVersion", &what);
            str_at(&d, "/kind", &what);
            str_at(&d, "/metadata/name", &what);
            objects.push((what, d));
        }
    }
    let of_kind = |k: &str| -> Vec<&Value> {
        objects
            .iter()
            .filter(|(_, o)| o["kind"] == k)
            .map(|(_, o)| o)
            .collect()
    };
    // One shared claim, writable from every node at once.
    let claims = of_kind("PersistentVolumeClaim");
    assert_eq!(claims.len(), 1);
    assert!(
        claims[0]["spec"]["accessModes"]
            .as_array()
            .unwrap()
            .contains(&json!("ReadWriteMany")),
        "{}",
        claims[0]
    );
    let claim = claims[0]["metadata"]["name"].as_str().unwrap();
    let jobs = of_kind("Job");
    let indexed: Vec<&&Value> = jobs
        .iter()
        .filter(|j| j["spec"]["completionMode"] == "Indexed")
        .collect();
    assert_eq!(indexed.len(), 1, "one Indexed Job (the shards)");
    let count = |f: &str| {
        indexed[0]["spec"][f]
            .as_u64()
            .unwrap_or_else(|| panic!("{f}: a number"))
    };
    assert!(count("completions") >= 2, "completions: at least 2 shards");
    assert!(count("parallelism") >= 1);
    assert_eq!(jobs.len(), 2, "the shards' Job and the merge Job");
    // Every pod: the claim mounted, not root, resources requested.
    for (what, o) in &objects {
        if !matches!(o["kind"].as_str(), Some("Job" | "Pod")) {
            continue;
        }
        let spec = pod_spec(o);
        assert_eq!(spec["securityContext"]["runAsNonRoot"], true, "{what}");
        assert!(
            spec["securityContext"]["runAsUser"].as_u64().unwrap() > 0,
            "{what}"
        );
        let volumes = spec["volumes"].as_array().unwrap();
        assert!(
            volumes
                .iter()
                .any(|v| v["persistentVolumeClaim"]["claimName"] == claim),
            "{what}: mounts the claim {claim}"
        );
        for c in spec["containers"].as_array().unwrap() {
            assert_eq!(
                c["securityContext"]["allowPrivilegeEscalation"], false,
                "{what}"
            );
            let requests = c["resources"]["requests"].as_object();
            assert!(
                requests.is_some_and(|r| r.contains_key("cpu") && r.contains_key("memory")),
                "{what}: cpu and memory requests"
            );
        }
    }
    // Stops at the first object when kubectl is absent (the structural checks above ran).
    let typed = objects
        .iter()
        .all(|(what, o)| typed_check(o, what).is_some());
    if typed {
        eprintln!(
            "kubectl decoded all {} objects into the API's types",
            objects.len()
        );
    } else {
        eprintln!("note: kubectl is not on PATH; the typed check of the manifests was skipped");
    }
}

/// Runs a pod's script as its pod would: `sh -c`, the built kthena-sim first on PATH, from
/// the repository's root (the image's working directory holds the same scenarios/,
/// policies/ and traces/).
fn sh(script: &str, index: Option<u64>) {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_kthena-sim"));
    let mut path = vec![bin.parent().unwrap().to_path_buf()];
    path.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(script)
        .current_dir(root())
        .env("PATH", std::env::join_paths(path).unwrap())
        .env_remove("JOB_COMPLETION_INDEX");
    if let Some(i) = index {
        c.env("JOB_COMPLETION_INDEX", i.to_string());
    }
    let o = c.output().unwrap();
    assert!(
        o.status.success(),
        "index {index:?}: {}\n{script}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// `script` with the word after `flag` replaced by `by`, or without the flag and its word
/// when `by` is None.
fn replace_option(script: &str, flag: &str, by: Option<&str>) -> String {
    assert_eq!(script.matches(flag).count(), 1, "one {flag} in\n{script}");
    let start = script.find(flag).unwrap();
    let value_start = start + flag.len() + 1;
    let end = script[value_start..]
        .find(char::is_whitespace)
        .map_or(script.len(), |e| value_start + e);
    let replacement = by.map_or(String::new(), |v| format!("{flag} {v}"));
    format!("{}{replacement}{}", &script[..start], &script[end..])
}

fn rows(dir: &Path) -> Vec<u64> {
    let json: Value =
        serde_json::from_slice(&std::fs::read(dir.join("sweep.json")).unwrap()).unwrap();
    json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["index"].as_u64().unwrap())
        .collect()
}

#[test]
fn the_indexed_job_shards_merge_into_the_whole_sweep() {
    let sweep = job("sweep-job.yaml");
    let n = sweep["spec"]["completions"].as_u64().expect("completions");
    let (shard_script, mount) = script_and_mount(&sweep);
    let (merge_script, merge_mount) = script_and_mount(&job("merge-job.yaml"));
    assert_eq!(
        mount, merge_mount,
        "both Jobs mount the results at the same path"
    );
    assert!(shard_script.contains(&mount) && merge_script.contains(&mount));

    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    std::fs::create_dir(&results).unwrap();
    let local = |s: &str| s.replace(&mount, results.to_str().unwrap());
    for index in 0..n {
        sh(&local(&shard_script), Some(index));
    }
    // The pods wrote exactly the folders the merge Job's glob reads.
    let mut written: Vec<String> = std::fs::read_dir(&results)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    written.sort();
    let mut expected: Vec<String> = (1..=n).map(|k| format!("shard-{k}")).collect();
    expected.sort();
    assert_eq!(written, expected);
    sh(&local(&merge_script), None);

    // The same command without --shard, into its own folder.
    let whole_dir = tmp.path().join("whole");
    let whole = replace_option(&shard_script, "--shard", None);
    let whole = replace_option(&whole, "--out", Some(whole_dir.to_str().unwrap()));
    assert!(!whole.contains("JOB_COMPLETION_INDEX"), "{whole}");
    sh(&whole, None);

    // Each shard ran its slice only; together they are every combination once.
    let all = rows(&whole_dir);
    assert!(
        all.len() as u64 > n,
        "more combinations than shards: {all:?}"
    );
    for k in 1..=n {
        let slice = rows(&results.join(format!("shard-{k}")));
        let want: Vec<u64> = all.iter().copied().filter(|i| i % n == k - 1).collect();
        assert_eq!(slice, want, "shard {k}");
    }
    let merged = tree(&results.join("sweep"));
    let whole = tree(&whole_dir);
    assert_eq!(
        merged.keys().collect::<Vec<_>>(),
        whole.keys().collect::<Vec<_>>(),
        "the same files"
    );
    assert!(merged.keys().any(|f| f.starts_with("variants/")));
    for (name, bytes) in &whole {
        assert!(merged[name] == *bytes, "{name} differs");
    }
}
