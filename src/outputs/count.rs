//! A count in an output file: a whole number for one run, the mean over replications for
//! several (`1234` or `1233.6`). Written as an integer whenever it is whole, so a single run's
//! files show counts as counts.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, Copy, Default, PartialEq, PartialOrd)]
pub struct Count(pub f64);

/// Whole values up to 2^53 are exact in an `f64`.
const EXACT: f64 = 9_007_199_254_740_992.0;

impl Count {
    pub fn is_whole(self) -> bool {
        self.0.fract() == 0.0 && self.0.abs() <= EXACT
    }
}

impl From<u64> for Count {
    fn from(n: u64) -> Self {
        Count(n as f64)
    }
}

impl Serialize for Count {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.is_whole() && self.0 >= 0.0 {
            s.serialize_u64(self.0 as u64)
        } else if self.is_whole() {
            s.serialize_i64(self.0 as i64)
        } else {
            s.serialize_f64(self.0)
        }
    }
}

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        f64::deserialize(d).map(Count)
    }
}

/// Whole: as an integer; a mean: with one decimal.
impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_whole() {
            write!(f, "{}", self.0 as i64)
        } else {
            write!(f, "{:.1}", self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_counts_are_integers_and_means_are_not() {
        assert_eq!(serde_json::to_string(&Count(12.0)).unwrap(), "12");
        assert_eq!(serde_json::to_string(&Count(12.4)).unwrap(), "12.4");
        assert_eq!(Count(12.0).to_string(), "12");
        assert_eq!(Count(12.46).to_string(), "12.5");
        let back: Count = serde_json::from_str("7").unwrap();
        assert_eq!(back, Count(7.0));
        let back: Count = serde_json::from_str("7.5").unwrap();
        assert_eq!(back, Count(7.5));
    }
}
