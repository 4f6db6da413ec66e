//! Shared look-ups of the figures: which curves form the shown group, which fit belongs to a
//! curve, and the fitted curve in data units.

use std::cmp::Ordering;

use crate::curves::Curve;
use crate::document::{FitRecord, Target};
use crate::forms::FormId;
use crate::schema::{CurveKey, Method};

use super::scene::{ColorBar, Dash, LegendEntry, Swatch};
use super::theme::{self, SizeScale};

/// The keys of a curve besides method and RM size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Group {
    pub policy_params: Option<f64>,
    pub rm_data: Option<f64>,
    pub kl_penalty: Option<f64>,
}

impl Group {
    pub fn of(k: &CurveKey) -> Group {
        Group {
            policy_params: k.policy_params,
            rm_data: k.rm_data,
            kl_penalty: k.kl_penalty,
        }
    }

    pub fn of_fit(f: &FitRecord) -> Group {
        Group {
            policy_params: f.policy_params,
            rm_data: f.rm_data,
            kl_penalty: f.kl_penalty,
        }
    }

    pub fn matches(&self, k: &CurveKey) -> bool {
        *self == Group::of(k)
    }

    /// "rm_data 4k, policy 152, no KL penalty"; empty when the curves have no such keys.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(v) = self.rm_data {
            parts.push(format!("RM data {}", theme::si(v)));
        }
        if let Some(v) = self.policy_params {
            parts.push(format!("policy {}", theme::si(v)));
        }
        match self.kl_penalty {
            Some(v) if v > 0.0 => parts.push(format!("KL penalty {}", theme::sig(v, 3))),
            Some(_) => parts.push("no KL penalty".into()),
            None => {}
        }
        parts.join(", ")
    }

    /// Whether a law's group (`rm_data`, `policy_params`, `kl_penalty` keys) is this group.
    pub fn matches_law(&self, g: &std::collections::BTreeMap<String, Option<f64>>) -> bool {
        let get = |k: &str| g.get(k).copied().flatten();
        get(crate::schema::RM_DATA) == self.rm_data
            && get(crate::schema::POLICY_PARAMS) == self.policy_params
            && get(crate::schema::KL_PENALTY) == self.kl_penalty
    }
}

fn cmp_opt(a: Option<f64>, b: Option<f64>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => x.total_cmp(&y),
    }
}

/// The group a figure shows when there are several: the smallest KL penalty (none first), then
/// the most RM data, then the largest policy.
pub fn main_group(groups: impl IntoIterator<Item = Group>) -> Option<Group> {
    groups.into_iter().min_by(|a, b| {
        cmp_opt(a.kl_penalty, b.kl_penalty)
            .then(cmp_opt(b.rm_data, a.rm_data))
            .then(cmp_opt(b.policy_params, a.policy_params))
    })
}

/// Distinct groups, in first-seen order.
pub fn distinct(groups: impl IntoIterator<Item = Group>) -> Vec<Group> {
    let mut out: Vec<Group> = Vec::new();
    for g in groups {
        if !out.contains(&g) {
            out.push(g);
        }
    }
    out
}

/// Whether a curve has at least one finite point.
fn usable(c: &Curve) -> bool {
    c.kl.iter()
        .zip(&c.gold)
        .any(|(k, g)| k.is_finite() && g.is_finite())
}

/// The curves of a method in its main group, by RM size; and the group and how many other
/// groups were left out.
pub fn main_curves(curves: &[Curve], method: Method) -> Option<(Vec<&Curve>, Group, usize)> {
    let of_method: Vec<&Curve> = curves
        .iter()
        .filter(|c| c.key.method == method && usable(c))
        .collect();
    let groups = distinct(of_method.iter().map(|c| Group::of(&c.key)));
    let g = main_group(groups.iter().copied())?;
    let mut chosen: Vec<&Curve> = of_method
        .into_iter()
        .filter(|c| g.matches(&c.key))
        .collect();
    chosen.sort_by(|a, b| a.key.rm_params.total_cmp(&b.key.rm_params));
    Some((chosen, g, groups.len() - 1))
}

