//! `goodhart fit` writes its outputs as the fits are made (issue 16): the streamed fits JSON,
//! CSV and printed table are byte for byte those of the in-memory path (`serde_json` of the
//! whole document, the CSV exporter of all fits, the aligned table of all fits), on the demo's
//! curves and on random tables, whatever the chunk size; and the CSV reader's parallel path
//! gives the sequential reader's columns and messages.

use goodhart::curves::{Curve, read_curves};
use goodhart::document::{FitsDocument, FitsJsonStream};
use goodhart::export::{CsvExporter, Exporter};
use goodhart::fit::stream::{StreamOutputs, fit_streamed};
use goodhart::fit::{FitOptions, FitPlan, fit_curves, fit_document, summarize_warnings};
use goodhart::ingest::{ColumnMap, LogOptions};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::common::TestDir;

/// A random Curves table (CSV): `n` curves of both methods with random keys (some with
/// policy_params), 3 to 11 points with kl > 0 each (two below the holdout cutoff, 15; some with kl = 0 baselines),
/// optional gold_se, rows shuffled.
fn random_table(seed: u64, n: usize, with_se: bool) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut rows = Vec::new();
    for c in 0..n {
        let method = if rng.random_bool(0.5) { "bon" } else { "rl" };
        let rm = 1e6 * (1.0 + c as f64) * rng.random_range(1.0..1.5);
        let policy = if rng.random_bool(0.3) {
            format!("{}", rng.random_range(1..5) as f64 * 1e9)
        } else {
            String::new()
        };
        let (a, b) = (rng.random_range(0.2..1.0), rng.random_range(0.01..0.3));
        let baseline = rng.random_range(0..3);
        let points = rng.random_range(3..12);
        for i in 0..baseline + points {
            // at least two points below the holdout cutoff (15)
            let kl: f64 = if i < baseline {
                0.0
            } else if i < baseline + 2 {
                rng.random_range(0.01..5.0)
            } else {
                rng.random_range(0.01..20.0)
            };
            let d = kl.sqrt();
            let y = if method == "bon" {
                d * (a - b * d)
            } else if d > 0.0 {
                d * (a - b * d.ln())
            } else {
                0.0
            } + rng.random_range(-0.05..0.05);
            let se = if with_se {
                format!(",{}", rng.random_range(0.01..0.1))
            } else {
                String::new()
            };
            rows.push(format!("{method},{rm},{policy},{kl},{y}{se}"));
        }
    }
    // row order must not matter
    for i in (1..rows.len()).rev() {
        let j = rng.random_range(0..=i);
        rows.swap(i, j);
    }
    let se = if with_se { ",gold_se" } else { "" };
    format!(
        "method,rm_params,policy_params,kl,gold{se}\n{}\n",
        rows.join("\n")
    )
}

fn options() -> FitOptions {
    goodhart::fit::FitOptions {
        form: None,
        target: goodhart::fit::TargetChoice::Auto,
        baseline: goodhart::fit::BaselineMode::Auto,
        min_kl: None,
        max_kl: None,
        holdout_above: Some(15.0),
        weights: goodhart::fit::WeightsMode::Auto,
        bootstrap: goodhart::fit::DEFAULT_BOOTSTRAP,
        seed: 0,
        interval: goodhart::fit::bootstrap::BootstrapInterval::Percentile,
    }
}

fn curves_of(t: &TestDir, name: &str, csv: &str) -> Vec<Curve> {
    let path = t.write(name, csv);
    read_curves(&[path], &ColumnMap::default(), &LogOptions::default())
        .expect("read curves")
        .0
}

/// The bytes of a fits JSON and a fits CSV.
type JsonCsv = (Vec<u8>, Vec<u8>);

