//! The Goodhart decomposition of the proxy-gold gap (paper section 4): how much of it is
//! regressional (a noisy proxy shrinks the slope alpha) and how much extremal (the proxy fails
//! far from the initial policy, the beta term).
//!
//! **Units.** Proxy and gold are on different scales unless a user made them the same: a proxy
//! calibrated to soft labels, or simply rescaled, changes `alpha_proxy` and with it the
//! "regressional" part, whatever the Goodhart effect. So every decomposition comes in two units
//! ([`Units`]): *raw* (the scores as given, for a proxy already on the gold scale) and
//! *standardised*: proxy and gold each measured from its mean and divided by its standard
//! deviation under the initial policy (a [`Reference`]: every sample of the RM's best-of-n pools,
//! i.e. the n = 1 distribution pooled over prompts, or standard deviations the user gives). In
//! standardised units the regression of gold on proxy under the initial policy has slope ρ (the
//! prompt-pooled proxy-gold correlation), and for a proxy that is gold plus independent noise
//! the regressional part is positive.
//!
//! Two estimates, for two kinds of input:
//!
//! * **From coefficients** ([`from_fits`]): gold and proxy fits of the same linear form
//!   `R(d) = alpha d - beta f(d)` (f(d) = d² for `bon`, d ln d for `rl`, d ln(1+d) for
//!   `rl-log1p`) give `regressional(d) = (alpha_p - alpha_g) d` and
//!   `extremal(d) = (beta_g - beta_p) f(d)` (standardised: each coefficient divided by its
//!   score's standard deviation). Both fits subtract their own kl = 0 baseline, so the
//!   gap is measured after the baselines: `gap = (proxy - b_p) - (gold - b_g)`, and
//!   `residual = gap - regressional - extremal` is what the two fitted forms leave unexplained.
//!   Standard errors treat the gold and proxy fits as independent (see [`from_fits`]).
//! * **From best-of-n samples** ([`from_samples`]): gold regressed on proxy over the initial
//!   policy's samples (`gold ≈ a + b proxy`; standardised `a = 0`, `b = ρ`) predicts what
//!   selection on the proxy would give if the proxy were gold plus noise; the proxy's excess
//!   over that prediction is regressional, the prediction's excess over the real best-of-n gold
//!   score is extremal (and everything else). Standard errors by a jackknife over prompts, which
//!   carries the regression's (and the standard deviations') uncertainty.
//!
//! The **oracle** ([`OraclePoint`]) is best-of-n with the best chosen by *gold* from the same
//! pools (the same unbiased estimator, columns swapped): the ceiling of selection from the
//! initial policy at that KL. `oracle - gold` is the total cost of selecting on the proxy. For
//! jointly normal standardised scores with correlation ρ, `gold_bon(n) = ρ e_n`,
//! `oracle(n) = e_n` (e_n the mean of the largest of n standard normals), so the regressional
//! part `(1 - ρ) e_n` is the whole cost and the extremal part is 0.

use crate::bon::Pool;
use crate::bon::estimate::{default_n_grid, estimate_pools_of, estimate_sorted_pools};
use crate::bon::weights::analytic_kl;
use crate::curves::Curve;
use crate::document::{CiMethod, DecompositionRecord, FitRecord, FitsDocument, Target};
pub use crate::document::{
    DecompositionSource, GapPoint, OraclePoint, ReferenceRecord, ReferenceSource, Units,
};
use crate::error::{Error, Result};
use crate::format::{fmt_num, g6, pm};
use crate::forms::FormId;
use crate::schema::{CurveKey, Method};

/// The decomposition of one curve, in one of the two [`Units`].
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
    /// Why `at_peak` is None although the gold fit has a peak (a peak beyond
    /// [`PEAK_LIMIT`] times the curve's largest KL is not evaluated, as `predict` does).
    pub at_peak_reason: Option<String>,
    /// How the from-coefficients standard errors were computed ([`SE_JOINT_BOOTSTRAP`] or
    /// [`SE_INDEPENDENT`]); None from samples (a jackknife over prompts).
    pub se_method: Option<String>,
    /// From coefficients: how the gold and proxy fits' errors were computed (`Bootstrap` when
    /// both were bootstrapped, else the one that was not); None from samples.
    pub fits_ci: Option<CiMethod>,
    /// At the largest KL of the curve.
    pub at_max_kl: Option<GapPoint>,
    /// Raw or standardised (every score and part of this decomposition).
    pub units: Units,
    /// The initial-policy distribution: the standard deviations (used when standardised) and
    /// the proxy-gold correlation. None when none was available.
    pub reference: Option<ReferenceRecord>,
    /// The oracle best-of-n curve in this decomposition's units (best-of-n curves with a
    /// samples reference; empty otherwise).
    pub oracle: Vec<OraclePoint>,
    /// From coefficients: the coefficient differences, to evaluate the parts at any KL.
    pub law: Option<PartsLaw>,
}

/// A fitted peak beyond this multiple of the curve's largest KL is not evaluated (the rule
/// `predict` uses for peaks beyond the observed range).
pub const PEAK_LIMIT: f64 = 10.0;

/// The reason given for a peak beyond [`PEAK_LIMIT`] times the fitted KL.
pub const PEAK_BEYOND: &str = "peak beyond 10x the fitted KL: not evaluated";

/// `se_method` of from-coefficients errors from a joint bootstrap over prompts.
pub const SE_JOINT_BOOTSTRAP: &str = "joint prompt bootstrap";
/// `se_method` of from-coefficients errors that treat the two fits as independent.
pub const SE_INDEPENDENT: &str = "independent fits";

/// The parts from coefficients as functions of KL: `regressional(d) = d_alpha d`,
/// `extremal(d) = d_beta f(d)`, with the variances of the two differences.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PartsLaw {
    pub form: FormId,
    /// `alpha_proxy - alpha_gold`
    pub d_alpha: f64,
    /// `beta_gold - beta_proxy`
    pub d_beta: f64,
    pub var_d_alpha: Option<f64>,
    pub var_d_beta: Option<f64>,
    /// `alpha_proxy` (in the decomposition's units).
    pub alpha_proxy: f64,
}

