//! `goodhart bon` end to end: every input format gives the same curves, the output is a Curves
//! table `goodhart fit` reads as it is (bootstrap replicates give percentile intervals), and the
//! order of the input rows changes no output byte.

use crate::common;

use common::TestDir;
use goodhart::ingest::Format;
use goodhart::output::{OutColumn, OutTable};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// (prompt, proxy, gold) rows: 30 prompts of 12 samples, proxy rounded so that ties occur.
fn sample_rows(seed: u64) -> Vec<(String, f64, f64)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut rows = Vec::new();
    for p in 0..30 {
        for _ in 0..12 {
            let gold: f64 = rng.random::<f64>() * 2.0 - 1.0;
            let proxy = ((gold + rng.random::<f64>()) * 8.0).round() / 8.0;
            rows.push((format!("prompt-{p}"), proxy, gold));
        }
    }
    rows
}

fn csv_of(rows: &[(String, f64, f64)]) -> String {
    let mut s = String::from("prompt,proxy,gold,rm_params\n");
    for (p, x, g) in rows {
        s.push_str(&format!("{p},{x:?},{g:?},3e7\n"));
    }
    s
}

fn run_ok(t: &TestDir, args: &[&str]) -> String {
    let out = t.cmd().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "goodhart {args:?} failed: {stderr}");
    stderr
}

#[test]
fn shuffled_rows_give_identical_bytes() {
    let t = TestDir::new();
    let rows = sample_rows(1);
    let mut shuffled = rows.clone();
    shuffled.shuffle(&mut ChaCha8Rng::seed_from_u64(99));
    t.write("a.csv", csv_of(&rows));
    t.write("b.csv", csv_of(&shuffled));
    for extra in [
        &[][..],
        &["--bootstrap", "40", "--seed", "5", "--kl", "pool"][..],
    ] {
        let mut a = vec!["bon", "a.csv", "--out", "a_out.csv"];
        a.extend(extra);
        run_ok(&t, &a);
        let mut b = vec!["bon", "b.csv", "--out", "b_out.csv"];
        b.extend(extra);
        run_ok(&t, &b);
        let (x, y) = (
            std::fs::read(t.path("a_out.csv")).unwrap(),
            std::fs::read(t.path("b_out.csv")).unwrap(),
        );
        assert!(!x.is_empty());
        assert_eq!(x, y, "shuffling the input changed the output ({extra:?})");
    }
}

