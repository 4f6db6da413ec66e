//! The layering of ARCHITECTURE.md holds: no import cycle between the files of `src/`, and no
//! module below the application layer knows the command line or prints.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("src/ is readable")
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The module path of a file: `src/fit/mod.rs` -> `fit`, `src/fit/record.rs` -> `fit::record`,
/// `src/lib.rs` -> `` (the crate root), `src/main.rs` -> `<main>`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).expect("file under src/");
    let mut parts: Vec<String> = rel
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    match parts.as_slice() {
        [one] if one == "lib" => Vec::new(),
        [one] if one == "main" => vec!["<main>".to_string()],
        _ => parts,
    }
}

/// The source without `//` comments (doc comments included) and string literals' contents, so
/// that prose naming a module is not an import.
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut in_str = false;
        let mut prev = ' ';
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            if !in_str && c == '/' && chars.peek() == Some(&'/') {
                break;
            }
            if c == '"' && prev != '\\' {
                in_str = !in_str;
                out.push(c);
            } else if !in_str {
                out.push(c);
            }
            prev = c;
        }
        out.push('\n');
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The paths that follow `prefix` (`crate::` or `super::`) in the code: `a::b::C`, and each
/// member of a `prefix{a::b, c}` group.
fn paths_after(code: &str, prefix: &str) -> Vec<(usize, Vec<String>)> {
    let mut out = Vec::new();
    let mut start = 0;
    while let Some(i) = code[start..].find(prefix) {
        let at = start + i;
        start = at + prefix.len();
        if at > 0 && code[..at].chars().next_back().is_some_and(is_ident) {
            continue;
        }
        // count repeated `super::`
        let mut supers = 1;
        let mut rest = &code[at + prefix.len()..];
        if prefix == "super::" {
            while let Some(r) = rest.strip_prefix("super::") {
                supers += 1;
                rest = r;
            }
        }
        let read_path = |s: &str| -> Vec<String> {
            s.split("::")
                .map(|seg| {
                    seg.trim()
                        .chars()
                        .take_while(|c| is_ident(*c))
                        .collect::<String>()
                })
                .take_while(|seg| !seg.is_empty())
                .collect()
        };
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                out.push((supers, read_path(item.trim())));
            }
        } else {
            let end = rest
                .find(|c: char| !(is_ident(c) || c == ':'))
                .unwrap_or(rest.len());
            out.push((supers, read_path(&rest[..end])));
        }
    }
    out
}

struct Graph {
    files: BTreeMap<Vec<String>, PathBuf>,
    edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
}

fn graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    rust_files(&src, &mut paths);
    let files: BTreeMap<Vec<String>, PathBuf> = paths
        .iter()
        .map(|p| (module_of(&src, p), p.clone()))
        .collect();
    // The longest prefix of a path that is a file's module.
    let resolve = |path: &[String]| -> Option<Vec<String>> {
        (1..=path.len())
            .rev()
            .map(|k| path[..k].to_vec())
            .find(|m| files.contains_key(m))
    };
    let mut edges = BTreeMap::new();
    for (module, file) in &files {
        let code = code_only(&std::fs::read_to_string(file).expect("source is readable"));
        let mut targets = BTreeSet::new();
        for (_, path) in paths_after(&code, "crate::") {
            if let Some(t) = resolve(&path) {
                targets.insert(t);
            }
        }
        for (n, path) in paths_after(&code, "super::") {
            // `super` of `fit::record` (fit/record.rs) is `fit`; of `fit` (fit/mod.rs) the root.
            let base = &module[..module.len().saturating_sub(n)];
            let full: Vec<String> = base.iter().cloned().chain(path).collect();
            if let Some(t) = resolve(&full) {
                targets.insert(t);
            }
        }
        targets.remove(module);
        edges.insert(module.clone(), targets);
    }
    Graph { files, edges }
}

/// Strongly connected components with more than one file (Tarjan).
fn cycles(g: &Graph) -> Vec<Vec<String>> {
    struct State<'a> {
        g: &'a Graph,
        index: BTreeMap<&'a Vec<String>, usize>,
        low: BTreeMap<&'a Vec<String>, usize>,
        stack: Vec<&'a Vec<String>>,
        on: BTreeSet<&'a Vec<String>>,
        next: usize,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a Vec<String>) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on.insert(v);
        for w in &s.g.edges[v] {
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lw);
            } else if s.on.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on.remove(w);
                comp.push(w.join("::"));
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                s.found.push(comp);
            }
        }
    }
    let mut s = State {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        found: Vec::new(),
    };
    for v in g.edges.keys() {
        if !s.index.contains_key(v) {
            visit(&mut s, v);
        }
    }
    s.found
}

#[test]
fn no_import_cycle_between_files_of_src() {
    let g = graph();
    assert!(g.files.len() > 40, "found only {} files", g.files.len());
    assert!(
        g.edges.values().map(BTreeSet::len).sum::<usize>() > 100,
        "the import graph looks empty: the parser is broken"
    );
    let found = cycles(&g);
    assert!(
        found.is_empty(),
        "import cycles between files of src/: {found:?}"
    );
}

#[test]
fn the_cycle_check_finds_a_planted_cycle() {
    let m = |s: &str| vec![s.to_string()];
    let mut edges = BTreeMap::new();
    edges.insert(m("a"), BTreeSet::from([m("b")]));
    edges.insert(m("b"), BTreeSet::from([m("c")]));
    edges.insert(m("c"), BTreeSet::from([m("a")]));
    edges.insert(m("d"), BTreeSet::from([m("a")]));
    let g = Graph {
        files: BTreeMap::new(),
        edges,
    };
    assert_eq!(
        cycles(&g),
        vec![vec!["a".to_string(), "b".into(), "c".into()]]
    );
}

#[test]
fn the_path_parser_reads_imports() {
    // fit/mod.rs says `mod record;` and uses `record::x`; record.rs uses `super::CurveFit`.
    let code = "use super::CurveFit;\nlet x = crate::fit::record::message(f); // crate::app\n";
    let paths = paths_after(&code_only(code), "crate::");
    assert_eq!(
        paths,
        vec![(1, vec!["fit".into(), "record".into(), "message".into()])]
    );
    let sup = paths_after(code, "super::");
    assert_eq!(sup, vec![(1, vec!["CurveFit".to_string()])]);
    let group = paths_after("use crate::{a::B, c};", "crate::");
    assert_eq!(
        group,
        vec![(1, vec!["a".into(), "B".into()]), (1, vec!["c".into()])]
    );
}

#[test]
fn only_the_application_layer_knows_the_command_line_or_prints() {
    let g = graph();
    let mut offenders = Vec::new();
    for (module, file) in &g.files {
        if module.first().is_some_and(|m| m == "app" || m == "<main>") {
            continue;
        }
        let code = code_only(&std::fs::read_to_string(file).expect("readable"));
        for needle in [
            "cli::",
            "app::",
            "commands::",
            "println!",
            "eprintln!",
            "indicatif",
        ] {
            if code.contains(needle) {
                offenders.push(format!("{}: {needle}", file.display()));
            }
        }
    }
    assert!(offenders.is_empty(), "{offenders:#?}");
}
