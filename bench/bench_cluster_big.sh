#!/usr/bin/env bash
# `lcae cluster --min-cluster-size 60` on the hdbscan fixtures' blob generator scaled up to
# the points of a 512 x 512 and a 1024 x 1024 scan: blobs(N, 16, 30, 6) of
# ../shared/fixtures/hdbscan/make_fixtures.py (bench/cluster_blobs.py; N = 262,144 is the
# fixtures' blobs_262k_d16). Per set: wall and CPU seconds, the stages lcae reports (core
# distances, spanning tree, the rest: reading, k-d tree, condensed tree, writing), peak
# resident memory, and the issue's bar (under 60 s). No peer: the hdbscan library needs
# minutes at 65,536 points (bench/bench_cluster.sh has the sizes it can do).
# Usage: bash bench/bench_cluster_big.sh BUILD_DIR [N...]   (default N: 262144 1048576)
# env: LCAE_SIMD=avx2|base caps lcae's vector kernels; OMP_NUM_THREADS (default: all cores);
# ASSIGN_NOISE=1 adds --assign-noise and its stage ("assign s"; the bar is then not checked).
set -uo pipefail
build=${1:-build}
shift
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(262144 1048576)
here=$(cd "$(dirname "$0")/.." && pwd)
dir=/tmp/lcae-bench-cluster
mkdir -p "$dir"
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
if grep -qw avx512f /proc/cpuinfo; then isa=AVX-512; elif grep -qw avx2 /proc/cpuinfo; then isa=AVX2; else isa=baseline; fi
echo "CPU: $cpu, $(nproc) cores, ${OMP_NUM_THREADS:-$(nproc)} threads; vector kernels: ${LCAE_SIMD:-widest} (CPU has $isa)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
flags=(--min-cluster-size 60)
[ "${ASSIGN_NOISE:-0}" = 1 ] && flags+=(--assign-noise)
printf "%-9s %8s %8s %10s %10s %9s %8s %9s %9s %7s %s\n" points "wall s" "CPU s" "core d. s" "span. s" \
  "assign s" "rest s" "peak MiB" clusters noise "bar 60 s"
status=0
for n in "${sizes[@]}"; do
  f=$dir/blobs_${n}_d16_s6.npy
  [ -s "$f" ] || /usr/bin/python3 "$here/bench/cluster_blobs.py" "$f" "$n" 16 30 6 || exit 2
  log=$(/usr/bin/time -f 'TIME %e %U %S %M' "$build/lcae" cluster "$f" -o "$dir/labels_$n.npy" \
    "${flags[@]}" 2>&1 >/dev/null) || { echo "$log" >&2; status=1; continue; }
  read -r wall user sys kib <<<"$(sed -n 's/^TIME //p' <<<"$log")"
  core=$(sed -n 's/.*core distances: [0-9]* points in \([0-9.]*\) s.*/\1/p' <<<"$log")
  span=$(sed -n 's/.*spanning tree: [0-9]* edges in \([0-9.]*\) s.*/\1/p' <<<"$log")
  assign=$(sed -n 's/.*noise assignment: [0-9]* points in \([0-9.]*\) s.*/\1/p' <<<"$log")
  clusters=$(sed -n 's/.* \([0-9]*\) clusters, \([0-9]*\) noise.*/\1/p' <<<"$log")
  noise=$(sed -n 's/.* \([0-9]*\) clusters, \([0-9]*\) noise.*/\2/p' <<<"$log")
  verdict=$(awk -v w="$wall" 'BEGIN { print (w < 60 ? "ok" : "MISS") }')
  if [ -n "$assign" ]; then verdict=-; else [ "$verdict" = ok ] || status=1; fi
  printf "%-9s %8.1f %8.1f %10s %10s %9s %8.1f %9.0f %9s %7s %s\n" "$n" "$wall" "$(awk -v u="$user" -v s="$sys" 'BEGIN{print u+s}')" \
    "$core" "$span" "${assign:--}" "$(awk -v w="$wall" -v c="$core" -v s="$span" -v a="${assign:-0}" 'BEGIN{print w-c-s-a}')" \
    "$(awk -v k="$kib" 'BEGIN{print k/1024}')" "$clusters" "$noise" "$verdict"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $status
