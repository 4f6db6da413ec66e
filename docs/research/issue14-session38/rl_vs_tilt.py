"""RL gold against the exact exponential tilt of pi_0 by the same proxy (best-of-n's idealisation)
and by the surprisal column alone, at equal KL. usage: rl_vs_tilt.py DUMP_PREFIX RUNDIR [widths]"""
import sys, numpy as np, pandas as pd
W = pd.read_csv(sys.argv[1] + ".world.csv"); P = pd.read_csv(sys.argv[1] + ".proxies.csv")
T = W.t.max() + 1; V = W.v.max() + 1; lp0 = W.logp0.values.reshape(T, V); gold = W.gold.values[:V]; s = W.surprisal.values[:V]
def tilt(r):
    ks, gs = [], []
    for th in np.r_[0:2:0.05, 2:20:0.25, 20:200:2]:
        l = lp0 + th * r[None, :]; l -= np.logaddexp.reduce(l, axis=1, keepdims=True); p = np.exp(l)
        ks.append((p * (l - lp0)).sum()); gs.append((p * gold).sum())
    return np.array(ks), np.array(gs)
rl = pd.read_csv(f"{sys.argv[2]}/rl_runs.csv"); rl = rl[(rl.kl_penalty == 0) & (rl.rm_data == 4000)]
widths = [int(x) for x in sys.argv[3:]] or [8, 32]
ks0, gs0 = tilt((s - s.mean()) / s.std())
grid = [3.5, 8.2, 12, 20, 30, 40, 60, 75]
print("gold at KL " + " ".join(f"{k:6.1f}" for k in grid))
print(f"{'surprisal tilt':22s} " + " ".join(f"{np.interp(k, ks0, gs0):6.2f}" for k in grid))
for p in [2, 8, 16, 32]:
    k, g = tilt(P[f"p{p}_4000"].values)
    print(f"{'proxy tilt rm ' + str(p):22s} " + " ".join(f"{np.interp(x, k, g):6.2f}" if x <= k.max() else "     -" for x in grid))
    for w in widths:
        c = rl[(rl.rm_params == p) & (rl.policy_params == 8 * w)].sort_values("step")
        kk, gg = c.kl.values, c.gold.values; o = np.argsort(kk)
        print(f"{'  RL width ' + str(w):22s} " + " ".join(f"{np.interp(x, kk[o], gg[o]):6.2f}" if x <= kk.max() else "     -" for x in grid))
