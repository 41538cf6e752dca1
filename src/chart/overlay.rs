//! The figures of `compare` and `sweep`: every variant's replicas, latency and cost on one
//! chart, and the cost-vs-attainment scatter with its Pareto front.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::frame::{self, Mark, TimeAxis, GREY, RED, TEXT};
use super::{ChartError, RunData};
use crate::outputs::comparison::Row;

/// The files [`render_overlays`] makes.
pub const OVERLAYS: [&str; 6] = [
    "overlay-replicas.svg",
    "overlay-replicas.png",
    "overlay-latency.svg",
    "overlay-latency.png",
    "overlay-cost.svg",
    "overlay-cost.png",
];

/// The files [`render_pareto`] makes.
pub const PARETO: [&str; 2] = ["pareto.svg", "pareto.png"];

fn color(i: usize) -> RGBColor {
    frame::SERIES[i % frame::SERIES.len()]
}

fn title_block<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
) -> Result<DrawingArea<DB, Shift>, ChartError> {
    root.fill(&WHITE)?;
    let (w, _) = root.dim_in_pixel();
    let top = Pos::new(HPos::Center, VPos::Top);
    root.draw_text(title, &frame::font(26).pos(top), (w as i32 / 2, 12))?;
    root.draw_text(
        subtitle,
        &("sans-serif", 16).into_font().color(&GREY).pos(top),
        (w as i32 / 2, 46),
    )?;
    Ok(root.split_vertically(72).1)
}

/// The scenario, the seed (each seed when the variants differ in it) and the variants.
fn subtitle(runs: &[(String, RunData)]) -> String {
    let mut seeds: Vec<u64> = Vec::new();
    for (_, r) in runs {
        if !seeds.contains(&r.seed) {
            seeds.push(r.seed);
        }
    }
    let seeds = match seeds.as_slice() {
        [one] => format!("seed {one}"),
        many if many.len() <= 5 => format!(
            "seeds {}",
            many.iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        many => format!("{} different seeds", many.len()),
    };
    runs.first().map_or(String::new(), |(_, r)| {
        format!(
            "scenario {} · {seeds} · {} variants",
            r.scenario,
            runs.len()
        )
    })
}

/// The total `spec.replicas` of a run over time (targets share their tick times).
fn total_replicas(run: &RunData) -> Vec<(f64, f64)> {
    let Some(first) = run.targets.first() else {
        return Vec::new();
    };
    (0..first.ticks.len())
        .map(|i| {
            let sum: i32 = run
                .targets
                .iter()
                .filter_map(|t| t.ticks.get(i))
                .map(|t| t.spec_replicas)
                .sum();
            (first.ticks[i].time_s, f64::from(sum))
        })
        .collect()
}

fn legend_items(
    runs: &[(String, RunData)],
    label: impl Fn(&str, &RunData) -> String,
) -> Vec<(Mark, String)> {
    runs.iter()
        .enumerate()
        .map(|(i, (n, r))| (Mark::Line(color(i), 3), label(n, r)))
        .collect()
}

fn replicas<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    runs: &[(String, RunData)],
) -> Result<(), ChartError> {
    let body = title_block(
        root,
        "Replicas of every variant (total spec.replicas)",
        &subtitle(runs),
    )?;
    let body = frame::legend(&body, &legend_items(runs, |n, _| n.to_string()))?;
    let duration = runs.iter().map(|(_, r)| r.duration_s).fold(0.0, f64::max);
    let time = TimeAxis::new(duration);
    let series: Vec<Vec<(f64, f64)>> = runs
        .iter()
        .map(|(_, r)| frame::steps(total_replicas(r), r.duration_s))
        .collect();
    let top = frame::headroom(series.iter().flatten().map(|p| p.1).fold(1.0, f64::max));
    let mut chart = ChartBuilder::on(&body)
        .margin(12)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..time.end, 0.0..top)?;
    let fmt = |v: &f64| frame::num(*v);
    frame::grid(&mut chart.configure_mesh())
        .x_desc(time.label)
        .y_desc("replicas (servers)")
        .x_label_formatter(&fmt)
        .y_label_formatter(&fmt)
        .draw()?;
    for (i, s) in series.iter().enumerate() {
        chart.draw_series(LineSeries::new(
            s.iter().map(|&(t, v)| (time.at(t), v)),
            color(i).stroke_width(3),
        ))?;
    }
    Ok(())
}

