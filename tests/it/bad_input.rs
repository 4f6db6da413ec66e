//! Every bad input of `goodhart fit` ends in one clear message naming the problem, exit status 1,
//! no panic, no output file (and no temp file left behind), and an untouched input.

use crate::common;

use common::TestDir;
use goodhart::ingest::Format;
use goodhart::output::{OutColumn, OutTable};

/// Runs `goodhart fit <input> --out out.json --csv out.csv` and checks the failure contract.
fn fails_with(t: &TestDir, input: &str, fragments: &[&str]) {
    common::assert_input_error(
        t,
        &["fit", input, "--out", "out.json", "--csv", "out.csv"],
        fragments,
    );
}

const HEAD: &str = "method,rm_params,kl,gold\n";

fn csv_with(rows: &[&str]) -> String {
    let mut s = HEAD.to_string();
    for r in rows {
        s.push_str(r);
        s.push('\n');
    }
    s
}

#[test]
fn empty_csv() {
    let t = TestDir::new();
    t.write("e.csv", "");
    fails_with(&t, "e.csv", &["e.csv", "the file is empty"]);
}

#[test]
fn empty_ndjson() {
    let t = TestDir::new();
    t.write("e.ndjson", "\n\n");
    fails_with(&t, "e.ndjson", &["e.ndjson", "the file is empty"]);
}

#[test]
fn empty_parquet() {
    let t = TestDir::new();
    t.write("e.parquet", "");
    fails_with(&t, "e.parquet", &["e.parquet", "the file is empty"]);
}

#[test]
fn header_but_no_rows_csv() {
    let t = TestDir::new();
    t.write("h.csv", HEAD);
    fails_with(&t, "h.csv", &["h.csv", "header but no data rows"]);
}

#[test]
fn header_but_no_rows_parquet() {
    let t = TestDir::new();
    let mut table = OutTable::default();
    table.push("method", OutColumn::Text(vec![]));
    for c in ["rm_params", "kl", "gold"] {
        table.push(c, OutColumn::Number(vec![]));
    }
    let bytes = table
        .to_bytes(Format::Parquet, &t.path("h.parquet"))
        .unwrap();
    t.write("h.parquet", bytes);
    fails_with(&t, "h.parquet", &["h.parquet", "no data rows"]);
}

#[test]
fn missing_required_column_lists_columns_and_suggests() {
    let t = TestDir::new();
    t.write("m.csv", "method,rm_params,kl_nats,gold\nbon,1e8,1,0.5\n");
    fails_with(
        &t,
        "m.csv",
        &[
            "missing required column 'kl'",
            "did you mean 'kl_nats'? use --map kl_nats=kl",
            "columns found: method, rm_params, kl_nats, gold",
        ],
    );
}

#[test]
fn missing_column_without_a_near_name() {
    let t = TestDir::new();
    t.write("m.csv", "method,rm_params,kl,score_x\nbon,1e8,1,0.5\n");
    fails_with(
        &t,
        "m.csv",
        &[
            "missing required column 'gold'",
            "columns found: method, rm_params, kl, score_x",
        ],
    );
}

#[test]
fn non_numeric_value_names_file_column_row() {
    let t = TestDir::new();
    t.write(
        "n.csv",
        csv_with(&["bon,1e8,0,0", "bon,1e8,1,abc", "bon,1e8,2,0.3"]),
    );
    fails_with(
        &t,
        "n.csv",
        &["n.csv", "column 'gold', row 2", "not a number", "'abc'"],
    );
}

#[test]
fn non_numeric_value_in_ndjson() {
    let t = TestDir::new();
    t.write(
        "n.ndjson",
        "{\"method\":\"bon\",\"rm_params\":1e8,\"kl\":1,\"gold\":0.2}\n{\"method\":\"bon\",\"rm_params\":1e8,\"kl\":\"two\",\"gold\":0.3}\n",
    );
    fails_with(
        &t,
        "n.ndjson",
        &["column 'kl', row 2", "not a number", "'two'"],
    );
}

