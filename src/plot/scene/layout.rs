//! The geometry of a scene in logical pixels, computed once before drawing: each panel's
//! ranges and ticks, the margins their labels need, the side column for the legend and colour
//! bar, and the size of the whole figure.

use plotters::prelude::*;

use super::Scene;
use super::axes::{axis_range, data_ranges, ticks_for};
use crate::plot::theme::{self, FAMILY};

/// The size of `text` drawn at `size`, with a margin.
fn text_size(text: &str, size: f64) -> (f64, f64) {
    theme::ensure_font();
    match (FAMILY, size).into_font().box_size(text) {
        // ab_glyph's estimate runs a little short of the drawn text: keep a margin.
        Ok((w, h)) => (w as f64 * 1.12 + 2.0, h as f64),
        // A rough estimate if the font cannot measure (never with the bundled font).
        Err(_) => (0.6 * size * text.chars().count() as f64, size),
    }
}

/// One panel's axis ranges (in positions) and ticks (position, label).
pub(super) struct PanelPlan {
    pub(super) xr: (f64, f64),
    pub(super) yr: (f64, f64),
    pub(super) xt: Vec<(f64, String)>,
    pub(super) yt: Vec<(f64, String)>,
}

/// Everything about the geometry, in logical pixels.
pub struct Layout {
    pub(super) plans: Vec<PanelPlan>,
    pub width: f64,
    pub height: f64,
    pub(super) title_h: f64,
    pub(super) side_x: f64,
    pub(super) side_w: f64,
    pub(super) left: f64,
    pub(super) bottom: f64,
    pub(super) right: f64,
    pub(super) top: f64,
    rows: usize,
}

/// Padding around the title and the side column.
pub(super) const PAD: f64 = 12.0;
/// Width of a legend swatch.
pub(super) const SWATCH_W: f64 = 30.0;
/// Height of a legend row.
pub(super) const ROW_H: f64 = 20.0;
/// Width and height of the colour bar.
pub(super) const BAR_W: f64 = 16.0;
pub(super) const BAR_H: f64 = 190.0;

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
    /// Panel `i`'s box (x, y, width, height) in the grid.
    /// Each panel's axis ranges in positions (after the scale: sqrt(KL), log10(size)), as
    /// drawn: `((x_lo, x_hi), (y_lo, y_hi))`. Anything outside is clipped.
    pub fn ranges(&self) -> Vec<((f64, f64), (f64, f64))> {
        self.plans.iter().map(|p| (p.xr, p.yr)).collect()
    }

    /// Each panel's tick labels: `(x labels, y labels)`.
    pub fn tick_labels(&self) -> Vec<(Vec<String>, Vec<String>)> {
        self.plans
            .iter()
            .map(|p| {
                (
                    p.xt.iter().map(|t| t.1.clone()).collect(),
                    p.yt.iter().map(|t| t.1.clone()).collect(),
                )
            })
            .collect()
    }

    pub(super) fn panel_origin(&self, sc: &Scene, i: usize) -> (f64, f64, f64, f64) {
        let cols = sc.cols.clamp(1, sc.panels.len().max(1));
        let pw = self.side_x / cols as f64;
        let ph = (self.height - self.title_h) / self.rows as f64;
        let (r, c) = (i / cols, i % cols);
        (c as f64 * pw, self.title_h + r as f64 * ph, pw, ph)
    }
}
