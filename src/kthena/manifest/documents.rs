//! Splitting a multi-document YAML text at its `---` separators, so that each document is
//! parsed on its own: a syntax error then spoils only its own document, and every document
//! knows the line where it starts. A `kind: List` document (what `kubectl get -o yaml` prints)
//! also knows where each of its `items` starts.

use yaml_serde::Value;

/// One non-empty document of a YAML text.
#[derive(Debug)]
pub(crate) struct Document {
    /// 1-based position among the non-empty documents of the text.
    pub(crate) index: usize,
    /// 1-based line of the document's first content line.
    pub(crate) line: usize,
    /// The parsed value, or the YAML error (whose line and column count from the start of the
    /// whole text).
    pub(crate) value: Result<Value, yaml_serde::Error>,
    /// 1-based lines where the entries of a top-level `items:` sequence start, in order.
    pub(crate) item_lines: Vec<usize>,
}

/// A line that starts a new document: `---` alone or followed by blanks, a comment or content.
fn is_separator(line: &str) -> bool {
    line.strip_prefix("---")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n']))
}

/// Whether a line carries YAML content: not blank, not a comment, not a bare marker.
fn is_content(line: &str) -> bool {
    let line = line.trim_end_matches(['\r', '\n']);
    let body = if is_separator(line) { &line[3..] } else { line };
    let body = body.trim();
    !(body.is_empty() || body.starts_with('#') || (!is_separator(line) && body == "..."))
}

/// The non-empty documents of `text`, in order.
pub(crate) fn split_documents(text: &str) -> Vec<Document> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // Byte ranges of the chunks, each starting at line `first_line` (1-based).
    let mut chunks: Vec<(usize, usize, usize)> = Vec::new();
    let (mut start, mut first_line, mut offset) = (0usize, 1usize, 0usize);
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if is_separator(line) && offset > start {
            chunks.push((start, offset, first_line));
            start = offset;
            first_line = i + 1;
        }
        offset += line.len();
    }
    chunks.push((start, text.len(), first_line));

    let mut docs = Vec::new();
    for (from, to, first_line) in chunks {
        let chunk = &text[from..to];
        let Some(content) = chunk.split_inclusive('\n').position(is_content) else {
            continue;
        };
        // Blank lines in front keep yaml_serde's line numbers those of the whole text.
        let padded = format!("{}{chunk}", "\n".repeat(first_line - 1));
        let value = yaml_serde::from_str::<Value>(&padded).and_then(|mut v| {
            v.apply_merge()?;
            Ok(v)
        });
        docs.push(Document {
            index: docs.len() + 1,
            line: first_line + content,
            value,
            item_lines: item_lines(chunk, first_line),
        });
    }
    docs
}

/// The lines (1-based, counted from `first_line`) where the entries of the document's top-level
/// `items:` block sequence start: the `- ` lines at the sequence's own indentation. Empty for a
/// flow sequence (`items: [...]`) or no `items`; positions only, the parsed value decides what
/// the items are.
fn item_lines(chunk: &str, first_line: usize) -> Vec<usize> {
    let mut lines = chunk.split_inclusive('\n').enumerate();
    if !lines.any(|(_, l)| l.trim_end() == "items:") {
        return Vec::new();
    }
    let mut indent = None;
    let mut starts = Vec::new();
    for (i, line) in lines {
        let body = line.trim_start_matches(' ');
        let at = line.len() - body.len();
        let body = body.trim_end();
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let entry = body == "-" || body.starts_with("- ");
        match indent {
            None if entry => indent = Some(at),
            // `items:` followed by anything but a block sequence.
            None => break,
            Some(i0) if at < i0 || (at == i0 && !entry) => break,
            _ => {}
        }
        if entry && Some(at) == indent {
            starts.push(first_line + i);
        }
    }
    starts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_numbers_documents_skipping_empty_ones() {
        let text = "# header\n---\na: 1\n---\n# only a comment\n---\n\nb: 2\n--- {c: 3}\n";
        let docs = split_documents(text);
        let summary: Vec<(usize, usize)> = docs.iter().map(|d| (d.index, d.line)).collect();
        assert_eq!(summary, [(1, 3), (2, 8), (3, 9)]);
        assert!(docs.iter().all(|d| d.value.is_ok()));
    }

    #[test]
    fn syntax_errors_keep_whole_text_lines_and_spoil_only_their_document() {
        let text = "a: 1\n---\nb: [1,\n  c: d\n---\ne: 5\n";
        let docs = split_documents(text);
        assert_eq!(docs.len(), 3);
        let err = docs[1].value.as_ref().expect_err("broken document");
        // The flow sequence is still open at the end of the document's text (line 5).
        assert_eq!(err.location().map(|l| l.line()), Some(5));
        assert_eq!(docs[1].line, 3);
        assert!(docs[2].value.is_ok());
    }

    #[test]
    fn an_empty_text_has_no_documents() {
        assert!(split_documents("").is_empty());
        assert!(split_documents("# nothing\n---\n").is_empty());
        assert!(split_documents("\u{feff}---\n").is_empty());
    }

    #[test]
    fn list_items_are_located_at_either_indentation() {
        let text = "apiVersion: v1\nitems:\n- a: 1\n  b:\n  - x\n-\n  a: 2\nkind: List\n";
        assert_eq!(split_documents(text)[0].item_lines, [3, 6]);
        let text = "# c\n---\nkind: List\nitems:\n  # note\n  - a: 1\n    b: [1]\n  - a: 2\nmetadata: {}\n";
        assert_eq!(split_documents(text)[0].item_lines, [6, 8]);
        assert!(split_documents("items: [1, 2]\n")[0].item_lines.is_empty());
        assert!(split_documents("a: 1\n")[0].item_lines.is_empty());
    }

    #[test]
    fn indented_dashes_do_not_separate() {
        let text = "a: |\n  ---\n  text\nb: 1\n";
        let docs = split_documents(text);
        assert_eq!(docs.len(), 1);
        assert!(docs[0].value.is_ok());
    }
}
