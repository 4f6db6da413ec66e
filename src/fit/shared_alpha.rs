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
    type Family = (Target, Vec<Option<u64>>);
    let mut families: std::collections::BTreeMap<Family, Vec<usize>> = Default::default();
    for (i, f) in fits.iter().enumerate() {
        if f.key.method != Method::Rl {
            continue;
        }
        let k = [f.key.policy_params, f.key.rm_data, f.key.kl_penalty]
            .iter()
            .map(|v| v.map(f64::to_bits))
            .collect();
        families.entry((f.target, k)).or_default().push(i);
    }
    if families.is_empty() {
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
        let mut cov = redchi.map(|s2| &sol.cov_unscaled * s2);
        let mut baseline_se = vec![None; k];
        if let (Some(cov), Some(s2)) = (cov.as_mut(), redchi) {
            for (m, p) in pts.iter().enumerate() {
                if p.baseline_se2.is_empty() {
                    continue;
                }
                let kz = p.baseline_se2.len() as f64;
                let var_b = s2 * p.baseline_se2.iter().sum::<f64>() / (kz * kz);
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
            let fit = &mut fits[fi];
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
        });
    }
    Ok(blocks)
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
