//! `KEY=VALUE` settings of variants, sweeps and plans: a path into the scenario file
//! (`seed`, `engine`, `servings[gpu].replicas`, `router.policy`) or into the Kthena
//! manifests it uses (`policy.metrics[0].targetValue`, `binding.maxReplicas`).
//!
//! A path is dot-separated; a list element is chosen by index (`metrics[0]`) or by its
//! `name` field (`servings[gpu]`). Values are YAML scalars (`10`, `0.5`, `v0.4`, `true`).
//! `policy.X` addresses `spec.X` of every AutoscalingPolicy; `binding.X` addresses `spec.X`
//! of every AutoscalingPolicyBinding (v0.x) or the target section of a current-API
//! AutoscalingPolicy, where `binding.maxReplicas` is short for
//! `homogeneousTarget.maxReplicas` (or `heterogeneousTarget.…`).

use std::fmt;
use std::str::FromStr;

use serde::Deserialize;
use yaml_serde::{Mapping, Value};

use super::raw::RawScenario;

/// One `KEY=VALUE`.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub key: String,
    pub value: Value,
    /// The value as written, for names and reports.
    pub text: String,
}

/// Why a setting cannot be read or applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingError {
    #[error("{0:?}: expected KEY=VALUE")]
    NotKeyValue(String),
    #[error(
        "{0:?}: malformed key (e.g. `policy.metrics[0].targetValue`, `servings[gpu].replicas`)"
    )]
    MalformedKey(String),
    /// The key does not fit the document it addresses (`reason` names the part).
    #[error("--set {setting}: {reason}")]
    Apply { setting: String, reason: String },
    /// A manifest the setting should change is not YAML.
    #[error("{0}")]
    NotYaml(String),
}

/// Why a key does not fit a document: the message, with the path it is about.
struct PathProblem(String);

impl FromStr for Setting {
    type Err = SettingError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (key, text) = s
            .split_once('=')
            .ok_or_else(|| SettingError::NotKeyValue(s.to_string()))?;
        let key = key.trim();
        if key.is_empty() || parse_path(key).is_err() {
            return Err(SettingError::MalformedKey(s.to_string()));
        }
        let value =
            yaml_serde::from_str::<Value>(text).unwrap_or_else(|_| Value::String(text.to_string()));
        Ok(Setting {
            key: key.to_string(),
            value,
            text: text.trim().to_string(),
        })
    }
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.key, self.text)
    }
}

/// Which document a setting addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Scenario,
    Policy,
    Binding,
}

impl Setting {
    pub fn scope(&self) -> Scope {
        if self.key.starts_with("policy.") {
            Scope::Policy
        } else if self.key.starts_with("binding.") {
            Scope::Binding
        } else {
            Scope::Scenario
        }
    }

    fn failed(&self, problem: PathProblem) -> SettingError {
        SettingError::Apply {
            setting: self.to_string(),
            reason: problem.0,
        }
    }

