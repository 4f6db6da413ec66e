//! Nonlinear least squares for the forms that are not linear in their parameters (`power`) and for
//! the power-law scaling fits: a Levenberg-Marquardt solver (the MINPACK port of the
//! `levenberg-marquardt` crate) run from several starting points, with the termination reason
//! of every start reported and the covariance taken from the Jacobian at the solution.

use levenberg_marquardt::{LeastSquaresProblem, LevenbergMarquardt, TerminationReason};
use nalgebra::storage::Owned;
use nalgebra::{DMatrix, DVector, Dyn};

use super::linear::solve_linear;

/// A least-squares problem: minimise Σ rᵢ(p)² over the parameters p (argmin style: the cost
/// is given by its residual vector, and the solver asks for its Jacobian).
pub trait LeastSquares: Sync {
    /// The number of parameters.
    fn n_params(&self) -> usize;
    /// The number of residuals.
    fn n_residuals(&self) -> usize;
    /// Writes the residuals rᵢ(p) into `out` (length [`Self::n_residuals`]).
    fn residuals(&self, p: &[f64], out: &mut [f64]);
    /// Writes ∂rᵢ/∂pⱼ into `out` (n_residuals × n_params).
    fn jacobian(&self, p: &[f64], out: &mut DMatrix<f64>);
}

/// Solver settings.
#[derive(Debug, Clone, Copy)]
pub struct SolverOptions {
    /// Relative tolerance on the reduction of the sum of squares and on the step.
    pub tol: f64,
    /// The solver stops after `patience * (n_params + 1)` residual evaluations per start.
    pub patience: usize,
}

impl Default for SolverOptions {
    fn default() -> Self {
        SolverOptions {
            tol: 30.0 * f64::EPSILON,
            patience: 2000,
        }
    }
}

/// How one start ended.
#[derive(Debug, Clone, PartialEq)]
pub struct StartReport {
    pub start: Vec<f64>,
    pub params: Vec<f64>,
    /// Σ rᵢ² at the end (NaN when it could not be evaluated).
    pub ssr: f64,
    /// The solver's termination reason, in words.
    pub termination: String,
    pub converged: bool,
    pub evaluations: usize,
}

/// The best solution over all starts.
#[derive(Debug, Clone)]
pub struct NonlinearSolution {
    pub params: Vec<f64>,
    /// Σ rᵢ² at the solution.
    pub ssr: f64,
    pub residuals: Vec<f64>,
    /// (JᵀJ)⁻¹ at the solution: the covariance for unit residual variance (`None` when J is
    /// rank deficient there).
    pub cov_unscaled: Option<DMatrix<f64>>,
    /// Condition number of the column-scaled Jacobian at the solution.
    pub condition: f64,
    /// The termination reason of the start that gave the solution.
    pub termination: String,
    pub converged: bool,
    /// Every start, in the order given.
    pub starts: Vec<StartReport>,
}

/// Why there is no solution at all.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NonlinearError {
    #[error("no starting point was given")]
    NoStart,
    #[error("{points} point(s) for {params} parameters")]
    TooFewPoints { points: usize, params: usize },
    #[error("no start reached a finite sum of squares ({0})")]
    NoFiniteStart(String),
}

/// Adapts a [`LeastSquares`] problem to the `levenberg-marquardt` crate.
struct Adapter<'a, P: LeastSquares + ?Sized> {
    problem: &'a P,
    p: DVector<f64>,
    /// The last parameters at which the residuals were finite (the crate stops, and hands back
    /// the offending trial point, when a step leaves the model's domain).
    last_finite: std::cell::RefCell<Option<(DVector<f64>, f64)>>,
}

impl<P: LeastSquares + ?Sized> LeastSquaresProblem<f64, Dyn, Dyn> for Adapter<'_, P> {
    type ResidualStorage = Owned<f64, Dyn>;
    type JacobianStorage = Owned<f64, Dyn, Dyn>;
    type ParameterStorage = Owned<f64, Dyn>;

    fn set_params(&mut self, x: &DVector<f64>) {
        self.p.copy_from(x);
    }

    fn params(&self) -> DVector<f64> {
        self.p.clone()
    }

    /// Outside the model's domain (a residual not finite) the residuals are replaced by a vector
    /// 1e10 times longer than the last finite one, so the solver rejects the step and shrinks
    /// its trust region instead of stopping.
    fn residuals(&self) -> Option<DVector<f64>> {
        let mut r = DVector::zeros(self.problem.n_residuals());
        self.problem.residuals(self.p.as_slice(), r.as_mut_slice());
        if r.iter().all(|x| x.is_finite()) {
            *self.last_finite.borrow_mut() = Some((self.p.clone(), r.norm()));
            return Some(r);
        }
        let last_norm = self.last_finite.borrow().as_ref().map(|l| l.1)?;
        let m = r.len().max(1) as f64;
        let level = (last_norm.max(f64::MIN_POSITIVE) * 1e10 / m.sqrt()).min(1e150);
        Some(DVector::from_element(r.len(), level))
    }

    fn jacobian(&self) -> Option<DMatrix<f64>> {
        let mut j = DMatrix::zeros(self.problem.n_residuals(), self.problem.n_params());
        self.problem.jacobian(self.p.as_slice(), &mut j);
        j.iter().all(|x| x.is_finite()).then_some(j)
    }
}

