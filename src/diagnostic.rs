//! Problems with what a user wrote, in one shape for every reader (manifests, scenarios,
//! workloads, `--set` settings): a severity, the file, the place in it (a line and column, or
//! a YAML document and its first line), the field path, what is wrong, and optionally a hint.
//! Readers collect them all ([`Diagnostics`]), so a user fixes every problem in one go; the
//! command line decides how they end (errors: exit 2; warnings: shown, or refused with
//! `--deny-warnings`).

use std::fmt;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The input cannot be used.
    Error,
    /// Accepted, but it cannot do what its author meant (a policy that can never scale).
    Warning,
    /// Accepted; worth knowing (an unknown field the API server prunes, an ignored kind).
    Note,
}

/// A path to a field, rendered the way Kubernetes' `field.Path.String()` does:
/// `spec.metrics[1].name`, `roles[prefill]`, `servings[0].startup`.
#[derive(Debug, Clone, PartialEq, Eq, Default, PartialOrd, Ord)]
pub struct FieldPath(String);

impl FieldPath {
    /// A path starting at field `root` (`""`: the document as a whole).
    pub fn new(root: &str) -> Self {
        FieldPath(root.to_string())
    }

    /// The field `name` under this one.
    pub fn child(&self, name: &str) -> Self {
        if self.0.is_empty() {
            FieldPath(name.to_string())
        } else {
            FieldPath(format!("{}.{name}", self.0))
        }
    }

    /// Element `i` of this list.
    pub fn index(&self, i: usize) -> Self {
        FieldPath(format!("{}[{i}]", self.0))
    }

    /// A map entry or a list element chosen by name: `roles[prefill]`.
    pub fn key(&self, key: &str) -> Self {
        FieldPath(format!("{}[{key}]", self.0))
    }

    /// This path under `prefix` (`streams[0].rate` under `workload`).
    pub fn under(&self, prefix: &FieldPath) -> Self {
        if self.0.is_empty() {
            prefix.clone()
        } else if prefix.0.is_empty() {
            self.clone()
        } else if self.0.starts_with('[') {
            FieldPath(format!("{}{}", prefix.0, self.0))
        } else {
            FieldPath(format!("{}.{}", prefix.0, self.0))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for FieldPath {
    fn from(s: &str) -> Self {
        FieldPath::new(s)
    }
}

impl From<&FieldPath> for FieldPath {
    fn from(p: &FieldPath) -> Self {
        p.clone()
    }
}

impl From<String> for FieldPath {
    fn from(s: String) -> Self {
        FieldPath(s)
    }
}

/// Where in its file a diagnostic points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Place {
    /// The file as a whole, or a place its field path is enough to find.
    #[default]
    File,
    /// A line (1-based), and a column where known.
    Line { line: usize, column: Option<usize> },
    /// A document of a multi-document YAML file (1-based among the non-empty ones), the item
    /// of a `kind: List` document (1-based) when it is one, and the line where its content
    /// starts.
    Document {
        document: usize,
        item: Option<usize>,
        line: usize,
    },
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::File => Ok(()),
            Place::Line { line, column: None } => write!(f, "line {line}"),
            Place::Line {
                line,
                column: Some(c),
            } => write!(f, "line {line}, column {c}"),
            Place::Document {
                document,
                item: None,
                line,
            } => write!(f, "document {document} (line {line})"),
            Place::Document {
                document,
                item: Some(item),
                line,
            } => write!(f, "document {document}, item {item} (line {line})"),
        }
    }
}

/// One problem, warning or note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The file as the user named it; `None` while the reader does not know it (a text read
    /// from memory), until [`Diagnostics::in_file`].
    pub file: Option<String>,
    pub place: Place,
    /// Empty when the diagnostic concerns the whole file or document.
    pub path: FieldPath,
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn error(path: impl Into<FieldPath>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            file: None,
            place: Place::File,
            path: path.into(),
            message: message.into(),
            hint: None,
        }
    }

    pub fn warning(path: impl Into<FieldPath>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(path, message)
        }
    }

    pub fn note(path: impl Into<FieldPath>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Note,
            ..Diagnostic::error(path, message)
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn at(mut self, place: Place) -> Self {
        self.place = place;
        self
    }

    pub fn in_file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self
    }

    /// The diagnostic with its path under `prefix`.
    pub fn with_path_under(mut self, prefix: &FieldPath) -> Self {
        self.path = self.path.under(prefix);
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// `FILE: PLACE: PATH: message; hint` — the parts that are known, in that order; warnings
/// and notes are not prefixed here (the command line says `warning:` or `note:`).
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        if let Some(file) = &self.file {
            parts.push(file.clone());
        }
        if self.place != Place::File {
            parts.push(self.place.to_string());
        }
        if !self.path.is_empty() {
            parts.push(self.path.to_string());
        }
        parts.push(self.message.clone());
        f.write_str(&parts.join(": "))?;
        if let Some(hint) = &self.hint {
            write!(f, "; {hint}")?;
        }
        Ok(())
    }
}