    /// The path within the addressed document (without `policy.` / `binding.`).
    fn local_key(&self) -> &str {
        match self.scope() {
            Scope::Scenario => &self.key,
            Scope::Policy => &self.key["policy.".len()..],
            Scope::Binding => &self.key["binding.".len()..],
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
    Named(String),
}

fn parse_path(path: &str) -> Result<Vec<Step>, PathProblem> {
    let mut steps = Vec::new();
    for part in path.split('.') {
        let (name, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if name.is_empty() && steps.is_empty() {
            return Err(PathProblem(format!("{path:?}: empty segment")));
        }
        if !name.is_empty() {
            steps.push(Step::Key(name.to_string()));
        }
        while let Some(stripped) = rest.strip_prefix('[') {
            let end = stripped
                .find(']')
                .ok_or_else(|| PathProblem(format!("{path:?}: missing `]`")))?;
            let sel = &stripped[..end];
            steps.push(match sel.parse::<usize>() {
                Ok(i) => Step::Index(i),
                Err(_) if !sel.is_empty() => Step::Named(sel.to_string()),
                Err(_) => return Err(PathProblem(format!("{path:?}: empty `[]`"))),
            });
            rest = &stripped[end + 1..];
        }
        if !rest.is_empty() {
            return Err(PathProblem(format!("{path:?}: unexpected {rest:?}")));
        }
    }
    Ok(steps)
}

/// Sets `path` in `doc` to `value`, creating missing mapping keys on the way.
fn set_path(doc: &mut Value, path: &str, value: Value) -> Result<(), PathProblem> {
    let steps = parse_path(path)?;
    let mut cur = doc;
    for (i, step) in steps.iter().enumerate() {
        let last = i + 1 == steps.len();
        cur = match step {
            Step::Key(k) => {
                if cur.is_null() {
                    *cur = Value::Mapping(Mapping::new());
                }
                let Value::Mapping(m) = cur else {
                    return Err(PathProblem(format!(
                        "{path}: `{k}` is not inside a mapping"
                    )));
                };
                let key = Value::String(k.clone());
                if last {
                    m.insert(key, value);
                    return Ok(());
                }
                m.entry(key).or_insert(Value::Null)
            }
            Step::Index(n) => {
                let Value::Sequence(s) = cur else {
                    return Err(PathProblem(format!("{path}: `[{n}]` is not a list")));
                };
                let len = s.len();
                let elem = s.get_mut(*n).ok_or_else(|| {
                    PathProblem(format!(
                        "{path}: index {n} out of range (the list has {len})"
                    ))
                })?;
                if last {
                    *elem = value;
                    return Ok(());
                }
                elem
            }
            Step::Named(name) => {
                let Value::Sequence(s) = cur else {
                    return Err(PathProblem(format!("{path}: `[{name}]` is not a list")));
                };
                let elem = s
                    .iter_mut()
                    .find(|e| e.get("name").and_then(Value::as_str) == Some(name.as_str()))
                    .ok_or_else(|| PathProblem(format!("{path}: no element named {name:?}")))?;
                if last {
                    *elem = value;
                    return Ok(());
                }
                elem
            }
        };
    }
    Ok(())
}

/// The value at `path` in `doc`, if there is one.
fn get_path<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    parse_path(path)
        .ok()?
        .iter()
        .try_fold(doc, |cur, step| match step {
            Step::Key(k) => cur.get(k.as_str()),
            Step::Index(n) => cur.as_sequence()?.get(*n),
            Step::Named(name) => cur
                .as_sequence()?
                .iter()
                .find(|e| e.get("name").and_then(Value::as_str) == Some(name.as_str())),
        })
}

/// The value a scenario-scoped setting `key` has in the scenario document as written
/// (`None` when the field is absent and a default applies).
pub fn scenario_value(doc: &Value, key: &str) -> Option<Value> {
    get_path(doc, key).cloned()
}

/// The alternatives a schema node stands for: itself, or those of its `$ref`, `anyOf` and
/// `oneOf` (an `Option`, an enum written as a one-key map).
fn alternatives<'a>(
    node: &'a serde_json::Value,
    root: &'a serde_json::Value,
) -> Vec<&'a serde_json::Value> {
    if let Some(r) = node.get("$ref").and_then(|r| r.as_str()) {
        let target = r
            .strip_prefix("#/$defs/")
            .and_then(|name| root.get("$defs")?.get(name));
        return target.map_or_else(Vec::new, |t| alternatives(t, root));
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(list) = node.get(key).and_then(|l| l.as_array()) {
            return list.iter().flat_map(|n| alternatives(n, root)).collect();
        }
    }
    vec![node]
}

/// Checks that scenario key `key` names a field of the scenario file (its JSON Schema): a
/// misspelt key is refused with the closest field, instead of being set and refused later
/// among every field name, or ignored.
fn check_scenario_key(key: &str) -> Result<(), PathProblem> {
    let schema = serde_json::to_value(schemars::schema_for!(RawScenario))
        .map_err(|e| PathProblem(e.to_string()))?;
    let mut nodes = vec![&schema];
    let mut walked = String::new();
    for step in parse_path(key)? {
        let alts: Vec<&serde_json::Value> = nodes
            .iter()
            .flat_map(|n| alternatives(n, &schema))
            .collect();
        // Below a value with no known fields (a scalar, a free mapping) the file's own
        // reading decides.
        let shaped = |a: &&serde_json::Value| {
            a.get("properties").is_some()
                || a.get("items").is_some()
                || a.get("additionalProperties").is_some_and(|v| v.is_object())
        };
        if !alts.iter().any(shaped) {
            return Ok(());
        }
        nodes = match &step {
            Step::Key(k) => {
                let mut next: Vec<&serde_json::Value> = alts
                    .iter()
                    .filter_map(|a| a.get("properties")?.get(k.as_str()))
                    .collect();
                next.extend(
                    alts.iter()
                        .filter_map(|a| a.get("additionalProperties").filter(|v| v.is_object())),
                );
                if next.is_empty() {
                    let known: Vec<&str> = alts
                        .iter()
                        .filter_map(|a| a.get("properties")?.as_object())
                        .flat_map(|m| m.keys().map(String::as_str))
                        .collect();
                    let at = if walked.is_empty() {
                        "the scenario".to_string()
                    } else {
                        format!("`{walked}`")
                    };
                    let hint = match crate::kthena::warnings::did_you_mean(k, known.iter().copied())
                    {
                        Some(m) => format!("did you mean `{m}`?"),
                        None => format!("its fields: {}", known.join(", ")),
                    };
                    return Err(PathProblem(format!("{at} has no field `{k}`; {hint}")));
                }
                next
            }
            Step::Index(_) | Step::Named(_) => {
                let next: Vec<&serde_json::Value> =
                    alts.iter().filter_map(|a| a.get("items")).collect();
                if next.is_empty() {
                    return Err(PathProblem(format!("`{walked}` is not a list")));
                }
                next
            }
        };
        match &step {
            Step::Key(k) if walked.is_empty() => walked.push_str(k),
            Step::Key(k) => {
                walked.push('.');
                walked.push_str(k);
            }
            Step::Index(n) => walked.push_str(&format!("[{n}]")),
            Step::Named(n) => walked.push_str(&format!("[{n}]")),
        }
    }
    Ok(())
}

