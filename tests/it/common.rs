//! Test helpers: each test gets its own temporary folder and a `goodhart` command run inside it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

pub struct TestDir {
    dir: tempfile::TempDir,
}

impl TestDir {
    pub fn new() -> TestDir {
        TestDir {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a fixture, making its folders.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        if let Some(dir) = p.parent() {
            std::fs::create_dir_all(dir).expect("make the fixture's folder");
        }
        std::fs::write(&p, contents).expect("write fixture");
        p
    }

    /// `goodhart` with the temp folder as working directory.
    pub fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("goodhart").expect("binary built");
        c.current_dir(self.root());
        c
    }

    /// The names of all files in the folder (sorted), to check nothing extra was left behind.
    pub fn files(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.root())
            .expect("read temp dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

/// The folder's files with their contents, to check that a failed run wrote and changed nothing.
pub fn snapshot(t: &TestDir) -> Vec<(String, Vec<u8>)> {
    t.files()
        .into_iter()
        .map(|name| {
            let bytes = std::fs::read(t.path(&name)).unwrap_or_default();
            (name, bytes)
        })
        .collect()
}

/// Runs `goodhart ARGS` in the test folder and checks the bad-input contract: exit status 1,
/// exactly one `error:` line containing every fragment, no panic, nothing on stdout, and no file
/// created, removed or changed (so no output, no temp file, inputs untouched).
pub fn assert_input_error(t: &TestDir, args: &[&str], fragments: &[&str]) {
    let before = snapshot(t);
    let out = t.cmd().args(args).output().expect("run goodhart");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "exit status; stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("error:")).count(),
        1,
        "one message: {stderr}"
    );
    for f in fragments {
        assert!(stderr.contains(f), "expected {f:?} in: {stderr}");
    }
    assert!(out.stdout.is_empty(), "nothing on stdout");
    assert!(
        snapshot(t) == before,
        "a file was created, removed or changed"
    );
}

/// Runs `goodhart ARGS` in the test folder and checks the usage-error contract: exit status 2,
/// exactly one `error:` line containing every fragment (the flag and its value), no panic,
/// nothing on stdout, and no file created, removed or changed.
pub fn assert_usage_error(t: &TestDir, args: &[&str], fragments: &[&str]) {
    let before = snapshot(t);
    let out = t.cmd().args(args).output().expect("run goodhart");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{args:?}: exit status; stderr: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("error:")).count(),
        1,
        "one message: {stderr}"
    );
    for f in fragments {
        assert!(stderr.contains(f), "{args:?}: expected {f:?} in: {stderr}");
    }
    assert!(out.stdout.is_empty(), "nothing on stdout");
    assert!(
        snapshot(t) == before,
        "{args:?}: a file was created, removed or changed"
    );
}

/// A small valid Curves CSV: two curves (bon and rl) with a baseline.
pub fn small_curves_csv() -> String {
    let mut s = String::from("method,rm_params,kl,gold\n");
    for (m, alpha, beta) in [("bon", 0.6, 0.15), ("rl", 0.5, 0.2)] {
        s.push_str(&format!("{m},1e8,0,0.01\n{m},1e8,0,-0.01\n"));
        for k in 1..=12 {
            let d = k as f64 * 0.25;
            let base = if m == "bon" {
                d * (alpha - beta * d)
            } else {
                d * (alpha - beta * d.ln())
            };
            let noise = if k % 2 == 0 { 0.003 } else { -0.003 };
            s.push_str(&format!("{m},1e8,{},{}\n", d * d, base + noise));
        }
    }
    s
}
