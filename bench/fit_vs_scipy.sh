#!/usr/bin/env bash
# `goodhart fit` against the scipy references (issue 16), on the same files, in the same run:
#   - 10,000 curves x 100 points (5,000 RM sizes x 2 methods, 4 baseline points; 1,040,000 rows),
#     Parquet and CSV: the whole goodhart process against bench/fit_scipy.py in one process
#     (pandas/pyarrow read, groupby, a curve_fit loop; and np.linalg.lstsq per curve), both timed
#     after Python's imports, read included;
#   - 10,000 and 1,000,000 curves x 10 points (Parquet): time and peak RSS of goodhart, and the
#     streamed outputs (fits JSON and CSV) compared byte for byte with the in-memory path's.
# Each timing is the minimum of RUNS runs, taken round robin; the load (uptime) is printed before
# and after; peak RSS comes from /usr/bin/time -v. The last table gives the ratios and PASS/FAIL
# against the acceptance numbers of issue 16; the script exits 1 when a check fails.
#
#   bash bench/fit_vs_scipy.sh [RUNS] [BIG_RUNS]     (defaults 3 and 1; BIG_RUNS 0 skips the 10^6
#                                                    curves: a quick run of a minute or two)
#   needs: pip install numpy scipy pandas pyarrow; GNU time (/usr/bin/time)
#   BIG_CHECK=0 skips the in-memory run on 10^6 curves (it needs about 8 GB of memory).
#   GOODHART_BIN=/path/to/goodhart times another binary (no build).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
big_runs=${2:-1}
out=bench/out
mkdir -p "$out"
if [ -n "${GOODHART_BIN:-}" ]; then
  bin=$GOODHART_BIN
else
  cargo build --release --quiet
  bin=target/release/goodhart
fi
# the 10^6-curve outputs are about 2.3 GB: removed when the script ends
trap 'rm -f "$out/big.json" "$out/big.csv" "$out/big_mem.json" "$out/big_mem.csv" "$out/big_mem.txt"' EXIT
sizes=$(python3 -c "print(','.join('%.17g' % (1e6 * 10 ** (4 * i / 4999)) for i in range(5000)))")
for ext in parquet csv; do
  [ -s "$out/curves.$ext" ] || "$bin" generate law --out "$out/curves.$ext" --rm-params "$sizes" \
    --points 100 --baseline-points 4 --seed 1 --quiet
done
[ -s "$out/curves_1e4x10.parquet" ] || python3 bench/fit_scipy.py gen "$out/curves_1e4x10.parquet" 10000 10 1
[ "$big_runs" = 0 ] || [ -s "$out/curves_1e6x10.parquet" ] || python3 bench/fit_scipy.py gen "$out/curves_1e6x10.parquet" 1000000 10 1
python3 - "$bin" "$out" "$runs" "$big_runs" "${BIG_CHECK:-1}" <<'PY'
import filecmp, json, os, re, subprocess, sys, time
bin, out, runs, big_runs, big_check = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "1"

def uptime():
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()

def timed(cmd):
    """Wall seconds and peak RSS (KiB) of a whole process, and its stdout."""
    t = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stderr}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1))
    return wall, rss, p.stdout

def goodhart(data, json_out, csv_out=None, extra=()):
    cmd = [bin, "fit", data, "--out", json_out, "--quiet", *extra]
    if csv_out:
        cmd += ["--csv", csv_out]
    wall, rss, _ = timed(cmd)
    return wall, rss

def reference(kind, data, json_out):
    _, rss, stdout = timed([sys.executable, "bench/fit_scipy.py", kind, data, json_out])
    return float(re.search(r"seconds=([0-9.]+)", stdout).group(1)), rss

print("load before:", uptime())
jobs = {}
for ext in ["parquet", "csv"]:
    data = f"{out}/curves.{ext}"
    jobs[("goodhart", ext)] = lambda data=data: goodhart(data, f"{out}/goodhart.json")
    jobs[("curve_fit", ext)] = lambda data=data: reference("curve_fit", data, f"{out}/curve_fit.json")
    jobs[("lstsq", ext)] = lambda data=data: reference("lstsq", data, f"{out}/lstsq.json")
jobs[("goodhart", "1e4x10")] = lambda: goodhart(f"{out}/curves_1e4x10.parquet", f"{out}/small.json", f"{out}/small.csv")
best = {}
for r in range(runs):  # round robin: every job once per round
    for key, job in jobs.items():
        t, rss = job()
        old = best.get(key)
        best[key] = (min(t, old[0]) if old else t, max(rss, old[1]) if old else rss)
big = None
for r in range(big_runs):
    t, rss = goodhart(f"{out}/curves_1e6x10.parquet", f"{out}/big.json", f"{out}/big.csv")
    big = (min(t, big[0]) if big else t, max(rss, big[1]) if big else rss)
