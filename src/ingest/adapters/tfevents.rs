//! TensorBoard event files (`events.out.tfevents.*`), read directly: what TRL, and most
//! trainers, write with `report_to="tensorboard"`.
//!
//! # Layout
//! An event file is a TFRecord file: records of `u64` length (little-endian), masked CRC-32C
//! of those 8 bytes, the data, masked CRC-32C of the data. Each record's data is a
//! `tensorflow.Event` protobuf: `wall_time`, `step`, and a `summary` whose values have a `tag`
//! and either a `simple_value` (TF1 style, what PyTorch's and tensorboardX's `add_scalar`
//! write) or a `tensor` holding one float or double (TF2 style, `tf.summary.scalar`, with
//! plugin `scalars` in the metadata of the tag's first value). Every other value (histograms,
//! images, text, the file-version and graph records) is skipped, and a tag that is not used
//! never fails a read.
//!
//! # Runs
//! As in TensorBoard's `--logdir`: the inputs (directories searched recursively, or event
//! files) share a root, the nearest folder that holds them all; each folder holding event
//! files is one run, named by its path relative to the root (`rm125m`, `seed1/rm350m`). The
//! events at the root itself are a run without a name (TensorBoard's `.`), like a single-run
//! log of another format.
//!
//! # Several files of one run (restarts)
//! All event files of a run are read (in name order, which is time order for TensorBoard's
//! names) and merged by step. When a (tag, step) has more than one value, the one with the
//! later `wall_time` wins (ties: the later file, then the later record): a run restarted from
//! a checkpoint rewrites the steps after the checkpoint, and its values replace those of the
//! run that stopped. (TensorBoard keeps both values, and its CSV export lists the step twice;
//! the export reader, [`super::tensorboard`], keeps the later one too, so both give one table.)
//! The number of values replaced by a different one is noted.
//!
//! # Bad input
//! A truncated record, a length or data CRC that does not match, or data that is not an
//! `Event` protobuf is an error naming the file, the record (from 0) and its byte offset; a
//! folder without event files, or event files without any scalar, is an error naming the
//! path.
//!
//! # Crates
//! The TFRecord framing is a dozen lines over `crc32c` (CRC-32C with hardware support, no
//! dependencies); the protobuf is decoded by `prost` with hand-written `#[derive(Message)]`
//! structs for only the fields read here (no build script, no `protoc`). The `tfrecord` crate
//! reads event files too, but it compiles TensorFlow's whole protobuf tree, pulls in an older
//! `prost`, `hostname`, `num`, `itertools` and more, and has a single maintainer with no
//! release since 2023: more weight and risk than the few fields goodhart needs.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use prost::Message;

use super::{LogPoint, LogRecords};
use crate::error::{Error, Result};
use crate::format::fmt_num;
use crate::ingest::LogFormat;

/// The prefix of every TensorBoard event file name.
pub const EVENT_FILE_PREFIX: &str = "events.out.tfevents.";

/// The name the format takes in messages.
const FORMAT: &str = "TensorBoard event";

/// The step key of the points (the same as the CSV export's column).
const STEP: &str = "Step";

/// `tensorflow.Event`: only the fields read.
#[derive(Clone, PartialEq, Message)]
struct Event {
    #[prost(double, tag = "1")]
    wall_time: f64,
    #[prost(int64, tag = "2")]
    step: i64,
    #[prost(message, optional, tag = "5")]
    summary: Option<Summary>,
}

/// `tensorflow.Summary`.
#[derive(Clone, PartialEq, Message)]
struct Summary {
    #[prost(message, repeated, tag = "1")]
    value: Vec<SummaryValue>,
}

/// `tensorflow.Summary.Value`: a tag with a scalar (`simple_value`) or a tensor.
#[derive(Clone, PartialEq, Message)]
struct SummaryValue {
    #[prost(string, tag = "1")]
    tag: String,
    #[prost(float, optional, tag = "2")]
    simple_value: Option<f32>,
    #[prost(message, optional, tag = "8")]
    tensor: Option<TensorProto>,
    #[prost(message, optional, tag = "9")]
    metadata: Option<SummaryMetadata>,
}

/// `tensorflow.SummaryMetadata`.
#[derive(Clone, PartialEq, Message)]
struct SummaryMetadata {
    #[prost(message, optional, tag = "1")]
    plugin_data: Option<PluginData>,
    /// `DATA_CLASS_SCALAR` is 1.
    #[prost(int32, tag = "4")]
    data_class: i32,
}