#[test]
fn every_input_format_gives_the_same_curves() {
    let t = TestDir::new();
    let rows = sample_rows(2);
    t.write("s.csv", csv_of(&rows));
    // NDJSON, tidy
    let nd: String = rows
        .iter()
        .map(|(p, x, g)| {
            format!(
                "{{\"prompt\": \"{p}\", \"proxy\": {x:?}, \"gold\": {g:?}, \"rm_params\": 3e7}}\n"
            )
        })
        .collect();
    t.write("s.ndjson", nd);
    // Parquet, tidy, through the crate's own writer
    let mut table = OutTable::default();
    table.push(
        "prompt",
        OutColumn::Text(rows.iter().map(|r| Some(r.0.clone())).collect()),
    );
    table.push(
        "proxy",
        OutColumn::Number(rows.iter().map(|r| Some(r.1)).collect()),
    );
    table.push(
        "gold",
        OutColumn::Number(rows.iter().map(|r| Some(r.2)).collect()),
    );
    table.push("rm_params", OutColumn::Number(vec![Some(3e7); rows.len()]));
    t.write(
        "s.parquet",
        table
            .to_bytes(Format::Parquet, "s.parquet".as_ref())
            .unwrap(),
    );
    // Per-prompt array dumps (JSON array and JSON Lines), prompts named by a `prompt` key
    let mut records = Vec::new();
    for chunk in rows.chunks(12) {
        let proxy: Vec<String> = chunk.iter().map(|r| format!("{:?}", r.1)).collect();
        let gold: Vec<String> = chunk.iter().map(|r| format!("{:?}", r.2)).collect();
        records.push(format!(
            "{{\"prompt\": \"{}\", \"answers\": [], \"proxy_scores\": [{}], \"gold_scores\": [{}]}}",
            chunk[0].0,
            proxy.join(", "),
            gold.join(", ")
        ));
    }
    t.write("dump.json", format!("[{}]", records.join(",\n")));
    t.write("dump.jsonl", records.join("\n") + "\n");
    run_ok(&t, &["bon", "s.csv", "--out", "ref.csv"]);
    let reference = std::fs::read_to_string(t.path("ref.csv")).unwrap();
    for (input, extra) in [
        ("s.ndjson", None),
        ("s.parquet", None),
        ("dump.json", Some("3e7")),
        ("dump.jsonl", Some("3e7")),
    ] {
        let mut args = vec!["bon", input, "--out", "o.csv"];
        if let Some(r) = extra {
            args.extend(["--rm-params", r]);
        }
        run_ok(&t, &args);
        assert_eq!(
            std::fs::read_to_string(t.path("o.csv")).unwrap(),
            reference,
            "{input}"
        );
    }
    // Parquet and NDJSON outputs are Curves tables that fit reads, giving the same fits
    run_ok(&t, &["bon", "s.csv", "--out", "c.parquet"]);
    run_ok(&t, &["bon", "s.csv", "--out", "c.ndjson"]);
    run_ok(&t, &["fit", "ref.csv", "--out", "f_csv.json", "--quiet"]);
    run_ok(
        &t,
        &["fit", "c.parquet", "--out", "f_parquet.json", "--quiet"],
    );
    run_ok(
        &t,
        &["fit", "c.ndjson", "--out", "f_ndjson.json", "--quiet"],
    );
    let fits = |name: &str| std::fs::read_to_string(t.path(name)).unwrap();
    assert_eq!(fits("f_csv.json"), fits("f_parquet.json"));
    assert_eq!(fits("f_csv.json"), fits("f_ndjson.json"));
}

#[test]
fn output_columns_and_default_n_grid() {
    let t = TestDir::new();
    t.write("s.csv", csv_of(&sample_rows(3)));
    run_ok(&t, &["bon", "s.csv", "--out", "c.csv"]);
    let text = std::fs::read_to_string(t.path("c.csv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "method,rm_params,n,kl,kl_pool,gold,proxy,gold_se,proxy_se,n_prompts,gold_prompts,proxy_prompts"
    );
    let ns: Vec<u64> = lines
        .map(|l| l.split(',').nth(2).unwrap().parse().unwrap())
        .collect();
    assert_eq!(ns, (1..=12).collect::<Vec<_>>(), "every n when N <= 64");

    // N = 200: about 60 log-spaced values, with 1 and N
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let mut s = String::from("prompt,proxy,gold\n");
    for p in 0..3 {
        for _ in 0..200 {
            s.push_str(&format!(
                "{p},{},{}\n",
                rng.random::<f64>(),
                rng.random::<f64>()
            ));
        }
    }
    t.write("big.csv", s);
    run_ok(
        &t,
        &[
            "bon",
            "big.csv",
            "--rm-params",
            "1e9",
            "--out",
            "big_out.csv",
        ],
    );
    let text = std::fs::read_to_string(t.path("big_out.csv")).unwrap();
    let ns: Vec<u64> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(2).unwrap().parse().unwrap())
        .collect();
    assert_eq!(ns.first(), Some(&1));
    assert_eq!(ns.last(), Some(&200));
    assert_eq!(ns.len(), 60, "60 log-spaced n values");
    assert!(ns.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn kl_choice_picks_the_fitted_column() {
    let t = TestDir::new();
    t.write("s.csv", csv_of(&sample_rows(4)));
    run_ok(
        &t,
        &[
            "bon", "s.csv", "--out", "pool.csv", "--kl", "pool", "--n", "1,3,9",
        ],
    );
    let text = std::fs::read_to_string(t.path("pool.csv")).unwrap();
    for line in text.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells[3], cells[4], "kl = kl_pool with --kl pool: {line}");
    }
    run_ok(&t, &["bon", "s.csv", "--out", "an.csv", "--n", "1,3,9"]);
    let text = std::fs::read_to_string(t.path("an.csv")).unwrap();
    let row3: Vec<&str> = text.lines().nth(2).unwrap().split(',').collect();
    let analytic = 3f64.ln() - 2.0 / 3.0;
    assert_eq!(row3[3].parse::<f64>().unwrap(), analytic);
}

