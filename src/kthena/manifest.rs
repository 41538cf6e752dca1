//! Real Kthena manifests in, engine policies out. A [`ManifestSet`] reads multi-document YAML
//! texts holding `AutoscalingPolicy` and `AutoscalingPolicyBinding` objects of either API
//! generation and `ModelServing` objects, checks them as the API server and Kthena's webhooks
//! would (every problem with its field path), applies the defaults, and hands out the engine's
//! [`Policy`] values. Other kinds are skipped with a note.
//!
//! No I/O: texts come in with the names to report them under.
//!
//! Objects are applied in the order given, as `kubectl apply` would: a later object with the
//! same kind, namespace and name replaces an earlier one (with a note). v0.x and current-API
//! objects are taken to live in different clusters: a binding only ever refers to a v0.x
//! policy.

mod build;
mod documents;
mod model_serving;
pub(crate) mod raw;
mod read;
mod read_hpa;
mod read_keda;
mod read_knative;
mod read_spec;
mod yaml_walk;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use yaml_serde::Value;

use self::raw::{Meta, RawBinding, RawPolicyCurrent, RawPolicyV04};
use self::yaml_walk::Node;
use super::autoscaler::AutoscalerSpec;
use super::field::{FieldPath, Findings};
use super::validation;
use crate::diagnostic::{Diagnostic, Place};
use crate::engine::policy::Policy;
use crate::engine::EngineVersion;
use crate::hpa::HpaSpec;
use crate::keda::ScaledObjectSpec;
use crate::kpa::{KpaConfig, KpaSpec};

pub use self::model_serving::{ModelServing, ModelServingRole};

/// The name of Knative's autoscaler settings ConfigMap.
const KNATIVE_CONFIG_AUTOSCALER: &str = "config-autoscaler";

/// The API group of every Kthena resource read here.
const GROUP: &str = "workload.serving.volcano.sh";
const API_VERSION: &str = "workload.serving.volcano.sh/v1alpha1";

/// Which generation of Kthena's autoscaling API an object is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ApiGeneration {
    /// v0.x: `AutoscalingPolicy` (metrics, behaviour) + `AutoscalingPolicyBinding` (target).
    V0_4,
    /// Since v1.0: one `AutoscalingPolicy` holding its target.
    Current,
}

impl ApiGeneration {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiGeneration::V0_4 => "v0.x",
            ApiGeneration::Current => "current",
        }
    }

    /// The engine that runs policies of this API by default.
    pub fn engine_version(self) -> EngineVersion {
        match self {
            ApiGeneration::V0_4 => EngineVersion::V0_4,
            ApiGeneration::Current => EngineVersion::Head,
        }
    }
}

impl fmt::Display for ApiGeneration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kinds read here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectKind {
    AutoscalingPolicy,
    AutoscalingPolicyBinding,
    ModelServing,
    /// `autoscaling/v2`.
    HorizontalPodAutoscaler,
    /// `keda.sh/v1alpha1`.
    ScaledObject,
    /// A Knative `serving.knative.dev/v1` Service: its revision's KPA.
    KnativeService,
    /// Knative's `config-autoscaler` ConfigMap (other ConfigMaps are ignored).
    ConfigMap,
}

impl ObjectKind {
    /// The kind of `kind` in API group `group`, with the one API version read of it.
    fn from_kind(group: &str, kind: &str) -> Option<(Self, &'static str)> {
        match (group, kind) {
            (GROUP, "AutoscalingPolicy") => Some((ObjectKind::AutoscalingPolicy, API_VERSION)),
            (GROUP, "AutoscalingPolicyBinding") => {
                Some((ObjectKind::AutoscalingPolicyBinding, API_VERSION))
            }
            (GROUP, "ModelServing") => Some((ObjectKind::ModelServing, API_VERSION)),
            ("autoscaling", "HorizontalPodAutoscaler") => {
                Some((ObjectKind::HorizontalPodAutoscaler, "autoscaling/v2"))
            }
            ("keda.sh", "ScaledObject") => Some((ObjectKind::ScaledObject, "keda.sh/v1alpha1")),
            ("serving.knative.dev", "Service") => {
                Some((ObjectKind::KnativeService, "serving.knative.dev/v1"))
            }
            ("", "ConfigMap") => Some((ObjectKind::ConfigMap, "v1")),
            _ => None,
        }
    }

