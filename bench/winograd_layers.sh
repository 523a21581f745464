#!/usr/bin/env bash
# The 3x3 stride-1 layers of the model (enc1, enc3, enc5, enc7: C = K = b, 2b, 4b, 8b at
# side S, S/2, S/4, S/8) with im2col, Winograd F(2x2, 3x3) and F(4x4, 3x3) (LCAE_CONV=im2col,
# winograd-2x2, winograd-4x4; "rule" names the one lcae picks by default), against the
# sgemm peak measured in the same run (bench_layers' sgemm1024: the better of CBLAS's
# (OpenBLAS) and src/nn's (oneDNN) products at 1024^3, and of a measurement before and
# one after the layers), for the widest
# vector set and again with everything held to AVX2 (LCAE_SIMD=avx2
# ONEDNN_MAX_CPU_ISA=AVX2 OPENBLAS_CORETYPE=Haswell). Effective GFLOP/s are the direct
# convolution's flops over the time (backward: input and weight gradient, twice the
# forward's flops), so Winograd may exceed the peak; "> peak" says whether it does.
# THREADS 1 times process CPU time (steadiest on a shared machine), more threads wall
# time.
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
# the layers with more threads: bound to cores (measured: unbound, 2 or 3 of 8 two-thread
# processes ran a short layer 1.5-3.5x slower throughout, as if both threads shared one
# core; bound, none). Not the peak: OpenBLAS's own threads would inherit the first
# thread's single core.
bind=()
[ "$threads" -gt 1 ] && bind=(OMP_PROC_BIND=close OMP_PLACES=cores)
cpu=$([ "$threads" = 1 ] && echo "--cpu 1" || true)
args="--base $base --batch $batch --size $size --reps $reps --threads $threads $cpu"
# prints "forward_gflops backward_gflops algorithm" of one layer (env: the caller's)
rates() { env "${bind[@]}" "$bin" $args --only "$1" | awk '$2 == "forward" {f = $5; a = $7}
                                        $2 == "backward" {b = $5} END {print f, b, a}'; }
# the sgemm peak at 1024^3, GFLOP/s: the better of CBLAS's (OpenBLAS) and src/nn's
# (oneDNN) products, the stricter bar (env: the caller's)
sgemm_peak() { "$bin" $args --only sgemm1024 |
               awk '$2 == "peak" && $5 > p {p = $5} END {print p}'; }
for isa in widest avx2; do
  (
    if [ $isa = avx2 ]; then
      export LCAE_SIMD=avx2 ONEDNN_MAX_CPU_ISA=AVX2 OPENBLAS_CORETYPE=Haswell
    else
      unset LCAE_SIMD ONEDNN_MAX_CPU_ISA OPENBLAS_CORETYPE
    fi
    # the peak: the best of a measurement before and one after the layers (on a shared
    # machine the higher one is the stricter bar)
    peak0=$(sgemm_peak)
    rows=()
    side=$size
    for l in enc1 enc3 enc5 enc7; do
      read -r fi bi _ < <(LCAE_CONV=im2col rates $l)
      read -r f2 b2 _ < <(LCAE_CONV=winograd-2x2 rates $l)
      read -r f4 b4 _ < <(LCAE_CONV=winograd-4x4 rates $l)
      # the per-layer rule's choice (unset LCAE_CONV), from bench_layers' forward line
      rule=$(unset LCAE_CONV; "$bin" --base "${4:-16}" --size "$size" --batch 1 --reps 1 \
             --threads 1 --only "$l" | awk '$2 == "forward" {print $7}')
      case $rule in winograd-4x4) fw=$f4 bw=$b4 r=F4 ;; winograd-2x2) fw=$f2 bw=$b2 r=F2 ;;
                    *) fw=$fi bw=$bi r=im2col ;; esac
      rows+=("$l@$side $base $fi $f2 $f4 $bi $b2 $b4 $r $fw $bw")
      side=$((side / 2))
      base=$((base * 2))
    done
    peak=$(awk -v a="$peak0" -v b="$(sgemm_peak)" 'BEGIN {print (a > b ? a : b)}')
    echo "vector set: $isa ($("$build/bench_model" backend | cut -d' ' -f2-)); base ${4:-16}," \
         "batch $batch, side $size, $threads thread(s); sgemm peak (1024^3, best of 2):" \
         "$peak GFLOP/s"
    printf "%-9s %4s %-26s %-26s %5s %s\n" layer "C=K" "forward im2col/F2/F4" \
           "backward im2col/F2/F4" rule "> peak (rule's)"
    for row in "${rows[@]}"; do
      read -r name c fi f2 f4 bi b2 b4 r fw bw <<< "$row"
      above=$(awk -v f="$fw" -v b="$bw" -v p="$peak" \
              'BEGIN{print (f > p ? "fwd " : "") (b > p ? "bwd" : "") }')
      printf "%-9s %4s %-26s %-26s %5s %s\n" "$name" "$c" "$fi / $f2 / $f4" \
             "$bi / $b2 / $b4" "$r" "${above:--}"
    done
  )
done
