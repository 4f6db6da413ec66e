//! A DOUBLE or INT64 column of a Parquet file decoded one page at a time into one reused buffer, for a
//! reader that consumes each page at once (`goodhart bon` on rows grouped by prompt, which
//! pours each page into its pools). Decoding a batch of row groups through polars allocates
//! fresh column and page buffers every time, and a fresh page costs a fault and the kernel's
//! zeroing before its first write, more than the decoding itself on a 10^7-sample file; a
//! page-sized buffer that is reused stays in the core's cache (issue 16).
//!
//! Only the plain layouts are taken: a flat DOUBLE or INT64 column, PLAIN or dictionary encoded,
//! compressed with any codec polars-parquet decodes, with no missing value. Anything else
//! answers `None`, and the caller reads the file with polars (which reports what is wrong with
//! it, if anything). The pages are polars-parquet's (`get_page_iterator`, `decompress`,
//! `split_buffer`, the RLE/bit-packed hybrid decoder); only the copy of the values is done
//! here.

use std::path::Path;

use polars_buffer::Buffer;
use polars_parquet::parquet::CowBuffer;
use polars_parquet::parquet::compression::{Compression, DecompressionContext};
use polars_parquet::parquet::encoding::Encoding;
use polars_parquet::parquet::encoding::hybrid_rle::{HybridRleChunk, HybridRleDecoder};
use polars_parquet::parquet::metadata::Descriptor;
use polars_parquet::parquet::metadata::FileMetadata;
use polars_parquet::parquet::page::{
    CompressedDataPage, CompressedPage, DataPage, DataPageHeader, Page, split_buffer,
};
use polars_parquet::parquet::read::{PageReader, decompress, get_page_iterator, read_metadata};
use polars_parquet::parquet::schema::types::{
    IntegerType, PhysicalType, PrimitiveConvertedType, PrimitiveLogicalType, PrimitiveType,
};

use super::panic_guard::guarded;
use crate::schema::Method;

/// A value type read from its Parquet physical type: 8 bytes little-endian (`f64`, `i64`), or a
/// length-prefixed UTF-8 label (a [`Method`]).
pub(crate) trait PlainValue: Copy + PartialEq {
    const PHYSICAL: PhysicalType;
    /// Whether a column of this physical type holds these values (by its logical type).
    fn accepts(_column: &PrimitiveType) -> bool {
        true
    }
    /// Appends the first `n` PLAIN-encoded values of `bytes` to `out`; `None` when `bytes` does
    /// not hold `n` values of this type.
    fn extend_plain(out: &mut Vec<Self>, bytes: &[u8], n: usize) -> Option<()>;
    /// The first `n` PLAIN-encoded values of `bytes`, each given to `each`.
    fn each_plain(bytes: &[u8], n: usize, each: impl FnMut(Self)) -> Option<()>;
}

/// The first `n` 8-byte values of `bytes`.
fn eight_bytes(bytes: &[u8], n: usize) -> Option<std::slice::ChunksExact<'_, u8>> {
    Some(bytes.get(..n.checked_mul(8)?)?.chunks_exact(8))
}

fn le8(bytes: &[u8]) -> [u8; 8] {
    bytes.try_into().unwrap_or_default()
}

/// [`PlainValue`] for a type read from 8 little-endian bytes (of columns `$accepts` takes, by
/// default any of the physical type).
macro_rules! eight_byte_value {
    ($t:ty, $physical:expr, $from:expr) => {
        eight_byte_value!($t, $physical, $from, |_: &PrimitiveType| true);
    };
    ($t:ty, $physical:expr, $from:expr, $accepts:expr) => {
        impl PlainValue for $t {
            const PHYSICAL: PhysicalType = $physical;
            fn accepts(column: &PrimitiveType) -> bool {
                $accepts(column)
            }
            fn extend_plain(out: &mut Vec<$t>, bytes: &[u8], n: usize) -> Option<()> {
                out.extend(eight_bytes(bytes, n)?.map(|b| $from(le8(b))));
                Some(())
            }
            fn each_plain(bytes: &[u8], n: usize, each: impl FnMut($t)) -> Option<()> {
                eight_bytes(bytes, n)?.map(|b| $from(le8(b))).for_each(each);
                Some(())
            }
        }
    };
}

