//! Parquet, through polars: only the needed columns are read, then turned into plain vectors.

use std::path::Path;

use polars::prelude::*;

use super::panic_guard::guarded;
use super::{ColumnBuilder, ColumnData, ColumnMap, Plan, ReadOutput, builders_for, plan_columns};
use crate::error::{Error, Result};
use crate::schema::{ColumnKind, ColumnSpec};

fn corrupt(path: &Path, detail: impl ToString) -> Error {
    Error::Corrupt {
        path: path.to_path_buf(),
        format: "Parquet",
        detail: detail.to_string(),
    }
}

/// The column names of a Parquet file, in file order, from its schema.
fn header_of(path: &Path) -> Result<Vec<String>> {
    schema_of(path, |s| s.iter_names().map(|n| n.to_string()).collect())
}

/// `take` of a Parquet file's schema, as polars reads it from the footer (no check of the
/// footer first: see [`footer_schema`]).
fn schema_of<T>(path: &Path, take: impl FnOnce(&ArrowSchema) -> T) -> Result<T> {
    // polars may panic on some malformed files; a corrupt file must be a message, not a crash.
    guarded(|| -> Result<T> {
        let file = std::fs::File::open(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let s = ParquetReader::new(file)
            .schema()
            .map_err(|e| corrupt(path, e))?;
        Ok(take(&s))
    })
    .map_err(|_| corrupt(path, "the reader failed on this file"))?
}

pub(crate) fn read(path: &Path, schema: &[ColumnSpec], map: &ColumnMap) -> Result<ReadOutput> {
    let open = || {
        std::fs::File::open(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })
    };
    let bytes = map_file(path)?;
    check_footer(path, &bytes)?;
    let header = header_of(path)?;
    check_pages(path, bytes)?;
    let plan = plan_columns(path, &header, schema, map)?;
    let mut builders = builders_for(&plan, &header);
    let wanted: Vec<String> = builders.iter().map(|b| b.source.clone()).collect();
    let read_columns = |columns: Vec<String>| {
        guarded(|| -> Result<DataFrame> {
            ParquetReader::new(open()?)
                .with_columns(Some(columns))
                .finish()
                .map_err(|e| corrupt(path, e))
        })
    };
    let df = match read_columns(wanted.clone()) {
        Ok(df) => df?,
        // Name the column polars failed on: read them one at a time.
        Err(()) => {
            let failed = wanted
                .iter()
                .find(|c| read_columns(vec![c.to_string()]).is_err());
            return Err(corrupt(
                path,
                match failed {
                    Some(c) => format!("the reader failed on column '{c}'"),
                    None => "the reader failed on this file".to_string(),
                },
            ));
        }
    };
    let n_rows = df.height();
    for b in builders.iter_mut() {
        let column = df
            .column(&b.source)
            .map_err(|e| corrupt(path, e))?
            .as_materialized_series()
            .clone();
        fill(path, b, &column)?;
    }
    Ok((header, n_rows, plan, builders))
}

