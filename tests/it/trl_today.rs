//! Logs as today's trainers write them (TRL GRPO/RLOO without step 0 and with a final summary
//! entry, OpenRLHF, veRL; key sets from their current source, cited in
//! src/ingest/adapters/keys.rs): a gold evaluation at step 0 is the KL = 0 baseline, per-token
//! KL is converted with the logged completion length by default, the TensorBoard export of
//! every tag gives the same table, `rewards/<func>/mean` can be the proxy, and the unit of a
//! bare `kl` is decided by the keys beside it (or asked for).
//! Fixtures: tests/data/adapters/trl_today (make_fixtures.py there).

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;

use common::TestDir;
use serde_json::{Value, json};

const TODAY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/adapters/trl_today");

/// The law of the GRPO fixture: gold = 1.3 + d (0.5 - 0.2 ln d), d = sqrt(per-sequence KL).
const ALPHA: f64 = 0.5;
const BETA: f64 = 0.2;

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

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

fn grpo(t: &TestDir) {
    copy_dir(&Path::new(TODAY).join("grpo"), t.root());
}

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

fn gold_fit(path: &Path) -> Value {
    let doc: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    doc["fits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["target"] == "gold")
        .cloned()
        .unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[test]
fn grpo_log_with_a_step_zero_gold_row_fits_from_that_baseline_in_sequence_nats() {
    let t = TestDir::new();
    grpo(&t);
    let (_, stderr) = ok(
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
    );
    assert!(
        stderr.contains("converted to per-sequence KL as kl x 'completions/mean_length'"),
        "{stderr}"
    );
    // The step-0 gold row, read from the gold file, is the baseline.
    let step0: f64 = rows(&t.path("gold.csv"))
        .iter()
        .find(|r| r["step"] == "0")
        .unwrap()["gold"]
        .parse()
        .unwrap();
    let f = gold_fit(&t.path("f.json"));
    assert_eq!(f["baseline"]["value"].as_f64(), Some(step0), "{f}");
    assert_eq!(f["baseline"]["points"].as_u64(), Some(1));
    assert!(!stderr.contains("match no usable logged step"), "{stderr}");
    // The peak of the law d (a - b ln d) is at d* = exp(a/b - 1): per-sequence KL* = d*^2.
    let want = (2.0 * (ALPHA / BETA - 1.0)).exp();
    let peak = f["peak"]["kl"].as_f64().unwrap();
    assert!(close(peak, want), "peak KL {peak}, law {want}");
    assert!(close(
        f["params"]["alpha"]["value"].as_f64().unwrap(),
        ALPHA
    ));
}

#[test]
fn the_tensorboard_export_of_every_tag_gives_the_same_table() {
    let t = TestDir::new();
    grpo(&t);
    copy_dir(&Path::new(TODAY).join("tensorboard"), &t.path("tb"));
    let mut tags: Vec<String> = std::fs::read_dir(t.path("tb"))
        .unwrap()
        .map(|e| format!("tb/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    tags.sort();
    assert!(tags.iter().any(|f| f.ends_with("train_epoch.csv")));
    let mut args: Vec<&str> = vec!["convert", "--format", "tensorboard"];
    args.extend(tags.iter().map(String::as_str));
    args.extend([
        "--gold-from",
        "gold.csv",
        "--rm-params",
        "1e9",
        "--out",
        "tb.csv",
    ]);
    let (_, stderr) = ok(&t, &args);
    // Warnings name the files briefly, never the whole list.
    for l in stderr.lines() {
        assert!(l.len() < 600, "long line: {l}");
    }
    assert!(stderr.contains("29 files in tb"), "{stderr}");
    assert!(
        stderr.contains("'train_kl' is per-token KL; converted"),
        "{stderr}"
    );
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
            "trl.csv",
        ],
    );
    let (tb, trl) = (rows(&t.path("tb.csv")), rows(&t.path("trl.csv")));
    assert_eq!(tb.len(), trl.len());
    assert_eq!(tb.len(), 11);
    for (a, b) in tb.iter().zip(&trl) {
        for c in ["method", "rm_params", "kl", "gold", "proxy", "step"] {
            assert_eq!(a[c], b[c], "column {c}");
        }
    }
    // The baseline row: KL 0, the step-0 gold, no proxy.
    assert_eq!((tb[0]["kl"].as_str(), tb[0]["proxy"].as_str()), ("0", ""));
}

/// A used tag logged twice at one step (a restarted run rewrote it): the value with the later
/// wall time is used, as for event files, and the reading says so; the earlier value is not.
#[test]
fn a_used_tag_logged_twice_at_a_step_keeps_the_later_wall_time() {
    let t = TestDir::new();
    grpo(&t);
    copy_dir(&Path::new(TODAY).join("tensorboard"), &t.path("tb"));
    let files = [
        "tb/run-grpo-tag-train_kl.csv",
        "tb/run-grpo-tag-train_reward.csv",
        "tb/run-grpo-tag-train_completions_mean_length.csv",
    ];
    let convert = |out: &str| {
        let mut args = vec!["convert", "--format", "tensorboard"];
        args.extend(files);
        args.extend([
            "--gold-from",
            "gold.csv",
            "--rm-params",
            "1e9",
            "--out",
            out,
        ]);
        ok(&t, &args)
    };
    convert("before.csv");
    let kl = t.path(files[0]);
    let text = std::fs::read_to_string(&kl).unwrap();
    let last = text.lines().last().unwrap().to_string();
    let cells: Vec<&str> = last.split(',').collect();
    let (wall, step, value): (f64, &str, f64) = (
        cells[0].parse().unwrap(),
        cells[1],
        cells[2].parse().unwrap(),
    );
    // The rewrite comes first in the file but carries the later wall time: order in the file
    // must not matter, the wall time decides.
    let rewrite = format!("{},{step},{}", wall + 5.0, 2.0 * value);
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines.insert(1, rewrite);
    std::fs::write(&kl, lines.join("\n") + "\n").unwrap();
    let (_, stderr) = convert("after.csv");
    assert!(stderr.contains("the later wall time is used"), "{stderr}");
    let (before, after) = (rows(&t.path("before.csv")), rows(&t.path("after.csv")));
    assert_eq!(before.len(), after.len());
    let step_rows =
        |r: &Vec<BTreeMap<String, String>>| r.iter().position(|row| row["step"] == step).unwrap();
    let (i, j) = (step_rows(&before), step_rows(&after));
    let (kb, ka): (f64, f64) = (
        before[i]["kl"].parse().unwrap(),
        after[j]["kl"].parse().unwrap(),
    );
    // KL is converted by the length, so the rewritten per-token value doubles the row's KL.
    approx::assert_relative_eq!(ka, 2.0 * kb, max_relative = 1e-12);
    for (a, b) in before.iter().zip(&after) {
        if a["step"] != step {
            assert_eq!(a, b);
        }
    }
}

/// A GRPO `trainer_state.json` with two reward functions; `reward` is their sum.
fn two_rewards(t: &TestDir) {
    let mut hist = Vec::new();
    for step in (10..=100).step_by(10) {
        let s = step as f64;
        hist.push(json!({
            "step": step, "kl": 0.01 * s / 50.0, "completions/mean_length": 50.0,
            "rewards/helpful/mean": 0.01 * s, "rewards/format/mean": 1.0 - 0.001 * s,
            "reward": 0.01 * s + 1.0 - 0.001 * s, "reward_std": 0.1,
        }));
    }
    t.write(
        "state.json",
        serde_json::to_string(&json!({ "log_history": hist })).unwrap(),
    );
    let mut gold = String::from("step,gold\n0,0.2\n");
    for step in (20..=100).step_by(20) {
        gold.push_str(&format!("{step},{}\n", 0.2 + 0.001 * step as f64));
    }
    t.write("g.csv", gold);
}

#[test]
fn a_reward_function_can_be_the_proxy_and_the_weighted_sum_is_named() {
    let t = TestDir::new();
    two_rewards(&t);
    let base = [
        "state.json",
        "--gold-from",
        "g.csv",
        "--rm-params",
        "1e9",
        "--out",
    ];
    let mut a: Vec<&str> = vec!["convert"];
    a.extend(base);
    a.push("sum.csv");
    let (_, stderr) = ok(&t, &a);
    assert!(
        stderr.contains("the proxy 'reward' is the weighted sum of 2 reward functions")
            && stderr.contains("to fit one of them")
            && stderr.contains("rewards/helpful/mean")
            && stderr.contains("rewards/format/mean"),
        "{stderr}"
    );
    let mut a: Vec<&str> = vec!["convert"];
    a.extend(base);
    a.extend(["one.csv", "--proxy-key", "rewards/helpful/mean"]);
    let (_, stderr) = ok(&t, &a);
    assert!(!stderr.contains("weighted sum"), "{stderr}");
    for r in rows(&t.path("one.csv")).iter().filter(|r| r["step"] != "0") {
        let step: f64 = r["step"].parse().unwrap();
        let proxy: f64 = r["proxy"].parse().unwrap();
        assert!(close(proxy, 0.01 * step), "{r:?}");
    }
    let (stdout, _) = ok(
        &t,
        &[
            "inspect",
            "state.json",
            "--gold-from",
            "g.csv",
            "--rm-params",
            "1e9",
        ],
    );
    // The log's keys in its order (serde_json writes them sorted here).
    assert!(
        stdout.contains(
            "proxy candidates (--proxy-key): reward (used), rewards/format/mean, rewards/helpful/mean"
        ),
        "{stdout}"
    );
}

/// A W&B panel export of one run with the given metrics (values from `f(step)`), plus gold.
/// A metric of a W&B export: its key and its value at each step.
type Metric<'a> = (&'a str, fn(f64) -> f64);

fn wandb(t: &TestDir, name: &str, metrics: &[Metric]) {
    let mut s = String::from("Step");
    for (m, _) in metrics {
        s.push_str(&format!(",run-a - {m}"));
    }
    s.push_str(",run-a - eval/gold\n");
    for step in (10..=100).step_by(10) {
        let x = step as f64;
        s.push_str(&format!("{step}"));
        for (_, f) in metrics {
            s.push_str(&format!(",{}", f(x)));
        }
        s.push_str(&format!(",{}\n", 0.001 * x));
    }
    t.write(name, s);
}

#[test]
fn a_bare_kl_takes_its_unit_from_the_keys_beside_it_or_asks() {
    let t = TestDir::new();
    let flags = ["--gold-key", "eval/gold", "--rm-params", "1e9", "--out"];
    // OpenRLHF: train/kl beside train/response_length: per token, converted by that length.
    wandb(
        &t,
        "openrlhf.csv",
        &[
            ("train/kl", |x| x / 1000.0),
            ("train/reward", |x| x / 100.0),
            ("train/response_length", |_| 20.0),
            ("train/return", |x| x / 100.0),
        ],
    );
    let mut a = vec!["convert", "openrlhf.csv"];
    a.extend(flags);
    a.push("o.csv");
    let (_, stderr) = ok(&t, &a);
    assert!(
        stderr.contains("converted to per-sequence KL as train/kl x 'train/response_length'"),
        "{stderr}"
    );
    for r in rows(&t.path("o.csv")) {
        let step: f64 = r["step"].parse().unwrap();
        assert!(
            close(r["kl"].parse().unwrap(), step / 1000.0 * 20.0),
            "{r:?}"
        );
    }
    // Beside PPO keys (objective/*) a bare kl is per sequence.
    wandb(
        &t,
        "ppo.csv",
        &[
            ("train/kl", |x| x / 10.0),
            ("train/objective/scores", |x| x / 100.0),
        ],
    );
    let mut a = vec!["convert", "ppo.csv", "--kl-key", "train/kl"];
    a.extend(flags);
    a.push("p.csv");
    let (_, stderr) = ok(&t, &a);
    assert!(!stderr.contains("per-token"), "{stderr}");
    for r in rows(&t.path("p.csv")) {
        let step: f64 = r["step"].parse().unwrap();
        assert!(close(r["kl"].parse().unwrap(), step / 10.0), "{r:?}");
    }
    // Nothing tells: exit 2 naming the flag.
    wandb(
        &t,
        "bare.csv",
        &[("train/kl", |x| x / 10.0), ("train/reward", |x| x / 100.0)],
    );
    let mut a = vec!["convert", "bare.csv"];
    a.extend(flags);
    a.push("b.csv");
    let (code, _, stderr) = run(&t, &a);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--kl-unit sequence|token"), "{stderr}");
    assert!(!t.path("b.csv").exists());
    // OpenRLHF also logs ppo_kl and ppo_clip_ratio (its PPO-clip diagnostics): its kl stays
    // per token (a review found it taken for PPO's per-sequence KL).
    wandb(
        &t,
        "openrlhf_ppo.csv",
        &[
            ("train/kl", |x| x / 1000.0),
            ("train/reward", |x| x / 100.0),
            ("train/response_length", |_| 20.0),
            ("train/ppo_kl", |x| x / 1e4),
            ("train/ppo_clip_ratio", |_| 0.1),
        ],
    );
    let mut a = vec!["convert", "openrlhf_ppo.csv"];
    a.extend(flags);
    a.push("op.csv");
    ok(&t, &a);
    for r in rows(&t.path("op.csv")) {
        let step: f64 = r["step"].parse().unwrap();
        assert!(
            close(r["kl"].parse().unwrap(), step / 1000.0 * 20.0),
            "{r:?}"
        );
    }
    // PPO keys and a per-token trainer's keys in one export (a PPO run and a GRPO run): the
    // file cannot say, so goodhart asks.
    wandb(
        &t,
        "mixed.csv",
        &[
            ("train/kl", |x| x / 10.0),
            ("train/objective/scores", |x| x / 100.0),
            ("train/completions/mean_length", |_| 20.0),
        ],
    );
    let mut a = vec!["convert", "mixed.csv", "--kl-key", "train/kl"];
    a.extend(flags);
    a.push("m.csv");
    let (code, _, stderr) = run(&t, &a);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--kl-unit sequence|token"), "{stderr}");
    // Told it is per sequence, the length key found in the log is not applied (a review found
    // `--kl-unit sequence` refused because of a length key nobody gave).
    let mut a = vec![
        "convert",
        "mixed.csv",
        "--kl-key",
        "train/kl",
        "--kl-unit",
        "sequence",
    ];
    a.extend(flags);
    a.push("m.csv");
    ok(&t, &a);
    for r in rows(&t.path("m.csv")) {
        let step: f64 = r["step"].parse().unwrap();
        assert!(close(r["kl"].parse().unwrap(), step / 10.0), "{r:?}");
    }
}

/// A gold evaluation at a logged step whose point is dropped (NaN KL) is not the KL = 0
/// baseline: it is reported as matching no usable step. A gold evaluation after step 0 but
/// before the first logged step is the baseline with a warning (the policy had trained).
#[test]
fn only_gold_before_every_logged_step_is_the_baseline() {
    let t = TestDir::new();
    grpo(&t);
    let log = t.path("trainer_state.json");
    let mut state: Value = serde_json::from_str(&std::fs::read_to_string(&log).unwrap()).unwrap();
    let hist = state["log_history"].as_array_mut().unwrap();
    let first = hist[0]["step"].as_f64().unwrap();
    hist[0]["kl"] = json!(f64::NAN.to_string());
    hist[0]
        .as_object_mut()
        .unwrap()
        .insert("kl".to_string(), Value::String("NaN".to_string()));
    let text = serde_json::to_string(&state)
        .unwrap()
        .replace("\"kl\":\"NaN\"", "\"kl\":NaN");
    t.write("nan_first.json", text);
    let gold = std::fs::read_to_string(t.path("gold.csv")).unwrap();
    let mut lines: Vec<&str> = gold.lines().collect();
    let extra = format!("{},1.9", first);
    lines.push(&extra);
    t.write("gold_first.csv", lines.join("\n") + "\n");
    let (_, stderr) = ok(
        &t,
        &[
            "convert",
            "nan_first.json",
            "--gold-from",
            "gold_first.csv",
            "--rm-params",
            "1e9",
            "--out",
            "n.csv",
        ],
    );
    let baseline: Vec<_> = rows(&t.path("n.csv"))
        .into_iter()
        .filter(|r| r["kl"] == "0")
        .collect();
    assert_eq!(baseline.len(), 1, "only the step-0 row: {baseline:?}");
    assert_eq!(baseline[0]["step"], "0");
    assert!(stderr.contains("match no usable logged step"), "{stderr}");
    // A gold row at step 5, before the first logged step 10: the baseline, with a warning.
    let half = format!("{},1.9", first / 2.0);
    let mut lines: Vec<&str> = gold.lines().collect();
    lines.push(&half);
    t.write("gold_half.csv", lines.join("\n") + "\n");
    let (_, stderr) = ok(
        &t,
        &[
            "convert",
            "trainer_state.json",
            "--gold-from",
            "gold_half.csv",
            "--rm-params",
            "1e9",
            "--out",
            "h.csv",
        ],
    );
    assert!(
        stderr.contains("although the policy had trained for that many steps"),
        "{stderr}"
    );
}

#[test]
fn classic_trl_ppo_env_reward_mean_is_the_proxy() {
    let t = TestDir::new();
    let hist: Vec<Value> = (0..=10)
        .map(|i| {
            let s = 10.0 * i as f64;
            json!({"step": 10 * i, "objective/kl": s / 10.0, "env/reward_mean": 0.3 + s / 100.0,
                   "ppo/loss/total": 0.1, "eval_gold": s / 1000.0})
        })
        .collect();
    t.write(
        "ppo.json",
        serde_json::to_string(&json!({ "log_history": hist })).unwrap(),
    );
    ok(
        &t,
        &[
            "convert",
            "ppo.json",
            "--gold-key",
            "eval_gold",
            "--rm-params",
            "1e9",
            "--out",
            "c.csv",
        ],
    );
    let table = rows(&t.path("c.csv"));
    assert_eq!(table.len(), 11);
    for r in table {
        let step: f64 = r["step"].parse().unwrap();
        assert!(
            close(r["proxy"].parse().unwrap(), 0.3 + step / 100.0),
            "{r:?}"
        );
    }
}

#[test]
fn verl_reward_kl_penalty_is_a_default_kl_key_per_token() {
    let t = TestDir::new();
    let mut s = String::new();
    for step in (0..=100).step_by(10) {
        let x = step as f64;
        s.push_str(&format!(
            "{{\"step\": {step}, \"data\": {{\"actor/reward_kl_penalty\": {}, \"critic/score/mean\": {}, \"response_length/mean\": 40.0, \"val/gold\": {}}}}}\n",
            x / 400.0,
            x / 100.0,
            x / 1000.0
        ));
    }
    t.write("metrics.jsonl", s);
    let (_, stderr) = ok(
        &t,
        &[
            "convert",
            "metrics.jsonl",
            "--gold-key",
            "val/gold",
            "--rm-params",
            "1e9",
            "--out",
            "c.csv",
        ],
    );
    assert!(
        stderr.contains("actor/reward_kl_penalty x 'response_length/mean'"),
        "{stderr}"
    );
    for r in rows(&t.path("c.csv")) {
        let step: f64 = r["step"].parse().unwrap();
        assert!(
            close(r["kl"].parse().unwrap(), step / 400.0 * 40.0),
            "{r:?}"
        );
    }
}

/// Per-token KL with no length key to convert it: the fit says "nats per token" wherever it
/// prints a KL (summary header, detail) and in the fits JSON (`kl_unit`); a per-sequence fit
/// says neither.
#[test]
fn unconverted_per_token_kl_is_labelled_nats_per_token() {
    let t = TestDir::new();
    grpo(&t);
    let log = t.path("trainer_state.json");
    let mut state: Value = serde_json::from_str(&std::fs::read_to_string(&log).unwrap()).unwrap();
    for e in state["log_history"].as_array_mut().unwrap() {
        e.as_object_mut().unwrap().remove("completions/mean_length");
    }
    t.write("per_token.json", serde_json::to_string(&state).unwrap());
    let args = |log: &str, out: &str| -> Vec<String> {
        [
            "fit",
            log,
            "--gold-from",
            "gold.csv",
            "--rm-params",
            "1e9",
            "--out",
            out,
            "--verbose",
        ]
        .map(String::from)
        .to_vec()
    };
    let a = args("per_token.json", "tok.json");
    let (stdout, _) = ok(&t, &a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(stdout.contains("peak KL (nats per token)"), "{stdout}");
    assert!(stdout.contains(" nats per token)"), "{stdout}");
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(t.path("tok.json")).unwrap()).unwrap();
    assert_eq!(doc["kl_unit"], "nats per token");
    let a = args("trainer_state.json", "seq.json");
    let (stdout, _) = ok(&t, &a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(!stdout.contains("per token"), "{stdout}");
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(t.path("seq.json")).unwrap()).unwrap();
    assert!(doc.get("kl_unit").is_none());
}

/// `report` on per-token KL says so in report.md's notes (its axes say "KL (nats)").
#[test]
fn a_report_of_per_token_kl_says_so() {
    let t = TestDir::new();
    grpo(&t);
    let log = t.path("trainer_state.json");
    let mut state: Value = serde_json::from_str(&std::fs::read_to_string(&log).unwrap()).unwrap();
    for e in state["log_history"].as_array_mut().unwrap() {
        e.as_object_mut().unwrap().remove("completions/mean_length");
    }
    t.write("per_token.json", serde_json::to_string(&state).unwrap());
    for (log, out) in [("per_token.json", "tok"), ("trainer_state.json", "seq")] {
        ok(
            &t,
            &[
                "report",
                log,
                "--gold-from",
                "gold.csv",
                "--rm-params",
                "1e9",
                "--out",
                out,
            ],
        );
    }
    let md = |d: &str| std::fs::read_to_string(t.path(&format!("{d}/report.md"))).unwrap();
    assert!(md("tok").contains("nats per token"));
    assert!(!md("seq").contains("nats per token"));
}
