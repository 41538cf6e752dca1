//! The scenario file as written: serde types that refuse unknown keys, with doc comments that
//! become the descriptions of the JSON Schema (`kthena-sim schema`). Nothing is checked here
//! beyond YAML types; [`super::validate`] turns this into a [`super::Scenario`] and reports
//! every problem with its path.
//!
//! Fields kept as text for validation to parse are described by what it accepts: durations
//! as [`SpecDuration`] (the same Go syntax), names by their lists (`RouterPolicy`,
//! `EngineVersion`). The schema's bounds are those validation checks, named by the same
//! constants.

use std::borrow::Cow;
use std::collections::BTreeMap;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::Deserialize;

use super::MAX_REPLICATIONS;
use crate::engine::EngineVersion;
use crate::model::router::RouterPolicy;
use crate::model::server::ServerSpec;
use crate::model::spec::MAX_SERVERS;
use crate::workload::{SpecDuration, WorkloadSpec};

/// A simulation scenario: what to run, against which Kthena manifests, and what to check.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    /// Name of the run; names the default output folder `output/<name>/`.
    pub name: String,
    /// Seed of every random stream (arrivals, token lengths, startup times, routing).
    #[serde(default)]
    pub seed: u64,
    /// Simulated time to run, e.g. `"2h"`, `"30m"`, `"1h30m"`.
    #[schemars(with = "SpecDuration")]
    pub duration: String,
    /// Engine version: `v0.4` or `head`. Default: the API generation of the manifests.
    #[serde(default)]
    #[schemars(with = "Option<EngineVersion>")]
    pub engine: Option<String>,
    /// Autoscaler sync period (default `"15s"`).
    #[serde(default)]
    #[schemars(with = "Option<SpecDuration>")]
    pub sync_period: Option<String>,
    /// Time of the first controller tick (default `"0s"`).
    #[serde(default)]
    #[schemars(with = "Option<SpecDuration>")]
    pub first_tick: Option<String>,
    /// The engine's clock at simulated time 0, Unix milliseconds (default 1 700 000 000 000).
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub epoch_ms: Option<i64>,
    /// Kthena manifest files (YAML, used unchanged): AutoscalingPolicy (+ Binding) and
    /// optionally ModelServing. Relative to the scenario file. Empty: no autoscaling.
    #[serde(default)]
    pub policies: Vec<String>,
    /// Policy changes at given times (rehearsing a rollout): the listed files replace all
    /// policies; the engine state of changed policies resets as in Kthena.
    #[serde(default)]
    pub policy_changes: Vec<RawPolicyChange>,
    /// The ModelServings of the simulated cluster.
    pub servings: Vec<RawServing>,
    /// GPU capacity per accelerator type; absent means unlimited.
    #[serde(default)]
    pub cluster: Option<RawCluster>,
    /// How requests are spread over ready servers.
    #[serde(default)]
    pub router: Option<RawRouter>,
    /// The requests.
    pub workload: WorkloadSpec,
    /// Per-request latency thresholds; a request meets the SLO if it completed within all.
    #[serde(default)]
    pub slo: Option<RawSlo>,
    /// Checks on the results, e.g. `"slo.attainment >= 0.95"`, `"cost.total <= 120"`,
    /// `"replicas.peak <= 12"`. A failing one makes `run` exit with 1.
    #[serde(default)]
    pub assertions: Vec<String>,
    /// Replications: the scenario run with this many seeds derived from `seed` (the first is
    /// `seed` itself), every variant with the same ones. Default 1 for `run`, 5 for
    /// `compare`, `sweep` and `plan`; `--replications` replaces it.
    #[serde(default)]
    #[schemars(range(min = 1, max = MAX_REPLICATIONS))]
    pub replications: Option<usize>,
    /// Output options.
    #[serde(default)]
    pub output: Option<RawOutput>,
    /// Variants `kthena-sim compare` runs when none is given on its command line.
    #[serde(default)]
    pub variants: Vec<RawVariant>,
    /// What `kthena-sim plan` may change to find the cheapest configuration that meets every
    /// assertion. Other commands ignore it.
    #[serde(default)]
    pub plan: Option<RawPlan>,
}

