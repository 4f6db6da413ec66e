#!/usr/bin/env python3
"""The numpy references of bench/bon_vs_numpy.sh: the best-of-n estimator as a skilled numpy user
would write it, timed in process (time.perf_counter around read + compute, after the imports).

  bon_numpy.py make     OUT.parquet PROMPTS SAMPLES SEED grouped|shuffled [RMS]
  bon_numpy.py grouped  IN.parquet OUT.csv   # rows grouped by prompt: reshape, no grouping step
  bon_numpy.py shuffled IN.parquet OUT.csv   # rows in any order: group by prompt first
  bon_numpy.py read     IN.parquet           # the read alone (the floor)
  bon_numpy.py compare  GOODHART.csv NUMPY.csv TOL

Every command that reads prints one JSON line to stderr with its in-process seconds:
{"read_s": ..., "compute_s": ..., "total_s": ...} (total = read + compute; the imports and the
writing of the few output rows are not counted).

The estimator is goodhart's for pools without ties (continuous scores have none): per prompt,
the samples sorted by proxy (np.argsort along axis 1), w_i(n) = C(i-1, n-1) / C(N, n) from
exact ratios (see bon_weights; scipy.special.gammaln is not accurate enough for the 1e-12
comparison), one matrix product (prompts x N) @ (N x n values) per score, and the mean
and standard error over prompts. Pools must all have N samples (np.reshape).
"""
import json
import sys
import time

COLUMNS = ["prompt", "proxy", "gold"]


def make(out, prompts, samples, seed, layout, rms=1):
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    total = prompts * samples
    parts = {"prompt": [], "proxy": [], "gold": [], "rm_params": []}
    for r in range(rms):
        gold = rng.standard_normal(total)
        proxy = gold + 0.8 * rng.standard_normal(total)
        prompt = np.repeat(np.arange(prompts, dtype=np.int64), samples)
        if layout == "shuffled":
            order = rng.permutation(total)
            prompt, proxy, gold = prompt[order], proxy[order], gold[order]
        parts["prompt"].append(prompt)
        parts["proxy"].append(proxy)
        parts["gold"].append(gold)
        parts["rm_params"].append(np.full(total, 1e8 * 10**r))
    columns = {k: np.concatenate(v) for k, v in parts.items()}
    if rms == 1:
        del columns["rm_params"]
    pq.write_table(pa.table(columns), out)


def default_grid(big_n):
    """goodhart's default n values: every n up to 64, else the finest geometric grid from 1 to N
    whose rounding leaves 60 distinct values."""
    import numpy as np

    if big_n <= 64:
        return list(range(1, big_n + 1))
    steps = 59
    while True:
        grid = {min(max(int(np.floor(np.exp(k / steps * np.log(big_n)) + 0.5)), 1), big_n) for k in range(steps + 1)}
        grid |= {1, big_n}
        if len(grid) >= 60 or steps >= big_n:
            return sorted(grid)
        steps += 1


def read_columns(path):
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=COLUMNS)
    # zero-copy for a column of one chunk; one concatenation per column otherwise
    return [table.column(c).to_numpy() for c in COLUMNS]


def bon_weights(big_n, ns, log_gamma=False):
    """w_i(n) = C(i-1, n-1) / C(N, n) for ranks i = 1..N (rows) and the n values (columns).

    By default a reverse cumulative product of the exact ratios, w_N = n/N and
    w_(i-1) = w_i (i - n)/(i - 1), which is accurate to about 1e-15. With log_gamma, the textbook
    exp(gammaln(..) - ..): its differences of log-gamma values near ln(1000!) = 5912 lose about
    2e-12 of relative accuracy at N = 1000 (measured against exact rationals), too much for the
    1e-12 comparison, so it is kept only to show that. Either costs about a millisecond.
    """
    import numpy as np
    from scipy.special import gammaln

    i = np.arange(1, big_n + 1)[:, None]
    n = ns[None, :]
    if log_gamma:
        with np.errstate(invalid="ignore"):
            logw = (gammaln(i) - gammaln(n) - gammaln(np.maximum(i - n + 1, 1))) - (
                gammaln(big_n + 1) - gammaln(n + 1) - gammaln(big_n - n + 1)
            )
        return np.where(i >= n, np.exp(logw), 0.0)
    # factor of row r (0-based): w_r / w_(r+1) = (r + 2 - n)/(r + 1); the top row's is n/N
    factors = np.maximum((i + 1 - n) / i, 0.0)
    factors[-1, :] = ns / big_n
    return np.cumprod(factors[::-1], axis=0)[::-1]


def estimate(proxy_m, gold_m):
    """Curves from (prompts x N) matrices of one prompt per row."""
    import numpy as np
    from scipy.special import gammaln

    big_n = proxy_m.shape[1]
    rank = np.argsort(proxy_m, axis=1)
    proxy_s = np.take_along_axis(proxy_m, rank, axis=1)
    gold_s = np.take_along_axis(gold_m, rank, axis=1)
    ns = np.array(default_grid(big_n))
    weights = bon_weights(big_n, ns)  # N x K
    gold_est = gold_s @ weights  # prompts x K
    proxy_est = proxy_s @ weights
    m = gold_est.shape[0]
    return {
        "n": ns,
        "kl": np.log(ns) - (ns - 1) / ns,
        "gold": gold_est.mean(axis=0),
        "proxy": proxy_est.mean(axis=0),
        "gold_se": gold_est.std(axis=0, ddof=1) / np.sqrt(m),
        "proxy_se": proxy_est.std(axis=0, ddof=1) / np.sqrt(m),
    }


