//! The scenario's HPAs, KEDA ScaledObjects and Knative KPAs, checked against the simulated
//! world: each scales a serving of the scenario, reads metrics the world provides (the pods'
//! gauges, PromQL the simulated Prometheus evaluates), and no two autoscalers fight over one
//! serving without a warning.

use std::collections::BTreeMap;

use super::Problems;
use crate::diagnostic::{Diagnostic, FieldPath};
use crate::hpa::MetricSpec;
use crate::kpa::Resolved;
use crate::kthena::manifest::{LoadedAutoscaler, ManifestSet};
use crate::kthena::warnings::did_you_mean;
use crate::model::autoscalers::AutoscalerSpec;
use crate::model::metrics::exposed_gauges;
use crate::model::prometheus::Query;
use crate::model::spec::Serving;

/// The other autoscalers of `set`, listed at `field`, checked against `servings` when they
/// are all known.
pub(super) fn other_autoscalers(
    set: &ManifestSet,
    field: &FieldPath,
    servings: Option<&[Serving]>,
    p: &mut Problems,
) -> Vec<AutoscalerSpec> {
    let Ok(loaded) = set.autoscalers() else {
        return Vec::new();
    };
    for l in loaded {
        check_metrics(l, field, p);
        if let Some(servings) = servings {
            check_target(l, servings, field, p);
            check_initial_scale(l, servings, field, p);
        }
    }
    loaded.iter().map(|l| l.spec.clone()).collect()
}

/// `FILE KIND NAMESPACE/NAME`: how messages name an autoscaler.
fn named(l: &LoadedAutoscaler) -> String {
    format!("{} {}", l.location.file, l.spec.key())
}

/// HPA metrics must be pod gauges (or their sums, for Object and External metrics): the
/// simulated pods have no CPU or memory, and counters need a `rate()` adapter rule. KEDA
/// queries must be PromQL the simulated Prometheus evaluates.
fn check_metrics(l: &LoadedAutoscaler, field: &FieldPath, p: &mut Problems) {
    let gauges = exposed_gauges();
    let known = |name: &str| {
        gauges
            .iter()
            .any(|g| g == name || g.replace(':', "_") == name)
    };
    let metrics = match &l.spec {
        AutoscalerSpec::Hpa(h) => h.metrics.as_slice(),
        AutoscalerSpec::Keda(k) => {
            for (i, t) in k.triggers.iter().enumerate() {
                if let Err(e) = Query::parse(&t.query) {
                    p.add(
                        field.clone(),
                        format!("{}: spec.triggers[{i}].metadata.query: {e}", named(l)),
                    );
                }
            }
            return;
        }
        AutoscalerSpec::Kpa { .. } => return,
    };
    for (i, m) in metrics.iter().enumerate() {
        let at = format!("{}: spec.metrics[{i}]", named(l));
        match m {
            MetricSpec::Resource { name, .. } => p.add(
                field.clone(),
                format!(
                    "{at}: a Resource metric ({name}) cannot be simulated: the simulated pods have no {name} usage; scale on a Pods metric such as vllm:num_requests_waiting"
                ),
            ),
            MetricSpec::Pods { metric, .. }
            | MetricSpec::Object { metric, .. }
            | MetricSpec::External { metric, .. } => {
                if !known(&metric.name) {
                    let hint = did_you_mean(&metric.name, gauges.iter().map(String::as_str))
                        .map_or_else(
                            || format!("the gauges the pods expose: {}", gauges.join(", ")),
                            |g| format!("did you mean `{g}`?"),
                        );
                    p.0.push(
                        Diagnostic::error(
                            field.clone(),
                            format!(
                                "{at}: metric {} is not a gauge the simulated pods expose",
                                metric.name
                            ),
                        )
                        .with_hint(hint),
                    );
                }
            }
        }
    }
}

/// The autoscaler's target must be one of the scenario's servings.
fn check_target(l: &LoadedAutoscaler, servings: &[Serving], field: &FieldPath, p: &mut Problems) {
    let (ns, name) = l.spec.target();
    if servings.iter().any(|s| s.namespace == ns && s.name == name) {
        return;
    }
    let names: Vec<String> = (servings.iter())
        .map(|s| format!("{}/{}", s.namespace, s.name))
        .collect();
    let wanted = format!("{ns}/{name}");
    let hint = match did_you_mean(&wanted, names.iter().map(String::as_str)) {
        Some(n) => format!("did you mean `{n}`?"),
        None => format!("the scenario's servings: {}", names.join(", ")),
    };
    p.0.push(
        Diagnostic::error(
            field.clone(),
            format!(
                "{}: scales {wanted}, which is not among the scenario's servings",
                named(l)
            ),
        )
        .with_hint(hint),
    );
}

/// Knative creates a revision at its initial scale: a serving whose `replicas` differ is
/// resized at the KPA's first reconcile, which a user should know.
fn check_initial_scale(
    l: &LoadedAutoscaler,
    servings: &[Serving],
    field: &FieldPath,
    p: &mut Problems,
) {
    let AutoscalerSpec::Kpa { spec, config, .. } = &l.spec else {
        return;
    };
    let (ns, name) = l.spec.target();
    let Some(serving) = servings
        .iter()
        .find(|s| s.namespace == ns && s.name == name)
    else {
        return;
    };
    let initial = Resolved::new(spec, config).scaler.initial_scale;
    if serving.replicas != initial {
        p.0.push(
            Diagnostic::warning(
                field.clone(),
                format!(
                    "{}: Knative starts the revision at its initial scale {initial}, so {ns}/{name}'s `replicas: {}` is replaced at the KPA's first reconcile",
                    named(l),
                    serving.replicas
                ),
            )
            .with_hint(format!(
                "set the serving's replicas to {initial}, or the annotation autoscaling.knative.dev/initial-scale: \"{}\"",
                serving.replicas
            )),
        );
    }
}

/// A warning for every serving that two autoscalers (Kthena's policies given as
/// `kthena_targets`: namespace, serving, policy; and the others) would both scale: each would
/// undo the other's writes.
pub(super) fn warn_shared_targets(
    kthena_targets: &[(String, String, String)],
    others: &[AutoscalerSpec],
    field: &FieldPath,
    p: &mut Problems,
) {
    let mut by_target: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (ns, name, policy) in kthena_targets {
        (by_target.entry((ns.clone(), name.clone())).or_default())
            .push(format!("Kthena policy {policy}"));
    }
    for a in others {
        let (ns, name) = a.target();
        (by_target.entry((ns.into(), name.into())).or_default()).push(a.key());
    }
    for ((ns, name), who) in by_target {
        if who.len() > 1 {
            p.0.push(
                Diagnostic::warning(
                    field.clone(),
                    format!(
                        "{ns}/{name} is scaled by {}: each would undo the other's writes",
                        who.join(" and ")
                    ),
                )
                .with_hint("give each serving one autoscaler; compare them with `kthena-sim compare --variant NAME=FILE`".to_string()),
            );
        }
    }
}
