//! `kthena-sim plan SCENARIO`: the cheapest configuration of the dimensions the scenario's
//! `plan:` section sets free that meets every assertion (see [`crate::plan::search`]).
//! Writes `plan.md/.csv/.json`, the winner's run folder and its manifests ready to apply.
//! Exit 0 when a configuration meets every assertion, 1 when none does, 2 on bad input.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail};

use super::common::{
    progress_bar, settings, stem, variant_files, OutputArgs, RunsArgs, ScenarioArgs,
};
use crate::diagnostic::{Diagnostics, FieldPath};
use crate::experiment::{run_all, run_variant, variant_overrides, Variant};
use crate::model::world::RunOptions;
use crate::outputs::comparison::Row;
use crate::outputs::json_bytes;
use crate::plan::report::{Evaluation, PlanReport};
use crate::plan::search::{search, Candidate, Verdict};
use crate::plan::Plan;
use crate::report::comparison;
use crate::scenario::raw::RawScenario;
use crate::scenario::setting::{apply_to_manifest, manifest_value, scenario_value, Scope, Setting};
use crate::scenario::{self, Overrides};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The scenario file, with a `plan:` section and assertions.
    pub scenario: PathBuf,
    /// Evaluate at most N configurations (replaces the plan's `max_runs`).
    #[arg(long, value_name = "N")]
    pub max_runs: Option<usize>,
    /// A setting applied before the search (repeatable): the plan starts from the scenario
    /// with these settings, and the manifests it writes carry them.
    #[arg(long, value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    #[command(flatten)]
    pub scenario_args: ScenarioArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub runs: RunsArgs,
}

/// The manifest files the scenario reads (policies, then policy changes), each once.
fn manifest_files(raw: &RawScenario) -> Vec<&str> {
    let mut files: Vec<&str> = Vec::new();
    let all = raw
        .policies
        .iter()
        .chain(raw.policy_changes.iter().flat_map(|c| &c.policies));
    for f in all {
        if !files.contains(&f.as_str()) {
            files.push(f);
        }
    }
    files
}

/// Finds each dimension's value in the scenario as written, or as `--set` makes it.
fn locate(
    plan: &mut Plan,
    text: &str,
    raw: &RawScenario,
    base: &Path,
    fixed: &[Setting],
) -> anyhow::Result<()> {
    let doc: yaml_serde::Value = yaml_serde::from_str(text)?;
    let manifests: Vec<String> = raw
        .policies
        .iter()
        .map(|f| {
            let p = base.join(f);
            crate::text::read_text(&p).map_err(|e| anyhow!("{}: {e}", p.display()))
        })
        .collect::<anyhow::Result<_>>()?;
    for d in &mut plan.dimensions {
        if let Some(f) = fixed.iter().rev().find(|f| f.key == d.key) {
            d.locate(Some(&f.value));
            continue;
        }
        let value = match d.values[0].scope() {
            Scope::Scenario => scenario_value(&doc, &d.key),
            _ => manifests
                .iter()
                .find_map(|m| manifest_value(m, &d.values[0])),
        };
        d.locate(value.as_ref());
    }
    Ok(())
}

/// Refuses a dimension none of whose values the scenario accepts on its own (a key that
/// addresses nothing, values of the wrong type): bad input, not a configuration that fails.
fn precheck(path: &Path, base: &Overrides, plan: &Plan, file: &str) -> anyhow::Result<()> {
    let mut bad = Diagnostics::new();
    for (i, d) in plan.dimensions.iter().enumerate() {
        let mut first_error = None;
        let accepted = d.values.iter().any(|v| {
            let overrides = Overrides {
                settings: vec![v.clone()],
                ..base.clone()
            };
            match scenario::load(path, &overrides) {
                Ok(_) => true,
                Err(e) => {
                    first_error.get_or_insert_with(|| e.to_string());
                    false
                }
            }
        });
        if let (false, Some(e)) = (accepted, first_error) {
            let e = e.lines().next().unwrap_or_default();
            let e = e.strip_prefix(&format!("{file}: ")).unwrap_or(e);
            bad.error(
                FieldPath::new("plan").child("dimensions").index(i),
                format!("the scenario refuses every value of `{}`: {e}", d.key),
            );
        }
    }
    if bad.is_empty() {
        Ok(())
    } else {
        Err(anyhow!(bad.in_file(file)))
    }
}

