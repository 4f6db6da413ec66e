//! Extreme numbers: values near 1e308 and 1e-308, subnormals, a curve whose KL is all zero, all
//! scores equal, a single curve, large best-of-n pools. Each gives a correct result or a clear
//! message, never a panic, a NaN, or a silently wrong fit.

use crate::common;

use common::{TestDir, assert_input_error};
use goodhart::bon::estimate::estimate_pool;
use goodhart::bon::weights::bon_weights;
use rand::{Rng, SeedableRng};
use serde_json::Value;

/// A bon curve on exact law data, with KL and scores multiplied by the given factors.
fn law_csv(kl_factor: f64, score_factor: f64) -> String {
    let mut s = String::from("method,rm_params,kl,gold\n");
    for k in 1..=12 {
        let d = k as f64 * 0.3;
        let y = d * (0.5 - 0.1 * d);
        s.push_str(&format!(
            "bon,1e8,{:?},{:?}\n",
            d * d * kl_factor,
            y * score_factor
        ));
    }
    s
}

/// Runs `goodhart fit` (exit 0 expected) and returns the one fit of the fits JSON.
fn fit_one(t: &TestDir, csv: &str) -> Value {
    t.write("c.csv", csv);
    let out = t
        .cmd()
        .args(["fit", "c.csv", "--out", "f.json", "--quiet"])
        .output()
        .expect("run goodhart");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let text = std::fs::read_to_string(t.path("f.json")).expect("fits JSON written");
    assert!(!text.contains("NaN") && !text.contains("inf"), "{text}");
    let doc: Value = serde_json::from_str(&text).expect("valid JSON");
    let fits = doc["fits"].as_array().expect("fits").clone();
    assert_eq!(fits.len(), 1);
    fits[0].clone()
}

fn no_fit_says(fit: &Value, fragments: &[&str]) {
    assert_eq!(fit["converged"], Value::Bool(false), "{fit}");
    let msg = fit["message"].as_str().expect("a message");
    for f in fragments {
        assert!(msg.contains(f), "expected {f:?} in {msg:?}");
    }
}

fn param(fit: &Value, name: &str) -> (f64, f64) {
    let p = &fit["params"][name];
    (
        p["value"].as_f64().expect("value"),
        p["se"].as_f64().expect("se"),
    )
}

#[test]
fn scores_near_1e300_are_refused_with_a_reason() {
    let t = TestDir::new();
    let fit = fit_one(&t, &law_csv(1.0, 1e300));
    no_fit_says(
        &fit,
        &["too large for double precision", "divide the scores"],
    );
}

#[test]
fn scores_near_1e_minus_300_are_refused_with_a_reason() {
    let t = TestDir::new();
    let fit = fit_one(&t, &law_csv(1.0, 1e-300));
    no_fit_says(
        &fit,
        &["too small for double precision", "multiply the scores"],
    );
}

#[test]
fn subnormal_scores_are_refused_with_a_reason() {
    let t = TestDir::new();
    let fit = fit_one(&t, &law_csv(1.0, 5e-324));
    no_fit_says(&fit, &["too small for double precision"]);
}

#[test]
fn kl_near_1e300_and_1e_minus_300_are_refused_with_a_reason() {
    for factor in [1e300, 1e-300] {
        let t = TestDir::new();
        let fit = fit_one(&t, &law_csv(factor, 1.0));
        no_fit_says(&fit, &["parameter variances overflow or underflow", "KL"]);
    }
}

#[test]
fn large_but_representable_scores_fit_exactly() {
    // Scores near 1e150 and 1e-100: scaled internally, fitted to rounding. (Exact law data
    // near 1e-150 has a chi-square of rounding errors, about 1e-332, below the smallest double:
    // that is refused, as tested above.)
    for factor in [1e150, 1e-100] {
        let t = TestDir::new();
        let fit = fit_one(&t, &law_csv(1.0, factor));
        let (alpha, _) = param(&fit, "alpha");
        let (beta, _) = param(&fit, "beta");
        assert!((alpha / factor - 0.5).abs() < 1e-12, "alpha {alpha}");
        assert!((beta / factor - 0.1).abs() < 1e-12, "beta {beta}");
    }
}

