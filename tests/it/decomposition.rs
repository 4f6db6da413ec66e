//! The Goodhart decomposition: proxy - gold = regressional + extremal + residual holds to 1e-9,
//! the parts recover known coefficients, and from samples a purely regressional proxy (gold plus
//! Gaussian noise) has no extremal part while a proxy that rewards an extreme direction the gold
//! punishes has a clear one.

use crate::common;

use std::path::PathBuf;

use goodhart::bon::Pool;
use goodhart::curves::read_curves;
use goodhart::goodhart::{DecompositionSource, GapPoint, from_fits, from_samples};
use goodhart::ingest::{ColumnMap, LogOptions};
use goodhart::report::analysis::fit_all;
use goodhart::schema::{CURVES, CurveKey, Method};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

const GOLD: [(f64, f64); 2] = [(0.6, 0.15), (0.5, 0.2)];
const PROXY: [(f64, f64); 2] = [(0.8, 0.05), (0.7, 0.08)];

/// Curves with gold and proxy from known coefficients, baselines 0.3 (gold) and -0.2 (proxy),
/// and a small alternating perturbation (so the fits have residuals) when `wiggle` > 0.
fn curves_csv(wiggle: f64) -> String {
    let mut s = String::from("method,rm_params,kl,gold,proxy\n");
    for (m, (g, p)) in ["bon", "rl"].iter().zip(GOLD.iter().zip(PROXY)) {
        s.push_str(&format!("{m},1e8,0,0.3,-0.2\n{m},1e8,0,0.3,-0.2\n"));
        for k in 1..=16 {
            let d = k as f64 * 0.25;
            let f = if *m == "bon" { d * d } else { d * d.ln() };
            let e = if k % 2 == 0 { wiggle } else { -wiggle };
            s.push_str(&format!(
                "{m},1e8,{},{},{}\n",
                d * d,
                0.3 + g.0 * d - g.1 * f + e,
                -0.2 + p.0 * d - p.1 * f - e
            ));
        }
    }
    s
}

fn decompositions(csv: &str) -> Vec<goodhart::goodhart::Decomposition> {
    let t = common::TestDir::new();
    let path: PathBuf = t.write("c.csv", csv);
    let (curves, _) = read_curves(
        &[path],
        &ColumnMap::parse(&[], CURVES).unwrap(),
        &LogOptions::default(),
    )
    .unwrap();
    let (_, doc) = fit_all(&curves).unwrap();
    from_fits(&curves, &doc.fits, &[])
}

fn identity(p: &GapPoint) {
    let parts = p.regressional + p.extremal + p.residual;
    assert!(
        ((p.proxy - p.gold) - parts).abs() <= 1e-9,
        "identity fails at kl {}: gap {} vs parts {parts}",
        p.kl,
        p.proxy - p.gold
    );
}

#[test]
fn identity_holds_at_every_point_peak_and_max_kl() {
    let decs = decompositions(&curves_csv(0.01));
    assert_eq!(decs.len(), 2);
    for d in &decs {
        assert_eq!(d.source, DecompositionSource::Coefficients);
        assert_eq!(d.points.len(), 18);
        for p in d.points.iter().chain(&d.grid) {
            identity(p);
        }
        let peak = d.at_peak.expect("gold peaks");
        identity(&peak);
        identity(&d.at_max_kl.unwrap());
        assert!(peak.residual.abs() <= 1e-9, "fitted curves at the peak");
        // the wiggle leaves real residuals at the observed points
        assert!(d.points.iter().any(|p| p.residual.abs() > 1e-3));
        assert!(d.points.iter().all(|p| p.regressional_se.is_some()));
    }
}

#[test]
fn exact_curves_give_the_true_parts_and_no_residual() {
    let decs = decompositions(&curves_csv(0.0));
    for (d, (g, p)) in decs.iter().zip(GOLD.iter().zip(PROXY)) {
        let form = if d.key.method == Method::Bon {
            goodhart::forms::FormId::Bon
        } else {
            goodhart::forms::FormId::Rl
        };
        assert_eq!(d.form, form);
        for q in &d.points {
            let x = q.kl.sqrt();
            let f = if x == 0.0 {
                0.0
            } else if form == goodhart::forms::FormId::Bon {
                x * x
            } else {
                x * x.ln()
            };
            assert!((q.regressional - (p.0 - g.0) * x).abs() < 1e-9, "{q:?}");
            assert!((q.extremal - (g.1 - p.1) * f).abs() < 1e-9, "{q:?}");
            assert!(q.residual.abs() < 1e-9, "{q:?}");
        }
        let peak_kl = if form == goodhart::forms::FormId::Bon {
            (g.0 / (2.0 * g.1)).powi(2)
        } else {
            (g.0 / g.1 - 1.0).exp().powi(2)
        };
        assert!((d.at_peak.unwrap().kl - peak_kl).abs() < 1e-9 * peak_kl);
        assert_eq!(d.at_max_kl.unwrap().kl, 16.0);
    }
}

