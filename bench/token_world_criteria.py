"""The criteria of issue #14 on `goodhart generate tokens` folders, by independent least squares
(README, "What the token world reproduces"). Each DIR needs bon_curves.csv (`goodhart bon
DIR/bon_samples.parquet --out DIR/bon_curves.csv`), rl_runs.csv and iterated_rlhf.csv.

usage: python3 bench/token_world_criteria.py DIR [DIR...]      (numpy, pandas, scipy)

Per policy width: the no-penalty RL curves that peak before their last three points, how many
the RL form d(a - b ln d) beats the best-of-n form d(a - b d) on Gaussian AIC, the median power
exponent (grid over (0.02, 3]), the same on the curve cut at KL <= 8.2, 20 and 40 (best-of-n's range is 8.2), the KL ratio and
the gold gap (RL - best-of-n, gold sd of pi_0) at best-of-n's largest proxy,
Spearman(size, beta_RL) and the coefficients of variation of alpha_RL and beta_RL; best-of-n's
form wins and size trends; the data and iterated-RLHF comparisons; the penalised runs' ends."""
import sys, numpy as np, pandas as pd
from scipy.stats import spearmanr

def fit_forms(d, g):
    ok = d > 0; d, g = d[ok], g[ok]; n = len(d)
    def lin(X, k):
        c, *_ = np.linalg.lstsq(X, g, rcond=None); rss = ((X @ c - g) ** 2).sum()
        return c, n * np.log(rss / n + 1e-300) + 2 * k
    bon = lin(np.stack([d, -d * d], 1), 2); rl = lin(np.stack([d, -d * np.log(d)], 1), 2)
    best = None
    for gam in np.linspace(0.02, 3.0, 150):
        X = np.stack([d, -d ** (1 + gam)], 1); c, *_ = np.linalg.lstsq(X, g, rcond=None); rss = ((X @ c - g) ** 2).sum()
        if best is None or rss < best[1]: best = (gam, rss)
    return bon, rl, best[0]

f2 = lambda x: np.round(np.asarray(x, float), 2)
for D in sys.argv[1:]:
    rl = pd.read_csv(f"{D}/rl_runs.csv"); bon = pd.read_csv(f"{D}/bon_curves.csv"); it = pd.read_csv(f"{D}/iterated_rlhf.csv")
    main_data = it.rm_data.iloc[0]; main_pol = it.policy_params.iloc[0]
    out = {}
    bstats = {}
    for (p, n), b in bon.groupby(["rm_params", "rm_data"]):
        b = b.sort_values("n"); d = np.sqrt(b.kl.values); fb, fr, gam = fit_forms(d, b.gold.values)
        ip = int(np.argmax(b.gold.values))
        bstats[(p, n)] = dict(win=fb[1] < fr[1], beta=fb[0][1], peak_kl=b.kl.values[ip], inside=ip < len(b) - 3, P=b.proxy.values[-1], K=b.kl.values[-1], G=b.gold.values[-1])
    print(f"== {D}")
    for pol, g in rl[(rl.kl_penalty == 0) & (rl.rm_data == main_data)].groupby("policy_params"):
        rows = []
        for p, c in g.groupby("rm_params"):
            c = c.sort_values("step"); kl, P, G = c.kl.values, c.proxy.values, c.gold.values
            fb, fr, gam = fit_forms(np.sqrt(np.maximum(kl, 0)), G); ip = int(np.argmax(G))
            bs = bstats[(p, main_data)]
            j = np.where(P >= bs["P"])[0]
            if len(j) and j[0] > 0:
                j = j[0]; t = (bs["P"] - P[j - 1]) / (P[j] - P[j - 1]); ratio = (kl[j - 1] + t * (kl[j] - kl[j - 1])) / bs["K"]; gap = G[j - 1] + t * (G[j] - G[j - 1]) - bs["G"]
            else: ratio = gap = np.nan
            cut = {}
            for lim in (8.2, 20.0, 40.0):   # the forms compared on the curve cut at KL <= lim
                k = kl <= lim
                cb, cr, _ = fit_forms(np.sqrt(np.maximum(kl[k], 0)), G[k])
                cut[lim] = cr[1] < cb[1]
            rows.append(dict(p=p, inside=ip < len(G) - 3, win=fr[1] < fb[1], gam=gam, a=fr[0][0], b=fr[0][1], ratio=ratio, gap=gap, peak=G[ip], pkl=kl[ip], fkl=kl[-1], fg=G[-1],
                             w8=cut[8.2], w20=cut[20.0], w40=cut[40.0]))
        r = pd.DataFrame(rows)
        ins = r[r.inside]
        cv = lambda v: np.std(v) / abs(np.mean(v))
        print(f"policy {pol}: peaking {len(ins)}/{len(r)}, RL-form wins {ins.win.sum()}/{len(ins)}, median gamma {f2(ins.gam.median())}, "
              f"KL ratio median {f2(r.ratio.median())}, |gap| median {f2(r.gap.abs().median())}, Sp(size,b_RL) {f2(spearmanr(r.p, r.b)[0])}, "
              f"CV a {f2(cv(r.a))} b {f2(cv(r.b))}")
        print(f"    peaking curves cut at KL <= 8.2 / 20 / 40: RL form wins {ins.w8.sum()} / {ins.w20.sum()} / {ins.w40.sum()} of {len(ins)}; "
              f"signed gap median {f2(r.gap.median())}; KL ratio median over the peaking curves {f2(ins.ratio.median())}")
        print("   ", r[["p", "inside", "win", "gam", "a", "b", "ratio", "gap", "peak", "pkl", "fkl", "fg"]].round(2).to_string(index=False).replace("\n", "\n    "))
    bm = {k: v for k, v in bstats.items() if k[1] == main_data}
    ps = sorted(p for p, _ in bm)
    print(f"BoN (data {main_data}): form wins {sum(v['win'] for v in bm.values())}/{len(bm)}, peaking {sum(v['inside'] for v in bm.values())}, "
          f"Sp(size,beta) {f2(spearmanr(ps, [bm[(p, main_data)]['beta'] for p in ps])[0])}, Sp(size,peakKL) {f2(spearmanr(ps, [bm[(p, main_data)]['peak_kl'] for p in ps])[0])}")
    dd = rl[(rl.kl_penalty == 0) & (rl.policy_params == main_pol)]
    ns = sorted(dd.rm_data.unique())
    pk = dd.groupby(["rm_data", "rm_params"]).gold.max().unstack(0)
    print("RL peak gold by data:", pk.round(2).to_string().replace("\n", " | "), f"\n  larger data higher: {(pk[ns[-1]] > pk[ns[0]]).sum()}/{len(pk)}")
    bp = bon.groupby(["rm_data", "rm_params"]).gold.max().unstack(0)
    print(f"  BoN peak larger data higher: {(bp[ns[-1]] > bp[ns[0]]).sum()}/{len(bp)}")
    fin = it.sort_values("step").groupby(["rm_params", "rounds"]).gold.last().unstack(1)
    print("iterated final gold:", fin.round(2).to_string().replace("\n", " | "))
    for pen, g in rl[(rl.policy_params == main_pol) & (rl.rm_data == main_data)].groupby("kl_penalty"):
        print(f"  penalty {pen}: final kl {f2(g.sort_values('step').groupby('rm_params').kl.last().values)} gold {f2(g.sort_values('step').groupby('rm_params').gold.last().values)}")
