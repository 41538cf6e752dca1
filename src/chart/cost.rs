//! `cost.svg/png`: the cumulative cost of each ModelServing over time, and their total when
//! there are several.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::frame::{self, Mark, TimeAxis, TEXT};
use super::{ChartError, RunData};

/// 1200 wide; the height does not depend on the run.
pub fn size(_run: &RunData) -> (u32, u32) {
    (frame::WIDTH, 600)
}

/// Draws the figure: a legend with each ModelServing's final cost, then one panel.
pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    run: &RunData,
) -> Result<(), ChartError> {
    let body = frame::header(root, "Cumulative cost per ModelServing", run)?;
    let color = |i: usize| frame::SERIES[i % frame::SERIES.len()];
    let last = |points: &[(f64, f64)]| points.last().map_or(0.0, |p| p.1);
    let total = if run.servings.len() > 1 {
        total_cost(run)
    } else {
        Vec::new()
    };
    let mut items: Vec<(Mark, String)> = run
        .servings
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let label = format!("{} (total {})", s.name, money(last(&s.points)));
            (Mark::Line(color(i), 3), label)
        })
        .collect();
    if !total.is_empty() {
        items.push((
            Mark::Line(TEXT, 2),
            format!("all ModelServings (total {})", money(last(&total))),
        ));
    }
    let body = frame::legend(&body, &items)?;

    let time = TimeAxis::new(run.duration_s);
    let top = frame::headroom(
        run.servings
            .iter()
            .map(|s| last(&s.points))
            .chain(total.last().map(|p| p.1))
            .fold(0.0, f64::max),
    );
    let mut chart = ChartBuilder::on(&body)
        .margin_left(16)
        .margin_right(88)
        .margin_bottom(8)
        .margin_top(8)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..time.end, 0.0..top)?;
    let x_fmt = |v: &f64| frame::num(*v);
    let y_fmt = |v: &f64| frame::num(*v);
    frame::grid(&mut chart.configure_mesh())
        .x_desc(time.label)
        .y_desc("cost (currency of price_per_hour)")
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .draw()?;
    let at = |t: f64| time.at(t);
    if !total.is_empty() {
        chart.draw_series(LineSeries::new(
            total.iter().map(|&(t, c)| (at(t), c)),
            TEXT.stroke_width(2),
        ))?;
    }
    for (i, s) in run.servings.iter().enumerate() {
        chart.draw_series(LineSeries::new(
            s.points.iter().map(|&(t, c)| (at(t), c)),
            color(i).stroke_width(3),
        ))?;
    }
    Ok(())
}

/// A cost with two decimals.
fn money(v: f64) -> String {
    format!("{v:.2}")
}

/// The total cumulative cost of a run over time; the servings' rows share their times (one
/// row each per tick).
pub(super) fn total_cost(run: &RunData) -> Vec<(f64, f64)> {
    let Some(first) = run.servings.first() else {
        return Vec::new();
    };
    (0..first.points.len())
        .map(|i| {
            let sum = run
                .servings
                .iter()
                .filter_map(|s| s.points.get(i).map(|p| p.1))
                .sum();
            (first.points[i].0, sum)
        })
        .collect()
}