impl PartsLaw {
    /// (regressional, its se, extremal, its se) at `kl`.
    pub fn at(&self, kl: f64) -> (f64, Option<f64>, f64, Option<f64>) {
        let d = kl.sqrt();
        let f = if d == 0.0 { 0.0 } else { f_of(self.form, d) };
        (
            self.d_alpha * d,
            self.var_d_alpha.map(|v| (v * d * d).sqrt()),
            self.d_beta * f,
            self.var_d_beta.map(|v| (v * f * f).sqrt()),
        )
    }
}

/// The initial-policy distribution a decomposition is standardised by.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    /// The RM whose pools it was measured on; None: it applies to every curve (given pair).
    pub key: Option<CurveKey>,
    pub record: ReferenceRecord,
    /// The oracle best-of-n curve in raw units, measured from the pools' mean gold score, on
    /// `goodhart bon`'s default n grid up to the smallest pool (samples references only).
    pub oracle: Vec<OraclePoint>,
}

impl Reference {
    /// A reference from two standard deviations (e.g. `--reference proxy_sd=1.3,gold_sd=1`):
    /// applies to every curve; no correlation, no oracle.
    pub fn given(proxy_sd: f64, gold_sd: f64) -> Result<Reference> {
        for (name, v) in [("proxy_sd", proxy_sd), ("gold_sd", gold_sd)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::Usage(format!(
                    "reference {name} must be a number > 0, not {v}"
                )));
            }
        }
        Ok(Reference {
            key: None,
            record: ReferenceRecord {
                source: ReferenceSource::Given,
                proxy_sd,
                gold_sd,
                rho: None,
                rho_within_prompt: None,
                n_samples: None,
                n_prompts: None,
            },
            oracle: Vec::new(),
        })
    }
}

/// Which initial-policy distribution a command standardises its decompositions by.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ReferenceChoice {
    /// The best-of-n samples the command was given (`report --samples`), each RM's pools for
    /// that RM's curves; raw units only for curves without samples.
    #[default]
    Default,
    /// Raw units only (`--reference none`: the proxy is already on the gold scale).
    RawOnly,
    /// These references (`--reference SAMPLES` or `--reference proxy_sd=X,gold_sd=Y`).
    These(Vec<Reference>),
}

impl ReferenceChoice {
    /// The references for the curves, given the samples of the command (if any).
    pub fn resolve(&self, pools: &[Pool]) -> Result<Vec<Reference>> {
        match self {
            ReferenceChoice::Default => references_from_samples(pools),
            ReferenceChoice::RawOnly => Ok(Vec::new()),
            ReferenceChoice::These(r) => Ok(r.clone()),
        }
    }
}

/// The reference of a curve: a samples reference of the same RM (rm_params, and rm_data and
/// policy_params where both have them: best-of-n and RL curves of one RM share it), else a
/// reference that applies to every curve.
pub fn find_reference<'a>(refs: &'a [Reference], key: &CurveKey) -> Option<&'a Reference> {
    let same = |a: Option<f64>, b: Option<f64>, loose: bool| match (a, b) {
        (Some(x), Some(y)) => x == y,
        (None, None) => true,
        _ => loose,
    };
    let matches = |k: &CurveKey, loose: bool| {
        k.rm_params == key.rm_params
            && same(k.rm_data, key.rm_data, loose)
            && same(k.policy_params, key.policy_params, loose)
    };
    refs.iter()
        .find(|r| r.key.is_some_and(|k| matches(&k, false)))
        .or_else(|| {
            refs.iter()
                .find(|r| r.key.is_some_and(|k| matches(&k, true)))
        })
        .or_else(|| refs.iter().find(|r| r.key.is_none()))
}

/// One fit's linear coefficients and their variances (from the standard errors).
#[derive(Clone, Copy)]
struct Coefs {
    alpha: f64,
    beta: f64,
    var_alpha: Option<f64>,
    var_beta: Option<f64>,
    baseline: f64,
}

