//! `goodhart._goodhart`: the Python bindings of the goodhart library (PyO3).
//!
//! This is a front end beside the command line (`src/app/`): it turns Python arguments into the
//! library's typed options and calls the library, as the command line does, and returns
//! documents as JSON text and tables as Parquet bytes, which `python/goodhart/__init__.py` turns
//! into dicts and pyarrow/pandas tables. Tables given from Python arrive as files (the Python
//! layer writes in-memory tables to a temporary Parquet file), so that every reader, check and
//! error message is the command line's. The GIL is released while the library works.
//!
//! Errors become `goodhart.GoodhartError` subclasses with the command line's message (without
//! its `error: ` prefix): `UsageError` where the command line exits 2, `InputError` where it
//! exits 1.

use std::path::{Path, PathBuf};

use goodhart::bon::{BonOptions, BonPartial, CommonPrompts, KlChoice, PartialOptions};
use goodhart::document::{FitsDocument, ScalingDoc, SizeKey};
use goodhart::export::{CsvExporter, Exporter, TextReport};
use goodhart::fit::bootstrap::BootstrapInterval;
use goodhart::fit::{
    BaselineMode, FitOptions, TargetChoice, WeightsMode, compare_forms, fit_curves, fit_document,
    shared_alpha, summarize_warnings,
};
use goodhart::forms::FormId;
use goodhart::goodhart::{Reference, ReferenceChoice};
use goodhart::ingest::{ColumnMap, Format, KlUnit, LogFormat, LogOptions};
use goodhart::schema::Method;
use goodhart::{Error, Result};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

create_exception!(
    _goodhart,
    GoodhartError,
    PyException,
    "An error of goodhart, with the message the command line prints."
);
create_exception!(
    _goodhart,
    InputError,
    GoodhartError,
    "Bad input or an analysis that cannot be done (the command line exits 1)."
);
create_exception!(
    _goodhart,
    UsageError,
    GoodhartError,
    "A bad option (the command line exits 2)."
);

