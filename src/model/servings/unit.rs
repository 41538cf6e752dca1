//! One server of a ModelServing — a serving group, or one instance of a role — with its entry
//! pod: its place in the group, its pod's name and labels, its lifecycle, and the inference
//! server and metric series running in it. Only [`super::Servings`] changes a unit's state,
//! so that its index of ready units stays true.

use super::super::ids::{ServingIdx, UnitId};
use super::super::metrics::PodSeries;
use super::super::server::Server;
use super::super::spec::Serving;
use crate::engine::cluster::Families;
use crate::engine::cluster::{LABEL_ENTRY, LABEL_GROUP_NAME, LABEL_MODEL_SERVING_NAME, LABEL_ROLE};
use crate::engine::policy::Labels;
use crate::sim::SimTime;

/// Where a unit is in its life; the variants of a pod that got a node carry when it did
/// (`status.startTime`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitState {
    /// Waiting for GPUs.
    Pending,
    /// Got its GPUs; pulling its image and loading the model.
    Starting {
        scheduled_at: SimTime,
    },
    /// Serving since `since` (its latest start or restart).
    Ready {
        scheduled_at: SimTime,
        since: SimTime,
    },
    /// Deletion requested: drains, receives no requests.
    Terminating {
        scheduled_at: SimTime,
    },
    /// Its container crashed and is being restarted: not ready.
    Restarting {
        scheduled_at: SimTime,
    },
    /// Its node was lost: not ready, no longer billed, until evicted.
    Lost {
        scheduled_at: SimTime,
    },
    Gone,
}

impl UnitState {
    /// Its container runs: it serves its metrics endpoint (ready, or draining).
    pub fn is_running(self) -> bool {
        matches!(
            self,
            UnitState::Ready { .. } | UnitState::Terminating { .. }
        )
    }

    /// When the pod got a node, if it did and still exists.
    pub fn scheduled_at(self) -> Option<SimTime> {
        match self {
            UnitState::Starting { scheduled_at }
            | UnitState::Ready { scheduled_at, .. }
            | UnitState::Terminating { scheduled_at }
            | UnitState::Restarting { scheduled_at }
            | UnitState::Lost { scheduled_at } => Some(scheduled_at),
            UnitState::Pending | UnitState::Gone => None,
        }
    }

    /// Whether the unit is billed: it exists and its node does.
    pub fn billed(self) -> bool {
        !matches!(self, UnitState::Gone | UnitState::Lost { .. })
    }
}

/// What a server does with requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitKind {
    /// Serves whole requests.
    Serve,
    /// Prefills requests of a disaggregated serving.
    Prefill,
    /// Decodes requests of a disaggregated serving, after the KV transfer.
    Decode,
    /// Takes no requests (billed capacity).
    Idle,
}

/// A server's place in its ModelServing: role (none for a group of one server), group and
/// instance of the role. Ordered as the controller creates missing ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct GroupSlot {
    pub role: Option<usize>,
    pub group: u32,
    pub instance: u32,
}

pub struct Unit {
    pub serving: ServingIdx,
    pub slot: GroupSlot,
    pub pod_name: String,
    /// The pod's labels, as the autoscaler's pod lister sees them.
    pub labels: Labels,
    /// The target labels of its Prometheus series.
    pub prom_labels: Labels,
    /// Its creation: billing starts here.
    pub created: SimTime,
    pub(super) state: UnitState,
    pub kind: UnitKind,
    pub server: Server,
    pub series: PodSeries,
    /// What its metrics endpoint answered at the last tick's scrape, rewritten in place at
    /// the next ([`super::Servings::refresh_expositions`]); empty until the first.
    pub exposition: Families,
    /// The wake-up last scheduled for its server, so that it is scheduled once.
    pub next_wake: Option<SimTime>,
    /// Container restarts (the pod's `restartCount`).
    pub restarts: u32,
    /// Crashes since the container last ran 10 minutes: the kubelet's back-off step.
    pub(super) crash_streak: u32,
}

impl Unit {
    /// A new, pending unit `id` of serving `spec` (index `serving`) in `slot`.
    pub(super) fn new(
        spec: &Serving,
        serving: ServingIdx,
        id: UnitId,
        slot: GroupSlot,
        now: SimTime,
        coalesce: bool,
    ) -> Self {
        let pod_name = format!("{}-{}", spec.name, id.index());
        let mut labels = spec.labels.clone();
        labels.insert(LABEL_MODEL_SERVING_NAME.into(), spec.name.clone());
        labels.insert(LABEL_ENTRY.into(), "true".into());
        labels.insert(
            LABEL_GROUP_NAME.into(),
            format!("{}-{}", spec.name, slot.group),
        );
        let mut kind = UnitKind::Serve;
        if let Some(r) = slot.role {
            labels.insert(LABEL_ROLE.into(), spec.roles[r].name.clone());
            labels.extend(spec.roles[r].labels.clone());
            kind = match &spec.disaggregation {
                Some(d) if d.prefill_role == r => UnitKind::Prefill,
                Some(d) if d.decode_role == r => UnitKind::Decode,
                Some(_) => UnitKind::Idle,
                None if spec.roles[r].serves => UnitKind::Serve,
                None => UnitKind::Idle,
            };
        }
        let mut prom_labels = spec.labels.clone();
        prom_labels.insert("namespace".into(), spec.namespace.clone());
        prom_labels.insert("modelserving".into(), spec.name.clone());
        prom_labels.insert("pod".into(), pod_name.clone());
        if let Some(r) = slot.role {
            prom_labels.extend(spec.roles[r].labels.clone());
            prom_labels.insert("role".into(), spec.roles[r].name.clone());
        }
        Unit {
            serving,
            slot,
            pod_name,
            labels,
            prom_labels,
            created: now,
            state: UnitState::Pending,
            kind,
            server: Server::new(spec.server, coalesce),
            series: PodSeries::default(),
            exposition: Families::new(),
            next_wake: None,
            restarts: 0,
            crash_streak: 0,
        }
    }

    pub fn state(&self) -> UnitState {
        self.state
    }
}
