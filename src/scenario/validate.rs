//! From the raw scenario to a validated [`Scenario`]: durations parsed, manifests read and
//! checked, the engine version chosen (and the policies converted to it), and every
//! problem collected with its path — the user fixes them all in one go.

mod autoscalers;
mod faults;
pub(super) mod policies;
mod servings;

use autoscalers::{other_autoscalers, warn_shared_targets};
use policies::{choose_engine, engine_policies, read_manifests};
use servings::build_servings;

use std::fmt;
use std::path::{Path, PathBuf};

use super::raw::RawScenario;
use super::setting::{apply_to_scenario, Scope, Setting};
use super::{Assertion, Scenario};
use crate::diagnostic::{Diagnostics, FieldPath};
use crate::engine::policy::{Duration, Policy};
use crate::engine::{EngineVersion, UnixMillis};
use crate::model::router::{RouterPolicy, UnknownRouterPolicy};
use crate::model::spec::{
    Capacity, Clock, Provisioning, Slo, WorldSpec, DEFAULT_EPOCH_MS, DEFAULT_SYNC_PERIOD,
};
use crate::outputs::summary::Summary;
use crate::sim::rng::fnv1a;
use crate::sim::{SimDuration, SimTime};
use crate::text::TextError;
use crate::workload::WorkloadSpec;

/// Why a scenario cannot be run. Each line of the message names the file and the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScenarioError {
    /// The file cannot be read, or is not text.
    #[error("{file}: {source}")]
    Read { file: String, source: TextError },
    /// Not YAML, or not the shape of a scenario (an unknown key, a wrong type).
    #[error("{file}: {message}")]
    Syntax { file: String, message: String },
    /// Every problem found, each with the file and its field path.
    #[error("{0}")]
    Invalid(Diagnostics),
}

/// The longest run: a month of simulated time, ticks and timeline rows (178 560 at the
/// default sync period) bounded with it.
const MAX_DURATION: SimDuration = SimDuration::from_secs(744 * 3_600);

/// The most replications a scenario may ask for: beyond, a typo more likely than a plan.
pub const MAX_REPLICATIONS: usize = 1000;

/// The shortest autoscaler period: finer ticks only multiply the work and the timeline rows
/// (Kthena's own default is 15s).
const MIN_SYNC_PERIOD: SimDuration = SimDuration::from_secs(1);

/// The diagnostics found so far, and the checks of the scenario's value formats.
#[derive(Default)]
struct Problems(Diagnostics);

impl Problems {
    fn add(&mut self, path: impl Into<FieldPath>, message: impl fmt::Display) {
        self.0.error(path, message.to_string());
    }

    /// A duration field: Go syntax (`"90s"`, `"1m30s"`), not negative.
    fn duration(&mut self, path: &FieldPath, text: &str) -> Option<SimDuration> {
        match Duration::parse(text) {
            Ok(d) if d.as_nanos() < 0 => {
                self.add(
                    path.clone(),
                    format!("{text:?} is negative; durations must be >= 0"),
                );
                None
            }
            Ok(d) => Some(SimDuration::from_micros(d.as_nanos() / 1_000)),
            Err(e) => {
                self.add(
                    path.clone(),
                    format!("{e} (write durations like \"90s\", \"15m\", \"1h30m\")"),
                );
                None
            }
        }
    }

    /// Whether duration `d` of field `path` is at most `max` (`shown`); a problem if not.
    fn at_most(&mut self, path: &FieldPath, d: SimDuration, max: SimDuration, shown: &str) -> bool {
        if d > max {
            self.add(path.clone(), format!("must be at most {shown}"));
        }
        d <= max
    }

    /// Whether duration `d` of field `path` is at least `min` (`shown`); a problem if not.
    fn at_least(
        &mut self,
        path: &FieldPath,
        d: SimDuration,
        min: SimDuration,
        shown: &str,
    ) -> bool {
        if d < min {
            self.add(path.clone(), format!("must be at least {shown}"));
        }
        d >= min
    }

    fn positive_duration(&mut self, path: &FieldPath, text: &str) -> Option<SimDuration> {
        let d = self.duration(path, text)?;
        if d == SimDuration::ZERO {
            self.add(path.clone(), "must be greater than 0");
            return None;
        }
        Some(d)
    }
}

