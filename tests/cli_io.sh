#!/usr/bin/env bash
# `lcae info` on good and bad scan files: bad input gives exit status 1 (2 for misuse),
# one line on stderr "lcae: error: FILE: ...", nothing on stdout, no file written.
set -u
LCAE=$1
REAL=${LCAE_SHARED_DIR:?run through ctest}/data/real
H5=${LCAE_SOURCE_DIR:?run through ctest}/tests/fixtures/hdf5
# the real detector files sit in ../shared beside the project (CI has them)
[ -d "$REAL" ] || { echo "skipped: $REAL is not beside the project"; exit 77; }
dir=$(mktemp -d /tmp/lcae-cli-io-XXXXXX)
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
fails=0

# expect STATUS SUBSTRING -- lcae args...
expect() {
    local want=$1 text=$2
    shift 3
    local before after out err st
    before=$(ls -A | sort)
    "$LCAE" "$@" >out.txt 2>err.txt
    st=$?
    out=$(cat out.txt)
    err=$(cat err.txt)
    rm -f out.txt err.txt
    after=$(ls -A | sort)
    if [ "$st" != "$want" ]; then
        echo "FAIL: lcae $*: exit $st, expected $want ($err)"; fails=$((fails + 1)); return
    fi
    [ "$want" = 0 ] && return
    if [ -n "$out" ] || [ "$(printf '%s\n' "$err" | wc -l)" != 1 ] ||
       [[ "$err" != "lcae: error: "* ]] || [[ "$err" != *"$text"* ]]; then
        echo "FAIL: lcae $*: stdout '$out', stderr '$err' (expected one line with '$text')"
        fails=$((fails + 1))
    fi
    if [ "$before" != "$after" ]; then
        echo "FAIL: lcae $*: files appeared: $after"; fails=$((fails + 1))
    fi
}

