//! Bootstrap intervals of a fit: from the per-prompt values of a best-of-n curve (`goodhart
//! bon` writes them; prompts are resampled here, every n of a replicate from the same resample,
//! so the correlation of the points through their shared pools is kept), or from replicate
//! curves in the table (`goodhart bon --bootstrap`). Every replicate is fitted like the curve;
//! the parameters' standard errors and covariance are those of the replicate fits, and their
//! 95% intervals percentile (default) or BCa intervals.
//!
//! Results are identical whatever the thread count: replicate b of a curve and target draws
//! from its own ChaCha8 key (seed, curve, target, b), and the replicate fits are collected in
//! replicate order.

use nalgebra::DMatrix;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};

use super::{FitOptions, FitStats, FittedForm, Target, fit_curve};
use crate::curves::{Curve, PromptValues};
pub use crate::document::{BootstrapInterval, BootstrapSource};

/// What a bootstrap resampled and which interval it gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BootstrapKind {
    pub source: BootstrapSource,
    pub interval: BootstrapInterval,
}

/// The q-quantile of sorted values, interpolating linearly between order statistics (numpy's
/// default).
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Whether a weighted fit's chi-square is so far below its degrees of freedom that its points
/// cannot be independent with the given standard errors: P(χ²_dof <= chisqr) < 0.001. Best-of-n
/// points computed from the same pools have smooth, correlated residuals and land here.
pub fn shared_pools_suspected(stats: &FitStats) -> bool {
    if stats.dof == 0 || !stats.chisqr.is_finite() {
        return false;
    }
    ChiSquared::new(stats.dof as f64).is_ok_and(|d| d.cdf(stats.chisqr) < 1e-3)
}

/// A stable 64-bit hash (FNV-1a) of the curve key and target, so that a curve's resamples do
/// not depend on which other curves are fitted with it.
fn curve_hash(curve: &Curve, target: Target) -> u64 {
    let text = format!("{}|{}", curve.key, target.as_str());
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The resample counts of replicate `b`: m prompts drawn with replacement.
fn resample(m: usize, seed: u64, hash: u64, b: u64) -> Vec<u32> {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&hash.to_le_bytes());
    key[16..24].copy_from_slice(&b.to_le_bytes());
    key[24..].copy_from_slice(b"goodhart");
    let mut rng = ChaCha8Rng::from_seed(key);
    let mut counts = vec![0u32; m];
    for _ in 0..m {
        counts[rng.random_range(0..m)] += 1;
    }
    counts
}

/// The curve rebuilt from a reweighting of its prompts (`counts[p]` copies of prompt p): each
/// point's score moves by the difference between the reweighted and the plain mean of its
/// per-prompt values, so the replicate of all-ones counts is the curve itself. KL and standard
/// errors (the fit weights) stay those of the curve; a point none of whose drawn prompts reach
/// its n is left out.
fn reweighted(curve: &Curve, values: &[Vec<f64>], target: Target, counts: &[u32]) -> Curve {
    let mut out = Curve {
        key: curve.key,
        kl: Vec::new(),
        gold: Vec::new(),
        proxy: curve.proxy.as_ref().map(|_| Vec::new()),
        gold_se: curve.gold_se.as_ref().map(|_| Vec::new()),
        proxy_se: curve.proxy_se.as_ref().map(|_| Vec::new()),
        entropy: None,
        replicates: Vec::new(),
        prompts: None,
    };
    for (i, v) in values.iter().enumerate() {
        let (mut sum, mut m, mut wsum, mut w) = (0.0, 0usize, 0.0, 0u64);
        for (&x, &c) in v.iter().zip(counts) {
            if x.is_nan() {
                continue;
            }
            sum += x;
            m += 1;
            if c > 0 {
                wsum += c as f64 * x;
                w += c as u64;
            }
        }
        if w == 0 {
            continue;
        }
        let shift = wsum / w as f64 - sum / m as f64;
        out.kl.push(curve.kl[i]);
        match target {
            Target::Gold => {
                out.gold.push(curve.gold[i] + shift);
                if let (Some(p), Some(src)) = (out.proxy.as_mut(), curve.proxy.as_ref()) {
                    p.push(src[i]);
                }
            }
            Target::Proxy => {
                out.gold.push(curve.gold[i]);
                if let (Some(p), Some(src)) = (out.proxy.as_mut(), curve.proxy.as_ref()) {
                    p.push(src[i].map(|y| y + shift));
                }
            }
        }
        if let (Some(p), Some(src)) = (out.gold_se.as_mut(), curve.gold_se.as_ref()) {
            p.push(src[i]);
        }
        if let (Some(p), Some(src)) = (out.proxy_se.as_mut(), curve.proxy_se.as_ref()) {
            p.push(src[i]);
        }
    }
    out
}

