//! The side column: the legend (a swatch and a label per entry) and the colour bar of
//! log10(size) with its ticks.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::canvas::{Ctx, DResult};
use super::layout::{BAR_H, BAR_W, Layout, PAD, ROW_H, SWATCH_W};
use super::{Dash, Scene, Swatch};
use crate::plot::theme;

/// Draws a legend swatch whose left end is at (x, y).
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

/// Draws the legend, then the colour bar, in the side column (nothing when there is none).
pub(super) fn draw_side<DB: DrawingBackend>(c: &Ctx<DB>, sc: &Scene, lay: &Layout) -> DResult<DB> {
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
