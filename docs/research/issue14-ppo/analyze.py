"""(copied from ../issue14-synonyms/analyze.py; policy names extended, n points per window stored)
Criteria C1-C3 + within-group KL share. usage: python analyze.py [GRID=rm|dense] [files...]
reads out/s{seed}_V{Vm}_g{g}_{pol}.npz and out/s{seed}_V{Vm}_g1_bon.npz"""
import sys, glob, re, os, numpy as np
GRID = os.environ.get("GRID", "rm")
SIZES = [(2, 0), (8, 0), (32, 0), (32, 64), (32, 256), (32, 1024)]
def fit_forms(d, g):
    ok = d > 0; d, g = d[ok], g[ok]; n = len(d)
    def lin(X):
        c, *_ = np.linalg.lstsq(X, g, rcond=None); rss = ((X @ c - g) ** 2).sum(); return n * np.log(rss / n + 1e-300) + 4
    ab = lin(np.stack([d, -d * d], 1)); ar = lin(np.stack([d, -d * np.log(d)], 1))
    best = None
    for gam in np.linspace(0.02, 3.0, 150):
        X = np.stack([d, -d ** (1 + gam)], 1); c, *_ = np.linalg.lstsq(X, g, rcond=None); rss = ((X @ c - g) ** 2).sum()
        if best is None or rss < best[1]: best = (gam, rss)
    return ab, ar, best[0]
def cross(c, P):  # first crossing of proxy level P along curve rows (kl, proxy, gold, within); linear interp
    kl, pr = c[:, 0], c[:, 1]
    j = np.nonzero(pr >= P)[0]
    if len(j) == 0: return None
    j = j[0]
    if j == 0: return c[0]
    f = (P - pr[j - 1]) / (pr[j] - pr[j - 1]); return c[j - 1] + f * (c[j] - c[j - 1])
def interp_at_kl(c, K):
    return np.interp(K, c[:, 0], c[:, 1]) if False else None
files = sys.argv[1:] or sorted(glob.glob("out/s*_V*_g*_*.npz"))
res = {}
for fn in files:
    mt = re.match(r"out/s(\d+)_V(\d+)_g(\w+?)_(ppokl|ppos|ppo|npg|feat|ftilt|tilt|bon)(_[\w.]+)?\.npz", fn)
    if not mt or mt.group(4) == "bon": continue
    seed, Vm, g, pol, za = mt.group(1), mt.group(2), mt.group(3), mt.group(4), mt.group(5) or ""
    bon = np.load(f"out/s{seed}_V{Vm}_g1_bon.npz"); d = np.load(fn)
    for i in range(len(SIZES)):
        if f"rm{i}" not in d.files: continue
        A = d[f"rm{i}"] if GRID == "rm" else d[f"dense{i}"]
        Dn = d[f"dense{i}"]
        kl, G, Pr, W = A[:, 1], A[:, 6], A[:, 5], A[:, 3]
        ip = int(G.argmax()); peaking = ip < len(G) - 3
        key = (Vm, g + za, pol); R = res.setdefault(key, [])
        row = dict(seed=seed, rm=i, peaking=peaking, peak_kl=kl[ip], end_kl=kl[-1])
        for wn, lim in (("all", 1e9), ("3x", 3 * kl[ip]), ("8.2", 8.2)):
            m = (kl <= lim) & (kl > 0)
            if m.sum() >= 4:
                ab, ar, gm = fit_forms(np.sqrt(kl[m]), G[m]); row[wn] = (ar < ab, gm); row["n" + wn] = int(m.sum())
        # within share on the dense grid
        dk = Dn[:, 1]; sh = np.where(dk > 1e-9, Dn[:, 3] / np.maximum(dk, 1e-12), 0)
        ipd = int(Dn[:, 6].argmax()); pk = dk[ipd]
        row["sh_peak"] = sh[ipd]; row["sh_3x"] = np.interp(3 * pk, dk, sh) if 3 * pk <= dk[-1] else np.nan; row["sh_end"] = sh[-1]
        row["within_end"] = Dn[-1, 3]; row["sh_max"] = sh[1:].max() if len(sh) > 1 else 0
        row["sh_8"] = np.interp(8.2, dk, sh) if dk[-1] >= 8.2 else np.nan
        # C2, C3 against best-of-n (dense grid)
        b = bon[f"rm{i}"]; jb = int(b[:, 2].argmax()); P = b[jb, 2]; Kb = b[jb, 1]; Gb = b[jb, 3]
        cc = cross(np.stack([Dn[:, 1], Dn[:, 5], Dn[:, 6], Dn[:, 3]], 1), P)
        row["ratio"] = cc[0] / Kb if cc is not None else np.nan
        row["c3"] = cc[2] - Gb if cc is not None else np.nan
        row["gold_at_P"] = cc[2] if cc is not None else np.nan
        R.append(row)