/// serde's "unknown field `x`, expected one of `a`, `b`, …" with the closest field instead
/// of the whole list (which stays when nothing is close); the position is kept.
fn suggest_field(message: &str) -> String {
    let Some(rest) = message.strip_prefix("unknown field `") else {
        return message.to_string();
    };
    let Some((field, tail)) = rest.split_once("`, expected ") else {
        return message.to_string();
    };
    let (expected, position) = match tail.rfind(" at line ") {
        Some(i) => (&tail[..i], &tail[i..]),
        None => (tail, ""),
    };
    let known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    match crate::kthena::warnings::did_you_mean(field, known.iter().copied()) {
        Some(m) => format!("unknown field `{field}`; did you mean `{m}`?{position}"),
        None => message.to_string(),
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
    let text = crate::text::read_text(path).map_err(|source| ScenarioError::Read {
        file: file.clone(),
        source,
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
        message: suggest_field(&message),
    };
    let mut raw: RawScenario = if overrides
        .settings
        .iter()
        .any(|s| s.scope() == Scope::Scenario)
    {
        let mut doc: yaml_serde::Value =
            yaml_serde::from_str(text).map_err(|e| syntax(e.to_string()))?;
        apply_to_scenario(&mut doc, &overrides.settings).map_err(|e| syntax(e.to_string()))?;
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
        Some(mut s) if !p.0.has_errors() => {
            s.text_hash = format!("{:016x}", fnv1a(text.as_bytes()));
            s.warnings = p.0.in_file(file);
            Ok(s)
        }
        _ => Err(ScenarioError::Invalid(p.0.in_file(file))),
    }
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
    let at = FieldPath::new;
    let duration = p
        .positive_duration(&at("duration"), &raw.duration)
        .filter(|&d| p.at_most(&at("duration"), d, MAX_DURATION, "31 days (744h)"));
    let sync_period = match &raw.sync_period {
        Some(s) => p
            .positive_duration(&at("sync_period"), s)
            .filter(|&d| p.at_least(&at("sync_period"), d, MIN_SYNC_PERIOD, "1s")),
        None => Some(DEFAULT_SYNC_PERIOD),
    };
    let first_tick = match &raw.first_tick {
        Some(s) => p
            .duration(&at("first_tick"), s)
            .map(SimDuration::after_start),
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

    let manifests = read_manifests(base, &raw.policies, &at("policies"), settings, matched, p);
    let mut changes = Vec::new();
    for (i, c) in raw.policy_changes.iter().enumerate() {
        let at = p.duration(
            &FieldPath::new("policy_changes").index(i).child("at"),
            &c.at,
        );
        let set = read_manifests(
            base,
            &c.policies,
            &FieldPath::new("policy_changes").index(i).child("policies"),
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
        .map(|m| engine_policies(m, engine_or_default, &at("policies"), known, p))
        .unwrap_or_default();
    let autoscalers = manifests
        .as_ref()
        .map(|m| other_autoscalers(m, &at("policies"), known, p))
        .unwrap_or_default();
    // Each policy once per serving (the roles of a disaggregated target are one serving).
    let mut kthena_targets: Vec<(String, String, String)> = (policies.iter())
        .flat_map(|pol| {
            pol.scaled_targets().into_iter().map(|t| {
                let r = &t.target.target_ref;
                let ns = if r.namespace.is_empty() {
                    &pol.namespace
                } else {
                    &r.namespace
                };
                (
                    ns.clone(),
                    r.name.clone(),
                    format!("{}/{}", pol.namespace, pol.name),
                )
            })
        })
        .collect();
    kthena_targets.sort();
    kthena_targets.dedup();
    warn_shared_targets(&kthena_targets, &autoscalers, &at("policies"), p);
    let policy_changes: Vec<(SimTime, Vec<Policy>)> = changes
        .iter()
        .map(|(i, at, set)| {
            let field = FieldPath::new("policy_changes").index(*i).child("policies");
            if set.autoscalers().is_ok_and(|a| !a.is_empty()) {
                p.add(
                    field.clone(),
                    "policy changes replace Kthena policies only: an HPA, ScaledObject or Knative Service cannot be changed during a run; compare them as variants instead",
                );
            }
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
                    let path = FieldPath::new("cluster").child("accelerators").child(name);
                    let provisioning = a.provisioning.as_ref().and_then(|pr| {
                        let delay =
                            p.duration(&path.child("provisioning").child("delay"), &pr.delay)?;
                        if pr.max_gpus < a.gpus {
                            p.add(
                                path.child("provisioning").child("max_gpus"),
                                "must be >= gpus",
                            );
                        }
                        if pr.step_gpus == 0 {
                            p.add(
                                path.child("provisioning").child("step_gpus"),
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
        Some(s) => s.parse().unwrap_or_else(|e: UnknownRouterPolicy| {
            p.add("router.policy", e);
            RouterPolicy::default()
        }),
    };
    let queue_timeout = raw
        .router
        .as_ref()
        .and_then(|r| r.queue_timeout.as_deref())
        .and_then(|s| p.positive_duration(&at("router").child("queue_timeout"), s));

    p.0.extend_under(&at("workload"), raw.workload.validate(base));
    if let Some(d) = duration {
        p.0.extend_under(&at("workload"), raw.workload.volume_problems(d));
    }

    let mut slo = Slo::default();
    if let Some(s) = &raw.slo {
        let mut field = |name: &str, v: &Option<String>| {
            v.as_deref()
                .and_then(|t| p.positive_duration(&FieldPath::new("slo").child(name), t))
        };
        slo = Slo {
            ttft: field("ttft", &s.ttft),
            tpot: field("tpot", &s.tpot),
            e2e: field("e2e", &s.e2e),
            queue: field("queue", &s.queue),
        };
    }
    let serving_names: Vec<String> = servings.iter().map(|s| s.name.clone()).collect();
    let metrics = Summary::metric_names(&serving_names);
    let assertions: Vec<Assertion> = raw
        .assertions
        .iter()
        .enumerate()
        .filter_map(|(i, a)| match Assertion::parse(a) {
            Ok(a) => {
                if !metrics.contains(&a.path.join(".")) {
                    p.add(
                        FieldPath::new("assertions").index(i),
                        format!(
                            "{:?} is not a metric of summary.json (e.g. slo.attainment, cost.total, latency.ttft.p99, replicas.peak)",
                            a.path.join(".")
                        ),
                    );
                }
                Some(a)
            }
            Err(e) => {
                p.add(FieldPath::new("assertions").index(i), e);
                None
            }
        })
        .collect();

    if let Some(n) = raw.replications {
        if !(1..=MAX_REPLICATIONS).contains(&n) {
            p.add(
                "replications",
                format!("must be between 1 and {MAX_REPLICATIONS}"),
            );
        }
    }
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
        autoscalers,
        hpa_controller: Default::default(),
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
        replications: raw.replications,
        output_dir: output.and_then(|o| o.dir.as_ref()).map(PathBuf::from),
        write_requests: output.and_then(|o| o.requests).unwrap_or(false),
        text_hash: String::new(),
        warnings: Diagnostics::new(),
    })
}
