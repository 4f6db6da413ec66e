//! Mergeable best-of-n: a Samples table split by prompt into 8 shards, each shard through
//! `goodhart bon --partial`, the partial tables merged in a shuffled order by `goodhart bon
//! merge`, equal `goodhart bon` on the whole table (the reference: one process, every pool at
//! once) byte for byte and to 1e-12, with the bootstrap replicates, the per-prompt columns, the
//! pool KL, unequal pools and `--common-prompts`; and bad partials refused with one message.

use crate::common;

use common::{TestDir, assert_input_error};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// (rm_params, prompt, proxy, gold) rows of 2 reward models and 40 prompts. Pool sizes: all
/// `equal` when given, else 50..=100 (the default n grid of the largest pool differs between
/// shards). Proxy scores rounded so that ties occur.
fn sample_rows(seed: u64, equal: Option<usize>) -> Vec<(f64, String, f64, f64)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut rows = Vec::new();
    for rm in [3e7, 1e9] {
        for p in 0..40 {
            let size = equal.unwrap_or_else(|| rng.random_range(50..=100));
            for _ in 0..size {
                let gold: f64 = rng.random::<f64>() * 2.0 - 1.0;
                let proxy = ((gold + rng.random::<f64>()) * 16.0).round() / 16.0;
                rows.push((rm, format!("q{p}"), proxy, gold));
            }
        }
    }
    rows
}

fn csv_of(rows: &[(f64, String, f64, f64)]) -> String {
    let mut s = String::from("rm_params,prompt,proxy,gold\n");
    for (rm, p, x, g) in rows {
        s.push_str(&format!("{rm:?},{p},{x:?},{g:?}\n"));
    }
    s
}