impl Coefs {
    /// The coefficients of the score divided by `s`.
    fn scaled(self, s: f64) -> Coefs {
        Coefs {
            alpha: self.alpha / s,
            beta: self.beta / s,
            var_alpha: self.var_alpha.map(|v| v / (s * s)),
            var_beta: self.var_beta.map(|v| v / (s * s)),
            baseline: self.baseline / s,
        }
    }
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

/// The oracle (value, se) at `kl`, linear in d = sqrt(KL) between the oracle's points; None
/// beyond its largest KL (or without an oracle).
pub fn oracle_at(oracle: &[OraclePoint], kl: f64) -> Option<(f64, Option<f64>)> {
    let last = oracle.last()?;
    if !(kl.is_finite() && kl >= 0.0) || kl > last.kl * (1.0 + 1e-9) + 1e-12 {
        return None;
    }
    let d = kl.sqrt();
    let i = oracle.partition_point(|o| o.kl.sqrt() < d);
    if i == 0 {
        return Some((oracle[0].gold, oracle[0].gold_se));
    }
    if i >= oracle.len() {
        return Some((last.gold, last.gold_se));
    }
    let (a, b) = (oracle[i - 1], oracle[i]);
    let (da, db) = (a.kl.sqrt(), b.kl.sqrt());
    let t = if db > da { (d - da) / (db - da) } else { 1.0 };
    let se = a.gold_se.zip(b.gold_se).map(|(x, y)| x + t * (y - x));
    Some((a.gold + t * (b.gold - a.gold), se))
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
        oracle: None,
        oracle_se: None,
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

/// The oracle scaled to the units of a decomposition (divided by `gold_sd`).
fn scaled_oracle(oracle: &[OraclePoint], gold_sd: f64) -> Vec<OraclePoint> {
    oracle
        .iter()
        .map(|o| OraclePoint {
            gold: o.gold / gold_sd,
            gold_se: o.gold_se.map(|s| s / gold_sd),
            ..*o
        })
        .collect()
}

fn with_oracle(mut p: GapPoint, oracle: &[OraclePoint]) -> GapPoint {
    if let Some((o, se)) = oracle_at(oracle, p.kl) {
        p.oracle = Some(o);
        p.oracle_se = se;
    }
    p
}

/// The decomposition of one curve from its gold and proxy coefficients (already in the units
/// wanted) and the observed points (`(kl, proxy, gold)` in the same units, before the
/// baselines are subtracted).
#[allow(clippy::too_many_arguments)]
fn fits_decomposition(
    key: CurveKey,
    form: FormId,
    g: Coefs,
    p: Coefs,
    observed: &[(f64, f64, f64)],
    peak_kl: Option<f64>,
    units: Units,
    reference: Option<ReferenceRecord>,
    oracle: Vec<OraclePoint>,
    fits_ci: CiMethod,
) -> Option<Decomposition> {
    let points: Vec<GapPoint> = observed
        .iter()
        .map(|&(kl, pv, gv)| {
            with_oracle(
                split(form, &g, &p, kl, pv - p.baseline, gv - g.baseline),
                &oracle,
            )
        })
        .collect();
    let max_kl = points.iter().map(|q| q.kl).reduce(f64::max)?;
    // Several points (runs) may share the largest KL: their mean.
    let last: Vec<&GapPoint> = points.iter().filter(|q| q.kl == max_kl).collect();
    let k = last.len() as f64;
    let at_max_kl = with_oracle(
        split(
            form,
            &g,
            &p,
            max_kl,
            last.iter().map(|q| q.proxy).sum::<f64>() / k,
            last.iter().map(|q| q.gold).sum::<f64>() / k,
        ),
        &oracle,
    );
    let beyond = peak_kl.filter(|&kl| kl > PEAK_LIMIT * max_kl);
    let at_peak_reason = beyond.map(|kl| {
        format!(
            "{PEAK_BEYOND} (peak KL {}, largest fitted KL {})",
            g6(kl),
            g6(max_kl)
        )
    });
    let at_peak = peak_kl
        .filter(|_| beyond.is_none())
        .map(|kl| with_oracle(fitted_point(form, &g, &p, kl), &oracle));
    const GRID: usize = 64;
    let d_max = max_kl.sqrt();
    let grid = (0..=GRID)
        .map(|j| {
            let d = d_max * j as f64 / GRID as f64;
            with_oracle(fitted_point(form, &g, &p, d * d), &oracle)
        })
        .collect();
    let law = PartsLaw {
        form,
        d_alpha: p.alpha - g.alpha,
        d_beta: g.beta - p.beta,
        var_d_alpha: g.var_alpha.zip(p.var_alpha).map(|(a, b)| a + b),
        var_d_beta: g.var_beta.zip(p.var_beta).map(|(a, b)| a + b),
        alpha_proxy: p.alpha,
    };
    Some(Decomposition {
        key,
        source: DecompositionSource::Coefficients,
        form,
        points,
        grid,
        at_peak,
        at_peak_reason,
        se_method: Some(SE_INDEPENDENT.to_string()),
        fits_ci: Some(fits_ci),
        at_max_kl: Some(at_max_kl),
        units,
        reference,
        oracle,
        law: Some(law),
    })
}

/// Whether a curve has a KL = 0 point with a gold and one with a proxy score: the baseline that
/// both gains are measured from. Without it the decomposition is not computed.
pub fn has_baseline(c: &Curve) -> bool {
    let zero = |i: &usize| c.kl[*i] == 0.0;
    let proxy_zero = c
        .proxy
        .as_ref()
        .is_some_and(|p| (0..c.kl.len()).filter(zero).any(|i| p[i].is_some()));
    proxy_zero && (0..c.kl.len()).any(|i| zero(&i))
}

/// The decomposition of every curve that has converged gold and proxy fits of the same
/// two-parameter linear form (`bon`, `rl`, `rl-log1p`), in the order of `curves`: for each
/// curve the raw decomposition, followed by the standardised one when `refs` has a reference
/// for the curve ([`find_reference`]).
///
/// `points` are the curve's observed points with a proxy score, measured from each fit's own
/// baseline (the mean kl = 0 score the fit subtracted; 0 when it subtracted none), so that the
/// residual is the fits' misfit only. Standardised, each score and its fit's coefficients,
/// baseline and standard errors are divided by the score's standard deviation under the
/// initial policy. Standard errors: Var(regressional) = d² (se(alpha_g)² + se(alpha_p)²),
/// Var(extremal) = f(d)² (se(beta_g)² + se(beta_p)²), i.e. the two fits are treated as
/// independent. They are fitted to the same policies' scores, whose noise is positively
/// correlated between gold and proxy, so the true variance of a difference is smaller: these
/// errors are conservative (but no wider than the fits' own intervals allow).
///
/// The oracle (best-of-n curves whose reference has samples) is the reference's oracle curve,
/// linear in d between its n values, at each KL up to its largest. A curve without a KL = 0
/// point that has a proxy score ([`has_baseline`]) is not decomposed.
pub fn from_fits(curves: &[Curve], fits: &[FitRecord], refs: &[Reference]) -> Vec<Decomposition> {
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
        if !has_baseline(c) {
            continue;
        }
        let observed: Vec<(f64, f64, f64)> = (0..c.kl.len())
            .filter_map(|i| Some((c.kl[i], proxy[i]?, c.gold[i])))
            .collect();
        // The fit record leaves out a peak beyond 10x its fitted KL (`peak_reason`): the form's
        // peak of the coefficients still says where it is, so that the reason can be given.
        let peak_kl = gold_fit
            .peak
            .map(|pk| pk.kl)
            .or_else(|| {
                gold_fit
                    .form
                    .form()
                    .peak(&[g.alpha, g.beta])
                    .map(|pk| pk.kl)
            })
            .filter(|k| k.is_finite());
        let fits_ci = if gold_fit.ci_method == CiMethod::Bootstrap {
            proxy_fit.ci_method
        } else {
            gold_fit.ci_method
        };
        let reference = find_reference(refs, &c.key);
        let oracle_raw: &[OraclePoint] = match reference {
            Some(r) if c.key.method == Method::Bon => &r.oracle,
            _ => &[],
        };
        let raw = fits_decomposition(
            c.key,
            form,
            g,
            p,
            &observed,
            peak_kl,
            Units::Raw,
            reference.map(|r| r.record.clone()),
            oracle_raw.to_vec(),
            fits_ci,
        );
        let Some(raw) = raw else {
            continue;
        };
        out.push(raw);
        if let Some(r) = reference {
            let (sp, sg) = (r.record.proxy_sd, r.record.gold_sd);
            let scaled: Vec<(f64, f64, f64)> = observed
                .iter()
                .map(|&(kl, pv, gv)| (kl, pv / sp, gv / sg))
                .collect();
            out.extend(fits_decomposition(
                c.key,
                form,
                g.scaled(sg),
                p.scaled(sp),
                &scaled,
                peak_kl,
                Units::Standardised,
                Some(r.record.clone()),
                scaled_oracle(oracle_raw, sg),
                fits_ci,
            ));
        }
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
    gg: f64,
    pg: f64,
}

/// Means, standard deviations (n - 1), regression slope of gold on proxy and correlation.
#[derive(Debug, Clone, Copy)]
struct Stats {
    mp: f64,
    mg: f64,
    sp: f64,
    sg: f64,
    b: f64,
    rho: f64,
}

impl Moments {
    fn of(scores: &[(f64, f64)]) -> Moments {
        let mut m = Moments::default();
        for &(p, g) in scores {
            m.n += 1.0;
            m.p += p;
            m.g += g;
            m.pp += p * p;
            m.gg += g * g;
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
            gg: self.gg - o.gg,
            pg: self.pg - o.pg,
        }
    }
    fn add(&mut self, o: Moments) {
        self.n += o.n;
        self.p += o.p;
        self.g += o.g;
        self.pp += o.pp;
        self.gg += o.gg;
        self.pg += o.pg;
    }
    /// Centred sums of squares and products (sxx, syy, sxy).
    fn centred(self) -> (f64, f64, f64) {
        let mp = self.p / self.n;
        let mg = self.g / self.n;
        (
            self.pp - self.p * mp,
            self.gg - self.g * mg,
            self.pg - self.p * mg,
        )
    }
    fn stats(self) -> Stats {
        let (sxx, syy, sxy) = self.centred();
        let dof = self.n - 1.0;
        Stats {
            mp: self.p / self.n,
            mg: self.g / self.n,
            sp: (sxx / dof).sqrt(),
            sg: (syy / dof).sqrt(),
            b: sxy / sxx,
            rho: sxy / (sxx * syy).sqrt(),
        }
    }
}

/// One RM's pools: the per-prompt moments and their total.
struct RmPools<'a> {
    key: CurveKey,
    pools: Vec<&'a Pool>,
    moments: Vec<Moments>,
    total: Moments,
}

impl RmPools<'_> {
    fn min_pool(&self) -> usize {
        self.pools.iter().map(|p| p.scores.len()).min().unwrap_or(0)
    }
    /// The prompt-pooled reference record (standard deviations, correlations).
    fn record(&self) -> ReferenceRecord {
        let st = self.total.stats();
        let (mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0);
        for m in &self.moments {
            let (a, b, c) = m.centred();
            sxx += a;
            syy += b;
            sxy += c;
        }
        let within = sxy / (sxx * syy).sqrt();
        ReferenceRecord {
            source: ReferenceSource::Samples,
            proxy_sd: st.sp,
            gold_sd: st.sg,
            rho: st.rho.is_finite().then_some(st.rho),
            rho_within_prompt: within.is_finite().then_some(within),
            n_samples: Some(self.total.n as usize),
            n_prompts: Some(self.pools.len()),
        }
    }
    /// Per-pool best-of-n gold scores with the best chosen by gold, at each n of `ns`.
    fn oracle_estimates(&self, ns: &[usize]) -> Vec<Vec<f64>> {
        let swapped: Vec<Vec<(f64, f64)>> = self
            .pools
            .iter()
            .map(|p| p.scores.iter().map(|&(x, y)| (y, x)).collect())
            .collect();
        let slices: Vec<&[(f64, f64)]> = swapped.iter().map(|s| &s[..]).collect();
        estimate_pools_of(&slices, ns)
            .into_iter()
            .map(|e| e.proxy)
            .collect()
    }
}