/// The in-memory bytes (document, CSV) of these curves, and the streamed ones at a chunk size.
fn both(curves: &[Curve], opts: &FitOptions, chunk: usize) -> (JsonCsv, JsonCsv) {
    let fits = fit_curves(curves, opts).expect("fits");
    let mut doc = fit_document(&fits, Vec::new(), None);
    doc.kl_unit = Some("nats per token".to_string());
    let memory = (doc.to_json(), CsvExporter.render(&fits));
    let plan = FitPlan::new(curves, opts).expect("plan");
    let (mut json, mut csv) = (Vec::new(), Vec::new());
    let mut seen = 0;
    let streamed = fit_streamed(
        curves,
        opts,
        &plan,
        &doc,
        StreamOutputs {
            json: &mut json,
            csv: Some(&mut csv),
        },
        chunk,
        |f| seen += f.len(),
    )
    .expect("streamed fits");
    assert_eq!(streamed.n_fits, fits.len());
    assert_eq!(seen, fits.len());
    assert_eq!(streamed.warnings.lines(), summarize_warnings(&fits));
    (memory, (json, csv))
}

#[test]
fn streamed_outputs_are_the_in_memory_bytes_on_random_tables_at_any_chunk_size() {
    let t = TestDir::new();
    let opts = options();
    for seed in 0..6 {
        let curves = curves_of(
            &t,
            &format!("r{seed}.csv"),
            &random_table(seed, 40, seed % 2 == 1),
        );
        for chunk in [1, 3, 7, 40, 1000] {
            let (memory, streamed) = both(&curves, &opts, chunk);
            assert!(
                memory.0 == streamed.0,
                "seed {seed}, chunk {chunk}: the streamed fits JSON differs"
            );
            assert!(
                memory.1 == streamed.1,
                "seed {seed}, chunk {chunk}: the streamed CSV differs"
            );
            // and the streamed document reads back as the same document
            let back = FitsDocument::parse(&streamed.0, std::path::Path::new("s.json")).unwrap();
            assert_eq!(back.fits.len(), curves.len());
        }
    }
}

