//! Fitting the functional forms to curves: which points of a curve are fitted (baseline,
//! KL filters, holdout), the fit itself (exact linear least squares from [`crate::solve`]),
//! the baseline's uncertainty, bootstrap intervals, and the typed fits document.

pub mod bootstrap;
pub mod compare_forms;
pub mod extrapolation;
pub mod form_check;
mod record;
pub mod shared_alpha;
pub mod stream;

use nalgebra::DVector;
use rayon::prelude::*;

use crate::curves::Curve;
pub use crate::document::Target;
use crate::error::{Error, Result};
use crate::forms::FormId;
use crate::schema::CurveKey;
pub use crate::solve::{
    FitStats, FittedForm, LinearError, LinearFit, LinearSolution, ParamEstimate, Points,
    solve_linear,
};
pub use record::fit_document;
pub(crate) use record::{correlations as record_correlations, message as record_message};

/// Which targets to fit (`--target`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetChoice {
    Gold,
    Proxy,
    Both,
    /// Both when the table has proxy scores, else gold.
    Auto,
}

/// How R(0) = 0 is enforced (`--baseline`). In both modes the kl = 0 points are left out of
/// the fit: every form is 0 at d = 0 whatever its parameters, so they carry no information on
/// them and would only change the degrees of freedom and the chi-square.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaselineMode {
    /// Subtract the mean score of the kl = 0 points.
    Auto,
    /// Use scores as they are (assumes they are already 0 at kl = 0).
    None,
}

/// The fit weights (`--weights`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightsMode {
    /// 1/se² when the target's standard-error column is there, else unweighted.
    Auto,
    /// Unweighted, whatever the columns.
    None,
    /// 1/se², and an error when the target's standard-error column is missing.
    Se,
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
    pub weights: WeightsMode,
    /// Prompt-bootstrap replicates for curves with per-prompt values (and the use of replicate
    /// rows); 0: Student-t intervals everywhere.
    pub bootstrap: usize,
    /// Seed of the prompt bootstrap.
    pub seed: u64,
    /// The bootstrap interval (BCa needs per-prompt values; replicate rows give percentile).
    pub interval: bootstrap::BootstrapInterval,
}

/// The default number of prompt-bootstrap replicates (`goodhart fit --bootstrap`).
pub const DEFAULT_BOOTSTRAP: usize = 1000;

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            form: None,
            target: TargetChoice::Auto,
            baseline: BaselineMode::Auto,
            min_kl: None,
            max_kl: None,
            holdout_above: None,
            weights: WeightsMode::Auto,
            bootstrap: DEFAULT_BOOTSTRAP,
            seed: 0,
            interval: bootstrap::BootstrapInterval::Percentile,
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
    /// The form check of a gold fit of the `bon` or `rl` form ([`form_check`]).
    pub form_check: Option<crate::document::FormCheck>,
    /// With a bootstrap: how many replicate fits gave the parameters' standard errors,
    /// covariance and intervals (`"ci_method": "bootstrap"`); `None`: Student-t intervals.
    pub bootstrap_replicates: Option<usize>,
    /// What the bootstrap resampled and which interval it gives (with `bootstrap_replicates`).
    pub bootstrap: Option<bootstrap::BootstrapKind>,
}

impl CurveFit {
    pub fn fitted(&self) -> Option<&FittedForm> {
        self.outcome.as_ref().ok()
    }

    /// The fitted peak when it lies within [`PEAK_RANGE_FACTOR`] times the largest fitted KL
    /// (as `goodhart predict` gives peaks); beyond, the form's maximum is an extrapolation
    /// without support and is not given ([`CurveFit::peak_reason`]).
    pub fn peak(&self) -> Option<crate::forms::Peak> {
        self.fitted()
            .and_then(FittedForm::peak)
            .filter(|p| p.kl <= PEAK_RANGE_FACTOR * self.kl_range.1)
    }

