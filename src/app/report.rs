//! `goodhart report`: read what is given, analyse the rest, write the figures and reports.

use std::path::PathBuf;

use super::cli::ReportArgs;
use super::{print_all, print_wrote};
use crate::bon::Pool;
use crate::document::{FitsDocument, ScalingDoc};
use crate::error::{Error, Result};
use crate::report::analysis::analyse_with;
use crate::report::{Provenance, REPORT_FILES, write_report};

/// Fails unless `dir` is a folder or can be made one: an existing folder, or a path whose
/// nearest existing ancestor is a folder (checked before any work; the folders are created by
/// [`create_folder`] once the analysis is done, so a failed run leaves no empty folder).
pub fn ensure_folder(dir: &std::path::Path) -> Result<()> {
    let not_folder = |p: &std::path::Path| Error::Write {
        path: p.to_path_buf(),
        source: std::io::Error::other("not a folder"),
    };
    if dir.is_dir() {
        return Ok(());
    }
    if dir.exists() {
        return Err(not_folder(dir));
    }
    let mut up = dir.parent();
    while let Some(p) = up {
        if p.as_os_str().is_empty() || p.is_dir() {
            return Ok(());
        }
        if p.exists() {
            return Err(not_folder(p));
        }
        up = p.parent();
    }
    Ok(())
}

/// Creates `dir` and its missing parents.
pub fn create_folder(dir: &std::path::Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Write {
        path: dir.to_path_buf(),
        source,
    })
}

/// The provenance line of the analyses (`report`, `demo`).
pub const ANALYSES_COMPUTED: &str = "analyses: computed in-process (goodhart analyze: RL vs best-of-n KL efficiency, gold at equal proxy, reward models, KL-penalty frontier, iterated RLHF; each skipped with its reason when its input is missing)";

/// Runs a parsed `goodhart report` command line.
pub fn command(a: &ReportArgs, quiet: bool) -> Result<()> {
    ensure_folder(&a.out)?;
    let map = crate::ingest::ColumnMap::parse(&a.map, crate::schema::CURVES)?;
    let logs = a.log.options()?;
    let (reference, ref_notes) = super::fit::reference_choice(&a.reference, &logs)?;
    print_all(quiet, "warning", &ref_notes);
    let (curves, warnings, per_token) =
        crate::curves::read_curves_with_unit(&a.curves, &map, &logs)?;
    print_all(quiet, "warning", &warnings);
    let coverage = super::fit::reference_coverage(&reference, &a.reference, &curves)?;
    print_all(quiet, "warning", &coverage.unwrap_or_default());
    let pools: Vec<Pool> = if a.samples.is_empty() {
        Vec::new()
    } else {
        let (pools, notes) = crate::bon::read_samples(&a.samples, &[], &logs)?;
        print_all(quiet, "warning", &notes);
        pools
    };
    let fits = a.fits.as_deref().map(FitsDocument::read).transpose()?;
    let scaling = a.scaling.as_deref().map(ScalingDoc::read).transpose()?;
    let mut files: Vec<(&'static str, PathBuf)> =
        a.curves.iter().map(|p| ("curves", p.clone())).collect();
    files.extend(a.samples.iter().map(|p| ("samples", p.clone())));
    files.extend(a.fits.iter().map(|p| ("fits", p.clone())));
    files.extend(a.scaling.iter().map(|p| ("scaling", p.clone())));
    files.extend(a.reward_models.iter().map(|p| ("reward models", p.clone())));
    files.extend(a.iterated.iter().map(|p| ("iterated RLHF", p.clone())));
    let command = std::iter::once("goodhart".to_string())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ");
    let provenance = Provenance::for_paths(command, None, &files)?;
    let mut analysis = analyse_with(&curves, &pools, fits, scaling, &reference, false)?;
    if per_token {
        // the figures' axes say "KL (nats)": the report says once, first, what that KL is
        analysis.notes.insert(
            0,
            "KL here is per token (a trainer log's per-token KL that no response-length key converted): every KL value and axis of this report is in nats per token, not the paper's per-sequence nats; give --length-key to convert".to_string(),
        );
    }
    let analyses = analysis.comparisons(
        &curves,
        &pools,
        a.reward_models.as_deref(),
        a.iterated.as_deref(),
    )?;
    print_all(quiet, "warning", &crate::analyses::warnings(&analyses.doc));
    analysis.computed.push(ANALYSES_COMPUTED.to_string());
    analysis.analyses = Some(analyses);
    create_folder(&a.out)?;
    let written = write_report(&a.out, "goodhart report", &curves, &analysis, provenance)?;
    print_all(quiet, "note", &analysis.notes);
    print_wrote(
        quiet,
        &a.out,
        &format!(
            "{} files: report.html, report.md and {} figure files",
            written.len(),
            written.len() - REPORT_FILES.len()
        ),
    );
    Ok(())
}
