#!/usr/bin/env bash
# Strong scaling under MPI (docs/mpi.md): lcae encode, lcae features (polar) and lcae
# train on 1 rank and on 2 ranks, one thread per rank (OMP_NUM_THREADS=1), on simulated
# 128 x 128 scans (16,384 patterns) of 64 x 64 patterns (256 MiB float32) and of the
# built-in sample's 128 x 128 patterns (1 GiB; encode and features only: training the
# base-16 model on them takes minutes a run). One rank runs twice: started directly (the
# single-process program, no MPI) and under `mpirun -np 1` (the launcher and MPI_Init
# that 2 ranks pay too): a strong-scaling ratio compares the same program under the same
# launcher, the direct row shows what the launcher costs.
# The three are run alternately, `rounds` times; the best of each counts (this shared
# machine's speed drifts within minutes). Prints seconds (train: the log's training
# patterns/s, without the statistics pass), the CPU seconds of the whole command (user +
# sys of lcae and, under mpirun, of the launcher and every rank: less sensitive to other
# jobs on the machine than the wall clock) and the speed-ups of 2 ranks over each 1-rank row.
# Usage: bash bench/bench_mpi.sh [BUILD_DIR] [ROUNDS] [WORK_DIR] [PATTERN_SIZES]
#   PATTERN_SIZES: default "64 128"
set -uo pipefail
build=${1:-build}
rounds=${2:-2}
work=${3:-$(mktemp -d /tmp/lcae-bench-mpi-XXXXXX)}
dets=${4:-64 128}
lcae=$build/lcae
[ -x "$lcae" ] || { echo "bench_mpi: $lcae is not built" >&2; exit 1; }
mpirun=$(command -v mpirun) || { echo "bench_mpi: mpirun is missing (openmpi-bin)" >&2; exit 1; }
export OMP_NUM_THREADS=1
mkdir -p "$work"
model=(--base 16 --center none)
# how a run is started: direct, mpirun -np 1, mpirun -np 2
ways=(direct np1 np2)
declare -A label=([direct]="1 rank, direct" [np1]="1 rank, mpirun -np 1" [np2]="2 ranks, mpirun -np 2")
# the command that starts lcae the way $1 says (/usr/bin/time runs programs, not functions)
started() {
  case $1 in
    direct) launch=("$lcae") ;;
    np*) launch=("$mpirun" --allow-run-as-root --oversubscribe -np "${1#np}" "$lcae") ;;
  esac
}
# "wall cpu" seconds of one command (cpu: user + sys of it and its children)
timed() {
  /usr/bin/time -f "%e %U %S" -o "$work/time" "$@" >/dev/null 2>"$work/err" ||
    { cat "$work/err" >&2; echo "nan nan"; return; }
  awk '{printf "%.2f %.2f", $1, $2 + $3}' "$work/time"
}
# "patterns/s cpu": training patterns per second (the log's, first epoch) and CPU seconds
trained() {
  local way=$1 scan=$2 out=$work/t$1.safetensors t
  started "$way"
  t=$(timed "${launch[@]}" train "$scan" -o "$out" "${model[@]}" --steps 32 --batch 32 \
    --subset 4096 -q)
  [ "${t% *}" = nan ] && { echo "nan nan"; return; }
  /usr/bin/python3 -c "import json,sys; print('%.2f' % json.load(open(sys.argv[1]))['epochs'][0]['patterns_per_s'], sys.argv[2])" \
    "$work/t$way.log.json" "${t#* }"
}
lo() { awk -v a="$1" -v b="$2" 'BEGIN{print (b == "" || a + 0 < b + 0) ? a : b}'; }
hi() { awk -v a="$1" -v b="$2" 'BEGIN{print (b == "" || a + 0 > b + 0) ? a : b}'; }
declare -A best cpu
# keep the best figure (lo or hi) of key $2 from "figure cpu" $3; the CPU seconds of the
# least CPU (the same run or not: each is the least disturbed)
keep() {
  local better=$1 key=$2 fig=${3% *} c=${3#* }
  best[$key]=$($better "$fig" "${best[$key]:-}")
  cpu[$key]=$(lo "$c" "${cpu[$key]:-}")
}
for det in $dets; do
  scan=$work/s$det/scan_x128_y128.raw
  [ -s "$scan" ] || "$lcae" simulate -o "$work/s$det" --scan 128 --det "$det" -q || exit 1
  m=$work/m$det.safetensors
  [ -s "$m" ] || "$lcae" train "$scan" -o "$m" "${model[@]}" --steps 1 --batch 8 --subset 16 -q ||
    exit 1
  for ((r = 0; r < rounds; r++)); do
    for way in "${ways[@]}"; do
      started "$way"
      keep lo "encode $det $way" "$(timed "${launch[@]}" encode "$scan" -m "$m" \
        -o "$work/z$det$way.npy" -q)"
      keep lo "features $det $way" "$(timed "${launch[@]}" features "$scan" \
        --method polar --center none -o "$work/f$det$way.npy" -q)"
      [ "$det" = 64 ] && keep hi "train $det $way" "$(trained "$way" "$scan")"
    done
  done
  for way in np1 np2; do
    cmp -s "$work/z${det}direct.npy" "$work/z$det$way.npy" ||
      echo "bench_mpi: warning: the latents of $way and one process differ ($det x $det)" >&2
    cmp -s "$work/f${det}direct.npy" "$work/f$det$way.npy" ||
      echo "bench_mpi: warning: the features of $way and one process differ ($det x $det)" >&2
  done
done
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc --all) cores; load at the end: $(cut -d" " -f1-3 /proc/loadavg)"
echo "128 x 128 scans, 1 thread a rank; best of $rounds; CPU: user + sys seconds of the whole command"
printf "%-52s %-22s %10s %7s %9s %9s\n" "" "" "" "CPU" "2 ranks /" "2 ranks /"
printf "%-52s %-22s %10s %7s %9s %9s\n" "" "" "" "s" "direct" "-np 1"
for det in $dets; do
  for k in encode features train; do
    [ -n "${best[$k $det np2]:-}" ] || continue
    if [ $k = train ]; then what="lcae train --batch 32 (patterns/s)"; unit="/s"; else
      what="lcae $k"; [ $k = features ] && what="$what --method polar"; unit="s"; fi
    for way in "${ways[@]}"; do
      key="$k $det $way"
      if [ "$way" = np2 ]; then
        up=()
        for base in direct np1; do
          a=${best[$k $det $base]} b=${best[$key]}
          [ $k = train ] && { t=$a; a=$b; b=$t; }
          up+=("$(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.3fx", a / b}')")
        done
      else up=("" ""); fi
      printf "%-52s %-22s %8s%-2s %7s %9s %9s\n" "$what, $det x $det patterns" "${label[$way]}" \
        "${best[$key]}" "$unit" "${cpu[$key]}" "${up[0]}" "${up[1]}"
    done
  done
done
