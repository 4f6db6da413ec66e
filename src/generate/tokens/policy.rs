//! RL in the token world: a position-wise softmax policy over the policy's own token features,
//! started at pi_0 and trained by REINFORCE (batch-mean baseline) with Adam against a proxy,
//! optionally with a KL penalty; every logged value (KL, entropy, proxy, gold) is exact.

use rand_chacha::ChaCha8Rng;

use super::world::{TokenWorld, exp_nonpositive};
use crate::generate::sim::nets::normals;

/// The policy's token features F (row-major (v, j)): column 0 is the reward models' surprisal
/// column; columns j < K mix the reward models' column j with an independent draw,
/// `rho E_j + sqrt(1 - rho^2) G_j`; columns j >= K are independent draws.
pub fn policy_features(
    world: &TokenWorld,
    width: usize,
    rho: f64,
    rng: &mut ChaCha8Rng,
) -> Vec<f64> {
    let g = normals(world.vocab * width, rng);
    let k = world.dims;
    let mix = (1.0 - rho * rho).max(0.0).sqrt();
    let mut f = g;
    for (v, row) in f.chunks_exact_mut(width).enumerate() {
        let e = &world.embedding[v * k..(v + 1) * k];
        for (j, x) in row.iter_mut().enumerate().take(k) {
            *x = rho * e[j] + mix * *x;
        }
        row[0] = e[0];
    }
    f
}

/// A policy: `ln pi(v | t) = ln pi_0(v | t) + F_v . a_t - ln Z_t`.
#[derive(Debug, Clone)]
pub struct TokenPolicy<'a> {
    pub world: &'a TokenWorld,
    pub features: &'a [f64],
    pub width: usize,
    /// Parameters a, row-major (t, j).
    pub params: Vec<f64>,
}

impl TokenPolicy<'_> {
    /// ln pi, row-major (t, v).
    pub fn log_probs(&self) -> Vec<f64> {
        self.distribution().0
    }

    /// ln pi and pi, row-major (t, v), with one exponential per entry.
    ///
    /// On x86-64 CPUs with AVX2 the same code is compiled for it and chosen at run time: the
    /// vectors are wider, the operations and their order the same, so the bits are those of the
    /// generic code (Rust never fuses a multiply and an add on its own).
    pub fn distribution(&self) -> (Vec<f64>, Vec<f64>) {
        if self.params.iter().all(|a| *a == 0.0) {
            // pi_0 itself, exactly (renormalising would leave KL ~1e-16 off 0)
            return (self.world.logp0.clone(), self.world.p0.clone());
        }
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { self.distribution_avx2() };
        }
        self.distribution_generic()
    }

    /// [`Self::distribution_generic`] compiled for AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn distribution_avx2(&self) -> (Vec<f64>, Vec<f64>) {
        self.distribution_generic()
    }

    #[inline(always)]
    fn distribution_generic(&self) -> (Vec<f64>, Vec<f64>) {
        let (t_len, v_len, w) = (self.world.positions, self.world.vocab, self.width);
        // Logits of 8 positions at a time: the block of a transposed to (j, position), so that
        // each token's 8 logits are one accumulation over j in registers (vector lanes, and a
        // fixed order of sums whatever the machine).
        const LANES: usize = 8;
        let mut l = self.world.logp0.clone();
        let mut block = vec![0.0; w * LANES];
        let mut out = vec![0.0; v_len * LANES];
        for t0 in (0..t_len).step_by(LANES) {
            let tb = (t_len - t0).min(LANES);
            block.iter_mut().for_each(|x| *x = 0.0);
            for i in 0..tb {
                for j in 0..w {
                    block[j * LANES + i] = self.params[(t0 + i) * w + j];
                }
            }
            for (f, o) in self
                .features
                .chunks_exact(w)
                .zip(out.chunks_exact_mut(LANES))
            {
                let mut acc = [0.0f64; LANES];
                for (fj, aj) in f.iter().zip(block.chunks_exact(LANES)) {
                    for (x, a) in acc.iter_mut().zip(aj) {
                        *x += fj * a;
                    }
                }
                o.copy_from_slice(&acc);
            }
            for i in 0..tb {
                let row = &mut l[(t0 + i) * v_len..(t0 + i + 1) * v_len];
                for (x, o) in row.iter_mut().zip(out.chunks_exact(LANES)) {
                    *x += o[i];
                }
            }
        }
        let mut p = vec![0.0; l.len()];
        for (row, prow) in l.chunks_exact_mut(v_len).zip(p.chunks_exact_mut(v_len)) {
            let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let mut sum = 0.0;
            for (x, e) in row.iter().zip(prow.iter_mut()) {
                *e = exp_nonpositive(x - m);
            }
            for e in prow.iter() {
                sum += e;
            }
            let shift = m + sum.ln();
            row.iter_mut().for_each(|x| *x -= shift);
            prow.iter_mut().for_each(|e| *e /= sum);
        }
        (l, p)
    }
}

/// The settings of one RL run (or one round of an iterated run).
#[derive(Debug, Clone, Copy)]
pub struct RlSettings {
    pub steps: usize,
    pub batch: usize,
    pub lr: f64,
    /// Evaluations, log-spaced in the step (plus the first and the last).
    pub evals: usize,
    pub penalty: f64,
}

/// One exact evaluation of the policy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RlPoint {
    /// Steps taken before this point, counted from the start of the whole run.
    pub step: usize,
    /// KL(pi || pi_0).
    pub kl: f64,
    /// KL(pi || the policy this round started from).
    pub kl_round: f64,
    pub entropy: f64,
    pub proxy: f64,
    pub gold: f64,
}

