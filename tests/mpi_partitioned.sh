#!/usr/bin/env bash
# The partitioned passes under MPI (docs/mpi.md): lcae stats, features and encode on 2
# (and 3) ranks write the same bytes as one process with the same threads per rank
# (OMP_NUM_THREADS=1, set by ctest), the single-process run being the reference; only
# the outputs appear (rank 0 writes, no temporary files), and progress comes once.
lcae=$1
t=$(mktemp -d /tmp/lcae-mpi-part-XXXXXX)
source "${LCAE_SOURCE_DIR:?run through ctest}/tests/shell_helpers.sh"

# 24 x 20 positions of 32 x 32 patterns: 480 patterns, 491,520 pixels, more than the
# statistics' sample below (so the sample is drawn, not every pixel)
"$lcae" simulate -o "$t/s" --scan 24x20 --det 32 --grains 4 -q || fail "simulate"
scan=$t/s/scan_x20_y24.raw

# same_dirs A B: the same names, each file the same bytes
same_dirs() {
  [ "$(ls -A "$1")" = "$(ls -A "$2")" ] || fail "$1 and $2 hold different files: $(ls -A "$1") / $(ls -A "$2")"
  for f in "$1"/*; do
    cmp -s "$f" "$2/$(basename "$f")" || fail "$(basename "$f"): 1 rank and MPI differ"
  done
}

# --- statistics: sampled (with the beam) and exact; 2 and 3 ranks (3 does not divide 480
# evenly into the batches)
run "$lcae" stats "$scan" -o "$t/st1" --sample 100000 -q
expect_rc 0 "stats, one process"
for np in 2 3; do
  run mpi $np "$lcae" stats "$scan" -o "$t/st$np" --sample 100000
  expect_rc 0 "stats, $np ranks"
  same_dirs "$t/st1" "$t/st$np"
  [ "$(grep -c '^lcae: statistics' "$t/err")" = 1 ] || fail "stats, $np ranks: progress not once: $err"
done
grep -q "\"method\":	\"sampled\"" "$t/st1/stats.json" || fail "stats.json: the quantiles were not sampled"
run "$lcae" stats "$scan" -o "$t/ex1" --exact --center none -q
run mpi 2 "$lcae" stats "$scan" -o "$t/ex2" --exact --center none -q
expect_rc 0 "stats --exact, 2 ranks"
same_dirs "$t/ex1" "$t/ex2"

# --- features: polar (covariance PCA), pca (randomized), the polar magnitudes
feat=(--bin 2 --center none -q)
for m in "polar" "pca --solver randomized --dims 6" "polar --dims 0"; do
  mkdir -p "$t/f1" "$t/f2"
  run "$lcae" features "$scan" --method $m "${feat[@]}" -o "$t/f1/x.npy"
  expect_rc 0 "features $m, one process"
  run mpi 2 "$lcae" features "$scan" --method $m "${feat[@]}" -o "$t/f2/x.npy"
  expect_rc 0 "features $m, 2 ranks"
  same_dirs "$t/f1" "$t/f2"
  rm -rf "$t/f1" "$t/f2"
done

# --- encode: a tiny model trained in one process; batches of 64 (8 of them, 4 a rank)
# and of 100 (5: 2 and 3 a rank, the last one short)
run "$lcae" train "$scan" -o "$t/m.safetensors" --bin 2 --base 2 --steps 4 --batch 16 \
  --subset 64 -q
expect_rc 0 "train"
for b in 64 100; do
  run "$lcae" encode "$scan" -m "$t/m.safetensors" --batch $b -o "$t/z1.npy" -q
  expect_rc 0 "encode, one process"
  run mpi 2 "$lcae" encode "$scan" -m "$t/m.safetensors" --batch $b -o "$t/z2.npy"
  expect_rc 0 "encode, 2 ranks"
  cmp -s "$t/z1.npy" "$t/z2.npy" || fail "encode --batch $b: 1 rank and 2 ranks differ"
  grep -q "wrote $t/z2.npy (480 x 16 float32)" "$t/err" || fail "encode: no summary: $err"
  [ "$(grep -c '^lcae: wrote' "$t/err")" = 1 ] || fail "encode: summary not once: $err"
done
ls -A "$t" | grep -q tmp && fail "temporary files left: $(ls -A "$t")"
exit $((fails > 0))
