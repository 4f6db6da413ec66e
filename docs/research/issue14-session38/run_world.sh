#!/bin/bash
# usage: ENVVARS... run_world.sh NAME SEED [extra goodhart args]; runs one world (diagnostics on),
# best-of-n curves, the criteria and the peak-relative cut check (baseline runs/s$SEED).
# Run from a clone with study.patch applied and built (`git apply docs/research/issue14-session38/study.patch`);
# PY is a python with numpy, pandas and scipy.
set -e
PY=${PY:-python3}
HERE=$(dirname "$(readlink -f "$0")")
NAME=$1; SEED=$2; shift 2
D=runs/$NAME
GOODHART_DIAG=1 ./target/release/goodhart generate tokens --preset small --seed $SEED --out $D -q "$@" 2> $D.diag.raw
./target/release/goodhart bon $D/bon_samples.parquet --out $D/bon_curves.csv -q
$PY $HERE/diag_table.py $D.diag.raw $D/diag.csv > /dev/null
$PY bench/token_world_criteria.py $D > $D/criteria.txt 2>&1
$PY docs/research/issue14-filler/cutcheck.py runs/s$SEED $D > $D/cutcheck.txt 2>&1
