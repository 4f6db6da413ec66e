//! TensorBoard event files read directly. The fixture (`tests/data/tfevents/`, written by its
//! `make.py` with the `tensorboard` Python package) has two TRL-GRPO-style runs, one in PyTorch's
//! TF1 style (`simple_value`) and one in TF2 style (float tensors) restarted from a checkpoint,
//! and the CSV files TensorBoard's UI exports for every tag, made by the UI's own export code.
//! The event folder must give the same Curves table, byte for byte, as the export; and the
//! table's values are checked against the export and the gold file, read here on their own.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::{TestDir, assert_input_error};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/tfevents")
        .join(rel)
}

fn arg(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// The UI's CSV exports of the given tags (`train_kl` etc.) of both runs.
fn exports(tags: &[&str]) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for run in ["rm125m", "rm350m"] {
        for tag in tags {
            v.push(fixture(&format!("csv/run-{run}-tag-{tag}.csv")));
        }
    }
    v
}

/// Every CSV export of the fixture.
fn all_exports() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(fixture("csv"))
        .expect("csv folder")
        .map(|e| e.expect("entry").path())
        .collect();
    v.sort();
    v
}

/// `convert` of the inputs with the fixture's gold and sidecar, per-token KL converted with
/// the logged mean length; the Curves table's bytes.
fn convert(t: &TestDir, inputs: &[PathBuf], out: &str, extra: &[&str]) -> Vec<u8> {
    let mut args: Vec<String> = vec!["convert".to_string()];
    args.extend(inputs.iter().map(|p| arg(p)));
    for a in [
        "--gold-from",
        &arg(&fixture("gold.csv")),
        "--meta",
        &arg(&fixture("meta.json")),
        "--kl-unit",
        "token",
        "--length-key",
        "completions/mean_length",
        "--out",
        out,
    ] {
        args.push(a.to_string());
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let o = t.cmd().args(&args).output().expect("run goodhart");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "goodhart {args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    std::fs::read(t.path(out)).expect("output written")
}

/// A CSV file as header and rows (CRLF or LF).
fn read_csv(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_reader(bytes);
    let header = r
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    let rows = r
        .records()
        .map(|x| x.expect("row").iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

fn num(s: &str) -> f64 {
    s.parse().unwrap_or_else(|_| panic!("not a number: {s}"))
}

/// An export's rows as (wall time, step, value), in file order.
fn export_rows(run: &str, tag: &str) -> Vec<(f64, f64, f64)> {
    let bytes = std::fs::read(fixture(&format!("csv/run-{run}-tag-{tag}.csv"))).expect("export");
    let (header, rows) = read_csv(&bytes);
    assert_eq!(header, ["Wall time", "Step", "Value"]);
    rows.iter()
        .map(|r| (num(&r[0]), num(&r[1]), num(&r[2])))
        .collect()
}

/// The value of the latest wall time at each step of an export.
fn latest(run: &str, tag: &str) -> BTreeMap<i64, f64> {
    let mut by_step: BTreeMap<i64, (f64, f64)> = BTreeMap::new();
    for (wall, step, value) in export_rows(run, tag) {
        let e = by_step.entry(step as i64).or_insert((wall, value));
        if wall >= e.0 {
            *e = (wall, value);
        }
    }
    by_step.into_iter().map(|(s, (_, v))| (s, v)).collect()
}

#[test]
fn event_folder_gives_the_same_curves_table_as_the_ui_csv_export() {
    let t = TestDir::new();
    let events = convert(&t, &[fixture("logs")], "events.csv", &[]);
    let used = convert(
        &t,
        &exports(&["train_kl", "train_reward", "train_completions_mean_length"]),
        "export.csv",
        &[],
    );
    let every = convert(&t, &all_exports(), "every.csv", &[]);
    assert!(events == used, "event folder and CSV export differ");
    assert!(
        events == every,
        "event folder and every exported tag differ"
    );

    // The table against the export and the gold file, read here.
    let (header, rows) = read_csv(&events);
    assert_eq!(
        header,
        ["method", "rm_params", "kl", "gold", "proxy", "run", "step"]
    );
    let mut gold: BTreeMap<(String, i64), f64> = BTreeMap::new();
    let (gh, grows) = read_csv(&std::fs::read(fixture("gold.csv")).expect("gold"));
    assert_eq!(gh, ["run", "step", "gold"]);
    for r in &grows {
        gold.insert((r[0].clone(), num(&r[1]) as i64), num(&r[2]));
    }
    let mut per_run: BTreeMap<String, usize> = BTreeMap::new();
    for r in &rows {
        let (run, step) = (r[5].clone(), num(&r[6]) as i64);
        *per_run.entry(run.clone()).or_default() += 1;
        if step == 0 {
            // The gold row before TRL's first log is the KL = 0 baseline: no proxy there.
            assert_eq!((num(&r[2]), r[4].as_str()), (0.0, ""), "baseline of {run}");
            assert_eq!(num(&r[3]), gold[&(run.clone(), 0)]);
            continue;
        }
        let kl_tok = latest(&run, "train_kl")[&step];
        let len = latest(&run, "train_completions_mean_length")[&step];
        assert_eq!(num(&r[2]), kl_tok * len, "kl of {run} at step {step}");
        assert_eq!(num(&r[4]), latest(&run, "train_reward")[&step]);
        assert_eq!(
            num(&r[3]),
            gold[&(run.clone(), step)],
            "gold of {run}@{step}"
        );
        let rm = if run == "rm125m" { 1.25e8 } else { 3.5e8 };
        assert_eq!(num(&r[1]), rm);
    }
    // Gold every 20 steps from 20 to 200, and at step 0 (before TRL's first log: the baseline).
    assert_eq!(
        per_run,
        BTreeMap::from([("rm125m".to_string(), 11), ("rm350m".to_string(), 11)])
    );

    // The restart: step 120 of rm350m is in two event files; the export lists both values and
    // the table has the one of the later wall time.
    let twice: Vec<(f64, f64, f64)> = export_rows("rm350m", "train_kl")
        .into_iter()
        .filter(|r| r.1 == 120.0)
        .collect();
    assert_eq!(twice.len(), 2, "the export has step 120 twice");
    assert_ne!(twice[0].2, twice[1].2);
    let later = if twice[0].0 > twice[1].0 {
        twice[0]
    } else {
        twice[1]
    };
    let row = rows
        .iter()
        .find(|r| r[5] == "rm350m" && r[6] == "120")
        .expect("rm350m step 120");
    let len = latest("rm350m", "train_completions_mean_length")[&120];
    assert_eq!(num(&row[2]), later.2 * len);
}

#[test]
fn event_files_given_one_by_one_read_as_their_folder() {
    let t = TestDir::new();
    let folder = convert(&t, &[fixture("logs")], "folder.csv", &[]);
    let mut files = Vec::new();
    for run in ["rm350m", "rm125m"] {
        for e in std::fs::read_dir(fixture("logs").join(run)).expect("run folder") {
            files.push(e.expect("entry").path());
        }
    }
    let one_by_one = convert(&t, &files, "files.csv", &["--format", "tensorboard"]);
    assert!(folder == one_by_one);
    // Run subfolders given as inputs: their common folder is the root, runs keep their names.
    let runs = convert(
        &t,
        &[fixture("logs/rm125m"), fixture("logs/rm350m")],
        "runs.csv",
        &[],
    );
    assert!(folder == runs);
}

#[test]
fn inspect_says_how_event_files_were_read() {
    let t = TestDir::new();
    let o = t
        .cmd()
        .args([
            "inspect",
            &arg(&fixture("logs")),
            "--gold-from",
            &arg(&fixture("gold.csv")),
            "--meta",
            &arg(&fixture("meta.json")),
            "--length-key",
            "completions/mean_length",
        ])
        .output()
        .expect("run");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{out}");
    for f in [
        "a folder with 3 TensorBoard event file(s) (events.out.tfevents.*) in 2 run(s)",
        "kl            <- train/kl x train/completions/mean_length",
        "run           <- the folders of the event files, relative to",
        "6 value(s) were logged again at a step they already had",
        "train/rewards/accuracy_reward/mean",
    ] {
        assert!(out.contains(f), "{f:?} in {out}");
    }
}

#[test]
fn a_renamed_event_file_is_known_by_its_record_header() {
    let t = TestDir::new();
    let src = std::fs::read_dir(fixture("logs/rm125m"))
        .expect("run")
        .next()
        .expect("one file")
        .expect("entry")
        .path();
    t.write("run.bin", std::fs::read(src).expect("read"));
    let o = t.cmd().args(["inspect", "run.bin"]).output().expect("run");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("starts with a TFRecord header (TensorBoard event file)"),
        "{out}"
    );
    assert!(out.contains("train/kl"), "{out}");
}

#[test]
fn folders_without_events_and_wrong_formats_fail_cleanly() {
    let t = TestDir::new();
    std::fs::create_dir(t.path("empty")).expect("mkdir");
    std::fs::create_dir_all(t.path("notes/sub")).expect("mkdir");
    t.write("notes/sub/readme.txt", "not an event file");
    // A link loop is searched once, not forever.
    std::fs::create_dir(t.path("looped")).expect("mkdir");
    std::os::unix::fs::symlink("..", t.path("looped/up")).expect("symlink");
    for dir in ["empty", "notes", "looped"] {
        assert_input_error(
            &t,
            &["fit", dir, "--out", "out.json"],
            &[
                &format!("{dir}: no TensorBoard event files (events.out.tfevents.*)"),
                "subfolders",
            ],
        );
    }
    assert_input_error(
        &t,
        &[
            "fit",
            &arg(&fixture("logs")),
            "--format",
            "wandb",
            "--out",
            "out.json",
        ],
        &["--format wandb was asked", "TensorBoard event file(s)"],
    );
    // Event files and CSV exports of them are not mixed (a usage error, exit 2).
    let o = t
        .cmd()
        .args([
            "convert",
            &arg(&fixture("logs")),
            &arg(&fixture("csv/run-rm125m-tag-train_kl.csv")),
            "--rm-params",
            "1e9",
            "--gold-from",
            &arg(&fixture("gold.csv")),
            "--out",
            "x.csv",
        ])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("give TensorBoard event files") && stderr.contains("not both"),
        "{stderr}"
    );
    assert!(!t.path("x.csv").exists());
}

#[test]
fn the_event_folder_fits_the_law_its_gold_was_made_from() {
    // make.py's gold: gold = d (alpha - beta ln d), d = sqrt(per-sequence KL), rounded to 6
    // decimals; rm125m (0.9, 0.3), rm350m (1.0, 0.25).
    let t = TestDir::new();
    let o = t
        .cmd()
        .args([
            "fit",
            &arg(&fixture("logs")),
            "--gold-from",
            &arg(&fixture("gold.csv")),
            "--meta",
            &arg(&fixture("meta.json")),
            "--length-key",
            "completions/mean_length",
            "--target",
            "gold",
            "--out",
            "fits.json",
        ])
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.path("fits.json")).expect("fits")).expect("json");
    let fits = v["fits"].as_array().expect("fits");
    assert_eq!(fits.len(), 2);
    for f in fits {
        let (alpha, beta) = match f["rm_params"].as_f64() {
            Some(1.25e8) => (0.9, 0.3),
            Some(3.5e8) => (1.0, 0.25),
            other => panic!("unexpected rm_params {other:?}"),
        };
        let a = f["params"]["alpha"]["value"].as_f64().expect("alpha");
        let b = f["params"]["beta"]["value"].as_f64().expect("beta");
        // Gold rounded to 1e-6 moves the coefficients by about that much.
        assert!((a - alpha).abs() < 1e-5, "alpha {a} vs {alpha}");
        assert!((b - beta).abs() < 1e-5, "beta {b} vs {beta}");
    }
}

