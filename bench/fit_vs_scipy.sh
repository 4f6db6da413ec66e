#!/usr/bin/env bash
# Whole-process comparison: `goodhart fit` against a scipy curve_fit loop on the same file of
# 10,000 curves x 100 points. Prints the median of N runs of each and their ratio, and checks that
# both find the same coefficients.
#
#   bash bench/fit_vs_scipy.sh [RUNS]        (needs: pip install numpy scipy pandas pyarrow)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
out=bench/out
mkdir -p "$out"
cargo build --release --quiet
bin=target/release/goodhart
sizes=$(python3 -c "print(','.join('%.17g' % (1e6 * 10 ** (4 * i / 4999)) for i in range(5000)))")
for ext in parquet csv; do
  "$bin" generate law --out "$out/curves.$ext" --rm-params "$sizes" --points 100 \
    --baseline-points 4 --seed 1 --quiet
done
python3 - "$bin" "$out" "$runs" <<'PY'
import json, statistics, subprocess, sys, time
bin, out, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])

def median_time(cmd):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, check=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times), times

for ext in ["parquet", "csv"]:
    data = f"{out}/curves.{ext}"
    g, gt = median_time([bin, "fit", data, "--out", f"{out}/goodhart.json", "--quiet"])
    s, st = median_time([sys.executable, "bench/fit_scipy.py", data, f"{out}/scipy.json"])
    ours = json.load(open(f"{out}/goodhart.json"))["fits"]
    ref = json.load(open(f"{out}/scipy.json"))["fits"]
    assert len(ours) == len(ref) == 10000
    worst = 0.0
    for a, b in zip(ours, ref):
        assert (a["method"], a["rm_params"]) == (b["method"], b["rm_params"])
        for k in ["alpha", "beta"]:
            worst = max(worst, abs(a["params"][k]["value"] - b[k]) / abs(b[k]))
    print(f"{ext}: goodhart fit median {g*1000:.0f} ms, scipy curve_fit loop median {s*1000:.0f} ms, "
          f"ratio {s/g:.0f}x ({runs} runs each; max relative difference of alpha/beta {worst:.1e})")
PY
