/* libFuzzer: lcae's own HDF5 code - FILE:/path parsing, the path walk, the dataset
 * search and its listing, shape checks, hyperslab reads - on a fixed, valid file built
 * at start-up. The input is the path inside the file (first byte: --scan choice). The
 * file's bytes are NOT fuzzed: the HDF5 library is not robust to hostile files (many
 * published crashes in its format parsers), so fuzzing it here would test HDF5, not
 * lcae. */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_io_util.h"

static char file[256];

static void dataset(hid_t f, const char *name, int rank, const hsize_t *dims, int chunked)
{
    hsize_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= dims[i];
    float *v = calloc(n, sizeof *v);
    hid_t s = H5Screate_simple(rank, dims, NULL);
    hid_t p = H5Pcreate(H5P_DATASET_CREATE);
    if (chunked) {
        hsize_t c[4] = {1, 1, dims[rank - 2], dims[rank - 1]};
        H5Pset_chunk(p, rank, c + 4 - rank);
        H5Pset_deflate(p, 1);
    }
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t d = H5Dcreate2(f, name, H5T_STD_U16BE, s, lcpl, p, H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    H5Dclose(d);
    H5Pclose(lcpl);
    H5Pclose(p);
    H5Sclose(s);
    free(v);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    snprintf(file, sizeof file, "/dev/shm/lcae-fuzz-h5-%d.h5", (int)getpid());
    hid_t f = H5Fcreate(file, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t a[4] = {3, 4, 5, 6}, b[3] = {6, 5, 4}, c[2] = {7, 7}, d[1] = {9};
    hsize_t e[5] = {2, 1, 3, 4, 4}; /* 4-D once squeezed: the bare file has two */
    dataset(f, "/root/datacube/data", 4, a, 1);
    dataset(f, "/fpd/data", 5, e, 0);
    dataset(f, "/root/stack", 3, b, 0);
    dataset(f, "/image", 2, c, 0);
    dataset(f, "/g/h/vector", 1, d, 0);
    H5Lcreate_soft("/root/stack", f, "/soft", H5P_DEFAULT, H5P_DEFAULT);
    H5Lcreate_external("elsewhere.h5", "/x", f, "/external", H5P_DEFAULT, H5P_DEFAULT);
    H5Fclose(f);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 400)
        return 0;
    char spec[700];
    int k = snprintf(spec, sizeof spec, "%s:", file);
    lcae_open_options o = {.format = LCAE_FMT_HDF5};
    if (size > 0) {
        /* first byte: no --scan, or a scan shape that fits or not */
        o.scan_ny = data[0] % 4;
        o.scan_nx = data[0] / 4 % 8;
        data++, size--;
    }
    memcpy(spec + k, data, size);
    spec[k + size] = 0;
    if (spec[k] == 0) /* no path: the bare file */
        spec[k - 1] = 0;
    lcae_dataset *ds;
    if (lcae_dataset_open(spec, &o, &ds) == 0) {
        fuzz_read_all(ds);
        lcae_dataset_close(ds);
    }
    return 0;
}
