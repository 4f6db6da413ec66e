//! Exact weighted linear least squares: a Householder QR factorisation of the row-weighted,
//! column-equilibrated design matrix, never the normal equations.

use nalgebra::{DMatrix, DVector};

/// Why a linear least-squares problem has no unique solution.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LinearError {
    #[error("{points} point(s) for {params} parameters")]
    TooFewPoints { points: usize, params: usize },
    #[error(
        "the basis columns are linearly dependent on these points (condition number {condition:.3e}){hint}"
    )]
    Singular { condition: f64, hint: String },
    #[error("a value is not finite (row {row})")]
    NotFinite { row: usize },
    /// A result exists but cannot be represented in double precision (values near 1e±300).
    #[error("{detail}")]
    OutOfRange { detail: String },
}

/// The 2-norm without overflow or underflow: the largest magnitude is factored out first.
fn safe_norm<'a>(v: impl Iterator<Item = &'a f64> + Clone) -> f64 {
    let m = v.clone().fold(0.0f64, |m, x| m.max(x.abs()));
    if m == 0.0 || !m.is_finite() {
        return m;
    }
    m * v.map(|x| (x / m) * (x / m)).sum::<f64>().sqrt()
}

/// The magnitude range of some values, for messages.
fn magnitude(v: &[f64]) -> String {
    let max = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let min = v
        .iter()
        .filter(|x| **x != 0.0)
        .fold(f64::INFINITY, |m, x| m.min(x.abs()));
    format!("{min:.1e} to {max:.1e}")
}

/// The exact solution of a weighted linear least-squares problem.
#[derive(Debug, Clone)]
pub struct LinearSolution {
    /// The coefficients.
    pub coef: Vec<f64>,
    /// (Xᵀ W X)⁻¹: the covariance of the coefficients for unit residual variance.
    pub cov_unscaled: DMatrix<f64>,
    /// Σ wᵢ rᵢ², the weighted residual sum of squares (chi-square).
    pub chisqr: f64,
    /// Unweighted residuals yᵢ - ŷᵢ.
    pub residuals: Vec<f64>,
    /// Condition number of the column-scaled weighted design matrix.
    pub condition: f64,
}

/// Minimises Σ wᵢ (yᵢ - Σⱼ xᵢⱼ cⱼ)² by a Householder QR factorisation of the row-weighted,
/// column-equilibrated design matrix. `w` defaults to unit weights.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use nalgebra::DMatrix;
/// use goodhart::solve::solve_linear;
/// // y = 2x exactly
/// let x = DMatrix::from_column_slice(3, 1, &[1.0, 2.0, 3.0]);
/// let s = solve_linear(&x, &[2.0, 4.0, 6.0], None)?;
/// assert!((s.coef[0] - 2.0).abs() < 1e-15);
/// assert!(s.chisqr < 1e-28);
/// # Ok(())
/// # }
/// ```
pub fn solve_linear(
    x: &DMatrix<f64>,
    y: &[f64],
    w: Option<&[f64]>,
) -> Result<LinearSolution, LinearError> {
    let (n, p) = x.shape();
    if n < p || n == 0 {
        return Err(LinearError::TooFewPoints {
            points: n,
            params: p,
        });
    }
    for i in 0..n {
        let wi = w.map_or(1.0, |w| w[i]);
        if !y[i].is_finite() || !wi.is_finite() || (0..p).any(|j| !x[(i, j)].is_finite()) {
            return Err(LinearError::NotFinite { row: i + 1 });
        }
    }
    let sqrt_w: Vec<f64> = (0..n).map(|i| w.map_or(1.0, |w| w[i].sqrt())).collect();
    let mut a = DMatrix::from_fn(n, p, |i, j| x[(i, j)] * sqrt_w[i]);
    let mut scale = vec![0.0; p];
    for (j, s) in scale.iter_mut().enumerate() {
        *s = safe_norm(a.column(j).iter());
        if !(*s > 0.0 && s.is_finite()) {
            return Err(LinearError::Singular {
                condition: f64::INFINITY,
                hint: format!(": basis column {} is zero at every point", j + 1),
            });
        }
        a.column_mut(j).unscale_mut(*s);
    }
    // Scores are scaled to magnitude 1 so that tiny or huge scores lose nothing in between.
    let y_scale = {
        let m = (0..n).fold(0.0f64, |m, i| m.max((y[i] * sqrt_w[i]).abs()));
        if m > 0.0 && m.is_finite() { m } else { 1.0 }
    };
    let mut b = DVector::from_fn(n, |i, _| y[i] * sqrt_w[i] / y_scale);
    let qr = a.qr();
    let r = qr.r();
    qr.q_tr_mul(&mut b);
    let sv = r.clone().svd(false, false).singular_values;
    let (smax, smin) = (sv.max(), sv.min());
    let condition = smax / smin;
    // Also catches NaN singular values.
    if smin.partial_cmp(&(smax * (n as f64) * f64::EPSILON)) != Some(std::cmp::Ordering::Greater) {
        return Err(LinearError::Singular {
            condition,
            hint: String::new(),
        });
    }
    let qtb = b.rows(0, p).into_owned();
    let z = r
        .solve_upper_triangular(&qtb)
        .ok_or(LinearError::Singular {
            condition,
            hint: String::new(),
        })?;
    let coef: Vec<f64> = (0..p).map(|j| z[j] / scale[j] * y_scale).collect();
    let rinv = r
        .solve_upper_triangular(&DMatrix::identity(p, p))
        .ok_or(LinearError::Singular {
            condition,
            hint: String::new(),
        })?;
    let cz = &rinv * rinv.transpose();
    let cov_unscaled = DMatrix::from_fn(p, p, |i, j| cz[(i, j)] / scale[i] / scale[j]);
    let residuals: Vec<f64> = (0..n)
        .map(|i| y[i] - (0..p).map(|j| x[(i, j)] * coef[j]).sum::<f64>())
        .collect();
    // Σ w r² on the scaled residuals, then scaled back: exact to rounding, and any overflow or
    // underflow of the result is seen below instead of becoming a silently wrong error bar.
    let chisqr_scaled: f64 = residuals
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let rs = r * sqrt_w[i] / y_scale;
            rs * rs
        })
        .sum();
    let chisqr = chisqr_scaled * y_scale * y_scale;
    if coef.iter().any(|c| !c.is_finite()) || !chisqr.is_finite() {
        return Err(LinearError::OutOfRange {
            detail: format!(
                "the scores ({}) are too large for double precision: the fit's chi-square or parameters overflow; divide the scores by a power of ten",
                magnitude(y)
            ),
        });
    }
    if chisqr_scaled > 0.0 && chisqr == 0.0 {
        return Err(LinearError::OutOfRange {
            detail: format!(
                "the scores ({}) are too small for double precision: the residual sum of squares underflows to 0, so error bars would be 0; multiply the scores by a power of ten",
                magnitude(y)
            ),
        });
    }
    if cov_unscaled.iter().any(|c| !c.is_finite())
        || (0..p).any(|j| cov_unscaled[(j, j)] == 0.0 || !cov_unscaled[(j, j)].is_normal())
    {
        return Err(LinearError::OutOfRange {
            detail: format!(
                "the distances sqrt(KL) give basis values ({}) whose parameter variances overflow or underflow double precision; check the KL column's units",
                magnitude(&x.iter().copied().collect::<Vec<f64>>())
            ),
        });
    }
    Ok(LinearSolution {
        coef,
        cov_unscaled,
        chisqr,
        residuals,
        condition,
    })
}