/// The diagnostics of one reading, in the order they were found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(Vec<Diagnostic>);

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    /// An error at `path`.
    pub fn error(&mut self, path: impl Into<FieldPath>, message: impl Into<String>) {
        self.push(Diagnostic::error(path, message));
    }

    /// A warning at `path`.
    pub fn warning(&mut self, path: impl Into<FieldPath>, message: impl Into<String>) {
        self.push(Diagnostic::warning(path, message));
    }

    /// A note at `path`.
    pub fn note(&mut self, path: impl Into<FieldPath>, message: impl Into<String>) {
        self.push(Diagnostic::note(path, message));
    }

    /// Adds an error unless `ok`; returns `ok`.
    pub fn check(&mut self, ok: bool, path: impl Into<FieldPath>, message: &str) -> bool {
        if !ok {
            self.error(path, message);
        }
        ok
    }

    /// Adds `other`'s diagnostics with their paths under `prefix`.
    pub fn extend_under(&mut self, prefix: &FieldPath, other: Diagnostics) {
        self.0
            .extend(other.0.into_iter().map(|d| d.with_path_under(prefix)));
    }

    /// Names the file of every diagnostic that does not name one yet.
    pub fn in_file(mut self, file: &str) -> Self {
        for d in &mut self.0 {
            if d.file.is_none() {
                d.file = Some(file.to_string());
            }
        }
        self
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(|d| d.is_error())
    }

    pub fn of(&self, severity: Severity) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(move |d| d.severity == severity)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.0
    }
}

impl Extend<Diagnostic> for Diagnostics {
    fn extend<I: IntoIterator<Item = Diagnostic>>(&mut self, iter: I) {
        self.0.extend(iter);
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// The diagnostics of a reading that failed: one line each.
impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&lines.join("\n"))
    }
}

impl std::error::Error for Diagnostics {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_render_as_kubernetes_field_paths() {
        let p = FieldPath::new("spec")
            .child("metrics")
            .index(1)
            .child("name");
        assert_eq!(p.as_str(), "spec.metrics[1].name");
        assert_eq!(
            FieldPath::new("roles").key("prefill").as_str(),
            "roles[prefill]"
        );
        let rel = FieldPath::new("streams").index(0).child("rate");
        assert_eq!(
            rel.under(&"workload".into()).as_str(),
            "workload.streams[0].rate"
        );
        assert_eq!(
            FieldPath::new("[2]").under(&"policies".into()).as_str(),
            "policies[2]"
        );
    }

    #[test]
    fn a_diagnostic_shows_the_parts_it_knows() {
        let d = Diagnostic::error("spec.minReplicas", "Invalid value: 0")
            .in_file("p.yaml")
            .at(Place::Document {
                document: 2,
                item: None,
                line: 14,
            });
        assert_eq!(
            d.to_string(),
            "p.yaml: document 2 (line 14): spec.minReplicas: Invalid value: 0"
        );
        let d = d.at(Place::Document {
            document: 1,
            item: Some(3),
            line: 40,
        });
        assert_eq!(
            d.to_string(),
            "p.yaml: document 1, item 3 (line 40): spec.minReplicas: Invalid value: 0"
        );
        let d = Diagnostic::warning("", "no rows")
            .in_file("t.csv")
            .at(Place::Line {
                line: 3,
                column: Some(7),
            })
            .with_hint("did you mean `x`?");
        assert_eq!(
            d.to_string(),
            "t.csv: line 3, column 7: no rows; did you mean `x`?"
        );
        assert_eq!(Diagnostic::error("seed", "bad").to_string(), "seed: bad");
    }

    #[test]
    fn errors_decide_and_warnings_do_not() {
        let mut all = Diagnostics::new();
        all.warning("a", "odd");
        all.note("b", "fyi");
        assert!(!all.has_errors());
        all.error("c", "wrong");
        assert!(all.has_errors());
        assert_eq!(all.errors().count(), 1);
        assert_eq!(all.of(Severity::Warning).count(), 1);
    }
}
