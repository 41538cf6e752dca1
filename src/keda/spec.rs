//! A `keda.sh/v1alpha1` ScaledObject with Prometheus triggers, defaulted as KEDA does (E1
//! `scaledobject_types.go`, `withtriggers_types.go`; E3 `scale_executor.go`), and the HPA KEDA
//! creates from it (E5 `controllers/keda/hpa.go`, E4 `GetMetricSpecForScaling`).

use super::scaler;
use crate::hpa::{Behavior, HpaSpec, MetricId, MetricSpec, MetricTarget};
use crate::sim::SimDuration;

/// `pollingInterval` when absent (E1 `defaultPollingInterval`).
pub const DEFAULT_POLLING_INTERVAL_S: i32 = 30;
/// `cooldownPeriod` when absent (E3 `defaultCooldownPeriod`).
pub const DEFAULT_COOLDOWN_PERIOD_S: i32 = 300;
/// `initialCooldownPeriod` when absent (E3 `defaultInitialCooldownPeriod`).
pub const DEFAULT_INITIAL_COOLDOWN_PERIOD_S: i32 = 0;
/// `maxReplicaCount` when absent (E1 `defaultHPAMaxReplicas`).
pub const DEFAULT_MAX_REPLICA_COUNT: i32 = 100;
/// The label KEDA puts in the selector of every External metric of its HPA (E1
/// `ScaledObjectOwnerAnnotation`).
pub const OWNER_LABEL: &str = "scaledobject.keda.sh/name";

/// One ScaledObject after defaulting (docs/other-autoscalers.md §3). Built by the manifest reader, which has
/// checked it as the CRD schema and KEDA's webhook would.
#[derive(Debug, Clone, PartialEq)]
pub struct ScaledObjectSpec {
    pub name: String,
    pub namespace: String,
    /// `scaleTargetRef.name`.
    pub target: String,
    /// `scaleTargetRef.kind`, `Deployment` when absent.
    pub target_kind: String,
    /// `pollingInterval`, seconds ≥ 1.
    pub polling_interval_s: i32,
    /// `cooldownPeriod`, seconds: how long after the last active poll the step to 0 (or to
    /// idle) waits.
    pub cooldown_period_s: i32,
    /// `initialCooldownPeriod`, seconds after creation before a first step to 0 when no poll
    /// was ever active.
    pub initial_cooldown_period_s: i32,
    /// `minReplicaCount` (0 when absent: scale to zero allowed).
    pub min_replica_count: i32,
    /// `maxReplicaCount`.
    pub max_replica_count: i32,
    /// `idleReplicaCount`: what an inactive object goes to instead of `minReplicaCount`.
    pub idle_replica_count: Option<i32>,
    pub fallback: Option<Fallback>,
    /// `advanced.horizontalPodAutoscalerConfig.name`, `keda-hpa-<name>` when absent.
    pub hpa_name: String,
    /// `advanced.horizontalPodAutoscalerConfig.behavior`, defaulted as the API server defaults
    /// an HPA's; `None` sends the HPA down its legacy path (docs/other-autoscalers.md §2).
    pub behavior: Option<Behavior>,
    pub triggers: Vec<Trigger>,
}

/// One `type: prometheus` trigger.
#[derive(Debug, Clone, PartialEq)]
pub struct Trigger {
    /// `name`, used in reasons when given.
    pub name: Option<String>,
    pub metric_type: MetricType,
    /// `useCachedMetrics`: the HPA reads the last poll's value instead of querying again.
    pub use_cached_metrics: bool,
    /// `metadata.serverAddress`: the simulation has one Prometheus, so this is only shown.
    pub server_address: String,
    /// `metadata.query`, evaluated by the world over its simulated Prometheus.
    pub query: String,
    /// `metadata.threshold`: the HPA target (per pod for `AverageValue`).
    pub threshold: f64,
    /// `metadata.activationThreshold`: the trigger is active iff its value is above it.
    pub activation_threshold: f64,
    /// `metadata.ignoreNullValues`: an empty, NaN or infinite result reads as 0 instead of
    /// an error.
    pub ignore_null_values: bool,
}

/// A trigger's `metricType` (`Utilization` is refused by KEDA for external scalers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricType {
    AverageValue,
    Value,
}

/// `spec.fallback` (E6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fallback {
    /// Failures in a row a trigger may have before its metric is replaced.
    pub failure_threshold: i32,
    pub replicas: i32,
    pub behavior: FallbackBehavior,
}

/// `fallback.behavior`: which replica count the substituted metric asks the HPA for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FallbackBehavior {
    /// `fallback.replicas`.
    Static,
    /// The target's current `spec.replicas`.
    CurrentReplicas,
    /// The larger of the two.
    CurrentReplicasIfHigher,
    /// The smaller of the two.
    CurrentReplicasIfLower,
}

