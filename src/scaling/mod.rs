//! Scaling laws: how the fitted coefficients move with RM size (or data, policy size), and the
//! predictions for sizes that were not trained.
//!
//! `scale` takes the typed fits document ([`FitsDocument`]) and returns the scaling document
//! ([`ScalingDoc`]); [`predict`] takes that.
//!
//! Two-stage regression: every coefficient c (alpha, beta, ... of one method, target and form)
//! is regressed on x = log10(size) by weighted least squares, c = a + b x, with weights 1/se²
//! of the per-curve fits, one regression per group of the other keys; the covariance of (a, b)
//! is (XᵀWX)⁻¹ scaled by the reduced chi-square (lmfit's convention, as for the fits), and the
//! intervals are Student-t with n - 2 degrees of freedom. The power law c = a size^b is fitted
//! to the same points by nonlinear least squares, with the same weights; AIC = n ln(χ²/n) + 2p
//! compares the two. A coefficient the fits share across curves is reported as `constant`.

pub mod joint;
pub mod predict;

use std::collections::BTreeMap;

use nalgebra::DMatrix;

pub use crate::document::{FitRecord, JointFit, Law, LawModelKind, ScalingDoc, SizeKey};
use crate::document::{FitsDocument, Target, VERSION};
use crate::error::{Error, Result};
use crate::schema::{KEY_NAMES, Method};
use crate::solve::nonlinear::{LeastSquares, SolverOptions, solve};
use crate::solve::solve_linear;
use crate::stats::t95;

/// The points of one regression: sizes, values, standard errors.
#[derive(Debug, Clone)]
pub struct Series {
    pub sizes: Vec<f64>,
    pub values: Vec<f64>,
    /// `None`: unweighted (some fit had no standard error).
    pub se: Option<Vec<f64>>,
}

fn weights(s: &Series) -> Option<Vec<f64>> {
    s.se.as_ref()
        .map(|se| se.iter().map(|e| 1.0 / (e * e)).collect())
}

/// The weights 1/(se² + tau²) of the random-effects fit.
fn re_weights(s: &Series, tau2: f64) -> Option<Vec<f64>> {
    s.se.as_ref()
        .map(|se| se.iter().map(|e| 1.0 / (e * e + tau2)).collect())
}

fn aic_of(chisqr: f64, n: usize, p: usize) -> f64 {
    let n = n as f64;
    n * (chisqr.max(1e-250 * n) / n).ln() + 2.0 * p as f64
}

/// DerSimonian-Laird (method of moments) estimate of the between-RM variance tau² of a
/// weighted regression with design (or Jacobian) X, fixed-effect weights w = 1/se² and the
/// fixed-effect weighted residual sum of squares q (Cochran's Q):
/// tau² = max(0, (q - (n - p)) / (Σw - tr[(XᵀWX)⁻¹ XᵀW²X])).
pub fn dersimonian_laird(x: &DMatrix<f64>, w: &[f64], q: f64) -> f64 {
    let (n, p) = x.shape();
    if n <= p {
        return 0.0;
    }
    let mut xtwx = DMatrix::<f64>::zeros(p, p);
    let mut xtw2x = DMatrix::<f64>::zeros(p, p);
    for i in 0..n {
        for j in 0..p {
            for k in 0..p {
                let v = x[(i, j)] * x[(i, k)];
                xtwx[(j, k)] += w[i] * v;
                xtw2x[(j, k)] += w[i] * w[i] * v;
            }
        }
    }
    let Some(inv) = xtwx.try_inverse() else {
        return 0.0;
    };
    let tr = w.iter().sum::<f64>() - (inv * xtw2x).trace();
    if tr <= 0.0 || tr.is_nan() {
        return 0.0;
    }
    ((q - (n - p) as f64) / tr).max(0.0)
}

/// (XᵀWX)⁻¹XᵀW: how the law's (a, b) move with the coefficients regressed (linearised).
fn influence(x: &DMatrix<f64>, w: Option<&[f64]>) -> Option<DMatrix<f64>> {
    let n = x.nrows();
    let wt = DMatrix::from_fn(
        n,
        n,
        |i, j| {
            if i == j { w.map_or(1.0, |w| w[i]) } else { 0.0 }
        },
    );
    let xtw = x.transpose() * wt;
    let inv = (&xtw * x).try_inverse()?;
    Some(inv * xtw)
}

