//! Writing a run's output folder atomically: every file goes into a temporary sibling
//! folder, which then replaces the target whole. A failed or interrupted run leaves the
//! previous results (or nothing) — never a half-written folder.
//!
//! An existing folder is replaced only when it is empty or holds kthena-sim results (one of
//! [`RESULT_MARKERS`]); any other folder is refused unless `--force`, so that a mistyped
//! `--out` cannot wipe a folder of the user's.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::sim::cancel;

/// Files that mark a folder as the results of a run, comparison, sweep, plan or calibration.
const RESULT_MARKERS: [&str; 6] = [
    "shadow.csv",
    "summary.json",
    "comparison.json",
    "sweep.json",
    "plan.json",
    "calibration.csv",
];

fn sibling(target: &Path, tag: &str) -> PathBuf {
    let name = target
        .file_name()
        .map_or_else(|| "output".into(), |n| n.to_string_lossy().to_string());
    target.with_file_name(format!(".{name}.{tag}-{}", std::process::id()))
}

fn interrupted() -> io::Error {
    io::Error::new(
        io::ErrorKind::Interrupted,
        "interrupted; no results written",
    )
}

/// Refuses a `target` that exists and must not be replaced: not a folder, or (without
/// `force`) a folder with files that are not kthena-sim results. Called before a run starts,
/// so that the refusal comes at once, and again just before writing.
pub fn check_target(target: &Path, force: bool) -> io::Result<()> {
    if !target.exists() {
        // The folder will be created: whatever of its path exists must be folders.
        return match target.ancestors().skip(1).find(|a| a.exists()) {
            Some(a) if !a.is_dir() => {
                Err(io::Error::other(format!("{} is not a folder", a.display())))
            }
            _ => Ok(()),
        };
    }
    if !target.is_dir() {
        return Err(io::Error::other(format!(
            "{} exists and is not a folder",
            target.display()
        )));
    }
    if force {
        return Ok(());
    }
    let mut entries = fs::read_dir(target)?.peekable();
    let empty = entries.peek().is_none();
    let results = RESULT_MARKERS.iter().any(|m| target.join(m).is_file());
    if empty || results {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "{} exists and does not hold kthena-sim results; use --force to replace it",
            target.display()
        )))
    }
}

/// An output folder being written: its files go into a temporary sibling folder, which
/// replaces the target whole on [`Staging::commit`]. Dropped before (an error, an
/// interruption), it is removed, leaving the previous results or nothing. A run writes its
/// rows there as it makes them, and its other files at the end.
pub struct Staging {
    target: PathBuf,
    tmp: PathBuf,
    force: bool,
    committed: bool,
}

impl Staging {
    /// Starts writing the folder `target`, refused as [`check_target`] says.
    pub fn new(target: &Path, force: bool) -> io::Result<Self> {
        check_target(target, force)?;
        if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent)?;
        }
        let tmp = sibling(target, "tmp");
        if tmp.exists() {
            fs::remove_dir_all(&tmp)?;
        }
        fs::create_dir(&tmp)?;
        Ok(Staging {
            target: target.to_path_buf(),
            tmp,
            force,
            committed: false,
        })
    }

    /// Where file `name` of the folder is while it is written.
    pub fn path(&self, name: &str) -> PathBuf {
        self.tmp.join(name)
    }

    /// Creates file `name` (and the folders it is in).
    pub fn create(&self, name: &str) -> io::Result<fs::File> {
        let path = self.path(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::File::create(path)
    }

    /// Writes `files` (name, bytes); stops once a stop was requested.
    pub fn write(&self, files: &[(String, Vec<u8>)]) -> io::Result<()> {
        files.iter().try_for_each(|(name, bytes)| {
            if cancel::is_requested() {
                return Err(interrupted());
            }
            self.create(name)?.write_all(bytes)
        })
    }

    /// Puts the folder in place of the target, unless a stop was requested.
    pub fn commit(mut self) -> io::Result<()> {
        if cancel::is_requested() {
            return Err(interrupted());
        }
        let target = &self.target;
        check_target(target, self.force)?;
        if target.exists() {
            let old = sibling(target, "old");
            fs::rename(target, &old)?;
            if let Err(e) = fs::rename(&self.tmp, target) {
                let _ = fs::rename(&old, target);
                return Err(e);
            }
            self.committed = true;
            fs::remove_dir_all(&old)?;
        } else {
            fs::rename(&self.tmp, target)?;
            self.committed = true;
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.tmp);
        }
    }
}

