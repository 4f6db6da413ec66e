//! The Curves table validated, and grouped into the curves that are fitted.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::ingest::{ColumnData, ColumnMap, LogOptions, Table, check_equal_lengths, read_table};
use crate::schema::{CURVES, CurveKey, Method};

mod from_pages;

/// A validated Curves table (README.md, "The Curves table"; ARCHITECTURE.md), one entry per row.
#[derive(Debug, Clone)]
pub struct CurvesTable {
    pub path: PathBuf,
    pub method: Vec<Method>,
    pub rm_params: Vec<f64>,
    pub kl: Vec<f64>,
    pub gold: Vec<f64>,
    pub proxy: Option<Vec<Option<f64>>>,
    pub gold_se: Option<Vec<f64>>,
    pub proxy_se: Option<Vec<f64>>,
    pub policy_params: Option<Vec<Option<f64>>>,
    pub rm_data: Option<Vec<Option<f64>>>,
    pub kl_penalty: Option<Vec<Option<f64>>>,
    /// Policy entropy in nats (optional column `entropy`).
    pub entropy: Option<Vec<Option<f64>>>,
    /// Bootstrap replicate number (1..B) of each row; `None` on point-estimate rows.
    pub replicate: Option<Vec<Option<f64>>>,
    /// Per-prompt estimates of each row (`gold_prompts`, `proxy_prompts`; NaN where the
    /// prompt's pool is smaller than n); `None` on rows without them.
    pub gold_prompts: Option<Vec<Option<Vec<f64>>>>,
    pub proxy_prompts: Option<Vec<Option<Vec<f64>>>>,
}

/// The per-prompt estimates of every point of a best-of-n curve, as `goodhart bon` writes them
/// (`gold_prompts`, `proxy_prompts`): the material of the prompt bootstrap of `goodhart fit`.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptValues {
    /// `gold[i][p]`: prompt p's estimate at point i of the curve (NaN where the prompt's pool
    /// is smaller than the point's n). Every point lists the same prompts in the same order.
    pub gold: Vec<Vec<f64>>,
    pub proxy: Option<Vec<Vec<f64>>>,
}

/// One curve: the points that share a [`CurveKey`], sorted by KL (then by score), so that
/// results never depend on the order of rows in the file.
#[derive(Debug, Clone)]
pub struct Curve {
    pub key: CurveKey,
    pub kl: Vec<f64>,
    pub gold: Vec<f64>,
    pub proxy: Option<Vec<Option<f64>>>,
    pub gold_se: Option<Vec<f64>>,
    pub proxy_se: Option<Vec<f64>>,
    /// Policy entropy (nats) per point, when the table has an `entropy` column.
    pub entropy: Option<Vec<Option<f64>>>,
    /// Bootstrap replicates of this curve (rows with a `replicate` number), in replicate order;
    /// each is a curve of its own without replicates. Empty for most tables.
    pub replicates: Vec<Curve>,
    /// Per-prompt estimates of every point (`goodhart bon` writes them), in point order.
    pub prompts: Option<PromptValues>,
}

struct Check<'a> {
    path: &'a Path,
    table: &'a Table,
}

