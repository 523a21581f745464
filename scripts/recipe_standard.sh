#!/usr/bin/env bash
# One point of the CPU-preset recipe measurement (issue 12): trains the standard model
# (no rotation loss) on a run directory's sample as `lcae run`'s cpu preset does (log
# transform, centred on the run's beam map, base 8, batch 32), then encodes, clusters
# (min cluster size 60) and scores it, as the run's standard/ stages do.
#   scripts/recipe_standard.sh RUNDIR OUT [lcae train options, e.g. --bin 4 --steps 1500]
# RUNDIR: a finished `lcae run -o RUNDIR` (its sample/ and stats/beam_position.npy).
# Writes OUT/model.safetensors, model.log.json, latent.npy, labels.npy, score.json and
# OUT/train_seconds (wall time of the training).
set -euo pipefail
lcae=${LCAE:-build/lcae}
run=$1 out=$2
shift 2
mkdir -p "$out"
scan=$(ls "$run"/sample/scan_*.raw)
t0=$(date +%s.%N)
"$lcae" train "$scan" -o "$out/model.safetensors" --no-rot-loss --base 8 --batch 32 \
  --transform log --center beam --beam-map "$run/stats/beam_position.npy" -q "$@"
t1=$(date +%s.%N)
echo "$t1 - $t0" | bc > "$out/train_seconds"
"$lcae" encode "$scan" -m "$out/model.safetensors" -o "$out/latent.npy" \
  --beam-map "$run/stats/beam_position.npy" -q
"$lcae" cluster "$out/latent.npy" -o "$out/labels.npy" --min-cluster-size 60 -q
"$lcae" score "$out/labels.npy" "$run/sample/truth_grain.npy" --json > "$out/score_grain.json"
"$lcae" score "$out/labels.npy" "$run/sample/truth_class.npy" --json > "$out/score_class.json"
