//! `goodhart demo` reproduces the committed `data/` and `fits/`: same files, same numbers.

mod common;

use std::path::Path;

/// The words of a CSV, JSON or Markdown file: separators and punctuation dropped.
fn tokens(text: &str) -> Vec<&str> {
    text.split(|c: char| c.is_whitespace() || ",\":[]{}|".contains(c))
        .filter(|s| !s.is_empty())
        .collect()
}

fn numbers_close(a: &str, b: &str, what: &str) {
    let (ta, tb) = (tokens(a), tokens(b));
    assert_eq!(ta.len(), tb.len(), "{what}: different number of tokens");
    for (x, y) in ta.iter().zip(&tb) {
        match (x.parse::<f64>(), y.parse::<f64>()) {
            (Ok(u), Ok(v)) => assert!(
                (u - v).abs() <= 1e-9 * u.abs().max(v.abs()).max(1e-300),
                "{what}: {u} vs {v}"
            ),
            _ => assert_eq!(x, y, "{what}"),
        }
    }
}

#[test]
fn demo_reproduces_the_committed_outputs() {
    let t = common::TestDir::new();
    t.cmd().args(["demo", "--out", "."]).assert().success();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in ["data", "fits"] {
        let list = |root: &Path| {
            let mut v: Vec<String> = std::fs::read_dir(root.join(dir))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            v
        };
        assert_eq!(list(t.root()), list(repo), "files in {dir}/");
        for name in list(repo) {
            let rel = format!("{dir}/{name}");
            let fresh = std::fs::read_to_string(t.path(&rel)).unwrap();
            let committed = std::fs::read_to_string(repo.join(&rel)).unwrap();
            numbers_close(&fresh, &committed, &rel);
        }
    }
}

#[test]
fn demo_prints_a_summary_and_quiet_silences_it() {
    let t = common::TestDir::new();
    let out = t
        .cmd()
        .args(["demo", "--out", "d", "--seed", "3"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("true coefficient inside its 95% CI"),
        "{text}"
    );
    let q = t
        .cmd()
        .args(["demo", "--out", "q", "--quiet"])
        .output()
        .unwrap();
    assert!(q.status.success() && q.stdout.is_empty());
}
