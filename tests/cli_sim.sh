#!/usr/bin/env bash
# lcae simulate / lcae score on the command line: the outputs and their shapes, lcae info
# and lcae stats reading the simulated scan (detector size from the .xml), scoring the
# truth against itself and a scrambled copy, --png, bad input and exit status, all or
# none of the outputs.
# (Physics, determinism and the scores' values are checked in test_sim.c, test_metrics.c.)
lcae=$1
t=$(mktemp -d /tmp/lcae-cli-sim-XXXXXX)
source "${LCAE_SOURCE_DIR:?run through ctest}/tests/shell_helpers.sh"

# --- a small sample: 12 x 10 scan, 64 x 64 detector, 5 grains
d=$t/s
run "$lcae" simulate -o "$d" --scan 12x10 --det 64 --grains 5 --seed 3 --png -q
expect_rc 0 "simulate"
for f in scan_x10_y12.raw scan_x10_y12.xml truth.json truth_grain.npy truth_class.npy \
         truth_region.npy truth_angle.npy truth_thickness.npy patterns.png truth_class.png \
         truth_region.png variance.png; do
  [ -s "$d/$f" ] || fail "simulate: no $f"
done
[ "$(stat -c %s "$d/scan_x10_y12.raw")" = $((120 * 66 * 64 * 4)) ] || fail "raw size"
ls "$d" | grep -q tmp && fail "temporary files left: $(ls "$d")"
grep -q '<detector_width>64</detector_width>' "$d/scan_x10_y12.xml" || fail "xml: detector"
grep -q '<scan_resolution_x>10</scan_resolution_x>' "$d/scan_x10_y12.xml" || fail "xml: scan"
grep -q '"phase":' "$d/truth.json" && grep -q '"scale_inv_A_per_pixel":' "$d/truth.json" ||
  fail "truth.json content"

# lcae info reads the scan: EMPAD, scan from the name/xml, detector 64 x 64 from the xml
run "$lcae" info "$d/scan_x10_y12.raw" --json -q
expect_rc 0 "info on the simulated scan"
grep -q '"format":"empad"' "$t/out" && grep -q '"scan":\[12,10\]' "$t/out" &&
  grep -q '"detector":\[64,64\]' "$t/out" || fail "info: $out"
run "$lcae" stats "$d/scan_x10_y12.raw" -o "$t/st" -q
expect_rc 0 "stats on the simulated scan"
[ -s "$t/st/variance.npy" ] || fail "stats: no variance.npy"

# --- score: the truth against itself, and against its grain map
run "$lcae" score "$d/truth_class.npy" "$d/truth_class.npy" --json -q
expect_rc 0 "score truth vs truth"
grep -Eq '"ari": ?1,' "$t/out" && grep -Eq '"ami": ?1,' "$t/out" && grep -Eq '"purity": ?1,' "$t/out" ||
  fail "score truth vs truth: $out"
# boundary recovery needs the region map: found beside TRUTH, else not given
grep -Eq '"boundary_recovery": ?[0-9]' "$t/out" ||
  fail "score: boundary recovery from truth_region.npy beside TRUTH: $out"
mkdir "$t/alone" && cp "$d/truth_class.npy" "$t/alone/"
run "$lcae" score "$d/truth_class.npy" "$t/alone/truth_class.npy" --json -q
expect_rc 0 "score without a region map"
grep -Eq '"boundary_recovery": ?null' "$t/out" || fail "score without a region map: $out"
run "$lcae" score "$d/truth_region.npy" "$d/truth_class.npy" --region "$d/truth_region.npy" -q
expect_rc 0 "score region labels"
grep -q '^boundary recovery    1.0000' "$t/out" || fail "region labels recover every boundary: $out"
run "$lcae" score "$d/truth_grain.npy" "$d/truth_class.npy" -q
expect_rc 0 "score grains vs classes"
grep -q '^purity               1.0000' "$t/out" || fail "grains are pure: $out"

