//! `goodhart scale --joint`: one fit over all curves of a method, with alpha(N) = a0 + a1 log10 N
//! and beta(N) = b0 + b1 log10 N, linear in the four parameters and solved exactly; its
//! covariance is coherent (alpha and beta laws correlated), unlike the two-stage regressions.
//!
//! The joint fit needs the points, so `scale --joint` takes the Curves files with `--curves`;
//! they are prepared as `goodhart fit` prepares them by default: gold target, the method's paper
//! form, the mean score of the kl = 0 points subtracted (those points left out, the baseline's
//! uncertainty added to the covariance), weights 1/gold_se² when the table has `gold_se`.

use std::collections::BTreeMap;

use nalgebra::{DMatrix, DVector};

use crate::curves::Curve;
use crate::document::{JointFit, Law, LawModelKind, SizeKey, Target};
use crate::error::{Error, Result};
use crate::forms::FormId;
use crate::schema::{KEY_NAMES, Method};
use crate::solve::solve_linear;
use crate::stats::t95;

/// A curve's points prepared for fitting: d, baseline-subtracted gold, optional weights, and the
/// squared standard errors of its kl = 0 points.
struct Prepared {
    size: f64,
    d: Vec<f64>,
    y: Vec<f64>,
    w: Option<Vec<f64>>,
    zeros_se2: Vec<f64>,
}

fn prepare(c: &Curve, size: f64) -> Prepared {
    // The points `goodhart fit` uses by default: gold, the kl = 0 mean subtracted.
    let cp = crate::fit::curve_points(
        c,
        crate::fit::Target::Gold,
        &crate::fit::FitOptions::default(),
    );
    Prepared {
        size,
        d: cp.fit.d,
        y: cp.fit.y,
        w: cp.fit.w,
        zeros_se2: cp.baseline_se2,
    }
}

fn size_of(c: &Curve, by: SizeKey) -> Option<f64> {
    match by {
        SizeKey::RmParams => Some(c.key.rm_params),
        SizeKey::RmData => c.key.rm_data,
        SizeKey::PolicyParams => c.key.policy_params,
    }
}

fn key_of(c: &Curve, name: &str) -> Option<f64> {
    match name {
        crate::schema::RM_PARAMS => Some(c.key.rm_params),
        crate::schema::POLICY_PARAMS => c.key.policy_params,
        crate::schema::RM_DATA => c.key.rm_data,
        crate::schema::KL_PENALTY => c.key.kl_penalty,
        _ => None,
    }
}