/// Runs a batch of candidates (in parallel); a configuration the scenario refuses is
/// recorded as refused and not run.
fn evaluate(
    path: &Path,
    base: &Overrides,
    replications: usize,
    jobs: Option<usize>,
    batch: &[Candidate],
    evaluations: &mut Vec<Evaluation>,
    done: &(dyn Fn() + Sync),
) -> anyhow::Result<Vec<Option<Verdict>>> {
    if crate::sim::cancel::is_requested() {
        bail!("interrupted");
    }
    let mut out: Vec<Option<Evaluation>> = vec![None; batch.len()];
    let mut runnable: Vec<(usize, Variant)> = Vec::new();
    for (k, c) in batch.iter().enumerate() {
        let variant = Variant {
            name: c.name(),
            policies: None,
            settings: c.settings.clone(),
        };
        match scenario::load(path, &variant_overrides(base, &variant)) {
            Ok(_) => runnable.push((k, variant)),
            Err(e) => {
                let why = e.to_string().lines().collect::<Vec<_>>().join("; ");
                out[k] = Some(Evaluation::Refused(why));
            }
        }
    }
    let variants: Vec<Variant> = runnable.iter().map(|(_, v)| v.clone()).collect();
    let runs = run_all(
        path,
        base,
        &variants,
        replications,
        RunOptions::default(),
        jobs,
        done,
    )
    .map_err(|e| anyhow!(e))?;
    for ((k, _), run) in runnable.iter().zip(&runs) {
        out[*k] = Some(Evaluation::Measured(Box::new(run.row(batch[*k].index))));
    }
    let mut verdicts = Vec::with_capacity(batch.len());
    for e in out {
        let e = e.ok_or_else(|| anyhow!("a candidate was neither run nor refused"))?;
        verdicts.push(match &e {
            Evaluation::Measured(row) => Some(Verdict {
                cost: row.cost,
                attainment: row.attainment,
                failed: row.assertions.iter().filter(|o| !o.passed).count(),
            }),
            Evaluation::Refused(_) => None,
        });
        evaluations.push(e);
    }
    Ok(verdicts)
}