/// The TFRecord framing of one record (masked CRC-32C as TensorFlow writes it).
fn frame(data: &[u8]) -> Vec<u8> {
    let mask = |c: u32| c.rotate_right(15).wrapping_add(0xa282_ead8);
    let len = (data.len() as u64).to_le_bytes();
    let mut out = len.to_vec();
    out.extend(mask(crc32c::crc32c(&len)).to_le_bytes());
    out.extend(data);
    out.extend(mask(crc32c::crc32c(data)).to_le_bytes());
    out
}

/// The records' data of a well-formed event file.
fn unframe(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let len = u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8")) as usize;
        out.push(bytes[at + 12..at + 12 + len].to_vec());
        at += 12 + len + 4;
    }
    out
}

#[test]
fn mutated_event_files_never_panic() {
    use goodhart::fuzzing::{FuzzTarget, run};
    use rand::{Rng, SeedableRng};
    let seeds = ["seed_ppo_tf1", "seed_ppo_tf2"].map(|s| {
        std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fuzz/corpus/tfevents")
                .join(s),
        )
        .expect("seed")
    });
    for seed in &seeds {
        assert!(
            matches!(run(FuzzTarget::Tfevents, seed), Ok(n) if n > 0),
            "the seed reads into a fit"
        );
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(15);
    for i in 0..300 {
        let seed = &seeds[i % 2];
        // Mutate a record's protobuf and frame it again with good CRCs, so the decoder (not
        // only the CRC check) sees the damage; or cut or flip the raw bytes.
        let bytes = match i % 3 {
            0 => {
                let mut records = unframe(seed);
                let r = rng.random_range(0..records.len());
                let rec = &mut records[r];
                for _ in 0..rng.random_range(1..4) {
                    if rec.is_empty() {
                        break;
                    }
                    let k = rng.random_range(0..rec.len());
                    rec[k] = rng.random();
                }
                records.iter().flat_map(|d| frame(d)).collect()
            }
            1 => seed[..rng.random_range(0..seed.len())].to_vec(),
            _ => {
                let mut b = seed.clone();
                let k = rng.random_range(0..b.len());
                b[k] ^= 1 << rng.random_range(0..8);
                b
            }
        };
        let outcome = std::panic::catch_unwind(|| run(FuzzTarget::Tfevents, &bytes));
        assert!(outcome.is_ok(), "mutation {i} panicked");
    }
}
