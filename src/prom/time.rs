//! Times on the command line: RFC 3339 (`2026-11-30T08:00:00Z`) or Unix seconds, as
//! Prometheus' API takes them.

use std::time::UNIX_EPOCH;

/// Unix milliseconds of `text`.
pub fn parse_time(text: &str) -> Result<i64, String> {
    if let Ok(seconds) = text.parse::<f64>() {
        if seconds.is_finite() && seconds >= 0.0 {
            return Ok((seconds * 1000.0).round() as i64);
        }
    }
    let t = humantime::parse_rfc3339_weak(text).map_err(|e| {
        format!(
            "{text:?} is not a time ({e}): give RFC 3339 (2026-11-30T08:00:00Z) or Unix seconds"
        )
    })?;
    let since = t
        .duration_since(UNIX_EPOCH)
        .map_err(|_| format!("{text:?} is before 1970"))?;
    Ok(since.as_millis() as i64)
}

/// RFC 3339 with milliseconds, in UTC.
pub fn format_time(ms: i64) -> String {
    let t = UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_millis(t).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_and_unix_seconds_are_read() {
        assert_eq!(parse_time("1700000000").unwrap(), 1_700_000_000_000);
        assert_eq!(parse_time("1700000000.5").unwrap(), 1_700_000_000_500);
        assert_eq!(
            parse_time("2023-11-14T22:13:20Z").unwrap(),
            1_700_000_000_000
        );
        assert_eq!(format_time(1_700_000_000_000), "2023-11-14T22:13:20.000Z");
        let e = parse_time("yesterday").unwrap_err();
        assert!(e.contains("RFC 3339"), "{e}");
    }
}
