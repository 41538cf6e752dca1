//! The other autoscalers a scenario may install beside (or instead of) Kthena's policies, as
//! read from their manifests: a Kubernetes HorizontalPodAutoscaler, a KEDA ScaledObject, or a
//! Knative Service's KPA with the cluster's `config-autoscaler` settings.

use crate::hpa::HpaSpec;
use crate::keda::ScaledObjectSpec;
use crate::kpa::{KpaConfig, KpaSpec};

/// One autoscaler as the user wrote it, defaulted and checked.
#[derive(Debug, Clone, PartialEq)]
pub enum AutoscalerSpec {
    Hpa(HpaSpec),
    Keda(ScaledObjectSpec),
    /// A Knative Service (`name` in `namespace`, scaling the ModelServing of that name): its
    /// revision's KPA settings and the cluster's `config-autoscaler`.
    Kpa {
        name: String,
        namespace: String,
        spec: Box<KpaSpec>,
        config: Box<KpaConfig>,
    },
}

impl AutoscalerSpec {
    /// `hpa`, `keda` or `kpa`: how reports name the autoscaler.
    pub fn kind(&self) -> &'static str {
        match self {
            AutoscalerSpec::Hpa(_) => "hpa",
            AutoscalerSpec::Keda(_) => "keda",
            AutoscalerSpec::Kpa { .. } => "kpa",
        }
    }

    /// The ModelServing it scales: `(namespace, name)`.
    pub fn target(&self) -> (&str, &str) {
        match self {
            AutoscalerSpec::Hpa(h) => (&h.namespace, &h.target),
            AutoscalerSpec::Keda(k) => (&k.namespace, &k.target),
            AutoscalerSpec::Kpa {
                name, namespace, ..
            } => (namespace, name),
        }
    }

    /// `kind:namespace/name`, the timeline's `policy` column.
    pub fn key(&self) -> String {
        let name = match self {
            AutoscalerSpec::Hpa(h) => &h.name,
            AutoscalerSpec::Keda(k) => &k.name,
            AutoscalerSpec::Kpa { name, .. } => name,
        };
        format!("{}:{}/{name}", self.kind(), self.target().0)
    }

    /// The replica bounds it keeps, for the timeline; `None` for a KPA without `max-scale`
    /// (unbounded).
    pub fn bounds(&self) -> (i32, Option<i32>) {
        match self {
            AutoscalerSpec::Hpa(h) => (h.min_replicas, Some(h.max_replicas)),
            AutoscalerSpec::Keda(k) => (k.min_replica_count, Some(k.max_replica_count)),
            AutoscalerSpec::Kpa { spec, config, .. } => {
                let max = spec.max_scale.unwrap_or(config.max_scale);
                (
                    spec.min_scale.unwrap_or(config.min_scale),
                    (max > 0).then_some(max),
                )
            }
        }
    }
}