#[test]
fn fit_reads_bon_output_and_uses_replicates_for_intervals() {
    let t = TestDir::new();
    t.write("s.csv", csv_of(&sample_rows(5)));
    // Without per-prompt values: Student-t intervals, or those of the replicate rows.
    run_ok(
        &t,
        &["bon", "s.csv", "--out", "plain.csv", "--no-prompt-values"],
    );
    run_ok(
        &t,
        &[
            "bon",
            "s.csv",
            "--out",
            "boot.csv",
            "--bootstrap",
            "200",
            "--seed",
            "1",
            "--no-prompt-values",
        ],
    );
    let boot = std::fs::read_to_string(t.path("boot.csv")).unwrap();
    assert!(
        boot.lines()
            .next()
            .unwrap()
            .ends_with(",n_prompts,replicate")
    );
    let point_rows = boot.lines().skip(1).filter(|l| l.ends_with(',')).count();
    assert_eq!(point_rows, 12, "the point estimate has no replicate number");
    assert_eq!(boot.lines().filter(|l| l.ends_with(",200")).count(), 12);

    run_ok(&t, &["fit", "plain.csv", "--out", "plain.json", "--quiet"]);
    run_ok(&t, &["fit", "boot.csv", "--out", "boot.json", "--quiet"]);
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(t.path(name)).unwrap()).unwrap()
    };
    let (plain, boot) = (read("plain.json"), read("boot.json"));
    assert_eq!(plain["fits"].as_array().unwrap().len(), 2, "gold and proxy");
    for (p, b) in plain["fits"]
        .as_array()
        .unwrap()
        .iter()
        .zip(boot["fits"].as_array().unwrap())
    {
        assert_eq!(p["ci_method"], "t");
        assert_eq!(b["ci_method"], "bootstrap");
        assert_eq!(b["bootstrap_replicates"], 200);
        assert_eq!(b["bootstrap_resampled"], "replicates");
        assert_eq!(b["bootstrap_interval"], "percentile");
        // the point estimate is the same fit; only the intervals change
        for param in ["alpha", "beta"] {
            let (pv, bv) = (&p["params"][param], &b["params"][param]);
            assert_eq!(pv["value"], bv["value"]);
            let (lo, hi, v) = (
                bv["ci_low"].as_f64().unwrap(),
                bv["ci_high"].as_f64().unwrap(),
                bv["value"].as_f64().unwrap(),
            );
            assert!(lo < v && v < hi, "{param}: {lo} < {v} < {hi}");
            assert_ne!(pv["ci_low"], bv["ci_low"]);
        }
    }
}

