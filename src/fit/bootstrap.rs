//! Percentile intervals from bootstrap replicate curves (`goodhart bon --bootstrap`): every
//! replicate is fitted like its curve.

use super::{FitOptions, FittedForm, Target, fit_curve};
use crate::curves::Curve;

/// The q-quantile of sorted values, interpolating linearly between order statistics (numpy's
/// default).
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Percentile 95% intervals from the curve's bootstrap replicates (rows with a `replicate`
/// number, as `goodhart bon --bootstrap` writes): every replicate is fitted like the curve, and
/// each parameter's interval runs from the 2.5th to the 97.5th percentile of its replicate
/// values. Values and standard errors stay those of the fit to the point estimate. Returns the
/// number of replicate fits used, or `None` when there are no replicates (or too few fit).
pub(super) fn bootstrap_intervals(
    curve: &Curve,
    target: Target,
    opts: &FitOptions,
    outcome: &mut std::result::Result<FittedForm, String>,
    warnings: &mut Vec<String>,
) -> Option<usize> {
    if curve.replicates.is_empty() {
        return None;
    }
    let fitted = outcome.as_mut().ok()?;
    let opts = FitOptions {
        holdout_above: None,
        ..opts.clone()
    };
    let values: Vec<Vec<f64>> = curve
        .replicates
        .iter()
        .filter_map(|r| fit_curve(r, target, &opts).ok())
        .filter_map(|f| f.fitted().map(FittedForm::values))
        .filter(|v| v.len() == fitted.params.len())
        .collect();
    let total = curve.replicates.len();
    if values.len() < 2 {
        warnings.push(format!(
            "only {} of {total} bootstrap replicate(s) could be fitted: Student-t intervals are given instead",
            values.len()
        ));
        return None;
    }
    if values.len() < total {
        warnings.push(format!(
            "{} of {total} bootstrap replicate(s) could not be fitted; the intervals use the other {}",
            total - values.len(),
            values.len()
        ));
    }
    for (j, p) in fitted.params.iter_mut().enumerate() {
        let mut v: Vec<f64> = values.iter().map(|r| r[j]).collect();
        v.sort_by(f64::total_cmp);
        p.ci_low = Some(percentile(&v, 0.025));
        p.ci_high = Some(percentile(&v, 0.975));
    }
    Some(values.len())
}