/// The scenario's manifests with the winner's `policy.`/`binding.` settings applied, named
/// by their file names (`manifests/<name>`).
/// The scenario's manifests with `--set`'s settings and the winner's applied.
fn winning_manifests(
    raw: &RawScenario,
    base: &Path,
    fixed: &[Setting],
    winner: &Candidate,
    header: &str,
) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    let all: Vec<Setting> = fixed.iter().chain(&winner.settings).cloned().collect();
    for (k, f) in manifest_files(raw).into_iter().enumerate() {
        let p = base.join(f);
        let text = crate::text::read_text(&p).map_err(|e| anyhow!("{}: {e}", p.display()))?;
        let mut matched = vec![false; all.len()];
        let new = apply_to_manifest(&text, &all, &mut matched)
            .map_err(|e| anyhow!("{}: {e}", p.display()))?;
        let new = if matched.contains(&true) {
            format!("{header}{new}")
        } else {
            text
        };
        let name = p.file_name().map_or_else(
            || format!("policy-{k}.yaml"),
            |n| n.to_string_lossy().to_string(),
        );
        let name = if out.iter().any(|(n, _)| *n == name) {
            format!("{k}-{name}")
        } else {
            name
        };
        out.push((name, new.into_bytes()));
    }
    Ok(out)
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let path = &args.scenario;
    let file = path.display().to_string();
    let text = crate::text::read_text(path).map_err(|e| anyhow!("{file}: {e}"))?;
    let raw: RawScenario = yaml_serde::with::singleton_map_recursive::deserialize(
        yaml_serde::Deserializer::from_str(&text),
    )
    .map_err(|e| anyhow!("{file}: {e}"))?;
    let fixed = settings(&args.set)?;
    let base = args.scenario_args.overrides(fixed.clone())?;
    let scn = scenario::load(path, &base).map_err(|e| anyhow!("{e}"))?;
    args.output.warnings(&scn)?;
    let replications = args.runs.replications(scn.replications, 5)?;
    let mut plan = Plan::from_raw(raw.plan.as_ref(), &raw.assertions)
        .map_err(|p| anyhow!(p.in_file(&file)))?;
    if let Some(n) = args.max_runs {
        if n == 0 {
            bail!("--max-runs: must be at least 1");
        }
        plan.max_runs = n;
    }
    let base_dir = path.parent().unwrap_or(Path::new("."));
    locate(&mut plan, &text, &raw, base_dir, &fixed)?;
    precheck(path, &base, &plan, &file)?;
    let stem = stem(path);
    let out = args
        .output
        .out_dir(Path::new("output").join(format!("{stem}-plan")))?;

    let mut evaluations: Vec<Evaluation> = Vec::new();
    let bar = progress_bar(
        args.output.quiet,
        plan.max_runs as u64,
        "runs at most",
        &stem,
    );
    let done = || {
        if let Some(b) = &bar {
            b.inc(1);
        }
    };
    let result = search(&plan, |batch| {
        evaluate(
            path,
            &base,
            replications,
            args.runs.jobs,
            batch,
            &mut evaluations,
            &done,
        )
    });
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let result = result?;

    let title = format!("{stem}: the cheapest configuration that meets every assertion");
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut manifests: Vec<String> = Vec::new();
    let mut chosen_summary = None;
    let chosen = result
        .winner
        .map(|w| (&result.candidates[w], "winner"))
        .or_else(|| result.closest().map(|c| (c, "closest")));
    if let Some((c, folder)) = chosen {
        // Re-run rather than keep every run in memory: runs are deterministic.
        let variant = Variant {
            name: c.name(),
            policies: None,
            settings: c.settings.clone(),
        };
        let run = run_variant(path, &base, &variant, replications, RunOptions::default())
            .map_err(|e| anyhow!(e))?;
        chosen_summary = Some(run.summary.clone());
        let drawn = args.output.charts.drawn(true);
        let chosen = args.runs.on_pool(|| variant_files(&run, true, drawn))?;
        for (name, bytes) in chosen.files {
            files.push((format!("{folder}/{name}"), bytes));
        }
        if result.winner.is_some() {
            let header = format!(
                "# Written by `kthena-sim plan` for {stem} ({}): {}\n",
                c.name(),
                c.settings
                    .iter()
                    .filter(|s| s.scope() != Scope::Scenario)
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" ")
            );
            for (name, bytes) in winning_manifests(&raw, base_dir, &fixed, c, &header)? {
                files.push((format!("manifests/{name}"), bytes));
                manifests.push(name);
            }
        }
    }
    let report = PlanReport {
        title: &title,
        scenario: &file,
        plan: &plan,
        assertions: &raw.assertions,
        result: &result,
        evaluations: &evaluations,
        manifests: &manifests,
    };
    let md = report.markdown();
    let mut rows: Vec<Row> = evaluations
        .iter()
        .filter_map(|e| match e {
            Evaluation::Measured(row) => Some((**row).clone()),
            Evaluation::Refused(_) => None,
        })
        .collect();
    comparison::mark_pareto(&mut rows);
    files.push(("plan.md".into(), md.clone().into_bytes()));
    files.push(("plan.csv".into(), comparison::csv(&rows)?));
    files.push(("plan.json".into(), json_bytes(&report.file(&rows))?));
    args.output.write(&out, &files)?;
    args.output.write_markdown_summary(&md)?;
    if let Some((c, _)) = chosen {
        let outcomes = rows
            .iter()
            .find(|r| r.index == c.index)
            .map(|r| r.assertions.clone())
            .unwrap_or_default();
        args.output
            .write_junit(&title, &[(c.name().as_str(), &outcomes)])?;
    }
    println!("{title} -> {}", out.display());
    print!("{}", report.summary());
    let code = if result.winner.is_some() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    };
    Ok(args
        .output
        .deny(&chosen_summary.iter().collect::<Vec<_>>(), code))
}