/// Applies the scenario-scoped settings to the scenario document; a key that names no field
/// of the scenario file is refused with the closest one.
pub fn apply_to_scenario(doc: &mut Value, settings: &[Setting]) -> Result<(), SettingError> {
    for s in settings.iter().filter(|s| s.scope() == Scope::Scenario) {
        check_scenario_key(&s.key).map_err(|e| s.failed(e))?;
        set_path(doc, &s.key, s.value.clone()).map_err(|e| s.failed(e))?;
    }
    Ok(())
}

const TARGETS: [&str; 3] = [
    "homogeneousTarget",
    "heterogeneousTarget",
    "disaggregatedTarget",
];

/// The path within `spec` of a document of `kind` that the manifest-scoped setting `s`
/// addresses, or `None` when it does not address that document.
fn spec_path(s: &Setting, kind: &str, spec: &Value) -> Option<String> {
    let local = s.local_key();
    match (s.scope(), kind) {
        (Scope::Policy, "AutoscalingPolicy") => Some(local.to_string()),
        (Scope::Binding, "AutoscalingPolicyBinding" | "AutoscalingPolicy") => {
            let first = local.split(['.', '[']).next().unwrap_or("");
            if first == "policyRef" || TARGETS.contains(&first) {
                return Some(local.to_string());
            }
            let present = TARGETS.iter().find(|t| spec.get(**t).is_some())?;
            Some(format!("{present}.{local}"))
        }
        _ => None,
    }
}

/// The value the manifest-scoped setting `s` finds in the first document of the manifest
/// `text` it addresses (`None` when no document has the field, or the text is not YAML).
pub fn manifest_value(text: &str, s: &Setting) -> Option<Value> {
    let docs: Vec<Value> = yaml_serde::Deserializer::from_str(text)
        .filter_map(|de| Value::deserialize(de).ok())
        .collect();
    docs.iter().flat_map(objects).find_map(|object| {
        let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
        let spec = object.get("spec")?;
        get_path(spec, &spec_path(s, kind, spec)?).cloned()
    })
}

/// The Kubernetes objects of a document: the `items` of a `kind: List` (as `kubectl get -o
/// yaml` prints them), else the document itself.
fn objects(doc: &Value) -> Vec<&Value> {
    match doc.get("items").and_then(Value::as_sequence) {
        Some(items) if is_list(doc) => items.iter().collect(),
        _ => vec![doc],
    }
}

/// [`objects`], mutable.
fn objects_mut(doc: &mut Value) -> Vec<&mut Value> {
    if !(is_list(doc) && doc.get("items").is_some_and(Value::is_sequence)) {
        return vec![doc];
    }
    doc.get_mut("items")
        .and_then(Value::as_sequence_mut)
        .map(|items| items.iter_mut().collect())
        .unwrap_or_default()
}

fn is_list(doc: &Value) -> bool {
    doc.get("kind").and_then(Value::as_str) == Some("List")
}

/// Applies the `policy.` / `binding.` settings to the documents of one manifest file and
/// returns its new text (unchanged when no setting applies to it). `matched[i]` is set
/// when setting `i` changed some document.
pub fn apply_to_manifest(
    text: &str,
    settings: &[Setting],
    matched: &mut [bool],
) -> Result<String, SettingError> {
    apply_to_manifest_at(text, settings, matched, &mut Vec::new())
}

