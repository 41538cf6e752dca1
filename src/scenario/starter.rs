//! A starter scenario for the user's own manifests (`kthena-sim scenario init --from …`):
//! the ModelServings they hold or their policies scale, with their replicas, the policy files,
//! a Poisson workload and an SLO block — every number a user must make their own marked
//! `EDIT` with a comment saying what it stands for. Pure: texts in, text out.

use std::fmt::Write as _;

use super::validate::policies::scraped_ports;
use crate::engine::metric_collector::DEFAULT_METRIC_PORT;
use crate::kpa::Resolved;
use crate::kthena::autoscaler::AutoscalerSpec;
use crate::kthena::manifest::{ManifestError, ManifestSet, ModelServing};
use crate::model::presets::PRESETS;

/// One manifest file: the path a scenario beside the output names it by, and its text.
pub struct ManifestFile<'a> {
    pub path: &'a str,
    pub text: &'a str,
}

/// A serving of the starter, in the order found: ModelServing objects first, then the
/// targets the policies scale.
#[derive(Debug, PartialEq)]
struct StarterServing {
    name: String,
    namespace: String,
    /// The file holding its ModelServing object, whose replicas and roles `run` then reads.
    manifest: Option<String>,
    replicas: i32,
    /// Roles a policy scales (role-level or disaggregated) when no ModelServing gives them,
    /// with their minimum replicas.
    roles: Vec<(String, i32)>,
    /// A disaggregated policy scales it: requests go prefill → KV transfer → decode.
    disaggregated: bool,
    /// The port its policies scrape, when that is one port other than the pods' default.
    metrics_port: Option<i32>,
}

/// The starter scenario for `files`, named `name`; the manifests must be valid together.
pub fn starter_scenario(name: &str, files: &[ManifestFile]) -> Result<String, ManifestError> {
    let sources: Vec<(&str, &str)> = files.iter().map(|f| (f.path, f.text)).collect();
    let set = ManifestSet::from_sources(&sources);
    let policies = set.policies()?;
    let mut servings: Vec<StarterServing> = Vec::new();
    for m in set.model_servings()? {
        let file = (set.objects().iter())
            .find(|o| o.name == m.name && o.namespace == m.namespace)
            .map(|o| o.location.file.clone());
        servings.push(from_model_serving(m, file));
    }
    for loaded in policies {
        let p = &loaded.policy;
        let disaggregated = matches!(
            p.target,
            crate::engine::policy::ScalingTarget::Disaggregated(_)
        );
        for t in p.scaled_targets() {
            let r = &t.target.target_ref;
            let namespace = if r.namespace.is_empty() {
                &p.namespace
            } else {
                &r.namespace
            };
            let i = match (servings.iter())
                .position(|s| s.name == r.name && &s.namespace == namespace)
            {
                Some(i) => i,
                None => {
                    servings.push(StarterServing {
                        name: r.name.clone(),
                        namespace: namespace.clone(),
                        manifest: None,
                        replicas: 0,
                        roles: Vec::new(),
                        disaggregated: false,
                        metrics_port: None,
                    });
                    servings.len() - 1
                }
            };
            let s = &mut servings[i];
            s.disaggregated |= disaggregated;
            // The pods serve metrics where the policy scrapes them (a port of 0 is the
            // manifest's own problem, which `run` warns about).
            if let [port] = scraped_ports(&t.target, loaded.api.engine_version())[..] {
                if port > 0 && port != DEFAULT_METRIC_PORT {
                    s.metrics_port = Some(port);
                }
            }
            if s.manifest.is_some() {
                continue;
            }
            match t.role {
                Some(role) if !s.roles.iter().any(|(n, _)| n == role) => {
                    s.roles.push((role.to_string(), t.min_replicas.max(1)));
                    s.replicas = s.replicas.max(1);
                }
                Some(_) => {}
                None => s.replicas = s.replicas.max(t.min_replicas).max(1),
            }
        }
    }
    // An HPA, ScaledObject or Knative Service scales the ModelServing its target names,
    // created at the size that autoscaler starts it with.
    let others = set.autoscalers()?;
    for a in others {
        let (namespace, name) = a.spec.target();
        let initial = match &a.spec {
            AutoscalerSpec::Kpa { spec, config, .. } => {
                Resolved::new(spec, config).scaler.initial_scale
            }
            other => other.bounds().0.max(1),
        };
        let known = (servings.iter()).position(|s| s.name == name && s.namespace == namespace);
        if let Some(i) = known {
            if servings[i].manifest.is_none() {
                servings[i].replicas = servings[i].replicas.max(initial);
            }
        } else {
            servings.push(StarterServing {
                name: name.to_string(),
                namespace: namespace.to_string(),
                manifest: None,
                replicas: initial,
                roles: Vec::new(),
                disaggregated: false,
                metrics_port: None,
            });
        }
    }
    let policy_files: Vec<&str> = files
        .iter()
        .filter(|f| {
            policies.iter().any(|p| p.location.file == f.path)
                || others.iter().any(|a| a.location.file == f.path)
        })
        .map(|f| f.path)
        .collect();
    Ok(render(name, files, &policy_files, &servings))
}

