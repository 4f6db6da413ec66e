//! The functional forms of gold score against distance d = sqrt(KL), with their peaks.
//!
//! Each form documents its formula, the basis it is linear in, and where it peaks
//! (Gao, Schulman, Hilton 2022, "Scaling Laws for Reward Model Overoptimization").

use serde::{Deserialize, Serialize};

/// Where a curve reaches its maximum.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Peak {
    /// d* = sqrt(KL*)
    pub d: f64,
    /// KL* in nats
    pub kl: f64,
    /// The score at the peak
    pub score: f64,
}

impl Peak {
    fn at(d: f64, score: f64) -> Option<Peak> {
        let kl = d * d;
        (d.is_finite() && kl.is_finite() && score.is_finite() && d > 0.0).then_some(Peak {
            d,
            kl,
            score,
        })
    }
}

/// A functional form R(d; params) of score against d = sqrt(KL).
pub trait Form: Send + Sync {
    /// Short name, as used by `--form` and in the fits JSON.
    fn id(&self) -> &'static str;
    /// The formula, in the parameter names.
    fn formula(&self) -> &'static str;
    /// The parameter names, in order.
    fn param_names(&self) -> &'static [&'static str];
    /// R(d) for the given parameters.
    fn eval(&self, params: &[f64], d: f64) -> f64;
    /// The maximum over d > 0, or `None` when the form has none there.
    fn peak(&self, params: &[f64]) -> Option<Peak>;
    /// ∂R/∂params at d (the Jacobian row of a least-squares fit); for a linear form, its basis.
    fn gradient(&self, params: &[f64], d: f64, out: &mut [f64]);
}

/// A form that is linear in its parameters: `R(d) = sum_j params[j] * basis_j(d)`.
pub trait LinearForm: Form {
    /// Writes the basis functions at d into `row` (length = number of parameters).
    fn basis(&self, d: f64, row: &mut [f64]);
}

/// Best-of-n: `R(d) = d (alpha - beta d) = alpha d - beta d^2`.
///
/// Basis (d, -d²). For alpha > 0 and beta > 0 it peaks at d* = alpha / (2 beta) with
/// R* = alpha² / (4 beta); with beta <= 0 it never turns down, and with alpha <= 0 its
/// maximum over d >= 0 is at the origin, so there is no peak.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use goodhart::forms::{BonForm, Form, LinearForm};
/// let (alpha, beta) = (1.0, 0.25);
/// assert_eq!(BonForm.eval(&[alpha, beta], 2.0), 2.0 * (1.0 - 0.25 * 2.0));
/// let peak = BonForm.peak(&[alpha, beta]).ok_or("no peak")?;
/// assert_eq!((peak.d, peak.kl, peak.score), (2.0, 4.0, 1.0));
/// let mut row = [0.0; 2];
/// BonForm.basis(3.0, &mut row);
/// assert_eq!(row, [3.0, -9.0]);
/// assert!(BonForm.peak(&[alpha, -0.1]).is_none());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct BonForm;

impl Form for BonForm {
    fn id(&self) -> &'static str {
        "bon"
    }
    fn formula(&self) -> &'static str {
        "d*(alpha - beta*d)"
    }
    fn param_names(&self) -> &'static [&'static str] {
        &["alpha", "beta"]
    }
    fn eval(&self, p: &[f64], d: f64) -> f64 {
        d * (p[0] - p[1] * d)
    }
    fn peak(&self, p: &[f64]) -> Option<Peak> {
        let (alpha, beta) = (p[0], p[1]);
        if beta <= 0.0 || alpha <= 0.0 {
            return None;
        }
        Peak::at(alpha / (2.0 * beta), alpha * alpha / (4.0 * beta))
    }
    fn gradient(&self, _: &[f64], d: f64, out: &mut [f64]) {
        self.basis(d, out);
    }
}

impl LinearForm for BonForm {
    fn basis(&self, d: f64, row: &mut [f64]) {
        row[0] = d;
        row[1] = -d * d;
    }
}

