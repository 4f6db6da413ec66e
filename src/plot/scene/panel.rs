//! Drawing one panel: its grid, its items in layers (shading, bands, guides, lines, error bars,
//! points) clipped to the frame with non-finite values skipped, then the frame, ticks and
//! titles.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::canvas::{Ctx, DResult};
use super::layout::{Layout, PanelPlan};
use super::{Dash, Item, Panel, Scale};
use crate::plot::theme;

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

/// A panel's plotting box in logical pixels, its ranges in positions, and its scales.
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

/// Draws one item inside the frame, clipped, skipping non-finite values.
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

/// Draws one panel in its box `origin` (x, y, width, height).
pub(super) fn draw_panel<DB: DrawingBackend>(
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
}