impl Check<'_> {
    fn bad(&self, column: &str, row: usize, value: String, problem: &str) -> Error {
        Error::BadValue {
            path: self.path.to_path_buf(),
            column: self.table.source_name(column),
            row,
            value,
            problem: problem.to_string(),
        }
    }

    fn numbers(&self, column: &str, data: Option<ColumnData>) -> Option<Vec<Option<f64>>> {
        match data {
            Some(ColumnData::Number(v)) => Some(v),
            Some(_) => unreachable!("{column} is a numeric column in the schema"),
            None => None,
        }
    }

    /// A required numeric column: every value present and satisfying `ok`.
    fn required(
        &self,
        column: &str,
        data: Option<ColumnData>,
        ok: impl Fn(f64) -> bool + Sync,
        problem: &str,
    ) -> Result<Vec<f64>> {
        let v = self.numbers(column, data).unwrap_or_default();
        // Checked first (the first bad row in file order), then copied in one pass.
        if let Some(i) = v.par_iter().position_first(|x| !x.is_some_and(&ok)) {
            return Err(match v[i] {
                Some(x) => self.bad(column, i + 1, format!("{x}"), problem),
                None => self.bad(column, i + 1, String::new(), "missing value"),
            });
        }
        Ok(v.par_iter().map(|x| x.unwrap_or_default()).collect())
    }

    /// An optional column of per-prompt values: space-separated numbers, `nan` allowed.
    fn prompt_lists(
        &self,
        column: &str,
        data: Option<ColumnData>,
    ) -> Result<Option<Vec<Option<Vec<f64>>>>> {
        let cells: Vec<Option<String>> = match data {
            None => return Ok(None),
            Some(ColumnData::Text(v)) => v,
            Some(ColumnData::Number(v)) => v
                .into_iter()
                .map(|x| x.map(crate::format::fmt_num))
                .collect(),
            Some(ColumnData::Label(l)) => l
                .codes
                .iter()
                .map(|c| c.map(|c| l.labels[c as usize].clone()))
                .collect(),
        };
        cells
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                let Some(text) = cell.as_deref().filter(|t| !t.trim().is_empty()) else {
                    return Ok(None);
                };
                let values = text
                    .split_ascii_whitespace()
                    .map(|tok| match tok.parse::<f64>() {
                        Ok(x) if x.is_finite() || x.is_nan() => Ok(x),
                        _ => Err(self.bad(
                            column,
                            i + 1,
                            tok.to_string(),
                            "per-prompt values must be numbers separated by spaces (nan where the prompt's pool is smaller than n)",
                        )),
                    })
                    .collect::<Result<Vec<f64>>>()?;
                if values.iter().all(|x| x.is_nan()) {
                    return Err(self.bad(
                        column,
                        i + 1,
                        text.chars().take(40).collect(),
                        "per-prompt values: no prompt has a value",
                    ));
                }
                Ok(Some(values))
            })
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }

    /// Every point row of a curve lists per-prompt values for the same number of prompts, or
    /// none does (replicate rows are not checked).
    fn prompt_rows_agree(
        &self,
        column: &str,
        lists: &Option<Vec<Option<Vec<f64>>>>,
        keys: &[CurveKey],
        replicate: &Option<Vec<Option<f64>>>,
    ) -> Result<()> {
        let Some(lists) = lists else {
            return Ok(());
        };
        let mut first: std::collections::HashMap<CurveKey, (usize, Option<usize>)> =
            Default::default();
        for (i, l) in lists.iter().enumerate() {
            if replicate.as_ref().is_some_and(|r| r[i].is_some()) {
                continue;
            }
            let count = l.as_ref().map(Vec::len);
            let (row, expected) = *first.entry(keys[i]).or_insert((i, count));
            if expected != count {
                let problem = match (expected, count) {
                    (Some(e), None) => format!(
                        "missing value: row {} of the same curve has {e} per-prompt values, and every point of a curve needs them",
                        row + 1
                    ),
                    (None, Some(_)) => format!(
                        "row {} of the same curve has no per-prompt values: give them on every point of a curve or on none",
                        row + 1
                    ),
                    (Some(e), Some(c)) => format!(
                        "{c} per-prompt values, but row {} of the same curve has {e}: every point of a curve lists the same prompts",
                        row + 1
                    ),
                    (None, None) => unreachable!("equal counts"),
                };
                let shown = l
                    .as_ref()
                    .map_or(String::new(), |v| format!("{} values", v.len()));
                return Err(self.bad(column, i + 1, shown, &problem));
            }
        }
        Ok(())
    }

    /// An optional numeric column: present values must satisfy `ok`; empty cells allowed.
    fn optional(
        &self,
        column: &str,
        data: Option<ColumnData>,
        ok: impl Fn(f64) -> bool,
        problem: &str,
    ) -> Result<Option<Vec<Option<f64>>>> {
        let Some(v) = self.numbers(column, data) else {
            return Ok(None);
        };
        for (i, x) in v.iter().enumerate() {
            if let Some(x) = x
                && !ok(*x)
            {
                return Err(self.bad(column, i + 1, format!("{x}"), problem));
            }
        }
        Ok(Some(v))
    }
}

impl CurvesTable {
    /// Reads and validates a Curves table from CSV, Parquet or NDJSON.
    pub fn read(path: &Path, map: &ColumnMap) -> Result<CurvesTable> {
        let table = read_table(path, CURVES, map)?;
        CurvesTable::from_table(table)
    }

