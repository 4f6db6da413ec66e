//! `goodhart fit --compare-forms`: every form fitted to every curve on the same points, ranked by
//! AIC (best first), with SSE, BIC and, with --holdout-above, the holdout RMSE (the paper's
//! extrapolation test, by which it rejected d(alpha - beta ln(1+d)) and d(alpha - beta d^gamma)).

use std::fmt::Write as _;

use super::{CurveFit, FitOptions, fit_curve};
use crate::curves::Curve;
use crate::document::{FormComparison as Comparison, FormScore};
use crate::error::Result;
use crate::format::g6;
use crate::forms::FormId;
use crate::schema::CurveKey;

/// Fits every form to the curves and targets of `fits`, and ranks them per curve.
pub fn compare_forms(
    curves: &[Curve],
    fits: &[CurveFit],
    opts: &FitOptions,
) -> Result<Vec<Comparison>> {
    let mut out = Vec::new();
    for f in fits {
        let Some(curve) = curves.iter().find(|c| c.key == f.key) else {
            continue;
        };
        let mut scores = Vec::new();
        for form in FormId::ALL {
            // The comparison needs the fits' statistics only: no bootstrap.
            let o = FitOptions {
                form: Some(form),
                bootstrap: 0,
                ..opts.clone()
            };
            let (fitted, message) = match fit_curve(curve, f.target, &o) {
                Ok(cf) => {
                    let msg = match &cf.outcome {
                        Ok(ff) => (!ff.notes.is_empty()).then(|| ff.notes.join("; ")),
                        Err(e) => Some(e.clone()),
                    };
                    (Some(cf), msg)
                }
                Err(e) => (None, Some(e.to_string())),
            };
            let ff = fitted.as_ref().and_then(|c| c.fitted());
            scores.push(FormScore {
                rank: 0,
                form,
                formula: form.form().formula().to_string(),
                n_params: form.form().param_names().len(),
                n_points: ff.map_or(0, |f| f.stats.n_points),
                sse: ff.map(|f| f.stats.chisqr),
                aic: ff.map(|f| f.stats.aic),
                bic: ff.map(|f| f.stats.bic),
                delta_aic: None,
                holdout_rmse: fitted.as_ref().and_then(|c| c.holdout).and_then(|h| h.rmse),
                converged: ff.is_some(),
                message,
            });
        }
        scores.sort_by(|a, b| {
            let key = |s: &FormScore| s.aic.unwrap_or(f64::INFINITY);
            key(a).total_cmp(&key(b))
        });
        let best = scores.first().and_then(|s| s.aic);
        for (i, s) in scores.iter_mut().enumerate() {
            s.rank = i + 1;
            s.delta_aic = s.aic.zip(best).map(|(a, b)| a - b);
        }
        out.push(Comparison {
            method: f.key.method,
            rm_params: f.key.rm_params,
            policy_params: f.key.policy_params,
            rm_data: f.key.rm_data,
            kl_penalty: f.key.kl_penalty,
            target: f.target,
            forms: scores,
        });
    }
    Ok(out)
}

/// A plain-text table of the rankings (printed by `goodhart fit --compare-forms`).
pub fn report(comparisons: &[Comparison]) -> String {
    let mut s = String::new();
    for c in comparisons {
        let key = CurveKey {
            method: c.method,
            rm_params: c.rm_params,
            policy_params: c.policy_params,
            rm_data: c.rm_data,
            kl_penalty: c.kl_penalty,
        };
        // every key column, as [[Fit]] names its curve: blocks that share rm_params differ
        let _ = writeln!(s, "[[Form comparison]] {key}  target: {}", c.target);
        let _ = writeln!(
            s,
            "    {:<4} {:<9} {:>12} {:>12} {:>12} {:>10} {:>13}",
            "rank", "form", "SSE", "AIC", "BIC", "dAIC", "holdout RMSE"
        );
        for f in &c.forms {
            let opt = |x: Option<f64>| x.map_or("n/a".to_string(), g6);
            let _ = writeln!(
                s,
                "    {:<4} {:<9} {:>12} {:>12} {:>12} {:>10} {:>13}{}",
                f.rank,
                f.form,
                opt(f.sse),
                opt(f.aic),
                opt(f.bic),
                opt(f.delta_aic),
                opt(f.holdout_rmse),
                if f.converged {
                    String::new()
                } else {
                    format!("  no fit: {}", f.message.clone().unwrap_or_default())
                }
            );
        }
        s.push('\n');
    }
    s
}
