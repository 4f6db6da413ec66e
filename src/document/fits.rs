//! The fits document (`goodhart fit --out FITS.json`): one record per fitted curve and target,
//! and what was computed from the fits (shared-alpha blocks, form comparisons, the Goodhart
//! decomposition, extrapolation tests).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{BootstrapInterval, BootstrapSource, CiMethod, Target, Versioned};
use crate::error::Result;
use crate::forms::{FormId, Peak};
use crate::schema::{CurveKey, Method};

/// The fits JSON.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct FitsDocument {
    #[serde(default)]
    pub goodhart_version: String,
    pub fits: Vec<FitRecord>,
    /// The unit of every KL in the document when it is not the Curves table's nats per
    /// sequence: "nats per token" for a trainer log's per-token KL that no response length
    /// converted (peak KL, KL ranges and alpha/beta are then per token). Absent: per sequence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kl_unit: Option<String>,
    /// `--share-alpha-rl`: the block fits whose member records say `"shared_fit": <index>`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shared_fits: Vec<SharedFit>,
    /// `--compare-forms`: every form on every curve, ranked by AIC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form_comparison: Option<Vec<FormComparison>>,
    /// The proxy-gold gap split into its Goodhart parts (curves with gold and proxy fits).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub decomposition: Vec<DecompositionRecord>,
    /// The extrapolation test of every curve (fit left of the median KL, error right of it),
    /// when it was computed (`goodhart report`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extrapolation: Vec<ExtrapolationTest>,
}

impl Versioned for FitsDocument {
    fn version(&self) -> &str {
        &self.goodhart_version
    }
}

impl FitsDocument {
    /// A document of these fits, stamped with this version.
    pub fn new(fits: Vec<FitRecord>) -> FitsDocument {
        FitsDocument {
            goodhart_version: super::VERSION.to_string(),
            fits,
            ..FitsDocument::default()
        }
    }

    /// Reads the fits JSON of `goodhart fit`.
    pub fn read(path: &Path) -> Result<FitsDocument> {
        super::read_json(path, "fits JSON", "goodhart fit")
    }

    /// Parses the bytes of a fits JSON (`path` names them in messages).
    pub fn parse(bytes: &[u8], path: &Path) -> Result<FitsDocument> {
        super::parse_json(bytes, path, "fits JSON", "goodhart fit")
    }

    /// The JSON bytes written to disk.
    pub fn to_json(&self) -> Vec<u8> {
        super::to_json_bytes(self)
    }

    /// The document's JSON around its `"fits"` array, for writing the records as they are
    /// made ([`FitsJsonStream`]): the bytes up to and including the array's `[`, and the bytes
    /// after its `]`. `self.fits` is ignored. Streamed, the file is byte for byte
    /// [`FitsDocument::to_json`] of the whole document.
    pub fn json_frame(&self) -> (Vec<u8>, Vec<u8>) {
        let empty = FitsDocument {
            goodhart_version: self.goodhart_version.clone(),
            fits: Vec::new(),
            kl_unit: self.kl_unit.clone(),
            shared_fits: self.shared_fits.clone(),
            form_comparison: self.form_comparison.clone(),
            decomposition: self.decomposition.clone(),
            extrapolation: self.extrapolation.clone(),
        };
        let bytes = empty.to_json();
        // The top-level key is the only one indented by exactly two spaces after a newline (a
        // string never holds a raw newline), and an empty array is written `[]`.
        const KEY: &[u8] = b"\n  \"fits\": []";
        // Cannot fail: "fits" is always serialised, at the top level of the document.
        let at = bytes
            .windows(KEY.len())
            .position(|w| w == KEY)
            .expect("the fits document has a top-level fits array");
        let open = at + KEY.len() - 1;
        (bytes[..open].to_vec(), bytes[open + 1..].to_vec())
    }
}

