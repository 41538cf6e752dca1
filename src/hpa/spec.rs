//! The `spec` of an `autoscaling/v2` HorizontalPodAutoscaler after API defaulting (K3
//! `pkg/apis/autoscaling/v2/defaults.go`), and the controller's flags (K4
//! `pkg/controller/podautoscaler/config/v1alpha1/defaults.go`). Values as the controller sees
//! them: quantities in milli, windows and periods in whole seconds as the API has them.

use crate::sim::SimDuration;

/// One HPA, defaulted: `minReplicas` 1, `metrics` CPU Utilization 80 when empty, `behavior`
/// filled field by field when present (K3 `SetDefaults_HorizontalPodAutoscaler`).
#[derive(Debug, Clone, PartialEq)]
pub struct HpaSpec {
    pub name: String,
    pub namespace: String,
    /// `scaleTargetRef.name`.
    pub target: String,
    /// `scaleTargetRef.kind`.
    pub target_kind: String,
    pub min_replicas: i32,
    pub max_replicas: i32,
    pub metrics: Vec<MetricSpec>,
    /// `None` takes the legacy path (`normalizeDesiredReplicas`), which is not the same as
    /// `behavior: {}` (docs/other-autoscalers.md §2).
    pub behavior: Option<Behavior>,
}

impl HpaSpec {
    /// The metric K3 puts in an HPA that lists none: CPU at 80 % of requests.
    pub fn default_metrics() -> Vec<MetricSpec> {
        vec![MetricSpec::Resource {
            name: "cpu".to_string(),
            target: MetricTarget::Utilization(DEFAULT_CPU_UTILIZATION),
        }]
    }
}

/// `autoscaling.DefaultCPUUtilization` (K3).
pub const DEFAULT_CPU_UTILIZATION: i32 = 80;

/// One entry of `spec.metrics`, by its `type`.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricSpec {
    /// A per-pod metric averaged over the target's pods; target always `AverageValue`.
    Pods {
        metric: MetricId,
        target: MetricTarget,
    },
    /// `cpu` or `memory` of the pods' containers; `Utilization` or `AverageValue`.
    Resource { name: String, target: MetricTarget },
    /// One metric of one object; `Value` or `AverageValue`.
    Object {
        described: ObjectRef,
        metric: MetricId,
        target: MetricTarget,
    },
    /// A metric from outside the cluster (what KEDA serves); `Value` or `AverageValue`.
    External {
        metric: MetricId,
        target: MetricTarget,
    },
}

impl MetricSpec {
    pub fn target(&self) -> &MetricTarget {
        match self {
            MetricSpec::Pods { target, .. }
            | MetricSpec::Resource { target, .. }
            | MetricSpec::Object { target, .. }
            | MetricSpec::External { target, .. } => target,
        }
    }

    /// The metric's name as reasons show it (`cpu`, `vllm:num_requests_waiting`).
    pub fn metric_name(&self) -> &str {
        match self {
            MetricSpec::Resource { name, .. } => name,
            MetricSpec::Pods { metric, .. }
            | MetricSpec::Object { metric, .. }
            | MetricSpec::External { metric, .. } => &metric.name,
        }
    }
}

/// `metric: {name, selector: {matchLabels}}`.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricId {
    pub name: String,
    /// `selector.matchLabels`, sorted by key.
    pub selector: Vec<(String, String)>,
}

/// `describedObject` of an Object metric.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectRef {
    pub api_version: String,
    pub kind: String,
    pub name: String,
}

/// `target: {type, value | averageValue | averageUtilization}`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MetricTarget {
    /// `value`, in milli.
    Value(i64),
    /// `averageValue`, in milli.
    AverageValue(i64),
    /// `averageUtilization`, percent of the pods' requests.
    Utilization(i32),
}

/// `spec.behavior`, both directions filled from the defaults (K3 `GenerateHPAScaleUpRules`,
/// `GenerateHPAScaleDownRules`).
#[derive(Debug, Clone, PartialEq)]
pub struct Behavior {
    pub scale_up: Rules,
    pub scale_down: Rules,
}

