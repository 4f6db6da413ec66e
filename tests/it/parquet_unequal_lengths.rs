//! Parquet files whose columns have different lengths (issue #18: `bon` panicked on one, found
//! by mutating valid files). Such files are written here with polars-parquet's low-level writer,
//! one row group in which one column disagrees with the others: its chunk holds fewer or more
//! values than the row group's rows, or its pages claim the rows but hold fewer values (as in
//! the second reproducer). Every command that reads Parquet gets each file: each must
//! exit 1 with one message naming the file and the column, no panic, and no output.

use std::path::Path;

use crate::common::{TestDir, assert_input_error};
use polars::prelude::*;
use polars_parquet::arrow::write::{
    CompressionOptions, Compressor, DynIter, DynStreamingIterator, Encoding,
    FallibleStreamingIterator, FileWriter, StatisticsOptions, Version, WriteOptions,
    array_to_columns, to_parquet_schema,
};
use polars_parquet::parquet::CowBuffer;
use polars_parquet::parquet::error::ParquetError;
use polars_parquet::parquet::page::{DataPage, DataPageHeader, DataPageHeaderV1, Page};

/// Writes the columns as one row group, each column chunk with as many values as its series
/// has, whatever the others have: what a broken writer or a corrupted byte leaves. The row
/// group claims the first column's count of rows. The data pages of column `i` claim
/// `claims[i]` values (their true count when equal to the series' length; otherwise the pages,
/// the chunk and the row group all say `claims[i]`, and only decoding finds fewer).
fn write_parquet(path: &Path, columns: &[Series], claims: &[usize]) {
    let options = WriteOptions {
        statistics: StatisticsOptions::default(),
        version: Version::V1,
        compression: CompressionOptions::Uncompressed,
        data_page_size: None,
    };
    let arrow_schema: ArrowSchema = columns
        .iter()
        .map(|s| {
            let field = s.field().to_arrow(CompatLevel::newest());
            (field.name.clone(), field)
        })
        .collect();
    let parquet_schema = to_parquet_schema(&arrow_schema).expect("parquet schema");
    let types = parquet_schema.fields().to_vec();
    let mut chunks = Vec::new();
    for ((s, type_), &claim) in columns.iter().zip(types).zip(claims) {
        let array = s.rechunk().to_arrow(0, CompatLevel::newest());
        for pages in array_to_columns(array, type_, options, &[Encoding::Plain]).expect("pages") {
            let pages = DynIter::new(pages.map(move |p| {
                p.map(|page| claiming(page, claim))
                    .map_err(|e| ParquetError::OutOfSpec(e.to_string()))
            }));
            let compressed = Compressor::new(pages, options.compression, Vec::new())
                .map_err(|e| PolarsError::ComputeError(e.to_string().into()));
            chunks.push(Ok(DynStreamingIterator::new(compressed)));
        }
    }
    let rows = claims[0] as u64;
    let file = std::fs::File::create(path).expect("create parquet file");
    let mut writer =
        FileWriter::new_with_parquet_schema(file, arrow_schema, parquet_schema, options);
    writer
        .write(rows, DynIter::new(chunks.into_iter()))
        .expect("write row group");
    writer.end(None).expect("write footer");
}

/// The page with its header claiming `claim` values (one page per column here).
fn claiming(page: Page, claim: usize) -> Page {
    match page {
        Page::Data(d) if d.num_values() != claim => {
            let DataPageHeader::V1(h) = d.header() else {
                unreachable!("version 1 pages are written")
            };
            let header = DataPageHeader::V1(DataPageHeaderV1 {
                num_values: claim as i32,
                ..h.clone()
            });
            let buffer = CowBuffer::Owned(d.buffer().to_vec());
            Page::Data(DataPage::new(header, buffer, d.descriptor.clone(), claim))
        }
        page => page,
    }
}

