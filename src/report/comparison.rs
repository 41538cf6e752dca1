//! `comparison.*` and `sweep.*`: one row per variant (cost, SLO attainment, latency
//! percentiles, replicas, scaling activity, assertions), the cost-vs-attainment Pareto front,
//! and the CI outputs (JUnit XML, a Markdown summary for `$GITHUB_STEP_SUMMARY`).

use std::fmt::Write;

use crate::outputs::comparison::{Difference, Row, Table};
use crate::outputs::summary::AssertionOutcome;
use crate::outputs::summary::Summary;
use crate::outputs::{csv_bytes, json_bytes};
use crate::stats::{paired_difference, Estimate};

/// How a compared metric's difference is expressed, and in which words.
struct Compared {
    metric: &'static str,
    /// `true`: in % of the baseline's mean; `false`: a fraction, in percentage points.
    relative: bool,
    noun: &'static str,
    /// The words for a lower value, and for a higher one.
    lower: &'static str,
    higher: &'static str,
}

/// The metrics each variant is compared on against the baseline.
const COMPARED: [Compared; 3] = [
    Compared {
        metric: "cost.total",
        relative: true,
        noun: "cost",
        lower: "cheaper",
        higher: "costlier",
    },
    Compared {
        metric: "slo.attainment",
        relative: false,
        noun: "attainment",
        lower: "lower attainment",
        higher: "higher attainment",
    },
    Compared {
        metric: "latency.ttft.p99",
        relative: true,
        noun: "TTFT p99",
        lower: "shorter TTFT p99",
        higher: "longer TTFT p99",
    },
];

/// The paired differences of `variant` against `baseline`, replication by replication (both
/// ran the same seeds): each compared metric's mean difference and 95 % interval, with a
/// verdict in words.
pub fn versus_baseline(baseline: &[Summary], variant: &[Summary]) -> Vec<Difference> {
    COMPARED
        .iter()
        .filter_map(|c| {
            let path: Vec<String> = c.metric.split('.').map(str::to_string).collect();
            let b: Vec<Option<f64>> = baseline.iter().map(|s| s.metric(&path)).collect();
            let v: Vec<Option<f64>> = variant.iter().map(|s| s.metric(&path)).collect();
            let d = paired_difference(&b, &v)?;
            let scale = if c.relative {
                let base = Estimate::of(&b.iter().flatten().copied().collect::<Vec<_>>())?.mean;
                if base == 0.0 {
                    return None;
                }
                100.0 / base.abs()
            } else {
                100.0
            };
            let (mean, low, high) = (d.mean * scale, d.ci95_low * scale, d.ci95_high * scale);
            let unit = if c.relative { "%" } else { "pp" };
            let significant = d.excludes_zero();
            let n = |x: f64| {
                if c.relative {
                    format!("{x:.1}")
                } else {
                    format!("{x:.2}")
                }
            };
            let verdict = if d.n > 1 && d.sd == 0.0 && d.mean == 0.0 {
                format!("the same {} in every replication", c.noun)
            } else if d.n < 2 {
                format!(
                    "{}{} {unit} on one replication: no interval (run --replications 5 or more)",
                    if mean >= 0.0 { "+" } else { "" },
                    n(mean)
                )
            } else if significant {
                let words = if mean < 0.0 { c.lower } else { c.higher };
                let (a, b) = (low.abs().min(high.abs()), low.abs().max(high.abs()));
                format!(
                    "{words} by {} {unit} ({} – {} {unit})",
                    n(mean.abs()),
                    n(a),
                    n(b)
                )
            } else {
                format!(
                    "no significant difference in {} ({:+.*} to {:+.*} {unit})",
                    c.noun,
                    if c.relative { 1 } else { 2 },
                    low,
                    if c.relative { 1 } else { 2 },
                    high
                )
            };
            Some(Difference {
                metric: c.metric.to_string(),
                unit: unit.to_string(),
                mean,
                ci95_low: (d.n > 1).then_some(low),
                ci95_high: (d.n > 1).then_some(high),
                significant,
                verdict,
            })
        })
        .collect()
}

