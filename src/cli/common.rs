//! What `run`, `compare`, `sweep` and `plan` share: the options that mean the same thing in
//! each (declared once, flattened into each subcommand's `Args`), the files of a run's folder,
//! the comparison tables and CI outputs, and the progress display. Sibling subcommands use
//! this module, never each other.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use super::output::{check_target, write_file, write_folder, Staging};
use super::{environment, parse_engine, parse_trace_format};
use crate::chart::{self, RunData};
use crate::engine::EngineVersion;
use crate::experiment::{worker_pool, ReplicationRun, Variant, VariantRun};
use crate::model::results::Results;
use crate::outputs::comparison::Row;
use crate::outputs::json_bytes;
use crate::outputs::summary::{AssertionOutcome, Summary};
use crate::report::markdown::ChartsDrawn;
use crate::report::{comparison, csv_out, markdown};
use crate::scenario::setting::Setting;
use crate::scenario::{Overrides, Scenario, MAX_REPLICATIONS};
use crate::sim::{SimDuration, SimTime};
use crate::workload::{
    open_trace, RequestSource, SpecDuration, StreamSpec, TraceFormat, TraceSpec, WorkloadSpec,
};

/// Options that replace parts of the scenario, for every run of the command.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ScenarioArgs {
    /// Replace the scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Replace the engine version (`v0.4` or `head`); the manifests are converted.
    #[arg(long, value_parser = parse_engine)]
    pub engine: Option<EngineVersion>,
    /// Replace the simulated duration (e.g. `10m` for a quick look).
    #[arg(long)]
    pub duration: Option<String>,
    /// Replace the scenario's workload by this trace.
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
    /// Format of `--trace`: `azure`, `mooncake`, `burstgpt`, `generic`, or a mapped CSV as
    /// YAML, e.g. `'csv: {arrival: ts, input: prompt, output: completion}'` (default: from
    /// its header).
    #[arg(long, value_parser = parse_trace_format, requires = "trace", value_name = "FORMAT")]
    pub trace_format: Option<TraceFormat>,
}

impl ScenarioArgs {
    /// The overrides these options make, with `settings` on top. A `--trace` without
    /// `--duration` runs for the trace's span (said on stderr), not the scenario's duration.
    pub fn overrides(&self, settings: Vec<Setting>) -> anyhow::Result<Overrides> {
        let duration = match (&self.trace, &self.duration) {
            (Some(trace), None) => {
                let span = SpecDuration::new(trace_span(trace, self.trace_format.clone())?);
                eprintln!(
                    "note: simulating the trace's span, {span} (give --duration to change it)"
                );
                Some(span.to_string())
            }
            _ => self.duration.clone(),
        };
        Ok(Overrides {
            seed: self.seed,
            engine: self.engine,
            workload: self
                .trace
                .as_deref()
                .map(|t| trace_workload(t, self.trace_format.clone()))
                .transpose()?,
            duration,
            settings,
            ..Overrides::default()
        })
    }
}

/// How long the trace at `path` runs: its last arrival, rounded up to the next whole second
/// (at least one second).
fn trace_span(path: &Path, format: Option<TraceFormat>) -> anyhow::Result<SimDuration> {
    let mut source =
        open_trace(path, format).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let mut last = SimTime::ZERO;
    while let Some(r) = source
        .next_request()
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
    {
        last = last.max(r.arrival);
    }
    let micros = last.since_start().as_micros().max(0);
    let secs = (micros + 999_999) / 1_000_000 + 1;
    Ok(SimDuration::from_secs(secs))
}

