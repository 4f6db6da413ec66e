//! `goodhart bon` reads Parquet Samples tables column by column (src/bon/columnar.rs, issue 16);
//! every other format, and any Parquet file it does not take, goes through the general reader.
//! The same rows written as CSV (general reader) and as Parquet (fast path) must give the same
//! Curves table byte for byte: seeded cases with ties, unequal pools, several reward models in
//! one column, shuffled rows, text and integer prompts (dense and hashed), several row groups, and
//! bootstrap replicates. Files the fast path gives up on (a NaN score, a missing cell, a flag to
//! check against a column) still get the general reader's message.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::common::{TestDir, assert_input_error};
use polars::prelude::*;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One sample: prompt (integer or text), proxy, gold, rm_params, policy_params.
#[derive(Clone)]
struct Row {
    prompt: Prompt,
    proxy: f64,
    gold: f64,
    rm: Option<f64>,
    policy: Option<f64>,
}

#[derive(Clone)]
enum Prompt {
    Int(i64),
    Text(String),
}

fn write_csv(path: &Path, rows: &[Row]) {
    let mut s = String::from("prompt,proxy,gold");
    let (rm, policy) = (rows[0].rm.is_some(), rows[0].policy.is_some());
    if rm {
        s.push_str(",rm_params");
    }
    if policy {
        s.push_str(",policy_params");
    }
    s.push('\n');
    for r in rows {
        match &r.prompt {
            Prompt::Int(v) => write!(s, "{v}").unwrap(),
            Prompt::Text(t) => s.push_str(t),
        }
        // Display is the shortest text that reads back to the same f64
        write!(s, ",{},{}", r.proxy, r.gold).unwrap();
        for v in [r.rm, r.policy].into_iter().flatten() {
            write!(s, ",{v}").unwrap();
        }
        s.push('\n');
    }
    std::fs::write(path, s).unwrap();
}

fn write_parquet(path: &Path, rows: &[Row], row_group: usize) {
    let n = rows.len();
    let prompt = match &rows[0].prompt {
        Prompt::Int(_) => Column::new(
            "prompt".into(),
            rows.iter()
                .map(|r| match r.prompt {
                    Prompt::Int(v) => v,
                    Prompt::Text(_) => unreachable!(),
                })
                .collect::<Vec<i64>>(),
        ),
        Prompt::Text(_) => Column::new(
            "prompt".into(),
            rows.iter()
                .map(|r| match &r.prompt {
                    Prompt::Text(t) => t.clone(),
                    Prompt::Int(_) => unreachable!(),
                })
                .collect::<Vec<String>>(),
        ),
    };
    let mut cols = vec![
        prompt,
        Column::new(
            "proxy".into(),
            rows.iter().map(|r| r.proxy).collect::<Vec<_>>(),
        ),
        Column::new(
            "gold".into(),
            rows.iter().map(|r| r.gold).collect::<Vec<_>>(),
        ),
    ];
    if rows[0].rm.is_some() {
        cols.push(Column::new(
            "rm_params".into(),
            rows.iter().map(|r| r.rm.unwrap()).collect::<Vec<_>>(),
        ));
    }
    if rows[0].policy.is_some() {
        cols.push(Column::new(
            "policy_params".into(),
            rows.iter().map(|r| r.policy.unwrap()).collect::<Vec<_>>(),
        ));
    }
    let mut df = DataFrame::new(n, cols).unwrap();
    ParquetWriter::new(std::fs::File::create(path).unwrap())
        .with_row_group_size(Some(row_group))
        .finish(&mut df)
        .unwrap();
}

/// Pools of the given sizes per reward model, scores rounded to `step` (ties when coarse).
fn samples(seed: u64, rms: &[f64], sizes: &[usize], step: f64, text: bool) -> Vec<Row> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut rows = Vec::new();
    for &rm in rms {
        for (p, &size) in sizes.iter().enumerate() {
            // integer ids spread so that some fall outside the dense table (negative, huge)
            let prompt = if text {
                Prompt::Text(format!("prompt {p}"))
            } else {
                Prompt::Int(match p % 3 {
                    0 => p as i64,
                    1 => -(p as i64) - 1,
                    _ => (1i64 << 40) + p as i64,
                })
            };
            for _ in 0..size {
                let gold: f64 = rng.random_range(-2.0..2.0);
                let proxy = gold + rng.random_range(-1.0..1.0);
                rows.push(Row {
                    prompt: prompt.clone(),
                    proxy: (proxy / step).round() * step,
                    gold: (gold / step).round() * step,
                    rm: (rms.len() > 1).then_some(rm),
                    policy: None,
                });
            }
        }
    }
    rows
}