/// Marks the rows no other row beats on both cost (lower) and attainment (higher).
pub fn mark_pareto(rows: &mut [Row]) {
    let points: Vec<(f64, f64)> = rows.iter().map(|r| (r.cost, r.attainment)).collect();
    for (i, r) in rows.iter_mut().enumerate() {
        let (c, a) = points[i];
        r.pareto = !points
            .iter()
            .enumerate()
            .any(|(j, &(c2, a2))| j != i && c2 <= c && a2 >= a && (c2 < c || a2 > a));
    }
}

pub fn csv(rows: &[Row]) -> Result<Vec<u8>, csv::Error> {
    csv_bytes(rows.iter().map(Row::csv_row))
}

pub fn json(
    title: &str,
    combinations: Option<usize>,
    rows: &[Row],
) -> Result<Vec<u8>, serde_json::Error> {
    json_bytes(&Table {
        title: title.to_string(),
        combinations,
        rows: rows.to_vec(),
    })
}

/// A table back from a `json` output (for `sweep merge`).
pub fn table_from_json(bytes: &[u8]) -> Result<Table, serde_json::Error> {
    serde_json::from_slice(bytes)
}

fn opt(v: Option<f64>) -> String {
    v.map_or("–".into(), |x| format!("{x:.3}"))
}

/// The Markdown table.
pub fn markdown(title: &str, rows: &[Row]) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# {title}\n");
    let replications = rows.iter().map(|r| r.replications).max().unwrap_or(1);
    let engines: Vec<&str> = rows.iter().map(|r| r.engine.as_str()).collect();
    let mixed = engines.iter().any(|e| *e != engines[0]);
    if replications > 1 {
        let _ = writeln!(
            md,
            "Every figure is the mean of {replications} replications; cost and attainment carry ± the half-width of their 95 % interval. Every variant ran the same seeds (common random numbers).\n"
        );
    }
    // Variants that differ in autoscaler say which each ran.
    let scalers = rows.iter().any(|r| r.autoscaler != rows[0].autoscaler);
    let engine_head = match (scalers, mixed) {
        (true, true) => " autoscaler | engine |",
        (true, false) => " autoscaler |",
        (false, true) => " engine |",
        (false, false) => "",
    };
    let engine_rule = "---|".repeat(usize::from(scalers) + usize::from(mixed));
    let _ = writeln!(
        md,
        "| variant |{engine_head} cost | SLO attainment | TTFT p50 / p99 (s) | e2e p50 / p99 (s) | servers avg / peak | scale events | panic (s) | skipped ticks | assertions |\n|---|{engine_rule}---|---|---|---|---|---|---|---|---|"
    );
    let pm = |ci: Option<(f64, f64)>, digits: usize| {
        ci.map_or(String::new(), |(lo, hi)| {
            format!(" ± {:.*}", digits, (hi - lo) / 2.0)
        })
    };
    for r in rows {
        let passed = r.assertions.iter().filter(|o| o.passed).count();
        let verdict = if r.passed() {
            "pass".to_string()
        } else {
            format!("**FAIL** {passed}/{}", r.assertions.len())
        };
        let name = if r.pareto {
            format!("{} ◆", r.variant)
        } else {
            r.variant.clone()
        };
        let mut engine = String::new();
        if scalers {
            engine.push_str(&format!(" {} |", r.autoscaler));
        }
        if mixed {
            engine.push_str(&format!(" {} |", r.engine));
        }
        let _ = writeln!(
            md,
            "| {name} |{engine} {:.2}{} | {:.4}{} | {} / {} | {} / {} | {:.2} / {} | {} | {:.0} | {} | {verdict} |",
            r.cost,
            pm(r.cost_ci95, 2),
            r.attainment,
            pm(r.attainment_ci95, 4),
            opt(r.ttft_p50_s),
            opt(r.ttft_p99_s),
            opt(r.e2e_p50_s),
            opt(r.e2e_p99_s),
            r.replicas_average,
            r.replicas_peak,
            r.scale_events,
            r.panic_seconds,
            r.skipped_ticks,
        );
    }
    let _ = writeln!(
        md,
        "\n◆ on the cost-vs-attainment Pareto front (no other variant is both cheaper and better)."
    );
    if mixed {
        let _ = writeln!(
            md,
            "\nThe variants run on different engine versions (the manifests' API generations differ, or a variant sets `engine`): their differences include the engines'."
        );
    }
    let compared: Vec<&Row> = rows
        .iter()
        .filter(|r| !r.versus_baseline.is_empty())
        .collect();
    if let (Some(baseline), false) = (rows.first(), compared.is_empty()) {
        let _ = writeln!(
            md,
            "\n## Against the baseline ({})\n\nPaired differences over the same replications, with their 95 % intervals.\n",
            baseline.variant
        );
        for r in compared {
            let words: Vec<&str> = r
                .versus_baseline
                .iter()
                .map(|d| d.verdict.as_str())
                .collect();
            let _ = writeln!(md, "- **{}**: {}", r.variant, words.join("; "));
        }
    }
    let failing: Vec<&Row> = rows.iter().filter(|r| !r.passed()).collect();
    if !failing.is_empty() {
        let _ = writeln!(md, "\n## Failed assertions\n");
        for r in failing {
            let _ = writeln!(md, "- **{}**: {}", r.variant, r.failed_assertions());
        }
    }
    let settings: Vec<&Row> = rows.iter().filter(|r| !r.settings.is_empty()).collect();
    if !settings.is_empty() {
        let _ = writeln!(md, "\n## Settings\n");
        for r in settings {
            let _ = writeln!(md, "- **{}**: `{}`", r.variant, r.settings);
        }
    }
    md
}

