//! The scenario's Kthena manifests: read (with `--set` settings applied) and checked as
//! `validate` would, the engine version chosen from their API generation, their policies
//! converted to that engine and checked against the simulated servings.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use super::Problems;
use crate::diagnostic::{Diagnostic, FieldPath};
use crate::engine::metric_collector::DEFAULT_METRIC_PORT;
use crate::engine::policy::{
    MetricEndpoint, MetricSource, MetricTarget, PodMetricSource, Policy, ScalingTarget, Target,
};
use crate::engine::EngineVersion;
use crate::kthena::manifest::{ApiGeneration, ManifestSet};
use crate::kthena::warnings::did_you_mean;
use crate::model::metrics::exposed_families;
use crate::model::spec::Serving;
use crate::scenario::setting::{apply_to_manifest_at, Setting, SettingError};
use crate::sim::SimTime;

/// Reads the manifest `files` listed at `field` (relative to `base`), with the settings
/// applied (`matched[i]` set when setting `i` changed a document).
pub(super) fn read_manifests(
    base: &Path,
    files: &[String],
    field: &FieldPath,
    settings: &[Setting],
    matched: &mut [bool],
    p: &mut Problems,
) -> Option<ManifestSet> {
    let mut sources = Vec::new();
    let mut applied: Vec<(String, usize, String)> = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let path = base.join(f);
        let name = path.display().to_string();
        let mut at = Vec::new();
        match crate::text::read_text(&path) {
            Ok(text) => match apply_to_manifest_at(&text, settings, matched, &mut at) {
                Ok(text) => sources.push((name.clone(), text)),
                Err(e) => {
                    // The setting is refused here, once: not again as matching nothing.
                    if let SettingError::Apply { setting, .. } = &e {
                        for (k, s) in settings.iter().enumerate() {
                            matched[k] |= s.to_string() == *setting;
                        }
                    }
                    p.add(field.index(i), e);
                }
            },
            Err(e) => p.add(field.index(i), format!("{name}: {e}")),
        }
        applied.extend(at.into_iter().map(|(s, _, path)| (name.clone(), s, path)));
    }
    if sources.len() != files.len() {
        return None;
    }
    let set = ManifestSet::from_sources(&sources);
    // A setting the API server would prune (a misspelt field) is refused by name: a value
    // that changes nothing must not pass for a result.
    for (file, s, path) in &applied {
        let pruned = set.notes().iter().find(|n| {
            n.file.as_deref() == Some(file.as_str())
                && n.message.starts_with("unknown field")
                && (path.starts_with(n.path.as_str())
                    && path[n.path.as_str().len()..]
                        .chars()
                        .next()
                        .is_none_or(|c| c == '.' || c == '['))
        });
        if let Some(note) = pruned {
            let hint = note
                .hint
                .clone()
                .unwrap_or_else(|| "check the field's spelling and place".to_string());
            p.add(
                format!("--set {}", settings[*s]),
                format!(
                    "`{}` is not a field of the manifest {file}: the API server would drop it and the setting would change nothing; {hint}",
                    note.path
                ),
            );
        }
    }
    // As `validate` (and `kubectl apply`) refuse a file without objects: most likely the
    // wrong file, which would silently leave its servings unscaled.
    let mut empty = false;
    for (i, (name, _)) in sources.iter().enumerate() {
        let here = |file: &str| file == *name;
        let diagnosed = |d: &crate::diagnostic::Diagnostic| d.file.as_deref().is_some_and(here);
        if !set.objects().iter().any(|o| here(&o.location.file))
            && !set.problems().iter().any(diagnosed)
            && !set.notes().iter().any(diagnosed)
        {
            p.add(
                field.index(i),
                format!("{name}: no Kubernetes objects in the file"),
            );
            empty = true;
        }
    }
    for problem in set.problems() {
        p.add(field.clone(), problem);
    }
    for w in set.warnings() {
        let hint = w.hint.clone();
        let mut d = Diagnostic::warning(
            field.clone(),
            Diagnostic {
                hint: None,
                ..w.clone()
            }
            .to_string(),
        );
        d.hint = hint;
        p.0.push(d);
    }
    (set.is_valid() && !empty).then_some(set)
}

