/* HDF5 files lcae did not write (tests/fixtures/hdf5, written by h5py + hdf5plugin in
 * tools/make_hdf5_fixtures.py): bitshuffle/LZ4, LZ4 and bzip2 compression through the
 * system's filter plugins, fpd's (ny, nx, 1, h, w) layout read as 4-D, a (n, 1, 1, h, w)
 * stack read as 3-D with --scan, and a file whose two 4-D datasets lcae will not choose
 * between. Values are compared with the script's definition, recomputed here; with
 * plugin loading switched off, each filter's one-line error names it and its package. */
#include <hdf5.h>

#include "io/dataset_internal.h"
#include "test_util.h"
#include "io_check.h"

static char path[600];

static const char *fixture(const char *name)
{
    snprintf(path, sizeof path, "%s/tests/fixtures/hdf5/%s", test_env("LCAE_SOURCE_DIR"),
             name);
    return path;
}

/* tools/make_hdf5_fixtures.py: value i of a dataset (C order) is (i * 40503 + k) % m,
 * m 65536 for uint16 and 16777213 for uint32 */
static float fixture_value(int64_t i, int k, lcae_dtype t)
{
    int64_t m = t == LCAE_DT_U16 ? 65536 : 16777213;
    return (float)((i * 40503 + k) % m);
}

/* Opens spec, checks the shape and dtype, reads every pattern in two batches (the first
 * ends mid-row: hyperslabs of a partial row, whole rows, a partial row) and compares. */
static void check_fixture(const char *spec, const lcae_open_options *o, int64_t ny,
                          int64_t nx, int64_t h, int64_t w, lcae_dtype t, int k)
{
    lcae_dataset *ds = open_checked(spec, o, LCAE_FMT_HDF5, ny, nx, h, w, t);
    if (!ds)
        return;
    int64_t n = ny * nx, px = h * w, cut = nx + 1;
    float *buf = malloc(sizeof(float) * (size_t)(n * px));
    CHECK(lcae_dataset_read(ds, 0, cut, buf) == 0);
    CHECK(lcae_dataset_read(ds, cut, n - cut, buf + cut * px) == 0);
    int64_t bad = 0;
    for (int64_t i = 0; i < n * px; i++)
        bad += buf[i] != fixture_value(i, k, t);
    CHECK_MSG(bad == 0, "%s: %lld of %lld values differ", spec, (long long)bad,
              (long long)(n * px));
    free(buf);
    lcae_dataset_close(ds);
}

/* Run first: a plugin once loaded stays registered in the process. */
static void test_missing_filters(void)
{
    CHECK(H5PLset_loading_state(0) >= 0); /* as if no plugin were installed */
    check_error(fixture("bslz4_u32.h5"), NULL, "bslz4_u32.h5: dataset /entry/data/data is "
                "compressed with HDF5 filter 32008 (bitshuffle), which is not installed "
                "(apt-get install bitshuffle)");
    check_error(fixture("lz4_u16.h5"), NULL, "lz4_u16.h5: dataset /data is compressed with "
                "HDF5 filter 32004 (LZ4), which is not installed (apt-get install "
                "hdf5-filter-plugin)");
    char spec[700];
    snprintf(spec, sizeof spec, "%s:/entry/small", fixture("two.h5"));
    check_error(spec, NULL, "HDF5 filter 307 (bzip2), which is not installed (apt-get "
                "install hdf5-filter-plugin)");
    CHECK(H5PLset_loading_state(H5PL_ALL_PLUGIN) >= 0);
}

static void test_fixtures(void)
{
    check_fixture(fixture("bslz4_u32.h5"), NULL, 4, 3, 16, 16, LCAE_DT_U32, 1);
    check_fixture(fixture("lz4_u16.h5"), NULL, 4, 3, 16, 16, LCAE_DT_U16, 2);
    /* fpd: the only 4-D dataset once squeezed (the 3-D-when-squeezed stack aside) */
    check_fixture(fixture("fpd.h5"), NULL, 4, 3, 16, 16, LCAE_DT_U16, 3);
    lcae_open_options o = {.scan_ny = 4, .scan_nx = 3};
    char spec[700];
    snprintf(spec, sizeof spec, "%s:/stack", fixture("fpd.h5"));
    check_fixture(spec, &o, 4, 3, 16, 16, LCAE_DT_U16, 6);
    check_error(spec, NULL, "dataset /stack is 3-D without its size-1 dimensions (12 "
                "patterns of 16 x 16): the scan shape is unknown (give --scan NYxNX)");
    o.scan_ny = 2;
    check_error(spec, &o, "--scan 2x3 does not fit dataset /stack (expected 6 patterns, "
                "found 12)");
    snprintf(spec, sizeof spec, "%s:/fpd_expt/fpd_data/data", fixture("fpd.h5"));
    check_error(spec, &o, "--scan 2x3 does not match dataset /fpd_expt/fpd_data/data's scan "
                "shape (4 x 3)");
    snprintf(spec, sizeof spec, "%s:/fpd_expt/fpd_sum_im/data", fixture("fpd.h5"));
    check_error(spec, NULL, "dataset /fpd_expt/fpd_sum_im/data has 2 dimensions");

    /* two 4-D datasets: the error names the larger and how to read it */
    char two[600], want[1500];
    snprintf(two, sizeof two, "%s", fixture("two.h5"));
    snprintf(want, sizeof want, "%s: several 4-D datasets (the largest pattern stack is "
             "/entry/big (4 x 3 x 16 x 16): read it as %s:/entry/big, or name another as "
             "FILE:/path; candidates: /entry/big (4 x 3 x 16 x 16), /entry/small (2 x 2 x 8 "
             "x 8))", two, two);
    check_error(two, NULL, want);
    snprintf(spec, sizeof spec, "%s:/entry/big", two);
    check_fixture(spec, NULL, 4, 3, 16, 16, LCAE_DT_U16, 7);
    snprintf(spec, sizeof spec, "%s:/entry/small", two);
    check_fixture(spec, NULL, 2, 2, 8, 8, LCAE_DT_U16, 8);
}

int main(void)
{
    test_missing_filters();
    test_fixtures();
    return test_done("test_io_hdf5");
}
