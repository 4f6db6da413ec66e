//! Every bad input of `goodhart bon` ends in one clear message naming the file and the column,
//! row or prompt at fault, exit status 1, no panic and no output file (nor temp file) left.

use crate::common;

use common::TestDir;

/// Runs `goodhart bon <inputs..> --out curves.csv <extra..>` and checks the failure contract.
fn fails_with(t: &TestDir, args: &[&str], fragments: &[&str]) {
    let mut all = vec!["bon"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--out", "curves.csv"]);
    common::assert_input_error(t, &all, fragments);
}

fn good_rows() -> String {
    let mut s = String::new();
    for p in 0..3 {
        for i in 0..4 {
            s.push_str(&format!(
                "q{p},{},{}\n",
                i as f64 * 0.5 + p as f64,
                i as f64 * 0.1
            ));
        }
    }
    s
}

#[test]
fn missing_prompt_proxy_or_gold_column() {
    let t = TestDir::new();
    for (header, missing) in [
        ("id,proxy,gold", "prompt"),
        ("prompt,score,gold", "proxy"),
        ("prompt,proxy,gold_score", "gold"),
    ] {
        let name = format!("no_{missing}.csv");
        t.write(&name, format!("{header}\n{}", good_rows()));
        fails_with(
            &t,
            &[&name, "--rm-params", "1e8"],
            &[&name, &format!("missing required column '{missing}'")],
        );
    }
}

#[test]
fn missing_rm_params_without_flag() {
    let t = TestDir::new();
    t.write("s.csv", format!("prompt,proxy,gold\n{}", good_rows()));
    fails_with(&t, &["s.csv"], &["s.csv", "rm_params", "--rm-params"]);
}

#[test]
fn non_numeric_score_names_row_and_column() {
    let t = TestDir::new();
    t.write(
        "s.csv",
        format!("prompt,proxy,gold\n{}q9,abc,0.1\n", good_rows()),
    );
    fails_with(
        &t,
        &["s.csv", "--rm-params", "1e8"],
        &["s.csv", "column 'proxy', row 13", "not a number", "abc"],
    );
}

#[test]
fn nan_score_names_row_and_prompt() {
    let t = TestDir::new();
    t.write(
        "s.csv",
        format!("prompt,proxy,gold\nq7,0.5,NaN\n{}", good_rows()),
    );
    fails_with(
        &t,
        &["s.csv", "--rm-params", "1e8"],
        &["s.csv", "column 'gold', row 1", "prompt 'q7'", "NaN"],
    );
    t.write(
        "s.ndjson",
        "{\"prompt\":\"a\",\"proxy\":1,\"gold\":2}\n{\"prompt\":\"a\",\"proxy\":null,\"gold\":2}\n",
    );
    fails_with(
        &t,
        &["s.ndjson", "--rm-params", "1e8"],
        &["s.ndjson", "'proxy', row 2", "missing"],
    );
}

#[test]
fn pool_of_one_sample_says_only_n_1_is_defined() {
    let t = TestDir::new();
    t.write(
        "s.csv",
        format!("prompt,proxy,gold\n{}lonely,0.3,0.2\n", good_rows()),
    );
    fails_with(
        &t,
        &["s.csv", "--rm-params", "1e8"],
        &[
            "s.csv",
            "prompt 'lonely'",
            "pool of one sample",
            "only n = 1",
        ],
    );
}

#[test]
fn n_above_every_pool_size() {
    let t = TestDir::new();
    t.write("s.csv", format!("prompt,proxy,gold\n{}", good_rows()));
    fails_with(
        &t,
        &["s.csv", "--rm-params", "1e8", "--n", "1,2,5"],
        &["--n 5", "above every pool size", "4 samples"],
    );
}

#[test]
fn dump_arrays_of_unequal_length_name_the_prompt_index() {
    let t = TestDir::new();
    t.write(
        "dump.json",
        r#"[{"proxy_scores": [1, 2, 3], "gold_scores": [0.1, 0.2, 0.3]},
            {"proxy_scores": [1, 2, 3], "gold_scores": [0.1, 0.2]}]"#,
    );
    fails_with(
        &t,
        &["dump.json", "--rm-params", "1e8"],
        &["dump.json", "prompt index 1", "3 values", "has 2"],
    );
    t.write(
        "dump.jsonl",
        "{\"prompt\": \"x\", \"proxy_scores\": [1, 2], \"gold_scores\": [0.1, 0.2]}\n{\"prompt\": \"y\", \"proxy_scores\": [1, null], \"gold_scores\": [0.1, 0.2]}\n",
    );
    fails_with(
        &t,
        &["dump.jsonl", "--rm-params", "1e8"],
        &[
            "dump.jsonl",
            "prompt index 1",
            "prompt 'y'",
            "proxy_scores[1]",
        ],
    );
}

#[test]
fn bad_path_fails_before_reading() {
    let t = TestDir::new();
    t.write("s.csv", format!("prompt,proxy,gold\n{}", good_rows()));
    let out = t
        .cmd()
        .args([
            "bon",
            "s.csv",
            "--rm-params",
            "1e8",
            "--out",
            "no/such/dir/c.csv",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));
}
