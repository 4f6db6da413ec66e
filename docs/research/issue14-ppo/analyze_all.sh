#!/bin/bash
# all text outputs from out/*.npz (single-threaded)
cd "$(dirname "$0")"; export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1; PY=${PY:-/tmp/ppo/venv/bin/python}
$PY analyze.py > analysis_rm.txt; GRID=dense $PY analyze.py > analysis_dense.txt
DETAIL=peak $PY analyze.py | sed -n '/^per curve/,/^best-of-n/p' | grep -v ^best > detail_rm.txt
GRID=dense DETAIL=peak $PY analyze.py | sed -n '/^per curve/,/^best-of-n/p' | grep -v ^best > detail_dense.txt
$PY compare.py > compare.txt; $PY diag.py > diag.txt; $PY paired.py > paired.txt
