#!/usr/bin/env bash
# The measurements behind lcae's default min_cluster_size (docs/clustering.md):
#   bash bench/cluster_sizes.sh build/lcae DIR [grid|rules] [SET...]
# simulates the scans into DIR/SET (once), computes the training-free features (polar and
# pca, once), then
#   grid:  HDBSCAN at every min_cluster_size of $MCS (default below), one row per cell:
#          set, feature, min_cluster_size, clusters, noise share, class ARI, grain ARI;
#   rules: the three rules' sizes for the set's n (fixed 60; proportional 60 n / 65536;
#          sqrt 60 sqrt(n / 65536); both rounded, at least 5) with --assign-noise, one
#          row per cell: set, n, feature, rule, size, clusters, noise share, class ARI,
#          grain ARI, and the same two ARIs for the full map.
# ARI counts noise as a label of its own (lcae score's first figure). Sets: s32, s32b
# (seed 2), low32, s64, s64b (seed 2), s128 (the built-in sample), low (the low-dose
# preset, 128 x 128), s256 (4.4 GB); boundaries scaled with the scan (4 at 128).
set -eu
lcae=$1
dir=$2
mode=${3:-rules}
shift $(($# < 3 ? $# : 3))
sets=${*:-s32 s32b low32 s64 s64b s128 low}
MCS=${MCS:-"5 8 10 12 15 20 25 30 40 60 90 120"}
mkdir -p "$dir"

simulate_opts() {
  case $1 in
  s32) echo --scan 32x32 --boundary-width 1 ;;
  s32b) echo --scan 32x32 --boundary-width 1 --seed 2 ;;
  low32) echo --preset lowdose --scan 32x32 --boundary-width 1 ;;
  s64) echo --scan 64x64 --boundary-width 2 ;;
  s64b) echo --scan 64x64 --boundary-width 2 --seed 2 ;;
  s128) echo ;;
  low) echo --preset lowdose ;;
  s256) echo --scan 256x256 --boundary-width 8 ;;
  *) echo "cluster_sizes.sh: unknown set '$1'" >&2; exit 2 ;;
  esac
}

# prepare SET: the scan and both feature sets (the low-dose detector is 64: bin 1)
prepare() {
  local s=$dir/$1 bin=2 scan
  [ -f "$s/truth_class.npy" ] || "$lcae" simulate -q -o "$s" $(simulate_opts "$1")
  case $1 in low*) bin=1 ;; esac
  scan=$(ls "$s"/scan_*.raw "$s"/scan.npy 2>/dev/null | head -1)
  for m in polar pca; do
    [ -f "$s/$m.npy" ] || "$lcae" features "$scan" --method "$m" --bin $bin -q -o "$s/$m.npy"
  done
}

# score LABELS TRUTH: "clusters noise_fraction ari"
score() {
  "$lcae" score "$1" "$2" --json | python3 -c 'import json, sys
j = json.load(sys.stdin)
print("%d %.4f %.4f" % (j["clusters"], j["noise_fraction"], j["ari"]))'
}

positions() { python3 -c "print((len(open('$1', 'rb').read()) - 128) // 4)"; }

rule_size() { # rule_size RULE N
  python3 -c "import math
v = {'fixed': 60, 'prop': 60 * $2 / 65536, 'sqrt': 60 * math.sqrt($2 / 65536)}['$1']
print(max(5, int(math.floor(v + 0.5))))"
}

for set in $sets; do
  prepare "$set"
  s=$dir/$set
  n=$(positions "$s/truth_class.npy")
  for m in polar pca; do
    if [ "$mode" = grid ]; then
      for k in $MCS; do
        "$lcae" cluster "$s/$m.npy" -o "$s/G_${m}_$k.npy" --min-cluster-size "$k" -q || continue
        read -r c nf ca <<<"$(score "$s/G_${m}_$k.npy" "$s/truth_class.npy")"
        read -r _ _ ga <<<"$(score "$s/G_${m}_$k.npy" "$s/truth_grain.npy")"
        printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\n" "$set" "$m" "$k" "$c" "$nf" "$ca" "$ga"
      done
      continue
    fi
    for rule in fixed prop sqrt; do
      k=$(rule_size $rule "$n")
      "$lcae" cluster "$s/$m.npy" -o "$s/R_${m}_$k.npy" --min-cluster-size "$k" \
        --assign-noise -q
      read -r c nf ca <<<"$(score "$s/R_${m}_$k.npy" "$s/truth_class.npy")"
      read -r _ _ ga <<<"$(score "$s/R_${m}_$k.npy" "$s/truth_grain.npy")"
      read -r _ _ fca <<<"$(score "$s/R_${m}_${k}_full.npy" "$s/truth_class.npy")"
      read -r _ _ fga <<<"$(score "$s/R_${m}_${k}_full.npy" "$s/truth_grain.npy")"
      printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n" "$set" "$n" "$m" "$rule" "$k" \
        "$c" "$nf" "$ca" "$ga" "$fca" "$fga"
    done
  done
done