    /// Kinds applied with kubectl's strict field validation: an unknown field is refused,
    /// not pruned (Kthena's CRDs prune them).
    fn strict(self) -> bool {
        !matches!(
            self,
            ObjectKind::AutoscalingPolicy
                | ObjectKind::AutoscalingPolicyBinding
                | ObjectKind::ModelServing
        )
    }

    /// `policy`, `binding`, `modelserving`: how reports name the kind.
    pub fn short_name(self) -> &'static str {
        match self {
            ObjectKind::AutoscalingPolicy => "policy",
            ObjectKind::AutoscalingPolicyBinding => "binding",
            ObjectKind::ModelServing => "modelserving",
            ObjectKind::HorizontalPodAutoscaler => "hpa",
            ObjectKind::ScaledObject => "scaledobject",
            ObjectKind::KnativeService => "ksvc",
            ObjectKind::ConfigMap => "configmap",
        }
    }
}

/// Where an object sits: file name as given, 1-based document index among the non-empty
/// documents, its 1-based index among the `items` of a `kind: List` document, and the 1-based
/// line where its content starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub document: usize,
    pub item: Option<usize>,
    pub line: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.place())
    }
}

/// A recognised object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestObject {
    pub kind: ObjectKind,
    /// The API generation of a policy or binding; `None` for a ModelServing.
    pub api: Option<ApiGeneration>,
    pub namespace: String,
    /// `""` when `metadata.name` is missing (a problem is reported).
    pub name: String,
    pub location: Location,
    /// No problem was found in the object's document.
    pub valid: bool,
}

impl Location {
    /// Where in its file the document is, for diagnostics.
    pub fn place(&self) -> Place {
        Place::Document {
            document: self.document,
            item: self.item,
            line: self.line,
        }
    }

    /// Whether diagnostic `d` is about this document's file.
    pub fn same_file(&self, d: &Diagnostic) -> bool {
        d.file.as_deref() == Some(self.file.as_str())
    }
}

/// The document (1-based) a diagnostic of a manifest set points at.
pub fn document_of(d: &Diagnostic) -> usize {
    match d.place {
        Place::Document { document, .. } => document,
        _ => 0,
    }
}

/// An engine policy with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedPolicy {
    pub policy: Policy,
    /// The API generation it was written in; the simulator defaults the engine version to it
    /// ([`ApiGeneration::engine_version`]).
    pub api: ApiGeneration,
    /// The current-API policy, or the v0.x binding.
    pub location: Location,
}

/// An HPA, ScaledObject or Knative Service with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedAutoscaler {
    pub spec: AutoscalerSpec,
    pub location: Location,
}

/// The manifests are not all valid, so no engine input is derived from them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error("{count} problem(s) in the manifests, the first: {first}")]
    Invalid {
        count: usize,
        first: Box<Diagnostic>,
    },
}

/// A set of manifests checked together.
#[derive(Debug, Clone, Default)]
pub struct ManifestSet {
    objects: Vec<ManifestObject>,
    problems: Vec<Diagnostic>,
    notes: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
    policies: Vec<LoadedPolicy>,
    autoscalers: Vec<LoadedAutoscaler>,
    model_servings: Vec<ModelServing>,
}

/// What one document turned out to hold.
enum Content {
    PolicyV04(RawPolicyV04),
    PolicyCurrent(Box<RawPolicyCurrent>),
    Binding(RawBinding),
    ModelServing(ModelServing),
    Hpa(HpaSpec),
    ScaledObject(Box<ScaledObjectSpec>),
    KnativeService(Box<KpaSpec>),
    KpaConfig(Box<KpaConfig>),
}

/// One recognised document while the set is being checked.
struct Entry {
    kind: ObjectKind,
    meta: Meta,
    content: Option<Content>,
}

struct DocState<'v> {
    location: Location,
    findings: Findings,
    /// Recognised object: kind, metadata and `spec`.
    header: Option<(ObjectKind, Meta, Option<Node<'v>>)>,
    entry: Option<Entry>,
}

