//! Data generators: `law` (curves from known coefficients plus noise, to test that fits recover
//! the truth), `sim` (a small synthetic RLHF world in which overoptimization emerges), and
//! `tokens` (a token-level world, over whose whole RL runs the paper's RL form fits better than
//! the best-of-n form).

pub mod law;
pub mod sim;
pub mod tokens;

use std::path::Path;

use crate::error::{Error, Result};
use crate::output::Sink;

/// Writes a generator's `files` into `dir` (created if missing): each file is opened before any
/// work (so a bad path fails fast), `make` runs the generator and gives its result and each
/// file's bytes (in `files`' order), and the files are put in place only when all are complete.
/// On failure nothing is left: a folder this call created is removed again.
pub(crate) fn write_folder<T>(
    dir: &Path,
    files: &[&str],
    make: impl FnOnce() -> Result<(T, Vec<Vec<u8>>)>,
) -> Result<T> {
    if dir.exists() && !dir.is_dir() {
        return Err(Error::Write {
            path: dir.to_path_buf(),
            source: std::io::Error::other("it exists and is not a folder: --out names a folder"),
        });
    }
    // `dir` and any missing parents; an interrupt before the files are in place removes them too
    let created = crate::output::CreatedDirs::create(dir)?;
    let result = (|| {
        let sinks = files
            .iter()
            .map(|f| Sink::create(&dir.join(f)))
            .collect::<Result<Vec<_>>>()?;
        let (out, bytes) = make()?;
        crate::output::commit_all(
            sinks
                .into_iter()
                .zip(bytes.iter().map(Vec::as_slice))
                .collect(),
        )?;
        Ok(out)
    })();
    if result.is_err() {
        // Leave no trace of a failed run: the folders are empty again (their temporary files
        // are gone).
        created.remove_empty();
    }
    result
}

/// `value` as pretty JSON, an error naming `path` if it cannot be serialised.
pub(crate) fn json_bytes(value: &serde_json::Value, path: &Path) -> Result<Vec<u8>> {
    serde_json::to_vec_pretty(value).map_err(|e| Error::Write {
        path: path.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    })
}
