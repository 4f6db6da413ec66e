//! What the commands write and print (issue 15, points 5 and 6): output files take the process
//! umask (tempfile would make them 0600), `fit` prints a summary table and its detail only with
//! --verbose or --report, every "wrote" line is on stderr in one form, predicted scores are named
//! after their target, `report` creates its folder, and shell completions are printed.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::TestDir;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("goodhart")
}

/// Runs `goodhart ARGS` through `sh -c 'umask U; goodhart ...'` in `dir`.
fn with_umask(dir: &Path, umask: &str, args: &str) -> std::process::Output {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("umask {umask}; '{}' {args}", bin().display()))
        .current_dir(dir)
        .output()
        .expect("run sh");
    assert!(
        out.status.success(),
        "goodhart {args}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn output_files_take_the_umask() {
    let data = repo().join("data");
    let fits = repo().join("fits");
    for (umask, want) in [("022", 0o644), ("077", 0o600), ("002", 0o664)] {
        let t = TestDir::new();
        let d = t.root();
        with_umask(
            d,
            umask,
            "generate law --out law.csv --method bon --rm-params 1e7,1e8,1e9 --seed 3",
        );
        with_umask(
            d,
            umask,
            "fit law.csv --out fits.json --csv fits.csv --report fits.txt",
        );
        with_umask(
            d,
            umask,
            &format!(
                "bon {} --out bon.parquet --n 1,2,4 --no-prompt-values",
                data.join("bon_samples.parquet").display()
            ),
        );
        with_umask(
            d,
            umask,
            &format!(
                "predict --scaling {} --rm-params 1e4 --out pred.csv",
                fits.join("scaling.json").display()
            ),
        );
        with_umask(
            d,
            umask,
            &format!(
                "report law.csv --fits fits.json --scaling {} --out rep/nested",
                fits.join("scaling.json").display()
            ),
        );
        let mut files = vec![
            d.join("law.csv"),
            d.join("fits.json"),
            d.join("fits.csv"),
            d.join("fits.txt"),
            d.join("bon.parquet"),
            d.join("pred.csv"),
        ];
        let rep = d.join("rep/nested");
        let mut figures = 0;
        for e in std::fs::read_dir(&rep).expect("report folder created") {
            let p = e.expect("entry").path();
            figures += usize::from(p.extension().is_some_and(|x| x == "png"));
            files.push(p);
        }
        assert!(files.contains(&rep.join("report.html")));
        assert!(figures > 0, "no figure written");
        for f in &files {
            assert_eq!(
                mode(f),
                want,
                "{} under umask {umask}: mode {:o}",
                f.display(),
                mode(f)
            );
        }
        // atomic writes stay atomic: no temporary file left beside the outputs
        let left: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .chain(std::fs::read_dir(&rep).unwrap())
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
}

#[test]
fn fit_prints_one_line_per_fit_and_the_detail_only_when_asked() {
    let t = TestDir::new();
    let law = t
        .cmd()
        .args([
            "generate",
            "law",
            "--out",
            "law.csv",
            "--seed",
            "5",
            "--rm-params",
            "1e7,1e8,1e9",
        ])
        .output()
        .unwrap();
    assert!(law.status.success());
    let out = t
        .cmd()
        .args(["fit", "law.csv", "--out", "fits.json", "--csv", "fits.csv"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // the fits, counted independently from the flat CSV
    let csv = std::fs::read_to_string(t.path("fits.csv")).unwrap();
    let n_fits = csv.lines().count() - 1;
    assert!(n_fits >= 6);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.len(),
        n_fits + 1,
        "a header and one line per fit:\n{stdout}"
    );
    assert!(lines[0].starts_with("fit ") && lines[0].contains("alpha ± se"));
    assert!(lines[0].contains("peak KL") && lines[0].contains("R²"));
    assert!(!stdout.contains("[[Fit]]"), "no detail without --verbose");
    // each fit's alpha (4 significant digits) is on its line, in the CSV's order
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let ia = header.iter().position(|h| *h == "alpha").unwrap();
    for (row, line) in csv.lines().skip(1).zip(&lines[1..]) {
        let alpha: f64 = row.split(',').nth(ia).unwrap().parse().unwrap();
        let shown = if alpha.abs() >= 1e-3 && alpha.abs() < 1e6 {
            goodhart::format::sig(alpha, 4).replace('\u{2212}', "-")
        } else {
            let s = format!("{alpha:.3e}");
            let (m, e) = s.split_once('e').unwrap();
            format!("{}e{e}", m.trim_end_matches('0').trim_end_matches('.'))
        };
        assert!(line.contains(&shown), "{line} lacks alpha {shown}");
    }
    // columns line up when piped: every line has the target at the same offset
    let at = lines[0].find("target").unwrap();
    for l in &lines[1..] {
        let cell = &l[l
            .char_indices()
            .nth(lines[0][..at].chars().count())
            .unwrap()
            .0..];
        assert!(cell.starts_with("gold") || cell.starts_with("proxy"), "{l}");
    }
    // what was written: on stderr, one form, nothing of it on stdout
    assert!(stderr.contains("wrote fits.json ("), "{stderr}");
    assert!(stderr.contains("wrote fits.csv ("), "{stderr}");
    assert!(!stdout.contains("wrote"));
    // --verbose: the table, then the lmfit-style detail of every fit
    let v = t
        .cmd()
        .args(["fit", "law.csv", "--out", "fits.json", "--verbose"])
        .output()
        .unwrap();
    let vs = String::from_utf8_lossy(&v.stdout);
    assert!(vs.starts_with(lines[0]));
    assert_eq!(vs.matches("[[Fit]]").count(), n_fits);
    // --report FILE: the same detail into the file, not on the terminal
    let r = t
        .cmd()
        .args([
            "fit",
            "law.csv",
            "--out",
            "fits.json",
            "--report",
            "detail.txt",
        ])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&r.stdout).contains("[[Fit]]"));
    let detail = std::fs::read_to_string(t.path("detail.txt")).unwrap();
    assert_eq!(detail.matches("[[Fit]]").count(), n_fits);
    assert!(vs.contains(detail.lines().next().unwrap()));
    // --quiet: nothing at all
    let q = t
        .cmd()
        .args(["fit", "law.csv", "--out", "fits.json", "--quiet"])
        .output()
        .unwrap();
    assert!(q.stdout.is_empty() && q.stderr.is_empty());
    // --quiet and --verbose contradict each other: a usage error
    let qv = t
        .cmd()
        .args(["fit", "law.csv", "--out", "x.json", "--quiet", "--verbose"])
        .output()
        .unwrap();
    assert_eq!(qv.status.code(), Some(2));
}

