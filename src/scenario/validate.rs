//! From the raw scenario to a validated [`Scenario`]: durations parsed, manifests read and
//! checked, the engine version chosen (and the policies converted to it), and every
//! problem collected with its path — the user fixes them all in one go.

mod faults;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::raw::{RawScenario, RawServing, RawStartup};
use super::setting::{apply_to_manifest, apply_to_scenario, Scope, Setting};
use super::{Assertion, Scenario};
use crate::model::spec::{
    Capacity, Clock, Disaggregation, Provisioning, Role, Serving, Slo, WorldSpec,
    DEFAULT_EPOCH_MS, DEFAULT_METRICS_PATH, DEFAULT_METRICS_PORT, DEFAULT_SYNC_PERIOD,
    DEFAULT_TERMINATION_GRACE, MAX_SERVERS,
};
use crate::kthena::manifest::{ApiGeneration, Location, ManifestSet, ModelServing};
use crate::engine::policy::{
    Duration, MetricEndpoint, MetricSource, MetricTarget, PodMetricSource, Policy, ScalingTarget,
    Target,
};
use crate::engine::{EngineVersion, UnixMillis};
use crate::model::metrics::exposed_families;
use crate::model::router::RouterPolicy;
use crate::model::startup::Startup;
use crate::sim::rng::fnv1a;
use crate::sim::{SimDuration, SimTime};
use crate::workload::WorkloadSpec;

/// Why a scenario cannot be run. Each line of the message names the file and the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScenarioError {
    /// The file cannot be read, or is not text.
    #[error("{file}: {message}")]
    Read { file: String, message: String },
    #[error("{file}: {message}")]
    Syntax { file: String, message: String },
    #[error("{}", problems.iter().map(|p| format!("{file}: {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid { file: String, problems: Vec<String> },
}

/// The longest run: a month of simulated time, ticks and timeline rows (178 560 at the
/// default sync period) bounded with it.
const MAX_DURATION: SimDuration = SimDuration::from_secs(744 * 3_600);

/// The shortest autoscaler period: finer ticks only multiply the work and the timeline rows
/// (Kthena's own default is 15s).
const MIN_SYNC_PERIOD: SimDuration = SimDuration::from_secs(1);

/// Problems found so far, each `path: message`.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn add(&mut self, path: impl fmt::Display, message: impl fmt::Display) {
        self.0.push(format!("{path}: {message}"));
    }

    /// A duration field: Go syntax (`"90s"`, `"1m30s"`), not negative.
    fn duration(&mut self, path: &str, text: &str) -> Option<SimDuration> {
        match Duration::parse(text) {
            Ok(d) if d.as_nanos() < 0 => {
                self.add(
                    path,
                    format!("{text:?} is negative; durations must be >= 0"),
                );
                None
            }
            Ok(d) => Some(SimDuration::from_micros(d.as_nanos() / 1_000)),
            Err(e) => {
                self.add(
                    path,
                    format!("{e} (write durations like \"90s\", \"15m\", \"1h30m\")"),
                );
                None
            }
        }
    }

    /// Whether duration `d` of field `path` is at most `max` (`shown`); a problem if not.
    fn at_most(&mut self, path: &str, d: SimDuration, max: SimDuration, shown: &str) -> bool {
        if d > max {
            self.add(path, format!("must be at most {shown}"));
        }
        d <= max
    }

    /// Whether duration `d` of field `path` is at least `min` (`shown`); a problem if not.
    fn at_least(&mut self, path: &str, d: SimDuration, min: SimDuration, shown: &str) -> bool {
        if d < min {
            self.add(path, format!("must be at least {shown}"));
        }
        d >= min
    }

    fn positive_duration(&mut self, path: &str, text: &str) -> Option<SimDuration> {
        let d = self.duration(path, text)?;
        if d == SimDuration::ZERO {
            self.add(path, "must be greater than 0");
            return None;
        }
        Some(d)
    }
}

/// Command-line settings that replace the scenario's own.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub seed: Option<u64>,
    pub engine: Option<EngineVersion>,
    pub workload: Option<WorkloadSpec>,
    /// Go syntax, e.g. `"10m"`.
    pub duration: Option<String>,
    /// Manifest files replacing the scenario's `policies` (a variant's policy).
    pub policies: Option<Vec<PathBuf>>,
    /// `KEY=VALUE` settings on the scenario and its manifests.
    pub settings: Vec<Setting>,
}