    /// Validates a table read with the [`CURVES`] schema.
    pub fn from_table(mut table: Table) -> Result<CurvesTable> {
        let path = table.path.clone();
        let cols: Vec<(&str, Option<ColumnData>)> = [
            "method",
            "rm_params",
            "kl",
            "gold",
            "proxy",
            "gold_se",
            "proxy_se",
            "policy_params",
            "rm_data",
            "kl_penalty",
            "step",
            "n",
            "replicate",
            "entropy",
            "gold_prompts",
            "proxy_prompts",
        ]
        .into_iter()
        .map(|c| (c, table.take(c)))
        .collect();
        // Rows are indexed across columns (a curve's key, its points): one length for all.
        let sources: Vec<(String, usize)> = cols
            .iter()
            .filter_map(|(c, d)| d.as_ref().map(|d| (table.source_name(c), d.len())))
            .collect();
        let lengths: Vec<(&str, usize)> = sources.iter().map(|(c, n)| (c.as_str(), *n)).collect();
        check_equal_lengths(&path, None, &lengths)?;
        let mut cols = cols.into_iter();
        // Cannot fail: the list above has one name for each call of next() below.
        let mut next = || cols.next().expect("one entry per name above").1;
        let check = Check {
            path: &path,
            table: &table,
        };
        let method = match next() {
            // Each distinct label is parsed once; rows hold label codes.
            Some(ColumnData::Label(l)) => {
                let parsed: Vec<Option<Method>> =
                    l.labels.iter().map(|t| Method::parse(t)).collect();
                let method_of = |code: &Option<u32>| code.and_then(|c| parsed[c as usize]);
                if let Some(i) = l.codes.iter().position(|c| method_of(c).is_none()) {
                    let text = l.codes[i].map_or(String::new(), |c| l.labels[c as usize].clone());
                    return Err(check.bad("method", i + 1, text, "method must be 'bon' or 'rl'"));
                }
                l.codes
                    .iter()
                    .map(|c| method_of(c).unwrap_or(Method::Bon))
                    .collect::<Vec<_>>()
            }
            _ => unreachable!("method is a required label column"),
        };
        let finite_pos = |x: f64| x.is_finite() && x > 0.0;
        let rm_params = check.required(
            "rm_params",
            next(),
            finite_pos,
            "rm_params must be a finite number > 0",
        )?;
        let kl = check.required(
            "kl",
            next(),
            |x| x.is_finite() && x >= 0.0,
            "kl must be a finite number >= 0 (NaN, infinite and negative KL are not allowed)",
        )?;
        let gold = check.required(
            "gold",
            next(),
            f64::is_finite,
            "gold must be a finite number (not NaN or infinite)",
        )?;
        let proxy = check.optional(
            "proxy",
            next(),
            f64::is_finite,
            "proxy must be a finite number (leave the cell empty when unknown)",
        )?;
        let se_ok = "a standard error must be a finite number > 0";
        let gold_se = match next() {
            Some(d) => Some(check.required("gold_se", Some(d), finite_pos, se_ok)?),
            None => None,
        };
        let proxy_se = match next() {
            Some(d) => Some(check.required("proxy_se", Some(d), finite_pos, se_ok)?),
            None => None,
        };
        let policy_params = check.optional(
            "policy_params",
            next(),
            finite_pos,
            "policy_params must be a finite number > 0",
        )?;
        let rm_data = check.optional(
            "rm_data",
            next(),
            finite_pos,
            "rm_data must be a finite number > 0",
        )?;
        let kl_penalty = check.optional(
            "kl_penalty",
            next(),
            |x| x.is_finite() && x >= 0.0,
            "kl_penalty must be a finite number >= 0",
        )?;
        let whole = |x: f64| x.is_finite() && x >= 0.0 && x.fract() == 0.0;
        check.optional("step", next(), whole, "step must be a whole number >= 0")?;
        check.optional(
            "n",
            next(),
            |x| whole(x) && x >= 1.0,
            "n must be a whole number >= 1",
        )?;
        let replicate = check.optional(
            "replicate",
            next(),
            |x| whole(x) && x >= 1.0,
            "replicate must be a whole number >= 1 (leave it empty on the point estimate)",
        )?;
        let entropy = check.optional(
            "entropy",
            next(),
            f64::is_finite,
            "entropy must be a finite number (leave the cell empty when unknown)",
        )?;
        let gold_prompts = check.prompt_lists("gold_prompts", next())?;
        let proxy_prompts = check.prompt_lists("proxy_prompts", next())?;
        let out = CurvesTable {
            path: path.clone(),
            method,
            rm_params,
            kl,
            gold,
            proxy,
            gold_se,
            proxy_se,
            policy_params,
            rm_data,
            kl_penalty,
            entropy,
            replicate,
            gold_prompts,
            proxy_prompts,
        };
        if out.gold_prompts.is_some() || out.proxy_prompts.is_some() {
            let keys: Vec<CurveKey> = (0..out.len()).map(|i| out.key(i)).collect();
            check.prompt_rows_agree("gold_prompts", &out.gold_prompts, &keys, &out.replicate)?;
            check.prompt_rows_agree("proxy_prompts", &out.proxy_prompts, &keys, &out.replicate)?;
        }
        Ok(out)
    }

    pub fn len(&self) -> usize {
        self.kl.len()
    }

    pub fn is_empty(&self) -> bool {
        self.kl.is_empty()
    }

    pub fn has_proxy(&self) -> bool {
        self.proxy
            .as_ref()
            .is_some_and(|p| p.iter().any(Option::is_some))
    }

    fn key(&self, i: usize) -> CurveKey {
        let get = |c: &Option<Vec<Option<f64>>>| c.as_ref().and_then(|v| v[i]);
        CurveKey {
            method: self.method[i],
            rm_params: self.rm_params[i],
            policy_params: get(&self.policy_params),
            rm_data: get(&self.rm_data),
            kl_penalty: get(&self.kl_penalty),
        }
    }

