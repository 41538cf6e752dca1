//! Kubernetes `metav1.Duration`: Go's `time.ParseDuration` syntax, `Milliseconds()` and the
//! canonical `String()` form, bit for bit (docs/engine.md §3.1).

use std::fmt;
use std::str::FromStr;

/// A Go `time.Duration`: signed nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration {
    nanos: i64,
}

/// Why a duration string was refused, in the words of Go's `time.ParseDuration`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("time: {kind} {quoted}")]
pub struct DurationError {
    kind: &'static str,
    quoted: String,
}

const NANOSECOND: u64 = 1;
const MICROSECOND: u64 = 1_000;
const MILLISECOND: u64 = 1_000_000;
const SECOND: u64 = 1_000_000_000;
const MINUTE: u64 = 60 * SECOND;
const HOUR: u64 = 60 * MINUTE;

impl Duration {
    pub const ZERO: Duration = Duration { nanos: 0 };

    pub const fn from_nanos(nanos: i64) -> Self {
        Duration { nanos }
    }

    pub const fn from_millis(ms: i64) -> Self {
        Duration {
            nanos: ms.saturating_mul(1_000_000),
        }
    }

    pub const fn as_nanos(self) -> i64 {
        self.nanos
    }

    /// Go's `Duration.Milliseconds()`: whole milliseconds, truncated toward zero.
    pub const fn milliseconds(self) -> i64 {
        self.nanos / 1_000_000
    }

    /// Go's `Duration.Seconds()`, used by the webhook range check.
    pub fn seconds(self) -> f64 {
        let sec = self.nanos / SECOND as i64;
        let nsec = self.nanos % SECOND as i64;
        sec as f64 + nsec as f64 / 1e9
    }

    /// Go's `Duration.Minutes()`, used by the webhook range check.
    pub fn minutes(self) -> f64 {
        let min = self.nanos / MINUTE as i64;
        let nsec = self.nanos % MINUTE as i64;
        min as f64 + nsec as f64 / (60.0 * 1e9)
    }

    /// Go's `time.ParseDuration`.
    pub fn parse(s: &str) -> Result<Self, DurationError> {
        let orig = s;
        let err = |kind: &'static str| DurationError {
            kind,
            quoted: go_quote(orig),
        };
        let mut s = s.as_bytes();
        let mut neg = false;
        if let Some(&c) = s.first() {
            if c == b'-' || c == b'+' {
                neg = c == b'-';
                s = &s[1..];
            }
        }
        if s == b"0" {
            return Ok(Duration::ZERO);
        }
        if s.is_empty() {
            return Err(err("invalid duration"));
        }
        let mut d: u64 = 0;
        while !s.is_empty() {
            if !(s[0] == b'.' || s[0].is_ascii_digit()) {
                return Err(err("invalid duration"));
            }
            // The integer part.
            let pl = s.len();
            let (mut v, rest) = leading_int(s).ok_or_else(|| err("invalid duration"))?;
            s = rest;
            let pre = pl != s.len();
            // The fraction.
            let mut post = false;
            let mut f: u64 = 0;
            let mut scale: f64 = 1.0;
            if s.first() == Some(&b'.') {
                s = &s[1..];
                let pl = s.len();
                let (ff, sc, rest) = leading_fraction(s);
                f = ff;
                scale = sc;
                s = rest;
                post = pl != s.len();
            }
            if !pre && !post {
                return Err(err("invalid duration"));
            }
            // The unit.
            let i = s
                .iter()
                .position(|&c| c == b'.' || c.is_ascii_digit())
                .unwrap_or(s.len());
            if i == 0 {
                return Err(err("missing unit in duration"));
            }
            let unit = match &s[..i] {
                b"ns" => NANOSECOND,
                b"us" | b"\xC2\xB5s" | b"\xCE\xBCs" => MICROSECOND,
                b"ms" => MILLISECOND,
                b"s" => SECOND,
                b"m" => MINUTE,
                b"h" => HOUR,
                _ => return Err(err("unknown unit in duration")),
            };
            s = &s[i..];
            if v > (1u64 << 63) / unit {
                return Err(err("invalid duration"));
            }
            v *= unit;
            if f > 0 {
                v += (f as f64 * (unit as f64 / scale)) as u64;
                if v > 1u64 << 63 {
                    return Err(err("invalid duration"));
                }
            }
            d += v;
            if d > 1u64 << 63 {
                return Err(err("invalid duration"));
            }
        }
        if neg {
            return Ok(Duration {
                nanos: (d as i64).wrapping_neg(),
            });
        }
        if d > (1u64 << 63) - 1 {
            return Err(err("invalid duration"));
        }
        Ok(Duration { nanos: d as i64 })
    }
}

/// Go's `leadingInt`: the leading digits, or `None` on overflow.
fn leading_int(s: &[u8]) -> Option<(u64, &[u8])> {
    let mut x: u64 = 0;
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        if x > ((1u64 << 63) - 1) / 10 {
            return None;
        }
        x = x * 10 + (s[i] - b'0') as u64;
        if x > 1u64 << 63 {
            return None;
        }
        i += 1;
    }
    Some((x, &s[i..]))
}

