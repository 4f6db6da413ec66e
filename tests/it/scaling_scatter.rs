//! Scaling laws that know their scatter (issue 13, item 2): on coefficients drawn as
//! law + N(0, tau²) + N(0, se²) with known tau, the DerSimonian-Laird tau² is consistent, and the
//! 95% prediction interval of `predict` for a new RM covers a fresh RM's coefficient about 95% of
//! the time while the interval of the mean law alone undercovers. The zero-crossing size of a
//! log-linear law is the closed form 10^(-a/b).

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use goodhart::document::{LawModelKind, ScalingDoc, Target};
use goodhart::forms::FormId;
use goodhart::scaling::predict::{LawModel, PredictOptions, predict};
use goodhart::scaling::{Law, Series, SizeKey, log_linear};
use goodhart::schema::Method;

fn template(coefficient: &str, n: usize) -> Law {
    Law {
        method: Method::Bon,
        target: Target::Gold,
        form: FormId::Bon,
        coefficient: coefficient.into(),
        model: LawModelKind::LogLinear,
        group: BTreeMap::new(),
        a: f64::NAN,
        b: 0.0,
        a_se: None,
        b_se: None,
        cov_ab: None,
        a_ci: None,
        b_ci: None,
        r2: None,
        sizes: vec![],
        values: vec![],
        aic: None,
        chisqr: None,
        n,
        dof: 0,
        weighted: true,
        converged: true,
        message: None,
        tau2: None,
        fit_se_rms: None,
        group_kl_max: None,
        no_peak_fits: None,
        form_rejected_fits: None,
    }
}

/// Nine sizes (the paper's range, log-spaced) and per-fit standard errors that vary 4x.
fn design(n: usize) -> (Vec<f64>, Vec<f64>) {
    let sizes: Vec<f64> = (0..n)
        .map(|i| 10f64.powf(7.0 + 2.0 * i as f64 / (n - 1) as f64))
        .collect();
    let se: Vec<f64> = (0..n)
        .map(|i| 0.005 + 0.015 * ((i * 7) % n) as f64 / (n - 1) as f64)
        .collect();
    (sizes, se)
}

/// Coefficients law + N(0, tau²) + N(0, se²).
fn draw(rng: &mut ChaCha8Rng, sizes: &[f64], se: &[f64], a: f64, b: f64, tau: f64) -> Vec<f64> {
    sizes
        .iter()
        .zip(se)
        .map(|(n, s)| {
            let z1: f64 = rng.sample(StandardNormal);
            let z2: f64 = rng.sample(StandardNormal);
            a + b * n.log10() + tau * z1 + s * z2
        })
        .collect()
}

fn law(sizes: &[f64], values: Vec<f64>, se: &[f64], name: &str) -> Law {
    let mut l = log_linear(
        &Series {
            sizes: sizes.to_vec(),
            values: values.clone(),
            se: Some(se.to_vec()),
        },
        template(name, sizes.len()),
    );
    l.sizes = sizes.to_vec();
    l.values = values;
    l
}

#[test]
fn prediction_interval_for_a_new_rm_covers_while_the_mean_interval_undercovers() {
    let (sizes, se) = design(9);
    let tau = 0.03;
    // inside the fitted range, and one decade beyond it
    let new_sizes = [1e8, 1e10];
    let (aa, ab, ba, bb) = (0.3, 0.065, 0.45, -0.035);
    let reps = 600;
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let (mut pi_in, mut ci_in, mut tau2_sum) = ([0; 2], [0; 2], 0.0);
    for _ in 0..reps {
        let alpha = law(
            &sizes,
            draw(&mut rng, &sizes, &se, aa, ab, tau),
            &se,
            "alpha",
        );
        let beta = law(
            &sizes,
            draw(&mut rng, &sizes, &se, ba, bb, tau / 3.0),
            &se,
            "beta",
        );
        tau2_sum += alpha.tau2.unwrap();
        let doc = ScalingDoc {
            goodhart_version: goodhart::document::VERSION.to_string(),
            by: SizeKey::RmParams,
            laws: vec![alpha, beta],
            joint: Vec::new(),
            warnings: Vec::new(),
            law_covariances: Vec::new(),
            observed_kl_max: BTreeMap::new(),
        };
        let pred = predict(
            &doc,
            &PredictOptions {
                sizes: new_sizes.to_vec(),
                method: None,
                kl: Some(vec![1.0]),
                iterations: None,
                model: LawModel::LogLinear,
            },
        )
        .unwrap();
        for (k, size_new) in new_sizes.iter().enumerate() {
            let i = &pred.predictions[k].params["alpha"];
            // a fresh RM of the new size: its coefficient is the law plus its scatter
            let z: f64 = rng.sample(StandardNormal);
            let fresh = aa + ab * size_new.log10() + tau * z;
            pi_in[k] +=
                (i.new_rm_low.unwrap() <= fresh && fresh <= i.new_rm_high.unwrap()) as usize;
            ci_in[k] += (i.low.unwrap() <= fresh && fresh <= i.high.unwrap()) as usize;
        }
    }
    let pi = pi_in.map(|c| c as f64 / reps as f64);
    let ci = ci_in.map(|c| c as f64 / reps as f64);
    let mean_tau2 = tau2_sum / reps as f64;
    eprintln!(
        "coverage of a fresh RM over {reps} reps at rm_params 1e8, 1e10: new-RM interval {pi:.3?}, mean-law interval {ci:.3?}; mean tau2 {mean_tau2:.5} (true {:.5})",
        tau * tau
    );
    for c in pi {
        assert!((0.92..=0.98).contains(&c), "new-RM interval covers {c}");
    }
    // the mean-law interval alone undercovers, badly inside the fitted range
    assert!(ci[0] < 0.8, "mean-law interval at 1e8 covers {}", ci[0]);
    assert!(ci[1] < 0.92, "mean-law interval at 1e10 covers {}", ci[1]);
    // DerSimonian-Laird is truncated at 0 and so biased up a little with 9 sizes
    assert!(
        (mean_tau2 / (tau * tau) - 1.0).abs() < 0.25,
        "mean tau2 {mean_tau2} vs {}",
        tau * tau
    );
}

