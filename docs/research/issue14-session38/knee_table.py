"""Per seed and width, over the embedding-only proxies (rm_params 2-32) whose gold peaks before KL
20: ranges of the peak KL, the mass past the turn at the peak, the KL where that mass first
reaches 0.99 (the knee), and for KL 20 -> 40: the share of the KL rise that is entropy loss,
the rise of E[s], d gold / d sqrt(KL); and the final entropy and top-1 probability.
usage: knee_table.py RUNDIR..."""
import sys, numpy as np, pandas as pd
f = lambda v: f"{np.min(v):.2f}-{np.max(v):.2f}" if len(v) else "-"
for D in sys.argv[1:]:
    d = pd.read_csv(f"{D}/diag.csv")
    for w, g in d.groupby("width"):
        R = {k: [] for k in ("pk", "mass", "knee", "entshare", "dEs", "slope", "slope840", "fent", "top1")}
        for p, c in g.groupby("rm_params"):
            c = c.sort_values("step"); kl = c.kl.values; ip = c.gold.values.argmax()
            if p > 32 or ip >= len(c) - 3 or kl[ip] > 20: continue
            at = lambda k, col: np.interp(k, kl, c[col].values)
            R["pk"].append(kl[ip]); R["mass"].append(c.mass_past_turn.values[ip])
            m = c.mass_past_turn.values >= 0.99; R["knee"].append(kl[np.argmax(m)] if m.any() else np.nan)
            if kl.max() >= 40:
                R["entshare"].append(-(at(40, "ent") - at(20, "ent")) / 20); R["dEs"].append(at(40, "surprisal") - at(20, "surprisal"))
                R["slope"].append((at(40, "gold") - at(20, "gold")) / (np.sqrt(40) - np.sqrt(20)))
                R["slope840"].append((at(20, "gold") - at(3 * kl[ip], "gold")) / (np.sqrt(20) - np.sqrt(3 * kl[ip])))
            R["fent"].append(c.ent.values[-1]); R["top1"].append(c.top1.values[-1])
        if not R["pk"]: continue
        print(f"{D:10s} w{w:<4d} n {len(R['pk'])} | peak KL {f(R['pk'])} mass@peak {f(R['mass'])} knee KL {f(np.array(R['knee'])[~np.isnan(R['knee'])])} | "
              f"KL 20-40: entropy share {f(R['entshare'])}, dE[s] {f(R['dEs'])}, dgold/dd {f(R['slope'])} (3x peak-20: {f(R['slope840'])}) | final entropy {f(R['fent'])} top1 {f(R['top1'])}")
