//! Properties that must hold for every input (proptest): the best-of-n weights sum to 1, the
//! estimator ignores the order of samples and rows, fits ignore row order, scores scaled by c
//! scale alpha and beta by c, a constant added to all scores changes nothing once the baseline
//! is subtracted, and exact law data is fitted with residuals at rounding level.

use crate::common;

use common::TestDir;
use goodhart::bon::estimate::estimate_pool;
use goodhart::bon::weights::bon_weights;
use goodhart::curves::CurvesTable;
use goodhart::fit::{CurveFit, FitOptions, fit_curves};
use goodhart::ingest::ColumnMap;
use proptest::prelude::*;
use rand::SeedableRng;
use rand::seq::SliceRandom;

/// One curve's rows: (kl, score), with some kl = 0 rows for the baseline.
fn law_rows(method: &str, alpha: f64, beta: f64, points: usize, noise: &[f64]) -> Vec<(f64, f64)> {
    let mut rows = vec![(0.0, noise[0]), (0.0, -noise[0])];
    for k in 1..=points {
        let d = k as f64 * 0.3;
        let r = if method == "bon" {
            d * (alpha - beta * d)
        } else {
            d * (alpha - beta * d.ln())
        };
        rows.push((d * d, r + noise[k % noise.len()]));
    }
    rows
}

/// A Curves CSV of a bon and an rl curve, scores mapped by `f`, rows in the given order.
fn curves_csv(rows: &[(String, f64, f64)], order: &[usize], f: impl Fn(f64) -> f64) -> String {
    let mut s = String::from("method,rm_params,kl,gold\n");
    for &i in order {
        let (m, kl, y) = &rows[i];
        s.push_str(&format!("{m},1e8,{kl:?},{:?}\n", f(*y)));
    }
    s
}

fn fit_csv(t: &TestDir, name: &str, csv: &str) -> Vec<CurveFit> {
    let path = t.write(name, csv);
    let table = CurvesTable::read(&path, &ColumnMap::default()).expect("valid table");
    fit_curves(&table.curves(), &FitOptions::default()).expect("fits")
}

fn params(fits: &[CurveFit]) -> Vec<Vec<f64>> {
    fits.iter()
        .map(|f| f.fitted().expect("fitted").values())
        .collect()
}

fn all_rows(alpha: f64, beta: f64, noise: &[f64]) -> Vec<(String, f64, f64)> {
    let mut rows = Vec::new();
    for m in ["bon", "rl"] {
        for (kl, y) in law_rows(m, alpha, beta, 12, noise) {
            rows.push((m.to_string(), kl, y));
        }
    }
    rows
}

fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
    order
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn weights_sum_to_one(pool in 1usize..3000, frac in 0.0f64..1.0) {
        let n = 1 + ((pool - 1) as f64 * frac) as usize;
        let w = bon_weights(pool, n);
        prop_assert_eq!(w.len(), pool);
        prop_assert!(w.iter().all(|&x| x >= 0.0));
        let sum: f64 = w.iter().sum();
        prop_assert!((sum - 1.0).abs() < 1e-12, "pool {} n {}: sum {}", pool, n, sum);
    }

    #[test]
    fn estimator_ignores_sample_order(
        samples in prop::collection::vec((-3.0f64..3.0, -3.0f64..3.0), 1..200),
        seed in any::<u64>(),
    ) {
        let ns: Vec<usize> = [1, 2, 3, 5, 8, 13, 50, 199]
            .into_iter()
            .filter(|&n| n <= samples.len())
            .collect();
        let mut permuted = samples.clone();
        permuted.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
        prop_assert_eq!(estimate_pool(&samples, &ns), estimate_pool(&permuted, &ns));
    }

    #[test]
    fn estimator_ignores_ties_order(
        // Few distinct values: many ties in proxy and in gold.
        samples in prop::collection::vec((0i32..4, 0i32..4), 2..60),
        seed in any::<u64>(),
    ) {
        let s: Vec<(f64, f64)> = samples.iter().map(|&(p, g)| (p as f64, g as f64)).collect();
        let mut permuted = s.clone();
        permuted.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
        let ns = vec![1, 2];
        prop_assert_eq!(estimate_pool(&s, &ns), estimate_pool(&permuted, &ns));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn fits_ignore_row_order(
        alpha in 0.1f64..2.0,
        beta in 0.01f64..0.5,
        noise in prop::collection::vec(-0.05f64..0.05, 3..7),
        seed in any::<u64>(),
    ) {
        let t = TestDir::new();
        let rows = all_rows(alpha, beta, &noise);
        let sorted: Vec<usize> = (0..rows.len()).collect();
        let a = fit_csv(&t, "a.csv", &curves_csv(&rows, &sorted, |y| y));
        let b = fit_csv(&t, "b.csv", &curves_csv(&rows, &shuffled(rows.len(), seed), |y| y));
        // Bit for bit: points are sorted within each curve before fitting.
        prop_assert_eq!(params(&a), params(&b));
        for (x, y) in a.iter().zip(&b) {
            prop_assert_eq!(&x.fitted().unwrap().stats, &y.fitted().unwrap().stats);
        }
    }

    #[test]
    fn scaling_scores_scales_alpha_and_beta(
        alpha in 0.1f64..2.0,
        beta in 0.01f64..0.5,
        noise in prop::collection::vec(-0.05f64..0.05, 3..7),
        c in prop_oneof![-100.0f64..-0.01, 0.01f64..100.0],
    ) {
        let t = TestDir::new();
        let rows = all_rows(alpha, beta, &noise);
        let order: Vec<usize> = (0..rows.len()).collect();
        let a = params(&fit_csv(&t, "a.csv", &curves_csv(&rows, &order, |y| y)));
        let b = params(&fit_csv(&t, "b.csv", &curves_csv(&rows, &order, |y| c * y)));
        for (pa, pb) in a.iter().zip(&b) {
            for (x, y) in pa.iter().zip(pb) {
                let scale = pa.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                prop_assert!((c * x - y).abs() <= 1e-9 * scale * c.abs(),
                    "c {}: {} * {} != {}", c, c, x, y);
            }
        }
    }

    #[test]
    fn a_constant_added_to_all_scores_changes_nothing(
        alpha in 0.1f64..2.0,
        beta in 0.01f64..0.5,
        noise in prop::collection::vec(-0.05f64..0.05, 3..7),
        k in -1000.0f64..1000.0,
    ) {
        let t = TestDir::new();
        let rows = all_rows(alpha, beta, &noise);
        let order: Vec<usize> = (0..rows.len()).collect();
        let a = fit_csv(&t, "a.csv", &curves_csv(&rows, &order, |y| y));
        let b = fit_csv(&t, "b.csv", &curves_csv(&rows, &order, |y| y + k));
        for (fa, fb) in a.iter().zip(&b) {
            let (pa, pb) = (fa.fitted().unwrap(), fb.fitted().unwrap());
            // Rounding of y + k is relative to |k|: the tolerance follows it.
            let tol = 1e-12 * (1.0 + k.abs()) * 1e3;
            for (x, y) in pa.values().iter().zip(pb.values()) {
                prop_assert!((x - y).abs() <= tol, "k {}: {} vs {}", k, x, y);
            }
            let (ba, bb) = (fa.baseline.unwrap().value, fb.baseline.unwrap().value);
            prop_assert!((bb - ba - k).abs() <= 1e-12 * (1.0 + k.abs()) * 10.0);
        }
    }

    #[test]
    fn exact_law_data_has_residuals_at_rounding_level(
        alpha in 0.1f64..2.0,
        beta in 0.01f64..0.5,
    ) {
        let t = TestDir::new();
        let rows = all_rows(alpha, beta, &[0.0]);
        let order: Vec<usize> = (0..rows.len()).collect();
        let fits = fit_csv(&t, "a.csv", &curves_csv(&rows, &order, |y| y));
        for f in &fits {
            let p = f.fitted().unwrap();
            prop_assert!(p.stats.rmse <= 1e-13 * alpha.max(1.0) * 10.0, "rmse {}", p.stats.rmse);
            let v = p.values();
            prop_assert!((v[0] - alpha).abs() <= 1e-12 * alpha * 10.0, "alpha {} vs {}", v[0], alpha);
            prop_assert!((v[1] - beta).abs() <= 1e-12 * alpha * 10.0, "beta {} vs {}", v[1], beta);
        }
    }
}
