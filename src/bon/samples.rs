//! Scored samples read into pools: the samples of one prompt and one reward model, sorted by
//! proxy score (then gold), whatever the order of the rows or files they came from.
//!
//! Two kinds of input: the tidy Samples table of ARCHITECTURE.md (CSV, Parquet, NDJSON, through
//! [`read_table`]) and per-prompt array dumps (a JSON array of records, or JSON Lines, each record
//! holding `proxy_scores[N]` and `gold_scores[N]`, as in Coste et al.'s
//! `proxy_labelled_sorted.json`).

use std::collections::HashMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::ingest::adapters::{self, bon_json};
use crate::ingest::metadata;
use crate::ingest::{
    ColumnData, ColumnMap, LabelColumn, LogFormat, LogOptions, check_equal_lengths, read_table,
};
use crate::schema::{CurveKey, SAMPLES};

use super::columnar::curve_key;

/// The samples of one prompt under one reward model.
#[derive(Debug, Clone)]
pub struct Pool {
    pub key: CurveKey,
    pub prompt: String,
    /// (proxy, gold) pairs, sorted ascending by proxy, then by gold.
    pub scores: Vec<(f64, f64)>,
    /// The file the pool's first sample came from (for messages).
    pub path: PathBuf,
}

/// How a sample's pool is identified: the bits of the key numbers, and the prompt.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct PoolId {
    rm_params: u64,
    policy_params: Option<u64>,
    rm_data: Option<u64>,
    prompt: String,
}

/// Collects samples into pools, identified by (key, prompt) across all files.
struct PoolBuilder {
    pools: Vec<Pool>,
    index: HashMap<PoolId, usize>,
}

impl PoolBuilder {
    fn new() -> Self {
        PoolBuilder {
            pools: Vec::new(),
            index: HashMap::new(),
        }
    }

    /// The index of the pool of `prompt` under `key`, created empty if new.
    fn pool_index(&mut self, key: CurveKey, prompt: &str, path: &Path) -> usize {
        let id = PoolId {
            rm_params: key.rm_params.to_bits(),
            policy_params: key.policy_params.map(f64::to_bits),
            rm_data: key.rm_data.map(f64::to_bits),
            prompt: prompt.to_string(),
        };
        let next = self.pools.len();
        let i = *self.index.entry(id).or_insert(next);
        if i == next {
            self.pools.push(Pool {
                key,
                prompt: prompt.to_string(),
                scores: Vec::new(),
                path: path.to_path_buf(),
            });
        }
        i
    }

    /// Adds pools read by [`super::columnar`].
    fn add(&mut self, read: super::columnar::PoolsRead, path: &Path) {
        for (key, prompt, scores) in read {
            let i = self.pool_index(key, &prompt, path);
            let pool = &mut self.pools[i].scores;
            if pool.is_empty() {
                *pool = scores;
            } else {
                pool.extend(scores);
            }
        }
    }

    /// What the samples added since `before` (each pool's length then) are, whatever their
    /// order: their count and an order-free sum of a hash of each (pool, proxy, gold). Two files
    /// holding the same samples (a table and its conversion) get the same print.
    fn print_since(&self, before: &[usize]) -> SamplesPrint {
        let mut print = SamplesPrint { rows: 0, sum: 0 };
        for (i, pool) in self.pools.iter().enumerate() {
            let start = before.get(i).copied().unwrap_or(0);
            for &(proxy, gold) in &pool.scores[start..] {
                let h = mix(i as u64 ^ mix(proxy.to_bits() ^ mix(gold.to_bits())));
                print.sum = print.sum.wrapping_add(h);
                print.rows += 1;
            }
        }
        print
    }

    /// The pools sorted by (key, prompt), each pool's samples sorted by (proxy, gold).
    fn finish(mut self) -> Vec<Pool> {
        self.pools
            .par_iter_mut()
            .for_each(|p| sort_scores(&mut p.scores));
        self.pools
            .sort_by(|a, b| a.key.cmp(&b.key).then_with(|| a.prompt.cmp(&b.prompt)));
        self.pools
    }
}

/// The samples one file added to the pools, as [`PoolBuilder::print_since`] sums them up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SamplesPrint {
    rows: usize,
    sum: u64,
}