/// The free dimensions of `kthena-sim plan` and its budget.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPlan {
    /// The settings the search may change, each with its candidate values.
    pub dimensions: Vec<RawDimension>,
    /// At most this many configurations are evaluated, the scenario as written included
    /// (default 64).
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub max_runs: Option<usize>,
}

/// One free setting: a key (as for `--set`) and either `values` or a `range`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDimension {
    /// A setting key, e.g. `binding.maxReplicas`, `policy.metrics[0].targetValue`,
    /// `servings[chat-llama].replicas`, `router.policy`.
    pub key: String,
    /// The candidate values in order (increasing numbers when `monotone` is given).
    #[serde(default)]
    pub values: Option<Vec<serde_json::Value>>,
    /// Candidate values `min`, `min + step`, … up to `max`; integers when all three are.
    #[serde(default)]
    pub range: Option<RawRange>,
    /// How the value trades cost against service; enables bisection on this dimension.
    #[serde(default)]
    pub monotone: Option<RawMonotone>,
}

/// A numeric range of candidate values.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRange {
    pub min: serde_json::Number,
    pub max: serde_json::Number,
    pub step: serde_json::Number,
}

/// A dimension's monotonicity hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawMonotone {
    /// A larger value costs more and serves at least as well (`minReplicas`, `maxReplicas`,
    /// `replicas`).
    CostIncreasing,
    /// A larger value costs less and serves at most as well (a metric's `targetValue`).
    CostDecreasing,
}

/// A named variant of the scenario: other policy files and/or `KEY=VALUE` settings.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawVariant {
    pub name: String,
    /// Manifest files replacing the scenario's `policies` (relative to the scenario file).
    #[serde(default)]
    pub policies: Vec<String>,
    /// Settings such as `"policy.metrics[0].targetValue=5"` or `"engine=v0.4"`.
    #[serde(default)]
    pub set: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPolicyChange {
    /// When the change is applied, e.g. `"1h"`.
    #[schemars(with = "SpecDuration")]
    pub at: String,
    /// Manifest files that replace the scenario's `policies` from then on.
    pub policies: Vec<String>,
}

