//! `goodhart predict` against closed forms: alpha and beta from the laws, the paper's peak
//! formulas (BoN d* = alpha/(2 beta), R* = alpha²/(4 beta); RL d* = exp(alpha/beta - 1),
//! R* = beta d*), the iterated-RLHF peak (d*_k = k d*, R*_k = k R*), and the propagated intervals.

use crate::common;

use serde_json::Value;
use statrs::distribution::{ContinuousCDF, StudentsT};

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

fn read(t: &common::TestDir, name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(t.path(name)).unwrap()).unwrap()
}

fn pipeline(t: &common::TestDir) {
    t.cmd()
        .args([
            "generate",
            "law",
            "--out",
            "law.csv",
            "--seed",
            "5",
            "--noise",
            "0.03",
            "--rl-alpha-law",
            "0.5,0.01",
        ])
        .assert()
        .success();
    t.cmd()
        .args(["fit", "law.csv", "--out", "fits.json", "--quiet"])
        .assert()
        .success();
    t.cmd()
        .args(["scale", "fits.json", "--out", "scaling.json", "--quiet"])
        .assert()
        .success();
}

fn law<'a>(scaling: &'a Value, method: &str, coefficient: &str) -> &'a Value {
    scaling["laws"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| {
            l["method"] == method && l["coefficient"] == coefficient && l["model"] == "log-linear"
        })
        .unwrap()
}

/// (value, variance) of a log-linear law at size n.
fn at(l: &Value, n: f64) -> (f64, f64) {
    let f = |k: &str| l[k].as_f64().unwrap();
    let x = n.log10();
    (
        f("a") + f("b") * x,
        f("a_se").powi(2) + x * x * f("b_se").powi(2) + 2.0 * x * f("cov_ab"),
    )
}

