#!/usr/bin/env bash
# Clustering lcae's own latent vectors of a 1024 x 1024 scan: the 1,048,576 points of
# bench_cluster_big.sh, but the latents lcae's models give on a simulated scan instead of
# 16-D Gaussian blobs. Simulates the scan (lowdose preset: a counting detector, 300
# electrons a pattern, 64 x 64 pixels, uint16, 8 GiB), runs the whole `lcae run` on it
# (the CPU preset; the stages' seconds from run.json), then times `lcae cluster` alone on
# each model's latent as the run clusters it: the standard model on its 16 features, the
# rotation-invariant model on its first 10 (smoothed when the run smoothed them), with
# the run's min_cluster_size (scaled with the points: 240) and --assign-noise, and once
# more with --min-cluster-size 60 (bench_cluster_big.sh's setting). Per clustering: wall
# and CPU seconds, core distances, spanning tree, noise assignment, peak memory, and the
# issue's bar (under 60 s, without the noise assignment's stage).
# Usage: bash bench/bench_cluster_scan.sh BUILD_DIR [WORK_DIR]
#   WORK_DIR (default /tmp/lcae-bench-scan) keeps the scan and the run: a second call
#   reuses them and only times the clusterings. env: GRAINS (200), SEED (7), SCAN (1024).
set -uo pipefail
build=${1:-build}
work=${2:-/tmp/lcae-bench-scan}
grains=${GRAINS:-200}
seed=${SEED:-7}
side=${SCAN:-1024}
lcae=$(cd "$build" && pwd)/lcae
mkdir -p "$work"
cd "$work" || exit 2
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
if grep -qw avx512f /proc/cpuinfo; then isa=AVX-512; elif grep -qw avx2 /proc/cpuinfo; then isa=AVX2; else isa=baseline; fi
echo "CPU: $cpu, $(nproc) cores, ${OMP_NUM_THREADS:-$(nproc)} threads; vector kernels: ${LCAE_SIMD:-widest} (CPU has $isa)"
if [ ! -s sim/truth.json ]; then
  "$lcae" simulate -o sim --preset lowdose --scan "${side}x${side}" --grains "$grains" --seed "$seed" -q || exit 2
fi
if [ ! -s run/invariant/latent.npy ]; then
  /usr/bin/time -f 'lcae run: %e s wall, %U s user, %M KiB peak' "$lcae" run sim/scan.npy -o run --truth sim -q || exit 2
fi
echo "lcae run's stages (run/run.json), seconds:"
/usr/bin/python3 - <<'EOF'
import json
for k, v in json.load(open("run/run.json"))["stages"].items():
    print(f"  {k:24s} {v['seconds']:8.1f}")
EOF
# The rotation-invariant model's first 10 features, smoothed as the run smoothed them
# (its cluster.json says whether), as float32 rows in scan order.
/usr/bin/python3 - <<'EOF' || exit 2
import numpy as np
lat = np.load("run/invariant/latent.npy")[:, :10]
np.save("inv10.npy", np.ascontiguousarray(lat, dtype=np.float32))
EOF
smooth=$(/usr/bin/python3 -c 'import json; print("on" if json.load(open("run/invariant/cluster.json")).get("smoothed") else "off")')
printf "%-26s %6s %8s %8s %10s %9s %9s %9s %9s %s\n" latent mcs "wall s" "CPU s" "core d. s" "span. s" \
  "assign s" "peak MiB" clusters "bar 60 s"
status=0
run_one() { # name file mcs-flag...
  local name=$1 file=$2 mcs=$3
  shift 3
  local flags=(--assign-noise --scan "${side}x${side}" "$@")
  [ "$mcs" = scaled ] || flags+=(--min-cluster-size "$mcs")
  local log
  log=$(OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(nproc)} /usr/bin/time -f 'TIME %e %U %S %M' \
    "$lcae" cluster "$file" -o "labels_${name}_$mcs.npy" "${flags[@]}" 2>&1 >/dev/null) ||
    { echo "$log" >&2; status=1; return; }
  local wall user sys kib core span assign clusters
  read -r wall user sys kib <<<"$(sed -n 's/^TIME //p' <<<"$log")"
  core=$(sed -n 's/.*core distances: [0-9]* points in \([0-9.]*\) s.*/\1/p' <<<"$log")
  span=$(sed -n 's/.*spanning tree: [0-9]* edges in \([0-9.]*\) s.*/\1/p' <<<"$log")
  assign=$(sed -n 's/.*noise assignment: [0-9]* points in \([0-9.]*\) s.*/\1/p' <<<"$log")
  clusters=$(sed -n 's/.* \([0-9]*\) clusters, \([0-9]*\) noise.*/\1/p' <<<"$log")
  local verdict
  verdict=$(awk -v w="$wall" -v a="${assign:-0}" 'BEGIN { print (w - a < 60 ? "ok" : "MISS") }')
  [ "$verdict" = ok ] || status=1
  printf "%-26s %6s %8.1f %8.1f %10s %9s %9s %9.0f %9s %s\n" "$name" "$mcs" "$wall" \
    "$(awk -v u="$user" -v s="$sys" 'BEGIN{print u+s}')" "$core" "$span" "${assign:--}" \
    "$(awk -v k="$kib" 'BEGIN{print k/1024}')" "$clusters" "$verdict"
}
for mcs in scaled 60; do
  run_one standard run/standard/latent.npy "$mcs"
  run_one invariant-10 inv10.npy "$mcs" --smooth "$smooth"
done
exit $status
