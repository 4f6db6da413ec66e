//! `goodhart generate tokens` (issue #14): on the test preset (seed 0), the acceptance points of
//! issue #14 that the token world meets (over whole RL runs the RL form fits its RL curves
//! better than the best-of-n form, RL needs more KL, the size and data trends, iterated RLHF at
//! equal steps) and its best-of-n the best-of-n law, measured through goodhart's own pipeline
//! (`bon`, `fit`, `analyze`) against statistics computed here from the tables; and the outputs
//! are the same bytes whatever the thread count. What it does not meet is in the README.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::Value;

use crate::common::TestDir;

/// The test-preset world of seed 0 with its curves, fits (auto, power, every form) and analyses.
struct World {
    dir: TestDir,
    fits: Value,
    power: Value,
    compare: Value,
    analyses: Value,
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let dir = TestDir::new();
        let run = |args: &[&str]| {
            dir.cmd().arg("--quiet").args(args).assert().success();
        };
        run(&["generate", "tokens", "--preset", "test", "--out", "w"]);
        run(&["bon", "w/bon_samples.parquet", "--out", "w/bon_curves.csv"]);
        let curves = ["w/bon_curves.csv", "w/rl_runs.csv"];
        run(&[
            &["fit"][..],
            &curves,
            &["--target", "gold", "--out", "fits.json"],
        ]
        .concat());
        run(&[
            &["fit"][..],
            &curves,
            &["--target", "gold", "--form", "power", "--out", "power.json"],
        ]
        .concat());
        run(&[
            &["fit"][..],
            &curves,
            &[
                "--target",
                "gold",
                "--compare-forms",
                "--out",
                "compare.json",
            ],
        ]
        .concat());
        run(&[
            &["analyze"][..],
            &curves,
            &[
                "--samples",
                "w/bon_samples.parquet",
                "--reward-models",
                "w/reward_models.csv",
                "--iterated",
                "w/iterated_rlhf.csv",
                "--out",
                "analyses.json",
            ],
        ]
        .concat());
        let json = |f: &str| serde_json::from_slice(&std::fs::read(dir.path(f)).unwrap()).unwrap();
        World {
            fits: json("fits.json"),
            power: json("power.json"),
            compare: json("compare.json"),
            analyses: json("analyses.json"),
            dir,
        }
    })
}

/// The test preset's main sweep: widths 8 and 32 (policy_params 64, 256), data 4000.
const MAIN_POLICY: f64 = 64.0;
const MAIN_DATA: f64 = 4000.0;

/// Rows of a CSV file as maps from column name to number (non-numbers skipped).
fn rows(path: &std::path::Path) -> Vec<BTreeMap<String, f64>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let head: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records()
        .map(|rec| {
            head.iter()
                .zip(rec.unwrap().iter())
                .filter_map(|(h, v)| v.parse::<f64>().ok().map(|x| (h.clone(), x)))
                .collect()
        })
        .collect()
}