/// SplitMix64's finaliser: a well-mixed 64-bit hash of `x`.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The integer whose order is `f64::total_cmp`'s order (the map is its own inverse).
fn total_order_key(x: f64) -> i64 {
    let bits = x.to_bits() as i64;
    bits ^ ((((bits >> 63) as u64) >> 1) as i64)
}

/// Sorts (proxy, gold) pairs by proxy, then gold, in `f64::total_cmp` order: as one unsigned
/// 128-bit integer per pair (the order-preserving bits of proxy above those of gold), which
/// compare faster than floats or pairs. Pairs that compare equal are equal bit for bit.
///
/// Pools of up to 2^16 samples are sorted faster as 64-bit integers: the proxy's order bits with
/// the lowest ones replaced by the sample's index (so every key is distinct and carries its
/// sample). Samples whose proxies differ only in those low bits (a relative difference below
/// about 2^-36, or ties) come out next to each other, and each such run is then sorted by the
/// full (proxy, gold) keys.
pub(crate) fn sort_scores(scores: &mut [(f64, f64)]) {
    let n = scores.len();
    if n < 2 {
        return;
    }
    let index_bits = usize::BITS - (n - 1).leading_zeros();
    if index_bits > 16 {
        return sort_scores_wide(scores);
    }
    let mut keys = Vec::with_capacity(n);
    let mask = index_keys(scores.iter().map(|s| s.0), &mut keys);
    let unsorted = scores.to_vec();
    for (s, &k) in scores.iter_mut().zip(&keys) {
        *s = unsorted[(k & mask) as usize];
    }
    let mut start = 0;
    while start < n {
        let head = keys[start] & !mask;
        let mut end = start + 1;
        while end < n && keys[end] & !mask == head {
            end += 1;
        }
        if end - start > 1 {
            sort_scores_wide(&mut scores[start..end]);
        }
        start = end;
    }
}

/// The sorted 64-bit keys of [`sort_scores`] for a pool of 2 to 2^16 samples whose proxies
/// are `proxy` (in `keys`, cleared first): each proxy's order bits with the lowest ones replaced
/// by the sample's index. The mask of the index bits.
pub(super) fn index_keys(proxy: impl ExactSizeIterator<Item = f64>, keys: &mut Vec<u64>) -> u64 {
    let n = proxy.len();
    let index_bits = usize::BITS - (n.max(2) - 1).leading_zeros();
    let mask = (1u64 << index_bits) - 1;
    let order = |x: f64| (total_order_key(x) as u64) ^ (1 << 63);
    keys.clear();
    keys.extend(
        proxy
            .enumerate()
            .map(|(i, p)| (order(p) & !mask) | i as u64),
    );
    keys.sort_unstable();
    mask
}

/// [`sort_scores`] by 128-bit keys: the order bits of the proxy above those of the gold.
fn sort_scores_wide(scores: &mut [(f64, f64)]) {
    // unsigned keys in total_cmp order: the sign bit flipped
    let key = |x: f64| ((total_order_key(x) as u64) ^ (1 << 63)) as u128;
    let mut keys: Vec<u128> = scores
        .iter()
        .map(|&(p, g)| (key(p) << 64) | key(g))
        .collect();
    keys.sort_unstable();
    let back = |k: u128| f64::from_bits(total_order_key_inverse(((k as u64) ^ (1 << 63)) as i64));
    for (s, k) in scores.iter_mut().zip(keys) {
        *s = (back(k >> 64), back(k));
    }
}

fn total_order_key_inverse(k: i64) -> u64 {
    (k ^ ((((k >> 63) as u64) >> 1) as i64)) as u64
}

fn bad_samples(path: &Path, detail: String) -> Error {
    Error::BadSamples {
        path: path.to_path_buf(),
        detail,
    }
}

