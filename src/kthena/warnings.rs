//! Policies Kthena accepts but that cannot work as written: a metric with no source (the
//! current API), a v0.x binding without `metricEndpoint` (its collector scrapes port 0 and
//! skips every tick), a `metricSources` key that names no metric, `minReplicas` above
//! `maxReplicas` once defaulted. Warnings, not errors: a cluster would take these objects.

use crate::diagnostic::{Diagnostic, FieldPath};
use crate::engine::policy::{MetricSource, MetricTarget, ScalingTarget, Target};

use super::manifest::{ApiGeneration, LoadedPolicy};

/// The closest of `known` to `word`, when it is close enough to be a likely typo.
pub fn did_you_mean<'a>(word: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    known
        .into_iter()
        .map(|k| {
            (
                strsim::jaro_winkler(&word.to_lowercase(), &k.to_lowercase()),
                k,
            )
        })
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

/// One scaled target of the policy as its manifest writes it: its field path, target, the
/// metrics it is measured on and its bounds.
struct Written<'a> {
    path: FieldPath,
    target: Option<&'a Target>,
    metrics: &'a [MetricTarget],
    bounds: Option<(i32, i32)>,
}

fn written(l: &LoadedPolicy) -> Vec<Written<'_>> {
    let p = &l.policy;
    let spec = FieldPath::new("spec");
    match &p.target {
        ScalingTarget::Homogeneous(h) => vec![Written {
            path: spec.child("homogeneousTarget"),
            target: h.target.as_ref(),
            metrics: &p.metrics,
            bounds: Some((h.min_replicas, h.max_replicas)),
        }],
        ScalingTarget::Heterogeneous(h) => h
            .params
            .iter()
            .enumerate()
            .map(|(i, param)| Written {
                path: spec.child("heterogeneousTarget").child("params").index(i),
                target: param.target.as_ref(),
                metrics: &p.metrics,
                bounds: Some((param.min_replicas, param.max_replicas)),
            })
            .collect(),
        // The webhook already refuses a role without its sources or with a stray key.
        ScalingTarget::Disaggregated(_) => Vec::new(),
    }
}

/// The warnings of one loaded policy, placed in its document.
pub fn policy_warnings(l: &LoadedPolicy) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for w in written(l) {
        let target_path = w.path.child("target");
        let names: Vec<&str> = w.metrics.iter().map(|m| m.name.as_str()).collect();
        match l.api {
            ApiGeneration::Current => {
                let sources = w.target.and_then(|t| t.metric_sources.as_ref());
                for m in &names {
                    if sources.is_some_and(|s| s.contains_key(*m)) {
                        continue;
                    }
                    let mut d = Diagnostic::warning(
                        target_path.child("metricSources"),
                        format!(
                            "metric `{m}` has no source: the engine skips every tick and this policy never scales"
                        ),
                    );
                    let stray = sources.and_then(|s| {
                        did_you_mean(m, s.keys().map(String::as_str)).map(str::to_string)
                    });
                    d = d.with_hint(match stray {
                        Some(k) => format!("did you mean the key `{k}` for `{m}`?"),
                        None => format!(
                            "add `metricSources: {{{m}: {{pod: {{name: <the pods' metric family>}}}}}}`"
                        ),
                    });
                    out.push(d);
                }
                for key in sources.into_iter().flat_map(|s| s.keys()) {
                    if names.contains(&key.as_str()) {
                        continue;
                    }
                    let mut d = Diagnostic::warning(
                        target_path.child("metricSources").key(key),
                        format!(
                            "names no metric of spec.metrics ({}): it is never read",
                            names.join(", ")
                        ),
                    );
                    if let Some(m) = did_you_mean(key, names.iter().copied()) {
                        d = d.with_hint(format!("did you mean `{m}`?"));
                    }
                    out.push(d);
                }
            }
            ApiGeneration::V0_4 => {
                if w.target.is_some_and(|t| t.metric_endpoint.is_none()) {
                    out.push(
                        Diagnostic::warning(
                            target_path.child("metricEndpoint"),
                            "no metricEndpoint: the v0.4 collector scrapes port 0 and skips every tick, so this policy never scales",
                        )
                        .with_hint("add `metricEndpoint: {port: 8100, uri: /metrics}` (the pods' metrics port and path)"),
                    );
                }
            }
        }
        if let Some((min, max)) = w.bounds {
            // At zero replicas the collector finds no pod to scrape; only a Prometheus
            // source (one that counts requests before they reach a pod) still has a value.
            let prometheus = w
                .target
                .and_then(|t| t.metric_sources.as_ref())
                .is_some_and(|s| {
                    s.values()
                        .any(|src| matches!(src, MetricSource::Prometheus(_)))
                });
            // A heterogeneous target's other params keep pods to measure unless all are 0.
            let all_zero = match &l.policy.target {
                ScalingTarget::Heterogeneous(h) => h.params.iter().all(|p| p.min_replicas == 0),
                _ => true,
            };
            if min == 0 && all_zero && !prometheus {
                out.push(
                    Diagnostic::warning(
                        w.path.child("minReplicas"),
                        "minReplicas 0 with pod metrics only: once scaled to zero the collector finds no pod, skips every tick, and the policy never scales back up",
                    )
                    .with_hint("keep minReplicas at 1, or read a Prometheus source that counts requests at the router (kthena_router_active_downstream_requests)"),
                );
            }
            if min > max {
                out.push(
                    Diagnostic::warning(
                        w.path.child("minReplicas"),
                        format!(
                            "minReplicas {min} is above maxReplicas {max} once defaulted: the engine clamps every recommendation to {max}"
                        ),
                    )
                    .with_hint("set maxReplicas at least minReplicas (minReplicas defaults to 1)"),
                );
            }
        }
    }
    out.into_iter()
        .map(|d| d.in_file(l.location.file.clone()).at(l.location.place()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_are_close_words_only() {
        let keys = ["running", "waiting"];
        assert_eq!(did_you_mean("runing", keys), Some("running"));
        assert_eq!(
            did_you_mean("targetvalue", ["targetValue", "name"]),
            Some("targetValue")
        );
        assert_eq!(did_you_mean("zzz", keys), None);
    }
}
