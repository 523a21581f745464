#!/usr/bin/env bash
# lcae cluster's outputs (labels, probabilities, outlier scores, tree) are one set,
# written all or none: when any of them cannot be written, none appears, no temporary
# file is left, and older outputs stay as they were. (The clustering itself is checked
# in test_cluster.c.) Failures without permissions (the tests may run as root): a
# missing folder, a path under a regular file, a folder in an output's place, and the
# test hook LCAE_TEST_FAIL_RENAME=K (the K-th rename of the set fails).
lcae=$1
t=$(mktemp -d /tmp/lcae-cli-cluster-XXXXXX)
source "${LCAE_SOURCE_DIR:?run through ctest}/tests/shell_helpers.sh"

# points NAME A B: a float32 (A + B, 2) .npy, A points at x = 0..A-1 and B at x >= 100+A
points() {
  perl - "$2" "$3" >"$1" <<'EOF'
my ($a, $b) = @ARGV;
my $h = sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, 2), }", $a + $b);
$h .= " " x ((64 - (10 + length($h) + 1) % 64) % 64) . "\n";
print "\x93NUMPY\x01\x00", pack("v", length $h), $h,
      pack("f<*", map { ($_ < $a ? $_ : 100 + $_, 0) } 0 .. $a + $b - 1);
EOF
}
points "$t/x.npy" 10 10
points "$t/y.npy" 12 8
opts=(--min-cluster-size 5 --min-samples 2 -q)
all() { # all DIR: every output into DIR
  echo -o "$1/L.npy" --probabilities "$1/P.npy" --outlier-scores "$1/S.npy" --tree "$1/T.csv"
}

# --- every output written
mkdir "$t/ok"
run "$lcae" cluster "$t/x.npy" $(all "$t/ok") "${opts[@]}"
expect_rc 0 "cluster"
expect_files "$t/ok" L.npy P.npy S.npy T.csv

# --- the tree cannot be written (the issue's case): no labels, no probabilities either
mkdir "$t/a"
run "$lcae" cluster "$t/x.npy" -o "$t/a/L.npy" --probabilities "$t/a/P.npy" \
  --tree "$t/missing/t.csv" "${opts[@]}"
expect_rc 1 "tree in a missing folder"
one_line_error "tree in a missing folder"
grep -q "$t/missing/t.csv: cannot create output" "$t/err" || fail "missing folder: $err"
expect_files "$t/a"
echo "a file" >"$t/file"
run "$lcae" cluster "$t/x.npy" -o "$t/a/L.npy" --outlier-scores "$t/file/S.npy" "${opts[@]}"
expect_rc 1 "outlier scores under a regular file"
expect_files "$t/a"

# --- a folder where the probabilities go: refused before any output is renamed
mkdir -p "$t/b/P.npy"
run "$lcae" cluster "$t/x.npy" $(all "$t/b") "${opts[@]}"
expect_rc 1 "a folder in the probabilities' place"
one_line_error "a folder in the probabilities' place"
grep -q "P.npy: cannot replace output (a folder is in its place); no output of the set " \
  "$t/err" || fail "folder in place: $err"
expect_files "$t/b" P.npy

# --- older outputs stay as they were when a new set fails
cp -r "$t/ok" "$t/old"
run "$lcae" cluster "$t/y.npy" $(all "$t/ok") --tree "$t/missing/t.csv" "${opts[@]}"
expect_rc 1 "new set over older outputs"
for f in L.npy P.npy S.npy T.csv; do
  cmp -s "$t/ok/$f" "$t/old/$f" || fail "older $f replaced by a failed set"
done
expect_files "$t/ok" L.npy P.npy S.npy T.csv

# --- a rename failing midway (I/O error): the new outputs are removed again ...
mkdir "$t/c"
LCAE_TEST_FAIL_RENAME=3 run "$lcae" cluster "$t/x.npy" $(all "$t/c") "${opts[@]}"
expect_rc 1 "third rename fails"
one_line_error "third rename fails"
grep -q "S.npy: cannot replace output (Input/output error); no output of the set written" \
  "$t/err" || fail "midway: $err"
expect_files "$t/c"
# ... and over older outputs, those already replaced are named
LCAE_TEST_FAIL_RENAME=2 run "$lcae" cluster "$t/y.npy" $(all "$t/ok") "${opts[@]}"
expect_rc 1 "second rename fails over older outputs"
grep -q "1 older output of the set already replaced by the new one ($t/ok/L.npy)" "$t/err" ||
  fail "midway over older outputs: $err"
