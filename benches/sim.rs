//! The time of `goodhart generate sim --preset small` (every file written), the acceptance bar
//! being under 60 s on a 2-core machine.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

use goodhart::generate::sim::{Preset, Progress, SimSpec, write_world};

fn bench_sim(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let spec = SimSpec::preset(Preset::Small);
    let mut g = c.benchmark_group("sim");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(60));
    g.warm_up_time(Duration::from_secs(1));
    g.bench_function("small preset", |b| {
        b.iter(|| write_world(&spec, dir.path(), Progress::hidden()).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench_sim);
criterion_main!(benches);