/// The bytes of a Parquet file, mapped rather than copied: the checks of [`check_footer`] and
/// [`check_pages`] read them without allocating the file's size (which, for a file of 10^7
/// scores, costs as much as decoding it).
fn map_file(path: &Path) -> Result<memmap2::Mmap> {
    let file = std::fs::File::open(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    // SAFETY: the map is only read, and dropped before this function's caller returns; polars
    // maps input files the same way. (A file truncated by another process while it is read
    // would fault, as it would under polars.)
    unsafe { memmap2::Mmap::map(&file) }.map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// The columns of a Parquet file as named there, with their types, after the checks that keep
/// polars from aborting on a corrupt file ([`check_footer`], [`check_pages`]). For readers
/// that take typed columns one at a time ([`read_column`]), such as `goodhart bon`'s.
pub(crate) fn checked_schema(path: &Path) -> Result<Vec<(String, DataType)>> {
    let schema = footer_schema(path)?;
    check_file_pages(path)?;
    Ok(schema)
}

/// [`checked_schema`] without the walk over every page header ([`check_file_pages`]), for a
/// reader that checks the pages it decodes itself (`crate::ingest::parquet_pages`) and checks
/// the file's pages only before handing it to polars.
pub(crate) fn footer_schema(path: &Path) -> Result<Vec<(String, DataType)>> {
    let bytes = map_file(path)?;
    check_footer(path, &bytes)?;
    schema_of(path, |s| {
        s.iter()
            .map(|(n, f)| (n.to_string(), DataType::from_arrow_field(f)))
            .collect()
    })
}

/// The page checks of [`checked_schema`] ([`check_pages`]) on a file whose footer was checked.
pub(crate) fn check_file_pages(path: &Path) -> Result<()> {
    check_pages(path, map_file(path)?)
}

/// One column of a Parquet file checked by [`checked_schema`], as polars decodes it (one chunk
/// per row group, no copy into one array); `rows`: only (offset, count) rows of it.
pub(crate) fn read_column(path: &Path, name: &str, rows: Option<(usize, usize)>) -> Result<Series> {
    let df = guarded(|| -> Result<DataFrame> {
        let file = std::fs::File::open(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        ParquetReader::new(file)
            .with_columns(Some(vec![name.to_string()]))
            .with_slice(rows)
            .finish()
            .map_err(|e| corrupt(path, e))
    })
    .map_err(|_| corrupt(path, format!("the reader failed on column '{name}'")))??;
    Ok(df
        .column(name)
        .map_err(|e| corrupt(path, e))?
        .as_materialized_series()
        .clone())
}

fn fill(path: &Path, b: &mut ColumnBuilder, series: &Series) -> Result<()> {
    let dtype = series.dtype().clone();
    if dtype.is_string() {
        let ca = series.str().map_err(|e| corrupt(path, e))?;
        for (i, v) in ca.iter().enumerate() {
            match v {
                Some(text) => b.push_text(path, i + 1, text)?,
                None => b.push_number(None),
            }
        }
        return Ok(());
    }
    if let ColumnData::Label(labels) = &mut b.data
        && dtype == DataType::UInt64
    {
        // unsigned labels exactly, those above i64::MAX too (a cast to Int64 would lose them)
        let ca = series.u64().map_err(|e| corrupt(path, e))?;
        labels.codes.reserve(ca.len());
        for v in ca.iter() {
            match v {
                Some(u) => match i64::try_from(u) {
                    Ok(i) => labels.push_integer(Some(i)),
                    Err(_) => labels.push_text(&u.to_string()),
                },
                None => labels.push_integer(None),
            }
        }
        return Ok(());
    }
    if let ColumnData::Label(labels) = &mut b.data
        && dtype.is_integer()
    {
        // integer labels (prompt ids) exactly, without a detour through f64 or text
        let cast = series
            .cast(&DataType::Int64)
            .map_err(|e| corrupt(path, e))?;
        let ca = cast.i64().map_err(|e| corrupt(path, e))?;
        labels.codes.reserve(ca.len());
        for v in ca.iter() {
            labels.push_integer(v);
        }
        return Ok(());
    }
    let numeric =
        dtype.is_primitive_numeric() || dtype.is_bool() && b.spec.kind == ColumnKind::Text;
    if !numeric && !dtype.is_null() {
        return Err(Error::BadValue {
            path: path.to_path_buf(),
            column: b.source.clone(),
            row: 1,
            value: format!("{dtype}"),
            problem: "the column's type cannot be read as numbers or text".to_string(),
        });
    }
    let cast = series
        .cast(&DataType::Float64)
        .map_err(|e| corrupt(path, e))?;
    let ca = cast.f64().map_err(|e| corrupt(path, e))?;
    if let ColumnData::Number(v) = &mut b.data {
        v.reserve(ca.len());
        v.extend(ca.iter());
    } else {
        for v in ca.iter() {
            b.push_number(v);
        }
    }
    Ok(())
}

/// Checks every column chunk's value count and data page header before polars decodes the
/// pages. polars 0.55 reads a page's value count (an i32 in the file) as usize, so a corrupted
/// negative count makes it reserve about 2^61 bytes, and the failed allocation aborts the
/// process (found by fuzzing, `fuzz/regressions/tidy_parquet/`). And a column chunk that claims
/// fewer values than its row group has rows decodes to a short column (found by mutating
/// samples files, issue #18, `fuzz/regressions/samples_parquet/`). In a flat column a page's
/// count lies in 0..=rows of its row group, and the chunk's count and its pages' counts add up
/// to those rows. (A chunk whose pages decode to fewer values than they claim is caught after
/// decoding, by `ingest::check_equal_lengths`.)
fn check_pages(path: &Path, bytes: memmap2::Mmap) -> Result<()> {
    use polars_parquet::parquet::page::CompressedPage;
    use polars_parquet::parquet::read::{get_page_iterator, read_metadata};
    let max_page_size = bytes.len().max(1);
    let buffer = polars_buffer::Buffer::from_owner(bytes);
    guarded(|| -> Result<()> {
        use rayon::prelude::*;
        let meta = read_metadata(&mut std::io::Cursor::new(buffer.clone()))
            .map_err(|e| corrupt(path, e))?;
        // Only flat columns: with repetition a page holds more values than rows.
        let chunks: Vec<(usize, usize, &_)> = meta
            .row_groups
            .iter()
            .enumerate()
            .flat_map(|(g, group)| {
                let rows = group.num_rows();
                group
                    .parquet_columns()
                    .iter()
                    .filter(|c| c.descriptor().descriptor.max_rep_level == 0)
                    .map(move |c| (g, rows, c))
            })
            .collect();
        // the chunks checked in parallel; the first problem in file order is the one reported
        let checked: Vec<Result<()>> = chunks
            .par_iter()
            .map(|&(g, rows, column)| {
                let name = column.descriptor().path_in_schema.join(".");
                let short = |what: String| {
                    corrupt(
                        path,
                        format!(
                            "column '{name}' in row group {} has {what}, but the row group has {rows} rows",
                            g + 1
                        ),
                    )
                };
                if usize::try_from(column.num_values()) != Ok(rows) {
                    return Err(short(format!("{} values", column.num_values())));
                }
                let mut page_values = 0usize;
                let pages = get_page_iterator(
                    column,
                    std::io::Cursor::new(buffer.clone()),
                    Vec::new(),
                    max_page_size,
                )
                .map_err(|e| corrupt(path, e))?;
                for page in pages {
                    if let CompressedPage::Data(page) = page.map_err(|e| corrupt(path, e))? {
                        if page.num_values() > rows {
                            return Err(corrupt(
                                path,
                                format!(
                                    "a data page of column '{name}' in row group {} claims {} values, but the row group has {rows} rows",
                                    g + 1,
                                    page.num_values() as i64 as i32,
                                ),
                            ));
                        }
                        page_values += page.num_values();
                    }
                }
                if page_values != rows {
                    return Err(short(format!("{page_values} values in its data pages")));
                }
                Ok(())
            })
            .collect();
        checked.into_iter().collect()
    })
    .map_err(|_| corrupt(path, "the reader failed on this file"))?
}

/// Checks the lists of the file metadata (the footer) before polars reads it. polars 0.55
/// reserves room for each list at the length the file declares, before reading any entry, so a
/// corrupted length makes it ask for gigabytes and the failed allocation aborts the process
/// (found by fuzzing `samples_parquet`). The footer is read first by the generated Thrift reader
/// of polars-parquet-format, which counts what its lists would take against a budget: every
/// entry takes at least one byte of the footer, so a valid footer stays far below 16 budget
/// bytes per footer byte. A length polars would read is refused when it is over the budget, or
/// longer than a list length can be (polars keeps the low 32 bits of any varint). Other
/// problems of the footer are left to polars, which reports them.
fn check_footer(path: &Path, bytes: &[u8]) -> Result<()> {
    use polars_parquet_format::FileMetaData;
    use polars_parquet_format::thrift::protocol::TCompactInputProtocol;
    use polars_parquet_format::thrift::{
        Error as ThriftError, ProtocolErrorKind, TransportErrorKind,
    };
    let n = bytes.len();
    if n < 12 || &bytes[n - 4..] != b"PAR1" {
        return Ok(());
    }
    let declared = u32::from_le_bytes([bytes[n - 8], bytes[n - 7], bytes[n - 6], bytes[n - 5]]);
    let Some(start) = (n - 8).checked_sub(declared as usize) else {
        return Ok(());
    };
    let footer = &bytes[start..n - 8];
    let budget = 16 * footer.len() + 4096;
    match FileMetaData::read_from_in_protocol(&mut TCompactInputProtocol::new(footer, budget)) {
        Err(ThriftError::Protocol(e))
            if matches!(
                e.kind,
                ProtocolErrorKind::SizeLimit | ProtocolErrorKind::NegativeSize
            ) =>
        {
            Err(corrupt(
                path,
                format!(
                    "its metadata declares more entries than its {} bytes can hold",
                    footer.len()
                ),
            ))
        }
        // Reading from memory, the only transport error other than the end of the footer is a
        // varint longer than its type allows.
        Err(ThriftError::Transport(e)) if e.kind != TransportErrorKind::EndOfFile => Err(corrupt(
            path,
            format!("its metadata holds a malformed number ({})", e.message),
        )),
        _ => Ok(()),
    }
}

/// The header, row count and column plan of a Parquet table, from its footer alone: no column
/// is decoded (`goodhart inspect` of a large Samples table).
pub(crate) fn layout(
    path: &Path,
    schema: &[ColumnSpec],
    map: &ColumnMap,
) -> Result<(Vec<String>, usize, Plan)> {
    let bytes = map_file(path)?;
    check_footer(path, &bytes)?;
    let header = header_of(path)?;
    let batches = RowBatches::open(path)?;
    let plan = plan_columns(path, &header, schema, map)?;
    Ok((header, batches.row_groups.iter().sum(), plan))
}

/// A Parquet file checked by [`checked_schema`], read a few columns of a range of rows at a time
/// (its metadata parsed once): for readers that stream a large file in batches of row groups,
/// such as `goodhart bon`'s for rows grouped by prompt.
pub(crate) struct RowBatches {
    path: std::path::PathBuf,
    metadata: std::sync::Arc<polars::io::parquet::read::FileMetadata>,
    /// rows of each row group, in file order
    pub(crate) row_groups: Vec<usize>,
}

impl RowBatches {
    pub(crate) fn open(path: &Path) -> Result<RowBatches> {
        let metadata = guarded(|| -> Result<_> {
            let file = std::fs::File::open(path).map_err(|source| Error::Read {
                path: path.to_path_buf(),
                source,
            })?;
            ParquetReader::new(file)
                .get_metadata()
                .cloned()
                .map_err(|e| corrupt(path, e))
        })
        .map_err(|_| corrupt(path, "the reader failed on this file"))??;
        let row_groups = metadata.row_groups.iter().map(|g| g.num_rows()).collect();
        Ok(RowBatches {
            path: path.to_path_buf(),
            metadata,
            row_groups,
        })
    }

    /// The columns `names` of the rows (offset, count), as polars decodes them.
    pub(crate) fn read(&self, names: &[&str], rows: (usize, usize)) -> Result<DataFrame> {
        let path = &self.path;
        guarded(|| -> Result<DataFrame> {
            let file = std::fs::File::open(path).map_err(|source| Error::Read {
                path: path.to_path_buf(),
                source,
            })?;
            let mut reader = ParquetReader::new(file);
            reader.set_metadata(self.metadata.clone());
            // the columns decoded side by side (polars would split by row groups, and a batch
            // is often one row group)
            reader
                .with_columns(Some(names.iter().map(|n| n.to_string()).collect()))
                .read_parallel(polars::io::parquet::read::ParallelStrategy::Columns)
                .with_slice(Some(rows))
                .finish()
                .map_err(|e| corrupt(path, e))
        })
        .map_err(|_| corrupt(path, format!("the reader failed on columns {names:?}")))?
    }
}
