#!/bin/bash
# usage: run1.sh NAME SEED [extra args]
cd /tmp/fs
NAME=$1; SEED=$2; shift 2
D=runs/$NAME
s=$(date +%s)
./target/release/goodhart generate tokens --preset small --seed $SEED --out $D -q --policy-widths 8 "$@"
e=$(date +%s)
./target/release/goodhart bon $D/bon_samples.parquet --out $D/bon_curves.csv -q
echo "$NAME wall $((e-s)) s (generate)" > $D.wall
