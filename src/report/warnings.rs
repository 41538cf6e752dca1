//! What a finished run says about its policies that the user must not miss: a policy whose
//! ticks were all (or nearly all) skipped, one that never changed the replica count, and one
//! that flapped. Each is one line, flagged above the summary table and in `summary.json`.

use indexmap::IndexMap;

use crate::model::results::Results;
use crate::outputs::rows::TimelineRow;

/// A policy whose ticks were skipped at least this often never really scaled.
const MOSTLY_SKIPPED: f64 = 0.9;
/// A policy that held the replica count over fewer ticks than this may simply not have
/// needed to move.
const MIN_TICKS: usize = 40;
/// More scale events per simulated hour than this, over a run of an hour or more, is
/// flapping.
const FLAPPING_PER_HOUR: f64 = 20.0;

/// The run's warnings, one line each, in policy order.
pub fn run_warnings(results: &Results) -> Vec<String> {
    let mut by_policy: IndexMap<&str, Vec<&TimelineRow>> = IndexMap::new();
    for row in &results.timeline {
        by_policy.entry(row.policy.as_str()).or_default().push(row);
    }
    let mut out = Vec::new();
    for (policy, rows) in by_policy {
        // A tick is skipped when every row of it (one per scaled target) is.
        let mut ticks: IndexMap<u64, (bool, &TimelineRow)> = IndexMap::new();
        for r in &rows {
            let e = ticks.entry(r.time_s.to_bits()).or_insert((true, r));
            e.0 &= r.skip;
        }
        let total = ticks.len();
        let skipped: Vec<&TimelineRow> = ticks.values().filter(|t| t.0).map(|t| t.1).collect();
        if total > 0 && skipped.len() as f64 >= MOSTLY_SKIPPED * total as f64 {
            let mut reasons: IndexMap<&str, (usize, &str)> = IndexMap::new();
            for r in &skipped {
                reasons
                    .entry(r.reason_code.as_str())
                    .or_insert((0, &r.reason))
                    .0 += 1;
            }
            let (_, (_, reason)) = reasons
                .iter()
                .max_by_key(|(_, (n, _))| *n)
                .map(|(c, v)| (*c, *v))
                .unwrap_or(("", (0, "")));
            out.push(format!(
                "policy {policy}: {} of {total} ticks skipped ({reason}) — this policy never scales",
                skipped.len()
            ));
            continue;
        }
        let fixed = rows.iter().all(|r| r.min_replicas == r.max_replicas);
        let first = rows[0].spec_replicas;
        if !fixed && rows.iter().all(|r| r.spec_replicas == first) && total >= MIN_TICKS {
            out.push(format!(
                "policy {policy}: never changed the replica count in {total} ticks (spec replicas stayed at {first})"
            ));
        }
    }
    let hours = results.duration.as_secs_f64() / 3600.0;
    if hours >= 1.0 {
        let per_hour = results.scale_events as f64 / hours;
        if per_hour > FLAPPING_PER_HOUR {
            out.push(format!(
                "flapping: {} scale events in {hours:.1} h ({per_hour:.0} per hour)",
                results.scale_events
            ));
        }
    }
    out
}
