//! The report's SVG figures, drawn with plotters: learning curves per axis,
//! ground truth vs prediction with the decision boundary, and the per-seed
//! accuracy panel. Each function returns the SVG text; the caller writes it.
//!
//! Figures are laid out for GitHub's default content width (~800 px): the
//! SVG is 800 px wide, text is 13–20 px, legends sit beside or below the
//! plot (never over data), and colours come from the Okabe–Ito palette,
//! which stays distinct for the common colour-vision deficiencies. Shapes
//! double the colour wherever two classes are compared.

use plotters::coord::Shift;
use plotters::drawing::DrawingAreaErrorKind;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::aggregate::{Band, Curve, fmt_epoch, fmt_sig};
use super::boundary::Grid;

/// Width of every figure, in px.
pub const WIDTH: u32 = 800;

/// Okabe & Ito (2008), "Color Universal Design": blue, orange, bluish
/// green, vermillion, reddish purple, sky blue, black, yellow (yellow last:
/// it is faint as a line on white).
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0x00, 0x72, 0xB2),
    RGBColor(0xE6, 0x9F, 0x00),
    RGBColor(0x00, 0x9E, 0x73),
    RGBColor(0xD5, 0x5E, 0x00),
    RGBColor(0xCC, 0x79, 0xA7),
    RGBColor(0x56, 0xB4, 0xE9),
    RGBColor(0x00, 0x00, 0x00),
    RGBColor(0xF0, 0xE4, 0x42),
];

const BLUE: RGBColor = PALETTE[0];
const ORANGE: RGBColor = PALETTE[1];
const VERMILLION: RGBColor = PALETTE[3];
const GREY: RGBColor = RGBColor(0x55, 0x55, 0x55);

/// Text sizes in rendered px.
const TITLE_PX: f64 = 20.0;
const SUBTITLE_PX: f64 = 14.0;
const AXIS_PX: f64 = 16.0;
const TICK_PX: f64 = 14.0;
const LEGEND_PX: f64 = 14.0;
/// Width of a character as a share of the font size: a generous estimate
/// for sans-serif faces, so text measured with it does not collide.
const CHAR_EM: f64 = 0.6;
/// Stroke width of a data series (axes and grid are 1 px).
pub const SERIES_STROKE: u32 = 2;
/// Most points drawn per line (curves are thinned beyond this).
const MAX_POINTS: usize = 600;

/// A figure that could not be drawn (plotters' reason).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct FigureError(pub String);

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for FigureError {
    fn from(e: DrawingAreaErrorKind<E>) -> Self {
        FigureError(e.to_string())
    }
}

/// Series colour `i` (cycling after eight).
pub fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Whether series `i` is drawn dashed: past the eight colours, which
/// then repeat, the dash tells series `i` from series `i - 8` (as
/// matplotlib's cycler pairs colours with line styles).
pub fn dashed(i: usize) -> bool {
    (i / PALETTE.len()) % 2 == 1
}

/// Dash and gap of a dashed series, in px.
const DASH: (u32, u32) = (8, 4);

/// A plotters font of `px` rendered pixels (the SVG backend writes
/// `font-size = size / 1.24`, so the size passed in is scaled up).
fn font(px: f64) -> FontDesc<'static> {
    ("sans-serif", px * 1.24).into_font()
}

fn text_width(text: &str, px: f64) -> i32 {
    (text.chars().count() as f64 * px * CHAR_EM).ceil() as i32
}

/// The number of tick labels to ask plotters for on the axis `coord`,
/// `px` pixels long: the most, up to `most`, whose ticks (plotters' own:
/// multiples of 1, 2 or 5 x 10^k on a linear axis, powers of ten on a log
/// one) leave at least `gap` pixels between neighbouring labels, `extent(v)`
/// being the label of tick v's size along the axis. An axis gets as many
/// round ticks as it has room for, and no two labels touch.
fn labels_that_fit<R: plotters::coord::ranged1d::Ranged<ValueType = f64>>(
    coord: &R,
    px: u32,
    most: usize,
    gap: f64,
    extent: impl Fn(f64) -> f64,
) -> usize {
    let limit = (0, px as i32);
    (2..=most.max(2))
        .rev()
        .find(|&n| {
            coord.key_points(n).windows(2).all(|w| {
                let apart = f64::from((coord.map(&w[1], limit) - coord.map(&w[0], limit)).abs());
                apart >= (extent(w[0]) + extent(w[1])) / 2.0 + gap
            })
        })
        .unwrap_or(2)
}

/// How wide `text` is drawn in bold at `px`: a bold face is about a tenth
/// wider than [`CHAR_EM`] allows for.
fn bold_width(text: &str, px: f64) -> i32 {
    text_width(text, px) * 11 / 10
}

/// Widest a legend's title above or beside its entries is drawn, in px.
const LEGEND_TITLE_MAX: i32 = 200;

/// How wide tick label `text` is drawn in `font(px)`.
fn label_width(text: &str, px: f64) -> f64 {
    f64::from(text_width(text, px * 1.24))
}

/// `text` cut to at most `max_px` wide, ending in `…` when cut.
fn fit(text: &str, px: f64, max_px: i32) -> String {
    let max_chars = ((max_px as f64) / (px * CHAR_EM)).floor().max(1.0) as usize;
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let cut: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    format!("{}…", cut.trim_end())
}

/// Greedy word wrap to lines of at most `max_px`.
fn wrap(text: &str, px: f64, max_px: i32) -> Vec<String> {
    let max_chars = ((max_px as f64) / (px * CHAR_EM)).floor().max(8.0) as usize;
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > max_chars {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines.into_iter().map(|l| fit(&l, px, max_px)).collect()
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

fn draw_text(
    area: &Area,
    text: &str,
    px: f64,
    colour: &RGBColor,
    pos: (i32, i32),
    anchor: Pos,
    bold: bool,
) -> Result<(), FigureError> {
    let f = if bold { font(px).style(FontStyle::Bold) } else { font(px) };
    area.draw(&Text::new(text.to_string(), pos, f.color(colour).pos(anchor)))?;
    Ok(())
}

const TOP_LEFT: Pos = Pos { h_pos: HPos::Left, v_pos: VPos::Top };
const MID_LEFT: Pos = Pos { h_pos: HPos::Left, v_pos: VPos::Center };
const MID_RIGHT: Pos = Pos { h_pos: HPos::Right, v_pos: VPos::Center };

/// Title and wrapped subtitle lines, and the height they take.
struct Header {
    title: String,
    lines: Vec<String>,
}

impl Header {
    fn new(title: &str, subtitle: &str) -> Header {
        let max = WIDTH as i32 - 32;
        Header { title: fit(title, TITLE_PX, max), lines: wrap(subtitle, SUBTITLE_PX, max) }
    }

    fn height(&self) -> u32 {
        14 + (TITLE_PX as u32 + 8) + self.lines.len() as u32 * (SUBTITLE_PX as u32 + 5) + 6
    }

    /// Draws the header at the top of `root`; returns the area below it.
    fn draw<'a>(&self, root: &Area<'a>) -> Result<Area<'a>, FigureError> {
        let (top, body) = root.split_vertically(self.height());
        draw_text(&top, &self.title, TITLE_PX, &BLACK, (16, 12), TOP_LEFT, true)?;
        let mut y = 12 + TITLE_PX as i32 + 8;
        for line in &self.lines {
            draw_text(&top, line, SUBTITLE_PX, &GREY, (16, y), TOP_LEFT, false)?;
            y += SUBTITLE_PX as i32 + 5;
        }
        Ok(body)
    }
}

/// One value of the figure's axis in one panel: its summary band, and the
/// jobs it summarises.
#[derive(Debug, Clone, Default)]
pub struct Series {
    /// Median and interquartile range over the group's jobs (None: no curve).
    pub band: Option<Band>,
    /// Every job's curve, drawn thin and faint (filled only for groups of at
    /// most [`FEW_JOBS`] jobs).
    pub lines: Vec<Curve>,
    /// Where each diverged job ended: (epoch, last finite loss or NaN).
    pub ends: Vec<(f64, f64)>,
    pub jobs: usize,
    pub diverged: usize,
}

/// The longest line of the key to the marks of a learning-curve figure.
const KEY_WIDEST: &str = "one job (groups of 10 or fewer)";

/// Groups of at most this many jobs have every job's curve drawn.
pub const FEW_JOBS: usize = 10;

/// One panel of a learning-curve figure: one data set (or task).
#[derive(Debug, Clone)]
pub struct Panel {
    /// `dataset = xor`; empty for a figure of a single panel.
    pub title: String,
    /// One entry per legend label, in legend order.
    pub series: Vec<Series>,
}

/// Loss vs epoch as small multiples: one panel per data set, one line per
/// value of an axis in every panel, a shared y axis.
#[derive(Debug, Clone)]
pub struct CurvesFigure {
    pub title: String,
    pub subtitle: String,
    /// Heading of the legend (the axis name).
    pub legend_title: String,
    /// The axis values, as shown (colour `i` is label `i` in every panel).
    pub labels: Vec<String>,
    pub panels: Vec<Panel>,
    pub y_desc: String,
}

