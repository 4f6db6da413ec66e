//! `goodhart report`: the figures of a set of curves with everything needed to read them, as
//! one self-contained `report.html` and a `report.md`, so an analysis can be shared as files.
//!
//! [`analysis`] computes what is not given (fits, scaling, predictions, decomposition),
//! [`tables`] and [`content()`] decide what the report says, [`html`] and [`markdown`] write it,
//! [`provenance`] records where the numbers come from. Figures come from [`crate::plot`]. The
//! figures (PNG and SVG), `report.html` and `report.md` all go into the output folder, which
//! must exist (the demo uses `plots/`).

pub mod analyses;
pub mod analysis;
pub mod content;
pub mod html;
pub mod markdown;
pub mod provenance;
pub mod tables;

use std::path::{Path, PathBuf};

use crate::curves::Curve;
use crate::error::Result;
use crate::output::write_atomic;
use crate::schema::Method;
pub use analysis::{Analysis, analyse};
use content::{Content, FigureRef};
pub use provenance::{InputFile, Provenance};

/// The report files besides the figures.
pub const REPORT_FILES: [&str; 2] = ["report.html", "report.md"];

/// One paragraph on what the report covers.
fn summary(curves: &[Curve], a: &Analysis) -> String {
    let bon = curves
        .iter()
        .filter(|c| c.key.method == Method::Bon)
        .count();
    let rl = curves.len() - bon;
    let points: usize = curves.iter().map(|c| c.kl.len()).sum();
    let converged = a.fits.fits.iter().filter(|f| f.converged).count();
    let mut s = format!(
        "{} curves ({bon} best-of-n, {rl} RL; {points} points), {} fits ({converged} converged), {} scaling laws, {} predictions, {} Goodhart decompositions.",
        curves.len(),
        a.fits.fits.len(),
        a.scaling.as_ref().map_or(0, |s| s.laws.len()),
        a.predictions.as_ref().map_or(0, |p| p.predictions.len()),
        a.decompositions.len()
    );
    s.push_str(" Scores are gold and proxy reward-model scores; KL is KL(policy ‖ initial policy) in nats and d = √KL.");
    s
}

/// The report's content with the figures given.
pub fn content(
    title: &str,
    curves: &[Curve],
    a: &Analysis,
    figures: Vec<FigureRef>,
    mut provenance: Provenance,
) -> Content {
    provenance.computed.extend(a.computed.iter().cloned());
    let mut tables = vec![tables::fits_table(&a.fits.fits)];
    if let Some(s) = &a.scaling {
        tables.push(tables::scaling_table(s));
    }
    if let Some(p) = &a.predictions {
        tables.push(tables::predictions_table(p));
    }
    tables.push(tables::decomposition_table(&a.decompositions));
    if let Some(t) = tables::agreement_table(&a.decompositions) {
        tables.push(t);
    }
    if let Some(x) = &a.analyses {
        tables.extend(analyses::tables(&x.doc));
    }
    Content {
        title: title.to_string(),
        summary: summary(curves, a),
        provenance,
        figures,
        tables,
        notes: a.notes.clone(),
    }
}

/// Renders the figures, then writes them, `report.html` and `report.md` into `dir` (each file
/// atomically; nothing is written when rendering fails). Returns the files written.
pub fn write_report(
    dir: &Path,
    title: &str,
    curves: &[Curve],
    a: &Analysis,
    provenance: Provenance,
) -> Result<Vec<PathBuf>> {
    let figures = crate::plot::render_all(&crate::plot::PlotInputs {
        curves,
        fits: &a.fits.fits,
        extrapolation: &a.fits.extrapolation,
        scaling: a.scaling.as_ref(),
        predictions: a.predictions.as_ref(),
        decompositions: &a.decompositions,
        analyses: a.analyses.as_ref(),
    })?;
    let refs: Vec<FigureRef> = figures
        .iter()
        .map(|f| FigureRef {
            name: f.name.to_string(),
            title: f.title.clone(),
            caption: f.caption.clone(),
            svg: f.svg.clone(),
            png: format!("{}.png", f.name),
        })
        .collect();
    let c = content(title, curves, a, refs, provenance);
    let html_text = html::render(&c);
    let md_text = markdown::render(&c);
    let mut written = crate::plot::write_figures(&figures, dir)?;
    for (name, text) in REPORT_FILES.iter().zip([html_text, md_text]) {
        let p = dir.join(name);
        write_atomic(&p, text.as_bytes())?;
        written.push(p);
    }
    Ok(written)
}
