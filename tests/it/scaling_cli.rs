//! The command line of issue 4: `scale`, `predict`, `fit --share-alpha-rl`, `--form rl-log1p |
//! power`, `--compare-forms`, `scale --joint`, and every bad input: one clear message, exit 1,
//! no output file left behind.

use crate::common;

use nalgebra::{DMatrix, DVector};
use predicates::str::contains;
use serde_json::Value;

use common::TestDir;

fn read(t: &TestDir, name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(t.path(name)).unwrap()).unwrap()
}

fn law_fits(t: &TestDir, extra: &[&str]) {
    let mut args = vec!["generate", "law", "--out", "law.csv", "--seed", "2"];
    args.extend_from_slice(extra);
    t.cmd().args(&args).assert().success();
    t.cmd()
        .args(["fit", "law.csv", "--out", "fits.json", "--quiet"])
        .assert()
        .success();
}

fn assert_no_output(t: &TestDir, name: &str) {
    let files = t.files();
    assert!(
        !files.iter().any(|f| f == name),
        "{name} was written: {files:?}"
    );
    assert!(
        !files.iter().any(|f| f.ends_with(".tmp")),
        "temporary file left: {files:?}"
    );
}

#[test]
fn scale_refuses_a_single_size() {
    let t = TestDir::new();
    law_fits(&t, &["--method", "bon", "--rm-params", "1e8"]);
    t.cmd()
        .args(["scale", "fits.json", "--out", "scaling.json"])
        .assert()
        .code(1)
        .stderr(contains("single fit (rm_params = 1e8)").and(contains("2 or more sizes")));
    assert_no_output(&t, "scaling.json");
}

use predicates::prelude::PredicateBooleanExt;

#[test]
fn scale_refuses_sizes_that_do_not_vary() {
    let t = TestDir::new();
    law_fits(&t, &["--rm-params", "1e8"]);
    t.cmd()
        .args(["scale", "fits.json", "--out", "scaling.json"])
        .assert()
        .code(1)
        .stderr(contains(
            "rm_params does not vary: all 2 fits have rm_params = 1e8",
        ));
    assert_no_output(&t, "scaling.json");
    // --by a key the fits do not have
    t.cmd()
        .args([
            "scale",
            "fits.json",
            "--out",
            "scaling.json",
            "--by",
            "rm_data",
        ])
        .assert()
        .code(1)
        .stderr(contains("has no rm_data value"));
    assert_no_output(&t, "scaling.json");
}

#[test]
fn non_positive_sizes_are_refused() {
    let t = TestDir::new();
    law_fits(&t, &["--rm-params", "1e7,1e8,1e9"]);
    let text = std::fs::read_to_string(t.path("fits.json")).unwrap();
    t.write(
        "bad_fits.json",
        text.replacen("\"rm_params\": 10000000.0", "\"rm_params\": -10000000.0", 1),
    );
    assert_ne!(
        std::fs::read_to_string(t.path("bad_fits.json")).unwrap(),
        text,
        "fixture edited"
    );
    t.cmd()
        .args(["scale", "bad_fits.json", "--out", "scaling.json"])
        .assert()
        .code(1)
        .stderr(contains(
            "rm_params = -10000000 in the fits: a size must be a finite number > 0",
        ));
    assert_no_output(&t, "scaling.json");
    t.cmd()
        .args(["scale", "fits.json", "--out", "scaling.json", "-q"])
        .assert()
        .success();
    for bad in ["0", "-1e9", "1e9,-5"] {
        t.cmd()
            .args([
                "predict",
                "--scaling",
                "scaling.json",
                "--rm-params",
                bad,
                "--out",
                "pred.json",
            ])
            .assert()
            .code(2)
            .stderr(contains("is not a size > 0"));
        assert_no_output(&t, "pred.json");
    }
}

