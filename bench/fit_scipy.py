"""The references for `goodhart fit`, timed in process (read included, imports excluded).

Usage:
  python3 bench/fit_scipy.py curve_fit CURVES(.csv|.parquet) OUT.json   scipy curve_fit loop
  python3 bench/fit_scipy.py lstsq     CURVES(.csv|.parquet) OUT.json   np.linalg.lstsq per curve
  python3 bench/fit_scipy.py gen OUT.parquet CURVES POINTS SEED         a Curves table

Each reference prints one line, `seconds=S`: the time from just before the read to just after
the JSON is written, measured inside the process after its imports. This is what a skilled
researcher writes: pyarrow (through pandas) reads the file, one `groupby` splits it into curves,
and a loop fits each curve with the paper's forms (bon: d*(a - b*d), rl: d*(a - b*ln d)), with
the kl = 0 baseline subtracted when present, and writes the coefficients and standard errors.
Both forms are linear in (alpha, beta), so the second reference solves each curve's least
squares directly with `np.linalg.lstsq` (the same coefficients as curve_fit, without its
iterations), standard errors from the residual variance.
"""
import json
import sys
import time

import numpy as np


def bon(d, a, b):
    return d * (a - b * d)


def rl(d, a, b):
    return d * (a - b * np.log(d))


def read(path):
    import pandas as pd

    if path.endswith(".parquet"):
        return pd.read_parquet(path, engine="pyarrow")
    return pd.read_csv(path, engine="pyarrow")


def points(g):
    kl = g["kl"].to_numpy()
    y = g["gold"].to_numpy()
    zero = kl == 0
    if zero.any():
        y = y - y[zero].mean()
        kl, y = kl[~zero], y[~zero]
    return np.sqrt(kl), y


def fit_curve_fit(df):
    from scipy.optimize import curve_fit

    fits = []
    for (method, rm), g in df.groupby(["method", "rm_params"], sort=True):
        d, y = points(g)
        f = bon if method == "bon" else rl
        p, cov = curve_fit(f, d, y, p0=(0.5, 0.1))
        se = np.sqrt(np.diag(cov))
        fits.append({"method": method, "rm_params": rm, "alpha": p[0], "beta": p[1],
                     "alpha_se": se[0], "beta_se": se[1]})
    return fits


def fit_lstsq(df):
    fits = []
    for (method, rm), g in df.groupby(["method", "rm_params"], sort=True):
        d, y = points(g)
        second = -d * d if method == "bon" else -d * np.log(d)
        x = np.column_stack([d, second])
        p, res, _, _ = np.linalg.lstsq(x, y, rcond=None)
        dof = len(y) - 2
        s2 = (res[0] if len(res) else float(np.sum((y - x @ p) ** 2))) / dof
        se = np.sqrt(np.diag(s2 * np.linalg.inv(x.T @ x)))
        fits.append({"method": method, "rm_params": rm, "alpha": p[0], "beta": p[1],
                     "alpha_se": se[0], "beta_se": se[1]})
    return fits


def run(kind, path, out):
    # every import before the clock starts (pandas' and scipy's take about a second; pyarrow's
    # dataset module is otherwise imported by the first Parquet read)
    import pandas  # noqa: F401
    import pyarrow.csv  # noqa: F401
    import pyarrow.dataset  # noqa: F401
    import pyarrow.parquet  # noqa: F401
    import scipy.optimize  # noqa: F401

    t = time.perf_counter()
    df = read(path)
    fits = fit_curve_fit(df) if kind == "curve_fit" else fit_lstsq(df)
    with open(out, "w") as fh:
        json.dump({"fits": fits}, fh)
    print(f"seconds={time.perf_counter() - t:.6f}")


def gen(out, curves, points_per_curve, seed):
    """`curves` curves (half bon, half rl, distinct rm_params) of `points_per_curve` rows: one
    kl = 0 row and the others evenly spaced in sqrt(KL), gold from the paper's forms plus
    Gaussian noise (sd 0.02)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    half = curves // 2
    sizes = 1e6 * 10 ** (4 * np.arange(half) / max(half - 1, 1))
    k = points_per_curve - 1
    frac = np.arange(k + 1) / k  # 0 first: the baseline row
    cols = {"method": [], "rm_params": [], "kl": [], "gold": []}
    for method, kl_max in [("bon", 10.0), ("rl", 100.0)]:
        d = np.sqrt(kl_max) * frac
        lg = np.log10(sizes)[:, None]
        if method == "bon":
            a, b = 0.30 + 0.065 * lg, 0.45 - 0.035 * lg
            y = d * (a - b * d)
        else:
            a, b = 0.5 + 0 * lg, 0.45 - 0.03 * lg
            with np.errstate(divide="ignore", invalid="ignore"):
                y = np.where(d > 0, d * (a - b * np.log(np.where(d > 0, d, 1))), 0.0)
        y = y + rng.normal(0, 0.02, size=y.shape)
        cols["method"].append(np.full(half * (k + 1), method))
        cols["rm_params"].append(np.repeat(sizes, k + 1))
        cols["kl"].append(np.tile(d * d, half))
        cols["gold"].append(y.ravel())
    table = pa.table({c: np.concatenate(v) for c, v in cols.items()})
    pq.write_table(table, out)


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    else:
        run(sys.argv[1], sys.argv[2], sys.argv[3])
