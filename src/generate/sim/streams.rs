//! The seeded random streams: every purpose (and every model or run) draws from its own ChaCha
//! generator, so the output bytes do not depend on the thread count or scheduling.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The seeded random streams of the world: each purpose (and each model or run) has its own,
/// so no draw depends on the order in which threads run.
#[derive(Debug, Clone, Copy)]
pub enum Stream {
    GoldNetwork = 1,
    Normalisation = 2,
    TrainComparisons = 3,
    ValComparisons = 4,
    ProxyInit = 5,
    ProxyOrder = 6,
    BonPrompt = 7,
    RlTrain = 8,
    RlEval = 9,
    // The token world (`generate tokens`).
    TokenFrequencies = 10,
    TokenEmbedding = 11,
    TokenIdiosyncrasy = 12,
    PolicyFeatures = 13,
    IteratedComparisons = 14,
}

/// The generator of `stream` for the given identifying values (a proxy width, a data size,
/// ...), derived from the seed by SplitMix64 mixing.
pub fn rng(seed: u64, stream: Stream, ids: &[u64]) -> ChaCha8Rng {
    let mut h = splitmix(seed ^ splitmix(stream as u64));
    for &id in ids {
        h = splitmix(h ^ splitmix(id.wrapping_add(0x5851_f42d_4c95_7f2d)));
    }
    ChaCha8Rng::seed_from_u64(h)
}

/// SplitMix64's finaliser: a bijective mix of 64 bits.
fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
