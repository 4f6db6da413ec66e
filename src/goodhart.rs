//! The Goodhart decomposition of the proxy-gold gap (paper section 4): how much of it is
//! regressional (a noisy proxy shrinks the slope alpha) and how much extremal (the proxy fails
//! far from the initial policy, the beta term).

use crate::schema::CurveKey;

/// Where a decomposition comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecompositionSource {
    /// Gold and proxy fits of the same form: regressional(d) = (alpha_p - alpha_g) d,
    /// extremal(d) = (beta_g - beta_p) f(d).
    Coefficients,
    /// Best-of-n samples: gold regressed on proxy under the initial policy.
    Samples,
}

/// The proxy-gold gap at one KL, split into its parts:
/// `proxy - gold = regressional + extremal + residual`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GapPoint {
    pub kl: f64,
    pub proxy: f64,
    pub gold: f64,
    pub regressional: f64,
    pub extremal: f64,
    pub residual: f64,
    pub regressional_se: Option<f64>,
    pub extremal_se: Option<f64>,
}

/// The decomposition of one curve.
#[derive(Debug, Clone, PartialEq)]
pub struct Decomposition {
    pub key: CurveKey,
    pub source: DecompositionSource,
    /// The functional form of the fits it comes from (`bon`, `rl`); for samples, `bon`.
    pub form: String,
    /// The gap along the curve, in increasing KL (for figures).
    pub points: Vec<GapPoint>,
    /// At the fitted gold peak's KL (None when the gold fit has no peak).
    pub at_peak: Option<GapPoint>,
    /// At the largest KL of the curve.
    pub at_max_kl: Option<GapPoint>,
}
