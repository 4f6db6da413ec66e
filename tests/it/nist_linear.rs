//! The linear engine against NIST StRD certified values (NoInt1, NoInt2: y = B1*x, no intercept).

use nalgebra::DMatrix;

use goodhart::fit::solve_linear;

struct Certified {
    x: Vec<f64>,
    y: Vec<f64>,
    b1: f64,
    sd: f64,
    residual_sd: f64,
}

fn load(name: &str) -> Certified {
    let path = format!("{}/tests/data/nist/{name}.dat", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let mut c = Certified {
        x: vec![],
        y: vec![],
        b1: f64::NAN,
        sd: f64::NAN,
        residual_sd: f64::NAN,
    };
    let mut in_data = false;
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if in_data && words.len() == 2 {
            c.y.push(words[0].parse().unwrap());
            c.x.push(words[1].parse().unwrap());
        } else if words.first() == Some(&"B1") {
            c.b1 = words[1].parse().unwrap();
            c.sd = words[2].parse().unwrap();
        } else if line.starts_with("Residual Standard Deviation") {
            c.residual_sd = words[3].parse().unwrap();
        } else if line.starts_with("Data:") {
            in_data = true;
        }
    }
    assert!(!c.x.is_empty() && c.b1.is_finite() && c.sd.is_finite());
    c
}

fn check(name: &str) {
    let c = load(name);
    let n = c.x.len();
    let x = DMatrix::from_column_slice(n, 1, &c.x);
    let s = solve_linear(&x, &c.y, None).unwrap();
    let redchi = s.chisqr / (n - 1) as f64;
    let sd = (redchi * s.cov_unscaled[(0, 0)]).sqrt();
    let rel = |a: f64, b: f64| (a - b).abs() / b.abs();
    assert!(
        rel(s.coef[0], c.b1) < 1e-12,
        "{name} B1 {} vs {}",
        s.coef[0],
        c.b1
    );
    assert!(rel(sd, c.sd) < 1e-12, "{name} sd {} vs {}", sd, c.sd);
    assert!(
        rel(redchi.sqrt(), c.residual_sd) < 1e-12,
        "{name} residual sd"
    );
}

#[test]
fn noint1_certified() {
    check("NoInt1");
}

#[test]
fn noint2_certified() {
    check("NoInt2");
}
