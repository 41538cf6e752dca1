//! What the simulated world is made of, independent of how a user wrote it: the
//! ModelServings and their servers, GPU capacity and node losses, the router, the policies and
//! their changes, the controller's clock and the SLO. [`crate::scenario`] builds it from a
//! scenario file; tests build it directly.

use std::collections::BTreeMap;

use super::autoscalers::AutoscalerSpec;
use super::faults::{NodeLoss, ServingFaults};
use super::router::RouterPolicy;
use super::server::ServerParams;
use super::startup::Startup;
use crate::engine::policy::Policy;
use crate::engine::{EngineVersion, UnixMillis};
use crate::hpa::ControllerConfig;
use crate::sim::{SimDuration, SimTime};

/// Default autoscaler sync period.
pub const DEFAULT_SYNC_PERIOD: SimDuration = SimDuration::from_secs(15);
/// Default engine clock at simulated time 0 (a realistic Unix time: the engine treats
/// timestamp 0 as "empty").
pub const DEFAULT_EPOCH_MS: UnixMillis = UnixMillis::from_millis(1_700_000_000_000);
/// Default termination grace of a removed server.
pub const DEFAULT_TERMINATION_GRACE: SimDuration = SimDuration::from_secs(30);
/// The most servers (groups, or role instances) one ModelServing runs: a scenario's replicas
/// are refused above it, and the simulated ModelServing controller creates no more even when
/// a policy asks for more (its `maxReplicas` may reach Kthena's 1 000 000).
pub const MAX_SERVERS: u32 = 10_000;
/// Default metrics endpoint of the simulated pods (Kthena's default).
pub const DEFAULT_METRICS_PORT: i32 = 8100;
pub const DEFAULT_METRICS_PATH: &str = "/metrics";

/// The world a run simulates.
#[derive(Debug, Clone)]
pub struct WorldSpec {
    /// The run's name (the scenario's), in the engine log's line ids.
    pub name: String,
    /// Seed of the world's own random streams (`routing`, `startup`, `failures`).
    pub seed: u64,
    pub engine: EngineVersion,
    pub clock: Clock,
    /// The engine's policies from the start, in manifest order.
    pub policies: Vec<Policy>,
    /// Later policy sets, by time.
    pub policy_changes: Vec<(SimTime, Vec<Policy>)>,
    /// The HPAs, KEDA ScaledObjects and Knative KPAs, in manifest order.
    pub autoscalers: Vec<AutoscalerSpec>,
    /// The HPA controller's flags (also those of the HPAs KEDA creates).
    pub hpa_controller: ControllerConfig,
    pub servings: Vec<Serving>,
    /// Accelerator type → capacity; absent types are unlimited.
    pub capacity: BTreeMap<String, Capacity>,
    /// Nodes lost during the run, by time.
    pub node_losses: Vec<NodeLoss>,
    pub router: RouterPolicy,
    pub queue_timeout: Option<SimDuration>,
    pub slo: Slo,
}

impl WorldSpec {
    /// The autoscalers that run, `+`-joined in manifest order: `kthena` when any Kthena
    /// policy does (from the start or after a change), then `hpa`, `keda`, `kpa`.
    pub fn autoscaler_names(&self) -> String {
        let kthena =
            !self.policies.is_empty() || self.policy_changes.iter().any(|(_, p)| !p.is_empty());
        let mut names: Vec<&str> = Vec::new();
        if kthena {
            names.push("kthena");
        }
        for a in &self.autoscalers {
            if !names.contains(&a.kind()) {
                names.push(a.kind());
            }
        }
        names.join("+")
    }
}

/// The run's length and the controller's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    /// Simulated time to run.
    pub duration: SimDuration,
    /// The autoscaler's period and its first tick.
    pub sync_period: SimDuration,
    pub first_tick: SimTime,
    /// The engine's clock at simulated time 0.
    pub epoch_ms: UnixMillis,
}

impl Clock {
    /// The end of the run: nothing happens after it.
    pub fn end(&self) -> SimTime {
        self.duration.after_start()
    }

    /// The engine's clock at `t`: the epoch plus whole milliseconds since the start.
    pub fn engine_time(&self, t: SimTime) -> UnixMillis {
        UnixMillis::from_millis(self.epoch_ms.as_millis() + t.as_micros() / 1_000)
    }
}

/// A ModelServing and how its servers behave.
#[derive(Debug, Clone)]
pub struct Serving {
    pub name: String,
    pub namespace: String,
    /// Initial `spec.replicas`.
    pub replicas: i32,
    /// Roles of each group; empty = one server per group.
    pub roles: Vec<Role>,
    pub pods_per_server: u32,
    pub gpus_per_pod: u32,
    pub accelerator: String,
    /// Price of one server per hour.
    pub price_per_hour: f64,
    pub startup: Startup,
    pub termination_grace: SimDuration,
    pub server: ServerParams,
    pub metrics_port: i32,
    pub metrics_path: String,
    pub labels: BTreeMap<String, String>,
    pub disaggregation: Option<Disaggregation>,
    pub faults: ServingFaults,
}

/// Prefill/decode disaggregation between two roles of a serving.
#[derive(Debug, Clone, PartialEq)]
pub struct Disaggregation {
    pub prefill_role: usize,
    pub decode_role: usize,
    /// Fixed transfer set-up time.
    pub latency: SimDuration,
    /// Transfer time per prompt token (µs, fractional).
    pub per_token_us: f64,
}

impl Disaggregation {
    /// How long moving the KV cache of `prompt` tokens takes.
    pub fn transfer_time(&self, prompt: u32) -> SimDuration {
        self.latency.saturating_add(SimDuration::from_micros_f64(
            self.per_token_us * f64::from(prompt),
        ))
    }
}

impl Serving {
    pub fn gpus_per_server(&self) -> u32 {
        self.pods_per_server.saturating_mul(self.gpus_per_pod)
    }

    /// A serving `llm/name` of `replicas` one-GPU `h100` servers of the `llama3-8b-1xh100`
    /// preset at 1 per hour, starting in 60 s, without roles or faults: for the components'
    /// tests.
    #[cfg(test)]
    pub fn for_tests(name: &str, replicas: i32) -> Serving {
        Serving {
            name: name.into(),
            namespace: "llm".into(),
            replicas,
            roles: Vec::new(),
            pods_per_server: 1,
            gpus_per_pod: 1,
            accelerator: "h100".into(),
            price_per_hour: 1.0,
            startup: Startup::Constant(SimDuration::from_secs(60)),
            termination_grace: DEFAULT_TERMINATION_GRACE,
            server: super::presets::get("llama3-8b-1xh100").expect("preset"),
            metrics_port: DEFAULT_METRICS_PORT,
            metrics_path: DEFAULT_METRICS_PATH.into(),
            labels: BTreeMap::new(),
            disaggregation: None,
            faults: ServingFaults::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub name: String,
    /// Initial role replicas (instances per group).
    pub replicas: i32,
    pub serves: bool,
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capacity {
    pub gpus: u32,
    pub provisioning: Option<Provisioning>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provisioning {
    pub delay: SimDuration,
    pub step_gpus: u32,
    pub max_gpus: u32,
}

/// Per-request thresholds; `None` = not checked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Slo {
    pub ttft: Option<SimDuration>,
    pub tpot: Option<SimDuration>,
    pub e2e: Option<SimDuration>,
    pub queue: Option<SimDuration>,
}
