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
    pub low: Option<f64>,
    pub high: Option<f64>,
}

/// The predicted peak: its KL and score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeakPrediction {
    pub kl: Interval,
    pub score: Interval,
}

/// One point of a predicted curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    pub kl: f64,
    pub gold: f64,
    pub low: Option<f64>,
    pub high: Option<f64>,
}

/// The iterated-RLHF prediction R_k(d) = d (alpha - beta ln d + beta ln k).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IteratedPrediction {
    pub k: u32,
    pub formula: String,
    pub peak: Option<PeakPrediction>,
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
    pub curve: Vec<CurvePoint>,
    pub iterated: Option<IteratedPrediction>,
    pub extrapolation_decades: f64,
    pub warning: Option<String>,
    pub ci_method: CiMethod,
    pub ci_level: f64,
}

/// The predictions JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictDoc {
    #[serde(default)]
    pub goodhart_version: String,
    pub predictions: Vec<Prediction>,
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