/// The "Charts" section of a comparison's or sweep's page (after the table of
/// [`markdown`]): the Pareto scatter beside it, and a comparison's overlays (`overlays`), or,
/// when they were not drawn, how to draw them. The CI summary and the terminal get the table
/// only.
pub fn charts_section(drawn: bool, overlays: bool) -> String {
    if !drawn {
        return "\n## Charts\n\nNot drawn (see `--charts`): `kthena-sim chart` on this folder draws them from its files and links them here.\n".to_string();
    }
    let mut md = "\n## Charts\n\n![Cost vs SLO attainment](pareto.svg)\n".to_string();
    if overlays {
        md.push_str(
            "![Replicas](overlay-replicas.svg)\n![Latency](overlay-latency.svg)\n![Cost](overlay-cost.svg)\n",
        );
    }
    md
}

/// A page written without its charts, with the Charts section of one whose charts are drawn
/// (`kthena-sim chart` drew them); `None` when it has nothing to change.
pub fn with_charts(page: &str, overlays: bool) -> Option<String> {
    let none = charts_section(false, overlays);
    page.contains(&none)
        .then(|| page.replacen(&none, &charts_section(true, overlays), 1))
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// JUnit XML: one test suite per variant, one test case per assertion (a variant without
/// assertions gets one case, "run completed").
pub fn junit(title: &str, runs: &[(&str, &[AssertionOutcome])]) -> String {
    let total: usize = runs.iter().map(|(_, o)| o.len().max(1)).sum();
    let failures: usize = runs
        .iter()
        .map(|(_, o)| o.iter().filter(|x| !x.passed).count())
        .sum();
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites name=\"{}\" tests=\"{total}\" failures=\"{failures}\">",
        xml_escape(title)
    );
    for (name, outcomes) in runs {
        let fails = outcomes.iter().filter(|o| !o.passed).count();
        let _ = writeln!(
            x,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{fails}\">",
            xml_escape(name),
            outcomes.len().max(1)
        );
        if outcomes.is_empty() {
            let _ = writeln!(
                x,
                "    <testcase classname=\"{}\" name=\"run completed\"/>",
                xml_escape(name)
            );
        }
        for o in outcomes.iter() {
            let _ = write!(
                x,
                "    <testcase classname=\"{}\" name=\"{}\"",
                xml_escape(name),
                xml_escape(&o.expr)
            );
            if o.passed {
                let _ = writeln!(x, "/>");
            } else {
                let mut measured = o.value.map_or("missing".to_string(), |v| v.to_string());
                if !o.failed_replications.is_empty() {
                    let reps: Vec<String> = o
                        .failed_replications
                        .iter()
                        .map(ToString::to_string)
                        .collect();
                    measured = format!(
                        "{measured} (mean over replications); failed in replications {}",
                        reps.join(", ")
                    );
                }
                let _ = writeln!(
                    x,
                    ">\n      <failure message=\"{}\">measured {}</failure>\n    </testcase>",
                    xml_escape(&format!("{} failed", o.expr)),
                    xml_escape(&measured)
                );
            }
        }
        let _ = writeln!(x, "  </testsuite>");
    }
    x.push_str("</testsuites>\n");
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outputs::count::Count;

    #[test]
    fn a_page_without_its_charts_links_them_once_drawn() {
        for overlays in [false, true] {
            let drawn = charts_section(true, overlays);
            assert_eq!(drawn.matches(".svg)").count(), if overlays { 4 } else { 1 });
            assert!(!charts_section(false, overlays).contains(".svg"));
            let page = format!("# t\n{}", charts_section(false, overlays));
            assert_eq!(with_charts(&page, overlays), Some(format!("# t\n{drawn}")));
            assert_eq!(with_charts(&format!("# t\n{drawn}"), overlays), None);
        }
    }

    fn row(variant: &str, cost: f64, attainment: f64) -> Row {
        Row {
            index: 0,
            variant: variant.into(),
            settings: String::new(),
            cost,
            attainment,
            goodput_rps: 0.0,
            ttft_p50_s: None,
            ttft_p99_s: None,
            tpot_p50_s: None,
            e2e_p50_s: None,
            e2e_p99_s: None,
            replicas_peak: Count(0.0),
            replicas_average: 0.0,
            scale_events: Count(0.0),
            panic_seconds: 0.0,
            skipped_ticks: Count(0.0),
            requests: Count(0.0),
            failed: Count(0.0),
            dropped: Count(0.0),
            pareto: false,
            assertions: Vec::new(),
            engine: "head".into(),
            autoscaler: "kthena".into(),
            replications: 1,
            cost_ci95: None,
            attainment_ci95: None,
            versus_baseline: Vec::new(),
        }
    }

    #[test]
    fn pareto_front_keeps_the_non_dominated() {
        let mut rows = vec![
            row("a", 10.0, 0.9),
            row("b", 20.0, 0.99),
            row("c", 25.0, 0.95),
            row("d", 10.0, 0.8),
        ];
        mark_pareto(&mut rows);
        let front: Vec<&str> = rows
            .iter()
            .filter(|r| r.pareto)
            .map(|r| r.variant.as_str())
            .collect();
        assert_eq!(front, vec!["a", "b"]);
    }

    #[test]
    fn junit_counts_cases_and_failures() {
        let ok = AssertionOutcome {
            expr: "slo.attainment >= 0.9".into(),
            value: Some(0.95),
            passed: true,
            failed_replications: Vec::new(),
        };
        let bad = AssertionOutcome {
            expr: "cost.total <= 1".into(),
            value: Some(3.5),
            passed: false,
            failed_replications: Vec::new(),
        };
        let binding = [ok, bad];
        let x = junit("t", &[("v1", &binding[..]), ("v2", &[])]);
        assert!(x.contains("tests=\"3\" failures=\"1\""), "{x}");
        assert!(
            x.contains("<failure message=\"cost.total &lt;= 1 failed\">measured 3.5</failure>"),
            "{x}"
        );
        assert!(x.contains("name=\"run completed\""));
    }
}
