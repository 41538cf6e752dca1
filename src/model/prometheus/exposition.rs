//! How a scraped payload becomes Prometheus series: the names and `le` labels the text
//! exposition gives each family, and the value Prometheus ingests for each.

use crate::engine::cluster::{Families, MetricFamily};

/// Calls `f(name, le, value)` for every series of `families`, in exposition order: gauges and
/// counters as `name`, histograms as `name_bucket` (one per upper bound, `+Inf` last),
/// `name_sum` and `name_count`.
///
/// `Families` carries no per-sample labels, so a second sample of a family would repeat the
/// first one's series; Prometheus drops such duplicates of a scrape, so only the first sample
/// of each family is exposed. `Other` families (untyped, summaries) carry no values and expose
/// nothing. The name is built in one reused buffer so that steady-state scrapes don't allocate.
pub(super) fn for_each_series(families: &Families, mut f: impl FnMut(&str, Option<f64>, f64)) {
    let mut name = String::new();
    for (family, metric) in families {
        match metric {
            MetricFamily::Counter(values) | MetricFamily::Gauge(values) => {
                if let Some(&v) = values.first() {
                    f(family, None, v);
                }
            }
            MetricFamily::Histogram(snapshots) => {
                let Some(h) = snapshots.first() else {
                    continue;
                };
                let count = h.count as f64;
                set_name(&mut name, family, "_bucket");
                for &(le, cumulative) in &h.buckets {
                    f(&name, Some(le), cumulative as f64);
                }
                // The text format always ends with a `+Inf` bucket equal to the count; client
                // libraries add it when the histogram's bounds don't include it.
                if h.buckets.last().is_none_or(|&(le, _)| le != f64::INFINITY) {
                    f(&name, Some(f64::INFINITY), count);
                }
                set_name(&mut name, family, "_sum");
                f(&name, None, h.sum);
                set_name(&mut name, family, "_count");
                f(&name, None, count);
            }
            MetricFamily::Other { .. } => {}
        }
    }
}

fn set_name(buf: &mut String, family: &str, suffix: &str) {
    buf.clear();
    buf.push_str(family);
    buf.push_str(suffix);
}

/// The `le` label value Prometheus stores for an upper bound.
///
/// Since Prometheus 3.0 the `le` of classic histograms is normalised on ingestion, whatever the
/// exposition wrote (vLLM's Python client writes `1.0`, Go clients `1`): Go's shortest `%g`
/// formatting (`strconv.FormatFloat(f, 'g', -1, 64)`), with `.0` appended when the result has
/// neither a `.` nor an exponent — `0.001`, `1.0`, `2560.0`, `1e+06`, `+Inf`. Port of
/// `labels.FormatOpenMetricsFloat`.
pub(super) fn format_le(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    let s = format_go_shortest_g(f);
    if s.contains(['e', '.']) {
        s
    } else {
        s + ".0"
    }
}

