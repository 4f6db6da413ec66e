//! `scale` on families whose coefficients are exactly log-linear in RM size: the generating a and
//! b lie inside the 95% intervals in at least 90 of 100 seeded repetitions, and the two-stage
//! regression (DerSimonian-Laird tau², then weights 1/(se² + tau²)) equals an exact
//! rational-arithmetic solution to 1e-9.

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{ToPrimitive, Zero};

use goodhart::curves::read_curves;
use goodhart::document::FitsDocument;
use goodhart::fit::fit_document;
use goodhart::fit::{FitOptions, fit_curves};
use goodhart::generate::law::{Coefficient, LawSpec};
use goodhart::ingest::ColumnMap;
use goodhart::scaling::{FitRecord, ScaleOptions, ScalingDoc, SizeKey, scale};
use goodhart::schema::Method;

/// Every coefficient log-linear in log10(rm_params).
pub fn log_linear_spec(seed: u64) -> LawSpec {
    LawSpec {
        rl_alpha: Coefficient::LogLinear { a: 0.5, b: 0.01 },
        noise: 0.05,
        seed,
        ..LawSpec::default()
    }
}

fn truth(spec: &LawSpec, method: Method, coefficient: &str) -> (f64, f64) {
    let c = match (method, coefficient) {
        (Method::Bon, "alpha") => &spec.bon_alpha,
        (Method::Bon, "beta") => &spec.bon_beta,
        (Method::Rl, "alpha") => &spec.rl_alpha,
        (Method::Rl, "beta") => &spec.rl_beta,
        other => panic!("unexpected {other:?}"),
    };
    match c {
        Coefficient::LogLinear { a, b } => (*a, *b),
        Coefficient::Values(_) => panic!("not log-linear"),
    }
}

/// generate law -> CSV -> fit -> fits JSON -> scale, as the CLI does.
fn run(spec: &LawSpec, dir: &std::path::Path) -> (Vec<FitRecord>, ScalingDoc) {
    let curves_path = dir.join(format!("law{}.csv", spec.seed));
    let table = spec.generate().unwrap();
    std::fs::write(&curves_path, table.to_bytes_for(&curves_path).unwrap()).unwrap();
    let (curves, _) =
        read_curves(&[curves_path], &ColumnMap::default(), &Default::default()).unwrap();
    let fits = fit_curves(&curves, &FitOptions::default()).unwrap();
    let fits_path = dir.join(format!("fits{}.json", spec.seed));
    std::fs::write(&fits_path, fit_document(&fits, Vec::new(), None).to_json()).unwrap();
    let fits_doc = FitsDocument::read(&fits_path).unwrap();
    let doc = scale(
        &fits_doc,
        &ScaleOptions {
            by: SizeKey::RmParams,
        },
    )
    .unwrap();
    (fits_doc.fits, doc)
}

#[test]
fn recovers_generating_a_and_b_within_95_percent_intervals() {
    let dir = tempfile::tempdir().unwrap();
    // (method, coefficient) -> (a inside, b inside, total)
    let mut counts: Vec<((Method, String), usize, usize, usize)> = Vec::new();
    for seed in 0..100 {
        let spec = log_linear_spec(seed);
        let (_, doc) = run(&spec, dir.path());
        let laws: Vec<_> = doc
            .laws
            .iter()
            .filter(|l| l.model == goodhart::document::LawModelKind::LogLinear)
            .collect();
        assert_eq!(
            laws.len(),
            4,
            "seed {seed}: one log-linear law per method and coefficient"
        );
        for law in laws {
            let (a, b) = truth(&spec, law.method, &law.coefficient);
            let [alo, ahi] = law.a_ci.unwrap();
            let [blo, bhi] = law.b_ci.unwrap();
            let key = (law.method, law.coefficient.clone());
            let entry = match counts.iter_mut().position(|c| c.0 == key) {
                Some(i) => &mut counts[i],
                None => {
                    counts.push((key, 0, 0, 0));
                    counts.last_mut().unwrap()
                }
            };
            entry.1 += (alo <= a && a <= ahi) as usize;
            entry.2 += (blo <= b && b <= bhi) as usize;
            entry.3 += 1;
        }
    }
    for (key, a_in, b_in, total) in &counts {
        eprintln!("{key:?}: a inside {a_in}/{total}, b inside {b_in}/{total}");
        assert_eq!(*total, 100);
        assert!(
            *a_in >= 90,
            "{key:?}: a inside its 95% interval in only {a_in} of 100"
        );
        assert!(
            *b_in >= 90,
            "{key:?}: b inside its 95% interval in only {b_in} of 100"
        );
    }
}

fn q(x: f64) -> BigRational {
    BigRational::from_float(x).expect("finite")
}

