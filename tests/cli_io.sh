#!/usr/bin/env bash
# `lcae info` on good and bad scan files made here or committed (tests/fixtures/hdf5): bad
# input gives exit status 1 (2 for misuse), one line on stderr "lcae: error: FILE: ...",
# nothing on stdout, no file written. (The real detector files of ../shared:
# cli_io_real.sh.)
lcae=$1
t=$(mktemp -d /tmp/lcae-cli-io-XXXXXX)
source "${LCAE_SOURCE_DIR:?run through ctest}/tests/shell_helpers.sh"
H5=$LCAE_SOURCE_DIR/tests/fixtures/hdf5
dir=$t/w
mkdir "$dir" && cd "$dir" || exit 1

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

# good files
expect 0 "" -- info --json scan_x3_y2.raw
expect 0 "" -- info frames.raw --scan 2x2
expect 0 "" -- info stack.npy --scan 2x2
expect 0 "" -- info frames.raw --format raw --det 130x128 --dtype f4 --scan 4x1
expect 0 "" -- info "$H5/fpd.h5"

# failures: exit 1
expect 1 "missing.raw: cannot open (No such file or directory)" -- info missing.raw
expect 1 "folder: not a regular file" -- info folder
expect 1 "scan_x2_y3.raw: size does not fit the scan shape from the file name" -- info scan_x2_y3.raw
expect 1 "huge.npy: truncated npy data" -- info huge.npy
expect 1 "cplx.npy: unsupported npy dtype" -- info cplx.npy
expect 1 "several 4-D datasets (the largest pattern stack is /entry/big (4 x 3 x 16 x 16): read it as $H5/two.h5:/entry/big," -- info "$H5/two.h5"
# a filter plugin missing: HDF5_PLUGIN_PATH, an empty folder, replaces the default one
mkdir noplugins
HDF5_PLUGIN_PATH=$dir/noplugins expect 1 "bslz4_u32.h5: dataset /entry/data/data is compressed with HDF5 filter 32008 (bitshuffle), which is not installed (apt-get install bitshuffle; HDF5_PLUGIN_PATH=$dir/noplugins replaces the default plugin folder)" -- info "$H5/bslz4_u32.h5"
HDF5_PLUGIN_PATH=$dir/noplugins expect 1 "HDF5 filter 32004 (LZ4), which is not installed (apt-get install hdf5-filter-plugin;" -- info "$H5/lz4_u16.h5"
expect 1 "not an HDF5 file" -- info unknown.bin --format hdf5

# misuse: exit 2
expect 2 "size does not fit the scan shape from --scan" -- info scan_x3_y2.raw --scan 5x5
expect 2 "unknown file format" -- info unknown.bin
expect 2 "give --scan NYxNX" -- info frames.raw
expect 2 "give --scan NYxNX" -- info stack.npy
expect 2 "--scan 3x3 does not fit the array" -- info stack.npy --scan 3x3
expect 2 "option --format" -- info scan_x3_y2.raw --format tiff

if [ "$fails" != 0 ]; then
    echo "cli_io: $fails failures"; exit 1
fi
echo "cli_io: all passed"