impl ManifestSet {
    /// Reads and checks `(name, text)` pairs together: a binding may refer to a policy in
    /// another text.
    pub fn from_sources<N: AsRef<str>, T: AsRef<str>>(sources: &[(N, T)]) -> ManifestSet {
        let parsed: Vec<(String, Vec<documents::Document>)> = sources
            .iter()
            .map(|(name, text)| {
                (
                    name.as_ref().to_string(),
                    documents::split_documents(text.as_ref()),
                )
            })
            .collect();

        let mut docs: Vec<DocState> = Vec::new();
        for (file, file_docs) in &parsed {
            for d in file_docs {
                let location = Location {
                    file: file.clone(),
                    document: d.index,
                    item: None,
                    line: d.line,
                };
                let mut findings = Findings::default();
                let value = match &d.value {
                    Ok(value) => value,
                    Err(e) => {
                        findings.problem(&FieldPath::default(), format!("invalid YAML: {e}"));
                        docs.push(DocState::new(location, findings, None));
                        continue;
                    }
                };
                match list_items(value, &mut findings) {
                    Some(items) => {
                        for (i, item) in items.iter().enumerate() {
                            let location = Location {
                                item: Some(i + 1),
                                line: d.item_lines.get(i).copied().unwrap_or(d.line),
                                ..location.clone()
                            };
                            let mut findings = Findings::default();
                            let header = read_header(item, &mut findings);
                            docs.push(DocState::new(location, findings, header));
                        }
                        if !findings.problems.is_empty() {
                            docs.push(DocState::new(location, findings, None));
                        }
                    }
                    None => {
                        let header = read_header(value, &mut findings);
                        docs.push(DocState::new(location, findings, header));
                    }
                }
            }
        }
        read_contents(&mut docs);
        cross_check(&mut docs);
        ManifestSet::collect(&docs)
    }

    /// Every recognised object, in document order.
    pub fn objects(&self) -> &[ManifestObject] {
        &self.objects
    }

    /// Every problem (an error: the API server or a webhook would refuse the object), in
    /// document order, each with its file, document and field path.
    pub fn problems(&self) -> &[Diagnostic] {
        &self.problems
    }

    /// Policies Kthena accepts that cannot work as written (see [`super::warnings`]), in
    /// document order; empty while the set has problems.
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// Every note (accepted, but worth knowing: an unknown field, an ignored kind, a
    /// replaced object), in document order.
    pub fn notes(&self) -> &[Diagnostic] {
        &self.notes
    }

    pub fn is_valid(&self) -> bool {
        self.problems.is_empty()
    }

    /// The engine policies: one per current-API policy and one per v0.x binding (joined with
    /// its policy), in document order, each defaulted as the API server would.
    pub fn policies(&self) -> Result<&[LoadedPolicy], ManifestError> {
        self.ensure_valid()?;
        Ok(&self.policies)
    }

    /// The HPAs, ScaledObjects and Knative Services, in document order; every KPA with the
    /// settings of the last `config-autoscaler` ConfigMap given (Knative's defaults without).
    pub fn autoscalers(&self) -> Result<&[LoadedAutoscaler], ManifestError> {
        self.ensure_valid()?;
        Ok(&self.autoscalers)
    }

    /// The ModelServings, in document order.
    pub fn model_servings(&self) -> Result<&[ModelServing], ManifestError> {
        self.ensure_valid()?;
        Ok(&self.model_servings)
    }

    fn ensure_valid(&self) -> Result<(), ManifestError> {
        match self.problems.first() {
            None => Ok(()),
            Some(first) => Err(ManifestError::Invalid {
                count: self.problems.len(),
                first: Box::new(first.clone()),
            }),
        }
    }

    fn collect(docs: &[DocState]) -> ManifestSet {
        let mut set = ManifestSet::default();
        for doc in docs {
            let location = &doc.location;
            if let Some(entry) = &doc.entry {
                set.objects.push(ManifestObject {
                    kind: entry.kind,
                    api: entry.api(),
                    namespace: entry.meta.namespace.clone(),
                    name: entry.meta.name.clone(),
                    location: location.clone(),
                    valid: doc.findings.problems.is_empty(),
                });
            }
            let placed = |d: &Diagnostic| {
                d.clone()
                    .in_file(location.file.clone())
                    .at(location.place())
            };
            set.problems
                .extend(doc.findings.problems.iter().map(placed));
            set.notes.extend(doc.findings.notes.iter().map(placed));
        }
        if set.problems.is_empty() {
            set.build(docs);
            set.warnings = set
                .policies
                .iter()
                .flat_map(super::warnings::policy_warnings)
                .collect();
        }
        set
    }