cmp -s "$t/ok/L.npy" "$t/old/L.npy" && fail "L.npy should be the new one"
for f in P.npy S.npy T.csv; do
  cmp -s "$t/ok/$f" "$t/old/$f" || fail "older $f replaced after the failed rename"
done
expect_files "$t/ok" L.npy P.npy S.npy T.csv

# --- min_cluster_size: scaled with the points unless given (20 points: at least 5)
mkdir "$t/m"
run "$lcae" cluster "$t/x.npy" -o "$t/m/L.npy" --min-samples 2
expect_rc 0 "scaled min_cluster_size"
grep -q "20 points, min_cluster_size 5 (scaled with the points), 2 clusters" "$t/err" ||
  fail "scaled min_cluster_size: $err"
run "$lcae" cluster "$t/x.npy" -o "$t/m/L.npy" --min-samples 2 --min-cluster-size 7
grep -q "min_cluster_size 7 (given), 2 clusters" "$t/err" || fail "given min_cluster_size: $err"
for v in 0 1 -3; do # 0 is the library's "scaled": not a size to give
  run "$lcae" cluster "$t/x.npy" -o "$t/m/L.npy" --min-cluster-size "$v"
  expect_rc 2 "--min-cluster-size $v"
  one_line_error "--min-cluster-size $v"
  grep -q -- "option --min-cluster-size: expected 2 or more, found $v" "$t/err" ||
    fail "--min-cluster-size $v: $err"
done
expect_files "$t/m" L.npy

# --- --assign-noise: LABELS_full.npy beside the labels, noise given its nearest cluster
# (mutual reachability); the labels keep their noise. Two groups of 10 on a line, and a
# point beyond each, farther than the groups are apart: noise (rows 10 and 21).
coords() { # coords NAME X...: a float32 (count, 2) .npy of the points (X, 0)
  local name=$1
  shift
  perl - "$@" >"$name" <<'EOF'
my $h = sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, 2), }", scalar @ARGV);
$h .= " " x ((64 - (10 + length($h) + 1) % 64) % 64) . "\n";
print "\x93NUMPY\x01\x00", pack("v", length $h), $h, pack("f<*", map { ($_, 0) } @ARGV);
EOF
}
i32() { # i32 FILE: the values of a 1-D int32 .npy, space-separated
  local hl
  hl=$(od -An -t u2 -j 8 -N 2 "$1" | tr -d ' ')
  od -An -v -t d4 -j $((10 + hl)) "$1" | tr -s ' \n' ' ' | sed 's/^ //; s/ $//'
}
coords "$t/w.npy" 0 1 2 3 4 5 6 7 8 9 -200 100 101 102 103 104 105 106 107 108 109 400
mkdir "$t/f"
run "$lcae" cluster "$t/w.npy" -o "$t/f/L.npy" --assign-noise "${opts[@]}"
expect_rc 0 "--assign-noise"
expect_files "$t/f" L.npy L_full.npy
[ "$(i32 "$t/f/L.npy")" = "0 0 0 0 0 0 0 0 0 0 -1 1 1 1 1 1 1 1 1 1 1 -1" ] ||
  fail "--assign-noise: labels $(i32 "$t/f/L.npy")"
[ "$(i32 "$t/f/L_full.npy")" = "0 0 0 0 0 0 0 0 0 0 0 1 1 1 1 1 1 1 1 1 1 1" ] ||
  fail "--assign-noise: full map $(i32 "$t/f/L_full.npy")"
run "$lcae" cluster "$t/w.npy" -o "$t/f/labels" --assign-noise "${opts[@]}"
expect_files "$t/f" L.npy L_full.npy labels labels_full.npy
# one set with the other outputs: a tree that cannot be written leaves no full map
mkdir "$t/g"
run "$lcae" cluster "$t/w.npy" -o "$t/g/L.npy" --assign-noise --tree "$t/missing/t.csv" \
  "${opts[@]}"
expect_rc 1 "--assign-noise, tree in a missing folder"
expect_files "$t/g"
run "$lcae" cluster "$t/w.npy" -o "$t/g/L.npy" --assign-noise=yes "${opts[@]}"
expect_rc 2 "--assign-noise with a value"
one_line_error "--assign-noise with a value"

