"""PPO-style per-step KL control study for goodhart issue #14 (copied from ../issue14-synonyms/syn.py; run with GVAR 1 only).
Added POLICY values (same world, proxies, features F, width 8, Adam lr 0.01, batch 32, exact evaluations):
  ppo   PPO-clip, per-token ratio: sum_t min(r_t A, clip(r_t,1-eps,1+eps) A), r_t = pi(x_t)/pi_old(x_t)
  ppos  PPO-clip, sequence ratio r = prod_t r_t
  ppokl ppo + early stop of the epochs when exact KL(pi_new||pi_old) > kt (per sequence, nats)
  npg   natural policy gradient: sampled REINFORCE gradient, exact Fisher (block per position), constant per-step KL kt
  A = (R - mean R)/std R (whitened, as TRL/baselines); E epochs (ep=4) of full-batch Adam steps (mb=32) or minibatches (mb=8);
  eps=0.2; one Adam state for the whole run (bias-correction counter per update).
Original docstring:
usage: python syn.py SEED GVAR POLICY [lr=..] [Vm=1024] [za=1.0] [sizes=all|i,j] [steps=3000] [tag=..]
  GVAR: 1 | 8 | 32 | mix (g per meaning drawn from {1,2,4,..,64})
  POLICY: feat (ln pi0 + F a_t, width 8, Adam 0.01, REINFORCE batch 32)
          tabs (tabular token logits, plain SGD, sampled REINFORCE batch 32)
          tabx (tabular token logits, plain SGD, exact expected gradient)
          tadm (tabular token logits, Adam lr 0.01, sampled REINFORCE batch 32; added as a contrast)
          bon  (best-of-n curves only; meaning world, independent of g)
writes out/<tag>.npz : per proxy eval rows [step, kl, kl_meaning, kl_within, entropy, proxy, gold, E_pi[log2 g] per position]
  rm<i>: the ~40 log-spaced steps; dense<i>: also every step where sqrt(KL) advanced by >= 0.05"""
import sys, time, numpy as np
from scipy.optimize import minimize
from scipy.special import gammaln
a = sys.argv; seed = int(a[1]); gvar = a[2]; pol = a[3]
kv = dict(s.split("=") for s in a[4:])
Vm = int(kv.get("Vm", 1024)); T = 8; K = 32; za = float(kv.get("za", 1.0)); steps = int(kv.get("steps", 3000))
B = 32; NCMP = 4000
SIZES = [(2, 0), (8, 0), (32, 0), (32, 64), (32, 256), (32, 1024)]
sel = kv.get("sizes", "all"); idx = range(len(SIZES)) if sel == "all" else [int(i) for i in sel.split(",")]

# ---------------- meaning world (depends on seed and Vm only) ----------------
rw = np.random.default_rng([seed, Vm, 1])
lp0 = -np.log(np.arange(1, Vm + 1))[None, :] + 0.3 * rw.standard_normal((T, Vm))
lp0 -= np.logaddexp.reduce(lp0, 1, keepdims=True); p0 = np.exp(lp0)
pbar = p0.mean(0); ell = -np.log(pbar)
E = rw.standard_normal((Vm, K)); E[:, 0] = (ell - ell.mean()) / ell.std()
w = rw.standard_normal(K); s = E @ w; s = (s - (pbar * s).sum()) / np.sqrt((pbar * (s - (pbar * s).sum()) ** 2).sum())
El = (pbar * ell).sum()
q = s + 2.5 * ((ell - El) - 3 * np.maximum(0, ell - np.log(Vm))) + rw.standard_normal(Vm)
def calib(v):  # per-meaning value -> sequence sum has mean 0 sd 1 under pi_0 exactly
    mu = (p0 * v[None]).sum(1); var = (p0 * v[None] ** 2).sum(1) - mu ** 2
    return (v - mu.sum() / T) / np.sqrt(var.sum())
q = calib(q)
def sample_seq(rng, n):  # meanings under pi_0, (n, T)
    c = np.cumsum(p0, 1); c[:, -1] = 1.0
    return np.stack([np.searchsorted(c[t], rng.random(n), side="right") for t in range(T)], 1).clip(0, Vm - 1)
