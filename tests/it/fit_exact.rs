//! Fits agree with an exact rational-arithmetic least-squares solution of the same f64 data.

use crate::common;

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{ToPrimitive, Zero};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use goodhart::fit::{LinearFit, Points};
use goodhart::forms::FormId;

fn q(x: f64) -> BigRational {
    BigRational::from_float(x).expect("finite")
}

/// Exact weighted least squares for two parameters: normal equations solved in rationals
/// (exact arithmetic makes them as good as any factorisation). Returns (coef, se).
fn exact_fit(form: FormId, pts: &Points) -> ([f64; 2], [f64; 2]) {
    let x = LinearFit::new(form).design(&pts.d);
    let n = pts.d.len();
    let mut a = [
        [BigRational::zero(), BigRational::zero()],
        [BigRational::zero(), BigRational::zero()],
    ];
    let mut b = [BigRational::zero(), BigRational::zero()];
    let rows: Vec<([BigRational; 2], BigRational, BigRational)> = (0..n)
        .map(|i| {
            let w = pts
                .w
                .as_ref()
                .map_or(BigRational::from_integer(BigInt::from(1)), |w| q(w[i]));
            ([q(x[(i, 0)]), q(x[(i, 1)])], q(pts.y[i]), w)
        })
        .collect();
    for (xi, yi, wi) in &rows {
        for r in 0..2 {
            for c in 0..2 {
                a[r][c] += wi * &xi[r] * &xi[c];
            }
            b[r] += wi * &xi[r] * yi;
        }
    }
    let det = &a[0][0] * &a[1][1] - &a[0][1] * &a[1][0];
    let c0 = (&b[0] * &a[1][1] - &a[0][1] * &b[1]) / &det;
    let c1 = (&a[0][0] * &b[1] - &a[1][0] * &b[0]) / &det;
    let mut sse = BigRational::zero();
    for (xi, yi, wi) in &rows {
        let r = yi - &xi[0] * &c0 - &xi[1] * &c1;
        sse += wi * &r * &r;
    }
    let s2 = sse / BigRational::from_integer(BigInt::from(n - 2));
    let inv00 = &a[1][1] / &det;
    let inv11 = &a[0][0] / &det;
    let se0 = (&s2 * inv00).to_f64().unwrap().sqrt();
    let se1 = (&s2 * inv11).to_f64().unwrap().sqrt();
    ([c0.to_f64().unwrap(), c1.to_f64().unwrap()], [se0, se1])
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(f64::MIN_POSITIVE)
}

fn noisy(
    form: FormId,
    kls: &[f64],
    params: [f64; 2],
    sd: f64,
    weighted: bool,
    seed: u64,
) -> Points {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let d: Vec<f64> = kls.iter().map(|k| k.sqrt()).collect();
    let f = form.form();
    let y = d
        .iter()
        .map(|&d| f.eval(&params, d) + sd * (rng.random::<f64>() - 0.5))
        .collect();
    let w = weighted.then(|| {
        (0..d.len())
            .map(|_| 1.0 / (0.5 + rng.random::<f64>()).powi(2))
            .collect()
    });
    Points { d, y, w }
}

fn assert_agrees(form: FormId, pts: &Points, tol_coef: f64, tol_se: f64) {
    let fit = LinearFit::new(form).fit(pts).unwrap();
    let (coef, se) = exact_fit(form, pts);
    for j in 0..2 {
        let p = &fit.params[j];
        assert!(
            rel(p.value, coef[j]) <= tol_coef,
            "{form:?} {}: {} vs exact {} (rel {:e})",
            p.name,
            p.value,
            coef[j],
            rel(p.value, coef[j])
        );
        let s = p.se.unwrap();
        assert!(
            rel(s, se[j]) <= tol_se,
            "{form:?} se {}: {} vs exact {} (rel {:e})",
            p.name,
            s,
            se[j],
            rel(s, se[j])
        );
    }
}

#[test]
fn well_conditioned_fits_match_rational_arithmetic_to_1e_9() {
    let kls: Vec<f64> = (1..=40).map(|i| i as f64 * 0.25).collect();
    for form in [FormId::Bon, FormId::Rl] {
        for weighted in [false, true] {
            for seed in 0..5 {
                let pts = noisy(form, &kls, [0.6, 0.17], 0.05, weighted, seed);
                assert_agrees(form, &pts, 1e-9, 1e-9);
            }
        }
    }
}

#[test]
fn ill_conditioned_curve_matches_to_1e_4() {
    // 30 points with KL between 1.000e6 and 1.001e6: d ~ 1000, the two basis columns nearly
    // collinear.
    let kls: Vec<f64> = (0..30).map(|i| 1.0e6 + 1.0e3 * i as f64 / 29.0).collect();
    for form in [FormId::Bon, FormId::Rl] {
        for seed in 0..5 {
            let pts = noisy(form, &kls, [0.9, 0.0004], 0.01, false, seed);
            let fit = LinearFit::new(form).fit(&pts).unwrap();
            assert!(
                fit.stats.condition_number > 1e3,
                "really ill-conditioned: {}",
                fit.stats.condition_number
            );
            assert_agrees(form, &pts, 1e-4, 1e-4);
        }
    }
}

#[test]
fn cli_fit_matches_rational_arithmetic() {
    let t = common::TestDir::new();
    let kls: Vec<f64> = (1..=30).map(|i| i as f64 * 0.3).collect();
    let pts = noisy(FormId::Bon, &kls, [0.7, 0.2], 0.04, false, 11);
    let mut csv = String::from("method,rm_params,kl,gold\n");
    for (k, y) in kls.iter().zip(&pts.y) {
        csv.push_str(&format!("bon,1e9,{k:e},{y:e}\n"));
    }
    t.write("c.csv", csv);
    t.cmd()
        .args([
            "fit",
            "c.csv",
            "--out",
            "f.json",
            "--baseline",
            "none",
            "--quiet",
        ])
        .assert()
        .success();
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.path("f.json")).unwrap()).unwrap();
    let (coef, se) = exact_fit(FormId::Bon, &pts);
    let params = &v["fits"][0]["params"];
    for (j, name) in ["alpha", "beta"].iter().enumerate() {
        let got = params[name]["value"].as_f64().unwrap();
        assert!(rel(got, coef[j]) < 1e-9, "{name}: {got} vs {}", coef[j]);
        let got_se = params[name]["se"].as_f64().unwrap();
        assert!(
            rel(got_se, se[j]) < 1e-9,
            "{name} se: {got_se} vs {}",
            se[j]
        );
    }
}
