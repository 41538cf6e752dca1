//! Reading a parsed YAML document field by field, the way the API server decodes a custom
//! resource: a wrong type, a missing required field or an unparsable duration or quantity is a
//! problem at its field path, and reading goes on so that every problem is reported. Fields the
//! schema does not know are notes, because the API server prunes them without complaint.
//!
//! A YAML `null` reads as an absent field, as it does for the non-nullable fields of a CRD.

use yaml_serde::{Mapping, Value};

use crate::engine::policy::{Duration, Quantity};
use crate::kthena::field::{quote, FieldPath, Findings};

/// A value and where it sits in the object.
#[derive(Debug, Clone)]
pub(crate) struct Node<'v> {
    pub(crate) value: &'v Value,
    pub(crate) path: FieldPath,
}

impl<'v> Node<'v> {
    pub(crate) fn new(value: &'v Value, path: FieldPath) -> Self {
        Node {
            value: untagged(value),
            path,
        }
    }

    fn type_error(&self, f: &mut Findings, expected: &str) {
        f.invalid(
            &self.path,
            &render(self.value),
            &format!("must be of type {expected}"),
        );
    }

    pub(crate) fn string(&self, f: &mut Findings) -> Option<String> {
        match self.value {
            Value::String(s) => Some(s.clone()),
            _ => {
                self.type_error(f, "string");
                None
            }
        }
    }

    fn integer(&self, f: &mut Findings) -> Option<i64> {
        let Value::Number(n) = self.value else {
            self.type_error(f, "integer");
            return None;
        };
        if let Some(i) = n.as_i64() {
            return Some(i);
        }
        // `10.0` is an integer to the API server: YAML is converted to JSON first, and a
        // whole float is written without its fraction.
        match n.as_f64() {
            Some(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => Some(x as i64),
            _ => {
                self.type_error(f, "integer");
                None
            }
        }
    }

    pub(crate) fn int32(&self, f: &mut Findings) -> Option<i32> {
        let i = self.integer(f)?;
        match i32::try_from(i) {
            Ok(v) => Some(v),
            Err(_) => {
                self.type_error(f, "int32");
                None
            }
        }
    }

    pub(crate) fn int64(&self, f: &mut Findings) -> Option<i64> {
        self.integer(f)
    }

    /// A `metav1.Duration`: a string in Go's `time.ParseDuration` syntax.
    pub(crate) fn duration(&self, f: &mut Findings) -> Option<Duration> {
        let Value::String(s) = self.value else {
            // The CRD types durations as strings, so a bare YAML `30` or `0` is refused.
            self.type_error(f, "string (a Go duration such as \"30s\" or \"0\")");
            return None;
        };
        match Duration::parse(s) {
            Ok(d) => Some(d),
            Err(e) => {
                f.invalid(&self.path, &quote(s), &e.to_string());
                None
            }
        }
    }

    /// A `resource.Quantity` (`int-or-string`): a number is taken by its text, a string must
    /// match the quantity pattern.
    pub(crate) fn quantity(&self, f: &mut Findings) -> Option<Quantity> {
        let (parsed, shown) = match self.value {
            Value::String(s) => (Quantity::parse(s), quote(s)),
            Value::Number(n) => {
                let text = n.to_string();
                (Quantity::from_number_text(&text), text)
            }
            _ => {
                self.type_error(f, "int-or-string");
                return None;
            }
        };
        match parsed {
            Ok(q) => Some(q),
            Err(e) => {
                f.invalid(&self.path, &shown, &e.to_string());
                None
            }
        }
    }

    /// The items of a list, each with its indexed path.
    pub(crate) fn sequence(&self, f: &mut Findings) -> Option<Vec<Node<'v>>> {
        match self.value {
            Value::Sequence(items) => Some(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| Node::new(v, self.path.index(i)))
                    .collect(),
            ),
            _ => {
                self.type_error(f, "array");
                None
            }
        }
    }

    /// The entries of a `map<string, T>`, each with its keyed path, in document order.
    pub(crate) fn entries(&self, f: &mut Findings) -> Option<Vec<(String, Node<'v>)>> {
        let map = self.mapping(f)?;
        let mut out = Vec::with_capacity(map.len());
        for (k, v) in map {
            match k {
                Value::String(key) => out.push((key.clone(), Node::new(v, self.path.key(key)))),
                other => f.invalid(&self.path, &render(other), "map keys must be strings"),
            }
        }
        Some(out)
    }

    /// A `map<string, string>` such as `matchLabels`.
    pub(crate) fn string_map(&self, f: &mut Findings) -> Option<Vec<(String, String)>> {
        let entries = self.entries(f)?;
        Some(
            entries
                .into_iter()
                .filter_map(|(k, n)| n.string(f).map(|v| (k, v)))
                .collect(),
        )
    }

    fn mapping(&self, f: &mut Findings) -> Option<&'v Mapping> {
        match self.value {
            Value::Mapping(m) => Some(m),
            _ => {
                self.type_error(f, "object");
                None
            }
        }
    }

    /// Starts reading this value as an object with known fields.
    pub(crate) fn fields(&self, f: &mut Findings) -> Option<Fields<'v>> {
        Some(Fields {
            map: self.mapping(f)?,
            path: self.path.clone(),
            taken: Vec::new(),
        })
    }
}

