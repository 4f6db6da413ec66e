//! CSV: header row, every row as long as the header; comma-separated, or semicolons, tabs or
//! bars when the header has no comma but one of those ([`sniff_delimiter`]).

use std::io::{BufRead, Read};
use std::path::Path;

use super::{ColumnBuilder, ColumnMap, ReadOutput, builders_for, plan_columns};
use crate::error::{Error, Result};
use crate::schema::ColumnSpec;

pub(crate) fn read(path: &Path, schema: &[ColumnSpec], map: &ColumnMap) -> Result<ReadOutput> {
    let file = std::fs::File::open(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let delimiter = sniff_delimiter(path)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .delimiter(delimiter)
        .flexible(false)
        .from_reader(std::io::BufReader::with_capacity(1 << 20, file));
    let raw_header = reader.byte_headers().map_err(|e| csv_error(path, e))?;
    // A header is text: a NUL byte or invalid UTF-8 there means a binary file, not a CSV.
    if raw_header
        .iter()
        .any(|h| h.contains(&0) || std::str::from_utf8(h).is_err())
    {
        return Err(Error::Corrupt {
            path: path.to_path_buf(),
            format: "CSV",
            detail: "the first line is binary data (a NUL byte or invalid UTF-8), not a CSV header"
                .to_string(),
        });
    }
    let header: Vec<String> = raw_header
        .iter()
        .map(|h| {
            String::from_utf8_lossy(h)
                .trim()
                .trim_start_matches('\u{feff}')
                .to_string()
        })
        .collect();
    if header.iter().all(|h| h.is_empty()) {
        return Err(Error::EmptyFile {
            path: path.to_path_buf(),
        });
    }
    let plan = plan_columns(path, &header, schema, map)?;
    let indices: Vec<usize> = plan.taken.iter().map(|(i, _)| *i).collect();
    let start = reader.position().byte();
    if let Some((row, builders)) = read_parallel(path, delimiter, start, &plan, &header, &indices) {
        return Ok((header, row, plan, builders));
    }
    let mut builders: Vec<ColumnBuilder> = builders_for(&plan, &header);
    let mut record = csv::ByteRecord::new();
    let mut row = 0usize;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(csv_error_at(path, e, row + 1)),
        }
        row += 1;
        for (b, &idx) in builders.iter_mut().zip(&indices) {
            let bytes = &record[idx];
            let text = std::str::from_utf8(bytes).map_err(|_| Error::BadValue {
                path: path.to_path_buf(),
                column: b.source.clone(),
                row,
                value: String::from_utf8_lossy(bytes).into_owned(),
                problem: "not valid UTF-8".to_string(),
            })?;
            b.push_text(path, row, text)?;
        }
    }
    Ok((header, row, plan, builders))
}

/// Files at least this large are parsed in parallel ([`read_parallel`]).
const PARALLEL_BYTES: u64 = 8 << 20;

/// Parses the rows after the header (from byte `start`) in as many byte ranges as there are
/// threads, each cut at a line end, and joins the columns in file order. `None` (the caller
/// then parses the file from the start, row by row) when the file is small, when any range
/// holds a quote character (a quoted field may span lines, so a cut at a line end may fall
/// inside it), or when any range fails to parse (the sequential reader gives the message, with
/// the row and line of the first bad row).
fn read_parallel(
    path: &Path,
    delimiter: u8,
    start: u64,
    plan: &super::Plan,
    header: &[String],
    indices: &[usize],
) -> Option<(usize, Vec<ColumnBuilder>)> {
    use rayon::prelude::*;
    use std::io::{Seek, SeekFrom};
    let len = std::fs::metadata(path).ok()?.len();
    let threads = rayon::current_num_threads().min(16) as u64;
    if len < PARALLEL_BYTES || threads < 2 || start >= len {
        return None;
    }
    let cuts = line_cuts(path, start, len, threads)?;
    let parts: Vec<Option<(usize, Vec<ColumnBuilder>)>> = cuts
        .par_windows(2)
        .map(|w| {
            let mut file = std::fs::File::open(path).ok()?;
            file.seek(SeekFrom::Start(w[0])).ok()?;
            let body = QuoteWatch {
                inner: std::io::BufReader::with_capacity(1 << 20, file.take(w[1] - w[0])),
                quote: false,
            };
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .delimiter(delimiter)
                .flexible(false)
                .from_reader(body);
            let mut builders = builders_for(plan, header);
            let mut record = csv::ByteRecord::new();
            let mut row = 0usize;
            while reader.read_byte_record(&mut record).ok()? {
                row += 1;
                if record.len() != header.len() {
                    return None;
                }
                for (b, &idx) in builders.iter_mut().zip(indices) {
                    let text = std::str::from_utf8(&record[idx]).ok()?;
                    b.push_text(path, row, text).ok()?;
                }
            }
            (!reader.get_ref().quote).then_some((row, builders))
        })
        .collect();
    let mut parts = parts.into_iter();
    let (mut rows, mut builders) = parts.next()??;
    for part in parts {
        let (n, more) = part?;
        rows += n;
        for (b, m) in builders.iter_mut().zip(more) {
            b.append(m);
        }
    }
    Some((rows, builders))
}

