//! What a finished run says about its policies that the user must not miss: a policy whose
//! ticks were all (or nearly all) skipped, one that never changed the replica count, and one
//! that flapped. Each is one line, flagged above the summary table and in `summary.json`.

use crate::model::results::Results;

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
    let mut out = Vec::new();
    for p in &results.timeline.policies {
        let (policy, total) = (&p.policy, p.ticks);
        let skipped: usize = p.skipped.iter().map(|s| s.1).sum();
        if total > 0 && skipped as f64 >= MOSTLY_SKIPPED * total as f64 {
            // The most frequent reason (the last of equals).
            let reason = (p.skipped.iter().max_by_key(|s| s.1)).map_or("", |s| s.2.as_str());
            out.push(format!(
                "policy {policy}: {skipped} of {total} ticks skipped ({reason}) — this policy never scales"
            ));
            continue;
        }
        if !p.fixed && p.spec_constant && total >= MIN_TICKS {
            out.push(format!(
                "policy {policy}: never changed the replica count in {total} ticks (spec replicas stayed at {})",
                p.first_spec
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