#[test]
fn dersimonian_laird_tau2_is_consistent() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for (n, tol) in [(400, 0.2), (4000, 0.07)] {
        let (sizes, se) = design(n);
        let tau = 0.02;
        let l = law(
            &sizes,
            draw(&mut rng, &sizes, &se, 0.3, 0.065, tau),
            &se,
            "alpha",
        );
        let ratio = l.tau2.unwrap() / (tau * tau);
        eprintln!("n = {n}: tau2 / true = {ratio:.4}");
        assert!((ratio - 1.0).abs() < tol, "n = {n}: tau2 ratio {ratio}");
        assert!((l.a - 0.3).abs() < 0.05 && (l.b - 0.065).abs() < 0.01);
    }
    // No scatter: tau2 is (near) 0, and the law's intervals are the fixed-effect ones.
    let (sizes, se) = design(400);
    let l = law(
        &sizes,
        draw(&mut rng, &sizes, &se, 0.3, 0.065, 0.0),
        &se,
        "alpha",
    );
    assert!(l.tau2.unwrap() < 0.1 * 0.01f64.powi(2), "{:?}", l.tau2);
}

#[test]
fn zero_crossing_is_the_closed_form() {
    let (sizes, se) = design(9);
    // beta = 0.45 - 0.1 log10 N: zero at N = 10^4.5; exact data
    let values: Vec<f64> = sizes
        .iter()
        .map(|n| 0.45 - 0.1 * (n / 1e6).log10())
        .collect();
    let l = law(&sizes, values, &se, "beta");
    let want = 10f64.powf(-l.a / l.b);
    let got = l.zero_crossing().unwrap();
    assert!((got / want - 1.0).abs() < 1e-12, "{got} vs {want}");
    assert!((got / 10f64.powf(10.5) - 1.0).abs() < 1e-9, "{got}");
    // the prediction beyond it names the group and the crossing size
    let doc = ScalingDoc {
        goodhart_version: goodhart::document::VERSION.to_string(),
        by: SizeKey::RmParams,
        laws: vec![
            law(&sizes, sizes.iter().map(|_| 0.8).collect(), &se, "alpha"),
            l,
        ],
        joint: Vec::new(),
        warnings: Vec::new(),
        law_covariances: Vec::new(),
        observed_kl_max: [("bon".to_string(), 10.0)].into_iter().collect(),
    };
    let pred = predict(
        &doc,
        &PredictOptions {
            sizes: vec![1e11],
            method: None,
            kl: None,
            iterations: None,
            model: LawModel::LogLinear,
        },
    )
    .unwrap();
    let p = &pred.predictions[0];
    let w = p
        .warnings
        .iter()
        .find(|w| w.kind == goodhart::document::WarningKind::LawCrossesZero)
        .expect("a zero-crossing warning");
    assert_eq!(w.group, "bon gold (bon)");
    assert!((w.size.unwrap() / 10f64.powf(10.5) - 1.0).abs() < 1e-9);
    assert!(p.peak.is_none());
    assert!(p.peak_reason.as_deref().unwrap().contains("no peak"));
}
