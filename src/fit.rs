//! Fitting the functional forms to curves: exact weighted linear least squares (Householder QR,
//! never the normal equations) and the statistics a fit report needs.

use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::curves::Curve;
use crate::error::{Error, Result};
use crate::forms::{FormId, Peak};
use crate::schema::CurveKey;

/// Why a linear least-squares problem has no unique solution.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LinearError {
    #[error("{points} point(s) for {params} parameters")]
    TooFewPoints { points: usize, params: usize },
    #[error(
        "the basis columns are linearly dependent on these points (condition number {condition:.3e}){hint}"
    )]
    Singular { condition: f64, hint: String },
    #[error("a value is not finite (row {row})")]
    NotFinite { row: usize },
    /// A result exists but cannot be represented in double precision (values near 1e±300).
    #[error("{detail}")]
    OutOfRange { detail: String },
}

/// The 2-norm without overflow or underflow: the largest magnitude is factored out first.
fn safe_norm<'a>(v: impl Iterator<Item = &'a f64> + Clone) -> f64 {
    let m = v.clone().fold(0.0f64, |m, x| m.max(x.abs()));
    if m == 0.0 || !m.is_finite() {
        return m;
    }
    m * v.map(|x| (x / m) * (x / m)).sum::<f64>().sqrt()
}

/// The magnitude range of some values, for messages.
fn magnitude(v: &[f64]) -> String {
    let max = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let min = v
        .iter()
        .filter(|x| **x != 0.0)
        .fold(f64::INFINITY, |m, x| m.min(x.abs()));
    format!("{min:.1e} to {max:.1e}")
}

/// The exact solution of a weighted linear least-squares problem.
#[derive(Debug, Clone)]
pub struct LinearSolution {
    /// The coefficients.
    pub coef: Vec<f64>,
    /// (Xᵀ W X)⁻¹: the covariance of the coefficients for unit residual variance.
    pub cov_unscaled: DMatrix<f64>,
    /// Σ wᵢ rᵢ², the weighted residual sum of squares (chi-square).
    pub chisqr: f64,
    /// Unweighted residuals yᵢ - ŷᵢ.
    pub residuals: Vec<f64>,
    /// Condition number of the column-scaled weighted design matrix.
    pub condition: f64,
}