/// Exact weighted least squares of y on (1, x) in rationals: (a, b, Var a, Var b, Cov ab) with
/// the covariance scaled by max(1, chisqr/(n-2)) (Knapp-Hartung, truncated).
fn exact_line(x: &[f64], y: &[f64], w: &[f64]) -> [f64; 5] {
    let (mut s, mut sx, mut sxx, mut sy, mut sxy) = (
        BigRational::zero(),
        BigRational::zero(),
        BigRational::zero(),
        BigRational::zero(),
        BigRational::zero(),
    );
    for i in 0..x.len() {
        let (xi, yi, wi) = (q(x[i]), q(y[i]), q(w[i]));
        s += &wi;
        sx += &wi * &xi;
        sxx += &wi * &xi * &xi;
        sy += &wi * &yi;
        sxy += &wi * &xi * &yi;
    }
    let det = &s * &sxx - &sx * &sx;
    let a = (&sxx * &sy - &sx * &sxy) / &det;
    let b = (&s * &sxy - &sx * &sy) / &det;
    let mut chi = BigRational::zero();
    for i in 0..x.len() {
        let r = q(y[i]) - &a - &b * q(x[i]);
        chi += q(w[i]) * &r * &r;
    }
    let mut s2 = chi / BigRational::from_integer(BigInt::from(x.len() - 2));
    if s2 < BigRational::from_integer(BigInt::from(1)) {
        s2 = BigRational::from_integer(BigInt::from(1));
    }
    let va = &s2 * &sxx / &det;
    let vb = &s2 * &s / &det;
    let cab = -(&s2 * &sx / &det);
    [a, b, va, vb, cab].map(|v| v.to_f64().unwrap())
}

