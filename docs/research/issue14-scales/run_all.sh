#!/bin/bash
# Per-position policy scales (issue #14, 2026-12-02). Needs ../issue14-ppo's venv (numpy, scipy) at $PY
# and its out/s*_V1024_g1_{bon,feat,tilt}.npz (run ../issue14-ppo/run_all.sh first, or let this run them).
cd "$(dirname "$0")"; export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
PY=${PY:-/tmp/ppo/venv/bin/python}; mkdir -p out
[ -f scales.py ] || patch -o scales.py ../issue14-ppo/ppo.py scales.patch
cp ../issue14-ppo/analyze.py .
run() { [ -f out/$1.npz ] || $PY scales.py "${@:2}" | grep -v '^proxy'; }
for s in 0 1 2 3; do
  run s${s}_V1024_g1_bon $s 1 bon
  run s${s}_V1024_g1_tilt $s 1 tilt
  run s${s}_V1024_g1_feat $s 1 feat                       # cs = 1: the token world's policy (REINFORCE + Adam 0.01)
  for c in 4 16 64 256; do run s${s}_V1024_g1_feat_cs$c $s 1 feat cs=$c sfx=_cs$c; done
done
GRID=dense $PY analyze.py out/s?_V1024_g1_feat*.npz out/s?_V1024_g1_tilt.npz > analysis_dense.txt
GRID=rm $PY analyze.py out/s?_V1024_g1_feat*.npz > analysis_rm.txt
DETAIL=peak GRID=dense $PY analyze.py out/s?_V1024_g1_feat*.npz | sed -n '/per curve/,/best-of/p' > detail_dense.txt
