//! `goodhart predict`: coefficients, gold curve and peak for RM sizes that were not trained,
//! from the scaling laws, with 95% intervals.
//!
//! Uncertainty method (first-order propagation, "delta method"): each coefficient's law gives
//! its value and variance at size N from the covariance of (a, b): for c = a + b x, x = log10 N,
//! Var c = Var a + x² Var b + 2x Cov(a, b) (for c = a N^b the gradient is (N^b, c ln N)). The
//! two-stage laws of alpha and beta come from separate regressions and are taken as independent;
//! the `joint` laws carry their cross-covariance. The curve R(d) is linear in (alpha, beta), so
//! its variance gᵀCg (g = ∂R/∂params) is exact given C. Peak KL and peak score are positive and
//! skewed, so their intervals are propagated on the log scale: exp(ln v ± t·se(ln v)), with the
//! gradient of ln v by central differences. Intervals use Student's t with the smallest degrees
//! of freedom among the laws used (the normal quantile for a shared, constant coefficient alone).

use std::collections::BTreeMap;

use nalgebra::DMatrix;

use crate::document::{CiMethod, Law, LawModelKind, ScalingDoc, SizeKey, Target, VERSION};
pub use crate::document::{
    CurvePoint, Interval, IteratedPrediction, PeakPrediction, PredictDoc, Prediction,
};
use crate::error::{Error, Result};
use crate::forms::{Form, FormId};
use crate::output::{OutColumn, OutTable};
use crate::schema::Method;
use crate::stats::t95;

/// Which laws predictions use (`--model`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LawModel {
    LogLinear,
    Power,
    Joint,
}

impl LawModel {
    pub fn as_str(self) -> &'static str {
        self.kind().as_str()
    }

    /// The laws of this model in a scaling document.
    pub fn kind(self) -> LawModelKind {
        match self {
            LawModel::LogLinear => LawModelKind::LogLinear,
            LawModel::Power => LawModelKind::Power,
            LawModel::Joint => LawModelKind::Joint,
        }
    }
}

/// The KL grid of `--kl`: `start:stop:step` or a comma-separated list.
pub fn parse_kl_grid(text: &str) -> Result<Vec<f64>> {
    let bad = |why: &str| {
        Error::Usage(format!(
            "--kl {text}: {why} (use start:stop:step, e.g. 0:20:0.5, or a list 1,2,4)"
        ))
    };
    let num = |s: &str| {
        s.trim()
            .parse::<f64>()
            .map_err(|_| bad(&format!("'{s}' is not a number")))
    };
    let grid: Vec<f64> = if text.contains(':') {
        let parts: Vec<&str> = text.split(':').collect();
        if parts.len() != 3 {
            return Err(bad("three numbers are needed"));
        }
        let (start, stop, step) = (num(parts[0])?, num(parts[1])?, num(parts[2])?);
        let valid = step > 0.0 && step.is_finite() && stop >= start;
        if !valid {
            return Err(bad("step must be > 0 and stop >= start"));
        }
        let count = ((stop - start) / step + 1e-9).floor() as usize + 1;
        if count > 1_000_000 {
            return Err(bad("more than 1,000,000 points"));
        }
        (0..count).map(|i| start + step * i as f64).collect()
    } else {
        text.split(',').map(num).collect::<Result<_>>()?
    };
    if grid.is_empty() || grid.iter().any(|k| !(k.is_finite() && *k >= 0.0)) {
        return Err(bad("KL values must be finite numbers >= 0"));
    }
    Ok(grid)
}

/// Options of `goodhart predict`.
#[derive(Debug, Clone)]
pub struct PredictOptions {
    pub sizes: Vec<f64>,
    pub method: Option<Method>,
    pub kl: Option<Vec<f64>>,
    pub iterations: Option<u32>,
    pub model: LawModel,
}

/// Coefficient values and covariance for one size from the chosen laws.
struct Coefficients {
    values: Vec<f64>,
    cov: Option<DMatrix<f64>>,
    dof: usize,
    sizes: Vec<f64>,
    model: String,
}

