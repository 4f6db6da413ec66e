import numpy as np, glob, sys
tx = np.array([0.06, 0.25, 0.56, 1, 1.56, 2.25, 3]); ty = np.array([2.13, 1.48, 1.18, 1, 0.88, 0.79, 0.72])
print("target            ", ty)
for set_ in sys.argv[1:]:
    rels = []; sh = []
    for s in range(4):
        d = np.load(f"out/s{s}_V1024_g1_fil_{set_}.npz")
        for i in range(3):
            D = d[f"dense{i}"]; K = D[:, 1]; fr = np.where(K > 0, D[:, 2] / np.maximum(K, 1e-12), 1)
            ip = D[:, 6].argmax(); Kp = K[ip]
            if ip >= len(K) - 3: continue
            f = np.interp(tx * Kp, K, fr); rels.append(f / fr[ip]); sh.append(1 - f)
    print(f"{set_} rel (median) ", np.round(np.median(rels, 0), 2), " share", np.round(np.median(sh, 0), 2))
