//! Mergeable best-of-n: a dump split by prompt is estimated anywhere ([`bon_partial`]: one
//! partial table per shard) and merged exactly ([`bon_merge`]) into the curves `goodhart bon`
//! gives on the whole dump, byte for byte.
//!
//! Everything of a curve is a function of its pools' estimates, in prompt order: the point
//! estimate averages them, the standard errors spread them, the prompt bootstrap resamples them
//! and the `gold_prompts`/`proxy_prompts` columns list them. A pool's estimates depend only on
//! its own samples and the n values, so a partial table holds, for every pool (key, prompt),
//! its size and its estimates (gold, proxy, plug-in KL) at every n of the shard that the pool
//! reaches, written exactly (shortest round-trip text in CSV, doubles in Parquet). The merge
//! sorts the pools by (key, prompt), as `goodhart bon` does, and runs the same code.
//!
//! What needs every pool of a curve is done at the merge: the default n grid (from the largest
//! pool) and `--common-prompts complete` (which drops pools smaller than the largest n). A shard
//! computes the default grid of its own largest pool, so shards whose largest pools differ need
//! one explicit `--n` (the merge says so). `--common-prompts truncate` cuts every pool to the
//! curve's smallest one before estimating, which a shard cannot know: the merge accepts it only
//! when no cut is needed (all pools of a curve of one size), and else says what to do.
//!
//! The partial table (README "Mergeable best-of-n"): one row per (pool, n) with columns
//! `rm_params`, `policy_params`/`rm_data` (when the samples have them), `prompt`, `pool_size`,
//! `n`, `gold`, `proxy`, `kl_pool`, `options`; a pool that reaches no requested n has one row with
//! `n`, `gold`, `proxy`, `kl_pool` empty. `options` is the same on every row:
//! `goodhart-bon-partial 1; n=default|N1,N2,...; kl=analytic|pool; bootstrap=B; seed=S;
//! common_prompts=none|truncate|complete; prompt_values=true|false`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::estimate::{
    BonCurve, BonOptions, KlChoice, PoolEstimate, curve_from_estimates, curve_ns, default_n_grid,
    group_by_key, pool_estimates, sorted_ns,
};
use super::prompts::{CommonPrompts, common_prompts_plan, prompt_count_notes};
use super::samples::{Pool, read_samples};
use super::{BonSummary, curves_table_with};
use crate::error::{Error, Result};
use crate::ingest::{ColumnData, ColumnMap, Table, read_table};
use crate::output::{OutColumn, OutTable, Sink};
use crate::schema::{BON_PARTIAL, CurveKey, Method};

/// The first field of the `options` column: the partial table's format and its version.
const FORMAT_TAG: &str = "goodhart-bon-partial 1";

/// The options of `goodhart bon` that a partial table carries: every shard must have the same,
/// and the merge uses them.
#[derive(Debug, Clone, PartialEq)]
pub struct PartialOptions {
    pub bon: BonOptions,
    pub common: Option<CommonPrompts>,
    pub prompt_values: bool,
}

impl PartialOptions {
    /// The `options` cell.
    pub fn to_text(&self) -> String {
        let n = match &self.bon.n {
            None => "default".to_string(),
            Some(ns) => ns
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(","),
        };
        format!(
            "{FORMAT_TAG}; n={n}; kl={}; bootstrap={}; seed={}; common_prompts={}; prompt_values={}",
            match self.bon.kl {
                KlChoice::Analytic => "analytic",
                KlChoice::Pool => "pool",
            },
            self.bon.bootstrap,
            self.bon.seed,
            self.common.map_or("none", CommonPrompts::name),
            self.prompt_values
        )
    }

