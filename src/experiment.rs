//! Running several variants of one scenario — for `compare`, `sweep` and `plan`. Each variant
//! is the scenario with other policy files and/or `KEY=VALUE` settings; all run with the same
//! seed, in parallel, and come back in the order they were given, so the results are the same
//! whatever the number of threads.

use std::path::{Path, PathBuf};

use crate::model::results::Results;
use crate::model::world::{simulate, RunOptions};
use crate::outputs::comparison::Row;
use crate::outputs::summary::Summary;
use crate::report::summary;
use crate::scenario::raw::RawScenario;
use crate::scenario::setting::Setting;
use crate::scenario::{self, Overrides, Scenario};
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

/// What a variant produced.
#[derive(Debug)]
pub struct VariantRun {
    pub variant: Variant,
    pub scenario: Scenario,
    pub results: Results,
    /// `summary.json`, with the assertions' verdicts.
    pub summary: Summary,
}

impl VariantRun {
    pub fn passed(&self) -> bool {
        self.summary.assertions.iter().all(|o| o.passed)
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
    let base = path.parent().unwrap_or(Path::new("."));
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
                policies: (!v.policies.is_empty())
                    .then(|| v.policies.iter().map(|p| base.join(p)).collect()),
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

/// Runs one variant of the scenario at `path`; `base` holds the command line's overrides.
pub fn run_variant(
    path: &Path,
    base: &Overrides,
    variant: &Variant,
    opts: RunOptions,
) -> Result<VariantRun, ExperimentError> {
    let scn = scenario::load(path, &variant_overrides(base, variant)).map_err(|source| {
        ExperimentError::Scenario {
            variant: variant.name.clone(),
            source,
        }
    })?;
    let source = scn
        .workload
        .build(scn.seed(), &scn.base_dir, scn.duration())
        .map_err(|source| ExperimentError::Workload {
            variant: variant.name.clone(),
            file: path.display().to_string(),
            source: Box::new(source),
        })?;
    let opts = RunOptions {
        record_requests: scn.write_requests || opts.record_requests,
        ..opts
    };
    let results =
        simulate(&scn.world, source, opts, &mut |_| {}).map_err(|source| ExperimentError::Run {
            variant: variant.name.clone(),
            file: path.display().to_string(),
            source: Box::new(source),
        })?;
    let summary = summary::checked(&scn, &results);
    Ok(VariantRun {
        variant: variant.clone(),
        scenario: scn,
        results,
        summary,
    })
}

/// Runs every variant on `jobs` threads (all cores when `None`); results in the given order.
/// `done` is called as each variant finishes (in any order).
pub fn run_all(
    path: &Path,
    base: &Overrides,
    variants: &[Variant],
    opts: RunOptions,
    jobs: Option<usize>,
    done: &(dyn Fn() + Sync),
) -> Result<Vec<VariantRun>, ExperimentError> {
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(n) = jobs {
        builder = builder.num_threads(n.max(1));
    }
    let pool = builder
        .build()
        .map_err(|e| ExperimentError::Threads(e.to_string()))?;
    let runs: Vec<Result<VariantRun, ExperimentError>> = pool.install(|| {
        variants
            .par_iter()
            .map(|v| {
                let run = run_variant(path, base, v, opts);
                done();
                run
            })
            .collect()
    });
    runs.into_iter().collect()
}
