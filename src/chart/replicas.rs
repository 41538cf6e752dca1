//! `replicas.svg/png`: per scaled target, the replicas the autoscaler asked for and the
//! servers that were ready, as steps, inside the policy's min–max band, with panic mode
//! shaded and the request rate on a second axis.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::data::{Target, Tick};
use super::frame::{self, Mark, TimeAxis, BLUE, GREEN, GREY, ORANGE, RED};
use super::{ChartError, RunData};

const PANEL_HEIGHT: u32 = 420;
/// At most this many points of request rate per panel: a day of 15-s ticks would draw a
/// grey smear, while means over a few minutes draw the day's shape.
const MAX_RATE_POINTS: usize = 400;
const BAND: RGBAColor = RGBAColor(31, 119, 180, 0.10);
const PANIC: RGBAColor = RGBAColor(214, 39, 40, 0.14);
/// Each replication's spec replicas, behind the median's.
const FAINT: RGBColor = RGBColor(165, 198, 228);

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
    let body = frame::header(root, "Replicas and request rate", run)?;
    if run.targets.is_empty() {
        return frame::note(&body, "no policy scales a ModelServing in this run");
    }
    // Every target has the same ticks: the policies' controller ticks.
    let ticks = &run.targets[0].ticks[..];
    let per_point = ticks.len().div_ceil(MAX_RATE_POINTS).max(1);
    let rate_label = match ticks {
        [a, b, ..] if per_point > 1 => format!(
            "request rate ({}-min means), right axis",
            frame::num(per_point as f64 * (b.time_s - a.time_s) / 60.0)
        ),
        _ => "request rate, right axis".to_string(),
    };
    let mut items = vec![
        (
            Mark::Line(BLUE, 2),
            "spec replicas (autoscaler's decision)".to_string(),
        ),
        (Mark::Line(GREEN, 5), "ready servers".to_string()),
        (
            Mark::Area(BAND),
            "allowed range (minReplicas–maxReplicas)".to_string(),
        ),
        (Mark::Area(PANIC), "panic mode".to_string()),
        (Mark::Line(GREY, 1), rate_label),
    ];
    if run.replications.len() > 1 {
        items.push((
            Mark::Line(FAINT, 1),
            format!(
                "spec replicas of each of the {} replications",
                run.replications.len()
            ),
        ));
    }
    let faults = run.targets.iter().any(has_down_servers);
    if faults {
        items.push((
            Mark::Line(ORANGE, 2),
            "servers down (crashed and restarting, or on a lost node)".to_string(),
        ));
    }
    let body = frame::legend(&body, &items)?;
    let time = TimeAxis::new(run.duration_s);
    let rates: Vec<Vec<(f64, f64)>> = run
        .targets
        .iter()
        .map(|t| rate_means(t, per_point))
        .collect();
    let rate_top = frame::headroom(rates.iter().flatten().map(|p| p.1).fold(0.0, f64::max));
    let panels = body.split_evenly((run.targets.len(), 1));
    for (i, ((area, target), rate)) in panels.iter().zip(&run.targets).zip(&rates).enumerate() {
        let others: Vec<&Target> = run.replications.iter().filter_map(|r| r.get(i)).collect();
        panel(area, target, &others, rate, time, rate_top, &run.engine)?;
    }
    Ok(())
}

/// The request rate as (time s, requests/s), averaged over `per_point` consecutive ticks.
fn rate_means(target: &Target, per_point: usize) -> Vec<(f64, f64)> {
    target
        .ticks
        .chunks(per_point)
        .map(|c| {
            let n = c.len() as f64;
            let time = c.iter().map(|k| k.time_s).sum::<f64>() / n;
            (time, c.iter().map(|k| k.arrivals_per_s).sum::<f64>() / n)
        })
        .collect()
}

