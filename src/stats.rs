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

/// Spearman's rank correlation of paired values (average ranks for ties); `None` with fewer
/// than 3 finite pairs or when either side is constant.
///
/// ```
/// use goodhart::stats::spearman;
/// assert_eq!(spearman(&[1.0, 2.0, 3.0, 4.0], &[10.0, 20.0, 25.0, 40.0]), Some(1.0));
/// assert_eq!(spearman(&[1.0, 2.0, 3.0, 4.0], &[4.0, 3.0, 2.0, 1.0]), Some(-1.0));
/// assert_eq!(spearman(&[1.0, 2.0], &[1.0, 2.0]), None);
/// ```
pub fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    let pairs: Vec<(f64, f64)> = x
        .iter()
        .zip(y)
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .map(|(a, b)| (*a, *b))
        .collect();
    if pairs.len() < 3 {
        return None;
    }
    fn ranks(v: &[f64]) -> Vec<f64> {
        let mut idx: Vec<usize> = (0..v.len()).collect();
        idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
        let mut r = vec![0.0; v.len()];
        let mut i = 0;
        while i < idx.len() {
            let mut j = i;
            while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
                j += 1;
            }
            let avg = (i + j) as f64 / 2.0 + 1.0;
            for &k in &idx[i..=j] {
                r[k] = avg;
            }
            i = j + 1;
        }
        r
    }
    let rx = ranks(&pairs.iter().map(|p| p.0).collect::<Vec<_>>());
    let ry = ranks(&pairs.iter().map(|p| p.1).collect::<Vec<_>>());
    let n = rx.len() as f64;
    let (mx, my) = (rx.iter().sum::<f64>() / n, ry.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in rx.iter().zip(&ry) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}
