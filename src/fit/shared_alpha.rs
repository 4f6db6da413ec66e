//! `goodhart fit --share-alpha-rl`: the paper's practice for RL, one alpha for all RL curves of a
//! family (same target, policy_params, rm_data, kl_penalty) and one beta per curve, solved
//! exactly as one block least-squares problem. The fits document marks those fits
//! `"shared": ["alpha"]` and gives the joint covariance under `"shared_fits"`
//! ([`crate::document::SharedFit`]).

use nalgebra::{DMatrix, DVector};

use super::{
    Baseline, CurveFit, CurvePoints, FitOptions, FitStats, FittedForm, Holdout, ParamEstimate,
    Points, Target, curve_points, solve_linear,
};
use crate::curves::Curve;
use crate::document::SharedFit;
use crate::error::{Error, Result};
use crate::schema::Method;
use crate::stats::t95;

/// Replaces the RL fits in `fits` by shared-alpha block fits (one per family); returns the
/// blocks. Families with a single curve are left as fitted.
pub fn share_alpha_rl(
    curves: &[Curve],
    opts: &FitOptions,
    fits: &mut [CurveFit],
) -> Result<Vec<SharedFit>> {
    share_alpha_rl_where(curves, opts, fits, |_| true)
}

/// Whether an RL curve is unpenalised (kl_penalty 0 or not given): the paper shares alpha only
/// among such runs ([`share_alpha_rl_where`]).
pub fn unpenalised(key: &crate::schema::CurveKey) -> bool {
    key.kl_penalty.is_none_or(|p| p == 0.0)
}

