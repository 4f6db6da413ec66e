//! Every example runs as printed: each `$ ...` line of the README's code blocks and each
//! `goodhart ...` line of the `Example(s):` section of every `--help`, run with `sh -c` (so
//! pipes and `mkdir` work) in a temporary folder holding copies of the repository's `data/`,
//! `fits/` and `tests/data/`, with the `goodhart` under test first on the PATH.
//!
//! README conventions the test understands (put the comment on the line before the block):
//! - `<!-- example-dir: tests/data/adapters/trl_ppo -->`: the block's commands run where that
//!   folder's files are copied into the temporary folder (for examples on a fixture's files);
//! - `<!-- illustrative -->`: the block is not run (keep these rare).
//!
//! A block's commands run in order in one folder (a later command reads what an earlier one
//! wrote); the README's blocks share one folder, in the README's order. Where the README shows
//! output under a command, every shown line except `...` must appear in the command's stdout or
//! stderr (so the key lines are real); a shown `error:` line means the command must fail with
//! exit status 1 or 2, otherwise it must exit 0.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bin_dir() -> PathBuf {
    assert_cmd::cargo::cargo_bin("goodhart")
        .parent()
        .expect("binary folder")
        .to_path_buf()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create folder");
    for e in std::fs::read_dir(from).expect("read folder") {
        let e = e.expect("entry");
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).expect("copy");
        }
    }
}

/// A folder with the demo's data/ and fits/ and the test fixtures tests/data/.
fn workdir() -> tempfile::TempDir {
    let t = tempfile::tempdir().expect("temp dir");
    for d in ["data", "fits", "tests/data"] {
        copy_dir(&repo().join(d), &t.path().join(d));
    }
    t
}

/// One example: the command line, the output shown under it, and the README line.
#[derive(Debug)]
struct Example {
    line: usize,
    command: String,
    shown: Vec<String>,
    dir: Option<String>,
}

/// The `$ ` commands of the README's code blocks, in order, with the blocks marked illustrative
/// left out (returned apart).
fn readme_examples(text: &str) -> (Vec<Example>, Vec<usize>) {
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    let mut in_block = false;
    let mut marker: Option<String> = None;
    let mut block_dir: Option<String> = None;
    let mut block_skip = false;
    // the number of examples before the current block: output lines belong only to a command
    // of their own block
    let mut block_start = 0;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let t = line.trim_end();
        if t.starts_with("```") {
            if in_block {
                in_block = false;
            } else {
                in_block = true;
                block_start = out.len();
                block_skip = marker.as_deref() == Some("illustrative");
                block_dir = marker
                    .as_deref()
                    .and_then(|m| m.strip_prefix("example-dir:"))
                    .map(|d| d.trim().to_string());
                if block_skip {
                    skipped.push(n);
                }
            }
            marker = None;
            continue;
        }
        if !in_block {
            if let Some(m) = t.strip_prefix("<!--").and_then(|m| m.strip_suffix("-->")) {
                marker = Some(m.trim().to_string());
            } else if !t.is_empty() {
                marker = None;
            }
            continue;
        }
        if block_skip {
            continue;
        }
        if let Some(cmd) = t.strip_prefix("$ ") {
            out.push(Example {
                line: n,
                command: cmd.to_string(),
                shown: Vec::new(),
                dir: block_dir.clone(),
            });
        } else if out.len() > block_start
            && let Some(last) = out.last_mut()
            && !t.is_empty()
            && t.trim() != "..."
        {
            last.shown.push(t.to_string());
        }
    }
    (out, skipped)
}

