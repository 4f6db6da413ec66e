//! The token world itself: pi_0 over sequences of tokens with Zipf frequencies, the token
//! embeddings the reward models see, and the gold reward, all exact (no sampled
//! normalisation): every expectation under a position-wise policy is a sum over the vocabulary.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::spec::TokenSpec;
use crate::generate::sim::nets::{normal, normals};
use crate::generate::sim::{Stream, rng};

/// pi_0, the embeddings and the gold reward of one seed.
///
/// A response is `positions` tokens, each from a vocabulary of `vocab`; pi_0 draws the
/// positions independently, position t from `softmax(-s ln rank + jitter_t)`. The gold reward
/// of a response is the sum of its tokens' gold values ([`TokenWorld::gold`]), shifted and
/// scaled so that it has mean 0 and standard deviation 1 under pi_0 exactly.
#[derive(Debug, Clone)]
pub struct TokenWorld {
    pub positions: usize,
    pub vocab: usize,
    /// ln pi_0(v | t), row-major (t, v).
    pub logp0: Vec<f64>,
    /// pi_0(v | t), row-major (t, v).
    pub p0: Vec<f64>,
    /// The token's frequency averaged over positions.
    pub pbar: Vec<f64>,
    /// Columns of the reward models' token embedding.
    pub dims: usize,
    /// The reward models' token embedding, row-major (v, j); column 0 is the token's
    /// standardised surprisal -ln pbar.
    pub embedding: Vec<f64>,
    /// The gold value of each token (the gold reward of a response is their sum).
    pub gold: Vec<f64>,
}

impl TokenWorld {
    /// Builds the world of `spec` (its seed, vocabulary, frequencies, embedding and gold).
    pub fn new(spec: &TokenSpec) -> TokenWorld {
        let (t_len, v_len, k) = (spec.positions, spec.vocab, spec.embedding_dims);
        let mut jitter = rng(spec.seed, Stream::TokenFrequencies, &[]);
        let mut logp0 = Vec::with_capacity(t_len * v_len);
        for _ in 0..t_len {
            let row: Vec<f64> = (0..v_len)
                .map(|v| {
                    -spec.zipf_exponent * ((v + 1) as f64).ln()
                        + spec.position_jitter * normal(&mut jitter)
                })
                .collect();
            let lse = log_sum_exp(&row);
            logp0.extend(row.iter().map(|l| l - lse));
        }
        let p0: Vec<f64> = logp0.iter().map(|l| l.exp()).collect();
        let mut pbar = vec![0.0; v_len];
        for row in p0.chunks_exact(v_len) {
            for (b, p) in pbar.iter_mut().zip(row) {
                *b += p / t_len as f64;
            }
        }
        let mut emb_rng = rng(spec.seed, Stream::TokenEmbedding, &[]);
        let mut embedding = normals(v_len * k, &mut emb_rng);
        let w: Vec<f64> = normals(k, &mut emb_rng)
            .into_iter()
            .map(|x| x / (k as f64).sqrt())
            .collect();
        // The smooth part of the gold: a random direction of the embedding (before column 0
        // becomes the surprisal), standardised over the vocabulary.
        let smooth = standardise(
            &embedding
                .chunks_exact(k)
                .map(|e| e.iter().zip(&w).map(|(a, b)| a * b).sum())
                .collect::<Vec<f64>>(),
        );
        let surprisal: Vec<f64> = pbar.iter().map(|p| -p.ln()).collect();
        for (row, s) in embedding.chunks_exact_mut(k).zip(standardise(&surprisal)) {
            row[0] = s;
        }
        // Rarer is better up to the frequency 1/V, worse beyond it (an inverted U in
        // surprisal): the turn the proxies extrapolate past.
        let mean_surprisal: f64 = pbar.iter().zip(&surprisal).map(|(p, s)| p * s).sum();
        let ln_v = (v_len as f64).ln();
        let idio = normals(v_len, &mut rng(spec.seed, Stream::TokenIdiosyncrasy, &[]));
        let raw: Vec<f64> = (0..v_len)
            .map(|v| {
                let s = surprisal[v];
                let rare = (s - mean_surprisal) - spec.gold_turn_slope * (s - ln_v).max(0.0);
                spec.gold_smooth * smooth[v] + spec.gold_rarity * rare + spec.gold_idio * idio[v]
            })
            .collect();
        let mut world = TokenWorld {
            positions: t_len,
            vocab: v_len,
            logp0,
            p0,
            pbar,
            dims: k,
            embedding,
            gold: Vec::new(),
        };
        let (mean, var) = world.moments(&raw, &world.p0);
        world.gold = raw
            .iter()
            .map(|q| (q - mean / t_len as f64) / var.sqrt())
            .collect();
        world
    }

