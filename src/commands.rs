//! What each subcommand does, as library calls: read, analyse, write, report.

use std::path::{Path, PathBuf};

use crate::cli::{
    BaselineArg, Cli, Command, FitArgs, FormArg, GenerateKind, LawArgs, MethodArg, TargetArg,
};
use crate::curves::read_curves_reporting;
use crate::error::{Error, Result};
use crate::export::{CsvExporter, Exporter, JsonExporter, TextReport};
use crate::fit::{BaselineMode, FitOptions, TargetChoice, fit_curves, summarize_warnings};
use crate::forms::FormId;
use crate::generate::law::{Coefficient, LawSpec};
use crate::ingest::ColumnMap;
use crate::output::{Sink, write_stdout};
use crate::schema::{CURVES, Method};

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    let quiet = cli.quiet;
    match cli.command {
        Command::Demo(a) => {
            let progress = crate::generate::sim::Progress::for_terminal(quiet);
            let summary = crate::demo::run_demo(&a.out, a.seed, progress)?;
            if !quiet {
                write_stdout(summary.to_string().as_bytes())?;
            }
            Ok(())
        }
        Command::Generate(GenerateKind::Law(a)) => generate_law(&a, quiet),
        Command::Generate(GenerateKind::Sim(a)) => crate::generate::sim::command(&a, quiet),
        Command::Inspect(a) => {
            let opts = a.log.options()?;
            let map = match opts.format {
                Some(crate::ingest::LogFormat::BonJson) => ColumnMap::default(),
                _ => ColumnMap::parse(&a.map, CURVES)?,
            };
            let report = crate::inspect::inspect_logs(&a.files, &map, &a.map, &opts)?;
            if !quiet {
                write_stdout(report.to_string().as_bytes())?;
            }
            if report.is_fittable() {
                Ok(())
            } else {
                Err(Error::Analysis(format!(
                    "{}: {} problem(s) would stop a fit (listed above)",
                    report.path.display(),
                    report.problems.len()
                )))
            }
        }
        Command::Fit(a) => fit(&a, quiet),
        Command::Bon(a) => crate::bon::command(&a, quiet),
        Command::Convert(a) => crate::convert::command(&a, quiet),
        Command::Scale(a) => crate::scaling::command_scale(&a, quiet),
        Command::Predict(a) => crate::scaling::predict::command(&a, quiet),
        Command::Report(a) => crate::report::command(&a, quiet),
    }
}

/// Refuses an output path that is one of the inputs: inputs are never modified.
pub(crate) fn ensure_not_input(out: &Path, inputs: &[PathBuf]) -> Result<()> {
    if out.as_os_str() == "-" {
        return Ok(());
    }
    let Ok(out_c) = out.canonicalize() else {
        return Ok(());
    };
    for input in inputs {
        if input.canonicalize().is_ok_and(|i| i == out_c) {
            return Err(Error::Usage(format!(
                "output {} is also an input; choose another output path",
                out.display()
            )));
        }
    }
    Ok(())
}

fn fit_options(a: &FitArgs) -> Result<FitOptions> {
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
    })
}