/// d ln d, continued by its limit 0 at d = 0.
fn d_ln_d(d: f64) -> f64 {
    if d == 0.0 { 0.0 } else { d * d.ln() }
}

/// RL: `R(d) = d (alpha - beta ln d) = alpha d - beta d ln d`.
///
/// Basis (d, -d ln d), with d ln d = 0 at d = 0. For beta > 0 it peaks at
/// d* = exp(alpha/beta - 1) with R* = beta d*, and returns to 0 at d = exp(alpha/beta);
/// with beta <= 0 there is no peak. The slope is infinite at d -> 0, and the authors note the
/// form "likely does not hold near the origin".
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use goodhart::forms::{Form, LinearForm, RlForm};
/// let (alpha, beta) = (1.0, 0.5);
/// let d = 2.0_f64;
/// assert_eq!(RlForm.eval(&[alpha, beta], d), d * (alpha - beta * d.ln()));
/// let peak = RlForm.peak(&[alpha, beta]).ok_or("no peak")?;
/// assert!((peak.d - 1.0_f64.exp()).abs() < 1e-15);  // exp(alpha/beta - 1) = e
/// assert!((peak.score - beta * peak.d).abs() < 1e-15);
/// let zero = (alpha / beta).exp();
/// assert!(RlForm.eval(&[alpha, beta], zero).abs() < 1e-12);
/// let mut row = [0.0; 2];
/// RlForm.basis(0.0, &mut row);
/// assert_eq!(row, [0.0, 0.0]);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct RlForm;

impl Form for RlForm {
    fn id(&self) -> &'static str {
        "rl"
    }
    fn formula(&self) -> &'static str {
        "d*(alpha - beta*ln(d))"
    }
    fn param_names(&self) -> &'static [&'static str] {
        &["alpha", "beta"]
    }
    fn eval(&self, p: &[f64], d: f64) -> f64 {
        p[0] * d - p[1] * d_ln_d(d)
    }
    fn peak(&self, p: &[f64]) -> Option<Peak> {
        let (alpha, beta) = (p[0], p[1]);
        if beta <= 0.0 {
            return None;
        }
        let d = (alpha / beta - 1.0).exp();
        Peak::at(d, beta * d)
    }
    fn gradient(&self, _: &[f64], d: f64, out: &mut [f64]) {
        self.basis(d, out);
    }
}

impl LinearForm for RlForm {
    fn basis(&self, d: f64, row: &mut [f64]) {
        row[0] = d;
        row[1] = -d_ln_d(d);
    }
}

/// The rejected log alternative: `R(d) = d (alpha - beta ln(1 + d)) = alpha d - beta d ln(1+d)`.
///
/// Basis (d, -d ln(1+d)); unlike the RL form its slope at d = 0 is finite (alpha). For alpha > 0
/// and beta > 0 it peaks where alpha/beta = ln(1+d) + d/(1+d), found by bisection (the right
/// side increases with d); otherwise there is no peak.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use goodhart::forms::{Form, LinearForm, RlLog1pForm};
/// let p = [1.0, 0.5];
/// let d = 2.0_f64;
/// assert!((RlLog1pForm.eval(&p, d) - d * (1.0 - 0.5 * 3.0_f64.ln())).abs() < 1e-15);
/// let peak = RlLog1pForm.peak(&p).ok_or("no peak")?;
/// // at the peak the derivative alpha - beta ln(1+d) - beta d/(1+d) vanishes
/// let slope = 1.0 - 0.5 * (1.0 + peak.d).ln() - 0.5 * peak.d / (1.0 + peak.d);
/// assert!(slope.abs() < 1e-12);
/// let mut row = [0.0; 2];
/// RlLog1pForm.basis(1.0, &mut row);
/// assert_eq!(row, [1.0, -(2.0_f64.ln())]);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct RlLog1pForm;