    /// Groups rows into curves, in key order; within a curve points are sorted by
    /// (kl, gold, proxy), so the result does not depend on the order of rows. Rows with a
    /// `replicate` number go to the curve's [`Curve::replicates`].
    pub fn curves(&self) -> Vec<Curve> {
        let proxy_of = |i: usize| self.proxy.as_ref().and_then(|p| p[i]).unwrap_or(f64::NAN);
        let replicate_of = |i: usize| self.replicate.as_ref().and_then(|r| r[i]);
        let point_order = |&a: &usize, &b: &usize| {
            replicate_of(a)
                .unwrap_or(0.0)
                .total_cmp(&replicate_of(b).unwrap_or(0.0))
                .then(self.kl[a].total_cmp(&self.kl[b]))
                .then(self.gold[a].total_cmp(&self.gold[b]))
                .then(proxy_of(a).total_cmp(&proxy_of(b)))
                .then_with(|| {
                    let se = |c: &Option<Vec<f64>>, i: usize| c.as_ref().map_or(0.0, |v| v[i]);
                    se(&self.gold_se, a)
                        .total_cmp(&se(&self.gold_se, b))
                        .then(se(&self.proxy_se, a).total_cmp(&se(&self.proxy_se, b)))
                })
        };
        let (order, start) = group_rows(self.len(), |i| self.key(i), point_order);
        let empty = |key| Curve {
            key,
            kl: Vec::new(),
            gold: Vec::new(),
            proxy: self.proxy.as_ref().map(|_| Vec::new()),
            gold_se: self.gold_se.as_ref().map(|_| Vec::new()),
            proxy_se: self.proxy_se.as_ref().map(|_| Vec::new()),
            entropy: self.entropy.as_ref().map(|_| Vec::new()),
            replicates: Vec::new(),
            prompts: None,
        };
        let build = |rows: &[usize]| {
            let mut curve = empty(self.key(rows[0]));
            let n = rows.len();
            curve.kl.reserve_exact(n);
            curve.gold.reserve_exact(n);
            for v in [curve.gold_se.as_mut(), curve.proxy_se.as_mut()]
                .into_iter()
                .flatten()
            {
                v.reserve_exact(n);
            }
            for v in [curve.proxy.as_mut(), curve.entropy.as_mut()]
                .into_iter()
                .flatten()
            {
                v.reserve_exact(n);
            }
            // The replicate number of the last replicate curve started.
            let mut last_replicate: Option<f64> = None;
            let mut gold_prompts: Vec<Vec<f64>> = Vec::new();
            let mut proxy_prompts: Vec<Vec<f64>> = Vec::new();
            for &i in rows {
                let mut c = &mut curve;
                if let Some(r) = replicate_of(i) {
                    if last_replicate != Some(r) {
                        c.replicates.push(empty(self.key(i)));
                        last_replicate = Some(r);
                    }
                    // Cannot fail: a replicate curve is pushed above before its first point.
                    c = c.replicates.last_mut().expect("pushed above");
                } else {
                    let list = |col: &Option<Vec<Option<Vec<f64>>>>| {
                        col.as_ref().and_then(|v| v[i].clone())
                    };
                    gold_prompts.extend(list(&self.gold_prompts));
                    proxy_prompts.extend(list(&self.proxy_prompts));
                }
                c.kl.push(self.kl[i]);
                c.gold.push(self.gold[i]);
                if let (Some(p), Some(src)) = (c.proxy.as_mut(), self.proxy.as_ref()) {
                    p.push(src[i]);
                }
                if let (Some(p), Some(src)) = (c.gold_se.as_mut(), self.gold_se.as_ref()) {
                    p.push(src[i]);
                }
                if let (Some(p), Some(src)) = (c.proxy_se.as_mut(), self.proxy_se.as_ref()) {
                    p.push(src[i]);
                }
                if let (Some(p), Some(src)) = (c.entropy.as_mut(), self.entropy.as_ref()) {
                    p.push(src[i]);
                }
            }
            // Validated in `from_table`: a curve's point rows all have the lists, or none do.
            if gold_prompts.len() == curve.kl.len() && !gold_prompts.is_empty() {
                curve.prompts = Some(PromptValues {
                    gold: gold_prompts,
                    proxy: (proxy_prompts.len() == curve.kl.len()).then_some(proxy_prompts),
                });
            }
            curve
        };
        start
            .par_windows(2)
            .map(|w| build(&order[w[0]..w[1]]))
            .collect()
    }
}