#[test]
fn every_wrote_line_is_on_stderr_in_one_form() {
    let t = TestDir::new();
    let runs: Vec<Vec<String>> = vec![
        vec!["generate", "law", "--out", "law.csv"],
        vec!["fit", "law.csv", "--out", "f.json"],
        vec!["scale", "f.json", "--out", "s.json"],
        vec![
            "predict",
            "--scaling",
            "s.json",
            "--rm-params",
            "1e10",
            "--out",
            "p.json",
        ],
        vec!["report", "law.csv", "--fits", "f.json", "--out", "a/b"],
        vec![
            "convert",
            "tests/trainer_state.json",
            "--rm-params",
            "1.2e9",
            "--gold-from",
            "tests/gold.csv",
            "--out",
            "c.csv",
        ],
        vec![
            "bon",
            "tests/dump.jsonl",
            "--rm-params",
            "3e8",
            "--out",
            "b.csv",
        ],
    ]
    .into_iter()
    .map(|v| v.into_iter().map(String::from).collect())
    .collect();
    std::fs::create_dir(t.path("tests")).unwrap();
    let fx = repo().join("tests/data/adapters");
    for (from, to) in [
        ("trl_ppo/trainer_state.json", "trainer_state.json"),
        ("trl_ppo/gold.csv", "gold.csv"),
        ("bon/dump.jsonl", "dump.jsonl"),
    ] {
        std::fs::copy(fx.join(from), t.path("tests").join(to)).unwrap();
    }
    for args in &runs {
        let out = t.cmd().args(args).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {stderr}");
        let target = &args[args.iter().position(|a| a == "--out").unwrap() + 1];
        let wrote: Vec<&str> = stderr.lines().filter(|l| l.starts_with("wrote ")).collect();
        assert!(
            wrote
                .iter()
                .any(|l| l.starts_with(&format!("wrote {target} (")) && l.ends_with(')')),
            "{args:?}: {stderr}"
        );
        assert!(
            !stdout.contains("wrote "),
            "{args:?} printed 'wrote' on stdout"
        );
        let q = t.cmd().args(args).arg("--quiet").output().unwrap();
        assert!(
            q.stderr.is_empty() && q.stdout.is_empty(),
            "{args:?} --quiet"
        );
    }
    assert!(t.path("a/b/report.html").is_file(), "report created a/b");
}

