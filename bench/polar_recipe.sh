#!/usr/bin/env bash
# One training recipe of the rotation-invariant (polar) model, measured as `lcae run`'s CPU
# preset measures it, without the run's other sources: train the polar model with the
# preset's options (then the extra ones, which override them), encode every position,
# cluster its --invariant-dims (10) invariant features as the preset does (scaled
# min_cluster_size, --assign-noise, --smooth auto), score against the class and grain truth.
#
#   bash bench/polar_recipe.sh OUT SAMPLE SEED [extra lcae train options...]
#
# SAMPLE: a folder written by `lcae simulate` (or a run's DIR/sample). env: LCAE (default
# build/lcae), THREADS (default 1: two recipes side by side on the 2-core machine).
# OUT gets model.safetensors (+ its log), latent.npy, labels.npy, labels_full.npy,
# score_{class,grain}{,_full}.json and time.txt (training: wall, user + system CPU seconds).
# The training options are those lcae run's CPU preset gives its rotation-invariant model
# (run.json's "train" with --invariant-bin 2), the clustering its invariant/ stage's.
set -euo pipefail

out=${1:?usage: bash bench/polar_recipe.sh OUT SAMPLE SEED [extra lcae train options...]}
sample=${2:?usage: bash bench/polar_recipe.sh OUT SAMPLE SEED [extra options...]}
seed=${3:?usage: bash bench/polar_recipe.sh OUT SAMPLE SEED [extra options...]}
shift 3
lcae=${LCAE:-build/lcae}
threads=${THREADS:-1}
data=""
for f in "$sample"/scan_x*_y*.raw "$sample"/scan.npy; do
    [[ -f $f ]] && { data=$f; break; }
done
[[ -n $data ]] || { echo "polar_recipe.sh: no scan_x*_y*.raw or scan.npy in $sample" >&2; exit 1; }
scan=$(/usr/bin/python3 -c "import json,sys; s=json.load(open(sys.argv[1]))['scan']; print('%dx%d' % (s[0], s[1]))" "$sample/truth.json")
mkdir -p "$out"

# the CPU preset's rotation-invariant model (src/cli/cmd_run.c: preset_cpu, --invariant-bin 2)
/usr/bin/time -f "%e %U %S" -o "$out/time.raw" nice -n 5 "$lcae" train "$data" \
    -o "$out/model.safetensors" --arch polar --bin 2 --base 8 --steps 1500 --lr 2e-3 \
    --lr-schedule onecycle --recon mse --seed "$seed" --threads "$threads" -q "$@"
awk '{ printf "%.1f %.1f\n", $1, $2 + $3 }' "$out/time.raw" >"$out/time.txt"
nice -n 5 "$lcae" encode "$data" -m "$out/model.safetensors" -o "$out/latent.npy" \
    --threads "$threads" -q
dims=$(/usr/bin/python3 - "$out/model.safetensors" <<'EOF'
import json, struct, sys
with open(sys.argv[1], 'rb') as f:
    n = struct.unpack('<Q', f.read(8))[0]
    print(json.loads(f.read(n))['__metadata__']['lcae.invariant_dims'])
EOF
)
/usr/bin/python3 -c "import numpy as np, sys; z = np.load(sys.argv[1]); np.save(sys.argv[2], np.ascontiguousarray(z[:, :int(sys.argv[3])]))" \
    "$out/latent.npy" "$out/invariant.npy" "$dims"
nice -n 5 "$lcae" cluster "$out/invariant.npy" -o "$out/labels.npy" --assign-noise \
    --smooth auto --scan "$scan" --threads "$threads" -q
for truth in class grain; do
    "$lcae" score "$out/labels.npy" "$sample/truth_$truth.npy" --json -q >"$out/score_$truth.json"
    "$lcae" score "$out/labels_full.npy" "$sample/truth_$truth.npy" --json -q \
        >"$out/score_${truth}_full.json"
done
rm -f "$out/invariant.npy" "$out/time.raw"
/usr/bin/python3 - "$out" <<'EOF'
import json, sys
d = sys.argv[1]
s = {k: json.load(open('%s/score_%s.json' % (d, k))) for k in ('class', 'grain', 'class_full', 'grain_full')}
wall, cpu = open(d + '/time.txt').read().split()
print('%s class %.3f (full %.3f) grain %.3f (full %.3f) clusters %d noise %.3f train cpu %s s'
      % (d, s['class']['ari'], s['class_full']['ari'], s['grain']['ari'], s['grain_full']['ari'],
         s['class']['clusters'], s['class']['noise_fraction'], cpu))
EOF
