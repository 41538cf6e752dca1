//! Scenarios: the YAML file a user writes ([`raw`]), and the validated [`Scenario`] the
//! simulator runs ([`validate`]): a [`WorldSpec`] for the model, the workload, the
//! assertions and where the outputs go. Every problem is reported, each with its field path.

pub mod assertion;
pub mod raw;
pub mod setting;
pub mod starter;
mod validate;

use std::path::PathBuf;

use crate::diagnostic::Diagnostics;
use crate::model::spec::WorldSpec;
use crate::workload::WorkloadSpec;

pub use assertion::Assertion;
pub use validate::{load, parse, Overrides, ScenarioError, MAX_REPLICATIONS};

/// A validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    /// The simulated world; its seed is the scenario's seed, its clock the scenario's
    /// duration.
    pub world: WorldSpec,
    pub workload: WorkloadSpec,
    /// Folder of the scenario file: workload paths are relative to it.
    pub base_dir: PathBuf,
    pub assertions: Vec<Assertion>,
    /// How many replications to run, when the scenario says.
    pub replications: Option<usize>,
    pub output_dir: Option<PathBuf>,
    pub write_requests: bool,
    /// FNV-1a hash of the scenario text, echoed in reports.
    pub text_hash: String,
    /// What the scenario's policies cannot do as written (see
    /// [`crate::kthena::warnings`]): the run goes ahead, the user is told.
    pub warnings: Diagnostics,
}

impl Scenario {
    /// The seed of every random stream, the world's and the workload's.
    pub fn seed(&self) -> u64 {
        self.world.seed
    }

    /// Simulated time to run.
    pub fn duration(&self) -> crate::sim::SimDuration {
        self.world.clock.duration
    }
}
