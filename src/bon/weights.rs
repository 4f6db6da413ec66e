//! The weights of the unbiased best-of-n estimator, w_i(n) = C(i-1, n-1) / C(N, n): the
//! probability that the sample of proxy rank i (1 = worst) is the best of a uniformly random
//! n-subset of a pool of N. Computed by a recurrence from the exact top weight, so that they are
//! accurate (and sum to 1 within 1e-12) for pools of 100,000 samples and more; and the plug-in
//! KL of best-of-n over a pool, [`pool_kl`].

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

/// The plug-in KL (nats) of best-of-n from the initial policy, KL(bon_n ‖ π₀), with both
/// distributions replaced by a pool's empirical distribution: best-of-n drawn *with
/// replacement* from the N samples of the pool (each draw uniform over the pool), against one
/// uniform draw from the pool.
///
/// The best of n draws has proxy rank at most i with probability (i/N)ⁿ. A tie group (samples of
/// ranks a..=b sharing one proxy score, g = b - a + 1 of them) is therefore selected with
/// probability P = (b/N)ⁿ - ((a-1)/N)ⁿ, and, whatever exchangeable rule breaks the tie (uniformly
/// among the tied draws, or among the tied samples drawn), each sample of the group with P/g.
/// The KL over samples is then
///
/// ```text
/// Σ_groups P ln(N P / g)
/// ```
///
/// which is also the KL over distinct proxy scores (group mass P against g/N): best-of-n depends
/// on a response only through its proxy score, so this is the plug-in estimate of the KL between
/// the policies' score distributions. Without ties (every g = 1) it is
/// Σ_i p_i ln(N p_i), p_i = (i/N)ⁿ - ((i-1)/N)ⁿ: the KL of best-of-n from the population
/// quantised into N equal-probability bins, so it is below ln n - (n-1)/n (data-processing
/// inequality) by an amount that depends only on n and N (see the README for a table).
///
/// `group_ends` holds the exclusive end index of each tie group in rank order (`None`: no ties,
/// every group one sample). Computed in log space, ln P = n ln(b/N) + ln(-expm1(n ln1p(-g/b))),
/// scanning down from the top group and stopping once the mass left below cannot change the sum
/// by 1e-18, so it is accurate and finite for n and N of 100,000 and more. Exactly 0 for n = 1;
/// never negative. Requires 1 <= n and, with `group_ends`, a last end equal to `pool_size`.
///
/// ```
/// use goodhart::bon::weights::pool_kl;
/// // N = 2, n = 2, distinct scores: p = (1/4, 3/4)
/// let expected = 0.25 * (0.5f64).ln() + 0.75 * (1.5f64).ln();
/// assert!((pool_kl(2, 2, None) - expected).abs() < 1e-15);
/// // all samples tied: best-of-n is the initial policy
/// assert_eq!(pool_kl(4, 3, Some(&[4])), 0.0);
/// ```
pub fn pool_kl(pool_size: usize, n: usize, group_ends: Option<&[usize]>) -> f64 {
    PoolKl::new(pool_size, group_ends).kl(n)
}

/// [`pool_kl`] of one pool for many n: the logarithms that do not depend on n are computed once.
#[derive(Debug, Clone)]
pub struct PoolKl {
    /// per tie group, from the top one down: (ln(start/N), ln1p(-g/end), ln N - ln g), where the
    /// group holds ranks start+1 ..= end
    groups: Vec<(f64, f64, f64)>,
    ln_pool_size: f64,
}

impl PoolKl {
    /// The tie groups of a pool of `pool_size` samples (`group_ends` as for [`pool_kl`]).
    pub fn new(pool_size: usize, group_ends: Option<&[usize]>) -> PoolKl {
        let big_n = pool_size as f64;
        let ln_big_n = big_n.ln();
        // ln(i/N), accurately both near 0 and near 1
        let ln_frac = |i: usize| -> f64 {
            if i == 0 {
                f64::NEG_INFINITY
            } else if 2 * i >= pool_size {
                (-((pool_size - i) as f64 / big_n)).ln_1p()
            } else {
                (i as f64 / big_n).ln()
            }
        };
        let group = |(start, end): (usize, usize)| {
            let g = (end - start) as f64;
            (ln_frac(start), (-g / end as f64).ln_1p(), ln_big_n - g.ln())
        };
        let groups = match group_ends {
            None => (1..=pool_size)
                .rev()
                .map(|end| group((end - 1, end)))
                .collect(),
            Some(ends) => {
                debug_assert_eq!(ends.last(), Some(&pool_size), "groups cover the pool");
                (0..ends.len())
                    .rev()
                    .map(|k| group((if k == 0 { 0 } else { ends[k - 1] }, ends[k])))
                    .collect()
            }
        };
        PoolKl {
            groups,
            ln_pool_size: ln_big_n,
        }
    }