fn latency<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    runs: &[(String, RunData)],
) -> Result<(), ChartError> {
    let body = title_block(
        root,
        "p99 latency per minute of every variant",
        &subtitle(runs),
    )?;
    let body = frame::legend(&body, &legend_items(runs, |n, _| n.to_string()))?;
    let duration = runs.iter().map(|(_, r)| r.duration_s).fold(0.0, f64::max);
    let time = TimeAxis::new(duration);
    let panels = body.split_evenly((2, 1));
    type Pick = fn(&crate::outputs::rows::LatencyRow) -> Option<f64>;
    type Slo = fn(&RunData) -> Option<f64>;
    let metrics: [(&str, Pick, Slo); 2] = [
        ("time to first token p99", |m| m.ttft_p99_s, |r| r.slo.ttft),
        ("end-to-end latency p99", |m| m.e2e_p99_s, |r| r.slo.e2e),
    ];
    for (panel, (name, pick, slo)) in panels.iter().zip(metrics) {
        let values: Vec<f64> = runs
            .iter()
            .flat_map(|(_, r)| r.latency.iter().filter_map(pick))
            .filter(|v| *v > 0.0)
            .collect();
        let lo = values
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min)
            .max(1e-3);
        let hi = values.iter().copied().fold(0.0, f64::max).max(lo * 10.0);
        let (lo, hi) = (
            10f64.powf(lo.log10().floor()),
            10f64.powf(hi.log10().ceil()),
        );
        let mut chart = ChartBuilder::on(panel)
            .caption(name, frame::font(16))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..time.end, (lo..hi).log_scale())?;
        let xfmt = |v: &f64| frame::num(*v);
        let yfmt = |v: &f64| frame::num(*v);
        frame::grid(&mut chart.configure_mesh())
            .x_desc(time.label)
            .y_desc("seconds (log scale)")
            .x_label_formatter(&xfmt)
            .y_label_formatter(&yfmt)
            .draw()?;
        if let Some(t) = runs.first().and_then(|(_, r)| slo(r)) {
            chart.draw_series(LineSeries::new(
                [(0.0, t), (time.end, t)],
                RED.stroke_width(2),
            ))?;
        }
        for (i, (_, r)) in runs.iter().enumerate() {
            let pts: Vec<(f64, f64)> = r
                .latency
                .iter()
                .filter_map(|m| {
                    pick(m)
                        .filter(|v| *v > 0.0)
                        .map(|v| (time.at(m.time_s + 30.0), v))
                })
                .collect();
            chart.draw_series(LineSeries::new(pts, color(i).stroke_width(2)))?;
        }
    }
    Ok(())
}

fn cost<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    runs: &[(String, RunData)],
) -> Result<(), ChartError> {
    let body = title_block(root, "Cumulative cost of every variant", &subtitle(runs))?;
    let totals: Vec<Vec<(f64, f64)>> = runs
        .iter()
        .map(|(_, r)| super::cost::total_cost(r))
        .collect();
    let items: Vec<(Mark, String)> = runs
        .iter()
        .zip(&totals)
        .enumerate()
        .map(|(i, ((n, _), t))| {
            (
                Mark::Line(color(i), 3),
                format!("{n} (total {:.2})", t.last().map_or(0.0, |p| p.1)),
            )
        })
        .collect();
    let body = frame::legend(&body, &items)?;
    let duration = runs.iter().map(|(_, r)| r.duration_s).fold(0.0, f64::max);
    let time = TimeAxis::new(duration);
    let top = frame::headroom(totals.iter().flatten().map(|p| p.1).fold(0.0, f64::max));
    let mut chart = ChartBuilder::on(&body)
        .margin(12)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..time.end, 0.0..top)?;
    let fmt = |v: &f64| frame::num(*v);
    frame::grid(&mut chart.configure_mesh())
        .x_desc(time.label)
        .y_desc("cost (currency of price_per_hour)")
        .x_label_formatter(&fmt)
        .y_label_formatter(&fmt)
        .draw()?;
    for (i, t) in totals.iter().enumerate() {
        chart.draw_series(LineSeries::new(
            t.iter().map(|&(x, c)| (time.at(x), c)),
            color(i).stroke_width(3),
        ))?;
    }
    Ok(())
}

/// The overlay figures of several runs, (name, data) in the variants' order.
pub fn render_overlays(runs: &[(String, RunData)]) -> Result<Vec<(String, Vec<u8>)>, ChartError> {
    frame::register_font()?;
    let (w, h) = (frame::WIDTH, 620);
    let jobs: Vec<frame::Job<'_>> = vec![
        Box::new(|| frame::svg((w, h), |a| replicas(a, runs))),
        Box::new(|| frame::png((w, h), |a| replicas(a, runs))),
        Box::new(|| frame::svg((w, 900), |a| latency(a, runs))),
        Box::new(|| frame::png((w, 900), |a| latency(a, runs))),
        Box::new(|| frame::svg((w, h), |a| cost(a, runs))),
        Box::new(|| frame::png((w, h), |a| cost(a, runs))),
    ];
    frame::draw_all(&OVERLAYS, jobs)
}

/// One point of the scatter: a variant's name, cost and SLO attainment, and whether it is
/// on the Pareto front.
pub struct Point {
    pub name: String,
    pub cost: f64,
    pub attainment: f64,
    pub pareto: bool,
    /// The 95 % intervals of the mean cost and attainment, over replications: whiskers.
    pub cost_ci95: Option<(f64, f64)>,
    pub attainment_ci95: Option<(f64, f64)>,
}

