//! Scaling laws: how the fitted coefficients move with RM size (or data, policy size), and the
//! predictions for sizes that were not trained. `scale` reads a fits JSON and writes a scaling
//! JSON; `predict` reads that and writes predicted coefficients, curves and peaks.
//!
//! Two-stage regression: every coefficient c (alpha, beta, ... of one method, target and form)
//! is regressed on x = log10(size) by weighted least squares, c = a + b x, with weights 1/se²
//! of the per-curve fits, one regression per group of the other keys; the covariance of (a, b)
//! is (XᵀWX)⁻¹ scaled by the reduced chi-square (lmfit's convention, as for the fits), and the
//! intervals are Student-t with n - 2 degrees of freedom. The power law c = a size^b is fitted
//! to the same points by nonlinear least squares, with the same weights; AIC = n ln(χ²/n) + 2p
//! compares the two. A coefficient the fits share across curves is reported as `constant`.

pub mod joint;
pub mod predict;

use std::collections::BTreeMap;
use std::path::Path;

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::error::{Error, Result};
use crate::export::VERSION;
use crate::fit::solve_linear;
use crate::nonlinear::{LeastSquares, SolverOptions, solve};
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
            SizeKey::RmParams => "rm_params",
            SizeKey::RmData => "rm_data",
            SizeKey::PolicyParams => "policy_params",
        }
    }
}

/// The keys that identify a curve, besides the method.
pub const KEY_NAMES: [&str; 4] = ["rm_params", "policy_params", "rm_data", "kl_penalty"];

/// One parameter of a fit, as the fits JSON gives it.
#[derive(Debug, Clone, Deserialize)]
pub struct ParamRecord {
    pub value: f64,
    #[serde(default)]
    pub se: Option<f64>,
    #[serde(default)]
    pub ci_low: Option<f64>,
    #[serde(default)]
    pub ci_high: Option<f64>,
}

/// The fitted peak of a fit, as the fits JSON gives it.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct PeakRecord {
    pub d: f64,
    pub kl: f64,
    pub score: f64,
}

/// The kl = 0 baseline subtracted before a fit, as the fits JSON gives it.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct BaselineRecord {
    pub points: usize,
    pub value: f64,
    #[serde(default)]
    pub se: Option<f64>,
}

/// One fit of the fits JSON (the keys `scale` needs; others are ignored).
#[derive(Debug, Clone, Deserialize)]
pub struct FitRecord {
    pub method: Method,
    pub rm_params: f64,
    #[serde(default)]
    pub policy_params: Option<f64>,
    #[serde(default)]
    pub rm_data: Option<f64>,
    #[serde(default)]
    pub kl_penalty: Option<f64>,
    pub target: String,
    pub form: String,
    #[serde(default)]
    pub params: BTreeMap<String, ParamRecord>,
    #[serde(default)]
    pub converged: bool,
    #[serde(default)]
    pub shared: Option<Vec<String>>,
    #[serde(default)]
    pub formula: Option<String>,
    #[serde(default)]
    pub n_points: Option<usize>,
    #[serde(default)]
    pub r2: Option<f64>,
    #[serde(default)]
    pub rmse: Option<f64>,
    #[serde(default)]
    pub aic: Option<f64>,
    #[serde(default)]
    pub bic: Option<f64>,
    #[serde(default)]
    pub peak: Option<PeakRecord>,
    /// The mean kl = 0 score subtracted before the fit: the fitted curve in the data's units is
    /// `baseline + R(d)`.
    #[serde(default)]
    pub baseline: Option<BaselineRecord>,
    /// Covariance of the parameters, in the order of the form's parameter names.
    #[serde(default)]
    pub covariance: Option<Vec<Vec<f64>>>,
    #[serde(default)]
    pub kl_min: Option<f64>,
    #[serde(default)]
    pub kl_max: Option<f64>,
    #[serde(default)]
    pub message: Option<String>,
}