#[test]
fn a_streamed_fit_fails_as_the_in_memory_one_and_leaves_no_output() {
    let t = TestDir::new();
    // a curve with one point above kl = 0: too few for two parameters
    let mut csv = random_table(9, 40, false);
    csv.push_str("bon,1e20,,0,0.1\nbon,1e20,,1,0.3\n");
    let curves = curves_of(&t, "bad.csv", &csv);
    let opts = options();
    let expected = fit_curves(&curves, &opts).unwrap_err().to_string();
    assert!(expected.contains("rm_params=1e20"), "{expected}");
    let plan = FitPlan::new(&curves, &opts).unwrap();
    for chunk in [1, 5, 1000] {
        let mut json = Vec::new();
        let doc = fit_document(&[], Vec::new(), None);
        let outputs = StreamOutputs {
            json: &mut json,
            csv: None,
        };
        let got = fit_streamed(&curves, &opts, &plan, &doc, outputs, chunk, |_| {})
            .unwrap_err()
            .to_string();
        assert_eq!(got, expected, "chunk {chunk}");
    }
    // and the command leaves no output file
    let out = t
        .cmd()
        .args(["fit", "bad.csv", "--out", "f.json", "--csv", "f.csv"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("rm_params=1e20"));
    assert_eq!(t.files(), vec!["bad.csv".to_string()]);
}

#[test]
fn a_document_frame_around_streamed_records_is_serde_json_of_the_whole_document() {
    let t = TestDir::new();
    let curves = curves_of(&t, "r.csv", &random_table(11, 12, false));
    let fits = fit_curves(&curves, &options()).unwrap();
    let mut doc = fit_document(&fits, Vec::new(), None);
    for kl_unit in [None, Some("nats per token".to_string())] {
        for n in [0, 1, 2, fits.len()] {
            doc.fits = fits[..n].iter().map(|f| f.record()).collect();
            doc.kl_unit = kl_unit.clone();
            let (head, tail) = doc.json_frame();
            let mut stream = FitsJsonStream::default();
            let mut bytes = head;
            for r in &doc.fits {
                let mut one = Vec::new();
                FitsJsonStream::render(r, &mut one);
                stream.push(&one, &mut bytes);
            }
            bytes.extend_from_slice(stream.close());
            bytes.extend_from_slice(&tail);
            assert_eq!(
                String::from_utf8(bytes).unwrap(),
                String::from_utf8(doc.to_json()).unwrap(),
                "{n} records, kl_unit {kl_unit:?}"
            );
        }
    }
}

/// Runs `goodhart fit` on `input` twice: streamed (the default) and in memory (`--report`
/// keeps every fit); returns both runs' (JSON, CSV, stdout).
fn command_both(t: &TestDir, input: &str, args: &[&str]) -> [(Vec<u8>, Vec<u8>, Vec<u8>); 2] {
    ["s", "m"].map(|tag| {
        let mut cmd = t.cmd();
        cmd.args([
            "fit",
            input,
            "--out",
            &format!("{tag}.json"),
            "--csv",
            &format!("{tag}.csv"),
        ]);
        cmd.args(args);
        if tag == "m" {
            cmd.args(["--report", "m.txt"]);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (
            std::fs::read(t.path(&format!("{tag}.json"))).unwrap(),
            std::fs::read(t.path(&format!("{tag}.csv"))).unwrap(),
            out.stdout,
        )
    })
}

#[test]
fn the_command_streams_the_bytes_of_its_in_memory_path() {
    let t = TestDir::new();
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    for name in ["bon_curves.csv", "rl_runs.csv"] {
        std::fs::copy(data.join(name), t.path(name)).unwrap();
    }
    t.write("random.csv", random_table(5, 30, true));
    // The demo's curves have proxy scores: their gold fits alone are streamed (a proxy fit
    // goes to the Goodhart decomposition, which needs every fit).
    for (input, args) in [
        ("bon_curves.csv", &["--target", "gold"][..]),
        ("rl_runs.csv", &["--target", "gold"][..]),
        ("random.csv", &[][..]),
    ] {
        let [s, m] = command_both(&t, input, args);
        assert!(s.0 == m.0, "{input}: fits JSON differs");
        assert!(s.1 == m.1, "{input}: fits CSV differs");
        assert_eq!(
            String::from_utf8_lossy(&s.2),
            String::from_utf8_lossy(&m.2),
            "{input}: printed table differs"
        );
        assert!(!s.2.is_empty());
    }
}

/// A CSV large enough for the parallel reader (13,000 curves of 20 rows: 9 MB unquoted, more than
/// its 8 MiB threshold), its rows curve by curve.
fn large_table(quote_method: bool) -> String {
    let mut s = String::from("method,rm_params,kl,gold\n");
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for c in 0..13_000 {
        let rm = 1e6 + c as f64;
        for i in 0..20 {
            let kl = i as f64 * 0.5;
            let y = kl.sqrt() * (0.6 - 0.2 * kl.sqrt()) + rng.random_range(-0.01..0.01);
            if quote_method {
                s.push_str(&format!("\"bon\",{rm},{kl},{y}\n"));
            } else {
                s.push_str(&format!("bon,{rm},{kl},{y}\n"));
            }
        }
    }
    s
}

#[test]
fn the_parallel_csv_reader_reads_what_the_sequential_one_reads() {
    let t = TestDir::new();
    let plain = large_table(false);
    // Quotes anywhere send the file to the sequential reader; the values are the same.
    let quoted = large_table(true);
    let a = curves_of(&t, "plain.csv", &plain);
    let b = curves_of(&t, "quoted.csv", &quoted);
    assert_eq!(a.len(), b.len());
    assert_eq!(a.len(), 13_000);
    assert!(plain.len() > 8 << 20);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.key, y.key);
        assert_eq!(x.kl, y.kl);
        assert_eq!(x.gold, y.gold);
    }
}

#[test]
fn a_bad_cell_late_in_a_large_csv_is_named_at_its_row() {
    let t = TestDir::new();
    let mut lines: Vec<String> = large_table(false).lines().map(str::to_string).collect();
    // a row in the last quarter of the file (row numbers count data rows from 1)
    let row = lines.len() * 7 / 8;
    lines[row] = "bon,5,x1,0.5".to_string();
    t.write("bad.csv", lines.join("\n") + "\n");
    let out = t
        .cmd()
        .args(["fit", "bad.csv", "--out", "f.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("row {row}")), "{err}");
    assert!(err.contains("x1"), "{err}");
    assert!(!t.path("f.json").exists());
}
