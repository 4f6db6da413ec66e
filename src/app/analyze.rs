//! `goodhart analyze`: the paper's comparisons of methods and runs ([`crate::analyses`]) as a
//! JSON document, an optional flat table, and a summary on stdout.

use super::cli::AnalyzeArgs;
use super::{print_all, print_out, print_wrote};
use crate::analyses::{self, Analyses};
use crate::bon::Pool;
use crate::curves::Curve;
use crate::document::FitsDocument;
use crate::error::{Error, Result};
use crate::ingest::{ColumnMap, LogOptions, MetadataHint};
use crate::output::{Sink, commit_all, ensure_not_input};
use crate::schema::CURVES;

/// The fits the analyses read: the file given, else fitted here as `goodhart report` does. A
/// curve that cannot be fitted (too few usable points, say) is left out of the fits with a
/// warning naming it, rather than ending the command: the analyses need fits only for the
/// reward models' peaks, and its peak is then `null` with its reason.
pub fn fits_for(
    curves: &[Curve],
    given: Option<&std::path::Path>,
) -> Result<(FitsDocument, Vec<String>)> {
    if let Some(p) = given {
        return Ok((FitsDocument::read(p)?, Vec::new()));
    }
    match crate::report::analysis::fit_all(curves) {
        Ok((_, doc)) => Ok((doc, Vec::new())),
        Err(whole) => {
            // the curves one by one: those that fit, and why the others do not
            let opts = crate::fit::FitOptions::default();
            let mut kept = Vec::new();
            let mut notes = Vec::new();
            for c in curves {
                match crate::fit::fit_curves(std::slice::from_ref(c), &opts) {
                    Ok(_) => kept.push(c.clone()),
                    Err(e) => notes.push(format!(
                        "not fitted, so the analyses give its peak as null with the reason: {e}"
                    )),
                }
            }
            if notes.is_empty() {
                return Err(whole);
            }
            let (_, doc) = crate::report::analysis::fit_all(&kept)?;
            Ok((doc, notes))
        }
    }
}

/// Reads the Samples tables given (none: no pools).
pub fn read_pools(samples: &[std::path::PathBuf], quiet: bool) -> Result<Vec<Pool>> {
    if samples.is_empty() {
        return Ok(Vec::new());
    }
    let (pools, notes) = crate::bon::read_samples(samples, &[], &LogOptions::default())?;
    print_all(quiet, "warning", &notes);
    Ok(pools)
}

/// A usage error (exit 2) when two outputs are both `-` (stdout): their bytes would interleave.
pub(super) fn both_stdout(
    flag_a: &str,
    a: &std::path::Path,
    flag_b: &str,
    b: Option<&std::path::Path>,
) -> Result<()> {
    if a.as_os_str() == "-" && b.is_some_and(|b| b.as_os_str() == "-") {
        return Err(Error::Usage(format!(
            "{flag_a} - and {flag_b} - both write to stdout: give one of them a file"
        )));
    }
    Ok(())
}

/// Runs a parsed `goodhart analyze` command line.
pub fn command(a: &AnalyzeArgs, quiet: bool) -> Result<()> {
    let mut inputs = a.curves.clone();
    inputs.extend(a.samples.iter().cloned());
    inputs.extend(
        [&a.reward_models, &a.iterated, &a.fits]
            .into_iter()
            .flatten()
            .cloned(),
    );
    both_stdout("--out", &a.out, "--csv", a.csv.as_deref())?;
    ensure_not_input(&a.out, &inputs)?;
    if let Some(c) = &a.csv {
        ensure_not_input(c, &inputs)?;
    }
    super::json_output(
        "--out",
        &a.out,
        "the analyses document",
        "; the flat table of the analyses is --csv FILE",
    )?;
    if let Some(c) = &a.csv {
        super::table_output("--csv", c, false)?;
    }
    let out = Sink::create(&a.out)?;
    let csv = a.csv.as_deref().map(Sink::create).transpose()?;
    // analyze has no run-metadata flags: a missing metadata column points to `goodhart convert`
    let (curves, warnings) = crate::curves::read_curves(
        &a.curves,
        &ColumnMap::parse(&[], CURVES)?,
        &LogOptions {
            metadata_hint: MetadataHint::Convert,
            ..LogOptions::default()
        },
    )?;
    print_all(quiet, "warning", &warnings);
    let pools = read_pools(&a.samples, quiet)?;
    let (fits, fit_notes) = fits_for(&curves, a.fits.as_deref())?;
    print_all(quiet, "warning", &fit_notes);
    if let Some(p) = &a.fits {
        analyses::fits_match(p, &fits.fits, &curves)?;
        print_all(
            quiet,
            "warning",
            &analyses::rejected_shared_alpha_notes(&fits.shared_fits),
        );
    }
    let Analyses { doc, .. } = analyses::run(
        &curves,
        &fits.fits,
        &pools,
        a.reward_models.as_deref(),
        a.iterated.as_deref(),
    )?;
    print_all(quiet, "warning", &analyses::warnings(&doc));
    let json = doc.to_json();
    let table = analyses::text::flat_table(&doc);
    let csv_bytes = match (&csv, &a.csv) {
        (Some(_), Some(p)) => Some(table.to_bytes_for(p)?),
        _ => None,
    };
    let to_stdout = out.path().is_none();
    let mut written = Vec::new();
    if !to_stdout {
        written.push((a.out.clone(), "5 analyses".to_string()));
    }
    let mut outputs = vec![(out, json.as_slice())];
    if let (Some(csv), Some(bytes)) = (csv, csv_bytes.as_deref()) {
        if let Some(p) = csv.path() {
            written.push((p.to_path_buf(), format!("{} rows", table.n_rows())));
        }
        outputs.push((csv, bytes));
    }
    commit_all(outputs)?;
    if !to_stdout {
        print_out(quiet, &analyses::text::summary(&doc))?;
    }
    for (path, what) in &written {
        print_wrote(quiet, path, what);
    }
    Ok(())
}
