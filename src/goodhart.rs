//! The Goodhart decomposition of the proxy-gold gap (paper section 4): how much of it is
//! regressional (a noisy proxy shrinks the slope alpha) and how much extremal (the proxy fails
//! far from the initial policy, the beta term).
//!
//! Two estimates, for two kinds of input:
//!
//! * **From coefficients** ([`from_fits`]): gold and proxy fits of the same linear form
//!   `R(d) = alpha d - beta f(d)` (f(d) = d² for `bon`, d ln d for `rl`, d ln(1+d) for
//!   `rl-log1p`) give `regressional(d) = (alpha_p - alpha_g) d` and
//!   `extremal(d) = (beta_g - beta_p) f(d)`. Both fits subtract their own kl = 0 baseline, so the
//!   gap is measured after the baselines: `gap = (proxy - b_p) - (gold - b_g)`, and
//!   `residual = gap - regressional - extremal` is what the two fitted forms leave unexplained.
//!   Standard errors treat the gold and proxy fits as independent (see [`from_fits`]).
//! * **From best-of-n samples** ([`from_samples`]): gold regressed on proxy over the initial
//!   policy's samples (`gold ≈ a + b proxy`) predicts what selection on the proxy would give if
//!   the proxy were gold plus noise; the proxy's excess over that prediction is regressional, the
//!   prediction's excess over the real best-of-n gold score is extremal (and everything else).
//!   Standard errors by a jackknife over prompts, which carries the regression's uncertainty.

use crate::bon::Pool;
use crate::bon::estimate::{default_n_grid, estimate_pool};
use crate::bon::weights::analytic_kl;
use crate::curves::Curve;
use crate::document::{DecompositionRecord, FitRecord, FitsDocument, Target};
pub use crate::document::{DecompositionSource, GapPoint};
use crate::error::{Error, Result};
use crate::format::{fmt_num, g6, pm};
use crate::forms::FormId;
use crate::schema::CurveKey;

/// The decomposition of one curve.
#[derive(Debug, Clone, PartialEq)]
pub struct Decomposition {
    pub key: CurveKey,
    pub source: DecompositionSource,
    /// The functional form of the fits it comes from (`bon`, `rl`); for samples, `bon`.
    pub form: FormId,
    /// The gap along the curve, in increasing KL (for figures): the observed points (from
    /// coefficients) or the n values (from samples).
    pub points: Vec<GapPoint>,
    /// From coefficients: the fitted parts on an even grid in d = sqrt(KL) from 0 to the largest
    /// KL of the curve (proxy and gold are the fitted curves, residual 0). Empty from samples.
    pub grid: Vec<GapPoint>,
    /// At the fitted gold peak's KL (None when the gold fit has no peak); from samples, at the
    /// n with the highest best-of-n gold score when that is not the largest n.
    pub at_peak: Option<GapPoint>,
    /// At the largest KL of the curve.
    pub at_max_kl: Option<GapPoint>,
}

/// One fit's linear coefficients and their variances (from the standard errors).
struct Coefs {
    alpha: f64,
    beta: f64,
    var_alpha: Option<f64>,
    var_beta: Option<f64>,
    baseline: f64,
}

fn coefs(r: &FitRecord) -> Option<Coefs> {
    let a = r.params.get("alpha")?;
    let b = r.params.get("beta")?;
    (r.converged && r.params.len() == 2 && a.value.is_finite() && b.value.is_finite()).then(|| {
        Coefs {
            alpha: a.value,
            beta: b.value,
            var_alpha: a.se.map(|s| s * s),
            var_beta: b.se.map(|s| s * s),
            baseline: r.baseline.map_or(0.0, |b| b.value),
        }
    })
}

/// The form of a fit, when it is one of the two-parameter linear forms `alpha d - beta f(d)`.
fn linear_form(form: FormId) -> Option<FormId> {
    form.linear().map(|_| form)
}

/// f(d) of the form `alpha d - beta f(d)`: minus the second basis function.
fn f_of(form: FormId, d: f64) -> f64 {
    let mut row = [0.0; 2];
    match form.linear() {
        Some(l) => {
            l.basis(d, &mut row);
            -row[1]
        }
        None => f64::NAN,
    }
}

/// The parts at distance d for observed (baseline-subtracted) proxy and gold scores.
fn split(form: FormId, g: &Coefs, p: &Coefs, kl: f64, proxy: f64, gold: f64) -> GapPoint {
    let d = kl.sqrt();
    let f = if d == 0.0 { 0.0 } else { f_of(form, d) };
    let regressional = (p.alpha - g.alpha) * d;
    let extremal = (g.beta - p.beta) * f;
    let se =
        |u: Option<f64>, v: Option<f64>, x: f64| u.zip(v).map(|(u, v)| ((u + v) * x * x).sqrt());
    GapPoint {
        kl,
        proxy,
        gold,
        regressional,
        extremal,
        residual: (proxy - gold) - regressional - extremal,
        regressional_se: se(g.var_alpha, p.var_alpha, d),
        extremal_se: se(g.var_beta, p.var_beta, f),
    }
}