impl FitRecord {
    pub fn key(&self, name: &str) -> Option<f64> {
        match name {
            "rm_params" => Some(self.rm_params),
            "policy_params" => self.policy_params,
            "rm_data" => self.rm_data,
            "kl_penalty" => self.kl_penalty,
            _ => None,
        }
    }
}

#[derive(Debug, Deserialize)]
struct FitsFile {
    goodhart_version: Option<String>,
    fits: Vec<FitRecord>,
}

/// Reads the fits JSON of `goodhart fit`.
pub fn read_fits(path: &Path) -> Result<Vec<FitRecord>> {
    let bytes = std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_fits(&bytes, path)
}

/// Parses the bytes of a fits JSON (`path` names it in messages): what [`read_fits`] does after
/// reading, for fits rendered in-process.
pub fn parse_fits(bytes: &[u8], path: &Path) -> Result<Vec<FitRecord>> {
    let doc: FitsFile = serde_json::from_slice(bytes).map_err(|e| Error::Corrupt {
        path: path.to_path_buf(),
        format: "fits JSON",
        detail: e.to_string(),
    })?;
    if doc.goodhart_version.is_none() {
        return Err(Error::Corrupt {
            path: path.to_path_buf(),
            format: "fits JSON",
            detail: "no \"goodhart_version\": not written by goodhart fit".to_string(),
        });
    }
    Ok(doc.fits)
}

/// Reads a number that serde_json wrote as null (a NaN) back as NaN.
fn nullable_f64<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// One fitted law of one coefficient.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Law {
    pub method: Method,
    pub target: String,
    pub form: String,
    pub coefficient: String,
    /// `log-linear` (c = a + b log10 size), `power` (c = a size^b), `constant` (b = 0: the
    /// coefficient is shared) or `joint` (from the four-parameter joint fit).
    pub model: String,
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
}