/// Where the results go and how the command reports.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct OutputArgs {
    /// Output folder.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace the output folder even when it holds files other than kthena-sim results.
    #[arg(long)]
    pub force: bool,
    /// Write JUnit XML: one test case per assertion (per variant).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write a Markdown summary (e.g. to `$GITHUB_STEP_SUMMARY`).
    #[arg(long, value_name = "FILE")]
    pub markdown_summary: Option<PathBuf>,
    /// No progress bar (it is shown on stderr only on a terminal anyway).
    #[arg(long, short)]
    pub quiet: bool,
    /// Exit 2 on warnings too: a policy that cannot work as written is refused before the
    /// run, one that never scaled or flapped after it (the outputs are written).
    #[arg(long)]
    pub deny_warnings: bool,
    /// Which folders get charts (SVG and PNG). `summary`: the command's own figures only —
    /// `run`'s charts (with replications, their median's), `compare`'s overlays and Pareto
    /// scatter, `sweep`'s scatter, `plan`'s winner's (or closest's) charts — and none in
    /// the folders of single replications or of the variants of `compare` and `sweep`.
    /// `all`: every folder's charts too. `none`: no charts. The data files are the same
    /// whatever the choice: `kthena-sim chart DIR` draws the skipped charts later, for any
    /// folder (a variant's, a replication's, the whole output), and its report then links
    /// them.
    #[arg(long, value_enum, value_name = "WHICH", default_value_t = Charts::Summary)]
    pub charts: Charts,
}

/// Which folders get charts: each chart is an SVG and a PNG, and the PNG's compression
/// costs more than a short run, so by default only the command's own figures are drawn.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Charts {
    /// Every folder: each run's, variant's and replication's.
    All,
    /// The command's own figures only.
    #[default]
    Summary,
    /// None.
    None,
}

impl Charts {
    /// The charts of a folder of runs: `own` when it is the command's own result (`run`'s
    /// folder, `plan`'s winner), not one of many (the variants of `compare` and `sweep`).
    pub fn drawn(self, own: bool) -> ChartsDrawn {
        ChartsDrawn {
            here: self == Charts::All || (own && self == Charts::Summary),
            replications: self == Charts::All,
        }
    }
}

impl OutputArgs {
    /// Shows the scenario's warnings on stderr; refuses them with `--deny-warnings`.
    pub fn warnings(&self, scn: &Scenario) -> anyhow::Result<()> {
        for w in scn.warnings.iter() {
            eprintln!("warning: {w}");
        }
        if self.deny_warnings && !scn.warnings.is_empty() {
            anyhow::bail!(
                "{} warning(s) and --deny-warnings: nothing was run",
                scn.warnings.len()
            );
        }
        Ok(())
    }

    /// The exit code of a finished command: `code`, or 2 when `--deny-warnings` and a
    /// summary has warnings.
    pub fn deny(&self, summaries: &[&Summary], code: ExitCode) -> ExitCode {
        let n: usize = summaries.iter().map(|s| s.warnings.len()).sum();
        if self.deny_warnings && n > 0 {
            eprintln!("error: {n} warning(s) and --deny-warnings");
            ExitCode::from(super::EXIT_BAD_INPUT)
        } else {
            code
        }
    }

    /// The output folder (`--out`, else `default`), refused at once when it may not be
    /// replaced.
    pub fn out_dir(&self, default: PathBuf) -> anyhow::Result<PathBuf> {
        let out = self.out.clone().unwrap_or(default);
        check_target(&out, self.force)
            .with_context(|| format!("cannot write {}", out.display()))?;
        Ok(out)
    }

    /// Writes the folder `out`; a failure is the machine's (exit 3), not the input's.
    pub fn write(&self, out: &Path, files: &[(String, Vec<u8>)]) -> anyhow::Result<()> {
        write_folder(out, files, self.force).map_err(|e| cannot_write(out, e))
    }

    /// Starts writing the folder `out`, to be filled as a run goes (see [`Staging`]).
    pub fn stage(&self, out: &Path) -> anyhow::Result<Staging> {
        Staging::new(out, self.force).map_err(|e| cannot_write(out, e))
    }

    /// Writes the JUnit XML of `suites` (name, assertion verdicts) if asked.
    pub fn write_junit(
        &self,
        title: &str,
        suites: &[(&str, &[AssertionOutcome])],
    ) -> anyhow::Result<()> {
        match &self.junit {
            Some(path) => write_one(path, comparison::junit(title, suites).as_bytes()),
            None => Ok(()),
        }
    }

