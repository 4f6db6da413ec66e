//! The form check: a gold fit of one of the paper's two forms (best-of-n d(α − βd), RL
//! d(α − β ln d)) is compared, on the same points, with the other form, so that a curve the
//! other form fits much better says so instead of handing on coefficients that do not describe
//! it.
//!
//! Both forms have two parameters, so the comparison is a likelihood ratio: with lmfit's
//! AIC = n ln(χ²/n) + 2k, the difference is n ln(χ²_form / χ²_alternative). lmfit's AIC counts
//! every point as independent evidence, so the verdict is judged on `evidence`: the difference
//! scaled to the points the residuals are worth (the AR(1) effective sample size of the better
//! form's residuals: correlated noise, smoothed logs and a smooth misfit of both forms count as
//! few points), no larger, for a weighted fit, than the weighted chi-square difference the
//! standard errors allow, and 0 when both forms fit to rounding. Above [`FORM_CHECK_DELTA_AIC`]
//! (10, where Burnham and Anderson say a model has "essentially no support") the fit is
//! rejected: it carries a warning, the laws of `goodhart scale` count it (`form_rejected_fits`,
//! with a warning naming the group) and `goodhart predict` warns for its group. A best-of-n
//! curve's points are all estimated from the same samples (neighbouring n correlate at about
//! 0.99): there the difference is given but not judged. Curves with fewer than
//! [`FORM_CHECK_MIN_POINTS`] points are not checked: with two parameters a curve of 2 points is
//! fitted exactly by both forms and the difference is rounding.

use crate::document::{FormCheck, FormVerdict, Target};
use crate::forms::FormId;
use crate::schema::Method;
use crate::solve::{FittedForm, Points};

/// The AIC difference above which a fitted form is rejected in favour of the other paper form.
pub const FORM_CHECK_DELTA_AIC: f64 = 10.0;

/// The fewest fitted points for a form check (3 degrees of freedom for each form).
pub const FORM_CHECK_MIN_POINTS: usize = 5;

/// The other of the paper's two forms, for a form that is one of them.
pub fn alternative(form: FormId) -> Option<FormId> {
    match form {
        FormId::Bon => Some(FormId::Rl),
        FormId::Rl => Some(FormId::Bon),
        FormId::RlLog1p | FormId::Power => None,
    }
}