fn find<'a>(laws: &'a [&'a Law], name: &str, model: LawModelKind) -> Option<&'a Law> {
    laws.iter()
        .copied()
        .find(|l| l.coefficient == name && l.model == model && l.converged)
}

fn coefficients(
    doc: &ScalingDoc,
    laws: &[&Law],
    form: &dyn Form,
    size: f64,
    model: LawModel,
) -> Result<Coefficients> {
    let names = form.param_names();
    let mut chosen = Vec::new();
    for name in names {
        let law = find(laws, name, model.kind())
            .or_else(|| find(laws, name, LawModelKind::Constant))
            .ok_or_else(|| {
                Error::Analysis(format!(
                    "the scaling file has no converged {} law for {name} of the {} form{}",
                    model.as_str(),
                    form.id(),
                    if model == LawModel::Joint {
                        " (run goodhart scale --joint --curves ...)"
                    } else {
                        ""
                    }
                ))
            })?;
        chosen.push(law);
    }
    let k = names.len();
    let mut values = Vec::with_capacity(k);
    let mut ses = Vec::with_capacity(k);
    for l in &chosen {
        let (v, se) = l.at(size);
        values.push(v);
        ses.push(se);
    }
    let mut cov = ses.iter().all(Option::is_some).then(|| {
        DMatrix::from_fn(k, k, |i, j| {
            if i == j {
                ses[i].unwrap_or(0.0).powi(2)
            } else {
                0.0
            }
        })
    });
    // The joint laws are correlated with each other: use the joint fit's full covariance.
    if model == LawModel::Joint
        && let (Some(c), Some(jf)) = (
            cov.as_mut(),
            doc.joint.iter().find(|j| {
                j.method == chosen[0].method
                    && j.group == chosen[0].group
                    && j.target == chosen[0].target
            }),
        )
        && let Some(full) = &jf.covariance
        && chosen.iter().all(|l| l.model == LawModelKind::Joint)
    {
        let x = size.log10();
        let g = DMatrix::from_row_slice(2, 4, &[1.0, x, 0.0, 0.0, 0.0, 0.0, 1.0, x]);
        let f = DMatrix::from_fn(4, 4, |i, j| full[i][j]);
        *c = &g * f * g.transpose();
    }
    let dof = chosen
        .iter()
        .filter(|l| l.model != LawModelKind::Constant)
        .map(|l| l.dof)
        .min()
        .unwrap_or(0);
    let mut sizes: Vec<f64> = chosen
        .iter()
        .flat_map(|l| l.sizes.iter().copied())
        .collect();
    sizes.sort_by(f64::total_cmp);
    sizes.dedup();
    if sizes.first().is_none_or(|s| !(s.is_finite() && *s > 0.0)) {
        return Err(Error::Analysis(format!(
            "the scaling file's {} laws of the {} form list no valid fitted sizes",
            model.as_str(),
            form.id()
        )));
    }
    Ok(Coefficients {
        values,
        cov,
        dof,
        sizes,
        model: chosen
            .iter()
            .map(|l| l.model.as_str())
            .collect::<Vec<_>>()
            .join("+"),
    })
}

fn quad(g: &[f64], c: &DMatrix<f64>) -> f64 {
    let mut v = 0.0;
    for i in 0..g.len() {
        for j in 0..g.len() {
            v += g[i] * c[(i, j)] * g[j];
        }
    }
    v.max(0.0)
}

fn interval(value: f64, se: Option<f64>, t: f64) -> Interval {
    Interval {
        value,
        low: se.map(|s| value - t * s),
        high: se.map(|s| value + t * s),
    }
}

/// Peak with log-scale delta-method intervals.
fn peak_prediction(
    form: &dyn Form,
    p: &[f64],
    cov: Option<&DMatrix<f64>>,
    t: f64,
) -> Option<PeakPrediction> {
    let peak = form.peak(p)?;
    let log_interval = |value: f64, f: &dyn Fn(&[f64]) -> Option<f64>| -> Interval {
        let se_log = cov.and_then(|c| {
            let mut g = vec![0.0; p.len()];
            for j in 0..p.len() {
                let h = 1e-6 * p[j].abs().max(1e-8);
                let (mut up, mut down) = (p.to_vec(), p.to_vec());
                up[j] += h;
                down[j] -= h;
                g[j] = (f(&up)?.ln() - f(&down)?.ln()) / (2.0 * h);
            }
            Some(quad(&g, c).sqrt())
        });
        Interval {
            value,
            low: se_log.map(|s| (value.ln() - t * s).exp()),
            high: se_log.map(|s| (value.ln() + t * s).exp()),
        }
    };
    Some(PeakPrediction {
        kl: log_interval(peak.kl, &|q| form.peak(q).map(|pk| pk.kl)),
        score: log_interval(peak.score, &|q| form.peak(q).map(|pk| pk.score)),
    })
}

fn curve(
    form: &dyn Form,
    p: &[f64],
    cov: Option<&DMatrix<f64>>,
    t: f64,
    grid: &[f64],
) -> Vec<CurvePoint> {
    let mut g = vec![0.0; p.len()];
    grid.iter()
        .map(|&kl| {
            let d = kl.sqrt();
            form.gradient(p, d, &mut g);
            let gold = form.eval(p, d);
            let se = cov.map(|c| quad(&g, c).sqrt());
            CurvePoint {
                kl,
                gold,
                low: se.map(|s| gold - t * s),
                high: se.map(|s| gold + t * s),
            }
        })
        .collect()
}

/// The default grid: 101 points evenly spaced in d = sqrt(KL) up to twice the peak KL (10 nats
/// without a peak; at most 10,000).
fn default_grid(peak_kl: Option<f64>) -> Vec<f64> {
    let max = peak_kl.map_or(10.0, |k| (2.0 * k).clamp(1.0, 1e4));
    (0..=100)
        .map(|i| max * (i as f64 / 100.0).powi(2))
        .collect()
}

/// Predictions for every method, target, form and group of the scaling file.
pub fn predict(doc: &ScalingDoc, opts: &PredictOptions) -> Result<PredictDoc> {
    if doc.by != SizeKey::RmParams {
        return Err(Error::Analysis(format!(
            "the scaling file regresses on {}, but predict --rm-params needs laws in rm_params (goodhart scale --by rm_params)",
            doc.by.as_str()
        )));
    }
    if opts.sizes.is_empty() {
        return Err(Error::Usage(
            "--rm-params: give at least one size".to_string(),
        ));
    }
    if let Some(x) = opts.sizes.iter().find(|x| !(x.is_finite() && **x > 0.0)) {
        return Err(Error::Analysis(format!(
            "--rm-params: {x} is not a size > 0"
        )));
    }
    if opts.iterations == Some(0) {
        return Err(Error::Usage("--iterations must be at least 1".to_string()));
    }
    // Grouped (and so ordered) by the form's name, as the files name it.
    type Key = (Method, Target, &'static str, Vec<(String, Option<u64>)>);
    let mut groups: BTreeMap<Key, Vec<&Law>> = BTreeMap::new();
    for l in &doc.laws {
        if opts.method.is_some_and(|m| m != l.method) {
            continue;
        }
        let g = l
            .group
            .iter()
            .map(|(k, v)| (k.clone(), v.map(f64::to_bits)))
            .collect();
        groups
            .entry((l.method, l.target, l.form.form().id(), g))
            .or_default()
            .push(l);
    }
    if groups.is_empty() {
        return Err(Error::Analysis(match opts.method {
            Some(m) => format!("the scaling file has no laws for method {m}"),
            None => "the scaling file has no laws".to_string(),
        }));
    }
    let mut predictions = Vec::new();
    for ((method, target, form_name, _), laws) in &groups {
        let Some(form_id) = FormId::ALL
            .into_iter()
            .find(|f| f.form().id() == *form_name)
        else {
            return Err(Error::Analysis(format!(
                "the scaling file names an unknown form '{form_name}'"
            )));
        };
        let form = form_id.form();
        for &size in &opts.sizes {
            let c = coefficients(doc, laws, form, size, opts.model)?;
            let t = t95(c.dof);
            let cov = c.cov.as_ref();
            let params: BTreeMap<String, Interval> = form
                .param_names()
                .iter()
                .enumerate()
                .map(|(j, n)| {
                    (
                        n.to_string(),
                        interval(c.values[j], cov.map(|m| m[(j, j)].sqrt()), t),
                    )
                })
                .collect();
            let peak = peak_prediction(form, &c.values, cov, t);
            let grid = opts
                .kl
                .clone()
                .unwrap_or_else(|| default_grid(peak.as_ref().map(|p| p.kl.value)));
            let (lo, hi) = (c.sizes[0].log10(), c.sizes[c.sizes.len() - 1].log10());
            let x = size.log10();
            let decades = (x - hi).max(lo - x).max(0.0);
            let mut warnings = Vec::new();
            // (a tolerance, so that exactly one decade, e.g. 3e9 -> 3e10, is not flagged by rounding)
            if decades > 1.0 + 1e-9 {
                warnings.push(format!(
                    "rm_params {} is {decades:.2} decades outside the fitted sizes {}..{}: an extrapolation beyond one decade",
                    crate::format::fmt_num(size),
                    crate::format::fmt_num(c.sizes[0]),
                    crate::format::fmt_num(c.sizes[c.sizes.len() - 1])
                ));
            }
            let iterated = match (opts.iterations, form_id) {
                (None, _) => None,
                (Some(k), FormId::Rl) => {
                    // R_k(d) = d((alpha + beta ln k) - beta ln d): the RL form with alpha shifted.
                    let lk = (k as f64).ln();
                    let shifted = [c.values[0] + c.values[1] * lk, c.values[1]];
                    let tm = DMatrix::from_row_slice(2, 2, &[1.0, lk, 0.0, 1.0]);
                    let cov_k = cov.map(|m| &tm * m * tm.transpose());
                    let peak_k = peak_prediction(form, &shifted, cov_k.as_ref(), t);
                    let grid_k = opts
                        .kl
                        .clone()
                        .unwrap_or_else(|| default_grid(peak_k.as_ref().map(|p| p.kl.value)));
                    Some(IteratedPrediction {
                        k,
                        formula: "d*(alpha - beta*ln(d) + beta*ln(k))".to_string(),
                        peak: peak_k,
                        curve: curve(form, &shifted, cov_k.as_ref(), t, &grid_k),
                    })
                }
                (Some(_), _) => {
                    warnings.push(format!(
                        "--iterations applies to the RL form d*(alpha - beta*ln(d)); the {} form has no iterated prediction",
                        form.id()
                    ));
                    None
                }
            };
            predictions.push(Prediction {
                method: *method,
                target: *target,
                rm_params: size,
                form: form_id,
                model: c.model.clone(),
                group: laws[0].group.clone(),
                params,
                curve: curve(form, &c.values, cov, t, &grid),
                peak,
                iterated,
                extrapolation_decades: decades,
                warning: (!warnings.is_empty()).then(|| warnings.join("; ")),
                ci_method: CiMethod::Delta,
                ci_level: 0.95,
            });
        }
    }
    Ok(PredictDoc {
        goodhart_version: VERSION.to_string(),
        predictions,
    })
}

/// The flat table: one row per curve point (iterated curves as series `iterated_k<K>`).
pub fn table(doc: &PredictDoc) -> OutTable {
    struct Row<'a> {
        p: &'a Prediction,
        series: String,
        point: &'a CurvePoint,
        peak: Option<&'a PeakPrediction>,
    }
    let mut rows = Vec::new();
    for p in &doc.predictions {
        for point in &p.curve {
            rows.push(Row {
                p,
                series: "single".to_string(),
                point,
                peak: p.peak.as_ref(),
            });
        }
        if let Some(it) = &p.iterated {
            for point in &it.curve {
                rows.push(Row {
                    p,
                    series: format!("iterated_k{}", it.k),
                    point,
                    peak: it.peak.as_ref(),
                });
            }
        }
    }
    let num = |f: &dyn Fn(&Row) -> Option<f64>| OutColumn::Number(rows.iter().map(f).collect());
    let text = |f: &dyn Fn(&Row) -> Option<String>| OutColumn::Text(rows.iter().map(f).collect());
    let mut t = OutTable::default();
    t.push("method", text(&|r| Some(r.p.method.as_str().to_string())));
    t.push("target", text(&|r| Some(r.p.target.as_str().to_string())));
    t.push("form", text(&|r| Some(r.p.form.form().id().to_string())));
    t.push(crate::schema::RM_PARAMS, num(&|r| Some(r.p.rm_params)));
    for key in [
        crate::schema::POLICY_PARAMS,
        crate::schema::RM_DATA,
        crate::schema::KL_PENALTY,
    ] {
        t.push(key, num(&|r| r.p.group.get(key).copied().flatten()));
    }
    t.push("series", text(&|r| Some(r.series.clone())));
    t.push("kl", num(&|r| Some(r.point.kl)));
    t.push("gold", num(&|r| Some(r.point.gold)));
    t.push("low", num(&|r| r.point.low));
    t.push("high", num(&|r| r.point.high));
    let mut names: Vec<String> = Vec::new();
    for p in &doc.predictions {
        for n in p.params.keys() {
            if !names.contains(n) {
                names.push(n.clone());
            }
        }
    }
    for n in &names {
        t.push(n, num(&|r| r.p.params.get(n).map(|i| i.value)));
        t.push(
            &format!("{n}_low"),
            num(&|r| r.p.params.get(n).and_then(|i| i.low)),
        );
        t.push(
            &format!("{n}_high"),
            num(&|r| r.p.params.get(n).and_then(|i| i.high)),
        );
    }
    t.push("peak_kl", num(&|r| r.peak.map(|p| p.kl.value)));
    t.push("peak_kl_low", num(&|r| r.peak.and_then(|p| p.kl.low)));
    t.push("peak_kl_high", num(&|r| r.peak.and_then(|p| p.kl.high)));
    t.push("peak_score", num(&|r| r.peak.map(|p| p.score.value)));
    t.push("peak_score_low", num(&|r| r.peak.and_then(|p| p.score.low)));
    t.push(
        "peak_score_high",
        num(&|r| r.peak.and_then(|p| p.score.high)),
    );
    t.push(
        "extrapolation_decades",
        num(&|r| Some(r.p.extrapolation_decades)),
    );
    t.push("warning", text(&|r| r.p.warning.clone()));
    t
}
