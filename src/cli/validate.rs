//! `kthena-sim validate FILE...`: checks Kthena manifests as the API server and Kthena's
//! webhooks would. All files are checked together, so a binding may refer to a policy in
//! another file.
//!
//! Everything is written to standard output, file by file in argument order and document by
//! document, so the report reads in the order of the manifests:
//!
//! ```text
//! ok policy/scaling-policy (v0.x API)
//! ok binding/scaling-binding
//! ok modelserving/llama-pd -n llm
//! FILE: document N (line L): FIELD.PATH: message
//! note: FILE: document N (line L): FIELD.PATH: message
//! FILE: cannot read: No such file or directory (os error 2)
//! FILE: no Kubernetes objects in the file
//! ```
//!
//! `ok` lines name each valid object (`-n NAMESPACE` when not `default`; the API generation of
//! policies). Problem lines are what a cluster would refuse; `warning:` lines are accepted but
//! cannot work as written (a metric without a source: the policy never scales); `note:` lines
//! are accepted but worth knowing (unknown fields the API server prunes, kinds not read here,
//! replaced objects). Exit status 0 when every file was read and every object is valid (and,
//! with `--deny-warnings`, nothing was warned about), 2 otherwise.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::EXIT_BAD_INPUT;
use crate::diagnostic::Diagnostic;
use crate::kthena::manifest::{document_of, Location, ManifestObject, ManifestSet, ObjectKind};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Manifest files (multi-document YAML).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Exit 2 on warnings too (policies Kthena accepts that cannot work as written).
    #[arg(long)]
    pub deny_warnings: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let stdout = std::io::stdout();
    let (valid, warned) =
        report(&args.files, &mut stdout.lock()).context("cannot write the report")?;
    Ok(if valid && !(warned && args.deny_warnings) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_BAD_INPUT)
    })
}

/// Writes the report for `files`; returns whether everything was read and is valid, and
/// whether there were warnings.
fn report(files: &[PathBuf], out: &mut impl Write) -> std::io::Result<(bool, bool)> {
    let mut names: Vec<String> = Vec::new();
    let mut sources: Vec<(String, String)> = Vec::new();
    let mut unreadable: Vec<(String, String)> = Vec::new();
    for path in files {
        let name = path.display().to_string();
        if names.contains(&name) {
            continue;
        }
        names.push(name.clone());
        match crate::text::read_text(path) {
            Ok(text) => sources.push((name, text)),
            Err(why) => unreadable.push((name, why.to_string())),
        }
    }
    let set = ManifestSet::from_sources(&sources);

    let mut empty = false;
    for name in &names {
        if let Some((_, why)) = unreadable.iter().find(|(n, _)| n == name) {
            writeln!(out, "{name}: {why}")?;
            continue;
        }
        let mut lines: Vec<(usize, String)> = Vec::new();
        let in_file = |l: &Location| l.file == *name;
        for o in set
            .objects()
            .iter()
            .filter(|o| in_file(&o.location) && o.valid)
        {
            lines.push((o.location.document, ok_line(o)));
        }
        let in_this = |d: &&Diagnostic| d.file.as_deref() == Some(name.as_str());
        for p in set.problems().iter().filter(in_this) {
            lines.push((document_of(p), p.to_string()));
        }
        for w in set.warnings().iter().filter(in_this) {
            lines.push((document_of(w), format!("warning: {w}")));
        }
        for n in set.notes().iter().filter(in_this) {
            lines.push((document_of(n), format!("note: {n}")));
        }
        if lines.is_empty() {
            // As `kubectl apply` refuses a file without objects: most likely the wrong file.
            writeln!(out, "{name}: no Kubernetes objects in the file")?;
            empty = true;
        }
        // Stable: within a document, ok and problem lines come before notes.
        lines.sort_by_key(|(document, _)| *document);
        for (_, line) in lines {
            writeln!(out, "{line}")?;
        }
    }
    Ok((
        unreadable.is_empty() && !empty && set.is_valid(),
        !set.warnings().is_empty(),
    ))
}

fn ok_line(o: &ManifestObject) -> String {
    let mut line = format!("ok {}/{}", o.kind.short_name(), o.name);
    if o.namespace != "default" {
        line.push_str(&format!(" -n {}", o.namespace));
    }
    if let (ObjectKind::AutoscalingPolicy, Some(api)) = (o.kind, o.api) {
        line.push_str(&format!(" ({api} API)"));
    }
    line
}