/// Minimises Σ wᵢ (yᵢ - Σⱼ xᵢⱼ cⱼ)² by a Householder QR factorisation of the row-weighted,
/// column-equilibrated design matrix. `w` defaults to unit weights.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use nalgebra::DMatrix;
/// use goodhart::fit::solve_linear;
/// // y = 2x exactly
/// let x = DMatrix::from_column_slice(3, 1, &[1.0, 2.0, 3.0]);
/// let s = solve_linear(&x, &[2.0, 4.0, 6.0], None)?;
/// assert!((s.coef[0] - 2.0).abs() < 1e-15);
/// assert!(s.chisqr < 1e-28);
/// # Ok(())
/// # }
/// ```
pub fn solve_linear(
    x: &DMatrix<f64>,
    y: &[f64],
    w: Option<&[f64]>,
) -> Result<LinearSolution, LinearError> {
    let (n, p) = x.shape();
    if n < p || n == 0 {
        return Err(LinearError::TooFewPoints {
            points: n,
            params: p,
        });
    }
    for i in 0..n {
        let wi = w.map_or(1.0, |w| w[i]);
        if !y[i].is_finite() || !wi.is_finite() || (0..p).any(|j| !x[(i, j)].is_finite()) {
            return Err(LinearError::NotFinite { row: i + 1 });
        }
    }
    let sqrt_w: Vec<f64> = (0..n).map(|i| w.map_or(1.0, |w| w[i].sqrt())).collect();
    let mut a = DMatrix::from_fn(n, p, |i, j| x[(i, j)] * sqrt_w[i]);
    let mut scale = vec![0.0; p];
    for (j, s) in scale.iter_mut().enumerate() {
        *s = safe_norm(a.column(j).iter());
        if !(*s > 0.0 && s.is_finite()) {
            return Err(LinearError::Singular {
                condition: f64::INFINITY,
                hint: format!(": basis column {} is zero at every point", j + 1),
            });
        }
        a.column_mut(j).unscale_mut(*s);
    }
    // Scores are scaled to magnitude 1 so that tiny or huge scores lose nothing in between.
    let y_scale = {
        let m = (0..n).fold(0.0f64, |m, i| m.max((y[i] * sqrt_w[i]).abs()));
        if m > 0.0 && m.is_finite() { m } else { 1.0 }
    };
    let mut b = DVector::from_fn(n, |i, _| y[i] * sqrt_w[i] / y_scale);
    let qr = a.qr();
    let r = qr.r();
    qr.q_tr_mul(&mut b);
    let sv = r.clone().svd(false, false).singular_values;
    let (smax, smin) = (sv.max(), sv.min());
    let condition = smax / smin;
    // Also catches NaN singular values.
    if smin.partial_cmp(&(smax * (n as f64) * f64::EPSILON)) != Some(std::cmp::Ordering::Greater) {
        return Err(LinearError::Singular {
            condition,
            hint: String::new(),
        });
    }
    let qtb = b.rows(0, p).into_owned();
    let z = r
        .solve_upper_triangular(&qtb)
        .ok_or(LinearError::Singular {
            condition,
            hint: String::new(),
        })?;
    let coef: Vec<f64> = (0..p).map(|j| z[j] / scale[j] * y_scale).collect();
    let rinv = r
        .solve_upper_triangular(&DMatrix::identity(p, p))
        .ok_or(LinearError::Singular {
            condition,
            hint: String::new(),
        })?;
    let cz = &rinv * rinv.transpose();
    let cov_unscaled = DMatrix::from_fn(p, p, |i, j| cz[(i, j)] / scale[i] / scale[j]);
    let residuals: Vec<f64> = (0..n)
        .map(|i| y[i] - (0..p).map(|j| x[(i, j)] * coef[j]).sum::<f64>())
        .collect();
    // Σ w r² on the scaled residuals, then scaled back: exact to rounding, and any overflow or
    // underflow of the result is seen below instead of becoming a silently wrong error bar.
    let chisqr_scaled: f64 = residuals
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let rs = r * sqrt_w[i] / y_scale;
            rs * rs
        })
        .sum();
    let chisqr = chisqr_scaled * y_scale * y_scale;
    let x_values: Vec<f64> = x.iter().copied().collect();
    if coef.iter().any(|c| !c.is_finite()) || !chisqr.is_finite() {
        return Err(LinearError::OutOfRange {
            detail: format!(
                "the scores ({}) are too large for double precision: the fit's chi-square or parameters overflow; divide the scores by a power of ten",
                magnitude(y)
            ),
        });
    }
    if chisqr_scaled > 0.0 && chisqr == 0.0 {
        return Err(LinearError::OutOfRange {
            detail: format!(
                "the scores ({}) are too small for double precision: the residual sum of squares underflows to 0, so error bars would be 0; multiply the scores by a power of ten",
                magnitude(y)
            ),
        });
    }
    if cov_unscaled.iter().any(|c| !c.is_finite())
        || (0..p).any(|j| cov_unscaled[(j, j)] == 0.0 || !cov_unscaled[(j, j)].is_normal())
    {
        return Err(LinearError::OutOfRange {
            detail: format!(
                "the distances sqrt(KL) give basis values ({}) whose parameter variances overflow or underflow double precision; check the KL column's units",
                magnitude(&x_values)
            ),
        });
    }
    Ok(LinearSolution {
        coef,
        cov_unscaled,
        chisqr,
        residuals,
        condition,
    })
}

/// Points to fit: distance d = sqrt(KL), score y, optional weights 1/se².
#[derive(Debug, Clone, Default)]
pub struct Points {
    pub d: Vec<f64>,
    pub y: Vec<f64>,
    pub w: Option<Vec<f64>>,
}

/// One fitted parameter with its uncertainty.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamEstimate {
    pub name: &'static str,
    pub value: f64,
    /// Standard error (covariance scaled by the reduced chi-square); `None` with no dof.
    pub se: Option<f64>,
    /// 95% confidence interval from Student's t with `dof` degrees of freedom.
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
}