#[test]
fn predict_refuses_a_scaling_file_of_another_version() {
    let t = TestDir::new();
    law_fits(&t, &["--rm-params", "1e7,1e8,1e9"]);
    t.cmd()
        .args(["scale", "fits.json", "--out", "scaling.json", "-q"])
        .assert()
        .success();
    let mut doc = read(&t, "scaling.json");
    doc["goodhart_version"] = Value::from("0.0.1");
    t.write("old.json", serde_json::to_vec(&doc).unwrap());
    t.cmd()
        .args([
            "predict",
            "--scaling",
            "old.json",
            "--rm-params",
            "1e10",
            "--out",
            "pred.json",
        ])
        .assert()
        .code(1)
        .stderr(contains("written by goodhart 0.0.1").and(contains("run `goodhart scale` again")));
    assert_no_output(&t, "pred.json");
    // and a file that is no scaling file at all
    t.cmd()
        .args([
            "predict",
            "--scaling",
            "fits.json",
            "--rm-params",
            "1e10",
            "--out",
            "pred.json",
        ])
        .assert()
        .code(1);
    assert_no_output(&t, "pred.json");
}

#[test]
fn joint_needs_curves() {
    let t = TestDir::new();
    law_fits(&t, &["--rm-params", "1e7,1e8,1e9"]);
    t.cmd()
        .args(["scale", "fits.json", "--out", "scaling.json", "--joint"])
        .assert()
        .code(2)
        .stderr(contains("--curves"));
    assert_no_output(&t, "scaling.json");
}

/// Mean of the kl = 0 golds subtracted, kl = 0 rows dropped: (rm_params, d, y) per row.
fn rl_points(t: &TestDir) -> Vec<(f64, f64, f64)> {
    let text = std::fs::read_to_string(t.path("law.csv")).unwrap();
    let rows: Vec<(String, f64, f64, f64)> = text
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (
                c[0].to_string(),
                c[1].parse().unwrap(),
                c[2].parse().unwrap(),
                c[3].parse().unwrap(),
            )
        })
        .filter(|r| r.0 == "rl")
        .collect();
    let mut out = Vec::new();
    let mut sizes: Vec<f64> = rows.iter().map(|r| r.1).collect();
    sizes.sort_by(f64::total_cmp);
    sizes.dedup();
    for n in sizes {
        let zeros: Vec<f64> = rows
            .iter()
            .filter(|r| r.1 == n && r.2 == 0.0)
            .map(|r| r.3)
            .collect();
        let base = zeros.iter().sum::<f64>() / zeros.len() as f64;
        for r in rows.iter().filter(|r| r.1 == n && r.2 > 0.0) {
            out.push((n, r.2.sqrt(), r.3 - base));
        }
    }
    out
}

#[test]
fn shared_alpha_rl_is_one_block_least_squares_fit() {
    let t = TestDir::new();
    t.cmd()
        .args([
            "generate",
            "law",
            "--out",
            "law.csv",
            "--seed",
            "4",
            "--rm-params",
            "1e7,1e8,1e9",
            "--noise",
            "0.03",
        ])
        .assert()
        .success();
    t.cmd()
        .args([
            "fit",
            "law.csv",
            "--out",
            "fits.json",
            "--share-alpha-rl",
            "--quiet",
        ])
        .assert()
        .success();
    let doc = read(&t, "fits.json");
    // Independent reference: the normal equations of the block problem, solved by LU.
    let pts = rl_points(&t);
    let sizes = [1e7, 1e8, 1e9];
    let x = DMatrix::from_fn(pts.len(), 4, |i, j| {
        let (n, d, _) = pts[i];
        match j {
            0 => d,
            j if sizes[j - 1] == n => -d * d.ln(),
            _ => 0.0,
        }
    });
    let y = DVector::from_iterator(pts.len(), pts.iter().map(|p| p.2));
    let coef = (x.transpose() * &x)
        .lu()
        .solve(&(x.transpose() * y))
        .unwrap();
    let rl: Vec<&Value> = doc["fits"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["method"] == "rl")
        .collect();
    assert_eq!(rl.len(), 3);
    for (k, f) in rl.iter().enumerate() {
        assert_eq!(f["shared"], serde_json::json!(["alpha"]));
        let alpha = f["params"]["alpha"]["value"].as_f64().unwrap();
        let beta = f["params"]["beta"]["value"].as_f64().unwrap();
        assert!(
            (alpha - coef[0]).abs() < 1e-9 * coef[0].abs(),
            "alpha {alpha} vs {}",
            coef[0]
        );
        assert!(
            (beta - coef[1 + k]).abs() < 1e-9 * coef[1 + k].abs(),
            "beta {beta} vs {}",
            coef[1 + k]
        );
    }
    let bon: Vec<&Value> = doc["fits"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["method"] == "bon")
        .collect();
    assert!(bon.iter().all(|f| f.get("shared").is_none()));
    let block = &doc["shared_fits"][0];
    assert_eq!(block["names"].as_array().unwrap().len(), 4);
    let cov = block["covariance"].as_array().unwrap();
    assert_eq!(cov.len(), 4);
    // the per-fit covariance is the (alpha, beta_k) block of the joint one
    let c1 = &rl[1]["covariance"];
    assert_eq!(c1[0][1], cov[0][2]);
    assert_eq!(c1[1][1], cov[2][2]);
    // scale reports the shared alpha as a constant
    t.cmd()
        .args(["scale", "fits.json", "--out", "scaling.json", "-q"])
        .assert()
        .success();
    let s = read(&t, "scaling.json");
    let alpha_laws: Vec<&Value> = s["laws"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["method"] == "rl" && l["coefficient"] == "alpha")
        .collect();
    assert_eq!(alpha_laws.len(), 1);
    assert_eq!(alpha_laws[0]["model"], "constant");
    assert_eq!(alpha_laws[0]["b"], 0.0);
    assert!((alpha_laws[0]["a"].as_f64().unwrap() - coef[0]).abs() < 1e-9);
    // and predict uses it for every size
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
            "1",
            "--out",
            "p.json",
        ])
        .assert()
        .success();
    let p = read(&t, "p.json");
    assert_eq!(
        p["predictions"][0]["alpha"]["value"].as_f64().unwrap(),
        alpha_laws[0]["a"].as_f64().unwrap()
    );
}

