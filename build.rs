//! Build script: the git commit for `goodhart --version`.
//!
//! Sets `GOODHART_VERSION_STRING`, what `--version` prints after the name: the package version,
//! followed by ` (COMMIT)` when built from a git checkout (a `.git` directory, or a worktree's
//! `.git` file, next to this `Cargo.toml`). COMMIT is `git rev-parse --short HEAD`, with `-dirty`
//! when the files the binary is built from (`src/`, `assets/`, `build.rs`, `Cargo.toml`,
//! `Cargo.lock`) differ from that commit; it is also set alone as `GOODHART_GIT_COMMIT`. Without
//! `.git` (a packaged crate, as `cargo install goodhart` builds it) or without git, the version is
//! the package version alone and `GOODHART_GIT_COMMIT` is not set.
//!
//! It never asks Cargo to rerun on every build: it reruns when HEAD, the branch it points to or
//! those files change, so `cargo test` after a rebuild does not rebuild again.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The paths the binary is built from: the dirty check and the rerun triggers.
const SOURCES: [&str; 5] = ["src", "assets", "build.rs", "Cargo.toml", "Cargo.lock"];

fn main() {
    let version = std::env::var("CARGO_PKG_VERSION").expect("set by Cargo");
    match git_commit() {
        Some(commit) => {
            println!("cargo:rustc-env=GOODHART_GIT_COMMIT={commit}");
            println!("cargo:rustc-env=GOODHART_VERSION_STRING={version} ({commit})");
        }
        None => println!("cargo:rustc-env=GOODHART_VERSION_STRING={version}"),
    }
}

/// The short commit (with `-dirty`) of the checkout this package is built from, if any; prints
/// the rerun triggers.
fn git_commit() -> Option<String> {
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by Cargo"));
    // Only a checkout of this repository: never a git repository that merely encloses the
    // package (an unpacked crate under some project's target/ or a home directory in git).
    if !dir.join(".git").exists() {
        // Watch this script and the missing `.git`: without any rerun-if-changed line Cargo
        // would rerun it on every change of any file in the package; watching the missing
        // `.git` reruns it on every build of a packaged crate (one build, for `cargo install`),
        // so that an output made without `.git` is never reused for a checkout that shares the
        // target directory (seen: `--version` without its commit).
        println!("cargo:rerun-if-changed=build.rs");
        println!("cargo:rerun-if-changed=.git");
        return None;
    }
    for path in SOURCES {
        println!("cargo:rerun-if-changed={path}");
    }
    // HEAD, and the branch it points to (a loose ref or packed-refs), resolved by git itself so
    // that worktrees (HEAD in .git/worktrees/NAME, refs in the common directory) work too. Only
    // existing files: Cargo reruns a build script on every build when a watched path is missing.
    let mut watched = vec![git(&dir, &["rev-parse", "--git-path", "HEAD"])];
    if let Some(branch) = git(&dir, &["symbolic-ref", "-q", "HEAD"]) {
        watched.push(git(&dir, &["rev-parse", "--git-path", &branch]));
    }
    watched.push(git(&dir, &["rev-parse", "--git-path", "packed-refs"]));
    for path in watched.into_iter().flatten() {
        let path = dir.join(path);
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    let commit = git(&dir, &["rev-parse", "--short", "HEAD"])?;
    let mut status = vec!["--no-optional-locks", "status", "--porcelain", "--"];
    status.extend(SOURCES);
    let dirty = git(&dir, &status).is_some_and(|changes| !changes.is_empty());
    let suffix = if dirty { "-dirty" } else { "" };
    Some(format!("{commit}{suffix}"))
}

/// The trimmed stdout of `git -C dir ARGS`, or `None` when git is missing or fails.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8(out.stdout).ok()?.trim().to_string())
}
