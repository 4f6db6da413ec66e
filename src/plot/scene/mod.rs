//! A figure as data (panels of lines, points, error bars and bands, a legend, a colour bar),
//! and the one renderer that draws it on any plotters backend at a scale factor. Figures build
//! a [`Scene`]; they never call plotters. Axes, ticks, clipping and the skipping of non-finite
//! values live here once.
//!
//! This file holds the scene's types and the entry point [`draw`]; the work is split by stage:
//! `axes` (ranges and ticks), `layout` (geometry), `canvas` (drawing primitives), `panel` (one
//! panel's items, frame and ticks) and `legend` (the side column).

mod axes;
mod canvas;
mod layout;
mod legend;
mod panel;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::theme;
use canvas::{Ctx, DResult};
use layout::PAD;
use legend::draw_side;
use panel::draw_panel;

pub use axes::{linear_ticks, log_ticks, sqrt_ticks};
pub use layout::{Layout, layout};

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
