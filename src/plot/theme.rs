//! The one look every figure shares: the bundled font, the colours (a viridis colormap for RM
//! size, a colour-blind-safe palette for categories), the sizes of text and strokes, and the
//! number formats of tick labels.

use std::sync::OnceLock;

use plotters::style::{FontStyle, RGBColor};

/// The font family every text uses; [`ensure_font`] registers DejaVu Sans under it.
pub const FAMILY: &str = "sans-serif";

/// Registers the bundled DejaVu Sans as [`FAMILY`] once per process (figures never depend on
/// the fonts of the machine). Returns false when the font could not be registered.
pub fn ensure_font() -> bool {
    static DONE: OnceLock<bool> = OnceLock::new();
    *DONE.get_or_init(|| {
        plotters::style::register_font(
            FAMILY,
            FontStyle::Normal,
            include_bytes!("../../assets/DejaVuSans.ttf"),
        )
        .is_ok()
    })
}

/// Text sizes, in logical pixels (an SVG pixel; the PNG is drawn at twice these).
pub const TITLE_SIZE: f64 = 17.0;
pub const PANEL_TITLE_SIZE: f64 = 13.5;
pub const AXIS_TITLE_SIZE: f64 = 13.0;
pub const TICK_SIZE: f64 = 11.5;
pub const LEGEND_SIZE: f64 = 12.0;

/// The scale factor of the PNG rendering relative to the SVG.
pub const PNG_SCALE: f64 = 2.0;

pub const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
pub const AXIS: RGBColor = RGBColor(0x55, 0x55, 0x55);
pub const GRID: RGBColor = RGBColor(0xe8, 0xe8, 0xe8);
pub const MUTED: RGBColor = RGBColor(0x99, 0x99, 0x99);
pub const SHADE: RGBColor = RGBColor(0xee, 0xee, 0xee);
pub const WHITE: RGBColor = RGBColor(0xff, 0xff, 0xff);

/// A colour-blind-safe categorical palette (Okabe and Ito 2008), blue first.
pub const PALETTE: [RGBColor; 7] = [
    RGBColor(0x00, 0x72, 0xb2), // blue
    RGBColor(0xd5, 0x5e, 0x00), // vermilion
    RGBColor(0x00, 0x9e, 0x73), // bluish green
    RGBColor(0xcc, 0x79, 0xa7), // reddish purple
    RGBColor(0xe6, 0x9f, 0x00), // orange
    RGBColor(0x56, 0xb4, 0xe9), // sky blue
    RGBColor(0x33, 0x33, 0x33), // near black
];

/// The i-th category colour (cycling).
pub fn category(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// A colour moved a fraction `f` of the way to white (error bars behind dense points).
pub fn lighten(c: RGBColor, f: f64) -> RGBColor {
    let m = |v: u8| (v as f64 + (255.0 - v as f64) * f.clamp(0.0, 1.0)).round() as u8;
    RGBColor(m(c.0), m(c.1), m(c.2))
}

/// Viridis (matplotlib's perceptually uniform colormap), sampled at 11 points.
const VIRIDIS: [(u8, u8, u8); 11] = [
    (68, 1, 84),
    (72, 36, 117),
    (65, 68, 135),
    (53, 95, 141),
    (42, 120, 142),
    (33, 145, 140),
    (34, 168, 132),
    (68, 191, 112),
    (122, 209, 81),
    (189, 223, 38),
    (253, 231, 37),
];

/// The colormap at t in [0, 1] (clamped; NaN gives the middle). The light yellow end is left
/// out (t maps to 0..0.9 of viridis) so that every colour stays visible on white.
///
/// ```
/// use goodhart::plot::theme::colormap;
/// assert_eq!(colormap(0.0), plotters::style::RGBColor(68, 1, 84));
/// assert_eq!(colormap(-1.0), colormap(0.0));
/// ```
pub fn colormap(t: f64) -> RGBColor {
    let t = if t.is_nan() { 0.5 } else { t.clamp(0.0, 1.0) } * 0.9;
    let x = t * (VIRIDIS.len() - 1) as f64;
    let i = (x.floor() as usize).min(VIRIDIS.len() - 2);
    let f = x - i as f64;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    let mix = |p: u8, q: u8| (p as f64 + (q as f64 - p as f64) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Maps sizes (RM parameters) to colours by log10(size) over a fixed span.
#[derive(Debug, Clone, Copy)]
pub struct SizeScale {
    pub lo: f64,
    pub hi: f64,
}

impl SizeScale {
    /// The scale spanning the finite positive sizes given (None when there are none).
    pub fn over(sizes: impl IntoIterator<Item = f64>) -> Option<SizeScale> {
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        for s in sizes {
            if s.is_finite() && s > 0.0 {
                lo = lo.min(s.log10());
                hi = hi.max(s.log10());
            }
        }
        (lo <= hi).then_some(SizeScale { lo, hi })
    }

    /// Position of a size on the colour bar, in [0, 1].
    pub fn t(&self, size: f64) -> f64 {
        if self.hi > self.lo {
            (size.log10() - self.lo) / (self.hi - self.lo)
        } else {
            0.5
        }
    }

    pub fn color(&self, size: f64) -> RGBColor {
        colormap(self.t(size))
    }
}

/// A count with an SI suffix: 16, 2.32k, 3M, 1.2B (parameter counts, comparisons).
///
/// ```
/// use goodhart::plot::theme::si;
/// assert_eq!(si(16.0), "16");
/// assert_eq!(si(2320.0), "2.32k");
/// assert_eq!(si(3.0e6), "3M");
/// assert_eq!(si(1.2e9), "1.2B");
/// assert_eq!(si(0.5), "0.5");
/// ```
pub fn si(v: f64) -> String {
    if !v.is_finite() {
        return String::from("?");
    }
    let a = v.abs();
    let (div, suffix) = if a >= 1e12 {
        (1e12, "T")
    } else if a >= 1e9 {
        (1e9, "B")
    } else if a >= 1e6 {
        (1e6, "M")
    } else if a >= 1e3 {
        (1e3, "k")
    } else {
        (1.0, "")
    };
    format!("{}{suffix}", sig(v / div, 3))
}

pub use crate::format::{minus, sig};