/// Row indices ordered by curve key, then by `point_order` within each curve: rows get a curve
/// id by hashing their key (the previous row's id is reused while the key repeats, so a file
/// whose rows come curve by curve hashes once per curve), the distinct keys are sorted, rows are
/// bucketed by key rank, and only the points of each curve are sorted (in linear time when they
/// come sorted). `key(i)` is row i's key; no key is stored per row.
fn group_rows(
    n: usize,
    key: impl Fn(usize) -> CurveKey,
    point_order: impl Fn(&usize, &usize) -> std::cmp::Ordering + Sync,
) -> (Vec<usize>, Vec<usize>) {
    let mut id_of: std::collections::HashMap<CurveKey, u32> = Default::default();
    let mut distinct: Vec<CurveKey> = Vec::new();
    let mut ids: Vec<u32> = Vec::with_capacity(n);
    let mut previous: Option<(CurveKey, u32)> = None;
    for i in 0..n {
        let k = key(i);
        let id = match previous {
            Some((p, id)) if p == k => id,
            _ => {
                let id = *id_of.entry(k).or_insert_with(|| {
                    distinct.push(k);
                    (distinct.len() - 1) as u32
                });
                previous = Some((k, id));
                id
            }
        };
        ids.push(id);
    }
    let mut by_key: Vec<usize> = (0..distinct.len()).collect();
    by_key.sort_by(|&a, &b| distinct[a].cmp(&distinct[b]));
    let mut rank = vec![0; distinct.len()];
    for (r, &id) in by_key.iter().enumerate() {
        rank[id] = r;
    }
    let mut start = vec![0usize; distinct.len() + 1];
    for &id in &ids {
        start[rank[id as usize] + 1] += 1;
    }
    for r in 0..distinct.len() {
        start[r + 1] += start[r];
    }
    let mut next = start.clone();
    let mut order = vec![0usize; n];
    for (i, &id) in ids.iter().enumerate() {
        let r = rank[id as usize];
        order[next[r]] = i;
        next[r] += 1;
    }
    drop(ids);
    let mut groups: Vec<&mut [usize]> = Vec::with_capacity(distinct.len());
    let mut rest = order.as_mut_slice();
    for r in 0..distinct.len() {
        let (group, tail) = rest.split_at_mut(start[r + 1] - start[r]);
        groups.push(group);
        rest = tail;
    }
    groups.into_par_iter().for_each(|g| g.sort_by(&point_order));
    (order, start)
}

/// An RL curve whose largest KL is below this many nats, with a fitted gold peak below
/// [`PER_TOKEN_PEAK_KL`], looks like it holds KL per token ([`per_token_note`]).
pub const PER_TOKEN_MAX_KL: f64 = 1.0;

/// The fitted peak KL (nats) below which a curve within [`PER_TOKEN_MAX_KL`] looks per token.
pub const PER_TOKEN_PEAK_KL: f64 = 0.1;

/// A plausibility note when an RL curve's `kl` looks like KL per token rather than per sequence:
/// its largest KL is below [`PER_TOKEN_MAX_KL`] (1 nat) and the fitted gold peak (`peak_kl`)
/// below [`PER_TOKEN_PEAK_KL`] (0.1 nat). Summed over a response's tokens, the KL of an RL run
/// reaches several nats, and the peaks of the paper lie at tens of nats; the per-token mean KL
/// that GRPO-style trainers log is typically 0.01 to 0.5. Best-of-n curves are not checked:
/// their KL is computed from n. `None` when the curve looks per sequence.
pub fn per_token_note(curve: &Curve, peak_kl: Option<f64>) -> Option<String> {
    if curve.key.method != Method::Rl {
        return None;
    }
    let max = curve.kl.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let peak = peak_kl?;
    (max < PER_TOKEN_MAX_KL && peak < PER_TOKEN_PEAK_KL).then(|| {
        format!(
            "KL looks per token: the largest kl is {} nats and the fitted gold peak is at {} nats, where RL runs measured per sequence (summed over a response's tokens) reach several nats and peak later; if kl is a per-token mean, multiply it by the mean response length (for a trainer log: --length-key, or --kl-unit token; README, \"The Curves table\")",
            crate::format::g6(max),
            crate::format::g6(peak)
        )
    })
}

/// Reads several Curves files (tidy tables or, per `logs`, trainer logs) and concatenates their
/// curves (keys must not repeat across files). Warnings of the adapters (points dropped for
/// NaN, approximate KL units, unmatched gold evaluations) are returned beside the curves, for the
/// caller to show.
pub fn read_curves(
    paths: &[PathBuf],
    map: &ColumnMap,
    logs: &LogOptions,
) -> Result<(Vec<Curve>, Vec<String>)> {
    read_curves_with_unit(paths, map, logs).map(|(c, w, _)| (c, w))
}