rc = np.random.default_rng([seed, Vm, 2])
xa, xb = sample_seq(rc, NCMP), sample_seq(rc, NCMP)
y = (q[xa].sum(1) > q[xb].sum(1)).astype(float)
top = np.argsort(-pbar)
def fit_proxy(k, m):
    def feats(x):
        f = E[x][:, :, :k].sum(1)
        if m:
            cnt = np.zeros((len(x), Vm)); np.add.at(cnt, (np.repeat(np.arange(len(x)), T), x.ravel()), 1.0)
            f = np.concatenate([f, cnt[:, top[:m]]], 1)
        return f
    D = feats(xa) - feats(xb); lam = np.r_[np.full(k, 1e-3), np.full(m, 1.0 / NCMP)]
    def f(wv):
        z = D @ wv; l = np.logaddexp(0, z) - y * z; gr = D.T @ (1 / (1 + np.exp(-z)) - y) / NCMP
        return l.mean() + 0.5 * (lam * wv * wv).sum(), gr + lam * wv
    res = minimize(f, np.zeros(k + m), jac=True, method="L-BFGS-B", options=dict(maxiter=5000))
    wv = res.x; r = E[:, :k] @ wv[:k]
    if m: r[top[:m]] += wv[k:]
    return calib(r), res.nit
proxies = []
for i in idx:
    k, m = SIZES[i]; r, nit = fit_proxy(k, m); proxies.append(r)
    print(f"proxy {SIZES[i]} iters {nit} corr(r,q) under pbar {np.cov(r, q, aweights=pbar)[0,1]/np.sqrt(np.cov(r,q,aweights=pbar)[0,0]*np.cov(r,q,aweights=pbar)[1,1]):.2f}", flush=True)
tag = kv.get("tag", f"s{seed}_V{Vm}_g{gvar}_{pol}" + (f"_za{za}" if za != 1.0 else "") + kv.get("sfx", ""))
t0 = time.time()

if pol == "bon":
    rb = np.random.default_rng([seed, Vm, 3]); N = 10000; P = 40
    ns = np.unique(np.round(np.logspace(0, 4, 41)).astype(int))
    lC = lambda a_, b_: gammaln(a_ + 1) - gammaln(b_ + 1) - gammaln(a_ - b_ + 1)
    i1 = np.arange(1, N + 1)
    W = np.stack([np.where(i1 >= n, np.exp(lC(i1 - 1, n - 1) - lC(N, n)), 0.0) for n in ns])  # (len ns, N)
    out = {}
    G = np.zeros((len(idx), len(ns))); Pr = np.zeros_like(G)
    for p_ in range(P):
        x = sample_seq(rb, N); gs = q[x].sum(1)
        for j, r in enumerate(proxies):
            ps = r[x].sum(1); o = np.argsort(ps, kind="stable")
            G[j] += W @ gs[o] / P; Pr[j] += W @ ps[o] / P
    kl = np.log(ns) - (ns - 1) / ns
    for j, i in enumerate(idx):
        out[f"rm{i}"] = np.stack([ns, kl, Pr[j], G[j]], 1)
    np.savez(f"out/{tag}.npz", **out); print(f"bon done {time.time()-t0:.0f}s"); sys.exit()

# ---------------- tokens ----------------
rg = np.random.default_rng([seed, Vm, 4])
if gvar == "mix": gsz = 2 ** rg.integers(0, 7, Vm)
else: gsz = np.full(Vm, int(gvar))
tok_m = np.repeat(np.arange(Vm), gsz); Nt = len(tok_m); starts = np.r_[0, np.cumsum(gsz)[:-1]]
srank = np.arange(Nt) - starts[tok_m] + 1
lps = -za * np.log(srank); lps -= np.logaddexp.reduceat(lps, starts)[tok_m]  # ln pi0(s|m)
L0 = lp0[:, tok_m] + lps[None]                                              # (T, Nt)
rF = np.random.default_rng([seed, Vm, 5, 7])
F = np.concatenate([E[tok_m, :1], rF.standard_normal((Nt, 7))], 1)          # policy features (width 8)
def evaluate(L, r, qq):
    p = np.exp(L); klt = (p * (L - L0)).sum()
    pm = np.add.reduceat(p, starts, axis=1); klm = (pm * (np.log(pm + 1e-300) - lp0)).sum()
    ent = -(p * L).sum()
    return [klt, klm, klt - klm, ent, (pm * r[None]).sum(), (pm * qq[None]).sum(), (pm * np.log2(gsz)[None]).sum() / T]
