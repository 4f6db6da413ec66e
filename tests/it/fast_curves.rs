//! The fast path of plain Parquet Curves tables (`ingest::fast_curves`, issue #16) gives the
//! curves the general reader gives (`CurvesTable::read` then `curves`), and leaves every
//! unusual file to the general reader, whose messages stay as they are.

use std::path::Path;

use goodhart::curves::{Curve, CurvesTable, fast_curves, read_curves};
use goodhart::ingest::{ColumnMap, LogOptions};
use polars::prelude::*;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::common::TestDir;

/// A CSV table (no quoted cells) as header and rows of cells.
fn parse_csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut lines = text.lines();
    let header = lines
        .next()
        .expect("header")
        .split(',')
        .map(String::from)
        .collect();
    let rows = lines
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    (header, rows)
}

/// Writes the rows as Parquet: `method` and `note` as text, the other columns as numbers.
fn write_parquet(path: &Path, header: &[String], rows: &[Vec<String>]) {
    let columns: Vec<Column> = header
        .iter()
        .enumerate()
        .map(|(j, name)| {
            if name == "method" || name == "note" {
                let v: Vec<&str> = rows.iter().map(|r| r[j].as_str()).collect();
                Column::new(name.as_str().into(), v)
            } else {
                let v: Vec<f64> = rows
                    .iter()
                    .map(|r| r[j].parse().expect("a number"))
                    .collect();
                Column::new(name.as_str().into(), v)
            }
        })
        .collect();
    let mut df = DataFrame::new_infer_height(columns).expect("data frame");
    let file = std::fs::File::create(path).expect("create");
    ParquetWriter::new(file)
        .finish(&mut df)
        .expect("write parquet");
}

/// The demo's RL runs without the columns the fast path leaves to the general reader.
fn demo_rl() -> (Vec<String>, Vec<Vec<String>>) {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/rl_runs.csv"))
            .expect("demo data");
    let (header, rows) = parse_csv(&text);
    let keep: Vec<usize> = (0..header.len())
        .filter(|&j| header[j] != "run" && header[j] != "step")
        .collect();
    let pick = |r: &Vec<String>| keep.iter().map(|&j| r[j].clone()).collect::<Vec<_>>();
    (pick(&header), rows.iter().map(pick).collect())
}

fn show(curves: &[Curve]) -> String {
    format!("{curves:?}")
}

/// The general reader's curves, in key order.
fn general(path: &Path) -> Vec<Curve> {
    let mut curves = CurvesTable::read(path, &ColumnMap::default())
        .expect("general read")
        .curves();
    curves.sort_by_key(|c| c.key);
    curves
}

/// The fast path's curves, or `None` when it leaves the file to the general reader.
fn fast(path: &Path) -> Option<Vec<Curve>> {
    goodhart::ingest::fast_curves::read(path).and_then(fast_curves)
}

fn read(path: &Path) -> Vec<Curve> {
    read_curves(
        &[path.to_path_buf()],
        &ColumnMap::default(),
        &LogOptions::default(),
    )
    .expect("read curves")
    .0
}

#[test]
fn the_fast_path_reads_the_demo_curves_as_the_general_reader() {
    let t = TestDir::new();
    let (header, rows) = demo_rl();
    let path = t.path("rl.parquet");
    write_parquet(&path, &header, &rows);
    let want = show(&general(&path));
    assert!(want.contains("entropy: Some") && want.contains("kl_penalty: Some"));
    assert_eq!(show(&fast(&path).expect("the fast path takes it")), want);
    assert_eq!(show(&read(&path)), want);
}

#[test]
fn shuffled_rows_give_the_same_curves() {
    let t = TestDir::new();
    let (header, mut rows) = demo_rl();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    // Curves' rows apart: the general reader groups them.
    rows.shuffle(&mut rng);
    let path = t.path("shuffled.parquet");
    write_parquet(&path, &header, &rows);
    let want = show(&general(&path));
    assert!(fast(&path).is_none());
    assert_eq!(show(&read(&path)), want);
    // Curves together but in reverse key order, points shuffled in each: the fast path.
    let key_cols: Vec<usize> = [
        "method",
        "rm_params",
        "policy_params",
        "rm_data",
        "kl_penalty",
    ]
    .iter()
    .map(|c| header.iter().position(|h| h == c).expect("key column"))
    .collect();
    let key = |r: &Vec<String>| key_cols.iter().map(|&j| r[j].clone()).collect::<Vec<_>>();
    rows.sort_by_key(|r| std::cmp::Reverse(key(r)));
    let path = t.path("grouped.parquet");
    write_parquet(&path, &header, &rows);
    assert_eq!(show(&fast(&path).expect("the fast path takes it")), want);
    assert_eq!(show(&read(&path)), want);
}

#[test]
fn extra_columns_are_ignored_as_by_the_general_reader() {
    let t = TestDir::new();
    let (mut header, mut rows) = demo_rl();
    header.push("note".into());
    header.push("seed".into());
    for (i, r) in rows.iter_mut().enumerate() {
        r.push(format!("row {i}"));
        r.push(format!("{}", i % 3));
    }
    let path = t.path("extra.parquet");
    write_parquet(&path, &header, &rows);
    let want = show(&general(&path));
    assert_eq!(show(&fast(&path).expect("the fast path takes it")), want);
    assert_eq!(show(&read(&path)), want);
}

#[test]
fn a_bad_cell_is_reported_by_the_general_reader() {
    let t = TestDir::new();
    let (header, mut rows) = demo_rl();
    let gold = header.iter().position(|h| h == "gold").expect("gold");
    rows[17][gold] = "NaN".into();
    let path = t.path("bad.parquet");
    write_parquet(&path, &header, &rows);
    assert!(fast(&path).is_none());
    let general = CurvesTable::read(&path, &ColumnMap::default())
        .expect_err("NaN gold")
        .to_string();
    assert!(general.contains("row 18"), "{general}");
    let e = read_curves(
        std::slice::from_ref(&path),
        &ColumnMap::default(),
        &LogOptions::default(),
    )
    .expect_err("NaN gold")
    .to_string();
    assert_eq!(e, general);
    let out = t
        .cmd()
        .args(["fit", "bad.parquet", "--out", "f.json"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The command names the file relative to its working folder.
    let relative = general.replace(&format!("{}/", t.root().display()), "");
    assert_eq!(stderr.trim_end(), format!("error: {relative}"));
    assert!(!t.path("f.json").exists());
}
