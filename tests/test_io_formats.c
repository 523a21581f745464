/* Round trips through lcae_dataset_open/read for every input format: files written by
 * the independent helpers in io_writers.h (every dtype, both byte orders, npy versions
 * 1-3, EMPAD with and without its XML, Merlin single and quad, HDF5 contiguous, chunked
 * + gzip, py4DSTEM- and EMD-like layouts, size-1 dimensions), read back and compared value by value with
 * the values the helpers wrote. */
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "io/dataset_internal.h"
#include "io_writers.h"
#include "test_util.h"
#include "io_check.h"

static char path[512];

static const char *tmp(const char *name)
{
    snprintf(path, sizeof path, "%s/%s", test_tmpdir(), name);
    return path;
}

/* Opens `spec` with the options, checks shapes and dtype, reads every pattern (in two
 * uneven batches, from two threads' worth of calls) and compares with value(t, i). */
static void check_scan(const char *spec, const lcae_open_options *o, lcae_format fmt,
                       int64_t ny, int64_t nx, int64_t h, int64_t w, lcae_dtype t)
{
    lcae_dataset *ds = open_checked(spec, o, (int)fmt, ny, nx, h, w, t);
    if (!ds)
        return;
    CHECK_MSG(lcae_dataset_get_info(ds)->count == ny * nx, "%s: count %lld", spec,
              (long long)lcae_dataset_get_info(ds)->count);
    int64_t n = ny * nx, px = h * w;
    float *buf = malloc(sizeof(float) * (size_t)(n * px));
    /* a batch that starts and ends mid-row, then the rest */
    int64_t cut = n > 2 ? n / 2 + 1 : 1;
    CHECK(lcae_dataset_read(ds, 0, cut, buf) == 0);
    CHECK(lcae_dataset_read(ds, cut, n - cut, buf + cut * px) == 0);
    int64_t bad = 0;
    for (int64_t i = 0; i < n * px; i++)
        if (buf[i] != (float)tw_value(t, i))
            bad++;
    CHECK_MSG(bad == 0, "%s: %lld of %lld values differ", spec, (long long)bad,
              (long long)(n * px));
    /* a single pattern in the middle */
    if (n > 3) {
        CHECK(lcae_dataset_read(ds, 3, 1, buf) == 0);
        CHECK(buf[5] == (float)tw_value(t, 3 * px + 5));
    }
    free(buf);
    lcae_dataset_close(ds);
}

static void test_npy(void)
{
    const lcae_dtype types[] = {LCAE_DT_U8, LCAE_DT_U16, LCAE_DT_U32, LCAE_DT_I16,
                                LCAE_DT_I32, LCAE_DT_F32, LCAE_DT_F64};
    int k = 0;
    for (size_t ti = 0; ti < sizeof types / sizeof *types; ti++)
        for (int big = 0; big < 2; big++)
            for (int version = 1; version <= 3; version++, k++) {
                char name[64];
                snprintf(name, sizeof name, "scan_%s_%d_v%d.npy", lcae_dtype_name(types[ti]),
                         big, version);
                int64_t shape4[4] = {3, 5, 4, 6};
                CHECK(tw_npy(tmp(name), types[ti], big, version, 4, shape4, 0) == 0);
                check_scan(path, NULL, LCAE_FMT_NPY, 3, 5, 4, 6, types[ti]);
                /* 3-D with --scan (one case per dtype is enough) */
                if (version == 2) {
                    int64_t shape3[3] = {6, 7, 3};
                    snprintf(name, sizeof name, "stack_%s_%d.npy", lcae_dtype_name(types[ti]),
                             big);
                    CHECK(tw_npy(tmp(name), types[ti], big, version, 3, shape3, 0) == 0);
                    lcae_open_options o = {.scan_ny = 2, .scan_nx = 3};
                    check_scan(path, &o, LCAE_FMT_NPY, 2, 3, 7, 3, types[ti]);
                }
            }
    /* the extension does not matter: the content says npy; --format npy also works */
    int64_t shape4[4] = {2, 2, 3, 3};
    CHECK(tw_npy(tmp("noext_npy"), LCAE_DT_U16, 1, 1, 4, shape4, 0) == 0);
    check_scan(path, NULL, LCAE_FMT_NPY, 2, 2, 3, 3, LCAE_DT_U16);
    lcae_open_options o = {.format = LCAE_FMT_NPY};
    check_scan(path, &o, LCAE_FMT_NPY, 2, 2, 3, 3, LCAE_DT_U16);
}

