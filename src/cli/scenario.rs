//! `kthena-sim scenario init --from MANIFESTS... [--out FILE]`: a starter scenario for the
//! user's own Kthena manifests (see [`crate::scenario::starter`]), on standard output or into
//! a file; the manifest paths in it are relative to where the scenario is written, as a
//! scenario's paths are read.

use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};

use super::environment;
use super::output::write_file;
use crate::scenario::starter::{starter_scenario, ManifestFile};
use crate::text::read_text;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: ScenarioCommand,
}

#[derive(Debug, clap::Subcommand)]
enum ScenarioCommand {
    /// Write a starter scenario for Kthena manifests: their ModelServings with their replicas,
    /// the policy files, a Poisson workload and an SLO block to edit.
    Init(InitArgs),
}

#[derive(Debug, clap::Args)]
struct InitArgs {
    /// Manifest files: AutoscalingPolicy (+ Binding) and ModelServing objects, as kept or as
    /// `kubectl get -o yaml` prints them.
    #[arg(long = "from", value_name = "MANIFEST", required = true, num_args = 1..)]
    from: Vec<PathBuf>,
    /// Write the scenario to this file (default: standard output).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// The scenario's name (default: the output file's stem, else `starter`).
    #[arg(long)]
    name: Option<String>,
    /// Replace the output file if it exists.
    #[arg(long)]
    force: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let ScenarioCommand::Init(args) = args.command;
    if let Some(out) = &args.out {
        if out.exists() && !args.force {
            bail!("{}: exists; give --force to replace it", out.display());
        }
    }
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    let base = match &args.out {
        Some(out) => absolute(&cwd, out.parent().unwrap_or(Path::new(""))),
        None => cwd.clone(),
    };
    let mut texts = Vec::new();
    for f in &args.from {
        let text = read_text(f).map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?;
        let shown = relative(&absolute(&cwd, f), &base)
            .to_string_lossy()
            .into_owned();
        texts.push((shown, text));
    }
    let files: Vec<ManifestFile> = (texts.iter())
        .map(|(path, text)| ManifestFile { path, text })
        .collect();
    let name = args.name.clone().unwrap_or_else(|| {
        (args.out.as_deref().and_then(Path::file_stem))
            .map_or("starter".to_string(), |s| s.to_string_lossy().into_owned())
    });
    let yaml = starter_scenario(&name, &files).map_err(|e| match e {
        crate::kthena::manifest::ManifestError::Invalid { count, first } => {
            anyhow::anyhow!("{first} ({count} problem(s); `kthena-sim validate` lists them all)")
        }
    })?;
    match &args.out {
        Some(out) => {
            write_file(out, yaml.as_bytes())
                .map_err(|e| environment(format!("{}: cannot write: {e}", out.display())))?;
            eprintln!(
                "wrote {} — edit the values marked EDIT, then: kthena-sim run {}",
                out.display(),
                out.display()
            );
        }
        None => std::io::stdout()
            .lock()
            .write_all(yaml.as_bytes())
            .context("cannot write the scenario")?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `p` made absolute against `cwd`, with `.` and `..` folded lexically (no file system access:
/// the output file need not exist yet).
fn absolute(cwd: &Path, p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in cwd.join(p).components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The path of `target` as seen from the folder `from` (both absolute and folded).
fn relative(target: &Path, from: &Path) -> PathBuf {
    let (t, f): (Vec<_>, Vec<_>) = (target.components().collect(), from.components().collect());
    let common = t.iter().zip(&f).take_while(|(a, b)| a == b).count();
    let mut out: PathBuf = f[common..].iter().map(|_| Component::ParentDir).collect();
    out.extend(&t[common..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_made_relative_to_the_scenario_folder() {
        let cwd = Path::new("/work/repo");
        let base = absolute(cwd, Path::new("scenarios"));
        let policy = absolute(cwd, Path::new("./policies/../policies/a.yaml"));
        assert_eq!(relative(&policy, &base), Path::new("../policies/a.yaml"));
        assert_eq!(
            relative(&absolute(cwd, Path::new("scenarios/b.yaml")), &base),
            Path::new("b.yaml")
        );
        assert_eq!(
            relative(Path::new("/etc/x.yaml"), &base),
            Path::new("../../../etc/x.yaml")
        );
    }
}