/// The fitted (baseline-subtracted) curves' parts at `kl`: residual 0 up to rounding.
fn fitted_point(form: FormId, g: &Coefs, p: &Coefs, kl: f64) -> GapPoint {
    let d = kl.sqrt();
    let f = if d == 0.0 { 0.0 } else { f_of(form, d) };
    let gold = g.alpha * d - g.beta * f;
    let proxy = p.alpha * d - p.beta * f;
    split(form, g, p, kl, proxy, gold)
}

/// The decomposition of every curve that has converged gold and proxy fits of the same
/// two-parameter linear form (`bon`, `rl`, `rl-log1p`), in the order of `curves`.
///
/// `points` are the curve's observed points with a proxy score, measured from each fit's own
/// baseline (the mean kl = 0 score the fit subtracted; 0 when it subtracted none), so that the
/// residual is the fits' misfit only. Standard errors: Var(regressional) =
/// d² (se(alpha_g)² + se(alpha_p)²), Var(extremal) = f(d)² (se(beta_g)² + se(beta_p)²), i.e. the
/// two fits are treated as independent. They are fitted to the same policies' scores, whose
/// noise is positively correlated between gold and proxy, so the true variance of a difference
/// is smaller: these errors are conservative.
pub fn from_fits(curves: &[Curve], fits: &[FitRecord]) -> Vec<Decomposition> {
    let mut out = Vec::new();
    for c in curves {
        let find = |target: Target, form: Option<FormId>| {
            fits.iter().find(|r| {
                r.target == target
                    && r.key() == c.key
                    && form.is_none_or(|f| r.form == f)
                    && linear_form(r.form).is_some()
            })
        };
        let Some(gold_fit) = find(Target::Gold, None) else {
            continue;
        };
        let Some(proxy_fit) = find(Target::Proxy, Some(gold_fit.form)) else {
            continue;
        };
        let (Some(form), Some(g), Some(p)) = (
            linear_form(gold_fit.form),
            coefs(gold_fit),
            coefs(proxy_fit),
        ) else {
            continue;
        };
        let Some(proxy) = c.proxy.as_ref() else {
            continue;
        };
        let points: Vec<GapPoint> = (0..c.kl.len())
            .filter_map(|i| {
                let pv = proxy[i]?;
                Some(split(
                    form,
                    &g,
                    &p,
                    c.kl[i],
                    pv - p.baseline,
                    c.gold[i] - g.baseline,
                ))
            })
            .collect();
        let Some(max_kl) = points.iter().map(|q| q.kl).reduce(f64::max) else {
            continue;
        };
        // Several points (runs) may share the largest KL: their mean.
        let last: Vec<&GapPoint> = points.iter().filter(|q| q.kl == max_kl).collect();
        let k = last.len() as f64;
        let at_max_kl = split(
            form,
            &g,
            &p,
            max_kl,
            last.iter().map(|q| q.proxy).sum::<f64>() / k,
            last.iter().map(|q| q.gold).sum::<f64>() / k,
        );
        let at_peak = gold_fit
            .peak
            .filter(|pk| pk.kl.is_finite())
            .map(|pk| fitted_point(form, &g, &p, pk.kl));
        const GRID: usize = 64;
        let d_max = max_kl.sqrt();
        let grid = (0..=GRID)
            .map(|j| {
                let d = d_max * j as f64 / GRID as f64;
                fitted_point(form, &g, &p, d * d)
            })
            .collect();
        out.push(Decomposition {
            key: c.key,
            source: DecompositionSource::Coefficients,
            form: gold_fit.form,
            points,
            grid,
            at_peak,
            at_max_kl: Some(at_max_kl),
        });
    }
    out
}

/// The sufficient statistics of a regression of gold on proxy.
#[derive(Debug, Clone, Copy, Default)]
struct Moments {
    n: f64,
    p: f64,
    g: f64,
    pp: f64,
    pg: f64,
}

