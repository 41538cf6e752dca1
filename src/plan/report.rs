//! `plan.md`: the winner against the scenario as written, the settings to apply, the
//! runner-ups, why the others failed, the search step by step, and every candidate.

use std::fmt::Write;

use super::search::{Candidate, SearchResult};
use super::Plan;
use crate::outputs::comparison::Row;
use crate::outputs::plan::{PlanCandidate, PlanDimension, PlanFile};
use crate::scenario::setting::Scope;

/// How many runner-ups `plan.md` and the terminal show.
pub const RUNNER_UPS: usize = 5;

/// What evaluating one candidate gave.
#[derive(Debug, Clone)]
pub enum Evaluation {
    /// It ran: its measurements and assertion outcomes.
    Measured(Box<Row>),
    /// The scenario refused it (the message says why); it did not run.
    Refused(String),
}

/// Everything `plan.md` shows.
pub struct PlanReport<'a> {
    pub title: &'a str,
    /// The scenario file as given on the command line, for the re-run command.
    pub scenario: &'a str,
    pub plan: &'a Plan,
    pub assertions: &'a [String],
    pub result: &'a SearchResult,
    /// By candidate index.
    pub evaluations: &'a [Evaluation],
    /// The manifest files written under `manifests/`.
    pub manifests: &'a [String],
}

fn row<'a>(r: &'a PlanReport, c: &Candidate) -> Option<&'a Row> {
    match r.evaluations.get(c.index) {
        Some(Evaluation::Measured(row)) => Some(row),
        _ => None,
    }
}