/// `strconv.FormatFloat(f, 'g', -1, 64)` for a finite `f`: the shortest digits that round-trip,
/// in exponent form when the decimal exponent is below -4 or at least 6 (Go uses 6, not the
/// digit count, as the precision for that decision in shortest mode), the exponent written
/// with a sign and at least two digits.
fn format_go_shortest_g(f: f64) -> String {
    // Rust's `{:e}` gives the same shortest round-trip digits: `d[.ddd]e[-]x`.
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let mut out = String::new();
    if f.is_sign_negative() {
        out.push('-');
    }
    if !(-4..6).contains(&exp) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.abs()));
    } else if exp < 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
        out.push_str(&digits);
    } else {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', int_len - digits.len()));
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::histogram::Snapshot;
    use crate::model::metrics::{exposition, PodSeries, ServerGauges, TTFT_BUCKETS};

    #[test]
    fn le_is_formatted_as_prometheus_3_stores_it() {
        let cases = [
            (1.0, "1.0"),
            (0.0, "0.0"),
            (-1.0, "-1.0"),
            (0.001, "0.001"),
            (0.25, "0.25"),
            (2.5, "2.5"),
            (10.0, "10.0"),
            (2560.0, "2560.0"),
            (123456.0, "123456.0"),
            (1e6, "1e+06"),
            (1234567.0, "1.234567e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-5, "1.5e-05"),
            (1e100, "1e+100"),
            (-0.5, "-0.5"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
        ];
        for (f, want) in cases {
            assert_eq!(format_le(f), want, "{f}");
        }
    }

    fn collect(families: &Families) -> Vec<(String, Option<String>, f64)> {
        let mut out = Vec::new();
        for_each_series(families, |name, le, v| {
            out.push((name.to_owned(), le.map(format_le), v));
        });
        out
    }

    #[test]
    fn gauges_counters_and_histograms_become_text_format_series() {
        let mut f = Families::new();
        f.insert(
            "kthena:num_requests_waiting".into(),
            MetricFamily::Gauge(vec![3.0, 9.0]),
        );
        f.insert(
            "vllm:request_success_total".into(),
            MetricFamily::Counter(vec![12.0]),
        );
        f.insert(
            "vllm:e2e_request_latency_seconds".into(),
            MetricFamily::Histogram(vec![Snapshot {
                sum: 4.5,
                count: 5,
                buckets: vec![(0.5, 1), (1.0, 3), (2.5, 4), (f64::INFINITY, 5)],
            }]),
        );
        f.insert("untyped".into(), MetricFamily::Other { samples: 2 });
        let le = |s: &str| Some(s.to_owned());
        let bucket = "vllm:e2e_request_latency_seconds_bucket".to_owned();
        assert_eq!(
            collect(&f),
            vec![
                ("kthena:num_requests_waiting".into(), None, 3.0),
                (bucket.clone(), le("0.5"), 1.0),
                (bucket.clone(), le("1.0"), 3.0),
                (bucket.clone(), le("2.5"), 4.0),
                (bucket, le("+Inf"), 5.0),
                ("vllm:e2e_request_latency_seconds_sum".into(), None, 4.5),
                ("vllm:e2e_request_latency_seconds_count".into(), None, 5.0),
                ("vllm:request_success_total".into(), None, 12.0),
            ]
        );
    }

    #[test]
    fn a_missing_inf_bucket_is_added_with_the_count() {
        let mut f = Families::new();
        f.insert(
            "h".into(),
            MetricFamily::Histogram(vec![Snapshot {
                sum: 1.0,
                count: 7,
                buckets: vec![(1.0, 2)],
            }]),
        );
        let series = collect(&f);
        assert_eq!(series[1], ("h_bucket".into(), Some("+Inf".into()), 7.0));
        assert_eq!(series.len(), 4);
    }

    #[test]
    fn a_simulated_pod_exposes_every_vllm_bucket() {
        let mut series = PodSeries::default();
        series.ttft.observe(0.03);
        let f = exposition(
            &series,
            ServerGauges {
                waiting: 1,
                running: 2,
                kv_usage: 0.25,
                prompt_tokens_total: 10,
                generation_tokens_total: 20,
            },
        );
        let ttft: Vec<_> = collect(&f)
            .into_iter()
            .filter(|(n, _, _)| n == "vllm:time_to_first_token_seconds_bucket")
            .collect();
        assert_eq!(ttft.len(), TTFT_BUCKETS.len() + 1);
        assert_eq!(ttft[0].1.as_deref(), Some("0.001"));
        assert_eq!(ttft[11].1.as_deref(), Some("1.0"));
        assert_eq!(ttft[21].1.as_deref(), Some("2560.0"));
        assert_eq!(ttft[22].1.as_deref(), Some("+Inf"));
        // 0.03 s falls in the `le="0.04"` bucket and every one above it.
        assert_eq!(ttft[3].2, 0.0);
        assert_eq!(ttft[4].2, 1.0);
        assert_eq!(ttft[22].2, 1.0);
    }
}
