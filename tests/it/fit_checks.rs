//! What `goodhart fit` must say about fits that look fine but are not: a shared RL alpha the
//! data reject, peaks far beyond the fitted KL range, an offset baseline with `--baseline none`.

use crate::common;

use common::TestDir;
use serde_json::Value;

fn json(t: &TestDir, name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(t.path(name)).unwrap()).unwrap()
}

/// RL curves d·(alpha − beta·ln d), one per (rm_params, alpha), with small alternating noise.
fn rl_curves(alphas: &[f64]) -> String {
    let mut s = String::from("method,rm_params,kl,gold\n");
    for (i, &alpha) in alphas.iter().enumerate() {
        let rm = 1e8 * (i + 1) as f64;
        s.push_str(&format!("rl,{rm},0,0.01\nrl,{rm},0,-0.01\n"));
        for k in 1..=16 {
            let d = k as f64 * 0.25;
            let noise = if k % 2 == 0 { 0.01 } else { -0.01 };
            s.push_str(&format!(
                "rl,{rm},{},{}\n",
                d * d,
                d * (alpha - 0.3 * d.ln()) + noise
            ));
        }
    }
    s
}

#[test]
fn a_shared_alpha_the_data_reject_is_tested_and_warned() {
    let t = TestDir::new();
    t.write("c.csv", rl_curves(&[0.6, 1.2, 1.8]));
    let out = t
        .cmd()
        .args([
            "fit",
            "c.csv",
            "--out",
            "f.json",
            "--share-alpha-rl",
            "--verbose",
        ])
        .assert()
        .success();
    let o = out.get_output();
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    let v = json(&t, "f.json");
    let block = &v["shared_fits"][0];
    let test = &block["share_test"];
    assert_eq!(test["dof_num"], 2);
    assert_eq!(test["dof_den"], 48 - 6);
    assert!(test["p_value"].as_f64().unwrap() < 1e-3, "{test}");
    assert!(test["f"].as_f64().unwrap() > 100.0, "{test}");
    let warns = block["warnings"].as_array().unwrap();
    assert!(
        warns
            .iter()
            .any(|w| w.as_str().unwrap().contains("rejected"))
    );
    for f in v["fits"].as_array().unwrap() {
        assert!(
            f["warnings"].as_array().unwrap().iter().any(|w| w
                .as_str()
                .unwrap()
                .contains("shared alpha of the RL family")),
            "{f}"
        );
    }
    assert!(stdout.contains("REJECTED"), "{stdout}");
    assert!(stderr.contains("rejected by the data"), "{stderr}");
}

#[test]
fn a_shared_alpha_the_data_accept_has_no_warning() {
    let t = TestDir::new();
    t.write("c.csv", rl_curves(&[1.0, 1.0, 1.0]));
    t.cmd()
        .args([
            "fit",
            "c.csv",
            "--out",
            "f.json",
            "--share-alpha-rl",
            "--quiet",
        ])
        .assert()
        .success();
    let v = json(&t, "f.json");
    let block = &v["shared_fits"][0];
    assert!(block["share_test"]["p_value"].as_f64().unwrap() > 0.01);
    assert!(block.get("warnings").is_none(), "{block}");
}

#[test]
fn a_peak_beyond_10x_the_fitted_kl_is_not_given() {
    let t = TestDir::new();
    // d·(1 − 0.01·d) peaks at d = 50 (KL 2500); the points reach KL 4.
    let mut s = String::from("method,rm_params,kl,gold\nbon,1e8,0,0.005\nbon,1e8,0,-0.005\n");
    for k in 1..=12 {
        let d = k as f64 / 6.0;
        let noise = if k % 2 == 0 { 0.002 } else { -0.002 };
        s.push_str(&format!(
            "bon,1e8,{},{}\n",
            d * d,
            d * (1.0 - 0.01 * d) + noise
        ));
    }
    t.write("c.csv", s);
    let out = t
        .cmd()
        .args([
            "fit",
            "c.csv",
            "--out",
            "f.json",
            "--csv",
            "f.csv",
            "--verbose",
        ])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let v = json(&t, "f.json");
    let f = &v["fits"][0];
    assert!(f["peak"].is_null(), "{f}");
    assert!(
        f["peak_reason"]
            .as_str()
            .unwrap()
            .contains("beyond 10x the fitted KL range")
    );
    assert!(
        stdout.contains("beyond 10x the fitted KL range"),
        "{stdout}"
    );
    let csv = std::fs::read_to_string(t.path("f.csv")).unwrap();
    let mut lines = csv.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = head.iter().position(|h| *h == "peak_kl").unwrap();
    assert_eq!(row[col], "", "{csv}");
    assert!(csv.contains("beyond 10x the fitted KL range"), "{csv}");
}