    /// Parses an `options` cell ([`Self::to_text`]); `None` when it is not one.
    pub fn parse(text: &str) -> Option<PartialOptions> {
        let mut parts = text.split(';').map(str::trim);
        if parts.next()? != FORMAT_TAG {
            return None;
        }
        let mut fields: HashMap<&str, &str> = HashMap::new();
        for part in parts {
            let (k, v) = part.split_once('=')?;
            if fields.insert(k.trim(), v.trim()).is_some() {
                return None;
            }
        }
        if fields.len() != 6 {
            return None;
        }
        let n = match *fields.get("n")? {
            "default" => None,
            list => Some(
                list.split(',')
                    .map(|x| x.parse::<usize>().ok())
                    .collect::<Option<Vec<usize>>>()?,
            ),
        };
        Some(PartialOptions {
            bon: BonOptions {
                n,
                kl: match *fields.get("kl")? {
                    "analytic" => KlChoice::Analytic,
                    "pool" => KlChoice::Pool,
                    _ => return None,
                },
                bootstrap: fields.get("bootstrap")?.parse().ok()?,
                seed: fields.get("seed")?.parse().ok()?,
            },
            common: match *fields.get("common_prompts")? {
                "none" => None,
                "truncate" => Some(CommonPrompts::Truncate),
                "complete" => Some(CommonPrompts::Complete),
                _ => return None,
            },
            prompt_values: fields.get("prompt_values")?.parse().ok()?,
        })
    }
}

/// One pool of a partial table: its key, prompt, size and estimates at the n values `ns`
/// (ascending, each <= `pool_size`).
#[derive(Debug, Clone)]
pub struct PartialPool {
    pub key: CurveKey,
    pub prompt: String,
    pub pool_size: usize,
    pub ns: Vec<usize>,
    pub estimate: PoolEstimate,
}

/// A partial table: the options and the pools of one shard, sorted by (key, prompt).
#[derive(Debug, Clone)]
pub struct BonPartial {
    pub options: PartialOptions,
    pub pools: Vec<PartialPool>,
    /// Where it was read from (for messages); empty when built in memory.
    pub source: String,
}

/// The partial table of pools sorted by (key, prompt) as [`read_samples`] returns them. Errors
/// for an n of 0; an n above every pool of the shard is not an error here (another shard may
/// reach it): [`bon_merge`] checks the n values against the merged pools.
pub fn bon_partial(pools: &[Pool], options: &PartialOptions) -> Result<BonPartial> {
    let options = PartialOptions {
        bon: BonOptions {
            n: options.bon.n.as_deref().map(sorted_ns).transpose()?,
            ..options.bon.clone()
        },
        ..options.clone()
    };
    let mut out = Vec::with_capacity(pools.len());
    for (key, list) in group_by_key(pools) {
        let max_pool = list.iter().map(|p| p.scores.len()).max().unwrap_or(0);
        let ns = match &options.bon.n {
            Some(ns) => ns.clone(),
            None => default_n_grid(max_pool),
        };
        let ests = pool_estimates(&list, &ns);
        for (p, estimate) in list.iter().zip(ests) {
            let reach = estimate.gold.len();
            out.push(PartialPool {
                key,
                prompt: p.prompt.clone(),
                pool_size: p.scores.len(),
                ns: ns[..reach].to_vec(),
                estimate,
            });
        }
    }
    Ok(BonPartial {
        options,
        pools: out,
        source: String::new(),
    })
}

