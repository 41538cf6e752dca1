//! The `faults` of a serving and the `cluster.node_losses`, validated into the fault models
//! of [`crate::model::faults`].

use std::collections::BTreeMap;

use super::servings::build_startup;
use super::Problems;
use crate::diagnostic::FieldPath;
use crate::model::faults::{
    Crashes, ImagePull, NodeLoss, ServingFaults, DEFAULT_EVICTION, DEFAULT_PULL_ATTEMPT,
    KUBELET_BACKOFF, KUBELET_MAX_BACKOFF,
};
use crate::model::spec::Capacity;
use crate::model::startup::Startup;
use crate::scenario::raw::{RawNodeLoss, RawServingFaults};
use crate::sim::SimDuration;

/// A serving's faults; `startup` is its startup model, the default restart time.
pub(super) fn serving_faults(
    raw: Option<&RawServingFaults>,
    startup: Option<&Startup>,
    path: &FieldPath,
    p: &mut Problems,
) -> Option<ServingFaults> {
    let Some(raw) = raw else {
        return Some(ServingFaults::default());
    };
    let crashes = match &raw.crashes {
        None => None,
        Some(c) => {
            let at = path.child("faults").child("crashes");
            let mtbf = p.positive_duration(&at.child("mtbf"), &c.mtbf);
            let restart = match &c.restart {
                Some(r) => build_startup(r, &at.child("restart"), p),
                None => startup.cloned(),
            };
            Some(Crashes {
                mtbf: mtbf?,
                restart: restart?,
            })
        }
    };
    let image_pull = match &raw.image_pull {
        None => None,
        Some(i) => {
            let at = path.child("faults").child("image_pull");
            let probability = i.failure_probability.unwrap_or(0.0);
            if !(0.0..1.0).contains(&probability) {
                p.add(
                    at.child("failure_probability"),
                    format!("{probability} is out of range; must be >= 0 and < 1"),
                );
            }
            let mut outages = Vec::new();
            for (k, w) in i.outages.iter().enumerate() {
                let from = p.duration(&at.child("outages").index(k).child("from"), &w.from);
                let to = p.duration(&at.child("outages").index(k).child("to"), &w.to);
                if let (Some(from), Some(to)) = (from, to) {
                    if to <= from {
                        p.add(
                            at.child("outages").index(k).child("to"),
                            "must be after from",
                        );
                    }
                    outages.push((from.after_start(), to.after_start()));
                }
            }
            let duration =
                |field: &str, v: &Option<String>, default: SimDuration, p: &mut Problems| match v {
                    Some(t) => p.positive_duration(&at.child(field), t),
                    None => Some(default),
                };
            let attempt = duration("attempt", &i.attempt, DEFAULT_PULL_ATTEMPT, p);
            let backoff = duration("backoff", &i.backoff, KUBELET_BACKOFF, p);
            let max_backoff = duration("max_backoff", &i.max_backoff, KUBELET_MAX_BACKOFF, p);
            if let (Some(b), Some(m)) = (backoff, max_backoff) {
                if m < b {
                    p.add(at.child("max_backoff"), "must be >= backoff");
                }
            }
            Some(ImagePull {
                failure_probability: probability,
                outages,
                attempt: attempt?,
                backoff: backoff?,
                max_backoff: max_backoff?,
            })
        }
    };
    Some(ServingFaults {
        crashes,
        image_pull,
    })
}

/// The node losses, in time order; each names an accelerator with a capacity.
pub(super) fn node_losses(
    raw: &[RawNodeLoss],
    capacity: &BTreeMap<String, Capacity>,
    p: &mut Problems,
) -> Vec<NodeLoss> {
    let mut out = Vec::new();
    for (i, n) in raw.iter().enumerate() {
        let path = FieldPath::new("cluster").child("node_losses").index(i);
        let at = p.duration(&path.child("at"), &n.at);
        let recovers_after = match &n.recovers_after {
            Some(t) => p
                .positive_duration(&path.child("recovers_after"), t)
                .map(Some),
            None => Some(None),
        };
        let eviction = match &n.eviction {
            Some(t) => p.duration(&path.child("eviction"), t),
            None => Some(DEFAULT_EVICTION),
        };
        match capacity.get(&n.accelerator) {
            None => {
                let known: Vec<&str> = capacity.keys().map(String::as_str).collect();
                p.add(
                    path.child("accelerator"),
                    format!(
                        "{:?} has no capacity in cluster.accelerators (known: {})",
                        n.accelerator,
                        if known.is_empty() {
                            "none".into()
                        } else {
                            known.join(", ")
                        }
                    ),
                );
            }
            Some(_) if n.gpus == 0 => p.add(path.child("gpus"), "must be greater than 0"),
            Some(_) => {}
        }
        if let (Some(at), Some(recovers_after), Some(eviction)) = (at, recovers_after, eviction) {
            out.push(NodeLoss {
                at: at.after_start(),
                accelerator: n.accelerator.clone(),
                gpus: n.gpus,
                recovers_after,
                eviction,
            });
        }
    }
    out.sort_by_key(|n| n.at);
    out
}