/// The engine version: the requested one, else the manifests' API generation (which must
/// then be the same for every policy).
pub(super) fn choose_engine(
    requested: Option<EngineVersion>,
    manifests: Option<&ManifestSet>,
    changes: &[(usize, SimTime, ManifestSet)],
    p: &mut Problems,
) -> Option<EngineVersion> {
    if requested.is_some() {
        return requested;
    }
    let mut apis: Vec<ApiGeneration> = Vec::new();
    for set in manifests
        .into_iter()
        .chain(changes.iter().map(|(_, _, s)| s))
    {
        if let Ok(policies) = set.policies() {
            apis.extend(policies.iter().map(|l| l.api));
        }
    }
    apis.sort();
    apis.dedup();
    match apis.as_slice() {
        [] => Some(EngineVersion::Head),
        [one] => Some(one.engine_version()),
        _ => {
            p.add("engine", "the manifests mix the v0.x and the current API: say which engine to run (`engine: v0.4` or `engine: head`)");
            None
        }
    }
}

/// The engine's policies of a manifest set, converted to `engine`, checked against the
/// simulated servings when they are all known.
pub(super) fn engine_policies(
    set: &ManifestSet,
    engine: EngineVersion,
    field: &FieldPath,
    servings: Option<&[Serving]>,
    p: &mut Problems,
) -> Vec<Policy> {
    let Ok(loaded) = set.policies() else {
        return Vec::new();
    };
    let others = set.autoscalers().map_or(0, <[_]>::len);
    if loaded.is_empty() && others == 0 && !set.objects().is_empty() {
        p.add(
            field.clone(),
            "no autoscaler in these files: no AutoscalingPolicy (with its binding), HorizontalPodAutoscaler, ScaledObject or Knative Service",
        );
    }
    let exposed = exposed_families();
    loaded
        .iter()
        .filter_map(|l| {
            let at = PolicyAt {
                field,
                policy: format!(
                    "{} {}/{}",
                    l.location.file, l.policy.namespace, l.policy.name
                ),
            };
            let policy = match convert(&l.policy, l.api, engine) {
                Ok(policy) => policy,
                Err(e) => {
                    at.add(p, e);
                    return None;
                }
            };
            if let Some(servings) = servings {
                check_against_servings(&policy, engine, servings, &exposed, &at, p);
            }
            Some(policy)
        })
        .collect()
}

/// Where a policy's problems are reported: the scenario field that lists its file, and the
/// policy (`FILE NAMESPACE/NAME`) at the start of each message.
struct PolicyAt<'f> {
    field: &'f FieldPath,
    policy: String,
}

impl PolicyAt<'_> {
    fn add(&self, p: &mut Problems, message: impl fmt::Display) {
        p.add(self.field.clone(), format!("{}: {message}", self.policy));
    }

    /// A warning: the policy runs, but cannot do what it is meant to.
    fn warn(&self, p: &mut Problems, message: impl fmt::Display, hint: String) {
        p.0.push(
            Diagnostic::warning(self.field.clone(), format!("{}: {message}", self.policy))
                .with_hint(hint),
        );
    }
}

/// The scrape family and metric key of each metric of a target: `Some(family)` for a pod
/// metric, `None` for a metric without a pod source.
fn scraped_families(
    metrics: &[MetricTarget],
    target: &Target,
    engine: EngineVersion,
) -> Vec<(String, Option<String>)> {
    metrics
        .iter()
        .map(|m| {
            let family = match engine {
                EngineVersion::V0_4 => Some(m.name.clone()),
                EngineVersion::Head => {
                    match target.metric_sources.as_ref().and_then(|s| s.get(&m.name)) {
                        Some(MetricSource::Pod(src)) if src.name.is_empty() => Some(m.name.clone()),
                        Some(MetricSource::Pod(src)) => Some(src.name.clone()),
                        _ => None,
                    }
                }
            };
            (m.name.clone(), family)
        })
        .collect()
}

