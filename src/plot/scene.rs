//! A figure as data (panels of lines, points, error bars and bands, a legend, a colour bar),
//! and the one renderer that draws it on any plotters backend at a scale factor. Figures build
//! a [`Scene`]; they never call plotters. Axes, ticks, clipping and the skipping of non-finite
//! values live here once.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::theme::{self, FAMILY};

/// How an axis maps data to position.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scale {
    Linear,
    /// Position sqrt(v) (KL in nats): the paper's d = sqrt(KL); ticks are labelled in nats.
    Sqrt,
    /// Position log10(v), ticks labelled with SI suffixes.
    Log,
}

impl Scale {
    /// The position of a value, NaN when it has none (v < 0 on a sqrt axis, v <= 0 on a log one).
    pub fn fwd(self, v: f64) -> f64 {
        match self {
            Scale::Linear => v,
            Scale::Sqrt if v >= 0.0 => v.sqrt(),
            Scale::Log if v > 0.0 => v.log10(),
            _ => f64::NAN,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Axis {
    pub label: String,
    pub scale: Scale,
    /// Values the range must contain (e.g. 0 for a score axis).
    pub include: Vec<f64>,
    /// A fixed range in data units (overrides the data).
    pub fixed: Option<(f64, f64)>,
}

impl Axis {
    pub fn new(label: impl Into<String>, scale: Scale) -> Axis {
        Axis {
            label: label.into(),
            scale,
            include: Vec::new(),
            fixed: None,
        }
    }

    /// The KL axis: square-root scale, ticks in nats.
    pub fn kl() -> Axis {
        Axis::new("KL (nats), square-root scale", Scale::Sqrt)
    }

    pub fn with_zero(mut self) -> Axis {
        self.include.push(0.0);
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dash {
    Solid,
    Dashed,
    Dotted,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Marker {
    Dot,
    Ring,
    Square,
    Diamond,
    Cross,
}

#[derive(Debug, Clone)]
pub enum Item {
    Line {
        pts: Vec<(f64, f64)>,
        color: RGBColor,
        width: f64,
        dash: Dash,
        /// Whether the line takes part in the automatic range.
        ranged: bool,
    },
    Points {
        pts: Vec<(f64, f64)>,
        color: RGBColor,
        marker: Marker,
        size: f64,
    },
    /// Vertical bars (x, low, high).
    ErrorBars {
        bars: Vec<(f64, f64, f64)>,
        color: RGBColor,
        ranged: bool,
    },
    /// A filled band (x, low, high), never part of the range.
    Band {
        pts: Vec<(f64, f64, f64)>,
        color: RGBColor,
        opacity: f64,
    },
    /// A shaded vertical strip between two x values (infinite ends allowed).
    XSpan {
        from: f64,
        to: f64,
        color: RGBColor,
    },
    HLine {
        y: f64,
        color: RGBColor,
        dash: Dash,
    },
    VLine {
        x: f64,
        color: RGBColor,
        dash: Dash,
    },
}

impl Item {
    pub fn line(pts: Vec<(f64, f64)>, color: RGBColor, width: f64, dash: Dash) -> Item {
        Item::Line {
            pts,
            color,
            width,
            dash,
            ranged: true,
        }
    }
    /// A line that does not widen the axes (drawn clipped).
    pub fn guide(pts: Vec<(f64, f64)>, color: RGBColor, width: f64, dash: Dash) -> Item {
        Item::Line {
            pts,
            color,
            width,
            dash,
            ranged: false,
        }
    }
    pub fn points(pts: Vec<(f64, f64)>, color: RGBColor, marker: Marker, size: f64) -> Item {
        Item::Points {
            pts,
            color,
            marker,
            size,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Panel {
    pub title: String,
    pub x: Axis,
    pub y: Axis,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone)]
pub enum Swatch {
    Line(RGBColor, Dash),
    Marker(RGBColor, Marker),
    LineMarker(RGBColor, Dash, Marker),
    Band(RGBColor),
}

#[derive(Debug, Clone)]
pub struct LegendEntry {
    pub swatch: Swatch,
    pub label: String,
}

/// A continuous colour bar of log10(size), with ticks at the given sizes.
#[derive(Debug, Clone)]
pub struct ColorBar {
    pub title: String,
    pub scale: theme::SizeScale,
    pub ticks: Vec<f64>,
}

#[derive(Debug, Clone)]
pub struct Scene {
    pub title: String,
    pub panels: Vec<Panel>,
    pub cols: usize,
    /// Logical size of one panel.
    pub panel_size: (f64, f64),
    pub legend_title: Option<String>,
    pub legend: Vec<LegendEntry>,
    pub colorbar: Option<ColorBar>,
}

impl Scene {
    pub fn new(title: impl Into<String>, panels: Vec<Panel>) -> Scene {
        let n = panels.len().max(1);
        let cols = if n == 4 { 2 } else { n.min(3) };
        let panel_size = match n {
            1 => (640.0, 430.0),
            2 => (460.0, 370.0),
            _ => (370.0, 290.0),
        };
        Scene {
            title: title.into(),
            panels,
            cols,
            panel_size,
            legend_title: None,
            legend: Vec::new(),
            colorbar: None,
        }
    }
}

// ---------------------------------------------------------------- ticks

/// A nice step (1, 2, 2.5 or 5 times a power of ten) for about `n` intervals over `span`.
fn nice_step(span: f64, n: f64) -> f64 {
    let raw = span / n;
    let mag = 10f64.powf(raw.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if m * mag >= raw * 0.999 {
            return m * mag;
        }
    }
    10.0 * mag
}

/// Ticks (position, label) of a linear axis over [lo, hi].
pub fn linear_ticks(lo: f64, hi: f64, n: f64) -> Vec<(f64, String)> {
    let step = nice_step(hi - lo, n);
    if !(step.is_finite() && step > 0.0) {
        return vec![(lo, theme::sig(lo, 3))];
    }
    let decimals = (-(step.log10().floor()) as i32).max(0) as usize
        + usize::from(((step / 10f64.powf(step.log10().floor())) - 2.5).abs() < 1e-9);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last)
        .map(|k| {
            let v = k as f64 * step;
            (v, theme::minus(&format!("{v:.decimals$}")))
        })
        .collect()
}

/// Ticks of a square-root (KL) axis over positions [0, hi] (hi = sqrt of the largest KL): evenly
/// spaced in d = sqrt(KL) with a nice step, labelled with the KL in nats, so the labels are
/// squares (0, 1, 4, 9, 16, ... for a step of 1).
///
/// ```
/// use goodhart::plot::scene::sqrt_ticks;
/// let ticks = sqrt_ticks(5.0, 5.0); // positions up to sqrt(KL) = 5, i.e. KL = 25
/// let labels: Vec<&str> = ticks.iter().map(|t| t.1.as_str()).collect();
/// assert_eq!(labels, ["0", "1", "4", "9", "16", "25"]);
/// assert_eq!(ticks[2].0, 2.0); // KL = 4 sits at d = 2
/// let small: Vec<String> = sqrt_ticks(2.1, 5.0).into_iter().map(|t| t.1).collect();
/// assert_eq!(small, ["0", "0.25", "1", "2.25", "4"]);
/// ```
pub fn sqrt_ticks(hi: f64, n: f64) -> Vec<(f64, String)> {
    let step = nice_step(hi, n);
    if !(step.is_finite() && step > 0.0) {
        return vec![(0.0, "0".into())];
    }
    let last = (hi / step + 1e-9).floor() as i64;
    (0..=last)
        .map(|k| {
            let d = k as f64 * step;
            (d, kl_label(d * d))
        })
        .collect()
}

fn kl_label(v: f64) -> String {
    if v >= 1e4 {
        theme::si(v)
    } else {
        theme::sig(v, 3)
    }
}

/// Ticks of a log10 axis over positions [lo, hi]: decades (every other when many), with 2 and
/// 5 added when the range spans less than two decades.
pub fn log_ticks(lo: f64, hi: f64) -> Vec<(f64, String)> {
    let (a, b) = (lo.floor() as i64, hi.ceil() as i64);
    let decades = b - a;
    let mults: &[f64] = if decades <= 3 {
        &[1.0, 2.0, 5.0]
    } else {
        &[1.0]
    };
    let every = if decades > 8 { 2 } else { 1 };
    let mut out = Vec::new();
    for e in a..=b {
        if e.rem_euclid(every) != 0 {
            continue;
        }
        for &m in mults {
            let v = m * 10f64.powi(e as i32);
            let p = v.log10();
            if p >= lo - 1e-9 && p <= hi + 1e-9 {
                out.push((p, theme::si(v)));
            }
        }
    }
    if out.len() < 2 {
        // less than one decade with no 1-2-5 inside: label the ends
        out = vec![
            (lo, theme::si(10f64.powf(lo))),
            (hi, theme::si(10f64.powf(hi))),
        ];
    }
    out
}

// ---------------------------------------------------------------- ranges

fn extend(r: &mut (f64, f64), v: f64) {
    if v.is_finite() {
        r.0 = r.0.min(v);
        r.1 = r.1.max(v);
    }
}

/// Positions [lo, hi] of an axis from the data positions seen, padded.
fn axis_range(axis: &Axis, seen: (f64, f64)) -> (f64, f64) {
    if let Some((a, b)) = axis.fixed {
        let (a, b) = (axis.scale.fwd(a), axis.scale.fwd(b));
        if a.is_finite() && b.is_finite() && b > a {
            return (a, b);
        }
    }
    let mut r = seen;
    for &v in &axis.include {
        extend(&mut r, axis.scale.fwd(v));
    }
    if r.0
        .partial_cmp(&r.1)
        .is_none_or(|o| o == std::cmp::Ordering::Greater)
    {
        return (0.0, 1.0);
    }
    match axis.scale {
        Scale::Sqrt => {
            let hi = if r.1 > 0.0 { r.1 * 1.03 } else { 1.0 };
            (0.0, hi)
        }
        Scale::Log => {
            let span = r.1 - r.0;
            let pad = if span > 0.0 { span * 0.06 + 0.03 } else { 0.5 };
            (r.0 - pad, r.1 + pad)
        }
        Scale::Linear => {
            let span = r.1 - r.0;
            if span > 0.0 {
                (r.0 - 0.05 * span, r.1 + 0.05 * span)
            } else {
                let pad = if r.0 != 0.0 { r.0.abs() * 0.1 } else { 1.0 };
                (r.0 - pad, r.1 + pad)
            }
        }
    }
}

/// The positions each axis must show, from the items that take part in the range.
fn data_ranges(p: &Panel) -> ((f64, f64), (f64, f64)) {
    let empty = (f64::INFINITY, f64::NEG_INFINITY);
    let (mut rx, mut ry) = (empty, empty);
    let (fx, fy) = (p.x.scale, p.y.scale);
    let mut pair = |x: f64, y: f64| {
        let (px, py) = (fx.fwd(x), fy.fwd(y));
        if px.is_finite() && py.is_finite() {
            extend(&mut rx, px);
            extend(&mut ry, py);
        }
    };
    for it in &p.items {
        match it {
            Item::Line {
                pts, ranged: true, ..
            }
            | Item::Points { pts, .. } => pts.iter().for_each(|&(x, y)| pair(x, y)),
            Item::ErrorBars {
                bars, ranged: true, ..
            } => bars.iter().for_each(|&(x, lo, hi)| {
                pair(x, lo);
                pair(x, hi);
            }),
            _ => {}
        }
    }
    for it in &p.items {
        if let Item::HLine { y, .. } = it
            && rx.0 <= rx.1
        {
            extend(&mut ry, fy.fwd(*y));
        }
    }
    (rx, ry)
}

fn ticks_for(axis: &Axis, r: (f64, f64), n: f64) -> Vec<(f64, String)> {
    match axis.scale {
        Scale::Linear => linear_ticks(r.0, r.1, n),
        Scale::Sqrt => sqrt_ticks(r.1, n),
        Scale::Log => log_ticks(r.0, r.1),
    }
}

// ---------------------------------------------------------------- layout

fn text_size(text: &str, size: f64) -> (f64, f64) {
    theme::ensure_font();
    match (FAMILY, size).into_font().box_size(text) {
        // ab_glyph's estimate runs a little short of the drawn text: keep a margin.
        Ok((w, h)) => (w as f64 * 1.12 + 2.0, h as f64),
        // A rough estimate if the font cannot measure (never with the bundled font).
        Err(_) => (0.6 * size * text.chars().count() as f64, size),
    }
}

struct PanelPlan {
    xr: (f64, f64),
    yr: (f64, f64),
    xt: Vec<(f64, String)>,
    yt: Vec<(f64, String)>,
}

/// Everything about the geometry, in logical pixels.
pub struct Layout {
    plans: Vec<PanelPlan>,
    pub width: f64,
    pub height: f64,
    title_h: f64,
    side_x: f64,
    side_w: f64,
    left: f64,
    bottom: f64,
    right: f64,
    top: f64,
    rows: usize,
}

const PAD: f64 = 12.0;
const SWATCH_W: f64 = 30.0;
const ROW_H: f64 = 20.0;
const BAR_W: f64 = 16.0;
const BAR_H: f64 = 190.0;

pub fn layout(sc: &Scene) -> Layout {
    let (pw, ph) = sc.panel_size;
    let plans: Vec<PanelPlan> = sc
        .panels
        .iter()
        .map(|p| {
            let (rx, ry) = data_ranges(p);
            let xr = axis_range(&p.x, rx);
            let yr = axis_range(&p.y, ry);
            let xn = (pw / 90.0).clamp(3.0, 8.0);
            let yn = (ph / 60.0).clamp(3.0, 7.0);
            PanelPlan {
                xt: ticks_for(&p.x, xr, xn),
                yt: ticks_for(&p.y, yr, yn),
                xr,
                yr,
            }
        })
        .collect();
    let max_ytick = plans
        .iter()
        .flat_map(|p| p.yt.iter())
        .map(|t| text_size(&t.1, theme::TICK_SIZE).0)
        .fold(0.0, f64::max);
    let max_xtick = plans
        .iter()
        .flat_map(|p| p.xt.last())
        .map(|t| text_size(&t.1, theme::TICK_SIZE).0)
        .fold(0.0, f64::max);
    let has_ptitle = sc.panels.iter().any(|p| !p.title.is_empty());
    let left = 8.0 + theme::AXIS_TITLE_SIZE * 1.3 + 8.0 + max_ytick + 8.0;
    let bottom = 6.0 + theme::TICK_SIZE * 1.3 + 8.0 + theme::AXIS_TITLE_SIZE * 1.3 + 6.0;
    let right = (max_xtick / 2.0 + 6.0).max(14.0);
    let top = if has_ptitle {
        theme::PANEL_TITLE_SIZE * 1.3 + 12.0
    } else {
        10.0
    };
    // Panels must be wide enough for their own titles.
    let widest_title = sc
        .panels
        .iter()
        .map(|p| text_size(&p.title, theme::PANEL_TITLE_SIZE).0 + left + right)
        .fold(0.0, f64::max);
    let pw = pw.max(widest_title);
    let title_h = theme::TITLE_SIZE * 1.3 + 18.0;
    // Side column: legend, then colour bar.
    let mut side_w: f64 = 0.0;
    if let Some(t) = &sc.legend_title {
        side_w = side_w.max(text_size(t, theme::LEGEND_SIZE).0);
    }
    for e in &sc.legend {
        side_w = side_w.max(SWATCH_W + 8.0 + text_size(&e.label, theme::LEGEND_SIZE).0);
    }
    let mut side_h =
        (sc.legend.len() as f64 + f64::from(u8::from(sc.legend_title.is_some()))) * ROW_H;
    if let Some(cb) = &sc.colorbar {
        side_w = side_w.max(text_size(&cb.title, theme::LEGEND_SIZE).0);
        let lab = cb
            .ticks
            .iter()
            .map(|&t| text_size(&theme::si(t), theme::TICK_SIZE).0)
            .fold(0.0, f64::max);
        side_w = side_w.max(BAR_W + 6.0 + 6.0 + lab);
        side_h += ROW_H * 2.0 + BAR_H + 10.0;
    }
    let side_w = if side_w > 0.0 {
        side_w + 2.0 * PAD
    } else {
        0.0
    };
    let n = sc.panels.len().max(1);
    let cols = sc.cols.clamp(1, n);
    let rows = n.div_ceil(cols);
    let grid_w = cols as f64 * pw;
    let grid_h = (rows as f64 * ph).max(side_h + 10.0);
    let title_w = text_size(&sc.title, theme::TITLE_SIZE).0 + 2.0 * PAD;
    let width = (grid_w + side_w).max(title_w).ceil();
    Layout {
        plans,
        width,
        height: (title_h + grid_h).ceil(),
        title_h,
        side_x: grid_w,
        side_w,
        left,
        bottom,
        right,
        top,
        rows,
    }
}

impl Layout {
    fn panel_origin(&self, sc: &Scene, i: usize) -> (f64, f64, f64, f64) {
        let cols = sc.cols.clamp(1, sc.panels.len().max(1));
        let pw = self.side_x / cols as f64;
        let ph = (self.height - self.title_h) / self.rows as f64;
        let (r, c) = (i / cols, i % cols);
        (c as f64 * pw, self.title_h + r as f64 * ph, pw, ph)
    }
}

// ---------------------------------------------------------------- drawing

type DResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

struct Ctx<'a, DB: DrawingBackend> {
    area: &'a DrawingArea<DB, Shift>,
    s: f64,
}

impl<DB: DrawingBackend> Ctx<'_, DB> {
    fn px(&self, v: f64) -> i32 {
        (v * self.s).round() as i32
    }
    fn pt(&self, (x, y): (f64, f64)) -> (i32, i32) {
        (self.px(x), self.px(y))
    }
    fn font(&self, size: f64) -> FontDesc<'static> {
        (FAMILY, size * self.s).into_font()
    }
    fn text(&self, t: &str, at: (f64, f64), size: f64, color: RGBColor, pos: Pos) -> DResult<DB> {
        if t.is_empty() {
            return Ok(());
        }
        let style = TextStyle::from(self.font(size)).color(&color).pos(pos);
        self.area.draw_text(t, &style, self.pt(at))
    }
    fn stroke(&self, color: RGBColor, width: f64) -> ShapeStyle {
        ShapeStyle {
            color: color.to_rgba(),
            filled: false,
            stroke_width: ((width * self.s).round() as u32).max(1),
        }
    }
    fn polyline(&self, pts: &[(f64, f64)], style: ShapeStyle, dash: Dash) -> DResult<DB> {
        if pts.len() < 2 {
            return Ok(());
        }
        let px: Vec<(i32, i32)> = pts.iter().map(|&p| self.pt(p)).collect();
        match dash {
            Dash::Solid => self.area.draw(&PathElement::new(px, style)),
            Dash::Dashed | Dash::Dotted => {
                let (on, off) = if dash == Dash::Dashed {
                    (6.0, 4.0)
                } else {
                    (1.5, 3.0)
                };
                for seg in dashes(pts, on, off) {
                    let seg: Vec<(i32, i32)> = seg.iter().map(|&p| self.pt(p)).collect();
                    self.area.draw(&PathElement::new(seg, style))?;
                }
                Ok(())
            }
        }
    }
    fn rect(&self, a: (f64, f64), b: (f64, f64), color: RGBAColor) -> DResult<DB> {
        self.area.draw(&Rectangle::new(
            [self.pt(a), self.pt(b)],
            ShapeStyle {
                color,
                filled: true,
                stroke_width: 0,
            },
        ))
    }
    fn marker(&self, at: (f64, f64), m: Marker, size: f64, color: RGBColor) -> DResult<DB> {
        let c = self.pt(at);
        let r = ((size * self.s).round() as i32).max(1);
        let fill = ShapeStyle {
            color: color.to_rgba(),
            filled: true,
            stroke_width: 1,
        };
        let line = self.stroke(color, 1.2);
        match m {
            Marker::Dot => self.area.draw(&Circle::new(c, r, fill)),
            Marker::Ring => {
                self.area.draw(&Circle::new(c, r, theme::WHITE.filled()))?;
                self.area.draw(&Circle::new(c, r, line))
            }
            Marker::Square => {
                self.area.draw(&Rectangle::new(
                    [(c.0 - r, c.1 - r), (c.0 + r, c.1 + r)],
                    theme::WHITE.filled(),
                ))?;
                self.area.draw(&Rectangle::new(
                    [(c.0 - r, c.1 - r), (c.0 + r, c.1 + r)],
                    line,
                ))
            }
            Marker::Diamond => {
                let r = r + r / 3;
                let pts = vec![
                    (c.0, c.1 - r),
                    (c.0 + r, c.1),
                    (c.0, c.1 + r),
                    (c.0 - r, c.1),
                ];
                self.area.draw(&Polygon::new(pts, fill))
            }
            Marker::Cross => {
                self.area.draw(&PathElement::new(
                    vec![(c.0 - r, c.1 - r), (c.0 + r, c.1 + r)],
                    line,
                ))?;
                self.area.draw(&PathElement::new(
                    vec![(c.0 - r, c.1 + r), (c.0 + r, c.1 - r)],
                    line,
                ))
            }
        }
    }
}

/// Splits a polyline (logical pixels) into dash pieces of `on` drawn, `off` skipped.
fn dashes(pts: &[(f64, f64)], on: f64, off: f64) -> Vec<Vec<(f64, f64)>> {
    let mut out = Vec::new();
    let mut cur: Vec<(f64, f64)> = vec![pts[0]];
    let mut drawing = true;
    let mut left = on;
    for w in pts.windows(2) {
        let (mut a, b) = (w[0], w[1]);
        let mut len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
        while len > left {
            let f = left / len;
            let m = (a.0 + (b.0 - a.0) * f, a.1 + (b.1 - a.1) * f);
            if drawing {
                cur.push(m);
                out.push(std::mem::take(&mut cur));
            } else {
                cur = vec![m];
            }
            drawing = !drawing;
            len -= left;
            left = if drawing { on } else { off };
            a = m;
        }
        left -= len;
        if drawing {
            cur.push(b);
        }
    }
    if drawing && cur.len() > 1 {
        out.push(cur);
    }
    out
}

/// Clips segment p-q to the box (Liang-Barsky); None when outside.
fn clip_segment(
    p: (f64, f64),
    q: (f64, f64),
    lo: (f64, f64),
    hi: (f64, f64),
) -> Option<((f64, f64), (f64, f64))> {
    let (dx, dy) = (q.0 - p.0, q.1 - p.1);
    let mut t0: f64 = 0.0;
    let mut t1: f64 = 1.0;
    for (pk, qk) in [
        (-dx, p.0 - lo.0),
        (dx, hi.0 - p.0),
        (-dy, p.1 - lo.1),
        (dy, hi.1 - p.1),
    ] {
        if pk == 0.0 {
            if qk < 0.0 {
                return None;
            }
        } else {
            let r = qk / pk;
            if pk < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
        }
    }
    (t0 <= t1).then_some((
        (p.0 + t0 * dx, p.1 + t0 * dy),
        (p.0 + t1 * dx, p.1 + t1 * dy),
    ))
}

/// Clips a polyline of positions to the box: the visible pieces, split at non-finite points.
fn clip_polyline(pts: &[(f64, f64)], lo: (f64, f64), hi: (f64, f64)) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut cur: Vec<(f64, f64)> = Vec::new();
    for w in pts.windows(2) {
        let ok = |p: (f64, f64)| p.0.is_finite() && p.1.is_finite();
        let seg = if ok(w[0]) && ok(w[1]) {
            clip_segment(w[0], w[1], lo, hi)
        } else {
            None
        };
        match seg {
            Some((a, b)) => {
                if cur.last() != Some(&a) {
                    if cur.len() > 1 {
                        out.push(std::mem::take(&mut cur));
                    }
                    cur = vec![a];
                }
                cur.push(b);
            }
            None => {
                if cur.len() > 1 {
                    out.push(std::mem::take(&mut cur));
                }
                cur.clear();
            }
        }
    }
    if cur.len() > 1 {
        out.push(cur);
    }
    out
}

struct Frame {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
    xr: (f64, f64),
    yr: (f64, f64),
    fx: Scale,
    fy: Scale,
}

impl Frame {
    /// Logical pixel position of a (transformed) position.
    fn map(&self, (u, v): (f64, f64)) -> (f64, f64) {
        (
            self.x0 + (u - self.xr.0) / (self.xr.1 - self.xr.0) * (self.x1 - self.x0),
            self.y1 - (v - self.yr.0) / (self.yr.1 - self.yr.0) * (self.y1 - self.y0),
        )
    }
    fn pos(&self, (x, y): (f64, f64)) -> (f64, f64) {
        (self.fx.fwd(x), self.fy.fwd(y))
    }
    fn inside(&self, (u, v): (f64, f64)) -> bool {
        u >= self.xr.0 && u <= self.xr.1 && v >= self.yr.0 && v <= self.yr.1
    }
    fn clamp_y(&self, v: f64) -> f64 {
        v.clamp(self.yr.0, self.yr.1)
    }
}

fn draw_item<DB: DrawingBackend>(c: &Ctx<DB>, f: &Frame, it: &Item) -> DResult<DB> {
    let lo = (f.xr.0, f.yr.0);
    let hi = (f.xr.1, f.yr.1);
    match it {
        Item::Line {
            pts,
            color,
            width,
            dash,
            ..
        } => {
            let pos: Vec<(f64, f64)> = pts.iter().map(|&p| f.pos(p)).collect();
            for piece in clip_polyline(&pos, lo, hi) {
                let px: Vec<(f64, f64)> = piece.iter().map(|&p| f.map(p)).collect();
                c.polyline(&px, c.stroke(*color, *width), *dash)?;
            }
        }
        Item::Points {
            pts,
            color,
            marker,
            size,
        } => {
            for &p in pts {
                let q = f.pos(p);
                if q.0.is_finite() && q.1.is_finite() && f.inside(q) {
                    c.marker(f.map(q), *marker, *size, *color)?;
                }
            }
        }
        Item::ErrorBars { bars, color, .. } => {
            let style = c.stroke(*color, 1.0);
            for &(x, a, b) in bars {
                let (u, va, vb) = (f.fx.fwd(x), f.fy.fwd(a), f.fy.fwd(b));
                if !(u.is_finite() && va.is_finite() && vb.is_finite()) {
                    continue;
                }
                if u < f.xr.0 || u > f.xr.1 || va.max(vb) < f.yr.0 || va.min(vb) > f.yr.1 {
                    continue;
                }
                let p = f.map((u, f.clamp_y(va)));
                let q = f.map((u, f.clamp_y(vb)));
                c.polyline(&[p, q], style, Dash::Solid)?;
                for (v, e) in [(va, p), (vb, q)] {
                    if v >= f.yr.0 && v <= f.yr.1 {
                        c.polyline(&[(e.0 - 2.5, e.1), (e.0 + 2.5, e.1)], style, Dash::Solid)?;
                    }
                }
            }
        }
        Item::Band {
            pts,
            color,
            opacity,
        } => {
            // one polygon per run of finite, in-range x
            let mut runs: Vec<Vec<(f64, f64, f64)>> = Vec::new();
            let mut run: Vec<(f64, f64, f64)> = Vec::new();
            for &(x, a, b) in pts {
                let (u, va, vb) = (f.fx.fwd(x), f.fy.fwd(a), f.fy.fwd(b));
                if u.is_finite() && va.is_finite() && vb.is_finite() && u >= f.xr.0 && u <= f.xr.1 {
                    run.push((u, f.clamp_y(va), f.clamp_y(vb)));
                } else if !run.is_empty() {
                    runs.push(std::mem::take(&mut run));
                }
            }
            runs.push(run);
            for run in runs.iter().filter(|r| r.len() >= 2) {
                let mut poly: Vec<(i32, i32)> =
                    run.iter().map(|&(u, a, _)| c.pt(f.map((u, a)))).collect();
                poly.extend(run.iter().rev().map(|&(u, _, b)| c.pt(f.map((u, b)))));
                c.area
                    .draw(&Polygon::new(poly, color.mix(*opacity).filled()))?;
            }
        }
        Item::XSpan { from, to, color } => {
            let (a, b) = (f.fx.fwd(*from), f.fx.fwd(*to));
            let a = if a.is_nan() {
                f.xr.0
            } else {
                a.clamp(f.xr.0, f.xr.1)
            };
            let b = if b.is_nan() {
                f.xr.1
            } else {
                b.clamp(f.xr.0, f.xr.1)
            };
            if b > a {
                let p = f.map((a, f.yr.1));
                let q = f.map((b, f.yr.0));
                c.rect(p, q, color.to_rgba())?;
            }
        }
        Item::HLine { y, color, dash } => {
            let v = f.fy.fwd(*y);
            if v.is_finite() && v >= f.yr.0 && v <= f.yr.1 {
                let p = f.map((f.xr.0, v));
                let q = f.map((f.xr.1, v));
                c.polyline(&[p, q], c.stroke(*color, 1.0), *dash)?;
            }
        }
        Item::VLine { x, color, dash } => {
            let u = f.fx.fwd(*x);
            if u.is_finite() && u >= f.xr.0 && u <= f.xr.1 {
                let p = f.map((u, f.yr.0));
                let q = f.map((u, f.yr.1));
                c.polyline(&[p, q], c.stroke(*color, 1.0), *dash)?;
            }
        }
    }
    Ok(())
}

fn draw_panel<DB: DrawingBackend>(
    c: &Ctx<DB>,
    lay: &Layout,
    p: &Panel,
    plan: &PanelPlan,
    origin: (f64, f64, f64, f64),
) -> DResult<DB> {
    let (ox, oy, pw, ph) = origin;
    let f = Frame {
        x0: ox + lay.left,
        y0: oy + lay.top,
        x1: ox + pw - lay.right,
        y1: oy + ph - lay.bottom,
        xr: plan.xr,
        yr: plan.yr,
        fx: p.x.scale,
        fy: p.y.scale,
    };
    // grid
    let grid = c.stroke(theme::GRID, 1.0);
    for (u, _) in &plan.xt {
        let x = f.map((*u, 0.0)).0;
        c.polyline(&[(x, f.y0), (x, f.y1)], grid, Dash::Solid)?;
    }
    for (v, _) in &plan.yt {
        let y = f.map((0.0, *v)).1;
        c.polyline(&[(f.x0, y), (f.x1, y)], grid, Dash::Solid)?;
    }
    // shading first, then bands, guides, lines, bars, points
    let order = |it: &Item| match it {
        Item::XSpan { .. } => 0,
        Item::Band { .. } => 1,
        Item::HLine { .. } | Item::VLine { .. } => 2,
        Item::Line { .. } => 3,
        Item::ErrorBars { .. } => 4,
        Item::Points { .. } => 5,
    };
    for layer in 0..=5 {
        for it in p.items.iter().filter(|it| order(it) == layer) {
            draw_item(c, &f, it)?;
        }
    }
    // frame and ticks
    let axis = c.stroke(theme::AXIS, 1.0);
    c.polyline(
        &[
            (f.x0, f.y0),
            (f.x1, f.y0),
            (f.x1, f.y1),
            (f.x0, f.y1),
            (f.x0, f.y0),
        ],
        axis,
        Dash::Solid,
    )?;
    for (u, label) in &plan.xt {
        let x = f.map((*u, 0.0)).0;
        c.polyline(&[(x, f.y1), (x, f.y1 + 4.0)], axis, Dash::Solid)?;
        c.text(
            label,
            (x, f.y1 + 6.0),
            theme::TICK_SIZE,
            theme::INK,
            Pos::new(HPos::Center, VPos::Top),
        )?;
    }
    for (v, label) in &plan.yt {
        let y = f.map((0.0, *v)).1;
        c.polyline(&[(f.x0 - 4.0, y), (f.x0, y)], axis, Dash::Solid)?;
        c.text(
            label,
            (f.x0 - 7.0, y),
            theme::TICK_SIZE,
            theme::INK,
            Pos::new(HPos::Right, VPos::Center),
        )?;
    }
    // axis titles
    c.text(
        &p.x.label,
        ((f.x0 + f.x1) / 2.0, oy + ph - 6.0),
        theme::AXIS_TITLE_SIZE,
        theme::INK,
        Pos::new(HPos::Center, VPos::Bottom),
    )?;
    if !p.y.label.is_empty() {
        let style = TextStyle::from(
            c.font(theme::AXIS_TITLE_SIZE)
                .transform(FontTransform::Rotate270),
        )
        .color(&theme::INK)
        .pos(Pos::new(HPos::Center, VPos::Top));
        c.area
            .draw_text(&p.y.label, &style, c.pt((ox + 8.0, (f.y0 + f.y1) / 2.0)))?;
    }
    c.text(
        &p.title,
        ((f.x0 + f.x1) / 2.0, oy + 8.0),
        theme::PANEL_TITLE_SIZE,
        theme::INK,
        Pos::new(HPos::Center, VPos::Top),
    )?;
    Ok(())
}

fn draw_swatch<DB: DrawingBackend>(c: &Ctx<DB>, sw: &Swatch, x: f64, y: f64) -> DResult<DB> {
    let mid = (x + SWATCH_W / 2.0, y);
    match sw {
        Swatch::Line(col, dash) => {
            c.polyline(&[(x, y), (x + SWATCH_W, y)], c.stroke(*col, 2.0), *dash)
        }
        Swatch::Marker(col, m) => c.marker(mid, *m, 3.5, *col),
        Swatch::LineMarker(col, dash, m) => {
            c.polyline(&[(x, y), (x + SWATCH_W, y)], c.stroke(*col, 1.5), *dash)?;
            c.marker(mid, *m, 3.5, *col)
        }
        Swatch::Band(col) => c.rect((x, y - 6.0), (x + SWATCH_W, y + 6.0), col.mix(0.35)),
    }
}

fn draw_side<DB: DrawingBackend>(c: &Ctx<DB>, sc: &Scene, lay: &Layout) -> DResult<DB> {
    if lay.side_w <= 0.0 {
        return Ok(());
    }
    let x = lay.side_x + PAD;
    let mut y = lay.title_h + 14.0;
    if let Some(t) = &sc.legend_title {
        c.text(
            t,
            (x, y),
            theme::LEGEND_SIZE,
            theme::INK,
            Pos::new(HPos::Left, VPos::Center),
        )?;
        y += ROW_H;
    }
    for e in &sc.legend {
        draw_swatch(c, &e.swatch, x, y)?;
        c.text(
            &e.label,
            (x + SWATCH_W + 8.0, y),
            theme::LEGEND_SIZE,
            theme::INK,
            Pos::new(HPos::Left, VPos::Center),
        )?;
        y += ROW_H;
    }
    if let Some(cb) = &sc.colorbar {
        y += if sc.legend.is_empty() { 0.0 } else { 10.0 };
        c.text(
            &cb.title,
            (x, y),
            theme::LEGEND_SIZE,
            theme::INK,
            Pos::new(HPos::Left, VPos::Center),
        )?;
        let top = y + ROW_H;
        let bottom = top + BAR_H;
        let n = 64;
        for i in 0..n {
            // t = 1 at the top
            let (a, b) = (i as f64 / n as f64, (i + 1) as f64 / n as f64);
            let col = theme::colormap((a + b) / 2.0);
            c.rect(
                (x, bottom - b * BAR_H),
                (x + BAR_W, bottom - a * BAR_H),
                col.to_rgba(),
            )?;
        }
        let frame = c.stroke(theme::AXIS, 1.0);
        c.polyline(
            &[
                (x, top),
                (x + BAR_W, top),
                (x + BAR_W, bottom),
                (x, bottom),
                (x, top),
            ],
            frame,
            Dash::Solid,
        )?;
        for &t in &cb.ticks {
            let ty = bottom - cb.scale.t(t).clamp(0.0, 1.0) * BAR_H;
            c.polyline(
                &[(x + BAR_W, ty), (x + BAR_W + 4.0, ty)],
                frame,
                Dash::Solid,
            )?;
            c.text(
                &theme::si(t),
                (x + BAR_W + 7.0, ty),
                theme::TICK_SIZE,
                theme::INK,
                Pos::new(HPos::Left, VPos::Center),
            )?;
        }
    }
    Ok(())
}

/// Draws the scene at scale factor `s` (1 for SVG, 2 for the PNG).
pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    sc: &Scene,
    lay: &Layout,
    s: f64,
) -> DResult<DB> {
    area.fill(&theme::WHITE)?;
    let c = Ctx { area, s };
    c.text(
        &sc.title,
        (PAD, 10.0),
        theme::TITLE_SIZE,
        theme::INK,
        Pos::new(HPos::Left, VPos::Top),
    )?;
    for (i, (p, plan)) in sc.panels.iter().zip(&lay.plans).enumerate() {
        draw_panel(&c, lay, p, plan, lay.panel_origin(sc, i))?;
    }
    draw_side(&c, sc, lay)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipping_keeps_the_inside_part() {
        let s = clip_segment((-1.0, 0.5), (2.0, 0.5), (0.0, 0.0), (1.0, 1.0));
        assert_eq!(s, Some(((0.0, 0.5), (1.0, 0.5))));
        assert!(clip_segment((2.0, 2.0), (3.0, 3.0), (0.0, 0.0), (1.0, 1.0)).is_none());
        let pieces = clip_polyline(
            &[(0.1, 0.1), (0.2, f64::NAN), (0.3, 0.3), (0.4, 0.4)],
            (0.0, 0.0),
            (1.0, 1.0),
        );
        assert_eq!(pieces, vec![vec![(0.3, 0.3), (0.4, 0.4)]]);
    }

    #[test]
    fn ticks_are_nice() {
        let t = linear_ticks(-0.07, 1.02, 5.0);
        let labels: Vec<&str> = t.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(labels, ["0.00", "0.25", "0.50", "0.75", "1.00"]);
        let t = linear_ticks(-21.0, 3.0, 5.0);
        let labels: Vec<&str> = t.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(
            labels,
            ["\u{2212}20", "\u{2212}15", "\u{2212}10", "\u{2212}5", "0"]
        );
        let t = log_ticks(1.0, 5.0);
        let labels: Vec<&str> = t.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(labels, ["10", "100", "1k", "10k", "100k"]);
        let t = log_ticks(1.1, 3.4);
        let labels: Vec<&str> = t.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(labels, ["20", "50", "100", "200", "500", "1k", "2k"]);
        assert_eq!(sqrt_ticks(1e-3, 5.0)[0].1, "0");
    }

    #[test]
    fn dashes_alternate() {
        let d = dashes(&[(0.0, 0.0), (20.0, 0.0)], 6.0, 4.0);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0], vec![(0.0, 0.0), (6.0, 0.0)]);
        assert_eq!(d[1], vec![(10.0, 0.0), (16.0, 0.0)]);
    }
}