fn fit(a: &FitArgs, quiet: bool) -> Result<()> {
    let map = ColumnMap::parse(&a.map, CURVES)?;
    let opts = fit_options(a)?;
    ensure_not_input(&a.out, &a.curves)?;
    if let Some(csv) = &a.csv {
        ensure_not_input(csv, &a.curves)?;
    }
    // Create the outputs first, so that a bad path fails before any work.
    let out = Sink::create(&a.out)?;
    let csv = a.csv.as_deref().map(Sink::create).transpose()?;
    let (curves, read_warnings) = read_curves_reporting(&a.curves, &map, &a.log.options()?)?;
    if !quiet {
        for w in &read_warnings {
            eprintln!("warning: {w}");
        }
    }
    let mut fits = fit_curves(&curves, &opts)?;
    let shared = if a.share_alpha_rl {
        crate::shared_alpha::share_alpha_rl(&curves, &opts, &mut fits)?
    } else {
        Vec::new()
    };
    let comparison = if a.compare_forms {
        Some(crate::compare_forms::compare_forms(&curves, &fits, &opts)?)
    } else {
        None
    };
    if !quiet {
        for w in summarize_warnings(&fits) {
            eprintln!("warning: {w}");
        }
    }
    let to_stdout = out.path().is_none();
    let mut top: Vec<(&str, serde_json::Value)> = comparison
        .iter()
        .map(|c| {
            (
                "form_comparison",
                serde_json::to_value(c).unwrap_or(serde_json::Value::Null),
            )
        })
        .collect();
    let json = JsonExporter.render(&fits);
    // The decomposition works from the fits as the JSON gives them (one code path with report);
    // it is an addition, so a record it cannot read leaves it out rather than failing the fit.
    // Only proxy fits can be decomposed: without any, the 17 MB of a large fits JSON are not
    // parsed back.
    let decomposition = if fits.iter().any(|f| f.target == crate::fit::Target::Proxy) {
        let records = crate::scaling::parse_fits(&json, &a.out).unwrap_or_default();
        crate::goodhart::from_fits(&curves, &records)
    } else {
        Vec::new()
    };
    if !decomposition.is_empty() {
        top.push(("decomposition", crate::goodhart::to_json(&decomposition)));
    }
    // Both outputs or neither: a failure writing one leaves no other in place.
    let json = crate::shared_alpha::extend_fits_json(json, &shared, top);
    let csv_bytes = csv.as_ref().map(|_| CsvExporter.render(&fits));
    let mut outputs = vec![(out, json.as_slice())];
    if let (Some(csv), Some(bytes)) = (csv, csv_bytes.as_deref()) {
        outputs.push((csv, bytes));
    }
    crate::output::commit_all(outputs)?;
    if !quiet && !to_stdout {
        write_stdout(&TextReport.render(&fits))?;
        write_stdout(crate::goodhart::report_text(&decomposition).as_bytes())?;
        if let Some(c) = &comparison {
            write_stdout(crate::compare_forms::report(c).as_bytes())?;
        }
    }
    Ok(())
}

fn coefficient(
    name: &str,
    values: &[f64],
    law: &[f64],
    default: Coefficient,
) -> Result<Coefficient> {
    match (values.is_empty(), law.len()) {
        (false, _) => Ok(Coefficient::Values(values.to_vec())),
        (true, 0) => Ok(default),
        (true, 2) => Ok(Coefficient::LogLinear {
            a: law[0],
            b: law[1],
        }),
        (true, k) => Err(Error::Usage(format!(
            "--{name}-law takes two numbers a,b (c = a + b*log10(rm_params)), not {k}"
        ))),
    }
}

/// The generator settings a `generate law` command line describes.
pub fn law_spec(a: &LawArgs) -> Result<LawSpec> {
    let d = LawSpec::default();
    Ok(LawSpec {
        methods: match a.method {
            MethodArg::Bon => vec![Method::Bon],
            MethodArg::Rl => vec![Method::Rl],
            MethodArg::Both => vec![Method::Bon, Method::Rl],
        },
        rm_params: if a.rm_params.is_empty() {
            d.rm_params
        } else {
            a.rm_params.clone()
        },
        bon_alpha: coefficient("bon-alpha", &a.bon_alpha, &a.bon_alpha_law, d.bon_alpha)?,
        bon_beta: coefficient("bon-beta", &a.bon_beta, &a.bon_beta_law, d.bon_beta)?,
        rl_alpha: coefficient("rl-alpha", &a.rl_alpha, &a.rl_alpha_law, d.rl_alpha)?,
        rl_beta: coefficient("rl-beta", &a.rl_beta, &a.rl_beta_law, d.rl_beta)?,
        kl_max_bon: a.kl_max_bon,
        kl_max_rl: a.kl_max_rl,
        points: a.points,
        baseline_points: a.baseline_points,
        noise: a.noise,
        with_se: a.with_se,
        seed: a.seed,
    })
}

fn generate_law(a: &LawArgs, quiet: bool) -> Result<()> {
    let spec = law_spec(a)?;
    let out = Sink::create(&a.out)?;
    let table = spec.generate()?;
    let bytes = table.to_bytes_for(&a.out)?;
    let rows = table.n_rows();
    let target = out.path().map(|p| p.display().to_string());
    out.commit(&bytes)?;
    if !quiet && let Some(t) = target {
        eprintln!("wrote {rows} rows to {t}");
    }
    Ok(())
}
