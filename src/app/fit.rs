//! `goodhart fit`: arguments to [`FitOptions`], the fits document, its files and report.

use super::cli::{BaselineArg, CiArg, FitArgs, FormArg, TargetArg, WeightsArg};
use super::{print_all, print_out, print_wrote};
use crate::error::{Error, Result};
use crate::export::{CsvExporter, Exporter, SummaryTable, TextReport};
use crate::fit::bootstrap::BootstrapInterval;
use crate::fit::stream::{StreamOutputs, fit_streamed, streamable};
use crate::fit::{
    BaselineMode, FitOptions, FitPlan, TargetChoice, WeightsMode, compare_forms, fit_curves,
    fit_document, shared_alpha, summarize_warnings,
};
use crate::forms::FormId;
use crate::goodhart::{Reference, ReferenceChoice, references_from_samples};
use crate::ingest::ColumnMap;
use crate::output::{ByteSink, Sink, StreamSink, ensure_not_input};
use crate::schema::CURVES;

/// The library's fit options a command line describes.
pub fn fit_options(a: &FitArgs) -> Result<FitOptions> {
    for (name, v) in [
        ("--min-kl", a.min_kl),
        ("--max-kl", a.max_kl),
        ("--holdout-above", a.holdout_above),
    ] {
        if let Some(v) = v
            && !(v.is_finite() && v >= 0.0)
        {
            return Err(Error::Usage(format!(
                "{name} must be a number >= 0, not {v}"
            )));
        }
    }
    if let Some(ci) = a.ci
        && a.bootstrap == 0
    {
        return Err(Error::Usage(format!(
            "--ci {} chooses a bootstrap interval, but --bootstrap 0 asks for no bootstrap (Student-t intervals): drop --ci, or give --bootstrap B > 0",
            match ci {
                CiArg::Percentile => "percentile",
                CiArg::Bca => "bca",
            }
        )));
    }
    if let (Some(lo), Some(hi)) = (a.min_kl, a.max_kl)
        && lo > hi
    {
        return Err(Error::Usage(format!(
            "--min-kl {lo} is above --max-kl {hi}"
        )));
    }
    Ok(FitOptions {
        form: match a.form {
            FormArg::Auto => None,
            FormArg::Bon => Some(FormId::Bon),
            FormArg::Rl => Some(FormId::Rl),
            FormArg::RlLog1p => Some(FormId::RlLog1p),
            FormArg::Power => Some(FormId::Power),
        },
        target: match a.target {
            None => TargetChoice::Auto,
            Some(TargetArg::Gold) => TargetChoice::Gold,
            Some(TargetArg::Proxy) => TargetChoice::Proxy,
            Some(TargetArg::Both) => TargetChoice::Both,
        },
        baseline: match a.baseline {
            BaselineArg::Auto => BaselineMode::Auto,
            BaselineArg::None => BaselineMode::None,
        },
        min_kl: a.min_kl,
        max_kl: a.max_kl,
        holdout_above: a.holdout_above,
        weights: match a.weights {
            WeightsArg::Auto => WeightsMode::Auto,
            WeightsArg::None => WeightsMode::None,
            WeightsArg::Se => WeightsMode::Se,
        },
        bootstrap: a.bootstrap,
        seed: a.seed,
        interval: match a.ci {
            None | Some(CiArg::Percentile) => BootstrapInterval::Percentile,
            Some(CiArg::Bca) => BootstrapInterval::Bca,
        },
    })
}

