//! Fitting speed: 10,000 curves of 100 points each, in memory and read from Parquet.

use criterion::{Criterion, criterion_group, criterion_main};

use goodhart::curves::CurvesTable;
use goodhart::fit::{FitOptions, fit_curves};
use goodhart::generate::law::LawSpec;
use goodhart::ingest::ColumnMap;

fn spec() -> LawSpec {
    // 5,000 sizes x 2 methods = 10,000 curves, 100 points each, no baseline points.
    let rm_params = (0..5000)
        .map(|i| 1e6 * 10f64.powf(4.0 * i as f64 / 4999.0))
        .collect();
    LawSpec {
        rm_params,
        points: 100,
        baseline_points: 0,
        ..LawSpec::default()
    }
}

fn bench_fit(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("curves.parquet");
    let table = spec().generate().unwrap();
    std::fs::write(&path, table.to_bytes_for(&path).unwrap()).unwrap();
    let curves = CurvesTable::read(&path, &ColumnMap::default())
        .unwrap()
        .curves();
    assert_eq!(curves.len(), 10_000);
    let opts = FitOptions::default();
    let mut g = c.benchmark_group("fit");
    g.sample_size(20);
    g.bench_function("fit_curves 10000x100 (in memory)", |b| {
        b.iter(|| fit_curves(&curves, &opts).unwrap())
    });
    g.bench_function("read parquet + group + fit 10000x100", |b| {
        b.iter(|| {
            let t = CurvesTable::read(&path, &ColumnMap::default()).unwrap();
            fit_curves(&t.curves(), &opts).unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench_fit);
criterion_main!(benches);