fn from_model_serving(m: &ModelServing, file: Option<String>) -> StarterServing {
    StarterServing {
        name: m.name.clone(),
        namespace: m.namespace.clone(),
        manifest: file,
        replicas: m.replicas.unwrap_or(1),
        roles: Vec::new(),
        disaggregated: false,
        metrics_port: None,
    }
}

/// A YAML flow list of plain paths (quoted when YAML would read them otherwise).
fn flow_list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| scalar(s)).collect();
    format!("[{}]", quoted.join(", "))
}

/// `s` as a YAML scalar: bare when it reads back as the same string, else double-quoted.
fn scalar(s: &str) -> String {
    let bare = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "./_-".contains(c))
        && yaml_serde::from_str::<yaml_serde::Value>(s)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .as_deref()
            == Some(s);
    if bare {
        s.to_string()
    } else {
        serde_json::to_string(s).expect("a string serialises")
    }
}

fn render(
    name: &str,
    files: &[ManifestFile],
    policy_files: &[&str],
    servings: &[StarterServing],
) -> String {
    let from: Vec<&str> = files.iter().map(|f| f.path).collect();
    let preset = &PRESETS[0];
    let mut y = String::new();
    let _ = writeln!(y, "# Starter scenario for {}.", from.join(", "));
    y.push_str(
        "# Written by `kthena-sim scenario init`. The manifests are used unchanged; every value\n\
         # marked EDIT is a placeholder for a figure of your own. Then:\n\
         #   kthena-sim run THIS_FILE\n",
    );
    let _ = writeln!(y, "name: {}", scalar(name));
    y.push_str(
        "seed: 1\nduration: 1h          # EDIT: how much time to simulate (e.g. 45m, 24h)\n",
    );
    let _ = writeln!(
        y,
        "policies: {}{}",
        flow_list(policy_files),
        if policy_files.is_empty() {
            "   # no policy: the servings keep their replicas"
        } else {
            ""
        }
    );
    y.push_str("servings:\n");
    for s in servings {
        let _ = writeln!(y, "  - name: {}", scalar(&s.name));
        let _ = writeln!(y, "    namespace: {}", scalar(&s.namespace));
        match &s.manifest {
            Some(file) => {
                let _ = writeln!(
                    y,
                    "    manifest: {}   # its spec.replicas and roles are used",
                    scalar(file)
                );
            }
            None => {
                let _ = writeln!(
                    y,
                    "    replicas: {}   # spec.replicas at the start",
                    s.replicas
                );
            }
        }
        if !s.roles.is_empty() {
            y.push_str("    roles:\n");
            for (role, replicas) in &s.roles {
                let _ = writeln!(
                    y,
                    "      - {{name: {}, replicas: {replicas}}}",
                    scalar(role)
                );
            }
        }
        if let Some(port) = s.metrics_port {
            let _ = writeln!(
                y,
                "    metrics: {{port: {port}}}   # the port the policy scrapes"
            );
        }
        if s.disaggregated {
            let (prefill, decode) = prefill_decode(&s.roles);
            y.push_str("    disaggregation:   # EDIT: which role prefills and which decodes\n");
            let _ = writeln!(y, "      prefill_role: {}", scalar(&prefill));
            let _ = writeln!(y, "      decode_role: {}", scalar(&decode));
        }
        let _ = writeln!(
            y,
            "    gpus_per_pod: {:<13}# EDIT: GPUs per server pod (the server's tensor parallelism)",
            preset.gpus
        );
        y.push_str(
            "\
             \x20   accelerator: gpu         # EDIT: the GPU type, as reports should name it (e.g. h100)\n\
             \x20   price_per_gpu_hour: 2.5  # EDIT: what one GPU costs you per hour\n\
             \x20   startup:                 # EDIT: pod creation to ready, as measured on your cluster\n\
             \x20     lognormal: {median: 2m, p99: 5m}\n\
             \x20   server:                  # EDIT: `kthena-sim presets` lists the servers; or fit your\n\
             \x20                            # own from measurements with `kthena-sim calibrate`\n",
        );
        let _ = writeln!(y, "      preset: {}", preset.name);
    }
    y.push_str(
        "workload:\n\
         \x20 streams:\n\
         \x20   - poisson:\n\
         \x20       rate: {constant: 2}  # EDIT: requests per second (or `points:` for a profile,\n\
         \x20                            # or a `trace:` stream replaying your own logs)\n\
         \x20       input_tokens: {lognormal: {median: 600, p99: 4000}}   # EDIT: prompt lengths\n\
         \x20       output_tokens: {lognormal: {median: 200, p99: 1000}}  # EDIT: output lengths\n\
         slo:\n\
         \x20 ttft: 2s     # EDIT: the time to first token a request must meet to count as served\n\
         \x20 tpot: 150ms  # EDIT: the time per output token it must meet\n",
    );
    y
}