fn describe(t: &TerminationReason) -> String {
    match t {
        TerminationReason::User(s) => format!("residuals or Jacobian not finite ({s})"),
        TerminationReason::Numerical(s) => format!("numerical breakdown ({s})"),
        TerminationReason::ResidualsZero => "converged: residuals are zero".to_string(),
        TerminationReason::Orthogonal => {
            "converged: residuals orthogonal to the Jacobian columns (gtol)".to_string()
        }
        TerminationReason::Converged { ftol, xtol } => match (ftol, xtol) {
            (true, true) => "converged: relative reduction of the sum of squares and of the step below tolerance (ftol, xtol)",
            (true, false) => "converged: relative reduction of the sum of squares below tolerance (ftol)",
            _ => "converged: relative step below tolerance (xtol)",
        }
        .to_string(),
        TerminationReason::NoImprovementPossible(s) => {
            format!("stopped: no further improvement possible at machine precision ({s})")
        }
        TerminationReason::LostPatience => "stopped: maximum number of evaluations reached".to_string(),
        TerminationReason::NoParameters => "no parameters".to_string(),
        TerminationReason::NoResiduals => "no residuals".to_string(),
        TerminationReason::WrongDimensions(s) => format!("wrong dimensions ({s})"),
    }
}

fn ssr_at<P: LeastSquares + ?Sized>(problem: &P, p: &[f64]) -> (f64, Vec<f64>) {
    let mut r = vec![0.0; problem.n_residuals()];
    problem.residuals(p, &mut r);
    (r.iter().map(|x| x * x).sum(), r)
}

/// Runs Levenberg-Marquardt from one start. A run that stops without convergence (or steps out
/// of the model's domain) is retried from the last point where the residuals were finite with a
/// smaller initial step bound (MINPACK's `factor`: 1, then 0.01), which rescues starts far from
/// the solution whose first steps overshoot.
pub fn solve_from<P: LeastSquares + ?Sized>(
    problem: &P,
    start: &[f64],
    opts: &SolverOptions,
) -> StartReport {
    let run = |x0: &[f64], stepbound: f64| {
        let lm = LevenbergMarquardt::new()
            .with_ftol(opts.tol)
            .with_xtol(opts.tol)
            .with_gtol(opts.tol)
            .with_stepbound(stepbound)
            .with_patience(opts.patience);
        let (done, report) = lm.minimize(Adapter {
            problem,
            p: DVector::from_column_slice(x0),
            last_finite: std::cell::RefCell::new(None),
        });
        let params = if ssr_at(problem, done.p.as_slice()).0.is_finite() {
            done.p.as_slice().to_vec()
        } else {
            done.last_finite
                .into_inner()
                .map_or_else(|| done.p.as_slice().to_vec(), |p| p.0.as_slice().to_vec())
        };
        (params, report)
    };
    let (mut params, mut report) = run(start, 100.0);
    let mut evaluations = report.number_of_evaluations;
    let mut restarted = None;
    if !report.termination.was_successful() && params.iter().all(|x| x.is_finite()) {
        let from = params.clone();
        for stepbound in [1.0, 0.01] {
            let (p2, r2) = run(&from, stepbound);
            evaluations += r2.number_of_evaluations;
            let better = r2.termination.was_successful()
                && p2.iter().all(|x| x.is_finite())
                && ssr_at(problem, &p2).0.is_finite();
            if better {
                params = p2;
                report = r2;
                restarted = Some(stepbound);
                break;
            }
        }
    }
    let mut termination = describe(&report.termination);
    if let Some(bound) = restarted {
        termination.push_str(&format!(" (after a restart with step bound {bound})"));
    }
    let converged = report.termination.was_successful() && ssr_at(problem, &params).0.is_finite();
    if converged {
        let steps = polish(problem, &mut params);
        if steps > 0 {
            termination.push_str(&format!("; then {steps} Gauss-Newton polishing step(s)"));
        }
    }
    let (ssr, _) = ssr_at(problem, &params);
    StartReport {
        start: start.to_vec(),
        params,
        ssr: if ssr.is_finite() { ssr } else { f64::NAN },
        termination,
        converged,
        evaluations,
    }
}

