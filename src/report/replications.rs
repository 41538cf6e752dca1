//! The summary of several replications of one run: every number is the mean over the
//! replications (rounded like every reported number), and a `replications` block gives their
//! seeds and each metric's estimate (sd, 95 % interval, min, max); the assertions are checked
//! over all replications.

use indexmap::IndexMap;
use serde_json::Value;

use crate::outputs::round6;
use crate::outputs::summary::{Replications, Summary};
use crate::scenario::Assertion;
use crate::stats::Estimate;

/// Inputs echoed in a summary, the same in every replication or their own (the seed): not
/// averaged, and not metrics with a spread.
const INPUTS: [&str; 2] = ["seed", "duration_s"];

/// Each numeric leaf of `v` with its dotted path, in document order.
fn leaves(v: &Value, prefix: &str, out: &mut Vec<(String, Option<f64>)>) {
    match v {
        Value::Number(n) => out.push((prefix.to_string(), n.as_f64())),
        Value::Null => out.push((prefix.to_string(), None)),
        Value::Object(m) => {
            for (k, child) in m {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                leaves(child, &path, out);
            }
        }
        _ => {}
    }
}

/// The leaf at dotted `path` of `v`.
fn leaf_mut<'a>(v: &'a mut Value, path: &str) -> Option<&'a mut Value> {
    path.split('.').try_fold(v, |v, k| v.get_mut(k))
}

/// The summary of `runs` (replication 0 first): means, the replications block, and
/// `assertions` checked over all of them. With one run, that run's summary as it is.
pub fn aggregate(runs: &[Summary], assertions: &[Assertion]) -> Summary {
    let Some(first) = runs.first() else {
        return Summary::default();
    };
    if runs.len() == 1 {
        let mut s = first.clone();
        s.assertions = assertions.iter().map(|a| a.check(first)).collect();
        return s;
    }
    let values: Vec<Value> = runs
        .iter()
        .map(|s| {
            let mut v = serde_json::to_value(s).unwrap_or(Value::Null);
            if let Some(o) = v.as_object_mut() {
                o.remove("assertions");
                o.remove("warnings");
                o.remove("replications");
            }
            v
        })
        .collect();
    let mut paths = Vec::new();
    leaves(&values[0], "", &mut paths);
    let mut mean = values[0].clone();
    let mut stats = IndexMap::new();
    for (path, _) in paths {
        if INPUTS.contains(&path.as_str()) {
            continue;
        }
        let per_run: Vec<f64> = values
            .iter()
            .filter_map(|v| {
                path.split('.')
                    .try_fold(v, |v, k| v.get(k))
                    .and_then(Value::as_f64)
            })
            .collect();
        let Some(estimate) = Estimate::of(&per_run) else {
            continue;
        };
        if let Some(leaf) = leaf_mut(&mut mean, &path) {
            *leaf = serde_json::Number::from_f64(round6(estimate.mean))
                .map_or(Value::Null, Value::Number);
        }
        stats.insert(path, rounded(estimate));
    }
    if let Some(o) = mean.as_object_mut() {
        o.insert("assertions".into(), Value::Array(Vec::new()));
    }
    // The means have the summary's own shape: reading them back cannot fail.
    let mut summary: Summary = serde_json::from_value(mean).unwrap_or_else(|_| first.clone());
    summary.seed = first.seed;
    // Each replication's warnings, once each, marked with the replications that raised them.
    let mut warnings: Vec<(String, Vec<usize>)> = Vec::new();
    for (r, run) in runs.iter().enumerate() {
        for w in &run.warnings {
            match warnings.iter_mut().find(|(x, _)| x == w) {
                Some((_, reps)) => reps.push(r + 1),
                None => warnings.push((w.clone(), vec![r + 1])),
            }
        }
    }
    summary.warnings = warnings
        .into_iter()
        .map(|(w, reps)| {
            if reps.len() == runs.len() {
                w
            } else {
                let reps: Vec<String> = reps.iter().map(ToString::to_string).collect();
                format!("{w} (replication {})", reps.join(", "))
            }
        })
        .collect();
    summary.assertions = assertions
        .iter()
        .map(|a| a.check_replications(runs))
        .collect();
    summary.replications = Some(Replications {
        count: runs.len(),
        seeds: runs.iter().map(|s| s.seed).collect(),
        stats,
    });
    summary
}

/// An estimate with its numbers rounded as the summary's are.
fn rounded(e: Estimate) -> Estimate {
    Estimate {
        mean: round6(e.mean),
        sd: round6(e.sd),
        ci95_low: round6(e.ci95_low),
        ci95_high: round6(e.ci95_high),
        min: round6(e.min),
        max: round6(e.max),
        ..e
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outputs::count::Count;

    fn run(seed: u64, cost: f64, total: u64, ttft_p99: Option<f64>) -> Summary {
        let mut s = Summary {
            seed,
            duration_s: 60.0,
            ..Summary::default()
        };
        s.cost.total = cost;
        s.requests.total = Count::from(total);
        s.latency.ttft.p99 = ttft_p99;
        s
    }

    #[test]
    fn the_summary_of_replications_holds_means_and_each_metrics_spread() {
        let runs = [
            run(7, 10.0, 100, Some(1.0)),
            run(8, 12.0, 101, Some(2.0)),
            run(9, 14.0, 103, None),
        ];
        let a = Assertion::parse("cost.total <= 13").unwrap();
        let s = aggregate(&runs, &[a]);
        assert_eq!(s.seed, 7);
        assert_eq!(s.cost.total, 12.0);
        assert_eq!(s.requests.total, Count(101.333333));
        assert_eq!(s.latency.ttft.p99, Some(1.5), "over the runs with a value");
        let r = s.replications.as_ref().unwrap();
        assert_eq!((r.count, r.seeds.clone()), (3, vec![7, 8, 9]));
        let cost = r.stats["cost.total"];
        assert_eq!(
            (cost.n, cost.mean, cost.sd, cost.min, cost.max),
            (3, 12.0, 2.0, 10.0, 14.0)
        );
        assert_eq!(r.stats["latency.ttft.p99"].n, 2);
        assert!(!r.stats.contains_key("seed"));
        assert_eq!(s.assertions[0].failed_replications, [3]);
        // One run is its own summary.
        let one = aggregate(&runs[..1], &[]);
        assert_eq!(one.replications, None);
        assert_eq!(one.cost.total, 10.0);
    }
}