/// Goodness-of-fit statistics (lmfit's definitions).
#[derive(Debug, Clone, PartialEq)]
pub struct FitStats {
    pub n_points: usize,
    pub dof: usize,
    /// Σ wᵢ rᵢ²
    pub chisqr: f64,
    /// chisqr / dof
    pub redchi: Option<f64>,
    /// 1 - chisqr / Σ wᵢ (yᵢ - ȳ_w)²
    pub r2: f64,
    /// sqrt(Σ rᵢ² / n), unweighted, in score units
    pub rmse: f64,
    /// n ln(chisqr/n) + 2p
    pub aic: f64,
    /// n ln(chisqr/n) + p ln n
    pub bic: f64,
    pub condition_number: f64,
}

/// A form fitted to points: the only type that can predict.
#[derive(Debug, Clone)]
pub struct FittedForm {
    pub form: FormId,
    pub params: Vec<ParamEstimate>,
    /// Parameter covariance (scaled by the reduced chi-square); `None` with no dof.
    pub covariance: Option<DMatrix<f64>>,
    pub stats: FitStats,
    /// Plain-language notes on the fit (no error bars, ill-conditioning).
    pub notes: Vec<String>,
}

impl FittedForm {
    pub fn values(&self) -> Vec<f64> {
        self.params.iter().map(|p| p.value).collect()
    }

    /// The fitted score at distance d = sqrt(KL).
    pub fn predict(&self, d: f64) -> f64 {
        self.form.form().eval(&self.values(), d)
    }

    pub fn peak(&self) -> Option<Peak> {
        self.form.form().peak(&self.values())
    }

    /// Adds `extra` to the parameter covariance (an uncertainty the residuals cannot see, such
    /// as that of a subtracted baseline) and recomputes standard errors and intervals.
    pub fn add_covariance(&mut self, extra: &DMatrix<f64>) {
        let Some(cov) = self.covariance.as_mut() else {
            return;
        };
        *cov += extra;
        let t = t95(self.stats.dof.max(1));
        for (j, p) in self.params.iter_mut().enumerate() {
            let se = cov[(j, j)].max(0.0).sqrt();
            p.se = Some(se);
            p.ci_low = Some(p.value - t * se);
            p.ci_high = Some(p.value + t * se);
        }
    }

    /// The correlation of parameters i and j, when error bars exist.
    pub fn correlation(&self, i: usize, j: usize) -> Option<f64> {
        let c = self.covariance.as_ref()?;
        let denom = (c[(i, i)] * c[(j, j)]).sqrt();
        (denom > 0.0).then(|| c[(i, j)] / denom)
    }
}

/// An unfitted linear form: `fit` turns points into a [`FittedForm`].
#[derive(Debug, Clone, Copy)]
pub struct LinearFit {
    pub form: FormId,
}

impl LinearFit {
    pub fn new(form: FormId) -> Self {
        LinearFit { form }
    }

    /// The design matrix: one row of basis functions per point (for a linear form, the
    /// gradient at any parameters; see [`crate::form_fit::jacobian`]).
    pub fn design(&self, d: &[f64]) -> DMatrix<f64> {
        let zeros = vec![0.0; self.form.form().param_names().len()];
        crate::form_fit::jacobian(self.form, &zeros, d)
    }

    pub fn fit(&self, pts: &Points) -> Result<FittedForm, LinearError> {
        let x = self.design(&pts.d);
        let sol = solve_linear(&x, &pts.y, pts.w.as_deref())?;
        Ok(statistics(
            self.form,
            self.form.form().param_names(),
            pts,
            &sol,
        ))
    }
}

/// Student's t quantile for a two-sided 95% interval.
pub(crate) fn t95(dof: usize) -> f64 {
    thread_local! {
        // The quantile is an iterative computation; thousands of curves share a few dofs.
        static CACHE: std::cell::RefCell<std::collections::HashMap<usize, f64>> = Default::default();
    }
    CACHE.with(|c| {
        *c.borrow_mut().entry(dof).or_insert_with(|| {
            StudentsT::new(0.0, 1.0, dof as f64)
                .map(|t| t.inverse_cdf(0.975))
                .unwrap_or(f64::NAN)
        })
    })
}