impl Form for RlLog1pForm {
    fn id(&self) -> &'static str {
        "rl-log1p"
    }
    fn formula(&self) -> &'static str {
        "d*(alpha - beta*ln(1+d))"
    }
    fn param_names(&self) -> &'static [&'static str] {
        &["alpha", "beta"]
    }
    fn eval(&self, p: &[f64], d: f64) -> f64 {
        d * (p[0] - p[1] * d.ln_1p())
    }
    fn peak(&self, p: &[f64]) -> Option<Peak> {
        let (alpha, beta) = (p[0], p[1]);
        if !(alpha > 0.0 && beta > 0.0) {
            return None;
        }
        let target = alpha / beta;
        let g = |d: f64| d.ln_1p() + d / (1.0 + d) - target;
        let mut hi = 1.0;
        while g(hi) < 0.0 {
            hi *= 2.0;
            if !hi.is_finite() {
                return None;
            }
        }
        let mut lo = 0.0;
        for _ in 0..2000 {
            let mid = 0.5 * (lo + hi);
            if mid <= lo || mid >= hi {
                break;
            }
            if g(mid) < 0.0 { lo = mid } else { hi = mid }
        }
        let d = 0.5 * (lo + hi);
        Peak::at(d, self.eval(p, d))
    }
    fn gradient(&self, _: &[f64], d: f64, out: &mut [f64]) {
        self.basis(d, out);
    }
}

impl LinearForm for RlLog1pForm {
    fn basis(&self, d: f64, row: &mut [f64]) {
        row[0] = d;
        row[1] = -d * d.ln_1p();
    }
}

/// The rejected power alternative: `R(d) = d (alpha - beta d^gamma)`, gamma > 0; nonlinear in
/// gamma, fitted by nonlinear least squares. gamma = 1 is the best-of-n form, and gamma -> 0
/// approaches the log form (the paper found small best-fit gammas).
///
/// For alpha, beta, gamma > 0 it peaks at d* = (alpha / (beta (1 + gamma)))^(1/gamma) with
/// R* = alpha d* gamma / (1 + gamma).
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use goodhart::forms::{BonForm, Form, PowerForm};
/// let p = [1.0, 0.25, 1.0];
/// // gamma = 1 is the best-of-n form
/// assert_eq!(PowerForm.eval(&p, 3.0), BonForm.eval(&p[..2], 3.0));
/// let peak = PowerForm.peak(&p).ok_or("no peak")?;
/// assert!((peak.d - 2.0).abs() < 1e-15 && (peak.score - 1.0).abs() < 1e-15);
/// let mut g = [0.0; 3];
/// PowerForm.gradient(&p, 2.0, &mut g);
/// assert_eq!(g[0], 2.0);
/// assert_eq!(g[1], -4.0);
/// assert!((g[2] - (-0.25 * 4.0 * 2.0_f64.ln())).abs() < 1e-15);
/// assert!(PowerForm.peak(&[1.0, 0.25, -0.5]).is_none());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct PowerForm;

impl Form for PowerForm {
    fn id(&self) -> &'static str {
        "power"
    }
    fn formula(&self) -> &'static str {
        "d*(alpha - beta*d^gamma)"
    }
    fn param_names(&self) -> &'static [&'static str] {
        &["alpha", "beta", "gamma"]
    }
    fn eval(&self, p: &[f64], d: f64) -> f64 {
        if d == 0.0 {
            return 0.0;
        }
        d * (p[0] - p[1] * d.powf(p[2]))
    }
    fn peak(&self, p: &[f64]) -> Option<Peak> {
        let (alpha, beta, gamma) = (p[0], p[1], p[2]);
        if !(alpha > 0.0 && beta > 0.0 && gamma > 0.0) {
            return None;
        }
        let d = (alpha / (beta * (1.0 + gamma))).powf(1.0 / gamma);
        Peak::at(d, alpha * d * gamma / (1.0 + gamma))
    }
    fn gradient(&self, p: &[f64], d: f64, out: &mut [f64]) {
        if d == 0.0 {
            out[..3].fill(0.0);
            return;
        }
        let dg1 = d.powf(1.0 + p[2]);
        out[0] = d;
        out[1] = -dg1;
        out[2] = -p[1] * dg1 * d.ln();
    }
}

