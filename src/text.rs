//! The text files the tool reads whole (scenarios, manifests, workload specs): read with a
//! size limit, so that a wrong path such as a device or a huge log cannot exhaust memory,
//! and decoded as UTF-8 with the line and column of the first byte that is not, so that the
//! message points at it as a YAML error would. Traces are streamed instead (see
//! [`crate::workload`]).

use std::io::Read;
use std::path::Path;

/// The largest text file read whole: far beyond any scenario or set of manifests (the API
/// server refuses an object above 1.5 MiB, etcd's limit).
pub const MAX_TEXT_BYTES: u64 = 16 * 1024 * 1024;

/// Why a text file cannot be had; the message leaves the path to the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("cannot read: {0}")]
    Read(String),
    #[error("larger than {} MiB: not a scenario or manifest file", MAX_TEXT_BYTES / (1024 * 1024))]
    TooLarge,
    /// The first byte that is not UTF-8, its line and its column (in characters), 1-based.
    #[error("not UTF-8 text: invalid byte 0x{byte:02X} at line {line} column {column}")]
    NotUtf8 {
        byte: u8,
        line: usize,
        column: usize,
    },
}

/// The text of the file at `path`, or why it cannot be had.
pub fn read_text(path: &Path) -> Result<String, TextError> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_TEXT_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| TextError::Read(e.to_string()))?;
    if bytes.len() as u64 > MAX_TEXT_BYTES {
        return Err(TextError::TooLarge);
    }
    decode(bytes)
}

/// `bytes` as text, or where they stop being UTF-8.
pub fn decode(bytes: Vec<u8>) -> Result<String, TextError> {
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let valid = e.utf8_error().valid_up_to();
        // The prefix is valid UTF-8 by definition of `valid_up_to`.
        let before = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
        let line = before.matches('\n').count() + 1;
        let column = before
            .rsplit('\n')
            .next()
            .unwrap_or_default()
            .chars()
            .count()
            + 1;
        TextError::NotUtf8 {
            byte: bytes[valid],
            line,
            column,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_invalid_byte_is_placed_by_line_and_character_column() {
        assert_eq!(decode(b"a: 1\n".to_vec()).as_deref(), Ok("a: 1\n"));
        assert_eq!(
            decode(b"name: x\n# caf\xc3\xa9 \xe9t\xe9\n".to_vec()).map_err(|e| e.to_string()),
            Err("not UTF-8 text: invalid byte 0xE9 at line 2 column 8".to_owned())
        );
        assert_eq!(
            decode(vec![0xff]).map_err(|e| e.to_string()),
            Err("not UTF-8 text: invalid byte 0xFF at line 1 column 1".to_owned())
        );
    }

    #[test]
    fn a_device_that_never_ends_is_refused_within_the_limit() {
        let e = read_text(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "larger than 16 MiB: not a scenario or manifest file"
        );
        let e = read_text(Path::new("/nonexistent/scenario.yaml")).unwrap_err();
        assert!(e.to_string().starts_with("cannot read: "), "{e}");
    }
}
