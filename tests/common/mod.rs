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

    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
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