# --- bad input
run "$lcae" simulate --scan 4 -q
expect_rc 2 "simulate without -o"
one_line_error "simulate without -o"
run "$lcae" simulate -o "$t/x" --dose -5 -q
expect_rc 2 "negative dose"
one_line_error "negative dose"
grep -q -- '--dose' "$t/err" || fail "negative dose: message names the option: $err"
[ -e "$t/x/scan_x128_y128.raw" ] && fail "negative dose: something written"
run "$lcae" simulate -o "$t/x" --scan 3x0 -q
expect_rc 2 "scan 3x0"
for bad in "--det 0" "--seed x" "--thickness nan" "--grains 0" "--psf 9"; do
  run "$lcae" simulate -o "$t/x" --scan 2 $bad -q
  expect_rc 2 "simulate $bad"
  one_line_error "simulate $bad"
done
echo hello >"$t/file"
run "$lcae" simulate -o "$t/file" --scan 2 --det 32 -q
expect_rc 1 "output is a file"
one_line_error "output is a file"
run "$lcae" score "$d/truth_class.npy" -q
expect_rc 2 "score with one file"
"$lcae" simulate -o "$t/o" --scan 3 --det 32 --grains 2 -q || fail "tiny sample"
run "$lcae" score "$t/o/truth_class.npy" "$d/truth_class.npy" -q
expect_rc 1 "score with different sizes"
one_line_error "score with different sizes"
run "$lcae" score "$t/nothing.npy" "$d/truth_class.npy" -q
expect_rc 1 "score with a missing file"
one_line_error "score with a missing file"

# --- the sample (scan, xml, truth) is one set, the pictures another: all or none, no
# temporary file left (failures without permissions: a folder in an output's place, the
# test hook LCAE_TEST_FAIL_RENAME)
tiny=(--scan 3 --det 32 --grains 2 -q)
sample=(scan_x3_y3.raw scan_x3_y3.xml truth.json truth_angle.npy truth_center.npy
        truth_class.npy truth_grain.npy truth_region.npy truth_thickness.npy)
mkdir -p "$t/f/truth.json"
run "$lcae" simulate -o "$t/f" "${tiny[@]}"
expect_rc 1 "a folder in truth.json's place"
one_line_error "a folder in truth.json's place"
expect_files "$t/f" truth.json
LCAE_TEST_FAIL_RENAME=4 run "$lcae" simulate -o "$t/g" "${tiny[@]}"
expect_rc 1 "fourth rename fails"
one_line_error "fourth rename fails"
expect_files "$t/g"
LCAE_TEST_FAIL_RENAME=2 run "$lcae" simulate -o "$t/g2" "${tiny[@]}" --output-format npy
expect_rc 1 "second rename fails (scan.npy)"
expect_files "$t/g2"
mkdir -p "$t/h/variance.png"
run "$lcae" simulate -o "$t/h" "${tiny[@]}" --png
expect_rc 1 "a folder in variance.png's place"
one_line_error "a folder in variance.png's place"
expect_files "$t/h" "${sample[@]}" variance.png

# the seed's default is what the help says: no --seed gives --seed 1's bytes
"$lcae" simulate --help | grep -q -- '--seed S .*(default: 1)' || fail "simulate --help: the seed's default"
"$lcae" simulate -o "$t/seed_default" --scan 4x3 --det 32 --grains 2 -q &&
  "$lcae" simulate -o "$t/seed_1" --scan 4x3 --det 32 --grains 2 --seed 1 -q &&
  cmp -s "$t/seed_default/scan_x3_y4.raw" "$t/seed_1/scan_x3_y4.raw" ||
  fail "simulate without --seed is not --seed 1"
# no command's help shows a "not given" marker as a default (an int64 extreme)
for c in simulate stats features train encode cluster score run info; do
  "$lcae" $c --help | grep -E -- 'default -?922337203685477' && fail "$c --help: a marker as default"
done

[ "$fails" = 0 ] && echo "cli_sim: all passed"
exit $((fails > 0))