pub(crate) fn statistics(
    form: FormId,
    names: &[&'static str],
    pts: &Points,
    sol: &LinearSolution,
) -> FittedForm {
    let (n, p) = (pts.y.len(), names.len());
    let dof = n - p;
    let weight = |i: usize| pts.w.as_ref().map_or(1.0, |w| w[i]);
    let wsum: f64 = (0..n).map(weight).sum();
    let ymean = (0..n).map(|i| weight(i) * pts.y[i]).sum::<f64>() / wsum;
    let sst: f64 = (0..n).map(|i| weight(i) * (pts.y[i] - ymean).powi(2)).sum();
    let r2 = if sst > 0.0 {
        1.0 - sol.chisqr / sst
    } else {
        f64::NAN
    };
    let rmse = (sol.residuals.iter().map(|r| r * r).sum::<f64>() / n as f64).sqrt();
    // lmfit floors chi-square so that a perfect fit gives a finite AIC/BIC.
    let chisqr_floor = sol.chisqr.max(1e-250 * n as f64);
    let neg2_log_like = n as f64 * (chisqr_floor / n as f64).ln();
    let aic = neg2_log_like + 2.0 * p as f64;
    let bic = neg2_log_like + (n as f64).ln() * p as f64;
    let mut notes = Vec::new();
    if sst == 0.0 {
        notes.push("all scores are equal: R² is undefined (null)".to_string());
    }
    let (redchi, covariance) = if dof > 0 {
        let redchi = sol.chisqr / dof as f64;
        (Some(redchi), Some(&sol.cov_unscaled * redchi))
    } else {
        notes.push(format!(
            "error bars cannot be computed: {n} points for {p} parameters leave no degrees of freedom"
        ));
        (None, None)
    };
    if sol.condition > 1e8 {
        notes.push(format!(
            "ill-conditioned: condition number {:.2e}, so about {:.0} significant digits of the parameters may be lost",
            sol.condition,
            sol.condition.log10()
        ));
    }
    let t = t95(dof.max(1));
    let params = names
        .iter()
        .enumerate()
        .map(|(j, &name)| {
            let value = sol.coef[j];
            let se = covariance.as_ref().map(|c| c[(j, j)].max(0.0).sqrt());
            ParamEstimate {
                name,
                value,
                se,
                ci_low: se.map(|s| value - t * s),
                ci_high: se.map(|s| value + t * s),
            }
        })
        .collect();
    FittedForm {
        form,
        params,
        covariance,
        stats: FitStats {
            n_points: n,
            dof,
            chisqr: sol.chisqr,
            redchi,
            r2,
            rmse,
            aic,
            bic,
            condition_number: sol.condition,
        },
        notes,
    }
}

/// Which score is fitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    Gold,
    Proxy,
}

impl Target {
    pub fn as_str(self) -> &'static str {
        match self {
            Target::Gold => "gold",
            Target::Proxy => "proxy",
        }
    }
}

/// Which targets to fit (`--target`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetChoice {
    Gold,
    Proxy,
    Both,
    /// Both when the table has proxy scores, else gold.
    Auto,
}

/// How R(0) = 0 is enforced (`--baseline`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaselineMode {
    /// Subtract the mean score of the kl = 0 points, and leave them out of the fit.
    Auto,
    /// Use scores as they are, kl = 0 points included.
    None,
}

/// Options of `goodhart fit`.
#[derive(Debug, Clone)]
pub struct FitOptions {
    /// `None`: the paper's form for each curve's method.
    pub form: Option<FormId>,
    pub target: TargetChoice,
    pub baseline: BaselineMode,
    pub min_kl: Option<f64>,
    pub max_kl: Option<f64>,
    pub holdout_above: Option<f64>,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            form: None,
            target: TargetChoice::Auto,
            baseline: BaselineMode::Auto,
            min_kl: None,
            max_kl: None,
            holdout_above: None,
        }
    }
}

/// The kl = 0 points whose mean score was subtracted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Baseline {
    pub points: usize,
    pub value: f64,
    /// Standard error of `value`, on the scale of the fit's residuals (see [`fit_curve`]);
    /// `None` when the fit has no error bars.
    pub se: Option<f64>,
}

