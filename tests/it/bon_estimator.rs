//! The best-of-n estimator against independent references: brute force over every n-subset of
//! small pools (with and without ties, unequal pool sizes), exact rational weights, and the
//! closed form of regressional Goodhart for Gaussian scores; the pool KL against every ordered
//! draw with replacement of pools of 5-8 samples with ties, a draw-by-draw recursion for larger
//! ones, and the analytic KL at n = N = 1000.

use goodhart::bon::estimate::{estimate_pool, estimate_pools_of};
use goodhart::bon::weights::{analytic_kl, bon_weights, compensated_sum, pool_kl};
use goodhart::bon::{BonOptions, KlChoice, Pool, bon_curves, curves_table};
use goodhart::schema::{CurveKey, Method};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::ToPrimitive;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

fn key(rm_params: f64) -> CurveKey {
    CurveKey {
        method: Method::Bon,
        rm_params,
        policy_params: None,
        rm_data: None,
        kl_penalty: None,
    }
}

/// Pools as `read_samples` returns them: samples sorted by (proxy, gold), pools by prompt.
fn pools_of(raw: Vec<Vec<(f64, f64)>>) -> Vec<Pool> {
    let mut pools: Vec<Pool> = raw
        .into_iter()
        .enumerate()
        .map(|(i, mut scores)| {
            scores.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
            Pool {
                key: key(1e8),
                prompt: format!("p{i:03}"),
                scores,
                path: "mem".into(),
            }
        })
        .collect();
    pools.sort_by(|a, b| a.prompt.cmp(&b.prompt));
    pools
}

/// Every k-subset of 0..n.
fn subsets(n: usize, k: usize) -> Vec<Vec<usize>> {
    fn rec(start: usize, n: usize, k: usize, cur: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if cur.len() == k {
            out.push(cur.clone());
            return;
        }
        for i in start..n {
            cur.push(i);
            rec(i + 1, n, k, cur, out);
            cur.pop();
        }
    }
    let mut out = Vec::new();
    rec(0, n, k, &mut Vec::new(), &mut out);
    out
}

/// Brute force for one pool: over all n-subsets, the best sample by proxy with ties broken
/// uniformly at random. Returns (E gold, E proxy, KL of best-of-n drawn with replacement from
/// the pool, by [`by_draws`]).
fn brute(pool: &[(f64, f64)], n: usize) -> (f64, f64, f64) {
    let big_n = pool.len();
    let subs = subsets(big_n, n);
    let mut prob = vec![0.0; big_n];
    for s in &subs {
        let top = s
            .iter()
            .map(|&i| pool[i].0)
            .fold(f64::NEG_INFINITY, f64::max);
        let winners: Vec<usize> = s.iter().copied().filter(|&i| pool[i].0 == top).collect();
        for &i in &winners {
            prob[i] += 1.0 / winners.len() as f64 / subs.len() as f64;
        }
    }
    let gold = (0..big_n).map(|i| prob[i] * pool[i].1).sum();
    let proxy = (0..big_n).map(|i| prob[i] * pool[i].0).sum();
    let proxies: Vec<f64> = pool.iter().map(|s| s.0).collect();
    (gold, proxy, kl_from_uniform(&by_draws(&proxies, n)))
}

/// KL (nats) of a distribution over a pool from the uniform one.
fn kl_from_uniform(prob: &[f64]) -> f64 {
    let big_n = prob.len() as f64;
    prob.iter()
        .filter(|&&p| p > 0.0)
        .map(|&p| p * (big_n * p).ln())
        .sum()
}

/// The distribution over the pool's samples of best-of-n drawn with replacement, draw by draw:
/// the state is (the sample kept, how many draws so far tie with its proxy score); a draw with a
/// higher score replaces it, a tied draw replaces it with probability 1/(ties + 1) (so the kept
/// draw is uniform among the tied draws, as in [`enumerate_draws`]).
fn by_draws(proxy: &[f64], n: usize) -> Vec<f64> {
    let big_n = proxy.len();
    let u = 1.0 / big_n as f64;
    // state[s][t - 1]: probability that sample s is kept with t tied draws
    let mut state = vec![vec![0.0; n]; big_n];
    for s in state.iter_mut() {
        s[0] = u;
    }
    for _ in 1..n {
        let mut next = vec![vec![0.0; n]; big_n];
        for s in 0..big_n {
            for t in 1..n {
                let p = state[s][t - 1];
                if p == 0.0 {
                    continue;
                }
                for j in 0..big_n {
                    if proxy[j] > proxy[s] {
                        next[j][0] += p * u;
                    } else if proxy[j] == proxy[s] {
                        let switch = 1.0 / (t + 1) as f64;
                        next[j][t] += p * u * switch;
                        next[s][t] += p * u * (1.0 - switch);
                    } else {
                        next[s][t - 1] += p * u;
                    }
                }
            }
        }
        state = next;
    }
    state.iter().map(|s| s.iter().sum()).collect()
}

