//! `replicas.svg/png` of a shadow replay: per scaled unit, the spec replicas Prometheus
//! recorded and those the replayed policy decided, as steps, with the ticks where they differ
//! marked.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::frame::{self, Mark, TimeAxis, BLUE, GREY, ORANGE, RED};
use super::ChartError;
use crate::outputs::shadow::ShadowRow;

const PANEL_HEIGHT: u32 = 380;

/// The chart as (SVG, PNG) bytes; `subtitle` says what was replayed on what.
pub fn render(subtitle: &str, rows: &[ShadowRow]) -> Result<(Vec<u8>, Vec<u8>), ChartError> {
    frame::register_font()?;
    let units = units(rows);
    let size = (frame::WIDTH, 170 + PANEL_HEIGHT * units.len().max(1) as u32);
    let svg = frame::svg(size, |a| draw(a, subtitle, rows, &units))?;
    let png = frame::png(size, |a| draw(a, subtitle, rows, &units))?;
    Ok((svg, png))
}

/// The units in the order they first appear.
fn units(rows: &[ShadowRow]) -> Vec<&str> {
    let mut units: Vec<&str> = Vec::new();
    for r in rows {
        if !units.contains(&r.unit.as_str()) {
            units.push(&r.unit);
        }
    }
    units
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    subtitle: &str,
    rows: &[ShadowRow],
    units: &[&str],
) -> Result<(), ChartError> {
    root.fill(&WHITE)?;
    let (w, _) = root.dim_in_pixel();
    let top = Pos::new(HPos::Center, VPos::Top);
    let title = "Recorded and replayed replicas";
    root.draw_text(title, &frame::font(26).pos(top), (w as i32 / 2, 12))?;
    let grey = ("sans-serif", 16).into_font().color(&GREY).pos(top);
    root.draw_text(subtitle, &grey, (w as i32 / 2, 46))?;
    let body = root.split_vertically(72).1;
    let items = [
        (
            Mark::Line(GREY, 5),
            "recorded spec replicas (Prometheus)".to_string(),
        ),
        (
            Mark::Line(BLUE, 2),
            "replayed policy's decision".to_string(),
        ),
        (Mark::Line(RED, 3), "ticks where they differ".to_string()),
        (
            Mark::Line(ORANGE, 3),
            "ticks with stale or missing metrics".to_string(),
        ),
    ];
    let body = frame::legend(&body, &items)?;
    if units.is_empty() {
        return frame::note(&body, "no tick could be assembled from Prometheus");
    }
    let start = rows.first().map_or(0, |r| r.t_ms);
    let end = rows.last().map_or(0, |r| r.t_ms);
    let time = TimeAxis::new(((end - start) as f64 / 1000.0).max(60.0));
    let panels = body.split_evenly((units.len(), 1));
    for (area, unit) in panels.iter().zip(units) {
        let mine: Vec<&ShadowRow> = rows.iter().filter(|r| r.unit == *unit).collect();
        panel(area, unit, &mine, start, time)?;
    }
    Ok(())
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    unit: &str,
    rows: &[&ShadowRow],
    start: i64,
    time: TimeAxis,
) -> Result<(), ChartError> {
    let at = |r: &ShadowRow| time.at((r.t_ms - start) as f64 / 1000.0);
    let top = rows
        .iter()
        .map(|r| r.replayed.max(r.recorded.unwrap_or(0)).max(r.current))
        .max()
        .unwrap_or(1)
        .max(1);
    let top = top + (top / 10).max(1);
    let mut chart = ChartBuilder::on(area)
        .caption(unit, frame::font(18))
        .margin_left(16)
        .margin_right(24)
        .margin_bottom(8)
        .x_label_area_size(50)
        .y_label_area_size(64)
        .build_cartesian_2d(0.0..time.end, 0..top)?;
    let x_fmt = |v: &f64| frame::num(*v);
    frame::grid(&mut chart.configure_mesh())
        .x_desc(time.label)
        .y_desc("replicas")
        .x_label_formatter(&x_fmt)
        .draw()?;
    // A tick's decision shows from the tick on; the recording, from the next tick on.
    let recorded = rows.iter().filter_map(|r| r.recorded.map(|v| (at(r), v)));
    let recorded = frame::steps(recorded, time.end);
    chart.draw_series(LineSeries::new(recorded, GREY.mix(0.6).stroke_width(5)))?;
    let replayed = frame::steps(rows.iter().map(|r| (at(r), r.replayed)), time.end);
    chart.draw_series(LineSeries::new(replayed, BLUE.stroke_width(2)))?;
    let differ = rows.iter().filter(|r| r.agree == Some(false));
    chart.draw_series(differ.map(|r| Circle::new((at(r), r.replayed), 4, RED.filled())))?;
    let stale = rows.iter().filter(|r| !r.stale.is_empty());
    chart.draw_series(stale.map(|r| Circle::new((at(r), 0), 3, ORANGE.filled())))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(t: i64, unit: &str, replayed: i32, recorded: Option<i32>) -> ShadowRow {
        ShadowRow {
            time: String::new(),
            t_ms: t,
            unit: unit.into(),
            current: 1,
            replayed,
            recorded,
            agree: recorded.map(|r| r == replayed),
            skip: false,
            panic: false,
            reason: String::new(),
            stale: String::new(),
        }
    }

    #[test]
    fn draws_one_panel_per_unit_and_is_deterministic() {
        let rows = [
            row(0, "a", 1, Some(1)),
            row(0, "b", 2, Some(3)),
            row(15_000, "a", 2, None),
            row(15_000, "b", 2, None),
        ];
        assert_eq!(units(&rows), vec!["a", "b"]);
        let (svg, png) = render("policy chat on 127.0.0.1", &rows).unwrap();
        let text = String::from_utf8(svg).unwrap();
        assert!(text.contains("Recorded and replayed replicas"));
        assert_eq!(render("policy chat on 127.0.0.1", &rows).unwrap().1, png);
    }
}
