//! The search of `kthena-sim plan`: bounded, deterministic and explained.
//!
//! 1. Evaluate the scenario as written (`c00`). If it fails, evaluate the most generous
//!    values of the monotone dimensions with every combination of the other dimensions'
//!    values (under the monotone hints, if nothing there meets, nothing does).
//! 2. From the cheapest configuration that meets, one round looks along every dimension
//!    with the others fixed: a monotone one is bisected between its cheapest value and the
//!    current one for the cheapest value that still meets (log2 of its values in runs);
//!    another one has each of its values tried. The lines of all dimensions advance
//!    together — one batch holds the next probe of every bisection — so a batch runs in
//!    parallel and its content does not depend on the number of threads.
//! 3. When several dimensions improved, their improvements combined are tried too. The
//!    search moves to the best configuration that meets so far and starts another round;
//!    it stops when a round improves nothing or `max_runs` configurations were evaluated.
//!
//! Ranking: the lowest `cost.total`; ties go to the higher SLO attainment, then to fewer
//! settings changed from the scenario, then to the earlier evaluation. Evaluations are
//! cached by their settings, so a configuration is never run twice.

use std::cmp::Ordering;
use std::collections::HashMap;

use super::bisection::Bisection;
use super::{candidate_name, Dimension, Monotone, Plan};
use crate::scenario::setting::Setting;

/// A configuration: per dimension, the index of its value, or `None` for the scenario's own
/// value when that is not one of the candidates.
pub type Point = Vec<Option<usize>>;

/// What an evaluation measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verdict {
    pub cost: f64,
    pub attainment: f64,
    /// Assertions that failed.
    pub failed: usize,
}

impl Verdict {
    pub fn meets(&self) -> bool {
        self.failed == 0
    }
}

/// One evaluated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub index: usize,
    pub point: Point,
    /// The settings that differ from the scenario, in dimension order.
    pub settings: Vec<Setting>,
    /// Why it was evaluated, e.g. `round 1: bisect binding.maxReplicas`.
    pub purpose: String,
    /// `None`: the configuration was refused (e.g. minReplicas above maxReplicas); it
    /// meets nothing.
    pub verdict: Option<Verdict>,
}

impl Candidate {
    pub fn name(&self) -> String {
        candidate_name(self.index)
    }

    pub fn meets(&self) -> bool {
        self.verdict.is_some_and(|v| v.meets())
    }
}

/// The outcome of a search.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchResult {
    /// In evaluation order; `candidates[0]` is the scenario as written.
    pub candidates: Vec<Candidate>,
    /// The cheapest candidate that meets every assertion.
    pub winner: Option<usize>,
    /// The search explained, one step per line.
    pub steps: Vec<String>,
    /// Whether `max_runs` cut the search short.
    pub budget_exhausted: bool,
}

impl SearchResult {
    /// The candidates that meet, best first.
    pub fn ranking(&self) -> Vec<&Candidate> {
        let mut met: Vec<&Candidate> = self.candidates.iter().filter(|c| c.meets()).collect();
        met.sort_by(|a, b| rank(a, b));
        met
    }

    /// When none meets: the one that came closest (fewest failed assertions, then the
    /// highest attainment, then the lowest cost).
    pub fn closest(&self) -> Option<&Candidate> {
        self.candidates
            .iter()
            .filter_map(|c| c.verdict.map(|v| (c, v)))
            .min_by(|(a, va), (b, vb)| {
                va.failed
                    .cmp(&vb.failed)
                    .then(vb.attainment.total_cmp(&va.attainment))
                    .then(va.cost.total_cmp(&vb.cost))
                    .then(a.index.cmp(&b.index))
            })
            .map(|(c, _)| c)
    }
}

/// The ranking of two candidates that both have a verdict.
fn rank(a: &Candidate, b: &Candidate) -> Ordering {
    let (Some(va), Some(vb)) = (a.verdict, b.verdict) else {
        return a.index.cmp(&b.index);
    };
    va.cost
        .total_cmp(&vb.cost)
        .then(vb.attainment.total_cmp(&va.attainment))
        .then(a.settings.len().cmp(&b.settings.len()))
        .then(a.index.cmp(&b.index))
}

/// What one round does along one dimension.
enum Line {
    Bisect {
        bisection: Bisection,
        /// The position the bisection started from (the most generous in doubt).
        from: usize,
        /// Probes in order: position, candidate.
        probes: Vec<(usize, usize)>,
    },
    Try {
        candidates: Vec<usize>,
    },
}

struct Searcher<'a, F> {
    plan: &'a Plan,
    evaluate: F,
    candidates: Vec<Candidate>,
    /// Settings (as text) → candidate.
    cache: HashMap<String, usize>,
    steps: Vec<String>,
    exhausted: bool,
}

