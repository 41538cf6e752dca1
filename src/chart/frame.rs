//! What every figure shares: the embedded font, the two backends, the palette, the title
//! block, the legend strip, the time axis and number formatting.

use std::sync::OnceLock;

use plotters::chart::MeshStyle;
use plotters::coord::ranged1d::Ranged;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use rayon::prelude::*;

use super::{ChartError, RunData};

/// DejaVu Sans reduced to Latin-1 and a few symbols (see `assets/fonts/README.md`).
const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-subset.ttf");

/// Registered as plotters' default family, so that every text — ours and the axes' — uses
/// the embedded font; SVG files name it as `sans-serif` for the viewer's own font.
const FAMILY: &str = "sans-serif";

/// Width of every figure; heights grow with the number of panels.
pub const WIDTH: u32 = 1200;

/// Registers the embedded font once per process.
pub fn register_font() -> Result<(), ChartError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED
        .get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    if ok {
        Ok(())
    } else {
        Err(ChartError::Font)
    }
}

/// One file of a figure to draw: its SVG or PNG bytes, made when called.
pub type Job<'a> = Box<dyn FnOnce() -> Result<Vec<u8>, ChartError> + Send + 'a>;

/// Draws `jobs` in parallel on the current rayon pool and names their files with `names`,
/// in order: the bytes of each file do not depend on the threads, and rayon collects in
/// order, so the files are the same as drawn one after the other.
pub fn draw_all(names: &[&str], jobs: Vec<Job<'_>>) -> Result<Vec<(String, Vec<u8>)>, ChartError> {
    let bytes: Vec<Vec<u8>> = jobs
        .into_par_iter()
        .map(|job| job())
        .collect::<Result<_, _>>()?;
    Ok(names.iter().map(|n| n.to_string()).zip(bytes).collect())
}

/// Draws a figure as SVG text.
pub fn svg(
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), ChartError>,
) -> Result<Vec<u8>, ChartError> {
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, size).into_drawing_area();
        draw(&root)?;
        root.present()?;
    }
    Ok(text.into_bytes())
}

/// Draws a figure into an RGB buffer and encodes it as PNG (no time or text chunks, so the
/// same figure always gives the same bytes). The rows keep the default adaptive filters and
/// are deflated with `fdeflate` (`Compression::Fast`): files about twice zlib level 6's size,
/// for a fifth of its time, which was most of a short run's (the decoded pixels, and the
/// filtered rows, are those zlib would have compressed).
pub fn png(
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> Result<(), ChartError>,
) -> Result<Vec<u8>, ChartError> {
    let (w, h) = size;
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        draw(&root)?;
        root.present()?;
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&rgb)?;
    writer.finish()?;
    Ok(out)
}

/// The palette (Tableau 10): one colour per meaning, the same in every figure.
pub const BLUE: RGBColor = RGBColor(31, 119, 180);
pub const ORANGE: RGBColor = RGBColor(255, 127, 14);
pub const GREEN: RGBColor = RGBColor(44, 160, 44);
pub const RED: RGBColor = RGBColor(214, 39, 40);
pub const PURPLE: RGBColor = RGBColor(148, 103, 189);
pub const GREY: RGBColor = RGBColor(127, 127, 127);
pub const TEXT: RGBColor = RGBColor(40, 40, 40);
/// Colours of ModelServings, in scenario order.
pub const SERIES: [RGBColor; 8] = [
    BLUE,
    ORANGE,
    GREEN,
    PURPLE,
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Text of `size` pixels in the embedded font.
pub fn font(size: u32) -> TextStyle<'static> {
    (FAMILY, size).into_font().color(&TEXT)
}

/// Draws the figure's title and a grey line under it; returns the area below.
pub fn header<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    run: &RunData,
) -> Result<DrawingArea<DB, Shift>, ChartError> {
    root.fill(&WHITE)?;
    let (w, _) = root.dim_in_pixel();
    let center = |y| (w as i32 / 2, y);
    let top = Pos::new(HPos::Center, VPos::Top);
    root.draw_text(title, &font(26).pos(top), center(12))?;
    let seed = match run.replications.len() {
        0 | 1 => format!("seed {}", run.seed),
        n => format!("median of {n} replications (seed {} first)", run.seed),
    };
    let subtitle = format!(
        "scenario {} · {} · {seed} · {} simulated",
        run.scenario,
        autoscalers(&run.autoscaler, &run.engine),
        duration(run.duration_s)
    );
    root.draw_text(
        &subtitle,
        &(FAMILY, 16).into_font().color(&GREY).pos(top),
        center(46),
    )?;
    Ok(root.split_vertically(72).1)
}

