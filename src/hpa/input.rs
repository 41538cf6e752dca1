//! What the world shows the HPA at a sync: the target's scale subresource, its pods and one
//! reading per metric of the spec. Built by the world from its simulated pods; the HPA never
//! sees servers. The fields are those the upstream calculators read (K1 `groupPods`,
//! `getReadyPodsCount`, `calculateRequests`).

use crate::sim::{SimDuration, SimTime};

/// One sync's observation.
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    pub now: SimTime,
    /// `scale.spec.replicas`: what the last writer asked for.
    pub spec_replicas: i32,
    /// `scale.status.replicas`: pods that exist and are not being deleted.
    pub status_replicas: i32,
    /// The pods the target's selector matches, deleting and failed ones included.
    pub pods: Vec<Pod>,
    /// One reading per entry of `spec.metrics`, in spec order.
    pub metrics: Vec<MetricReading>,
}

/// A pod as the HPA's pod lister sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Pod {
    pub phase: Phase,
    /// Has a `deletionTimestamp`.
    pub deleting: bool,
    /// The `Ready` condition; `None` when the pod has none.
    pub ready: Option<bool>,
    /// `lastTransitionTime` of the `Ready` condition.
    pub ready_last_transition: SimTime,
    /// `status.startTime`.
    pub start_time: Option<SimTime>,
    /// The pod's CPU request in milli-cores (pod-level, or the sum over containers); `None`
    /// when a container has none, which fails a CPU metric as upstream does.
    pub cpu_request_milli: Option<i64>,
}

/// `status.phase`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Pending,
    Running,
    Succeeded,
    Failed,
}

/// The metrics API's answer for one metric of the spec.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricReading {
    /// Pods and Resource metrics: index `i` is pod `i` of [`Input::pods`]; `None` = the
    /// pipeline has no sample for it. Entries past the last pod are samples of pods the lister
    /// no longer lists, which the metrics API may still return and K1 counts.
    PerPod(Vec<Option<Sample>>),
    /// Object and External metrics: the value (the sum of the series for External), or why
    /// the metrics API failed.
    Total(Result<i64, String>),
}

/// One per-pod sample (`PodMetric` of K1's metrics client).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub value_milli: i64,
    /// When the sample's window ended.
    pub timestamp: SimTime,
    /// The window it averages over.
    pub window: SimDuration,
}
