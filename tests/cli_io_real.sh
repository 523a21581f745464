#!/usr/bin/env bash
# `lcae info` on the real detector files of tests/fixtures/shared/data/real (a copy of
# ../shared's): good files open, bad ones give exit status 1 (2 for misuse), one line on
# stderr "lcae: error: FILE: ...", nothing on stdout, no file written.
lcae=$1
t=$(mktemp -d /tmp/lcae-cli-io-real-XXXXXX)
source "${LCAE_SOURCE_DIR:?run through ctest}/tests/shell_helpers.sh"
REAL=${LCAE_SHARED_DIR:?run through ctest}/data/real
[ -d "$REAL" ] || missing "the real detector files: $REAL is not beside the project"
dir=$t/w
mkdir "$dir" && cd "$dir" || exit 1

# an EMPAD acquisition as the instrument names it: the .xml names the .raw
mkdir acq
head -c $((4 * 130 * 128 * 4)) /dev/zero >acq/frames.raw
cp "$REAL/empad-xml/map4x4.xml" acq/acquisition_1.xml
printf '<root><type>scan</type><pix_x>1</pix_x><pix_y>4</pix_y><raw_file filename="frames.raw"/></root>' >acq/acquisition_2.xml

# good files
expect 0 "" -- info acq/frames.raw
[ "$("$lcae" info --json acq/frames.raw 2>/dev/null | grep -c '"scan": *\[4, *1\]')" = 1 ] ||
    fail "acq/frames.raw: scan shape not taken from acquisition_2.xml"
expect 0 "" -- info "$REAL/merlin-rsciio/001_4x2_6bit.mib"
expect 0 "" -- info "$REAL/merlin-rsciio/001_4x2_6bit.mib" --scan 2x4
expect 0 "" -- info "$REAL/ebsd-ni-kikuchipy/patterns.h5:/Scan 1/EBSD/Data/patterns" --scan 3x3
expect 0 "" -- info "$REAL/arina-rsciio/test_00_data_000001.h5" --scan 4x4
expect 0 "" -- info "$REAL/arina-rsciio/test_00_master.h5:/entry/data/data_000001" --scan 4x4

# failures: exit 1
expect 0 "" -- info "$REAL/merlin-rsciio/Quad_9_Frame_CounterDepth_1_Rows_256RAW.mib"
expect 1 "no object /no/such/data in the file" -- info "$REAL/ebsd-ni-kikuchipy/patterns.h5:/no/such/data"
# a filter plugin missing: HDF5_PLUGIN_PATH, an empty folder, replaces the default one
mkdir noplugins
HDF5_PLUGIN_PATH=$dir/noplugins expect 1 "HDF5 filter 32008 (bitshuffle), which is not installed" -- info "$REAL/arina-rsciio/test_00_master.h5:/entry/data/data_000001" --scan 4x4

# misuse: exit 2
expect 2 "the file holds 8 frames, but the scan shape from --scan is 3 x 3" -- info "$REAL/merlin-rsciio/001_4x2_6bit.mib" --scan 3x3
expect 2 "give --scan NYxNX" -- info "$REAL/ebsd-ni-kikuchipy/patterns.h5:/Scan 1/EBSD/Data/patterns"
expect 2 "dataset /entry/data/data is 3-D (16 patterns of 192 x 192): the scan shape is unknown (give --scan NYxNX)" -- info "$REAL/arina-rsciio/test_00_data_000001.h5"

if [ "$fails" != 0 ]; then
    echo "cli_io_real: $fails failures"; exit 1
fi
echo "cli_io_real: all passed"