/// The pools grouped by RM (key), in order; the pools must be sorted by key as
/// [`crate::bon::read_samples`] returns them.
fn group_pools(pools: &[Pool]) -> Vec<RmPools<'_>> {
    let mut groups: Vec<(CurveKey, Vec<&Pool>)> = Vec::new();
    for p in pools {
        match groups.last_mut() {
            Some((key, list)) if *key == p.key => list.push(p),
            _ => groups.push((p.key, vec![p])),
        }
    }
    groups
        .into_iter()
        .map(|(key, pools)| {
            let moments: Vec<Moments> = pools.iter().map(|p| Moments::of(&p.scores)).collect();
            let mut total = Moments::default();
            for m in &moments {
                total.add(*m);
            }
            RmPools {
                key,
                pools,
                moments,
                total,
            }
        })
        .collect()
}

/// The delete-one jackknife standard error of the leave-one-out values `v`.
fn jackknife(v: &[f64]) -> Option<f64> {
    let m = v.len() as f64;
    let mean = v.iter().sum::<f64>() / m;
    let ss: f64 = v.iter().map(|x| (x - mean) * (x - mean)).sum();
    let se = (ss * (m - 1.0) / m).sqrt();
    se.is_finite().then_some(se)
}

/// The oracle curve (raw units, from the mean gold score) of one RM at `ns`, with jackknife
/// standard errors over prompts.
fn oracle_curve(rm: &RmPools, ns: &[usize], ests: &[Vec<f64>]) -> Vec<OraclePoint> {
    let m = rm.pools.len() as f64;
    let mg = rm.total.stats().mg;
    ns.iter()
        .enumerate()
        .map(|(k, &n)| {
            let sum: f64 = ests.iter().map(|e| e[k]).sum();
            let loo: Vec<f64> = ests
                .iter()
                .zip(&rm.moments)
                .map(|(e, mo)| (sum - e[k]) / (m - 1.0) - rm.total.minus(*mo).stats().mg)
                .collect();
            OraclePoint {
                n,
                kl: analytic_kl(n),
                gold: sum / m - mg,
                gold_se: if rm.pools.len() > 1 {
                    jackknife(&loo)
                } else {
                    None
                },
            }
        })
        .collect()
}

