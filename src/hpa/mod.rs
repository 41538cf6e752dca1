//! The Kubernetes HorizontalPodAutoscaler (`autoscaling/v2`) as a pure function of its state,
//! its spec and what the world observes at a sync: no I/O, no clock (time is an argument).
//! Ports, from kubernetes/kubernetes (tags of the spec `other-autoscalers.md` §0): K1
//! `pkg/controller/podautoscaler/replica_calculator.go`, K2 `horizontal.go`, K3
//! `pkg/apis/autoscaling/v2/defaults.go`, K4 `config/v1alpha1/defaults.go`, K5
//! `metrics/utilization.go`.

mod spec;

pub use spec::{
    Behavior, ControllerConfig, HpaSpec, MetricId, MetricSpec, MetricTarget, ObjectRef, PolicyKind,
    Rules, ScalingPolicy, SelectPolicy, DEFAULT_CPU_UTILIZATION,
};
