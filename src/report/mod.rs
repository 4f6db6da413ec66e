//! `goodhart report`: the figures of a set of curves with everything needed to read them, as
//! one self-contained `report.html` and a `report.md`, so an analysis can be shared as files.
//!
//! [`analysis`] computes what is not given (fits, scaling, predictions, decomposition),
//! [`tables`] and [`content()`] decide what the report says, [`html`] and [`markdown`] write it,
//! [`provenance`] records where the numbers come from. Figures come from [`crate::plot`]. The
//! figures (PNG and SVG), `report.html` and `report.md` all go into the output folder, which
//! must exist (the demo uses `plots/`).

pub mod analysis;
pub mod content;
pub mod html;
pub mod markdown;
pub mod provenance;
pub mod tables;

use std::path::{Path, PathBuf};

use crate::bon::Pool;
use crate::curves::Curve;
use crate::error::{Error, Result};
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
    let converged = a.fits.iter().filter(|f| f.converged).count();
    let mut s = format!(
        "{} curves ({bon} best-of-n, {rl} RL; {points} points), {} fits ({converged} converged), {} scaling laws, {} predictions, {} Goodhart decompositions.",
        curves.len(),
        a.fits.len(),
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
    let mut tables = vec![tables::fits_table(&a.fits)];
    if let Some(s) = &a.scaling {
        tables.push(tables::scaling_table(s));
    }
    if let Some(p) = &a.predictions {
        tables.push(tables::predictions_table(p));
    }
    tables.push(tables::decomposition_table(&a.decompositions));
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
        fits: &a.fits,
        scaling: a.scaling.as_ref(),
        predictions: a.predictions.as_ref(),
        decompositions: &a.decompositions,
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

/// Fails unless `dir` is an existing folder (checked before any work).
pub fn ensure_folder(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        Ok(())
    } else {
        Err(Error::Write {
            path: dir.to_path_buf(),
            source: std::io::Error::other(if dir.exists() {
                "not a folder"
            } else {
                "folder does not exist (create it first)"
            }),
        })
    }
}

/// Runs a parsed `goodhart report` command line.
pub fn command(a: &crate::cli::ReportArgs, quiet: bool) -> Result<()> {
    ensure_folder(&a.out)?;
    let map = crate::ingest::ColumnMap::parse(&a.map, crate::schema::CURVES)?;
    let logs = a.log.options()?;
    let curves = crate::curves::read_curves(&a.curves, &map, &logs)?;
    let pools: Vec<Pool> = if a.samples.is_empty() {
        Vec::new()
    } else {
        let (pools, notes) = crate::bon::read_samples(&a.samples, &[], &logs)?;
        if !quiet {
            for n in notes {
                eprintln!("warning: {n}");
            }
        }
        pools
    };
    let fits = a
        .fits
        .as_deref()
        .map(crate::scaling::read_fits)
        .transpose()?;
    let scaling = a
        .scaling
        .as_deref()
        .map(crate::scaling::read_scaling)
        .transpose()?;
    let mut files: Vec<(&'static str, PathBuf)> =
        a.curves.iter().map(|p| ("curves", p.clone())).collect();
    files.extend(a.samples.iter().map(|p| ("samples", p.clone())));
    files.extend(a.fits.iter().map(|p| ("fits", p.clone())));
    files.extend(a.scaling.iter().map(|p| ("scaling", p.clone())));
    let command = std::iter::once("goodhart".to_string())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ");
    let provenance = Provenance::for_paths(command, None, &files)?;
    let analysis = analyse(&curves, &pools, fits, scaling)?;
    let written = write_report(&a.out, "goodhart report", &curves, &analysis, provenance)?;
    if !quiet {
        for n in &analysis.notes {
            eprintln!("note: {n}");
        }
        crate::output::write_stdout(
            format!(
                "wrote {} files into {} (report.html, report.md and {} figure files)\n",
                written.len(),
                a.out.display(),
                written.len() - REPORT_FILES.len()
            )
            .as_bytes(),
        )?;
    }
    Ok(())
}
