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

fn aic_of(chisqr: f64, n: usize, p: usize) -> f64 {
    let n = n as f64;
    n * (chisqr.max(1e-250 * n) / n).ln() + 2.0 * p as f64
}

/// Fills a, b, their errors, intervals and statistics from a 2-parameter solution.
fn finish(
    law: &mut Law,
    coef: [f64; 2],
    cov_unscaled: Option<&DMatrix<f64>>,
    chisqr: f64,
    sst: f64,
) {
    law.a = coef[0];
    law.b = coef[1];
    law.chisqr = Some(chisqr);
    law.dof = law.n.saturating_sub(2);
    law.aic = Some(aic_of(chisqr, law.n, 2));
    law.r2 = (sst > 0.0).then(|| 1.0 - chisqr / sst);
    if law.dof > 0
        && let Some(c) = cov_unscaled
    {
        let redchi = chisqr / law.dof as f64;
        let (va, vb, cab) = (c[(0, 0)] * redchi, c[(1, 1)] * redchi, c[(0, 1)] * redchi);
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

/// Weighted least squares c = a + b log10(size).
pub fn log_linear(s: &Series, mut law: Law) -> Law {
    let n = s.sizes.len();
    law.model = LawModelKind::LogLinear;
    let x = DMatrix::from_fn(n, 2, |i, j| if j == 0 { 1.0 } else { s.sizes[i].log10() });
    let w = weights(s);
    match solve_linear(&x, &s.values, w.as_deref()) {
        Ok(sol) => {
            let sst = weighted_sst(&s.values, w.as_deref());
            finish(
                &mut law,
                [sol.coef[0], sol.coef[1]],
                Some(&sol.cov_unscaled),
                sol.chisqr,
                sst,
            );
            law.converged = true;
        }
        Err(e) => {
            law.converged = false;
            law.message = Some(format!("no unique regression: {e}"));
        }
    }
    law
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

/// Weighted nonlinear least squares c = a size^b.
pub fn power_law(s: &Series, mut law: Law) -> Law {
    let n = s.sizes.len();
    law.model = LawModelKind::Power;
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
    let problem = PowerLaw { s, w, reference };
    match solve(&problem, &starts, &SolverOptions::default()) {
        Ok(sol) => {
            let (a_ref, b) = (sol.params[0], sol.params[1]);
            let a = a_ref * reference.powf(-b);
            // c = a' (N/ref)^b = a N^b with a = a' ref^-b: transform the covariance.
            let t =
                DMatrix::from_row_slice(2, 2, &[reference.powf(-b), -a * reference.ln(), 0.0, 1.0]);
            let cov = sol.cov_unscaled.as_ref().map(|c| &t * c * t.transpose());
            let sst = weighted_sst(&s.values, problem.w.as_deref());
            finish(&mut law, [a, b], cov.as_ref(), sol.ssr, sst);
            law.converged = sol.converged;
            let note = format!("nonlinear least squares: {}", sol.termination);
            law.message = Some(match law.message.take() {
                Some(m) => format!("{note}; {m}"),
                None => note,
            });
        }
        Err(e) => {
            law.converged = false;
            law.message = Some(format!("no fit: {e}"));
        }
    }
    law
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
    let mut single = Vec::new();
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
            };
            let shared = members
                .iter()
                .all(|f| f.shared.as_ref().is_some_and(|s| s.contains(&name)));
            if shared {
                let p = &members[0].params[&name];
                let t = t95(0);
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
            laws.push(log_linear(&series, template.clone()));
            laws.push(power_law(&series, template));
        }
    }
    if laws.is_empty() {
        return Err(Error::Analysis(format!(
            "no regression is possible: {}",
            single.join("; ")
        )));
    }
    warnings.extend(single);
    Ok(ScalingDoc {
        goodhart_version: VERSION.to_string(),
        by: opts.by,
        laws,
        joint: Vec::new(),
        warnings,
    })
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
            _ => format!("{} + {}*log10(N)", g6(l.a), g6(l.b)),
        };
        let _ = writeln!(
            s,
            "{} {} {}{} {:<10} {:<10} {}  (a ± {}, b ± {}, R² {}, AIC {}, {} sizes){}",
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
            if l.converged {
                String::new()
            } else {
                "  NOT CONVERGED".to_string()
            }
        );
    }
    s
}
