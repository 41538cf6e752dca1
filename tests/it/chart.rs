//! `kthena-sim chart`: a finished run's folder is enough to draw its charts again, byte for
//! byte; the PNGs decode at the size the SVGs declare; the charts do not depend on
//! `--requests`; a folder without the charts' inputs is refused.

use std::path::Path;

use super::support::{kthena_sim, temp_dir};
use predicates::str::contains;

const CHARTS: [&str; 8] = [
    "replicas.svg",
    "replicas.png",
    "latency.svg",
    "latency.png",
    "queue.svg",
    "queue.png",
    "cost.svg",
    "cost.png",
];

/// Runs a scenario of the examples for ten simulated minutes into `out`.
fn run(scenario: &str, out: &Path, extra: &[&str]) {
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(scenario);
    kthena_sim()
        .arg("run")
        .arg(scenario)
        .args(["--duration", "10m", "--quiet", "--out"])
        .arg(out)
        .args(extra)
        .assert()
        .success();
}

fn charts(dir: &Path) -> Vec<Vec<u8>> {
    CHARTS
        .iter()
        .map(|n| std::fs::read(dir.join(n)).expect(n))
        .collect()
}

/// Width and height from an SVG's root element.
fn svg_size(svg: &[u8]) -> (u32, u32) {
    let text = String::from_utf8_lossy(svg);
    let attr = |name: &str| -> u32 {
        let start = text.find(&format!("{name}=\"")).expect(name) + name.len() + 2;
        let len = text[start..].find('"').expect("quote");
        text[start..start + len].parse().expect("number")
    };
    (attr("width"), attr("height"))
}

#[test]
fn chart_draws_a_finished_runs_charts_again_byte_for_byte() {
    let dir = temp_dir("chart", "again");
    for scenario in ["spike.yaml", "disaggregated.yaml"] {
        let out = dir.join(scenario);
        run(scenario, &out, &[]);
        let first = charts(&out);
        for n in CHARTS {
            std::fs::remove_file(out.join(n)).expect("remove chart");
        }
        kthena_sim()
            .arg("chart")
            .arg(&out)
            .assert()
            .success()
            .stdout(contains("replicas.svg"));
        assert_eq!(charts(&out), first, "{scenario}");
    }
}

#[test]
fn pngs_decode_at_the_size_of_their_svgs() {
    let out = temp_dir("chart", "png");
    run("heterogeneous-gpu-cpu.yaml", &out, &[]);
    for pair in CHARTS.chunks(2) {
        let svg = std::fs::read(out.join(pair[0])).expect("svg");
        let png_bytes = std::fs::read(out.join(pair[1])).expect("png");
        assert!(png_bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{}", pair[1]);
        let mut reader = png::Decoder::new(std::io::Cursor::new(png_bytes))
            .read_info()
            .expect("PNG header");
        let mut pixels = vec![0; reader.output_buffer_size().expect("buffer size")];
        let info = reader.next_frame(&mut pixels).expect("PNG image");
        assert_eq!((info.width, info.height), svg_size(&svg), "{}", pair[1]);
        assert!(
            pixels.iter().any(|&p| p < 128),
            "{}: something is drawn",
            pair[1]
        );
    }
}

#[test]
fn charts_do_not_depend_on_the_requests_file() {
    let dir = temp_dir("chart", "requests");
    let (with, without) = (dir.join("with"), dir.join("without"));
    run("spike.yaml", &with, &["--requests"]);
    run("spike.yaml", &without, &[]);
    assert!(with.join("requests.csv").is_file());
    assert_eq!(charts(&with), charts(&without));
}

#[test]
fn a_folder_without_the_charts_inputs_is_refused() {
    let out = temp_dir("chart", "missing");
    run("spike.yaml", &out, &[]);
    std::fs::remove_file(out.join("latency.csv")).expect("remove");
    kthena_sim()
        .arg("chart")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(contains("latency.csv: cannot read"));
}

#[test]
fn chart_redraws_a_comparison_folder_and_says_what_it_drew() {
    let out = temp_dir("chart", "comparison");
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/spike.yaml");
    kthena_sim()
        .arg("compare")
        .arg(&scenario)
        .args(["--duration", "10m", "--out"])
        .arg(&out)
        .args([
            "--variant",
            "a",
            "--variant",
            "b",
            "--set",
            "binding.maxReplicas=4",
            "--charts",
            "all",
        ])
        .assert()
        .success();
    let drawn = [
        "overlay-replicas.svg",
        "overlay-latency.png",
        "pareto.svg",
        "variants/a/replicas.svg",
        "variants/b/cost.png",
    ];
    let before: Vec<Vec<u8>> = drawn
        .iter()
        .map(|n| std::fs::read(out.join(n)).expect(n))
        .collect();
    for n in drawn {
        std::fs::remove_file(out.join(n)).expect("remove");
    }
    let assert = kthena_sim().arg("chart").arg(&out).assert().success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).to_string();
    for what in [
        "variants/a",
        "variants/b",
        "overlay-replicas.svg",
        "pareto.png",
    ] {
        assert!(stdout.contains(what), "{what} not named in {stdout}");
    }
    let after: Vec<Vec<u8>> = drawn
        .iter()
        .map(|n| std::fs::read(out.join(n)).expect(n))
        .collect();
    assert_eq!(before, after, "the same files give the same charts");
}

#[test]
fn a_folder_that_is_no_output_is_named_as_such() {
    let out = temp_dir("chart", "not-output");
    std::fs::write(out.join("notes.txt"), "hello").expect("write");
    kthena_sim()
        .arg("chart")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(contains(
            "not an output folder of run, compare, sweep or plan",
        ));
}
