//! Where a report's numbers come from: the input files (size and content hash), the goodhart
//! version, the command and the seed, so a reader can tell which data a figure shows.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// One input file of a report.
#[derive(Debug, Clone)]
pub struct InputFile {
    /// What it is: `curves`, `samples`, `fits`, `scaling`.
    pub role: &'static str,
    /// The name shown in the report (as given on the command line, or relative to the demo's
    /// folder).
    pub label: String,
    pub bytes: u64,
    /// FNV-1a 64-bit hash of the content, hex (a fingerprint to tell files apart, not a
    /// cryptographic hash).
    pub fnv1a64: String,
}

impl InputFile {
    /// Reads `path` to measure and hash it.
    pub fn read(role: &'static str, label: String, path: &Path) -> Result<InputFile> {
        let bytes = std::fs::read(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(InputFile {
            role,
            label,
            bytes: bytes.len() as u64,
            fnv1a64: format!("{:016x}", fnv1a64(&bytes)),
        })
    }
}

/// The 64-bit FNV-1a hash.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Everything the provenance section shows.
#[derive(Debug, Clone)]
pub struct Provenance {
    pub version: &'static str,
    /// The command that made the report (`goodhart report ...`, `goodhart demo --seed 0`).
    pub command: String,
    pub seed: Option<u64>,
    pub inputs: Vec<InputFile>,
    /// What was computed for the report rather than read (e.g. "fits: computed in-process").
    pub computed: Vec<String>,
}

impl Provenance {
    /// Provenance for files given as (role, path) pairs, labelled as given.
    pub fn for_paths(
        command: String,
        seed: Option<u64>,
        files: &[(&'static str, PathBuf)],
    ) -> Result<Provenance> {
        let inputs = files
            .iter()
            .map(|(role, p)| InputFile::read(role, p.display().to_string(), p))
            .collect::<Result<Vec<_>>>()?;
        Ok(Provenance {
            version: crate::export::VERSION,
            command,
            seed,
            inputs,
            computed: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fnv1a64_known_values() {
        assert_eq!(super::fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(super::fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