/// The scatter's points: each row's cost, attainment and place on the Pareto front.
pub fn points(rows: &[Row]) -> Vec<Point> {
    rows.iter()
        .map(|r| Point {
            name: r.variant.clone(),
            cost: r.cost,
            attainment: r.attainment,
            pareto: r.pareto,
            cost_ci95: r.cost_ci95,
            attainment_ci95: r.attainment_ci95,
        })
        .collect()
}

fn pareto<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    points: &[Point],
) -> Result<(), ChartError> {
    let body = title_block(root, "Cost vs SLO attainment", title)?;
    let mut items = vec![
        (
            Mark::Line(RED, 3),
            "Pareto front (no variant is both cheaper and better)".to_string(),
        ),
        (Mark::Line(GREY, 3), "other variants".to_string()),
    ];
    let whiskers = points
        .iter()
        .any(|p| p.cost_ci95.is_some() || p.attainment_ci95.is_some());
    if whiskers {
        items.push((
            Mark::Line(GREY, 1),
            "95 % intervals of the means over replications".to_string(),
        ));
    }
    let body = frame::legend(&body, &items)?;
    let max_cost = frame::headroom(
        points
            .iter()
            .map(|p| p.cost_ci95.map_or(p.cost, |c| c.1))
            .fold(0.0, f64::max),
    );
    let min_att = points
        .iter()
        .map(|p| p.attainment_ci95.map_or(p.attainment, |c| c.0))
        .fold(1.0, f64::min);
    let lo = (min_att - 0.05).clamp(0.0, 0.95);
    let mut chart = ChartBuilder::on(&body)
        .margin(16)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..max_cost, lo..1.0)?;
    let fmt = |v: &f64| frame::num(*v);
    frame::grid(&mut chart.configure_mesh())
        .x_desc("cost (currency of price_per_hour)")
        .y_desc("SLO attainment")
        .x_label_formatter(&fmt)
        .y_label_formatter(&fmt)
        .draw()?;
    let mut front: Vec<&Point> = points.iter().filter(|p| p.pareto).collect();
    front.sort_by(|a, b| a.cost.total_cmp(&b.cost));
    chart.draw_series(LineSeries::new(
        front.iter().map(|p| (p.cost, p.attainment)),
        RED.stroke_width(2),
    ))?;
    for p in points {
        let c = if p.pareto { RED } else { GREY };
        let whisker =
            |a: (f64, f64), b: (f64, f64)| PathElement::new(vec![a, b], c.stroke_width(1));
        if let Some((lo, hi)) = p.cost_ci95 {
            chart.draw_series(std::iter::once(whisker(
                (lo, p.attainment),
                (hi, p.attainment),
            )))?;
        }
        if let Some((lo, hi)) = p.attainment_ci95 {
            let (lo, hi) = (lo.max(0.0), hi.min(1.0));
            chart.draw_series(std::iter::once(whisker((p.cost, lo), (p.cost, hi))))?;
        }
        // The marker, and its name beside it (offset in pixels so it never covers the point).
        let marker = EmptyElement::at((p.cost, p.attainment))
            + Circle::new((0, 0), 6, c.filled())
            + Text::new(p.name.clone(), (10, -18), frame::font(14).color(&TEXT));
        chart.draw_series(std::iter::once(marker))?;
    }
    Ok(())
}

/// The scatter of a comparison or sweep.
pub fn render_pareto(title: &str, points: &[Point]) -> Result<Vec<(String, Vec<u8>)>, ChartError> {
    frame::register_font()?;
    let size = (frame::WIDTH, 700);
    let jobs: Vec<frame::Job<'_>> = vec![
        Box::new(|| frame::svg(size, |a| pareto(a, title, points))),
        Box::new(|| frame::png(size, |a| pareto(a, title, points))),
    ];
    frame::draw_all(&PARETO, jobs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outputs::summary::Thresholds;

    fn run(seed: u64) -> RunData {
        RunData {
            scenario: "spike".into(),
            engine: "head".into(),
            autoscaler: "kthena".into(),
            seed,
            duration_s: 60.0,
            slo: Thresholds::default(),
            targets: Vec::new(),
            latency: Vec::new(),
            servings: Vec::new(),
            replications: Vec::new(),
        }
    }

    #[test]
    fn the_subtitle_names_every_seed_when_the_variants_differ_in_it() {
        let same = [("a".to_string(), run(7)), ("b".to_string(), run(7))];
        assert_eq!(subtitle(&same), "scenario spike · seed 7 · 2 variants");
        let differ = [("a".to_string(), run(1)), ("b".to_string(), run(2))];
        assert_eq!(
            subtitle(&differ),
            "scenario spike · seeds 1, 2 · 2 variants"
        );
        let many: Vec<_> = (0..7).map(|i| (i.to_string(), run(i))).collect();
        assert_eq!(
            subtitle(&many),
            "scenario spike · 7 different seeds · 7 variants"
        );
    }
}
