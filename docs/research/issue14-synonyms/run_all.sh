#!/bin/bash
# full sweep, sequential, single-threaded
cd "$(dirname "$0")"; export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
for s in 0 1; do venv/bin/python syn.py $s 1 bon; done
for s in 0 1; do for g in 1 8 mix 32; do for p in tabx tabs feat; do
  [ -f out/s${s}_V1024_g${g}_${p}.npz ] || venv/bin/python syn.py $s $g $p lr=$([ $p = feat ] && echo 0.01 || echo 10) | grep -v '^proxy'
done; done; done
