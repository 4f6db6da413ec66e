//! `goodhart bon`: best-of-n curves from raw scored samples, by the unbiased estimator, with the
//! plug-in pool KL, ties shared fairly, per-prompt standard errors and a prompt bootstrap.
//!
//! [`samples`] reads Samples tables and array dumps into pools, [`weights`] holds the estimator's
//! weights and KL, [`estimate`] turns pools into curves, [`prompts`] warns about and evens out
//! the prompt sets of unequal pools, [`partial`] splits the work by prompt and merges it
//! exactly; this module writes the Curves table.

mod columnar;
pub mod estimate;
mod fused;
pub mod partial;
pub mod prompts;
pub mod samples;
mod shuffled;
mod streamed;
pub mod weights;

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::progress::Observer;

pub use estimate::{
    BonCurve, BonOptions, CurvePoint, KlChoice, bon_curves, default_n_grid, estimate_pool,
    estimate_pools_of,
};
pub use partial::{BonPartial, Merged, PartialOptions, bon_merge, bon_partial};
pub use prompts::{CommonPrompts, common_prompts, common_prompts_plan, prompt_count_notes};
pub use samples::{Pool, read_samples};

use rayon::prelude::*;

use crate::error::Result;
use crate::output::{OutColumn, OutTable, Sink};

/// The Curves table of best-of-n curves without per-prompt values (see [`curves_table_with`]).
pub fn curves_table(curves: &[BonCurve], kl: KlChoice) -> (OutTable, Vec<String>) {
    curves_table_with(curves, kl, false)
}

/// The per-prompt estimates of one curve as cells, one per n: the prompts' values in pool
/// (prompt) order with 6 significant digits, separated by spaces, `nan` for a prompt whose pool
/// is smaller than n. The values are first laid out by n (read once, prompt by prompt), then each
/// n's cell is written in parallel.
fn prompt_cells(prompts: &[estimate::PoolEstimate], n_points: usize, gold: bool) -> Vec<String> {
    let by_n = ByN::new(prompts, n_points, gold);
    (0..n_points)
        .into_par_iter()
        .map(|k| {
            let mut cell = Vec::with_capacity(prompts.len() * 10);
            by_n.push_cell(k, &mut cell);
            // only ASCII digits, signs, points, spaces and `nan` are written
            String::from_utf8(cell).unwrap_or_default()
        })
        .collect()
}

/// One curve's per-prompt estimates of one score laid out by n value: `values[k * m + i]` is
/// prompt `i`'s estimate at the `k`-th n value (read once, prompt by prompt).
struct ByN {
    m: usize,
    values: Vec<f64>,
    /// the n values each prompt's pool reaches
    reach: Vec<usize>,
}

impl ByN {
    fn new(prompts: &[estimate::PoolEstimate], n_points: usize, gold: bool) -> ByN {
        let m = prompts.len();
        let mut values = vec![f64::NAN; n_points * m];
        for (i, e) in prompts.iter().enumerate() {
            let v = if gold { &e.gold } else { &e.proxy };
            for (k, &x) in v.iter().enumerate().take(n_points) {
                values[k * m + i] = x;
            }
        }
        ByN {
            m,
            values,
            reach: prompts.iter().map(|e| e.gold.len()).collect(),
        }
    }

    /// Appends the `k`-th n value's cell: every prompt's estimate in prompt order, with 6
    /// significant digits, separated by spaces, `nan` where the prompt's pool is smaller.
    fn push_cell(&self, k: usize, out: &mut Vec<u8>) {
        let values = &self.values[k * self.m..(k + 1) * self.m];
        for (i, &x) in values.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            if self.reach[i] > k {
                crate::format::push_g6_bytes(out, x);
            } else {
                out.extend_from_slice(b"nan");
            }
        }
    }
}