#[test]
fn nan_in_kl() {
    let t = TestDir::new();
    t.write(
        "k.csv",
        csv_with(&["bon,1e8,1,0.1", "bon,1e8,2,0.2", "bon,1e8,NaN,0.3"]),
    );
    fails_with(
        &t,
        "k.csv",
        &["column 'kl', row 3", "kl must be a finite number"],
    );
}

#[test]
fn nan_in_gold() {
    let t = TestDir::new();
    t.write("g.csv", csv_with(&["bon,1e8,1,nan", "bon,1e8,2,0.2"]));
    fails_with(
        &t,
        "g.csv",
        &["column 'gold', row 1", "gold must be a finite number"],
    );
}

#[test]
fn infinity_in_gold() {
    let t = TestDir::new();
    t.write("g.csv", csv_with(&["bon,1e8,1,0.1", "bon,1e8,2,inf"]));
    fails_with(
        &t,
        "g.csv",
        &["column 'gold', row 2", "gold must be a finite number"],
    );
}

#[test]
fn negative_kl() {
    let t = TestDir::new();
    t.write(
        "k.csv",
        csv_with(&["bon,1e8,1,0.1", "bon,1e8,-0.5,0.2", "bon,1e8,2,0.3"]),
    );
    fails_with(&t, "k.csv", &["column 'kl', row 2", ">= 0", "'-0.5'"]);
}

#[test]
fn unknown_method_shows_the_value() {
    let t = TestDir::new();
    t.write("m.csv", csv_with(&["bon,1e8,1,0.1", "ppo,1e8,2,0.2"]));
    fails_with(
        &t,
        "m.csv",
        &["column 'method', row 2", "'bon' or 'rl'", "'ppo'"],
    );
}

#[test]
fn zero_rm_params() {
    let t = TestDir::new();
    t.write("r.csv", csv_with(&["bon,0,1,0.1", "bon,0,2,0.2"]));
    fails_with(
        &t,
        "r.csv",
        &[
            "column 'rm_params', row 1",
            "rm_params must be a finite number > 0",
        ],
    );
}

#[test]
fn negative_rm_params() {
    let t = TestDir::new();
    t.write("r.csv", csv_with(&["bon,1e8,1,0.1", "bon,-3e6,2,0.2"]));
    fails_with(&t, "r.csv", &["column 'rm_params', row 2", "'-3000000'"]);
}

#[test]
fn ragged_csv_rows() {
    let t = TestDir::new();
    t.write(
        "r.csv",
        csv_with(&["bon,1e8,1,0.1", "bon,1e8,2,0.2", "bon,1e8,3"]),
    );
    fails_with(
        &t,
        "r.csv",
        &["r.csv", "row 3 (line 4) has 3 fields but the header has 4"],
    );
}

#[test]
fn corrupt_parquet() {
    let t = TestDir::new();
    t.write(
        "c.parquet",
        b"PAR1 this is not really a parquet file at all PAR1".as_slice(),
    );
    fails_with(&t, "c.parquet", &["c.parquet", "not a valid Parquet file"]);
}

#[test]
fn truncated_parquet() {
    let t = TestDir::new();
    t.cmd()
        .args(["generate", "law", "--out", "full.parquet", "--quiet"])
        .assert()
        .success();
    let bytes = std::fs::read(t.path("full.parquet")).unwrap();
    t.write("cut.parquet", &bytes[..bytes.len() / 2]);
    std::fs::remove_file(t.path("full.parquet")).unwrap();
    fails_with(
        &t,
        "cut.parquet",
        &["cut.parquet", "not a valid Parquet file"],
    );
}

#[test]
fn invalid_json_line() {
    let t = TestDir::new();
    t.write(
        "j.ndjson",
        "{\"method\":\"bon\",\"rm_params\":1e8,\"kl\":1,\"gold\":0.2}\n{\"method\": bon}\n",
    );
    fails_with(
        &t,
        "j.ndjson",
        &["j.ndjson", "not a valid NDJSON file", "line 2"],
    );
}

