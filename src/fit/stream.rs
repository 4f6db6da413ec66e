//! Fitting many curves with bounded memory: the curves are fitted a window at a time, each
//! window's curves fitted and rendered (JSON and CSV bytes) in parallel batches, and each
//! window's bytes are written, in curve order, while the next window is fitted. Only what the
//! command prints afterwards is kept: the warning summary ([`WarningSummary`]) and what the
//! caller's `each` keeps. The bytes written are those of the in-memory path
//! ([`super::fit_curves`], [`super::fit_document`], [`FitsDocument::to_json`],
//! [`crate::export::CsvExporter`]).

use rayon::prelude::*;

use super::{CurveFit, FitOptions, FitPlan, WarningSummary};
use crate::curves::Curve;
use crate::document::{FitsDocument, FitsJsonStream};
use crate::error::Result;
use crate::export::{CsvChunks, param_columns};
use crate::forms::FormId;
use crate::output::ByteSink;

/// Curves fitted per window: enough batches to keep the cores busy, few enough that a window's
/// fits and bytes (about 2 KB of JSON per fit) stay a few megabytes: memory freed by one window
/// is reused by the next instead of fresh pages being touched (each a page fault and a zeroing).
pub const CHUNK_CURVES: usize = 1024;

/// Curves fitted and rendered per parallel task.
const RENDER_BATCH: usize = 64;

/// One batch of fits and their bytes: the JSON records (comma-separated, no leading comma) and
/// the CSV rows.
struct Rendered {
    fits: Vec<CurveFit>,
    json: Vec<u8>,
    csv: Vec<u8>,
}

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

/// Fits `curves` (sorted as [`crate::curves::read_curves`] returns them) a window at a time and
/// writes the fits JSON to `outputs.json`, with `frame`'s other fields around the records (its
/// `"fits"` are ignored), and the fits CSV to `outputs.csv`. `each` sees every window's fits in
/// order (for the printed summary table). `chunk_curves` curves are fitted at a time
/// ([`CHUNK_CURVES`] for the command line); the bytes do not depend on it. One window is fitted
/// (on rayon's threads, driven from a scoped thread) while the previous one is written (on the
/// calling thread, which owns the outputs). On an error (the first in curve order, as
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
    let want_csv = csv.is_some();
    // The JSON buffers of written batches, handed back for the next batches: a batch's bytes
    // are made on a pool thread and written (then dropped) on this one, and memory freed on
    // another thread than the one that took it is not handed out again at once; reused buffers
    // keep the memory of a command bounded and touched once (issue 16).
    let buffers: std::sync::Mutex<Vec<Vec<u8>>> = std::sync::Mutex::new(Vec::new());
    let buffers = &buffers;
    // One window's batches, fitted and rendered in parallel; the first error in curve order.
    let render = |window: &[Curve]| -> Result<Vec<Rendered>> {
        let batches: Vec<Result<Rendered>> = window
            .par_chunks(RENDER_BATCH)
            .map(|batch| {
                let mut fits = Vec::with_capacity(batch.len() * plan.targets.len());
                for c in batch {
                    fits.extend(plan.fit_one(c, opts)?);
                }
                let mut json = buffers
                    .lock()
                    .map(|mut b| b.pop())
                    .ok()
                    .flatten()
                    .unwrap_or_default();
                json.clear();
                // About 2 KB of JSON a fit: one allocation for most batches.
                json.reserve(fits.len() * 2560);
                let mut records = FitsJsonStream::default();
                for f in &fits {
                    records.render_next(&f.record(), &mut json);
                }
                let csv = if want_csv {
                    csv_chunks.rows(&fits)
                } else {
                    Vec::new()
                };
                Ok(Rendered { fits, json, csv })
            })
            .collect();
        batches.into_iter().collect()
    };
    let mut stream = FitsJsonStream::default();
    let mut out = StreamedFits::default();
    std::thread::scope(|scope| -> Result<()> {
        // One window ahead: the next window is fitted while this one is written.
        let (sender, windows) = std::sync::mpsc::sync_channel(1);
        let render = &render;
        scope.spawn(move || {
            for window in curves.chunks(chunk_curves.max(1)) {
                let rendered = render(window);
                let failed = rendered.is_err();
                // The receiver is gone when writing failed: nothing more to do.
                if sender.send(rendered).is_err() || failed {
                    break;
                }
            }
        });
        for rendered in windows {
            let rendered = rendered?;
            for r in &rendered {
                // Each batch starts without a separator; the stream adds the one between batches.
                if !r.json.is_empty() {
                    if !stream.is_empty() {
                        json.write_bytes(b",")?;
                    }
                    json.write_bytes(&r.json)?;
                    stream.mark_written();
                }
                if let Some(csv) = csv.as_deref_mut() {
                    csv.write_bytes(&r.csv)?;
                }
            }
            let mut fits: Vec<CurveFit> =
                Vec::with_capacity(rendered.iter().map(|r| r.fits.len()).sum());
            for r in rendered {
                fits.extend(r.fits);
                if let Ok(mut b) = buffers.lock() {
                    b.push(r.json);
                }
            }
            out.n_fits += fits.len();
            out.warnings.add(&fits);
            each(&fits);
        }
        Ok(())
    })?;
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
