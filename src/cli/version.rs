//! `--version`: the crate's version and the Kthena revision each engine version reproduces, so
//! that a bug report names the Go code its decisions were checked against. Built at compile
//! time from the engine's own constants (clap's `version` takes a `&'static str`, and
//! `concat!` takes only literals), so a change of revision there shows here by itself.

use crate::engine::EngineVersion::{Head, V0_4};

/// The version line after the program name, in pieces.
const PARTS: [&str; 10] = [
    env!("CARGO_PKG_VERSION"),
    " (engines: ",
    V0_4.as_str(),
    " = Kthena ",
    V0_4.kthena_revision(),
    ", ",
    Head.as_str(),
    " = Kthena ",
    Head.kthena_revision(),
    ")",
];

const fn total_len(parts: &[&str]) -> usize {
    let mut len = 0;
    let mut i = 0;
    while i < parts.len() {
        len += parts[i].len();
        i += 1;
    }
    len
}

const fn joined<const N: usize>(parts: &[&str]) -> [u8; N] {
    let mut out = [0u8; N];
    let (mut at, mut i) = (0, 0);
    while i < parts.len() {
        let bytes = parts[i].as_bytes();
        let mut j = 0;
        while j < bytes.len() {
            out[at] = bytes[j];
            at += 1;
            j += 1;
        }
        i += 1;
    }
    out
}

const BYTES: [u8; total_len(&PARTS)] = joined(&PARTS);

/// `0.1.0 (engines: v0.4 = Kthena v0.4.0 2916fb73, head = Kthena main 3cc05728)`: what
/// `kthena-sim --version` prints after the program name.
pub const VERSION: &str = match std::str::from_utf8(&BYTES) {
    Ok(s) => s,
    Err(_) => panic!("the version pieces are UTF-8"),
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{KTHENA_HEAD_REVISION, KTHENA_V0_4_REVISION};

    #[test]
    fn the_version_names_the_crate_and_both_revisions() {
        assert_eq!(
            VERSION,
            format!(
                "{} (engines: v0.4 = Kthena {KTHENA_V0_4_REVISION}, head = Kthena {KTHENA_HEAD_REVISION})",
                env!("CARGO_PKG_VERSION")
            )
        );
    }
}