    /// Mean and variance of `sum_t r(x_t)` when the positions are drawn independently from the
    /// rows of `p` (row-major (t, v)).
    pub fn moments(&self, r: &[f64], p: &[f64]) -> (f64, f64) {
        let mut mean = 0.0;
        let mut var = 0.0;
        for row in p.chunks_exact(self.vocab) {
            let (m, s): (f64, f64) = row
                .iter()
                .zip(r)
                .fold((0.0, 0.0), |(m, s), (p, r)| (m + p * r, s + p * r * r));
            mean += m;
            var += s - m * m;
        }
        (mean, var)
    }

    /// The expectation of `sum_t r(x_t)` under the position-wise distribution `p`.
    pub fn expect(&self, r: &[f64], p: &[f64]) -> f64 {
        p.chunks_exact(self.vocab)
            .map(|row| row.iter().zip(r).map(|(p, r)| p * r).sum::<f64>())
            .sum()
    }

    /// KL(p || pi_0) and the entropy of p, both of the whole response, from ln p (row-major).
    pub fn kl_entropy(&self, logp: &[f64]) -> (f64, f64) {
        let mut kl = 0.0;
        let mut ent = 0.0;
        for (l, l0) in logp.iter().zip(&self.logp0) {
            let p = l.exp();
            if p > 0.0 {
                kl += p * (l - l0);
                ent -= p * l;
            }
        }
        (kl, ent)
    }

    /// Draws `n` responses from the position-wise distribution `p` (row-major (t, v)), as
    /// token indices row-major (response, t).
    pub fn sample(&self, p: &[f64], n: usize, rng: &mut ChaCha8Rng) -> Vec<u32> {
        let cdfs: Vec<Vec<f64>> = p
            .chunks_exact(self.vocab)
            .map(|row| {
                let mut acc = 0.0;
                row.iter()
                    .map(|p| {
                        acc += p;
                        acc
                    })
                    .collect()
            })
            .collect();
        let mut out = Vec::with_capacity(n * self.positions);
        for _ in 0..n {
            for cdf in &cdfs {
                let u = rng.random::<f64>() * cdf[self.vocab - 1];
                let i = cdf.partition_point(|c| *c <= u).min(self.vocab - 1);
                out.push(i as u32);
            }
        }
        out
    }

    /// The sum of `r` over the tokens of each response of `x` (row-major (response, t)).
    pub fn score(&self, r: &[f64], x: &[u32]) -> Vec<f64> {
        x.chunks_exact(self.positions)
            .map(|resp| resp.iter().map(|&v| r[v as usize]).sum())
            .collect()
    }
}