    /// Why a fitted form's peak is not given: it lies beyond 10x the fitted KL range.
    pub fn peak_reason(&self) -> Option<String> {
        let p = self.fitted().and_then(FittedForm::peak)?;
        (p.kl > PEAK_RANGE_FACTOR * self.kl_range.1).then(|| {
            format!(
                "beyond 10x the fitted KL range (the fitted maximum is at KL {}, the largest fitted KL {})",
                crate::format::fmt_num(p.kl),
                crate::format::fmt_num(self.kl_range.1)
            )
        })
    }
}

/// A fit's peak beyond this many times its largest fitted KL is not given as a number.
pub const PEAK_RANGE_FACTOR: f64 = 10.0;

/// Fits every curve for every requested target, in parallel; the order of the result (and the
/// first error reported) follows the order of the curves, whatever the thread count.
pub fn fit_curves(curves: &[Curve], opts: &FitOptions) -> Result<Vec<CurveFit>> {
    let plan = FitPlan::new(curves, opts)?;
    plan.fit(curves, opts)
}

/// The targets fitted on a set of curves ([`FitPlan::new`]), checked against all of them
/// before any fit: [`fit_curves`] is `FitPlan::new` then [`FitPlan::fit`] of all curves, and
/// [`stream::fit_streamed`] fits them a chunk at a time with the same plan.
#[derive(Debug, Clone)]
pub struct FitPlan {
    pub targets: Vec<Target>,
    /// `--target proxy`: curves without proxy scores are fitted (and fail) too.
    pub explicit_proxy: bool,
}

impl FitPlan {
    /// The fits of each curve, in curve order then target order.
    pub fn fit(&self, curves: &[Curve], opts: &FitOptions) -> Result<Vec<CurveFit>> {
        let results: Vec<Result<Vec<CurveFit>>> =
            curves.par_iter().map(|c| self.fit_one(c, opts)).collect();
        let mut fits = Vec::with_capacity(curves.len() * self.targets.len());
        for r in results {
            fits.extend(r?);
        }
        Ok(fits)
    }

    /// The fits of one curve, in target order.
    pub fn fit_one(&self, curve: &Curve, opts: &FitOptions) -> Result<Vec<CurveFit>> {
        let mut out = Vec::with_capacity(self.targets.len());
        for &t in &self.targets {
            if self.fits(curve, t) {
                out.push(fit_curve(curve, t, opts)?);
            }
        }
        Ok(out)
    }

    /// Whether `curve` gets a fit of `target`.
    pub fn fits(&self, curve: &Curve, target: Target) -> bool {
        let has = target == Target::Gold
            || curve
                .proxy
                .as_ref()
                .is_some_and(|p| p.iter().any(Option::is_some));
        has || self.explicit_proxy
    }

    /// The targets to fit, after checking the options against all curves (no proxy scores
    /// for `--target proxy`, no standard errors for `--weights se`).
    pub fn new(curves: &[Curve], opts: &FitOptions) -> Result<FitPlan> {
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
        if opts.weights == WeightsMode::Se {
            for c in curves {
                for &t in &targets {
                    let (has_scores, has_se) = match t {
                        Target::Gold => (true, c.gold_se.is_some()),
                        Target::Proxy => (
                            c.proxy
                                .as_ref()
                                .is_some_and(|p| p.iter().any(Option::is_some)),
                            c.proxy_se.is_some(),
                        ),
                    };
                    if (has_scores || explicit_proxy) && !has_se {
                        return Err(Error::Analysis(format!(
                            "--weights se: curve {} has no '{}_se' column (standard errors of its {} scores); give the column, or use --weights auto or none",
                            c.key,
                            t.as_str(),
                            t.as_str()
                        )));
                    }
                }
            }
        }
        Ok(FitPlan {
            targets,
            explicit_proxy,
        })
    }
}