eight_byte_value!(f64, PhysicalType::Double, f64::from_le_bytes);
eight_byte_value!(i64, PhysicalType::Int64, i64::from_le_bytes, |c| !unsigned(
    c
));

/// Whether an INT64 column holds unsigned integers (UInt64): read as `i64`, those above
/// `i64::MAX` would wrap to negative numbers.
fn unsigned(column: &PrimitiveType) -> bool {
    matches!(
        column.logical_type,
        Some(PrimitiveLogicalType::Integer(IntegerType::UInt64))
    ) || matches!(column.converted_type, Some(PrimitiveConvertedType::Uint64))
}

/// A DOUBLE value as its bits: runs of these are runs of the same bits, as
/// [`crate::schema::CurveKey`] compares its values (`total_cmp`: 0 and -0 differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct F64Bits(pub(crate) u64);

eight_byte_value!(F64Bits, PhysicalType::Double, |b| F64Bits(
    u64::from_le_bytes(b)
));

/// A `method` label of a string column (BYTE_ARRAY with the String logical type, or the UTF8
/// converted type), as [`Method::parse`] reads its text; a label it does not read is refused.
impl PlainValue for Method {
    const PHYSICAL: PhysicalType = PhysicalType::ByteArray;
    fn accepts(column: &PrimitiveType) -> bool {
        matches!(column.logical_type, Some(PrimitiveLogicalType::String))
            || matches!(column.converted_type, Some(PrimitiveConvertedType::Utf8))
    }
    fn extend_plain(out: &mut Vec<Method>, bytes: &[u8], n: usize) -> Option<()> {
        out.reserve(n);
        Method::each_plain(bytes, n, |m| out.push(m))
    }
    fn each_plain(bytes: &[u8], n: usize, mut each: impl FnMut(Method)) -> Option<()> {
        let mut rest = bytes;
        for _ in 0..n {
            let (len, tail) = rest.split_first_chunk::<4>()?;
            let len = u32::from_le_bytes(*len) as usize;
            let text = tail.get(..len)?;
            each(Method::parse(std::str::from_utf8(text).ok()?)?);
            rest = &tail[len..];
        }
        Some(())
    }
}

/// Where a page's values go: one at a time, or `len` copies of one value (a run of a
/// dictionary index).
pub(crate) trait ValueSink<T> {
    fn clear(&mut self);
    fn len(&self) -> usize;
    fn push(&mut self, v: T);
    fn repeat(&mut self, v: T, len: usize);
    /// `n` PLAIN values.
    fn plain(&mut self, bytes: &[u8], n: usize) -> Option<()>
    where
        T: PlainValue,
    {
        T::each_plain(bytes, n, |v| self.push(v))
    }
}

impl<T: Copy> ValueSink<T> for Vec<T> {
    fn clear(&mut self) {
        Vec::clear(self)
    }
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn push(&mut self, v: T) {
        Vec::push(self, v)
    }
    fn repeat(&mut self, v: T, len: usize) {
        self.extend(std::iter::repeat_n(v, len))
    }
    fn plain(&mut self, bytes: &[u8], n: usize) -> Option<()>
    where
        T: PlainValue,
    {
        T::extend_plain(self, bytes, n)
    }
}

/// Runs of equal values: (value, length), neighbours always different.
#[derive(Default)]
pub(crate) struct ValueRuns<T> {
    pub(crate) runs: Vec<(T, usize)>,
    total: usize,
}

impl<T: Copy + PartialEq> ValueSink<T> for ValueRuns<T> {
    fn clear(&mut self) {
        self.runs.clear();
        self.total = 0;
    }
    fn len(&self) -> usize {
        self.total
    }
    fn push(&mut self, v: T) {
        self.repeat(v, 1)
    }
    fn repeat(&mut self, v: T, len: usize) {
        if len == 0 {
            return;
        }
        self.total += len;
        match self.runs.last_mut() {
            Some((last, n)) if *last == v => *n += len,
            _ => self.runs.push((v, len)),
        }
    }
}

/// A Parquet file mapped once, its footer parsed once.
pub(crate) struct ColumnPages {
    map: std::sync::Arc<memmap2::Mmap>,
    bytes: Buffer<u8>,
    metadata: FileMetadata,
}