/// The parameter values of a replicate fitted like the curve (no bootstrap), followed by its
/// subtracted kl = 0 baseline (NaN when none).
fn refit(rep: &Curve, target: Target, opts: &FitOptions, n_params: usize) -> Option<Vec<f64>> {
    let f = fit_curve(rep, target, opts).ok()?;
    let mut v = f.fitted()?.values();
    if v.len() != n_params || !v.iter().all(|x| x.is_finite()) {
        return None;
    }
    v.push(f.baseline.map_or(f64::NAN, |b| b.value));
    Some(v)
}

/// Replicate fits of a curve. For a linear form the fit is a linear map of the fitted scores,
/// θ(y) = Σₖ yₖ·aₖ with aₖ the fit of the k-th unit vector on the same points and weights (the
/// same solver, once per point), so a replicate that keeps every point (the same selection:
/// baseline, KL filters, holdout: the same KL, standard errors and present scores) is
/// θ̂ + Σₖ (y*ₖ − yₖ)·aₖ, equal to its refit to rounding; any other replicate (or form) is
/// refitted.
struct Refitter<'a> {
    target: Target,
    opts: FitOptions,
    n_params: usize,
    point: Vec<f64>,
    /// The point estimate's fitted scores, and aₖ for each of them.
    linear: Option<(Vec<f64>, Vec<Vec<f64>>)>,
    curve: &'a Curve,
}

impl<'a> Refitter<'a> {
    fn new(curve: &'a Curve, target: Target, opts: &FitOptions, fitted: &FittedForm) -> Self {
        let opts = FitOptions {
            bootstrap: 0,
            ..opts.clone()
        };
        let form = fitted.form;
        let n_params = fitted.params.len();
        let linear = form.linear().and_then(|_| {
            let pts = super::curve_points(curve, target, &opts).fit;
            let k = pts.y.len();
            let columns = (0..k)
                .map(|j| {
                    let mut y = vec![0.0; k];
                    y[j] = 1.0;
                    let unit = super::Points {
                        d: pts.d.clone(),
                        y,
                        w: pts.w.clone(),
                    };
                    let v = crate::solve::form_fit::fit_points(form, &unit)
                        .ok()?
                        .values();
                    (v.len() == n_params).then_some(v)
                })
                .collect::<Option<Vec<Vec<f64>>>>()?;
            Some((pts.y, columns))
        });
        Refitter {
            target,
            opts,
            n_params,
            point: fitted.values(),
            linear,
            curve,
        }
    }

    fn fit(&self, rep: &Curve) -> Option<Vec<f64>> {
        let c = self.curve;
        let proxy_pattern = |x: &Curve| {
            x.proxy
                .as_ref()
                .map(|p| p.iter().map(Option::is_some).collect::<Vec<_>>())
        };
        if let Some((y, columns)) = &self.linear
            && rep.kl == c.kl
            && rep.gold_se == c.gold_se
            && rep.proxy_se == c.proxy_se
            && proxy_pattern(rep) == proxy_pattern(c)
        {
            let cp = super::curve_points(rep, self.target, &self.opts);
            if cp.fit.y.len() == y.len() {
                let mut v = self.point.clone();
                for ((a, b), col) in cp.fit.y.iter().zip(y).zip(columns) {
                    let dy = a - b;
                    for (vj, cj) in v.iter_mut().zip(col) {
                        *vj += dy * cj;
                    }
                }
                if !v.iter().all(|x| x.is_finite()) {
                    return None;
                }
                v.push(cp.baseline.map_or(f64::NAN, |b| b.value));
                return Some(v);
            }
        }
        refit(rep, self.target, &self.opts, self.n_params)
    }
}