static void test_empad(void)
{
    /* 1. the shape from the file name */
    CHECK(tw_empad(tmp("scan_x3_y2.raw"), 6, 128, 128) == 0);
    check_scan(path, NULL, LCAE_FMT_EMPAD, 2, 3, 128, 128, LCAE_DT_F32);

    /* 2. STEM.xml beside STEM.raw, as lcae's simulator writes it (1.2.x elements), and
     * it wins over the name */
    mkdir(tmp("e2"), 0700);
    CHECK(tw_empad(tmp("e2/scan_x9_y9.raw"), 4, 128, 128) == 0);
    CHECK(tw_text(tmp("e2/scan_x9_y9.xml"),
                  "<?xml version=\"1.0\"?>\n<root name=\"sim\">\n <raw_file filename="
                  "\"scan_x9_y9.raw\"/>\n <scan_parameters mode=\"search\"><scan_resolution_x>"
                  "64</scan_resolution_x><scan_resolution_y>64</scan_resolution_y>"
                  "</scan_parameters>\n <scan_parameters mode=\"acquire\">"
                  "<scan_resolution_y> 4 </scan_resolution_y><scan_resolution_x>1"
                  "</scan_resolution_x></scan_parameters>\n</root>\n") == 0);
    check_scan(tmp("e2/scan_x9_y9.raw"), NULL, LCAE_FMT_EMPAD, 4, 1, 128, 128, LCAE_DT_F32);

    /* 3. the real naming: acquisition.xml names scan_x4_y4.raw; another .xml in the
     * folder names a different raw file; the real XML's pix_x/pix_y win over its stale
     * acquire settings. The frames file here is named without a shape. */
    mkdir(tmp("e3"), 0700);
    CHECK(tw_empad(tmp("e3/frames.raw"), 6, 128, 128) == 0);
    CHECK(tw_text(tmp("e3/other.xml"), "<root><raw_file filename=\"x.raw\"/><pix_x>1</pix_x>"
                  "<pix_y>1</pix_y></root>") == 0);
    CHECK(tw_text(tmp("e3/acquisition_1.xml"),
                  "<root name=\"acquisition_1\"><type>scan</type><pix_x>2</pix_x><pix_y>3"
                  "</pix_y><raw_file filename=\"/home/empad/frames.raw\"/><scan_parameters "
                  "mode=\"acquire\"><scan_resolution_x>128</scan_resolution_x>"
                  "<scan_resolution_y>128</scan_resolution_y></scan_parameters></root>") == 0);
    check_scan(tmp("e3/frames.raw"), NULL, LCAE_FMT_EMPAD, 3, 2, 128, 128, LCAE_DT_F32);

    /* 4. a detector size recorded in the XML is honoured (footer = 2 rows of w) */
    mkdir(tmp("e4"), 0700);
    CHECK(tw_empad(tmp("e4/scan_x2_y3.raw"), 6, 16, 12) == 0);
    CHECK(tw_text(tmp("e4/scan_x2_y3.xml"), "<root><raw_file filename=\"scan_x2_y3.raw\"/>"
                  "<detector_height>16</detector_height><detector_width>12</detector_width>"
                  "</root>") == 0);
    check_scan(tmp("e4/scan_x2_y3.raw"), NULL, LCAE_FMT_EMPAD, 3, 2, 16, 12, LCAE_DT_F32);

    /* 5. --scan wins over everything */
    lcae_open_options o = {.scan_ny = 3, .scan_nx = 2};
    check_scan(tmp("scan_x3_y2.raw"), &o, LCAE_FMT_EMPAD, 3, 2, 128, 128, LCAE_DT_F32);
}

