//! What KEDA's Prometheus scaler makes of a query's answer (E4 `prometheus_scaler.go`
//! `ExecutePromQuery`, `GetMetricsAndActivity`; `scaler.go` `quantityFromFloat64`): one
//! number, or an error the poll and the HPA both see.

use super::QueryOutcome;

/// The value of a query (E4 `ExecutePromQuery`): more than one series is an error; no series,
/// NaN or ±Inf read as 0 with `ignoreNullValues` and as an error without. Negative values are
/// kept here: activation compares the raw value, only the HPA's quantity clamps them to 0
/// ([`milli`]).
pub(super) fn value(
    outcome: &QueryOutcome,
    query: &str,
    ignore_null_values: bool,
) -> Result<f64, String> {
    let series = outcome.as_ref().map_err(Clone::clone)?;
    let v = match series.as_slice() {
        [] if ignore_null_values => return Ok(0.0),
        [] => {
            return Err(
                "prometheus metrics 'prometheus' target may be lost, the result is empty"
                    .to_string(),
            )
        }
        [v] => *v,
        _ => {
            return Err(format!(
                "prometheus query {query} returned multiple elements"
            ))
        }
    };
    if v.is_finite() {
        Ok(v)
    } else if ignore_null_values {
        Ok(0.0)
    } else {
        Err(format!("prometheus query returns {}", go_float(v)))
    }
}

/// Whether a trigger is active (E4 `GetMetricsAndActivity`): strictly above its
/// `activationThreshold`, so with the default 0 any positive value keeps the workload alive.
pub(super) fn is_active(value: f64, activation_threshold: f64) -> bool {
    value > activation_threshold
}

/// A value as the milli quantity the HPA reads (E4 `quantityFromFloat64`, then the HPA's
/// `MilliValue()`): NaN, ±Inf and negatives are 0; otherwise the decimal text `"%.3f"` (Go and
/// Rust both round the exact binary value half to even), read back in milli. A value past the
/// `i64` milli range is held at `i64::MAX` (Kubernetes would overflow there).
pub(crate) fn milli(v: f64) -> i64 {
    if !v.is_finite() || v < 0.0 {
        return 0;
    }
    let text = format!("{v:.3}");
    let (whole, frac) = text.split_once('.').unwrap_or((text.as_str(), "000"));
    let frac: i64 = frac.parse().unwrap_or(0);
    whole
        .parse::<i64>()
        .ok()
        .and_then(|w| w.checked_mul(1000))
        .and_then(|w| w.checked_add(frac))
        .unwrap_or(i64::MAX)
}

/// Go's `%f` of a non-finite float, as the upstream error message prints it.
fn go_float(v: f64) -> &'static str {
    if v.is_nan() {
        "NaN"
    } else if v > 0.0 {
        "+Inf"
    } else {
        "-Inf"
    }
}
