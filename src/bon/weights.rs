//! The weights of the unbiased best-of-n estimator, w_i(n) = C(i-1, n-1) / C(N, n): the
//! probability that the sample of proxy rank i (1 = worst) is the best of a uniformly random
//! n-subset of a pool of N. Computed by a recurrence from the exact top weight, so that they are
//! accurate (and sum to 1 within 1e-12) for pools of 100,000 samples and more.

/// Neumaier's compensated sum: the rounding error does not grow with the number of terms.
pub fn compensated_sum(values: &[f64]) -> f64 {
    let mut sum = 0.0_f64;
    let mut carry = 0.0_f64;
    for &v in values {
        let t = sum + v;
        if sum.abs() >= v.abs() {
            carry += (sum - t) + v;
        } else {
            carry += (v - t) + sum;
        }
        sum = t;
    }
    sum + carry
}

/// The weights w_1(n) ..= w_N(n) of a pool of `pool_size` = N samples, in rank order (index
/// i - 1 holds w_i). Zero for ranks below n.
///
/// The top weight is exact, w_N = n/N, and w_{i-1} = w_i (i - n)/(i - 1) walks down; the walk's
/// tiny relative drift is removed by renormalising with a compensated sum. For n = 1 every
/// weight is 1/N exactly as rounded. Requires 1 <= n <= N.
///
/// ```
/// let w = goodhart::bon::weights::bon_weights(4, 2);
/// // C(i-1, 1) / C(4, 2) = (0, 1, 2, 3) / 6
/// assert!((w[3] - 0.5).abs() < 1e-15 && (w[1] - 1.0 / 6.0).abs() < 1e-15 && w[0] == 0.0);
/// ```
pub fn bon_weights(pool_size: usize, n: usize) -> Vec<f64> {
    debug_assert!(n >= 1 && n <= pool_size, "1 <= n <= N");
    let big_n = pool_size;
    if n == 1 {
        return vec![1.0 / big_n as f64; big_n];
    }
    let mut w = vec![0.0; big_n];
    let mut current = n as f64 / big_n as f64;
    w[big_n - 1] = current;
    // i is the 1-based rank of the weight being derived from w_i; stop once underflowed.
    for i in (n + 1..=big_n).rev() {
        current *= (i - n) as f64 / (i - 1) as f64;
        if current == 0.0 {
            break;
        }
        w[i - 2] = current;
    }
    let total = compensated_sum(&w[n - 1..]);
    for x in &mut w[n - 1..] {
        *x /= total;
    }
    w
}

/// Exact KL divergence (nats) of the best-of-n distribution over a pool from the uniform
/// distribution over the pool, Σ_i w_i ln(N w_i), where tied samples share their group's weight
/// equally. `group_ends` holds the exclusive end index of each tie group in rank order (for a
/// pool without ties: 1, 2, ..., N). Never negative (rounding is clamped at zero).
pub fn pool_kl(weights: &[f64], group_ends: Option<&[usize]>) -> f64 {
    let big_n = weights.len() as f64;
    let mut kl = 0.0;
    match group_ends {
        None => {
            for &w in weights {
                if w > 0.0 {
                    kl += w * (big_n * w).ln();
                }
            }
        }
        Some(ends) => {
            let mut start = 0;
            for &end in ends {
                let total = compensated_sum(&weights[start..end]);
                if total > 0.0 {
                    kl += total * (big_n * total / (end - start) as f64).ln();
                }
                start = end;
            }
        }
    }
    kl.max(0.0)
}

/// The analytic KL of best-of-n, ln n - (n - 1)/n (an upper bound, tight without ties).
pub fn analytic_kl(n: usize) -> f64 {
    let n = n as f64;
    n.ln() - (n - 1.0) / n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_sum_to_one_for_huge_pools() {
        for &big_n in &[2usize, 7, 1000, 100_000] {
            for n in [1, 2, 3, 10, big_n / 2, big_n.saturating_sub(1), big_n] {
                if n == 0 || n > big_n {
                    continue;
                }
                let w = bon_weights(big_n, n);
                let s = compensated_sum(&w);
                assert!((s - 1.0).abs() < 1e-12, "N={big_n} n={n}: sum {s}");
                assert!(w.iter().all(|x| *x >= 0.0));
            }
        }
    }

    #[test]
    fn weights_match_log_gamma_for_large_pool() {
        use statrs::function::gamma::ln_gamma;
        let (big_n, n) = (100_000usize, 60usize);
        let w = bon_weights(big_n, n);
        let ln_c = |a: f64, b: f64| ln_gamma(a + 1.0) - ln_gamma(b + 1.0) - ln_gamma(a - b + 1.0);
        for i in [n, n + 1, 5000, 50_000, 99_000, big_n] {
            let lw = ln_c((i - 1) as f64, (n - 1) as f64) - ln_c(big_n as f64, n as f64);
            let reference = lw.exp();
            // log-gamma of arguments near 1e6 carries ~1e-10 relative error itself
            assert!(((w[i - 1] - reference) / reference).abs() < 1e-8, "i={i}");
        }
    }

    #[test]
    fn pool_kl_without_ties_tends_to_analytic() {
        let w = bon_weights(100_000, 16);
        let kl = pool_kl(&w, None);
        assert!(
            (kl - analytic_kl(16)).abs() < 1e-3,
            "{kl} vs {}",
            analytic_kl(16)
        );
        // selecting without replacement from a finite pool is slightly sharper than the
        // analytic (infinite-pool) value
        assert!(kl > analytic_kl(16));
        assert_eq!(pool_kl(&bon_weights(49, 1), None), 0.0);
    }
}
