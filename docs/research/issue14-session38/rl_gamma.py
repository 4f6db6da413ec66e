"""Median power exponent gamma (gold = a d - b d^(1+gamma), the criteria script's grid) of the
peaking no-penalty main-data RL curves, fitted on KL <= 3x peak, <= 8.2, <= 20, <= 40 and the whole
run. usage: [EARLY=1] rl_gamma.py RUNDIR...   (EARLY=1: only curves peaking before KL 20; the scored KL,
without the filler rows, when the filler patch logs them)
Also counts the RL-form AIC wins on KL <= 3x peak."""
import os, sys, json, numpy as np, pandas as pd
src = open(__import__("os").path.join(__import__("os").path.dirname(__import__("os").path.abspath(__file__)), "..", "..", "..", "bench", "token_world_criteria.py")).read(); ns = {}; exec(src[:src.index("f2 = lambda")], ns); fit_forms = ns["fit_forms"]
EARLY = os.environ.get('EARLY') == '1'  # only curves whose gold peaks before KL 20
for D in sys.argv[1:]:
    T = json.load(open(f"{D}/world.json"))["settings"]["positions"]
    r = pd.read_csv(f"{D}/rl_runs.csv"); r = r[(r.kl_penalty == 0) & (r.rm_data == 4000)]
    for pol, g in r.groupby("policy_params"):
        wins = []
        res = {k: [] for k in ("3xpeak", "8.2", "20", "40", "all")}
        for p, c in g.groupby("rm_params"):
            c = c.sort_values("step"); kl, G = c.kl.values, c.gold.values; ip = G.argmax()
            if ip >= len(G) - 3: continue
            if EARLY and (kl[ip] - (c.filler_kl.values[ip] if "filler_kl" in c else 0)) > 20: continue  # scored KL: without the filler rows, when logged
            for k, lim in (("3xpeak", 3 * kl[ip]), ("8.2", 8.2), ("20", 20), ("40", 40), ("all", 1e9)):
                m = (kl <= lim) & (kl > 0)
                if m.sum() >= 4:
                    fb, fr, gm = fit_forms(np.sqrt(kl[m]), G[m]); res[k].append(gm)
                    if k == "3xpeak": wins.append(fr[1] < fb[1])
        print(f"{D:12s} w{pol // T:<4d} median gamma: " + "  ".join(f"{k} {np.median(v):.2f}" for k, v in res.items()) + f"  (n {len(res['all'])}; RL-form wins on <= 3x peak {sum(wins)})")
