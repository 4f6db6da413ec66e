//! The documents goodhart writes and reads back (fits, scaling laws, predictions), defined once:
//! every stage passes these typed values in memory, and the JSON files on disk are their serde
//! form (ARCHITECTURE.md, "Documents").
//!
//! Each document derives both `Serialize` and `Deserialize`, so a file written by one command
//! is read back by the next with the same type. Categorical fields are enums ([`Method`],
//! [`Target`], [`FormId`], [`CiMethod`], [`LawModelKind`], [`SizeKey`]), never strings.

pub mod fits;
pub mod predictions;
pub mod scaling;

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
pub use crate::forms::{FormId, Peak};
pub use crate::schema::Method;
pub use fits::{
    BaselineRecord, DecompositionRecord, DecompositionSource, ExtrapolationTest, FitRecord,
    FitsDocument, FitsJsonStream, FormCheck, FormComparison, FormScore, FormVerdict, GapPoint,
    HoldoutRecord, OraclePoint, ParamRecord, ReferenceRecord, ReferenceSource, ShareTest,
    SharedFit, Units,
};
pub use predictions::{
    CurvePoint, FailedPrediction, Interval, IteratedPrediction, PeakPrediction, PredictDoc,
    Prediction, PredictionWarning, WarningKind,
};
pub use scaling::{JointFit, Law, LawCovariance, LawModelKind, ScalingDoc, SizeKey};

/// The version written into every output file.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Which score is fitted.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// The gold reward model's score.
    #[default]
    Gold,
    /// The proxy reward model's score (the one optimised).
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

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// How the confidence intervals of a fit were computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum CiMethod {
    /// Student's t with the fit's degrees of freedom, from the covariance.
    #[default]
    T,
    /// Bootstrap replicate fits: their standard deviations and covariance, and percentile or
    /// BCa intervals.
    Bootstrap,
    /// First-order propagation of the laws' covariance (the delta method; `goodhart predict`).
    Delta,
}

/// Which bootstrap interval a fit reports (`"bootstrap_interval"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BootstrapInterval {
    /// The 2.5th and 97.5th percentiles of the replicate fits.
    Percentile,
    /// Bias-corrected and accelerated percentiles (acceleration from leave-one-prompt-out fits).
    Bca,
}

/// What a bootstrap resampled (`"bootstrap_resampled"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BootstrapSource {
    /// The prompts of the curve's per-prompt values (`gold_prompts`, `proxy_prompts`).
    Prompts,
    /// Replicate curves given in the table (`replicate` column).
    Replicates,
}

/// A document as pretty-printed JSON bytes with a final newline: the one way documents are
/// written.
pub fn to_json_bytes<T: Serialize>(doc: &T) -> Vec<u8> {
    // Cannot fail: documents hold numbers, strings, vectors and string-keyed maps only.
    let mut bytes = serde_json::to_vec_pretty(doc).expect("a document serialises to JSON");
    bytes.push(b'\n');
    bytes
}

/// A document that records the goodhart version that wrote it.
pub(crate) trait Versioned {
    /// `"goodhart_version"`; empty when the file had none.
    fn version(&self) -> &str;
}

/// Reads a document written by goodhart, refusing a file without `"goodhart_version"`.
/// `what` names the document in messages ("fits JSON"); `writer` names the command that
/// writes it.
pub(crate) fn read_json<T: DeserializeOwned + Versioned>(
    path: &Path,
    what: &'static str,
    writer: &str,
) -> Result<T> {
    let bytes = std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_json(&bytes, path, what, writer)
}

/// [`read_json`] on bytes already in memory (`path` names them in messages).
pub(crate) fn parse_json<T: DeserializeOwned + Versioned>(
    bytes: &[u8],
    path: &Path,
    what: &'static str,
    writer: &str,
) -> Result<T> {
    let corrupt = |detail: String| Error::Corrupt {
        path: path.to_path_buf(),
        format: what,
        detail,
    };
    let doc: T = serde_json::from_slice(bytes).map_err(|e| corrupt(e.to_string()))?;
    if doc.version().is_empty() {
        return Err(corrupt(format!(
            "no \"goodhart_version\": not written by {writer}"
        )));
    }
    Ok(doc)
}

/// Reads a number that serde_json wrote as null (a NaN) back as NaN.
pub(crate) fn nullable_f64<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}
