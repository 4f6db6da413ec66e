//! The mechanism of `generate sim` on small settings, against independent references: Monte
//! Carlo for the gold normalisation and the policies' KL and entropy, finite differences for
//! the proxy gradient, a brute-force grid for the logit-scale fit.

use goodhart::generate::sim::nets::{ProxyNet, fit_logit_scale, mean_var, normals, sigmoid};
use goodhart::generate::sim::policy::{GaussianPolicy, PolicyFamily};
use goodhart::generate::sim::{Preset, SimSpec, Stream, build_gold, rng, train_reward_models};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn small_spec() -> SimSpec {
    SimSpec {
        norm_samples: 50_000,
        ..SimSpec::preset(Preset::Small)
    }
}

#[test]
fn gold_has_mean_zero_and_variance_one_under_pi0() {
    let spec = small_spec();
    let (gold, _) = build_gold(&spec);
    // Fresh draws, independent of the normalisation draws.
    let n = 200_000;
    let x = normals(n * spec.dim, &mut ChaCha8Rng::seed_from_u64(12345));
    let g: Vec<f64> = x.chunks_exact(spec.dim).map(|xi| gold.score(xi)).collect();
    let (mean, var) = mean_var(&g);
    let m4 = g.iter().map(|v| (v - mean).powi(4)).sum::<f64>() / n as f64;
    // The normalisation itself used 50,000 draws, so its own error adds to the fresh sample's.
    let se_mean = (var / n as f64 + var / spec.norm_samples as f64).sqrt();
    let se_var = ((m4 - var * var) / n as f64 + (m4 - var * var) / spec.norm_samples as f64).sqrt();
    assert!(mean.abs() < 4.0 * se_mean, "mean {mean}, se {se_mean}");
    assert!(
        (var - 1.0).abs() < 4.0 * se_var,
        "variance {var}, se {se_var}"
    );
}

#[test]
fn proxy_validation_accuracy_rises_with_size() {
    let spec = SimSpec {
        rm_hidden: vec![0, 4, 32],
        rm_data: vec![2000],
        rm_val: 2000,
        rm_epochs: 10,
        norm_samples: 5000,
        ..small_spec()
    };
    let (gold, draws) = build_gold(&spec);
    use goodhart::progress::Observer;
    let stage = goodhart::progress::Silent.stage("reward models", 0);
    let rms = train_reward_models(&spec, &gold, &draws, stage.as_ref());
    assert_eq!(rms.len(), 3);
    let acc: Vec<f64> = rms.iter().map(|r| r.val_accuracy).collect();
    // The binomial standard error of a difference of two accuracies on 2000 comparisons.
    let se = |a: f64, b: f64| ((a * (1.0 - a) + b * (1.0 - b)) / 2000.0).sqrt();
    for w in acc.windows(2) {
        assert!(w[1] - w[0] > 2.0 * se(w[0], w[1]), "accuracies {acc:?}");
    }
    // The recorded accuracy is what the proxy does on fresh comparisons labelled by gold.
    let mut r = ChaCha8Rng::seed_from_u64(99);
    let n = 4000;
    let (a, b) = (normals(n * spec.dim, &mut r), normals(n * spec.dim, &mut r));
    for rm in &rms {
        let proxy = &rm.proxy;
        let agree = (0..n)
            .filter(|&i| {
                let (xa, xb) = (
                    &a[i * spec.dim..(i + 1) * spec.dim],
                    &b[i * spec.dim..(i + 1) * spec.dim],
                );
                (proxy.score(xa) > proxy.score(xb)) == (gold.score(xa) > gold.score(xb))
            })
            .count() as f64
            / n as f64;
        assert!(
            (agree - rm.val_accuracy).abs() < 4.0 * se(agree, rm.val_accuracy),
            "fresh {agree} vs recorded {}",
            rm.val_accuracy
        );
        assert!(rm.rm_params == spec.dim + rm.hidden * (spec.dim + 2));
    }
}

fn random_policy(family: PolicyFamily, dim: usize, seed: u64) -> GaussianPolicy {
    let mut p = GaussianPolicy::initial(dim, family);
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    for (k, t) in p.theta.iter_mut().enumerate() {
        // mean, log-scale and off-diagonal entries of moderate size
        let scale = if k < 2 * dim { 0.5 } else { 0.3 };
        *t = scale * normals(1, &mut r)[0];
    }
    p
}