/// A curve's points as every fit selects them: the kl = 0 points are left out (with
/// `--baseline auto` their mean is the subtracted baseline), `--min-kl`/`--max-kl` filter, points above
/// `--holdout-above` are held out; also the squared standard errors of the baseline points
/// (1 each when unweighted), whose mean's uncertainty the fit adds to its covariance.
pub struct CurvePoints {
    pub fit: Points,
    pub hold: Points,
    /// The subtracted kl = 0 mean (its `se` is filled in by the fit).
    pub baseline: Option<Baseline>,
    pub baseline_se2: Vec<f64>,
    /// Whether the fit is weighted by 1/se² (the target has standard errors and `--weights`
    /// is not `none`).
    pub weighted: bool,
}

pub fn curve_points(curve: &Curve, target: Target, opts: &FitOptions) -> CurvePoints {
    // The target's score at a point (none where a proxy score is missing), without a copy.
    let (scores, se): (&dyn Fn(usize) -> Option<f64>, Option<&Vec<f64>>) = match target {
        Target::Gold => (&|i| Some(curve.gold[i]), curve.gold_se.as_ref()),
        Target::Proxy => (
            &|i| curve.proxy.as_ref().and_then(|p| p[i]),
            curve.proxy_se.as_ref(),
        ),
    };
    let se = se.filter(|_| opts.weights != WeightsMode::None);
    let zeros: Vec<(f64, f64)> = (0..curve.kl.len())
        .filter(|&i| curve.kl[i] == 0.0)
        .filter_map(|i| scores(i).map(|y| (y, se.map_or(1.0, |s| s[i] * s[i]))))
        .collect();
    let subtract = opts.baseline == BaselineMode::Auto && !zeros.is_empty();
    let offset = if subtract {
        zeros.iter().map(|z| z.0).sum::<f64>() / zeros.len() as f64
    } else {
        0.0
    };
    let mut fit = Points::default();
    let mut hold = Points::default();
    // Every point of the curve may be a fitted one: no vector grows while it is filled.
    let n = curve.kl.len();
    if opts.holdout_above.is_none() {
        fit.d.reserve_exact(n);
        fit.y.reserve_exact(n);
    }
    if se.is_some() {
        fit.w = Some(Vec::with_capacity(if opts.holdout_above.is_none() {
            n
        } else {
            0
        }));
        hold.w = Some(Vec::new());
    }
    for i in 0..curve.kl.len() {
        let (kl, Some(y)) = (curve.kl[i], scores(i)) else {
            continue;
        };
        if kl == 0.0 || opts.min_kl.is_some_and(|m| kl < m) || opts.max_kl.is_some_and(|m| kl > m) {
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
    if opts.baseline == BaselineMode::None
        && let Some(w) = offset_baseline_warning(curve, target)
    {
        warnings.push(w);
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
    let mut outcome = crate::solve::form_fit::fit_points(form, &fit_pts);
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
    if target == Target::Gold
        && let Some(note) = crate::curves::per_token_note(
            curve,
            outcome.as_ref().ok().and_then(|f| f.peak()).map(|p| p.kl),
        )
    {
        warnings.push(note);
    }
    let boot = bootstrap::bootstrap_intervals(
        curve,
        target,
        opts,
        &mut outcome,
        &mut baseline,
        &mut warnings,
    );
    if let Ok(f) = &outcome {
        warnings.extend(meaning_warnings(f, target, kl_range.1, true, &fit_pts));
    }
    let form_check = outcome
        .as_ref()
        .ok()
        .and_then(|f| form_check::form_check(f, curve.key.method, target, &fit_pts));
    if let Some(w) = form_check.and_then(|c| form_check::warning(form, &c)) {
        warnings.push(w);
    }
    if boot.is_none()
        && curve.key.method == crate::schema::Method::Bon
        && weighted
        && let Ok(f) = &outcome
        && bootstrap::shared_pools_suspected(&f.stats)
    {
        warnings.push(SHARED_POOLS_WARNING.to_string());
    }
    if boot.is_none()
        && curve.key.method == crate::schema::Method::Bon
        && !weighted
        && outcome.is_ok()
    {
        warnings.push(UNWEIGHTED_SHARED_POOLS_WARNING.to_string());
    }
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
        form_check,
        bootstrap_replicates: boot.map(|b| b.0),
        bootstrap: boot.map(|b| b.1),
    })
}

/// What a fit's numbers cannot mean, said in words: a form that fits worse than the points'
/// mean (R² < 0, when `check_r2`), and, for gold fits of a two-parameter form (best-of-n, RL),
/// beta's 95% interval (from the bootstrap when there is one) containing 0, so that the fit
/// cannot tell whether the gold turns down: a peak it gives (within [`PEAK_RANGE_FACTOR`]
/// times the largest fitted KL, `kl_max`) is not determined, and "no peak" is not established
/// either. The power form is left out: its beta and gamma are often individually unpinned
/// (correlations near 1) while the curve and its peak are well determined.
///
/// And a gold fit whose peak lies inside the fitted KL range but misses the top of the points:
/// its peak gain differs from the highest gain the points reach by more than
/// [`PEAK_MISS_FRACTION`] of it *and* by more than three times the points' noise (from each
/// point's distance to its neighbours' line, so that the noise of the highest point cannot
/// explain it). The form then does not follow the curve's top, and its peak (and
/// what is computed from it) misstates the curve's.
pub(crate) fn meaning_warnings(
    f: &FittedForm,
    target: Target,
    kl_max: f64,
    check_r2: bool,
    points: &crate::solve::fitted::Points,
) -> Vec<String> {
    let short = |x: f64| {
        if x.abs() >= 1e5 {
            format!("{x:.2e}").replace('-', "\u{2212}")
        } else {
            crate::format::sig(x, 3)
        }
    };
    let mut out = Vec::new();
    if check_r2 && f.stats.r2 < 0.0 {
        out.push(format!(
            "the {} form fits these points worse than their mean does (R² = {}): its coefficients and peak do not describe them",
            f.form.form().id(),
            short(f.stats.r2)
        ));
    }
    let two_parameters = f.params.len() == 2;
    let beta = f.params.iter().find(|p| p.name == "beta");
    if target == Target::Gold
        && two_parameters
        && let Some(b) = beta
        && let (Some(lo), Some(hi)) = (b.ci_low, b.ci_high)
        && lo <= 0.0
        && hi >= 0.0
    {
        let interval = format!(
            "beta's 95% interval [{}, {}] contains 0",
            short(lo),
            short(hi)
        );
        out.push(match f.peak().filter(|p| p.kl <= PEAK_RANGE_FACTOR * kl_max) {
            Some(peak) => format!(
                "the fitted peak (KL {}) is not determined: {interval}, so the fit cannot tell whether the gold turns down",
                short(peak.kl)
            ),
            None => format!(
                "{interval}: the fit cannot tell whether the gold turns down (no peak is given, which does not mean there is none)"
            ),
        });
    }
    if target == Target::Gold
        && let Some(peak) = f.peak().filter(|p| p.kl <= kl_max)
        && let Some((d_top, y_top)) = points
            .d
            .iter()
            .zip(&points.y)
            .filter(|(d, y)| d.is_finite() && y.is_finite())
            .map(|(&d, &y)| (d, y))
            .max_by(|a, b| a.1.total_cmp(&b.1))
        && y_top > 0.0
        && (peak.score - y_top).abs() > PEAK_MISS_FRACTION * y_top
        && (peak.score - y_top).abs() > 3.0 * point_noise(points)
    {
        out.push(format!(
            "the fitted peak gain ({} at KL {}) is {}% of the highest gain of the data ({} at KL {}): the {} form does not follow the top of this curve, so its peak misstates the curve's",
            short(peak.score),
            short(peak.kl),
            (100.0 * peak.score / y_top).round(),
            short(y_top),
            short(d_top * d_top),
            f.form.form().id(),
        ));
    }
    out
}

/// The noise of a curve's points about the curve, whatever the form: each inner point's
/// distance from the line through its two neighbours in d, `r = y − (y₋ + w (y₊ − y₋))` with
/// `w = (d − d₋)/(d₊ − d₋)`, whose variance is `σ² (1 + w² + (1 − w)²)` for independent noise
/// of sd σ; σ² is their mean of `r² / (1 + w² + (1 − w)²)`. A smooth curve sampled densely leaves
/// only its curvature, so a misfit of the form does not inflate it as it does the RMSE. 0 with
/// fewer than 3 points.
fn point_noise(points: &crate::solve::fitted::Points) -> f64 {
    let mut pts: Vec<(f64, f64)> = points
        .d
        .iter()
        .zip(&points.y)
        .filter(|(d, y)| d.is_finite() && y.is_finite())
        .map(|(&d, &y)| (d, y))
        .collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let terms: Vec<f64> = pts
        .windows(3)
        .filter(|w| w[2].0 > w[0].0)
        .map(|w| {
            let f = (w[1].0 - w[0].0) / (w[2].0 - w[0].0);
            let r = w[1].1 - (w[0].1 + f * (w[2].1 - w[0].1));
            r * r / (1.0 + f * f + (1.0 - f) * (1.0 - f))
        })
        .collect();
    if terms.is_empty() {
        return 0.0;
    }
    (terms.iter().sum::<f64>() / terms.len() as f64).sqrt()
}

/// How far (a fraction of the data's highest gain) a fitted peak inside the data may be from
/// that highest gain before [`meaning_warnings`] says the form misses the curve's top.
pub(crate) const PEAK_MISS_FRACTION: f64 = 0.2;

/// Whether `warning` is one of [`meaning_warnings`] (replaced when a shared fit replaces the
/// curve's own).
pub(crate) fn is_meaning_warning(warning: &str) -> bool {
    warning.contains("fits these points worse than their mean does")
        || warning.contains("form does not follow the top of this curve")
        || warning.contains("so the fit cannot tell whether the gold turns down")
        || warning.contains(": the fit cannot tell whether the gold turns down")
}

/// With `--baseline none` the kl = 0 rows are left out and R(0) = 0 is assumed: a warning when
/// their mean is away from 0 by more than 3 standard errors (the standard-error column's
/// √Σse²/k, else the rows' sd/√k), or, with a single kl = 0 row and no standard error, by more
/// than 5% of the largest |score| of the curve.
fn offset_baseline_warning(curve: &Curve, target: Target) -> Option<String> {
    let (scores, se) = match target {
        Target::Gold => (
            curve.gold.iter().map(|&g| Some(g)).collect::<Vec<_>>(),
            curve.gold_se.as_ref(),
        ),
        Target::Proxy => (curve.proxy.clone()?, curve.proxy_se.as_ref()),
    };
    let zeros: Vec<(f64, Option<f64>)> = (0..curve.kl.len())
        .filter(|&i| curve.kl[i] == 0.0)
        .filter_map(|i| scores[i].map(|y| (y, se.map(|s| s[i]))))
        .collect();
    let k = zeros.len();
    if k == 0 {
        return None;
    }
    let mean = zeros.iter().map(|z| z.0).sum::<f64>() / k as f64;
    let se = if zeros.iter().all(|z| z.1.is_some_and(f64::is_finite)) {
        Some(
            zeros
                .iter()
                .map(|z| z.1.unwrap_or(0.0).powi(2))
                .sum::<f64>()
                .sqrt()
                / k as f64,
        )
    } else if k >= 2 {
        let var = zeros.iter().map(|z| (z.0 - mean).powi(2)).sum::<f64>() / (k - 1) as f64;
        Some((var / k as f64).sqrt())
    } else {
        None
    };
    let off = match se {
        Some(se) => mean.abs() > 3.0 * se,
        None => {
            let scale = scores.iter().flatten().fold(0.0_f64, |a, y| a.max(y.abs()));
            mean.abs() > 0.05 * scale
        }
    };
    off.then(|| {
        let pm = se.map_or(" (no standard error)".to_string(), |s| {
            format!(" ± {s:.2e}")
        });
        format!(
            "R(0) = 0 is assumed (--baseline none) but the kl = 0 mean is {mean:.4}{pm}; use --baseline auto"
        )
    })
}

/// The warning on an unweighted best-of-n fit with Student-t intervals: its points share
/// sample pools, which the residual scatter cannot show (no chi-square test in score units).
pub const UNWEIGHTED_SHARED_POOLS_WARNING: &str = "no standard errors or per-prompt values to check this best-of-n curve's points against: if they were estimated from one set of sample pools (as goodhart bon and the unbiased estimator make them), they are correlated and the Student-t intervals and standard errors of this unweighted fit are too narrow; write the curves with goodhart bon (it adds per-prompt values, which give prompt-bootstrap intervals by default), or give gold_se";

/// The warning on a best-of-n fit with Student-t intervals whose reduced chi-square is far
/// below 1 ([`bootstrap::shared_pools_suspected`]).
pub const SHARED_POOLS_WARNING: &str = "reduced chi-square far below 1 (below its 0.1% quantile for independent points): the points of this best-of-n curve come from shared sample pools and are correlated, so the Student-t intervals and standard errors are too narrow; write the curves with goodhart bon (it adds per-prompt values by default) and fit without --bootstrap 0 for prompt-bootstrap intervals";

/// The subtracted baseline b shifts every fitted score by the same amount, so its error moves
/// the coefficients by u·δb with u = (XᵀWX)⁻¹XᵀW·1, an error the residuals cannot reveal. With
/// Var(yᵢ) = s²·seᵢ² (s² the reduced chi-square, seᵢ = 1 when unweighted, as for the fit's own
/// covariance), Var(b) = s²·Σ seᵢ²/k² over the k baseline points, and Var(b)·uuᵀ is added to the
/// parameter covariance. Weighted fits use max(1, s²): the baseline's se is never below the raw
/// standard error of the kl = 0 mean.
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
    // Weighted: the points' own standard errors are a floor; a reduced chi-square below 1
    // (correlated points, e.g. best-of-n curves from shared pools) must not shrink them.
    let s2 = if pts.w.is_some() {
        redchi.max(1.0)
    } else {
        redchi
    };
    let var_b = s2 * baseline_se2.iter().sum::<f64>() / (k * k);
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
    let mut summary = WarningSummary::default();
    summary.add(fits);
    summary.lines()
}

