//! Fitting many curves with bounded memory: the curves are fitted a chunk at a time (each
//! chunk in parallel), and each chunk's records are serialised (in parallel) and written, in
//! curve order, before the next chunk is fitted. Only what the command prints afterwards is
//! kept: the warning summary ([`WarningSummary`]) and what the caller's `each` keeps. The bytes
//! written are those of the in-memory path ([`super::fit_curves`], [`super::fit_document`],
//! [`FitsDocument::to_json`], [`crate::export::CsvExporter`]).

use rayon::prelude::*;

use super::{CurveFit, FitOptions, FitPlan, WarningSummary};
use crate::curves::Curve;
use crate::document::{FitsDocument, FitsJsonStream};
use crate::error::Result;
use crate::export::{CsvChunks, param_columns};
use crate::forms::FormId;
use crate::output::ByteSink;

/// Curves fitted per chunk: large enough to keep both cores busy, small enough that a chunk's
/// fits and their bytes (about 2 KB of JSON per fit) stay a few tens of megabytes.
pub const CHUNK_CURVES: usize = 8192;

/// Fits rendered per parallel task.
const RENDER_BATCH: usize = 256;

/// What [`fit_streamed`] returns: how many fits were written, and their warnings grouped as
/// [`super::summarize_warnings`] groups them.
#[derive(Debug, Clone, Default)]
pub struct StreamedFits {
    pub n_fits: usize,
    pub warnings: WarningSummary,
}

/// Where [`fit_streamed`] writes: the fits JSON, and the fits CSV when one is asked for.
pub struct StreamOutputs<'a> {
    pub json: &'a mut dyn ByteSink,
    pub csv: Option<&'a mut dyn ByteSink>,
}

/// Whether the fits of these options can be written as they are made: no stage that needs
/// every fit (`--share-alpha-rl`, `--compare-forms`, the Goodhart decomposition of proxy fits).
/// `plan` is the one [`FitPlan::new`] made for the curves.
pub fn streamable(plan: &FitPlan, share_alpha: bool, compare_forms: bool) -> bool {
    !share_alpha && !compare_forms && !plan.targets.contains(&super::Target::Proxy)
}

/// Fits `curves` (sorted as [`crate::curves::read_curves`] returns them) a chunk at a time and
/// writes the fits JSON to `outputs.json`, with `frame`'s other fields around the records (its
/// `"fits"` are ignored), and the fits CSV to `outputs.csv`. `each` sees every chunk's fits in order
/// (for the printed summary table). `chunk_curves` curves are fitted at a time
/// ([`CHUNK_CURVES`] for the command line); the bytes do not depend on it. On an error (the first in curve order, as
/// [`super::fit_curves`] reports it) the outputs are partial: the caller does not commit them.
pub fn fit_streamed(
    curves: &[Curve],
    opts: &FitOptions,
    plan: &FitPlan,
    frame: &FitsDocument,
    outputs: StreamOutputs<'_>,
    chunk_curves: usize,
    mut each: impl FnMut(&[CurveFit]),
) -> Result<StreamedFits> {
    let StreamOutputs { json, mut csv } = outputs;
    let (head, tail) = frame.json_frame();
    json.write_bytes(&head)?;
    let csv_chunks = CsvChunks {
        names: param_columns(&forms(curves, opts, plan)),
    };
    if let Some(c) = csv.as_deref_mut() {
        c.write_bytes(&csv_chunks.header())?;
    }
    let mut stream = FitsJsonStream::default();
    let mut out = StreamedFits::default();
    for chunk in curves.chunks(chunk_curves.max(1)) {
        let fits = plan.fit(chunk, opts)?;
        let want_csv = csv.is_some();
        let rendered: Vec<(Vec<u8>, Vec<u8>)> = fits
            .par_chunks(RENDER_BATCH)
            .map(|batch| {
                let mut local = FitsJsonStream::default();
                let mut j = Vec::new();
                let mut one = Vec::new();
                for f in batch {
                    one.clear();
                    FitsJsonStream::render(&f.record(), &mut one);
                    local.push(&one, &mut j);
                }
                let c = if want_csv {
                    csv_chunks.rows(batch)
                } else {
                    Vec::new()
                };
                (j, c)
            })
            .collect();
        for (j, c) in &rendered {
            // Each batch starts without a separator; the stream adds the one between batches.
            if !stream.is_empty() && !j.is_empty() {
                json.write_bytes(b",")?;
            }
            json.write_bytes(j)?;
            if let Some(csv) = csv.as_deref_mut() {
                csv.write_bytes(c)?;
            }
            if !j.is_empty() {
                stream.mark_written();
            }
        }
        out.n_fits += fits.len();
        out.warnings.add(&fits);
        each(&fits);
    }
    json.write_bytes(stream.close())?;
    json.write_bytes(&tail)?;
    Ok(out)
}

/// The form of every fit the plan makes, in order (the fits CSV's parameter columns).
fn forms(curves: &[Curve], opts: &FitOptions, plan: &FitPlan) -> Vec<FormId> {
    let mut out = Vec::new();
    for c in curves {
        let form = opts.form.unwrap_or(FormId::for_method(c.key.method));
        if plan.targets.iter().any(|&t| plan.fits(c, t)) && !out.contains(&form) {
            out.push(form);
        }
    }
    out
}