/// The command line's message of an error: the error, then each cause it does not already say.
fn message(err: &Error) -> String {
    let top = err.to_string();
    let mut text = top.clone();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !top.contains(&cause_text) {
            text.push_str("\n  caused by: ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

fn to_py(err: Error) -> PyErr {
    let text = message(&err);
    if err.exit_code() == 2 {
        UsageError::new_err(text)
    } else {
        InputError::new_err(text)
    }
}

fn usage(text: String) -> PyErr {
    to_py(Error::Usage(text))
}

fn paths(v: Vec<String>) -> Vec<PathBuf> {
    v.into_iter().map(PathBuf::from).collect()
}

/// Runs `work` without the GIL and converts its error.
fn detached<T: Send>(py: Python<'_>, work: impl FnOnce() -> Result<T> + Send) -> PyResult<T> {
    py.detach(work).map_err(to_py)
}

/// Log options of a Python call, as the command line's `LogArgs::options` builds them: `format`,
/// and `log`, a dict of the log flags (`--kl-key` is the key `kl_key`, ...; `None` values are
/// not given). Messages name the command-line flags.
fn log_options(format: Option<&str>, log: Option<&Bound<'_, PyDict>>) -> PyResult<LogOptions> {
    let format = match format.unwrap_or("auto") {
        "auto" => None,
        "tidy" => Some(LogFormat::Tidy),
        "trl" => Some(LogFormat::Trl),
        "wandb" => Some(LogFormat::Wandb),
        "tensorboard" => Some(LogFormat::Tensorboard),
        "verl" => Some(LogFormat::Verl),
        "bon-json" => Some(LogFormat::BonJson),
        other => {
            return Err(usage(format!(
                "format: unknown value '{other}' (expected auto, tidy, trl, wandb, tensorboard, verl or bon-json)"
            )));
        }
    };
    let mut opts = LogOptions {
        format,
        ..LogOptions::default()
    };
    let Some(log) = log else {
        return Ok(opts);
    };
    let number = |key: &str, v: &Bound<'_, PyAny>| -> PyResult<f64> {
        v.extract::<f64>().map_err(|_| {
            usage(format!(
                "--{}: '{v}' is not a number",
                key.replace('_', "-")
            ))
        })
    };
    let text = |key: &str, v: &Bound<'_, PyAny>| -> PyResult<String> {
        v.extract::<String>().map_err(|_| {
            usage(format!(
                "--{}: '{v}' is not a string",
                key.replace('_', "-")
            ))
        })
    };
    for (k, v) in log.iter() {
        let key: String = k.extract()?;
        if v.is_none() {
            continue;
        }
        match key.as_str() {
            "kl_key" => opts.keys.kl = Some(text(&key, &v)?),
            "proxy_key" => opts.keys.proxy = Some(text(&key, &v)?),
            "gold_key" => opts.keys.gold = Some(text(&key, &v)?),
            "step_key" => opts.keys.step = Some(text(&key, &v)?),
            "length_key" => opts.keys.length = Some(text(&key, &v)?),
            "kl_unit" => {
                opts.meta.kl_unit = Some(choice(
                    "--kl-unit",
                    &text(&key, &v)?,
                    &[("sequence", KlUnit::Sequence), ("token", KlUnit::Token)],
                )?)
            }
            "gold_from" => opts.gold_from = Some(PathBuf::from(text(&key, &v)?)),
            "join_tolerance" => opts.join_tolerance = number(&key, &v)?,
            "runs" => opts.runs = Some(PathBuf::from(text(&key, &v)?)),
            "meta" => opts.meta_file = Some(PathBuf::from(text(&key, &v)?)),
            "method" => {
                opts.meta.method = Some(choice(
                    "--method",
                    &text(&key, &v)?,
                    &[("rl", Method::Rl), ("bon", Method::Bon)],
                )?)
            }
            "rm_params" => {
                if v.extract::<Vec<f64>>().is_ok() {
                    return Err(usage(format!(
                        "--rm-params: '{v}' is a list: --rm-params gives the size of one log's proxy RM; for several runs, one size each, list the logs in a runs manifest (--runs runs.csv with columns log,run,rm_params)"
                    )));
                }
                opts.meta.rm_params = Some(number(&key, &v)?)
            }
            "kl_penalty" => opts.meta.kl_penalty = Some(number(&key, &v)?),
            "policy_params" => opts.meta.policy_params = Some(number(&key, &v)?),
            "rm_data" => opts.meta.rm_data = Some(number(&key, &v)?),
            "run" => opts.meta.run = Some(text(&key, &v)?),
            other => return Err(usage(format!("unknown log option '{other}'"))),
        }
    }
    if !(opts.join_tolerance.is_finite() && opts.join_tolerance >= 0.0) {
        return Err(usage(format!(
            "--join-tolerance must be a number of steps >= 0, not {}",
            opts.join_tolerance
        )));
    }
    if opts.gold_from.is_none() && opts.join_tolerance > 0.0 {
        return Err(usage(
            "--join-tolerance applies to --gold-from, which is not given".to_string(),
        ));
    }
    Ok(opts)
}

fn parquet(py: Python<'_>, table: &goodhart::output::OutTable) -> PyResult<Py<PyBytes>> {
    let bytes = table
        .to_bytes(Format::Parquet, Path::new("table.parquet"))
        .map_err(to_py)?;
    Ok(PyBytes::new(py, &bytes).unbind())
}

fn choice<T: Copy>(name: &str, value: &str, options: &[(&str, T)]) -> PyResult<T> {
    options
        .iter()
        .find(|(n, _)| *n == value)
        .map(|(_, v)| *v)
        .ok_or_else(|| {
            usage(format!(
                "{name}: unknown value '{value}' (expected {})",
                options
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}

/// The fits of Curves tables: (fits JSON, fits CSV bytes, text report, warnings).
#[pyfunction]
#[pyo3(signature = (curves, form="auto", target=None, baseline="auto", weights="auto",
    bootstrap=1000, seed=0, ci="percentile", min_kl=None, max_kl=None, holdout_above=None,
    share_alpha_rl=false, compare_forms=false, reference=None, reference_sd=None,
    format=None, log=None))]
#[allow(clippy::too_many_arguments)]
fn fit(
    py: Python<'_>,
    curves: Vec<String>,
    form: &str,
    target: Option<&str>,
    baseline: &str,
    weights: &str,
    bootstrap: usize,
    seed: u64,
    ci: &str,
    min_kl: Option<f64>,
    max_kl: Option<f64>,
    holdout_above: Option<f64>,
    share_alpha_rl: bool,
    compare_forms: bool,
    reference: Option<Vec<String>>,
    reference_sd: Option<(f64, f64)>,
    format: Option<&str>,
    log: Option<Bound<'_, PyDict>>,
) -> PyResult<(String, Py<PyBytes>, String, Vec<String>)> {
    for (name, v) in [
        ("min_kl", min_kl),
        ("max_kl", max_kl),
        ("holdout_above", holdout_above),
    ] {
        if let Some(v) = v
            && !(v.is_finite() && v >= 0.0)
        {
            return Err(usage(format!("{name} must be a number >= 0, not {v}")));
        }
    }
    if let (Some(lo), Some(hi)) = (min_kl, max_kl)
        && lo > hi
    {
        return Err(usage(format!("min_kl {lo} is above max_kl {hi}")));
    }
    let opts = FitOptions {
        form: choice(
            "form",
            form,
            &[
                ("auto", None),
                ("bon", Some(FormId::Bon)),
                ("rl", Some(FormId::Rl)),
                ("rl-log1p", Some(FormId::RlLog1p)),
                ("power", Some(FormId::Power)),
            ],
        )?,
        target: match target {
            None => TargetChoice::Auto,
            Some(t) => choice(
                "target",
                t,
                &[
                    ("gold", TargetChoice::Gold),
                    ("proxy", TargetChoice::Proxy),
                    ("both", TargetChoice::Both),
                ],
            )?,
        },
        baseline: choice(
            "baseline",
            baseline,
            &[("auto", BaselineMode::Auto), ("none", BaselineMode::None)],
        )?,
        min_kl,
        max_kl,
        holdout_above,
        weights: choice(
            "weights",
            weights,
            &[
                ("auto", WeightsMode::Auto),
                ("none", WeightsMode::None),
                ("se", WeightsMode::Se),
            ],
        )?,
        bootstrap,
        seed,
        interval: choice(
            "ci",
            ci,
            &[
                ("percentile", BootstrapInterval::Percentile),
                ("bca", BootstrapInterval::Bca),
            ],
        )?,
    };
    let logs = log_options(format, log.as_ref())?;
    let curves = paths(curves);
    let reference_paths = reference.map(paths);
    let (json, csv, text, warnings) = detached(py, move || {
        let mut warnings = Vec::new();
        let choice = match (&reference_paths, reference_sd) {
            (Some(p), _) if p.is_empty() => ReferenceChoice::RawOnly,
            (Some(p), sd) => {
                let (pools, notes) = goodhart::bon::read_samples(p, &[], &logs)?;
                warnings.extend(notes);
                let mut refs = goodhart::goodhart::references_from_samples(&pools)?;
                if let Some((proxy, gold)) = sd {
                    refs.push(Reference::given(proxy, gold)?);
                }
                ReferenceChoice::These(refs)
            }
            (None, Some((proxy, gold))) => {
                ReferenceChoice::These(vec![Reference::given(proxy, gold)?])
            }
            (None, None) => ReferenceChoice::Default,
        };
        let (curves, read_warnings, per_token) =
            goodhart::curves::read_curves_with_unit(&curves, &ColumnMap::default(), &logs)?;
        warnings.extend(read_warnings);
        let mut fits = fit_curves(&curves, &opts)?;
        let shared = if share_alpha_rl {
            shared_alpha::share_alpha_rl(&curves, &opts, &mut fits)?
        } else {
            Vec::new()
        };
        let comparison = if compare_forms {
            Some(compare_forms::compare_forms(&curves, &fits, &opts)?)
        } else {
            None
        };
        warnings.extend(summarize_warnings(&fits));
        let mut doc = fit_document(&fits, shared, comparison);
        let kl_unit = if per_token { "nats per token" } else { "nats" };
        if per_token {
            doc.kl_unit = Some(kl_unit.to_string());
        }
        let refs = choice.resolve(&[])?;
        let (decomposition, dec_warnings) = goodhart::goodhart::decompose(&mut doc, &curves, &refs);
        if choice != ReferenceChoice::RawOnly {
            warnings.extend(dec_warnings);
        }
        let mut text = String::from_utf8_lossy(&TextReport { kl_unit }.render(&fits)).into_owned();
        text.push_str(&shared_alpha::report(&doc.shared_fits));
        text.push_str(&goodhart::goodhart::report_text(&decomposition));
        if let Some(c) = &doc.form_comparison {
            text.push_str(&compare_forms::report(c));
        }
        let json = String::from_utf8_lossy(&doc.to_json()).into_owned();
        Ok((json, CsvExporter.render(&fits), text, warnings))
    })?;
    Ok((json, PyBytes::new(py, &csv).unbind(), text, warnings))
}

fn bon_options(
    n: Option<Vec<usize>>,
    bootstrap: usize,
    seed: u64,
    kl: &str,
    common_prompts: Option<&str>,
    prompt_values: bool,
) -> PyResult<PartialOptions> {
    Ok(PartialOptions {
        bon: BonOptions {
            n,
            bootstrap,
            seed,
            kl: choice(
                "kl",
                kl,
                &[("analytic", KlChoice::Analytic), ("pool", KlChoice::Pool)],
            )?,
        },
        common: common_prompts
            .map(|c| {
                choice(
                    "common_prompts",
                    c,
                    &[
                        ("truncate", CommonPrompts::Truncate),
                        ("complete", CommonPrompts::Complete),
                    ],
                )
            })
            .transpose()?,
        prompt_values,
    })
}

/// Best-of-n curves of Samples tables: (Curves table as Parquet bytes, notes).
#[pyfunction]
#[pyo3(signature = (samples, n=None, bootstrap=0, seed=0, kl="analytic", common_prompts=None,
    prompt_values=true, format=None, log=None))]
