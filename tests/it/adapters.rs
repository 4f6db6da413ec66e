//! Trainer logs as they are (TRL, W&B, TensorBoard, veRL, best-of-n dumps) converted and fitted
//! end to end: fixtures in tests/data/adapters/ are written from the documented layouts with gold
//! from a known RL law (make_fixtures.py), so the fits must recover the law's coefficients, the
//! converted rows must hold the logged values, and fitting the converted tidy file must give
//! byte-for-byte the fits of the raw log.

use crate::common;

use std::path::Path;

use common::TestDir;
use serde_json::Value;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/adapters");

/// Copies fixture files into the test folder (sidecars travel with their logs).
fn copy(t: &TestDir, files: &[&str]) {
    for f in files {
        let name = Path::new(f).file_name().unwrap().to_str().unwrap();
        std::fs::copy(Path::new(DATA).join(f), t.path(name)).expect("copy fixture");
    }
}

fn ok(t: &TestDir, args: &[&str]) -> (String, String) {
    let out = t.cmd().args(args).output().expect("run goodhart");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "goodhart {args:?} failed: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    (stdout, stderr)
}

fn json(t: &TestDir, name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(t.path(name)).unwrap()).unwrap()
}

/// The RL law of the fixtures.
fn rl(kl: f64, alpha: f64, beta: f64) -> f64 {
    if kl == 0.0 {
        return 0.0;
    }
    let d = kl.sqrt();
    d * (alpha - beta * d.ln())
}

