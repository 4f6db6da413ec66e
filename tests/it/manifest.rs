//! The runs manifest (`--runs`): three TRL GRPO runs, one proxy RM size each, and one gold file
//! with a `run` column, read in one command; gold joined by run and step (never averaged over
//! runs); counts of unmatched gold rows and runs; bad rows named by file, row and column.
//! Fixtures: tests/data/adapters/trl_today/three (make_fixtures.py there).

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;

use common::TestDir;
use serde_json::Value;

const THREE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/adapters/trl_today/three"
);

/// Copies the three-run fixture (logs, gold file, manifest) into the test folder.
fn three(t: &TestDir) {
    for f in [
        "gold.csv",
        "runs.csv",
        "rm125m/trainer_state.json",
        "rm350m/trainer_state.json",
        "rm1b3/trainer_state.json",
    ] {
        let to = t.path(f);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(Path::new(THREE).join(f), to).unwrap();
    }
}

fn run(t: &TestDir, args: &[&str]) -> (Option<i32>, String, String) {
    let out = t.cmd().args(args).output().expect("run goodhart");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    )
}

fn ok(t: &TestDir, args: &[&str]) -> (String, String) {
    let (code, stdout, stderr) = run(t, args);
    assert_eq!(code, Some(0), "goodhart {args:?}: {stderr}");
    (stdout, stderr)
}

/// A CSV file as maps from column name to cell, one per row.
fn rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines
        .map(|l| {
            header
                .iter()
                .zip(l.split(','))
                .map(|(h, c)| (h.to_string(), c.to_string()))
                .collect()
        })
        .collect()
}

/// The gold file's (step, gold) pairs of one run, sorted by step.
fn gold_of(t: &TestDir, run: &str) -> Vec<(f64, f64)> {
    let mut v: Vec<(f64, f64)> = rows(&t.path("gold.csv"))
        .iter()
        .filter(|r| r["run"] == run)
        .map(|r| (r["step"].parse().unwrap(), r["gold"].parse().unwrap()))
        .collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    v
}

/// The converted table's (step, gold) pairs of one run, sorted by step.
fn converted_of(table: &[BTreeMap<String, String>], run: &str) -> Vec<(f64, f64)> {
    let mut v: Vec<(f64, f64)> = table
        .iter()
        .filter(|r| r["run"] == run)
        .map(|r| (r["step"].parse().unwrap(), r["gold"].parse().unwrap()))
        .collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    v
}

const RUNS: [(&str, f64); 3] = [("rm125m", 1.25e8), ("rm350m", 3.5e8), ("rm1b3", 1.3e9)];

#[test]
fn three_runs_and_one_gold_file_give_three_fits_with_their_own_gold() {
    let t = TestDir::new();
    three(&t);
    ok(&t, &["convert", "--runs", "runs.csv", "--out", "c.csv"]);
    let table = rows(&t.path("c.csv"));
    for (name, size) in RUNS {
        let own = gold_of(&t, name);
        assert_eq!(own.len(), 11, "fixture: 11 gold rows per run");
        assert_eq!(converted_of(&table, name), own, "run {name}");
        for r in table.iter().filter(|r| r["run"] == name) {
            assert_eq!(r["rm_params"].parse::<f64>().unwrap(), size);
        }
    }
    assert_eq!(table.len(), 33);

    ok(
        &t,
        &[
            "fit", "--runs", "runs.csv", "--out", "f.json", "--target", "gold",
        ],
    );
    let doc: Value = serde_json::from_slice(&std::fs::read(t.path("f.json")).unwrap()).unwrap();
    let fits = doc["fits"].as_array().unwrap();
    assert_eq!(fits.len(), 3);
    for (name, size) in RUNS {
        let f = fits
            .iter()
            .find(|f| f["rm_params"].as_f64() == Some(size))
            .unwrap_or_else(|| panic!("a fit of {name}"));
        let own = gold_of(&t, name);
        // The baseline is the run's own step-0 gold value, not a mean over runs.
        assert_eq!(f["baseline"]["value"].as_f64().unwrap(), own[0].1, "{name}");
        assert_eq!(f["baseline"]["points"].as_u64(), Some(1));
        assert_eq!(f["n_points"].as_u64(), Some(10), "{name}");
    }
}