#[allow(clippy::too_many_arguments)]
fn bon(
    py: Python<'_>,
    samples: Vec<String>,
    n: Option<Vec<usize>>,
    bootstrap: usize,
    seed: u64,
    kl: &str,
    common_prompts: Option<&str>,
    prompt_values: bool,
    format: Option<&str>,
    log: Option<Bound<'_, PyDict>>,
) -> PyResult<(Py<PyBytes>, Vec<String>)> {
    let o = bon_options(n, bootstrap, seed, kl, common_prompts, prompt_values)?;
    let logs = log_options(format, log.as_ref())?;
    let samples = paths(samples);
    let (table, notes) = detached(py, move || {
        let (mut pools, mut notes) = goodhart::bon::read_samples(&samples, &[], &logs)?;
        if let Some(mode) = o.common {
            let (kept, common_notes) =
                goodhart::bon::common_prompts(pools, mode, o.bon.n.as_deref(), o.bon.seed)?;
            pools = kept;
            notes.extend(common_notes);
        }
        let curves = goodhart::bon::bon_curves(&pools, &o.bon)?;
        notes.extend(goodhart::bon::prompt_count_notes(&curves));
        let (table, table_notes) =
            goodhart::bon::curves_table_with(&curves, o.bon.kl, o.prompt_values);
        notes.extend(table_notes);
        Ok((table, notes))
    })?;
    Ok((parquet(py, &table)?, notes))
}