/// The form check of `fitted` (a fit of the points `pts` of a curve of `method`): `None` for a
/// proxy fit, for a form other than the paper's two, for fewer than
/// [`FORM_CHECK_MIN_POINTS`] points, or when the alternative cannot be fitted to these points.
/// The verdict is judged on the check's `evidence`, not on the raw `delta_aic`.
///
/// ```
/// use goodhart::fit::{Points, form_check::form_check};
/// use goodhart::forms::FormId;
/// use goodhart::document::{FormVerdict, Target};
/// use goodhart::schema::Method;
/// use goodhart::solve::form_fit::fit_points;
/// // An RL run whose gold is a best-of-n curve, 0.8 d − 0.1 d²: the RL form is rejected.
/// let d: Vec<f64> = (1..=30).map(|i| 0.2 * i as f64).collect();
/// let y = d.iter().map(|d| 0.8 * d - 0.1 * d * d).collect();
/// let pts = Points { d, y, w: None };
/// let rl = fit_points(FormId::Rl, &pts).unwrap();
/// let check = form_check(&rl, Method::Rl, Target::Gold, &pts).unwrap();
/// assert_eq!(check.alternative, FormId::Bon);
/// assert_eq!(check.verdict, FormVerdict::Rejected);
/// assert!(check.delta_aic > 10.0);
/// ```
pub fn form_check(
    fitted: &FittedForm,
    method: Method,
    target: Target,
    pts: &Points,
) -> Option<FormCheck> {
    let n = pts.d.len();
    if target != Target::Gold || n < FORM_CHECK_MIN_POINTS {
        return None;
    }
    let other = alternative(fitted.form)?;
    let alt = crate::solve::form_fit::fit_points(other, pts).ok()?;
    let delta_aic = fitted.stats.aic - alt.stats.aic;
    if !delta_aic.is_finite() {
        return None;
    }
    let better = if alt.stats.chisqr < fitted.stats.chisqr {
        &alt
    } else {
        fitted
    };
    let effective_points = n as f64 * effective_fraction(&weighted_residuals(better, pts));
    let mut evidence = delta_aic * effective_points / n as f64;
    if pts.w.is_some() {
        // the likelihood ratio with the standard errors taken as known
        let known = fitted.stats.chisqr - alt.stats.chisqr;
        evidence = evidence.signum() * evidence.abs().min(known.abs());
    }
    // both forms through the points to rounding: no evidence either way
    let scale: f64 = pts
        .y
        .iter()
        .enumerate()
        .map(|(i, y)| pts.w.as_ref().map_or(1.0, |w| w[i]) * y * y)
        .sum();
    if fitted.stats.chisqr.max(alt.stats.chisqr) <= EXACT_FIT_FRACTION * scale {
        evidence = 0.0;
    }
    let verdict = if method == Method::Bon {
        FormVerdict::NotTested
    } else if evidence > FORM_CHECK_DELTA_AIC {
        FormVerdict::Rejected
    } else if evidence < -FORM_CHECK_DELTA_AIC {
        FormVerdict::Preferred
    } else {
        FormVerdict::Inconclusive
    };
    Some(FormCheck {
        alternative: other,
        delta_aic,
        effective_points,
        evidence,
        verdict,
    })
}

/// Both forms' chi-squares below this fraction of Σ w y² are rounding: no evidence.
const EXACT_FIT_FRACTION: f64 = 1e-20;

/// √wᵢ·(yᵢ − fit(dᵢ)) in the order of d.
fn weighted_residuals(f: &FittedForm, pts: &Points) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..pts.d.len()).collect();
    idx.sort_by(|&a, &b| pts.d[a].total_cmp(&pts.d[b]));
    idx.iter()
        .map(|&i| pts.w.as_ref().map_or(1.0, |w| w[i]).sqrt() * (pts.y[i] - f.predict(pts.d[i])))
        .collect()
}

/// (1 − ρ)/(1 + ρ) for the lag-1 autocorrelation ρ of `r` (floored at 0): the fraction of the
/// points an AR(1) series of residuals is worth as independent ones (Bretherton et al. 1999).
/// A smooth misfit (or smoothed, or correlated, noise) has ρ near 1 and counts as few points.
fn effective_fraction(r: &[f64]) -> f64 {
    let ss: f64 = r.iter().map(|x| x * x).sum();
    if ss <= 0.0 || r.len() < 3 {
        return 1.0;
    }
    let lag: f64 = r.windows(2).map(|w| w[0] * w[1]).sum();
    let rho = (lag / ss).clamp(0.0, 1.0);
    (1.0 - rho) / (1.0 + rho)
}

/// The warning of a rejected check, naming both forms. It carries no number, so that
/// `goodhart fit` groups the fits it concerns on one line; the difference is in the record's
/// `form_check` (and the report's form-check column).
pub fn warning(form: FormId, check: &FormCheck) -> Option<String> {
    check.rejected().then(|| {
        format!(
            "{FORM_CHECK_PREFIX} the {alt} form {alt_formula} fits these points better than the {form} form (by more than {FORM_CHECK_DELTA_AIC} in AIC, counting correlated residuals as fewer points), within this curve's KL range: the {form} form's coefficients and peak summarise these points worse than the {alt} form would",
            alt = check.alternative,
            alt_formula = check.alternative.form().formula(),
        )
    })
}

