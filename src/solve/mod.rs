//! Least-squares solvers below the fitting of curves: exact linear least squares, the
//! Levenberg-Marquardt wrapper for nonlinear forms, and a form fitted to points with its
//! statistics. Knows forms and points, nothing of curves, files or documents.

pub mod fitted;
pub mod form_fit;
pub mod linear;
pub mod nonlinear;

pub use fitted::{FitStats, FittedForm, ParamEstimate, Points, statistics};
pub use form_fit::LinearFit;
pub use linear::{LinearError, LinearSolution, solve_linear};