impl BonPartial {
    /// The partial table (module docs): one row per (pool, n); one row with empty n for a pool
    /// that reaches no n.
    pub fn to_table(&self) -> OutTable {
        let rows: Vec<(&PartialPool, Option<usize>)> = self
            .pools
            .iter()
            .flat_map(|p| {
                let k = p.ns.len();
                (0..k.max(1)).map(move |j| (p, (j < k).then_some(j)))
            })
            .collect();
        let num = |f: &dyn Fn(&PartialPool, Option<usize>) -> Option<f64>| {
            OutColumn::Number(rows.iter().map(|&(p, j)| f(p, j)).collect())
        };
        let mut t = OutTable::default();
        t.push(crate::schema::RM_PARAMS, num(&|p, _| Some(p.key.rm_params)));
        if self.pools.iter().any(|p| p.key.policy_params.is_some()) {
            t.push(
                crate::schema::POLICY_PARAMS,
                num(&|p, _| p.key.policy_params),
            );
        }
        if self.pools.iter().any(|p| p.key.rm_data.is_some()) {
            t.push(crate::schema::RM_DATA, num(&|p, _| p.key.rm_data));
        }
        t.push(
            "prompt",
            OutColumn::Text(rows.iter().map(|(p, _)| Some(p.prompt.clone())).collect()),
        );
        t.push(
            "pool_size",
            OutColumn::Integer(rows.iter().map(|(p, _)| Some(p.pool_size as i64)).collect()),
        );
        t.push(
            "n",
            OutColumn::Integer(
                rows.iter()
                    .map(|&(p, j)| j.map(|j| p.ns[j] as i64))
                    .collect(),
            ),
        );
        t.push("gold", num(&|p, j| j.map(|j| p.estimate.gold[j])));
        t.push("proxy", num(&|p, j| j.map(|j| p.estimate.proxy[j])));
        t.push("kl_pool", num(&|p, j| j.map(|j| p.estimate.kl_pool[j])));
        let options = self.options.to_text();
        t.push(
            "options",
            OutColumn::Text(rows.iter().map(|_| Some(options.clone())).collect()),
        );
        t
    }

    /// Reads a partial table (CSV, Parquet or NDJSON) and checks it: the columns, one `options`
    /// value, whole numbers where they must be, each pool's rows (one size, distinct ascending
    /// n values up to its size, finite estimates).
    pub fn read(path: &Path) -> Result<BonPartial> {
        let table = read_table(path, BON_PARTIAL, &ColumnMap::default())?;
        BonPartial::from_table(table)
    }