/// The `--reference` values of a command line: `none`, `proxy_sd=X,gold_sd=Y`, or Samples
/// tables (read as `goodhart bon` reads them). No value: [`ReferenceChoice::Default`].
pub fn reference_choice(
    values: &[String],
    logs: &crate::ingest::LogOptions,
) -> Result<(ReferenceChoice, Vec<String>)> {
    if values.is_empty() {
        return Ok((ReferenceChoice::Default, Vec::new()));
    }
    if values.iter().any(|v| v.trim().eq_ignore_ascii_case("none")) {
        if values.len() > 1 {
            return Err(Error::Usage(
                "--reference none cannot be combined with another --reference".to_string(),
            ));
        }
        return Ok((ReferenceChoice::RawOnly, Vec::new()));
    }
    let mut refs = Vec::new();
    let mut paths = Vec::new();
    for v in values {
        if v.contains("_sd=") {
            let (mut proxy, mut gold) = (None, None);
            for part in v.split(',') {
                let (name, value) = part.split_once('=').ok_or_else(|| {
                    Error::Usage(format!("--reference {v}: expected proxy_sd=X,gold_sd=Y"))
                })?;
                let x: f64 = value.trim().parse().map_err(|_| {
                    Error::Usage(format!("--reference {v}: {value} is not a number"))
                })?;
                match name.trim() {
                    "proxy_sd" => proxy = Some(x),
                    "gold_sd" => gold = Some(x),
                    other => {
                        return Err(Error::Usage(format!(
                            "--reference {v}: unknown name {other} (expected proxy_sd and gold_sd)"
                        )));
                    }
                }
            }
            let (Some(p), Some(g)) = (proxy, gold) else {
                return Err(Error::Usage(format!(
                    "--reference {v}: give both proxy_sd and gold_sd"
                )));
            };
            refs.push(Reference::given(p, g)?);
        } else {
            paths.push(std::path::PathBuf::from(v));
        }
    }
    let mut notes = Vec::new();
    if !paths.is_empty() {
        for p in &paths {
            if looks_like_curves(p) {
                return Err(Error::BadSamples {
                    path: p.clone(),
                    detail: "--reference expects a Samples table (prompt, proxy, gold); this looks like a Curves table".to_string(),
                });
            }
        }
        let (pools, n) = crate::bon::read_samples(&paths, &[], logs)?;
        notes = n;
        // Samples references first: find_reference prefers a reference of the curve's RM.
        let mut from = references_from_samples(&pools)?;
        from.append(&mut refs);
        refs = from;
    }
    Ok((ReferenceChoice::These(refs), notes))
}

/// Whether a CSV file's header names `kl` but no `prompt` column (a Curves table).
fn looks_like_curves(path: &std::path::Path) -> bool {
    use std::io::BufRead as _;
    if path.extension().and_then(|e| e.to_str()) != Some("csv") {
        return false;
    }
    let Ok(f) = std::fs::File::open(path) else {
        return false;
    };
    let mut header = String::new();
    if std::io::BufReader::new(f).read_line(&mut header).is_err() {
        return false;
    }
    let cols: Vec<String> = header
        .trim()
        .split(',')
        .map(|c| c.trim().trim_matches('"').to_ascii_lowercase())
        .collect();
    cols.iter().any(|c| c == "kl") && !cols.iter().any(|c| c == "prompt")
}

