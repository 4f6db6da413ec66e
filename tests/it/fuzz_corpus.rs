//! Replays the fuzzing corpus (`fuzz/corpus/<target>/`, the inputs cargo-fuzz kept) and the
//! crash reproducers (`fuzz/regressions/<target>/`) through the same entry point the fuzz
//! targets use: none may panic. This runs in seconds in CI; the fuzzing itself is documented in
//! the README.

use std::path::Path;

use goodhart::fuzzing::{FuzzTarget, run};

fn replay(folder: &str) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(folder);
    let mut count = 0;
    for target in FuzzTarget::ALL {
        let dir = root.join(target.name());
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<_> = entries.map(|e| e.expect("entry").path()).collect();
        files.sort();
        for file in files {
            let data = std::fs::read(&file).expect("read corpus file");
            let outcome = std::panic::catch_unwind(|| run(target, &data));
            assert!(
                outcome.is_ok(),
                "{}: panicked on {}",
                target.name(),
                file.display()
            );
            count += 1;
        }
    }
    count
}

#[test]
fn corpus_inputs_never_panic() {
    let n = replay("corpus");
    // Every target has a seed corpus at least.
    assert!(n >= FuzzTarget::ALL.len(), "only {n} corpus files");
}

#[test]
fn every_target_has_a_seed_that_reads() {
    // Fuzzing only goes deep when it starts from inputs that get through the reader.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    for target in FuzzTarget::ALL {
        let dir = root.join(target.name());
        let ok = std::fs::read_dir(&dir)
            .expect("seed corpus folder")
            .filter_map(|e| std::fs::read(e.expect("entry").path()).ok())
            .any(|data| matches!(run(target, &data), Ok(n) if n > 0));
        assert!(ok, "{}: no seed reads into curves", target.name());
    }
}

#[test]
fn crash_reproducers_never_panic() {
    replay("regressions");
}