/// Searches `plan` for the cheapest configuration that meets every assertion.
/// `evaluate` gets a batch of new candidates (their `verdict` not set yet) and returns
/// their verdicts in order; it may run them in parallel.
pub fn search<E>(
    plan: &Plan,
    evaluate: impl FnMut(&[Candidate]) -> Result<Vec<Option<Verdict>>, E>,
) -> Result<SearchResult, E> {
    let mut s = Searcher {
        plan,
        evaluate,
        candidates: Vec::new(),
        cache: HashMap::new(),
        steps: Vec::new(),
        exhausted: false,
    };
    s.run()?;
    let winner = s
        .candidates
        .iter()
        .filter(|c| c.meets())
        .min_by(|a, b| rank(a, b))
        .map(|c| c.index);
    Ok(SearchResult {
        candidates: s.candidates,
        winner,
        steps: s.steps,
        budget_exhausted: s.exhausted,
    })
}

impl<E, F: FnMut(&[Candidate]) -> Result<Vec<Option<Verdict>>, E>> Searcher<'_, F> {
    fn dims(&self) -> &[Dimension] {
        &self.plan.dimensions
    }

    fn settings(&self, point: &Point) -> Vec<Setting> {
        self.dims()
            .iter()
            .zip(point)
            .filter_map(|(d, v)| match v {
                Some(i) if Some(*i) != d.current => Some(d.values[*i].clone()),
                _ => None,
            })
            .collect()
    }

    fn key(settings: &[Setting]) -> String {
        settings
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn known(&self, point: &Point) -> Option<usize> {
        self.cache.get(&Self::key(&self.settings(point))).copied()
    }

    /// Evaluates the points not evaluated yet, as far as the budget allows, in one batch.
    /// Gives each point's candidate (`None`: over budget).
    fn batch(&mut self, points: Vec<(Point, String)>) -> Result<Vec<Option<usize>>, E> {
        let mut out = Vec::with_capacity(points.len());
        let first_new = self.candidates.len();
        for (point, purpose) in points {
            let settings = self.settings(&point);
            let key = Self::key(&settings);
            if let Some(&c) = self.cache.get(&key) {
                out.push(Some(c));
            } else if self.candidates.len() < self.plan.max_runs {
                let index = self.candidates.len();
                self.cache.insert(key, index);
                self.candidates.push(Candidate {
                    index,
                    point,
                    settings,
                    purpose,
                    verdict: None,
                });
                out.push(Some(index));
            } else {
                self.exhausted = true;
                out.push(None);
            }
        }
        if self.candidates.len() > first_new {
            let verdicts = (self.evaluate)(&self.candidates[first_new..])?;
            for (c, v) in self.candidates[first_new..].iter_mut().zip(verdicts) {
                c.verdict = v;
            }
        }
        Ok(out)
    }

    fn meets(&self, c: usize) -> bool {
        self.candidates[c].meets()
    }

    fn best(&self) -> Option<usize> {
        self.candidates
            .iter()
            .filter(|c| c.meets())
            .min_by(|a, b| rank(a, b))
            .map(|c| c.index)
    }

    fn better(&self, a: usize, b: usize) -> bool {
        rank(&self.candidates[a], &self.candidates[b]) == Ordering::Less
    }

    /// `name (verdict)` of a candidate, for the explanation.
    fn describe(&self, c: usize) -> String {
        let cand = &self.candidates[c];
        match cand.verdict {
            None => format!("{}: refused", cand.name()),
            Some(v) if v.meets() => format!(
                "{}: meets, cost {:.2}, attainment {:.4}",
                cand.name(),
                v.cost,
                v.attainment
            ),
            Some(v) => format!(
                "{}: fails {} assertion{}, cost {:.2}, attainment {:.4}",
                cand.name(),
                v.failed,
                if v.failed == 1 { "" } else { "s" },
                v.cost,
                v.attainment
            ),
        }
    }

    fn point_text(&self, point: &Point) -> String {
        self.dims()
            .iter()
            .zip(point)
            .map(|(d, v)| format!("`{}={}`", d.key, d.value_text(*v)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn run(&mut self) -> Result<(), E> {
        let start: Point = self.dims().iter().map(|d| d.current).collect();
        let c0 = self.batch(vec![(
            start.clone(),
            "start: the scenario as written".into(),
        )])?;
        let Some(c0) = c0[0] else {
            return Ok(());
        };
        self.steps.push(format!(
            "Start: the scenario as written ({}) → {}.",
            self.point_text(&start),
            self.describe(c0)
        ));
        let mut x = c0;
        if !self.meets(c0) {
            match self.generous(&start)? {
                Some(c) => x = c,
                None => return Ok(()),
            }
        }
        for round in 1.. {
            let next = self.round(round, x)?;
            if next != x {
                self.steps
                    .push(format!("Round {round}: moved to {}.", self.describe(next)));
            }
            if self.exhausted {
                self.steps.push(format!(
                    "Stop: max_runs reached ({} configurations evaluated) during round {round}.",
                    self.candidates.len()
                ));
                break;
            }
            if next == x {
                self.steps.push(format!(
                    "Stop: round {round} improved nothing; {} is the cheapest found.",
                    self.candidates[x].name()
                ));
                break;
            }
            x = next;
        }
        Ok(())
    }

    /// The start fails: the monotone dimensions at their most generous values, with every
    /// combination of the others' values. Gives the best that meets.
    fn generous(&mut self, start: &Point) -> Result<Option<usize>, E> {
        let dims = self.dims();
        let choices: Vec<Vec<Option<usize>>> = dims
            .iter()
            .zip(start)
            .map(|(d, &v)| match d.monotone {
                Some(_) => vec![Some(d.index_at(d.values.len() - 1))],
                None => std::iter::once(v)
                    .chain((0..d.values.len()).map(Some).filter(|&i| i != v))
                    .collect(),
            })
            .collect();
        let budget = self.plan.max_runs.saturating_sub(self.candidates.len());
        let mut points = Vec::new();
        let mut new = 0;
        let mut digits = vec![0usize; choices.len()];
        loop {
            let point: Point = choices.iter().zip(&digits).map(|(c, &k)| c[k]).collect();
            if self.known(&point).is_none() {
                if new == budget {
                    self.exhausted = true;
                    break;
                }
                new += 1;
            }
            points.push((
                point,
                "the start fails: the monotone dimensions at their most generous".into(),
            ));
            // The next combination, the last dimension varying fastest.
            let Some(d) = (0..choices.len())
                .rev()
                .find(|&d| digits[d] + 1 < choices[d].len())
            else {
                break;
            };
            digits[d] += 1;
            digits[d + 1..].iter_mut().for_each(|k| *k = 0);
        }
        let evaluated = self.batch(points)?;
        let evaluated: Vec<usize> = evaluated.into_iter().flatten().collect();
        let best = evaluated
            .iter()
            .copied()
            .filter(|&c| self.meets(c))
            .min_by(|&a, &b| rank(&self.candidates[a], &self.candidates[b]));
        let what = if self.dims().iter().any(|d| d.monotone.is_none()) {
            "the monotone dimensions at their most generous values with each combination of the others' values"
        } else {
            "every dimension at its most generous value"
        };
        self.steps.push(format!(
            "The start fails, so the search first looks for a configuration that meets: {what}: {} configuration{} → {}.",
            evaluated.len(),
            if evaluated.len() == 1 { "" } else { "s" },
            match best {
                Some(c) => format!("best that meets: {}", self.describe(c)),
                None if self.exhausted => "none meets before max_runs".into(),
                None => "none meets, so no configuration of these dimensions does (given the monotone hints)".into(),
            }
        ));
        Ok(best)
    }

    /// One round of coordinate descent from `x` (which meets); gives the best candidate
    /// afterwards (`x` when nothing improved).
    fn round(&mut self, round: usize, x: usize) -> Result<usize, E> {
        let origin = self.candidates[x].point.clone();
        let along = |d: usize, v: usize| -> Point {
            let mut p = origin.clone();
            p[d] = Some(v);
            p
        };
        let mut lines: Vec<Line> = Vec::new();
        let mut first: Vec<(Point, String)> = Vec::new();
        let mut tried: Vec<(usize, usize)> = Vec::new();
        for (d, dim) in self.dims().iter().enumerate() {
            if dim.monotone.is_some() {
                let known = origin[d].map(|i| dim.position(i));
                let from = known.unwrap_or(dim.values.len() - 1);
                lines.push(Line::Bisect {
                    bisection: Bisection::new(dim.values.len(), known),
                    from,
                    probes: Vec::new(),
                });
            } else {
                for v in (0..dim.values.len()).filter(|&v| origin[d] != Some(v)) {
                    tried.push((d, first.len()));
                    first.push((along(d, v), format!("round {round}: try {}", dim.key)));
                }
                lines.push(Line::Try {
                    candidates: Vec::new(),
                });
            }
        }
        // The probes of all bisections advance together, one batch per step.
        let mut batch = first;
        loop {
            let mut probing: Vec<(usize, usize)> = Vec::new();
            for (d, line) in lines.iter().enumerate() {
                if let Line::Bisect { bisection, .. } = line {
                    if let Some(pos) = bisection.next() {
                        let dim = &self.dims()[d];
                        probing.push((d, pos));
                        batch.push((
                            along(d, dim.index_at(pos)),
                            format!("round {round}: bisect {}", dim.key),
                        ));
                    }
                }
            }
            if batch.is_empty() {
                break;
            }
            let offset = batch.len() - probing.len();
            let results = self.batch(std::mem::take(&mut batch))?;
            for &(d, k) in &tried {
                if let (Line::Try { candidates }, Some(c)) = (&mut lines[d], results[k]) {
                    candidates.push(c);
                }
            }
            tried.clear();
            for (k, &(d, pos)) in probing.iter().enumerate() {
                let result = results[offset + k];
                if let Line::Bisect {
                    bisection, probes, ..
                } = &mut lines[d]
                {
                    match result {
                        Some(c) => {
                            bisection.record(pos, self.candidates[c].meets());
                            probes.push((pos, c));
                        }
                        None => bisection.stop(),
                    }
                }
            }
        }
        let mut improved: Vec<(usize, usize)> = Vec::new();
        for (d, line) in lines.iter().enumerate() {
            let best = (0..self.dims()[d].values.len())
                .filter_map(|v| self.known(&along(d, v)))
                .filter(|&c| self.meets(c))
                .fold(x, |b, c| if self.better(c, b) { c } else { b });
            let text = self.explain_line(round, x, d, line, best);
            self.steps.push(text);
            if best != x {
                improved.push((d, best));
            }
        }
        if improved.len() >= 2 {
            let mut combined = origin.clone();
            for &(d, c) in &improved {
                combined[d] = self.candidates[c].point[d];
            }
            let what: Vec<String> = improved
                .iter()
                .map(|&(d, _)| {
                    format!(
                        "`{}={}`",
                        self.dims()[d].key,
                        self.dims()[d].value_text(combined[d])
                    )
                })
                .collect();
            let result = self.batch(vec![(combined, format!("round {round}: combine"))])?;
            if let Some(c) = result[0] {
                self.steps.push(format!(
                    "Round {round}: the improvements combined ({}) → {}.",
                    what.join(", "),
                    self.describe(c)
                ));
            }
        }
        Ok(self.best().filter(|&b| self.better(b, x)).unwrap_or(x))
    }

    /// One line of the explanation: what a round did along dimension `d` from `x`.
    fn explain_line(&self, round: usize, x: usize, d: usize, line: &Line, best: usize) -> String {
        let dim = &self.dims()[d];
        let outcome = if best == x {
            format!("no value beats {}", self.candidates[x].name())
        } else {
            format!(
                "the best measured: `{}={}` ({})",
                dim.key,
                dim.value_text(self.candidates[best].point[d]),
                self.describe(best)
            )
        };
        match line {
            Line::Bisect {
                bisection,
                from,
                probes,
            } => {
                let hint = dim.monotone.map_or("", Monotone::as_str);
                let probed: Vec<String> = probes
                    .iter()
                    .map(|&(pos, c)| {
                        format!(
                            "{} {} ({})",
                            dim.values[dim.index_at(pos)].text,
                            if self.meets(c) { "✓" } else { "✗" },
                            self.candidates[c].name()
                        )
                    })
                    .collect();
                let found = match (bisection.result(), bisection.stopped()) {
                    (Some(pos), false) => format!(
                        "the cheapest value that meets by the hint: {}",
                        dim.values[dim.index_at(pos)].text
                    ),
                    (Some(pos), true) => format!(
                        "max_runs stopped the bisection; the cheapest value that meets so far: {}",
                        dim.values[dim.index_at(pos)].text
                    ),
                    (None, false) => "none meets with the other dimensions as they are".into(),
                    (None, true) => "max_runs stopped the bisection before a value met".into(),
                };
                format!(
                    "Round {round}: bisected `{}` ({hint}) between its cheapest value {} and {}: {} → {found}; {outcome}.",
                    dim.key,
                    dim.values[dim.index_at(0)].text,
                    dim.values[dim.index_at(*from)].text,
                    if probed.is_empty() {
                        "nothing in doubt".to_string()
                    } else {
                        probed.join(", ")
                    },
                )
            }
            Line::Try { candidates } => {
                let each: Vec<String> = candidates
                    .iter()
                    .map(|&c| {
                        format!(
                            "{} {} ({})",
                            dim.value_text(self.candidates[c].point[d]),
                            if self.meets(c) { "✓" } else { "✗" },
                            self.candidates[c].name()
                        )
                    })
                    .collect();
                format!(
                    "Round {round}: tried each value of `{}`: {}; {outcome}.",
                    dim.key,
                    if each.is_empty() {
                        "no other value".to_string()
                    } else {
                        each.join(", ")
                    }
                )
            }
        }
    }
}

#[cfg(test)]
mod tests;