/// `tensorflow.SummaryMetadata.PluginData`.
#[derive(Clone, PartialEq, Message)]
struct PluginData {
    #[prost(string, tag = "1")]
    plugin_name: String,
}

/// `tensorflow.TensorProto`: dtype, shape and the float/double payloads.
#[derive(Clone, PartialEq, Message)]
struct TensorProto {
    /// `DT_FLOAT` is 1, `DT_DOUBLE` 2.
    #[prost(int32, tag = "1")]
    dtype: i32,
    #[prost(message, optional, tag = "2")]
    tensor_shape: Option<TensorShape>,
    #[prost(bytes = "vec", tag = "4")]
    tensor_content: Vec<u8>,
    #[prost(float, repeated, tag = "5")]
    float_val: Vec<f32>,
    #[prost(double, repeated, tag = "6")]
    double_val: Vec<f64>,
}

/// `tensorflow.TensorShapeProto`.
#[derive(Clone, PartialEq, Message)]
struct TensorShape {
    #[prost(message, repeated, tag = "2")]
    dim: Vec<Dim>,
}

/// `tensorflow.TensorShapeProto.Dim`.
#[derive(Clone, PartialEq, Message)]
struct Dim {
    #[prost(int64, tag = "1")]
    size: i64,
}

const DT_FLOAT: i32 = 1;
const DT_DOUBLE: i32 = 2;
const DATA_CLASS_SCALAR: i32 = 1;

/// True when a file name is an event file's (`events.out.tfevents.*`).
pub fn is_event_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with(EVENT_FILE_PREFIX) && n.len() > EVENT_FILE_PREFIX.len())
}

/// True when a file starts with a TFRecord header: 8 bytes of length and their masked
/// CRC-32C (one chance in 2^32 for other bytes).
pub fn has_record_header(path: &Path) -> Result<bool> {
    let read_err = |source| Error::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let mut header = Vec::with_capacity(12);
    file.take(12).read_to_end(&mut header).map_err(read_err)?;
    Ok(header.len() == 12
        && masked_crc(&header[..8]) == u32::from_le_bytes(header[8..].try_into().expect("4 bytes")))
}

/// True when an input is read as event files: a folder, or a file named or framed as one.
pub fn is_event_input(path: &Path) -> Result<bool> {
    Ok(path.is_dir() || is_event_file(path) || has_record_header(path)?)
}

/// TFRecord's masked CRC-32C.
fn masked_crc(bytes: &[u8]) -> u32 {
    let crc = crc32c::crc32c(bytes);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// The records of one TFRecord file, in order: each record's data, or an error naming the
/// record and its byte offset.
fn read_records(
    path: &Path,
    mut on_record: impl FnMut(usize, u64, &[u8]) -> Result<()>,
) -> Result<()> {
    let read_err = |source| Error::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let size = file.metadata().map_err(read_err)?.len();
    if size == 0 {
        return Err(Error::EmptyFile {
            path: path.to_path_buf(),
        });
    }
    let mut reader = BufReader::new(file);
    let corrupt = |index: usize, offset: u64, detail: String| Error::Corrupt {
        path: path.to_path_buf(),
        format: FORMAT,
        detail: format!("record {index} at byte {offset}: {detail}"),
    };
    let mut offset = 0u64;
    let mut data = Vec::new();
    for index in 0.. {
        if offset == size {
            break;
        }
        let left = size - offset;
        if left < 12 {
            return Err(corrupt(
                index,
                offset,
                format!("truncated: the file ends {left} byte(s) into the 12-byte record header"),
            ));
        }
        let mut header = [0u8; 12];
        reader.read_exact(&mut header).map_err(read_err)?;
        let len_bytes: [u8; 8] = header[..8].try_into().expect("8 bytes");
        let len_crc = u32::from_le_bytes(header[8..].try_into().expect("4 bytes"));
        if masked_crc(&len_bytes) != len_crc {
            return Err(corrupt(
                index,
                offset,
                "the CRC of the record's length does not match (not an event file, or corrupt)"
                    .to_string(),
            ));
        }
        let len = u64::from_le_bytes(len_bytes);
        let after_header = left - 12;
        if len.saturating_add(4) > after_header {
            return Err(corrupt(
                index,
                offset,
                format!(
                    "truncated: the record has {len} byte(s) of data and a 4-byte CRC, but the file has {after_header} byte(s) left"
                ),
            ));
        }
        let len = usize::try_from(len)
            .map_err(|_| corrupt(index, offset, "record too long".to_string()))?;
        data.resize(len, 0);
        reader.read_exact(&mut data).map_err(read_err)?;
        let mut crc = [0u8; 4];
        reader.read_exact(&mut crc).map_err(read_err)?;
        if masked_crc(&data) != u32::from_le_bytes(crc) {
            return Err(corrupt(
                index,
                offset,
                format!("the CRC of the record's {len} byte(s) of data does not match (corrupt)"),
            ));
        }
        on_record(index, offset, &data)?;
        offset += 12 + len as u64 + 4;
    }
    Ok(())
}

/// A scalar tensor's value: one float or double (shape `[]` or all dimensions 1).
fn tensor_scalar(t: &TensorProto) -> Option<f64> {
    let dims = t.tensor_shape.as_ref().map_or(&[][..], |s| &s.dim[..]);
    if dims.iter().any(|d| d.size != 1) {
        return None;
    }
    match t.dtype {
        DT_FLOAT => match (t.float_val.as_slice(), t.tensor_content.as_slice()) {
            ([x], _) => Some(f64::from(*x)),
            ([], b) if b.len() == 4 => Some(f64::from(f32::from_le_bytes(
                b.try_into().expect("4 bytes"),
            ))),
            _ => None,
        },
        DT_DOUBLE => match (t.double_val.as_slice(), t.tensor_content.as_slice()) {
            ([x], _) => Some(*x),
            ([], b) if b.len() == 8 => Some(f64::from_le_bytes(b.try_into().expect("8 bytes"))),
            _ => None,
        },
        _ => None,
    }
}

/// One logged scalar of a (run, tag) series, with what orders rewrites of its step.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stamped {
    /// Seconds since the epoch (NaN when not known: it then orders before any known time).
    pub wall_time: f64,
    /// The input file's index and the record's (or row's) index in it: ties of wall time.
    pub file: usize,
    pub record: usize,
    pub step: f64,
    pub value: f64,
}