/// Checks that the samples given with `--reference` cover the curves: a warning naming the
/// RMs without samples (and the RMs the samples have), an error naming the files when no
/// decomposable curve has any. Ok(None) when the choice is not samples references.
pub fn reference_coverage(
    choice: &ReferenceChoice,
    values: &[String],
    curves: &[crate::curves::Curve],
) -> Result<Option<Vec<String>>> {
    let ReferenceChoice::These(refs) = choice else {
        return Ok(None);
    };
    if refs.iter().any(|r| r.key.is_none()) {
        return Ok(Some(Vec::new()));
    }
    let files: Vec<&String> = values.iter().filter(|v| !v.contains('=')).collect();
    let mut has: Vec<f64> = refs
        .iter()
        .filter_map(|r| r.key.map(|k| k.rm_params))
        .collect();
    has.sort_by(f64::total_cmp);
    has.dedup();
    let mut missing: Vec<f64> = Vec::new();
    let mut matched = 0;
    for c in curves.iter().filter(|c| c.proxy.is_some()) {
        if crate::goodhart::find_reference(refs, &c.key).is_some() {
            matched += 1;
        } else if !missing.contains(&c.key.rm_params) {
            missing.push(c.key.rm_params);
        }
    }
    if missing.is_empty() {
        return Ok(Some(Vec::new()));
    }
    missing.sort_by(f64::total_cmp);
    let list = |v: &[f64]| {
        v.iter()
            .map(|x| crate::format::fmt_num(*x))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let names = files
        .iter()
        .map(|f| f.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let detail = format!(
        "--reference {names} has no samples for rm_params={} (it has: {})",
        list(&missing),
        list(&has)
    );
    if matched == 0 {
        return Err(Error::BadSamples {
            path: std::path::PathBuf::from(names),
            detail: format!("{detail}: no curve can be standardised"),
        });
    }
    Ok(Some(vec![format!(
        "{detail}: those curves are decomposed in raw units only"
    )]))
}

/// Runs a parsed `goodhart fit` command line. Prints the summary table (one line per fit) on
/// stdout, the lmfit-style detail only with `verbose` (or into `--report FILE`), and one
/// `wrote ...` line per file on stderr.
pub fn command(a: &FitArgs, quiet: bool, verbose: bool) -> Result<()> {
    let map = ColumnMap::parse(&a.map, CURVES)?;
    let opts = fit_options(a)?;
    let logs = a.log.options()?;
    super::analyze::both_stdout("--out", &a.out, "--csv", a.csv.as_deref())?;
    let mut inputs = a.curves.clone();
    inputs.extend(super::manifest_inputs(&logs)?);
    ensure_not_input(&a.out, &inputs)?;
    for extra in [&a.csv, &a.report].into_iter().flatten() {
        ensure_not_input(extra, &inputs)?;
    }
    super::json_output(
        "--out",
        &a.out,
        "the fits document",
        "; the flat table of the fits is --csv FILE",
    )?;
    if let Some(c) = &a.csv {
        super::csv_output("--csv", c, "the flat table of the fits")?;
    }
    // Create the outputs first, so that a bad path fails before any work.
    let out = Sink::create(&a.out)?;
    let csv = a.csv.as_deref().map(Sink::create).transpose()?;
    let report_file = a.report.as_deref().map(Sink::create).transpose()?;
    let (reference, ref_notes) = reference_choice(&a.reference, &logs)?;
    let (curves, read_warnings, per_token) =
        crate::curves::read_curves_with_unit(&a.curves, &map, &logs)?;
    print_all(quiet, "warning", &read_warnings);
    print_all(quiet, "warning", &ref_notes);
    let coverage = reference_coverage(&reference, &a.reference, &curves)?;
    let plan = FitPlan::new(&curves, &opts)?;
    if streamable(&plan, a.share_alpha_rl, a.compare_forms) && !verbose && report_file.is_none() {
        let streamed = Streamed {
            a,
            quiet,
            per_token,
            coverage,
        };
        return streamed.run(&curves, &opts, &plan, &reference, out, csv);
    }
    let mut fits = fit_curves(&curves, &opts)?;
    let shared = if a.share_alpha_rl {
        shared_alpha::share_alpha_rl(&curves, &opts, &mut fits)?
    } else {
        Vec::new()
    };
    let comparison = if a.compare_forms {
        Some(compare_forms::compare_forms(&curves, &fits, &opts)?)
    } else {
        None
    };
    print_all(quiet, "warning", &summarize_warnings(&fits));
    let mut doc = fit_document(&fits, shared, comparison);
    let kl_unit = if per_token { "nats per token" } else { "nats" };
    if per_token {
        doc.kl_unit = Some(kl_unit.to_string());
    }
    let refs = reference.resolve(&[])?;
    let (decomposition, dec_warnings) = crate::goodhart::decompose(&mut doc, &curves, &refs);
    match &coverage {
        // --reference SAMPLES: the coverage warning names what is missing.
        Some(w) => print_all(quiet, "warning", w),
        None if reference != ReferenceChoice::RawOnly => print_all(quiet, "warning", &dec_warnings),
        None => {}
    }
    let to_stdout = out.path().is_none();
    // The lmfit-style detail: printed with --verbose, written with --report.
    let detail = (verbose || report_file.is_some()).then(|| {
        let mut text = String::from_utf8_lossy(&TextReport { kl_unit }.render(&fits)).into_owned();
        text.push_str(&shared_alpha::report(&doc.shared_fits));
        text.push_str(&crate::goodhart::report_text(&decomposition));
        if let Some(c) = &doc.form_comparison {
            text.push_str(&compare_forms::report(c));
        }
        text
    });
    // All outputs or none: a failure writing one leaves no other in place.
    let json = doc.to_json();
    let csv_bytes = csv.as_ref().map(|_| CsvExporter.render(&fits));
    let n_fits = match fits.len() {
        1 => "1 fit".to_string(),
        n => format!("{n} fits"),
    };
    let mut written = vec![(a.out.clone(), n_fits)];
    let mut outputs = vec![(out, json.as_slice())];
    if let (Some(csv), Some(bytes)) = (csv, csv_bytes.as_deref()) {
        written.extend(
            csv.path()
                .map(|p| (p.to_path_buf(), "one row per fit".to_string())),
        );
        outputs.push((csv, bytes));
    }
    if let (Some(file), Some(text)) = (report_file, detail.as_deref()) {
        written.extend(
            file.path()
                .map(|p| (p.to_path_buf(), "lmfit-style detail".to_string())),
        );
        outputs.push((file, text.as_bytes()));
    }
    crate::output::commit_all(outputs)?;
    if !to_stdout {
        let mut text =
            String::from_utf8_lossy(&SummaryTable { per_token }.render(&fits)).into_owned();
        if verbose && let Some(d) = &detail {
            text.push('\n');
            text.push_str(d);
        } else {
            // what a flag asked for is printed without --verbose too
            text.push_str(&shared_alpha::report(&doc.shared_fits));
            if let Some(c) = &doc.form_comparison {
                text.push_str(&compare_forms::report(c));
            }
        }
        print_out(quiet, &text)?;
    }
    for (path, what) in written.iter().filter(|(p, _)| p.as_os_str() != "-") {
        print_wrote(quiet, path, what);
    }
    Ok(())
}

/// `goodhart fit` writing its outputs as the fits are made (no stage needs every fit: see
/// [`streamable`]); the files and what is printed are those of the in-memory path, byte for
/// byte.
struct Streamed<'a> {
    a: &'a FitArgs,
    quiet: bool,
    per_token: bool,
    coverage: Option<Vec<String>>,
}

impl Streamed<'_> {
    fn run(
        self,
        curves: &[crate::curves::Curve],
        opts: &FitOptions,
        plan: &FitPlan,
        reference: &ReferenceChoice,
        out: Sink,
        csv: Option<Sink>,
    ) -> Result<()> {
        let Streamed {
            a,
            quiet,
            per_token,
            coverage,
        } = self;
        let mut frame = crate::document::FitsDocument::new(Vec::new());
        if per_token {
            frame.kl_unit = Some("nats per token".to_string());
        }
        // As the in-memory path: the references are resolved (and refused) the same way; no
        // proxy fit means no decomposition and no decomposition warning.
        reference.resolve(&[])?;
        let to_stdout = out.path().is_none();
        let mut json = StreamSink::new(out);
        let mut csv = csv.map(StreamSink::new);
        let mut table =
            (!quiet && !to_stdout).then(|| Aligned::new(SummaryTable { per_token }.header()));
        // A bar on the terminal for fits that take a while (several windows of curves).
        let bar = (curves.len() > 2 * crate::fit::stream::CHUNK_CURVES).then(|| {
            super::progress::for_terminal(quiet).stage("fitting curves", curves.len() as u64)
        });
        let streamed = fit_streamed(
            curves,
            opts,
            plan,
            &frame,
            StreamOutputs {
                json: &mut json,
                csv: csv.as_mut().map(|c| c as &mut dyn ByteSink),
            },
            crate::fit::stream::CHUNK_CURVES,
            |fits| {
                if let Some(b) = &bar {
                    b.inc(fits.len() as u64);
                }
                if let Some(t) = table.as_mut() {
                    use rayon::prelude::*;
                    let rows: Vec<Vec<String>> = fits.par_iter().map(SummaryTable::row).collect();
                    t.extend(rows);
                }
            },
        )?;
        if let Some(b) = &bar {
            b.finish();
        }
        print_all(quiet, "warning", &streamed.warnings.lines());
        if let Some(w) = &coverage {
            print_all(quiet, "warning", w);
        }
        let n_fits = match streamed.n_fits {
            1 => "1 fit".to_string(),
            n => format!("{n} fits"),
        };
        let mut written = vec![(a.out.clone(), n_fits)];
        if let Some(p) = csv.as_ref().and_then(StreamSink::path) {
            written.push((p.to_path_buf(), "one row per fit".to_string()));
        }
        let mut streams = vec![json];
        streams.extend(csv);
        crate::output::commit_streams(streams)?;
        if let Some(t) = table {
            t.print(quiet)?;
        }
        for (path, what) in written.iter().filter(|(p, _)| p.as_os_str() != "-") {
            print_wrote(quiet, path, what);
        }
        Ok(())
    }
}