    /// Derives the engine inputs from a valid set; later definitions replace earlier ones.
    fn build(&mut self, docs: &[DocState]) {
        let latest = latest_definitions(docs);
        let in_force = || {
            docs.iter()
                .enumerate()
                .filter(|(i, _)| latest.contains(i))
                .filter_map(|(_, d)| Some((&d.location, d.entry.as_ref()?)))
        };
        let kpa_config = (in_force())
            .filter_map(|(_, e)| match &e.content {
                Some(Content::KpaConfig(c)) => Some((**c).clone()),
                _ => None,
            })
            .next_back()
            .unwrap_or_default();
        let mut v04_policies = BTreeMap::new();
        for (_, entry) in in_force() {
            if let Some(Content::PolicyV04(p)) = &entry.content {
                let meta = &entry.meta;
                v04_policies.insert((meta.namespace.as_str(), meta.name.as_str()), (meta, p));
            }
        }
        for (location, entry) in in_force() {
            let meta = &entry.meta;
            let built = match &entry.content {
                Some(Content::PolicyCurrent(p)) => {
                    build::policy_current(meta, p).map(|p| (p, ApiGeneration::Current))
                }
                Some(Content::Binding(b)) => v04_policies
                    .get(&(meta.namespace.as_str(), b.policy_ref_name.as_str()))
                    .and_then(|(pm, p)| build::policy_v04(meta, b, pm, p))
                    .map(|p| (p, ApiGeneration::V0_4)),
                Some(Content::ModelServing(ms)) => {
                    self.model_servings.push(ms.clone());
                    None
                }
                Some(Content::Hpa(h)) => {
                    self.add_autoscaler(AutoscalerSpec::Hpa(h.clone()), location);
                    None
                }
                Some(Content::ScaledObject(k)) => {
                    self.add_autoscaler(AutoscalerSpec::Keda((**k).clone()), location);
                    None
                }
                Some(Content::KnativeService(k)) => {
                    let spec = AutoscalerSpec::Kpa {
                        name: meta.name.clone(),
                        namespace: meta.namespace.clone(),
                        spec: k.clone(),
                        config: Box::new(kpa_config.clone()),
                    };
                    self.add_autoscaler(spec, location);
                    None
                }
                Some(Content::PolicyV04(_) | Content::KpaConfig(_)) | None => None,
            };
            if let Some((policy, api)) = built {
                self.policies.push(LoadedPolicy {
                    policy,
                    api,
                    location: location.clone(),
                });
            }
        }
    }
}

impl ManifestSet {
    fn add_autoscaler(&mut self, spec: AutoscalerSpec, location: &Location) {
        self.autoscalers.push(LoadedAutoscaler {
            spec,
            location: location.clone(),
        });
    }
}

impl<'v> DocState<'v> {
    fn new(
        location: Location,
        findings: Findings,
        header: Option<(ObjectKind, Meta, Option<Node<'v>>)>,
    ) -> Self {
        DocState {
            location,
            findings,
            header,
            entry: None,
        }
    }
}

/// The `items` of a `kind: List` document (`apiVersion: v1`, as `kubectl get -o yaml` prints
/// several objects); `None` for any other document. A List without an `items` sequence is a
/// problem (and has no items).
fn list_items<'v>(value: &'v Value, f: &mut Findings) -> Option<&'v [Value]> {
    let map = value.as_mapping()?;
    if map.get("kind").and_then(Value::as_str) != Some("List") {
        return None;
    }
    match map.get("items") {
        Some(Value::Sequence(items)) => Some(items),
        Some(Value::Null) | None => Some(&[]),
        Some(other) => {
            f.invalid(
                &FieldPath::new("items"),
                &yaml_walk::render(other),
                "a List's items must be a sequence of objects",
            );
            Some(&[])
        }
    }
}

impl Entry {
    fn api(&self) -> Option<ApiGeneration> {
        match self.content.as_ref()? {
            Content::PolicyV04(_) | Content::Binding(_) => Some(ApiGeneration::V0_4),
            Content::PolicyCurrent(_) => Some(ApiGeneration::Current),
            Content::ModelServing(_)
            | Content::Hpa(_)
            | Content::ScaledObject(_)
            | Content::KnativeService(_)
            | Content::KpaConfig(_) => None,
        }
    }

