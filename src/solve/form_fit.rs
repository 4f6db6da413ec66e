//! Fitting any form to points: linear forms exactly (QR), the `power` form by nonlinear least
//! squares from several starting points, with the solver's termination reason in the notes.

use nalgebra::DMatrix;

use super::fitted::{FittedForm, Points, statistics};
use super::linear::{LinearError, LinearSolution, solve_linear};
use super::nonlinear::{LeastSquares, SolverOptions, solve};
use crate::forms::{FormId, PowerForm};

/// An unfitted linear form: `fit` turns points into a [`FittedForm`].
#[derive(Debug, Clone, Copy)]
pub struct LinearFit {
    pub form: FormId,
}

impl LinearFit {
    pub fn new(form: FormId) -> Self {
        LinearFit { form }
    }

    /// The design matrix: one row of basis functions per point (for a linear form, the
    /// gradient at any parameters; see [`jacobian`]).
    pub fn design(&self, d: &[f64]) -> DMatrix<f64> {
        let zeros = vec![0.0; self.form.form().param_names().len()];
        jacobian(self.form, &zeros, d)
    }

    pub fn fit(&self, pts: &Points) -> Result<FittedForm, LinearError> {
        let x = self.design(&pts.d);
        let sol = solve_linear(&x, &pts.y, pts.w.as_deref())?;
        Ok(statistics(
            self.form,
            self.form.form().param_names(),
            pts,
            &sol,
        ))
    }
}

/// The Jacobian ∂R(dᵢ)/∂pⱼ of a form at the given parameters (for a linear form: its design
/// matrix, whatever the parameters).
pub fn jacobian(form: FormId, params: &[f64], d: &[f64]) -> DMatrix<f64> {
    let f = form.form();
    let p = f.param_names().len();
    let mut x = DMatrix::zeros(d.len(), p);
    let mut row = vec![0.0; p];
    for (i, &d) in d.iter().enumerate() {
        f.gradient(params, d, &mut row);
        for j in 0..p {
            x[(i, j)] = row[j];
        }
    }
    x
}

/// Fits a form to points: exactly for a linear form, by nonlinear least squares otherwise.
/// `Err` carries the reason there is no fit (singular, no convergence).
pub fn fit_points(form: FormId, pts: &Points) -> Result<FittedForm, String> {
    match form {
        FormId::Power => fit_power(pts),
        _ => LinearFit::new(form).fit(pts).map_err(|e| match e {
            LinearError::OutOfRange { .. } => e.to_string(),
            e => format!("no unique fit: {e}"),
        }),
    }
}

/// d(alpha - beta d^gamma) in the solver's parameters (alpha, beta, ln gamma), which keep
/// gamma > 0; residuals are weighted by sqrt(w).
struct PowerProblem<'a> {
    pts: &'a Points,
}

impl PowerProblem<'_> {
    fn natural(p: &[f64]) -> [f64; 3] {
        [p[0], p[1], p[2].exp()]
    }
    fn sqrt_w(&self, i: usize) -> f64 {
        self.pts.w.as_ref().map_or(1.0, |w| w[i].sqrt())
    }
}

impl LeastSquares for PowerProblem<'_> {
    fn n_params(&self) -> usize {
        3
    }
    fn n_residuals(&self) -> usize {
        self.pts.d.len()
    }
    fn residuals(&self, p: &[f64], out: &mut [f64]) {
        let q = Self::natural(p);
        for (i, r) in out.iter_mut().enumerate() {
            *r = self.sqrt_w(i)
                * (self.pts.y[i] - crate::forms::Form::eval(&PowerForm, &q, self.pts.d[i]));
        }
    }
    fn jacobian(&self, p: &[f64], out: &mut DMatrix<f64>) {
        let q = Self::natural(p);
        let mut g = [0.0; 3];
        for i in 0..self.pts.d.len() {
            crate::forms::Form::gradient(&PowerForm, &q, self.pts.d[i], &mut g);
            let s = -self.sqrt_w(i);
            out[(i, 0)] = s * g[0];
            out[(i, 1)] = s * g[1];
            // ∂/∂ln(gamma) = gamma ∂/∂gamma
            out[(i, 2)] = s * g[2] * q[2];
        }
    }
}

/// The gammas the power fit starts from; at each, (alpha, beta) start at their exact linear
/// least-squares values for that gamma.
pub const POWER_START_GAMMAS: [f64; 5] = [0.05, 0.25, 0.5, 1.0, 2.0];

