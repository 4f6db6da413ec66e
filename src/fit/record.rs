//! Fits as records of the typed fits document ([`crate::document::FitsDocument`]): what a
//! [`CurveFit`] says, in the form every later stage reads.

use std::collections::BTreeMap;

use super::CurveFit;
use crate::document::{
    BaselineRecord, CiMethod, FitRecord, FitsDocument, FormComparison, HoldoutRecord, ParamRecord,
    SharedFit,
};
use crate::solve::FittedForm;
use crate::stats::finite;

/// The fit's notes, or the reason there is no fit, joined by `; `.
pub(crate) fn message(fit: &CurveFit) -> Option<String> {
    let notes: Vec<String> = match &fit.outcome {
        Ok(f) => f.notes.clone(),
        Err(reason) => vec![reason.clone()],
    };
    (!notes.is_empty()).then(|| notes.join("; "))
}

/// The correlation of every pair of parameters, keyed `"alpha,beta"`.
pub(crate) fn correlations(f: &FittedForm) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for i in 0..f.params.len() {
        for j in i + 1..f.params.len() {
            if let Some(c) = f.correlation(i, j) {
                out.insert(format!("{},{}", f.params[i].name, f.params[j].name), c);
            }
        }
    }
    out
}

impl CurveFit {
    /// This fit as a record of the fits document.
    pub fn record(&self) -> FitRecord {
        let form = self.form.form();
        let f = self.fitted();
        FitRecord {
            method: self.key.method,
            rm_params: self.key.rm_params,
            policy_params: self.key.policy_params,
            rm_data: self.key.rm_data,
            kl_penalty: self.key.kl_penalty,
            target: self.target,
            form: self.form,
            formula: form.formula().to_string(),
            params: f
                .map(|f| {
                    f.params
                        .iter()
                        .map(|p| {
                            (
                                p.name.to_string(),
                                ParamRecord {
                                    value: p.value,
                                    se: p.se,
                                    ci_low: p.ci_low,
                                    ci_high: p.ci_high,
                                },
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
            n_points: f.map_or(0, |f| f.stats.n_points),
            r2: f.and_then(|f| finite(f.stats.r2)),
            rmse: f.map(|f| f.stats.rmse),
            aic: f.map(|f| f.stats.aic),
            bic: f.map(|f| f.stats.bic),
            peak: self.peak(),
            peak_reason: self.peak_reason(),
            holdout: self.holdout.map(|h| HoldoutRecord {
                above_kl: h.above_kl,
                points: h.points,
                rmse: h.rmse,
                max_abs_error: h.max_abs_error,
            }),
            converged: f.is_some(),
            message: message(self),
            dof: f.map(|f| f.stats.dof),
            chisqr: f.map(|f| f.stats.chisqr),
            redchi: f.and_then(|f| f.stats.redchi),
            correlations: f.map(correlations).unwrap_or_default(),
            covariance: f.and_then(|f| {
                f.covariance.as_ref().map(|c| {
                    (0..c.nrows())
                        .map(|i| (0..c.ncols()).map(|j| c[(i, j)]).collect())
                        .collect()
                })
            }),
            condition_number: f.and_then(|f| finite(f.stats.condition_number)),
            ci_method: if self.bootstrap_replicates.is_some() {
                CiMethod::Bootstrap
            } else {
                CiMethod::T
            },
            bootstrap_replicates: self.bootstrap_replicates,
            bootstrap_interval: self.bootstrap.map(|b| b.interval),
            bootstrap_resampled: self.bootstrap.map(|b| b.source),
            ci_level: 0.95,
            weighted: self.weighted,
            baseline: self.baseline.map(|b| BaselineRecord {
                points: b.points,
                value: b.value,
                se: b.se,
            }),
            kl_min: Some(self.kl_range.0),
            kl_max: Some(self.kl_range.1),
            shared: None,
            shared_fit: None,
            form_check: self.form_check,
            warnings: self.warnings.clone(),
        }
    }
}

/// The fits document of a set of fits: one record per fit, the shared-alpha blocks (their
/// members marked `"shared": ["alpha"]` and `"shared_fit"`) and the form comparison when one
/// was made. The decomposition and extrapolation tests are added by the stages that compute
/// them ([`crate::goodhart::decompose`], [`super::extrapolation`]).
pub fn fit_document(
    fits: &[CurveFit],
    shared: Vec<SharedFit>,
    comparison: Option<Vec<FormComparison>>,
) -> FitsDocument {
    let mut records: Vec<FitRecord> = if fits.len() > 4096 {
        use rayon::prelude::*;
        fits.par_iter().map(CurveFit::record).collect()
    } else {
        fits.iter().map(CurveFit::record).collect()
    };
    for (g, block) in shared.iter().enumerate() {
        for &i in &block.fit_indices {
            if let Some(r) = records.get_mut(i) {
                r.shared = Some(block.shared.clone());
                r.shared_fit = Some(g);
            }
        }
    }
    let mut doc = FitsDocument::new(records);
    doc.shared_fits = shared;
    doc.form_comparison = comparison;
    doc
}