/// The partial table of Samples tables (mergeable best-of-n), as Parquet bytes, and notes.
#[pyfunction]
#[pyo3(signature = (samples, n=None, bootstrap=0, seed=0, kl="analytic", common_prompts=None,
    prompt_values=true, format=None, log=None))]
#[allow(clippy::too_many_arguments)]
fn bon_partial(
    py: Python<'_>,
    samples: Vec<String>,
    n: Option<Vec<usize>>,
    bootstrap: usize,
    seed: u64,
    kl: &str,
    common_prompts: Option<&str>,
    prompt_values: bool,
    format: Option<&str>,
    log: Option<Bound<'_, PyDict>>,
) -> PyResult<(Py<PyBytes>, Vec<String>)> {
    let o = bon_options(n, bootstrap, seed, kl, common_prompts, prompt_values)?;
    let logs = log_options(format, log.as_ref())?;
    let samples = paths(samples);
    let (table, notes) = detached(py, move || {
        let (pools, notes) = goodhart::bon::read_samples(&samples, &[], &logs)?;
        let partial = goodhart::bon::bon_partial(&pools, &o)?;
        Ok((partial.to_table(), notes))
    })?;
    Ok((parquet(py, &table)?, notes))
}

/// Merges partial tables: (Curves table as Parquet bytes, notes).
#[pyfunction]
fn bon_merge(py: Python<'_>, partials: Vec<String>) -> PyResult<(Py<PyBytes>, Vec<String>)> {
    let partials = paths(partials);
    let (table, notes) = detached(py, move || {
        let read = partials
            .iter()
            .map(|p| BonPartial::read(p))
            .collect::<Result<Vec<_>>>()?;
        let merged = goodhart::bon::bon_merge(&read)?;
        let (table, table_notes) = goodhart::bon::curves_table_with(
            &merged.curves,
            merged.options.bon.kl,
            merged.options.prompt_values,
        );
        let mut notes = merged.notes;
        notes.extend(table_notes);
        Ok((table, notes))
    })?;
    Ok((parquet(py, &table)?, notes))
}

