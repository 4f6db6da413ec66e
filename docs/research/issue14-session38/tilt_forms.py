"""Form comparison (the criteria script's least squares and AIC) on exact exponential tilts of the
dumped world, sampled at RL-like KL points (log-spaced), cut at KL <= 3x peak, 8.2, 20, 40, 80.
usage: tilt_forms.py DUMP_PREFIX"""
import sys, numpy as np, pandas as pd
src = open(__import__("os").path.join(__import__("os").path.dirname(__import__("os").path.abspath(__file__)), "..", "..", "..", "bench", "token_world_criteria.py")).read(); ns = {}; exec(src[:src.index("f2 = lambda")], ns); fit_forms = ns["fit_forms"]
W = pd.read_csv(sys.argv[1] + ".world.csv"); P = pd.read_csv(sys.argv[1] + ".proxies.csv")
T = W.t.max() + 1; V = W.v.max() + 1; lp0 = W.logp0.values.reshape(T, V); gold = W.gold.values[:V]; s = W.surprisal.values[:V]
def tilt(r):
    ks, gs = [], []
    for th in np.exp(np.linspace(np.log(0.02), np.log(400), 400)):
        l = lp0 + th * r[None, :]; l -= np.logaddexp.reduce(l, axis=1, keepdims=True); p = np.exp(l)
        ks.append((p * (l - lp0)).sum()); gs.append((p * gold).sum())
    return np.array(ks), np.array(gs)
for name, r in [("surprisal", (s - s.mean()) / s.std())] + [(f"proxy rm {p}", P[f"p{p}_4000"].values) for p in (2, 8, 16, 32)]:
    k, g = tilt(r); kq = np.exp(np.linspace(np.log(0.02), np.log(min(80, k.max())), 37)); gq = np.interp(kq, k, g)
    pk = kq[gq.argmax()]; res = []
    for lim in (3 * pk, 8.2, 20, 40, 80):
        m = kq <= lim; fb, fr, gam = fit_forms(np.sqrt(kq[m]), gq[m]); res.append(f"<= {lim:5.1f}: {'RL ' if fr[1] < fb[1] else 'BoN'} (gamma {gam:.2f})")
    print(f"{name:14s} peak KL {pk:5.2f} | " + " | ".join(res))