/// e^x for x <= 0 (larger x is not supported), in plain arithmetic that vectorises: the
/// softmax of every RL step spends most of its time here, and libm's `exp` is one call per
/// entry whose last bit may depend on the CPU it picks at run time; these bits do not.
///
/// Cody-Waite reduction x = k ln 2 + r with |r| <= ln 2 / 2 (k rounded by the 1.5 * 2^52
/// trick), Taylor's series of e^r to degree 13 (truncation below 5e-18), then 2^k built in the
/// exponent bits. x below -708 is taken as -708 (e^-708 = 3e-308: nothing next to a softmax
/// sum of at least 1). Relative error at most 2 machine epsilons (2.2e-16) against libm.
#[inline(always)]
pub fn exp_nonpositive(x: f64) -> f64 {
    const SHIFTER: f64 = 6_755_399_441_055_744.0; // 1.5 * 2^52
    const LN2_HI: f64 = 6.931_471_803_691_238e-1;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    let x = x.max(-708.0);
    let t = x * std::f64::consts::LOG2_E + SHIFTER;
    let k = (t.to_bits() as i64).wrapping_sub(SHIFTER.to_bits() as i64);
    let kf = t - SHIFTER;
    let r = (x - kf * LN2_HI) - kf * LN2_LO;
    // Horner, 1/13! ... 1/1!, 1
    let mut p = 1.0 / 6_227_020_800.0;
    for c in [
        1.0 / 479_001_600.0,
        1.0 / 39_916_800.0,
        1.0 / 3_628_800.0,
        1.0 / 362_880.0,
        1.0 / 40_320.0,
        1.0 / 5_040.0,
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0,
    ] {
        p = p * r + c;
    }
    p * f64::from_bits(((k + 1023) as u64) << 52)
}

/// ln sum exp, stably.
pub fn log_sum_exp(x: &[f64]) -> f64 {
    let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    m + x.iter().map(|v| (v - m).exp()).sum::<f64>().ln()
}

/// `x` shifted and scaled to mean 0 and (population) standard deviation 1.
fn standardise(x: &[f64]) -> Vec<f64> {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let sd = (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    x.iter().map(|v| (v - mean) / sd).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::tokens::spec::{TokenPreset, TokenSpec};

    fn tiny() -> TokenWorld {
        let mut spec = TokenSpec::preset(TokenPreset::Test);
        spec.vocab = 64;
        spec.positions = 3;
        TokenWorld::new(&spec)
    }

    #[test]
    fn gold_is_standardised_under_pi0_exactly_and_by_brute_force() {
        let w = tiny();
        let (m, v) = w.moments(&w.gold, &w.p0);
        assert!(m.abs() < 1e-12 && (v - 1.0).abs() < 1e-12, "{m} {v}");
        // brute force over all 64^3 responses
        let (mut bm, mut bs) = (0.0, 0.0);
        for a in 0..64 {
            for b in 0..64 {
                for c in 0..64 {
                    let p = w.p0[a] * w.p0[64 + b] * w.p0[128 + c];
                    let g = w.gold[a] + w.gold[b] + w.gold[c];
                    bm += p * g;
                    bs += p * g * g;
                }
            }
        }
        assert!(bm.abs() < 1e-12 && (bs - 1.0).abs() < 1e-10, "{bm} {bs}");
    }

    #[test]
    fn exp_nonpositive_is_within_two_epsilons_of_libm() {
        // x from -1e-9 to -708 in 1.3% steps, times 5 offsets; 0, -0 and the clamp
        let mut worst = 0.0f64;
        let mut x = -1e-9;
        while x > -708.0 {
            for f in [1.0, 1.000_000_1, 1.37, 1.5, 1.999_999_9] {
                let y = x * f;
                if y < -708.0 {
                    continue;
                }
                let (a, b) = (exp_nonpositive(y), y.exp());
                worst = worst.max(((a - b) / b).abs() / f64::EPSILON);
            }
            x *= 1.013;
        }
        assert!(worst <= 2.0, "worst relative error {worst} epsilons");
        assert_eq!(exp_nonpositive(0.0), 1.0);
        assert_eq!(exp_nonpositive(-0.0), 1.0);
        let floor = exp_nonpositive(-1000.0);
        assert!(floor > 0.0 && floor < 1e-307, "{floor}");
    }

    #[test]
    fn kl_of_pi0_is_zero_and_samples_follow_pi0() {
        let w = tiny();
        let (kl, ent) = w.kl_entropy(&w.logp0);
        assert!(kl.abs() < 1e-15);
        assert!(ent > 0.0);
        let x = w.sample(&w.p0, 20000, &mut rng(3, Stream::BonPrompt, &[]));
        let mean = w.score(&w.gold, &x).iter().sum::<f64>() / 20000.0;
        assert!(mean.abs() < 4.0 / (20000f64).sqrt(), "{mean}");
    }
}