    /// Writes the Markdown summary `md` if asked.
    pub fn write_markdown_summary(&self, md: &str) -> anyhow::Result<()> {
        match &self.markdown_summary {
            Some(path) => write_one(path, md.as_bytes()),
            None => Ok(()),
        }
    }
}

/// How many simulations, on how many threads.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RunsArgs {
    /// Replications per variant: the scenario with N seeds derived from its own (the first
    /// is the scenario's), the same N for every variant (common random numbers). Default:
    /// the scenario's `replications`, else 1 for `run` and 5 for `compare`, `sweep`, `plan`.
    #[arg(long, value_name = "N")]
    pub replications: Option<usize>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
}

impl RunsArgs {
    /// Runs `f` on a rayon pool of `--jobs` threads (all cores by default), as the
    /// simulations ran: the charts are drawn in parallel, and their bytes do not depend on it.
    pub fn on_pool<T: Send>(
        &self,
        f: impl FnOnce() -> anyhow::Result<T> + Send,
    ) -> anyhow::Result<T> {
        let pool = worker_pool(self.jobs).map_err(|e| environment(format!("no threads: {e}")))?;
        pool.install(f)
    }

    /// The replications to run: `--replications`, else the scenario's, else `default`.
    pub fn replications(&self, scenario: Option<usize>, default: usize) -> anyhow::Result<usize> {
        let n = self.replications.or(scenario).unwrap_or(default);
        if !(1..=MAX_REPLICATIONS).contains(&n) {
            anyhow::bail!("--replications {n}: must be between 1 and {MAX_REPLICATIONS}");
        }
        Ok(n)
    }
}

/// A failure to write `path`: the machine's (exit 3), not the input's.
pub fn cannot_write(path: &Path, e: impl std::fmt::Display) -> anyhow::Error {
    environment(format!("cannot write {}: {e}", path.display()))
}

/// Writes one file beside the output folder; a failure is the machine's.
pub fn write_one(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write_file(path, bytes).map_err(|e| cannot_write(path, e))
}

/// `KEY=VALUE` settings from the command line.
pub fn settings(values: &[String]) -> anyhow::Result<Vec<Setting>> {
    values
        .iter()
        .map(|s| s.parse().map_err(|e| anyhow::anyhow!("--set {e}")))
        .collect()
}

/// The workload replacing the scenario's with `--trace`.
fn trace_workload(path: &Path, format: Option<TraceFormat>) -> anyhow::Result<WorkloadSpec> {
    let path =
        std::path::absolute(path).with_context(|| format!("{}: bad path", path.display()))?;
    Ok(WorkloadSpec {
        streams: vec![StreamSpec::Trace(TraceSpec {
            name: None,
            path,
            format,
            window: None,
            time_scale: 1.0,
            ..Default::default()
        })],
        max_context: None,
    })
}

/// The stem of the scenario file, naming default output folders.
pub fn stem(scenario: &Path) -> String {
    scenario
        .file_stem()
        .map_or("scenario".into(), |s| s.to_string_lossy().to_string())
}

/// A progress bar on stderr, only on a terminal and without `--quiet`: `len` units of
/// `unit`, labelled `message`.
pub fn progress_bar(quiet: bool, len: u64, unit: &str, message: &str) -> Option<ProgressBar> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(len.max(1));
    let template = format!("{{msg}} [{{bar:40}}] {{pos}}/{{len}} {unit} ({{elapsed}})");
    let style = ProgressStyle::with_template(&template)
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(message.to_string());
    Some(bar)
}

/// The files of a run's folder (or a variant's), and its chart data: its run's, or the median
/// of its replications (what the overlays draw of a variant).
pub struct RunFolder {
    pub files: Vec<(String, Vec<u8>)>,
    pub data: RunData,
}

