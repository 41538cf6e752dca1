//! Field-error texts in the form of Kubernetes' `k8s.io/apimachinery/pkg/util/validation/field`:
//! every finding names the field a user would look for (`spec.metrics[1].name`,
//! `spec.disaggregatedTarget.roles[prefill]`, a [`FieldPath`]) and says what is wrong in the
//! words the API server and Kthena's webhooks use (`Required value`, `Invalid value: 150:
//! ...`). This module only formats; it judges nothing.

use crate::diagnostic::Diagnostic;

pub(crate) use crate::diagnostic::FieldPath;

/// The problems (the API server would refuse the object) and notes (it would accept it, but the
/// user may not get what they meant) of one document, in the order they were found.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    pub(crate) problems: Vec<Diagnostic>,
    pub(crate) notes: Vec<Diagnostic>,
}

impl Findings {
    pub(crate) fn problem(&mut self, path: &FieldPath, message: impl Into<String>) {
        self.problems.push(Diagnostic::error(path.clone(), message));
    }

    pub(crate) fn note(&mut self, path: &FieldPath, message: impl Into<String>) {
        self.notes.push(Diagnostic::note(path.clone(), message));
    }

    /// A note with what to do about it.
    pub(crate) fn note_with_hint(
        &mut self,
        path: &FieldPath,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        let mut d = Diagnostic::note(path.clone(), message);
        d.hint = hint;
        self.notes.push(d);
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