/// Reads Samples tables and array dumps into pools, sorted by (key, prompt). Files may hold
/// rows in any order, and one prompt's samples may be spread over several rows or files.
/// `opts` gives `--format` (tidy or bon-json; detected when absent) and `--rm-params` (also
/// from a sidecar). Returns the pools and warnings (samples dropped for non-finite scores).
pub fn read_samples(
    paths: &[PathBuf],
    map_args: &[String],
    opts: &LogOptions,
) -> Result<(Vec<Pool>, Vec<String>)> {
    let map = parse_options(map_args, opts)?;
    let mut builder = PoolBuilder::new();
    let mut warnings = Vec::new();
    let mut contents: Vec<(SamplesPrint, &PathBuf)> = Vec::new();
    for path in paths {
        let before: Vec<usize> = builder.pools.iter().map(|p| p.scores.len()).collect();
        let (kind, meta) = file_kind(path, opts)?;
        match kind {
            Some(kind) => read_dump(path, kind, map_args, &meta, &mut builder, &mut warnings)?,
            None => match super::columnar::read_parquet_samples(path, &map, &meta)? {
                Some(read) => builder.add(read, path),
                None => read_tidy(path, &map, &meta, &mut builder)?,
            },
        }
        let print = builder.print_since(&before);
        if let Some((_, first)) = contents.iter().find(|(p, _)| *p == print && print.rows > 0) {
            warnings.push(format!(
                "{} holds the same samples as {} (the same reward models, prompts and scores, {} rows): given twice, every sample counts twice in its pool; pass one of them",
                path.display(),
                first.display(),
                print.rows
            ));
        }
        contents.push((print, path));
    }
    let pools = builder.finish();
    no_pool_of_one(&pools)?;
    Ok((pools, warnings))
}

/// `--map` parsed and `--rm-params` checked.
pub(super) fn parse_options(map_args: &[String], opts: &LogOptions) -> Result<ColumnMap> {
    let map = ColumnMap::parse(map_args, SAMPLES)?;
    if let Some(r) = opts.meta.rm_params
        && !(r.is_finite() && r > 0.0)
    {
        return Err(Error::Usage(format!(
            "--rm-params must be a number > 0, not {r}"
        )));
    }
    Ok(map)
}

/// What a file is (a dump of which layout, or a tidy table: `None`) and its run metadata (flags
/// and sidecar).
pub(super) fn file_kind(
    path: &Path,
    opts: &LogOptions,
) -> Result<(Option<DumpKind>, crate::ingest::RunMeta)> {
    let sidecar = match adapters::meta::sidecar_path(path, opts) {
        Some(p) => Some(adapters::meta::load(&p)?),
        None => None,
    };
    let meta = adapters::meta::resolve(&opts.meta, sidecar.as_ref(), None);
    let kind = match opts.format {
        Some(_) => {
            let det = adapters::resolve_format(path, opts)?;
            match det.format {
                LogFormat::BonJson => Some(
                    if matches!(
                        crate::ingest::lowercase_extension(path).as_str(),
                        "jsonl" | "ndjson"
                    ) {
                        DumpKind::Lines
                    } else {
                        DumpKind::Json
                    },
                ),
                LogFormat::Tidy => None,
                f => return Err(not_samples(path, f.name())),
            }
        }
        None => {
            let det = adapters::detect(path)?;
            if det.format.is_trainer_log() {
                return Err(not_samples(path, det.format.name()));
            }
            dump_kind(path)?
        }
    };
    Ok((kind, meta))
}

/// A single Parquet Samples table whose reward models (keys) each hold one contiguous range of
/// rows: its pools can be read one reward model at a time, so that memory holds one model's
/// samples, not the file's (issue 16).
pub(crate) struct ByKey {
    path: PathBuf,
    plan: super::columnar::FilePlan,
    /// (key, first row, rows), in key order
    ranges: Vec<(CurveKey, usize, usize)>,
}

impl ByKey {
    /// `Some` when `paths` is one such file with at least two keys (the options checked as
    /// [`read_samples`] checks them).
    pub(crate) fn new(
        paths: &[PathBuf],
        map_args: &[String],
        opts: &LogOptions,
    ) -> Result<Option<ByKey>> {
        let [path] = paths else {
            return Ok(None);
        };
        let map = parse_options(map_args, opts)?;
        let (kind, meta) = file_kind(path, opts)?;
        if kind.is_some() {
            return Ok(None);
        }
        Ok(super::columnar::key_ranges(path, &map, &meta)
            .filter(|(_, ranges)| ranges.len() >= 2)
            .map(|(plan, ranges)| ByKey {
                path: path.clone(),
                plan,
                ranges,
            }))
    }

    pub(crate) fn keys(&self) -> usize {
        self.ranges.len()
    }