/// The y axis shows the band's top only when it is not far above what was used, so that a
/// generous maxReplicas does not flatten the lines.
fn replicas_top(target: &Target) -> i32 {
    let used = target
        .ticks
        .iter()
        .map(|k| k.spec_replicas.max(k.ready as i32).max(k.min_replicas))
        .max()
        .unwrap_or(1)
        .max(1);
    let max = target
        .ticks
        .iter()
        .map(|k| k.max_replicas)
        .max()
        .unwrap_or(0);
    let top = if max <= 2 * used { max.max(used) } else { used };
    top + (top / 10).max(1)
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    target: &Target,
    replications: &[&Target],
    rate: &[(f64, f64)],
    time: TimeAxis,
    rate_top: f64,
    engine: &str,
) -> Result<(), ChartError> {
    let top = replications
        .iter()
        .map(|t| replicas_top(t))
        .fold(replicas_top(target), i32::max);
    // The panel names who scaled it: Kthena, an HPA, KEDA or a KPA.
    let caption = format!(
        "{} — {}",
        target.name,
        frame::autoscalers(&target.autoscaler, engine)
    );
    let mut chart = ChartBuilder::on(area)
        .caption(&caption, frame::font(18))
        .margin_left(16)
        .margin_right(16)
        .margin_bottom(8)
        .x_label_area_size(50)
        .y_label_area_size(64)
        .right_y_label_area_size(72)
        .build_cartesian_2d(0.0..time.end, 0..top)?
        .set_secondary_coord(0.0..time.end, 0.0..rate_top);
    let x_fmt = |v: &f64| frame::num(*v);
    frame::grid(&mut chart.configure_mesh())
        .x_desc(time.label)
        .y_desc("replicas (servers)")
        .x_label_formatter(&x_fmt)
        .draw()?;
    let y2_fmt = |v: &f64| frame::num(*v);
    chart
        .configure_secondary_axes()
        .y_desc("request rate (requests/s)")
        .y_label_formatter(&y2_fmt)
        .label_style(frame::font(14))
        .axis_desc_style(frame::font(16))
        .draw()?;

    let at = |t: f64| time.at(t);
    let end = time.end;
    let step = |f: &dyn Fn(&Tick) -> i32| {
        frame::steps(target.ticks.iter().map(|k| (at(k.time_s), f(k))), end)
    };
    let min = step(&|k| k.min_replicas);
    let max = step(&|k| k.max_replicas.min(top));
    let band: Vec<(f64, i32)> = max.iter().chain(min.iter().rev()).copied().collect();
    chart.draw_series(std::iter::once(Polygon::new(band, BAND.filled())))?;
    chart.draw_series(
        panic_spans(target, time)
            .into_iter()
            .map(|(a, b)| Rectangle::new([(a, 0), (b, top)], PANIC.filled())),
    )?;
    let rate = rate.iter().map(|&(t, r)| (at(t), r));
    chart.draw_secondary_series(LineSeries::new(rate, GREY.stroke_width(1)))?;
    for other in replications {
        let steps = frame::steps(
            other
                .ticks
                .iter()
                .map(|k| (at(k.time_s), k.spec_replicas.min(top))),
            end,
        );
        chart.draw_series(LineSeries::new(steps, FAINT.stroke_width(1)))?;
    }
    chart.draw_series(LineSeries::new(
        step(&|k| k.ready as i32),
        GREEN.stroke_width(5),
    ))?;
    chart.draw_series(LineSeries::new(
        step(&|k| k.spec_replicas),
        BLUE.stroke_width(2),
    ))?;
    if has_down_servers(target) {
        chart.draw_series(LineSeries::new(
            step(&|k| (k.restarting + k.lost) as i32),
            ORANGE.stroke_width(2),
        ))?;
    }
    // Panic spans are drawn behind the lines; a thin red edge marks where each one starts.
    chart.draw_series(
        panic_spans(target, time)
            .into_iter()
            .map(|(a, _)| PathElement::new(vec![(a, 0), (a, top)], RED.mix(0.5).stroke_width(1))),
    )?;
    Ok(())
}

/// Whether a fault took any of the target's servers down during the run.
fn has_down_servers(target: &Target) -> bool {
    target.ticks.iter().any(|k| k.restarting + k.lost > 0)
}

/// The stretches of time (axis units) in which the target was in panic mode: from each
/// panicking tick to the next tick.
fn panic_spans(target: &Target, time: TimeAxis) -> Vec<(f64, f64)> {
    let mut spans: Vec<(f64, f64)> = Vec::new();
    let ticks = &target.ticks;
    for (i, k) in ticks.iter().enumerate() {
        if !k.panic {
            continue;
        }
        let from = time.at(k.time_s);
        let to = ticks.get(i + 1).map_or(time.end, |n| time.at(n.time_s));
        match spans.last_mut() {
            Some(last) if last.1 == from => last.1 = to,
            _ => spans.push((from, to)),
        }
    }
    spans
}