# --- --smooth: the fixture map (tests/fixtures/smooth, 7 x 9 positions, two NaN rows)
# smoothed 3 x 3 clusters as the fixture's own smoothed map (scipy's) does
fx=$LCAE_SOURCE_DIR/tests/fixtures/smooth
sopts=(--min-cluster-size 5 --nonfinite noise)
mkdir "$t/s"
run "$lcae" cluster "$fx/smooth3.npy" -o "$t/s/want.npy" "${sopts[@]}" -q
run "$lcae" cluster "$fx/map.npy" -o "$t/s/L.npy" --smooth on --scan 7x9 "${sopts[@]}"
expect_rc 0 "--smooth on"
grep -q "feature noise share 0.0150: features smoothed 3 x 3" "$t/err" ||
  fail "--smooth on: note $err"
[ "$(i32 "$t/s/L.npy")" = "$(i32 "$t/s/want.npy")" ] || fail "--smooth on: labels differ"
run "$lcae" cluster "$fx/map.npy" -o "$t/s/A.npy" --smooth auto --scan 7x9 "${sopts[@]}"
grep -q "feature noise share 0.0150: features not smoothed" "$t/err" ||
  fail "--smooth auto: note $err"
run "$lcae" cluster "$fx/map.npy" -o "$t/s/L.npy" --smooth on "${sopts[@]}"
expect_rc 2 "--smooth without --scan"
grep -q "needs the scan's shape" "$t/err" || fail "--smooth without --scan: $err"
run "$lcae" cluster "$fx/map.npy" -o "$t/s/L.npy" --smooth on --scan 8x9 "${sopts[@]}"
expect_rc 1 "--scan of another size"
one_line_error "--scan of another size"
grep -q "map.npy: expected 72 rows (a 8 x 9 scan) to smooth, found 63" "$t/err" ||
  fail "--scan of another size: $err"
run "$lcae" cluster "$fx/map.npy" -o "$t/s/L.npy" --smooth maybe --scan 7x9
expect_rc 2 "--smooth maybe"
run "$lcae" cluster "$fx/map.npy" -o "$t/s/L.npy" --smooth on --smooth-size 4 --scan 7x9
expect_rc 2 "--smooth-size 4"
one_line_error "--smooth-size 4"

# --- --fill-radius: LABELS_filled.npy beside the labels, as tools/fill_reference.py
# (numpy/scipy) fills the labels written; it needs --scan
run "$lcae" cluster "$fx/map.npy" -o "$t/s/F.npy" --smooth on --scan 7x9 --fill-radius 1 \
  "${sopts[@]}"
expect_rc 0 "--fill-radius 1"
grep -q "filled map $t/s/F_filled.npy: 2 regions kept" "$t/err" || fail "--fill-radius: $err"
/usr/bin/python3 "$LCAE_SOURCE_DIR/tools/fill_reference.py" "$t/s/F.npy" 7 9 1 "$t/s/want_filled.npy" \
  "$t/s/want_grains.npy"
[ "$(i32 "$t/s/F_filled.npy")" = "$(i32 "$t/s/want_filled.npy")" ] ||
  fail "--fill-radius: filled map differs from scipy's"
# ... and its grain map LABELS_grains.npy: scipy's connected pieces of the filled map
[ "$(i32 "$t/s/F_grains.npy")" = "$(i32 "$t/s/want_grains.npy")" ] ||
  fail "--fill-radius: grain map differs from scipy's"
grep -q "grain map $t/s/F_grains.npy: [0-9]* grains" "$t/err" || fail "--fill-radius: no grain map line: $err"
run "$lcae" cluster "$fx/map.npy" -o "$t/s/G.npy" --fill-radius 2 "${sopts[@]}"
expect_rc 2 "--fill-radius without --scan"
grep -q "option --fill-radius 2: needs the scan's shape" "$t/err" ||
  fail "--fill-radius without --scan: $err"
[ ! -e "$t/s/G.npy" ] || fail "--fill-radius without --scan: labels written"
run "$lcae" cluster "$fx/map.npy" -o "$t/s/G.npy" --fill-radius -1 --scan 7x9
expect_rc 2 "--fill-radius -1"
one_line_error "--fill-radius -1"

if [ $fails -gt 0 ]; then echo "cli_cluster: $fails failed" >&2; exit 1; fi
echo "cli_cluster: all passed"