print(f"grid={GRID}")
hdr = "Vm   g       pol  | peak/n | C1 wins all | 3x | 8.2 | med gamma 3x | early(peak<20): 3x wins, gamma | C2 med all/peak (reached) | C3 med|d| (med d) | share peak / 3x / 8.2 / end | within_end"
print(hdr)
for key in sorted(res, key=lambda k: (k[0], k[2], k[1])):
    R = res[key]; pk = [r for r in R if r["peaking"]]
    def wins(w): v = [r[w][0] for r in pk if w in r]; return f"{sum(v)}/{len(v)}"
    gam = [r["3x"][1] for r in pk if "3x" in r]
    ea = [r for r in pk if r["peak_kl"] < 20 and "3x" in r]; ew = f"{sum(r['3x'][0] for r in ea)}/{len(ea)}"; eg = f"{np.median([r['3x'][1] for r in ea]):.2f}" if ea else "nan"
    rat = np.array([r["ratio"] for r in R]); ratp = np.array([r["ratio"] for r in pk]) if pk else np.array([np.nan])
    c3 = np.array([r["c3"] for r in R])
    f = lambda x: f"{np.nanmedian(x):.2f}" if np.isfinite(x).any() else "nan"
    shp = np.array([r["sh_peak"] for r in pk]) if pk else np.array([np.nan]); sh3 = np.array([r["sh_3x"] for r in pk]) if pk else np.array([np.nan])
    sh8 = np.array([r["sh_8"] for r in R]); she = np.array([r["sh_end"] for r in R])
    print(f"{key[0]:4s} {key[1]:7s} {key[2]:4s} | {len(pk):2d}/{len(R):2d} | {wins('all'):5s} | {wins('3x'):5s} | {wins('8.2'):5s} | {f(np.array(gam)) if gam else 'nan':5s} | {ew:5s} {eg:5s} | {f(rat)} / {f(ratp)} ({np.isfinite(rat).sum()}/{len(R)}) | {f(np.abs(c3))} ({f(c3)}) | {f(shp)} / {f(sh3)} / {f(sh8)} / {f(she)} | {np.median([r['within_end'] for r in R]):.1f}")
if os.environ.get("DETAIL") == "peak":  # compact per-curve near-peak detail (curves peaking before KL 20)
    print("per curve, window KL <= 3x peak: policy seed rm | peak KL | points in window | RL form wins | gamma | whole-run win, gamma | end KL")
    for key in sorted(res, key=lambda k: (k[2], k[1])):
        for r in res[key]:
            if r["peaking"] and r["peak_kl"] < 20 and "3x" in r:
                print(f"{key[2]}{key[1][1:]:8s} s{r['seed']} rm{r['rm']} | {r['peak_kl']:5.2f} | {r['n3x']:3d} | {'R' if r['3x'][0] else 'B'} | {r['3x'][1]:.2f} | {'R' if r['all'][0] else 'B'} {r['all'][1]:.2f} | {r['end_kl']:.1f}")
elif os.environ.get("DETAIL"):
    for key in sorted(res):
        for r in res[key]:
            print(key, {k: (np.round(v, 2) if isinstance(v, float) else v) for k, v in r.items()})
# best-of-n forms on best-of-n curves
print("best-of-n curves: form wins (bon form better) and gamma on KL<=3x peak")
for fn in sorted(glob.glob("out/s*_g1_bon.npz")):
    b = np.load(fn); out = []
    for k in sorted(b.files):
        a = b[k]; kl, G = a[:, 1], a[:, 3]; ab, ar, gm = fit_forms(np.sqrt(kl), G); ip = int(G.argmax()); pk = ip < len(G) - 3
        m = (kl <= 3 * kl[ip]) & (kl > 0); g3 = fit_forms(np.sqrt(kl[m]), G[m])[2] if pk and m.sum() >= 4 else np.nan
        out.append(f"{k}:{'B' if ab < ar else 'R'}{'*' if pk else ''} pk{kl[ip]:.1f} g3={g3:.2f} Pmax={a[:,2].max():.2f}")
    print(fn, " ".join(out))
