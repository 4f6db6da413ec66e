//! Fit results as files and reports: the fits JSON contract, a flat CSV, an lmfit-style text
//! report and a Markdown table, all behind one [`Exporter`] trait.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::fit::{CurveFit, FittedForm};
use crate::forms::Peak;
use crate::output::{OutColumn, OutTable};
use crate::schema::fmt_num;

/// The version written into every output file.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Turns a set of fits into the bytes of one output.
pub trait Exporter {
    fn render(&self, fits: &[CurveFit]) -> Vec<u8>;
}

/// The fits JSON of DESIGN.md.
pub struct JsonExporter;
/// One row per fit, parameters flattened (`alpha`, `alpha_se`, ...).
pub struct CsvExporter;
/// The lmfit-style report printed by `goodhart fit`.
pub struct TextReport;
/// A Markdown table of all fits.
pub struct MarkdownReport;

#[derive(Serialize)]
struct ParamJson {
    value: f64,
    se: Option<f64>,
    ci_low: Option<f64>,
    ci_high: Option<f64>,
}

#[derive(Serialize)]
struct HoldoutJson {
    above_kl: f64,
    points: usize,
    rmse: Option<f64>,
    max_abs_error: Option<f64>,
}

#[derive(Serialize)]
struct BaselineJson {
    points: usize,
    value: f64,
    se: Option<f64>,
}

#[derive(Serialize)]
struct FitJson {
    method: &'static str,
    rm_params: f64,
    policy_params: Option<f64>,
    rm_data: Option<f64>,
    kl_penalty: Option<f64>,
    target: &'static str,
    form: &'static str,
    formula: &'static str,
    params: BTreeMap<&'static str, ParamJson>,
    n_points: usize,
    r2: Option<f64>,
    rmse: Option<f64>,
    aic: Option<f64>,
    bic: Option<f64>,
    peak: Option<Peak>,
    holdout: Option<HoldoutJson>,
    converged: bool,
    message: Option<String>,
    dof: Option<usize>,
    chisqr: Option<f64>,
    redchi: Option<f64>,
    correlations: BTreeMap<String, f64>,
    covariance: Option<Vec<Vec<f64>>>,
    condition_number: Option<f64>,
    ci_method: &'static str,
    /// Replicate fits behind percentile intervals (`ci_method` "bootstrap"); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    bootstrap_replicates: Option<usize>,
    ci_level: f64,
    weighted: bool,
    baseline: Option<BaselineJson>,
    kl_min: f64,
    kl_max: f64,
}

#[derive(Serialize)]
struct FitsDocument {
    goodhart_version: &'static str,
    fits: Vec<FitJson>,
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

fn message(fit: &CurveFit) -> Option<String> {
    let notes: Vec<String> = match &fit.outcome {
        Ok(f) => f.notes.clone(),
        Err(reason) => vec![reason.clone()],
    };
    (!notes.is_empty()).then(|| notes.join("; "))
}

fn correlations(f: &FittedForm) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for i in 0..f.params.len() {
        for j in i + 1..f.params.len() {
            if let Some(c) = f.correlation(i, j) {
                out.insert(format!("{},{}", f.params[i].name, f.params[j].name), c);
            }
        }
    }
    out
}

