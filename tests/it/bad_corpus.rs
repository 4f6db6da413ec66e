//! The bad-input corpus (`tests/data/bad/`): one file per failure mode, with the command that
//! reads it and the fragments its one error message must contain, listed in `CASES`. Every case
//! must exit 1 with exactly one `error:` line, no panic, nothing on stdout, and no file created,
//! removed or changed.

use crate::common;

use std::path::Path;

use common::{TestDir, assert_input_error};

struct Case {
    file: String,
    args: Vec<String>,
    fragments: Vec<String>,
}

fn corpus() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/bad")
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(corpus().join("CASES")).expect("read tests/data/bad/CASES");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let parts: Vec<&str> = l.split(" | ").collect();
            assert_eq!(
                parts.len(),
                3,
                "CASES line {l:?} needs file | args | fragments"
            );
            let file = parts[0].trim().to_string();
            Case {
                args: parts[1]
                    .split_whitespace()
                    .map(|a| a.replace("{}", &file))
                    .collect(),
                fragments: parts[2].split("; ").map(|f| f.trim().to_string()).collect(),
                file,
            }
        })
        .collect()
}

#[test]
fn every_bad_file_fails_cleanly() {
    let cases = cases();
    assert!(cases.len() >= 40, "the corpus has {} cases", cases.len());
    for case in &cases {
        let t = TestDir::new();
        let bytes = std::fs::read(corpus().join(&case.file)).expect("corpus file");
        t.write(&case.file, &bytes);
        // `@PATH`: a good fixture of tests/data/adapters/ the bad file goes with.
        let args: Vec<String> = case
            .args
            .iter()
            .map(|a| match a.strip_prefix('@') {
                Some(rel) => {
                    let src = corpus().join("../adapters").join(rel);
                    let name = src
                        .file_name()
                        .expect("file name")
                        .to_string_lossy()
                        .into_owned();
                    t.write(&name, std::fs::read(&src).expect("adapter fixture"));
                    name
                }
                None => a.clone(),
            })
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let fragments: Vec<&str> = case.fragments.iter().map(String::as_str).collect();
        println!("{}: goodhart {}", case.file, args.join(" "));
        assert_input_error(&t, &args, &fragments);
    }
}

#[test]
fn every_corpus_file_has_a_case_and_every_case_a_file() {
    let listed: std::collections::BTreeSet<String> = cases().into_iter().map(|c| c.file).collect();
    let present: std::collections::BTreeSet<String> = std::fs::read_dir(corpus())
        .expect("read corpus")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n != "CASES")
        .collect();
    assert_eq!(listed, present);
}
