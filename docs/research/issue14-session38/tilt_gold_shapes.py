"""Beyond the listed knobs: does any shape of the rarity penalty give a fall that decelerates
right after the peak? Exact surprisal tilts of the numpy rebuild (tilt_knobs.py's world, T 8,
V 4096, zipf 1), gamma (criteria grid) on KL <= 3x peak, <= 8.2, <= 20 and whole (<= 80).
usage: tilt_gold_shapes.py"""
import numpy as np
src = open(__import__("os").path.join(__import__("os").path.dirname(__import__("os").path.abspath(__file__)), "..", "..", "..", "bench", "token_world_criteria.py")).read(); ns = {}; exec(src[:src.index("f2 = lambda")], ns); fit_forms = ns["fit_forms"]
T, V = 8, 4096; rng = np.random.default_rng(0)
row = -np.log(np.arange(1, V + 1))[None, :] + 0.3 * rng.standard_normal((T, V))
lp0 = row - np.logaddexp.reduce(row, axis=1, keepdims=True); pbar = np.exp(lp0).mean(0); s = -np.log(pbar); ms = (pbar * s).sum(); lnV = np.log(V)
sstd = (s - s.mean()) / s.std(); x = np.maximum(s - lnV, 0)
shapes = {
    "baseline: -3 (s-lnV)+": -3 * x,
    "log: -6 ln(1+(s-lnV)+)": -6 * np.log1p(x),
    "sqrt: -4 sqrt((s-lnV)+)": -4 * np.sqrt(x),
    "capped: -3 min((s-lnV)+, 1)": -3 * np.minimum(x, 1.0),
    "turn spread: -3 softplus over 1 nat": -3 * np.logaddexp(0, s - lnV),
    "turn 1 nat earlier": -3 * np.maximum(s - lnV + 1, 0),
    "quadratic: -1.5 (s-lnV)+^2": -1.5 * x ** 2,
}
print("penalty shape                          peakKL  gamma<=3xpeak  <=8.2  <=20  <=80")
for name, pen in shapes.items():
    gold = (s - ms) + pen
    ks, gs = [], []
    for th in np.exp(np.linspace(np.log(0.01), np.log(200), 400)):
        l = lp0 + th * sstd; l -= np.logaddexp.reduce(l, axis=1, keepdims=True); p = np.exp(l)
        ks.append((p * (l - lp0)).sum()); gs.append((p * gold).sum() - (np.exp(lp0) * gold).sum())
    ks, gs = np.array(ks), np.array(gs); kq = np.exp(np.linspace(np.log(0.02), np.log(80), 37)); gq = np.interp(kq, ks, gs)
    pk = kq[gq.argmax()]
    gam = [fit_forms(np.sqrt(kq[kq <= lim]), gq[kq <= lim])[2] if (kq <= lim).sum() >= 4 else np.nan for lim in (3 * pk, 8.2, 20, 80)]
    print(f"{name:38s} {pk:6.2f}  " + "  ".join(f"{g:5.2f}" for g in gam))