/// Spearman's rank correlation (no ties in these inputs).
fn spearman(x: &[f64], y: &[f64]) -> f64 {
    let rank = |v: &[f64]| {
        let mut i: Vec<usize> = (0..v.len()).collect();
        i.sort_by(|a, b| v[*a].total_cmp(&v[*b]));
        let mut r = vec![0.0; v.len()];
        for (k, j) in i.into_iter().enumerate() {
            r[j] = k as f64;
        }
        r
    };
    let (rx, ry) = (rank(x), rank(y));
    let n = x.len() as f64;
    let d2: f64 = rx.iter().zip(&ry).map(|(a, b)| (a - b).powi(2)).sum();
    1.0 - 6.0 * d2 / (n * (n * n - 1.0))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The unpenalised RL curves of one policy size and data size: rm_params -> (kl, gold) points
/// in step order.
fn rl_curves(policy: f64, data: f64) -> BTreeMap<u64, Vec<(f64, f64)>> {
    let mut out: BTreeMap<u64, Vec<(f64, f64, f64)>> = BTreeMap::new();
    for r in rows(&world().dir.path("w/rl_runs.csv")) {
        if r["kl_penalty"] == 0.0 && r["policy_params"] == policy && r["rm_data"] == data {
            out.entry(r["rm_params"] as u64)
                .or_default()
                .push((r["step"], r["kl"], r["gold"]));
        }
    }
    out.into_iter()
        .map(|(k, mut v)| {
            v.sort_by(|a, b| a.0.total_cmp(&b.0));
            (k, v.into_iter().map(|p| (p.1, p.2)).collect())
        })
        .collect()
}

/// Whether the gold of a curve peaks before its last three points.
fn peaks_inside(c: &[(f64, f64)]) -> bool {
    let ip = (0..c.len())
        .max_by(|a, b| c[*a].1.total_cmp(&c[*b].1))
        .unwrap();
    ip + 3 < c.len()
}

/// The record of `doc[section]` for one curve key.
fn record<'a>(
    list: &'a Value,
    method: &str,
    rm_params: u64,
    policy: Option<f64>,
    data: f64,
) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["method"] == method
                && f["rm_params"].as_f64() == Some(rm_params as f64)
                && f["rm_data"].as_f64() == Some(data)
                && (policy.is_none() || f["policy_params"].as_f64() == policy)
                && f["kl_penalty"].as_f64().unwrap_or(0.0) == 0.0
        })
        .unwrap_or_else(|| panic!("no {method} record for {rm_params} params"))
}

#[test]
fn rl_curves_take_the_rl_form_with_small_gamma() {
    let w = world();
    for policy in [64.0, 256.0] {
        let curves = rl_curves(policy, MAIN_DATA);
        let peaking: Vec<u64> = curves
            .iter()
            .filter(|(_, c)| peaks_inside(c))
            .map(|(k, _)| *k)
            .collect();
        assert!(
            peaking.len() >= 2,
            "policy {policy}: only {peaking:?} peak inside"
        );
        let aic = |k: u64, form: &str| {
            record(
                &w.compare["form_comparison"],
                "rl",
                k,
                Some(policy),
                MAIN_DATA,
            )["forms"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["form"] == form)
                .unwrap()["aic"]
                .as_f64()
                .unwrap()
        };
        let wins = peaking
            .iter()
            .filter(|k| aic(**k, "rl") < aic(**k, "bon"))
            .count();
        assert!(
            3 * wins >= 2 * peaking.len(),
            "policy {policy}: RL form wins {wins} of {}",
            peaking.len()
        );
        let gammas: Vec<f64> = peaking
            .iter()
            .map(|k| record(&w.power["fits"], "rl", *k, Some(policy), MAIN_DATA)["params"]["gamma"]["value"].as_f64().unwrap())
            .collect();
        assert!(
            median(gammas.clone()) < 0.5,
            "policy {policy}: gammas {gammas:?}"
        );
    }
}

#[test]
fn rl_needs_at_least_three_times_the_kl_of_best_of_n() {
    let recs = world().analyses["kl_efficiency"]["records"]
        .as_array()
        .unwrap();
    let ratios: Vec<f64> = recs
        .iter()
        .filter(|r| {
            r["policy_params"].as_f64() == Some(MAIN_POLICY)
                && r["rm_data"].as_f64() == Some(MAIN_DATA)
        })
        .filter_map(|r| r["ratio"].as_f64())
        .collect();
    assert!(ratios.len() >= 4, "{ratios:?}");
    assert!(median(ratios.clone()) >= 3.0, "{ratios:?}");
}

#[test]
fn beta_rl_falls_with_rm_size_and_alpha_varies_less() {
    let fits = &world().fits["fits"];
    let curves = rl_curves(MAIN_POLICY, MAIN_DATA);
    let sizes: Vec<f64> = curves.keys().map(|k| *k as f64).collect();
    let param = |name: &str| -> Vec<f64> {
        curves
            .keys()
            .map(|k| {
                record(fits, "rl", *k, Some(MAIN_POLICY), MAIN_DATA)["params"][name]["value"]
                    .as_f64()
                    .unwrap()
            })
            .collect()
    };
    let (alpha, beta) = (param("alpha"), param("beta"));
    assert!(spearman(&sizes, &beta) <= -0.7, "beta {beta:?}");
    let cv = |v: &[f64]| {
        let m = v.iter().sum::<f64>() / v.len() as f64;
        (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64).sqrt() / m.abs()
    };
    assert!(cv(&alpha) < cv(&beta), "alpha {alpha:?} beta {beta:?}");
}