impl Moments {
    fn of(scores: &[(f64, f64)]) -> Moments {
        let mut m = Moments::default();
        for &(p, g) in scores {
            m.n += 1.0;
            m.p += p;
            m.g += g;
            m.pp += p * p;
            m.pg += p * g;
        }
        m
    }
    fn minus(self, o: Moments) -> Moments {
        Moments {
            n: self.n - o.n,
            p: self.p - o.p,
            g: self.g - o.g,
            pp: self.pp - o.pp,
            pg: self.pg - o.pg,
        }
    }
    fn add(&mut self, o: Moments) {
        self.n += o.n;
        self.p += o.p;
        self.g += o.g;
        self.pp += o.pp;
        self.pg += o.pg;
    }
    /// (mean proxy, mean gold, slope b) of the OLS regression gold = a + b proxy.
    fn regression(self) -> (f64, f64, f64) {
        let mp = self.p / self.n;
        let mg = self.g / self.n;
        let sxx = self.pp - self.p * mp;
        let sxy = self.pg - self.p * mg;
        (mp, mg, sxy / sxx)
    }
}

/// (regressional, extremal, gap) from the initial-policy means and slope and the BoN means.
fn sample_parts(mp: f64, mg: f64, b: f64, proxy_bon: f64, gold_bon: f64) -> (f64, f64, f64) {
    let dp = proxy_bon - mp;
    let dg = gold_bon - mg;
    // prediction of the BoN gold score (from the baseline): a + b proxy_bon - mg = b dp
    let reg = dp - b * dp;
    let ext = b * dp - dg;
    (reg, ext, dp - dg)
}

/// The decomposition from best-of-n samples, one per reward model (key) of the pools, which
/// must be sorted by key as [`crate::bon::read_samples`] returns them.
///
/// Per key: the ordinary least-squares regression `gold = a + b proxy` over every sample (the
/// pools are draws from the initial policy); for each n (the `ns` given, or `goodhart bon`'s
/// default grid, kept to n <= the smallest pool), `proxy_bon(n)` and `gold_bon(n)` by the
/// unbiased estimator, averaged over prompts. Measured from the initial policy's means
/// (`mp`, `mg`): regressional = `(1 - b)(proxy_bon - mp)`, the proxy's excess over the
/// regressional prediction `a + b proxy_bon`; extremal = `a + b proxy_bon - gold_bon`; the
/// residual is 0 (rounding only). KL is the analytic `ln n - (n-1)/n`.
///
/// Standard errors: a delete-one-prompt jackknife, which recomputes the regression without the
/// prompt as well, so the uncertainty of `a` and `b` and the correlation of one prompt's samples
/// are both carried. When proxy = gold + independent Gaussian noise, `E[gold | proxy]` is exactly
/// linear and the extremal part is zero in expectation.
pub fn from_samples(pools: &[Pool], ns: Option<&[usize]>) -> Result<Vec<Decomposition>> {
    let mut groups: Vec<(CurveKey, Vec<&Pool>)> = Vec::new();
    for p in pools {
        match groups.last_mut() {
            Some((key, list)) if *key == p.key => list.push(p),
            _ => groups.push((p.key, vec![p])),
        }
    }
    let mut out = Vec::with_capacity(groups.len());
    for (key, list) in groups {
        let min_pool = list.iter().map(|p| p.scores.len()).min().unwrap_or(0);
        let ns: Vec<usize> = match ns {
            Some(ns) => {
                let mut v: Vec<usize> = ns.to_vec();
                v.sort_unstable();
                v.dedup();
                if let Some(&bad) = v.iter().find(|&&n| n == 0 || n > min_pool) {
                    return Err(Error::Analysis(format!(
                        "decomposition of {key}: n = {bad} is not between 1 and the smallest pool size ({min_pool})"
                    )));
                }
                v
            }
            None => default_n_grid(min_pool),
        };
        let m = list.len();
        if m < 2 || ns.is_empty() {
            continue;
        }
        let moments: Vec<Moments> = list.iter().map(|p| Moments::of(&p.scores)).collect();
        let mut total = Moments::default();
        for mo in &moments {
            total.add(*mo);
        }
        let (mp, mg, b) = total.regression();
        if !b.is_finite() {
            return Err(Error::Analysis(format!(
                "decomposition of {key}: the proxy scores have no spread, so gold cannot be regressed on them"
            )));
        }
        let ests: Vec<_> = list.iter().map(|p| estimate_pool(&p.scores, &ns)).collect();
        let mut points = Vec::with_capacity(ns.len());
        for (k, &n) in ns.iter().enumerate() {
            let sum_p: f64 = ests.iter().map(|e| e.proxy[k]).sum();
            let sum_g: f64 = ests.iter().map(|e| e.gold[k]).sum();
            let (pb, gb) = (sum_p / m as f64, sum_g / m as f64);
            let (reg, ext, gap) = sample_parts(mp, mg, b, pb, gb);
            // Jackknife: leave out prompt j (its samples in the regression, its BoN estimate).
            let mut jr = Vec::with_capacity(m);
            let mut je = Vec::with_capacity(m);
            for (j, e) in ests.iter().enumerate() {
                let (mpj, mgj, bj) = total.minus(moments[j]).regression();
                let pbj = (sum_p - e.proxy[k]) / (m - 1) as f64;
                let gbj = (sum_g - e.gold[k]) / (m - 1) as f64;
                let (r, x, _) = sample_parts(mpj, mgj, bj, pbj, gbj);
                jr.push(r);
                je.push(x);
            }
            let jk = |v: &[f64]| {
                let mean = v.iter().sum::<f64>() / m as f64;
                let ss: f64 = v.iter().map(|x| (x - mean) * (x - mean)).sum();
                let se = (ss * (m - 1) as f64 / m as f64).sqrt();
                se.is_finite().then_some(se)
            };
            points.push(GapPoint {
                kl: analytic_kl(n),
                proxy: pb - mp,
                gold: gb - mg,
                regressional: reg,
                extremal: ext,
                residual: gap - reg - ext,
                regressional_se: jk(&jr),
                extremal_se: jk(&je),
            });
        }
        let best = points
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.gold.total_cmp(&b.1.gold))
            .map(|(i, _)| i);
        let at_peak = best.filter(|&i| i + 1 < points.len()).map(|i| points[i]);
        out.push(Decomposition {
            key,
            source: DecompositionSource::Samples,
            form: FormId::Bon,
            at_max_kl: points.last().copied(),
            at_peak,
            points,
            grid: Vec::new(),
        });
    }
    Ok(out)
}