/// Scaling laws of a fits JSON file: (scaling JSON, text report, warnings).
#[pyfunction]
#[pyo3(signature = (fits, by="rm_params", joint_curves=None, format=None, log=None))]
fn scale(
    py: Python<'_>,
    fits: String,
    by: &str,
    joint_curves: Option<Vec<String>>,
    format: Option<&str>,
    log: Option<Bound<'_, PyDict>>,
) -> PyResult<(String, String, Vec<String>)> {
    let logs = log_options(format, log.as_ref())?;
    let by = choice(
        "by",
        by,
        &[
            ("rm_params", SizeKey::RmParams),
            ("rm_data", SizeKey::RmData),
            ("policy_params", SizeKey::PolicyParams),
        ],
    )?;
    let joint_curves = joint_curves.map(paths);
    detached(py, move || {
        let fits = FitsDocument::read(Path::new(&fits))?;
        let mut doc = goodhart::scaling::scale(&fits, &goodhart::scaling::ScaleOptions { by })?;
        let mut warnings = Vec::new();
        if let Some(curves) = joint_curves {
            let (curves, w) = goodhart::curves::read_curves(&curves, &ColumnMap::default(), &logs)?;
            warnings.extend(w);
            let (joint, laws) = goodhart::scaling::joint::joint_fits(&curves, by)?;
            doc.joint = joint;
            doc.laws.extend(laws);
        }
        warnings.extend(doc.warnings.iter().cloned());
        let report = goodhart::scaling::report(&doc);
        Ok((
            String::from_utf8_lossy(&doc.to_json()).into_owned(),
            report,
            warnings,
        ))
    })
}

/// Predictions from a scaling JSON file: (predictions JSON, table as Parquet bytes, summary,
/// warnings).
#[pyfunction]
#[pyo3(signature = (scaling, rm_params, method=None, kl=None, iterations=None, model="log-linear"))]
fn predict(
    py: Python<'_>,
    scaling: String,
    rm_params: Vec<f64>,
    method: Option<&str>,
    kl: Option<&str>,
    iterations: Option<u32>,
    model: &str,
) -> PyResult<(String, Py<PyBytes>, String, Vec<String>)> {
    use goodhart::scaling::predict::{LawModel, PredictOptions, parse_kl_grid};
    if rm_params.is_empty() {
        return Err(usage(
            "predict: give rm_params, the reward-model sizes to predict".to_string(),
        ));
    }
    let kl = kl.map(parse_kl_grid).transpose().map_err(to_py)?;
    let opts = PredictOptions {
        sizes: rm_params,
        method: method
            .map(|m| choice("method", m, &[("bon", Method::Bon), ("rl", Method::Rl)]))
            .transpose()?,
        kl,
        iterations,
        model: choice(
            "model",
            model,
            &[
                ("log-linear", LawModel::LogLinear),
                ("power", LawModel::Power),
                ("joint", LawModel::Joint),
            ],
        )?,
    };
    let (json, table, summary, warnings) = detached(py, move || {
        let doc = ScalingDoc::read(Path::new(&scaling))?;
        let pred = goodhart::scaling::predict::predict(&doc, &opts)?;
        let warnings = goodhart::scaling::predict::warning_lines(&pred, usize::MAX);
        Ok((
            String::from_utf8_lossy(&pred.to_json()).into_owned(),
            goodhart::scaling::predict::table(&pred),
            goodhart::scaling::predict::summary(&pred),
            warnings,
        ))
    })?;
    Ok((json, parquet(py, &table)?, summary, warnings))
}

/// Converts logs to the canonical table written to `out`: (kind of table, rows, warnings).
#[pyfunction]
#[pyo3(signature = (paths_in, out, format=None, log=None))]
fn read_log(
    py: Python<'_>,
    paths_in: Vec<String>,
    out: String,
    format: Option<&str>,
    log: Option<Bound<'_, PyDict>>,
) -> PyResult<(String, usize, Vec<String>)> {
    let logs = log_options(format, log.as_ref())?;
    let inputs = paths(paths_in);
    detached(py, move || {
        let s = goodhart::convert::convert(&inputs, Path::new(&out), &[], &logs)?;
        let mut warnings = s.warnings;
        warnings.extend(s.notes);
        Ok((s.table.to_string(), s.rows, warnings))
    })
}