#[test]
fn a_single_log_with_a_multi_run_gold_file_joins_its_own_run_or_fails() {
    let t = TestDir::new();
    three(&t);
    // The mis-join of issue 15: no run named, several runs in the gold file.
    let (code, stdout, stderr) = run(
        &t,
        &[
            "convert",
            "rm125m/trainer_state.json",
            "--gold-from",
            "gold.csv",
            "--rm-params",
            "1.25e8",
            "--out",
            "-",
        ],
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("'run' column with 3 runs") && stderr.contains("--run NAME"),
        "{stderr}"
    );
    // --run names it: only its own evaluations, each step once.
    let (stdout, stderr) = ok(
        &t,
        &[
            "convert",
            "rm125m/trainer_state.json",
            "--gold-from",
            "gold.csv",
            "--rm-params",
            "1.25e8",
            "--run",
            "rm125m",
            "--out",
            "one.csv",
        ],
    );
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("22 gold evaluation(s) of 2 other run(s) (rm350m, rm1b3)"),
        "{stderr}"
    );
    assert_eq!(
        converted_of(&rows(&t.path("one.csv")), "rm125m"),
        gold_of(&t, "rm125m")
    );
    // The sidecar's "run" does the same.
    t.write(
        "rm125m/trainer_state.json.goodhart.json",
        r#"{"run": "rm125m", "rm_params": 1.25e8}"#,
    );
    ok(
        &t,
        &[
            "convert",
            "rm125m/trainer_state.json",
            "--gold-from",
            "gold.csv",
            "--out",
            "side.csv",
        ],
    );
    assert_eq!(
        std::fs::read(t.path("side.csv")).unwrap(),
        std::fs::read(t.path("one.csv")).unwrap()
    );
}

#[test]
fn unmatched_gold_rows_and_runs_without_gold_are_counted() {
    let t = TestDir::new();
    three(&t);
    t.write(
        "runs2.csv",
        "log,run,rm_params,gold_from\n\
         rm125m/trainer_state.json,rm125m,1.25e8,gold.csv\n\
         rm350m/trainer_state.json,rm350m,3.5e8,gold.csv\n\
         rm1b3/trainer_state.json,rm9b,9e9,gold.csv\n",
    );
    let (_, stderr) = ok(&t, &["convert", "--runs", "runs2.csv", "--out", "c.csv"]);
    assert!(
        stderr.contains(
            "11 gold evaluation(s) of 1 run(s) that runs2.csv does not list are not used (rm1b3)"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "1 of 3 run(s) have no gold evaluation in their gold file and are left out (rm9b)"
        ),
        "{stderr}"
    );
    let table = rows(&t.path("c.csv"));
    assert_eq!(table.len(), 22);
    assert!(table.iter().all(|r| r["run"] != "rm9b"));
}

#[test]
fn inspect_runs_shows_the_plan() {
    let t = TestDir::new();
    three(&t);
    let (stdout, _) = ok(&t, &["inspect", "--runs", "runs.csv"]);
    assert!(
        stdout.contains("runs manifest runs.csv: 3 run(s)"),
        "{stdout}"
    );
    for (i, (name, _)) in RUNS.iter().enumerate() {
        let line = stdout
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("row {}:", i + 1)))
            .unwrap_or_else(|| panic!("row {} in {stdout}", i + 1));
        assert!(
            line.contains(&format!("{name}/trainer_state.json [trl] run {name}")),
            "{line}"
        );
        assert!(line.contains("gold <- 'gold' of gold.csv"), "{line}");
        assert!(line.contains("11 point(s)"), "{line}");
    }
}

#[test]
fn scale_joint_reads_the_manifest() {
    let t = TestDir::new();
    three(&t);
    ok(&t, &["fit", "--runs", "runs.csv", "--out", "f.json"]);
    ok(
        &t,
        &[
            "scale", "f.json", "--joint", "--runs", "runs.csv", "--out", "s.json",
        ],
    );
    let doc: Value = serde_json::from_slice(&std::fs::read(t.path("s.json")).unwrap()).unwrap();
    assert!(!doc["joint"].is_null(), "{doc}");
}