/// A regression with what the cross-covariances between laws need.
#[derive(Debug, Clone)]
pub struct Regression {
    pub law: Law,
    /// (XᵀW*X)⁻¹XᵀW* with the random-effects weights (2 x n), linearised for the power law.
    pub influence: Option<DMatrix<f64>>,
    /// The factor the covariance was scaled by (max(1, reduced chi-square of the random-effects
    /// fit), the Knapp-Hartung adjustment; the reduced chi-square when unweighted).
    pub factor: f64,
    /// The residuals (unweighted) of the final fit.
    pub residuals: Vec<f64>,
}

/// Fills a, b, their errors, intervals and statistics from a 2-parameter solution; `cov` is the
/// final covariance of (a, b), `chisqr` and `sst` those of the fixed-effect fit.
fn finish(law: &mut Law, coef: [f64; 2], cov: Option<&DMatrix<f64>>, chisqr: f64, sst: f64) {
    law.a = coef[0];
    law.b = coef[1];
    law.chisqr = Some(chisqr);
    law.dof = law.n.saturating_sub(2);
    law.aic = Some(aic_of(chisqr, law.n, 2));
    law.r2 = (sst > 0.0).then(|| 1.0 - chisqr / sst);
    if law.dof > 0
        && let Some(c) = cov
    {
        let (va, vb, cab) = (c[(0, 0)], c[(1, 1)], c[(0, 1)]);
        let t = t95(law.dof);
        law.a_se = Some(va.max(0.0).sqrt());
        law.b_se = Some(vb.max(0.0).sqrt());
        law.cov_ab = Some(cab);
        law.a_ci = Some([law.a - t * va.sqrt(), law.a + t * va.sqrt()]);
        law.b_ci = Some([law.b - t * vb.sqrt(), law.b + t * vb.sqrt()]);
    } else if law.dof == 0 {
        law.message = Some(format!(
            "{} sizes for 2 parameters: the line is exact, no error bars (3 or more sizes give them)",
            law.n
        ));
    }
}

fn weighted_sst(values: &[f64], w: Option<&[f64]>) -> f64 {
    let wt = |i: usize| w.map_or(1.0, |w| w[i]);
    let wsum: f64 = (0..values.len()).map(wt).sum();
    let mean = (0..values.len()).map(|i| wt(i) * values[i]).sum::<f64>() / wsum;
    (0..values.len())
        .map(|i| wt(i) * (values[i] - mean).powi(2))
        .sum()
}

fn rms(se: Option<&Vec<f64>>) -> Option<f64> {
    se.map(|se| (se.iter().map(|e| e * e).sum::<f64>() / se.len() as f64).sqrt())
}

/// Weighted least squares c = a + b log10(size).
pub fn log_linear(s: &Series, law: Law) -> Law {
    log_linear_regression(s, law).law
}