fn fit_power(pts: &Points) -> Result<FittedForm, String> {
    let n = pts.d.len();
    if n < 3 {
        return Err(format!("no unique fit: {n} point(s) for 3 parameters"));
    }
    let w = pts.w.as_deref();
    let starts: Vec<Vec<f64>> = POWER_START_GAMMAS
        .iter()
        .filter_map(|&g| {
            let x = jacobian(FormId::Power, &[0.0, 1.0, g], &pts.d);
            let cols = x.columns(0, 2).into_owned();
            let s = solve_linear(&cols, &pts.y, w).ok()?;
            Some(vec![s.coef[0], s.coef[1], g.ln()])
        })
        .collect();
    if starts.is_empty() {
        return Err(
            "no unique fit: no starting point could be computed (d^gamma collinear with d)"
                .to_string(),
        );
    }
    let problem = PowerProblem { pts };
    let sol =
        solve(&problem, &starts, &SolverOptions::default()).map_err(|e| format!("no fit: {e}"))?;
    let q = PowerProblem::natural(&sol.params);
    let converged_starts = sol.starts.iter().filter(|s| s.converged).count();
    let solver_note = format!(
        "nonlinear least squares (Levenberg-Marquardt, {} starts, {} converged): {}",
        sol.starts.len(),
        converged_starts,
        sol.termination
    );
    if !sol.converged {
        return Err(format!("did not converge: {solver_note}"));
    }
    // Covariance in the natural parameters (alpha, beta, gamma): (JᵀWJ)⁻¹ of the form's own
    // gradient at the solution, the usual linearisation.
    let jac = jacobian(FormId::Power, &q, &pts.d);
    let lin = solve_linear(&jac, &vec![0.0; n], w).map_err(|e| {
        format!("no unique fit: the Jacobian at the solution is singular ({e}); {solver_note}")
    })?;
    let residuals: Vec<f64> = (0..n)
        .map(|i| pts.y[i] - crate::forms::Form::eval(&PowerForm, &q, pts.d[i]))
        .collect();
    let chisqr = residuals
        .iter()
        .enumerate()
        .map(|(i, r)| w.map_or(1.0, |w| w[i]) * r * r)
        .sum();
    let linearised = LinearSolution {
        coef: q.to_vec(),
        cov_unscaled: lin.cov_unscaled,
        chisqr,
        residuals,
        condition: lin.condition,
    };
    let mut fitted = statistics(
        FormId::Power,
        crate::forms::Form::param_names(&PowerForm),
        pts,
        &linearised,
    );
    fitted.notes.insert(0, solver_note);
    Ok(fitted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forms::Form;

    #[test]
    fn power_fit_recovers_exact_parameters() -> Result<(), Box<dyn std::error::Error>> {
        let d: Vec<f64> = (1..=30).map(|i| i as f64 * 0.2).collect();
        let truth = [0.9, 0.15, 0.6];
        let y = d.iter().map(|&d| PowerForm.eval(&truth, d)).collect();
        let f = fit_points(FormId::Power, &Points { d, y, w: None })?;
        for (p, t) in f.params.iter().zip(truth) {
            assert!((p.value - t).abs() < 1e-9, "{}: {} vs {t}", p.name, p.value);
        }
        assert!(f.notes[0].contains("converged"), "{}", f.notes[0]);
        Ok(())
    }

    #[test]
    fn power_with_gamma_one_equals_the_bon_fit() -> Result<(), Box<dyn std::error::Error>> {
        // Noisy best-of-n data: the power fit's SSE can only be at most the bon fit's.
        let d: Vec<f64> = (1..=25).map(|i| i as f64 * 0.15).collect();
        let y: Vec<f64> = d
            .iter()
            .enumerate()
            .map(|(i, &d)| d * (0.7 - 0.2 * d) + if i % 2 == 0 { 0.01 } else { -0.01 })
            .collect();
        let pts = Points { d, y, w: None };
        let bon = fit_points(FormId::Bon, &pts)?;
        let pow = fit_points(FormId::Power, &pts)?;
        assert!(pow.stats.chisqr <= bon.stats.chisqr * (1.0 + 1e-12));
        Ok(())
    }
}

#[cfg(test)]
mod linear_fit_tests {
    use super::*;
    use crate::forms::FormId;
    use crate::solve::linear::LinearError;

    #[test]
    fn recovers_exact_law_with_zero_residuals() -> Result<(), Box<dyn std::error::Error>> {
        let d: Vec<f64> = (1..=20).map(|i| i as f64 * 0.2).collect();
        let y: Vec<f64> = d.iter().map(|d| d * (0.5 - 0.1 * d)).collect();
        let f = LinearFit::new(FormId::Bon).fit(&Points { d, y, w: None })?;
        assert!((f.params[0].value - 0.5).abs() < 1e-14);
        assert!((f.params[1].value - 0.1).abs() < 1e-14);
        assert!(f.stats.rmse < 1e-14);
        Ok(())
    }

    #[test]
    fn equal_kl_everywhere_is_singular_not_a_panic() {
        let pts = Points {
            d: vec![1.0; 5],
            y: vec![0.1, 0.2, 0.3, 0.2, 0.1],
            w: None,
        };
        let e = LinearFit::new(FormId::Bon).fit(&pts);
        assert!(matches!(e, Err(LinearError::Singular { .. })), "{e:?}");
    }

    #[test]
    fn exact_points_count_has_no_error_bars() -> Result<(), Box<dyn std::error::Error>> {
        let pts = Points {
            d: vec![1.0, 2.0],
            y: vec![0.4, 0.6],
            w: None,
        };
        let f = LinearFit::new(FormId::Bon).fit(&pts)?;
        assert!(f.params[0].se.is_none());
        assert!(f.notes[0].contains("no degrees of freedom"));
        Ok(())
    }
}