    /// Checks and groups a table read with the [`BON_PARTIAL`] schema.
    pub fn from_table(mut table: Table) -> Result<BonPartial> {
        let path = table.path.clone();
        let bad = |detail: String| Error::BadSamples {
            path: path.clone(),
            detail,
        };
        let mut number = |name: &str| -> Result<Option<Vec<Option<f64>>>> {
            match table.take(name) {
                None => Ok(None),
                Some(ColumnData::Number(v)) => Ok(Some(v)),
                Some(_) => Err(Error::BadSamples {
                    path: path.clone(),
                    detail: format!("partial table: column '{name}' must hold numbers"),
                }),
            }
        };
        let rm_params = number(crate::schema::RM_PARAMS)?.unwrap_or_default();
        let policy_params = number(crate::schema::POLICY_PARAMS)?;
        let rm_data = number(crate::schema::RM_DATA)?;
        let pool_size = number("pool_size")?.unwrap_or_default();
        let ns = number("n")?.unwrap_or_default();
        let gold = number("gold")?.unwrap_or_default();
        let proxy = number("proxy")?.unwrap_or_default();
        let kl_pool = number("kl_pool")?.unwrap_or_default();
        let prompts: Vec<Option<String>> = match table.take("prompt") {
            Some(ColumnData::Label(l)) => l
                .codes
                .iter()
                .map(|c| c.map(|c| l.labels[c as usize].clone()))
                .collect(),
            Some(ColumnData::Text(v)) => v,
            _ => Vec::new(),
        };
        let options_col: Vec<Option<String>> = match table.take("options") {
            Some(ColumnData::Text(v)) => v,
            Some(ColumnData::Label(l)) => l
                .codes
                .iter()
                .map(|c| c.map(|c| l.labels[c as usize].clone()))
                .collect(),
            _ => Vec::new(),
        };
        let rows = table.n_rows;
        let mut options: Option<(String, PartialOptions)> = None;
        for (row, cell) in options_col.iter().enumerate() {
            let cell = cell.as_deref().unwrap_or("");
            match &options {
                Some((text, _)) if text == cell => {}
                Some((text, _)) => {
                    return Err(bad(format!(
                        "partial table: row {}: options '{cell}' differ from row 1's '{text}' (a partial table is written by one `goodhart bon --partial`)",
                        row + 1
                    )));
                }
                None => {
                    let parsed = PartialOptions::parse(cell).ok_or_else(|| {
                        bad(format!(
                            "partial table: column 'options' holds '{cell}', not the options of a `goodhart bon --partial` table ('{FORMAT_TAG}; n=...; ...')"
                        ))
                    })?;
                    options = Some((cell.to_string(), parsed));
                }
            }
        }
        let Some((_, options)) = options else {
            return Err(Error::NoRows { path });
        };
        let whole = |name: &str, row: usize, x: Option<f64>| -> Result<Option<usize>> {
            match x {
                None => Ok(None),
                Some(v) if v.is_finite() && v >= 1.0 && v.fract() == 0.0 && v < 1e15 => {
                    Ok(Some(v as usize))
                }
                Some(v) => Err(bad(format!(
                    "partial table: column '{name}', row {}: {v} is not a whole number >= 1",
                    row + 1
                ))),
            }
        };
        let mut index: HashMap<(CurveKey, String), usize> = HashMap::new();
        let mut pools: Vec<PartialPool> = Vec::new();
        for row in 0..rows {
            let finite = |name: &str, x: Option<f64>| -> Result<f64> {
                match x {
                    Some(v) if v.is_finite() => Ok(v),
                    Some(v) => Err(bad(format!(
                        "partial table: column '{name}', row {}: {v} is not a finite number",
                        row + 1
                    ))),
                    None => Err(bad(format!(
                        "partial table: column '{name}', row {}: empty",
                        row + 1
                    ))),
                }
            };
            let key = CurveKey {
                method: Method::Bon,
                rm_params: finite(crate::schema::RM_PARAMS, rm_params[row])?,
                policy_params: policy_params
                    .as_ref()
                    .and_then(|v| v[row])
                    .map(|x| finite(crate::schema::POLICY_PARAMS, Some(x)))
                    .transpose()?,
                rm_data: rm_data
                    .as_ref()
                    .and_then(|v| v[row])
                    .map(|x| finite(crate::schema::RM_DATA, Some(x)))
                    .transpose()?,
                kl_penalty: None,
            };
            let prompt = prompts[row].clone().ok_or_else(|| {
                bad(format!(
                    "partial table: column 'prompt', row {}: empty",
                    row + 1
                ))
            })?;
            let size = whole("pool_size", row, pool_size[row])?.ok_or_else(|| {
                bad(format!(
                    "partial table: column 'pool_size', row {}: empty",
                    row + 1
                ))
            })?;
            let n = whole("n", row, ns[row])?;
            let next = pools.len();
            let i = *index.entry((key, prompt.clone())).or_insert(next);
            if i == next {
                pools.push(PartialPool {
                    key,
                    prompt: prompt.clone(),
                    pool_size: size,
                    ns: Vec::new(),
                    estimate: PoolEstimate {
                        gold: Vec::new(),
                        proxy: Vec::new(),
                        kl_pool: Vec::new(),
                    },
                });
            }
            let p = &mut pools[i];
            if p.pool_size != size {
                return Err(bad(format!(
                    "partial table: row {}: prompt '{prompt}' of curve {key} has pool_size {size}, but {} on an earlier row",
                    row + 1,
                    p.pool_size
                )));
            }
            let Some(n) = n else {
                if gold[row].is_some() || proxy[row].is_some() || kl_pool[row].is_some() {
                    return Err(bad(format!(
                        "partial table: row {}: estimates without an n",
                        row + 1
                    )));
                }
                continue;
            };
            if n > size {
                return Err(bad(format!(
                    "partial table: row {}: n = {n} is above the pool size {size} of prompt '{prompt}' of curve {key}",
                    row + 1
                )));
            }
            if p.ns.contains(&n) {
                return Err(bad(format!(
                    "partial table: row {}: prompt '{prompt}' of curve {key} has two rows for n = {n}",
                    row + 1
                )));
            }
            p.ns.push(n);
            p.estimate.gold.push(finite("gold", gold[row])?);
            p.estimate.proxy.push(finite("proxy", proxy[row])?);
            p.estimate.kl_pool.push(finite("kl_pool", kl_pool[row])?);
        }
        for p in &mut pools {
            // the rows of a pool in any order: sort them by n
            let mut order: Vec<usize> = (0..p.ns.len()).collect();
            order.sort_by_key(|&j| p.ns[j]);
            let pick = |v: &[f64]| order.iter().map(|&j| v[j]).collect::<Vec<f64>>();
            p.estimate = PoolEstimate {
                gold: pick(&p.estimate.gold),
                proxy: pick(&p.estimate.proxy),
                kl_pool: pick(&p.estimate.kl_pool),
            };
            p.ns = order.iter().map(|&j| p.ns[j]).collect();
        }
        pools.sort_by(|a, b| a.key.cmp(&b.key).then_with(|| a.prompt.cmp(&b.prompt)));
        Ok(BonPartial {
            options,
            pools,
            source: path.display().to_string(),
        })
    }
}

