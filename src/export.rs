//! Fit results as files and reports besides the fits document itself
//! ([`crate::document::FitsDocument::to_json`]): a flat CSV, an lmfit-style text report and a
//! Markdown table, all behind one [`Exporter`] trait.

use std::fmt::Write as _;

use crate::fit::{CurveFit, FittedForm};
use crate::format::{fmt_num, g6};
use crate::forms::FormId;
use crate::output::{OutColumn, OutTable};
use crate::stats::finite;

pub use crate::document::VERSION;

/// Turns a set of fits into the bytes of one output.
pub trait Exporter {
    fn render(&self, fits: &[CurveFit]) -> Vec<u8>;
}

/// One row per fit, parameters flattened (`alpha`, `alpha_se`, ...).
pub struct CsvExporter;
/// The lmfit-style report printed by `goodhart fit`.
pub struct TextReport {
    /// The unit printed after KL values: "nats" (per sequence, the Curves table's unit) or
    /// "nats per token" (a trainer log's per-token KL that no response length converted).
    pub kl_unit: &'static str,
}

impl Default for TextReport {
    fn default() -> TextReport {
        TextReport { kl_unit: "nats" }
    }
}
/// A Markdown table of all fits.
pub struct MarkdownReport;

/// The flat fits table (one row per fit), shared by the CSV exporter and tests.
pub fn fits_table(fits: &[CurveFit]) -> OutTable {
    let forms: Vec<FormId> = fits.iter().map(|f| f.form).collect();
    fits_table_with(fits, &param_columns(&forms))
}

/// The parameter names of the fits table of fits of these forms (in order of first appearance).
pub fn param_columns(forms: &[FormId]) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    let mut seen: Vec<FormId> = Vec::new();
    for &form in forms {
        if seen.contains(&form) {
            continue;
        }
        seen.push(form);
        for &n in form.form().param_names() {
            if !names.contains(&n) {
                names.push(n);
            }
        }
    }
    names
}

/// The CSV of [`fits_table`] in pieces, for fits made a chunk at a time: `header` once, then
/// `rows` of each chunk, with the parameter columns `names` of all fits ([`param_columns`]).
/// Concatenated, the bytes are [`CsvExporter`]'s of all fits.
pub struct CsvChunks {
    pub names: Vec<&'static str>,
}

impl CsvChunks {
    /// The CSV of these fits without its header line.
    pub fn rows(&self, fits: &[CurveFit]) -> Vec<u8> {
        let mut bytes = self.render(fits);
        // The header is plain names (no quotes, no newline): its line ends at the first newline.
        let end = bytes.iter().position(|&b| b == b'\n').map_or(0, |i| i + 1);
        bytes.drain(..end);
        bytes
    }

    /// The header line.
    pub fn header(&self) -> Vec<u8> {
        let mut bytes = self.render(&[]);
        // no rows: the header alone
        if !bytes.ends_with(b"\n") {
            bytes.push(b'\n');
        }
        bytes
    }

    fn render(&self, fits: &[CurveFit]) -> Vec<u8> {
        fits_table_with(fits, &self.names)
            .to_bytes(crate::ingest::Format::Csv, std::path::Path::new("fits.csv"))
            // Cannot fail: a CSV of plain cells into a Vec in memory has no I/O error and no bad cell.
            .expect("CSV of plain cells renders in memory")
    }
}