fn run_ok(t: &TestDir, args: &[&str]) {
    let out = t.cmd().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "goodhart {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Writes the whole table and 8 shards by prompt (prompts dealt at random, each shard's rows
/// shuffled); returns the shard file names.
fn write_shards(t: &TestDir, rows: &[(f64, String, f64, f64)], seed: u64) -> Vec<String> {
    t.write("whole.csv", csv_of(rows));
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut prompts: Vec<String> = rows.iter().map(|r| r.1.clone()).collect();
    prompts.sort();
    prompts.dedup();
    prompts.shuffle(&mut rng);
    let mut names = Vec::new();
    for k in 0..8 {
        let mine: Vec<&String> = prompts.iter().skip(k).step_by(8).collect();
        let mut shard: Vec<(f64, String, f64, f64)> = rows
            .iter()
            .filter(|r| mine.contains(&&r.1))
            .cloned()
            .collect();
        shard.shuffle(&mut rng);
        let name = format!("shard{k}.csv");
        t.write(&name, csv_of(&shard));
        names.push(name);
    }
    names
}

/// `bon --partial` on every shard (partials alternately CSV and Parquet), then `bon merge` of
/// them in a shuffled order into `out`.
fn partials_and_merge(t: &TestDir, shards: &[String], options: &[&str], out: &str, seed: u64) {
    let mut partials = Vec::new();
    for (k, shard) in shards.iter().enumerate() {
        let name = format!("partial{k}.{}", if k % 2 == 0 { "csv" } else { "parquet" });
        let mut args = vec!["bon", shard.as_str(), "--partial", "--out", name.as_str()];
        args.extend_from_slice(options);
        run_ok(t, &args);
        partials.push(name);
    }
    partials.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let mut args = vec!["bon", "merge"];
    args.extend(partials.iter().map(String::as_str));
    args.extend(["--out", out]);
    run_ok(t, &args);
}

/// Every cell of two CSV tables: text equal, numbers within 1e-12 (relative to max(1, |x|)).
fn assert_tables_close(a: &str, b: &str) {
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    assert_eq!(la.len(), lb.len(), "row count");
    assert_eq!(la[0], lb[0], "header");
    for (ra, rb) in la.iter().zip(&lb).skip(1) {
        let (ca, cb): (Vec<&str>, Vec<&str>) = (ra.split(',').collect(), rb.split(',').collect());
        assert_eq!(ca.len(), cb.len());
        for (x, y) in ca.iter().zip(&cb) {
            match (x.parse::<f64>(), y.parse::<f64>()) {
                (Ok(x), Ok(y)) => assert!(
                    (x - y).abs() <= 1e-12 * x.abs().max(1.0),
                    "{x} vs {y} in\n{ra}\n{rb}"
                ),
                _ => assert_eq!(x, y),
            }
        }
    }
}

/// Merged == whole, for one data set and one set of options, in CSV and Parquet.
fn check(rows: &[(f64, String, f64, f64)], options: &[&str], seed: u64) {
    let t = TestDir::new();
    let shards = write_shards(&t, rows, seed);
    let mut whole = vec!["bon", "whole.csv", "--out", "whole_curves.csv"];
    whole.extend_from_slice(options);
    run_ok(&t, &whole);
    partials_and_merge(&t, &shards, options, "merged.csv", seed + 1);
    let a = std::fs::read_to_string(t.path("whole_curves.csv")).unwrap();
    let b = std::fs::read_to_string(t.path("merged.csv")).unwrap();
    assert_tables_close(&a, &b);
    assert!(
        a == b,
        "merged curves differ in bytes from bon on the whole table ({options:?})"
    );
    // the columns that carry the bootstrap material are there
    let header = a.lines().next().unwrap();
    let prompt_values = !options.contains(&"--no-prompt-values");
    assert_eq!(header.contains("gold_prompts"), prompt_values, "{header}");
    assert_eq!(
        header.contains("replicate"),
        options.contains(&"--bootstrap"),
        "{header}"
    );
    // Parquet output too
    let mut whole_pq = vec!["bon", "whole.csv", "--out", "whole_curves.parquet"];
    whole_pq.extend_from_slice(options);
    run_ok(&t, &whole_pq);
    let mut args = vec!["bon", "merge"];
    let partials: Vec<String> = (0..8)
        .rev()
        .map(|k| format!("partial{k}.{}", if k % 2 == 0 { "csv" } else { "parquet" }))
        .collect();
    args.extend(partials.iter().map(String::as_str));
    args.extend(["--out", "merged.parquet"]);
    run_ok(&t, &args);
    assert!(
        std::fs::read(t.path("whole_curves.parquet")).unwrap()
            == std::fs::read(t.path("merged.parquet")).unwrap(),
        "Parquet curves differ ({options:?})"
    );
}

#[test]
fn eight_shards_equal_the_whole_with_default_options() {
    check(&sample_rows(1, Some(30)), &[], 11);
}

#[test]
fn eight_shards_equal_the_whole_with_bootstrap_and_pool_kl() {
    check(
        &sample_rows(2, Some(80)),
        &["--bootstrap", "5", "--seed", "7", "--kl", "pool"],
        12,
    );
}

#[test]
fn eight_shards_equal_the_whole_with_unequal_pools_and_explicit_n() {
    check(
        &sample_rows(3, None),
        &["--n", "1,2,3,5,8,13,21,34,55,89", "--bootstrap", "3"],
        13,
    );
}

#[test]
fn eight_shards_equal_the_whole_with_common_prompts_complete() {
    let rows = sample_rows(4, None);
    check(&rows, &["--common-prompts", "complete"], 14);
    check(
        &rows,
        &["--common-prompts", "complete", "--n", "1,4,16,60"],
        15,
    );
}

#[test]
fn eight_shards_equal_the_whole_with_truncate_on_equal_pools() {
    check(
        &sample_rows(5, Some(20)),
        &["--common-prompts", "truncate", "--no-prompt-values"],
        16,
    );
}

#[test]
fn bad_partials_are_refused_with_one_message() {
    let t = TestDir::new();
    let shards = write_shards(&t, &sample_rows(6, None), 17);
    let partial = |shard: &str, out: &str, options: &[&str]| {
        let mut args = vec!["bon", shard, "--partial", "--out", out];
        args.extend_from_slice(options);
        run_ok(&t, &args);
    };
    partial(&shards[0], "a.csv", &["--n", "1,2,4"]);
    partial(&shards[1], "b.csv", &["--n", "1,2,4", "--seed", "3"]);
    partial(&shards[0], "a_again.parquet", &["--n", "1,2,4"]);
    partial(&shards[0], "default_a.csv", &[]);
    partial(&shards[1], "default_b.csv", &[]);
    partial(&shards[0], "trunc_a.csv", &["--common-prompts", "truncate"]);
    partial(&shards[1], "trunc_b.csv", &["--common-prompts", "truncate"]);
    let merge = |inputs: &[&str], fragments: &[&str]| {
        let mut args = vec!["bon", "merge"];
        args.extend_from_slice(inputs);
        args.extend(["--out", "curves.csv"]);
        assert_input_error(&t, &args, fragments);
    };
    merge(
        &["a.csv", "b.csv"],
        &["b.csv", "a.csv", "other options", "seed=3", "seed=0"],
    );
    merge(
        &["a.csv", "a_again.parquet"],
        &[
            "is in both",
            "a.csv",
            "a_again.parquet",
            "split a dump by prompt",
        ],
    );
    // a Samples table is not a partial table
    merge(
        &["a.csv", &shards[2]],
        &[
            &shards[2],
            "missing required columns 'pool_size', 'n', 'kl_pool', 'options'",
        ],
    );
    // shards of different largest pools with the default n grid (pools of 50..=100 samples)
    let sizes = |name: &str| -> usize {
        let text = std::fs::read_to_string(t.path(name)).unwrap();
        text.lines()
            .skip(1)
            .map(|l| l.split(',').nth(3).unwrap().parse::<usize>().unwrap())
            .max()
            .unwrap()
    };
    assert_ne!(sizes("default_a.csv"), sizes("default_b.csv"), "test data");
    merge(
        &["default_a.csv", "default_b.csv"],
        &[
            "at other n values",
            "give every `goodhart bon --partial` the same --n",
        ],
    );
    merge(
        &["trunc_a.csv", "trunc_b.csv"],
        &[
            "--common-prompts truncate would cut",
            "which needs the samples",
        ],
    );
    // a damaged options cell, and a duplicated row
    let text = std::fs::read_to_string(t.path("a.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let last = lines.len() - 1;
    lines[last] = lines[last].replace("kl=analytic", "kl=sideways");
    t.write("bad_options.csv", lines.join("\n") + "\n");
    let row = format!("row {last}:");
    merge(
        &["bad_options.csv"],
        &["bad_options.csv", &row, "kl=sideways", "differ from row 1"],
    );
    let second = text.lines().nth(1).unwrap();
    t.write("duplicated.csv", format!("{text}{second}\n"));
    merge(
        &["duplicated.csv"],
        &["duplicated.csv", "two rows for n = 1"],
    );
    t.write(
        "not_options.csv",
        text.replace("goodhart-bon-partial 1", "something else"),
    );
    merge(
        &["not_options.csv"],
        &[
            "not_options.csv",
            "not the options of a `goodhart bon --partial` table",
        ],
    );
}