static void test_mib(void)
{
    const lcae_dtype types[] = {LCAE_DT_U8, LCAE_DT_U16, LCAE_DT_U32};
    for (int i = 0; i < 3; i++) {
        char name[64];
        /* no .hdr: one row of frames */
        snprintf(name, sizeof name, "single_%d.mib", i);
        CHECK(tw_mib(tmp(name), 6, 5, 7, types[i], 384, 0) == 0);
        check_scan(path, NULL, LCAE_FMT_MIB, 1, 6, 5, 7, types[i]);
        /* --scan */
        lcae_open_options o = {.scan_ny = 2, .scan_nx = 3};
        check_scan(path, &o, LCAE_FMT_MIB, 2, 3, 5, 7, types[i]);
    }
    /* quad: 768-byte headers, 2x2 chips already assembled */
    CHECK(tw_mib(tmp("quad.mib"), 4, 16, 16, LCAE_DT_U16, 768, 1) == 0);
    check_scan(path, NULL, LCAE_FMT_MIB, 1, 4, 16, 16, LCAE_DT_U16);
    /* .hdr: Frames per Trigger is one scan row */
    CHECK(tw_mib(tmp("fpt.mib"), 6, 4, 4, LCAE_DT_U8, 384, 0) == 0);
    CHECK(tw_text(tmp("fpt.hdr"), "HDR,\t\r\nFrames in Acquisition (Number):\t6\r\n"
                  "Frames per Trigger (Number):\t3\r\nEnd\t") == 0);
    check_scan(tmp("fpt.mib"), NULL, LCAE_FMT_MIB, 2, 3, 4, 4, LCAE_DT_U8);
    /* .hdr with ScanX/ScanY (newer Merlin software) */
    CHECK(tw_mib(tmp("scanxy.mib"), 6, 4, 4, LCAE_DT_U8, 384, 0) == 0);
    CHECK(tw_text(tmp("scanxy.hdr"), "HDR,\t\nFrames in Acquisition (Number):\t6\n"
                  "Frames per Trigger (Number):\t1\nScanX:\t2\nScanY:\t3\nEnd\t") == 0);
    check_scan(tmp("scanxy.mib"), NULL, LCAE_FMT_MIB, 3, 2, 4, 4, LCAE_DT_U8);
}