/// Writes the Curves table of `curves` as CSV to `sink` ([`OutTable::write_csv_with`]): the
/// table of [`curves_table_with`], with the per-prompt cells written straight into the text (the
/// same bytes as that table's CSV, without a String per cell). Its notes.
fn write_curves_csv(
    curves: &[BonCurve],
    kl: KlChoice,
    prompt_values: bool,
    (sink, out): (Sink, &Path),
) -> Result<Vec<String>> {
    let (table, notes) = curves_table_with(curves, kl, false);
    if !prompt_values {
        table.write_csv_with(sink, out, None)?;
        return Ok(notes);
    }
    // each row's curve and point (None on a replicate's row, whose cells are empty)
    let rows: Vec<(usize, Option<usize>)> = curves
        .iter()
        .enumerate()
        .flat_map(|(c, curve)| {
            let reps = curve.replicates.iter().flatten().map(move |_| (c, None));
            (0..curve.points.len())
                .map(move |k| (c, Some(k)))
                .chain(reps)
        })
        .collect();
    let by_n: Vec<(ByN, ByN)> = curves
        .par_iter()
        .map(|c| {
            rayon::join(
                || ByN::new(&c.prompts, c.points.len(), true),
                || ByN::new(&c.prompts, c.points.len(), false),
            )
        })
        .collect();
    // each per-prompt value takes at most 13 bytes and a space (`-0.000123457 `); a replicate's
    // row has none
    let row_bytes = |i: usize| match rows[i] {
        (c, Some(_)) => 2 * 14 * curves[c].prompts.len() + 2,
        (_, None) => 2,
    };
    let cells = |i: usize, text: &mut Vec<u8>| {
        let (c, point) = rows[i];
        for by in [&by_n[c].0, &by_n[c].1] {
            text.push(b',');
            if let Some(k) = point {
                by.push_cell(k, text);
            }
        }
    };
    let names = [crate::schema::GOLD_PROMPTS, crate::schema::PROXY_PROMPTS];
    table.write_csv_with(sink, out, Some((&names, &cells, &row_bytes)))?;
    Ok(notes)
}