/// [`read_curves`], and whether the KL read is per token (a trainer log's per-token KL that no
/// response length converted: every input then has it, since units are never mixed).
pub fn read_curves_with_unit(
    paths: &[PathBuf],
    map: &ColumnMap,
    logs: &LogOptions,
) -> Result<(Vec<Curve>, Vec<String>, bool)> {
    // A manifest's rows are trainer logs (their run column names each run).
    let any_log = logs.runs.is_some()
        || paths.iter().any(|p| {
            crate::ingest::adapters::resolve_format(p, logs)
                .is_ok_and(|d| d.format.is_trainer_log())
        });
    crate::ingest::metadata::check_run_flag(any_log, logs)?;
    // A plain Parquet or CSV table: typed columns, curves built directly (same curves, same
    // order); a Parquet file's pages first poured straight into the curves.
    if crate::ingest::fast_curves::eligible(paths, map, logs)
        && let Some(curves) = parquet_page_curves(&paths[0])
            .or_else(|| crate::ingest::fast_curves::read(&paths[0]).and_then(fast_curves))
    {
        return Ok((curves, Vec::new(), false));
    }
    let tables = crate::ingest::manifest::read_all_curve_tables(paths, map, logs)?;
    let per_token = tables
        .iter()
        .any(|t| t.unit == crate::ingest::adapters::kl_units::UnitTag::Token);
    let mut warnings = Vec::new();
    let mut all: Vec<Curve> = Vec::new();
    let mut origin: std::collections::BTreeMap<CurveKey, String> = Default::default();
    for loaded in tables {
        warnings.extend(loaded.info.warnings);
        let source = loaded.info.source;
        let table = CurvesTable::from_table(loaded.table)?;
        for c in table.curves() {
            if let Some(other) = origin.get(&c.key) {
                return Err(Error::Analysis(format!(
                    "curve {} appears in both {} and {}: give each curve in one file, or tell them apart with a key column (policy_params, rm_data, kl_penalty)",
                    c.key, other, source
                )));
            }
            origin.insert(c.key, source.clone());
            all.push(c);
        }
    }
    all.sort_by_key(|c| c.key);
    Ok((all, warnings, per_token))
}

/// The curves of a plain table's columns ([`crate::ingest::fast_curves`]), the same as
/// [`CurvesTable::from_table`] then [`CurvesTable::curves`] give, in key order; `None` when a
/// value is one the general reader refuses (it then reports it) or a curve's rows are not
/// together in the file (the general reader groups them).
pub fn fast_curves(c: crate::ingest::fast_curves::CurveColumns) -> Option<Vec<Curve>> {
    use crate::ingest::fast_curves::Values;
    let finite_pos = |x: f64| x.is_finite() && x > 0.0;
    let finite_nonneg = |x: f64| x.is_finite() && x >= 0.0;
    let all = |v: &Option<Values>, ok: &(dyn Fn(f64) -> bool + Sync)| {
        v.as_ref().is_none_or(|v| v.all(ok))
    };
    let n = c.kl.len();
    let lengths_agree = [
        Some(&c.rm_params),
        Some(&c.gold),
        c.proxy.as_ref(),
        c.gold_se.as_ref(),
        c.proxy_se.as_ref(),
        c.policy_params.as_ref(),
        c.rm_data.as_ref(),
        c.kl_penalty.as_ref(),
        c.entropy.as_ref(),
    ]
    .into_iter()
    .flatten()
    .all(|v| v.len() == n)
        && c.method.len() == n;
    let ok = n > 0
        && lengths_agree
        && c.rm_params.all(finite_pos)
        && c.kl.all(finite_nonneg)
        && c.gold.all(f64::is_finite)
        && all(&c.proxy, &f64::is_finite)
        && all(&c.gold_se, &finite_pos)
        && all(&c.proxy_se, &finite_pos)
        && all(&c.policy_params, &finite_pos)
        && all(&c.rm_data, &finite_pos)
        && all(&c.kl_penalty, &finite_nonneg)
        && all(&c.entropy, &f64::is_finite);
    if !ok {
        return None;
    }
    // Runs of rows with one key: one comparison per row, the columns read in row order, a
    // segment of rows per parallel task; runs that meet at a segment's edge are joined.
    const SEGMENT: usize = 1 << 16;
    let segment_runs = |first: usize| -> Vec<(CurveKey, usize, usize)> {
        let last = (first + SEGMENT).min(n);
        // A key column's values as options (`None` on every row when the column is absent).
        fn optional(
            v: &Option<Values>,
            first: usize,
            last: usize,
        ) -> impl Iterator<Item = Option<f64>> + '_ {
            v.iter()
                .flat_map(move |v| v.iter_range(first, last))
                .map(Some)
                .chain(std::iter::repeat(None))
        }
        let keys = c.method[first..last]
            .iter()
            .zip(c.rm_params.iter_range(first, last))
            .zip(optional(&c.policy_params, first, last))
            .zip(optional(&c.rm_data, first, last))
            .zip(optional(&c.kl_penalty, first, last))
            .map(
                |((((&method, rm_params), policy_params), rm_data), kl_penalty)| CurveKey {
                    method,
                    rm_params,
                    policy_params,
                    rm_data,
                    kl_penalty,
                },
            );
        let mut runs = Vec::new();
        let mut start = first;
        let mut current: Option<CurveKey> = None;
        for (i, key) in (first..).zip(keys) {
            match current {
                Some(k) if k == key => {}
                Some(k) => {
                    runs.push((k, start, i));
                    current = Some(key);
                    start = i;
                }
                None => current = Some(key),
            }
        }
        runs.extend(current.map(|k| (k, start, last)));
        runs
    };
    let firsts: Vec<usize> = (0..n).step_by(SEGMENT).collect();
    let segments: Vec<Vec<(CurveKey, usize, usize)>> = firsts
        .par_iter()
        .map(|&first| segment_runs(first))
        .collect();
    let mut runs: Vec<(CurveKey, usize, usize)> = Vec::new();
    for run in segments.into_iter().flatten() {
        match runs.last_mut() {
            Some(last) if last.0 == run.0 && last.2 == run.1 => last.2 = run.2,
            _ => runs.push(run),
        }
    }
    runs.sort_by_key(|r| r.0);
    // A key in two runs: the file does not give a curve's rows together.
    if runs.windows(2).any(|w| w[0].0 == w[1].0) {
        return None;
    }
    let build = |&(key, start, end): &(CurveKey, usize, usize)| {
        let take = |v: &Values| v.range(start, end);
        curve_of_points(
            key,
            RowPoints {
                kl: take(&c.kl),
                gold: take(&c.gold),
                proxy: c.proxy.as_ref().map(take),
                gold_se: c.gold_se.as_ref().map(take),
                proxy_se: c.proxy_se.as_ref().map(take),
                entropy: c.entropy.as_ref().map(take),
            },
        )
    };
    Some(runs.par_iter().map(build).collect())
}