impl Law {
    /// The law's value at a size, and its standard error (from the covariance of (a, b)).
    pub fn at(&self, size: f64) -> (f64, Option<f64>) {
        match self.model.as_str() {
            "power" => {
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

/// The scaling JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScalingDoc {
    pub goodhart_version: String,
    pub by: SizeKey,
    pub laws: Vec<Law>,
    #[serde(default)]
    pub joint: Vec<joint::JointFit>,
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// Student's t quantile for a two-sided 95% interval (normal when dof is 0).
pub fn t95(dof: usize) -> f64 {
    if dof == 0 {
        return 1.959963984540054;
    }
    StudentsT::new(0.0, 1.0, dof as f64)
        .map(|t| t.inverse_cdf(0.975))
        .unwrap_or(f64::NAN)
}

/// The points of one regression: sizes, values, standard errors.
#[derive(Debug, Clone)]
pub struct Series {
    pub sizes: Vec<f64>,
    pub values: Vec<f64>,
    /// `None`: unweighted (some fit had no standard error).
    pub se: Option<Vec<f64>>,
}

fn weights(s: &Series) -> Option<Vec<f64>> {
    s.se.as_ref()
        .map(|se| se.iter().map(|e| 1.0 / (e * e)).collect())
}

fn aic_of(chisqr: f64, n: usize, p: usize) -> f64 {
    let n = n as f64;
    n * (chisqr.max(1e-250 * n) / n).ln() + 2.0 * p as f64
}

/// Fills a, b, their errors, intervals and statistics from a 2-parameter solution.
fn finish(
    law: &mut Law,
    coef: [f64; 2],
    cov_unscaled: Option<&DMatrix<f64>>,
    chisqr: f64,
    sst: f64,
) {
    law.a = coef[0];
    law.b = coef[1];
    law.chisqr = Some(chisqr);
    law.dof = law.n.saturating_sub(2);
    law.aic = Some(aic_of(chisqr, law.n, 2));
    law.r2 = (sst > 0.0).then(|| 1.0 - chisqr / sst);
    if law.dof > 0
        && let Some(c) = cov_unscaled
    {
        let redchi = chisqr / law.dof as f64;
        let (va, vb, cab) = (c[(0, 0)] * redchi, c[(1, 1)] * redchi, c[(0, 1)] * redchi);
        let t = t95(law.dof);
        law.a_se = Some(va.max(0.0).sqrt());
        law.b_se = Some(vb.max(0.0).sqrt());
        law.cov_ab = Some(cab);
        law.a_ci = Some([law.a - t * va.sqrt(), law.a + t * va.sqrt()]);
        law.b_ci = Some([law.b - t * vb.sqrt(), law.b + t * vb.sqrt()]);
    } else if law.dof == 0 {
        law.message = Some(format!(
            "{} sizes for 2 parameters: the line is exact, no error bars (3 or more sizes give them)",
            law.n
        ));
    }
}

fn weighted_sst(values: &[f64], w: Option<&[f64]>) -> f64 {
    let wt = |i: usize| w.map_or(1.0, |w| w[i]);
    let wsum: f64 = (0..values.len()).map(wt).sum();
    let mean = (0..values.len()).map(|i| wt(i) * values[i]).sum::<f64>() / wsum;
    (0..values.len())
        .map(|i| wt(i) * (values[i] - mean).powi(2))
        .sum()
}

/// Weighted least squares c = a + b log10(size).
pub fn log_linear(s: &Series, mut law: Law) -> Law {
    let n = s.sizes.len();
    law.model = "log-linear".to_string();
    let x = DMatrix::from_fn(n, 2, |i, j| if j == 0 { 1.0 } else { s.sizes[i].log10() });
    let w = weights(s);
    match solve_linear(&x, &s.values, w.as_deref()) {
        Ok(sol) => {
            let sst = weighted_sst(&s.values, w.as_deref());
            finish(
                &mut law,
                [sol.coef[0], sol.coef[1]],
                Some(&sol.cov_unscaled),
                sol.chisqr,
                sst,
            );
            law.converged = true;
        }
        Err(e) => {
            law.converged = false;
            law.message = Some(format!("no unique regression: {e}"));
        }
    }
    law
}

/// c = a' (size/ref)^b with residuals weighted by sqrt(w); ref = the geometric mean of the sizes
/// keeps the problem well scaled.
struct PowerLaw<'a> {
    s: &'a Series,
    w: Option<Vec<f64>>,
    reference: f64,
}

impl LeastSquares for PowerLaw<'_> {
    fn n_params(&self) -> usize {
        2
    }
    fn n_residuals(&self) -> usize {
        self.s.sizes.len()
    }
    fn residuals(&self, p: &[f64], out: &mut [f64]) {
        for (i, r) in out.iter_mut().enumerate() {
            let sw = self.w.as_ref().map_or(1.0, |w| w[i].sqrt());
            *r = sw * (self.s.values[i] - p[0] * (self.s.sizes[i] / self.reference).powf(p[1]));
        }
    }
    fn jacobian(&self, p: &[f64], out: &mut DMatrix<f64>) {
        for i in 0..self.s.sizes.len() {
            let sw = self.w.as_ref().map_or(1.0, |w| w[i].sqrt());
            let z = self.s.sizes[i] / self.reference;
            let zb = z.powf(p[1]);
            out[(i, 0)] = -sw * zb;
            out[(i, 1)] = -sw * p[0] * zb * z.ln();
        }
    }
}

/// Weighted nonlinear least squares c = a size^b.
pub fn power_law(s: &Series, mut law: Law) -> Law {
    let n = s.sizes.len();
    law.model = "power".to_string();
    let reference = (s.sizes.iter().map(|x| x.ln()).sum::<f64>() / n as f64).exp();
    let w = weights(s);
    let mut starts = Vec::new();
    let same_sign = s.values.iter().all(|v| *v > 0.0) || s.values.iter().all(|v| *v < 0.0);
    if same_sign {
        // ln|c| = ln|a'| + b ln(size/ref) by least squares
        let sign = s.values[0].signum();
        let x = DMatrix::from_fn(n, 2, |i, j| {
            if j == 0 {
                1.0
            } else {
                (s.sizes[i] / reference).ln()
            }
        });
        let y: Vec<f64> = s.values.iter().map(|v| v.abs().ln()).collect();
        if let Ok(sol) = solve_linear(&x, &y, None) {
            starts.push(vec![sign * sol.coef[0].exp(), sol.coef[1]]);
        }
    }
    let mean = s.values.iter().sum::<f64>() / n as f64;
    starts.push(vec![mean, 0.0]);
    let problem = PowerLaw { s, w, reference };
    match solve(&problem, &starts, &SolverOptions::default()) {
        Ok(sol) => {
            let (a_ref, b) = (sol.params[0], sol.params[1]);
            let a = a_ref * reference.powf(-b);
            // c = a' (N/ref)^b = a N^b with a = a' ref^-b: transform the covariance.
            let t =
                DMatrix::from_row_slice(2, 2, &[reference.powf(-b), -a * reference.ln(), 0.0, 1.0]);
            let cov = sol.cov_unscaled.as_ref().map(|c| &t * c * t.transpose());
            let sst = weighted_sst(&s.values, problem.w.as_deref());
            finish(&mut law, [a, b], cov.as_ref(), sol.ssr, sst);
            law.converged = sol.converged;
            let note = format!("nonlinear least squares: {}", sol.termination);
            law.message = Some(match law.message.take() {
                Some(m) => format!("{note}; {m}"),
                None => note,
            });
        }
        Err(e) => {
            law.converged = false;
            law.message = Some(format!("no fit: {e}"));
        }
    }
    law
}

/// Options of `goodhart scale`.
#[derive(Debug, Clone)]
pub struct ScaleOptions {
    pub by: SizeKey,
}

/// The regressions of every coefficient of every (method, target, form, group) on size.
pub fn scale(fits: &[FitRecord], opts: &ScaleOptions) -> Result<ScalingDoc> {
    let by = opts.by.as_str();
    let mut warnings = Vec::new();
    let usable: Vec<&FitRecord> = fits
        .iter()
        .filter(|f| f.converged && !f.params.is_empty())
        .collect();
    if usable.len() < fits.len() {
        warnings.push(format!(
            "{} fit(s) without parameters (not converged) are left out",
            fits.len() - usable.len()
        ));
    }
    if usable.is_empty() {
        return Err(Error::Analysis(
            "the fits file has no converged fit to regress".to_string(),
        ));
    }
    for f in &usable {
        match f.key(by) {
            None => {
                return Err(Error::Analysis(format!(
                    "--by {by}: a {} fit has no {by} value (rm_params {}); every fit needs one",
                    f.method,
                    crate::schema::fmt_num(f.rm_params)
                )));
            }
            Some(x) if !(x.is_finite() && x > 0.0) => {
                return Err(Error::Analysis(format!(
                    "{by} = {x} in the fits: a size must be a finite number > 0 (log10 of it is regressed on)"
                )));
            }
            _ => {}
        }
    }
    let mut all_sizes: Vec<f64> = usable.iter().filter_map(|f| f.key(by)).collect();
    all_sizes.sort_by(f64::total_cmp);
    all_sizes.dedup();
    if all_sizes.len() < 2 {
        let size = crate::schema::fmt_num(all_sizes[0]);
        return Err(Error::Analysis(if usable.len() == 1 {
            format!(
                "the fits file has a single fit ({by} = {size}): a regression on size needs fits at 2 or more sizes"
            )
        } else {
            format!(
                "{by} does not vary: all {} fits have {by} = {size}, so a regression on size is impossible (fit curves of 2 or more sizes)",
                usable.len()
            )
        }));
    }
    // group key: method, target, form, the other keys
    type GroupKey = (Method, String, String, Vec<(String, Option<u64>)>);
    let mut groups: BTreeMap<GroupKey, Vec<&FitRecord>> = BTreeMap::new();
    for f in &usable {
        let others: Vec<(String, Option<u64>)> = KEY_NAMES
            .iter()
            .filter(|k| **k != by)
            .map(|k| (k.to_string(), f.key(k).map(f64::to_bits)))
            .collect();
        groups
            .entry((f.method, f.target.clone(), f.form.clone(), others))
            .or_default()
            .push(f);
    }
    let mut laws = Vec::new();
    let mut single = Vec::new();
    for ((method, target, form, others), members) in &groups {
        let mut members = members.clone();
        members.sort_by(|a, b| {
            a.key(by)
                .unwrap_or(0.0)
                .total_cmp(&b.key(by).unwrap_or(0.0))
        });
        let sizes: Vec<f64> = members.iter().filter_map(|f| f.key(by)).collect();
        let mut distinct = sizes.clone();
        distinct.dedup();
        let group: BTreeMap<String, Option<f64>> = others
            .iter()
            .map(|(k, v)| (k.clone(), v.map(f64::from_bits)))
            .collect();
        let label = format!("{method} {target} ({form})");
        if distinct.len() < 2 {
            single.push(if sizes.len() == 1 {
                format!(
                    "{label}: a single {by} ({}): a regression on size needs at least 2 sizes",
                    crate::schema::fmt_num(sizes[0])
                )
            } else {
                format!(
                    "{label}: {by} does not vary ({} fits, all at {}): a regression on size needs at least 2 different sizes",
                    sizes.len(),
                    crate::schema::fmt_num(sizes[0])
                )
            });
            continue;
        }
        if distinct.len() < sizes.len() {
            return Err(Error::Analysis(format!(
                "{label}: several fits share a {by} value within one group (the other keys are equal): one fit per size is expected"
            )));
        }
        let names: Vec<String> = members[0].params.keys().cloned().collect();
        for name in names {
            let Some(values) = members
                .iter()
                .map(|f| f.params.get(&name).map(|p| p.value))
                .collect::<Option<Vec<f64>>>()
            else {
                continue;
            };
            let se: Option<Vec<f64>> = members
                .iter()
                .map(|f| {
                    f.params
                        .get(&name)
                        .and_then(|p| p.se)
                        .filter(|s| *s > 0.0 && s.is_finite())
                })
                .collect();
            let template = Law {
                method: *method,
                target: target.clone(),
                form: form.clone(),
                coefficient: name.clone(),
                model: String::new(),
                group: group.clone(),
                a: f64::NAN,
                b: 0.0,
                a_se: None,
                b_se: None,
                cov_ab: None,
                a_ci: None,
                b_ci: None,
                r2: None,
                sizes: sizes.clone(),
                values: values.clone(),
                aic: None,
                chisqr: None,
                n: sizes.len(),
                dof: 0,
                weighted: se.is_some(),
                converged: true,
                message: se
                    .is_none()
                    .then(|| "unweighted: some fits have no standard error".to_string()),
            };
            let shared = members
                .iter()
                .all(|f| f.shared.as_ref().is_some_and(|s| s.contains(&name)));
            if shared {
                let p = &members[0].params[&name];
                let t = t95(0);
                laws.push(Law {
                    model: "constant".to_string(),
                    a: p.value,
                    a_se: p.se,
                    b_se: Some(0.0),
                    cov_ab: Some(0.0),
                    a_ci: p.se.map(|s| [p.value - t * s, p.value + t * s]),
                    b_ci: Some([0.0, 0.0]),
                    message: Some(format!(
                        "{name} is shared by the {} curves (fit --share-alpha-rl)",
                        sizes.len()
                    )),
                    ..template
                });
                continue;
            }
            let series = Series {
                sizes: sizes.clone(),
                values,
                se,
            };
            laws.push(log_linear(&series, template.clone()));
            laws.push(power_law(&series, template));
        }
    }
    if laws.is_empty() {
        return Err(Error::Analysis(format!(
            "no regression is possible: {}",
            single.join("; ")
        )));
    }
    warnings.extend(single);
    Ok(ScalingDoc {
        goodhart_version: VERSION.to_string(),
        by: opts.by,
        laws,
        joint: Vec::new(),
        warnings,
    })
}

/// Reads a scaling JSON, refusing one written by another version of goodhart.
pub fn read_scaling(path: &Path) -> Result<ScalingDoc> {
    let bytes = std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let corrupt = |detail: String| Error::Corrupt {
        path: path.to_path_buf(),
        format: "scaling JSON",
        detail,
    };
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
    match value.get("goodhart_version").and_then(|v| v.as_str()) {
        Some(v) if v == VERSION => {}
        Some(v) => {
            return Err(Error::Analysis(format!(
                "{}: written by goodhart {v}, but this is goodhart {VERSION}: run `goodhart scale` again with this version",
                path.display()
            )));
        }
        None => {
            return Err(corrupt(
                "no \"goodhart_version\": not written by goodhart scale".to_string(),
            ));
        }
    }
    serde_json::from_value(value).map_err(|e| corrupt(e.to_string()))
}

/// The scaling JSON bytes.
pub fn render(doc: &ScalingDoc) -> Vec<u8> {
    // Plain structs of numbers and strings always serialise.
    let mut bytes = serde_json::to_vec_pretty(doc).expect("scaling document serialises to JSON");
    bytes.push(b'\n');
    bytes
}

/// `goodhart scale`: read the fits (and, for --joint, the curves), regress, write the scaling JSON.
pub fn command_scale(a: &crate::cli::ScaleArgs, quiet: bool) -> Result<()> {
    use crate::cli::ByArg;
    let by = match a.by {
        ByArg::RmParams => SizeKey::RmParams,
        ByArg::RmData => SizeKey::RmData,
        ByArg::PolicyParams => SizeKey::PolicyParams,
    };
    let mut inputs = vec![a.fits.clone()];
    inputs.extend(a.curves.iter().cloned());
    crate::commands::ensure_not_input(&a.out, &inputs)?;
    let map = crate::ingest::ColumnMap::parse(&a.map, crate::schema::CURVES)?;
    // Create the output first, so that a bad path fails before any work.
    let out = crate::output::Sink::create(&a.out)?;
    let fits = read_fits(&a.fits)?;
    let mut doc = scale(&fits, &ScaleOptions { by })?;
    if a.joint {
        let curves = crate::curves::read_curves(&a.curves, &map, &a.log.options()?)?;
        let (joint, laws) = joint::joint_fits(&curves, by)?;
        doc.joint = joint;
        doc.laws.extend(laws);
    }
    if !quiet {
        for w in &doc.warnings {
            eprintln!("warning: {w}");
        }
    }
    let to_stdout = out.path().is_none();
    out.commit(&render(&doc))?;
    if !quiet && !to_stdout {
        crate::output::write_stdout(report(&doc).as_bytes())?;
    }
    Ok(())
}

/// A short text summary of the laws, for stdout.
pub fn report(doc: &ScalingDoc) -> String {
    use crate::export::g6;
    use std::fmt::Write as _;
    let mut s = String::new();
    let opt = |x: Option<f64>| x.map_or("n/a".to_string(), g6);
    for l in &doc.laws {
        let group: Vec<String> = l
            .group
            .iter()
            .filter_map(|(k, v)| v.map(|v| format!("{k}={}", crate::schema::fmt_num(v))))
            .collect();
        let formula = match l.model.as_str() {
            "power" => format!("{}*N^{}", g6(l.a), g6(l.b)),
            "constant" => g6(l.a),
            _ => format!("{} + {}*log10(N)", g6(l.a), g6(l.b)),
        };
        let _ = writeln!(
            s,
            "{} {} {}{} {:<10} {:<10} {}  (a ± {}, b ± {}, R² {}, AIC {}, {} sizes){}",
            l.method,
            l.target,
            l.form,
            if group.is_empty() {
                String::new()
            } else {
                format!(" [{}]", group.join(" "))
            },
            l.coefficient,
            l.model,
            formula,
            opt(l.a_se),
            opt(l.b_se),
            opt(l.r2),
            opt(l.aic),
            l.sizes.len(),
            if l.converged {
                String::new()
            } else {
                "  NOT CONVERGED".to_string()
            }
        );
    }
    s
}
