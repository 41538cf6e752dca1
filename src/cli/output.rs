//! Writing a run's output folder atomically: every file goes into a temporary sibling
//! folder, which then replaces the target whole. A failed or interrupted run leaves the
//! previous results (or nothing) — never a half-written folder.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

fn sibling(target: &Path, tag: &str) -> PathBuf {
    let name = target
        .file_name()
        .map_or_else(|| "output".into(), |n| n.to_string_lossy().to_string());
    target.with_file_name(format!(".{name}.{tag}-{}", std::process::id()))
}

/// Writes `files` (name, bytes) as the folder `target`, replacing any folder there.
pub fn write_folder(target: &Path, files: &[(String, Vec<u8>)]) -> io::Result<()> {
    if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)?;
    }
    let tmp = sibling(target, "tmp");
    if tmp.exists() {
        fs::remove_dir_all(&tmp)?;
    }
    fs::create_dir(&tmp)?;
    let written = files.iter().try_for_each(|(name, bytes)| {
        let path = tmp.join(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(path, bytes)
    });
    if let Err(e) = written {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if target.exists() {
        if !target.is_dir() {
            let _ = fs::remove_dir_all(&tmp);
            return Err(io::Error::other(format!(
                "{} exists and is not a folder",
                target.display()
            )));
        }
        let old = sibling(target, "old");
        fs::rename(target, &old)?;
        if let Err(e) = fs::rename(&tmp, target) {
            let _ = fs::rename(&old, target);
            return Err(e);
        }
        fs::remove_dir_all(&old)?;
    } else {
        fs::rename(&tmp, target)?;
    }
    Ok(())
}

/// Writes one file atomically (temporary file + rename).
pub fn write_file(target: &Path, bytes: &[u8]) -> io::Result<()> {
    if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)?;
    }
    let tmp = sibling(target, "tmp");
    fs::write(&tmp, bytes)?;
    fs::rename(&tmp, target).inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    })
}