/// Gauss-Newton steps from a converged point, each solved by QR (not the normal equations) and
/// kept only while it lowers the sum of squares: on ill-conditioned problems this brings the
/// parameters to the floating-point neighbourhood of the minimum, where Levenberg-Marquardt's
/// relative tolerances stop a little short. Returns the number of steps kept (at most 5).
fn polish<P: LeastSquares + ?Sized>(problem: &P, params: &mut Vec<f64>) -> usize {
    let (m, n) = (problem.n_residuals(), problem.n_params());
    let (mut ssr, mut r) = ssr_at(problem, params);
    let mut kept = 0;
    for _ in 0..5 {
        let mut jac = DMatrix::zeros(m, n);
        problem.jacobian(params, &mut jac);
        // J δ ≈ -r
        let neg_r: Vec<f64> = r.iter().map(|x| -x).collect();
        let Ok(step) = solve_linear(&jac, &neg_r, None) else {
            break;
        };
        let trial: Vec<f64> = params.iter().zip(&step.coef).map(|(p, d)| p + d).collect();
        let (trial_ssr, trial_r) = ssr_at(problem, &trial);
        let improves = trial_ssr < ssr;
        if !improves {
            break;
        }
        *params = trial;
        ssr = trial_ssr;
        r = trial_r;
        kept += 1;
    }
    kept
}

/// Solves from every start and keeps the converged run with the smallest sum of squares (or,
/// when none converged, the finite run with the smallest sum of squares, marked unconverged).
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use nalgebra::DMatrix;
/// use goodhart::solve::nonlinear::{LeastSquares, SolverOptions, solve};
/// /// y = a exp(b x) on exact data
/// struct Exp { x: Vec<f64>, y: Vec<f64> }
/// impl LeastSquares for Exp {
///     fn n_params(&self) -> usize { 2 }
///     fn n_residuals(&self) -> usize { self.x.len() }
///     fn residuals(&self, p: &[f64], out: &mut [f64]) {
///         for i in 0..self.x.len() { out[i] = self.y[i] - p[0] * (p[1] * self.x[i]).exp(); }
///     }
///     fn jacobian(&self, p: &[f64], j: &mut DMatrix<f64>) {
///         for i in 0..self.x.len() {
///             let e = (p[1] * self.x[i]).exp();
///             j[(i, 0)] = -e;
///             j[(i, 1)] = -p[0] * self.x[i] * e;
///         }
///     }
/// }
/// let x: Vec<f64> = (0..10).map(|i| i as f64 * 0.1).collect();
/// let y = x.iter().map(|x| 2.0 * (0.5 * x).exp()).collect();
/// let s = solve(&Exp { x, y }, &[vec![1.0, 0.0]], &SolverOptions::default())?;
/// assert!(s.converged, "{}", s.termination);
/// assert!((s.params[0] - 2.0).abs() < 1e-10 && (s.params[1] - 0.5).abs() < 1e-10);
/// # Ok(())
/// # }
/// ```
pub fn solve<P: LeastSquares + ?Sized>(
    problem: &P,
    starts: &[Vec<f64>],
    opts: &SolverOptions,
) -> Result<NonlinearSolution, NonlinearError> {
    if starts.is_empty() {
        return Err(NonlinearError::NoStart);
    }
    let (m, n) = (problem.n_residuals(), problem.n_params());
    if m < n {
        return Err(NonlinearError::TooFewPoints {
            points: m,
            params: n,
        });
    }
    let reports: Vec<StartReport> = starts
        .iter()
        .map(|s| solve_from(problem, s, opts))
        .collect();
    let rank = |r: &StartReport| {
        (
            !r.converged,
            if r.ssr.is_nan() { f64::INFINITY } else { r.ssr },
        )
    };
    let best = reports
        .iter()
        .filter(|r| r.ssr.is_finite())
        .min_by(|a, b| {
            let (ka, kb) = (rank(a), rank(b));
            ka.0.cmp(&kb.0).then(ka.1.total_cmp(&kb.1))
        })
        .cloned()
        .ok_or_else(|| {
            NonlinearError::NoFiniteStart(
                reports
                    .iter()
                    .map(|r| r.termination.clone())
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
    let (ssr, residuals) = ssr_at(problem, &best.params);
    let mut jac = DMatrix::zeros(m, n);
    problem.jacobian(&best.params, &mut jac);
    // (JᵀJ)⁻¹ by the same column-scaled QR as the linear fits (the right-hand side is unused).
    let zeros = vec![0.0; m];
    let (cov_unscaled, condition) = match solve_linear(&jac, &zeros, None) {
        Ok(lin) => (Some(lin.cov_unscaled), lin.condition),
        Err(super::linear::LinearError::Singular { condition, .. }) => (None, condition),
        Err(_) => (None, f64::INFINITY),
    };
    Ok(NonlinearSolution {
        params: best.params.clone(),
        ssr,
        residuals,
        cov_unscaled,
        condition,
        termination: best.termination.clone(),
        converged: best.converged,
        starts: reports,
    })
}
