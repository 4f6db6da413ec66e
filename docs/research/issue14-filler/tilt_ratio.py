"""Mechanism check (no RL): tilt one position of a V=4096 Zipf(1) pi_0 and its filler
softmax(ln pi_0 / tau) by the same x * l (l = standardised surprisal, the policy's feature 0) and
print the filler's KL per unit of the scored position's KL as the scored KL grows."""
import numpy as np
V = 4096; lp0 = -np.log(np.arange(1, V + 1)); lp0 -= np.log(np.exp(lp0).sum())
l = -lp0; l = (l - l.mean()) / l.std()
def kl(base, x):
    lp = base + x * l; lp -= np.log(np.exp(lp - lp.max()).sum()) + lp.max(); p = np.exp(lp); return (p * (lp - base)).sum()
for tau in (0.3, 0.5, 0.7):
    lf = lp0 / tau; lf -= np.log(np.exp(lf).sum())
    xs = np.linspace(0, 3, 3001)[1:]; ks = np.array([kl(lp0, x) for x in xs]); kf = np.array([kl(lf, x) for x in xs])
    pts = [0.01, 0.1, 0.5, 1, 2, 4]
    print(f"tau {tau}: top-token mass {np.exp(lf[0]):.2f}; filler KL / scored KL at scored KL {pts}:",
          [round(float(np.interp(k, ks, kf / ks)), 2) for k in pts])
# A random feature column (the policy's columns 1..width-1, N(0,1) per token): small-tilt KL is
# x^2 Var(g) / 2, so the filler/scored ratio there is Var_filler(g) / Var_pi0(g), near its
# value at x -> 0 for the whole run.
rng = np.random.default_rng(0); G = rng.standard_normal((200, V))
p0 = np.exp(lp0); v0 = (G**2 @ p0) - (G @ p0) ** 2
for tau in (0.3, 0.5, 0.7):
    lf = lp0 / tau; lf -= np.log(np.exp(lf).sum()); pf = np.exp(lf)
    vf = (G**2 @ pf) - (G @ pf) ** 2
    print(f"tau {tau}: random feature, small-tilt filler/scored KL ratio per filler {np.mean(vf) / np.mean(v0):.2f}; surprisal feature {((l**2) @ pf - (l @ pf)**2) / ((l**2) @ p0 - (l @ p0)**2):.2f}")