impl Decomposition {
    /// This decomposition as an entry of the fits document's `"decomposition"`.
    pub fn record(&self) -> DecompositionRecord {
        DecompositionRecord {
            method: self.key.method,
            rm_params: self.key.rm_params,
            policy_params: self.key.policy_params,
            rm_data: self.key.rm_data,
            kl_penalty: self.key.kl_penalty,
            source: self.source,
            form: self.form,
            at_peak: self.at_peak,
            at_max_kl: self.at_max_kl,
        }
    }
}

/// Decomposes the curves from the document's fits ([`from_fits`]) and records the result in
/// the document's `"decomposition"`; returns the decompositions (for figures and reports).
pub fn decompose(doc: &mut FitsDocument, curves: &[Curve]) -> Vec<Decomposition> {
    // Only proxy fits can be decomposed.
    if !doc.fits.iter().any(|f| f.target == Target::Proxy) {
        return Vec::new();
    }
    let decs = from_fits(curves, &doc.fits);
    doc.decomposition = decs.iter().map(Decomposition::record).collect();
    decs
}

/// The text table `goodhart fit` prints: the gap and its parts at the peak and at the largest KL.
pub fn report_text(decs: &[Decomposition]) -> String {
    use std::fmt::Write as _;
    if decs.is_empty() {
        return String::new();
    }
    let mut s = String::from(
        "\nGoodhart decomposition (proxy - gold = regressional + extremal + residual, from the kl = 0 baselines)\n",
    );
    for d in decs {
        let _ = writeln!(s, "[[{} ({}, form {})]]", d.key, d.source.as_str(), d.form);
        for (label, p) in [("at peak", d.at_peak), ("at max KL", d.at_max_kl)] {
            match p {
                None => {
                    let _ = writeln!(s, "    {label:<10} no peak");
                }
                Some(p) => {
                    let _ = writeln!(
                        s,
                        "    {label:<10} KL {:<10} gap {:<10} regressional {:<24} extremal {:<24} residual {}",
                        kl_label(p.kl, d.at_max_kl.map(|m| m.kl)),
                        g6(p.gap()),
                        pm(p.regressional, p.regressional_se),
                        pm(p.extremal, p.extremal_se),
                        g6(p.residual)
                    );
                }
            }
        }
    }
    s
}

/// A KL for tables, marked `(extrapolated)` when it lies beyond the largest KL of the curve (a
/// fitted peak right of the data).
pub fn kl_label(kl: f64, max_kl: Option<f64>) -> String {
    if max_kl.is_some_and(|m| kl > m * (1.0 + 1e-12)) {
        format!("{} (extrapolated)", g6(kl))
    } else {
        g6(kl)
    }
}

/// A short label of a curve key for tables (`bon 3e6 rm_data=1000`).
pub fn key_label(k: &CurveKey) -> String {
    let mut s = format!("{} {}", k.method, fmt_num(k.rm_params));
    for (name, v) in [
        ("policy", k.policy_params),
        ("data", k.rm_data),
        ("penalty", k.kl_penalty),
    ] {
        if let Some(v) = v {
            s.push_str(&format!(" {name}={}", fmt_num(v)));
        }
    }
    s
}