def norm(L): return L - np.logaddexp.reduce(L, 1, keepdims=True)
if pol in ("tilt", "ftilt"):  # references: exact tilt pi0 exp(lam r) (tabular), and the in-class (ln pi0 + F a) KL-regularised optimum
    lams = np.r_[0.0, np.logspace(-3, 1.7, 600)]; rmset = set(np.unique(np.round(np.r_[0, np.logspace(0, np.log10(600), 39)])).astype(int).tolist())
    out = {}
    for j, i in enumerate(idx):
        r = proxies[j]; rt = r[tok_m]; rows = []; dense = []; dlast = -1.0; a_ = np.zeros((T, 8))
        for li, lam in enumerate(lams):
            if pol == "tilt": L = norm(L0 + lam * rt[None])
            else:
                for t_ in range(T):
                    def fo(av):
                        Lt = L0[t_] + F @ av; Lt = Lt - np.logaddexp.reduce(Lt); pt = np.exp(Lt); mu = pt @ F
                        kl_ = (pt * (Lt - L0[t_])).sum(); er = pt @ rt; cfr = F.T @ (pt * rt) - mu * er
                        cff = (F * pt[:, None]).T @ F - np.outer(mu, mu)
                        return -(lam * er - kl_), -(lam * cfr - cff @ av)
                    a_[t_] = minimize(fo, a_[t_], jac=True, method="L-BFGS-B", options=dict(maxiter=500)).x
                L = norm(L0 + a_ @ F.T)
            ev = [lam] + evaluate(L, r, q); d_ = np.sqrt(max(ev[1], 0))
            if li in rmset: rows.append(ev)
            if d_ - dlast >= 0.05 or li == len(lams) - 1: dense.append(ev); dlast = d_
        rows = np.array(rows); out[f"rm{i}"] = rows; out[f"dense{i}"] = np.array(dense)
        D = out[f"dense{i}"]; print(f"{tag} rm{i} end KL {D[-1,1]:.1f} peak gold {D[:,6].max():.2f} at KL {D[D[:,6].argmax(),1]:.1f} t={time.time()-t0:.0f}s", flush=True)
    np.savez(f"out/{tag}.npz", **out); sys.exit()