/// The points of (run, step) from per-(run, tag) series, sorted by run then step, each with
/// `step_key` and its tags' values. A (run, tag, step) logged more than once keeps the value
/// with the later wall time (ties: the later file, then the later record); the second number
/// is how many values were replaced by a different one.
pub(crate) fn merge_series(
    series: BTreeMap<(Option<String>, String), Vec<Stamped>>,
    step_key: &str,
) -> (Vec<LogPoint>, usize) {
    let wall = |s: &Stamped| {
        if s.wall_time.is_nan() {
            f64::NEG_INFINITY
        } else {
            s.wall_time
        }
    };
    let mut replaced = 0usize;
    let mut points: HashMap<(Option<String>, u64), LogPoint> = HashMap::new();
    for ((run, tag), mut values) in series {
        values.sort_by(|a, b| {
            wall(a)
                .total_cmp(&wall(b))
                .then(a.file.cmp(&b.file))
                .then(a.record.cmp(&b.record))
        });
        let mut by_step: HashMap<u64, f64> = HashMap::new();
        for s in &values {
            if by_step
                .insert(s.step.to_bits(), s.value)
                .is_some_and(|old| old.to_bits() != s.value.to_bits())
            {
                replaced += 1;
            }
        }
        for (bits, value) in by_step {
            let step = f64::from_bits(bits);
            points
                .entry((run.clone(), bits))
                .or_insert_with(|| LogPoint {
                    run: run.clone(),
                    values: HashMap::from([(step_key.to_string(), step)]),
                    at: format!("step {}", fmt_num(step)),
                })
                .values
                .insert(tag.clone(), value);
        }
    }
    let mut points: Vec<LogPoint> = points.into_values().collect();
    let step_of = |p: &LogPoint| p.values.get(step_key).copied().unwrap_or(0.0);
    points.sort_by(|a, b| a.run.cmp(&b.run).then(step_of(a).total_cmp(&step_of(b))));
    (points, replaced)
}

/// The note on values replaced by a rewrite of their step, if any.
pub(crate) fn replaced_note(replaced: usize) -> Option<String> {
    (replaced > 0).then(|| format!(
        "{replaced} value(s) were logged again at a step they already had, with another value (a restarted run): the one with the later wall time is used"
    ))
}

/// The event files of the inputs with the run each belongs to.
pub struct EventFiles {
    /// The folder the run names are relative to.
    pub root: PathBuf,
    /// Each event file and its run (`None` for the root's own files), sorted by run then name.
    pub files: Vec<(PathBuf, Option<String>)>,
}