/// Go's `leadingFraction`: digits after the point; precision beyond u63 is dropped.
fn leading_fraction(s: &[u8]) -> (u64, f64, &[u8]) {
    let mut x: u64 = 0;
    let mut scale = 1.0;
    let mut overflow = false;
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        if !overflow {
            if x > ((1u64 << 63) - 1) / 10 {
                overflow = true;
            } else {
                let y = x * 10 + (s[i] - b'0') as u64;
                if y > 1u64 << 63 {
                    overflow = true;
                } else {
                    x = y;
                    scale *= 10.0;
                }
            }
        }
        i += 1;
    }
    (x, scale, &s[i..])
}

fn go_quote(s: &str) -> String {
    format!("{s:?}")
}

impl FromStr for Duration {
    type Err = DurationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Duration::parse(s)
    }
}

/// Go's `Duration.String()`: `"1m30s"`, `"500ms"`, `"0s"`, `"1h0m0s"`.
impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 32];
        let mut w = buf.len();
        let neg = self.nanos < 0;
        let mut u = self.nanos.unsigned_abs();
        if u < SECOND {
            if u == 0 {
                return f.write_str("0s");
            }
            let prec;
            w -= 1;
            buf[w] = b's';
            w -= 1;
            if u < MICROSECOND {
                prec = 0;
                buf[w] = b'n';
            } else if u < MILLISECOND {
                prec = 3;
                // U+00B5 'µ' in UTF-8.
                w -= 1;
                buf[w] = 0xC2;
                buf[w + 1] = 0xB5;
            } else {
                prec = 6;
                buf[w] = b'm';
            }
            let (nw, nv) = fmt_frac(&mut buf[..w], u, prec);
            w = nw;
            w = fmt_int(&mut buf[..w], nv);
        } else {
            w -= 1;
            buf[w] = b's';
            let (nw, nv) = fmt_frac(&mut buf[..w], u, 9);
            w = nw;
            u = nv;
            w = fmt_int(&mut buf[..w], u % 60);
            u /= 60;
            if u > 0 {
                w -= 1;
                buf[w] = b'm';
                w = fmt_int(&mut buf[..w], u % 60);
                u /= 60;
                if u > 0 {
                    w -= 1;
                    buf[w] = b'h';
                    w = fmt_int(&mut buf[..w], u);
                }
            }
        }
        if neg {
            w -= 1;
            buf[w] = b'-';
        }
        f.write_str(std::str::from_utf8(&buf[w..]).map_err(|_| fmt::Error)?)
    }
}

/// Go's `fmtFrac`: writes `.ddd` (trailing zeros dropped) at the end of `buf`.
fn fmt_frac(buf: &mut [u8], mut v: u64, prec: usize) -> (usize, u64) {
    let mut w = buf.len();
    let mut print = false;
    for _ in 0..prec {
        let digit = v % 10;
        print = print || digit != 0;
        if print {
            w -= 1;
            buf[w] = digit as u8 + b'0';
        }
        v /= 10;
    }
    if print {
        w -= 1;
        buf[w] = b'.';
    }
    (w, v)
}

fn fmt_int(buf: &mut [u8], mut v: u64) -> usize {
    let mut w = buf.len();
    if v == 0 {
        w -= 1;
        buf[w] = b'0';
    } else {
        while v > 0 {
            w -= 1;
            buf[w] = (v % 10) as u8 + b'0';
            v /= 10;
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_syntax() {
        let cases = [
            ("0", 0),
            ("0s", 0),
            ("15s", 15_000),
            ("1m30s", 90_000),
            ("500ms", 500),
            ("1.5s", 1_500),
            ("1.9ms", 1),
            ("-1m", -60_000),
            ("+2h45m", 9_900_000),
            ("15000ms", 15_000),
            ("1h0m0s", 3_600_000),
            (".5s", 500),
            ("3us", 0),
        ];
        for (s, ms) in cases {
            assert_eq!(Duration::parse(s).unwrap().milliseconds(), ms, "{s}");
        }
        assert_eq!(Duration::parse("2µs").unwrap().as_nanos(), 2_000);
        assert_eq!(Duration::parse("1.5ns").unwrap().as_nanos(), 1);
    }

    #[test]
    fn rejects_what_go_rejects() {
        for s in [
            "",
            "1",
            "1d",
            "s",
            ".s",
            "1.s5",
            "-",
            "1m-1s",
            "9999999999999999999s",
            "10 s",
        ] {
            assert!(Duration::parse(s).is_err(), "{s:?} should fail");
        }
        assert_eq!(
            Duration::parse("1d").unwrap_err().to_string(),
            "time: unknown unit in duration \"1d\""
        );
        assert_eq!(
            Duration::parse("1").unwrap_err().to_string(),
            "time: missing unit in duration \"1\""
        );
    }

    #[test]
    fn formats_like_go() {
        let cases = [
            (0, "0s"),
            (60_000, "1m0s"),
            (300_000, "5m0s"),
            (15_000, "15s"),
            (3_600_000, "1h0m0s"),
            (500, "500ms"),
            (90_500, "1m30.5s"),
            (-60_000, "-1m0s"),
        ];
        for (ms, s) in cases {
            assert_eq!(Duration::from_millis(ms).to_string(), s);
        }
        assert_eq!(Duration::from_nanos(1_500).to_string(), "1.5µs");
        assert_eq!(Duration::from_nanos(7).to_string(), "7ns");
    }

    #[test]
    fn webhook_range_uses_float_minutes() {
        assert_eq!(Duration::parse("30m").unwrap().minutes(), 30.0);
        assert!(Duration::parse("30m0.001s").unwrap().minutes() > 30.0);
        assert!(Duration::parse("-1s").unwrap().seconds() < 0.0);
    }
}