/// [`share_alpha_rl`] among the RL curves for which `keep` holds; the others keep their own
/// alpha.
pub fn share_alpha_rl_where(
    curves: &[Curve],
    opts: &FitOptions,
    fits: &mut [CurveFit],
    keep: impl Fn(&crate::schema::CurveKey) -> bool,
) -> Result<Vec<SharedFit>> {
    type Family = (Target, Vec<Option<u64>>);
    let mut families: std::collections::BTreeMap<Family, Vec<usize>> = Default::default();
    for (i, f) in fits.iter().enumerate() {
        if f.key.method != Method::Rl || !keep(&f.key) {
            continue;
        }
        let k = [f.key.policy_params, f.key.rm_data, f.key.kl_penalty]
            .iter()
            .map(|v| v.map(f64::to_bits))
            .collect();
        families.entry((f.target, k)).or_default().push(i);
    }
    if !fits.iter().any(|f| f.key.method == Method::Rl) {
        return Err(Error::Analysis(
            "--share-alpha-rl: the input has no RL curves".to_string(),
        ));
    }
    let mut blocks = Vec::new();
    for ((target, _), members) in families {
        if members.len() < 2 {
            continue;
        }
        let form = fits[members[0]].form;
        let Some(lin) = form.linear() else {
            return Err(Error::Analysis(format!(
                "--share-alpha-rl needs a linear form; {} is fitted by nonlinear least squares",
                form.form().id()
            )));
        };
        let pts: Vec<CurvePoints> = members
            .iter()
            .map(|&i| {
                let c = curves
                    .iter()
                    .find(|c| c.key == fits[i].key)
                    .ok_or_else(|| Error::Analysis(format!("curve {} not found", fits[i].key)))?;
                Ok(curve_points(c, target, opts))
            })
            .collect::<Result<_>>()?;
        let k = members.len();
        let n: usize = pts.iter().map(|p| p.fit.d.len()).sum();
        let weighted = pts.iter().all(|p| p.fit.w.is_some());
        let mut x = DMatrix::zeros(n, k + 1);
        let (mut y, mut w, mut owner) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let mut row = [0.0; 2];
        let mut r = 0;
        for (m, p) in pts.iter().enumerate() {
            for i in 0..p.fit.d.len() {
                lin.basis(p.fit.d[i], &mut row);
                x[(r, 0)] = row[0];
                x[(r, 1 + m)] = row[1];
                y.push(p.fit.y[i]);
                w.push(if weighted {
                    p.fit.w.as_ref().map_or(1.0, |w| w[i])
                } else {
                    1.0
                });
                owner.push(m);
                r += 1;
            }
        }
        let sol = solve_linear(&x, &y, Some(&w)).map_err(|e| {
            Error::Analysis(format!(
                "--share-alpha-rl: the shared fit of {k} RL curves has no unique solution: {e}"
            ))
        })?;
        let dof = n.saturating_sub(k + 1);
        let redchi = (dof > 0).then(|| sol.chisqr / dof as f64);
        let share_test = share_test(
            members
                .iter()
                .map(|&i| fits[i].fitted().map(|f| f.stats.chisqr)),
            sol.chisqr,
            k,
            n,
            weighted || pts.iter().all(|p| p.fit.w.is_none()),
        );
        let group = family_name(&fits[members[0]], target);
        let mut block_warnings = Vec::new();
        if let Some(t) = share_test.as_ref().filter(|t| t.p_value < REJECT_P) {
            block_warnings.push(format!(
                "the shared alpha of {group} is rejected by the data: F = {:.1} on ({}, {}) degrees of freedom, p = {} (one alpha per curve fits much better); its curves do not share one alpha, so the shared fits' parameters and error bars are not to be trusted",
                t.f,
                t.dof_num,
                t.dof_den,
                fmt_p(t.p_value)
            ));
        }
        let mut cov = redchi.map(|s2| &sol.cov_unscaled * s2);
        let mut baseline_se = vec![None; k];
        if let (Some(cov), Some(s2)) = (cov.as_mut(), redchi) {
            for (m, p) in pts.iter().enumerate() {
                if p.baseline_se2.is_empty() {
                    continue;
                }
                let kz = p.baseline_se2.len() as f64;
                let s2b = if weighted { s2.max(1.0) } else { s2 };
                let var_b = s2b * p.baseline_se2.iter().sum::<f64>() / (kz * kz);
                baseline_se[m] = Some(var_b.sqrt());
                let ind: Vec<f64> = owner
                    .iter()
                    .map(|&o| if o == m { 1.0 } else { 0.0 })
                    .collect();
                if let Ok(u) = solve_linear(&x, &ind, Some(&w)) {
                    let u = DVector::from_vec(u.coef);
                    *cov += &u * u.transpose() * var_b;
                }
            }
        }
        let t = t95(dof.max(1));
        let mut r0 = 0;
        let mut member_warnings = Vec::new();
        for (m, &fi) in members.iter().enumerate() {
            let p = &pts[m];
            let nm = p.fit.d.len();
            let params_v = [sol.coef[0], sol.coef[1 + m]];
            let sub = cov.as_ref().map(|c| {
                DMatrix::from_row_slice(
                    2,
                    2,
                    &[c[(0, 0)], c[(0, 1 + m)], c[(1 + m, 0)], c[(1 + m, 1 + m)]],
                )
            });
            let params = ["alpha", "beta"]
                .iter()
                .enumerate()
                .map(|(j, &name)| {
                    let se = sub.as_ref().map(|c| c[(j, j)].max(0.0).sqrt());
                    ParamEstimate {
                        name,
                        value: params_v[j],
                        se,
                        ci_low: se.map(|s| params_v[j] - t * s),
                        ci_high: se.map(|s| params_v[j] + t * s),
                    }
                })
                .collect();
            let res = &sol.residuals[r0..r0 + nm];
            let wm = &w[r0..r0 + nm];
            r0 += nm;
            let chisqr: f64 = res.iter().zip(wm).map(|(r, w)| w * r * r).sum();
            let wsum: f64 = wm.iter().sum();
            let ymean = p.fit.y.iter().zip(wm).map(|(y, w)| w * y).sum::<f64>() / wsum;
            let sst: f64 = p
                .fit
                .y
                .iter()
                .zip(wm)
                .map(|(y, w)| w * (y - ymean).powi(2))
                .sum();
            let ll = nm as f64 * (chisqr.max(1e-250 * nm as f64) / nm as f64).ln();
            let fitted = FittedForm {
                form,
                params,
                covariance: sub,
                stats: FitStats {
                    n_points: nm,
                    dof,
                    chisqr,
                    redchi,
                    r2: if sst > 0.0 {
                        1.0 - chisqr / sst
                    } else {
                        f64::NAN
                    },
                    rmse: (res.iter().map(|r| r * r).sum::<f64>() / nm as f64).sqrt(),
                    aic: ll + 2.0 * 2.0,
                    bic: ll + (nm as f64).ln() * 2.0,
                    condition_number: sol.condition,
                },
                notes: vec![format!(
                    "alpha shared by {k} RL curves (one block least-squares fit of {n} points, {dof} degrees of freedom); error bars from the joint covariance; chisqr, R², AIC and BIC are this curve's own"
                )],
            };
            let r2 = fitted.stats.r2;
            let fit = &mut fits[fi];
            if r2 < 0.0 {
                let w = format!(
                    "the shared alpha of {group} fits this curve worse than a constant (R² = {r2:.3} for rm_params={}); fit it without --share-alpha-rl",
                    crate::format::fmt_num(fit.key.rm_params),
                );
                fit.warnings.push(w.clone());
                member_warnings.push(w);
            }
            if let Some(h) = fit.holdout.as_mut() {
                *h = holdout(h.above_kl, &p.hold, &fitted);
            }
            if let Some(b) = fit.baseline.as_mut() {
                *b = Baseline {
                    se: baseline_se[m],
                    ..*b
                };
            }
            // The shared fit's intervals are Student-t ones from the joint covariance, whatever
            // replicate intervals the single-curve fit had.
            fit.bootstrap_replicates = None;
            fit.bootstrap = None;
            // The single-curve fit's warnings on what its numbers mean are about numbers no
            // longer reported: the shared fit's replace them (its R² has its own warning above).
            fit.warnings.retain(|w| !super::is_meaning_warning(w));
            fit.warnings.extend(super::meaning_warnings(
                &fitted,
                target,
                fit.kl_range.1,
                false,
                &p.fit,
            ));
            fit.outcome = Ok(fitted);
        }
        let f0 = &fits[members[0]];
        blocks.push(SharedFit {
            method: Method::Rl,
            target,
            form,
            policy_params: f0.key.policy_params,
            rm_data: f0.key.rm_data,
            kl_penalty: f0.key.kl_penalty,
            shared: vec!["alpha".to_string()],
            names: std::iter::once("alpha".to_string())
                .chain(members.iter().map(|&i| {
                    format!(
                        "beta[rm_params={}]",
                        crate::format::fmt_num(fits[i].key.rm_params)
                    )
                }))
                .collect(),
            values: sol.coef.clone(),
            covariance: cov.map(|c| {
                (0..=k)
                    .map(|i| (0..=k).map(|j| c[(i, j)]).collect())
                    .collect()
            }),
            fit_indices: members.clone(),
            n_points: n,
            dof,
            chisqr: sol.chisqr,
            redchi,
            condition_number: sol.condition,
            share_test,
            warnings: block_warnings
                .iter()
                .chain(&member_warnings)
                .cloned()
                .collect(),
        });
        for &fi in &members {
            fits[fi].warnings.extend(block_warnings.iter().cloned());
        }
    }
    Ok(blocks)
}

