//! Running several variants of one scenario — for `compare`, `sweep` and `plan`. Each variant
//! is the scenario with other policy files and/or `KEY=VALUE` settings; all run with the same
//! seed, in parallel, and come back in the order they were given, so the results are the same
//! whatever the number of threads.

use std::path::{Path, PathBuf};

use crate::model::results::Results;
use crate::model::world::{simulate, RunError, RunOptions};
use crate::outputs::comparison::Row;
use crate::outputs::summary::Summary;
use crate::report::csv_out::{RowFiles, RowWriters};
use crate::report::replications::aggregate;
use crate::report::summary;
use crate::scenario::raw::RawScenario;
use crate::scenario::setting::Setting;
use crate::scenario::{self, Overrides, Scenario};
use crate::sim::rng::replication_seed;
use rayon::prelude::*;

/// Why variants could not be run.
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    /// The scenario's `variants:` cannot be read.
    #[error("{file}: {message}")]
    Variants { file: String, message: String },
    /// A variant's scenario is refused.
    #[error("variant {variant}: {source}")]
    Scenario {
        variant: String,
        source: crate::scenario::ScenarioError,
    },
    /// A variant's workload cannot be built.
    #[error("variant {variant}: {file}: workload: {source}")]
    Workload {
        variant: String,
        file: String,
        source: Box<crate::workload::WorkloadError>,
    },
    /// A variant's run stopped (a trace row, an interruption).
    #[error("variant {variant}: {file}: {source}")]
    Run {
        variant: String,
        file: String,
        source: Box<crate::model::world::RunError>,
    },
    #[error("cannot start worker threads: {0}")]
    Threads(String),
}

/// One variant to run.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    pub name: String,
    /// Replaces the scenario's `policies` when given.
    pub policies: Option<Vec<PathBuf>>,
    pub settings: Vec<Setting>,
}

/// One replication of a variant.
#[derive(Debug)]
pub struct ReplicationRun {
    /// The variant's scenario with this replication's seed.
    pub scenario: Scenario,
    pub results: Results,
    /// Its timeline, cost and latency files.
    pub rows: RowFiles<Vec<u8>>,
    /// Its own summary, its assertions checked on it alone.
    pub summary: Summary,
}

/// What a variant produced.
#[derive(Debug)]
pub struct VariantRun {
    pub variant: Variant,
    /// Replication 0 (the scenario's own seed) first.
    pub replications: Vec<ReplicationRun>,
    /// The summary of the replications: with one, that replication's; with several, the
    /// means and each metric's spread, the assertions checked over all of them.
    pub summary: Summary,
}

impl VariantRun {
    pub fn passed(&self) -> bool {
        self.summary.assertions.iter().all(|o| o.passed)
    }

    /// Each replication's own summary, replication 0 first.
    pub fn summaries(&self) -> Vec<Summary> {
        self.replications
            .iter()
            .map(|r| r.summary.clone())
            .collect()
    }

    /// The scenario the variant ran (replication 0's).
    pub fn scenario(&self) -> &Scenario {
        &self.replications[0].scenario
    }

    /// The variant's row of a comparison table, at `index` of all the variants.
    pub fn row(&self, index: usize) -> Row {
        let settings = self
            .variant
            .settings
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" ");
        Row::from_summary(index, &self.variant.name, settings, &self.summary)
    }
}

/// A rayon pool of `jobs` threads (all cores when `None`): what `--jobs` sets for every
/// command that simulates, fits or draws in parallel.
pub fn worker_pool(jobs: Option<usize>) -> Result<rayon::ThreadPool, rayon::ThreadPoolBuildError> {
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(n) = jobs {
        builder = builder.num_threads(n.max(1));
    }
    builder.build()
}

/// The variants a scenario file lists under `variants:` (policy paths made relative to the
/// current directory).
pub fn scenario_variants(path: &Path) -> Result<Vec<Variant>, ExperimentError> {
    let file = path.display().to_string();
    let refused = |message: String| ExperimentError::Variants {
        file: file.clone(),
        message,
    };
    let text = crate::text::read_text(path).map_err(|e| refused(e.to_string()))?;
    let de = yaml_serde::Deserializer::from_str(&text);
    let raw: RawScenario = yaml_serde::with::singleton_map_recursive::deserialize(de)
        .map_err(|e| refused(e.to_string()))?;
    raw.variants
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let settings = v
                .set
                .iter()
                .map(|s| {
                    s.parse()
                        .map_err(|e| refused(format!("variants[{i}].set: {e}")))
                })
                .collect::<Result<Vec<Setting>, ExperimentError>>()?;
            Ok(Variant {
                name: v.name.clone(),
                // Relative to the scenario's folder, as its own `policies` (the loader
                // resolves them there; command-line variants come absolute).
                policies: (!v.policies.is_empty())
                    .then(|| v.policies.iter().map(PathBuf::from).collect()),
                settings,
            })
        })
        .collect()
}

