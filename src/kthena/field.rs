//! Field paths and field-error texts in the form of Kubernetes'
//! `k8s.io/apimachinery/pkg/util/validation/field`: every finding names the field a user would
//! look for (`spec.metrics[1].name`, `spec.disaggregatedTarget.roles[prefill]`) and says what is
//! wrong in the words the API server and Kthena's webhooks use (`Required value`,
//! `Invalid value: 150: ...`). This module only formats; it judges nothing.

use std::fmt;

/// A path to a field, rendered the way `field.Path.String()` does.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct FieldPath(String);

impl FieldPath {
    pub(crate) fn new(root: &str) -> Self {
        FieldPath(root.to_string())
    }

    pub(crate) fn child(&self, name: &str) -> Self {
        if self.0.is_empty() {
            FieldPath(name.to_string())
        } else {
            FieldPath(format!("{}.{name}", self.0))
        }
    }

    pub(crate) fn index(&self, i: usize) -> Self {
        FieldPath(format!("{}[{i}]", self.0))
    }

    /// A map entry: `roles[prefill]`, as `field.Path.Key` renders it.
    pub(crate) fn key(&self, key: &str) -> Self {
        FieldPath(format!("{}[{key}]", self.0))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One finding about one field; `path` is empty when the finding concerns the whole document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldFinding {
    pub(crate) path: String,
    pub(crate) message: String,
}

/// The problems (the API server would refuse the object) and notes (it would accept it, but the
/// user may not get what they meant) of one document, in the order they were found.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    pub(crate) problems: Vec<FieldFinding>,
    pub(crate) notes: Vec<FieldFinding>,
}

impl Findings {
    pub(crate) fn problem(&mut self, path: &FieldPath, message: impl Into<String>) {
        self.problems.push(FieldFinding {
            path: path.as_str().to_string(),
            message: message.into(),
        });
    }

    pub(crate) fn note(&mut self, path: &FieldPath, message: impl Into<String>) {
        self.notes.push(FieldFinding {
            path: path.as_str().to_string(),
            message: message.into(),
        });
    }

    /// `field.Required`.
    pub(crate) fn required(&mut self, path: &FieldPath, detail: &str) {
        if detail.is_empty() {
            self.problem(path, "Required value");
        } else {
            self.problem(path, format!("Required value: {detail}"));
        }
    }

    /// `field.Invalid`; `value` is already rendered (see [`quote`] for strings).
    pub(crate) fn invalid(&mut self, path: &FieldPath, value: &str, detail: &str) {
        self.problem(path, format!("Invalid value: {value}: {detail}"));
    }

    /// `field.NotSupported`.
    pub(crate) fn unsupported(&mut self, path: &FieldPath, value: &str, supported: &[&str]) {
        let list: Vec<String> = supported.iter().map(|s| quote(s)).collect();
        self.problem(
            path,
            format!(
                "Unsupported value: {}: supported values: {}",
                quote(value),
                list.join(", ")
            ),
        );
    }

    /// `field.Forbidden`.
    pub(crate) fn forbidden(&mut self, path: &FieldPath, detail: &str) {
        self.problem(path, format!("Forbidden: {detail}"));
    }

    /// `field.InternalError`.
    pub(crate) fn internal(&mut self, path: &FieldPath, detail: &str) {
        self.problem(path, format!("Internal error: {detail}"));
    }
}

/// A string value as Go's `%q` prints it in field errors.
pub(crate) fn quote(s: &str) -> String {
    format!("{s:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_render_like_kubernetes() {
        let spec = FieldPath::new("spec");
        assert_eq!(
            spec.child("metrics").index(1).child("name").as_str(),
            "spec.metrics[1].name"
        );
        assert_eq!(
            spec.child("disaggregatedTarget")
                .child("roles")
                .key("prefill")
                .as_str(),
            "spec.disaggregatedTarget.roles[prefill]"
        );
        assert_eq!(
            FieldPath::default().child("apiVersion").as_str(),
            "apiVersion"
        );
    }

    #[test]
    fn messages_follow_field_error_format() {
        let mut f = Findings::default();
        let p = FieldPath::new("spec").child("x");
        f.required(&p, "");
        f.invalid(&p, "150", "should be less than or equal to 100");
        f.unsupported(&p, "Xor", &["Or", "And"]);
        let msgs: Vec<&str> = f.problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(
            msgs,
            [
                "Required value",
                "Invalid value: 150: should be less than or equal to 100",
                "Unsupported value: \"Xor\": supported values: \"Or\", \"And\"",
            ]
        );
    }
}