#[test]
fn predict_matches_closed_form_peaks_and_propagated_intervals() {
    let t = common::TestDir::new();
    pipeline(&t);
    t.cmd()
        .args([
            "predict",
            "--scaling",
            "scaling.json",
            "--rm-params",
            "1e9,3e10",
            "--iterations",
            "3",
            "--kl",
            "0.5,2,8,30",
            "--out",
            "pred.json",
        ])
        .assert()
        .success();
    let scaling = read(&t, "scaling.json");
    let pred = read(&t, "pred.json");
    let preds = pred["predictions"].as_array().unwrap();
    assert_eq!(preds.len(), 4);
    for p in preds {
        let method = p["method"].as_str().unwrap();
        let n = p["rm_params"].as_f64().unwrap();
        let (la, lb) = (
            law(&scaling, method, "alpha"),
            law(&scaling, method, "beta"),
        );
        let ((alpha, va), (beta, vb)) = (at(la, n), at(lb, n));
        // Cov(alpha(N), beta(N)) = g_alphaᵀ C g_beta, C from "law_covariances"
        let lc = scaling["law_covariances"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| {
                c["method"] == method
                    && c["model"] == "log-linear"
                    && c["coefficients"] == serde_json::json!(["alpha", "beta"])
            })
            .unwrap();
        let cm = |i: usize, j: usize| lc["cov"][i][j].as_f64().unwrap();
        let x = n.log10();
        let cab = cm(0, 0) + x * cm(0, 1) + x * cm(1, 0) + x * x * cm(1, 1);
        let dof = la["dof"].as_u64().unwrap().min(lb["dof"].as_u64().unwrap());
        let tq = StudentsT::new(0.0, 1.0, dof as f64)
            .unwrap()
            .inverse_cdf(0.975);
        let g = |v: &Value| v.as_f64().unwrap();
        assert!(rel(g(&p["alpha"]["value"]), alpha) < 1e-12);
        assert!(rel(g(&p["beta"]["value"]), beta) < 1e-12);
        assert!(rel(g(&p["alpha"]["high"]) - alpha, tq * va.sqrt()) < 1e-9);
        assert!(rel(beta - g(&p["beta"]["low"]), tq * vb.sqrt()) < 1e-9);
        let (d, score) = match method {
            "bon" => (alpha / (2.0 * beta), alpha * alpha / (4.0 * beta)),
            _ => {
                let d = (alpha / beta - 1.0).exp();
                (d, beta * d)
            }
        };
        let peak_kl = g(&p["peak"]["kl"]["value"]);
        let peak_score = g(&p["peak"]["score"]["value"]);
        assert!(
            rel(peak_kl, d * d) < 1e-9,
            "{method} {n}: peak kl {peak_kl} vs {}",
            d * d
        );
        assert!(
            rel(peak_score, score) < 1e-9,
            "{method} {n}: peak score {peak_score} vs {score}"
        );
        let lo = g(&p["peak"]["kl"]["low"]);
        assert!(lo < peak_kl && lo > 0.0);
        // An upper bound beyond 10x the largest observed KL is null, with the reason.
        let cap = 10.0 * scaling["observed_kl_max"][method].as_f64().unwrap();
        match p["peak"]["kl"]["high"].as_f64() {
            Some(hi) => assert!(peak_kl < hi && hi <= cap),
            None => {
                assert!(p["peak"]["score"]["high"].is_null());
                assert!(
                    p["peak_reason"]
                        .as_str()
                        .unwrap()
                        .contains("10x the largest observed KL")
                );
            }
        }
        // The curve and its band: R(d) linear in (alpha, beta), with their covariance.
        for point in p["curve"].as_array().unwrap() {
            let kl = g(&point["kl"]);
            let d = kl.sqrt();
            let (f1, f2) = match method {
                "bon" => (d, -d * d),
                _ => (d, -d * d.ln()),
            };
            let gold = alpha * f1 + beta * f2;
            let se = (f1 * f1 * va + f2 * f2 * vb + 2.0 * f1 * f2 * cab).sqrt();
            assert!(rel(g(&point["gold"]), gold) < 1e-9, "{method} kl {kl}");
            assert!(rel(g(&point["high"]) - gold, tq * se) < 1e-9);
        }
        // Iterated RLHF with k = 3: R_k(d) = d(alpha - beta ln d + beta ln 3).
        match method {
            "rl" => {
                let it = &p["iterated"];
                assert_eq!(it["k"], 3);
                if 9.0 * d * d <= cap {
                    assert!(rel(g(&it["peak"]["kl"]["value"]), 9.0 * d * d) < 1e-9);
                    assert!(rel(g(&it["peak"]["score"]["value"]), 3.0 * score) < 1e-9);
                } else {
                    // beyond 10x the largest observed KL: no number, a reason
                    assert!(it["peak"].is_null());
                    assert!(
                        it["peak_reason"]
                            .as_str()
                            .unwrap()
                            .contains("no valid peak")
                    );
                }
                for point in it["curve"].as_array().unwrap() {
                    let d = g(&point["kl"]).sqrt();
                    let want = d * (alpha - beta * d.ln() + beta * 3f64.ln());
                    assert!(rel(g(&point["gold"]), want) < 1e-9);
                }
            }
            _ => assert!(p["iterated"].is_null()),
        }
        let decades = g(&p["extrapolation_decades"]);
        let expected = (n / 3e9).log10().max((3e6 / n).log10()).max(0.0);
        assert!(
            (decades - expected).abs() < 1e-12,
            "decades {decades} vs {expected}"
        );
        let observed = scaling["observed_kl_max"][method].as_f64().unwrap();
        let beyond = p["warnings"]
            .as_array()
            .is_some_and(|w| w.iter().any(|w| w["kind"] == "beyond_observed_kl"));
        assert_eq!(beyond, peak_kl > observed, "{method} {n}: {}", p["warning"]);
        match method {
            "rl" => assert_eq!(p["warning"].is_null(), peak_kl <= observed),
            _ => assert!(
                p["warning"]
                    .as_str()
                    .unwrap()
                    .contains("--iterations applies to the RL form")
            ),
        }
    }
}