/// The mapping shared by [`ColumnPages`] and its pages.
struct SharedMap(std::sync::Arc<memmap2::Mmap>);

impl AsRef<[u8]> for SharedMap {
    fn as_ref(&self) -> &[u8] {
        &self.0[..]
    }
}

/// The buffers a page decoder reuses from page to page and from column chunk to column chunk.
pub(crate) struct PageScratch<T> {
    page: Vec<u8>,
    dictionary: Vec<T>,
    indices: Vec<u32>,
    levels: Vec<u32>,
    context: Option<DecompressionContext>,
    /// the values of the last page decoded by [`ColumnChunkPages::next_page`]
    pub(crate) values: Vec<T>,
    /// the runs of the last page decoded by [`ColumnChunkPages::next_page_runs`]
    pub(crate) runs: ValueRuns<T>,
}

/// What a page decoder keeps to decompress pages: the buffer the pages are decompressed into
/// and the codec's state (zstd's holds its window, about a megabyte). Handed from one column
/// chunk's decoder to the next ([`PageScratch::with_codec`], [`PageScratch::into_codec`]), it
/// is fresh memory once instead of once a chunk.
#[derive(Default)]
pub(crate) struct PageCodec {
    page: Vec<u8>,
    context: Option<DecompressionContext>,
}

impl<T> PageScratch<T> {
    /// Scratch buffers that decompress pages with `codec`.
    pub(crate) fn with_codec(codec: PageCodec) -> PageScratch<T> {
        PageScratch {
            page: codec.page,
            context: codec.context,
            ..PageScratch::default()
        }
    }

    /// The page buffer and the codec's state, for another decoder.
    pub(crate) fn into_codec(self) -> PageCodec {
        PageCodec {
            page: self.page,
            context: self.context,
        }
    }
}

impl<T> Default for PageScratch<T> {
    fn default() -> Self {
        PageScratch {
            page: Vec::new(),
            dictionary: Vec::new(),
            indices: Vec::new(),
            levels: Vec::new(),
            context: None,
            values: Vec::new(),
            runs: ValueRuns {
                runs: Vec::new(),
                total: 0,
            },
        }
    }
}

/// The pages of one column chunk (one column of one row group), decoded one at a time into
/// [`PageScratch::values`].
pub(crate) struct ColumnChunkPages<'a, T> {
    pages: PageReader,
    descriptor: Descriptor,
    optional: bool,
    uncompressed: bool,
    /// values not yet decoded (the chunk's rows minus the pages decoded)
    left: usize,
    context: DecompressionContext,
    pub(crate) scratch: &'a mut PageScratch<T>,
}

impl ColumnPages {
    /// Maps `path` and reads its footer; `None` when either fails (the caller's reader reports
    /// it).
    pub(crate) fn open(path: &Path) -> Option<ColumnPages> {
        let file = std::fs::File::open(path).ok()?;
        // SAFETY: as polars does for the files it reads: the mapping is read only, and a file
        // changed while it is read gives wrong values or an error, not a crash of this reader.
        let map = std::sync::Arc::new(unsafe { memmap2::Mmap::map(&file) }.ok()?);
        let bytes = Buffer::from_owner(SharedMap(map.clone()));
        let metadata =
            guarded(|| read_metadata(&mut std::io::Cursor::new(bytes.clone())).ok()).ok()??;
        Some(ColumnPages {
            map,
            bytes,
            metadata,
        })
    }