print("load after: ", uptime())

# Same coefficients as the references (the last runs' outputs, on the CSV file).
ours = json.load(open(f"{out}/goodhart.json"))["fits"]
for kind in ["curve_fit", "lstsq"]:
    ref = json.load(open(f"{out}/{kind}.json"))["fits"]
    assert len(ours) == len(ref) == 10000
    worst = 0.0
    for a, b in zip(ours, ref):
        assert (a["method"], a["rm_params"]) == (b["method"], b["rm_params"])
        for k in ["alpha", "beta"]:
            worst = max(worst, abs(a["params"][k]["value"] - b[k]) / abs(b[k]))
    print(f"{kind}: largest relative difference of alpha/beta from goodhart: {worst:.1e}")

# The streamed outputs against the in-memory path (--report makes goodhart keep every fit).
def same_as_in_memory(data, json_out, csv_out, tag):
    goodhart(data, f"{out}/{tag}_mem.json", f"{out}/{tag}_mem.csv", ["--report", f"{out}/{tag}_mem.txt"])
    same = filecmp.cmp(json_out, f"{out}/{tag}_mem.json", shallow=False) and filecmp.cmp(
        csv_out, f"{out}/{tag}_mem.csv", shallow=False)
    for suffix in ["json", "csv", "txt"]:
        os.remove(f"{out}/{tag}_mem.{suffix}")
    return same
same_small = same_as_in_memory(f"{out}/curves_1e4x10.parquet", f"{out}/small.json", f"{out}/small.csv", "small")
same_big = same_as_in_memory(f"{out}/curves_1e6x10.parquet", f"{out}/big.json", f"{out}/big.csv", "big") if big_check and big else None

ms = lambda s: f"{s * 1000:,.0f} ms"
mib = lambda k: f"{k / 1024:,.0f} MiB"
rows = []
def row(job, ours, ref, need):
    ratio = ref / ours
    verdict = "" if need is None else ("PASS" if ratio >= need else "FAIL")
    rows.append((job, ms(ours), ms(ref), f"{ratio:.1f}x", f">= {need}x" if need else "", verdict))
for ext, need in [("parquet", 20), ("csv", 12)]:
    g = best[("goodhart", ext)][0]
    row(f"10^4 x 100 {ext}: goodhart vs scipy curve_fit loop", g, best[("curve_fit", ext)][0], need)
    row(f"10^4 x 100 {ext}: goodhart vs numpy lstsq loop", g, best[("lstsq", ext)][0], None)
small_t, small_rss = best[("goodhart", "1e4x10")]
print()
print(f"| job | goodhart | reference | ratio | needed | |")
print(f"|---|---:|---:|---:|---|---|")
for r in rows:
    print("| " + " | ".join(r) + " |")
budget = 1.3 * 100 * small_t
rss_ok = big is not None and big[1] * 1024 <= 1.5e9
print(f"| 10^4 x 10 parquet: goodhart | {ms(small_t)}, {mib(small_rss)} | | | | |")
if big is not None:
    print(f"| 10^6 x 10 parquet: goodhart time | {ms(big[0])} | 100 x 10^4 time: {ms(100 * small_t)} | "
          f"{big[0] / (100 * small_t):.2f}x | <= 1.3x | {'PASS' if big[0] <= budget else 'FAIL'} |")
    print(f"| 10^6 x 10 parquet: goodhart peak RSS | {mib(big[1])} | | | <= 1.5 GB | {'PASS' if rss_ok else 'FAIL'} |")
else:
    print("| 10^6 x 10 parquet | not run (BIG_RUNS = 0) | | | | |")
print(f"| streamed = in-memory outputs, 10^4 x 10 | {'identical' if same_small else 'DIFFERENT'} | | | identical | {'PASS' if same_small else 'FAIL'} |")
if same_big is not None:
    print(f"| streamed = in-memory outputs, 10^6 x 10 | {'identical' if same_big else 'DIFFERENT'} | | | identical | {'PASS' if same_big else 'FAIL'} |")
failed = any(r[-1] == "FAIL" for r in rows) or not same_small or same_big is False or (
    big is not None and not (big[0] <= budget and rss_ok))
print(f"\n(min of {runs} runs round robin; 10^6 x 10: min of {big_runs}; peak RSS of the 10^4 x 100 goodhart runs: "
      f"Parquet {mib(best[('goodhart', 'parquet')][1])}, CSV {mib(best[('goodhart', 'csv')][1])}; "
      f"scipy loop {mib(best[('curve_fit', 'parquet')][1])})")
sys.exit(1 if failed else 0)
PY