/// Joint fits of every method (and group) of the curves; also returns their alpha and beta laws
/// (model `joint`) so that `predict --model joint` can use them.
pub fn joint_fits(curves: &[Curve], by: SizeKey) -> Result<(Vec<JointFit>, Vec<Law>)> {
    type Key = (Method, Vec<Option<u64>>);
    let mut groups: BTreeMap<Key, Vec<&Curve>> = BTreeMap::new();
    for c in curves {
        let Some(size) = size_of(c, by) else {
            return Err(Error::Analysis(format!(
                "--joint --by {}: curve {} has no {} value",
                by.as_str(),
                c.key,
                by.as_str()
            )));
        };
        if !(size.is_finite() && size > 0.0) {
            return Err(Error::Analysis(format!(
                "--joint: curve {}: size {size} is not > 0",
                c.key
            )));
        }
        let others = KEY_NAMES
            .iter()
            .filter(|k| **k != by.as_str())
            .map(|k| key_of(c, k).map(f64::to_bits))
            .collect();
        groups.entry((c.key.method, others)).or_default().push(c);
    }
    let mut fits = Vec::new();
    let mut laws = Vec::new();
    for ((method, others), members) in groups {
        let group: BTreeMap<String, Option<f64>> = KEY_NAMES
            .iter()
            .filter(|k| **k != by.as_str())
            .zip(&others)
            .map(|(k, v)| (k.to_string(), v.map(f64::from_bits)))
            .collect();
        let mut sizes: Vec<f64> = members.iter().filter_map(|c| size_of(c, by)).collect();
        sizes.sort_by(f64::total_cmp);
        sizes.dedup();
        if sizes.len() < 2 {
            return Err(Error::Analysis(format!(
                "--joint: the {method} curves have a single {} ({}): a joint fit on size needs at least 2 sizes",
                by.as_str(),
                crate::format::fmt_num(sizes[0])
            )));
        }
        let form = FormId::for_method(method);
        let f = form
            .linear()
            .ok_or_else(|| Error::Analysis("the paper's forms are linear".to_string()))?;
        let prepared: Vec<Prepared> = members
            .iter()
            .map(|c| prepare(c, size_of(c, by).unwrap_or(f64::NAN)))
            .collect();
        let weighted = prepared.iter().all(|p| p.w.is_some());
        let n: usize = prepared.iter().map(|p| p.d.len()).sum();
        let mut x = DMatrix::zeros(n, 4);
        let mut y = Vec::with_capacity(n);
        let mut w = Vec::with_capacity(n);
        let mut owner = Vec::with_capacity(n);
        let mut row = [0.0; 2];
        let mut r = 0;
        for (k, p) in prepared.iter().enumerate() {
            let lx = p.size.log10();
            for i in 0..p.d.len() {
                f.basis(p.d[i], &mut row);
                x[(r, 0)] = row[0];
                x[(r, 1)] = row[0] * lx;
                x[(r, 2)] = row[1];
                x[(r, 3)] = row[1] * lx;
                y.push(p.y[i]);
                w.push(if weighted {
                    p.w.as_ref().map_or(1.0, |w| w[i])
                } else {
                    1.0
                });
                owner.push(k);
                r += 1;
            }
        }
        let sol = solve_linear(&x, &y, Some(&w)).map_err(|e| {
            Error::Analysis(format!(
                "--joint: the {method} joint fit has no unique solution: {e}"
            ))
        })?;
        let dof = n.saturating_sub(4);
        let redchi = (dof > 0).then(|| sol.chisqr / dof as f64);
        let mut cov = redchi.map(|s2| &sol.cov_unscaled * s2);
        // Each curve's subtracted baseline shifts its points together (see fit::propagate_baseline).
        if let (Some(cov), Some(s2)) = (cov.as_mut(), redchi) {
            for (k, p) in prepared.iter().enumerate() {
                if p.zeros_se2.is_empty() {
                    continue;
                }
                let kz = p.zeros_se2.len() as f64;
                let var_b = s2 * p.zeros_se2.iter().sum::<f64>() / (kz * kz);
                let ind: Vec<f64> = owner
                    .iter()
                    .map(|&o| if o == k { 1.0 } else { 0.0 })
                    .collect();
                if let Ok(u) = solve_linear(&x, &ind, Some(&w)) {
                    let u = DVector::from_vec(u.coef);
                    *cov += &u * u.transpose() * var_b;
                }
            }
        }
        let se = cov.as_ref().map(|c| {
            (0..4)
                .map(|j| c[(j, j)].max(0.0).sqrt())
                .collect::<Vec<f64>>()
        });
        let aic = n as f64 * (sol.chisqr.max(1e-250 * n as f64) / n as f64).ln() + 8.0;
        let t = t95(dof);
        for (coef, i) in [("alpha", 0usize), ("beta", 2usize)] {
            let (a, b) = (sol.coef[i], sol.coef[i + 1]);
            let (a_se, b_se, cab) = match &cov {
                Some(c) => (
                    Some(c[(i, i)].sqrt()),
                    Some(c[(i + 1, i + 1)].sqrt()),
                    Some(c[(i, i + 1)]),
                ),
                None => (None, None, None),
            };
            laws.push(Law {
                method,
                target: Target::Gold,
                form,
                coefficient: coef.to_string(),
                model: LawModelKind::Joint,
                group: group.clone(),
                a,
                b,
                a_se,
                b_se,
                cov_ab: cab,
                a_ci: a_se.map(|s| [a - t * s, a + t * s]),
                b_ci: b_se.map(|s| [b - t * s, b + t * s]),
                r2: None,
                sizes: sizes.clone(),
                values: Vec::new(),
                aic: Some(aic),
                chisqr: Some(sol.chisqr),
                n,
                dof,
                weighted,
                converged: true,
                message: Some("from the joint four-parameter fit (see \"joint\")".to_string()),
                tau2: None,
                fit_se_rms: None,
                group_kl_max: None,
                no_peak_fits: None,
                form_rejected_fits: None,
            });
        }
        fits.push(JointFit {
            method,
            target: Target::Gold,
            form,
            group,
            names: ["a0", "a1", "b0", "b1"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            values: sol.coef.clone(),
            se,
            covariance: cov.map(|c| {
                (0..4)
                    .map(|i| (0..4).map(|j| c[(i, j)]).collect())
                    .collect()
            }),
            sizes,
            n_points: n,
            dof,
            chisqr: sol.chisqr,
            redchi,
            aic,
            weighted,
        });
    }
    Ok((fits, laws))
}
