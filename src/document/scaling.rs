//! The scaling document (`goodhart scale --out SCALING.json`): each fitted coefficient regressed
//! on a size, and the optional joint fits.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Target, VERSION, Versioned, nullable_f64};
use crate::error::{Error, Result};
use crate::forms::FormId;
use crate::schema::Method;

/// The size variable of `--by`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SizeKey {
    RmParams,
    RmData,
    PolicyParams,
}

impl SizeKey {
    pub fn as_str(self) -> &'static str {
        match self {
            SizeKey::RmParams => crate::schema::RM_PARAMS,
            SizeKey::RmData => crate::schema::RM_DATA,
            SizeKey::PolicyParams => crate::schema::POLICY_PARAMS,
        }
    }
}

/// The model of one law.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum LawModelKind {
    /// c = a + b log10(size)
    #[serde(rename = "log-linear")]
    LogLinear,
    /// c = a size^b
    #[serde(rename = "power")]
    Power,
    /// b = 0: the coefficient is shared by the curves (`fit --share-alpha-rl`)
    #[serde(rename = "constant")]
    Constant,
    /// c = a + b log10(size) from the four-parameter joint fit (`scale --joint`)
    #[serde(rename = "joint")]
    Joint,
}

impl LawModelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LawModelKind::LogLinear => "log-linear",
            LawModelKind::Power => "power",
            LawModelKind::Constant => "constant",
            LawModelKind::Joint => "joint",
        }
    }
}

/// One fitted law of one coefficient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Law {
    pub method: Method,
    pub target: Target,
    pub form: FormId,
    pub coefficient: String,
    pub model: LawModelKind,
    pub group: BTreeMap<String, Option<f64>>,
    /// NaN (null in the JSON) when the regression failed.
    #[serde(deserialize_with = "nullable_f64")]
    pub a: f64,
    #[serde(deserialize_with = "nullable_f64")]
    pub b: f64,
    pub a_se: Option<f64>,
    pub b_se: Option<f64>,
    pub cov_ab: Option<f64>,
    pub a_ci: Option<[f64; 2]>,
    pub b_ci: Option<[f64; 2]>,
    pub r2: Option<f64>,
    pub sizes: Vec<f64>,
    /// The coefficient values regressed, one per size.
    pub values: Vec<f64>,
    pub aic: Option<f64>,
    pub chisqr: Option<f64>,
    pub n: usize,
    pub dof: usize,
    pub weighted: bool,
    pub converged: bool,
    pub message: Option<String>,
    /// The scatter of the coefficients about the law beyond their per-fit standard errors: the
    /// random-effects variance tau² (DerSimonian-Laird method of moments; the residual variance
    /// when the regression is unweighted). The law is fitted with weights 1/(se² + tau²).
    /// Absent for constant and joint laws (and in files of older versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tau2: Option<f64>,
    /// The root mean square of the per-fit standard errors regressed, to compare with
    /// sqrt(tau2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit_se_rms: Option<f64>,
    /// The largest KL observed among the fits of this law's group (their `kl_max`): how far
    /// this group's data reach, for the warnings of `predict`. Absent in older files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_kl_max: Option<f64>,
    /// How many of the group's fits (out of `n`) have no peak (beta <= 0), for a form with a
    /// `beta`. Absent in older files and for forms without a beta.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_peak_fits: Option<usize>,
    /// How many of the group's fits (out of `n`) the form check rejects: the other paper form
    /// fits their points better (README, "The form check"). Absent when no fit of the group was
    /// judged (proxy fits, best-of-n curves, forms other than `bon` and `rl`, older files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form_rejected_fits: Option<usize>,
}

impl Law {
    /// `a + b*log10(N)` with the sign of b folded in: `0.1 - 0.12593*log10(N)`.
    pub fn log_linear_formula(&self) -> String {
        use crate::format::g6;
        if self.b < 0.0 {
            format!("{} - {}*log10(N)", g6(self.a), g6(-self.b))
        } else {
            format!("{} + {}*log10(N)", g6(self.a), g6(self.b))
        }
    }

    /// The gradient of the law's value at a size with respect to (a, b).
    pub fn gradient(&self, size: f64) -> [f64; 2] {
        match self.model {
            LawModelKind::Power => {
                let v = self.a * size.powf(self.b);
                [size.powf(self.b), v * size.ln()]
            }
            LawModelKind::Constant => [1.0, 0.0],
            _ => [1.0, size.log10()],
        }
    }