/// One ModelServing: its size, hardware, price, startup and inference-server model.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawServing {
    /// `metadata.name`; must match the policies' `targetRef.name`.
    pub name: String,
    /// Namespace (default: the manifest's, else `default`).
    #[serde(default)]
    pub namespace: Option<String>,
    /// A real ModelServing manifest (its `spec.replicas` and roles are used). Relative path.
    #[serde(default)]
    pub manifest: Option<String>,
    /// Initial `spec.replicas` (serving groups). Default: the manifest's, else 1.
    #[serde(default)]
    #[schemars(range(min = 0, max = MAX_SERVERS))]
    pub replicas: Option<i32>,
    /// Roles of each serving group. Default: one server per group (no roles).
    #[serde(default)]
    pub roles: Vec<RawRole>,
    /// Pods per server (entry + workers), each with `gpus_per_pod` GPUs (default 1).
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub pods_per_server: Option<u32>,
    /// GPUs per pod (default 1).
    // No minimum in the schema: validation accepts 0.
    #[serde(default)]
    pub gpus_per_pod: Option<u32>,
    /// Accelerator type, for cluster capacity (default `gpu`).
    #[serde(default)]
    pub accelerator: Option<String>,
    /// Price of one server (all its pods) per hour, in the currency of your choice.
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub price_per_hour: Option<f64>,
    /// Price per GPU-hour; used when `price_per_hour` is absent.
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub price_per_gpu_hour: Option<f64>,
    /// Time from pod creation to ready.
    #[serde(default)]
    pub startup: Option<RawStartup>,
    /// Drain time of a removed server before what it still holds fails (default `"30s"`).
    #[serde(default)]
    #[schemars(with = "Option<SpecDuration>")]
    pub termination_grace: Option<String>,
    /// The inference server: a preset and/or explicit limits and step costs.
    pub server: ServerSpec,
    /// Where the simulated pods expose metrics (default port 8100, path `/metrics`). A
    /// policy scraping elsewhere gets nothing, as in a real cluster.
    #[serde(default)]
    pub metrics: Option<RawMetricsEndpoint>,
    /// Extra labels on the simulated pods (and their Prometheus series).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Prefill/decode disaggregation between two of the roles: requests are prefilled on
    /// the prefill role, their KV cache moved, then decoded on the decode role.
    #[serde(default)]
    pub disaggregation: Option<RawDisaggregation>,
    /// Faults of this serving's pods: container crashes, failing image pulls.
    #[serde(default)]
    pub faults: Option<RawServingFaults>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawServingFaults {
    /// Containers of ready servers crash and are restarted in place by the kubelet. The pod
    /// then has `restartCount > 0`, which Kthena's collector counts as failed for good.
    #[serde(default)]
    pub crashes: Option<RawCrashes>,
    /// Image pulls fail and are retried with the kubelet's back-off (`ImagePullBackOff`).
    #[serde(default)]
    pub image_pull: Option<RawImagePull>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCrashes {
    /// Mean time between crashes of one ready server, e.g. `"6h"` (exponential gaps).
    #[schemars(with = "SpecDuration")]
    pub mtbf: String,
    /// From the container's restart (after the kubelet's crash-loop back-off: 10 s,
    /// doubling up to 5 min) to ready again. Default: the serving's `startup`.
    #[serde(default)]
    pub restart: Option<RawStartup>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawImagePull {
    /// Probability that one pull attempt fails, in [0, 1) (default 0).
    #[serde(default)]
    #[schemars(range(min = 0), extend("exclusiveMaximum" = 1))]
    pub failure_probability: Option<f64>,
    /// Registry outages: every attempt between `from` and `to` fails.
    #[serde(default)]
    pub outages: Vec<RawWindow>,
    /// How long a failing attempt takes (default `"5s"`).
    #[serde(default)]
    #[schemars(with = "Option<SpecDuration>")]
    pub attempt: Option<String>,
    /// First back-off after a failed attempt, doubling after each (default `"10s"`).
    #[serde(default)]
    #[schemars(with = "Option<SpecDuration>")]
    pub backoff: Option<String>,
    /// Longest back-off (default `"5m"`).
    #[serde(default)]
    #[schemars(with = "Option<SpecDuration>")]
    pub max_backoff: Option<String>,
}

/// A time window of the run, `[from, to)`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawWindow {
    #[schemars(with = "SpecDuration")]
    pub from: String,
    #[schemars(with = "SpecDuration")]
    pub to: String,
}

/// The loss of one node: its pods fail, its GPUs leave the cluster.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawNodeLoss {
    /// When the node is lost, e.g. `"30m"`.
    #[schemars(with = "SpecDuration")]
    pub at: String,
    /// Its accelerator type (a key of `cluster.accelerators`).
    pub accelerator: String,
    /// Its GPUs. The pods on it are the node's share of the type's used GPUs (the
    /// scheduler spreads pods), picked at random among the running ones.
    #[schemars(range(min = 1))]
    pub gpus: u32,
    /// When a replacement node brings the capacity back (default: never).
    #[serde(default)]
    #[schemars(with = "Option<SpecDuration>")]
    pub recovers_after: Option<String>,
    /// How long the lost pods stay, not ready, before they are evicted and their serving
    /// groups recreated (default `"5m"`, Kubernetes' unreachable-node toleration).
    #[serde(default)]
    #[schemars(with = "Option<SpecDuration>")]
    pub eviction: Option<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDisaggregation {
    /// The role whose servers prefill (TTFT is counted there).
    pub prefill_role: String,
    /// The role whose servers decode.
    pub decode_role: String,
    /// The KV-cache transfer between them.
    #[serde(default)]
    pub kv_transfer: Option<RawKvTransfer>,
}

/// Transfer time = `latency` + prompt tokens × `bytes_per_token` / bandwidth.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawKvTransfer {
    /// Link bandwidth in gigabits per second (default 100).
    #[serde(default)]
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub gbps: Option<f64>,
    /// KV-cache bytes per token (default 327 680: Llama-2-70B, fp16, 80 layers × 8 KV heads × 128).
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub bytes_per_token: Option<f64>,
    /// Fixed set-up time per transfer (default `"1ms"`).
    #[serde(default)]
    #[schemars(with = "Option<SpecDuration>")]
    pub latency: Option<String>,
}