#[test]
fn baseline_none_warns_when_the_kl0_rows_are_offset() {
    let t = TestDir::new();
    let offset = common::small_curves_csv()
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                return l.to_string();
            }
            let (head, y) = l.rsplit_once(',').unwrap();
            format!("{head},{}", y.parse::<f64>().unwrap() + 1.0)
        })
        .collect::<Vec<_>>()
        .join("\n");
    t.write("off.csv", offset);
    t.write("ok.csv", common::small_curves_csv());
    let stderr = fit_ok(
        &t,
        &["fit", "off.csv", "--out", "f.json", "--baseline", "none"],
    );
    assert!(
        stderr.contains("R(0) = 0 is assumed (--baseline none) but the kl = 0 mean is 1.0000"),
        "{stderr}"
    );
    assert!(stderr.contains("use --baseline auto"), "{stderr}");
    let stderr = fit_ok(
        &t,
        &["fit", "ok.csv", "--out", "g.json", "--baseline", "none"],
    );
    assert!(!stderr.contains("R(0) = 0 is assumed"), "{stderr}");
}

#[test]
fn a_weighted_baseline_se_is_not_shrunk_below_the_raw_se() {
    let t = TestDir::new();
    // gold_se 0.05 everywhere, noise 0.001: reduced chi-square far below 1.
    let mut s = String::from(
        "method,rm_params,kl,gold,gold_se\nrl,1e8,0,0.001,0.05\nrl,1e8,0,-0.001,0.05\n",
    );
    for k in 1..=12 {
        let d = k as f64 * 0.25;
        let noise = if k % 2 == 0 { 0.001 } else { -0.001 };
        s.push_str(&format!(
            "rl,1e8,{},{},0.05\n",
            d * d,
            d * (0.5 - 0.2 * d.ln()) + noise
        ));
    }
    t.write("c.csv", s);
    t.cmd()
        .args([
            "fit",
            "c.csv",
            "--out",
            "f.json",
            "--bootstrap",
            "0",
            "--quiet",
        ])
        .assert()
        .success();
    let v = json(&t, "f.json");
    let f = &v["fits"][0];
    assert!(f["redchi"].as_f64().unwrap() < 0.1, "{f}");
    let raw = (2.0 * 0.05f64 * 0.05).sqrt() / 2.0;
    let se = f["baseline"]["se"].as_f64().unwrap();
    assert!((se - raw).abs() < 1e-12, "baseline se {se} vs raw {raw}");
}

