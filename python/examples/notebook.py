"""A notebook in a script: fit RL runs from pandas DataFrames (a TRL log and the demo's runs),
fit best-of-n curves, regress the coefficients on reward-model size, predict a reward model 10x
larger than the largest, and plot with matplotlib from the returned tables.

Run from the repository root:  python python/examples/notebook.py
(writes prediction_10x.png; set MPLBACKEND=Agg without a display)
"""

import matplotlib.pyplot as plt
import pandas as pd

import goodhart

# 1. A TRL PPO run (trainer_state.json plus gold evaluations by step) as a pandas DataFrame.
trl = goodhart.read_log(
    "tests/data/adapters/trl_ppo/trainer_state.json",
    format="trl",
    gold_from="tests/data/adapters/trl_ppo/gold.csv",
    rm_params=1e9,
)
trl_fits = goodhart.fit(trl, bootstrap=200)
print(trl_fits.table[["method", "rm_params", "form", "r2"]])

# 2. Many runs: the demo's RL runs and best-of-n curves (9 reward-model sizes), as DataFrames.
rl = pd.read_csv("data/rl_runs.csv")
bon = pd.read_csv("data/bon_curves.csv")
fits = goodhart.fit([bon, rl], bootstrap=200)
print(fits.report()[:400])

# 3. Scaling laws of the coefficients, and a reward model 10x larger than the largest.
laws = goodhart.scale(fits)
big = 10 * float(bon["rm_params"].max())
pred = goodhart.predict(laws, rm_params=big, method="bon")
table = pred.table
print(table.head())

# 4. Plot one curve: the table has one curve per (method, target, rm_data, ...), and the
#    best-of-n curves were measured with two RM training-set sizes (rm_data 1000 and 4000).
RM_DATA = 4000
fig, ax = plt.subplots(figsize=(6, 4))
point = bon[bon["rm_data"] == RM_DATA]
for size in sorted(point["rm_params"].unique())[-2:]:
    curve = point[point["rm_params"] == size].sort_values("kl")
    ax.plot(curve["kl"], curve["gold"], "o", ms=3, label=f"measured, RM {size:g}")
gold = table[
    (table["method"] == "bon") & (table["target"] == "gold") & (table["rm_data"] == RM_DATA)
].sort_values("kl")
ax.plot(gold["kl"], gold["gold"], "-", label=f"predicted, RM {big:g}")
ax.fill_between(gold["kl"], gold["low"], gold["high"], alpha=0.2, label="95% interval")
ax.set_xlabel("KL (nats)")
ax.set_ylabel("gold score")
ax.legend()
fig.tight_layout()
fig.savefig("prediction_10x.png", dpi=100)
print("wrote prediction_10x.png")
