//! `ModelServing` (`workload.serving.volcano.sh/v1alpha1`), read only as far as the simulator
//! needs it: the serving-group count and the roles with their sizes. Pod templates, rollout
//! and recovery settings and the rest of the spec are accepted without being read, so a real
//! manifest can be given as it is; for the same reason its unread fields are not noted.

use std::collections::BTreeSet;

use super::raw::Meta;
use super::yaml_walk::Node;
use crate::kthena::field::{quote, Findings};

/// A ModelServing as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelServing {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    /// `spec.replicas`: the number of serving groups. `None` when not written; the HEAD
    /// controller then reads 1, while v0.4.0 refuses to scale the target (docs/engine.md §6.2).
    pub replicas: Option<i32>,
    /// `spec.template.roles`, in manifest order.
    pub roles: Vec<ModelServingRole>,
}

/// One role of the serving-group template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelServingRole {
    pub name: String,
    /// Instances of the role per serving group; `None` when not written (read as 1 at HEAD).
    pub replicas: Option<i32>,
    /// Worker pods per role instance, besides its entry pod.
    pub worker_replicas: Option<i32>,
}

impl ModelServing {
    pub fn role(&self, name: &str) -> Option<&ModelServingRole> {
        self.roles.iter().find(|r| r.name == name)
    }
}

/// Reads `spec`; counts must not be negative and role names must be unique.
pub(super) fn read(meta: &Meta, spec: &Node, f: &mut Findings) -> ModelServing {
    let mut serving = ModelServing {
        namespace: meta.namespace.clone(),
        name: meta.name.clone(),
        uid: meta.uid.clone(),
        replicas: None,
        roles: Vec::new(),
    };
    let Some(mut o) = spec.fields(f) else {
        return serving;
    };
    serving.replicas = o.take("replicas").and_then(|n| count(&n, f));
    let roles = o
        .require("template", f)
        .and_then(|n| n.fields(f))
        .and_then(|mut t| t.take("roles"))
        .and_then(|n| n.sequence(f))
        .unwrap_or_default();
    let mut seen = BTreeSet::new();
    for node in roles {
        let Some(mut r) = node.fields(f) else {
            continue;
        };
        let name_node = r.require("name", f);
        let Some(name) = name_node.as_ref().and_then(|n| n.string(f)) else {
            continue;
        };
        if !seen.insert(name.clone()) {
            if let Some(n) = &name_node {
                f.problem(&n.path, format!("Duplicate value: {}", quote(&name)));
            }
        }
        serving.roles.push(ModelServingRole {
            name,
            replicas: r.take("replicas").and_then(|n| count(&n, f)),
            worker_replicas: r.take("workerReplicas").and_then(|n| count(&n, f)),
        });
    }
    serving
}

fn count(node: &Node, f: &mut Findings) -> Option<i32> {
    let v = node.int32(f)?;
    if v < 0 {
        f.invalid(
            &node.path,
            &v.to_string(),
            "should be greater than or equal to 0",
        );
    }
    Some(v)
}