/// The standardisation references of best-of-n samples, one per RM (key) of the pools, which
/// must be sorted by key as [`crate::bon::read_samples`] returns them: the standard deviations
/// of proxy and gold over every sample of the RM's pools (the initial policy's n = 1
/// distribution, pooled over prompts), the prompt-pooled and within-prompt correlations, and
/// the oracle best-of-n curve on `goodhart bon`'s default n grid up to the smallest pool.
pub fn references_from_samples(pools: &[Pool]) -> Result<Vec<Reference>> {
    let mut out = Vec::new();
    for rm in group_pools(pools) {
        let record = rm.record();
        if !(record.proxy_sd > 0.0 && record.gold_sd > 0.0) {
            return Err(Error::Analysis(format!(
                "reference of {}: the proxy or gold scores have no spread under the initial policy, so they cannot be standardised",
                rm.key
            )));
        }
        let ns = default_n_grid(rm.min_pool());
        let ests = rm.oracle_estimates(&ns);
        let oracle = oracle_curve(&rm, &ns, &ests);
        out.push(Reference {
            key: Some(rm.key),
            record,
            oracle,
        });
    }
    Ok(out)
}

/// (regressional, extremal, gap, proxy, gold, oracle) in `units` from the initial-policy
/// statistics and the best-of-n means (proxy-selected proxy and gold, gold-selected gold).
fn sample_parts(st: &Stats, units: Units, pb: f64, gb: f64, ob: f64) -> [f64; 6] {
    let (sp, sg) = match units {
        Units::Raw => (1.0, 1.0),
        Units::Standardised => (st.sp, st.sg),
    };
    let dp = (pb - st.mp) / sp;
    let dg = (gb - st.mg) / sg;
    // the slope in these units: b (raw), rho (standardised)
    let slope = st.b * sp / sg;
    // prediction of the BoN gold score (from the baseline): a + b proxy_bon - mg = slope dp
    let reg = dp - slope * dp;
    let ext = slope * dp - dg;
    [reg, ext, dp - dg, dp, dg, (ob - st.mg) / sg]
}

/// The decomposition from best-of-n samples, one RM (key) of the pools at a time (the pools
/// must be sorted by key as [`crate::bon::read_samples`] returns them): for each RM, the raw
/// decomposition followed by the standardised one.
///
/// Per key: the ordinary least-squares regression `gold = a + b proxy` over every sample (the
/// pools are draws from the initial policy); for each n (the `ns` given, or `goodhart bon`'s
/// default grid, kept to n <= the smallest pool), `proxy_bon(n)` and `gold_bon(n)` by the
/// unbiased estimator, averaged over prompts. Measured from the initial policy's means
/// (`mp`, `mg`): regressional = `(1 - b)(proxy_bon - mp)`, the proxy's excess over the
/// regressional prediction `a + b proxy_bon`; extremal = `a + b proxy_bon - gold_bon`; the
/// residual is 0 (rounding only). Standardised, proxy and gold are divided by their standard
/// deviations over the same samples, and b becomes the correlation ρ:
/// regressional = `(1 - ρ) proxy_bon`, extremal = `ρ proxy_bon - gold_bon`. The oracle is the
/// best-of-n gold score with the best chosen by gold (same estimator). KL is the analytic
/// `ln n - (n-1)/n`.
///
/// Standard errors: a delete-one-prompt jackknife, which recomputes the regression (and the
/// standard deviations) without the prompt as well, so their uncertainty and the correlation of
/// one prompt's samples are both carried. When proxy = gold + independent Gaussian noise,
/// `E[gold | proxy]` is exactly linear and the extremal part is zero in expectation.
///
/// The pools are [`crate::bon::read_samples`]'s: each pool's scores sorted by (proxy, gold), as
/// [`Pool`] documents (the best-of-n estimator relies on that order, as `goodhart bon` does).
pub fn from_samples(pools: &[Pool], ns: Option<&[usize]>) -> Result<Vec<Decomposition>> {
    let mut out = Vec::new();
    for rm in group_pools(pools) {
        let key = rm.key;
        let min_pool = rm.min_pool();
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
        let m = rm.pools.len();
        if m < 2 || ns.is_empty() {
            continue;
        }
        let st = rm.total.stats();
        if !st.b.is_finite() {
            return Err(Error::Analysis(format!(
                "decomposition of {key}: the proxy scores have no spread, so gold cannot be regressed on them"
            )));
        }
        let record = rm.record();
        let scores: Vec<&[(f64, f64)]> = rm.pools.iter().map(|p| &p.scores[..]).collect();
        // sorted already (`Pool::scores`): estimated as they are, not copied and sorted again
        let ests = estimate_sorted_pools(&scores, &ns);
        let oracle_ests = rm.oracle_estimates(&ns);
        let loo_stats: Vec<Stats> = rm
            .moments
            .iter()
            .map(|mo| rm.total.minus(*mo).stats())
            .collect();
        for units in [Units::Raw, Units::Standardised] {
            if units == Units::Standardised
                && st.sg.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater)
            {
                continue;
            }
            let mut points = Vec::with_capacity(ns.len());
            for (k, &n) in ns.iter().enumerate() {
                let sum_p: f64 = ests.iter().map(|e| e.proxy[k]).sum();
                let sum_g: f64 = ests.iter().map(|e| e.gold[k]).sum();
                let sum_o: f64 = oracle_ests.iter().map(|e| e[k]).sum();
                let mf = m as f64;
                let [reg, ext, gap, dp, dg, orc] =
                    sample_parts(&st, units, sum_p / mf, sum_g / mf, sum_o / mf);
                // Jackknife: leave out prompt j (its samples in the regression and the
                // standard deviations, its best-of-n estimates).
                let mut jr = Vec::with_capacity(m);
                let mut je = Vec::with_capacity(m);
                let mut jo = Vec::with_capacity(m);
                for (j, e) in ests.iter().enumerate() {
                    let loo = |sum: f64, v: f64| (sum - v) / (mf - 1.0);
                    let [r, x, _, _, _, o] = sample_parts(
                        &loo_stats[j],
                        units,
                        loo(sum_p, e.proxy[k]),
                        loo(sum_g, e.gold[k]),
                        loo(sum_o, oracle_ests[j][k]),
                    );
                    jr.push(r);
                    je.push(x);
                    jo.push(o);
                }
                points.push(GapPoint {
                    kl: analytic_kl(n),
                    proxy: dp,
                    gold: dg,
                    regressional: reg,
                    extremal: ext,
                    residual: gap - reg - ext,
                    regressional_se: jackknife(&jr),
                    extremal_se: jackknife(&je),
                    oracle: Some(orc),
                    oracle_se: jackknife(&jo),
                });
            }
            let best = points
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.gold.total_cmp(&b.1.gold))
                .map(|(i, _)| i);
            let at_peak = best.filter(|&i| i + 1 < points.len()).map(|i| points[i]);
            let oracle = ns
                .iter()
                .zip(&points)
                .map(|(&n, p)| OraclePoint {
                    n,
                    kl: p.kl,
                    gold: p.oracle.unwrap_or(f64::NAN),
                    gold_se: p.oracle_se,
                })
                .collect();
            out.push(Decomposition {
                key,
                source: DecompositionSource::Samples,
                form: FormId::Bon,
                at_max_kl: points.last().copied(),
                at_peak,
                at_peak_reason: None,
                se_method: None,
                fits_ci: None,
                points,
                grid: Vec::new(),
                units,
                reference: Some(record.clone()),
                oracle,
                law: None,
            });
        }
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
            at_peak_reason: self.at_peak_reason.clone(),
            se_method: self.se_method.clone(),
            at_max_kl: self.at_max_kl,
            units: self.units,
            reference: self.reference.clone(),
            oracle: self.oracle.clone(),
        }
    }

    /// The largest |residual| over the observed points (0 from samples).
    pub fn max_abs_residual(&self) -> f64 {
        self.points
            .iter()
            .map(|p| p.residual.abs())
            .filter(|r| r.is_finite())
            .fold(0.0, f64::max)
    }

    /// The largest |proxy - gold| over the observed points.
    pub fn max_abs_gap(&self) -> f64 {
        self.points
            .iter()
            .map(|p| p.gap().abs())
            .filter(|r| r.is_finite())
            .fold(0.0, f64::max)
    }
}

