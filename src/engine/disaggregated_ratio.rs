//! Port of `pkg/autoscaler/algorithm/disaggregated_ratio.go` (HEAD): bounds clamping and
//! the prefill/decode ratio constraint applied to corrected role counts (docs/engine.md §12).

use std::collections::BTreeMap;

use super::policy::RatioConstraint;

/// The result of [`enforce_ratio`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatioOutcome {
    pub replicas: BTreeMap<String, i32>,
    /// True whenever a repair branch ran, even if the numbers end up unchanged.
    pub adjusted: bool,
    /// `final[num] / final[den]` in shortest round-trip decimal; `""` when `den` is 0 or
    /// there is no constraint.
    pub current_ratio: String,
}

/// Why the ratio could not be enforced; the text is Kthena's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RatioError {
    #[error("ratio numerator role {0} not found")]
    NumeratorNotFound(String),
    #[error("ratio denominator role {0} not found")]
    DenominatorNotFound(String),
    #[error("bounds for ratio numerator role {0} not found")]
    NumeratorBoundsNotFound(String),
    #[error("bounds for ratio denominator role {0} not found")]
    DenominatorBoundsNotFound(String),
    #[error("ratio constraint contains non-finite value")]
    NonFinite,
}

fn clamp(v: i32, lo: i32, hi: i32) -> i32 {
    v.max(lo).min(hi)
}

/// Go's float → int32 after `math.Ceil` / `math.Floor`, saturated; NaN → 0.
fn to_i32(v: f64) -> i32 {
    if v.is_nan() {
        0
    } else {
        v as i32
    }
}

/// `EnforceRatio`.
pub fn enforce_ratio(
    replicas: &BTreeMap<String, i32>,
    bounds: &BTreeMap<String, (i32, i32)>,
    constraint: Option<&RatioConstraint>,
) -> Result<RatioOutcome, RatioError> {
    let mut out: BTreeMap<String, i32> = replicas
        .iter()
        .map(|(r, &v)| {
            let v = bounds.get(r).map_or(v, |&(lo, hi)| clamp(v, lo, hi));
            (r.clone(), v)
        })
        .collect();
    let unchanged = |out: BTreeMap<String, i32>| RatioOutcome {
        replicas: out,
        adjusted: false,
        current_ratio: String::new(),
    };
    let Some(c) = constraint else {
        return Ok(unchanged(out));
    };
    let (num, den) = (&c.numerator_role, &c.denominator_role);
    let Some(&n0) = out.get(num) else {
        return Err(RatioError::NumeratorNotFound(num.clone()));
    };
    let Some(&d0) = out.get(den) else {
        return Err(RatioError::DenominatorNotFound(den.clone()));
    };
    let Some(&(min_n, max_n)) = bounds.get(num) else {
        return Err(RatioError::NumeratorBoundsNotFound(num.clone()));
    };
    let Some(&(min_d, max_d)) = bounds.get(den) else {
        return Err(RatioError::DenominatorBoundsNotFound(den.clone()));
    };
    let (mut n, mut d) = (n0, d0);
    if n == 0 && d == 0 {
        return Ok(unchanged(out));
    }
    let lo = c.min_ratio.as_f64();
    let hi = c.max_ratio.as_f64();
    if !lo.is_finite() || !hi.is_finite() {
        return Err(RatioError::NonFinite);
    }
    let mut adjusted = false;
    if n == 0 {
        n = clamp(1, min_n, max_n);
        adjusted = true;
    }
    if d == 0 {
        d = clamp(1, min_d, max_d);
        adjusted = true;
    }
    let ratio = n as f64 / d as f64;
    if ratio < lo {
        let up = to_i32((lo * d as f64).ceil());
        if up <= max_n {
            n = up.max(min_n);
        } else if lo > 0.0 {
            n = max_n;
            d = clamp(to_i32((n as f64 / lo).floor()), min_d, max_d);
        }
        adjusted = true;
    } else if ratio > hi {
        if hi <= 0.0 {
            n = 0;
        } else {
            let up = to_i32((n as f64 / hi).ceil());
            if up <= max_d {
                d = up.max(min_d);
            } else {
                d = max_d;
                n = clamp(to_i32((hi * d as f64).floor()), min_n, max_n);
            }
        }
        adjusted = true;
    }
    let n = clamp(n, min_n, max_n);
    let d = clamp(d, min_d, max_d);
    out.insert(num.clone(), n);
    out.insert(den.clone(), d);
    let current_ratio = if d != 0 {
        format!("{}", n as f64 / d as f64)
    } else {
        String::new()
    };
    Ok(RatioOutcome {
        replicas: out,
        adjusted,
        current_ratio,
    })
}

#[cfg(test)]
mod go_tests;