#[test]
fn rm_params_near_the_largest_double() {
    let t = TestDir::new();
    let csv = law_csv(1.0, 1.0).replace("1e8", "1.7e308");
    let fit = fit_one(&t, &csv);
    assert_eq!(fit["rm_params"].as_f64(), Some(1.7e308));
    assert!((param(&fit, "alpha").0 - 0.5).abs() < 1e-12);
}

#[test]
fn kl_that_overflows_is_a_bad_value() {
    let t = TestDir::new();
    t.write(
        "c.csv",
        "method,rm_params,kl,gold\nbon,1e8,1,0.1\nbon,1e8,1e309,0.2\n",
    );
    assert_input_error(
        &t,
        &["fit", "c.csv", "--out", "f.json"],
        &["c.csv", "kl", "row 2", "finite"],
    );
}

#[test]
fn a_curve_whose_kl_is_all_zero() {
    let t = TestDir::new();
    t.write(
        "c.csv",
        "method,rm_params,kl,gold\nbon,1e8,0,0.1\nbon,1e8,0,0.2\nbon,1e8,0,0.3\n",
    );
    assert_input_error(
        &t,
        &["fit", "c.csv", "--out", "f.json"],
        &["bon rm_params=1e8", "0 usable point(s)"],
    );
}

#[test]
fn all_scores_equal_fit_zero_with_a_note() {
    let t = TestDir::new();
    let mut csv = String::from("method,rm_params,kl,gold\nbon,1e8,0,0.25\n");
    for k in 1..8 {
        csv.push_str(&format!("bon,1e8,{},0.25\n", k as f64 * 0.5));
    }
    let fit = fit_one(&t, &csv);
    assert_eq!(param(&fit, "alpha"), (0.0, 0.0));
    assert_eq!(param(&fit, "beta"), (0.0, 0.0));
    assert_eq!(fit["r2"], Value::Null);
    let message = fit["message"].as_str().unwrap_or_default();
    assert!(message.contains("all scores are equal"), "{fit}");
}

#[test]
fn one_curve_alone() {
    let t = TestDir::new();
    let fit = fit_one(&t, &law_csv(1.0, 1.0));
    assert!((param(&fit, "alpha").0 - 0.5).abs() < 1e-13);
    assert!((param(&fit, "beta").0 - 0.1).abs() < 1e-13);
}

#[test]
fn pools_of_100000_samples() {
    let n_pool = 100_000;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let samples: Vec<(f64, f64)> = (0..n_pool)
        .map(|_| {
            let g: f64 = rng.random_range(-1.0..1.0);
            (g + rng.random_range(-0.5..0.5), g)
        })
        .collect();
    let ns = [1, 10, 1000, n_pool];
    let est = estimate_pool(&samples, &ns);
    // n = 1: the mean of the pool; n = N: the sample with the largest proxy score.
    let mean_gold = samples.iter().map(|s| s.1).sum::<f64>() / n_pool as f64;
    let mean_proxy = samples.iter().map(|s| s.0).sum::<f64>() / n_pool as f64;
    assert!((est.gold[0] - mean_gold).abs() < 1e-12);
    assert!((est.proxy[0] - mean_proxy).abs() < 1e-12);
    let best =
        samples.iter().copied().fold(
            (f64::NEG_INFINITY, 0.0),
            |b, s| if s.0 > b.0 { s } else { b },
        );
    assert_eq!(est.proxy[3], best.0);
    assert_eq!(est.gold[3], best.1);
    // Selection raises the proxy score monotonically, and everything is finite.
    assert!(est.proxy.windows(2).all(|w| w[0] < w[1]), "{:?}", est.proxy);
    assert!(est.kl_pool.iter().all(|k| k.is_finite() && *k >= 0.0));
    for n in ns {
        let w = bon_weights(n_pool, n);
        let sum: f64 = w.iter().sum();
        assert!((sum - 1.0).abs() < 1e-10, "n {n}: {sum}");
        assert!(w.iter().all(|x| x.is_finite() && *x >= 0.0));
    }
}
