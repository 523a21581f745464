#!/usr/bin/env bash
# lcae stats / lcae info on the command line: outputs, non-finite pixels, bad input, exit
# status, nothing written on failure (the outputs are one set: all or none). (Numbers are
# checked against numpy in test_stats.c.)
lcae=$1
src=${LCAE_SOURCE_DIR:?run through ctest}
t=$(mktemp -d /tmp/lcae-cli-stats-XXXXXX)
source "${LCAE_SOURCE_DIR:?run through ctest}/tests/shell_helpers.sh"
# A 3 x 2 EMPAD scan of zeros: 128 x 130 float32 frames (the last 2 rows metadata).
frame=$((128 * 130 * 4))
empad=$t/scan_x3_y2.raw
head -c $((6 * frame)) /dev/zero >"$empad"
# poke FLOAT32 (4 bytes, little endian, as printf escapes) at byte OFFSET of FILE
poke() { printf "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }

# --- zeros: constant data
run "$lcae" info "$empad" -q
expect_rc 0 "info on zeros"
for l in 'format    empad' 'scan      2 x 3' 'detector  128 x 128' 'median    0$' \
         'sigma68   0 ' 'min       0$' 'max       0$' 'nonfinite 0 '; do
  grep -q "^$l" "$t/out" || fail "info: no line '$l' in: $out"
done
run "$lcae" info "$empad" --json -q
expect_rc 0 "info --json"
keys=$(grep -o '"[a-z0-9]*":' "$t/out" | tr -d '":' | sort | tr '\n' ' ')
[ "$keys" = "bytes detector dtype format max median min nonfinite norm scale scan sigma68 " ] ||
  fail "info --json keys: $keys"
[ "$(wc -l <"$t/out")" = 1 ] || fail "info --json: not one line"
grep -q '"scan":\[2,3\]' "$t/out" && grep -q '"detector":\[128,128\]' "$t/out" &&
  grep -q '"bytes":399360' "$t/out" && grep -q '"median":0,' "$t/out" ||
  fail "info --json values: $out"

# --- stats on zeros: no direct beam to find, an error (one line naming the file and
# --center none) and nothing written
run "$lcae" stats "$empad" -o "$t/nobeam"
expect_rc 1 "stats on zeros with the beam"
grep -q "^lcae: error: $empad: no direct beam: .* --center none skips beam centring$" \
  "$t/err" || fail "stats on zeros: message: $err"
[ ! -e "$t/nobeam" ] || fail "stats on zeros wrote $t/nobeam"
# --center none: all four files, in a folder it creates
run "$lcae" stats "$empad" -o "$t/a/b/c" --center none
expect_rc 0 "stats"
for f in sum.npy variance.npy mean_pattern.npy stats.json; do
  [ -s "$t/a/b/c/$f" ] || fail "stats: $f missing"
done
# progress and summary on stderr when it is not a terminal, nothing with -q
grep -q 'statistics: 6 patterns' "$t/err" || fail "stats: no progress line: $err"
# npy headers: shapes (2, 3) and (128, 128), float32; 6 and 16384 values
grep -aq "'descr': '<f4'.*'shape': (2, 3)" "$t/a/b/c/sum.npy" || fail "sum.npy header"
grep -aq "'shape': (128, 128)" "$t/a/b/c/mean_pattern.npy" || fail "mean_pattern.npy header"
[ $(($(stat -c %s "$t/a/b/c/variance.npy") - 128)) = 24 ] || fail "variance.npy size"
[ $(($(stat -c %s "$t/a/b/c/mean_pattern.npy") - 128)) = 65536 ] || fail "mean_pattern size"
grep -q '"method":	"exact"' "$t/a/b/c/stats.json" || fail "stats.json: method"
[ ! -e "$t/a/b/c/beam_position.npy" ] || fail "stats --center none: beam_position.npy"
grep -q '"beam"' "$t/a/b/c/stats.json" && fail "stats --center none: beam in stats.json"
run "$lcae" stats "$empad" -o "$t/q" -q --center none
[ -z "$err" ] || fail "stats -q printed: $err"

# --- non-finite pixels: NaN in pattern 5 = scan position (1, 2); NaN and Inf in the
# metadata rows, which are not pixels and must not count
poke "$empad" $((5 * frame + 7 * 4)) '\x00\x00\xc0\x7f'
poke "$empad" $((2 * frame + 128 * 128 * 4)) '\x00\x00\xc0\x7f'
poke "$empad" $((3 * frame + 128 * 129 * 4)) '\x00\x00\x80\x7f'
run "$lcae" info "$empad" --json -q
expect_rc 0 "info with NaN"
grep -q '"nonfinite":1}' "$t/out" || fail "info: nonfinite count: $out"
run "$lcae" stats "$empad" -o "$t/nan" -q --center none
expect_rc 1 "stats with NaN"
one_line_error "stats with NaN"
grep -q "$empad: 1 non-finite pixel values (NaN or Inf), the first at scan position (1, 2)" \
  "$t/err" || fail "stats with NaN: message: $err"
[ ! -e "$t/nan" ] || fail "stats with NaN wrote $t/nan"
run "$lcae" stats "$empad" -o "$t/nan" -q --ignore-nonfinite --exact --center none
expect_rc 0 "stats --ignore-nonfinite"
grep -q '"nonfinite":	1,' "$t/nan/stats.json" || fail "stats.json nonfinite"

# --- sampling: seeded, deterministic, any thread count
fix=$src/tests/fixtures/stats/scan_5x6_16x12.raw
raw=(--format raw --det 16x12 --dtype f4 --scan 5x6 -q --center none) # random: no beam
run "$lcae" stats "$fix" "${raw[@]}" -o "$t/s1" --sample 1000 --seed 3 --threads 1
expect_rc 0 "sampled stats"
run "$lcae" stats "$fix" "${raw[@]}" -o "$t/s2" --sample 1000 --seed 3 --threads 2
for f in sum.npy variance.npy mean_pattern.npy stats.json; do
  cmp -s "$t/s1/$f" "$t/s2/$f" || fail "sampled: $f differs between 1 and 2 threads"
done
grep -q '"method":	"sampled"' "$t/s1/stats.json" && grep -q '"sample_size":	1000,' \
  "$t/s1/stats.json" || fail "stats.json: sampled method and size"
run "$lcae" stats "$fix" "${raw[@]}" -o "$t/s3" --sample 1000 --seed 4
grep '"median"' "$t/s1/stats.json" >"$t/m1"
grep '"median"' "$t/s3/stats.json" >"$t/m3"
cmp -s "$t/m1" "$t/m3" && fail "sampled: seeds 3 and 4 gave the same median"

# --- the direct beam of a small simulated scan (8 x 8 positions, 64 x 64 detector):
# beam_position.npy and beam_measured.npy (8, 8, 2) float32, the summary in stats.json
# (its numbers are checked against the simulator's truth in test_beam.c)
run "$lcae" simulate -o "$t/sim" --scan 8x8 --det 64 -q
run "$lcae" stats "$t/sim/scan_x8_y8.raw" -o "$t/b1"
expect_rc 0 "stats with the beam"
for f in beam_position beam_measured; do
  grep -aq "'descr': '<f4', 'fortran_order': False, 'shape': (8, 8, 2)" "$t/b1/$f.npy" ||
    fail "$f.npy header"
  [ $(($(stat -c %s "$t/b1/$f.npy") - 128)) = 512 ] || fail "$f.npy size"
done
for k in frame_centre radius_px rms_residual_px not_found outliers surface; do
  grep -q "\"$k\":" "$t/b1/stats.json" || fail "stats.json: beam key $k"
done
grep -q '"fit":	"quadratic"' "$t/b1/stats.json" || fail "stats.json: fit"
grep -q 'beam: radius .* px, fitted (y, x) from' "$t/err" || fail "stats: no beam note: $err"
run "$lcae" stats "$t/sim/scan_x8_y8.raw" -o "$t/b2" -q --beam-fit none --beam-radius 2 \
  --beam-sample 16 --threads 1
expect_rc 0 "stats --beam-fit none"
grep -q '"fit":	"none"' "$t/b2/stats.json" && grep -q '"radius_px":	2,' "$t/b2/stats.json" &&
  grep -q '"sample":	16' "$t/b2/stats.json" || fail "stats.json: beam options"
for bad in "--center middle" "--beam-fit cubic" "--beam-radius -1" "--beam-sample 0"; do
  run "$lcae" stats "$t/sim/scan_x8_y8.raw" -o "$t/b3" $bad
  expect_rc 2 "$bad"; one_line_error "$bad"
done
run "$lcae" stats "$t/sim/scan_x8_y8.raw" -o "$t/b3" --beam-radius 17 -q
expect_rc 2 "--beam-radius over a quarter of the detector"
one_line_error "--beam-radius 17"
[ ! -e "$t/b3" ] || fail "bad beam options wrote $t/b3"

# --- bad input: one line, exit 1 (2 for misuse), nothing written
run "$lcae" stats "$t/missing.raw" -o "$t/x1"
expect_rc 1 "missing file"; one_line_error "missing file"
grep -q "$t/missing.raw" "$t/err" || fail "missing file: message: $err"
run "$lcae" stats "$t" -o "$t/x2"
expect_rc 1 "directory"; one_line_error "directory"
head -c $((4 * frame)) /dev/zero >"$t/short_x3_y2.raw"
run "$lcae" stats "$t/short_x3_y2.raw" -o "$t/x3"
expect_rc 1 "truncated"; one_line_error "truncated"
run "$lcae" stats "$fix" "${raw[@]}"
expect_rc 2 "no -o"; one_line_error "no -o"
run "$lcae" stats "$fix" "${raw[@]}" -o "$t/x4" --sample 0
expect_rc 2 "--sample 0"; one_line_error "--sample 0"
run "$lcae" info "$fix" "${raw[@]}" --sample -3
expect_rc 2 "--sample -3"; one_line_error "--sample -3"
touch "$t/afile"
run "$lcae" stats "$fix" "${raw[@]}" -o "$t/afile"
expect_rc 1 "-o a file"; one_line_error "-o a file"
for d in x1 x2 x3 x4; do [ ! -e "$t/$d" ] || fail "$d was written"; done

# --- the four outputs are one set: all or none, no temporary file left (failures made
# without permissions: a folder in an output's place, the test hook LCAE_TEST_FAIL_RENAME)
mkdir -p "$t/y/mean_pattern.npy"
run "$lcae" stats "$fix" "${raw[@]}" -o "$t/y"
expect_rc 1 "a folder in mean_pattern.npy's place"; one_line_error "folder in place"
grep -q "mean_pattern.npy: cannot replace output (a folder is in its place)" "$t/err" ||
  fail "folder in place: $err"
expect_files "$t/y" mean_pattern.npy
LCAE_TEST_FAIL_RENAME=3 run "$lcae" stats "$fix" "${raw[@]}" -o "$t/z"
expect_rc 1 "third rename fails"; one_line_error "third rename fails"
expect_files "$t/z"
cp -r "$t/s1" "$t/s1.old"
LCAE_TEST_FAIL_RENAME=1 run "$lcae" stats "$fix" "${raw[@]}" -o "$t/s1" --sample 99
expect_rc 1 "first rename fails over older outputs"
for f in sum.npy variance.npy mean_pattern.npy stats.json; do
  cmp -s "$t/s1/$f" "$t/s1.old/$f" || fail "older $f replaced by a failed set"
done
expect_files "$t/s1" sum.npy variance.npy mean_pattern.npy stats.json
# the beam's arrays are in the same set
mkdir -p "$t/bb/beam_measured.npy"
run "$lcae" stats "$t/sim/scan_x8_y8.raw" -o "$t/bb" -q
expect_rc 1 "a folder in beam_measured.npy's place"; one_line_error "beam folder in place"
expect_files "$t/bb" beam_measured.npy
LCAE_TEST_FAIL_RENAME=6 run "$lcae" stats "$t/sim/scan_x8_y8.raw" -o "$t/bc" -q
expect_rc 1 "sixth rename (beam_measured.npy) fails"
expect_files "$t/bc"

if [ $fails -gt 0 ]; then echo "cli_stats: $fails failed" >&2; exit 1; fi
echo "cli_stats: all passed"