/// The steps (counted within the run) after which the policy is evaluated: 0, the last, and
/// `evals` log-spaced values in between.
pub fn eval_steps(steps: usize, evals: usize) -> Vec<usize> {
    let mut s: Vec<usize> = (0..evals)
        .map(|i| {
            let e = (steps as f64).log10() * i as f64 / (evals.max(2) - 1) as f64;
            (10f64.powf(e).round() as usize).saturating_sub(1)
        })
        .collect();
    s.push(0);
    s.push(steps);
    s.sort_unstable();
    s.dedup();
    s
}

/// Trains `policy` for `settings.steps` REINFORCE steps against the token scores `proxy`
/// (their sum is the reward), minus `penalty` times the sampled log-ratio to pi_0, and returns
/// the exact evaluations; `first_step` offsets the logged steps (for later rounds).
pub fn reinforce(
    policy: &mut TokenPolicy,
    proxy: &[f64],
    settings: RlSettings,
    first_step: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<RlPoint> {
    let world = policy.world;
    let (t_len, v_len, w) = (world.positions, world.vocab, policy.width);
    let start = policy.log_probs();
    let evals = eval_steps(settings.steps, settings.evals);
    let mut log = Vec::with_capacity(evals.len());
    let mut m = vec![0.0; policy.params.len()];
    let mut s2 = vec![0.0; policy.params.len()];
    let b = settings.batch;
    for step in 0..=settings.steps {
        let (logp, p) = policy.distribution();
        if evals.binary_search(&step).is_ok() {
            // KL >= 0; a sum that rounds below 0 (by about 1e-16, next to pi_0) is 0
            let (kl, entropy) = world.kl_entropy(&logp);
            let kl = kl.max(0.0);
            let kl_round: f64 = p
                .iter()
                .zip(logp.iter().zip(&start))
                .map(|(p, (l, l0))| if *p > 0.0 { p * (l - l0) } else { 0.0 })
                .sum();
            let kl_round = kl_round.max(0.0);
            log.push(RlPoint {
                step: first_step + step,
                kl,
                kl_round,
                entropy,
                proxy: world.expect(proxy, &p),
                gold: world.expect(&world.gold, &p),
            });
        }
        if step == settings.steps {
            break;
        }
        let x = world.sample(&p, b, rng);
        let rewards: Vec<f64> = x
            .chunks_exact(t_len)
            .map(|resp| {
                resp.iter()
                    .enumerate()
                    .map(|(t, &v)| {
                        let i = t * v_len + v as usize;
                        proxy[v as usize] - settings.penalty * (logp[i] - world.logp0[i])
                    })
                    .sum()
            })
            .collect();
        let mean = rewards.iter().sum::<f64>() / b as f64;
        // The score-function gradient with the batch mean as baseline; its -E_pi[F] term is
        // multiplied by the sum of the advantages, which is zero.
        let mut g = vec![0.0; policy.params.len()];
        for (resp, r) in x.chunks_exact(t_len).zip(&rewards) {
            let adv = (r - mean) / b as f64;
            for (t, &v) in resp.iter().enumerate() {
                let f = &policy.features[v as usize * w..(v as usize + 1) * w];
                for (gj, fj) in g[t * w..(t + 1) * w].iter_mut().zip(f) {
                    *gj += adv * fj;
                }
            }
        }
        let k = (step + 1) as i32;
        let (c1, c2) = (1.0 - 0.9f64.powi(k), 1.0 - 0.999f64.powi(k));
        for i in 0..g.len() {
            m[i] = 0.9 * m[i] + 0.1 * g[i];
            s2[i] = 0.999 * s2[i] + 0.001 * g[i] * g[i];
            policy.params[i] += settings.lr * (m[i] / c1) / ((s2[i] / c2).sqrt() + 1e-8);
        }
    }
    log
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::sim::{Stream, rng};
    use crate::generate::tokens::spec::{TokenPreset, TokenSpec};

    #[test]
    fn eval_steps_are_log_spaced_with_both_ends() {
        let s = eval_steps(3000, 40);
        assert_eq!(s[0], 0);
        assert_eq!(*s.last().unwrap(), 3000);
        assert!(s.len() > 30 && s.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn the_policy_starts_at_pi0_and_rl_raises_the_proxy() {
        let mut spec = TokenSpec::preset(TokenPreset::Test);
        spec.vocab = 256;
        let w = TokenWorld::new(&spec);
        let f = policy_features(&w, 8, 0.0, &mut rng(0, Stream::PolicyFeatures, &[8]));
        let mut pol = TokenPolicy {
            world: &w,
            features: &f,
            width: 8,
            params: vec![0.0; w.positions * 8],
        };
        let l = pol.log_probs();
        assert!(l.iter().zip(&w.logp0).all(|(a, b)| (a - b).abs() < 1e-12));
        let settings = RlSettings {
            steps: 300,
            batch: 32,
            lr: 0.01,
            evals: 10,
            penalty: 0.0,
        };
        // the gold itself as the proxy: RL must raise it, and KL must grow from 0
        let log = reinforce(
            &mut pol,
            &w.gold.clone(),
            settings,
            0,
            &mut rng(0, Stream::RlTrain, &[]),
        );
        assert_eq!(log[0].kl, 0.0);
        let last = log.last().unwrap();
        assert!(last.kl > 0.1 && last.gold > 0.5, "{last:?}");
        // in one round, the KL from the round's start is the KL from pi_0
        assert!(
            (last.kl - last.kl_round).abs() < 1e-12 * last.kl,
            "{last:?}"
        );
    }
}