/// The Curves table of best-of-n curves: `method`, `rm_params`, (`policy_params`, `rm_data`
/// when any pool has them), `n`, `kl`, `kl_pool`, `gold`, `proxy`, `gold_se`, `proxy_se`,
/// `n_prompts`, `replicate` (1..=B, empty on the point estimate) when there are replicates, and
/// with `prompt_values` the per-prompt estimates `gold_prompts` and `proxy_prompts` (on the
/// point-estimate rows; space-separated, 6 significant digits, `nan` where a prompt does not reach n) from which `goodhart fit` bootstraps prompts.
///
/// A standard-error column is left out when some point has none (fewer than 2 prompts, or no
/// spread), since `goodhart fit` needs every weight; the returned notes say so.
pub fn curves_table_with(
    curves: &[BonCurve],
    kl: KlChoice,
    prompt_values: bool,
) -> (OutTable, Vec<String>) {
    let mut notes = Vec::new();
    let rows: Vec<(&BonCurve, Option<usize>, &CurvePoint)> = curves
        .iter()
        .flat_map(|c| {
            let point = c.points.iter().map(move |p| (c, None, p));
            let reps = c
                .replicates
                .iter()
                .enumerate()
                .flat_map(move |(b, r)| r.iter().map(move |p| (c, Some(b + 1), p)));
            point.chain(reps)
        })
        .collect();
    let num = |f: &dyn Fn(&BonCurve, &CurvePoint) -> Option<f64>| {
        OutColumn::Number(rows.iter().map(|(c, _, p)| f(c, p)).collect())
    };
    let int = |f: &dyn Fn(&CurvePoint) -> i64| {
        OutColumn::Integer(rows.iter().map(|(_, _, p)| Some(f(p))).collect())
    };
    let mut t = OutTable::default();
    t.push(
        "method",
        OutColumn::Text(rows.iter().map(|_| Some("bon".to_string())).collect()),
    );
    t.push(crate::schema::RM_PARAMS, num(&|c, _| Some(c.key.rm_params)));
    if curves.iter().any(|c| c.key.policy_params.is_some()) {
        t.push(
            crate::schema::POLICY_PARAMS,
            num(&|c, _| c.key.policy_params),
        );
    }
    if curves.iter().any(|c| c.key.rm_data.is_some()) {
        t.push(crate::schema::RM_DATA, num(&|c, _| c.key.rm_data));
    }
    t.push("n", int(&|p| p.n as i64));
    t.push(
        "kl",
        num(&|_, p| {
            Some(match kl {
                KlChoice::Analytic => p.kl_analytic,
                KlChoice::Pool => p.kl_pool,
            })
        }),
    );
    t.push("kl_pool", num(&|_, p| Some(p.kl_pool)));
    t.push("gold", num(&|_, p| Some(p.gold)));
    t.push("proxy", num(&|_, p| Some(p.proxy)));
    for (name, se) in [
        (
            "gold_se",
            (|p: &CurvePoint| p.gold_se) as fn(&CurvePoint) -> Option<f64>,
        ),
        ("proxy_se", |p: &CurvePoint| p.proxy_se),
    ] {
        let missing = rows.iter().filter(|(_, _, p)| se(p).is_none()).count();
        if missing == 0 {
            t.push(name, num(&|_, p| se(p)));
        } else {
            notes.push(format!(
                "{name} left out: {missing} point(s) have no standard error (fewer than 2 prompts, or identical estimates), so fits of this table are unweighted"
            ));
        }
    }
    t.push("n_prompts", int(&|p| p.n_prompts as i64));
    if rows.iter().any(|(_, r, _)| r.is_some()) {
        t.push(
            "replicate",
            OutColumn::Integer(rows.iter().map(|(_, r, _)| r.map(|b| b as i64)).collect()),
        );
    }
    if prompt_values {
        for (name, gold) in [
            (crate::schema::GOLD_PROMPTS, true),
            (crate::schema::PROXY_PROMPTS, false),
        ] {
            let cells: Vec<Option<String>> = curves
                .iter()
                .flat_map(|c| {
                    // 10^4 prompts x 60 n values are 600,000 numbers to format per column
                    let point: Vec<Option<String>> = prompt_cells(&c.prompts, c.points.len(), gold)
                        .into_iter()
                        .map(Some)
                        .collect();
                    let reps = c.replicates.iter().flat_map(|r| r.iter().map(|_| None));
                    point.into_iter().chain(reps)
                })
                .collect();
            t.push(name, OutColumn::Text(cells));
        }
    }
    (t, notes)
}

/// Curves, notes, (pools, samples), read and estimate seconds.
type Done = (Vec<BonCurve>, Vec<String>, (usize, usize), f64, f64);

/// The curves of one Parquet file whose reward models' rows are contiguous, read and estimated
/// one reward model at a time ([`samples::ByKey`]), so that memory holds one model's samples;
/// `None` for any other input (or when the file needs the general reader), which is read whole.
/// The curves, notes and replicate streams are those of reading the whole file.
fn by_key_curves(
    inputs: &[PathBuf],
    map_args: &[String],
    logs: &crate::ingest::LogOptions,
    opts: &BonOptions,
    common: Option<CommonPrompts>,
    progress: &dyn Observer,
) -> Result<Option<Done>> {
    let Some(by_key) = samples::ByKey::new(inputs, map_args, logs)? else {
        return Ok(None);
    };
    let bar = (by_key.keys() > 1).then(|| progress.stage("reward models", by_key.keys() as u64));
    if let Some(ns) = &opts.n {
        estimate::sorted_ns(ns)?;
    }
    let (mut read, mut estimate) = (0.0, 0.0);
    let mut curves = Vec::with_capacity(by_key.keys());
    let mut notes = Vec::new();
    let (mut pools_seen, mut samples_seen) = (0, 0);
    for ci in 0..by_key.keys() {
        let start = Instant::now();
        let Some(mut pools) = by_key.pools(ci)? else {
            return Ok(None);
        };
        if let Some(mode) = common {
            let (kept, common_notes) = common_prompts(pools, mode, opts.n.as_deref(), opts.seed)?;
            pools = kept;
            notes.extend(common_notes);
        }
        let lap = start.elapsed().as_secs_f64();
        read += lap;
        pools_seen += pools.len();
        samples_seen += pools.iter().map(|p| p.scores.len()).sum::<usize>();
        let list: Vec<&Pool> = pools.iter().collect();
        if let Some(first) = list.first() {
            curves.push(estimate::curve_of(first.key, ci, &list, opts)?);
        }
        estimate += start.elapsed().as_secs_f64() - lap;
        if let Some(b) = &bar {
            b.inc(1);
        }
    }
    if let Some(b) = &bar {
        b.finish();
    }
    Ok(Some((
        curves,
        notes,
        (pools_seen, samples_seen),
        read,
        estimate,
    )))
}