#[test]
fn best_of_n_keeps_its_form_and_size_trends() {
    let w = world();
    let sizes: Vec<u64> = rl_curves(MAIN_POLICY, MAIN_DATA).keys().copied().collect();
    let aic = |k: u64, form: &str| {
        record(&w.compare["form_comparison"], "bon", k, None, MAIN_DATA)["forms"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["form"] == form)
            .unwrap()["aic"]
            .as_f64()
            .unwrap()
    };
    let wins = sizes
        .iter()
        .filter(|k| aic(**k, "bon") < aic(**k, "rl"))
        .count();
    assert!(
        3 * wins >= 2 * sizes.len(),
        "best-of-n form wins {wins} of {}",
        sizes.len()
    );
    let fit = |k: u64| record(&w.fits["fits"], "bon", k, None, MAIN_DATA);
    let x: Vec<f64> = sizes.iter().map(|k| *k as f64).collect();
    let beta: Vec<f64> = sizes
        .iter()
        .map(|k| fit(*k)["params"]["beta"]["value"].as_f64().unwrap())
        .collect();
    let peak: Vec<f64> = sizes
        .iter()
        .map(|k| fit(*k)["peak"]["kl"].as_f64().unwrap_or(f64::INFINITY))
        .collect();
    assert!(spearman(&x, &beta) <= -0.7, "beta {beta:?}");
    assert!(spearman(&x, &peak) >= 0.7, "peak KL {peak:?}");
}

#[test]
fn more_comparisons_raise_the_rl_gold_peak_for_most_rms() {
    let small = rl_curves(MAIN_POLICY, 1000.0);
    let large = rl_curves(MAIN_POLICY, MAIN_DATA);
    let peak = |c: &[(f64, f64)]| c.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    let higher = small
        .iter()
        .filter(|(k, c)| peak(&large[k]) > peak(c))
        .count();
    assert!(2 * higher > small.len(), "{higher} of {} RMs", small.len());
}

#[test]
fn iterated_rlhf_ends_higher_than_one_round() {
    let mut last: BTreeMap<(u64, u64), (f64, f64)> = BTreeMap::new();
    for r in rows(&world().dir.path("w/iterated_rlhf.csv")) {
        let e = last
            .entry((r["rm_params"] as u64, r["rounds"] as u64))
            .or_insert((-1.0, 0.0));
        if r["step"] >= e.0 {
            *e = (r["step"], r["gold"]);
        }
    }
    let pairs: Vec<(f64, f64)> = last
        .iter()
        .filter(|((_, k), _)| *k > 1)
        .map(|((p, _), v)| (last[&(*p, 1)].1, v.1))
        .collect();
    assert!(!pairs.is_empty());
    let higher = pairs.iter().filter(|(one, many)| many > one).count();
    assert!(2 * higher > pairs.len(), "{pairs:?}");
}

#[test]
fn the_token_world_is_the_same_bytes_with_one_and_two_threads() {
    let t = TestDir::new();
    let files = [
        "bon_samples.parquet",
        "rl_runs.csv",
        "reward_models.csv",
        "iterated_rlhf.csv",
        "world.json",
    ];
    for (dir, threads, seed) in [("one", "1", "5"), ("two", "2", "5"), ("other", "2", "6")] {
        t.cmd()
            .env("RAYON_NUM_THREADS", threads)
            .args([
                "--quiet",
                "generate",
                "tokens",
                "--preset",
                "test",
                "--rl-steps",
                "40",
                "--seed",
                seed,
                "--out",
                dir,
            ])
            .assert()
            .success();
    }
    for f in files {
        let a = std::fs::read(t.path("one").join(f)).unwrap();
        assert!(!a.is_empty(), "{f}");
        assert!(
            a == std::fs::read(t.path("two").join(f)).unwrap(),
            "{f} differs between 1 and 2 threads"
        );
    }
    assert!(
        std::fs::read(t.path("one/rl_runs.csv")).unwrap()
            != std::fs::read(t.path("other/rl_runs.csv")).unwrap()
    );
}