/// The decompositions to show: for each curve and source, the standardised one when there is
/// one, else the raw one (in the order given).
pub fn preferred(decs: &[Decomposition]) -> Vec<&Decomposition> {
    decs.iter()
        .filter(|d| {
            d.units == Units::Standardised
                || !decs.iter().any(|o| {
                    o.units == Units::Standardised && o.key == d.key && o.source == d.source
                })
        })
        .collect()
}

/// The two estimates of one curve compared at the same KL and in the same units: the parts
/// from coefficients evaluated (through their law) at the samples' largest n.
///
/// They differ by definition, not only by noise: from samples, a proxy whose best-of-n gold
/// score is exactly `a + b proxy_bon` is all regressional, `(1 - b) proxy_bon(d)`; from
/// coefficients the same proxy gives `(alpha_p - alpha_g) d = (1 - b) alpha_p d`, and the
/// `(1 - b) (alpha_p d - proxy_bon(d))` by which the proxy's own curve departs from its linear
/// term (its bend `beta_p f(d)` and its fit's residual) is counted as extremal or residual.
/// `expected_difference` is that amount; the z scores are given both raw and after removing
/// it.
#[derive(Debug, Clone, PartialEq)]
pub struct Agreement {
    pub key: CurveKey,
    pub units: Units,
    pub kl: f64,
    /// (value, se) from coefficients and from samples.
    pub regressional: [(f64, Option<f64>); 2],
    pub extremal: [(f64, Option<f64>); 2],
    /// `(1 - b) (alpha_proxy d - proxy_bon(d))` (b = rho standardised): regressional from
    /// coefficients minus from samples for a purely regressional proxy; None without a
    /// correlation.
    pub expected_difference: Option<f64>,
    /// How the from-coefficients fits' errors were computed.
    pub fits_ci: Option<CiMethod>,
}

impl Agreement {
    /// (difference coefficients - samples, its z score with the two errors combined as if
    /// independent) of the regressional and of the extremal part.
    pub fn z(&self) -> [(f64, Option<f64>); 2] {
        [self.regressional, self.extremal].map(|[(a, sa), (b, sb)]| {
            let d = a - b;
            (d, sa.zip(sb).map(|(x, y)| d / (x * x + y * y).sqrt()))
        })
    }

    /// The z score of the regressional difference after removing `expected_difference`.
    pub fn z_regressional_adjusted(&self) -> Option<f64> {
        let [(a, sa), (b, sb)] = self.regressional;
        let e = self.expected_difference?;
        sa.zip(sb)
            .map(|(x, y)| (a - b - e) / (x * x + y * y).sqrt())
    }
}