/// The p-value below which the shared alpha is reported as rejected.
pub const REJECT_P: f64 = 1e-3;

/// "RL family (policy_params=.., rm_data=.., kl_penalty=..; gold)", naming a block in warnings.
fn family_name(f: &CurveFit, target: Target) -> String {
    let part =
        |name: &str, v: Option<f64>| v.map(|v| format!("{name}={}", crate::format::fmt_num(v)));
    let parts: Vec<String> = [
        part("policy_params", f.key.policy_params),
        part("rm_data", f.key.rm_data),
        part("kl_penalty", f.key.kl_penalty),
    ]
    .into_iter()
    .flatten()
    .collect();
    format!("the RL family ({}; {})", parts.join(", "), target.as_str())
}

fn fmt_p(p: f64) -> String {
    if p == 0.0 {
        "< 1e-300".to_string()
    } else {
        format!("{p:.2e}")
    }
}

/// The extra-sum-of-squares F test of one alpha for all k curves against one alpha per curve
/// (2k parameters, n points); `None` when a member's own fit failed, the weights differ between
/// the two fits, or the free fits have no residual degrees of freedom.
fn share_test(
    free: impl Iterator<Item = Option<f64>>,
    chisqr_shared: f64,
    k: usize,
    n: usize,
    comparable: bool,
) -> Option<crate::document::ShareTest> {
    use statrs::distribution::{ContinuousCDF, FisherSnedecor};
    if !comparable || k < 2 || n <= 2 * k {
        return None;
    }
    let chisqr_free: f64 = free.collect::<Option<Vec<f64>>>()?.iter().sum();
    let (d1, d2) = (k - 1, n - 2 * k);
    let extra = (chisqr_shared - chisqr_free).max(0.0);
    let f = if chisqr_free > 0.0 {
        (extra / d1 as f64) / (chisqr_free / d2 as f64)
    } else if extra > 0.0 {
        f64::INFINITY
    } else {
        0.0
    };
    let p_value = if f.is_infinite() {
        0.0
    } else {
        FisherSnedecor::new(d1 as f64, d2 as f64)
            .ok()
            .map(|dist| dist.sf(f))?
    };
    Some(crate::document::ShareTest {
        chisqr_free,
        f,
        dof_num: d1,
        dof_den: d2,
        p_value,
    })
}