/// The forms `--form` can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FormId {
    Bon,
    Rl,
    #[serde(rename = "rl-log1p")]
    RlLog1p,
    Power,
}

impl std::fmt::Display for FormId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.form().id())
    }
}

impl FormId {
    /// Every form, in the order `--compare-forms` lists them before ranking.
    pub const ALL: [FormId; 4] = [FormId::Bon, FormId::Rl, FormId::RlLog1p, FormId::Power];

    /// The form the paper uses for a method.
    pub fn for_method(method: crate::schema::Method) -> FormId {
        match method {
            crate::schema::Method::Bon => FormId::Bon,
            crate::schema::Method::Rl => FormId::Rl,
        }
    }

    /// The form itself.
    pub fn form(self) -> &'static dyn Form {
        match self {
            FormId::Bon => &BonForm,
            FormId::Rl => &RlForm,
            FormId::RlLog1p => &RlLog1pForm,
            FormId::Power => &PowerForm,
        }
    }

    /// The form as a linear one, or `None` for a form that needs nonlinear least squares.
    pub fn linear(self) -> Option<&'static dyn LinearForm> {
        match self {
            FormId::Bon => Some(&BonForm),
            FormId::Rl => Some(&RlForm),
            FormId::RlLog1p => Some(&RlLog1pForm),
            FormId::Power => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rl_curve_returns_to_zero_and_peaks_where_derivative_vanishes()
    -> Result<(), Box<dyn std::error::Error>> {
        let p = [0.8, 0.3];
        let peak = RlForm.peak(&p).ok_or("no peak")?;
        let h = 1e-6;
        let slope = (RlForm.eval(&p, peak.d + h) - RlForm.eval(&p, peak.d - h)) / (2.0 * h);
        assert!(slope.abs() < 1e-8, "slope at peak {slope}");
        assert!((RlForm.eval(&p, peak.d) - peak.score).abs() < 1e-15);
        Ok(())
    }

    #[test]
    fn bon_peak_is_the_maximum() -> Result<(), Box<dyn std::error::Error>> {
        let p = [0.7, 0.2];
        let peak = BonForm.peak(&p).ok_or("no peak")?;
        for k in 0..1000 {
            let d = k as f64 * 0.01;
            assert!(BonForm.eval(&p, d) <= peak.score + 1e-15);
        }
        Ok(())
    }

    #[test]
    fn gradients_match_central_differences() {
        for id in FormId::ALL {
            let form = id.form();
            let p = [0.8, 0.3, 0.6];
            let p = &p[..form.param_names().len()];
            let mut g = vec![0.0; p.len()];
            for d in [0.3, 1.0, 2.7] {
                form.gradient(p, d, &mut g);
                for j in 0..p.len() {
                    let h = 1e-6;
                    let (mut up, mut down) = (p.to_vec(), p.to_vec());
                    up[j] += h;
                    down[j] -= h;
                    let num = (form.eval(&up, d) - form.eval(&down, d)) / (2.0 * h);
                    assert!(
                        (num - g[j]).abs() < 1e-8,
                        "{id:?} d={d} param {j}: {num} vs {}",
                        g[j]
                    );
                }
            }
        }
    }

    #[test]
    fn power_peak_is_where_the_slope_vanishes() -> Result<(), Box<dyn std::error::Error>> {
        let p = [0.9, 0.2, 0.4];
        let peak = PowerForm.peak(&p).ok_or("no peak")?;
        let h = 1e-6;
        let slope = (PowerForm.eval(&p, peak.d + h) - PowerForm.eval(&p, peak.d - h)) / (2.0 * h);
        assert!(slope.abs() < 1e-8, "slope {slope}");
        assert!((PowerForm.eval(&p, peak.d) - peak.score).abs() < 1e-14);
        Ok(())
    }

    #[test]
    fn overflowing_rl_peak_is_none() {
        assert!(RlForm.peak(&[1000.0, 1.0]).is_none());
    }
}
