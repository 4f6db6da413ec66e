//! The report's tables as plain rows of text, built once and rendered by both the HTML and the
//! Markdown writer, so the two reports can never disagree on a number.

use crate::document::{FitRecord, Interval, PredictDoc, ScalingDoc};
use crate::format::{fmt_num, g6, pm};
use crate::goodhart::{Decomposition, GapPoint, agreement, key_label, kl_label, preferred};

/// One row: its cells, and attributes the HTML writer puts on the `<tr>` (machine-readable
/// values for scripts and tests; the Markdown writer ignores them).
#[derive(Debug, Clone, Default)]
pub struct Row {
    pub cells: Vec<String>,
    pub attrs: Vec<(String, String)>,
}

/// A titled table.
#[derive(Debug, Clone)]
pub struct Table {
    /// Anchor id (HTML).
    pub id: &'static str,
    pub title: String,
    /// One sentence on how to read it.
    pub note: String,
    pub header: Vec<String>,
    pub rows: Vec<Row>,
}

fn opt(x: Option<f64>) -> String {
    x.map_or("–".to_string(), g6)
}

fn opt_key(x: Option<f64>) -> String {
    x.map_or("–".to_string(), fmt_num)
}

/// `value ± se (pct%)`.
pub fn value_se_pct(value: f64, se: Option<f64>) -> String {
    match se {
        Some(s) if value != 0.0 => {
            format!(
                "{} ± {} ({:.1}%)",
                g6(value),
                g6(s),
                100.0 * s / value.abs()
            )
        }
        _ => pm(value, se),
    }
}

/// The machine-readable identity of a fit (`method|rm_params|policy_params|rm_data|kl_penalty|
/// target|form`, numbers in shortest round-trip form, `null` when absent).
pub fn fit_id(f: &FitRecord) -> String {
    let n = |x: Option<f64>| x.map_or("null".to_string(), |v| format!("{v}"));
    format!(
        "{}|{}|{}|{}|{}|{}|{}",
        f.method,
        n(Some(f.rm_params)),
        n(f.policy_params),
        n(f.rm_data),
        n(f.kl_penalty),
        f.target,
        f.form
    )
}