#[test]
fn exact_kl_and_entropy_match_monte_carlo() {
    let dim = 5;
    for (family, seed) in [(PolicyFamily::Diag, 1), (PolicyFamily::Full, 2)] {
        let p = random_policy(family, dim, seed);
        assert_eq!(p.theta.len(), family.n_params(dim));
        let n = 200_000;
        let x = p.sample(n, &mut ChaCha8Rng::seed_from_u64(seed + 100));
        let log_pi0 = |xi: &[f64]| {
            -0.5 * dim as f64 * (2.0 * std::f64::consts::PI).ln()
                - 0.5 * xi.iter().map(|v| v * v).sum::<f64>()
        };
        let ratio: Vec<f64> = x
            .chunks_exact(dim)
            .map(|xi| p.log_density(xi) - log_pi0(xi))
            .collect();
        let (kl_mc, var) = mean_var(&ratio);
        let se = (var / n as f64).sqrt();
        let kl = p.kl_from_initial();
        assert!(kl > 0.1, "a test policy far enough from pi_0: {kl}");
        assert!(
            (kl - kl_mc).abs() < 4.0 * se,
            "{family:?}: exact {kl}, Monte Carlo {kl_mc} ± {se}"
        );
        let neg_log: Vec<f64> = x.chunks_exact(dim).map(|xi| -p.log_density(xi)).collect();
        let (h_mc, hv) = mean_var(&neg_log);
        let hse = (hv / n as f64).sqrt();
        assert!(
            (p.entropy() - h_mc).abs() < 4.0 * hse,
            "{family:?}: entropy {} vs {h_mc} ± {hse}",
            p.entropy()
        );
    }
    // pi_0 itself: KL 0.
    assert_eq!(
        GaussianPolicy::initial(dim, PolicyFamily::Full).kl_from_initial(),
        0.0
    );
}

#[test]
fn proxy_input_gradient_matches_finite_differences() {
    let dim = 6;
    let net = ProxyNet::random(dim, 7, &mut rng(3, Stream::ProxyInit, &[7]));
    let mut net = net;
    // A non-zero linear part too.
    for (k, t) in net.theta.iter_mut().take(dim).enumerate() {
        *t = 0.1 * (k as f64 - 2.5);
    }
    let x = normals(dim, &mut ChaCha8Rng::seed_from_u64(5));
    let mut g = vec![0.0; dim];
    net.add_input_gradient(&x, 1.0, &mut g);
    for k in 0..dim {
        let h = 1e-6;
        let (mut xp, mut xm) = (x.clone(), x.clone());
        xp[k] += h;
        xm[k] -= h;
        let fd = (net.score(&xp) - net.score(&xm)) / (2.0 * h);
        assert!(
            (fd - g[k]).abs() < 1e-7 * (1.0 + fd.abs()),
            "coordinate {k}: {fd} vs {}",
            g[k]
        );
    }
}

#[test]
fn logit_scale_minimises_the_cross_entropy() {
    let mut r = ChaCha8Rng::seed_from_u64(8);
    let diffs = normals(500, &mut r);
    let targets: Vec<f64> = diffs
        .iter()
        .map(|d| sigmoid(0.7 * d + 0.2 * normals(1, &mut r)[0]))
        .collect();
    let loss = |s: f64| -> f64 {
        diffs
            .iter()
            .zip(&targets)
            .map(|(d, t)| -(t * sigmoid(s * d).ln() + (1.0 - t) * (1.0 - sigmoid(s * d)).ln()))
            .sum()
    };
    let s = fit_logit_scale(&diffs, &targets);
    // Brute force: the best of a fine grid is no better than the fitted scale.
    let best = (0..=40_000)
        .map(|k| k as f64 * 1e-4)
        .min_by(|a, b| loss(*a).total_cmp(&loss(*b)))
        .unwrap();
    assert!((s - best).abs() <= 1e-4, "fitted {s}, grid {best}");
    assert!(loss(s) <= loss(best) + 1e-12);
}
