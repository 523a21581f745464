#!/usr/bin/env bash
# Failures under MPI (docs/mpi.md): bad data that only rank 1 reads stops the job with
# rank 1's one-line message (rank 0 says nothing) and a non-zero status, writing nothing;
# a rank killed while the job runs ends the job with a failure naming it, and leaves no
# output and no temporary file.
lcae=$1
t=$(mktemp -d /tmp/lcae-mpi-failure-XXXXXX)
source "${LCAE_SOURCE_DIR:?run through ctest}/tests/shell_helpers.sh"

# --- a NaN in the last pattern of a float32 scan (8 x 10 positions of 16 x 16): rank 1's
# half; written byte by byte (header, then 80 patterns of 1.0 but the last value NaN)
hdr="{'descr': '<f4', 'fortran_order': False, 'shape': (8, 10, 16, 16), }"
hdr="$hdr$(printf '%*s' $(( (64 - (10 + ${#hdr} + 1) % 64) % 64 )) '')"
{
  printf '\x93NUMPY\x01\x00'
  printf "\\x$(printf %02x $(( (${#hdr} + 1) & 255 )))\\x00"
  printf '%s\n' "$hdr"
  for ((i = 0; i < 80 * 256 - 1; i++)); do printf '\x00\x00\x80\x3f'; done
  printf '\x00\x00\xc0\x7f'
} >"$t/nan.npy"
mkdir "$t/res"
run mpi 2 "$lcae" features "$t/nan.npy" --method polar --center none -o "$t/res/f.npy" -q
[ "$rc" != 0 ] || fail "NaN on rank 1: exit 0"
lines=$(grep -c '^lcae: error: ' "$t/err")
[ "$lines" = 1 ] || fail "NaN on rank 1: expected one 'lcae: error:' line, found $lines: $err"
grep -q "^lcae: error: $t/nan.npy: the pattern at scan position (7, 9) has NaN" "$t/err" ||
  fail "NaN on rank 1: not rank 1's message: $err"
expect_files "$t/res"

# --- kill -9 of rank 1 while 2 ranks encode 4096 patterns (64 x 64 with a 16-wide model:
# several seconds; the kill comes once both ranks run)
"$lcae" simulate -o "$t/s" --scan 64x64 --det 64 --grains 4 -q || fail "simulate"
scan=$t/s/scan_x64_y64.raw
"$lcae" train "$scan" -o "$t/m.safetensors" --base 16 --steps 1 --batch 8 --subset 16 \
  --center none -q || fail "train"
mpi 2 "$lcae" encode "$scan" -m "$t/m.safetensors" -o "$t/res/z.npy" >"$t/out.txt" 2>"$t/err.txt" &
launcher=$!
# rank 1: the process of this command line whose environment says OMPI_COMM_WORLD_RANK=1
victim=""
for ((i = 0; i < 300; i++)); do
  [ -n "$victim" ] && break
  sleep 0.1
  for p in $(pgrep -f -- "-o $t/res/z.npy"); do
    tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx 'OMPI_COMM_WORLD_RANK=1' && victim=$p
  done
done
[ -n "$victim" ] || fail "rank 1 never started"
sleep 1 # both ranks load the model and start encoding
[ -n "$victim" ] && kill -9 "$victim"
wait $launcher
st=$?
[ "$st" != 0 ] || fail "rank 1 killed: mpirun exit 0"
grep -q 'rank 1' "$t/err.txt" && grep -qi 'signal 9\|killed' "$t/err.txt" ||
  fail "rank 1 killed: the failure does not say so: $(cat "$t/err.txt")"
expect_files "$t/res"
exit $((fails > 0))
