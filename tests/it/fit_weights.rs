//! `goodhart fit --weights auto|none|se` (issue 13, item 7): `none` ignores the standard-error
//! columns and matches an unweighted reference (the 2x2 normal equations, solved here) to 1e-12;
//! `se` requires the column and names it when missing; `auto` weights when it is there.

use serde_json::Value;

use crate::common::{TestDir, assert_input_error};

fn json(t: &TestDir, name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(t.path(name)).unwrap()).unwrap()
}

/// A BoN curve with kl = 0 points, uneven standard errors and noise, as (kl, gold, gold_se).
fn points() -> Vec<(f64, f64, f64)> {
    let mut v = vec![(0.0, 0.02, 0.01), (0.0, -0.01, 0.02)];
    for k in 1..=15 {
        let d = k as f64 * 0.2;
        let noise = [0.004, -0.007, 0.002, 0.009, -0.003][k % 5];
        v.push((d * d, d * (0.7 - 0.2 * d) + noise, 0.005 + 0.002 * k as f64));
    }
    v
}

fn table(with_se: bool) -> String {
    let mut s = String::from(if with_se {
        "method,rm_params,kl,gold,gold_se\n"
    } else {
        "method,rm_params,kl,gold\n"
    });
    for (kl, g, se) in points() {
        if with_se {
            s.push_str(&format!("bon,1e8,{kl},{g},{se}\n"));
        } else {
            s.push_str(&format!("bon,1e8,{kl},{g}\n"));
        }
    }
    s
}

/// (alpha, beta) of d(α − βd) by the weighted normal equations, after subtracting the mean of
/// the kl = 0 points; w = None: unweighted.
fn reference(weighted: bool) -> (f64, f64) {
    let pts = points();
    let zeros: Vec<f64> = pts.iter().filter(|p| p.0 == 0.0).map(|p| p.1).collect();
    let b = zeros.iter().sum::<f64>() / zeros.len() as f64;
    let (mut s11, mut s12, mut s22, mut b1, mut b2) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for &(kl, g, se) in pts.iter().filter(|p| p.0 > 0.0) {
        let w = if weighted { 1.0 / (se * se) } else { 1.0 };
        let (x1, x2, y) = (kl.sqrt(), -kl, g - b);
        s11 += w * x1 * x1;
        s12 += w * x1 * x2;
        s22 += w * x2 * x2;
        b1 += w * x1 * y;
        b2 += w * x2 * y;
    }
    let det = s11 * s22 - s12 * s12;
    ((s22 * b1 - s12 * b2) / det, (s11 * b2 - s12 * b1) / det)
}

fn params(doc: &Value) -> (f64, f64) {
    let p = &doc["fits"][0]["params"];
    (
        p["alpha"]["value"].as_f64().unwrap(),
        p["beta"]["value"].as_f64().unwrap(),
    )
}

fn close(a: (f64, f64), b: (f64, f64)) -> bool {
    (a.0 - b.0).abs() <= 1e-12 * b.0.abs() && (a.1 - b.1).abs() <= 1e-12 * b.1.abs()
}

#[test]
fn weights_none_auto_and_se() {
    let t = TestDir::new();
    t.write("se.csv", table(true));
    t.write("plain.csv", table(false));
    let fit = |file: &str, out: &str, weights: &str| {
        t.cmd()
            .args(["fit", file, "--out", out, "--quiet", "--weights", weights])
            .assert()
            .success();
        json(&t, out)
    };
    let (unweighted, weighted) = (reference(false), reference(true));
    assert!(!close(unweighted, weighted), "the weights matter here");

    let none = fit("se.csv", "none.json", "none");
    assert!(
        close(params(&none), unweighted),
        "{:?} vs {unweighted:?}",
        params(&none)
    );
    assert_eq!(none["fits"][0]["weighted"], false);
    assert_eq!(none["fits"][0]["n_points"], 15);
    // the same as a table without the column
    let plain = fit("plain.csv", "plain.json", "auto");
    assert_eq!(none["fits"][0]["params"], plain["fits"][0]["params"]);

    for w in ["auto", "se"] {
        let doc = fit("se.csv", &format!("{w}.json"), w);
        assert!(close(params(&doc), weighted), "{w}: {:?}", params(&doc));
        assert_eq!(doc["fits"][0]["weighted"], true);
    }

    assert_input_error(
        &t,
        &["fit", "plain.csv", "--out", "x.json", "--weights", "se"],
        &["--weights se", "'gold_se'", "bon rm_params=1e8"],
    );
}