/// The prefill and decode roles of a disaggregated serving: by name where the names say it,
/// else in the order found.
fn prefill_decode(roles: &[(String, i32)]) -> (String, String) {
    let named = |word: &str| {
        roles
            .iter()
            .find(|(n, _)| n.contains(word))
            .map(|(n, _)| n.clone())
    };
    let first = |skip: &str| {
        roles
            .iter()
            .map(|(n, _)| n.clone())
            .find(|n| n != skip)
            .unwrap_or_default()
    };
    let prefill = named("prefill").unwrap_or_else(|| first(""));
    let decode = named("decode").unwrap_or_else(|| first(&prefill));
    (prefill, decode)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn starter(files: &[(&str, &str)]) -> String {
        let files: Vec<ManifestFile> = files
            .iter()
            .map(|(path, text)| ManifestFile { path, text })
            .collect();
        starter_scenario("s", &files).expect("valid manifests")
    }

    #[test]
    fn a_policy_alone_gives_its_target_with_the_minimum_replicas() {
        let y = starter(&[("p.yaml", include_str!("../../policies/chat-current.yaml"))]);
        assert!(y.contains("policies: [p.yaml]\n"), "{y}");
        assert!(
            y.contains("  - name: chat-llama\n    namespace: llm\n    replicas: 1 "),
            "{y}"
        );
        assert!(!y.contains("manifest:"), "{y}");
    }

    #[test]
    fn a_disaggregated_policy_lists_its_roles_and_which_prefills() {
        let y = starter(&[(
            "pd.yaml",
            include_str!("../../examples/manifests/current/disaggregated.yaml"),
        )]);
        // The policy's roles in name order, each at its minimum.
        let roles = "    roles:\n      - {name: decode, replicas: 1}\n      - {name: prefill, replicas: 1}\n";
        assert!(y.contains(roles), "{y}");
        assert!(
            y.contains("      prefill_role: prefill\n      decode_role: decode\n"),
            "{y}"
        );
    }

    #[test]
    fn the_other_autoscalers_give_their_targets_at_their_starting_size() {
        let y = starter(&[
            (
                "hpa.yaml",
                include_str!("../../policies/autoscalers/hpa.yaml"),
            ),
            (
                "kpa.yaml",
                include_str!("../../policies/autoscalers/kpa.yaml"),
            ),
        ]);
        assert!(y.contains("policies: [hpa.yaml, kpa.yaml]\n"), "{y}");
        // Both scale llm/chat-llama: one serving, at the KPA's initial scale of 2.
        assert_eq!(y.matches("- name: chat-llama").count(), 1, "{y}");
        assert!(y.contains("replicas: 2"), "{y}");
    }

    #[test]
    fn invalid_manifests_are_refused() {
        let files = [ManifestFile {
            path: "bad.yaml",
            text: include_str!("../../examples/manifests/v0.4/guide-example-as-written.yaml"),
        }];
        assert!(starter_scenario("s", &files).is_err());
    }

    #[test]
    fn scalars_are_quoted_only_when_needed() {
        assert_eq!(scalar("../policies/a.yaml"), "../policies/a.yaml");
        assert_eq!(scalar("true"), "\"true\"");
        assert_eq!(scalar("my file.yaml"), "\"my file.yaml\"");
        assert_eq!(scalar("10"), "\"10\"");
    }
}
