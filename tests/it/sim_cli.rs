//! `goodhart generate sim` from the command line: same bytes whatever the thread count, the
//! canonical tables that `goodhart bon` and `goodhart fit` read, and bad input refused with one
//! message, exit 1, and nothing written.

use crate::common;

const TINY: &[&str] = &[
    "--dim",
    "4",
    "--rm-hidden",
    "0,2,4",
    "--rm-data",
    "150,300",
    "--rm-val",
    "200",
    "--rm-epochs",
    "2",
    "--norm-samples",
    "2000",
    "--prompts",
    "6",
    "--samples-per-prompt",
    "16",
    "--rl-steps",
    "20",
    "--rl-eval-samples",
    "32",
    "--rl-log-every",
    "5",
    "--kl-penalties",
    "0,0.2,1",
];

const FILES: [&str; 4] = [
    "bon_samples.parquet",
    "rl_runs.csv",
    "reward_models.csv",
    "world.json",
];

fn generate(t: &common::TestDir, out: &str, threads: &str, seed: &str) {
    t.cmd()
        .env("RAYON_NUM_THREADS", threads)
        .args(["generate", "sim", "--out", out, "--seed", seed])
        .args(TINY)
        .assert()
        .success();
}

#[test]
fn same_bytes_with_one_and_two_threads() {
    let t = common::TestDir::new();
    generate(&t, "one", "1", "7");
    generate(&t, "two", "2", "7");
    generate(&t, "other", "2", "8");
    for f in FILES {
        let a = std::fs::read(t.path("one").join(f)).unwrap();
        let b = std::fs::read(t.path("two").join(f)).unwrap();
        assert!(!a.is_empty(), "{f} is empty");
        assert!(a == b, "{f} differs between 1 and 2 threads");
    }
    // A different seed gives a different world (the seed is used).
    let a = std::fs::read(t.path("one").join("rl_runs.csv")).unwrap();
    let c = std::fs::read(t.path("other").join("rl_runs.csv")).unwrap();
    assert!(a != c);
}

#[test]
fn outputs_are_the_canonical_tables() {
    let t = common::TestDir::new();
    generate(&t, "sim", "2", "0");
    let rl = std::fs::read_to_string(t.path("sim/rl_runs.csv")).unwrap();
    let header = rl.lines().next().unwrap();
    assert_eq!(
        header,
        "method,run,step,kl_penalty,policy_params,rm_data,rm_params,kl,gold,proxy,entropy,gold_se,proxy_se"
    );
    // 3 RMs x 2 data sizes x 2 policies x 3 penalties, 5 logged points each (steps 0..20 by 5).
    assert_eq!(rl.lines().count() - 1, 3 * 2 * 2 * 3 * 5);
    let rms = std::fs::read_to_string(t.path("sim/reward_models.csv")).unwrap();
    assert!(rms.starts_with("rm_params,rm_data,hidden,val_loss,val_accuracy"));
    assert_eq!(rms.lines().count() - 1, 6);
    let world: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(t.path("sim/world.json")).unwrap()).unwrap();
    assert_eq!(world["settings"]["seed"], 0);
    assert_eq!(world["settings"]["rm_hidden"], serde_json::json!([0, 2, 4]));
    // Through the rest of goodhart unchanged.
    t.cmd()
        .args([
            "bon",
            "sim/bon_samples.parquet",
            "--out",
            "bon.csv",
            "--quiet",
        ])
        .assert()
        .success();
    t.cmd()
        .args([
            "fit",
            "bon.csv",
            "sim/rl_runs.csv",
            "--out",
            "fits.json",
            "--target",
            "gold",
            "--quiet",
        ])
        .assert()
        .success();
    let fits: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(t.path("fits.json")).unwrap()).unwrap();
    // 6 best-of-n curves and 36 RL curves.
    assert_eq!(fits["fits"].as_array().unwrap().len(), 6 + 36);
}

#[test]
fn bad_settings_fail_with_one_message_and_nothing_written() {
    let t = common::TestDir::new();
    let cases: &[(&[&str], &str)] = &[
        (&["--rm-data", "0"], "--rm-data"),
        (&["--samples-per-prompt", "0"], "--samples-per-prompt"),
        (&["--prompts", "0"], "--prompts"),
        (&["--kl-penalties", "0,-0.1"], "--kl-penalties"),
        (&["--dim", "0"], "--dim"),
        (&["--rl-steps", "0"], "--rl-steps"),
        (&["--rm-lr", "0"], "--rm-lr"),
    ];
    for (args, flag) in cases {
        let out = t
            .cmd()
            .args(["generate", "sim", "--out", "sim"])
            .args(*args)
            .assert()
            // a setting out of its range is a usage error
            .code(2)
            .get_output()
            .clone();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(flag), "{args:?}: {stderr}");
        assert!(
            !t.path("sim").exists(),
            "{args:?} created the output folder"
        );
    }
    // An output folder that cannot be created: a file is in the way.
    t.write("blocker", "x");
    let out = t
        .cmd()
        .args(["generate", "sim", "--out", "blocker/sim"])
        .args(TINY)
        .assert()
        .code(1)
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("blocker"), "{stderr}");
    assert_eq!(t.files(), vec!["blocker".to_string()]);
}

#[test]
fn a_failed_run_leaves_no_partial_files() {
    // The folder exists and is writable but one output name is taken by a folder: nothing of
    // the other three may appear, and no temporary file may remain.
    let t = common::TestDir::new();
    std::fs::create_dir_all(t.path("sim/world.json")).unwrap();
    t.cmd()
        .args(["generate", "sim", "--out", "sim"])
        .args(TINY)
        .assert()
        .code(1);
    let mut left: Vec<String> = std::fs::read_dir(t.path("sim"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, vec!["world.json".to_string()]);
}

#[test]
fn a_diverging_policy_is_refused_and_leaves_nothing() {
    let t = common::TestDir::new();
    let out = t
        .cmd()
        .args(["generate", "sim", "--out", "sim"])
        .args(TINY)
        .args(["--rl-lr", "1000"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("--rl-lr"), "{stderr}");
    assert!(t.files().is_empty(), "left behind: {:?}", t.files());
}

/// New-user review: regenerating into a folder that already held `bon_curves.csv` and
/// `fits.json` (made from the earlier world) replaced the world's files in silence, leaving the
/// derived tables stale. The command now names them in one warning; `--quiet` stays silent, and
/// a fresh folder gets no warning.
#[test]
fn regenerating_into_a_used_folder_names_the_stale_files() {
    let t = common::TestDir::new();
    let run = |extra: &[&str]| {
        let out = t
            .cmd()
            .args(["generate", "sim", "--out", "w", "--seed", "1"])
            .args(TINY)
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        String::from_utf8(out.stderr).unwrap()
    };
    assert!(!run(&[]).contains("warning"));
    t.write("w/bon_curves.csv", "method,rm_params,n,kl,gold\n");
    t.write("w/fits.json", "{}");
    t.write("w/.hidden", "");
    let stderr = run(&[]);
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("warning"))
        .collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0].contains("also holds bon_curves.csv, fits.json from before this run"),
        "{stderr}"
    );
    assert!(!run(&["--quiet"]).contains("warning"));
    // the old files are left as they were
    assert_eq!(
        std::fs::read_to_string(t.path("w/fits.json")).unwrap(),
        "{}"
    );
}