    /// The pools of the `i`-th key (in key order), sorted as [`read_samples`] sorts them;
    /// `None` when the general reader must read the file (which then reports its problem).
    pub(crate) fn pools(&self, i: usize) -> Result<Option<Vec<Pool>>> {
        let (key, start, count) = self.ranges[i];
        let mut builder = PoolBuilder::new();
        match super::columnar::read_key(&self.path, &self.plan, key, (start, count))? {
            Some(read) => builder.add(read, &self.path),
            None => return Ok(None),
        }
        let pools = builder.finish();
        no_pool_of_one(&pools)?;
        Ok(Some(pools))
    }
}

/// Best-of-n needs two samples per prompt.
fn no_pool_of_one(pools: &[Pool]) -> Result<()> {
    for p in pools {
        if p.scores.len() == 1 {
            return Err(bad_samples(
                &p.path,
                format!(
                    "prompt '{}' ({}) has a pool of one sample: only n = 1 is defined for it, and best-of-n needs at least 2 samples per prompt; drop the prompt or add samples",
                    p.prompt, p.key
                ),
            ));
        }
    }
    Ok(())
}

fn not_samples(path: &Path, format: &'static str) -> Error {
    Error::BadSamples {
        path: path.to_path_buf(),
        detail: format!(
            "this is a {format} trainer log (curves), not scored samples (a Samples table or a per-prompt best-of-n dump): fit it with `goodhart fit`"
        ),
    }
}

fn numbers(data: Option<ColumnData>) -> Option<Vec<Option<f64>>> {
    match data {
        Some(ColumnData::Number(v)) => Some(v),
        // A column read as text is not a numeric column of the schema.
        _ => None,
    }
}

