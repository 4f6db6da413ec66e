"""Does the RL form win on the early part of the curve once it includes the fall after the peak?
For the peaking no-penalty curves (main data), fit both forms (the criteria script's least squares
and AIC) on the points with KL <= m * (the curve's peak KL), m = 1.5, 2, 3, 5; and on the points up
to the step at which the baseline's curve of the same width and RM first passes KL 8.2.
usage: python3 cutcheck.py BASEDIR DIR..."""
import os, sys, numpy as np, pandas as pd
# the criteria script's own least squares and AIC
src = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "bench", "token_world_criteria.py")).read(); ns = {}
exec(src[:src.index("f2 = lambda")], ns); fit_forms = ns["fit_forms"]
def win(kl, G):
    if (kl > 0).sum() < 4: return np.nan
    fb, fr, _ = fit_forms(np.sqrt(np.maximum(kl, 0)), G); return float(fr[1] < fb[1])
B = sys.argv[1]
base = pd.read_csv(f"{B}/rl_runs.csv")
for D in sys.argv[1:]:
    rl = pd.read_csv(f"{D}/rl_runs.csv"); md = 4000
    print(f"== {D}")
    for pol, g in rl[(rl.kl_penalty == 0) & (rl.rm_data == md)].groupby("policy_params"):
        res = {m: [] for m in (1.5, 2, 3, 5, "step")}
        for p, c in g.groupby("rm_params"):
            c = c.sort_values("step"); kl, G, st = c.kl.values, c.gold.values, c.step.values; ip = int(np.argmax(G))
            if ip >= len(G) - 3: continue
            for m in (1.5, 2, 3, 5): res[m].append(win(kl[kl <= m * kl[ip]], G[kl <= m * kl[ip]]))
            b = base[(base.kl_penalty == 0) & (base.rm_data == md) & (base.policy_params == pol) & (base.rm_params == p)].sort_values("step")
            s8 = b.step.values[np.argmax(b.kl.values > 8.2)] if (b.kl.values > 8.2).any() else st[-1]
            res["step"].append(win(kl[st <= s8], G[st <= s8]))
        n = len(res[2])
        print(f"  policy {pol}: RL-form wins on peaking curves cut at KL <= 1.5/2/3/5 x peak KL: " + " / ".join(f"{int(np.nansum(res[m]))}" for m in (1.5, 2, 3, 5)) + f" of {n}; cut at the baseline's step of KL 8.2: {int(np.nansum(res['step']))} of {n}")
