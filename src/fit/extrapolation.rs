//! The extrapolation test of every curve (the paper's Fig. 26), computed once here and carried
//! in the fits document so that figures and reports only draw it: each curve's gold points at or
//! below its median positive KL are fitted with the method's paper form, and the fit is scored on
//! the points above (the `--holdout-above` machinery of [`super::fit_curve`]).

use super::{FitOptions, TargetChoice, fit_curve};
use crate::curves::Curve;
use crate::document::{ExtrapolationTest, HoldoutRecord, Target};
use crate::forms::FormId;
use crate::solve::FittedForm;

/// Points needed at or below the cutoff for a test to be made.
pub const MIN_FITTED_POINTS: usize = 4;

/// The test of one curve, or `None` when it has too few points left of its median KL or the
/// fit fails.
pub fn extrapolation_test(c: &Curve) -> Option<ExtrapolationTest> {
    let kls: Vec<f64> = c.kl.iter().copied().filter(|k| *k > 0.0).collect();
    let cut = crate::stats::median(&kls)?;
    if kls.iter().filter(|k| **k <= cut).count() < MIN_FITTED_POINTS {
        return None;
    }
    let form = FormId::for_method(c.key.method);
    let opts = FitOptions {
        form: Some(form),
        target: TargetChoice::Gold,
        holdout_above: Some(cut),
        bootstrap: 0,
        ..FitOptions::default()
    };
    // Bootstrap replicates would be refitted too: the test needs the point estimate only.
    let point_estimate = Curve {
        key: c.key,
        kl: c.kl.clone(),
        gold: c.gold.clone(),
        proxy: None,
        gold_se: c.gold_se.clone(),
        proxy_se: None,
        entropy: None,
        replicates: Vec::new(),
        prompts: None,
    };
    let fit = fit_curve(&point_estimate, Target::Gold, &opts).ok()?;
    let fitted = fit.fitted()?;
    let h = fit.holdout?;
    Some(ExtrapolationTest {
        method: c.key.method,
        rm_params: c.key.rm_params,
        policy_params: c.key.policy_params,
        rm_data: c.key.rm_data,
        kl_penalty: c.key.kl_penalty,
        target: Target::Gold,
        form,
        cutoff_kl: cut,
        params: FittedForm::values(fitted),
        baseline: fit.baseline.map_or(0.0, |b| b.value),
        n_points: fitted.stats.n_points,
        holdout: HoldoutRecord {
            above_kl: h.above_kl,
            points: h.points,
            rmse: h.rmse,
            max_abs_error: h.max_abs_error,
        },
    })
}

/// The tests of every curve that supports one, in the order of `curves`.
pub fn extrapolation_tests(curves: &[Curve]) -> Vec<ExtrapolationTest> {
    use rayon::prelude::*;
    curves.par_iter().filter_map(extrapolation_test).collect()
}