/// The ports a target's collector scrapes its pods on (a v0.x `metricEndpoint`, the current
/// API's pod sources, 8100 when unset); a v0.x target without an endpoint is warned about by
/// the manifest reader.
pub(in crate::scenario) fn scraped_ports(target: &Target, engine: EngineVersion) -> Vec<i32> {
    let mut ports: Vec<i32> = match engine {
        EngineVersion::V0_4 => target.metric_endpoint.iter().map(|e| e.port).collect(),
        EngineVersion::Head => target
            .metric_sources
            .iter()
            .flat_map(|s| s.values())
            .filter_map(|s| match s {
                MetricSource::Pod(pod) if pod.port == 0 => Some(DEFAULT_METRIC_PORT),
                MetricSource::Pod(pod) => Some(pod.port),
                MetricSource::Prometheus(_) => None,
            })
            .collect(),
    };
    ports.sort_unstable();
    ports.dedup();
    ports
}

/// Every target of the policy must be a simulated serving (and role), and every pod metric a
/// family the simulated pods expose.
fn check_against_servings(
    policy: &Policy,
    engine: EngineVersion,
    servings: &[Serving],
    exposed: &[String],
    at: &PolicyAt,
    p: &mut Problems,
) {
    for unit in policy.scaled_targets() {
        let r = &unit.target.target_ref;
        if r.name.is_empty() {
            at.add(p, "a target names no ModelServing (`targetRef.name`)");
            continue;
        }
        let ns = if r.namespace.is_empty() {
            &policy.namespace
        } else {
            &r.namespace
        };
        let Some(serving) = servings
            .iter()
            .find(|s| s.name == r.name && &s.namespace == ns)
        else {
            let names: Vec<String> = servings
                .iter()
                .map(|s| format!("{}/{}", s.namespace, s.name))
                .collect();
            let wanted = format!("{ns}/{}", r.name);
            let hint = match did_you_mean(&wanted, names.iter().map(String::as_str)) {
                Some(n) => format!("did you mean `{n}`?"),
                None => format!("the scenario's servings: {}", names.join(", ")),
            };
            at.warn(
                p,
                format!(
                    "targets ModelServing {wanted}, which the scenario does not simulate: this policy scales nothing in the run"
                ),
                hint,
            );
            continue;
        };
        if let Some(role) = unit.role {
            if !serving.roles.iter().any(|x| x.name == role) {
                let roles: Vec<&str> = serving.roles.iter().map(|x| x.name.as_str()).collect();
                at.add(
                    p,
                    format!(
                        "scales role {role:?}, which serving {} does not have (its roles: {})",
                        serving.name,
                        roles.join(", ")
                    ),
                );
            }
        }
        for (key, family) in scraped_families(unit.metrics, &unit.target, engine) {
            match family {
                None => {
                    if let Some(MetricSource::Prometheus(src)) = unit
                        .target
                        .metric_sources
                        .as_ref()
                        .and_then(|s| s.get(&key))
                    {
                        if let Err(e) = crate::model::prometheus::Query::parse(&src.query) {
                            at.add(p, format!("metric {key:?}: {e}"));
                        }
                    }
                }
                Some(f) if !exposed.contains(&f) => {
                    let hint = match did_you_mean(&f, exposed.iter().map(String::as_str)) {
                        Some(e) => format!("did you mean `{e}`?"),
                        None => format!("the simulated pods expose {}", exposed.join(", ")),
                    };
                    at.warn(
                        p,
                        format!(
                            "metric {key:?} reads family {f:?}, which the simulated pods never expose: every tick is skipped and this policy never scales"
                        ),
                        hint,
                    );
                }
                Some(_) => {}
            }
        }
        for port in scraped_ports(&unit.target, engine) {
            if port != serving.metrics_port {
                at.warn(
                    p,
                    format!(
                        "scrapes port {port}, but the pods of {} serve their metrics on port {}: every scrape fails and this policy never scales",
                        serving.name, serving.metrics_port
                    ),
                    format!(
                        "use port {} (or set `servings[].metrics.port` to {port})",
                        serving.metrics_port
                    ),
                );
            }
        }
    }
}