    /// The size at which a log-linear (or joint) law crosses zero, a + b log10 N = 0
    /// (None for power and constant laws, or b = 0).
    pub fn zero_crossing(&self) -> Option<f64> {
        match self.model {
            LawModelKind::LogLinear | LawModelKind::Joint
                if self.b != 0.0 && self.a.is_finite() && self.b.is_finite() =>
            {
                let n = 10f64.powf(-self.a / self.b);
                (n.is_finite() && n > 0.0).then_some(n)
            }
            _ => None,
        }
    }

    /// The law's value at a size, and its standard error (from the covariance of (a, b)).
    pub fn at(&self, size: f64) -> (f64, Option<f64>) {
        match self.model {
            LawModelKind::Power => {
                let v = self.a * size.powf(self.b);
                let g = [size.powf(self.b), v * size.ln()];
                (v, self.var(g).map(f64::sqrt))
            }
            _ => {
                let x = size.log10();
                (self.a + self.b * x, self.var([1.0, x]).map(f64::sqrt))
            }
        }
    }

    fn var(&self, g: [f64; 2]) -> Option<f64> {
        let (sa, sb) = (self.a_se?, self.b_se.unwrap_or(0.0));
        let c = self.cov_ab.unwrap_or(0.0);
        Some((g[0] * g[0] * sa * sa + g[1] * g[1] * sb * sb + 2.0 * g[0] * g[1] * c).max(0.0))
    }
}

/// The four-parameter joint fit of one method (and group of the other keys).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JointFit {
    pub method: Method,
    pub target: Target,
    pub form: FormId,
    pub group: BTreeMap<String, Option<f64>>,
    /// a0, a1, b0, b1
    pub names: Vec<String>,
    pub values: Vec<f64>,
    pub se: Option<Vec<f64>>,
    pub covariance: Option<Vec<Vec<f64>>>,
    pub sizes: Vec<f64>,
    pub n_points: usize,
    pub dof: usize,
    pub chisqr: f64,
    pub redchi: Option<f64>,
    pub aic: f64,
    pub weighted: bool,
}

/// The covariance between the laws of two coefficients of one group (method, target, form, other
/// keys) and model, where both are fitted from the same curves: `cov[i][j]` = Cov(p_i, q_j) with
/// p = (a, b) of the first law and q = (a, b) of the second; `tau12` is the covariance of the two
/// coefficients' scatter about their laws (the off-diagonal of the random-effects matrix).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LawCovariance {
    pub method: Method,
    pub target: Target,
    pub form: FormId,
    pub group: BTreeMap<String, Option<f64>>,
    pub model: LawModelKind,
    /// The two coefficients, e.g. `["alpha", "beta"]`.
    pub coefficients: [String; 2],
    pub cov: [[f64; 2]; 2],
    pub tau12: f64,
    /// Where the per-curve covariance came from ("per-fit covariance" or what was assumed).
    pub source: String,
}

/// The scaling JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScalingDoc {
    #[serde(default)]
    pub goodhart_version: String,
    pub by: SizeKey,
    pub laws: Vec<Law>,
    #[serde(default)]
    pub joint: Vec<JointFit>,
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Covariances between the two-stage laws of the coefficients fitted from the same curves.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub law_covariances: Vec<LawCovariance>,
    /// The largest KL observed per method (`bon`, `rl`) among the fits (their `kl_max`): how
    /// far the data reach, for the warnings of `predict`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub observed_kl_max: BTreeMap<String, f64>,
}

impl Versioned for ScalingDoc {
    fn version(&self) -> &str {
        &self.goodhart_version
    }
}

impl ScalingDoc {
    /// Reads a scaling JSON, refusing one written by another version of goodhart (its laws
    /// may mean something else).
    pub fn read(path: &Path) -> Result<ScalingDoc> {
        let doc: ScalingDoc = super::read_json(path, "scaling JSON", "goodhart scale")?;
        if doc.goodhart_version != VERSION {
            return Err(Error::Analysis(format!(
                "{}: written by goodhart {}, but this is goodhart {VERSION}: run `goodhart scale` again with this version",
                path.display(),
                doc.goodhart_version
            )));
        }
        Ok(doc)
    }

    /// The JSON bytes written to disk.
    pub fn to_json(&self) -> Vec<u8> {
        super::to_json_bytes(self)
    }
}
