"""Near-peak (KL <= 3x peak) RL-form wins and median gamma over the proxies (2,0), (8,0), (32,0) only (rm0-2), seeds 0-3."""
import numpy as np, importlib.util, sys, io, contextlib
src = open("analyze.py").read(); src = src[:src.index("files = sys.argv")]
ns = {}; exec(src, ns); fit_forms = ns["fit_forms"]
for st in sys.argv[1:]:
    w = 0; n = 0; gs = []; pk = []; sh1 = []
    for s in range(4):
        fn = f"out/s{s}_V1024_g1_{st}.npz"; d = np.load(fn)
        for i in range(3):
            D = d[f"dense{i}"]; kl, G = D[:, 1], D[:, 6]; ip = int(G.argmax())
            if ip >= len(G) - 3: continue
            m = (kl <= 3 * kl[ip]) & (kl > 0); ab, ar, g = fit_forms(np.sqrt(kl[m]), G[m])
            n += 1; w += ar < ab; gs.append(g); pk.append(kl[ip])
    print(f"{st:8s} near-peak wins {w}/{n}  median gamma {np.median(gs):.2f}  peak KL {min(pk):.1f}-{max(pk):.1f}")