# files made here: an EMPAD scan (zeros), a truncated one, an npy with an absurd shape,
# a 3-D npy, a file of unknown format, a directory
head -c $((6 * 130 * 128 * 4)) /dev/zero >scan_x3_y2.raw
head -c $((6 * 130 * 128 * 4 - 1000)) /dev/zero >scan_x2_y3.raw
head -c $((4 * 130 * 128 * 4)) /dev/zero >frames.raw
npy() { # npy NAME DICT: a version-1 header (padded to 64 bytes) and no data
    local dict=$2 pad
    pad=$(( (64 - (10 + ${#dict} + 1) % 64) % 64 ))
    { printf '\x93NUMPY\x01\x00'; printf "\\x$(printf %02x $((${#dict} + pad + 1)))\\x00"
      printf '%s' "$dict"; printf "%${pad}s\n" ""; } >"$1"
}
npy huge.npy "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000, 4, 4), }"
npy cplx.npy "{'descr': '<c8', 'fortran_order': False, 'shape': (1, 1, 2, 2), }"
npy stack.npy "{'descr': '|u1', 'fortran_order': False, 'shape': (4, 2, 2), }"
head -c 16 /dev/zero >>stack.npy
printf 'hello' >unknown.bin
mkdir folder

# an EMPAD acquisition as the instrument names it: the .xml names the .raw
mkdir acq
head -c $((4 * 130 * 128 * 4)) /dev/zero >acq/frames.raw
cp "$REAL/empad-xml/map4x4.xml" acq/acquisition_1.xml
printf '<root><type>scan</type><pix_x>1</pix_x><pix_y>4</pix_y><raw_file filename="frames.raw"/></root>' >acq/acquisition_2.xml

# good files
expect 0 "" -- info acq/frames.raw
[ "$("$LCAE" info --json acq/frames.raw 2>/dev/null | grep -c '"scan": *\[4, *1\]')" = 1 ] ||
    { echo "FAIL: acq/frames.raw: scan shape not taken from acquisition_2.xml"; fails=$((fails + 1)); }
expect 0 "" -- info --json scan_x3_y2.raw
expect 0 "" -- info frames.raw --scan 2x2
expect 0 "" -- info stack.npy --scan 2x2
expect 0 "" -- info "$REAL/merlin-rsciio/001_4x2_6bit.mib"
expect 0 "" -- info "$REAL/merlin-rsciio/001_4x2_6bit.mib" --scan 2x4
expect 0 "" -- info "$REAL/ebsd-ni-kikuchipy/patterns.h5:/Scan 1/EBSD/Data/patterns" --scan 3x3
expect 0 "" -- info frames.raw --format raw --det 130x128 --dtype f4 --scan 4x1
expect 0 "" -- info "$REAL/arina-rsciio/test_00_data_000001.h5" --scan 4x4
expect 0 "" -- info "$REAL/arina-rsciio/test_00_master.h5:/entry/data/data_000001" --scan 4x4
expect 0 "" -- info "$H5/fpd.h5"

# failures: exit 1
expect 1 "missing.raw: cannot open (No such file or directory)" -- info missing.raw
expect 1 "folder: not a regular file" -- info folder
expect 1 "scan_x2_y3.raw: size does not fit the scan shape from the file name" -- info scan_x2_y3.raw
expect 1 "huge.npy: truncated npy data" -- info huge.npy
expect 1 "cplx.npy: unsupported npy dtype" -- info cplx.npy
expect 0 "" -- info "$REAL/merlin-rsciio/Quad_9_Frame_CounterDepth_1_Rows_256RAW.mib"
expect 1 "no object /no/such/data in the file" -- info "$REAL/ebsd-ni-kikuchipy/patterns.h5:/no/such/data"
expect 1 "several 4-D datasets (the largest pattern stack is /entry/big (4 x 3 x 16 x 16): read it as $H5/two.h5:/entry/big," -- info "$H5/two.h5"
# a filter plugin missing: HDF5_PLUGIN_PATH, an empty folder, replaces the default one
mkdir noplugins
HDF5_PLUGIN_PATH=$dir/noplugins expect 1 "bslz4_u32.h5: dataset /entry/data/data is compressed with HDF5 filter 32008 (bitshuffle), which is not installed (apt-get install bitshuffle; HDF5_PLUGIN_PATH=$dir/noplugins replaces the default plugin folder)" -- info "$H5/bslz4_u32.h5"
HDF5_PLUGIN_PATH=$dir/noplugins expect 1 "HDF5 filter 32008 (bitshuffle), which is not installed" -- info "$REAL/arina-rsciio/test_00_master.h5:/entry/data/data_000001" --scan 4x4
HDF5_PLUGIN_PATH=$dir/noplugins expect 1 "HDF5 filter 32004 (LZ4), which is not installed (apt-get install hdf5-filter-plugin;" -- info "$H5/lz4_u16.h5"
expect 1 "not an HDF5 file" -- info unknown.bin --format hdf5

# misuse: exit 2
expect 2 "the file holds 8 frames, but the scan shape from --scan is 3 x 3" -- info "$REAL/merlin-rsciio/001_4x2_6bit.mib" --scan 3x3
expect 2 "size does not fit the scan shape from --scan" -- info scan_x3_y2.raw --scan 5x5
expect 2 "unknown file format" -- info unknown.bin
expect 2 "give --scan NYxNX" -- info frames.raw
expect 2 "give --scan NYxNX" -- info stack.npy
expect 2 "--scan 3x3 does not fit the array" -- info stack.npy --scan 3x3
expect 2 "option --format" -- info scan_x3_y2.raw --format tiff
expect 2 "give --scan NYxNX" -- info "$REAL/ebsd-ni-kikuchipy/patterns.h5:/Scan 1/EBSD/Data/patterns"
expect 2 "dataset /entry/data/data is 3-D (16 patterns of 192 x 192): the scan shape is unknown (give --scan NYxNX)" -- info "$REAL/arina-rsciio/test_00_data_000001.h5"

if [ "$fails" != 0 ]; then
    echo "cli_io: $fails failures"; exit 1
fi
echo "cli_io: all passed"