#[test]
fn fit_writes_the_decomposition_into_the_fits_json_and_report() {
    let t = common::TestDir::new();
    t.write("c.csv", curves_csv(0.01));
    let out = t
        .cmd()
        .args(["fit", "c.csv", "--out", "f.json", "--verbose"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Goodhart decomposition"), "{text}");
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.path("f.json")).unwrap()).unwrap();
    let decs = doc["decomposition"].as_array().expect("decomposition key");
    assert_eq!(decs.len(), 2);
    for d in decs {
        assert_eq!(d["source"], "coefficients");
        for at in ["at_peak", "at_max_kl"] {
            let p = &d[at];
            let v = |k: &str| p[k].as_f64().unwrap();
            let gap = v("proxy") - v("gold");
            let parts = v("regressional") + v("extremal") + v("residual");
            assert!((gap - parts).abs() <= 1e-9, "{at}: {p}");
            assert!(p["extremal_se"].as_f64().is_some());
        }
    }
    // The fits are unchanged by the new key.
    assert_eq!(doc["fits"].as_array().unwrap().len(), 4);
}

/// `prompts` pools of `n` samples drawn by `draw` for one RM.
fn pools(
    prompts: usize,
    n: usize,
    seed: u64,
    draw: impl Fn(&mut ChaCha8Rng) -> (f64, f64),
) -> Vec<Pool> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let key = CurveKey {
        method: Method::Bon,
        rm_params: 1e8,
        policy_params: None,
        rm_data: None,
        kl_penalty: None,
    };
    (0..prompts)
        .map(|j| {
            let mut scores: Vec<(f64, f64)> = (0..n).map(|_| draw(&mut rng)).collect();
            scores.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
            Pool {
                key,
                prompt: format!("{j:04}"),
                scores,
                path: PathBuf::from("memory"),
            }
        })
        .collect()
}

#[test]
fn gaussian_noise_proxy_is_purely_regressional() {
    let s = 0.7;
    let p = pools(200, 64, 11, |r| {
        let g: f64 = StandardNormal.sample(r);
        let z: f64 = StandardNormal.sample(r);
        (g + s * z, g)
    });
    let decs = from_samples(&p, None).unwrap();
    // raw, then standardised
    assert_eq!(decs.len(), 2);
    assert_eq!(decs[0].units, goodhart::goodhart::Units::Raw);
    assert_eq!(decs[1].units, goodhart::goodhart::Units::Standardised);
    let d = &decs[0];
    assert_eq!(d.source, DecompositionSource::Samples);
    assert_eq!(d.points.len(), 64);
    let mut worst: f64 = 0.0;
    for q in &d.points {
        identity(q);
        let se = q.extremal_se.unwrap();
        worst = worst.max(q.extremal.abs() / se);
    }
    assert!(worst < 3.0, "extremal part {worst} se from zero");
    let last = d.at_max_kl.unwrap();
    assert!(
        last.regressional > 10.0 * last.regressional_se.unwrap(),
        "{last:?}"
    );
    // regressional = (1 - b) (proxy - mean), b = 1/(1 + s²): the proxy's excess is that share
    let b = 1.0 / (1.0 + s * s);
    assert!(
        (last.regressional / last.proxy - (1.0 - b)).abs() < 0.05,
        "{last:?}"
    );
}

#[test]
fn a_proxy_rewarding_an_extreme_direction_has_an_extremal_part() {
    // gold = x - u²/2 punishes extremes of u; proxy = x + u rewards them.
    let p = pools(200, 64, 5, |r| {
        let x: f64 = StandardNormal.sample(r);
        let u: f64 = StandardNormal.sample(r);
        (x + u, x - 0.5 * u * u)
    });
    let d = &from_samples(&p, None).unwrap()[0];
    for q in &d.points {
        identity(q);
    }
    let last = d.at_max_kl.unwrap();
    assert!(last.extremal > 5.0 * last.extremal_se.unwrap(), "{last:?}");
    assert!(last.regressional > 0.0);
}

#[test]
fn samples_with_a_bad_n_are_an_error_not_a_panic() {
    let p = pools(3, 4, 1, |r| {
        let g: f64 = StandardNormal.sample(r);
        (g, g)
    });
    assert!(from_samples(&p, Some(&[5])).is_err());
    assert!(from_samples(&p, Some(&[0])).is_err());
}

#[test]
fn extremal_standard_errors_are_calibrated() {
    // Over independent replications of a purely regressional proxy, |extremal| / se stays below
    // 1.96 about 95% of the time (at the largest n, where the part is largest).
    let reps = 60;
    let mut inside = 0;
    for seed in 0..reps {
        let p = pools(50, 32, 1000 + seed, |r| {
            let g: f64 = StandardNormal.sample(r);
            let z: f64 = StandardNormal.sample(r);
            (g + 0.8 * z, g)
        });
        let last = from_samples(&p, None).unwrap()[0].at_max_kl.unwrap();
        if last.extremal.abs() < 1.96 * last.extremal_se.unwrap() {
            inside += 1;
        }
    }
    let share = inside as f64 / reps as f64;
    assert!((0.85..=1.0).contains(&share), "coverage {share}");
}

