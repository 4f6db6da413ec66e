#!/usr/bin/env python3
"""Reference implementations for bench/bon_vs_numpy.sh.

  bon_numpy.py make   OUT.parquet PROMPTS SAMPLES SEED   # Gaussian samples, proxy = gold + noise
  bon_numpy.py bon    IN.parquet OUT.csv [N_VALUES]      # vectorised numpy best-of-n estimator
  bon_numpy.py read   IN.parquet                         # only read the file (pyarrow)
  bon_numpy.py compare A.csv B.csv                       # max |difference| of gold and proxy

The numpy estimator is the same estimator as `goodhart bon` for pools without ties: rows grouped
by prompt (one stable argsort), an argsort of proxy per prompt, weights w_i(n) = C(i-1, n-1)/C(N, n)
by gammaln, and one matrix product (prompts x N) @ (N x n-values). Timings go to stderr as JSON.
"""
import json
import sys
import time


def make(out, prompts, samples, seed):
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    total = prompts * samples
    gold = rng.standard_normal(total)
    proxy = gold + 0.8 * rng.standard_normal(total)
    prompt = np.repeat(np.arange(prompts, dtype=np.int64), samples)
    # rows in random order, as real dumps may come
    order = rng.permutation(total)
    table = pa.table({"prompt": prompt[order], "proxy": proxy[order], "gold": gold[order]})
    pq.write_table(table, out)


def default_grid(big_n):
    """goodhart's default: every n up to 64, else the finest geometric grid from 1 to N whose
    rounding leaves 60 distinct values."""
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


def bon(path, out, n_values=None):
    t0 = time.perf_counter()
    import numpy as np
    import pyarrow.parquet as pq
    from scipy.special import gammaln

    t_import = time.perf_counter()
    table = pq.read_table(path, columns=["prompt", "proxy", "gold"])
    prompt = table.column("prompt").to_numpy()
    proxy = table.column("proxy").to_numpy()
    gold = table.column("gold").to_numpy()
    t_read = time.perf_counter()
    # group rows by prompt (equal pool sizes in this benchmark)
    by_prompt = np.argsort(prompt, kind="stable")
    ids, counts = np.unique(prompt[by_prompt], return_counts=True)
    big_n = int(counts[0])
    assert (counts == big_n).all(), "this reference handles equal pool sizes only"
    proxy_m = proxy[by_prompt].reshape(len(ids), big_n)
    gold_m = gold[by_prompt].reshape(len(ids), big_n)
    # argsort per prompt by proxy
    rank = np.argsort(proxy_m, axis=1, kind="stable")
    proxy_s = np.take_along_axis(proxy_m, rank, axis=1)
    gold_s = np.take_along_axis(gold_m, rank, axis=1)
    t_sort = time.perf_counter()
    ns = np.array(n_values or default_grid(big_n))
    i = np.arange(1, big_n + 1)[:, None]
    n = ns[None, :]
    with np.errstate(invalid="ignore"):
        logw = (gammaln(i) - gammaln(n) - gammaln(np.maximum(i - n + 1, 1))) - (
            gammaln(big_n + 1) - gammaln(n + 1) - gammaln(big_n - n + 1)
        )
    weights = np.where(i >= n, np.exp(logw), 0.0)  # N x K
    gold_est = gold_s @ weights  # prompts x K: one matrix product
    proxy_est = proxy_s @ weights
    m = gold_est.shape[0]
    gold_mean = gold_est.mean(axis=0)
    proxy_mean = proxy_est.mean(axis=0)
    gold_se = gold_est.std(axis=0, ddof=1) / np.sqrt(m)
    proxy_se = proxy_est.std(axis=0, ddof=1) / np.sqrt(m)
    kl = np.log(ns) - (ns - 1) / ns
    t_est = time.perf_counter()
    with open(out, "w") as f:
        f.write("n,kl,gold,proxy,gold_se,proxy_se\n")
        for row in zip(ns, kl, gold_mean, proxy_mean, gold_se, proxy_se):
            f.write(",".join(repr(float(x)) if k else str(int(x)) for k, x in enumerate(row)) + "\n")
    t_end = time.perf_counter()
    json.dump(
        {
            "import_s": t_import - t0,
            "read_s": t_read - t_import,
            "group_sort_s": t_sort - t_read,
            "weights_matmul_s": t_est - t_sort,
            "write_s": t_end - t_est,
            "total_in_process_s": t_end - t0,
        },
        sys.stderr,
    )
    sys.stderr.write("\n")


def read(path):
    t0 = time.perf_counter()
    import pyarrow.parquet as pq

    t1 = time.perf_counter()
    table = pq.read_table(path, columns=["prompt", "proxy", "gold"])
    arrays = [table.column(c).to_numpy() for c in ("prompt", "proxy", "gold")]
    t2 = time.perf_counter()
    json.dump({"import_s": t1 - t0, "read_s": t2 - t1, "rows": len(arrays[0])}, sys.stderr)
    sys.stderr.write("\n")


def compare(a, b):
    import csv

    def load(p):
        with open(p) as f:
            return {int(r["n"]): r for r in csv.DictReader(f) if not r.get("replicate")}

    ra, rb = load(a), load(b)
    assert ra.keys() == rb.keys(), "different n values"
    worst = max(abs(float(ra[n][c]) - float(rb[n][c])) for n in ra for c in ("gold", "proxy", "kl"))
    print(f"n values: {len(ra)}; max |difference| of kl, gold, proxy: {worst:.3e}")
    assert worst < 1e-9, "implementations disagree"


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "make":
        make(args[0], int(args[1]), int(args[2]), int(args[3]))
    elif cmd == "bon":
        bon(args[0], args[1], [int(x) for x in args[2].split(",")] if len(args) > 2 else None)
    elif cmd == "read":
        read(args[0])
    elif cmd == "compare":
        compare(args[0], args[1])
    else:
        sys.exit(__doc__)
