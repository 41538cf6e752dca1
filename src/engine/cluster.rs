//! What the autoscaler controller reads from the outside world: the ModelServing lister, the
//! pod informer, the pods' metrics endpoints and Prometheus. The engine asks; the caller (the
//! simulator, or the replay of recorded ticks) answers. Nothing here does I/O.

use std::collections::BTreeMap;

use super::histogram::Snapshot;
use super::policy::Labels;
use super::UnixMillis;

/// Label naming the ModelServing of a pod.
pub const LABEL_MODEL_SERVING_NAME: &str = "modelserving.volcano.sh/name";
/// Label set to `"true"` on the entry pod of each role instance (the one that is scraped).
pub const LABEL_ENTRY: &str = "modelserving.volcano.sh/entry";
/// Label naming the role of a pod.
pub const LABEL_ROLE: &str = "modelserving.volcano.sh/role";
/// Only pods with this label are visible to the controller's informer.
pub const LABEL_GROUP_NAME: &str = "modelserving.volcano.sh/group-name";

/// A `ModelServing` as the lister returns it: the *desired* counts of its spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelServingView {
    pub namespace: String,
    pub name: String,
    /// `spec.replicas`; `None` when unset.
    pub replicas: Option<i32>,
    /// `spec.template.roles[]` in order: name and `replicas` (`None` when unset).
    pub roles: Vec<(String, Option<i32>)>,
}

/// A pod as the informer holds it, reduced to what the collector looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodView {
    pub namespace: String,
    pub name: String,
    pub labels: Labels,
    /// Phase `Running` and condition `Ready` true.
    pub ready: bool,
    /// Phase `Failed`, deletion requested, or any container restarted (docs/engine.md §7.1).
    pub failed: bool,
    /// `status.startTime`; `None` while unknown.
    pub start_time_ms: Option<UnixMillis>,
}

/// One metric family of a Prometheus text exposition, by type, with its samples in order.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricFamily {
    Counter(Vec<f64>),
    Gauge(Vec<f64>),
    Histogram(Vec<Snapshot>),
    /// `UNTYPED`, `SUMMARY` and other types: ignored at v0.4, an error at HEAD.
    Other {
        samples: usize,
    },
}

impl MetricFamily {
    pub fn is_empty(&self) -> bool {
        match self {
            MetricFamily::Counter(v) | MetricFamily::Gauge(v) => v.is_empty(),
            MetricFamily::Histogram(h) => h.is_empty(),
            MetricFamily::Other { samples } => *samples == 0,
        }
    }
}

/// A decoded metrics payload: family name → family.
pub type Families = BTreeMap<String, MetricFamily>;

/// The answer of a scrape `GET http://<pod>:<port><uri>`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scrape<'a> {
    /// 2xx with a payload that decodes.
    Ok(&'a Families),
    /// Transport error, non-2xx status or unreadable body.
    Failed,
    /// A payload the text-format decoder rejects: v0.4 loops forever on it (docs/engine.md §14
    /// item 11), HEAD drops the metric group.
    Malformed,
}

/// The answer of a Prometheus instant query.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryResult {
    Scalar(f64),
    /// One value per sample of the result vector.
    Vector(Vec<f64>),
    /// A matrix or string result.
    Unsupported(&'static str),
    /// An API, HTTP or transport error.
    Error(String),
}

/// The controller's view of the cluster at one instant.
pub trait Cluster {
    /// The ModelServing lister (`Get(namespace, name)`).
    fn model_serving(&self, namespace: &str, name: &str) -> Option<&ModelServingView>;
    /// Every pod the informer holds, in lister order.
    fn pods(&self) -> &[PodView];
    /// Scrapes pod `pod` (an index into [`Cluster::pods`]) at `port` and `uri`, exactly as
    /// Kthena builds the URL for the engine version in use.
    fn scrape(&self, pod: usize, uri: &str, port: i32) -> Scrape<'_>;
    /// Runs a Prometheus instant query at the current time.
    fn query(&self, server_url: &str, query: &str) -> QueryResult;
}