    /// Maps the pages of column `name` in row group `group` into memory at once, where the
    /// system can (`MADV_POPULATE_READ`), instead of one page fault per few pages as they are
    /// read: far fewer faults, each costly in a virtual machine. Nothing happens elsewhere, or
    /// when the column is not found.
    pub(crate) fn populate(&self, name: &str, group: usize) {
        #[cfg(target_os = "linux")]
        if let Some(meta) = self.metadata.row_groups.get(group) {
            for c in meta.parquet_columns() {
                if c.descriptor().path_in_schema.len() == 1
                    && c.descriptor().path_in_schema[0].as_str() == name
                {
                    let range = c.byte_range();
                    let (start, end) = (range.start as usize, range.end as usize);
                    if start < end && end <= self.map.len() {
                        // a hint: a kernel without it (before Linux 5.14) faults as usual
                        let _ = self.map.advise_range(
                            memmap2::Advice::PopulateRead,
                            start,
                            end - start,
                        );
                    }
                }
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = (name, group);
    }

    /// The names of the file's top-level columns, in order.
    pub(crate) fn column_names(&self) -> Vec<String> {
        self.metadata
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().to_string())
            .collect()
    }

    /// Column `name` of row group `group` as runs of equal values, in row order; `None` as
    /// [`Self::pages`] and [`ColumnChunkPages::next_page`] answer it.
    pub(crate) fn chunk_runs<T: PlainValue>(
        &self,
        name: &str,
        group: usize,
        scratch: &mut PageScratch<T>,
    ) -> Option<Vec<(T, usize)>> {
        self.populate(name, group);
        let mut pages = self.pages::<T>(name, group, scratch)?;
        let mut out = ValueRuns {
            runs: Vec::new(),
            total: 0,
        };
        while pages.next_page_runs()? {
            for &(v, len) in &pages.scratch.runs.runs {
                out.repeat(v, len);
            }
        }
        Some(out.runs)
    }

    /// Rows of each row group, in file order.
    pub(crate) fn row_groups(&self) -> Vec<usize> {
        self.metadata
            .row_groups
            .iter()
            .map(|g| g.num_rows())
            .collect()
    }

    /// The pages of column `name` in row group `group`; `None` when the column is missing,
    /// repeated, not flat or not of `T`'s physical type.
    pub(crate) fn pages<'a, T: PlainValue>(
        &self,
        name: &str,
        group: usize,
        scratch: &'a mut PageScratch<T>,
    ) -> Option<ColumnChunkPages<'a, T>> {
        let meta = self.metadata.row_groups.get(group)?;
        let mut matching = meta
            .parquet_columns()
            .iter()
            .filter(|c| c.descriptor().path_in_schema.len() == 1)
            .filter(|c| c.descriptor().path_in_schema[0].as_str() == name);
        let column = matching.next()?;
        if matching.next().is_some() {
            return None;
        }
        let descriptor = &column.descriptor().descriptor;
        if descriptor.primitive_type.physical_type != T::PHYSICAL
            || !T::accepts(&descriptor.primitive_type)
            || descriptor.max_rep_level != 0
            || descriptor.max_def_level > 1
        {
            return None;
        }
        let pages = guarded(|| {
            get_page_iterator(
                column,
                std::io::Cursor::new(self.bytes.clone()),
                Vec::new(),
                self.bytes.len().max(1),
            )
            .ok()
        })
        .ok()??;
        scratch.dictionary.clear();
        scratch.values.clear();
        let context = scratch
            .context
            .take()
            .unwrap_or(DecompressionContext::Unset);
        Some(ColumnChunkPages {
            pages,
            descriptor: descriptor.clone(),
            optional: descriptor.max_def_level == 1,
            uncompressed: column.compression() == Compression::Uncompressed,
            left: meta.num_rows(),
            context,
            scratch,
        })
    }
}

