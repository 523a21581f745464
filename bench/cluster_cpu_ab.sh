#!/usr/bin/env bash
# CPU seconds of two (or more) lcae builds on one feature set, for comparing versions on a
# shared machine, where wall times say more about the neighbours than about lcae: each
# build runs `lcae cluster FILE --min-cluster-size 60` on 1 OpenMP thread (no waiting
# peer), the builds alternating, REPS rounds. Per run: the core-distance and spanning-tree
# stages as lcae reports them (wall s), user + system CPU s, peak resident memory, and
# whether the labels equal the first build's.
# Usage: bash bench/cluster_cpu_ab.sh FILE REPS LCAE_A LCAE_B [LCAE...]
#   e.g. bash bench/cluster_cpu_ab.sh ../shared/fixtures/hdbscan/blobs_65k_d16.npy 3 \
#        /tmp/lcae-main build/lcae
# env: LCAE_SIMD=avx2|base caps lcae's vector kernels.
set -uo pipefail
[ $# -ge 4 ] || { echo "usage: $0 FILE REPS LCAE_A LCAE_B [LCAE...]" >&2; exit 2; }
file=$1 reps=$2
shift 2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
echo "CPU: $cpu; 1 thread; vector kernels: ${LCAE_SIMD:-widest}; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-4s %-40s %8s %8s %8s %9s %s\n" rep build "core s" "span. s" "CPU s" "peak MiB" labels
for r in $(seq "$reps"); do
  b=0
  for lcae in "$@"; do
    out=$dir/labels_$b.npy
    log=$(OMP_NUM_THREADS=1 /usr/bin/time -f 'TIME %U %S %M' "$lcae" cluster "$file" -o "$out" \
      --min-cluster-size 60 2>&1 >/dev/null) || { echo "$log" >&2; exit 1; }
    core=$(sed -n 's/.*core distances: [0-9]* points in \([0-9.]*\) s.*/\1/p' <<<"$log")
    span=$(sed -n 's/.*spanning tree: [0-9]* edges in \([0-9.]*\) s.*/\1/p' <<<"$log")
    read -r user sys kib <<<"$(sed -n 's/^TIME //p' <<<"$log")"
    same=-
    [ "$b" -gt 0 ] && { cmp -s "$dir/labels_0.npy" "$out" && same=same || same=DIFFER; }
    printf "%-4s %-40s %8s %8s %8.2f %9.0f %s\n" "$r" "$lcae" "$core" "$span" \
      "$(awk -v u="$user" -v s="$sys" 'BEGIN{print u+s}')" "$(awk -v k="$kib" 'BEGIN{print k/1024}')" "$same"
    b=$((b + 1))
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