/// Finds the event files of the inputs (folders searched recursively, or event files) and
/// names their runs (see the module docs). A folder without event files is an error.
pub fn find_event_files(inputs: &[PathBuf]) -> Result<EventFiles> {
    let mut files: Vec<PathBuf> = Vec::new();
    let mut dirs: Vec<PathBuf> = Vec::new();
    for input in inputs {
        let meta = std::fs::metadata(input).map_err(|source| Error::Read {
            path: input.clone(),
            source,
        })?;
        if meta.is_dir() {
            let before = files.len();
            walk(input, &mut files, &mut HashSet::new())?;
            if files.len() == before {
                return Err(Error::NoEvents {
                    path: input.clone(),
                    detail: format!(
                        "no TensorBoard event files ({EVENT_FILE_PREFIX}*) in this folder or its subfolders"
                    ),
                });
            }
            dirs.push(input.clone());
        } else {
            files.push(input.clone());
            dirs.push(input.parent().map(Path::to_path_buf).unwrap_or_default());
        }
    }
    let root = common_ancestor(&dirs);
    let mut named: Vec<(PathBuf, Option<String>)> = files
        .into_iter()
        .map(|f| {
            let parent = f.parent().map(Path::to_path_buf).unwrap_or_default();
            let run = parent
                .strip_prefix(&root)
                .ok()
                .filter(|r| !r.as_os_str().is_empty())
                .map(|r| {
                    r.components()
                        .map(|c| c.as_os_str().to_string_lossy().into_owned())
                        .collect::<Vec<_>>()
                        .join("/")
                });
            (f, run)
        })
        .collect();
    named.sort_by(|a, b| {
        a.1.cmp(&b.1)
            .then_with(|| a.0.file_name().cmp(&b.0.file_name()))
    });
    named.dedup_by(|a, b| a.0 == b.0);
    Ok(EventFiles { root, files: named })
}

/// Adds the event files under `dir` (recursively, following links to folders, each folder
/// once so that a link loop ends), in name order.
fn walk(dir: &Path, out: &mut Vec<PathBuf>, seen: &mut HashSet<PathBuf>) -> Result<()> {
    let read_err = |source| Error::Read {
        path: dir.to_path_buf(),
        source,
    };
    if !seen.insert(std::fs::canonicalize(dir).map_err(read_err)?) {
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(read_err)?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .map_err(read_err)?;
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out, seen)?;
        } else if is_event_file(&p) {
            out.push(p);
        }
    }
    Ok(())
}

/// The deepest folder that holds every one of `dirs`.
fn common_ancestor(dirs: &[PathBuf]) -> PathBuf {
    let Some(first) = dirs.first() else {
        return PathBuf::new();
    };
    let mut root = first.clone();
    for d in &dirs[1..] {
        while !d.starts_with(&root) {
            if !root.pop() {
                return PathBuf::new();
            }
        }
    }
    root
}