/// The extrapolation test: the fit evaluated on the points right of the cutoff.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Holdout {
    pub above_kl: f64,
    pub points: usize,
    pub rmse: Option<f64>,
    pub max_abs_error: Option<f64>,
}

/// The result of fitting one curve and target: a fitted form, or the reason there is none.
#[derive(Debug, Clone)]
pub struct CurveFit {
    pub key: CurveKey,
    pub target: Target,
    pub form: FormId,
    pub weighted: bool,
    pub baseline: Option<Baseline>,
    /// The KL range of the fitted points.
    pub kl_range: (f64, f64),
    pub outcome: std::result::Result<FittedForm, String>,
    pub holdout: Option<Holdout>,
    /// Things the user should know (printed on stderr, grouped).
    pub warnings: Vec<String>,
    /// With bootstrap replicates in the input: how many replicate fits gave the parameters'
    /// percentile intervals (`"ci_method": "bootstrap"`); `None`: Student-t intervals.
    pub bootstrap_replicates: Option<usize>,
}

impl CurveFit {
    pub fn fitted(&self) -> Option<&FittedForm> {
        self.outcome.as_ref().ok()
    }
}

/// Fits every curve for every requested target, in parallel; the order of the result (and the
/// first error reported) follows the order of the curves, whatever the thread count.
pub fn fit_curves(curves: &[Curve], opts: &FitOptions) -> Result<Vec<CurveFit>> {
    let any_proxy = curves.iter().any(|c| {
        c.proxy
            .as_ref()
            .is_some_and(|p| p.iter().any(Option::is_some))
    });
    let targets: Vec<Target> = match opts.target {
        TargetChoice::Gold => vec![Target::Gold],
        TargetChoice::Proxy | TargetChoice::Both if !any_proxy => {
            return Err(Error::Analysis(
                "--target asks for proxy fits, but the input has no proxy scores (no 'proxy' column, or it is empty)"
                    .to_string(),
            ));
        }
        TargetChoice::Proxy => vec![Target::Proxy],
        TargetChoice::Both => vec![Target::Gold, Target::Proxy],
        TargetChoice::Auto if any_proxy => vec![Target::Gold, Target::Proxy],
        TargetChoice::Auto => vec![Target::Gold],
    };
    let explicit_proxy = matches!(opts.target, TargetChoice::Proxy);
    let results: Vec<Result<Vec<CurveFit>>> = curves
        .par_iter()
        .map(|c| {
            let mut out = Vec::new();
            for &t in &targets {
                let has = t == Target::Gold
                    || c.proxy
                        .as_ref()
                        .is_some_and(|p| p.iter().any(Option::is_some));
                if !has && !explicit_proxy {
                    continue;
                }
                out.push(fit_curve(c, t, opts)?);
            }
            Ok(out)
        })
        .collect();
    let mut fits = Vec::new();
    for r in results {
        fits.extend(r?);
    }
    Ok(fits)
}

/// A curve's points as every fit selects them: with `--baseline auto` the kl = 0 points give the
/// subtracted baseline and are left out, `--min-kl`/`--max-kl` filter, points above
/// `--holdout-above` are held out; also the squared standard errors of the baseline points
/// (1 each when unweighted), whose mean's uncertainty the fit adds to its covariance.
pub struct CurvePoints {
    pub fit: Points,
    pub hold: Points,
    /// The subtracted kl = 0 mean (its `se` is filled in by the fit).
    pub baseline: Option<Baseline>,
    pub baseline_se2: Vec<f64>,
    /// Whether the target has standard errors (weights 1/se²).
    pub weighted: bool,
}