#[test]
fn a_bad_setting_is_a_usage_error_naming_it() {
    let t = TestDir::new();
    crate::common::assert_usage_error(
        &t,
        &[
            "generate",
            "tokens",
            "--preset",
            "test",
            "--rl-steps",
            "1501",
            "--out",
            "w",
        ],
        &["--rl-steps 1501 must be divisible by 2"],
    );
    crate::common::assert_usage_error(
        &t,
        &[
            "generate",
            "tokens",
            "--preset",
            "test",
            "--policy-rho",
            "1.5",
            "--out",
            "w",
        ],
        &["--policy-rho", "1.5"],
    );
    // found by a new-user review: a negative value was taken for a flag, a repeated width
    // duplicated every run, a width 0 gave a garbled message
    for (args, words) in [
        (&["--policy-rho", "-0.2"][..], &["--policy-rho", "-0.2"][..]),
        (
            &["--policy-widths", "8,8"][..],
            &["--policy-widths", "twice"][..],
        ),
        (
            &["--policy-widths", "0,8"][..],
            &["--policy-widths", "at least 1, not 0"][..],
        ),
        (
            &["--kl-penalties", "0,0.1,0.1"][..],
            &["--kl-penalties", "twice"][..],
        ),
        (
            &["--kl-penalties", "0.1"][..],
            &["--kl-penalties", "start with 0"][..],
        ),
        // a second review: "must be ... >= 0" for inf, which is; messages without the flag's --
        (
            &["--kl-penalties", "0,inf"][..],
            &["--kl-penalties", "finite numbers >= 0"][..],
        ),
        (
            &["--rl-steps", "0"][..],
            &["--rl-steps must be at least 1"][..],
        ),
        (
            &["--rl-lr", "inf"][..],
            &["--rl-lr must be a finite number > 0, not inf"][..],
        ),
    ] {
        let all = [
            &["generate", "tokens", "--preset", "test", "--out", "w"][..],
            args,
        ]
        .concat();
        crate::common::assert_usage_error(&t, &all, words);
    }
}

/// Bugs: the exact KL of the policy at step 0 (pi_0 itself) could round to -5e-16, and `fit`
/// refused the table (seed 2 of the test preset did); and when it rounded to +5e-16 instead,
/// `fit` found no kl = 0 point, so it took no baseline and made no Goodhart decomposition.
#[test]
fn kl_next_to_pi0_is_never_negative_and_fit_reads_the_tables() {
    let t = TestDir::new();
    t.cmd()
        .args([
            "--quiet",
            "generate",
            "tokens",
            "--preset",
            "test",
            "--rl-steps",
            "20",
            "--seed",
            "2",
            "--out",
            "w",
        ])
        .assert()
        .success();
    for (f, col) in [
        ("w/rl_runs.csv", "kl"),
        ("w/iterated_rlhf.csv", "kl"),
        ("w/iterated_rlhf.csv", "d_sum"),
    ] {
        let r = rows(&t.path(f));
        assert!(!r.is_empty());
        assert!(r.iter().all(|row| row[col] >= 0.0), "{f}: a negative {col}");
    }
    let steps0: Vec<f64> = rows(&t.path("w/rl_runs.csv"))
        .iter()
        .filter(|r| r["step"] == 0.0)
        .map(|r| r["kl"])
        .collect();
    assert!(
        !steps0.is_empty() && steps0.iter().all(|kl| *kl == 0.0),
        "{steps0:?}"
    );
    let out = t
        .cmd()
        .args(["fit", "w/rl_runs.csv", "--out", "fits.json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("no kl = 0 points"), "{stderr}");
}