/// Reads the scalars of TensorBoard event files (folders or files, see the module docs) into
/// points of (run, step), with `Step` and one key per tag.
pub fn read(inputs: &[PathBuf]) -> Result<LogRecords> {
    let found = find_event_files(inputs)?;
    let paths: Vec<PathBuf> = found.files.iter().map(|(p, _)| p.clone()).collect();
    let mut records = LogRecords::new(inputs.to_vec(), LogFormat::Tensorboard);
    records.see(STEP);
    records.run_source = Some(format!(
        "the folders of the event files, relative to {}",
        if found.root.as_os_str().is_empty() {
            ".".to_string()
        } else {
            found.root.display().to_string()
        }
    ));
    // The scalars of each (run, tag), in file and record order.
    let mut series: BTreeMap<(Option<String>, String), Vec<Stamped>> = BTreeMap::new();
    // Tags of each run that are scalars by their metadata (TF2 tensors carry it once).
    let mut scalar_tags: HashMap<(Option<String>, String), bool> = HashMap::new();
    let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
    for (file, (path, run)) in found.files.iter().enumerate() {
        read_records(path, |index, offset, data| {
            let event = Event::decode(data).map_err(|e| Error::Corrupt {
                path: path.clone(),
                format: FORMAT,
                detail: format!(
                    "record {index} at byte {offset}: not a tensorflow.Event protobuf ({e})"
                ),
            })?;
            let Some(summary) = event.summary else {
                return Ok(());
            };
            for v in summary.value {
                let key = (run.clone(), v.tag.clone());
                if let Some(m) = &v.metadata {
                    let scalar = m.data_class == DATA_CLASS_SCALAR
                        || m.plugin_data
                            .as_ref()
                            .is_some_and(|p| p.plugin_name == "scalars");
                    scalar_tags.entry(key.clone()).or_insert(scalar);
                }
                let value = match (v.simple_value, &v.tensor) {
                    (Some(x), _) => Some(f64::from(x)),
                    (None, Some(t)) if scalar_tags.get(&key).copied().unwrap_or(false) => {
                        tensor_scalar(t)
                    }
                    _ => None,
                };
                match value {
                    Some(value) => series.entry(key).or_default().push(Stamped {
                        wall_time: event.wall_time,
                        file,
                        record: index,
                        step: event.step as f64,
                        value,
                    }),
                    None => *skipped.entry(v.tag).or_default() += 1,
                }
            }
            Ok(())
        })?;
    }
    if series.is_empty() {
        let detail = match paths.as_slice() {
            [one] if inputs.len() == 1 && inputs[0] == *one => {
                "the event file holds no scalar value (only other records: file version, graphs, histograms, ...)".to_string()
            }
            _ => format!(
                "no scalar value in its event files ({})",
                paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        return Err(Error::NoEvents {
            path: inputs.first().cloned().unwrap_or_default(),
            detail,
        });
    }
    for (_, tag) in series.keys() {
        records.see(tag);
    }
    let skipped: Vec<String> = skipped
        .into_iter()
        .filter(|(tag, _)| !records.keys.contains(tag))
        .map(|(tag, n)| format!("{tag} ({n})"))
        .collect();
    if !skipped.is_empty() {
        records.ignored.push(format!(
            "values that are not scalars (histograms, images, text, ...): {}",
            skipped.join(", ")
        ));
    }
    records.ignored.push(
        "wall_time: not needed (points are joined on the step; it orders rewritten steps)"
            .to_string(),
    );
    let (points, replaced) = merge_series(series, STEP);
    records.notes.extend(replaced_note(replaced));
    records.points = points;
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The TFRecord framing of one record.
    fn frame(data: &[u8]) -> Vec<u8> {
        let len = (data.len() as u64).to_le_bytes();
        let mut out = len.to_vec();
        out.extend(masked_crc(&len).to_le_bytes());
        out.extend(data);
        out.extend(masked_crc(data).to_le_bytes());
        out
    }

    #[test]
    fn masked_crc_matches_tensorflow() {
        // The CRC-32C check value, and masked CRCs computed by the tensorboard package's own
        // record writer (`tensorboard.summary.writer.record_writer.masked_crc32c`).
        assert_eq!(crc32c::crc32c(b"123456789"), 0xe306_9283);
        assert_eq!(masked_crc(b"foo"), 0xfebe_8a61);
        assert_eq!(masked_crc(&3u64.to_le_bytes()), 0x0e49_99b0);
    }

    #[test]
    fn tensor_scalars_of_both_widths_are_read() {
        let f = TensorProto {
            dtype: DT_FLOAT,
            tensor_content: 0.1f32.to_le_bytes().to_vec(),
            ..Default::default()
        };
        assert_eq!(tensor_scalar(&f), Some(f64::from(0.1f32)));
        let d = TensorProto {
            dtype: DT_DOUBLE,
            double_val: vec![0.1],
            ..Default::default()
        };
        assert_eq!(tensor_scalar(&d), Some(0.1));
        let v = TensorProto {
            dtype: DT_FLOAT,
            tensor_shape: Some(TensorShape {
                dim: vec![Dim { size: 2 }],
            }),
            float_val: vec![1.0, 2.0],
            ..Default::default()
        };
        assert_eq!(tensor_scalar(&v), None);
    }

    #[test]
    fn records_are_framed_and_checked() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("events.out.tfevents.1");
        let mut bytes = frame(b"abc");
        bytes.extend(frame(b""));
        std::fs::write(&path, &bytes).expect("write");
        let mut seen = Vec::new();
        read_records(&path, |i, off, d| {
            seen.push((i, off, d.to_vec()));
            Ok(())
        })
        .expect("reads");
        assert_eq!(seen, vec![(0, 0, b"abc".to_vec()), (1, 19, Vec::new())]);
        // A flipped data byte breaks the data CRC of record 0.
        bytes[12] ^= 1;
        std::fs::write(&path, &bytes).expect("write");
        let e = read_records(&path, |_, _, _| Ok(()))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("record 0 at byte 0") && e.contains("CRC of the record's 3 byte(s)"),
            "{e}"
        );
    }
}