/// The prompt bootstrap of a linear form when every prompt has a value at every point (equal
/// pools): a replicate's scores are then y + Σₚ (cₚ·m/W − 1)·vₚ/m (W = Σ cₚ: m for a resample,
/// m − 1 leaving one prompt out), and the fit and baseline are affine in them, so the replicate
/// is θ̂ + Σₚ (cₚ·m/W − 1)·hₚ with hₚ the fit's response to
/// prompt p's values (their selection and baseline as for the curve, then Σₖ·aₖ) over m: m·p
/// operations per replicate instead of m·K, equal to the refit to rounding.
struct PromptShortcut {
    /// hₚ for each prompt: the parameters' response, then the baseline's (NaN without one).
    h: Vec<Vec<f64>>,
}

impl PromptShortcut {
    fn new(r: &Refitter, values: &[Vec<f64>]) -> Option<PromptShortcut> {
        let (y, columns) = r.linear.as_ref()?;
        let c = r.curve;
        let m = values.first()?.len();
        if values
            .iter()
            .any(|v| v.len() != m || v.iter().any(|x| x.is_nan()))
        {
            return None;
        }
        let h = (0..m)
            .map(|p| {
                let mut pseudo = Curve {
                    key: c.key,
                    kl: c.kl.clone(),
                    gold: c.gold.clone(),
                    proxy: c.proxy.clone(),
                    gold_se: c.gold_se.clone(),
                    proxy_se: c.proxy_se.clone(),
                    entropy: None,
                    replicates: Vec::new(),
                    prompts: None,
                };
                match r.target {
                    Target::Gold => pseudo.gold = values.iter().map(|v| v[p]).collect(),
                    Target::Proxy => {
                        let proxy = pseudo.proxy.as_mut()?;
                        for (x, v) in proxy.iter_mut().zip(values) {
                            *x = x.map(|_| v[p]);
                        }
                    }
                }
                let cp = super::curve_points(&pseudo, r.target, &r.opts);
                if cp.fit.y.len() != y.len() {
                    return None;
                }
                let mut hp = vec![0.0; r.n_params + 1];
                for (yk, col) in cp.fit.y.iter().zip(columns) {
                    for (hj, cj) in hp.iter_mut().zip(col) {
                        *hj += yk * cj;
                    }
                }
                hp[r.n_params] = cp.baseline.map_or(f64::NAN, |b| b.value);
                Some(hp.into_iter().map(|x| x / m as f64).collect())
            })
            .collect::<Option<Vec<Vec<f64>>>>()?;
        Some(PromptShortcut { h })
    }

    /// The replicate of these resample counts: parameters, then baseline.
    fn fit(&self, r: &Refitter, baseline: f64, counts: &[u32]) -> Option<Vec<f64>> {
        let mut v = r.point.clone();
        v.push(baseline);
        // the reweighted mean is Σ cₚvₚ/W = Σ vₚ/m + Σ (cₚ·m/W − 1)·vₚ/m, W = Σ cₚ
        let total: u64 = counts.iter().map(|&c| c as u64).sum();
        if total == 0 {
            return None;
        }
        let scale = self.h.len() as f64 / total as f64;
        for (hp, &c) in self.h.iter().zip(counts) {
            let k = c as f64 * scale - 1.0;
            if k != 0.0 {
                for (vj, hj) in v.iter_mut().zip(hp) {
                    *vj += k * hj;
                }
            }
        }
        v[..r.n_params].iter().all(|x| x.is_finite()).then_some(v)
    }
}

/// The per-prompt values of the target, when the curve has them for it.
fn target_values(p: &PromptValues, target: Target) -> Option<&Vec<Vec<f64>>> {
    match target {
        Target::Gold => Some(&p.gold),
        Target::Proxy => p.proxy.as_ref(),
    }
}