#[test]
fn map_renames_columns_and_dump_keys() {
    let t = TestDir::new();
    let rows = sample_rows(6);
    t.write("s.csv", csv_of(&rows));
    t.write(
        "renamed.csv",
        csv_of(&rows).replacen("prompt,proxy,gold", "id,rm_score,gold_score", 1),
    );
    run_ok(&t, &["bon", "s.csv", "--out", "ref.csv"]);
    run_ok(
        &t,
        &[
            "bon",
            "renamed.csv",
            "--out",
            "o.csv",
            "--map",
            "id=prompt",
            "--map",
            "rm_score=proxy",
            "--map",
            "gold_score=gold",
        ],
    );
    let reference = std::fs::read_to_string(t.path("ref.csv")).unwrap();
    assert_eq!(std::fs::read_to_string(t.path("o.csv")).unwrap(), reference);
    let mut records = Vec::new();
    for chunk in rows.chunks(12) {
        let proxy: Vec<String> = chunk.iter().map(|r| format!("{:?}", r.1)).collect();
        let gold: Vec<String> = chunk.iter().map(|r| format!("{:?}", r.2)).collect();
        records.push(format!(
            "{{\"id\": \"{}\", \"rm_params\": 3e7, \"p\": [{}], \"g\": [{}]}}",
            chunk[0].0,
            proxy.join(","),
            gold.join(",")
        ));
    }
    t.write("dump.json", format!("[{}]", records.join(",")));
    run_ok(
        &t,
        &[
            "bon",
            "dump.json",
            "--out",
            "d.csv",
            "--map",
            "id=prompt",
            "--map",
            "p=proxy",
            "--map",
            "g=gold",
        ],
    );
    assert_eq!(std::fs::read_to_string(t.path("d.csv")).unwrap(), reference);
}

/// 12 prompts with pools of 8, 6 and 4 samples (4 prompts each), or all of 8 (`equal`).
fn unequal_rows(seed: u64, equal: bool) -> Vec<(String, f64, f64)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut rows = Vec::new();
    for p in 0..12 {
        let size = if equal { 8 } else { [8, 6, 4][p % 3] };
        for _ in 0..size {
            let gold: f64 = rng.random::<f64>() * 2.0 - 1.0;
            rows.push((format!("prompt-{p:02}"), gold + rng.random::<f64>(), gold));
        }
    }
    rows
}

/// The (n, n_prompts) of every row of a bon output without replicates.
fn n_and_prompts(t: &TestDir, name: &str) -> Vec<(u64, u64)> {
    let text = std::fs::read_to_string(t.path(name)).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |c: &str| header.iter().position(|h| *h == c).unwrap();
    let (n, m) = (col("n"), col("n_prompts"));
    lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (cells[n].parse().unwrap(), cells[m].parse().unwrap())
        })
        .collect()
}

#[test]
fn unequal_pools_warn_with_the_prompt_count_of_each_n() {
    let t = TestDir::new();
    t.write("s.csv", csv_of(&unequal_rows(1, false)));
    let stderr = run_ok(&t, &["bon", "s.csv", "--out", "c.csv"]);
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("warning:") && l.contains("unequal size"))
        .collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0].contains("curve bon rm_params=3e7")
            && warnings[0]
                .contains("n = 1..4: 12 prompts, n = 5..6: 8 prompts, n = 7..8: 4 prompts")
            && warnings[0].contains("--common-prompts"),
        "{stderr}"
    );
    let counts = n_and_prompts(&t, "c.csv");
    assert_eq!(counts.len(), 8);
    let expected = |n: u64| match n {
        1..=4 => 12,
        5..=6 => 8,
        _ => 4,
    };
    assert!(counts.iter().all(|&(n, m)| m == expected(n)), "{counts:?}");

    // equal pools: no such warning
    t.write("e.csv", csv_of(&unequal_rows(1, true)));
    let stderr = run_ok(&t, &["bon", "e.csv", "--out", "e_out.csv"]);
    assert!(!stderr.contains("unequal"), "{stderr}");
    assert!(n_and_prompts(&t, "e_out.csv").iter().all(|&(_, m)| m == 12));
}