    /// The plug-in KL of best-of-n (n >= 1) over the pool; see [`pool_kl`].
    pub fn kl(&self, n: usize) -> f64 {
        debug_assert!(n >= 1, "1 <= n");
        if n == 1 || self.groups.len() <= 1 {
            return 0.0;
        }
        let nf = n as f64;
        // below this n ln(start/N), the mass left, (start/N)^n, times the largest |ln(N P / g)|
        // it can carry (at most (n + 1) ln N), is below 1e-18
        let stop = (1e-18_f64).ln() - ((nf + 1.0) * (self.ln_pool_size + 1.0)).ln();
        let mut terms: Vec<f64> = Vec::new();
        // n ln(end/N) of the current group: 0 for the top one
        let mut ln_top = 0.0;
        for &(ln_start, ln1p_share, ln_n_over_g) in &self.groups {
            let ln_below = nf * ln_start;
            // ln(1 - (start/end)^n); 0 for the bottom group (start = 0)
            let ln_tail = (-(nf * ln1p_share).exp_m1()).ln();
            let ln_p = ln_top + ln_tail;
            let p = ln_p.exp();
            if p > 0.0 {
                terms.push(p * (ln_p + ln_n_over_g));
            }
            if ln_below < stop {
                break;
            }
            ln_top = ln_below;
        }
        compensated_sum(&terms).max(0.0)
    }
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

    /// Σ p ln(N p / g) straight from the definition, p = (b/N)^n - ((a-1)/N)^n.
    fn naive_kl(pool_size: usize, n: usize, ends: &[usize]) -> f64 {
        let big_n = pool_size as f64;
        let mut start = 0;
        let mut kl = 0.0;
        for &end in ends {
            let p = (end as f64 / big_n).powi(n as i32) - (start as f64 / big_n).powi(n as i32);
            let g = (end - start) as f64;
            if p > 0.0 {
                kl += p * (big_n * p / g).ln();
            }
            start = end;
        }
        kl
    }

    #[test]
    fn pool_kl_matches_the_definition() {
        for big_n in [2usize, 3, 10, 97, 1000] {
            let untied: Vec<usize> = (1..=big_n).collect();
            // groups of sizes 1, 2, 3, 1, 2, 3, ...
            let mut tied = Vec::new();
            let (mut end, mut g) = (0, 1);
            while end < big_n {
                end = (end + g).min(big_n);
                tied.push(end);
                g = g % 3 + 1;
            }
            for n in [1usize, 2, 3, 7, 50, 200] {
                let (a, b) = (pool_kl(big_n, n, None), naive_kl(big_n, n, &untied));
                assert!((a - b).abs() < 1e-12, "N={big_n} n={n}: {a} vs {b}");
                assert_eq!(pool_kl(big_n, n, Some(&untied)), a, "N={big_n} n={n}");
                let (a, b) = (pool_kl(big_n, n, Some(&tied)), naive_kl(big_n, n, &tied));
                assert!((a - b).abs() < 1e-12, "tied N={big_n} n={n}: {a} vs {b}");
            }
        }
        assert_eq!(pool_kl(49, 1, None), 0.0);
        assert_eq!(pool_kl(5, 3, Some(&[5])), 0.0);
    }

    #[test]
    fn pool_kl_is_below_analytic_and_tends_to_it() {
        // the plug-in KL of distinct scores is the KL of best-of-n quantised into N bins
        for (big_n, n, tol) in [(100_000usize, 16usize, 1e-3), (1000, 1000, 0.05)] {
            let kl = pool_kl(big_n, n, None);
            assert!(kl < analytic_kl(n), "N={big_n} n={n}: {kl}");
            assert!(analytic_kl(n) - kl < tol, "N={big_n} n={n}: {kl}");
        }
    }

    #[test]
    fn pool_kl_is_finite_for_huge_n_and_pools() {
        for (big_n, n) in [
            (100_000usize, 100_000usize),
            (100_000, 99_999),
            (100_000, 2),
            (1_000_000, 100_000),
        ] {
            let kl = pool_kl(big_n, n, None);
            assert!(
                kl.is_finite() && kl > 0.0 && kl < analytic_kl(n),
                "N={big_n} n={n}: {kl}"
            );
            // ties in pairs halve the resolution: a smaller KL
            let pairs: Vec<usize> = (1..=big_n / 2).map(|k| 2 * k).collect();
            let tied = pool_kl(big_n, n, Some(&pairs));
            assert!(
                tied.is_finite() && tied < kl,
                "N={big_n} n={n}: {tied} vs {kl}"
            );
        }
    }
}
