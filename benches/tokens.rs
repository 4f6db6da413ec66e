//! The time of `goodhart generate tokens`: its hot kernel (the softmax of every RL step, per
//! policy width), a short REINFORCE run, and the whole test preset (every file written).
//! `bench/token_softmax_reference.py` times the same softmax in numpy for the ratio.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use goodhart::generate::sim::Progress;
use goodhart::generate::tokens::policy::{RlSettings, TokenPolicy, policy_features, reinforce};
use goodhart::generate::tokens::world::TokenWorld;
use goodhart::generate::tokens::{TokenPreset, TokenSpec, write_token_world};

fn bench_tokens(c: &mut Criterion) {
    let spec = TokenSpec::preset(TokenPreset::Small);
    let world = TokenWorld::new(&spec);
    let mut g = c.benchmark_group("tokens");
    for width in [8, 32, 128] {
        let features = policy_features(&world, width, 0.0, &mut ChaCha8Rng::seed_from_u64(1));
        let params = (0..world.positions * width)
            .map(|i| 0.01 * ((i % 7) as f64 - 3.0))
            .collect();
        let policy = TokenPolicy {
            world: &world,
            features: &features,
            width,
            params,
        };
        g.bench_function(format!("softmax width {width} (T 8, V 4096)"), |b| {
            b.iter(|| policy.distribution())
        });
    }
    let features = policy_features(&world, 8, 0.0, &mut ChaCha8Rng::seed_from_u64(1));
    let settings = RlSettings {
        steps: 100,
        batch: 32,
        lr: 0.01,
        evals: 2,
        penalty: 0.0,
    };
    g.bench_function("REINFORCE 100 steps width 8", |b| {
        b.iter(|| {
            let mut policy = TokenPolicy {
                world: &world,
                features: &features,
                width: 8,
                params: vec![0.0; world.positions * 8],
            };
            reinforce(
                &mut policy,
                &world.gold,
                settings,
                0,
                &mut ChaCha8Rng::seed_from_u64(2),
            )
        })
    });
    g.finish();

    let dir = tempfile::tempdir().unwrap();
    let test = TokenSpec::preset(TokenPreset::Test);
    let mut g = c.benchmark_group("tokens world");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(60));
    g.warm_up_time(Duration::from_secs(1));
    g.bench_function("test preset", |b| {
        b.iter(|| write_token_world(&test, dir.path(), Progress::hidden()).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench_tokens);
criterion_main!(benches);
