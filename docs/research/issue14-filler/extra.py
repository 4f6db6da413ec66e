"""Extra numbers for the filler study: gold gap over the common proxy range (mean |RL - BoN| at
equal proxy, median over RMs), the top gap (median |.|, signed median), the filler share of the
final KL, and the RL-form / BoN-form AIC win counts per KL cut (whole, <=8.2, <=20) pooled.
usage: python3 extra.py DIR..."""
import sys, numpy as np, pandas as pd

def first_cross(P, X, target):
    j = np.where(P >= target)[0]
    if not len(j): return np.nan
    j = j[0]
    if j == 0: return X[0]
    t = (target - P[j - 1]) / (P[j] - P[j - 1]); return X[j - 1] + t * (X[j] - X[j - 1])

for D in sys.argv[1:]:
    rl = pd.read_csv(f"{D}/rl_runs.csv"); bon = pd.read_csv(f"{D}/bon_curves.csv"); it = pd.read_csv(f"{D}/iterated_rlhf.csv")
    md = it.rm_data.iloc[0]
    print(f"== {D}")
    for pol, g in rl[(rl.kl_penalty == 0) & (rl.rm_data == md)].groupby("policy_params"):
        mgap, fsh, fkl, kls, ratio, npts = [], [], [], [], [], []
        for p, c in g.groupby("rm_params"):
            c = c.sort_values("step"); b = bon[(bon.rm_params == p) & (bon.rm_data == md)].sort_values("n")
            P, G = c.proxy.values, c.gold.values; Pb, Gb = b.proxy.values, b.gold.values
            top = min(np.maximum.accumulate(P)[-1], Pb[-1]); lo = max(P[0], Pb[0])
            grid = np.linspace(lo, top, 60)
            d = [first_cross(P, G, x) - first_cross(Pb, Gb, x) for x in grid]
            mgap.append(np.nanmean(np.abs(d)))
            last = c.iloc[-1]; kls.append(last.kl)
            npts.append(int((c.kl <= 8.2).sum()))
            if "filler_kl" in c:
                fsh.append(last.filler_kl / last.kl); fkl.append(last.filler_kl)
                k = c.kl.values; fr = (c.filler_kl / (c.kl - c.filler_kl)).values
                ratio.append([np.interp(x, k[1:], fr[1:]) if k[1] <= x else np.nan for x in (1, 4, 8.2, 20, 50)])
        s = f"policy {pol}: mean|gap| over range median {np.median(mgap):.3f} (RMs {np.round(mgap,2).tolist()}); final KL median {np.median(kls):.1f}"
        if fsh: s += f"; filler share of final KL median {np.median(fsh):.2f} (range {min(fsh):.2f}-{max(fsh):.2f}), filler KL median {np.median(fkl):.1f}"
        s += f"; points at KL<=8.2 median {np.median(npts):.0f}"
        if ratio: s += f"; filler/scored KL at total KL 1,4,8.2,20,50 (median over RMs) {np.round(np.nanmedian(ratio, 0), 2).tolist()}"
        print(s)
