//! Distribution quantiles shared by every interval goodhart reports, so that fits, scaling laws
//! and predictions agree on what a 95% interval is.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// The two-sided 95% normal quantile, used where there are no degrees of freedom to speak of
/// (a coefficient held constant).
pub const Z95: f64 = 1.959963984540054;

/// Student's t quantile for a two-sided 95% interval with `dof` degrees of freedom; with
/// `dof` = 0 the normal quantile [`Z95`].
///
/// ```
/// use goodhart::stats::t95;
/// assert!((t95(1) - 12.706204736174698).abs() < 1e-9);
/// assert_eq!(t95(0), goodhart::stats::Z95);
/// ```
pub fn t95(dof: usize) -> f64 {
    if dof == 0 {
        return Z95;
    }
    thread_local! {
        // The quantile is an iterative computation; thousands of curves share a few dofs.
        static CACHE: std::cell::RefCell<std::collections::HashMap<usize, f64>> = Default::default();
    }
    CACHE.with(|c| {
        *c.borrow_mut().entry(dof).or_insert_with(|| {
            StudentsT::new(0.0, 1.0, dof as f64)
                .map(|t| t.inverse_cdf(0.975))
                .unwrap_or(f64::NAN)
        })
    })
}

/// The median of finite values (None when there are none).
pub fn median(v: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    })
}

/// The value when it is finite, else `None` (a NaN or infinity becomes a JSON null, and says so).
pub fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}
