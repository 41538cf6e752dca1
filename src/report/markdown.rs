//! `report.md`: a capacity-review page — the scenario in a paragraph, the summary table, the
//! assertions, the notable events, and the engine caveats that applied.

use std::fmt::Write;

use super::workload;
use crate::engine::EngineVersion;
use crate::model::autoscalers::AutoscalerSpec;
use crate::model::results::{Notable, Results};
use crate::model::spec::WorldSpec;
use crate::outputs::summary::Summary;
use crate::scenario::Scenario;

/// A number as the tables show it: whole numbers without decimals, others with three.
fn num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x:.3}")
    }
}

/// A number that may be missing (a latency without samples).
fn opt(v: Option<f64>) -> String {
    v.map_or("–".into(), num)
}

/// A figure of the summary, `shown` as the table writes it, with the half-width of its 95 %
/// interval when the summary is the mean of replications (`112.4 ± 6.6`).
fn fig(s: &Summary, metric: &str, shown: String) -> String {
    match s.replications.as_ref().and_then(|r| r.stats.get(metric)) {
        Some(e) if e.n > 1 => format!("{shown} ± {}", num((e.ci95_high - e.ci95_low) / 2.0)),
        _ => shown,
    }
}

/// The short table printed after a run and placed in the report. Over replications, each
/// figure is the mean ± the half-width of its 95 % confidence interval.
pub fn summary_table(s: &Summary) -> String {
    let mut t = String::new();
    let r = &s.requests;
    let l = &s.latency;
    let f = |metric: &str, shown: String| fig(s, metric, shown);
    let rows: [(&str, String); 10] = [
        (
            "requests",
            format!(
                "{} total, {} completed, {} failed, {} dropped, {} in flight",
                f("requests.total", r.total.to_string()),
                f("requests.completed", r.completed.to_string()),
                f("requests.failed", r.failed.to_string()),
                f("requests.dropped", r.dropped.to_string()),
                f("requests.in_flight", r.in_flight.to_string())
            ),
        ),
        ("SLO attainment", f("slo.attainment", num(s.slo.attainment))),
        (
            "goodput (req/s)",
            f("slo.goodput_rps", num(s.slo.goodput_rps)),
        ),
        (
            "TTFT p50 / p99 (s)",
            format!(
                "{} / {}",
                f("latency.ttft.p50", opt(l.ttft.p50)),
                f("latency.ttft.p99", opt(l.ttft.p99))
            ),
        ),
        (
            "TPOT p50 / p99 (s)",
            format!(
                "{} / {}",
                f("latency.tpot.p50", opt(l.tpot.p50)),
                f("latency.tpot.p99", opt(l.tpot.p99))
            ),
        ),
        (
            "end-to-end p50 / p99 (s)",
            format!(
                "{} / {}",
                f("latency.e2e.p50", opt(l.e2e.p50)),
                f("latency.e2e.p99", opt(l.e2e.p99))
            ),
        ),
        ("cost", f("cost.total", num(s.cost.total))),
        (
            "servers avg / peak",
            format!(
                "{} / {}",
                f("replicas.average", num(s.replicas.average)),
                f("replicas.peak", s.replicas.peak.to_string())
            ),
        ),
        (
            "scale events",
            f("scaling.scale_events", s.scaling.scale_events.to_string()),
        ),
        (
            "panic time (s) / skipped ticks",
            format!(
                "{} / {}",
                f("scaling.panic_seconds", num(s.scaling.panic_seconds)),
                f("scaling.skipped_ticks", s.scaling.skipped_ticks.to_string())
            ),
        ),
    ];
    let header = match &s.replications {
        Some(r) if r.count > 1 => format!(
            "| metric | mean of {} replications ± 95 % CI |\n|---|---|",
            r.count
        ),
        _ => "| metric | value |\n|---|---|".to_string(),
    };
    for w in &s.warnings {
        let _ = writeln!(t, "**warning:** {w}\n");
    }
    let _ = writeln!(t, "{header}");
    for (k, v) in rows {
        let _ = writeln!(t, "| {k} | {v} |");
    }
    t
}