/// How a form-check warning begins.
pub const FORM_CHECK_PREFIX: &str = "form check:";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solve::form_fit::fit_points;

    fn points(f: impl Fn(f64) -> f64) -> Points {
        // a little deterministic roughness so that neither form is exact
        let d: Vec<f64> = (1..=25).map(|i| 0.15 * i as f64).collect();
        let y = d
            .iter()
            .enumerate()
            .map(|(i, &d)| f(d) + 0.01 * ((i * 7919 % 13) as f64 - 6.0) / 6.0)
            .collect();
        Points { d, y, w: None }
    }

    #[test]
    fn each_form_passes_on_its_own_shape_and_is_rejected_on_the_other() {
        let rl_shaped = points(|d| d * (0.9 - 0.3 * d.ln()));
        let bon_shaped = points(|d| d * (0.9 - 0.25 * d));
        for (pts, good, bad) in [
            (&rl_shaped, FormId::Rl, FormId::Bon),
            (&bon_shaped, FormId::Bon, FormId::Rl),
        ] {
            let ok = form_check(
                &fit_points(good, pts).unwrap(),
                Method::Rl,
                Target::Gold,
                pts,
            )
            .unwrap();
            assert_eq!(ok.verdict, FormVerdict::Preferred, "{good:?}: {ok:?}");
            assert!(warning(good, &ok).is_none());
            let no = form_check(
                &fit_points(bad, pts).unwrap(),
                Method::Rl,
                Target::Gold,
                pts,
            )
            .unwrap();
            assert_eq!(no.verdict, FormVerdict::Rejected, "{bad:?}: {no:?}");
            approx::assert_relative_eq!(no.delta_aic, -ok.delta_aic, max_relative = 1e-12);
            let w = warning(bad, &no).unwrap();
            assert!(w.starts_with(FORM_CHECK_PREFIX), "{w}");
            assert!(w.contains(&format!("fits these points better than the {bad} form")));
        }
    }

    #[test]
    fn correlated_residuals_count_as_fewer_points() {
        // ρ = (1·2 + 2·3 + 3·4)/(1 + 4 + 9 + 16) = 2/3, so (1 − ρ)/(1 + ρ) = 1/5
        approx::assert_relative_eq!(effective_fraction(&[1.0, 2.0, 3.0, 4.0]), 0.2);
        // alternating residuals: ρ < 0 is floored at 0, every point counts
        assert_eq!(effective_fraction(&[1.0, -1.0, 1.0, -1.0, 1.0]), 1.0);
        // a best-of-n shape with a slow wave on top (a smooth misfit of both forms): the check
        // counts far fewer points than it has, and says less than the raw AIC difference
        let pts = points(|d| d * (0.9 - 0.25 * d) + 0.05 * (1.3 * d).sin());
        let rl = fit_points(FormId::Rl, &pts).unwrap();
        let c = form_check(&rl, Method::Rl, Target::Gold, &pts).unwrap();
        assert!(c.effective_points < 0.5 * pts.d.len() as f64, "{c:?}");
        approx::assert_relative_eq!(
            c.evidence,
            c.delta_aic * c.effective_points / pts.d.len() as f64,
            max_relative = 1e-12
        );
        assert!(c.evidence.abs() < c.delta_aic.abs());
    }

    #[test]
    fn exact_fits_and_generous_standard_errors_give_no_verdict() {
        // a straight line: both forms fit it exactly (beta = 0), to rounding
        let d: Vec<f64> = (1..=20).map(|i| 0.3 * i as f64).collect();
        let line = Points {
            y: d.iter().map(|d| 0.5 * d).collect(),
            d: d.clone(),
            w: None,
        };
        let rl = fit_points(FormId::Rl, &line).unwrap();
        let c = form_check(&rl, Method::Rl, Target::Gold, &line).unwrap();
        assert_eq!((c.evidence, c.verdict), (0.0, FormVerdict::Inconclusive));
        // a best-of-n curve with noise ±0.002 but stated standard errors of 0.5: AIC alone
        // rejects the RL form, the standard errors allow a chi-square difference under 1
        let mut noisy = points(|d| d * (0.9 - 0.25 * d));
        for (i, y) in noisy.y.iter_mut().enumerate() {
            *y = (*y * 500.0).round() / 500.0 + if i % 2 == 0 { 0.002 } else { -0.002 };
        }
        noisy.w = Some(vec![1.0 / 0.25; noisy.d.len()]);
        let rl = fit_points(FormId::Rl, &noisy).unwrap();
        let c = form_check(&rl, Method::Rl, Target::Gold, &noisy).unwrap();
        assert!(c.delta_aic > 10.0, "{c:?}");
        let bon = fit_points(FormId::Bon, &noisy).unwrap();
        let known = rl.stats.chisqr - bon.stats.chisqr;
        assert!(known < 10.0);
        approx::assert_relative_eq!(c.evidence, known, max_relative = 1e-12);
        assert_eq!(c.verdict, FormVerdict::Inconclusive);
    }

    #[test]
    fn best_of_n_curves_are_given_a_difference_but_no_verdict() {
        // the RL form's data as a best-of-n curve: the RL form is far better, but the points of
        // a best-of-n curve are not independent
        let pts = points(|d| d * (0.9 - 0.3 * d.ln()));
        let bon = fit_points(FormId::Bon, &pts).unwrap();
        let c = form_check(&bon, Method::Bon, Target::Gold, &pts).unwrap();
        assert_eq!(c.verdict, FormVerdict::NotTested);
        assert!(c.delta_aic > 10.0, "{c:?}");
        assert!(warning(FormId::Bon, &c).is_none());
    }

    #[test]
    fn too_few_points_are_not_checked_and_close_forms_are_inconclusive() {
        // two points: both forms pass through them exactly
        let two = Points {
            d: vec![0.5, 1.5],
            y: vec![0.3, 0.5],
            w: None,
        };
        let rl = fit_points(FormId::Rl, &two).unwrap();
        assert!(form_check(&rl, Method::Rl, Target::Gold, &two).is_none());
        let mut few = points(|d| d * (0.9 - 0.25 * d));
        few.d.truncate(FORM_CHECK_MIN_POINTS - 1);
        few.y.truncate(FORM_CHECK_MIN_POINTS - 1);
        let rl = fit_points(FormId::Rl, &few).unwrap();
        assert!(form_check(&rl, Method::Rl, Target::Gold, &few).is_none());
        // 6 points of a best-of-n curve over d 0.4-1.4, where the two shapes are close, with
        // noise of ±0.05: the difference is 0.33 (computed by the 2×2 normal equations)
        let d: Vec<f64> = (0..6).map(|i| 0.4 + 0.2 * i as f64).collect();
        let y = d
            .iter()
            .enumerate()
            .map(|(i, &d)| 0.9 * d - 0.25 * d * d + if i % 2 == 1 { 0.05 } else { -0.05 })
            .collect();
        let near = Points { d, y, w: None };
        let rl = fit_points(FormId::Rl, &near).unwrap();
        let c = form_check(&rl, Method::Rl, Target::Gold, &near).unwrap();
        approx::assert_relative_eq!(c.delta_aic, 0.330775836929, max_relative = 1e-9);
        assert_eq!(c.verdict, FormVerdict::Inconclusive);
    }

    #[test]
    fn proxy_fits_and_other_forms_are_not_checked() {
        let pts = points(|d| d * (0.9 - 0.25 * d));
        let rl = fit_points(FormId::Rl, &pts).unwrap();
        assert!(form_check(&rl, Method::Rl, Target::Proxy, &pts).is_none());
        let log1p = fit_points(FormId::RlLog1p, &pts).unwrap();
        assert!(form_check(&log1p, Method::Rl, Target::Gold, &pts).is_none());
    }
}