/// A grey note in the middle of `area`, where a figure has nothing to draw.
pub fn note<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
) -> Result<(), ChartError> {
    let (w, h) = area.dim_in_pixel();
    let style = (FAMILY, 18).into_font().color(&GREY);
    let center = Pos::new(HPos::Center, VPos::Center);
    area.draw_text(text, &style.pos(center), (w as i32 / 2, h as i32 / 2))?;
    Ok(())
}

/// The look every figure's axes share: label and description fonts, light grid lines.
pub fn grid<'m, 'a, 'b, X, Y, DB>(
    m: &'m mut MeshStyle<'a, 'b, X, Y, DB>,
) -> &'m mut MeshStyle<'a, 'b, X, Y, DB>
where
    X: Ranged,
    Y: Ranged,
    DB: DrawingBackend,
{
    m.label_style(font(14))
        .axis_desc_style(font(16))
        .light_line_style(TRANSPARENT)
        .bold_line_style(RGBColor(225, 225, 225))
}

/// How a legend entry is drawn.
pub enum Mark {
    Line(RGBColor, u32),
    Area(RGBAColor),
}

/// A row (or rows) of legend entries centred at the top of `area`, outside every plot so
/// that it never hides data; returns the area below.
pub fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    items: &[(Mark, String)],
) -> Result<DrawingArea<DB, Shift>, ChartError> {
    const SWATCH: i32 = 26;
    const GAP: i32 = 8;
    const SPACING: i32 = 28;
    const ROW: i32 = 28;
    let style = font(16);
    let (w, _) = area.dim_in_pixel();
    let mut rows: Vec<Vec<(&Mark, &str, i32)>> = vec![Vec::new()];
    let mut row_width = 0;
    for (mark, label) in items {
        let (tw, _) = area.estimate_text_size(label, &style)?;
        let item = SWATCH + GAP + tw as i32;
        if row_width > 0 && row_width + SPACING + item > w as i32 - 40 {
            rows.push(Vec::new());
            row_width = 0;
        }
        let row = rows.last_mut().ok_or(ChartError::Draw("legend".into()))?;
        row_width += if row.is_empty() { 0 } else { SPACING } + item;
        row.push((mark, label, item));
    }
    let left = Pos::new(HPos::Left, VPos::Center);
    for (r, row) in rows.iter().enumerate() {
        let total: i32 =
            row.iter().map(|(_, _, iw)| iw).sum::<i32>() + SPACING * (row.len() as i32 - 1).max(0);
        let mut x = (w as i32 - total) / 2;
        let y = ROW / 2 + r as i32 * ROW;
        for (mark, label, iw) in row {
            match mark {
                Mark::Line(c, width) => area.draw(&PathElement::new(
                    vec![(x, y), (x + SWATCH, y)],
                    c.stroke_width(*width),
                ))?,
                Mark::Area(c) => area.draw(&Rectangle::new(
                    [(x, y - 8), (x + SWATCH, y + 8)],
                    c.filled(),
                ))?,
            }
            area.draw_text(label, &style.pos(left), (x + SWATCH + GAP, y))?;
            x += iw + SPACING;
        }
    }
    Ok(area.split_vertically(rows.len() as i32 * ROW + 6).1)
}

/// The x axis of every figure: minutes for runs up to three hours, hours beyond.
#[derive(Debug, Clone, Copy)]
pub struct TimeAxis {
    /// Seconds per axis unit.
    unit_s: f64,
    pub end: f64,
    pub label: &'static str,
}

impl TimeAxis {
    pub fn new(duration_s: f64) -> Self {
        let (unit_s, label) = if duration_s <= 3.0 * 3600.0 {
            (60.0, "time (min)")
        } else {
            (3600.0, "time (h)")
        };
        TimeAxis {
            unit_s,
            end: (duration_s / unit_s).max(1e-9),
            label,
        }
    }