/// The gold fits of a fits JSON as (kl_penalty, alpha, beta, n_points), in file order.
fn gold_fits(v: &Value) -> Vec<(Option<f64>, f64, f64, u64)> {
    v["fits"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["target"] == "gold")
        .map(|f| {
            (
                f["kl_penalty"].as_f64(),
                f["params"]["alpha"]["value"].as_f64().unwrap(),
                f["params"]["beta"]["value"].as_f64().unwrap(),
                f["n_points"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

/// A CSV as (header, rows of cells).
fn csv(t: &TestDir, name: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(t.path(name)).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').map(String::from).collect();
    let rows = lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    (header, rows)
}

fn col(header: &[String], rows: &[Vec<String>], name: &str) -> Vec<String> {
    let i = header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no {name} in {header:?}"));
    rows.iter().map(|r| r[i].clone()).collect()
}

fn nums(v: &[String]) -> Vec<f64> {
    v.iter().map(|x| x.parse::<f64>().unwrap()).collect()
}

/// `fit` of the raw log and of its converted tidy table write the same bytes.
fn same_fits(t: &TestDir, raw: &[&str], converted: &str, flags: &[&str]) {
    let mut a = vec!["fit"];
    a.extend(raw);
    a.extend(flags);
    a.extend(["--out", "raw_fits.json", "--quiet"]);
    ok(t, &a);
    ok(t, &["fit", converted, "--out", "tidy_fits.json", "--quiet"]);
    assert_eq!(
        std::fs::read(t.path("raw_fits.json")).unwrap(),
        std::fs::read(t.path("tidy_fits.json")).unwrap(),
        "fits of the raw log and of its conversion differ"
    );
}

#[test]
fn trl_ppo_plus_gold_csv_fits_in_one_command() {
    let t = TestDir::new();
    copy(&t, &["trl_ppo/trainer_state.json", "trl_ppo/gold.csv"]);
    let (stdout, stderr) = ok(
        &t,
        &[
            "fit",
            "--verbose",
            "trainer_state.json",
            "--gold-from",
            "gold.csv",
            "--rm-params",
            "1.2e9",
            "--out",
            "fits.json",
        ],
    );
    let fits = gold_fits(&json(&t, "fits.json"));
    assert_eq!(fits.len(), 1);
    let (_, alpha, beta, n) = fits[0];
    assert!(close(alpha, 0.5) && close(beta, 0.2), "{alpha} {beta}");
    // 21 entries - 2 with NaN = 19 points, one at kl = 0 (the baseline).
    assert_eq!(n, 18);
    assert!(stdout.contains("alpha:"), "{stdout}");
    assert!(
        stderr.contains("2 point(s) dropped for non-finite values (NaN/Infinity) in objective/kl 1, objective/scores 1"),
        "{stderr}"
    );
    assert!(
        stderr.contains("3 of 22 gold evaluation(s)") && stderr.contains("steps 50, 130, 215"),
        "{stderr}"
    );
    let v = json(&t, "fits.json");
    assert_eq!(v["fits"][0]["rm_params"].as_f64(), Some(1.2e9));
    assert_eq!(v["fits"][0]["method"], "rl");
}

#[test]
fn trl_ppo_converts_to_the_logged_rows_and_fits_the_same() {
    let t = TestDir::new();
    copy(&t, &["trl_ppo/trainer_state.json", "trl_ppo/gold.csv"]);
    let flags = ["--gold-from", "gold.csv", "--rm-params", "1.2e9"];
    let mut args = vec!["convert", "trainer_state.json", "--out", "curves.csv"];
    args.extend(flags);
    let (_, stderr) = ok(&t, &args);
    assert!(
        stderr.contains("wrote curves.csv (19 Curves rows)"),
        "{stderr}"
    );
    let (header, rows) = csv(&t, "curves.csv");
    assert_eq!(
        header,
        ["method", "rm_params", "kl", "gold", "proxy", "step"]
    );
    assert_eq!(rows.len(), 19);
    let steps = nums(&col(&header, &rows, "step"));
    let expected_steps: Vec<f64> = (0..=200)
        .step_by(10)
        .filter(|s| *s != 50 && *s != 130)
        .map(f64::from)
        .collect();
    assert_eq!(steps, expected_steps);
    let kl = nums(&col(&header, &rows, "kl"));
    let gold = nums(&col(&header, &rows, "gold"));
    let proxy = nums(&col(&header, &rows, "proxy"));
    for i in 0..rows.len() {
        let k = 0.05 * steps[i];
        assert!(close(kl[i], k), "row {i}: kl {} vs {k}", kl[i]);
        assert!(close(gold[i], rl(k, 0.5, 0.2)), "row {i}");
        assert!(close(proxy[i], 0.8 * k.sqrt()), "row {i}");
    }
    assert!(col(&header, &rows, "method").iter().all(|m| m == "rl"));
    assert!(
        col(&header, &rows, "rm_params")
            .iter()
            .all(|m| m == "1.2e9")
    );
    same_fits(&t, &["trainer_state.json"], "curves.csv", &flags);
    // Parquet and NDJSON outputs hold the same table.
    for out in ["curves.parquet", "curves.ndjson"] {
        let mut a = vec!["convert", "trainer_state.json", "--out", out, "--quiet"];
        a.extend(flags);
        ok(&t, &a);
        ok(&t, &["fit", out, "--out", "other.json", "--quiet"]);
        assert_eq!(
            std::fs::read(t.path("other.json")).unwrap(),
            std::fs::read(t.path("tidy_fits.json")).unwrap(),
            "{out}"
        );
    }
}

#[test]
fn join_tolerance_takes_the_nearest_earlier_step() {
    let t = TestDir::new();
    copy(&t, &["trl_ppo/trainer_state.json", "trl_ppo/gold.csv"]);
    let base = [
        "convert",
        "trainer_state.json",
        "--gold-from",
        "gold.csv",
        "--rm-params",
        "1e9",
    ];
    let mut a = base.to_vec();
    a.extend(["--join-tolerance", "9", "--out", "c9.csv"]);
    ok(&t, &a);
    let (_, rows) = csv(&t, "c9.csv");
    assert_eq!(
        rows.len(),
        19,
        "50 and 130 (NaN in the log) and 215 find no step within 9"
    );
    let mut a = base.to_vec();
    a.extend(["--join-tolerance", "15", "--out", "c15.csv"]);
    ok(&t, &a);
    let (header, rows) = csv(&t, "c15.csv");
    assert_eq!(rows.len(), 22);
    let at = |step: &str, name: &str| {
        let s = header.iter().position(|h| h == "step").unwrap();
        let row = rows.iter().find(|r| r[s] == step).unwrap();
        row[header.iter().position(|h| h == name).unwrap()].clone()
    };
    assert_eq!(
        at("50", "kl"),
        "2",
        "gold of step 50 takes the KL of step 40"
    );
    let last = rows.last().unwrap();
    let get = |name: &str| last[header.iter().position(|h| h == name).unwrap()].clone();
    assert_eq!(get("step"), "215", "the gold evaluation's step");
    assert_eq!(get("kl"), "10", "the KL of logged step 200");
}

#[test]
fn grpo_token_kl_is_converted_with_a_length_key() {
    let t = TestDir::new();
    copy(&t, &["trl_grpo/trainer_state.json"]);
    let flags = [
        "--gold-key",
        "eval_gold",
        "--length-key",
        "completions/mean_length",
        "--rm-params",
        "1e8",
    ];
    let mut a = vec!["convert", "trainer_state.json", "--out", "c.csv"];
    a.extend(flags);
    let (_, stderr) = ok(&t, &a);
    assert!(
        stderr.contains("'kl' is per-token KL; converted to per-sequence KL")
            && stderr.contains("approximate"),
        "{stderr}"
    );
    let (header, rows) = csv(&t, "c.csv");
    assert_eq!(
        rows.len(),
        21,
        "train and eval entries of a step are merged"
    );
    let steps = nums(&col(&header, &rows, "step"));
    let kl = nums(&col(&header, &rows, "kl"));
    let gold = nums(&col(&header, &rows, "gold"));
    for i in 0..rows.len() {
        assert!(close(kl[i], 0.04 * steps[i]), "row {i}: {}", kl[i]);
        assert!(close(gold[i], rl(kl[i], 0.4, 0.15)));
    }
    let mut a = vec!["fit", "trainer_state.json", "--out", "f.json", "--quiet"];
    a.extend(flags);
    ok(&t, &a);
    let (_, alpha, beta, _) = gold_fits(&json(&t, "f.json"))[0];
    assert!(close(alpha, 0.4) && close(beta, 0.15), "{alpha} {beta}");
    same_fits(&t, &["trainer_state.json"], "c.csv", &flags);
}

#[test]
fn grpo_token_kl_is_converted_with_the_logged_length_by_default() {
    let t = TestDir::new();
    copy(&t, &["trl_grpo/trainer_state.json"]);
    let (_, stderr) = ok(
        &t,
        &[
            "convert",
            "trainer_state.json",
            "--gold-key",
            "eval_gold",
            "--rm-params",
            "1e8",
            "--out",
            "c.csv",
        ],
    );
    assert!(
        stderr.contains("converted to per-sequence KL as kl x 'completions/mean_length'"),
        "{stderr}"
    );
    let (header, rows) = csv(&t, "c.csv");
    let steps = nums(&col(&header, &rows, "step"));
    let kl = nums(&col(&header, &rows, "kl"));
    for i in 0..rows.len() {
        // The fixture's per-sequence KL is 0.04 x step (per token: / 50 tokens).
        assert!(close(kl[i], 0.04 * steps[i]), "{} {}", kl[i], steps[i]);
    }
}

/// The GRPO fixture without its `completions/mean_length` key.
fn grpo_without_length(t: &TestDir, name: &str) {
    let text =
        std::fs::read_to_string(Path::new(DATA).join("trl_grpo/trainer_state.json")).unwrap();
    let cut = text.replace("\"completions/mean_length\": 50.0,", "");
    assert_ne!(cut, text);
    t.write(name, cut);
}

#[test]
fn grpo_token_kl_without_length_stays_per_token_with_a_warning() {
    let t = TestDir::new();
    grpo_without_length(&t, "trainer_state.json");
    let (_, stderr) = ok(
        &t,
        &[
            "convert",
            "trainer_state.json",
            "--gold-key",
            "eval_gold",
            "--rm-params",
            "1e8",
            "--out",
            "c.csv",
        ],
    );
    assert!(
        stderr.contains("it is fitted in nats per token (give --length-key KEY to convert)"),
        "{stderr}"
    );
    let (header, rows) = csv(&t, "c.csv");
    let steps = nums(&col(&header, &rows, "step"));
    let kl = nums(&col(&header, &rows, "kl"));
    for i in 0..rows.len() {
        assert!(close(kl[i], 0.04 * steps[i] / 50.0));
    }
}

#[test]
fn mixed_kl_units_are_refused_naming_the_inputs() {
    let t = TestDir::new();
    copy(&t, &["trl_ppo/trainer_state.json", "trl_ppo/gold.csv"]);
    grpo_without_length(&t, "grpo.json");
    ok(
        &t,
        &[
            "convert",
            "trainer_state.json",
            "--gold-from",
            "gold.csv",
            "--rm-params",
            "1e9",
            "--out",
            "ppo.csv",
        ],
    );
    // The log's size in its sidecar: --rm-params would apply to the tidy ppo.csv too (and
    // contradict its rm_params column).
    t.write("grpo.json.goodhart.json", r#"{"rm_params": 1e8}"#);
    common::assert_input_error(
        &t,
        &[
            "fit",
            "ppo.csv",
            "grpo.json",
            "--gold-key",
            "eval_gold",
            "--out",
            "f.json",
        ],
        &[
            "KL units differ",
            "ppo.csv: KL in nats per sequence",
            "grpo.json: KL in nats per token",
        ],
    );
    // Within one log: runs declared with different units in the sidecar.
    copy(&t, &["wandb/export.csv"]);
    t.write(
        "export.csv.goodhart.json",
        r#"{"rm_params": 3e8, "runs": {"ppo - seed 1": {"kl_unit": "sequence"}, "ppo-b": {"kl_unit": "token"}}}"#,
    );
    common::assert_input_error(
        &t,
        &[
            "fit",
            "export.csv",
            "--gold-key",
            "eval/gold",
            "--out",
            "f.json",
        ],
        &[
            "KL units differ",
            "run 'ppo - seed 1': sequence",
            "run 'ppo-b': token",
        ],
    );
}

#[test]
fn wandb_export_with_two_runs_becomes_two_curves() {
    let t = TestDir::new();
    copy(&t, &["wandb/export.csv", "wandb/export.csv.goodhart.json"]);
    let (_, stderr) = ok(
        &t,
        &[
            "convert",
            "export.csv",
            "--gold-key",
            "eval/gold",
            "--out",
            "c.csv",
        ],
    );
    assert!(
        stderr.contains("1 point(s) dropped for non-finite values (NaN/Infinity) in eval/gold 1"),
        "{stderr}"
    );
    let (header, rows) = csv(&t, "c.csv");
    assert_eq!(
        header,
        [
            "method",
            "rm_params",
            "kl",
            "gold",
            "proxy",
            "run",
            "step",
            "kl_penalty"
        ]
    );
    let runs = col(&header, &rows, "run");
    assert_eq!(
        runs.iter()
            .filter(|r| *r == "\"ppo - seed 1\"" || *r == "ppo - seed 1")
            .count(),
        21
    );
    assert_eq!(
        runs.iter().filter(|r| *r == "ppo-b").count(),
        10,
        "11 steps, one NaN"
    );
    let steps = nums(&col(&header, &rows, "step"));
    let kl = nums(&col(&header, &rows, "kl"));
    let gold = nums(&col(&header, &rows, "gold"));
    let pen = col(&header, &rows, "kl_penalty");
    for i in 0..rows.len() {
        let (rate, beta, p) = if runs[i] == "ppo-b" {
            (0.03, 0.25, "0.1")
        } else {
            (0.05, 0.2, "0")
        };
        assert!(close(kl[i], rate * steps[i]), "row {i}");
        assert!(close(gold[i], rl(kl[i], 0.5, beta)), "row {i}");
        assert_eq!(pen[i], p);
    }
    assert!(
        !steps
            .iter()
            .zip(&runs)
            .any(|(s, r)| r == "ppo-b" && *s == 60.0)
    );
    same_fits(&t, &["export.csv"], "c.csv", &["--gold-key", "eval/gold"]);
    let fits = gold_fits(&json(&t, "raw_fits.json"));
    assert_eq!(fits.len(), 2);
    assert_eq!(fits[0].0, Some(0.0));
    assert!(close(fits[0].1, 0.5) && close(fits[0].2, 0.2) && fits[0].3 == 20);
    assert_eq!(fits[1].0, Some(0.1));
    assert!(close(fits[1].1, 0.5) && close(fits[1].2, 0.25) && fits[1].3 == 9);
}

#[test]
fn wandb_runs_sharing_their_keys_are_replicates_of_one_curve() {
    let t = TestDir::new();
    copy(&t, &["wandb/export.csv"]);
    let out = t
        .cmd()
        .args([
            "inspect",
            "export.csv",
            "--gold-key",
            "eval/gold",
            "--rm-params",
            "3e8",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("curves:  1"), "{text}");
    assert!(
        text.contains("runs ppo - seed 1, ppo-b share method"),
        "{text}"
    );
}

#[test]
fn tensorboard_files_are_merged_by_step() {
    let t = TestDir::new();
    let files = [
        "tensorboard/run-ppo-tag-objective_kl.csv",
        "tensorboard/run-ppo-tag-objective_scores.csv",
        "tensorboard/run-ppo-tag-eval_gold.csv",
    ];
    copy(&t, &files);
    let names: Vec<&str> = files
        .iter()
        .map(|f| f.rsplit('/').next().unwrap())
        .collect();
    let mut a = vec!["convert"];
    a.extend(&names);
    a.extend([
        "--gold-key",
        "eval/gold",
        "--rm-params",
        "1e9",
        "--out",
        "c.csv",
    ]);
    ok(&t, &a);
    let (header, rows) = csv(&t, "c.csv");
    assert_eq!(
        header,
        ["method", "rm_params", "kl", "gold", "proxy", "run", "step"]
    );
    assert_eq!(rows.len(), 9, "gold every 20 steps, 0..160");
    let steps = nums(&col(&header, &rows, "step"));
    assert_eq!(
        steps,
        (0..=160).step_by(20).map(f64::from).collect::<Vec<_>>()
    );
    let kl = nums(&col(&header, &rows, "kl"));
    let gold = nums(&col(&header, &rows, "gold"));
    let proxy = nums(&col(&header, &rows, "proxy"));
    for i in 0..rows.len() {
        assert!(close(kl[i], 0.06 * steps[i]));
        assert!(close(gold[i], rl(kl[i], 0.6, 0.25)));
        assert!(close(proxy[i], 0.85 * kl[i].sqrt()));
    }
    assert!(col(&header, &rows, "run").iter().all(|r| r == "ppo"));
    let mut raw = names.clone();
    raw.reverse(); // file order does not matter
    same_fits(
        &t,
        &raw,
        "c.csv",
        &["--gold-key", "eval/gold", "--rm-params", "1e9"],
    );
    let (_, alpha, beta, n) = gold_fits(&json(&t, "raw_fits.json"))[0];
    assert!(
        close(alpha, 0.6) && close(beta, 0.25) && n == 8,
        "{alpha} {beta} {n}"
    );
}

#[test]
fn verl_jsonl_with_sidecar_and_gold_jsonl() {
    let t = TestDir::new();
    copy(
        &t,
        &[
            "verl/metrics.jsonl",
            "verl/metrics.jsonl.goodhart.json",
            "verl/gold.jsonl",
        ],
    );
    let flags = [
        "--gold-from",
        "gold.jsonl",
        "--length-key",
        "response_length/mean",
    ];
    let mut a = vec!["convert", "metrics.jsonl", "--out", "c.csv"];
    a.extend(flags);
    ok(&t, &a);
    let (header, rows) = csv(&t, "c.csv");
    assert_eq!(rows.len(), 11);
    let steps = nums(&col(&header, &rows, "step"));
    let kl = nums(&col(&header, &rows, "kl"));
    let gold = nums(&col(&header, &rows, "gold"));
    for i in 0..rows.len() {
        assert!(
            close(kl[i], 0.05 * steps[i]),
            "actor/kl_loss x response_length/mean"
        );
        assert!(close(gold[i], rl(kl[i], 0.55, 0.22)));
    }
    assert!(
        col(&header, &rows, "rm_params").iter().all(|r| r == "1e8"),
        "from the sidecar"
    );
    same_fits(&t, &["metrics.jsonl"], "c.csv", &flags);
    let (_, alpha, beta, _) = gold_fits(&json(&t, "raw_fits.json"))[0];
    assert!(close(alpha, 0.55) && close(beta, 0.22));
    // A flag wins over the sidecar.
    let mut a = vec![
        "convert",
        "metrics.jsonl",
        "--out",
        "d.csv",
        "--rm-params",
        "7e7",
    ];
    a.extend(flags);
    ok(&t, &a);
    let (header, rows) = csv(&t, "d.csv");
    assert!(col(&header, &rows, "rm_params").iter().all(|r| r == "7e7"));
}

#[test]
fn bon_json_dumps_convert_to_samples_and_fit_through_bon() {
    let t = TestDir::new();
    copy(&t, &["bon/dump.json", "bon/dump.jsonl"]);
    let (_, stderr) = ok(
        &t,
        &[
            "convert",
            "dump.json",
            "--rm-params",
            "3e8",
            "--out",
            "s.csv",
        ],
    );
    assert!(
        stderr.contains("1 sample(s) of 1 prompt(s) dropped for non-finite scores"),
        "{stderr}"
    );
    let (header, rows) = csv(&t, "s.csv");
    assert_eq!(header, ["prompt", "proxy", "gold", "rm_params"]);
    assert_eq!(rows.len(), 47, "6 prompts x 8 samples, one NaN");
    ok(
        &t,
        &[
            "convert",
            "dump.jsonl",
            "--rm-params",
            "3e8",
            "--out",
            "l.csv",
        ],
    );
    let (_, lrows) = csv(&t, "l.csv");
    assert_eq!(lrows.len(), 48);
    // Prompt p0's samples, sorted by proxy then gold, as the dump gives them.
    let dump = std::fs::read_to_string(t.path("dump.jsonl")).unwrap();
    let src: Value = serde_json::from_str(dump.lines().next().unwrap()).unwrap();
    let mut pairs: Vec<(f64, f64)> = src["proxy_scores"]
        .as_array()
        .unwrap()
        .iter()
        .zip(src["gold_scores"].as_array().unwrap())
        .map(|(p, g)| (p.as_f64().unwrap(), g.as_f64().unwrap()))
        .collect();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let got: Vec<(f64, f64)> = lrows
        .iter()
        .filter(|r| r[0] == "p0")
        .map(|r| (r[1].parse().unwrap(), r[2].parse().unwrap()))
        .collect();
    assert_eq!(got, pairs);
    // bon of the raw dump and of its Samples table agree byte for byte; then fit.
    ok(
        &t,
        &[
            "bon",
            "dump.jsonl",
            "--rm-params",
            "3e8",
            "--out",
            "raw_curves.csv",
            "--quiet",
        ],
    );
    ok(&t, &["bon", "l.csv", "--out", "tidy_curves.csv", "--quiet"]);
    assert_eq!(
        std::fs::read(t.path("raw_curves.csv")).unwrap(),
        std::fs::read(t.path("tidy_curves.csv")).unwrap()
    );
    ok(&t, &["fit", "raw_curves.csv", "--out", "f.json", "--quiet"]);
    let v = json(&t, "f.json");
    assert_eq!(v["fits"][0]["method"], "bon");
    assert_eq!(v["fits"][0]["form"], "bon");
}

#[test]
fn samples_tables_convert_between_formats() {
    let t = TestDir::new();
    copy(&t, &["bon/dump.jsonl"]);
    let dump = [
        "convert",
        "dump.jsonl",
        "--rm-params",
        "3e8",
        "--out",
        "s.csv",
    ];
    ok(&t, &dump);
    // CSV -> Parquet -> CSV: the same table, byte for byte, and the same curves from each.
    let (_, stderr) = ok(&t, &["convert", "s.csv", "--out", "s.parquet"]);
    assert!(stderr.contains("48 Samples rows"), "{stderr}");
    ok(&t, &["convert", "s.parquet", "--out", "back.csv"]);
    assert_eq!(
        std::fs::read(t.path("s.csv")).unwrap(),
        std::fs::read(t.path("back.csv")).unwrap()
    );
    for input in ["s.csv", "s.parquet"] {
        let out = format!("{input}.curves.csv");
        ok(&t, &["bon", input, "--out", &out, "--quiet"]);
        assert_eq!(
            std::fs::read(t.path("s.csv.curves.csv")).unwrap(),
            std::fs::read(t.path(&out)).unwrap()
        );
    }
    // Rows in another order (a shuffled file) come out in the canonical order.
    let text = std::fs::read_to_string(t.path("s.csv")).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[1..].reverse();
    t.write("reversed.csv", lines.join("\n") + "\n");
    ok(&t, &["convert", "reversed.csv", "--out", "sorted.csv"]);
    assert_eq!(text, std::fs::read_to_string(t.path("sorted.csv")).unwrap());
    // A Samples table and a Curves table in one convert are refused.
    t.write("c.csv", common::small_curves_csv());
    common::assert_usage_error(
        &t,
        &["convert", "s.csv", "c.csv", "--out", "mixed.csv"],
        &["not both at once"],
    );
}

#[test]
fn python_infinity_is_accepted_and_counted() {
    let t = TestDir::new();
    t.write(
        "trainer_state.json",
        r#"{"log_history": [
 {"step": 0, "objective/kl": 0.0, "gold": 0.0},
 {"step": 1, "objective/kl": Infinity, "gold": 0.1},
 {"step": 2, "objective/kl": 1.0, "gold": -Infinity},
 {"step": 3, "objective/kl": 2.0, "gold": 0.5},
 {"step": 4, "objective/kl": 4.0, "gold": 0.7},
 {"step": 5, "objective/kl": -0.02, "gold": 0.0}
]}"#,
    );
    let (_, stderr) = ok(
        &t,
        &[
            "convert",
            "trainer_state.json",
            "--gold-key",
            "gold",
            "--rm-params",
            "1e8",
            "--out",
            "c.csv",
        ],
    );
    assert!(
        stderr.contains(
            "2 point(s) dropped for non-finite values (NaN/Infinity) in objective/kl 1, gold 1"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("1 point(s) dropped for negative KL"),
        "{stderr}"
    );
    let (_, rows) = csv(&t, "c.csv");
    assert_eq!(rows.len(), 3);
}

#[test]
fn inspect_explains_every_detection() {
    let t = TestDir::new();
    copy(
        &t,
        &[
            "trl_ppo/trainer_state.json",
            "trl_ppo/gold.csv",
            "wandb/export.csv",
            "tensorboard/run-ppo-tag-objective_kl.csv",
            "verl/metrics.jsonl",
            "bon/dump.jsonl",
        ],
    );
    ok(&t, &["generate", "law", "--out", "law.csv", "--quiet"]);
    let cases: &[(&[&str], &[&str])] = &[
        (
            &[
                "trainer_state.json",
                "--gold-from",
                "gold.csv",
                "--rm-params",
                "1e9",
            ],
            &[
                "format:  trl (detected: JSON object with a 'log_history' list",
                "kl            <- objective/kl",
                "proxy         <- objective/scores",
                "gold          <- 'gold' of gold.csv (--gold-from, joined on 'step')",
                "KL unit: nats per sequence",
            ],
        ),
        (
            &[
                "export.csv",
                "--gold-key",
                "eval/gold",
                "--rm-params",
                "1e9",
            ],
            &[
                "format:  wandb (detected: CSV header has 'Step' and '<run> - <metric>' columns",
                "kl            <- train/objective/kl",
                "12 __MIN/__MAX column(s)",
            ],
        ),
        (
            &[
                "run-ppo-tag-objective_kl.csv",
                "--gold-key",
                "objective/kl",
                "--rm-params",
                "1e9",
            ],
            &[
                "format:  tensorboard (detected: CSV header is 'Wall time,Step,Value'",
                "run 'ppo', tag 'objective_kl' from the file name",
            ],
        ),
        (
            &[
                "metrics.jsonl",
                "--gold-key",
                "critic/score/mean",
                "--rm-params",
                "1e9",
            ],
            &[
                "format:  verl (detected: JSON Lines whose records are {\"step\": .., \"data\": {..}}",
                "kl            <- actor/kl_loss x response_length/mean",
                "KL unit: nats per sequence (per-token KL x mean response length)",
            ],
        ),
        (
            &["dump.jsonl", "--rm-params", "1e9"],
            &[
                "format:  bon-json (detected: JSON records with 'proxy_scores'/'gold_scores' arrays",
                "samples: 48 in 6 pool(s)",
            ],
        ),
        (
            &["law.csv"],
            &[
                "format:  CSV (from the extension .csv)",
                "layout:  tidy (no log layout recognised",
            ],
        ),
    ];
    for (args, needles) in cases {
        let mut a = vec!["inspect"];
        a.extend(*args);
        let (stdout, _) = ok(&t, &a);
        for n in *needles {
            assert!(
                stdout.contains(n),
                "inspect {args:?}: missing {n:?} in\n{stdout}"
            );
        }
    }
    // A log without gold: detection and keys are still shown, the problem is named.
    let out = t
        .cmd()
        .args(["inspect", "trainer_state.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("format:  trl (detected")
            && text.contains("objective/kl, objective/rlhf_reward"),
        "{text}"
    );
    assert!(
        text.contains("the log has no gold score: give --gold-from FILE"),
        "{text}"
    );
}

#[test]
fn an_unknown_key_lists_the_keys_nearest_first() {
    let t = TestDir::new();
    copy(&t, &["trl_ppo/trainer_state.json", "trl_ppo/gold.csv"]);
    common::assert_input_error(
        &t,
        &[
            "fit",
            "trainer_state.json",
            "--gold-from",
            "gold.csv",
            "--rm-params",
            "1e9",
            "--kl-key",
            "objective/kll",
            "--out",
            "f.json",
        ],
        &[
            "trainer_state.json: no key 'objective/kll' (--kl-key); keys in the file, nearest first: objective/kl, ",
        ],
    );
    common::assert_input_error(
        &t,
        &[
            "convert",
            "trainer_state.json",
            "--gold-from",
            "gold.csv",
            "--gold-key",
            "gld",
            "--rm-params",
            "1e9",
            "--out",
            "c.csv",
        ],
        &["gold.csv: no key 'gld' (--gold-key); keys in the file, nearest first: gold, step"],
    );
}

#[test]
fn a_file_of_another_format_is_refused() {
    let t = TestDir::new();
    copy(&t, &["wandb/export.csv", "trl_ppo/trainer_state.json"]);
    common::assert_input_error(
        &t,
        &["fit", "export.csv", "--format", "trl", "--out", "f.json"],
        &[
            "export.csv: --format trl was asked, but the file looks like wandb",
            "W&B panel export",
        ],
    );
    common::assert_input_error(
        &t,
        &[
            "convert",
            "trainer_state.json",
            "--format",
            "verl",
            "--rm-params",
            "1",
            "--out",
            "c.csv",
        ],
        &["--format verl was asked, but the file looks like trl"],
    );
    common::assert_input_error(
        &t,
        &["bon", "trainer_state.json", "--out", "c.csv"],
        &["trainer_state.json: this is a trl trainer log (curves), not scored samples"],
    );
}

#[test]
fn a_gold_join_without_overlap_is_refused() {
    let t = TestDir::new();
    copy(&t, &["trl_ppo/trainer_state.json"]);
    t.write("gold.csv", "step,gold\n1001,0.1\n1002,0.2\n");
    common::assert_input_error(
        &t,
        &[
            "fit",
            "trainer_state.json",
            "--gold-from",
            "gold.csv",
            "--rm-params",
            "1e9",
            "--out",
            "f.json",
        ],
        &[
            "no gold evaluation of gold.csv matches a logged step of trainer_state.json",
            "log 19 steps, 0 .. 200",
            "gold 2 steps, 1001 .. 1002",
        ],
    );
}

#[test]
fn missing_rm_params_names_the_flag_and_the_sidecar() {
    let t = TestDir::new();
    copy(&t, &["trl_ppo/trainer_state.json", "trl_ppo/gold.csv"]);
    let out = t
        .cmd()
        .args([
            "convert",
            "trainer_state.json",
            "--gold-from",
            "gold.csv",
            "--out",
            "c.csv",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "give --rm-params N (or \"rm_params\" in the sidecar trainer_state.json.goodhart.json)"
        ),
        "{stderr}"
    );
    assert!(!t.path("c.csv").exists());
}

#[test]
fn convert_never_overwrites_an_input() {
    let t = TestDir::new();
    copy(&t, &["trl_ppo/trainer_state.json"]);
    let out = t
        .cmd()
        .args([
            "convert",
            "trainer_state.json",
            "--out",
            "trainer_state.json",
            "--rm-params",
            "1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        std::fs::read(t.path("trainer_state.json")).unwrap(),
        std::fs::read(Path::new(DATA).join("trl_ppo/trainer_state.json")).unwrap()
    );
}

#[test]
fn a_forced_format_that_does_not_fit_names_the_line_or_header() {
    let t = TestDir::new();
    t.write("m.jsonl", "{\"step\": 1, \"kl\": 0.1}\n");
    common::assert_input_error(
        &t,
        &[
            "fit",
            "m.jsonl",
            "--format",
            "verl",
            "--rm-params",
            "1",
            "--out",
            "f.json",
        ],
        &["m.jsonl", "line 1 is not {\"step\": N, \"data\": {..}}"],
    );
    t.write("c.csv", "step,kl,gold\n1,0.1,0.2\n");
    common::assert_input_error(
        &t,
        &[
            "convert",
            "c.csv",
            "--format",
            "tensorboard",
            "--rm-params",
            "1",
            "--out",
            "o.csv",
        ],
        &[
            "c.csv",
            "header 'Wall time,Step,Value'; found 'step,kl,gold'",
        ],
    );
}