/// The curves of a plain Parquet Curves table read page by page straight into each curve's
/// points ([`read_curves`] tries this first): the curves [`fast_curves`] gives, or `None` for a
/// file this reader leaves to the others.
pub fn parquet_page_curves(path: &Path) -> Option<Vec<Curve>> {
    from_pages::read(path)
}

/// One curve's points in file order, every column of a plain table (no missing cell).
pub(crate) struct RowPoints {
    pub kl: Vec<f64>,
    pub gold: Vec<f64>,
    pub proxy: Option<Vec<f64>>,
    pub gold_se: Option<Vec<f64>>,
    pub proxy_se: Option<Vec<f64>>,
    pub entropy: Option<Vec<f64>>,
}

/// A curve's point columns, sorted together by (kl, gold, proxy, gold_se, proxy_se) (a
/// missing proxy last, a missing standard error as 0; `entropy` follows its rows).
struct PointColumns<'a> {
    kl: &'a mut [f64],
    gold: &'a mut [f64],
    proxy: Option<&'a mut [f64]>,
    gold_se: Option<&'a mut [f64]>,
    proxy_se: Option<&'a mut [f64]>,
    entropy: Option<&'a mut [f64]>,
}

impl PointColumns<'_> {
    fn order(&self, a: usize, b: usize) -> std::cmp::Ordering {
        let or = |v: &Option<&mut [f64]>, i: usize, d: f64| v.as_ref().map_or(d, |v| v[i]);
        self.kl[a]
            .total_cmp(&self.kl[b])
            .then_with(|| self.gold[a].total_cmp(&self.gold[b]))
            .then_with(|| or(&self.proxy, a, f64::NAN).total_cmp(&or(&self.proxy, b, f64::NAN)))
            .then_with(|| or(&self.gold_se, a, 0.0).total_cmp(&or(&self.gold_se, b, 0.0)))
            .then_with(|| or(&self.proxy_se, a, 0.0).total_cmp(&or(&self.proxy_se, b, 0.0)))
    }

    /// `f` on every column present, `kl` first.
    fn each_column(&mut self, mut f: impl FnMut(&mut [f64])) {
        f(self.kl);
        f(self.gold);
        for v in [
            &mut self.proxy,
            &mut self.gold_se,
            &mut self.proxy_se,
            &mut self.entropy,
        ]
        .into_iter()
        .flatten()
        {
            f(v);
        }
    }

    fn swap(&mut self, a: usize, b: usize) {
        self.each_column(|v| v.swap(a, b));
    }

    /// A stable insertion sort (only neighbours in the wrong order are swapped); `false` when
    /// it stops after `budget` swaps, the points then in an order from which a stable sort
    /// gives the stable sort of the original order.
    fn insertion_sort(&mut self, budget: usize) -> bool {
        let mut swaps = 0;
        for i in 1..self.kl.len() {
            let mut j = i;
            while j > 0 && self.order(j - 1, j).is_gt() {
                if swaps == budget {
                    return false;
                }
                self.swap(j - 1, j);
                swaps += 1;
                j -= 1;
            }
        }
        true
    }

    /// A stable sort through a sorted list of row indices.
    fn sort_by_index(&mut self) {
        let mut rows: Vec<usize> = (0..self.kl.len()).collect();
        rows.sort_by(|&a, &b| self.order(a, b));
        self.each_column(|v| {
            let sorted: Vec<f64> = rows.iter().map(|&i| v[i]).collect();
            v.copy_from_slice(&sorted);
        });
    }
}

