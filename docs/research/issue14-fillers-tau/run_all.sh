#!/bin/bash
# Fillers with a spread of base temperatures (issue #14, 2026-12-02). Sequential, single-threaded, ~15 min of CPU.
# Needs ../issue14-ppo/ppo.py and analyze.py, the feat and bon runs of ../issue14-ppo (out/s{0..3}_V1024_g1_{feat,bon}.npz),
# and a venv with numpy and scipy at $PY.
cd "$(dirname "$0")"; export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
PY=${PY:-/tmp/ppo/venv/bin/python}; mkdir -p out
[ -f fil.py ] || patch -s -o fil.py ../issue14-ppo/ppo.py < fil.patch
[ -f analyze.py ] || patch -s -o analyze.py ../issue14-ppo/analyze.py < analyze.patch
run() { set_=$1; shift; for s in 0 1 2 3; do [ -f out/s${s}_V1024_g1_fil_$set_.npz ] || $PY fil.py $s 1 fil "$@" sfx=_$set_ | grep -v '^proxy'; done; }
# Adam lr 0.01 (the token world's optimiser)
run A taus=0.2,0.35,0.5,0.7,1
run B taus=0.2,0.3 npt=2
run C taus=0.1,0.2,0.3,0.5
run D taus=0.5 npt=2
# plain SGD lr 0.005 (no Adam drift along the policy's random feature columns)
run S0 opt=sgd lr=0.005
run SC opt=sgd lr=0.005 taus=0.1,0.2,0.3,0.5
run SD opt=sgd lr=0.005 taus=0.5 npt=2
run SE opt=sgd lr=0.005 taus=0.3,0.4,0.5,0.6
run SF opt=sgd lr=0.005 taus=0.3,0.4,0.5,0.6 npt=2
run SG opt=sgd lr=0.005 taus=0.3,0.4,0.5,0.6 npt=4
GRID=dense $PY analyze.py out/s*_g1_feat.npz out/s*_fil_*.npz | grep -v '^best\|^out/' > analysis_dense.txt
GRID=dense DETAIL=peak $PY analyze.py out/s*_fil_S[EFG].npz | sed -n '/^per curve/,/^best-of-n/p' | grep -v ^best > detail_dense.txt
$PY share.py A B C D SC SD SE SF SG > share.txt
$PY tilt_share.py > tilt_share.txt
$PY early.py feat fil_A fil_B fil_C fil_D fil_S0 fil_SC fil_SD fil_SE fil_SF fil_SG > early.txt
