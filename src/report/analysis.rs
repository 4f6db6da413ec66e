//! Everything a report shows that is not given on its command line, computed the one way the
//! commands compute it, as typed documents in memory: the fits document (with its
//! decomposition and extrapolation tests), scaling laws, predictions at 10x the largest RM, and
//! the Goodhart decompositions from coefficients and from samples.

use crate::bon::Pool;
use crate::curves::Curve;
use crate::document::{FitsDocument, PredictDoc, ScalingDoc, SizeKey};
use crate::error::Result;
use crate::fit::extrapolation::extrapolation_tests;
use crate::fit::{CurveFit, FitOptions, fit_curves, fit_document, shared_alpha as share_alpha};
use crate::goodhart::{
    Decomposition, Reference, ReferenceChoice, Units, decompose, from_fits, from_samples,
};
use crate::scaling::predict::{LawModel, PredictOptions, predict};
use crate::scaling::{ScaleOptions, scale};
use crate::schema::Method;

/// The analysis behind a report.
#[derive(Debug)]
pub struct Analysis {
    /// The fits in-process (only when they were computed here, not given).
    pub curve_fits: Option<Vec<CurveFit>>,
    /// The fits document: given, or computed here with its `"decomposition"`; its
    /// `"extrapolation"` tests are computed here when it has none.
    pub fits: FitsDocument,
    pub scaling: Option<ScalingDoc>,
    pub predictions: Option<PredictDoc>,
    /// The RM size predicted (10x the largest fitted one).
    pub predict_size: Option<f64>,
    /// From coefficients first (in curve order), then from samples; each raw, followed by
    /// the standardised one when there is a reference ([`crate::goodhart::preferred`] picks the
    /// one to show).
    pub decompositions: Vec<Decomposition>,
    /// What was computed here, for the provenance.
    pub computed: Vec<String>,
    /// What could not be computed, and why.
    pub notes: Vec<String>,
    /// The comparisons of `goodhart analyze` (set by the caller: `report`, `demo`).
    pub analyses: Option<crate::analyses::Analyses>,
    /// The initial-policy references of the samples, when the decompositions were standardised
    /// by them ([`ReferenceChoice::Default`]): the caller's analyses reuse them.
    pub sample_references: Option<Vec<Reference>>,
}

impl Analysis {
    /// The comparisons of `goodhart analyze` on these fits ([`crate::analyses::run`]), reusing
    /// the samples' references when this analysis computed them.
    pub fn comparisons(
        &self,
        curves: &[Curve],
        pools: &[Pool],
        reward_models: Option<&std::path::Path>,
        iterated: Option<&std::path::Path>,
    ) -> Result<crate::analyses::Analyses> {
        match &self.sample_references {
            Some(refs) => crate::analyses::run_with_references(
                curves,
                &self.fits.fits,
                refs,
                reward_models,
                iterated,
            ),
            None => crate::analyses::run(curves, &self.fits.fits, pools, reward_models, iterated),
        }
    }
}

/// Fits every curve as `goodhart fit` does by default (the paper's form for each method: `bon`
/// for best-of-n curves, `rl` for RL curves; gold and proxy when the curves have proxy scores),
/// and returns the fits and their document with the decomposition.
pub fn fit_all(curves: &[Curve]) -> Result<(Vec<CurveFit>, FitsDocument)> {
    fit_all_with(curves, &[], false)
}

/// [`fit_all`] with the decomposition standardised by `refs` where they have a reference, and,
/// with `share_alpha_rl` (`goodhart fit --share-alpha-rl`, the paper's practice), one alpha for
/// the unpenalised RL curves (kl_penalty 0 or not given) of each family, as the paper shares
/// it; penalised RL curves keep their own alpha (on the demo data, sharing across the curves of
/// a kl_penalty > 0 family gives R² < 0 on 32 gold fits). Without RL curves it has no effect.
pub fn fit_all_with(
    curves: &[Curve],
    refs: &[Reference],
    share_alpha_rl: bool,
) -> Result<(Vec<CurveFit>, FitsDocument)> {
    let opts = FitOptions::default();
    let mut fits = fit_curves(curves, &opts)?;
    let shared = if share_alpha_rl && curves.iter().any(|c| c.key.method == Method::Rl) {
        share_alpha::share_alpha_rl_where(curves, &opts, &mut fits, share_alpha::unpenalised)?
    } else {
        Vec::new()
    };
    let mut doc = fit_document(&fits, shared, None);
    decompose(&mut doc, curves, refs);
    Ok((fits, doc))
}

/// The predictions at 10x the largest RM size among the fits.
pub fn predict_10x(doc: &ScalingDoc, fits: &FitsDocument) -> Result<(f64, PredictDoc)> {
    let largest = fits
        .fits
        .iter()
        .map(|f| f.rm_params)
        .fold(f64::NEG_INFINITY, f64::max);
    let size = 10.0 * largest;
    let opts = PredictOptions {
        sizes: vec![size],
        method: None,
        kl: None,
        iterations: None,
        model: LawModel::LogLinear,
    };
    Ok((size, predict(doc, &opts)?))
}