/// [`apply_to_manifest`], also recording each setting applied: its index, the object
/// (0-based, a List's items counted one by one) and the field path it wrote (`spec.metrics[0].targetValue`), so that a setting
/// the API server would prune is refused by name.
pub fn apply_to_manifest_at(
    text: &str,
    settings: &[Setting],
    matched: &mut [bool],
    applied: &mut Vec<(usize, usize, String)>,
) -> Result<String, SettingError> {
    let relevant: Vec<(usize, &Setting)> = settings
        .iter()
        .enumerate()
        .filter(|(_, s)| s.scope() != Scope::Scenario)
        .collect();
    if relevant.is_empty() {
        return Ok(text.to_string());
    }
    let mut docs: Vec<Value> = Vec::new();
    for de in yaml_serde::Deserializer::from_str(text) {
        docs.push(Value::deserialize(de).map_err(|e| SettingError::NotYaml(e.to_string()))?);
    }
    for (d, doc) in docs.iter_mut().flat_map(objects_mut).enumerate() {
        let kind = doc
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let Some(spec) = doc.get_mut("spec") else {
            continue;
        };
        for &(i, s) in &relevant {
            let Some(path) = spec_path(s, &kind, spec) else {
                continue;
            };
            set_path(spec, &path, s.value.clone()).map_err(|e| s.failed(e))?;
            matched[i] = true;
            applied.push((i, d, format!("spec.{path}")));
        }
    }
    let mut out = String::new();
    for (i, d) in docs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&yaml_serde::to_string(d).map_err(|e| SettingError::NotYaml(e.to_string()))?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(s: &str) -> Setting {
        s.parse().unwrap()
    }

    #[test]
    fn settings_parse_keys_and_scalar_values() {
        let s = set("policy.metrics[0].targetValue=12.5");
        assert_eq!(s.scope(), Scope::Policy);
        assert_eq!(s.value.as_f64(), Some(12.5));
        assert_eq!(set("engine=v0.4").value.as_str(), Some("v0.4"));
        assert_eq!(set("binding.maxReplicas=8").scope(), Scope::Binding);
        assert!("nokey".parse::<Setting>().is_err());
        assert!("a[=1".parse::<Setting>().is_err());
    }

    #[test]
    fn scenario_paths_by_index_and_name() {
        let mut doc: Value = yaml_serde::from_str(
            "seed: 1\nservings:\n  - name: a\n    replicas: 1\n  - name: b\n    replicas: 2\n",
        )
        .unwrap();
        apply_to_scenario(
            &mut doc,
            &[
                set("servings[b].replicas=5"),
                set("servings[0].price_per_hour=3"),
                set("seed=9"),
            ],
        )
        .unwrap();
        assert_eq!(doc["servings"][1]["replicas"].as_i64(), Some(5));
        assert_eq!(doc["servings"][0]["price_per_hour"].as_i64(), Some(3));
        assert_eq!(doc["seed"].as_i64(), Some(9));
        let err = apply_to_scenario(&mut doc, &[set("servings[c].replicas=1")]).unwrap_err();
        assert!(err.to_string().contains("no element named \"c\""), "{err}");
    }

    #[test]
    fn manifest_settings_reach_policies_and_binding_targets() {
        let v04 = "kind: AutoscalingPolicy\nspec:\n  metrics:\n  - metricName: m\n    targetValue: 10\n---\nkind: AutoscalingPolicyBinding\nspec:\n  homogeneousTarget:\n    minReplicas: 1\n    maxReplicas: 4\n";
        let mut matched = [false; 2];
        let out = apply_to_manifest(
            v04,
            &[
                set("policy.metrics[0].targetValue=5"),
                set("binding.maxReplicas=9"),
            ],
            &mut matched,
        )
        .unwrap();
        assert_eq!(matched, [true, true]);
        assert!(
            out.contains("targetValue: 5") && out.contains("maxReplicas: 9"),
            "{out}"
        );
        let current = "kind: AutoscalingPolicy\nspec:\n  heterogeneousTarget:\n    costExpansionRatePercent: 200\n";
        let mut matched = [false];
        let out = apply_to_manifest(
            current,
            &[set("binding.costExpansionRatePercent=100")],
            &mut matched,
        )
        .unwrap();
        assert!(
            matched[0] && out.contains("costExpansionRatePercent: 100"),
            "{out}"
        );
    }

    #[test]
    fn values_are_read_where_settings_would_write_them() {
        let v04 = "kind: AutoscalingPolicy\nspec:\n  metrics:\n  - metricName: m\n    targetValue: 10\n---\nkind: AutoscalingPolicyBinding\nspec:\n  homogeneousTarget:\n    minReplicas: 1\n    maxReplicas: 4\n";
        let value = |key: &str| manifest_value(v04, &set(&format!("{key}=0")));
        assert_eq!(
            value("binding.maxReplicas").and_then(|v| v.as_i64()),
            Some(4)
        );
        assert_eq!(
            value("policy.metrics[0].targetValue").and_then(|v| v.as_i64()),
            Some(10)
        );
        assert_eq!(value("binding.panicThreshold"), None);
        let doc: Value = yaml_serde::from_str("servings:\n  - name: a\n    replicas: 2\n").unwrap();
        assert_eq!(
            scenario_value(&doc, "servings[a].replicas").and_then(|v| v.as_i64()),
            Some(2)
        );
        assert_eq!(scenario_value(&doc, "servings[0].price_per_hour"), None);
    }
}