/// Writes the report (report.html, report.md, figures) into the existing folder `out`:
/// (files written, notes).
#[pyfunction]
#[pyo3(signature = (curves, out, samples=None, fits=None, scaling=None, format=None, log=None))]
#[allow(clippy::too_many_arguments)]
fn report(
    py: Python<'_>,
    curves: Vec<String>,
    out: String,
    samples: Option<Vec<String>>,
    fits: Option<String>,
    scaling: Option<String>,
    format: Option<&str>,
    log: Option<Bound<'_, PyDict>>,
) -> PyResult<(Vec<String>, Vec<String>)> {
    let logs = log_options(format, log.as_ref())?;
    let curves = paths(curves);
    let samples = paths(samples.unwrap_or_default());
    detached(py, move || {
        let out = PathBuf::from(out);
        if !out.is_dir() {
            return Err(Error::Write {
                path: out.clone(),
                source: std::io::Error::other("not an existing folder (create it first)"),
            });
        }
        let (curve_list, mut notes) =
            goodhart::curves::read_curves(&curves, &ColumnMap::default(), &logs)?;
        let pools = if samples.is_empty() {
            Vec::new()
        } else {
            let (pools, n) = goodhart::bon::read_samples(&samples, &[], &logs)?;
            notes.extend(n);
            pools
        };
        let fits_doc = fits
            .as_deref()
            .map(Path::new)
            .map(FitsDocument::read)
            .transpose()?;
        let scaling_doc = scaling
            .as_deref()
            .map(Path::new)
            .map(ScalingDoc::read)
            .transpose()?;
        let mut files: Vec<(&'static str, PathBuf)> =
            curves.iter().map(|p| ("curves", p.clone())).collect();
        files.extend(samples.iter().map(|p| ("samples", p.clone())));
        files.extend(fits.iter().map(|p| ("fits", PathBuf::from(p))));
        files.extend(scaling.iter().map(|p| ("scaling", PathBuf::from(p))));
        let provenance = goodhart::report::Provenance::for_paths(
            "goodhart.report (Python)".to_string(),
            None,
            &files,
        )?;
        let analysis = goodhart::report::analysis::analyse_with(
            &curve_list,
            &pools,
            fits_doc,
            scaling_doc,
            &ReferenceChoice::Default,
            false,
        )?;
        let written = goodhart::report::write_report(
            &out,
            "goodhart report",
            &curve_list,
            &analysis,
            provenance,
        )?;
        notes.extend(analysis.notes.iter().cloned());
        Ok((
            written.iter().map(|p| p.display().to_string()).collect(),
            notes,
        ))
    })
}

/// Simulates a world with known truth into the folder `out` (as `goodhart generate sim`):
/// the files written.
#[pyfunction]
#[pyo3(signature = (out, preset="small", seed=0, prompts=None, samples_per_prompt=None))]
fn generate_sim(
    py: Python<'_>,
    out: String,
    preset: &str,
    seed: u64,
    prompts: Option<usize>,
    samples_per_prompt: Option<usize>,
) -> PyResult<Vec<String>> {
    use goodhart::generate::sim::{Preset, Progress, SIM_FILES, SimSpec, write_world};
    let mut spec = SimSpec::preset(choice(
        "preset",
        preset,
        &[("small", Preset::Small), ("paper", Preset::Paper)],
    )?);
    spec.seed = seed;
    if let Some(p) = prompts {
        spec.prompts = p;
    }
    if let Some(s) = samples_per_prompt {
        spec.samples_per_prompt = s;
    }
    detached(py, move || {
        let dir = PathBuf::from(out);
        write_world(&spec, &dir, Progress::hidden())?;
        Ok(SIM_FILES
            .iter()
            .map(|f| dir.join(f).display().to_string())
            .collect())
    })
}

/// The version of the goodhart library this module was built from.
#[pyfunction]
fn version() -> String {
    goodhart::version::VERSION_STRING.to_string()
}

#[pymodule]
fn _goodhart(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("GoodhartError", py.get_type::<GoodhartError>())?;
    m.add("InputError", py.get_type::<InputError>())?;
    m.add("UsageError", py.get_type::<UsageError>())?;
    m.add_function(wrap_pyfunction!(fit, m)?)?;
    m.add_function(wrap_pyfunction!(bon, m)?)?;
    m.add_function(wrap_pyfunction!(bon_partial, m)?)?;
    m.add_function(wrap_pyfunction!(bon_merge, m)?)?;
    m.add_function(wrap_pyfunction!(scale, m)?)?;
    m.add_function(wrap_pyfunction!(predict, m)?)?;
    m.add_function(wrap_pyfunction!(read_log, m)?)?;
    m.add_function(wrap_pyfunction!(report, m)?)?;
    m.add_function(wrap_pyfunction!(generate_sim, m)?)?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    Ok(())
}