/// Computes what is not given. A scaling or prediction that cannot be made (one RM size, no
/// converged fit) is a note of the report, not an error; a given file that is wrong is an error.
/// The decompositions are standardised by the samples given ([`ReferenceChoice::Default`]).
pub fn analyse(
    curves: &[Curve],
    pools: &[Pool],
    fits: Option<FitsDocument>,
    scaling: Option<ScalingDoc>,
) -> Result<Analysis> {
    analyse_with(
        curves,
        pools,
        fits,
        scaling,
        &ReferenceChoice::Default,
        false,
    )
}

/// [`analyse`] with the decompositions standardised by the `reference` chosen.
pub fn analyse_with(
    curves: &[Curve],
    pools: &[Pool],
    fits: Option<FitsDocument>,
    scaling: Option<ScalingDoc>,
    reference: &ReferenceChoice,
    share_alpha_rl: bool,
) -> Result<Analysis> {
    let mut computed = Vec::new();
    let mut notes = Vec::new();
    let refs = reference.resolve(pools)?;
    let (curve_fits, mut fits) = match fits {
        Some(f) => {
            let keys: std::collections::BTreeSet<_> = curves.iter().map(|c| c.key).collect();
            let stray = f.fits.iter().filter(|r| !keys.contains(&r.key())).count();
            if stray > 0 {
                notes.push(format!(
                    "{stray} of the {} fits given belong to no curve given (were they fitted to other curves?); they are listed but drawn nowhere",
                    f.fits.len()
                ));
            }
            (None, f)
        }
        None => {
            let (cf, doc) = fit_all_with(curves, &refs, share_alpha_rl)?;
            computed.push(format!(
                "fits: computed in-process (goodhart fit defaults: form bon for best-of-n curves, rl for RL curves; gold and proxy; prompt-bootstrap intervals where the curves carry per-prompt values{})",
                if share_alpha_rl {
                    "; --share-alpha-rl: one alpha per RL family"
                } else {
                    ""
                }
            ));
            (Some(cf), doc)
        }
    };
    // The extrapolation figure draws these (its caption says how they are made).
    if fits.extrapolation.is_empty() {
        fits.extrapolation = extrapolation_tests(curves);
    }
    let scaling = match scaling {
        Some(s) => Some(s),
        None => match scale(
            &fits,
            &ScaleOptions {
                by: SizeKey::RmParams,
            },
        ) {
            Ok(s) => {
                computed.push(
                    "scaling: computed in-process (goodhart scale --by rm_params)".to_string(),
                );
                Some(s)
            }
            Err(e) => {
                notes.push(format!("no scaling laws: {e}"));
                None
            }
        },
    };
    let (predict_size, predictions) = match &scaling {
        Some(doc) => match predict_10x(doc, &fits) {
            Ok((size, p)) => {
                computed.push(format!(
                    "predictions: computed in-process at rm_params = {} (10x the largest fitted RM), log-linear laws",
                    crate::format::fmt_num(size)
                ));
                (Some(size), Some(p))
            }
            Err(e) => {
                notes.push(format!("no predictions: {e}"));
                (None, None)
            }
        },
        None => (None, None),
    };
    let mut decompositions = from_fits(curves, &fits.fits, &refs);
    if decompositions.is_empty() {
        let why = if curves
            .iter()
            .any(|c| c.proxy.is_some() && !crate::goodhart::has_baseline(c))
        {
            "no curve has converged gold and proxy fits of the same form and a KL = 0 point with both scores"
        } else {
            "no curve has converged gold and proxy fits of the same form"
        };
        notes.push(format!("no decomposition from coefficients: {why}"));
    } else if decompositions
        .iter()
        .any(|d| d.units == Units::Standardised)
    {
        computed.push(
            "decomposition from coefficients: raw and standardised (proxy and gold divided by their standard deviations under the initial policy: every sample of the RM's pools, or the sds given)"
                .to_string(),
        );
    } else {
        computed.push("decomposition from coefficients: raw units only (no initial-policy reference matches the curves)".to_string());
    }
    if !pools.is_empty() {
        let mut from = from_samples(pools, None)?;
        if *reference == ReferenceChoice::RawOnly {
            from.retain(|d| d.units == Units::Raw);
        }
        decompositions.extend(from);
        computed.push(
            "decomposition from samples: gold regressed on proxy over each RM's samples (raw and standardised), best-of-n and the oracle (best of n by gold) by the unbiased estimator, jackknife over prompts"
                .to_string(),
        );
    }
    Ok(Analysis {
        curve_fits,
        fits,
        scaling,
        predictions,
        predict_size,
        decompositions,
        computed,
        notes,
        analyses: None,
        sample_references: (*reference == ReferenceChoice::Default).then_some(refs),
    })
}