/// The form a fit record names.
pub fn form_of(f: &FitRecord) -> Option<FormId> {
    Some(f.form)
}

/// The parameters of a fit in the order of its form, when all are finite.
pub fn params_of(f: &FitRecord) -> Option<(FormId, Vec<f64>)> {
    let form = form_of(f)?;
    let p: Option<Vec<f64>> = form
        .form()
        .param_names()
        .iter()
        .map(|n| f.params.get(*n).map(|p| p.value).filter(|v| v.is_finite()))
        .collect();
    Some((form, p?))
}

fn same_key(f: &FitRecord, k: &CurveKey) -> bool {
    f.method == k.method
        && f.rm_params == k.rm_params
        && f.policy_params == k.policy_params
        && f.rm_data == k.rm_data
        && f.kl_penalty == k.kl_penalty
}

/// The fit of a curve and target: the paper's form for the method when there is one, else any
/// form with usable parameters.
pub fn fit_for<'a>(fits: &'a [FitRecord], k: &CurveKey, target: Target) -> Option<&'a FitRecord> {
    let paper = FormId::for_method(k.method);
    let mut cands = fits
        .iter()
        .filter(|f| same_key(f, k) && f.target == target && params_of(f).is_some());
    let all: Vec<&FitRecord> = cands.by_ref().collect();
    all.iter()
        .find(|f| f.form == paper)
        .or_else(|| all.first())
        .copied()
}

/// For a caption: how many of these gold fits the form check rejects, of those it judged, in a
/// sentence (empty when none is rejected).
pub fn form_check_words<'a>(fits: impl IntoIterator<Item = &'a FitRecord>) -> String {
    let checked: Vec<(FormId, &crate::document::FormCheck)> = fits
        .into_iter()
        .filter_map(|f| Some((f.form, f.form_check.as_ref()?)))
        .filter(|(_, c)| c.verdict != crate::document::FormVerdict::NotTested)
        .collect();
    let rejected: Vec<_> = checked.iter().filter(|(_, c)| c.rejected()).collect();
    let Some((form, first)) = rejected.first() else {
        return String::new();
    };
    format!(
        " The form check rejects the {form} form on {} of these {} gold fits (the {} form fits their points better), so those fitted lines, peaks and coefficients summarise their curves worse than the other form would.",
        rejected.len(),
        checked.len(),
        first.alternative,
    )
}

/// The fitted score at a KL, in data units (baseline + R(sqrt(kl))).
pub fn eval_fit(f: &FitRecord, kl: f64) -> Option<f64> {
    let (form, p) = params_of(f)?;
    let base = f.baseline.map_or(0.0, |b| b.value);
    let v = base + form.form().eval(&p, kl.max(0.0).sqrt());
    v.is_finite().then_some(v)
}

/// KL values from 0 to `kl_max`, evenly spaced in d = sqrt(KL).
pub fn kl_grid(kl_max: f64, n: usize) -> Vec<f64> {
    if !(kl_max.is_finite() && kl_max > 0.0) {
        return Vec::new();
    }
    let dmax = kl_max.sqrt();
    (0..=n)
        .map(|i| (dmax * i as f64 / n as f64).powi(2))
        .collect()
}

/// The fitted curve (kl, score) from 0 to `kl_max`; `with_baseline` adds the kl = 0 mean.
pub fn fit_line(f: &FitRecord, kl_max: f64, with_baseline: bool) -> Vec<(f64, f64)> {
    let Some((form, p)) = params_of(f) else {
        return Vec::new();
    };
    let base = if with_baseline {
        f.baseline.map_or(0.0, |b| b.value)
    } else {
        0.0
    };
    kl_grid(kl_max, 160)
        .into_iter()
        .map(|kl| (kl, base + form.form().eval(&p, kl.sqrt())))
        .collect()
}