/// A role of the serving group (`spec.template.roles[]`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRole {
    pub name: String,
    /// Initial role `replicas` (role instances per group, default 1).
    #[serde(default)]
    #[schemars(range(min = 0, max = MAX_SERVERS))]
    pub replicas: Option<i32>,
    /// Whether this role's instances serve requests (default true).
    #[serde(default)]
    pub serves: Option<bool>,
    /// Extra labels on this role's pods (and their Prometheus series), e.g. `service`.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawMetricsEndpoint {
    #[serde(default)]
    #[schemars(range(min = 1, max = 65535))]
    pub port: Option<i32>,
    #[serde(default)]
    pub path: Option<String>,
}

/// Startup time of a pod: exactly one of the forms.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum RawStartup {
    /// A fixed duration, e.g. `"90s"`.
    Constant(#[schemars(with = "SpecDuration")] String),
    /// Lognormal by median and 99th percentile, e.g. `{median: "2m", p99: "6m"}`.
    Lognormal {
        #[schemars(with = "SpecDuration")]
        median: String,
        #[schemars(with = "SpecDuration")]
        p99: String,
    },
    /// Uniform between two durations.
    Uniform {
        #[schemars(with = "SpecDuration")]
        min: String,
        #[schemars(with = "SpecDuration")]
        max: String,
    },
    /// Drawn uniformly from observed durations.
    Empirical(#[schemars(with = "Vec<SpecDuration>")] Vec<String>),
    /// A sum of phases, each one of the forms above (e.g. image pull + weight load).
    Phases(Vec<RawPhase>),
}

/// One phase of a startup, e.g. `{name: image-pull, duration: {constant: "40s"}}`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPhase {
    /// Name of the phase, for reports.
    pub name: String,
    pub duration: RawStartup,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCluster {
    /// Accelerator type → capacity.
    pub accelerators: BTreeMap<String, RawAccelerator>,
    /// Nodes lost during the run.
    #[serde(default)]
    pub node_losses: Vec<RawNodeLoss>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAccelerator {
    /// GPUs available at the start.
    pub gpus: u32,
    /// Node provisioning: when pods are pending for lack of GPUs, capacity grows by
    /// `step_gpus` after `delay`, up to `max_gpus`.
    #[serde(default)]
    pub provisioning: Option<RawProvisioning>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawProvisioning {
    #[schemars(with = "SpecDuration")]
    pub delay: String,
    #[schemars(range(min = 1))]
    pub step_gpus: u32,
    pub max_gpus: u32,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRouter {
    /// `least-request` (default), `round-robin`, `random`, `power-of-two`, `least-kv-cache`.
    #[serde(default)]
    #[schemars(with = "Option<RouterPolicy>")]
    pub policy: Option<String>,
    /// Drop a request that waited this long in the router queue (no ready server).
    #[serde(default)]
    #[schemars(with = "Option<SpecDuration>")]
    pub queue_timeout: Option<String>,
}

/// Thresholds a request must meet, as durations, e.g. `ttft: "2s"`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSlo {
    #[serde(default)]
    #[schemars(with = "Option<SpecDuration>")]
    pub ttft: Option<String>,
    #[serde(default)]
    #[schemars(with = "Option<SpecDuration>")]
    pub tpot: Option<String>,
    #[serde(default)]
    #[schemars(with = "Option<SpecDuration>")]
    pub e2e: Option<String>,
    #[serde(default)]
    #[schemars(with = "Option<SpecDuration>")]
    pub queue: Option<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawOutput {
    /// Output folder (default `output/<name>`), relative to the current directory.
    #[serde(default)]
    pub dir: Option<String>,
    /// Also write `requests.csv` (one row per request).
    #[serde(default)]
    pub requests: Option<bool>,
}

/// An engine version as the scenario file names it: the canonical names only (the parser's
/// aliases are left out, so that editors offer one spelling). Described here because the
/// engine knows nothing of scenario files.
impl JsonSchema for EngineVersion {
    fn schema_name() -> Cow<'static, str> {
        "EngineVersion".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        // The match stops the build when a version is added without being listed here.
        let names = [EngineVersion::V0_4, EngineVersion::Head].map(|v| match v {
            EngineVersion::V0_4 | EngineVersion::Head => v.as_str(),
        });
        json_schema!({ "type": "string", "enum": names })
    }
}