/// The files of a run's folder besides its rows and charts: `summary.json`, `report.md`, and
/// `requests.csv` when asked.
pub fn report_files(
    scn: &Scenario,
    results: &Results,
    summary: &Summary,
    variant: Option<&str>,
    draw: bool,
) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let drawn = ChartsDrawn {
        here: draw,
        replications: false,
    };
    let mut files = vec![
        ("summary.json".to_string(), json_bytes(summary)?),
        (
            "report.md".to_string(),
            markdown::report(scn, summary, results, &[], variant, drawn).into_bytes(),
        ),
    ];
    if scn.write_requests {
        files.push((
            "requests.csv".to_string(),
            csv_out::requests(&results.requests)?,
        ));
    }
    Ok(files)
}

/// The files of a replication's output folder (also each variant's folder of `compare` and
/// `sweep`, and the winner's of `plan`), with its charts when `draw`, drawn from the files
/// just made as `kthena-sim chart` would draw them later; and the run's chart data (for
/// medians and overlays).
pub fn run_files(
    rep: &ReplicationRun,
    summary: &Summary,
    variant: Option<&str>,
    draw: bool,
) -> anyhow::Result<RunFolder> {
    let mut files = report_files(&rep.scenario, &rep.results, summary, variant, draw)?;
    files.extend(rep.rows.clone().into_files());
    let data = chart::run_data(&files)?;
    if draw {
        files.extend(chart::render_data(&data)?);
    }
    Ok(RunFolder { files, data })
}

/// The line that opens a variant's `report.md`: its name and what it changes, e.g.
/// "Variant `small`: `--set binding.maxReplicas=6`." (settings common to every variant are
/// the command's, not the variant's, and are not repeated).
pub fn variant_line(variant: &Variant) -> String {
    let mut changes: Vec<String> = Vec::new();
    if let Some(policies) = &variant.policies {
        let files: Vec<String> = (policies.iter())
            .map(|p| format!("`{}`", p.display()))
            .collect();
        changes.push(format!("policies {}", files.join(", ")));
    }
    changes.extend(variant.settings.iter().map(|s| format!("`--set {s}`")));
    if changes.is_empty() {
        changes.push("no settings of its own".to_owned());
    }
    format!("Variant `{}`: {}.", variant.name, changes.join(", "))
}

/// The folder of a variant (or of `run`): with one replication, the run's files; with
/// several, the summary of their means and spreads, the report, the charts of their median
/// (each replication's spec replicas drawn faintly), and each replication's own folder in
/// `replications/<r>/` (1-based); charts only where `drawn` says. `named`: the reports open
/// with [`variant_line`] (a variant of `compare`, `sweep` or `plan`, not `run`'s
/// replications). The replications' folders are made in parallel.
pub fn variant_files(
    run: &VariantRun,
    named: bool,
    drawn: ChartsDrawn,
) -> anyhow::Result<RunFolder> {
    let line = named.then(|| variant_line(&run.variant));
    let line = line.as_deref();
    let reps = &run.replications;
    if let [one] = reps.as_slice() {
        return run_files(one, &run.summary, line, drawn.here);
    }
    let own = reps
        .par_iter()
        .map(|rep| run_files(rep, &rep.summary, line, drawn.replications))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (own, data): (Vec<_>, Vec<RunData>) = own.into_iter().map(|f| (f.files, f.data)).unzip();
    let median = RunData::median(&data).ok_or_else(|| anyhow::anyhow!("no replications"))?;
    let summaries: Vec<Summary> = reps.iter().map(|r| r.summary.clone()).collect();
    let first = &reps[0];
    let mut files = vec![
        ("summary.json".to_string(), json_bytes(&run.summary)?),
        (
            "report.md".to_string(),
            markdown::report(
                &first.scenario,
                &run.summary,
                &first.results,
                &summaries,
                line,
                drawn,
            )
            .into_bytes(),
        ),
    ];
    if drawn.here {
        files.extend(chart::render_data(&median)?);
    }
    for (r, rep) in own.into_iter().enumerate() {
        files.extend(
            rep.into_iter()
                .map(|(name, bytes)| (format!("replications/{}/{name}", r + 1), bytes)),
        );
    }
    Ok(RunFolder {
        files,
        data: median,
    })
}