/// An object being read. Fields are taken by name; [`Fields::finish`] then notes the rest as
/// unknown.
pub(crate) struct Fields<'v> {
    map: &'v Mapping,
    path: FieldPath,
    taken: Vec<&'static str>,
}

impl<'v> Fields<'v> {
    pub(crate) fn path(&self) -> &FieldPath {
        &self.path
    }

    /// Whether the field is present and not null, without taking it.
    pub(crate) fn has(&self, key: &str) -> bool {
        self.map.get(key).is_some_and(|v| !v.is_null())
    }

    /// The field, if present and not null.
    pub(crate) fn take(&mut self, key: &'static str) -> Option<Node<'v>> {
        self.taken.push(key);
        match self.map.get(key) {
            Some(v) if !v.is_null() => Some(Node::new(v, self.path.child(key))),
            _ => None,
        }
    }

    /// The field; its absence is a `Required value` problem.
    pub(crate) fn require(&mut self, key: &'static str, f: &mut Findings) -> Option<Node<'v>> {
        let node = self.take(key);
        if node.is_none() {
            f.required(&self.path.child(key), "");
        }
        node
    }

    /// Takes a field that is accepted but not used here.
    pub(crate) fn skip(&mut self, key: &'static str) {
        self.taken.push(key);
    }

    /// Notes every field that was not taken: the API server prunes unknown fields.
    pub(crate) fn finish(self, f: &mut Findings) {
        for (path, hint) in self.unknown() {
            f.note_with_hint(
                &path,
                "unknown field, ignored (the API server prunes it)",
                hint,
            );
        }
    }

    /// Refuses every field that was not taken: built-in kinds and the CRDs of HPA, KEDA and
    /// Knative are applied with kubectl's strict field validation, which rejects them.
    pub(crate) fn finish_strict(self, f: &mut Findings) {
        for (path, hint) in self.unknown() {
            let mut d = crate::diagnostic::Diagnostic::error(path, "unknown field");
            d.hint = hint;
            f.problems.push(d);
        }
    }

    /// The fields not taken, each with a spelling hint when one is close to a known field.
    fn unknown(&self) -> Vec<(FieldPath, Option<String>)> {
        let mut out = Vec::new();
        for key in self.map.keys() {
            let known = key.as_str().is_some_and(|k| self.taken.contains(&k));
            if !known {
                let name = match key {
                    Value::String(s) => s.clone(),
                    other => render(other),
                };
                let hint = crate::kthena::warnings::did_you_mean(&name, self.taken.iter().copied())
                    .map(|k| format!("did you mean `{k}`?"));
                out.push((self.path.child(&name), hint));
            }
        }
        out
    }
}

/// Tags (`!foo 3`) mean nothing to the API server's JSON view; the tagged value is read.
fn untagged(v: &Value) -> &Value {
    match v {
        Value::Tagged(t) => untagged(&t.value),
        other => other,
    }
}

/// A value as it appears in an `Invalid value:` message.
pub(crate) fn render(v: &Value) -> String {
    match untagged(v) {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => quote(s),
        Value::Sequence(_) => quote("array"),
        Value::Mapping(_) => quote("object"),
        Value::Tagged(_) => quote("tagged value"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read<T>(
        yaml: &str,
        read: impl Fn(&Node, &mut Findings) -> Option<T>,
    ) -> (Option<T>, Vec<String>) {
        let v: Value = yaml_serde::from_str(yaml).expect("test YAML parses");
        let mut f = Findings::default();
        let out = read(&Node::new(&v, FieldPath::new("x")), &mut f);
        (out, f.problems.into_iter().map(|p| p.message).collect())
    }

    #[test]
    fn integers_accept_whole_floats_only() {
        assert_eq!(read("10", |n, f| n.int32(f)).0, Some(10));
        assert_eq!(read("10.0", |n, f| n.int32(f)).0, Some(10));
        assert_eq!(read("1e3", |n, f| n.int32(f)).0, Some(1000));
        let (v, errs) = read("1.5", |n, f| n.int32(f));
        assert_eq!(
            (v, errs),
            (
                None,
                vec!["Invalid value: 1.5: must be of type integer".to_string()]
            )
        );
        let (v, errs) = read("\"10\"", |n, f| n.int32(f));
        assert_eq!(
            (v, errs),
            (
                None,
                vec!["Invalid value: \"10\": must be of type integer".to_string()]
            )
        );
        let (v, errs) = read("3000000000", |n, f| n.int32(f));
        assert_eq!(
            (v, errs),
            (
                None,
                vec!["Invalid value: 3000000000: must be of type int32".to_string()]
            )
        );
    }

    #[test]
    fn durations_use_go_syntax() {
        for (yaml, ms) in [
            ("1m30s", 90_000),
            ("\"0\"", 0),
            ("500ms", 500),
            ("-1s", -1000),
        ] {
            assert_eq!(
                read(yaml, |n, f| n.duration(f))
                    .0
                    .map(Duration::milliseconds),
                Some(ms),
                "{yaml}"
            );
        }
        let (v, errs) = read("1d", |n, f| n.duration(f));
        assert!(v.is_none());
        assert_eq!(
            errs,
            ["Invalid value: \"1d\": time: unknown unit in duration \"1d\""]
        );
        // A bare YAML number is not a string.
        let (v, errs) = read("30", |n, f| n.duration(f));
        assert!(v.is_none());
        assert_eq!(
            errs,
            ["Invalid value: 30: must be of type string (a Go duration such as \"30s\" or \"0\")"]
        );
    }

    #[test]
    fn quantities_take_numbers_by_their_text() {
        for (yaml, value) in [
            ("10", 10.0),
            ("10.0", 10.0),
            ("\"500m\"", 0.5),
            ("\"1.5\"", 1.5),
            ("\"2k\"", 2000.0),
            ("0.25", 0.25),
            ("\"1Ki\"", 1024.0),
        ] {
            let q = read(yaml, |n, f| n.quantity(f)).0;
            assert_eq!(q.map(|q| q.as_f64()), Some(value), "{yaml}");
        }
        let (v, errs) = read("\"ten\"", |n, f| n.quantity(f));
        assert!(v.is_none());
        assert!(
            errs[0].starts_with("Invalid value: \"ten\": quantities must match"),
            "{errs:?}"
        );
        let (v, errs) = read(".inf", |n, f| n.quantity(f));
        assert!(v.is_none() && errs.len() == 1);
        let (v, errs) = read("[1]", |n, f| n.quantity(f));
        assert!(v.is_none());
        assert_eq!(
            errs,
            ["Invalid value: \"array\": must be of type int-or-string"]
        );
    }

    #[test]
    fn unknown_fields_are_notes_and_null_is_absent() {
        let v: Value = yaml_serde::from_str("a: 1\nb: ~\nc: 3").expect("parses");
        let mut f = Findings::default();
        let mut obj = Node::new(&v, FieldPath::new("spec"))
            .fields(&mut f)
            .expect("mapping");
        assert!(obj.take("a").is_some());
        assert!(obj.require("b", &mut f).is_none());
        obj.finish(&mut f);
        assert_eq!(f.problems[0].path.as_str(), "spec.b");
        assert_eq!(f.notes.len(), 1);
        assert_eq!(f.notes[0].path.as_str(), "spec.c");
    }
}
