//! `calibration.svg/png`: measured beside simulated, from `calibration.csv`. Benchmark
//! points: TTFT and TPOT against concurrency (or request rate), one colour per prompt and
//! output length, measured as dots, simulated as lines. Request traces: TTFT and e2e of each
//! request against its arrival time.

use std::ops::Range;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::frame::{self, Mark, BLUE, ORANGE, SERIES};
use super::ChartError;
use crate::outputs::calibration::{PointRow, RequestRow};

const SIZE: (u32, u32) = (frame::WIDTH, 1000);

/// The chart of `points` (if any) or else `requests`, as (SVG, PNG) bytes.
pub fn render(
    title: &str,
    points: &[PointRow],
    requests: &[RequestRow],
) -> Result<(Vec<u8>, Vec<u8>), ChartError> {
    frame::register_font()?;
    let svg = frame::svg(SIZE, |a| draw(a, title, points, requests))?;
    let png = frame::png(SIZE, |a| draw(a, title, points, requests))?;
    Ok((svg, png))
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    points: &[PointRow],
    requests: &[RequestRow],
) -> Result<(), ChartError> {
    root.fill(&WHITE)?;
    let (w, _) = root.dim_in_pixel();
    let top = Pos::new(HPos::Center, VPos::Top);
    root.draw_text(title, &frame::font(24).pos(top), (w as i32 / 2, 12))?;
    let body = root.split_vertically(56).1;
    if points.is_empty() {
        draw_requests(&body, requests)
    } else {
        draw_points(&body, points)
    }
}

/// The x of a point: its concurrency, or its request rate.
fn load(p: &PointRow) -> f64 {
    p.concurrency
        .map_or(p.request_rate.unwrap_or(0.0), f64::from)
}

/// Whether `v` has a place on a log axis.
fn plottable(v: f64) -> bool {
    v.is_finite() && v > 0.0
}

/// A log axis from the plottable `values`, with 30 % room on each side; `empty` without any.
fn log_range(values: impl Iterator<Item = f64>, empty: Range<f64>) -> Range<f64> {
    let (lo, hi) = (values.filter(|v| plottable(*v)))
        .fold((f64::INFINITY, 0.0f64), |(l, h), v| (l.min(v), h.max(v)));
    if lo <= hi {
        lo / 1.3..hi * 1.3
    } else {
        empty
    }
}

fn draw_points<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    points: &[PointRow],
) -> Result<(), ChartError> {
    let mut series: Vec<(u32, u32)> = points
        .iter()
        .map(|p| (p.input_tokens, p.output_tokens))
        .collect();
    series.sort_unstable();
    series.dedup();
    let mut items: Vec<(Mark, String)> = (series.iter().enumerate())
        .map(|(i, (input, output))| {
            (
                Mark::Line(SERIES[i % SERIES.len()], 2),
                format!("{input} in / {output} out"),
            )
        })
        .collect();
    items.push((
        Mark::Line(frame::GREY, 1),
        "dots: measured · lines: simulated".into(),
    ));
    let body = frame::legend(area, &items)?;
    let open = points.iter().all(|p| p.concurrency.is_none());
    let x_desc = if open {
        "request rate (req/s)"
    } else {
        "concurrency (clients)"
    };
    let panels = body.split_evenly((2, 1));
    type Pick = fn(&PointRow) -> (f64, f64);
    let metrics: [(&str, Pick); 2] = [
        ("TTFT (ms)", |p| (p.measured_ttft_ms, p.simulated_ttft_ms)),
        ("TPOT (ms)", |p| (p.measured_tpot_ms, p.simulated_tpot_ms)),
    ];
    let x_range = log_range(points.iter().map(load), 0.5..2.0);
    for (panel, (y_desc, pick)) in panels.iter().zip(metrics) {
        let ys = points.iter().flat_map(|p| {
            let (m, s) = pick(p);
            [m, s]
        });
        let y_range = log_range(ys, 1.0..10.0);
        let mut chart = ChartBuilder::on(panel)
            .margin_left(16)
            .margin_right(24)
            .margin_bottom(8)
            .x_label_area_size(50)
            .y_label_area_size(72)
            .build_cartesian_2d(x_range.clone().log_scale(), y_range.log_scale())?;
        let fmt = |v: &f64| frame::num(*v);
        frame::grid(&mut chart.configure_mesh())
            .x_desc(x_desc)
            .y_desc(y_desc)
            .x_label_formatter(&fmt)
            .y_label_formatter(&fmt)
            .draw()?;
        for (i, key) in series.iter().enumerate() {
            let colour = SERIES[i % SERIES.len()];
            let mut of: Vec<(f64, f64, f64)> = points
                .iter()
                .filter(|p| (p.input_tokens, p.output_tokens) == *key)
                .map(|p| {
                    let (m, s) = pick(p);
                    (load(p), m, s)
                })
                .filter(|(x, m, s)| [x, m, s].iter().all(|v| plottable(**v)))
                .collect();
            of.sort_by(|a, b| a.0.total_cmp(&b.0));
            chart.draw_series(LineSeries::new(
                of.iter().map(|(x, _, s)| (*x, *s)),
                colour.stroke_width(2),
            ))?;
            chart.draw_series(
                of.iter()
                    .map(|(x, m, _)| Circle::new((*x, *m), 5, colour.filled())),
            )?;
        }
    }
    Ok(())
}

fn draw_requests<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    requests: &[RequestRow],
) -> Result<(), ChartError> {
    let items = [
        (Mark::Line(BLUE, 3), "measured".to_string()),
        (Mark::Line(ORANGE, 3), "simulated".to_string()),
    ];
    let body = frame::legend(area, &items)?;
    let panels = body.split_evenly((2, 1));
    type Pick = fn(&RequestRow) -> (f64, f64);
    let metrics: [(&str, Pick); 2] = [
        ("TTFT (s)", |r| {
            (r.measured_ttft_s, r.simulated_ttft_s.unwrap_or(f64::NAN))
        }),
        ("e2e (s)", |r| (r.measured_e2e_s, r.simulated_e2e_s)),
    ];
    let x_hi = requests.iter().map(|r| r.arrival_s).fold(0.0, f64::max);
    for (panel, (y_desc, pick)) in panels.iter().zip(metrics) {
        let y_hi = requests
            .iter()
            .flat_map(|r| {
                let (m, s) = pick(r);
                [m, s]
            })
            .filter(|v| v.is_finite())
            .fold(0.0, f64::max);
        let mut chart = ChartBuilder::on(panel)
            .margin_left(16)
            .margin_right(24)
            .margin_bottom(8)
            .x_label_area_size(50)
            .y_label_area_size(72)
            .build_cartesian_2d(0.0..frame::headroom(x_hi), 0.0..frame::headroom(y_hi))?;
        let fmt = |v: &f64| frame::num(*v);
        frame::grid(&mut chart.configure_mesh())
            .x_desc("arrival (s)")
            .y_desc(y_desc)
            .x_label_formatter(&fmt)
            .y_label_formatter(&fmt)
            .draw()?;
        for (colour, simulated) in [(BLUE, false), (ORANGE, true)] {
            chart.draw_series(
                requests
                    .iter()
                    .map(|r| {
                        let (m, s) = pick(r);
                        (r.arrival_s, if simulated { s } else { m })
                    })
                    .filter(|(_, y)| y.is_finite())
                    .map(|p| Circle::new(p, 3, colour.filled())),
            )?;
        }
    }
    Ok(())
}
