//! The user's `--selector '{namespace="llm",modelserving="chat"}'`: label matchers, checked
//! by Prometheus' own grammar, that every query of the series adds to its own.

use promql_parser::label::MatchOp;
use promql_parser::parser::{parse, Expr};

use crate::model::openmetrics::push_quoted;

/// Label matchers, rendered as PromQL (`k="v"`, `k=~"re"`, …).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector {
    matchers: Vec<String>,
}

impl Selector {
    /// `{…}` of label matchers; empty text or `{}` matches every series.
    pub fn parse(text: &str) -> Result<Selector, String> {
        let text = text.trim();
        if text.is_empty() || text.replace(' ', "") == "{}" {
            return Ok(Selector::default());
        }
        let bad = |why: String| {
            format!("--selector {text:?}: {why} (expected e.g. '{{namespace=\"llm\",modelserving=\"chat\"}}')")
        };
        if !text.starts_with('{') {
            return Err(bad(
                "give only label matchers in braces, no metric name".into()
            ));
        }
        let Ok(Expr::VectorSelector(vs)) = parse(text).map_err(|e| bad(e.trim().to_string()))
        else {
            return Err(bad("not a series selector".into()));
        };
        if !vs.matchers.or_matchers.is_empty() {
            return Err(bad("`or` between matchers is not supported".into()));
        }
        let mut matchers = Vec::new();
        for m in &vs.matchers.matchers {
            if m.name == "__name__" {
                return Err(bad("the metric name is chosen by the command".into()));
            }
            matchers.push(matcher(&m.name, op(&m.op), &m.value));
        }
        Ok(Selector { matchers })
    }

    /// The selector of the series named one of `names` that also match `extra` (label,
    /// value) pairs exactly and the user's matchers.
    pub fn series(&self, names: &[&str], extra: &[(&str, &str)]) -> String {
        let names = names
            .iter()
            .map(|n| regex_escape(n))
            .collect::<Vec<_>>()
            .join("|");
        let mut all = vec![matcher("__name__", "=~", &names)];
        all.extend(extra.iter().map(|(k, v)| matcher(k, "=", v)));
        all.extend(self.matchers.iter().cloned());
        format!("{{{}}}", all.join(","))
    }
}

fn op(op: &MatchOp) -> &'static str {
    match op {
        MatchOp::Equal => "=",
        MatchOp::NotEqual => "!=",
        MatchOp::Re(_) => "=~",
        MatchOp::NotRe(_) => "!~",
    }
}

fn matcher(name: &str, op: &str, value: &str) -> String {
    let mut s = format!("{name}{op}");
    push_quoted(&mut s, value);
    s
}

/// A metric name as a regular expression matching only itself (names may hold `:` and `_`
/// only besides letters and digits, but be safe).
fn regex_escape(name: &str) -> String {
    let mut s = String::new();
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() && c != '_' && c != ':' {
            s.push('\\');
        }
        s.push(c);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matchers_are_kept_and_joined_with_the_names() {
        let s = Selector::parse(r#"{namespace="llm", pod=~"chat-.*"}"#).unwrap();
        assert_eq!(
            s.series(&["a:b_total", "c_bucket"], &[("modelserving", "chat")]),
            r#"{__name__=~"a:b_total|c_bucket",modelserving="chat",namespace="llm",pod=~"chat-.*"}"#
        );
        assert_eq!(Selector::parse("").unwrap(), Selector::default());
        assert_eq!(Selector::parse("{ }").unwrap(), Selector::default());
        assert_eq!(
            Selector::default().series(&["x.y"], &[("k", "a\"b")]),
            r#"{__name__=~"x\\.y",k="a\"b"}"#
        );
    }

    #[test]
    fn names_or_and_bad_syntax_are_refused() {
        for (text, why) in [
            (r#"up{a="b"}"#, "no metric name"),
            (r#"{__name__="up"}"#, "chosen by the command"),
            (r#"{a="b" or c="d"}"#, "`or`"),
            (r#"{a="b""#, "--selector"),
        ] {
            let e = Selector::parse(text).unwrap_err();
            assert!(e.contains(why), "{text}: {e}");
        }
    }
}