fn fit_json(fit: &CurveFit) -> FitJson {
    let form = fit.form.form();
    let f = fit.fitted();
    FitJson {
        method: fit.key.method.as_str(),
        rm_params: fit.key.rm_params,
        policy_params: fit.key.policy_params,
        rm_data: fit.key.rm_data,
        kl_penalty: fit.key.kl_penalty,
        target: fit.target.as_str(),
        form: form.id(),
        formula: form.formula(),
        params: f
            .map(|f| {
                f.params
                    .iter()
                    .map(|p| {
                        (
                            p.name,
                            ParamJson {
                                value: p.value,
                                se: p.se,
                                ci_low: p.ci_low,
                                ci_high: p.ci_high,
                            },
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
        n_points: f.map_or(0, |f| f.stats.n_points),
        r2: f.and_then(|f| finite(f.stats.r2)),
        rmse: f.map(|f| f.stats.rmse),
        aic: f.map(|f| f.stats.aic),
        bic: f.map(|f| f.stats.bic),
        peak: f.and_then(FittedForm::peak),
        holdout: fit.holdout.map(|h| HoldoutJson {
            above_kl: h.above_kl,
            points: h.points,
            rmse: h.rmse,
            max_abs_error: h.max_abs_error,
        }),
        converged: f.is_some(),
        message: message(fit),
        dof: f.map(|f| f.stats.dof),
        chisqr: f.map(|f| f.stats.chisqr),
        redchi: f.and_then(|f| f.stats.redchi),
        correlations: f.map(correlations).unwrap_or_default(),
        covariance: f.and_then(|f| {
            f.covariance.as_ref().map(|c| {
                (0..c.nrows())
                    .map(|i| (0..c.ncols()).map(|j| c[(i, j)]).collect())
                    .collect()
            })
        }),
        condition_number: f.and_then(|f| finite(f.stats.condition_number)),
        ci_method: if fit.bootstrap_replicates.is_some() {
            "bootstrap"
        } else {
            "t"
        },
        bootstrap_replicates: fit.bootstrap_replicates,
        ci_level: 0.95,
        weighted: fit.weighted,
        baseline: fit.baseline.map(|b| BaselineJson {
            points: b.points,
            value: b.value,
            se: b.se,
        }),
        kl_min: fit.kl_range.0,
        kl_max: fit.kl_range.1,
    }
}

impl Exporter for JsonExporter {
    /// The same bytes as `serde_json::to_vec_pretty` of the whole document, but each fit is
    /// serialised on its own, in parallel, and indented into place.
    fn render(&self, fits: &[CurveFit]) -> Vec<u8> {
        use rayon::prelude::*;
        let head = FitsDocument {
            goodhart_version: VERSION,
            fits: Vec::new(),
        };
        // Plain structs of numbers and strings always serialise.
        let head = serde_json::to_vec_pretty(&head).expect("fits serialise to JSON");
        if fits.is_empty() {
            let mut bytes = head;
            bytes.push(b'\n');
            return bytes;
        }
        let parts: Vec<Vec<u8>> = fits
            .par_iter()
            .map(|f| {
                let one =
                    // Cannot fail: plain structs of numbers and strings always serialise.
                    serde_json::to_vec_pretty(&fit_json(f)).expect("a fit serialises to JSON");
                // JSON strings hold no raw newline, so every newline starts a line to indent.
                let mut out = Vec::with_capacity(one.len() + one.len() / 8);
                out.extend_from_slice(b"    ");
                for &c in &one {
                    out.push(c);
                    if c == b'\n' {
                        out.extend_from_slice(b"    ");
                    }
                }
                out
            })
            .collect();
        // `head` ends with `"fits": []\n}`; open the array there and fill it.
        let open = head.len() - b"[]\n}".len();
        let mut bytes = Vec::with_capacity(parts.iter().map(Vec::len).sum::<usize>() + 64);
        bytes.extend_from_slice(&head[..open]);
        bytes.extend_from_slice(b"[\n");
        for (i, p) in parts.iter().enumerate() {
            bytes.extend_from_slice(p);
            bytes.extend_from_slice(if i + 1 < parts.len() { b",\n" } else { b"\n" });
        }
        bytes.extend_from_slice(b"  ]\n}\n");
        bytes
    }
}

/// The flat fits table (one row per fit), shared by the CSV exporter and tests.
pub fn fits_table(fits: &[CurveFit]) -> OutTable {
    let mut names: Vec<&'static str> = Vec::new();
    for f in fits {
        for &n in f.form.form().param_names() {
            if !names.contains(&n) {
                names.push(n);
            }
        }
    }
    let num =
        |g: &dyn Fn(&CurveFit) -> Option<f64>| OutColumn::Number(fits.iter().map(g).collect());
    let text =
        |g: &dyn Fn(&CurveFit) -> Option<String>| OutColumn::Text(fits.iter().map(g).collect());
    let int =
        |g: &dyn Fn(&CurveFit) -> Option<i64>| OutColumn::Integer(fits.iter().map(g).collect());
    let stat = |g: fn(&FittedForm) -> Option<f64>| num(&|c: &CurveFit| c.fitted().and_then(g));
    let mut t = OutTable::default();
    t.push("method", text(&|c| Some(c.key.method.as_str().to_string())));
    t.push("rm_params", num(&|c| Some(c.key.rm_params)));
    t.push("policy_params", num(&|c| c.key.policy_params));
    t.push("rm_data", num(&|c| c.key.rm_data));
    t.push("kl_penalty", num(&|c| c.key.kl_penalty));
    t.push("target", text(&|c| Some(c.target.as_str().to_string())));
    t.push("form", text(&|c| Some(c.form.form().id().to_string())));
    t.push(
        "n_points",
        int(&|c| c.fitted().map(|f| f.stats.n_points as i64)),
    );
    t.push("dof", int(&|c| c.fitted().map(|f| f.stats.dof as i64)));
    for name in names {
        let param = move |c: &CurveFit| {
            c.fitted()
                .and_then(|f| f.params.iter().find(|p| p.name == name).cloned())
        };
        t.push(name, num(&|c| param(c).map(|p| p.value)));
        t.push(&format!("{name}_se"), num(&|c| param(c).and_then(|p| p.se)));
        t.push(
            &format!("{name}_ci_low"),
            num(&|c| param(c).and_then(|p| p.ci_low)),
        );
        t.push(
            &format!("{name}_ci_high"),
            num(&|c| param(c).and_then(|p| p.ci_high)),
        );
    }
    t.push("r2", stat(|f| finite(f.stats.r2)));
    t.push("rmse", stat(|f| Some(f.stats.rmse)));
    t.push("chisqr", stat(|f| Some(f.stats.chisqr)));
    t.push("redchi", stat(|f| f.stats.redchi));
    t.push("aic", stat(|f| Some(f.stats.aic)));
    t.push("bic", stat(|f| Some(f.stats.bic)));
    t.push("corr_alpha_beta", stat(|f| f.correlation(0, 1)));
    t.push("peak_d", stat(|f| f.peak().map(|p| p.d)));
    t.push("peak_kl", stat(|f| f.peak().map(|p| p.kl)));
    t.push("peak_score", stat(|f| f.peak().map(|p| p.score)));
    t.push(
        "baseline_points",
        int(&|c| c.baseline.map(|b| b.points as i64)),
    );
    t.push("baseline_value", num(&|c| c.baseline.map(|b| b.value)));
    t.push("kl_min", num(&|c| Some(c.kl_range.0)));
    t.push("kl_max", num(&|c| Some(c.kl_range.1)));
    t.push("holdout_above_kl", num(&|c| c.holdout.map(|h| h.above_kl)));
    t.push(
        "holdout_points",
        int(&|c| c.holdout.map(|h| h.points as i64)),
    );
    t.push("holdout_rmse", num(&|c| c.holdout.and_then(|h| h.rmse)));
    t.push(
        "holdout_max_abs_error",
        num(&|c| c.holdout.and_then(|h| h.max_abs_error)),
    );
    t.push(
        "converged",
        text(&|c| Some(c.fitted().is_some().to_string())),
    );
    t.push("message", text(&message));
    t
}

impl Exporter for CsvExporter {
    fn render(&self, fits: &[CurveFit]) -> Vec<u8> {
        fits_table(fits)
            .to_bytes(crate::ingest::Format::Csv, std::path::Path::new("fits.csv"))
            // Cannot fail: a CSV of plain cells into a Vec in memory has no I/O error and no bad cell.
            .expect("CSV of plain cells renders in memory")
    }
}

/// A number with 6 significant digits, like C's `%g`.
pub fn g6(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let e = x.abs().log10().floor() as i32;
    if !(-4..6).contains(&e) {
        let s = format!("{x:.5e}");
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let mant = mant.trim_end_matches('0').trim_end_matches('.');
        format!("{mant}e{exp}")
    } else {
        let s = format!("{:.*}", (5 - e).max(0) as usize, x);
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    }
}

fn pct(value: f64, se: f64) -> String {
    if value == 0.0 {
        "n/a".to_string()
    } else {
        format!("{:.2}%", 100.0 * se / value.abs())
    }
}

fn baseline_text(fit: &CurveFit) -> String {
    match fit.baseline {
        Some(b) => format!(
            "mean of {} point(s) at kl = 0 ({}{}) subtracted; its uncertainty is in the error bars",
            b.points,
            g6(b.value),
            b.se.map_or(String::new(), |se| format!(" ± {}", g6(se)))
        ),
        None => "none (scores used as they are)".to_string(),
    }
}

impl Exporter for TextReport {
    fn render(&self, fits: &[CurveFit]) -> Vec<u8> {
        let mut s = String::new();
        for fit in fits {
            let form = fit.form.form();
            let _ = writeln!(s, "[[Fit]] {}  target: {}", fit.key, fit.target.as_str());
            let _ = writeln!(
                s,
                "    form               = {}: {}",
                form.id(),
                form.formula()
            );
            let _ = writeln!(s, "    baseline           = {}", baseline_text(fit));
            let _ = writeln!(
                s,
                "    weights            = {}",
                if fit.weighted {
                    format!("1/{}_se^2", fit.target.as_str())
                } else {
                    "none".to_string()
                }
            );
            let f = match &fit.outcome {
                Ok(f) => f,
                Err(reason) => {
                    let _ = writeln!(s, "[[Result]]\n    no fit: {reason}\n");
                    continue;
                }
            };
            let st = &f.stats;
            let _ = writeln!(s, "[[Fit Statistics]]");
            let _ = writeln!(
                s,
                "    data points        = {} (kl {} .. {} nats)",
                st.n_points,
                g6(fit.kl_range.0),
                g6(fit.kl_range.1)
            );
            let _ = writeln!(s, "    degrees of freedom = {}", st.dof);
            let _ = writeln!(s, "    chi-square         = {}", g6(st.chisqr));
            let _ = writeln!(
                s,
                "    reduced chi-square = {}",
                st.redchi.map_or("n/a".to_string(), g6)
            );
            let _ = writeln!(s, "    R-squared          = {}", g6(st.r2));
            let _ = writeln!(s, "    RMSE               = {}", g6(st.rmse));
            let _ = writeln!(s, "    Akaike info crit   = {}", g6(st.aic));
            let _ = writeln!(s, "    Bayesian info crit = {}", g6(st.bic));
            let _ = writeln!(s, "[[Variables]]");
            if let Some(b) = fit.bootstrap_replicates {
                let _ = writeln!(
                    s,
                    "    (95% CI: percentiles of {b} bootstrap replicate fits)"
                );
            }
            for p in &f.params {
                match (p.se, p.ci_low, p.ci_high) {
                    (Some(se), Some(lo), Some(hi)) => {
                        let _ = writeln!(
                            s,
                            "    {:<6} {:>12} ± {:<11} ({})  95% CI [{}, {}]",
                            format!("{}:", p.name),
                            g6(p.value),
                            g6(se),
                            pct(p.value, se),
                            g6(lo),
                            g6(hi)
                        );
                    }
                    _ => {
                        let _ = writeln!(
                            s,
                            "    {:<6} {:>12} (error bars not available)",
                            format!("{}:", p.name),
                            g6(p.value)
                        );
                    }
                }
            }
            let corr = correlations(f);
            if !corr.is_empty() {
                let _ = writeln!(s, "[[Correlations]]");
                for (pair, c) in corr {
                    let (a, b) = pair.split_once(',').unwrap_or((&pair, ""));
                    let _ = writeln!(s, "    C({a}, {b}) = {c:+.4}");
                }
            }
            let _ = writeln!(s, "[[Peak]]");
            match f.peak() {
                Some(p) => {
                    let _ = writeln!(
                        s,
                        "    d* = {}, KL* = {} nats, {}* = {}",
                        g6(p.d),
                        g6(p.kl),
                        fit.target.as_str(),
                        g6(p.score)
                    );
                }
                None => {
                    let _ = writeln!(
                        s,
                        "    none: the fitted curve does not turn down for d > 0 (beta <= 0{})",
                        if form.id() == "bon" {
                            ", or alpha <= 0"
                        } else {
                            ""
                        }
                    );
                }
            }
            if let Some(h) = fit.holdout {
                let _ = writeln!(
                    s,
                    "[[Holdout]] kl > {}: {} point(s), RMSE {}, max |error| {}",
                    g6(h.above_kl),
                    h.points,
                    h.rmse.map_or("n/a".to_string(), g6),
                    h.max_abs_error.map_or("n/a".to_string(), g6)
                );
            }
            if !f.notes.is_empty() {
                let _ = writeln!(s, "[[Notes]]");
                for n in &f.notes {
                    let _ = writeln!(s, "    {n}");
                }
            }
            s.push('\n');
        }
        s.into_bytes()
    }
}

fn pm(p: Option<&crate::fit::ParamEstimate>) -> String {
    match p {
        Some(p) => match p.se {
            Some(se) => format!("{} ± {}", g6(p.value), g6(se)),
            None => g6(p.value),
        },
        None => String::new(),
    }
}

impl Exporter for MarkdownReport {
    fn render(&self, fits: &[CurveFit]) -> Vec<u8> {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "| method | rm_params | other keys | target | form | alpha | beta | points | R² | RMSE | peak KL | peak score |"
        );
        let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|---|---|---|");
        for fit in fits {
            let mut other = Vec::new();
            for (n, v) in [
                ("policy_params", fit.key.policy_params),
                ("rm_data", fit.key.rm_data),
                ("kl_penalty", fit.key.kl_penalty),
            ] {
                if let Some(v) = v {
                    other.push(format!("{n}={}", fmt_num(v)));
                }
            }
            let f = fit.fitted();
            let peak = f.and_then(FittedForm::peak);
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                fit.key.method,
                fmt_num(fit.key.rm_params),
                other.join(" "),
                fit.target.as_str(),
                fit.form.form().id(),
                pm(f.and_then(|f| f.params.first())),
                pm(f.and_then(|f| f.params.get(1))),
                f.map_or(0, |f| f.stats.n_points),
                f.map_or("no fit".to_string(), |f| format!("{:.4}", f.stats.r2)),
                f.map_or(String::new(), |f| g6(f.stats.rmse)),
                peak.map_or("none".to_string(), |p| g6(p.kl)),
                peak.map_or("none".to_string(), |p| g6(p.score)),
            );
        }
        s.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::g6;

    #[test]
    fn parallel_json_equals_serde_pretty() -> Result<(), Box<dyn std::error::Error>> {
        use super::*;
        use crate::curves::CurvesTable;
        use crate::generate::law::LawSpec;
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("l.csv");
        std::fs::write(&path, LawSpec::default().generate()?.to_bytes_for(&path)?)?;
        let t = CurvesTable::read(&path, &crate::ingest::ColumnMap::default())?;
        let fits = crate::fit::fit_curves(&t.curves(), &crate::fit::FitOptions::default())?;
        let doc = FitsDocument {
            goodhart_version: VERSION,
            fits: fits.iter().map(fit_json).collect(),
        };
        let mut expect = serde_json::to_vec_pretty(&doc)?;
        expect.push(b'\n');
        assert_eq!(
            String::from_utf8(JsonExporter.render(&fits))?,
            String::from_utf8(expect)?
        );
        let empty = FitsDocument {
            goodhart_version: VERSION,
            fits: vec![],
        };
        let mut expect = serde_json::to_vec_pretty(&empty)?;
        expect.push(b'\n');
        assert_eq!(JsonExporter.render(&[]), expect);
        Ok(())
    }

    #[test]
    fn g6_formats_like_printf_g() {
        assert_eq!(g6(0.490123456), "0.490123");
        assert_eq!(g6(123456.0), "123456");
        assert_eq!(g6(1234567.0), "1.23457e6");
        assert_eq!(g6(0.00001234), "1.234e-5");
        assert_eq!(g6(2.0), "2");
        assert_eq!(g6(-0.5), "-0.5");
    }
}