/// `serde_json`'s pretty formatter (two spaces a level) started `depth` levels deep: a record
/// rendered with it has the bytes of the same record inside `serde_json::to_vec_pretty` of the
/// whole document (inside its `"fits"` array, two levels deep), without re-indenting the record's
/// lines afterwards.
struct NestedPretty {
    depth: usize,
    has_value: bool,
}

impl NestedPretty {
    fn newline_indent<W: ?Sized + std::io::Write>(
        &self,
        writer: &mut W,
        separator: &[u8],
    ) -> std::io::Result<()> {
        writer.write_all(separator)?;
        for _ in 0..self.depth {
            writer.write_all(b"  ")?;
        }
        Ok(())
    }

    /// An array or object opens (`bracket` is `[` or `{`).
    fn open<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        bracket: &[u8],
    ) -> std::io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        writer.write_all(bracket)
    }

    /// An array or object closes (`bracket` is `]` or `}`), on its own line after values.
    fn close<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        bracket: &[u8],
    ) -> std::io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            self.newline_indent(writer, b"\n")?;
        }
        writer.write_all(bracket)
    }

    /// The separator and indentation before an array value or an object key.
    fn item<W: ?Sized + std::io::Write>(&self, writer: &mut W, first: bool) -> std::io::Result<()> {
        self.newline_indent(writer, if first { b"\n" } else { b",\n" })
    }
}

impl serde_json::ser::Formatter for NestedPretty {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"[")
    }

    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"]")
    }

    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.item(w, first)
    }

    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"{")
    }

    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"}")
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.item(w, first)
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// Writes the `"fits"` array of a fits JSON record by record, with the bytes of
/// `serde_json::to_vec_pretty` of the whole document ([`FitsDocument::json_frame`] gives what
/// goes before and after). Records can be rendered in parallel ([`FitsJsonStream::render`]) and
/// written in order ([`FitsJsonStream::push`]).
#[derive(Debug, Default)]
pub struct FitsJsonStream {
    written: usize,
}

impl FitsJsonStream {
    /// One record as it appears inside the document's array (indented by four spaces, no
    /// separator).
    pub fn render(record: &FitRecord, out: &mut Vec<u8>) {
        out.extend_from_slice(b"\n    ");
        let formatter = NestedPretty {
            depth: 2,
            has_value: false,
        };
        let mut ser = serde_json::Serializer::with_formatter(out, formatter);
        // Cannot fail: a record holds numbers, strings, vectors and string-keyed maps only,
        // and the writer is a vector.
        serde::Serialize::serialize(record, &mut ser).expect("a fit record serialises to JSON");
    }

    /// The next record, after its separator when records came before, rendered into `out`
    /// (what [`FitsJsonStream::render`] then [`FitsJsonStream::push`] give, without a copy).
    pub fn render_next(&mut self, record: &FitRecord, out: &mut Vec<u8>) {
        if self.written > 0 {
            out.push(b',');
        }
        Self::render(record, out);
        self.written += 1;
    }

    /// The separator before the next rendered record, into `out`.
    pub fn push(&mut self, rendered: &[u8], out: &mut Vec<u8>) {
        if self.written > 0 {
            out.push(b',');
        }
        out.extend_from_slice(rendered);
        self.written += 1;
    }

    /// Notes that records rendered elsewhere (a batch of [`FitsJsonStream::push`] into
    /// another stream) were written, with a `,` before them when records came before.
    pub fn mark_written(&mut self) {
        self.written += 1;
    }

    /// Records (or batches) written so far.
    pub fn len(&self) -> usize {
        self.written
    }

    pub fn is_empty(&self) -> bool {
        self.written == 0
    }

    /// The end of the array (before the frame's tail).
    pub fn close(&self) -> &'static [u8] {
        if self.written == 0 { b"]" } else { b"\n  ]" }
    }
}

/// One parameter of a fit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ParamRecord {
    pub value: f64,
    /// Standard error; `null` when the fit has no degrees of freedom.
    #[serde(default)]
    pub se: Option<f64>,
    /// 95% interval (`ci_method` says how).
    #[serde(default)]
    pub ci_low: Option<f64>,
    #[serde(default)]
    pub ci_high: Option<f64>,
}