fn read_tidy(
    path: &Path,
    map: &ColumnMap,
    meta: &crate::ingest::RunMeta,
    builder: &mut PoolBuilder,
) -> Result<()> {
    let mut table = read_table(path, SAMPLES, map)?;
    let source = |table: &crate::ingest::Table, c: &str| table.source_name(c);
    let proxy_col = source(&table, "proxy");
    let gold_col = source(&table, "gold");
    let rm_col = source(&table, "rm_params");
    let has_rm = table.has("rm_params");
    // A metadata flag fills a column the file lacks and must agree with one it has.
    let mut rm_flag = meta.rm_params;
    for (column, flag, value) in [
        ("rm_params", "--rm-params", meta.rm_params),
        ("policy_params", "--policy-params", meta.policy_params),
        ("rm_data", "--rm-data", meta.rm_data),
    ] {
        let Some(x) = value else { continue };
        match table.get(column) {
            Some(ColumnData::Number(v)) => {
                let name = source(&table, column);
                for (i, c) in v.iter().enumerate() {
                    metadata::agree(path, &format!("row {}", i + 1), &name, *c, Some(x), flag)?;
                }
                if column == "rm_params" {
                    rm_flag = None;
                }
            }
            _ if column == "rm_params" => {}
            _ => table.fill(
                column,
                ColumnData::Number(vec![Some(x); table.n_rows]),
                format!("{flag} {}", crate::format::fmt_num(x)),
            ),
        }
    }
    if !has_rm && rm_flag.is_none() {
        return Err(Error::MissingColumn {
            path: path.to_path_buf(),
            columns: vec!["rm_params".to_string()],
            hint: " (give --rm-params N when the file holds samples of one reward model)"
                .to_string(),
            found: table.source_columns.join(", "),
        });
    }
    let labels = match table.take("prompt") {
        Some(ColumnData::Label(l)) => l,
        _ => LabelColumn::default(),
    };
    let proxy = numbers(table.take("proxy")).unwrap_or_default();
    let gold = numbers(table.take("gold")).unwrap_or_default();
    let rm = numbers(table.take("rm_params"));
    let policy = numbers(table.take("policy_params"));
    let rm_data = numbers(table.take("rm_data"));
    // Every column is indexed by the rows of the others below.
    let prompt_col = source(&table, "prompt");
    let policy_col = source(&table, "policy_params");
    let rm_data_col = source(&table, "rm_data");
    let mut lengths = vec![
        (prompt_col.as_str(), labels.codes.len()),
        (proxy_col.as_str(), proxy.len()),
        (gold_col.as_str(), gold.len()),
    ];
    for (col, name) in [
        (&rm, &rm_col),
        (&policy, &policy_col),
        (&rm_data, &rm_data_col),
    ] {
        if let Some(c) = col {
            lengths.push((name.as_str(), c.len()));
        }
    }
    let n_rows = check_equal_lengths(path, None, &lengths)?;
    let bad = |column: &str, row: usize, value: String, problem: &str| Error::BadValue {
        path: path.to_path_buf(),
        column: column.to_string(),
        row,
        value,
        problem: problem.to_string(),
    };
    let positive = |col: &Option<Vec<Option<f64>>>, name: &str, i: usize| -> Result<Option<f64>> {
        match col.as_ref().and_then(|c| c[i]) {
            Some(x) if x.is_finite() && x > 0.0 => Ok(Some(x)),
            Some(x) => Err(bad(
                &source(&table, name),
                i + 1,
                format!("{x}"),
                &format!("{name} must be a finite number > 0"),
            )),
            None => Ok(None),
        }
    };
    // Scores first, in one tight pass per column (the first bad row is reported).
    for (col, name) in [(&proxy, &proxy_col), (&gold, &gold_col)] {
        if let Some(i) = col.iter().position(|x| !x.is_some_and(f64::is_finite)) {
            // `prompt` is required, so read_table has refused empty cells.
            let prompt = &labels.labels[labels.codes[i].unwrap_or(0) as usize];
            return Err(match col[i] {
                Some(x) => bad(
                    name,
                    i + 1,
                    format!("{x}"),
                    &format!(
                        "prompt '{prompt}': a score must be a finite number (not NaN or infinite)"
                    ),
                ),
                None => bad(
                    name,
                    i + 1,
                    String::new(),
                    &format!("prompt '{prompt}': missing score"),
                ),
            });
        }
    }
    // Each row's pool: keys seen in this file, and per key a dense map label code -> pool.
    let constant_key = rm_flag.is_some() && policy.is_none() && rm_data.is_none();
    let mut keys: Vec<CurveKey> = Vec::new();
    let mut pool_of_code: Vec<Vec<u32>> = Vec::new();
    let mut last_key = 0usize;
    let mut row_pool: Vec<u32> = Vec::with_capacity(n_rows);
    for i in 0..n_rows {
        let row = i + 1;
        let code = labels.codes[i].unwrap_or(0) as usize;
        if !constant_key || keys.is_empty() {
            let rm_params = match rm_flag {
                Some(r) => r,
                None => positive(&rm, "rm_params", i)?
                    .ok_or_else(|| bad(&rm_col, row, String::new(), "missing rm_params"))?,
            };
            let key = curve_key(
                rm_params,
                positive(&policy, "policy_params", i)?,
                positive(&rm_data, "rm_data", i)?,
            );
            if keys.get(last_key) != Some(&key) {
                last_key = match keys.iter().position(|k| *k == key) {
                    Some(k) => k,
                    None => {
                        keys.push(key);
                        pool_of_code.push(vec![u32::MAX; labels.labels.len()]);
                        keys.len() - 1
                    }
                };
            }
        }
        let slot = &mut pool_of_code[last_key][code];
        if *slot == u32::MAX {
            *slot = builder.pool_index(keys[last_key], &labels.labels[code], path) as u32;
        }
        row_pool.push(*slot);
    }
    let mut counts = vec![0usize; builder.pools.len()];
    for &p in &row_pool {
        counts[p as usize] += 1;
    }
    for (pool, extra) in builder.pools.iter_mut().zip(counts) {
        pool.scores.reserve_exact(extra);
    }
    for (i, &p) in row_pool.iter().enumerate() {
        // every score was checked present and finite above
        let (x, g) = (proxy[i].unwrap_or(f64::NAN), gold[i].unwrap_or(f64::NAN));
        builder.pools[p as usize].scores.push((x, g));
    }
    Ok(())
}

/// How a dump file is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DumpKind {
    /// One JSON document: an array of records (or a single record).
    Json,
    /// One record per line.
    Lines,
}

/// The names a dump's record keys are looked up by (`--map` may rename them).
struct DumpNames {
    prompt: String,
    proxy: String,
    gold: String,
    rm_params: String,
    policy_params: String,
    rm_data: String,
}