/// Bootstrap intervals of a fit (module docs): from the curve's per-prompt values when it has
/// them for this target, else from its replicate curves, else none (`None`; also with
/// `--bootstrap 0`). Returns the number of replicate fits used and the kind of bootstrap; the
/// subtracted baseline's `se` becomes the standard deviation of the replicates' baselines.
pub(super) fn bootstrap_intervals(
    curve: &Curve,
    target: Target,
    opts: &FitOptions,
    outcome: &mut std::result::Result<FittedForm, String>,
    baseline: &mut Option<super::Baseline>,
    warnings: &mut Vec<String>,
) -> Option<(usize, BootstrapKind)> {
    if opts.bootstrap == 0 {
        return None;
    }
    let fitted = outcome.as_mut().ok()?;
    let n_params = fitted.params.len();
    let has_replicates = !curve.replicates.is_empty();
    let prompt_values = curve
        .prompts
        .as_ref()
        .and_then(|p| target_values(p, target))
        .filter(|v| v.len() == curve.kl.len() && !v.is_empty());
    if prompt_values.is_none() && !has_replicates {
        if opts.interval == BootstrapInterval::Bca {
            warnings.push("--ci bca needs per-prompt values (or replicate rows): this curve has neither, so its intervals are Student-t ones".to_string());
        }
        return None;
    }
    // Built only for a curve that has something to resample: it refits the curve once per
    // point (the linear shortcut's columns).
    let refitter = Refitter::new(curve, target, opts, fitted);
    let (values, jackknife, kind, total) = if let Some(values) = prompt_values {
        let m = values[0].len();
        let hash = curve_hash(curve, target);
        let shortcut = PromptShortcut::new(&refitter, values);
        let point_baseline = baseline.map_or(f64::NAN, |b| b.value);
        let replicate = |counts: &[u32]| match &shortcut {
            Some(s) => s.fit(&refitter, point_baseline, counts),
            None => refitter.fit(&reweighted(curve, values, target, counts)),
        };
        let reps: Vec<Option<Vec<f64>>> = (0..opts.bootstrap as u64)
            .into_par_iter()
            .map(|b| replicate(&resample(m, opts.seed, hash, b)))
            .collect();
        let jackknife = (opts.interval == BootstrapInterval::Bca).then(|| {
            (0..m)
                .into_par_iter()
                .map(|p| {
                    let mut counts = vec![1u32; m];
                    counts[p] = 0;
                    replicate(&counts)
                })
                .collect::<Option<Vec<Vec<f64>>>>()
        });
        let kind = BootstrapKind {
            source: BootstrapSource::Prompts,
            interval: if jackknife.as_ref().is_some_and(Option::is_some) {
                BootstrapInterval::Bca
            } else {
                BootstrapInterval::Percentile
            },
        };
        if opts.interval == BootstrapInterval::Bca && kind.interval != BootstrapInterval::Bca {
            warnings.push(
                "some leave-one-prompt-out fits failed, so BCa has no acceleration: percentile intervals are given instead"
                    .to_string(),
            );
        }
        let total = reps.len();
        let values: Vec<Vec<f64>> = reps.into_iter().flatten().collect();
        (values, jackknife.flatten(), kind, total)
    } else {
        let values: Vec<Vec<f64>> = curve
            .replicates
            .par_iter()
            .map(|r| refitter.fit(r))
            .collect::<Vec<_>>()
            .into_iter()
            .flatten()
            .collect();
        let kind = BootstrapKind {
            source: BootstrapSource::Replicates,
            interval: BootstrapInterval::Percentile,
        };
        if opts.interval == BootstrapInterval::Bca {
            warnings.push("--ci bca needs per-prompt values: curves with replicate rows get percentile intervals".to_string());
        }
        if opts.bootstrap != super::DEFAULT_BOOTSTRAP && opts.bootstrap != curve.replicates.len() {
            warnings.push(format!(
                "--bootstrap {} does not apply to replicate rows: the table's {} replicates are used",
                opts.bootstrap,
                curve.replicates.len()
            ));
        }
        (values, None, kind, curve.replicates.len())
    };
    if values.len() < 2 {
        warnings.push(if total < 2 {
            format!(
                "{total} bootstrap replicate: intervals need at least 2 (use --bootstrap 1000, the default, or more): Student-t intervals are given instead"
            )
        } else {
            format!(
                "only {} of {total} bootstrap replicates could be fitted: Student-t intervals are given instead",
                values.len()
            )
        });
        return None;
    }
    if values.len() < total {
        warnings.push(format!(
            "{} of {total} bootstrap replicate(s) could not be fitted; the intervals use the other {}",
            total - values.len(),
            values.len()
        ));
    }
    let b = values.len();
    let mean: Vec<f64> = (0..n_params)
        .map(|j| values.iter().map(|r| r[j]).sum::<f64>() / b as f64)
        .collect();
    let cov = DMatrix::from_fn(n_params, n_params, |i, j| {
        values
            .iter()
            .map(|r| (r[i] - mean[i]) * (r[j] - mean[j]))
            .sum::<f64>()
            / (b - 1) as f64
    });
    let point = fitted.values();
    for (j, p) in fitted.params.iter_mut().enumerate() {
        let mut v: Vec<f64> = values.iter().map(|r| r[j]).collect();
        v.sort_by(f64::total_cmp);
        let (lo, hi) = match &jackknife {
            Some(jack) if kind.interval == BootstrapInterval::Bca => {
                bca_levels(&v, point[j], &jack.iter().map(|r| r[j]).collect::<Vec<_>>())
            }
            _ => (0.025, 0.975),
        };
        p.se = Some(cov[(j, j)].sqrt());
        p.ci_low = Some(percentile(&v, lo));
        p.ci_high = Some(percentile(&v, hi));
    }
    fitted.covariance = Some(cov);
    if let Some(base) = baseline.as_mut() {
        let v: Vec<f64> = values.iter().map(|r| r[n_params]).collect();
        if v.iter().all(|x| x.is_finite()) {
            let mu = v.iter().sum::<f64>() / b as f64;
            let var = v.iter().map(|x| (x - mu) * (x - mu)).sum::<f64>() / (b - 1) as f64;
            base.se = Some(var.sqrt());
        }
    }
    Some((b, kind))
}