/// Indices kept when thinning `n` points to at most [`MAX_POINTS`]
/// (always the first and last).
fn thin(n: usize) -> Vec<usize> {
    if n <= MAX_POINTS {
        return (0..n).collect();
    }
    let stride = n.div_ceil(MAX_POINTS);
    let mut idx: Vec<usize> = (0..n).step_by(stride).collect();
    if idx.last() != Some(&(n - 1)) {
        idx.push(n - 1);
    }
    idx
}

/// Maximal runs of indices where `ok` holds (gaps split a line on a log axis).
fn runs(idx: &[usize], ok: impl Fn(usize) -> bool) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut cur: Vec<usize> = Vec::new();
    for &i in idx {
        if ok(i) {
            cur.push(i);
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn positive(v: f64) -> bool {
    v.is_finite() && v > 0.0
}

/// Largest multiple of the initial loss shown before the axis is capped.
const BLOW_UP: f64 = 100.0;

/// The y range shared by every panel, widened to whole decades so the log
/// axis always has at least two labelled powers of ten; and whether it was
/// capped. It covers the bands and every drawn job curve (so no drawn data
/// leaves the plot). A job that blows up (1e70, say) without reaching inf
/// would otherwise squash every other curve into one pixel row, so the top
/// is capped at [`BLOW_UP`] times the largest initial loss (a decade
/// boundary); larger values, infinite quartiles and diverged jobs' marks are
/// drawn at the top edge.
fn decade_range(panels: &[Panel]) -> ((f64, f64), bool) {
    let (mut lo, mut hi, mut start) = (f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY);
    let mut see = |v: f64| {
        if positive(v) {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    };
    for s in panels.iter().flat_map(|p| &p.series) {
        if let Some(b) = &s.band {
            if let Some(&first) = b.q3.iter().find(|v| positive(**v)) {
                start = start.max(first);
            }
            b.q1.iter().chain(&b.q3).for_each(|&v| see(v));
        }
        for c in &s.lines {
            if let Some(&(_, first)) = c.first().filter(|p| positive(p.1)) {
                start = start.max(first);
            }
            c.iter().for_each(|p| see(p.1));
        }
    }
    if !(lo.is_finite() && hi.is_finite()) {
        return ((1e-3, 1.0), false);
    }
    let decade_up = |v: f64| 10f64.powf(v.log10().ceil());
    let cap = decade_up(BLOW_UP * start);
    let capped = start.is_finite() && hi > cap;
    let lo = 10f64.powf(lo.log10().floor());
    let mut hi = if capped { cap } else { decade_up(hi) };
    if hi <= lo {
        hi = lo * 10.0;
    }
    ((lo, hi), capped)
}

/// Legend entries of widths `w` packed greedily into rows of at most `max` px.
fn flow(w: &[i32], max: i32) -> Vec<Vec<usize>> {
    let mut rows: Vec<Vec<usize>> = vec![Vec::new()];
    let mut used = 0;
    for (i, &wi) in w.iter().enumerate() {
        if used + wi > max && rows.last().is_some_and(|r| !r.is_empty()) {
            rows.push(Vec::new());
            used = 0;
        }
        if let Some(r) = rows.last_mut() {
            r.push(i);
        }
        used += wi;
    }
    rows
}

/// Columns of the panel grid for `n` panels.
fn panel_columns(n: usize) -> usize {
    match n {
        0 | 1 => 1,
        2 | 4 => 2,
        _ => 3,
    }
}

/// A learning-curve figure: per panel, per axis value, the median training
/// loss (a line) and the interquartile range (a band) over the jobs with
/// that value, every job's own curve thin and faint when there are few, and
/// a cross at the top edge where a job diverged; a log y axis shared by all
/// panels; the legend to the right.
pub fn curves_svg(fig: &CurvesFigure) -> Result<String, FigureError> {
    let ((y_lo, y_hi), capped) = decade_range(&fig.panels);
    let subtitle = if capped {
        format!(
            "{} Losses above {} ({}x the initial loss) are drawn at the top edge.",
            fig.subtitle,
            fmt_sig(y_hi),
            BLOW_UP
        )
    } else {
        fig.subtitle.clone()
    };
    let header = Header::new(&fig.title, &subtitle);
    let n_series = fig.labels.len();
    // Per legend entry: jobs per panel, and jobs and diverged jobs over all panels.
    let counts: Vec<(usize, usize, usize, usize, bool)> = (0..n_series)
        .map(|i| {
            let of = |p: &Panel| p.series.get(i).cloned().unwrap_or_default();
            let jobs: Vec<usize> = fig.panels.iter().map(|p| of(p).jobs).collect();
            let lo = jobs.iter().copied().min().unwrap_or(0);
            let hi = jobs.iter().copied().max().unwrap_or(0);
            let diverged = fig.panels.iter().map(|p| of(p).diverged).sum();
            let drawn = fig.panels.iter().any(|p| of(p).band.is_some());
            (lo, hi, jobs.iter().sum(), diverged, drawn)
        })
        .collect();
    let per_panel = if fig.panels.len() > 1 { " per panel" } else { "" };
    let notes: Vec<String> = counts
        .iter()
        .map(|&(lo, hi, total, d, drawn)| {
            let jobs = if lo == hi {
                format!("{lo} jobs{per_panel}")
            } else {
                format!("{lo}–{hi} jobs{per_panel}")
            };
            match (d, drawn) {
                (0, _) => jobs,
                // Over several panels the diverged count is a total: say of how many.
                (d, true) if fig.panels.len() > 1 => format!("{jobs}, {d} of {total} diverged"),
                (d, true) => format!("{jobs}, {d} diverged"),
                (_, false) => format!("all {d} diverged: no curve"),
            }
        })
        .collect();
    let widest = fig
        .labels
        .iter()
        .map(|l| text_width(l, LEGEND_PX))
        .chain(notes.iter().map(|n| text_width(n, 12.0)))
        .chain(std::iter::once(text_width(KEY_WIDEST, 12.0) - 8))
        .max()
        .unwrap_or(0);
    // One panel: the legend to the right. Several: below, in rows, so the
    // panels get the whole width.
    let below = fig.panels.len() > 1;
    let entry_w: Vec<i32> = fig
        .labels
        .iter()
        .zip(&notes)
        .map(|(l, n)| 34 + text_width(l, LEGEND_PX).max(text_width(n, 12.0)) + 16)
        .collect();
    let legend_w = if below { WIDTH as i32 } else { (widest + 50).clamp(140, 300) };
    const ENTRY_H: u32 = 42;
    const KEY_H: u32 = 30;
    // Legend entries (in rows when below), then the key to the marks.
    // Below, the legend's title (the axis name, bold) comes first on the
    // row, and the entries start clear of it, however long the name.
    let title_room = if below { LEGEND_TITLE_MAX } else { legend_w - 8 };
    let legend_title = fit(&fig.legend_title, LEGEND_PX, title_room);
    let entries_x = (16 + bold_width(&legend_title, LEGEND_PX) + 16).max(96);
    let entries_room = WIDTH as i32 - entries_x - 4;
    let entry_rows = if below { flow(&entry_w, entries_room).len() as u32 } else { n_series as u32 };
    let legend_h =
        if below { 30 + ENTRY_H * entry_rows + KEY_H } else { 40 + ENTRY_H * n_series as u32 + 110 };

    let cols = panel_columns(fig.panels.len());
    let rows = fig.panels.len().div_ceil(cols).max(1);
    let panel_h: u32 = if cols == 1 {
        400
    } else if cols == 2 {
        340
    } else {
        290
    };
    let plots_h = panel_h * rows as u32;
    let height = if below {
        header.height() + plots_h + legend_h + 6
    } else {
        header.height() + plots_h.max(legend_h) + 10
    };

    let x_max = fig
        .panels
        .iter()
        .flat_map(|p| &p.series)
        .filter_map(|s| s.band.as_ref().and_then(|b| b.epoch.last().copied()))
        .chain(fig.panels.iter().flat_map(|p| &p.series).flat_map(|s| s.ends.iter().map(|e| e.0)))
        .fold(1.0f64, f64::max);
    let clip = |v: f64| if v.is_nan() { v } else { v.min(y_hi) };

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let body = header.draw(&root)?;
        let (plots, legend) = if below {
            body.split_vertically(plots_h)
        } else {
            let (plots, legend) = body.split_horizontally(WIDTH as i32 - legend_w);
            (plots.split_vertically(plots_h).0, legend)
        };
        let cells = plots.split_evenly((rows, cols));
        for (panel, area) in fig.panels.iter().zip(&cells) {
            let mut builder = ChartBuilder::on(area);
            builder.margin_left(6).margin_right(26).margin_top(8).margin_bottom(6);
            if !panel.title.is_empty() {
                builder.caption(
                    fit(&panel.title, AXIS_PX, area.dim_in_pixel().0 as i32 - 20),
                    font(AXIS_PX).style(FontStyle::Bold),
                );
            }
            let mut chart = builder
                .x_label_area_size(if cols == 1 { 52 } else { 44 })
                .y_label_area_size(if cols == 1 { 78 } else { 66 })
                // Nudged outwards: plotters places log ticks by comparing
                // accumulated powers of ten with the ends, and 0.1 must count.
                .build_cartesian_2d(0f64..x_max, (y_lo * (1.0 - 1e-9)..y_hi * (1.0 + 1e-9)).log_scale())?;
            let tick_px = if cols == 1 { TICK_PX } else { 12.0 };
            let (w, h) = chart.plotting_area().dim_in_pixel();
            let spec = chart.as_coord_spec();
            let x_labels =
                labels_that_fit(spec.x_spec(), w, 7, tick_px, |x| label_width(&fmt_epoch(x), tick_px));
            let y_labels = labels_that_fit(spec.y_spec(), h, 12, tick_px / 2.0, |_| tick_px * 1.24);
            chart
                .configure_mesh()
                .x_desc("epoch")
                .y_desc(&fig.y_desc)
                .x_labels(x_labels)
                .y_labels(y_labels)
                .x_label_formatter(&|x| fmt_epoch(*x))
                .y_label_formatter(&|y| fmt_sig(*y))
                .label_style(font(tick_px))
                .axis_desc_style(font(if cols == 1 { AXIS_PX } else { 14.0 }))
                .light_line_style(TRANSPARENT)
                .bold_line_style(BLACK.mix(0.1))
                .draw()?;

            // Every job thin and faint, under the bands; then the bands;
            // then every median line; the crosses on top.
            for (i, s) in panel.series.iter().enumerate() {
                for c in &s.lines {
                    let idx = thin(c.len());
                    for run in runs(&idx, |k| positive(c[k].1)) {
                        chart.draw_series(LineSeries::new(
                            run.iter().map(|&k| (c[k].0, clip(c[k].1))),
                            colour(i).mix(0.35).stroke_width(1),
                        ))?;
                    }
                }
            }
            for (i, s) in panel.series.iter().enumerate() {
                let Some(b) = &s.band else { continue };
                let idx = thin(b.epoch.len());
                // An infinite upper quartile is drawn at the top edge.
                let top = |v: f64| if v == f64::INFINITY { y_hi } else { v };
                for run in runs(&idx, |k| positive(b.q1[k]) && positive(top(b.q3[k]))) {
                    let mut pts: Vec<(f64, f64)> =
                        run.iter().map(|&k| (b.epoch[k], clip(top(b.q3[k])))).collect();
                    pts.extend(run.iter().rev().map(|&k| (b.epoch[k], clip(b.q1[k]))));
                    chart.draw_series(std::iter::once(Polygon::new(pts, colour(i).mix(0.18).filled())))?;
                }
            }
            for (i, s) in panel.series.iter().enumerate() {
                let Some(b) = &s.band else { continue };
                let idx = thin(b.epoch.len());
                for run in runs(&idx, |k| positive(b.median[k])) {
                    let points = run.iter().map(|&k| (b.epoch[k], clip(b.median[k])));
                    let style = colour(i).stroke_width(SERIES_STROKE);
                    if dashed(i) {
                        chart.draw_series(DashedLineSeries::new(points, DASH.0, DASH.1, style))?;
                    } else {
                        chart.draw_series(LineSeries::new(points, style))?;
                    }
                }
            }
            for (i, s) in panel.series.iter().enumerate() {
                for &(e, _) in &s.ends {
                    chart.draw_series(std::iter::once(Cross::new(
                        (e, y_hi),
                        6,
                        colour(i).stroke_width(3),
                    )))?;
                    chart.draw_series(std::iter::once(Cross::new((e, y_hi), 6, BLACK.stroke_width(1))))?;
                }
            }
        }

        // Legend: the axis name, then per value a swatch, the value, and
        // how many jobs it summarises (and how many of them diverged); then
        // the key to the marks.
        let entry_at: Vec<(i32, i32)> = if below {
            let mut at = vec![(0, 0); n_series];
            for (r, row) in flow(&entry_w, entries_room).iter().enumerate() {
                let mut x = entries_x;
                for &i in row {
                    at[i] = (x, 20 + r as i32 * ENTRY_H as i32);
                    x += entry_w[i];
                }
            }
            at
        } else {
            (0..n_series).map(|i| (4, 48 + (i as u32 * ENTRY_H) as i32)).collect()
        };
        let title_at = if below { (16, 20) } else { (4, 14) };
        let title_pos = if below { MID_LEFT } else { TOP_LEFT };
        draw_text(&legend, &legend_title, LEGEND_PX, &BLACK, title_at, title_pos, true)?;
        for (i, label) in fig.labels.iter().enumerate() {
            let (x, y) = entry_at[i];
            let drawn = counts[i].4;
            let swatch = if drawn { colour(i).stroke_width(3) } else { colour(i).mix(0.4).stroke_width(3) };
            if dashed(i) {
                for (a, b) in [(0, 8), (12, 20), (24, 26)] {
                    legend.draw(&PathElement::new(vec![(x + a, y), (x + b, y)], swatch))?;
                }
            } else {
                legend.draw(&PathElement::new(vec![(x, y), (x + 26, y)], swatch))?;
            }
            let room = if below { entry_w[i] - 40 } else { legend_w - 46 };
            draw_text(
                &legend,
                &fit(label, LEGEND_PX, room),
                LEGEND_PX,
                &BLACK,
                (x + 34, y),
                MID_LEFT,
                false,
            )?;
            let note_colour = if counts[i].3 > 0 { VERMILLION } else { GREY };
            draw_text(
                &legend,
                &fit(&notes[i], 12.0, room),
                12.0,
                &note_colour,
                (x + 34, y + 17),
                MID_LEFT,
                false,
            )?;
        }
        let key: [(&str, u8); 4] =
            [("median", 0), ("middle half of the jobs", 1), (KEY_WIDEST, 2), ("diverged here", 3)];
        let (mut x, mut y) = if below {
            (16, 30 + (ENTRY_H * entry_rows) as i32)
        } else {
            (4, 48 + (n_series as u32 * ENTRY_H) as i32 + 4)
        };
        for (text, kind) in key {
            match kind {
                0 => legend.draw(&PathElement::new(
                    vec![(x, y), (x + 26, y)],
                    GREY.stroke_width(SERIES_STROKE + 1),
                ))?,
                1 => legend.draw(&Rectangle::new([(x, y - 8), (x + 26, y + 8)], GREY.mix(0.25).filled()))?,
                2 => legend
                    .draw(&PathElement::new(vec![(x, y), (x + 26, y)], GREY.mix(0.5).stroke_width(1)))?,
                _ => legend.draw(&Cross::new((x + 13, y), 6, BLACK.stroke_width(2)))?,
            }
            draw_text(&legend, text, 12.0, &BLACK, (x + 34, y), MID_LEFT, false)?;
            if below {
                x += 34 + text_width(text, 12.0) + 20;
            } else {
                y += 22;
            }
        }
        root.present()?;
    }
    Ok(svg)
}

/// The samples of one job, as the prediction figure needs them.
#[derive(Debug, Clone)]
pub struct Points {
    /// The two plotted coordinates per sample (two inputs, or a projection).
    pub xy: Vec<(f64, f64)>,
    /// Class index of the label, and of the prediction.
    pub label: Vec<usize>,
    pub predicted: Vec<usize>,
    /// Held out of training (the test split): drawn hollow.
    pub held_out: Vec<bool>,
}

/// The lab's "ground truth vs prediction" pair.
#[derive(Debug, Clone)]
pub struct PredictionFigure {
    pub title: String,
    pub subtitle: String,
    /// Horizontal and vertical axis titles (the inputs' names, or the
    /// principal components).
    pub axes: (String, String),
    /// Class names, as in the data; class i is index i.
    pub classes: Vec<String>,
    pub points: Points,
    /// The model's class over the plane (None: not drawable).
    pub grid: Option<Grid>,
    /// The plane is a projection of more inputs (it has no decision
    /// boundary to draw, and the legend does not say so).
    pub projected: bool,
}

/// A class's name in a legend: the name as in the data, or `class 0` for a
/// bare number.
pub fn class_label(name: &str) -> String {
    if name.parse::<f64>().is_ok() { format!("class {name}") } else { name.to_string() }
}

/// The plotted range: the samples (and the grid, if any) plus 5% margins.
fn plane(points: &Points, grid: Option<&Grid>) -> ((f64, f64), (f64, f64)) {
    if let Some(g) = grid {
        return (g.x, g.y);
    }
    plane_of(&points.xy)
}

/// Bounds of `xy` padded by 5% (a unit square around a single point).
/// A tick label of an axis spanning `span`: a tick within a billionth of
/// the span from 0 is 0 (plotters steps ticks by repeated addition, so the
/// tick at 0 can come out as -5.55e-17).
fn fmt_tick(v: f64, span: f64) -> String {
    fmt_sig(if v.abs() <= 1e-9 * span.abs() { 0.0 } else { v })
}

pub fn plane_of(xy: &[(f64, f64)]) -> ((f64, f64), (f64, f64)) {
    let fin = xy.iter().filter(|p| p.0.is_finite() && p.1.is_finite());
    let (mut x0, mut x1, mut y0, mut y1) =
        (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for &(x, y) in fin {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    let pad = |a: f64, b: f64| {
        if !(a.is_finite() && b.is_finite()) {
            (0.0, 1.0)
        } else if b - a <= 0.0 {
            (a - 0.5, b + 0.5)
        } else {
            let m = 0.05 * (b - a);
            (a - m, b + m)
        }
    };
    (pad(x0, x1), pad(y0, y1))
}

/// Shade colours (solid, so adjacent cells never show seams).
fn tint(c: RGBColor, share: f64) -> RGBColor {
    let m = |v: u8| (255.0 - (255.0 - f64::from(v)) * share).round() as u8;
    RGBColor(m(c.0), m(c.1), m(c.2))
}

/// The marker of class `class`: its colour ([`colour`]) and shape (circle,
/// triangle, square, cross, cycling so that no two of the first 32 classes
/// share both).
fn class_style(class: usize) -> (RGBColor, usize) {
    (class_colour(class), (class + class / PALETTE.len()) % 4)
}

/// Classes 8 and 9 (the digits): matplotlib's tab10 brown and grey, so ten
/// classes get ten colours; from the eleventh on, colours cycle and the
/// shape tells classes apart.
const EXTRA_CLASS_COLOURS: [RGBColor; 2] = [RGBColor(0x8C, 0x56, 0x4B), RGBColor(0x7F, 0x7F, 0x7F)];

/// The colour of class `class`: the series palette for the first eight.
fn class_colour(class: usize) -> RGBColor {
    match class {
        8 | 9 => EXTRA_CLASS_COLOURS[class - 8],
        c => colour(c),
    }
}

fn draw_point<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: (i32, i32),
    class: usize,
    held_out: bool,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (c, shape) = class_style(class);
    match (shape, held_out) {
        // plotters always fills a triangle marker: the outline is a larger
        // triangle underneath (inradius 1 px larger).
        (1, false) => {
            area.draw(&TriangleMarker::new(p, 9, BLACK.filled()))?;
            area.draw(&TriangleMarker::new(p, 7, c.filled()))?;
        }
        // Held out: the same shapes, hollow.
        (1, true) => {
            area.draw(&TriangleMarker::new(p, 9, c.filled()))?;
            area.draw(&TriangleMarker::new(p, 5, WHITE.filled()))?;
        }
        (0, false) => {
            area.draw(&Circle::new(p, 5, c.filled()))?;
            area.draw(&Circle::new(p, 5, BLACK.stroke_width(1)))?;
        }
        (0, true) => {
            area.draw(&Circle::new(p, 5, WHITE.filled()))?;
            area.draw(&Circle::new(p, 5, c.stroke_width(2)))?;
        }
        (2, hollow) => {
            let corners = [(p.0 - 5, p.1 - 5), (p.0 + 5, p.1 + 5)];
            area.draw(&Rectangle::new(corners, if hollow { WHITE.filled() } else { c.filled() }))?;
            area.draw(&Rectangle::new(
                corners,
                if hollow { c.stroke_width(2) } else { BLACK.stroke_width(1) },
            ))?;
        }
        // A cross has no inside: held out, it is drawn thinner.
        (_, hollow) => area.draw(&Cross::new(p, 5, c.stroke_width(if hollow { 1 } else { 3 })))?,
    }
    Ok(())
}

/// The shading tint of class `class` (the lab's two as they always were).
fn class_tint(class: usize) -> RGBColor {
    match class {
        0 => tint(BLUE, 0.14),
        1 => tint(ORANGE, 0.25),
        c => tint(class_colour(c), 0.2),
    }
}

/// One entry of the prediction figure's legend.
enum Key {
    Class(usize),
    Misclassified,
    Shading,
}

/// Ground truth (left) and the network's prediction (right) over the same
/// plane: one colour and shape per class (class 0 blue circles, class 1
/// orange triangles, then squares and crosses), held-out samples hollow; on
/// the right, the plane shaded by the predicted class and misclassified
/// samples ringed. The legend names the classes as `fig.classes` does and
/// wraps onto more rows when they do not fit on one.
pub fn prediction_svg(fig: &PredictionFigure) -> Result<String, FigureError> {
    let header = Header::new(&fig.title, &fig.subtitle);
    let panel = 400u32;
    let pts = &fig.points;
    let held = pts.held_out.iter().filter(|&&h| h).count();
    let wrong = |test: bool| {
        (0..pts.label.len())
            .filter(|&i| {
                pts.label[i] != pts.predicted[i] && pts.held_out.get(i).copied().unwrap_or(false) == test
            })
            .count()
    };
    let classes = pts.label.iter().chain(&pts.predicted).fold(fig.classes.len(), |k, &c| k.max(c + 1));
    let mut keys: Vec<(Key, String)> = (0..classes)
        .map(|c| (Key::Class(c), class_label(fig.classes.get(c).map_or(&c.to_string(), |n| n))))
        .collect();
    keys.push((
        Key::Misclassified,
        if held > 0 {
            format!("misclassified ({} trained, {} held out)", wrong(false), wrong(true))
        } else {
            format!("misclassified ({})", wrong(false))
        },
    ));
    if !fig.projected {
        let shading = if fig.grid.is_some() { "shading: predicted class" } else { "no decision boundary" };
        keys.push((Key::Shading, shading.to_string()));
    }
    // Legend rows 30 px apart from y = 22, entries from x = 24, wrapped
    // when an entry would end past the right edge; the held-out note takes
    // one more row. The right edge is tested with the typical width of the
    // text (DejaVu Sans, as rsvg renders it, averages 0.51 em), not the
    // generous one that keeps texts apart.
    let (mut x, mut row) = (24, 0);
    let mut placed: Vec<(i32, i32)> = Vec::with_capacity(keys.len());
    for (_, text) in &keys {
        let ends = x + 16 + (text.chars().count() as f64 * LEGEND_PX * 0.52).ceil() as i32;
        if x > 24 && ends > WIDTH as i32 {
            (x, row) = (24, row + 1);
        }
        placed.push((x, 22 + 30 * row));
        x += 16 + text_width(text, LEGEND_PX) + 36;
    }
    let rows = row as u32 + 1 + u32::from(held > 0);
    let legend_h = 44 + 30 * (rows - 1);
    let height = header.height() + panel + legend_h;
    let (xr, yr) = plane(pts, fig.grid.as_ref());

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let body = header.draw(&root)?;
        let (panels, legend) = body.split_vertically(panel);
        let (left, right) = panels.split_horizontally(WIDTH / 2);
        for (area, truth) in [(&left, true), (&right, false)] {
            let caption = if truth { "ground truth" } else { "prediction" };
            let mut chart = ChartBuilder::on(area)
                .caption(caption, font(AXIS_PX).style(FontStyle::Bold))
                .margin(12)
                .x_label_area_size(44)
                .y_label_area_size(56)
                .build_cartesian_2d(xr.0..xr.1, yr.0..yr.1)?;
            if let (false, Some(g)) = (truth, &fig.grid) {
                // A placeholder over the grid's extent, replaced by the
                // shading image once plotters has written the SVG.
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(g.x.0, g.y.1), (g.x.1, g.y.0)],
                    PLACEHOLDER.filled(),
                )))?;
            }
            let (w, h) = chart.plotting_area().dim_in_pixel();
            let spec = chart.as_coord_spec();
            let x_labels = labels_that_fit(spec.x_spec(), w, 7, TICK_PX, |v| {
                label_width(&fmt_tick(v, xr.1 - xr.0), TICK_PX)
            });
            let y_labels = labels_that_fit(spec.y_spec(), h, 7, TICK_PX / 2.0, |_| TICK_PX * 1.24);
            chart
                .configure_mesh()
                .x_desc(fit(&fig.axes.0, AXIS_PX, (WIDTH / 2) as i32 - 80))
                .y_desc(fit(&fig.axes.1, AXIS_PX, panel as i32 - 80))
                .x_labels(x_labels)
                .y_labels(y_labels)
                .x_label_formatter(&|v| fmt_tick(*v, xr.1 - xr.0))
                .y_label_formatter(&|v| fmt_tick(*v, yr.1 - yr.0))
                .label_style(font(TICK_PX))
                .axis_desc_style(font(AXIS_PX))
                .light_line_style(TRANSPARENT)
                .bold_line_style(BLACK.mix(0.08))
                .draw()?;
            // Markers are drawn in pixels, as in the legend.
            let screen = chart.plotting_area().use_screen_coord();
            for (i, &p) in pts.xy.iter().enumerate() {
                if !(p.0.is_finite() && p.1.is_finite()) {
                    continue;
                }
                let class = if truth { pts.label[i] } else { pts.predicted[i] };
                draw_point(
                    &screen,
                    chart.backend_coord(&p),
                    class,
                    pts.held_out.get(i).copied().unwrap_or(false),
                )?;
                if !truth && pts.label[i] != pts.predicted[i] {
                    chart.draw_series(std::iter::once(Circle::new(p, 10, BLACK.stroke_width(2))))?;
                }
            }
        }

        for ((key, text), &(x, y)) in keys.iter().zip(&placed) {
            match key {
                Key::Class(c) => draw_point(&legend, (x, y), *c, false)?,
                Key::Misclassified => legend.draw(&Circle::new((x, y), 9, BLACK.stroke_width(2)))?,
                Key::Shading => {
                    if fig.grid.is_some() {
                        // One swatch per class, 20 px in all.
                        let k = classes as i32;
                        for c in 0..k {
                            let (x0, x1) = (x - 10 + 20 * c / k, x - 10 + 20 * (c + 1) / k);
                            legend.draw(&Rectangle::new(
                                [(x0, y - 8), (x1, y + 8)],
                                class_tint(c as usize).filled(),
                            ))?;
                        }
                    }
                }
            }
            draw_text(&legend, text, LEGEND_PX, &BLACK, (x + 16, y), MID_LEFT, false)?;
        }
        if held > 0 {
            let (x, y) = (24, 22 + 30 * (rows as i32 - 1));
            // The hollow marker of each class (four at most), 14 px apart.
            let shown = classes.min(4) as i32;
            for c in 0..shown {
                draw_point(&legend, (x - 6 + 14 * c, y), c as usize, true)?;
            }
            let text = format!("hollow: held out of training ({held} of {})", pts.label.len());
            draw_text(
                &legend,
                &text,
                LEGEND_PX,
                &BLACK,
                (x + 24 + 14 * (shown - 2).max(0), y),
                MID_LEFT,
                false,
            )?;
        }
        root.present()?;
    }
    match &fig.grid {
        Some(g) => embed_shading(&svg, g),
        None => Ok(svg),
    }
}

