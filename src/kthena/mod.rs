//! Kthena's objects as users write them: AutoscalingPolicy, AutoscalingPolicyBinding and
//! ModelServing manifests read from YAML (and the other autoscalers' manifests beside them:
//! HorizontalPodAutoscaler, KEDA ScaledObject, Knative Service, [`autoscaler`]), defaulted by the API server and the mutating
//! webhook, and checked as the API server and Kthena's validating webhooks would
//! ([`manifest`], [`validation`], [`defaults`]) — yielding the engine's
//! [`Policy`](crate::engine::policy::Policy) values. The engine itself never sees YAML.

pub mod autoscaler;
pub mod defaults;
pub mod field;
pub mod manifest;
pub mod spec;
mod validation;
pub mod warnings;
