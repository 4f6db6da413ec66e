//! The predictions document (`goodhart predict --out PRED.json`): coefficients, curve and peak
//! at sizes that were not trained, with 95% intervals.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{CiMethod, Target, Versioned};
use crate::forms::FormId;
use crate::schema::Method;

/// A value with its 95% interval.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Interval {
    pub value: f64,
    /// The 95% interval of the mean law (where the mean coefficient of RMs of this size lies).
    pub low: Option<f64>,
    pub high: Option<f64>,
    /// The 95% prediction interval for a new RM of this size: the law's uncertainty plus the
    /// scatter of RMs about the law (tau²). Absent when the laws carry no scatter (joint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_rm_low: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_rm_high: Option<f64>,
}

/// The predicted peak: its KL and score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeakPrediction {
    pub kl: Interval,
    pub score: Interval,
}

/// One point of a predicted curve. The predicted score is named after the prediction's
/// target: `gold` for a gold prediction, `proxy` for a proxy prediction (exactly one is set;
/// [`CurvePoint::score`] reads whichever it is).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    pub kl: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gold: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_rm_low: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_rm_high: Option<f64>,
}

impl CurvePoint {
    /// A point of a prediction of `target`: its score goes under the target's name.
    pub fn new(target: Target, kl: f64, score: f64) -> CurvePoint {
        CurvePoint {
            kl,
            gold: (target == Target::Gold).then_some(score),
            proxy: (target == Target::Proxy).then_some(score),
            low: None,
            high: None,
            new_rm_low: None,
            new_rm_high: None,
        }
    }

    /// The predicted score (gold or proxy, after the target); NaN when neither is present.
    pub fn score(&self) -> f64 {
        self.gold.or(self.proxy).unwrap_or(f64::NAN)
    }
}

/// The iterated-RLHF prediction R_k(d) = d (alpha - beta ln d + beta ln k).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IteratedPrediction {
    pub k: u32,
    pub formula: String,
    pub peak: Option<PeakPrediction>,
    /// Why `peak` is null, or why a bound of its intervals is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_reason: Option<String>,
    pub curve: Vec<CurvePoint>,
}

/// The prediction for one size, method, target, form and group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    pub method: Method,
    pub target: Target,
    pub rm_params: f64,
    pub form: FormId,
    /// The models of the laws used, one per parameter, joined by `+` (`log-linear+constant`).
    pub model: String,
    pub group: BTreeMap<String, Option<f64>>,
    /// One entry per parameter of the form (alpha, beta, ...).
    #[serde(flatten)]
    pub params: BTreeMap<String, Interval>,
    pub peak: Option<PeakPrediction>,
    /// Why `peak` is null (no peak, or a peak beyond 10x the largest observed KL), or why a
    /// bound of its intervals is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_reason: Option<String>,
    pub curve: Vec<CurvePoint>,
    pub iterated: Option<IteratedPrediction>,
    pub extrapolation_decades: f64,
    /// The largest KL observed for this method among the fits (from the scaling file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_kl_max: Option<f64>,
    /// Every warning's message, joined by "; " (null when there is none).
    pub warning: Option<String>,
    /// The warnings, each named by its group.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<PredictionWarning>,
    pub ci_method: CiMethod,
    pub ci_level: f64,
}

/// What a prediction warning is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// A coefficient has the wrong sign (<= 0) or its 95% interval contains 0.
    CoefficientSign,
    /// A law crosses zero (`size`) anywhere from the smallest fitted size to the requested
    /// size, inside the fitted range or beyond it.
    LawCrossesZero,
    /// The predicted peak KL lies beyond the largest KL observed for the group (or the method).
    BeyondObservedKl,
    /// The requested size is one decade or more outside the fitted sizes.
    Extrapolation,
    /// Most of the group's fitted curves have no peak (beta <= 0).
    FitsWithoutPeak,
    /// Some of the group's fitted curves are fitted better by the other paper form (the form
    /// check rejects their form).
    FormRejected,
    /// Anything else (e.g. `--iterations` on a form without an iterated prediction).
    Other,
}

/// One warning of a prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictionWarning {
    pub kind: WarningKind,
    /// The group it concerns: method, target, form and the other keys, e.g.
    /// `rl gold (rl) kl_penalty=0 policy_params=32 rm_data=1000`.
    pub group: String,
    pub message: String,
    /// The size where a law crosses zero (`law_crosses_zero`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<f64>,
}

/// A group that could not be predicted (e.g. its power law did not converge).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailedPrediction {
    pub method: Method,
    pub target: Target,
    pub form: FormId,
    pub group: BTreeMap<String, Option<f64>>,
    pub rm_params: f64,
    pub reason: String,
}

/// The predictions JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictDoc {
    #[serde(default)]
    pub goodhart_version: String,
    pub predictions: Vec<Prediction>,
    /// The groups that could not be predicted, with their reasons.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<FailedPrediction>,
}

impl Versioned for PredictDoc {
    fn version(&self) -> &str {
        &self.goodhart_version
    }
}

impl PredictDoc {
    /// Reads a predictions JSON of `goodhart predict`.
    pub fn read(path: &std::path::Path) -> crate::error::Result<PredictDoc> {
        super::read_json(path, "predictions JSON", "goodhart predict")
    }

    /// The JSON bytes written to disk.
    pub fn to_json(&self) -> Vec<u8> {
        super::to_json_bytes(self)
    }
}