fn caveats(engine: EngineVersion) -> &'static [&'static str] {
    match engine {
        EngineVersion::V0_4 => &[
            "Kthena v0.4 takes no decision while any pod of a target is not ready: during a scale-up the new pods freeze autoscaling until they are ready.",
            "A terminating pod counts as failed: while a scale-down drains, the target's ticks are skipped.",
            "The scale-down rate limit is anchored on the smallest recent decision; panic mode cannot scale up from a recorded 0.",
            "Tolerance compares the sum of the pods' metric with the per-replica target.",
        ],
        EngineVersion::Head => &[
            "Unready pods are counted, not measured: with them present a total load above target blocks every scale-down.",
            "A terminating pod counts as failed: while a scale-down drains, the affected metric group is dropped and the tick usually skipped.",
            "Tolerance compares the sum of the pods' metric with the per-replica target.",
        ],
    }
}

/// The charts `run` draws beside the report, each with what to look for.
const CHARTS: &str = "\
Replicas the autoscaler asked for (spec) and ready servers per scaled target, within the \
policy's min–max band, with panic mode shaded and the request rate on the right axis:

![Replicas](replicas.svg)

TTFT, time per output token and end-to-end latency per minute (p50 and p99 of the requests \
that completed in that minute, log scale) against the SLO thresholds:

![Latency](latency.svg)

Requests waiting and running, and KV-cache usage, per scaled target:

![Queue](queue.svg)

Cumulative cost per ModelServing:

![Cost](cost.svg)
";

/// Which charts were drawn beside a report: its folder's own, and (over replications) each
/// replication's in `replications/<r>/`. The report links only to charts that exist, and
/// says how to draw the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChartsDrawn {
    pub here: bool,
    pub replications: bool,
}

impl ChartsDrawn {
    pub const ALL: ChartsDrawn = ChartsDrawn {
        here: true,
        replications: true,
    };
}

/// The "Charts" section of a report (`replicated`: the folder of several replications).
fn charts_section(drawn: ChartsDrawn, replicated: bool) -> String {
    const LATER: &str =
        "`kthena-sim chart` on this folder draws them from its files and links them here.";
    let median = "Each chart shows the median of the replications at every tick and minute; the replicas chart also draws each replication's spec replicas faintly.";
    match (drawn.here, replicated, drawn.replications) {
        (true, false, _) => format!("## Charts\n\n{CHARTS}\n"),
        (true, true, true) => format!(
            "## Charts\n\n{CHARTS}\n{median} Every replication's own charts are in `replications/<r>/`.\n\n"
        ),
        (true, true, false) => format!(
            "## Charts\n\n{CHARTS}\n{median} The replications' own charts were not drawn (see `--charts`): `kthena-sim chart` on this folder draws them in `replications/<r>/`.\n\n"
        ),
        (false, false, _) => format!(
            "## Charts\n\nThe charts of this run (replicas, latency, queue and cost, as SVG and PNG) were not drawn (see `--charts`): {LATER}\n\n"
        ),
        (false, true, _) => format!(
            "## Charts\n\nThe charts of the replications' median (replicas, latency, queue and cost, as SVG and PNG) were not drawn (see `--charts`): {LATER}\n\n"
        ),
    }
}

/// A report written without some of its charts, with the Charts section of a report whose
/// charts are all drawn (`kthena-sim chart` drew them); `None` when it has nothing to change.
pub fn with_all_charts(report: &str) -> Option<String> {
    for replicated in [false, true] {
        let all = charts_section(ChartsDrawn::ALL, replicated);
        for here in [false, true] {
            for replications in [false, true] {
                let drawn = ChartsDrawn { here, replications };
                let section = charts_section(drawn, replicated);
                if section != all && report.contains(&section) {
                    return Some(report.replacen(&section, &all, 1));
                }
            }
        }
    }
    None
}