/// [`log_linear`] with the random-effects weights and the influence matrix.
///
/// Weighted (every fit has a standard error): the fixed-effect fit (weights 1/se²) gives
/// Cochran's Q, tau² by [`dersimonian_laird`], then the law is refitted with weights
/// 1/(se² + tau²); its covariance (XᵀW*X)⁻¹ is multiplied by max(1, q*/(n - 2)), q* the
/// random-effects weighted residual sum of squares (Knapp-Hartung, truncated). Unweighted:
/// ordinary least squares, tau² = the residual variance, covariance s²(XᵀX)⁻¹.
pub fn log_linear_regression(s: &Series, mut law: Law) -> Regression {
    let n = s.sizes.len();
    law.model = LawModelKind::LogLinear;
    law.fit_se_rms = rms(s.se.as_ref());
    let x = DMatrix::from_fn(n, 2, |i, j| if j == 0 { 1.0 } else { s.sizes[i].log10() });
    let w = weights(s);
    let fixed = match solve_linear(&x, &s.values, w.as_deref()) {
        Ok(sol) => sol,
        Err(e) => {
            law.converged = false;
            law.message = Some(format!("no unique regression: {e}"));
            return Regression {
                law,
                influence: None,
                factor: 1.0,
                residuals: Vec::new(),
            };
        }
    };
    let sst = weighted_sst(&s.values, w.as_deref());
    let dof = n.saturating_sub(2);
    let (sol, wfinal, tau2, factor) = match &w {
        Some(w0) => {
            let tau2 = dersimonian_laird(&x, w0, fixed.chisqr);
            let wre = re_weights(s, tau2).unwrap_or_default();
            let sol = if tau2 > 0.0 {
                solve_linear(&x, &s.values, Some(&wre)).unwrap_or_else(|_| fixed.clone())
            } else {
                fixed.clone()
            };
            let factor = if dof > 0 {
                (sol.chisqr / dof as f64).max(1.0)
            } else {
                1.0
            };
            (sol, Some(wre), tau2, factor)
        }
        None => {
            let s2 = if dof > 0 {
                fixed.chisqr / dof as f64
            } else {
                0.0
            };
            (fixed.clone(), None, s2, s2)
        }
    };
    let cov = &sol.cov_unscaled * factor;
    finish(
        &mut law,
        [sol.coef[0], sol.coef[1]],
        Some(&cov),
        fixed.chisqr,
        sst,
    );
    law.tau2 = (dof > 0).then_some(tau2);
    law.converged = true;
    Regression {
        influence: influence(&x, wfinal.as_deref()),
        law,
        factor,
        residuals: sol.residuals,
    }
}

/// c = a' (size/ref)^b with residuals weighted by sqrt(w); ref = the geometric mean of the sizes
/// keeps the problem well scaled.
struct PowerLaw<'a> {
    s: &'a Series,
    w: Option<Vec<f64>>,
    reference: f64,
}

impl LeastSquares for PowerLaw<'_> {
    fn n_params(&self) -> usize {
        2
    }
    fn n_residuals(&self) -> usize {
        self.s.sizes.len()
    }
    fn residuals(&self, p: &[f64], out: &mut [f64]) {
        for (i, r) in out.iter_mut().enumerate() {
            let sw = self.w.as_ref().map_or(1.0, |w| w[i].sqrt());
            *r = sw * (self.s.values[i] - p[0] * (self.s.sizes[i] / self.reference).powf(p[1]));
        }
    }
    fn jacobian(&self, p: &[f64], out: &mut DMatrix<f64>) {
        for i in 0..self.s.sizes.len() {
            let sw = self.w.as_ref().map_or(1.0, |w| w[i].sqrt());
            let z = self.s.sizes[i] / self.reference;
            let zb = z.powf(p[1]);
            out[(i, 0)] = -sw * zb;
            out[(i, 1)] = -sw * p[0] * zb * z.ln();
        }
    }
}

/// The unweighted Jacobian of a' (size/ref)^b with respect to (a', b).
fn power_jacobian(s: &Series, reference: f64, p: &[f64]) -> DMatrix<f64> {
    DMatrix::from_fn(s.sizes.len(), 2, |i, j| {
        let z = s.sizes[i] / reference;
        let zb = z.powf(p[1]);
        if j == 0 { zb } else { p[0] * zb * z.ln() }
    })
}

/// Weighted nonlinear least squares c = a size^b.
pub fn power_law(s: &Series, law: Law) -> Law {
    power_law_regression(s, law).law
}