    /// Objects with the same key replace each other; v0.x and current policies never do.
    fn key(&self) -> (ObjectKind, Option<ApiGeneration>, &str, &str) {
        (self.kind, self.api(), &self.meta.namespace, &self.meta.name)
    }
}

/// Indices of the documents whose object is not replaced by a later one with the same key.
fn latest_definitions(docs: &[DocState]) -> BTreeSet<usize> {
    let mut by_key = BTreeMap::new();
    for (i, doc) in docs.iter().enumerate() {
        if let Some(e) = &doc.entry {
            by_key.insert(e.key(), i);
        }
    }
    by_key.into_values().collect()
}

/// `apiVersion`, `kind` and `metadata`; `None` for a kind that is not read here.
fn read_header<'v>(
    value: &'v Value,
    f: &mut Findings,
) -> Option<(ObjectKind, Meta, Option<Node<'v>>)> {
    let root = Node::new(value, FieldPath::default());
    let Value::Mapping(_) = root.value else {
        f.problem(
            &FieldPath::default(),
            format!(
                "a Kubernetes object must be a YAML mapping, not {}",
                yaml_walk::render(root.value)
            ),
        );
        return None;
    };
    let mut o = root.fields(f)?;
    let api_version = o.require("apiVersion", f).and_then(|n| n.string(f));
    let kind = o.require("kind", f).and_then(|n| n.string(f));
    let (Some(api_version), Some(kind)) = (api_version, kind) else {
        return None;
    };
    let group = api_version.rsplit_once('/').map_or("", |(group, _)| group);
    let Some((object_kind, version)) = ObjectKind::from_kind(group, &kind) else {
        f.note(
            &FieldPath::default(),
            format!("kind {kind} ({api_version}) is not read by this tool; ignored"),
        );
        return None;
    };
    if api_version != version {
        f.unsupported(&FieldPath::new("apiVersion"), &api_version, &[version]);
    }
    let meta = read::metadata(&mut o, f);
    if object_kind == ObjectKind::ConfigMap && meta.name != KNATIVE_CONFIG_AUTOSCALER {
        f.note(
            &FieldPath::default(),
            format!(
                "ConfigMap {} is not Knative's {KNATIVE_CONFIG_AUTOSCALER}; ignored",
                meta.name
            ),
        );
        return None;
    }
    // A ConfigMap's settings are its `data`; every other kind's its `spec`.
    let spec = match object_kind {
        ObjectKind::ConfigMap => {
            o.skip("binaryData");
            o.skip("immutable");
            o.take("data")
        }
        _ => o.take("spec"),
    };
    o.skip("status");
    if object_kind.strict() {
        o.finish_strict(f);
    } else {
        o.finish(f);
    }
    Some((object_kind, meta, spec))
}

/// Reads every recognised object's spec; an AutoscalingPolicy's API generation may depend on
/// the bindings that refer to it.
fn read_contents(docs: &mut [DocState]) {
    let referenced: BTreeSet<(String, String)> = docs
        .iter()
        .filter_map(|d| match &d.header {
            Some((ObjectKind::AutoscalingPolicyBinding, meta, Some(spec))) => {
                let name = spec.value.get("policyRef")?.get("name")?.as_str()?;
                Some((meta.namespace.clone(), name.to_string()))
            }
            _ => None,
        })
        .collect();
    for doc in docs.iter_mut() {
        let Some((kind, meta, spec)) = doc.header.take() else {
            continue;
        };
        let f = &mut doc.findings;
        let Some(spec) = spec else {
            let field = if kind == ObjectKind::ConfigMap {
                "data"
            } else {
                "spec"
            };
            f.required(&FieldPath::new(field), "");
            doc.entry = Some(Entry {
                kind,
                meta,
                content: None,
            });
            continue;
        };
        let (name, ns) = (meta.name.as_str(), meta.namespace.as_str());
        let content = match kind {
            ObjectKind::AutoscalingPolicy => {
                let key = (meta.namespace.clone(), meta.name.clone());
                Some(
                    match read::policy_api(Some(spec.value), referenced.contains(&key)) {
                        ApiGeneration::V0_4 => Content::PolicyV04(read::policy_v04(&spec, f)),
                        ApiGeneration::Current => {
                            Content::PolicyCurrent(Box::new(read::policy_current(&spec, f)))
                        }
                    },
                )
            }
            ObjectKind::AutoscalingPolicyBinding => Some(Content::Binding(read::binding(&spec, f))),
            ObjectKind::ModelServing => {
                Some(Content::ModelServing(model_serving::read(&meta, &spec, f)))
            }
            ObjectKind::HorizontalPodAutoscaler => {
                read_hpa::read(&spec, name, ns, f).map(Content::Hpa)
            }
            ObjectKind::ScaledObject => read_keda::scaled_object(name, ns, &spec, f)
                .map(|k| Content::ScaledObject(Box::new(k))),
            ObjectKind::KnativeService => read_knative::service(name, ns, &spec, f)
                .map(|k| Content::KnativeService(Box::new(k))),
            ObjectKind::ConfigMap => {
                read_knative::config_autoscaler(&spec, f).map(|c| Content::KpaConfig(Box::new(c)))
            }
        };
        doc.entry = Some(Entry {
            kind,
            meta,
            content,
        });
    }
}