/// The colour of the placeholder rectangle that marks where the shading
/// image goes (no other element of a prediction figure uses it).
const PLACEHOLDER: RGBColor = RGBColor(0x12, 0x34, 0x56);

/// The decision grid as one PNG image, one pixel per cell, top row first,
/// in the class tints.
pub fn shading_png(g: &Grid) -> Result<Vec<u8>, FigureError> {
    let mut pixels: Vec<u8> = Vec::with_capacity(g.n * g.n * 3);
    for iy in (0..g.n).rev() {
        for ix in 0..g.n {
            let c = class_tint(g.class_at(ix, iy));
            pixels.extend([c.0, c.1, c.2]);
        }
    }
    let side = u32::try_from(g.n).map_err(|e| FigureError(e.to_string()))?;
    let mut out: Vec<u8> = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, side, side);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().map_err(|e| FigureError(e.to_string()))?;
        w.write_image_data(&pixels).map_err(|e| FigureError(e.to_string()))?;
    }
    Ok(out)
}

/// Replaces the placeholder rectangle in `svg` with the shading as one
/// embedded PNG stretched over the same pixels: one image has no seams,
/// where adjacent rectangles show hairlines wherever their edges fall
/// between pixels.
fn embed_shading(svg: &str, g: &Grid) -> Result<String, FigureError> {
    let fill = format!("fill=\"#{:02X}{:02X}{:02X}\"", PLACEHOLDER.0, PLACEHOLDER.1, PLACEHOLDER.2);
    let missing = || FigureError("the shading placeholder was not drawn".to_string());
    let at = svg.find(&fill).ok_or_else(missing)?;
    let start = svg[..at].rfind("<rect").ok_or_else(missing)?;
    let end = at + svg[at..].find("/>").ok_or_else(missing)? + 2;
    let element = &svg[start..end];
    let attr = |name: &str| -> Result<&str, FigureError> {
        let key = format!(" {name}=\"");
        let from = element.find(&key).ok_or_else(missing)? + key.len();
        let len = element[from..].find('"').ok_or_else(missing)?;
        Ok(&element[from..from + len])
    };
    use base64::Engine as _;
    let data = base64::engine::general_purpose::STANDARD.encode(shading_png(g)?);
    let image = format!(
        "<image x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" preserveAspectRatio=\"none\" \
         href=\"data:image/png;base64,{data}\"/>",
        attr("x")?,
        attr("y")?,
        attr("width")?,
        attr("height")?
    );
    Ok(format!("{}{image}{}", &svg[..start], &svg[end..]))
}

