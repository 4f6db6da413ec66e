//! `goodhart scale` and `goodhart predict`: arguments to options, the scaling and predictions
//! documents, their files and summaries.

use super::cli::{ByArg, LawModelArg, OneMethodArg, PredictArgs, ScaleArgs};
use super::{print_all, print_out, print_wrote};
use crate::document::{FitsDocument, ScalingDoc, SizeKey};
use crate::error::Result;
use crate::ingest::ColumnMap;
use crate::output::{Sink, ensure_not_input};
use crate::scaling::predict::{LawModel, PredictOptions, parse_kl_grid, predict as predict_laws};
use crate::scaling::{ScaleOptions, joint, report, scale as scale_fits};
use crate::schema::{CURVES, Method};

/// Runs a parsed `goodhart scale` command line: read the fits (and, for --joint, the curves),
/// regress, write the scaling JSON.
pub fn scale(a: &ScaleArgs, quiet: bool) -> Result<()> {
    let by = match a.by {
        ByArg::RmParams => SizeKey::RmParams,
        ByArg::RmData => SizeKey::RmData,
        ByArg::PolicyParams => SizeKey::PolicyParams,
    };
    if a.joint && a.curves.is_empty() && a.log.runs.is_none() {
        return Err(crate::Error::Usage(
            "--joint needs the points the fits came from: give --curves FILES or --runs MANIFEST"
                .to_string(),
        ));
    }
    if !a.joint {
        // Without --joint no Curves table is read: its flags would be ignored.
        let mut given = a.log.given();
        if !a.curves.is_empty() {
            given.insert(0, "--curves");
        }
        if !a.map.is_empty() {
            given.push("--map");
        }
        if let Some(flag) = given.first() {
            return Err(crate::Error::Usage(format!(
                "{flag} applies to the Curves tables that --joint reads; without --joint, scale reads only the fits JSON"
            )));
        }
    }
    let logs = a.log.options()?;
    let mut inputs = vec![a.fits.clone()];
    inputs.extend(a.curves.iter().cloned());
    inputs.extend(super::manifest_inputs(&logs)?);
    ensure_not_input(&a.out, &inputs)?;
    super::json_output("--out", &a.out, "the scaling document", "")?;
    let map = ColumnMap::parse(&a.map, CURVES)?;
    // Create the output first, so that a bad path fails before any work.
    let out = Sink::create(&a.out)?;
    let fits = FitsDocument::read(&a.fits)?;
    let mut doc = scale_fits(&fits, &ScaleOptions { by })?;
    if a.joint {
        let (curves, warnings) = crate::curves::read_curves(&a.curves, &map, &logs)?;
        print_all(quiet, "warning", &warnings);
        let (joint, laws) = joint::joint_fits(&curves, by)?;
        doc.joint = joint;
        doc.laws.extend(laws);
    }
    print_all(quiet, "warning", &doc.warnings);
    let to_stdout = out.path().is_none();
    out.commit(&doc.to_json())?;
    if !to_stdout {
        print_out(quiet, &report(&doc))?;
        print_wrote(quiet, &a.out, &format!("{} laws", doc.laws.len()));
    }
    Ok(())
}

/// Runs a parsed `goodhart predict` command line: read the scaling JSON, predict, write JSON
/// or a flat table.
pub fn predict(a: &PredictArgs, quiet: bool) -> Result<()> {
    ensure_not_input(&a.out, std::slice::from_ref(&a.scaling))?;
    let kl = a.kl.as_deref().map(parse_kl_grid).transpose()?;
    let json = a.out.as_os_str() == "-"
        || a.out
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if !json {
        // An unknown extension fails here, before any work.
        super::table_output("--out", &a.out, true)?;
    }
    // Create the output first, so that a bad path fails before any work.
    let out = Sink::create(&a.out)?;
    let doc = ScalingDoc::read(&a.scaling)?;
    let opts = PredictOptions {
        sizes: a.rm_params.clone(),
        method: a.method.map(|m| match m {
            OneMethodArg::Bon => Method::Bon,
            OneMethodArg::Rl => Method::Rl,
        }),
        kl,
        iterations: a.iterations,
        model: match a.model {
            LawModelArg::LogLinear => LawModel::LogLinear,
            LawModelArg::Power => LawModel::Power,
            LawModelArg::Joint => LawModel::Joint,
        },
    };
    let pred = predict_laws(&doc, &opts)?;
    let mut warnings = crate::scaling::predict::warning_lines(&pred, 5);
    if !warnings.is_empty() {
        warnings.push(format!(
            "full messages: the \"warnings\" and \"failed\" of each prediction in {}",
            if json {
                a.out.display().to_string()
            } else {
                format!("{} (column warning)", a.out.display())
            }
        ));
    }
    print_all(quiet, "warning", &warnings);
    let bytes = if json {
        pred.to_json()
    } else {
        crate::scaling::predict::table(&pred).to_bytes_for(&a.out)?
    };
    let to_stdout = out.path().is_none();
    out.commit(&bytes)?;
    if !to_stdout {
        print_out(quiet, &crate::scaling::predict::summary(&pred))?;
        print_wrote(
            quiet,
            &a.out,
            &format!("{} predictions", pred.predictions.len()),
        );
    }
    Ok(())
}