/// The curve of `key` made of its rows' points, sorted as the general reader sorts them.
pub(crate) fn curve_of_points(key: CurveKey, points: RowPoints) -> Curve {
    let RowPoints {
        mut kl,
        mut gold,
        mut proxy,
        mut gold_se,
        mut proxy_se,
        mut entropy,
    } = points;
    // The points in the general reader's order: by (kl, gold, proxy, gold_se, proxy_se), rows
    // of equal points in file order (a stable sort). Rows come nearly sorted (by KL, the
    // kl = 0 rows in any order): an insertion sort in place, which moves each point left past
    // the points it must follow; past a budget of moves, a sort by index.
    let mut columns = PointColumns {
        kl: &mut kl,
        gold: &mut gold,
        proxy: proxy.as_deref_mut(),
        gold_se: gold_se.as_deref_mut(),
        proxy_se: proxy_se.as_deref_mut(),
        entropy: entropy.as_deref_mut(),
    };
    if !columns.insertion_sort(4 * columns.kl.len() + 64) {
        columns.sort_by_index();
    }
    let some = |v: Option<Vec<f64>>| v.map(|v| v.into_iter().map(Some).collect());
    Curve {
        key,
        kl,
        gold,
        proxy: some(proxy),
        gold_se,
        proxy_se,
        entropy: some(entropy),
        replicates: Vec::new(),
        prompts: None,
    }
}

#[cfg(test)]
mod tests {
    use super::PointColumns;
    use rand::{Rng, SeedableRng};

    /// The rows of `columns` in the order a stable sort by index gives, as tuples.
    fn by_index(mut c: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
        let [kl, gold, proxy, entropy] = &mut c[..] else {
            unreachable!()
        };
        let mut p = PointColumns {
            kl,
            gold,
            proxy: Some(proxy),
            gold_se: None,
            proxy_se: None,
            entropy: Some(entropy),
        };
        p.sort_by_index();
        c
    }

    /// The insertion sort gives the stable sort (rows of equal points in their first order, the
    /// entropy column following its rows), with or without running out of its budget of moves.
    #[test]
    fn the_insertion_sort_of_points_is_the_stable_sort() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for case in 0..400 {
            let n = rng.random_range(0..40);
            // Few distinct values: many ties; NaN proxies sort last.
            let value = |rng: &mut rand_chacha::ChaCha8Rng| f64::from(rng.random_range(0..4u8));
            let mut kl: Vec<f64> = (0..n).map(|_| value(&mut rng)).collect();
            if case % 2 == 0 {
                // nearly sorted, as files give them
                kl.sort_by(f64::total_cmp);
                if n > 3 {
                    kl.swap(1, n - 2);
                }
            }
            let gold: Vec<f64> = (0..n).map(|_| value(&mut rng)).collect();
            let proxy: Vec<f64> = (0..n)
                .map(|_| {
                    if rng.random_bool(0.2) {
                        f64::NAN
                    } else {
                        value(&mut rng)
                    }
                })
                .collect();
            // a row number: which row each point came from
            let entropy: Vec<f64> = (0..n).map(|i| i as f64).collect();
            let want = by_index(vec![
                kl.clone(),
                gold.clone(),
                proxy.clone(),
                entropy.clone(),
            ]);
            for budget in [0, 1, 5, 10_000] {
                let mut c = vec![kl.clone(), gold.clone(), proxy.clone(), entropy.clone()];
                let [k, g, p, e] = &mut c[..] else {
                    unreachable!()
                };
                let mut columns = PointColumns {
                    kl: k,
                    gold: g,
                    proxy: Some(p),
                    gold_se: None,
                    proxy_se: None,
                    entropy: Some(e),
                };
                if !columns.insertion_sort(budget) {
                    columns.sort_by_index();
                }
                let bits = |c: &Vec<Vec<f64>>| -> Vec<Vec<u64>> {
                    c.iter()
                        .map(|v| v.iter().map(|x| x.to_bits()).collect())
                        .collect()
                };
                assert_eq!(bits(&c), bits(&want), "case {case}, budget {budget}");
            }
        }
    }
}
