#!/usr/bin/env bash
# The whole model (bench_model, base 16) with each convolution setting: LCAE_CONV=im2col,
# winograd-2x2 (every 3x3 stride-1 layer with >= 8 channels on F(2x2, 3x3)) and the
# default per-layer rule (F(4x4, 3x3) where src/nn/winograd.c's rule picks it), in turn
# for each configuration, for the widest vector set and again with everything held to
# AVX2 (LCAE_SIMD=avx2 ONEDNN_MAX_CPU_ISA=AVX2 OPENBLAS_CORETYPE=Haswell). One thread,
# process CPU time (steadiest on a shared machine); patterns/s, best of REPS.
# Usage: bash bench/winograd_model.sh [BUILD_DIR] [REPS]
set -uo pipefail
build=${1:-build}
reps=${2:-2}
bin=$build/bench_model
[ -x "$bin" ] || { echo "winograd_model: $bin is not built" >&2; exit 1; }
export OMP_NUM_THREADS=1
# prints the patterns/s of one configuration (env: the caller's)
rate() { "$bin" "$@" 1 cpu | awk '$1 == "patterns_per_s" {print $2}'; }
for isa in widest avx2; do
  (
    if [ $isa = avx2 ]; then
      export LCAE_SIMD=avx2 ONEDNN_MAX_CPU_ISA=AVX2 OPENBLAS_CORETYPE=Haswell
    fi
    echo "vector set: $isa ($("$bin" backend | cut -d' ' -f2-)); 1 thread, patterns/s"
    printf "%-34s %10s %10s %10s\n" configuration im2col F2 rule
    for cfg in "train 64 16 32 $reps" "train 128 16 32 1" "encode 128 16 128 $reps"; do
      # shellcheck disable=SC2086
      i=$(LCAE_CONV=im2col rate $cfg)
      w2=$(LCAE_CONV=winograd-2x2 rate $cfg)
      r=$(unset LCAE_CONV; rate $cfg)
      printf "%-34s %10s %10s %10s\n" "$cfg" "$i" "$w2" "$r"
    done
  )
done