#[test]
fn alternative_forms_and_their_comparison() {
    let t = TestDir::new();
    t.cmd()
        .args([
            "generate",
            "law",
            "--out",
            "law.csv",
            "--seed",
            "8",
            "--method",
            "bon",
            "--rm-params",
            "1e8,1e9",
            "--noise",
            "0.01",
        ])
        .assert()
        .success();
    for form in ["rl-log1p", "power"] {
        let out = format!("{form}.json");
        t.cmd()
            .args(["fit", "law.csv", "--out", &out, "--form", form, "--quiet"])
            .assert()
            .success();
        let doc = read(&t, &out);
        for f in doc["fits"].as_array().unwrap() {
            assert_eq!(f["form"], form);
            assert_eq!(f["converged"], true);
        }
    }
    let power = read(&t, "power.json");
    let f = &power["fits"][0];
    assert!(f["params"]["gamma"]["value"].as_f64().unwrap() > 0.0);
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("Levenberg-Marquardt"),
        "termination reason reported: {}",
        f["message"]
    );
    // best-of-n data: gamma near 1 (the bon form is gamma = 1)
    let gamma = &f["params"]["gamma"];
    assert!(
        gamma["ci_low"].as_f64().unwrap() < 1.0 && 1.0 < gamma["ci_high"].as_f64().unwrap(),
        "{gamma}"
    );
    t.cmd()
        .args([
            "fit",
            "law.csv",
            "--out",
            "cmp.json",
            "--compare-forms",
            "--holdout-above",
            "5",
        ])
        .assert()
        .success()
        .stdout(contains("[[Form comparison]]"));
    let doc = read(&t, "cmp.json");
    let cmp = doc["form_comparison"].as_array().unwrap();
    assert_eq!(cmp.len(), 2);
    for c in cmp {
        let forms = c["forms"].as_array().unwrap();
        assert_eq!(forms.len(), 4);
        let aics: Vec<f64> = forms.iter().map(|f| f["aic"].as_f64().unwrap()).collect();
        assert!(
            aics.windows(2).all(|w| w[0] <= w[1]),
            "best first: {aics:?}"
        );
        assert!(forms.iter().all(|f| f["holdout_rmse"].as_f64().is_some()
            && f["sse"].as_f64().is_some()
            && f["bic"].as_f64().is_some()));
        let names: Vec<&str> = forms.iter().map(|f| f["form"].as_str().unwrap()).collect();
        let bon_rank = names.iter().position(|n| *n == "bon").unwrap();
        assert!(
            bon_rank <= 1,
            "the true form ranks in the top two: {names:?}"
        );
        assert_eq!(forms[0]["delta_aic"], 0.0);
    }
}