evals = set(np.unique(np.round(np.logspace(0, np.log10(steps), 40)).astype(int)).tolist()) | {0}
lr = float(kv.get("lr", {"feat": 0.01, "tabs": 10.0, "tabx": 10.0, "tadm": 0.01}.get(pol, 0.01)))
EP = int(kv.get("ep", 4)); EPS = float(kv.get("eps", 0.2)); KT = float(kv.get("kt", 0.02)); MB = int(kv.get("mb", B))
tt = np.arange(T)[None, :]
out = {}
for j, i in enumerate(idx):
    r = proxies[j]; rt = r[tok_m]; rr = np.random.default_rng([seed, Vm, 6, i])
    rows = []; dense = []; dlast = -1.0
    diag = []  # per step: [KL(new||old) of the step, clip fraction, epochs done]
    if pol in ("feat", "ppo", "ppos", "ppokl", "npg"):
        A = np.zeros((T, 8)); m1 = np.zeros_like(A); m2 = np.zeros_like(A); kk = 0
    else:
        th = np.zeros((T, Nt))
        if pol == "tadm": m1 = np.zeros_like(th); m2 = np.zeros_like(th)
    for st in range(steps + 1):
        L = norm(L0 + (A @ F.T if pol in ("feat", "ppo", "ppos", "ppokl", "npg") else th))
        p = np.exp(L); dcur = np.sqrt(max((p * (L - L0)).sum(), 0.0))
        if st in evals or dcur - dlast >= 0.05 or st == steps:
            ev = [st] + evaluate(L, r, q); dense.append(ev); dlast = dcur
            if st in evals: rows.append(ev)
        if st == steps: break
        if pol == "tabx":
            rb_ = (p * rt[None]).sum(1, keepdims=True)
            th += lr * (B - 1) / B * p * (rt[None] - rb_)
            continue
        c = np.cumsum(p, 1); c[:, -1] = 1.0
        x = np.stack([np.searchsorted(c[t], rr.random(B), side="right") for t in range(T)], 1).clip(0, Nt - 1)
        R = rt[x].sum(1); adv = (R - R.mean()) / B
        if pol in ("ppo", "ppos", "ppokl"):
            advn = (R - R.mean()) / (R.std() + 1e-8); lpo = L[tt, x]; Fx = F[x]; Lc = L; ne = 0; nclip = 0.0
            for ep in range(EP):
                perm = rr.permutation(B)
                for mb0 in range(0, B, MB):
                    ib = perm[mb0:mb0 + MB]
                    Fb = np.exp(Lc) @ F; Gx = Fx[ib] - Fb[None]; lrt = Lc[tt, x[ib]] - lpo[ib]; ab = advn[ib]
                    if pol == "ppos":
                        rs = np.exp(lrt.sum(1)); act = np.where(ab > 0, rs < 1 + EPS, rs > 1 - EPS)
                        gA = np.einsum("b,btk->tk", rs * ab * act, Gx) / len(ib); nclip += 1 - act.mean()
                    else:
                        rs = np.exp(lrt); act = np.where(ab[:, None] > 0, rs < 1 + EPS, rs > 1 - EPS)
                        gA = np.einsum("bt,btk->tk", rs * ab[:, None] * act, Gx) / len(ib); nclip += 1 - act.mean()
                    kk += 1; m1 = 0.9 * m1 + 0.1 * gA; m2 = 0.999 * m2 + 0.001 * gA * gA
                    A += lr * (m1 / (1 - 0.9 ** kk)) / (np.sqrt(m2 / (1 - 0.999 ** kk)) + 1e-8); ne += 1
                    Lc = norm(L0 + A @ F.T); dc = np.sqrt(max((np.exp(Lc) * (Lc - L0)).sum(), 0.0))
                    if dc - dlast >= 0.05: dense.append([st + ne / (EP * -(-B // MB) + 1)] + evaluate(Lc, r, q)); dlast = dc  # intra-step point of the path
                Ln = Lc; kstep = (np.exp(Ln) * (Ln - L)).sum()
                if pol == "ppokl" and kstep > KT: break
            diag.append([kstep, nclip / ne, ep + 1])
        elif pol == "npg":
            Fb = p @ F; g = np.einsum("b,btk->tk", adv, F[x]) - adv.sum() * Fb
            nd = np.zeros_like(g)
            for t_ in range(T):
                Ft = (F * p[t_][:, None]).T @ F - np.outer(Fb[t_], Fb[t_]) + 1e-6 * np.eye(8)
                nd[t_] = np.linalg.solve(Ft, g[t_])
            qf = (g * nd).sum(); A += np.sqrt(2 * KT / max(qf, 1e-30)) * nd
            Ln = norm(L0 + A @ F.T); diag.append([(np.exp(Ln) * (Ln - L)).sum(), 0.0, 1])
        elif pol == "tabs":
            for t in range(T): np.add.at(th[t], x[:, t], lr * adv)
        elif pol == "tadm":
            g = np.zeros_like(th)
            for t in range(T): np.add.at(g[t], x[:, t], adv)
            m1 = 0.9 * m1 + 0.1 * g; m2 = 0.999 * m2 + 0.001 * g * g; kk = st + 1
            th += lr * (m1 / (1 - 0.9 ** kk)) / (np.sqrt(m2 / (1 - 0.999 ** kk)) + 1e-8)
        else:
            Fb = p @ F  # (T,8)
            g = np.einsum("b,btk->tk", adv, F[x]) - adv.sum() * Fb
            m1 = 0.9 * m1 + 0.1 * g; m2 = 0.999 * m2 + 0.001 * g * g; kk = st + 1
            A += lr * (m1 / (1 - 0.9 ** kk)) / (np.sqrt(m2 / (1 - 0.999 ** kk)) + 1e-8)
    rows = np.array(rows); out[f"rm{i}"] = rows; out[f"dense{i}"] = np.array(dense)
    if diag: dg = np.array(diag); out[f"diag{i}"] = dg; print(f"   step KL med {np.median(dg[:,0]):.2e} (first 100: {np.median(dg[:100,0]):.2e}, last 500: {np.median(dg[-500:,0]):.2e}) clipfrac {dg[:,1].mean():.3f} epochs {dg[:,2].mean():.2f}")
    print(f"{tag} rm{i} {SIZES[i]} n_dense {len(dense)} end KL {rows[-1,1]:.1f} (within {rows[-1,3]:.1f}) proxy {rows[-1,5]:.2f} gold {rows[-1,6]:.2f} peak gold {rows[:,6].max():.2f} at KL {rows[rows[:,6].argmax(),1]:.1f}  t={time.time()-t0:.0f}s", flush=True)
np.savez(f"out/{tag}.npz", lr=lr, ep=EP, eps=EPS, kt=KT, mb=MB, **out)
