#!/usr/bin/env bash
# lcae features on the command line: both methods' outputs and their shapes, the JSON
# beside them, determinism, beam centring by a map, clustering the result, bad input
# (exit status 2 for misuse, 1 for a failure, one line on stderr, nothing written).
# (The numbers are checked against numpy in test_features.c.)
lcae=$1
src=${LCAE_SOURCE_DIR:?run through ctest}
t=$(mktemp -d /tmp/lcae-cli-features-XXXXXX)
source "$src/tests/shell_helpers.sh"
scan=$src/tests/fixtures/features/scan.npy # 8 x 10 positions of 32 x 32 uint16 counts

# npy_f32 FILE SHAPE N BYTES: a float32 .npy of shape SHAPE ("(8, 10, 2)") holding N
# copies of the 4 little-endian BYTES (printf escapes)
npy_f32() {
  local hdr="{'descr': '<f4', 'fortran_order': False, 'shape': $2, }"
  local pad=$(( (64 - (10 + ${#hdr} + 1) % 64) % 64 ))
  hdr="$hdr$(printf '%*s' $pad '')"
  local hl=$(( ${#hdr} + 1 ))
  {
    printf '\x93NUMPY\x01\x00'
    printf "\\x$(printf %02x $((hl & 255)))\\x$(printf %02x $((hl >> 8)))"
    printf '%s\n' "$hdr"
    for ((i = 0; i < $3; i++)); do printf "$4"; done
  } >"$1"
}
# npy_shape FILE: the shape in a .npy header
npy_shape() { head -c 128 "$1" | grep -ao "'shape': ([0-9, ]*)" | sed "s/'shape': //"; }

# --- polar (default 10 dimensions) and pca, bin 2: 16 x 16 prepared patterns, uncentred
# (centring is below)
run "$lcae" features "$scan" --method polar --bin 2 --center none -o "$t/polar.npy"
expect_rc 0 "polar"
[ "$(npy_shape "$t/polar.npy")" = "(80, 10)" ] || fail "polar shape: $(npy_shape "$t/polar.npy")"
head -c 64 "$t/polar.npy" | grep -aq "'descr': '<f4'" || fail "polar: not float32"
[ -s "$t/polar.json" ] || fail "polar: no polar.json"
for key in '"method":	"polar"' '"r0":	1' '"r1":	6' '"n_theta":	40' '"solver":	"covariance"' \
           '"explained_variance_ratio":' '"transform":	"log"' '"bin":	2'; do
  grep -q "$key" "$t/polar.json" || fail "polar.json: no $key"
done
grep -q 'pass 2 of 2' "$t/err" || fail "polar: no progress: $err"
grep -q "wrote $t/polar.npy (80 x 10 float32) and $t/polar.json" "$t/err" ||
  fail "polar: no summary: $err"
ls "$t" | grep -q tmp && fail "temporary files left: $(ls "$t")"

run "$lcae" features "$scan" --method pca --bin 2 --dims 4 -o "$t/pca.npy" -q
expect_rc 0 "pca"
[ -z "$err" ] || fail "pca -q printed: $err"
[ "$(npy_shape "$t/pca.npy")" = "(80, 4)" ] || fail "pca shape"
grep -q '"row_dims":	256' "$t/pca.json" || fail "pca.json: row_dims"
run "$lcae" features "$scan" --method pca --bin 2 --dims 4 --solver randomized --seed 3 \
  --power-iterations 1 -o "$t/pcar.npy" -q
expect_rc 0 "pca randomized"
grep -q '"passes":	5' "$t/pcar.json" && grep -q '"seed":	3' "$t/pcar.json" ||
  fail "pcar.json: passes and seed"
# the magnitudes themselves: 6 rings (1..6) x 7 orders
run "$lcae" features "$scan" --method polar --bin 2 --dims 0 -o "$t/mags.npy" -q
expect_rc 0 "polar --dims 0"
[ "$(npy_shape "$t/mags.npy")" = "(80, 42)" ] || fail "magnitudes shape"
grep -q '"pca"' "$t/mags.json" && fail "mags.json: a pca section without PCA"
run "$lcae" features "$scan" --method polar --bin 2 --radii 0:7 --orders 3 --n-theta 24 \
  --standardize --transform sqrt --offset 1 -o "$t/p2.npy" -q
expect_rc 0 "polar options"
for key in '"r0":	0' '"r1":	7' '"orders":	3' '"n_theta":	24' '"standardize":	true' \
           '"transform":	"sqrt"' '"offset":	1'; do
  grep -q "$key" "$t/p2.json" || fail "p2.json: no $key"
done

# --- the same command, the same bytes
run "$lcae" features "$scan" --method polar --bin 2 --center none -o "$t/again.npy" -q
cmp -s "$t/polar.npy" "$t/again.npy" || fail "polar: not deterministic"

# --- a beam map putting every beam at the frame centre (15.5, 15.5): nothing changes
npy_f32 "$t/beam.npy" "(8, 10, 2)" 160 '\x00\x00\x78\x41'
run "$lcae" features "$scan" --method polar --bin 2 --beam-map "$t/beam.npy" -o "$t/c.npy" -q
expect_rc 0 "polar with a beam map"
cmp -s "$t/polar.npy" "$t/c.npy" || fail "centring on the centre changed the features"
grep -q '"center":	"beam"' "$t/c.json" || fail "c.json: center"
# by default the beam is found in the scan itself (lcae_beam_compute)
run "$lcae" features "$scan" --method polar --bin 2 -o "$t/found.npy" -q
expect_rc 0 "polar centred on the beam found in the scan"
grep -q '"center":	"beam"' "$t/found.json" || fail "found.json: center"

# --- the features cluster
run "$lcae" cluster "$t/polar.npy" -o "$t/labels.npy" --min-cluster-size 5 -q
expect_rc 0 "cluster the features"

# --- misuse: exit 2, one line, nothing written
bad() { # bad STATUS WHAT ARGS...: the command fails with STATUS and writes nothing
  local want=$1 what=$2
  shift 2
  rm -f "$t/x.npy" "$t/x.json"
  run "$lcae" features "$@" -q
  expect_rc "$want" "$what"
  one_line_error "$what"
  [ -e "$t/x.npy" ] || [ -e "$t/x.json" ] && fail "$what: wrote an output"
  ls "$t" | grep -q tmp && fail "$what: temporary files left"
}
bad 2 "no method" "$scan" -o "$t/x.npy"
grep -q 'the method is required' "$t/err" || fail "no method: $err"
bad 2 "unknown method" "$scan" --method svd -o "$t/x.npy"
bad 2 "no output" "$scan" --method polar
bad 2 "no scan" --method polar -o "$t/x.npy"
bad 2 "radii syntax" "$scan" --method polar --bin 2 --radii 5 -o "$t/x.npy"
bad 2 "radii outside the frame" "$scan" --method polar --bin 2 --radii 2:8 -o "$t/x.npy"
grep -q 'do not fit 16 x 16 patterns' "$t/err" || fail "radii outside: $err"
bad 2 "too few angles" "$scan" --method polar --bin 2 --orders 6 --n-theta 12 -o "$t/x.npy"
bad 2 "polar options with pca" "$scan" --method pca --orders 3 -o "$t/x.npy"
bad 2 "negative dims" "$scan" --method polar --dims -2 -o "$t/x.npy"
bad 2 "pca dims 0" "$scan" --method pca --dims 0 -o "$t/x.npy"
bad 2 "more dims than rows allow" "$scan" --method pca --bin 2 --dims 80 -o "$t/x.npy"
bad 2 "unknown transform" "$scan" --method pca --transform cube -o "$t/x.npy"
bad 2 "unknown solver" "$scan" --method pca --solver svd -o "$t/x.npy"
bad 2 "power iterations" "$scan" --method pca --power-iterations 50 -o "$t/x.npy"
bad 2 "binning" "$scan" --method pca --bin 3 -o "$t/x.npy"
bad 2 "a map but no centring" "$scan" --method polar --center none --beam-map "$t/beam.npy" \
  -o "$t/x.npy"
bad 2 "standardized randomized PCA" "$scan" --method polar --standardize \
  --solver randomized -o "$t/x.npy"

# --- failures: exit 1
bad 1 "missing scan" "$t/nothing.npy" --method polar -o "$t/x.npy"
head -c 1000 "$scan" >"$t/cut.npy"
bad 1 "truncated scan" "$t/cut.npy" --method polar -o "$t/x.npy"
npy_f32 "$t/beam3.npy" "(8, 10, 3)" 240 '\x00\x00\x78\x41'
bad 1 "beam map of the wrong shape" "$scan" --method polar --bin 2 --beam-map "$t/beam3.npy" \
  -o "$t/x.npy"
grep -q 'expected a beam map of shape (8, 10, 2)' "$t/err" || fail "beam map shape: $err"
npy_f32 "$t/beamnan.npy" "(8, 10, 2)" 160 '\x00\x00\xc0\x7f'
bad 1 "beam map of NaN" "$scan" --method polar --bin 2 --beam-map "$t/beamnan.npy" \
  -o "$t/x.npy"
# a 2 x 3 scan of 8 x 8 ones and a few twos, with one NaN pixel in pattern 4 = position
# (1, 1)
npy_f32 "$t/nan.npy" "(2, 3, 8, 8)" 384 '\x00\x00\x80\x3f'
for p in 0 65 130 195 260 325; do
  printf '\x00\x00\x00\x40' | dd of="$t/nan.npy" bs=1 seek=$((128 + p * 4)) conv=notrunc status=none
done
printf '\x00\x00\xc0\x7f' | dd of="$t/nan.npy" bs=1 seek=$((128 + (4 * 64 + 9) * 4)) \
  conv=notrunc status=none
bad 1 "NaN pixel" "$t/nan.npy" --method pca --dims 2 --transform none -o "$t/x.npy"
grep -q 'scan position (1, 1) has NaN or infinite pixels' "$t/err" || fail "NaN: $err"
# a failure leaves an earlier output as it was
cp "$t/polar.npy" "$t/keep.npy"
run "$lcae" features "$t/nan.npy" --method pca --dims 2 -o "$t/polar.npy" -q
expect_rc 1 "NaN over an old output"
cmp -s "$t/polar.npy" "$t/keep.npy" || fail "a failed run changed the old output"

[ "$fails" = 0 ] && echo "cli_features: all passed"
exit $((fails > 0))
