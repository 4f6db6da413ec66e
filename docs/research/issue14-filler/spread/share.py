"""Filler share of the KL (filler_kl / kl) on the peaking no-penalty main-data RL curves:
at the gold peak, at the first point with KL >= 3x the peak KL, and at the end; plus the share
at fixed multiples of the peak KL. usage: share.py DIR..."""
import sys, numpy as np, pandas as pd
for D in sys.argv[1:]:
    r = pd.read_csv(f"{D}/rl_runs.csv"); r = r[(r.kl_penalty == 0) & (r.rm_data == 4000)]
    for pol, g in r.groupby("policy_params"):
        rows = []
        for p, c in g.groupby("rm_params"):
            c = c.sort_values("step"); kl, G, fk = c.kl.values, c.gold.values, c.filler_kl.values
            ip = int(G.argmax())
            if ip >= len(G) - 3: continue
            sh = np.where(kl > 0, fk / np.maximum(kl, 1e-300), np.nan)
            def at(m):
                i = np.argmax(kl >= m * kl[ip]) if (kl >= m * kl[ip]).any() else len(kl) - 1
                return sh[i]
            rows.append((p, kl[ip], sh[1], at(0.5), sh[ip], at(2), at(3), at(10), kl[-1], sh[-1]))
        t = pd.DataFrame(rows, columns=["rm", "peakKL", "share_step1", "s_0.5xpk", "s_peak", "s_2xpk", "s_3xpk", "s_10xpk", "endKL", "s_end"])
        print(f"== {D} policy {pol}"); print(t.round(3).to_string(index=False))
        print("  median:", t.drop(columns="rm").median().round(3).to_dict())
        print("  median, RMs <= 32:", t[t.rm <= 32].drop(columns="rm").median().round(3).to_dict())