/// Every fit: coefficients ± se (relative se), R², AIC, BIC, peak.
pub fn fits_table(fits: &[FitRecord]) -> Table {
    let mut names: Vec<&str> = Vec::new();
    for f in fits {
        for k in f.params.keys() {
            if !names.contains(&k.as_str()) {
                names.push(k);
            }
        }
    }
    let mut header: Vec<String> = [
        "method",
        crate::schema::RM_PARAMS,
        crate::schema::POLICY_PARAMS,
        crate::schema::RM_DATA,
        crate::schema::KL_PENALTY,
        "target",
        "form",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    header.extend(names.iter().map(|n| format!("{n} ± se (rel.)")));
    header.extend(
        [
            "n",
            "R²",
            "AIC",
            "BIC",
            "peak KL",
            "peak score",
            "form check",
            "warnings",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    let rows = fits
        .iter()
        .map(|f| {
            let mut cells = vec![
                f.method.to_string(),
                fmt_num(f.rm_params),
                opt_key(f.policy_params),
                opt_key(f.rm_data),
                opt_key(f.kl_penalty),
                f.target.to_string(),
                f.form.to_string(),
            ];
            let mut attrs = vec![("data-fit".to_string(), fit_id(f))];
            for n in &names {
                match f.params.get(*n) {
                    Some(p) => {
                        cells.push(value_se_pct(p.value, p.se));
                        attrs.push((format!("data-{n}"), format!("{}", p.value)));
                    }
                    None => cells.push("–".to_string()),
                }
            }
            if !f.converged {
                cells.push(format!(
                    "no fit: {}",
                    f.message.as_deref().unwrap_or("did not converge")
                ));
                cells.extend(std::iter::repeat_n(String::new(), 5));
            } else {
                cells.push(f.n_points.to_string());
                cells.push(f.r2.map_or("–".into(), |r| format!("{r:.4}")));
                cells.push(opt(f.aic));
                cells.push(opt(f.bic));
                if f.peak.is_none() && f.peak_reason.is_some() {
                    cells.push("beyond 10x the fitted KL range".to_string());
                    cells.push("–".to_string());
                } else {
                    cells.push(opt(f.peak.map(|p| p.kl)));
                    cells.push(opt(f.peak.map(|p| p.score)));
                }
            }
            cells.push(f.form_check.map_or("–".to_string(), |c| {
                format!(
                    "{} (ΔAIC {} vs {})",
                    c.verdict.as_str().replace('_', " "),
                    g6(c.delta_aic),
                    c.alternative
                )
            }));
            // the separator of fits.csv (warnings hold semicolons themselves); the form check's
            // warning is left out, its column says it
            let warnings: Vec<&str> = f
                .warnings
                .iter()
                .map(String::as_str)
                .filter(|w| !w.starts_with(crate::fit::form_check::FORM_CHECK_PREFIX))
                .collect();
            cells.push(warnings.join(crate::export::WARNING_SEPARATOR));
            attrs.push(("data-warnings".to_string(), f.warnings.len().to_string()));
            Row { cells, attrs }
        })
        .collect();
    Table {
        id: "fits",
        title: format!("Fits ({})", fits.len()),
        note: "Each curve's coefficients with their standard error and, in brackets, the relative standard error; peak is the fitted maximum (– when beta <= 0; not given beyond 10x the fitted KL range). R² is on the baseline-subtracted points. Form check (gold fits of the bon and rl forms): the AIC of the fit's form minus that of the other paper form, both fitted to the curve alone (so not the AIC column for a shared-alpha fit); the verdict is judged on that difference with correlated residuals counted as fewer points (fits.json: evidence): rejected above 10 (the other form fits these points better), preferred below −10, inconclusive between, not tested for best-of-n curves (their points share samples). Warnings say when a fit's numbers cannot mean what they seem to (as in fits.json, without the form check's, which its column gives).".to_string(),
        header,
        rows,
    }
}

fn group_label(g: &std::collections::BTreeMap<String, Option<f64>>) -> String {
    let parts: Vec<String> = g
        .iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k}={}", fmt_num(v))))
        .collect();
    if parts.is_empty() {
        "–".to_string()
    } else {
        parts.join(" ")
    }
}

/// Every scaling law: c = a + b log10(size) (log-linear) or c = a size^b (power).
pub fn scaling_table(doc: &ScalingDoc) -> Table {
    let rows = doc
        .laws
        .iter()
        .map(|l| Row {
            cells: vec![
                l.method.to_string(),
                l.target.to_string(),
                l.form.to_string(),
                l.coefficient.clone(),
                l.model.as_str().to_string(),
                group_label(&l.group),
                if l.converged {
                    value_se_pct(l.a, l.a_se)
                } else {
                    format!("no fit: {}", l.message.as_deref().unwrap_or(""))
                },
                if l.converged {
                    value_se_pct(l.b, l.b_se)
                } else {
                    String::new()
                },
                l.r2.map_or("–".into(), |r| format!("{r:.4}")),
                l.n.to_string(),
                opt(l.aic),
                match (l.tau2, l.fit_se_rms) {
                    (Some(t), Some(se)) => format!("{} (fit se {})", g6(t.sqrt()), g6(se)),
                    (Some(t), None) => g6(t.sqrt()),
                    _ => "–".to_string(),
                },
            ],
            attrs: vec![(
                "data-law".to_string(),
                format!(
                    "{}|{}|{}|{}",
                    l.method,
                    l.target,
                    l.coefficient,
                    l.model.as_str()
                ),
            )],
        })
        .collect();
    Table {
        id: "scaling",
        title: format!("Scaling laws (by {})", doc.by.as_str()),
        note: "Each coefficient regressed on size: log-linear c = a + b·log10(size), power c = a·size^b, weighted by 1/(se² + tau²): the fits' standard errors plus the scatter of RMs about the law (tau², DerSimonian-Laird; tau is its square root, beside the fits' root-mean-square se); constant = shared across sizes.".to_string(),
        header: [
            "method",
            "target",
            "form",
            "coefficient",
            "model",
            "group",
            "a ± se (rel.)",
            "b ± se (rel.)",
            "R²",
            "sizes",
            "AIC",
            "tau",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        rows,
    }
}

fn interval(i: &Interval) -> String {
    let bound = |b: Option<f64>| b.map_or("?".to_string(), g6);
    let mut s = match (i.low, i.high) {
        (None, None) => g6(i.value),
        (lo, hi) => format!("{} [{}, {}]", g6(i.value), bound(lo), bound(hi)),
    };
    if i.new_rm_low.is_some() || i.new_rm_high.is_some() {
        s.push_str(&format!(
            " {{new RM {}, {}}}",
            bound(i.new_rm_low),
            bound(i.new_rm_high)
        ));
    }
    s
}

/// Predicted coefficients and peaks with their 95% intervals.
pub fn predictions_table(doc: &PredictDoc) -> Table {
    let rows = doc
        .predictions
        .iter()
        .map(|p| {
            let mut params: Vec<String> = p
                .params
                .iter()
                .map(|(k, v)| format!("{k} = {}", interval(v)))
                .collect();
            if params.is_empty() {
                params.push("–".into());
            }
            Row {
                cells: vec![
                    p.method.to_string(),
                    p.target.to_string(),
                    fmt_num(p.rm_params),
                    p.model.clone(),
                    group_label(&p.group),
                    params.join("; "),
                    p.peak.as_ref().map_or_else(
                        || format!("none: {}", p.peak_reason.as_deref().unwrap_or("no peak")),
                        |k| interval(&k.kl),
                    ),
                    p.peak
                        .as_ref()
                        .map_or("none".into(), |k| interval(&k.score)),
                    format!("{:.2}", p.extrapolation_decades),
                    p.warning.clone().unwrap_or_default(),
                ],
                attrs: Vec::new(),
            }
        })
        .collect();
    Table {
        id: "predictions",
        title: "Predictions".to_string(),
        note: "Coefficients, peak KL and peak score predicted by the log-linear laws for an RM size not trained, with the 95% interval of the mean law [low, high] and the 95% prediction interval for a new RM {new RM low, high} (which adds the scatter of RMs about the laws; ? = a bound beyond 10x the largest observed KL); extrapolation is in decades of size beyond the largest fitted one. A peak beyond 10x the largest observed KL is not given.".to_string(),
        header: [
            "method",
            "target",
            crate::schema::RM_PARAMS,
            "model",
            "group",
            "coefficients [95%]",
            "peak KL [95%]",
            "peak score [95%]",
            "extrapolation (decades)",
            "warning",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        rows,
    }
}

fn gap_cells(p: Option<GapPoint>, max_kl: Option<f64>, reason: Option<&str>) -> Vec<String> {
    match p {
        None => {
            let mut v = vec![reason.unwrap_or("no peak").to_string()];
            v.extend(std::iter::repeat_n(String::new(), 5));
            v
        }
        Some(p) => vec![
            kl_label(p.kl, max_kl),
            g6(p.gap()),
            pm(p.regressional, p.regressional_se),
            pm(p.extremal, p.extremal_se),
            g6(p.residual),
            p.oracle
                .map(|o| pm(o - p.gold, p.oracle_se))
                .unwrap_or_default(),
        ],
    }
}

/// The decomposition at the gold peak and at the largest KL of each curve, standardised where
/// there is a reference (raw otherwise: the `units` column says which).
pub fn decomposition_table(decs: &[Decomposition]) -> Table {
    let rows = preferred(decs)
        .into_iter()
        .map(|d| {
            let mut cells = vec![
                key_label(&d.key),
                d.source.as_str().to_string(),
                d.form.to_string(),
                d.units.as_str().to_string(),
                d.reference
                    .as_ref()
                    .and_then(|r| r.rho)
                    .map(|r| crate::format::sig(r, 3))
                    .unwrap_or_default(),
            ];
            let max_kl = d.at_max_kl.map(|m| m.kl);
            cells.extend(gap_cells(d.at_peak, max_kl, d.at_peak_reason.as_deref()));
            cells.extend(gap_cells(d.at_max_kl, None, None));
            Row {
                cells,
                attrs: vec![(
                    "data-decomposition".to_string(),
                    format!("{}|{}", key_label(&d.key), d.source.as_str()),
                )],
            }
        })
        .collect();
    let mut header: Vec<String> = ["curve", "source", "form", "units", "ρ (initial policy)"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for at in ["peak", "max KL"] {
        for c in [
            "KL",
            "gap",
            "regressional ± se",
            "extremal ± se",
            "residual",
            "oracle − gold ± se",
        ] {
            header.push(format!("{c} ({at})"));
        }
    }
    Table {
        id: "decomposition",
        title: "Goodhart decomposition".to_string(),
        note: "proxy − gold = regressional + extremal + residual, scores measured from their initial-policy baselines; at the gold fit's peak KL and at the curve's largest KL. Units: standardised = each score divided by its standard deviation under the initial policy (every sample of the RM's best-of-n pools, or the sds given with --reference); raw = the scores as given (the fits JSON has both, \"units\" field). ρ: proxy-gold correlation under the initial policy, prompt-pooled. oracle − gold: the best-of-n gold score with the best chosen by gold from the same pools, minus the gold score: the total cost of the proxy (best-of-n curves with samples). A peak KL marked (extrapolated) lies right of the curve's data: there the parts are those of the fitted forms, not a measurement.".to_string(),
        header,
        rows,
    }
}

/// The two decompositions (from fits, from samples) of each best-of-n curve compared at the
/// samples' largest n, in the units shown (None when no curve has both).
pub fn agreement_table(decs: &[Decomposition]) -> Option<Table> {
    let shown: Vec<Decomposition> = preferred(decs).into_iter().cloned().collect();
    let rows: Vec<Row> = agreement(&shown)
        .iter()
        .map(|a| {
            let [(dr, zr), (de, ze)] = a.z();
            let z = |z: Option<f64>| z.map(|z| crate::format::sig(z, 2)).unwrap_or_default();
            Row {
                cells: vec![
                    key_label(&a.key),
                    a.units.as_str().to_string(),
                    g6(a.kl),
                    pm(a.regressional[0].0, a.regressional[0].1),
                    pm(a.regressional[1].0, a.regressional[1].1),
                    g6(dr),
                    z(zr),
                    a.expected_difference.map(g6).unwrap_or_default(),
                    z(a.z_regressional_adjusted()),
                    pm(a.extremal[0].0, a.extremal[0].1),
                    pm(a.extremal[1].0, a.extremal[1].1),
                    g6(de),
                    z(ze),
                ],
                attrs: Vec::new(),
            }
        })
        .collect();
    if rows.is_empty() {
        return None;
    }
    Some(Table {
        id: "decomposition-agreement",
        title: "Goodhart decomposition: from fits against from samples".to_string(),
        note: format!(
            "Both estimates at the same KL (the samples' largest n, analytic KL) and in the same units. z: the difference over the two standard errors combined as if independent, though both estimates come from the same samples{}. The estimates differ by definition as well as by noise: for a proxy whose best-of-n gold is exactly a + b·proxy_bon, from samples everything is regressional, (1 − b)·proxy_bon(d), while from fits the regressional part is (1 − b)·α_proxy·d; 'by definition' is the difference (1 − b)(α_proxy·d − proxy_bon(d)) and the z after it removes that amount.",
            crate::goodhart::fits_error_words(agreement(&shown).iter().map(|a| a.fits_ci))
        ),
        header: [
            "curve",
            "units",
            "KL",
            "regressional, fits",
            "regressional, samples",
            "difference",
            "z",
            "by definition",
            "z after",
            "extremal, fits",
            "extremal, samples",
            "difference",
            "z",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        rows,
    })
}