/// Writes `files` (name, bytes) as the folder `target`, replacing the folder there (see
/// [`check_target`]). Nothing is put in place once a stop was requested.
pub fn write_folder(target: &Path, files: &[(String, Vec<u8>)], force: bool) -> io::Result<()> {
    let staging = Staging::new(target, force)?;
    staging.write(files)?;
    staging.commit()
}

/// Prints `bytes` on standard output. A reader that closed the pipe early (`| head`) is its
/// choice, not an error; any other failure is the machine's (exit 3), never a panic.
pub fn print_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            Err(super::environment(format!("cannot write to stdout: {e}")))
        }
        _ => Ok(()),
    }
}

/// Writes one file atomically (temporary file + rename).
pub fn write_file(target: &Path, bytes: &[u8]) -> io::Result<()> {
    stream_file(target, |out| out.write_all(bytes))
}

/// Writes one file atomically from `write`, through a buffer: for files too large to
/// assemble in memory first.
pub fn stream_file(
    target: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)?;
    }
    let tmp = sibling(target, "tmp");
    let written = fs::File::create(&tmp).and_then(|f| {
        let mut out = io::BufWriter::new(f);
        write(&mut out)?;
        out.flush()
    });
    written
        .and_then(|()| fs::rename(&tmp, target))
        .inspect_err(|_| {
            let _ = fs::remove_file(&tmp);
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("kthena-output-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("scratch folder");
        dir
    }

    fn files(marker: &str) -> Vec<(String, Vec<u8>)> {
        vec![
            (marker.to_string(), b"{}".to_vec()),
            ("charts/a.svg".to_string(), b"<svg/>".to_vec()),
        ]
    }

    #[test]
    fn previous_results_are_replaced_whole() {
        let dir = scratch("replace");
        let out = dir.join("out");
        write_folder(&out, &files("summary.json"), false).expect("first write");
        fs::write(out.join("stale.csv"), "old").expect("extra file");
        write_folder(&out, &files("summary.json"), false).expect("second write");
        assert!(!out.join("stale.csv").exists());
        assert!(out.join("charts/a.svg").is_file());
        let names: Vec<_> = fs::read_dir(&dir).expect("list").flatten().collect();
        assert_eq!(names.len(), 1, "no temporary folder is left: {names:?}");
        fs::remove_dir_all(dir).expect("clean up");
    }

    #[test]
    fn a_folder_of_other_files_is_kept_unless_forced() {
        let dir = scratch("refuse");
        let out = dir.join("notes");
        fs::create_dir_all(&out).expect("folder");
        fs::write(out.join("thesis.tex"), "precious").expect("file");
        let e = write_folder(&out, &files("summary.json"), false).expect_err("refused");
        assert!(e.to_string().contains("--force"), "{e}");
        assert_eq!(
            fs::read_to_string(out.join("thesis.tex")).expect("kept"),
            "precious"
        );
        write_folder(&out, &files("summary.json"), true).expect("forced");
        assert!(!out.join("thesis.tex").exists());
        fs::remove_dir_all(dir).expect("clean up");
    }

    #[test]
    fn an_empty_folder_or_a_file_in_the_way() {
        let dir = scratch("empty");
        let out = dir.join("out");
        fs::create_dir_all(&out).expect("folder");
        write_folder(&out, &files("plan.json"), false).expect("empty folder replaced");
        let file = dir.join("file");
        fs::write(&file, "x").expect("file");
        let e = write_folder(&file, &files("plan.json"), true).expect_err("not a folder");
        assert!(e.to_string().contains("is not a folder"), "{e}");
        let e = check_target(&file.join("out"), true).expect_err("under a file");
        assert_eq!(e.to_string(), format!("{} is not a folder", file.display()));
        fs::remove_dir_all(dir).expect("clean up");
    }
}