/// `behavior: {}`: both directions at their defaults.
impl Default for Behavior {
    fn default() -> Self {
        Behavior {
            scale_up: Rules::default_scale_up(),
            scale_down: Rules::default_scale_down(),
        }
    }
}

/// `HPAScalingRules`.
#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    /// `None` only on scale-down, where the controller uses its
    /// `--horizontal-pod-autoscaler-downscale-stabilization` (K2
    /// `maybeInitScaleDownStabilizationWindow`).
    pub stabilization_window_s: Option<i32>,
    pub select_policy: SelectPolicy,
    pub policies: Vec<ScalingPolicy>,
    /// `None` = the controller's `--horizontal-pod-autoscaler-tolerance`.
    pub tolerance: Option<f64>,
}

impl Rules {
    /// K3 `defaultHPAScaleUpRules`: no window, Max of 4 pods and 100 % per 15 s.
    pub fn default_scale_up() -> Rules {
        Rules {
            stabilization_window_s: Some(0),
            select_policy: SelectPolicy::Max,
            policies: vec![
                ScalingPolicy {
                    kind: PolicyKind::Pods,
                    value: 4,
                    period_s: 15,
                },
                ScalingPolicy {
                    kind: PolicyKind::Percent,
                    value: 100,
                    period_s: 15,
                },
            ],
            tolerance: None,
        }
    }

    /// K3 `defaultHPAScaleDownRules`: the window left to the controller, 100 % per 15 s.
    pub fn default_scale_down() -> Rules {
        Rules {
            stabilization_window_s: None,
            select_policy: SelectPolicy::Max,
            policies: vec![ScalingPolicy {
                kind: PolicyKind::Percent,
                value: 100,
                period_s: 15,
            }],
            tolerance: None,
        }
    }

    /// K3 `copyHPAScalingRules`: each field the user set replaces the default's as a whole
    /// (a `policies` list is not merged with the default one).
    pub fn defaulted(
        self,
        stabilization_window_s: Option<i32>,
        select_policy: Option<SelectPolicy>,
        policies: Option<Vec<ScalingPolicy>>,
        tolerance: Option<f64>,
    ) -> Rules {
        Rules {
            stabilization_window_s: stabilization_window_s.or(self.stabilization_window_s),
            select_policy: select_policy.unwrap_or(self.select_policy),
            policies: policies.unwrap_or(self.policies),
            tolerance: tolerance.or(self.tolerance),
        }
    }
}

/// `selectPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectPolicy {
    /// The policy allowing the largest change.
    Max,
    /// The policy allowing the smallest change.
    Min,
    /// No scaling in this direction.
    Disabled,
}

/// One of `policies`: at most `value` pods or percent of change per `period_s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScalingPolicy {
    pub kind: PolicyKind,
    pub value: i32,
    pub period_s: i32,
}

/// A policy's `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    Pods,
    Percent,
}

/// The controller manager's HPA flags (K4, K6).
#[derive(Debug, Clone, PartialEq)]
pub struct ControllerConfig {
    /// `--horizontal-pod-autoscaler-tolerance`.
    pub tolerance: f64,
    /// `--horizontal-pod-autoscaler-downscale-stabilization`.
    pub downscale_stabilization: SimDuration,
    /// `--horizontal-pod-autoscaler-cpu-initialization-period`.
    pub cpu_initialization_period: SimDuration,
    /// `--horizontal-pod-autoscaler-initial-readiness-delay`.
    pub initial_readiness_delay: SimDuration,
    /// The `HPAConfigurableTolerance` feature gate (K6): when off, the API server drops
    /// `behavior.*.tolerance`.
    pub configurable_tolerance: bool,
}

/// K4 defaults; the gate on, as from Kubernetes 1.35 (K6).
impl Default for ControllerConfig {
    fn default() -> Self {
        ControllerConfig {
            tolerance: 0.1,
            downscale_stabilization: SimDuration::from_secs(300),
            cpu_initialization_period: SimDuration::from_secs(300),
            initial_readiness_delay: SimDuration::from_secs(30),
            configurable_tolerance: true,
        }
    }
}
