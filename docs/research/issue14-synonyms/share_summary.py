"""Median within-group share of KL (dense grid) per policy x g: at multiples of the gold-peak KL (peaking curves
with peak KL < 20) and at fixed KL values (all curves)."""
import glob, re, numpy as np
res = {}
for fn in sorted(glob.glob("out/s*_V1024_g*_*.npz")):
    m = re.match(r"out/s(\d+)_V(\d+)_g(\w+?)_(tabx|tabs|tadm|feat)(_za[\d.]+)?\.npz", fn)
    if not m or m.group(3) == "1": continue
    d = np.load(fn); key = (m.group(4), m.group(3) + (m.group(5) or ""))
    R = res.setdefault(key, {"pk": [], "fx": []})
    for k in d.files:
        if not k.startswith("dense"): continue
        a = d[k]; kl = a[:, 1]; sh = a[:, 3] / np.maximum(kl, 1e-12); G = a[:, 6]; ip = int(G.argmax())
        R["fx"].append([np.interp(K, kl, sh) if K <= kl[-1] else np.nan for K in (0.5, 1, 3, 8, 20, 40)] + [sh[-1]])
        if ip < len(G) - 3 and kl[ip] < 20:
            R["pk"].append([np.interp(x * kl[ip], kl, sh) if x * kl[ip] <= kl[-1] else np.nan for x in (0.5, 1, 2, 3, 5, 10)])
print("policy g        | n_early_peak | share at 0.5x 1x 2x 3x 5x 10x peak KL || n_curves | share at KL 0.5 1 3 8 20 40 end")
for key in sorted(res):
    pk = np.array(res[key]["pk"]) if res[key]["pk"] else np.full((1, 6), np.nan); fx = np.array(res[key]["fx"])
    f = lambda A: " ".join(f"{v:.2f}" if np.isfinite(v) else " -- " for v in np.nanmedian(A, 0))
    print(f"{key[0]:5s} {key[1]:9s} | {len(res[key]['pk']):3d} | {f(pk)} || {len(fx):3d} | {f(fx)}")