fn holdout(above_kl: f64, hold: &Points, f: &FittedForm) -> Holdout {
    let m = hold.d.len();
    let errors: Vec<f64> = hold
        .d
        .iter()
        .zip(&hold.y)
        .map(|(&d, &y)| f.predict(d) - y)
        .collect();
    Holdout {
        above_kl,
        points: m,
        rmse: (m > 0).then(|| (errors.iter().map(|e| e * e).sum::<f64>() / m as f64).sqrt()),
        max_abs_error: (m > 0).then(|| errors.iter().fold(0.0_f64, |a, e| a.max(e.abs()))),
    }
}

/// The shared-alpha blocks in `goodhart fit`'s report: each family's alpha, its reduced
/// chi-square and the test of sharing against one alpha per curve.
pub fn report(blocks: &[SharedFit]) -> String {
    use std::fmt::Write;
    if blocks.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "\nShared alpha (--share-alpha-rl): F test of one alpha per family against one per curve\n",
    );
    for b in blocks {
        let mut family: Vec<String> = Vec::new();
        for (name, v) in [
            ("policy_params", b.policy_params),
            ("rm_data", b.rm_data),
            ("kl_penalty", b.kl_penalty),
        ] {
            if let Some(v) = v {
                family.push(format!("{name}={}", crate::format::fmt_num(v)));
            }
        }
        let test = match &b.share_test {
            Some(t) => format!(
                "F = {:.1} on ({}, {}) dof, p = {}{}",
                t.f,
                t.dof_num,
                t.dof_den,
                fmt_p(t.p_value),
                if t.p_value < REJECT_P {
                    "  REJECTED"
                } else {
                    ""
                }
            ),
            None => "no test".to_string(),
        };
        let _ = writeln!(
            out,
            "  {} {} ({} curves): alpha = {}, redchi = {}; {test}",
            b.target.as_str(),
            family.join(" "),
            b.fit_indices.len(),
            b.values
                .first()
                .map_or("-".to_string(), |v| crate::format::fmt_num(*v)),
            b.redchi.map_or("-".to_string(), crate::format::fmt_num),
        );
    }
    out
}