#[test]
fn bad_manifests_are_named_by_file_row_and_column() {
    let t = TestDir::new();
    three(&t);
    t.write(
        "bad.csv",
        "log,run,rm_params,gold_from\n\
         rm125m/trainer_state.json,rm125m,1.25e8,gold.csv\n\
         rm350m/trainer_state.json,rm350m,abc,gold.csv\n",
    );
    common::assert_input_error(
        &t,
        &["fit", "--runs", "bad.csv", "--out", "f.json"],
        &[
            "bad.csv",
            "column 'rm_params', row 2",
            "must be a number > 0",
        ],
    );
    t.write(
        "missing.csv",
        "log,run,rm_params\nrm999/trainer_state.json,rm999,1e9\n",
    );
    common::assert_input_error(
        &t,
        &["fit", "--runs", "missing.csv", "--out", "f.json"],
        &["missing.csv", "column 'log', row 1", "does not exist"],
    );
    t.write(
        "twice.csv",
        "log,run,rm_params\nrm125m/trainer_state.json,a,1e9\nrm350m/trainer_state.json,a,2e9\n",
    );
    common::assert_input_error(
        &t,
        &["fit", "--runs", "twice.csv", "--out", "f.json"],
        &["twice.csv", "column 'run', row 2", "listed twice"],
    );
    t.write(
        "unknown.csv",
        "log,run,size\nrm125m/trainer_state.json,a,1e9\n",
    );
    let (code, _, stderr) = run(&t, &["fit", "--runs", "unknown.csv", "--out", "f.json"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("unknown column 'size'"), "{stderr}");
    // A flag may fill an empty column, never contradict a filled one.
    let (code, _, stderr) = run(
        &t,
        &[
            "fit",
            "--runs",
            "runs.csv",
            "--rm-params",
            "1e9",
            "--out",
            "f.json",
        ],
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("row 1, column rm_params") && stderr.contains("--rm-params"),
        "{stderr}"
    );
    assert!(!t.path("f.json").exists());
}

#[test]
fn an_output_may_not_replace_the_manifest_or_its_logs() {
    let t = TestDir::new();
    three(&t);
    let (code, _, stderr) = run(&t, &["convert", "--runs", "runs.csv", "--out", "gold.csv"]);
    assert_ne!(code, Some(0), "{stderr}");
    assert_eq!(
        std::fs::read(t.path("gold.csv")).unwrap(),
        std::fs::read(Path::new(THREE).join("gold.csv")).unwrap()
    );
}

#[test]
fn each_run_of_one_wandb_export_can_have_its_own_row() {
    let t = TestDir::new();
    std::fs::copy(
        Path::new(THREE).join("../../wandb/export.csv"),
        t.path("export.csv"),
    )
    .unwrap();
    t.write(
        "runs.csv",
        "log,run,rm_params,kl_penalty,gold_key\n\
         export.csv,ppo - seed 1,1e8,0,eval/gold\n\
         export.csv,ppo-b,2e9,0.1,eval/gold\n",
    );
    ok(&t, &["convert", "--runs", "runs.csv", "--out", "c.csv"]);
    let table = rows(&t.path("c.csv"));
    let of = |run: &str| -> Vec<&BTreeMap<String, String>> {
        table.iter().filter(|r| r["run"] == run).collect()
    };
    assert!(!of("ppo - seed 1").is_empty() && !of("ppo-b").is_empty());
    let size = |r: &&BTreeMap<String, String>| r["rm_params"].parse::<f64>().unwrap();
    assert!(
        of("ppo - seed 1").iter().all(|r| size(r) == 1e8),
        "{table:?}"
    );
    assert!(of("ppo-b").iter().all(|r| size(r) == 2e9), "{table:?}");
    assert_eq!(
        of("ppo - seed 1").len() + of("ppo-b").len(),
        table.len(),
        "no other rows"
    );
    // A run the export does not have is named.
    t.write(
        "runs2.csv",
        "log,run,rm_params,gold_key\nexport.csv,ppo-c,1e8,eval/gold\n",
    );
    let (code, _, stderr) = run(&t, &["convert", "--runs", "runs2.csv", "--out", "d.csv"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "names run 'ppo-c', which this log does not have (its runs: ppo - seed 1, ppo-b)"
        ),
        "{stderr}"
    );
}

#[test]
fn a_list_of_rm_sizes_points_at_the_manifest() {
    let t = TestDir::new();
    three(&t);
    let (code, _, stderr) = run(
        &t,
        &[
            "fit",
            "rm125m/trainer_state.json",
            "--rm-params",
            "1.25e8,3.5e8,1.3e9",
            "--out",
            "f.json",
        ],
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("is a list") && stderr.contains("--runs runs.csv"),
        "{stderr}"
    );
}