/// One configuration's seeds for the per-seed panel.
#[derive(Debug, Clone)]
pub struct SeedRow {
    pub label: String,
    /// (seed, final accuracy, diverged), in seed order; with `counts`, one
    /// entry per distinct (accuracy, diverged) instead (its seed the first
    /// of them).
    pub seeds: Vec<(u64, f64, bool)>,
    /// How many seeds each entry of `seeds` stands for; empty: one each.
    /// Only for a configuration of more than [`MANY_SEEDS`] seeds, drawn as
    /// a histogram (its seeds need not be held one by one).
    pub counts: Vec<usize>,
}

impl SeedRow {
    /// Seeds in the row.
    pub fn len(&self) -> usize {
        if self.counts.is_empty() { self.seeds.len() } else { self.counts.iter().sum() }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Each entry of `seeds` with the number of seeds it stands for.
    pub fn weighted(&self) -> impl Iterator<Item = (&(u64, f64, bool), usize)> {
        self.seeds.iter().enumerate().map(|(i, s)| (s, self.counts.get(i).copied().unwrap_or(1)))
    }
}

/// Final accuracy of every seed, one row per configuration.
#[derive(Debug, Clone)]
pub struct SeedsFigure {
    pub title: String,
    pub subtitle: String,
    /// Which accuracy the seeds hold: training, or held-out when every job
    /// has a test split (the x axis says which).
    pub held_out: bool,
    pub rows: Vec<SeedRow>,
}

/// A configuration label in at most two lines of `max_px`: broken after a
/// `key=value, ` item (never inside a value such as `[16, 16]`), the
/// second line cut with `…` only if it still does not fit. A label cut at
/// its end loses the value that tells two rows apart (`lr=0.0…`).
fn label_lines(label: &str, px: f64, max_px: i32) -> Vec<String> {
    let max_chars = ((max_px as f64) / (px * CHAR_EM)).floor().max(1.0) as usize;
    if label.chars().count() <= max_chars {
        return vec![label.to_string()];
    }
    // Items: split at ", " outside brackets.
    let mut items: Vec<&str> = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in label.char_indices() {
        match c {
            '[' | '(' | '{' => depth += 1,
            ']' | ')' | '}' => depth -= 1,
            ',' if depth == 0 && label[i + 1..].starts_with(' ') => {
                items.push(&label[start..=i]);
                start = i + 2;
            }
            _ => {}
        }
    }
    items.push(&label[start..]);
    // The longest first line of whole items that fits; the rest below.
    let mut first = String::new();
    let mut taken = 0;
    for item in &items[..items.len() - 1] {
        let next = if first.is_empty() { item.to_string() } else { format!("{first} {item}") };
        if next.chars().count() > max_chars {
            break;
        }
        first = next;
        taken += 1;
    }
    if taken == 0 {
        // Not even the first item fits: it is the one cut.
        first = fit(items[0], px, max_px);
        taken = 1;
    }
    vec![first, fit(&items[taken..].join(" "), px, max_px)]
}

/// Above this many seeds in a configuration, its row of the seeds figure is
/// a histogram (one bar per accuracy reached, as tall as its share of the
/// seeds, and one cross with the count of diverged seeds) instead of one
/// mark per seed: at 10,000 seeds a row of marks is an unreadable smear and
/// megabytes of SVG.
pub const MANY_SEEDS: usize = 60;

/// One configuration's seeds as a histogram on row `y` (see [`MANY_SEEDS`]):
/// bars at each final accuracy (to 0.1%), blue at 100%, vermillion below,
/// heights relative to the row's most common accuracy; diverged seeds as
/// one cross at the left edge with their count.
fn draw_seed_histogram<DB: DrawingBackend>(
    chart: &mut ChartContext<
        '_,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    y: f64,
    row: &SeedRow,
    x_lo: f64,
) -> Result<(), FigureError>
where
    DB::ErrorType: 'static,
{
    let mut bins: std::collections::BTreeMap<i64, usize> = std::collections::BTreeMap::new();
    let mut diverged = 0;
    for (&(_, acc, div), count) in row.weighted() {
        if div || !acc.is_finite() {
            diverged += count;
        } else {
            *bins.entry((1000.0 * acc).round() as i64).or_default() += count;
        }
    }
    let most = bins.values().copied().max().unwrap_or(1) as f64;
    for (&key, &count) in &bins {
        let x = key as f64 / 10.0;
        let colour = if key >= 1000 { BLUE } else { VERMILLION };
        let top = y + 0.3 - 0.6 * count as f64 / most;
        chart.draw_series(std::iter::once(Rectangle::new(
            [(x - 0.15, y + 0.3), (x + 0.15, top)],
            colour.filled(),
        )))?;
    }
    if diverged > 0 {
        chart.draw_series(std::iter::once(Cross::new((x_lo, y), 5, BLACK.stroke_width(2))))?;
        chart.draw_series(std::iter::once(Text::new(
            format!("{diverged}"),
            (x_lo, y - 0.1),
            font(TICK_PX),
        )))?;
    }
    Ok(())
}

/// Vertical position of the k-th of m seeds inside a configuration's row
/// (spread over ±0.3 of a row so seeds at one accuracy stay visible).
fn seed_offset(k: usize, m: usize) -> f64 {
    if m < 2 { 0.0 } else { -0.3 + 0.6 * k as f64 / (m - 1) as f64 }
}

/// The accuracy axis in percent, fitted to the seeds: from the lowest to
/// the highest final accuracy of the jobs that did not diverge, widened to
/// multiples of 5 (at least 5 points wide).
fn accuracy_range<'a>(seeds: impl Iterator<Item = &'a (u64, f64, bool)>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for &(_, acc, diverged) in seeds {
        if !diverged && acc.is_finite() {
            lo = lo.min(100.0 * acc);
            hi = hi.max(100.0 * acc);
        }
    }
    if !(lo.is_finite() && hi.is_finite()) {
        return (0.0, 100.0);
    }
    let (mut lo, mut hi) = ((lo / 5.0).floor() * 5.0, (hi / 5.0).ceil() * 5.0);
    if hi - lo < 5.0 {
        if hi >= 100.0 { lo = hi - 5.0 } else { hi = lo + 5.0 }
    }
    (lo.max(0.0), hi.min(100.0).max(lo + 5.0))
}

