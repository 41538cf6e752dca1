//! What the integration tests share: the repository root, the binary, scratch folders.

use std::path::PathBuf;

use assert_cmd::Command;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn kthena_sim() -> Command {
    Command::cargo_bin("kthena-sim").expect("binary built")
}

/// An empty scratch folder named after `area` and `tag`, unique to this test process.
pub fn temp_dir(area: &str, tag: &str) -> PathBuf {
    let name = format!("kthena-sim-{area}-{tag}-{}", std::process::id());
    let d = std::env::temp_dir().join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}
