#!/usr/bin/env bash
# Strong scaling under MPI (docs/mpi.md): lcae encode, lcae features (polar) and lcae
# train on 1 rank and on 2 ranks (mpirun -np 2), one thread per rank (OMP_NUM_THREADS=1),
# on a simulated 128 x 128 scan of 64 x 64 patterns (16,384 patterns, 256 MiB float32),
# alternately, `rounds` times; the best of each counts (this shared machine's speed drifts
# within minutes). Prints seconds (train: the log's training patterns/s, without the
# statistics pass) and the speed-up 2 ranks / 1 rank.
# Usage: bash bench/bench_mpi.sh [BUILD_DIR] [ROUNDS] [WORK_DIR]
set -uo pipefail
build=${1:-build}
rounds=${2:-2}
work=${3:-$(mktemp -d /tmp/lcae-bench-mpi-XXXXXX)}
lcae=$build/lcae
[ -x "$lcae" ] || { echo "bench_mpi: $lcae is not built" >&2; exit 1; }
mpirun=$(command -v mpirun) || { echo "bench_mpi: mpirun is missing (openmpi-bin)" >&2; exit 1; }
export OMP_NUM_THREADS=1
mkdir -p "$work"
scan=$work/s/scan_x128_y128.raw
[ -s "$scan" ] || "$lcae" simulate -o "$work/s" --scan 128 --det 64 -q || exit 1
model=(--base 16 --center none)
[ -s "$work/m.safetensors" ] ||
  "$lcae" train "$scan" -o "$work/m.safetensors" "${model[@]}" --steps 1 --batch 8 --subset 16 -q ||
  exit 1
ranks() { if [ "$1" = 1 ]; then shift; "$@"; else shift; "$mpirun" --allow-run-as-root --oversubscribe -np 2 "$@"; fi; }
# seconds of one command
timed() {
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; echo nan; return; }
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b - a}'
}
# training patterns per second (the log's, first epoch)
trained() {
  ranks "$1" "$lcae" train "$scan" -o "$work/t$1.safetensors" "${model[@]}" --steps 32 --batch 32 \
    --subset 4096 -q >/dev/null 2>"$work/err" || { cat "$work/err" >&2; echo nan; return; }
  /usr/bin/python3 -c "import json,sys; print('%.2f' % json.load(open(sys.argv[1]))['epochs'][0]['patterns_per_s'])" \
    "$work/t$1.log.json"
}
lo() { awk -v a="$1" -v b="$2" 'BEGIN{print (b == "" || a + 0 < b + 0) ? a : b}'; }
hi() { awk -v a="$1" -v b="$2" 'BEGIN{print (b == "" || a + 0 > b + 0) ? a : b}'; }
declare -A best
for ((r = 0; r < rounds; r++)); do
  for n in 1 2; do
    s=$(timed ranks $n "$lcae" encode "$scan" -m "$work/m.safetensors" -o "$work/z$n.npy" -q)
    best[encode$n]=$(lo "$s" "${best[encode$n]:-}")
    s=$(timed ranks $n "$lcae" features "$scan" --method polar --center none -o "$work/f$n.npy" -q)
    best[features$n]=$(lo "$s" "${best[features$n]:-}")
    s=$(trained $n)
    best[train$n]=$(hi "$s" "${best[train$n]:-}")
  done
done
cmp -s "$work/z1.npy" "$work/z2.npy" || echo "bench_mpi: warning: the latents of 1 and 2 ranks differ" >&2
cmp -s "$work/f1.npy" "$work/f2.npy" || echo "bench_mpi: warning: the features of 1 and 2 ranks differ" >&2
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc --all) cores; load at the end: $(cut -d" " -f1-3 /proc/loadavg)"
printf "%-44s %10s %10s %8s\n" "128 x 128 scan, 64 x 64 patterns, 1 thread/rank" "1 rank" "2 ranks" "speed-up"
for k in encode features; do
  printf "%-44s %9ss %9ss %7.3fx\n" "lcae $k (seconds)" "${best[${k}1]}" "${best[${k}2]}" \
    "$(awk -v a="${best[${k}1]}" -v b="${best[${k}2]}" 'BEGIN{print a / b}')"
done
printf "%-44s %10s %10s %7.3fx\n" "lcae train, base 16, batch 32 (patterns/s)" "${best[train1]}" "${best[train2]}" \
  "$(awk -v a="${best[train1]}" -v b="${best[train2]}" 'BEGIN{print b / a}')"