/// A gold fit whose peak lies beyond 10x the curve's largest KL is not evaluated there: the
/// fits JSON has `at_peak: null` with a reason and the text says so (issue 13 review: at_peak
/// values like 3.5e106 were printed).
#[test]
fn a_peak_beyond_ten_times_the_fitted_kl_is_not_evaluated() {
    let mut csv = String::from("method,rm_params,kl,gold,proxy\nbon,1e8,0,0,0\nbon,1e8,0,0,0\n");
    for k in 1..=16 {
        let d = k as f64 * 0.25;
        // gold peaks at d = 0.6 / (2 * 0.001) = 300, KL 9e4 >> 10 * 16
        let e = if k % 2 == 0 { 0.001 } else { -0.001 };
        csv.push_str(&format!(
            "bon,1e8,{},{},{}\n",
            d * d,
            0.6 * d - 0.001 * d * d + e,
            0.8 * d - 0.0005 * d * d - e
        ));
    }
    let decs = decompositions(&csv);
    assert_eq!(decs.len(), 1);
    assert!(decs[0].at_peak.is_none(), "{:?}", decs[0].at_peak);
    let why = decs[0].at_peak_reason.as_deref().unwrap();
    assert!(why.starts_with(goodhart::goodhart::PEAK_BEYOND), "{why}");
    // a peak inside the limit is still evaluated
    assert!(
        decompositions(&curves_csv(0.01))
            .iter()
            .all(|d| d.at_peak.is_some() && d.at_peak_reason.is_none())
    );

    let t = common::TestDir::new();
    t.write("c.csv", csv);
    let out = t
        .cmd()
        .args(["fit", "c.csv", "--out", "f.json", "--verbose"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("peak beyond 10x the fitted KL: not evaluated"),
        "{text}"
    );
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.path("f.json")).unwrap()).unwrap();
    let d = &doc["decomposition"][0];
    assert!(d["at_peak"].is_null(), "{d}");
    assert!(
        d["at_peak_reason"]
            .as_str()
            .unwrap()
            .contains("not evaluated")
    );
    assert_eq!(d["se_method"], "independent fits");
}

/// Review items 2, 6, 7: the wording of the fits' errors follows their `ci_method`, the
/// figure's panel count counts RM sizes (not records), and the raw-units warning is short.
#[test]
fn wording_follows_the_fits_ci_method_panel_counts_and_short_lists() {
    use goodhart::document::CiMethod;
    use goodhart::goodhart::{curve_list, fits_error_words, panel_words};
    let decs = decompositions(&curves_csv(0.01));
    assert!(decs.iter().all(|d| d.fits_ci == Some(CiMethod::T)));
    let t = fits_error_words(decs.iter().map(|d| d.fits_ci));
    assert!(t.contains("t-intervals"), "{t}");
    let b = fits_error_words([Some(CiMethod::Bootstrap); 3]);
    assert!(
        b.contains("bootstrapped") && !b.contains("t-interval"),
        "{b}"
    );

    let w = panel_words(12, 6, 9, 2);
    assert!(w.contains("6 of 9 RM sizes shown"), "{w}");
    assert!(w.contains("12 panels") && w.contains("estimate"), "{w}");
    assert!(!w.contains("of 18"), "{w}");
    assert!(panel_words(4, 4, 4, 1).contains("all 4 RM sizes"));

    let keys: Vec<CurveKey> = (0..126)
        .map(|i| CurveKey {
            method: if i < 54 { Method::Bon } else { Method::Rl },
            rm_params: 1e6 * (1 + i) as f64,
            policy_params: None,
            rm_data: None,
            kl_penalty: None,
        })
        .collect();
    let l = curve_list(&keys);
    assert!(l.len() < 200, "{l}");
    assert!(l.contains("126 curve(s)") && l.contains("54 bon") && l.contains("72 rl"));
    assert!(l.contains("and 123 more"), "{l}");
}

/// Review item 4: the RL caption counts the curves with a negative regressional part from the
/// numbers, not a hard-coded phrase.
#[test]
fn negative_regressional_parts_are_counted_from_the_numbers() {
    use goodhart::goodhart::negative_regressional_words;
    let decs = decompositions(&curves_csv(0.01));
    let refs: Vec<&goodhart::goodhart::Decomposition> = decs.iter().collect();
    assert_eq!(negative_regressional_words(&refs), None);
    // proxy alpha below gold's: negative regressional part
    let csv = curves_csv(0.0);
    let mut flipped = String::from("method,rm_params,kl,gold,proxy\n");
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        // swap gold and proxy (baselines too): regressional = -(0.7 - 0.5) d etc.
        flipped.push_str(&format!("{},{},{},{},{}\n", f[0], f[1], f[2], f[4], f[3]));
    }
    let decs = decompositions(&flipped);
    let refs: Vec<&goodhart::goodhart::Decomposition> = decs.iter().collect();
    let w = negative_regressional_words(&refs).expect("negative parts");
    assert!(w.contains("on 2 of 2 curves"), "{w}");
}
