#!/usr/bin/env bash
# lcae's whole model against PyTorch 1.13 (oneDNN), same model, same step, 2 threads
# each, in one run: for each configuration lcae (BUILD/bench_model) and PyTorch
# (bench/model_torch.py) run alternately, `rounds` times (the best of each counts: this
# shared machine's speed drifts by several times within minutes); prints patterns/s of
# each, the ratio lcae/PyTorch, lcae's effective GFLOP/s (the model's direct-convolution
# flop count over the time: Winograd layers do fewer multiplies, so this may exceed the
# sgemm peak) and the CBLAS sgemm peak measured in the same run (before and after).
# ISA avx2 holds everyone to AVX2 on an AVX-512 machine: lcae's own vector code
# (LCAE_SIMD=avx2), oneDNN's (ONEDNN_MAX_CPU_ISA=AVX2, lcae's sgemm and PyTorch's) and
# OpenBLAS's (OPENBLAS_CORETYPE=Haswell, the sgemm peak).
# Usage: bash bench/bench_model.sh [BUILD_DIR] [THREADS] [ISA: widest|avx2]
#   (also: scripts/bench BUILD model)
set -uo pipefail
build=${1:-build}
threads=${2:-2}
if [ "${3:-widest}" = avx2 ]; then
  export LCAE_SIMD=avx2 ONEDNN_MAX_CPU_ISA=AVX2 OPENBLAS_CORETYPE=Haswell
else # the widest set, whatever the environment held (a shell may export CORETYPE)
  unset LCAE_SIMD ONEDNN_MAX_CPU_ISA OPENBLAS_CORETYPE
fi
here=$(cd "$(dirname "$0")" && pwd)
bin=$build/bench_model
[ -x "$bin" ] || { echo "bench_model: $bin is not built" >&2; exit 1; }
export OMP_NUM_THREADS=$threads
torch_ok=1
/usr/bin/python3 -c "import torch" 2>/dev/null || torch_ok=0
peak() { "$bin" sgemm "$threads" | awk '{print $2}'; }
p0=$(peak)
echo "vector sets: LCAE_SIMD=${LCAE_SIMD:-widest} ONEDNN_MAX_CPU_ISA=${ONEDNN_MAX_CPU_ISA:-widest} OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-widest}; $("$bin" backend)"
printf "%-34s %12s %12s %7s %12s\n" "configuration ($threads threads)" "lcae pat/s" "torch pat/s" "ratio" "lcae eff. GFLOP/s"
best() { awk -v a="$1" -v b="$2" 'BEGIN{print (b == "" || a + 0 > b + 0) ? a : b}'; }
# mode size base batch reps rounds label
while read -r mode size base batch reps rounds label; do
  lp=""; lg=""; tp=""
  for ((r = 0; r < rounds; r++)); do
    l=$("$bin" "$mode" "$size" "$base" "$batch" "$reps" "$threads") || { echo "$label: lcae failed" >&2; exit 1; }
    p=$(echo "$l" | awk '{print $2}')
    [ "$(best "$p" "$lp")" = "$p" ] && { lp=$p; lg=$(echo "$l" | awk '{print $4}'); }
    if [ $torch_ok = 1 ]; then
      t=$(/usr/bin/python3 "$here/model_torch.py" "$mode" "$size" "$base" "$batch" "$reps" "$threads" | awk '{print $2}')
      [ -n "$t" ] && tp=$(best "$t" "$tp")
    fi
  done
  ratio=$( [ -n "$tp" ] && awk -v a="$lp" -v b="$tp" 'BEGIN{printf "%.2f", a/b}' || echo "-")
  printf "%-34s %12s %12s %7s %12s\n" "$label" "$lp" "${tp:--}" "$ratio" "$lg"
done <<'CONFIGS'
train 128 16 32 2 2 train 128x128 base 16 batch 32
train 64 16 32 3 2 train 64x64 base 16 batch 32
encode 128 16 128 3 2 encode 128x128 base 16 batch 128
train 128 64 32 1 1 train 128x128 base 64 batch 32 (1 step)
CONFIGS
p1=$(peak)
echo "sgemm peak (2048^3, $threads threads): $p0 GFLOP/s before, $p1 GFLOP/s after"
[ $torch_ok = 1 ] || echo "(PyTorch not installed: its column is empty)"
