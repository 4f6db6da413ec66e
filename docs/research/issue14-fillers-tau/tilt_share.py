import numpy as np
V = 4096; lp0 = -np.log(np.arange(1, V + 1)); lp0 -= np.log(np.exp(lp0).sum())
l = -lp0; l = (l - l.mean()) / l.std()
def kl(base, x):
    lp = base + x * l; m = lp.max(); lp = lp - (np.log(np.exp(lp - m).sum()) + m); p = np.exp(lp); return (p * (lp - base)).sum()
def fil(tau):
    lf = lp0 / tau; return lf - np.log(np.exp(lf - lf.max()).sum()) - lf.max()
xs = np.linspace(0, 6, 1201)[1:]
ks = np.array([kl(lp0, x) for x in xs])
# target: tilt-like fraction relative to the peak vs total KL / peak total KL
tx = np.array([0.01, 0.06, 0.25, 0.56, 1, 1.56, 2.25, 3]); ty = np.array([3.30, 2.13, 1.48, 1.18, 1, 0.88, 0.79, 0.72])
kpk = 0.5  # scored KL per position at the gold peak (token world, w8)
def profile(taus, weights, gains=None):
    F = [fil(t) for t in taus]
    if gains is None: gains = [1]*len(taus)
    sink = np.array([sum(w * kl(f, g * x) for f, w, g in zip(F, weights, gains)) for x in xs])
    K = ks + sink; frac = ks / K
    xp = np.interp(kpk, ks, xs); Kp = np.interp(xp, xs, K); fp = np.interp(xp, xs, frac)
    rel = np.interp(tx * Kp, K, frac) / fp
    return rel, fp
print("target      ", ty)
for name, taus, w in [
    ("tau 0.5 x2", [0.5], [2]),
    ("tau .2,.3,.5,.7,1", [0.2, 0.3, 0.5, 0.7, 1.0], [1]*5),
    ("tau .1..1 log", list(np.geomspace(0.1, 1, 8)), [1]*8),
    ("tau .05..0.5 log", list(np.geomspace(0.05, 0.5, 8)), [1]*8),
    ("tau .05..0.3 x4", list(np.geomspace(0.05, 0.3, 6)), [4]*6),
    ("tau .1 x8", [0.1], [8]),
    ("tau .2 x4", [0.2], [4]),
    ("tau .3 x4", [0.3], [4]),
]:
    rel, fp = profile(taus, w)
    print(f"{name:20s}", np.round(rel, 2), "share at peak", round(1 - fp, 2))
