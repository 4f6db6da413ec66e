//! A form fitted to points: parameters with standard errors and intervals, goodness-of-fit
//! statistics, and the only type that predicts ([`FittedForm`]).

use nalgebra::DMatrix;

use super::linear::LinearSolution;
use crate::forms::{FormId, Peak};
use crate::stats::t95;

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

/// The fitted form and its statistics from a linear solution (lmfit's definitions).
pub fn statistics(
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
