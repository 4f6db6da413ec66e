//! The fast paths of plain Curves tables (`ingest::fast_curves`, and for Parquet the page
//! reader `curves::parquet_page_curves`, issue #16) give the curves the general reader gives
//! (`CurvesTable::read` then `curves`), and leave every unusual file to the general reader,
//! whose messages stay as they are.

use std::path::Path;

use goodhart::curves::{Curve, CurvesTable, fast_curves, parquet_page_curves, read_curves};
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
    write_parquet_groups(path, header, rows, None);
}

/// Writes the header and rows as CSV (no cell needs quoting).
fn write_csv(path: &Path, header: &[String], rows: &[Vec<String>]) {
    let mut text = header.join(",") + "\n";
    for r in rows {
        text.push_str(&r.join(","));
        text.push('\n');
    }
    std::fs::write(path, text).expect("write csv");
}

/// [`write_parquet`] with row groups of `rows_per_group` rows (polars' default when `None`).
fn write_parquet_groups(
    path: &Path,
    header: &[String],
    rows: &[Vec<String>],
    rows_per_group: Option<usize>,
) {
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
        .with_row_group_size(rows_per_group)
        .finish(&mut df)
        .expect("write parquet");
}

/// Writes `df` as Parquet with column `name` cast to `dtype`.
fn write_cast(path: &Path, mut df: DataFrame, name: &str, dtype: DataType) {
    let cast = df.column(name).expect("column").cast(&dtype).expect("cast");
    df.with_column(cast).expect("replace");
    ParquetWriter::new(std::fs::File::create(path).expect("create"))
        .finish(&mut df)
        .expect("write");
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

/// The page reader's curves, or `None` when it leaves the file to the other readers.
fn pages(path: &Path) -> Option<Vec<Curve>> {
    parquet_page_curves(path)
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
    assert_eq!(show(&pages(&path).expect("the page reader takes it")), want);
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
    assert!(pages(&path).is_none());
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
    assert_eq!(show(&pages(&path).expect("the page reader takes it")), want);
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
    assert_eq!(show(&pages(&path).expect("the page reader takes it")), want);
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
    assert!(pages(&path).is_none());
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

#[test]
fn row_groups_split_inside_curves_give_the_same_curves() {
    let t = TestDir::new();
    let (header, rows) = demo_rl();
    let path = t.path("groups.parquet");
    // Row groups of 7 rows: most curves start in one group and end in another.
    write_parquet_groups(&path, &header, &rows, Some(7));
    let groups =
        polars_parquet::parquet::read::read_metadata(&mut std::fs::File::open(&path).unwrap())
            .expect("metadata")
            .row_groups
            .len();
    assert!(groups >= rows.len() / 7, "{groups} row groups");
    let want = show(&general(&path));
    assert_eq!(show(&fast(&path).expect("the fast path takes it")), want);
    assert_eq!(show(&pages(&path).expect("the page reader takes it")), want);
    assert_eq!(show(&read(&path)), want);
}

#[test]
fn the_csv_fast_path_reads_the_curves_of_the_general_reader() {
    let t = TestDir::new();
    let (header, mut rows) = demo_rl();
    let path = t.path("rl.csv");
    write_csv(&path, &header, &rows);
    let want = show(&general(&path));
    assert!(want.contains("entropy: Some") && want.contains("kl_penalty: Some"));
    assert_eq!(show(&fast(&path).expect("the fast path takes it")), want);
    assert_eq!(show(&read(&path)), want);
    // Rows of curves apart: the general reader groups them.
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    rows.shuffle(&mut rng);
    let path = t.path("shuffled.csv");
    write_csv(&path, &header, &rows);
    assert!(fast(&path).is_none());
    assert_eq!(show(&read(&path)), want);
}

#[test]
fn unusual_csv_cells_go_to_the_general_reader() {
    let t = TestDir::new();
    let (header, rows) = demo_rl();
    let gold = header.iter().position(|h| h == "gold").expect("gold");
    let method = header.iter().position(|h| h == "method").expect("method");
    let cases: [(&str, usize, &str); 4] = [
        // read the same by the general reader
        ("quoted.csv", method, "\"rl\""),
        ("spaced.csv", gold, " 0.25 "),
        // refused by it, with its message
        ("empty.csv", gold, ""),
        ("text.csv", gold, "abc"),
    ];
    for (name, column, cell) in cases {
        let mut rows = rows.clone();
        rows[5][column] = cell.to_string();
        let path = t.path(name);
        write_csv(&path, &header, &rows);
        let fast = fast(&path);
        match CurvesTable::read(&path, &ColumnMap::default()) {
            Ok(table) => {
                let mut want = table.curves();
                want.sort_by_key(|c| c.key);
                if name == "quoted.csv" {
                    assert!(fast.is_none(), "{name}");
                } else {
                    assert_eq!(show(&fast.expect("the fast path takes it")), show(&want));
                }
                assert_eq!(show(&read(&path)), show(&want), "{name}");
            }
            Err(general) => {
                assert!(fast.is_none(), "{name}");
                let e = read_curves(
                    std::slice::from_ref(&path),
                    &ColumnMap::default(),
                    &LogOptions::default(),
                )
                .expect_err("a bad cell")
                .to_string();
                assert_eq!(e, general.to_string(), "{name}");
                assert!(e.contains("row 6"), "{e}");
            }
        }
    }
}

#[test]
fn log_key_flags_on_a_plain_table_are_refused_as_by_the_general_reader() {
    let t = TestDir::new();
    let (header, rows) = demo_rl();
    write_parquet(&t.path("rl.parquet"), &header, &rows);
    write_csv(&t.path("rl.csv"), &header, &rows);
    for file in ["rl.parquet", "rl.csv"] {
        for flag in [
            "--kl-key",
            "--proxy-key",
            "--gold-key",
            "--step-key",
            "--length-key",
        ] {
            let out = t
                .cmd()
                .args(["fit", file, "--out", "o.json", flag, "k"])
                .output()
                .expect("run");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{file} {flag}: {stderr}");
            assert!(stderr.contains(flag), "{file} {flag}: {stderr}");
            assert!(!t.path("o.json").exists());
        }
    }
}

/// The page reader on each codec, on dictionary-encoded key and score columns, on keys 0 and
/// -0 (two curves for the general reader), on labels in other cases and with spaces, on row
/// groups of one row and on points far from sorted: the general reader's curves, bit for bit.
/// A column of integers or a `method` column of categories goes to polars' fast path, with the
/// same curves.
#[test]
fn the_page_reader_gives_the_general_readers_curves_on_every_layout() {
    const KEYS: [&str; 5] = [
        "method",
        "rm_params",
        "policy_params",
        "rm_data",
        "kl_penalty",
    ];
    let t = TestDir::new();
    let (header, mut rows) = demo_rl();
    let col = |name: &str| header.iter().position(|h| h == name).expect(name);
    let (method, penalty, kl) = (col("method"), col("kl_penalty"), col("kl"));
    // Labels as people write them; a copy of a curve whose penalty is 0, with penalty -0.
    let zero = rows
        .iter()
        .position(|r| r[penalty] == "0")
        .expect("a curve without penalty");
    let same_curve = |a: &Vec<String>, b: &Vec<String>| {
        (0..header.len())
            .filter(|&j| KEYS.contains(&header[j].as_str()))
            .all(|j| a[j] == b[j])
    };
    let copy: Vec<Vec<String>> = rows
        .iter()
        .filter(|r| same_curve(r, &rows[zero]))
        .map(|r| {
            let mut r = r.clone();
            r[penalty] = "-0".to_string();
            r
        })
        .collect();
    rows.extend(copy);
    for (i, r) in rows.iter_mut().enumerate() {
        if i % 3 == 0 {
            r[method] = format!(" {} ", r[method].to_uppercase());
        }
    }
    let frame = |rows: &[Vec<String>]| -> DataFrame {
        let columns: Vec<Column> = header
            .iter()
            .enumerate()
            .map(|(j, name)| {
                if name == "method" {
                    let v: Vec<&str> = rows.iter().map(|r| r[j].as_str()).collect();
                    Column::new(name.as_str().into(), v)
                } else {
                    let v: Vec<f64> = rows.iter().map(|r| r[j].parse().expect("number")).collect();
                    Column::new(name.as_str().into(), v)
                }
            })
            .collect();
        DataFrame::new_infer_height(columns).expect("frame")
    };
    let codecs = [
        ("none", ParquetCompression::Uncompressed),
        ("snappy", ParquetCompression::Snappy),
        ("lz4", ParquetCompression::Lz4Raw),
        ("gzip", ParquetCompression::Gzip(None)),
        ("zstd", ParquetCompression::Zstd(None)),
        ("brotli", ParquetCompression::Brotli(None)),
    ];
    for (name, codec) in codecs {
        // Row groups of one row only once: each is a file's worth of work for the general reader.
        let one_row = (name == "none").then_some(("groups", Some(1)));
        for (layout, group_rows) in [("groups", Some(13)), ("one", None)]
            .into_iter()
            .chain(one_row)
        {
            for reversed in [false, true] {
                let mut rows = rows.clone();
                if reversed {
                    // each curve's points from the largest KL down (curves stay together)
                    rows.sort_by(|a, b| {
                        let key = |r: &Vec<String>| {
                            KEYS.iter()
                                .map(|&k| r[col(k)].trim().to_lowercase())
                                .collect::<Vec<_>>()
                        };
                        key(a).cmp(&key(b)).then(
                            b[kl]
                                .parse::<f64>()
                                .unwrap()
                                .total_cmp(&a[kl].parse::<f64>().unwrap()),
                        )
                    });
                }
                let path = t.path(&format!(
                    "{name}-{layout}-{group_rows:?}-{reversed}.parquet"
                ));
                let mut df = frame(&rows);
                ParquetWriter::new(std::fs::File::create(&path).expect("create"))
                    .with_compression(codec)
                    .with_row_group_size(group_rows)
                    .finish(&mut df)
                    .expect("write");
                let want = general(&path);
                assert!(
                    want.iter()
                        .any(|c| c.key.kl_penalty.is_some_and(|p| p.is_sign_negative())),
                    "a curve with penalty -0"
                );
                let got =
                    pages(&path).unwrap_or_else(|| panic!("{path:?}: the page reader takes it"));
                assert_eq!(show(&got), show(&want), "{path:?}");
                assert_eq!(show(&read(&path)), show(&want), "{path:?}");
            }
        }
    }
    // Integers: polars' fast path reads them, the page reader does not.
    let path = t.path("integers.parquet");
    write_cast(&path, frame(&rows), "rm_params", DataType::Int64);
    assert!(pages(&path).is_none());
    assert_eq!(show(&read(&path)), show(&general(&path)));
}

/// What the general reader refuses, the page reader leaves to it, whose message stays: a
/// `method` column of categories (polars reads it as such, not as text), and a page header
/// broken in a column no curve uses (found by review: the page reader had read both).
#[test]
fn files_the_general_reader_refuses_are_left_to_it() {
    let t = TestDir::new();
    let (header, rows) = demo_rl();
    let path = t.path("plain.parquet");
    write_parquet(&path, &header, &rows);
    let mut df = ParquetReader::new(std::fs::File::open(&path).expect("open"))
        .finish()
        .expect("read");
    let refused_alike = |path: &Path| {
        assert!(pages(path).is_none(), "{path:?}");
        let general = CurvesTable::read(path, &ColumnMap::default())
            .expect_err("refused")
            .to_string();
        let e = read_curves(
            &[path.to_path_buf()],
            &ColumnMap::default(),
            &LogOptions::default(),
        )
        .expect_err("refused")
        .to_string();
        assert_eq!(e, general);
    };
    // categories
    let path = t.path("categories.parquet");
    write_cast(
        &path,
        df.clone(),
        "method",
        DataType::from_categories(Categories::global()),
    );
    refused_alike(&path);
    // a broken page header in an extra column, uncompressed so that its offset is its header's
    let note: Vec<f64> = (0..df.height()).map(|i| i as f64).collect();
    df.with_column(Column::new("note".into(), note))
        .expect("note");
    let path = t.path("note.parquet");
    ParquetWriter::new(std::fs::File::create(&path).expect("create"))
        .with_compression(ParquetCompression::Uncompressed)
        .finish(&mut df)
        .expect("write");
    let offset =
        polars_parquet::parquet::read::read_metadata(&mut std::fs::File::open(&path).unwrap())
            .expect("metadata")
            .row_groups[0]
            .parquet_columns()
            .iter()
            .find(|c| c.descriptor().path_in_schema == ["note"])
            .expect("note column")
            .byte_range()
            .start as usize;
    let mut bytes = std::fs::read(&path).expect("read");
    bytes[offset..offset + 6].fill(0xff);
    std::fs::write(&path, bytes).expect("write");
    refused_alike(&path);
}