/// The agreement of the two estimates for every curve that has both, in the same units.
pub fn agreement(decs: &[Decomposition]) -> Vec<Agreement> {
    let mut out = Vec::new();
    for s in decs
        .iter()
        .filter(|d| d.source == DecompositionSource::Samples)
    {
        let Some(last) = s.at_max_kl else { continue };
        let Some(c) = decs.iter().find(|c| {
            c.source == DecompositionSource::Coefficients && c.key == s.key && c.units == s.units
        }) else {
            continue;
        };
        let Some(law) = c.law else { continue };
        let (r, rse, e, ese) = law.at(last.kl);
        let b = s.reference.as_ref().and_then(|r| {
            let rho = r.rho?;
            Some(match s.units {
                Units::Standardised => rho,
                Units::Raw => rho * r.gold_sd / r.proxy_sd,
            })
        });
        let d = last.kl.sqrt();
        out.push(Agreement {
            key: s.key,
            units: s.units,
            kl: last.kl,
            regressional: [(r, rse), (last.regressional, last.regressional_se)],
            extremal: [(e, ese), (last.extremal, last.extremal_se)],
            expected_difference: b.map(|b| (1.0 - b) * (law.alpha_proxy * d - last.proxy)),
            fits_ci: c.fits_ci,
        });
    }
    out
}

/// Decomposes the curves from the document's fits ([`from_fits`], standardised by `refs` where
/// they have a reference) and records the result in the document's `"decomposition"` (every
/// decomposition, raw and standardised); returns the decompositions (for figures and reports)
/// and warnings (curves decomposed in raw units only).
pub fn decompose(
    doc: &mut FitsDocument,
    curves: &[Curve],
    refs: &[Reference],
) -> (Vec<Decomposition>, Vec<String>) {
    // Only proxy fits can be decomposed.
    if !doc.fits.iter().any(|f| f.target == Target::Proxy) {
        return (Vec::new(), Vec::new());
    }
    let decs = from_fits(curves, &doc.fits, refs);
    doc.decomposition = decs.iter().map(Decomposition::record).collect();
    let raw_only: Vec<CurveKey> = decs
        .iter()
        .filter(|d| {
            d.units == Units::Raw
                && !decs
                    .iter()
                    .any(|o| o.units == Units::Standardised && o.key == d.key)
        })
        .map(|d| d.key)
        .collect();
    let mut warnings = Vec::new();
    let no_baseline: Vec<CurveKey> = curves
        .iter()
        .filter(|c| c.proxy.is_some() && !has_baseline(c))
        .filter(|c| {
            doc.fits
                .iter()
                .any(|r| r.target == Target::Proxy && r.key() == c.key)
        })
        .map(|c| c.key)
        .collect();
    if !no_baseline.is_empty() {
        warnings.push(format!(
            "no Goodhart decomposition of {}: no KL = 0 point with both a gold and a proxy score to measure the gains from",
            curve_list(&no_baseline)
        ));
    }
    if !raw_only.is_empty() {
        warnings.push(format!(
            "Goodhart decomposition of {} in raw units only: no initial-policy reference to standardise proxy and gold by, so 'regressional' mixes the Goodhart effect with the ratio of the two scales (give --reference SAMPLES or --reference proxy_sd=X,gold_sd=Y; --reference none if the proxy is already on the gold scale)",
            curve_list(&raw_only)
        ));
    }
    (decs, warnings)
}

/// The count of from-coefficients decompositions among `decs` whose regressional part at the
/// largest KL is negative (and of those more than 1.96 standard errors below 0), in words for a
/// caption; None when there is none.
pub fn negative_regressional_words(decs: &[&Decomposition]) -> Option<String> {
    let coef: Vec<&&Decomposition> = decs
        .iter()
        .filter(|d| d.source == DecompositionSource::Coefficients)
        .collect();
    let neg: Vec<GapPoint> = coef
        .iter()
        .filter_map(|d| d.at_max_kl)
        .filter(|p| p.regressional < 0.0)
        .collect();
    if neg.is_empty() {
        return None;
    }
    let sig = neg
        .iter()
        .filter(|p| {
            p.regressional_se
                .is_some_and(|se| p.regressional + 1.96 * se < 0.0)
        })
        .count();
    Some(format!(
        "The regressional part from fits is negative at the largest KL on {} of {} curves ({sig} by more than 1.96 standard errors): for the RL form α·d − β·d·ln d, whose slope is infinite at d → 0, α trades off against β and is poorly determined (and shared by an RM's runs with a shared α), so read it as unreliable",
        neg.len(),
        coef.len()
    ))
}

/// A short list of curves for a warning: the count by method, the first few and "and N more".
pub fn curve_list(keys: &[CurveKey]) -> String {
    const FIRST: usize = 3;
    let mut methods: Vec<(Method, usize)> = Vec::new();
    for k in keys {
        match methods.iter_mut().find(|(m, _)| *m == k.method) {
            Some((_, n)) => *n += 1,
            None => methods.push((k.method, 1)),
        }
    }
    let counts: Vec<String> = methods.iter().map(|(m, n)| format!("{n} {m}")).collect();
    let first: Vec<String> = keys.iter().take(FIRST).map(key_label).collect();
    let more = if keys.len() > FIRST {
        format!(" and {} more", keys.len() - FIRST)
    } else {
        String::new()
    };
    format!(
        "{} curve(s) ({}: {}{more})",
        keys.len(),
        counts.join(", "),
        first.join(", ")
    )
}

/// How big the residual is next to the gap, from the numbers: for each curve decomposed from
/// coefficients, the largest |residual| over its observed points against its largest |gap|;
/// "small" only when that share is at most 10% on every curve.
pub fn residual_words(decs: &[&Decomposition]) -> String {
    let coef: Vec<&&Decomposition> = decs
        .iter()
        .filter(|d| d.source == DecompositionSource::Coefficients)
        .collect();
    if coef.is_empty() {
        return "The residual is 0 from samples (the two parts add up to the gap by construction)"
            .to_string();
    }
    let share = |d: &Decomposition| {
        let g = d.max_abs_gap();
        if g > 0.0 {
            d.max_abs_residual() / g
        } else {
            0.0
        }
    };
    let worst = coef
        .iter()
        .copied()
        .max_by(|a, b| share(a).total_cmp(&share(b)))
        .copied();
    let Some(w) = worst else {
        return String::new();
    };
    let r_max = coef
        .iter()
        .map(|d| d.max_abs_residual())
        .fold(0.0, f64::max);
    let size = if share(w) <= 0.1 {
        "small"
    } else {
        "not small"
    };
    format!(
        "The residual of the fits (what the two fitted forms leave unexplained at the observed points) is {size}: at most {} in absolute value over the curves shown; the largest share is {:.0}% of the curve's largest |gap| ({}, residual {} against gap {})",
        g6(r_max),
        100.0 * share(w),
        key_label(&w.key),
        g6(w.max_abs_residual()),
        g6(w.max_abs_gap())
    )
}

