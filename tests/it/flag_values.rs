//! Flag values that are usage errors (exit 2, one message naming the flag and the value,
//! nothing written): a `--ci` with `--bootstrap 0`, a size listed twice, an output name whose
//! extension says another format than the command writes. Bad data stays exit 1 (elsewhere).

use crate::common::{TestDir, assert_usage_error, small_curves_csv};

#[test]
fn ci_with_no_bootstrap_is_a_usage_error() {
    let t = TestDir::new();
    t.write("c.csv", small_curves_csv());
    for ci in ["bca", "percentile"] {
        assert_usage_error(
            &t,
            &[
                "fit",
                "c.csv",
                "--out",
                "f.json",
                "--ci",
                ci,
                "--bootstrap",
                "0",
            ],
            &[&format!("--ci {ci}"), "--bootstrap 0"],
        );
    }
    // each alone is accepted
    for args in [
        vec!["fit", "c.csv", "--out", "f.json", "--bootstrap", "0"],
        vec![
            "fit",
            "c.csv",
            "--out",
            "f.json",
            "--ci",
            "bca",
            "--bootstrap",
            "5",
        ],
    ] {
        let out = t.cmd().args(&args).arg("-q").output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
    }
}

#[test]
fn generate_law_with_a_size_listed_twice_is_a_usage_error() {
    let t = TestDir::new();
    assert_usage_error(
        &t,
        &[
            "generate",
            "law",
            "--out",
            "l.csv",
            "--rm-params",
            "1e6,3e6,1e6",
        ],
        &["--rm-params", "1e6", "twice"],
    );
    // 1e6 and 1000000 are the same size
    assert_usage_error(
        &t,
        &[
            "generate",
            "law",
            "--out",
            "l.csv",
            "--rm-params",
            "1e6,1000000",
        ],
        &["--rm-params", "1e6", "twice"],
    );
    // distinct sizes: one curve per method and size
    let out = t
        .cmd()
        .args([
            "generate",
            "law",
            "--out",
            "l.csv",
            "--rm-params",
            "1e6,3e6",
            "--method",
            "bon",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = std::fs::read_to_string(t.path("l.csv")).unwrap();
    let rows = text.lines().count() - 1;
    // 40 points with kl > 0 and 4 at kl = 0 (the defaults) per size
    assert_eq!(rows, 2 * (40 + 4));
}

#[test]
fn generate_law_settings_out_of_range_are_usage_errors() {
    let t = TestDir::new();
    for (args, fragments) in [
        (vec!["--noise", "-1"], vec!["--noise", "-1"]),
        (vec!["--rm-params", "0,1e8"], vec!["--rm-params", "0"]),
        (vec!["--points", "0"], vec!["--points"]),
        (vec!["--kl-max-rl", "0"], vec!["--kl-max-rl", "not 0"]),
    ] {
        let mut a = vec!["generate", "law", "--out", "l.csv"];
        a.extend(args);
        assert_usage_error(&t, &a, &fragments);
    }
}

#[test]
fn predict_with_a_size_listed_twice_or_not_positive_is_a_usage_error() {
    let t = TestDir::new();
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let scaling = repo.join("fits/scaling.json");
    let s = scaling.to_str().unwrap();
    assert_usage_error(
        &t,
        &[
            "predict",
            "--scaling",
            s,
            "--rm-params",
            "1e5,2e5,1e5",
            "--out",
            "p.json",
        ],
        &["--rm-params", "100000", "twice"],
    );
    assert_usage_error(
        &t,
        &[
            "predict",
            "--scaling",
            s,
            "--rm-params",
            "-3",
            "--out",
            "p.json",
        ],
        &["--rm-params", "-3"],
    );
}

#[test]
fn json_outputs_refuse_a_table_extension() {
    let t = TestDir::new();
    t.write("c.csv", small_curves_csv());
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let fits = repo.join("fits/fits.json");
    let f = fits.to_str().unwrap();
    for (args, name, format) in [
        (vec!["fit", "c.csv", "--out", "f.csv"], "f.csv", "CSV"),
        (
            vec!["fit", "c.csv", "--out", "f.parquet"],
            "f.parquet",
            "Parquet",
        ),
        (vec!["analyze", "c.csv", "--out", "a.csv"], "a.csv", "CSV"),
        (
            vec!["analyze", "c.csv", "--out", "a.jsonl"],
            "a.jsonl",
            "NDJSON",
        ),
        (vec!["scale", f, "--out", "s.csv"], "s.csv", "CSV"),
    ] {
        assert_usage_error(
            &t,
            &args,
            &[&format!("--out {name}"), "is JSON, not", format, ".json"],
        );
    }
    // fit --csv always writes CSV
    for (name, format) in [("f.json", "JSON"), ("f.parquet", "Parquet")] {
        assert_usage_error(
            &t,
            &["fit", "c.csv", "--out", "o.json", "--csv", name],
            &[
                &format!("--csv {name}"),
                &format!("is CSV, not {format}"),
                ".csv",
            ],
        );
    }
    // the names they take
    let ok = t
        .cmd()
        .args(["fit", "c.csv", "--out", "f.json", "--csv", "f.csv", "-q"])
        .output()
        .unwrap();
    assert_eq!(ok.status.code(), Some(0));
}

#[test]
fn table_outputs_refuse_an_unknown_extension() {
    let t = TestDir::new();
    t.write("c.csv", small_curves_csv());
    t.write(
        "s.csv",
        "prompt,proxy,gold\n1,0.1,0.2\n1,0.3,0.1\n2,0.5,0.4\n2,0.0,0.1\n",
    );
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let scaling = repo.join("fits/scaling.json");
    let s = scaling.to_str().unwrap();
    for (args, flag, name) in [
        (vec!["generate", "law", "--out", "l.txt"], "--out", "l.txt"),
        (
            vec!["bon", "s.csv", "--rm-params", "1e6", "--out", "b.json"],
            "--out",
            "b.json",
        ),
        (vec!["convert", "c.csv", "--out", "c2"], "--out", "c2"),
        (
            vec!["analyze", "c.csv", "--out", "a.json", "--csv", "a.txt"],
            "--csv",
            "a.txt",
        ),
        (
            vec![
                "predict",
                "--scaling",
                s,
                "--rm-params",
                "1e5",
                "--out",
                "p.txt",
            ],
            "--out",
            "p.txt",
        ),
    ] {
        assert_usage_error(
            &t,
            &args,
            &[
                &format!("{flag} {name}"),
                "use ",
                ".csv, .parquet, .ndjson or .jsonl",
            ],
        );
    }
}

/// New-user review: `--rm-params "1e6, 1e7"` (a space after the comma) was refused as "invalid
/// float literal"; list items are now trimmed, and a bad item is named without the spaces.
#[test]
fn list_flags_allow_spaces_around_items() {
    let t = TestDir::new();
    let run = |out: &str, sizes: &str| {
        let o = t
            .cmd()
            .args(["generate", "law", "--out", out, "--rm-params", sizes, "-q"])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{sizes}: {o:?}");
        std::fs::read(t.path(out)).unwrap()
    };
    assert_eq!(run("a.csv", "1e6,1e7"), run("b.csv", " 1e6 , 1e7 "));
    assert_usage_error(
        &t,
        &["generate", "law", "--out", "c.csv", "--rm-params", "1e6, x"],
        &["--rm-params", "'x' is not a valid list item"],
    );
}