/// Runs one example in `dir`; panics with the README line on a mismatch.
fn run(ex: &Example, dir: &Path, origin: &str) {
    let path = format!(
        "{}:{}",
        bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("sh")
        .arg("-c")
        .arg(&ex.command)
        .current_dir(dir)
        .env("PATH", path)
        // `~` in an example (shell completions) is the temporary folder, never the real home
        .env("HOME", dir)
        .output()
        .expect("run sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stdout
        .lines()
        .chain(stderr.lines())
        .map(str::trim_end)
        .collect();
    let wants_error = ex.shown.iter().any(|l| l.starts_with("error:"));
    let code = out.status.code();
    if wants_error {
        assert!(
            matches!(code, Some(1) | Some(2)),
            "{origin}:{} `{}` should fail (exit 1 or 2), got {code:?}\n{stderr}",
            ex.line,
            ex.command
        );
    } else {
        assert_eq!(
            code,
            Some(0),
            "{origin}:{} `{}` failed\nstderr: {stderr}",
            ex.line,
            ex.command
        );
    }
    assert!(!stderr.contains("panicked"), "{}: panic", ex.command);
    for shown in &ex.shown {
        assert!(
            lines.contains(&shown.as_str()),
            "{origin}:{} `{}`: the shown line\n  {shown}\nis not in the output:\n{stdout}{stderr}",
            ex.line,
            ex.command
        );
    }
}

#[test]
fn readme_examples_run_as_printed() {
    let text = std::fs::read_to_string(repo().join("README.md")).expect("README");
    let (examples, skipped) = readme_examples(&text);
    assert!(
        examples.len() >= 5,
        "found only {} README examples",
        examples.len()
    );
    // illustrative blocks stay rare
    assert!(
        skipped.len() <= 3,
        "illustrative blocks at lines {skipped:?}"
    );
    let main = workdir();
    for ex in &examples {
        match &ex.dir {
            None => run(ex, main.path(), "README.md"),
            Some(d) => {
                let t = tempfile::tempdir().expect("temp dir");
                copy_dir(&repo().join(d), t.path());
                run(ex, t.path(), "README.md");
            }
        }
    }
}

#[test]
fn readme_example_parser_reads_markers_and_output() {
    let text = "intro\n\n```console\n$ goodhart a\nline 1\n...\nline 2\n$ goodhart b\n```\n```\nnot output of b\n```\n<!-- illustrative -->\n```\n$ goodhart c\n```\n<!-- example-dir: tests/data/x -->\n```\n$ goodhart d\nerror: no\n```\n";
    let (ex, skipped) = readme_examples(text);
    let cmds: Vec<&str> = ex.iter().map(|e| e.command.as_str()).collect();
    assert_eq!(cmds, ["goodhart a", "goodhart b", "goodhart d"]);
    assert_eq!(ex[0].shown, ["line 1", "line 2"]);
    assert!(ex[1].shown.is_empty());
    assert_eq!(ex[2].dir.as_deref(), Some("tests/data/x"));
    assert_eq!(ex[2].shown, ["error: no"]);
    assert_eq!(skipped, [14]);
}

/// The `goodhart ...` lines of the `Example(s):` section of a help text.
fn help_examples(help: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut on = false;
    let mut pending = String::new();
    for line in help.lines() {
        if line.starts_with("Example") {
            on = true;
            continue;
        }
        if !on {
            continue;
        }
        let t = line.trim();
        if t.is_empty() {
            break;
        }
        // a continued line (trailing backslash)
        let (part, more) = match t.strip_suffix('\\') {
            Some(p) => (p.trim_end(), true),
            None => (t, false),
        };
        if !pending.is_empty() {
            pending.push(' ');
        }
        pending.push_str(part);
        if !more {
            out.push(std::mem::take(&mut pending));
        }
    }
    out
}

/// Help examples that cannot run here, each with the reason (files a user has: their own
/// logs). Keep this list short; every other example runs.
/// The demo and the simulated world take minutes in a debug build; `tests/it/demo.rs` and
/// `tests/it/sim_cli.rs` run the same commands.
const ILLUSTRATIVE_HELP: &[&str] = &[
    "goodhart demo",
    "goodhart demo --out demo-seed1 --seed 1",
    "goodhart generate sim --out sim",
    "goodhart generate sim --out sim --preset paper --seed 3",
    "goodhart generate sim --out sim --rm-hidden 1,4,16,64 --kl-penalties 0,0.5",
    "goodhart bon sim/bon_samples.parquet --out sim/bon_curves.csv",
    "goodhart fit sim/bon_curves.csv sim/rl_runs.csv --out sim/fits.json",
];

#[test]
fn help_examples_run_as_printed() {
    let top = Command::new(assert_cmd::cargo::cargo_bin("goodhart"))
        .arg("--help")
        .output()
        .expect("help");
    let top = String::from_utf8_lossy(&top.stdout).into_owned();
    // the subcommands listed by the top-level help
    let mut subs: Vec<Vec<String>> = Vec::new();
    let mut on = false;
    for line in top.lines() {
        if line.starts_with("Commands:") {
            on = true;
            continue;
        }
        if on {
            let Some(name) = line.split_whitespace().next() else {
                break;
            };
            if !line.starts_with("  ") {
                break;
            }
            if name != "help" {
                subs.push(vec![name.to_string()]);
            }
        }
    }
    assert!(subs.len() >= 9, "{subs:?}");
    subs.push(vec!["generate".into(), "law".into()]);
    subs.push(vec!["generate".into(), "sim".into()]);
    let mut ran = 0;
    for sub in &subs {
        let help = Command::new(assert_cmd::cargo::cargo_bin("goodhart"))
            .args(sub)
            .arg("--help")
            .output()
            .expect("help");
        let help = String::from_utf8_lossy(&help.stdout).into_owned();
        let dir = workdir();
        for cmd in help_examples(&help) {
            let cmd = cmd.split(" # ").next().unwrap_or(&cmd).trim().to_string();
            if ILLUSTRATIVE_HELP.contains(&cmd.as_str()) {
                continue;
            }
            let ex = Example {
                line: 0,
                command: cmd,
                shown: Vec::new(),
                dir: None,
            };
            run(
                &ex,
                dir.path(),
                &format!("goodhart {} --help", sub.join(" ")),
            );
            ran += 1;
        }
    }
    assert!(ran >= 15, "only {ran} help examples ran");
}
