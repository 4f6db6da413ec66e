#!/usr/bin/env bash
# Whole-process benchmark of `goodhart bon` (issue 3) on PROMPTS x SAMPLES scored samples in
# Parquet (default 10,000 x 1,000 = 10^7 rows), against
#   - a vectorised numpy implementation of the same estimator (bench/bon_numpy.py: argsort per
#     prompt, weights by gammaln, one matrix product),
#   - a process that only reads the Parquet file (pyarrow, into numpy arrays),
# with peak RSS from /usr/bin/time -v, and the overhead of `--bootstrap 1000`.
# Each command runs REPEATS times (default 5), round robin; medians are reported. Both implementations'
# curves are checked to agree (1e-9) before timing.
#
# Usage: bench/bon_vs_numpy.sh            (needs python3 with numpy scipy pandas pyarrow:
#                                          pip install numpy scipy pandas pyarrow)
#        PROMPTS=1000 SAMPLES=500 REPEATS=3 bench/bon_vs_numpy.sh   (a quick run)
set -euo pipefail
cd "$(dirname "$0")/.."
PROMPTS=${PROMPTS:-10000}
SAMPLES=${SAMPLES:-1000}
REPEATS=${REPEATS:-5}
WORK=${WORK:-${TMPDIR:-/tmp}/goodhart-bench-bon}
mkdir -p "$WORK"
rm -f "$WORK"/*.times "$WORK"/*.stderr

cargo build --release --quiet
BIN=target/release/goodhart
DATA=$WORK/samples_${PROMPTS}x${SAMPLES}.parquet
if [ ! -f "$DATA" ]; then
    python3 bench/bon_numpy.py make "$DATA" "$PROMPTS" "$SAMPLES" 1
fi
echo "data: $DATA ($(du -h "$DATA" | cut -f1)), $PROMPTS prompts x $SAMPLES samples; $(nproc) cores"

# run_once NAME CMD...: one run; wall seconds and peak RSS (KiB) from /usr/bin/time -v
run_once() {
    local name=$1
    shift
    /usr/bin/time -v -o "$WORK/time.txt" "$@" >/dev/null 2>>"$WORK/$name.stderr"
    awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; w=s}
                /Maximum resident set size/ {m=$2} END {print w, m}' "$WORK/time.txt" >>"$WORK/$name.times"
}

# correctness first: the two implementations agree
"$BIN" bon "$DATA" --rm-params 1e8 --out "$WORK/goodhart.csv" --quiet
python3 bench/bon_numpy.py bon "$DATA" "$WORK/numpy.csv" 2>/dev/null
python3 bench/bon_numpy.py compare "$WORK/goodhart.csv" "$WORK/numpy.csv"

# round robin, so that a change of machine load affects every command alike
for _ in $(seq "$REPEATS"); do
    run_once read_only python3 bench/bon_numpy.py read "$DATA"
    run_once numpy python3 bench/bon_numpy.py bon "$DATA" "$WORK/numpy.csv"
    run_once goodhart "$BIN" bon "$DATA" --rm-params 1e8 --out "$WORK/goodhart.csv"
    run_once goodhart_boot1000 "$BIN" bon "$DATA" --rm-params 1e8 --out "$WORK/goodhart_boot.csv" --bootstrap 1000 --seed 1
done

python3 - "$WORK" <<'PY'
import json, re, statistics, sys
work = sys.argv[1]
def times(name):
    rows = [l.split() for l in open(f"{work}/{name}.times")]
    return statistics.median(float(w) for w, _ in rows), max(int(m) for _, m in rows) / 1024**2
def phase(name, pattern):
    vals = [float(m) for m in re.findall(pattern, open(f"{work}/{name}.stderr").read())]
    return statistics.median(vals) if vals else float("nan")
r, r_rss = times("read_only")
n, n_rss = times("numpy")
g, g_rss = times("goodhart")
b, b_rss = times("goodhart_boot1000")
py_read = phase("read_only", r'"read_s": ([0-9.e-]+)')
np_read = phase("numpy", r'"read_s": ([0-9.e-]+)')
g_read = phase("goodhart", r"read ([0-9.]+) s")
g_est = phase("goodhart", r"estimate ([0-9.]+) s")
b_est = phase("goodhart_boot1000", r"estimate ([0-9.]+) s")
print(f"{'process (median wall s)':34} {'seconds':>8} {'peak RSS GiB':>13}")
for label, t, m in [("read only (python + pyarrow)", r, r_rss), ("numpy estimator", n, n_rss),
                    ("goodhart bon", g, g_rss), ("goodhart bon --bootstrap 1000", b, b_rss)]:
    print(f"{label:34} {t:8.3f} {m:13.3f}")
print(f"in-process phases (median s): pyarrow read {py_read:.3f}; numpy's read {np_read:.3f}; "
      f"goodhart read into pools {g_read:.3f}, estimate {g_est:.3f}, estimate with bootstrap {b_est:.3f}")
print(f"speed-up over numpy (whole process):        {n / g:6.2f}x   (target >= 3)")
print(f"goodhart / read-only process:               {g / r:6.2f}x   (target <= 2.5)")
print(f"goodhart / in-process pyarrow read:         {g / py_read:6.2f}x")
print(f"goodhart / its own read phase:              {g / g_read:6.2f}x")
print(f"peak RSS of goodhart bon:                   {g_rss:6.3f} GiB (target < 1.5)")
print(f"--bootstrap 1000 / without:                 {b / g:6.2f}x   (target <= 3)")
PY