/// A reader that notes whether a quote character went through it.
pub(crate) struct QuoteWatch<R> {
    pub(crate) inner: R,
    pub(crate) quote: bool,
}

impl<R: Read> Read for QuoteWatch<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if !self.quote && buf[..n].contains(&b'"') {
            self.quote = true;
        }
        Ok(n)
    }
}

/// The field separator of a CSV file, from its first line: a comma, unless the line has no comma
/// (outside quotes) and has semicolons, tabs or bars, then the most frequent of those (the
/// first of `;`, tab, `|` on a tie). Spreadsheets in locales with a decimal comma write
/// semicolon-separated "CSV".
pub fn sniff_delimiter(path: &Path) -> Result<u8> {
    let file = std::fs::File::open(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut line = Vec::new();
    std::io::BufReader::new(file)
        .take(1 << 20)
        .read_until(b'\n', &mut line)
        .map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
    let mut counts = [0usize; 4];
    let candidates = [b',', b';', b'\t', b'|'];
    let mut quoted = false;
    for &b in &line {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(i) = candidates.iter().position(|&c| c == b) {
            counts[i] += 1;
        }
    }
    if counts[0] > 0 {
        return Ok(b',');
    }
    let mut best = 0;
    for i in 1..4 {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    Ok(candidates[best])
}

/// The name of a separator, for messages ("semicolon-separated").
pub fn delimiter_name(d: u8) -> &'static str {
    match d {
        b';' => "semicolon",
        b'\t' => "tab",
        b'|' => "bar",
        _ => "comma",
    }
}

fn csv_error(path: &Path, e: csv::Error) -> Error {
    csv_error_at(path, e, 0)
}

fn csv_error_at(path: &Path, e: csv::Error, row: usize) -> Error {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => Error::Ragged {
            path: path.to_path_buf(),
            row,
            line: pos.as_ref().map(|p| p.line()).unwrap_or(0),
            found: *len as usize,
            expected: *expected_len as usize,
        },
        csv::ErrorKind::Io(io) => Error::Read {
            path: path.to_path_buf(),
            source: std::io::Error::new(io.kind(), io.to_string()),
        },
        _ => Error::Corrupt {
            path: path.to_path_buf(),
            format: "CSV",
            detail: e.to_string(),
        },
    }
}

/// Byte offsets that split a file's body `start..len` into about `threads` parts at line starts:
/// `start`, then the first byte after a newline at or after each even share, then `len`.
pub(crate) fn line_cuts(path: &Path, start: u64, len: u64, threads: u64) -> Option<Vec<u64>> {
    use std::io::{Seek, SeekFrom};
    let mut cuts = vec![start];
    let mut file = std::fs::File::open(path).ok()?;
    for k in 1..threads {
        let at = start + (len - start) * k / threads;
        if at <= *cuts.last()? {
            continue;
        }
        file.seek(SeekFrom::Start(at - 1)).ok()?;
        let mut line = Vec::new();
        std::io::BufReader::new(&mut file)
            .read_until(b'\n', &mut line)
            .ok()?;
        let cut = at - 1 + line.len() as u64;
        if cut < len && cut > *cuts.last()? {
            cuts.push(cut);
        }
    }
    cuts.push(len);
    Some(cuts)
}
