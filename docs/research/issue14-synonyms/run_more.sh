#!/bin/bash
# follow-ups, in priority order: seeds 2,3 at g=1,8,mix (more peaking curves); za=0.5 at g=32 (seed 0);
# tabular-Adam contrast (tadm) at g=1,8 seeds 0,1; za=0.5 seed 1
cd "$(dirname "$0")"; export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
run() { [ -f out/$1.npz ] || venv/bin/python syn.py "${@:2}" | grep -v '^proxy'; }
LR() { [ $1 = feat -o $1 = tadm ] && echo 0.01 || echo 10; }
for s in 2 3; do venv/bin/python syn.py $s 1 bon | grep -v '^proxy'; for g in 1 8 mix; do for p in tabx tabs feat; do
  run s${s}_V1024_g${g}_${p} $s $g $p lr=$(LR $p); done; done; done
for p in tabx feat tabs; do run s0_V1024_g32_${p}_za0.5 0 32 $p lr=$(LR $p) za=0.5; done
for s in 0 1; do for g in 1 8; do run s${s}_V1024_g${g}_tadm $s $g tadm lr=0.01; done; done
for p in tabx feat tabs; do run s1_V1024_g32_${p}_za0.5 1 32 $p lr=$(LR $p) za=0.5; done