/// The DerSimonian-Laird tau² of the weighted line, exactly: Q of the fixed-effect fit (weights
/// w = 1/se²), tau² = max(0, (Q - (n - 2)) / (Σw - tr[(XᵀWX)⁻¹ XᵀW²X])).
fn exact_dl(x: &[f64], y: &[f64], w: &[f64]) -> f64 {
    let z = BigRational::zero;
    let (mut s, mut sx, mut sxx, mut sy, mut sxy) = (z(), z(), z(), z(), z());
    let (mut s_2, mut sx_2, mut sxx_2) = (z(), z(), z());
    for i in 0..x.len() {
        let (xi, yi, wi) = (q(x[i]), q(y[i]), q(w[i]));
        s += &wi;
        sx += &wi * &xi;
        sxx += &wi * &xi * &xi;
        sy += &wi * &yi;
        sxy += &wi * &xi * &yi;
        let w2 = &wi * &wi;
        s_2 += &w2;
        sx_2 += &w2 * &xi;
        sxx_2 += &w2 * &xi * &xi;
    }
    let det = &s * &sxx - &sx * &sx;
    let a = (&sxx * &sy - &sx * &sxy) / &det;
    let b = (&s * &sxy - &sx * &sy) / &det;
    let mut chi = z();
    for i in 0..x.len() {
        let r = q(y[i]) - &a - &b * q(x[i]);
        chi += q(w[i]) * &r * &r;
    }
    let tr_part = (&sxx * &s_2 - BigRational::from_integer(BigInt::from(2)) * &sx * &sx_2
        + &s * &sxx_2)
        / &det;
    let tr = &s - tr_part;
    let tau2 = (chi - BigRational::from_integer(BigInt::from(x.len() - 2))) / tr;
    tau2.to_f64().unwrap().max(0.0)
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

#[test]
fn two_stage_regression_matches_exact_rational_weighted_least_squares() {
    let dir = tempfile::tempdir().unwrap();
    for seed in [3, 17] {
        let (records, doc) = run(&log_linear_spec(seed), dir.path());
        for law in doc
            .laws
            .iter()
            .filter(|l| l.model == goodhart::document::LawModelKind::LogLinear)
        {
            let mut members: Vec<&FitRecord> =
                records.iter().filter(|r| r.method == law.method).collect();
            members.sort_by(|a, b| a.rm_params.total_cmp(&b.rm_params));
            let x: Vec<f64> = members.iter().map(|r| r.rm_params.log10()).collect();
            let y: Vec<f64> = members
                .iter()
                .map(|r| r.params[&law.coefficient].value)
                .collect();
            let w: Vec<f64> = members
                .iter()
                .map(|r| {
                    let se = r.params[&law.coefficient].se.unwrap();
                    1.0 / (se * se)
                })
                .collect();
            // tau² by DerSimonian-Laird, then the line with weights 1/(se² + tau²)
            let tau2 = exact_dl(&x, &y, &w);
            let got_tau2 = law.tau2.unwrap();
            assert!(
                (got_tau2 - tau2).abs() <= 1e-9 * tau2.max(1e-12),
                "seed {seed} {:?} {}: tau2 {got_tau2} vs exact {tau2}",
                law.method,
                law.coefficient
            );
            let w: Vec<f64> = w.iter().map(|w| 1.0 / (1.0 / w + tau2)).collect();
            let [a, b, va, vb, cab] = exact_line(&x, &y, &w);
            let got = [
                law.a,
                law.b,
                law.a_se.unwrap().powi(2),
                law.b_se.unwrap().powi(2),
                law.cov_ab.unwrap(),
            ];
            for (name, g, e) in [
                ("a", got[0], a),
                ("b", got[1], b),
                ("var a", got[2], va),
                ("var b", got[3], vb),
                ("cov ab", got[4], cab),
            ] {
                assert!(
                    rel(g, e) < 1e-9,
                    "seed {seed} {:?} {} {name}: {g} vs exact {e} (rel {:e})",
                    law.method,
                    law.coefficient,
                    rel(g, e)
                );
            }
            assert_eq!(
                law.sizes,
                members.iter().map(|r| r.rm_params).collect::<Vec<_>>()
            );
        }
    }
}

#[test]
fn power_law_recovers_exact_power_data_and_loses_aic_on_log_linear_data() {
    use goodhart::scaling::{Law, Series, log_linear, power_law};
    use std::collections::BTreeMap;
    let template = Law {
        method: Method::Bon,
        target: goodhart::document::Target::Gold,
        form: goodhart::forms::FormId::Bon,
        coefficient: "alpha".into(),
        model: goodhart::document::LawModelKind::LogLinear,
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
        n: 6,
        dof: 0,
        weighted: true,
        converged: true,
        message: None,
        tau2: None,
        fit_se_rms: None,
        group_kl_max: None,
        no_peak_fits: None,
        form_rejected_fits: None,
    };
    let sizes = vec![3e6, 1e7, 1e8, 3e8, 1e9, 3e9];
    // exact power law c = 0.2 N^0.08
    let values: Vec<f64> = sizes.iter().map(|n: &f64| 0.2 * n.powf(0.08)).collect();
    let s = Series {
        sizes: sizes.clone(),
        values,
        se: Some(vec![0.01; 6]),
    };
    let p = power_law(&s, template.clone());
    assert!(p.converged, "{:?}", p.message);
    assert!(
        rel(p.a, 0.2) < 1e-9 && rel(p.b, 0.08) < 1e-9,
        "a {} b {}",
        p.a,
        p.b
    );
    assert!(p.message.as_deref().unwrap().contains("converged"));
    // noisy log-linear data: the log-linear law has the lower AIC
    let noise = [0.004, -0.003, 0.002, -0.004, 0.003, -0.002];
    let values: Vec<f64> = sizes
        .iter()
        .zip(noise)
        .map(|(n, e)| 0.3 + 0.065 * n.log10() + e)
        .collect();
    let s = Series {
        sizes,
        values,
        se: Some(vec![0.004; 6]),
    };
    let (l, p) = (log_linear(&s, template.clone()), power_law(&s, template));
    assert!(
        l.aic.unwrap() < p.aic.unwrap(),
        "log-linear AIC {:?} vs power {:?}",
        l.aic,
        p.aic
    );
}

/// The covariance between the alpha and beta laws (`"law_covariances"`, propagated from the
/// per-curve alpha-beta covariance) matches the covariance of the laws' (a, b) across 300
/// seeded repetitions of the same family.
#[test]
fn law_cross_covariance_matches_the_spread_over_repetitions() {
    let dir = tempfile::tempdir().unwrap();
    let reps = 300;
    // per rep: (a_alpha, b_alpha, a_beta, b_beta), and the reported cross-covariance
    let mut draws: Vec<[f64; 4]> = Vec::new();
    let mut reported = [[0.0; 2]; 2];
    for seed in 0..reps {
        let (_, doc) = run(&log_linear_spec(1000 + seed), dir.path());
        let ll = |c: &str| {
            doc.laws
                .iter()
                .find(|l| {
                    l.method == Method::Bon
                        && l.coefficient == c
                        && l.model == goodhart::document::LawModelKind::LogLinear
                })
                .unwrap()
        };
        let (la, lb) = (ll("alpha"), ll("beta"));
        draws.push([la.a, la.b, lb.a, lb.b]);
        let c = doc
            .law_covariances
            .iter()
            .find(|c| {
                c.method == Method::Bon
                    && c.model == goodhart::document::LawModelKind::LogLinear
                    && c.coefficients == ["alpha".to_string(), "beta".to_string()]
            })
            .unwrap();
        assert_eq!(c.source, "per-fit covariance of the curves");
        for (i, row) in reported.iter_mut().enumerate() {
            for (j, cell) in row.iter_mut().enumerate() {
                *cell += c.cov[i][j] / reps as f64;
            }
        }
    }
    let mean: Vec<f64> = (0..4)
        .map(|k| draws.iter().map(|d| d[k]).sum::<f64>() / reps as f64)
        .collect();
    let cov = |p: usize, q: usize| {
        draws
            .iter()
            .map(|d| (d[p] - mean[p]) * (d[q] - mean[q]))
            .sum::<f64>()
            / (reps - 1) as f64
    };
    for (i, j) in [(0, 0), (1, 1), (0, 1)] {
        let empirical = cov(i, 2 + j);
        let ratio = reported[i][j] / empirical;
        eprintln!(
            "Cov({} alpha, {} beta): reported {:.3e}, over repetitions {empirical:.3e} (ratio {ratio:.3})",
            ["a", "b"][i],
            ["a", "b"][j],
            reported[i][j]
        );
        assert!(
            (0.7..=1.5).contains(&ratio),
            "cross-covariance ({i}, {j}): reported {} vs empirical {empirical}",
            reported[i][j]
        );
    }
}
