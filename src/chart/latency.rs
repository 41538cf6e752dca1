//! `latency.svg/png`: per minute of completion time, the p50 and p99 of TTFT, time per
//! output token and end-to-end latency, each in its own panel on a log scale (latencies
//! under load span orders of magnitude), against the SLO's thresholds.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::frame::{self, Mark, TimeAxis, BLUE, ORANGE, RED};
use super::{ChartError, RunData};
use crate::outputs::rows::LatencyRow;

const PANEL_HEIGHT: u32 = 300;

/// A panel: its title, how to read its p50 and p99 from a minute, its SLO threshold.
struct Metric {
    title: &'static str,
    p50: fn(&LatencyRow) -> Option<f64>,
    p99: fn(&LatencyRow) -> Option<f64>,
    slo: Option<f64>,
}

fn metrics(run: &RunData) -> [Metric; 3] {
    [
        Metric {
            title: "time to first token (TTFT)",
            p50: |m| m.ttft_p50_s,
            p99: |m| m.ttft_p99_s,
            slo: run.slo.ttft,
        },
        Metric {
            title: "time per output token (TPOT)",
            p50: |m| m.tpot_p50_s,
            p99: |m| m.tpot_p99_s,
            slo: run.slo.tpot,
        },
        Metric {
            title: "end-to-end latency",
            p50: |m| m.e2e_p50_s,
            p99: |m| m.e2e_p99_s,
            slo: run.slo.e2e,
        },
    ]
}

/// 1200 wide; the height does not depend on the run.
pub fn size(_run: &RunData) -> (u32, u32) {
    (frame::WIDTH, 140 + 3 * PANEL_HEIGHT)
}

/// Draws the figure: a legend, then the TTFT, TPOT and end-to-end panels.
pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    run: &RunData,
) -> Result<(), ChartError> {
    let body = frame::header(
        root,
        "Latency per minute (requests that completed in that minute)",
        run,
    )?;
    let metrics = metrics(run);
    let mut items = vec![
        (Mark::Line(BLUE, 2), "p50 (median)".to_string()),
        (Mark::Line(ORANGE, 2), "p99".to_string()),
    ];
    if metrics.iter().any(|m| m.slo.is_some()) {
        items.push((Mark::Line(RED, 2), "SLO threshold".to_string()));
    }
    let body = frame::legend(&body, &items)?;
    let time = TimeAxis::new(run.duration_s);
    for (area, metric) in body.split_evenly((3, 1)).iter().zip(&metrics) {
        panel(area, metric, &run.latency, time)?;
    }
    Ok(())
}

/// Powers of ten around every value shown, the threshold included.
fn decades(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| *v > 0.0 && v.is_finite())
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if hi == 0.0 {
        return (0.01, 10.0);
    }
    let lo = 10f64.powf(lo.log10().floor());
    let hi = 10f64.powf(hi.log10().ceil());
    (lo, if hi > lo { hi } else { lo * 10.0 })
}

/// The runs of consecutive minutes with a value: lines break where no request completed.
fn segments(
    minutes: &[LatencyRow],
    value: fn(&LatencyRow) -> Option<f64>,
    time: TimeAxis,
) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut open = false;
    for m in minutes {
        match value(m).filter(|v| *v > 0.0) {
            Some(v) => {
                // Each minute's value is placed at the middle of its minute.
                let point = (time.at(m.time_s + 30.0).min(time.end), v);
                match out.last_mut() {
                    Some(seg) if open => seg.push(point),
                    _ => out.push(vec![point]),
                }
                open = true;
            }
            None => open = false,
        }
    }
    out
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    metric: &Metric,
    minutes: &[LatencyRow],
    time: TimeAxis,
) -> Result<(), ChartError> {
    let (lo, hi) = decades(
        minutes
            .iter()
            .flat_map(|m| [(metric.p50)(m), (metric.p99)(m)])
            .flatten()
            .chain(metric.slo),
    );
    let caption = match metric.slo {
        Some(s) => format!("{} — SLO {} s", metric.title, frame::num(s)),
        None => format!("{} — no SLO threshold", metric.title),
    };
    let mut chart = ChartBuilder::on(area)
        .caption(caption, frame::font(18))
        .margin_left(16)
        .margin_right(88)
        .margin_bottom(8)
        .x_label_area_size(46)
        .y_label_area_size(64)
        // A hair wider than the decades: plotters places log labels from the range's
        // logarithm, which rounding can push past the first power of ten.
        .build_cartesian_2d(0.0..time.end, (lo * 0.999..hi * 1.001).log_scale())?;
    let x_fmt = |v: &f64| frame::num(*v);
    let y_fmt = |v: &f64| frame::num(*v);
    // One label per power of ten: more would crowd a log axis.
    let labels = ((hi / lo).log10().round() as usize + 1).max(2);
    frame::grid(&mut chart.configure_mesh())
        .x_desc(time.label)
        .y_desc("seconds (log scale)")
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .y_labels(labels)
        .draw()?;
    if let Some(s) = metric.slo {
        chart.draw_series(LineSeries::new(
            [(0.0, s), (time.end, s)],
            RED.stroke_width(2),
        ))?;
    }
    for (value, color) in [(metric.p50, BLUE), (metric.p99, ORANGE)] {
        for seg in segments(minutes, value, time) {
            chart.draw_series(LineSeries::new(seg, color.stroke_width(2)))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_axis_spans_whole_decades() {
        assert_eq!(decades([0.26, 257.8, 3.0].into_iter()), (0.1, 1000.0));
        assert_eq!(decades([1.0].into_iter()), (1.0, 10.0));
        assert_eq!(decades(std::iter::empty()), (0.01, 10.0));
    }
}