/// What `goodhart bon` did, for its report.
#[derive(Debug, Clone)]
pub struct BonSummary {
    pub pools: usize,
    pub samples: usize,
    pub curves: usize,
    pub rows: usize,
    pub notes: Vec<String>,
    /// Wall-clock seconds spent reading (into sorted pools), estimating, and rendering+writing.
    pub seconds: [f64; 3],
    /// How the samples were read when they were read and estimated together (one Parquet
    /// file): `seconds[0]` is both, `seconds[1]` is 0. `None`: read, then estimated.
    pub together: Option<ReadTogether>,
}

/// How one Parquet Samples table was read and estimated in one go ([`BonSummary::together`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadTogether {
    /// rows grouped by prompt: a batch of rows at a time, each complete pool estimated at once
    Batches,
    /// rows in any order: each row counted into its pool's place straight from the file's
    /// pages, then the pools estimated
    Counted,
}

impl ReadTogether {
    /// How the summary line says it.
    pub fn describe(self) -> &'static str {
        match self {
            ReadTogether::Batches => "a batch of rows at a time",
            ReadTogether::Counted => "rows counted into their pools from the file's pages",
        }
    }
}

/// How [`run`] runs beyond the estimator's options.
pub struct RunOptions<'a> {
    /// `--common-prompts` ([`common_prompts`], seeded by the estimator's seed).
    pub common: Option<CommonPrompts>,
    /// Whether the table has the per-prompt estimates (the default of the command).
    pub prompt_values: bool,
    /// Where the progress of long work goes.
    pub progress: &'a dyn Observer,
}

