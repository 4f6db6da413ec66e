"""inflKL: the first KL after the peak where gold turns convex in d (its fall starts to slow).
The world's rarity geometry alone, rebuilt in numpy (no jitter RNG match: jitter drawn here,
smooth and idio left out), exact exponential tilt along the surprisal direction. For each knob
setting: the KL of the gold peak, the KL where the mass past the turn reaches 0.99 (the knee),
their ratio, and which form (d(a - b d) vs d(a - b ln d)) wins on AIC on the tilt path cut at
KL <= 3x peak KL and at KL <= 8.2. usage: tilt_knobs.py"""
import numpy as np
def fit(d, g):
    n = len(d); r = []
    for X in (np.stack([d, -d * d], 1), np.stack([d, -d * np.log(d)], 1)):
        c, *_ = np.linalg.lstsq(X, g, rcond=None); rss = ((X @ c - g) ** 2).sum(); r.append(n * np.log(rss / n + 1e-300) + 4)
    return "RL" if r[1] < r[0] else "BoN"
def world(T=8, V=4096, zipf=1.0, slope=3.0, jitter=0.3, seed=0):
    rng = np.random.default_rng(seed)
    row = -zipf * np.log(np.arange(1, V + 1))[None, :] + jitter * rng.standard_normal((T, V))
    lp0 = row - np.logaddexp.reduce(row, axis=1, keepdims=True); pbar = np.exp(lp0).mean(0); s = -np.log(pbar)
    ms = (pbar * s).sum(); rare = (s - ms) - slope * np.maximum(s - np.log(V), 0)
    p0 = np.exp(lp0); m = (p0 * rare).sum(); var = ((p0 * rare ** 2).sum(1) - (p0 * rare).sum(1) ** 2).sum()
    gold = 2.5 * rare / np.sqrt(6.25 * var + 2.0 * T)  # smooth and idio add about 2 per position to the raw variance (scale only; the AIC comparison is scale-free)
    return lp0, s, gold
def path(lp0, s, gold, V):
    sstd = (s - s.mean()) / s.std(); out = []
    for th in np.r_[0.01:1:0.02, 1:10:0.1, 10:60:1]:
        l = lp0 + th * sstd; l -= np.logaddexp.reduce(l, axis=1, keepdims=True); p = np.exp(l)
        out.append(((p * (l - lp0)).sum(), (p * gold).sum() - (np.exp(lp0) * gold).sum(), p[:, s > np.log(V)].sum() / len(p)))
    return np.array(out).T
print("setting                      peakKL  mass@pk  kneeKL(0.99)  knee/peak  inflKL  gold@pk  gold@3pk  gold@knee  win<=3pk  win<=8.2  win<=80")
for name, kw in [("baseline T8 V4096 z1 s3", {}), ("T=3", dict(T=3)), ("T=2", dict(T=2)),
                 ("slope 2", dict(slope=2.0)), ("slope 1.5", dict(slope=1.5)), ("slope 5", dict(slope=5.0)),
                 ("zipf 0.7", dict(zipf=0.7)), ("zipf 0.85", dict(zipf=0.85)), ("zipf 1.2", dict(zipf=1.2)), ("zipf 1.5", dict(zipf=1.5)),
                 ("V 512", dict(V=512)), ("V 32768", dict(V=32768)), ("T3 slope 2", dict(T=3, slope=2.0))]:
    V = kw.get("V", 4096); lp0, s, g = world(**kw); kl, G, mass = path(lp0, s, g, V)
    ip = G.argmax(); pk = kl[ip]; knee = kl[np.argmax(mass >= 0.99)] if (mass >= 0.99).any() else np.nan
    d = np.sqrt(kl); g2 = np.gradient(np.gradient(G, d), d); after = np.where((kl > pk) & (g2 > 0))[0]; infl = kl[after[0]] if len(after) else np.nan
    w = lambda lim: fit(d[kl <= lim], G[kl <= lim]) if (kl <= lim).sum() > 5 else "-"
    print(f"{name:28s} {pk:6.2f}  {mass[ip]:6.2f}  {knee:11.1f}  {knee/pk:9.1f}  {infl:6.1f}  {G[ip]:7.2f}  {np.interp(3*pk, kl, G):8.2f}  {np.interp(knee, kl, G):9.2f}  {w(3*pk):>8s}  {w(8.2):>8s}  {w(80):>7s}")