/// The extrapolation test of `--holdout-above`: the fit evaluated on the held-out points.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HoldoutRecord {
    pub above_kl: f64,
    pub points: usize,
    pub rmse: Option<f64>,
    pub max_abs_error: Option<f64>,
}

/// The form check of a gold fit of one of the paper's two forms (best-of-n, RL): the other
/// form fitted to the same points with the same weights, and which fits them better by AIC,
/// with correlated residuals counted as fewer points (README, "The form check").
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FormCheck {
    /// The other of the paper's two forms (`bon` for an `rl` fit, `rl` for a `bon` fit).
    pub alternative: FormId,
    /// The AIC of the fit's form minus the alternative's, both fitted to this curve alone (before
    /// any shared alpha) on the same points (lmfit's AIC, every point counted as independent):
    /// above 0 the alternative fits better.
    pub delta_aic: f64,
    /// The number of independent points the residuals are worth: n (1 − ρ)/(1 + ρ), with ρ the
    /// lag-1 autocorrelation (in d, floored at 0) of the better form's residuals.
    pub effective_points: f64,
    /// What the verdict is judged on: `delta_aic` scaled to `effective_points` and, for a
    /// weighted fit, no larger in size than the difference of the weighted chi-squares (the
    /// likelihood ratio the standard errors allow); 0 when both forms fit to rounding.
    pub evidence: f64,
    pub verdict: FormVerdict,
}

impl FormVerdict {
    /// The verdict as the JSON names it (`rejected`, `preferred`, `inconclusive`, `not_tested`).
    pub fn as_str(self) -> &'static str {
        match self {
            FormVerdict::Rejected => "rejected",
            FormVerdict::Preferred => "preferred",
            FormVerdict::Inconclusive => "inconclusive",
            FormVerdict::NotTested => "not_tested",
        }
    }
}

impl FormCheck {
    /// Whether the check rejects the fit's form (and the fit carries a warning).
    pub fn rejected(&self) -> bool {
        self.verdict == FormVerdict::Rejected
    }
}

/// What a form check concludes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FormVerdict {
    /// `evidence` above 10: the alternative fits these points better, and the data give the
    /// fitted form essentially no support against it.
    Rejected,
    /// `evidence` below −10: the fitted form fits these points better than the alternative.
    Preferred,
    /// `evidence` within 10 either way: the points do not tell the two shapes apart.
    Inconclusive,
    /// Not tested: the points are not independent (a best-of-n curve's points are all
    /// estimated from the same samples), and AIC counts each as independent evidence, so
    /// `delta_aic` is given but not judged.
    NotTested,
}

/// The kl = 0 baseline subtracted before a fit: the fitted curve in the data's units is
/// `baseline + R(d)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BaselineRecord {
    pub points: usize,
    pub value: f64,
    #[serde(default)]
    pub se: Option<f64>,
}

