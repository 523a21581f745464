#!/bin/sh
# the neighbour-term study (docs/model.md, "A neighbour term"): one training at a time, nice 10,
# 1 thread (the machine is shared by several agents), the same number of steps (and so the same CPU per step: 32 patterns a step) with
# and without the term. usage: queue_nbr.sh STEPS "SAMPLES" "SEEDS" "WEIGHTS"
export OMP_WAIT_POLICY=PASSIVE
STEPS=$1; SAMPLES=$2; SEEDS=$3; WEIGHTS=$4
T="nice -n 10 /usr/bin/python3 tools/research/train.py"
POL="--arch polar --size 64 --max-steps $STEPS --lr 2e-3 --recon mse --invdec 1 --mcs 30 --report inv --threads 1"
for seed in $SEEDS; do
  for s in $SAMPLES; do
    for w in $WEIGHTS; do
      $T data/$s $POL --seed $seed --nbr $w --name polar_nbr$w
    done
  done
done