/// Reads and validates the scenario file at `path`.
pub fn load(path: &Path, overrides: &Overrides) -> Result<Scenario, ScenarioError> {
    let file = path.display().to_string();
    let text = crate::text::read_text(path).map_err(|message| ScenarioError::Read {
        file: file.clone(),
        message,
    })?;
    let base = path
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    parse(&file, &text, &base, overrides)
}

/// Validates scenario `text` (named `file` in messages); relative paths start at `base_dir`.
pub fn parse(
    file: &str,
    text: &str,
    base_dir: &Path,
    overrides: &Overrides,
) -> Result<Scenario, ScenarioError> {
    if text.trim().is_empty() {
        return Err(ScenarioError::Syntax {
            file: file.into(),
            message: "empty scenario file".into(),
        });
    }
    // Enums are written as one-key maps (`startup: {constant: 90s}`), not YAML tags.
    let syntax = |message: String| ScenarioError::Syntax {
        file: file.into(),
        message,
    };
    let mut raw: RawScenario = if overrides
        .settings
        .iter()
        .any(|s| s.scope() == Scope::Scenario)
    {
        let mut doc: yaml_serde::Value =
            yaml_serde::from_str(text).map_err(|e| syntax(e.to_string()))?;
        apply_to_scenario(&mut doc, &overrides.settings).map_err(syntax)?;
        yaml_serde::with::singleton_map_recursive::deserialize(doc).map_err(|e| {
            // A document without positions: the file's own error has one, if it has one;
            // otherwise a setting made the document wrong, and is named.
            let de = yaml_serde::Deserializer::from_str(text);
            match yaml_serde::with::singleton_map_recursive::deserialize::<RawScenario, _>(de) {
                Err(own) => syntax(own.to_string()),
                Ok(_) => {
                    let settings = overrides
                        .settings
                        .iter()
                        .filter(|s| s.scope() == Scope::Scenario);
                    let named: Vec<String> = settings.map(|s| format!("--set {s}")).collect();
                    syntax(format!("{}: {e}", named.join(", ")))
                }
            }
        })?
    } else {
        let de = yaml_serde::Deserializer::from_str(text);
        yaml_serde::with::singleton_map_recursive::deserialize(de)
            .map_err(|e| syntax(e.to_string()))?
    };
    if let Some(files) = &overrides.policies {
        raw.policies = files.iter().map(|f| f.display().to_string()).collect();
    }
    if let Some(seed) = overrides.seed {
        raw.seed = seed;
    }
    if let Some(engine) = overrides.engine {
        raw.engine = Some(engine.as_str().to_string());
    }
    if let Some(w) = &overrides.workload {
        raw.workload = w.clone();
    }
    if let Some(d) = &overrides.duration {
        raw.duration = d.clone();
    }
    let mut p = Problems::default();
    let mut matched = vec![false; overrides.settings.len()];
    let scenario = build(&raw, base_dir, &overrides.settings, &mut matched, &mut p);
    for (s, hit) in overrides.settings.iter().zip(&matched) {
        if s.scope() != Scope::Scenario && !hit {
            p.add(
                format!("--set {s}"),
                "no manifest of the scenario has this field's document",
            );
        }
    }
    match scenario {
        Some(mut s) if p.0.is_empty() => {
            s.text_hash = format!("{:016x}", fnv1a(text.as_bytes()));
            Ok(s)
        }
        _ => Err(ScenarioError::Invalid {
            file: file.into(),
            problems: p.0,
        }),
    }
}