/// [`power_law`] with random effects as [`log_linear_regression`] (tau² from the Jacobian at
/// the fixed-effect solution, then a refit with weights 1/(se² + tau²) started there).
pub fn power_law_regression(s: &Series, mut law: Law) -> Regression {
    let n = s.sizes.len();
    law.model = LawModelKind::Power;
    law.fit_se_rms = rms(s.se.as_ref());
    let reference = (s.sizes.iter().map(|x| x.ln()).sum::<f64>() / n as f64).exp();
    let w = weights(s);
    let mut starts = Vec::new();
    let same_sign = s.values.iter().all(|v| *v > 0.0) || s.values.iter().all(|v| *v < 0.0);
    if same_sign {
        // ln|c| = ln|a'| + b ln(size/ref) by least squares
        let sign = s.values[0].signum();
        let x = DMatrix::from_fn(n, 2, |i, j| {
            if j == 0 {
                1.0
            } else {
                (s.sizes[i] / reference).ln()
            }
        });
        let y: Vec<f64> = s.values.iter().map(|v| v.abs().ln()).collect();
        if let Ok(sol) = solve_linear(&x, &y, None) {
            starts.push(vec![sign * sol.coef[0].exp(), sol.coef[1]]);
        }
    }
    let mean = s.values.iter().sum::<f64>() / n as f64;
    starts.push(vec![mean, 0.0]);
    let failed = |mut law: Law, why: String| {
        law.converged = false;
        law.message = Some(why);
        Regression {
            law,
            influence: None,
            factor: 1.0,
            residuals: Vec::new(),
        }
    };
    let problem = PowerLaw { s, w, reference };
    let fixed = match solve(&problem, &starts, &SolverOptions::default()) {
        Ok(sol) => sol,
        Err(e) => return failed(law, format!("no fit: {e}")),
    };
    let sst = weighted_sst(&s.values, problem.w.as_deref());
    let dof = n.saturating_sub(2);
    let (sol, wfinal, tau2, factor) = match &problem.w {
        Some(w0) => {
            let j = power_jacobian(s, reference, &fixed.params);
            let tau2 = if fixed.converged {
                dersimonian_laird(&j, w0, fixed.ssr)
            } else {
                0.0
            };
            let wre = re_weights(s, tau2).unwrap_or_default();
            let sol = if tau2 > 0.0 {
                let re = PowerLaw {
                    s,
                    w: Some(wre.clone()),
                    reference,
                };
                match solve(
                    &re,
                    std::slice::from_ref(&fixed.params),
                    &SolverOptions::default(),
                ) {
                    Ok(sol) => sol,
                    Err(e) => {
                        return failed(law, format!("no random-effects fit: {e}"));
                    }
                }
            } else {
                fixed.clone()
            };
            let factor = if dof > 0 {
                (sol.ssr / dof as f64).max(1.0)
            } else {
                1.0
            };
            (sol, Some(wre), tau2, factor)
        }
        None => {
            let s2 = if dof > 0 { fixed.ssr / dof as f64 } else { 0.0 };
            (fixed.clone(), None, s2, s2)
        }
    };
    let (a_ref, b) = (sol.params[0], sol.params[1]);
    let a = a_ref * reference.powf(-b);
    // c = a' (N/ref)^b = a N^b with a = a' ref^-b: transform the covariance.
    let t = DMatrix::from_row_slice(2, 2, &[reference.powf(-b), -a * reference.ln(), 0.0, 1.0]);
    let cov = sol
        .cov_unscaled
        .as_ref()
        .map(|c| &t * c * t.transpose() * factor);
    finish(&mut law, [a, b], cov.as_ref(), fixed.ssr, sst);
    law.tau2 = (dof > 0).then_some(tau2);
    law.converged = sol.converged;
    let note = format!("nonlinear least squares: {}", sol.termination);
    law.message = Some(match law.message.take() {
        Some(m) => format!("{note}; {m}"),
        None => note,
    });
    let j = power_jacobian(s, reference, &sol.params);
    let infl = influence(&j, wfinal.as_deref()).map(|m| &t * m);
    // unweighted residuals of the final fit
    let residuals = (0..n)
        .map(|i| s.values[i] - a_ref * (s.sizes[i] / reference).powf(b))
        .collect();
    Regression {
        law,
        influence: infl,
        factor,
        residuals,
    }
}

/// Options of `goodhart scale`.
#[derive(Debug, Clone)]
pub struct ScaleOptions {
    pub by: SizeKey,
}