/// Every one of the Nⁿ ordered draws with replacement of n samples from the pool, the best by
/// proxy kept, ties broken uniformly at random among the tied draws: the probability of each
/// sample, in exact integer counts (over Nⁿ · lcm(1..=n)).
fn enumerate_draws(proxy: &[f64], n: usize) -> Vec<f64> {
    fn gcd(a: u64, b: u64) -> u64 {
        if b == 0 { a } else { gcd(b, a % b) }
    }
    let lcm = (1..=n as u64).fold(1, |l, k| l / gcd(l, k) * k);
    let big_n = proxy.len();
    let mut counts = vec![0u64; big_n];
    // depth-first over the draws, carrying the best score so far and how often each sample was
    // drawn with it
    fn walk(
        proxy: &[f64],
        left: usize,
        best: f64,
        at_best: &mut Vec<u64>,
        lcm: u64,
        counts: &mut [u64],
    ) {
        if left == 0 {
            let k: u64 = at_best.iter().sum();
            for (c, &a) in counts.iter_mut().zip(at_best.iter()) {
                *c += a * (lcm / k);
            }
            return;
        }
        for j in 0..proxy.len() {
            if proxy[j] > best {
                let mut fresh = vec![0u64; proxy.len()];
                fresh[j] = 1;
                walk(proxy, left - 1, proxy[j], &mut fresh, lcm, counts);
            } else if proxy[j] == best {
                at_best[j] += 1;
                walk(proxy, left - 1, best, at_best, lcm, counts);
                at_best[j] -= 1;
            } else {
                walk(proxy, left - 1, best, at_best, lcm, counts);
            }
        }
    }
    walk(
        proxy,
        n,
        f64::NEG_INFINITY,
        &mut vec![0; big_n],
        lcm,
        &mut counts,
    );
    let total = (big_n as u64).pow(n as u32) * lcm;
    assert_eq!(counts.iter().sum::<u64>(), total);
    counts.iter().map(|&c| c as f64 / total as f64).collect()
}

fn check_against_brute_force(raw: Vec<Vec<(f64, f64)>>) {
    let pools = pools_of(raw.clone());
    let curves = bon_curves(&pools, &BonOptions::default()).unwrap();
    assert_eq!(curves.len(), 1);
    let max_n = raw.iter().map(Vec::len).max().unwrap();
    assert_eq!(curves[0].points.len(), max_n, "every n when N <= 64");
    for point in &curves[0].points {
        let n = point.n;
        let per_prompt: Vec<(f64, f64, f64)> = raw
            .iter()
            .filter(|p| p.len() >= n)
            .map(|p| brute(p, n))
            .collect();
        let m = per_prompt.len() as f64;
        let gold = per_prompt.iter().map(|x| x.0).sum::<f64>() / m;
        let proxy = per_prompt.iter().map(|x| x.1).sum::<f64>() / m;
        let kl = per_prompt.iter().map(|x| x.2).sum::<f64>() / m;
        assert_eq!(point.n_prompts, per_prompt.len(), "n = {n}");
        assert!(
            (point.gold - gold).abs() < 1e-12,
            "n={n}: gold {} vs brute {gold}",
            point.gold
        );
        assert!(
            (point.proxy - proxy).abs() < 1e-12,
            "n={n}: proxy {} vs brute {proxy}",
            point.proxy
        );
        assert!(
            (point.kl_pool - kl).abs() < 1e-12,
            "n={n}: kl_pool {} vs brute {kl}",
            point.kl_pool
        );
        let var = per_prompt.iter().map(|x| (x.0 - gold).powi(2)).sum::<f64>() / (m - 1.0);
        if let Some(se) = point.gold_se {
            assert!((se - (var / m).sqrt()).abs() < 1e-12, "n={n}: se");
        }
        let analytic = (n as f64).ln() - (n as f64 - 1.0) / n as f64;
        assert!((point.kl_analytic - analytic).abs() < 1e-15);
    }
}