    /// A time in seconds on this axis.
    pub fn at(&self, time_s: f64) -> f64 {
        time_s / self.unit_s
    }
}

/// A run length for people: `45 min`, `24 h`.
fn duration(s: f64) -> String {
    if s < 3.0 * 3600.0 {
        format!("{} min", num(s / 60.0))
    } else {
        format!("{} h", num(s / 3600.0))
    }
}

/// A number with at most three decimals and no trailing zeros: `0.01`, `2.5`, `300`.
pub fn num(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

/// A value held from each sample until the next (and the last until `end`): the points
/// of a step line, with corners only where the value changes (a day of ticks stays small).
pub fn steps<T: Copy + PartialEq>(
    samples: impl IntoIterator<Item = (f64, T)>,
    end: f64,
) -> Vec<(f64, T)> {
    let mut points: Vec<(f64, T)> = Vec::new();
    for (t, v) in samples {
        match points.last() {
            Some(&(_, prev)) if prev == v => continue,
            Some(&(_, prev)) => points.push((t, prev)),
            None => {}
        }
        points.push((t, v));
    }
    if let Some(&(t, v)) = points.last() {
        if t < end {
            points.push((end, v));
        }
    }
    points
}

/// The top of a linear axis a little above `max`, so that lines do not run along the frame.
pub fn headroom(max: f64) -> f64 {
    if max > 0.0 {
        max * 1.1
    } else {
        1.0
    }
}

/// The autoscalers of a run as titles name them: `Kthena head engine`, `Kubernetes HPA`,
/// `KEDA`, `Knative KPA`, joined with `+` (files of older runs name no autoscaler: Kthena).
pub fn autoscalers(names: &str, engine: &str) -> String {
    if names.is_empty() {
        return format!("Kthena {engine} engine");
    }
    names
        .split('+')
        .map(|n| match n {
            "kthena" => format!("Kthena {engine} engine"),
            "hpa" => "Kubernetes HPA".to_string(),
            "keda" => "KEDA".to_string(),
            "kpa" => "Knative KPA".to_string(),
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" + ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_durations_read_naturally() {
        assert_eq!(num(0.01), "0.01");
        assert_eq!(num(300.0), "300");
        assert_eq!(num(2.5), "2.5");
        assert_eq!(num(-0.0001), "0");
        assert_eq!(duration(2700.0), "45 min");
        assert_eq!(duration(86400.0), "24 h");
    }

    /// The fast deflate loses nothing: the PNG decodes to the pixels drawn.
    #[test]
    fn png_decodes_to_the_pixels_drawn() {
        let draw = |area: &DrawingArea<BitMapBackend<'_>, Shift>| {
            area.fill(&WHITE)?;
            let points = (0..120).map(|x| (x * 3, 20 + (x * x) % 80));
            area.draw(&PathElement::new(
                points.collect::<Vec<_>>(),
                BLUE.stroke_width(2),
            ))?;
            area.draw(&Rectangle::new([(40, 30), (90, 70)], ORANGE.filled()))?;
            Ok(())
        };
        let size = (360, 120);
        let mut drawn = vec![0u8; 360 * 120 * 3];
        {
            let root = BitMapBackend::with_buffer(&mut drawn, size).into_drawing_area();
            draw(&root).unwrap();
            root.present().unwrap();
        }
        let bytes = png(size, draw).unwrap();
        let mut reader = ::png::Decoder::new(std::io::Cursor::new(bytes))
            .read_info()
            .unwrap();
        let mut decoded = vec![0u8; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut decoded).unwrap();
        assert_eq!((info.width, info.height), size);
        assert_eq!(decoded, drawn);
    }

    #[test]
    fn steps_hold_each_value_until_the_next_sample() {
        assert_eq!(
            steps([(0.0, 1.0), (15.0, 1.0), (30.0, 3.0), (45.0, 3.0)], 60.0),
            vec![(0.0, 1.0), (30.0, 1.0), (30.0, 3.0), (60.0, 3.0)]
        );
        assert!(steps::<i32>([], 30.0).is_empty());
    }
}