/// One fit of one curve and target (README, "The fits JSON").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitRecord {
    pub method: Method,
    pub rm_params: f64,
    #[serde(default)]
    pub policy_params: Option<f64>,
    #[serde(default)]
    pub rm_data: Option<f64>,
    #[serde(default)]
    pub kl_penalty: Option<f64>,
    pub target: Target,
    pub form: FormId,
    #[serde(default)]
    pub formula: String,
    /// The parameters by name (alpha, beta, gamma); empty when the fit did not converge.
    #[serde(default)]
    pub params: BTreeMap<String, ParamRecord>,
    #[serde(default)]
    pub n_points: usize,
    #[serde(default)]
    pub r2: Option<f64>,
    #[serde(default)]
    pub rmse: Option<f64>,
    #[serde(default)]
    pub aic: Option<f64>,
    #[serde(default)]
    pub bic: Option<f64>,
    /// `null` when the fitted curve has no maximum for d > 0, or when its maximum lies beyond
    /// 10x the largest fitted KL (then `peak_reason` says so).
    #[serde(default)]
    pub peak: Option<Peak>,
    /// Why a fitted maximum is not given as `peak` ("beyond 10x the fitted KL range ...").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_reason: Option<String>,
    #[serde(default)]
    pub holdout: Option<HoldoutRecord>,
    #[serde(default)]
    pub converged: bool,
    /// Notes on the fit, or the reason there is none.
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub dof: Option<usize>,
    #[serde(default)]
    pub chisqr: Option<f64>,
    #[serde(default)]
    pub redchi: Option<f64>,
    /// Correlation of each pair of parameters, keyed `"alpha,beta"`.
    #[serde(default)]
    pub correlations: BTreeMap<String, f64>,
    /// Covariance of the parameters, in the order of the form's parameter names.
    #[serde(default)]
    pub covariance: Option<Vec<Vec<f64>>>,
    #[serde(default)]
    pub condition_number: Option<f64>,
    #[serde(default)]
    pub ci_method: CiMethod,
    /// Replicate fits behind the standard errors, covariance and intervals (`ci_method`
    /// "bootstrap"); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootstrap_replicates: Option<usize>,
    /// `percentile` or `bca` (`ci_method` "bootstrap"); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootstrap_interval: Option<BootstrapInterval>,
    /// `prompts` (per-prompt values resampled by `goodhart fit`) or `replicates` (replicate
    /// rows of the table); absent without a bootstrap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootstrap_resampled: Option<BootstrapSource>,
    #[serde(default = "default_ci_level")]
    pub ci_level: f64,
    #[serde(default)]
    pub weighted: bool,
    #[serde(default)]
    pub baseline: Option<BaselineRecord>,
    /// The KL range of the fitted points.
    #[serde(default)]
    pub kl_min: Option<f64>,
    #[serde(default)]
    pub kl_max: Option<f64>,
    /// The parameters held in common with other fits (`["alpha"]` under `--share-alpha-rl`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared: Option<Vec<String>>,
    /// Index of the block in `"shared_fits"` this fit belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_fit: Option<usize>,
    /// The form check (gold fits of the `bon` and `rl` forms); absent otherwise, and in files
    /// of older versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form_check: Option<FormCheck>,
    /// What the user should know about this fit (e.g. points from shared pools with Student-t
    /// intervals); absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

fn default_ci_level() -> f64 {
    0.95
}

impl FitRecord {
    /// The curve this fit belongs to.
    pub fn key(&self) -> CurveKey {
        CurveKey {
            method: self.method,
            rm_params: self.rm_params,
            policy_params: self.policy_params,
            rm_data: self.rm_data,
            kl_penalty: self.kl_penalty,
        }
    }

    /// The value of a key column by name (`rm_params`, `policy_params`, `rm_data`,
    /// `kl_penalty`).
    pub fn key_value(&self, name: &str) -> Option<f64> {
        self.key().value(name)
    }

    /// The parameter values in the form's order, when the fit converged with all of them.
    pub fn values(&self) -> Option<Vec<f64>> {
        if !self.converged {
            return None;
        }
        self.form
            .form()
            .param_names()
            .iter()
            .map(|n| self.params.get(*n).map(|p| p.value))
            .collect()
    }

    /// The fitted score (baseline-subtracted) at distance d = sqrt(KL).
    pub fn predict(&self, d: f64) -> Option<f64> {
        Some(self.form.form().eval(&self.values()?, d))
    }
}