pub fn curve_points(curve: &Curve, target: Target, opts: &FitOptions) -> CurvePoints {
    let (scores, se): (Vec<Option<f64>>, Option<&Vec<f64>>) = match target {
        Target::Gold => (
            curve.gold.iter().map(|&g| Some(g)).collect(),
            curve.gold_se.as_ref(),
        ),
        Target::Proxy => (
            curve
                .proxy
                .clone()
                .unwrap_or_else(|| vec![None; curve.kl.len()]),
            curve.proxy_se.as_ref(),
        ),
    };
    let zeros: Vec<(f64, f64)> = (0..curve.kl.len())
        .filter(|&i| curve.kl[i] == 0.0)
        .filter_map(|i| scores[i].map(|y| (y, se.map_or(1.0, |s| s[i] * s[i]))))
        .collect();
    let subtract = opts.baseline == BaselineMode::Auto && !zeros.is_empty();
    let offset = if subtract {
        zeros.iter().map(|z| z.0).sum::<f64>() / zeros.len() as f64
    } else {
        0.0
    };
    let mut fit = Points::default();
    let mut hold = Points::default();
    if se.is_some() {
        fit.w = Some(Vec::new());
        hold.w = Some(Vec::new());
    }
    for i in 0..curve.kl.len() {
        let (kl, Some(y)) = (curve.kl[i], scores[i]) else {
            continue;
        };
        if (subtract && kl == 0.0)
            || opts.min_kl.is_some_and(|m| kl < m)
            || opts.max_kl.is_some_and(|m| kl > m)
        {
            continue;
        }
        let dest = if opts.holdout_above.is_some_and(|k| kl > k) {
            &mut hold
        } else {
            &mut fit
        };
        dest.d.push(kl.sqrt());
        dest.y.push(y - offset);
        if let (Some(w), Some(se)) = (dest.w.as_mut(), se) {
            w.push(1.0 / (se[i] * se[i]));
        }
    }
    CurvePoints {
        fit,
        hold,
        baseline: subtract.then_some(Baseline {
            points: zeros.len(),
            value: offset,
            se: None,
        }),
        weighted: se.is_some(),
        baseline_se2: if subtract {
            zeros.iter().map(|z| z.1).collect()
        } else {
            Vec::new()
        },
    }
}

