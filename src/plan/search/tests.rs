//! The search on synthetic verdicts: bisection's step count, coordinate descent reaching
//! the optimum and stopping, the budget, a failing start, and no configuration at all.

use std::collections::BTreeSet;

use super::*;
use crate::plan::bisection::Bisection;
use crate::plan::{Dimension, Monotone, Plan};

fn dim(key: &str, values: &[&str], monotone: Option<Monotone>, current: usize) -> Dimension {
    Dimension {
        key: key.into(),
        values: values
            .iter()
            .map(|v| format!("{key}={v}").parse().unwrap())
            .collect(),
        monotone,
        current: Some(current),
        scenario_value: Some(values[current].to_string()),
    }
}

const NUMBERS: [&str; 11] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"];

/// `a` and `b` add capacity (cost_increasing, 0..=10), `c` is a non-monotone choice where
/// `y` is cheaper than `x` and `z` never works. Meets when a + b >= 8 and c != z; costs
/// a + b (+5 unless c = y). The optimum: a + b = 8 with c = y, cost 8.
fn plan(a: usize, b: usize, max_runs: usize) -> Plan {
    Plan {
        dimensions: vec![
            dim("a", &NUMBERS, Some(Monotone::CostIncreasing), a),
            dim("b", &NUMBERS, Some(Monotone::CostIncreasing), b),
            dim("c", &["x", "y", "z"], None, 0),
        ],
        max_runs,
    }
}

fn verdict(p: &Point, need: usize) -> Verdict {
    let v = |d: usize| p[d].expect("on the grid");
    let cost = (v(0) + v(1)) as f64 + if v(2) == 1 { 0.0 } else { 5.0 };
    let failed = usize::from(v(0) + v(1) < need) + usize::from(v(2) == 2);
    Verdict {
        cost,
        attainment: if failed == 0 { 1.0 } else { 0.5 },
        failed,
    }
}

/// Runs the search, checking that no configuration is evaluated twice.
fn run(plan: &Plan, need: usize) -> (SearchResult, usize) {
    let mut batches = 0;
    let r = search(plan, |batch: &[Candidate]| -> Result<_, ()> {
        batches += 1;
        Ok(batch
            .iter()
            .map(|c| Some(verdict(&c.point, need)))
            .collect())
    })
    .unwrap();
    let distinct: BTreeSet<String> = r
        .candidates
        .iter()
        .map(|c| format!("{:?}", c.settings))
        .collect();
    assert_eq!(distinct.len(), r.candidates.len(), "evaluated twice");
    (r, batches)
}

fn winner(r: &SearchResult) -> &Candidate {
    &r.candidates[r.winner.expect("a winner")]
}

#[test]
fn bisection_finds_the_boundary_of_a_monotone_predicate_in_log2_steps() {
    for n in [1usize, 2, 3, 7, 8, 100, 1000] {
        let log2 = usize::BITS - (n - 1).leading_zeros(); // ceil(log2(n))
        for boundary in 0..=n {
            for known in [true, false] {
                if known && boundary == n {
                    continue; // the known position would not meet
                }
                let mut b = Bisection::new(n, known.then_some(n - 1));
                let mut probes = 0;
                while let Some(pos) = b.next() {
                    assert!(pos < n);
                    b.record(pos, pos >= boundary);
                    probes += 1;
                }
                let expected = (boundary < n).then_some(boundary);
                assert_eq!(b.result(), expected, "n {n}, boundary {boundary}");
                let bound = log2 as usize + usize::from(!known);
                assert!(
                    probes <= bound,
                    "n {n}, boundary {boundary}: {probes} probes > {bound}"
                );
            }
        }
    }
}

#[test]
fn coordinate_descent_reaches_the_optimum_and_stops() {
    let (r, batches) = run(&plan(10, 10, 64), 8);
    let w = winner(&r);
    assert_eq!(w.verdict.map(|v| v.cost), Some(8.0), "{:#?}", r.steps);
    assert!(!r.budget_exhausted);
    assert!(
        r.steps.last().unwrap().contains("improved nothing"),
        "{:#?}",
        r.steps
    );
    // Far fewer runs than the grid of 11 × 11 × 3, in batches of parallel probes.
    assert!(r.candidates.len() <= 30, "{} runs", r.candidates.len());
    assert!(batches < r.candidates.len());
    assert!(
        r.steps.iter().any(|s| s.contains("combined")),
        "{:#?}",
        r.steps
    );
    // The start is c00, with no settings.
    assert!(r.candidates[0].settings.is_empty());
}

#[test]
fn max_runs_bounds_the_search() {
    let (r, _) = run(&plan(10, 10, 5), 8);
    assert_eq!(r.candidates.len(), 5);
    assert!(r.budget_exhausted);
    assert!(
        r.steps.last().unwrap().contains("max_runs"),
        "{:#?}",
        r.steps
    );
    // The best found so far still wins.
    assert!(winner(&r).verdict.unwrap().cost < 25.0);
}

#[test]
fn a_failing_start_first_looks_for_a_configuration_that_meets() {
    let (r, _) = run(&plan(0, 0, 64), 8);
    assert!(!r.candidates[0].meets());
    assert!(r.steps[1].contains("The start fails"), "{:#?}", r.steps);
    assert_eq!(winner(&r).verdict.map(|v| v.cost), Some(8.0));
}

#[test]
fn when_nothing_meets_the_closest_is_reported() {
    let (r, _) = run(&plan(0, 0, 64), 100);
    assert_eq!(r.winner, None);
    assert!(
        r.steps.last().unwrap().contains("none meets"),
        "{:#?}",
        r.steps
    );
    let closest = r.closest().unwrap();
    assert_eq!(closest.verdict.map(|v| v.failed), Some(1));
}

#[test]
fn ties_go_to_attainment_then_fewer_changed_settings() {
    let p = Plan {
        dimensions: vec![
            dim("a", &["1", "2"], None, 0),
            dim("b", &["1", "2"], None, 0),
        ],
        max_runs: 10,
    };
    // Every configuration costs the same; b=2 attains more.
    let r = search(&p, |batch: &[Candidate]| -> Result<_, ()> {
        Ok(batch
            .iter()
            .map(|c| {
                Some(Verdict {
                    cost: 1.0,
                    attainment: if c.point[1] == Some(1) { 0.99 } else { 0.98 },
                    failed: 0,
                })
            })
            .collect())
    })
    .unwrap();
    let w = winner(&r);
    assert_eq!(w.point, vec![Some(0), Some(1)], "{:#?}", r.steps);
    assert_eq!(w.settings.len(), 1);
}