/// How far the two estimates are apart, in words (for captions): the largest |difference| of
/// the regressional parts at the largest n over `agreements`, and the largest |z|.
pub fn agreement_words(agreements: &[Agreement]) -> Option<String> {
    let worst = agreements.iter().max_by(|a, b| {
        let d = |x: &Agreement| x.z()[0].0.abs();
        d(a).total_cmp(&d(b))
    })?;
    let z_max = agreements
        .iter()
        .filter_map(|a| a.z()[0].1)
        .map(f64::abs)
        .fold(0.0, f64::max);
    let [(fits, _), (samples, _)] = worst.regressional;
    Some(format!(
        "At the largest n the regressional parts from fits and from samples differ by up to {} ({}: {} from fits, {} from samples; |z| up to {} with the two errors combined as if independent, though both estimates come from the same samples{}): the two estimates split the gap differently (by functional form, by the initial-policy regression) and are not interchangeable",
        g6((fits - samples).abs()),
        key_label(&worst.key),
        g6(fits),
        g6(samples),
        crate::format::sig(z_max, 2),
        fits_error_words(agreements.iter().map(|a| a.fits_ci))
    ))
}

/// What the from-coefficients errors rest on, from the fits' `ci_method` (for captions and
/// table notes): "" when every fit was bootstrapped over prompts, else a warning that the
/// t-interval errors ignore the shared pools of best-of-n points.
pub fn fits_error_words(cis: impl IntoIterator<Item = Option<CiMethod>>) -> &'static str {
    let cis: Vec<CiMethod> = cis.into_iter().flatten().collect();
    let boot = cis.iter().filter(|c| **c == CiMethod::Bootstrap).count();
    if boot == cis.len() {
        "; the fits' errors are bootstrapped over prompts"
    } else if boot == 0 {
        "; the fits' errors are t-intervals, which ignore that a best-of-n curve's points share their pools, so |z| is overstated"
    } else {
        "; some fits' errors are t-intervals, which ignore that a best-of-n curve's points share their pools (|z| overstated there), the others are bootstrapped over prompts"
    }
}

/// The panel count of a decomposition figure in words: `panels` panels for `shown_sizes` of
/// `all_sizes` RM sizes, `n_estimates` estimates (from fits, from samples) side by side.
pub fn panel_words(
    panels: usize,
    shown_sizes: usize,
    all_sizes: usize,
    n_estimates: usize,
) -> String {
    let per = if n_estimates > 1 {
        format!("One panel per RM size and estimate ({n_estimates} estimates side by side)")
    } else {
        "One panel per RM size".to_string()
    };
    let sizes = if shown_sizes < all_sizes {
        format!("{shown_sizes} of {all_sizes} RM sizes shown")
    } else {
        format!("all {all_sizes} RM sizes shown")
    };
    format!("{per}: {panels} panels, {sizes}")
}

/// The text table `goodhart fit` prints: the gap and its parts at the peak and at the largest
/// KL, in standardised units where there is a reference (raw otherwise; the fits JSON has both).
pub fn report_text(decs: &[Decomposition]) -> String {
    use std::fmt::Write as _;
    if decs.is_empty() {
        return String::new();
    }
    let shown = preferred(decs);
    let mut s = String::from(
        "\nGoodhart decomposition (proxy - gold = regressional + extremal + residual, from the kl = 0 baselines; standardised = in standard deviations of each score under the initial policy)\n",
    );
    for d in &shown {
        let rho = d
            .reference
            .as_ref()
            .and_then(|r| r.rho)
            .map(|r| format!(", rho {}", crate::format::sig(r, 3)))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "[[{} ({}, form {}, {}{rho})]]",
            d.key,
            d.source.as_str(),
            d.form,
            d.units.as_str()
        );
        for (label, p) in [("at peak", d.at_peak), ("at max KL", d.at_max_kl)] {
            match p {
                None => {
                    let why = match (label, &d.at_peak_reason) {
                        ("at peak", Some(r)) => r.as_str(),
                        _ => "no peak",
                    };
                    let _ = writeln!(s, "    {label:<10} {why}");
                }
                Some(p) => {
                    let oracle = p
                        .oracle
                        .map(|o| format!(" oracle - gold {}", pm(o - p.gold, p.oracle_se)))
                        .unwrap_or_default();
                    let _ = writeln!(
                        s,
                        "    {label:<10} KL {:<10} gap {:<10} regressional {:<24} extremal {:<24} residual {}{oracle}",
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
    let _ = writeln!(s, "{}.", residual_words(&shown));
    for a in agreement(decs)
        .iter()
        .filter(|a| shown.iter().any(|d| d.units == a.units && d.key == a.key))
    {
        let [(dr, zr), (de, ze)] = a.z();
        let z = |z: Option<f64>| {
            z.map(|z| format!(" ({} se)", crate::format::sig(z, 2)))
                .unwrap_or_default()
        };
        let _ = writeln!(
            s,
            "    agreement {} ({}) at KL {}: regressional fits - samples {}{}, of which (1 - b)(alpha_proxy d - proxy) = {} by definition (rest{}); extremal {}{}",
            key_label(&a.key),
            a.units.as_str(),
            g6(a.kl),
            g6(dr),
            z(zr),
            a.expected_difference.map(g6).unwrap_or_else(|| "?".into()),
            z(a.z_regressional_adjusted()),
            g6(de),
            z(ze)
        );
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
