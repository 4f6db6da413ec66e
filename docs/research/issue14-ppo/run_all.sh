#!/bin/bash
# sequential, single-threaded. venv with numpy+scipy at $PY (default /tmp/ppo/venv/bin/python)
cd "$(dirname "$0")"; export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
PY=${PY:-/tmp/ppo/venv/bin/python}; mkdir -p out
run() { [ -f out/$1.npz ] || $PY ppo.py "${@:2}" | grep -v '^proxy'; }
for s in 0 1 2 3; do
  run s${s}_V1024_g1_bon $s 1 bon
  run s${s}_V1024_g1_feat $s 1 feat                              # REINFORCE + Adam 0.01 (token world)
  run s${s}_V1024_g1_ppo $s 1 ppo lr=0.01                        # PPO-clip, per-token ratio, E=4 full batch
  run s${s}_V1024_g1_ppos $s 1 ppos lr=0.01                      # PPO-clip, sequence ratio
  run s${s}_V1024_g1_ppos_lr0.03 $s 1 ppos lr=0.03 sfx=_lr0.03   # sequence ratio, clip binding more often
  run s${s}_V1024_g1_ppokl $s 1 ppokl lr=0.03 kt=0.01            # per-token PPO + early stop at exact step KL 0.01
  run s${s}_V1024_g1_npg $s 1 npg kt=0.001                       # natural PG, constant step KL 0.001 (TRPO-like)
done
# references (no optimiser): exact tilt pi0 exp(lam r) and the in-class KL-regularised optimum, 600 values of lam
for s in 0 1 2 3; do run s${s}_V1024_g1_tilt $s 1 tilt; run s${s}_V1024_g1_ftilt $s 1 ftilt; done
# follow-ups: minibatches (4 epochs x 4 minibatches of 8 = 16 Adam updates per batch, the usual LM PPO layout), and a
# 5x smaller lr so that the near-peak region is crossed after many more PPO steps (away from Adam's first ~50 updates)
for s in 0 1 2 3; do
  run s${s}_V1024_g1_ppo_mb8 $s 1 ppo lr=0.01 mb=8 sfx=_mb8
  run s${s}_V1024_g1_ppo_lr0.002 $s 1 ppo lr=0.002 sfx=_lr0.002
done