/// The report page of a run; over replications (`runs`, replication 0 first, more than one),
/// `summary` is their summary, `results` replication 0's, and a section lists each
/// replication. `variant` names the variant of a comparison, sweep or plan and its settings
/// (see `variant_line` in the CLI), placed under the title: a variant's folder is often
/// read on its own. `drawn`: the charts beside it, which it links.
pub fn report(
    scn: &Scenario,
    summary: &Summary,
    results: &Results,
    runs: &[Summary],
    variant: Option<&str>,
    drawn: ChartsDrawn,
) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# {} — capacity review\n", scn.name);
    if let Some(line) = variant {
        let _ = writeln!(md, "{line}\n");
    }
    let servings: Vec<String> = scn
        .world
        .servings
        .iter()
        .map(|s| {
            format!(
                "`{}` ({} × {} GPU pods per server, {:.2}/h per server)",
                s.name, s.pods_per_server, s.gpus_per_pod, s.price_per_hour
            )
        })
        .collect();
    let seeds = if runs.len() > 1 {
        format!("{} replications, seeds {}", runs.len(), seed_list(runs))
    } else {
        format!("seed {}", scn.seed())
    };
    let _ = writeln!(
        md,
        "Simulated {} of traffic ({seeds}) against {} with {}, routing with {}.\n",
        scn.duration().human(),
        servings.join(", "),
        autoscalers(&scn.world),
        scn.world.router,
    );
    md.push_str(&workload::section(scn, results, runs.len() > 1));
    let _ = writeln!(md, "## Summary\n\n{}", summary_table(summary));
    if summary.by_serving.len() > 1 {
        let _ = writeln!(
            md,
            "## Per ModelServing\n\n| ModelServing | completed | SLO attainment | TTFT p50 / p99 (s) | TPOT p50 (s) | end-to-end p50 / p99 (s) | servers avg / peak | cost |\n|---|---|---|---|---|---|---|---|"
        );
        for (name, v) in &summary.by_serving {
            let l = &v.latency;
            let _ = writeln!(
                md,
                "| `{name}` | {} | {} | {} / {} | {} | {} / {} | {} / {} | {} |",
                v.completed,
                num(v.slo_attainment),
                opt(l.ttft.p50),
                opt(l.ttft.p99),
                opt(l.tpot.p50),
                opt(l.e2e.p50),
                opt(l.e2e.p99),
                num(v.replicas.average),
                v.replicas.peak,
                num(v.cost),
            );
        }
        md.push('\n');
    }
    if has_faults(scn) {
        faults_section(&mut md, summary);
    }
    if runs.len() > 1 {
        replications_section(&mut md, runs);
    }
    md.push_str(&charts_section(drawn, runs.len() > 1));
    if !summary.assertions.is_empty() {
        let _ = writeln!(
            md,
            "## Assertions\n\n| assertion | measured | verdict |\n|---|---|---|"
        );
        for o in &summary.assertions {
            let verdict = match (o.passed, o.failed_replications.as_slice()) {
                (true, _) => "pass".to_string(),
                (false, []) => "**FAIL**".to_string(),
                (false, failed) => format!(
                    "**FAIL** in replication{} {}",
                    if failed.len() == 1 { "" } else { "s" },
                    failed
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            let _ = writeln!(md, "| `{}` | {} | {verdict} |", o.expr, opt(o.value));
        }
        md.push('\n');
    }
    if runs.len() > 1 {
        let _ = writeln!(md, "## Notable events (replication 1)\n");
    } else {
        let _ = writeln!(md, "## Notable events\n");
    }
    if results.notable.is_empty() {
        let _ = writeln!(md, "None.");
    }
    // A policy that flaps enters panic mode again and again: one line, with the count.
    let mut shown_panics: Vec<&str> = Vec::new();
    for (t, what) in &results.notable {
        let mut line = format!("- t = {}: {what}", t.since_start().human());
        if let Notable::PanicEntered(key) = what {
            if shown_panics.contains(&key.as_str()) {
                continue;
            }
            shown_panics.push(key);
            let times = results
                .notable
                .iter()
                .filter(|(_, n)| matches!(n, Notable::PanicEntered(k) if k == key))
                .count();
            if times > 1 {
                line.push_str(&format!(" — entered {times} times in all"));
            }
        }
        let _ = writeln!(md, "{line}");
    }
    if !scn.world.policies.is_empty() {
        let _ = writeln!(md, "\n## Engine caveats ({})\n", scn.world.engine);
        for c in caveats(scn.world.engine) {
            let _ = writeln!(md, "- {c}");
        }
    }
    md
}

/// Which autoscalers ran and on what clocks: Kthena's engine with its policies, then each HPA,
/// KEDA ScaledObject and KPA by its key.
fn autoscalers(world: &WorldSpec) -> String {
    let mut parts = Vec::new();
    let n = world.policies.len();
    if n > 0 || world.autoscalers.is_empty() {
        parts.push(format!(
            "the Kthena {} autoscaler engine (sync period {}, {n} polic{})",
            world.engine,
            world.clock.sync_period.human(),
            if n == 1 { "y" } else { "ies" },
        ));
    }
    for a in &world.autoscalers {
        let what = match a {
            AutoscalerSpec::Hpa(_) => "a Kubernetes HPA (15 s sync)".to_string(),
            AutoscalerSpec::Keda(k) => format!(
                "a KEDA ScaledObject ({} polls, its HPA every 15 s)",
                k.polling_interval().human()
            ),
            AutoscalerSpec::Kpa { .. } => {
                "a Knative KPA (2 s decider ticks over 1 s metric buckets)".to_string()
            }
        };
        parts.push(format!("{what} `{}`", a.key()));
    }
    parts.join(" and ")
}

fn seed_list(runs: &[Summary]) -> String {
    runs.iter()
        .map(|r| r.seed.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Each replication's main figures, beside the others.
fn replications_section(md: &mut String, runs: &[Summary]) {
    let _ = writeln!(
        md,
        "## Replications\n\nThe same scenario with {} seeds; every variant of a comparison runs the same seeds, so that it sees the same arrivals, token lengths and startup times.\n\n| replication | seed | cost | SLO attainment | TTFT p99 (s) | servers avg / peak | scale events | assertions |\n|---|---|---|---|---|---|---|---|",
        runs.len()
    );
    for (r, s) in runs.iter().enumerate() {
        let passed = s.assertions.iter().filter(|o| o.passed).count();
        let _ = writeln!(
            md,
            "| [{}](replications/{}/report.md) | {} | {} | {} | {} | {} / {} | {} | {passed}/{} |",
            r + 1,
            r + 1,
            s.seed,
            num(s.cost.total),
            num(s.slo.attainment),
            opt(s.latency.ttft.p99),
            num(s.replicas.average),
            s.replicas.peak,
            s.scaling.scale_events,
            s.assertions.len()
        );
    }
    md.push('\n');
}

fn has_faults(scn: &Scenario) -> bool {
    !scn.world.node_losses.is_empty()
        || scn
            .world
            .servings
            .iter()
            .any(|s| s.faults.crashes.is_some() || s.faults.image_pull.is_some())
}

/// What the scenario's faults did, beside the requests they cost.
fn faults_section(md: &mut String, summary: &Summary) {
    let f = &summary.faults;
    let _ = writeln!(
        md,
        "## Faults\n\n| fault | effect |\n|---|---|\n\
         | container crashes | {} (requests failed by crashes and lost nodes: {}) |\n\
         | ticks skipped while a restarted pod was in the target | {} |\n\
         | nodes lost / pods lost | {} / {} |\n\
         | failed image pulls / pods delayed / total delay (s) | {} / {} / {} |\n",
        f.crashes,
        summary.requests.failed_crashed,
        f.ticks_skipped_with_restarted_pods,
        f.node_losses,
        f.pods_lost,
        f.image_pull_failures,
        f.image_pull_delayed_pods,
        num(f.image_pull_delay_s),
    );
    let _ = writeln!(
        md,
        "A crashed container is restarted in place; its pod keeps `restartCount > 0`, which Kthena's collector counts as failed until the pod is deleted (the timeline's `restarted` column). Pods of a lost node stay, not ready, until evicted (`lost`), then their serving groups are recreated.\n"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A report's "Charts" section links the charts that were drawn and no other, and
    /// `with_all_charts` turns a section written without some into the one of a folder with
    /// all of them (what `kthena-sim chart` does after drawing them).
    #[test]
    fn the_charts_section_links_only_drawn_charts_until_they_are_drawn() {
        for replicated in [false, true] {
            let all = charts_section(ChartsDrawn::ALL, replicated);
            let full = format!("# r\n\n{all}## Assertions\n");
            assert_eq!(all.matches(".svg)").count(), 4);
            assert_eq!(with_all_charts(&full), None);
            for here in [false, true] {
                for replications in [false, true] {
                    let section = charts_section(ChartsDrawn { here, replications }, replicated);
                    let links = if here { 4 } else { 0 };
                    assert_eq!(section.matches(".svg)").count(), links, "{section}");
                    let page = format!("# r\n\n{section}## Assertions\n");
                    let linked = with_all_charts(&page).unwrap_or(page);
                    assert_eq!(linked, full, "here {here}, replications {replications}");
                }
            }
        }
    }
}
