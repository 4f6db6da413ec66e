"""Exact-tilt model (no RL, as tilt_ratio.py): V=4096 Zipf(1) pi_0, every scored position tilted
by x * l (l = standardised surprisal), each filler (tau 0.5) by gain * x * l. Prints the filler
share of the total KL against the scored KL per position, for gain sets per filler."""
import numpy as np
V = 4096; lp0 = -np.log(np.arange(1, V + 1)); lp0 -= np.log(np.exp(lp0).sum())
l = -lp0; l = (l - l.mean()) / l.std()
def kl(base, x):
    lp = base + x * l; m = lp.max(); lp -= np.log(np.exp(lp - m).sum()) + m; p = np.exp(lp); return (p * (lp - base)).sum()
tau = 0.5; lf = lp0 / tau; lf -= np.log(np.exp(lf).sum())
xs = np.linspace(0, 4, 801)[1:]
ks = np.array([kl(lp0, x) for x in xs])
print("filler bound (KL at large tilt) per filler:", round(kl(lf, 60), 2))
cfgs = {"single gain 1 x2/pos": [1, 1], "gain 2 x2/pos (old forced)": [2, 2],
        "a: 1,2,4,8 (fillers of a position share a gain; mean over positions)": None,
        "b: 2,4,8,16 likewise": None}
pts = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 4, 6]
def share(gset_per_pos):
    out = []
    for k in pts:
        x = np.interp(k, ks, xs)
        fk = sum(kl(lf, g * x) for gs in gset_per_pos for g in gs)
        out.append(fk / (len(gset_per_pos) * k + fk))
    return out
print("scored KL per position:", pts)
for name, gp in [("gain 1, 2 fillers/pos", [[1, 1]] * 8), ("gain 2, 2 fillers/pos", [[2, 2]] * 8),
                 ("a: gains 1,2,4,8 across positions (2 per pos)", [[g, g] for g in [1, 2, 4, 8] * 2]),
                 ("b: gains 2,4,8,16 across positions", [[g, g] for g in [2, 4, 8, 16] * 2]),
                 ("within-position 1,2,4,8 (4 fillers/pos, N 32)", [[1, 2, 4, 8]] * 8),
                 ("within-position 1,2,4,8 count 8,4,2,1 ", [[1] * 8 + [2] * 4 + [4] * 2 + [8]] * 8)]:
    print(f"{name:50s}", [round(float(s), 2) for s in share(gp)])

# Lower gains (threshold later) and the uniform gains for reference, up to the run's end
# (scored KL per position ~8-10 at the end of the w8 runs; gold peak ~0.5 per position).
pts = [0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 8, 10]
print("scored KL per position:", pts)
for name, gp in [("gain 1 (2/pos)", [[1, 1]] * 8), ("gain 2 (2/pos)", [[2, 2]] * 8),
                 ("gain 0.5 (2/pos)", [[0.5, 0.5]] * 8),
                 ("gains 0.5,1,2 within pos (1 each)", [[0.5, 1, 2]] * 8),
                 ("gains 0.25,0.5,1 within pos", [[0.25, 0.5, 1]] * 8),
                 ("a: 1,2,4,8 across positions", [[g, g] for g in [1, 2, 4, 8] * 2])]:
    print(f"{name:40s}", [round(float(s), 2) for s in share(gp)])
