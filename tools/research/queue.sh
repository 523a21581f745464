#!/bin/sh
# the runs of the research log, one at a time, nice 10
export OMP_WAIT_POLICY=PASSIVE
T="nice -n 10 /usr/bin/python3 tools/research/train.py"
POL="--arch polar --size 64 --max-steps 800 --lr 2e-3 --recon mse --invdec 1"
STD="--arch cae --size 32 --rot none --max-steps 1500 --lr 2e-3 --recon mse"
$T data/s1 --arch polar --size 64 --max-steps 800 --lr 2e-3 --recon mse --invdec 3 --name polar_invdec3
$T data/s1 --arch cae --size 64 --rot none --max-steps 640 --lr 2e-3 --recon mse --name std64_mse
for d in s2 lowdose s3; do
  $T data/$d $POL --name polar_invdec1
  $T data/$d $STD --name std32_mse
done
$T data/s1 $POL --seed 1 --name polar_invdec1
$T data/s1 $STD --seed 1 --name std32_mse