fn read_manifests(
    base: &Path,
    files: &[String],
    field: &str,
    settings: &[Setting],
    matched: &mut [bool],
    p: &mut Problems,
) -> Option<ManifestSet> {
    let mut sources = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let path = base.join(f);
        match crate::text::read_text(&path) {
            Ok(text) => match apply_to_manifest(&text, settings, matched) {
                Ok(text) => sources.push((path.display().to_string(), text)),
                Err(e) => p.add(format!("{field}[{i}]"), e),
            },
            Err(e) => p.add(format!("{field}[{i}]"), format!("{}: {e}", path.display())),
        }
    }
    if sources.len() != files.len() {
        return None;
    }
    let set = ManifestSet::from_sources(&sources);
    // As `validate` (and `kubectl apply`) refuse a file without objects: most likely the
    // wrong file, which would silently leave its servings unscaled.
    let mut empty = false;
    for (i, (name, _)) in sources.iter().enumerate() {
        let here = |l: &Location| l.file == *name;
        if !set.objects().iter().any(|o| here(&o.location))
            && !set.problems().iter().any(|x| here(&x.location))
            && !set.notes().iter().any(|n| here(&n.location))
        {
            p.add(
                format!("{field}[{i}]"),
                format!("{name}: no Kubernetes objects in the file"),
            );
            empty = true;
        }
    }
    for problem in set.problems() {
        p.add(field, problem);
    }
    (set.is_valid() && !empty).then_some(set)
}