/// `goodhart bon`: reads the samples, estimates the curves and writes the Curves table to `out`
/// (created before any work; nothing is written when anything fails), as `run` says. The notes
/// include a warning for every curve whose n values average different prompt sets
/// ([`prompt_count_notes`]).
pub fn run(
    inputs: &[PathBuf],
    out: &Path,
    map_args: &[String],
    logs: &crate::ingest::LogOptions,
    opts: &BonOptions,
    run: &RunOptions<'_>,
) -> Result<BonSummary> {
    let RunOptions {
        common,
        prompt_values,
        progress,
    } = *run;
    let sink = Sink::create(out)?;
    let start = Instant::now();
    let streamed = match common {
        None => streamed::grouped_curves(inputs, map_args, logs, opts, progress)?,
        Some(_) => None,
    };
    let together = streamed.as_ref().map(|s| s.2);
    let by_key = match streamed {
        Some((curves, counts, _)) => {
            // read and estimated together, batch by batch
            let both = start.elapsed().as_secs_f64();
            Some((curves, Vec::new(), counts, both, 0.0))
        }
        None => by_key_curves(inputs, map_args, logs, opts, common, progress)?,
    };
    let (curves, mut notes, counts, read, estimate) = match by_key {
        Some(done) => done,
        None => {
            let (mut pools, mut notes) = read_samples(inputs, map_args, logs)?;
            if let Some(mode) = common {
                let (kept, common_notes) =
                    common_prompts(pools, mode, opts.n.as_deref(), opts.seed)?;
                pools = kept;
                notes.extend(common_notes);
            }
            let read = start.elapsed().as_secs_f64();
            let curves = estimate::bon_curves_observed(&pools, opts, progress)?;
            let counts = (pools.len(), pools.iter().map(|p| p.scores.len()).sum());
            drop(pools);
            let estimate = start.elapsed().as_secs_f64() - read;
            (curves, notes, counts, read, estimate)
        }
    };
    notes.extend(prompt_count_notes(&curves));
    let rows = curves
        .iter()
        .map(|c| c.points.len() + c.replicates.iter().map(Vec::len).sum::<usize>())
        .sum();
    let table_notes = if OutTable::is_csv_for(out)? {
        write_curves_csv(&curves, opts.kl, prompt_values, (sink, out))?
    } else {
        let (table, notes) = curves_table_with(&curves, opts.kl, prompt_values);
        sink.commit(&table.to_bytes_for(out)?)?;
        notes
    };
    notes.extend(table_notes);
    let write = start.elapsed().as_secs_f64() - read - estimate;
    Ok(BonSummary {
        seconds: [read, estimate, write],
        together,
        pools: counts.0,
        samples: counts.1,
        curves: curves.len(),
        rows,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{CurveKey, Method};
    use rand::{Rng, SeedableRng};

    /// The CSV written with the per-prompt cells made straight into the text is byte for byte
    /// the CSV of the table with those cells as text columns: pools of unequal sizes (`nan`
    /// cells), two reward models, bootstrap replicates (empty cells), negative, small and large
    /// numbers; and without per-prompt values. With 700 prompts a row's per-prompt cells are
    /// longer than `CSV_LONG_ROW`, and the rows are made one a block.
    #[test]
    fn curves_csv_written_by_blocks_is_the_tables_csv() {
        for n_prompts in [23, 700] {
            curves_csv_of_prompts_written_by_blocks_is_the_tables_csv(n_prompts);
        }
    }

    fn curves_csv_of_prompts_written_by_blocks_is_the_tables_csv(n_prompts: usize) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let mut pools = Vec::new();
        for (r, rm) in [1e7, 3e9].into_iter().enumerate() {
            for p in 0..n_prompts {
                let size = [2, 5, 40, 100][(p + r) % 4];
                let mut scores: Vec<(f64, f64)> = (0..size)
                    .map(|_| {
                        let g: f64 =
                            rng.random_range(-3.0..3.0) * 10f64.powi(rng.random_range(-6..8));
                        (g + rng.random_range(-1.0..1.0), g)
                    })
                    .collect();
                samples::sort_scores(&mut scores);
                pools.push(Pool {
                    key: CurveKey {
                        method: Method::Bon,
                        rm_params: rm,
                        policy_params: None,
                        rm_data: None,
                        kl_penalty: None,
                    },
                    prompt: format!("p{p}"),
                    scores,
                    path: PathBuf::from("x"),
                });
            }
        }
        let opts = BonOptions {
            bootstrap: 3,
            seed: 2,
            ..BonOptions::default()
        };
        let curves = bon_curves(&pools, &opts).unwrap();
        let dir = tempfile::tempdir().unwrap();
        for prompt_values in [true, false] {
            let out = dir.path().join(format!("c{prompt_values}.csv"));
            let notes = write_curves_csv(
                &curves,
                KlChoice::Analytic,
                prompt_values,
                (Sink::create(&out).unwrap(), &out),
            )
            .unwrap();
            let (table, table_notes) =
                curves_table_with(&curves, KlChoice::Analytic, prompt_values);
            let expected = table.to_bytes_for(&out).unwrap();
            assert_eq!(
                std::fs::read(&out).unwrap(),
                expected,
                "prompt values {prompt_values}, {n_prompts} prompts"
            );
            assert_eq!(notes, table_notes);
            if prompt_values {
                let text = String::from_utf8(expected).unwrap();
                assert!(text.contains("nan") && text.contains("e-") && text.contains(",,\n"));
            }
        }
    }
}