/// Why a policy cannot run on the other engine version than its API generation's.
#[derive(Debug, thiserror::Error)]
enum ConversionError {
    #[error("role-level (`subTargets`) bindings have no current-API equivalent; run them with `engine: v0.4`")]
    RoleLevel,
    #[error("metric {0:?} comes from Prometheus, which the v0.4 engine cannot read")]
    PrometheusOnV04(String),
    #[error("v0.4 scrapes one endpoint per target; these metrics come from different endpoints")]
    SeveralEndpoints,
    #[error("disaggregated targets exist only in the current API; run them with `engine: head`")]
    Disaggregated,
}

/// The policy as the other API generation would hold it, when the engine differs from the
/// manifests' generation: v0.x `metricEndpoint` ⇔ current `metricSources` (pod sources).
fn convert(
    policy: &Policy,
    api: ApiGeneration,
    engine: EngineVersion,
) -> Result<Policy, ConversionError> {
    let mut out = policy.clone();
    match (api, engine) {
        (ApiGeneration::V0_4, EngineVersion::V0_4)
        | (ApiGeneration::Current, EngineVersion::Head) => {}
        (ApiGeneration::V0_4, EngineVersion::Head) => {
            let metrics = policy.metrics.clone();
            for t in targets_mut(&mut out)? {
                if t.sub_target.as_ref().is_some_and(|s| s.kind == "Role") {
                    return Err(ConversionError::RoleLevel);
                }
                let endpoint = t.metric_endpoint.take().unwrap_or_default();
                t.metric_sources = Some(
                    metrics
                        .iter()
                        .map(|m| {
                            (
                                m.name.clone(),
                                MetricSource::Pod(PodMetricSource {
                                    name: String::new(),
                                    uri: endpoint.uri.clone(),
                                    port: endpoint.port,
                                    label_selector: endpoint.label_selector.clone(),
                                }),
                            )
                        })
                        .collect(),
                );
            }
        }
        (ApiGeneration::Current, EngineVersion::V0_4) => {
            let keys: Vec<String> = policy.metrics.iter().map(|m| m.name.clone()).collect();
            let mut renamed: BTreeMap<String, String> = BTreeMap::new();
            for t in targets_mut(&mut out)? {
                let sources = t.metric_sources.take().unwrap_or_default();
                let mut endpoint: Option<MetricEndpoint> = None;
                for key in &keys {
                    let Some(src) = sources.get(key) else {
                        continue;
                    };
                    let MetricSource::Pod(pod) = src else {
                        return Err(ConversionError::PrometheusOnV04(key.clone()));
                    };
                    let e = MetricEndpoint {
                        uri: pod.uri.clone(),
                        port: pod.port,
                        label_selector: pod.label_selector.clone(),
                    };
                    if endpoint.as_ref().is_some_and(|x| *x != e) {
                        return Err(ConversionError::SeveralEndpoints);
                    }
                    endpoint = Some(e);
                    if !pod.name.is_empty() {
                        renamed.insert(key.clone(), pod.name.clone());
                    }
                }
                t.metric_endpoint = endpoint;
            }
            // v0.4 scrapes the family named like the metric.
            for m in &mut out.metrics {
                if let Some(family) = renamed.get(&m.name) {
                    m.name = family.clone();
                }
            }
        }
    }
    Ok(out)
}

fn targets_mut(policy: &mut Policy) -> Result<Vec<&mut Target>, ConversionError> {
    match &mut policy.target {
        ScalingTarget::Homogeneous(h) => Ok(h.target.iter_mut().collect()),
        ScalingTarget::Heterogeneous(h) => Ok(h
            .params
            .iter_mut()
            .filter_map(|p| p.target.as_mut())
            .collect()),
        ScalingTarget::Disaggregated(_) => Err(ConversionError::Disaggregated),
    }
}