/// What [`bon_merge`] gives: the curves (as `goodhart bon` on the whole dump) and their options.
#[derive(Debug, Clone)]
pub struct Merged {
    pub curves: Vec<BonCurve>,
    pub options: PartialOptions,
    /// Notes of `--common-prompts` and of prompt sets that differ across n.
    pub notes: Vec<String>,
    pub pools: usize,
}

fn source_name(p: &BonPartial, i: usize) -> String {
    if p.source.is_empty() {
        format!("partial {}", i + 1)
    } else {
        p.source.clone()
    }
}

/// Merges partial tables of disjoint prompt sets into the curves of `goodhart bon` on all their
/// samples. Errors (naming the partials) for no partial, mixed options, a pool (key, prompt) in
/// two partials, `--common-prompts truncate` that would cut pools, and estimates at other n
/// values than the merged curve needs (shards with the default n grid but different largest
/// pools).
pub fn bon_merge(partials: &[BonPartial]) -> Result<Merged> {
    let Some(first) = partials.first() else {
        return Err(Error::Usage(
            "bon merge: no partial table given".to_string(),
        ));
    };
    for (i, p) in partials.iter().enumerate().skip(1) {
        if p.options != first.options {
            return Err(Error::Analysis(format!(
                "bon merge: {} was made with other options than {} ('{}' against '{}'): give every `goodhart bon --partial` the same options",
                source_name(p, i),
                source_name(first, 0),
                p.options.to_text(),
                first.options.to_text()
            )));
        }
    }
    let options = first.options.clone();
    // every pool with the partial it came from, sorted by (key, prompt)
    let mut all: Vec<(usize, &PartialPool)> = partials
        .iter()
        .enumerate()
        .flat_map(|(i, p)| p.pools.iter().map(move |pool| (i, pool)))
        .collect();
    all.sort_by(|a, b| {
        a.1.key
            .cmp(&b.1.key)
            .then_with(|| a.1.prompt.cmp(&b.1.prompt))
    });
    for w in all.windows(2) {
        let (a, b) = (w[0], w[1]);
        if a.1.key == b.1.key && a.1.prompt == b.1.prompt {
            let (x, y) = (a.0.min(b.0), a.0.max(b.0));
            return Err(Error::Analysis(format!(
                "bon merge: prompt '{}' of curve {} is in both {} and {}: split a dump by prompt, each prompt's samples in one shard",
                a.1.prompt,
                a.1.key,
                source_name(&partials[x], x),
                source_name(&partials[y], y)
            )));
        }
    }
    let mut notes = Vec::new();
    if let Some(mode) = options.common {
        let sizes: Vec<(CurveKey, usize)> = all.iter().map(|(_, p)| (p.key, p.pool_size)).collect();
        let (keep, cut_to, common_notes) =
            common_prompts_plan(&sizes, mode, options.bon.n.as_deref(), options.bon.seed)?;
        if let Some(i) = (0..all.len()).find(|&i| cut_to[i].is_some_and(|m| all[i].1.pool_size > m))
        {
            let p = all[i].1;
            return Err(Error::Analysis(format!(
                "bon merge: --common-prompts truncate would cut the pools of curve {} to its smallest pool ({} samples; prompt '{}' has {}), which needs the samples: make the partials with --common-prompts complete, or without --common-prompts, or cut the pools to one size before `goodhart bon --partial`",
                p.key,
                cut_to[i].unwrap_or_default(),
                p.prompt,
                p.pool_size
            )));
        }
        all = all
            .into_iter()
            .zip(keep)
            .filter_map(|(p, k)| k.then_some(p))
            .collect();
        notes.extend(common_notes);
    }
    let mut curves = Vec::new();
    let mut start = 0;
    while start < all.len() {
        let key = all[start].1.key;
        let end = start + all[start..].iter().take_while(|p| p.1.key == key).count();
        let group = &all[start..end];
        let max_pool = group.iter().map(|p| p.1.pool_size).max().unwrap_or(0);
        let ns = curve_ns(&key, max_pool, &options.bon)?;
        let mut ests = Vec::with_capacity(group.len());
        for &(i, p) in group {
            let reach = ns.iter().take_while(|&&n| n <= p.pool_size).count();
            if p.ns != ns[..reach] {
                let largest = partials[i]
                    .pools
                    .iter()
                    .filter(|q| q.key == key)
                    .map(|q| q.pool_size)
                    .max()
                    .unwrap_or(0);
                return Err(Error::Analysis(format!(
                    "bon merge: {} has the estimates of prompt '{}' of curve {key} at other n values than the merged curve needs: with the default n grid each shard uses the grid of its own largest pool ({largest} samples there, {max_pool} over all partials); give every `goodhart bon --partial` the same --n",
                    source_name(&partials[i], i),
                    p.prompt
                )));
            }
            ests.push(p.estimate.clone());
        }
        curves.push(curve_from_estimates(
            key,
            curves.len(),
            ests,
            &ns,
            &options.bon,
        ));
        start = end;
    }
    notes.extend(prompt_count_notes(&curves));
    Ok(Merged {
        curves,
        options,
        notes,
        pools: all.len(),
    })
}

