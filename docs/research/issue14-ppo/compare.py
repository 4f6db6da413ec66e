"""Gold vs KL at equal KL, per policy variant against feat (REINFORCE+Adam), the exact tilt (tilt) and
the in-class KL-regularised optimum (ftilt), on the dense grid.  usage: python compare.py"""
import glob, re, numpy as np
KS = [0.5, 1, 2, 3, 4, 6, 9, 12, 20]
def curve(D):  # monotone-in-KL part of the path: keep rows whose KL exceeds every earlier KL
    k = D[:, 1]; keep = k >= np.maximum.accumulate(k); return k[keep], D[keep, 6], D[keep, 5]
V = ["tilt", "ftilt", "feat", "ppo", "ppos", "ppos_lr0.03", "ppokl", "ppo_mb8", "ppo_lr0.002", "npg"]
seeds = sorted({int(re.search(r"s(\d+)_", f).group(1)) for f in glob.glob("out/s*_bon.npz")})
G = {v: [] for v in V}; PK = {v: [] for v in V}
for s in seeds:
    for i in range(3):  # the proxies without free weights: they peak early
        for v in V:
            fn = f"out/s{s}_V1024_g1_{v}.npz"
            try: D = np.load(fn)[f"dense{i}"]
            except (FileNotFoundError, KeyError): G[v].append(np.full(len(KS), np.nan)); PK[v].append((np.nan, np.nan)); continue
            k, g, _ = curve(D); G[v].append(np.where(np.array(KS) <= k[-1], np.interp(KS, k, g), np.nan))
            PK[v].append((D[D[:, 6].argmax(), 1], D[:, 6].max()))
print(f"curves: seeds {seeds}, proxies (2,0),(8,0),(32,0); gold in sd of gold under pi_0")
print("median gold at KL = " + " ".join(f"{k:>6}" for k in KS) + " | median peak KL, peak gold")
for v in V:
    a = np.array(G[v]); pk = np.array(PK[v])
    if np.isnan(a).all(): continue
    print(f"{v:12s} " + " ".join(f"{x:6.2f}" for x in np.nanmedian(a, 0)) + f" | {np.nanmedian(pk[:,0]):5.2f} {np.nanmedian(pk[:,1]):5.2f}")
print("median (variant - feat) at equal KL; [min,max] over curves at KL 2, 3, 9")
F0 = np.array(G["feat"])
for v in V:
    a = np.array(G[v]) - F0
    if v == "feat" or np.isnan(a).all(): continue
    print(f"{v:12s} " + " ".join(f"{np.nanmedian(a[:,j]):6.2f}" for j in range(len(KS))) + "   range " + " ".join(f"[{np.nanmin(a[:,j]):.2f},{np.nanmax(a[:,j]):.2f}]" for j in (2, 3, 6)))