/// A strip plot: for each configuration (a row, labelled at the left) one
/// point per seed at its final accuracy; blue circles reached 100%,
/// vermillion triangles did not, black crosses diverged (drawn at the left
/// edge); the accuracy axis is fitted to the data ([`accuracy_range`]).
pub fn seeds_svg(fig: &SeedsFigure) -> Result<String, FigureError> {
    let header = Header::new(&fig.title, &fig.subtitle);
    let n = fig.rows.len().max(1);
    let widest = fig.rows.iter().map(|r| text_width(&r.label, TICK_PX)).max().unwrap_or(0);
    let label_w = (widest + 20).clamp(60, (WIDTH as f64 * 0.45) as i32);
    let labels: Vec<Vec<String>> =
        fig.rows.iter().map(|r| label_lines(&r.label, TICK_PX, label_w - 16)).collect();
    // Rows grow to hold a label of two lines.
    let row_h: u32 = if labels.iter().any(|l| l.len() > 1) { 44 } else { 30 };
    let legend_h = 40u32;
    let height = header.height() + (row_h * n as u32 + 80).max(220) + legend_h;

    let (x_lo, x_hi) = accuracy_range(fig.rows.iter().flat_map(|r| &r.seeds));
    let pad = 0.03 * (x_hi - x_lo);
    let (x0, x1) = (x_lo - pad, x_hi + pad);

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let body = header.draw(&root)?;
        let (plot, legend) = body.split_vertically(height - header.height() - legend_h);
        let mut chart = ChartBuilder::on(&plot)
            .margin_left(8)
            .margin_right(24)
            .margin_top(8)
            .margin_bottom(4)
            .x_label_area_size(52)
            .y_label_area_size(label_w as u32)
            .build_cartesian_2d(x0..x1, (n as f64 - 0.5)..-0.5f64)?;
        let w = chart.plotting_area().dim_in_pixel().0;
        let x_labels = labels_that_fit(chart.as_coord_spec().x_spec(), w, 7, TICK_PX, |v| {
            label_width(&fmt_sig(v), TICK_PX)
        });
        chart
            .configure_mesh()
            .x_desc(if fig.held_out { "final held-out accuracy (%)" } else { "final training accuracy (%)" })
            .x_labels(x_labels)
            .y_labels(0)
            .disable_y_mesh()
            .x_label_formatter(&|v| fmt_sig(*v))
            .label_style(font(TICK_PX))
            .axis_desc_style(font(AXIS_PX))
            .light_line_style(TRANSPARENT)
            .bold_line_style(BLACK.mix(0.1))
            .draw()?;
        for (i, row) in fig.rows.iter().enumerate() {
            let (_, py) = chart.backend_coord(&(0.0, i as f64));
            let px = chart.plotting_area().get_pixel_range().0.start;
            let lines = &labels[i];
            let line_h = (TICK_PX * 1.25) as i32;
            for (l, line) in lines.iter().enumerate() {
                let dy = (2 * l as i32 + 1 - lines.len() as i32) * line_h / 2;
                draw_text(&root, line, TICK_PX, &BLACK, (px - 10, py + dy), MID_RIGHT, false)?;
            }
            if i > 0 {
                let (_, sep) = chart.backend_coord(&(0.0, i as f64 - 0.5));
                let (x_end, _) = chart.backend_coord(&(x1, 0.0));
                root.draw(&PathElement::new(vec![(px, sep), (x_end, sep)], BLACK.mix(0.08).stroke_width(1)))?;
            }
            let m = row.len();
            if m > MANY_SEEDS {
                draw_seed_histogram(&mut chart, i as f64, row, x_lo)?;
                continue;
            }
            for (k, &(_, acc, diverged)) in row.seeds.iter().enumerate() {
                let y = i as f64 + seed_offset(k, m);
                if diverged || !acc.is_finite() {
                    chart.draw_series(std::iter::once(Cross::new((x_lo, y), 5, BLACK.stroke_width(2))))?;
                } else if acc >= 1.0 {
                    chart.draw_series(std::iter::once(Circle::new((100.0 * acc, y), 4, BLUE.filled())))?;
                } else {
                    chart.draw_series(std::iter::once(TriangleMarker::new(
                        (100.0 * acc, y),
                        6,
                        VERMILLION.filled(),
                    )))?;
                }
            }
        }

        let y = (legend_h / 2) as i32;
        let mut x = 24;
        for kind in 0..3 {
            let text = ["reached 100%", "below 100%", "diverged (drawn at the left edge)"][kind];
            match kind {
                0 => legend.draw(&Circle::new((x, y), 4, BLUE.filled()))?,
                1 => legend.draw(&TriangleMarker::new((x, y), 6, VERMILLION.filled()))?,
                _ => legend.draw(&Cross::new((x, y), 5, BLACK.stroke_width(2)))?,
            }
            draw_text(&legend, text, LEGEND_PX, &BLACK, (x + 14, y), MID_LEFT, false)?;
            x += 14 + text_width(text, LEGEND_PX) + 36;
        }
        root.present()?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_classes_get_ten_colours() {
        let colours: Vec<(u8, u8, u8)> = (0..10).map(|c| class_colour(c).rgb()).collect();
        for (i, a) in colours.iter().enumerate() {
            assert!(!colours[i + 1..].contains(a), "class {i} shares its colour: {colours:?}");
        }
        assert_eq!(class_colour(0), colour(0), "the lab's classes keep their colours");
        assert_eq!(class_colour(1), colour(1));
    }

    #[test]
    fn a_tick_next_to_zero_reads_zero() {
        assert_eq!(fmt_tick(-5.551115123125783e-17, 0.8), "0");
        assert_eq!(fmt_tick(0.2, 0.8), "0.2");
        assert_eq!(fmt_tick(-1e-6, 1e-5), fmt_sig(-1e-6), "small but not next to 0 on its axis");
    }

    #[test]
    fn thinning_keeps_the_ends() {
        assert_eq!(thin(3), vec![0, 1, 2]);
        let t = thin(5001);
        assert!(t.len() <= MAX_POINTS + 1);
        assert_eq!((t[0], *t.last().unwrap()), (0, 5000));
    }

    #[test]
    fn runs_split_at_gaps() {
        let ok = [true, true, false, true, false, false, true];
        assert_eq!(runs(&[0, 1, 2, 3, 4, 5, 6], |i| ok[i]), vec![vec![0, 1], vec![3], vec![6]]);
    }

    fn one_panel(band: Band) -> Vec<Panel> {
        let s = Series { band: Some(band), jobs: 2, ..Series::default() };
        vec![Panel { title: String::new(), series: vec![s] }]
    }

    #[test]
    fn log_range_snaps_to_decades() {
        let b = Band {
            epoch: vec![0.0, 1.0],
            median: vec![0.5, 0.02],
            q1: vec![0.4, 0.015],
            q3: vec![0.6, 0.03],
            curves: 2,
        };
        assert_eq!(decade_range(&one_panel(b)), ((0.01, 1.0), false));
        let b = Band {
            epoch: vec![0.0, 1.0],
            median: vec![0.5, 1e70],
            q1: vec![0.4, 1e-3],
            q3: vec![0.6, 1e70],
            curves: 2,
        };
        assert_eq!(
            decade_range(&one_panel(b)),
            ((1e-3, 100.0), true),
            "capped at 100x the initial 0.6, a decade up"
        );
    }

    #[test]
    fn the_range_covers_every_drawn_job_and_is_shared_by_the_panels() {
        let b = Band { epoch: vec![0.0], median: vec![0.5], q1: vec![0.4], q3: vec![0.6], curves: 3 };
        let mut panels = one_panel(b.clone());
        panels[0].series[0].lines = vec![vec![(0.0, 0.9), (1.0, 2e-5)]];
        panels.push(Panel { title: "b".into(), series: vec![Series { band: Some(b), ..Series::default() }] });
        assert_eq!(decade_range(&panels), ((1e-5, 1.0), false));
    }

    #[test]
    fn the_key_names_the_group_size_that_gets_every_line() {
        assert!(KEY_WIDEST.contains(&format!(" {FEW_JOBS} ")), "{KEY_WIDEST}");
    }

    #[test]
    fn accuracy_axis_fits_the_seeds() {
        let seeds = [(0, 0.62, false), (1, 0.97, false), (2, f64::NAN, true)];
        assert_eq!(accuracy_range(seeds.iter()), (60.0, 100.0));
        assert_eq!(accuracy_range([(0, 1.0, false)].iter()), (95.0, 100.0));
        assert_eq!(accuracy_range([(0, 0.5, true)].iter()), (0.0, 100.0), "nothing finite: the whole range");
    }

    #[test]
    fn the_boundary_is_one_embedded_image() {
        let g = Grid {
            x: (0.0, 1.0),
            y: (0.0, 1.0),
            n: 4,
            class: (0..16).map(|i| usize::from(i % 3 == 0)).collect(),
        };
        let fig = PredictionFigure {
            title: "t".into(),
            subtitle: "s".into(),
            axes: ("x0".into(), "x1".into()),
            classes: vec!["0".into(), "1".into()],
            points: Points {
                xy: vec![(0.5, 0.5)],
                label: vec![1],
                predicted: vec![1],
                held_out: vec![false],
            },
            grid: Some(g),
            projected: false,
        };
        let svg = prediction_svg(&fig).unwrap();
        assert_eq!(svg.matches("<image ").count(), 1, "one image");
        assert!(svg.contains("href=\"data:image/png;base64,"));
        assert!(!svg.contains("#123456"), "the placeholder is gone");
        let png = shading_png(fig.grid.as_ref().unwrap()).unwrap();
        assert_eq!(&png[1..4], b"PNG");
    }

    #[test]
    fn text_is_fitted_and_wrapped() {
        assert_eq!(fit("abc", 10.0, 100), "abc");
        assert!(fit(&"x".repeat(100), 10.0, 60).ends_with('…'));
        let lines = wrap("one two three four five six", 10.0, 80);
        assert!(lines.len() > 1 && lines.iter().all(|l| l.chars().count() <= 13));
    }

    #[test]
    fn an_empty_curve_figure_still_draws() {
        let fig = CurvesFigure {
            title: "t".into(),
            subtitle: "s".into(),
            legend_title: "lr".into(),
            labels: vec!["100".into()],
            panels: vec![Panel {
                title: "dataset = xor".into(),
                series: vec![Series {
                    jobs: 2,
                    diverged: 2,
                    ends: vec![(3.0, f64::NAN)],
                    ..Series::default()
                }],
            }],
            y_desc: "training loss".into(),
        };
        let svg = curves_svg(&fig).unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("all 2 diverged"));
    }

    /// Over several panels the legend says jobs per panel and the diverged
    /// jobs as a share of all panels' jobs, not "3 jobs per panel, 3 diverged".
    #[test]
    fn the_legend_counts_diverged_jobs_out_of_all_panels() {
        let band = Band {
            epoch: vec![0.0, 1.0],
            median: vec![0.5, 0.4],
            q1: vec![0.4, 0.3],
            q3: vec![0.6, 0.5],
            curves: 2,
        };
        let panel = |title: &str, diverged: usize| Panel {
            title: title.into(),
            series: vec![Series { band: Some(band.clone()), jobs: 3, diverged, ..Series::default() }],
        };
        let fig = CurvesFigure {
            title: "t".into(),
            subtitle: "s".into(),
            legend_title: "lr".into(),
            labels: vec!["0.1".into()],
            panels: vec![panel("dataset = xor", 1), panel("dataset = circle", 2)],
            y_desc: "training loss".into(),
        };
        let svg = curves_svg(&fig).unwrap();
        assert!(svg.contains("3 jobs per panel, 3 of 6 diverged"), "{svg}");
    }

    /// Past eight values the colours repeat: the ninth median line is
    /// dashed (many short strokes of the first colour), the first solid.
    #[test]
    fn a_ninth_value_is_told_from_the_first_by_its_dashes() {
        let band = Band {
            epoch: vec![0.0, 500.0, 1000.0],
            median: vec![0.5, 0.3, 0.2],
            q1: vec![0.4, 0.2, 0.1],
            q3: vec![0.6, 0.4, 0.3],
            curves: 2,
        };
        let series = Series { band: Some(band), jobs: 20, ..Series::default() };
        let labels: Vec<String> = (0..9).map(|i| format!("value {i}")).collect();
        let fig = CurvesFigure {
            title: "t".into(),
            subtitle: "s".into(),
            legend_title: "lr".into(),
            labels: labels.clone(),
            panels: vec![Panel { title: String::new(), series: vec![series; 9] }],
            y_desc: "training loss".into(),
        };
        let svg = curves_svg(&fig).unwrap();
        let first = colour(0);
        let stroke = format!("stroke=\"#{:02X}{:02X}{:02X}\"", first.0, first.1, first.2);
        let width = format!("stroke-width=\"{SERIES_STROKE}\"");
        let strokes = svg
            .split("<polyline")
            .skip(1)
            .chain(svg.split("<line").skip(1))
            .map(|el| el.split("/>").next().unwrap_or(""))
            .filter(|el| el.contains(&stroke) && el.contains(&width))
            .count();
        assert!(strokes > 10, "{strokes} median strokes of the first colour: one solid line, one dashed");
        assert!(!dashed(0) && dashed(8) && !dashed(16));
    }

    /// The legend's title (the axis name) is drawn whole, and the legend's
    /// entries start clear of it ("batch_size" ran into the first swatch;
    /// "output_activation" was cut to "output_…").
    #[test]
    fn the_legend_title_is_whole_and_clear_of_the_entries() {
        let band = Band {
            epoch: vec![0.0, 1.0],
            median: vec![0.5, 0.4],
            q1: vec![0.4, 0.3],
            q3: vec![0.6, 0.5],
            curves: 2,
        };
        let series = Series { band: Some(band), jobs: 3, ..Series::default() };
        for (key, labels) in
            [("batch_size", ["full batch", "8 samples"]), ("output_activation", ["sigmoid", "softmax"])]
        {
            let panel =
                |title: &str| Panel { title: title.into(), series: vec![series.clone(), series.clone()] };
            let fig = CurvesFigure {
                title: "t".into(),
                subtitle: "s".into(),
                legend_title: key.into(),
                labels: labels.iter().map(|l| l.to_string()).collect(),
                panels: vec![panel("dataset = xor"), panel("dataset = linear")],
                y_desc: "training loss".into(),
            };
            let svg = curves_svg(&fig).unwrap();
            // (x, text) of every text element.
            let texts: Vec<(i32, String)> = svg
                .split("<text ")
                .skip(1)
                .filter_map(|el| {
                    let from = el.find("x=\"")? + 3;
                    let x = el[from..].split('"').next()?.parse().ok()?;
                    let text = el[el.find('>')? + 1..el.find("</text>")?].trim().to_string();
                    Some((x, text))
                })
                .collect();
            let at = |t: &str| texts.iter().find(|(_, s)| s == t).map(|(x, _)| *x);
            let title_x = at(key).unwrap_or_else(|| panic!("the title `{key}` is drawn whole"));
            // A label is drawn 34 px right of its swatch's start.
            let swatch_x = at(labels[0]).unwrap() - 34;
            let title_end = title_x + bold_width(key, LEGEND_PX);
            assert!(
                title_end + 8 <= swatch_x,
                "{key}: title ends at {title_end}, first swatch at {swatch_x}"
            );
        }
    }

    /// An x-axis tick label: (x, text); a y-axis one: (y, text, font size).
    type XTick = (i32, String);
    type YTick = (i32, String, f64);

    /// The numeric tick labels of a figure, as plotters writes them.
    fn tick_labels(svg: &str) -> (Vec<XTick>, Vec<YTick>) {
        let (mut xs, mut ys) = (Vec::new(), Vec::new());
        for el in svg.split("<text ").skip(1) {
            let attr = |name: &str| {
                let from = el.find(&format!("{name}=\"")).map(|i| i + name.len() + 2)?;
                el[from..].split('"').next()
            };
            let (Some(x), Some(y), Some(size)) = (attr("x"), attr("y"), attr("font-size")) else { continue };
            let text = el[el.find('>').unwrap() + 1..el.find("</text>").unwrap()].trim().to_string();
            if text.parse::<f64>().is_err() {
                continue;
            }
            match (attr("text-anchor"), attr("dy")) {
                (Some("middle"), Some("0.76em")) => xs.push((x.parse().unwrap(), text)),
                (Some("end"), _) => ys.push((y.parse().unwrap(), text, size.parse().unwrap())),
                _ => {}
            }
        }
        (xs, ys)
    }

    /// No two x labels closer than their half-widths and a gap.
    fn apart(xs: &[XTick], px: f64) -> bool {
        let mut xs = xs.to_vec();
        xs.sort();
        xs.windows(2).all(|w| {
            let half = (label_width(&w[0].1, px) + label_width(&w[1].1, px)) / 2.0;
            f64::from(w[1].0 - w[0].0) >= half
        })
    }

    /// The iris study's accuracies (86.7% to 100%) were labelled 90 and
    /// 100 only; a range of 10% to 100% got ten labels. Now the axis gets
    /// plotters' round ticks (1, 2, 5 x 10^k), as many as fit, never touching.
    #[test]
    fn the_seed_axis_has_several_round_ticks_that_do_not_touch() {
        let figure = |accs: &[f64]| SeedsFigure {
            title: "t".into(),
            subtitle: "s".into(),
            held_out: true,
            rows: vec![SeedRow {
                label: "lr=0.1".into(),
                seeds: accs.iter().enumerate().map(|(s, &a)| (s as u64, a, false)).collect(),
                counts: Vec::new(),
            }],
        };
        let (xs, _) = tick_labels(&seeds_svg(&figure(&[0.867, 0.9, 0.967, 1.0])).unwrap());
        let texts: Vec<&str> = xs.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(texts, ["85", "90", "95", "100"]);
        for accs in [&[0.1, 1.0][..], &[0.45, 1.0], &[0.97, 1.0], &[0.0, 0.5]] {
            let (xs, _) = tick_labels(&seeds_svg(&figure(accs)).unwrap());
            assert!((4..=7).contains(&xs.len()) && apart(&xs, TICK_PX), "{accs:?}: {xs:?}");
        }
    }

    /// Two panels side by side labelled 0, 10000 and 20000 epochs; now
    /// 0, 5000, ..., 20000. A log axis of one decade (plotters' ten ticks,
    /// 0.7, 0.8, 0.9 and 1 on top of each other) keeps what fits.
    #[test]
    fn curve_axes_get_round_ticks_that_do_not_touch() {
        let band = |lo: f64, hi: f64| Band {
            epoch: vec![0.0, 20000.0],
            median: vec![hi, lo],
            q1: vec![hi, lo],
            q3: vec![hi, lo],
            curves: 2,
        };
        let panel = |title: &str, band: Band| Panel {
            title: title.into(),
            series: vec![Series { band: Some(band), jobs: 2, ..Series::default() }],
        };
        let fig = |lo: f64, hi: f64| CurvesFigure {
            title: "t".into(),
            subtitle: "s".into(),
            legend_title: "lr".into(),
            labels: vec!["0.1".into()],
            panels: vec![panel("dataset = xor", band(lo, hi)), panel("dataset = linear", band(lo, hi))],
            y_desc: "training loss".into(),
        };
        let (xs, ys) = tick_labels(&curves_svg(&fig(1e-4, 0.5)).unwrap());
        let texts: Vec<&str> = xs.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(texts.iter().filter(|t| **t == "0").count(), 2, "{texts:?}");
        for want in ["5000", "10000", "15000", "20000"] {
            assert!(texts.contains(&want), "{texts:?}");
        }
        assert!(apart(&xs, 12.0), "{xs:?}");
        assert!(ys.len() >= 2 * 5, "{ys:?}");
        let (_, ys) = tick_labels(&curves_svg(&fig(0.2, 0.9)).unwrap());
        let mut ys: Vec<(i32, f64)> = ys.iter().map(|(y, _, px)| (*y, *px)).collect();
        ys.sort_by_key(|y| y.0);
        ys.dedup_by_key(|y| y.0);
        assert!(ys.len() >= 2 && ys.windows(2).all(|w| f64::from(w[1].0 - w[0].0) >= w[0].1), "{ys:?}");
    }

    /// 10,000 seeds in a configuration: a histogram, not 10,000 marks.
    #[test]
    fn many_seeds_are_drawn_as_a_histogram() {
        let seeds: Vec<(u64, f64, bool)> =
            (0..10_000u64).map(|s| (s, [1.0, 0.97, 0.5][(s % 3) as usize], s % 100 == 0)).collect();
        let fig = SeedsFigure {
            title: "t".into(),
            subtitle: "s".into(),
            held_out: false,
            rows: vec![
                SeedRow { label: "lr=0.1".into(), seeds: seeds.clone(), counts: Vec::new() },
                SeedRow { label: "lr=1.0".into(), seeds: seeds.clone(), counts: Vec::new() },
            ],
        };
        let svg = seeds_svg(&fig).unwrap();
        assert!(svg.len() < 40_000, "{} bytes", svg.len());
        assert!(svg.contains("<rect") && svg.contains(">\n100\n</text>"), "bars and the diverged count");
        // The same seeds held as distinct (accuracy, diverged) with counts
        // draw the same figure.
        let mut distinct: Vec<((u64, f64, bool), usize)> = Vec::new();
        for &(seed, acc, div) in &seeds {
            match distinct.iter_mut().find(|(s, _)| s.1 == acc && s.2 == div) {
                Some((_, n)) => *n += 1,
                None => distinct.push(((seed, acc, div), 1)),
            }
        }
        let (entries, counts): (Vec<(u64, f64, bool)>, Vec<usize>) = distinct.into_iter().unzip();
        assert_eq!(entries.len(), 6);
        let counted = SeedRow { label: "lr=0.1".into(), seeds: entries, counts };
        assert_eq!(counted.len(), 10_000);
        let fig =
            SeedsFigure { rows: vec![counted.clone(), SeedRow { label: "lr=1.0".into(), ..counted }], ..fig };
        assert_eq!(seeds_svg(&fig).unwrap(), svg);
    }

    /// A label too long for its column was cut at its end, losing the
    /// value that tells two rows apart (`hidden=[16, 16], lr=0.0…` for
    /// lr=0.001 and lr=0.01): it now breaks after an item, never inside a
    /// value, and the rows grow to hold it.
    #[test]
    fn long_seed_labels_wrap_after_an_item_and_keep_every_value() {
        let long = "scale=standard, hidden=[16, 16], lr=0.001";
        let lines = label_lines(long, TICK_PX, 300);
        assert_eq!(lines, ["scale=standard, hidden=[16, 16],", "lr=0.001"]);
        assert_eq!(label_lines("lr=0.1", TICK_PX, 300), ["lr=0.1"]);
        // Never inside brackets; an item wider than the column is the one
        // cut, and the last value stays whole.
        let lines = label_lines("hidden=[16, 16, 16, 16, 16, 16], lr=0.001", TICK_PX, 200);
        assert!(lines[0].starts_with("hidden=[16, 16") && lines[0].ends_with('…'), "{lines:?}");
        assert_eq!(lines[1], "lr=0.001");
        let rows = ["0.001", "0.01"].map(|lr| SeedRow {
            label: format!("scale=standard, hidden=[16, 16, 16, 16], lr={lr}"),
            seeds: vec![(0, 0.9, false)],
            counts: Vec::new(),
        });
        let fig =
            SeedsFigure { title: "t".into(), subtitle: "s".into(), held_out: true, rows: rows.to_vec() };
        let svg = seeds_svg(&fig).unwrap();
        for text in ["lr=0.001", "lr=0.01", "final held-out accuracy (%)"] {
            assert!(svg.contains(text), "{text} missing");
        }
        assert!(!svg.contains('…'), "nothing cut");
    }

    #[test]
    fn held_out_samples_are_drawn_hollow_and_counted_apart() {
        let fig = |held_out: Vec<bool>| PredictionFigure {
            title: "t".into(),
            subtitle: "s".into(),
            axes: ("x0".into(), "x1".into()),
            classes: vec!["0".into(), "1".into()],
            points: Points {
                xy: vec![(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)],
                label: vec![0, 1, 0, 1],
                predicted: vec![1, 1, 1, 1],
                held_out,
            },
            grid: None,
            projected: false,
        };
        let split = prediction_svg(&fig(vec![false, false, false, true])).unwrap();
        assert!(split.contains("held out of training (1 of 4)"), "{split}");
        assert!(split.contains("misclassified (2 trained, 0 held out)"));
        let whole = prediction_svg(&fig(vec![false; 4])).unwrap();
        assert!(!whole.contains("held out"));
        assert!(whole.contains("misclassified (2)"));
        // Hollow markers are white-filled: only the split figure has them.
        let white = |svg: &str| svg.matches("fill=\"#FFFFFF\"").count();
        assert!(white(&split) > white(&whole), "{} vs {}", white(&split), white(&whole));
    }

    /// A CSV data set's figure names its inputs on the axes and its classes
    /// in the legend (numbers as `class 2`), one marker colour per class.
    #[test]
    fn axes_and_legend_use_the_datas_names() {
        let fig = |classes: &[&str], label: Vec<usize>| PredictionFigure {
            title: "t".into(),
            subtitle: "s".into(),
            axes: ("mean_radius".into(), "mean_texture".into()),
            classes: classes.iter().map(|c| c.to_string()).collect(),
            points: Points {
                xy: vec![(10.0, 20.0), (15.0, 25.0), (12.0, 21.0)],
                predicted: label.clone(),
                label,
                held_out: vec![false, false, true],
            },
            grid: None,
            projected: false,
        };
        let svg = prediction_svg(&fig(&["benign", "malignant"], vec![0, 1, 0])).unwrap();
        for text in ["mean_radius", "mean_texture", "benign", "malignant"] {
            assert!(svg.contains(text), "{text} missing");
        }
        assert!(!svg.contains("x0") && !svg.contains("class 0"));
        let svg = prediction_svg(&fig(&["2", "7", "10"], vec![0, 1, 2])).unwrap();
        for text in ["class 2", "class 7", "class 10"] {
            assert!(svg.contains(text), "{text} missing");
        }
        let third = colour(2);
        assert!(svg.contains(&format!("#{:02X}{:02X}{:02X}", third.0, third.1, third.2)), "a third colour");
    }

    /// Ten classes (digits) do not fit on one legend row: it wraps, and the
    /// figure grows to hold it.
    #[test]
    fn a_long_legend_wraps_onto_more_rows() {
        let names: Vec<String> = (0..10).map(|c| format!("digit_{c}")).collect();
        let fig = |classes: Vec<String>| PredictionFigure {
            title: "t".into(),
            subtitle: "s".into(),
            axes: ("PC1".into(), "PC2".into()),
            classes,
            points: Points {
                xy: vec![(0.0, 0.0)],
                label: vec![0],
                predicted: vec![0],
                held_out: vec![false],
            },
            grid: None,
            projected: false,
        };
        let height = |svg: &str| -> u32 {
            let at = svg.find("height=\"").unwrap() + 8;
            svg[at..].split('"').next().unwrap().parse().unwrap()
        };
        let two = prediction_svg(&fig(names[..2].to_vec())).unwrap();
        let ten = prediction_svg(&fig(names)).unwrap();
        assert!(height(&ten) >= height(&two) + 30, "{} vs {}", height(&ten), height(&two));
        assert!(ten.contains("digit_9"));
    }
}