#[test]
fn joint_fit_recovers_the_generating_laws() {
    let t = TestDir::new();
    t.cmd()
        .args([
            "generate",
            "law",
            "--out",
            "law.csv",
            "--seed",
            "9",
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
        .args([
            "scale",
            "fits.json",
            "--out",
            "scaling.json",
            "--joint",
            "--curves",
            "law.csv",
            "--quiet",
        ])
        .assert()
        .success();
    let s = read(&t, "scaling.json");
    let joint = s["joint"].as_array().unwrap();
    assert_eq!(joint.len(), 2);
    for j in joint {
        let truth = match j["method"].as_str().unwrap() {
            "bon" => [0.30, 0.065, 0.45, -0.035],
            _ => [0.5, 0.01, 0.45, -0.03],
        };
        for k in 0..4 {
            let v = j["values"][k].as_f64().unwrap();
            let se = j["se"][k].as_f64().unwrap();
            assert!(
                (v - truth[k]).abs() < 4.0 * se,
                "{} {}: {v} ± {se} vs {}",
                j["method"],
                j["names"][k],
                truth[k]
            );
        }
        assert_eq!(j["covariance"].as_array().unwrap().len(), 4);
    }
    // reported beside the two-stage laws, and usable by predict
    let models: Vec<&str> = s["laws"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["model"].as_str().unwrap())
        .collect();
    assert!(
        models.contains(&"joint") && models.contains(&"log-linear") && models.contains(&"power")
    );
    t.cmd()
        .args([
            "predict",
            "--scaling",
            "scaling.json",
            "--rm-params",
            "1e10",
            "--model",
            "joint",
            "--kl",
            "1",
            "--out",
            "p.json",
        ])
        .assert()
        .success();
    let p = read(&t, "p.json");
    assert_eq!(p["predictions"][0]["model"], "joint+joint");
}

#[test]
fn kl_grid_syntax() {
    use goodhart::scaling::predict::parse_kl_grid;
    let g = parse_kl_grid("0:20:0.5").unwrap();
    assert_eq!(g.len(), 41);
    assert_eq!((g[0], g[40]), (0.0, 20.0));
    assert_eq!(parse_kl_grid("1,2.5,4").unwrap(), vec![1.0, 2.5, 4.0]);
    for bad in ["0:20", "5:1:1", "0:1:0", "1,x", "-1,2", "0:1:-1"] {
        assert!(parse_kl_grid(bad).is_err(), "{bad}");
    }
    let t = TestDir::new();
    law_fits(&t, &["--rm-params", "1e7,1e8,1e9"]);
    t.cmd()
        .args(["scale", "fits.json", "--out", "scaling.json", "-q"])
        .assert()
        .success();
    t.cmd()
        .args([
            "predict",
            "--scaling",
            "scaling.json",
            "--rm-params",
            "1e9",
            "--kl",
            "0:20",
            "--out",
            "p.json",
        ])
        .assert()
        .code(2)
        .stderr(contains("--kl 0:20"));
    assert_no_output(&t, "p.json");
    // JSON on stdout
    let out = t
        .cmd()
        .args([
            "predict",
            "--scaling",
            "scaling.json",
            "--rm-params",
            "1e9",
            "--kl",
            "1",
            "--out",
            "-",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["predictions"].as_array().unwrap().len(), 2);
}

/// `predict --model power` where one group's power law did not converge: that group is reported
/// as failed with its reason, the others are predicted; the summary table respects --quiet;
/// the outputs do not depend on the thread count.
#[test]
fn predict_reports_a_failed_group_and_predicts_the_others() {
    let t = TestDir::new();
    let fits = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fits/fits.json");
    t.cmd()
        .args([
            "scale",
            fits.to_str().unwrap(),
            "--out",
            "scaling.json",
            "--quiet",
        ])
        .assert()
        .success();
    // make sure one power law has not converged (the demo's rl beta of one group does not)
    let mut scaling = read(&t, "scaling.json");
    let laws = scaling["laws"].as_array_mut().unwrap();
    let failing = laws
        .iter_mut()
        .filter(|l| {
            l["model"] == "power"
                && l["coefficient"] == "beta"
                && l["method"] == "rl"
                && l["target"] == "gold"
        })
        .last()
        .unwrap();
    failing["converged"] = Value::Bool(false);
    failing["message"] = Value::String("nonlinear least squares: stopped (planted)".into());
    let failing_group = failing["group"].clone();
    t.write("scaling.json", serde_json::to_vec_pretty(&scaling).unwrap());
    let mut outputs = Vec::new();
    for threads in ["1", "2"] {
        let out = t
            .cmd()
            .env("RAYON_NUM_THREADS", threads)
            .args([
                "predict",
                "--scaling",
                "scaling.json",
                "--rm-params",
                "23200",
                "--model",
                "power",
                "--out",
                &format!("pred{threads}.json"),
            ])
            .assert()
            .success()
            .stderr(contains("not predicted: rl gold (rl)"))
            .stderr(contains("did not converge"))
            .stdout(contains("| rm_params | peak KL"))
            .stdout(contains("FAILED 23200"))
            .get_output()
            .stdout
            .clone();
        outputs.push((
            out,
            std::fs::read(t.path(&format!("pred{threads}.json"))).unwrap(),
        ));
    }
    assert_eq!(outputs[0], outputs[1], "output depends on the thread count");
    let pred = read(&t, "pred1.json");
    let failed = pred["failed"].as_array().unwrap();
    assert!(failed.iter().any(|f| {
        f["group"] == failing_group
            && f["reason"]
                .as_str()
                .unwrap()
                .contains("power law of beta did not converge")
    }));
    let n = pred["predictions"].as_array().unwrap().len();
    assert!(n >= 20, "the other groups are predicted: {n}");
    assert!(
        pred["predictions"]
            .as_array()
            .unwrap()
            .iter()
            // a shared RL alpha (--share-alpha-rl in the demo) is one constant
            .all(|p| p["model"] == "power+power" || p["model"] == "constant+power")
    );
    // --quiet: nothing on stdout or stderr
    t.cmd()
        .args([
            "--quiet",
            "predict",
            "--scaling",
            "scaling.json",
            "--rm-params",
            "23200",
            "--model",
            "power",
            "--out",
            "pred_q.json",
        ])
        .assert()
        .success()
        .stdout("")
        .stderr("");
    // every group failing is an error: exit 1, one message
    for l in scaling["laws"].as_array_mut().unwrap() {
        if l["model"] == "power" {
            l["converged"] = Value::Bool(false);
        }
    }
    t.write("none.json", serde_json::to_vec_pretty(&scaling).unwrap());
    t.cmd()
        .args([
            "predict",
            "--scaling",
            "none.json",
            "--rm-params",
            "23200",
            "--model",
            "power",
            "--out",
            "pred_none.json",
        ])
        .assert()
        .code(1)
        .stderr(contains("no group could be predicted"));
    assert_no_output(&t, "pred_none.json");
}

/// The demo's fits at 1e4 and 1e5 params: at most one stderr line per group (its kinds of
/// warning), a pointer to the JSON; `--model joint` without joint laws fails once.
#[test]
fn predict_prints_one_warning_line_per_group_and_joint_fails_once() {
    let t = TestDir::new();
    let fits = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fits/fits.json");
    t.cmd()
        .args([
            "scale",
            fits.to_str().unwrap(),
            "--out",
            "s.json",
            "--quiet",
        ])
        .assert()
        .success();
    let out = t
        .cmd()
        .args([
            "predict",
            "--scaling",
            "s.json",
            "--rm-params",
            "1e4,1e5",
            "--out",
            "p.json",
        ])
        .assert()
        .success()
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let pred = read(&t, "p.json");
    let groups = pred["predictions"].as_array().unwrap().len() / 2;
    // warnings only: the one `wrote` line is not a warning
    let lines = stderr.lines().filter(|l| !l.starts_with("wrote ")).count();
    assert!(
        lines <= groups + 1,
        "{lines} lines for {groups} groups:\n{stderr}"
    );
    assert!(stderr.contains("p.json"), "{stderr}");
    assert!(!stderr.contains("+ -"), "{stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(!stdout.contains("null | null"), "{stdout}");
    let err = t
        .cmd()
        .args([
            "predict",
            "--scaling",
            "s.json",
            "--rm-params",
            "1e4",
            "--model",
            "joint",
            "--out",
            "j.json",
        ])
        .assert()
        .failure()
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(err).unwrap();
    assert_eq!(err.matches("no joint laws").count(), 1, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}
