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
    let dot_git = dir.join(".git");
    if !dot_git.exists() {
        // Watch only this script: without any rerun-if-changed line Cargo would rerun it on
        // every change of any file in the package. A packaged crate also has Cargo.toml.orig,
        // which a checkout has not: see the note on shared target directories below.
        println!("cargo:rerun-if-changed=build.rs");
        if dir.join("Cargo.toml.orig").exists() {
            println!("cargo:rerun-if-changed=Cargo.toml.orig");
        }
        return None;
    }
    for path in SOURCES {
        println!("cargo:rerun-if-changed={path}");
    }
    // HEAD, and the branch it points to (a loose ref or packed-refs), resolved by git itself so
    // that worktrees (HEAD in .git/worktrees/NAME, refs in the common directory) work too; paths
    // inside the checkout come relative to it (`.git/HEAD`). Only existing files: Cargo reruns a
    // build script on every build when a watched path is missing.
    //
    // Shared target directories: the checkout and a packaged copy of it (`cargo package`
    // verifies target/package/goodhart-VERSION in the same target directory) share this
    // script's output, and Cargo reuses it unless a watched path changed or is missing. Each
    // side therefore watches a path the other lacks: a checkout `.git/HEAD` or, in a worktree,
    // the `.git` file; a packaged crate `Cargo.toml.orig`.
    if dot_git.is_file() {
        println!("cargo:rerun-if-changed=.git");
    }
    let mut watched = vec![git(&dir, &["rev-parse", "--git-path", "HEAD"])];
    if let Some(branch) = git(&dir, &["symbolic-ref", "-q", "HEAD"]) {
        watched.push(git(&dir, &["rev-parse", "--git-path", &branch]));
    }
    watched.push(git(&dir, &["rev-parse", "--git-path", "packed-refs"]));
    for path in watched.into_iter().flatten() {
        if dir.join(&path).exists() {
            println!("cargo:rerun-if-changed={path}");
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