impl DumpNames {
    fn new(map_args: &[String]) -> DumpNames {
        let mut names = DumpNames {
            prompt: "prompt".into(),
            proxy: "proxy_scores".into(),
            gold: "gold_scores".into(),
            rm_params: "rm_params".into(),
            policy_params: "policy_params".into(),
            rm_data: "rm_data".into(),
        };
        // The arguments were validated by ColumnMap::parse.
        for arg in map_args {
            if let Some((source, canonical)) = arg.split_once('=') {
                let source = source.trim().to_string();
                match canonical.trim() {
                    "prompt" => names.prompt = source,
                    "proxy" => names.proxy = source,
                    "gold" => names.gold = source,
                    "rm_params" => names.rm_params = source,
                    "policy_params" => names.policy_params = source,
                    "rm_data" => names.rm_data = source,
                    _ => {}
                }
            }
        }
        names
    }
}

/// `Some` when the file is a per-prompt array dump: `.json`, or JSON Lines whose first record
/// holds a `proxy_scores` array.
fn dump_kind(path: &Path) -> Result<Option<DumpKind>> {
    let ext = crate::ingest::lowercase_extension(path);
    match ext.as_str() {
        "json" => Ok(Some(DumpKind::Json)),
        "jsonl" | "ndjson" => {
            let file = std::fs::File::open(path).map_err(|source| Error::Read {
                path: path.to_path_buf(),
                source,
            })?;
            let mut reader = std::io::BufReader::new(file);
            let mut line = String::new();
            loop {
                line.clear();
                let read = reader.read_line(&mut line).map_err(|source| Error::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
                if read == 0 {
                    return Ok(None);
                }
                if !line.trim().is_empty() {
                    break;
                }
            }
            let first: Value = serde_json::from_str(line.trim()).unwrap_or(Value::Null);
            let is_dump = first
                .as_object()
                .is_some_and(|o| o.values().any(Value::is_array));
            Ok(is_dump.then_some(DumpKind::Lines))
        }
        _ => Ok(None),
    }
}

fn read_dump(
    path: &Path,
    kind: DumpKind,
    map_args: &[String],
    meta: &crate::ingest::RunMeta,
    builder: &mut PoolBuilder,
    warnings: &mut Vec<String>,
) -> Result<()> {
    let rm_flag = meta.rm_params;
    let names = DumpNames::new(map_args);
    let records = bon_json::read_records(
        path,
        match kind {
            DumpKind::Json => bon_json::DumpLayout::Json,
            DumpKind::Lines => bon_json::DumpLayout::Lines,
        },
    )?;
    let mut dropped = 0usize;
    let mut dropped_prompts = 0usize;
    if records.is_empty() {
        return Err(Error::NoRows {
            path: path.to_path_buf(),
        });
    }
    for (index, record) in records.iter().enumerate() {
        let Value::Object(obj) = record else {
            return Err(bad_samples(
                path,
                format!("prompt index {index}: expected a JSON object per prompt"),
            ));
        };
        let prompt = match obj.get(&names.prompt) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(x)) => x.to_string(),
            _ => index.to_string(),
        };
        let at = format!("prompt index {index} (prompt '{prompt}')");
        let array = |name: &str| -> Result<Vec<f64>> {
            let values = match obj.get(name) {
                Some(Value::Array(v)) => v,
                Some(_) => {
                    return Err(bad_samples(
                        path,
                        format!("{at}: '{name}' is not an array of scores"),
                    ));
                }
                None => {
                    let found: Vec<&str> = obj.keys().map(String::as_str).collect();
                    return Err(bad_samples(
                        path,
                        format!(
                            "{at}: no '{name}' array (keys found: {}; rename with --map)",
                            found.join(", ")
                        ),
                    ));
                }
            };
            values
                .iter()
                .enumerate()
                .map(|(j, v)| match bon_json::score(v) {
                    Some(x) => Ok(x),
                    None => Err(bad_samples(
                        path,
                        format!("{at}: {name}[{j}] is {v}: a score must be a number"),
                    )),
                })
                .collect()
        };
        let proxy = array(&names.proxy)?;
        let gold = array(&names.gold)?;
        check_equal_lengths(
            path,
            Some(&at),
            &[(&names.proxy, proxy.len()), (&names.gold, gold.len())],
        )?;
        if proxy.is_empty() {
            return Err(bad_samples(
                path,
                format!("{at}: the score arrays are empty"),
            ));
        }
        let number = |name: &str| -> Result<Option<f64>> {
            match obj.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => match v.as_f64() {
                    Some(x) if x.is_finite() && x > 0.0 => Ok(Some(x)),
                    _ => Err(bad_samples(
                        path,
                        format!("{at}: '{name}' is {v}: it must be a number > 0"),
                    )),
                },
            }
        };
        let rm_in_file = number(&names.rm_params)?;
        let rm_params = match metadata::agree(
            path,
            &at,
            &names.rm_params,
            rm_in_file,
            rm_flag,
            "--rm-params",
        )? {
            Some(r) => r,
            None => {
                return Err(bad_samples(
                    path,
                    format!(
                        "{at}: no '{}' key: give --rm-params N when the file holds samples of one reward model",
                        names.rm_params
                    ),
                ));
            }
        };
        let key = curve_key(
            rm_params,
            metadata::agree(
                path,
                &at,
                &names.policy_params,
                number(&names.policy_params)?,
                meta.policy_params,
                "--policy-params",
            )?,
            metadata::agree(
                path,
                &at,
                &names.rm_data,
                number(&names.rm_data)?,
                meta.rm_data,
                "--rm-data",
            )?,
        );
        let before = proxy.len();
        let finite: Vec<(f64, f64)> = proxy
            .into_iter()
            .zip(gold)
            .filter(|(p, g)| p.is_finite() && g.is_finite())
            .collect();
        if finite.len() < before {
            dropped += before - finite.len();
            dropped_prompts += 1;
        }
        if finite.is_empty() {
            continue;
        }
        let pool = builder.pool_index(key, &prompt, path);
        builder.pools[pool].scores.extend(finite);
    }
    if dropped > 0 {
        warnings.push(format!(
            "{}: {dropped} sample(s) of {dropped_prompts} prompt(s) dropped for non-finite scores (NaN/Infinity)",
            path.display()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_sort_matches_total_cmp() {
        let values = [
            -0.0,
            0.0,
            1.5,
            -1.5,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
            1e300,
            -1e300,
            5e-324,
            2.0,
            2.0,
        ];
        let mut pairs: Vec<(f64, f64)> = values
            .iter()
            .flat_map(|&p| values.iter().map(move |&g| (p, g)))
            .collect();
        pairs.reverse();
        let size = pairs.len();
        assert_sorts_as_total_cmp(pairs, size);
    }

    /// `sort_scores` orders the pairs as `total_cmp` on (proxy, gold) does, bit for bit.
    fn assert_sorts_as_total_cmp(mut pairs: Vec<(f64, f64)>, size: usize) {
        let mut expected = pairs.clone();
        expected.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        sort_scores(&mut pairs);
        let bits = |v: &[(f64, f64)]| {
            v.iter()
                .map(|(a, b)| (a.to_bits(), b.to_bits()))
                .collect::<Vec<_>>()
        };
        assert_eq!(bits(&pairs), bits(&expected), "size {size}");
    }

    #[test]
    fn radix_sort_matches_total_cmp_with_ties_and_signs() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for size in [63usize, 64, 65, 200, 1000, 4097] {
            // few distinct proxies (ties), signed zeros, tiny and huge magnitudes
            let pick = |rng: &mut rand_chacha::ChaCha8Rng| match rng.random_range(0..6) {
                0 => -0.0,
                1 => 0.0,
                2 => rng.random_range(-3..3) as f64,
                3 => rng.random_range(-1.0..1.0) * 1e-300,
                4 => rng.random_range(-1.0..1.0) * 1e300,
                _ => rng.random_range(-1.0..1.0),
            };
            let pairs: Vec<(f64, f64)> = (0..size)
                .map(|_| (pick(&mut rng), pick(&mut rng)))
                .collect();
            assert_sorts_as_total_cmp(pairs, size);
        }
    }

    /// Proxies that differ only in their lowest bits (the ones the 64-bit keys replace by the
    /// index), or not at all, with golds in any order: the runs sorted by the full keys.
    #[test]
    fn proxies_equal_but_for_their_low_bits_are_ordered_by_their_full_keys() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for size in [2usize, 3, 17, 1000, 1024, 1025, 65536, 65537] {
            let bases = [0.3_f64, -0.3, 1e-310, 0.0];
            let pairs: Vec<(f64, f64)> = (0..size)
                .map(|_| {
                    let base = bases[rng.random_range(0..bases.len())];
                    let p = f64::from_bits(base.to_bits() ^ rng.random_range(0..64u64));
                    (p, rng.random_range(-2..3) as f64 * 0.5)
                })
                .collect();
            assert_sorts_as_total_cmp(pairs, size);
        }
    }
}
