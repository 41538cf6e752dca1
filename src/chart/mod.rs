//! The charts of a run, as SVG and PNG: replicas, latency, queue and cost over time.
//!
//! They are drawn from the run's own output files (`summary.json`, `timeline.csv`,
//! `latency.csv`, `cost.csv`), never from the simulator's memory, so that `kthena-sim chart`
//! draws a finished run's charts again byte for byte. Like the reports, this module turns
//! bytes into bytes: it reads no files and writes none. Text is drawn with an embedded font,
//! so PNGs render the same on machines without font libraries.

pub mod calibration;
mod cost;
mod data;
mod frame;
mod latency;
mod overlay;
mod queue;
mod replicas;
pub mod shadow;

use plotters::drawing::DrawingAreaErrorKind;

pub use data::RunData;
pub use overlay::{points, render_overlays, render_pareto, Point, OVERLAYS, PARETO};

/// The run's files the charts are drawn from.
pub const INPUTS: [&str; 4] = ["summary.json", "timeline.csv", "latency.csv", "cost.csv"];

/// The files `render` makes, in order.
pub const OUTPUTS: [&str; 8] = [
    "replicas.svg",
    "replicas.png",
    "latency.svg",
    "latency.png",
    "queue.svg",
    "queue.png",
    "cost.svg",
    "cost.png",
];

/// Why charts could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("{0} is missing")]
    Missing(&'static str),
    #[error("{file}: {error}")]
    Csv {
        file: &'static str,
        error: csv::Error,
    },
    #[error("{file}: no column `{column}`: not a timeline, latency or cost file of a run")]
    Column {
        file: &'static str,
        column: &'static str,
    },
    #[error("summary.json: {0}")]
    Summary(serde_json::Error),
    #[error("the embedded chart font cannot be read")]
    Font,
    #[error("drawing failed: {0}")]
    Draw(String),
    #[error("png encoding failed: {0}")]
    Png(#[from] png::EncodingError),
}

impl ChartError {
    /// The run file the error is about, whose name starts the message.
    pub fn file(&self) -> Option<&'static str> {
        match self {
            ChartError::Missing(file)
            | ChartError::Csv { file, .. }
            | ChartError::Column { file, .. } => Some(file),
            ChartError::Summary(_) => Some("summary.json"),
            ChartError::Font | ChartError::Draw(_) | ChartError::Png(_) => None,
        }
    }
}

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for ChartError {
    fn from(e: DrawingAreaErrorKind<E>) -> Self {
        ChartError::Draw(e.to_string())
    }
}

/// The chart data of a run, from its output files given as (name, bytes).
pub fn run_data(files: &[(String, Vec<u8>)]) -> Result<RunData, ChartError> {
    let file = |name: &'static str| {
        files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.as_slice())
            .ok_or(ChartError::Missing(name))
    };
    RunData::parse(
        file("summary.json")?,
        file("timeline.csv")?,
        file("latency.csv")?,
        file("cost.csv")?,
    )
}

/// Draws every chart of a run from its output files, given as (name, bytes); returns the
/// chart files as (name, bytes) in the order of [`OUTPUTS`].
pub fn render(files: &[(String, Vec<u8>)]) -> Result<Vec<(String, Vec<u8>)>, ChartError> {
    render_data(&run_data(files)?)
}

