"""Within-group share of KL along each curve at multiples of its gold-peak KL (dense grid).
usage: python share_traj.py out/FILE.npz ..."""
import sys, numpy as np
mult = [0.25, 0.5, 1, 2, 3, 5, 10]
for fn in sys.argv[1:]:
    d = np.load(fn)
    for k in sorted(x for x in d.files if x.startswith("dense")):
        a = d[k]; kl = a[:, 1]; sh = a[:, 3] / np.maximum(kl, 1e-12); G = a[:, 6]; ip = int(G.argmax()); pk = kl[ip]
        cells = []
        for m in mult:
            K = m * pk
            cells.append(f"{m}x:{np.interp(K, kl, sh):.2f}" if K <= kl[-1] else f"{m}x:  -  ")
        print(f"{fn[4:-4]:26s} {k:7s} peakKL {pk:5.1f} gold {G[ip]:5.2f} endKL {kl[-1]:5.1f} wEnd {a[-1,3]:4.1f} | share " + " ".join(cells) + f" end:{sh[-1]:.2f}")