/// The regressions of every coefficient of every (method, target, form, group) on size.
pub fn scale(doc: &FitsDocument, opts: &ScaleOptions) -> Result<ScalingDoc> {
    let fits = &doc.fits;
    let by = opts.by.as_str();
    let mut warnings = Vec::new();
    let usable: Vec<&FitRecord> = fits
        .iter()
        .filter(|f| f.converged && !f.params.is_empty())
        .collect();
    if usable.len() < fits.len() {
        warnings.push(format!(
            "{} fit(s) without parameters (not converged) are left out",
            fits.len() - usable.len()
        ));
    }
    if usable.is_empty() {
        return Err(Error::Analysis(
            "the fits file has no converged fit to regress".to_string(),
        ));
    }
    for f in &usable {
        match f.key_value(by) {
            None => {
                return Err(Error::Analysis(format!(
                    "--by {by}: a {} fit has no {by} value (rm_params {}); every fit needs one",
                    f.method,
                    crate::format::fmt_num(f.rm_params)
                )));
            }
            Some(x) if !(x.is_finite() && x > 0.0) => {
                return Err(Error::Analysis(format!(
                    "{by} = {x} in the fits: a size must be a finite number > 0 (log10 of it is regressed on)"
                )));
            }
            _ => {}
        }
    }
    let mut all_sizes: Vec<f64> = usable.iter().filter_map(|f| f.key_value(by)).collect();
    all_sizes.sort_by(f64::total_cmp);
    all_sizes.dedup();
    if all_sizes.len() < 2 {
        let size = crate::format::fmt_num(all_sizes[0]);
        return Err(Error::Analysis(if usable.len() == 1 {
            format!(
                "the fits file has a single fit ({by} = {size}): a regression on size needs fits at 2 or more sizes"
            )
        } else {
            format!(
                "{by} does not vary: all {} fits have {by} = {size}, so a regression on size is impossible (fit curves of 2 or more sizes)",
                usable.len()
            )
        }));
    }
    // group key: method, target, form, the other keys
    // Grouped (and so ordered) by the form's name, as the files name it.
    type GroupKey = (Method, Target, &'static str, Vec<(String, Option<u64>)>);
    let mut groups: BTreeMap<GroupKey, Vec<&FitRecord>> = BTreeMap::new();
    for f in &usable {
        let others: Vec<(String, Option<u64>)> = KEY_NAMES
            .iter()
            .filter(|k| **k != by)
            .map(|k| (k.to_string(), f.key_value(k).map(f64::to_bits)))
            .collect();
        groups
            .entry((f.method, f.target, f.form.form().id(), others))
            .or_default()
            .push(f);
    }
    let mut laws = Vec::new();
    let mut law_covariances = Vec::new();
    let mut single = Vec::new();
    let mut form_warnings = Vec::new();
    let mut observed_kl_max: BTreeMap<String, f64> = BTreeMap::new();
    for f in &usable {
        if let Some(k) = f.kl_max.filter(|k| k.is_finite()) {
            let e = observed_kl_max
                .entry(f.method.as_str().to_string())
                .or_insert(k);
            *e = e.max(k);
        }
    }
    for ((method, target, _, others), members) in &groups {
        let form = &members[0].form;
        let mut members = members.clone();
        members.sort_by(|a, b| {
            a.key_value(by)
                .unwrap_or(0.0)
                .total_cmp(&b.key_value(by).unwrap_or(0.0))
        });
        let sizes: Vec<f64> = members.iter().filter_map(|f| f.key_value(by)).collect();
        let mut distinct = sizes.clone();
        distinct.dedup();
        let group: BTreeMap<String, Option<f64>> = others
            .iter()
            .map(|(k, v)| (k.clone(), v.map(f64::from_bits)))
            .collect();
        let label = format!("{method} {target} ({form})");
        if distinct.len() < 2 {
            single.push(if sizes.len() == 1 {
                format!(
                    "{label}: a single {by} ({}): a regression on size needs at least 2 sizes",
                    crate::format::fmt_num(sizes[0])
                )
            } else {
                format!(
                    "{label}: {by} does not vary ({} fits, all at {}): a regression on size needs at least 2 different sizes",
                    sizes.len(),
                    crate::format::fmt_num(sizes[0])
                )
            });
            continue;
        }
        if distinct.len() < sizes.len() {
            return Err(Error::Analysis(format!(
                "{label}: several fits share a {by} value within one group (the other keys are equal): one fit per size is expected"
            )));
        }
        let names: Vec<String> = members[0].params.keys().cloned().collect();
        let group_kl_max = members
            .iter()
            .filter_map(|f| f.kl_max.filter(|k| k.is_finite()))
            .reduce(f64::max);
        let no_peak_fits = members[0].params.contains_key("beta").then(|| {
            members
                .iter()
                .filter(|f| {
                    f.params
                        .get("beta")
                        .is_none_or(|b| b.value <= 0.0 || b.value.is_nan())
                })
                .count()
        });
        let judged = members.iter().any(|f| {
            f.form_check
                .is_some_and(|c| c.verdict != crate::document::FormVerdict::NotTested)
        });
        let form_rejected_fits = judged.then(|| {
            members
                .iter()
                .filter(|f| f.form_check.is_some_and(|c| c.rejected()))
                .count()
        });
        if let Some(k) = form_rejected_fits.filter(|k| *k > 0) {
            let n = members.len();
            form_warnings.push(format!(
                "{}: the form check rejects the {form} form on {k} of the group's {n} fits (the {} form fits their points better): {} of its laws' coefficients summarise curves the other form fits better",
                predict::group_label(*method, *target, *form, &group),
                crate::fit::form_check::alternative(*form).map_or("other".to_string(), |f| f.to_string()),
                if 2 * k > n { "most" } else { "some" },
            ));
        }
        // per coefficient: its regressions (log-linear, power) or its constant law
        let mut fitted: Vec<(String, Option<Regression>, Option<Regression>, bool)> = Vec::new();
        for name in names {
            let Some(values) = members
                .iter()
                .map(|f| f.params.get(&name).map(|p| p.value))
                .collect::<Option<Vec<f64>>>()
            else {
                continue;
            };
            let se: Option<Vec<f64>> = members
                .iter()
                .map(|f| {
                    f.params
                        .get(&name)
                        .and_then(|p| p.se)
                        .filter(|s| *s > 0.0 && s.is_finite())
                })
                .collect();
            let template = Law {
                method: *method,
                target: *target,
                form: *form,
                coefficient: name.clone(),
                model: LawModelKind::LogLinear,
                group: group.clone(),
                a: f64::NAN,
                b: 0.0,
                a_se: None,
                b_se: None,
                cov_ab: None,
                a_ci: None,
                b_ci: None,
                r2: None,
                sizes: sizes.clone(),
                values: values.clone(),
                aic: None,
                chisqr: None,
                n: sizes.len(),
                dof: 0,
                weighted: se.is_some(),
                converged: true,
                message: se
                    .is_none()
                    .then(|| "unweighted: some fits have no standard error".to_string()),
                tau2: None,
                fit_se_rms: None,
                group_kl_max,
                no_peak_fits,
                form_rejected_fits,
            };
            let shared = members
                .iter()
                .all(|f| f.shared.as_ref().is_some_and(|s| s.contains(&name)));
            if shared {
                let p = &members[0].params[&name];
                let t = t95(0);
                fitted.push((name.clone(), None, None, true));
                laws.push(Law {
                    model: LawModelKind::Constant,
                    a: p.value,
                    a_se: p.se,
                    b_se: Some(0.0),
                    cov_ab: Some(0.0),
                    a_ci: p.se.map(|s| [p.value - t * s, p.value + t * s]),
                    b_ci: Some([0.0, 0.0]),
                    message: Some(format!(
                        "{name} is shared by the {} curves (fit --share-alpha-rl)",
                        sizes.len()
                    )),
                    ..template
                });
                continue;
            }
            let series = Series {
                sizes: sizes.clone(),
                values,
                se,
            };
            let ll = log_linear_regression(&series, template.clone());
            let pw = power_law_regression(&series, template);
            laws.push(ll.law.clone());
            laws.push(pw.law.clone());
            fitted.push((name.clone(), Some(ll), Some(pw), false));
        }
        law_covariances.extend(cross_covariances(
            &members,
            &fitted,
            &laws_meta(*method, *target, *form, &group),
        ));
    }
    if laws.is_empty() {
        return Err(Error::Analysis(format!(
            "no regression is possible: {}",
            single.join("; ")
        )));
    }
    warnings.extend(single);
    warnings.extend(form_warnings);
    // Every BoN curve of a world scores the same prompts: the fits' errors are correlated
    // across RMs, which the laws (independent fits) do not model.
    let shared_prompts = usable.iter().any(|f| {
        f.method == Method::Bon
            && f.bootstrap_resampled == Some(crate::document::BootstrapSource::Prompts)
    });
    if shared_prompts {
        warnings.push(
            "bon laws: the fits were bootstrapped from per-prompt values, so the RMs score the same prompts and their coefficient errors are correlated across RMs; the laws' standard errors assume independent fits and are understated (by ~1.2-1.5x in the demo)"
                .to_string(),
        );
    }
    Ok(ScalingDoc {
        goodhart_version: VERSION.to_string(),
        by: opts.by,
        laws,
        joint: Vec::new(),
        warnings,
        law_covariances,
        observed_kl_max,
    })
}

/// The keys of a group, to label its law covariances.
struct GroupMeta {
    method: Method,
    target: Target,
    form: crate::forms::FormId,
    group: BTreeMap<String, Option<f64>>,
}

fn laws_meta(
    method: Method,
    target: Target,
    form: crate::forms::FormId,
    group: &BTreeMap<String, Option<f64>>,
) -> GroupMeta {
    GroupMeta {
        method,
        target,
        form,
        group: group.clone(),
    }
}

/// The covariance of two coefficients p, q of one fit (from its `correlations` and standard
/// errors, else its `covariance`); None when the fit carries neither.
fn fit_cov(f: &FitRecord, p: &str, q: &str) -> Option<f64> {
    let (sp, sq) = (f.params.get(p)?.se?, f.params.get(q)?.se?);
    if let Some(r) = f
        .correlations
        .get(&format!("{p},{q}"))
        .or_else(|| f.correlations.get(&format!("{q},{p}")))
    {
        return Some(r * sp * sq);
    }
    let names = f.form.form().param_names();
    let (i, j) = (
        names.iter().position(|n| *n == p)?,
        names.iter().position(|n| *n == q)?,
    );
    f.covariance.as_ref()?.get(i)?.get(j).copied()
}

/// Cov((a, b) of the law of p, (a, b) of the law of q) = A_p S A_qᵀ, A the influence matrices,
/// S = diag(c_i + tau_pq): c_i the per-fit covariance of p and q of curve i, tau_pq the
/// covariance of their scatter about the laws (moment estimate: the mean cross-product of the
/// residuals minus the mean c_i, clamped to |correlation| <= 1). A shared (constant) coefficient
/// has no scatter: Cov(p, (a, b)_q) = Σ c_i A_q[:, i].
fn cross_covariances(
    members: &[&FitRecord],
    fitted: &[(String, Option<Regression>, Option<Regression>, bool)],
    meta: &GroupMeta,
) -> Vec<crate::document::LawCovariance> {
    let n = members.len();
    let mut out = Vec::new();
    for i in 0..fitted.len() {
        for j in (i + 1)..fitted.len() {
            let (p, q) = (&fitted[i].0, &fitted[j].0);
            let c: Vec<Option<f64>> = members.iter().map(|f| fit_cov(f, p, q)).collect();
            let known = c.iter().all(Option::is_some);
            let c: Vec<f64> = c.into_iter().map(|v| v.unwrap_or(0.0)).collect();
            let source = if known {
                "per-fit covariance of the curves".to_string()
            } else {
                "assumed 0 within a curve: some fits carry no covariance".to_string()
            };
            for model in [LawModelKind::LogLinear, LawModelKind::Power] {
                let pick = |k: usize| match model {
                    LawModelKind::LogLinear => fitted[k].1.as_ref(),
                    _ => fitted[k].2.as_ref(),
                };
                let (ri, rj) = (pick(i), pick(j));
                let (ci, cj) = (fitted[i].3, fitted[j].3);
                let cov = match (ri, rj, ci, cj) {
                    (Some(ri), Some(rj), false, false) => {
                        let (Some(ai), Some(aj)) = (&ri.influence, &rj.influence) else {
                            continue;
                        };
                        if !(ri.law.converged && rj.law.converged) {
                            continue;
                        }
                        let tau12 = match (ri.law.tau2, rj.law.tau2) {
                            (Some(t1), Some(t2)) if t1 > 0.0 && t2 > 0.0 && n > 2 => {
                                let cross = (0..n)
                                    .map(|k| ri.residuals[k] * rj.residuals[k])
                                    .sum::<f64>()
                                    / (n - 2) as f64;
                                let mean_c = c.iter().sum::<f64>() / n as f64;
                                let lim = (t1 * t2).sqrt();
                                (cross - mean_c).clamp(-lim, lim)
                            }
                            _ => 0.0,
                        };
                        let f = (ri.factor * rj.factor).sqrt();
                        let mut m = [[0.0; 2]; 2];
                        for (r, row) in m.iter_mut().enumerate() {
                            for (s, cell) in row.iter_mut().enumerate() {
                                *cell = f
                                    * (0..n)
                                        .map(|k| ai[(r, k)] * (c[k] + tau12) * aj[(s, k)])
                                        .sum::<f64>();
                            }
                        }
                        (m, tau12, ri.law.model)
                    }
                    (None, Some(r), true, false) | (Some(r), None, false, true) => {
                        let Some(a) = &r.influence else { continue };
                        if !r.law.converged {
                            continue;
                        }
                        let f = r.factor.sqrt();
                        let v: Vec<f64> = (0..2)
                            .map(|s| f * (0..n).map(|k| c[k] * a[(s, k)]).sum::<f64>())
                            .collect();
                        // rows: (a, b) of the first law; a constant law's b is 0
                        let m = if ci {
                            [[v[0], v[1]], [0.0, 0.0]]
                        } else {
                            [[v[0], 0.0], [v[1], 0.0]]
                        };
                        (m, 0.0, r.law.model)
                    }
                    _ => continue,
                };
                out.push(crate::document::LawCovariance {
                    method: meta.method,
                    target: meta.target,
                    form: meta.form,
                    group: meta.group.clone(),
                    model: cov.2,
                    coefficients: [p.clone(), q.clone()],
                    cov: cov.0,
                    tau12: cov.1,
                    source: source.clone(),
                });
            }
        }
    }
    out
}

/// A short text summary of the laws, for stdout.
pub fn report(doc: &ScalingDoc) -> String {
    use crate::format::{fmt_num, g6};
    use std::fmt::Write as _;
    let mut s = String::new();
    let opt = |x: Option<f64>| x.map_or("n/a".to_string(), g6);
    for l in &doc.laws {
        let group: Vec<String> = l
            .group
            .iter()
            .filter_map(|(k, v)| v.map(|v| format!("{k}={}", fmt_num(v))))
            .collect();
        let formula = match l.model {
            LawModelKind::Power => format!("{}*N^{}", g6(l.a), g6(l.b)),
            LawModelKind::Constant => g6(l.a),
            _ => l.log_linear_formula(),
        };
        let _ = writeln!(
            s,
            "{} {} {}{} {:<10} {:<10} {}  (a ± {}, b ± {}, R² {}, AIC {}, {} sizes{}){}",
            l.method,
            l.target,
            l.form,
            if group.is_empty() {
                String::new()
            } else {
                format!(" [{}]", group.join(" "))
            },
            l.coefficient,
            l.model.as_str(),
            formula,
            opt(l.a_se),
            opt(l.b_se),
            opt(l.r2),
            opt(l.aic),
            l.sizes.len(),
            match (l.tau2, l.fit_se_rms) {
                (Some(t), Some(se)) =>
                    format!(", scatter tau {} vs fit se {}", g6(t.sqrt()), g6(se)),
                (Some(t), None) => format!(", scatter tau {}", g6(t.sqrt())),
                _ => String::new(),
            },
            if l.converged {
                String::new()
            } else {
                "  NOT CONVERGED".to_string()
            }
        );
    }
    s
}
