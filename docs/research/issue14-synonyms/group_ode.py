"""Exact vanilla PG on a tabular softmax, one meaning's synonym group: dtheta_s/dtau = pi(s|m), tau = int pi_m adv_m dt.
Prints the within-group KL W and the meaning-logit gain D(theta~) = ln sum_s pi0(s|m) e^theta_s along tau: a fixed relation."""
import numpy as np
for g, za in ((8, 1.0), (32, 1.0), (32, 0.5), (64, 1.0)):
    lp = -za * np.log(np.arange(1, g + 1)); lp -= np.logaddexp.reduce(lp)
    th = np.zeros(g); tau = 0.0; dt = 2e-3; out = []; marks = [0.25, 0.5, 1, 2, 3, 4, 6, 9]
    while tau < 400:
        l = lp + th; Z = np.logaddexp.reduce(l); p = np.exp(l - Z)
        if marks and Z >= marks[0]:
            W = (p * (l - Z - lp)).sum(); out.append(f"gain {marks[0]:4}: W {W:.2f} ({W/-lp[0]:.0%} of ln1/p0(s1)) c {np.sum(p*p):.2f}"); marks.pop(0)
        th += dt * p / max(p.max(), 1e-9) * 0.5; tau += dt * 0.5 / max(p.max(), 1e-9)
    print(f"g={g} za={za} bound ln1/p0(s1|m)={-lp[0]:.2f} c0={np.sum(np.exp(2*lp)):.3f} | " + " | ".join(out))
