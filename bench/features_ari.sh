#!/usr/bin/env bash
# The measurement behind lcae features' defaults (docs/features.md): on simulator settings,
# features of every pattern, HDBSCAN (min_cluster_size 60), scored against the class and
# grain truth. Prints one markdown table row per (setting, configuration).
# Usage: [ONLY=REGEX] bench/features_ari.sh LCAE DIR [SETTING...]
#   LCAE     the lcae binary
#   DIR      where the simulated scans are kept (simulated once, reused)
#   SETTING  default s2 s3 lowdose lowdose128 (default: all)
#   ONLY     run only the configurations whose name matches (bash regex)
# Centring: "beam" rows centre on the true beam positions (bench/sim_beam_map.py, the
# simulator's descan formula: --center truth below), "found beam" rows on the beam lcae
# finds in the scan (--center beam, lcae's default), the other rows not at all
# (--center none).
set -euo pipefail
lcae=$(realpath "$1")
dir=$2
shift 2
here=$(dirname "$(realpath "$0")")
settings=${*:-default s2 s3 lowdose lowdose128}
mkdir -p "$dir"

sim_args() {
  case $1 in
  default) echo "" ;;
  s2) echo "--seed 2 --grains 20 --boundary-width 2" ;;
  s3) echo "--seed 3 --grains 8 --boundary-width 6" ;;
  # a low-dose counting detector, emulated: 300 electrons a pattern, near-integer counts
  lowdose) echo "--dose 300 --readout-noise 0 --gain-spread 0 --det 64 --hot-pixels 0 --scan 32x32" ;;
  lowdose128) echo "--dose 300 --readout-noise 0 --gain-spread 0 --det 64 --hot-pixels 0" ;;
  esac
}
# the patterns are prepared to 64 x 64: bin 2 of the 128-pixel detector, bin 1 of 64
bin_of() { [[ $1 == lowdose* ]] && echo 1 || echo 2; }

# name | lcae features options (besides --bin)
configs=(
  "polar|--method polar"
  "polar beam|--method polar --center truth"
  "polar found beam|--method polar --center beam"
  "polar standardized|--method polar --standardize"
  "polar sqrt|--method polar --transform sqrt"
  "polar none|--method polar --transform none"
  "polar dims 6|--method polar --dims 6"
  "polar dims 16|--method polar --dims 16"
  "polar orders 4|--method polar --orders 4"
  "polar orders 10|--method polar --orders 10"
  "polar radii 2:20|--method polar --radii 2:20"
  "polar radii 6:30|--method polar --radii 6:30"
  "polar radii 4:30|--method polar --radii 4:30"
  "polar radii 8:30|--method polar --radii 8:30"
  "polar radii 4:30 beam|--method polar --radii 4:30 --center truth"
  "polar radii 6:30 beam|--method polar --radii 6:30 --center truth"
  "polar sqrt radii 6:30|--method polar --radii 6:30 --transform sqrt"
  "pca|--method pca"
  "pca beam|--method pca --center truth"
  "pca found beam|--method pca --center beam"
  "pca sqrt|--method pca --transform sqrt"
  "pca none|--method pca --transform none"
  "pca dims 8|--method pca --dims 8"
  "pca dims 32|--method pca --dims 32"
)

field() { /usr/bin/python3 -c "import json,sys; print(round(json.load(open(sys.argv[1]))[sys.argv[2]], 3))" "$@"; }

echo "| setting | features | clusters | noise | class ARI | grain ARI | boundary recovery | features s |"
echo "|---|---|---|---|---|---|---|---|"
for s in $settings; do
  d=$dir/$s
  if [ ! -s "$d/truth_class.npy" ]; then
    # shellcheck disable=SC2046
    "$lcae" simulate -o "$d" $(sim_args "$s") -q
  fi
  [ -s "$d/beam_truth.npy" ] || /usr/bin/python3 "$here/sim_beam_map.py" "$d"
  scan=$(ls "$d"/scan_x*_y*.raw)
  for c in "${configs[@]}"; do
    name=${c%%|*}
    opts=${c#*|}
    [[ $name =~ ${ONLY:-.} ]] || continue
    tag=$(echo "$name" | tr ' :' '__')
    f=$d/features_$tag.npy
    beam=()
    case $opts in
    *"--center truth"*) opts=${opts/--center truth/--center beam}
      beam=(--beam-map "$d/beam_truth.npy") ;;
    *"--center beam"*) ;;
    *) opts="$opts --center none" ;;
    esac
    t0=$(date +%s.%N)
    # shellcheck disable=SC2086
    "$lcae" features "$scan" $opts "${beam[@]}" --bin "$(bin_of "$s")" -o "$f" -q
    t1=$(date +%s.%N)
    "$lcae" cluster "$f" -o "$d/labels_$tag.npy" --min-cluster-size 60 -q
    "$lcae" score "$d/labels_$tag.npy" "$d/truth_class.npy" --json -q >"$d/score_class_$tag.json"
    "$lcae" score "$d/labels_$tag.npy" "$d/truth_grain.npy" --json -q >"$d/score_grain_$tag.json"
    sc=$d/score_class_$tag.json
    printf "| %s | %s | %s | %.1f %% | %s | %s | %s | %.1f |\n" "$s" "$name" \
      "$(field "$sc" clusters)" "$(echo "$(field "$sc" noise_fraction) * 100" | bc -l)" \
      "$(field "$sc" ari)" "$(field "$d/score_grain_$tag.json" ari)" \
      "$(field "$sc" boundary_recovery)" "$(echo "$t1 - $t0" | bc -l)"
  done
done