#[test]
fn common_prompts_truncate_is_seeded_and_thread_independent() {
    let t = TestDir::new();
    t.write("s.csv", csv_of(&unequal_rows(2, false)));
    let run = |out: &str, seed: &str, threads: &str| {
        let o = t
            .cmd()
            .env("RAYON_NUM_THREADS", threads)
            .args([
                "bon",
                "s.csv",
                "--out",
                out,
                "--common-prompts",
                "truncate",
                "--seed",
                seed,
                "--bootstrap",
                "20",
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(o.status.success(), "{stderr}");
        (std::fs::read(t.path(out)).unwrap(), stderr)
    };
    let (one, stderr) = run("t1.csv", "5", "1");
    assert!(!stderr.contains("unequal size"), "{stderr}");
    assert!(
        stderr.contains("--common-prompts truncate cut 8 of 12 pools to 4 samples"),
        "{stderr}"
    );
    let (two, _) = run("t2.csv", "5", "2");
    assert_eq!(one, two, "RAYON_NUM_THREADS=1 and 2 give the same bytes");
    let (other, _) = run("t3.csv", "6", "2");
    assert_ne!(one, other, "another seed draws other subsets");
    // rows in another order: the same subsets
    let mut rows = unequal_rows(2, false);
    rows.reverse();
    t.write("s.csv", csv_of(&rows));
    let (reversed, _) = run("t4.csv", "5", "2");
    assert_eq!(one, reversed, "row order");
    // the point estimate: n = 1..4, every n from all 12 prompts
    let text = String::from_utf8(one).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let col = |c: &str| header.iter().position(|h| *h == c).unwrap();
    let points: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|c| c[col("replicate")].is_empty())
        .collect();
    let ns: Vec<&str> = points.iter().map(|c| c[col("n")]).collect();
    assert_eq!(ns, ["1", "2", "3", "4"]);
    assert!(points.iter().all(|c| c[col("n_prompts")] == "12"));
}

#[test]
fn common_prompts_complete_keeps_the_full_pools() {
    let t = TestDir::new();
    t.write("s.csv", csv_of(&unequal_rows(3, false)));
    let stderr = run_ok(
        &t,
        &[
            "bon",
            "s.csv",
            "--out",
            "c.csv",
            "--common-prompts",
            "complete",
        ],
    );
    assert!(!stderr.contains("unequal size"), "{stderr}");
    assert!(
        stderr
            .contains("--common-prompts complete keeps the 4 of 12 prompts whose pool has N >= 8"),
        "{stderr}"
    );
    let counts = n_and_prompts(&t, "c.csv");
    assert_eq!(
        counts.iter().map(|c| c.0).collect::<Vec<_>>(),
        (1..=8).collect::<Vec<_>>()
    );
    assert!(counts.iter().all(|&(_, m)| m == 4), "{counts:?}");
    // with --n, the largest n decides: pools of 6 and 8 samples
    run_ok(
        &t,
        &[
            "bon",
            "s.csv",
            "--out",
            "c6.csv",
            "--common-prompts",
            "complete",
            "--n",
            "1,2,6",
        ],
    );
    assert_eq!(n_and_prompts(&t, "c6.csv"), [(1, 8), (2, 8), (6, 8)]);
    // the same bytes as the prompts kept by hand, with one thread or two
    let kept: Vec<_> = unequal_rows(3, false)
        .into_iter()
        .filter(|r| {
            let p: usize = r.0["prompt-".len()..].parse().unwrap();
            p.is_multiple_of(3)
        })
        .collect();
    t.write("kept.csv", csv_of(&kept));
    run_ok(&t, &["bon", "kept.csv", "--out", "k.csv"]);
    assert_eq!(
        std::fs::read(t.path("c.csv")).unwrap(),
        std::fs::read(t.path("k.csv")).unwrap()
    );
}

#[test]
fn common_prompts_bad_input_and_usage() {
    let t = TestDir::new();
    t.write("s.csv", csv_of(&unequal_rows(4, false)));
    common::assert_input_error(
        &t,
        &[
            "bon",
            "s.csv",
            "--out",
            "c.csv",
            "--common-prompts",
            "truncate",
            "--n",
            "1,6",
        ],
        &["--n 6", "smallest pool", "bon rm_params=3e7", "(4 samples)"],
    );
    let out = t
        .cmd()
        .args(["bon", "s.csv", "--out", "c.csv", "--common-prompts", "all"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "usage error");
    assert!(!t.path("c.csv").exists());
}

/// New-user review: a Samples table passed together with its own conversion (or a shuffled
/// copy) put every sample twice in its pool, silently. `bon` now names the second file; a
/// table split into two halves (shards of the same pools) gets no such warning.
#[test]
fn the_same_samples_given_twice_are_named() {
    let t = TestDir::new();
    let rows = sample_rows(4);
    let mut shuffled = rows.clone();
    shuffled.shuffle(&mut ChaCha8Rng::seed_from_u64(7));
    t.write("a.csv", csv_of(&rows));
    t.write("copy.csv", csv_of(&shuffled));
    // shards: every pool gets half its samples from each file
    let (even, odd): (Vec<_>, Vec<_>) = rows
        .iter()
        .cloned()
        .enumerate()
        .partition(|(i, _)| i % 2 == 0);
    let strip =
        |v: Vec<(usize, (String, f64, f64))>| v.into_iter().map(|(_, r)| r).collect::<Vec<_>>();
    t.write("half1.csv", csv_of(&strip(even)));
    t.write("half2.csv", csv_of(&strip(odd)));
    let stderr = run_ok(&t, &["bon", "a.csv", "copy.csv", "--out", "twice.csv"]);
    assert!(
        stderr.contains("copy.csv holds the same samples as a.csv")
            && stderr.contains(&format!("{} rows", rows.len()))
            && stderr.contains("every sample counts twice"),
        "{stderr}"
    );
    let stderr = run_ok(
        &t,
        &["bon", "half1.csv", "half2.csv", "--out", "halves.csv"],
    );
    assert!(!stderr.contains("holds the same samples"), "{stderr}");
    // the halves make exactly the whole table's curves
    run_ok(&t, &["bon", "a.csv", "--out", "whole.csv"]);
    assert_eq!(
        std::fs::read(t.path("halves.csv")).unwrap(),
        std::fs::read(t.path("whole.csv")).unwrap()
    );
}

/// New-user review: `convert` wrote a Parquet table's integer prompts as text (`"prompt":"1"`
/// in NDJSON, a string column in Parquet). Integer prompts stay integers; text stays text.
#[test]
fn convert_keeps_integer_prompts_integers() {
    let t = TestDir::new();
    let numbered: Vec<(String, f64, f64)> = sample_rows(5)
        .into_iter()
        .map(|(p, x, g)| (p.trim_start_matches("prompt-").to_string(), x, g))
        .collect();
    t.write("ints.csv", csv_of(&numbered));
    t.write("texts.csv", csv_of(&sample_rows(5)));
    run_ok(&t, &["convert", "ints.csv", "--out", "ints.ndjson"]);
    run_ok(&t, &["convert", "texts.csv", "--out", "texts.ndjson"]);
    let first = |name: &str| -> serde_json::Value {
        let text = std::fs::read_to_string(t.path(name)).unwrap();
        serde_json::from_str(text.lines().next().unwrap()).unwrap()
    };
    assert!(
        first("ints.ndjson")["prompt"].is_i64(),
        "{}",
        first("ints.ndjson")
    );
    assert!(first("texts.ndjson")["prompt"].is_string());
    // and the converted tables give the curves of the originals
    for (src, conv) in [("ints.csv", "ints.ndjson"), ("texts.csv", "texts.ndjson")] {
        run_ok(&t, &["bon", src, "--out", "a.csv"]);
        run_ok(&t, &["bon", conv, "--out", "b.csv"]);
        assert_eq!(
            std::fs::read(t.path("a.csv")).unwrap(),
            std::fs::read(t.path("b.csv")).unwrap(),
            "{conv}"
        );
    }
}