/// [`fits_table`] with the given parameter columns.
pub fn fits_table_with(fits: &[CurveFit], names: &[&'static str]) -> OutTable {
    let names = names.to_vec();
    let num =
        |g: &dyn Fn(&CurveFit) -> Option<f64>| OutColumn::Number(fits.iter().map(g).collect());
    let text =
        |g: &dyn Fn(&CurveFit) -> Option<String>| OutColumn::Text(fits.iter().map(g).collect());
    let int =
        |g: &dyn Fn(&CurveFit) -> Option<i64>| OutColumn::Integer(fits.iter().map(g).collect());
    let stat = |g: fn(&FittedForm) -> Option<f64>| num(&|c: &CurveFit| c.fitted().and_then(g));
    let mut t = OutTable::default();
    t.push("method", text(&|c| Some(c.key.method.as_str().to_string())));
    t.push(crate::schema::RM_PARAMS, num(&|c| Some(c.key.rm_params)));
    t.push(crate::schema::POLICY_PARAMS, num(&|c| c.key.policy_params));
    t.push(crate::schema::RM_DATA, num(&|c| c.key.rm_data));
    t.push(crate::schema::KL_PENALTY, num(&|c| c.key.kl_penalty));
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
    t.push("peak_d", num(&|c| c.peak().map(|p| p.d)));
    t.push("peak_kl", num(&|c| c.peak().map(|p| p.kl)));
    t.push("peak_score", num(&|c| c.peak().map(|p| p.score)));
    t.push("peak_reason", text(&CurveFit::peak_reason));
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
    t.push("message", text(&crate::fit::record_message));
    // the fit's warnings (as in fits.json), so that a row read alone says when its numbers
    // cannot mean what they seem to
    t.push("n_warnings", int(&|c| Some(c.warnings.len() as i64)));
    t.push(
        "warnings",
        text(&|c| (!c.warnings.is_empty()).then(|| c.warnings.join(WARNING_SEPARATOR))),
    );
    // added at the end (columns are only ever added there)
    t.push(
        "form_check_verdict",
        text(&|c| c.form_check.map(|f| f.verdict.as_str().to_string())),
    );
    t.push(
        "form_check_delta_aic",
        num(&|c| c.form_check.map(|f| f.delta_aic)),
    );
    t
}

/// Between two warnings in the `warnings` cell of fits.csv.
pub const WARNING_SEPARATOR: &str = " | ";

impl Exporter for CsvExporter {
    fn render(&self, fits: &[CurveFit]) -> Vec<u8> {
        fits_table(fits)
            .to_bytes(crate::ingest::Format::Csv, std::path::Path::new("fits.csv"))
            // Cannot fail: a CSV of plain cells into a Vec in memory has no I/O error and no bad cell.
            .expect("CSV of plain cells renders in memory")
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
                "    data points        = {} (kl {} .. {} {})",
                st.n_points,
                g6(fit.kl_range.0),
                g6(fit.kl_range.1),
                self.kl_unit
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
                let (of, interval) = match fit.bootstrap {
                    Some(k) => (
                        match k.source {
                            crate::document::BootstrapSource::Prompts => "prompt-bootstrap",
                            crate::document::BootstrapSource::Replicates => "bootstrap",
                        },
                        match k.interval {
                            crate::document::BootstrapInterval::Percentile => "percentile",
                            crate::document::BootstrapInterval::Bca => "BCa",
                        },
                    ),
                    None => ("bootstrap", "percentile"),
                };
                let _ = writeln!(
                    s,
                    "    (± and 95% CI from {b} {of} replicate fits: standard deviations, {interval} intervals)"
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
            let corr = crate::fit::record_correlations(f);
            if !corr.is_empty() {
                let _ = writeln!(s, "[[Correlations]]");
                for (pair, c) in corr {
                    let (a, b) = pair.split_once(',').unwrap_or((&pair, ""));
                    let _ = writeln!(s, "    C({a}, {b}) = {c:+.4}");
                }
            }
            let _ = writeln!(s, "[[Peak]]");
            match fit.peak() {
                _ if fit.peak_reason().is_some() => {
                    let _ = writeln!(s, "    none: {}", fit.peak_reason().unwrap_or_default());
                }
                Some(p) => {
                    let _ = writeln!(
                        s,
                        "    d* = {}, KL* = {} {}{}, {}* = {}",
                        g6(p.d),
                        g6(p.kl),
                        self.kl_unit,
                        if p.kl > fit.kl_range.1 {
                            format!(
                                " (beyond the data's largest KL, {}: extrapolated)",
                                g6(fit.kl_range.1)
                            )
                        } else {
                            String::new()
                        },
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
            if !fit.warnings.is_empty() {
                let _ = writeln!(s, "[[Warnings]]");
                for w in &fit.warnings {
                    let _ = writeln!(s, "    {w}");
                }
            }
            s.push('\n');
        }
        s.into_bytes()
    }
}

/// `value ± se` of a parameter; empty when the fit has none.
fn param_pm(p: Option<&crate::fit::ParamEstimate>) -> String {
    p.map_or(String::new(), |p| crate::format::pm(p.value, p.se))
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
                (crate::schema::POLICY_PARAMS, fit.key.policy_params),
                (crate::schema::RM_DATA, fit.key.rm_data),
                (crate::schema::KL_PENALTY, fit.key.kl_penalty),
            ] {
                if let Some(v) = v {
                    other.push(format!("{n}={}", fmt_num(v)));
                }
            }
            let f = fit.fitted();
            let peak = fit.peak();
            let none = if fit.peak_reason().is_some() {
                "none (beyond 10x the fitted KL range)"
            } else {
                "none"
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                fit.key.method,
                fmt_num(fit.key.rm_params),
                other.join(" "),
                fit.target.as_str(),
                fit.form.form().id(),
                param_pm(f.and_then(|f| f.params.first())),
                param_pm(f.and_then(|f| f.params.get(1))),
                f.map_or(0, |f| f.stats.n_points),
                f.map_or("no fit".to_string(), |f| format!("{:.4}", f.stats.r2)),
                f.map_or(String::new(), |f| g6(f.stats.rmse)),
                peak.map_or(none.to_string(), |p| g6(p.kl)),
                peak.map_or(none.to_string(), |p| g6(p.score)),
            );
        }
        s.into_bytes()
    }
}

/// The summary `goodhart fit` prints: one line per fit (key, target, form, alpha ± se,
/// beta ± se, peak KL, peak score, R², number of warnings), in aligned plain-text columns that
/// stay readable when piped. The lmfit-style detail is [`TextReport`].
#[derive(Default)]
pub struct SummaryTable {
    /// Set for per-token KL (not converted): the peak KL column says so in its header.
    pub per_token: bool,
}

/// A number with 4 significant digits, ASCII minus (for plain-text tables); an exponent below
/// 1e-3 and from 1e6 up (`1.805e-16`).
fn short(v: f64) -> String {
    let a = v.abs();
    if v.is_finite() && v != 0.0 && !(1e-3..1e6).contains(&a) {
        let s = format!("{v:.3e}");
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let mant = mant.trim_end_matches('0').trim_end_matches('.');
        format!("{mant}e{exp}")
    } else {
        crate::format::sig(v, 4).replace('\u{2212}', "-")
    }
}

fn short_pm(p: Option<&crate::fit::ParamEstimate>) -> String {
    match p {
        None => "-".to_string(),
        Some(p) => match p.se {
            Some(se) => format!("{} ± {}", short(p.value), short(se)),
            None => short(p.value),
        },
    }
}

/// Rows of cells as aligned columns: each column padded to its widest cell (in characters),
/// two spaces between columns, no trailing spaces.
pub fn aligned(rows: &[Vec<String>]) -> String {
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..n)
        .map(|j| {
            rows.iter()
                .filter_map(|r| r.get(j))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut s = String::new();
    for r in rows {
        let mut line = String::new();
        for (j, cell) in r.iter().enumerate() {
            if j > 0 {
                line.push_str("  ");
            }
            let _ = write!(line, "{cell:<w$}", w = widths[j]);
        }
        s.push_str(line.trim_end());
        s.push('\n');
    }
    s
}

impl Exporter for SummaryTable {
    fn render(&self, fits: &[CurveFit]) -> Vec<u8> {
        let mut rows = vec![self.header()];
        rows.extend(fits.iter().map(SummaryTable::row));
        aligned(&rows).into_bytes()
    }
}

impl SummaryTable {
    /// The header row of the table.
    pub fn header(&self) -> Vec<String> {
        [
            "fit",
            "target",
            "form",
            "alpha ± se",
            "beta ± se",
            if self.per_token {
                "peak KL (nats per token)"
            } else {
                "peak KL"
            },
            "peak score",
            "R²",
            "warnings",
        ]
        .map(String::from)
        .to_vec()
    }

    /// The cells of one fit's row.
    pub fn row(fit: &CurveFit) -> Vec<String> {
        {
            let f = fit.fitted();
            let param = |name: &str| f.and_then(|f| f.params.iter().find(|p| p.name == name));
            let (peak_kl, peak_score) = match (f, fit.peak(), fit.peak_reason()) {
                (None, _, _) => ("no fit".to_string(), "-".to_string()),
                (Some(_), _, Some(_)) => ("none (beyond 10x KL)".to_string(), "-".to_string()),
                // a peak right of the data is the fitted form's, not a measurement
                (Some(_), Some(p), None) if p.kl > fit.kl_range.1 => {
                    (format!("{} (beyond data)", short(p.kl)), short(p.score))
                }
                (Some(_), Some(p), None) => (short(p.kl), short(p.score)),
                (Some(_), None, None) => ("none".to_string(), "-".to_string()),
            };
            vec![
                fit.key.to_string(),
                fit.target.as_str().to_string(),
                fit.form.form().id().to_string(),
                short_pm(param("alpha")),
                short_pm(param("beta")),
                peak_kl,
                peak_score,
                f.map_or("-".to_string(), |f| format!("{:.4}", f.stats.r2)),
                fit.warnings.len().to_string(),
            ]
        }
    }
}
