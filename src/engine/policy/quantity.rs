//! Kubernetes `resource.Quantity` as used by `targetValue`, `minRatio` and `maxRatio`
//! (docs/engine.md §3.2): the schema pattern, the exact decimal value rounded away from zero to
//! 1e-9, and the correctly rounded conversion to `f64` (`AsFloat64Slow`).

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// An exact decimal quantity: `(-1)^negative × digits × 10^exp`, normalised so that `digits`
/// has no leading or trailing zeros (zero is the empty digit string).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Quantity {
    negative: bool,
    digits: Vec<u8>,
    exp: i64,
    text: String,
}

/// Why a quantity string does not match the schema pattern.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
)]
pub struct QuantityError;

/// Values beyond this many decimal exponents are refused rather than materialised.
const MAX_EXPONENT: i64 = 1_000_000;

impl Quantity {
    /// Parses a quantity written as a string (schema pattern of docs/engine.md §3.2).
    pub fn parse(s: &str) -> Result<Self, QuantityError> {
        let b = s.as_bytes();
        let mut i = 0;
        let mut negative = false;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            negative = b[i] == b'-';
            i += 1;
        }
        let int_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let int_part = &b[int_start..i];
        let mut frac_part: &[u8] = &[];
        if i < b.len() && b[i] == b'.' {
            i += 1;
            let fs = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            frac_part = &b[fs..i];
            // `(\.[0-9]+)` needs digits when there is no integer part.
            if int_part.is_empty() && frac_part.is_empty() {
                return Err(QuantityError);
            }
        } else if int_part.is_empty() {
            return Err(QuantityError);
        }
        let suffix = &b[i..];
        let mut digits: Vec<u8> = int_part.iter().chain(frac_part).map(|c| c - b'0').collect();
        let mut exp: i64 = -(frac_part.len() as i64);
        let mut binary_shift: u32 = 0;
        match suffix {
            b"" => {}
            b"Ki" => binary_shift = 10,
            b"Mi" => binary_shift = 20,
            b"Gi" => binary_shift = 30,
            b"Ti" => binary_shift = 40,
            b"Pi" => binary_shift = 50,
            b"Ei" => binary_shift = 60,
            b"n" => exp -= 9,
            b"u" => exp -= 6,
            b"m" => exp -= 3,
            b"k" => exp += 3,
            b"M" => exp += 6,
            b"G" => exp += 9,
            b"T" => exp += 12,
            b"P" => exp += 15,
            b"E" => exp += 18,
            _ => {
                if suffix[0] != b'e' && suffix[0] != b'E' {
                    return Err(QuantityError);
                }
                exp += parse_exponent(&suffix[1..])?;
            }
        }
        if binary_shift > 0 {
            for _ in 0..binary_shift {
                double(&mut digits);
            }
        }
        let mut q = Quantity {
            negative,
            digits,
            exp,
            text: s.to_string(),
        };
        q.normalise();
        q.round_to_nanos();
        if binary_shift > 0 {
            q.cap_binary();
        }
        Ok(q)
    }

    /// The value as Kubernetes' `AsFloat64Slow` gives it: the exact decimal, correctly rounded.
    pub fn as_f64(&self) -> f64 {
        if self.digits.is_empty() {
            return 0.0;
        }
        let mut s = String::with_capacity(self.digits.len() + 24);
        if self.negative {
            s.push('-');
        }
        s.extend(self.digits.iter().map(|d| (d + b'0') as char));
        s.push('e');
        s.push_str(&self.exp.to_string());
        s.parse().unwrap_or(f64::NAN)
    }

    /// The text the user wrote.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// A quantity from a YAML/JSON number, as `int-or-string` fields accept it.
    pub fn from_number_text(text: &str) -> Result<Self, QuantityError> {
        Quantity::parse(text)
    }

    fn normalise(&mut self) {
        let lead = self.digits.iter().take_while(|&&d| d == 0).count();
        self.digits.drain(..lead);
        while self.digits.last() == Some(&0) {
            self.digits.pop();
            self.exp += 1;
        }
        if self.digits.is_empty() {
            self.exp = 0;
            self.negative = false;
        }
    }

    /// Precision is kept down to 1e-9; anything finer rounds away from zero.
    fn round_to_nanos(&mut self) {
        if self.exp >= -9 || self.digits.is_empty() {
            return;
        }
        let drop = (-9 - self.exp) as usize;
        let keep = self.digits.len().saturating_sub(drop);
        self.digits.truncate(keep);
        self.exp = -9;
        increment(&mut self.digits);
        self.normalise();
    }

    /// Binary-suffixed values are capped at 2^63 − 1.
    fn cap_binary(&mut self) {
        let max = Quantity::parse("9223372036854775807").expect("constant parses");
        if self.cmp_value(&max) == Ordering::Greater {
            self.digits = max.digits;
            self.exp = max.exp;
        }
    }

    /// Compares exact decimal values (the webhook's `minRatio > maxRatio` check).
    pub fn cmp_value(&self, other: &Quantity) -> Ordering {
        let sign = |q: &Quantity| {
            if q.digits.is_empty() {
                0
            } else if q.negative {
                -1
            } else {
                1
            }
        };
        let (a, b) = (sign(self), sign(other));
        if a != b {
            return a.cmp(&b);
        }
        let mag = self.cmp_magnitude(other);
        if a < 0 {
            mag.reverse()
        } else {
            mag
        }
    }

    fn cmp_magnitude(&self, other: &Quantity) -> Ordering {
        if self.digits.is_empty() || other.digits.is_empty() {
            return self.digits.len().cmp(&other.digits.len());
        }
        let top_a = self.digits.len() as i64 + self.exp;
        let top_b = other.digits.len() as i64 + other.exp;
        top_a
            .cmp(&top_b)
            .then_with(|| self.digits.iter().cmp(other.digits.iter()))
    }
}