/// The overrides a variant runs with: the command line's (`base`), then the variant's.
pub fn variant_overrides(base: &Overrides, variant: &Variant) -> Overrides {
    let mut settings = base.settings.clone();
    settings.extend(variant.settings.iter().cloned());
    Overrides {
        policies: variant.policies.clone().or_else(|| base.policies.clone()),
        settings,
        ..base.clone()
    }
}

/// The scenario of variant `variant` of the scenario at `path`.
fn load_variant(
    path: &Path,
    base: &Overrides,
    variant: &Variant,
) -> Result<Scenario, ExperimentError> {
    scenario::load(path, &variant_overrides(base, variant)).map_err(|source| {
        ExperimentError::Scenario {
            variant: variant.name.clone(),
            source,
        }
    })
}

/// Runs replication `r` of `scn` (variant `variant` of the scenario at `path`).
fn run_replication(
    path: &Path,
    variant: &Variant,
    scn: &Scenario,
    r: usize,
    opts: RunOptions,
) -> Result<ReplicationRun, ExperimentError> {
    let mut scn = scn.clone();
    scn.world.seed = replication_seed(scn.seed(), r);
    scn.write_requests |= opts.record_requests;
    let source = scn
        .workload
        .build(scn.seed(), &scn.base_dir, scn.duration())
        .map_err(|source| ExperimentError::Workload {
            variant: variant.name.clone(),
            file: path.display().to_string(),
            source: Box::new(source),
        })?;
    let opts = RunOptions {
        record_requests: scn.write_requests,
        ..opts
    };
    let failed = |source: RunError| ExperimentError::Run {
        variant: variant.name.clone(),
        file: path.display().to_string(),
        source: Box::new(source),
    };
    let mut rows = RowWriters::in_memory();
    let results = simulate(&scn.world, source, opts, &mut rows, &mut |_| {}).map_err(failed)?;
    let rows = rows
        .finish()
        .map_err(|e| failed(RunError::Rows(e.into())))?;
    let summary = summary::checked(&scn, &results);
    Ok(ReplicationRun {
        scenario: scn,
        results,
        rows,
        summary,
    })
}

/// Runs `replications` replications of one variant of the scenario at `path`; `base` holds
/// the command line's overrides.
pub fn run_variant(
    path: &Path,
    base: &Overrides,
    variant: &Variant,
    replications: usize,
    opts: RunOptions,
) -> Result<VariantRun, ExperimentError> {
    let mut runs = run_all(
        path,
        base,
        std::slice::from_ref(variant),
        replications,
        opts,
        Some(1),
        &|| {},
    )?;
    Ok(runs.remove(0))
}

/// Runs `replications` replications of every variant on `jobs` threads (all cores when
/// `None`), all in one pool; results in the given order, whatever the number of threads.
/// Replication r of every variant has the same seed (common random numbers). `done` is
/// called as each run finishes (in any order).
pub fn run_all(
    path: &Path,
    base: &Overrides,
    variants: &[Variant],
    replications: usize,
    opts: RunOptions,
    jobs: Option<usize>,
    done: &(dyn Fn() + Sync),
) -> Result<Vec<VariantRun>, ExperimentError> {
    let replications = replications.max(1);
    let scenarios = variants
        .iter()
        .map(|v| load_variant(path, base, v))
        .collect::<Result<Vec<Scenario>, ExperimentError>>()?;
    let pool = worker_pool(jobs).map_err(|e| ExperimentError::Threads(e.to_string()))?;
    let jobs: Vec<(usize, usize)> = (0..variants.len())
        .flat_map(|v| (0..replications).map(move |r| (v, r)))
        .collect();
    let runs: Vec<Result<ReplicationRun, ExperimentError>> = pool.install(|| {
        jobs.par_iter()
            .map(|&(v, r)| {
                let run = run_replication(path, &variants[v], &scenarios[v], r, opts);
                done();
                run
            })
            .collect()
    });
    let mut runs = runs.into_iter();
    variants
        .iter()
        .zip(&scenarios)
        .map(|(variant, scn)| {
            let replications = runs
                .by_ref()
                .take(replications)
                .collect::<Result<Vec<_>, _>>()?;
            let summaries: Vec<Summary> = replications.iter().map(|r| r.summary.clone()).collect();
            let summary = aggregate(&summaries, &scn.assertions);
            Ok(VariantRun {
                variant: variant.clone(),
                replications,
                summary,
            })
        })
        .collect()
}