#[test]
fn far_extrapolation_carries_a_warning_and_csv_has_one_row_per_point() {
    let t = common::TestDir::new();
    pipeline(&t);
    t.cmd()
        .args([
            "predict",
            "--scaling",
            "scaling.json",
            "--rm-params",
            "1e11",
            "--method",
            "bon",
            "--kl",
            "0:10:0.5",
            "--out",
            "pred.json",
        ])
        .assert()
        .success()
        .stderr(predicates::str::contains(
            "a decade or more beyond the fitted sizes",
        ));
    let pred = read(&t, "pred.json");
    let p = &pred["predictions"][0];
    assert!(
        p["warning"].as_str().unwrap().contains("1.52 decades"),
        "{}",
        p["warning"]
    );
    t.cmd()
        .args([
            "predict",
            "--scaling",
            "scaling.json",
            "--rm-params",
            "1e10",
            "--method",
            "rl",
            "--kl",
            "0:10:0.5",
            "--iterations",
            "2",
            "--out",
            "pred.csv",
        ])
        .assert()
        .success();
    let csv = std::fs::read_to_string(t.path("pred.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert!(rows[0].starts_with("method,target,form,rm_params"));
    assert_eq!(rows.len(), 1 + 2 * 21, "21 KL points, single and iterated");
    assert!(csv.contains(",iterated_k2,"));
}

#[test]
fn power_model_predictions_use_the_power_laws() {
    let t = common::TestDir::new();
    pipeline(&t);
    t.cmd()
        .args([
            "predict",
            "--scaling",
            "scaling.json",
            "--rm-params",
            "1e10",
            "--method",
            "bon",
            "--model",
            "power",
            "--kl",
            "1",
            "--out",
            "pred.json",
        ])
        .assert()
        .success();
    let scaling = read(&t, "scaling.json");
    let pred = read(&t, "pred.json");
    let l = scaling["laws"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["method"] == "bon" && l["coefficient"] == "alpha" && l["model"] == "power")
        .unwrap();
    let want = l["a"].as_f64().unwrap() * 1e10f64.powf(l["b"].as_f64().unwrap());
    assert!(
        rel(
            pred["predictions"][0]["alpha"]["value"].as_f64().unwrap(),
            want
        ) < 1e-12
    );
    assert_eq!(pred["predictions"][0]["model"], "power+power");
}

/// The demo world at 10x its largest RM (issue 13, items 2-3): from the committed fits JSON,
/// `scale` then `predict --rm-params 10x`, as library calls.
fn demo_at_10x(
    model: goodhart::scaling::predict::LawModel,
) -> (
    goodhart::document::ScalingDoc,
    goodhart::document::PredictDoc,
    f64,
) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fits/fits.json");
    at_10x(&path, model)
}

/// The scaling laws of the fits JSON at `path` and their predictions at 10x the largest RM.
fn at_10x(
    path: &std::path::Path,
    model: goodhart::scaling::predict::LawModel,
) -> (
    goodhart::document::ScalingDoc,
    goodhart::document::PredictDoc,
    f64,
) {
    use goodhart::document::FitsDocument;
    use goodhart::scaling::predict::{PredictOptions, predict};
    use goodhart::scaling::{ScaleOptions, SizeKey, scale};
    let fits = FitsDocument::read(path).unwrap();
    let largest = fits.fits.iter().map(|f| f.rm_params).fold(0.0, f64::max);
    let scaling = scale(
        &fits,
        &ScaleOptions {
            by: SizeKey::RmParams,
        },
    )
    .unwrap();
    let size = 10.0 * largest;
    let pred = predict(
        &scaling,
        &PredictOptions {
            sizes: vec![size],
            method: None,
            kl: None,
            iterations: Some(2),
            model,
        },
    )
    .unwrap();
    (scaling, pred, size)
}

#[test]
fn demo_at_10x_warns_for_every_crossing_law_and_never_prints_an_absurd_peak() {
    use goodhart::document::{LawModelKind, WarningKind};
    use goodhart::scaling::predict::{LawModel, group_label, summary};
    let (scaling, pred, size) = demo_at_10x(LawModel::LogLinear);
    assert!(pred.failed.is_empty(), "{:?}", pred.failed);
    eprintln!("{}", summary(&pred));
    let largest_fitted = scaling
        .laws
        .iter()
        .flat_map(|l| l.sizes.iter().copied())
        .fold(0.0, f64::max);
    let (mut crossing, mut beyond) = (0, 0);
    for p in &pred.predictions {
        let label = group_label(p.method, p.target, p.form, &p.group);
        let observed = scaling.observed_kl_max[p.method.as_str()];
        assert_eq!(p.observed_kl_max, Some(observed));
        assert!(p.warnings.iter().all(|w| w.group == label));
        assert!(p.warnings.iter().all(|w| w.message.starts_with(&label)));
        // (b) every beta (or alpha) law that crosses zero between the largest fitted size and
        // the requested one: a named warning with the closed-form size 10^(-a/b)
        for l in scaling.laws.iter().filter(|l| {
            l.model == LawModelKind::LogLinear
                && l.method == p.method
                && l.target == p.target
                && l.group == p.group
        }) {
            // (a proxy's beta is not expected to be > 0: not checked)
            if p.target == goodhart::document::Target::Proxy && l.coefficient == "beta" {
                continue;
            }
            let z = 10f64.powf(-l.a / l.b);
            if z > largest_fitted && z <= size {
                crossing += 1;
                let w = p
                    .warnings
                    .iter()
                    .find(|w| {
                        w.kind == WarningKind::LawCrossesZero
                            && w.message.contains(&format!("law of {}", l.coefficient))
                    })
                    .unwrap_or_else(|| {
                        panic!("{label}: no crossing warning for {}", l.coefficient)
                    });
                assert!((w.size.unwrap() / z - 1.0).abs() < 1e-9);
            }
        }
        // (c) a peak beyond the observed KL (the closed form from the predicted coefficients)
        let (alpha, beta) = (p.params["alpha"].value, p.params["beta"].value);
        let raw = match p.method {
            goodhart::schema::Method::Bon if alpha > 0.0 && beta > 0.0 => {
                Some((alpha / (2.0 * beta)).powi(2))
            }
            goodhart::schema::Method::Rl if beta > 0.0 => Some((alpha / beta - 1.0).exp().powi(2)),
            _ => None,
        };
        if let Some(k) = raw.filter(|k| *k > observed) {
            beyond += 1;
            assert!(
                p.warnings
                    .iter()
                    .any(|w| w.kind == WarningKind::BeyondObservedKl),
                "{label}: peak KL {k} beyond {observed} without a warning"
            );
        }
        // beta <= 0: no peak, with a reason; a sign warning for gold only (a proxy is not
        // expected to peak)
        if beta <= 0.0 {
            assert!(p.peak.is_none());
            assert!(p.peak_reason.as_deref().unwrap().contains("no peak"));
            let signed = p
                .warnings
                .iter()
                .any(|w| w.kind == WarningKind::CoefficientSign);
            assert_eq!(
                signed,
                p.target == goodhart::document::Target::Gold,
                "{label}"
            );
        }
        // no peak KL above 10x the largest observed KL as a plain number, anywhere
        let cap = 10.0 * observed;
        let peaks = [
            p.peak.as_ref(),
            p.iterated.as_ref().and_then(|i| i.peak.as_ref()),
        ];
        for pk in peaks.into_iter().flatten() {
            for v in [
                Some(pk.kl.value),
                pk.kl.low,
                pk.kl.high,
                pk.kl.new_rm_low,
                pk.kl.new_rm_high,
            ]
            .into_iter()
            .flatten()
            {
                assert!(v <= cap, "{label}: peak KL {v} beyond {cap}");
            }
        }
        if p.peak.is_none() {
            assert!(p.peak_reason.is_some(), "{label}: a null peak has a reason");
        }
    }
    // the JSON never holds a number like 5e112
    fn largest(v: &Value) -> f64 {
        match v {
            Value::Number(n) => n.as_f64().unwrap().abs(),
            Value::Array(a) => a.iter().map(largest).fold(0.0, f64::max),
            Value::Object(o) => o.values().map(largest).fold(0.0, f64::max),
            _ => 0.0,
        }
    }
    let json: Value = serde_json::from_slice(&pred.to_json()).unwrap();
    assert!(largest(&json) <= size, "a number above {size} in the JSON");
    eprintln!(
        "{} predictions, {crossing} crossing laws, {beyond} peaks beyond the observed KL",
        pred.predictions.len()
    );
    assert!(crossing >= 1 && beyond >= 1);
}

/// The demo's curves fitted with `goodhart fit --share-alpha-rl` (one alpha for every RL family,
/// penalised ones too; the demo itself shares only among unpenalised runs): the
/// `rl gold kl_penalty=0.3 policy_params=32` groups at 10x the largest fitted RM have a beta law
/// that crosses zero inside the fitted sizes (~1,950 / ~1,680 params), most of their fitted
/// curves have no peak, and 10x the largest fitted size is a full decade. Each is named.
#[test]
fn demo_groups_whose_beta_law_crosses_zero_inside_the_fitted_sizes_warn() {
    use goodhart::document::{Target, WarningKind};
    use goodhart::scaling::predict::{LawModel, warning_lines};
    let t = crate::common::TestDir::new();
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    t.cmd()
        .args(["fit", "--share-alpha-rl", "--quiet", "--out", "fits.json"])
        .arg(repo.join("data/bon_curves.csv"))
        .arg(repo.join("data/rl_runs.csv"))
        .assert()
        .success();
    let (scaling, pred, _) = at_10x(&t.path("fits.json"), LawModel::LogLinear);
    let mut seen = 0;
    for p in &pred.predictions {
        if !(p.target == Target::Gold
            && p.group.get("kl_penalty") == Some(&Some(0.3))
            && p.group.get("policy_params") == Some(&Some(32.0)))
        {
            continue;
        }
        seen += 1;
        let kinds: Vec<WarningKind> = p.warnings.iter().map(|w| w.kind).collect();
        let crossing = p
            .warnings
            .iter()
            .find(|w| w.kind == WarningKind::LawCrossesZero)
            .unwrap_or_else(|| panic!("no crossing warning: {:?}", p.warnings));
        let z = crossing.size.unwrap();
        assert!(z > 16.0 && z < 2320.0, "{z}");
        assert!(crossing.message.contains("inside the fitted sizes"));
        assert!(!crossing.message.contains("+ -"), "{}", crossing.message);
        assert!(kinds.contains(&WarningKind::Extrapolation), "{kinds:?}");
        assert!(kinds.contains(&WarningKind::FitsWithoutPeak), "{kinds:?}");
        // the scaling file carries the group's own KL reach and its count of peakless fits
        let l = scaling
            .laws
            .iter()
            .find(|l| l.group == p.group && l.target == p.target && l.method == p.method)
            .unwrap();
        let reach = l.group_kl_max.unwrap();
        assert!(reach < scaling.observed_kl_max["rl"], "{reach}");
        assert!(2 * l.no_peak_fits.unwrap() > l.n);
    }
    assert_eq!(seen, 2);
    // the demo's BoN fits bootstrap shared prompts: the laws' errors are understated, said once
    assert_eq!(
        scaling
            .warnings
            .iter()
            .filter(|w| w.contains("understated") && w.contains("same prompts"))
            .count(),
        1,
        "{:?}",
        scaling.warnings
    );
    // no proxy group warns about its beta's sign
    assert!(pred.predictions.iter().all(|p| {
        p.target == Target::Gold
            || p.warnings
                .iter()
                .all(|w| w.kind != WarningKind::CoefficientSign || !w.message.contains("beta"))
    }));
    // stderr: at most one line per group, no doubled parenthesis anywhere
    let lines = warning_lines(&pred, 5);
    assert!(lines.len() <= pred.predictions.len() + 6, "{}", lines.len());
    for p in &pred.predictions {
        for w in &p.warnings {
            assert!(!w.message.contains("no peak))"), "{}", w.message);
        }
    }
}