impl<T: PlainValue> ColumnChunkPages<'_, T> {
    /// Decodes the next data page into `scratch.values` (dictionary pages are read on the way):
    /// `Some(true)` when a page was decoded, `Some(false)` once every page was and they held
    /// exactly the row group's rows, `None` on anything this reader does not take (a missing
    /// value, another encoding, a page that does not decode, more or fewer values than rows).
    pub(crate) fn next_page(&mut self) -> Option<bool> {
        let mut values = std::mem::take(&mut self.scratch.values);
        let page = self.next_page_to(&mut values);
        self.scratch.values = values;
        page
    }

    /// [`Self::next_page`] into `scratch.runs` (runs of equal values) instead of
    /// `scratch.values`: a run of a dictionary index is never written out value by value.
    pub(crate) fn next_page_runs(&mut self) -> Option<bool> {
        let mut runs = std::mem::replace(
            &mut self.scratch.runs,
            ValueRuns {
                runs: Vec::new(),
                total: 0,
            },
        );
        let page = self.next_page_to(&mut runs);
        self.scratch.runs = runs;
        page
    }

    /// [`Self::next_page`] into `sink` (cleared first), which sees the page's values as they
    /// are decoded, without a buffer of them.
    pub(crate) fn next_page_to(&mut self, sink: &mut impl ValueSink<T>) -> Option<bool> {
        guarded(|| self.next_page_into(sink)).ok()?
    }

    fn next_page_into(&mut self, out: &mut impl ValueSink<T>) -> Option<bool> {
        out.clear();
        loop {
            let Some(page) = self.pages.next() else {
                return (self.left == 0).then_some(false);
            };
            let page = match page.ok()? {
                CompressedPage::Data(data)
                    if data.compression() == Compression::Zstd
                        && matches!(data.header(), DataPageHeader::V1(_)) =>
                {
                    Page::Data(self.zstd_page(data)?)
                }
                page => decompress(page, &mut self.scratch.page, &mut self.context).ok()?,
            };
            match page {
                Page::Dict(mut dict) => {
                    self.scratch.dictionary.clear();
                    T::extend_plain(&mut self.scratch.dictionary, &dict.buffer, dict.num_values)?;
                    if !self.uncompressed {
                        self.scratch.page = std::mem::take(dict.buffer.to_mut());
                    }
                }
                Page::Data(mut data) => {
                    let n = data.num_values();
                    if n > self.left {
                        return None;
                    }
                    self.left -= n;
                    let PageScratch {
                        dictionary,
                        indices,
                        levels,
                        ..
                    } = &mut *self.scratch;
                    let parts = PageParts {
                        dictionary,
                        indices,
                        levels,
                    };
                    decode_page(&data, self.optional, parts, out)?;
                    if !self.uncompressed {
                        self.scratch.page = std::mem::take(data.buffer_mut());
                    }
                    if n > 0 {
                        return Some(true);
                    }
                }
            }
        }
    }
}

impl<T> ColumnChunkPages<'_, T> {
    /// A zstd-compressed data page (v1: levels and values compressed together) decompressed in
    /// one call into the page buffer, as polars-parquet's `decompress` gives it (which streams
    /// it through zstd's window: a copy more); `None` when the frame is not exactly the page's
    /// size.
    fn zstd_page(&mut self, mut data: CompressedDataPage) -> Option<DataPage> {
        let size = data.uncompressed_size();
        let context = match &mut self.context {
            DecompressionContext::Zstd(c) => c,
            other => {
                *other = DecompressionContext::Zstd(zstd_safe::DCtx::create());
                let DecompressionContext::Zstd(c) = other else {
                    return None;
                };
                c
            }
        };
        let buffer = &mut self.scratch.page;
        buffer.clear();
        buffer.reserve(size);
        let written = context.decompress(buffer, data.slice_mut()).ok()?;
        if written != size || buffer.len() != size {
            return None;
        }
        Some(DataPage::new(
            data.header().clone(),
            CowBuffer::Owned(std::mem::take(buffer)),
            self.descriptor.clone(),
            data.num_values(),
        ))
    }
}

impl<T> Drop for ColumnChunkPages<'_, T> {
    fn drop(&mut self) {
        // the codec's state is kept for the next chunk
        self.scratch.context = Some(std::mem::replace(
            &mut self.context,
            DecompressionContext::Unset,
        ));
    }
}

/// The scratch buffers a data page is decoded with.
struct PageParts<'a, T> {
    dictionary: &'a [T],
    indices: &'a mut Vec<u32>,
    levels: &'a mut Vec<u32>,
}