fn bon(t: &TestDir, input: &Path, out: &str, extra: &[&str]) -> Vec<u8> {
    let mut args: Vec<String> = vec!["bon".into(), input.display().to_string()];
    args.extend(["--out".into(), out.into(), "--quiet".into()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let o = t.cmd().args(&args).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::read(t.path(out)).unwrap()
}

/// The Curves tables of the rows written as CSV and as Parquet (with `row_group` rows per row
/// group), which must be equal byte for byte; returns the CSV one.
fn same_curves(rows: &[Row], row_group: usize, extra: &[&str]) -> String {
    let t = TestDir::new();
    let (csv, pq): (PathBuf, PathBuf) = (t.path("s.csv"), t.path("s.parquet"));
    write_csv(&csv, rows);
    write_parquet(&pq, rows, row_group);
    let a = bon(&t, &csv, "from_csv.csv", extra);
    let b = bon(&t, &pq, "from_parquet.csv", extra);
    let a = String::from_utf8(a).unwrap();
    assert_eq!(a, String::from_utf8(b).unwrap());
    a
}

#[test]
fn grouped_rows_with_ties_give_the_general_readers_curves() {
    let rows = samples(1, &[1e8], &[40; 12], 0.25, false);
    let curves = same_curves(&rows, 100, &["--rm-params", "1e8", "--bootstrap", "5"]);
    // the case is not trivial: 12 prompts, replicates, per-prompt columns
    assert!(curves.contains(",12,") && curves.contains("gold_prompts"));
}

#[test]
fn shuffled_rows_of_several_reward_models_and_unequal_pools() {
    let mut rows = samples(2, &[1e7, 3e8, 2e9], &[5, 9, 30, 2, 17, 64, 8], 1e-3, false);
    rows.shuffle(&mut ChaCha8Rng::seed_from_u64(3));
    let curves = same_curves(&rows, 37, &["--bootstrap", "3", "--seed", "9"]);
    assert!(curves.contains("bon,1e7,") && curves.contains("bon,2e9,"));
}

#[test]
fn text_prompts_and_a_policy_column_with_rows_shuffled_within_each_model() {
    let mut rows = samples(4, &[1e8, 4e8], &[20, 25, 30, 4], 0.5, true);
    for (i, r) in rows.iter_mut().enumerate() {
        r.policy = Some(if i % 2 == 0 { 1e9 } else { 2e9 });
    }
    let half = rows.len() / 2;
    rows[..half].shuffle(&mut ChaCha8Rng::seed_from_u64(5));
    rows[half..].shuffle(&mut ChaCha8Rng::seed_from_u64(6));
    same_curves(&rows, 50, &["--n", "1,2,3,10"]);
}

#[test]
fn common_prompts_after_the_fast_read() {
    let mut rows = samples(7, &[1e8], &[10, 14, 30, 6], 1e-6, false);
    rows.shuffle(&mut ChaCha8Rng::seed_from_u64(8));
    same_curves(
        &rows,
        1000,
        &["--rm-params", "1e8", "--common-prompts", "truncate"],
    );
}

#[test]
fn files_the_fast_path_gives_up_on_get_the_general_readers_messages() {
    let t = TestDir::new();
    let mut rows = samples(10, &[1e8], &[4, 4], 0.1, false);
    rows[5].proxy = f64::NAN;
    let nan = t.path("nan.parquet");
    write_parquet(&nan, &rows, 3);
    assert_input_error(
        &t,
        &["bon", "nan.parquet", "--rm-params", "1e8", "--out", "c.csv"],
        &[
            "nan.parquet",
            "proxy",
            "row 6",
            "prompt '-2'",
            "finite number",
        ],
    );
    // --rm-params is checked against every row of an rm_params column (a usage error)
    let rows = samples(11, &[1e8, 2e8], &[4, 4], 0.1, false);
    write_parquet(&t.path("two.parquet"), &rows, 100);
    let o = t
        .cmd()
        .args(["bon", "two.parquet", "--rm-params", "1e8", "--out", "c.csv"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--rm-params 1e8 contradicts column 'rm_params' (row 9 has 2e8)"),
        "{err}"
    );
    assert!(!t.path("c.csv").exists());
}

#[test]
fn reward_models_in_contiguous_rows_read_one_at_a_time_give_the_same_curves() {
    // each reward model's rows together (the file is then read one model at a time), in an
    // order that is not the key order, rows shuffled within each model, row groups that
    // straddle the models
    let mut rows = samples(12, &[3e9, 1e7, 2e8], &[12, 7, 30, 9, 15], 0.05, false);
    let per_model = rows.len() / 3;
    for (i, chunk) in rows.chunks_mut(per_model).enumerate() {
        chunk.shuffle(&mut ChaCha8Rng::seed_from_u64(20 + i as u64));
    }
    let curves = same_curves(&rows, 29, &["--bootstrap", "4", "--seed", "2"]);
    assert!(curves.contains("bon,1e7,") && curves.contains("bon,3e9,"));
    same_curves(
        &rows,
        1000,
        &["--common-prompts", "complete", "--n", "1,5,12"],
    );
    same_curves(
        &rows,
        64,
        &["--common-prompts", "truncate", "--no-prompt-values"],
    );
}

/// Rows grouped by prompt in one Parquet file take the batched path (src/bon/streamed.rs), which
/// says so on stderr; its Curves table is the general reader's (from CSV) byte for byte, with any
/// number of threads; the same rows shuffled are counted into their pools from the file's pages
/// (src/bon/shuffled.rs), with the same bytes for any number of threads.
#[test]
fn grouped_rows_are_read_a_batch_at_a_time_with_the_same_bytes_for_any_thread_count() {
    let rows = samples(13, &[2e9, 1e7, 3e8], &[30, 2, 17, 64, 8, 41], 1e-3, false);
    let t = TestDir::new();
    write_csv(&t.path("s.csv"), &rows);
    write_parquet(&t.path("s.parquet"), &rows, 23);
    let run = |input: &str, out: &str, threads: &str| {
        let o = t
            .cmd()
            .env("RAYON_NUM_THREADS", threads)
            .args([
                "bon",
                input,
                "--out",
                out,
                "--bootstrap",
                "7",
                "--seed",
                "3",
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(o.status.success(), "{stderr}");
        (std::fs::read(t.path(out)).unwrap(), stderr)
    };
    let (general, stderr) = run("s.csv", "general.csv", "2");
    assert!(
        stderr.contains("; read ") && !stderr.contains("a batch of rows"),
        "{stderr}"
    );
    for threads in ["1", "2", "3"] {
        let (batched, stderr) = run("s.parquet", &format!("b{threads}.csv"), threads);
        assert!(
            stderr.contains("read and estimate") && stderr.contains("(a batch of rows at a time)"),
            "{stderr}"
        );
        assert!(
            batched == general,
            "{threads} thread(s): the batched table differs"
        );
    }
    let mut shuffled = rows.clone();
    shuffled.shuffle(&mut ChaCha8Rng::seed_from_u64(14));
    write_parquet(&t.path("shuffled.parquet"), &shuffled, 23);
    for threads in ["1", "2", "3"] {
        let (counted, stderr) = run("shuffled.parquet", &format!("c{threads}.csv"), threads);
        assert!(
            stderr.contains("(rows counted into their pools from the file's pages)"),
            "{stderr}"
        );
        assert!(
            counted == general,
            "{threads} thread(s): the counted table differs"
        );
    }
}

/// Unsigned prompt ids above i64::MAX (a UInt64 column) are prompts of their own, labelled by
/// their value, whatever the row order and path (bug: the page decoder read them as negative
/// numbers, and the column reader's cast to Int64 turned them into prompt 0's samples).
#[test]
fn unsigned_prompt_ids_above_i64_max_are_their_own_prompts() {
    let ids = [u64::MAX, u64::MAX - 3, 0, 1];
    let sizes = [3, 4, 2, 5];
    let mut rng = ChaCha8Rng::seed_from_u64(31);
    let mut rows: Vec<(u64, f64, f64)> = Vec::new();
    for (&id, &size) in ids.iter().zip(&sizes) {
        for _ in 0..size {
            let gold: f64 = rng.random_range(-2.0..2.0);
            rows.push((id, gold + rng.random_range(-1.0..1.0), gold));
        }
    }
    let t = TestDir::new();
    for shuffled in [false, true] {
        if shuffled {
            rows.shuffle(&mut rng);
        }
        let mut text = String::from("prompt,proxy,gold\n");
        for (id, proxy, gold) in &rows {
            writeln!(text, "{id},{proxy},{gold}").unwrap();
        }
        std::fs::write(t.path("s.csv"), text).unwrap();
        let mut df = DataFrame::new(
            rows.len(),
            vec![
                Column::new(
                    "prompt".into(),
                    rows.iter().map(|r| r.0).collect::<Vec<u64>>(),
                ),
                Column::new(
                    "proxy".into(),
                    rows.iter().map(|r| r.1).collect::<Vec<f64>>(),
                ),
                Column::new(
                    "gold".into(),
                    rows.iter().map(|r| r.2).collect::<Vec<f64>>(),
                ),
            ],
        )
        .unwrap();
        ParquetWriter::new(std::fs::File::create(t.path("s.parquet")).unwrap())
            .with_row_group_size(Some(5))
            .finish(&mut df)
            .unwrap();
        let flags = ["--rm-params", "1e8"];
        let from_csv = bon(&t, &t.path("s.csv"), "from_csv.csv", &flags);
        let from_parquet = bon(&t, &t.path("s.parquet"), "from_parquet.csv", &flags);
        assert!(from_csv == from_parquet, "shuffled: {shuffled}");
        let partial = bon(
            &t,
            &t.path("s.parquet"),
            "partial.csv",
            &["--rm-params", "1e8", "--partial"],
        );
        let partial = String::from_utf8(partial).unwrap();
        for id in ids {
            assert!(partial.contains(&format!(",{id},")), "{id} in {partial}");
        }
        let table = String::from_utf8(from_csv).unwrap();
        // n = 1 averages all 4 prompts
        assert!(table.lines().nth(1).unwrap().contains(",4,"), "{table}");
    }
}
