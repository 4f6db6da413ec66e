"""Exact exponential tilts of pi_0 (seed 0 world dump): along the surprisal column alone
(pi ∝ pi_0 e^{θ s_std}) and along a proxy's full token scores (pi ∝ pi_0 e^{θ r}), per position;
prints KL, gold and its parts, mass past the turn and entropy along θ, to see whether the knee
(mass past the turn -> 1, then KL only buys concentration) is in the world's geometry or in the
optimiser. usage: tilt_path.py DUMP_PREFIX [proxy column]"""
import sys, numpy as np, pandas as pd
W = pd.read_csv(sys.argv[1] + ".world.csv"); P = pd.read_csv(sys.argv[1] + ".proxies.csv")
T = W.t.max() + 1; V = W.v.max() + 1
lp0 = W.logp0.values.reshape(T, V); s = W.surprisal.values[:V]
parts = {k: W[k].values[:V] for k in ["smooth", "rare_lin", "rare_turn", "idio", "gold"]}
lnV = np.log(V); past = s > lnV
def path(direction, thetas):
    out = []
    for th in thetas:
        l = lp0 + th * direction[None, :]; l = l - np.logaddexp.reduce(l, axis=1, keepdims=True); p = np.exp(l)
        kl = (p * (l - lp0)).sum(); ent = -(p * l).sum()
        g = {k: (p * v[None, :]).sum() - (np.exp(lp0) * v[None, :]).sum() for k, v in parts.items()}
        out.append(dict(theta=th, kl=kl, ent=ent, mass=(p[:, past]).sum() / T, Es=(p * s[None, :]).sum() / T, top1=p.max(1).mean(), **g))
    return pd.DataFrame(out)
sstd = (s - s.mean()) / s.std()
cols = [sys.argv[2]] if len(sys.argv) > 2 else ["p8_4000"]
pd.set_option("display.width", 200)
for name, dirn, th in [("surprisal column", sstd, np.r_[0:1:0.1, 1:6:0.25, 6:40:2])] + [(c, P[c].values, np.r_[0:2:0.1, 2:10:0.5, 10:60:5]) for c in cols]:
    d = path(dirn, th)
    print(f"== tilt along {name}; max KL bound sum_t max(-ln pi_0) = {(-lp0.min(1)).sum():.1f}")
    ip = d.gold.values.argmax()
    print(f"   peak gold {d.gold.values[ip]:.2f} at KL {d.kl.values[ip]:.2f} (mass past turn {d.mass.values[ip]:.2f}); KL at mass 0.9: {d.kl.values[np.argmax(d.mass.values>=0.9)]:.1f}, 0.99: {d.kl.values[np.argmax(d.mass.values>=0.99)]:.1f}")
    print(d[d.kl < 90].round(3).to_string(index=False))