/// One shared-alpha block fit (`--share-alpha-rl`), under `"shared_fits"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SharedFit {
    pub method: Method,
    pub target: Target,
    pub form: FormId,
    pub policy_params: Option<f64>,
    pub rm_data: Option<f64>,
    pub kl_penalty: Option<f64>,
    pub shared: Vec<String>,
    /// `alpha`, then `beta[rm_params=...]` for each curve, in the order of `fit_indices`.
    pub names: Vec<String>,
    pub values: Vec<f64>,
    pub covariance: Option<Vec<Vec<f64>>>,
    /// Indices of the member fits in the "fits" array.
    pub fit_indices: Vec<usize>,
    pub n_points: usize,
    pub dof: usize,
    pub chisqr: f64,
    pub redchi: Option<f64>,
    pub condition_number: f64,
    /// The test of the shared alpha against one alpha per curve; `None` when a member fit
    /// failed or the per-curve fits have no residual degrees of freedom.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_test: Option<ShareTest>,
    /// Why the shared alpha should not be trusted (the test rejects it, or a member's R² < 0).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// The extra-sum-of-squares F test of a shared-alpha block: F = ((χ²_shared − χ²_free)/(k − 1))
/// / (χ²_free/(n − 2k)), with χ²_free the sum of the k per-curve fits' chi-squares, on
/// (k − 1, n − 2k) degrees of freedom. A small p-value says the curves do not share one alpha.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShareTest {
    /// Σ of the member curves' own (one alpha each) chi-squares.
    pub chisqr_free: f64,
    pub f: f64,
    pub dof_num: usize,
    pub dof_den: usize,
    pub p_value: f64,
}

/// One form on one curve (`--compare-forms`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormScore {
    pub rank: usize,
    pub form: FormId,
    pub formula: String,
    pub n_params: usize,
    pub n_points: usize,
    /// Σ wᵢ rᵢ² (the weighted SSE; unweighted fits: the SSE).
    pub sse: Option<f64>,
    pub aic: Option<f64>,
    pub bic: Option<f64>,
    /// AIC minus the best AIC of this curve.
    pub delta_aic: Option<f64>,
    pub holdout_rmse: Option<f64>,
    pub converged: bool,
    pub message: Option<String>,
}

/// The ranking of the forms on one curve and target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormComparison {
    pub method: Method,
    pub rm_params: f64,
    pub policy_params: Option<f64>,
    pub rm_data: Option<f64>,
    pub kl_penalty: Option<f64>,
    pub target: Target,
    pub forms: Vec<FormScore>,
}

/// Where a decomposition comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DecompositionSource {
    /// Gold and proxy fits of the same form: regressional(d) = (alpha_p - alpha_g) d,
    /// extremal(d) = (beta_g - beta_p) f(d).
    Coefficients,
    /// Best-of-n samples: gold regressed on proxy under the initial policy.
    Samples,
}

impl DecompositionSource {
    pub fn as_str(self) -> &'static str {
        match self {
            DecompositionSource::Coefficients => "coefficients",
            DecompositionSource::Samples => "samples",
        }
    }
}

/// The proxy-gold gap at one KL, split into its parts:
/// `proxy - gold = regressional + extremal + residual`, with `proxy` and `gold` measured from
/// their initial-policy baselines.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GapPoint {
    pub kl: f64,
    pub proxy: f64,
    pub gold: f64,
    pub regressional: f64,
    pub extremal: f64,
    pub residual: f64,
    pub regressional_se: Option<f64>,
    pub extremal_se: Option<f64>,
    /// The oracle: the best-of-n gold score when the best of n is chosen by gold from the same
    /// initial-policy pools, at this KL, from the same baseline and in the same units (best-of-n
    /// curves with a samples reference only). `oracle - gold` is the total cost of the proxy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oracle: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oracle_se: Option<f64>,
}

impl GapPoint {
    /// `proxy - gold`.
    pub fn gap(&self) -> f64 {
        self.proxy - self.gold
    }
}