/// Fits one curve and target.
pub fn fit_curve(curve: &Curve, target: Target, opts: &FitOptions) -> Result<CurveFit> {
    let form = opts.form.unwrap_or(FormId::for_method(curve.key.method));
    let n_params = form.form().param_names().len();
    let CurvePoints {
        fit: fit_pts,
        hold: hold_pts,
        mut baseline,
        baseline_se2,
        weighted,
    } = curve_points(curve, target, opts);
    let mut warnings = Vec::new();
    if opts.baseline == BaselineMode::Auto && baseline.is_none() {
        warnings.push(
            "no kl = 0 points: scores are used as they are (\"baseline\": null), assuming R(0) = 0"
                .to_string(),
        );
    }
    let n = fit_pts.d.len();
    if n < n_params {
        return Err(Error::TooFewPoints {
            curve: format!("{} (target {})", curve.key, target.as_str()),
            form: form.form().id(),
            points: n,
            params: n_params,
        });
    }
    let kl_range = fit_pts
        .d
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), d| {
            (lo.min(d * d), hi.max(d * d))
        });
    let mut outcome = crate::form_fit::fit_points(form, &fit_pts);
    if let (Some(b), Ok(fitted)) = (baseline.as_mut(), outcome.as_mut()) {
        propagate_baseline(b, &baseline_se2, form, &fit_pts, fitted);
    }
    let holdout = opts.holdout_above.map(|k| {
        let m = hold_pts.d.len();
        let errors: Option<Vec<f64>> = outcome.as_ref().ok().map(|f| {
            hold_pts
                .d
                .iter()
                .zip(&hold_pts.y)
                .map(|(&d, &y)| f.predict(d) - y)
                .collect()
        });
        if m == 0 {
            warnings.push(format!("--holdout-above {k}: no points above the cutoff"));
        }
        let errors = errors.filter(|_| m > 0);
        Holdout {
            above_kl: k,
            points: m,
            rmse: errors
                .as_ref()
                .map(|e| (e.iter().map(|x| x * x).sum::<f64>() / m as f64).sqrt()),
            max_abs_error: errors
                .as_ref()
                .map(|e| e.iter().fold(0.0_f64, |a, x| a.max(x.abs()))),
        }
    });
    let bootstrap_replicates =
        bootstrap_intervals(curve, target, opts, &mut outcome, &mut warnings);
    Ok(CurveFit {
        key: curve.key,
        target,
        form,
        weighted,
        baseline,
        kl_range,
        outcome,
        holdout,
        warnings,
        bootstrap_replicates,
    })
}

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
fn bootstrap_intervals(
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

/// The subtracted baseline b shifts every fitted score by the same amount, so its error moves
/// the coefficients by u·δb with u = (XᵀWX)⁻¹XᵀW·1, an error the residuals cannot reveal. With
/// Var(yᵢ) = s²·seᵢ² (s² the reduced chi-square, seᵢ = 1 when unweighted, as for the fit's own
/// covariance), Var(b) = s²·Σ seᵢ²/k² over the k baseline points, and Var(b)·uuᵀ is added to the
/// parameter covariance.
fn propagate_baseline(
    b: &mut Baseline,
    baseline_se2: &[f64],
    form: FormId,
    pts: &Points,
    fitted: &mut FittedForm,
) {
    let Some(redchi) = fitted.stats.redchi else {
        return;
    };
    let k = baseline_se2.len() as f64;
    let var_b = redchi * baseline_se2.iter().sum::<f64>() / (k * k);
    b.se = Some(var_b.sqrt());
    let Some(cov) = fitted.covariance.as_ref().filter(|_| redchi > 0.0) else {
        return;
    };
    // u = (JᵀWJ)⁻¹ JᵀW·1, with (JᵀWJ)⁻¹ = covariance / redchi: no second solve needed.
    let f = form.form();
    let values = fitted.values();
    let mut g = DVector::zeros(values.len());
    let mut row = vec![0.0; values.len()];
    for (i, &d) in pts.d.iter().enumerate() {
        f.gradient(&values, d, &mut row);
        let w = pts.w.as_ref().map_or(1.0, |w| w[i]);
        for (gj, rj) in g.iter_mut().zip(&row) {
            *gj += w * rj;
        }
    }
    let u = cov * g / redchi;
    fitted.add_covariance(&(&u * u.transpose() * var_b));
}

/// Groups identical warnings across fits: one line per warning with the curves it concerns.
pub fn summarize_warnings(fits: &[CurveFit]) -> Vec<String> {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for f in fits {
        for w in &f.warnings {
            let who = format!("{} ({})", f.key, f.target.as_str());
            match groups.iter_mut().find(|(text, _)| text == w) {
                Some((_, list)) => list.push(who),
                None => groups.push((w.clone(), vec![who])),
            }
        }
    }
    groups
        .into_iter()
        .map(|(text, list)| {
            let shown: Vec<&str> = list.iter().take(3).map(String::as_str).collect();
            let more = if list.len() > 3 {
                format!(" and {} more", list.len() - 3)
            } else {
                String::new()
            };
            format!("{text}: {}{more}", shown.join("; "))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_exact_law_with_zero_residuals() -> Result<(), Box<dyn std::error::Error>> {
        let d: Vec<f64> = (1..=20).map(|i| i as f64 * 0.2).collect();
        let y: Vec<f64> = d.iter().map(|d| d * (0.5 - 0.1 * d)).collect();
        let f = LinearFit::new(FormId::Bon).fit(&Points { d, y, w: None })?;
        assert!((f.params[0].value - 0.5).abs() < 1e-14);
        assert!((f.params[1].value - 0.1).abs() < 1e-14);
        assert!(f.stats.rmse < 1e-14);
        Ok(())
    }

    #[test]
    fn equal_kl_everywhere_is_singular_not_a_panic() {
        let pts = Points {
            d: vec![1.0; 5],
            y: vec![0.1, 0.2, 0.3, 0.2, 0.1],
            w: None,
        };
        let e = LinearFit::new(FormId::Bon).fit(&pts);
        assert!(matches!(e, Err(LinearError::Singular { .. })), "{e:?}");
    }

    #[test]
    fn exact_points_count_has_no_error_bars() -> Result<(), Box<dyn std::error::Error>> {
        let pts = Points {
            d: vec![1.0, 2.0],
            y: vec![0.4, 0.6],
            w: None,
        };
        let f = LinearFit::new(FormId::Bon).fit(&pts)?;
        assert!(f.params[0].se.is_none());
        assert!(f.notes[0].contains("no degrees of freedom"));
        Ok(())
    }
}