/// `goodhart bon --partial`: reads the samples and writes their partial table to `out`
/// (created before any work; nothing is written when anything fails).
pub fn run_partial(
    inputs: &[PathBuf],
    out: &Path,
    map_args: &[String],
    logs: &crate::ingest::LogOptions,
    options: &PartialOptions,
) -> Result<BonSummary> {
    let sink = Sink::create(out)?;
    let start = Instant::now();
    let (pools, notes) = read_samples(inputs, map_args, logs)?;
    let read = start.elapsed().as_secs_f64();
    let partial = bon_partial(&pools, options)?;
    let estimate = start.elapsed().as_secs_f64() - read;
    let table = partial.to_table();
    let bytes = table.to_bytes_for(out)?;
    sink.commit(&bytes)?;
    let write = start.elapsed().as_secs_f64() - read - estimate;
    Ok(BonSummary {
        seconds: [read, estimate, write],
        together: None,
        pools: pools.len(),
        samples: pools.iter().map(|p| p.scores.len()).sum(),
        curves: group_by_key(&pools).len(),
        rows: table.n_rows(),
        notes,
    })
}

/// `goodhart bon merge`: reads partial tables, merges them and writes the Curves table to
/// `out` (created before any work; nothing is written when anything fails).
pub fn run_merge(inputs: &[PathBuf], out: &Path) -> Result<BonSummary> {
    let sink = Sink::create(out)?;
    let start = Instant::now();
    let partials = inputs
        .iter()
        .map(|p| BonPartial::read(p))
        .collect::<Result<Vec<_>>>()?;
    let read = start.elapsed().as_secs_f64();
    let merged = bon_merge(&partials)?;
    let estimate = start.elapsed().as_secs_f64() - read;
    let (table, table_notes) = curves_table_with(
        &merged.curves,
        merged.options.bon.kl,
        merged.options.prompt_values,
    );
    let mut notes = merged.notes;
    notes.extend(table_notes);
    let bytes = table.to_bytes_for(out)?;
    sink.commit(&bytes)?;
    let write = start.elapsed().as_secs_f64() - read - estimate;
    Ok(BonSummary {
        seconds: [read, estimate, write],
        together: None,
        pools: merged.pools,
        samples: 0,
        curves: merged.curves.len(),
        rows: table.n_rows(),
        notes,
    })
}
