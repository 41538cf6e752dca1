//! Durations in the scenario file, written as Kubernetes writes them (Go's
//! `time.ParseDuration`: `"30s"`, `"10m"`, `"1h30m"`, `"250ms"`), so that one syntax serves
//! the policy manifests and the scenario alike.

use std::borrow::Cow;
use std::fmt;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, Deserialize, Deserializer, Unexpected, Visitor};

use crate::engine::policy::Duration;
use crate::sim::SimDuration;

/// What a duration looks like, for error messages and the schema.
const EXPECTED: &str =
    "a duration with a unit (h, m, s, ms, us, ns), such as \"30s\", \"10m\" or \"1h30m\"";

/// The strings [`Duration::parse`] accepts for a duration that is not negative, as the
/// schema's `pattern` (ECMA-262 and `regex` syntax alike): an optional `+`, then `0` or
/// number-unit pairs (`1h30m`, `1.5s`, `.5s`, `2.m`); the units `µs` and `μs` are written as
/// escapes. Two differences, both left to the parser's own message: `-` is refused here
/// though the parser takes it before a zero (`-0s`), and values beyond Go's range (about
/// 292 years) pass here.
const PATTERN: &str = r"^\+?(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|\u00B5s|\u03BCs|ms|s|m|h))+)$";

/// A non-negative duration from the scenario file, in simulated microseconds (anything
/// finer than a microsecond is dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SpecDuration(SimDuration);

impl SpecDuration {
    pub const fn new(d: SimDuration) -> Self {
        SpecDuration(d)
    }

    pub const fn get(self) -> SimDuration {
        self.0
    }
}

/// Go's canonical form (`"10m0s"`), so messages quote durations the way they can be written.
impl fmt::Display for SpecDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Duration::from_nanos(self.0.as_micros().saturating_mul(1_000)).fmt(f)
    }
}

impl<'de> Deserialize<'de> for SpecDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(SpecDurationVisitor)
    }
}

struct SpecDurationVisitor;

impl Visitor<'_> for SpecDurationVisitor {
    type Value = SpecDuration;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(EXPECTED)
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<SpecDuration, E> {
        let d = Duration::parse(s).map_err(|_| E::invalid_value(Unexpected::Str(s), &self))?;
        if d.as_nanos() < 0 {
            return Err(E::invalid_value(
                Unexpected::Str(s),
                &"a duration that is not negative",
            ));
        }
        Ok(SpecDuration(SimDuration::from_micros(d.as_nanos() / 1_000)))
    }

    /// A bare `0` needs no unit, as in Go; any other bare number is refused, because a
    /// reader cannot tell whether `30` meant seconds or minutes.
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<SpecDuration, E> {
        if v == 0 {
            Ok(SpecDuration(SimDuration::ZERO))
        } else {
            Err(E::invalid_value(Unexpected::Unsigned(v), &self))
        }
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<SpecDuration, E> {
        if v == 0 {
            Ok(SpecDuration(SimDuration::ZERO))
        } else {
            Err(E::invalid_value(Unexpected::Signed(v), &self))
        }
    }
}

impl JsonSchema for SpecDuration {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": format!("{EXPECTED}; a bare 0 is also accepted."),
            "anyOf": [{ "type": "string", "pattern": PATTERN }, { "const": 0 }],
            "examples": ["30s", "10m", "1h30m", "250ms"],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<SpecDuration, String> {
        yaml_serde::from_str(yaml).map_err(|e| e.to_string())
    }

    #[test]
    fn go_syntax_in_microseconds() {
        let us = |n| Ok(SpecDuration(SimDuration::from_micros(n)));
        assert_eq!(parse("30s"), us(30_000_000));
        assert_eq!(parse("1h30m"), us(5_400_000_000));
        assert_eq!(parse("250ms"), us(250_000));
        assert_eq!(parse("1.5us"), us(1));
        assert_eq!(parse("0"), us(0));
        assert_eq!(parse("\"0\""), us(0));
        let d = SpecDuration(SimDuration::from_secs(5_400));
        assert_eq!(d.to_string(), "1h30m0s");
    }

    /// The schema's pattern says yes exactly where the scenario's reading does, but for the
    /// two differences [`PATTERN`] names.
    #[test]
    fn the_schema_pattern_agrees_with_the_parser() {
        let pattern = regex::Regex::new(PATTERN).unwrap();
        // What the scenario accepts: Go's syntax, not negative (as `Problems::duration`).
        let reads = |s: &str| Duration::parse(s).is_ok_and(|d| d.as_nanos() >= 0);
        let valid = [
            "0",
            "+0",
            "0s",
            "00s",
            "007m",
            "30s",
            "90s",
            "2m",
            "1h30m",
            "500ms",
            "250ms",
            "1h0m0s",
            "1m30s500ms",
            "1h1h",
            "1.5h",
            ".5s",
            "1.s",
            "2.m",
            "0.0s",
            "+15s",
            "10us",
            "10\u{b5}s",
            "10\u{3bc}s",
            "5ns",
            "1.000000000000000000000001s",
            "2562047h",
        ];
        let invalid = [
            "",
            "+",
            "-",
            "30",
            "0.0",
            "00",
            "1",
            "s",
            "ms",
            "1d",
            "1w",
            "1 s",
            " 1s",
            "1s ",
            "1S",
            "1H",
            "1hr",
            "1sec",
            "1mss",
            "1sm",
            "1.5",
            ".s",
            ".",
            "1..5s",
            "1.5.5s",
            "1e3s",
            "-5s",
            "-1h",
            "+-1s",
            "++1s",
            "1h-30m",
            "1h 30m",
            "1h+30m",
            "1_000s",
            "0x10s",
            "\u{b5}s",
            "1\u{b5}",
            "1u s",
            "1ns1",
            "NaN",
            "inf",
            "infs",
            "\u{ff11}s",
            "\u{663}s",
            "1\u{3bc}",
            "1\u{b5}ss",
        ];
        for s in valid {
            assert!(reads(s), "the parser refuses {s:?}");
            assert!(pattern.is_match(s), "the pattern refuses {s:?}");
        }
        for s in invalid {
            assert!(!reads(s), "the parser accepts {s:?}");
            assert!(!pattern.is_match(s), "the pattern accepts {s:?}");
        }
        // The known differences: a sign before a zero, and values out of Go's range.
        for s in ["-0", "-0s", "-0.0h", "-0.5ns"] {
            assert!(reads(s) && !pattern.is_match(s), "{s:?}");
        }
        for s in ["2562048h", "9223372036854775808ns", "99999999999999999999s"] {
            assert!(!reads(s) && pattern.is_match(s), "{s:?}");
        }
    }

    #[test]
    fn refusals_say_what_is_expected() {
        for bad in ["30", "10 min", "1d", "-5s", "1.5"] {
            let err = parse(bad).expect_err(bad);
            assert!(err.contains("expected a duration"), "{bad}: {err}");
        }
    }
}