/// Draws every chart of `run` (a run's data, or the median of replications); the files of
/// [`OUTPUTS`] in order, drawn in parallel on the current rayon pool.
pub fn render_data(run: &RunData) -> Result<Vec<(String, Vec<u8>)>, ChartError> {
    frame::register_font()?;
    let sizes = [
        replicas::size(run),
        latency::size(run),
        queue::size(run),
        cost::size(run),
    ];
    let jobs: Vec<frame::Job<'_>> = vec![
        Box::new(|| frame::svg(sizes[0], |a| replicas::draw(a, run))),
        Box::new(|| frame::png(sizes[0], |a| replicas::draw(a, run))),
        Box::new(|| frame::svg(sizes[1], |a| latency::draw(a, run))),
        Box::new(|| frame::png(sizes[1], |a| latency::draw(a, run))),
        Box::new(|| frame::svg(sizes[2], |a| queue::draw(a, run))),
        Box::new(|| frame::png(sizes[2], |a| queue::draw(a, run))),
        Box::new(|| frame::svg(sizes[3], |a| cost::draw(a, run))),
        Box::new(|| frame::png(sizes[3], |a| cost::draw(a, run))),
    ];
    frame::draw_all(&OUTPUTS, jobs)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny run: one target over four ticks (one in panic mode), three minutes of latency
    /// with none completed in the middle one, and two ModelServings' costs.
    fn tiny_run() -> Vec<(String, Vec<u8>)> {
        let mut summary = crate::outputs::summary::Summary {
            scenario: "tiny".into(),
            engine: "head".into(),
            seed: 1,
            duration_s: 180.0,
            ..Default::default()
        };
        summary.slo.thresholds_s.ttft = Some(2.0);
        summary.slo.thresholds_s.e2e = Some(30.0);
        let summary = String::from_utf8(crate::outputs::json_bytes(&summary).unwrap()).unwrap();
        let tick = |time_s,
                    spec_replicas,
                    ready,
                    starting,
                    terminating,
                    panic,
                    rate,
                    waiting,
                    running,
                    kv| {
            crate::outputs::rows::TimelineRow {
                time_s,
                policy: "p".into(),
                autoscaler: "kthena".into(),
                target: "ns/chat".into(),
                spec_replicas,
                min_replicas: 1,
                max_replicas: 4,
                ready,
                starting,
                pending: 0,
                terminating,
                restarting: 0,
                lost: 0,
                restarted: 0,
                metrics: String::new(),
                unready: None,
                recommended: None,
                corrected: None,
                panic,
                skip: false,
                reason_code: "r".into(),
                reason: "r".into(),
                arrivals_per_s: rate,
                waiting,
                running,
                kv_usage: kv,
                cost_per_hour: 10.0 * f64::from(spec_replicas),
            }
        };
        let timeline = crate::outputs::csv_bytes([
            tick(0.0, 1, 1, 0, 0, false, 0.5, 0, 1, 0.1),
            tick(45.0, 3, 1, 2, 0, true, 4.0, 12, 8, 0.6),
            tick(90.0, 3, 3, 0, 0, false, 3.0, 2, 9, 0.4),
            tick(135.0, 2, 3, 0, 1, false, 1.0, 0, 3, 0.2),
        ])
        .unwrap();
        let timeline = String::from_utf8(timeline).unwrap();
        let latency = "\
time_s,completed,ttft_p50_s,ttft_p99_s,tpot_p50_s,tpot_p99_s,e2e_p50_s,e2e_p99_s
0.0,10,0.2,0.9,0.05,0.08,5.0,12.0
60.0,0,,,,,,
120.0,20,0.4,3.5,0.06,0.09,8.0,40.0
";
        let cost = "\
time_s,serving,servers,cost_per_hour,cost
0.0,chat,1,10.0,0.0
0.0,batch,1,2.0,0.0
90.0,chat,3,30.0,0.5
90.0,batch,1,2.0,0.05
180.0,chat,2,20.0,1.25
180.0,batch,1,2.0,0.1
";
        [
            ("summary.json", summary.as_str()),
            ("timeline.csv", timeline.as_str()),
            ("latency.csv", latency),
            ("cost.csv", cost),
        ]
        .into_iter()
        .map(|(n, b)| (n.to_string(), b.as_bytes().to_vec()))
        .collect()
    }

    fn chart(name: &str) -> String {
        let charts = render(&tiny_run()).expect("charts");
        let (_, bytes) = charts.iter().find(|(n, _)| n == name).expect(name);
        String::from_utf8(bytes.clone()).expect("SVG is text")
    }

    /// Polylines drawn with one colour and width: a series and its legend swatch.
    fn lines(svg: &str, color: &str, width: u32) -> usize {
        svg.matches(&format!(
            "<polyline fill=\"none\" opacity=\"1\" stroke=\"{color}\" stroke-width=\"{width}\""
        ))
        .count()
    }

    fn assert_texts(svg: &str, texts: &[&str]) {
        for t in texts {
            assert!(svg.contains(&format!("\n{t}\n")), "no text {t:?} in\n{svg}");
        }
    }

    #[test]
    fn every_chart_comes_as_svg_and_png() {
        let charts = render(&tiny_run()).expect("charts");
        let names: Vec<&str> = charts.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, OUTPUTS);
        for (name, bytes) in &charts {
            if name.ends_with(".png") {
                assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{name}");
            } else {
                assert!(bytes.starts_with(b"<svg width=\"1200\""), "{name}");
            }
        }
    }

    #[test]
    fn replicas_svg_has_its_title_axes_legend_and_one_line_per_series() {
        let svg = chart("replicas.svg");
        assert!(svg.starts_with("<svg width=\"1200\" height=\"600\""));
        assert_texts(
            &svg,
            &[
                "Replicas and request rate",
                "scenario tiny · Kthena head engine · seed 1 · 3 min simulated",
                "ns/chat — Kthena head engine",
                "time (min)",
                "replicas (servers)",
                "request rate (requests/s)",
                "spec replicas (autoscaler&apos;s decision)",
                "ready servers",
                "allowed range (minReplicas–maxReplicas)",
                "panic mode",
                "request rate, right axis",
            ],
        );
        // Each series once in the plot and once in the legend.
        assert_eq!(lines(&svg, "#1F77B4", 2), 2, "spec replicas");
        assert_eq!(lines(&svg, "#2CA02C", 5), 2, "ready servers");
        assert_eq!(lines(&svg, "#7F7F7F", 1), 2, "request rate");
        assert_eq!(svg.matches("<polygon").count(), 1, "the min–max band");
        // The panic span: a shaded rectangle (beside the legend's swatches) and its edge.
        assert_eq!(svg.matches("fill=\"#D62728\"").count(), 2);
    }

    #[test]
    fn latency_svg_breaks_lines_where_no_request_completed_and_draws_the_slo() {
        let svg = chart("latency.svg");
        assert_texts(
            &svg,
            &[
                "Latency per minute (requests that completed in that minute)",
                "time to first token (TTFT) — SLO 2 s",
                "time per output token (TPOT) — no SLO threshold",
                "end-to-end latency — SLO 30 s",
                "seconds (log scale)",
                "p50 (median)",
                "p99",
                "SLO threshold",
            ],
        );
        // Three panels, each p50 and p99 in two pieces around the empty minute, plus the
        // legend's swatch.
        assert_eq!(lines(&svg, "#1F77B4", 2), 3 * 2 + 1, "p50");
        assert_eq!(lines(&svg, "#FF7F0E", 2), 3 * 2 + 1, "p99");
        assert_eq!(lines(&svg, "#D62728", 2), 2 + 1, "SLO lines (no TPOT SLO)");
    }

    #[test]
    fn queue_and_cost_svgs_have_their_series() {
        let queue = chart("queue.svg");
        assert_texts(
            &queue,
            &["Queue and KV cache", "requests", "KV-cache usage (%)"],
        );
        for (color, what) in [
            ("#FF7F0E", "waiting"),
            ("#1F77B4", "running"),
            ("#9467BD", "KV"),
        ] {
            assert_eq!(lines(&queue, color, 2), 2, "{what}");
        }
        let cost = chart("cost.svg");
        assert_texts(
            &cost,
            &[
                "Cumulative cost per ModelServing",
                "cost (currency of price_per_hour)",
                "chat (total 1.25)",
                "batch (total 0.10)",
                "all ModelServings (total 1.35)",
            ],
        );
        assert_eq!(lines(&cost, "#1F77B4", 3), 2, "chat");
        assert_eq!(lines(&cost, "#FF7F0E", 3), 2, "batch");
        assert_eq!(lines(&cost, "#282828", 2), 2, "total");
    }

    #[test]
    fn the_same_files_give_the_same_bytes_and_a_missing_one_is_named() {
        assert_eq!(render(&tiny_run()).ok(), render(&tiny_run()).ok());
        let mut files = tiny_run();
        files.retain(|(n, _)| n != "cost.csv");
        assert_eq!(
            render(&files).map(|_| ()).map_err(|e| e.to_string()),
            Err("cost.csv is missing".to_string())
        );
    }
}
