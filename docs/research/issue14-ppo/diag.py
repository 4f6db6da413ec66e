"""Per-step control actually exerted before/around the gold peak (rm0-2, dense grid): steps to the peak, clip fraction,
exact KL(pi_new||pi_old) per step, epochs done (ppokl). usage: python diag.py"""
import glob, numpy as np
V = ["feat", "ppo", "ppos", "ppos_lr0.03", "ppokl", "ppo_mb8", "ppo_lr0.002", "npg"]
print("variant      | steps to peak (median) | clip frac: before peak, peak..3x peak | step KL before peak | epochs before peak | end KL (median all 6 RMs)")
for v in V:
    fs = sorted(glob.glob(f"out/s?_V1024_g1_{v}.npz"))
    if not fs: continue
    sp, c1, c2, k1, e1, ek = [], [], [], [], [], []
    for fn in fs:
        d = np.load(fn)
        for i in range(6):
            if f"dense{i}" not in d.files: continue
            ek.append(d[f"rm{i}"][-1, 1])
            if i > 2: continue
            D = d[f"dense{i}"]; ip = D[:, 6].argmax(); s_pk = int(D[ip, 0]); sp.append(D[ip, 0])
            j3 = np.nonzero(D[:, 1] >= 3 * D[ip, 1])[0]; s3 = int(D[j3[0], 0]) if len(j3) else int(D[-1, 0])
            if f"diag{i}" in d.files:
                g = d[f"diag{i}"]; c1.append(g[:max(s_pk, 1), 1].mean()); c2.append(g[s_pk:max(s3, s_pk + 1), 1].mean())
                k1.append(g[:max(s_pk, 1), 0].mean()); e1.append(g[:max(s_pk, 1), 2].mean())
    f = lambda x: f"{np.median(x):.3f}" if x else "  -  "
    print(f"{v:12s} | {np.median(sp):6.1f} | {f(c1)} , {f(c2)} | {f(k1)} | {f(e1)} | {np.median(ek):.1f}")
