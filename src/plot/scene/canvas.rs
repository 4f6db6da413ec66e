//! The pen: drawing primitives in logical pixels (text, strokes, dashed polylines, filled
//! rectangles, markers) on a plotters area at a scale factor, so the SVG and the twice-as-large
//! PNG come from the same calls.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::Pos;

use super::{Dash, Marker};
use crate::plot::theme::{self, FAMILY};

/// What a drawing call returns on backend `DB`.
pub(super) type DResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A drawing area and its scale factor (logical pixel -> device pixel).
pub(super) struct Ctx<'a, DB: DrawingBackend> {
    pub(super) area: &'a DrawingArea<DB, Shift>,
    pub(super) s: f64,
}

impl<DB: DrawingBackend> Ctx<'_, DB> {
    fn px(&self, v: f64) -> i32 {
        (v * self.s).round() as i32
    }
    pub(super) fn pt(&self, (x, y): (f64, f64)) -> (i32, i32) {
        (self.px(x), self.px(y))
    }
    pub(super) fn font(&self, size: f64) -> FontDesc<'static> {
        (FAMILY, size * self.s).into_font()
    }
    pub(super) fn text(
        &self,
        t: &str,
        at: (f64, f64),
        size: f64,
        color: RGBColor,
        pos: Pos,
    ) -> DResult<DB> {
        if t.is_empty() {
            return Ok(());
        }
        let style = TextStyle::from(self.font(size)).color(&color).pos(pos);
        self.area.draw_text(t, &style, self.pt(at))
    }
    pub(super) fn stroke(&self, color: RGBColor, width: f64) -> ShapeStyle {
        ShapeStyle {
            color: color.to_rgba(),
            filled: false,
            stroke_width: ((width * self.s).round() as u32).max(1),
        }
    }
    pub(super) fn polyline(
        &self,
        pts: &[(f64, f64)],
        style: ShapeStyle,
        dash: Dash,
    ) -> DResult<DB> {
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
    pub(super) fn rect(&self, a: (f64, f64), b: (f64, f64), color: RGBAColor) -> DResult<DB> {
        self.area.draw(&Rectangle::new(
            [self.pt(a), self.pt(b)],
            ShapeStyle {
                color,
                filled: true,
                stroke_width: 0,
            },
        ))
    }
    pub(super) fn marker(
        &self,
        at: (f64, f64),
        m: Marker,
        size: f64,
        color: RGBColor,
    ) -> DResult<DB> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dashes_alternate() {
        let d = dashes(&[(0.0, 0.0), (20.0, 0.0)], 6.0, 4.0);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0], vec![(0.0, 0.0), (6.0, 0.0)]);
        assert_eq!(d[1], vec![(10.0, 0.0), (16.0, 0.0)]);
    }
}