/// The rows of [`crate::export::aligned`] kept compactly (one string per row, cells separated
/// by U+001F) with the column widths so far; printed as `aligned` prints them.
struct Aligned {
    rows: Vec<String>,
    widths: Vec<usize>,
}

impl Aligned {
    fn new(header: Vec<String>) -> Aligned {
        let mut t = Aligned {
            rows: Vec::new(),
            widths: Vec::new(),
        };
        t.extend(vec![header]);
        t
    }

    fn extend(&mut self, rows: Vec<Vec<String>>) {
        for r in rows {
            if self.widths.len() < r.len() {
                self.widths.resize(r.len(), 0);
            }
            for (w, c) in self.widths.iter_mut().zip(&r) {
                *w = (*w).max(c.chars().count());
            }
            self.rows.push(r.join("\u{1f}"));
        }
    }

    /// Prints the table on stdout, a block of rows at a time.
    fn print(self, quiet: bool) -> Result<()> {
        use std::fmt::Write as _;
        let mut text = String::new();
        let mut line = String::new();
        for r in &self.rows {
            line.clear();
            for (j, cell) in r.split('\u{1f}').enumerate() {
                if j > 0 {
                    line.push_str("  ");
                }
                let _ = write!(line, "{cell:<w$}", w = self.widths[j]);
            }
            text.push_str(line.trim_end());
            text.push('\n');
            if text.len() >= 1 << 20 {
                print_out(quiet, &text)?;
                text.clear();
            }
        }
        print_out(quiet, &text)
    }
}