/// The largest finite KL of a curve.
pub fn max_kl(c: &Curve) -> f64 {
    c.kl.iter()
        .copied()
        .filter(|k| k.is_finite())
        .fold(0.0, f64::max)
}

/// Finite (kl, gold) points.
pub fn gold_points(c: &Curve) -> Vec<(f64, f64)> {
    c.kl.iter()
        .zip(&c.gold)
        .map(|(&k, &g)| (k, g))
        .filter(|(k, g)| k.is_finite() && g.is_finite())
        .collect()
}

/// Finite (kl, proxy) points.
pub fn proxy_points(c: &Curve) -> Vec<(f64, f64)> {
    let Some(p) = &c.proxy else {
        return Vec::new();
    };
    c.kl.iter()
        .zip(p)
        .filter_map(|(&k, p)| p.map(|p| (k, p)))
        .filter(|(k, p)| k.is_finite() && p.is_finite())
        .collect()
}

/// ±1.96 se bars of the gold points, when the curve has standard errors.
pub fn gold_bars(c: &Curve) -> Vec<(f64, f64, f64)> {
    let Some(se) = &c.gold_se else {
        return Vec::new();
    };
    c.kl.iter()
        .zip(&c.gold)
        .zip(se)
        .map(|((&k, &g), &s)| (k, g - 1.96 * s, g + 1.96 * s))
        .filter(|(k, a, b)| k.is_finite() && a.is_finite() && b.is_finite())
        .collect()
}

/// The colour bar of RM sizes: ticks at every size when there are at most 10, else decades.
pub fn size_bar(scale: SizeScale, sizes: &[f64]) -> ColorBar {
    let mut ticks: Vec<f64> = sizes
        .iter()
        .copied()
        .filter(|s| s.is_finite() && *s > 0.0)
        .collect();
    ticks.sort_by(f64::total_cmp);
    ticks.dedup();
    if ticks.len() > 10 {
        ticks = super::scene::log_ticks(scale.lo, scale.hi)
            .into_iter()
            .map(|(p, _)| 10f64.powf(p))
            .collect();
    }
    ColorBar {
        title: "RM parameters".into(),
        scale,
        ticks,
    }
}

/// Legend entries for "points and fit" styles in neutral ink.
pub fn style_entry(label: &str, swatch: Swatch) -> LegendEntry {
    LegendEntry {
        swatch,
        label: label.to_string(),
    }
}

pub fn line_entry(label: &str, dash: Dash) -> LegendEntry {
    style_entry(label, Swatch::Line(theme::INK, dash))
}

pub use crate::stats::median;

/// Up to `k` items spread evenly over `v` (first and last included).
pub fn spread<T: Copy>(v: &[T], k: usize) -> Vec<T> {
    if v.len() <= k {
        return v.to_vec();
    }
    let mut idx: Vec<usize> = (0..k)
        .map(|i| ((i as f64) * (v.len() - 1) as f64 / (k - 1).max(1) as f64).round() as usize)
        .collect();
    idx.dedup();
    idx.into_iter().map(|i| v[i]).collect()
}

/// How a quantity moves with size, from Spearman's rank correlation over the given
/// (size, value) pairs: `("rises", rho)` for rho >= 0.5, `("falls", rho)` for rho <= -0.5,
/// `("shows no clear trend", rho)` between; `None` with fewer than 3 pairs or a constant side.
pub fn trend(pairs: &[(f64, f64)]) -> Option<(&'static str, f64)> {
    let (x, y): (Vec<f64>, Vec<f64>) = pairs.iter().copied().unzip();
    let rho = crate::stats::spearman(&x, &y)?;
    let word = if rho >= 0.5 {
        "rises"
    } else if rho <= -0.5 {
        "falls"
    } else {
        "shows no clear trend"
    };
    Some((word, rho))
}