#[test]
fn an_unweighted_bon_fit_with_t_intervals_warns_of_shared_pools() {
    let t = TestDir::new();
    t.write("c.csv", common::small_curves_csv());
    let stderr = fit_ok(
        &t,
        &["fit", "c.csv", "--out", "f.json", "--weights", "none"],
    );
    assert!(
        stderr.contains("if they were estimated from one set of sample pools")
            && stderr.contains("this unweighted fit are too narrow")
            && stderr.contains("bon rm_params=1e8"),
        "{stderr}"
    );
    let v = json(&t, "f.json");
    let rl = v["fits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["method"] == "rl")
        .unwrap();
    assert!(
        rl.get("warnings")
            .is_none_or(|w| w.as_array().unwrap().is_empty()),
        "{rl}"
    );
}

#[test]
fn ci_bca_without_per_prompt_values_warns_once() {
    let t = TestDir::new();
    t.write("c.csv", common::small_curves_csv());
    let stderr = fit_ok(&t, &["fit", "c.csv", "--out", "f.json", "--ci", "bca"]);
    assert_eq!(
        stderr.matches("--ci bca needs per-prompt values").count(),
        1,
        "{stderr}"
    );
}

/// Runs `goodhart` with `args` in the test folder; it must succeed. Returns its stderr.
fn fit_ok(t: &TestDir, args: &[&str]) -> String {
    let o = t.cmd().args(args).assert().success();
    String::from_utf8_lossy(&o.get_output().stderr).into_owned()
}

/// `--bootstrap 1` on curves with per-prompt values: the warning says one replicate is too few
/// for intervals (it said "only 1 of 1 ... could be fitted", as if a fit had failed).
#[test]
fn one_bootstrap_replicate_is_called_too_few_not_a_failed_fit() {
    let t = TestDir::new();
    let curves = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/bon_curves.csv");
    let out = t
        .cmd()
        .args([
            "fit",
            curves.to_str().unwrap(),
            "--out",
            "f.json",
            "--bootstrap",
            "1",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("1 bootstrap replicate: intervals need at least 2"),
        "{stderr}"
    );
    assert!(!stderr.contains("only 1 of 1"), "{stderr}");
}

/// RL curves of a given shape g(d) (`alpha·d − beta_i·g(d)` with beta falling with size), kl = 0
/// rows at exactly 0 so that the baseline is 0, and small alternating noise; rm_params 1e7-1e9.
fn rl_curves_shaped(g: impl Fn(f64) -> f64) -> (String, Vec<Vec<(f64, f64)>>) {
    let mut s = String::from("method,rm_params,kl,gold,proxy\n");
    let mut curves = Vec::new();
    for (i, beta) in [0.30, 0.22, 0.16, 0.12].into_iter().enumerate() {
        let rm = 1e7 * 10f64.powf(i as f64 * 2.0 / 3.0);
        s.push_str(&format!("rl,{rm},0,0,0\nrl,{rm},0,0,0\n"));
        let mut pts = Vec::new();
        for k in 1..=20 {
            let d = k as f64 * 0.25;
            let noise = if k % 2 == 0 { 0.004 } else { -0.004 };
            let y = 0.9 * d - beta * g(d) + noise;
            s.push_str(&format!("rl,{rm},{},{y},{}\n", d * d, 0.5 * d));
            pts.push((d, y));
        }
        curves.push(pts);
    }
    (s, curves)
}

/// The unweighted χ² of y ≈ a·d + b·h(d) by the 2×2 normal equations (independent of the
/// solver's QR).
fn chisqr_two(pts: &[(f64, f64)], h: impl Fn(f64) -> f64) -> f64 {
    let (mut s11, mut s12, mut s22, mut t1, mut t2) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for &(d, y) in pts {
        let (x1, x2) = (d, h(d));
        s11 += x1 * x1;
        s12 += x1 * x2;
        s22 += x2 * x2;
        t1 += x1 * y;
        t2 += x2 * y;
    }
    let det = s11 * s22 - s12 * s12;
    let (a, b) = ((s22 * t1 - s12 * t2) / det, (s11 * t2 - s12 * t1) / det);
    pts.iter()
        .map(|&(d, y)| (y - a * d - b * h(d)).powi(2))
        .sum()
}

/// Fits, scales and predicts the curves of `csv`; returns (fits, scaling, predictions, fit's
/// stderr).
fn fit_scale_predict(t: &TestDir, csv: String) -> (Value, Value, Value, String) {
    t.write("c.csv", csv);
    let out = t
        .cmd()
        .args([
            "fit", "c.csv", "--target", "both", "--out", "f.json", "--csv", "f.csv",
        ])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    t.cmd()
        .args(["scale", "f.json", "--out", "s.json", "--quiet"])
        .assert()
        .success();
    t.cmd()
        .args([
            "predict",
            "--scaling",
            "s.json",
            "--rm-params",
            "1e10",
            "--out",
            "p.json",
            "--quiet",
        ])
        .assert()
        .success();
    (
        json(t, "f.json"),
        json(t, "s.json"),
        json(t, "p.json"),
        stderr,
    )
}

/// The gold fits of a fits document, in order.
fn gold_fits(fits: &Value) -> Vec<&Value> {
    fits["fits"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["target"] == "gold")
        .collect()
}

fn form_rejected_kinds(predictions: &Value, target: &str) -> usize {
    predictions["predictions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["target"] == target)
        .flat_map(|p| p["warnings"].as_array().cloned().unwrap_or_default())
        .filter(|w| w["kind"] == "form_rejected")
        .count()
}

#[test]
fn rl_curves_of_the_best_of_n_shape_are_rejected_by_the_form_check_down_to_the_predictions() {
    let t = TestDir::new();
    let (csv, curves) = rl_curves_shaped(|d| d * d);
    let (fits, scaling, predictions, stderr) = fit_scale_predict(&t, csv);
    let gold = gold_fits(&fits);
    assert_eq!(gold.len(), 4);
    for (f, pts) in gold.iter().zip(&curves) {
        let check = &f["form_check"];
        assert_eq!(check["alternative"], "bon", "{f}");
        assert_eq!(check["verdict"], "rejected", "{f}");
        // ΔAIC = n ln(χ²_rl / χ²_bon) for two forms of two parameters each (lmfit's AIC)
        let expected = pts.len() as f64
            * (chisqr_two(pts, |d| -d * d.ln()) / chisqr_two(pts, |d| -d * d)).ln();
        let got = check["delta_aic"].as_f64().unwrap();
        assert!(
            (got - expected).abs() <= 1e-8 * expected.abs(),
            "{got} vs {expected}"
        );
        assert!(got > 10.0, "{got}");
        assert!(
            f["warnings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|w| w.as_str().unwrap().starts_with("form check: the bon form")),
            "{f}"
        );
    }
    // proxies are not expected to peak: no check
    for f in fits["fits"].as_array().unwrap() {
        if f["target"] == "proxy" {
            assert!(f.get("form_check").is_none(), "{f}");
        }
    }
    // fits.csv: the verdict and the difference in the last two columns, empty for proxy fits
    let mut csv = csv::Reader::from_path(t.path("f.csv")).unwrap();
    let header = csv.headers().unwrap().clone();
    let n = header.len();
    assert_eq!(&header[n - 2], "form_check_verdict");
    assert_eq!(&header[n - 1], "form_check_delta_aic");
    let target = header.iter().position(|h| h == "target").unwrap();
    let mut gold_rows = 0;
    for row in csv.records() {
        let row = row.unwrap();
        if &row[target] == "gold" {
            gold_rows += 1;
            assert_eq!(&row[n - 2], "rejected");
            assert!(row[n - 1].parse::<f64>().unwrap() > 10.0);
        } else {
            assert_eq!((&row[n - 2], &row[n - 1]), ("", ""));
        }
    }
    assert_eq!(gold_rows, 4);
    // one stderr line for the four fits (the warning carries no number, so it groups)
    assert_eq!(
        stderr.matches("form check: the bon form").count(),
        1,
        "{stderr}"
    );
    assert!(stderr.contains("and 1 more"), "{stderr}");
    for l in scaling["laws"].as_array().unwrap() {
        let expected = (l["target"] == "gold").then_some(4);
        assert_eq!(l["form_rejected_fits"].as_u64(), expected, "{l}");
    }
    assert!(
        form_rejected_kinds(&predictions, "gold") >= 1,
        "{predictions}"
    );
    assert_eq!(form_rejected_kinds(&predictions, "proxy"), 0);
    // `scale` names the group on stderr
    let scale = t
        .cmd()
        .args(["scale", "f.json", "--out", "s2.json"])
        .assert()
        .success();
    let err = String::from_utf8_lossy(&scale.get_output().stderr).to_string();
    assert!(
        err.contains("rl gold (rl): the form check rejects the rl form on 4 of the group's 4 fits"),
        "{err}"
    );
}

#[test]
fn rl_curves_of_the_rl_shape_pass_the_form_check() {
    let t = TestDir::new();
    let (csv, curves) = rl_curves_shaped(|d| d * d.ln());
    let (fits, scaling, predictions, stderr) = fit_scale_predict(&t, csv);
    let gold = gold_fits(&fits);
    for (f, pts) in gold.iter().zip(&curves) {
        let check = &f["form_check"];
        assert_eq!(check["verdict"], "preferred", "{f}");
        let expected = pts.len() as f64
            * (chisqr_two(pts, |d| -d * d.ln()) / chisqr_two(pts, |d| -d * d)).ln();
        let got = check["delta_aic"].as_f64().unwrap();
        assert!(got < -10.0, "the rl form is the better one here: {got}");
        assert!((got - expected).abs() <= 1e-8 * expected.abs());
        assert!(
            f.get("warnings")
                .is_none_or(|w| !w.to_string().contains("form check"))
        );
    }
    assert!(!stderr.contains("form check"), "{stderr}");
    for l in scaling["laws"].as_array().unwrap() {
        if l["target"] == "gold" {
            assert_eq!(l["form_rejected_fits"], 0, "{l}");
        }
    }
    assert_eq!(form_rejected_kinds(&predictions, "gold"), 0);
}
