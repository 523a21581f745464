#!/usr/bin/env bash
# The 3x3 stride-1 layers of the model (enc1, enc3, enc5, enc7: C = K = b, 2b, 4b, 8b at
# side S, S/2, S/4, S/8) with Winograd and with im2col (LCAE_CONV=im2col), against the
# sgemm peak measured in the same run (bench_layers' sgemm1024: src/nn's product at
# 1024^3), for the widest vector set and again with everything held to AVX2
# (LCAE_SIMD=avx2 ONEDNN_MAX_CPU_ISA=AVX2 OPENBLAS_CORETYPE=Haswell). Effective GFLOP/s
# are the direct convolution's flops over the time (backward: input and weight gradient,
# twice the forward's flops), so Winograd may exceed the peak; "> peak" says whether it
# does. THREADS 1 times process CPU time (steadiest on a shared machine), more threads
# wall time.
# Usage: bash bench/winograd_layers.sh [BUILD_DIR] [THREADS] [SIZE] [BASE] [BATCH] [REPS]
set -uo pipefail
build=${1:-build}
threads=${2:-1}
size=${3:-128}
base=${4:-16}
batch=${5:-32}
reps=${6:-3}
bin=$build/bench_layers
[ -x "$bin" ] || { echo "winograd_layers: $bin is not built" >&2; exit 1; }
export OMP_NUM_THREADS=$threads
cpu=$([ "$threads" = 1 ] && echo "--cpu 1" || true)
args="--base $base --batch $batch --size $size --reps $reps --threads $threads $cpu"
# prints "forward_gflops backward_gflops" of one layer (env: the caller's)
rates() { "$bin" $args --only "$1" | awk '$2 == "forward" {f = $5} $2 == "backward" {b = $5}
                                        END {print f, b}'; }
for isa in widest avx2; do
  (
    if [ $isa = avx2 ]; then
      export LCAE_SIMD=avx2 ONEDNN_MAX_CPU_ISA=AVX2 OPENBLAS_CORETYPE=Haswell
    else
      unset LCAE_SIMD ONEDNN_MAX_CPU_ISA OPENBLAS_CORETYPE
    fi
    peak=$("$bin" $args --only sgemm1024 | awk '$1 == "nn_sgemm1024" {print $5}')
    echo "vector set: $isa ($("$build/bench_model" backend | cut -d' ' -f2-)); base $base," \
         "batch $batch, side $size, $threads thread(s); sgemm peak (1024^3): $peak GFLOP/s"
    printf "%-6s %6s %22s %22s %8s\n" layer "C=K" "forward im2col/wino" \
           "backward im2col/wino" "> peak"
    side=$size
    for l in enc1 enc3 enc5 enc7; do
      read -r fi bi < <(LCAE_CONV=im2col rates $l)
      read -r fw bw < <(rates $l)
      above=$(awk -v f="$fw" -v b="$bw" -v p="$peak" \
              'BEGIN{print (f > p ? "fwd " : "") (b > p ? "bwd" : "") }')
      printf "%-6s %6s %10s / %-9s %10s / %-9s %8s\n" "$l@$side" "$base" "$fi" "$fw" "$bi" "$bw" \
             "${above:--}"
      side=$((side / 2))
      base=$((base * 2))
    done
  )
done
