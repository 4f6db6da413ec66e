"""The scipy reference for `goodhart fit`: read a Curves file, fit each curve with curve_fit.

Usage: python3 bench/fit_scipy.py CURVES(.csv|.parquet) OUT.json
This is what a researcher's notebook does today: group the table by curve, then loop
scipy.optimize.curve_fit over the groups with the paper's forms (bon: d*(a - b*d),
rl: d*(a - b*ln d)), with the kl = 0 baseline subtracted when present.
"""
import json
import sys

import numpy as np
import pandas as pd
from scipy.optimize import curve_fit


def bon(d, a, b):
    return d * (a - b * d)


def rl(d, a, b):
    return d * (a - b * np.log(d))


def main(path, out):
    df = pd.read_parquet(path) if path.endswith(".parquet") else pd.read_csv(path)
    fits = []
    for (method, rm), g in df.groupby(["method", "rm_params"], sort=True):
        kl = g["kl"].to_numpy()
        y = g["gold"].to_numpy()
        zero = kl == 0
        if zero.any():
            y = y - y[zero].mean()
            kl, y = kl[~zero], y[~zero]
        d = np.sqrt(kl)
        f = bon if method == "bon" else rl
        p, cov = curve_fit(f, d, y, p0=(0.5, 0.1))
        se = np.sqrt(np.diag(cov))
        fits.append({"method": method, "rm_params": rm, "alpha": p[0], "beta": p[1],
                     "alpha_se": se[0], "beta_se": se[1]})
    with open(out, "w") as fh:
        json.dump({"fits": fits}, fh)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
