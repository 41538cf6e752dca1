//! `queue.svg/png`: per scaled target, the requests waiting and running at each controller
//! tick, and the mean KV-cache usage of its ready servers on a second axis (0–100 %).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::data::Target;
use super::frame::{self, Mark, TimeAxis, BLUE, ORANGE, PURPLE};
use super::{ChartError, RunData};

const PANEL_HEIGHT: u32 = 420;

/// 1200 × 600 for one target, taller by a panel per further target.
pub fn size(run: &RunData) -> (u32, u32) {
    let panels = run.targets.len().max(1) as u32;
    (frame::WIDTH, 180 + PANEL_HEIGHT * panels)
}

/// Draws the figure: a legend, then one panel per scaled target.
pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    run: &RunData,
) -> Result<(), ChartError> {
    let body = frame::header(root, "Queue and KV cache", run)?;
    if run.targets.is_empty() {
        return frame::note(&body, "no policy scales a ModelServing in this run");
    }
    let items = [
        (
            Mark::Line(ORANGE, 2),
            "waiting requests (server queues + router queue)".to_string(),
        ),
        (Mark::Line(BLUE, 2), "running requests".to_string()),
        (
            Mark::Line(PURPLE, 2),
            "KV-cache usage, mean of ready servers, right axis".to_string(),
        ),
    ];
    let body = frame::legend(&body, &items)?;
    let time = TimeAxis::new(run.duration_s);
    let panels = body.split_evenly((run.targets.len(), 1));
    for (area, target) in panels.iter().zip(&run.targets) {
        panel(area, target, time)?;
    }
    Ok(())
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    target: &Target,
    time: TimeAxis,
) -> Result<(), ChartError> {
    let top = frame::headroom(
        target
            .ticks
            .iter()
            .map(|k| k.waiting.max(k.running) as f64)
            .fold(0.0, f64::max),
    );
    let mut chart = ChartBuilder::on(area)
        .caption(&target.name, frame::font(18))
        .margin_left(16)
        .margin_right(16)
        .margin_bottom(8)
        .x_label_area_size(50)
        .y_label_area_size(64)
        .right_y_label_area_size(72)
        .build_cartesian_2d(0.0..time.end, 0.0..top)?
        .set_secondary_coord(0.0..time.end, 0.0..100.0);
    let x_fmt = |v: &f64| frame::num(*v);
    let y_fmt = |v: &f64| frame::num(*v);
    frame::grid(&mut chart.configure_mesh())
        .x_desc(time.label)
        .y_desc("requests")
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .draw()?;
    let pct_fmt = |v: &f64| format!("{} %", frame::num(*v));
    chart
        .configure_secondary_axes()
        .y_desc("KV-cache usage (%)")
        .y_label_formatter(&pct_fmt)
        .label_style(frame::font(14))
        .axis_desc_style(frame::font(16))
        .draw()?;
    let at = |t: f64| time.at(t);
    let ticks = &target.ticks;
    chart.draw_secondary_series(LineSeries::new(
        ticks.iter().map(|k| (at(k.time_s), k.kv_usage * 100.0)),
        PURPLE.stroke_width(2),
    ))?;
    chart.draw_series(LineSeries::new(
        ticks.iter().map(|k| (at(k.time_s), k.running as f64)),
        BLUE.stroke_width(2),
    ))?;
    chart.draw_series(LineSeries::new(
        ticks.iter().map(|k| (at(k.time_s), k.waiting as f64)),
        ORANGE.stroke_width(2),
    ))?;
    Ok(())
}
