"""Across every peaking no-penalty main-data curve of the given runs: the entropy change from the
gold peak to 3x its KL (negative = concentration starts by then) against the fitted gamma and the
AIC winner (embedding-only proxies, rm_params <= 32, whose peak is before KL 20) on KL <= 3x peak. usage: collapse_vs_win.py RUNDIR..."""
import sys, json, numpy as np, pandas as pd
from scipy.stats import spearmanr
src = open(__import__("os").path.join(__import__("os").path.dirname(__import__("os").path.abspath(__file__)), "..", "..", "..", "bench", "token_world_criteria.py")).read(); ns = {}; exec(src[:src.index("f2 = lambda")], ns); fit_forms = ns["fit_forms"]
rows = []
for D in sys.argv[1:]:
    d = pd.read_csv(f"{D}/diag.csv")
    for (w, p), c in d.groupby(["width", "rm_params"]):
        c = c.sort_values("step"); kl, G = c.kl.values, c.gold.values; ip = G.argmax()
        if ip >= len(G) - 3 or p > 32 or kl[ip] > 20: continue  # embedding-only proxies, peak before KL 20
        pk = kl[ip]; m = (kl <= 3 * pk) & (kl > 0)
        if m.sum() < 4: continue
        fb, fr, gam = fit_forms(np.sqrt(kl[m]), G[m])
        dent = np.interp(3 * pk, kl, c.ent.values) - c.ent.values[ip]
        rows.append(dict(run=D, w=w, p=p, pk=pk, dent=dent, gam=gam, rl=fr[1] < fb[1]))
r = pd.DataFrame(rows)
print(f"{len(r)} curves; Spearman(d entropy peak->3x peak, gamma) = {spearmanr(r.dent, r.gam)[0]:.2f}")
for lo, hi in [(-99, -5), (-5, 0), (0, 99)]:
    s = r[(r.dent > lo) & (r.dent <= hi)]
    print(f"  d entropy in ({lo}, {hi}]: {len(s)} curves, RL form wins {int(s.rl.sum())}, median gamma {s.gam.median():.2f}, widths {sorted(s.w.unique())}")
