//! The folder of a shadow replay: `report.md` (agreement, the ticks that differ and why, what
//! was stale), `shadow.csv`, `ticks.jsonl` (the assembled ticks in the golden format, so that
//! `kthena-sim replay --check` reproduces every decision) and the replicas chart.

use std::fmt::Write as _;

use super::shadow::{agreement, Shadow, ShadowSpec};
use super::time::format_time;
use crate::chart::{self, ChartError};
use crate::outputs::csv_bytes;

/// At most this many differing ticks are listed in the report (all are in `shadow.csv`).
const MAX_LISTED: usize = 50;

/// The folder's files as (name, bytes); `source` names where the series came from.
pub fn files(
    shadow: &Shadow,
    spec: &ShadowSpec,
    source: &str,
) -> Result<Vec<(String, Vec<u8>)>, ChartError> {
    let subtitle = format!(
        "policy {} ({} engine) on {source}, {} to {}",
        spec.policy.name,
        spec.engine.as_str(),
        format_time(spec.start),
        format_time(spec.end)
    );
    let (svg, png) = chart::shadow::render(&subtitle, &shadow.rows)?;
    let csv =
        csv_bytes(shadow.rows.iter().cloned()).map_err(|e| ChartError::Draw(e.to_string()))?;
    let mut jsonl = shadow.line.to_string();
    jsonl.push('\n');
    Ok(vec![
        (
            "report.md".into(),
            markdown(shadow, spec, &subtitle).into_bytes(),
        ),
        ("shadow.csv".into(), csv),
        ("ticks.jsonl".into(), jsonl.into_bytes()),
        ("replicas.svg".into(), svg),
        ("replicas.png".into(), png),
    ])
}

/// The one-line verdict printed on stdout and heading the report.
pub fn verdict(shadow: &Shadow) -> String {
    let (agree, compared) = agreement(&shadow.rows);
    let ticks = shadow
        .rows
        .iter()
        .map(|r| r.t_ms)
        .collect::<std::collections::BTreeSet<_>>();
    let stale = (shadow.rows.iter().filter(|r| !r.stale.is_empty()))
        .map(|r| r.t_ms)
        .collect::<std::collections::BTreeSet<_>>();
    let pct = if compared == 0 {
        0.0
    } else {
        100.0 * agree as f64 / compared as f64
    };
    format!(
        "{pct:.1} % agreement: {agree} of {compared} ticks with a recorded next count ({} ticks replayed, {} with stale or missing metrics, {} left out for want of spec replicas)",
        ticks.len(),
        stale.len(),
        shadow.gaps.len()
    )
}

fn markdown(shadow: &Shadow, spec: &ShadowSpec, subtitle: &str) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# Shadow replay of {}\n", spec.policy.name);
    let _ = writeln!(md, "{subtitle}; a tick every {} s.\n", spec.sync_ms / 1000);
    let _ = writeln!(md, "**{}**\n", verdict(shadow));
    let _ = writeln!(
        md,
        "A tick agrees when, for every scaled unit, the replicas the replayed engine wrote (the \
         current count when it wrote nothing) equal the spec replicas Prometheus recorded at the \
         next tick. {} pods were seen.\n",
        shadow.pods_seen
    );
    md.push_str("![recorded and replayed replicas](replicas.svg)\n\n");
    let differ: Vec<_> = shadow
        .rows
        .iter()
        .filter(|r| r.agree == Some(false))
        .collect();
    md.push_str("## Ticks that differ\n\n");
    if differ.is_empty() {
        md.push_str("None.\n\n");
    } else {
        md.push_str("| time | unit | current | replayed | recorded | engine's reason | stale or missing |\n|---|---|---|---|---|---|---|\n");
        for r in differ.iter().take(MAX_LISTED) {
            let recorded = r.recorded.map_or(String::new(), |v| v.to_string());
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {recorded} | {} | {} |",
                r.time, r.unit, r.current, r.replayed, r.reason, r.stale
            );
        }
        if differ.len() > MAX_LISTED {
            let _ = writeln!(
                md,
                "\n… and {} more in `shadow.csv`.",
                differ.len() - MAX_LISTED
            );
        }
        md.push('\n');
    }
    let stale: Vec<_> = shadow.rows.iter().filter(|r| !r.stale.is_empty()).collect();
    md.push_str("## Stale or missing metrics\n\n");
    if stale.is_empty() {
        let _ = writeln!(
            md,
            "None: at every tick each ready pod's metrics were at most {} s old.\n",
            spec.max_age_ms / 1000
        );
    } else {
        md.push_str("What Kthena's collector read at these ticks is not what Prometheus holds: the replay used the newest sample of the last 5 minutes, or a scrape error when there was none.\n\n| time | unit | what |\n|---|---|---|\n");
        for r in stale.iter().take(MAX_LISTED) {
            let _ = writeln!(md, "| {} | {} | {} |", r.time, r.unit, r.stale);
        }
        if stale.len() > MAX_LISTED {
            let _ = writeln!(
                md,
                "\n… and {} more in `shadow.csv`.",
                stale.len() - MAX_LISTED
            );
        }
        md.push('\n');
    }
    if !shadow.gaps.is_empty() {
        let _ = writeln!(
            md,
            "## Ticks left out\n\n{} ticks had no spec replicas in Prometheus for some unit (the first at {}); the engine did not see them.\n",
            shadow.gaps.len(),
            format_time(shadow.gaps[0])
        );
    }
    md.push_str("## Limits\n\nThe recorded metrics followed the decisions that were taken: a policy other than the deployed one is replayed on metrics that did not react to its decisions. This answers \"what would it have decided on these metrics\"; to see what would have happened, simulate it (`kthena-sim run`).\n\n`ticks.jsonl` holds the assembled ticks and these decisions in the golden format: `kthena-sim replay --check --engine ENGINE ticks.jsonl` reproduces them.\n");
    md
}
