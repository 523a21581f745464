#!/usr/bin/env bash
# lcae's whole model against PyTorch 1.13 (oneDNN), same model, same step, 2 threads
# each, in one run: for each configuration lcae (BUILD/bench_model) and PyTorch
# (bench/model_torch.py) run alternately; prints patterns/s of each, the ratio
# lcae/PyTorch, lcae's achieved GFLOP/s and the CBLAS sgemm peak measured in the same run.
# Usage: bash bench/bench_model.sh [BUILD_DIR] [THREADS]   (also: scripts/bench BUILD model)
set -uo pipefail
build=${1:-build}
threads=${2:-2}
here=$(cd "$(dirname "$0")" && pwd)
bin=$build/bench_model
[ -x "$bin" ] || { echo "bench_model: $bin is not built" >&2; exit 1; }
export OMP_NUM_THREADS=$threads
torch_ok=1
/usr/bin/python3 -c "import torch" 2>/dev/null || torch_ok=0
peak() { "$bin" sgemm "$threads" | awk '{print $2}'; }
p0=$(peak)
printf "%-34s %12s %12s %7s %12s\n" "configuration ($threads threads)" "lcae pat/s" "torch pat/s" "ratio" "lcae GFLOP/s"
# mode size base batch reps label
while read -r mode size base batch reps label; do
  l=$("$bin" "$mode" "$size" "$base" "$batch" "$reps" "$threads") || { echo "$label: lcae failed" >&2; exit 1; }
  lp=$(echo "$l" | awk '{print $2}'); lg=$(echo "$l" | awk '{print $4}')
  if [ $torch_ok = 1 ]; then
    t=$(/usr/bin/python3 "$here/model_torch.py" "$mode" "$size" "$base" "$batch" "$reps" "$threads") || t=""
    tp=$(echo "$t" | awk '{print $2}')
  else
    tp=""
  fi
  ratio=$( [ -n "$tp" ] && awk -v a="$lp" -v b="$tp" 'BEGIN{printf "%.2f", a/b}' || echo "-")
  printf "%-34s %12s %12s %7s %12s\n" "$label" "$lp" "${tp:--}" "$ratio" "$lg"
done <<'CONFIGS'
train 128 16 32 3 train 128x128 base 16 batch 32
train 64 16 32 3 train 64x64 base 16 batch 32
encode 128 16 128 3 encode 128x128 base 16 batch 128
train 128 64 32 1 train 128x128 base 64 batch 32 (1 step)
CONFIGS
p1=$(peak)
echo "sgemm peak (2048^3, $threads threads): $p0 GFLOP/s before, $p1 GFLOP/s after"
[ $torch_ok = 1 ] || echo "(PyTorch not installed: its column is empty)"
