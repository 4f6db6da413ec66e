//! The standard errors are honest: coefficients drawn by `generate law` lie inside their 95%
//! confidence intervals about 95% of the time (a test of the error bars, not only the estimates).

use goodhart::curves::Curve;
use goodhart::fit::{BaselineMode, FitOptions, fit_curves};
use goodhart::generate::law::LawSpec;
use goodhart::ingest::{ColumnMap, read_table};
use goodhart::schema::{CURVES, Method};

fn curves_of(spec: &LawSpec, dir: &std::path::Path) -> Vec<Curve> {
    let path = dir.join(format!("law{}.csv", spec.seed));
    let table = spec.generate().unwrap();
    std::fs::write(&path, table.to_bytes_for(&path).unwrap()).unwrap();
    let t = read_table(&path, CURVES, &ColumnMap::default()).unwrap();
    goodhart::curves::CurvesTable::from_table(t)
        .unwrap()
        .curves()
}

/// For each seed, fits every curve and counts (per method, size and coefficient) how often the
/// truth lies inside the 95% CI. Returns (inside, total) per (method, size index, coefficient).
fn coverage(
    base: &LawSpec,
    baseline: BaselineMode,
    seeds: u64,
) -> Vec<((Method, usize, usize), usize, usize)> {
    let dir = tempfile::tempdir().unwrap();
    let mut counts: Vec<((Method, usize, usize), usize, usize)> = Vec::new();
    for seed in 0..seeds {
        let spec = LawSpec {
            seed,
            ..base.clone()
        };
        let curves = curves_of(&spec, dir.path());
        let opts = FitOptions {
            baseline,
            ..FitOptions::default()
        };
        let fits = fit_curves(&curves, &opts).unwrap();
        assert_eq!(fits.len(), spec.methods.len() * spec.rm_params.len());
        for fit in &fits {
            let i = spec
                .rm_params
                .iter()
                .position(|&n| n == fit.key.rm_params)
                .unwrap();
            let truth = spec.truth(fit.key.method, i);
            let f = fit.fitted().expect("law data always fits");
            for (j, t) in [truth.0, truth.1].into_iter().enumerate() {
                let p = &f.params[j];
                let inside = p.ci_low.unwrap() <= t && t <= p.ci_high.unwrap();
                let key = (fit.key.method, i, j);
                match counts.iter_mut().find(|c| c.0 == key) {
                    Some(c) => {
                        c.1 += inside as usize;
                        c.2 += 1;
                    }
                    None => counts.push((key, inside as usize, 1)),
                }
            }
        }
    }
    counts
}

fn check(counts: &[((Method, usize, usize), usize, usize)], label: &str) {
    let (inside, total) = counts.iter().fold((0, 0), |a, c| (a.0 + c.1, a.1 + c.2));
    let rate = inside as f64 / total as f64;
    eprintln!(
        "{label}: {inside} of {total} intervals cover the truth ({:.1}%)",
        100.0 * rate
    );
    for c in counts {
        assert!(
            c.1 >= 90,
            "{label}: {:?} covered in only {} of {}",
            c.0,
            c.1,
            c.2
        );
    }
    // Over thousands of intervals the rate must be close to 95% from both sides: too wide
    // intervals are as wrong as too narrow ones.
    assert!((0.935..=0.965).contains(&rate), "{label}: coverage {rate}");
}

#[test]
fn ci_coverage_without_baseline() {
    let base = LawSpec {
        baseline_points: 0,
        noise: 0.05,
        ..LawSpec::default()
    };
    check(&coverage(&base, BaselineMode::None, 100), "no baseline");
}

#[test]
fn ci_coverage_with_subtracted_baseline() {
    // The baseline's own noise shifts every point; its uncertainty must be in the error bars.
    let base = LawSpec {
        baseline_points: 4,
        noise: 0.05,
        ..LawSpec::default()
    };
    check(
        &coverage(&base, BaselineMode::Auto, 100),
        "baseline of 4 points",
    );
}

#[test]
fn ci_coverage_weighted() {
    let base = LawSpec {
        baseline_points: 3,
        noise: 0.03,
        with_se: true,
        ..LawSpec::default()
    };
    check(&coverage(&base, BaselineMode::Auto, 100), "weighted");
}
