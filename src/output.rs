//! Writing outputs safely: files are created early (a bad path fails before any work), written
//! to a temporary file beside the destination, and renamed into place only when complete.

use std::io::Write;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use tempfile::NamedTempFile;

use crate::error::{Error, Result};
use crate::ingest::Format;
use crate::schema::fmt_num;

/// Where an output goes: a file written atomically, or stdout (`-`).
#[derive(Debug)]
pub enum Sink {
    Stdout,
    File { path: PathBuf, tmp: NamedTempFile },
}

impl Sink {
    /// Opens the destination now: a missing folder, a directory or an unwritable place fails
    /// here, before any analysis.
    pub fn create(spec: &Path) -> Result<Sink> {
        if spec.as_os_str() == "-" {
            return Ok(Sink::Stdout);
        }
        let path = spec.to_path_buf();
        let write_err = |source| Error::Write {
            path: path.clone(),
            source,
        };
        if path.is_dir() {
            return Err(write_err(std::io::Error::other("is a directory")));
        }
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !parent.is_dir() {
            return Err(write_err(std::io::Error::other(format!(
                "folder {} does not exist",
                parent.display()
            ))));
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".tmp")
            .tempfile_in(&parent)
            .map_err(write_err)?;
        Ok(Sink::File { path, tmp })
    }

    pub fn path(&self) -> Option<&Path> {
        match self {
            Sink::Stdout => None,
            Sink::File { path, .. } => Some(path),
        }
    }

    /// Writes all of `bytes` and puts the file in place.
    pub fn commit(self, bytes: &[u8]) -> Result<()> {
        match self {
            Sink::Stdout => write_stdout(bytes),
            Sink::File { path, mut tmp } => {
                let werr = |source| Error::Write {
                    path: path.clone(),
                    source,
                };
                tmp.write_all(bytes).map_err(werr)?;
                tmp.flush().map_err(werr)?;
                tmp.persist(&path).map_err(|e| werr(e.error))?;
                Ok(())
            }
        }
    }
}

/// Writes to stdout; a reader that went away (`| head`) is not an error.
pub fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Write {
            path: PathBuf::from("-"),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// Writes `bytes` to `path` atomically (temp file, then rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    Sink::create(path)?.commit(bytes)
}

/// A column of an output table.
#[derive(Debug, Clone)]
pub enum OutColumn {
    Number(Vec<Option<f64>>),
    Integer(Vec<Option<i64>>),
    Text(Vec<Option<String>>),
}

impl OutColumn {
    fn len(&self) -> usize {
        match self {
            OutColumn::Number(v) => v.len(),
            OutColumn::Integer(v) => v.len(),
            OutColumn::Text(v) => v.len(),
        }
    }
}

/// A table to write as CSV, NDJSON or Parquet (by the output path's extension).
#[derive(Debug, Clone, Default)]
pub struct OutTable {
    pub columns: Vec<(String, OutColumn)>,
}

impl OutTable {
    pub fn push(&mut self, name: &str, column: OutColumn) {
        self.columns.push((name.to_string(), column));
    }

    pub fn n_rows(&self) -> usize {
        self.columns.first().map_or(0, |(_, c)| c.len())
    }

    /// The table in the format implied by `path` (`-` and unknown extensions: CSV).
    pub fn to_bytes_for(&self, path: &Path) -> Result<Vec<u8>> {
        let format = if path.as_os_str() == "-" {
            Format::Csv
        } else {
            Format::from_path(path)?
        };
        self.to_bytes(format, path)
    }

    pub fn to_bytes(&self, format: Format, path: &Path) -> Result<Vec<u8>> {
        match format {
            Format::Csv => self.to_csv(path),
            Format::Ndjson => Ok(self.to_ndjson()),
            Format::Parquet => self.to_parquet(path),
        }
    }

    fn cell(&self, col: &OutColumn, i: usize) -> String {
        match col {
            OutColumn::Number(v) => v[i].map(fmt_num).unwrap_or_default(),
            OutColumn::Integer(v) => v[i].map(|x| x.to_string()).unwrap_or_default(),
            OutColumn::Text(v) => v[i].clone().unwrap_or_default(),
        }
    }

    fn to_csv(&self, path: &Path) -> Result<Vec<u8>> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let err = |e: csv::Error| Error::Write {
            path: path.to_path_buf(),
            source: std::io::Error::other(e.to_string()),
        };
        w.write_record(self.columns.iter().map(|(n, _)| n.as_str()))
            .map_err(err)?;
        let mut record = Vec::with_capacity(self.columns.len());
        for i in 0..self.n_rows() {
            record.clear();
            record.extend(self.columns.iter().map(|(_, c)| self.cell(c, i)));
            w.write_record(&record).map_err(err)?;
        }
        w.into_inner().map_err(|e| Error::Write {
            path: path.to_path_buf(),
            source: std::io::Error::other(e.to_string()),
        })
    }

    fn to_ndjson(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for i in 0..self.n_rows() {
            let mut obj = serde_json::Map::new();
            for (name, col) in &self.columns {
                let v = match col {
                    OutColumn::Number(v) => v[i].map_or(serde_json::Value::Null, |x| x.into()),
                    OutColumn::Integer(v) => v[i].map_or(serde_json::Value::Null, |x| x.into()),
                    OutColumn::Text(v) => {
                        v[i].clone().map_or(serde_json::Value::Null, |x| x.into())
                    }
                };
                obj.insert(name.clone(), v);
            }
            // A map of plain values always serialises.
            out.extend(serde_json::to_vec(&obj).expect("JSON values serialise"));
            out.push(b'\n');
        }
        out
    }

    fn to_parquet(&self, path: &Path) -> Result<Vec<u8>> {
        let err = |e: PolarsError| Error::Write {
            path: path.to_path_buf(),
            source: std::io::Error::other(e.to_string()),
        };
        let cols: Vec<Column> = self
            .columns
            .iter()
            .map(|(name, c)| {
                let name = PlSmallStr::from(name.as_str());
                match c {
                    OutColumn::Number(v) => Column::new(name, v.as_slice()),
                    OutColumn::Integer(v) => Column::new(name, v.as_slice()),
                    OutColumn::Text(v) => Column::new(name, v.as_slice()),
                }
            })
            .collect();
        let mut df = DataFrame::new(self.n_rows(), cols).map_err(err)?;
        let mut buf = Vec::new();
        ParquetWriter::new(&mut buf).finish(&mut df).map_err(err)?;
        Ok(buf)
    }
}
