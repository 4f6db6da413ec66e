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
    CurvePoint, FailedPrediction, Interval, IteratedPrediction, PeakPrediction, PredictDoc,
    Prediction, PredictionWarning, WarningKind,
};
use crate::error::{Error, Result};
use crate::format::{fmt_num, g6};
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

/// Coefficient values and covariances for one size from the chosen laws.
struct Coefficients<'a> {
    values: Vec<f64>,
    /// The covariance of the mean law's values at this size.
    cov: Option<DMatrix<f64>>,
    /// `cov` plus the scatter of RMs about the laws (tau² and the scatter covariances): the
    /// covariance for a new RM. None when a law carries no scatter (joint).
    cov_new: Option<DMatrix<f64>>,
    dof: usize,
    sizes: Vec<f64>,
    model: String,
    laws: Vec<&'a Law>,
}

fn find<'a>(laws: &'a [&'a Law], name: &str, model: LawModelKind) -> Option<&'a Law> {
    laws.iter()
        .copied()
        .find(|l| l.coefficient == name && l.model == model && l.converged)
}

/// The covariance entry between the laws of coefficients p and q (oriented so that its rows
/// belong to p), for the model of the non-constant law.
fn law_covariance(doc: &ScalingDoc, lp: &Law, lq: &Law) -> Option<([[f64; 2]; 2], f64)> {
    let model = if lp.model == LawModelKind::Constant {
        lq.model
    } else {
        lp.model
    };
    doc.law_covariances.iter().find_map(|c| {
        if c.method != lp.method
            || c.target != lp.target
            || c.form != lp.form
            || c.group != lp.group
            || c.model != model
        {
            return None;
        }
        if c.coefficients[0] == lp.coefficient && c.coefficients[1] == lq.coefficient {
            Some((c.cov, c.tau12))
        } else if c.coefficients[0] == lq.coefficient && c.coefficients[1] == lp.coefficient {
            let m = c.cov;
            Some(([[m[0][0], m[1][0]], [m[0][1], m[1][1]]], c.tau12))
        } else {
            None
        }
    })
}

fn coefficients<'a>(
    doc: &ScalingDoc,
    laws: &'a [&'a Law],
    form: &dyn Form,
    size: f64,
    model: LawModel,
) -> Result<Coefficients<'a>> {
    let names = form.param_names();
    let mut chosen = Vec::new();
    for name in names {
        let law = find(laws, name, model.kind())
            .or_else(|| find(laws, name, LawModelKind::Constant))
            .ok_or_else(|| {
                let unconverged = laws
                    .iter()
                    .find(|l| l.coefficient == *name && l.model == model.kind());
                Error::Analysis(match unconverged {
                    Some(l) => format!(
                        "the {} law of {name} did not converge ({})",
                        model.as_str(),
                        l.message.as_deref().unwrap_or("no message")
                    ),
                    None => format!(
                        "the scaling file has no converged {} law for {name} of the {} form{}",
                        model.as_str(),
                        form.id(),
                        if model == LawModel::Joint {
                            " (run goodhart scale --joint --curves ...)"
                        } else {
                            ""
                        }
                    ),
                })
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
    let grads: Vec<[f64; 2]> = chosen.iter().map(|l| l.gradient(size)).collect();
    let mut cov = ses.iter().all(Option::is_some).then(|| {
        DMatrix::from_fn(k, k, |i, j| {
            if i == j {
                ses[i].unwrap_or(0.0).powi(2)
            } else {
                0.0
            }
        })
    });
    // scatter about the laws: tau² on the diagonal (0 for a shared, constant coefficient)
    let mut scatter = chosen
        .iter()
        .all(|l| l.model == LawModelKind::Constant || l.tau2.is_some())
        .then(|| {
            DMatrix::from_fn(k, k, |i, j| {
                if i == j {
                    chosen[i].tau2.unwrap_or(0.0)
                } else {
                    0.0
                }
            })
        });
    // The two-stage laws of one group come from the same curves: their cross-covariances.
    for i in 0..k {
        for j in 0..k {
            if i == j {
                continue;
            }
            let (li, lj) = (chosen[i], chosen[j]);
            if li.model == LawModelKind::Joint || lj.model == LawModelKind::Joint {
                continue;
            }
            if let Some((m, tau12)) = law_covariance(doc, li, lj) {
                let (gi, gj) = (grads[i], grads[j]);
                let mut v = 0.0;
                for (r, gr) in gi.iter().enumerate() {
                    for (s, gs) in gj.iter().enumerate() {
                        v += gr * m[r][s] * gs;
                    }
                }
                if let Some(c) = cov.as_mut() {
                    c[(i, j)] = v;
                }
                if let Some(sc) = scatter.as_mut() {
                    sc[(i, j)] = tau12;
                }
            }
        }
    }
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
    if chosen.iter().any(|l| l.model == LawModelKind::Joint) {
        scatter = None;
    }
    let cov_new = match (&cov, &scatter) {
        (Some(c), Some(s)) => Some(c + s),
        _ => None,
    };
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
        cov_new,
        dof,
        sizes,
        model: chosen
            .iter()
            .map(|l| l.model.as_str())
            .collect::<Vec<_>>()
            .join("+"),
        laws: chosen,
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

fn interval(value: f64, se: Option<f64>, se_new: Option<f64>, t: f64) -> Interval {
    Interval {
        value,
        low: se.map(|s| value - t * s),
        high: se.map(|s| value + t * s),
        new_rm_low: se_new.map(|s| value - t * s),
        new_rm_high: se_new.map(|s| value + t * s),
    }
}

/// Peak with log-scale delta-method intervals (for the mean law and for a new RM).
fn peak_prediction(
    form: &dyn Form,
    p: &[f64],
    cov: Option<&DMatrix<f64>>,
    cov_new: Option<&DMatrix<f64>>,
    t: f64,
) -> Option<PeakPrediction> {
    let peak = form.peak(p)?;
    let log_interval = |value: f64, f: &dyn Fn(&[f64]) -> Option<f64>| -> Interval {
        let mut g = vec![0.0; p.len()];
        let ok = (0..p.len()).all(|j| {
            let h = 1e-6 * p[j].abs().max(1e-8);
            let (mut up, mut down) = (p.to_vec(), p.to_vec());
            up[j] += h;
            down[j] -= h;
            match (f(&up), f(&down)) {
                (Some(u), Some(d)) => {
                    g[j] = (u.ln() - d.ln()) / (2.0 * h);
                    true
                }
                _ => false,
            }
        });
        let se_of = |c: Option<&DMatrix<f64>>| c.filter(|_| ok).map(|c| quad(&g, c).sqrt());
        let (se, se_new) = (se_of(cov), se_of(cov_new));
        let lo = |s: f64| (value.ln() - t * s).exp();
        let hi = |s: f64| (value.ln() + t * s).exp();
        Interval {
            value,
            low: se.map(lo),
            high: se.map(hi),
            new_rm_low: se_new.map(lo),
            new_rm_high: se_new.map(hi),
        }
    };
    Some(PeakPrediction {
        kl: log_interval(peak.kl, &|q| form.peak(q).map(|pk| pk.kl)),
        score: log_interval(peak.score, &|q| form.peak(q).map(|pk| pk.score)),
    })
}

/// How far a predicted peak KL may lie beyond the largest observed KL and still be written as
/// a number: 10x.
pub const PEAK_KL_CAP: f64 = 10.0;

/// The peak, or null with a reason: none when the form has no peak (beta <= 0), none when its
/// KL is beyond [`PEAK_KL_CAP`] times the largest observed KL; interval bounds beyond that cap
/// are null too (with the score's bound on the same side), and the reason says so.
fn checked_peak(
    peak: Option<PeakPrediction>,
    form: &dyn Form,
    p: &[f64],
    cap: Option<f64>,
) -> (Option<PeakPrediction>, Option<String>) {
    let names = form.param_names();
    let Some(mut peak) = peak else {
        let coefs: Vec<String> = names
            .iter()
            .zip(p)
            .map(|(n, v)| format!("{n} = {}", g6(*v)))
            .collect();
        return (
            None,
            Some(format!(
                "no peak: the {} curve with {} has no maximum at d > 0; beta <= 0 means no peak",
                form.id(),
                coefs.join(", ")
            )),
        );
    };
    if !peak.kl.value.is_finite() || !peak.score.value.is_finite() {
        return (
            None,
            Some("no peak: the predicted peak is not a finite number".to_string()),
        );
    }
    let Some(cap) = cap else {
        return (Some(peak), None);
    };
    if peak.kl.value > cap {
        return (
            None,
            Some(format!(
                "no valid peak: the predicted peak KL lies beyond {} nats, {PEAK_KL_CAP}x the largest KL observed for the method; the laws cannot place it",
                g6(cap)
            )),
        );
    }
    let mut capped = false;
    if peak.kl.high.is_some_and(|h| h > cap || h.is_nan()) {
        peak.kl.high = None;
        peak.score.high = None;
        capped = true;
    }
    if peak.kl.new_rm_high.is_some_and(|h| h > cap || h.is_nan()) {
        peak.kl.new_rm_high = None;
        peak.score.new_rm_high = None;
        capped = true;
    }
    let reason = capped.then(|| {
        format!(
            "an upper bound of the peak's interval lies beyond {} nats ({PEAK_KL_CAP}x the largest observed KL) and is null: unbounded within what the data support",
            g6(cap)
        )
    });
    (Some(peak), reason)
}

fn curve(
    target: Target,
    form: &dyn Form,
    p: &[f64],
    cov: Option<&DMatrix<f64>>,
    cov_new: Option<&DMatrix<f64>>,
    t: f64,
    grid: &[f64],
) -> Vec<CurvePoint> {
    let mut g = vec![0.0; p.len()];
    grid.iter()
        .map(|&kl| {
            let d = kl.sqrt();
            form.gradient(p, d, &mut g);
            let score = form.eval(p, d);
            let se = cov.map(|c| quad(&g, c).sqrt());
            let se_new = cov_new.map(|c| quad(&g, c).sqrt());
            CurvePoint {
                low: se.map(|s| score - t * s),
                high: se.map(|s| score + t * s),
                new_rm_low: se_new.map(|s| score - t * s),
                new_rm_high: se_new.map(|s| score + t * s),
                ..CurvePoint::new(target, kl, score)
            }
        })
        .collect()
}

/// The default grid: 101 points evenly spaced in d = sqrt(KL) up to twice the peak KL (without
/// a peak: twice the largest observed KL, else 10 nats; at most 10,000).
fn default_grid(peak_kl: Option<f64>, observed: Option<f64>) -> Vec<f64> {
    let max = match (peak_kl, observed) {
        (Some(k), _) => (2.0 * k).clamp(1.0, 1e4),
        (None, Some(o)) => (2.0 * o).clamp(1.0, 1e4),
        (None, None) => 10.0,
    };
    (0..=100)
        .map(|i| max * (i as f64 / 100.0).powi(2))
        .collect()
}

/// The label of a group in warnings: `rl gold (rl) kl_penalty=0 policy_params=32 rm_data=1000`.
pub fn group_label(
    method: Method,
    target: Target,
    form: FormId,
    group: &BTreeMap<String, Option<f64>>,
) -> String {
    let mut s = format!("{method} {target} ({})", form.form().id());
    for (k, v) in group {
        if let Some(v) = v {
            s.push_str(&format!(" {k}={}", fmt_num(*v)));
        }
    }
    s
}

/// The warnings of one prediction (kinds a-f of the README's "Predictions that warn").
#[allow(clippy::too_many_arguments)]
fn warnings_for(
    label: &str,
    form: &dyn Form,
    c: &Coefficients,
    params: &BTreeMap<String, Interval>,
    size: f64,
    decades: f64,
    peak_value: Option<f64>,
    observed: Option<f64>,
) -> Vec<PredictionWarning> {
    let mut out = Vec::new();
    let w = |kind, message: String, size: Option<f64>| PredictionWarning {
        kind,
        group: label.to_string(),
        message,
        size,
    };
    let at = fmt_num(size);
    let proxy = c.laws.first().is_some_and(|l| l.target == Target::Proxy);
    // (a) a coefficient <= 0, or its interval (for a new RM when known) contains 0. A proxy is
    // not expected to peak: its beta is not checked (its null peak still has a reason).
    for name in form.param_names() {
        if proxy && *name == "beta" {
            continue;
        }
        let Some(i) = params.get(*name) else { continue };
        let extra = if *name == "beta" {
            "; beta <= 0 means no peak"
        } else {
            ""
        };
        if i.value <= 0.0 || i.value.is_nan() {
            out.push(w(
                WarningKind::CoefficientSign,
                format!(
                    "{label}: {name} = {} at rm_params {at} has the wrong sign (expected > 0{extra})",
                    g6(i.value)
                ),
                None,
            ));
        } else {
            let (lo, which) = match (i.new_rm_low, i.low) {
                (Some(l), _) => (Some(l), "for a new RM"),
                (None, l) => (l, "of the mean law"),
            };
            if let Some(lo) = lo.filter(|l| *l <= 0.0) {
                out.push(w(
                    WarningKind::CoefficientSign,
                    format!(
                        "{label}: the 95% interval {which} of {name} at rm_params {at} contains 0 (low {}{extra})",
                        g6(lo)
                    ),
                    None,
                ));
            }
        }
    }
    // (b) a law crosses zero anywhere from the smallest fitted size to the requested size
    // (inside the fitted range too: the law then changes sign among the sizes it describes)
    let (lo, hi) = (c.sizes[0], c.sizes[c.sizes.len() - 1]);
    let (from, to) = (lo.min(size), hi.max(size));
    for l in &c.laws {
        if proxy && l.coefficient == "beta" {
            continue;
        }
        let Some(z) = l.zero_crossing() else { continue };
        if !(z >= from && z <= to) {
            continue;
        }
        let place = if z >= lo && z <= hi {
            format!("inside the fitted sizes ({}..{})", fmt_num(lo), fmt_num(hi))
        } else {
            format!(
                "between the fitted sizes ({}..{}) and {at}",
                fmt_num(lo),
                fmt_num(hi)
            )
        };
        let sign = if l.b > 0.0 {
            "negative below it, positive above"
        } else {
            "positive below it, negative above"
        };
        out.push(w(
            WarningKind::LawCrossesZero,
            format!(
                "{label}: the {} law of {} ({}) crosses zero at rm_params {}, {place} ({sign})",
                l.model.as_str(),
                l.coefficient,
                l.log_linear_formula(),
                g6(z),
            ),
            Some(z),
        ));
    }
    // (c) the peak beyond the largest KL observed for the group (else for the method)
    let group_kl = c
        .laws
        .iter()
        .filter_map(|l| l.group_kl_max)
        .reduce(f64::max);
    let (reach, whose) = match (group_kl, observed) {
        (Some(g), _) => (Some(g), "this group".to_string()),
        (None, Some(o)) => (Some(o), c.laws[0].method.to_string()),
        (None, None) => (None, String::new()),
    };
    if let (Some(o), Some(k)) = (reach, peak_value)
        && k > o
    {
        let method_wide = match observed {
            Some(m) if group_kl.is_some() => {
                format!(" (the largest for {} is {} nats)", c.laws[0].method, g6(m))
            }
            _ => String::new(),
        };
        out.push(w(
            WarningKind::BeyondObservedKl,
            if k > PEAK_KL_CAP * o {
                format!(
                    "{label}: the predicted peak KL at rm_params {at}, {} nats, lies beyond {PEAK_KL_CAP}x the largest KL observed for {whose} ({} nats){method_wide}",
                    g6(k),
                    g6(o)
                )
            } else {
                format!(
                    "{label}: the predicted peak KL at rm_params {at}, {} nats, lies beyond the largest KL observed for {whose} ({} nats){method_wide}: the curve there is not data",
                    g6(k),
                    g6(o)
                )
            },
            None,
        ));
    }
    if observed.is_none() && group_kl.is_none() {
        out.push(w(
            WarningKind::Other,
            format!(
                "{label}: the scaling file holds no observed KL range for {} (\"observed_kl_max\"): the peak is not checked against the data (run goodhart scale again)",
                c.laws[0].method
            ),
            None,
        ));
    }
    // (d) a decade or more outside the fitted sizes (10x the largest fitted size is already an
    // extrapolation of a full decade; a tolerance for rounding)
    if decades >= 1.0 - 1e-9 {
        out.push(w(
            WarningKind::Extrapolation,
            format!(
                "{label}: rm_params {at} is {decades:.2} decades outside the fitted sizes {}..{}: an extrapolation of a decade or more",
                fmt_num(lo),
                fmt_num(hi)
            ),
            None,
        ));
    }
    // (e) most of the group's fitted curves have no peak (gold only: a proxy is not expected to
    // peak)
    if !proxy
        && let Some(l) = c.laws.iter().find(|l| l.no_peak_fits.is_some())
        && let Some(k) = l.no_peak_fits
        && 2 * k > l.n
    {
        out.push(w(
            WarningKind::FitsWithoutPeak,
            format!(
                "{label}: {k} of the group's {} fitted curves have no peak (beta <= 0): a predicted peak rests on a law fitted mostly to curves without one",
                l.n
            ),
            None,
        ));
    }
    // (f) some of the group's fitted curves have the other paper form's shape (gold only: the
    // form check is made on gold fits)
    if !proxy
        && let Some(l) = c.laws.iter().find(|l| l.form_rejected_fits.is_some())
        && let Some(k) = l.form_rejected_fits
        && k > 0
    {
        let form = l.form;
        let alt = crate::fit::form_check::alternative(form)
            .map_or("other".to_string(), |f| f.to_string());
        let meaning = if 2 * k > l.n {
            format!(
                "most of the coefficients behind this prediction summarise curves the {alt} form fits better, so it extrapolates a shape those curves do not follow"
            )
        } else {
            format!(
                "some of the coefficients behind this prediction summarise curves the {alt} form fits better"
            )
        };
        out.push(w(
            WarningKind::FormRejected,
            format!(
                "{label}: the form check rejects the {form} form on {k} of the group's {} fitted curves (the {alt} form fits their points better): {meaning}",
                l.n,
            ),
            None,
        ));
    }
    out
}

/// The predictions of one group at one size.
#[allow(clippy::too_many_arguments)]
fn predict_one(
    doc: &ScalingDoc,
    opts: &PredictOptions,
    method: Method,
    target: Target,
    form_id: FormId,
    laws: &[&Law],
    size: f64,
) -> Result<Prediction> {
    let form = form_id.form();
    let group = laws[0].group.clone();
    let label = group_label(method, target, form_id, &group);
    let observed = doc.observed_kl_max.get(method.as_str()).copied();
    let cap = observed.map(|o| PEAK_KL_CAP * o);
    let c = coefficients(doc, laws, form, size, opts.model)?;
    let t = t95(c.dof);
    let (cov, cov_new) = (c.cov.as_ref(), c.cov_new.as_ref());
    let params: BTreeMap<String, Interval> = form
        .param_names()
        .iter()
        .enumerate()
        .map(|(j, n)| {
            (
                n.to_string(),
                interval(
                    c.values[j],
                    cov.map(|m| m[(j, j)].sqrt()),
                    cov_new.map(|m| m[(j, j)].sqrt()),
                    t,
                ),
            )
        })
        .collect();
    let raw_peak = peak_prediction(form, &c.values, cov, cov_new, t);
    let raw_kl = raw_peak.as_ref().map(|p| p.kl.value);
    let (peak, peak_reason) = checked_peak(raw_peak, form, &c.values, cap);
    let grid = opts
        .kl
        .clone()
        .unwrap_or_else(|| default_grid(peak.as_ref().map(|p| p.kl.value), observed));
    let (lo, hi) = (c.sizes[0].log10(), c.sizes[c.sizes.len() - 1].log10());
    let x = size.log10();
    let decades = (x - hi).max(lo - x).max(0.0);
    let mut warnings = warnings_for(&label, form, &c, &params, size, decades, raw_kl, observed);
    let iterated = match (opts.iterations, form_id) {
        (None, _) => None,
        (Some(k), FormId::Rl) => {
            // R_k(d) = d((alpha + beta ln k) - beta ln d): the RL form with alpha shifted.
            let lk = (k as f64).ln();
            let shifted = [c.values[0] + c.values[1] * lk, c.values[1]];
            let tm = DMatrix::from_row_slice(2, 2, &[1.0, lk, 0.0, 1.0]);
            let cov_k = cov.map(|m| &tm * m * tm.transpose());
            let cov_k_new = cov_new.map(|m| &tm * m * tm.transpose());
            let raw_k = peak_prediction(form, &shifted, cov_k.as_ref(), cov_k_new.as_ref(), t);
            let (peak_k, reason_k) = checked_peak(raw_k, form, &shifted, cap);
            let grid_k = opts
                .kl
                .clone()
                .unwrap_or_else(|| default_grid(peak_k.as_ref().map(|p| p.kl.value), observed));
            Some(IteratedPrediction {
                k,
                formula: "d*(alpha - beta*ln(d) + beta*ln(k))".to_string(),
                peak: peak_k,
                peak_reason: reason_k,
                curve: curve(
                    target,
                    form,
                    &shifted,
                    cov_k.as_ref(),
                    cov_k_new.as_ref(),
                    t,
                    &grid_k,
                ),
            })
        }
        (Some(_), _) => {
            warnings.push(PredictionWarning {
                kind: WarningKind::Other,
                group: label.clone(),
                message: format!(
                    "{label}: --iterations applies to the RL form d*(alpha - beta*ln(d)); the {} form has no iterated prediction",
                    form.id()
                ),
                size: None,
            });
            None
        }
    };
    let joined: Vec<&str> = warnings.iter().map(|w| w.message.as_str()).collect();
    Ok(Prediction {
        method,
        target,
        rm_params: size,
        form: form_id,
        model: c.model.clone(),
        group,
        params,
        curve: curve(target, form, &c.values, cov, cov_new, t, &grid),
        peak,
        peak_reason,
        iterated,
        extrapolation_decades: decades,
        observed_kl_max: observed,
        warning: (!joined.is_empty()).then(|| joined.join("; ")),
        warnings,
        ci_method: CiMethod::Delta,
        ci_level: 0.95,
    })
}

/// Predictions for every method, target, form and group of the scaling file. A group that
/// cannot be predicted (no converged law, ...) is listed under `failed` with its reason; the
/// others are still predicted. An error when every group fails.
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
        return Err(Error::Usage(format!("--rm-params: {x} is not a size > 0")));
    }
    let mut sizes = opts.sizes.clone();
    sizes.sort_by(f64::total_cmp);
    if let Some(w) = sizes.windows(2).find(|w| w[0] == w[1]) {
        return Err(Error::Usage(format!(
            "--rm-params lists the size {} twice: give each RM size once",
            crate::format::fmt_num(w[0])
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
    if opts.model == LawModel::Joint
        && !groups
            .values()
            .flatten()
            .any(|l| l.model == LawModelKind::Joint)
    {
        return Err(Error::Analysis(
            "--model joint: the scaling file has no joint laws (run goodhart scale --joint --curves ...)"
                .to_string(),
        ));
    }
    let mut predictions = Vec::new();
    let mut failed = Vec::new();
    for ((method, target, form_name, _), laws) in &groups {
        let Some(form_id) = FormId::ALL
            .into_iter()
            .find(|f| f.form().id() == *form_name)
        else {
            return Err(Error::Analysis(format!(
                "the scaling file names an unknown form '{form_name}'"
            )));
        };
        for &size in &opts.sizes {
            match predict_one(doc, opts, *method, *target, form_id, laws, size) {
                Ok(p) => predictions.push(p),
                Err(e) => failed.push(FailedPrediction {
                    method: *method,
                    target: *target,
                    form: form_id,
                    group: laws[0].group.clone(),
                    rm_params: size,
                    reason: format!(
                        "{}: {e}",
                        group_label(*method, *target, form_id, &laws[0].group)
                    ),
                }),
            }
        }
    }
    if predictions.is_empty() {
        let reasons: Vec<String> = failed.iter().map(|f| f.reason.clone()).collect();
        return Err(Error::Analysis(format!(
            "no group could be predicted: {}",
            reasons.join("; ")
        )));
    }
    Ok(PredictDoc {
        goodhart_version: VERSION.to_string(),
        predictions,
        failed,
    })
}

/// The stderr lines of `goodhart predict`: one per group with warnings, naming its kinds of
/// warning (each once, over every requested size), then the failed groups (the first
/// `max_failed`, then a count). The full messages are in the predictions document.
pub fn warning_lines(doc: &PredictDoc, max_failed: usize) -> Vec<String> {
    let mut order: Vec<String> = Vec::new();
    let mut kinds: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in &doc.predictions {
        for w in &p.warnings {
            let short = match w.kind {
                WarningKind::CoefficientSign => "coefficient sign".to_string(),
                WarningKind::LawCrossesZero => match w.size {
                    Some(z) => format!("law crosses zero at {}", g6(z)),
                    None => "law crosses zero".to_string(),
                },
                WarningKind::BeyondObservedKl => "peak beyond observed KL".to_string(),
                WarningKind::Extrapolation => {
                    "a decade or more beyond the fitted sizes".to_string()
                }
                WarningKind::FitsWithoutPeak => "most fitted curves have no peak".to_string(),
                WarningKind::FormRejected => "fits rejected by the form check".to_string(),
                WarningKind::Other => "other".to_string(),
            };
            let e = kinds.entry(w.group.clone()).or_insert_with(|| {
                order.push(w.group.clone());
                Vec::new()
            });
            if !e.contains(&short) {
                e.push(short);
            }
        }
    }
    let mut out: Vec<String> = order
        .iter()
        .map(|g| format!("{g}: {}", kinds[g].join("; ")))
        .collect();
    for f in doc.failed.iter().take(max_failed) {
        out.push(format!("not predicted: {}", f.reason));
    }
    if doc.failed.len() > max_failed {
        out.push(format!(
            "... and {} more groups not predicted",
            doc.failed.len() - max_failed
        ));
    }
    out
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
    // The predicted score is named after the target: `gold` on gold rows, `proxy` on proxy
    // rows (the other empty); `proxy` is left out when no row fills it.
    let has_proxy = rows.iter().any(|r| r.point.proxy.is_some());
    if !has_proxy || rows.iter().any(|r| r.point.gold.is_some()) {
        t.push("gold", num(&|r| r.point.gold));
    }
    if has_proxy {
        t.push("proxy", num(&|r| r.point.proxy));
    }
    t.push("low", num(&|r| r.point.low));
    t.push("high", num(&|r| r.point.high));
    t.push("new_rm_low", num(&|r| r.point.new_rm_low));
    t.push("new_rm_high", num(&|r| r.point.new_rm_high));
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
    t.push(
        "peak_kl_new_rm_low",
        num(&|r| r.peak.and_then(|p| p.kl.new_rm_low)),
    );
    t.push(
        "peak_kl_new_rm_high",
        num(&|r| r.peak.and_then(|p| p.kl.new_rm_high)),
    );
    t.push("peak_score", num(&|r| r.peak.map(|p| p.score.value)));
    t.push("peak_score_low", num(&|r| r.peak.and_then(|p| p.score.low)));
    t.push(
        "peak_score_high",
        num(&|r| r.peak.and_then(|p| p.score.high)),
    );
    t.push(
        "peak_score_new_rm_low",
        num(&|r| r.peak.and_then(|p| p.score.new_rm_low)),
    );
    t.push(
        "peak_score_new_rm_high",
        num(&|r| r.peak.and_then(|p| p.score.new_rm_high)),
    );
    t.push(
        "extrapolation_decades",
        num(&|r| Some(r.p.extrapolation_decades)),
    );
    t.push("warning", text(&|r| r.p.warning.clone()));
    t
}

/// The short summary table of `goodhart predict` for stdout: one row per prediction (group,
/// size, peak KL and peak score with the mean-law and new-RM intervals, warning flags), then the
/// failed groups.
pub fn summary(doc: &PredictDoc) -> String {
    use std::fmt::Write as _;
    let iv = |i: &Interval| {
        let pair = |lo: Option<f64>, hi: Option<f64>| match (lo, hi) {
            (None, None) => "-".to_string(),
            (lo, hi) => format!(
                "{}..{}",
                lo.map_or("?".to_string(), g6),
                hi.map_or("?".to_string(), g6)
            ),
        };
        format!(
            "{} [{}] {{{}}}",
            g6(i.value),
            pair(i.low, i.high),
            pair(i.new_rm_low, i.new_rm_high)
        )
    };
    let flag = |k: WarningKind| match k {
        WarningKind::CoefficientSign => "sign",
        WarningKind::LawCrossesZero => "zero",
        WarningKind::BeyondObservedKl => "beyond-kl",
        WarningKind::Extrapolation => "decade",
        WarningKind::FitsWithoutPeak => "fits-no-peak",
        WarningKind::FormRejected => "form-rejected",
        WarningKind::Other => "other",
    };
    let mut rows: Vec<[String; 5]> = vec![[
        "group".to_string(),
        "rm_params".to_string(),
        "peak KL (nats) [mean 95%] {new RM 95%}".to_string(),
        "peak score [mean 95%] {new RM 95%}".to_string(),
        "warnings".to_string(),
    ]];
    for p in &doc.predictions {
        let (kl, score) = match &p.peak {
            Some(pk) => (iv(&pk.kl), iv(&pk.score)),
            None => {
                let why = match p.peak_reason.as_deref() {
                    Some(r) if r.starts_with("no valid peak") => {
                        format!("null (beyond {PEAK_KL_CAP}x KL)")
                    }
                    Some(r) if r.starts_with("no peak: the predicted") => {
                        "null (not finite)".to_string()
                    }
                    _ => "null (no peak)".to_string(),
                };
                (why, "-".to_string())
            }
        };
        let mut flags: Vec<&str> = Vec::new();
        for w in &p.warnings {
            let f = flag(w.kind);
            if !flags.contains(&f) {
                flags.push(f);
            }
        }
        rows.push([
            group_label(p.method, p.target, p.form, &p.group),
            fmt_num(p.rm_params),
            kl,
            score,
            if flags.is_empty() {
                "-".to_string()
            } else {
                flags.join(",")
            },
        ]);
    }
    let mut width = [0usize; 5];
    for r in &rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut s = String::new();
    for r in &rows {
        let cells: Vec<String> = r
            .iter()
            .zip(width)
            .enumerate()
            .map(|(i, (c, w))| {
                if i == 4 {
                    c.clone()
                } else {
                    format!("{c:<w$}")
                }
            })
            .collect();
        let _ = writeln!(s, "{}", cells.join(" | "));
    }
    for f in &doc.failed {
        let _ = writeln!(s, "FAILED {} | {}", fmt_num(f.rm_params), f.reason);
    }
    s
}