fn settings_text(c: &Candidate) -> String {
    if c.settings.is_empty() {
        "(as written)".into()
    } else {
        c.settings
            .iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn failures(r: &PlanReport, c: &Candidate) -> String {
    match r.evaluations.get(c.index) {
        Some(Evaluation::Measured(row)) => row
            .assertions
            .iter()
            .filter(|o| !o.passed)
            .map(|o| {
                let measured = o.value.map_or("nothing".into(), |v| v.to_string());
                match o.failed_replications.as_slice() {
                    [] => format!("`{}` measured {measured}", o.expr),
                    failed => format!(
                        "`{}` failed in replication{} {} (mean {measured})",
                        o.expr,
                        if failed.len() == 1 { "" } else { "s" },
                        failed
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                }
            })
            .collect::<Vec<_>>()
            .join("; "),
        Some(Evaluation::Refused(e)) => format!("refused: {e}"),
        None => String::new(),
    }
}

fn verdict(r: &PlanReport, c: &Candidate) -> String {
    let replications = |row: &Row| {
        if row.replications > 1 {
            format!(
                " ({}/{} replications)",
                row.replications_passed(),
                row.replications
            )
        } else {
            String::new()
        }
    };
    match (r.evaluations.get(c.index), c.meets()) {
        (Some(Evaluation::Refused(_)), _) => "refused".into(),
        (Some(Evaluation::Measured(row)), true) => format!("meets{}", replications(row)),
        (_, true) => "meets".into(),
        (Some(Evaluation::Measured(row)), false) => format!(
            "fails {}/{}{}",
            row.assertions.iter().filter(|o| !o.passed).count(),
            row.assertions.len(),
            replications(row)
        ),
        (None, false) => "–".into(),
    }
}

/// The single-quoted `--set` options that reproduce a candidate with `kthena-sim run`.
pub fn rerun_command(scenario: &str, c: &Candidate) -> String {
    let mut cmd = format!("kthena-sim run {scenario}");
    for s in &c.settings {
        let _ = write!(cmd, " --set '{s}'");
    }
    cmd
}

impl PlanReport<'_> {
    /// `plan.json`, with `rows` the table of the candidates that ran.
    pub fn file(&self, rows: &[Row]) -> PlanFile {
        let one = |c: &Candidate| self.candidate(c);
        let result = self.result;
        PlanFile {
            title: self.title.to_string(),
            max_runs: self.plan.max_runs,
            budget_exhausted: result.budget_exhausted,
            dimensions: self
                .plan
                .dimensions
                .iter()
                .map(|d| PlanDimension {
                    key: d.key.clone(),
                    monotone: d.monotone.map(|m| m.as_str().to_string()),
                    values: d.values.iter().map(|s| s.text.clone()).collect(),
                    scenario_value: d.scenario_value.clone(),
                })
                .collect(),
            start: result.candidates.first().map(one),
            winner: result.winner.map(|w| one(&result.candidates[w])),
            closest: result
                .winner
                .is_none()
                .then(|| result.closest())
                .flatten()
                .map(one),
            runner_ups: result
                .ranking()
                .iter()
                .skip(1)
                .take(RUNNER_UPS)
                .map(|c| one(c))
                .collect(),
            steps: result.steps.clone(),
            candidates: result.candidates.iter().map(one).collect(),
            rows: rows.to_vec(),
            warnings: self.warnings(),
        }
    }

    /// What the measurements say about the search: the winner at the cheap edge of a
    /// searched range (a value beyond might be cheaper still), and a monotone hint the
    /// measurements contradict (a more generous value failed where a cheaper one met, the
    /// other settings equal).
    pub fn warnings(&self) -> Vec<String> {
        let res = self.result;
        let mut out = Vec::new();
        if let Some(w) = res.winner.map(|w| &res.candidates[w]) {
            for (d, v) in self.plan.dimensions.iter().zip(&w.point) {
                let (Some(i), n) = (*v, d.values.len()) else {
                    continue;
                };
                if n < 2 {
                    continue;
                }
                let cheap_edge = match d.monotone {
                    Some(_) => d.position(i) == 0,
                    None => i == 0 || i + 1 == n,
                };
                let numeric = d.values.iter().all(|s| s.value.as_f64().is_some());
                if cheap_edge && numeric {
                    out.push(format!(
                        "the winner's `{}` = {} is at the edge of the searched values ({} … {}): a value beyond it may be cheaper still; widen the range",
                        d.key, d.values[i].text, d.values[0].text, d.values[n - 1].text
                    ));
                }
            }
        }
        for (k, d) in self.plan.dimensions.iter().enumerate() {
            if d.monotone.is_none() {
                continue;
            }
            let mut flagged = false;
            for a in &res.candidates {
                for b in &res.candidates {
                    let (Some(ia), Some(ib)) = (a.point[k], b.point[k]) else {
                        continue;
                    };
                    let others_equal = a
                        .point
                        .iter()
                        .zip(&b.point)
                        .enumerate()
                        .all(|(j, (x, y))| j == k || x == y);
                    // `a` is cheaper and meets, `b` more generous and fails.
                    let contradicts = others_equal
                        && d.position(ia) < d.position(ib)
                        && a.meets()
                        && b.verdict.as_ref().is_some_and(|v| !v.meets());
                    if contradicts && !flagged {
                        flagged = true;
                        out.push(format!(
                            "the measurements contradict the monotone hint `{}` on `{}`: {} ({}) meets but the more generous {} ({}) fails; bisection may have skipped cheaper values",
                            d.monotone.map_or("", |m| m.as_str()),
                            d.key,
                            a.name(),
                            d.values[ia].text,
                            b.name(),
                            d.values[ib].text
                        ));
                    }
                }
            }
        }
        out
    }

    fn candidate(&self, c: &Candidate) -> PlanCandidate {
        let evaluation = self.evaluations.get(c.index);
        let verdict = match (evaluation, c.meets()) {
            (Some(Evaluation::Refused(_)), _) => "refused",
            (_, true) => "meets",
            _ => "fails",
        };
        let (cost, attainment, error) = match evaluation {
            Some(Evaluation::Measured(row)) => (Some(row.cost), Some(row.attainment), None),
            Some(Evaluation::Refused(e)) => (None, None, Some(e.clone())),
            None => (None, None, None),
        };
        let replications_passed = match evaluation {
            Some(Evaluation::Measured(row)) if row.replications > 1 => {
                Some((row.replications_passed(), row.replications))
            }
            _ => None,
        };
        PlanCandidate {
            replications_passed,
            candidate: c.name(),
            purpose: c.purpose.clone(),
            settings: c.settings.iter().map(ToString::to_string).collect(),
            verdict: verdict.to_string(),
            cost,
            attainment,
            error,
        }
    }

    /// The summary (winner, runner-ups, failures, search) — also printed on the terminal.
    pub fn summary(&self) -> String {
        let mut md = String::new();
        let res = self.result;
        let _ = writeln!(md, "# {}\n", self.title);
        let _ = writeln!(
            md,
            "Assertions to meet: {}. {} configurations evaluated (max_runs {}){}.\n",
            self.assertions
                .iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", "),
            res.candidates.len(),
            self.plan.max_runs,
            if res.budget_exhausted {
                ", which cut the search short"
            } else {
                ""
            }
        );
        let start = &res.candidates[0];
        match res.winner.map(|w| &res.candidates[w]) {
            Some(w) => self.winner(&mut md, start, w),
            None => self.no_winner(&mut md),
        }
        let failed: Vec<&Candidate> = res.candidates.iter().filter(|c| !c.meets()).collect();
        if !failed.is_empty() {
            let _ = writeln!(md, "## Why the others failed\n");
            for c in failed {
                let _ = writeln!(
                    md,
                    "- **{}** ({}): {}",
                    c.name(),
                    settings_text(c),
                    failures(self, c)
                );
            }
            md.push('\n');
        }
        let warnings = self.warnings();
        if !warnings.is_empty() {
            let _ = writeln!(md, "## Warnings\n");
            for w in warnings {
                let _ = writeln!(md, "- {w}");
            }
            md.push('\n');
        }
        let _ = writeln!(md, "## Search\n");
        for (i, s) in res.steps.iter().enumerate() {
            let _ = writeln!(md, "{}. {s}", i + 1);
        }
        md
    }

    fn winner(&self, md: &mut String, start: &Candidate, w: &Candidate) {
        let _ = writeln!(md, "## Winner: {}\n", w.name());
        let (Some(s), Some(r)) = (row(self, start), row(self, w)) else {
            return;
        };
        let _ = writeln!(
            md,
            "| | start ({}) | winner ({}) |\n|---|---|---|",
            start.name(),
            w.name()
        );
        let _ = writeln!(md, "| cost | {:.2} | {:.2} |", s.cost, r.cost);
        let _ = writeln!(
            md,
            "| SLO attainment | {:.4} | {:.4} |",
            s.attainment, r.attainment
        );
        let _ = writeln!(
            md,
            "| servers avg / peak | {:.2} / {} | {:.2} / {} |",
            s.replicas_average, s.replicas_peak, r.replicas_average, r.replicas_peak
        );
        let _ = writeln!(
            md,
            "| assertions | {} | {} |\n",
            verdict(self, start),
            verdict(self, w)
        );
        let _ = writeln!(md, "| setting | scenario | winner |\n|---|---|---|");
        for (d, v) in self.plan.dimensions.iter().zip(&w.point) {
            let (was, now) = (d.value_text(d.current), d.value_text(*v));
            let now = if *v == d.current {
                now
            } else {
                format!("**{now}**")
            };
            let _ = writeln!(md, "| `{}` | {was} | {now} |", d.key);
        }
        md.push('\n');
        if w.settings.is_empty() {
            let _ = writeln!(
                md,
                "The scenario as written is already the cheapest configuration found.\n"
            );
        }
        if !self.manifests.is_empty() {
            let _ = writeln!(
                md,
                "Ready-to-apply manifests with the winning settings: {}.",
                self.manifests
                    .iter()
                    .map(|m| format!("`manifests/{m}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        let scenario_fields: Vec<String> = w
            .settings
            .iter()
            .filter(|s| s.scope() == Scope::Scenario)
            .map(|s| format!("`{s}`"))
            .collect();
        if !scenario_fields.is_empty() {
            let _ = writeln!(
                md,
                "Scenario fields to change (not in the manifests): {}.",
                scenario_fields.join(", ")
            );
        }
        let _ = writeln!(
            md,
            "The winner's run: `winner/`. Re-run it: `{}`\n",
            rerun_command(self.scenario, w)
        );
        let runner_ups: Vec<&Candidate> = self
            .result
            .ranking()
            .into_iter()
            .skip(1)
            .take(RUNNER_UPS)
            .collect();
        if !runner_ups.is_empty() {
            let _ = writeln!(
                md,
                "## Runner-ups\n\n| candidate | cost | SLO attainment | settings |\n|---|---|---|---|"
            );
            for c in runner_ups {
                if let Some(r) = row(self, c) {
                    let _ = writeln!(
                        md,
                        "| {} | {:.2} | {:.4} | {} |",
                        c.name(),
                        r.cost,
                        r.attainment,
                        settings_text(c)
                    );
                }
            }
            md.push('\n');
        }
    }

    fn no_winner(&self, md: &mut String) {
        let _ = writeln!(md, "## No configuration meets every assertion\n");
        if let Some(c) = self.result.closest() {
            let _ = writeln!(
                md,
                "Closest: **{}** ({}): {}. Its run: `closest/`.\n",
                c.name(),
                settings_text(c),
                failures(self, c)
            );
        }
    }

    /// The whole `plan.md`: the summary and every candidate.
    pub fn markdown(&self) -> String {
        let mut md = self.summary();
        let _ = writeln!(
            md,
            "\n## All candidates\n\n| candidate | why evaluated | settings | cost | SLO attainment | verdict |\n|---|---|---|---|---|---|"
        );
        for c in &self.result.candidates {
            let (cost, att) = row(self, c).map_or(("–".into(), "–".into()), |r| {
                (format!("{:.2}", r.cost), format!("{:.4}", r.attainment))
            });
            let _ = writeln!(
                md,
                "| {} | {} | {} | {cost} | {att} | {} |",
                c.name(),
                c.purpose,
                settings_text(c),
                verdict(self, c)
            );
        }
        md
    }
}
