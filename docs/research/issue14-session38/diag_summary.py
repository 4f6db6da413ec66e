"""Per no-penalty main-data curve (widths given): KL at the gold peak, at mass past the turn 0.9/0.99,
the gold change by component over KL segments, and where the KL goes.
usage: diag_summary.py DIAG.csv [widths...]"""
import sys, numpy as np, pandas as pd
d = pd.read_csv(sys.argv[1]); widths = [int(x) for x in sys.argv[2:]] or [8, 32]
def at(c, kl, col):  # linear interpolation in KL
    return float(np.interp(kl, c.kl.values, c[col].values))
def first(c, col, thr):
    i = np.argmax(c[col].values >= thr); return c.kl.values[i] if (c[col].values >= thr).any() else np.nan
for w in widths:
    print(f"=== width {w}")
    for p, c in d[d.width == w].groupby("rm_params"):
        c = c.sort_values("step"); ip = int(np.argmax(c.gold.values)); pk = c.kl.values[ip]
        peaking = ip < len(c) - 3
        print(f"rm {p:5d} peak={peaking!s:5} peakKL {pk:5.2f} gold {c.gold.values[ip]:.2f} mass@peak {c.mass_past_turn.values[ip]:.2f} | KL at mass>=0.9 {first(c,'mass_past_turn',0.9):5.1f} >=0.99 {first(c,'mass_past_turn',0.99):5.1f} | final KL {c.kl.values[-1]:.1f} ent {c.ent.values[-1]:.1f} top1 {c.top1.values[-1]:.2f} E[s] {c.surprisal.values[-1]:.2f}")
        if not peaking: continue
        segs = [(0, pk), (pk, 3 * pk), (3 * pk, 20), (20, 40), (40, 80)]
        for a, b in segs:
            if b > c.kl.values[-1] + 1e-9: continue
            dg = {k: at(c, b, k) - at(c, a, k) for k in ["gold", "d_smooth", "d_rare_lin", "d_rare_turn", "d_idio", "surprisal", "mass_past_turn", "ent", "kl_only0", "kl_no0", "norm_col0", "norm_rest"]}
            dd = np.sqrt(b) - np.sqrt(a)
            print(f"    KL {a:5.1f}->{b:5.1f}: dgold/dd {dg['gold']/dd:6.2f} | dgold {dg['gold']:6.2f} = smooth {dg['d_smooth']:5.2f} + rare_lin {dg['d_rare_lin']:5.2f} + rare_turn {dg['d_rare_turn']:6.2f} + idio {dg['d_idio']:5.2f} | dE[s] {dg['surprisal']:5.2f} dmass {dg['mass_past_turn']:5.2f} dent {dg['ent']:6.1f} | dKL(col0 only) {dg['kl_only0']:5.1f} dKL(no col0) {dg['kl_no0']:5.1f} | d|a0| {dg['norm_col0']:.2f} d|a_rest| {dg['norm_rest']:.2f}")