def grouped(prompt, proxy, gold):
    """Rows already grouped by prompt, every pool of one size: a reshape."""
    import numpy as np

    starts = np.flatnonzero(np.r_[True, prompt[1:] != prompt[:-1]])
    p = len(starts)
    big_n = len(prompt) // p
    assert p * big_n == len(prompt) and (prompt.reshape(p, big_n) == prompt[starts][:, None]).all(), (
        "rows are not grouped into pools of one size"
    )
    return estimate(proxy.reshape(p, big_n), gold.reshape(p, big_n))


def shuffled(prompt, proxy, gold):
    """Rows in any order: an argsort by prompt (numpy's default sort; stability is not needed, as each
    pool is sorted by proxy next) groups
    them, then the same estimator."""
    import numpy as np

    order = np.argsort(prompt)
    sorted_prompt = prompt[order]
    starts = np.flatnonzero(np.r_[True, sorted_prompt[1:] != sorted_prompt[:-1]])
    p = len(starts)
    big_n = len(prompt) // p
    assert p * big_n == len(prompt) and (np.diff(np.r_[starts, len(prompt)]) == big_n).all(), (
        "this reference handles pools of one size only"
    )
    return estimate(proxy[order].reshape(p, big_n), gold[order].reshape(p, big_n))


def no_huge_pages():
    """numpy's huge-page advice off (`_set_madvise_hugepage(False)`; pyarrow's read keeps its
    own): numpy asks for transparent huge pages (madvise) on large arrays, and where the
    kernel's THP defrag setting is `madvise` a first touch may wait for memory compaction. On
    the benchmark machine on 2026-11-30 that doubled numpy's grouped compute (1.2-1.5 s against
    0.52-0.69 s without the advice), a cost of the host, not of the method; goodhart turns THP
    off for its own process (src/main.rs). Turning THP off for the whole Python process made
    pyarrow's read slower (0.37 s against 0.19-0.23 s), so only numpy's advice is turned off."""
    import numpy as np

    core = getattr(np, "_core", None) or getattr(np, "core", None)
    setter = getattr(getattr(core, "multiarray", None), "_set_madvise_hugepage", None)
    if setter is not None:
        setter(False)


def run(kind, path, out):
    import numpy as np  # noqa: F401  (imports are not timed)
    import pyarrow.dataset  # noqa: F401  (pq.read_table imports it on its first call)
    import pyarrow.parquet  # noqa: F401
    import scipy.special  # noqa: F401

    no_huge_pages()
    t0 = time.perf_counter()
    cols = read_columns(path)
    t1 = time.perf_counter()
    curves = (grouped if kind == "grouped" else shuffled)(*cols)
    t2 = time.perf_counter()
    with open(out, "w") as f:
        names = list(curves)
        f.write(",".join(names) + "\n")
        for k in range(len(curves["n"])):
            f.write(",".join(str(int(curves[c][k])) if c == "n" else repr(float(curves[c][k])) for c in names) + "\n")
    json.dump({"read_s": t1 - t0, "compute_s": t2 - t1, "total_s": t2 - t0}, sys.stderr)
    sys.stderr.write("\n")


def read(path):
    import numpy  # noqa: F401
    import pyarrow.dataset  # noqa: F401  (pq.read_table imports it on its first call)
    import pyarrow.parquet  # noqa: F401

    no_huge_pages()
    t0 = time.perf_counter()
    cols = read_columns(path)
    t1 = time.perf_counter()
    json.dump({"read_s": t1 - t0, "compute_s": 0.0, "total_s": t1 - t0, "rows": len(cols[0])}, sys.stderr)
    sys.stderr.write("\n")


def compare(a, b, tol):
    import csv

    def load(p):
        with open(p) as f:
            return {int(r["n"]): r for r in csv.DictReader(f) if not r.get("replicate")}

    ra, rb = load(a), load(b)
    assert ra.keys() == rb.keys(), f"different n values: {sorted(ra)} vs {sorted(rb)}"
    cols = ("kl", "gold", "proxy", "gold_se", "proxy_se")
    worst = max(abs(float(ra[n][c]) - float(rb[n][c])) for n in ra for c in cols)
    print(f"curves: {len(ra)} n values; max |difference| of {', '.join(cols)}: {worst:.2e} (tolerance {tol:g})")
    if not worst <= tol:
        sys.exit("the implementations disagree")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "make":
        make(args[0], int(args[1]), int(args[2]), int(args[3]), args[4], int(args[5]) if len(args) > 5 else 1)
    elif cmd in ("grouped", "shuffled"):
        run(cmd, args[0], args[1])
    elif cmd == "read":
        read(args[0])
    elif cmd == "compare":
        compare(args[0], args[1], float(args[2]))
    else:
        sys.exit(__doc__)