#[test]
fn predicted_scores_are_named_after_their_target() {
    let t = TestDir::new();
    let scaling = repo().join("fits/scaling.json");
    for out in ["p.json", "p.csv"] {
        let o = t
            .cmd()
            .args(["predict", "--scaling"])
            .arg(&scaling)
            .args(["--rm-params", "1e3", "--out", out, "--quiet"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.path("p.json")).unwrap()).unwrap();
    let (mut gold, mut proxy) = (0, 0);
    for p in doc["predictions"].as_array().unwrap() {
        let target = p["target"].as_str().unwrap();
        let other = if target == "gold" { "proxy" } else { "gold" };
        for pt in p["curve"].as_array().unwrap() {
            assert!(pt[target].is_number(), "{target} point without {target}");
            assert!(pt.get(other).is_none(), "{target} point with {other}");
        }
        gold += usize::from(target == "gold");
        proxy += usize::from(target == "proxy");
    }
    assert!(gold > 0 && proxy > 0);
    // the CSV: a gold column filled on gold rows, a proxy column on proxy rows
    let mut r = csv::Reader::from_path(t.path("p.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let (it, ig, ip) = (col("target"), col("gold"), col("proxy"));
    for rec in r.records() {
        let rec = rec.unwrap();
        let (filled, empty) = if &rec[it] == "gold" {
            (ig, ip)
        } else {
            (ip, ig)
        };
        assert!(rec[filled].parse::<f64>().is_ok(), "{rec:?}");
        assert!(rec[empty].is_empty(), "{rec:?}");
    }
}

#[test]
fn report_creates_its_folder_but_not_inside_a_file() {
    let t = TestDir::new();
    t.cmd()
        .args(["generate", "law", "--out", "law.csv", "--method", "bon"])
        .assert()
        .success();
    t.write("file", "x");
    let o = t
        .cmd()
        .args(["report", "law.csv", "--out", "file/sub"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a folder"));
    // a failed read leaves no folder behind
    let o = t
        .cmd()
        .args(["report", "missing.csv", "--out", "new/dir"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(!t.path("new").exists());
    t.cmd()
        .args(["report", "law.csv", "--out", "new/dir"])
        .assert()
        .success();
    assert!(t.path("new/dir/report.html").is_file());
}

#[test]
fn completions_for_bash_zsh_and_fish() {
    let t = TestDir::new();
    for shell in ["bash", "zsh", "fish"] {
        let o = t.cmd().args(["completions", shell]).output().unwrap();
        assert!(o.status.success());
        let s = String::from_utf8_lossy(&o.stdout);
        for sub in ["fit", "predict", "report", "--holdout-above"] {
            assert!(s.contains(sub), "{shell} completion lacks {sub}");
        }
    }
    let bad = t.cmd().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
}
