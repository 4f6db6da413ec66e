//! Criterion benchmarks of `goodhart bon` in-process: the estimator alone (with and without a
//! 1000-replicate bootstrap), reading a Samples Parquet file into pools, the bare Parquet read
//! (polars, the same three columns), the whole job on pools (read, estimate, render the CSV), and
//! `goodhart bon`'s own path (`bon::run`: batches of rows grouped by prompt, estimated as they are
//! read, and the Curves table written).
//!
//! Size: BON_BENCH_PROMPTS x BON_BENCH_SAMPLES (default 10,000 x 1,000, the benchmark).
//! Run: `cargo bench --bench bon`. The whole-process comparison with numpy is bench/bon_vs_numpy.sh.

use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use goodhart::bon::{BonOptions, bon_curves, curves_table, read_samples};
use goodhart::ingest::Format;
use goodhart::output::{OutColumn, OutTable};
use polars::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Writes the benchmark's Samples table (prompt as integers, Gaussian scores) once.
fn samples_file(prompts: usize, samples: usize) -> PathBuf {
    let path = std::env::temp_dir().join(format!("goodhart-bench-bon-{prompts}x{samples}.parquet"));
    if path.exists() {
        return path;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let normal = Normal::new(0.0, 1.0).expect("valid normal");
    let total = prompts * samples;
    let mut prompt = Vec::with_capacity(total);
    let mut proxy = Vec::with_capacity(total);
    let mut gold = Vec::with_capacity(total);
    for p in 0..prompts {
        for _ in 0..samples {
            let g: f64 = normal.sample(&mut rng);
            prompt.push(Some(p as i64));
            gold.push(Some(g));
            proxy.push(Some(g + 0.8 * normal.sample(&mut rng)));
        }
    }
    let mut t = OutTable::default();
    t.push("prompt", OutColumn::Integer(prompt));
    t.push("proxy", OutColumn::Number(proxy));
    t.push("gold", OutColumn::Number(gold));
    let bytes = t.to_bytes(Format::Parquet, &path).expect("parquet renders");
    std::fs::write(&path, bytes).expect("write bench data");
    path
}

fn bench_bon(c: &mut Criterion) {
    let prompts = env_usize("BON_BENCH_PROMPTS", 10_000);
    let samples = env_usize("BON_BENCH_SAMPLES", 1_000);
    let path = samples_file(prompts, samples);
    let inputs = vec![path.clone()];
    let rm = goodhart::ingest::LogOptions {
        meta: goodhart::ingest::RunMeta {
            rm_params: Some(1e8),
            ..Default::default()
        },
        ..Default::default()
    };
    let rm = &rm;
    let (pools, _) = read_samples(&inputs, &[], rm).expect("bench data reads");

    let mut g = c.benchmark_group(format!("bon_{prompts}x{samples}"));
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("parquet_read_only", |b| {
        b.iter(|| {
            let file = std::fs::File::open(&path).expect("open");
            ParquetReader::new(file)
                .with_columns(Some(vec!["prompt".into(), "proxy".into(), "gold".into()]))
                .finish()
                .expect("read")
        })
    });
    g.bench_function("read_samples", |b| {
        b.iter(|| read_samples(&inputs, &[], rm).expect("read"))
    });
    g.bench_function("estimate", |b| {
        b.iter(|| bon_curves(&pools, &BonOptions::default()).expect("estimate"))
    });
    let boot = BonOptions {
        bootstrap: 1000,
        seed: 1,
        ..BonOptions::default()
    };
    g.bench_function("estimate_bootstrap_1000", |b| {
        b.iter(|| bon_curves(&pools, &boot).expect("estimate"))
    });
    g.bench_function("end_to_end_csv", |b| {
        b.iter(|| {
            let (pools, _) = read_samples(&inputs, &[], rm).expect("read");
            let curves = bon_curves(&pools, &BonOptions::default()).expect("estimate");
            curves_table(&curves, boot.kl)
                .0
                .to_bytes(Format::Csv, "out.csv".as_ref())
                .expect("render")
        })
    });
    // The command's own path: rows grouped by prompt in one Parquet file are read a batch of
    // row groups at a time and estimated as they come (src/bon/streamed.rs), then the Curves
    // table with its per-prompt columns is written.
    let out = std::env::temp_dir().join("goodhart-bench-bon-run.csv");
    g.bench_function("run_grouped_parquet", |b| {
        b.iter(|| {
            goodhart::bon::run(
                &inputs,
                &out,
                &[],
                rm,
                &BonOptions::default(),
                &goodhart::bon::RunOptions {
                    common: None,
                    prompt_values: true,
                    progress: &goodhart::progress::Silent,
                },
            )
            .expect("run")
        })
    });
    g.finish();
}

criterion_group!(benches, bench_bon);
criterion_main!(benches);
