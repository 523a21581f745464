#!/usr/bin/env bash
# lcae simulate's low-dose setting on the command line: --preset lowdose writes scan.npy,
# (ny, nx, 64, 64) uint16 counts, which numpy reads on its own (/usr/bin/python3; Debian's
# python3-numpy, which `scripts/install-deps test` installs) and lcae info reads as npy;
# explicit options override the preset whatever their place (--det, --output-format,
# --no-counting); the same bytes on 1 and 2 threads; bad input and exit status. Without
# numpy the numpy checks are reported as skipped (exit 77), after all the others ran
# (under CI: a failure).
# (The counting statistics are checked in test_sim.c.)
lcae=$1
t=$(mktemp -d /tmp/lcae-cli-sim-lowdose-XXXXXX)
source "${LCAE_SOURCE_DIR:?run through ctest}/tests/shell_helpers.sh"

# --- the setting at the third party's shape: 32 x 32 positions of 64 x 64 uint16
d=$t/low
run "$lcae" simulate -o "$d" --preset lowdose --scan 32 -q
expect_rc 0 "simulate --preset lowdose"
for f in scan.npy truth.json truth_grain.npy truth_class.npy truth_region.npy \
         truth_angle.npy truth_thickness.npy; do
  [ -s "$d/$f" ] || fail "lowdose: no $f"
done
ls "$d" | grep -q '\.raw$\|\.xml$\|tmp' && fail "lowdose: EMPAD or temporary files: $(ls "$d")"
# a 128-byte npy header, then 32 * 32 * 64 * 64 uint16
[ "$(stat -c %s "$d/scan.npy")" = $((128 + 32 * 32 * 64 * 64 * 2)) ] || fail "scan.npy size"
tr -d ' \t\n' <"$d/truth.json" | grep -q '"scan_file":"scan.npy","scan_format":"npy","scan_dtype":"uint16"' &&
  tr -d ' \t\n' <"$d/truth.json" | grep -q '"detector_model":{"type":"counting","max_count":65535' ||
  fail "truth.json does not record the setting"
run "$lcae" info "$d/scan.npy" --json -q
expect_rc 0 "info on scan.npy"
grep -q '"format":"npy"' "$t/out" && grep -q '"scan":\[32,32\]' "$t/out" &&
  grep -q '"detector":\[64,64\]' "$t/out" && grep -q '"dtype":"uint16"' "$t/out" ||
  fail "info: $out"
# most pixels are zero: sigma68 is 0, the normalization's scale is the standard deviation
grep -q '"sigma68":0,"scale":[0-9.e-]*[1-9][0-9.e-]*,"norm":"std"' "$t/out" ||
  fail "info: the sparse scan's normalization is not the standard deviation: $out"

# --- every option given overrides the preset, before or after it
e=$t/empad
run "$lcae" simulate -o "$e" --output-format empad --det 32 --preset lowdose --scan 4x3 -q
expect_rc 0 "lowdose with EMPAD output"
[ "$(stat -c %s "$e/scan_x3_y4.raw")" = $((12 * 34 * 32 * 4)) ] && [ -s "$e/scan_x3_y4.xml" ] &&
  [ ! -e "$e/scan.npy" ] || fail "lowdose --output-format empad --det 32: $(ls "$e")"
f=$t/float
run "$lcae" simulate -o "$f" --preset lowdose --no-counting --scan 4x3 -q
expect_rc 0 "lowdose without counting"
[ "$(stat -c %s "$f/scan.npy")" = $((128 + 12 * 64 * 64 * 4)) ] || fail "float32 scan.npy size"

# --- the same bytes with 1 and 2 threads
"$lcae" simulate -o "$t/th1" --preset lowdose --scan 12x10 --batch 7 --threads 1 -q &&
  "$lcae" simulate -o "$t/th2" --preset lowdose --scan 12x10 --threads 2 -q ||
  fail "simulate with --threads"
cmp -s "$t/th1/scan.npy" "$t/th2/scan.npy" && cmp -s "$t/th1/truth.json" "$t/th2/truth.json" ||
  fail "scan.npy or truth.json differ between 1 and 2 threads"

# --- bad input: one line naming the option, exit 2, nothing written
for bad in "--preset high" "--preset=" "--output-format tiff" "--counting" \
           "--preset lowdose --readout-noise 0.5" "--preset lowdose --gain 2"; do
  run "$lcae" simulate -o "$t/x" --scan 2 $bad -q
  expect_rc 2 "simulate $bad"
  one_line_error "simulate $bad"
done
grep -q -- "--gain" "$t/err" || fail "--gain with counting: message names the option: $err"
run "$lcae" simulate -o "$t/x" --scan 2 --preset high -q
grep -q -- "--preset: expected default or lowdose, found 'high'" "$t/err" ||
  fail "unknown preset: $err"
run "$lcae" simulate -o "$t/x" --scan 2 --counting -q
grep -q -- "--gain-spread" "$t/err" || fail "--counting alone: message names --gain-spread: $err"
[ -e "$t/x" ] && fail "bad input: something written: $(ls "$t/x")"

# --- numpy reads scan.npy on its own
if ! /usr/bin/python3 -c "import numpy" 2>/dev/null; then
  [ "$fails" = 0 ] || exit 1
  missing "the numpy checks (/usr/bin/python3 has no numpy: apt-get install python3-numpy)"
fi
run /usr/bin/python3 - "$d/scan.npy" "$e/scan_x3_y4.raw" <<'EOF'
import sys
import numpy as np
a = np.load(sys.argv[1], mmap_mode="r")
assert a.shape == (32, 32, 64, 64) and a.dtype == np.dtype("<u2"), (a.shape, a.dtype)
s = a.reshape(32 * 32, -1).astype(np.int64).sum(axis=1)
zero = float((a == 0).mean())
# the dose, 300, plus 1-3 % (disks at det 64) and 4.5 counts of spikes on average
assert 285 < s.mean() < 315, s.mean()
assert 0.90 < zero < 0.99, zero
# the brightest pixel of the mean pattern is the direct beam, near the centre (31.5, 31.5)
# within the descan drift of 2 pixels
m = a.mean(axis=(0, 1))
y, x = np.unravel_index(int(m.argmax()), m.shape)
assert abs(y - 31.5) < 4 and abs(x - 31.5) < 4, (y, x)
# EMPAD layout: frames of 32 x 34 float32 (2 metadata rows), whole non-negative counts
e = np.fromfile(sys.argv[2], dtype="<f4").reshape(4, 3, 34, 32)
r = e[:, :, :32]
assert (r >= 0).all() and (r == np.floor(r)).all() and r.sum() > 0 and (e[:, :, 32:] == 0).all()
print("numpy: %s %s, mean count sum %.1f, %.2f %% zero" % (a.shape, a.dtype, s.mean(), 100 * zero))
EOF
expect_rc 0 "numpy reads scan.npy ($out $err)"
echo "$out"

[ "$fails" = 0 ] && echo "cli_sim_lowdose: all passed"
exit $((fails > 0))