/// The decomposition of one curve under `"decomposition"`: the parts at the gold peak and at
/// the largest KL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecompositionRecord {
    pub method: Method,
    pub rm_params: f64,
    pub policy_params: Option<f64>,
    pub rm_data: Option<f64>,
    pub kl_penalty: Option<f64>,
    pub source: DecompositionSource,
    pub form: FormId,
    /// The units of every score and part of this record; files written before the field
    /// existed are raw.
    #[serde(default)]
    pub units: Units,
    pub at_peak: Option<GapPoint>,
    /// Why `at_peak` is null although the gold fit has a peak (e.g. "peak beyond 10x the
    /// fitted KL: not evaluated").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_peak_reason: Option<String>,
    /// How the from-coefficients standard errors were computed ("joint prompt bootstrap" or
    /// "independent fits").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub se_method: Option<String>,
    pub at_max_kl: Option<GapPoint>,
    /// The initial-policy distribution the scores are standardised by (standardised records;
    /// raw records carry it too when one was available, for its correlation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<ReferenceRecord>,
    /// The oracle best-of-n curve (best of n chosen by gold from the reference pools), in the
    /// record's units, measured from the initial policy's mean gold score.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub oracle: Vec<OraclePoint>,
}

/// The units of a decomposition.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Units {
    /// The scores as given (proxy in the proxy's units, gold in gold's).
    #[default]
    Raw,
    /// Proxy and gold each divided by its standard deviation under the initial policy.
    Standardised,
}

impl Units {
    pub fn as_str(self) -> &'static str {
        match self {
            Units::Raw => "raw",
            Units::Standardised => "standardised",
        }
    }
}

/// Where a standardisation reference comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReferenceSource {
    /// Samples of the initial policy (best-of-n pools): every sample of the RM's pools.
    Samples,
    /// Standard deviations given on the command line.
    Given,
}

/// The initial-policy distribution of proxy and gold scores a decomposition is standardised by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceRecord {
    pub source: ReferenceSource,
    /// Standard deviation of the proxy score under the initial policy (prompt-pooled: over every
    /// sample of every prompt).
    pub proxy_sd: f64,
    /// Standard deviation of the gold score under the initial policy (prompt-pooled).
    pub gold_sd: f64,
    /// Proxy-gold correlation under the initial policy, prompt-pooled (every sample of the RM's
    /// pools, across prompts): the slope of standardised gold on standardised proxy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rho: Option<f64>,
    /// Proxy-gold correlation within prompts (scores centred on their prompt's means), the
    /// variation best-of-n selects on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rho_within_prompt: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_samples: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_prompts: Option<usize>,
}

/// One point of the oracle best-of-n curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OraclePoint {
    pub n: usize,
    /// The analytic KL of best-of-n, ln n - (n - 1)/n.
    pub kl: f64,
    /// Mean over prompts of the best-of-n gold score with the best chosen by gold, minus the
    /// initial policy's mean gold score.
    pub gold: f64,
    /// Jackknife over prompts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gold_se: Option<f64>,
}

/// The extrapolation test of one curve (the paper's Fig. 26): its gold points at or below the
/// median positive KL are fitted with the method's form, and the fit is evaluated on the points
/// above.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtrapolationTest {
    pub method: Method,
    pub rm_params: f64,
    pub policy_params: Option<f64>,
    pub rm_data: Option<f64>,
    pub kl_penalty: Option<f64>,
    pub target: Target,
    pub form: FormId,
    /// The cutoff: the median of the curve's positive KLs (nats).
    pub cutoff_kl: f64,
    /// The parameters fitted left of the cutoff, in the form's order.
    pub params: Vec<f64>,
    /// The subtracted kl = 0 mean (0 when none was subtracted).
    pub baseline: f64,
    /// Points fitted.
    pub n_points: usize,
    /// Held-out points above the cutoff and the fit's error on them.
    pub holdout: HoldoutRecord,
}

impl ExtrapolationTest {
    pub fn key(&self) -> CurveKey {
        CurveKey {
            method: self.method,
            rm_params: self.rm_params,
            policy_params: self.policy_params,
            rm_data: self.rm_data,
            kl_penalty: self.kl_penalty,
        }
    }

    /// The fitted score in the data's units (baseline added) at KL `kl`.
    pub fn predict(&self, kl: f64) -> f64 {
        self.baseline + self.form.form().eval(&self.params, kl.sqrt())
    }
}