static void test_hdf5(void)
{
    const lcae_dtype types[] = {LCAE_DT_U8, LCAE_DT_U16, LCAE_DT_U32, LCAE_DT_I16,
                                LCAE_DT_I32, LCAE_DT_F32, LCAE_DT_F64};
    hsize_t d4[4] = {3, 4, 5, 6};
    for (size_t ti = 0; ti < sizeof types / sizeof *types; ti++)
        for (int big = 0; big < 2; big++) {
            char name[64];
            snprintf(name, sizeof name, "h_%s_%d.h5", lcae_dtype_name(types[ti]), big);
            hid_t f = H5Fcreate(tmp(name), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
            CHECK(tw_h5_dataset(f, "/scan", types[ti], big, 4, d4, big) == 0);
            H5Fclose(f);
            check_scan(path, NULL, LCAE_FMT_HDF5, 3, 4, 5, 6, types[ti]);
        }

    /* py4DSTEM-like (emdfile): /root (emd_group_type root) / datacube (array) / data,
     * chunked one pattern per chunk and compressed, beside a 2-D virtual image, a 3-D
     * stack and another 4-D array that is not in an EMD group */
    hid_t f = H5Fcreate(tmp("py4dstem.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t dc[4] = {4, 5, 8, 6}, img[2] = {4, 5}, st3[3] = {2, 3, 3}, other[4] = {1, 1, 2, 2};
    CHECK(tw_h5_dataset(f, "/root/datacube/data", LCAE_DT_U16, 0, 4, dc, 1) == 0);
    CHECK(tw_h5_dataset(f, "/root/virtual/data", LCAE_DT_F32, 0, 2, img, 0) == 0);
    CHECK(tw_h5_dataset(f, "/root/stack", LCAE_DT_F32, 0, 3, st3, 0) == 0);
    CHECK(tw_h5_dataset(f, "/scratch/model", LCAE_DT_F32, 0, 4, other, 0) == 0);
    tw_h5_attr_int(f, "/root", "emd_group_type", 0);
    tw_h5_attr_int(f, "/root/datacube", "emd_group_type", 1);
    H5Fclose(f);
    check_scan(tmp("py4dstem.h5"), NULL, LCAE_FMT_HDF5, 4, 5, 8, 6, LCAE_DT_U16);
    /* the other 4-D dataset by name; an explicit path to the datacube */
    check_scan(tmp("py4dstem.h5:/scratch/model"), NULL, LCAE_FMT_HDF5, 1, 1, 2, 2,
               LCAE_DT_F32);
    check_scan(tmp("py4dstem.h5:/root/datacube/data"), NULL, LCAE_FMT_HDF5, 4, 5, 8, 6,
               LCAE_DT_U16);
    /* a 3-D dataset by name, with --scan */
    lcae_open_options o = {.scan_ny = 1, .scan_nx = 2};
    check_scan(tmp("py4dstem.h5:/root/stack"), &o, LCAE_FMT_HDF5, 1, 2, 3, 3, LCAE_DT_F32);

    /* EMD 1.0: /data/<name> with emd_group_type = 1 holding data + dim1..dim4 */
    f = H5Fcreate(tmp("scan.emd"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t e4[4] = {2, 3, 4, 4}, dim[1] = {2};
    CHECK(tw_h5_dataset(f, "/data/scan/data", LCAE_DT_I32, 1, 4, e4, 1) == 0);
    CHECK(tw_h5_dataset(f, "/data/scan/dim1", LCAE_DT_F64, 0, 1, dim, 0) == 0);
    tw_h5_attr_int(f, "/data/scan", "emd_group_type", 1);
    H5Fclose(f);
    check_scan(tmp("scan.emd"), NULL, LCAE_FMT_HDF5, 2, 3, 4, 4, LCAE_DT_I32);

    /* py4DSTEM 0.12 (LiberTEM's test layout): /4DSTEM_experiment/data/datacubes/
     * datacube_0 (emd_group_type 1) holding data and dim1..dim4, beside a diffraction
     * slice stack that is also 4-D but untagged */
    f = H5Fcreate(tmp("legacy.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t lc[4] = {2, 2, 3, 3}, ls[4] = {3, 3, 1, 2}, ld[1] = {2};
    CHECK(tw_h5_dataset(f, "/4DSTEM_experiment/data/datacubes/datacube_0/data", LCAE_DT_U8, 0,
                        4, lc, 1) == 0);
    for (int k = 1; k <= 4; k++) {
        char dn[96];
        snprintf(dn, sizeof dn, "/4DSTEM_experiment/data/datacubes/datacube_0/dim%d", k);
        CHECK(tw_h5_dataset(f, dn, LCAE_DT_F32, 0, 1, ld, 0) == 0);
    }
    CHECK(tw_h5_dataset(f, "/4DSTEM_experiment/data/diffractionslices/stack/data", LCAE_DT_F32,
                        0, 4, ls, 0) == 0);
    tw_h5_attr_int(f, "/4DSTEM_experiment/data/datacubes/datacube_0", "emd_group_type", 1);
    H5Fclose(f);
    check_scan(tmp("legacy.h5"), NULL, LCAE_FMT_HDF5, 2, 2, 3, 3, LCAE_DT_U8);

    /* only a 3-D dataset: found with --scan */
    f = H5Fcreate(tmp("stack.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t s3[3] = {6, 5, 4};
    CHECK(tw_h5_dataset(f, "/entry/data/data", LCAE_DT_U32, 0, 3, s3, 1) == 0);
    H5Fclose(f);
    lcae_open_options o3 = {.scan_ny = 2, .scan_nx = 3};
    check_scan(tmp("stack.h5"), &o3, LCAE_FMT_HDF5, 2, 3, 5, 4, LCAE_DT_U32);

    /* size-1 dimensions above rank 4 are dropped, wherever they are: (1, 3, 4, 1, 5, 6)
     * is the only 4-D dataset, beside a rank-4 one with a size-1 dimension that stays
     * 4-D (a one-row scan) and a (6, 1, 5, 4, 1) stack, 3-D with --scan */
    f = H5Fcreate(tmp("squeeze.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t q6[6] = {1, 3, 4, 1, 5, 6}, q5[5] = {6, 1, 5, 4, 1};
    CHECK(tw_h5_dataset(f, "/scan", LCAE_DT_U16, 1, 6, q6, 1) == 0);
    CHECK(tw_h5_dataset(f, "/stack", LCAE_DT_F32, 0, 5, q5, 1) == 0);
    H5Fclose(f);
    check_scan(tmp("squeeze.h5"), NULL, LCAE_FMT_HDF5, 3, 4, 5, 6, LCAE_DT_U16);
    check_scan(tmp("squeeze.h5:/stack"), &o3, LCAE_FMT_HDF5, 2, 3, 5, 4, LCAE_DT_F32);
    f = H5Fcreate(tmp("row.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t r4[4] = {1, 5, 3, 2};
    CHECK(tw_h5_dataset(f, "/row", LCAE_DT_I16, 0, 4, r4, 0) == 0);
    CHECK(tw_h5_dataset(f, "/stack", LCAE_DT_F32, 0, 5, q5, 0) == 0);
    H5Fclose(f);
    check_scan(tmp("row.h5"), NULL, LCAE_FMT_HDF5, 1, 5, 3, 2, LCAE_DT_I16);
}

/* raw binary: a 16-byte file header, then frames with an 8-byte header and a 4-byte
 * footer each, big- or little-endian, every dtype */
static void test_raw(void)
{
    const lcae_dtype types[] = {LCAE_DT_U8, LCAE_DT_U16, LCAE_DT_U32, LCAE_DT_I16,
                                LCAE_DT_I32, LCAE_DT_F32, LCAE_DT_F64};
    for (size_t ti = 0; ti < sizeof types / sizeof *types; ti++)
        for (int big = 0; big < 2; big++) {
            char name[64];
            snprintf(name, sizeof name, "frames_%s_%d.bin", lcae_dtype_name(types[ti]), big);
            FILE *fp = fopen(tmp(name), "wb");
            size_t es = lcae_dtype_size(types[ti]);
            for (int i = 0; i < 16; i++)
                fputc(0xAA, fp);
            for (int64_t f = 0, i = 0; f < 6; f++) {
                for (int k = 0; k < 8; k++)
                    fputc(0xBB, fp);
                for (int64_t p = 0; p < 3 * 5; p++, i++) {
                    unsigned char b[8];
                    tw_store(types[ti], tw_value(types[ti], i), big, b);
                    fwrite(b, 1, es, fp);
                }
                for (int k = 0; k < 4; k++)
                    fputc(0xCC, fp);
            }
            fclose(fp);
            lcae_open_options o = {.det_h = 3, .det_w = 5, .dtype = types[ti],
                                   .big_endian = big, .scan_ny = 2, .scan_nx = 3,
                                   .header_bytes = 16, .frame_header_bytes = 8,
                                   .frame_footer_bytes = 4};
            check_scan(path, &o, LCAE_FMT_RAW, 2, 3, 3, 5, types[ti]);
        }
}

/* Four threads read interleaved patterns of one open dataset at once (HDF5 serializes
 * behind its lock, the raw reader uses pread): every value must still be right. */
typedef struct {
    lcae_dataset *ds;
    int k, bad;
} reader_arg;

static void *reader(void *p)
{
    reader_arg *a = p;
    const lcae_dataset_info *in = lcae_dataset_get_info(a->ds);
    int64_t px = in->h * in->w;
    float *buf = malloc(sizeof(float) * (size_t)px);
    for (int rep = 0; rep < 20; rep++)
        for (int64_t i = a->k; i < in->count; i += 4) {
            if (lcae_dataset_read(a->ds, i, 1, buf)) {
                a->bad++;
                continue;
            }
            for (int64_t j = 0; j < px; j++)
                a->bad += buf[j] != (float)tw_value(in->dtype, i * px + j);
        }
    free(buf);
    return NULL;
}

static void test_threads(void)
{
    char h5[512]; /* tmp() reuses one buffer */
    snprintf(h5, sizeof h5, "%s", tmp("py4dstem.h5"));
    const char *files[] = {h5, tmp("scan_uint16_1_v2.npy")};
    for (int f = 0; f < 2; f++) {
        lcae_dataset *ds;
        if (lcae_dataset_open(files[f], NULL, &ds)) {
            CHECK_MSG(0, "%s", lcae_last_error());
            continue;
        }
        pthread_t t[4];
        reader_arg a[4];
        for (int k = 0; k < 4; k++) {
            a[k] = (reader_arg){ds, k, 0};
            pthread_create(&t[k], NULL, reader, &a[k]);
        }
        for (int k = 0; k < 4; k++) {
            pthread_join(t[k], NULL);
            CHECK_MSG(a[k].bad == 0, "%s: thread %d: %d bad values", files[f], k, a[k].bad);
        }
        lcae_dataset_close(ds);
    }
}

/* lcae_dataset_subgrid: every pattern of the view is the parent's at (i step, j step),
 * scan shapes that step does and does not divide, read in uneven batches; and
 * lcae_subgrid_step against steps worked by hand. */
static void test_subgrid(void)
{
    enum { H = 3, W = 2 };
    const int64_t shapes[][3] = {{7, 5, 3}, {6, 9, 2}, {4, 4, 1}, {1, 10, 4}, {5, 5, 9}};
    for (size_t k = 0; k < sizeof shapes / sizeof *shapes; k++) {
        int64_t ny = shapes[k][0], nx = shapes[k][1], step = shapes[k][2];
        float *data = malloc(sizeof(float) * (size_t)(ny * nx * H * W));
        for (int64_t i = 0; i < ny * nx * H * W; i++)
            data[i] = (float)i;
        lcae_dataset *ds = NULL, *grid = NULL;
        CHECK(lcae_dataset_from_memory(data, LCAE_DT_F32, ny, nx, H, W, "mem", &ds) == 0);
        CHECK(lcae_dataset_subgrid(ds, step, &grid) == 0);
        if (!ds || !grid) {
            lcae_dataset_close(ds);
            free(data);
            continue;
        }
        const lcae_dataset_info *g = lcae_dataset_get_info(grid);
        int64_t gy = 0, gx = 0; /* counted: rows and columns at multiples of step */
        for (int64_t y = 0; y < ny; y += step)
            gy++;
        for (int64_t x = 0; x < nx; x += step)
            gx++;
        CHECK_MSG(g->ny == gy && g->nx == gx && g->count == gy * gx && g->h == H && g->w == W,
                  "%lldx%lld step %lld: view %lldx%lld", (long long)ny, (long long)nx,
                  (long long)step, (long long)g->ny, (long long)g->nx);
        float *buf = malloc(sizeof(float) * (size_t)(g->count * H * W));
        int64_t cut = g->count / 2 + 1 < g->count ? g->count / 2 + 1 : g->count;
        CHECK(lcae_dataset_read(grid, 0, cut, buf) == 0);
        CHECK(lcae_dataset_read(grid, cut, g->count - cut, buf + cut * H * W) == 0);
        int bad = 0;
        for (int64_t i = 0; i < gy * gx; i++)
            for (int64_t j = 0; j < H * W; j++)
                bad += buf[i * H * W + j] !=
                       data[((i / gx) * step * nx + (i % gx) * step) * H * W + j];
        CHECK_MSG(bad == 0, "%lldx%lld step %lld: %d values differ", (long long)ny,
                  (long long)nx, (long long)step, bad);
        CHECK(lcae_dataset_read(grid, g->count, 1, buf) != 0); /* past its end */
        free(buf);
        lcae_dataset_close(grid);
        lcae_dataset_close(ds);
        free(data);
    }
    lcae_dataset *ds = NULL, *grid = NULL;
    float one = 0;
    CHECK(lcae_dataset_from_memory(&one, LCAE_DT_F32, 1, 1, 1, 1, "mem", &ds) == 0);
    CHECK(lcae_dataset_subgrid(ds, 0, &grid) != 0 && !grid);
    lcae_dataset_close(ds);
    /* ny, nx, at most, the step worked by hand: 1000 x 700 at step 3 is 334 x 234 =
     * 78,156 positions, at step 4 250 x 175 = 43,750; 16 x 16 at step 2 is 64 */
    const int64_t cases[][4] = {{1024, 1024, 65536, 4}, {1000, 700, 65536, 4},
                                {128, 128, 65536, 1},   {256, 256, 65536, 1},
                                {256, 257, 65536, 2},   {16, 16, 64, 2},
                                {16, 16, 63, 3},        {3, 1000, 10, 100},
                                {50, 50, 0, 1}};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++)
        CHECK_MSG(lcae_subgrid_step(cases[k][0], cases[k][1], cases[k][2]) == cases[k][3],
                  "%lldx%lld at most %lld: step %lld", (long long)cases[k][0],
                  (long long)cases[k][1], (long long)cases[k][2],
                  (long long)lcae_subgrid_step(cases[k][0], cases[k][1], cases[k][2]));
}

int main(void)
{
    test_subgrid();
    test_raw();
    test_npy();
    test_empad();
    test_mib();
    test_hdf5();
    test_threads();
    return test_done("test_io_formats");
}