/// The schema and webhook checks, which for a binding need the policies around it, and the
/// notes about how the objects relate.
fn cross_check(docs: &mut [DocState]) {
    let policies_by_api = |api: ApiGeneration| -> BTreeMap<(String, String), Location> {
        docs.iter()
            .filter_map(|d| {
                let e = d.entry.as_ref()?;
                (e.kind == ObjectKind::AutoscalingPolicy && e.api() == Some(api)).then(|| {
                    (
                        (e.meta.namespace.clone(), e.meta.name.clone()),
                        d.location.clone(),
                    )
                })
            })
            .collect()
    };
    let v04_policies = policies_by_api(ApiGeneration::V0_4);
    let current_policies = policies_by_api(ApiGeneration::Current);
    let bound: BTreeSet<(String, String)> = docs
        .iter()
        .filter_map(|d| match d.entry.as_ref()?.content.as_ref()? {
            Content::Binding(b) => Some((
                d.entry.as_ref()?.meta.namespace.clone(),
                b.policy_ref_name.clone(),
            )),
            _ => None,
        })
        .collect();

    let mut seen: BTreeMap<(ObjectKind, Option<ApiGeneration>, String, String), Location> =
        BTreeMap::new();
    for doc in docs.iter_mut() {
        let Some(entry) = &doc.entry else { continue };
        let f = &mut doc.findings;
        let key = (entry.meta.namespace.clone(), entry.meta.name.clone());
        match &entry.content {
            Some(Content::PolicyV04(p)) => {
                validation::policy_v04(p, f);
                if !bound.contains(&key) {
                    f.note(
                        &FieldPath::default(),
                        "no AutoscalingPolicyBinding given here refers to this v0.x policy, so it scales nothing",
                    );
                }
            }
            Some(Content::PolicyCurrent(p)) => validation::policy_current(p, f),
            Some(Content::Binding(b)) => {
                let policy_key = (entry.meta.namespace.clone(), b.policy_ref_name.clone());
                let exists = v04_policies.contains_key(&policy_key);
                validation::binding(b, exists, f);
                if let Some(at) = current_policies.get(&policy_key).filter(|_| !exists) {
                    f.note(
                        &FieldPath::new("spec").child("policyRef").child("name"),
                        format!(
                            "the policy {} at {at} is written in the current API; a binding refers to a v0.x policy (metrics[].metricName)",
                            b.policy_ref_name
                        ),
                    );
                }
            }
            Some(
                Content::ModelServing(_)
                | Content::Hpa(_)
                | Content::ScaledObject(_)
                | Content::KnativeService(_)
                | Content::KpaConfig(_),
            )
            | None => {}
        }
        let (kind, api, ns, name) = entry.key();
        if !name.is_empty() {
            let full_key = (kind, api, ns.to_string(), name.to_string());
            if let Some(earlier) = seen.insert(full_key, doc.location.clone()) {
                f.note(
                    &FieldPath::default(),
                    format!(
                        "{}/{name} replaces the one at {earlier} (objects are applied in order, as kubectl apply does)",
                        kind.short_name()
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests;