/// [`summarize_warnings`] of fits seen a chunk at a time: per distinct warning, its first
/// three fits and a count (not every fit).
#[derive(Debug, Default, Clone)]
pub struct WarningSummary {
    /// (warning, the first three fits it concerns, how many fits it concerns)
    groups: Vec<(String, Vec<String>, usize)>,
}

impl WarningSummary {
    /// Counts the warnings of more fits (in order after those already added).
    pub fn add(&mut self, fits: &[CurveFit]) {
        for f in fits {
            for w in &f.warnings {
                let i = match self.groups.iter().position(|(text, _, _)| text == w) {
                    Some(i) => i,
                    None => {
                        self.groups.push((w.clone(), Vec::new(), 0));
                        self.groups.len() - 1
                    }
                };
                let (_, shown, count) = &mut self.groups[i];
                if shown.len() < 3 {
                    shown.push(format!("{} ({})", f.key, f.target.as_str()));
                }
                *count += 1;
            }
        }
    }

    /// One line per warning with the fits it concerns (three named, then a count).
    pub fn lines(&self) -> Vec<String> {
        self.groups
            .iter()
            .map(|(text, shown, count)| {
                let more = if *count > 3 {
                    format!(" and {} more", count - 3)
                } else {
                    String::new()
                };
                format!("{text}: {}{more}", shown.join("; "))
            })
            .collect()
    }
}