#[test]
fn missing_file() {
    let t = TestDir::new();
    fails_with(
        &t,
        "nowhere.csv",
        &["nowhere.csv", "cannot read", "No such file"],
    );
}

#[test]
fn unknown_extension() {
    let t = TestDir::new();
    t.write("runs.txt", HEAD);
    fails_with(&t, "runs.txt", &["runs.txt", "unknown file type 'txt'"]);
}

#[test]
fn curve_with_too_few_points_is_named() {
    let t = TestDir::new();
    t.write(
        "few.csv",
        csv_with(&[
            "bon,1e8,0,0.0",
            "bon,1e8,1,0.1",
            "bon,1e8,2,0.2",
            "rl,3e6,0,0.0",
            "rl,3e6,1.5,0.1",
        ]),
    );
    fails_with(
        &t,
        "few.csv",
        &[
            "curve rl rm_params=3e6",
            "1 usable point(s)",
            "rl form, which has 2 parameters",
        ],
    );
}

#[test]
fn missing_value_in_required_column() {
    let t = TestDir::new();
    t.write("g.csv", csv_with(&["bon,1e8,1,0.1", "bon,1e8,2,"]));
    fails_with(&t, "g.csv", &["column 'gold', row 2", "missing value"]);
}

#[test]
fn proxy_target_without_proxy_column() {
    let t = TestDir::new();
    t.write("p.csv", common::small_curves_csv());
    let out = t
        .cmd()
        .args(["fit", "p.csv", "--out", "o.json", "--target", "proxy"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no proxy scores"));
    assert!(!t.path("o.json").exists());
}

#[test]
fn output_folder_missing_fails_before_reading() {
    let t = TestDir::new();
    // The input is bad too: the output path is checked first, so the message is about it.
    t.write("bad.csv", "");
    let out = t
        .cmd()
        .args(["fit", "bad.csv", "--out", "no/such/dir/f.json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("no/such/dir/f.json") && stderr.contains("does not exist"),
        "{stderr}"
    );
}

#[test]
fn output_that_is_a_directory() {
    let t = TestDir::new();
    t.write("c.csv", common::small_curves_csv());
    std::fs::create_dir(t.path("adir")).unwrap();
    let out = t
        .cmd()
        .args(["fit", "c.csv", "--out", "adir"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is a directory"));
}

#[test]
fn output_equal_to_input_is_refused_and_input_kept() {
    let t = TestDir::new();
    let body = common::small_curves_csv();
    t.write("c.csv", &body);
    let out = t
        .cmd()
        .args(["fit", "c.csv", "--out", "c.csv"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is also an input"));
    assert_eq!(std::fs::read_to_string(t.path("c.csv")).unwrap(), body);
}

#[test]
fn usage_errors_exit_2() {
    let t = TestDir::new();
    t.write("c.csv", common::small_curves_csv());
    for args in [
        vec!["fit", "c.csv", "--out", "o.json", "--map", "nonsense"],
        vec!["fit", "c.csv", "--out", "o.json", "--map", "a=notacolumn"],
        vec!["fit", "c.csv"],
        vec![
            "fit", "c.csv", "--out", "o.json", "--min-kl", "3", "--max-kl", "1",
        ],
        vec!["fit", "c.csv", "--out", "o.json", "--form", "cubic"],
    ] {
        let out = t.cmd().args(&args).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!t.path("o.json").exists());
    }
}

#[test]
fn map_source_that_does_not_exist() {
    let t = TestDir::new();
    t.write("c.csv", common::small_curves_csv());
    let out = t
        .cmd()
        .args(["fit", "c.csv", "--out", "o.json", "--map", "kl_nats=kl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the file has no column 'kl_nats'"),
        "{stderr}"
    );
}