fn parse_exponent(b: &[u8]) -> Result<i64, QuantityError> {
    let (neg, digits) = match b.first() {
        Some(b'+') => (false, &b[1..]),
        Some(b'-') => (true, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(QuantityError);
    }
    let mut v: i64 = 0;
    for &d in digits {
        v = v.saturating_mul(10).saturating_add((d - b'0') as i64);
    }
    if v > MAX_EXPONENT {
        return Err(QuantityError);
    }
    Ok(if neg { -v } else { v })
}

fn double(digits: &mut Vec<u8>) {
    let mut carry = 0;
    for d in digits.iter_mut().rev() {
        let v = *d * 2 + carry;
        *d = v % 10;
        carry = v / 10;
    }
    if carry > 0 {
        digits.insert(0, carry);
    }
}

fn increment(digits: &mut Vec<u8>) {
    for d in digits.iter_mut().rev() {
        if *d == 9 {
            *d = 0;
        } else {
            *d += 1;
            return;
        }
    }
    digits.insert(0, 1);
}

impl FromStr for Quantity {
    type Err = QuantityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Quantity::parse(s)
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> f64 {
        Quantity::parse(s).unwrap().as_f64()
    }

    #[test]
    fn values_of_the_spec_examples() {
        assert_eq!(v("500m"), 0.5);
        assert_eq!(v("10"), 10.0);
        assert_eq!(v("10.0"), 10.0);
        assert_eq!(v("0.25"), 0.25);
        assert_eq!(v("1k"), 1000.0);
        assert_eq!(v("2k"), 2000.0);
        assert_eq!(v("1Ki"), 1024.0);
        assert_eq!(v("1.5Ki"), 1536.0);
        assert_eq!(v("1e3"), 1000.0);
        assert_eq!(v("250m"), 0.25);
        assert_eq!(v("1.5"), 1.5);
        assert_eq!(v(".5"), 0.5);
        assert_eq!(v("5."), 5.0);
        assert_eq!(v("-3"), -3.0);
        assert_eq!(v("+3"), 3.0);
        assert_eq!(v("0.1"), 0.1);
        assert_eq!(v("1E-2"), 0.01);
    }

    #[test]
    fn rounds_away_from_zero_below_a_nano() {
        assert_eq!(v("0.9n"), 1e-9);
        assert_eq!(v("-0.9n"), -1e-9);
        assert_eq!(v("1.0000000001"), 1.000000001);
        assert_eq!(v("0.0000000000"), 0.0);
    }

    #[test]
    fn binary_values_are_capped() {
        assert_eq!(v("100Ei"), 9223372036854775807.0);
    }

    #[test]
    fn rejects_what_the_pattern_rejects() {
        for s in [
            "", "abc", "1.2.3", "1x", "1 k", ".", "+", "1e", "1e+", "1ki", "e3", "1Mi2", "--1",
        ] {
            assert!(Quantity::parse(s).is_err(), "{s:?}");
        }
    }

    #[test]
    fn exact_comparison() {
        let q = |s| Quantity::parse(s).unwrap();
        assert_eq!(q("250m").cmp_value(&q("0.25")), Ordering::Equal);
        assert_eq!(q("1").cmp_value(&q("999m")), Ordering::Greater);
        assert_eq!(q("-1").cmp_value(&q("0")), Ordering::Less);
        assert_eq!(q("-2").cmp_value(&q("-1")), Ordering::Less);
        assert_eq!(q("1k").cmp_value(&q("1000")), Ordering::Equal);
    }
}