/// Decodes one data page's values into `out`: every definition level 1 (no missing value),
/// then the PLAIN values or the dictionary indices.
fn decode_page<T: PlainValue>(
    page: &DataPage,
    optional: bool,
    scratch: PageParts<'_, T>,
    out: &mut impl ValueSink<T>,
) -> Option<()> {
    let n = page.num_values();
    let split = split_buffer(page).ok()?;
    if optional {
        if page.definition_level_encoding() != Encoding::Rle {
            return None;
        }
        let mut levels = HybridRleDecoder::new(split.def, 1, n);
        let mut seen = 0;
        while let Some(chunk) = levels.next_chunk().ok()? {
            match chunk {
                HybridRleChunk::Rle(1, len) => seen += len,
                HybridRleChunk::Rle(..) => return None,
                HybridRleChunk::Bitpacked(bits) => {
                    scratch.levels.clear();
                    bits.collect_into(scratch.levels);
                    if scratch.levels.iter().any(|&l| l != 1) {
                        return None;
                    }
                    seen += scratch.levels.len();
                }
            }
        }
        if seen != n {
            return None;
        }
    }
    let values = split.values;
    match page.encoding() {
        Encoding::Plain => {
            out.plain(values, n)?;
        }
        Encoding::PlainDictionary | Encoding::RleDictionary => {
            let (&width, indices) = values.split_first()?;
            if width > 32 {
                return None;
            }
            let dictionary = scratch.dictionary;
            let mut decoder = HybridRleDecoder::new(indices, width as u32, n);
            while let Some(chunk) = decoder.next_chunk().ok()? {
                match chunk {
                    HybridRleChunk::Rle(i, len) => {
                        let v = *dictionary.get(i as usize)?;
                        out.repeat(v, len);
                    }
                    HybridRleChunk::Bitpacked(bits) => {
                        scratch.indices.clear();
                        bits.collect_into(scratch.indices);
                        for &i in scratch.indices.iter() {
                            out.push(*dictionary.get(i as usize)?);
                        }
                    }
                }
            }
        }
        _ => return None,
    }
    (out.len() == n).then_some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::*;

    /// A column as polars reads it (the reference), every cell present.
    fn by_polars(path: &Path, name: &str) -> Series {
        let df = ParquetReader::new(std::fs::File::open(path).unwrap())
            .finish()
            .unwrap();
        df.column(name).unwrap().as_materialized_series().clone()
    }

    fn doubles(path: &Path, name: &str) -> Vec<f64> {
        by_polars(path, name)
            .f64()
            .unwrap()
            .into_no_null_iter()
            .collect()
    }

    fn integers(path: &Path, name: &str) -> Vec<i64> {
        by_polars(path, name)
            .i64()
            .unwrap()
            .into_no_null_iter()
            .collect()
    }

    /// A column decoded page by page, row group after row group: (values, values from runs).
    fn by_pages<T: PlainValue>(file: &ColumnPages, name: &str) -> Option<(Vec<T>, Vec<T>)> {
        let (mut values, mut from_runs) = (Vec::new(), Vec::new());
        let mut scratch = PageScratch::<T>::default();
        for g in 0..file.row_groups().len() {
            {
                let mut pages = file.pages::<T>(name, g, &mut scratch)?;
                while pages.next_page()? {
                    values.extend_from_slice(&pages.scratch.values);
                }
            }
            let mut pages = file.pages::<T>(name, g, &mut scratch)?;
            while pages.next_page_runs()? {
                let runs = &pages.scratch.runs.runs;
                // neighbouring runs differ, and no run is empty
                assert!(runs.windows(2).all(|w| w[0].0 != w[1].0));
                assert!(runs.iter().all(|r| r.1 > 0));
                for &(v, len) in runs {
                    from_runs.extend(std::iter::repeat_n(v, len));
                }
            }
        }
        Some((values, from_runs))
    }

    fn bits(v: &[f64]) -> Vec<u64> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    /// tests/data/samples_dictionary.parquet was written by pyarrow 26 (optional columns, so
    /// every page has definition levels; 3 row groups of at most 1,100 rows, 2 KB data pages, a
    /// 4 KB dictionary page limit, snappy):
    ///
    /// ```text
    /// rng = np.random.default_rng(3); n = 3000
    /// prompt = np.repeat(np.arange(30, dtype=np.int64), 100)
    /// gold = np.round(rng.standard_normal(n), 3)      # few values: dictionary pages
    /// proxy = gold + rng.standard_normal(n)           # dictionary, then PLAIN past the limit
    /// pq.write_table(pa.table({"prompt": prompt, "proxy": proxy, "gold": gold}), path,
    ///     row_group_size=1100, data_page_size=2048, dictionary_pagesize_limit=4096,
    ///     compression="snappy")
    /// ```
    #[test]
    fn dictionary_and_plain_pages_with_levels_decode_as_polars_reads_them() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/samples_dictionary.parquet");
        let file = ColumnPages::open(&path).unwrap();
        assert_eq!(file.row_groups(), vec![1100, 1100, 800]);
        for name in ["proxy", "gold"] {
            let (values, from_runs) = by_pages::<f64>(&file, name).unwrap();
            let expected = bits(&doubles(&path, name));
            assert_eq!(bits(&values), expected, "{name}");
            assert_eq!(bits(&from_runs), expected, "{name}");
        }
        let (values, from_runs) = by_pages::<i64>(&file, "prompt").unwrap();
        assert_eq!(values, integers(&path, "prompt"));
        assert_eq!(from_runs, values);
        // one run per prompt, split only where a row group or page ends
        let mut scratch = PageScratch::<i64>::default();
        let mut pages = file.pages::<i64>("prompt", 0, &mut scratch).unwrap();
        assert!(pages.next_page_runs().unwrap());
        assert!(pages.scratch.runs.runs.len() <= 12);
    }

    fn write(path: &Path, df: &mut DataFrame, compression: ParquetCompression) {
        ParquetWriter::new(std::fs::File::create(path).unwrap())
            .with_compression(compression)
            .with_row_group_size(Some(700))
            .with_data_page_size(Some(1024))
            .finish(df)
            .unwrap();
    }

    /// Columns written by polars (required columns, no levels) with each codec it writes, in
    /// row groups of several small pages, read back value for value.
    #[test]
    fn each_codec_and_small_pages_decode_as_polars_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.parquet");
        let n = 2500;
        let proxy: Vec<f64> = (0..n)
            .map(|i| ((i * 7919) % 1013) as f64 / 7.0 - 50.0)
            .collect();
        let prompt: Vec<i64> = (0..n).map(|i| (i / 9) as i64 - 100).collect();
        for compression in [
            ParquetCompression::Uncompressed,
            ParquetCompression::Snappy,
            ParquetCompression::Zstd(None),
            ParquetCompression::Lz4Raw,
        ] {
            let mut df = DataFrame::new(
                n,
                vec![
                    Column::new("proxy".into(), proxy.clone()),
                    Column::new("prompt".into(), prompt.clone()),
                ],
            )
            .unwrap();
            write(&path, &mut df, compression);
            let file = ColumnPages::open(&path).unwrap();
            assert!(file.row_groups().len() >= 3, "{compression:?}");
            let (values, from_runs) = by_pages::<f64>(&file, "proxy").unwrap();
            assert_eq!(bits(&values), bits(&proxy), "{compression:?}");
            assert_eq!(bits(&from_runs), bits(&proxy), "{compression:?}");
            let (values, from_runs) = by_pages::<i64>(&file, "prompt").unwrap();
            assert_eq!(values, prompt, "{compression:?}");
            assert_eq!(from_runs, prompt, "{compression:?}");
        }
    }

    /// A missing value, another physical type and a missing column are refused (the caller
    /// then reads the file through polars, which says what is wrong).
    #[test]
    fn a_missing_value_another_type_or_column_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.parquet");
        let n = 2500;
        let with_null: Vec<Option<f64>> =
            (0..n).map(|i| (i != n - 50).then_some(i as f64)).collect();
        let single: Vec<f32> = (0..n).map(|i| i as f32).collect();
        let mut df = DataFrame::new(
            n,
            vec![
                Column::new("null".into(), with_null),
                Column::new("single".into(), single),
            ],
        )
        .unwrap();
        write(&path, &mut df, ParquetCompression::Snappy);
        let file = ColumnPages::open(&path).unwrap();
        assert!(file.row_groups().len() >= 2);
        // the last group holds the missing value and fails; the first group has none
        assert!(by_pages::<f64>(&file, "null").is_none());
        let mut scratch = PageScratch::<f64>::default();
        {
            let mut first = file.pages::<f64>("null", 0, &mut scratch).unwrap();
            while first.next_page().unwrap() {}
        }
        assert!(file.pages::<f64>("single", 0, &mut scratch).is_none());
        assert!(
            file.pages::<i64>("null", 0, &mut PageScratch::default())
                .is_none()
        );
        assert!(file.pages::<f64>("absent", 0, &mut scratch).is_none());
    }
}
