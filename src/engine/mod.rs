//! The port of Kthena's autoscaler (volcano-sh/kthena `pkg/autoscaler`): pure code with no
//! I/O, no clock, no randomness and no logging. Time enters as a millisecond argument, the
//! cluster as the [`cluster::Cluster`] view. One file per Kthena source file; where the two
//! supported revisions differ, the code switches on [`EngineVersion`].

pub mod autoscale_controller;
pub mod cluster;
pub mod decision;
pub mod disaggregated_ratio;
pub mod disaggregated_scaler;
pub mod histogram;
pub mod metric_collector;
pub mod optimizer;
pub mod policy;
pub mod recommendation;
pub mod revision;
pub mod scaler;
pub mod sliding_window;
pub mod status;

pub use autoscale_controller::Autoscaler;
pub use decision::{Decision, Reason};

use std::fmt;
use std::str::FromStr;

/// An `error` value of the ported Go code: its message, which the decision's reason carries
/// as Go's `err.Error()` would.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoError(pub String);

impl fmt::Display for GoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The engine's clock: Unix milliseconds, as Kthena's controller reads `time.Now()` and pod
/// start times. The one time type at the engine's boundary; inside, the ported Go arithmetic
/// keeps plain `i64` milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixMillis(i64);

impl UnixMillis {
    pub const fn from_millis(ms: i64) -> Self {
        UnixMillis(ms)
    }

    pub const fn as_millis(self) -> i64 {
        self.0
    }
}

/// The Kthena revision whose decisions the engine reproduces (docs/engine.md §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EngineVersion {
    /// Release v0.4.0: `AutoscalingPolicy` + `AutoscalingPolicyBinding`.
    V0_4,
    /// The main branch after v1.0.0: merged `AutoscalingPolicy`, disaggregated targets,
    /// Prometheus metric sources.
    Head,
}

/// The volcano-sh/kthena revision [`EngineVersion::V0_4`] reproduces: the tag and its commit
/// (docs/engine.md §1), where `tests/fixtures/golden/engine-v0.4.jsonl.gz` was recorded.
pub const KTHENA_V0_4_REVISION: &str = "v0.4.0 2916fb73";

/// The volcano-sh/kthena revision [`EngineVersion::Head`] reproduces: the main branch at this
/// commit (docs/engine.md §1), where `engine-head.jsonl.gz` was recorded. Moving the port to
/// a newer main means changing this string with the code and the golden decisions.
pub const KTHENA_HEAD_REVISION: &str = "main 3cc05728";

impl EngineVersion {
    pub const fn as_str(self) -> &'static str {
        match self {
            EngineVersion::V0_4 => "v0.4",
            EngineVersion::Head => "head",
        }
    }

    /// The Kthena revision this version reproduces ([`KTHENA_V0_4_REVISION`],
    /// [`KTHENA_HEAD_REVISION`]).
    pub const fn kthena_revision(self) -> &'static str {
        match self {
            EngineVersion::V0_4 => KTHENA_V0_4_REVISION,
            EngineVersion::Head => KTHENA_HEAD_REVISION,
        }
    }
}

impl fmt::Display for EngineVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An engine version name that is not `v0.4` or `head`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown engine version {0:?} (expected \"v0.4\" or \"head\")")]
pub struct UnknownEngineVersion(pub String);

impl FromStr for EngineVersion {
    type Err = UnknownEngineVersion;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "v0.4" | "v0.4.0" | "0.4" => Ok(EngineVersion::V0_4),
            "head" | "current" => Ok(EngineVersion::Head),
            other => Err(UnknownEngineVersion(other.to_string())),
        }
    }
}