fn random_pools(seed: u64, sizes: &[usize], levels: Option<u32>) -> Vec<Vec<(f64, f64)>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    sizes
        .iter()
        .map(|&s| {
            (0..s)
                .map(|_| {
                    let proxy = match levels {
                        // few distinct values: many ties
                        Some(l) => rng.random_range(0..l) as f64 * 0.5,
                        None => rng.random::<f64>() * 4.0 - 2.0,
                    };
                    (proxy, rng.random::<f64>() * 2.0 - 1.0)
                })
                .collect()
        })
        .collect()
}

/// The estimates of many pools at once, with the weights shared by pools of equal size (what
/// the Goodhart decomposition and the initial-policy references use), are each pool's
/// [`estimate_pool`], bit for bit: pools of equal and unequal sizes, more than a block of them,
/// with and without ties, in any order.
#[test]
fn pools_estimated_together_are_each_pool_estimated_alone() {
    let sizes: Vec<usize> = (0..27).map(|i| [40, 40, 17, 300, 40, 1][i % 6]).collect();
    for levels in [None, Some(5)] {
        let raw = random_pools(31, &sizes, levels);
        let ns = [1, 2, 3, 7, 16, 40, 41, 300];
        let slices: Vec<&[(f64, f64)]> = raw.iter().map(|p| &p[..]).collect();
        let together = estimate_pools_of(&slices, &ns);
        assert_eq!(together.len(), raw.len());
        for (pool, got) in raw.iter().zip(&together) {
            let alone = estimate_pool(pool, &ns);
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<u64>>();
            assert_eq!(bits(&got.gold), bits(&alone.gold), "{} samples", pool.len());
            assert_eq!(
                bits(&got.proxy),
                bits(&alone.proxy),
                "{} samples",
                pool.len()
            );
            assert_eq!(
                bits(&got.kl_pool),
                bits(&alone.kl_pool),
                "{} samples",
                pool.len()
            );
            assert_eq!(
                got.gold.len(),
                ns.iter().filter(|&&n| n <= pool.len()).count()
            );
        }
    }
}

#[test]
fn brute_force_without_ties_equal_pools() {
    for seed in 0..3 {
        check_against_brute_force(random_pools(seed, &[9; 6], None));
    }
}

#[test]
fn brute_force_with_ties() {
    for seed in 10..14 {
        check_against_brute_force(random_pools(seed, &[9, 8, 9, 7, 9], Some(3)));
    }
    // all samples tied: every n gives the pool mean, and the pool KL is 0
    check_against_brute_force(vec![
        vec![(1.0, 0.3), (1.0, -0.2), (1.0, 0.5), (1.0, 0.1)];
        2
    ]);
}

#[test]
fn brute_force_unequal_pool_sizes() {
    for seed in 20..23 {
        check_against_brute_force(random_pools(seed, &[2, 3, 5, 9, 4, 7, 9, 6], None));
        check_against_brute_force(random_pools(seed + 100, &[2, 3, 5, 9, 4, 7, 8, 6], Some(4)));
    }
}

/// Pools of 5 to 8 samples with ties: the pool KL equals the KL of the distribution found by
/// enumerating every ordered draw with replacement (exact integer counts), and tied samples are
/// equally likely (the tie rule that `pool_kl` assumes).
#[test]
fn kl_pool_equals_enumeration_of_draws_with_replacement() {
    let mut pools: Vec<Vec<(f64, f64)>> = random_pools(40, &[5, 6, 7, 8], Some(3));
    pools.extend(random_pools(41, &[7, 6], Some(5)));
    pools.push(random_pools(42, &[6], None).remove(0)); // no ties
    pools.push(vec![
        (1.0, 0.0),
        (2.0, 0.1),
        (2.0, 0.2),
        (2.0, 0.3),
        (2.0, 0.4),
    ]); // top group tied
    for pool in &pools {
        let big_n = pool.len();
        let proxy: Vec<f64> = pool.iter().map(|s| s.0).collect();
        for n in 1..=big_n {
            let prob = enumerate_draws(&proxy, n);
            for i in 0..big_n {
                for j in 0..big_n {
                    if proxy[i] == proxy[j] {
                        assert!((prob[i] - prob[j]).abs() < 1e-15, "tied samples");
                    }
                }
            }
            let recursion = by_draws(&proxy, n);
            for (a, b) in prob.iter().zip(&recursion) {
                assert!((a - b).abs() < 1e-14, "N={big_n} n={n}: {a} vs {b}");
            }
            let reference = kl_from_uniform(&prob);
            let kl = estimate_pool(pool, &[n]).kl_pool[0];
            assert!(
                (kl - reference).abs() < 1e-12,
                "N={big_n} n={n} proxy={proxy:?}: kl_pool {kl} vs enumeration {reference}"
            );
        }
    }
}