fn build(
    raw: &RawScenario,
    base: &Path,
    settings: &[Setting],
    matched: &mut [bool],
    p: &mut Problems,
) -> Option<Scenario> {
    if raw.name.trim().is_empty() || raw.name.contains(['/', '\\']) {
        p.add(
            "name",
            "must be a non-empty name without slashes (it names the output folder)",
        );
    }
    let duration = p
        .positive_duration("duration", &raw.duration)
        .filter(|&d| p.at_most("duration", d, MAX_DURATION, "31 days (744h)"));
    let sync_period = match &raw.sync_period {
        Some(s) => p
            .positive_duration("sync_period", s)
            .filter(|&d| p.at_least("sync_period", d, MIN_SYNC_PERIOD, "1s")),
        None => Some(DEFAULT_SYNC_PERIOD),
    };
    let first_tick = match &raw.first_tick {
        Some(s) => p.duration("first_tick", s).map(SimDuration::after_start),
        None => Some(SimTime::ZERO),
    };
    let epoch_ms = raw
        .epoch_ms
        .map_or(DEFAULT_EPOCH_MS, UnixMillis::from_millis);
    if epoch_ms.as_millis() <= 0 {
        p.add(
            "epoch_ms",
            "must be a positive Unix time in milliseconds (0 reads as \"empty\" to the engine)",
        );
    }
    let requested_engine = match &raw.engine {
        None => None,
        Some(e) => match e.parse::<EngineVersion>() {
            Ok(v) => Some(v),
            Err(err) => {
                p.add("engine", err);
                None
            }
        },
    };

    let manifests = read_manifests(base, &raw.policies, "policies", settings, matched, p);
    let mut changes = Vec::new();
    for (i, c) in raw.policy_changes.iter().enumerate() {
        let at = p.duration(&format!("policy_changes[{i}].at"), &c.at);
        let set = read_manifests(
            base,
            &c.policies,
            &format!("policy_changes[{i}].policies"),
            settings,
            matched,
            p,
        );
        if let (Some(at), Some(set)) = (at, set) {
            changes.push((i, at.after_start(), set));
        }
    }

    let servings = build_servings(raw, base, manifests.as_ref(), p);
    // With a serving refused, its policies are not checked against the rest: that would
    // only repeat the serving's problem as "not among the scenario's servings".
    let known = (servings.len() == raw.servings.len()).then_some(servings.as_slice());
    let engine = choose_engine(requested_engine, manifests.as_ref(), &changes, p);
    let engine_or_default = engine.unwrap_or(EngineVersion::Head);
    let policies = manifests
        .as_ref()
        .map(|m| engine_policies(m, engine_or_default, "policies", known, p))
        .unwrap_or_default();
    let policy_changes: Vec<(SimTime, Vec<Policy>)> = changes
        .iter()
        .map(|(i, at, set)| {
            let field = format!("policy_changes[{i}].policies");
            (
                *at,
                engine_policies(set, engine_or_default, &field, known, p),
            )
        })
        .collect();

    let capacity = raw
        .cluster
        .as_ref()
        .map(|c| {
            c.accelerators
                .iter()
                .map(|(name, a)| {
                    let path = format!("cluster.accelerators.{name}");
                    let provisioning = a.provisioning.as_ref().and_then(|pr| {
                        let delay = p.duration(&format!("{path}.provisioning.delay"), &pr.delay)?;
                        if pr.max_gpus < a.gpus {
                            p.add(format!("{path}.provisioning.max_gpus"), "must be >= gpus");
                        }
                        if pr.step_gpus == 0 {
                            p.add(
                                format!("{path}.provisioning.step_gpus"),
                                "must be greater than 0",
                            );
                        }
                        Some(Provisioning {
                            delay,
                            step_gpus: pr.step_gpus,
                            max_gpus: pr.max_gpus,
                        })
                    });
                    (
                        name.clone(),
                        Capacity {
                            gpus: a.gpus,
                            provisioning,
                        },
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let node_losses = raw
        .cluster
        .as_ref()
        .map(|c| faults::node_losses(&c.node_losses, &capacity, p))
        .unwrap_or_default();

    let router = match raw.router.as_ref().and_then(|r| r.policy.as_deref()) {
        None => RouterPolicy::default(),
        Some(s) => s.parse().unwrap_or_else(|e: String| {
            p.add("router.policy", e);
            RouterPolicy::default()
        }),
    };
    let queue_timeout = raw
        .router
        .as_ref()
        .and_then(|r| r.queue_timeout.as_deref())
        .and_then(|s| p.positive_duration("router.queue_timeout", s));

    for (path, message) in raw.workload.validate(base) {
        p.add(format!("workload.{path}"), message);
    }
    for (path, message) in duration.map_or_else(Vec::new, |d| raw.workload.volume_problems(d)) {
        p.add(format!("workload.{path}"), message);
    }

    let mut slo = Slo::default();
    if let Some(s) = &raw.slo {
        let mut field = |name: &str, v: &Option<String>| {
            v.as_deref()
                .and_then(|t| p.positive_duration(&format!("slo.{name}"), t))
        };
        slo = Slo {
            ttft: field("ttft", &s.ttft),
            tpot: field("tpot", &s.tpot),
            e2e: field("e2e", &s.e2e),
            queue: field("queue", &s.queue),
        };
    }
    let serving_names: Vec<String> = servings.iter().map(|s| s.name.clone()).collect();
    let assertions: Vec<Assertion> = raw
        .assertions
        .iter()
        .enumerate()
        .filter_map(|(i, a)| match Assertion::parse(a) {
            Ok(a) => {
                if !crate::report::summary::is_known_metric(&a.path, &serving_names) {
                    p.add(
                        format!("assertions[{i}]"),
                        format!(
                            "{:?} is not a metric of summary.json (e.g. slo.attainment, cost.total, latency.ttft.p99, replicas.peak)",
                            a.path.join(".")
                        ),
                    );
                }
                Some(a)
            }
            Err(e) => {
                p.add(format!("assertions[{i}]"), e);
                None
            }
        })
        .collect();

    let output = raw.output.as_ref();
    let world = WorldSpec {
        name: raw.name.clone(),
        seed: raw.seed,
        engine: engine?,
        clock: Clock {
            duration: duration?,
            sync_period: sync_period?,
            first_tick: first_tick?,
            epoch_ms,
        },
        policies,
        policy_changes,
        servings,
        capacity,
        node_losses,
        router,
        queue_timeout,
        slo,
    };
    Some(Scenario {
        name: raw.name.clone(),
        world,
        workload: raw.workload.clone(),
        base_dir: base.to_path_buf(),
        assertions,
        output_dir: output.and_then(|o| o.dir.as_ref()).map(PathBuf::from),
        write_requests: output.and_then(|o| o.requests).unwrap_or(false),
        text_hash: String::new(),
    })
}

/// The engine version: the requested one, else the manifests' API generation (which must
/// then be the same for every policy).
fn choose_engine(
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
fn engine_policies(
    set: &ManifestSet,
    engine: EngineVersion,
    field: &str,
    servings: Option<&[Serving]>,
    p: &mut Problems,
) -> Vec<Policy> {
    let Ok(loaded) = set.policies() else {
        return Vec::new();
    };
    if loaded.is_empty() && !set.objects().is_empty() {
        p.add(
            field,
            "no AutoscalingPolicy (with its binding) in these files",
        );
    }
    let exposed = exposed_families();
    loaded
        .iter()
        .filter_map(|l| {
            let at = format!(
                "{field}: {} {}/{}",
                l.location.file, l.policy.namespace, l.policy.name
            );
            let policy = match convert(&l.policy, l.api, engine) {
                Ok(policy) => policy,
                Err(e) => {
                    p.add(&at, e);
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

/// Every target of the policy must be a simulated serving (and role), and every pod metric a
/// family the simulated pods expose.
fn check_against_servings(
    policy: &Policy,
    engine: EngineVersion,
    servings: &[Serving],
    exposed: &[String],
    at: &str,
    p: &mut Problems,
) {
    for unit in policy.scaled_targets() {
        let r = &unit.target.target_ref;
        if r.name.is_empty() {
            p.add(at, "a target names no ModelServing (`targetRef.name`)");
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
            p.add(
                at,
                format!(
                    "targets ModelServing {ns}/{} which is not among the scenario's servings ({})",
                    r.name,
                    names.join(", ")
                ),
            );
            continue;
        };
        if let Some(role) = unit.role {
            if !serving.roles.iter().any(|x| x.name == role) {
                let roles: Vec<&str> = serving.roles.iter().map(|x| x.name.as_str()).collect();
                p.add(
                    at,
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
                    if let Some(MetricSource::Prometheus(src)) =
                        unit.target.metric_sources.as_ref().and_then(|s| s.get(&key))
                    {
                        if let Err(e) = check_prometheus(&src.query) {
                            p.add(at, format!("metric {key:?}: {e}"));
                        }
                    }
                }
                Some(f) if !exposed.contains(&f) => p.add(
                    at,
                    format!(
                        "metric {key:?} reads family {f:?}, which the simulated pods do not expose (they expose {})",
                        exposed.join(", ")
                    ),
                ),
                Some(_) => {}
            }
        }
    }
}

/// A Prometheus source's query must be one the simulated Prometheus can evaluate.
fn check_prometheus(query: &str) -> Result<(), String> {
    crate::model::prometheus::Query::parse(query)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// The policy as the other API generation would hold it, when the engine differs from the
/// manifests' generation: v0.x `metricEndpoint` ⇔ current `metricSources` (pod sources).
fn convert(policy: &Policy, api: ApiGeneration, engine: EngineVersion) -> Result<Policy, String> {
    let mut out = policy.clone();
    match (api, engine) {
        (ApiGeneration::V0_4, EngineVersion::V0_4)
        | (ApiGeneration::Current, EngineVersion::Head) => {}
        (ApiGeneration::V0_4, EngineVersion::Head) => {
            let metrics = policy.metrics.clone();
            for t in targets_mut(&mut out)? {
                if t.sub_target.as_ref().is_some_and(|s| s.kind == "Role") {
                    return Err("role-level (`subTargets`) bindings have no current-API equivalent; run them with `engine: v0.4`".into());
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
                        return Err(format!("metric {key:?} comes from Prometheus, which the v0.4 engine cannot read"));
                    };
                    let e = MetricEndpoint {
                        uri: pod.uri.clone(),
                        port: pod.port,
                        label_selector: pod.label_selector.clone(),
                    };
                    if endpoint.as_ref().is_some_and(|x| *x != e) {
                        return Err("v0.4 scrapes one endpoint per target; these metrics come from different endpoints".into());
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

fn targets_mut(policy: &mut Policy) -> Result<Vec<&mut Target>, String> {
    match &mut policy.target {
        ScalingTarget::Homogeneous(h) => Ok(h.target.iter_mut().collect()),
        ScalingTarget::Heterogeneous(h) => Ok(h
            .params
            .iter_mut()
            .filter_map(|p| p.target.as_mut())
            .collect()),
        ScalingTarget::Disaggregated(_) => Err(
            "disaggregated targets exist only in the current API; run them with `engine: head`"
                .into(),
        ),
    }
}

fn build_servings(
    raw: &RawScenario,
    base: &Path,
    manifests: Option<&ManifestSet>,
    p: &mut Problems,
) -> Vec<Serving> {
    if raw.servings.is_empty() {
        p.add("servings", "at least one ModelServing is needed");
    }
    let in_policies: Vec<ModelServing> = manifests
        .and_then(|m| m.model_servings().ok())
        .map(<[ModelServing]>::to_vec)
        .unwrap_or_default();
    let mut out: Vec<Serving> = Vec::new();
    for (i, s) in raw.servings.iter().enumerate() {
        let path = format!("servings[{i}]");
        let manifest = match &s.manifest {
            Some(f) => read_manifests(
                base,
                std::slice::from_ref(f),
                &format!("{path}.manifest"),
                &[],
                &mut [],
                p,
            )
            .and_then(|set| {
                set.model_servings()
                    .ok()
                    .and_then(|v| v.iter().find(|m| m.name == s.name).cloned())
            })
            .or_else(|| {
                p.add(
                    format!("{path}.manifest"),
                    format!("no ModelServing named {:?} in {f}", s.name),
                );
                None
            }),
            None => in_policies.iter().find(|m| m.name == s.name).cloned(),
        };
        if let Some(serving) = build_serving(s, manifest.as_ref(), &path, p) {
            if out
                .iter()
                .any(|o| o.name == serving.name && o.namespace == serving.namespace)
            {
                p.add(
                    format!("{path}.name"),
                    format!("duplicate serving {:?}", serving.name),
                );
            }
            out.push(serving);
        }
    }
    out
}

fn build_startup(r: &RawStartup, path: &str, p: &mut Problems) -> Option<Startup> {
    Some(match r {
        RawStartup::Constant(d) => Startup::Constant(p.duration(&format!("{path}.constant"), d)?),
        RawStartup::Lognormal { median, p99 } => {
            let m = p.positive_duration(&format!("{path}.lognormal.median"), median)?;
            let q = p.positive_duration(&format!("{path}.lognormal.p99"), p99)?;
            if q < m {
                p.add(format!("{path}.lognormal.p99"), "must be >= median");
                return None;
            }
            Startup::lognormal(m, q)
        }
        RawStartup::Uniform { min, max } => {
            let lo = p.duration(&format!("{path}.uniform.min"), min)?;
            let hi = p.duration(&format!("{path}.uniform.max"), max)?;
            if hi < lo {
                p.add(format!("{path}.uniform.max"), "must be >= min");
                return None;
            }
            Startup::Uniform { min: lo, max: hi }
        }
        RawStartup::Empirical(v) => {
            if v.is_empty() {
                p.add(format!("{path}.empirical"), "needs at least one duration");
                return None;
            }
            let d: Vec<Option<SimDuration>> = v
                .iter()
                .enumerate()
                .map(|(i, t)| p.duration(&format!("{path}.empirical[{i}]"), t))
                .collect();
            Startup::Empirical(d.into_iter().collect::<Option<Vec<_>>>()?)
        }
        RawStartup::Phases(phases) => {
            let mut out = Vec::new();
            for (i, ph) in phases.iter().enumerate() {
                out.push((
                    ph.name.clone(),
                    build_startup(&ph.duration, &format!("{path}.phases[{i}].duration"), p)?,
                ));
            }
            Startup::Phases(out)
        }
    })
}

fn build_serving(
    s: &RawServing,
    manifest: Option<&ModelServing>,
    path: &str,
    p: &mut Problems,
) -> Option<Serving> {
    if s.name.is_empty() {
        p.add(format!("{path}.name"), "must not be empty");
    }
    let replicas = s
        .replicas
        .or(manifest.and_then(|m| m.replicas))
        .unwrap_or(1);
    let most = MAX_SERVERS as i32;
    if !(0..=most).contains(&replicas) {
        p.add(
            format!("{path}.replicas"),
            format!("must be between 0 and {most}"),
        );
    }
    let mut roles: Vec<Role> = s
        .roles
        .iter()
        .map(|r| Role {
            name: r.name.clone(),
            replicas: r.replicas.unwrap_or(1),
            serves: r.serves.unwrap_or(true),
            labels: r.labels.clone(),
        })
        .collect();
    if roles.is_empty() {
        if let Some(m) = manifest {
            roles = m
                .roles
                .iter()
                .map(|r| Role {
                    name: r.name.clone(),
                    replicas: r.replicas.unwrap_or(1),
                    serves: true,
                    labels: BTreeMap::new(),
                })
                .collect();
        }
    }
    for (i, r) in roles.iter().enumerate() {
        if !(0..=most).contains(&r.replicas) {
            p.add(
                format!("{path}.roles[{i}].replicas"),
                format!("must be between 0 and {most}"),
            );
        }
    }
    let pods_per_server = s.pods_per_server.unwrap_or(1);
    let gpus_per_pod = s.gpus_per_pod.unwrap_or(1);
    if pods_per_server == 0 {
        p.add(format!("{path}.pods_per_server"), "must be at least 1");
    }
    let price_per_hour = match (s.price_per_hour, s.price_per_gpu_hour) {
        (Some(h), _) => h,
        (None, Some(g)) => g * f64::from(pods_per_server) * f64::from(gpus_per_pod),
        (None, None) => 0.0,
    };
    if !(price_per_hour.is_finite() && price_per_hour >= 0.0) {
        p.add(
            format!("{path}.price_per_hour"),
            "must be a finite number >= 0",
        );
    }
    let startup = match &s.startup {
        Some(r) => build_startup(r, &format!("{path}.startup"), p),
        None => Some(Startup::Constant(SimDuration::ZERO)),
    };
    let termination_grace = match &s.termination_grace {
        Some(t) => p.duration(&format!("{path}.termination_grace"), t),
        None => Some(DEFAULT_TERMINATION_GRACE),
    };
    let server = match s.server.resolve() {
        Ok(params) => Some(params),
        Err(e) => {
            p.add(format!("{path}.server"), e);
            None
        }
    };
    let metrics_port = s
        .metrics
        .as_ref()
        .and_then(|m| m.port)
        .unwrap_or(DEFAULT_METRICS_PORT);
    let metrics_path = s
        .metrics
        .as_ref()
        .and_then(|m| m.path.clone())
        .unwrap_or_else(|| DEFAULT_METRICS_PATH.into());
    if !(1..=65535).contains(&metrics_port) {
        p.add(
            format!("{path}.metrics.port"),
            "must be between 1 and 65535",
        );
    }
    let disaggregation = s.disaggregation.as_ref().and_then(|d| {
        let role = |name: &str, field: &str, p: &mut Problems| {
            let i = roles.iter().position(|r| r.name == name);
            if i.is_none() {
                let names: Vec<&str> = roles.iter().map(|r| r.name.as_str()).collect();
                p.add(
                    format!("{path}.disaggregation.{field}"),
                    format!("no role {name:?} (roles: {})", names.join(", ")),
                );
            }
            i
        };
        let prefill_role = role(&d.prefill_role, "prefill_role", p);
        let decode_role = role(&d.decode_role, "decode_role", p);
        if d.prefill_role == d.decode_role {
            p.add(
                format!("{path}.disaggregation.decode_role"),
                "must differ from prefill_role",
            );
        }
        let t = d.kv_transfer.as_ref();
        let gbps = t.and_then(|t| t.gbps).unwrap_or(100.0);
        let bytes = t.and_then(|t| t.bytes_per_token).unwrap_or(327_680.0);
        if !(gbps.is_finite() && gbps > 0.0) {
            p.add(
                format!("{path}.disaggregation.kv_transfer.gbps"),
                "must be a number > 0",
            );
        }
        if !(bytes.is_finite() && bytes >= 0.0) {
            p.add(
                format!("{path}.disaggregation.kv_transfer.bytes_per_token"),
                "must be a number >= 0",
            );
        }
        let latency = match t.and_then(|t| t.latency.as_deref()) {
            Some(l) => p.duration(&format!("{path}.disaggregation.kv_transfer.latency"), l)?,
            None => SimDuration::from_millis(1),
        };
        Some(Disaggregation {
            prefill_role: prefill_role?,
            decode_role: decode_role?,
            latency,
            per_token_us: bytes * 8.0 / (gbps * 1e9) * 1e6,
        })
    });
    let faults = faults::serving_faults(s.faults.as_ref(), startup.as_ref(), path, p);
    let namespace = s
        .namespace
        .clone()
        .or(manifest.map(|m| m.namespace.clone()))
        .unwrap_or_else(|| "default".into());
    Some(Serving {
        name: s.name.clone(),
        namespace,
        replicas,
        roles,
        pods_per_server,
        gpus_per_pod,
        accelerator: s.accelerator.clone().unwrap_or_else(|| "gpu".into()),
        price_per_hour,
        startup: startup?,
        termination_grace: termination_grace?,
        server: server?,
        metrics_port,
        metrics_path,
        labels: s.labels.clone(),
        disaggregation,
        faults: faults?,
    })
}