/// The BCa levels (Efron 1987) of a 95% interval: bias correction z0 from the share of sorted
/// replicate values below the point estimate (ties count half), acceleration from the
/// leave-one-prompt-out (jackknife) values. Falls back to (0.025, 0.975) when undefined.
fn bca_levels(sorted: &[f64], point: f64, jack: &[f64]) -> (f64, f64) {
    let Ok(normal) = Normal::new(0.0, 1.0) else {
        return (0.025, 0.975);
    };
    let b = sorted.len() as f64;
    let below = sorted.iter().filter(|&&x| x < point).count() as f64;
    let equal = sorted.iter().filter(|&&x| x == point).count() as f64;
    let share = ((below + 0.5 * equal) / b).clamp(0.5 / b, 1.0 - 0.5 / b);
    let z0 = normal.inverse_cdf(share);
    let jm = jack.iter().sum::<f64>() / jack.len() as f64;
    let (s2, s3) = jack.iter().fold((0.0, 0.0), |(s2, s3), &x| {
        let d = jm - x;
        (s2 + d * d, s3 + d * d * d)
    });
    let a = if s2 > 0.0 {
        s3 / (6.0 * s2.powf(1.5))
    } else {
        0.0
    };
    let level = |q: f64| {
        let z = normal.inverse_cdf(q);
        let adj = z0 + (z0 + z) / (1.0 - a * (z0 + z));
        normal.cdf(adj)
    };
    let (lo, hi) = (level(0.025), level(0.975));
    if lo.is_finite() && hi.is_finite() && lo < hi {
        (lo, hi)
    } else {
        (0.025, 0.975)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{CurveKey, Method};

    /// A best-of-n-like curve of 12 points (one at kl = 0) with per-prompt values of 7
    /// prompts, one of which stops before the last two points.
    fn curve() -> Curve {
        let m = 7;
        let kl: Vec<f64> = (0..12).map(|i| (i as f64 * 0.3).powi(2)).collect();
        let per: Vec<Vec<f64>> = kl
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let d = k.sqrt();
                (0..m)
                    .map(|p| {
                        if p == 3 && i >= 10 {
                            f64::NAN
                        } else {
                            d * (0.8 - 0.2 * d) + 0.05 * ((p * 7 + i * 3) % 5) as f64 - 0.1
                        }
                    })
                    .collect()
            })
            .collect();
        let mean = |v: &Vec<f64>| {
            let f: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
            f.iter().sum::<f64>() / f.len() as f64
        };
        Curve {
            key: CurveKey {
                method: Method::Bon,
                rm_params: 1e8,
                policy_params: None,
                rm_data: None,
                kl_penalty: None,
            },
            kl,
            gold: per.iter().map(mean).collect(),
            proxy: None,
            gold_se: Some((0..12).map(|i| 0.01 + 0.002 * i as f64).collect()),
            proxy_se: None,
            entropy: None,
            replicates: Vec::new(),
            prompts: Some(PromptValues {
                gold: per,
                proxy: None,
            }),
        }
    }

    #[test]
    fn linear_shortcut_equals_a_refit() {
        let c = curve();
        let opts = FitOptions::default();
        let fitted = fit_curve(
            &c,
            Target::Gold,
            &FitOptions {
                bootstrap: 0,
                ..opts.clone()
            },
        )
        .unwrap()
        .outcome
        .unwrap();
        let r = Refitter::new(&c, Target::Gold, &opts, &fitted);
        assert!(r.linear.is_some());
        let values = &c.prompts.as_ref().unwrap().gold;
        for b in 0..20 {
            let counts = resample(7, 1, 2, b);
            let rep = reweighted(&c, values, Target::Gold, &counts);
            let fast = r.fit(&rep).unwrap();
            let slow = refit(&rep, Target::Gold, &r.opts, 2).unwrap();
            for (f, s) in fast.iter().zip(&slow) {
                assert!((f - s).abs() < 1e-12 * (1.0 + s.abs()), "{f} vs {s}");
            }
        }
        // all-ones counts give the curve itself
        let same = reweighted(&c, values, Target::Gold, &[1; 7]);
        for (a, b) in same.gold.iter().zip(&c.gold) {
            assert!((a - b).abs() < 1e-15);
        }
    }

    #[test]
    fn prompt_shortcut_equals_a_refit_with_equal_pools() {
        let mut c = curve();
        let values: Vec<Vec<f64>> = c
            .prompts
            .as_ref()
            .unwrap()
            .gold
            .iter()
            .map(|v| {
                v.iter()
                    .map(|x| if x.is_nan() { 0.3 } else { *x })
                    .collect()
            })
            .collect();
        c.gold = values
            .iter()
            .map(|v| v.iter().sum::<f64>() / v.len() as f64)
            .collect();
        let opts = FitOptions::default();
        let fitted = fit_curve(
            &c,
            Target::Gold,
            &FitOptions {
                bootstrap: 0,
                ..opts.clone()
            },
        )
        .unwrap();
        let base = fitted.baseline.unwrap().value;
        let fitted = fitted.outcome.unwrap();
        let r = Refitter::new(&c, Target::Gold, &opts, &fitted);
        let s = PromptShortcut::new(&r, &values).expect("equal pools, linear form");
        let mut all: Vec<Vec<u32>> = (0..20).map(|b| resample(7, 3, 4, b)).collect();
        all.push(vec![1, 1, 0, 1, 1, 1, 1]);
        for counts in all {
            let fast = s.fit(&r, base, &counts).unwrap();
            let slow = refit(
                &reweighted(&c, &values, Target::Gold, &counts),
                Target::Gold,
                &r.opts,
                2,
            )
            .unwrap();
            for (f, s) in fast.iter().zip(&slow) {
                assert!(
                    (f - s).abs() < 1e-12 * (1.0 + s.abs()),
                    "{counts:?}: {f} vs {s}"
                );
            }
        }
    }

    #[test]
    fn bca_levels_are_percentile_levels_without_bias_or_skew() {
        let sorted: Vec<f64> = (0..1001).map(|i| i as f64).collect();
        let jack: Vec<f64> = vec![1.0, -1.0, 2.0, -2.0];
        let (lo, hi) = bca_levels(&sorted, 500.0, &jack);
        assert!(
            (lo - 0.025).abs() < 1e-3 && (hi - 0.975).abs() < 1e-3,
            "{lo} {hi}"
        );
    }
}