/// Distinct scores, n = N = 1000: the plug-in KL is within 0.05 nats of ln n - (n-1)/n, below it
/// (it is the KL of best-of-n quantised into N bins), and the same for every prompt.
#[test]
fn kl_pool_near_analytic_at_n_equal_pool_size() {
    let n = 1000;
    let raw = random_pools(43, &[n; 3], None);
    let pools = pools_of(raw);
    let opts = BonOptions {
        n: Some(vec![1, 10, 100, n]),
        ..BonOptions::default()
    };
    let curve = &bon_curves(&pools, &opts).unwrap()[0];
    for p in &curve.points {
        let bias = p.kl_pool - analytic_kl(p.n);
        assert!(
            bias <= 0.0 && bias > -0.05,
            "n={}: kl_pool {} bias {bias}",
            p.n,
            p.kl_pool
        );
    }
    let last = curve.points.last().unwrap();
    assert!((last.kl_pool - 5.868_1).abs() < 1e-4, "{}", last.kl_pool);
    let single = estimate_pool(&pools[0].scores, &[n]).kl_pool[0];
    assert!(
        (single - last.kl_pool).abs() < 1e-12,
        "a function of n and N only"
    );
}

/// The README's bias table of `kl_pool` for distinct scores (a function of n and N only): every
/// value, and the bias below ln n - (n-1)/n, about n²/(24 N²). Prints the table with
/// `--nocapture`.
#[test]
fn kl_pool_bias_table_of_the_readme() {
    // (N, [(n, kl_pool)]) as printed in the README, to 4 decimals
    let table: [(usize, &[(usize, f64)]); 5] = [
        (
            100,
            &[
                (16, 1.8340),
                (10, 1.4022),
                (25, 2.2563),
                (50, 2.9217),
                (100, 3.5745),
            ],
        ),
        (
            256,
            &[
                (16, 1.8349),
                (25, 2.2585),
                (64, 3.1719),
                (128, 3.8495),
                (256, 4.5084),
            ],
        ),
        (
            1000,
            &[
                (16, 1.8351),
                (10, 1.4026),
                (100, 3.6148),
                (250, 4.5229),
                (500, 5.2063),
                (1000, 5.8681),
            ],
        ),
        (
            10_000,
            &[
                (16, 1.8351),
                (100, 3.6152),
                (1000, 5.9083),
                (2500, 6.8218),
                (5000, 7.5070),
                (10_000, 8.1698),
            ],
        ),
        (
            100_000,
            &[
                (16, 1.8351),
                (1000, 5.9088),
                (10_000, 8.2100),
                (25_000, 9.1241),
                (50_000, 9.8094),
                (100_000, 10.4723),
            ],
        ),
    ];
    for (big_n, row) in table {
        let mut line = format!("N = {big_n}:");
        for &(n, readme) in row {
            let kl = pool_kl(big_n, n, None);
            let bias = kl - analytic_kl(n);
            line.push_str(&format!(" n={n}: {kl:.4} ({bias:+.2e})"));
            assert!(
                (kl - readme).abs() < 6e-5,
                "N={big_n} n={n}: {kl} vs README {readme}"
            );
            let approx = (n * n) as f64 / (24 * big_n * big_n) as f64;
            assert!(
                bias < 0.0 && (-bias / approx - 1.0).abs() < 0.05,
                "N={big_n} n={n}: bias {bias} vs {approx}"
            );
        }
        println!("{line}");
    }
}