/// `n` values of a column by its name (a small valid table, whatever the length).
fn column(name: &str, n: usize) -> Series {
    let name = PlSmallStr::from(name);
    match name.as_str() {
        "method" => Series::new(name, vec!["bon"; n]),
        "prompt" => Series::new(name, (0..n as i64).map(|i| i / 8).collect::<Vec<i64>>()),
        "rm_params" => Series::new(name, vec![1e8; n]),
        "kl" => Series::new(name, (0..n).map(|i| 0.1 * i as f64).collect::<Vec<f64>>()),
        // proxy, gold: scores with some spread
        _ => Series::new(
            name,
            (0..n)
                .map(|i| ((i * 37 % 101) as f64) / 50.0 - 1.0)
                .collect::<Vec<f64>>(),
        ),
    }
}

/// One malformed file: the columns with the number of values each holds and the number its
/// pages claim, and the column the message must name.
struct Malformed {
    lengths: Vec<(&'static str, usize, usize)>,
    culprit: &'static str,
}

const ROWS: usize = 160;

/// Every way one column can disagree with the others: each column cut short (to half or to
/// nothing) or made longer, and each column's pages holding half the values they claim. The
/// row group claims the first column's count, so when the first column is cut short the second
/// is the first that disagrees with the row group.
fn malformations(names: &[&'static str]) -> Vec<Malformed> {
    let mut out = Vec::new();
    for (i, &odd) in names.iter().enumerate() {
        let cases = [
            (0, 0),
            (ROWS / 2, ROWS / 2),
            (ROWS + 40, ROWS + 40),
            (ROWS / 2, ROWS),
        ];
        for (len, claim) in cases {
            if i == 0 && (len, claim) != (ROWS / 2, ROWS / 2) {
                // the first column sets the row group's rows: only a shorter one differs
                continue;
            }
            out.push(Malformed {
                lengths: names
                    .iter()
                    .map(|&n| {
                        if n == odd {
                            (n, len, claim)
                        } else {
                            (n, ROWS, ROWS)
                        }
                    })
                    .collect(),
                culprit: if i == 0 { names[1] } else { odd },
            });
        }
    }
    out
}

fn write_malformed(t: &TestDir, name: &str, m: &Malformed) {
    let columns: Vec<Series> = m.lengths.iter().map(|&(c, n, _)| column(c, n)).collect();
    let claims: Vec<usize> = m.lengths.iter().map(|&(_, _, claim)| claim).collect();
    write_parquet(&t.path(name), &columns, &claims);
}

/// Runs one command on one malformed file and checks the bad-input contract (exit 1, one
/// message, no panic, nothing on stdout, no file created or changed) and that the message
/// names the file and the column.
fn check(t: &TestDir, file: &str, args: &[&str], m: &Malformed) {
    let args: Vec<String> = args.iter().map(|a| a.replace("{}", file)).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let culprit = format!("'{}'", m.culprit);
    println!("goodhart {} ({:?})", args.join(" "), m.lengths);
    assert_input_error(t, &args, &[file, &culprit]);
}

const CURVES: &[&str] = &["method", "rm_params", "kl", "gold"];
const SAMPLES: &[&str] = &["prompt", "rm_params", "proxy", "gold"];

#[test]
fn curves_readers_refuse_unequal_columns() {
    // A valid fits file for `scale --joint`, which reads the curves after the fits.
    let setup = TestDir::new();
    setup
        .cmd()
        .args(["generate", "law", "--out", "law.csv", "--method", "bon"])
        .args(["--rm-params", "1e7,1e8,1e9", "--seed", "1"])
        .assert()
        .success();
    setup
        .cmd()
        .args(["fit", "law.csv", "--out", "fits.json", "--quiet"])
        .assert()
        .success();
    let fits = std::fs::read(setup.path("fits.json")).expect("fits.json");
    let commands: &[&[&str]] = &[
        &["inspect", "{}"],
        &["fit", "{}", "--out", "out.json"],
        &["convert", "{}", "--out", "out.csv"],
        &["report", "{}", "--out", "report"],
        &[
            "scale",
            "fits.json",
            "--joint",
            "--curves",
            "{}",
            "--out",
            "scaling.json",
        ],
    ];
    for m in malformations(CURVES) {
        let t = TestDir::new();
        write_malformed(&t, "curves.parquet", &m);
        t.write("fits.json", &fits);
        std::fs::create_dir(t.path("report")).expect("report folder");
        for args in commands {
            check(&t, "curves.parquet", args, &m);
        }
        assert!(
            std::fs::read_dir(t.path("report"))
                .expect("report folder")
                .next()
                .is_none(),
            "report wrote into its folder"
        );
    }
}

#[test]
fn samples_readers_refuse_unequal_columns() {
    let commands: &[&[&str]] = &[
        &["bon", "{}", "--out", "out.csv"],
        &[
            "bon",
            "{}",
            "--out",
            "out.parquet",
            "--bootstrap",
            "10",
            "--seed",
            "1",
        ],
        &["report", "curves.csv", "--samples", "{}", "--out", "report"],
    ];
    for m in malformations(SAMPLES) {
        let t = TestDir::new();
        write_malformed(&t, "samples.parquet", &m);
        t.write("curves.csv", crate::common::small_curves_csv());
        std::fs::create_dir(t.path("report")).expect("report folder");
        for args in commands {
            check(&t, "samples.parquet", args, &m);
        }
        assert!(
            std::fs::read_dir(t.path("report"))
                .expect("report folder")
                .next()
                .is_none(),
            "report wrote into its folder"
        );
    }
}

#[test]
fn the_writer_makes_valid_files_when_lengths_agree() {
    // The check of the helper itself: equal lengths read and give curves.
    let t = TestDir::new();
    let columns: Vec<Series> = SAMPLES.iter().map(|c| column(c, ROWS)).collect();
    write_parquet(&t.path("samples.parquet"), &columns, &[ROWS; 4]);
    t.cmd()
        .args(["bon", "samples.parquet", "--out", "out.csv", "--quiet"])
        .assert()
        .success();
    let columns: Vec<Series> = CURVES.iter().map(|c| column(c, ROWS)).collect();
    write_parquet(&t.path("curves.parquet"), &columns, &[ROWS; 4]);
    t.cmd()
        .args(["inspect", "curves.parquet"])
        .assert()
        .success();
}

/// `inspect` used to read a Parquet Samples table's values twice (1.3 GB for the token world's
/// 10.8 million rows: once to see its columns, once as `bon` reads it); it now takes the
/// columns and the row count from the file's footer. So a Samples table whose columns disagree
/// in length is still called a Samples table (it was called a Curves table missing `method`
/// and `kl`, since the first read failed), with `bon`'s problem naming the column, and
/// `inspect` exits 1.
#[test]
fn inspect_calls_a_malformed_parquet_samples_table_samples_with_bons_problem() {
    let mut malformed_reports = 0;
    for m in malformations(SAMPLES) {
        let t = TestDir::new();
        write_malformed(&t, "samples.parquet", &m);
        let out = t
            .cmd()
            .args(["inspect", "samples.parquet"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let err = String::from_utf8_lossy(&out.stderr);
        let all = format!("{:?}\n{text}{err}", m.lengths);
        assert_eq!(out.status.code(), Some(1), "{all}");
        assert!(!err.contains("panicked"), "{all}");
        assert!(all.contains(&format!("'{}'", m.culprit)), "{all}");
        // never the Curves table's advice
        assert!(
            !all.contains("table:   Curves") && !all.contains("'method'"),
            "{all}"
        );
        if text.is_empty() {
            // a row group whose column chunks disagree with its row count: one message, as
            // every reader gives it
            assert!(err.contains("not a valid Parquet file"), "{all}");
            assert_eq!(err.lines().count(), 1, "{all}");
        } else {
            assert!(text.contains("table:   Samples"), "{all}");
            assert!(err.contains("would stop `goodhart bon`"), "{all}");
            malformed_reports += 1;
        }
    }
    // the old reader called these Curves tables
    assert!(malformed_reports > 0);
}