/// The output of a comparison or sweep: `kind` (`comparison`, `sweep`) names its files.
pub struct TableOutput<'a> {
    pub kind: &'a str,
    pub title: &'a str,
    /// A sweep's number of combinations (all shards).
    pub combinations: Option<usize>,
    pub out: &'a Path,
    pub output: &'a OutputArgs,
    /// The threads that draw the charts (`--jobs`).
    pub runs: &'a RunsArgs,
}

impl TableOutput<'_> {
    /// Writes the variants' folders, the overlays (comparisons only: a sweep's grid is too
    /// many lines for one chart), the table in three formats and the CI outputs; prints the
    /// table; gives the exit code. The variants' folders get charts only with `--charts all`;
    /// the folders and the figures are made in parallel.
    pub fn finish(&self, runs: &[VariantRun], rows: Vec<Row>) -> anyhow::Result<ExitCode> {
        let charts = self.output.charts;
        let files =
            self.runs.on_pool(|| {
                let folders = (runs.par_iter())
                    .map(|r| variant_files(r, true, charts.drawn(false)))
                    .collect::<anyhow::Result<Vec<_>>>()?;
                let mut files: Vec<(String, Vec<u8>)> = Vec::new();
                let mut data = Vec::new();
                for (r, folder) in runs.iter().zip(folders) {
                    if self.kind == "comparison" {
                        data.push((r.variant.name.clone(), folder.data));
                    }
                    files.extend((folder.files.into_iter()).map(|(name, bytes)| {
                        (format!("variants/{}/{name}", r.variant.name), bytes)
                    }));
                }
                if !data.is_empty() && charts != Charts::None {
                    files.extend(chart::render_overlays(&data)?);
                }
                Ok(files)
            })?;
        self.write_tables(rows, files)
    }

    /// Writes the table files of `rows` (and the CI outputs) with `files` into the folder.
    pub fn write_tables(
        &self,
        mut rows: Vec<Row>,
        mut files: Vec<(String, Vec<u8>)>,
    ) -> anyhow::Result<ExitCode> {
        let kind = self.kind;
        comparison::mark_pareto(&mut rows);
        let drawn = self.output.charts != Charts::None;
        if drawn {
            files.extend(chart::render_pareto(self.title, &chart::points(&rows))?);
        }
        let md = comparison::markdown(self.title, &rows);
        let overlays = files.iter().any(|(n, _)| n == "overlay-replicas.svg");
        let page = format!("{md}{}", comparison::charts_section(drawn, overlays));
        files.push((format!("{kind}.md"), page.into_bytes()));
        files.push((format!("{kind}.csv"), comparison::csv(&rows)?));
        files.push((
            format!("{kind}.json"),
            comparison::json(self.title, self.combinations, &rows)?,
        ));
        self.output.write(self.out, &files)?;
        self.output.write_markdown_summary(&md)?;
        let suites: Vec<(&str, &[AssertionOutcome])> = rows
            .iter()
            .map(|r| (r.variant.as_str(), r.assertions.as_slice()))
            .collect();
        self.output.write_junit(self.title, &suites)?;
        println!("{} -> {}", self.title, self.out.display());
        print!("{md}");
        Ok(if rows.iter().all(Row::passed) {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    }

    /// Like [`TableOutput::finish`], the exit code refusing warnings with `--deny-warnings`.
    pub fn finish_checked(&self, runs: &[VariantRun], rows: Vec<Row>) -> anyhow::Result<ExitCode> {
        let code = self.finish(runs, rows)?;
        for r in runs {
            for w in &r.summary.warnings {
                eprintln!("warning: {}: {w}", r.variant.name);
            }
        }
        let summaries: Vec<&Summary> = runs.iter().map(|r| &r.summary).collect();
        Ok(self.output.deny(&summaries, code))
    }
}