impl FallbackBehavior {
    /// The four values of the CRD enum KEDA simulates, as written in a manifest
    /// (`scalingModifiers`, the fifth, needs scaling modifiers, which are not simulated).
    pub const NAMES: [&'static str; 4] = [
        "static",
        "currentReplicas",
        "currentReplicasIfHigher",
        "currentReplicasIfLower",
    ];

    pub fn parse(s: &str) -> Option<FallbackBehavior> {
        match s {
            "static" => Some(FallbackBehavior::Static),
            "currentReplicas" => Some(FallbackBehavior::CurrentReplicas),
            "currentReplicasIfHigher" => Some(FallbackBehavior::CurrentReplicasIfHigher),
            "currentReplicasIfLower" => Some(FallbackBehavior::CurrentReplicasIfLower),
            _ => None,
        }
    }
}

impl Trigger {
    /// A trigger with the defaults of docs/other-autoscalers.md §3: `AverageValue`, activation 0, null values ignored,
    /// no cache.
    pub fn prometheus(server_address: &str, query: &str, threshold: f64) -> Trigger {
        Trigger {
            name: None,
            metric_type: MetricType::AverageValue,
            use_cached_metrics: false,
            server_address: server_address.to_string(),
            query: query.to_string(),
            threshold,
            activation_threshold: 0.0,
            ignore_null_values: true,
        }
    }

    /// The HPA target: the threshold as the milli quantity KEDA writes (E4
    /// `GetMetricTargetMili`, "%.3f").
    pub fn target(&self) -> MetricTarget {
        let milli = scaler::milli(self.threshold);
        match self.metric_type {
            MetricType::AverageValue => MetricTarget::AverageValue(milli),
            MetricType::Value => MetricTarget::Value(milli),
        }
    }
}

impl ScaledObjectSpec {
    /// A ScaledObject with the defaults of docs/other-autoscalers.md §3 for every optional field.
    pub fn with_defaults(
        name: &str,
        namespace: &str,
        target: &str,
        triggers: Vec<Trigger>,
    ) -> ScaledObjectSpec {
        ScaledObjectSpec {
            name: name.to_string(),
            namespace: namespace.to_string(),
            target: target.to_string(),
            target_kind: "Deployment".to_string(),
            polling_interval_s: DEFAULT_POLLING_INTERVAL_S,
            cooldown_period_s: DEFAULT_COOLDOWN_PERIOD_S,
            initial_cooldown_period_s: DEFAULT_INITIAL_COOLDOWN_PERIOD_S,
            min_replica_count: 0,
            max_replica_count: DEFAULT_MAX_REPLICA_COUNT,
            idle_replica_count: None,
            fallback: None,
            hpa_name: format!("keda-hpa-{name}"),
            behavior: None,
            triggers,
        }
    }

    /// How often the world calls [`super::Keda::poll`], from t = 0 (E2 `startScaleLoop`: the
    /// timer starts before the check, so the period does not drift).
    pub fn polling_interval(&self) -> SimDuration {
        SimDuration::from_secs(i64::from(self.polling_interval_s))
    }

    /// The name of trigger `index`'s External metric (E4 `GenerateMetricNameWithIndex`).
    pub fn metric_name(index: usize) -> String {
        format!("s{index}-prometheus")
    }

    /// The HPA KEDA creates and keeps (docs/other-autoscalers.md §3, E5): `minReplicas` never 0, the behaviour
    /// copied (nil stays nil), one External metric per trigger selected by the owner label.
    pub fn hpa(&self) -> HpaSpec {
        HpaSpec {
            name: self.hpa_name.clone(),
            namespace: self.namespace.clone(),
            target: self.target.clone(),
            target_kind: self.target_kind.clone(),
            min_replicas: self.min_replica_count.max(1),
            max_replicas: self.max_replica_count,
            metrics: self
                .triggers
                .iter()
                .enumerate()
                .map(|(i, t)| MetricSpec::External {
                    metric: MetricId {
                        name: Self::metric_name(i),
                        selector: vec![(OWNER_LABEL.to_string(), self.name.clone())],
                    },
                    target: t.target(),
                })
                .collect(),
            behavior: self.behavior.clone(),
        }
    }

    /// How a trigger is named in reasons: `s0`, or `s0 queue` when it has a name.
    pub(super) fn trigger_label(&self, index: usize) -> String {
        match self.triggers.get(index).and_then(|t| t.name.as_deref()) {
            Some(name) => format!("s{index} {name}"),
            None => format!("s{index}"),
        }
    }
}
