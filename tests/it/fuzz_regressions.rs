//! The inputs the fuzz targets found bugs with (`fuzz/regressions/<target>/`), and their
//! seeds (`fuzz/seeds/<target>/`), run through the same `kthena_sim::fuzzing` entry points
//! as the fuzzers: a bug that comes back fails here, under `cargo test`, without a nightly
//! toolchain.

use std::path::PathBuf;

use kthena_sim::fuzzing;

/// A target's name in `fuzz/fuzz_targets/` and its entry point.
type Target = (&'static str, fn(&[u8]));

const TARGETS: [Target; 7] = [
    ("manifest", fuzzing::manifest),
    ("scenario", fuzzing::scenario),
    ("trace", fuzzing::trace),
    ("promql", fuzzing::promql),
    ("replay", fuzzing::replay),
    ("duration_quantity", fuzzing::duration_quantity),
    ("expressions", fuzzing::expressions),
];

/// The files of `fuzz/<kind>/<target>/`, sorted (none when the folder does not exist).
fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(kind)
        .join(target);
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files
}

#[test]
fn every_target_has_seeds_and_its_targets_file() {
    for (target, _) in TARGETS {
        assert!(!inputs("seeds", target).is_empty(), "{target}: no seeds");
        let source = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/fuzz_targets")
            .join(format!("{target}.rs"));
        assert!(source.exists(), "{}", source.display());
    }
}

#[test]
fn seeds_and_regression_inputs_run_without_a_panic() {
    for (target, run) in TARGETS {
        for file in inputs("seeds", target)
            .into_iter()
            .chain(inputs("regressions", target))
        {
            let data = std::fs::read(&file).unwrap();
            let outcome = std::panic::catch_unwind(|| run(&data));
            assert!(outcome.is_ok(), "{target}: {} panics", file.display());
        }
    }
}