#[test]
fn weights_equal_exact_rationals() {
    // C(i-1, n-1) / C(N, n) in exact arithmetic
    let big_n = 80usize;
    let choose = |a: usize, b: usize| -> BigInt {
        if b > a {
            return BigInt::from(0);
        }
        let mut r = BigInt::from(1);
        for j in 0..b {
            r = r * BigInt::from(a - j) / BigInt::from(j + 1);
        }
        r
    };
    for n in 1..=big_n {
        let w = bon_weights(big_n, n);
        for i in 1..=big_n {
            let exact = BigRational::new(choose(i - 1, n - 1), choose(big_n, n))
                .to_f64()
                .unwrap();
            let err = (w[i - 1] - exact).abs();
            assert!(
                err <= 1e-14 * exact.max(1e-300),
                "N={big_n} n={n} i={i}: {} vs {exact}",
                w[i - 1]
            );
        }
    }
}

#[test]
fn weights_sum_to_one_up_to_100000() {
    for n in [1, 2, 5, 60, 1000, 33_333, 99_999, 100_000] {
        let w = bon_weights(100_000, n);
        let s = compensated_sum(&w);
        assert!((s - 1.0).abs() < 1e-12, "n={n}: {s}");
    }
}

/// Expected maximum of n standard normals (from the issue, computed independently).
const E_MAX: [(usize, f64); 3] = [(2, 0.5641895835), (4, 1.0293753730), (10, 1.5387527308)];

#[test]
fn regressional_goodhart_closed_form() {
    // gold ~ N(0,1), proxy = gold + N(0, s^2): selecting on proxy raises gold by e_n/sqrt(1+s^2)
    // and proxy by e_n*sqrt(1+s^2).
    let s: f64 = 0.8;
    let (prompts, per_prompt) = (3000, 24);
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    let normal = Normal::new(0.0, 1.0).unwrap();
    let raw: Vec<Vec<(f64, f64)>> = (0..prompts)
        .map(|_| {
            (0..per_prompt)
                .map(|_| {
                    let gold = normal.sample(&mut rng);
                    (gold + s * normal.sample(&mut rng), gold)
                })
                .collect()
        })
        .collect();
    let pools = pools_of(raw);
    let opts = BonOptions {
        n: Some(vec![1, 2, 4, 10]),
        ..BonOptions::default()
    };
    let curve = &bon_curves(&pools, &opts).unwrap()[0];
    let scale = (1.0 + s * s).sqrt();
    for (n, e_n) in E_MAX {
        let p = curve.points.iter().find(|p| p.n == n).unwrap();
        let (gold_se, proxy_se) = (p.gold_se.unwrap(), p.proxy_se.unwrap());
        let gold_z = (p.gold - e_n / scale) / gold_se;
        let proxy_z = (p.proxy - e_n * scale) / proxy_se;
        assert!(
            gold_z.abs() < 4.0,
            "n={n}: gold {} vs {} (z = {gold_z})",
            p.gold,
            e_n / scale
        );
        assert!(
            proxy_z.abs() < 4.0,
            "n={n}: proxy {} vs {} (z = {proxy_z})",
            p.proxy,
            e_n * scale
        );
    }
}

#[test]
fn output_is_identical_whatever_the_thread_count() {
    let pools = pools_of(random_pools(7, &[40; 300], Some(25)));
    let opts = BonOptions {
        bootstrap: 50,
        seed: 9,
        kl: KlChoice::Pool,
        ..BonOptions::default()
    };
    let render = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let curves = bon_curves(&pools, &opts).unwrap();
            curves_table(&curves, opts.kl)
                .0
                .to_bytes(goodhart::ingest::Format::Csv, "x.csv".as_ref())
                .unwrap()
        })
    };
    let one = render(1);
    assert_eq!(one, render(2));
    assert_eq!(one, render(5));
}

#[test]
fn bootstrap_replicates_differ_and_are_seeded() {
    let pools = pools_of(random_pools(3, &[12; 40], None));
    let run = |seed| {
        let opts = BonOptions {
            bootstrap: 5,
            seed,
            ..BonOptions::default()
        };
        bon_curves(&pools, &opts).unwrap().remove(0)
    };
    let (a, b, c) = (run(1), run(1), run(2));
    assert_eq!(a.replicates.len(), 5);
    assert_eq!(a.replicates, b.replicates);
    assert_ne!(a.replicates, c.replicates);
    assert_ne!(a.replicates[0], a.replicates[1]);
    // the point estimate does not depend on the seed
    assert_eq!(a.points, c.points);
}
