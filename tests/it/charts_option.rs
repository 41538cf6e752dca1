//! `--charts all|summary|none`: by default a comparison draws its own figures at the top and
//! none in its variants' and replications' folders; `all` draws every folder's charts, the
//! same bytes `kthena-sim chart` draws for that folder later; `none` draws nothing. The data
//! files do not depend on the choice, and the pages link only to charts that exist.

use std::collections::BTreeMap;
use std::path::Path;

use super::support::{kthena_sim, root, temp_dir};
use crate::compare::tree;

/// A small comparison (two variants, two replications, ten minutes) into `out`.
fn compare(out: &Path, charts: &[&str]) {
    kthena_sim()
        .arg("compare")
        .arg(root().join("scenarios/spike.yaml"))
        .args(["--duration", "10m", "--replications", "2", "--quiet"])
        .args(["--variant", "a", "--variant", "b", "--set"])
        .arg("binding.maxReplicas=4")
        .args(charts)
        .arg("--out")
        .arg(out)
        .assert()
        .success();
}

fn is_chart(name: &str) -> bool {
    name.ends_with(".svg") || name.ends_with(".png")
}

fn charts(files: &BTreeMap<String, Vec<u8>>) -> Vec<&str> {
    files
        .keys()
        .map(String::as_str)
        .filter(|n| is_chart(n))
        .collect()
}

/// The files of `files` that are not charts, pages (`.md`) set aside.
fn data(files: &BTreeMap<String, Vec<u8>>) -> BTreeMap<&str, &Vec<u8>> {
    files
        .iter()
        .filter(|(n, _)| !is_chart(n) && !n.ends_with(".md"))
        .map(|(n, b)| (n.as_str(), b))
        .collect()
}

/// Every image a page of `files` links (`![…](x.svg)`) exists beside it; returns how many
/// links there are.
fn links_exist(files: &BTreeMap<String, Vec<u8>>) -> usize {
    let mut links = 0;
    for (name, bytes) in files.iter().filter(|(n, _)| n.ends_with(".md")) {
        let folder = Path::new(name).parent().unwrap_or(Path::new(""));
        let page = String::from_utf8_lossy(bytes);
        for piece in page.split("](").skip(1) {
            let target = piece.split(')').next().unwrap_or_default();
            if is_chart(target) {
                links += 1;
                let path = folder.join(target).display().to_string();
                assert!(files.contains_key(&path), "{name} links {target}: missing");
            }
        }
    }
    links
}

#[test]
fn by_default_a_comparison_draws_its_own_figures_and_no_variants_charts() {
    let out = temp_dir("charts", "summary").join("out");
    compare(&out, &[]);
    let files = tree(&out);
    let drawn = charts(&files);
    assert_eq!(
        drawn,
        [
            "overlay-cost.png",
            "overlay-cost.svg",
            "overlay-latency.png",
            "overlay-latency.svg",
            "overlay-replicas.png",
            "overlay-replicas.svg",
            "pareto.png",
            "pareto.svg"
        ]
    );
    assert!(files.contains_key("variants/a/replications/2/timeline.csv"));
    // comparison.md links the four figures; no variant's report links a chart.
    assert_eq!(links_exist(&files), 4);
    let report = String::from_utf8_lossy(&files["variants/b/report.md"]).to_string();
    assert!(
        report.contains("`kthena-sim chart` on this folder"),
        "{report}"
    );
}

#[test]
fn all_draws_every_folders_charts_as_chart_draws_them_later() {
    let dir = temp_dir("charts", "all");
    let (all, summary) = (dir.join("all"), dir.join("summary"));
    compare(&all, &["--charts", "all"]);
    compare(&summary, &["--charts", "summary"]);
    let all_files = tree(&all);
    for folder in [
        "variants/a",
        "variants/b",
        "variants/a/replications/1",
        "variants/b/replications/2",
    ] {
        for chart in ["replicas", "latency", "queue", "cost"] {
            for ext in ["svg", "png"] {
                let name = format!("{folder}/{chart}.{ext}");
                assert!(all_files.contains_key(&name), "{name}");
            }
        }
    }
    assert_eq!(
        links_exist(&all_files),
        4 + 6 * 4,
        "the table and every report"
    );
    assert_eq!(data(&all_files), data(&tree(&summary)));

    // A replication's folder and a variant's folder written without charts get exactly the
    // charts of `--charts all`, and their reports then link them.
    for folder in ["variants/a/replications/2", "variants/b"] {
        kthena_sim()
            .arg("chart")
            .arg(summary.join(folder))
            .assert()
            .success();
        let drawn = tree(&summary.join(folder));
        assert_eq!(drawn, tree(&all.join(folder)), "{folder}");
    }
    // And the whole folder: the same files as `--charts all`, byte for byte.
    kthena_sim().arg("chart").arg(&summary).assert().success();
    assert_eq!(tree(&summary), all_files);
}

#[test]
fn none_draws_no_chart_and_links_none() {
    let dir = temp_dir("charts", "none");
    let (none, summary) = (dir.join("none"), dir.join("summary"));
    compare(&none, &["--charts", "none"]);
    compare(&summary, &[]);
    let files = tree(&none);
    assert!(charts(&files).is_empty(), "{:?}", charts(&files));
    assert_eq!(links_exist(&files), 0);
    assert_eq!(data(&files), data(&tree(&summary)));
    let page = String::from_utf8_lossy(&files["comparison.md"]).to_string();
    assert!(page.contains("## Charts\n\nNot drawn"), "{page}");
    // `chart` draws them all, and the page links them.
    kthena_sim().arg("chart").arg(&none).assert().success();
    let files = tree(&none);
    assert_eq!(charts(&files).len(), 8 + 2 * 3 * 8);
    assert_eq!(links_exist(&files), 4 + 6 * 4);
}

#[test]
fn run_writes_no_chart_with_none_and_the_median_only_with_replications() {
    let dir = temp_dir("charts", "run");
    let scenario = root().join("scenarios/spike.yaml");
    let run = |out: &Path, extra: &[&str]| {
        kthena_sim()
            .arg("run")
            .arg(&scenario)
            .args(["--duration", "10m", "--quiet", "--out"])
            .arg(out)
            .args(extra)
            .assert()
            .success();
        tree(out)
    };
    let none = run(&dir.join("none"), &["--charts", "none"]);
    assert!(charts(&none).is_empty(), "{:?}", charts(&none));
    assert_eq!(links_exist(&none), 0);
    let default = run(&dir.join("default"), &[]);
    assert_eq!(charts(&default).len(), 8);
    assert_eq!(links_exist(&default), 4);
    assert_eq!(data(&none), data(&default));

    // With replications, the median's charts at the top and none in `replications/<r>/`.
    let reps = run(&dir.join("reps"), &["--replications", "2"]);
    assert_eq!(charts(&reps).len(), 8);
    assert!(charts(&reps).iter().all(|n| !n.contains('/')));
    assert_eq!(links_exist(&reps), 4);
    let all = run(
        &dir.join("all"),
        &["--replications", "2", "--charts", "all"],
    );
    assert_eq!(charts(&all).len(), 3 * 8);
    assert_eq!(links_exist(&all), 3 * 4);
}
