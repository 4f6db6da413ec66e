//! The figures of the analysis (the paper's Figs. 1, 3, 4, 8, 9, 12, 24, 26 and a few
//! diagnostics), as SVG and PNG, so that `goodhart report` and `goodhart demo` can show what
//! the fits, scaling laws and Goodhart decomposition say without any plotting on the user's
//! side.
//!
//! Each figure family builds a [`scene::Scene`] (panels of lines, points, bars and bands) from
//! the curves, fits, scaling laws, predictions and decompositions; one renderer draws every
//! scene in one theme ([`theme`]): the bundled DejaVu Sans, RM size coloured by log10(size) on
//! a viridis colour bar, ±1.96 standard-error bars, and the KL axis on a square-root scale with
//! tick labels in nats (the paper's d = sqrt(KL)). The SVG is drawn at logical size and the PNG
//! at twice that, from the same scene; the same inputs give byte-identical files.

mod analyses;
mod curves;
mod data;
mod decomposition;
mod scaling;
pub mod scene;
pub mod theme;

use std::path::{Path, PathBuf};

use plotters::prelude::*;

use crate::error::{Error, Result};
use scene::Scene;

/// Everything a figure may draw from; figures whose data is missing are skipped.
pub struct PlotInputs<'a> {
    /// All curves (bon and rl; gold, optional proxy, gold_se, entropy, key).
    pub curves: &'a [crate::curves::Curve],
    /// The fits document's records: every target (gold/proxy) and form.
    pub fits: &'a [crate::document::FitRecord],
    /// The extrapolation test of each curve (drawn by the `extrapolation` figure).
    pub extrapolation: &'a [crate::document::ExtrapolationTest],
    pub scaling: Option<&'a crate::document::ScalingDoc>,
    pub predictions: Option<&'a crate::document::PredictDoc>,
    pub decompositions: &'a [crate::goodhart::Decomposition],
    /// The comparisons of `goodhart analyze`, when computed.
    pub analyses: Option<&'a crate::analyses::Analyses>,
}

/// One rendered figure.
pub struct Figure {
    /// File stem, e.g. "gold_vs_kl_bon".
    pub name: &'static str,
    pub title: String,
    /// 1-3 sentences: what is drawn and how to read it (for report.html/md).
    pub caption: String,
    pub svg: String,
    pub png: Vec<u8>,
}

/// A figure before rendering.
/// A figure before rendering: its scene model (what is drawn, inspectable by tests) and caption.
pub struct Draft {
    pub name: &'static str,
    pub caption: String,
    pub scene: Scene,
}

/// Every figure the inputs support, in a fixed order; figures whose data is missing are skipped.
///
/// ```
/// use goodhart::plot::{PlotInputs, render_all};
/// let inputs = PlotInputs { curves: &[], fits: &[], extrapolation: &[], scaling: None, predictions: None,
///                           decompositions: &[], analyses: None };
/// assert!(render_all(&inputs).is_ok_and(|figures| figures.is_empty()));
/// ```
pub fn render_all(inputs: &PlotInputs) -> Result<Vec<Figure>> {
    drafts(inputs).into_iter().map(render).collect()
}

/// The figures' scene models, before rendering (what [`render_all`] draws).
pub fn drafts(inputs: &PlotInputs) -> Vec<Draft> {
    use crate::schema::Method;
    let drafts: Vec<Option<Draft>> = vec![
        curves::gold_vs_kl(inputs, Method::Bon),
        curves::gold_vs_kl(inputs, Method::Rl),
        scaling::coefficients(inputs),
        scaling::peaks(inputs),
        curves::gold_vs_proxy(inputs),
        analyses::kl_efficiency(inputs),
        curves::kl_penalty(inputs),
        analyses::rm_validation(inputs),
        scaling::data_size(inputs),
        curves::extrapolation(inputs),
        curves::residuals(inputs),
        analyses::iterated_simulated(inputs).or_else(|| scaling::iterated(inputs)),
        scaling::prediction(inputs),
        curves::gold_vs_entropy(inputs),
        decomposition::decomposition(inputs, Method::Bon),
        decomposition::decomposition(inputs, Method::Rl),
    ];
    drafts.into_iter().flatten().collect()
}

fn plot_err(name: &str, e: impl std::fmt::Display) -> Error {
    Error::Analysis(format!("figure {name}: cannot draw: {e}"))
}

/// Renders a draft as SVG (scale 1) and PNG (scale [`theme::PNG_SCALE`]).
pub(crate) fn render(d: Draft) -> Result<Figure> {
    theme::ensure_font();
    let lay = scene::layout(&d.scene);
    let (w, h) = (lay.width as u32, lay.height as u32);
    let mut svg = String::new();
    {
        let area = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        scene::draw(&area, &d.scene, &lay, 1.0).map_err(|e| plot_err(d.name, e))?;
        area.present().map_err(|e| plot_err(d.name, e))?;
    }
    let s = theme::PNG_SCALE;
    let (pw, ph) = ((w as f64 * s) as u32, (h as f64 * s) as u32);
    let mut buf = vec![0u8; pw as usize * ph as usize * 3];
    {
        let backend = BitMapBackend::<plotters::backend::RGBPixel>::with_buffer_and_format(
            &mut buf,
            (pw, ph),
        )
        .map_err(|e| plot_err(d.name, e))?;
        let area = backend.into_drawing_area();
        scene::draw(&area, &d.scene, &lay, s).map_err(|e| plot_err(d.name, e))?;
        area.present().map_err(|e| plot_err(d.name, e))?;
    }
    let png = encode_png(&buf, pw, ph).map_err(|e| plot_err(d.name, e))?;
    Ok(Figure {
        name: d.name,
        title: d.scene.title.clone(),
        caption: d.caption,
        svg,
        png,
    })
}

fn encode_png(rgb: &[u8], w: u32, h: u32) -> std::result::Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Default);
        let mut writer = enc.write_header()?;
        writer.write_image_data(rgb)?;
        writer.finish()?;
    }
    Ok(out)
}

/// Writes NAME.svg and NAME.png for each figure into `dir` atomically
/// ([`crate::output::write_atomic`]); returns the paths written.
pub fn write_figures(figures: &[Figure], dir: &Path) -> Result<Vec<PathBuf>> {
    let mut paths = Vec::with_capacity(figures.len() * 2);
    for f in figures {
        let svg = dir.join(format!("{}.svg", f.name));
        crate::output::write_atomic(&svg, f.svg.as_bytes())?;
        paths.push(svg);
        let png = dir.join(format!("{}.png", f.name));
        crate::output::write_atomic(&png, &f.png)?;
        paths.push(png);
    }
    Ok(paths)
}
